#!/usr/bin/env bash
# Verdicts of rules with the expressions the model keeps by their kernel
# attributes (issue 14, item 6), judged by the kernel: rulesets built around
# dynset (add, update, delete, with and without a per-element limit; a
# lookup in the dynamic set), numgen and jhash (mod 1: decided; else not),
# named objects (counter, ct helper: the rule goes on; quota: not decided),
# ct count, TCP options and IPv6 extension headers, rt, socket, osf, ipsec,
# dup and synproxy, in ip, ip6 and inet tables. Flows: DNS, NTP, metadata
# (UDP and TCP), inbound health checks, IPv4 and IPv6. The simulator
# (nf-simulate) must never contradict the kernel; its `uncertain` answers are
# counted, and so are the definite ones, which each ruleset expects.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
SIM="$top_builddir/tests/kernel/nf-simulate"
tb_test_init nft python3 conntrack "$SIM"
PROBE=$(tb_prog cg-probe) || exit 99
tb_tmpdir W

tb_topology host prov
tb_echo "$TB_PROV" 53/udp 53/tcp 80/tcp 123/udp || tb_die "the provider's responder did not start"
tb_host_listen 8080/tcp 5353/udp || tb_die "the host's listener did not start"
H=$TB_HOST P=$TB_PROV
S6=$TB_SVC_IP6
# id dir local remote proto local-port remote-port dev | namespace and cg-probe's arguments
FLOWS=(
	"dns-udp out $TB_HOST_IP 100.100.2.136 udp 40001 53 eth0|$H 100.100.2.136 53 udp"
	"dns-tcp out $TB_HOST_IP 100.100.2.136 tcp 40002 53 eth0|$H 100.100.2.136 53 tcp"
	"meta out $TB_HOST_IP 100.100.100.200 tcp 40003 80 eth0|$H 100.100.100.200 80 tcp"
	"ntp out $TB_HOST_IP 100.100.61.88 udp 40004 123 eth0|$H 100.100.61.88 123 udp"
	"hc in $TB_HOST_IP 100.100.2.136 tcp 8080 40011 eth0|$P --from 100.100.2.136 $TB_HOST_IP 8080 tcp"
	"hc-udp in $TB_HOST_IP 100.125.1.250 udp 5353 40012 eth0|$P --from 100.125.1.250 $TB_HOST_IP 5353 udp"
	"dns6 out $TB_HOST_IP6 $S6 udp 40014 53 eth0|$H $S6 53 udp"
	"dns6-tcp out $TB_HOST_IP6 $S6 tcp 40015 53 eth0|$H $S6 53 tcp"
	"hc6 in $TB_HOST_IP6 $S6 tcp 8080 40020 eth0|$P --from $S6 $TB_HOST_IP6 8080 tcp"
)
: >"$W/flows"
for f in "${FLOWS[@]}"; do echo "${f%%|*}" >>"$W/flows"; done

# ruleset KIND FAMILY: an input chain (policy drop, so that what the rules
# let through is what is reachable) and an output chain
ruleset() {
	local kind=$1 fam=$2 saddr="ip saddr" l3=ipv4_addr
	[ "$fam" = ip6 ] && saddr="ip6 saddr" l3=ipv6_addr
	echo "table $fam t {"
	echo "	set seen { type $l3; flags dynamic,timeout; timeout 1m; }"
	echo "	counter cnt { }"
	echo "	quota q { 100 mbytes }"
	[ "$fam" != ip6 ] && echo "	ct helper h { type \"ftp\" protocol tcp; }"
	echo "	chain in { type filter hook input priority filter; policy drop;"
	echo "		ct state established,related accept"
	case $kind in
	dynset)
		echo "		udp sport { 53, 123 } add @seen { $saddr } accept"
		echo "		tcp dport 8080 update @seen { $saddr timeout 2m } counter accept"
		echo "		delete @seen { $saddr }"
		;;
	dynset-limit)
		echo "		update @seen { $saddr limit rate over 1/minute } drop"
		echo "		accept"
		;;
	dynset-lookup)
		echo "		$saddr @seen drop"
		echo "		accept"
		;;
	numgen)
		echo "		meta mark set numgen inc mod 1 offset 7"
		echo "		meta mark 7 accept"
		;;
	numgen2)
		echo "		numgen random mod 2 vmap { 0 : accept, 1 : drop }"
		echo "		jhash $saddr mod 1 offset 3 vmap { 3 : accept }"
		;;
	objref)
		echo "		counter name \"cnt\" accept"
		;;
	objref-quota)
		echo "		quota name \"q\" accept"
		;;
	ctcount)
		echo "		ct count over 1000 drop"
		echo "		accept"
		;;
	exthdr)
		echo "		tcp option maxseg size 1 drop"
		echo "		tcp option sack-perm missing tcp flags syn drop"
		echo "		accept"
		;;
	ext6)
		[ "$fam" = ip ] && echo "		ip option ra exists drop"
		[ "$fam" != ip ] && echo "		exthdr frag exists drop"
		echo "		accept"
		;;
	rt-socket)
		echo "		socket transparent 1 drop"
		# osf is IPv4 only
		[ "$fam" != ip6 ] && echo "		osf name \"Windows\" drop"
		echo "		ipsec in reqid 1 drop"
		echo "		accept"
		;;
	esac
	echo "	}"
	echo "	chain out { type filter hook output priority filter; policy accept;"
	case $kind in
	objref) [ "$fam" != ip6 ] && echo "		tcp dport 21 ct helper set \"h\"" ;;
	rt-socket) echo "		rt mtu 1 drop" ;;
	dynset) echo "		add @seen { $([ "$fam" = ip6 ] && echo ip6 || echo ip) daddr }" ;;
	esac
	echo "	}"
	echo "}"
}

