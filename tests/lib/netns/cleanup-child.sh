#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Helper of testbed-cleanup.sh, not a test: `cleanup-child.sh MODE MARKER`.
# Builds the full scenario (namespaces, background responders, temporary
# directories), writes what it made to MARKER (written through a rename, so
# the parent never reads half of it), then, depending on MODE:
#   exit   exits 0 normally
#   fail   dies as a broken test bed does (tb_die, exit 99)
#   wait   waits for a signal (the parent sends one)
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}/tests/lib/netns/lib.sh"

mode=$1 marker=$2
tb_init
tb_scenario
tb_host_listen 8080/tcp || tb_die "the host's listener did not start"
{
	echo "prefix $TB_PREFIX"
	echo "pids ${TB_PIDS[*]}"
	echo "tmpdirs ${TB_TMPDIRS[*]}"
} >"$marker.tmp"
mv "$marker.tmp" "$marker"

case $mode in
exit) exit 0 ;;
fail) tb_die "failing on purpose" ;;
wait)
	# A foreground `sleep` would delay the trap until it ends; `wait`
	# returns as soon as a signal arrives. The sleep is registered so the
	# cleanup ends it too.
	sleep 60 &
	TB_PIDS+=("$!")
	wait "$!"
	exit 3 # not reached when the signal is handled
	;;
esac
