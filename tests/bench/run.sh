#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The scale benchmark (issues 8 and 20): on the same ruleset, in the same
# run, the full audit against the stock tools that only dump it and against
# the kernel floor.
#
#   tests/bench/run.sh [--services S] [--endpoints E] [--elements N] [--vmap V]
#                      [--kube-services KS] [--kube-endpoints KE] [--routes R]
#                      [--runs N] [--slow-runs N] [--slow-secs T] [--timeout T]
#                      [--scenarios LIST] [--scale] [--check]
#                      [--policy-addresses LIST] [--policy-services N]
#                      [--out DIR]
#
# Scenarios, each in network namespaces of its own (built, measured, removed
# one after the other; nothing runs in the machine's own namespace):
#   legacy    iptables-legacy: kube-proxy's ruleset of S services x E
#             endpoints (tests/bench/kube-gen.py: 8 + S*(2 + 3E) nat rules
#             and kube's 14 filter rules), then Tailscale's chains
#             (tb_ts_install legacy new)
#   nft       the same through iptables-nft (tb_ts_install nft new)
#   nftables  native nftables: a set of N interval elements and a verdict map
#             of V entries used from input and output base chains
#             (tests/bench/nft-gen.py), then Tailscale's nftables tables
#   kubenft   kube-proxy's nftables mode (issue 20): table ip kube-proxy of
#             KS services x KE endpoints (tests/bench/kube-nft-gen.py: a
#             service-ips verdict map, a chain per service choosing an
#             endpoint with numgen, a chain per endpoint with its dnat),
#             then Tailscale's nftables tables
#   policy    a large provider policy (issue 15) in the local policy
#             directory (/etc/cgnatcheck/policies.d/ in production), one
#             file per point (tests/bench/policy-gen.py): one [Service] of
#             each of the --policy-addresses counts (default
#             1000,10000,100000), then --policy-services services of one
#             address (default 10000; 0: none), each udp and tcp, plus a
#             point without the file; in the test bed's topology only (no
#             firewall rules, no extra routes), and the selected audit again
#             beside Tailscale's chains and policy routing (tb_ts_install
#             nft new, tb_ts_routing peers), where its CGNAT drop blocks
#             every target
# Every scenario but policy also has R routes over the main table and tables 100-102
# with three ip rules (tests/bench/route-gen.py) and Tailscale's policy
# routing (rules 5210-5270, table 52), and the test bed's host/provider
# topology: eth0 a veth to a provider namespace owning 100.100.2.136.
# Defaults: S=15000 E=6 (300,008 nat rules), N=1,000,000, V=4096,
# KS=10000 KE=10 (112,500 service and endpoint chains), R=100,000.
#
# The policy scenario times three audits per point: `load`, the file present
# but not selected (every audit parses every policy file; the DMI strings
# match no provider), `audit`, the file selected with --policy (every
# address one target per protocol, each looked up, simulated and
# reported; all of them reachable), and `blocked`, the same beside
# Tailscale's rules (every target blocked, each with its trace and the
# exception --fix would add):
#   cgnatcheck --dns 100.100.2.136 --format json
#   cgnatcheck --dns 100.100.2.136 --policy bench-large --format json
#
# Measured, round-robin, each under `/usr/bin/time -v` (wall clock and
# maximum resident set size; median of N runs, default 5):
#   cgnatcheck --dns 100.100.2.136 --format json     the full audit
#   iptables-legacy-save | iptables-nft-save          the scenario's backend
#   nft --terse list ruleset, nft -j --terse list ruleset
#   nft list ruleset                                  nftables and kubenft
#                                                     scenarios: the only
#                                                     listing that fetches
#                                                     the sets' elements
#   ip route show table all
#   tests/bench/floor legacy | nft                    the kernel floor (issue
#                                                     20): what any reader of
#                                                     every rule pays (legacy:
#                                                     each table's
#                                                     GET_INFO + GET_ENTRIES;
#                                                     nf_tables: the chain list
#                                                     and one rule dump per
#                                                     chain, thrown away)
#   tests/bench/floor nft-chains                      kubenft: the chain list
#                                                     alone, what an audit
#                                                     pays before it knows a
#                                                     base chain
# Each scenario's table has a row per tool with the audit's ratio to it;
# a last table has a row per scenario and stock tool: audit, stock tool,
# floor, audit/stock, audit/floor.
# A tool whose first run takes longer than --slow-secs (default 60) runs
# --slow-runs times in all (default 1). Each run is capped at --timeout
# seconds (default 600) and reported as "> 600 s" when it hits it. The exact
# command lines are printed.
#
# --scale runs the scenarios (default legacy,nft) at 10%, 33% and 100% of the
# sizes (30k, 100k and 300k rules by default) and prints the time per 1,000
# rules of each tool. --check exits 1 when a target of issue 8 is missed:
#   * the audit's median wall time is below iptables-save's (legacy, nft) and
#     below `nft --terse list ruleset`'s (nft); nftables: below `nft list
#     ruleset`'s (--terse leaves the set's elements out: it never reads
#     what the audit has to look up, so it is shown, not held against it);
#   * the audit's median peak RSS is below 2x the size of the iptables-save
#     text at the default size (the smaller --scale points print the ratio:
#     the program's fixed few MiB weigh more there) (nftables: of the
#     `nft list ruleset` text, the only text with the
#     set's elements);
#   * the audit reports 100.100.2.136 blocked (Tailscale's CGNAT drop);
#   * with --scale: the audit's time per rule at the largest point is within
#     1.5x of that at the smallest.
#   issue 20, at the default size: the audit <= 0.25x iptables-nft-save
#   (nft), <= 0.5x iptables-legacy-save and <= 1.3x the legacy floor
#   (legacy), <= 0.2 s (kubenft); kubenft's peak RSS is held to the `nft
#   list ruleset` text. Every target is printed with met or MISSED.
#   policy: every `load` takes less than 0.5 s (the largest: 100,000
#   addresses; 10,000 services); the audits report the targets the file
#   makes (2 per address, none from `load`); from the second largest to the
#   largest address count, the selected audit's time and peak RSS per
#   address (over the point without the file) grow at most 1.5x, reachable
#   and blocked; at 100,000 addresses (200,002 targets) the selected audit
#   takes under 2 s and 256 MiB reachable, under 8 s and 256 MiB blocked
#   (its JSON report is 943 MB); `blocked` reports every target blocked.
#
# Then (not with --scale) tests/bench/collect-speed.sh: each collector alone
# against the stock tool reading the same state (nft_collect() and `nft
# list`, legacy_collect() and iptables-legacy-save, the routing dump against
# its budget), its targets judged by --check too; BENCH_SPEED=0 leaves it
# out, its BENCH_SPEED_* variables size it.
#
# Environment: CGNATCHECK (the binary; default ./cgnatcheck of the build
# tree), FLOOR (default tests/bench/floor of the build tree: make bench
# builds it, and run.sh runs `make tests/bench/floor` when it is missing),
# top_srcdir/top_builddir, and BENCH_SERVICES, BENCH_ENDPOINTS,
# BENCH_KUBE_SERVICES, BENCH_KUBE_ENDPOINTS,
# BENCH_ELEMENTS, BENCH_VMAP, BENCH_ROUTES, BENCH_RUNS, BENCH_SLOW_RUNS,
# BENCH_SLOW_SECS, BENCH_TIMEOUT, BENCH_SCENARIOS, BENCH_POLICY_ADDRESSES,
# BENCH_POLICY_SERVICES, BENCH_SETTLE (seconds of rest after removing a
# scenario's namespaces, default 3) for the options.
# Exit: 0 done (and with --check every target met), 1 a target missed, 2 bad
# usage, 77 skipped (not root), 99 the bench could not be built or a tool
# failed.
set -euo pipefail
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$bench_dir/../.." && pwd)}"
. "$top_srcdir/tests/lib/netns/lib.sh"

