#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The collectors one at a time against the stock tools reading the same
# state, each in a network namespace of its own (the speed targets that
# used to be time limits in make check's tests/kernel/nft-collect-large.sh,
# legacy-perf.sh and route-perf.sh; those now check only what is collected):
#
#   tests/bench/collect-speed.sh [--nft-rules N] [--nft-ranges N]
#                                [--legacy-rules N] [--routes N] [--lookups N]
#                                [--route-budget-ms MS] [--runs N]
#                                [--parts LIST] [--check] [--out DIR]
#
#   nft        N rules (default 100,000, chains of 100, one `nft -f`):
#              nft_collect() against `nft --terse list ruleset` (wall time);
#              then an interval set of --nft-ranges ranges (default 200,000)
#              beside them: nft_collect() with the set dumped against `nft
#              list ruleset` (the only listing that fetches the elements),
#              and with the set lazy (too large to dump; the default) against
#              `nft --terse list ruleset`, its element phase under 500 ms, and
#              the audit (cgnatcheck --dns, a rule matching the lazy set)
#              against `nft --terse list ruleset`
#   legacy     kube-proxy's nat table of --legacy-rules rules (default 30,000,
#              tests/bench/kube-gen.py) in iptables-legacy: legacy_collect()
#              (libiptc's snapshot + the model) against iptables-legacy-save
#              in CPU time (user + system), within 1.5x
#   route      --routes routes (default 100,000) in three tables: one dump,
#              index and --lookups lookups (default 1,000), total within
#              --route-budget-ms (default 1000)
#   model      the model's indexes, no kernel (the unit tests' figures,
#              tests/unit/test-set and test-set-model): 100,000 lookups in
#              an interval set of 1,000,000 ranges, and resolving 300,000
#              jumps over 50,000 chains, each within 2 s (a scan instead of
#              a search or a hash would take minutes)
#
# --parts picks some of them (default nft,legacy,route,model). Each figure is the
# best of --runs runs (default 3). The table printed
# says, for every target, the two figures and whether it was met; with
# --check the script exits 1 when one was missed. A sanitizer build's figures
# are printed and not judged. --out DIR keeps the figures (speed.tsv).
#
# Environment: CGNATCHECK, top_srcdir, top_builddir (the test programs
# tests/kernel/nft-collect-dump, legacy-dump, route-perf and
# tests/unit/test-set, test-set-model are check programs: `make check` or
# `make bench` builds them); BENCH_SPEED_NFT_RULES,
# BENCH_SPEED_NFT_RANGES, BENCH_SPEED_LEGACY_RULES, BENCH_SPEED_ROUTES,
# BENCH_SPEED_LOOKUPS, BENCH_SPEED_ROUTE_BUDGET_MS, BENCH_SPEED_RUNS,
# BENCH_SPEED_PARTS for the options. Exit: 0 done (with --check: every
# target met), 1 a target missed, 2 bad usage, 77 skipped (not root), 99 a
# tool or a collection failed.
set -euo pipefail
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$bench_dir/../.." && pwd)}"
. "$top_srcdir/tests/lib/netns/lib.sh"

usage() {
	sed -n '3,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}

NFT_RULES=${BENCH_SPEED_NFT_RULES:-100000}
NFT_RANGES=${BENCH_SPEED_NFT_RANGES:-200000}
LEGACY_RULES=${BENCH_SPEED_LEGACY_RULES:-30000}
ROUTES=${BENCH_SPEED_ROUTES:-100000}
LOOKUPS=${BENCH_SPEED_LOOKUPS:-1000}
ROUTE_BUDGET_MS=${BENCH_SPEED_ROUTE_BUDGET_MS:-1000}
RUNS=${BENCH_SPEED_RUNS:-3}
PARTS=${BENCH_SPEED_PARTS:-nft,legacy,route,model}
CHECK=0 OUT=

value() {
	[ $# -ge 2 ] || { echo "collect-speed.sh: $1 needs a value" >&2; exit 2; }
	printf '%s\n' "$2"
}
while [ $# -gt 0 ]; do
	case $1 in
	--nft-rules) NFT_RULES=$(value "$@"); shift ;;
	--nft-ranges) NFT_RANGES=$(value "$@"); shift ;;
	--legacy-rules) LEGACY_RULES=$(value "$@"); shift ;;
	--routes) ROUTES=$(value "$@"); shift ;;
	--lookups) LOOKUPS=$(value "$@"); shift ;;
	--route-budget-ms) ROUTE_BUDGET_MS=$(value "$@"); shift ;;
	--runs) RUNS=$(value "$@"); shift ;;
	--parts) PARTS=$(value "$@"); shift ;;
	--check) CHECK=1 ;;
	--out) OUT=$(value "$@"); shift ;;
	-h | --help) usage 0 ;;
	*) echo "collect-speed.sh: unknown option '$1'" >&2; usage 2 ;;
	esac
	shift
