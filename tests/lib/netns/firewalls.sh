# SPDX-License-Identifier: GPL-2.0-or-later
# The common Linux firewalls from Debian's packages, run for real inside the
# test bed's host namespace (sourced by tests after tests/lib/netns/lib.sh and
# tb_scenario). Nothing runs in the machine's own namespace and nothing under
# the machine's /etc or /var changes: every tool gets a copy of its
# configuration in a temporary directory.
#
#   fw_host_state        a digest of the machine's own rulesets (iptables,
#                        ip6tables, legacy and nft, nft) and of the firewalls'
#                        configuration and state directories: a test compares
#                        it before and after
#   fw_ufw_start         ufw (ufw's own rules in /etc/ufw, copied): default deny
#                        incoming, allow 22/tcp and 8080/tcp, limit 2222/tcp,
#                        enabled; --rootdir/--datadir point at the copy
#   fw_firewalld_start   firewalld with the stock configuration (zone public,
#                        nftables backend), copied, on a private D-Bus system
#                        bus of its own; returns once it answers --state
#   fw_firewalld_stop    stops that firewalld (its pid) and its bus
#   fw_shorewall_start   shorewall's two-interface example (net eth0, loc eth1, a
#                        veth the function adds), compiled to a script that
#                        keeps its state in a temporary VARDIR
#   fw_nft_example NAME  nft -f /usr/share/doc/nftables/examples/NAME
#   fw_reset             flushes every ruleset of the host namespace

fw_host_state() {
	local d
	{
		iptables-save
		ip6tables-save
		iptables-legacy-save
		ip6tables-legacy-save
		nft list ruleset
		for d in /etc/ufw /etc/default/ufw /etc/firewalld /etc/shorewall /var/lib/shorewall /var/lib/ufw; do
			if [ -e "$d" ]; then find "$d" -type f -exec md5sum {} + | sort; fi
		done
	} 2>&1 | { grep -v '^#' || true; } | md5sum | cut -d' ' -f1
}

fw_reset() {
	local t
	tb_exec "$TB_HOST" nft flush ruleset
	for t in raw mangle nat filter; do
		tb_exec "$TB_HOST" iptables-legacy -w -t "$t" -F 2>/dev/null || true
		tb_exec "$TB_HOST" iptables-legacy -w -t "$t" -X 2>/dev/null || true
		tb_exec "$TB_HOST" ip6tables-legacy -w -t "$t" -F 2>/dev/null || true
		tb_exec "$TB_HOST" ip6tables-legacy -w -t "$t" -X 2>/dev/null || true
	done
	for t in INPUT FORWARD OUTPUT; do
		tb_exec "$TB_HOST" iptables-legacy -w -P "$t" ACCEPT 2>/dev/null || true
		tb_exec "$TB_HOST" ip6tables-legacy -w -P "$t" ACCEPT 2>/dev/null || true
	done
}

# --- ufw ------------------------------------------------------------------------

fw_ufw() {
	tb_exec "$TB_HOST" ufw --rootdir="$FW_UFW" --datadir="$FW_UFW" "$@" >"$FW_UFW/out" 2>&1 ||
		{ cat "$FW_UFW/out" >&2; return 1; }
}

fw_ufw_start() {
	tb_tmpdir FW_UFW
	mkdir -p "$FW_UFW/etc/default" "$FW_UFW/lib" "$FW_UFW/usr/share"
	cp -a /etc/ufw "$FW_UFW/etc/" && cp -a /lib/ufw "$FW_UFW/lib/" && cp -a /usr/share/ufw "$FW_UFW/usr/share/" ||
		return 1
	# no IPT_SYSCTL: the namespace keeps the test bed's sysctls
	sed 's|^IPT_SYSCTL=.*|IPT_SYSCTL=|' /etc/default/ufw >"$FW_UFW/etc/default/ufw"
	fw_ufw default deny incoming && fw_ufw allow 22/tcp && fw_ufw allow 8080/tcp && fw_ufw limit 2222/tcp &&
		fw_ufw --force enable
}

