#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Performance: a dump of 100,000 routes plus 1,000 lookups in well under a
# second (tests/kernel/route-perf.c), in a namespace of its own.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

tb_init
prog="$top_builddir/tests/kernel/route-perf"
[ -x "$prog" ] || { echo "ERROR: $prog not built (make check builds it)" >&2; exit 99; }

tb_ns_add NS perf
host_netns=$(stat -L -c %i /proc/self/ns/net)
budget=${CG_ROUTE_PERF_BUDGET_MS:-1000}
t_run tb_exec "$NS" env CG_TEST_HOST_NETNS="$host_netns" "$prog" 100000 1000 "$budget"
printf '%s\n' "$t_out"
[ -z "$t_err" ] || printf '%s\n' "$t_err" >&2
case $t_status in
0) t_ok "dump of 100000 routes + 1000 lookups within ${budget} ms" ;;
99) echo "ERROR: route-perf could not run" >&2; exit 99 ;;
*) t_fail "dump of 100000 routes + 1000 lookups took more than ${budget} ms" ;;
esac
t_done
