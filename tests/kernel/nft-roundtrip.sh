#!/usr/bin/env bash
# Round trip of every expression kind nft 1.0.6 lists (issue 14, item 5):
# tests/kernel/nft-roundtrip.nft is loaded with `nft -f` into a test
# namespace, collected and rendered rule by rule (tests/kernel/nft-text-dump)
# and compared with `nft -a list ruleset` (tests/kernel/nft-text-compare.py):
# every rule identical, no documented exceptions. Then the same for a few
# rules whose text depends on state (quota use, set contents).
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
DUMP="$top_builddir/tests/kernel/nft-text-dump"
COMPARE="$top_srcdir/tests/kernel/nft-text-compare.py"
tb_test_init nft python3 "$DUMP"
tb_tmpdir T

# compare NS LABEL MIN_RULES: the dump against nft's listing in NS
compare() {
	local ns=$1 label=$2 min=$3 out status summary same
	tb_exec "$ns" nft -a list ruleset >"$T/listing" || { t_fail "$label: nft list ruleset failed"; return; }
	tb_exec "$ns" "$DUMP" >"$T/dump" || { t_fail "$label: nft-text-dump failed"; return; }
	set +e
	out=$(python3 "$COMPARE" "$T/listing" "$T/dump" "$label" 2>&1)
	status=$?
	set -e
	summary=$(tail -n1 <<<"$out")
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$out" >&2
		t_fail "$label: rendering differs from nft ($summary)"
		return
	fi
	case $summary in
	*", 0 documented exceptions, 0 wrong") ;;
	*)
		printf '%s\n' "$out" >&2
		t_fail "$label: exceptions where none are expected ($summary)"
		return
		;;
	esac
	same=$(sed -n -E 's/^[^:]*: ([0-9]+) identical,.*/\1/p' <<<"$summary")
	if [ "${same:-0}" -lt "$min" ]; then
		t_fail "$label: only ${same:-0} rules compared, at least $min expected"
		return
	fi
	t_ok "$summary"
}

tb_ns_add NS rt
tb_exec "$NS" ip link set lo up
if tb_exec "$NS" nft -f "$top_srcdir/tests/kernel/nft-roundtrip.nft"; then
	compare "$NS" "every expression kind" 230
else
	t_fail "nft -f tests/kernel/nft-roundtrip.nft failed"
fi

# state in the text: a quota's use, a dynamic set's elements with timeouts
tb_exec "$NS" nft -f - <<'RULES'
flush ruleset
table ip st {
	set seen { type ipv4_addr; flags dynamic,timeout; timeout 2m; }
	chain out {
		type filter hook output priority 0;
		quota until 100 kbytes
		quota over 2 kbytes
		add @seen { ip daddr }
		update @seen { ip saddr timeout 1h } counter
	}
}
RULES
# ten packets of 1028 bytes through the output hook
tb_exec "$NS" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5):
    s.sendto(b"x" * 1000, ("127.0.0.1", 9))
'
used=$(tb_exec "$NS" nft list table ip st | grep -c ' used ' || true)
t_expect "the quotas count the packets" 2 "$used"
compare "$NS" "quota in use" 4

t_done
