#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The nf_tables collector against nft(8) itself, in fresh network namespaces:
# every table, chain, rule, set and element nft_collect() reads must agree with
# `nft -j list ruleset` (tests/kernel/nft-compare.py), and each table's backend label
# with nft's own "managed by iptables-nft" warning and iptables-nft-save's
# answer for the table (lists it, calls it incompatible, fails on a rule).
#
#   empty        a namespace without tables yields an empty model, not an error
#   nftables     Tailscale's nftables mode (native rules in "ip filter"), an inet
#                table with base chains at several priorities, interval,
#                concatenated and auto-merged sets, verdict maps, comments, a
#                netdev ingress chain, bridge and arp tables, and expressions
#                the model keeps as unknown (numgen, socket, osf), fib as fib
#   lookups      set_lookup() on the collected sets against the kernel's own
#                answer (`nft get element`)
#   iptables-nft Tailscale's iptables mode written by iptables-nft, with
#                -m conntrack, -m comment, -m multiport, -j MARK, CONNMARK and
#                MASQUERADE
#   mixed        iptables-nft rules added to Tailscale's native "ip filter"
#                turn the table's label, exactly as nft's warning appears
#   random       seeded random rulesets (CG_NFT_SEED=N to replay one,
#                CG_NFT_SEEDS=K for K random seeds, default 3)
#   concurrent   dumps while another process rewrites the ruleset: each is
#                consistent (every jump resolves) or fails saying why
#   privilege    without CAP_NET_ADMIN the error names what failed and why
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"

DUMP="$top_builddir/tests/kernel/nft-collect-dump"
GEN="$top_srcdir/tests/kernel/nft-gen.py"
CMP="$top_srcdir/tests/kernel/nft-compare.py"
tb_test_init nft iptables-nft ip6tables-nft python3 "$DUMP"

tb_tmpdir TMP

# ipt_status NS: "FAMILY TABLE listed|incompatible|failed" for each ip/ip6
# table with one of iptables' names: what iptables-nft-save makes of it.
ipt_status() {
	local ns=$1 fam name save out
	while read -r _ fam name; do
		case $fam in ip) save=iptables-nft-save ;; ip6) save=ip6tables-nft-save ;; *) continue ;; esac
		case $name in filter | nat | mangle | raw | security) ;; *) continue ;; esac
		if out=$(tb_exec "$ns" "$save" -t "$name" 2>&1); then
			case $out in
			*"is incompatible, use 'nft' tool"*) echo "$fam $name incompatible" ;;
			*) echo "$fam $name listed" ;;
			esac
		else
			echo "$fam $name failed"
		fi
	done < <(tb_exec "$ns" nft list tables)
}

# compare_with_nft NS LABEL: the collected model against nft's listing.
compare_with_nft() {
	local ns=$1 label=$2 dir="$TMP/$2"

	mkdir -p "$dir"
	if ! tb_exec "$ns" "$DUMP" -e >"$dir/ours.txt" 2>"$dir/ours.err"; then
		t_fail "$label: nft-collect-dump failed: $(cat "$dir/ours.err")"
		return 1
	fi
	t_must tb_exec "$ns" nft -j list ruleset >"$dir/nft.json"
	t_must tb_exec "$ns" nft list ruleset >/dev/null 2>"$dir/nft.warn"
	ipt_status "$ns" >"$dir/ipt.status"
	if python3 "$CMP" "$dir/ours.txt" "$dir/nft.json" "$dir/nft.warn" "$dir/ipt.status" >"$dir/cmp.out" 2>&1; then
		t_ok "$label: $(tail -n 1 "$dir/cmp.out")"
	else
		cat "$dir/cmp.out" >&2
		t_fail "$label: the collected model differs from nft's listing"
		return 1
	fi
}

# expect_line LABEL FILE REGEX: some line of FILE matches.
expect_line() {
	if grep -Eq -- "$3" "$2"; then t_ok "$1"; else t_fail "$1: no line matching '$3' in $2"; fi
}

hex4() {
	local IFS=.
	# shellcheck disable=SC2086
	printf '%02x%02x%02x%02x' $1
}

# A device for netdev chains: dummy where the kernel has it, else a veth.
add_netdev_device() {
	local ns=$1
	if ip -n "$ns" link add cgdummy0 type dummy 2>/dev/null; then
		NETDEV=cgdummy0
	else
		t_must ip -n "$ns" link add cgveth0 type veth peer name cgveth1
		NETDEV=cgveth0
	fi
	t_must ip -n "$ns" link set "$NETDEV" up
}

