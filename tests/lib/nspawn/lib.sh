# SPDX-License-Identifier: GPL-2.0-or-later
# The boot test bed (sourced by tests): systemd itself is the oracle. Each
# machine is this machine's own /usr booted by systemd-nspawn as a container:
#
#   systemd-nspawn --directory=/ --volatile=yes --private-network
#       --register=no --keep-unit --boot --link-journal=no ... systemd.firstboot=off
#
# --volatile=yes: the container's root is a fresh tmpfs with only /usr from
# this machine (read-only), so /etc starts empty: the only units besides
# /usr/lib's are the ones a test installs. A machine-id is bound in, so the
# boot is not a "first boot" (which would enable every unit by the presets,
# postgresql, firewalld and all). The container has a network namespace of
# its own (--private-network: lo only), is not registered anywhere
# (--register=no, --keep-unit: this machine runs no systemd, and its state is
# never touched), and runs in a cgroup of its own that the bed creates below
# the test's cgroup (cgt-nb<pid>-NAME, in every hierarchy nspawn uses) and
# removes afterwards (without it nspawn --keep-unit makes payload/ and
# supervisor/ in the test's own cgroup, the same for every machine, and
# leaves them behind). The container's PID 1 is reached with nsenter(1).
# Not --volatile=overlay: that keeps this machine's /etc, whose enabled
# units (postgresql, apt timers, getty...) would boot too. nspawn leaves one
# empty directory on this machine, /run/systemd/nspawn-root (its mount
# point for the tmpfs root; /run here is no tmpfs), shared by every machine.
#
# What systemd does in such a container, unlike on a host: device units
# are not supported (no udev: /sys is read-only), so BindToDevice= adds no
# dependency on sys-subsystem-net-devices-DEV.device; PID 1 logs to the
# console until journald runs (no kmsg), so what the boot transaction says
# (ordering cycles) is on the console (nb_console), never in the journal.
#
# What a machine sees (binds):
#   /etc/systemd          the staged directory (read-write): system/ holds
#                         the staged units; a --fix run inside, or between
#                         boots from the host, changes them, and may add
#                         system.control/ (its copies that shadow a unit file
#                         of /etc/systemd/system)
#   /etc/machine-id       a fresh id per machine (read-only)
#   /etc/DIR              each other directory a test put in the root's etc
#                         before nb_start (etc/ssh, etc/sysusers.d...),
#                         read-only
#   /var/log/journal      the persistent journal, kept on the host after
#                         poweroff (journalctl -D reads it)
#   /opt/cgt-nb           tests/lib/nspawn/ (read-only): the helpers below
# Slow or irrelevant units are masked (getty, logind, D-Bus, timers, the
# machine-id commit); default.target is multi-user.target. A test adds
# NB_BOOT_ARGS (systemd's kernel command line, e.g.
# systemd.default_timeout_start_sec=10) before nb_boot.
#
# API (every NAME is [a-z0-9-]+, at most 20 characters):
#   nb_test_init [TOOL...]  a boot test's start: root, systemd-nspawn, nsenter
#                         and the TOOLs (skip, a failure under CI=true), arms
#                         the cleanup
#   nb_init               the same without the checks (a bed in a test that
#                         already checked); chains tb_cleanup (tests/lib/netns)
#                         when that is defined too
#   nb_units VAR          a new empty unit directory, its path in VAR
#   nb_stock DIR FILE...  copies stock stand-in units (tests/lib/nspawn/units/)
#                         into DIR: tailscaled.service, wg-quick@.service,
#                         ssh.socket, ssh@.service, tailscale-wait-ready.service,
#                         port-service@.service
#   nb_enable DIR UNIT TARGET
#                         DIR/TARGET.wants/UNIT -> /etc/systemd/system/UNIT (an
#                         instance foo@x.service points at foo@.service), what
#                         `systemctl enable` writes for WantedBy=TARGET
#   nb_stage NAME UNITDIR...
#                         a machine NAME, not started: each UNITDIR's content
#                         (unit files, drop-in directories, .wants/ symlinks)
#                         copied in turn into its /etc/systemd/system
#   nb_root NAME          prints the machine's root as the host sees it: a
#                         directory with etc/systemd/system (the staged units),
#                         run/systemd/container (its next boot is a
#                         container's), lib, bin, sbin -> usr/... and usr, an
#                         empty directory that nb_host fills
#   nb_host NAME CMD...   runs CMD (a program, not a function) with
#                         CGNATCHECK_HOST_ROOT=$(nb_root NAME), in a mount
#                         namespace of its own where the root's usr is this
#                         machine's /usr (bound read-only), the /usr the
#                         container boots: cgnatcheck reads the units the way
#                         the container's systemd will. (Not a symlink usr ->
#                         /usr: symlinks are resolved inside the root, that
#                         one would lead back to itself.) The root's etc is
#                         the staged one: a `cgnatcheck --fix` run through
#                         nb_host writes the machine's units for its next boot
#   nb_start NAME         boots the staged machine; returns once its PID 1
#                         runs (not once the boot finished). A second
#                         nb_start after nb_poweroff is the next boot: same
#                         machine-id, same journal (-b is the new boot), the
#                         units as they are now (a fix applied in between)
#   nb_boot NAME UNITDIR...
#                         nb_stage and nb_start
#   nb_pid NAME           prints the container's PID 1 (as the host sees it)
#   nb_running NAME       true while the container runs
#   nb_exec NAME CMD...   runs CMD inside (all its namespaces, via nsenter);
#                         stdin is /dev/null, CMD's exit status is returned.
#                         CMD runs outside the container's units: one still
#                         running at poweroff (journalctl -f...) holds up the
#                         shutdown 90 s (systemd-shutdown waits for it)
#   nb_wait_booted NAME [SECONDS]
#                         waits (bounded, 120 s by default) until the boot
#                         finished: `systemctl is-system-running --wait`
#                         inside. Prints the state (running, degraded...);
#                         true for running and degraded, false otherwise or on
#                         the bound (then the job list is on stderr)
#   nb_wait_for NAME SECONDS CMD...
#                         polls CMD (a shell command or function, run on the
#                         host) every 0.2 s until it succeeds; false at the
#                         bound, or when the container is gone
#   nb_journal NAME [JOURNALCTL-ARGS...]
#                         the current boot's journal (the last boot's once the
#                         machine is off; the shutdown's end is not in it,
#                         journald leaves /var/log/journal before the end),
#                         e.g. nb_journal NAME -u ssh.socket -o cat
#   nb_show NAME UNIT PROPERTY
#                         one property's value (systemctl show -P)
#   nb_unit_state NAME UNIT
#                         prints "ActiveState SubState NRestarts MainPID Result"
#                         (a socket has no NRestarts or MainPID: "-")
#   nb_failed NAME        the failed units, one a line, sorted
#   nb_console NAME       the console's text of the last boot (escape
#                         sequences removed): systemd's status lines and what
#                         PID 1 logs before
#                         journald runs, which is where the boot transaction's
#                         "Found ordering cycle" lines are (in a container
#                         PID 1 has no kmsg for journald to read them back
#                         from: they are never in the journal); it runs on to
#                         the final "Powering off."
#   nb_poweroff NAME [SECONDS]
#                         `systemctl poweroff`, then waits (bounded, 60 s by
#                         default) until the container is gone; false when it
#                         had to be killed. The journal and the staged units
#                         stay until the cleanup.
#   nb_leftovers NAME     what of a machine is still there, one a line
#                         ("process PID", "cgroup DIR", "directory DIR"):
#                         nothing once it is off
#   nb_cleanup            powers off (or kills) every machine of the test and
#                         removes its cgroups, namespaces (they die with it)
#                         and files (runs from the trap)
#
# Helpers, inside the container under /opt/cgt-nb (tests/lib/nspawn/):
#   overlay-standin [--delay SECONDS] [--hold] DEV [ADDR/PLEN]
#       what an overlay daemon does at start: creates DEV (a tun), sets it
#       up, tells systemd it is ready (Type=notify, NotifyAccess=all), adds
#       ADDR after SECONDS, then holds (--hold) or exits. Without arguments
#       from the environment: STANDIN_DEV STANDIN_ADDR STANDIN_DELAY.
#   port-service PORT [BANNER]
#       a TCP service on 0.0.0.0:PORT that writes BANNER (a line) to each
#       connection; READY=1 to systemd once it listens; when the port is
#       taken it says "Failed to bind to 0.0.0.0:PORT: Address already in
#       use" and exits 1
#   ssh-standin
#       the per-connection daemon behind the stand-in ssh.socket (Accept=yes,
#       stdin and stdout the connection): writes an SSH identification
#       string (RFC 4253 4.2), then echoes what it reads
#   tcp-probe [--dev DEV] ADDR PORT [SECONDS]
#       connects, prints the first line the peer sends (or "refused",
#       "timeout", "closed", "unreachable"); exit 0 only when a line came
#
# Stand-in units (tests/lib/nspawn/units/, nb_stock): the vendor units' own
# [Unit] dependencies, the helpers above in place of the daemons:
#   tailscaled.service  tailscale's unit (Type=notify, After=network-pre.target
#                       ...): tailscale0 with 100.101.102.103/32 after
#                       STANDIN_DELAY (2 s) seconds; a drop-in changes them
#   wg-quick@.service   wireguard-tools' unit: oneshot, creates %i (a tun)
#                       with 10.77.0.1/24
#   ssh.socket, ssh@.service
#                       openssh-server's units (Debian 12), ssh-standin for
#                       sshd -i
#   tailscale-wait-ready.service
#                       the address gate of seed 000's fix v3, verbatim: a
#                       oneshot After= and Requires=tailscaled.service that
#                       polls until tailscale0 has an IPv4 address
#   port-service@.service
#                       port-service on the instance's port, Type=notify,
#                       Restart=on-failure RestartSec=3 (below systemd's start
#                       limit: a crash loop that never stops, as in the field)

