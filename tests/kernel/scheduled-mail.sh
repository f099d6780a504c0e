#!/usr/bin/env bash
# The scheduled audit, run exactly as cgnatcheck-audit.service runs it (its
# ExecStart, expanded the way systemd does with its Environment= and the
# EnvironmentFile) and as the cron.d line runs it, in the Alibaba scenario
# with a fake sendmail that records its arguments and standard input:
#   clean, first run                 -> no mail (a clean first run is no news)
#   clean again                      -> no mail
#   Tailscale's rules installed      -> one mail: subject "<host>: blocked (...)"
#   unchanged problem (the cron line) -> one mail again (problem,change: a
#                                       problem is mailed at every run)
#   unchanged problem, --mail-on change -> no mail
#   after cgnatcheck --fix           -> one mail: "fixed, all ... reachable"
#   clean again                      -> no mail
#   ufw enabled beside the fixed Tailscale, and firewalld instead (real
#   packages, in the namespace; every target still reachable)
#                                    -> no mail, exit 0 (their catch-all
#                                       drops are no problem)
# The mail is parsed: headers, MIME structure, the text report, the JSON
# attachment (schema 1). An address and a provider name full of shell
# metacharacters arrive verbatim and are never run. A failing sendmail (exit
# 75), a missing one and an unwritable state directory give exit 3 and say so.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
. "$top_srcdir/tests/lib/netns/firewalls.sh"
tb_test_init python3 ufw firewalld firewall-cmd dbus-daemon
tb_audit_env WORK
BEFORE=$(fw_host_state)
mkdir -p "$WORK/local" "$WORK/dmi" "$WORK/etc/default" "$WORK/mail" "$WORK/bin"
export CGNATCHECK_RESOLVED_CONF="$WORK/none"
MARK=$WORK/interpreted
HOST=$(hostname)