# --- empty ----------------------------------------------------------------
tb_ns_add NS_EMPTY empty
t_run tb_exec "$NS_EMPTY" "$DUMP" -e
t_expect "empty namespace: the dump succeeds" 0 "$t_status"
case "$t_out" in
	"generation "[0-9]*) [ "$(printf '%s\n' "$t_out" | wc -l)" -eq 1 ] &&
		t_ok "empty namespace: an empty model" ||
		t_fail "empty namespace: expected only the generation line, got: $t_out" ;;
	*) t_fail "empty namespace: unexpected output: $t_out" ;;
esac
t_run tb_exec "$NS_EMPTY" "$DUMP" -s
case "$t_out" in *"tables=0 chains=0 rules=0 sets=0 elems=0"*) t_ok "empty namespace: zero counts" ;;
	*) t_fail "empty namespace summary: $t_out" ;; esac

# --- nftables -------------------------------------------------------------
tb_ns_add NS_NFT nftables
add_netdev_device "$NS_NFT"
cat >"$TMP/nftables.nft" <<EOF
# Tailscale's nftables mode: native expressions in the tables iptables-nft
# would use, reached by a counter jump at the top of each base chain.
table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy accept;
		counter jump ts-input
	}
	chain FORWARD {
		type filter hook forward priority filter; policy accept;
		counter jump ts-forward
	}
	chain ts-input {
		iifname "lo" ip saddr 100.101.102.103 accept
		iifname != "tailscale0" ip saddr 100.115.92.0/23 return
		iifname != "tailscale0" ip saddr 100.64.0.0/10 drop
		iifname "tailscale0" accept
		udp dport 41641 accept
	}
	chain ts-forward {
		iifname "tailscale0" meta mark set meta mark and 0xff00ffff xor 0x40000
		meta mark and 0xff0000 == 0x40000 accept
		oifname "tailscale0" ip saddr 100.64.0.0/10 drop
		oifname "tailscale0" accept
	}
}
table ip nat {
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
		counter jump ts-postrouting
	}
	chain ts-postrouting {
		meta mark and 0xff0000 == 0x40000 counter masquerade
	}
}
table inet cg {
	set cgnat {
		type ipv4_addr; flags interval; auto-merge
		elements = { 100.64.0.0/10, 100.100.2.136 }
	}
	set provider {
		type ipv4_addr; flags interval
		elements = { 100.100.2.136, 100.100.2.138, 100.100.100.200, 100.125.0.0/16, 255.255.255.0/24 }
	}
	set svc {
		type ipv4_addr . inet_service; flags interval
		elements = { 100.100.2.136 . 53, 100.100.100.200 . 80, 10.0.0.0/8 . 1000-2000 }
	}
	set svc_exact {
		type ipv4_addr . inet_service
		elements = { 100.100.2.136 . 53, 100.100.2.138 . 53 }
	}
	map action {
		type ipv4_addr : verdict
		elements = { 100.100.2.136 : accept, 100.100.100.200 : jump audit, 1.2.3.4 : drop }
	}
	chain audit {
		counter log prefix "cgnatcheck " return
	}
	chain pre {
		type filter hook prerouting priority -150; policy accept;
		ip saddr @cgnat counter
		fib daddr type local counter
	}
	chain in_early {
		type filter hook input priority -10; policy accept;
		ip saddr . udp sport @svc ct state established accept comment "provider replies"
	}
	chain in_late {
		type filter hook input priority 10; policy drop;
		ip saddr vmap @action
		tcp dport { 22, 80, 443 } accept comment "services"
		ip saddr vmap { 10.0.0.1 : goto audit, 10.0.0.2 : drop }
		ip saddr . udp sport @svc_exact accept
	}
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr @provider accept
		meta mark set numgen inc mod 2
	}
	chain odd {
		socket transparent 1 counter
	}
}
table ip6 filter6 {
	chain INPUT {
		type filter hook input priority filter; policy accept;
		ip6 saddr fd7a:115c:a1e0::/48 iifname != "tailscale0" drop
	}
}
table netdev edge {
	chain ingress {
		type filter hook ingress device "$NETDEV" priority -500; policy accept;
		ip saddr 100.64.0.0/10 counter comment "cgnat seen on the wire"
	}
}
table bridge br {
	chain bridged {
		type filter hook forward priority 0; policy accept;
		ether type ip counter
	}
}
table arp a {
	chain arp_in {
		type filter hook input priority 0; policy accept;
		arp operation request counter
	}
}
EOF
t_must tb_exec "$NS_NFT" nft -f "$TMP/nftables.nft"
# osf needs the nfnetlink_osf module, which not every kernel has
if tb_exec "$NS_NFT" nft add rule inet cg odd osf name "Linux" counter 2>/dev/null; then
	HAVE_OSF=1
