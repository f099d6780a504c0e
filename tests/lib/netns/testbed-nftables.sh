#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Tailscale's layouts written with native nft (Tailscale's nftables mode): what the
# oracle sees with each of them, and that the rules are where claimed. The
# checks are in testbed-firewall.sh, shared by the three firewall forms.
exec bash "${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}/tests/lib/netns/testbed-firewall.sh" nftables
