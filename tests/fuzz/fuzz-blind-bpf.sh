#!/usr/bin/env bash
# Runs the BPF blind-spot reader's fuzz target (tc filter messages, the
# mount table) over its corpus and mutations of it: no crash, no sanitizer
# report. Its complaints about malformed messages go to a file; its tail is
# shown when the run fails.
set -euo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$top_builddir/tests/fuzz/fuzz-blind-bpf-run" "$top_srcdir"/tests/fuzz/corpus-blind-bpf/* 2>"$log" || status=$?
grep '^fuzz-main:' "$log" || true
if [ "$status" -ne 0 ]; then
	tail -n 40 "$log" >&2
	exit 1
fi