. "${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}/tests/lib/lib.sh"

NB_HELPERS="$top_srcdir/tests/lib/nspawn"
NB_PREFIX="cgt-nb$$-"
# every machine's files: $NB_DIR/NAME/
NB_DIR=
NB_BOOT_ARGS=${NB_BOOT_ARGS:-}

nb_die() {
	echo "ERROR (boot test bed): $*" >&2
	exit 99
}

nb__on_exit() {
	nb_cleanup
	if declare -F tb_cleanup >/dev/null; then tb_cleanup; fi
}

nb__on_signal() {
	nb__on_exit
	trap - EXIT
	exit 130
}

nb_init() {
	t_require_root
	[ -n "$NB_DIR" ] && return 0
	# mode 0755: nspawn binds from it, and the tree may be a clone under
	# /root (0700); the container's root reads it as root anyway
	NB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cgt-nb.XXXXXX") || nb_die "cannot make a temporary directory"
	chmod 0755 "$NB_DIR"
	trap nb__on_exit EXIT
	trap nb__on_signal INT TERM HUP
}

nb_test_init() {
	t_require_root
	t_require_tools systemd-nspawn nsenter journalctl unshare "$@"
	[ -x /usr/lib/systemd/systemd ] || t_skip "needs systemd (/usr/lib/systemd/systemd)"
	# the container's /usr is this machine's: its tools must be there
	[ -x /usr/bin/python3 ] || t_skip "needs /usr/bin/python3"
	[ -x /usr/sbin/ip ] || [ -x /usr/bin/ip ] || t_skip "needs /usr/sbin/ip"
	[ -c /dev/net/tun ] || t_skip "needs /dev/net/tun"
	nb_init
}

