# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Checks and unit shapes shared by the boot tests (sourced after
# tests/lib/nspawn/lib.sh): what a machine printed (ordering cycles, deleted
# jobs, lines and their order), waits, boots and poweroffs that record what
# they took, the probe, and the field reports' unit shapes as
# tests/kernel/boot-oracle.sh recorded what systemd does with them
# (tests/kernel/boot-fix.sh checks cgnatcheck's prediction and fix against
# the same shapes).
#
#   cycle_units TEXT PHASE     the units of the ordering cycles in TEXT
#   deleted_jobs TEXT PHASE    the jobs systemd deleted to break one
#   expect_cycle DESC TEXT PHASE REQUIRED OPTIONAL
#   expect_no_cycle DESC NAME  no ordering cycle on NAME's console
#   expect_deleted_inactive DESC NAME UNITS
#                              the units whose jobs were deleted are not active
#   expect_grep DESC PATTERN TEXT
#   line_before TEXT A B       A's first line before B's
#   restarts_above NAME UNIT N, unit_is NAME UNIT STATE, has_addr NAME
#   words TEXT                 TEXT's lines as one line
#   boot NAME [UNITDIR...]     nb_boot (or nb_start of a staged machine), then
#                              waits: the state in BOOT_STATE
#   reboot NAME                the next boot of a machine powered off
#   poweroff NAME              nb_poweroff, nothing of the machine left
#   probe NAME ARGS...         tcp-probe inside: the banner or a word
# Shapes (each VAR gets a new unit directory, nb_units):
#   ts_units VAR               tailscaled and ssh.socket enabled
#   ssh_override DIR [LINE...] seed 000's ListenStream=TS_ADDR:22 override
#   ts_delay DIR SECONDS       tailscaled adds its address SECONDS after it is
#                              ready (a drop-in)
#   gate_v3 DIR                seed 000's gate v3 on ssh.socket (ts_units' DIR)
#   gate_safe_units VAR        a working gate: ts-ssh.socket without default
#                              dependencies, after tailscale-wait-ready
#   wg_units VAR               wg-quick@wg0 enabled, wgsvc@/wgplain@.service
#   wg_socket DIR UNIT PORT    a BindToDevice=wg0 socket in sockets.target
#   wg_order DIR UNIT          UNIT After= and Wants=wg-quick@wg0 (a cycle)
#   wg_cure DIR UNIT           the same with DefaultDependencies=no (the cure)
#   sshd_units DIR             openssh-server's ssh.service (this machine's
#                              /usr) enabled, as `systemctl enable ssh` does
#   sshd_etc NAME [LINE...]    a staged machine's /etc/ssh (sshd_config with
#                              LINEs, a host key) and its sshd user

# the stand-in tailscaled's address, and ssh-standin's identification string
TS_ADDR=100.101.102.103
# shellcheck disable=SC2034 # for the tests that source this
SSH_BANNER="SSH-2.0-OpenSSH_9.2p1 cgt-nb-standin"

# --- checks over what a machine printed ----------------------------------

# cycle_units TEXT PHASE: the units of the ordering cycles in TEXT (PHASE
# start or stop), sorted, one a line
cycle_units() {
	sed -n "s/.*: Found \(ordering cycle\|dependency\) on \(.*\)\/$2\$/\2/p" <<<"$1" | sort -u
}

# deleted_jobs TEXT PHASE: the jobs systemd deleted to break a cycle
deleted_jobs() {
	sed -n "s/.*: Job \(.*\)\/$2 deleted to break ordering cycle starting with .*/\1/p" <<<"$1" | sort -u
}

# in_set WORD SET...: WORD is one of SET
in_set() {
	local w=$1
	shift
	case " $* " in *" $w "*) return 0 ;; esac
	return 1
}

# expect_cycle DESC TEXT PHASE REQUIRED OPTIONAL: a cycle was found and
# broken; its units hold every REQUIRED one (space-separated) and nothing
# outside REQUIRED and OPTIONAL; each deleted job is one of them
expect_cycle() {
	local desc=$1 text=$2 phase=$3 req=$4 opt=$5 units deleted u ok=1
	units=$(cycle_units "$text" "$phase")
	deleted=$(deleted_jobs "$text" "$phase")
	if [ -z "$units" ] || [ -z "$deleted" ]; then
		t_fail "$desc: no ordering cycle found and broken ($phase jobs): $text"
		return
	fi
	for u in $req; do
		grep -qxF "$u" <<<"$units" || ok=0
	done
	for u in $units $deleted; do
		in_set "$u" $req $opt || ok=0
	done
	if [ "$ok" = 1 ]; then
		t_ok "$desc: ordering cycle over $(words "$units") ($phase), job deleted: $(words "$deleted")"
	else
		t_fail "$desc: cycle over '$(words "$units")', deleted '$(words "$deleted")'; expected $req (and maybe $opt)"
	fi
}

