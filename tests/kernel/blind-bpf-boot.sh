#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Stock systemd's own cgroup BPF programs are no blind spot of the audit:
# a machine of the boot test bed (tests/lib/nspawn/lib.sh) boots this
# machine's systemd with nothing staged, allowed to load BPF programs
# (CAP_BPF, the bpf() system call, the unified cgroup hierarchy), so
# systemd-journald.service's IPAddressDeny=any becomes the cgroup_skb
# programs sd_fw_ingress and sd_fw_egress on its cgroup, as on a Debian 12
# host. In the machine's network namespace (a veth pair of its own, a
# default route) an audit of --dns 100.100.2.136 reads them and stays
# quiet: the target reachable, exit 0, no warning, one info finding naming
# journald's cgroup and programs. The kernel agrees: a process in
# journald's cgroup cannot send (EPERM), one outside it can.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/nspawn/lib.sh"
PROBE=${top_builddir:-$top_srcdir}/tests/lib/netns/cg-probe
nb_test_init python3
t_require_built "$CGNATCHECK" "$PROBE"

# systemd loads its firewall programs only with CAP_BPF and bpf() (nspawn's
# seccomp filter refuses it otherwise) and on the unified hierarchy (on a
# hybrid host nspawn gives the machine that only when asked)
NB_NSPAWN_ARGS="--capability=CAP_BPF,CAP_NET_ADMIN --system-call-filter=bpf"
export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
nb_units U
nb_boot jd "$U"
state=$(nb_wait_booted jd 120) || nb_die "the machine did not boot ($state)"
pid=$(nb_pid jd)
t_expect "journald runs with IPAddressDeny=any" "active|0.0.0.0/0 ::/0" \
	"$(nb_exec jd systemctl is-active systemd-journald.service)|$(nb_show jd systemd-journald.service IPAddressDeny |
		tr ' ' '\n' | sort | paste -sd' ')"
if nb_console jd | grep -q "BPF firewalling is not supported"; then
	nb_die "systemd in the machine cannot load its firewall: $(nb_console jd | grep -m1 'BPF firewalling')"
fi

# journald's cgroup as this machine sees it (the machine's own cgroup
# namespace shows it below its root)
cg_mnt=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
	/proc/self/mountinfo)
[ -n "$cg_mnt" ] || nb_die "no cgroup2 mount"
init_cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
jcg=${init_cg%/init.scope}/system.slice/systemd-journald.service
[ -d "$cg_mnt$jcg" ] || nb_die "journald's cgroup is not $jcg"

# the machine's network: a veth pair of its own (no dummy module needed)
NET=/proc/$pid/ns/net
nsenter --net="$NET" sh -e -c '
	ip link add bbv0 type veth peer name bbv1
	ip addr add 10.9.0.2/24 dev bbv0
	ip addr add 10.9.0.1/24 dev bbv1
	ip link set bbv0 up
	ip link set bbv1 up
	ip route add default via 10.9.0.1 dev bbv0' || nb_die "cannot set up the machine's network"

# the audit in the machine's namespace; its host root has the live mount table
ROOT=$NB_DIR/hostroot
mkdir -p "$ROOT/proc/self"
ln -s /proc/self/mountinfo "$ROOT/proc/self/mountinfo"
export CGNATCHECK_HOST_ROOT=$ROOT
status=0
nsenter --net="$NET" "$CGNATCHECK" --format json --only-named --dns 100.100.2.136 >"$NB_DIR/out.json" \
	2>"$NB_DIR/err" || status=$?
[ "$status" -ne 3 ] || cat "$NB_DIR/err" >&2
json() { python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$NB_DIR/out.json" "$1"; }
t_expect "the audit: exit status" 0 "$status"
t_expect "the audit: reachable, nothing outside netfilter named" "udp reachable -; tcp reachable -" \
	"$(json '"; ".join("%s %s %s" % (t["proto"], t["verdict"], t.get("blind_spot") or "-") for t in r["targets"])')"
t_expect "the audit: no warning" "" \
	"$(json '" ".join(f["code"] for f in r["findings"] if f["severity"] != "info")')"
info=$(json '"|".join(f["message"] for f in r["findings"] if f["code"] == "BLIND_SPOT_INFO")')
t_expect "the audit: one info, on journald's cgroup" "1 yes" \
	"$(json 'len([f for f in r["findings"] if f["code"] == "BLIND_SPOT_INFO"])') $([[ $info == "cgroup BPF programs on $jcg ("* ]] && echo yes || echo "no: $info")"
t_expect "the audit: its programs named" "sd_fw_egress sd_fw_ingress" \
	"$(grep -o 'sd_fw_[a-z]*' <<<"$info" | sort | paste -sd' ')"

# the kernel: journald's own traffic is dropped (a datagram refused with
# EPERM: unreachable), another process's leaves (the port is closed: refused)
probe() {
	nsenter --net="$NET" "$PROBE" 10.9.0.1 53 udp 2>/dev/null || true
}
t_expect "the kernel: another process's datagram leaves" refused "$(probe)"
t_expect "the kernel: journald's cgroup's does not" unreachable \
	"$(nsenter --net="$NET" sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" 10.9.0.1 53 udp' sh \
		"$cg_mnt$jcg" "$PROBE" 2>/dev/null || true)"

t_done
