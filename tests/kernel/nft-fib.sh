#!/usr/bin/env bash
# nftables' fib expression, judged by the kernel and by nft(8):
#
#   1. text: every form of fib that nft 1.0.6 lists (saddr|daddr, . mark,
#      . iif|. oif, oif|oifname|type, exists/missing, compared, in sets,
#      ranges and maps), in ip, ip6 and inet tables, loaded with nft -f;
#      the tool's text (tests/kernel/nft-text-dump) must equal
#      `nft list ruleset`'s, rule by rule.
#   2. verdicts: rulesets built around fib (the NixOS firewall's rpfilter
#      chain, strict and loose, with and without its rpfilter-allow example,
#      the nft wiki's `fib saddr . iif oif missing drop`, fib in input,
#      oifname, type and vmap forms, a connmark restore before rpfilter), in
#      ip, ip6 and inet tables, each under three routing states: plain;
#      Tailscale's exit node (rules 5210-5270, table 52 with a default route
#      into tailscale0 and throw routes for the LAN) with an `ip rule ...
#      ipproto udp dport 53 lookup main` exception, which the kernel's own
#      route honours and fib's lookup cannot (it carries no protocol or
#      ports); and the exit node with the provider's ranges thrown back to
#      main. Flows: DNS, NTP, metadata (UDP and TCP, with and without
#      Tailscale's bypass mark 0x80000 on the socket), an overlay-like peer
#      on a second interface, inbound health checks, IPv4 and IPv6. A flow
#      whose own route (the request's, or an inbound flow's reply's) does
#      not leave by the flow's device in a routing state is not a question
#      for netfilter there and is left out. The simulator (nf-simulate, with
#      the namespace's routing state) must never contradict the kernel; its
#      `uncertain` answers are counted, and the share decided definitely is
#      printed.
#   3. the audit itself (cgnatcheck --dns) on the NixOS rpfilter with the
#      exit node: strict blocks the resolver's replies, loose lets them in.
#
#   NFT_FIB_KINDS   rulesets of part 2 (default: all)
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
SIM="$top_builddir/tests/kernel/nf-simulate"
DUMP="$top_builddir/tests/kernel/nft-text-dump"
COMPARE="$top_srcdir/tests/kernel/nft-text-compare.py"
tb_test_init nft python3 conntrack "$SIM" "$DUMP"
PROBE=$(tb_prog cg-probe) || exit 99
tb_tmpdir W

# --- 1. every form, as nft lists it ------------------------------------------

# forms FAMILY: a table of every fib form the kernel takes in FAMILY, in base
# chains at hooks nft_fib_validate() allows
forms() {
	local fam=$1 addr="ip saddr" a="1.2.3.4" dir flagm dev res chain
	[ "$fam" = ip6 ] && addr="ip6 saddr" a="2001:db8::1"
	echo "table $fam f {"
	echo "	set types { type fib_addrtype; elements = { local, broadcast } }"
	for chain in pre in out; do
		case $chain in
		pre) echo "	chain pre { type filter hook prerouting priority mangle + 10; policy accept;" ;;
		in) echo "	chain in { type filter hook input priority filter; policy accept;" ;;
		out) echo "	chain out { type filter hook output priority filter; policy accept;" ;;
		esac
		for dir in saddr daddr; do
			for flagm in "" " . mark"; do
				for dev in "" " . iif" " . oif"; do
					for res in oif oifname type; do
						# where the kernel takes it (nft_fib_validate, nft_fib_init)
						case $res.$dev.$chain in
						oif*.\ .\ oif.* | type.\ .\ iif.out | type.\ .\ oif.pre | type.\ .\ oif.in) continue ;;
						oif*..in | oif*.*.out) continue ;;
						esac
						local e="fib $dir$flagm$dev $res"
						case $res in
						oif)
							echo "		$e \"lo\" accept"
							echo "		$e != 0 counter"
							echo "		$e exists accept"
							echo "		$e missing drop"
							echo "		$e { \"lo\", 0 } accept"
							;;
						oifname)
							echo "		$e \"lo\" accept"
							echo "		$e != \"eth0\" counter"
							echo "		$e \"tailscale*\" drop"
							echo "		$e { \"lo\", \"eth9\" } accept"
							;;
						type)
							echo "		$e local accept"
							echo "		$e != unicast counter"
							echo "		$e { local, broadcast, multicast } accept"
							echo "		$e @types drop"
							echo "		$e vmap { unicast : accept, blackhole : drop }"
							echo "		$e 2-5 accept"
							;;
						esac
					done
				done
			done
		done
		if [ "$chain" = pre ]; then
			echo "		fib saddr oif vmap { \"lo\" : accept, 0 : drop }"
			echo "		fib saddr oif . $addr { \"lo\" . $a } accept"
			echo "		$addr . fib daddr type { $a . local } accept"
			echo "		fib saddr . mark . iif oif exists accept comment \"nixos rpfilter\""
		fi
		echo "	}"
	done
	echo "}"
}