# --- firewalld --------------------------------------------------------------------

fw_firewalld_start() {
	local i
	tb_tmpdir FW_FWD
	cp -a /etc/firewalld "$FW_FWD/etc" || return 1
	cat >"$FW_FWD/bus.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$FW_FWD/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
XML
	tb_bg "$TB_HOST" dbus-daemon --config-file="$FW_FWD/bus.conf" --nofork --nopidfile 2>/dev/null
	FW_BUS_PID=$!
	tb_wait_file "$FW_FWD/bus" 10 "$FW_BUS_PID" || return 1
	FW_FWD_BUS="unix:path=$FW_FWD/bus"
	tb_bg "$TB_HOST" env DBUS_SYSTEM_BUS_ADDRESS="$FW_FWD_BUS" firewalld --nofork --nopid \
		--system-config "$FW_FWD/etc" --log-target file --log-file "$FW_FWD/log"
	FW_FWD_PID=$!
	for i in $(seq 150); do
		tb_exec "$TB_HOST" env DBUS_SYSTEM_BUS_ADDRESS="$FW_FWD_BUS" firewall-cmd --state >/dev/null 2>&1 &&
			return 0
		kill -0 "$FW_FWD_PID" 2>/dev/null || break
		sleep 0.2
	done
	echo "fw_firewalld_start: firewalld did not come up; its log:" >&2
	cat "$FW_FWD/log" >&2
	return 1
}

fw_firewall_cmd() {
	tb_exec "$TB_HOST" env DBUS_SYSTEM_BUS_ADDRESS="$FW_FWD_BUS" firewall-cmd "$@"
}

# fw__stop PID SECONDS: SIGTERM to a child of this shell, then reaps it once
# it has exited (a zombie still answers kill -0)
fw__stop() {
	local pid=$1 secs=$2 i state
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < secs * 20; i++)); do
		state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || echo gone)
		case $state in Z | gone) wait "$pid" 2>/dev/null || true; return 0 ;; esac
		sleep 0.05
	done
	echo "fw__stop: process $pid still runs ${secs}s after SIGTERM" >&2
	return 1
}

fw_firewalld_stop() {
	fw__stop "$FW_FWD_PID" 30 && fw__stop "$FW_BUS_PID" 10
}

# --- shorewall --------------------------------------------------------------------

fw_shorewall_start() {
	local ex=/usr/share/doc/shorewall/examples/two-interfaces f
	tb_tmpdir FW_SW
	mkdir "$FW_SW/conf" "$FW_SW/var"
	for f in interfaces policy rules zones snat stoppedrules params; do
		cp "$ex/$f" "$FW_SW/conf/" || return 1
	done
	sed 's/^STARTUP_ENABLED=.*/STARTUP_ENABLED=Yes/' "$ex/shorewall.conf" >"$FW_SW/conf/shorewall.conf"
	# the example's local zone
	ip -n "$TB_HOST" link add eth1 type veth peer name eth1-peer &&
		ip -n "$TB_HOST" addr add 192.168.1.1/24 dev eth1 &&
		ip -n "$TB_HOST" link set eth1 up && ip -n "$TB_HOST" link set eth1-peer up || return 1
	tb_exec "$TB_HOST" shorewall compile "$FW_SW/conf" "$FW_SW/firewall" >"$FW_SW/out" 2>&1 ||
		{ cat "$FW_SW/out" >&2; return 1; }
	# the compiled script takes VARDIR from the environment (else /var/lib/shorewall)
	tb_exec "$TB_HOST" env VARDIR="$FW_SW/var" "$FW_SW/firewall" start >>"$FW_SW/out" 2>&1 ||
		{ cat "$FW_SW/out" >&2; return 1; }
}

# --- nftables' examples -------------------------------------------------------------

fw_nft_example() {
	local dir=/usr/share/doc/nftables/examples
	[ -f "$dir/$1" ] || return 1
	# all-in-one.nft includes its neighbours by relative path
	(cd "$dir" && tb_exec "$TB_HOST" nft -f "$1")
}
