#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Readiness of an SSH service (seed 003, issue 16): the live probe counts an
# SSH server as answered only when a fresh connection reads its
# identification string (RFC 4253 4.2); an accept is not enough. Two
# namespaces of the test's own: the client (100.80.0.1) and a server whose
# addresses each hold one kind of port 22:
#   .2   a real sshd (Debian's openssh-server, with a config and host key
#        made here), also on [fd7a:115c:a1e0:80::2]:22 and .2:2200
#   .3   accepts, then closes (a forwarder with nobody behind it)
#   .4   accepts and says nothing
#   .5   answers "HTTP/1.0 400 Bad Request" and closes
#   .6   a relay to the real sshd that sends a line of its own first and
#        the identification in two pieces 150 ms apart
#   .7   nothing listens (a reset: refused)
#   .8   accepts, then resets
#   .9   says "SSH-1.5-..."        .10  sends a TLS alert
# Each is probed by probe-run (probe_target with the role by port 22, "ssh",
# "overlay-service"), by cgnatcheck --probe --service ADDR:22/tcp (the
# report's probe status and detail), and judged by the oracle, ssh-keyscan:
# it gets the host key from .2 and .6 and from nothing else, and the probe
# says answered exactly there.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

RUN="${top_builddir:-$top_srcdir}/tests/kernel/probe-run"
SERVE="$top_srcdir/tests/kernel/ssh-banner-serve.py"
SSHD=/usr/sbin/sshd
tb_test_init "$RUN" "$CGNATCHECK" python3 ssh-keygen ssh-keyscan unshare
[ -x "$SSHD" ] || t_skip "needs $SSHD (Debian's openssh-server; scripts/install-deps.sh)"
id sshd >/dev/null 2>&1 || t_skip "needs the sshd user (openssh-server's privilege separation)"
export CGNATCHECK_HOST_ROOT="${CGNATCHECK_HOST_ROOT:-$top_srcdir/tests/data/empty-host}"

NET=100.80.0
CLI_IP=$NET.1 SSH_IP=$NET.2 CLOSE_IP=$NET.3 SILENT_IP=$NET.4 HTTP_IP=$NET.5 SPLIT_IP=$NET.6
CLOSED_IP=$NET.7 RESET_IP=$NET.8 SSH1_IP=$NET.9 TLS_IP=$NET.10
SSH_IP6=fd7a:115c:a1e0:80::2

tb_ns_add CLI banner-cli
tb_ns_add SRV banner-srv
t_must ip -n "$CLI" link add eth0 type veth peer name eth0 netns "$SRV"
t_must ip -n "$CLI" addr add "$CLI_IP/24" dev eth0
t_must ip -n "$CLI" addr add fd7a:115c:a1e0:80::1/64 dev eth0 nodad
for i in 2 3 4 5 6 7 8 9 10; do
	t_must ip -n "$SRV" addr add "$NET.$i/24" dev eth0
done
t_must ip -n "$SRV" addr add "$SSH_IP6/64" dev eth0 nodad
t_must ip -n "$CLI" link set eth0 up
t_must ip -n "$SRV" link set eth0 up
tb_wait_link "$CLI" eth0 || tb_die "the client's eth0 did not come up"
tb_wait_link "$SRV" eth0 || tb_die "the server's eth0 did not come up"

# --- the real sshd ------------------------------------------------------------
tb_tmpdir D
t_must ssh-keygen -q -t ed25519 -N '' -C cgnatcheck-test -f "$D/ssh_host_ed25519_key"
cat >"$D/sshd_config" <<EOF
ListenAddress $SSH_IP:22
ListenAddress [$SSH_IP6]:22
ListenAddress $SSH_IP:2200
HostKey $D/ssh_host_ed25519_key
PidFile $D/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AuthorizedKeysFile none
LogLevel VERBOSE
EOF
# sshd wants its privilege separation directory, /run/sshd: on a tmpfs of
# its own mount namespace, never in the machine's /run.
PRIVSEP_RUN='mount -t tmpfs -o mode=0755 cgt-sshd /run && mkdir -m 0755 /run/sshd && exec "$@"'
t_must tb_exec "$SRV" unshare --mount --propagation private sh -c "$PRIVSEP_RUN" sh \
	"$SSHD" -t -f "$D/sshd_config"
