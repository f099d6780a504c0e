#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nft_collect() on a large ruleset must be faster than nft(8) reading the same
# ruleset, and complete.
#
#   1. CG_NFT_LARGE_RULES rules (default 100000, in chains of 100, loaded with
#      one `nft -f`): our dump against `nft --terse list ruleset`.
#   2. The same plus an interval set of CG_NFT_LARGE_RANGES ranges (default
#      200000; each is a start and an end element in the kernel): our dump
#      against `nft list ruleset`. `nft --terse` omits set contents, so only
#      the full listing fetches the same data; its time is printed too.
#
# Both sides are mostly kernel time: every dump message makes the kernel walk
# the rule list (or the set's tree) again from its first entry, so the cost
# grows with the square of the size. With CG_NFT_LARGE_RANGES=1000000 the
# element dump alone takes about a minute (so does nft's); the default keeps
# this test under a minute. Each side is timed twice; the faster run counts.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/netns/lib.sh"

tb_init
command -v nft >/dev/null || t_skip "needs nft"
command -v python3 >/dev/null || t_skip "needs python3"
DUMP="$top_builddir/tests/nft-collect-dump"
[ -x "$DUMP" ] || { echo "ERROR: $DUMP not built" >&2; exit 99; }
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

CG_DEBUG=1 t_run tb_exec "$NS" "$DUMP" -s
case "$t_out" in
	*"rules=$((RULES + CHAINS + 1)) sets=1 elems="*" ranges=$RANGES "*) t_ok "set: every range collected ($t_out)" ;;
	*) t_fail "set: expected $RANGES ranges, got: $t_out $t_err" ;;
esac
echo "$t_err" | sed -n 's/^cgnatcheck: /phases: /p' >&2
nft_full=$(best_of_two tb_exec "$NS" nft list ruleset)
nft_terse=$(seconds tb_exec "$NS" nft --terse list ruleset)
ours=$(best_of_two tb_exec "$NS" "$DUMP" -s)
echo "rules + $RANGES ranges: nft_collect() $ours s, nft list ruleset $nft_full s," \
	"nft --terse list ruleset (no set contents) $nft_terse s" >&2
expect_faster set "$ours" "$nft_full" "nft list ruleset"

t_done
