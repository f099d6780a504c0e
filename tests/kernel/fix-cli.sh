#!/usr/bin/env bash
# cgnatcheck --fix / --dry-run / --undo against the kernel, in each firewall
# form: the dry run changes nothing and prints the commands; the fix makes
# the resolver reachable and adds only tagged rules; a second run changes
# nothing; --undo restores the ruleset exactly; other 100.64.0.0/10 traffic
# and a spoofed NEW from the resolver's address stay dropped.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3
tb_audit_env WORK
tb_scenario
tb_host_listen 8080/tcp

dump() { tb_fw_dump "$1" | sed -E 's/\[[0-9]+:[0-9]+\]//; s/counter packets [0-9]+ bytes [0-9]+/counter/' | grep -v '^#'; }

# Adds and removes a foreign rule in the filter table's INPUT, 300 times.
writer() { # FORM
	local i h
	for ((i = 0; i < 300; i++)); do
		case $1 in
		legacy | nft)
			tb_exec "$TB_HOST" "iptables-$1" -w -A INPUT -s 192.0.2.1 -j ACCEPT || return 1
			tb_exec "$TB_HOST" "iptables-$1" -w -D INPUT -s 192.0.2.1 -j ACCEPT || return 1 ;;
		nftables)
			h=$(tb_exec "$TB_HOST" nft --echo --handle add rule ip filter INPUT ip saddr 192.0.2.1 accept |
				sed -n 's/.*# handle \([0-9]*\).*/\1/p')
			[ -n "$h" ] || return 1
			tb_exec "$TB_HOST" nft delete rule ip filter INPUT handle "$h" || return 1 ;;
		esac
	done
}

for form in legacy nft nftables; do
	tb_ts_install "$form" new
	dump "$form" >"$WORK/orig"

	tb_audit "$form --dry-run" 2 --fix --dry-run --dns 100.100.2.136
	t_expect "$form --dry-run: two commands planned" "dry-run dry-run" \
		"$(tb_json '" ".join(c["result"] for c in r["changes"])')"
	dump "$form" >"$WORK/now"
	diff -q "$WORK/orig" "$WORK/now" >/dev/null && t_ok "$form --dry-run: nothing changed" ||
		t_fail "$form --dry-run changed the ruleset: $(diff "$WORK/orig" "$WORK/now")"

	tb_audit "$form --fix" 0 --fix --dns 100.100.2.136
	t_expect "$form --fix: applied, and verified reachable" "applied:reachable applied:reachable" \
		"$(tb_json '" ".join(c["result"] + ":" + str(c["after"]) for c in r["changes"])')"
	tb_expect_probe "$form --fix: the resolver answers (udp)" reply 100.100.2.136 53 udp
	tb_expect_probe "$form --fix: the resolver answers (tcp)" reply 100.100.2.136 53 tcp
	tb_expect_probe "$form --fix: 100.100.2.138 is still dropped" timeout 100.100.2.138 53 udp
	tb_expect_inbound "$form --fix: a spoofed NEW from 100.100.2.136 is still dropped" timeout 8080 tcp --from 100.100.2.136
	dump "$form" >"$WORK/fixed"
	added=$(diff "$WORK/orig" "$WORK/fixed" | grep -c '^>' || true)
	removed=$(diff "$WORK/orig" "$WORK/fixed" | grep -c '^<' || true)
	t_expect "$form --fix: two rules added, none removed" "2 0" "$added $removed"
	t_expect "$form --fix: every added rule is tagged" "2" \
		"$(diff "$WORK/orig" "$WORK/fixed" | grep '^>' | grep -c 'cgnatcheck:' || true)"

	for ((run = 0; run < 100; run++)); do
		tb_exec "$TB_HOST" "$CGNATCHECK" --fix --quiet --dns 100.100.2.136 >/dev/null 2>&1 ||
			t_fail "$form --fix run $run failed"
	done
	dump "$form" >"$WORK/now"
	diff -q "$WORK/fixed" "$WORK/now" >/dev/null && t_ok "$form: 100 more --fix runs added nothing" ||
		t_fail "$form: 100 more --fix runs changed the ruleset: $(diff "$WORK/fixed" "$WORK/now")"

	tb_audit "$form --undo" 0 --undo
	t_expect "$form --undo: removed both" "removed: 2 exceptions (rules whose comment starts with \"cgnatcheck:\")" \
		"$(tb_json 'r["changes"][0]["result"] + ": " + r["changes"][0]["message"]')"
	dump "$form" >"$WORK/now"
	diff -q "$WORK/orig" "$WORK/now" >/dev/null && t_ok "$form --undo: the original ruleset, exactly" ||
		t_fail "$form --undo left: $(diff "$WORK/orig" "$WORK/now")"
	tb_expect_probe "$form --undo: the resolver is dropped again" timeout 100.100.2.136 53 udp

	# 100 fix/undo cycles while another writer adds and removes an unrelated
	# rule in the same table: nothing of theirs lost or duplicated
	writer "$form" &
	wpid=$!
	bad=0
	for ((cycle = 0; cycle < 100; cycle++)); do
		tb_exec "$TB_HOST" "$CGNATCHECK" --fix --quiet --dns 100.100.2.136 >/dev/null 2>"$WORK/cycle.err" ||
			{ bad=$((bad + 1)); cat "$WORK/cycle.err" >&2; }
		tb_exec "$TB_HOST" "$CGNATCHECK" --undo --quiet >/dev/null 2>>"$WORK/cycle.err" ||
			{ bad=$((bad + 1)); cat "$WORK/cycle.err" >&2; }
	done
	wait "$wpid" || t_fail "$form: the concurrent writer failed"
	t_expect "$form: 100 fix/undo cycles beside a concurrent writer all succeeded" 0 "$bad"
	dump "$form" >"$WORK/now"
	diff -q "$WORK/orig" "$WORK/now" >/dev/null && t_ok "$form: after the cycles, the original ruleset exactly" ||
		t_fail "$form: after the cycles: $(diff "$WORK/orig" "$WORK/now")"
	tb_ts_remove "$form"
