#!/usr/bin/env bash
# The command-line contract: help, version, argument errors (exit 3, naming the
# argument), and options the build cannot serve yet refusing with exit 3.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

t_run "$CGNATCHECK" --help
t_expect "--help exits 0" 0 "$t_status"
for opt in --dns --service --policy --format --fix --dry-run --undo --quiet --help --version --show-route \
	--keep --probe --user --wait-overlay --mail-to --mail-on --mail-from --sendmail --metrics-file --save \
	--replay; do
	case "$t_out" in *"$opt"*) t_ok "--help lists $opt" ;; *) t_fail "--help does not list $opt" ;; esac
done
t_run "$CGNATCHECK" -h
t_expect "-h exits 0" 0 "$t_status"

t_run "$CGNATCHECK" --version
t_expect "--version exits 0" 0 "$t_status"
case "$t_out" in "cgnatcheck "[0-9]*) t_ok "--version prints name and version" ;;
	*) t_fail "--version printed '$t_out'" ;; esac

t_run "$CGNATCHECK" --format xml
t_expect "bad --format exits 3" 3 "$t_status"
case "$t_err" in *"'xml'"*"--format"*) t_ok "bad --format names the argument" ;;
	*) t_fail "bad --format message: $t_err" ;; esac

t_run "$CGNATCHECK" --dns not-an-address
t_expect "bad --dns exits 3" 3 "$t_status"
case "$t_err" in *not-an-address*) t_ok "bad --dns names the argument" ;;
	*) t_fail "bad --dns message: $t_err" ;; esac

t_run "$CGNATCHECK" --no-such-option
t_expect "unknown option exits 3" 3 "$t_status"

t_run "$CGNATCHECK" --dry-run
t_expect "--dry-run without --fix exits 3" 3 "$t_status"

# offline audits and metrics: what cannot be combined is refused before anything runs
for args in "--replay x --probe" "--replay x --fix" "--replay x --save y" "--save y --fix" "--metrics-file m --undo" \
	"--metrics-file m --keep" "--replay x --user nobody"; do
	# shellcheck disable=SC2086 # the words are the arguments
	t_run "$CGNATCHECK" $args
	t_expect "$args exits 3" 3 "$t_status"
	case "$t_err" in *"--"*) t_ok "$args: says which options clash" ;; *) t_fail "$args: $t_err" ;; esac
done
t_run "$CGNATCHECK" --fix --undo
t_expect "--fix with --undo exits 3" 3 "$t_status"

# the scheduled audit's arguments: an address that sendmail would read as an
# option, or that would break a header, is refused before anything runs
for bad in -oQ/tmp "a b@example.com" "$(printf 'a@example.com\nBcc: x@example.com')" "<a@example.com>" ""; do
	t_run "$CGNATCHECK" --mail-to "$bad"
	t_expect "--mail-to '${bad//$'\n'/\\n}' exits 3" 3 "$t_status"
done
case "$t_err" in *"--mail-to"*) t_ok "a bad --mail-to names the option" ;; *) t_fail "bad --mail-to message: $t_err" ;; esac
t_run "$CGNATCHECK" --mail-to root --mail-on sometimes
t_expect "bad --mail-on exits 3" 3 "$t_status"
t_run "$CGNATCHECK" --mail-to root --fix
t_expect "--mail-to with --fix exits 3" 3 "$t_status"
t_run "$CGNATCHECK" --sendmail /usr/sbin/sendmail
t_expect "--sendmail without --mail-to exits 3" 3 "$t_status"
t_run "$CGNATCHECK" --mail-to root --sendmail sendmail
t_expect "a relative --sendmail exits 3" 3 "$t_status"
t_run "$CGNATCHECK" --wait-overlay=soon
t_expect "bad --wait-overlay exits 3" 3 "$t_status"
t_run "$CGNATCHECK" --wait-overlay=5 --undo
t_expect "--wait-overlay with --undo exits 3" 3 "$t_status"

# The audit, --fix and --undo run only in the namespace tests: never against
# this machine's own firewall.

t_done
