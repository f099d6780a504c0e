#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 16's "Done when", end to end, with systemd as the oracle: for each
# field report's shape, cgnatcheck's audit of a machine's units predicts its
# boot, `--fix` makes the next boot clean, and `--undo` restores the unit
# files exactly. The machines are the boot test bed's (tests/lib/nspawn/:
# this machine's /usr booted by systemd-nspawn, the staged /etc/systemd bound
# in); the shapes and what systemd does with them are boot-oracle.sh's
# (tests/lib/nspawn/checks.sh builds them for both tests).
#
# cgnatcheck runs on the host, never inside a machine: on the machine's root
# (nb_host: the staged etc, this machine's /usr bound in, and
# run/systemd/container, so BindToDevice= is read without device units, as
# systemd does in a container), in a network namespace of the test's own,
# with a state directory per machine. `--only-named --offer tcp/22`: nothing
# of this machine's own resolv.conf or provider, so the exit status is the
# units' (critical 2, warning 1, none 0); one plain `--format json` audit
# finds the same.
#
# For each machine:
#   1. before its first boot, the audit's boot-safety findings are exactly
#      the expected ones (code, severity, unit), each saying when it bites
#      ("at the next boot"...), with a verified remedy;
#   2. the boot does what they say: each unit of a BIND_RACES_OVERLAY_ADDRESS
#      finding is the failed unit, for lack of the address ("Cannot assign
#      requested address") or of the device ("No such device", in a
#      container); a BOOT_ORDERING_CYCLE's units are the cycle systemd finds
#      on the console and breaks (boot-oracle's optional members aside), and
#      the unit whose job it deleted is not active;
#   3. powered off, `--fix` writes each predicted remedy (JSON changes
#      "applied" with the file), the files hold the predicted contents, the
#      audit after it has no boot-safety finding; the next
#      boot is "running", nothing failed, no cycle, the services listen and
#      a fresh connection reads the banner once the address exists;
#   4. `--undo` removes exactly those files: the staged etc/systemd is what it
#      was before --fix (diff -r --no-dereference, and the same modes and
#      links: no directory left), and the audit predicts the failure again.
#
# Machines (two boots each): races (seed 000's ListenStream=100.x:22
# override on ssh.socket, and seed 001's BindToDevice=wg0 socket with default
# dependencies beside wg-quick@wg0: both fail at boot, no cycle); sshd (a
# leftover sshd_config ListenAddress 100.x: openssh-server's own ssh.service
# fails, the fix orders it after an address gate); bindsto (BindsTo= and
# After=tailscaled.service on ssh.socket: a cycle); gate3 (the report's gate
# v3 on ssh.socket: a cycle); wgcycle (the BindToDevice=wg0 socket ordered
# after wg-quick@wg0 with default dependencies: a cycle).
# Without a boot: the safe shapes raise nothing (FreeBind=yes, a working
# address gate, DefaultDependencies=no with ordering; with the stock
# tailscaled, only that tailscaled does not wait for network-online.target);
# `--fix --dry-run` writes nothing; a foreign file at a remedy's path is
# refused and nothing of the run is written (exit 3); a read-only directory
# (0555, cgnatcheck without CAP_DAC_OVERRIDE) at each remedy's place: nothing
# of the run written, exit 3, stderr and the JSON agree.
#
# What the bed cannot show: OVERLAY_DAEMON_BEFORE_NETWORK_ONLINE (nothing
# delays network-online.target in a container: its fix is only checked to be
# loaded and harmless).
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"
. "$top_srcdir/tests/lib/nspawn/lib.sh"
. "$top_srcdir/tests/lib/nspawn/checks.sh"
nb_test_init ss ssh-keygen setpriv diff
t_require_built "$CGNATCHECK"
if [ ! -x /usr/sbin/sshd ] || [ ! -f /lib/systemd/system/ssh.service ]; then
	t_skip "needs openssh-server (its ssh.service boots in the bed)"
fi