tb_bg "$SRV" unshare --mount --propagation private sh -c "$PRIVSEP_RUN" sh \
	"$SSHD" -D -f "$D/sshd_config" -E "$D/sshd.log"
tb_wait_file "$D/sshd.pid" 30 "${TB_PIDS[-1]}" || { cat "$D/sshd.log" >&2 || true; tb_die "sshd did not start"; }

# --- the others -----------------------------------------------------------------
serve() { # ADDR MODE ARGS...
	local ready="$D/ready-$1-$2"
	tb_bg "$SRV" python3 "$SERVE" "$ready" "$@"
	tb_wait_file "$ready" 30 "${TB_PIDS[-1]}" || tb_die "ssh-banner-serve.py $* did not start"
}
serve "$CLOSE_IP" 22 close
serve "$SILENT_IP" 22 silent
serve "$HTTP_IP" 22 send 'HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nBad Request\n'
serve "$SPLIT_IP" 22 split "$SSH_IP" 22
serve "$RESET_IP" 22 reset
serve "$SSH1_IP" 22 send 'SSH-1.5-OldServer_1.2\r\n'
serve "$TLS_IP" 22 send '\x15\x03\x03\x00\x02\x02\x28'

# --- the checks -----------------------------------------------------------------

# probe DESC WANT DETAIL-GLOB ADDR PORT ROLE TIMEOUT-MS: probe-run in the client
probe() {
	local desc=$1 want=$2 glob=$3 line status ms detail rc=0
	line=$(tb_exec "$CLI" "$RUN" "$4" "$5" tcp "$6" "$7") || rc=$?
	read -r status ms detail <<<"$line" || true
	echo "  $desc: $status ${ms} ms: $detail" >&2
	t_expect "$desc: status" "$want" "$status"
	# shellcheck disable=SC2053 # the detail is matched against a glob
	if [[ $detail == $glob ]]; then
		t_ok "$desc: detail"
	else
		t_fail "$desc: detail '$detail' does not match '$glob'"
	fi
	# probe-run: 0 answered, 1 anything else, 3 a descriptor left open
	if { [ "$status" = answered ] && [ $rc -eq 0 ]; } || { [ "$status" != answered ] && [ $rc -eq 1 ]; }; then
		t_ok "$desc: exit status $rc, no descriptor left open"
	else
		t_fail "$desc: probe-run exited $rc"
	fi
	PROBE_MS=${ms%.*}
}

