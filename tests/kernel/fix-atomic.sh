#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --fix and --keep when the firewall does not hold still, against the kernel,
# in namespaces:
#  * all or none: with the xtables lock held longer than the timeout, and with
#    one exception in iptables-legacy and one in an nf_tables table nobody but
#    its owner may change, nothing of the run stays in place, and stderr and
#    the report say so;
#  * tailscaled restarting between the audit and the change (its chains
#    re-created, every handle new): the run audits and plans again and ends
#    with the exceptions in place; when it restarts before every attempt, the
#    run gives up cleanly;
#  * a change log that cannot be written (read-only, full, another user's):
#    refused before any change, exit 3;
#  * --keep never misses a restart that lands while it applies.
# The moments in between are reached with tests/kernel/fix-race-run, which is
# cgnatcheck's own command line with a hook between plan and change.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"
RACE="${top_builddir:-$top_srcdir}/tests/kernel/fix-race-run"
tb_test_init python3 flock unshare "$RACE"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

dump() {
	tb_fw_dump "$1" | sed -E -e '/^#/d' -e 's/\[[0-9]+:[0-9]+\]/[0:0]/' \
		-e 's/counter packets [0-9]+ bytes [0-9]+/counter/'
}

# json FILE EXPR: EXPR over the report r in FILE
json() {
	python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

results() { json "$1" '" ".join(c["result"] for c in r["changes"])'; }

# restart_script FORM: a script that does what a tailscaled restart does to
# its rules (DelHooks/DelChains, then AddChains/AddHooks): every rule new,
# every handle new, no exception of ours.
restart_script() {
	cat >"$WORK/restart-$1.sh" <<EOF
. "$top_srcdir/tests/lib/netns/lib.sh"
TB_HOST=$TB_HOST
tb_ts_remove $1 && tb_ts_install $1 new
EOF
	echo "bash $WORK/restart-$1.sh"
}

no_tags() { # DESC FORM
	if dump "$2" | grep -c 'cgnatcheck:' >/dev/null; then
		t_fail "$1: a cgnatcheck rule is left: $(dump "$2" | grep 'cgnatcheck:')"
	else
		t_ok "$1: no cgnatcheck rule in the ruleset"
	fi
}

race() { # DESC WANT-STATUS RACE-ARGS... -- CGNATCHECK-ARGS...
	local desc=$1 want=$2 status=0
	shift 2
	tb_exec "$TB_HOST" "$RACE" "$@" >"$WORK/out.json" 2>"$WORK/err" || status=$?
	t_expect "$desc: exit status" "$want" "$status"
	[ "$status" = "$want" ] || cat "$WORK/err" >&2
}

# --- the ruleset changes between the audit and the change ---------------------

replan() {
	local form=$1 restart
	tb_scenario
	tb_audit_env WORK
	tb_ts_install "$form" new || tb_die "tb_ts_install $form new"
	restart=$(restart_script "$form")
	tb_expect_probe "$form replan: DNS blocked before" timeout 100.100.2.136 53 udp

	# once: the run audits again and applies on the fresh plan
	race "$form replan: a restart between plan and change" 0 --before "1:$restart" -- \
		-v --fix --format json --dns 100.100.2.136
	t_expect "$form replan: both exceptions applied" "applied applied" "$(results "$WORK/out.json")"
	tb_expect_probe "$form replan: the resolver answers" reply 100.100.2.136 53 udp
	if [ "$form" = legacy ]; then
		# libiptc finds the blocking rule again by what it is, not by a
		# handle: no second audit is needed
		grep -q "auditing again" "$WORK/err" && t_fail "legacy replan: audited again: $(cat "$WORK/err")" ||
			t_ok "legacy replan: the rule was found again without a second audit"
	else
		grep -q "auditing again (attempt 2 of 5)" "$WORK/err" && t_ok "$form replan: said it audited again" ||
			t_fail "$form replan: stderr: $(cat "$WORK/err")"
	fi
	[ "$(grep -c 'The rule to insert' "$WORK/err" || true)" -le 1 ] &&
		t_ok "$form replan: the lost rule is named at most once" ||
		t_fail "$form replan: repeated messages: $(cat "$WORK/err")"

	# before every attempt: it gives up cleanly, nothing of its own left
	if [ "$form" != legacy ]; then
		eval "$restart" # the previous exceptions go with the chains
		race "$form replan: a restart before every attempt" 3 --before "0:$restart" -- \
			--fix --format json --dns 100.100.2.136
		t_expect "$form replan: both failed" "failed failed" "$(results "$WORK/out.json")"
		grep -q "changed under each of 5 audits" "$WORK/err" && t_ok "$form replan: says why it gave up" ||
			t_fail "$form replan: stderr: $(cat "$WORK/err")"
		no_tags "$form replan, given up" "$form"
	fi
	tb_cleanup
}

# --- all or none ---------------------------------------------------------------

# The xtables lock held 13 s by another program, in a mount namespace of
# its own (a tmpfs on /run), so the machine's lock is never held. Both
# exceptions wait for the same lock, once: after 10 s the run gives up with
# neither in place (one at a time, the second got the lock at 13 s).
lock_held() {
	local d="legacy lock" status
	tb_scenario
	tb_audit_env WORK
	tb_ts_install legacy new || tb_die "tb_ts_install legacy new"
	dump legacy >"$WORK/before"
	status=$(tb_exec "$TB_HOST" unshare -m --propagation private bash -c '
		mount -t tmpfs -o mode=0755 tmpfs /run || exit 99
		flock /run/xtables.lock sleep 13 &
		while ! [ -e /run/xtables.lock ]; do sleep 0.05; done; sleep 0.2
		"$1" --fix --format json --dns 100.100.2.136 >"$2/out.json" 2>"$2/err"
		echo $?
		wait' bash "$CGNATCHECK" "$WORK")
	t_expect "$d: exit status" 3 "$status"
	t_expect "$d: neither exception" "failed failed" "$(results "$WORK/out.json")"
	dump legacy >"$WORK/after"
	cmp -s "$WORK/before" "$WORK/after" && t_ok "$d: the ruleset is as it was" ||
		t_fail "$d: $(diff "$WORK/before" "$WORK/after")"
	grep -q "xtables lock" "$WORK/err" && grep -q "no exception of this run is in place" "$WORK/err" &&
		t_ok "$d: stderr names the lock and says nothing was added" || t_fail "$d: stderr: $(cat "$WORK/err")"
	tb_cleanup
}

# One exception goes to iptables-legacy (udp: dropped in ts-input), the other
# to an nf_tables table with the owner flag (tcp: dropped there first), which
# only the nft process that made it may change: the batch is refused after
# the legacy table was committed, and the legacy exception is taken out again.
owner_table() {
	local d="legacy + owner table" fifo status
	tb_scenario
	tb_audit_env WORK
	tb_ts_install legacy new || tb_die "tb_ts_install legacy new"
	fifo="$WORK/nft.fifo"
	mkfifo "$fifo"
	# read-write: opening a FIFO so never blocks, and nft sees no end of
	# input until the test closes it
	exec {owner}<>"$fifo"
	tb_exec "$TB_HOST" nft -i <"$fifo" >"$WORK/nft-i.out" 2>&1 &
	TB_PIDS+=("$!")
	printf '%s\n' 'add table ip own { flags owner; }' \
		'add chain ip own in { type filter hook input priority -10; }' \
		'add rule ip own in ip saddr 100.64.0.0/10 tcp sport 53 iifname != "tailscale0" drop' >&"$owner"
	for _ in $(seq 100); do
		tb_exec "$TB_HOST" nft list table ip own >/dev/null 2>&1 && break
		sleep 0.05
	done
	tb_exec "$TB_HOST" nft list table ip own | grep -c 'flags owner' >/dev/null || tb_die "no owner table: $(cat "$WORK/nft-i.out")"
	tb_expect_probe "$d: udp blocked before" timeout 100.100.2.136 53 udp
	tb_expect_probe "$d: tcp blocked before" timeout 100.100.2.136 53 tcp
	dump legacy >"$WORK/before"
	tb_exec "$TB_HOST" nft list ruleset >"$WORK/before-nft"
	status=0
	tb_exec "$TB_HOST" "$CGNATCHECK" --fix --format json --dns 100.100.2.136 >"$WORK/out.json" 2>"$WORK/err" ||
		status=$?
	t_expect "$d: exit status" 3 "$status"
	t_expect "$d: neither exception" "failed failed" "$(results "$WORK/out.json")"
	dump legacy >"$WORK/after"
	cmp -s "$WORK/before" "$WORK/after" && t_ok "$d: the legacy exception was taken out again" ||
		t_fail "$d: $(diff "$WORK/before" "$WORK/after")"
	tb_exec "$TB_HOST" nft list ruleset >"$WORK/after-nft"
	cmp -s "$WORK/before-nft" "$WORK/after-nft" && t_ok "$d: the nftables ruleset is as it was" ||
		t_fail "$d: $(diff "$WORK/before-nft" "$WORK/after-nft")"
	grep -q "no exception of this run is in place" "$WORK/err" && grep -q "Operation not permitted" "$WORK/err" &&
		t_ok "$d: stderr says why and that nothing was added" || t_fail "$d: stderr: $(cat "$WORK/err")"
	tb_expect_probe "$d: udp still blocked" timeout 100.100.2.136 53 udp
	exec {owner}>&-
	tb_cleanup
}

# --- the change log -----------------------------------------------------------

# unwritable KIND: the state directory read-only, full, or the log another
# user's; each run is refused before anything changes.
change_log() {
	local kind=$1 d="changes.log $1" status pub
	tb_scenario
	tb_audit_env WORK
	tb_ts_install nftables new || tb_die "tb_ts_install nftables new"
	dump nftables >"$WORK/before"
	case $kind in
	read-only | full)
		status=$(tb_exec "$TB_HOST" unshare -m --propagation private bash -c '
			mkdir -p "$2/st"
			if [ "$3" = read-only ]; then
				mount -t tmpfs -o ro,mode=0755 tmpfs "$2/st" || exit 99
			else
				mount -t tmpfs -o size=8k,mode=0755 tmpfs "$2/st" || exit 99
				: >"$2/st/changes.log"
				dd if=/dev/zero of="$2/st/fill" bs=4k count=16 2>/dev/null
			fi
			CGNATCHECK_STATE_DIR="$2/st" "$1" --fix --format json --dns 100.100.2.136 >"$2/out.json" 2>"$2/err"
			echo $?' bash "$CGNATCHECK" "$WORK" "$kind") ;;
	other-user)
		# a state directory nobody may enter, the log root's
		tb_tmpdir pub
		chmod 0755 "$pub"
		mkdir -m 0755 "$pub/state" "$pub/pol"
		: >"$pub/state/changes.log"
		chmod 0644 "$pub/state/changes.log"
		status=0
		CGNATCHECK_STATE_DIR="$pub/state" CGNATCHECK_POLICY_DIR="$pub/pol" \
			CGNATCHECK_POLICY_LOCAL_DIR="$pub/local" CGNATCHECK_DMI_DIR="$pub/dmi" \
			tb_exec "$TB_HOST" "$CGNATCHECK" --user nobody --fix --format json --dns 100.100.2.136 \
			>"$WORK/out.json" 2>"$WORK/err" || status=$?
		[ -s "$pub/state/changes.log" ] && t_fail "$d: the log was written" ||
			t_ok "$d: the log is untouched" ;;
	esac
	t_expect "$d: refused" 3 "$status"
	t_expect "$d: nothing applied" "failed failed" "$(results "$WORK/out.json")"
	dump nftables >"$WORK/after"
	cmp -s "$WORK/before" "$WORK/after" && t_ok "$d: the ruleset is as it was" ||
		t_fail "$d: $(diff "$WORK/before" "$WORK/after")"
	grep -q "nothing was changed" "$WORK/err" && t_ok "$d: stderr says nothing was changed" ||
		t_fail "$d: stderr: $(cat "$WORK/err")"
	tb_expect_probe "$d: still blocked" timeout 100.100.2.136 53 udp
	tb_cleanup
}

# --- --keep and a restart while it applies ------------------------------------

# The restart lands right after --keep's second round committed (its
# notifications are read with the round's own): the round's generation check
# must see it, or the resolver would stay blocked until some unrelated
# change. Polled for up to a minute: a bound on a hang, not a speed target.
keep_restart() {
	local form=$1 d="$1 --keep" restart keeper i word=timeout
	tb_scenario
	tb_audit_env WORK
	tb_ts_install "$form" new || tb_die "tb_ts_install $form new"
	restart=$(restart_script "$form")
	: >"$WORK/keep.log"
	tb_bg "$TB_HOST" "$RACE" --after "2:$restart" -- -v --keep --dns 100.100.2.136 \
		>"$WORK/keep.out" 2>"$WORK/keep.log"
	keeper=${TB_PIDS[-1]}
	for ((i = 0; i < 600; i++)); do
		word=$(tb_probe 100.100.2.136 53 udp --timeout 100 || true)
		[ "$word" = reply ] && break
		sleep 0.1
	done
	t_expect "$d: the first round made the resolver reachable" reply "$word"
	eval "$restart" # the restart that wakes round 2; round 2's hook restarts again
	for ((i = 0; i < 600; i++)); do
		grep -q "after apply 2: done" "$WORK/keep.log" && break
		sleep 0.1
	done
	grep -q "after apply 2: done" "$WORK/keep.log" && t_ok "$d: a restart landed right after round 2 applied" ||
		t_fail "$d: round 2 never applied: $(cat "$WORK/keep.log")"
	word=timeout
	for ((i = 0; i < 600; i++)); do
		word=$(tb_probe 100.100.2.136 53 udp --timeout 100 || true)
		[ "$word" = reply ] && break
		sleep 0.1
	done
	t_expect "$d: reachable again after the restart during the apply" reply "$word"
	grep -q "changed while cgnatcheck was applying; auditing again" "$WORK/keep.log" &&
		t_ok "$d: it saw the change behind its back" || t_fail "$d: $(tail -20 "$WORK/keep.log")"
	kill -TERM "$keeper" 2>/dev/null || true
	wait "$keeper" 2>/dev/null || true
	tb_cleanup
}

# FIX_ATOMIC_CASES: a subset, for working on one (replan lock owner log keep)
cases=" ${FIX_ATOMIC_CASES:-replan lock owner log keep} "
if [[ $cases == *" replan "* ]]; then
	for form in legacy nft nftables; do replan "$form"; done
fi
[[ $cases != *" lock "* ]] || lock_held
[[ $cases != *" owner "* ]] || owner_table
if [[ $cases == *" log "* ]]; then
	for kind in read-only full other-user; do change_log "$kind"; done
fi
if [[ $cases == *" keep "* ]]; then
	for form in legacy nft nftables; do keep_restart "$form"; done
fi
t_done