else
	HAVE_OSF=0
	echo "note: osf is not available in this kernel; not tested" >&2
fi
if compare_with_nft "$NS_NFT" nftables; then
	OUT="$TMP/nftables/ours.txt"
	expect_line "nftables: Tailscale's native 'ip filter' is labelled nftables" "$OUT" \
		'^table ip filter backend=nftables '
	expect_line "nftables: base chain priorities" "$OUT" '^chain pre handle=[0-9]+ hook=prerouting prio=-150 policy=accept type=filter$'
	expect_line "nftables: drop policy" "$OUT" '^chain in_late handle=[0-9]+ hook=input prio=10 policy=drop type=filter$'
	expect_line "nftables: netdev ingress chain on its device" "$OUT" \
		"^chain ingress handle=[0-9]+ hook=ingress prio=-500 policy=accept type=filter dev=$NETDEV\$"
	expect_line "nftables: the CGNAT drop rule" "$OUT" \
		'^rule ts-input #3 handle=[0-9]+ exprs=meta,cmp,payload,bitwise,cmp,drop$'
	expect_line "nftables: jump resolved" "$OUT" '^rule INPUT #1 handle=[0-9]+ exprs=counter,jump:ts-input$'
	expect_line "nftables: rule comment" "$OUT" 'accept comment="provider replies"$'
	expect_line "nftables: concatenated range set" "$OUT" '^set svc .*flags=interval,concat .*fields=4,2 elems=3 ranges=3$'
	expect_line "nftables: auto-merged interval set" "$OUT" '^set cgnat .*ranges=1$'
	expect_line "nftables: verdict map element jumps" "$OUT" '^  elem 646464c8 verdict=jump:audit$'
	expect_line "nftables: fib collected as fib" "$OUT" '^rule pre #2 handle=[0-9]+ exprs=fib,cmp,counter$'
	for x in numgen socket; do
		expect_line "nftables: $x kept as unknown" "$OUT" "exprs=([a-z_:@!?,-]*,)?unknown:$x(,|\$)"
	done
	[ "$HAVE_OSF" = 1 ] && expect_line "nftables: osf kept as unknown" "$OUT" "unknown:osf"
	if grep -q '?' "$OUT"; then t_fail "nftables: unresolved references: $(grep '?' "$OUT")"; else
		t_ok "nftables: every jump, goto and set reference resolved"; fi
fi

# --- lookups: set_lookup() against the kernel ----------------------------
lookup_agrees() {
	local set=$1 nft_key=$2 hex=$3 kernel ours
	if tb_exec "$NS_NFT" nft get element inet cg "$set" "{ $nft_key }" >/dev/null 2>&1; then
		kernel=match
	else
		kernel=nomatch
	fi
	ours=$(tb_exec "$NS_NFT" "$DUMP" -l cg "$set" "$hex" | cut -d' ' -f1)
	t_expect "lookup $set { $nft_key }: as the kernel says ($kernel)" "$kernel" "$ours"
}
for a in 100.100.2.136 100.100.2.137 100.100.2.138 100.100.100.200 100.125.7.250 100.126.0.1 \
	255.255.255.255 255.255.254.255 100.64.0.0 10.0.0.1; do
	lookup_agrees provider "$a" "$(hex4 "$a")"
	lookup_agrees cgnat "$a" "$(hex4 "$a")"
done
for ap in "100.100.2.136 53" "100.100.2.136 54" "10.1.2.3 1500" "10.1.2.3 2001" "10.1.2.3 80" \
	"100.100.100.200 80" "11.0.0.1 1500"; do
	set -- $ap # shellcheck disable=SC2086
	lookup_agrees svc "$1 . $2" "$(hex4 "$1")$(printf '%04x' "$2")0000"
done