# cli_read ADDR: the target ADDR:22/tcp's probe status, detail and verdict in
# the last report, in CLI_STATUS, CLI_DETAIL, CLI_VERDICT
cli_read() {
	local got
	got=$(python3 -I -S -c '
import json, sys
r = json.load(open(sys.argv[1]))
t = [t for t in r["targets"] if t["address"] == sys.argv[2] and t["port"] == 22 and t["proto"] == "tcp"]
p = t[0]["probe"] if len(t) == 1 else None
print(p["status"] if p else "none")
print(p["detail"] if p else "")
print(t[0]["verdict"] if t else "none")' "$WORK/out.json" "$1") || got="error"
	{ read -r CLI_STATUS; read -r CLI_DETAIL; read -r CLI_VERDICT; } <<<"$got" || true
}

# cli DESC WANT DETAIL-GLOB ADDR: cgnatcheck --probe --service ADDR:22/tcp in
# the client, the target's probe in the JSON report
tb_audit_env WORK
cli() {
	local desc=$1 want=$2 glob=$3 addr=$4 rc status detail verdict try
	# cgnatcheck's probe has 1.5 s: on a loaded machine a server that
	# answers may miss it, so an expected answer that did not come in time
	# is asked for once more (silence and a close cannot be retried away)
	for try in 1 2; do
		rc=0
		tb_exec "$CLI" "$CGNATCHECK" --format json --only-named --probe --service "$addr:22/tcp" \
			>"$WORK/out.json" 2>"$WORK/err" || rc=$?
		if [ $rc -eq 3 ]; then
			cat "$WORK/err" >&2
			t_fail "$desc: cgnatcheck could not audit"
			return
		fi
		cli_read "$addr"
		[ "$want" = answered ] && [ $try = 1 ] && [[ $CLI_DETAIL == "accepted, nothing within"* ]] || break
		echo "note: $desc: $CLI_DETAIL; asking once more" >&2
	done
	status=$CLI_STATUS detail=$CLI_DETAIL verdict=$CLI_VERDICT
	echo "  $desc: cgnatcheck exit $rc, verdict $verdict, probe $status: $detail" >&2
	t_expect "$desc (cgnatcheck): the simulated path is open" reachable "$verdict"
	t_expect "$desc (cgnatcheck): probe status" "$want" "$status"
	# shellcheck disable=SC2053
	if [[ $detail == $glob ]]; then
		t_ok "$desc (cgnatcheck): detail"
	else
		t_fail "$desc (cgnatcheck): detail '$detail' does not match '$glob'"
	fi
	# answered: nothing to say (0); anything else: a warning (1)
	if [ "$want" = answered ]; then
		t_expect "$desc (cgnatcheck): exit status" 0 "$rc"
	else
		t_expect "$desc (cgnatcheck): exit status" 1 "$rc"
	fi
}

# keyscan DESC WANT(yes|no) ADDR [PORT]: the oracle, OpenSSH's ssh-keyscan
keyscan() {
	local out
	out=$(tb_exec "$CLI" ssh-keyscan -T 5 -t ed25519 -p "${4:-22}" "$3" 2>"$WORK/keyscan.err") || true
	if grep -q " ssh-ed25519 " <<<"$out"; then
		out=yes
	else
		out=no
	fi
	echo "  $1: ssh-keyscan: $out $(tr '\n' ' ' <"$WORK/keyscan.err")" >&2
	t_expect "$1: ssh-keyscan gets a host key: $2" "$2" "$out"
}

# (a) the real sshd
IDENT='SSH-2.0-OpenSSH_*'
keyscan "(a) sshd" yes "$SSH_IP"
probe "(a) sshd, by port 22" answered "SSH identification \"$IDENT\"" "$SSH_IP" 22 - 3000
probe "(a) sshd, role ssh" answered "SSH identification \"$IDENT\"" "$SSH_IP" 22 ssh 3000
probe "(a) sshd, role overlay-service" answered "SSH identification \"$IDENT\"" "$SSH_IP" 22 overlay-service 3000
cli "(a) sshd" answered "SSH identification \"$IDENT\"" "$SSH_IP"
keyscan "(a) sshd over IPv6" yes "$SSH_IP6"
probe "(a) sshd over IPv6" answered "SSH identification \"$IDENT\"" "$SSH_IP6" 22 - 3000
# the same sshd on another port: the role says SSH; an overlay service
# there gets the generic banner read, which any first line passes
keyscan "(a) sshd on 2200" yes "$SSH_IP" 2200
probe "(a) sshd on 2200, role ssh" answered "SSH identification \"$IDENT\"" "$SSH_IP" 2200 ssh 3000
probe "(a) sshd on 2200, role overlay-service" answered "banner: \"$IDENT\"" "$SSH_IP" 2200 overlay-service 3000
# the identification the probe read is the one sshd sent
want_ident=$(tb_exec "$CLI" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 22), timeout=10)
d = b""
while not d.endswith(b"\n"):
    c = s.recv(1)
    if not c:
        break
    d += c
