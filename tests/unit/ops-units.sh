#!/usr/bin/env bash
# The units, cron file and cloud-init files of scripts/: every shipped unit
# passes `systemd-analyze verify` (beside stubs of tailscaled.service and
# netbird.service, as the real ones are ordered); none uses BindsTo= or
# Requires= on the overlay; the After=/Before= relations of the units, the
# stubs and the system's targets form no cycle (checked by walking the graph:
# verify only sees cycles among jobs of one start transaction, and a
# deliberately cyclic unit proves the walk finds them); the cron line and the
# cloud-init files are well-formed, and the cron job (run with a stand-in
# cgnatcheck) does nothing until CGNATCHECK_CRON=yes; `make install
# DESTDIR=...` puts every file where the README and cgnatcheck(8) say, nothing
# outside the configured directories, and with the default ones nothing
# outside the prefix (no units in /lib/systemd/system, nothing in cloud-init's
# per-boot directory). Runs nothing in any namespace and changes nothing on
# this machine.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"
command -v systemd-analyze >/dev/null || t_skip "needs systemd-analyze (package systemd)"
command -v python3 >/dev/null || t_skip "needs python3"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cgnatcheck-ops.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
S=$top_srcdir/scripts
U=$WORK/units
mkdir -p "$U" "$WORK/etc/default"
cp "$S/default/cgnatcheck" "$WORK/etc/default/"

