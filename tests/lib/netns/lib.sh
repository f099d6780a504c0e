# SPDX-License-Identifier: GPL-2.0-or-later
# The network-namespace test bed (sourced by tests). Every namespace a test
# makes carries a per-process prefix and is removed when the test exits, fails
# or is interrupted. Nothing here runs a command in the machine's own network
# namespace: every ip/nft/iptables call goes through `ip netns exec` or `ip -n`.
#
# Core API:
#   tb_init              require root (skip, or fail under CI=true), arm cleanup
#   tb_test_init [NEED...]
#                        a kernel test's start: tb_init, then every NEED a
#                        command on PATH (skip otherwise) or, when it holds a
#                        slash, a program of the build (error 99 otherwise)
#   tb_ns_add VAR NAME   create namespace $TB_PREFIX$NAME with lo up; its name in VAR
#   tb_exec NS CMD...    run CMD inside namespace NS (a full name from tb_ns_add)
#   tb_bg NS CMD...      start CMD in the background inside NS; killed at cleanup
#   tb_tmpdir VAR        a temporary directory, removed at cleanup
#   tb_tmpdir_shared VAR a temporary directory every user can reach and read
#                        (for cgnatcheck --user nobody), removed at cleanup
#   tb_policies_shared VAR
#                        a copy of the shipped policies nobody can read, its
#                        path in VAR (the tree may be a clone under /root)
#   tb_cleanup           remove everything this test made (runs from the trap)
#   tb_spawn LABEL CMD...
#                        runs CMD (a function of the test) in the background,
#                        beside the test: independent cases on namespaces of
#                        their own at once. Its checks (t_ok/t_fail) count
#                        as the test's; what it makes (tb_ns_add, tb_bg,
#                        tb_tmpdir) is cleaned up with the test's.
#   tb_join              waits for every tb_spawn job, prints each one's
#                        output in turn (labelled) and adds up its checks; a
#                        job that ended early fails the test, one that ended
#                        with 99 ends it with 99
#
# Programs (built by `make check` in tests/lib/netns/):
#   cg-echo  [--ready-file PATH] PORT/udp|PORT/tcp ...
#            UDP/TCP echo on wildcard IPv4 and IPv6; replies from the address
#            the request was sent to; writes PATH once every socket is bound.
#   cg-probe [--timeout MS] [--from ADDR] [--mark N] [--dev IFNAME] ADDR PORT udp|tcp
#            the kernel oracle: prints reply, timeout, refused, unreachable or
#            error; exit 0 only for reply, 2 on usage errors.
#
# Helpers:
#   tb_prog NAME         path of a test-bed program; exits 99 when not built
#                        (from a $(...) subshell: `p=$(tb_prog X) || exit 99`)
#   tb_wait_file PATH [SECONDS] [PID]
#                        waits (bounded, 5 s by default) until PATH exists;
#                        fails early when PID dies first
#   tb_wait_link NS DEV [SECONDS]
#                        waits (bounded) until DEV's operational state is UP
#   tb_wait_exit PID [SECONDS]
#                        waits (bounded, 10 s by default) until PID is gone;
#                        fails when it is still running
#   tb_proc_state PID WANT [SECONDS]
#                        waits (bounded, 1 s by default) until PID's state
#                        (/proc/PID/stat: R, S, T...) is WANT; prints the
#                        last state seen
#   tb_echo NS SPEC...   starts cg-echo in NS on SPECs (53/udp, 80/tcp...) and
#                        returns once every socket is bound; its pid in
#                        TB_ECHO_PID, its ready file in TB_ECHO_READY
#   tb_ns_run NS OK-DESC FAIL-DESC [VAR=VALUE...] CMD...
#                        a test program that judges for itself, run (by
#                        env(1)) in NS and told the machine's own namespace
#                        (CG_TEST_HOST_NETNS) so that it refuses to run there
#                        (test_in_own_netns() in tests/lib/test.h); prints its output;
#                        exit 0 is t_ok, 99 ends the test with 99, anything
#                        else t_fail; its stdout stays in t_out
#
# iptables-save's text and the renderer against it: tests/lib/netns/render.sh
# (sourced here).
#
# Scenario API (all of it acts on the namespaces tb_scenario made):
#   tb_scenario
#       An Alibaba Cloud ECS instance and its VPC, as in the seed report:
#       $TB_HOST  the instance: eth0 (a veth) 172.24.4.100/18 and
#                 fd00:cafe::100/64, default routes via the provider;
#                 tailscale0 (a tun nobody reads) up with 100.92.187.56/32 and
#                 fd7a:115c:a1e0::1/128; rp_filter=2 (loose) as a stock Debian
#                 12 sets it.
#       $TB_PROV  the VPC: the other end of eth0 (veth-host, 172.24.63.253/18,
#                 fd00:cafe::1/64), owning on lo the provider services
#                 100.100.2.136 and .138 (DNS), 100.100.100.200 (metadata),
#                 100.100.2.148 (mirror), 100.100.61.88 (NTP), 100.125.1.250
#                 (Huawei DNS) and fd00:cafe:1::136 (an IPv6 service behind the
#                 gateway). cg-echo answers on 53/udp 53/tcp 80/tcp 123/udp.
#       Names and addresses are exported: TB_HOST TB_PROV TB_HOST_IP TB_GW
#       TB_HOST_IP6 TB_PROV_IP6 TB_SVC_IP6 TB_TS_IP TB_TS_IP6 TB_TUN.
#
#   tb_scenario SUFFIX
#       the same with namespaces host<SUFFIX> and prov<SUFFIX>: several test
#       beds side by side
#   tb_beds N [SETUP...]
#       N test beds (tb_scenario 0 .. N-1), each followed by SETUP (run with
#       it as the current bed); for jobs that run at once (tb_spawn), made
#       before them so that the test's cleanup has them
#   tb_use_bed I
#       makes bed I the current one: TB_HOST, TB_PROV (and the responder's
#       pid, for tb_prov_services)
#   tb_topology HOST-NAME PROV-NAME
#       tb_scenario's namespaces, links, addresses and routes, without its
#       responder (for a test that sends no traffic)
#   tb_prov_services SPEC...
#       the provider's cg-echo makes way for cg-services on SPECs (dns:53
#       http:80 ntp:123...); returns once every socket is bound
#   tb_audit_env VAR
#       a temporary directory (its path in VAR and TB_AUDIT_DIR) for the
#       audit's local policies (local/), DMI strings (dmi/) and state (state/),
#       exported: never the machine's own
#   tb_audit DESC WANT-EXIT ARGS...
#       cgnatcheck --format json ARGS in $TB_HOST, the exit status checked;
#       the report in $TB_AUDIT_DIR/out.json, stderr in $TB_AUDIT_DIR/err
#   tb_json EXPR
#       prints a Python expression over the last report `r` (jq-like checks)
#   tb_nft_guard
#       in $TB_HOST, a table of nft's own (no iptables name), inet guard,
#       whose input chain drops the sources of a set holding 100.64.0.0/10
#
#   tb_ct_flush NS...    forget the namespaces' connections (conntrack -F)
#   tb_probe ADDR PORT udp|tcp [cg-probe options]
#       probes from $TB_HOST: prints the word, returns cg-probe's status
#   tb_probe_from NS ADDR PORT udp|tcp [options]     the same from namespace NS
#   tb_host_listen SPEC...
#       cg-echo in $TB_HOST, the listener for inbound tests
#   tb_probe_inbound PORT udp|tcp [options]
#       a NEW connection from the provider to the host's eth0 address, like a
#       load balancer's health check; source 100.100.2.136 unless --from given
#   tb_expect_probe DESC WORD ADDR PORT udp|tcp [options]
#   tb_expect_inbound DESC WORD PORT udp|tcp [options]
#       probe, then t_expect the word
#
#   tb_ts_install FORM VARIANT
#       Writes Tailscale's netfilter layout into $TB_HOST in tailscaled's order
#       (chains, flush, jumps at position 1 unless present, base rules,
#       magicsock port 41641, loopback rules at position 1, SNAT, connmark,
#       CGNAT rules), IPv4 and IPv6 (IPv6 without the CGNAT rules).
#       FORM     legacy    iptables-legacy / ip6tables-legacy
#                nft       iptables-nft / ip6tables-nft
#                nftables  native nft, Tailscale's nftables mode: tables
#                          ip/ip6 filter, nat, mangle, raw-expression rules
#       VARIANT  new       v1.98+: `-i tailscale0 -j ACCEPT` before the
#                          ChromeOS RETURN and the CGNAT DROP; mangle CONNMARK
#                          rules (netfilter mode on)
#                old       before 1.96 (the v1.52 dump): RETURN and DROP
#                          before the tailscale0 ACCEPT; no connmark
#                nodivert  new's chains and rules without any jump, no connmark
#                          (--netfilter-mode=nodivert)
#                return    new with the disable-linux-cgnat-drop-rule node
#                          attribute: one `-s 100.64.0.0/10 ! -i tailscale0
#                          -j RETURN` instead of the RETURN and the DROP
#   tb_ts_remove FORM
#       What stopping tailscaled does: delete the connmark rules and the jumps,
#       flush and delete the ts-* chains (nftables: tables and base chains
#       stay). A later tb_ts_install is a restart.
#   tb_exception FORM [ADDR] [IFACE]
#       Inserts `-s ADDR/32 -i IFACE -m conntrack --ctstate ESTABLISHED -j
#       RETURN` (nftables: `iifname IFACE ip saddr ADDR ct state established
#       return`) immediately before the CGNAT DROP in ts-input. Defaults
#       100.100.2.136 and eth0. Fails when there is no DROP.
#   tb_chain_rules FORM 4|6 TABLE CHAIN
#       prints the chain's rules in order, one a line: iptables forms as `-S`
#       prints them without `-A CHAIN `, nftables as `nft list chain` prints
#       them with counters reduced to `counter`. Fails if the chain is missing.
#   tb_fw_dump FORM
#       prints the host's rules in FORM's own syntax (iptables-*-save, nft)
#
#   tb_ts_routing VARIANT
#       Tailscale's policy routing in $TB_HOST, both families: rules 5210
#       (fwmark 0x80000/0xff0000 main), 5230 (... default), 5250 (...
#       unreachable), 5270 (table 52); table 52 with peers 100.69.1.2,
#       100.90.3.4, fd7a:115c:a1e0::2 and quad-100 (100.100.100.100,
#       fd7a:115c:a1e0::53), all dev tailscale0.
#       VARIANT  peers                    just that
#                exitnode                 plus `default dev tailscale0` and
#                                         throw routes for the LAN
#                                         (172.24.0.0/18, fd00:cafe::/64)
#                exitnode-throw-provider  exitnode plus `throw 100.100.0.0/16`
#                                         (and fd00:cafe:1::/64): the provider
#                                         range goes back to the main table
#   tb_ts_unroute
#       removes the rules and flushes table 52
#
# A tun device nobody reads has no carrier: routes through it are flagged
# `linkdown` but still chosen (ignore_routes_with_linkdown=0), and whatever is
# sent there is silently dropped (send() succeeds, TX dropped grows). So a
# service routed into tailscale0 is seen as `timeout`, exactly like a reply the
# firewall drops: tests tell the two apart with `ip route get`.

