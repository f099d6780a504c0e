#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What `cgnatcheck --keep` costs on a busy Kubernetes node (issue 20), and
# how fast it puts the exception back after a tailscaled restart.
#
#   tests/bench/keep-churn.sh [--services S] [--endpoints E] [--churn C]
#                             [--interval I] [--window W] [--restarts N]
#                             [--check]
#
# In the test bed's namespaces (tests/lib/netns/lib.sh: the host, the
# provider answering DNS on 100.100.2.136): kube-proxy's nftables ruleset
# of S services x E endpoints (tests/bench/kube-nft-gen.py, default 10,000
# x 10) and Tailscale's nftables tables (tb_ts_install nftables new). Then
# `cgnatcheck --keep --dns 100.100.2.136` is started in the host; once its
# first round made the resolver reachable, a generator rewrites kube-proxy's
# ruleset every I seconds (default 5) the way kube-proxy's sync does: one
# `nft -f` transaction that, for C churned services (default 100), flushes
# and refills the service's chain, creates the chains of its new endpoints,
# replaces its service-ips element and deletes the previous endpoints'
# chains (kube-nft-gen.py --partial --stale). Over a window of W seconds
# (default 300) it reads the CPU time of the --keep process (utime + stime +
# the children's, /proc/PID/stat) and prints it, per hour (extrapolated) and
# as a share of one core (target: under 1%), and the rounds --keep logged.
#
# Then, the generator still running, tailscaled is restarted N times
# (default 3) as the test bed does it (tb_ts_remove: its jumps and chains
# deleted, the exception with them; tb_ts_install: re-created), and the time
# from the restart to the first DNS answer from 100.100.2.136 is printed
# (probes every 50 ms; target: under 1 s each).
#
# --check: exit 1 when a target is missed. Exit 0 done, 2 bad usage, 77
# skipped (not root), 99 the bed could not be built.
# Environment: CGNATCHECK (default ./cgnatcheck of the build tree),
# top_srcdir.
set -euo pipefail
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$bench_dir/../.." && pwd)}"
. "$top_srcdir/tests/lib/netns/lib.sh"

usage() {
	sed -n '3,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}
S=10000 E=10 C=100 INTERVAL=5 WINDOW=300 RESTARTS=3 CHECK=0
value() {
	[ $# -ge 2 ] || { echo "keep-churn.sh: $1 needs a value" >&2; exit 2; }
	printf '%s\n' "$2"
}
while [ $# -gt 0 ]; do
	case $1 in
	--services) S=$(value "$@"); shift ;;
	--endpoints) E=$(value "$@"); shift ;;
	--churn) C=$(value "$@"); shift ;;
	--interval) INTERVAL=$(value "$@"); shift ;;
	--window) WINDOW=$(value "$@"); shift ;;
	--restarts) RESTARTS=$(value "$@"); shift ;;
	--check) CHECK=1 ;;
	-h | --help) usage 0 ;;
	*) echo "keep-churn.sh: unknown option '$1'" >&2; usage 2 ;;
	esac
	shift
done
for v in S E C INTERVAL WINDOW RESTARTS; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "keep-churn.sh: $v must be a number, not '${!v}'" >&2; exit 2; }
done
((S >= 1 && E >= 1 && C >= 1 && C <= S && INTERVAL >= 1 && WINDOW >= INTERVAL)) ||
	{ echo "keep-churn.sh: sizes >= 1, --churn <= --services, --window >= --interval" >&2; exit 2; }

