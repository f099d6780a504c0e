#!/usr/bin/env bash
# What is on a target's path outside netfilter's rules (src/collect/blind-net*.c),
# judged against the kernel: the provider's resolver 100.100.2.136:53 and the
# host of tb_scenario.
#  * xfrm: an "in" policy that blocks 100.64.0.0/10 makes the resolver blocked,
#    naming the policy, and the kernel drops the reply (its XfrmInPolBlock
#    counter says who); a policy for another prefix changes nothing; an "out"
#    policy with an ESP tunnel template makes it uncertain; a default policy
#    "in block" drops what no policy selects.
#  * IPVS: a virtual service on the resolver's address makes it uncertain,
#    naming the service; a kernel without IPVS says nothing at all.
#  * nft flowtables: one on the host's device is known and PASSes (the
#    kernel answers); a kernel without flowtables says nothing.
#  * bridge netfilter: the host's address on a bridge, br_netfilter calling
#    iptables: known, PASS, and the simulator's verdicts hold (a drop on the
#    bridge drops, the kernel agrees).
#  * without CAP_NET_ADMIN: notes, never a silent pass.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
DUMP=$top_builddir/tests/kernel/blind-net-dump
tb_test_init python3 setpriv ipvsadm nft iptables-legacy "$DUMP"
tb_audit_env WORK
tb_scenario

DNS=100.100.2.136
audit() { tb_audit "$1" "$2" --only-named --dns "$DNS"; }
verdicts() { tb_json '" ".join(t["verdict"] for t in r["targets"])'; }
spot() { tb_json '"|".join(sorted(set(t.get("blind_spot") or "-" for t in r["targets"])))'; }
dump() { tb_exec "$TB_HOST" "$DUMP" "$@"; }
xfrm_blocked() { tb_exec "$TB_HOST" awk '$1 == "XfrmInPolBlock" { print $2 }' /proc/net/xfrm_stat; }
xfrm_nopols() { tb_exec "$TB_HOST" awk '$1 == "XfrmInNoPols" { print $2 }' /proc/net/xfrm_stat; }

# --- nothing on the path --------------------------------------------------------
t_expect "nothing: no blind spot, no note" "" "$(dump)"
audit "nothing" 0
t_expect "nothing: reachable" "reachable reachable" "$(verdicts)"
tb_expect_probe "nothing: the kernel answers" reply "$DNS" 53 udp

# --- xfrm: an "in" policy that blocks the shared range --------------------------
tb_exec "$TB_HOST" ip xfrm policy add dir in src 100.64.0.0/10 dst 0.0.0.0/0 action block
POL="IPsec policy in src 100.64.0.0/10 dst 0.0.0.0/0 (priority 0): block"
audit "xfrm block" 2
t_expect "xfrm block: blocked" "blocked blocked" "$(verdicts)"
t_expect "xfrm block: the policy named" "$POL" "$(spot)"
t_expect "xfrm block: the text report names it, on the reply" "1" \
	"$(tb_exec "$TB_HOST" "$CGNATCHECK" --only-named --dns "$DNS" 2>/dev/null | grep -c "reply dropped by $POL (outside netfilter)" || true)"
before=$(xfrm_blocked)
tb_expect_probe "xfrm block: the kernel drops the reply" timeout "$DNS" 53 udp
after=$(xfrm_blocked)
t_expect "xfrm block: the kernel's drop was the policy's (XfrmInPolBlock)" yes \
	"$([ "$after" -gt "$before" ] && echo yes || echo "no: $before -> $after")"
t_expect "xfrm block: the request leaves (the out direction is not blocked)" pass \
	"$(dump egress 172.24.4.100 "$DNS" udp 40000 53 eth0)"
tb_exec "$TB_HOST" ip xfrm policy flush

