#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The live probe (probe_target, through tests/kernel/probe-run) against the test
# bed's provider, from the host namespace:
#  * against cg-echo, which the kernel oracle counts as a reply, every
#    protocol probe says bad-answer: an echoed DNS query has QR clear, an
#    echoed GET is no status line, an echoed NTP request is mode 3 (seed 003:
#    bytes coming back prove nothing by themselves);
#  * against cg-services, DNS (UDP, TCP, IPv4, IPv6, a REFUSED rcode, an
#    empty answer: the two glibc's res_nsend hides over UDP), HTTP,
#    NTP and a TCP banner are answered; a listener that accepts and says
#    nothing is connected-silent, never answered;
#  * closed ports are refused, an OUTPUT reject or a prohibit route is
#    unreachable (refused for the reject's default port-unreachable);
#  * with Tailscale's CGNAT drop (legacy, new) every IPv4 service times out,
#    the IPv6 one still answers, and the conntrack exception for
#    100.100.2.136 brings its DNS back;
#  * every probe ends within its timeout plus a little (DNS over UDP: the
#    timeout rounded up to whole seconds, glibc's resolver's unit), by its own
#    clock and by the wall clock around the process.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

RUN="${top_builddir:-$top_srcdir}/tests/kernel/probe-run"
tb_test_init "$RUN"

# --- no traffic: arguments, names (in a namespace with nothing but lo) ------
tb_ns_add UNIT_NS unit
if tb_exec "$UNIT_NS" "$RUN" --unit; then t_ok "probe-run --unit"; else t_fail "probe-run --unit"; fi

tb_scenario
SVC4=100.100.2.136 SVC4B=100.100.2.138 META=100.100.100.200 MIRROR=100.100.2.148 NTP=100.100.61.88

# Slack beyond the deadline: the probe's own clock (poll wake-up, a loaded
# machine) and the wall clock around it (ip netns exec, process start-up,
# sanitizer start-up, a loaded machine). The wall clock only catches a probe
# that outlives its deadline unseen by its own clock (a blocking step before
# it starts: glibc's resolver waits 5 s), not a slow start.
SLACK_MS=${PROBE_SLACK_MS:-250}
WALL_SLACK_MS=${PROBE_WALL_SLACK_MS:-3000}

# The deadline a probe is held to: DNS over UDP is timed by glibc in seconds.
effective_ms() { # PORT PROTO ROLE TIMEOUT
	if [ "$2" = udp ] && { [ "$3" = dns ] || { [ "$3" = - ] && [ "$1" = 53 ]; }; }; then
		echo $(((($4 + 999) / 1000) * 1000))
	else
		echo "$4"
	fi
}