NS=
tb_ns_add NS bootfix || exit 99
export CGNATCHECK_POLICY_DIR="$top_srcdir/policies" CGNATCHECK_POLICY_LOCAL_DIR="$NB_DIR/policy.local" \
	CGNATCHECK_DMI_DIR="$NB_DIR/dmi"

# --- cgnatcheck on a machine's root ------------------------------------------

# what the audit is asked (cg), and what runs it (setpriv for the read-only case)
CG_SCOPE=(--only-named --offer tcp/22)
CG_WRAP=()

# cg NAME OUT [ARGS...]: cgnatcheck --format json on NAME's root, from the
# host, in the test's namespace, with NAME's own state directory; the
# report in $NB_DIR/NAME-OUT.json, stderr in .err, the status in CG_STATUS
cg() {
	local name=$1 out=$NB_DIR/$1-$2
	shift 2
	mkdir -p "$NB_DIR/$name.state"
	CG_STATUS=0
	nb_host "$name" ip netns exec "$NS" env CGNATCHECK_STATE_DIR="$NB_DIR/$name.state" \
		"${CG_WRAP[@]}" "$CGNATCHECK" "${CG_SCOPE[@]}" --format json "$@" >"$out.json" 2>"$out.err" ||
		CG_STATUS=$?
	if [ "$CG_STATUS" = 3 ]; then
		sed 's/^/  (stderr) /' "$out.err" >&2
	fi
}

# js NAME-OUT MODE [ARG]: what a report says, one item a line, sorted:
#   svc        the boot-safety findings: "CODE SEVERITY UNIT"
#   odd        those not "at the next boot" (a cycle: "(and at shutdown)";
#              BindsTo=: "when the overlay daemon next stops or restarts"),
#              or without a verified remedy
#   cycle UNIT UNIT's BOOT_ORDERING_CYCLE: its units, space-separated, when
#              each step waits for the next, the last for the first, each
#              for a reason systemd sees
#   remedies   the remedies' files
#   written ROOT
#              each remedy's file below ROOT that does not hold its content
#   changes    the changes with a file: "RESULT FILE"
#   messages   every change: "RESULT: MESSAGE"
#   exit       the report's exit_status
JS_PY=$(
	cat <<'EOF'
import json, sys
codes = ("BIND_RACES_OVERLAY_ADDRESS", "OVERLAY_DAEMON_BEFORE_NETWORK_ONLINE",
         "BINDS_TO_OVERLAY_DAEMON", "BOOT_ORDERING_CYCLE", "BOOT_DEVICE_WAIT_CYCLE")
r = json.load(open(sys.argv[1]))
mode, arg = sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None
svc = [f for f in r["findings"] if f["code"] in codes]
out = []
if mode == "svc":
    out = [f'{f["code"]} {f["severity"]} {f["unit"]}' for f in svc]
elif mode == "odd":
    when = {"BINDS_TO_OVERLAY_DAEMON": "when the overlay daemon next stops or restarts",
            "BOOT_ORDERING_CYCLE": "at the next boot (and at shutdown)"}
    out = [f'{f["code"]} {f["unit"]}: when {f["when"]!r}, remedy_verified {f["remedy_verified"]}, '
           f'{len(f["remedies"])} remedies' for f in svc
           if f["when"] != when.get(f["code"], "at the next boot") or f["remedy_verified"] is not True
           or not f["remedies"]]
elif mode == "cycle":
    for f in svc:
        if f["code"] != "BOOT_ORDERING_CYCLE" or f["unit"] != arg:
            continue
        c = f["cycle"]
        ok = c and all(s["waits_for"] == c[(i + 1) % len(c)]["unit"] and s["systemd_sees"] is True and s["because"]
                       for i, s in enumerate(c))
        out.append(" ".join(sorted(s["unit"] for s in c)) if ok else "not a closed cycle systemd sees: " + json.dumps(c))
elif mode == "remedies":
    out = list({m["path"] for f in svc for m in f["remedies"]})
elif mode == "written":
    files = {m["path"]: m["content"] for f in svc for m in f["remedies"]}
    for path, content in files.items():
        try:
            with open(arg + path) as fh:
                if fh.read() != content:
                    out.append(path + ": another content")
        except OSError as e:
            out.append(path + ": " + e.strerror)
elif mode == "changes":
    out = [f'{c["result"]} {c["file"]}' for c in r["changes"] if c.get("file")]
elif mode == "messages":
    out = [f'{c["result"]}: {c["message"]}' for c in r["changes"]]
elif mode == "exit":
    out = [str(r["exit_status"])]
print("\n".join(sorted(out)))
EOF
)
# (/usr/bin/python3, which the bed requires: the first python3 on PATH may
# be a wrapper that takes longer to start than the script runs)
js() {
	/usr/bin/python3 -I -S -c "$JS_PY" "$NB_DIR/$1.json" "${@:2}"
}