# a policy for another prefix: nothing changes
tb_exec "$TB_HOST" ip xfrm policy add dir in src 198.51.100.0/24 dst 0.0.0.0/0 action block
audit "xfrm block elsewhere" 0
t_expect "xfrm block elsewhere: reachable" "reachable reachable" "$(verdicts)"
tb_expect_probe "xfrm block elsewhere: the kernel answers" reply "$DNS" 53 udp

# a higher-priority allow for the provider's /24 wins over the block
tb_exec "$TB_HOST" ip xfrm policy add dir in src 100.64.0.0/10 dst 0.0.0.0/0 priority 20 action block
tb_exec "$TB_HOST" ip xfrm policy add dir in src 100.100.2.0/24 dst 0.0.0.0/0 priority 10 action allow
audit "xfrm allow before block" 0
t_expect "xfrm allow before block: reachable" "reachable reachable" "$(verdicts)"
tb_expect_probe "xfrm allow before block: the kernel answers" reply "$DNS" 53 udp
tb_exec "$TB_HOST" ip xfrm policy flush

# an "out" policy with a template: the request is transformed
tb_exec "$TB_HOST" ip xfrm policy add dir out src 0.0.0.0/0 dst "$DNS/32" proto udp dport 53 \
	tmpl src 172.24.4.100 dst 172.24.63.253 proto esp mode tunnel
audit "xfrm tunnel" 1
t_expect "xfrm tunnel: udp uncertain, tcp reachable" "uncertain reachable" "$(verdicts)"
t_expect "xfrm tunnel: the policy named" \
	"-|IPsec policy out src 0.0.0.0/0 dst $DNS/32 proto udp dport 53 (priority 0): requires ESP tunnel to 172.24.63.253" \
	"$(spot)"
tb_exec "$TB_HOST" ip xfrm policy flush

# default policy "in block": what no policy selects is dropped
if tb_exec "$TB_HOST" ip xfrm policy setdefault in block 2>/dev/null; then
	audit "xfrm default block" 2
	t_expect "xfrm default block: blocked" "blocked blocked" "$(verdicts)"
	t_expect "xfrm default block: named" "IPsec default policy in: block (a packet no xfrm policy selects is dropped)" "$(spot)"
	before=$(xfrm_nopols)
	tb_expect_probe "xfrm default block: the kernel drops the reply" timeout "$DNS" 53 udp
	t_expect "xfrm default block: the kernel's drop was the default's (XfrmInNoPols)" yes \
		"$([ "$(xfrm_nopols)" -gt "$before" ] && echo yes || echo no)"
	tb_exec "$TB_HOST" ip xfrm policy setdefault in accept
else
	echo "note: this kernel or iproute2 has no default xfrm policies (before 5.16): not checked" >&2
fi

# --- IPVS: a virtual service on the resolver's address ----------------------
if tb_exec "$TB_HOST" ipvsadm -A -u "$DNS:53" -s rr 2>/dev/null; then
	tb_exec "$TB_HOST" ipvsadm -a -u "$DNS:53" -r 172.24.63.253:53 -m
	tb_exec "$TB_HOST" ipvsadm -a -u "$DNS:53" -r 100.100.2.138:53 -m
	audit "ipvs" 1
	t_expect "ipvs: udp uncertain, tcp reachable" "uncertain reachable" "$(verdicts)"
	t_expect "ipvs: the service named" "-|IPVS virtual service $DNS:53/udp (rr, 2 destinations)" "$(spot)"
	tb_exec "$TB_HOST" ipvsadm -C
else
	# the kernel has no IP Virtual Server: nothing to find, and nothing said
	t_expect "no ipvs in this kernel: no blind spot, no note" "" "$(dump)"
	audit "no ipvs in this kernel" 0
	echo "note: this kernel has no IPVS (CONFIG_IP_VS): the virtual-service case was not run" >&2
fi