done
# a table of nft's own (no iptables name): the native form, visible in nft
tb_nft_guard
tb_audit "inet guard --fix" 0 --fix --dns 100.100.2.136
tb_expect_probe "inet guard --fix: the resolver answers" reply 100.100.2.136 53 udp
case "$(tb_exec "$TB_HOST" nft list chain inet guard input)" in
*'iifname "eth0" ip saddr 100.100.2.136 udp sport 53 ct state established,related accept comment "cgnatcheck:cli:dns-100.100.2.136-udp-53"'*)
	t_ok "inet guard: the native exception, ACCEPT in the base chain" ;;
*) t_fail "inet guard: $(tb_exec "$TB_HOST" nft list chain inet guard input)" ;;
esac
# --undo's text: what it removed, in one line, no audit summary; --quiet:
# nothing when all went well
status=0
tb_exec "$TB_HOST" "$CGNATCHECK" --undo >"$WORK/undo.txt" 2>"$WORK/err" || status=$?
t_expect "inet guard --undo: exit status" 0 "$status"
t_expect "inet guard --undo: the text" '  removed   2 exceptions (rules whose comment starts with "cgnatcheck:")' \
	"$(cat "$WORK/undo.txt")"
status=0
CGNATCHECK_STATE_DIR=$WORK/state3 tb_exec "$TB_HOST" "$CGNATCHECK" --undo >"$WORK/undo.txt" 2>"$WORK/err" || status=$?
t_expect "--undo with nothing to remove: exit status" 0 "$status"
t_expect "--undo with nothing to remove: the text" '  removed   nothing: no rule'"'"'s comment starts with "cgnatcheck:"' \
	"$(cat "$WORK/undo.txt")"
CGNATCHECK_STATE_DIR=$WORK/state3 tb_audit "inet guard --fix again" 0 --fix --dns 100.100.2.136
status=0
CGNATCHECK_STATE_DIR=$WORK/state3 tb_exec "$TB_HOST" "$CGNATCHECK" --undo --quiet >"$WORK/undo.txt" 2>"$WORK/err" || status=$?
t_expect "--undo --quiet: exit status" 0 "$status"
t_expect "--undo --quiet: prints nothing" "" "$(cat "$WORK/undo.txt" "$WORK/err")"
tb_exec "$TB_HOST" nft delete table inet guard