usage() {
	sed -n '3,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}

S=${BENCH_SERVICES:-15000}
E=${BENCH_ENDPOINTS:-6}
KS=${BENCH_KUBE_SERVICES:-10000}
KE=${BENCH_KUBE_ENDPOINTS:-10}
ELEMENTS=${BENCH_ELEMENTS:-1000000}
VMAP=${BENCH_VMAP:-4096}
ROUTES=${BENCH_ROUTES:-100000}
RUNS=${BENCH_RUNS:-5}
SLOW_RUNS=${BENCH_SLOW_RUNS:-1}
SLOW_SECS=${BENCH_SLOW_SECS:-60}
TIMEOUT=${BENCH_TIMEOUT:-600}
SCENARIOS=${BENCH_SCENARIOS:-}
SETTLE=${BENCH_SETTLE:-3}
POLICY_ADDRESSES=${BENCH_POLICY_ADDRESSES:-1000,10000,100000}
POLICY_SERVICES=${BENCH_POLICY_SERVICES:-10000}
SCALE=0 CHECK=0 OUT=

# value OPTION ARGS...: the option's value, or exit 2
value() {
	[ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
	printf '%s\n' "$2"
}
while [ $# -gt 0 ]; do
	case $1 in
	--services) S=$(value "$@"); shift ;;
	--endpoints) E=$(value "$@"); shift ;;
	--kube-services) KS=$(value "$@"); shift ;;
	--kube-endpoints) KE=$(value "$@"); shift ;;
	--elements) ELEMENTS=$(value "$@"); shift ;;
	--vmap) VMAP=$(value "$@"); shift ;;
	--routes) ROUTES=$(value "$@"); shift ;;
	--runs) RUNS=$(value "$@"); shift ;;
	--slow-runs) SLOW_RUNS=$(value "$@"); shift ;;
	--slow-secs) SLOW_SECS=$(value "$@"); shift ;;
	--timeout) TIMEOUT=$(value "$@"); shift ;;
	--scenarios) SCENARIOS=$(value "$@"); shift ;;
	--policy-addresses) POLICY_ADDRESSES=$(value "$@"); shift ;;
	--policy-services) POLICY_SERVICES=$(value "$@"); shift ;;
	--scale) SCALE=1 ;;
	--check) CHECK=1 ;;
	--out) OUT=$(value "$@"); shift ;;
	-h | --help) usage 0 ;;
	*) echo "run.sh: unknown option '$1'" >&2; usage 2 ;;
	esac
	shift