text_check() {
	local ns out status summary
	tb_ns_add ns text
	for fam in ip ip6 inet; do
		forms "$fam" >"$W/forms-$fam.nft"
		if ! tb_exec "$ns" nft -f "$W/forms-$fam.nft" 2>"$W/forms.err"; then
			cat "$W/forms.err" >&2
			t_fail "text: $fam: nft -f refused the forms"
		fi
	done
	tb_exec "$ns" nft -a list ruleset >"$W/listing"
	tb_exec "$ns" "$DUMP" >"$W/dump"
	set +e
	out=$(python3 "$COMPARE" "$W/listing" "$W/dump" fib 2>&1)
	status=$?
	set -e
	summary=$(tail -n1 <<<"$out")
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$out" >&2
		t_fail "text: fib rules differ from nft's ($summary)"
	else
		t_ok "text: $summary"
	fi
	case $summary in
	*" 0 documented exceptions, 0 wrong"*) ;;
	*) t_fail "text: fib rules needed exceptions ($summary)" ;;
	esac
	ip netns del "$ns"
}
text_check

# --- 2. the bed ----------------------------------------------------------------

tb_topology host prov
tb_echo "$TB_PROV" 53/udp 53/tcp 80/tcp 123/udp || tb_die "the provider's responder did not start"
tb_host_listen 8080/tcp 5353/udp || tb_die "the host's listener did not start"
H=$TB_HOST P=$TB_PROV
# a second interface, ovl0, to a peer owning 100.71.1.2 and fd00:69::2
tb_ns_add E peer
tb_exec "$E" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip -n "$H" link add ovl0 type veth peer name ovl0p netns "$E"
ip -n "$H" addr add 100.70.0.1/24 dev ovl0
ip -n "$H" addr add fd00:70::1/64 dev ovl0 nodad
ip -n "$E" addr add 100.70.0.2/24 dev ovl0p
ip -n "$E" addr add fd00:70::2/64 dev ovl0p nodad
ip -n "$E" addr add 100.71.1.2/32 dev lo
ip -n "$E" addr add fd00:69::2/128 dev lo
ip -n "$H" link set ovl0 up
ip -n "$E" link set ovl0p up
tb_wait_link "$H" ovl0 || tb_die "ovl0 did not come up"
tb_wait_link "$E" ovl0p || tb_die "ovl0p did not come up"
ip -n "$H" route add 100.71.1.2/32 via 100.70.0.2 dev ovl0
ip -n "$H" -6 route add fd00:69::2/128 via fd00:70::2 dev ovl0
ip -n "$E" route add default via 100.70.0.1
ip -n "$E" -6 route add default via fd00:70::1
tb_echo "$E" 53/udp 53/tcp || tb_die "the peer's responder did not start"
# only netfilter judges: the kernel's own reverse-path filter off
tb_exec "$H" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.ovl0.rp_filter=0 net.ipv4.conf.tailscale0.rp_filter=0