# probe DESC WANT DETAIL-GLOB ADDR PORT udp|tcp ROLE TIMEOUT: runs probe-run
# in the host, checks the status, the detail (a glob, '*' for any) and the
# timing. An expected answer that timed out is retried once with 3 s: a
# loaded machine may stall a process, and a drop cannot be retried away.
probe() {
	local desc=$1 want=$2 glob=$3 addr=$4 port=$5 proto=$6 role=$7 timeout=$8
	local t0 t1 line status ms detail wall eff rc=0
	t0=$(date +%s%N)
	line=$(tb_exec "$TB_HOST" "$RUN" "$addr" "$port" "$proto" "$role" "$timeout") || rc=$?
	t1=$(date +%s%N)
	read -r status ms detail <<<"$line" || true
	if [ "$want" = answered ] && [ "$status" = timeout ]; then
		echo "note: $desc: timeout at ${timeout} ms, retrying with 3000 ms" >&2
		timeout=3000
		t0=$(date +%s%N)
		rc=0
		line=$(tb_exec "$TB_HOST" "$RUN" "$addr" "$port" "$proto" "$role" "$timeout") || rc=$?
		t1=$(date +%s%N)
		read -r status ms detail <<<"$line" || true
	fi
	wall=$(((t1 - t0) / 1000000))
	eff=$(effective_ms "$port" "$proto" "$role" "$timeout")
	echo "  $desc: $status ${ms} ms (wall ${wall} ms, deadline ${eff} ms): $detail" >&2
	# WANT may list alternatives: "refused|unreachable".
	case "|$want|" in
	*"|$status|"*) t_ok "$desc: $status" ;;
	*) t_fail "$desc: expected '$want', got '$status'" ;;
	esac
	# shellcheck disable=SC2053 # the detail is matched against a glob
	if [[ $detail == $glob ]]; then
		t_ok "$desc: detail"
	else
		t_fail "$desc: detail '$detail' does not match '$glob'"
	fi
	if [ "${ms%.*}" -le $((eff + SLACK_MS)) ] && [ "$wall" -le $((eff + WALL_SLACK_MS)) ]; then
		t_ok "$desc: within the deadline"
	else
		t_fail "$desc: took ${ms} ms (wall ${wall} ms) for a ${eff} ms deadline"
	fi
	# probe-run: 0 answered, 1 anything else, 3 a descriptor left open.
	if { [ "$status" = answered ] && [ $rc -eq 0 ]; } || { [ "$status" != answered ] && [ $rc -eq 1 ]; }; then
		t_ok "$desc: exit status $rc, no descriptor left open"
	else
		t_fail "$desc: probe-run exited $rc"
	fi
	PROBE_MS=${ms%.*}
}

# --- cg-echo: bytes come back, but no protocol answers ------------------------
# The oracle's "reply" next to the probe's "bad-answer", on the same path.
tb_expect_probe "oracle: the echo replies on 53/udp" reply $SVC4 53 udp
tb_expect_probe "oracle: the echo replies on 80/tcp" reply $META 80 tcp
probe "DNS/UDP to an echo" bad-answer "*QR clear*" $SVC4 53 udp dns 1000
probe "DNS/TCP to an echo" bad-answer "*QR clear*" $SVC4 53 tcp dns 1000
probe "HTTP to an echo" bad-answer "not an HTTP status line: \"GET / HTTP/1.0\"" $META 80 tcp metadata 1000
probe "NTP to an echo" bad-answer "*mode 3*echo*" $NTP 123 udp ntp 1000
# The generic TCP probe sends nothing, so an echo has nothing to return.
tb_echo "$TB_PROV" 2222/tcp || tb_die "cg-echo on 2222/tcp did not start"
probe "TCP banner from an echo" connected-silent "connected, no banner within 500 ms" $META 2222 tcp - 500

# --- cg-services replaces the scenario's cg-echo -----------------------------
tb_prov_services dns:53 http:80 ntp:123 banner:22 banner:2022 silent:8080 dns-refused:5353 dns-empty:5354 echo:7/tcp

