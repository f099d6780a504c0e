#!/usr/bin/env bash
# The services this host offers over an overlay (issue 16) as targets: a
# peer of the overlay opens a connection that arrives on tailscale0. The
# host's root names ssh.socket on the overlay address (a unit: found in the
# units), a process listens on the overlay address by itself (found with
# sock_diag) and the operator names a port (--offer). The peer is the one
# the host routes through tailscale0 (table 52, as tailscaled sets it up).
# The kernel decides each verdict: the same connection from the peer's
# namespace. Without a route to a peer, nothing is simulated and a note
# says why; a service on a host without the overlay's device likewise.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3 iptables-legacy
tb_audit_env WORK
# the host's overlay address (Tailscale's own rules accept it on lo)
TB_TS_IP=100.101.102.103

tb_ns_add TB_HOST ovhost
tb_ns_add TB_PEER ovpeer
export TB_HOST TB_PEER
ip link add tailscale0 netns "$TB_HOST" type veth peer name p0 netns "$TB_PEER"
ip -n "$TB_HOST" addr add 100.101.102.103/32 dev tailscale0
ip -n "$TB_PEER" addr add 100.64.0.7/32 dev p0
ip -n "$TB_HOST" link set tailscale0 up
ip -n "$TB_PEER" link set p0 up
ip -n "$TB_HOST" link set lo up
ip -n "$TB_PEER" link set lo up
ip -n "$TB_PEER" route add 100.101.102.103/32 dev p0
tb_wait_link "$TB_HOST" tailscale0
tb_wait_link "$TB_PEER" p0
# the resolver is local: nothing else to audit
mkdir -p "/etc/netns/$TB_HOST"
echo "nameserver 127.0.0.1" >"/etc/netns/$TB_HOST/resolv.conf"

# The host's root: ssh.socket on the overlay address, with FreeBind=yes (a
# safe shape: no boot finding), and tailscaled after network-online.target.
root=$WORK/root
units=$top_srcdir/tests/data/units
cp -r "$units/base/." "$root/"
cp -r "$units/seed000-freebind/." "$root/"
mkdir -p "$root/etc/systemd/system/tailscaled.service.d"
printf '[Unit]\nWants=network-online.target\nAfter=network-online.target\n' \
	>"$root/etc/systemd/system/tailscaled.service.d/online.conf"
for f in "$units/base/symlinks" "$units/seed000-freebind/symlinks"; do
	grep -v '^#' "$f" | while read -r link target; do
		[ -n "$link" ] || continue
		mkdir -p "$root/$(dirname "$link")"
		ln -sfn "$target" "$root/$link"
	done
done
rm -f "$root/symlinks" "$root/README"
export CGNATCHECK_HOST_ROOT=$root

# the services: ssh (cg-echo on the wildcard stands in for the socket's
# sshd: it accepts and says nothing; a process outside ssh.socket holding
# its port, which the audit names: PORT_HELD_OUTSIDE_UNIT, exit 2, in every
# audit below), and a process bound to the overlay address itself that
# greets as sshd does
tb_host_listen 22/tcp 8443/tcp
tb_bg "$TB_HOST" python3 "$top_srcdir/tests/kernel/ssh-banner-serve.py" "$WORK/bound.ready" 100.101.102.103 2222 \
	send 'SSH-2.0-cgt\r\n'
tb_wait_file "$WORK/bound.ready" 10 "${TB_PIDS[-1]}"

from_peer() {
	if [ "$1" = 2222 ]; then # the greeting service: the first line read
		tb_exec "$TB_PEER" python3 -c '
import socket
try:
    s = socket.create_connection(("100.101.102.103", 2222), timeout=3)
    print("reply" if s.recv(64).startswith(b"SSH-2.0-cgt") else "error")
except OSError:
    print("timeout")'
		return
	fi
	tb_probe_from "$TB_PEER" 100.101.102.103 "$1" tcp --from 100.64.0.7 || true
}
overlay() {
	tb_json '"; ".join("%s %s %s/%s %s %s" % (t["role"], t["address"], t["proto"], t["port"], t["origin"], t["verdict"]) for t in r["targets"] if t["role"] in ("ssh", "overlay-service"))'
}
# the findings beyond info: only the stray holder of ssh.socket's port
others() { tb_json '" ".join(sorted(set(f["code"] for f in r["findings"] if f["severity"] != "info")))'; }
notes() { tb_json '" | ".join(f["message"] for f in r["findings"] if f["code"] == "OVERLAY_SERVICE_NOT_CHECKED")'; }

