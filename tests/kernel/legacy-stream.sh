#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The streamed read of iptables-legacy tables (a userfaultfd on the kernel's
# copy, src/collect/legacy-stream.c) against the whole read
# (CGNATCHECK_LEGACY_STREAM=0) and iptables-legacy-save, in namespaces of
# their own:
#   * hand-written tables (tests/kernel/legacy-rules.v4/.v6) and a kube-proxy
#     table of a few thousand rules (tests/bench/kube-gen.py) with IPv6
#     rules beside it: every table is streamed, and renders exactly as the
#     whole read and as iptables-legacy-save
#   * the ways out: CGNATCHECK_LEGACY_STREAM=0, a stream given up while the
#     kernel is in its copy (CGNATCHECK_LEGACY_STREAM=abort), and --user
#     nobody (no userfaultfd for it) read the table whole, to the same
#     model and report
#   * a table changed while it is read again and again: every read succeeds
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

DUMP=$top_builddir/tests/kernel/legacy-dump
tb_test_init iptables-legacy-restore iptables-legacy-save ip6tables-legacy-restore ip6tables-legacy-save \
	iptables-legacy python3 "$DUMP"
[ -e /dev/userfaultfd ] || grep -q '^1$' /proc/sys/vm/unprivileged_userfaultfd 2>/dev/null ||
	t_skip "no userfaultfd here (/dev/userfaultfd, Linux 6.1+): nothing is streamed"
tb_tmpdir tmp

# compare NS LABEL: every listed table of both families, streamed (each one
# said to be), whole, and iptables-legacy-save, text for text
compare() {
	local ns=$1 label=$2 fam table ok=true
	for fam in 4 6; do
		for table in $(tb_save_tables "$ns" legacy "$fam"); do
			tb_save_text "$ns" legacy "$fam" "$table" >"$tmp/save"
			if ! tb_exec "$ns" "$DUMP" -v "-$fam" -t "$table" >"$tmp/stream" 2>"$tmp/stream.err"; then
				t_fail "$label: IPv$fam $table: streamed read failed: $(cat "$tmp/stream.err")"
				ok=false
				continue
			fi
			if ! grep -q "IPv$fam table '$table': streamed through a userfaultfd" "$tmp/stream.err"; then
				t_fail "$label: IPv$fam $table was not streamed: $(grep "table '$table'" "$tmp/stream.err")"
				ok=false
			fi
			CGNATCHECK_LEGACY_STREAM=0 tb_exec "$ns" "$DUMP" -v "-$fam" -t "$table" >"$tmp/whole" \
				2>"$tmp/whole.err" || { t_fail "$label: IPv$fam $table: whole read failed"; ok=false; }
			if ! grep -q "IPv$fam table '$table': read whole, not streamed: CGNATCHECK_LEGACY_STREAM=0" \
				"$tmp/whole.err"; then
				t_fail "$label: CGNATCHECK_LEGACY_STREAM=0 did not read IPv$fam $table whole"
				ok=false
			fi
			if ! diff -u "$tmp/whole" "$tmp/stream" >"$tmp/diff"; then
				t_fail "$label: IPv$fam $table: streamed differs from whole (- whole, + streamed):"
				head -40 "$tmp/diff" >&2
				ok=false
			fi
			if ! diff -u "$tmp/save" "$tmp/stream" >"$tmp/diff"; then
				t_fail "$label: IPv$fam $table: streamed differs from iptables-save (- save, + streamed):"
				head -40 "$tmp/diff" >&2
				ok=false
			fi
		done
	done
	$ok
}

# --- hand-written tables -----------------------------------------------------
tb_ns_add fixed lstr-fixed
tb_load_fixtures "$fixed" legacy
compare "$fixed" "hand-written" && t_ok "hand-written tables: streamed = whole = iptables-legacy-save"

# --- a kube-proxy table, and IPv6 beside it ----------------------------------------
tb_ns_add kube lstr-kube
python3 "$top_srcdir/tests/bench/kube-gen.py" --services 300 --endpoints 6 2>/dev/null >"$tmp/kube"
tb_exec "$kube" iptables-legacy-restore <"$tmp/kube" ||
	{ echo "ERROR: iptables-legacy-restore refused the kube-proxy table" >&2; exit 99; }
