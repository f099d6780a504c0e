#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seed 002 in a booted systemd (tests/lib/nspawn/lib.sh): a process outside
# a unit holds the unit's port while systemd restarts the unit, and the
# port-holder analysis, run on the container's sockets (in its network
# namespace) and units (its staged root), names the holder, its unit and
# what to do. One boot of one machine, "box":
#
#   agent.service            port-service on 12443, Type=notify, Restart=always,
#                            RestartSec=3 (below the start limit), enabled
#   port-service@12444       the stock crash-looping service on 12444, enabled
#   enroll-unit.service      the same program on 12444 as a unit of its own,
#                            ordered before it (boot-oracle.sh's case 3)
#
# After the boot agent.service runs and holds 12443. It is stopped, the
# same program is started by hand in a transient scope (`systemd-run
# --scope`, what an administrator's shell session amounts to), and
# agent.service is started again: systemd restarts it for ever (NRestarts
# grows, it is never active, the journal says "Address already in use").
# The analysis then finds PORT_HELD_OUTSIDE_UNIT for agent.service naming the
# stray's pid (as ss shows it) and its scope (the cgroup systemd gave it),
# and for port-service@12444.service naming enroll-unit.service's process.
# Doing what the finding says (stop the stray, restart the unit) makes
# agent.service active, and the next analysis finds nothing for it.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/nspawn/lib.sh"
RUN=${top_builddir:-$top_srcdir}/tests/kernel/port-holders-run
nb_test_init ss systemd-run
t_require_built "$RUN"

expect_grep() { # DESC NEEDLE TEXT
	if grep -qF -- "$2" <<<"$3"; then t_ok "$1"; else t_fail "$1: no '$2' in: $3"; fi
}

nb_units U
nb_stock "$U" port-service@.service
nb_enable "$U" port-service@12444.service multi-user.target
cat >"$U/agent.service" <<'EOF'
[Unit]
Description=the agent of seed 002 (port-service on 12443)

[Service]
Type=notify
ExecStart=/opt/cgt-nb/port-service 12443 agent
Restart=always
RestartSec=3

[Install]
WantedBy=multi-user.target
EOF
nb_enable "$U" agent.service multi-user.target
cat >"$U/enroll-unit.service" <<'EOF'
[Unit]
Description=a leftover run of the same program as a unit, holding 12444
Before=port-service@12444.service

[Service]
Type=notify
ExecStart=/opt/cgt-nb/port-service 12444 enrollment

[Install]
WantedBy=multi-user.target
EOF
nb_enable "$U" enroll-unit.service multi-user.target

nb_boot box "$U"
state=$(nb_wait_booted box 120) || true
echo "boot: $state" >&2
t_expect "agent.service runs after the boot" "active running" "$(nb_unit_state box agent.service | cut -d' ' -f1-2)"

# the holders as the kernel shows them, from this machine: ss in the
# container's network namespace sees this machine's pids
LEADER=$(nb_pid box)
ss_users() { # PORT: the users:(...) of the TCP listener on PORT
	nsenter -n -t "$LEADER" ss -Htlnp "sport = :$1" 2>/dev/null | grep -o 'users:(.*)' || true
}
ss_pid() { # PORT: the first holder's pid
	ss_users "$1" | sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -1
}
# A root to read the container's units from: its staged units and this
# machine's /usr/lib/systemd/system (the container's /usr is this machine's).
# Copies: nb_root's usr -> /usr is an absolute link, which a host root
# resolves inside itself, again and again.
analysis_root() {
	local r=$NB_DIR/aroot
	rm -rf "$r"
	mkdir -p "$r/etc/systemd" "$r/usr/lib/systemd"
	cp -a "$(nb_root box)/etc/systemd/system" "$r/etc/systemd/"
	cp -a /usr/lib/systemd/system "$r/usr/lib/systemd/"
	ln -s usr/lib "$r/lib"
	ln -s usr/bin "$r/bin"
	ln -s usr/sbin "$r/sbin"
	printf '%s\n' "$r"
}
analyze() { # the collector in the container's network namespace, its units
	CGNATCHECK_HOST_ROOT=$(analysis_root) nsenter -n -t "$LEADER" "$RUN" --analyze --no-device-units \
		--offer tcp/12443 --offer tcp/12444
}
restarts_above() { # UNIT N
	local n
	n=$(nb_show box "$1" NRestarts) || return 1
	[ "$n" -gt "$2" ]
}
SEEN_ACTIVE=
watch_restarts() { # UNIT N: NRestarts above N, noting any moment the unit is active
	local s
	s=$(nb_unit_state box "$1") || return 1
	case $s in active\ *) SEEN_ACTIVE="$SEEN_ACTIVE $s;" ;; esac
	[ "$(cut -d' ' -f3 <<<"$s")" -gt "$2" ]
}
unit_active() { [ "$(nb_show box "$1" ActiveState)" = active ]; }
port_held() { [ -n "$(ss_pid "$1")" ]; }

# ---- the stray: the same program by hand, in a scope of its own -------------
nb_exec box systemctl stop agent.service
nb_wait_for box 30 bash -c "! nsenter -n -t $LEADER ss -Htln 'sport = :12443' | grep -q ." ||
	t_fail "12443 still held after agent.service stopped"
