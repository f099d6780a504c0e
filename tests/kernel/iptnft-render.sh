#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The iptables-save renderer on iptables-nft rules: rulesets loaded with
# iptables-nft-restore, collected by nft_collect() (xt blobs decoded by
# the collector as each rule is read), rendered, and compared with iptables-nft-save:
#   * the Tailscale/Docker/ufw rulesets of tests/kernel/legacy-rules.v4/.v6, where
#     iptables-nft writes tcp/udp ports, marks, limits and NFLOG natively
#   * random rulesets (tests/kernel/legacy-gen.py, seeded)
#
# CG_SEED=N fixes the first seed; CG_RANDOM_RUNS (default 3) and
# CG_RANDOM_RULES (default 300 per family) size the random part.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

DUMP=$top_builddir/tests/kernel/legacy-dump
GEN=$top_srcdir/tests/kernel/legacy-gen.py

tb_init
for tool in iptables-nft-restore iptables-nft-save ip6tables-nft-restore ip6tables-nft-save python3; do
	command -v "$tool" >/dev/null || t_skip "needs $tool"
done
[ -x "$DUMP" ] || { echo "ERROR: $DUMP not built (make check builds it)" >&2; exit 99; }
tb_tmpdir tmp

# compare_all NS LABEL: every table iptables-nft-save lists, both families
compare_all() {
	local ns=$1 label=$2 fam save table ok=true
	for fam in 4 6; do
		save=iptables-nft-save
		[ "$fam" = 6 ] && save=ip6tables-nft-save
		for table in $(tb_exec "$ns" "$save" | sed -n 's/^\*//p'); do
			tb_exec "$ns" "$save" -t "$table" | { grep -v '^#' || true; } |
				sed 's/ \[[0-9]*:[0-9]*\]$//' >"$tmp/expected"
			if ! tb_exec "$ns" "$DUMP" --nft "-$fam" -t "$table" >"$tmp/got" 2>"$tmp/err"; then
				t_fail "$label: legacy-dump --nft -$fam -t $table failed: $(cat "$tmp/err")"
				ok=false
				continue
			fi
			if ! diff -u "$tmp/expected" "$tmp/got" >"$tmp/diff"; then
				t_fail "$label: IPv$fam table $table differs from $save (- expected, + rendered):"
				head -40 "$tmp/diff" >&2
				ok=false
			fi
		done
	done
	$ok
}

# iptables-nft cannot load "! -d ::/0" (a zero-length payload): the one
# legacy-only rule of the fixtures is left out
tb_ns_add fixed fixed
for fam in 4 6; do
	restore=iptables-nft-restore
	[ "$fam" = 6 ] && restore=ip6tables-nft-restore
	grep -v -- '! -[sd] [^ ]*/0 ' "$top_srcdir/tests/kernel/legacy-rules.v$fam" >"$tmp/fixed$fam"
	tb_exec "$fixed" "$restore" <"$tmp/fixed$fam" ||
		{ echo "ERROR: $restore refused tests/kernel/legacy-rules.v$fam" >&2; exit 99; }
done
if compare_all "$fixed" "fixed rulesets"; then
	t_ok "fixed rulesets written by iptables-nft render exactly as iptables-nft-save prints them"
fi
t_run tb_exec "$fixed" "$DUMP" --nft --check --no-print
t_expect "fixed rulesets: every jump resolved, every xt blob decoded" "unresolved=0 undecoded=0" "$t_err"

seed=${CG_SEED:-$(( (RANDOM << 15 | RANDOM) ))}
runs=${CG_RANDOM_RUNS:-3}
rules=${CG_RANDOM_RULES:-300}
tb_ns_add rand rand
for ((i = 0; i < runs; i++)); do
	s=$((seed + i))
	python3 "$GEN" "$s" "$rules" 4 nft >"$tmp/r4"
	python3 "$GEN" "$s" "$rules" 6 nft >"$tmp/r6"
	if ! tb_exec "$rand" iptables-nft-restore <"$tmp/r4" 2>"$tmp/err" ||
		! tb_exec "$rand" ip6tables-nft-restore <"$tmp/r6" 2>>"$tmp/err"; then
		t_fail "random ruleset (CG_SEED=$s) did not load: $(head -3 "$tmp/err")"
		continue
	fi
	if compare_all "$rand" "random ruleset CG_SEED=$s"; then
		t_ok "random iptables-nft ruleset CG_SEED=$s ($rules rules per family) renders identically"
	else
		echo "reproduce: CG_SEED=$s CG_RANDOM_RUNS=1 CG_RANDOM_RULES=$rules make check TESTS=tests/kernel/iptnft-render.sh" >&2
	fi
done

t_done
