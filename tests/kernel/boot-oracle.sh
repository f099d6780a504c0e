#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The boot oracle: what systemd really does at boot with each field report's
# shape (issue 16; seeds 000, 001 and 002), in containers that boot this
# machine's own systemd (tests/lib/nspawn/lib.sh). Each case boots a machine
# with the units of that shape and asserts what systemd did. What systemd
# printed is recorded here, word for word, for the audit's analysis and its
# integration test to match on (systemd 252, Debian 12; "<job>" is one of the
# cycle's jobs, which one varies from boot to boot):
#
# 1. Seed 000, a socket bound to the overlay address before the address
#    exists. tailscaled (a stand-in: Type=notify, ready at once, tailscale0's
#    address 100.101.102.103/32 two seconds later) enabled in
#    multi-user.target; ssh.socket (openssh-server's, enabled in
#    sockets.target) with the report's override
#        [Socket]
#        ListenStream=
#        ListenStream=100.101.102.103:22
#    a. as is: ssh.socket starts with sockets.target, long before tailscaled,
#       and fails for good; is-system-running says "degraded", ssh.socket is
#       the failed unit ("failed failed", Result resources); in the journal
#         ssh.socket: Failed to create listening socket (100.101.102.103:22): Cannot assign requested address
#         ssh.socket: Failed to listen on sockets: Cannot assign requested address
#         ssh.socket: Failed with result 'resources'.
#         Failed to listen on ssh.socket - OpenBSD Secure Shell server socket.
#       Once the address is there, a connection to it is refused: nobody
#       listens, and nothing retries. The next boot of the same machine with
#       a drop-in [Socket] FreeBind=yes beside the override (what a fix
#       writes): "running", nothing failed, the banner read.
#    b. with FreeBind=yes: "Listening on ssh.socket - OpenBSD Secure Shell
#       server socket." in the journal before the address exists
#       ("overlay-standin: 100.101.102.103/32 on tailscale0"); the boot is
#       "running", nothing failed; once the address is there a fresh
#       connection reads the banner. tailscaled killed (its Restart=on-failure
#       brings it back, the address comes again): the socket stays listening
#       and answers again.
#    c. the report's gate v3 as its playbook shipped it on the socket
#       ([Unit] After= and Requires=tailscale-wait-ready.service): an
#       ordering cycle at boot, on the console only (before journald runs):
#         <unit>: Found ordering cycle on <job>/start
#         <unit>: Found dependency on <job>/start
#         ...
#         <unit>: Job <job>/start deleted to break ordering cycle starting with <job>/start
#         [ SKIP ] Ordering cycle found, skipping <unit>
#       the cycle holds ssh.socket, tailscale-wait-ready.service,
#       sockets.target and basic.target (and tailscaled.service, depending
#       on where systemd starts looking). What follows depends on the job
#       deleted: sockets.target's (5 boots of 6 here): ssh.socket waits for
#       the gate and listens, sockets.target never becomes active;
#       tailscale-wait-ready.service's: ssh.socket "inactive dead", never
#       listens. The unit whose job was deleted is never active.
#    d. a gate that works: a socket of its own (not the vendor's ssh.socket,
#       whose Before=sockets.target no drop-in can take back) with
#       DefaultDependencies=no, After= and Requires=tailscale-wait-ready.service,
#       WantedBy=multi-user.target: no cycle, "Listening on" after the
#       address came, the banner read.
#
# 2. Seed 001, a socket bound to an overlay device (BindToDevice=wg0);
#    wg-quick@wg0 (a stand-in: oneshot, wg0 a tun with 10.77.0.1/24,
#    After=network-online.target, default dependencies) enabled in
#    multi-user.target.
#    a. the socket with default dependencies, enabled in sockets.target and
#       ordered after the device's unit (After= and Wants=wg-quick@wg0.service):
#       an ordering cycle, on the console:
#         basic.target: Found ordering cycle on sockets.target/start
#         basic.target: Found dependency on wgsvc.socket/start
#         basic.target: Found dependency on wg-quick@wg0.service/start
#         basic.target: Found dependency on basic.target/start
#         basic.target: Job sockets.target/start deleted to break ordering cycle starting with basic.target/start
#         [ SKIP ] Ordering cycle found, skipping sockets.target
#       (the first unit and the deleted job vary: any of the four). The unit
#       whose job was deleted is not active after the boot, and the boot
#       still ends "running" when that was a target: is-system-running does
#       not see the cycle.
#    b. the cure, as a drop-in on the same socket (still enabled in
#       sockets.target): DefaultDependencies=no, After= and
#       Wants=wg-quick@wg0.service: no cycle (a unit with
#       DefaultDependencies=no gets no After= from the target that wants
#       it), the socket listening, sockets.target active, the banner read on
#       wg0.
#    c. BindToDevice=wg0 with nothing else, default dependencies: in this
#       container systemd adds no dependency on the device
#       (sys-subsystem-net-devices-wg0.device: device units need udev, which
#       a container with a read-only /sys has not; BindsTo= stays empty),
#       starts the socket with sockets.target, before wg0 exists, and
#       (in the journal)
#         wgplain.socket: Failed to create listening socket ([::]:444): No such device
#         wgplain.socket: Failed with result 'resources'.
#       On a host with udev the socket would instead BindsTo= and After= the
#       device and wait for it (the job timeout, 90 s by default): the
#       report's long boot. Either way nothing listens at boot.
#
# 3. Seed 002, a port held by a process outside the unit.
#    patch-api-enroll.service (the leftover enrollment run; the same
#    program, port-service, on 12443) starts first and holds 0.0.0.0:12443;
#    port-service@12443.service (Type=notify, Restart=on-failure, RestartSec=3)
#    then crash-loops for ever: the boot finishes "running" (a unit waiting
#    to restart is not failed), the unit is "activating auto-restart" with
#    MainPID 0 and Result exit-code, NRestarts grows by one every ~3 s; in
#    the journal, each round:
#      Failed to bind to 0.0.0.0:12443: Address already in use
#      port-service@12443.service: Main process exited, code=exited, status=1/FAILURE
#      port-service@12443.service: Failed with result 'exit-code'.
#      Failed to start port-service@12443.service - cgt-nb port service on 12443.
#      port-service@12443.service: Scheduled restart job, restart counter is at N.
#    The holder: ss shows users:(("port-service",pid=P,fd=3)) on
#    0.0.0.0:12443, /proc/P/cgroup ends in /system.slice/patch-api-enroll.service.
#    The same service with RestartSec=100ms hits systemd's start limit (5
#    starts in 10 s) and stops trying: after "restart counter is at 5",
#      port-service-fast.service: Start request repeated too quickly.
#    and it is "failed failed", NRestarts 5, Result exit-code.
#
# 4. Seed 000's v1 and v2: ssh.socket (as in 1a) plus After= and
#    BindsTo=tailscaled.service (v1), or Requires= (v2).
#    a. Both make the same ordering cycle at boot, on the console (the
#       ordering does it: the socket's default Before=sockets.target and
#       tailscaled's default After=basic.target; which requirement is beside
#       After= does not matter), members ssh.socket, tailscaled.service,
#       sockets.target, basic.target; systemd deletes one start job:
#       tailscaled.service's (then tailscaled never runs: the host is off
#       the tailnet, and ssh.socket does not start either), or
#       sockets.target's (then ssh.socket fails as in 1a), ...
#    b. Once all four are active (an admin started tailscaled and restarted
#       ssh.socket and sockets.target, as the report's fixes do), poweroff
#       meets the same cycle between the stop jobs, in the journal:
#         <unit>: Found ordering cycle on <job>/stop
#         <unit>: Found dependency on <job>/stop
#         ...
#         <unit>: Job <job>/stop deleted to break ordering cycle starting with <job>/stop
#       (the report's "shutdown-time ordering cycle"; with Requires= too).
#    c. Where they differ: tailscaled killed and restarted by systemd
#       (Restart=on-failure; the address comes back 4 s later: a drop-in
#       sets STANDIN_DELAY=4, room for a loaded machine).
#       BindsTo=: "ssh.socket: Deactivated successfully." and it stays
#       "inactive dead" after tailscaled is back: refused.
#       Requires=: the restart reaches the socket, which binds again at once,
#       before the address: "Cannot assign requested address", "failed
#       failed" (Result resources): refused too. Only FreeBind (1b) lives
#       through the overlay daemon's restart.
#
# 5. The bed itself: after each poweroff nothing of the machine remains
#    (nb_leftovers); a test killed with SIGTERM while its machine runs ends
#    130 and leaves no process, cgroup or directory behind.
#
# Boot-time cycles are only on the console (nb_console): in a container
# PID 1 logs to the console until journald runs, and journald has no kmsg to
# read them back from. On a host they are in the journal too.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/nspawn/lib.sh"
. "$top_srcdir/tests/lib/nspawn/checks.sh"
nb_test_init ss