# svc_units NAME-OUT CODE: the units of CODE's findings
svc_units() {
	js "$1" svc | awk -v c="$2" '$1 == c { print $3 }'
}

# etc_listing DIR: every entry below DIR with its type, mode and link
etc_listing() {
	(cd "$1" && find . -printf '%p %y %m %l\n' | sort)
}

# predict NAME OUT WANT STATUS: the audit of NAME's root: the boot-safety
# findings WANT ("CODE SEVERITY UNIT" lines), exit STATUS, each finding
# when it bites (js odd) with a verified remedy
predict() {
	local name=$1 out=$2 want=$3 status=$4
	cg "$name" "$out"
	t_expect "$name, $out: exit status" "$status" "$CG_STATUS"
	t_expect "$name, $out: the boot-safety findings" "$want" "$(js "$name-$out" svc)"
	t_expect "$name, $out: each at the next boot, its remedy verified" "" "$(js "$name-$out" odd)"
}

# expect_predicted_cycle NAME UNIT OPTIONAL: the cycle predicted for UNIT
# (NAME-before) is the one systemd found and broke on the console of the
# boot (its units all there, and nothing beyond them and OPTIONAL); the unit
# whose job was deleted is not active
expect_predicted_cycle() {
	local name=$1 unit=$2 opt=$3 units text
	units=$(js "$name-before" cycle "$unit")
	text=$(nb_console "$name")
	expect_cycle "$name: the predicted cycle ($units)" "$text" start "$units" "$opt"
	expect_deleted_inactive "$name" "$name" "$(deleted_jobs "$text" start)"
}

# fix NAME: --fix on the powered-off machine's root, its etc/systemd copied
# first: each predicted remedy applied as predicted, and nothing left to find
fix() {
	local name=$1 root
	root=$(nb_root "$name")
	rm -rf "$NB_DIR/$name.etc"
	cp -a "$root/etc/systemd" "$NB_DIR/$name.etc"
	cg "$name" fix --fix
	t_expect "$name, --fix: exit status (the audit after it finds nothing)" 0 "$CG_STATUS"
	t_expect "$name, --fix: each predicted remedy applied" \
		"$(js "$name-before" remedies | sed 's/^/applied /')" "$(js "$name-fix" changes)"
	t_expect "$name, --fix: the files hold the predicted contents" "" "$(js "$name-before" written "$root")"
	t_expect "$name, --fix: the audit after it: no boot-safety finding" "" "$(js "$name-fix" svc)"
}