tb_exec "$kube" ip6tables-legacy-restore <"$top_srcdir/tests/kernel/legacy-rules.v6" ||
	{ echo "ERROR: ip6tables-legacy-restore refused tests/kernel/legacy-rules.v6" >&2; exit 99; }
compare "$kube" "kube-proxy" && t_ok "kube-proxy table (6k rules) and IPv6: streamed = whole = iptables-legacy-save"
faults=$(tb_exec "$kube" "$DUMP" -v -4 -t nat --no-print 2>&1 |
	sed -n "s/.*IPv4 table 'nat': streamed through a userfaultfd (.*, \([0-9]*\) faults.*/\1/p")
if [ -n "$faults" ] && [ "$faults" -gt 1 ]; then
	t_ok "the kube-proxy nat table came through $faults faults (the kernel's copy paused and went on)"
else
	t_fail "the kube-proxy nat table was not streamed through faults (faults: '$faults')"
fi
t_run tb_exec "$kube" "$DUMP" --check --no-print
t_expect "streamed: every jump resolved, every extension decoded" "unresolved=0 undecoded=0" "$t_err"

# --- the ways out ------------------------------------------------------------------
tb_exec "$kube" "$DUMP" -4 -t nat >"$tmp/stream"
t_run env CGNATCHECK_LEGACY_STREAM=abort ip netns exec "$kube" "$DUMP" -v -4 -t nat
t_expect "a stream given up in the kernel's copy: the read still succeeds" 0 "$t_status"
case $t_err in
*"table 'nat': read whole, not streamed: CGNATCHECK_LEGACY_STREAM=abort"*) t_ok "... and says it read the table whole" ;;
*) t_fail "a stream given up: no 'read whole' line: $t_err" ;;
esac
printf '%s\n' "$t_out" | cmp -s - "$tmp/stream" && t_ok "... to the same table" ||
	t_fail "a stream given up: the table read whole differs"

# --- job control: a stop (Ctrl-Z) asked for in the middle of the kernel's copy
# waits for its end; stopped there, the copying thread would hold x_tables'
# lock and every iptables-legacy command of the family, in every namespace,
# would wait for the process to be continued
tb_ns_add other other-ns
# Job control on (set -m): the command gets a process group of its own
# under this shell, so a stop reaches it; in an orphaned process group
# (the shell's own, under some harnesses) the kernel discards job-control
# stops, and there would be nothing to hold. A sleep shows the stop works.
set -m
sleep 5 &
control=$!
set +m
kill -TSTP "$control"
state=$(tb_proc_state "$control" T 1)
kill -CONT "$control" 2>/dev/null || true
kill "$control" 2>/dev/null || true
wait "$control" 2>/dev/null || true
t_expect "job control: a process group of its own stops on SIGTSTP (the check below can work)" T "$state"
set -m
CGNATCHECK_LEGACY_STREAM=pause ip netns exec "$kube" "$DUMP" -4 -t nat >"$tmp/paused" 2>"$tmp/paused.err" &
paused=$!
set +m
sleep 0.5
kill -TSTP "$paused"
t0=$EPOCHREALTIME
# blocked on the kernel's mutex, the command cannot be killed (timeout(1)
# would not help): if it is still waiting after 30 s, the stopped process is
# continued, which lets it go, and that is the failure
ip netns exec "$other" iptables-legacy -t filter -L -n >/dev/null 2>&1 &
other_pid=$!
if ! tb_wait_exit "$other_pid" 30; then
	t_fail "a stop asked for mid-copy held iptables-legacy in another namespace for 30 s"
	kill -CONT "$paused" 2>/dev/null || true
else
	t_ok "a stop asked for mid-copy: iptables-legacy in another namespace went on after" \
		"$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
fi
wait "$other_pid" || t_fail "iptables-legacy -L in another namespace failed"
t_expect "... and the process stopped once the table was read" T "$(tb_proc_state "$paused" T 5)"
kill -CONT "$paused" 2>/dev/null || true
paused_st=0
wait "$paused" || paused_st=$?
t_expect "... continued, it ends" 0 "$paused_st"
cmp -s "$tmp/paused" "$tmp/stream" && t_ok "... with the same table" || t_fail "a stopped stream: the table differs"

