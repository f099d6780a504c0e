#!/usr/bin/env bash
# Runs discover_config()'s parsers' fuzz target over its corpus and
# mutations of it.
set -euo pipefail
exec "$top_builddir/tests/fuzz/fuzz-discover-config-run" "$top_srcdir"/tests/fuzz/corpus-discover-config/*