# undo NAME: --undo removes what --fix wrote, the directories it made too:
# etc/systemd is what it was, and the audit predicts the first boot again
undo() {
	local name=$1 root d
	root=$(nb_root "$name")
	cg "$name" undo --undo
	t_expect "$name, --undo: exit status" 0 "$CG_STATUS"
	t_expect "$name, --undo: each file --fix wrote removed" \
		"$(js "$name-fix" changes | sed 's/^applied /removed /')" "$(js "$name-undo" changes)"
	if d=$(diff -r --no-dereference "$NB_DIR/$name.etc" "$root/etc/systemd" 2>&1); then
		t_ok "$name, --undo: etc/systemd is byte for byte what it was before --fix"
	else
		t_fail "$name, --undo: etc/systemd differs from before --fix: $d"
	fi
	t_expect "$name, --undo: the same entries, types, modes and links (no directory left)" \
		"$(etc_listing "$NB_DIR/$name.etc")" "$(etc_listing "$root/etc/systemd")"
	t_expect "$name, --undo: the list of the directories it made is gone" no \
		"$([ -e "$NB_DIR/$name.state/unit-dirs" ] && echo yes || echo no)"
	predict "$name" again "$(js "$name-before" svc)" "$(js "$name-before" exit)"
}

# --- the machines -------------------------------------------------------------

# seed 000's override and seed 001's device socket: two binds that fail
case_races() {
	local U W j
	ts_units U
	ssh_override "$U"
	wg_units W
	wg_socket "$W" wgplain.socket 444
	nb_stage races "$U" "$W"
	predict races before "BIND_RACES_OVERLAY_ADDRESS critical ssh.socket
BIND_RACES_OVERLAY_ADDRESS critical wgplain.socket
OVERLAY_DAEMON_BEFORE_NETWORK_ONLINE warning tailscaled.service" 2
	# the default audit (this machine's resolv.conf and all) finds the same
	CG_SCOPE=()
	cg races plain
	CG_SCOPE=(--only-named --offer tcp/22)
	t_expect "races: the default audit: the same boot-safety findings" "$(js races-before svc)" \
		"$(js races-plain svc)"

	boot races
	t_expect "races: the boot ends degraded" degraded "$BOOT_STATE"
	t_expect "races: the failed units are the predicted races" \
		"$(svc_units races-before BIND_RACES_OVERLAY_ADDRESS)" "$(nb_failed races)"
	t_expect "races: ssh.socket failed for want of a resource" "failed failed - - resources" \
		"$(nb_unit_state races ssh.socket)"
	t_expect "races: wgplain.socket too" "failed failed - - resources" "$(nb_unit_state races wgplain.socket)"
	expect_grep "races: ssh.socket: the address" \
		"ssh.socket: Failed to create listening socket ($TS_ADDR:22): Cannot assign requested address" \
		"$(nb_journal races -o cat -u ssh.socket)"
	expect_grep "races: wgplain.socket: the device" \
		"wgplain.socket: Failed to create listening socket ([::]:444): No such device" \
		"$(nb_journal races -o cat -u wgplain.socket)"
	nb_wait_for races 60 has_addr races || t_fail "races: tailscale0 never got $TS_ADDR"
	t_expect "races: once the address is there, nobody listens" refused "$(probe races "$TS_ADDR" 22)"
	poweroff races

	fix races
	reboot races
	t_expect "races, fixed: the boot ends running" running "$BOOT_STATE"
	t_expect "races, fixed: nothing failed" "" "$(nb_failed races)"
	expect_no_cycle "races, fixed" races
	t_expect "races, fixed: ssh.socket listens" "active listening" \
		"$(nb_unit_state races ssh.socket | cut -d' ' -f1-2)"
	t_expect "races, fixed: wgplain.socket listens" "active listening" \
		"$(nb_unit_state races wgplain.socket | cut -d' ' -f1-2)"
	t_expect "races, fixed: tailscaled is ordered after network-online.target" network-online.target \
		"$(nb_show races tailscaled.service After | tr ' ' '\n' | grep -x network-online.target || true)"
	nb_wait_for races 60 has_addr races || t_fail "races, fixed: tailscale0 never got $TS_ADDR"
	j=$(nb_journal races -o cat)
	if line_before "$j" "Listening on ssh.socket" "overlay-standin: $TS_ADDR/32 on tailscale0"; then
		t_ok "races, fixed: ssh.socket listened before the address existed (FreeBind)"
	else
		t_fail "races, fixed: the journal's order: $(grep -e 'ssh.socket' -e overlay-standin <<<"$j")"
	fi
	t_expect "races, fixed: a fresh connection to the address reads the banner" "$SSH_BANNER" \
		"$(probe races "$TS_ADDR" 22)"
	t_expect "races, fixed: one on wg0 too" "$SSH_BANNER" "$(probe races --dev wg0 10.77.0.1 444)"
	poweroff races
	undo races
}

