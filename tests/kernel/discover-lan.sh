#!/usr/bin/env bash
# A LAN numbered inside 100.64.0.0/10 (100.100.0.0/20, as in Tailscale's
# tracker) with the default gateway in it (Starlink and other CGNAT ISPs),
# and Tailscale's drop on the host. With nothing on the command line the
# audit finds the connected subnet and the gateway by itself: the
# neighbours' SSH to the host (inbound tcp/22 from the subnet) and the
# gateway's DNS answers are blocked, as the kernel shows; --fix lets both
# through (the kernel agrees), --undo takes the exceptions away again, and
# --only-named keeps the audit to what the command line names. A host whose
# LAN is outside the range gets none of this.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3 iptables-legacy iptables-legacy-save
tb_audit_env WORK

tb_ns_add TB_HOST lanhost
tb_ns_add TB_PROV lanprov
export TB_HOST TB_PROV
ip link add eth0 netns "$TB_HOST" type veth peer name lan0 netns "$TB_PROV"
ip -n "$TB_HOST" addr add 100.100.0.5/20 dev eth0
ip -n "$TB_PROV" addr add 100.100.0.1/20 dev lan0
ip -n "$TB_HOST" link set eth0 up
ip -n "$TB_PROV" link set lan0 up
ip -n "$TB_HOST" route add default via 100.100.0.1
tb_wait_link "$TB_HOST" eth0
tb_wait_link "$TB_PROV" lan0
TB_HOST_IP=100.100.0.5
export TB_HOST_IP
# the gateway answers DNS; the host's SSH-like listener
tb_echo "$TB_PROV" 53/udp 53/tcp
tb_host_listen 22/tcp
# a resolver elsewhere (the gateway as resolv.conf's would be a "dns" target
# from resolv.conf: the first origin of a target stays)
mkdir -p "/etc/netns/$TB_HOST"
echo "nameserver 192.0.2.53" >"/etc/netns/$TB_HOST/resolv.conf"

ssh_from_lan() { tb_probe_from "$TB_PROV" "$TB_HOST_IP" 22 tcp --from 100.100.0.1 || true; }
dns_to_gw() { tb_probe 100.100.0.1 53 "$1" || true; }
targets() {
	tb_json '"; ".join("%s %s %s/%s %s %s" % (t["role"], t["address"], t["proto"], t["port"], t["origin"], t["verdict"]) for t in r["targets"] if t["role"] in ("lan", "gateway"))'
}

# --- before Tailscale: nothing is cut, nothing is wrong -----------------------
tb_audit "no overlay firewall" 0
t_expect "no overlay firewall: the LAN and the gateway are checked, reachable" \
	"lan 100.100.0.1 tcp/22 connected:eth0 100.100.0.0/20 reachable; gateway 100.100.0.1 udp/53 default-gateway:eth0 reachable; gateway 100.100.0.1 tcp/53 default-gateway:eth0 reachable" \
	"$(targets)"
t_expect "no overlay firewall: the kernel agrees (ssh from the LAN)" reply "$(ssh_from_lan)"
t_expect "no overlay firewall: the kernel agrees (dns to the gateway)" reply "$(dns_to_gw udp)"
t_expect "no overlay firewall: the LAN in range is an info finding, naming the subnet" "True" \
	"$(tb_json 'any(f["code"] == "LAN_IN_OVERLAY_RANGE" and f["severity"] == "info" and "100.100.0.0/20" in f["message"] and "eth0" in f["message"] for f in r["findings"])')"

# --- Tailscale's drop: both cut, the audit finds them by itself ---------------
tb_exec "$TB_HOST" iptables-legacy -I INPUT -s 100.64.0.0/10 ! -i tailscale0 -j DROP
tb_audit "tailscale's drop" 2
t_expect "tailscale's drop: the LAN and the gateway blocked" \
	"lan 100.100.0.1 tcp/22 connected:eth0 100.100.0.0/20 blocked; gateway 100.100.0.1 udp/53 default-gateway:eth0 blocked; gateway 100.100.0.1 tcp/53 default-gateway:eth0 blocked" \
	"$(targets)"
