#!/usr/bin/env bash
# --keep against the kernel: with the long-running mode active, a simulated
# tailscaled restart (its chains and jumps deleted and re-created, taking the
# exception with them) must leave the resolver reachable again, in each
# firewall form; each re-application is logged; SIGTERM stops it cleanly.
# How fast it comes back is printed here and measured by the benchmark; the
# bound below only keeps a --keep that never re-applies from hanging the
# test (a loaded 2-core machine or a sanitizer build is slow, not wrong).
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_init
tb_audit_env WORK
tb_scenario

limit=60000

# Probes every 100 ms until the resolver answers; prints the elapsed ms, or
# fails after LIMIT ms.
reachable_within() { # LIMIT-MS
	local start end word
	start=$(t_now_ms)
	while :; do
		word=$(tb_probe 100.100.2.136 53 udp --timeout 100 || true)
		end=$(t_now_ms)
		if [ "$word" = reply ]; then
			echo $((end - start))
			return 0
		fi
		[ $((end - start)) -lt "$1" ] || { echo $((end - start)); return 1; }
		sleep 0.05
	done
}

for form in legacy nft nftables; do
	tb_ts_install "$form" new
	: >"$WORK/keep.log"
	ip netns exec "$TB_HOST" "$CGNATCHECK" --keep --dns 100.100.2.136 >"$WORK/keep.out" 2>"$WORK/keep.log" &
	keeper=$!
	TB_PIDS+=("$keeper")

	ms=$(reachable_within "$limit") && t_ok "$form: the first --fix round made the resolver reachable ($ms ms)" ||
		t_fail "$form: not reachable $ms ms after --keep started: $(cat "$WORK/keep.log")"

	for restart in 1 2 3; do
		tb_ts_remove "$form"
		tb_ts_install "$form" new
		if ms=$(reachable_within "$limit"); then
			t_ok "$form: restart $restart: reachable again after $ms ms"
		else
			t_fail "$form: restart $restart: still unreachable after $ms ms: $(tail -5 "$WORK/keep.log")"
		fi
	done
	n=$(grep -c "re-applied" "$WORK/keep.log" || true)
	[ "$n" -ge 3 ] && t_ok "$form: every re-application is logged ($n lines)" ||
		t_fail "$form: $n re-applications logged: $(cat "$WORK/keep.log")"

	kill -TERM "$keeper"
	status=0
	wait "$keeper" || status=$?
	t_expect "$form: SIGTERM stops it cleanly" 0 "$status"
	grep -q "stopped after" "$WORK/keep.log" && t_ok "$form: says it stopped" || t_fail "$form: no stop message"
	tb_exec "$TB_HOST" "$CGNATCHECK" --undo >/dev/null
	tb_ts_remove "$form"
done
# On a Kubernetes node kube-proxy rewrites its chains every few seconds; a
# change to a chain no audited packet reaches must not wake --keep for a
# whole audit again (issue 20). A kube-proxy-shaped table read in part
# (CGNATCHECK_NFT_LAZY_CHAINS=0: every table is "large"), then 20 commits
# that rewrite its per-service and per-endpoint chains and add service-ips
# elements of cluster IPs no audited packet looks up: no new round (the
# log counts the changes let pass); a tailscaled restart still brings the
# exception back.
tb_ts_install nftables new
tb_exec "$TB_HOST" nft -f - <<'EOF'
table ip kube-proxy {
	map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }
	chain nat-output { type nat hook output priority -100; policy accept; jump services; }
	chain services { ip daddr . meta l4proto . th dport vmap @service-ips; }
	chain endpoint-a { meta l4proto tcp dnat to 10.244.0.1:8080; }
	chain service-a { numgen random mod 1 vmap { 0 : goto endpoint-a }; }
}
add element ip kube-proxy service-ips { 172.30.0.5 . tcp . 80 : goto service-a }
EOF
: >"$WORK/keep.log"
ip netns exec "$TB_HOST" env CGNATCHECK_NFT_LAZY_CHAINS=0 "$CGNATCHECK" --keep --dns 100.100.2.136 -vv \
	>"$WORK/keep.out" 2>"$WORK/keep.log" &
