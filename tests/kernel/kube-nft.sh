#!/usr/bin/env bash
# kube-proxy's nftables mode beside Tailscale, judged by the kernel (issue
# 14's "kube-proxy's nftables mode" case; issue 20's ruleset): the ruleset
# tests/bench/kube-nft-gen.py writes (table ip kube-proxy: base chains at
# dstnat - 10 / dstnat / srcnat, the service-ips verdict map, a chain per
# service choosing its endpoint with numgen, a chain per endpoint with its
# dnat, the no-endpoint-services map and reject-chain, cluster-ips-check),
# small (40 services x 3 endpoints, the last without endpoints), plus two
# services whose one endpoint lives in the provider's namespace, and
# Tailscale's nftables tables, in the test bed's host namespace.
#
# Flows, each sent for real (cg-probe) and simulated (nf-simulate, the
# audit's simulator on the collected ruleset): DNS to 100.100.2.136 (udp,
# tcp); a cluster IP DNATed to the provider's gateway address (reachable);
# a cluster IP DNATed to 100.100.2.136:53 (its reply comes from the CGNAT
# range: Tailscale's drop sees it before the reply is un-NATed); a cluster
# IP without endpoints (kube-proxy's reject-chain); a cluster IP on a port
# it does not serve (cluster-ips-check's reject); the inbound health check
# from 100.100.2.136. The audit (--dns 100.100.2.136) and the simulator
# must give the kernel's verdict for every flow (the simulator may say
# uncertain: counted, never a contradiction), before and after
# `cgnatcheck --fix`. No contradiction is allowed.
#
# svc-cgnat is the case the simulator once got wrong: it built a flow's
# reply from the flow's own addresses, not from the request's DNAT, and
# evaluated ts-input with the cluster IP as source where the kernel sees
# the endpoint's 100.100.2.136 (the reply is un-DNATed only at
# NF_IP_PRI_NAT_SRC, after filter). src/sim/nf-flow.c now carries the
# request's NAT into the later packets.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
SIM="$top_builddir/tests/kernel/nf-simulate"
tb_test_init nft python3 conntrack "$SIM"
PROBE=$(tb_prog cg-probe) || exit 99
tb_audit_env W

tb_scenario
tb_host_listen 8080/tcp || tb_die "the host's listener did not start"
H=$TB_HOST P=$TB_PROV
S=40
# the last of the S services has no endpoints; its cluster IP and port as
# kube-nft-gen.py makes them (172.30.0.0/16 from .1, port 80 + s % 1000)
NOEP_VIP=172.30.0.$S NOEP_PORT=$((80 + (S - 1) % 1000))
python3 "$top_srcdir/tests/bench/kube-nft-gen.py" --services "$S" --endpoints 3 --no-endpoints 1 \
	--pin "172.30.255.1:80=$TB_GW:80" --pin "172.30.255.2:53=100.100.2.136:53" >"$W/kube.nft" 2>"$W/gen.err" ||
	tb_die "kube-nft-gen.py failed: $(cat "$W/gen.err")"
tb_exec "$H" nft -f "$W/kube.nft" || tb_die "nft -f (kube-proxy's ruleset) failed"
tb_ts_install nftables new || tb_die "tb_ts_install nftables new failed"
t_expect "kube-proxy's table is there" "table ip kube-proxy" "$(tb_exec "$H" nft list tables | grep -x 'table ip kube-proxy')"

# id dir local remote proto local-port remote-port dev | namespace and cg-probe's arguments
FLOWS=(
	"dns-udp out $TB_HOST_IP 100.100.2.136 udp 40001 53 eth0|$H 100.100.2.136 53 udp"
	"dns-tcp out $TB_HOST_IP 100.100.2.136 tcp 40002 53 eth0|$H 100.100.2.136 53 tcp"
	"svc-gw out $TB_HOST_IP 172.30.255.1 tcp 40003 80 eth0|$H 172.30.255.1 80 tcp"
	"svc-cgnat out $TB_HOST_IP 172.30.255.2 tcp 40004 53 eth0|$H 172.30.255.2 53 tcp"
	"svc-noep out $TB_HOST_IP $NOEP_VIP tcp 40005 $NOEP_PORT eth0|$H $NOEP_VIP $NOEP_PORT tcp"
	"svc-badport out $TB_HOST_IP 172.30.0.1 tcp 40006 9999 eth0|$H 172.30.0.1 9999 tcp"
	"hc in $TB_HOST_IP 100.100.2.136 tcp 8080 40011 eth0|$P --from 100.100.2.136 $TB_HOST_IP 8080 tcp"
)
: >"$W/flows"
for f in "${FLOWS[@]}"; do echo "${f%%|*}" >>"$W/flows"; done