# --- no route to any peer yet: nothing simulated, the note says why ----------
# (quad-100, tailscaled's own service, is routed through tailscale0 but is no
# peer)
# tailscaled's table 52 with its own service (quad-100: no peer) only
ip -n "$TB_HOST" route add 100.100.100.100/32 dev tailscale0 table 52
ip -n "$TB_HOST" rule add pref 5270 table 52
tb_audit "no peer" 2 --offer tcp/8443
t_expect "no peer: no overlay target" "" "$(overlay)"
t_expect "no peer: the stray holder of ssh.socket's port is the only problem" PORT_HELD_OUTSIDE_UNIT "$(others)"
t_expect "no peer: the holder named (cg-echo's pid), and what to do" "True" \
	"$(tb_json 'any(f["code"] == "PORT_HELD_OUTSIDE_UNIT" and f["unit"] == "ssh.socket" and f["holder_pid"] == '"$TB_ECHO_PID"' and "kill '"$TB_ECHO_PID"'" in f["message"] for f in r["findings"])')"
t_expect "no peer: a note for each service, naming the device" "True" \
	"$(tb_json 'sum(1 for f in r["findings"] if f["code"] == "OVERLAY_SERVICE_NOT_CHECKED" and "tailscale0" in f["message"] and "no peer" in f["message"]) == 3')"

# --- the peer routed through tailscale0 (table 52): all reachable ------------
ip -n "$TB_HOST" route add 100.64.0.7/32 dev tailscale0 table 52
tb_audit "peer, no firewall" 2 --offer tcp/8443
want="ssh 100.64.0.7 tcp/22 ssh.socket ListenStream reachable; overlay-service 100.64.0.7 tcp/8443 offer:tcp/8443 reachable; overlay-service 100.64.0.7 tcp/2222 listening:tcp/2222 reachable"
t_expect "peer, no firewall: the unit's, the named and the bound service, reachable" "$want" "$(overlay)"
t_expect "peer, no firewall: no note" "" "$(notes)"
t_expect "peer, no firewall: the stray holder is the only problem" PORT_HELD_OUTSIDE_UNIT "$(others)"
t_expect "peer, no firewall: the kernel agrees (22)" reply "$(from_peer 22)"
t_expect "peer, no firewall: the kernel agrees (8443)" reply "$(from_peer 8443)"
t_expect "peer, no firewall: the kernel agrees (2222)" reply "$(from_peer 2222)"

# --- a TCP socket on the wildcard address takes the overlay's connections ----
tb_audit "wildcard listener" 2
t_expect "wildcard listener: cg-echo's 8443 found without --offer" "True" \
	"$(tb_json 'any(t["port"] == 8443 and t["origin"] == "listening:tcp/8443" and t["verdict"] == "reachable" and t["address"] == "100.64.0.7" for t in r["targets"])')"
t_expect "wildcard listener: no note for the family the overlay has no peer of" "" "$(notes)"

# --- Tailscale's own rules (v1.98+): the overlay's traffic is accepted -------
tb_ts_install legacy new
tb_audit "tailscale's rules" 2 --offer tcp/8443
t_expect "tailscale's rules: reachable" "$want" "$(overlay)"
t_expect "tailscale's rules: the kernel agrees (22)" reply "$(from_peer 22)"

# --- a drop of the overlay's ssh before Tailscale's accept -------------------
tb_exec "$TB_HOST" iptables-legacy -I INPUT -i tailscale0 -p tcp --dport 22 -j DROP
tb_audit "ssh dropped on tailscale0" 2 --offer tcp/8443
t_expect "ssh dropped: blocked, the others reachable" \
	"${want/tcp\/22 ssh.socket ListenStream reachable/tcp/22 ssh.socket ListenStream blocked}" "$(overlay)"