keeper=$!
TB_PIDS+=("$keeper")
ms=$(reachable_within "$limit") && t_ok "kube-proxy: the first round made the resolver reachable ($ms ms)" ||
	t_fail "kube-proxy: not reachable $ms ms after --keep started: $(cat "$WORK/keep.log")"
# each audit's read of nf_tables logs one line (-vv)
reads() { grep -c 'nftables: [0-9]* tables, ' "$WORK/keep.log" || true; }
# until the first round's audits are over (its verification audit may still
# run after the resolver answers): no new read for 2 s
quiet() {
	local a b i
	a=$(reads)
	for i in $(seq 1 30); do
		sleep 2
		b=$(reads)
		[ "$a" = "$b" ] && return 0
		a=$b
	done
}
quiet
reads0=$(reads)
for i in $(seq 1 20); do
	tb_exec "$TB_HOST" nft -f - <<EOF
flush chain ip kube-proxy endpoint-a
add rule ip kube-proxy endpoint-a meta l4proto tcp dnat to 10.244.0.$i:8080
add chain ip kube-proxy endpoint-b$i
add rule ip kube-proxy endpoint-b$i counter
add element ip kube-proxy service-ips { 172.30.1.$i . tcp . 80 : goto service-a }
EOF
	sleep 0.1
done
sleep 1
reads1=$(reads)
tb_ts_remove nftables
tb_ts_install nftables new
ms=$(reachable_within "$limit") && t_ok "kube-proxy: after a restart, reachable again after $ms ms" ||
	t_fail "kube-proxy: still unreachable $ms ms after a restart: $(tail -5 "$WORK/keep.log")"
sleep 1
kill -TERM "$keeper"
status=0
wait "$keeper" || status=$?
t_expect "kube-proxy: SIGTERM stops it cleanly" 0 "$status"
line=$(grep 'stopped after' "$WORK/keep.log" || true)
rounds=$(sed -n 's/.*stopped after \([0-9]*\) rounds.*/\1/p' <<<"$line")
passed=$(sed -n 's/.*rounds (\([0-9]*\) nf_tables changes.*/\1/p' <<<"$line")
# not one audit for the 20 kube-proxy commits (the restart's are rounds of
# their own, as many as its commits straddle)
if [ "$reads1" -eq "$reads0" ]; then
	t_ok "kube-proxy: 20 rewrites of unreached chains woke no audit ($line)"
else
	t_fail "kube-proxy: $((reads1 - reads0)) audits during the rewrites: $(grep 'can matter\|overran' "$WORK/keep.log" | head -5)"
fi
[ -n "$rounds" ] || t_fail "kube-proxy: no rounds line: $(tail -5 "$WORK/keep.log")"
if [ -n "$passed" ] && [ "$passed" -ge 40 ]; then
	t_ok "kube-proxy: the changes let pass are counted ($passed)"
else
	t_fail "kube-proxy: changes let pass: $line"
fi
# the rounds after the first read the chain list from the notifications
# (the 20 rewrites created chains; the restart's rounds read the list with them)
kept=$(sed -n 's/.*the chain list was dumped in \([0-9]*\) rounds and kept from the notifications in \([0-9]*\) reads.*/\1 \2/p' \
	"$WORK/keep.log")
if [ -n "$kept" ] && [ "${kept% *}" -eq 1 ] && [ "${kept#* }" -ge $((rounds - 1)) ] && [ "$rounds" -ge 2 ]; then
	t_ok "kube-proxy: the chain list dumped once in $rounds rounds, read ${kept#* } times from the notifications"
else
	t_fail "kube-proxy: the chain list (dumped, kept): '$kept' in $rounds rounds: $(grep 'chain list' "$WORK/keep.log" | head -5)"
fi
tb_exec "$TB_HOST" nft delete table ip kube-proxy

t_done
