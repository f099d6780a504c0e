#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A large routing state: 100,000 routes in three tables, one dump + index +
# 1,000 lookups (tests/kernel/route-perf.c), in a namespace of its own: every
# route is collected and every lookup answers. How fast is the benchmark's
# (tests/bench/collect-speed.sh, its budget of 1 s), not make check's.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

prog="$top_builddir/tests/kernel/route-perf"
tb_test_init "$prog"

tb_ns_add NS perf
tb_ns_run "$NS" "a dump of 100000 routes collects them all, 1000 lookups answer" \
	"a dump of 100000 routes + 1000 lookups failed" "$prog" 100000 1000
t_done
