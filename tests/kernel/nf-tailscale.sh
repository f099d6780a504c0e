#!/usr/bin/env bash
# Fixed scenarios for the netfilter simulator, checked against the kernel:
# every Tailscale layout of the test bed in all three forms. For each, the
# simulator's verdict on the DNS flow to 100.100.2.136 (udp and tcp), the
# metadata flow and an inbound health check must equal what the kernel oracle
# observes, and where the reply is dropped the simulator must name ts-input's
# CGNAT DROP with its index.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
SIM="$top_builddir/tests/kernel/nf-simulate"
tb_test_init "$SIM"
PROBE=$(tb_prog cg-probe) || exit 99

flows() {
	cat <<FLOWS
dns-udp out $TB_HOST_IP 100.100.2.136 udp 40001 53 eth0
dns-tcp out $TB_HOST_IP 100.100.2.136 tcp 40002 53 eth0
dns2 out $TB_HOST_IP 100.100.2.138 udp 40003 53 eth0
meta out $TB_HOST_IP 100.100.100.200 tcp 40004 80 eth0
gw out $TB_HOST_IP $TB_GW udp 40005 53 eth0
hc in $TB_HOST_IP 100.100.2.136 tcp 8080 40006 eth0
chromeos out $TB_HOST_IP 100.115.92.5 udp 40007 53 eth0
FLOWS
}

# kernel: the same flows for real: the prober's namespace and cg-probe's
# arguments for flow ID
kernel_args() {
	case $1 in
	dns-udp) echo "$TB_HOST 100.100.2.136 53 udp" ;;
	dns-tcp) echo "$TB_HOST 100.100.2.136 53 tcp" ;;
	dns2) echo "$TB_HOST 100.100.2.138 53 udp" ;;
	meta) echo "$TB_HOST 100.100.100.200 80 tcp" ;;
	gw) echo "$TB_HOST $TB_GW 53 udp" ;;
	hc) echo "$TB_PROV --from 100.100.2.136 $TB_HOST_IP 8080 tcp" ;;
	chromeos) echo "$TB_HOST 100.115.92.5 53 udp" ;;
	esac
}

# kernel_word ID [cg-probe options]: one flow on its own (conntrack flushed)
kernel_word() {
	local id=$1 a
	shift
	read -ra a <<<"$(kernel_args "$id")"
	tb_probe_from "${a[0]}" "${a[@]: -3}" "$@" "${a[@]:1:${#a[@]}-4}"
}

check_layout() {
	local form=$1 variant=$2 label=$3 out id verdict rest word want drop_index a
	local -a pids=()
	out=$(flows | tb_exec "$TB_HOST" "$SIM") || { t_fail "$label: nf-simulate failed"; return; }
	# ts-input's CGNAT DROP: its 1-based index in the chain
	drop_index=$(tb_chain_rules "$form" 4 filter ts-input 2>/dev/null |
		grep -n -E -- '(-s 100\.64\.0\.0/10 ! -i tailscale0 -j DROP|100\.64\.0\.0/10 .*drop)' |
		cut -d: -f1 | head -1 || true)
	# the kernel: every flow at once, once the connections of the layout
	# before are forgotten (each flow its own ports: they do not meet)
	tb_ct_flush "$TB_HOST" "$TB_PROV"
	while read -r id verdict rest; do
		read -ra a <<<"$(kernel_args "$id")"
		tb_exec "${a[0]}" "$PROBE" "${a[@]:1}" >"$KW/$id" 2>/dev/null &
		pids+=($!)
	done <<<"$out"
	wait "${pids[@]}" 2>/dev/null || true
	while read -r id verdict rest; do
		word=; read -r word <"$KW/$id" || true
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

# What the rest of a real host has: Docker's chains and a ufw-style firewall,
# written before tailscaled starts (so its jumps end up first).
DOCKER_RULES='*nat
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8443 -j DNAT --to-destination 172.17.0.2:443
COMMIT
*filter
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A DOCKER-USER -j RETURN
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
COMMIT'
UFW_RULES='*filter
:INPUT DROP [0:0]
:ufw-before-input - [0:0]
:ufw-user-input - [0:0]
:ufw-after-input - [0:0]
:ufw-reject-input - [0:0]
-A INPUT -j ufw-before-input
-A INPUT -j ufw-after-input
-A INPUT -j ufw-reject-input
-A ufw-before-input -i lo -j ACCEPT
-A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw-before-input -m conntrack --ctstate INVALID -j DROP
-A ufw-before-input -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A ufw-before-input -p udp -m addrtype --dst-type MULTICAST -d 224.0.0.251 --dport 5353 -j ACCEPT
-A ufw-before-input -j ufw-user-input
-A ufw-user-input -p tcp -m multiport --dports 22,8080 -j ACCEPT
-A ufw-after-input -p udp -m multiport --dports 137,138 -j ufw-reject-input
-A ufw-reject-input -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW BLOCK] "
COMMIT'

iptables_restore() { # FORM < rules
	case $1 in
	legacy) tb_exec "$TB_HOST" iptables-legacy-restore --noflush ;;
	nft) tb_exec "$TB_HOST" iptables-nft-restore --noflush ;;
	esac
}

tb_fw_reset() {
	local t
	tb_exec "$TB_HOST" nft flush ruleset
	for t in raw mangle nat filter; do
		tb_exec "$TB_HOST" iptables-legacy -t "$t" -F 2>/dev/null || true
		tb_exec "$TB_HOST" iptables-legacy -t "$t" -X 2>/dev/null || true
	done
	tb_exec "$TB_HOST" iptables-legacy -P INPUT ACCEPT 2>/dev/null || true
}

# form I FORM: every layout of FORM in test bed I
form() {
	local form=$2 variant
	tb_use_bed "$1"
	tb_tmpdir KW   # the kernel's words
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

	# an ESTABLISHED,RELATED accept placed before the jump (INPUT #1, after
	# tailscaled wrote its jump) lets the reply through
	tb_ts_install "$form" new
	if [ "$form" = nftables ]; then
		tb_exec "$TB_HOST" nft insert rule ip filter INPUT ct state established,related accept
	else
		tb_exec "$TB_HOST" "iptables-$form" -I INPUT 1 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	fi
	check_layout "$form" new "$form/new+established-accept-first"
	tb_ts_remove "$form"
	tb_fw_reset

	[ "$form" = nftables ] && return
	# Docker and ufw coexisting with Tailscale (iptables forms)
	iptables_restore "$form" <<<"$DOCKER_RULES"
	iptables_restore "$form" <<<"$UFW_RULES"
	check_layout "$form" none "$form/docker+ufw"
	tb_ts_install "$form" new
	check_layout "$form" new "$form/docker+ufw+tailscale"
	tb_ts_remove "$form"
	tb_fw_reset
}

# one test bed per form, the forms at once
bed_setup() {
	tb_host_listen 8080/tcp || tb_die "the host's listener did not start"
	# a ChromeOS-range address on the provider side (Tailscale's RETURN carve-out)
	ip -n "$TB_PROV" addr add 100.115.92.5/32 dev lo
}
tb_beds 3 bed_setup
i=0
for f in legacy nft nftables; do
	tb_spawn "$f" form "$i" "$f"
	i=$((i + 1))
done
tb_join
t_done