# a leftover sshd ListenAddress: openssh-server's own ssh.service
case_sshd() {
	local U j gate banner
	nb_units U
	nb_stock "$U" tailscaled.service
	nb_enable "$U" tailscaled.service multi-user.target
	# the address 4 s after tailscaled is ready: sshd, which starts beside
	# it, binds well before even on a loaded machine
	ts_delay "$U" 4
	sshd_units "$U"
	nb_stage sshd "$U"
	sshd_etc sshd "ListenAddress $TS_ADDR"
	predict sshd before "BIND_RACES_OVERLAY_ADDRESS critical ssh.service
OVERLAY_DAEMON_BEFORE_NETWORK_ONLINE warning tailscaled.service" 2

	boot sshd
	t_expect "sshd: the boot ends degraded" degraded "$BOOT_STATE"
	t_expect "sshd: the failed unit is the predicted one" \
		"$(svc_units sshd-before BIND_RACES_OVERLAY_ADDRESS)" "$(nb_failed sshd)"
	t_expect "sshd: ssh.service failed, not restarted (exit 255)" "failed failed 0 0 exit-code" \
		"$(nb_unit_state sshd ssh.service)"
	# the whole journal: sshd exits at once, and journald may read the
	# lines of so short a process after it is gone, when it can no longer
	# tell its unit (they then miss from `-u ssh.service`)
	j=$(nb_journal sshd -o cat)
	expect_grep "sshd: sshd says why" \
		"error: Bind to port 22 on $TS_ADDR failed: Cannot assign requested address." "$j"
	expect_grep "sshd: and gives up" "fatal: Cannot bind any address." "$j"
	poweroff sshd

	fix sshd
	gate=$(js sshd-before remedies | sed -n 's|^/etc/systemd/system/\([^/]*\.service\)$|\1|p')
	reboot sshd
	t_expect "sshd, fixed: the boot ends running" running "$BOOT_STATE"
	t_expect "sshd, fixed: nothing failed" "" "$(nb_failed sshd)"
	expect_no_cycle "sshd, fixed" sshd
	t_expect "sshd, fixed: ssh.service runs" "active running 0" \
		"$(nb_unit_state sshd ssh.service | cut -d' ' -f1-3)"
	t_expect "sshd, fixed: after the address gate ($gate)" "active exited" \
		"$(nb_unit_state sshd "${gate:-none.service}" | cut -d' ' -f1-2)"
	j=$(nb_journal sshd -o cat)
	if line_before "$j" "overlay-standin: $TS_ADDR/32 on tailscale0" "Server listening on $TS_ADDR port 22."; then
		t_ok "sshd, fixed: sshd bound the address once it existed"
	else
		t_fail "sshd, fixed: the journal's order: $(grep -e 'Server listening' -e overlay-standin <<<"$j")"
	fi
	banner=$(probe sshd "$TS_ADDR" 22)
	case $banner in
	SSH-2.0-OpenSSH_*) t_ok "sshd, fixed: a fresh connection reads sshd's banner ($banner)" ;;
	*) t_fail "sshd, fixed: a fresh connection: expected an SSH-2.0-OpenSSH_ banner, got '$banner'" ;;
	esac
	poweroff sshd
	undo sshd
}

