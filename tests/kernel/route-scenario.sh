#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --show-route on the Alibaba Cloud + Tailscale layouts, in namespaces:
#   an ECS instance (eth0 172.24.4.100/20, default via 172.24.15.253 in the
#   VPC namespace) running Tailscale (tailscale0, rules 5210-5270, table 52):
#   * 100.100.2.136 (the VPC resolver) goes out eth0 through main;
#   * with an exit node (default dev tailscale0 in table 52) it goes into
#     tailscale0 by rule 5270, and the report warns;
#   * a throw route for 100.100.0.0/16 in table 52 sends it back to main;
#   * a subnet route covering 100.100.0.0/16 steals it too;
# plus the bypass mark, unroutable answers (exit 2), argument errors (exit 3),
# --offline, IPv6 and an arriving packet; text and JSON.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

tb_test_init python3 "$CGNATCHECK"

tb_ns_add H host
tb_ns_add V vpc
ip link add eth0 netns "$H" type veth peer name vpc0 netns "$V"
ip -n "$V" addr add 172.24.15.253/20 dev vpc0
ip -n "$V" link set vpc0 up
ip -n "$H" addr add 172.24.4.100/20 dev eth0
ip -n "$H" -6 addr add fd00:cafe::100/64 dev eth0 nodad
ip -n "$H" link set eth0 up
ip -n "$H" route add default via 172.24.15.253 dev eth0 metric 100
ip -n "$H" tuntap add dev tailscale0 mode tun
ip -n "$H" link set tailscale0 up
ip -n "$H" addr add 100.101.102.103/32 dev tailscale0
ip -n "$H" -6 addr add fd7a:115c:a1e0::1/128 dev tailscale0 nodad
for f in -4 -6; do
	ip -n "$H" $f rule add pref 5210 fwmark 0x80000/0xff0000 table main
	ip -n "$H" $f rule add pref 5230 fwmark 0x80000/0xff0000 table default
	ip -n "$H" $f rule add pref 5250 fwmark 0x80000/0xff0000 unreachable
	ip -n "$H" $f rule add pref 5270 table 52
done
ip -n "$H" route add 100.100.100.100/32 dev tailscale0 table 52
ip -n "$H" route add 100.88.1.2/32 dev tailscale0 table 52
ip -n "$H" -6 route add fd7a:115c:a1e0::/48 dev tailscale0 table 52

show() { t_run tb_exec "$H" "$CGNATCHECK" "$@"; }

# jget JSON PATH: a field of the JSON report ("route.table"), null as "null".
jget() {
	python3 -c '
import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$1" "$2"
}

contains() { # DESC HAYSTACK NEEDLE
	case "$2" in *"$3"*) t_ok "$1" ;; *) t_fail "$1: '$3' not in: $2" ;; esac
}
lacks() {
	case "$2" in *"$3"*) t_fail "$1: unexpected '$3' in: $2" ;; *) t_ok "$1" ;; esac
}

# --- 1. plain: the resolver goes out eth0 through main ----------------------
show --show-route 100.100.2.136
t_expect "main: exit 0" 0 "$t_status"
contains "main: ip-route-get line" "$t_out" "100.100.2.136 via 172.24.15.253 dev eth0 table main src 172.24.4.100"
contains "main: decided by rule 32766" "$t_out" "decided by rule 32766 (table main)"
contains "main: kernel agrees" "$t_out" "kernel agrees"
lacks "main: no warning" "$t_out" "warning:"

show --show-route 100.100.2.136 --format json
t_expect "json main: exit 0" 0 "$t_status"
t_expect "json route.table" main "$(jget "$t_out" route.table)"
t_expect "json route.rule_priority" 32766 "$(jget "$t_out" route.rule_priority)"
t_expect "json route.dev" eth0 "$(jget "$t_out" route.dev)"
t_expect "json route.gateway" 172.24.15.253 "$(jget "$t_out" route.gateway)"
t_expect "json route.source" 172.24.4.100 "$(jget "$t_out" route.source)"
t_expect "json route.type" unicast "$(jget "$t_out" route.type)"
t_expect "json kernel.dev" eth0 "$(jget "$t_out" kernel.dev)"
t_expect "json kernel.table" main "$(jget "$t_out" kernel.table)"
t_expect "json agree" true "$(jget "$t_out" agree)"
t_expect "json destination" 100.100.2.136 "$(jget "$t_out" destination)"
t_expect "json no warnings" "[]" "$(jget "$t_out" warnings)"

# --- 2. exit node: table 52's default steals the provider's address ---------
ip -n "$H" route add default dev tailscale0 table 52
show --show-route 100.100.2.136
t_expect "exit node: exit 0 (routed)" 0 "$t_status"
contains "exit node: into tailscale0 via table 52" "$t_out" "100.100.2.136 dev tailscale0 table 52 src 100.101.102.103"
contains "exit node: decided by rule 5270" "$t_out" "decided by rule 5270 (table 52)"
contains "exit node: warning names the range" "$t_out" "warning: 100.100.2.136 is in 100.64.0.0/10"
contains "exit node: warning names the device" "$t_out" "overlay device tailscale0 by rule 5270"
contains "exit node: warning names the route" "$t_out" "exit-node default route"
contains "exit node: kernel agrees" "$t_out" "kernel agrees"