# --- 1. seed 000: the bind before the address -----------------------------

case_bind() {
	local U j
	ts_units U
	ssh_override "$U"
	boot bind "$U"
	t_expect "1a: the boot ends degraded" degraded "$BOOT_STATE"
	t_expect "1a: ssh.socket failed for lack of the address" "failed failed - - resources" \
		"$(nb_unit_state bind ssh.socket)"
	t_expect "1a: the failed units" ssh.socket "$(nb_failed bind)"
	j=$(nb_journal bind -o cat -u ssh.socket)
	expect_grep "1a: the journal says why" \
		"ssh.socket: Failed to create listening socket ($TS_ADDR:22): Cannot assign requested address" "$j"
	expect_grep "1a: and that it failed" "Failed to listen on ssh.socket - OpenBSD Secure Shell server socket." "$j"
	t_expect "1a: tailscaled itself is fine" "active running 0" \
		"$(nb_unit_state bind tailscaled.service | cut -d' ' -f1-3)"
	nb_wait_for bind 60 has_addr bind || t_fail "1a: tailscale0 never got $TS_ADDR"
	t_expect "1a: once the address is there, nobody listens on it" refused "$(probe bind "$TS_ADDR" 22)"
	t_expect "1a: and nothing retried" "failed failed" "$(nb_unit_state bind ssh.socket | cut -d' ' -f1-2)"
	poweroff bind
	# the next boot of the same machine, with FreeBind in a drop-in of
	# its own (what a fix writes, between two boots, into nb_root)
	printf '[Socket]\nFreeBind=yes\n' >"$(nb_root bind)/etc/systemd/system/ssh.socket.d/fix-freebind.conf"
	reboot bind
	t_expect "1a, next boot with FreeBind: running" running "$BOOT_STATE"
	t_expect "1a, next boot: nothing failed" "" "$(nb_failed bind)"
	t_expect "1a, next boot: the journal has two boots" 2 \
		"$(journalctl -D "$NB_DIR/bind/journal" --list-boots --no-pager | grep -cE '^ *-?[0-9]+ [0-9a-f]{32} ')"
	t_expect "1a, next boot: no bind error in this boot's journal" "" \
		"$(nb_journal bind -o cat -u ssh.socket | grep 'Cannot assign' || true)"
	nb_wait_for bind 60 has_addr bind || t_fail "1a, next boot: tailscale0 never got $TS_ADDR"
	t_expect "1a, next boot: a fresh connection reads the banner" "$SSH_BANNER" "$(probe bind "$TS_ADDR" 22)"
	poweroff bind
}

