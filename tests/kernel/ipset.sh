#!/usr/bin/env bash
# `-m set` evaluated against the sets' contents (src/collect/ipset.c,
# src/model/xt/match-set.c), each verdict confirmed by sending the query:
# the provider's resolver 100.100.2.136:53 of tb_scenario, the host's rules
# dropping by set.
#  * hash:net with 100.64.0.0/10: blocked, naming the rule as iptables-save
#    prints it; a nomatch entry for 100.100.2.0/24: reachable; --return-nomatch
#    turns that round; the set flushed: reachable
#  * inversion, hash:ip with a timeout, hash:ip,port on the request (dst,dst),
#    bitmap:port on the reply's source port, list:set, an IPv6 hash:net
#  * iptables-legacy and iptables-nft alike
#  * a type that is not modelled (hash:net,iface): uncertain, naming the set
#  * a million-element hash:net: read, and the one entry that matters found
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3 ipset iptables iptables-legacy ip6tables
tb_audit_env WORK
tb_scenario

DNS=100.100.2.136
RULE="-A INPUT -m set --match-set cgnat src -j DROP"
ipset_() { tb_exec "$TB_HOST" ipset "$@"; }
audit() { tb_audit "$1" "$2" --only-named --dns "$DNS"; }
verdicts() { tb_json '" ".join(t["verdict"] for t in r["targets"])'; }
blocked_by() { tb_json '"|".join(sorted(set(t["blocked_by"]["text"] for t in r["targets"] if t["blocked_by"])))'; }
# CASE WANT-EXIT WANT-VERDICTS UDP-PROBE TCP-PROBE: the audit and the kernel
check() {
	audit "$1" "$2"
	t_expect "$1: verdicts" "$3" "$(verdicts)"
	tb_expect_probe "$1: the kernel (udp)" "$4" "$DNS" 53 udp
	tb_expect_probe "$1: the kernel (tcp)" "$5" "$DNS" 53 tcp
}

for ipt in iptables-legacy iptables; do
	backend=$([ "$ipt" = iptables ] && echo iptables-nft || echo iptables-legacy)
	ipset_ create cgnat hash:net
	ipset_ add cgnat 100.64.0.0/10
	tb_exec "$TB_HOST" "$ipt" -I INPUT -m set --match-set cgnat src -j DROP
	check "$ipt hash:net" 2 "blocked blocked" timeout timeout
	t_expect "$ipt hash:net: the rule named, with its set" "$RULE" "$(blocked_by)"
	t_expect "$ipt hash:net: its backend" "$backend" \
		"$(tb_json '"|".join(sorted(set(t["blocked_by"]["backend"] for t in r["targets"])))')"

	ipset_ add cgnat 100.100.2.0/24 nomatch
	check "$ipt nomatch entry" 0 "reachable reachable" reply reply

	tb_exec "$TB_HOST" "$ipt" -R INPUT 1 -m set --match-set cgnat src --return-nomatch -j DROP
	check "$ipt --return-nomatch" 2 "blocked blocked" timeout timeout
	tb_exec "$TB_HOST" "$ipt" -R INPUT 1 -m set --match-set cgnat src -j DROP

	ipset_ flush cgnat
	check "$ipt set empty" 0 "reachable reachable" reply reply

	tb_exec "$TB_HOST" "$ipt" -F INPUT
	ipset_ destroy cgnat
done

# --- inversion, and an entry with a timeout ---------------------------------------
ipset_ create known hash:ip timeout 600
tb_exec "$TB_HOST" iptables-legacy -I INPUT -s 100.64.0.0/10 -m set ! --match-set known src -j DROP
check "inverted, empty" 2 "blocked blocked" timeout timeout
ipset_ add known "$DNS"
check "inverted, the resolver known (timeout 600)" 0 "reachable reachable" reply reply
tb_exec "$TB_HOST" iptables-legacy -F INPUT

