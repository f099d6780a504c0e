#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fix_apply()/fix_remove_tagged() against the kernel, in namespaces, for each
# firewall form (iptables-legacy, iptables-nft, native nftables) and Tailscale
# variant (new, old): the exception makes DNS at 100.100.2.136 answer, and
# nothing else; the ruleset differs by exactly the one tagged rule, placed right
# before the CGNAT DROP; applying again changes nothing; removing restores the
# original. Then apply/remove cycles while another writer changes unrelated
# rules.
set -eu
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"
RUN="${top_builddir:-$top_srcdir}/tests/kernel/fix-apply-run"
tb_test_init "$RUN"

# the ruleset without counters and the save tools' comment lines
dump() {
	tb_fw_dump "$1" | sed -E -e '/^#/d' -e 's/\[[0-9]+:[0-9]+\]/[0:0]/' \
		-e 's/counter packets [0-9]+ bytes [0-9]+/counter/'
}

apply() { tb_exec "$TB_HOST" "$RUN" --chain ts-input --match-drop; }
remove() { tb_exec "$TB_HOST" "$RUN" --remove; }

# the exception as each form lists it
expected_line() {
	case $1 in
	# Tailscale's nftables mode: nft's table (src/collect/nft-owner.c), so nft's form
	nftables) echo 'iifname "eth0" ip saddr 100.100.2.136 udp sport 53 ct state established,related return comment "cgnatcheck:test:dns"' ;;
	*) echo '-A ts-input -s 100.100.2.136/32 -i eth0 -p udp -m udp --sport 53 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "cgnatcheck:test:dns" -j RETURN' ;;
	esac
}

one() {
	local form=$1 variant=$2 d before after again final added prev want
	d="$form/$variant"
	tb_scenario
	tb_ts_install "$form" "$variant" || tb_die "tb_ts_install $form $variant"
	tb_tmpdir tmp
	tb_expect_probe "$d: DNS blocked before" timeout 100.100.2.136 53 udp
	dump "$form" >"$tmp/before"

	t_run apply
	t_expect "$d: apply" "0 applied" "$t_status $t_out"
	[ "$t_status" -eq 0 ] || echo "$t_err" >&2
	dump "$form" >"$tmp/after"
	tb_expect_probe "$d: DNS answers after" reply 100.100.2.136 53 udp
	tb_expect_probe "$d: the other resolver still blocked" timeout 100.100.2.138 53 udp
	tb_host_listen 8080/tcp
	tb_expect_inbound "$d: a spoofed NEW from 100.100.2.136 still dropped" timeout 8080 tcp --from 100.100.2.136

	# exactly one added line, right before the CGNAT DROP
	added=$(diff "$tmp/before" "$tmp/after" | sed -n 's/^> //p' | sed -E 's/^\t+//')
	t_expect "$d: only removed nothing" "" "$(diff "$tmp/before" "$tmp/after" | grep '^<' || true)"
	want=$(expected_line "$form")
	t_expect "$d: the one added rule" "$want" "$added"
	prev=$(grep -B0 -A1 -F -- "$(expected_line "$form" | sed 's/^-A ts-input //')" "$tmp/after" | sed -n 2p)
	case $form in
	nftables) [[ $prev == *'ip saddr 100.64.0.0/10 counter drop'* ]] ;;
	*) [[ $prev == *'-s 100.64.0.0/10 ! -i tailscale0 -j DROP'* ]] ;;
	esac && t_ok "$d: placed right before the DROP" || t_fail "$d: followed by '$prev', not the DROP"
	if [ "$form" != nftables ]; then
		local ipt=iptables-$form
		tb_exec "$TB_HOST" "$ipt" -w -C ts-input -s 100.100.2.136/32 -i eth0 -p udp -m udp --sport 53 \
			-m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment cgnatcheck:test:dns -j RETURN &&
			t_ok "$d: $ipt -C finds the rule it would have written" || t_fail "$d: $ipt -C does not find it"
	fi

	t_run apply
	t_expect "$d: apply again" "0 unchanged" "$t_status $t_out"
	dump "$form" >"$tmp/again"
	cmp -s "$tmp/after" "$tmp/again" && t_ok "$d: no change the second time" ||
		t_fail "$d: the second apply changed: $(diff "$tmp/after" "$tmp/again")"

	t_run remove
	t_expect "$d: remove" "0 removed 1" "$t_status $t_out"
	dump "$form" >"$tmp/final"
	cmp -s "$tmp/before" "$tmp/final" && t_ok "$d: remove restores the original" ||
		t_fail "$d: after remove: $(diff "$tmp/before" "$tmp/final")"
	tb_expect_probe "$d: DNS blocked again" timeout 100.100.2.136 53 udp
	tb_cleanup
}

