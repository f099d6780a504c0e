#!/usr/bin/env bash
# Runs the DHCP lease parsers' fuzz target over its corpus and mutations of it.
set -euo pipefail
exec "$top_builddir/tests/fuzz/fuzz-leases-run" "$top_srcdir"/tests/fuzz/corpus-leases/*
