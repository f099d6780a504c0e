#!/usr/bin/env bash
# Marks set on the way out re-route (issue 14, item 2). The host uses a
# Tailscale exit node (table 52's default route into tailscale0, rule 5270)
# and bypasses it for the provider's range with Tailscale's bypass mark
# 0x80000/0xff0000 set on the way out, in each form:
#   legacy        iptables-legacy -t mangle OUTPUT (re-routes: iptable_mangle)
#   nft           iptables-nft -t mangle OUTPUT (a `type route` chain)
#   route-ip      nft `type route hook output` in an ip table
#   route-inet    the same in an inet table
#   filter        nft `type filter hook output` chain OUTPUT in table ip
#                 mangle: no re-route, the query goes into tailscale0
# with Tailscale's connmark save/restore rules absent, before the user's
# MARK (first: the mark is saved and restored on the reply) or after it
# (last), and with rp_filter strict (src_valid_mark 0 and 1) or loose, or
# instead of rp_filter the NixOS firewall's `fib saddr . mark . iif oif
# exists accept` in a prerouting chain with policy drop. The
# audit's verdict on DNS to 100.100.2.136 must equal the kernel's: reachable
# exactly when the query is answered.
#
# IPv6 the same way (ip6_route_me_harder, from ip6table_mangle's OUTPUT and
# nft_chain_route's ip6/inet hook): the exit node's IPv6 default route in
# table 52 and the fwmark rules of `ip -6 rule`, the bypass mark set for
# fd00:cafe:1::/64 with ip6tables-legacy, ip6tables-nft, an ip6 or inet
# route chain, or a filter-type chain in table ip6 mangle (no re-route); DNS
# to fd00:cafe:1::136. IPv6 has no rp_filter: without the fib chain the
# re-routed query is answered; with it, the reply passes only when it
# carries the mark back (connmark restored before the fib check).
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3 iptables-legacy iptables-nft ip6tables-legacy ip6tables-nft nft

M=$TB_TS_BYPASS_MARK
MASK=$TB_TS_MASK

bed_setup() {
	tb_ts_routing exitnode || tb_die "cannot add Tailscale's routing"
	# the provider answers the overlay source the bypassed query leaves
	# with: only the host decides
	ip -n "$TB_PROV" route add "$TB_TS_IP/32" via "$TB_HOST_IP" || tb_die "cannot route the provider back"
	# and asks for the host's link address from its own address on the
	# link, as a VPC's gateway does: with the answer's source (the
	# resolver's, on its lo) a strict rp_filter on the host would drop the
	# ARP request itself, whatever the mark
	tb_exec "$TB_PROV" sysctl -qw net.ipv4.conf.all.arp_announce=2 || tb_die "cannot set arp_announce"
	ip -n "$TB_PROV" -6 route add "$TB_TS_IP6/128" via "$TB_HOST_IP6" || tb_die "cannot route the provider back (IPv6)"
}

fw_reset() {
	local t
	for t in mangle filter nat raw; do
		tb_exec "$TB_HOST" iptables-legacy -t "$t" -F
		tb_exec "$TB_HOST" ip6tables-legacy -t "$t" -F
	done
	tb_exec "$TB_HOST" nft flush ruleset
}

# Tailscale's connmark rules, inserted at the top as tailscaled does
ts_connmark_ipt() { # IPTABLES
	tb_exec "$TB_HOST" "$1" -t mangle -I PREROUTING 1 -m conntrack --ctstate ESTABLISHED,RELATED \
		-m connmark ! --mark "0x0/$MASK" -j CONNMARK --restore-mark --nfmask "$MASK" --ctmask "$MASK"
	tb_exec "$TB_HOST" "$1" -t mangle -I OUTPUT 1 -m conntrack --ctstate NEW \
		-m mark ! --mark "0x0/$MASK" -j CONNMARK --save-mark --nfmask "$MASK" --ctmask "$MASK"
}

setup_ipt() { # IPTABLES CONN
	local ipt=$1 conn=$2 mark=(-t mangle OUTPUT -d "$BYPASS" -j MARK --set-xmark "$M/$MASK")
	case $conn in
	none) tb_exec "$TB_HOST" "$ipt" "${mark[@]:0:2}" -A "${mark[@]:2}" ;;
	first) ts_connmark_ipt "$ipt" && tb_exec "$TB_HOST" "$ipt" "${mark[@]:0:2}" -I "${mark[2]}" 1 "${mark[@]:3}" ;;
	last) tb_exec "$TB_HOST" "$ipt" "${mark[@]:0:2}" -A "${mark[@]:2}" && ts_connmark_ipt "$ipt" ;;
	esac
}