t_expect "tailscale's drop: the rule named" "-A INPUT -s 100.64.0.0/10 ! -i tailscale0 -j DROP" \
	"$(tb_json '"|".join(sorted(set(t["blocked_by"]["text"] for t in r["targets"] if t["verdict"] == "blocked")))')"
t_expect "tailscale's drop: the kernel agrees (ssh from the LAN)" timeout "$(ssh_from_lan)"
t_expect "tailscale's drop: the kernel agrees (dns to the gateway, udp)" timeout "$(dns_to_gw udp)"
t_expect "tailscale's drop: the kernel agrees (dns to the gateway, tcp)" timeout "$(dns_to_gw tcp)"

# --- --only-named: what the command line names, nothing else ----------------
tb_audit "--only-named" 2 --only-named --dns 100.100.0.1
t_expect "--only-named: no discovered target" "" "$(targets)"
t_expect "--only-named: only the named one" "100.100.0.1 100.100.0.1" \
	"$(tb_json '" ".join(t["address"] for t in r["targets"])')"

# --- --fix: the exceptions, and the kernel lets both through -----------------
rules_before=$(tb_exec "$TB_HOST" iptables-legacy-save -t filter | grep -v '^[#:]')
tb_audit "--fix" 0 --fix
t_expect "--fix: all reachable" \
	"lan 100.100.0.1 tcp/22 connected:eth0 100.100.0.0/20 reachable; gateway 100.100.0.1 udp/53 default-gateway:eth0 reachable; gateway 100.100.0.1 tcp/53 default-gateway:eth0 reachable" \
	"$(targets)"
t_expect "--fix: three exceptions applied" "applied applied applied" \
	"$(tb_json '" ".join(c["result"] for c in r["changes"])')"
t_expect "--fix: the LAN's exception is the subnet's, to port 22 on eth0 only" "1" \
	"$(tb_exec "$TB_HOST" iptables-legacy-save -t filter | grep -c -- '-A INPUT -s 100.100.0.0/20 -i eth0 -p tcp -m tcp --dport 22 .*cgnatcheck:.*-j ACCEPT' || true)"
t_expect "--fix: the kernel agrees (ssh from the LAN)" reply "$(ssh_from_lan)"
t_expect "--fix: the kernel agrees (dns to the gateway, udp)" reply "$(dns_to_gw udp)"
t_expect "--fix: the kernel agrees (dns to the gateway, tcp)" reply "$(dns_to_gw tcp)"
tb_audit "--fix again" 0 --fix
t_expect "--fix again: nothing changed" "" "$(tb_json '" ".join(c["result"] for c in r["changes"] if c["result"] != "unchanged")')"

# --- --undo: back to the rules as they were -----------------------------------
tb_audit "--undo" 0 --undo
t_expect "--undo: the rules as before" "$rules_before" \
	"$(tb_exec "$TB_HOST" iptables-legacy-save -t filter | grep -v '^[#:]')"
t_expect "--undo: the kernel agrees (ssh from the LAN cut again)" timeout "$(ssh_from_lan)"

# --- a LAN outside the range: no finding, no extra target ------------------------
ip -n "$TB_HOST" route del default
ip -n "$TB_HOST" addr flush dev eth0
ip -n "$TB_PROV" addr flush dev lan0
ip -n "$TB_HOST" addr add 192.168.7.5/24 dev eth0
ip -n "$TB_PROV" addr add 192.168.7.1/24 dev lan0
ip -n "$TB_HOST" route add default via 192.168.7.1
echo "nameserver 192.168.7.1" >"/etc/netns/$TB_HOST/resolv.conf"
tb_audit "LAN outside the range" 0
t_expect "LAN outside the range: no LAN or gateway target" "" "$(targets)"
t_expect "LAN outside the range: no finding about it" "False" \
	"$(tb_json 'any(f["code"] in ("LAN_IN_OVERLAY_RANGE", "GATEWAY_IN_OVERLAY_RANGE") for f in r["findings"])')"

t_done