. "${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}/tests/lib/lib.sh"
. "$top_srcdir/tests/lib/netns/render.sh"

TB_PREFIX="cgt$$-"
TB_NAMESPACES=()
TB_PIDS=()
TB_TMPDIRS=()
# tb_spawn's jobs: their pids and labels, and their files (output, checks
# and the register of what each made) in TB_JOB_DIR
TB_JOBS=()
TB_JOB_LABELS=()
TB_JOB_DIR=
# in a tb_spawn job: the file that registers what it makes for the test's
# cleanup (a job's own arrays die with it)
TB_REGISTER=

# tb__register KIND VALUE: in a job, notes what it made (ns, pid, dir)
tb__register() {
	[ -z "$TB_REGISTER" ] || printf '%s %s\n' "$1" "$2" >>"$TB_REGISTER"
}

# tb__adopt FILE: takes over what a job registered
tb__adopt() {
	local kind value
	[ -f "$1" ] || return 0
	while read -r kind value; do
		case $kind in
		ns) TB_NAMESPACES+=("$value") ;;
		pid) TB_PIDS+=("$value") ;;
		dir) TB_TMPDIRS+=("$value") ;;
		esac
	done <"$1"
	: >"$1"
}

tb_cleanup() {
	local pid ns d f
	# jobs first: stopped, and what they made taken over
	for pid in "${TB_JOBS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${TB_JOBS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "$TB_JOB_DIR" ]; then
		for f in "$TB_JOB_DIR"/*.reg; do
			tb__adopt "$f"
		done
	fi
	TB_JOBS=()
	for pid in "${TB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${TB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for ns in "${TB_NAMESPACES[@]}"; do
		# Anything still running inside dies with the namespace's last reference.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "/etc/netns/$ns"
	done
	for d in "${TB_TMPDIRS[@]}"; do
		rm -rf "$d"
	done
	TB_NAMESPACES=()
	TB_PIDS=()
	TB_TMPDIRS=()
}

tb_on_signal() {
	tb_cleanup
	exit 130
}

tb_init() {
	t_require_root
	ip netns list >/dev/null 2>&1 || t_skip "cannot list network namespaces"
	trap tb_cleanup EXIT
	trap tb_on_signal INT TERM HUP
}

tb_test_init() {
	local need
	tb_init
	for need; do
		case $need in
		*/*) t_require_built "$need" ;;
		*) t_require_tools "$need" ;;
		esac
	done
}