# a drop by a chain's policy cannot be narrowed by an exception: refuse
tb_exec "$TB_HOST" iptables-legacy -P INPUT DROP
dump legacy >"$WORK/orig"
tb_audit "policy drop --fix" 3 --fix --dns 100.100.2.136
t_expect "policy drop: refused, with the reason" "refused refused" \
	"$(tb_json '" ".join(c["result"] for c in r["changes"])')"
case "$(cat "$WORK/err")" in *"will not widen"*) t_ok "policy drop: the message says why" ;;
	*) t_fail "policy drop message: $(cat "$WORK/err")" ;; esac
dump legacy >"$WORK/now"
diff -q "$WORK/orig" "$WORK/now" >/dev/null && t_ok "policy drop: nothing changed" || t_fail "policy drop: ruleset changed"
tb_exec "$TB_HOST" iptables-legacy -P INPUT ACCEPT

[ -s "$WORK/state/changes.log" ] && t_ok "changes are recorded in the state directory" ||
	t_fail "no $WORK/state/changes.log"
# Every change is written down before it is made and again with its outcome:
# per form 2 applied + 1 removed, then 100 cycles of 2 applied + 1 removed,
# and the inet guard's 2 applied + 1 removed.
results=$(awk '{ print $2 }' "$WORK/state/changes.log" | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')
t_expect "the change log: each change planned, then its outcome" \
	"applied=$((3 * 202 + 2)) planned=$((3 * 202 + 2)) removed=$((3 * 101 + 1)) removing=$((3 * 101 + 1)) " "$results"

# A policy service of one address and two protocols gets one exception per
# flow, each with its own tag: a tag shared by the service once made the tcp
# exception look "already in place" right after the udp one was added.
mkdir -p "$WORK/pol" "/etc/netns/$TB_HOST"
cat >"$WORK/pol/testcloud.conf" <<'EOF2'
[Provider]
Name=testcloud
Description=a provider whose resolver is the test bed's
[Service]
Name=dns
Role=dns
Address=100.100.2.136
Protocol=udp tcp
Port=53
Direction=outbound
EOF2
# the host's own resolver is loopback: the policy's service is the target
echo "nameserver 127.0.0.1" >"/etc/netns/$TB_HOST/resolv.conf"
tb_ts_install legacy new
CGNATCHECK_STATE_DIR=$WORK/state2 tb_audit "policy service --fix" 0 --fix --policy "$WORK/pol/testcloud.conf"
# Tailscale's own policy comes along (its chains are there): quad100, routed
# via eth0 here, is a udp+tcp service of one address too
t_expect "policy service --fix: every flow applied and reachable" \
	"applied:reachable applied:reachable applied:reachable applied:reachable" \
	"$(tb_json '" ".join(c["result"] + ":" + str(c["after"]) for c in r["changes"])')"
t_expect "policy service --fix: four tags, one per flow" \
	"cgnatcheck:tailscale:quad100-100.100.100.100-tcp-53 cgnatcheck:tailscale:quad100-100.100.100.100-udp-53 cgnatcheck:testcloud:dns-100.100.2.136-tcp-53 cgnatcheck:testcloud:dns-100.100.2.136-udp-53" \
	"$(tb_chain_rules legacy 4 filter ts-input | grep -o 'cgnatcheck:[^" ]*' | sort | paste -sd' ')"
tb_expect_probe "policy service --fix: the resolver answers (tcp)" reply 100.100.2.136 53 tcp
CGNATCHECK_STATE_DIR=$WORK/state2 tb_audit "policy service --fix again" 0 --fix --policy "$WORK/pol/testcloud.conf"
t_expect "policy service --fix again: nothing added" 4 \
	"$(tb_chain_rules legacy 4 filter ts-input | grep -c 'cgnatcheck:')"
CGNATCHECK_STATE_DIR=$WORK/state2 tb_audit "policy service --undo" 0 --undo
tb_ts_remove legacy
t_done