setup_nft() { # FAMILY CHAIN-TYPE CONN
	local fam=$1 type=$2 conn=$3 table mark save restore daddr=ip
	if [ "$type" = filter ]; then table=mangle; else table=bypass; fi
	[ "$V" = 6 ] && daddr=ip6
	mark="$daddr daddr $BYPASS meta mark set meta mark & 0xff00ffff | $M"
	save="ct state new meta mark & $MASK != 0 ct mark set meta mark & $MASK"
	restore="ct state established,related ct mark & $MASK != 0 meta mark set ct mark & $MASK"
	{
		echo "table $fam $table {"
		echo "	chain OUTPUT {"
		echo "		type $type hook output priority mangle; policy accept;"
		case $conn in
		none) echo "		$mark" ;;
		first) printf '\t\t%s\n' "$mark" "$save" ;;
		last) printf '\t\t%s\n' "$save" "$mark" ;;
		esac
		echo "	}"
		echo "	chain PREROUTING {"
		echo "		type filter hook prerouting priority mangle; policy accept;"
		[ "$conn" = none ] || echo "		$restore"
		echo "	}"
		echo "}"
	} | tb_exec "$TB_HOST" nft -f -
}

# the NixOS firewall's reverse path filter in its nftables form (strict)
nixos_rpfilter() {
	tb_exec "$TB_HOST" nft -f - <<'RPF'
table inet nixos-fw {
	chain rpfilter {
		type filter hook prerouting priority mangle + 10; policy drop;
		fib saddr . mark . iif oif exists accept
	}
}
RPF
}

one_case() { # FORM CONN RP SVM FIB
	local form=$1 conn=$2 rp=$3 svm=$4 fib=$5 label verdict word want ip=ip ipt=iptables
	label="$form conn=$conn rp_filter=$rp src_valid_mark=$svm"
	[ "$V" = 4 ] || label="IPv6 $form conn=$conn" ip=ip6 ipt=ip6tables
	[ "$fib" = no ] || label="$label nft-fib"
	fw_reset
	tb_exec "$TB_HOST" sysctl -qw net.ipv4.conf.all.rp_filter="$rp" net.ipv4.conf.eth0.rp_filter="$rp" \
		net.ipv4.conf.all.src_valid_mark="$svm" net.ipv4.conf.eth0.src_valid_mark="$svm" >/dev/null
	case $form in
	legacy) setup_ipt $ipt-legacy "$conn" ;;
	nft) setup_ipt $ipt-nft "$conn" ;;
	route-ip) setup_nft $ip route "$conn" ;;
	route-inet) setup_nft inet route "$conn" ;;
	filter) setup_nft $ip filter "$conn" ;;
	esac || { t_fail "$label: the rules could not be set up"; return; }
	if [ "$fib" != no ]; then nixos_rpfilter || { t_fail "$label: the fib chain could not be set up"; return; }; fi
	tb_exec "$TB_HOST" "$CGNATCHECK" --format json --dns "$SVC" >"$WORK/out.json" 2>"$WORK/err" || true
	verdict=$(tb_json "[t['verdict'] for t in r['targets'] if t['address'] == '$SVC'][0]" 2>/dev/null ||
		echo "no report: $(head -c 300 "$WORK/err")")
	word=$(tb_probe "$SVC" 53 udp || true)
	[ "$word" = timeout ] && [ "$verdict" = reachable ] &&
		word=$(tb_probe "$SVC" 53 udp --timeout 3000 || true)
	if [ "$word" = reply ]; then want=reachable; else want="blocked|unroutable"; fi
	case "|$want|" in
	*"|$verdict|"*) t_ok "$label: $verdict, the kernel agrees ($word)" ;;
	*) t_fail "$label: cgnatcheck says $verdict, the kernel $word" ;;
	esac
	# where the kernel answers, it must be because of the bypass: the
	# filter-type chain never re-routes
	if [ "$form" = filter ]; then
		t_expect "$label: no re-route in a filter-type chain" timeout "$word"
		want="routed into the overlay"
	else
		# re-routed to eth0: what stops the answer is the source check
		want="source address fails the source check (martian or reverse path filter)"
	fi
	if [ "$verdict" = unroutable ] && { [ "$fib" = no ] || [ "$form" = filter ]; }; then
		t_expect "$label: why unroutable" "$want" \
			"$(tb_json "[t.get('unroutable_reason') for t in r['targets'] if t['address'] == '$SVC'][0]")"
	fi
}

job() { # BED RP SVM FIB [6]
	local form conn V=${5:-4} SVC=100.100.2.136 BYPASS=100.100.0.0/16
	[ "$V" = 4 ] || SVC=$TB_SVC_IP6 BYPASS=fd00:cafe:1::/64
	tb_use_bed "$1"
	tb_audit_env WORK
	mkdir -p "$WORK/dmi" "$WORK/local"
	for form in legacy nft route-ip route-inet filter; do
		for conn in none first last; do
			one_case "$form" "$conn" "$2" "$3" "$4"
		done
	done
}

tb_beds 6 bed_setup
tb_spawn "strict" job 0 1 0 no
tb_spawn "strict+src_valid_mark" job 1 1 1 no
tb_spawn "loose" job 2 2 0 no
# no rp_filter; nft's fib in its place, with the mark (src_valid_mark does
# not matter to fib)
tb_spawn "fib" job 3 0 0 yes
tb_spawn "ipv6" job 4 0 0 no 6
tb_spawn "ipv6 fib" job 5 0 0 yes 6
tb_join
t_done
