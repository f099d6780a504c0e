#!/usr/bin/env bash
# Reading very large nf_tables tables only as far as packets reach (issue
# 20: a kube-proxy table of 110k chains, of which a DNS packet reaches
# three). CGNATCHECK_NFT_LAZY_CHAINS=0 makes every table "large", so a small
# kube-proxy-shaped table (nftables mode: a services chain with a verdict map
# keyed by address . protocol . port, per-service chains choosing an
# endpoint with numgen, per-endpoint chains with dnat) beside Tailscale's
# nftables rules is read that way, and:
#   * the simulator (nf-simulate) gives the same verdicts read lazily as read
#     whole, and the kernel agrees with them (each flow sent for real);
#   * the audit's JSON report is the same both ways, and says (-vv) that it
#     read the service and endpoint chains only when a packet reached them;
#   * a chain changed after the collection and before a packet reaches it
#     is not read as it is now: the verdict is uncertain, naming the chain
#     and the change; a change to a chain no packet reaches changes nothing.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
SIM="$top_builddir/tests/kernel/nf-simulate"
tb_test_init nft python3 conntrack "$SIM"
PROBE=$(tb_prog cg-probe) || exit 99
t_grep() { # DESC REGEX FILE
	grep -q -- "$2" "$3" || t_fail "$1: no line matching '$2' in $(basename "$3"): $(head -c 600 "$3")"
}
tb_tmpdir W
tb_audit_env A

tb_topology host prov
tb_echo "$TB_PROV" 53/udp 53/tcp 80/tcp || tb_die "the provider's responder did not start"
H=$TB_HOST P=$TB_PROV
tb_ts_install nftables new || tb_die "cannot install Tailscale's rules"

# kube-proxy's nftables mode, small: 172.30.0.5:80 has one endpoint, the
# provider's 100.100.2.136:80 (DNATed); 172.30.0.9:80 has none (rejected);
# 20 more services with endpoints nobody reaches.
{
	echo "table ip kube-proxy {"
	echo "	map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }"
	echo "	chain nat-output { type nat hook output priority -100; policy accept; jump services; }"
	echo "	chain nat-postrouting { type nat hook postrouting priority 100; policy accept; }"
	echo "	chain filter-output { type filter hook output priority -110; policy accept; }"
	echo "	chain mark-for-masquerade { meta mark set meta mark or 0x4000; }"
	echo "	chain services { ip daddr . meta l4proto . th dport vmap @service-ips; }"
	echo "	chain endpoint-a { ip saddr 100.100.2.136 jump mark-for-masquerade; meta l4proto tcp dnat to 100.100.2.136:80; }"
	echo "	chain service-a { ip daddr 172.30.0.5 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade; numgen random mod 1 vmap { 0 : goto endpoint-a }; }"
	echo "	chain service-none { reject; }"
	echo "	chain endpoint-unused { counter; }"
	for i in $(seq 1 20); do
		echo "	chain endpoint-x$i { meta l4proto tcp dnat to 10.244.$i.1:8080; }"
		echo "	chain service-x$i { numgen random mod 2 vmap { 0 : goto endpoint-x$i, 1 : goto endpoint-x$i }; }"
	done
	echo "}"
	echo "add element ip kube-proxy service-ips { 172.30.0.5 . tcp . 80 : goto service-a }"
	echo "add element ip kube-proxy service-ips { 172.30.0.9 . tcp . 80 : goto service-none }"
	for i in $(seq 1 20); do
		echo "add element ip kube-proxy service-ips { 172.30.1.$i . tcp . 80 : goto service-x$i }"
	done
	# Tailscale's CGNAT drop would hide the DNAT's answer from 100.100.2.136:
	# the exception cgnatcheck would write, so that the cluster IP flow is
	# reachable in the kernel
	echo "insert rule ip filter ts-input ip saddr 100.100.2.136 accept"
} >"$W/kube.nft"
tb_exec "$H" nft -f "$W/kube.nft" || tb_die "nft -f refused the kube-proxy table"

# id dir local remote proto local-port remote-port dev | namespace and cg-probe's arguments
FLOWS=(
	"dns-udp out $TB_HOST_IP 100.100.2.136 udp 40001 53 eth0|$H 100.100.2.136 53 udp"
	"dns-tcp out $TB_HOST_IP 100.100.2.136 tcp 40002 53 eth0|$H 100.100.2.136 53 tcp"
	"svc out $TB_HOST_IP 172.30.0.5 tcp 40003 80 eth0|$H 172.30.0.5 80 tcp"
	"svc-none out $TB_HOST_IP 172.30.0.9 tcp 40004 80 eth0|$H 172.30.0.9 80 tcp"
)
: >"$W/flows"
for f in "${FLOWS[@]}"; do echo "${f%%|*}" >>"$W/flows"; done

