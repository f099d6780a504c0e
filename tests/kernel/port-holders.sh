#!/usr/bin/env bash
# Who holds a port (issue 16, seed 002), with the kernel as the oracle: in a
# network namespace of its own, processes this test starts hold TCP and UDP
# ports; the collector (tests/kernel/port-holders-run) names every socket's
# holder, and pid, descriptor, inode and command are what ss(8) shows; the
# cgroup and unit are those of the cgroup the test put the process in
# (cgt<pid>-hold.service, cgt<pid>-stray.scope, made below the test's own
# cgroup and removed afterwards). The analysis, on units written here:
#
#   1. the service's own process holds its ports: nothing to say;
#   2. a second copy of the same program, in another cgroup, on another
#      port while the service holds its own: a note, no finding;
#   3. the service's process gone, a copy outside it holds the service's
#      ports and a socket unit's: PORT_HELD_OUTSIDE_UNIT for the service and
#      for the socket unit, naming the pid, its scope, what to stop and what
#      to restart; the offered port lists that holder and its owner.
#   4. capabilities: with only CAP_NET_ADMIN and CAP_NET_RAW left (as the
#      audit keeps after start-up) root cannot read the descriptors of a
#      process with more capabilities: the socket shows no holder and a note
#      says why. A snapshot taken before the drop (port_holders_snapshot())
#      names the holder; a socket opened after it has no holder the dropped
#      process can read, and one closed after it is gone.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
RUN=${top_builddir:-$top_srcdir}/tests/kernel/port-holders-run
tb_test_init python3 ss "$RUN"
# the interpreter itself (python3 on PATH may be a wrapper script that runs it)
PY=$(python3 -c 'import sys; print(sys.executable)')

tb_ns_add NS holders
tb_tmpdir WORK

