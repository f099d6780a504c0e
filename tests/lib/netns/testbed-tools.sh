#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The oracle and the responder themselves, in one namespace with only lo:
# cg-probe's command line (exit 2, no word, on usage errors), each of its five
# words produced by the kernel situation that should produce it (so a test
# that expects `timeout` cannot be passing because the probe always says
# timeout), its options doing what they claim, its deadline, and cg-echo's
# ready file, refusal of a busy port and clean SIGTERM exit.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}/tests/lib/netns/lib.sh"

tb_init
probe=$(tb_prog cg-probe) || exit 99
echo=$(tb_prog cg-echo) || exit 99

# --- command line ------------------------------------------------------------
t_run "$probe" --help
t_expect "cg-probe --help exits 0" 0 "$t_status"
for args in "" "127.0.0.1" "127.0.0.1 7" "127.0.0.1 7 icmp" "127.0.0.1 0 udp" "127.0.0.1 65536 tcp" \
	"--timeout 0 127.0.0.1 7 udp" "--timeout x 127.0.0.1 7 udp" "--mark -1 127.0.0.1 7 udp" \
	"--mark 0x1ffffffff 127.0.0.1 7 udp" "--bogus 127.0.0.1 7 udp" "--timeout" \
	"not-an-address 7 udp" "--from not-an-address 127.0.0.1 7 udp" "127.0.0.1 7 udp extra"; do
	# shellcheck disable=SC2086 # word splitting is the point
	t_run "$probe" $args
	t_expect "cg-probe $args: usage error" 2 "$t_status"
	t_expect "cg-probe $args: no word on stdout" "" "$t_out"
done
t_run "$echo" --help
t_expect "cg-echo --help exits 0" 0 "$t_status"
for args in "" "53" "53/icmp" "0/udp" "65536/tcp" "x/udp" "--bogus 53/udp" "--ready-file"; do
	# shellcheck disable=SC2086
	t_run "$echo" $args
	t_expect "cg-echo $args: usage error" 2 "$t_status"
done

# --- the five words ----------------------------------------------------------
tb_ns_add N one
ip -n "$N" addr add 10.9.9.9/32 dev lo
ip -n "$N" route add unreachable 198.51.100.1
ip -n "$N" route add prohibit 198.51.100.2
ip -n "$N" route add blackhole 198.51.100.3
ip -n "$N" -6 route add unreachable 2001:db8::1
tb_echo "$N" 7/udp 7/tcp || tb_die "cg-echo did not start"
echo_pid=$TB_ECHO_PID ready=$TB_ECHO_READY

expect_word() { # DESC WORD ADDR PORT PROTO [cg-probe options]
	local desc=$1 want=$2 got st
	shift 2
	got=$(tb_probe_from "$N" "$@") && st=0 || st=$?
	if [ "$want" = reply ] && [ "$got" = timeout ]; then
		# A loaded machine, not a drop: see tb__expect_word in lib.sh.
		got=$(tb_probe_from "$N" "$@" --timeout 3000) && st=0 || st=$?
	fi
	t_expect "$desc" "$want" "$got"
	if [ "$want" = reply ]; then t_expect "$desc: exit 0" 0 "$st"; else t_expect "$desc: exit 1" 1 "$st"; fi
}

for proto in udp tcp; do
	expect_word "IPv4 echo ($proto)" reply 127.0.0.1 7 $proto
	expect_word "IPv6 echo ($proto)" reply ::1 7 $proto
	expect_word "closed port, IPv4 ($proto)" refused 127.0.0.1 9 $proto
	expect_word "closed port, IPv6 ($proto)" refused ::1 9 $proto
	expect_word "no route at all ($proto)" unreachable 192.0.2.1 53 $proto
	expect_word "unreachable route ($proto)" unreachable 198.51.100.1 53 $proto
	expect_word "prohibit route ($proto)" unreachable 198.51.100.2 53 $proto
	expect_word "blackhole route ($proto)" unreachable 198.51.100.3 53 $proto
	expect_word "IPv6 unreachable route ($proto)" unreachable 2001:db8::1 53 $proto