probe "DNS/UDP to $SVC4" answered "DNS over UDP: rcode NXDOMAIN, 0 answers" $SVC4 53 udp dns 1000
probe "DNS/TCP to $SVC4" answered "DNS over TCP: rcode NXDOMAIN, 0 answers" $SVC4 53 tcp dns 1000
probe "DNS/UDP to $SVC4B (by port)" answered "DNS over UDP:*" $SVC4B 53 udp - 1000
probe "DNS/UDP to $TB_SVC_IP6" answered "DNS over UDP:*" "$TB_SVC_IP6" 53 udp dns 1000
probe "DNS/TCP to $TB_SVC_IP6" answered "DNS over TCP:*" "$TB_SVC_IP6" 53 tcp dns 1000
# glibc fails a REFUSED answer over UDP unless asked like dig asks.
probe "DNS/UDP, rcode REFUSED" answered "*rcode REFUSED*" $SVC4 5353 udp dns 1000
probe "DNS/TCP, rcode REFUSED" answered "*rcode REFUSED*" $SVC4 5353 tcp dns 1000
# The reply shape on which glibc's own way out (pfcode) loops for ever.
probe "DNS/UDP, empty NOERROR without RA" answered "DNS over UDP (read past glibc): rcode NOERROR, 0 answers" $SVC4 5354 udp dns 1000
probe "DNS/TCP, empty NOERROR without RA" answered "DNS over TCP: rcode NOERROR, 0 answers" $SVC4 5354 tcp dns 1000
probe "HTTP to the metadata service" answered "HTTP/1.0 200 OK" $META 80 tcp metadata 1000
probe "HTTP to the mirror" answered "HTTP/1.0 200*" $MIRROR 80 tcp mirror 1000
probe "HTTP to the mirror (by port)" answered "HTTP/1.0 200*" $MIRROR 80 tcp - 1000
probe "HTTP over IPv6" answered "HTTP/1.0 200*" "$TB_SVC_IP6" 80 tcp http 1000
probe "NTP to $NTP" answered "NTPv4 server, stratum 2" $NTP 123 udp ntp 1000
probe "NTP to $NTP (by port)" answered "NTPv4 server*" $NTP 123 udp - 1000
probe "TCP banner" answered "banner: \"SSH-2.0-cg-services\"" $MIRROR 2022 tcp - 1000
# port 22 (and role ssh) reads the SSH identification (probe-ssh-banner.sh)
probe "SSH identification (by port)" answered "SSH identification \"SSH-2.0-cg-services\"" $MIRROR 22 tcp - 1000
probe "SSH identification (role ssh)" answered "SSH identification \"SSH-2.0-cg-services\"" $MIRROR 2022 tcp ssh 1000

# cg-services' A record through glibc's whole stub resolver (getaddrinfo),
# over UDP and, with use-vc, over TCP: the double is sound beyond the one
# query the probe asks. ip netns exec mounts /etc/netns/HOST/* over /etc;
# nscd would answer from the machine's own namespace, so not with it.
if [ -e /var/run/nscd/socket ]; then
	echo "note: nscd is running: the getaddrinfo checks are left out" >&2
else
	mkdir -p "/etc/netns/$TB_HOST"
	echo "hosts: dns" >"/etc/netns/$TB_HOST/nsswitch.conf"
	for vc in "" "options use-vc"; do
		printf 'nameserver %s\noptions timeout:1 attempts:1\n%s\n' $SVC4 "$vc" \
			>"/etc/netns/$TB_HOST/resolv.conf"
		got=$(tb_exec "$TB_HOST" getent ahostsv4 example.com | awk 'NR == 1 { print $1 }') || true
		t_expect "getaddrinfo example.com through cg-services ${vc:-(UDP)}" 192.0.2.1 "$got"
	done
fi

# Connected is not answered: the seed-003 shape, in each TCP protocol.
probe "TCP, accepted and silent" connected-silent "connected, no banner within 700 ms" $MIRROR 8080 tcp - 700
probe "SSH, accepted and silent" connected-silent "accepted, nothing within 700 ms" $MIRROR 8080 tcp ssh 700
probe "HTTP, accepted and silent" connected-silent "connected, no HTTP answer within 700 ms" $MIRROR 8080 tcp metadata 700
# glibc reads its TCP socket without a timeout; the handed-over socket's
# SO_RCVTIMEO is what ends this one.
probe "DNS/TCP, accepted and silent" connected-silent "connected, no DNS answer within 700 ms" $SVC4 8080 tcp dns 700
[ "$PROBE_MS" -ge 600 ] && t_ok "DNS/TCP silent: waited for its deadline" ||
	t_fail "DNS/TCP silent: gave up after $PROBE_MS ms"
probe "DNS/TCP to an echo" bad-answer "*QR clear*" $SVC4 7 tcp dns 1000

# --- refused and unreachable -------------------------------------------------
probe "DNS/UDP to a closed port" refused "*Connection refused*" $SVC4 5300 udp dns 1000
probe "DNS/TCP to a closed port" refused "*Connection refused*" $SVC4 5300 tcp dns 1000
probe "NTP to a closed port" refused "*Connection refused*" $NTP 124 udp ntp 1000
probe "HTTP to a closed port" refused "*Connection refused*" $META 81 tcp http 1000

