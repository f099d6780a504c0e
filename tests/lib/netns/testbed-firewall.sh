#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The body of testbed-legacy.sh, testbed-nft.sh and testbed-nftables.sh (not a
# test by itself): `testbed-firewall.sh FORM`. It proves, for one firewall
# form, that the kernel oracle sees what the seed report describes:
#
#   no firewall          100.100.2.136:53 answers (udp, tcp)
#   new  (v1.98+)        100.100.2.136:53 and 100.100.100.200:80 time out,
#                        while the gateway 172.24.63.253 (outside
#                        100.64.0.0/10) still answers
#   new + exception      the ESTABLISHED RETURN for 100.100.2.136 on eth0,
#                        placed right before the DROP, brings 100.100.2.136
#                        back (udp and tcp); 100.100.2.138 stays cut off
#   restart              tailscaled's restart (remove, install) loses that
#                        exception, and moves an ACCEPT the admin put above
#                        the jump in INPUT below it again
#   old  (< 1.96)        100.100.2.136 times out
#   nodivert             the rules are there but nothing jumps to them: answers
#   return               the node attribute's RETURN: answers
#
# and before trusting any of those, that the rules really are where claimed:
# the exact ts-input, ts-forward and ts-postrouting chains, the jumps first in
# INPUT, FORWARD and nat POSTROUTING (or absent for nodivert), the connmark
# rules first in mangle, the IPv6 chains without the CGNAT rule, nothing in the
# other back end, and nothing left after tb_ts_remove.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}/tests/lib/netns/lib.sh"

form=${1:?usage: testbed-firewall.sh legacy|nft|nftables}
tb_init
tb_scenario

# --- the layouts, as each form lists them --------------------------------------
if [ "$form" = nftables ]; then
	T='"tailscale0*"'
	r_lo="iifname \"lo*\" ip saddr $TB_TS_IP counter accept"
	r_lo6="iifname \"lo*\" ip6 saddr $TB_TS_IP6 counter accept"
	r_tun="iifname $T counter accept"
	r_port="udp dport 41641 counter accept"
	r_chromeos="iifname != $T ip saddr 100.115.92.0/23 counter return"
	r_drop="iifname != $T ip saddr 100.64.0.0/10 counter drop"
	r_return="iifname != $T ip saddr 100.64.0.0/10 counter return"
	r_exception='iifname "eth0" ip saddr 100.100.2.136 ct state established return'
	fwd4="iifname $T counter meta mark set meta mark & 0xff04ffff | 0x00040000
meta mark & 0x00ff0000 == 0x00040000 counter accept
oifname $T ip saddr 100.64.0.0/10 counter drop
oifname $T counter accept"
	fwd6="iifname $T counter meta mark set meta mark & 0xff04ffff | 0x00040000
meta mark & 0x00ff0000 == 0x00040000 counter accept
oifname $T counter accept"
	masq="meta mark & 0x00ff0000 == 0x00040000 counter masquerade"
	jump_in="counter jump ts-input" jump_fwd="counter jump ts-forward" jump_post="counter jump ts-postrouting"
	restore_re='comment "ts-connmark-restore"'
	save_re='comment "ts-connmark-save"'
else
	r_lo="-s $TB_TS_IP/32 -i lo -j ACCEPT"
	r_lo6="-s $TB_TS_IP6/128 -i lo -j ACCEPT"
	r_tun="-i tailscale0 -j ACCEPT"
	r_port="-p udp -m udp --dport 41641 -j ACCEPT"
	r_chromeos="-s 100.115.92.0/23 ! -i tailscale0 -j RETURN"
	r_drop="-s 100.64.0.0/10 ! -i tailscale0 -j DROP"
	r_return="-s 100.64.0.0/10 ! -i tailscale0 -j RETURN"
	r_exception="-s 100.100.2.136/32 -i eth0 -m conntrack --ctstate ESTABLISHED -j RETURN"
	fwd4="-i tailscale0 -j MARK --set-xmark 0x40000/0xff0000
-m mark --mark 0x40000/0xff0000 -j ACCEPT
-s 100.64.0.0/10 -o tailscale0 -j DROP
-o tailscale0 -j ACCEPT"
	fwd6="-i tailscale0 -j MARK --set-xmark 0x40000/0xff0000
-m mark --mark 0x40000/0xff0000 -j ACCEPT
-o tailscale0 -j ACCEPT"
	masq="-m mark --mark 0x40000/0xff0000 -j MASQUERADE"
	jump_in="-j ts-input" jump_fwd="-j ts-forward" jump_post="-j ts-postrouting"
	restore_re="CONNMARK --restore-mark --nfmask 0xff0000 --ctmask 0xff0000"
	save_re="CONNMARK --save-mark --nfmask 0xff0000 --ctmask 0xff0000"
