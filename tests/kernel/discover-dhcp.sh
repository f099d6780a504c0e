#!/usr/bin/env bash
# An ISP whose DHCP servers live inside 100.64.0.0/10 (100.100.128.1, as in
# Tailscale's tracker) and a host that takes its addresses from them with
# the real clients, each writing its lease file into the test's own host
# root: ISC dhclient on eth0 ($ROOT/var/lib/dhcp/dhclient.eth0.leases),
# systemd-networkd on eth1 ($ROOT/run/systemd/netif/leases/IFINDEX) and
# dhcpcd on eth2 ($ROOT/var/lib/dhcpcd/eth2.lease); dnsmasq serves all three
# from the provider's namespace and hands out itself as DNS and NTP server.
#
# With nothing on the command line the audit finds every lease's DHCP
# server (udp 68 -> 67), DNS and NTP server, origin dhcp-lease:IFNAME. With
# Tailscale's drop they are blocked, and the kernel agrees: a unicast
# DHCPINFORM from udp/68 (the renewal's path) gets no answer, networkd's
# and dhcpcd's real renewals go unanswered although dnsmasq sends its ACK.
# --fix lets them through: the exchange gets its answer, and so does
# dhcpcd's next retransmission of its renewal.
#
# ISC dhclient is the exception, and the test shows it: it reads the
# server's answers from a packet socket, which sees them before netfilter,
# so its renewals get through Tailscale's drop. The verdict is about the
# UDP path, the one networkd, dhcpcd and NetworkManager's internal client
# renew over.
#
# The clients never touch the machine: networkd and dhcpcd run in mount
# namespaces of their own (ip netns exec makes one) with the test's root
# over /run and /var/lib and /sys read-only (networkd then does not wait
# for udev, as in a container); dhclient runs with a script of the test's
# that sets the address and nothing else (no resolv.conf, no hooks);
# dhcpcd with /bin/true as its script.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3 iptables-legacy iptables-legacy-save dnsmasq dhclient dhcpcd
NETWORKD=
for p in /lib/systemd/systemd-networkd /usr/lib/systemd/systemd-networkd; do
	[ -x "$p" ] && NETWORKD=$p && break
done
[ -n "$NETWORKD" ] || t_skip "needs systemd-networkd (scripts/install-deps.sh: systemd)"
id systemd-network >/dev/null 2>&1 || t_skip "needs the systemd-network user (systemd's package makes it)"
tb_audit_env WORK
# the host root: networkd writes its leases there as systemd-network
tb_tmpdir_shared ROOT
export CGNATCHECK_HOST_ROOT=$ROOT CGNATCHECK_RESOLVED_CONF=$WORK/no-resolved.conf

tb_ns_add TB_HOST dhcphost
tb_ns_add TB_PROV dhcpprov
export TB_HOST TB_PROV
SERVERS=(100.100.128.1 100.100.144.1 100.100.160.1)
for i in 0 1 2; do
	ip link add "eth$i" netns "$TB_HOST" type veth peer name "lan$i" netns "$TB_PROV"
	ip -n "$TB_PROV" addr add "${SERVERS[i]}/20" dev "lan$i"
	ip -n "$TB_PROV" link set "lan$i" up
	ip -n "$TB_HOST" link set "eth$i" up
	tb_wait_link "$TB_HOST" "eth$i" || tb_die "eth$i did not come up"
	tb_wait_link "$TB_PROV" "lan$i" || tb_die "lan$i did not come up"
done
mkdir -p "/etc/netns/$TB_HOST"
echo "nameserver 127.0.0.1" >"/etc/netns/$TB_HOST/resolv.conf"

# --- the ISP: dnsmasq's DHCP (no DNS: cg-echo answers 53 and 123) ------------
ranges=()
for s in "${SERVERS[@]}"; do
	ranges+=("--dhcp-range=${s%.1}.50,${s%.1}.99,255.255.240.0,10m")
done
# renewal (T1) every 5 s; no router: the host gets no default route
tb_bg "$TB_PROV" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --bind-interfaces \
	--interface=lan0 --interface=lan1 --interface=lan2 --leasefile-ro --pid-file= \
	--log-dhcp --log-facility=- --dhcp-authoritative "${ranges[@]}" \
	--dhcp-option=option:router --dhcp-option=option:dns-server,0.0.0.0 \
	--dhcp-option=option:ntp-server,0.0.0.0 --dhcp-option=option:T1,5 2>"$WORK/dnsmasq.log"
