#!/usr/bin/env bash
# Installs every build and test dependency of cgnatcheck from Debian 12's
# packages. Non-interactive and idempotent: packages already present are left
# alone, and apt's lists are refreshed only when something is missing.
set -euo pipefail

packages=(
	# build
	build-essential autoconf automake libtool pkg-config
	libmnl-dev libnftnl-dev libiptc-dev libcap-ng-dev libjson-c-dev
	# run and test: the firewall and routing tools the test bed drives
	iproute2 nftables iptables procps
	# tests and benchmarks
	time python3 systemd conntrack
)

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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
