#!/usr/bin/env bash
# Installs every build and test dependency of cgnatcheck from Debian 12's
# packages. Non-interactive and idempotent: packages already present are left
# alone, and apt's lists are refreshed only when something is missing.
# Usage: install-deps.sh [--packaging]
set -euo pipefail

packages=(
	# build
	build-essential autoconf automake libtool pkg-config
	libmnl-dev libnftnl-dev libiptc-dev libcap-ng-dev libjson-c-dev libxtables-dev
	# run and test: the firewall and routing tools the test bed drives
	iproute2 nftables iptables procps
	# tests and benchmarks
	time python3 systemd conntrack
	# the blind spots' kernel tests: IPVS services and ipsets (tests/kernel/blind-net.sh, ipset.sh)
	ipvsadm ipset
	# systemd-nspawn, which boots this machine's systemd in containers: the
	# boot oracle (tests/lib/nspawn/, tests/kernel/boot-oracle.sh)
	systemd-container
	# openssh-server, whose ssh.service boots in that bed (tests/kernel/boot-fix.sh:
	# sshd's ListenAddress on the overlay address)
	openssh-server
	# promtool, which validates the metrics file (tests/kernel/metrics.sh)
	prometheus
	# the BPF programs of tests/kernel/blind-bpf.sh (clang -target bpf; the
	# test loads the cgroup one with the bpf() call itself, tc and ip the others)
	clang llvm
	# the common firewalls the tests run in their namespaces (tests/kernel/firewalls.sh);
	# dbus for firewalld's private bus
	ufw firewalld shorewall dbus
	# DHCP leases the audit discovers (tests/kernel/discover-dhcp.sh): the real
	# clients write them, dnsmasq serves them in the provider's namespace
	isc-dhcp-client dhcpcd-base dnsmasq
	# a real sshd, run by the test in its namespace, and ssh-keyscan: the
	# readiness probe's oracle (tests/kernel/probe-ssh-banner.sh)
	openssh-server openssh-client
)
# --packaging: also what building and testing the Debian package and the
# Ansible role take (.ci/package; README "Packages and fleets")
if [ "${1:-}" = --packaging ]; then
	packages+=(dpkg-dev debhelper fakeroot lintian ansible-core python3-apt)
fi

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		exec sudo "$0" "$@"
	fi
	echo "install-deps.sh: run as root (apt-get needs it)" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps.sh: all ${#packages[@]} packages present"
	exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Installed, not started: the firewalls' packages would enable and start
# their services, which rewrite this machine's own rules. A policy-rc.d that
# answers 101 forbids every service start during the install; one this script
# puts there is removed afterwards, one that was there stays.
policy_rc=/usr/sbin/policy-rc.d
own_policy_rc=
if [ ! -e "$policy_rc" ]; then
	printf '#!/bin/sh\n# install-deps.sh: no service starts during the install\nexit 101\n' >"$policy_rc"
	chmod 0755 "$policy_rc"
	own_policy_rc=yes
	trap 'rm -f "$policy_rc"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# firewalld's, ufw's, prometheus', dnsmasq's and openssh-server's packages enable their units for the next boot: the
# tests run them only inside their own namespaces, never as this machine's
# firewall
if command -v systemctl >/dev/null; then
	systemctl disable firewalld.service ufw.service prometheus.service dnsmasq.service \
		ssh.service ssh.socket >/dev/null 2>&1 || true
fi
[ -z "$own_policy_rc" ] || rm -f "$policy_rc"