# the templates, with this build's binary (verify checks that ExecStart exists)
subst() { sed -e "s|@sbindir@|$top_builddir|g" -e "s|@sysconfdir@|$WORK/etc|g" -e "s|@pkgdatadir@|$top_srcdir|g" "$1"; }
units=()
for f in "$S"/systemd/*.service.in; do
	b=$(basename "$f" .in)
	subst "$f" >"$U/$b"
	units+=("$b")
done
cp "$S/systemd/cgnatcheck-audit.timer" "$U/"
units+=(cgnatcheck-audit.timer)
t_expect "four units shipped" "cgnatcheck-audit.service cgnatcheck-firstboot.service cgnatcheck-keep.service cgnatcheck-audit.timer" "${units[*]}"

# stubs ordered as the real ones (tailscale's tailscaled.service, netbird's)
cat >"$U/tailscaled.service" <<'UNIT'
[Unit]
Description=Tailscale node agent (stub)
Wants=network-pre.target
After=network-pre.target NetworkManager.service systemd-resolved.service
[Service]
Type=notify
ExecStart=/bin/true
[Install]
WantedBy=multi-user.target
UNIT
cat >"$U/netbird.service" <<'UNIT'
[Unit]
Description=NetBird (stub)
After=network.target syslog.target
Wants=network.target
[Service]
ExecStart=/bin/true
Restart=always
[Install]
WantedBy=multi-user.target
UNIT

# 1. systemd-analyze verify: nothing but success, each unit and all together
for u in "${units[@]}"; do
	status=0
	(cd "$U" && systemd-analyze verify --man=no "$u") >"$WORK/verify.out" 2>&1 || status=$?
	if [ "$status" -eq 0 ] && [ ! -s "$WORK/verify.out" ]; then
		t_ok "systemd-analyze verify $u: clean"
	else
		t_fail "systemd-analyze verify $u (exit $status): $(cat "$WORK/verify.out")"
	fi
done
status=0
(cd "$U" && systemd-analyze verify --man=no "${units[@]}" tailscaled.service netbird.service) >"$WORK/verify.out" 2>&1 || status=$?
[ "$status" -eq 0 ] && [ ! -s "$WORK/verify.out" ] && t_ok "systemd-analyze verify, all units with the stubs: clean" ||
	t_fail "systemd-analyze verify, all together (exit $status): $(cat "$WORK/verify.out")"
# the timer's OnCalendar= is a real calendar expression
systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$U/cgnatcheck-audit.timer")" >/dev/null &&
	t_ok "OnCalendar= parses" || t_fail "OnCalendar= does not parse"

# 2. no lifecycle ties to the overlay, no socket units (seeds 000 and 001)
if grep -nE '^(BindsTo|PartOf|Requires|Requisite|BindToDevice)=' "$U"/cgnatcheck-* >"$WORK/ties"; then
	t_fail "units tie themselves to other units: $(cat "$WORK/ties")"
else
	t_ok "no BindsTo=, PartOf=, Requires=, Requisite= or BindToDevice="
fi
t_expect "no socket units shipped" "" "$(ls "$S"/systemd | grep -E '\.socket' || true)"
for u in cgnatcheck-firstboot.service cgnatcheck-keep.service cgnatcheck-audit.service; do
	grep -q '^After=.*tailscaled\.service' "$U/$u" && t_ok "$u is ordered after tailscaled.service" ||
		t_fail "$u is not ordered after tailscaled.service"
	if grep -q '^Before=' "$U/$u" && [ -n "$(grep '^Before=' "$U/$u" | grep -v '^Before=shutdown.target$')" ]; then
		t_fail "$u orders something after itself: $(grep '^Before=' "$U/$u")"
	else
		t_ok "$u orders nothing after itself (but shutdown.target)"
	fi
done
grep -q -- '--wait-overlay=' "$U/cgnatcheck-firstboot.service" && t_ok "the first-boot hook waits for the overlay's chains" ||
	t_fail "the first-boot hook does not use --wait-overlay"
grep -q '^DefaultDependencies=no' "$U/cgnatcheck-firstboot.service" &&
	t_ok "multi-user.target does not wait for the first-boot hook" || t_fail "first-boot hook delays multi-user.target"

# 3. the ordering graph: ours, the stubs and the system's targets, with
# systemd's implicit dependencies; a cycle anywhere fails
cycle_check() { # UNIT-FILES...
	python3 - "$@" <<'PY'
import glob, os, sys

def parse(path):
    d = {}
    sec = None
    for line in open(path, errors="replace"):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            sec = line.strip("[]")
            continue
        if "=" in line:
            k, v = line.split("=", 1)
            d.setdefault((sec, k.strip()), []).extend(v.split())
    return d

units = {}
for p in glob.glob("/lib/systemd/system/*.target") + glob.glob("/usr/lib/systemd/system/*.target"):
    units.setdefault(os.path.basename(p), parse(p))
for p in sys.argv[1:]:
    units[os.path.basename(p)] = parse(p)

after = {}  # node -> set of nodes it starts after
def edge(a, b):
    after.setdefault(a, set()).add(b)
for name, d in units.items():
    default = d.get(("Unit", "DefaultDependencies"), ["yes"])[-1] not in ("no", "false", "0")
    for b in d.get(("Unit", "After"), []):
        edge(name, b)
    for b in d.get(("Unit", "Before"), []):
        edge(b, name)
    if default and name.endswith((".service", ".timer")):
        edge(name, "sysinit.target")
        edge(name, "basic.target" if name.endswith(".service") else "sysinit.target")
        edge("shutdown.target", name)
    if name.endswith(".timer"):
        edge(name, "time-set.target")
    for t in d.get(("Install", "WantedBy"), []) + d.get(("Install", "RequiredBy"), []):
        # a target is ordered after what it wants, unless that opts out
        if t.endswith(".target") and default:
            edge(t, name)

state = {}
def visit(n, path):
    state[n] = 1
    for m in sorted(after.get(n, ())):
        if state.get(m) == 1:
            print("ordering cycle: " + " -> ".join(path[path.index(m):] + [m]) + " (each starts after the next)")
            return True
        if m not in state and visit(m, path + [m]):
            return True
    state[n] = 2
    return False
for n in sorted(after):
    if n not in state and visit(n, [n]):
        sys.exit(1)
PY
}
if out=$(cycle_check "$U"/*.service "$U"/*.timer); then
	t_ok "no ordering cycle among the units, the stubs and the system's targets"
else
	t_fail "$out"
fi
# the walk must be able to fail: seed 000's shape (ordered after tailscaled,
# which starts after basic.target, and before basic.target)
cat >"$WORK/bad.service" <<'UNIT'
[Unit]
DefaultDependencies=no
After=tailscaled.service
Before=basic.target
[Service]
ExecStart=/bin/true
UNIT
if out=$(cycle_check "$U"/*.service "$WORK/bad.service"); then
	t_fail "the cycle check missed a deliberate cycle"
else
	t_ok "the cycle check finds a deliberate cycle ($out)"
fi

# 4. the cron line: six fields and a command, the address one argument
cron=$(subst "$S/cron.d/cgnatcheck.in")
line=$(grep -vE '^(#|$|[A-Z]+=)' <<<"$cron")
t_expect "one job line in the cron file" 1 "$(grep -c . <<<"$line")"
read -r m h dom mon dow user cmd <<<"$line"
[[ "$m $h" =~ ^[0-9]+\ [0-9]+$ ]] && [ "$dom $mon $dow" = "* * *" ] && t_ok "daily at a fixed time ($h:$m)" ||
	t_fail "schedule: $m $h $dom $mon $dow"
t_expect "runs as root" root "$user"
case $cmd in *%*) t_fail "a % in a cron command is a newline to cron" ;; *) t_ok "no % in the command" ;; esac
sh -n -c "$cmd" && t_ok "the command parses as sh" || t_fail "the command does not parse"
case $cmd in *'--mail-to="${CGNATCHECK_MAIL_TO:-root}"'*) t_ok "the address is passed as one argument" ;;
	*) t_fail "the address is not one quoted argument: $cmd" ;; esac
# the job, run for real with a stand-in cgnatcheck (and a path for "booted
# with systemd" that does not exist): nothing until CGNATCHECK_CRON=yes
mkdir -p "$WORK/cron/bin" "$WORK/cron/etc/default"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/cron/args"\n' "$WORK" >"$WORK/cron/bin/cgnatcheck"
chmod +x "$WORK/cron/bin/cgnatcheck"
cp "$S/default/cgnatcheck" "$WORK/cron/etc/default/"
cronjob=$(sed -e "s|@sbindir@|$WORK/cron/bin|g" -e "s|@sysconfdir@|$WORK/cron/etc|g" \
	-e "s|/run/systemd/system|$WORK/cron/no-systemd|g" "$S/cron.d/cgnatcheck.in" | grep -vE '^(#|$|[A-Z]+=)')
read -r _ _ _ _ _ _ cronjob <<<"$cronjob"
sh -c "$cronjob" && t_ok "the cron job exits 0 with the shipped settings" || t_fail "the cron job failed"
[ ! -e "$WORK/cron/args" ] && t_ok "the cron job does nothing with the shipped settings (CGNATCHECK_CRON=no)" ||
	t_fail "the cron job ran cgnatcheck before CGNATCHECK_CRON=yes: $(cat "$WORK/cron/args")"
grep -c '^CGNATCHECK_CRON=' "$S/default/cgnatcheck" | grep -qx 1 && t_ok "the shipped settings set CGNATCHECK_CRON once" ||
	t_fail "CGNATCHECK_CRON is not set exactly once in scripts/default/cgnatcheck"
# the README's way to turn it on: one sed on the shipped key
sed -i -e 's/^CGNATCHECK_CRON=.*/CGNATCHECK_CRON=yes/' -e 's/^CGNATCHECK_MAIL_TO=.*/CGNATCHECK_MAIL_TO=ops@example.com/' \
	"$WORK/cron/etc/default/cgnatcheck"