done
for v in S E KS KE ELEMENTS VMAP ROUTES RUNS SLOW_RUNS SLOW_SECS TIMEOUT SETTLE POLICY_SERVICES; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: $v must be a number, not '${!v}'" >&2; exit 2; }
done
((RUNS >= 1 && SLOW_RUNS >= 1 && S >= 1 && E >= 1 && KS >= 1 && KE >= 1 && ELEMENTS >= 5 && VMAP >= 1 && TIMEOUT >= 1)) ||
	{ echo "run.sh: sizes, runs and timeout must be positive (elements >= 5)" >&2; exit 2; }
IFS=, read -ra policy_addresses <<<"$POLICY_ADDRESSES"
for v in "${policy_addresses[@]}"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] && ((v <= 1000000)) ||
		{ echo "run.sh: --policy-addresses: '$v' is not a count of 1 to 1000000" >&2; exit 2; }
done
((POLICY_SERVICES <= 100000)) || { echo "run.sh: --policy-services: at most 100000" >&2; exit 2; }
if [ -z "$SCENARIOS" ]; then
	if [ "$SCALE" = 1 ]; then SCENARIOS=legacy,nft; else SCENARIOS=legacy,nft,nftables,kubenft,policy; fi
fi
IFS=, read -ra scenarios <<<"$SCENARIOS"
run_policy=0
rulesets=()
for s in "${scenarios[@]}"; do
	case $s in
	legacy | nft | nftables | kubenft) rulesets+=("$s") ;;
	policy) run_policy=1 ;;
	*) echo "run.sh: unknown scenario '$s' (legacy, nft, nftables, kubenft, policy)" >&2; exit 2 ;;
	esac
done

