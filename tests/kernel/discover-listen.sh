#!/usr/bin/env bash
# Listening ports facing the provider: a provider policy whose load
# balancer health checks come from 100.100.0.0/16 (Port=listener, given
# with --policy FILE). The host listens on tcp/8080 on the wildcard
# addresses, on tcp/7070 on its eth0 address only, on tcp/9090 on loopback
# only, on tcp/6060 on its Tailscale address only and on tcp/5050 bound to
# tailscale0 (SO_BINDTODEVICE). The audit takes 8080 and 7070 as inbound
# targets from the range (origin listening:tcp/PORT) and none of the
# others; their verdicts match whether the kernel answers a SYN from the
# provider's range, before and after Tailscale's drop. A UDP health check
# with no UDP socket facing the provider stays LISTENER_PORT_UNKNOWN, and a
# replayed audit or --only-named discovers no port.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3 iptables-legacy
tb_audit_env WORK

tb_scenario lst
mkdir -p "/etc/netns/$TB_HOST"
echo "nameserver 192.0.2.53" >"/etc/netns/$TB_HOST/resolv.conf"
cat >"$WORK/testlb.conf" <<'EOF'
# A provider whose load balancers check their backends from 100.100.0.0/16.
[Provider]
Name=testlb
Description=a load balancer's health checks (test)

[Service]
Name=lb-health-check
Role=health-check
Address=100.100.0.0/16
Protocol=tcp
Port=listener
Direction=inbound

[Service]
Name=udp-health-check
Role=health-check
Address=100.100.0.0/16
Protocol=udp
Port=listener
Direction=inbound
EOF

# the host's listeners: cg-echo on the wildcard addresses; echo servers of
# python bound to one address, or to a device
tb_host_listen 8080/tcp
ready=$WORK/listen.ready
tb_bg "$TB_HOST" python3 -I -S -c '
import socket, sys, threading
def serve(addr, port, dev=None):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if dev:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
    s.bind((addr, port))
    s.listen(16)
    def loop():
        while True:
            c, _ = s.accept()
            d = c.recv(4096)
            if d:
                c.sendall(d)
            c.close()
    threading.Thread(target=loop, daemon=True).start()
serve(sys.argv[1], 7070)
serve("127.0.0.1", 9090)
serve(sys.argv[2], 6060)
serve("0.0.0.0", 5050, "tailscale0")
open(sys.argv[3], "w").close()
threading.Event().wait()
' "$TB_HOST_IP" "$TB_TS_IP" "$ready"
PY_PID=${TB_PIDS[-1]}
tb_wait_file "$ready" 10 "$PY_PID" || tb_die "the host's listeners did not start"

# what ss shows: the kernel's own list
t_expect "ss: the host listens on 5050, 6060, 7070, 8080 and 9090" "5050 6060 7070 8080 9090" \
	"$(tb_exec "$TB_HOST" ss -Htln | awk '{ n = split($4, a, ":"); print a[n] }' | sort -nu | paste -sd' ')"

checks() {
	tb_json '"; ".join("%s %s %s/%s %s %s" % (t["address"], t["direction"], t["proto"], t["port"], t["origin"], t["verdict"]) for t in r["targets"] if t["role"] == "health-check")'
}
# a SYN from the provider's range to the host's eth0 address
syn() { tb_probe_from "$TB_PROV" "$TB_HOST_IP" "$1" tcp --from 100.100.2.136 "${@:2}" || true; }
expect_syn() {
	local got
	got=$(syn "$2")
	if [ "$1" = reply ] && [ "$got" = timeout ]; then got=$(syn "$2" --timeout 3000); fi
	printf '%s' "$got"
}
unknown() {
	tb_json '" ".join(sorted(f["message"].split(":")[1].split("(")[0].strip() for f in r["findings"] if f["code"] == "LISTENER_PORT_UNKNOWN"))'
}