# tb_ns_add VAR NAME: creates $TB_PREFIX$NAME and stores the full name in VAR
# (not printed: a command substitution would run in a subshell and the
# namespace would escape cleanup).
tb_ns_add() {
	# The local's name must not be one a caller passes as VAR: printf -v
	# would set the local instead (bash's dynamic scoping).
	local tb__ns="$TB_PREFIX$2"
	ip netns add "$tb__ns" || { echo "tb_ns_add: cannot create namespace $tb__ns" >&2; return 1; }
	TB_NAMESPACES+=("$tb__ns")
	tb__register ns "$tb__ns"
	ip -n "$tb__ns" link set lo up
	printf -v "$1" '%s' "$tb__ns"
}

# `ip netns exec` mounts a fresh sysfs on /sys, and with it goes a cgroup2
# hierarchy mounted below /sys (/sys/fs/cgroup, or /sys/fs/cgroup/unified
# in the hybrid layout; iproute2 does not mount it again):
# then the audit truthfully reports cgroup BPF programs it cannot read.
# What runs in a test bed's namespace sees the host's cgroup2 hierarchy
# again, mounted on /sys/fs/cgroup in the private mount namespace `ip netns
# exec` made (nothing propagates back to the host).
tb__cgroup2_lost=
tb__cgroup2_check() {
	if [ -z "$tb__cgroup2_lost" ]; then
		tb__cgroup2_lost=no
		if awk '$9 == "cgroup2" && $5 ~ /^\/sys\// { f = 1 } END { exit !f }' /proc/self/mountinfo 2>/dev/null; then
			tb__cgroup2_lost=yes
		fi
	fi
	[ "$tb__cgroup2_lost" = yes ]
}

tb_exec() {
	local ns=$1
	shift
	if tb__cgroup2_check; then
		# shellcheck disable=SC2016
		ip netns exec "$ns" sh -c 'grep -q " - cgroup2 " /proc/self/mountinfo ||
			mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null; exec "$@"' sh "$@"
	else
		ip netns exec "$ns" "$@"
	fi
}

tb_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	TB_PIDS+=("$!")
	tb__register pid "$!"
}

# tb_tmpdir VAR: a temporary directory removed at cleanup, its path in VAR.
tb_tmpdir() {
	local tb__d # not `d`: see tb_ns_add
	tb__d=$(mktemp -d "${TMPDIR:-/tmp}/cgnatcheck-test.XXXXXX")
	TB_TMPDIRS+=("$tb__d")
	tb__register dir "$tb__d"
	printf -v "$1" '%s' "$tb__d"
}

tb_spawn() {
	local label=$1 f
	shift
	[ -n "$TB_JOB_DIR" ] || tb_tmpdir TB_JOB_DIR
	f="$TB_JOB_DIR/${#TB_JOB_LABELS[@]}"
	: >"$f.reg"
	(
		# the test's traps clean up; a job only stops
		trap - EXIT
		trap 'exit 130' INT TERM HUP
		TB_REGISTER=$f.reg TB_JOBS=() TB_JOB_LABELS=() TB_JOB_DIR=
		t_checks=0 t_failures=0
		tb__t0=$EPOCHREALTIME
		"$@"
		echo "$t_checks $t_failures $(awk -v a="$tb__t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')" \
			>"$f.count"
	) >"$f.out" 2>"$f.err" &
	TB_JOBS+=("$!")
	TB_JOB_LABELS+=("$label")
}