tb_echo "$TB_PROV" 53/udp 53/tcp 123/udp
for ((i = 0; i < 200; i++)); do
	tb_exec "$TB_PROV" ss -Hlun 'sport = :67' | grep -q . && break
	sleep 0.05
done
tb_exec "$TB_PROV" ss -Hlun 'sport = :67' | grep -q . || tb_die "dnsmasq did not start: $(cat "$WORK/dnsmasq.log")"

# --- eth0: ISC dhclient --------------------------------------------------------
mkdir -p "$ROOT/var/lib/dhcp" "$ROOT/var/lib/dhcpcd" "$ROOT/run/systemd/netif" "$ROOT/run/systemd/network" \
	"$WORK/empty"
cat >"$WORK/dhclient-script" <<EOF
#!/bin/sh
# the address and its lifetime, nothing else; every event logged
echo "\$reason" >>"$WORK/dhclient.events"
case \$reason in
BOUND|RENEW|REBIND|REBOOT)
	ip addr replace "\$new_ip_address/\$new_subnet_mask" dev "\$interface" \\
		valid_lft "\$new_dhcp_lease_time" preferred_lft "\$new_dhcp_lease_time" ;;
esac
exit 0
EOF
chmod 0755 "$WORK/dhclient-script"
echo "request subnet-mask, broadcast-address, domain-name-servers, ntp-servers;" >"$WORK/dhclient.conf"
: >"$WORK/dhclient.events"
tb_bg "$TB_HOST" dhclient -4 -d -sf "$WORK/dhclient-script" -cf "$WORK/dhclient.conf" \
	-lf "$ROOT/var/lib/dhcp/dhclient.eth0.leases" -pf "$WORK/dhclient.pid" eth0 2>"$WORK/dhclient.log"

# --- eth1: systemd-networkd ------------------------------------------------------
cat >"$ROOT/run/systemd/network/10-cgt-eth1.network" <<'EOF'
[Match]
Name=eth1

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no

[DHCPv4]
UseDNS=yes
UseNTP=yes
UseRoutes=no
UseGateway=no
UseHostname=no
EOF
chown systemd-network:systemd-network "$ROOT/run/systemd/netif"
cat >"$WORK/networkd.sh" <<EOF
#!/bin/sh
set -e
# this mount namespace only (ip netns exec's): the test's /run (no D-Bus,
# no machine state), no .network file of the machine's, /sys read-only
mount --bind "$ROOT/run" /run
[ ! -d /etc/systemd/network ] || mount --bind "$WORK/empty" /etc/systemd/network
mount -o remount,ro /sys
SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console exec "$NETWORKD"
EOF
chmod 0755 "$WORK/networkd.sh"
tb_bg "$TB_HOST" "$WORK/networkd.sh" 2>"$WORK/networkd.log"

# --- eth2: dhcpcd --------------------------------------------------------------
cat >"$WORK/dhcpcd.conf" <<'EOF'
option domain_name_servers, ntp_servers
require dhcp_server_identifier
nogateway
noipv6
noipv4ll
noarp
EOF
cat >"$WORK/dhcpcd.sh" <<EOF
#!/bin/sh
set -e
# its lease database in the test's root, its run directory a tmpfs
mount --bind "$ROOT/var/lib" /var/lib
mount -t tmpfs tmpfs /run
mkdir -p /run/dhcpcd
exec dhcpcd -B -4 -d -f "$WORK/dhcpcd.conf" -c /bin/true eth2
EOF
chmod 0755 "$WORK/dhcpcd.sh"
tb_bg "$TB_HOST" "$WORK/dhcpcd.sh" 2>"$WORK/dhcpcd.log"

# --- every client has its lease and its address --------------------------------
ifindex1=$(tb_exec "$TB_HOST" cat /sys/class/net/eth1/ifindex)
LEASES=("$ROOT/var/lib/dhcp/dhclient.eth0.leases" "$ROOT/run/systemd/netif/leases/$ifindex1"
	"$ROOT/var/lib/dhcpcd/eth2.lease")
