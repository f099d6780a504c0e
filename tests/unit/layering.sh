#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The pipeline's layering over the build's objects (tests/lib/layering.py):
# no call runs backwards, no files call each other in a cycle. The checker
# is itself checked: a planted backward call (util calling the audit) and a
# planted cycle (two model files calling each other) must each fail it,
# naming the file and the symbol.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

check=$top_srcdir/tests/lib/layering.py
command -v nm >/dev/null || t_skip "needs nm (binutils)"
[ -f "$top_builddir/src/util/log.o" ] || t_skip "no objects in $top_builddir/src (build first)"

t_run python3 "$check" "$top_builddir" "$top_srcdir"
t_expect "the build's objects follow the pipeline" 0 "$t_status"
[ "$t_status" -eq 0 ] || echo "$t_out" >&2
case $t_out in *"0 problems"*) t_ok "checker reports its count" ;; *) t_fail "no count: $t_out" ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# a copy of the objects, with (empty) sources beside them: the checker reads
# only objects whose source exists
(cd "$top_builddir" && find src -name '*.o' -exec cp --parents {} "$tmp/" \;)
(cd "$tmp" && find src -name '*.o' | while read -r o; do if [ -e "$top_srcdir/${o%.o}.c" ]; then : >"${o%.o}.c"; fi; done)
cc=${CC:-cc}

# a planted backward call: a util file calling the audit stage
mkdir -p "$tmp/planted/src/util"
cp -r "$tmp/src" "$tmp/planted/"
printf 'int audit_run(void *);\nint planted_util(void *a) { return audit_run(a); }\n' >"$tmp/p.c"
$cc -c -o "$tmp/planted/src/util/planted.o" "$tmp/p.c"
: >"$tmp/planted/src/util/planted.c"
t_run python3 "$check" "$tmp/planted"
t_expect "a planted backward call fails" 1 "$t_status"
case $t_out in
*"backward call: src/util/planted.o (util) -> src/audit/audit.o (audit): audit_run"*) t_ok "names the file, the stage and the symbol" ;;
*) t_fail "backward call not named: $t_out" ;;
esac

# a planted file cycle inside one folder
mkdir -p "$tmp/cycle"
cp -r "$tmp/src" "$tmp/cycle/"
printf 'int cyc_b(int);\nint cyc_a(int n) { return n ? cyc_b(n - 1) : 0; }\n' >"$tmp/a.c"
printf 'int cyc_a(int);\nint cyc_b(int n) { return n ? cyc_a(n - 1) : 1; }\n' >"$tmp/b.c"
$cc -c -o "$tmp/cycle/src/model/cyc-a.o" "$tmp/a.c"
$cc -c -o "$tmp/cycle/src/model/cyc-b.o" "$tmp/b.c"
: >"$tmp/cycle/src/model/cyc-a.c"; : >"$tmp/cycle/src/model/cyc-b.c"
t_run python3 "$check" "$tmp/cycle"
t_expect "a planted file cycle fails" 1 "$t_status"
case $t_out in
*"file cycle: src/model/cyc-a.o src/model/cyc-b.o"*) t_ok "names the cycle" ;;
*) t_fail "cycle not named: $t_out" ;;
esac

# an object outside the pipeline's folders
mkdir -p "$tmp/stray"
cp -r "$tmp/src" "$tmp/stray/"
mkdir -p "$tmp/stray/src/misc"
$cc -c -o "$tmp/stray/src/misc/a.o" "$tmp/a.c"
: >"$tmp/stray/src/misc/a.c"
t_run python3 "$check" "$tmp/stray"
t_expect "an object outside the folders fails" 1 "$t_status"

t_done
