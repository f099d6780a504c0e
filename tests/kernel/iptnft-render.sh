#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The iptables-save renderer on iptables-nft rules: rulesets loaded with
# iptables-nft-restore, collected by nft_collect() (xt blobs decoded by
# the collector as each rule is read), rendered, and compared with iptables-nft-save:
#   * the Tailscale/Docker/ufw rulesets of tests/kernel/legacy-rules.v4/.v6, where
#     iptables-nft writes tcp/udp ports, marks, limits and NFLOG natively
#   * random rulesets (tests/kernel/legacy-gen.py, seeded)
#
# CG_SEED=N fixes the first seed; CG_RANDOM_RUNS (default 3) and
# CG_RANDOM_RULES (default 300 per family) size the random part.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

DUMP=$top_builddir/tests/kernel/legacy-dump
tb_test_init iptables-nft-restore iptables-nft-save ip6tables-nft-restore ip6tables-nft-save python3 "$DUMP"

# (without the one legacy-only rule, which iptables-nft cannot load)
tb_ns_add fixed fixed
tb_load_fixtures "$fixed" nft
if tb_render_matches "$fixed" "fixed rulesets" nft "$DUMP" --nft; then
	t_ok "fixed rulesets written by iptables-nft render exactly as iptables-nft-save prints them"
fi
t_run tb_exec "$fixed" "$DUMP" --nft --check --no-print
t_expect "fixed rulesets: every jump resolved, every xt blob decoded" "unresolved=0 undecoded=0" "$t_err"

tb_ns_add rand rand
tb_render_random "$rand" nft "${CG_SEED:-$(((RANDOM << 15) | RANDOM))}" "${CG_RANDOM_RUNS:-3}" \
	"${CG_RANDOM_RULES:-300}" tests/kernel/iptnft-render.sh "$DUMP" --nft

t_done
