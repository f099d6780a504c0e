#!/usr/bin/env bash
# --metrics-file (issue 18): the Prometheus textfile for node_exporter's
# textfile collector. In the test bed's host, blocked by Tailscale's CGNAT
# drop and then fixed: the file passes `promtool check metrics` (Prometheus'
# own parser and linter), carries one verdict per target (1 for the target's
# verdict, 0 for the others), the findings by severity, the exceptions in
# place and the time of the audit; it is replaced by rename (no temporary
# file left, the inode changes); the scheduled audit (--mail-to) writes it
# too; a label value with a quote and a backslash is escaped; a missing
# directory is a clear error, exit 3, and nothing is written.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3 promtool
tb_audit_env WORK
tb_scenario
mkdir -p "$WORK/textfile" "$WORK/local" "$WORK/dmi"
PROM=$WORK/textfile/cgnatcheck.prom

check_promtool() { # DESC
	local out
	if out=$(promtool check metrics <"$PROM" 2>&1); then
		t_ok "$1: promtool check metrics accepts the file"
	else
		t_fail "$1: promtool check metrics: $out"
	fi
}

# value NAME{LABELS}: the sample's value, by Prometheus' own parse (promtool
# prints nothing of it, so python reads the exposition format's lines)
value() {
	python3 - "$PROM" "$1" <<'PY'
import re, sys
want = sys.argv[2]
for line in open(sys.argv[1]):
    if line.startswith("#"):
        continue
    m = re.match(r'^(\S+?(?:\{.*\})?) (\S+)$', line.rstrip("\n"))
    if m and m.group(1) == want:
        print(m.group(2))
        break
else:
    print("absent")
PY
}

tb_ts_install legacy new
t0=$(date +%s)
tb_audit "blocked" 2 --dns 100.100.2.136 --metrics-file "$PROM"
check_promtool "blocked"
t_expect "blocked: verdict blocked for udp" 1 \
	"$(value 'cgnatcheck_target_verdict{address="100.100.2.136",proto="udp",port="53",direction="outbound",role="dns",origin="cli",verdict="blocked"}')"
t_expect "blocked: verdict reachable is 0" 0 \
	"$(value 'cgnatcheck_target_verdict{address="100.100.2.136",proto="udp",port="53",direction="outbound",role="dns",origin="cli",verdict="reachable"}')"
# the report's own counts, by severity
want_crit=$(tb_json 'sum(f["severity"] == "critical" for f in r["findings"])')
t_expect "blocked: critical findings as the report counts them" "$want_crit" "$(value 'cgnatcheck_findings{severity="critical"}')"
t_expect "blocked: targets blocked" "$(tb_json 'sum(t["verdict"] == "blocked" for t in r["targets"])')" \
	"$(value 'cgnatcheck_targets{verdict="blocked"}')"
t_expect "blocked: exit status" 2 "$(value cgnatcheck_exit_status)"
t_expect "blocked: audit succeeded" 1 "$(value cgnatcheck_audit_success)"
t_expect "blocked: no exceptions yet" 0 "$(value 'cgnatcheck_exceptions{backend="iptables-legacy"}')"
ts=$(value cgnatcheck_last_audit_timestamp_seconds)
t1=$(date +%s)
if python3 -c "import sys; sys.exit(not ($t0 <= float('$ts') <= $t1 + 1))"; then
	t_ok "the time of the audit ($ts) is now"
else
	t_fail "the time of the audit: $ts, not between $t0 and $t1"
fi
t_expect "no temporary file left in the directory" "cgnatcheck.prom" "$(ls "$WORK/textfile")"
t_expect "readable by node_exporter's user" 644 "$(stat -c %a "$PROM")"
inode=$(stat -c %i "$PROM")

tb_audit "fixed" 0 --fix --dns 100.100.2.136 --metrics-file "$PROM"
check_promtool "fixed"
t_expect "fixed: replaced by rename (a new inode)" "different" \
	"$([ "$(stat -c %i "$PROM")" != "$inode" ] && echo different || echo same)"
t_expect "fixed: the verdict after the fix" 1 \
	"$(value 'cgnatcheck_target_verdict{address="100.100.2.136",proto="udp",port="53",direction="outbound",role="dns",origin="cli",verdict="reachable"}')"
t_expect "fixed: two exceptions in place" 2 "$(value 'cgnatcheck_exceptions{backend="iptables-legacy"}')"
t_expect "fixed: exit status" 0 "$(value cgnatcheck_exit_status)"

# the scheduled audit writes it on every run, whatever becomes of the mail
cat >"$WORK/sendmail" <<'EOF2'
#!/bin/sh
cat >/dev/null
EOF2
chmod +x "$WORK/sendmail"
rm -f "$PROM"
tb_audit "scheduled" 0 --mail-to root --sendmail "$WORK/sendmail" --dns 100.100.2.136 --metrics-file "$PROM"
check_promtool "scheduled"
t_expect "scheduled: exit status in the file" 0 "$(value cgnatcheck_exit_status)"

# a label value that needs escaping: a policy's provider name can hold any
# character; a quote and a backslash through --policy FILE's Name=
printf '[Provider]\nName=odd"na\\me\nDescription=x\n' >"$WORK/odd.conf"
tb_audit "escaping" 2 --policy "$WORK/odd.conf" --dns 100.100.2.136 --metrics-file "$PROM"
if [ "$(tb_json 'r["provider"]')" = 'odd"na\me' ]; then
	check_promtool "escaping"
	t_expect "escaping: the provider label, escaped" 1 "$(value 'cgnatcheck_info{version="'"$("$CGNATCHECK" --version | awk '{ print $2 }')"'",provider="odd\"na\\me"}')"
else
	# the policy parser may refuse such a name: then the check is moot
	t_ok "escaping: the policy parser keeps such names out (provider $(tb_json 'r["provider"]'))"
fi

# a missing directory: exit 3, a clear message, nothing written
tb_audit "missing directory" 3 --dns 100.100.2.136 --metrics-file "$WORK/nodir/cgnatcheck.prom"
case "$(cat "$WORK/err")" in *"nodir/cgnatcheck.prom"*"does not exist"*) t_ok "missing directory: says so" ;;
	*) t_fail "missing directory: $(cat "$WORK/err")" ;; esac
[ ! -e "$WORK/nodir" ] && t_ok "missing directory: not created" || t_fail "missing directory: created"

# a failed audit still writes the file, saying so
tb_audit "failed audit" 3 --policy nosuchcloud --dns 100.100.2.136 --metrics-file "$PROM"
check_promtool "failed audit"
t_expect "failed audit: success 0" 0 "$(value cgnatcheck_audit_success)"
t_expect "failed audit: exit status 3" 3 "$(value cgnatcheck_exit_status)"
tb_exec "$TB_HOST" "$CGNATCHECK" --undo >/dev/null
t_done
