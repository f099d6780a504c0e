#!/usr/bin/env bash
# Runs the fuzz target of what the port-holder scan parses of a process
# (/proc/PID/cmdline, stat, cgroup) on its corpus and mutations of it.
set -euo pipefail
exec "$top_builddir/tests/fuzz/fuzz-port-holders-run" "$top_srcdir"/tests/fuzz/corpus-port-holders/*
