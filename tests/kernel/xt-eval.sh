#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Verdicts of rules using the x_tables extensions (issue 14, item 6), judged
# by the kernel: for each kind of rule below, written with iptables-legacy and
# with iptables-nft, IPv4 and IPv6, into the input and output chains of the
# host namespace, the flows (DNS over UDP and TCP, metadata, NTP, inbound
# health checks, IPv4 and IPv6) are sent for real (cg-probe) and the
# simulator's verdict (nf-simulate) is compared with what the kernel did.
# The simulator must never contradict the kernel; where the packet does not
# decide a match it answers `uncertain`. The share of flows decided
# definitely is printed; the kinds whose matches the packet decides must be
# decided for every flow.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"
SIM="$top_builddir/tests/kernel/nf-simulate"
tb_test_init iptables-legacy-restore ip6tables-legacy-restore iptables-nft-restore ip6tables-nft-restore \
	nft conntrack "$SIM"
PROBE=$(tb_prog cg-probe) || exit 99
tb_tmpdir W

tb_topology host prov
tb_echo "$TB_PROV" 53/udp 53/tcp 80/tcp 123/udp || tb_die "the provider's responder did not start"
tb_host_listen 8080/tcp 5353/udp || tb_die "the host's listener did not start"
H=$TB_HOST P=$TB_PROV
S6=$TB_SVC_IP6
# id dir local remote proto local-port remote-port dev | namespace and cg-probe's arguments
FLOWS4=(
	"dns-udp out $TB_HOST_IP 100.100.2.136 udp 40001 53 eth0|$H 100.100.2.136 53 udp"
	"dns-tcp out $TB_HOST_IP 100.100.2.136 tcp 40002 53 eth0|$H 100.100.2.136 53 tcp"
	"meta out $TB_HOST_IP 100.100.100.200 tcp 40003 80 eth0|$H 100.100.100.200 80 tcp"
	"ntp out $TB_HOST_IP 100.100.61.88 udp 40004 123 eth0|$H 100.100.61.88 123 udp"
	"hc in $TB_HOST_IP 100.100.2.136 tcp 8080 40011 eth0|$P --from 100.100.2.136 $TB_HOST_IP 8080 tcp"
	"hc-udp in $TB_HOST_IP 100.125.1.250 udp 5353 40012 eth0|$P --from 100.125.1.250 $TB_HOST_IP 5353 udp"
)
FLOWS6=(
	"dns6 out $TB_HOST_IP6 $S6 udp 40014 53 eth0|$H $S6 53 udp"
	"dns6-tcp out $TB_HOST_IP6 $S6 tcp 40015 53 eth0|$H $S6 53 tcp"
	"hc6 in $TB_HOST_IP6 $S6 tcp 8080 40020 eth0|$P --from $S6 $TB_HOST_IP6 8080 tcp"
	"hc6-udp in $TB_HOST_IP6 $S6 udp 5353 40021 eth0|$P --from $S6 $TB_HOST_IP6 5353 udp"
)