# expect_deleted_inactive DESC NAME UNITS: each of UNITS (those whose start
# job systemd deleted to break a cycle) is not active on NAME
expect_deleted_inactive() {
	local u
	for u in $3; do
		case $(nb_show "$2" "$u" ActiveState) in
		active) t_fail "$1: $u is active, though its job was deleted" ;;
		*) t_ok "$1: $u, whose job was deleted, is not active" ;;
		esac
	done
}

# expect_grep DESC PATTERN TEXT: a fixed line in TEXT
expect_grep() {
	if grep -qF -- "$2" <<<"$3"; then t_ok "$1"; else t_fail "$1: no '$2' in: $3"; fi
}

expect_no_cycle() { # DESC NAME
	local text
	text=$(nb_console "$2")
	if grep -q 'ordering cycle' <<<"$text"; then
		t_fail "$1: an ordering cycle: $(grep -i 'cycle\|Found dep' <<<"$text")"
	else
		t_ok "$1: no ordering cycle"
	fi
}

# line_before TEXT A B: A's first line comes before B's first line in TEXT
line_before() {
	local a b
	a=$(grep -nF -- "$2" <<<"$1" | head -1 | cut -d: -f1)
	b=$(grep -nF -- "$3" <<<"$1" | head -1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}

restarts_above() { # NAME UNIT N
	local n
	n=$(nb_show "$1" "$2" NRestarts) || return 1
	[ "$n" -gt "$3" ]
}

unit_is() { # NAME UNIT ACTIVESTATE
	[ "$(nb_show "$1" "$2" ActiveState)" = "$3" ]
}

# words TEXT: TEXT's lines as one line
words() {
	tr '\n' ' ' <<<"$1" | sed 's/ *$//'
}

has_addr() { # NAME
	nb_exec "$1" ip -4 -o address show dev tailscale0 2>/dev/null | grep -qF " $TS_ADDR/32 "
}

# boot NAME [UNITDIR...]: boots (staged from UNITDIRs when given: nb_boot;
# else the machine as staged: nb_start), waits for the end of the boot; the
# state in BOOT_STATE
boot() {
	local t0
	t0=$(t_now_ms)
	if [ $# -gt 1 ]; then nb_boot "$@"; else nb_start "$1"; fi
	BOOT_STATE=$(nb_wait_booted "$1" 120) || true
	echo "boot $1: $BOOT_STATE after $(($(t_now_ms) - t0)) ms" >&2
}

# reboot NAME: the next boot of a machine that was powered off, with its
# units as they are now; the state in BOOT_STATE
reboot() {
	boot "$1"
}

poweroff() { # NAME
	local t0 left
	t0=$(t_now_ms)
	if nb_poweroff "$1" 120; then
		echo "poweroff $1: $(($(t_now_ms) - t0)) ms" >&2
	else
		t_fail "$1: did not power off (killed)"
	fi
	left=$(nb_leftovers "$1")
	[ -z "$left" ] || t_fail "$1: left behind: $left"
}

probe() { # NAME ARGS...: tcp-probe inside, its word or banner
	local name=$1
	shift
	nb_exec "$name" /opt/cgt-nb/tcp-probe "$@" || true
}

# ssh.socket's override, the report's: the Tailscale address only, plus LINES
ssh_override() { # DIR [LINES...]
	local dir=$1 l
	shift
	mkdir -p "$dir/ssh.socket.d"
	{
		printf '[Socket]\nListenStream=\nListenStream=%s:22\n' "$TS_ADDR"
		for l; do printf '%s\n' "$l"; done
	} >"$dir/ssh.socket.d/override.conf"
}

# a unit directory with tailscaled and ssh.socket enabled, in VAR
ts_units() { # VAR
	local tb__u
	nb_units tb__u
	nb_stock "$tb__u" tailscaled.service ssh.socket ssh@.service
	nb_enable "$tb__u" tailscaled.service multi-user.target
	nb_enable "$tb__u" ssh.socket sockets.target
	printf -v "$1" '%s' "$tb__u"
}

ts_delay() { # DIR SECONDS
	mkdir -p "$1/tailscaled.service.d"
	printf '[Service]\nEnvironment=STANDIN_DELAY=%s\n' "$2" >"$1/tailscaled.service.d/delay.conf"
}

# gate_v3 DIR: the report's gate v3 as its playbook shipped it, on the
# socket: an ordering cycle (boot-oracle 1c)
gate_v3() {
	nb_stock "$1" tailscale-wait-ready.service
	nb_enable "$1" tailscale-wait-ready.service multi-user.target
	ssh_override "$1" "" "[Unit]" After=tailscale-wait-ready.service Requires=tailscale-wait-ready.service
}

# gate_safe_units VAR: a gate that works (boot-oracle 1d): a socket of its
# own (not the vendor's ssh.socket, whose Before=sockets.target no drop-in
# can take back) without default dependencies, after the gate
gate_safe_units() {
	local tb__u
	nb_units tb__u
	nb_stock "$tb__u" tailscaled.service tailscale-wait-ready.service ssh@.service
	nb_enable "$tb__u" tailscaled.service multi-user.target
	nb_enable "$tb__u" tailscale-wait-ready.service multi-user.target
	cp "$tb__u/ssh@.service" "$tb__u/ts-ssh@.service"
	cat >"$tb__u/ts-ssh.socket" <<EOF
[Unit]
Description=SSH on the tailnet address, after the address gate
DefaultDependencies=no
After=tailscale-wait-ready.service
Requires=tailscale-wait-ready.service
Before=shutdown.target
Conflicts=shutdown.target

[Socket]
ListenStream=$TS_ADDR:22
Accept=yes

[Install]
WantedBy=multi-user.target
EOF
	nb_enable "$tb__u" ts-ssh.socket multi-user.target
	printf -v "$1" '%s' "$tb__u"
}

# wg_units VAR: wg-quick@wg0 enabled, the per-connection service behind the
# wg0 sockets
wg_units() {
	local tb__u
	nb_units tb__u
	nb_stock "$tb__u" wg-quick@.service ssh@.service
	nb_enable "$tb__u" wg-quick@wg0.service multi-user.target
	cp "$tb__u/ssh@.service" "$tb__u/wgsvc@.service"
	cp "$tb__u/ssh@.service" "$tb__u/wgplain@.service"
	printf -v "$1" '%s' "$tb__u"
}

# wg_socket DIR UNIT PORT: UNIT (enabled in sockets.target) listens on PORT
# on wg0 only, as in the report
wg_socket() {
	cat >"$1/$2" <<EOF
[Unit]
Description=a service on wg0 only

[Socket]
ListenStream=$3
Accept=yes
BindToDevice=wg0

[Install]
WantedBy=sockets.target
EOF
	nb_enable "$1" "$2" sockets.target
}

wg_order() { # DIR UNIT
	mkdir -p "$1/$2.d"
	printf '[Unit]\nAfter=wg-quick@wg0.service\nWants=wg-quick@wg0.service\n' >"$1/$2.d/order.conf"
}

wg_cure() { # DIR UNIT
	mkdir -p "$1/$2.d"
	printf '[Unit]\nDefaultDependencies=no\nAfter=wg-quick@wg0.service\nWants=wg-quick@wg0.service\n' \
		>"$1/$2.d/cure.conf"
}

sshd_units() { # DIR
	mkdir -p "$1/multi-user.target.wants"
	ln -sfn /lib/systemd/system/ssh.service "$1/multi-user.target.wants/ssh.service"
	ln -sfn /lib/systemd/system/ssh.service "$1/sshd.service"
}

# sshd_etc NAME [LINE...]: sshd_config (Debian's Include of sshd_config.d,
# no PAM: the container has no /etc/pam.d) with LINEs in
# sshd_config.d/cgt-nb.conf, a fresh host key, and the privilege separation
# user (systemd-sysusers makes it at boot); nb_start binds them in
sshd_etc() {
	local root l
	root=$(nb_root "$1")
	shift
	mkdir -p "$root/etc/ssh/sshd_config.d" "$root/etc/sysusers.d"
	printf 'Include /etc/ssh/sshd_config.d/*.conf\nHostKey /etc/ssh/ssh_host_ed25519_key\nUsePAM no\n' \
		>"$root/etc/ssh/sshd_config"
	for l; do printf '%s\n' "$l"; done >"$root/etc/ssh/sshd_config.d/cgt-nb.conf"
	ssh-keygen -q -t ed25519 -N '' -C cgt-nb -f "$root/etc/ssh/ssh_host_ed25519_key" </dev/null ||
		nb_die "ssh-keygen failed"
	printf 'u sshd - "sshd privilege separation" /run/sshd\n' >"$root/etc/sysusers.d/cgt-nb-sshd.conf"
}
