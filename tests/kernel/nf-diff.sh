#!/usr/bin/env bash
# The kernel is the oracle: random rulesets (tests/kernel/nf-gen.py) loaded into the
# test bed's host namespace through each backend, and for every ruleset a set
# of real flows (DNS/metadata/NTP replies from provider addresses, traffic over
# a second interface from an overlay-like peer, inbound health checks). The
# simulator's verdict for each flow must equal what the kernel did; an
# `uncertain` verdict counts as a disagreement (the grammar uses supported
# matches only).
#
# The rulesets of each backend are split between NF_DIFF_JOBS test beds of
# their own (namespaces host<N>, prov<N>, peer<N>) that run at once: most of
# the time goes to waiting for the probes that the firewall drops.
#
#   NF_DIFF_RULESETS   rulesets per backend (default 190; 11 flows each)
#   NF_DIFF_SEED       first seed (default fixed, so CI is reproducible; set it to explore)
#   NF_DIFF_BACKENDS   default "legacy nft nftables"
#   NF_DIFF_LAZY_RULESETS  of the nftables rulesets, how many are simulated a
#                      second time with every eligible set lazy
#                      (CGNATCHECK_SET_DUMP_MAX=0: lookups ask the kernel per
#                      key, src/collect/nft-setget.c) and every chain but
#                      the base chains read only when a packet reaches it
#                      (NF_SIMULATE_LAZY=1 CGNATCHECK_NFT_LAZY_CHAINS=0,
#                      src/collect/nft.c) and held to the same kernel
#                      verdicts; default 60
#   NF_DIFF_JOBS       test beds per backend (default 2)
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
SIM="$top_builddir/tests/kernel/nf-simulate"
GEN="$top_srcdir/tests/kernel/nf-gen.py"
tb_test_init python3 conntrack "$SIM"

rulesets=${NF_DIFF_RULESETS:-190}
seed0=${NF_DIFF_SEED:-211767}
backends=${NF_DIFF_BACKENDS:-legacy nft nftables}
lazy_rulesets=${NF_DIFF_LAZY_RULESETS:-60}
jobs=${NF_DIFF_JOBS:-2}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "ERROR: NF_DIFF_JOBS must be a positive number" >&2; exit 99; }
echo "nf-diff: seed $seed0, $rulesets rulesets per backend ($backends)," \
	"$lazy_rulesets nftables ones with lazy sets too; $jobs test beds per backend" >&2
tb_tmpdir WORK
PROBE=$(tb_prog cg-probe) || exit 99

# bed N: the test bed's host and provider (tb_topology, the provider's
# responder), the host's listeners for inbound flows, and a second
# interface, ovl0, to a peer owning 100.69.1.2 (an overlay peer that is
# reachable for real, unlike the tun): replies from inside 100.64.0.0/10 on
# an interface other than eth0 and tailscale0. Its namespaces' names in
# BED_HOST[N], BED_PROV[N], BED_PEER[N].
BED_HOST=() BED_PROV=() BED_PEER=()
bed() {
	local n=$1 peer
	tb_topology "host$n" "prov$n"
	tb_echo "$TB_PROV" 53/udp 53/tcp 80/tcp 123/udp || tb_die "the provider's responder did not start"
	tb_host_listen 8080/tcp 5353/udp || tb_die "the host's listener did not start"
	tb_ns_add peer "peer$n"
	ip -n "$TB_HOST" link add ovl0 type veth peer name ovl0p netns "$peer"
	ip -n "$TB_HOST" addr add 100.70.0.1/24 dev ovl0
	ip -n "$peer" addr add 100.70.0.2/24 dev ovl0p
	ip -n "$peer" addr add 100.69.1.2/32 dev lo
	ip -n "$TB_HOST" link set ovl0 up
	ip -n "$peer" link set ovl0p up
	ip -n "$TB_HOST" route add 100.69.1.2/32 via 100.70.0.2 dev ovl0
	ip -n "$peer" route add default via 100.70.0.1
	tb_wait_link "$TB_HOST" ovl0 || tb_die "ovl0 did not come up"
	tb_wait_link "$peer" ovl0p || tb_die "ovl0p did not come up"
	tb_echo "$peer" 53/udp 53/tcp || tb_die "the peer's responder did not start"
	BED_HOST[n]=$TB_HOST BED_PROV[n]=$TB_PROV BED_PEER[n]=$peer
}