S6=$TB_SVC_IP6
# id dir local remote proto local-port remote-port dev [mark=M] | namespace and cg-probe's arguments
FLOWS=(
	"dns-udp out $TB_HOST_IP 100.100.2.136 udp 40001 53 eth0|$H 100.100.2.136 53 udp"
	"dns-tcp out $TB_HOST_IP 100.100.2.136 tcp 40002 53 eth0|$H 100.100.2.136 53 tcp"
	"meta out $TB_HOST_IP 100.100.100.200 tcp 40003 80 eth0|$H 100.100.100.200 80 tcp"
	"ntp out $TB_HOST_IP 100.100.61.88 udp 40004 123 eth0|$H 100.100.61.88 123 udp"
	"gw out $TB_HOST_IP $TB_GW udp 40005 53 eth0|$H $TB_GW 53 udp"
	"dns-mark out $TB_HOST_IP 100.100.2.138 udp 40006 53 eth0 mark=0x80000|$H --mark 0x80000 100.100.2.138 53 udp"
	"tcp-mark out $TB_HOST_IP 100.100.2.136 tcp 40007 53 eth0 mark=0x80000|$H --mark 0x80000 100.100.2.136 53 tcp"
	"meta-mark out $TB_HOST_IP 100.100.100.200 tcp 40008 80 eth0 mark=0x80000|$H --mark 0x80000 100.100.100.200 80 tcp"
	"peer out 100.70.0.1 100.71.1.2 tcp 40009 53 ovl0|$H 100.71.1.2 53 tcp"
	"peer-udp out 100.70.0.1 100.71.1.2 udp 40010 53 ovl0|$H 100.71.1.2 53 udp"
	"hc in $TB_HOST_IP 100.100.2.136 tcp 8080 40011 eth0|$P --from 100.100.2.136 $TB_HOST_IP 8080 tcp"
	"hc-udp in $TB_HOST_IP 100.125.1.250 udp 5353 40012 eth0|$P --from 100.125.1.250 $TB_HOST_IP 5353 udp"
	"hc-peer in 100.70.0.1 100.71.1.2 tcp 8080 40013 ovl0|$E --from 100.71.1.2 100.70.0.1 8080 tcp"
	"dns6 out $TB_HOST_IP6 $S6 udp 40014 53 eth0|$H $S6 53 udp"
	"dns6-tcp out $TB_HOST_IP6 $S6 tcp 40015 53 eth0|$H $S6 53 tcp"
	"dns6-mark out $TB_HOST_IP6 $S6 udp 40016 53 eth0 mark=0x80000|$H --mark 0x80000 $S6 53 udp"
	"tcp6-mark out $TB_HOST_IP6 $S6 tcp 40017 53 eth0 mark=0x80000|$H --mark 0x80000 $S6 53 tcp"
	"peer6 out fd00:70::1 fd00:69::2 tcp 40018 53 ovl0|$H fd00:69::2 53 tcp"
	"peer6-udp out fd00:70::1 fd00:69::2 udp 40019 53 ovl0|$H fd00:69::2 53 udp"
	"hc6 in $TB_HOST_IP6 $S6 tcp 8080 40020 eth0|$P --from $S6 $TB_HOST_IP6 8080 tcp"
	"hc6-peer in fd00:70::1 fd00:69::2 tcp 8080 40021 ovl0|$E --from fd00:69::2 fd00:70::1 8080 tcp"
)

# --- routing states ----------------------------------------------------------