done

# Replies from 127.0.0.3 are dropped on input: the CGNAT case in miniature.
# Requests to 127.0.0.2 are dropped on output; so is anything marked 0x80000.
tb_exec "$N" nft -f - <<'EOF' || tb_die "cannot load the nft test rules"
table inet t {
	chain out {
		type filter hook output priority 0;
		ip daddr 127.0.0.2 drop
		meta mark 0x80000 drop
	}
	chain in {
		type filter hook input priority 0;
		ip saddr 127.0.0.3 th sport 7 drop
	}
}
EOF
expect_word "reply dropped on input (udp)" timeout 127.0.0.3 7 udp
expect_word "reply dropped on input (tcp)" timeout 127.0.0.3 7 tcp
# The kernel reports an OUTPUT drop to UDP's send() (EPERM) but not to a
# non-blocking TCP connect(), which just retransmits the SYN.
expect_word "request dropped on output (udp)" unreachable 127.0.0.2 7 udp
expect_word "request dropped on output (tcp)" timeout 127.0.0.2 7 tcp

# --- options -----------------------------------------------------------------
expect_word "--mark sets SO_MARK (the marked request is dropped)" unreachable 127.0.0.1 7 udp --mark 0x80000
expect_word "--mark with another mark passes" reply 127.0.0.1 7 udp --mark 0x40000
expect_word "--from a local address" reply 127.0.0.1 7 udp --from 10.9.9.9
expect_word "--from a local address (tcp)" reply 127.0.0.1 7 tcp --from 10.9.9.9
expect_word "--from an address that is not local" error 127.0.0.1 7 tcp --from 192.0.2.9
expect_word "--from of the other family" error 127.0.0.1 7 udp --from ::1
expect_word "--dev lo" reply 127.0.0.1 7 udp --dev lo
expect_word "--dev that does not exist" error 127.0.0.1 7 udp --dev nosuch0

# The deadline: a dropped reply takes --timeout, not more and not much less.
start=$(date +%s%N)
expect_word "--timeout 700 on a dropped reply" timeout 127.0.0.3 7 udp --timeout 700
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$ms" -ge 690 ] && [ "$ms" -lt 3000 ]; then t_ok "--timeout 700 took ${ms} ms"; else t_fail "--timeout 700 took ${ms} ms"; fi

# Payloads are unique: many probes in a row all see their own echo.
n=0
for i in $(seq 1 20); do
	tb_probe_from "$N" 127.0.0.1 7 udp --timeout 3000 >/dev/null &&
		tb_probe_from "$N" ::1 7 tcp --timeout 3000 >/dev/null && n=$((n + 1))
done
t_expect "20 udp and 20 tcp probes in a row, all answered" 20 "$n"

# --- cg-echo -----------------------------------------------------------------
tb_tmpdir d
t_run tb_exec "$N" "$echo" --ready-file "$d/busy.ready" 7/udp
t_expect "cg-echo on a busy port exits 1" 1 "$t_status"
if [ -e "$d/busy.ready" ]; then t_fail "cg-echo on a busy port wrote its ready file"
else t_ok "cg-echo on a busy port writes no ready file"; fi
case $t_err in *"Address already in use"*) t_ok "cg-echo names the bind error" ;;
*) t_fail "cg-echo bind error message: $t_err" ;; esac

if grep -q "^ipv4 7/udp$" "$ready" && grep -q "^ipv6 7/tcp$" "$ready"; then
	t_ok "the ready file lists the bound sockets"
else
	t_fail "ready file: $(cat "$ready")"
fi
kill -TERM "$echo_pid"
st=0
wait "$echo_pid" || st=$?
t_expect "cg-echo exits 0 on SIGTERM" 0 "$st"
if [ -e "$ready" ]; then t_fail "the ready file outlived cg-echo"
else t_ok "cg-echo removes its ready file on exit"; fi
expect_word "nothing answers once cg-echo is gone" refused 127.0.0.1 7 udp

t_done