t_expect "ssh dropped: the rule named" "-A INPUT -i tailscale0 -p tcp -m tcp --dport 22 -j DROP" \
	"$(tb_json '"|".join(t["blocked_by"]["text"] for t in r["targets"] if t["verdict"] == "blocked")')"
t_expect "ssh dropped: the kernel agrees (22)" timeout "$(from_peer 22)"
t_expect "ssh dropped: the kernel agrees (8443)" reply "$(from_peer 8443)"
tb_exec "$TB_HOST" iptables-legacy -D INPUT -i tailscale0 -p tcp --dport 22 -j DROP

# --- the reply to the peer leaves elsewhere: an asymmetric path --------------
ip link add eth0 netns "$TB_HOST" type veth peer name e1 netns "$TB_PEER"
ip -n "$TB_HOST" link set eth0 up
ip -n "$TB_HOST" rule add pref 100 to 100.64.0.7 iif lo lookup 77
ip -n "$TB_HOST" route add 100.64.0.7/32 dev eth0 table 77
tb_audit "replies through eth0" 2 --only-named --offer tcp/8443
t_expect "replies through eth0: unroutable (the unit's service and the named one)" \
	"ssh 100.64.0.7 tcp/22 ssh.socket ListenStream unroutable; overlay-service 100.64.0.7 tcp/8443 offer:tcp/8443 unroutable" \
	"$(overlay)"
t_expect "replies through eth0: says where the replies go" "True" \
	"$(tb_json 'all("another device" in f["message"] for f in r["findings"] if f["code"] == "TARGET_UNROUTABLE")')"
t_expect "replies through eth0: the kernel agrees (no answer comes back to the peer)" timeout "$(from_peer 8443)"
ip -n "$TB_HOST" rule del pref 100

# --- --only-named with --offer: the units still, no sockets ------------------
tb_audit "--only-named --offer" 2 --only-named --offer tcp/8443
t_expect "--only-named --offer: the unit's and the named service, no socket's" \
	"ssh 100.64.0.7 tcp/22 ssh.socket ListenStream reachable; overlay-service 100.64.0.7 tcp/8443 offer:tcp/8443 reachable" \
	"$(overlay)"

# --- --probe: ready means the service greets a fresh connection --------------
tb_audit "--probe" 2 --offer tcp/8443 --probe
t_expect "--probe: silent ssh is not ready, a silent service of no known protocol is unproven (info), the greeting one is ready" \
	"OVERLAY_SERVICE_NOT_READY tcp/22; OVERLAY_SERVICE_PROBE_INCONCLUSIVE tcp/8443" \
	"$(tb_json '"; ".join(sorted(f["code"] + " " + f["message"].split(" to port ")[1].split(":")[0] for f in r["findings"] if f["code"].startswith("OVERLAY_SERVICE_NOT_") or f["code"] == "OVERLAY_SERVICE_PROBE_INCONCLUSIVE"))')"
t_expect "--probe: the greeting read" "True" \
	"$(tb_json 'any(t["port"] == 2222 and t["probe"]["status"] == "answered" and "SSH-2.0-cgt" in t["probe"]["detail"] for t in r["targets"])')"
kill "${TB_PIDS[-1]}"
tb_wait_exit "${TB_PIDS[-1]}" 10 || true
tb_audit "--probe, the bound service gone" 2 --offer tcp/2222 --only-named --probe
t_expect "--probe, gone: nothing listens" "True" \
	"$(tb_json 'any(f["code"] == "OVERLAY_SERVICE_NOT_LISTENING" and "100.101.102.103 port 2222" in f["message"] and "refused" in f["message"] for f in r["findings"])')"

# --- bad --offer: a clear error, exit 3 ---------------------------------------
for bad in tcp/0 tcp/65536 sctp/22 tcp22 "tcp/22x"; do
	st=0
	tb_exec "$TB_HOST" "$CGNATCHECK" --offer "$bad" >/dev/null 2>"$WORK/err" || st=$?
	t_expect "--offer $bad: exit 3" 3 "$st"
	t_expect "--offer $bad: names the argument" 1 "$(grep -c -- "--offer '$bad'" "$WORK/err" || true)"
done

t_done