routing() { # plain | exit | exit-throw
	local fam
	for fam in -4 -6; do
		for pref in 5200 5201 5205 5210 5230 5250 5270; do
			while ip -n "$H" $fam rule del pref $pref 2>/dev/null; do :; done
		done
		ip -n "$H" $fam route flush table 52 2>/dev/null || true
	done
	[ "$1" = plain ] && return 0
	for fam in -4 -6; do
		ip -n "$H" $fam rule add pref 5210 fwmark 0x80000/0xff0000 table main
		ip -n "$H" $fam rule add pref 5230 fwmark 0x80000/0xff0000 table default
		ip -n "$H" $fam rule add pref 5250 fwmark 0x80000/0xff0000 unreachable
		ip -n "$H" $fam rule add pref 5270 table 52
	done
	# Tailscale's peers and quad-100, the exit node, the LAN thrown back
	ip -n "$H" route add 100.90.3.4/32 dev tailscale0 table 52
	ip -n "$H" route add 100.100.100.100/32 dev tailscale0 table 52
	ip -n "$H" route add default dev tailscale0 table 52
	ip -n "$H" route add throw 172.24.0.0/18 table 52
	ip -n "$H" route add throw 100.70.0.0/24 table 52
	ip -n "$H" route add throw 100.71.0.0/16 table 52
	ip -n "$H" -6 route add fd7a:115c:a1e0::2/128 dev tailscale0 table 52
	ip -n "$H" -6 route add default dev tailscale0 table 52
	ip -n "$H" -6 route add throw fd00:cafe::/64 table 52
	ip -n "$H" -6 route add throw fd00:70::/64 table 52
	ip -n "$H" -6 route add throw fd00:69::/64 table 52
	case $1 in
	exit | exit-tos)
		# DNS keeps to the provider, and so do the health checks'
		# answers: the route honours it, fib cannot
		for fam in -4 -6; do
			ip -n "$H" $fam rule add pref 5200 ipproto udp dport 53 table main
			ip -n "$H" $fam rule add pref 5201 ipproto tcp sport 8080 table main
		done
		# a rule by DSCP: fib's lookup carries the packet's, which no
		# flow determines
		if [ "$1" = exit-tos ]; then
			ip -n "$H" rule add pref 5205 tos 0x10 table main
		fi
		;;
	exit-throw)
		ip -n "$H" route add throw 100.100.0.0/16 table 52
		ip -n "$H" route add throw 100.125.0.0/16 table 52
		ip -n "$H" -6 route add throw fd00:cafe:1::/64 table 52
		;;
	esac
}

# applicable FLOW: the flow's own route (an outbound request's, an inbound
# flow's reply's) leaves by the flow's device
applicable() {
	local id dir l r proto lp rp dev mark got args
	read -r id dir l r proto lp rp dev mark <<<"${1%%|*}"
	args=(route get "$r" from "$l" ipproto "$proto")
	if [ "$dir" = out ]; then args+=(dport "$rp" sport "$lp"); else args+=(sport "$lp" dport "$rp"); fi
	[ -n "$mark" ] && args+=(mark "${mark#mark=}")
	got=$(ip -n "$H" "${args[@]}" 2>/dev/null) || return 1
	[[ $got == *" dev $dev "* ]]
}

# --- rulesets ------------------------------------------------------------------

KINDS=${NFT_FIB_KINDS:-nixos-strict nixos-loose nixos-allow wiki input names types vmap connmark}

ruleset() { # KIND FAMILY
	local kind=$1 fam=$2 dhcp="udp sport . udp dport { 67 . 68, 68 . 67 } accept comment \"DHCPv4 client/server\""
	[ "$fam" = inet ] && dhcp="meta nfproto ipv4 $dhcp"
	[ "$fam" = ip6 ] && dhcp=""
	echo "table $fam t {"
	case $kind in
	nixos-strict | nixos-loose | nixos-allow | connmark)
		local dev=" . iif"
		[ "$kind" = nixos-loose ] && dev=""
		cat <<EOF
	chain rpfilter {
		type filter hook prerouting priority mangle + 10; policy drop;
		$dhcp
		fib saddr . mark$dev oif exists accept
		jump rpfilter-allow
	}
	chain rpfilter-allow {
EOF
		[ "$kind" = nixos-allow ] && echo "		fib daddr . mark . iif type local accept"
		echo "	}"
		if [ "$kind" = connmark ]; then
			cat <<EOF
	chain out {
		type route hook output priority mangle; policy accept;
		meta mark != 0 ct mark set meta mark
	}
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		ct mark != 0 meta mark set ct mark
	}
EOF
		fi
		;;
	wiki)
		cat <<EOF
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		fib saddr . iif oif missing drop
	}
EOF
		;;
	input)
		cat <<EOF
	chain in {
		type filter hook input priority filter; policy accept;
		fib saddr . mark . iif oif missing drop
	}
EOF
		;;
	names)
		cat <<EOF
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		fib saddr oifname "tailscale0" drop
		fib saddr . mark oifname != { "eth0", "ovl0", "lo" } drop
		fib daddr oif != 0 drop
	}
