#!/usr/bin/env bash
# The deciding rule, checked against the kernel's own trace: random nftables
# rulesets, the DNS request to 100.100.2.136 and its reply traced with
# `nft monitor trace`; when the kernel drops either, the simulator must name
# the same table, chain and rule handle (or the same chain's policy).
#   NF_TRACE_RULESETS (default 40), NF_TRACE_SEED (default fixed; set it to explore),
#   NF_TRACE_JOBS (test beds, their rulesets at once; default 2)
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
SIM="$top_builddir/tests/kernel/nf-simulate"
GEN="$top_srcdir/tests/kernel/nf-gen.py"
tb_test_init python3 "$SIM"
rulesets=${NF_TRACE_RULESETS:-40}
seed0=${NF_TRACE_SEED:-1000}
echo "nf-trace: seed $seed0, $rulesets rulesets" >&2

jobs=${NF_TRACE_JOBS:-2}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "ERROR: NF_TRACE_JOBS must be a positive number" >&2; exit 99; }
tb_beds "$jobs"
tb_tmpdir WORK
python3 "$GEN" nft "$seed0" "$rulesets" "$WORK"

# Marks the flow's packets for tracing, before every generated chain (-400).
TRACE_TABLE='table ip cgtrace {
	chain pre { type filter hook prerouting priority -400; ip saddr 100.100.2.136 udp sport 53 meta nftrace set 1; }
	chain out { type filter hook output priority -400; ip daddr 100.100.2.136 udp dport 53 meta nftrace set 1; }
}'

# slice BED FIRST COUNT: rulesets FIRST..FIRST+COUNT-1 in test bed BED (its
# own namespaces: the monitor sees only its own bed's packets)
slice() {
	local first=$2 count=$3 i seed sim mon try kernel fam rest table chain what want compared=0
	tb_use_bed "$1"
	local trace="$WORK/trace.$1"
	for ((i = first; i < first + count; i++)); do
		seed=$((seed0 + i))
		tb_ct_flush "$TB_HOST"
		tb_exec "$TB_HOST" nft -f "$WORK/$seed.rules"
		tb_exec "$TB_HOST" nft -f - <<<"$TRACE_TABLE"
		sim=$(echo "dns out $TB_HOST_IP 100.100.2.136 udp 40001 53 eth0" | tb_exec "$TB_HOST" "$SIM")
		case "$sim" in *" blocked "*) ;; *) continue ;; esac

		: >"$trace"
		# not through a shell function: $! must be the monitor itself
		ip netns exec "$TB_HOST" stdbuf -oL nft -a monitor trace >"$trace" 2>&1 &
		mon=$!
		# The monitor subscribes asynchronously: probe until the trace shows the
		# drop (bounded), so a late subscription cannot lose the event.
		for ((try = 0; try < 15; try++)); do
			tb_probe 100.100.2.136 53 udp >/dev/null 2>&1 || true
			sleep 0.1
			grep -qE '\(verdict drop\)|policy drop' "$trace" && break
		done
		kill "$mon" 2>/dev/null || true
		wait "$mon" 2>/dev/null || true

		# the kernel's last verdict for the traced packets
		kernel=$(python3 - "$trace" <<-'PY'
	import re, sys
	last = None
	for line in open(sys.argv[1], errors="replace"):
	    m = re.match(r"trace id \S+ (\S+) (\S+) (\S+) (rule .* # handle (\d+) \(verdict (\w+)|policy (\w+))", line)
	    if not m:
	        continue
	    fam, table, chain = m.group(1), m.group(2), m.group(3)
	    if m.group(5):
	        if m.group(6) in ("drop",):
	            last = f"{fam}:{table}:{chain}:handle={m.group(5)}"
	    elif m.group(7) == "drop":
	        last = f"{fam}:{table}:{chain}:policy"
	print(last or "none")
	PY
	)
		if [ "$kernel" = none ]; then
			t_fail "seed $seed: the simulator says blocked ($sim) but the kernel trace shows no drop"
			grep -v 'packet:' "$trace" | head -20 >&2
			continue
		fi
		fam=${kernel%%:*}
		rest=${kernel#*:}
		table=${rest%%:*}
		rest=${rest#*:}
		chain=${rest%%:*}
		what=${rest#*:}
		if [ "$what" = policy ]; then
			want=":$fam:$table:$chain:policy"
		else
			want=":$fam:$table:$chain:#"
		fi
		case "$sim" in
		*"$want"*) if [ "$what" = policy ] || [[ "$sim" == *" $what"* ]]; then
				t_ok "seed $seed: deciding rule $kernel"
			else
				t_fail "seed $seed: kernel decided at $kernel, simulator: $sim"
			fi ;;
		*) t_fail "seed $seed: kernel decided at $kernel, simulator: $sim" ;;
		esac
		compared=$((compared + 1))
	done
	echo "$compared" >"$WORK/compared.$1"
}

for ((j = 0; j < jobs; j++)); do
	first=$((rulesets * j / jobs))
	count=$((rulesets * (j + 1) / jobs - first))
	tb_spawn "rulesets $first..$((first + count - 1))" slice "$j" "$first" "$count"
done
tb_join
compared=0
for ((j = 0; j < jobs; j++)); do
	compared=$((compared + $(cat "$WORK/compared.$j")))
done
echo "nf-trace: $compared blocked flows compared with the kernel's trace" >&2
[ "$compared" -gt 0 ] || t_fail "no ruleset blocked the flow: nothing was compared"
t_done