# backgrounded here; systemd-run --scope runs it in the foreground in
# enroll-by-hand.scope (nb_exec's own process waits for it)
nb_exec box systemd-run --quiet --scope --unit=enroll-by-hand /opt/cgt-nb/port-service 12443 enrollment \
	>"$NB_DIR/stray.log" 2>&1 &
STRAY_JOB=$!
nb_wait_for box 30 port_held 12443 || t_fail "the stray never held 12443: $(cat "$NB_DIR/stray.log")"
stray=$(ss_pid 12443)
expect_grep "ss names the stray" "users:((\"port-service\",pid=$stray," "$(ss_users 12443)"
scope_cg=$(nb_show box enroll-by-hand.scope ControlGroup)
t_expect "systemd made the scope" "active running" "$(nb_unit_state box enroll-by-hand.scope | cut -d' ' -f1-2)"
nb_exec box systemctl start --no-block agent.service

# ---- systemd: a restart loop that never becomes active -----------------------
nb_wait_for box 60 watch_restarts agent.service 0 ||
	t_fail "agent.service was never restarted: $(nb_unit_state box agent.service)"
n1=$(nb_show box agent.service NRestarts)
if nb_wait_for box 60 watch_restarts agent.service "$n1"; then
	t_ok "NRestarts grows ($n1, then $(nb_show box agent.service NRestarts))"
else
	t_fail "NRestarts stayed at $n1"
fi
t_expect "agent.service never active while the stray holds its port" "" "$SEEN_ACTIVE"
expect_grep "the service says why" "Failed to bind to 0.0.0.0:12443: Address already in use" \
	"$(nb_journal box -o cat -u agent.service)"
nb_wait_for box 60 restarts_above port-service@12444.service 0 ||
	t_fail "port-service@12444 was never restarted: $(nb_unit_state box port-service@12444.service)"
enroll=$(ss_pid 12444)
expect_grep "enroll-unit.service's process holds 12444" "/enroll-unit.service" "$(cat "/proc/$enroll/cgroup" 2>/dev/null)"

# ---- the analysis ---------------------------------------------------------------
out=$(analyze)
echo "$out" | sed 's/^/analysis: /' >&2
findings=$(awk -F'\t' '$1 == "finding" { print $2, $3, $4, $5, $6 }' <<<"$out" | sort)
t_expect "the findings: the stray, and the unit that holds the other's port" \
	"PORT_HELD_OUTSIDE_UNIT agent.service $stray port-service enroll-by-hand.scope
PORT_HELD_OUTSIDE_UNIT port-service@12444.service $enroll port-service enroll-unit.service" "$findings"
msg=$(awk -F'\t' '$1 == "finding" && $3 == "agent.service" { print $7 }' <<<"$out")
expect_grep "the finding names the stray's command" "pid $stray (/usr/bin/python3 /opt/cgt-nb/port-service 12443 enrollment" "$msg"
expect_grep "and what to do" "stop pid $stray (it was started outside systemd's units, in enroll-by-hand.scope" "$msg"
expect_grep "and then" "then \`systemctl restart agent.service\`" "$msg"
cg=$(awk -F'\t' -v p="$stray" '$1 == "holder" && $4 == p { print $8 }' <<<"$out" | head -1)
case $cg in
*"$scope_cg") t_ok "its cgroup is the scope's ($scope_cg): $cg" ;;
*) t_fail "the stray's cgroup $cg does not end with systemd's $scope_cg" ;;
esac
msg=$(awk -F'\t' '$1 == "finding" && $3 == "port-service@12444.service" { print $7 }' <<<"$out")
expect_grep "the other unit: what to do" "\`systemctl stop enroll-unit.service\`" "$msg"
t_expect "the offered ports: held outside their owners" "tcp 12443 $stray enroll-by-hand.scope agent.service 1
tcp 12444 $enroll enroll-unit.service port-service@12444.service 1" \
	"$(awk -F'\t' '$1 == "use" { print $2, $3, $5, $7, $8, $9 }' <<<"$out")"

# ---- doing what it says ---------------------------------------------------------
nb_exec box systemctl stop enroll-by-hand.scope
wait "$STRAY_JOB" 2>/dev/null || true
nb_exec box systemctl restart agent.service
if nb_wait_for box 60 unit_active agent.service; then
	t_ok "after stopping the stray and restarting: $(nb_unit_state box agent.service)"
else
	t_fail "agent.service not active after the stray was stopped: $(nb_unit_state box agent.service)"
fi
out=$(analyze)
t_expect "and nothing is found for it" "" "$(awk -F'\t' '$1 == "finding" && $3 == "agent.service"' <<<"$out")"
t_expect "its port is its own" "tcp 12443 agent.service 0" \
	"$(awk -F'\t' '$1 == "use" && $3 == 12443 { print $2, $3, $7, $9 }' <<<"$out")"

if nb_poweroff box 120; then t_ok "powered off"; else t_fail "box did not power off (killed)"; fi
left=$(nb_leftovers box)
t_expect "nothing left behind" "" "$left"
t_done