# apply/remove cycles while another writer adds and removes unrelated rules
concurrent() {
	local form=$1 d="$1/concurrent" tmp i ok=0 writer cmd del
	tb_scenario
	tb_ts_install "$form" new || tb_die "tb_ts_install $form new"
	tb_tmpdir tmp
	dump "$form" >"$tmp/before"
	case $form in
	nftables)
		cmd='nft add rule ip filter INPUT ip saddr 192.0.2.1 accept comment foreign'
		del='h=$(nft -a list chain ip filter INPUT | sed -n -E "/comment \"foreign\"/s/.*# handle ([0-9]+)$/\1/p" | head -n1); [ -z "$h" ] || nft delete rule ip filter INPUT handle $h'
		;;
	*)
		cmd="iptables-$form -w -A INPUT -s 192.0.2.1 -j ACCEPT"
		del="iptables-$form -w -D INPUT -s 192.0.2.1 -j ACCEPT"
		;;
	esac
	tb_exec "$TB_HOST" bash -c "for i in \$(seq 200); do $cmd; $del; done; touch $tmp/writer-done" &
	writer=$!
	for ((i = 0; i < 20; i++)); do
		t_run apply
		[ "$t_status" -eq 0 ] || { echo "apply: $t_err" >&2; continue; }
		t_run remove
		[ "$t_status" -eq 0 ] && [ "$t_out" = "removed 1" ] && ok=$((ok + 1)) || echo "remove: $t_out $t_err" >&2
	done
	wait "$writer" || true
	t_expect "$d: 20 apply/remove cycles" 20 "$ok"
	[ -e "$tmp/writer-done" ] && t_ok "$d: the other writer ran to its end" || t_fail "$d: the other writer failed"
	dump "$form" >"$tmp/final"
	cmp -s "$tmp/before" "$tmp/final" && t_ok "$d: end state == start state" ||
		t_fail "$d: end state differs: $(diff "$tmp/before" "$tmp/final")"
	tb_cleanup
}

# The generation check: a foreign rule added after fix_apply() read the chain
# and before its batch makes the kernel refuse the batch (ERESTART); the chain
# is read again and the exception still lands right before the DROP, next to
# the foreign rule, which stays. The same for the removal.
genid_race() {
	local form=$1 d="$1/genid" add
	tb_scenario
	tb_ts_install "$form" new || tb_die "tb_ts_install $form new"
	if [ "$form" = nft ]; then
		add='iptables-nft -w -I ts-input 1 -s 192.0.2.7 -j ACCEPT'
	else
		add='nft insert rule ip filter ts-input ip saddr 192.0.2.7 accept'
	fi
	t_run tb_exec "$TB_HOST" "$RUN" --race-once "$add" --chain ts-input --match-drop
	t_expect "$d: apply across a concurrent change" "0 applied" "$t_status $t_out"
	[[ $t_err == *"retried: attempt 2"* ]] && t_ok "$d: the stale batch was refused and retried" ||
		t_fail "$d: no retry seen: $t_err"
	t_expect "$d: the foreign rule is there once" 1 "$(tb_chain_rules "$form" 4 filter ts-input | grep -c 192.0.2.7)"
	t_expect "$d: the exception right before the DROP" "cgnatcheck DROP" \
		"$(tb_chain_rules "$form" 4 filter ts-input | grep -A1 'cgnatcheck:test:dns' |
			sed -E -e 's/.*cgnatcheck:test:dns.*/cgnatcheck/' -e 's/.*(-j DROP|counter drop)$/DROP/' | paste -sd' ')"
	t_run tb_exec "$TB_HOST" "$RUN" --race-once "$add" --remove
	t_expect "$d: remove across a concurrent change" "0 removed 1" "$t_status $t_out"
	[[ $t_err == *"retried: attempt 2"* ]] && t_ok "$d: the stale removal was refused and retried" ||
		t_fail "$d: no retry seen on removal: $t_err"
	t_expect "$d: both foreign rules stay" 2 "$(tb_chain_rules "$form" 4 filter ts-input | grep -c 192.0.2.7)"
	t_expect "$d: no tagged rule left" 0 "$(tb_chain_rules "$form" 4 filter ts-input | grep -c cgnatcheck || true)"
	tb_cleanup
}