probe_words() { # every flow's kernel word in $W/kN
	local k rest pids=()
	for k in "${!FLOWS[@]}"; do
		rest=${FLOWS[k]#*|}
		# shellcheck disable=SC2086
		tb_exec "${rest%% *}" "$PROBE" --timeout 200 ${rest#* } >"$W/k$k" 2>/dev/null &
		pids+=($!)
	done
	# not a bare wait: the responders run in the background too
	wait "${pids[@]}" 2>/dev/null || true
}

DEFINITE=0 UNCERTAIN=0 DISAGREE=0
declare -A WHY=() DEF_BY_KIND=()
for kind in dynset dynset-limit dynset-lookup numgen numgen2 objref objref-quota ctcount exthdr ext6 rt-socket; do
	for fam in ip ip6 inet; do
		label="$kind $fam"
		for ns in "$H" "$P"; do tb_exec "$ns" conntrack -F >/dev/null 2>&1 || true; done
		tb_exec "$H" nft flush ruleset
		ruleset "$kind" "$fam" >"$W/rules.nft"
		if ! tb_exec "$H" nft -f "$W/rules.nft" 2>"$W/load.err"; then
			t_fail "$label: nft -f refused the ruleset: $(head -c 300 "$W/load.err")"
			continue
		fi
		if ! tb_exec "$H" "$SIM" <"$W/flows" >"$W/sim" 2>"$W/sim.err"; then
			t_fail "$label: nf-simulate failed: $(cat "$W/sim.err")"
			continue
		fi
		declare -A SIMV=() SIMREST=()
		while read -r id verdict rest; do
			SIMV[$id]=$verdict SIMREST[$id]=$rest
		done <"$W/sim"
		probe_words
		for k in "${!FLOWS[@]}"; do
			id=${FLOWS[k]%% *}
			word=; read -r word <"$W/k$k" 2>/dev/null || true
			verdict=${SIMV[$id]:-missing}
			if [ "$word" = timeout ] && [ "$verdict" != blocked ]; then
				# a loaded machine can miss a short deadline: ask again
				rest=${FLOWS[k]#*|}
				for ns in "$H" "$P"; do tb_exec "$ns" conntrack -F >/dev/null 2>&1 || true; done
				# shellcheck disable=SC2086
				word=$(tb_exec "${rest%% *}" "$PROBE" --timeout 3000 ${rest#* } 2>/dev/null || true)
			fi
			want=blocked
			[ "$word" = reply ] && want=reachable
			case $verdict in
			"$want")
				DEFINITE=$((DEFINITE + 1))
				DEF_BY_KIND[$kind]=$((${DEF_BY_KIND[$kind]:-0} + 1))
				;;
			uncertain)
				UNCERTAIN=$((UNCERTAIN + 1))
				w=$(sed -n 's/.* what=//p' <<<"${SIMREST[$id]}")
				WHY[$w]=$((${WHY[$w]:-0} + 1))
				;;
			*)
				DISAGREE=$((DISAGREE + 1))
				t_fail "$label flow $id: kernel $word, simulator $verdict (${SIMREST[$id]:-})"
				cat "$W/rules.nft" >&2
				;;
			esac
		done
		unset SIMV SIMREST
	done
done
TOTAL=$((DEFINITE + UNCERTAIN + DISAGREE))
echo "nft-kept-eval: $TOTAL flows compared; $DEFINITE decided definitely and as the kernel did ($(awk -v d="$DEFINITE" -v t="$TOTAL" 'BEGIN { printf "%.1f%%", t ? 100 * d / t : 0 }'))," \
	"$UNCERTAIN uncertain, $DISAGREE contradicted by the kernel" >&2
for w in "${!WHY[@]}"; do echo "  uncertain ${WHY[$w]}x: $w" >&2; done
for k in "${!DEF_BY_KIND[@]}"; do echo "  definite ${DEF_BY_KIND[$k]}x: $k" >&2; done
t_expect "no verdict the kernel contradicts" 0 "$DISAGREE"
# what the packet decides is decided: every flow of these (9 flows, 3 families)
for kind in dynset numgen objref; do
	t_expect "$kind: every flow decided" 27 "${DEF_BY_KIND[$kind]:-0}"
done
[ "$TOTAL" -gt 0 ] || t_fail "no flow compared"

t_done
