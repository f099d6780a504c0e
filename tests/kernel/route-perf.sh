#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Performance: a dump of 100,000 routes plus 1,000 lookups in well under a
# second (tests/kernel/route-perf.c), in a namespace of its own.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

prog="$top_builddir/tests/kernel/route-perf"
tb_test_init "$prog"

tb_ns_add NS perf
budget=${CG_ROUTE_PERF_BUDGET_MS:-1000}
tb_ns_run "$NS" "dump of 100000 routes + 1000 lookups within ${budget} ms" \
	"dump of 100000 routes + 1000 lookups took more than ${budget} ms" "$prog" 100000 1000 "$budget"
t_done