# flows N: the flows of bed N, one a line:
# id dir local remote proto local-port remote-port dev | how the kernel is asked
flows() {
	local h=${BED_HOST[$1]} p=${BED_PROV[$1]} e=${BED_PEER[$1]}
	FLOWS=(
		"dns-udp out $TB_HOST_IP 100.100.2.136 udp 40001 53 eth0|$h 100.100.2.136 53 udp"
		"dns-tcp out $TB_HOST_IP 100.100.2.136 tcp 40002 53 eth0|$h 100.100.2.136 53 tcp"
		"dns2 out $TB_HOST_IP 100.100.2.138 udp 40003 53 eth0|$h 100.100.2.138 53 udp"
		"meta out $TB_HOST_IP 100.100.100.200 tcp 40004 80 eth0|$h 100.100.100.200 80 tcp"
		"ntp out $TB_HOST_IP 100.100.61.88 udp 40005 123 eth0|$h 100.100.61.88 123 udp"
		"huawei out $TB_HOST_IP 100.125.1.250 udp 40006 53 eth0|$h 100.125.1.250 53 udp"
		"gw out $TB_HOST_IP $TB_GW udp 40007 53 eth0|$h $TB_GW 53 udp"
		"peer out 100.70.0.1 100.69.1.2 tcp 40008 53 ovl0|$h 100.69.1.2 53 tcp"
		"hc in $TB_HOST_IP 100.100.2.136 tcp 8080 40009 eth0|$p --from 100.100.2.136 $TB_HOST_IP 8080 tcp"
		"hc-udp in $TB_HOST_IP 100.125.1.250 udp 5353 40010 eth0|$p --from 100.125.1.250 $TB_HOST_IP 5353 udp"
		"hc-peer in 100.70.0.1 100.69.1.2 tcp 8080 40011 ovl0|$e --from 100.69.1.2 100.70.0.1 8080 tcp"
	)
}

# Empty legacy tables (what a previous ruleset may have used), in one call.
EMPTY_LEGACY='*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT'

clear_firewall() { # BACKEND
	# Connections of the previous ruleset must not make this one's first
	# packet ESTABLISHED (a reused ephemeral port would).
	tb_exec "$HOST" conntrack -F >/dev/null 2>&1
	if [ "$1" = legacy ]; then
		tb_exec "$HOST" iptables-legacy-restore <<<"$EMPTY_LEGACY"
	else
		tb_exec "$HOST" nft flush ruleset
	fi
}

load_ruleset() { # BACKEND FILE
	case $1 in
	legacy) tb_exec "$HOST" iptables-legacy-restore <"$2" ;;
	nft) tb_exec "$HOST" iptables-nft-restore <"$2" ;;
	nftables) tb_exec "$HOST" nft -f "$2" ;;
	esac
}

probe() { # TIMEOUT-MS NS [opts] ADDR PORT PROTO -> word
	local ms=$1 ns=$2
	shift 2
	tb_exec "$ns" "$PROBE" --timeout "$ms" "$@" 2>/dev/null || true
}

# compare LABEL SEED RULES K VERDICT WORD REST: one flow's verdict against
# the kernel's word
compare() {
	local label=$1 seed=$2 rules=$3 k=$4 verdict=$5 word=$6 rest=$7 want=blocked
	[ "$word" = reply ] && want=reachable
	if [ "$want" != "$verdict" ]; then
		t_fail "$label seed $seed flow ${FLOWS[$k]%% *}: kernel $word, simulator $verdict ($rest)"
		echo "--- ruleset ($backend, seed $seed; rerun: NF_DIFF_SEED=$seed NF_DIFF_RULESETS=1 NF_DIFF_BACKENDS=$backend):" >&2
		cat "$rules" >&2
		echo "---" >&2
	fi
}

