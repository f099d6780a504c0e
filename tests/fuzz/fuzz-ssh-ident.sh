#!/usr/bin/env bash
# Runs the fuzz target of the SSH identification parser (the live probe's
# readiness check) on its corpus and mutations of it.
set -euo pipefail
exec "$top_builddir/tests/fuzz/fuzz-ssh-ident-run" "$top_srcdir"/tests/fuzz/corpus-ssh-ident/*