fi
lines() { printf '%s\n' "$@"; }
input_new=$(lines "$r_lo" "$r_tun" "$r_port" "$r_chromeos" "$r_drop")
input_old=$(lines "$r_lo" "$r_chromeos" "$r_drop" "$r_tun" "$r_port")
input_return=$(lines "$r_lo" "$r_tun" "$r_port" "$r_return")
input_exception=$(lines "$r_lo" "$r_tun" "$r_port" "$r_chromeos" "$r_exception" "$r_drop")
input6=$(lines "$r_lo6" "$r_tun" "$r_port")

chain() { tb_chain_rules "$form" "$@" 2>/dev/null || true; }
first() { chain "$@" | head -n1; }

# The other back ends must stay empty: a test passing because the rules went
# to the wrong place would prove nothing.
check_other_backends() {
	local what=$1
	if [ "$form" = legacy ]; then
		t_expect "$what: no nftables ruleset" "" "$(tb_exec "$TB_HOST" nft list ruleset)"
	else
		t_expect "$what: no iptables-legacy rules" "" "$(tb_exec "$TB_HOST" iptables-legacy-save)"
		t_expect "$what: no ip6tables-legacy rules" "" "$(tb_exec "$TB_HOST" ip6tables-legacy-save)"
	fi
}

check_layout() { # VARIANT EXPECTED_TS_INPUT
	local v=$1 want_input=$2 fam
	t_expect "$form $v: ts-input, exactly" "$want_input" "$(chain 4 filter ts-input)"
	t_expect "$form $v: IPv6 ts-input, exactly (no CGNAT rule)" "$input6" "$(chain 6 filter ts-input)"
	t_expect "$form $v: ts-forward, exactly" "$fwd4" "$(chain 4 filter ts-forward)"
	t_expect "$form $v: IPv6 ts-forward, exactly" "$fwd6" "$(chain 6 filter ts-forward)"
	for fam in 4 6; do
		t_expect "$form $v: IPv$fam nat ts-postrouting" "$masq" "$(chain $fam nat ts-postrouting)"
		if [ "$v" = nodivert ]; then
			case $(chain $fam filter INPUT; chain $fam filter FORWARD; chain $fam nat POSTROUTING) in
			*ts-*) t_fail "$form $v: IPv$fam has a jump to a ts- chain" ;;
			*) t_ok "$form $v: IPv$fam has no jump to the ts- chains" ;;
			esac
		else
			t_expect "$form $v: IPv$fam INPUT starts with the jump" "$jump_in" "$(first $fam filter INPUT)"
			t_expect "$form $v: IPv$fam FORWARD starts with the jump" "$jump_fwd" "$(first $fam filter FORWARD)"
			t_expect "$form $v: IPv$fam nat POSTROUTING starts with the jump" "$jump_post" "$(first $fam nat POSTROUTING)"
			t_expect "$form $v: IPv$fam one jump to ts-input" 1 "$(chain $fam filter INPUT | grep -c 'ts-input')"
		fi
		case $v in
		new | return)
			case $(first $fam mangle PREROUTING) in
			*"$restore_re"*) t_ok "$form $v: IPv$fam mangle PREROUTING starts with the connmark restore" ;;
			*) t_fail "$form $v: IPv$fam mangle PREROUTING: $(chain $fam mangle PREROUTING)" ;;
			esac
			case $(first $fam mangle OUTPUT) in
			*"$save_re"*) t_ok "$form $v: IPv$fam mangle OUTPUT starts with the connmark save" ;;
			*) t_fail "$form $v: IPv$fam mangle OUTPUT: $(chain $fam mangle OUTPUT)" ;;
			esac
			;;
		*)
			case $(chain $fam mangle PREROUTING; chain $fam mangle OUTPUT) in
			*connmark* | *CONNMARK*) t_fail "$form $v: IPv$fam has connmark rules" ;;
			*) t_ok "$form $v: IPv$fam has no connmark rules" ;;
			esac
			;;
		esac
	done
	check_other_backends "$form $v"
}

check_removed() { # WHAT
	local dump
	dump=$(tb_fw_dump "$form" 2>/dev/null)
	case $dump in
	*ts-* | *CONNMARK* | *connmark*) t_fail "$1: Tailscale's rules are still there: $dump" ;;
	*) t_ok "$1: no ts- chain, jump or connmark rule left" ;;
	esac
}

install() { tb_ts_install "$form" "$1" || tb_die "tb_ts_install $form $1 failed"; }
remove() { tb_ts_remove "$form" || tb_die "tb_ts_remove $form failed"; }