# A provider whose name is a shell injection, detected from DMI, with the
# resolver the host uses (the namespace's resolv.conf names it too).
cat >"$WORK/local/meta.conf" <<POLICY
[Provider]
Name=meta\$(touch $MARK)\`touch $MARK\`
Description=a policy with shell metacharacters; \$(touch $MARK)
MatchSysVendor=Meta Cloud

[Service]
Name=dns
Description=the resolver
Role=dns
Address=100.100.2.136
Protocol=udp tcp
Port=53
Direction=outbound
POLICY
echo "Meta Cloud" >"$WORK/dmi/sys_vendor"

# The fake sendmail: argv one per line and stdin, to numbered files.
cat >"$WORK/bin/sendmail" <<SCRIPT
#!/bin/sh
n=\$(ls "$WORK/mail" | grep -c '^msg\.' || true)
printf '%s\n' "\$@" >"$WORK/mail/argv.\$n"
cat >"$WORK/mail/msg.\$n"
exit "\${FAKE_SENDMAIL_STATUS:-0}"
SCRIPT
chmod +x "$WORK/bin/sendmail"
export CGNATCHECK_SENDMAIL="$WORK/bin/sendmail"

# The settings file, as an operator would write it; the address is one a
# shell would run a command for.
ADDR="ops\`touch\${IFS}$MARK\`\$HOME@example.com"
cp "$top_srcdir/scripts/default/cgnatcheck" "$WORK/etc/default/cgnatcheck"
printf "CGNATCHECK_MAIL_TO='%s'\n" "$ADDR" >>"$WORK/etc/default/cgnatcheck"
# the cron job runs only once the admin switched it on (as the README says)
sed -i 's/^CGNATCHECK_CRON=.*/CGNATCHECK_CRON=yes/' "$WORK/etc/default/cgnatcheck"
grep -qx 'CGNATCHECK_CRON=yes' "$WORK/etc/default/cgnatcheck" || tb_die "no CGNATCHECK_CRON line to switch on"

tb_scenario
mkdir -p "/etc/netns/$TB_HOST"
echo "nameserver 100.100.2.136" >"/etc/netns/$TB_HOST/resolv.conf"

# cgnatcheck-audit.service's command line, expanded as systemd does: the
# unit's Environment=, then the EnvironmentFile=; "${VAR}" inside a word,
# "$VAR" as a word of its own split at whitespace.
sed -e "s|@sbindir@|$top_builddir|g" -e "s|@sysconfdir@|$WORK/etc|g" \
	"$top_srcdir/scripts/systemd/cgnatcheck-audit.service.in" >"$WORK/cgnatcheck-audit.service"
unit_argv() { # UNIT [NAME=VALUE...]: overrides as if set in the EnvironmentFile
	python3 - "$@" <<'PY'
import re, shlex, sys
env, cmd = {}, None
for line in open(sys.argv[1]):
    line = line.strip()
    key, _, val = line.partition("=")
    if key == "Environment":
        for w in shlex.split(val):
            k, _, v = w.partition("=")
            env[k] = v
    elif key == "EnvironmentFile":
        for l in open(val.lstrip("-")):
            l = l.strip()
            if l and not l.startswith("#"):
                k, _, v = l.partition("=")
                env[k] = " ".join(shlex.split(v))
    elif key == "ExecStart":
        cmd = val
for o in sys.argv[2:]:
    k, _, v = o.partition("=")
    env[k] = v
argv = []
for w in shlex.split(cmd):
    m = re.fullmatch(r"\$([A-Za-z_]\w*)", w)
    if m:
        argv += env.get(m.group(1), "").split()
    else:
        argv.append(re.sub(r"\$\{([A-Za-z_]\w*)\}", lambda m: env.get(m.group(1), ""), w))
sys.stdout.write("".join(a + "\0" for a in argv))
PY
}
mapfile -d '' ARGV < <(unit_argv "$WORK/cgnatcheck-audit.service")
t_expect "the unit's command" "$top_builddir/cgnatcheck --quiet --mail-to=$ADDR --mail-on=problem,change --metrics-file=" "${ARGV[*]}"

nmail() { ls "$WORK/mail" | grep -c '^msg\.' || true; }
job() { # LABEL WANT-EXIT WANT-NEW-MAILS [ARGV...]: one run of the scheduled job in the host
	local label=$1 want=$2 mails=$3 before status=0
	shift 3
	before=$(nmail)
	[ $# -gt 0 ] || set -- "${ARGV[@]}"
	tb_exec "$TB_HOST" "$@" >"$WORK/out" 2>"$WORK/err" || status=$?
	t_expect "$label: exit status" "$want" "$status"
	t_expect "$label: mails sent" "$mails" "$(($(nmail) - before))"
	[ "$status" -ne 3 ] || [ "$want" -eq 3 ] || cat "$WORK/err" >&2
	LAST=$((before + mails - 1))
}
# the mail, parsed: prints "key<TAB>value" lines
mail_facts() { # N
	python3 - "$WORK/mail/msg.$1" <<'PY'
import email, email.policy, json, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
for h in ("From", "To", "Subject", "Auto-Submitted", "MIME-Version"):
    print(f"{h}\t{m[h]}")
print("has-date\t%s" % bool(m["Date"] and m["Date"].datetime))
print("has-message-id\t%s" % bool(m["Message-ID"]))
print("type\t" + m.get_content_type())
parts = list(m.iter_parts())
print("parts\t" + " ".join(p.get_content_type() for p in parts))
# every boundary line is the declared boundary: opening, between, closing
b = m.get_boundary()
lines = raw.decode().split("\n")
print("boundaries\t%d %d" % (lines.count("--" + b), lines.count("--" + b + "--")))
text = parts[0].get_content()
open(sys.argv[1] + ".txt", "w").write(text)
js = json.loads(parts[1].get_content() if isinstance(parts[1].get_content(), str) else parts[1].get_content().decode())
print("attachment\t" + parts[1].get_filename())
print("schema\t%s" % js["schema"])
print("exit_status\t%s" % js["exit_status"])
print("verdicts\t" + " ".join(sorted(set(t["verdict"] for t in js["targets"]))))
print("provider\t%s" % js["provider"])
PY
}
fact() { sed -n "s/^$1\t//p" <<<"$FACTS"; }

# 1. clean: no mail, the first time and the second
job "clean, first run" 0 0
[ -s "$WORK/state/last-audit.json" ] && t_ok "the result is kept in the state directory" ||
	t_fail "no $WORK/state/last-audit.json"
job "clean, unchanged" 0 0

# 2. Tailscale's rules: one mail, saying blocked
tb_ts_install legacy new
tb_ts_routing peers
job "blocked" 2 1
FACTS=$(mail_facts "$LAST")
case $(fact Subject) in "[cgnatcheck] $HOST: blocked ("*" targets)") t_ok "subject: host and verdict ($(fact Subject))" ;;
	*) t_fail "subject: $(fact Subject)" ;; esac
t_expect "To: the address, verbatim" "$ADDR" "$(fact To)"
case $(fact From) in *"@$HOST"*) t_ok "From: $(fact From)" ;; *) t_fail "From: $(fact From)" ;; esac
t_expect "Auto-Submitted" auto-generated "$(fact Auto-Submitted)"
t_expect "Date parses" True "$(fact has-date)"
t_expect "Message-ID present" True "$(fact has-message-id)"
t_expect "multipart/mixed" multipart/mixed "$(fact type)"
t_expect "a text part and a JSON attachment" "text/plain application/json" "$(fact parts)"
t_expect "boundaries: two separators and the closing one" "2 1" "$(fact boundaries)"
t_expect "the JSON attachment: schema 1" 1 "$(fact schema)"
t_expect "the JSON attachment: exit status 2" 2 "$(fact exit_status)"
case $(fact attachment) in "cgnatcheck-"*".json") t_ok "attachment named $(fact attachment)" ;;
	*) t_fail "attachment name: $(fact attachment)" ;; esac
t_expect "sendmail's arguments: -oi -- ADDR" "-oi -- $ADDR" "$(tr '\n' ' ' <"$WORK/mail/argv.$LAST" | sed 's/ $//')"
grep -qF -- '-A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP' "$WORK/mail/msg.$LAST.txt" &&
	t_ok "the text names the rule" || t_fail "the text does not name the rule: $(head -30 "$WORK/mail/msg.$LAST.txt")"
grep -qF "meta\$(touch $MARK)\`touch $MARK\`" "$WORK/mail/msg.$LAST.txt" &&
	t_ok "the provider's name is in the text verbatim" || t_fail "provider name not verbatim in the text"
t_expect "the provider's name is in the JSON verbatim" "meta\$(touch $MARK)\`touch $MARK\`" "$(fact provider)"
grep -q "cgnatcheck --fix --dry-run" "$WORK/mail/msg.$LAST.txt" && t_ok "the text says what to do" ||
	t_fail "no advice in the text"
grep -q "^cgnatcheck: mailed\|^  blocked" "$WORK/out" && t_ok "--quiet still prints the problem on stdout" ||
	t_fail "stdout: $(cat "$WORK/out")"

# 3. the problem persists: mailed again by the cron line (problem,change),
# not with --mail-on change
cron=$(sed -e "s|@sbindir@|$top_builddir|g" -e "s|@sysconfdir@|$WORK/etc|g" "$top_srcdir/scripts/cron.d/cgnatcheck.in" |
	grep -vE '^(#|$|[A-Z]+=)')
read -r _ _ _ _ _ _ cron_cmd <<<"$cron"
# the guard that leaves the job to the timer on a systemd host
cron_cmd=${cron_cmd#"[ -d /run/systemd/system ] || "}
job "unchanged problem, the cron line" 2 1 sh -c "$cron_cmd"
case $(sed -n 's/^Subject: //p' "$WORK/mail/msg.$LAST") in "[cgnatcheck] $HOST: blocked ("*"targets)")
	t_ok "the cron line's mail: the same subject" ;; *) t_fail "cron mail subject: $(grep ^Subject "$WORK/mail/msg.$LAST")" ;; esac
t_expect "the cron line: the same arguments to sendmail" "-oi -- $ADDR" "$(tr '\n' ' ' <"$WORK/mail/argv.$LAST" | sed 's/ $//')"
mapfile -d '' CHANGE_ARGV < <(unit_argv "$WORK/cgnatcheck-audit.service" CGNATCHECK_MAIL_ON=change)
job "unchanged problem, --mail-on change" 2 0 "${CHANGE_ARGV[@]}"
# CGNATCHECK_METRICS_FILE: every run of the unit writes the Prometheus
# textfile (tests/kernel/metrics.sh checks its content)
mapfile -d '' METRICS_ARGV < <(unit_argv "$WORK/cgnatcheck-audit.service" CGNATCHECK_METRICS_FILE="$WORK/cgnatcheck.prom")
job "unchanged problem, with CGNATCHECK_METRICS_FILE" 2 1 "${METRICS_ARGV[@]}"
t_expect "the unit wrote the metrics file" "cgnatcheck_exit_status 2" \
	"$(grep '^cgnatcheck_exit_status ' "$WORK/cgnatcheck.prom" 2>/dev/null || echo missing)"

# 4. a failing sendmail: exit 3 and a message; the change stays due
status=0
FAKE_SENDMAIL_STATUS=75 tb_exec "$TB_HOST" "${ARGV[@]}" --mail-on always >/dev/null 2>"$WORK/err" || status=$?
t_expect "sendmail exits 75: exit status 3" 3 "$status"
grep -q "exited with status 75" "$WORK/err" && t_ok "says sendmail failed, with its status" || t_fail "message: $(cat "$WORK/err")"
status=0
CGNATCHECK_SENDMAIL=/nonexistent/sendmail tb_exec "$TB_HOST" "${ARGV[@]}" >/dev/null 2>"$WORK/err" || status=$?
t_expect "no sendmail: exit status 3" 3 "$status"
grep -q "/nonexistent/sendmail.*install a mail transfer agent" "$WORK/err" && t_ok "says what to install" ||
	t_fail "message: $(cat "$WORK/err")"
# (the failed mails above were recorded by the fake; forget them)
rm -f "$WORK/mail/"*
mkdir "$WORK/ro" && chmod 0555 "$WORK/ro"
status=0
CGNATCHECK_STATE_DIR=$WORK/ro tb_exec "$TB_HOST" "${ARGV[@]}" >/dev/null 2>"$WORK/err" || status=$?
t_expect "unwritable state directory: exit status 3" 3 "$status"
grep -q "$WORK/ro is not writable.*CGNATCHECK_STATE_DIR" "$WORK/err" && t_ok "says the state directory is not writable" ||
	t_fail "message: $(cat "$WORK/err")"
t_expect "unwritable state directory: no mail" 0 "$(nmail)"

# 5. fixed: one mail saying so, then silence
tb_exec "$TB_HOST" "$CGNATCHECK" --fix --quiet >/dev/null 2>"$WORK/err" || t_fail "--fix: $(cat "$WORK/err")"
job "fixed" 0 1
FACTS=$(mail_facts "$LAST")
case $(fact Subject) in "[cgnatcheck] $HOST: fixed, all "*" targets reachable") t_ok "subject: $(fact Subject)" ;;
	*) t_fail "subject after the fix: $(fact Subject)" ;; esac
t_expect "the JSON attachment: exit status 0" 0 "$(fact exit_status)"
t_expect "every target reachable" reachable "$(fact verdicts)"
grep -q "What changed since the last run" "$WORK/mail/msg.$LAST.txt" && t_ok "the text says what changed" ||
	t_fail "no change summary: $(head -20 "$WORK/mail/msg.$LAST.txt")"
job "fixed, unchanged" 0 0

# 6. a firewall beside the fixed Tailscale, every target reachable: no
# problem, no mail (ufw's and firewalld's catch-all drops never see a reply)
t_must fw_ufw_start
job "ufw beside the fixed Tailscale" 0 0
job "ufw beside the fixed Tailscale, the cron line" 0 0 sh -c "$cron_cmd"
tb_exec "$TB_HOST" "$CGNATCHECK" --format json >"$WORK/out.json" 2>/dev/null || true
t_expect "ufw beside the fixed Tailscale: every target reachable, no warning" "reachable 0" \
	"$(tb_json '" ".join(sorted(set(t["verdict"] for t in r["targets"]))) + " " + str(sum(f["severity"] != "info" for f in r["findings"]))')"
t_must fw_ufw --force disable
t_must fw_firewalld_start
job "firewalld beside the fixed Tailscale" 0 0
t_must fw_firewalld_stop
t_expect "the machine's own rulesets and the firewalls' directories are unchanged" "$BEFORE" "$(fw_host_state)"

[ ! -e "$MARK" ] && t_ok "nothing in the address or the policy was run by a shell" ||
	t_fail "$MARK exists: something was interpreted by a shell"
t_done
