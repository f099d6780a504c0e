#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The scenario is the seed report's host before Tailscale's firewall: eth0 is
# a veth to the provider, the route to 100.100.2.136 is via 172.24.63.253 dev
# eth0, tailscale0 is a tun with no carrier, no firewall rule exists in either
# iptables back end or in nftables, and every provider service answers on its
# port, from its own address (the echo comes back from 100.100.2.136, not from
# the gateway address the route would pick as source).
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}/tests/lib/netns/lib.sh"

tb_init
tb_scenario

# --- topology ----------------------------------------------------------------
t_expect "TB_HOST carries this process's prefix" "${TB_PREFIX}host" "$TB_HOST"
case $(ip netns list) in
*"$TB_HOST"*"$TB_PROV"* | *"$TB_PROV"*"$TB_HOST"*) t_ok "both namespaces exist" ;;
*) t_fail "namespaces missing: $(ip netns list)" ;;
esac
case $(ip -n "$TB_HOST" -d -o link show dev eth0) in
*" veth "*) t_ok "the host's eth0 is a veth" ;;
*) t_fail "eth0 is not a veth: $(ip -n "$TB_HOST" -d -o link show dev eth0)" ;;
esac
link=$(ip -n "$TB_HOST" -d -o link show dev "$TB_TUN")
case $link in *" tun type tun "*) t_ok "tailscale0 is a tun device" ;; *) t_fail "tailscale0: $link" ;; esac
case $link in *NO-CARRIER*) t_ok "tailscale0 has no carrier (nobody reads it)" ;; *) t_fail "tailscale0: $link" ;; esac
case $(ip -n "$TB_HOST" -o addr show dev "$TB_TUN") in
*"inet $TB_TS_IP/32 "*"inet6 $TB_TS_IP6/128 "*) t_ok "tailscale0 has its tailnet addresses" ;;
*) t_fail "tailscale0 addresses: $(ip -n "$TB_HOST" -o addr show dev "$TB_TUN")" ;;
esac
case $(ip -n "$TB_HOST" -o addr show dev eth0) in
*"inet $TB_HOST_IP/18 "*) t_ok "eth0 has 172.24.4.100/18" ;;
*) t_fail "eth0 addresses: $(ip -n "$TB_HOST" -o addr show dev eth0)" ;;
esac
for a in $TB_PROV_SERVICES; do
	case $(ip -n "$TB_HOST" route get "$a") in
	"$a via $TB_GW dev eth0 "*) t_ok "route to $a: via $TB_GW dev eth0" ;;
	*) t_fail "route to $a: $(ip -n "$TB_HOST" route get "$a")" ;;
	esac
done

# --- no firewall anywhere ----------------------------------------------------
t_expect "no nftables ruleset in the host" "" "$(tb_exec "$TB_HOST" nft list ruleset)"
t_expect "no iptables-legacy rules in the host" "" "$(tb_exec "$TB_HOST" iptables-legacy-save)"
t_expect "no iptables-nft rules in the host" "" "$(tb_exec "$TB_HOST" iptables-nft-save 2>/dev/null | grep '^-A' || true)"

# --- every provider service answers ------------------------------------------
for a in 100.100.2.136 100.100.2.138 100.125.1.250; do
	tb_expect_probe "DNS $a:53/udp" reply "$a" 53 udp
	tb_expect_probe "DNS $a:53/tcp" reply "$a" 53 tcp
done
tb_expect_probe "metadata 100.100.100.200:80/tcp" reply 100.100.100.200 80 tcp
tb_expect_probe "mirror 100.100.2.148:80/tcp" reply 100.100.2.148 80 tcp
tb_expect_probe "NTP 100.100.61.88:123/udp" reply 100.100.61.88 123 udp
tb_expect_probe "the gateway itself (53/udp)" reply "$TB_GW" 53 udp
tb_expect_probe "a closed port is refused (udp)" refused 100.100.2.136 54 udp
tb_expect_probe "a closed port is refused (tcp)" refused 100.100.2.136 81 tcp
# The provider does not route: an address it does not own just disappears.
tb_expect_probe "a tailnet peer without Tailscale's routes" timeout 100.69.1.2 53 udp

# The echo came from the service address: a UDP reply from 172.24.63.253
# would have been discarded by cg-probe's connected socket (a timeout above).
# Show it from the provider's side too: the socket sees the request's
# destination, and the reply leaves from it.
tb_exec "$TB_PROV" nft -f - <<'EOF' || tb_die "cannot load the counting rule"
table ip count {
	chain out {
		type filter hook output priority 0;
		ip saddr 100.100.2.136 udp sport 53 counter
	}
}
EOF
tb_probe 100.100.2.136 53 udp >/dev/null || true
case $(tb_exec "$TB_PROV" nft list table ip count) in
*"counter packets 1 "*) t_ok "the provider replied from 100.100.2.136" ;;
*) t_fail "no reply left from 100.100.2.136: $(tb_exec "$TB_PROV" nft list table ip count)" ;;
esac

t_done