tb_join() {
	local i f st checks failures secs hard=0
	for i in "${!TB_JOBS[@]}"; do
		st=0
		wait "${TB_JOBS[i]}" || st=$?
		f="$TB_JOB_DIR/$i"
		tb__adopt "$f.reg"
		secs=
		[ ! -s "$f.count" ] || read -r checks failures secs <"$f.count"
		echo "--- ${TB_JOB_LABELS[i]}${secs:+ ($secs s)}:" >&2
		cat "$f.err" >&2
		cat "$f.out"
		if [ -s "$f.count" ]; then
			t_checks=$((t_checks + checks))
			t_failures=$((t_failures + failures))
		fi
		case $st in
		0) ;;
		99) echo "ERROR: ${TB_JOB_LABELS[i]}: a hard error (99)" >&2; hard=1 ;;
		*) t_fail "${TB_JOB_LABELS[i]}: ended early (exit $st)" ;;
		esac
	done
	TB_JOBS=()
	TB_JOB_LABELS=()
	# the next jobs' files start afresh
	rm -f "$TB_JOB_DIR"/*
	[ "$hard" = 0 ] || exit 99
}

# tb__reachable DIR: true when every directory from / down to DIR lets
# others through (o+x): another user can reach what is below it.
tb__reachable() {
	local d=$1
	while :; do
		[ "$(( 0$(stat -L -c %a "$d" 2>/dev/null || echo 0) & 1 ))" = 1 ] || return 1
		[ "$d" = / ] && return 0
		d=$(dirname "$d")
	done
}

# tb_tmpdir_shared VAR: tb_tmpdir, but another user (cgnatcheck --user
# nobody) can reach and read it: under TMPDIR when nothing above it keeps
# others out, else under /tmp.
tb_tmpdir_shared() {
	local tb__d tb__base=${TMPDIR:-/tmp}
	tb__reachable "$tb__base" || tb__base=/tmp
	tb__reachable "$tb__base" || tb_die "no directory other users can reach for a shared temporary directory"
	tb__d=$(mktemp -d "$tb__base/cgnatcheck-test.XXXXXX")
	TB_TMPDIRS+=("$tb__d")
	chmod 0755 "$tb__d"
	printf -v "$1" '%s' "$tb__d"
}

# tb_policies_shared VAR: a copy of the shipped policies (top_srcdir's
# policies/) in a shared temporary directory, readable by every user: the
# source tree may be a clone under a directory only root can enter.
tb_policies_shared() {
	local tb__p
	tb_tmpdir_shared tb__p
	cp -R "$top_srcdir/policies" "$tb__p/policies" || tb_die "cannot copy the policies to $tb__p"
	chmod -R a+rX "$tb__p"
	printf -v "$1" '%s' "$tb__p/policies"
}

# ===========================================================================
# Helpers and the scenario layer (documented in the header).
# ===========================================================================

TB_HOST_IP=172.24.4.100
TB_HOST_PLEN=18
TB_GW=172.24.63.253
TB_HOST_IP6=fd00:cafe::100
TB_PROV_IP6=fd00:cafe::1
TB_SVC_IP6=fd00:cafe:1::136
TB_TS_IP=100.92.187.56
TB_TS_IP6=fd7a:115c:a1e0::1
TB_TUN=tailscale0
# The provider's services (Alibaba Cloud, Huawei Cloud; see providers.md).
TB_PROV_SERVICES="100.100.2.136 100.100.2.138 100.100.100.200 100.100.2.148 100.100.61.88 100.125.1.250"
export TB_HOST_IP TB_GW TB_HOST_IP6 TB_PROV_IP6 TB_SVC_IP6 TB_TS_IP TB_TS_IP6 TB_TUN

# Tailscale's constants (tsconst/linuxfw.go) and its default magicsock port.
TB_TS_MASK=0xff0000
TB_TS_SUBNET_MARK=0x40000
TB_TS_BYPASS_MARK=0x80000
TB_TS_PORT=41641

# tb_die MSG: a broken test bed is a hard error (99), not a test failure.
tb_die() {
	echo "ERROR (test bed): $*" >&2
	exit 99
}

tb_prog() {
	local p="${top_builddir:-$top_srcdir}/tests/lib/netns/$1"
	[ -x "$p" ] || tb_die "$p is not built (make check builds it)"
	printf '%s\n' "$p"
}

tb_wait_file() {
	local path=$1 secs=${2:-5} pid=${3:-} i
	# 50 ms steps: quick enough not to slow the tests down, bounded so that a
	# responder that never gets ready fails the test instead of hanging it.
	for ((i = 0; i < secs * 20; i++)); do
		[ -e "$path" ] && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			# It may have written the file just before exiting.
			[ -e "$path" ] && return 0
			echo "tb_wait_file: process $pid exited before $path appeared" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "tb_wait_file: $path did not appear within ${secs}s" >&2
	return 1
}

# tb_wait_link NS DEV [SECONDS]: waits until DEV's operational state is UP.
tb_wait_link() {
	local ns=$1 dev=$2 secs=${3:-5} i
	for ((i = 0; i < secs * 50; i++)); do
		case $(ip -n "$ns" -o link show dev "$dev" 2>/dev/null) in
		*" state UP "*) return 0 ;;
		esac
		sleep 0.02
	done
	echo "tb_wait_link: $dev in $ns is not up after ${secs}s" >&2
	return 1
}

tb_wait_exit() {
	local pid=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	! kill -0 "$pid" 2>/dev/null
}

tb_proc_state() {
	local pid=$1 want=$2 secs=${3:-1} i state=
	for ((i = 0; i < secs * 20; i++)); do
		state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)
		[ "$state" = "$want" ] && break
		sleep 0.05
	done
	printf '%s\n' "$state"
}

TB_ECHO_SEQ=0
tb_echo() {
	local ns=$1 echo dir ready
	shift
	echo=$(tb_prog cg-echo) || exit 99
	tb_tmpdir dir
	TB_ECHO_SEQ=$((TB_ECHO_SEQ + 1))
	ready="$dir/echo$TB_ECHO_SEQ.ready"
	# `ip netns exec` execs the command, so the pid tb_bg records is
	# cg-echo's own and the cleanup's SIGTERM reaches it.
	tb_bg "$ns" "$echo" --ready-file "$ready" "$@"
	TB_ECHO_PID=${TB_PIDS[-1]}
	# shellcheck disable=SC2034 # for the tests
	TB_ECHO_READY=$ready
	# 10 s: a sanitizer build on a loaded machine starts slowly.
	tb_wait_file "$ready" 10 "$TB_ECHO_PID" || {
		echo "tb_echo: cg-echo $* did not get ready in $ns" >&2
		return 1
	}
}

tb_ns_run() {
	local ns=$1 ok=$2 fail=$3 host_netns
	shift 3
	host_netns=$(stat -L -c %i /proc/self/ns/net)
	t_run tb_exec "$ns" env CG_TEST_HOST_NETNS="$host_netns" "$@"
	printf '%s\n' "$t_out"
	[ -z "$t_err" ] || printf '%s\n' "$t_err" >&2
	case $t_status in
	0) t_ok "$ok" ;;
	99) echo "ERROR: could not run: $*" >&2; exit 99 ;;
	*) t_fail "$fail" ;;
	esac
}

tb_topology() {
	local a ns
	tb_ns_add TB_HOST "$1"
	tb_ns_add TB_PROV "$2"
	export TB_HOST TB_PROV

	# No duplicate address detection: addresses must be usable at once,
	# not "tentative" for the first second of every test.
	for ns in "$TB_HOST" "$TB_PROV"; do
		tb_exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 ||
			tb_die "cannot set sysctls in $ns"
	done
	# Debian 12's loose reverse-path filter (systemd's 50-default.conf); a
	# new namespace would otherwise get whatever this machine has.
	tb_exec "$TB_HOST" sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.default.rp_filter=2 ||
		tb_die "cannot set sysctls in $TB_HOST"

	ip -n "$TB_HOST" link add eth0 type veth peer name veth-host netns "$TB_PROV" ||
		tb_die "cannot create the veth pair"
	ip -n "$TB_HOST" addr add "$TB_HOST_IP/$TB_HOST_PLEN" dev eth0
	ip -n "$TB_HOST" addr add "$TB_HOST_IP6/64" dev eth0 nodad
	ip -n "$TB_HOST" link set eth0 up
	ip -n "$TB_PROV" addr add "$TB_GW/$TB_HOST_PLEN" dev veth-host
	ip -n "$TB_PROV" addr add "$TB_PROV_IP6/64" dev veth-host nodad
	ip -n "$TB_PROV" link set veth-host up
	# Packets sent before the kernel's link watcher has seen the carrier
	# go to a no-op qdisc and vanish: the first ARP or neighbour
	# solicitation would be lost and the first probe would time out.
	tb_wait_link "$TB_HOST" eth0 || tb_die "the host's eth0 did not come up"
	tb_wait_link "$TB_PROV" veth-host || tb_die "the provider's veth-host did not come up"
	ip -n "$TB_HOST" route add default via "$TB_GW" dev eth0 ||
		tb_die "cannot add the host's default route"
	ip -n "$TB_HOST" -6 route add default via "$TB_PROV_IP6" dev eth0 ||
		tb_die "cannot add the host's IPv6 default route"

	# The provider's services live on its loopback (this kernel may have no
	# dummy module); its replies to the host use the connected /18.
	for a in $TB_PROV_SERVICES; do
		ip -n "$TB_PROV" addr add "$a/32" dev lo
	done
	ip -n "$TB_PROV" addr add "$TB_SVC_IP6/128" dev lo

	# tailscale0 as tailscaled creates it, with no tailscaled reading it.
	ip -n "$TB_HOST" tuntap add dev "$TB_TUN" mode tun ||
		tb_die "cannot create a tun device (is /dev/net/tun there?)"
	ip -n "$TB_HOST" link set "$TB_TUN" up
	ip -n "$TB_HOST" addr add "$TB_TS_IP/32" dev "$TB_TUN"
	ip -n "$TB_HOST" addr add "$TB_TS_IP6/128" dev "$TB_TUN" nodad
}

tb_scenario() {
	tb_topology "host${1:-}" "prov${1:-}"
	tb_echo "$TB_PROV" 53/udp 53/tcp 80/tcp 123/udp || tb_die "the provider's responder did not start"
	TB_PROV_ECHO_PID=$TB_ECHO_PID
}

TB_BED_HOST=() TB_BED_PROV=() TB_BED_ECHO=()
tb_beds() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		tb_scenario "$i"
		TB_BED_HOST[i]=$TB_HOST TB_BED_PROV[i]=$TB_PROV TB_BED_ECHO[i]=$TB_PROV_ECHO_PID
		[ $# -eq 0 ] || "$@"
	done
}

tb_use_bed() {
	TB_HOST=${TB_BED_HOST[$1]} TB_PROV=${TB_BED_PROV[$1]} TB_PROV_ECHO_PID=${TB_BED_ECHO[$1]}
	export TB_HOST TB_PROV
}

tb_prov_services() {
	local services i dir
	services=$(tb_prog cg-services) || exit 99
	kill "$TB_PROV_ECHO_PID"
	# in a tb_spawn job the responder is the test's child, not the job's:
	# wait until it is gone (or a zombie) before its ports are bound again
	wait "$TB_PROV_ECHO_PID" 2>/dev/null ||
		case $(tb_proc_state "$TB_PROV_ECHO_PID" Z 5) in "" | Z) ;; *) tb_die "the provider's responder did not stop" ;; esac
	# Reaped: the cleanup must not signal its pid again (it may be reused).
	for i in "${!TB_PIDS[@]}"; do
		[ "${TB_PIDS[i]}" != "$TB_PROV_ECHO_PID" ] || unset 'TB_PIDS[i]'
	done
	TB_PIDS=("${TB_PIDS[@]}")
	tb_tmpdir dir
	tb_bg "$TB_PROV" "$services" --ready-file "$dir/services.ready" "$@"
	tb_wait_file "$dir/services.ready" 10 "${TB_PIDS[-1]}" || tb_die "cg-services did not get ready"
}

# Each probe is a new conversation: conntrack entries of earlier probes are
# flushed first (in the prober's namespace and the host's), or a reused
# ephemeral port would make the first packet ESTABLISHED instead of NEW.
tb_ct_flush() {
	local ns
	for ns in "$@"; do
		[ -n "$ns" ] && ip netns exec "$ns" conntrack -F >/dev/null 2>&1 || true
	done
}

tb_probe_from() {
	local ns=$1 addr=$2 port=$3 proto=$4 probe
	shift 4
	probe=$(tb_prog cg-probe) || exit 99
	tb_ct_flush "$ns" "${TB_HOST:-}"
	tb_exec "$ns" "$probe" "$@" "$addr" "$port" "$proto"
}

tb_probe() {
	tb_probe_from "$TB_HOST" "$@"
}

tb_host_listen() {
	tb_echo "$TB_HOST" "$@"
}

tb_probe_inbound() {
	local port=$1 proto=$2 a
	shift 2
	for a in "$@"; do
		if [ "$a" = --from ]; then
			tb_probe_from "$TB_PROV" "$TB_HOST_IP" "$port" "$proto" "$@"
			return
		fi
	done
	tb_probe_from "$TB_PROV" "$TB_HOST_IP" "$port" "$proto" --from 100.100.2.136 "$@"
}

# A reply takes microseconds between two namespaces, but a loaded machine
# (parallel tests, sanitizers) can stall a process for longer than the 300 ms
# default. So when a reply is expected and a timeout seen, probe once more
# with 3 s before failing. This cannot hide a drop (a drop times out twice);
# a timeout that is expected needs no retry (a reply cannot be invented).
tb__expect_word() { # DESC WANT PROBE-FUNCTION ARGS...
	local desc=$1 want=$2 fn=$3 got
	shift 3
	got=$("$fn" "$@") || true
	if [ "$want" = reply ] && [ "$got" = timeout ]; then
		echo "note: $desc: timeout at the default deadline, retrying with 3 s" >&2
		got=$("$fn" "$@" --timeout 3000) || true
	fi
	t_expect "$desc" "$want" "$got"
}

tb_expect_probe() {
	local desc=$1 want=$2
	shift 2
	tb__expect_word "$desc" "$want" tb_probe "$@"
}

tb_expect_inbound() {
	local desc=$1 want=$2
	shift 2
	tb__expect_word "$desc" "$want" tb_probe_inbound "$@"
}

# --- the audit in the host ----------------------------------------------------

tb_audit_env() {
	local tb__w # not `w`: see tb_ns_add
	tb_tmpdir tb__w
	export CGNATCHECK_POLICY_DIR="$top_srcdir/policies" CGNATCHECK_POLICY_LOCAL_DIR="$tb__w/local" \
		CGNATCHECK_DMI_DIR="$tb__w/dmi" CGNATCHECK_STATE_DIR="$tb__w/state"
	TB_AUDIT_DIR=$tb__w
	printf -v "$1" '%s' "$tb__w"
}

tb_audit() {
	local desc=$1 want=$2 status=0
	shift 2
	tb_exec "$TB_HOST" "$CGNATCHECK" --format json "$@" >"$TB_AUDIT_DIR/out.json" 2>"$TB_AUDIT_DIR/err" ||
		status=$?
	t_expect "$desc: exit status" "$want" "$status"
	[ "$status" -ne 3 ] || cat "$TB_AUDIT_DIR/err" >&2
}

tb_json() {
	python3 -I -S -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$TB_AUDIT_DIR/out.json" "$1"
}

tb_nft_guard() {
	tb_exec "$TB_HOST" nft -f - <<'EOF'
table inet guard {
	set shared { type ipv4_addr; flags interval; elements = { 100.64.0.0/10 } }
	chain input { type filter hook input priority 0; policy accept; ip saddr @shared drop; }
}
EOF
}

# --- Tailscale's netfilter layout ------------------------------------------

tb__check_form() {
	case $1 in
	legacy | nft | nftables) ;;
	*) tb_die "unknown firewall form '$1' (legacy, nft, nftables)" ;;
	esac
}

# tb__ipt_names FORM: sets v4/v6 (the caller's locals) to the iptables pair.
tb__ipt_names() {
	case $1 in
	legacy) v4=iptables-legacy v6=ip6tables-legacy ;;
	nft) v4=iptables-nft v6=ip6tables-nft ;;
	esac
}

# tb__ipt_script FORM VARIANT: prints the iptables commands tailscaled runs,
# in its order, as one script for the host namespace (one `ip netns exec`
# instead of forty keeps the tests fast). The rules are the argument lists of
# util/linuxfw/iptables_runner.go.
tb__ipt_script() {
	local form=$1 variant=$2 v4 v6
	tb__ipt_names "$form"
	# -w: the xtables lock is one file for the whole machine, and other
	# tests run iptables at the same time in their own namespaces.
	v4="$v4 -w" v6="$v6 -w"
	printf '%s\n' "set -eu" "m=$TB_TS_MASK sub=$TB_TS_SUBNET_MARK tun=$TB_TUN"
	printf '%s\n' \
		"# AddChains: flush a chain that exists, create it otherwise." \
		"for ipt in '$v4' '$v6'; do" \
		"	for tc in filter/ts-input filter/ts-forward nat/ts-postrouting; do" \
		"		\$ipt -t \${tc%/*} -F \${tc#*/} 2>/dev/null || \$ipt -t \${tc%/*} -N \${tc#*/}" \
		"	done" \
		"done"
	if [ "$variant" != nodivert ]; then
		printf '%s\n' \
			"# AddHooks: the jump at position 1, unless one already exists." \
			"for ipt in '$v4' '$v6'; do" \
			"	for tcj in filter/INPUT/ts-input filter/FORWARD/ts-forward nat/POSTROUTING/ts-postrouting; do" \
			"		IFS=/ read -r t c j <<<\"\$tcj\"" \
			"		\$ipt -t \$t -C \$c -j \$j 2>/dev/null || \$ipt -t \$t -I \$c 1 -j \$j" \
			"	done" \
			"done"
	fi
	# AddBase, IPv4. Before 1.98 it began with the CGNAT rules.
	if [ "$variant" = old ]; then
		printf '%s\n' \
			"$v4 -A ts-input ! -i \$tun -s 100.115.92.0/23 -j RETURN" \
			"$v4 -A ts-input ! -i \$tun -s 100.64.0.0/10 -j DROP"
	fi
	printf '%s\n' \
		"$v4 -A ts-input -i \$tun -j ACCEPT" \
		"$v4 -A ts-forward -i \$tun -j MARK --set-mark \$sub/\$m" \
		"$v4 -A ts-forward -m mark --mark \$sub/\$m -j ACCEPT" \
		"$v4 -A ts-forward -o \$tun -s 100.64.0.0/10 -j DROP" \
		"$v4 -A ts-forward -o \$tun -j ACCEPT" \
		"# AddBase, IPv6: the same without the CGNAT rule." \
		"$v6 -A ts-input -i \$tun -j ACCEPT" \
		"$v6 -A ts-forward -i \$tun -j MARK --set-mark \$sub/\$m" \
		"$v6 -A ts-forward -m mark --mark \$sub/\$m -j ACCEPT" \
		"$v6 -A ts-forward -o \$tun -j ACCEPT" \
		"# AddMagicsockPortRule (udp4, udp6)." \
		"$v4 -A ts-input -p udp --dport $TB_TS_PORT -j ACCEPT" \
		"$v6 -A ts-input -p udp --dport $TB_TS_PORT -j ACCEPT" \
		"# addLoopbackRule for each Tailscale address, at position 1." \
		"$v4 -I ts-input 1 -i lo -s $TB_TS_IP/32 -j ACCEPT" \
		"$v6 -I ts-input 1 -i lo -s $TB_TS_IP6/128 -j ACCEPT" \
		"# AddSNATRule (SNAT for subnet routes, on by default)." \
		"$v4 -t nat -A ts-postrouting -m mark --mark \$sub/\$m -j MASQUERADE" \
		"$v6 -t nat -A ts-postrouting -m mark --mark \$sub/\$m -j MASQUERADE"
	if [ "$variant" = new ] || [ "$variant" = return ]; then
		printf '%s\n' \
			"# AddConnmarkSaveRule (1.96+, netfilter mode on), both families, position 1." \
			"for ipt in '$v4' '$v6'; do" \
			"	\$ipt -t mangle -I PREROUTING 1 -m conntrack --ctstate ESTABLISHED,RELATED -m connmark ! --mark 0x0/\$m -j CONNMARK --restore-mark --nfmask \$m --ctmask \$m" \
			"	\$ipt -t mangle -I OUTPUT 1 -m conntrack --ctstate NEW -m mark ! --mark 0x0/\$m -j CONNMARK --save-mark --nfmask \$m --ctmask \$m" \
			"done" \
			"sysctl -qw net.ipv4.conf.all.src_valid_mark=1"
	fi
	# AddExternalCGNATRules (1.98+), IPv4 only.
	case $variant in
	new | nodivert)
		printf '%s\n' \
			"$v4 -A ts-input ! -i \$tun -s 100.115.92.0/23 -j RETURN" \
			"$v4 -A ts-input ! -i \$tun -s 100.64.0.0/10 -j DROP"
		;;
	return)
		printf '%s\n' "$v4 -A ts-input ! -i \$tun -s 100.64.0.0/10 -j RETURN"
		;;
	esac
}