nb__dir() { # NAME
	[[ $1 =~ ^[a-z0-9-]{1,20}$ ]] || nb_die "bad machine name '$1' ([a-z0-9-], at most 20)"
	[ -n "$NB_DIR" ] || nb_die "nb_init first"
	printf '%s\n' "$NB_DIR/$1"
}

nb_units() { # VAR
	local nb__u
	[ -n "$NB_DIR" ] || nb_die "nb_init first"
	nb__u=$(mktemp -d "$NB_DIR/units.XXXXXX") || nb_die "cannot make a unit directory"
	printf -v "$1" '%s' "$nb__u"
}

nb_stock() { # DIR FILE...
	local dir=$1 f
	shift
	for f; do
		[ -f "$NB_HELPERS/units/$f" ] || nb_die "no stock unit $f"
		cp "$NB_HELPERS/units/$f" "$dir/$f" || nb_die "cannot copy $f"
	done
}

nb_enable() { # DIR UNIT TARGET
	local dir=$1 unit=$2 target=$3 file
	file=$unit
	# an instance is enabled as a link to its template
	[[ $unit =~ ^([^@]+@)[^.]+(\..+)$ ]] && file=${BASH_REMATCH[1]}${BASH_REMATCH[2]}
	mkdir -p "$dir/$target.wants" || nb_die "cannot make $dir/$target.wants"
	ln -sfn "/etc/systemd/system/$file" "$dir/$target.wants/$unit"
}