# after= and BindsTo=tailscaled.service on ssh.socket (seed 000's v1)
case_bindsto() {
	local U
	ts_units U
	ssh_override "$U" "" "[Unit]" After=tailscaled.service BindsTo=tailscaled.service
	nb_stage bindsto "$U"
	predict bindsto before "BINDS_TO_OVERLAY_DAEMON warning ssh.socket
BIND_RACES_OVERLAY_ADDRESS critical ssh.socket
BOOT_ORDERING_CYCLE critical ssh.socket
OVERLAY_DAEMON_BEFORE_NETWORK_ONLINE warning tailscaled.service" 2
	t_expect "bindsto: the cycle's units" "basic.target sockets.target ssh.socket tailscaled.service" \
		"$(js bindsto-before cycle ssh.socket)"

	boot bindsto
	expect_predicted_cycle bindsto ssh.socket ""
	case $(nb_unit_state bindsto ssh.socket) in
	active*) t_fail "bindsto: ssh.socket is active after the cycle" ;;
	*) t_ok "bindsto: ssh.socket does not listen after the boot" ;;
	esac
	poweroff bindsto

	fix bindsto
	reboot bindsto
	t_expect "bindsto, fixed: the boot ends running" running "$BOOT_STATE"
	t_expect "bindsto, fixed: nothing failed" "" "$(nb_failed bindsto)"
	expect_no_cycle "bindsto, fixed" bindsto
	t_expect "bindsto, fixed: ssh.socket binds to nothing" "" "$(nb_show bindsto ssh.socket BindsTo)"
	t_expect "bindsto, fixed: ssh.socket listens" "active listening" \
		"$(nb_unit_state bindsto ssh.socket | cut -d' ' -f1-2)"
	nb_wait_for bindsto 60 has_addr bindsto || t_fail "bindsto, fixed: tailscale0 never got $TS_ADDR"
	t_expect "bindsto, fixed: a fresh connection reads the banner" "$SSH_BANNER" "$(probe bindsto "$TS_ADDR" 22)"
	# the next reconnect (boot-oracle 4c: BindsTo= stopped the socket for good)
	nb_exec bindsto systemctl kill -s KILL tailscaled.service
	nb_wait_for bindsto 60 restarts_above bindsto tailscaled.service 0 ||
		t_fail "bindsto, fixed: tailscaled was not restarted"
	nb_wait_for bindsto 60 has_addr bindsto || t_fail "bindsto, fixed: the address never came back"
	t_expect "bindsto, fixed: after tailscaled's restart ssh.socket still listens" "active listening" \
		"$(nb_unit_state bindsto ssh.socket | cut -d' ' -f1-2)"
	t_expect "bindsto, fixed: and answers" "$SSH_BANNER" "$(probe bindsto "$TS_ADDR" 22)"
	poweroff bindsto
	undo bindsto
}

# the report's gate v3 on ssh.socket
case_gate3() {
	local U j
	ts_units U
	gate_v3 "$U"
	nb_stage gate3 "$U"
	predict gate3 before "BOOT_ORDERING_CYCLE critical ssh.socket
OVERLAY_DAEMON_BEFORE_NETWORK_ONLINE warning tailscaled.service" 2
	t_expect "gate3: the cycle's units" "basic.target sockets.target ssh.socket tailscale-wait-ready.service" \
		"$(js gate3-before cycle ssh.socket)"

	boot gate3
	# systemd may start looking from tailscaled (boot-oracle 1c)
	expect_predicted_cycle gate3 ssh.socket tailscaled.service
	poweroff gate3

	fix gate3
	reboot gate3
	t_expect "gate3, fixed: the boot ends running" running "$BOOT_STATE"
	t_expect "gate3, fixed: nothing failed" "" "$(nb_failed gate3)"
	expect_no_cycle "gate3, fixed" gate3
	t_expect "gate3, fixed: ssh.socket listens" "active listening" \
		"$(nb_unit_state gate3 ssh.socket | cut -d' ' -f1-2)"
	t_expect "gate3, fixed: sockets.target is active" active "$(nb_show gate3 sockets.target ActiveState)"
	j=$(nb_journal gate3 -o cat)
	if line_before "$j" "overlay-standin: $TS_ADDR/32 on tailscale0" "Listening on ssh.socket"; then
		t_ok "gate3, fixed: ssh.socket listened once the address was there (after the gate)"
	else
		t_fail "gate3, fixed: the journal's order: $(grep -e ssh.socket -e overlay-standin <<<"$j")"
	fi
	t_expect "gate3, fixed: a fresh connection reads the banner" "$SSH_BANNER" "$(probe gate3 "$TS_ADDR" 22)"
	poweroff gate3
	undo gate3
}