# tb__nft_script VARIANT EXISTING: nft -f input producing the rules Tailscale's
# nftables runner (util/linuxfw/nftables_runner.go) writes, expression for
# expression (checked with `nft --debug=netlink`). Two details matter to a
# parser:
#  * Tailscale compares interface names with the bytes of the name and no
#    terminating NUL, which makes them prefix matches: nft writes and lists
#    them as "tailscale0*" and "lo*".
#  * Its connmark rules carry the raw user data "ts-connmark-restore" and
#    "ts-connmark-save", which nft can neither write nor show; a comment with
#    the same text stands in for it here.
# tb__nft_base_chain EXISTING FAM TABLE CHAIN SPEC: Tailscale creates a
# conventional base chain only when it is missing, and otherwise uses it as it
# is (iptables-nft, for one, makes mangle OUTPUT a `type route` chain, which an
# `add chain` with another type would collide with).
tb__nft_base_chain() {
	if ! grep -qxF "$2 $3 $4" <<<"$1"; then
		printf '%s\n' "add chain $2 $3 $4 { $5 }"
	fi
}

# tb__nft_chains: "family table chain" for each chain in the host.
tb__nft_chains() {
	tb_exec "$TB_HOST" nft list chains 2>/dev/null |
		awk '$1 == "table" { fam = $2; tbl = $3 } $1 == "chain" { print fam, tbl, $2 }'
}

