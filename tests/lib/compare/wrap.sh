#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Capture wrapper (tests/lib/compare/run.sh sets it as CGNATCHECK): records
# the arguments, standard output and standard error of each run under
# $CG_CAPTURE_DIR, then becomes the real binary $CG_CAPTURE_REAL (exec: the
# caller's signals, exit status and process id stay the real program's).
real=${CG_CAPTURE_REAL:?}
dir=${CG_CAPTURE_DIR:?}
# a run the capture cannot write for (the tests run some as nobody) runs
# uncaptured
mkdir -p "$dir" 2>/dev/null && [ -w "$dir" ] || exec "$real" "$@"
n=0
while ! mkdir "$dir/$n" 2>/dev/null; do
	[ -e "$dir/$n" ] || exec "$real" "$@"
	n=$((n + 1))
done
printf '%s\0' "$@" >"$dir/$n/args"
# the namespace it runs in: tests run cases at once in test beds of their
# own (tb_spawn), so runs with the same arguments pair up by namespace too
ip netns identify 2>/dev/null >"$dir/$n/netns" || true
exec "$real" "$@" > >(tee "$dir/$n/stdout") 2> >(tee "$dir/$n/stderr" >&2)