# the BindToDevice=wg0 socket ordered after wg-quick@wg0 (seed 001's cycle)
case_wgcycle() {
	local U
	wg_units U
	wg_socket "$U" wgsvc.socket 443
	wg_order "$U" wgsvc.socket
	nb_stage wgcycle "$U"
	predict wgcycle before "BOOT_ORDERING_CYCLE critical wgsvc.socket" 2
	t_expect "wgcycle: the cycle's units" "basic.target sockets.target wg-quick@wg0.service wgsvc.socket" \
		"$(js wgcycle-before cycle wgsvc.socket)"

	boot wgcycle
	expect_predicted_cycle wgcycle wgsvc.socket ""
	poweroff wgcycle

	fix wgcycle
	reboot wgcycle
	t_expect "wgcycle, fixed: the boot ends running" running "$BOOT_STATE"
	t_expect "wgcycle, fixed: nothing failed" "" "$(nb_failed wgcycle)"
	expect_no_cycle "wgcycle, fixed" wgcycle
	t_expect "wgcycle, fixed: wgsvc.socket listens" "active listening" \
		"$(nb_unit_state wgcycle wgsvc.socket | cut -d' ' -f1-2)"
	t_expect "wgcycle, fixed: sockets.target is active" active "$(nb_show wgcycle sockets.target ActiveState)"
	t_expect "wgcycle, fixed: a connection on wg0 reads the banner" "$SSH_BANNER" \
		"$(probe wgcycle --dev wg0 10.77.0.1 443)"
	poweroff wgcycle
	undo wgcycle
}

# --- without a boot -----------------------------------------------------------

# online DIR: tailscaled after network-online.target, the operator's drop-in
online() {
	mkdir -p "$1/tailscaled.service.d"
	printf '[Unit]\nWants=network-online.target\nAfter=network-online.target\n' \
		>"$1/tailscaled.service.d/online.conf"
}

# the safe shapes (boot-oracle 1b, 1d, 2b): nothing to find
case_safe() {
	local U daemon="OVERLAY_DAEMON_BEFORE_NETWORK_ONLINE warning tailscaled.service"
	ts_units U
	ssh_override "$U" FreeBind=yes
	nb_stage freebind "$U"
	predict freebind stock "$daemon" 1
	online "$(nb_root freebind)/etc/systemd/system"
	predict freebind safe "" 0

	gate_safe_units U
	nb_stage gatesafe "$U"
	predict gatesafe stock "$daemon" 1
	online "$(nb_root gatesafe)/etc/systemd/system"
	predict gatesafe safe "" 0

	wg_units U
	wg_socket "$U" wgsvc.socket 443
	wg_cure "$U" wgsvc.socket
	nb_stage wgcure "$U"
	predict wgcure safe "" 0
}