DEFINITE=0 UNCERTAIN=0 DISAGREE=0
# kernel_word K: flow K sent for real: reply, timeout, refused...
kernel_word() { # K [cg-probe options]
	local rest=${FLOWS[$1]#*|} ns
	shift
	ns=${rest%% *}
	# a new conversation each time (see tb_ct_flush)
	tb_ct_flush "$ns" "$H"
	# shellcheck disable=SC2086 # cg-probe's arguments
	tb_exec "$ns" "$PROBE" "$@" ${rest#* } 2>/dev/null || true
}

# compare STAGE EXPECTED...: every flow against the kernel; EXPECTED is the
# kernel's verdict per flow (reachable/blocked) as this ruleset makes it,
# so that a probe that cannot tell (a dead responder) fails too
compare() {
	local stage=$1 k id word verdict want
	shift
	local -a expected=("$@")
	tb_exec "$H" "$SIM" <"$W/flows" >"$W/sim" 2>"$W/sim.err" ||
		{ t_fail "$stage: nf-simulate failed: $(cat "$W/sim.err")"; return; }
	declare -A SIMV=() SIMREST=()
	while read -r id verdict rest; do
		SIMV[$id]=$verdict SIMREST[$id]=$rest
	done <"$W/sim"
	for k in "${!FLOWS[@]}"; do
		id=${FLOWS[k]%% *}
		word=$(kernel_word "$k")
		if [ "$word" = timeout ] && [ "${expected[k]}" = reachable ]; then
			# a loaded machine can miss the default deadline: once more
			word=$(kernel_word "$k" --timeout 3000)
		fi
		want=blocked
		[ "$word" = reply ] && want=reachable
		t_expect "$stage: $id: the kernel ($word)" "${expected[k]}" "$want"
		verdict=${SIMV[$id]:-missing}
		case $verdict in
		"$want") DEFINITE=$((DEFINITE + 1)); t_ok "$stage: $id: the simulator says $verdict, as the kernel" ;;
		uncertain) UNCERTAIN=$((UNCERTAIN + 1)); echo "note: $stage: $id: the simulator is uncertain (${SIMREST[$id]})" >&2 ;;
		*)
			DISAGREE=$((DISAGREE + 1))
			t_fail "$stage: $id: kernel $word, simulator $verdict (${SIMREST[$id]:-})"
			;;
		esac
	done
	# the audit's own verdicts, for its targets (100.100.2.136 udp/53, tcp/53)
	local addr proto port
	while read -r addr proto port verdict; do
		for k in "${!FLOWS[@]}"; do
			id=${FLOWS[k]%% *}
			[ "$id" = "dns-$proto" ] || continue
			word=$(kernel_word "$k")
			[ "$word" = timeout ] && [ "$verdict" = reachable ] && word=$(kernel_word "$k" --timeout 3000)
			want=blocked
			[ "$word" = reply ] && want=reachable
			if [ "$verdict" = "$want" ]; then
				DEFINITE=$((DEFINITE + 1))
				t_ok "$stage: the audit's $addr $proto/$port: $verdict, as the kernel"
			else
				DISAGREE=$((DISAGREE + 1))
				t_fail "$stage: the audit's $addr $proto/$port: $verdict, the kernel $word"
			fi
		done
	done < <(tb_json '"\n".join("%s %s %s %s" % (t["address"], t["proto"], t["port"], t["verdict"]) for t in r["targets"])')
}

#                 dns-udp dns-tcp svc-gw    svc-cgnat svc-noep svc-badport hc
tb_audit "kube-nft + tailscale" 2 --dns 100.100.2.136
t_expect "the audit: 100.100.2.136 blocked by ts-input's CGNAT drop" "ts-input;ts-input" \
	"$(tb_json '";".join(t["blocked_by"]["chain"] for t in r["targets"] if t["verdict"] == "blocked")')"
compare "before --fix" blocked blocked reachable blocked blocked blocked blocked

tb_audit "kube-nft + tailscale: --fix" 0 --fix --dns 100.100.2.136
tb_audit "kube-nft + tailscale, fixed" 0 --dns 100.100.2.136
# the exception lets DNS replies from 100.100.2.136 in, whichever address
# the request was sent to: the DNATed cluster IP's too
compare "after --fix" reachable reachable reachable reachable blocked blocked blocked

echo "kube-nft: $((DEFINITE + UNCERTAIN + DISAGREE)) verdicts compared with the kernel's: $DEFINITE as the kernel," \
	"$UNCERTAIN uncertain (simulator), $DISAGREE contradicted" >&2
t_expect "no verdict the kernel contradicts" 0 "$DISAGREE"
# kube-proxy's flows are decided (each pinned service has one endpoint:
# numgen random mod 1): the simulator may not shrug them off
t_expect "every flow decided by the simulator" 0 "$UNCERTAIN"
tb_exec "$H" "$CGNATCHECK" --undo >/dev/null || true
t_done
