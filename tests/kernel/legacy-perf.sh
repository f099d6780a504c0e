#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# legacy_collect() on a kube-proxy sized nat table (tests/bench/kube-gen.py,
# 3 endpoints a service, the nat table alone: KUBE-SERVICES, KUBE-SVC-* with
# "-m statistic", KUBE-SEP-* with DNAT), loaded with iptables-legacy-restore
# into a namespace of its own: the rendered model equals
# iptables-legacy-save's text, every jump resolved and every extension
# decoded. Its CPU time and the model's arena size are printed, not judged:
# the comparison with iptables-legacy-save (within 1.5x) is the benchmark's
# (tests/bench/collect-speed.sh).
#
# CG_PERF_RULES (default 30000; 300000 for the kube-proxy scale figures)
# sizes the test.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

DUMP=$top_builddir/tests/kernel/legacy-dump
rules=${CG_PERF_RULES:-30000}

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

t_run tb_exec "$ns" "$DUMP" -4 -t nat --check --no-print --stats
t_expect "legacy_collect(): every jump resolved, every extension decoded" "unresolved=0 undecoded=0" \
	"$(grep -o 'unresolved=[0-9]* undecoded=[0-9]*' <<<"$t_err" || true)"
cpu=$(sed -n 's/.*collect_cpu_ms=\([0-9]*\).*/\1/p' <<<"$t_err")
wall=$(sed -n 's/.*collect_ms=\([0-9]*\).*/\1/p' <<<"$t_err")
arena=$(sed -n 's/.*arena_bytes=\([0-9]*\).*/\1/p' <<<"$t_err")
text=$(wc -c <"$tmp/expected")
echo "rules=$rules legacy_collect: ${cpu:-?} ms CPU (${wall:-?} ms wall); arena ${arena:-?} bytes," \
	"the iptables-save text ${text} bytes" >&2

t_done