case $CGNATCHECK in /*) ;; *) CGNATCHECK="$PWD/$CGNATCHECK" ;; esac
: "${top_builddir:=$(cd "$(dirname "$CGNATCHECK")" && pwd)}"
: "${FLOOR:=$top_builddir/tests/bench/floor}"
case $FLOOR in /*) ;; *) FLOOR="$PWD/$FLOOR" ;; esac
# the floor program: built by `make bench` (and make check); else built here
if [ ! -x "$FLOOR" ] && [ -f "$top_builddir/Makefile" ]; then
	make -C "$top_builddir" tests/bench/floor >&2 || true
fi
# The host's own files (apt sources, leases, /etc/hosts) are not the
# benchmark's: their names, resolved through a namespace without a resolver,
# would add a 2 s wait to every audit. As in make check, an empty host root.
: "${CGNATCHECK_HOST_ROOT:=$top_srcdir/tests/data/empty-host}"
export CGNATCHECK_HOST_ROOT
tb_test_init python3 iptables-legacy-restore iptables-legacy-save iptables-nft-restore iptables-nft-save \
	nft timeout "$CGNATCHECK" "$FLOOR"
[ -x /usr/bin/time ] || t_skip "needs /usr/bin/time (Debian package time)"

tb_tmpdir W
if [ -n "$OUT" ]; then
	mkdir -p "$OUT" || exit 99
	OUT=$(cd "$OUT" && pwd)
else
	OUT=$W/results
	mkdir -p "$OUT"
fi
: >"$OUT/results.tsv"
: >"$OUT/meta.tsv"
mkdir -p "$W/dmi" "$W/local" "$W/state"

meta() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$OUT/meta.tsv"; }
say() { printf '%s\n' "$*" >&2; }
now() { printf '%s\n' "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# build_scenario KIND LABEL S ELEMENTS ROUTES
build_scenario() {
	local kind=$1 label=$2 s=$3 n=$4 r=$5 t0 form
	# the test bed's topology without its responder: no traffic is sent,
	# the audit only reads the kernel's state
	tb_topology "$label" "$label-prov"
	t0=$(now)
	case $kind in
	legacy | nft)
		python3 "$bench_dir/kube-gen.py" --services "$s" --endpoints "$E" >"$W/ruleset" 2>"$W/gen.err" ||
			{ cat "$W/gen.err" >&2; tb_die "kube-gen.py failed"; }
		tb_exec "$TB_HOST" "iptables-$kind-restore" -w <"$W/ruleset" || tb_die "iptables-$kind-restore failed"
		form=$kind
		;;
	nftables)
		python3 "$bench_dir/nft-gen.py" --elements "$n" --vmap "$VMAP" >"$W/ruleset" 2>"$W/gen.err" ||
			{ cat "$W/gen.err" >&2; tb_die "nft-gen.py failed"; }
		tb_exec "$TB_HOST" nft -f "$W/ruleset" || tb_die "nft -f failed"
		form=nftables
		;;
	kubenft)
		python3 "$bench_dir/kube-nft-gen.py" --services "$s" --endpoints "$KE" >"$W/ruleset" 2>"$W/gen.err" ||
			{ cat "$W/gen.err" >&2; tb_die "kube-nft-gen.py failed"; }
		tb_exec "$TB_HOST" nft -f "$W/ruleset" || tb_die "nft -f failed"
		form=nftables
		;;
	esac
	tb_ts_install "$form" new || tb_die "tb_ts_install $form new failed"
	tb_ts_routing peers || tb_die "tb_ts_routing failed"
	python3 "$bench_dir/route-gen.py" --routes "$r" --gateway "$TB_GW" >"$W/routes" ||
		tb_die "route-gen.py failed"
	tb_exec "$TB_HOST" ip -batch "$W/routes" || tb_die "ip -batch (routes) failed"
	say "$label: $(sed 's/^[a-z-]*: //' "$W/gen.err"), Tailscale ($form, new), $r routes: loaded in $(since "$t0") s"
	meta "$label" generator "$(sed 's/^[a-z-]*: //' "$W/gen.err")"
	meta "$label" load_s "$(since "$t0")"
	meta "$label" routes "$(tb_exec "$TB_HOST" ip route show table all | wc -l)"
	meta "$label" ip_rules "$(tb_exec "$TB_HOST" ip rule show | wc -l)"
}

# tool_argv KIND TOOL: the command line of TOOL in scenario KIND, in argv.
tool_argv() {
	case $2 in
	cgnatcheck)
		argv=(env "CGNATCHECK_HOST_ROOT=$CGNATCHECK_HOST_ROOT"
			"CGNATCHECK_POLICY_DIR=$top_srcdir/policies" "CGNATCHECK_POLICY_LOCAL_DIR=$W/local"
			"CGNATCHECK_DMI_DIR=$W/dmi" "CGNATCHECK_STATE_DIR=$W/state"
			"$CGNATCHECK" --dns 100.100.2.136 --format json) ;;
	iptables-save) argv=("iptables-$1-save") ;;
	floor) if [ "$1" = legacy ]; then argv=("$FLOOR" legacy); else argv=("$FLOOR" nft); fi ;;
	chain-list) argv=("$FLOOR" nft-chains) ;;
	nft-terse) argv=(nft --terse list ruleset) ;;
	nft-json) argv=(nft -j --terse list ruleset) ;;
	nft-full) argv=(nft list ruleset) ;;
	ip-route) argv=(ip route show table all) ;;
	policy-load | policy-audit | policy-blocked)
		# the point's file in the local policy directory ($policy_local)
		argv=(env "CGNATCHECK_HOST_ROOT=$CGNATCHECK_HOST_ROOT"
			"CGNATCHECK_POLICY_DIR=$top_srcdir/policies" "CGNATCHECK_POLICY_LOCAL_DIR=$policy_local"
			"CGNATCHECK_DMI_DIR=$W/dmi" "CGNATCHECK_STATE_DIR=$W/state"
			"$CGNATCHECK" --dns 100.100.2.136)
		[ "$2" = policy-load ] || argv+=(--policy bench-large)
		# policy-blocked runs in the namespace with Tailscale's rules (tool_ns)
		argv+=(--format json) ;;
	esac
}

tools_of() { # KIND
	case $1 in
	legacy | nft) echo cgnatcheck floor iptables-save nft-terse nft-json ip-route ;;
	nftables) echo cgnatcheck floor nft-terse nft-json nft-full ip-route ;;
	kubenft) echo cgnatcheck floor chain-list nft-full nft-terse ip-route ;;
	policy) echo policy-load policy-audit policy-blocked ;;
	policy-none) echo policy-load ;;
	esac
}

# tool_ns TOOL: the namespace it runs in.
tool_ns() {
	if [ "$1" = policy-blocked ]; then echo "$POLICY_TS_HOST"; else echo "$TB_HOST"; fi
}

# measure KIND LABEL: every tool, round-robin, RUNS rounds.
measure() {
	local kind=$1 label=$2 tool r st wall rss status tf out err shown ns
	local -a tools argv
	local -A limit=() count=() stop=()
	read -ra tools <<<"$(tools_of "$kind")"
	for tool in "${tools[@]}"; do limit[$tool]=$RUNS count[$tool]=0; done
	for ((r = 1; r <= RUNS; r++)); do
		for tool in "${tools[@]}"; do
			[ -z "${stop[$tool]:-}" ] || continue
			tool_argv "$kind" "$tool"
			tf=$W/time.txt out=$W/out.$tool err=$W/err.txt ns=$(tool_ns "$tool")
			if [ "$r" = 1 ]; then
				shown=$(printf '%q ' ip netns exec "$ns" /usr/bin/time -v -o "$tf" \
					timeout --foreground -k 10 "$TIMEOUT" "${argv[@]}")
				meta "$label" "cmd.$tool" "${shown% } >$out"
			fi
			: >"$tf"
			# In the background and waited for, so that a signal reaches
			# the trap (and its cleanup) at once.
			st=0
			tb_exec "$ns" /usr/bin/time -v -o "$tf" timeout --foreground -k 10 "$TIMEOUT" \
				"${argv[@]}" >"$out" 2>"$err" &
			wait $! || st=$?
			wall=$(sed -n 's/^.*Elapsed (wall clock) time.*: //p' "$tf" |
				awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
			rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$tf")
			if [ "$st" = 124 ] || [ "$st" = 137 ]; then
				status=timeout
			elif [ "$st" = 0 ] || { [[ $tool = cgnatcheck || $tool = policy-* ]] && ((st <= 2)); }; then
				status=ok
			else
				status="error:$st"
				say "$label: ${argv[*]} failed (exit $st):"
				head -n 20 "$err" >&2
			fi
			[ -n "$wall" ] || wall=0
			[ -n "$rss" ] || rss=0
			printf '%s\t%s\t%d\t%s\t%s\t%s\n' "$label" "$tool" "$r" "$wall" "$rss" "$status" >>"$OUT/results.tsv"
			say "$label: $tool run $r: $wall s, $rss KB${status#ok}"
			count[$tool]=$((count[$tool] + 1))
			if [ "${count[$tool]}" = 1 ] && [ "$status" = ok ]; then
				# the first output: its size, and the audit's report
				meta "$label" "bytes.$tool" "$(wc -c <"$out")"
				case $tool in
				cgnatcheck)
					cp "$out" "$OUT/$label.cgnatcheck.json"
					meta "$label" audit_exit "$st" ;;
				iptables-save) meta "$label" rules "$(grep -c '^-A' "$out" || true)" ;;
				floor)
					meta "$label" floor_out "$(head -n 1 "$out")"
					# kubenft: its size is the rules the floor read
					# (kube-proxy's and Tailscale's)
					[ "$kind" != kubenft ] ||
						meta "$label" rules "$(sed -n 's/^nft: [0-9]* chains, \([0-9]*\) rules.*/\1/p' "$out")" ;;
				policy-*)
					# the targets it reported (one "address" key each)
					meta "$label" "targets.$tool" "$(grep -c '"address":' "$out" || true)"
					meta "$label" "file_targets.$tool" "$(grep -c '"origin":"policy:bench-large"' "$out" || true)"
					meta "$label" "blocked.$tool" "$(grep -c '"verdict":"blocked"' "$out" || true)"
					meta "$label" "exit.$tool" "$st" ;;
				esac
			fi
			if [ "$status" != ok ]; then
				stop[$tool]=1
			elif [ "${count[$tool]}" = 1 ] && awk -v w="$wall" -v s="$SLOW_SECS" 'BEGIN { exit !(w > s) }'; then
				limit[$tool]=$SLOW_RUNS
			fi
			((count[$tool] < limit[$tool])) || stop[$tool]=1
		done
	done
	rm -f "$W"/out.*
}