# --- iptables-nft ---------------------------------------------------------
tb_ns_add NS_IPT iptables
ipt() { t_must tb_exec "$NS_IPT" iptables-nft "$@"; }
ipt -N ts-input
ipt -N ts-forward
ipt -I INPUT 1 -j ts-input
ipt -I FORWARD 1 -j ts-forward
ipt -A ts-input -s 100.101.102.103/32 -i lo -j ACCEPT
ipt -A ts-input -i tailscale0 -j ACCEPT
ipt -A ts-input -p udp --dport 41641 -j ACCEPT
ipt -A ts-input -s 100.115.92.0/23 ! -i tailscale0 -j RETURN
ipt -A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP
ipt -A ts-forward -i tailscale0 -j MARK --set-xmark 0x40000/0xff0000
ipt -A ts-forward -m mark --mark 0x40000/0xff0000 -j ACCEPT
ipt -A ts-forward -s 100.64.0.0/10 -o tailscale0 -j DROP
ipt -A ts-forward -o tailscale0 -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP
ipt -A ts-forward -o tailscale0 -j ACCEPT
ipt -A INPUT -p tcp -m multiport --dports 22,80,443 -m comment --comment "web and ssh" -j ACCEPT
ipt -t nat -N ts-postrouting
ipt -t nat -I POSTROUTING 1 -j ts-postrouting
ipt -t nat -A ts-postrouting -m mark --mark 0x40000/0xff0000 -j MASQUERADE
ipt -t mangle -I PREROUTING 1 -m conntrack --ctstate ESTABLISHED,RELATED -m connmark ! --mark 0x0/0xff0000 \
	-j CONNMARK --restore-mark --nfmask 0xff0000 --ctmask 0xff0000
ipt -A INPUT -p icmp -m limit --limit 5/sec --limit-burst 10 -j LOG --log-prefix "cg: "
ipt -A INPUT -p udp --dport 53 -j NFLOG --nflog-group 5 --nflog-prefix "cg dns"
t_must tb_exec "$NS_IPT" ip6tables-nft -A INPUT -s fd7a:115c:a1e0::/48 ! -i tailscale0 -j DROP
if compare_with_nft "$NS_IPT" iptables-nft; then
	OUT="$TMP/iptables-nft/ours.txt"
	for t in filter nat mangle; do
		expect_line "iptables-nft: ip $t is labelled iptables-nft" "$OUT" "^table ip $t backend=iptables-nft "
	done
	# no xt expression (nft does not warn): its interface name as
	# iptables-nft writes it (src/collect/nft-owner.c)
	expect_line "iptables-nft: ip6 filter, native expressions only, is labelled iptables-nft" "$OUT" \
		"^table ip6 filter backend=iptables-nft "
	expect_line "iptables-nft: -m comment text collected" "$OUT" \
		'match:multiport,match:comment,counter,accept comment="web and ssh"$'
	expect_line "iptables-nft: -m conntrack as an xt match" "$OUT" 'match:conntrack'
	expect_line "iptables-nft: -j MARK as an xt target" "$OUT" 'target:MARK'
	expect_line "iptables-nft: -j CONNMARK as an xt target" "$OUT" 'target:CONNMARK'
	expect_line "iptables-nft: the CGNAT drop, natively translated" "$OUT" \
		'^rule ts-input #5 handle=[0-9]+ exprs=meta,cmp,payload,bitwise,cmp,counter,drop$'
	expect_line "iptables-nft: -m limit with its rate and burst" "$OUT" 'limit:5/1\+10,'
	# iptables-nft writes -j LOG as an xt target, -j NFLOG natively
	expect_line "iptables-nft: -j LOG as an xt target" "$OUT" 'limit:5/1\+10,counter,target:LOG$'
	expect_line "iptables-nft: -j NFLOG with its group and prefix" "$OUT" 'log:group=5:prefix=cg%20dns(,|$)'
	expect_line "iptables-nft: jump from INPUT at position 1" "$OUT" '^rule INPUT #1 handle=[0-9]+ exprs=counter,jump:ts-input$'
fi

# --- mixed: Tailscale's native table, then Docker-like iptables-nft rules --
tb_ns_add NS_MIX mixed
t_must tb_exec "$NS_MIX" nft -f - <<'EOF'
table ip filter {
	chain INPUT { type filter hook input priority filter; policy accept; counter jump ts-input; }
	chain FORWARD { type filter hook forward priority filter; policy accept; counter jump ts-forward; }
	chain ts-input { iifname != "tailscale0" ip saddr 100.64.0.0/10 drop; }
	chain ts-forward { oifname "tailscale0" accept; }
}
EOF
compare_with_nft "$NS_MIX" mixed-native &&
	expect_line "mixed: native only: labelled nftables" "$TMP/mixed-native/ours.txt" '^table ip filter backend=nftables '
