#!/usr/bin/env bash
# Fields a flow does not determine are unknown (issue 14, item 3): a packet's
# length, TTL and hop limit, a TCP segment's options, ... A rule that decides
# on one must make the audit say `uncertain`, naming the match, never
# `blocked` while the kernel lets the answer through nor `reachable` while the
# kernel drops it. Each case loads a small ruleset into the test bed's host
# (nftables, iptables-nft or iptables-legacy; iptables-nft writes -m length,
# -m ttl, -m hl and -m tcpmss as native expressions, legacy keeps them as xt
# matches), audits the provider's DNS (UDP and TCP) and metadata service and
# an IPv6 service, and asks the kernel the same.
#
# Fields a flow does determine stay definite: conntrack reassembles before any
# chain, so the fragment offset is known (zero), and so are a flow's TCP
# SYN/ACK/RST/FIN bits: those cases must not turn uncertain.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init nft iptables-nft-restore iptables-legacy-restore ip6tables-nft-restore ip6tables-legacy-restore \
	python3 conntrack "$CGNATCHECK"
tb_scenario
tb_audit_env AUD
H=$TB_HOST
S6=$TB_SVC_IP6

# targets: audit argument | kernel probe (ADDR PORT PROTO)
TARGETS=(
	"100.100.2.136:53/udp|100.100.2.136 53 udp"
	"100.100.2.136:53/tcp|100.100.2.136 53 tcp"
	"100.100.100.200:80/tcp|100.100.100.200 80 tcp"
	"[$S6]:53/udp|$S6 53 udp"
	"[$S6]:53/tcp|$S6 53 tcp"
)

clear_all() {
	tb_ct_flush "$H" "$TB_PROV"
	tb_exec "$H" nft flush ruleset
	for t in iptables-legacy ip6tables-legacy; do
		tb_exec "$H" "$t" -F
		tb_exec "$H" "$t" -P INPUT ACCEPT
	done
}

# load FORM TEXT: nft (an nft ruleset), ipt4/ipt6 legacy|nft (a restore file)
load() {
	case $1 in
	nft) tb_exec "$H" nft -f - <<<"$2" ;;
	ipt4-nft) tb_exec "$H" iptables-nft-restore <<<"$2" ;;
	ipt4-legacy) tb_exec "$H" iptables-legacy-restore <<<"$2" ;;
	ipt6-nft) tb_exec "$H" ip6tables-nft-restore <<<"$2" ;;
	ipt6-legacy) tb_exec "$H" ip6tables-legacy-restore <<<"$2" ;;
	esac
}

# verdicts: "ADDR PROTO PORT VERDICT UNCERTAIN_MATCH" per target, from the last report
verdicts() {
	python3 -I -S -c 'import json, sys
r = json.load(open(sys.argv[1]))
for t in r["targets"]:
    print(t["address"], t["proto"], t["port"], t["verdict"], (t.get("uncertain_match") or "-").replace(" ", "_"))' \
		"$AUD/out.json"
}

UNCERTAIN=0 DEFINITE=0

# check LABEL FORM WANT-UNCERTAIN-SUBSTRING|definite TEXT
check() {
	local label=$1 form=$2 want=$3 text=$4 status=0 k args probe word addr proto port verdict what seen=0
	clear_all
	if ! load "$form" "$text" 2>"$AUD/load.err"; then
		t_fail "$label: the ruleset did not load: $(cat "$AUD/load.err")"
		return
	fi
	args=()
	for k in "${TARGETS[@]}"; do args+=(--service "${k%%|*}"); done
	tb_exec "$H" "$CGNATCHECK" --format json "${args[@]}" >"$AUD/out.json" 2>"$AUD/err" || status=$?
	if [ "$status" = 3 ]; then
		cat "$AUD/err" >&2
		t_fail "$label: the audit could not complete"
		return
	fi
	declare -A V=() W=()
	while read -r addr proto port verdict what; do
		V["$addr $port $proto"]=$verdict W["$addr $port $proto"]=$what
	done < <(verdicts)
	for k in "${TARGETS[@]}"; do
		probe=${k#*|}
		tb_ct_flush "$H" "$TB_PROV"
		# shellcheck disable=SC2086
		word=$(tb_exec "$H" "$(tb_prog cg-probe)" --timeout 300 $probe 2>/dev/null || true)
		verdict=${V[$probe]:-missing} what=${W[$probe]:--}
		if [ "$word" = timeout ] && [ "$verdict" = reachable ]; then
			tb_ct_flush "$H" "$TB_PROV"
			# shellcheck disable=SC2086
			word=$(tb_exec "$H" "$(tb_prog cg-probe)" --timeout 3000 $probe 2>/dev/null || true)
		fi
		case $verdict.$word in
		blocked.reply | reachable.timeout | reachable.refused | reachable.unreachable | missing.*)
			t_fail "$label: $probe: the audit says $verdict, the kernel $word" ;;
		esac
		case $verdict in
		uncertain) UNCERTAIN=$((UNCERTAIN + 1)) ;;
		*) DEFINITE=$((DEFINITE + 1)) ;;
		esac
		# a target the rule does not concern (another family, another
		# protocol) may be decided; the ones it concerns must name it
		if [ "$want" = definite ]; then
			[ "$verdict" != uncertain ] || t_fail "$label: $probe: uncertain ($what), but the flow determines the field"
		elif [ "$verdict" = uncertain ]; then
			seen=1
			# WANT: one name or several, NAME|NAME
			local ok=0 alt alts
			IFS='|' read -ra alts <<<"$want"
			for alt in "${alts[@]}"; do
				case ${what//_/ } in *"$alt"*) ok=1 ;; esac
			done
			[ "$ok" = 1 ] || t_fail "$label: $probe: uncertain, but names '${what//_/ }', not '$want'"
		fi
	done
	if [ "$want" != definite ]; then
		if [ "$seen" = 1 ]; then t_ok "$label: uncertain, naming $want"; else t_fail "$label: no target uncertain"; fi
	else
		t_ok "$label: decided"
	fi
	unset V W
}