# --- no firewall ---------------------------------------------------------------
tb_expect_probe "no firewall: 100.100.2.136:53/udp" reply 100.100.2.136 53 udp
tb_expect_probe "no firewall: 100.100.2.136:53/tcp" reply 100.100.2.136 53 tcp
tb_expect_probe "no firewall: 100.100.100.200:80/tcp" reply 100.100.100.200 80 tcp

# --- new -----------------------------------------------------------------------
install new
check_layout new "$input_new"
tb_expect_probe "new: 100.100.2.136:53/udp dropped" timeout 100.100.2.136 53 udp
tb_expect_probe "new: 100.100.2.136:53/tcp dropped" timeout 100.100.2.136 53 tcp
tb_expect_probe "new: 100.100.100.200:80/tcp dropped" timeout 100.100.100.200 80 tcp
tb_expect_probe "new: the gateway (not CGNAT) still answers" reply "$TB_GW" 53 udp

tb_exception "$form" || tb_die "tb_exception $form failed"
t_expect "$form: the exception sits right before the DROP" "$input_exception" "$(chain 4 filter ts-input)"
tb_expect_probe "exception: 100.100.2.136:53/udp answers" reply 100.100.2.136 53 udp
tb_expect_probe "exception: 100.100.2.136:53/tcp answers" reply 100.100.2.136 53 tcp
tb_expect_probe "exception: 100.100.2.138:53/udp still dropped" timeout 100.100.2.138 53 udp

# --- restart ---------------------------------------------------------------------
remove
check_removed "stop"
tb_expect_probe "stopped: 100.100.2.136:53/udp answers" reply 100.100.2.136 53 udp
install new
t_expect "restart: ts-input rewritten without the exception" "$input_new" "$(chain 4 filter ts-input)"
tb_expect_probe "restart: the exception is lost, 100.100.2.136 dropped" timeout 100.100.2.136 53 udp
# An ACCEPT the admin inserts at the top of INPUT, above the jump, works...
if [ "$form" = nftables ]; then
	tb_exec "$TB_HOST" nft insert rule ip filter INPUT ip saddr 100.100.2.136 accept
else
	[ "$form" = legacy ] && ipt=iptables-legacy || ipt=iptables-nft
	tb_exec "$TB_HOST" "$ipt" -w -I INPUT 1 -s 100.100.2.136/32 -j ACCEPT
fi
tb_expect_probe "an ACCEPT above the jump lets 100.100.2.136 in" reply 100.100.2.136 53 udp
# ...until tailscaled restarts and puts its jump first again.
remove
install new
t_expect "restart: the jump is first in INPUT again" "$jump_in" "$(first 4 filter INPUT)"
tb_expect_probe "restart: the ACCEPT is below the jump, 100.100.2.136 dropped" timeout 100.100.2.136 53 udp
# Take the admin's rule out again so the next layouts start from Tailscale's.
if [ "$form" = nftables ]; then
	h=$(tb_exec "$TB_HOST" nft -a list chain ip filter INPUT | sed -n -E 's/.*ip saddr 100\.100\.2\.136 accept # handle ([0-9]+)$/\1/p')
	tb_exec "$TB_HOST" nft delete rule ip filter INPUT handle "$h"
else
	tb_exec "$TB_HOST" "$ipt" -w -D INPUT -s 100.100.2.136/32 -j ACCEPT
fi
remove

# --- old, nodivert, return -------------------------------------------------------
install old
check_layout old "$input_old"
tb_expect_probe "old: 100.100.2.136:53/udp dropped" timeout 100.100.2.136 53 udp
tb_expect_probe "old: 100.100.2.136:53/tcp dropped" timeout 100.100.2.136 53 tcp
remove

install nodivert
check_layout nodivert "$input_new"
tb_expect_probe "nodivert: 100.100.2.136:53/udp answers" reply 100.100.2.136 53 udp
tb_expect_probe "nodivert: 100.100.2.136:53/tcp answers" reply 100.100.2.136 53 tcp
remove

install return
check_layout return "$input_return"
tb_expect_probe "return: 100.100.2.136:53/udp answers" reply 100.100.2.136 53 udp
tb_expect_probe "return: 100.100.2.136:53/tcp answers" reply 100.100.2.136 53 tcp
tb_expect_probe "return: 100.100.100.200:80/tcp answers" reply 100.100.100.200 80 tcp
t_run tb_exception "$form"
t_expect "return: tb_exception refuses a chain without a DROP" 1 "$t_status"
remove

check_removed "the end"
check_other_backends "the end"
tb_expect_probe "the end: 100.100.2.136:53/udp answers" reply 100.100.2.136 53 udp

t_done
