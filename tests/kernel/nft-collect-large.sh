#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nft_collect() on a large ruleset must be faster than nft(8) reading the same
# ruleset, and complete.
#
#   1. CG_NFT_LARGE_RULES rules (default 100000, in chains of 100, loaded with
#      one `nft -f`): our dump against `nft --terse list ruleset`.
#   2. The same plus an interval set of CG_NFT_LARGE_RANGES ranges (default
#      200000; each is a start and an end element in the kernel): our dump
#      (CGNATCHECK_SET_DUMP_MAX above the set's size) against `nft list
#      ruleset`. `nft --terse` omits set contents, so only the full listing
#      fetches the same data; its time is printed too.
#   3. The same set collected lazily (the default: too large to dump, its
#      lookups ask the kernel per key): well under a second, faster than
#      `nft --terse list ruleset`, and the audit (cgnatcheck --dns) finds the
#      DNS server blocked by a rule matching the set, as with the full dump.
#
# Both sides are mostly kernel time: every dump message makes the kernel walk
# the rule list (or the set's tree) again from its first entry, so the cost
# grows with the square of the size. With CG_NFT_LARGE_RANGES=1000000 the
# element dump alone takes about a minute (so does nft's); the default keeps
# this test under a minute. Each side is timed twice; the faster run counts.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

DUMP="$top_builddir/tests/kernel/nft-collect-dump"
tb_test_init nft python3 "$DUMP"
RULES=${CG_NFT_LARGE_RULES:-100000}
RANGES=${CG_NFT_LARGE_RANGES:-200000}
PER_CHAIN=100
CHAINS=$(( (RULES + PER_CHAIN - 1) / PER_CHAIN ))

tb_tmpdir TMP
tb_ns_add NS large

# seconds CMD...: runs CMD, its output discarded; prints the wall time.
seconds() {
	local t0=$EPOCHREALTIME t1
	"$@" >/dev/null 2>"$TMP/cmd.err" || { cat "$TMP/cmd.err" >&2; echo "ERROR: $* failed" >&2; exit 99; }
	t1=$EPOCHREALTIME
	python3 -c "print(f'{$t1 - $t0:.3f}')"
}

# best_of_two CMD...: the faster of two runs.
best_of_two() {
	local a b
	a=$(seconds "$@")
	b=$(seconds "$@")
	python3 -c "print(min($a, $b))"
}

faster() { python3 -c "import sys; sys.exit(0 if $1 < $2 else 1)"; }

# A sanitizer build runs several times slower: its figures are printed, not
# compared.
SANITIZED=0
if ldd "$DUMP" 2>/dev/null | grep -Eq 'libasan|libubsan'; then
	SANITIZED=1
	echo "note: sanitizer build: timings are printed, not compared" >&2
fi

# expect_faster WHAT OURS THEIRS THEIR_NAME
expect_faster() {
	if [ "$SANITIZED" = 1 ]; then
		return
	elif faster "$2" "$3"; then
		t_ok "$1: nft_collect() ($2 s) is faster than $4 ($3 s)"
	else
		t_fail "$1: nft_collect() ($2 s) is slower than $4 ($3 s)"
	fi
}

python3 - "$RULES" "$PER_CHAIN" >"$TMP/rules.nft" <<'EOF'
import sys
rules, per = int(sys.argv[1]), int(sys.argv[2])
chains = (rules + per - 1) // per
out = ["table inet big {", "\tchain input {", "\t\ttype filter hook input priority 0; policy accept;"]
out += [f"\t\tip daddr 10.{c >> 8 & 255}.{c & 255}.0/24 jump c{c}" for c in range(chains)]
out.append("\t}")
for c in range(chains):
    out.append(f"\tchain c{c} {{")
    for r in range(min(per, rules - c * per)):
        out.append(f'\t\tip saddr 100.{64 + r % 64}.{c & 255}.{r} tcp dport {1000 + r} '
                   f'counter accept comment "c{c} r{r}"')
    out.append("\t}")
out.append("}")
print("\n".join(out))
EOF
echo "loading $RULES rules in $CHAINS chains: $(seconds tb_exec "$NS" nft -f "$TMP/rules.nft") s" >&2