drop_policy_nft() { # FAMILY RULES...: an input chain with policy drop
	local fam=$1
	shift
	printf 'table %s t {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n' "$fam"
	# neighbour discovery, or no IPv6 packet would get through at all
	[ "$fam" = ip ] || printf '\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n'
	printf '\t\t%s\n' "$@"
	printf '\t}\n}\n'
}

drop_policy_ipt() { # RULES...: *filter with INPUT policy DROP
	printf '*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n'
	[ "${IPT6:-}" != 1 ] || printf -- '-A INPUT -p ipv6-icmp -j ACCEPT\n'
	printf -- '-A INPUT %s\n' "$@"
	printf 'COMMIT\n'
}

# --- fields the flow does not determine -----------------------------------------

check "nft meta length != 33-45" nft "meta length" "$(drop_policy_nft inet 'meta length != 33-45 accept')"
check "nft meta length < 1000" nft "meta length" "$(drop_policy_nft inet 'meta length < 1000 accept')"
check "nft ip ttl 64" nft "ip ttl" "$(drop_policy_nft ip 'ip ttl 64 accept')"
check "nft ip length 0-100" nft "ip length" "$(drop_policy_nft ip 'ip length 0-100 accept')"
check "nft ip6 hoplimit 64" nft "ip6 hoplimit" "$(drop_policy_nft ip6 'ip6 hoplimit 64 accept')"
check "nft ip6 length > 10" nft "ip6 length" "$(drop_policy_nft ip6 'ip6 length > 10 accept')"
check "nft udp length" nft "udp length" "$(drop_policy_nft inet 'udp length > 20 accept' 'meta l4proto tcp accept')"
check "nft tcp window" nft "tcp window" "$(drop_policy_nft inet 'tcp window > 1000 accept' 'meta l4proto udp accept')"
check "nft ip dscp" nft "ip dscp" "$(drop_policy_nft ip 'ip dscp cs0 accept')"
check "nft tcp option maxseg size 1-500" nft "exthdr|TCP option" \
	"$(drop_policy_nft inet 'tcp option maxseg size 1-500 accept' 'meta l4proto udp accept')"
check "nft tcp flags == syn|ack (ECN bits)" nft "tcp flags" \
	"$(drop_policy_nft inet 'tcp flags == syn|ack accept' 'ct state established tcp flags & (syn|ack) == ack accept' \
		'meta l4proto udp accept')"
# iptables-nft may write these matches as native expressions (meta length,
# ip ttl, ip6 hoplimit, tcp option maxseg) or as xt matches (its restore
# does), legacy keeps the xt matches
declare -A NAME=([nft.length]="meta length|length" [legacy.length]=length [nft.ttl]="ip ttl|ttl"
	[legacy.ttl]=ttl [nft.hl]="ip6 hoplimit|hl" [legacy.hl]=hl [nft.tcpmss]="exthdr|TCP option|tcpmss" [legacy.tcpmss]=tcpmss)
for b in nft legacy; do
	check "iptables-$b -m length --length 0:100" "ipt4-$b" "${NAME[$b.length]}" \
		"$(drop_policy_ipt '-m length --length 0:100 -j ACCEPT')"
	check "iptables-$b -m ttl --ttl-eq 64" "ipt4-$b" "${NAME[$b.ttl]}" \
		"$(drop_policy_ipt '-m ttl --ttl-eq 64 -j ACCEPT')"
	check "ip6tables-$b -m hl --hl-eq 64" "ipt6-$b" "${NAME[$b.hl]}" \
		"$(IPT6=1 drop_policy_ipt '-m hl --hl-eq 64 -j ACCEPT')"
	check "iptables-$b -m tcpmss --mss 1:500" "ipt4-$b" "${NAME[$b.tcpmss]}" \
		"$(drop_policy_ipt '-p tcp -m tcpmss --mss 1:500 -j ACCEPT' '-p udp -j ACCEPT')"
done

# --- fields it does determine ------------------------------------------------------

check "nft frag-off (reassembled: known)" nft definite \
	"$(drop_policy_nft ip 'ip frag-off & 0x1fff != 0 drop' 'ip frag-off & 0x2000 != 0 drop' 'accept')"
check "nft tcp flags syn / fin,syn,rst,ack" nft definite \
	"$(drop_policy_nft inet 'tcp flags syn / fin,syn,rst,ack drop' 'accept')"
check "nft ip version, protocol, ports" nft definite \
	"$(drop_policy_nft ip 'ip version != 4 drop' 'ip protocol udp udp sport 53 accept' 'tcp sport { 53, 80 } accept')"
for b in nft legacy; do
	check "iptables-$b --syn, -f" "ipt4-$b" definite \
		"$(drop_policy_ipt '-p tcp --syn -j DROP' '-f -j DROP' '-j ACCEPT')"
done

TOTAL=$((UNCERTAIN + DEFINITE))
echo "unknown-fields: $TOTAL targets compared, $UNCERTAIN uncertain, $DEFINITE decided definitely ($(awk -v d="$DEFINITE" -v t="$TOTAL" 'BEGIN { printf "%.1f%%", t ? 100 * d / t : 0 }'))" >&2
t_done