case_freebind() {
	local U j
	ts_units U
	ssh_override "$U" FreeBind=yes
	boot freebind "$U"
	t_expect "1b: FreeBind: the boot ends running" running "$BOOT_STATE"
	t_expect "1b: nothing failed" "" "$(nb_failed freebind)"
	t_expect "1b: ssh.socket listens" "active listening" \
		"$(nb_unit_state freebind ssh.socket | cut -d' ' -f1-2)"
	nb_wait_for freebind 60 has_addr freebind || t_fail "1b: tailscale0 never got $TS_ADDR"
	j=$(nb_journal freebind -o cat)
	if line_before "$j" "Listening on ssh.socket" "overlay-standin: $TS_ADDR/32 on tailscale0"; then
		t_ok "1b: ssh.socket listened before the address existed"
	else
		t_fail "1b: the journal's order: $(grep -e 'ssh.socket' -e overlay-standin <<<"$j")"
	fi
	t_expect "1b: a fresh connection reads the banner" "$SSH_BANNER" "$(probe freebind "$TS_ADDR" 22)"
	# the next reconnect: tailscaled dies, systemd restarts it, the
	# address goes with the device and comes back
	nb_exec freebind systemctl kill -s KILL tailscaled.service
	nb_wait_for freebind 60 restarts_above freebind tailscaled.service 0 ||
		t_fail "1b: tailscaled was not restarted"
	nb_wait_for freebind 60 has_addr freebind || t_fail "1b: the address never came back"
	t_expect "1b: after tailscaled's restart ssh.socket still listens" "active listening" \
		"$(nb_unit_state freebind ssh.socket | cut -d' ' -f1-2)"
	t_expect "1b: and answers" "$SSH_BANNER" "$(probe freebind "$TS_ADDR" 22)"
	poweroff freebind
}