# ---- cgroups below the test's own, in each hierarchy a unit lives in -------
PH_CGROUPS=()
ph_cgroup_dirs() { # LEAF: the directories, one a line
	local leaf=$1 line path
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		path=$(sed -n 's/^0:://p' /proc/self/cgroup)
		printf '%s\n' "/sys/fs/cgroup${path%/}/$leaf"
		return
	fi
	while IFS= read -r line; do
		case $line in
		*:name=systemd:*)
			[ -d /sys/fs/cgroup/systemd ] && { path=${line##*:name=systemd:}; printf '%s\n' "/sys/fs/cgroup/systemd${path%/}/$leaf"; } ;;
		0::*)
			[ -f /sys/fs/cgroup/unified/cgroup.controllers ] && { path=${line#0::}; printf '%s\n' "/sys/fs/cgroup/unified${path%/}/$leaf"; } ;;
		esac
	done </proc/self/cgroup
}
ph_rm_cgroups() {
	local d i pid
	for d in "${PH_CGROUPS[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$d" 2>/dev/null || true
			[ -d "$d" ] || break
			# only the test's own processes are there
			for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
			sleep 0.2
		done
		[ ! -d "$d" ] || echo "WARNING: cannot remove cgroup $d" >&2
	done
	PH_CGROUPS=()
}
ph_cleanup() { tb_cleanup; ph_rm_cgroups; }
trap ph_cleanup EXIT
trap 'ph_cleanup; trap - EXIT; exit 130' INT TERM HUP

# ph_start LEAF READY CMD...: CMD in the namespace, in cgroup LEAF (every
# hierarchy); its pid in PH_PID once READY exists
ph_start() {
	local leaf=$1 ready=$2 d dirs
	shift 2
	mapfile -t dirs < <(ph_cgroup_dirs "$leaf")
	[ "${#dirs[@]}" -gt 0 ] || tb_die "no cgroup hierarchy to make $leaf in"
	for d in "${dirs[@]}"; do
		if [ ! -d "$d" ]; then
			mkdir "$d" || tb_die "cannot make cgroup $d"
			PH_CGROUPS+=("$d")
		fi
	done
	(
		for d in "${dirs[@]}"; do echo "$BASHPID" >"$d/cgroup.procs" || exit 98; done
		exec ip netns exec "$NS" "$@"
	) &
	PH_PID=$!
	TB_PIDS+=("$PH_PID")
	tb_wait_file "$ready" 20 "$PH_PID" || tb_die "$* did not start"
}

ph_stop() { # PID: one of this test's own processes
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# ---- the program and its units --------------------------------------------
# holdsvc READY PORT...: holds TCP and UDP on each PORT (0.0.0.0), then waits
mkdir -p "$WORK/bin"
cat >"$WORK/bin/holdsvc" <<EOF
#!$PY
import socket, sys, threading
ready, ports = sys.argv[1], sys.argv[2:]
held = []
for p in ports:
    proto, port = p.split("/")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(port)))
    if proto == "tcp":
        s.listen(8)
    held.append(s)
open(ready, "w").close()
threading.Event().wait()
EOF
chmod 755 "$WORK/bin/holdsvc"
chmod 755 "$WORK" "$WORK/bin"

SVC=cgt$$-hold.service
SOCK=cgt$$-sock.socket
SCOPE=cgt$$-stray.scope
P1=12443 P2=12444 P3=12445
ROOT=$WORK/root
mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants" "$ROOT/etc/systemd/system/sockets.target.wants"
cp -r "$top_srcdir/tests/data/units/base/usr" "$ROOT/"
ln -s usr/lib "$ROOT/lib"
ln -s multi-user.target "$ROOT/usr/lib/systemd/system/default.target"
cat >"$ROOT/etc/systemd/system/$SVC" <<EOF
[Unit]
Description=holds tcp and udp $P1

[Service]
ExecStart=$WORK/bin/holdsvc /run/ready tcp/$P1 udp/$P1
Restart=always

[Install]
WantedBy=multi-user.target
EOF
cat >"$ROOT/etc/systemd/system/$SOCK" <<EOF
[Socket]
ListenStream=$P3

[Install]
WantedBy=sockets.target
EOF
ln -s "/etc/systemd/system/$SVC" "$ROOT/etc/systemd/system/multi-user.target.wants/$SVC"
ln -s "/etc/systemd/system/$SOCK" "$ROOT/etc/systemd/system/sockets.target.wants/$SOCK"

collect() { # [ARGS...]: the collector (and analysis) in the namespace
	CGNATCHECK_HOST_ROOT=$ROOT ip netns exec "$NS" "$RUN" "$@"
}

# The oracle: "PROTO PORT INODE PID FD COMM" per holder, as ss shows them,
# and the same from the collector's lines
ss_holders() {
	ip netns exec "$NS" ss -Htulnpe 2>/dev/null | "$PY" -c '
import re, sys
for line in sys.stdin:
    f = line.split()
    proto, port = f[0], f[4].rsplit(":", 1)[1]
    ino = re.search(r"ino:(\d+)", line).group(1)
    for comm, pid, fd in re.findall(r"\(\"([^\"]*)\",pid=(\d+),fd=(\d+)\)", line):
        print(proto, port, ino, pid, fd, comm)
' | sort
}
our_holders() { # OUTPUT
	awk -F'\t' '$1 == "socket" { ino[$2 " " $4] = $6 }
		$1 == "holder" { print $2, $3, ino[$2 " " $3], $4, $5, $6 }' <<<"$1" | sort
}
field() { # OUTPUT KIND COLUMN [MATCH-COLUMN VALUE]
	awk -F'\t' -v k="$2" -v c="$3" -v m="${4:-0}" -v v="${5:-}" '$1 == k && (m == 0 || $m == v) { print $c }' <<<"$1"
}

# ---- 1. the service's own process ------------------------------------------
ph_start "$SVC" "$WORK/r1" "$WORK/bin/holdsvc" "$WORK/r1" "tcp/$P1" "udp/$P1"
pid1=$PH_PID
out=$(collect --analyze --offer "tcp/$P1")
want=$(ss_holders)
t_expect "1: ss lists two sockets of pid $pid1" 2 "$(grep -c " $pid1 " <<<"$want" || true)"
t_expect "1: the collector's holders are ss's (proto, port, inode, pid, fd, comm)" "$want" "$(our_holders "$out")"
t_expect "1: comm" holdsvc "$(field "$out" holder 6 4 "$pid1" | sort -u)"
t_expect "1: the unit from /proc/PID/cgroup" "$SVC" "$(field "$out" holder 7 4 "$pid1" | sort -u)"
cg=$(field "$out" holder 8 4 "$pid1" | sort -u)
case $cg in */"$SVC") t_ok "1: the cgroup path ends with the test's cgroup: $cg" ;; *) t_fail "1: cgroup $cg" ;; esac
grep -qx "$pid1" "$(ph_cgroup_dirs "$SVC" | head -1)/cgroup.procs" && t_ok "1: the kernel has it in that cgroup" ||
	t_fail "1: pid $pid1 is not in $(ph_cgroup_dirs "$SVC" | head -1)"
t_expect "1: the exe" "$(readlink "/proc/$pid1/exe")" "$(field "$out" holder 9 4 "$pid1" | sort -u)"
t_expect "1: the command line" "$PY $WORK/bin/holdsvc $WORK/r1 tcp/$P1 udp/$P1" "$(field "$out" holder 12 4 "$pid1" | sort -u)"
t_expect "1: no finding" "" "$(field "$out" finding 2)"
t_expect "1: the offered port: its holder, in its own unit" "tcp $P1 1 $pid1 $SVC $SVC 0" \
	"$(awk -F'\t' '$1 == "use" { print $2, $3, $4, $5, $7, $8, $9 }' <<<"$out")"

# ---- 2. a second copy on another port --------------------------------------
ph_start "$SCOPE" "$WORK/r2" "$WORK/bin/holdsvc" "$WORK/r2" "tcp/$P2"
pid2=$PH_PID
out=$(collect --analyze)
t_expect "2: the collector's holders are ss's" "$(ss_holders)" "$(our_holders "$out")"
t_expect "2: the copy's unit" "$SCOPE" "$(field "$out" holder 7 4 "$pid2")"
t_expect "2: no finding" "" "$(field "$out" finding 2)"
case $(field "$out" note 2) in
*"pid $pid2 ("*"in $SCOPE)"*"taken for a second copy"*) t_ok "2: a note names it a second copy" ;;
*) t_fail "2: no note on the copy: $(field "$out" note 2)" ;;
esac