done
for v in NFT_RULES NFT_RANGES LEGACY_RULES ROUTES LOOKUPS ROUTE_BUDGET_MS RUNS; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "collect-speed.sh: $v must be a number, not '${!v}'" >&2; exit 2; }
done
IFS=, read -ra parts <<<"$PARTS"
for p in "${parts[@]}"; do
	case $p in
	nft | legacy | route | model) ;;
	*) echo "collect-speed.sh: unknown part '$p' (nft, legacy, route, model)" >&2; exit 2 ;;
	esac
done
((${#parts[@]} > 0 && RUNS >= 1 && NFT_RULES >= 1 && NFT_RANGES >= 1 && LEGACY_RULES >= 100 && ROUTES >= 1)) ||
	{ echo "collect-speed.sh: runs and sizes must be positive (legacy rules >= 100)" >&2; exit 2; }

NFT_DUMP=$top_builddir/tests/kernel/nft-collect-dump
LEGACY_DUMP=$top_builddir/tests/kernel/legacy-dump
ROUTE_PERF=$top_builddir/tests/kernel/route-perf
TEST_SET=$top_builddir/tests/unit/test-set
TEST_SET_MODEL=$top_builddir/tests/unit/test-set-model
case $CGNATCHECK in /*) ;; *) CGNATCHECK="$PWD/$CGNATCHECK" ;; esac
tb_test_init python3 nft iptables-legacy-restore iptables-legacy-save "$NFT_DUMP" "$LEGACY_DUMP" "$ROUTE_PERF" \
	"$TEST_SET" "$TEST_SET_MODEL" "$CGNATCHECK"
tb_tmpdir W
if [ -n "$OUT" ]; then
	mkdir -p "$OUT" || exit 99
	OUT=$(cd "$OUT" && pwd)
else
	OUT=$W
fi
: >"$OUT/speed.tsv"

JUDGE=1
if t_sanitized "$NFT_DUMP" 'libasan|libubsan'; then
	JUDGE=0
	echo "note: sanitizer build: the figures are printed, not judged" >&2
fi

say() { printf '%s\n' "$*" >&2; }

# seconds CMD...: runs CMD, its output discarded; prints the wall time
seconds() {
	local t0=$EPOCHREALTIME t1
	"$@" >/dev/null 2>"$W/cmd.err" || { cat "$W/cmd.err" >&2; tb_die "$* failed"; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

# best CMD...: the least wall time of RUNS runs
best() {
	local i t min=
	for ((i = 0; i < RUNS; i++)); do
		t=$(seconds "$@")
		if [ -z "$min" ] || awk -v a="$t" -v b="$min" 'BEGIN { exit !(a < b) }'; then min=$t; fi
	done
	printf '%s\n' "$min"
}

# CPU milliseconds of a command (user + system of it and its children)
cpu_ms() {
	local t
	t=$( { TIMEFORMAT='%3U %3S'; time "$@" >/dev/null 2>&1; } 2>&1 )
	awk -v u="${t% *}" -v s="${t#* }" 'BEGIN { printf "%d\n", (u + s) * 1000 }'
}

# target NAME OURS OP THEIRS UNIT WHAT: one row of the table. OP is < or
# <=; THEIRS may be an expression of awk (e.g. 1.5*120). Records a miss.
MISSED=0 ROWS=()
target() {
	local name=$1 ours=$2 op=$3 theirs=$4 unit=$5 what=$6 limit result
	if [ "$unit" = s ]; then
		limit=$(awk "BEGIN { printf \"%.3f\", $theirs }")
	else
		limit=$(awk "BEGIN { printf \"%.0f\", $theirs }")
	fi
	if [ "$JUDGE" = 0 ]; then
		result="not judged (sanitizer build)"
	elif awk -v a="$ours" -v b="$limit" "BEGIN { exit !(a $op b) }"; then
		result=met
	else
		result=MISSED
		MISSED=$((MISSED + 1))
	fi
	ROWS+=("$(printf '  %-50s %10s %-3s %10s %-3s %s' "$name" "$ours" "$op" "$limit" "$unit" "$result ($what)")")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$ours" "$op" "$limit" "$unit" "$result" >>"$OUT/speed.tsv"
	say "$name: $ours $op $limit $unit: $result"
}

# --- nft: rules, a large interval set, lazily ----------------------------------
bench_nft() {
	local ns chains=$(((NFT_RULES + 99) / 100)) out ours theirs terse full lazy lazy_ms t0 st
	tb_ns_add ns speed-nft
	python3 "$top_srcdir/tests/lib/gen-nft-chains.py" "$NFT_RULES" 100 >"$W/rules.nft"
	say "nft: loading $NFT_RULES rules in $chains chains: $(seconds tb_exec "$ns" nft -f "$W/rules.nft") s"
	out=$(tb_exec "$ns" "$NFT_DUMP" -s) || tb_die "nft-collect-dump failed"
	case $out in *"rules=$((NFT_RULES + chains)) "*) ;; *) tb_die "nft: not every rule collected: $out" ;; esac
	theirs=$(best tb_exec "$ns" nft --terse list ruleset)
	ours=$(best tb_exec "$ns" "$NFT_DUMP" -s)
	target "nft_collect(), $NFT_RULES rules" "$ours" "<" "$theirs" s "nft --terse list ruleset"

	python3 - "$NFT_RANGES" >"$W/set.nft" <<'EOF'
import sys
n = int(sys.argv[1])
def ip(v):
    return f"{v >> 24}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"
print("add set inet big ranges { type ipv4_addr; flags interval; }")
for i in range(0, n, 2000):
    els = [f"{ip(0x0a000000 + 16 * k)}-{ip(0x0a000000 + 16 * k + 7)}" for k in range(i, min(n, i + 2000))]
    print("add element inet big ranges { " + ", ".join(els) + " }")
print("insert rule inet big input ip saddr @ranges counter")
EOF
	say "nft: loading $NFT_RANGES ranges: $(seconds tb_exec "$ns" nft -f "$W/set.nft") s"
	out=$(CGNATCHECK_SET_DUMP_MAX=4294967295 tb_exec "$ns" "$NFT_DUMP" -s) || tb_die "nft-collect-dump failed"
	case $out in *" ranges=$NFT_RANGES "*) ;; *) tb_die "nft: not every range collected: $out" ;; esac
	full=$(best tb_exec "$ns" nft list ruleset)
	terse=$(best tb_exec "$ns" nft --terse list ruleset)
	ours=$(CGNATCHECK_SET_DUMP_MAX=4294967295 best tb_exec "$ns" "$NFT_DUMP" -s)
	target "nft_collect(), + $NFT_RANGES ranges dumped" "$ours" "<" "$full" s "nft list ruleset"
	lazy=$(best tb_exec "$ns" "$NFT_DUMP" -s)
	target "nft_collect(), + $NFT_RANGES ranges lazy" "$lazy" "<" "$terse" s "nft --terse list ruleset"
	lazy_ms=$(CG_DEBUG=1 tb_exec "$ns" "$NFT_DUMP" -s 2>&1 >/dev/null |
		sed -n 's/.* set elements in \([0-9]*\) ms.*/\1/p')
	[ -n "$lazy_ms" ] || tb_die "nft: no element phase in nft-collect-dump's debug output"
	target "nft_collect(), the lazy set's element phase" "$lazy_ms" "<" 500 ms "half a second"

	# the audit, looking the DNS server up in the lazy set
	ip -n "$ns" link add eth0 type veth peer name eth0p
	ip -n "$ns" addr add 172.24.4.100/18 dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set eth0p up
	ip -n "$ns" route add default via 172.24.0.1 dev eth0
	tb_exec "$ns" nft -f - <<'EOF'
add element inet big ranges { 100.100.2.0/24 }
add chain inet big out { type filter hook output priority 0; policy accept; }
add rule inet big out ip daddr @ranges drop
EOF
	mkdir -p "$W/empty"
	st=0
	tb_exec "$ns" env CGNATCHECK_POLICY_DIR="$top_srcdir/policies" CGNATCHECK_POLICY_LOCAL_DIR="$W/empty" \
		CGNATCHECK_DMI_DIR="$W/empty" CGNATCHECK_RESOLVED_CONF="$W/empty/resolved.conf" \
		"$CGNATCHECK" --dns 100.100.2.136 --format json >"$W/audit.json" 2>"$W/audit.err" || st=$?
	[ "$st" = 2 ] || tb_die "nft: the audit exited $st, not 2 (blocked): $(head -c 500 "$W/audit.err")"
	ours=$(best tb_exec "$ns" env CGNATCHECK_POLICY_DIR="$top_srcdir/policies" \
		CGNATCHECK_POLICY_LOCAL_DIR="$W/empty" CGNATCHECK_DMI_DIR="$W/empty" \
		CGNATCHECK_RESOLVED_CONF="$W/empty/resolved.conf" \
		bash -c '"$0" "$@"; [ $? = 2 ]' "$CGNATCHECK" --dns 100.100.2.136 --format json)
	target "the audit (cgnatcheck --dns), lazy set" "$ours" "<" "$terse" s "nft --terse list ruleset"
	ip netns del "$ns"
}

# --- legacy: a kube-proxy nat table --------------------------------------------
bench_legacy() {
	local ns i ms stats cpu wall save=999999999 collect=999999999 collect_wall=999999999
	tb_ns_add ns speed-legacy
	python3 "$bench_dir/kube-gen.py" --rules "$LEGACY_RULES" --endpoints 3 --no-filter >"$W/kube" 2>"$W/gen.err" ||
		{ cat "$W/gen.err" >&2; tb_die "kube-gen.py failed"; }
	tb_exec "$ns" iptables-legacy-restore <"$W/kube" || tb_die "iptables-legacy-restore refused the table"
	for ((i = 0; i < RUNS; i++)); do
		ms=$(cpu_ms tb_exec "$ns" iptables-legacy-save -t nat)
		((ms < save)) && save=$ms
		stats=$(tb_exec "$ns" "$LEGACY_DUMP" -4 -t nat --no-print --stats 2>&1 >/dev/null) ||
			tb_die "legacy-dump failed: $stats"
		cpu=$(sed -n 's/.*collect_cpu_ms=\([0-9]*\).*/\1/p' <<<"$stats")
		wall=$(sed -n 's/.*collect_ms=\([0-9]*\).*/\1/p' <<<"$stats")
		[ -n "$cpu" ] && [ -n "$wall" ] || tb_die "legacy-dump --stats printed no times: $stats"
		((cpu < collect)) && collect=$cpu
		((wall < collect_wall)) && collect_wall=$wall
	done
	say "legacy: $(grep -c '^-A' "$W/kube") rules; legacy_collect ${collect} ms CPU (${collect_wall} ms wall)," \
		"iptables-legacy-save ${save} ms CPU"
	target "legacy_collect(), $LEGACY_RULES kube-proxy rules" "$collect" "<=" "1.5*$save" "ms" \
		"CPU, 1.5x iptables-legacy-save's"
	ip netns del "$ns"
}

# --- route: a dump of many routes and lookups ----------------------------------
bench_route() {
	local ns out ms
	tb_ns_add ns speed-route
	# route-perf installs the routes (not timed), then times RUNS passes of
	# dump + index + lookups; with budget 0 it only checks every route was
	# collected
	out=$(tb_exec "$ns" env CG_TEST_HOST_NETNS="$(stat -L -c %i /proc/self/ns/net)" \
		"$ROUTE_PERF" "$ROUTES" "$LOOKUPS" 0 "$RUNS" 2>"$W/route.err") ||
		{ printf '%s\n' "$out" >&2; cat "$W/route.err" >&2; tb_die "route-perf failed"; }
	printf '%s\n' "$out" >&2
	ms=$(sed -n 's/.*; total \([0-9.]*\) ms.*/\1/p' <<<"$out" | sort -n | head -1)
	[ -n "$ms" ] || tb_die "route-perf printed no total: $out"
	target "route dump + index + $LOOKUPS lookups, $ROUTES routes" "$ms" "<=" "$ROUTE_BUDGET_MS" ms "the budget"
	ip netns del "$ns"
}

# --- model: the set index and the jump resolution, in memory ------------------
bench_model() {
	local i out lookups resolve min_l="" min_r=""
	for ((i = 0; i < RUNS; i++)); do
		out=$("$TEST_SET" 2>&1) || { printf '%s\n' "$out" >&2; tb_die "tests/unit/test-set failed"; }
		lookups=$(sed -n 's/^interval set: 1000000 ranges .* 100000 lookups .* in \([0-9.]*\) s$/\1/p' <<<"$out")
		out=$("$TEST_SET_MODEL" 2>&1) || { printf '%s\n' "$out" >&2; tb_die "tests/unit/test-set-model failed"; }
		resolve=$(sed -n 's/^resolved 300000 jumps over 50000 chains in \([0-9.]*\) s .*/\1/p' <<<"$out")
		[ -n "$lookups" ] && [ -n "$resolve" ] || tb_die "the unit tests printed no times"
		if [ -z "$min_l" ] || awk -v a="$lookups" -v b="$min_l" 'BEGIN { exit !(a < b) }'; then min_l=$lookups; fi
		if [ -z "$min_r" ] || awk -v a="$resolve" -v b="$min_r" 'BEGIN { exit !(a < b) }'; then min_r=$resolve; fi
	done
	target "100000 lookups, a set of 1000000 ranges" "$min_l" "<" 2 s "2 s"
	target "resolving 300000 jumps over 50000 chains" "$min_r" "<" 2 s "2 s"
}

say "collect-speed: $CGNATCHECK; kernel $(uname -r); best of $RUNS runs"
for p in "${parts[@]}"; do
	"bench_$p"
done

echo "== the collectors against the stock tools (best of $RUNS runs)"
printf '  %-50s %10s %-3s %10s %-3s %s\n' "what" "ours" "" "target" "" "result (against)"
printf '%s\n' "${ROWS[@]}"
if [ "$MISSED" -gt 0 ]; then
	echo "$MISSED target(s) missed"
	[ "$CHECK" = 0 ] || exit 1
fi
exit 0