# --- nft flowtables: offloading only forwarded flows ---------------------------
if tb_exec "$TB_HOST" nft -f - 2>/dev/null <<'EOF'; then
table inet offload {
	flowtable ft { hook ingress priority 0; devices = { eth0 }; }
	chain forward { type filter hook forward priority 0; policy accept; meta l4proto { tcp, udp } flow add @ft; }
}
EOF
	t_expect "flowtable: known, the host's own traffic passes" \
		"flowtable * inout | nft flowtable inet offload ft (devices eth0): it offloads forwarded flows only, never the host's own" \
		"$(dump)"
	audit "flowtable" 0
	t_expect "flowtable: reachable" "reachable reachable" "$(verdicts)"
	tb_expect_probe "flowtable: the kernel answers" reply "$DNS" 53 udp
	tb_exec "$TB_HOST" nft delete table inet offload
else
	t_expect "no flowtables in this kernel: no blind spot, no note" "" "$(dump)"
	echo "note: this kernel has no nft flowtables (CONFIG_NF_FLOW_TABLE): the flowtable case was not run" >&2
fi

# --- bridge netfilter: the host's address on a bridge ----------------------------
ip -n "$TB_HOST" link add br0 type bridge
ip -n "$TB_HOST" addr flush dev eth0
ip -n "$TB_HOST" link set eth0 master br0
ip -n "$TB_HOST" addr add 172.24.4.100/18 dev br0
ip -n "$TB_HOST" link set br0 up
tb_wait_link "$TB_HOST" br0
ip -n "$TB_HOST" route add default via 172.24.63.253 dev br0
tb_exec "$TB_HOST" sysctl -qw net.bridge.bridge-nf-call-iptables=1
t_expect "bridge: br_netfilter calls iptables in the host" 1 \
	"$(tb_exec "$TB_HOST" cat /proc/sys/net/bridge/bridge-nf-call-iptables)"
t_expect "bridge: the bridge and its port are known, and pass" \
	"bridge-nf br0 pass|bridge-nf eth0 pass" \
	"$(dump | awk '{ print $1, $2 }' | sed 's/$/ pass/' | sort | paste -sd'|')"
t_expect "bridge: the reply on the bridge passes" pass "$(dump ingress "$DNS" 172.24.4.100 udp 53 40000 br0)"
audit "bridge" 0
t_expect "bridge: reachable" "reachable reachable" "$(verdicts)"
tb_expect_probe "bridge: the kernel answers" reply "$DNS" 53 udp
# the IP hooks see the host's reply once, with br0 as its device: a drop
# there is simulated and the kernel agrees
tb_exec "$TB_HOST" iptables-legacy -I INPUT -i br0 -s 100.64.0.0/10 -j DROP
audit "bridge drop" 2
t_expect "bridge drop: blocked by the rule" "-A INPUT -s 100.64.0.0/10 -i br0 -j DROP" \
	"$(tb_json '"|".join(sorted(set(t["blocked_by"]["text"] for t in r["targets"])))')"
tb_expect_probe "bridge drop: the kernel drops the reply" timeout "$DNS" 53 udp
tb_exec "$TB_HOST" iptables-legacy -D INPUT -i br0 -s 100.64.0.0/10 -j DROP

# --- without CAP_NET_ADMIN: notes, never a silent pass --------------------------
tb_exec "$TB_HOST" ip xfrm policy add dir in src 100.64.0.0/10 dst 0.0.0.0/0 action block
out=$(tb_exec "$TB_HOST" setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	--bounding-set=-all "$DUMP")
t_expect "unprivileged: the xfrm policies cannot be read, and it says so" 1 \
	"$(grep -c '^note: IPsec (xfrm) policies cannot be read (Operation not permitted, needs CAP_NET_ADMIN)' <<<"$out" || true)"
t_expect "unprivileged: the flowtables cannot be read, and it says so" 1 \
	"$(grep -c '^note: nft flowtables cannot be read (Operation not permitted, needs CAP_NET_ADMIN)' <<<"$out" || true)"

t_done