case_gate_on_socket() {
	local U
	ts_units U
	gate_v3 "$U"
	boot gatesock "$U"
	local text deleted s w
	text=$(nb_console gatesock)
	expect_cycle "1c: the gate on ssh.socket" "$text" start \
		"ssh.socket tailscale-wait-ready.service sockets.target basic.target" tailscaled.service
	deleted=$(deleted_jobs "$text" start)
	expect_deleted_inactive 1c gatesock "$deleted"
	nb_wait_for gatesock 60 has_addr gatesock || true
	# which job went decides: the socket's own, the gate's or tailscaled's,
	# and ssh.socket never listens; a target's, and it listens after the gate
	s=$(nb_unit_state gatesock ssh.socket)
	case " $(words "$deleted") " in
	*" ssh.socket "* | *" tailscale-wait-ready.service "* | *" tailscaled.service "*)
		# refused where the address came up, unreachable where tailscaled
		# (which adds it) never started: either way nothing listens
		w=$(probe gatesock "$TS_ADDR" 22)
		case $w in
		refused | unreachable) t_ok "1c: $(words "$deleted") deleted: ssh.socket does not listen ($s, $w)" ;;
		*) t_fail "1c: $(words "$deleted") deleted: ssh.socket does not listen ($s): expected refused or unreachable, got '$w'" ;;
		esac ;;
	*)
		t_expect "1c: $(words "$deleted") deleted: ssh.socket listens after the gate ($s)" "$SSH_BANNER" \
			"$(probe gatesock "$TS_ADDR" 22)" ;;
	esac
	poweroff gatesock
}

case_gate_safe() {
	local U j
	gate_safe_units U
	boot gatesafe "$U"
	t_expect "1d: a working gate: the boot ends running" running "$BOOT_STATE"
	expect_no_cycle "1d: the gate on a socket without default dependencies" gatesafe
	t_expect "1d: the socket listens" "active listening" \
		"$(nb_unit_state gatesafe ts-ssh.socket | cut -d' ' -f1-2)"
	j=$(nb_journal gatesafe -o cat)
	if line_before "$j" "overlay-standin: $TS_ADDR/32 on tailscale0" "Listening on ts-ssh.socket"; then
		t_ok "1d: it listened once the address was there"
	else
		t_fail "1d: the journal's order: $(grep -e ts-ssh.socket -e overlay-standin <<<"$j")"
	fi
	t_expect "1d: a fresh connection reads the banner" "$SSH_BANNER" "$(probe gatesafe "$TS_ADDR" 22)"
	poweroff gatesafe
}