ADDRS=()
for i in 0 1 2; do
	tb_wait_file "${LEASES[i]}" 60 || {
		tail -n 20 "$WORK"/*.log >&2
		tb_die "no lease from the client on eth$i"
	}
	for ((k = 0; k < 600; k++)); do
		a=$(ip -n "$TB_HOST" -4 -o addr show dev "eth$i" scope global | awk '{ split($4, p, "/"); print p[1]; exit }')
		[ -n "$a" ] && break
		sleep 0.1
	done
	[ -n "$a" ] || tb_die "eth$i has no address from its lease"
	ADDRS+=("$a")
done
echo "leases: eth0 ${ADDRS[0]} (dhclient), eth1 ${ADDRS[1]} (networkd), eth2 ${ADDRS[2]} (dhcpcd)" >&2

# A DHCPINFORM from ADDR:68 on DEV to SERVER:67, the path of a renewal
# (unicast both ways); prints reply or timeout. A connected socket: the
# answer comes to it and not to the client's own socket on port 68.
inform() { # DEV ADDR SERVER [SECONDS]
	tb_exec "$TB_HOST" python3 -I -S - "$@" <<'EOF'
import os, socket, struct, sys
dev, src, server = sys.argv[1:4]
wait = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
mac = bytes.fromhex(open("/sys/class/net/%s/address" % dev).read().strip().replace(":", ""))
xid = os.urandom(4)
msg = struct.pack("!BBBB4sHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0, socket.inet_aton(src),
                  bytes(4), bytes(4), bytes(4), mac, b"", b"") + bytes([99, 130, 83, 99, 53, 1, 8, 255])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, 68))
s.connect((server, 67))
s.settimeout(wait)
s.send(msg)
try:
    while True:
        data = s.recv(4096)
        if len(data) >= 240 and data[4:8] == xid:
            print("reply")
            break
except socket.timeout:
    print("timeout")
EOF
}
# a reply on a loaded machine may take longer than a second: once more with
# 3 s before calling it a timeout (a drop times out twice)
expect_inform() { # DESC WANT I
	local got
	got=$(inform "eth$3" "${ADDRS[$3]}" "${SERVERS[$3]}") || true
	if [ "$2" = reply ] && [ "$got" = timeout ]; then
		got=$(inform "eth$3" "${ADDRS[$3]}" "${SERVERS[$3]}" 3) || true
	fi
	t_expect "$1" "$2" "$got"
}

targets() {
	tb_json '"; ".join(sorted("%s %s %s/%s %s %s" % (t["role"], t["address"], t["proto"], t["port"], t["origin"], t["verdict"]) for t in r["targets"] if t["role"] in ("dhcp", "dns", "ntp")))'
}
want() { # VERDICT: every lease's services
	local v=$1 i out=()
	for i in 0 1 2; do
		out+=("dhcp ${SERVERS[i]} udp/67 dhcp-lease:eth$i $v" "dns ${SERVERS[i]} tcp/53 dhcp-lease:eth$i $v"
			"dns ${SERVERS[i]} udp/53 dhcp-lease:eth$i $v" "ntp ${SERVERS[i]} udp/123 dhcp-lease:eth$i $v")
	done
	printf '%s\n' "${out[@]}" | sort | paste -sd';' | sed 's/;/; /g'
}
# count_after FILE LINE REGEX: matching lines after line LINE
count_after() { tail -n "+$(($2 + 1))" "$1" | grep -cF -- "$3" || true; }
# wait_for FILE LINE REGEX N [SECONDS]: until N lines after LINE match
wait_for() {
	local k
	for ((k = 0; k < ${5:-60} * 10; k++)); do
		[ "$(count_after "$1" "$2" "$3")" -ge "$4" ] && return 0
		sleep 0.1
	done
	return 1
}
lines() { wc -l <"$1"; }

# --- before Tailscale: found, reachable ----------------------------------------
tb_audit "no overlay firewall" 0
t_expect "no overlay firewall: every lease's DHCP, DNS and NTP server, reachable" "$(want reachable)" "$(targets)"
t_expect "no overlay firewall: nothing the leases' readers could not understand" "[]" \
	"$(tb_json '[f["message"] for f in r["findings"] if f["code"] == "DISCOVERY_NOTE"]')"
for i in 0 1 2; do
	expect_inform "no overlay firewall: the kernel agrees (udp 68 -> 67 on eth$i)" reply "$i"
done

# --- Tailscale's drop ------------------------------------------------------------
tb_exec "$TB_HOST" iptables-legacy -I INPUT -s 100.64.0.0/10 ! -i tailscale0 -j DROP
# the logs from here on: what the clients send now meets the drop
d0=$(lines "$WORK/dnsmasq.log") n0=$(lines "$WORK/networkd.log") c0=$(lines "$WORK/dhcpcd.log")
e0=$(lines "$WORK/dhclient.events")
tb_audit "tailscale's drop" 2
# all blocked but dhclient's DHCP server: dhclient reads the answers through
# its packet socket, ahead of the drop (its renewal below shows it)
dropped=$(want blocked | sed "s|dhcp ${SERVERS[0]} udp/67 dhcp-lease:eth0 blocked|dhcp ${SERVERS[0]} udp/67 dhcp-lease:eth0 reachable|")
t_expect "tailscale's drop: every lease's services blocked, but dhclient's renewals" "$dropped" "$(targets)"
t_expect "tailscale's drop: why dhclient's are not (info, naming the rule)" \
	"${SERVERS[0]} -A INPUT -s 100.64.0.0/10 ! -i tailscale0 -j DROP" \
	"$(tb_json '"|".join(f["targets"][0] + " " + f["rule"]["text"] for f in r["findings"] if f["code"] == "REPLY_READ_BEFORE_NETFILTER")')"
t_expect "tailscale's drop: the rule named" "-A INPUT -s 100.64.0.0/10 ! -i tailscale0 -j DROP" \
	"$(tb_json '"|".join(sorted(set(t["blocked_by"]["text"] for t in r["targets"] if t["role"] in ("dhcp", "dns", "ntp") and t["blocked_by"])))')"
text=$(tb_exec "$TB_HOST" "$CGNATCHECK" 2>&1) || true
t_expect "tailscale's drop: the text report names the lease" 1 \
	"$(grep -c "blocked *dhcp ${SERVERS[1]} 67/udp *(dhcp-lease:eth1)" <<<"$text" || true)"
expect_inform "tailscale's drop: a UDP socket's exchange on eth0 gets no answer (dhclient's packet socket does)" timeout 0
for i in 1 2; do
	expect_inform "tailscale's drop: the kernel agrees (udp 68 -> 67 on eth$i)" timeout "$i"
done
for i in 0 1 2; do
	tb_expect_probe "tailscale's drop: the kernel agrees (dns on eth$i)" timeout "${SERVERS[i]}" 53 udp
	tb_expect_probe "tailscale's drop: the kernel agrees (ntp on eth$i)" timeout "${SERVERS[i]}" 123 udp
done
# answered KIND LINE I: how many DHCPKIND messages on lanI after LINE
# dnsmasq answered with a DHCPACK (its log: the one, then the other)
answered() {
	tail -n "+$(($2 + 1))" "$WORK/dnsmasq.log" |
		awk -v q="DHCP$1(lan$3)" -v a="DHCPACK(lan$3)" 'index($0, q) { asked = 1 }
			asked && index($0, a) { n++; asked = 0 }
			END { print n + 0 }'
}
for i in 0 1 2; do
	t_expect "tailscale's drop: dnsmasq answered the exchange on eth$i (the kernel dropped the answer)" 1 \
		"$(answered INFORM "$d0" "$i")"
done
# first_after FILE LINE REGEX: the line number of the first match after LINE
first_after() { awk -v from="$2" -v re="$3" 'NR > from && index($0, re) { print NR; exit }' "$1"; }
# networkd's renewal: sent, answered by dnsmasq, never heard
if wait_for "$WORK/networkd.log" "$n0" "DHCPv4 client: REQUEST (renewing)" 1; then
	n1=$(first_after "$WORK/networkd.log" "$n0" "DHCPv4 client: REQUEST (renewing)")
	for ((k = 0; k < 600; k++)); do
		[ "$(answered REQUEST "$d0" 1)" -ge 1 ] && break
		sleep 0.1
	done
	t_expect "tailscale's drop: dnsmasq answered networkd's renewal" True \
		"$([ "$(answered REQUEST "$d0" 1)" -ge 1 ] && echo True || echo False)"
	# (this exchange takes longer than a packet between two namespaces)
	expect_inform "tailscale's drop: once more, the kernel agrees (eth1)" timeout 1
	t_expect "tailscale's drop: networkd's renewal unanswered (the kernel dropped dnsmasq's ACK)" 0 \
		"$(count_after "$WORK/networkd.log" "$n1" "DHCPv4 client: ACK")"
else
	t_fail "tailscale's drop: networkd did not renew"
fi
# dhcpcd's renewal: sent and sent again, never acknowledged
if wait_for "$WORK/dhcpcd.log" "$c0" "eth2: sending REQUEST" 2; then
	c2=$(first_after "$WORK/dhcpcd.log" "$c0" "eth2: sending REQUEST")
	t_expect "tailscale's drop: dhcpcd's renewal unanswered (sent again)" 0 \
		"$(count_after "$WORK/dhcpcd.log" "$c2" "acknowledged")"
else
	t_fail "tailscale's drop: dhcpcd did not send its renewal twice"
fi
# dhclient: its packet socket reads the ACK before netfilter does
if wait_for "$WORK/dhclient.events" "$e0" RENEW 1; then
	t_ok "tailscale's drop: dhclient renews all the same (its packet socket sees the answer before netfilter)"
else
	t_fail "tailscale's drop: dhclient did not renew (its packet socket should see the answer before netfilter)"
fi

# --- --only-named: no lease is asked about ---------------------------------------
tb_audit "--only-named" 0 --only-named --dns 127.0.0.1
t_expect "--only-named: no discovered target" "[]" \
	"$(tb_json '[t["address"] for t in r["targets"] if t["origin"].startswith("dhcp-lease:")]')"

# --- --fix -----------------------------------------------------------------------
rules_before=$(tb_exec "$TB_HOST" iptables-legacy-save -t filter | grep -v '^[#:]')
c1=$(lines "$WORK/dhcpcd.log")
tb_audit "--fix" 0 --fix
t_expect "--fix: every lease's services reachable" "$(want reachable)" "$(targets)"
dhcp_exceptions() {
	tb_exec "$TB_HOST" iptables-legacy-save -t filter |
		grep -c -- "-A INPUT -s ${SERVERS[$1]}/32 -i eth$1 -p udp -m udp --sport 67 --dport 68 -m conntrack --ctstate RELATED,ESTABLISHED .*-j ACCEPT" || true
}
t_expect "--fix: no DHCP exception for dhclient on eth0 (it needs none)" 0 "$(dhcp_exceptions 0)"
for i in 0 1 2; do
	if [ "$i" != 0 ]; then
		t_expect "--fix: the DHCP exception for eth$i: from the server's port 67 to 68, replies only" 1 \
			"$(dhcp_exceptions "$i")"
		expect_inform "--fix: the kernel agrees (udp 68 -> 67 on eth$i)" reply "$i"
	fi
	tb_expect_probe "--fix: the kernel agrees (dns on eth$i)" reply "${SERVERS[i]}" 53 udp
	tb_expect_probe "--fix: the kernel agrees (dns/tcp on eth$i)" reply "${SERVERS[i]}" 53 tcp
	tb_expect_probe "--fix: the kernel agrees (ntp on eth$i)" reply "${SERVERS[i]}" 123 udp
done
# dhcpcd's next retransmission (its back-off doubles up to 64 s) is answered
if wait_for "$WORK/dhcpcd.log" "$c1" "eth2: acknowledged" 1 200; then
	t_ok "--fix: dhcpcd's renewal acknowledged"
else
	t_fail "--fix: dhcpcd's renewal still unanswered"
fi
tb_audit "--fix again" 0 --fix
t_expect "--fix again: nothing changed" "" \
	"$(tb_json '" ".join(c["result"] for c in r["changes"] if c["result"] != "unchanged")')"

# --- --undo ----------------------------------------------------------------------
tb_audit "--undo" 0 --undo
t_expect "--undo: the rules as before" "$rules_before" \
	"$(tb_exec "$TB_HOST" iptables-legacy-save -t filter | grep -v '^[#:]')"
expect_inform "--undo: the kernel agrees (udp 68 -> 67 on eth2 cut again)" timeout 2

# --- the lease files the clients wrote: the lease fuzz target's corpus is made of them
if [ -n "${CGT_SAVE_LEASES:-}" ]; then
	cp "${LEASES[0]}" "$CGT_SAVE_LEASES/dhclient.eth0.leases"
	cp "${LEASES[1]}" "$CGT_SAVE_LEASES/networkd-lease"
	cp "${LEASES[2]}" "$CGT_SAVE_LEASES/dhcpcd-eth2.lease"
fi

t_done
