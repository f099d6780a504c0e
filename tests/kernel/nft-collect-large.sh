#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nft_collect() on a large ruleset collects all of it, in a namespace of its
# own (dumps of many netlink messages, the kernel's walk restarted for each):
#
#   1. CG_NFT_LARGE_RULES rules (default 100000, in chains of 100, loaded with
#      one `nft -f`): every chain and rule collected.
#   2. The same plus an interval set of CG_NFT_LARGE_RANGES ranges (default
#      40000; each is a start and an end element in the kernel: 80,001
#      elements, above the default dump limit of 65,536), dumped
#      (CGNATCHECK_SET_DUMP_MAX above the set's size): every range collected.
#   3. The same set collected lazily (the default: too large to dump, its
#      lookups ask the kernel per key): no element dumped, and the audit
#      (cgnatcheck --dns) finds the DNS server blocked by a rule matching the
#      set, as with the set dumped.
#
# How fast, against nft(8) reading the same ruleset, is the benchmark's
# (tests/bench/collect-speed.sh, with 200,000 ranges), not make check's: the
# phases' times are printed here, not judged. The kernel's cost grows with
# the square of the set's size (each dump message walks the set from its
# first element again).
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

DUMP="$top_builddir/tests/kernel/nft-collect-dump"
tb_test_init nft python3 "$DUMP"
RULES=${CG_NFT_LARGE_RULES:-100000}
RANGES=${CG_NFT_LARGE_RANGES:-40000}
PER_CHAIN=100
CHAINS=$(( (RULES + PER_CHAIN - 1) / PER_CHAIN ))

tb_tmpdir TMP
tb_ns_add NS large

# seconds CMD...: runs CMD, its output discarded; prints the wall time
# (informational: a loaded machine decides nothing here)
seconds() {
	local t0=$EPOCHREALTIME t1
	"$@" >/dev/null 2>"$TMP/cmd.err" || { cat "$TMP/cmd.err" >&2; echo "ERROR: $* failed" >&2; exit 99; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

python3 "$top_srcdir/tests/lib/gen-nft-chains.py" "$RULES" "$PER_CHAIN" >"$TMP/rules.nft"
echo "loading $RULES rules in $CHAINS chains: $(seconds tb_exec "$NS" nft -f "$TMP/rules.nft") s" >&2

# --- 1. rules ----------------------------------------------------------
t_run tb_exec "$NS" "$DUMP" -s
case "$t_out" in
	*"chains=$((CHAINS + 1)) rules=$((RULES + CHAINS)) "*) t_ok "rules: everything collected ($t_out)" ;;
	*) t_fail "rules: expected $((CHAINS + 1)) chains and $((RULES + CHAINS)) rules, got: $t_out $t_err" ;;
esac

# --- 2. rules and a large interval set -----------------------------------
python3 - "$RANGES" >"$TMP/set.nft" <<'EOF'
import sys
n = int(sys.argv[1])
def ip(v):
    return f"{v >> 24}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"
print("add set inet big ranges { type ipv4_addr; flags interval; }")
# ranges of 8 addresses every 16: 1,000,000 of them fit in 10.0.0.0/8
for i in range(0, n, 2000):
    els = [f"{ip(0x0a000000 + 16 * k)}-{ip(0x0a000000 + 16 * k + 7)}" for k in range(i, min(n, i + 2000))]
    print("add element inet big ranges { " + ", ".join(els) + " }")
print("insert rule inet big input ip saddr @ranges counter")
EOF
echo "loading $RANGES ranges: $(seconds tb_exec "$NS" nft -f "$TMP/set.nft") s" >&2

ALL=4294967295
CGNATCHECK_SET_DUMP_MAX=$ALL CG_DEBUG=1 t_run tb_exec "$NS" "$DUMP" -s
case "$t_out" in
	*"rules=$((RULES + CHAINS + 1)) sets=1 elems="*" ranges=$RANGES "*) t_ok "set: every range collected ($t_out)" ;;
	*) t_fail "set: expected $RANGES ranges, got: $t_out $t_err" ;;
esac
echo "$t_err" | sed -n 's/^cgnatcheck: /phases: /p' >&2

# --- 3. the same set, lazy ----------------------------------------------
CG_DEBUG=1 t_run tb_exec "$NS" "$DUMP" -s
case "$t_out" in
	*"rules=$((RULES + CHAINS + 1)) sets=1 elems=0 ranges=0 "*) t_ok "lazy: the set is not dumped ($t_out)" ;;
	*) t_fail "lazy: expected the set not dumped, got: $t_out $t_err" ;;
esac
echo "$t_err" | sed -n 's/^cgnatcheck: /phases: /p' >&2

# The audit looks the DNS server up in the lazy set: a rule matching it
# drops the server's traffic, as it would with the set dumped.
ip -n "$NS" link add eth0 type veth peer name eth0p
ip -n "$NS" addr add 172.24.4.100/18 dev eth0
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth0p up
ip -n "$NS" route add default via 172.24.0.1 dev eth0
tb_exec "$NS" nft -f - <<'EOF'
add element inet big ranges { 100.100.2.0/24 }
add chain inet big out { type filter hook output priority 0; policy accept; }
add rule inet big out ip daddr @ranges drop
EOF
mkdir -p "$TMP/empty"
export CGNATCHECK_POLICY_DIR="$top_srcdir/policies" CGNATCHECK_POLICY_LOCAL_DIR="$TMP/empty"
export CGNATCHECK_DMI_DIR="$TMP/empty" CGNATCHECK_RESOLVED_CONF="$TMP/empty/resolved.conf"
verdicts() { # JSON report -> "proto verdict rule|..."
	python3 - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print("|".join("%s %s %s" % (t["proto"], t["verdict"], (t.get("blocked_by") or {}).get("text"))
               for t in d["targets"]))
EOF
}
audit() { # LABEL [ENV...]: the report in $TMP/LABEL.json
	local label=$1 status=0
	shift
	tb_exec "$NS" env "$@" "$CGNATCHECK" --dns 100.100.2.136 --format json >"$TMP/$label.json" \
		2>"$TMP/$label.err" || status=$?
	t_expect "audit, $label: exit 2 (blocked)" 2 "$status"
	[ "$status" -ne 3 ] || head -c 2000 "$TMP/$label.err" >&2
}
audit lazy-set
audit set-dumped CGNATCHECK_SET_DUMP_MAX=$ALL
want="udp blocked ip daddr @ranges drop|tcp blocked ip daddr @ranges drop"
t_expect "audit, lazy set: the DNS server is blocked by the set's rule" "$want" "$(verdicts "$TMP/lazy-set.json")"
t_expect "audit, set dumped: the same verdicts" "$want" "$(verdicts "$TMP/set-dumped.json")"

t_done