# the audit itself, as root (streamed) and as nobody (no userfaultfd);
# nobody reads the policies, the (empty) local policy and DMI directories:
# copies where every user can reach them (the tree may be under /root)
# (--only-named: what the host files and sockets say is not this test's
# business, and nobody may not read the host root under a /root clone)
tb_tmpdir_shared shared
tb_policies_shared policies
export CGNATCHECK_POLICY_DIR="$policies" CGNATCHECK_POLICY_LOCAL_DIR="$shared" \
	CGNATCHECK_DMI_DIR="$shared" CGNATCHECK_RESOLVED_CONF="$shared/none"
st_root=0
tb_exec "$kube" "$CGNATCHECK" -vv --only-named --dns 192.0.2.53 --format json >"$tmp/root.json" 2>"$tmp/root.err" || st_root=$?
grep -q "IPv4 table 'nat': streamed through a userfaultfd" "$tmp/root.err" &&
	t_ok "the audit as root (CAP_NET_ADMIN only) streams the table" ||
	t_fail "the audit as root did not stream: $(grep "table 'nat'" "$tmp/root.err")"
if id nobody >/dev/null 2>&1; then
	st_nobody=0
	tb_exec "$kube" "$CGNATCHECK" -vv --user nobody --only-named --dns 192.0.2.53 --format json >"$tmp/nobody.json" \
		2>"$tmp/nobody.err" || st_nobody=$?
	t_expect "--user nobody: the audit ends as root's does" "$st_root" "$st_nobody"
	[ "$st_nobody" -ne 3 ] || cat "$tmp/nobody.err" >&2
	grep -q "IPv4 table 'nat': read whole, not streamed: .*userfaultfd" "$tmp/nobody.err" &&
		t_ok "--user nobody: reads the table whole, and says why" ||
		t_fail "--user nobody: no 'read whole' line: $(grep "table 'nat'" "$tmp/nobody.err")"
	cmp -s "$tmp/root.json" "$tmp/nobody.json" && t_ok "--user nobody: the same report" ||
		t_fail "--user nobody: the report differs from root's"
fi

# --- a table that changes while it is read -------------------------------------------
# Rounds of changes (a rule and a chain added, then deleted: the table
# returns to what it was after each round) go on until the reads are done:
# at least 15 reads, and at least 3 rounds during them.
stop=$tmp/churn.stop rounds=$tmp/churn.rounds
(
	i=0
	while [ ! -e "$stop" ] && ((i < 1000)); do
		i=$((i + 1))
		ip netns exec "$kube" iptables-legacy -t nat -A KUBE-MARK-MASQ -s "10.9.$((i % 250)).1" -j RETURN
		ip netns exec "$kube" iptables-legacy -t nat -N "CHURN-$i"
		ip netns exec "$kube" iptables-legacy -t nat -D KUBE-MARK-MASQ -s "10.9.$((i % 250)).1" -j RETURN
		ip netns exec "$kube" iptables-legacy -t nat -X "CHURN-$i"
		echo "$i" >"$rounds.new" && mv "$rounds.new" "$rounds"
	done
) >/dev/null 2>&1 &
churn=$!
tb_wait_file "$rounds" 30 "$churn" || t_fail "the changes did not start"
start=$(cat "$rounds" 2>/dev/null || echo 0)
ok=true reads=0
while ((reads < 15)) || { (($(cat "$rounds") < start + 3)) && ((reads < 500)) && kill -0 "$churn" 2>/dev/null; }; do
	reads=$((reads + 1))
	if ! tb_exec "$kube" "$DUMP" --check --no-print 2>"$tmp/churn.err"; then
		t_fail "read $reads while the table changes: $(cat "$tmp/churn.err")"
		ok=false
	fi
done
during=$(($(cat "$rounds") - start))
touch "$stop"
wait "$churn" || true
if ((during >= 3)); then
	$ok && t_ok "$reads reads while the table changed ($during rounds of changes): all succeed, every jump resolved"
else
	t_fail "the table changed only $during times during the $reads reads"
fi
tb_exec "$kube" "$DUMP" -4 -t nat | cmp -s - "$tmp/stream" && t_ok "... and after it, the table reads as before" ||
	t_fail "after the changes the nat table reads differently"

t_done