simulate() { # OUT [env...]: nf-simulate's verdicts
	local out=$1
	shift
	tb_exec "$H" env "$@" "$SIM" <"$W/flows" >"$W/$out" 2>"$W/$out.err" ||
		{ t_fail "nf-simulate ($*) failed: $(cat "$W/$out.err")"; return 0; }
}
simulate full
simulate lazy NF_SIMULATE_LAZY=1 CGNATCHECK_NFT_LAZY_CHAINS=0
simulate lazy-default NF_SIMULATE_LAZY=1
t_expect "the verdicts read lazily are those read whole" "$(cat "$W/full")" "$(cat "$W/lazy")"
t_expect "a small table is read whole by default" "$(cat "$W/full")" "$(cat "$W/lazy-default")"

# the kernel's word on each flow
for k in "${!FLOWS[@]}"; do
	id=${FLOWS[k]%% *} rest=${FLOWS[k]#*|}
	for ns in "$H" "$P"; do tb_exec "$ns" conntrack -F >/dev/null 2>&1 || true; done
	# shellcheck disable=SC2086
	word=$(tb_exec "${rest%% *}" "$PROBE" --timeout 3000 ${rest#* } 2>/dev/null || true)
	want=blocked
	[ "$word" = reply ] && want=reachable
	sim=$(awk -v id="$id" '$1 == id { print $2 }' "$W/lazy")
	t_expect "flow $id: the lazy simulation agrees with the kernel ($word)" "$want" "$sim"
done

# a change after the collection, to a chain the packet reaches later
simulate stale NF_SIMULATE_LAZY=1 CGNATCHECK_NFT_LAZY_CHAINS=0 \
	NF_SIMULATE_AFTER_COLLECT="nft add rule ip kube-proxy endpoint-a counter"
t_expect "a changed chain reached later: uncertain" uncertain "$(awk '$1 == "svc" { print $2 }' "$W/stale")"
t_grep "the uncertainty names the chain and the change" \
	"nftables chain ip kube-proxy endpoint-a could not be read when the packet reached it: it changed since" \
	"$W/stale"
t_expect "the DNS flows do not reach it: unchanged" "$(grep '^dns' "$W/full")" "$(grep '^dns' "$W/stale")"
tb_exec "$H" nft delete rule ip kube-proxy endpoint-a handle \
	"$(tb_exec "$H" nft -a list chain ip kube-proxy endpoint-a | awk '/counter/ { print $NF }')"
simulate other NF_SIMULATE_LAZY=1 CGNATCHECK_NFT_LAZY_CHAINS=0 \
	NF_SIMULATE_AFTER_COLLECT="nft add rule ip kube-proxy endpoint-unused counter"
t_expect "a change no packet reaches changes no verdict" "$(cat "$W/full")" "$(cat "$W/other")"

# the audit: the same report either way
audit() { # NAME [env...]
	local name=$1
	shift
	tb_exec "$H" env "$@" "$CGNATCHECK" --only-named --dns 100.100.2.136 --service 172.30.0.5:80/tcp \
		--service 172.30.0.9:80/tcp --format json -vv >"$W/$name.json" 2>"$W/$name.err" || true
	python3 -I -S -c 'import json, sys
r = json.load(open(sys.argv[1]))
r.pop("generated_at", None); r.pop("duration_ms", None)
print(json.dumps(r, sort_keys=True, indent=1))' "$W/$name.json" >"$W/$name.norm" ||
		t_fail "audit $name: no JSON report ($(head -c 300 "$W/$name.err"))"
}
audit whole CGNATCHECK_NFT_LAZY_CHAINS=1000000
audit lazy CGNATCHECK_NFT_LAZY_CHAINS=0
t_expect "the audit's report read lazily is the one read whole" "$(cat "$W/whole.norm")" "$(cat "$W/lazy.norm")"
t_grep "the lazy audit left chains unread" "chains and .* sets not read" "$W/lazy.err"
t_grep "it read the service chain when the packet reached it" \
	"read chain ip kube-proxy service-a (.*) when a packet reached it" "$W/lazy.err"
t_grep "and the endpoint chain" "read chain ip kube-proxy endpoint-a (2 rules" "$W/lazy.err"
if grep -q "read chain ip kube-proxy service-x" "$W/lazy.err"; then
	t_fail "the audit read a service chain no packet reaches"
fi
t_done
