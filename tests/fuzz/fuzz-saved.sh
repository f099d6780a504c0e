#!/usr/bin/env bash
# Runs the saved-audit reader's fuzz target over its corpus and mutations of
# it: no crash, no sanitizer report. Its complaints about broken files go to a
# file; its tail is shown when the run fails.
set -euo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$top_builddir/tests/fuzz/fuzz-saved-run" "$top_srcdir"/tests/fuzz/corpus-saved/*.cgsave 2>"$log" || status=$?
grep '^fuzz-main:' "$log" || true
if [ "$status" -ne 0 ]; then
	tail -n 40 "$log" >&2
	exit 1
fi