nb__mask() { # DIR UNIT...
	local dir=$1 u
	shift
	for u; do ln -sfn /dev/null "$dir/$u"; done
}

nb_stage() { # NAME UNITDIR...
	local d u ss
	d=$(nb__dir "$1")
	shift
	[ ! -f "$d/nspawn.pid" ] || ! nb__alive "$(cat "$d/nspawn.pid")" ||
		nb_die "machine $(basename "$d") is running"
	rm -rf "$d"
	mkdir -p "$d/root/etc/systemd/system" "$d/journal" || nb_die "cannot make $d"
	ss=$d/root/etc/systemd/system
	# the root as cgnatcheck (CGNATCHECK_HOST_ROOT) reads it: the same /usr
	# (nb_host binds it), the next boot a container's
	mkdir -p "$d/root/usr" "$d/root/run/systemd" || nb_die "cannot make $d/root"
	echo systemd-nspawn >"$d/root/run/systemd/container"
	ln -s usr/lib "$d/root/lib"
	ln -s usr/bin "$d/root/bin"
	ln -s usr/sbin "$d/root/sbin"
	# a machine-id: not a first boot (no presets), one journal directory
	tr -d '-' </proc/sys/kernel/random/uuid >"$d/machine-id"
	# short, quiet boots: what a server needs and nothing else
	ln -s /usr/lib/systemd/system/multi-user.target "$ss/default.target"
	nb__mask "$ss" console-getty.service container-getty@.service getty-static.service \
		getty@.service serial-getty@.service systemd-logind.service dbus.service dbus.socket \
		systemd-machine-id-commit.service systemd-tmpfiles-clean.timer \
		systemd-update-utmp-runlevel.service systemd-ask-password-wall.path \
		systemd-ask-password-console.path
	for u; do
		[ -d "$u" ] || nb_die "no unit directory $u"
		cp -a "$u/." "$ss/" || nb_die "cannot copy $u"
	done
}

nb_root() { # NAME
	local d
	d=$(nb__dir "$1")
	[ -d "$d/root" ] || nb_die "machine $1 is not staged"
	printf '%s\n' "$d/root"
}

nb_host() { # NAME CMD...
	local root
	root=$(nb_root "$1")
	shift
	CGNATCHECK_HOST_ROOT=$root unshare --mount --propagation private -- sh -c \
		'mount --bind -o ro /usr "$CGNATCHECK_HOST_ROOT/usr" && exec "$@"' nb_host "$@"
}