tb__nft_script() {
	local variant=$1 existing=$2 fam saddr tsip tun="\"$TB_TUN*\""
	for fam in ip ip6; do
		# AddChains (creating tables and base chains when missing), then
		# DelBase (flush).
		printf '%s\n' "add table $fam filter"
		tb__nft_base_chain "$existing" $fam filter FORWARD "type filter hook forward priority filter; policy accept;"
		tb__nft_base_chain "$existing" $fam filter INPUT "type filter hook input priority filter; policy accept;"
		printf '%s\n' \
			"add chain $fam filter ts-forward" \
			"add chain $fam filter ts-input" \
			"add table $fam nat"
		tb__nft_base_chain "$existing" $fam nat POSTROUTING "type nat hook postrouting priority srcnat; policy accept;"
		printf '%s\n' \
			"add chain $fam nat ts-postrouting" \
			"flush chain $fam filter ts-input" \
			"flush chain $fam filter ts-forward" \
			"flush chain $fam nat ts-postrouting"
	done
	if [ "$variant" != nodivert ]; then
		# AddHooks: `counter jump` inserted at the top of each base chain.
		for fam in ip ip6; do
			printf '%s\n' \
				"insert rule $fam filter INPUT counter jump ts-input" \
				"insert rule $fam filter FORWARD counter jump ts-forward" \
				"insert rule $fam nat POSTROUTING counter jump ts-postrouting"
		done
	fi
	if [ "$variant" = old ]; then
		printf '%s\n' \
			"add rule ip filter ts-input iifname != $tun ip saddr 100.115.92.0/23 counter return" \
			"add rule ip filter ts-input iifname != $tun ip saddr 100.64.0.0/10 counter drop"
	fi
	# AddBase.
	for fam in ip ip6; do
		printf '%s\n' \
			"add rule $fam filter ts-input iifname $tun counter accept" \
			"add rule $fam filter ts-forward iifname $tun counter meta mark set meta mark & 0xff00ffff | $TB_TS_SUBNET_MARK" \
			"add rule $fam filter ts-forward meta mark & $TB_TS_MASK == $TB_TS_SUBNET_MARK counter accept"
		if [ "$fam" = ip ]; then
			printf '%s\n' "add rule ip filter ts-forward oifname $tun ip saddr 100.64.0.0/10 counter drop"
		fi
		printf '%s\n' "add rule $fam filter ts-forward oifname $tun counter accept"
	done
	# AddMagicsockPortRule (`meta l4proto udp th dport` is what its raw
	# expressions are; nft lists it as `udp dport`), addLoopbackRule at the
	# top of ts-input, AddSNATRule.
	for fam in ip ip6; do
		if [ "$fam" = ip ]; then saddr="ip saddr" tsip=$TB_TS_IP; else saddr="ip6 saddr" tsip=$TB_TS_IP6; fi
		printf '%s\n' \
			"add rule $fam filter ts-input meta l4proto udp th dport $TB_TS_PORT counter accept" \
			"insert rule $fam filter ts-input iifname \"lo*\" $saddr $tsip counter accept" \
			"add rule $fam nat ts-postrouting meta mark & $TB_TS_MASK == $TB_TS_SUBNET_MARK counter masquerade"
	done
	if [ "$variant" = new ] || [ "$variant" = return ]; then
		# AddConnmarkSaveRule: table mangle, base chains made when missing
		# (no policy given, so accept), rules inserted at the top, no counter.
		for fam in ip ip6; do
			printf '%s\n' "add table $fam mangle"
			tb__nft_base_chain "$existing" $fam mangle PREROUTING "type filter hook prerouting priority mangle;"
			tb__nft_base_chain "$existing" $fam mangle OUTPUT "type filter hook output priority mangle;"
			printf '%s\n' \
				"insert rule $fam mangle PREROUTING ct state established,related ct mark & $TB_TS_MASK != 0 meta mark set ct mark & $TB_TS_MASK comment \"ts-connmark-restore\"" \
				"insert rule $fam mangle OUTPUT ct state new meta mark & $TB_TS_MASK != 0 ct mark set meta mark & $TB_TS_MASK comment \"ts-connmark-save\""
		done
	fi
	# AddExternalCGNATRules, IPv4 only.
	case $variant in
	new | nodivert)
		printf '%s\n' \
			"add rule ip filter ts-input iifname != $tun ip saddr 100.115.92.0/23 counter return" \
			"add rule ip filter ts-input iifname != $tun ip saddr 100.64.0.0/10 counter drop"
		;;
	return)
		printf '%s\n' "add rule ip filter ts-input iifname != $tun ip saddr 100.64.0.0/10 counter return"
		;;
	esac
}

