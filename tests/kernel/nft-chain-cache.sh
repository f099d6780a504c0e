#!/usr/bin/env bash
# --keep's chain list, kept between its rounds from the nf_tables
# notifications (issue 20: on a kube-proxy node the chain dump is 0.5 s of
# kernel time, 86% of a round). The kernel decides: after each kind of
# change a --keep round can meet, the list kept (tests/kernel/
# nft-chain-cache-run: the notifications read as --keep's drains read them,
# then a collection with the list) is compared, table by table and chain
# by chain in the kernel's order, with a fresh dump of the same generation:
#   * chains added, deleted, renamed; a base chain's policy changed; a new
#     base chain; many commits between two rounds, and one large commit;
#   * a table deleted and made again under the same name (its chains' handles
#     start over), and the whole ruleset flushed;
#   * each of those read from the kept list, not dumped (else the test
#     would pass with a list that is never used);
#   * what it cannot follow is dumped again, and then kept again: a netdev
#     chain's devices changed (the kernel notifies only the devices added),
#     notifications lost to an overrun of the socket.
# And `cgnatcheck --keep` itself: its rounds after the first read the list
# from the notifications (-vv), and it puts the exception back after
# Tailscale's chains are re-created, as before.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
RUN="$top_builddir/tests/kernel/nft-chain-cache-run"
tb_test_init nft "$RUN"
tb_tmpdir W
tb_ns_add NS cache

nftx() { ip netns exec "$NS" nft "$@"; }
ip -n "$NS" link add d0 type veth peer name d1

coproc RUNNER { ip netns exec "$NS" "$RUN" 2>"$W/run.err"; }
TB_PIDS+=("$RUNNER_PID")
ask() { # COMMAND: one line back
	local reply
	printf '%s\n' "$1" >&"${RUNNER[1]}"
	IFS= read -r -t 120 reply <&"${RUNNER[0]}" || reply="(no answer: $(tail -3 "$W/run.err"))"
	printf '%s\n' "$reply"
}
# expect_check DESC cache|dumped
expect_check() {
	local reply
	reply=$(ask check)
	case $reply in
	"same $2 "*) t_ok "$1: the kept list is the kernel's ($reply)" ;;
	*) t_fail "$1: expected 'same $2', got '$reply'" ;;
	esac
}

nftx -f - <<'EOF'
table ip t1 {
	chain input { type filter hook input priority 0; policy accept; }
	chain output { type filter hook output priority 0; policy accept; jump c1; }
	chain c1 { }
	chain c2 { }
}
table inet t2 {
	chain pre { type nat hook prerouting priority -100; }
}
table netdev t3 {
	chain ingress { type filter hook ingress device d0 priority 0; }
}
EOF
expect_check "the first round" dumped
expect_check "a round with no change between" cache

nftx add chain ip t1 c3
nftx add chain ip t1 c4
nftx delete chain ip t1 c2
expect_check "chains added and deleted" cache

nftx rename chain ip t1 c3 c3-renamed
expect_check "a chain renamed (it keeps its place)" cache

nftx add chain ip t1 input '{ policy drop; }'
expect_check "a base chain's policy changed" cache

nftx add chain inet t2 fw1 '{ type filter hook forward priority 10; policy drop; }'
expect_check "a base chain added" cache

for i in $(seq 1 60); do nftx add chain ip t1 "many-$i"; done
for i in $(seq 1 2 60); do nftx delete chain ip t1 "many-$i"; done
expect_check "90 commits between two rounds" cache

{
	echo "table ip big {"
	for i in $(seq 1 3000); do echo "	chain c$i { }"; done
	echo "}"
} >"$W/big.nft"
nftx -f "$W/big.nft"
expect_check "one commit of 3,000 chains" cache
{
	for i in $(seq 1 3 3000); do echo "delete chain ip big c$i"; done
	echo "add chain ip big after"
} >"$W/big-del.nft"
nftx -f "$W/big-del.nft"
expect_check "1,000 chains deleted and one added in one commit" cache

nftx delete table ip t1
nftx -f - <<'EOF'
table ip t1 {
	chain c1 { }
	chain input { type filter hook input priority 5; policy accept; }
}
EOF
expect_check "a table deleted and made again (its handles start over)" cache

nftx -f - <<'EOF'
delete table ip big
table ip big {
	chain x {
	}
}
EOF
expect_check "a table deleted and made again in one commit" cache

nftx add chain netdev t3 ingress '{ devices = { d0, d1 }; }' 2>"$W/netdev.err" ||
	nftx add chain netdev t3 ingress '{ type filter hook ingress devices = { d0, d1 } priority 0; }'
expect_check "a netdev chain's devices changed: dumped again" dumped
expect_check "... and kept again after" cache

nftx flush ruleset
expect_check "the ruleset flushed" cache
nftx add table ip t4
nftx add chain ip t4 c '{ type filter hook output priority 0; }'
expect_check "a table and base chain after the flush" cache

reply=$(ask shrink)
t_expect "the notification socket made small" shrunk "$reply"
{
	echo "table ip flood {"
	for i in $(seq 1 2000); do echo "	chain with-a-long-name-to-fill-the-socket-$i { }"; done
	echo "}"
} >"$W/flood.nft"
nftx -f "$W/flood.nft"
expect_check "notifications lost to an overrun: dumped again" dumped
reply=$(ask stats)
case $reply in
"stats valid=1 "*) t_ok "kept again after the overrun ($reply)" ;;
*) t_fail "kept again after the overrun: $reply" ;;
esac

exec {RUNNER[1]}>&-
wait "$RUNNER_PID" || t_fail "nft-chain-cache-run failed: $(tail -5 "$W/run.err")"
if [ -s "$W/run.err" ] && grep -q 'ERROR\|runtime error\|Sanitizer' "$W/run.err"; then
	t_fail "nft-chain-cache-run reported errors: $(head -c 600 "$W/run.err")"
fi
t_done
