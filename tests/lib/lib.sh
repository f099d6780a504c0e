# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for the shell tests (sourced, not run). Automake protocol:
# exit 0 pass, 77 skip, 99 hard error, anything else fail.

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${CGNATCHECK:=$top_builddir/cgnatcheck}"

t_failures=0
t_checks=0

# A skip is honest only outside CI: under CI=true the environment is supposed
# to provide everything, so a skip there is a failure.
t_skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL (skip not allowed under CI=true): $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

t_require_root() {
	[ "$(id -u)" -eq 0 ] || t_skip "needs root (network namespaces)"
	command -v ip >/dev/null || t_skip "needs iproute2 (ip)"
}

# t_require_tools TOOL...: skips the test unless every TOOL is on PATH
# (scripts/install-deps.sh installs them).
t_require_tools() {
	local tool
	for tool; do
		command -v "$tool" >/dev/null || t_skip "needs $tool"
	done
}

# t_require_built PROGRAM...: a program of the build that is missing is a
# hard error (99), not a skip: `make check` builds them all.
t_require_built() {
	local prog
	for prog; do
		[ -x "$prog" ] || { echo "ERROR: $prog is not built (make check builds it)" >&2; exit 99; }
	done
}

# t_must CMD...: a setup step that fails is a hard error (99), not a failure
# of what the test checks.
t_must() {
	"$@" || { echo "ERROR: setup step failed: $*" >&2; exit 99; }
}

# t_sanitized PROGRAM [LIBS]: true when PROGRAM links a sanitizer runtime
# (LIBS, an extended regex; default libasan): such a build runs several
# times slower, so time limits widen or timings are only printed.
t_sanitized() {
	# not `ldd | grep -q`: grep stops at the first match, ldd may then die
	# of SIGPIPE, and under pipefail the pipeline fails (a sanitizer build
	# taken for a normal one now and then)
	local libs
	libs=$(ldd "$1" 2>/dev/null) || true
	grep -Eq "${2:-libasan}" <<<"$libs"
}

# t_now_ms: the wall clock in milliseconds
t_now_ms() { date +%s%3N; }

t_fail() {
	echo "FAIL: $*" >&2
	t_failures=$((t_failures + 1))
	t_checks=$((t_checks + 1))
}

t_ok() {
	echo "ok: $*" >&2
	t_checks=$((t_checks + 1))
}

# t_expect DESCRIPTION EXPECTED ACTUAL
t_expect() {
	if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1: expected '$2', got '$3'"; fi
}

# t_run_status CMD...: runs CMD, stores stdout/stderr/status in t_out/t_err/t_status.
t_run() {
	local errf
	errf=$(mktemp)
	set +e
	t_out=$("$@" 2>"$errf")
	t_status=$?
	set -e
	t_err=$(cat "$errf")
	rm -f "$errf"
}

t_done() {
	echo "$t_checks checks, $t_failures failed" >&2
	[ "$t_checks" -gt 0 ] || { echo "ERROR: test checked nothing" >&2; exit 99; }
	[ "$t_failures" -eq 0 ]
}
