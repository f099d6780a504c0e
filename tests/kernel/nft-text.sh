#!/usr/bin/env bash
# nft_rule_format() against nft(8): rulesets are loaded with `nft -f` into
# test namespaces, collected with nft_collect() and rendered rule by rule
# (tests/kernel/nft-text-dump), then compared with `nft -a list ruleset` by table,
# chain and handle (tests/kernel/nft-text-compare.py: counters reduced to `counter`,
# the handle comment removed). Every rule must be identical; the only
# differences allowed are the ones the compare script documents (the model
# keeps no ICMP code of a reject), and they are counted here so
# that they cannot spread unnoticed.
#
#   1. Tailscale's nftables layouts (tb_ts_install nftables new/old/nodivert/
#      return) in the scenario's host;
#   2. tests/kernel/nft-text-rules.nft: every construct the renderer knows;
#   3. random rulesets of tests/kernel/nf-gen.py (NFT_TEXT_SEEDS seeds from
#      NFT_TEXT_SEED, 40 from 1 by default; a failure names its seed);
#   4. large anonymous sets (thousands of addresses, ports, pairs);
#   5. expressions kept as kernel attributes print as nft's; the rest as
#      placeholders in place.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
DUMP="$top_builddir/tests/kernel/nft-text-dump"
COMPARE="$top_srcdir/tests/kernel/nft-text-compare.py"
tb_test_init nft python3 "$DUMP"
tb_tmpdir T

# compare NS LABEL MAX_EXCEPTIONS: the dump against nft's listing in NS
compare() {
	local ns=$1 label=$2 max=$3 out status summary excused
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
	excused=$(sed -n -E 's/.*, ([0-9]+) documented exceptions,.*/\1/p' <<<"$summary")
	if [ "${excused:-0}" -gt "$max" ]; then
		printf '%s\n' "$out" >&2
		t_fail "$label: $excused documented exceptions, at most $max expected"
		return
	fi
	[ "$excused" = 0 ] || printf '%s\n' "$out" | grep -A2 'documented exception' >&2 || true
	t_ok "$summary"
}

# --- 1. Tailscale's nftables mode ------------------------------------------
tb_scenario
for variant in new old nodivert return; do
	tb_exec "$TB_HOST" nft flush ruleset
	tb_ts_install nftables "$variant" || { t_fail "tailscale $variant: install failed"; continue; }
	compare "$TB_HOST" "tailscale $variant" 0
done
# the rendered CGNAT rule, as a report quotes it
line=$(tb_exec "$TB_HOST" "$DUMP" | awk -F'\t' '$1 == "ip" && $3 == "ts-input" && $5 ~ /100\.64\.0\.0\/10/ { print $5 }')
t_expect "tailscale return: the CGNAT rule's text" \
	'iifname != "tailscale0*" ip saddr 100.64.0.0/10 counter return' "$line"

# --- 2. the hand-written ruleset -------------------------------------------
tb_ns_add NS text
# `iif "eth0"` needs an interface of that name (this kernel may have no dummy)
ip -n "$NS" link add eth0 type veth peer name eth0-peer
if tb_exec "$NS" nft -f "$top_srcdir/tests/kernel/nft-text-rules.nft"; then
	# 3 rejects with a non-default ICMP code
	compare "$NS" "hand-written rules" 3
else
	t_fail "hand-written rules: nft -f failed"
fi

# --- 3. random rulesets ----------------------------------------------------
first=${NFT_TEXT_SEED:-1}
count=${NFT_TEXT_SEEDS:-40}
python3 "$top_srcdir/tests/kernel/nf-gen.py" nft "$first" "$count" "$T"
# each ruleset's listing and dump kept, then compared in one run of the
# compare script (a Python start-up per ruleset cost more than the rest)
bad=0
: >"$T/batch"
for ((seed = first; seed < first + count; seed++)); do
	if ! tb_exec "$NS" nft -f "$T/$seed.rules"; then
		t_fail "seed $seed: nft -f failed (python3 tests/kernel/nf-gen.py nft $seed)"
		bad=$((bad + 1))
		continue
	fi
	tb_exec "$NS" nft -a list ruleset >"$T/listing.$seed" || { t_fail "seed $seed: nft list ruleset failed"; continue; }
	tb_exec "$NS" "$DUMP" >"$T/dump.$seed" || { t_fail "seed $seed: nft-text-dump failed"; continue; }
	printf '%s\t%s\t%s\n' "$T/listing.$seed" "$T/dump.$seed" "seed $seed" >>"$T/batch"