tb_ts_install() {
	local form=$1 variant=$2
	tb__check_form "$form"
	case $variant in
	new | old | nodivert | return) ;;
	*) tb_die "unknown Tailscale variant '$variant' (new, old, nodivert, return)" ;;
	esac
	if [ "$form" = nftables ]; then
		# Tailscale's nftables AddHooks inserts without looking; it relies
		# on DelHooks having run. A second jump here is a test-bed bug.
		if [ "$variant" != nodivert ] &&
			tb_exec "$TB_HOST" nft list chain ip filter INPUT 2>/dev/null | grep -c 'jump ts-input' >/dev/null; then
			echo "tb_ts_install: a ts-input jump is already there (tb_ts_remove first)" >&2
			return 1
		fi
		tb__nft_script "$variant" "$(tb__nft_chains)" | tb_exec "$TB_HOST" nft -f - ||
			{ echo "tb_ts_install: nft -f failed" >&2; return 1; }
	else
		tb__ipt_script "$form" "$variant" | tb_exec "$TB_HOST" bash -s ||
			{ echo "tb_ts_install: the $form commands failed" >&2; return 1; }
	fi
}

tb_ts_remove() {
	local form=$1 v4 v6 fam h chain
	tb__check_form "$form"
	if [ "$form" = nftables ]; then
		# DelConnmarkSaveRule (by user data, here the comment) and DelHooks
		# (the jump rules), by handle; then flush and delete the ts chains.
		for fam in ip ip6; do
			for chain in "filter INPUT" "filter FORWARD" "nat POSTROUTING" "mangle PREROUTING" "mangle OUTPUT"; do
				# shellcheck disable=SC2086 # "table chain" is two words
				for h in $(tb_exec "$TB_HOST" nft -a list chain $fam $chain 2>/dev/null |
					sed -n -E '/jump ts-|comment "ts-connmark-/s/.*# handle ([0-9]+)$/\1/p'); do
					tb_exec "$TB_HOST" nft delete rule $fam $chain handle "$h" || return 1
				done
			done
			for chain in "filter ts-input" "filter ts-forward" "nat ts-postrouting"; do
				# shellcheck disable=SC2086
				if tb_exec "$TB_HOST" nft list chain $fam $chain >/dev/null 2>&1; then
					tb_exec "$TB_HOST" nft flush chain $fam $chain || return 1
					tb_exec "$TB_HOST" nft delete chain $fam $chain || return 1
				fi
			done
		done
		return 0
	fi
	tb__ipt_names "$form"
	v4="$v4 -w" v6="$v6 -w"
	{
		printf '%s\n' "m=$TB_TS_MASK" \
			"for ipt in '$v4' '$v6'; do" \
			"	\$ipt -t mangle -D PREROUTING -m conntrack --ctstate ESTABLISHED,RELATED -m connmark ! --mark 0x0/\$m -j CONNMARK --restore-mark --nfmask \$m --ctmask \$m 2>/dev/null || true" \
			"	\$ipt -t mangle -D OUTPUT -m conntrack --ctstate NEW -m mark ! --mark 0x0/\$m -j CONNMARK --save-mark --nfmask \$m --ctmask \$m 2>/dev/null || true" \
			"	for tcj in filter/INPUT/ts-input filter/FORWARD/ts-forward nat/POSTROUTING/ts-postrouting; do" \
			"		IFS=/ read -r t c j <<<\"\$tcj\"" \
			"		while \$ipt -t \$t -D \$c -j \$j 2>/dev/null; do :; done" \
			"		if \$ipt -t \$t -F \$j 2>/dev/null; then \$ipt -t \$t -X \$j || exit 1; fi" \
			"	done" \
			"done"
	} | tb_exec "$TB_HOST" bash -s
}

