#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The test bed cleans up after itself, however a test ends. A child script
# (cleanup-child.sh) builds the full scenario, with responders running in its
# namespaces, and then exits normally, dies as a broken test bed does (99),
# or is killed with SIGTERM or SIGHUP while everything exists. Each time: the
# child's exit status is the expected one, and none of its namespaces (its
# prefix is cgt<pid>-), processes or temporary directories remains.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}/tests/lib/netns/lib.sh"

tb_init
child=$top_srcdir/tests/lib/netns/cleanup-child.sh
tb_tmpdir dir

leftover_namespaces() { # PREFIX
	ip netns list | awk '{ print $1 }' | grep -F -- "$1" || true
}

# run_child MODE [SIGNAL] EXPECTED_STATUS
run_child() {
	local mode=$1 sig=$2 want=$3 marker pid st prefix pids tmpdirs p alive=""
	marker="$dir/$mode-$sig.marker"
	bash "$child" "$mode" "$marker" >"$dir/$mode-$sig.log" 2>&1 &
	pid=$!
	# Everything is built once the marker exists (every mode writes it).
	if ! tb_wait_file "$marker" 20 "$pid"; then
		t_fail "$mode/$sig: the child never got ready: $(cat "$dir/$mode-$sig.log")"
		kill -KILL "$pid" 2>/dev/null || true
		return
	fi
	prefix=$(sed -n 's/^prefix //p' "$marker")
	pids=$(sed -n 's/^pids //p' "$marker")
	tmpdirs=$(sed -n 's/^tmpdirs //p' "$marker")
	t_expect "$mode/$sig: the child's prefix is cgt<its pid>-" "cgt$pid-" "$prefix"
	if [ "$sig" != none ]; then
		# The namespaces must exist at the moment of the kill, or the
		# test would prove nothing.
		case $(leftover_namespaces "$prefix") in
		*"${prefix}host"*"${prefix}prov"* | *"${prefix}prov"*"${prefix}host"*)
			t_ok "$mode/$sig: the child's namespaces exist before the signal" ;;
		*) t_fail "$mode/$sig: the child's namespaces are not there: $(ip netns list)" ;;
		esac
		kill -s "$sig" "$pid"
	fi
	if ! tb_wait_exit "$pid" 10; then
		t_fail "$mode/$sig: the child is still running after 10 s"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	st=0
	wait "$pid" || st=$?
	t_expect "$mode/$sig: the child's exit status" "$want" "$st"
	t_expect "$mode/$sig: no namespace with the child's prefix remains" "" "$(leftover_namespaces "$prefix")"
	for p in $pids; do
		kill -0 "$p" 2>/dev/null && alive="$alive $p"
	done
	t_expect "$mode/$sig: none of the child's background processes survives" "" "$alive"
	for p in $tmpdirs; do
		[ ! -e "$p" ] || alive="$alive $p"
	done
	t_expect "$mode/$sig: none of the child's temporary directories survives" "" "$alive"
}

run_child exit none 0
run_child fail none 99
run_child wait TERM 130
run_child wait HUP 130

t_done
