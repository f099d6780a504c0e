#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# legacy_collect() on a kube-proxy sized nat table (tests/bench/kube-gen.py,
# 3 endpoints a service, the nat table alone: KUBE-SERVICES, KUBE-SVC-* with
# "-m statistic", KUBE-SEP-* with DNAT),
# loaded with iptables-legacy-restore into a namespace of its own, against
# iptables-legacy-save on the same table:
#   * the rendered model equals iptables-legacy-save's text
#   * collecting (libiptc snapshot + model) costs no more CPU than
#     iptables-legacy-save (snapshot + text); best of CG_PERF_RUNS runs each,
#     CPU time rather than wall time so a busy machine does not decide
#   * the model's arena size is printed next to the size of the text
#
# CG_PERF_RULES (default 30000; 300000 for the kube-proxy scale figures) and
# CG_PERF_RUNS (default 3) size the test.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

DUMP=$top_builddir/tests/kernel/legacy-dump
rules=${CG_PERF_RULES:-30000}
runs=${CG_PERF_RUNS:-3}

tb_test_init iptables-legacy-restore iptables-legacy-save python3 "$DUMP"
tb_tmpdir tmp
tb_ns_add ns kube

python3 "$top_srcdir/tests/bench/kube-gen.py" --rules "$rules" --endpoints 3 --no-filter >"$tmp/rules"
start=$(date +%s%N)
tb_exec "$ns" iptables-legacy-restore <"$tmp/rules" ||
	{ echo "ERROR: iptables-legacy-restore refused the generated table" >&2; exit 99; }
echo "loaded $(grep -c '^-A' "$tmp/rules") rules in $((($(date +%s%N) - start) / 1000000)) ms" >&2

# the same text first: a fast collector that reads the wrong thing is no use
tb_save_text "$ns" legacy 4 nat >"$tmp/expected"
tb_exec "$ns" "$DUMP" -4 -t nat >"$tmp/got"
if cmp -s "$tmp/expected" "$tmp/got"; then
	t_ok "$rules kube-proxy rules render exactly as iptables-legacy-save prints them"
else
	t_fail "the rendered kube-proxy table differs from iptables-legacy-save:"
	diff -u "$tmp/expected" "$tmp/got" | head -20 >&2 || true
fi

# CPU milliseconds of a command (user + sys of it and its children)
cpu_ms() {
	local t
	t=$( { TIMEFORMAT='%3U %3S'; time "$@" >/dev/null 2>&1; } 2>&1 )
	awk -v u="${t% *}" -v s="${t#* }" 'BEGIN { printf "%d\n", (u + s) * 1000 }'
}

best_save=999999999 best_collect=999999999 best_collect_wall=999999999
for ((i = 0; i < runs; i++)); do
	ms=$(cpu_ms tb_exec "$ns" iptables-legacy-save -t nat)
	((ms < best_save)) && best_save=$ms
	stats=$(tb_exec "$ns" "$DUMP" -4 -t nat --no-print --stats 2>&1 >/dev/null)
	cpu=$(sed -n 's/.*collect_cpu_ms=\([0-9]*\).*/\1/p' <<<"$stats")
	wall=$(sed -n 's/.*collect_ms=\([0-9]*\).*/\1/p' <<<"$stats")
	arena=$(sed -n 's/.*arena_bytes=\([0-9]*\).*/\1/p' <<<"$stats")
	((cpu < best_collect)) && best_collect=$cpu
	((wall < best_collect_wall)) && best_collect_wall=$wall
done
text=$(wc -c <"$tmp/expected")
echo "rules=$rules iptables-legacy-save: ${best_save} ms CPU; legacy_collect: ${best_collect} ms CPU" \
	"(${best_collect_wall} ms wall); arena ${arena} bytes = $(awk -v a="$arena" -v t="$text" \
	'BEGIN { printf "%.1f", a / t }') x the ${text} bytes of iptables-save text" >&2
# A sanitizer build runs several times slower: its figures are printed,
# not compared.
if t_sanitized "$DUMP" 'libasan|libubsan'; then
	t_ok "sanitizer build: timings printed, not compared"
elif ((best_collect <= best_save * 3 / 2)); then
	# a margin for a loaded machine (tests run in parallel); a quadratic
	# regression would be many times slower, not 1.5x
	t_ok "legacy_collect (${best_collect} ms CPU) vs iptables-legacy-save (${best_save} ms CPU): within 1.5x"
else
	t_fail "legacy_collect took ${best_collect} ms CPU, iptables-legacy-save ${best_save} ms CPU ($rules rules)"
fi

t_done
