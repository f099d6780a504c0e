#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every x_tables match and target module Debian 12's iptables ships, printed
# back as the stock tools print it (issue 14, item 5): each rule of
# tests/kernel/xt-roundtrip.rules ("FAMILY TABLE CHAIN RULE...") is written
# with iptables-legacy and with iptables-nft into a namespace of its own,
# and every table's text from cgnatcheck's renderer (tests/kernel/legacy-dump)
# must equal iptables-save's, line for line. The modules cgnatcheck does not
# model print through libxtables (src/model/xt/libxtables.c).
#
# A rule this kernel refuses (a module not built: ipvs, LED; SECMARK's
# context without SELinux) is listed and left out; at least XT_MIN_LOADED
# (default 100) of the rules must load, so a kernel without the modules
# cannot pass quietly.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

DUMP=$top_builddir/tests/kernel/legacy-dump
RULES=$top_srcdir/tests/kernel/xt-roundtrip.rules
tb_test_init iptables-legacy iptables-legacy-save iptables-legacy-restore ip6tables-legacy-restore \
	iptables-nft-restore ip6tables-nft-restore ip6tables-legacy ip6tables-legacy-save \
	iptables-nft iptables-nft-save ip6tables-nft ip6tables-nft-save ipset python3 "$DUMP"

# The rule lines one by one: a rule that does not load is no reason to lose
# the others. Prints how many loaded.
xt_load() {
	local ns=$1 form=$2 fam table restore chain spec cmd loaded=0 refused=()
	while read -r fam table chain spec; do
		case $fam in '#'* | '') continue ;; esac
		cmd=iptables-$form
		[ "$fam" = 6 ] && cmd=ip6tables-$form
		if eval "tb_exec \"\$ns\" $cmd -t $table -A $chain $spec" 2>/dev/null; then
			loaded=$((loaded + 1))
		else
			refused+=("$fam $table $chain $spec")
		fi
	done <"$RULES"
	for r in "${refused[@]}"; do
		echo "iptables-$form: this kernel refuses: $r" >&2
	done
	echo "$loaded"
}

for form in legacy nft; do
	tb_ns_add "ns$form" "xt$form"
	ns=ns$form
	ns=${!ns}
	# every built-in chain of the tables used, in iptables' order, before
	# any rule: iptables-nft -A creates only the chain it needs, and the
	# listing of chains is not what this test is about
	for fam in 4 6; do
		restore=iptables-$form-restore
		[ "$fam" = 6 ] && restore=ip6tables-$form-restore
		tb_exec "$ns" "$restore" <<-'END'
			*filter
			:INPUT ACCEPT [0:0]
			:FORWARD ACCEPT [0:0]
			:OUTPUT ACCEPT [0:0]
			COMMIT
			*mangle
			:PREROUTING ACCEPT [0:0]
			:INPUT ACCEPT [0:0]
			:FORWARD ACCEPT [0:0]
			:OUTPUT ACCEPT [0:0]
			:POSTROUTING ACCEPT [0:0]
			COMMIT
			*raw
			:PREROUTING ACCEPT [0:0]
			:OUTPUT ACCEPT [0:0]
			COMMIT
			*nat
			:PREROUTING ACCEPT [0:0]
			:INPUT ACCEPT [0:0]
			:OUTPUT ACCEPT [0:0]
			:POSTROUTING ACCEPT [0:0]
			COMMIT
		END
	done
	# the objects some modules name: nfacct's counter (made over
	# nfnetlink_acct, NFNL_MSG_ACCT_NEW: Debian's nfacct tool is not
	# needed), the ipsets of -m set
	tb_exec "$ns" python3 -c '
import socket, struct, sys
name = b"xtpacct\0"
attr = struct.pack("HH", 4 + len(name), 1) + name  # NFACCT_NAME
attr += b"\0" * (-len(attr) % 4)
body = struct.pack("BBH", 0, 0, 0) + attr          # struct nfgenmsg
# NFNL_SUBSYS_ACCT << 8 | NFNL_MSG_ACCT_NEW; NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.send(struct.pack("IHHII", 16 + len(body), 7 << 8, 0x405, 1, 0) + body)
sys.exit(struct.unpack_from("i", s.recv(4096), 16)[0] != 0)
' || tb_die "cannot create the nfacct object xtpacct"
	tb_exec "$ns" ipset create xts hash:ip counters
	tb_exec "$ns" ipset create xtp hash:ip,port
	tb_exec "$ns" ipset create xtn hash:net
	tb_exec "$ns" ipset create xts6 hash:ip family inet6 counters
	tb_exec "$ns" ipset create xtt hash:ip timeout 60
	tb_exec "$ns" ipset create xtm hash:ip skbinfo
	loaded=$(xt_load "$ns" "$form")
	total=$(grep -cv '^\(#\|$\)' "$RULES")
	echo "iptables-$form: $loaded of $total rules loaded" >&2
	if [ "$loaded" -ge "${XT_MIN_LOADED:-100}" ]; then
		t_ok "iptables-$form: $loaded of $total rules loaded"
	else
		t_fail "iptables-$form: only $loaded of $total rules loaded (XT_MIN_LOADED=${XT_MIN_LOADED:-100})"
	fi
	args=()
	[ "$form" = nft ] && args=(--nft)
	if tb_render_matches "$ns" "xt modules" "$form" "$DUMP" "${args[@]}"; then
		t_ok "iptables-$form: every module's rules render exactly as $form's iptables-save prints them"
	fi
	t_run tb_exec "$ns" "$DUMP" "${args[@]}" -4
	t_expect "iptables-$form: nothing printed as unsupported (IPv4)" "" "$(grep -F 'unsupported' <<<"$t_out" || true)"
	t_run tb_exec "$ns" "$DUMP" "${args[@]}" -6
	t_expect "iptables-$form: nothing printed as unsupported (IPv6)" "" "$(grep -F 'unsupported' <<<"$t_out" || true)"
done

t_done