show --show-route 100.100.2.136 --format json -v
t_expect "json exit node: route.table" 52 "$(jget "$t_out" route.table)"
t_expect "json exit node: route.rule_priority" 5270 "$(jget "$t_out" route.rule_priority)"
t_expect "json exit node: route.dev" tailscale0 "$(jget "$t_out" route.dev)"
t_expect "json exit node: route.gateway" null "$(jget "$t_out" route.gateway)"
t_expect "json exit node: route.source" 100.101.102.103 "$(jget "$t_out" route.source)"
t_expect "json exit node: route.prefix" 0.0.0.0/0 "$(jget "$t_out" route.prefix)"
t_expect "json exit node: kernel.dev" tailscale0 "$(jget "$t_out" kernel.dev)"
t_expect "json exit node: agree" true "$(jget "$t_out" agree)"
contains "json exit node: a warning" "$(jget "$t_out" warnings.0)" "overlay device tailscale0"
t_expect "json exit node: trace ends at 5270" "5270 decided" \
	"$(python3 -c 'import json,sys; t=json.loads(sys.argv[1])["route"]["trace"]; print(t[-1]["rule_priority"], t[-1]["result"])' "$t_out")"

# Tailscale's own packets carry the bypass mark: rule 5210, main, eth0.
show --show-route 100.100.2.136 --mark 0x80000
contains "bypass mark: eth0" "$t_out" "via 172.24.15.253 dev eth0 table main"
contains "bypass mark: rule 5210" "$t_out" "decided by rule 5210 (table main)"
lacks "bypass mark: no warning" "$t_out" "warning:"

# --- 3. a throw route for the provider range goes back to main -----------------
ip -n "$H" route add throw 100.100.0.0/16 table 52
show --show-route 100.100.2.136 -v
t_expect "throw: exit 0" 0 "$t_status"
contains "throw: back to eth0 through main" "$t_out" "100.100.2.136 via 172.24.15.253 dev eth0 table main"
contains "throw: decided by rule 32766" "$t_out" "decided by rule 32766 (table main)"
contains "throw: the trace shows the throw at 5270" "$t_out" "trace: throw"
lacks "throw: no warning" "$t_out" "warning:"
show --show-route 8.8.8.8
contains "throw: only for the range, the rest still exits via tailscale0" "$t_out" "dev tailscale0 table 52"
ip -n "$H" route del throw 100.100.0.0/16 table 52
ip -n "$H" route del default dev tailscale0 table 52

# --- 4. a subnet route covering 100.100.0.0/16 ----------------------------------
ip -n "$H" route add 100.100.0.0/16 dev tailscale0 table 52
show --show-route 100.100.100.200
contains "subnet route: into tailscale0" "$t_out" "100.100.100.200 dev tailscale0 table 52"
contains "subnet route: warning" "$t_out" "subnet route covering this address"
show --show-route 100.100.100.100
contains "MagicDNS: the host route wins" "$t_out" "decided by rule 5270 (table 52): unicast route 100.100.100.100/32"
ip -n "$H" route del 100.100.0.0/16 dev tailscale0 table 52

# --- 5. unroutable answers exit 2 ----------------------------------------------------
ip -n "$H" route add blackhole 100.100.2.138/32 table 52
show --show-route 100.100.2.138
t_expect "blackhole: exit 2" 2 "$t_status"
contains "blackhole: says so" "$t_out" "blackhole 100.100.2.138"
contains "blackhole: kernel agrees" "$t_out" "kernel agrees"
show --show-route 100.100.2.138 --format json
t_expect "json blackhole: type" blackhole "$(jget "$t_out" route.type)"
t_expect "json blackhole: errno" EINVAL "$(jget "$t_out" route.errno)"
t_expect "json blackhole: exit 2" 2 "$t_status"
show --show-route 100.100.2.136 --mark 0x80000 --from 100.101.102.103 --oif tailscale0
t_expect "bound to tailscale0 with the mark: exit 0 (on-link guess)" 0 "$t_status"
ip -n "$H" route del blackhole 100.100.2.138/32 table 52
ip -n "$H" route del default via 172.24.15.253 dev eth0 metric 100
show --show-route 203.0.113.1
t_expect "no route: exit 2" 2 "$t_status"
contains "no route: says so" "$t_out" "203.0.113.1: no route (Network is unreachable)"
ip -n "$H" route add default via 172.24.15.253 dev eth0 metric 100

# --- 6. argument errors exit 3 ---------------------------------------------------------
show --show-route 100.100.2.136 --iif ghost0
t_expect "unknown --iif: exit 3" 3 "$t_status"
contains "unknown --iif: names it" "$t_err" "ghost0"
show --show-route 100.100.2.136 --oif nosuch0
t_expect "unknown --oif: exit 3" 3 "$t_status"
contains "unknown --oif: names it" "$t_err" "nosuch0"

# --- 7. --offline does not ask the kernel ----------------------------------------------
show --show-route 100.100.2.136 --offline
t_expect "offline: exit 0" 0 "$t_status"
contains "offline: says so" "$t_out" "offline"
show --show-route 100.100.2.136 --offline --format json
t_expect "json offline: kernel is null" null "$(jget "$t_out" kernel)"
t_expect "json offline: agree is null" null "$(jget "$t_out" agree)"
t_expect "json offline: route.dev" eth0 "$(jget "$t_out" route.dev)"

# --- 8. IPv6 and an arriving packet ---------------------------------------------------------
show --show-route fd7a:115c:a1e0::53
contains "IPv6: table 52, tailscale0" "$t_out" "fd7a:115c:a1e0::53 dev tailscale0 table 52 src fd7a:115c:a1e0::1"
contains "IPv6: kernel agrees" "$t_out" "kernel agrees"
show --show-route 172.24.4.100 --iif eth0 --from 100.100.2.136
t_expect "reply from the resolver: exit 0" 0 "$t_status"
contains "reply from the resolver: local delivery" "$t_out" "local 172.24.4.100 from 100.100.2.136 dev lo table local iif eth0"
contains "reply: kernel agrees" "$t_out" "kernel agrees"

t_done