# --- 2. seed 001: BindToDevice=wg0 ------------------------------------------

case_wg_cycle() {
	local U text deleted
	wg_units U
	wg_socket "$U" wgsvc.socket 443
	wg_order "$U" wgsvc.socket
	boot wgcycle "$U"
	text=$(nb_console wgcycle)
	expect_cycle "2a: BindToDevice=wg0 socket ordered after wg-quick@wg0" "$text" start \
		"wgsvc.socket wg-quick@wg0.service sockets.target basic.target" ""
	expect_grep "2a: systemd says which unit it skips" "[ SKIP ] Ordering cycle found, skipping" "$text"
	deleted=$(deleted_jobs "$text" start)
	expect_deleted_inactive 2a wgcycle "$deleted"
	case $deleted in
	*.target) t_expect "2a: a target's job went: the boot still ends running" running "$BOOT_STATE" ;;
	esac
	poweroff wgcycle
}

case_wg_cure() {
	local U j
	wg_units U
	wg_socket "$U" wgsvc.socket 443
	wg_cure "$U" wgsvc.socket
	# 2c in the same boot: BindToDevice and nothing else
	wg_socket "$U" wgplain.socket 444
	boot wgcure "$U"
	expect_no_cycle "2b: DefaultDependencies=no and explicit ordering" wgcure
	t_expect "2b: the socket listens" "active listening" "$(nb_unit_state wgcure wgsvc.socket | cut -d' ' -f1-2)"
	t_expect "2b: sockets.target, which wants it, is active" active "$(nb_show wgcure sockets.target ActiveState)"
	t_expect "2b: no After= from sockets.target on it" "" \
		"$(nb_show wgcure wgsvc.socket Before | tr ' ' '\n' | grep -x sockets.target || true)"
	t_expect "2b: a connection on wg0 reads the banner" "$SSH_BANNER" "$(probe wgcure --dev wg0 10.77.0.1 443)"
	# 2c
	t_expect "2c: BindToDevice alone: no dependency on the device here (no udev in a container)" "" \
		"$(nb_show wgcure wgplain.socket BindsTo)"
	t_expect "2c: the socket failed" "failed failed - - resources" "$(nb_unit_state wgcure wgplain.socket)"
	j=$(nb_journal wgcure -o cat -u wgplain.socket)
	expect_grep "2c: the journal says why" \
		"wgplain.socket: Failed to create listening socket ([::]:444): No such device" "$j"
	t_expect "2c: the failed units" wgplain.socket "$(nb_failed wgcure)"
	t_expect "2c: the boot ends degraded" degraded "$BOOT_STATE"
	poweroff wgcure
}

# --- 3. seed 002: a port held by a process outside the unit ----------------


waiting_restart() { # NAME UNIT: auto-restart with no main process
	local s
	s=$(nb_unit_state "$1" "$2") || return 1
	[[ $s =~ ^activating\ auto-restart\ [0-9]+\ 0\ exit-code$ ]]
}