# A route that refuses: connect() says so before anything is sent.
ip -n "$TB_HOST" route add prohibit 100.100.2.140/32
probe "DNS/UDP, prohibit route" unreachable "*Permission denied*" 100.100.2.140 53 udp dns 1000
probe "DNS/TCP, prohibit route" unreachable "*Permission denied*" 100.100.2.140 53 tcp dns 1000
ip -n "$TB_HOST" route add blackhole 100.100.2.141/32
probe "HTTP, blackhole route" unreachable "*blackhole*" 100.100.2.141 80 tcp http 1000

# Netfilter in the host's OUTPUT: reject (ICMP port unreachable by default,
# host-prohibited on request) and drop.
tb_exec "$TB_HOST" nft -f - <<EOF || tb_die "cannot add the OUTPUT rules"
table ip probe_test {
	chain out {
		type filter hook output priority filter; policy accept;
		ip daddr $SVC4B reject
		ip daddr $MIRROR reject with icmp type host-prohibited
		ip daddr $NTP drop
		ip daddr 100.125.1.250 drop
	}
}
EOF
# The reject happens inside send(): the probe sees EPERM or the ICMP error,
# whichever the kernel reports first.
probe "DNS/UDP, OUTPUT reject" "refused|unreachable" "*" $SVC4B 53 udp dns 1000
probe "DNS/TCP, OUTPUT reject" "refused|unreachable" "*" $SVC4B 53 tcp dns 1000
probe "HTTP, OUTPUT reject host-prohibited" unreachable "*No route to host*" $MIRROR 80 tcp mirror 1000
probe "DNS/UDP, OUTPUT drop" unreachable "the DNS query could not be sent*" 100.125.1.250 53 udp dns 1000
probe "NTP, OUTPUT drop" unreachable "*Operation not permitted*" $NTP 123 udp ntp 1000
# A SYN dropped on the way out is retransmitted, not reported (tcp_connect
# ignores the transmit error): a timeout, as the kernel oracle sees it too.
tb_exec "$TB_HOST" nft add rule ip probe_test out ip daddr $META drop
probe "HTTP, OUTPUT drop" timeout "no TCP handshake within 700 ms" $META 80 tcp metadata 700
tb_exec "$TB_HOST" nft delete table ip probe_test

# --- Tailscale's CGNAT drop: the replies do not come back ---------------------
tb_ts_install legacy new || tb_die "tb_ts_install legacy new failed"
probe "Tailscale: DNS/UDP" timeout "no DNS answer within 1 s*" $SVC4 53 udp dns 700
[ "$PROBE_MS" -ge 900 ] && t_ok "DNS/UDP: glibc waited its whole second" ||
	t_fail "DNS/UDP: gave up after $PROBE_MS ms"
probe "Tailscale: DNS/TCP" timeout "no TCP handshake within 700 ms" $SVC4 53 tcp dns 700
probe "Tailscale: HTTP metadata" timeout "no TCP handshake*" $META 80 tcp metadata 700
probe "Tailscale: HTTP mirror" timeout "no TCP handshake*" $MIRROR 80 tcp mirror 700
probe "Tailscale: NTP" timeout "no NTP reply within 700 ms" $NTP 123 udp ntp 700
probe "Tailscale: TCP banner" timeout "no TCP handshake*" $MIRROR 22 tcp - 700
# The CGNAT rule is IPv4 only.
probe "Tailscale: DNS/UDP over IPv6" answered "DNS over UDP:*" "$TB_SVC_IP6" 53 udp dns 1000

# The operator's fix: established replies from the resolver come back.
tb_exception legacy "$SVC4" eth0 || tb_die "tb_exception failed"
probe "Tailscale + exception: DNS/UDP" answered "DNS over UDP:*" $SVC4 53 udp dns 1000
probe "Tailscale + exception: DNS/TCP" answered "DNS over TCP:*" $SVC4 53 tcp dns 1000
probe "Tailscale + exception: other resolver" timeout "*" $SVC4B 53 udp dns 1000

t_done
