#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# legacy_collect() + the iptables-save renderer against iptables-legacy-save,
# in network namespaces of their own:
#   * collecting from a namespace without legacy tables creates none
#   * Tailscale/Docker/ufw-like rulesets (tests/kernel/legacy-rules.v4/.v6) render
#     exactly as iptables-legacy-save / ip6tables-legacy-save print them
#   * extensions cgnatcheck does not model render through libxtables, the rest intact
#   * without the capability the error names the table and what to do
#   * random rulesets (seeded, tests/kernel/legacy-gen.py) render identically
#
# CG_SEED=N fixes the first random seed (printed on failure); CG_RANDOM_RUNS
# (default 4) and CG_RANDOM_RULES (default 300 per family) size the runs.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

DUMP=$top_builddir/tests/kernel/legacy-dump
tb_test_init iptables-legacy-restore iptables-legacy-save ip6tables-legacy-restore ip6tables-legacy-save \
	python3 "$DUMP"

# --- no side effects ---------------------------------------------------------
tb_ns_add clean clean
t_run tb_exec "$clean" "$DUMP" --check
t_expect "empty namespace: collect succeeds" 0 "$t_status"
t_expect "empty namespace: nothing rendered" "" "$t_out"
t_expect "empty namespace: no IPv4 table created" "" "$(tb_exec "$clean" cat /proc/net/ip_tables_names)"
t_expect "empty namespace: no IPv6 table created" "" "$(tb_exec "$clean" cat /proc/net/ip6_tables_names)"

# --- fixed rulesets --------------------------------------------------------------
tb_ns_add fixed fixed
tb_load_fixtures "$fixed" legacy
if tb_render_matches "$fixed" "fixed rulesets" legacy "$DUMP"; then
	t_ok "fixed rulesets render exactly as iptables-legacy-save prints them"
fi
t_run tb_exec "$fixed" "$DUMP" --check --no-print
t_expect "fixed rulesets: every jump resolved, every extension decoded" "unresolved=0 undecoded=0" "$t_err"

# Tailscale's drop rule, verbatim
t_run tb_exec "$fixed" "$DUMP" -4 -t filter
case $t_out in
*"-A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP"*) t_ok "the CGNAT drop rule reads as Tailscale wrote it" ;;
*) t_fail "the CGNAT drop rule is not rendered as '-A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP'" ;;
esac

# --- extensions cgnatcheck does not model ---------------------------------------------
# not decoded (their rules evaluate as unknown), printed by the extension's
# own save() through libxtables (src/model/xt/libxtables.c)
tb_exec "$fixed" iptables-legacy -A INPUT -p tcp -m tcp --dport 22 -m recent --set --name SSH --rsource -j ACCEPT
tb_exec "$fixed" iptables-legacy -t mangle -A PREROUTING -p tcp -j TPROXY --on-port 3128 --tproxy-mark 0x1/0x1
t_run tb_exec "$fixed" "$DUMP" -4 --check
case $t_out in
*"-A INPUT -p tcp -m tcp --dport 22 -m recent --set --name SSH --mask 255.255.255.255 --rsource -j ACCEPT"*)
	t_ok "unmodelled match: printed as iptables-save prints it, the rest of the rule intact" ;;
*) t_fail "unmodelled match not rendered as iptables-save's '-m recent --set --name SSH --mask 255.255.255.255 --rsource'" ;;
esac
case $t_out in
*"-A PREROUTING -p tcp -j TPROXY --on-port 3128 --on-ip 0.0.0.0 --tproxy-mark 0x1/0x1"*)
	t_ok "unmodelled target: printed as iptables-save prints it" ;;
*) t_fail "unmodelled target not rendered as iptables-save's '-j TPROXY --on-port 3128 --on-ip 0.0.0.0 --tproxy-mark 0x1/0x1'" ;;
esac
t_expect "unmodelled extensions are counted as undecoded" "unresolved=0 undecoded=2" "$t_err"

# --- privileges ----------------------------------------------------------------------
if command -v setpriv >/dev/null; then
	# root without CAP_NET_ADMIN/CAP_NET_RAW: the table list is readable,
	# the table is not
	t_run tb_exec "$fixed" setpriv --inh-caps=-all --bounding-set=-all "$DUMP"
	t_expect "no capabilities: collection fails" 1 "$t_status"
	case $t_err in
	*"table 'filter'"*"CAP_NET_ADMIN"*) t_ok "no capabilities: the error names the table and the capability" ;;
	*) t_fail "no capabilities: unhelpful error: $t_err" ;;
	esac
	# CAP_NET_ADMIN alone is not enough: libiptc opens a raw socket
	t_run tb_exec "$fixed" setpriv --inh-caps=-all --bounding-set=-all,+net_admin "$DUMP"
	t_expect "CAP_NET_ADMIN without CAP_NET_RAW: collection fails" 1 "$t_status"
	t_run tb_exec "$fixed" setpriv --inh-caps=-all --bounding-set=-all,+net_admin,+net_raw "$DUMP" --no-print
	t_expect "CAP_NET_ADMIN and CAP_NET_RAW are enough" 0 "$t_status"
	# another user cannot even list the tables (root's 0440 file), and
	# probing would create the missing ones: an error, not a guess
	before=$(tb_exec "$fixed" cat /proc/net/ip_tables_names | sort | tr '\n' ' ')
	t_run tb_exec "$fixed" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+net_admin,+net_raw --ambient-caps=-all,+net_admin,+net_raw "$DUMP"
	t_expect "another user: collection fails" 1 "$t_status"
	case $t_err in
	*"ip_tables_names"*"run as root"*) t_ok "another user: the error says what to do" ;;
	*) t_fail "another user: unhelpful error: $t_err" ;;
	esac
	t_expect "another user: no table created" "$before" \
		"$(tb_exec "$fixed" cat /proc/net/ip_tables_names | sort | tr '\n' ' ')"
fi

# --- random rulesets ---------------------------------------------------------------------
tb_ns_add rand rand
tb_render_random "$rand" legacy "${CG_SEED:-$(((RANDOM << 15) | RANDOM))}" "${CG_RANDOM_RUNS:-4}" \
	"${CG_RANDOM_RULES:-300}" tests/kernel/legacy-collect.sh "$DUMP"

t_done
