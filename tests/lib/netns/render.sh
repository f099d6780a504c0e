# SPDX-License-Identifier: GPL-2.0-or-later
# iptables-save's text, and the renderer judged against it (sourced by
# tests/lib/netns/lib.sh, whose tb_exec, tb_tmpdir and tb_die it uses).
# FORM is legacy or nft, FAM 4 or 6.
#
#   tb_save_tables NS FORM FAM         the tables FORM lists, one a line
#   tb_save_text NS FORM FAM TABLE     one table as iptables-*-save prints it,
#                                      without comments and counters
#   tb_load_fixtures NS FORM           tests/kernel/legacy-rules.v4/.v6
#   tb_render_matches NS LABEL FORM CMD...
#       every table of both families: `CMD -FAM -t TABLE` prints exactly the
#       save's text; each difference a t_fail (shown); fails when any
#   tb_render_random NS FORM SEED RUNS RULES TEST CMD...
#       RUNS random rulesets (tests/kernel/legacy-gen.py, seeds SEED, SEED+1...)
#       of RULES rules per family, loaded in turn: t_ok for each that
#       tb_render_matches; TEST names the test in the line that reproduces one

tb__save() { # FORM FAM: the save command
	if [ "$2" = 6 ]; then echo "ip6tables-$1-save"; else echo "iptables-$1-save"; fi
}

tb_save_tables() {
	local ns=$1 form=$2 fam=$3
	if [ "$form" = legacy ]; then
		# the kernel's own list of the tables in use
		if [ "$fam" = 4 ]; then tb_exec "$ns" cat /proc/net/ip_tables_names
		else tb_exec "$ns" cat /proc/net/ip6_tables_names; fi
	else
		tb_exec "$ns" "$(tb__save "$form" "$fam")" | sed -n 's/^\*//p'
	fi
}

tb_save_text() {
	local ns=$1 form=$2 fam=$3 table=$4
	tb_exec "$ns" "$(tb__save "$form" "$fam")" -t "$table" | { grep -v '^#' || true; } |
		sed 's/ \[[0-9]*:[0-9]*\]$//'
}

tb_load_fixtures() {
	local ns=$1 form=$2 fam restore fixture
	for fam in 4 6; do
		restore=iptables-$form-restore
		[ "$fam" = 6 ] && restore=ip6tables-$form-restore
		fixture=$top_srcdir/tests/kernel/legacy-rules.v$fam
		if [ "$form" = legacy ]; then
			tb_exec "$ns" "$restore" <"$fixture"
		else
			# iptables-nft cannot load "! -d ::/0" (a zero-length
			# payload): the one legacy-only rule is left out
			grep -v -- '! -[sd] [^ ]*/0 ' "$fixture" | tb_exec "$ns" "$restore"
		fi || tb_die "$restore refused tests/kernel/legacy-rules.v$fam"
	done
}

# A scratch directory of the helpers below, made once.
tb__scratch() {
	[ -n "${TB__SCRATCH:-}" ] || tb_tmpdir TB__SCRATCH
}

tb_render_matches() {
	local ns=$1 label=$2 form=$3 fam table ok=true cmd d
	shift 3
	cmd="${1##*/}${2:+ ${*:2}}"
	tb__scratch
	d=$TB__SCRATCH
	for fam in 4 6; do
		for table in $(tb_save_tables "$ns" "$form" "$fam"); do
			tb_save_text "$ns" "$form" "$fam" "$table" >"$d/expected"
			if ! tb_exec "$ns" "$@" "-$fam" -t "$table" >"$d/got" 2>"$d/err"; then
				t_fail "$label: $cmd -$fam -t $table failed: $(cat "$d/err")"
				ok=false
				continue
			fi
			if ! diff -u "$d/expected" "$d/got" >"$d/diff"; then
				t_fail "$label: IPv$fam table $table differs from $(tb__save "$form" "$fam") (- expected, + rendered):"
				head -40 "$d/diff" >&2
				ok=false
			fi
		done
	done
	$ok
}

tb_render_random() {
	local ns=$1 form=$2 seed=$3 runs=$4 rules=$5 test=$6 gen i s d flavour=()
	shift 6
	gen=$top_srcdir/tests/kernel/legacy-gen.py
	[ "$form" = nft ] && flavour=(nft) # rules iptables-nft can write
	tb__scratch
	d=$TB__SCRATCH
	for ((i = 0; i < runs; i++)); do
		s=$((seed + i))
		python3 "$gen" "$s" "$rules" 4 "${flavour[@]}" >"$d/r4"
		python3 "$gen" "$s" "$rules" 6 "${flavour[@]}" >"$d/r6"
		if ! tb_exec "$ns" "iptables-$form-restore" <"$d/r4" 2>"$d/load.err" ||
			! tb_exec "$ns" "ip6tables-$form-restore" <"$d/r6" 2>>"$d/load.err"; then
			t_fail "random ruleset (CG_SEED=$s) did not load: $(head -3 "$d/load.err")"
			continue
		fi
		if tb_render_matches "$ns" "random ruleset CG_SEED=$s" "$form" "$@"; then
			t_ok "random iptables-$form ruleset CG_SEED=$s ($rules rules per family) renders identically"
		else
			echo "reproduce: CG_SEED=$s CG_RANDOM_RUNS=1 CG_RANDOM_RULES=$rules make check TESTS=$test" >&2
		fi
	done
}
