#!/usr/bin/env bash
# The blocking rule's counters as evidence. With Tailscale's netfilter rules
# in each form (iptables-legacy, iptables-nft, native nftables), the provider
# sends N datagrams from 100.100.2.136 that its drop takes; the audit of the
# resolver at that address names the drop and says "dropped N packets" in
# text, "blocked_by_packets": N in JSON, the very figure the stock tool
# shows for the rule (`iptables -L -v -x`, `nft list chain`). A rule that
# counts nothing (no counter), or whose counter also counts what it does not
# drop (a counter before its match), gives no figure at all.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3 nft iptables-legacy iptables-nft
tb_audit_env WORK

tb_scenario cnt
mkdir -p "/etc/netns/$TB_HOST"
echo "nameserver 100.100.2.136" >"/etc/netns/$TB_HOST/resolv.conf"

# N datagrams from the provider's resolver to the host: each one dropped
send() {
	tb_exec "$TB_PROV" python3 -I -S -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("100.100.2.136", 0))
for i in range(int(sys.argv[2])):
    s.sendto(b"x" * 20, (sys.argv[1], 9999))
' "$TB_HOST_IP" "$1"
}
# the figure the report gives for the resolver's udp target: text, JSON
report_text() {
	tb_exec "$TB_HOST" "$CGNATCHECK" --dns 100.100.2.136 2>/dev/null |
		sed -n 's/^ *dropped \([0-9]*\) packets\{0,1\} (\([0-9]*\) bytes) so far.*/\1 \2/p' | sort -u | paste -sd'|'
}
report_json() {
	tb_json '"|".join(sorted(set("%s %s" % (t["blocked_by_packets"], t["blocked_by_bytes"]) for t in r["targets"] if "blocked_by_packets" in t)))'
}
# the stock tools' figure for the drop of 100.64.0.0/10 in ts-input
kernel_count() {
	case $1 in
	legacy | nft)
		local ipt=iptables-$1
		tb_exec "$TB_HOST" "$ipt" -w -L ts-input -v -x -n |
			awk '$3 == "DROP" && $8 == "100.64.0.0/10" { print $1, $2 }'
		;;
	nftables)
		tb_exec "$TB_HOST" nft list chain ip filter ts-input |
			sed -n 's/.*ip saddr 100\.64\.0\.0\/10 counter packets \([0-9]*\) bytes \([0-9]*\) drop.*/\1 \2/p'
		;;
	esac
}

N=37
for form in legacy nft nftables; do
	tb_ts_install "$form" new || tb_die "cannot install Tailscale's rules ($form)"
	t_expect "$form: nothing dropped yet" "0 0" "$(kernel_count "$form")"
	tb_audit "$form: before any drop" 2 --dns 100.100.2.136
	if [ "$form" = nftables ]; then
		want='iifname != "tailscale0*" ip saddr 100.64.0.0/10 counter drop'
	else
		want="-A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP"
	fi
	t_expect "$form: blocked, by the drop" "$want" \
		"$(tb_json '"|".join(sorted(set(t["blocked_by"]["text"] for t in r["targets"] if t["verdict"] == "blocked")))')"
	t_expect "$form: before any drop: the counter is read, 0" "0 0" "$(report_json)"

	send "$N"
	kernel=$(kernel_count "$form")
	t_expect "$form: the kernel counted the $N datagrams" "$N" "${kernel%% *}"
	tb_audit "$form: after $N drops" 2 --dns 100.100.2.136
	t_expect "$form: JSON blocked_by_packets/bytes is the kernel's counter" "$kernel" "$(report_json)"
	t_expect "$form: text says dropped $N packets, the kernel's counter" "$kernel" "$(report_text)"
	t_expect "$form: the stock tool still shows it (nothing else counted)" "$kernel" "$(kernel_count "$form")"
	tb_ts_remove "$form" || tb_die "cannot remove Tailscale's rules ($form)"
done

# --- rules that do not count what they drop ---------------------------------
# no counter at all (tb_nft_guard's set lookup and drop)
tb_nft_guard
send 5
tb_audit "no counter" 2 --dns 100.100.2.136
t_expect "no counter: blocked by the guard" "ip saddr @shared drop" \
	"$(tb_json '"|".join(sorted(set(t["blocked_by"]["text"] for t in r["targets"] if t["verdict"] == "blocked")))')"
t_expect "no counter: no figure in JSON" "" "$(report_json)"
t_expect "no counter: no figure in text" "" "$(report_text)"
tb_exec "$TB_HOST" nft delete table inet guard

# a counter before the match: it counts every packet, not the drops
tb_exec "$TB_HOST" nft -f - <<'EOF'
table inet guard {
	chain input { type filter hook input priority 0; policy accept; counter ip saddr 100.64.0.0/10 drop; }
}
EOF
send 5
tb_audit "counter before the match" 2 --dns 100.100.2.136
t_expect "counter before the match: blocked by it" "counter ip saddr 100.64.0.0/10 drop" \
	"$(tb_json '"|".join(sorted(set(t["blocked_by"]["text"] for t in r["targets"] if t["verdict"] == "blocked")))')"
t_expect "counter before the match: no figure" "" "$(report_json)"

t_done