print(d.decode().rstrip("\r\n"))' "$SSH_IP") || true
probe "(a) sshd, the exact line" answered "SSH identification \"$want_ident\"" "$SSH_IP" 22 - 3000

# (b) accept, then close: the seed-003 forwarder
keyscan "(b) accept-then-close" no "$CLOSE_IP"
# a deadline no stall of a loaded machine reaches: the probe must end at
# the close, long before it (its detail says so too)
probe "(b) accept-then-close" connected-silent "accepted, then closed before an SSH identification" \
	"$CLOSE_IP" 22 - 60000
[ "$PROBE_MS" -lt 60000 ] && t_ok "(b) said so at the close, not at the deadline" ||
	t_fail "(b) took $PROBE_MS ms"
probe "(b) accept-then-close, role overlay-service" connected-silent \
	"accepted, then closed before an SSH identification" "$CLOSE_IP" 22 overlay-service 3000
cli "(b) accept-then-close" connected-silent "accepted, then closed before an SSH identification" "$CLOSE_IP"

# (c) accept, then nothing
keyscan "(c) silent" no "$SILENT_IP"
probe "(c) silent" connected-silent "accepted, nothing within 700 ms" "$SILENT_IP" 22 - 700
[ "$PROBE_MS" -ge 650 ] && t_ok "(c) waited for its deadline" || t_fail "(c) gave up after $PROBE_MS ms"
cli "(c) silent" connected-silent "accepted, nothing within * ms" "$SILENT_IP"

# (d) an HTTP server's error
keyscan "(d) HTTP 400" no "$HTTP_IP"
probe "(d) HTTP 400" bad-answer "no SSH identification before the close, 5 lines: \"HTTP/1.0 400 Bad Request\"" \
	"$HTTP_IP" 22 - 3000
cli "(d) HTTP 400" bad-answer "no SSH identification*\"HTTP/1.0 400 Bad Request\"" "$HTTP_IP"

# (e) a line before the identification, and the identification in two pieces
keyscan "(e) preamble, split" yes "$SPLIT_IP"
probe "(e) preamble, split" answered "SSH identification \"$want_ident\", after 1 other line" "$SPLIT_IP" 22 - 3000
[ "$PROBE_MS" -ge 140 ] && t_ok "(e) read past the first piece" || t_fail "(e) took only $PROBE_MS ms"
cli "(e) preamble, split" answered "SSH identification \"$IDENT\", after 1 other line" "$SPLIT_IP"

# more shapes: refused, reset, SSH 1, TLS
keyscan "closed port" no "$CLOSED_IP"
probe "closed port" refused "*Connection refused*" "$CLOSED_IP" 22 - 3000
keyscan "accept, then reset" no "$RESET_IP"
probe "accept, then reset" connected-silent "accepted, then reset before an SSH identification" "$RESET_IP" 22 - 3000
keyscan "SSH-1.5" no "$SSH1_IP"
probe "SSH-1.5" bad-answer "an SSH 1 server, not SSH 2: \"SSH-1.5-OldServer_1.2\"" "$SSH1_IP" 22 - 3000
cli "SSH-1.5" bad-answer "an SSH 1 server*" "$SSH1_IP"
keyscan "TLS alert" no "$TLS_IP"
probe "TLS alert" bad-answer "a NUL byte at byte 4 of line 1, not text (15 03 03 00)" "$TLS_IP" 22 - 3000

# the generic banner probe (another port, no role) still takes any first bytes
serve "$SILENT_IP" 2323 send 'hello\r\n'
probe "generic banner on 2323" answered "banner: \"hello\"" "$SILENT_IP" 2323 - 3000
probe "role ssh on 2323" bad-answer "no SSH identification before the close, 1 line: \"hello\"" "$SILENT_IP" 2323 ssh 3000

grep -q "Server listening on $SSH_IP port 22" "$D/sshd.log" && t_ok "sshd's log: it listened" ||
	t_fail "sshd's log does not say it listened"

t_done
