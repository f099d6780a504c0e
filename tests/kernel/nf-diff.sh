#!/usr/bin/env bash
# The kernel is the oracle: random rulesets (tests/kernel/nf-gen.py) loaded into the
# test bed's host namespace through each backend, and for every ruleset a set
# of real flows (DNS/metadata/NTP replies from provider addresses, traffic over
# a second interface from an overlay-like peer, inbound health checks). The
# simulator's verdict for each flow must equal what the kernel did; an
# `uncertain` verdict counts as a disagreement (the grammar uses supported
# matches only).
#
#   NF_DIFF_RULESETS   rulesets per backend (default 190; 11 flows each)
#   NF_DIFF_SEED       first seed (default fixed, so CI is reproducible; set it to explore)
#   NF_DIFF_BACKENDS   default "legacy nft nftables"
#   NF_DIFF_LAZY_RULESETS  nftables rulesets simulated a second time with every
#                      eligible set lazy (CGNATCHECK_SET_DUMP_MAX=0: lookups ask
#                      the kernel per key, src/collect/nft-setget.c); default 60
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
SIM="$top_builddir/tests/kernel/nf-simulate"
GEN="$top_srcdir/tests/kernel/nf-gen.py"
tb_test_init python3 conntrack "$SIM"

rulesets=${NF_DIFF_RULESETS:-190}
seed0=${NF_DIFF_SEED:-211767}
backends=${NF_DIFF_BACKENDS:-legacy nft nftables}
lazy_rulesets=${NF_DIFF_LAZY_RULESETS:-60}
echo "nf-diff: seed $seed0, $rulesets rulesets per backend ($backends)," \
	"$lazy_rulesets with lazy sets" >&2

tb_scenario
tb_host_listen 8080/tcp 5353/udp
# A second interface, ovl0, to a peer owning 100.69.1.2 (an overlay peer that
# is reachable for real, unlike the tun): replies from inside 100.64.0.0/10
# on an interface other than eth0 and tailscale0.
tb_ns_add PEER peer
ip -n "$TB_HOST" link add ovl0 type veth peer name ovl0p netns "$PEER"
ip -n "$TB_HOST" addr add 100.70.0.1/24 dev ovl0
ip -n "$PEER" addr add 100.70.0.2/24 dev ovl0p
ip -n "$PEER" addr add 100.69.1.2/32 dev lo
ip -n "$TB_HOST" link set ovl0 up
ip -n "$PEER" link set ovl0p up
ip -n "$TB_HOST" route add 100.69.1.2/32 via 100.70.0.2 dev ovl0
ip -n "$PEER" route add default via 100.70.0.1
tb_wait_link "$TB_HOST" ovl0
tb_wait_link "$PEER" ovl0p
tb_echo "$PEER" 53/udp 53/tcp
tb_tmpdir WORK

# id dir local remote proto local-port remote-port dev | how the kernel is asked
FLOWS=(
	"dns-udp out $TB_HOST_IP 100.100.2.136 udp 40001 53 eth0|$TB_HOST 100.100.2.136 53 udp"
	"dns-tcp out $TB_HOST_IP 100.100.2.136 tcp 40002 53 eth0|$TB_HOST 100.100.2.136 53 tcp"
	"dns2 out $TB_HOST_IP 100.100.2.138 udp 40003 53 eth0|$TB_HOST 100.100.2.138 53 udp"
	"meta out $TB_HOST_IP 100.100.100.200 tcp 40004 80 eth0|$TB_HOST 100.100.100.200 80 tcp"
	"ntp out $TB_HOST_IP 100.100.61.88 udp 40005 123 eth0|$TB_HOST 100.100.61.88 123 udp"
	"huawei out $TB_HOST_IP 100.125.1.250 udp 40006 53 eth0|$TB_HOST 100.125.1.250 53 udp"
	"gw out $TB_HOST_IP $TB_GW udp 40007 53 eth0|$TB_HOST $TB_GW 53 udp"
	"peer out 100.70.0.1 100.69.1.2 tcp 40008 53 ovl0|$TB_HOST 100.69.1.2 53 tcp"
	"hc in $TB_HOST_IP 100.100.2.136 tcp 8080 40009 eth0|$TB_PROV --from 100.100.2.136 $TB_HOST_IP 8080 tcp"
	"hc-udp in $TB_HOST_IP 100.125.1.250 udp 5353 40010 eth0|$TB_PROV --from 100.125.1.250 $TB_HOST_IP 5353 udp"
	"hc-peer in 100.70.0.1 100.69.1.2 tcp 8080 40011 ovl0|$PEER --from 100.69.1.2 100.70.0.1 8080 tcp"
)

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
	tb_exec "$TB_HOST" conntrack -F >/dev/null 2>&1
	if [ "$1" = legacy ]; then
		tb_exec "$TB_HOST" iptables-legacy-restore <<<"$EMPTY_LEGACY"
	else
		tb_exec "$TB_HOST" nft flush ruleset
	fi
}

