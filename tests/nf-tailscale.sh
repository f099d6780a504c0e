#!/usr/bin/env bash
# Fixed scenarios for the netfilter simulator, checked against the kernel:
# every Tailscale layout of the test bed in all three forms. For each, the
# simulator's verdict on the DNS flow to 100.100.2.136 (udp and tcp), the
# metadata flow and an inbound health check must equal what the kernel oracle
# observes, and where the reply is dropped the simulator must name ts-input's
# CGNAT DROP with its index.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/..}/tests/netns/lib.sh"
tb_init
SIM="$top_builddir/tests/nf-simulate"
[ -x "$SIM" ] || { echo "nf-simulate not built" >&2; exit 99; }

flows() {
	cat <<FLOWS
dns-udp out $TB_HOST_IP 100.100.2.136 udp 40001 53 eth0
dns-tcp out $TB_HOST_IP 100.100.2.136 tcp 40002 53 eth0
dns2 out $TB_HOST_IP 100.100.2.138 udp 40003 53 eth0
meta out $TB_HOST_IP 100.100.100.200 tcp 40004 80 eth0
gw out $TB_HOST_IP $TB_GW udp 40005 53 eth0
hc in $TB_HOST_IP 100.100.2.136 tcp 8080 40006 eth0
FLOWS
}

# kernel: the same flows for real (ID [cg-probe options])
kernel_word() {
	local id=$1
	shift
	case $id in
	dns-udp) tb_probe 100.100.2.136 53 udp "$@" ;;
	dns-tcp) tb_probe 100.100.2.136 53 tcp "$@" ;;
	dns2) tb_probe 100.100.2.138 53 udp "$@" ;;
	meta) tb_probe 100.100.100.200 80 tcp "$@" ;;
	gw) tb_probe "$TB_GW" 53 udp "$@" ;;
	hc) tb_probe_inbound 8080 tcp "$@" ;;
	esac
}

check_layout() {
	local form=$1 variant=$2 label=$3 out id verdict rest word want drop_index
	out=$(flows | tb_exec "$TB_HOST" "$SIM") || { t_fail "$label: nf-simulate failed"; return; }
	# ts-input's CGNAT DROP: its 1-based index in the chain
	drop_index=$(tb_chain_rules "$form" 4 filter ts-input 2>/dev/null |
		grep -n -E -- '(-s 100\.64\.0\.0/10 ! -i tailscale0 -j DROP|100\.64\.0\.0/10 .*drop)' |
		cut -d: -f1 | head -1 || true)
	while read -r id verdict rest; do
		word=$(kernel_word "$id" || true)
		# a loaded machine can miss the short deadline: ask again before disagreeing
		[ "$word" = timeout ] && [ "$verdict" = reachable ] && word=$(kernel_word "$id" --timeout 3000 || true)
		if [ "$word" = reply ]; then want=reachable; else want=blocked; fi
		t_expect "$label: $id simulated as the kernel sees it ($word)" "$want" "$verdict"
		if [ "$verdict" = blocked ] && [ -n "$drop_index" ]; then
			case "$rest" in
			*":filter:ts-input:#$drop_index"*) t_ok "$label: $id names ts-input #$drop_index" ;;
			*) t_fail "$label: $id: expected ts-input #$drop_index, got: $rest" ;;
			esac
		fi
	done <<<"$out"
}

tb_scenario
tb_host_listen 8080/tcp

for form in legacy nft nftables; do
	check_layout "$form" none "$form/no firewall"
	for variant in new old nodivert return; do
		tb_ts_install "$form" "$variant"
		check_layout "$form" "$variant" "$form/$variant"
		if [ "$variant" = new ]; then
			tb_exception "$form"
			check_layout "$form" "$variant" "$form/$variant+exception"
		fi
		tb_ts_remove "$form"
	done
done
t_done