# --- 1. rules ----------------------------------------------------------
t_run tb_exec "$NS" "$DUMP" -s
case "$t_out" in
	*"chains=$((CHAINS + 1)) rules=$((RULES + CHAINS)) "*) t_ok "rules: everything collected ($t_out)" ;;
	*) t_fail "rules: expected $((CHAINS + 1)) chains and $((RULES + CHAINS)) rules, got: $t_out $t_err" ;;
esac
nft_terse=$(best_of_two tb_exec "$NS" nft --terse list ruleset)
ours=$(best_of_two tb_exec "$NS" "$DUMP" -s)
echo "rules: nft_collect() $ours s, nft --terse list ruleset $nft_terse s" >&2
expect_faster rules "$ours" "$nft_terse" "nft --terse list ruleset"

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
nft_full=$(best_of_two tb_exec "$NS" nft list ruleset)
nft_terse=$(seconds tb_exec "$NS" nft --terse list ruleset)
ours_full=$(CGNATCHECK_SET_DUMP_MAX=$ALL best_of_two tb_exec "$NS" "$DUMP" -s)
echo "rules + $RANGES ranges: nft_collect() $ours_full s, nft list ruleset $nft_full s," \
	"nft --terse list ruleset (no set contents) $nft_terse s" >&2
expect_faster set "$ours_full" "$nft_full" "nft list ruleset"

# --- 3. the same set, lazy ----------------------------------------------
CG_DEBUG=1 t_run tb_exec "$NS" "$DUMP" -s
case "$t_out" in
	*"rules=$((RULES + CHAINS + 1)) sets=1 elems=0 ranges=0 "*) t_ok "lazy: the set is not dumped ($t_out)" ;;
	*) t_fail "lazy: expected the set not dumped, got: $t_out $t_err" ;;
esac
echo "$t_err" | sed -n 's/^cgnatcheck: /phases: /p' >&2
# the set's part: what the element phase took (the rules take the rest)
lazy_ms=$(sed -n 's/.* set elements in \([0-9]*\) ms.*/\1/p' <<<"$t_err")
ours_lazy=$(best_of_two tb_exec "$NS" "$DUMP" -s)
echo "rules + $RANGES ranges: nft_collect() lazily $ours_lazy s, with the set dumped $ours_full s," \
	"nft --terse list ruleset $nft_terse s" >&2
expect_faster lazy "$ours_lazy" "$nft_terse" "nft --terse list ruleset"
if [ "$SANITIZED" = 0 ]; then
	if [ -n "$lazy_ms" ] && [ "$lazy_ms" -lt 500 ]; then
		t_ok "lazy: the set of $RANGES ranges took $lazy_ms ms (with $RULES rules: $ours_lazy s)"
	else
		t_fail "lazy: the set of $RANGES ranges took '$lazy_ms' ms, not under half a second"
	fi
fi

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
audit() { # LABEL [ENV...]: the report in $TMP/LABEL.json, the wall time printed
	local label=$1 t0 status=0
	shift
	t0=$EPOCHREALTIME
	tb_exec "$NS" env "$@" "$CGNATCHECK" --dns 100.100.2.136 --format json >"$TMP/$label.json" \
		2>"$TMP/$label.err" || status=$?
	python3 -c "print(f'{$EPOCHREALTIME - $t0:.3f}')"
	[ "$status" -eq 2 ] || echo "note: audit $label exited $status: $(head -c 500 "$TMP/$label.err")" >&2
}
audit_lazy=$(audit audit-lazy)
audit_full=$(audit audit-full CGNATCHECK_SET_DUMP_MAX=$ALL)
want="udp blocked ip daddr @ranges drop|tcp blocked ip daddr @ranges drop"
t_expect "audit, lazy set: the DNS server is blocked by the set's rule" "$want" "$(verdicts "$TMP/audit-lazy.json")"
t_expect "audit, set dumped: the same verdicts" "$want" "$(verdicts "$TMP/audit-full.json")"
echo "audit (cgnatcheck --dns 100.100.2.136 --format json): lazy $audit_lazy s, set dumped $audit_full s," \
	"nft --terse list ruleset $nft_terse s" >&2
if [ "$SANITIZED" = 0 ]; then
	if faster "$audit_lazy" "$nft_terse"; then
		t_ok "audit, lazy set: $audit_lazy s, faster than nft --terse list ruleset ($nft_terse s)"
	else
		t_fail "audit, lazy set: $audit_lazy s, slower than nft --terse list ruleset ($nft_terse s)"
	fi
fi

t_done