sh -c "$cronjob" && t_ok "the cron job exits 0 once enabled" || t_fail "the cron job failed once enabled"
t_expect "the enabled cron job runs the audit with the address" "--quiet --mail-to=ops@example.com --mail-on=problem,change --metrics-file=" \
	"$(tr '\n' ' ' <"$WORK/cron/args" 2>/dev/null | sed 's/ $//')"
t_expect "one CGNATCHECK_MAIL_TO line after the README's edit" 1 "$(grep -c '^CGNATCHECK_MAIL_TO=' "$WORK/cron/etc/default/cgnatcheck")"
rm -f "$WORK/cron/args"
mkdir "$WORK/cron/no-systemd"
sh -c "$cronjob" && [ ! -e "$WORK/cron/args" ] && t_ok "the cron job does nothing on a host booted with systemd" ||
	t_fail "the cron job ran on a host booted with systemd"

# 5. cloud-init
perboot=$(subst "$S/cloud-init/per-boot/cgnatcheck.in")
sh -n -c "$perboot" && t_ok "the per-boot script parses as sh" || t_fail "the per-boot script does not parse"
subst "$S/cloud-init/cloud-config.yaml.in" >"$WORK/cloud-config.yaml"
python3 - "$WORK/cloud-config.yaml" <<'PY' && t_ok "the cloud-config is a #cloud-config with a list-form runcmd" || t_fail "cloud-config"
import sys
text = open(sys.argv[1]).read()
assert text.startswith("#cloud-config\n")
try:
    import yaml