# ---- 3. the service's process gone, a copy outside it holds its ports -------
ph_stop "$pid1"
ph_stop "$pid2"
ph_start "$SCOPE" "$WORK/r3" "$WORK/bin/holdsvc" "$WORK/r3" "tcp/$P1" "udp/$P1" "tcp/$P3"
pid3=$PH_PID
out=$(collect --analyze --offer "tcp/$P1")
t_expect "3: the collector's holders are ss's" "$(ss_holders)" "$(our_holders "$out")"
t_expect "3: findings" "PORT_HELD_OUTSIDE_UNIT $SVC $pid3 holdsvc $SCOPE
PORT_HELD_OUTSIDE_UNIT $SOCK $pid3 holdsvc $SCOPE" \
	"$(awk -F'\t' '$1 == "finding" { print $2, $3, $4, $5, $6 }' <<<"$out" | sort)"
msg=$(field "$out" finding 7 3 "$SVC")
for want in "pid $pid3 ($PY $WORK/bin/holdsvc $WORK/r3 tcp/$P1 udp/$P1 tcp/$P3, child of " \
	"in $SCOPE) holds tcp 0.0.0.0:$P1, tcp 0.0.0.0:$P3, udp 0.0.0.0:$P1 outside $SVC" \
	"stop pid $pid3 (it was started outside systemd" "then \`systemctl restart $SVC\`"; do
	case $msg in *"$want"*) t_ok "3: the service's finding says: $want" ;; *) t_fail "3: no '$want' in: $msg" ;; esac
done
msg=$(field "$out" finding 7 3 "$SOCK")
case $msg in *"$SOCK listens on tcp 0.0.0.0:$P3 (ListenStream=$P3, /etc/systemd/system/$SOCK:2)"*"then \`systemctl restart $SOCK\`"*)
	t_ok "3: the socket unit's finding" ;; *) t_fail "3: socket unit: $msg" ;; esac
t_expect "3: the offered port: held outside its owner" "tcp $P1 1 $pid3 $SCOPE $SVC 1" \
	"$(awk -F'\t' '$1 == "use" { print $2, $3, $4, $5, $7, $8, $9 }' <<<"$out")"
# never killed: the holder still runs
kill -0 "$pid3" && t_ok "3: the holder still runs" || t_fail "3: the holder is gone"
ph_stop "$pid3"
out=$(collect --analyze --offer "tcp/$P1")
t_expect "3: once it is stopped, nothing holds the port" "tcp $P1 0 0" \
	"$(awk -F'\t' '$1 == "use" { print $2, $3, $4, $5 }' <<<"$out")"
t_expect "3: and nothing is found" "" "$(field "$out" finding 2)"

# ---- 4. capabilities ------------------------------------------------------------
ph_start "$SVC" "$WORK/r4" "$WORK/bin/holdsvc" "$WORK/r4" "tcp/$P1"
pid4=$PH_PID
ph_start "$SVC" "$WORK/r5" "$WORK/bin/holdsvc" "$WORK/r5" "tcp/$P2"
pid5=$PH_PID
out=$(collect --drop-caps)
t_expect "4: after the drop, without a snapshot: no holder" "" "$(field "$out" holder 4 | sort -u)"
case $(field "$out" note 2) in
*"show no holder: the open files of "*"could not be read ("*"Permission denied). Reading them takes root with CAP_SYS_PTRACE"*)
	t_ok "4: a note says why" ;;
*) t_fail "4: no note on the unreadable holders: $(field "$out" note 2)" ;;
esac
collect --snapshot --drop-caps --pause "$WORK/paused" "$WORK/go" >"$WORK/out4" &
job=$!
tb_wait_file "$WORK/paused" 30 "$job" || tb_die "the collector did not pause"
# after the snapshot: pid5 ends, pid6 opens a socket
ph_stop "$pid5"
ph_start "$SVC" "$WORK/r6" "$WORK/bin/holdsvc" "$WORK/r6" "tcp/$P3"
pid6=$PH_PID
: >"$WORK/go"
wait "$job" || t_fail "4: the collector failed"
out=$(cat "$WORK/out4")
t_expect "4: with the snapshot: the holder read before the drop" "tcp $P1 $pid4 $SVC" \
	"$(awk -F'\t' '$1 == "holder" { print $2, $3, $4, $7 }' <<<"$out")"
t_expect "4: the sockets now: the snapshot's that are left, and the new one" "tcp $P1
tcp $P3" "$(awk -F'\t' '$1 == "socket" { print $2, $4 }' <<<"$out" | sort)"
case $(field "$out" note 2) in
*"1 listening socket (tcp 0.0.0.0:$P3) shows no holder"*) t_ok "4: the new socket's holder is unknown, and said so" ;;
*) t_fail "4: no note on the new socket: $(field "$out" note 2)" ;;
esac

t_done
