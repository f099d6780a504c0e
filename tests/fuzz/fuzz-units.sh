#!/usr/bin/env bash
# Runs the fuzz target of the unit-file, sshd_config and sysctl.d parsers
# (and the boot analysis over them) on its corpus and mutations of it.
set -euo pipefail
exec "$top_builddir/tests/fuzz/fuzz-units-run" "$top_srcdir"/tests/fuzz/corpus-units/*