# nb__alive PID: true while PID runs (a zombie is gone)
nb__alive() {
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# nb__cgroups NAME: the cgroup directories the machine's nspawn runs in, one
# a line: a child of the test's own cgroup in each hierarchy that nspawn
# uses (the unified one; with the legacy layout name=systemd too)
nb__cgroups() {
	local leaf="$NB_PREFIX$1" line path
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		path=$(sed -n 's/^0:://p' /proc/self/cgroup)
		printf '%s\n' "/sys/fs/cgroup${path%/}/$leaf"
		return
	fi
	while IFS= read -r line; do
		case $line in
		*:name=systemd:*)
			[ -d /sys/fs/cgroup/systemd ] && {
				path=${line##*:name=systemd:}
				printf '%s\n' "/sys/fs/cgroup/systemd${path%/}/$leaf"
			} ;;
		0::*)
			[ -f /sys/fs/cgroup/unified/cgroup.controllers ] && {
				path=${line#0::}
				printf '%s\n' "/sys/fs/cgroup/unified${path%/}/$leaf"
			} ;;
		esac
	done </proc/self/cgroup
}

# nb__rm_cgroup DIR: removes DIR and what is below it, deepest first;
# processes still there (only the machine's) are killed first
nb__rm_cgroup() {
	local dir=$1 i pid
	[ -d "$dir" ] || return 0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ -d "$dir" ] || return 0
		for pid in $(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
		sleep 0.2
	done
	echo "WARNING (boot test bed): cannot remove cgroup $dir" >&2
}

nb_start() { # NAME
	local name=$1 d mname cg pid leader i child e etc=()
	d=$(nb__dir "$name")
	[ -d "$d/root" ] || nb_die "machine $name is not staged"
	[ ! -f "$d/nspawn.pid" ] || ! nb__alive "$(cat "$d/nspawn.pid")" || nb_die "machine $name is running"
	rm -f "$d/nspawn.pid" "$d/leader"
	# the console of this boot only (the last one's kept beside it)
	[ ! -f "$d/console.log" ] || mv -f "$d/console.log" "$d/console.prev.log"
	mname="$NB_PREFIX$name"
	# the test's other directories of etc
	for e in "$d"/root/etc/*/; do
		e=${e%/}
		[ -d "$e" ] && [ "${e##*/}" != systemd ] || continue
		etc+=("--bind-ro=$e:/etc/${e##*/}")
	done
	nb__cgroups "$name" >"$d/cgroups"
	[ -s "$d/cgroups" ] || nb_die "no cgroup hierarchy for nspawn (neither /sys/fs/cgroup/cgroup.controllers nor name=systemd)"
	# shellcheck disable=SC2086 # NB_BOOT_ARGS: words for systemd
	(
		while IFS= read -r cg; do
			mkdir -p "$cg" && echo "$BASHPID" >"$cg/cgroup.procs" || exit 98
		done <"$d/cgroups"
		exec systemd-nspawn --quiet --directory=/ --volatile=yes --private-network \
			--register=no --keep-unit --boot --machine="$mname" --console=read-only \
			--link-journal=no --resolv-conf=off --timezone=off \
			--bind-ro="$d/machine-id:/etc/machine-id" \
			--bind="$d/root/etc/systemd:/etc/systemd" \
			--bind="$d/journal:/var/log/journal" \
			--bind-ro="$NB_HELPERS:/opt/cgt-nb" "${etc[@]}" \
			systemd.firstboot=off $NB_BOOT_ARGS
	) </dev/null >>"$d/console.log" 2>&1 &
	pid=$!
	echo "$pid" >"$d/nspawn.pid"
	# PID 1 of the container: nspawn's child running systemd (nspawn forks
	# twice; the middle one exits)
	leader=
	for ((i = 0; i < 300; i++)); do
		nb__alive "$pid" || break
		for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
			if [ "$(cat "/proc/$child/comm" 2>/dev/null)" = systemd ]; then
				leader=$child
				break 2
			fi
		done
		sleep 0.1
	done
	if [ -z "$leader" ]; then
		echo "ERROR (boot test bed): machine $name did not start; its console:" >&2
		cat "$d/console.log" >&2
		nb__stop "$name" 5
		exit 99
	fi
	echo "$leader" >"$d/leader"
}

nb_boot() { # NAME UNITDIR...
	nb_stage "$@"
	nb_start "$1"
}

nb_pid() { # NAME
	local d
	d=$(nb__dir "$1")
	[ -s "$d/leader" ] || nb_die "machine $1 was never started"
	cat "$d/leader"
}

nb_running() { # NAME
	local d
	d=$(nb__dir "$1")
	[ -s "$d/leader" ] && nb__alive "$(cat "$d/leader")"
}

nb_exec() { # NAME CMD...
	local leader
	leader=$(nb_pid "$1")
	shift
	nb__alive "$leader" || { echo "nb_exec: the machine is not running" >&2; return 125; }
	nsenter --target "$leader" --all -- "$@" </dev/null
}

nb_wait_for() { # NAME SECONDS CMD...
	local name=$1 secs=$2 end
	shift 2
	end=$((SECONDS + secs))
	while :; do
		"$@" && return 0
		nb_running "$name" || return 1
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

nb__manager_up() { # NAME
	nb_exec "$1" test -S /run/systemd/private 2>/dev/null
}

nb_wait_booted() { # NAME [SECONDS]
	local name=$1 secs=${2:-120} end state
	end=$((SECONDS + secs))
	if ! nb_wait_for "$name" "$secs" nb__manager_up "$name"; then
		echo "nb_wait_booted: the manager of $name never came up; its console:" >&2
		nb_console "$name" >&2
		echo down
		return 1
	fi
	state=$(nb_exec "$name" timeout "$((end - SECONDS + 1))" systemctl is-system-running --wait 2>/dev/null) || true
	state=${state:-timeout}
	echo "$state"
	case $state in
	running | degraded) return 0 ;;
	esac
	echo "nb_wait_booted: $name is $state after $secs s; its jobs:" >&2
	nb_exec "$name" systemctl list-jobs --no-pager >&2 || true
	return 1
}