tb_exception() {
	local form=$1 addr=${2:-100.100.2.136} iface=${3:-eth0} ipt pos h
	tb__check_form "$form"
	if [ "$form" = nftables ]; then
		h=$(tb_exec "$TB_HOST" nft -a list chain ip filter ts-input 2>/dev/null |
			sed -n -E '/ip saddr 100\.64\.0\.0\/10 .*drop/s/.*# handle ([0-9]+)$/\1/p' | head -n1)
		[ -n "$h" ] || { echo "tb_exception: no CGNAT drop in ip filter ts-input" >&2; return 1; }
		# `insert ... position H` puts the rule right before rule H.
		tb_exec "$TB_HOST" nft insert rule ip filter ts-input position "$h" \
			iifname "\"$iface\"" ip saddr "$addr" ct state established return
		return
	fi
	if [ "$form" = legacy ]; then ipt=iptables-legacy; else ipt=iptables-nft; fi
	# The DROP's position among ts-input's rules (-S prints -N first).
	pos=$(tb_exec "$TB_HOST" "$ipt" -w -S ts-input 2>/dev/null |
		awk '/^-A ts-input / { n++ } /^-A ts-input -s 100\.64\.0\.0\/10 ! -i [^ ]+ -j DROP$/ { print n; exit }')
	[ -n "$pos" ] || { echo "tb_exception: no CGNAT drop in ts-input ($form)" >&2; return 1; }
	tb_exec "$TB_HOST" "$ipt" -w -I ts-input "$pos" -s "$addr/32" -i "$iface" \
		-m conntrack --ctstate ESTABLISHED -j RETURN
}

tb_chain_rules() {
	local form=$1 fam=$2 table=$3 chain=$4 ipt
	tb__check_form "$form"
	if [ "$form" = nftables ]; then
		[ "$fam" = 4 ] && fam=ip || fam=ip6
		# The chain's body without its declaration and braces; counters
		# without their values, so listings compare across runs.
		tb_exec "$TB_HOST" nft list chain "$fam" "$table" "$chain" |
			sed -n -E '/^\tchain /,/^\t}/{ /^\tchain |^\t}|^\t\ttype /d; s/^\t+//; s/counter packets [0-9]+ bytes [0-9]+/counter/; p }'
		return "${PIPESTATUS[0]}"
	fi
	if [ "$form" = legacy ]; then ipt=iptables-legacy; else ipt=iptables-nft; fi
	[ "$fam" = 6 ] && ipt=${ipt/iptables/ip6tables}
	tb_exec "$TB_HOST" "$ipt" -w -t "$table" -S "$chain" | sed -n "s/^-A $chain //p"
	return "${PIPESTATUS[0]}"
}

tb_fw_dump() {
	tb__check_form "$1"
	case $1 in
	legacy) tb_exec "$TB_HOST" iptables-legacy-save && tb_exec "$TB_HOST" ip6tables-legacy-save ;;
	nft) tb_exec "$TB_HOST" iptables-nft-save && tb_exec "$TB_HOST" ip6tables-nft-save ;;
	nftables) tb_exec "$TB_HOST" nft list ruleset ;;
	esac
}

# --- Tailscale's policy routing (wgengine/router/osrouter) -----------------

tb_ts_routing() {
	local variant=$1 fam
	case $variant in
	peers | exitnode | exitnode-throw-provider) ;;
	*) tb_die "unknown routing variant '$variant' (peers, exitnode, exitnode-throw-provider)" ;;
	esac
	for fam in -4 -6; do
		ip -n "$TB_HOST" $fam rule add pref 5210 fwmark "$TB_TS_BYPASS_MARK/$TB_TS_MASK" table main &&
			ip -n "$TB_HOST" $fam rule add pref 5230 fwmark "$TB_TS_BYPASS_MARK/$TB_TS_MASK" table default &&
			ip -n "$TB_HOST" $fam rule add pref 5250 fwmark "$TB_TS_BYPASS_MARK/$TB_TS_MASK" unreachable &&
			ip -n "$TB_HOST" $fam rule add pref 5270 table 52 || return 1
	done
	ip -n "$TB_HOST" route add 100.69.1.2/32 dev "$TB_TUN" table 52 &&
		ip -n "$TB_HOST" route add 100.90.3.4/32 dev "$TB_TUN" table 52 &&
		ip -n "$TB_HOST" route add 100.100.100.100/32 dev "$TB_TUN" table 52 &&
		ip -n "$TB_HOST" -6 route add fd7a:115c:a1e0::2/128 dev "$TB_TUN" table 52 &&
		ip -n "$TB_HOST" -6 route add fd7a:115c:a1e0::53/128 dev "$TB_TUN" table 52 || return 1
	case $variant in
	exitnode*)
		ip -n "$TB_HOST" route add default dev "$TB_TUN" table 52 &&
			ip -n "$TB_HOST" -6 route add default dev "$TB_TUN" table 52 &&
			ip -n "$TB_HOST" route add throw 172.24.0.0/18 table 52 &&
			ip -n "$TB_HOST" -6 route add throw fd00:cafe::/64 table 52 || return 1
		;;
	esac
	if [ "$variant" = exitnode-throw-provider ]; then
		ip -n "$TB_HOST" route add throw 100.100.0.0/16 table 52 &&
			ip -n "$TB_HOST" -6 route add throw fd00:cafe:1::/64 table 52 || return 1
	fi
}

tb_ts_unroute() {
	local fam pref
	for fam in -4 -6; do
		for pref in 5210 5230 5250 5270; do
			while ip -n "$TB_HOST" $fam rule del pref $pref 2>/dev/null; do :; done
		done
		ip -n "$TB_HOST" $fam route flush table 52 2>/dev/null || true
	done
}
