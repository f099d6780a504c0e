#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# IPv6 through the scenario: the provider's on-link address and a service
# behind the gateway answer over UDP and TCP without a firewall, and still do
# with Tailscale's layout in each form (its IPv6 chains have no CGNAT rule),
# while the IPv4 service next to them is cut off, so the layout was live.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}/tests/lib/netns/lib.sh"

tb_init
tb_scenario

case $(ip -n "$TB_HOST" -6 route get "$TB_SVC_IP6") in
*" via $TB_PROV_IP6 dev eth0 "*) t_ok "route to $TB_SVC_IP6: via $TB_PROV_IP6 dev eth0" ;;
*) t_fail "route to $TB_SVC_IP6: $(ip -n "$TB_HOST" -6 route get "$TB_SVC_IP6")" ;;
esac
for proto in udp tcp; do
	tb_expect_probe "on-link $TB_PROV_IP6:53/$proto" reply "$TB_PROV_IP6" 53 $proto
	tb_expect_probe "routed $TB_SVC_IP6:53/$proto" reply "$TB_SVC_IP6" 53 $proto
done
tb_expect_probe "routed [$TB_SVC_IP6]:80/tcp" reply "$TB_SVC_IP6" 80 tcp
tb_expect_probe "a closed IPv6 port is refused" refused "$TB_SVC_IP6" 81 tcp
tb_expect_probe "--from the host's IPv6 address" reply "$TB_SVC_IP6" 53 udp --from "$TB_HOST_IP6"

for form in legacy nft nftables; do
	tb_ts_install "$form" new || tb_die "tb_ts_install $form new failed"
	tb_expect_probe "$form new: IPv4 100.100.2.136:53/udp cut off" timeout 100.100.2.136 53 udp
	for proto in udp tcp; do
		tb_expect_probe "$form new: IPv6 $TB_SVC_IP6:53/$proto still answers" reply "$TB_SVC_IP6" 53 $proto
	done
	if tb_chain_rules "$form" 6 filter ts-input | grep -c "$TB_TUN" >/dev/null; then
		t_ok "$form: the IPv6 ts-input chain is there"
	else
		t_fail "$form: no IPv6 ts-input chain"
	fi
	tb_ts_remove "$form" || tb_die "tb_ts_remove $form failed"
done

t_done
