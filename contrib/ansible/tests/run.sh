#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Tests contrib/ansible/roles/cgnatcheck against this machine with
# ansible-playbook -i localhost, -c local (as root):
#   contrib/ansible/tests/run.sh PATH/cgnatcheck_VERSION_ARCH.deb
# It builds a network namespace of its own (a veth with a default route and
# Tailscale's ts-input drop in nftables) and the role runs its audit there,
# never in the machine's own namespace; nothing runs --fix. Prints "PASS:
# NAME" or "FAIL: NAME" per check (.ci/run counts them) and exits 1 on a
# failure. The namespace is removed, and the package purged if it was not
# installed before, also on failure. Needs: ansible-playbook (ansible-core),
# python3-apt, iproute2, nftables.
set -uo pipefail
deb=${1:?usage: run.sh PATH/TO/cgnatcheck.deb}
deb=$(readlink -f "$deb")
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "FAIL: ansible role (run.sh needs root)"; exit 1; }
for t in ansible-playbook ip nft; do
	command -v "$t" >/dev/null || { echo "FAIL: ansible role (no $t)"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/cgnatcheck-ansible.XXXXXX")
ns=cgnatcheck-ansible-$$
was_installed=$(dpkg-query -W -f='${Status}' cgnatcheck 2>/dev/null | grep -c 'install ok installed')
# the directories the role will make for the cloud-init link, deepest first
new_dirs=()
for d in /var/lib/cloud/scripts/per-boot /var/lib/cloud/scripts /var/lib/cloud; do
	[ -d "$d" ] || new_dirs+=("$d")
done
cleanup() {
	ip netns del "$ns" 2>/dev/null
	for d in "${new_dirs[@]}"; do rmdir "$d" 2>/dev/null; done
	if [ "$was_installed" = 0 ] && dpkg-query -W cgnatcheck >/dev/null 2>&1; then
		dpkg --purge cgnatcheck >/dev/null 2>&1
	fi
	rm -rf "$work"
}
trap cleanup EXIT

failed=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; failed=1; }

# the namespace: the provider's resolver is routed out of eth0 and its
# replies dropped by ts-input (the seed case)
ip netns add "$ns" &&
	ip -n "$ns" link set lo up &&
	ip -n "$ns" link add eth0 type veth peer name eth0p &&
	ip -n "$ns" link set eth0 up && ip -n "$ns" link set eth0p up &&
	ip -n "$ns" addr add 192.0.2.10/24 dev eth0 &&
	ip -n "$ns" route add default via 192.0.2.1 &&
	ip netns exec "$ns" nft -f - <<'NFT' || { fail "ansible role (could not build the namespace)"; exit 1; }
table ip filter {
	chain ts-input {
		ip saddr 100.64.0.0/10 iifname != "tailscale0" drop
	}
	chain INPUT {
		type filter hook input priority filter; policy accept;
		jump ts-input
	}
}
NFT

play() { # LOG PHASE
	ANSIBLE_ROLES_PATH="$here/../roles" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
		ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 \
		ansible-playbook -i localhost, -c local "$here/test.yml" \
		-e deb="$deb" -e netns="$ns" -e phase="$2" >"$work/$1" 2>&1
}
recap() { sed -n 's/.*localhost *: *\(ok=.*\)/\1/p' "$work/$1" | tr -s ' '; }
show() { echo "--- $1:"; tail -40 "$work/$1"; }
wants=/etc/systemd/system
links() {
	for l in multi-user.target.wants/cgnatcheck-firstboot.service multi-user.target.wants/cgnatcheck-keep.service \
		timers.target.wants/cgnatcheck-audit.timer; do
		[ -L "$wants/$l" ] && echo "$l"
	done
	[ -L /var/lib/cloud/scripts/per-boot/cgnatcheck ] && echo cloud-init
}

# 1. install, enable, audit in the namespace, the JSON checked by the play
if play on1.log on; then
	r=$(recap on1.log)
	got=$(links | tr '\n' ' ')
	want="multi-user.target.wants/cgnatcheck-firstboot.service timers.target.wants/cgnatcheck-audit.timer cloud-init "
	if [ "$got" != "$want" ]; then
		fail "ansible role: enabled [$got], expected [$want]"
	elif [ "$(grep -c '^CGNATCHECK_MAIL_TO=' /etc/default/cgnatcheck)" != 1 ] ||
		! grep -qx 'CGNATCHECK_MAIL_TO=ops@example.com' /etc/default/cgnatcheck ||
		! grep -qx 'CGNATCHECK_CRON=yes' /etc/default/cgnatcheck ||
		! grep -qx 'CGNATCHECK_FIRSTBOOT=per-instance' /etc/default/cgnatcheck; then
		fail "ansible role: /etc/default/cgnatcheck: $(grep -v '^#' /etc/default/cgnatcheck | grep .)"
	elif ! grep -q 'The registered report is the namespace' "$work/on1.log"; then
		fail "ansible role: the play did not check the report"
	else
		pass "ansible role: installs, enables the first-boot hook, timer, cron job and cloud-init hook, audits in netns $ns ($r)"
	fi
else
	show on1.log
	fail "ansible role (first run)"
fi

# 2. the same again changes nothing
if play on2.log on; then
	r=$(recap on2.log)
	case $r in *" changed=0 "*) pass "ansible idempotent: second run $r" ;;
		*) show on2.log; fail "ansible idempotent: second run $r" ;; esac
else
	show on2.log
	fail "ansible idempotent (second run failed)"
fi

# 3. asked to fail on exit 2 or 3: the namespace's blocked resolver fails the play
if play fail.log fail; then
	show fail.log
	fail "ansible fail_on: the play passed with cgnatcheck_fail_on [2, 3] and a blocked target"
elif grep -q 'cgnatcheck exited 2 (a target is blocked or unroutable); blocked or unroutable: 100.100.2.136' "$work/fail.log"; then
	pass "ansible fail_on: exit 2 fails the play and names the target"
else
	show fail.log
	fail "ansible fail_on: the play failed, but not on the audit"
fi

# 4. everything off again: the symlinks go, the cron job is off
if play off.log off; then
	got=$(links | tr '\n' ' ')
	if [ -n "$got" ]; then
		fail "ansible disable: still enabled: $got"
	elif ! grep -qx 'CGNATCHECK_CRON=no' /etc/default/cgnatcheck; then
		fail "ansible disable: CGNATCHECK_CRON is not no"
	else
		pass "ansible disable: the unit symlinks and the cloud-init link are gone, the cron job is off"
	fi
else
	show off.log
	fail "ansible disable (run failed)"
fi
exit "$failed"