EOF
		;;
	types)
		cat <<EOF
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		fib daddr type != local drop
		fib saddr type local drop
		fib saddr . iif type { broadcast, multicast, local } drop
	}
	chain in {
		type filter hook input priority filter; policy accept;
		fib daddr . iif type local tcp dport 8080 drop
		fib saddr type unicast udp sport 123 drop
		fib saddr . mark type unicast tcp sport 80 drop
	}
	chain out {
		type filter hook output priority filter; policy accept;
		fib daddr type local drop
		fib saddr . oif type != local drop
		fib daddr . oif type unicast udp dport 5353 drop
	}
EOF
		;;
	vmap)
		cat <<EOF
	chain pre {
		type filter hook prerouting priority filter; policy drop;
		fib saddr . mark . iif oif vmap { "eth0" : accept, "ovl0" : accept, "lo" : accept }
	}
EOF
		;;
	esac
	echo "}"
}

probe_words() { # DIR: every flow's kernel word in DIR/kN
	local pids=() pns pi k rest
	local -a nss=()
	rm -f "$DIR"/probes.* "$DIR"/k*
	for k in "${!FLOWS[@]}"; do
		[ -n "${APPLY[k]}" ] || continue
		rest=${FLOWS[k]#*|}
		pns=${rest%% *}
		for pi in "${!nss[@]}"; do [ "${nss[pi]}" = "$pns" ] && break; done
		if [ "${#nss[@]}" = 0 ] || [ "${nss[pi]}" != "$pns" ]; then
			pi=${#nss[@]}
			nss+=("$pns")
		fi
		echo "$k ${rest#* }" >>"$DIR/probes.$pi"
	done
	for pi in "${!nss[@]}"; do
		# shellcheck disable=SC2016 # expanded by the inner shell
		tb_exec "${nss[pi]}" bash -c 'while read -r k args; do
			"$0" --timeout 200 $args >"$1/k$k" 2>/dev/null &
		done <"$2"; wait' "$PROBE" "$DIR" "$DIR/probes.$pi" &
		pids+=($!)
	done
	wait "${pids[@]}" 2>/dev/null || true
}

DEFINITE=0 UNCERTAIN=0 DISAGREE=0 LEFT_OUT=0
declare -A WHY=() KERNEL=()
DIR=$W/run
mkdir -p "$DIR"
for scen in plain exit exit-throw exit-tos; do
	kinds=$KINDS
	[ "$scen" = exit-tos ] && kinds="nixos-strict types"
	routing "$scen"
	APPLY=()
	for k in "${!FLOWS[@]}"; do
		if applicable "${FLOWS[k]}"; then APPLY[k]=1; else APPLY[k]=; LEFT_OUT=$((LEFT_OUT + 1)); fi
	done
	: >"$DIR/flows"
	for k in "${!FLOWS[@]}"; do
		[ -n "${APPLY[k]}" ] && echo "${FLOWS[k]%%|*}" >>"$DIR/flows"
	done
	for kind in $kinds; do
		for fam in ip ip6 inet; do
			label="$scen $kind $fam"
			for ns in "$H" "$P" "$E"; do tb_exec "$ns" conntrack -F >/dev/null 2>&1 || true; done
			tb_exec "$H" nft flush ruleset
			ruleset "$kind" "$fam" >"$DIR/rules.nft"
			if ! tb_exec "$H" nft -f "$DIR/rules.nft" 2>"$DIR/load.err"; then
				t_fail "$label: nft -f refused the ruleset: $(head -c 300 "$DIR/load.err")"
				continue
			fi
			if ! tb_exec "$H" "$SIM" <"$DIR/flows" >"$DIR/sim" 2>"$DIR/sim.err"; then
				t_fail "$label: nf-simulate failed: $(cat "$DIR/sim.err")"
				continue
			fi
			declare -A SIMV=() SIMREST=()
			while read -r id verdict rest; do
				SIMV[$id]=$verdict SIMREST[$id]=$rest
			done <"$DIR/sim"
			probe_words
			for k in "${!FLOWS[@]}"; do
				[ -n "${APPLY[k]}" ] || continue
				id=${FLOWS[k]%% *}
				word=; read -r word <"$DIR/k$k" 2>/dev/null || true
				verdict=${SIMV[$id]:-missing}
				if [ "$word" = timeout ] && [ "$verdict" != blocked ]; then
					# a loaded machine can miss a short deadline: ask again
					rest=${FLOWS[k]#*|}
					for ns in "$H" "$P" "$E"; do tb_exec "$ns" conntrack -F >/dev/null 2>&1 || true; done
					# shellcheck disable=SC2086
					word=$(tb_exec "${rest%% *}" "$PROBE" --timeout 3000 ${rest#* } 2>/dev/null || true)
				fi
				want=blocked
				[ "$word" = reply ] && want=reachable
				KERNEL[$want]=$((${KERNEL[$want]:-0} + 1))
				case $verdict in
				"$want") DEFINITE=$((DEFINITE + 1)) ;;
				uncertain)
					UNCERTAIN=$((UNCERTAIN + 1))
					w=$(sed -n 's/.* what=//p' <<<"${SIMREST[$id]}")
					WHY[$w]=$((${WHY[$w]:-0} + 1))
					;;
				*)
					DISAGREE=$((DISAGREE + 1))
					t_fail "$label flow $id: kernel $word, simulator $verdict (${SIMREST[$id]:-})"
					echo "--- ruleset:" >&2
					cat "$DIR/rules.nft" >&2
					;;
				esac
			done
			unset SIMV SIMREST
			[ -z "${NFT_FIB_VERBOSE:-}" ] || echo "$label: blocked: $(grep -c ' blocked ' "$DIR/sim" || true)" \
				"$(grep ' blocked ' "$DIR/sim" | cut -d' ' -f1 | tr '\n' ' ')" >&2
		done
	done
done
routing plain
TOTAL=$((DEFINITE + UNCERTAIN + DISAGREE))
echo "nft-fib: $TOTAL flows compared ($LEFT_OUT flow-routing pairs left out: the flow's own route" \
	"leaves elsewhere); $DEFINITE decided definitely and as the kernel did ($(awk -v d="$DEFINITE" -v t="$TOTAL" 'BEGIN { printf "%.1f%%", t ? 100 * d / t : 0 }'))," \
	"$UNCERTAIN uncertain, $DISAGREE contradicted by the kernel; the kernel let" \
	"${KERNEL[reachable]:-0} through and stopped ${KERNEL[blocked]:-0}" >&2
for w in "${!WHY[@]}"; do
	echo "  uncertain ${WHY[$w]}x: $w" >&2
done
t_expect "no verdict the kernel contradicts" 0 "$DISAGREE"
[ "$TOTAL" -gt 0 ] || t_fail "no flow compared"

# --- 3. the audit ----------------------------------------------------------------

tb_audit_env AUD
routing exit
for kind in nixos-strict nixos-loose; do
	for ns in "$H" "$P"; do tb_exec "$ns" conntrack -F >/dev/null 2>&1 || true; done
	tb_exec "$H" nft flush ruleset
	ruleset "$kind" inet | tb_exec "$H" nft -f -
	status=0
	tb_exec "$H" "$CGNATCHECK" --format json --service 100.100.2.136:53/udp >"$AUD/out.json" 2>"$AUD/err" ||
		status=$?
	[ "$status" != 3 ] || { cat "$AUD/err" >&2; t_fail "audit ($kind): could not complete"; continue; }
	got=$(tb_json 'r["targets"][0]["verdict"] + " " + r["targets"][0]["reply"]["verdict"]')
	word=$(tb_exec "$H" "$PROBE" --timeout 300 100.100.2.136 53 udp 2>/dev/null || true)
	if [ "$kind" = nixos-strict ]; then
		t_expect "audit, NixOS rpfilter strict behind an exit node: the resolver's replies" "blocked drop" "$got"
		t_expect "audit, NixOS rpfilter strict: the kernel drops them too" timeout "$word"
		t_expect "audit, NixOS rpfilter strict: exit status" 2 "$status"
	else
		[ "$word" = reply ] || word=$(tb_exec "$H" "$PROBE" --timeout 3000 100.100.2.136 53 udp 2>/dev/null || true)
		t_expect "audit, NixOS rpfilter loose behind an exit node: the resolver's replies" "reachable accept" "$got"
		t_expect "audit, NixOS rpfilter loose: the kernel lets them in" reply "$word"
	fi
done
routing plain

t_done
