#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The benchmark (tests/bench/run.sh) at a tiny size, one run each: every
# scenario's table (kube-proxy's nftables mode included) is printed with
# numbers for every tool, the kernel floor among them, and the command
# lines it timed; the last table has a row per scenario and stock tool
# (audit, stock, floor, ratios); each scenario really holds the ruleset
# (rule count); the
# audit it timed is the real one (valid JSON, 100.100.2.136 udp/53 and tcp/53
# blocked by Tailscale's CGNAT drop in ts-input); the policy scenario's table
# has every point, each audit with the file selected reporting its 2 targets
# per address; --check fails on a missed target (at this size the audit's
# RSS is many times the ruleset's text; a policy audit made slow in the
# results); bad usage exits 2. collect-speed.sh (run by run.sh) at a tiny
# size too: a row with figures and a verdict for each of its targets, --check
# failing on a missed one. The figures themselves are not judged here.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/lib.sh"
t_require_root
t_require_tools python3
[ -x /usr/bin/time ] || t_skip "needs /usr/bin/time (Debian package time)"
t_require_built "$CGNATCHECK"
RUN="$top_srcdir/tests/bench/run.sh"

out=$(mktemp -d "${TMPDIR:-/tmp}/cgnatcheck-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT

# collect-speed.sh (run.sh runs it after the scenarios) at a tiny size too
BENCH_SETTLE=0 BENCH_SPEED_NFT_RULES=300 BENCH_SPEED_NFT_RANGES=500 BENCH_SPEED_LEGACY_RULES=300 \
	BENCH_SPEED_ROUTES=1000 t_run bash "$RUN" --services 50 --endpoints 3 --elements 2000 --vmap 100 \
	--kube-services 20 --kube-endpoints 3 --routes 1000 --policy-addresses 100,1000 --policy-services 100 --runs 1 --out "$out"
printf '%s\n' "$t_out"
case $t_status in
0) t_ok "run.sh completed" ;;
77) printf '%s\n' "$t_err" >&2; t_skip "run.sh skipped" ;;
*)
	printf '%s\n' "$t_err" >&2
	t_fail "run.sh exited $t_status"
	t_done
	;;
esac

