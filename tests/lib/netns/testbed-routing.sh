#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Tailscale's policy routing, no firewall: what `ip route get` says and what
# the oracle sees must agree.
#
#   peers                    100.100.2.136 via eth0 (main), answers; peers and
#                            quad-100 (100.100.100.100) dev tailscale0
#   exitnode                 100.100.2.136 dev tailscale0 (table 52's
#                            default) and silent; the LAN is thrown back to
#                            main; tailscaled's own bypass-marked traffic
#                            (0x80000) still goes via eth0 and answers
#   exitnode-throw-provider  `throw 100.100.0.0/16`: via eth0 again, answers,
#                            while quad-100's /32 still wins for 100.100.100.100
#
# Both families; removing the routing (tb_ts_unroute) restores the main table.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}/tests/lib/netns/lib.sh"

tb_init
tb_scenario

route() { ip -n "$TB_HOST" route get "$@" 2>&1 | head -n1; }
route6() { ip -n "$TB_HOST" -6 route get "$@" 2>&1 | head -n1; }
expect_route() { # DESC PATTERN ROUTE-OUTPUT
	# shellcheck disable=SC2254 # the pattern is a glob on purpose
	case $3 in $2) t_ok "$1" ;; *) t_fail "$1: got '$3'" ;; esac
}
via_eth0="* via $TB_GW dev eth0 *"
via_eth0_6="* via $TB_PROV_IP6 dev eth0 *"
via_tun="* dev $TB_TUN table 52 *"

check_common() { # VARIANT: what every variant shares
	local v=$1
	expect_route "$v: quad-100 100.100.100.100 goes to tailscale0" "$via_tun" "$(route 100.100.100.100)"
	expect_route "$v: peer 100.69.1.2 goes to tailscale0" "$via_tun" "$(route 100.69.1.2)"
	expect_route "$v: peer 100.90.3.4 goes to tailscale0" "$via_tun" "$(route 100.90.3.4)"
	expect_route "$v: IPv6 quad-100 goes to tailscale0" "$via_tun" "$(route6 fd7a:115c:a1e0::53)"
	expect_route "$v: bypass mark 0x80000 uses main for 100.100.2.136" "$via_eth0" "$(route 100.100.2.136 mark 0x80000)"
	tb_expect_probe "$v: bypass-marked probe to 100.100.2.136 answers" reply 100.100.2.136 53 udp --mark 0x80000
	# Table 52 is consulted after main's rule: the LAN stays on eth0.
	expect_route "$v: the gateway stays on eth0" "$TB_GW dev eth0 *" "$(route "$TB_GW")"
	tb_expect_probe "$v: the gateway answers" reply "$TB_GW" 53 udp
	# Nothing reads tailscale0: what goes there vanishes.
	tb_expect_probe "$v: quad-100 (tailscale0, no reader) is silent" timeout 100.100.100.100 53 udp
}

rules=$(ip -n "$TB_HOST" rule show)
tb_ts_routing peers || tb_die "tb_ts_routing peers failed"
for pref in "5210:	from all fwmark 0x80000/0xff0000 lookup main" \
	"5230:	from all fwmark 0x80000/0xff0000 lookup default" \
	"5250:	from all fwmark 0x80000/0xff0000 unreachable" \
	"5270:	from all lookup 52"; do
	case $(ip -n "$TB_HOST" rule show) in *"$pref"*) t_ok "rule ${pref%%	*} present" ;;
	*) t_fail "rule '$pref' missing: $(ip -n "$TB_HOST" rule show)" ;; esac
	case $(ip -n "$TB_HOST" -6 rule show) in *"$pref"*) t_ok "IPv6 rule ${pref%%	*} present" ;;
	*) t_fail "IPv6 rule '$pref' missing" ;; esac
done

# --- peers -----------------------------------------------------------------------
check_common peers
expect_route "peers: 100.100.2.136 via eth0" "$via_eth0" "$(route 100.100.2.136)"
tb_expect_probe "peers: 100.100.2.136:53/udp answers" reply 100.100.2.136 53 udp
tb_expect_probe "peers: 100.100.2.136:53/tcp answers" reply 100.100.2.136 53 tcp
expect_route "peers: IPv6 service via eth0" "$via_eth0_6" "$(route6 "$TB_SVC_IP6")"
tb_ts_unroute

# --- exitnode ----------------------------------------------------------------------
tb_ts_routing exitnode || tb_die "tb_ts_routing exitnode failed"
check_common exitnode
expect_route "exitnode: 100.100.2.136 goes to tailscale0" "$via_tun" "$(route 100.100.2.136)"
case $(ip -n "$TB_HOST" -o link show dev "$TB_TUN") in
*NO-CARRIER*) t_ok "exitnode: tailscale0 has no carrier, yet its routes are used" ;;
*) t_fail "tailscale0 has a carrier" ;;
esac
drops=$(tb_exec "$TB_HOST" cat "/sys/class/net/$TB_TUN/statistics/tx_dropped")
tb_expect_probe "exitnode: 100.100.2.136:53/udp is silent" timeout 100.100.2.136 53 udp
tb_expect_probe "exitnode: 100.100.2.136:53/tcp is silent" timeout 100.100.2.136 53 tcp
after=$(tb_exec "$TB_HOST" cat "/sys/class/net/$TB_TUN/statistics/tx_dropped")
if [ "$after" -gt "$drops" ]; then t_ok "exitnode: the probes died in tailscale0 (tx_dropped $drops -> $after)"
else t_fail "exitnode: tailscale0 tx_dropped did not grow ($drops -> $after)"; fi
expect_route "exitnode: IPv6 service goes to tailscale0" "$via_tun" "$(route6 "$TB_SVC_IP6")"
tb_expect_probe "exitnode: IPv6 service is silent" timeout "$TB_SVC_IP6" 53 udp
expect_route "exitnode: the IPv6 LAN is thrown back to eth0" "$TB_PROV_IP6 from :: dev eth0 *" "$(route6 "$TB_PROV_IP6")"
tb_ts_unroute

# --- exitnode-throw-provider --------------------------------------------------------
tb_ts_routing exitnode-throw-provider || tb_die "tb_ts_routing exitnode-throw-provider failed"
check_common exitnode-throw-provider
expect_route "throw-provider: 100.100.2.136 via eth0 again" "$via_eth0" "$(route 100.100.2.136)"
tb_expect_probe "throw-provider: 100.100.2.136:53/udp answers" reply 100.100.2.136 53 udp
tb_expect_probe "throw-provider: 100.100.2.136:53/tcp answers" reply 100.100.2.136 53 tcp
tb_expect_probe "throw-provider: 100.100.100.200:80/tcp answers" reply 100.100.100.200 80 tcp
# 100.125.1.250 (Huawei) is outside the thrown /16: still the exit node's.
expect_route "throw-provider: 100.125.1.250 still goes to tailscale0" "$via_tun" "$(route 100.125.1.250)"
expect_route "throw-provider: IPv6 service via eth0 again" "$via_eth0_6" "$(route6 "$TB_SVC_IP6")"
tb_expect_probe "throw-provider: IPv6 service answers" reply "$TB_SVC_IP6" 53 udp
tb_ts_unroute

t_expect "tb_ts_unroute restores the rules" "$rules" "$(ip -n "$TB_HOST" rule show)"
t_expect "tb_ts_unroute empties table 52" "" "$(ip -n "$TB_HOST" route show table 52)"
expect_route "after unroute: 100.100.100.100 via eth0" "$via_eth0" "$(route 100.100.100.100)"

t_done
