#!/usr/bin/env bash
# Runs the iptables-legacy snapshot parser's fuzz target over its corpus (real
# kernel snapshots) and mutations of it: no crash, no sanitizer report. The
# parser's complaints about broken inputs go to a file; its tail is shown when
# the run fails.
set -euo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$top_builddir/tests/fuzz/fuzz-legacy-run" "$top_srcdir"/tests/fuzz/corpus-legacy/*.bin 2>"$log" || status=$?
grep '^fuzz-main:' "$log" || true
if [ "$status" -ne 0 ]; then
	tail -n 40 "$log" >&2
	exit 1
fi
