#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The other direction: a load balancer's health check is a NEW connection
# from the provider's 100.64.0.0/10 range to a listener on the host's eth0.
# For each firewall form: accepted without Tailscale, dropped by the `new`
# layout (the request itself dies, not a reply), still dropped with the
# ESTABLISHED-only exception for the resolver (it cannot match a NEW
# packet), while a check from the gateway's own address (outside the range)
# gets through; and accepted again once tailscaled is stopped.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}/tests/lib/netns/lib.sh"

tb_init
tb_scenario
tb_host_listen 8080/tcp 8080/udp || tb_die "the host's listener did not start"

tb_expect_inbound "no firewall: tcp/8080 from 100.100.2.136" reply 8080 tcp
tb_expect_inbound "no firewall: udp/8080 from 100.100.2.136" reply 8080 udp
tb_expect_inbound "no firewall: tcp/8080 from 100.125.1.250" reply 8080 tcp --from 100.125.1.250
tb_expect_inbound "no firewall: tcp/8080 from the gateway" reply 8080 tcp --from "$TB_GW"
tb_expect_inbound "no firewall: a closed port is refused" refused 8081 tcp

for form in legacy nft nftables; do
	tb_ts_install "$form" new || tb_die "tb_ts_install $form new failed"
	tb_expect_inbound "$form new: tcp/8080 from 100.100.2.136 dropped" timeout 8080 tcp
	tb_expect_inbound "$form new: udp/8080 from 100.100.2.136 dropped" timeout 8080 udp
	tb_expect_inbound "$form new: tcp/8080 from 100.125.1.250 dropped" timeout 8080 tcp --from 100.125.1.250
	# The DROP is silent: even a closed port gives no reset.
	tb_expect_inbound "$form new: a closed port is silent, not refused" timeout 8081 tcp
	tb_expect_inbound "$form new: tcp/8080 from the gateway accepted" reply 8080 tcp --from "$TB_GW"
	tb_exception "$form" || tb_die "tb_exception $form failed"
	tb_expect_inbound "$form new + exception: NEW tcp/8080 from 100.100.2.136 still dropped" timeout 8080 tcp
	tb_ts_remove "$form" || tb_die "tb_ts_remove $form failed"
	tb_expect_inbound "$form stopped: tcp/8080 from 100.100.2.136 accepted" reply 8080 tcp
done

t_done