# --- no overlay firewall ---------------------------------------------------------
# (saved for a replay below: before tailscale0 has routes, which a replay
# cannot restore on a device without carrier)
tb_audit "no overlay firewall" 0 --policy "$WORK/testlb.conf" --save "$WORK/lb.save"
t_expect "no overlay firewall: 8080 (wildcard) and 7070 (eth0's address) are the health checks' targets" \
	"100.100.0.1 inbound tcp/7070 listening:tcp/7070 reachable; 100.100.0.1 inbound tcp/8080 listening:tcp/8080 reachable" \
	"$(checks | tr ';' '\n' | sed 's/^ //' | sort | paste -sd';' | sed 's/;/; /g')"
t_expect "no overlay firewall: the targets name the policy's service" "lb-health-check" \
	"$(tb_json '" ".join(sorted(set(t["service"] for t in r["targets"] if t["role"] == "health-check")))')"
t_expect "no overlay firewall: the kernel answers 8080" reply "$(expect_syn reply 8080)"
t_expect "no overlay firewall: the kernel answers 7070" reply "$(expect_syn reply 7070)"
t_expect "no overlay firewall: 9090 (loopback only) refused by the kernel, not a target" refused "$(syn 9090)"
t_expect "no overlay firewall: the UDP health check has no port" "udp-health-check" "$(unknown)"

# --- Tailscale's drop ---------------------------------------------------------------
t_must tb_ts_install legacy new
# quad-100 through tailscale0, as tailscaled routes it (the overlay's own)
t_must tb_ts_routing peers
tb_audit "tailscale's drop" 2 --policy "$WORK/testlb.conf"
t_expect "tailscale's drop: 8080 and 7070 blocked" \
	"100.100.0.1 inbound tcp/7070 listening:tcp/7070 blocked; 100.100.0.1 inbound tcp/8080 listening:tcp/8080 blocked" \
	"$(checks | tr ';' '\n' | sed 's/^ //' | sort | paste -sd';' | sed 's/;/; /g')"
t_expect "tailscale's drop: the drop named" "-A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP" \
	"$(tb_json '"|".join(sorted(set(t["blocked_by"]["text"] for t in r["targets"] if t["role"] == "health-check")))')"
t_expect "tailscale's drop: the kernel drops the SYN to 8080" timeout "$(syn 8080)"
t_expect "tailscale's drop: the kernel drops the SYN to 7070" timeout "$(syn 7070)"
t_expect "tailscale's drop: the text shows where the port came from" 1 \
	"$(tb_exec "$TB_HOST" "$CGNATCHECK" --policy "$WORK/testlb.conf" 2>/dev/null | grep -c 'blocked .*health-check from 100.100.0.1 to port 8080/tcp .*(listening:tcp/8080)' || true)"

# --- a replayed audit: another machine's sockets are not these ----------------------
status=0
"$CGNATCHECK" --format json --replay "$WORK/lb.save" --policy "$WORK/testlb.conf" >"$WORK/out.json" 2>"$WORK/err" || status=$?
t_expect "--replay: it ran" ok "$([ "$status" -ne 3 ] && echo ok || cat "$WORK/err")"
t_expect "--replay: no listening port taken" "" "$(checks)"
t_expect "--replay: both services' ports unknown" "lb-health-check udp-health-check" "$(unknown)"

# --- --only-named: nothing discovered, the port unknown ---------------------------
tb_audit "--only-named" 0 --only-named --policy "$WORK/testlb.conf"
t_expect "--only-named: no listening port taken" "" "$(checks)"
t_expect "--only-named: both services' ports unknown" "lb-health-check udp-health-check" "$(unknown)"

# --- nothing listens facing the provider: the port unknown ------------------------
kill "$TB_ECHO_PID" "$PY_PID"
wait "$TB_ECHO_PID" "$PY_PID" 2>/dev/null || true
tb_audit "nothing listens" 0 --policy "$WORK/testlb.conf"
t_expect "nothing listens: no health-check target" "" "$(checks)"
t_expect "nothing listens: both ports unknown, said so" "lb-health-check udp-health-check" "$(unknown)"
t_expect "nothing listens: the finding says nothing listens" "True" \
	"$(tb_json 'all("no socket listens" in f["message"] for f in r["findings"] if f["code"] == "LISTENER_PORT_UNKNOWN")')"

t_done
