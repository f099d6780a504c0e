#!/usr/bin/env bash
# --keep against the kernel: with the long-running mode active, a simulated
# tailscaled restart (its chains and jumps deleted and re-created, taking the
# exception with them) must leave the resolver reachable again, in each
# firewall form; each re-application is logged; SIGTERM stops it cleanly.
# How fast it comes back is printed here and measured by the benchmark; the
# bound below only keeps a --keep that never re-applies from hanging the
# test (a loaded 2-core machine or a sanitizer build is slow, not wrong).
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_init
tb_audit_env WORK
tb_scenario

limit=60000

# Probes every 100 ms until the resolver answers; prints the elapsed ms, or
# fails after LIMIT ms.
reachable_within() { # LIMIT-MS
	local start end word
	start=$(t_now_ms)
	while :; do
		word=$(tb_probe 100.100.2.136 53 udp --timeout 100 || true)
		end=$(t_now_ms)
		if [ "$word" = reply ]; then
			echo $((end - start))
			return 0
		fi
		[ $((end - start)) -lt "$1" ] || { echo $((end - start)); return 1; }
		sleep 0.05
	done
}

for form in legacy nft nftables; do
	tb_ts_install "$form" new
	: >"$WORK/keep.log"
	ip netns exec "$TB_HOST" "$CGNATCHECK" --keep --dns 100.100.2.136 >"$WORK/keep.out" 2>"$WORK/keep.log" &
	keeper=$!
	TB_PIDS+=("$keeper")

	ms=$(reachable_within "$limit") && t_ok "$form: the first --fix round made the resolver reachable ($ms ms)" ||
		t_fail "$form: not reachable $ms ms after --keep started: $(cat "$WORK/keep.log")"

	for restart in 1 2 3; do
		tb_ts_remove "$form"
		tb_ts_install "$form" new
		if ms=$(reachable_within "$limit"); then
			t_ok "$form: restart $restart: reachable again after $ms ms"
		else
			t_fail "$form: restart $restart: still unreachable after $ms ms: $(tail -5 "$WORK/keep.log")"
		fi
	done
	n=$(grep -c "re-applied" "$WORK/keep.log" || true)
	[ "$n" -ge 3 ] && t_ok "$form: every re-application is logged ($n lines)" ||
		t_fail "$form: $n re-applications logged: $(cat "$WORK/keep.log")"

	kill -TERM "$keeper"
	status=0
	wait "$keeper" || status=$?
	t_expect "$form: SIGTERM stops it cleanly" 0 "$status"
	grep -q "stopped after" "$WORK/keep.log" && t_ok "$form: says it stopped" || t_fail "$form: no stop message"
	tb_exec "$TB_HOST" "$CGNATCHECK" --undo >/dev/null
	tb_ts_remove "$form"
done
t_done