# IPv6: an exception before the first rule of ip6 ts-input (Tailscale has no
# IPv6 CGNAT drop; the position and the IPv6 encodings are what is checked).
ipv6() {
	local form=$1 d="$1/ipv6" tmp first
	tb_scenario
	tb_ts_install "$form" new || tb_die "tb_ts_install $form new"
	tb_tmpdir tmp
	dump "$form" >"$tmp/before"
	t_run tb_exec "$TB_HOST" "$RUN" --family 6 --chain ts-input --index 1 --src "$TB_PROV_IP6/128"
	t_expect "$d: apply" "0 applied" "$t_status $t_out"
	first=$(tb_chain_rules "$form" 6 filter ts-input | head -n1)
	if [ "$form" = nftables ]; then
		t_expect "$d: first rule" \
			"iifname \"eth0\" ip6 saddr $TB_PROV_IP6 udp sport 53 ct state established,related return comment \"cgnatcheck:test:dns\"" "$first"
	else
		t_expect "$d: first rule" \
			"-s $TB_PROV_IP6/128 -i eth0 -p udp -m udp --sport 53 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"cgnatcheck:test:dns\" -j RETURN" "$first"
		tb_exec "$TB_HOST" "ip6tables-$form" -w -C ts-input -s "$TB_PROV_IP6/128" -i eth0 -p udp -m udp --sport 53 \
			-m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment cgnatcheck:test:dns -j RETURN &&
			t_ok "$d: ip6tables-$form -C finds it" || t_fail "$d: ip6tables-$form -C does not find it"
	fi
	t_run tb_exec "$TB_HOST" "$RUN" --remove
	t_expect "$d: remove" "0 removed 1" "$t_status $t_out"
	dump "$form" >"$tmp/final"
	cmp -s "$tmp/before" "$tmp/final" && t_ok "$d: remove restores the original" ||
		t_fail "$d: after remove: $(diff "$tmp/before" "$tmp/final")"
	tb_cleanup
}

# The xtables lock, in a mount namespace of its own (a tmpfs on /run) so the
# machine's /run/xtables.lock, which other programs use, is never held: the
# lock file is created when missing (0600), a short hold is waited for, a
# hold longer than the timeout (10 s) fails cleanly, after the whole
# timeout, and changes nothing.
xtables_lock() {
	local d=legacy/lock tmp
	tb_scenario
	tb_ts_install legacy new || tb_die "tb_ts_install legacy new"
	tb_tmpdir tmp
	dump legacy >"$tmp/before"
	t_run tb_exec "$TB_HOST" unshare -m --propagation private bash -c '
		mount -t tmpfs -o mode=0755 tmpfs /run || exit 99
		"$1" --chain ts-input --match-drop || exit 1
		stat -c "mode %a" /run/xtables.lock
		"$1" --remove >/dev/null || exit 1
		flock /run/xtables.lock sleep 1 & sleep 0.2
		"$1" --chain ts-input --match-drop || exit 1
		"$1" --remove >/dev/null || exit 1
		flock /run/xtables.lock sleep 12 & sleep 0.2
		start=$(date +%s%3N)
		if "$1" --chain ts-input --match-drop; then exit 1; fi
		ms=$(( $(date +%s%3N) - start ))
		# it waited the whole timeout (no upper bound: a loaded machine is
		# slow; taking the lock after its holder let go would have succeeded)
		if [ "$ms" -ge 9900 ]; then echo "gave up after 10s"; else echo "gave up after ${ms} ms"; fi
		kill %2 2>/dev/null; wait
	' bash "$RUN"
	t_expect "$d: create, wait, give up" 		"0 applied mode 600 applied gave up after 10s" "$t_status $(echo $t_out)"
	[[ $t_err == *"xtables lock"* ]] && t_ok "$d: the error names the lock" || t_fail "$d: error: $t_err"
	dump legacy >"$tmp/final"
	cmp -s "$tmp/before" "$tmp/final" && t_ok "$d: nothing left behind" ||
		t_fail "$d: $(diff "$tmp/before" "$tmp/final")"
	tb_cleanup
}

xtables_lock
for form in legacy nft nftables; do
	for variant in new old; do
		one "$form" "$variant"
	done
	concurrent "$form"
	[ "$form" = legacy ] || genid_race "$form"
	ipv6 "$form"
done
t_done
