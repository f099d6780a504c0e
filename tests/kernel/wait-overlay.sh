#!/usr/bin/env bash
# --wait-overlay, as the first-boot hook uses it, in the Alibaba scenario:
#  * no overlay at all: --wait-overlay=2 waits about 2 s, warns naming the
#    chains it waited for, then audits (exit status of the audit);
#  * Tailscale's rules written 1 s after the start (in each firewall form):
#    cgnatcheck --fix --wait-overlay=20 proceeds once the chains are there and
#    the ruleset has settled, not at the timeout, and its fix makes the
#    resolver reachable (so it waited for the rules, not only the chains);
#  * chains already there: no waiting for them.
# No check has an upper time limit (a loaded machine is slow): what the
# program says it waited for, and the lower bounds, tell the behaviour.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3

# 1. no overlay: waits the whole time, warns, audits
no_overlay() { # BED
	tb_use_bed "$1"
	tb_audit_env WORK
	start=$(t_now_ms)
	status=0
	tb_exec "$TB_HOST" "$CGNATCHECK" -v --wait-overlay=2 --dns 100.100.2.136 >"$WORK/out" 2>"$WORK/err" || status=$?
	ms=$(($(t_now_ms) - start))
	t_expect "no overlay: the audit's exit status (reachable)" 0 "$status"
	# waited the whole timeout (the warning below says it gave up; no upper
	# bound on the time: a loaded machine is slow)
	[ "$ms" -ge 2000 ] && t_ok "no overlay: waited the 2 s ($ms ms)" ||
		t_fail "no overlay: took $ms ms (expected at least 2000)"
	grep -q "none of the chains of tailscale (ts-input ts-forward ts-postrouting) appeared within 2 s" "$WORK/err" &&
		t_ok "no overlay: the warning names the chains" || t_fail "no overlay: stderr: $(cat "$WORK/err")"
	grep -q "waiting up to 2 s for the chains of tailscale" "$WORK/err" && t_ok "no overlay: progress logged at info level" ||
		t_fail "no overlay: no progress message: $(cat "$WORK/err")"
	grep -q "reachable  dns 100.100.2.136" "$WORK/out" && t_ok "no overlay: then audits" || t_fail "no report: $(cat "$WORK/out")"
	# without -v only the warning shows
	status=0
	tb_exec "$TB_HOST" "$CGNATCHECK" --quiet --wait-overlay=1 --dns 100.100.2.136 >/dev/null 2>"$WORK/err" || status=$?
	t_expect "no overlay, quiet: one line on stderr, the warning" 1 "$(grep -c . "$WORK/err")"
}

# 2. the overlay arrives 1 s after the start
# (each form in a test bed of its own, at once with the others)
overlay_arrives() { # BED FORM
	local form=$2 installer start status ms
	tb_use_bed "$1"
	tb_audit_env WORK
	(sleep 1 && tb_ts_install "$form" new) >"$WORK/install.log" 2>&1 &
	installer=$!
	start=$(t_now_ms)
	status=0
	tb_exec "$TB_HOST" "$CGNATCHECK" -v --fix --wait-overlay=20 --format json --dns 100.100.2.136 \
		>"$WORK/out.json" 2>"$WORK/err" || status=$?
	ms=$(($(t_now_ms) - start))
	wait "$installer" || t_fail "$form: installing Tailscale's rules failed: $(cat "$WORK/install.log")"
	t_expect "$form: --fix after the wait: exit status" 0 "$status"
	[ "$status" -eq 0 ] || cat "$WORK/err" >&2
	# it waited for the chains (they came at 1000 ms) and went on when they
	# were there, not at the timeout: the messages say which
	[ "$ms" -ge 1000 ] && t_ok "$form: proceeded $ms ms after the start, the chains came at 1000 ms" ||
		t_fail "$form: took $ms ms, before the chains existed"
	grep -q "tailscale's chains and rules are in place after" "$WORK/err" && t_ok "$form: says the rules are in place" ||
		t_fail "$form: stderr: $(cat "$WORK/err")"
	grep -q "appeared within\\|ran out" "$WORK/err" && t_fail "$form: it waited for the timeout: $(cat "$WORK/err")" ||
		t_ok "$form: did not wait for the timeout"
	t_expect "$form: the fix was applied" "applied:reachable applied:reachable" \
		"$(tb_json '" ".join(c["result"] + ":" + str(c["after"]) for c in r["changes"])')"
	tb_expect_probe "$form: the resolver answers" reply 100.100.2.136 53 udp

	# 3. already there: no wait for the chains (the messages say so)
	tb_exec "$TB_HOST" "$CGNATCHECK" -v --wait-overlay=20 --dns 100.100.2.136 >/dev/null 2>"$WORK/err" || true
	if grep -q "tailscale's chains are there" "$WORK/err" &&
		grep -q "tailscale's chains and rules are in place" "$WORK/err" &&
		! grep -q "appeared within\|ran out" "$WORK/err"; then
		t_ok "$form: chains already there: found, no timeout"
	else
		t_fail "$form: chains there: $(cat "$WORK/err")"
	fi

	tb_exec "$TB_HOST" "$CGNATCHECK" --undo >/dev/null
	tb_ts_remove "$form"
}

tb_beds 4
tb_spawn "no overlay" no_overlay 0
i=1
for form in legacy nft nftables; do
	tb_spawn "$form" overlay_arrives "$i" "$form"
	i=$((i + 1))
done
tb_join
t_done