case_port_holder() {
	local U n1 n2 s j holder cg
	nb_units U
	nb_stock "$U" port-service@.service
	nb_enable "$U" port-service@12443.service multi-user.target
	cat >"$U/patch-api-enroll.service" <<'EOF'
[Unit]
Description=a leftover enrollment run of the same program, holding its port
Before=port-service@12443.service port-service-fast.service

[Service]
Type=notify
ExecStart=/opt/cgt-nb/port-service 12443 enrollment

[Install]
WantedBy=multi-user.target
EOF
	nb_enable "$U" patch-api-enroll.service multi-user.target
	cat >"$U/port-service-fast.service" <<'EOF'
[Unit]
Description=the same service, restarted every 100 ms

[Service]
Type=notify
ExecStart=/opt/cgt-nb/port-service 12443
Restart=on-failure
RestartSec=100ms

[Install]
WantedBy=multi-user.target
EOF
	nb_enable "$U" port-service-fast.service multi-user.target
	boot port "$U"
	t_expect "3: the holder runs" "active running" "$(nb_unit_state port patch-api-enroll.service | cut -d' ' -f1-2)"
	holder=$(nb_show port patch-api-enroll.service MainPID)
	s=$(nb_exec port ss -Htlnp 'sport = :12443')
	expect_grep "3: ss names the holder" "users:((\"port-service\",pid=$holder,fd=3))" "$s"
	cg=$(nb_exec port cat "/proc/$holder/cgroup")
	expect_grep "3: its cgroup is its own unit's" "/system.slice/patch-api-enroll.service" "$cg"
	nb_wait_for port 60 restarts_above port port-service@12443.service 0 ||
		t_fail "3: port-service@12443 was never restarted: $(nb_unit_state port port-service@12443.service)"
	if nb_wait_for port 30 waiting_restart port port-service@12443.service; then
		t_ok "3: between the restarts: $(nb_unit_state port port-service@12443.service)"
	else
		t_fail "3: never seen waiting for a restart with MainPID 0: $(nb_unit_state port port-service@12443.service)"
	fi
	n1=$(nb_show port port-service@12443.service NRestarts)
	if nb_wait_for port 60 restarts_above port port-service@12443.service "$n1"; then
		n2=$(nb_show port port-service@12443.service NRestarts)
		t_ok "3: NRestarts grows ($n1, then $n2)"
	else
		t_fail "3: NRestarts stayed at $n1"
	fi
	t_expect "3: the crash loop is not a failed unit" port-service-fast.service "$(nb_failed port)"
	j=$(nb_journal port -o cat -u port-service@12443.service)
	expect_grep "3: the service says why" "Failed to bind to 0.0.0.0:12443: Address already in use" "$j"
	expect_grep "3: systemd restarts it" "port-service@12443.service: Scheduled restart job, restart counter is at 1." "$j"
	# the start limit
	nb_wait_for port 60 unit_is port port-service-fast.service failed || true
	t_expect "3: RestartSec=100ms: the start limit stops it" "failed failed 5 0 exit-code" \
		"$(nb_unit_state port port-service-fast.service)"
	expect_grep "3: systemd says so" "port-service-fast.service: Start request repeated too quickly." \
		"$(nb_journal port -o cat -u port-service-fast.service)"
	t_expect "3: the port answers, for the holder" enrollment "$(probe port 127.0.0.1 12443)"
	poweroff port
}

# --- 4. seed 000's BindsTo= (v1) and Requires= (v2) ---------------------------