except ImportError:
    yaml = None
if yaml:
    doc = yaml.safe_load(text)
    cmd = doc["runcmd"][0]
    assert isinstance(cmd, list) and cmd[1:3] == ["--fix", "--quiet"], cmd
else:
    assert "cgnatcheck, --fix, --quiet" in text
PY
# the per-boot script, run for real with a stand-in cgnatcheck: it passes the
# settings as arguments and its exit status is cgnatcheck's
mkdir -p "$WORK/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/args"\nexit "${FAKE_STATUS:-0}"\n' "$WORK" >"$WORK/bin/cgnatcheck"
chmod +x "$WORK/bin/cgnatcheck"
sed -e "s|@sbindir@|$WORK/bin|g" -e "s|@sysconfdir@|$WORK/etc|g" "$S/cloud-init/per-boot/cgnatcheck.in" >"$WORK/perboot"
printf 'CGNATCHECK_ARGS="--policy alibaba --dns 100.100.2.136"\nCGNATCHECK_WAIT_OVERLAY=7\n' >>"$WORK/etc/default/cgnatcheck"
status=0
PATH=/nonexistent:/usr/bin:/bin sh "$WORK/perboot" 2>/dev/null || status=$?
t_expect "per-boot script: exit 0 when cgnatcheck succeeds" 0 "$status"
t_expect "per-boot script: the arguments" "--fix --quiet -v --wait-overlay=7 --policy alibaba --dns 100.100.2.136" \
	"$(tr '\n' ' ' <"$WORK/args" | sed 's/ $//')"
status=0
FAKE_STATUS=2 sh "$WORK/perboot" 2>"$WORK/perboot.err" || status=$?
t_expect "per-boot script: cgnatcheck's status 2 is reported" 2 "$status"
grep -q "still blocked" "$WORK/perboot.err" && t_ok "per-boot script: says what status 2 means" ||
	t_fail "per-boot script message: $(cat "$WORK/perboot.err")"