teardown() {
	ip netns del "$TB_HOST" 2>/dev/null || true
	ip netns del "$TB_PROV" 2>/dev/null || true
	# the kernel frees a namespace's rules and routes in the background
	sleep "$SETTLE"
}

# the scale points: percentages of the sizes
if [ "$SCALE" = 1 ]; then points=(10 33 100); else points=(100); fi
meta _ runs "$RUNS"
meta _ slow "$SLOW_SECS $SLOW_RUNS"
meta _ timeout "$TIMEOUT"
meta _ cgnatcheck "$CGNATCHECK"
meta _ kernel "$(uname -r)"
meta _ tools "$(iptables-legacy --version 2>/dev/null | head -1); $(nft --version); $(ip -V)"
say "cgnatcheck benchmark: $CGNATCHECK; kernel $(uname -r); $RUNS runs (median); slow tools (first run > ${SLOW_SECS} s): $SLOW_RUNS; timeout ${TIMEOUT} s"
for p in "${points[@]}"; do
	s=$(((S * p + 50) / 100)) n=$(((ELEMENTS * p + 50) / 100)) r=$(((ROUTES * p + 50) / 100))
	ks=$(((KS * p + 50) / 100))
	((s >= 1)) || s=1
	((ks >= 1)) || ks=1
	((n >= 5)) || n=5
	for kind in ${rulesets[@]+"${rulesets[@]}"}; do
		if [ "$SCALE" = 1 ]; then label="$kind-$p"; else label=$kind; fi
		meta "$label" kind "$kind"
		meta "$label" point "$p"
		if [ "$kind" = kubenft ]; then
			meta "$label" params "KS=$ks KE=$KE routes=$r"
			build_scenario "$kind" "$label" "$ks" "$n" "$r"
		else
			meta "$label" params "S=$s E=$E elements=$n vmap=$VMAP routes=$r"
			build_scenario "$kind" "$label" "$s" "$n" "$r"
		fi
		measure "$kind" "$label"
		# the audit's report must be the real one: 100.100.2.136 and a verdict
		python3 - "$OUT/$label.cgnatcheck.json" <<'EOF' >>"$OUT/meta.tsv" || say "$label: the audit's JSON is missing or invalid"