# run_pass BACKEND BED FIRST COUNT: rulesets FIRST..FIRST+COUNT-1 (counted
# from seed0) of BACKEND in bed BED; the nftables ones below
# lazy_rulesets simulated a second time with every set lazy
run_pass() {
	local backend=$1 n=$2 first=$3 count=$4 kind dir i seed rules pids k verdict rest word lazy_run
	local cases=0 lazy_cases=0 loadfail=0 lazy_loadfail=0 definite=0
	local -a verdicts rests lazy_verdicts lazy_rests
	HOST=${BED_HOST[n]}
	flows "$n"
	dir="$WORK/$backend.$n"
	mkdir -p "$dir"
	if [ "$backend" = nftables ]; then kind=nft; else kind=iptables; fi
	python3 "$GEN" "$kind" "$((seed0 + first))" "$count" "$dir"
	printf '%s\n' "${FLOWS[@]}" | cut -d'|' -f1 >"$dir/flows"
	# the probes by namespace: "K ARGS..." lines in probes.I for PROBE_NS[I]
	local -a probe_ns=()
	local pns pi
	for k in "${!FLOWS[@]}"; do
		rest=${FLOWS[k]#*|}
		pns=${rest%% *}
		for pi in "${!probe_ns[@]}"; do [ "${probe_ns[pi]}" = "$pns" ] && break; done
		if [ "${#probe_ns[@]}" = 0 ] || [ "${probe_ns[pi]}" != "$pns" ]; then
			pi=${#probe_ns[@]}
			probe_ns+=("$pns")
			: >"$dir/probes.$pi"
		fi
		echo "$k ${rest#* }" >>"$dir/probes.$pi"
	done
	for ((i = first; i < first + count; i++)); do
		seed=$((seed0 + i))
		rules="$dir/$seed.rules"
		lazy_run=false
		[ "$backend" = nftables ] && ((i < lazy_rulesets)) && lazy_run=true
		clear_firewall "$backend"
		if ! load_ruleset "$backend" "$rules" 2>"$dir/load.err"; then
			sed -n "$(grep -o 'line [0-9]*' "$dir/load.err" | head -1 | cut -d' ' -f2)p" "$rules" >>"$dir/load.err" 2>/dev/null || true
			# The grammar should only write loadable rules; a few that
			# the tools refuse are tolerated, many are a generator bug.
			loadfail=$((loadfail + 1))
			$lazy_run && lazy_loadfail=$((lazy_loadfail + 1))
			echo "note: $backend seed $seed: ruleset refused: $(head -c 300 "$dir/load.err")" >&2
			continue
		fi
		if ! tb_exec "$HOST" "$SIM" <"$dir/flows" >"$dir/sim" 2>"$dir/sim.err"; then
			t_fail "$backend seed $seed: nf-simulate failed: $(cat "$dir/sim.err")"
			continue
		fi
		verdicts=() rests=() lazy_verdicts=() lazy_rests=()
		while read -r _ verdict rest; do
			verdicts+=("$verdict") rests+=("$rest")
		done <"$dir/sim"
		if [ "${#verdicts[@]}" -ne "${#FLOWS[@]}" ]; then
			t_fail "$backend seed $seed: simulator answered ${#verdicts[@]} of ${#FLOWS[@]} flows"
			continue
		fi
		if $lazy_run; then
			# Every named set lazy: set lookups are the kernel's answers
			# to GETSETELEM per key; every regular chain read when a
			# packet reaches it. Both must still agree with what the
			# kernel does to packets (the same ruleset, the same flows).
			if ! tb_exec "$HOST" env CGNATCHECK_SET_DUMP_MAX=0 NF_SIMULATE_LAZY=1 CGNATCHECK_NFT_LAZY_CHAINS=0 \
				"$SIM" <"$dir/flows" >"$dir/sim" \
				2>"$dir/sim.err"; then
				t_fail "nftables-lazy seed $seed: nf-simulate failed: $(cat "$dir/sim.err")"
				lazy_run=false
			else
				while read -r _ verdict rest; do
					lazy_verdicts+=("$verdict") lazy_rests+=("$rest")
				done <"$dir/sim"
				if [ "${#lazy_verdicts[@]}" -ne "${#FLOWS[@]}" ]; then
					t_fail "nftables-lazy seed $seed: simulator answered ${#lazy_verdicts[@]} of ${#FLOWS[@]} flows"
					lazy_run=false
				fi
			fi
		fi
		# the kernel: all flows at once, short deadline (one `ip netns exec`
		# per namespace starts its probes)
		pids=()
		for pi in "${!probe_ns[@]}"; do
			# shellcheck disable=SC2016 # expanded by the inner shell
			tb_exec "${probe_ns[pi]}" bash -c 'while read -r k args; do
				"$0" --timeout 150 $args >"$1/k$k" 2>/dev/null &
			done <"$2"; wait' "$PROBE" "$dir" "$dir/probes.$pi" &
			pids+=($!)
		done
		wait "${pids[@]}" 2>/dev/null || true
		for k in "${!FLOWS[@]}"; do
			word=; read -r word <"$dir/k$k" || true
			if [ "$word" = timeout ] && { [ "${verdicts[k]}" != blocked ] ||
				{ $lazy_run && [ "${lazy_verdicts[k]}" != blocked ]; }; }; then
				# a loaded machine can miss a short deadline: ask again
				# shellcheck disable=SC2086
				word=$(probe 3000 ${FLOWS[$k]#*|})
			fi
			compare "$backend" "$seed" "$rules" "$k" "${verdicts[k]}" "$word" "${rests[k]}"
			cases=$((cases + 1))
			case ${verdicts[k]} in reachable | blocked) definite=$((definite + 1)) ;; esac
			if $lazy_run; then
				compare nftables-lazy "$seed" "$rules" "$k" "${lazy_verdicts[k]}" "$word" "${lazy_rests[k]}"
				lazy_cases=$((lazy_cases + 1))
			fi
		done
	done
	clear_firewall "$backend"
	echo "$cases $lazy_cases $loadfail $lazy_loadfail $definite" >"$WORK/counts.$backend.$n"
	echo "nf-diff: $backend, bed $n: rulesets $first..$((first + count - 1)), $cases cases" \
		"($lazy_cases with lazy sets), $loadfail refused" >&2
}

# the beds, one per job: made here, so that the test's cleanup has them
nbeds=0
for backend in $backends; do
	nbeds=$((nbeds + jobs))
done
for ((n = 0; n < nbeds; n++)); do
	bed "$n"
done

# the jobs: each backend's rulesets in JOBS slices
n=0
for backend in $backends; do
	for ((j = 0; j < jobs; j++)); do
		first=$((rulesets * j / jobs))
		count=$((rulesets * (j + 1) / jobs - first))
		if ((count > 0)); then
			tb_spawn "$backend $first..$((first + count - 1))" run_pass "$backend" "$n" "$first" "$count"
		fi
		n=$((n + 1))
	done
done
tb_join

# the totals: every flow of every ruleset the tools loaded compared, per
# backend
flows 0
declare -A total=() refused=() definite=()
lazy_total=0 lazy_refused=0 loadfail=0 all=0
for f in "$WORK"/counts.*; do
	[ -e "$f" ] || continue
	b=${f#"$WORK"/counts.}
	b=${b%.*}
	read -r c l r lr d <"$f"
	total[$b]=$((${total[$b]:-0} + c))
	definite[$b]=$((${definite[$b]:-0} + d))
	refused[$b]=$((${refused[$b]:-0} + r))
	lazy_total=$((lazy_total + l))
	lazy_refused=$((lazy_refused + lr))
	loadfail=$((loadfail + r))
	all=$((all + c + l))
done
for backend in $backends; do
	# the share decided definitely (reachable or blocked, not uncertain)
	echo "nf-diff: $backend: ${definite[$backend]:-0} of ${total[$backend]:-0} flows decided definitely" \
		"($(awk -v d="${definite[$backend]:-0}" -v t="${total[$backend]:-0}" \
			'BEGIN { printf "%.1f%%", t ? 100 * d / t : 0 }'))" >&2
	t_expect "$backend: every flow of every ruleset compared" \
		"$(((rulesets - ${refused[$backend]:-0}) * ${#FLOWS[@]}))" "${total[$backend]:-0}"
done
case " $backends " in
*" nftables "*)
	want_lazy=$((lazy_rulesets < rulesets ? lazy_rulesets : rulesets))
	t_expect "nftables-lazy: every flow of the first $want_lazy rulesets compared" \
		"$(((want_lazy - lazy_refused) * ${#FLOWS[@]}))" "$lazy_total" ;;
esac
echo "nf-diff: $all cases in all, $loadfail rulesets refused by the tools" >&2
if [ "$loadfail" -gt $((rulesets / 10 + 1)) ]; then
	t_fail "$loadfail rulesets were refused by the tools: the generator writes invalid rules"
fi
t_done