# rules KIND FAMILY: the lines of each chain ("TABLE CHAIN SPEC"), the same
# in input and output unless the extension is for one of them
rules() {
	local kind=$1 fam=$2 c
	for c in INPUT OUTPUT; do
		case $kind in
		length-none) echo "filter $c -p udp -m length --length 0:27 -j DROP" ;;
		length-all) echo "filter $c -m length --length 0:65535 -j DROP" ;;
		length-notall) echo "filter $c -m length ! --length 0:65535 -j DROP" ;;
		length-some) echo "filter $c -m length --length 100:1500 -j DROP" ;;
		ttl-never)
			if [ "$fam" = 4 ]; then echo "filter $c -m ttl --ttl-lt 0 -j DROP"
			else echo "filter $c -m hl --hl-lt 0 -j DROP"; fi ;;
		ttl-some)
			if [ "$fam" = 4 ]; then echo "filter $c -m ttl --ttl-eq 64 -j DROP"
			else echo "filter $c -m hl --hl-gt 10 -j DROP"; fi ;;
		tos-mask0) echo "filter $c -m tos --tos 0x00/0x00 -j DROP" ;;
		tos-some) echo "filter $c -m tos --tos 0x10/0x3f -j DROP" ;;
		dscp) echo "filter $c -m dscp ! --dscp 0x2e -j DROP" ;;
		ecn-ip) echo "filter $c -m ecn --ecn-ip-ect 1 -j DROP" ;;
		ecn-tcp) echo "filter $c -p tcp -m ecn --ecn-tcp-cwr -j DROP" ;;
		exthdr)
			[ "$fam" = 4 ] && continue
			echo "filter $c -m frag -j DROP"
			echo "filter $c -m frag ! --fragid 5 -j DROP"
			echo "filter $c -m hbh -j DROP"
			echo "filter $c -m dst ! --dst-len 8 -j DROP"
			echo "filter $c -m rt ! --rt-type 0 -j DROP"
			echo "filter $c -m ah ! --ahspi 4 -j DROP"
			echo "filter $c -m ipv6header --header hop-by-hop,frag --soft -j DROP"
			echo "filter $c -m ipv6header --header ipv6-route -j DROP"
			;;
		ipv6header-none)
			[ "$fam" = 4 ] && continue
			echo "filter $c -m ipv6header ! --header hop-by-hop,ipv6-route,ipv6-frag,ipv6-opts,ah,esp,none --soft -j ACCEPT"
			echo "filter $c -j DROP"
			;;
		ipv6header-proto)
			[ "$fam" = 4 ] && continue
			echo "filter $c -m ipv6header --header protocol -j ACCEPT"
			echo "filter $c -m ipv6header --header protocol --soft -j ACCEPT"
			echo "filter $c -j DROP"
			;;
		devgroup)
			[ $c = INPUT ] && echo "filter $c -m devgroup --src-group 0x5 -j DROP"
			[ $c = INPUT ] && echo "filter $c -m devgroup ! --src-group 0x0/0xff -j DROP"
			[ $c = OUTPUT ] && echo "filter $c -m devgroup ! --dst-group 0x0 -j DROP"
			;;
		owner)
			[ $c = OUTPUT ] && echo "filter $c -m owner ! --uid-owner 0 -j DROP"
			[ $c = OUTPUT ] && echo "filter $c -m owner --uid-owner 1000-2000 --gid-owner 0 -j DROP"
			[ $c = OUTPUT ] && echo "filter $c -m owner ! --socket-exists -j DROP"
			;;
		physdev)
			# a packet the host sends did not cross a bridge; received ones may have
			[ $c = OUTPUT ] && echo "filter $c -m physdev --physdev-is-bridged -j DROP"
			[ $c = OUTPUT ] && echo "filter $c -m physdev ! --physdev-is-in -j ACCEPT"
			[ $c = OUTPUT ] && echo "filter $c -j DROP"
			;;
		mac) [ $c = INPUT ] && echo "filter $c -m mac --mac-source 00:11:22:33:44:55 -j DROP" ;;
		targets)
			[ $c = OUTPUT ] && echo "mangle $c -j CLASSIFY --set-class 1:10"
			echo "mangle $c -j DSCP --set-dscp 0x0a"
			echo "mangle $c -j TOS --set-tos 0x10"
			echo "filter $c -j AUDIT --type accept"
			echo "mangle $c -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400"
			echo "mangle $c -p tcp -j TCPOPTSTRIP --strip-options 2,sack-permitted"
			[ "$fam" = 4 ] && echo "mangle $c -p tcp -j ECN --ecn-tcp-remove"
			echo "mangle $c -p udp -j CHECKSUM --checksum-fill"
			echo "filter $c -j IDLETIMER --timeout 60 --label xte$c"
			echo "filter $c -j RATEEST --rateest-name xte$c --rateest-interval 250ms --rateest-ewmalog 500ms"
			if [ "$fam" = 4 ]; then echo "mangle $c -j TTL --ttl-set 64"
			else echo "mangle $c -j HL --hl-set 64"; fi
			;;
		protohdr)
			# these modules take only their protocol (-p, not inverted): the
			# rule's -p decides for the flows' UDP and TCP
			echo "filter $c -p sctp -m sctp --dport 53 -j DROP"
			echo "filter $c -p dccp -m dccp --dport 53 -j DROP"
			echo "filter $c -p esp -m esp --espspi 1 -j DROP"
			echo "filter $c -p 108 -m ipcomp --ipcompspi 1 -j DROP"
			if [ "$fam" = 4 ]; then echo "filter $c -p ah -m ah --ahspi 1 -j DROP"
			else echo "filter $c -p mh -m mh --mh-type 1 -j DROP"; fi
			;;
		unknown)
			echo "filter $c -m u32 --u32 \"0&0x0=0\" -j DROP"
			echo "filter $c -m time --timestart 00:00 --timestop 23:59 -j DROP"
			;;
		esac
	done
	return 0
}

KINDS=(length-none length-all length-notall length-some ttl-never ttl-some tos-mask0 tos-some dscp ecn-ip ecn-tcp
	exthdr ipv6header-none ipv6header-proto devgroup owner physdev mac targets protohdr unknown)