import json, sys
label = sys.argv[1].rsplit("/", 1)[1].rsplit(".cgnatcheck.json", 1)[0]
r = json.load(open(sys.argv[1]))
v = ["%s/%s %s" % (t["proto"], t["port"], t["verdict"]) for t in r["targets"] if t["address"] == "100.100.2.136"]
print("%s\taudit_verdicts\t%s" % (label, ", ".join(v) if v else "none"))
EOF
		teardown
	done
done

# policy: two namespace pairs for every point (Tailscale's rules in one), a
# file per point
if [ "$run_policy" = 1 ]; then
	tb_topology policy-ts policy-ts-prov
	tb_ts_install nft new || tb_die "tb_ts_install nft new failed"
	tb_ts_routing peers || tb_die "tb_ts_routing failed"
	POLICY_TS_HOST=$TB_HOST POLICY_TS_PROV=$TB_PROV
	tb_topology policy policy-prov
	ppoints=(none)
	for a in "${policy_addresses[@]}"; do ppoints+=("a$a"); done
	((POLICY_SERVICES == 0)) || ppoints+=("s$POLICY_SERVICES")
	for pt in "${ppoints[@]}"; do
		label=policy-$pt policy_local=$W/policy/$pt
		mkdir -p "$policy_local"
		case $pt in
		none) gen=() ;;
		a*) gen=(--addresses "${pt#a}") ;;
		s*) gen=(--services "${pt#s}") ;;
		esac
		if [ "$pt" != none ]; then
			python3 "$bench_dir/policy-gen.py" --name bench-large "${gen[@]}" >"$policy_local/bench-large.conf" \
				2>"$W/gen.err" || { cat "$W/gen.err" >&2; tb_die "policy-gen.py failed"; }
			say "$label: $(sed 's/^[a-z-]*: //' "$W/gen.err")"
		fi
		meta "$label" kind policy
		meta "$label" point "$pt"
		meta "$label" addresses "$([[ $pt = a* ]] && echo "${pt#a}" || echo 0)"
		meta "$label" services "$([[ $pt = s* ]] && echo "${pt#s}" || echo 0)"
		meta "$label" bytes "$(cat "$policy_local/bench-large.conf" 2>/dev/null | wc -c)"
		if [ "$pt" = none ]; then measure policy-none "$label"; else measure policy "$label"; fi
		rm -rf "$policy_local"
	done
	ip netns del "$POLICY_TS_HOST" 2>/dev/null || true
	ip netns del "$POLICY_TS_PROV" 2>/dev/null || true
	teardown
fi

args=("$OUT")
[ "$SCALE" = 1 ] && args+=(--scale)
[ "$CHECK" = 1 ] && args+=(--check)
status=0
python3 "$bench_dir/report.py" "${args[@]}" || status=$?

# The collectors one at a time against the stock tools (nft_collect,
# legacy_collect, the routing dump): tests/bench/collect-speed.sh, sized by
# its BENCH_SPEED_* variables; BENCH_SPEED=0 leaves it out.
if [ "${BENCH_SPEED:-1}" != 0 ] && [ "$SCALE" = 0 ]; then
	speed=(--runs "$RUNS" --out "$OUT")
	[ "$CHECK" = 1 ] && speed+=(--check)
	st=0
	bash "$bench_dir/collect-speed.sh" "${speed[@]}" || st=$?
	# a failure (99) outweighs a missed target (1)
	((st <= status)) || status=$st
fi
exit "$status"
