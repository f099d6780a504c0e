#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Lazy sets: sets too large to dump are asked of the kernel per key
# (src/collect/nft-setget.c). The dumped sets are the reference:
#
#   lookups      random sets of every eligible kind (tests/kernel/nft-lazy-gen.py:
#                interval and exact, IPv4, IPv6 and port keys, verdict maps
#                with jumps and gotos, data maps, catch-all elements,
#                timeouts, concatenations) and thousands of keys (inside
#                ranges, on and next to their boundaries, in gaps, below the
#                first and above the last range), collected three ways:
#                dumped (CGNATCHECK_SET_DUMP_MAX above every set),
#                every eligible set lazy (CGNATCHECK_SET_DUMP_MAX=0), and
#                dumps stopped half-way (CGNATCHECK_SET_DUMP_MAX=1000): every
#                answer must be the same, none unknown; concatenated ranges
#                and anonymous sets are never lazy
#   generation   an element added by another process after the collection:
#                every lookup in that set is unknown, never a miss; the
#                other sets are answered as before (the change
#                notifications say which set changed)
#   audit        cgnatcheck's verdicts and findings, dumped and lazy, on a
#                set that drops the DNS server and on one that does not
#
#   CG_LAZY_SEED  generator seed (default fixed), CG_LAZY_N  set size (3000)
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

LOOKUP="$top_builddir/tests/kernel/nft-lazy-lookup"
GEN="$top_srcdir/tests/kernel/nft-lazy-gen.py"
tb_test_init nft python3 "$LOOKUP"
SEED=${CG_LAZY_SEED:-4242}
N=${CG_LAZY_N:-3000}
ALL=100000000
echo "nft-lazy: seed $SEED, $N elements per set" >&2

tb_tmpdir TMP
tb_ns_add NS lazy

# --- lookups --------------------------------------------------------------
read -r n_lazy n_large < <(python3 "$GEN" "$SEED" "$N" "$TMP/sets.nft" "$TMP/keys")
t_must tb_exec "$NS" nft -f "$TMP/sets.nft"
echo "nft-lazy: $(wc -l <"$TMP/keys") keys in $n_lazy sets that may be lazy" >&2

# lookup_run LABEL MAX [ARGS]: the answers in $TMP/LABEL.out, the summary in $TMP/LABEL.sum
lookup_run() {
	local label=$1 max=$2
	shift 2
	if ! CGNATCHECK_SET_DUMP_MAX=$max tb_exec "$NS" "$LOOKUP" -s "$@" <"$TMP/keys" >"$TMP/$label.out" \
		2>"$TMP/$label.sum"; then
		t_fail "$label: nft-lazy-lookup failed: $(cat "$TMP/$label.sum")"
		return 1
	fi
}

lookup_run dumped "$ALL"
lookup_run lazy 0
lookup_run partial 1000
expect_sum() { # LABEL LAZY-SETS
	local sum
	sum=$(tail -n 1 "$TMP/$1.sum")
	case "$sum" in
		*" lazy=$2 "*) t_ok "$1: $2 lazy sets ($sum)" ;;
		*) t_fail "$1: expected $2 lazy sets: $sum" ;;
	esac
}
expect_sum dumped 0
expect_sum lazy "$n_lazy"
expect_sum partial "$n_large"

if grep -q ' unknown ' "$TMP/dumped.out" "$TMP/lazy.out" "$TMP/partial.out"; then
	t_fail "lookups: unknown answers: $(grep -h ' unknown ' "$TMP"/*.out | head -3)"
else
	t_ok "lookups: no unknown answer"
fi
for label in lazy partial; do
	if cmp -s "$TMP/dumped.out" "$TMP/$label.out"; then
		t_ok "$label: $(grep -c ' match' "$TMP/$label.out") matches and" \
			"$(grep -c ' nomatch' "$TMP/$label.out") misses, as dumped"
	else
		diff "$TMP/dumped.out" "$TMP/$label.out" | head -20 >&2 || true
		t_fail "$label: $(diff "$TMP/dumped.out" "$TMP/$label.out" | grep -c '^>') answers differ from the dumped sets"
	fi
done
# the answers cover what they should: catch-alls, resolved jumps, gotos
for want in ' match \*' 'verdict=jump:c[0-9]$' 'verdict=goto:c[0-9]$' '^ip6\|^inet lz v6r .* match'; do
	grep -q -- "$want" "$TMP/lazy.out" && t_ok "lazy answers include '$want'" ||
		t_fail "no lazy answer matches '$want'"
done
if grep -q '?$' "$TMP/lazy.out"; then
	t_fail "a lazy verdict map's jump did not resolve: $(grep -m1 '?$' "$TMP/lazy.out")"
fi

# --- generation -----------------------------------------------------------
head -n 200 "$TMP/keys" >"$TMP/keys200"
awk '/ v4h / && n++ < 50' "$TMP/keys" >>"$TMP/keys200"
echo "inet lz v4h cb007163" >>"$TMP/keys200" # 203.0.113.99, added below
CGNATCHECK_SET_DUMP_MAX=0 t_run tb_exec "$NS" "$LOOKUP" \
	-x "nft add element inet lz v4h '{ 203.0.113.99 }'" <"$TMP/keys200"