nb_journal() { # NAME [ARGS...]
	local name=$1 d
	d=$(nb__dir "$name")
	shift
	if nb_running "$name"; then
		nb_exec "$name" journalctl -b --no-pager "$@"
	else
		journalctl -D "$d/journal" -b --no-pager "$@"
	fi
}

nb_show() { # NAME UNIT PROPERTY
	nb_exec "$1" systemctl show -P "$3" "$2"
}

nb_unit_state() { # NAME UNIT
	local out k v active='' sub='' nr=- pid=- result=''
	out=$(nb_exec "$1" systemctl show -p ActiveState,SubState,NRestarts,MainPID,Result "$2") || return 1
	while IFS='=' read -r k v; do
		case $k in
		ActiveState) active=$v ;;
		SubState) sub=$v ;;
		NRestarts) nr=$v ;;
		MainPID) pid=$v ;;
		Result) result=$v ;;
		esac
	done <<<"$out"
	echo "$active $sub $nr $pid ${result:--}"
}

nb_failed() { # NAME
	nb_exec "$1" systemctl list-units --failed --plain --no-legend --no-pager --all |
		awk '{ print $1 }' | sort
}

nb_console() { # NAME
	sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/\r//g' "$(nb__dir "$1")/console.log"
}

# nb__stop NAME SECONDS [soft]: ends the machine: poweroff asked (soft), then
# after SECONDS SIGKILL to its PID 1 (the kernel ends its namespaces with
# it); then its cgroups go. False when it had to be killed.
nb__stop() {
	local name=$1 secs=$2 soft=${3:-} d pid leader end clean=0 cg
	d=$(nb__dir "$name")
	pid=$(cat "$d/nspawn.pid" 2>/dev/null) || pid=
	leader=$(cat "$d/leader" 2>/dev/null) || leader=
	if [ -n "$pid" ] && nb__alive "$pid"; then
		if [ -n "$soft" ] && [ -n "$leader" ] && nb__alive "$leader"; then
			nb_exec "$name" systemctl poweroff --no-block >/dev/null 2>&1 ||
				kill -s RTMIN+4 "$leader" 2>/dev/null || true
		fi
		end=$((SECONDS + secs))
		while nb__alive "$pid" && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
		if nb__alive "$pid"; then
			clean=1
			echo "WARNING (boot test bed): machine $name did not power off within $secs s: killed" >&2
			[ -z "$leader" ] || kill -KILL "$leader" 2>/dev/null || true
			end=$((SECONDS + 10))
			while nb__alive "$pid" && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
			nb__alive "$pid" && kill -KILL "$pid" 2>/dev/null
		fi
	fi
	# our child: reaped (not one of a subshell's)
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
	if [ -f "$d/cgroups" ]; then
		while IFS= read -r cg; do nb__rm_cgroup "$cg"; done <"$d/cgroups"
	fi
	# nspawn leaves this (empty) when /run is not a tmpfs
	rmdir "/run/systemd/nspawn/propagate/$NB_PREFIX$name" 2>/dev/null || true
	return "$clean"
}

nb_leftovers() { # NAME
	local d pid cg
	d=$(nb__dir "$1")
	for pid in "$(cat "$d/nspawn.pid" 2>/dev/null)" "$(cat "$d/leader" 2>/dev/null)"; do
		[ -z "$pid" ] || ! nb__alive "$pid" || echo "process $pid"
	done
	if [ -f "$d/cgroups" ]; then
		while IFS= read -r cg; do
			[ ! -d "$cg" ] || echo "cgroup $cg"
		done <"$d/cgroups"
	fi
	[ ! -d "/run/systemd/nspawn/propagate/$NB_PREFIX$1" ] || echo "directory /run/systemd/nspawn/propagate/$NB_PREFIX$1"
}

nb_poweroff() { # NAME [SECONDS]
	nb__stop "$1" "${2:-60}" soft
}

nb_cleanup() {
	local d
	[ -n "$NB_DIR" ] && [ -d "$NB_DIR" ] || return 0
	for d in "$NB_DIR"/*/; do
		[ -f "$d/nspawn.pid" ] || continue
		nb__stop "$(basename "$d")" 20 soft || true
	done
	rm -rf "$NB_DIR"
	NB_DIR=
}