: "${CGNATCHECK:=$top_srcdir/cgnatcheck}"
case $CGNATCHECK in /*) ;; *) CGNATCHECK="$PWD/$CGNATCHECK" ;; esac
: "${CGNATCHECK_HOST_ROOT:=$top_srcdir/tests/data/empty-host}"
export CGNATCHECK_HOST_ROOT
tb_test_init python3 nft "$CGNATCHECK"
tb_audit_env WORK
say() { printf '%s\n' "$*" >&2; }
now_ms() { t_now_ms; }

tb_scenario
t0=$(now_ms)
python3 "$bench_dir/kube-nft-gen.py" --services "$S" --endpoints "$E" >"$WORK/ruleset" 2>"$WORK/gen.err" ||
	{ cat "$WORK/gen.err" >&2; tb_die "kube-nft-gen.py failed"; }
tb_exec "$TB_HOST" nft -f "$WORK/ruleset" || tb_die "nft -f (the ruleset) failed"
rm -f "$WORK/ruleset"
tb_ts_install nftables new || tb_die "tb_ts_install nftables new failed"
ruleset_desc=$(sed 's/^[a-z-]*: //' "$WORK/gen.err")
say "keep-churn: $ruleset_desc; Tailscale (nftables, new): loaded in $(((($(now_ms) - t0) + 500) / 1000)) s"
# The churn transactions: generation 1, then 2..5 over and over (each
# moves the churned services' endpoints and deletes the previous ones:
# kube-nft-gen.py rotates 4 blocks of addresses, so generation G >= 6 is
# generation 2 + (G - 2) % 4).
for g in 1 2 3 4 5; do
	python3 "$bench_dir/kube-nft-gen.py" --services "$S" --endpoints "$E" --churn "$C" --generation "$g" \
		--stale --partial >"$WORK/churn.$g" 2>"$WORK/gen.err" ||
		{ cat "$WORK/gen.err" >&2; tb_die "kube-nft-gen.py --partial failed"; }
done
say "keep-churn: each sync: $(sed 's/^[a-z-]*: //' "$WORK/gen.err")"

# Probes every 50 ms until the resolver answers; prints the elapsed ms, or
# fails after LIMIT ms.
reachable_within() { # LIMIT-MS
	local start end word
	start=$(now_ms)
	while :; do
		word=$(tb_probe 100.100.2.136 53 udp --timeout 100 || true)
		end=$(now_ms)
		if [ "$word" = reply ]; then
			echo $((end - start))
			return 0
		fi
		[ $((end - start)) -lt "$1" ] || { echo $((end - start)); return 1; }
		sleep 0.05
	done
}

# cpu_ticks PID: utime + stime + cutime + cstime (fields 14-17 of
# /proc/PID/stat, after the command name in parentheses)
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086 # the fields, split
	set -- $stat
	echo $((${12} + ${13} + ${14} + ${15}))
}
hz=$(getconf CLK_TCK)

ip netns exec "$TB_HOST" "$CGNATCHECK" --keep --dns 100.100.2.136 >"$WORK/keep.out" 2>"$WORK/keep.log" &
keeper=$!
TB_PIDS+=("$keeper")
ms=$(reachable_within 120000) || tb_die "not reachable $ms ms after --keep started: $(tail -5 "$WORK/keep.log")"
say "keep-churn: --keep's first round made the resolver reachable after $ms ms"

# the generator: one transaction every INTERVAL s, kube-proxy's pace
churn() {
	local g=1 f start
	while :; do
		start=$(now_ms)
		if ((g <= 5)); then f=$WORK/churn.$g; else f=$WORK/churn.$((2 + (g - 2) % 4)); fi
		tb_exec "$TB_HOST" nft -f "$f" || { echo "keep-churn: the churn transaction $g failed" >&2; exit 1; }
		echo "$g $(($(now_ms) - start))" >>"$WORK/churn.log"
		g=$((g + 1))
		sleep "$(awk -v i="$INTERVAL" -v d="$(($(now_ms) - start))" 'BEGIN { s = i - d / 1000; print (s > 0 ? s : 0) }')"
	done
}
: >"$WORK/churn.log"
churn &
churner=$!
TB_PIDS+=("$churner")

rounds0=$(wc -l <"$WORK/keep.log")
c0=$(cpu_ticks "$keeper") || tb_die "--keep is gone: $(tail -5 "$WORK/keep.log")"
w0=$(now_ms)
sleep "$WINDOW"
c1=$(cpu_ticks "$keeper") || tb_die "--keep is gone: $(tail -5 "$WORK/keep.log")"
w1=$(now_ms)
kill -0 "$churner" 2>/dev/null || tb_die "the churn generator stopped: $(tail -3 "$WORK/churn.log")"
syncs=$(wc -l <"$WORK/churn.log")
sync_ms=$(awk '{ s += $2 } END { if (NR) printf "%.0f", s / NR; else print 0 }' "$WORK/churn.log")
logged=$(($(wc -l <"$WORK/keep.log") - rounds0))
failures=()
read -r cpu_s per_hour pct <<<"$(awk -v c=$((c1 - c0)) -v hz="$hz" -v w=$((w1 - w0)) \
	'BEGIN { s = c / hz; printf "%.2f %.1f %.3f\n", s, s * 3600000 / w, s * 100000 / w }')"
echo "keep-churn: kube-proxy's nftables mode, $ruleset_desc; Tailscale's nftables tables"
echo "  every ${INTERVAL} s one nft -f transaction: $(sed 's/^[a-z-]*: //' "$WORK/gen.err")"
echo "  window: $(((w1 - w0) / 1000)) s, $syncs syncs (each nft -f took $sync_ms ms on average), $logged lines logged by --keep"
echo "  --keep's CPU: $cpu_s s in the window (user + system, its children's included): $per_hour s per hour, $pct% of one core (target < 1%)"
if awk -v p="$pct" 'BEGIN { exit !(p < 1) }'; then
	echo "  met: --keep under 1% of one core"
else
	echo "  MISSED: --keep takes $pct% of one core (target < 1%)"
	failures+=(cpu)
fi

# tailscaled restarts, the churn still going
for ((i = 1; i <= RESTARTS; i++)); do
	sleep 2
	tb_ts_remove nftables || tb_die "tb_ts_remove failed"
	tb_ts_install nftables new || tb_die "tb_ts_install failed"
	if ms=$(reachable_within 60000); then
		if ((ms < 1000)); then
			echo "  met: restart $i: the resolver answers again after $ms ms (target < 1000 ms)"
		else
			echo "  MISSED: restart $i: the resolver answers again after $ms ms (target < 1000 ms)"
			failures+=("restart $i")
		fi
	else
		echo "  MISSED: restart $i: still unreachable after $ms ms"
		failures+=("restart $i")
	fi
done
echo "  --keep's last lines:"
tail -n 3 "$WORK/keep.log" | sed 's/^/    /'
kill "$churner" 2>/dev/null || true
wait "$churner" 2>/dev/null || true
kill -TERM "$keeper"
wait "$keeper" || true
if ((${#failures[@]})); then
	echo "keep-churn: ${#failures[@]} target(s) missed"
	[ "$CHECK" = 0 ] || exit 1
else
	echo "keep-churn: every target met"
fi
exit 0
