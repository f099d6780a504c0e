#!/usr/bin/env bash
# What the host talks to now, from conntrack. The host opens a UDP and a TCP
# flow to the provider's addresses in 100.64.0.0/10 and an IPv6 one in
# Tailscale's range, and a provider address holds a TCP connection to the
# host's SSH-like listener. With NOTHING on the command line the audit finds
# each peer by itself (origin "conntrack", role "peer", the right direction
# and port), reachable before Tailscale's drop and blocked after it, naming
# the drop, as a fresh packet shows in the kernel; a flow opened after the
# drop (its reply dropped) is found too. A peer routed
# through tailscale0 is the overlay's own and left out; --only-named leaves
# every discovered peer out.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3 iptables-legacy conntrack
tb_audit_env WORK

tb_scenario ct
# an IPv6 service inside Tailscale's range, behind the provider (eth0)
V6PEER=fd7a:115c:a1e0:ab::1
ip -n "$TB_PROV" addr add "$V6PEER/128" dev lo
ip -n "$TB_HOST" -6 route add fd7a:115c:a1e0:ab::/64 via "$TB_PROV_IP6" dev eth0
# a resolver outside the range (resolv.conf's; not what this test is about)
mkdir -p "/etc/netns/$TB_HOST"
echo "nameserver 192.0.2.53" >"/etc/netns/$TB_HOST/resolv.conf"
# The connections outlive a loaded machine's slowest audit.
t_must tb_exec "$TB_HOST" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=3600 \
	net.netfilter.nf_conntrack_udp_timeout_stream=3600 net.netfilter.nf_conntrack_tcp_timeout_syn_sent=3600 \
	net.netfilter.nf_conntrack_tcp_timeout_time_wait=3600 net.netfilter.nf_conntrack_tcp_timeout_close=3600 \
	net.netfilter.nf_conntrack_tcp_timeout_fin_wait=3600 net.netfilter.nf_conntrack_tcp_timeout_close_wait=3600 \
	net.netfilter.nf_conntrack_tcp_timeout_last_ack=3600
# A stock stateful firewall: connection tracking is on (netfilter tracks a
# namespace's connections once a rule needs it).
t_must tb_exec "$TB_HOST" iptables-legacy -w -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
t_must tb_exec "$TB_HOST" ip6tables-legacy -w -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
tb_host_listen 22/tcp

probe=$(tb_prog cg-probe) || exit 99
# A fresh packet, as the kernel takes it: a new socket (a new source port,
# a new connection), without forgetting the connections the test made.
fresh() { tb_exec "$TB_HOST" "$probe" "$@" || true; }
fresh_in() { tb_exec "$TB_PROV" "$probe" --from 100.100.2.136 "$TB_HOST_IP" 22 tcp "$@" || true; }
# retry an expected reply once with a long deadline (a loaded machine)
expect_fresh() {
	local desc=$1 want=$2 fn=$3 got
	shift 3
	got=$("$fn" "$@")
	if [ "$want" = reply ] && [ "$got" = timeout ]; then got=$("$fn" --timeout 3000 "$@"); fi
	t_expect "$desc" "$want" "$got"
}

# --- the flows --------------------------------------------------------------
t_expect "flow: udp to 100.100.61.88:123" reply "$(fresh --timeout 3000 100.100.61.88 123 udp)"
t_expect "flow: tcp to 100.100.2.148:80" reply "$(fresh --timeout 3000 100.100.2.148 80 tcp)"
t_expect "flow: udp to [$V6PEER]:53" reply "$(fresh --timeout 3000 "$V6PEER" 53 udp)"
# the provider holds a connection to the host's port 22, from 100.100.2.136
ready=$WORK/inbound.ready
tb_bg "$TB_PROV" python3 -I -S -c '
import socket, sys, time
s = socket.socket()
s.bind(("100.100.2.136", 0))
s.connect((sys.argv[1], 22))
open(sys.argv[2], "w").close()
time.sleep(3600)
' "$TB_HOST_IP" "$ready"
tb_wait_file "$ready" 10 "${TB_PIDS[-1]}" || tb_die "the provider's connection to port 22 did not open"
t_expect "the kernel tracks them" 4 \
	"$(tb_exec "$TB_HOST" conntrack -L 2>/dev/null | grep -cE 'dst=(100\.100\.61\.88|100\.100\.2\.148|fd7a:115c:a1e0:ab::1) |src=100\.100\.2\.136 dst=172\.24\.4\.100 .*dport=22 ' || true)"