t_must tb_exec "$NS_MIX" iptables-nft -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
compare_with_nft "$NS_MIX" mixed-xt &&
	expect_line "mixed: with an xt rule: labelled iptables-nft" "$TMP/mixed-xt/ours.txt" \
		'^table ip filter backend=iptables-nft '

# --- random rulesets ------------------------------------------------------
tb_ns_add NS_RND random
add_netdev_device "$NS_RND"
if [ -n "${CG_NFT_SEED:-}" ]; then
	seeds=$CG_NFT_SEED
else
	seeds=
	for _ in $(seq "${CG_NFT_SEEDS:-3}"); do seeds="$seeds $(( (RANDOM << 15) | RANDOM ))"; done
fi
for seed in $seeds; do
	python3 "$GEN" "$seed" 300 "$NETDEV" >"$TMP/random-$seed.nft" ||
		{ echo "ERROR: nft-gen.py $seed failed" >&2; exit 99; }
	t_must tb_exec "$NS_RND" nft flush ruleset
	if ! tb_exec "$NS_RND" nft -f "$TMP/random-$seed.nft"; then
		echo "ERROR: nft refused the random ruleset of seed $seed (a generator bug)" >&2
		exit 99
	fi
	compare_with_nft "$NS_RND" "random-$seed" ||
		echo "random ruleset failed: replay with CG_NFT_SEED=$seed make check TESTS=tests/kernel/nft-collect.sh" >&2
done

# --- concurrent changes ---------------------------------------------------
tb_ns_add NS_CON concurrent
python3 "$GEN" 7 2000 >"$TMP/concurrent.nft" || exit 99
t_must tb_exec "$NS_CON" nft -f "$TMP/concurrent.nft"
t_must tb_exec "$NS_CON" nft -f - <<'EOF'
table inet churn {
	chain base { type filter hook input priority 50; policy accept; }
}
EOF
cat >"$TMP/churn.sh" <<'EOF'
# Adds a chain and a jump to it, then removes both, over and over, in short
# bursts: a dump that mixed two generations would hold a jump to a chain it
# does not have.
i=0
while :; do
	i=$((i + 1))
	nft -f - <<NFT
add chain inet churn x$i
add rule inet churn base jump x$i
NFT
	nft flush chain inet churn base
	nft delete chain inet churn x$i
	sleep 0.0$((RANDOM % 5))
done
EOF
tb_bg "$NS_CON" bash "$TMP/churn.sh"
ok=0 gave_up=0 bad=0 retries=0
for _ in $(seq 20); do
	if CG_DEBUG=1 tb_exec "$NS_CON" "$DUMP" >"$TMP/con.out" 2>"$TMP/con.err"; then
		ok=$((ok + 1))
		if grep -q '?' "$TMP/con.out"; then
			bad=$((bad + 1))
			grep '?' "$TMP/con.out" | head -n 3 >&2
		fi
	elif grep -q "changed during each of" "$TMP/con.err"; then
		gave_up=$((gave_up + 1))
	else
		bad=$((bad + 1))
		cat "$TMP/con.err" >&2
	fi
	retries=$((retries + $(grep -c "changed during the dump" "$TMP/con.err" || true)))
done
echo "concurrent: $ok consistent dumps, $gave_up gave up after 5 attempts, $retries retries" >&2
t_expect "concurrent: every dump consistent or refused with a reason" 0 "$bad"
[ "$ok" -gt 0 ] && t_ok "concurrent: dumps succeed while the ruleset changes" ||
	t_fail "concurrent: no dump succeeded in 20 tries"

# --- privilege ------------------------------------------------------------
if command -v setpriv >/dev/null; then
	t_run tb_exec "$NS_NFT" setpriv --bounding-set -net_admin --inh-caps -net_admin "$DUMP"
	t_expect "without CAP_NET_ADMIN: fails" 1 "$t_status"
	case "$t_err" in
		*"Failed to "*"nftables"*"Operation not permitted (need CAP_NET_ADMIN: run as root)"*)
			t_ok "without CAP_NET_ADMIN: the message says what failed and what to do" ;;
		*) t_fail "without CAP_NET_ADMIN: message was: $t_err" ;;
	esac
fi

t_done
