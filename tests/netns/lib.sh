# SPDX-License-Identifier: GPL-2.0-or-later
# The network-namespace test bed (sourced by tests). Every namespace a test
# makes carries a per-process prefix and is removed when the test exits, fails
# or is interrupted. Nothing here runs a command in the machine's own network
# namespace: every ip/nft/iptables call goes through `ip netns exec` or `ip -n`.
#
# Core API:
#   tb_init              require root (skip, or fail under CI=true), arm cleanup
#   tb_ns_add VAR NAME   create namespace $TB_PREFIX$NAME with lo up; its name in VAR
#   tb_exec NS CMD...    run CMD inside namespace NS (a full name from tb_ns_add)
#   tb_bg NS CMD...      start CMD in the background inside NS; killed at cleanup
#   tb_tmpdir VAR        a temporary directory, removed at cleanup
#   tb_cleanup           remove everything this test made (runs from the trap)

. "${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/lib.sh"

TB_PREFIX="cgt$$-"
TB_NAMESPACES=()
TB_PIDS=()
TB_TMPDIRS=()

tb_cleanup() {
	local pid ns d
	for pid in "${TB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${TB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for ns in "${TB_NAMESPACES[@]}"; do
		# Anything still running inside dies with the namespace's last reference.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "/etc/netns/$ns"
	done
	for d in "${TB_TMPDIRS[@]}"; do
		rm -rf "$d"
	done
	TB_NAMESPACES=()
	TB_PIDS=()
	TB_TMPDIRS=()
}

tb_on_signal() {
	tb_cleanup
	exit 130
}

tb_init() {
	t_require_root
	ip netns list >/dev/null 2>&1 || t_skip "cannot list network namespaces"
	trap tb_cleanup EXIT
	trap tb_on_signal INT TERM HUP
}

# tb_ns_add VAR NAME: creates $TB_PREFIX$NAME and stores the full name in VAR
# (not printed: a command substitution would run in a subshell and the
# namespace would escape cleanup).
tb_ns_add() {
	local ns="$TB_PREFIX$2"
	ip netns add "$ns" || { echo "tb_ns_add: cannot create namespace $ns" >&2; return 1; }
	TB_NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up
	printf -v "$1" '%s' "$ns"
}

tb_exec() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

tb_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	TB_PIDS+=("$!")
}

# tb_tmpdir VAR: a temporary directory removed at cleanup, its path in VAR.
tb_tmpdir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/cgnatcheck-test.XXXXXX")
	TB_TMPDIRS+=("$d")
	printf -v "$1" '%s' "$d"
}