peers() {
	tb_json '"; ".join("%s %s %s %s/%s %s" % (t["role"], t["direction"], t["address"], t["proto"], t["port"], t["verdict"]) for t in r["targets"] if t["origin"] == "conntrack")'
}
# sorted: the report's order is the sources' and the kernel's
sorted_peers() { peers | tr ';' '\n' | sed 's/^ //' | sort | paste -sd';' | sed 's/;/; /g'; }
PEERS_OK="peer inbound 100.100.2.136 tcp/22 reachable; peer outbound 100.100.2.148 tcp/80 reachable; peer outbound 100.100.61.88 udp/123 reachable; peer outbound fd7a:115c:a1e0:ab::1 udp/53 reachable"

# --- no overlay firewall: found, reachable ------------------------------------
tb_audit "no overlay firewall" 0
t_expect "no overlay firewall: every peer found by itself, reachable" "$PEERS_OK" "$(sorted_peers)"
expect_fresh "no overlay firewall: the kernel agrees (udp/123)" reply fresh 100.100.61.88 123 udp
expect_fresh "no overlay firewall: the kernel agrees (tcp/80)" reply fresh 100.100.2.148 80 tcp
expect_fresh "no overlay firewall: the kernel agrees (inbound tcp/22)" reply fresh_in
expect_fresh "no overlay firewall: the kernel agrees (IPv6 udp/53)" reply fresh "$V6PEER" 53 udp

# --- Tailscale's drop: the same peers, blocked --------------------------------
t_must tb_ts_install legacy new
# a flow opened now: its reply is dropped in INPUT (conntrack, at
# PREROUTING, has seen it)
t_expect "flow after the drop: udp to 100.100.2.138:53 (reply dropped)" timeout "$(fresh 100.100.2.138 53 udp)"
t_expect "the kernel tracks it" 1 "$(tb_exec "$TB_HOST" conntrack -L -p udp --dst 100.100.2.138 2>/dev/null | grep -c . || true)"
# a Tailscale peer through tailscale0: the overlay's own
t_must tb_ts_routing peers
t_expect "flow through tailscale0: udp to 100.69.1.2 (no one reads the tun)" timeout "$(fresh 100.69.1.2 41641 udp)"
t_expect "the kernel tracks it" 1 "$(tb_exec "$TB_HOST" conntrack -L -p udp --dst 100.69.1.2 2>/dev/null | grep -c . || true)"

tb_audit "tailscale's drop" 2
t_expect "tailscale's drop: the IPv4 peers blocked, the IPv6 one (no drop there) reachable, the late flow found" \
	"peer inbound 100.100.2.136 tcp/22 blocked; peer outbound 100.100.2.138 udp/53 blocked; peer outbound 100.100.2.148 tcp/80 blocked; peer outbound 100.100.61.88 udp/123 blocked; peer outbound fd7a:115c:a1e0:ab::1 udp/53 reachable" \
	"$(sorted_peers)"
t_expect "tailscale's drop: the drop named" "-A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP" \
	"$(tb_json '"|".join(sorted(set(t["blocked_by"]["text"] for t in r["targets"] if t["origin"] == "conntrack" and t["verdict"] == "blocked")))')"
# (it is the peer the services this host offers over the overlay are
# checked from, with their own origins: not conntrack's)
t_expect "tailscale's drop: the peer behind tailscale0 is left out" "False" \
	"$(tb_json 'any(t["address"] == "100.69.1.2" and t["origin"] == "conntrack" for t in r["targets"])')"
t_expect "tailscale's drop: the text names the origin" "1" \
	"$(tb_exec "$TB_HOST" "$CGNATCHECK" 2>/dev/null | grep -c 'blocked .*peer 100.100.2.148 80/tcp .*(conntrack)' || true)"
expect_fresh "tailscale's drop: the kernel agrees (udp/123)" timeout fresh 100.100.61.88 123 udp
expect_fresh "tailscale's drop: the kernel agrees (tcp/80)" timeout fresh 100.100.2.148 80 tcp
expect_fresh "tailscale's drop: the kernel agrees (udp/53 to .138)" timeout fresh 100.100.2.138 53 udp
expect_fresh "tailscale's drop: the kernel agrees (inbound tcp/22)" timeout fresh_in
expect_fresh "tailscale's drop: the kernel agrees (IPv6 udp/53)" reply fresh "$V6PEER" 53 udp

# --- --only-named: no discovered peer --------------------------------------------
tb_audit "--only-named" 2 --only-named --dns 100.100.2.136
t_expect "--only-named: no conntrack peer" "" "$(peers)"

t_done