report=$t_out
num='[0-9]+\.[0-9]+'
for sc in legacy nft nftables kubenft; do
	case $sc in
	legacy) tools=("iptables-legacy-save" "nft --terse list ruleset" "nft -j --terse list ruleset") ;;
	nft) tools=("iptables-nft-save" "nft --terse list ruleset" "nft -j --terse list ruleset") ;;
	nftables) tools=("nft --terse list ruleset" "nft -j --terse list ruleset" "nft list ruleset") ;;
	kubenft) tools=("nft list ruleset" "nft --terse list ruleset") ;;
	esac
	floor="tests/bench/floor nft"
	[ "$sc" != legacy ] || floor="tests/bench/floor legacy"
	tools=("cgnatcheck --dns 100.100.2.136 --format json" "$floor" "${tools[@]}" "ip route show table all")
	# the scenario's block of the report, from its title to the next one
	block=$(awk -v t="== $sc (" 'index($0, t) == 1 { on = 1; print; next } /^== / { on = 0 } on' <<<"$report")
	if [ -z "$block" ]; then
		t_fail "$sc: no table printed"
		continue
	fi
	for tool in "${tools[@]}"; do
		# tool, runs, wall s, peak RSS MiB, audit/tool wall, audit/tool RSS
		if grep -Eq "^  $(sed 's/[.[*^$]/\\&/g' <<<"$tool") +1 +$num +$num +($num|-) +$num\$" <<<"$block"; then
			t_ok "$sc: $tool: wall time and peak RSS measured"
		else
			t_fail "$sc: no row with numbers for '$tool'"
		fi
		# (the floor's command line has it by its path)
		pat=" ${tool#cgnatcheck }"
		[[ $tool != tests/* ]] || pat="/$tool"
		grep -Fq "/usr/bin/time -v" <<<"$(grep -F -- "$pat" <<<"$block")" ||
			t_fail "$sc: the command line of '$tool' is not printed"
	done
	grep -Eq "^  audit peak RSS / [a-z -]+ text: $num " <<<"$block" ||
		t_fail "$sc: the audit's RSS against the text size is not printed"
	# the ruleset is really there: kube-proxy's rules (8 + 50 * 11 nat, 14
	# filter) plus Tailscale's, counted in iptables-*-save's text
	if [ "$sc" = kubenft ]; then
		# kube-proxy's: 20 service chains of 2 rules, 60 endpoint chains of
		# 2, 5 external chains of 2, 22 in its fixed chains; Tailscale's
		rules=$(awk -F'\t' '$1 == "kubenft" && $2 == "rules" { print $3 }' "$out/meta.tsv")
		if [ "${rules:-0}" -ge 192 ]; then
			t_ok "kubenft: $rules rules read by the floor"
		else
			t_fail "kubenft: expected at least 192 rules read by the floor, got '${rules:-}'"
		fi
		grep -Eq "^  the floor read: nft: [0-9]+ chains, [0-9]+ rules, [0-9]+ bytes\$" <<<"$block" ||
			t_fail "kubenft: what the floor read is not printed"
	elif [ "$sc" != nftables ]; then
		rules=$(awk -F'\t' -v s="$sc" '$1 == s && $2 == "rules" { print $3 }' "$out/meta.tsv")
		if [ "${rules:-0}" -ge 572 ]; then
			t_ok "$sc: $rules rules loaded"
		else
			t_fail "$sc: expected at least 572 rules in iptables-$sc-save's text, got '${rules:-}'"
		fi
	fi
	# the audit the benchmark timed
	t_run python3 - "$out/$sc.cgnatcheck.json" "$sc" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
ts = [t for t in r["targets"] if t["address"] == "100.100.2.136"]
assert {(t["proto"], t["port"]) for t in ts} == {("udp", 53), ("tcp", 53)}, ts
for t in ts:
    assert t["verdict"] == "blocked", (t["proto"], t["verdict"])
    b = t["blocked_by"]
    assert b and b["chain"] == "ts-input" and "100.64.0.0/10" in b["text"], b
    want = {"legacy": "iptables-legacy", "nft": "iptables-nft", "nftables": "nftables",
            "kubenft": "nftables"}[sys.argv[2]]
    assert b["backend"] == want, (b["backend"], want)
print("ok")
EOF
	if [ "$t_status" = 0 ]; then
		t_ok "$sc: the audit's JSON is valid and reports 100.100.2.136 blocked by Tailscale's CGNAT drop"
	else
		t_fail "$sc: the audit's JSON: ${t_err:-missing}"
	fi
done
# the last table: a row per scenario and stock tool, with the audit, the
# stock tool, the floor and the ratios (a ratio is "-" when the tool took
# less than the 10 ms /usr/bin/time resolves)
block=$(awk 'index($0, "== audit, stock tool and kernel floor") == 1 { on = 1; print; next } /^== / { on = 0 } on' <<<"$report")
for row in "legacy|iptables-legacy-save" "nft|iptables-nft-save" "nft|nft --terse list ruleset" \
	"nftables|nft list ruleset" "kubenft|nft list ruleset" "kubenft|nft --terse list ruleset"; do
	IFS='|' read -r sc tool <<<"$row"
	if grep -Eq "^  $sc \([^)]*\) +$(sed 's/[.[*^$]/\\&/g' <<<"$tool") +$num +$num +$num +($num|-) +($num|-) +$num +$num\$" <<<"$block"; then
		t_ok "last table: $sc, $tool: audit, stock tool and floor measured"
	else
		t_fail "last table: no row with numbers for $sc and '$tool'"
	fi
done
# every target printed with its verdict: the audit's verdict in each scenario
for sc in legacy nft nftables kubenft; do
	grep -q "^  met: $sc: the audit reports 100.100.2.136 udp/53 blocked, tcp/53 blocked\$" <<<"$report" ||
		t_fail "$sc: the audit's verdict is not printed as a met target"
done

# the nftables scenario has the set's elements: nft list ruleset's text holds 2,000 ranges
bytes=$(awk -F'\t' '$1 == "nftables" && $2 == "bytes.nft-full" { print $3 }' "$out/meta.tsv")
if [ "${bytes:-0}" -gt 30000 ]; then
	t_ok "nftables: nft list ruleset printed $bytes bytes (the set's elements)"
else
	t_fail "nftables: nft list ruleset's text is only '${bytes:-}' bytes: is the set loaded?"
fi

# the policy scenario: a row of numbers per point, the file's targets
block=$(awk 'index($0, "== policy:") == 1 { on = 1; print; next } /^== / { on = 0 } on' <<<"$report")
if [ -z "$block" ]; then
	t_fail "policy: no table printed"
else
	for row in "no file||" "100 addresses, 1 service|200|202" "1,000 addresses, 1 service|2000|2002" \
		"100 services|200|202"; do
		IFS='|' read -r what targets blocked <<<"$row"
		# point, file bytes, present s and MiB; selected s and MiB, its
		# targets, us and KiB per address (over the point without the
		# file: at this size a run may be as fast as that one); the same
		# beside Tailscale's rules, with the targets blocked (the file's
		# and --dns 100.100.2.136's two)
		if [ -z "$targets" ]; then
			re="^  $what +0 +$num +$num +- +- +- +-\$"
		else
			re="^  $what +[0-9,]+ +$num +$num +$num +$num +$targets +-?$num +-?$num +$num +$num +$blocked +-?$num +-?$num\$"
		fi
		if grep -Eq "$re" <<<"$block"; then
			t_ok "policy: $what: measured${targets:+, $targets targets from the file, $blocked blocked beside Tailscale}"
		else
			t_fail "policy: no row '$what' with its numbers${targets:+ and $targets targets, $blocked blocked}"
		fi
	done
	for c in "--dns 100.100.2.136 --format json" "--dns 100.100.2.136 --policy bench-large --format json"; do
		grep -Fq -- "/usr/bin/time -v" <<<"$(grep -F -- "$c" <<<"$block")" ||
			t_fail "policy: the command line with '$c' is not printed"
	done
fi
# its --check fails on an audit made slow (0.60 s with the file present)
mkdir "$out/slow"
cp "$out/meta.tsv" "$out/slow/"
awk -F'\t' -v OFS='\t' '$1 == "policy-a1000" && $2 == "policy-load" { $4 = "0.60" } 1' "$out/results.tsv" \
	>"$out/slow/results.tsv"
t_run python3 "$top_srcdir/tests/bench/report.py" "$out/slow" --check
if [ "$t_status" = 1 ] && grep -q "MISSED: policy 1,000 addresses, 1 service: the audit with the file present took 0.60 s" <<<"$t_out"; then
	t_ok "policy: --check exits 1 on a slow audit and names it"
else
	t_fail "policy: --check on a slow audit: exit $t_status, output: $(tail -n 5 <<<"$t_out")"
fi
# collect-speed.sh: a row with both figures and a verdict for every target
speed_rows=("nft_collect(), 300 rules" "nft_collect(), + 500 ranges dumped" "nft_collect(), + 500 ranges lazy"
	"nft_collect(), the lazy set's element phase" "the audit (cgnatcheck --dns), lazy set"
	"legacy_collect(), 300 kube-proxy rules" "route dump + index + 1000 lookups, 1000 routes"
	"100000 lookups, a set of 1000000 ranges" "resolving 300000 jumps over 50000 chains")
# (a sanitizer build's figures are printed and not judged: its rows say so)
verdicts='met|MISSED'
t_sanitized "$CGNATCHECK" && verdicts='not judged \(sanitizer build\)'
for row in "${speed_rows[@]}"; do
	if grep -Eq "^  $(sed 's/[.[*^$()+]/\\&/g' <<<"$row") +[0-9.]+ +<=? +[0-9.]+ +(s|ms) +($verdicts) \(" <<<"$report"; then
		t_ok "collect-speed: $row: measured and judged"
	else
		t_fail "collect-speed: no row with figures for '$row'"
	fi
done
t_expect "collect-speed: its figures kept in speed.tsv" "${#speed_rows[@]}" "$(wc -l <"$out/speed.tsv")"
# its --check fails on a missed target (a budget of 0 ms), and says which
t_run bash "$top_srcdir/tests/bench/collect-speed.sh" --parts route --routes 1000 --runs 1 --route-budget-ms 0 --check
if t_sanitized "$CGNATCHECK"; then
	# nothing is judged in a sanitizer build, not even with --check
	if [ "$t_status" = 0 ] && grep -q "route dump .* not judged (sanitizer build)" <<<"$t_out"; then
		t_ok "collect-speed --check in a sanitizer build: prints, does not judge"
	else
		t_fail "collect-speed --check, sanitizer build: exit $t_status, output: $(tail -n 3 <<<"$t_out")"
	fi
elif [ "$t_status" = 1 ] && grep -q "route dump .* MISSED" <<<"$t_out"; then
	t_ok "collect-speed --check exits 1 and names the missed target"
else
	t_fail "collect-speed --check on a missed target: exit $t_status, output: $(tail -n 3 <<<"$t_out") $(tail -n 3 <<<"$t_err")"
fi
t_run bash "$top_srcdir/tests/bench/collect-speed.sh" --parts nosuch
t_expect "collect-speed: bad usage exits 2" 2 "$t_status"

# and when a target is not blocked beside Tailscale's CGNAT drop
mkdir "$out/open"
cp "$out/results.tsv" "$out/open/"
awk -F'\t' -v OFS='\t' '$1 == "policy-a1000" && $2 == "blocked.policy-blocked" { $3 = "2000" } 1' "$out/meta.tsv" \
	>"$out/open/meta.tsv"
t_run python3 "$top_srcdir/tests/bench/report.py" "$out/open" --check
if [ "$t_status" = 1 ] &&
	grep -q "MISSED: policy 1,000 addresses, 1 service: 2000 targets blocked beside Tailscale's rules, expected 2002" <<<"$t_out"; then
	t_ok "policy: --check exits 1 when a target is not blocked beside Tailscale and names it"
else
	t_fail "policy: --check on a target not blocked: exit $t_status, output: $(tail -n 5 <<<"$t_out")"
fi

# --check must be able to fail: at this size the audit's peak RSS is many
# times the few kilobytes of iptables-save text
t_run python3 "$top_srcdir/tests/bench/report.py" "$out" --check
if [ "$t_status" = 1 ] && grep -q "MISSED: legacy: the audit's peak RSS" <<<"$t_out"; then
	t_ok "--check exits 1 and names the missed target"
else
	t_fail "--check on a missed target: exit $t_status, output: $(tail -n 5 <<<"$t_out")"
fi
t_run bash "$RUN" --runs x
t_expect "bad usage exits 2" 2 "$t_status"
t_done