# restore FORM FAMILY FILE: the tables from FILE's lines, or empty ones
restore() {
	local form=$1 fam=$2 file=$3 cmd=iptables-$1-restore t
	[ "$fam" = 6 ] && cmd=ip6tables-$form-restore
	for t in filter mangle; do
		echo "*$t"
		if [ $t = filter ]; then echo ":INPUT ACCEPT [0:0]"; echo ":FORWARD ACCEPT [0:0]"; echo ":OUTPUT ACCEPT [0:0]"
		else for c in PREROUTING INPUT FORWARD OUTPUT POSTROUTING; do echo ":$c ACCEPT [0:0]"; done; fi
		[ -n "$file" ] && while read -r tt rest; do [ "$tt" = $t ] && echo "-A $rest"; done <"$file"
		echo COMMIT
	done | tb_exec "$H" "$cmd"
}

probe_words() { # every flow's kernel word in $W/kN
	local k rest pids=()
	for k in "${!FLOWS[@]}"; do
		rest=${FLOWS[k]#*|}
		# shellcheck disable=SC2086
		tb_exec "${rest%% *}" "$PROBE" --timeout 200 ${rest#* } >"$W/k$k" 2>/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}" 2>/dev/null || true
}

DEFINITE=0 UNCERTAIN=0 DISAGREE=0 LOADED=0
declare -A WHY=() DEF_BY_KIND=() N_BY_KIND=()
for form in legacy nft; do
	for fam in 4 6; do
		if [ "$fam" = 4 ]; then FLOWS=("${FLOWS4[@]}"); else FLOWS=("${FLOWS6[@]}"); fi
		: >"$W/flows"
		for f in "${FLOWS[@]}"; do echo "${f%%|*}" >>"$W/flows"; done
		for kind in "${KINDS[@]}"; do
			label="$kind iptables-$form -$fam"
			rules "$kind" "$fam" >"$W/rules"
			[ -s "$W/rules" ] || continue
			tb_exec "$H" nft flush ruleset
			for ff in 4 6; do restore legacy $ff "" 2>/dev/null || true; done
			if ! restore "$form" "$fam" "$W/rules" 2>"$W/load.err"; then
				t_fail "$label: iptables-$form-restore refused the rules: $(head -c 300 "$W/load.err")"
				continue
			fi
			LOADED=$((LOADED + 1))
			for ns in "$H" "$P"; do tb_exec "$ns" conntrack -F >/dev/null 2>&1 || true; done
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
				if [ "$word" = timeout ] && [ "$verdict" = reachable ]; then
					# a loaded machine can miss a short deadline: ask again
					rest=${FLOWS[k]#*|}
					for ns in "$H" "$P"; do tb_exec "$ns" conntrack -F >/dev/null 2>&1 || true; done
					# shellcheck disable=SC2086
					word=$(tb_exec "${rest%% *}" "$PROBE" --timeout 3000 ${rest#* } 2>/dev/null || true)
				fi
				want=blocked
				[ "$word" = reply ] && want=reachable
				N_BY_KIND[$kind]=$((${N_BY_KIND[$kind]:-0} + 1))
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
					cat "$W/rules" >&2
					;;
				esac
			done
			unset SIMV SIMREST
		done
	done
done
TOTAL=$((DEFINITE + UNCERTAIN + DISAGREE))
echo "xt-eval: $LOADED rulesets, $TOTAL flows compared; $DEFINITE decided definitely and as the kernel did" \
	"($((TOTAL ? DEFINITE * 100 / TOTAL : 0))%), $UNCERTAIN uncertain, $DISAGREE contradicted by the kernel" >&2
for w in "${!WHY[@]}"; do echo "  uncertain ${WHY[$w]}x: $w" >&2; done
for k in "${KINDS[@]}"; do echo "  $k: ${DEF_BY_KIND[$k]:-0} of ${N_BY_KIND[$k]:-0} definite" >&2; done
t_expect "no verdict the kernel contradicts" 0 "$DISAGREE"
[ "$TOTAL" -gt 0 ] || t_fail "no flow compared"
# what the packet decides is decided: every flow of these kinds
for kind in ${XT_EVAL_DECIDED-length-none length-all length-notall ttl-never tos-mask0 exthdr ipv6header-none ipv6header-proto devgroup owner physdev targets protohdr}; do
	t_expect "$kind: every flow decided" "${N_BY_KIND[$kind]:-0}" "${DEF_BY_KIND[$kind]:-0}"
done

t_done