case_bindsto() { # NAME Requires|BindsTo
	local name=$1 dep=$2 U text s
	ts_units U
	ssh_override "$U" "" "[Unit]" After=tailscaled.service "$dep=tailscaled.service"
	# 4c needs ssh.socket's re-bind to come before the address
	ts_delay "$U" 4
	boot "$name" "$U"
	text=$(nb_console "$name")
	expect_cycle "4a: $dep=: at boot" "$text" start \
		"ssh.socket tailscaled.service sockets.target basic.target" ""
	s=$(nb_unit_state "$name" ssh.socket)
	case $s in
	active*) t_fail "4a: $dep=: ssh.socket is active after the cycle: $s" ;;
	*) t_ok "4a: $dep=: ssh.socket is not listening after the boot: $s" ;;
	esac
	# what an admin does next: tailscaled up, the socket restarted
	nb_exec "$name" systemctl start tailscaled.service
	nb_wait_for "$name" 60 has_addr "$name" || t_fail "4: $dep=: tailscale0 never got $TS_ADDR"
	nb_exec "$name" systemctl restart ssh.socket
	nb_exec "$name" systemctl start sockets.target
	t_expect "4: $dep=: started by hand, ssh.socket answers" "$SSH_BANNER" "$(probe "$name" "$TS_ADDR" 22)"
	# 4c: the next reconnect
	nb_exec "$name" systemctl kill -s KILL tailscaled.service
	nb_wait_for "$name" 60 restarts_above "$name" tailscaled.service 0 ||
		t_fail "4c: $dep=: tailscaled was not restarted"
	nb_wait_for "$name" 60 has_addr "$name" || t_fail "4c: $dep=: the address never came back"
	s=$(nb_unit_state "$name" ssh.socket)
	case $dep in
	BindsTo) t_expect "4c: BindsTo=: after tailscaled's restart ssh.socket stays stopped" "inactive dead" \
		"$(cut -d' ' -f1-2 <<<"$s")"
		expect_grep "4c: BindsTo=: systemd stopped it with tailscaled" "ssh.socket: Deactivated successfully." \
			"$(nb_journal "$name" -o cat -u ssh.socket)" ;;
	Requires) t_expect "4c: Requires=: the restart reached ssh.socket, which bound before the address" \
		"failed failed - - resources" "$s" ;;
	esac
	t_expect "4c: $dep=: SSH is gone" refused "$(probe "$name" "$TS_ADDR" 22)"
	# 4b: everything active again, then poweroff
	nb_exec "$name" systemctl start ssh.socket sockets.target
	poweroff "$name"
	expect_cycle "4b: $dep=: at poweroff" "$(nb_journal "$name" -o cat)" stop \
		"ssh.socket tailscaled.service sockets.target basic.target" ""
}

# --- the bed cleans up after itself ------------------------------------------

# A test killed (SIGTERM) while its machine runs: nothing of it remains,
# no process, cgroup, directory or namespace (the namespaces die with the
# processes).
case_cleanup() {
	local marker log pid st nbdir nspawn leader cgs left='' cg p
	marker=$NB_DIR/cleanup.marker
	log=$NB_DIR/cleanup.log
	# shellcheck disable=SC2016 # expanded by the child
	top_srcdir=$top_srcdir bash -c '
		. "$top_srcdir/tests/lib/nspawn/lib.sh"
		nb_init
		nb_units U
		nb_boot k "$U"
		nb_wait_booted k 120 >/dev/null
		echo "$NB_DIR $(cat "$NB_DIR/k/nspawn.pid") $(nb_pid k) $(tr "\n" " " <"$NB_DIR/k/cgroups")" >"$1.tmp"
		mv "$1.tmp" "$1"
		while :; do sleep 0.2; done' child "$marker" >"$log" 2>&1 &
	pid=$!
	if ! wait_file "$marker" 120 "$pid"; then
		t_fail "cleanup: the child never booted its machine: $(cat "$log")"
		kill -KILL "$pid" 2>/dev/null || true
		return
	fi
	read -r nbdir nspawn leader cgs <"$marker"
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	t_expect "cleanup: the child's exit status on SIGTERM" 130 "$st"
	for p in "$nspawn" "$leader"; do
		[ ! -d "/proc/$p" ] || left="$left process $p"
	done
	for cg in $cgs; do
		[ ! -d "$cg" ] || left="$left cgroup $cg"
	done
	[ ! -d "$nbdir" ] || left="$left directory $nbdir"
	t_expect "cleanup: nothing of the killed test's machine remains" "" "$left"
}

# wait_file PATH SECONDS PID: PATH exists (false at the bound or
# when PID ended first)
wait_file() {
	local end=$((SECONDS + $2))
	while [ ! -e "$1" ]; do
		kill -0 "$3" 2>/dev/null || return 1
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

t0=$(t_now_ms)
case_bind
case_freebind
case_gate_on_socket
case_gate_safe
case_wg_cycle
case_wg_cure
case_port_holder
case_bindsto bindsto BindsTo
case_bindsto requires Requires
case_cleanup
echo "boot-oracle: $(($(t_now_ms) - t0)) ms in all" >&2
t_done