done
set +e
python3 "$COMPARE" --batch "$T/batch" >"$T/batch.out" 2>&1
status=$?
set -e
[ "$status" -le 1 ] || { cat "$T/batch.out" >&2; t_fail "random rulesets: the compare script failed ($status)"; }
while IFS=$'\t' read -r _ _ label; do
	summary=$(grep -E "^$label: [0-9]+ identical, " "$T/batch.out" || true)
	case $summary in
	*", 0 documented exceptions, 0 wrong") t_ok "$summary" ;;
	*)
		grep "^$label: " "$T/batch.out" >&2 || true
		t_fail "$label: rendering differs from nft (${summary:-no summary})"
		echo "reproduce: python3 tests/kernel/nf-gen.py nft ${label#seed } | nft -f - (in a test namespace)" >&2
		bad=$((bad + 1))
		;;
	esac
done <"$T/batch"
t_expect "random rulesets $first..$((first + count - 1)) all rendered as nft lists them" 0 "$bad"

# --- 4. large anonymous sets ------------------------------------------------
python3 - >"$T/big.nft" <<'EOF'
import random
r = random.Random(7)
addrs = sorted({"10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(1, 255)) for _ in range(3000)})
ports = sorted({r.randrange(1, 65535) for _ in range(2000)})
print("flush ruleset\ntable ip big {\n\tchain c {")
print("\t\tip saddr { %s } drop" % ", ".join(addrs))
print("\t\ttcp dport { %s } accept" % ", ".join(map(str, ports)))
print("\t\tip saddr . tcp dport { %s } accept" % ", ".join("%s . %d" % ap for ap in zip(addrs[:1500], ports)))
print("\t}\n}")
EOF
if tb_exec "$NS" nft -f "$T/big.nft"; then
	compare "$NS" "large anonymous sets" 0
else
	t_fail "large anonymous sets: nft -f failed"
fi

# --- 5. expressions kept by their kernel attributes; what is left over --------
# (tests/kernel/nft-roundtrip.sh has every kind; here an anonymous object
# map with its elements' objects too)
tb_exec "$NS" nft -f - <<'EOF'
flush ruleset
table ip tu {
	counter cnt { }
	set dyn { type ipv4_addr; flags dynamic,timeout; timeout 1m; }
	map cm { type ipv4_addr : counter; elements = { 1.1.1.1 : "cnt" } }
	chain c {
		fib daddr type local accept
		ip saddr 1.2.3.4 counter name "cnt" accept
		add @dyn { ip saddr } accept
		ct count over 10 drop
		meta mark set numgen inc mod 4
		tcp flags syn tcp option mss size 1400 accept
		quota 10 mbytes
		counter name ip saddr map @cm accept
		counter name ip saddr map { 2.2.2.2 : "cnt" } accept
	}
}
EOF
got=$(tb_exec "$NS" "$DUMP" | awk -F'\t' '$1 != "table" { print $5 }')
want='fib daddr type local accept
ip saddr 1.2.3.4 counter name "cnt" accept
add @dyn { ip saddr } accept
ct count over 10 drop
meta mark set numgen inc mod 4
tcp flags syn tcp option maxseg size 1400 accept
quota 10 mbytes
counter name ip saddr map @cm accept
counter name ip saddr map { 2.2.2.2 : "cnt" } accept'
t_expect "kept expressions as nft lists them" "$want" "$got"

t_done