changed_out=$t_out changed_status=$t_status changed_err=$t_err
t_must tb_exec "$NS" nft delete element inet lz v4h '{ 203.0.113.99 }'
# without a change the same keys are answered
CGNATCHECK_SET_DUMP_MAX=0 t_run tb_exec "$NS" "$LOOKUP" <"$TMP/keys200"
t_expect "no change: no lookup unknown" 0 "$(grep -c ' unknown ' <<<"$t_out" || true)"
t_expect "no change: 203.0.113.99 is not in v4h" "inet lz v4h cb007163 nomatch" "$(tail -n 1 <<<"$t_out")"
# The change notifications say which set changed: lookups in it are
# unknown, never a miss; the other sets are still as dumped, and answered.
n_v4h=$(grep -c '^inet lz v4h ' "$TMP/keys200")
n_unknown=$(grep -c '^inet lz v4h [0-9a-f]* unknown .*the set changed since the ruleset was collected' \
	<<<"$changed_out" || true)
if [ "$changed_status" -eq 0 ] && [ "$n_unknown" -eq "$n_v4h" ]; then
	t_ok "generation: all $n_v4h lookups in the changed set are unknown"
else
	t_fail "generation: $n_unknown of $n_v4h lookups in v4h unknown (status $changed_status): $(grep -m3 ' v4h ' <<<"$changed_out") $changed_err"
fi
t_expect "generation: the other sets' lookups are answered as without a change" \
	"$(grep -v '^inet lz v4h ' <<<"$t_out")" "$(grep -v '^inet lz v4h ' <<<"$changed_out")"

# --- audit ----------------------------------------------------------------
tb_ns_add HOST lazyhost
t_must ip -n "$HOST" link add eth0 type veth peer name eth0p
t_must ip -n "$HOST" addr add 172.24.4.100/18 dev eth0
t_must ip -n "$HOST" link set eth0 up
t_must ip -n "$HOST" link set eth0p up
t_must ip -n "$HOST" route add default via 172.24.0.1 dev eth0
mkdir -p "$TMP/empty"
export CGNATCHECK_POLICY_DIR="$top_srcdir/policies" CGNATCHECK_POLICY_LOCAL_DIR="$TMP/empty"
export CGNATCHECK_DMI_DIR="$TMP/empty" CGNATCHECK_RESOLVED_CONF="$TMP/empty/resolved.conf"

# audit_ruleset LABEL WITH-DNS(0|1): a 2000-range set dropping output, with
# or without 100.100.2.0/24 among its ranges
audit_ruleset() {
	python3 - "$2" >"$TMP/audit.nft" <<'EOF'
import random, sys
r = random.Random(7)
with_dns = sys.argv[1] == "1"
def ip(v):
    return f"{v >> 24}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"
pts = sorted(r.sample(range(0x0b000000, 0x60000000), 4000))
els = [f"{ip(pts[i])}-{ip(pts[i + 1])}" for i in range(0, len(pts), 2)]
els.append("100.100.2.0/24" if with_dns else "100.100.3.0/24")
print("flush ruleset")
print("table inet f {\n\tset drops { type ipv4_addr; flags interval; }")
print("\tchain out {\n\t\ttype filter hook output priority 0; policy accept;\n\t\tip daddr @drops drop\n\t}\n}")
for i in range(0, len(els), 500):
    print("add element inet f drops { " + ", ".join(els[i:i + 500]) + " }")
EOF
	t_must tb_exec "$HOST" nft -f "$TMP/audit.nft"
	local max
	for max in "$ALL" 0; do
		CGNATCHECK_SET_DUMP_MAX=$max tb_exec "$HOST" "$CGNATCHECK" --dns 100.100.2.136 --format json \
			>"$TMP/audit-$1-$max.json" 2>"$TMP/audit-$1-$max.err" || true
	done
	python3 - "$TMP/audit-$1-$ALL.json" "$TMP/audit-$1-0.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for t in b["targets"]:
    print(t["proto"], t["verdict"], (t.get("blocked_by") or {}).get("text"))
sys.exit(0 if a == b else 1)
EOF
}

if out=$(audit_ruleset drop 1); then
	t_ok "audit, DNS in the set: the same report dumped and lazy"
else
	t_fail "audit, DNS in the set: the reports differ"
fi
t_expect "audit, DNS in the set: blocked by the set's rule" \
	"udp blocked ip daddr @drops drop|tcp blocked ip daddr @drops drop" "$(paste -sd'|' <<<"$out")"
if out=$(audit_ruleset nodrop 0); then
	t_ok "audit, DNS not in the set: the same report dumped and lazy"
else
	t_fail "audit, DNS not in the set: the reports differ"
fi
case "$out" in
	""|*blocked*|*uncertain*) t_fail "audit, DNS not in the set: '$out'" ;;
	*) t_ok "audit, DNS not in the set: not blocked ($(paste -sd' ' <<<"$out"))" ;;
esac

t_done
