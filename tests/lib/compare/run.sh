#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs shell tests of a build tree with its cgnatcheck wrapped, keeping what
# every run printed: the outputs of two builds (before and after a refactor)
# are then compared with tests/lib/compare/diff.py.
#
#   tests/lib/compare/run.sh TREE OUTDIR [TEST...]
#
# TREE: a built tree (its ./cgnatcheck, its tests); TEST: a test's name
# (audit-scenarios, fix-cli, ...), looked up under TREE/tests/*/; default:
# every kernel and unit shell test that runs cgnatcheck. Needs root.
set -u
tree=$(cd "${1:?usage: run.sh TREE OUTDIR [TEST...]}" && pwd)
out=${2:?usage: run.sh TREE OUTDIR [TEST...]}
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ $# -eq 0 ]; then
	set -- $(cd "$tree" && grep -l 'CGNATCHECK\|tb_audit' tests/kernel/*.sh tests/unit/*.sh | xargs -n1 basename | sed 's/\.sh$//')
fi
for t in "$@"; do
	f=$(cd "$tree" && ls tests/"$t".sh tests/*/"$t".sh 2>/dev/null | head -1)
	[ -n "$f" ] || { echo "run.sh: no test $t in $tree" >&2; continue; }
	(cd "$tree" && top_srcdir=$tree top_builddir=$tree CG_CAPTURE_REAL=$tree/cgnatcheck \
		CG_CAPTURE_DIR=$out/$t CGNATCHECK=$here/wrap.sh bash "$f" >"$out/$t.log" 2>&1)
	echo "$t: exit $?" | tee -a "$out/summary"
done