# --- hash:ip,port on the request: dst,dst, udp only ---------------------------------
ipset_ create svc hash:ip,port
ipset_ add svc "$DNS,udp:53"
tb_exec "$TB_HOST" iptables-legacy -I OUTPUT -m set --match-set svc dst,dst -j DROP
# a UDP request dropped on the way out fails send() (EPERM): "unreachable"
check "hash:ip,port dst,dst" 2 "blocked reachable" unreachable reply
t_expect "hash:ip,port dst,dst: the rule named" "-A OUTPUT -m set --match-set svc dst,dst -j DROP" "$(blocked_by)"
tb_exec "$TB_HOST" iptables-legacy -F OUTPUT
# the same rule with src,dst never matches the request (the host's address)
tb_exec "$TB_HOST" iptables-legacy -I OUTPUT -m set --match-set svc src,dst -j DROP
check "hash:ip,port src,dst" 0 "reachable reachable" reply reply
tb_exec "$TB_HOST" iptables-legacy -F OUTPUT

# --- bitmap:port on the reply's source port ---------------------------------------
ipset_ create low bitmap:port range 1-1023
ipset_ add low 53
tb_exec "$TB_HOST" iptables-legacy -I INPUT -p udp -m set --match-set low src -j DROP
check "bitmap:port" 2 "blocked reachable" timeout reply
ipset_ del low 53
ipset_ add low 80
check "bitmap:port, another port" 0 "reachable reachable" reply reply
tb_exec "$TB_HOST" iptables-legacy -F INPUT

# --- list:set -------------------------------------------------------------------------
ipset_ create nets hash:net
ipset_ create all list:set
ipset_ add all svc
ipset_ add all nets
tb_exec "$TB_HOST" iptables-legacy -I INPUT -m set --match-set all src -j DROP
check "list:set, no member holds it" 0 "reachable reachable" reply reply
ipset_ add nets 100.100.0.0/16
check "list:set, a member holds it" 2 "blocked blocked" timeout timeout
tb_exec "$TB_HOST" iptables-legacy -F INPUT

# --- IPv6 ---------------------------------------------------------------------------
ipset_ create v6 hash:net family inet6
ipset_ add v6 fd00:cafe:1::/48
tb_exec "$TB_HOST" ip6tables-legacy -I INPUT -m set --match-set v6 src -j DROP
tb_audit "ipv6 hash:net" 2 --only-named --service "[$TB_SVC_IP6]:53/udp"
t_expect "ipv6 hash:net: blocked" "blocked" "$(verdicts)"
tb_expect_probe "ipv6 hash:net: the kernel drops the reply" timeout "$TB_SVC_IP6" 53 udp
ipset_ add v6 fd00:cafe:1::136 nomatch
tb_audit "ipv6 nomatch" 0 --only-named --service "[$TB_SVC_IP6]:53/udp"
tb_expect_probe "ipv6 nomatch: the kernel answers" reply "$TB_SVC_IP6" 53 udp
tb_exec "$TB_HOST" ip6tables-legacy -F INPUT

# --- a type that is not modelled: uncertain, the set named -----------------------------
ipset_ create byif hash:net,iface
ipset_ add byif 100.64.0.0/10,eth0
tb_exec "$TB_HOST" iptables-legacy -I INPUT -m set --match-set byif src,src -j DROP
audit "hash:net,iface" 1
t_expect "hash:net,iface: uncertain" "uncertain uncertain" "$(verdicts)"
t_expect "hash:net,iface: the findings name the rule, with the set's name" "-A INPUT -m set --match-set byif src,src -j DROP" \
	"$(tb_json '"|".join(sorted(set(f["rule"]["text"] for f in r["findings"] if f["code"] == "VERDICT_UNCERTAIN")))')"
tb_expect_probe "hash:net,iface: the kernel (it matches)" timeout "$DNS" 53 udp
tb_exec "$TB_HOST" iptables-legacy -F INPUT

# --- a million elements -------------------------------------------------------------------
tb_tmpdir DIR
python3 - "$DIR/big" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("create big hash:net family inet hashsize 1048576 maxelem 2000000\n")
    # a million /32s in 10.0.0.0/8, and the resolver's /24
    for i in range(1000000):
        f.write("add big 10.%d.%d.%d\n" % (i >> 16, (i >> 8) & 255, i & 255))
    f.write("add big 100.100.2.0/24\n")
EOF
tb_exec "$TB_HOST" ipset restore -f "$DIR/big"
tb_exec "$TB_HOST" iptables-legacy -I INPUT -m set --match-set big src -j DROP
check "a million elements" 2 "blocked blocked" timeout timeout
ipset_ del big 100.100.2.0/24
check "a million elements, the resolver's entry gone" 0 "reachable reachable" reply reply

t_done