# --fix --dry-run, a foreign file, a read-only directory: nothing of the run
# written
case_refuse() {
	local U root ss before files f dir d st
	ts_units U
	ssh_override "$U"
	# tailscaled.service.d exists: each remedy's directory can be made read-only
	ts_delay "$U" 2
	nb_stage refuse "$U"
	root=$(nb_root refuse)
	ss=$root/etc/systemd/system
	predict refuse before "BIND_RACES_OVERLAY_ADDRESS critical ssh.socket
OVERLAY_DAEMON_BEFORE_NETWORK_ONLINE warning tailscaled.service" 2
	files=$(js refuse-before remedies)
	before=$NB_DIR/refuse.etc
	cp -a "$root/etc/systemd" "$before"

	cg refuse dry --fix --dry-run
	t_expect "--dry-run: exit status (the audit's)" 2 "$CG_STATUS"
	t_expect "--dry-run: each file shown" "$(sed 's/^/dry-run /' <<<"$files")" "$(js refuse-dry changes)"
	d=$(diff -r --no-dereference "$before" "$root/etc/systemd" 2>&1) || true
	t_expect "--dry-run: nothing written" "" "$d"
	t_expect "--dry-run: no directory made" "$(etc_listing "$before")" "$(etc_listing "$root/etc/systemd")"

	# someone's own file at the FreeBind drop-in's path
	printf '[Socket]\nFreeBind=no\n' >"$ss/ssh.socket.d/cgnatcheck-freebind.conf"
	rm -rf "$before"
	cp -a "$root/etc/systemd" "$before"
	cg refuse foreign --fix
	t_expect "a foreign file: exit status" 3 "$CG_STATUS"
	t_expect "a foreign file: refused, and the run's other file with it" "$(sed 's/^/refused /' <<<"$files")" \
		"$(js refuse-foreign changes)"
	d=$(diff -r --no-dereference "$before" "$root/etc/systemd" 2>&1) || true
	t_expect "a foreign file: untouched, nothing of the run written" "" "$d"
	t_expect "a foreign file: no directory made" "$(etc_listing "$before")" "$(etc_listing "$root/etc/systemd")"
	expect_grep "a foreign file: the change says whose it is" \
		"/etc/systemd/system/ssh.socket.d/cgnatcheck-freebind.conf is there and is not cgnatcheck's" \
		"$(js refuse-foreign messages)"
	expect_grep "a foreign file: stderr says so" "not written" "$(cat "$NB_DIR/refuse-foreign.err")"
	rm "$ss/ssh.socket.d/cgnatcheck-freebind.conf"

	# a read-only directory at each remedy's place in turn: the first file
	# of the run, and one after another was written beside its place
	CG_WRAP=(setpriv --bounding-set=-dac_override)
	for f in $files; do
		dir=${f%/*}
		rm -rf "$before"
		cp -a "$root/etc/systemd" "$before"
		chmod 0555 "$root$dir"
		cg refuse readonly --fix
		st=$CG_STATUS
		chmod 0755 "$root$dir"
		t_expect "$dir read-only: exit status" 3 "$st"
		t_expect "$dir read-only: the JSON's audit after it: nothing fixed" "$(js refuse-before svc)" \
			"$(js refuse-readonly svc)"
		t_expect "$dir read-only: every file of the run failed" "$(sed 's/^/failed /' <<<"$files")" \
			"$(js refuse-readonly changes)"
		expect_grep "$dir read-only: the change names it and why" \
			"failed: $f cannot be written (Permission denied)" "$(js refuse-readonly messages)"
		expect_grep "$dir read-only: stderr agrees: none written" \
			"the unit files could not be written (see the changes above); none of this run's is in place" \
			"$(cat "$NB_DIR/refuse-readonly.err")"
		d=$(diff -r --no-dereference "$before" "$root/etc/systemd" 2>&1) || true
		t_expect "$dir read-only: nothing of the run written" "" "$d"
		t_expect "$dir read-only: no directory made, no file beside its place" \
			"$(etc_listing "$before")" "$(etc_listing "$root/etc/systemd")"
		t_expect "$dir read-only: nothing on record for --undo" no \
			"$([ -e "$NB_DIR/refuse.state/unit-dirs" ] && echo yes || echo no)"
	done
	CG_WRAP=()
}

t0=$(t_now_ms)
case_safe
case_refuse
case_races
case_sshd
case_bindsto
case_gate3
case_wgcycle
echo "boot-fix: $(($(t_now_ms) - t0)) ms in all" >&2
t_done