load_ruleset() { # BACKEND FILE
	case $1 in
	legacy) tb_exec "$TB_HOST" iptables-legacy-restore <"$2" ;;
	nft) tb_exec "$TB_HOST" iptables-nft-restore <"$2" ;;
	nftables) tb_exec "$TB_HOST" nft -f "$2" ;;
	esac
}

probe() { # TIMEOUT-MS NS [opts] ADDR PORT PROTO -> word
	local ms=$1 ns=$2
	shift 2
	tb_exec "$ns" "$PROBE" --timeout "$ms" "$@" 2>/dev/null || true
}
PROBE=$(tb_prog cg-probe) || exit 99

cases=0
loadfail=0
# run_pass BACKEND RULESETS LABEL [ENV=VALUE...]: the rulesets of BACKEND,
# simulated with the environment given
run_pass() {
	local backend=$1 rulesets=$2 label=$3 kind bcases=0 i seed rules pids k id verdict rest word want
	shift 3
	mkdir -p "$WORK/$backend"
	if [ "$backend" = nftables ]; then kind=nft; else kind=iptables; fi
	python3 "$GEN" "$kind" "$seed0" "$rulesets" "$WORK/$backend"
	for ((i = 0; i < rulesets; i++)); do
		seed=$((seed0 + i))
		rules="$WORK/$backend/$seed.rules"
		clear_firewall "$backend"
		if ! load_ruleset "$backend" "$rules" 2>"$WORK/load.err"; then
			sed -n "$(grep -o 'line [0-9]*' "$WORK/load.err" | head -1 | cut -d' ' -f2)p" "$rules" >>"$WORK/load.err" 2>/dev/null || true
			# The grammar should only write loadable rules; a few that
			# the tools refuse are tolerated, many are a generator bug.
			loadfail=$((loadfail + 1))
			echo "note: $backend seed $seed: ruleset refused: $(head -c 300 "$WORK/load.err")" >&2
			continue
		fi
		printf '%s\n' "${FLOWS[@]}" | cut -d'|' -f1 >"$WORK/flows"
		if ! tb_exec "$TB_HOST" env "$@" "$SIM" <"$WORK/flows" >"$WORK/sim" 2>"$WORK/sim.err"; then
			t_fail "$label seed $seed: nf-simulate failed: $(cat "$WORK/sim.err")"
			continue
		fi
		# the kernel: all flows at once, short deadline
		pids=()
		for k in "${!FLOWS[@]}"; do
			# shellcheck disable=SC2086
			probe 150 ${FLOWS[$k]#*|} >"$WORK/k$k" &
			pids+=($!)
		done
		wait "${pids[@]}" 2>/dev/null || true
		k=0
		while read -r id verdict rest; do
			word=$(cat "$WORK/k$k")
			want=blocked
			[ "$word" = reply ] && want=reachable
			if [ "$want" != "$verdict" ] && [ "$word" = timeout ]; then
				# a loaded machine can miss a short deadline: ask again
				# shellcheck disable=SC2086
				word=$(probe 3000 ${FLOWS[$k]#*|})
				[ "$word" = reply ] && want=reachable
			fi
			cases=$((cases + 1))
			bcases=$((bcases + 1))
			if [ "$want" != "$verdict" ]; then
				t_fail "$label seed $seed flow $id: kernel $word, simulator $verdict ($rest)"
				echo "--- ruleset ($backend, seed $seed; rerun: NF_DIFF_SEED=$seed NF_DIFF_RULESETS=1 NF_DIFF_BACKENDS=$backend):" >&2
				cat "$rules" >&2
				echo "---" >&2
			fi
			k=$((k + 1))
		done <"$WORK/sim"
		[ "$k" -eq "${#FLOWS[@]}" ] || t_fail "$label seed $seed: simulator answered $k of ${#FLOWS[@]} flows"
	done
	echo "nf-diff: $label: $bcases cases" >&2
	t_ok "$label: $bcases cases compared"
	clear_firewall "$backend"
}
for backend in $backends; do
	run_pass "$backend" "$rulesets" "$backend"
done
# Every named set lazy: set lookups are the kernel's answers to GETSETELEM
# per key, and must still agree with what the kernel does to packets.
if [ "$lazy_rulesets" -gt 0 ]; then
	run_pass nftables "$lazy_rulesets" "nftables-lazy" CGNATCHECK_SET_DUMP_MAX=0
fi
echo "nf-diff: $cases cases in all, $loadfail rulesets refused by the tools" >&2
if [ "$loadfail" -gt $((rulesets / 10 + 1)) ]; then
	t_fail "$loadfail rulesets were refused by the tools: the generator writes invalid rules"
fi
t_done
