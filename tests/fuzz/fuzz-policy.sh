#!/usr/bin/env bash
# Runs the policy parser's fuzz target over its corpus and mutations of it.
set -euo pipefail
exec "$top_builddir/tests/fuzz/fuzz-policy-run" "$top_srcdir"/tests/fuzz/corpus-policy/*