# 6. make install DESTDIR=...: every file where documented
if [ -f "$top_builddir/Makefile" ]; then
	unset MAKEFLAGS MFLAGS MAKELEVEL
	eval "$(make -s -C "$top_builddir" ops-print-dirs)"
	D=$WORK/dest
	if make -s -C "$top_builddir" install DESTDIR="$D" >"$WORK/install.log" 2>&1; then
		t_ok "make install DESTDIR=... succeeds"
	else
		t_fail "make install: $(tail -20 "$WORK/install.log")"
	fi
	for f in "$sbindir/cgnatcheck" \
		"$systemdsystemunitdir/cgnatcheck-firstboot.service" \
		"$systemdsystemunitdir/cgnatcheck-audit.service" \
		"$systemdsystemunitdir/cgnatcheck-audit.timer" \
		"$systemdsystemunitdir/cgnatcheck-keep.service" \
		"$sysconfdir/cron.d/cgnatcheck" \
		"$sysconfdir/default/cgnatcheck" \
		"$docdir/examples/cgnatcheck" \
		"$pkgdatadir/cloud-init/per-boot/cgnatcheck" \
		"$pkgdatadir/cloud-init/cloud-config.yaml" \
		"$pkgdatadir/policies/tailscale.conf" \
		"$pkgdatadir/policies/alibaba.conf" \
		"$mandir/man8/cgnatcheck.8"; do
		[ -f "$D$f" ] && t_ok "installed $f" || t_fail "not installed: $f"
	done
	[ -x "$D$pkgdatadir/cloud-init/per-boot/cgnatcheck" ] && t_ok "the per-boot script is executable" ||
		t_fail "the per-boot script is not executable"
	# cloud-init runs whatever is in its per-boot directory (--fix at every
	# boot): only a build configured --with-cloudinitscriptsdir puts it there
	if [ -n "$cloudinitscriptsdir" ]; then
		[ -x "$D$cloudinitscriptsdir/per-boot/cgnatcheck" ] && t_ok "--with-cloudinitscriptsdir: the hook in $cloudinitscriptsdir/per-boot" ||
			t_fail "configured --with-cloudinitscriptsdir=$cloudinitscriptsdir, but no executable hook there"
	else
		t_expect "no cloud-init per-boot script outside $pkgdatadir" "" \
			"$(cd "$D" && find . -path '*/per-boot/*' ! -path ".$pkgdatadir/*" | sed 's|^\.||')"
	fi
	# nothing lands outside the directories this build was configured with;
	# with the default ones, that is the prefix
	outside=$(cd "$D" && find . ! -type d | sed 's|^\.||' | while read -r f; do
		case $f in "$prefix"/* | "$sysconfdir"/* | "$systemdsystemunitdir"/*) continue ;; esac
		[ -n "$cloudinitscriptsdir" ] && case $f in "$cloudinitscriptsdir"/*) continue ;; esac
		echo "$f"
	done)
	t_expect "make install writes only under the configured directories" "" "$outside"
	if [ "$default_dirs" = yes ]; then
		outside=$(cd "$D" && find . ! -type d | sed 's|^\.||' | grep -v "^$prefix/" || true)
		t_expect "default configuration: make install stays inside the prefix $prefix" "" "$outside"
	fi
	grep -q "^ExecStart=$sbindir/cgnatcheck " "$D$systemdsystemunitdir/cgnatcheck-firstboot.service" &&
		t_ok "installed units run the installed binary" || t_fail "installed unit's ExecStart: $(grep ExecStart= "$D$systemdsystemunitdir/cgnatcheck-firstboot.service")"
	grep -rl '@[a-z]*dir@' "$D" >"$WORK/unsubst" 2>/dev/null || true
	t_expect "no @dir@ left unsubstituted" "" "$(cat "$WORK/unsubst")"
	# a second install keeps an edited /etc/default/cgnatcheck
	echo "CGNATCHECK_MAIL_TO=ops@example.com" >>"$D$sysconfdir/default/cgnatcheck"
	make -s -C "$top_builddir" install DESTDIR="$D" >"$WORK/install.log" 2>&1 || true
	grep -q "ops@example.com" "$D$sysconfdir/default/cgnatcheck" && t_ok "install keeps an edited /etc/default/cgnatcheck" ||
		t_fail "install overwrote /etc/default/cgnatcheck"
else
	t_fail "no Makefile in $top_builddir"
fi
t_done
