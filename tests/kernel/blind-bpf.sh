#!/usr/bin/env bash
# Blind spots made of BPF and tc, judged against the kernel: a provider
# namespace with a DNS-like responder at 100.100.2.136 (udp and tcp 53), the
# host behind a veth, and not one netfilter rule. Each case puts something
# on the path, audits --dns 100.100.2.136 and sends the query for real:
#  1. an XDP program (clang -target bpf, tests/kernel/bpf/xdp_drop.c) that
#     drops IPv4 from 100.64.0.0/10 on the host's eth0: uncertain, naming the
#     program (its name, read before the capabilities are dropped) and the
#     device; started without CAP_SYS_ADMIN, by its id and saying so, with
#     the same verdict and exit status; the kernel drops the reply;
#  2. a tc ingress bpf program (direct-action) that passes everything:
#     uncertain all the same (a program is not read), named;
#  3. u32 filters, modelled: src 100.64.0.0/10 with a drop (gact, or a
#     mirror whose control action is drop where this kernel has no act_gact)
#     blocked, and the kernel drops; another prefix reachable, and the kernel
#     answers; the same on egress (dst 100.100.2.136), for IPv6, on the
#     ingress qdisc and on an htb root qdisc (a class's filters: uncertain);
#  4. a cgroup/skb program on a cgroup of the test's own with a host process
#     in it: uncertain naming the cgroup; the kernel drops the reply for a
#     process in that cgroup and not for one outside; a namespace with no
#     process in that cgroup does not see it; without privilege a note says
#     what was not read; with no cgroup2 mount in sight (ip netns exec) too;
#  5. whose sockets (before 4, in a tree of cgroups of its own): a
#     cgroup_skb egress program that drops everything (systemd's
#     IPAddressDeny=any, tests/kernel/bpf/cg_skb_drop_all.c) on a unit's own
#     cgroup (fake-journald.service, a process in it): the audit's targets
#     stay reachable, exit 0, one info names it; the kernel drops that
#     unit's packets and not others'. The same on the cgroup of the socket a
#     policy's health check reaches (web.service): that target uncertain,
#     and the kernel drops the SYN-ACK; on the cgroup of the process named
#     like systemd-networkd (its DHCP lease in the host root): the DHCP
#     target uncertain, the kernel drops its packets; on a slice (fake.slice,
#     a process in fake.slice/app.scope): --dns's target (any process may
#     ask) uncertain, named, and the kernel drops that process's query.
# The audit runs through nsenter --net (ip netns exec hides the cgroup2
# mount); its host root is a directory of the test's own whose
# proc/self/mountinfo is the live one.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init clang tc nsenter setpriv python3 "$top_builddir/tests/kernel/blind-bpf-dump" \
	"$top_builddir/tests/kernel/blind-bpf-attach"
DUMP=$top_builddir/tests/kernel/blind-bpf-dump
ATTACH=$top_builddir/tests/kernel/blind-bpf-attach
PROBE=$(tb_prog cg-probe) || exit 99

# ---- the cgroups of the test's own, removed last (after their processes) ------
CG=
CGS=()
bb_cleanup() {
	local i k d
	tb_cleanup
	# its processes are gone with tb_cleanup; the kernel frees a cgroup a
	# moment later (programs attached to it go with it); children first
	for ((k = ${#CGS[@]} - 1; k >= 0; k--)); do
		d=${CGS[k]}
		[ -d "$d" ] || continue
		for ((i = 0; i < 100; i++)); do
			rmdir "$d" 2>/dev/null && break
			sleep 0.05
		done
		[ ! -d "$d" ] || echo "blind-bpf.sh: could not remove $d" >&2
	done
}
trap bb_cleanup EXIT
# bb_mkcg DIR: a cgroup of the test's own
bb_mkcg() {
	t_must mkdir "$1"
	CGS+=("$1")
}

# ---- the BPF programs ------------------------------------------------------
tb_tmpdir OBJ
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
for p in xdp_drop tc_pass cg_skb_drop cg_skb_drop_all; do
	t_must clang -O2 -Wall -target bpf ${multiarch:+-I/usr/include/$multiarch} \
		-c "$top_srcdir/tests/kernel/bpf/$p.c" -o "$OBJ/$p.o"
done

# ---- the test bed --------------------------------------------------------------
tb_topology bbhost bbprov
tb_echo "$TB_PROV" 53/udp 53/tcp || tb_die "the provider's responder did not start"
tb_audit_env WORK
NETNS_DIR=/run/netns
[ -e "$NETNS_DIR/$TB_HOST" ] || NETNS_DIR=/var/run/netns
[ -e "$NETNS_DIR/$TB_HOST" ] || tb_die "cannot find the namespace file of $TB_HOST"
# the host root: nothing but the live mount table (where nobody reads it too)
tb_tmpdir_shared ROOT
mkdir -p "$ROOT/proc/self"
ln -s /proc/self/mountinfo "$ROOT/proc/self/mountinfo"
chmod -R a+rX "$ROOT"
export CGNATCHECK_HOST_ROOT=$ROOT
SVC=100.100.2.136

# bb_audit DESC WANT-EXIT [--setpriv] [ARGS]: the audit of --dns 100.100.2.136
# in the host namespace (mounts as the machine's), the report in
# $TB_AUDIT_DIR/out.json; --setpriv: started without CAP_SYS_ADMIN
bb_audit() {
	local desc=$1 want=$2 status=0 pre=()
	shift 2
	if [ "${1:-}" = --setpriv ]; then
		pre=(setpriv --bounding-set -sys_admin --inh-caps -sys_admin)
		shift
	fi
	nsenter --net="$NETNS_DIR/$TB_HOST" "${pre[@]}" "$CGNATCHECK" --format json --only-named --dns "$SVC" "$@" \
		>"$TB_AUDIT_DIR/out.json" 2>"$TB_AUDIT_DIR/err" || status=$?
	t_expect "$desc: exit status" "$want" "$status"
	[ "$status" -ne 3 ] || cat "$TB_AUDIT_DIR/err" >&2
}
verdicts() { tb_json '" ".join("%s/%s %s" % (t["proto"], t["port"], t["verdict"]) for t in r["targets"])'; }
spots() { tb_json '"|".join(sorted(set(t.get("blind_spot") or "-" for t in r["targets"])))'; }
infos() { tb_json '"|".join(f["message"] for f in r["findings"] if f["code"] == "BLIND_SPOT_INFO")'; }
unreadable() { tb_json '"|".join(f["message"] for f in r["findings"] if f["code"] == "BLIND_SPOT_UNREADABLE")'; }
# probe PROTO [PORT [CGROUP]]: what the kernel does to a query to $SVC from
# the host (from a process of CGROUP when given): reply, timeout, refused
probe() {
	local proto=$1 port=${2:-53} cg=${3:-}
	shift $(($# < 3 ? $# : 3))
	if [ -z "$cg" ]; then
		tb_probe "$SVC" "$port" "$proto" "$@" 2>/dev/null || true
		return
	fi
	tb_ct_flush "$TB_HOST"
	nsenter --net="$NETNS_DIR/$TB_HOST" sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cg" \
		"$PROBE" "$@" "$SVC" "$port" "$proto" 2>/dev/null || true
}
# bb_kernel DESC WANT-UDP WANT-TCP [PORT [CGROUP]]: the kernel's answers to
# a query over udp and over tcp. An answer that is wanted and late (a loaded
# machine) is asked for once more with 3 s, as tb_expect_probe does: a drop
# times out twice.
bb_kernel() {
	local desc=$1 got=() want=("$2" "$3") i proto
	for i in 0 1; do
		proto=$([ "$i" = 0 ] && echo udp || echo tcp)
		got[i]=$(probe "$proto" "${4:-53}" "${5:-}")
		if [ "${got[i]}" = timeout ] && [ "${want[i]}" != timeout ]; then
			got[i]=$(probe "$proto" "${4:-53}" "${5:-}" --timeout 3000)
		fi
	done
	t_expect "$desc" "${want[*]}" "${got[*]}"
}
# what the collector (as root, with every capability) finds in the host
dump() { nsenter --net="$NETNS_DIR/$TB_HOST" "$DUMP" "$@" 2>/dev/null; }

# ---- nothing on the path ------------------------------------------------------
bb_audit "nothing" 0
t_expect "nothing: reachable" "udp/53 reachable tcp/53 reachable" "$(verdicts)"
t_expect "nothing: no blind spot" "-" "$(spots)"
t_expect "nothing: no blind spot unreadable" "" "$(unreadable)"
bb_kernel "nothing: the kernel answers" reply reply

# ---- 1. XDP: drops IPv4 from 100.64.0.0/10 ----------------------------------------
t_must ip -n "$TB_HOST" link set dev eth0 xdp obj "$OBJ/xdp_drop.o" sec xdp
xdp_id=$(ip -n "$TB_HOST" -d link show dev eth0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
[ -n "$xdp_id" ] || tb_die "no XDP program on eth0"
bb_audit "xdp" 1
t_expect "xdp: uncertain" "udp/53 uncertain tcp/53 uncertain" "$(verdicts)"
t_expect "xdp: the program (its name read before the capabilities were dropped) and the device named" \
	"XDP program xdp_drop_cgnat (id $xdp_id, driver mode) on eth0" "$(spots)"
text=$(nsenter --net="$NETNS_DIR/$TB_HOST" "$CGNATCHECK" --only-named --dns "$SVC" 2>/dev/null || true)
t_expect "xdp: the text report names it under each target" 2 \
	"$(grep -c "^ *XDP program xdp_drop_cgnat (id $xdp_id, driver mode) on eth0$" <<<"$text" || true)"
# started without CAP_SYS_ADMIN (root, all else kept): the id, and a note;
# the verdicts and the exit status are the same
bb_audit "xdp, no CAP_SYS_ADMIN" 1 --setpriv
t_expect "xdp, no CAP_SYS_ADMIN: uncertain" "udp/53 uncertain tcp/53 uncertain" "$(verdicts)"
t_expect "xdp, no CAP_SYS_ADMIN: the program by its id, saying why" \
	"XDP program id $xdp_id (driver mode) on eth0 (its name needs CAP_SYS_ADMIN)" "$(spots)"
t_expect "xdp: with CAP_SYS_ADMIN, its name" \
	"spot xdp eth0 in XDP program xdp_drop_cgnat (id $xdp_id, driver mode) on eth0" "$(dump | grep '^spot xdp')"
bb_kernel "xdp: the kernel drops the reply" timeout timeout
t_must ip -n "$TB_HOST" link set dev eth0 xdp off
t_must ip -n "$TB_HOST" link set dev eth0 xdpgeneric obj "$OBJ/xdp_drop.o" sec xdp
xdp_id=$(ip -n "$TB_HOST" -d link show dev eth0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
t_expect "xdp generic mode: named" \
	"spot xdp eth0 in XDP program xdp_drop_cgnat (id $xdp_id, generic mode) on eth0" "$(dump | grep '^spot xdp')"
bb_kernel "xdp generic mode: the kernel drops the reply" timeout timeout
t_must ip -n "$TB_HOST" link set dev eth0 xdpgeneric off
bb_kernel "xdp gone: the kernel answers" reply reply

# ---- 2. tc ingress bpf, direct-action, passes everything -------------------------
t_must tc -n "$TB_HOST" qdisc add dev eth0 clsact
t_must tc -n "$TB_HOST" filter add dev eth0 ingress bpf da obj "$OBJ/tc_pass.o" sec classifier
bpf_id=$(tc -n "$TB_HOST" filter show dev eth0 ingress | sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -n1)
bb_audit "tc bpf" 1
t_expect "tc bpf: uncertain (a program is not read)" "udp/53 uncertain tcp/53 uncertain" "$(verdicts)"
t_expect "tc bpf: named, with where it is" \
	"tc ingress filter bpf tc_pass.o:[classifier] direct-action (pref 49152, id $bpf_id) on eth0" "$(spots)"
bb_kernel "tc bpf: the kernel answers" reply reply
t_must tc -n "$TB_HOST" filter del dev eth0 ingress

# ---- 3. u32, modelled --------------------------------------------------------
# gact's drop where the kernel has act_gact; else a mirror (to a tun device
# nobody reads) whose control action is drop: both end in TC_ACT_SHOT
drop=(action drop) drop_words="action gact drop"
if ! tc -n "$TB_HOST" filter add dev eth0 ingress protocol ip pref 10 u32 match ip src 100.64.0.0/10 \
	action drop 2>/dev/null; then
	echo "note: this kernel has no act_gact: the drops are mirred's control action" >&2
	t_must ip -n "$TB_HOST" tuntap add dev sink0 mode tun
	t_must ip -n "$TB_HOST" link set sink0 up
	drop=(action mirred egress mirror dev sink0 drop) drop_words="action mirred egress mirror to sink0 drop"
	t_must tc -n "$TB_HOST" filter add dev eth0 ingress protocol ip pref 10 u32 match ip src 100.64.0.0/10 "${drop[@]}"
fi
bb_audit "u32 drop src 100.64.0.0/10" 2
t_expect "u32 drop: blocked" "udp/53 blocked tcp/53 blocked" "$(verdicts)"
t_expect "u32 drop: the filter named" \
	"tc ingress filter u32 (pref 10, handle 800::800) ip src 100.64.0.0/10 $drop_words on eth0" "$(spots)"
t_expect "u32 drop: the reply is what is dropped" "reply reply" \
	"$(tb_json '" ".join(t["blocked_leg"] for t in r["targets"])')"
bb_kernel "u32 drop: the kernel drops the reply" timeout timeout
t_must tc -n "$TB_HOST" filter del dev eth0 ingress pref 10
t_must tc -n "$TB_HOST" filter add dev eth0 ingress protocol ip pref 10 u32 match ip src 192.0.2.0/24 "${drop[@]}"
bb_audit "u32 drop src 192.0.2.0/24" 0
t_expect "u32 other prefix: reachable" "udp/53 reachable tcp/53 reachable" "$(verdicts)"
t_expect "u32 other prefix: no blind spot decides" "-" "$(spots)"
bb_kernel "u32 other prefix: the kernel answers" reply reply
t_must tc -n "$TB_HOST" filter del dev eth0 ingress pref 10
# egress, at the same priority as an ingress filter (u32 shares its hash
# tables between the two, 800: and 801: here, and each dump shows both:
# each filter is judged by its own)
t_must tc -n "$TB_HOST" filter add dev eth0 egress protocol ip pref 10 u32 match ip dst "$SVC/32" match ip dport 53 0xffff \
	"${drop[@]}"
t_must tc -n "$TB_HOST" filter add dev eth0 ingress protocol ip pref 10 u32 match ip src 192.0.2.0/24 "${drop[@]}"
bb_audit "u32 egress drop dst $SVC dport 53" 2
t_expect "u32 egress: blocked" "udp/53 blocked tcp/53 blocked" "$(verdicts)"
t_expect "u32 egress: the filter named" \
	"tc egress filter u32 (pref 10, handle 800::800) ip dst $SVC/32 ip dport 53 $drop_words on eth0" "$(spots)"
t_expect "u32 egress: the request is what is dropped" "request request" \
	"$(tb_json '" ".join(t["blocked_leg"] for t in r["targets"])')"
bb_kernel "u32 egress: the kernel drops the request" timeout timeout
# port 54 has no listener: the provider's refusal shows the request got there
t_expect "u32 egress: another port passes" "packet 1 pass" \
	"$(dump --packet out eth0 "$TB_HOST_IP" "$SVC" udp 40000 54 new | grep '^packet')"
bb_kernel "u32 egress: another port passes, as the kernel shows" refused refused 54
t_must tc -n "$TB_HOST" filter del dev eth0 egress
t_must tc -n "$TB_HOST" filter del dev eth0 ingress
# IPv6: keys on the IPv6 header's source address
SVC=$TB_SVC_IP6
t_must tc -n "$TB_HOST" filter add dev eth0 ingress protocol ipv6 pref 10 u32 match ip6 src fd00:cafe:1::/48 "${drop[@]}"
bb_audit "u32 ip6 drop src fd00:cafe:1::/48" 2
t_expect "u32 ip6: blocked, named" \
	"udp/53 blocked tcp/53 blocked|tc ingress filter u32 (pref 10, handle 800::800) match fd00cafe/ffffffff at 8 match 00010000/ffff0000 at 12 $drop_words on eth0" \
	"$(verdicts)|$(spots)"
bb_kernel "u32 ip6: the kernel drops the reply" timeout timeout
SVC=100.100.2.136
t_must tc -n "$TB_HOST" qdisc del dev eth0 clsact
# the ingress qdisc (the older hook): the same
t_must tc -n "$TB_HOST" qdisc add dev eth0 ingress
t_must tc -n "$TB_HOST" filter add dev eth0 parent ffff: protocol ip pref 10 u32 match ip src 100.64.0.0/10 "${drop[@]}"
bb_audit "ingress qdisc u32 drop" 2
t_expect "ingress qdisc: blocked, named" \
	"udp/53 blocked tcp/53 blocked|tc ingress filter u32 (pref 10, handle 800::800) ip src 100.64.0.0/10 $drop_words on eth0" \
	"$(verdicts)|$(spots)"
bb_kernel "ingress qdisc: the kernel drops the reply" timeout timeout
t_must tc -n "$TB_HOST" qdisc del dev eth0 ingress
# an htb root qdisc: its own filters see every packet leaving; a class's
# see what classification sends there (htb runs an inner class's only)
t_must tc -n "$TB_HOST" qdisc add dev eth0 root handle 1: htb default 10
t_must tc -n "$TB_HOST" class add dev eth0 parent 1: classid 1:10 htb rate 100mbit
t_must tc -n "$TB_HOST" filter add dev eth0 parent 1: protocol ip pref 10 u32 match ip dst "$SVC/32" "${drop[@]}"
bb_audit "htb u32 drop" 2
t_expect "htb: blocked, named" \
	"udp/53 blocked tcp/53 blocked|tc egress qdisc htb 1: filter u32 (pref 10, handle 800::800) ip dst $SVC/32 $drop_words on eth0" \
	"$(verdicts)|$(spots)"
bb_kernel "htb: the kernel drops the request" timeout timeout
t_must tc -n "$TB_HOST" filter del dev eth0 parent 1: pref 10
t_must tc -n "$TB_HOST" filter add dev eth0 parent 1:10 protocol ip pref 10 u32 match ip dst "$SVC/32" "${drop[@]}"
bb_audit "htb class u32 drop" 1
t_expect "htb class: uncertain (classification is not modelled), named" \
	"udp/53 uncertain tcp/53 uncertain|tc egress class 1:10 filter u32 (pref 10, handle 800::800) ip dst $SVC/32 $drop_words on eth0" \
	"$(verdicts)|$(spots)"
bb_kernel "htb class: the kernel answers (a leaf class's filters never run)" reply reply
t_must tc -n "$TB_HOST" qdisc del dev eth0 root

# ---- 5. whose sockets: a unit's own cgroup, a client's, a slice ----------------
cg_root=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
	/proc/self/mountinfo)
[ -n "$cg_root" ] || t_skip "no cgroup2 file system is mounted"
U=$cg_root/cgt-blindbpf-$$-u
UP=/cgt-blindbpf-$$-u # as /proc/PID/cgroup shows it (the mount's root is /)
bb_mkcg "$U"
for d in fake-journald.service web.service netd.service fake.slice fake.slice/app.scope; do
	bb_mkcg "$U/$d"
done
# bb_in_cg CGROUP CMD...: CMD by a process of CGROUP in the host namespace
# (nsenter and sh exec: $! is CMD's pid); in the background, its pid kept
S5_PIDS=()
bb_in_cg() {
	local cg=$1
	shift
	nsenter --net="$NETNS_DIR/$TB_HOST" sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "$@" &
	TB_PIDS+=("$!")
	S5_PIDS+=("$!")
}
# the processes of a unit, of a slice's scope, the health check's listener
# (web.service) and a process named like systemd-networkd (netd.service)
tb_tmpdir S5
bb_in_cg "$U/fake-journald.service" sleep 600
bb_in_cg "$U/fake.slice/app.scope" sleep 600
bb_in_cg "$U/web.service" "$(tb_prog cg-echo)" --ready-file "$S5/echo.ready" 8080/tcp
tb_wait_file "$S5/echo.ready" 10 "${TB_PIDS[-1]}" || tb_die "the listener did not start"
cp "$(command -v sleep)" "$S5/systemd-networkd"
bb_in_cg "$U/netd.service" "$S5/systemd-networkd" 600
# the lease systemd-networkd wrote for eth0 (its DHCP server 100.100.2.136)
# and the load balancer's health checks from 100.100.0.0/16 (a policy)
ifindex=$(ip -n "$TB_HOST" -o link show dev eth0 | cut -d: -f1)
mkdir -p "$ROOT/run/systemd/netif/leases"
printf '%s\n' "# This is private data. Do not parse." "ADDRESS=$TB_HOST_IP" "NETMASK=255.255.192.0" \
	"SERVER_ADDRESS=$SVC" "LIFETIME=600" >"$ROOT/run/systemd/netif/leases/$ifindex"
chmod -R a+rX "$ROOT"
cat >"$WORK/testlb.conf" <<'EOF2'
[Provider]
Name=testlb
Description=a load balancer's health checks (test)

[Service]
Name=lb-health-check
Role=health-check
Address=100.100.0.0/16
Protocol=tcp
Port=listener
Direction=inbound
EOF2
# bb_audit5 DESC WANT-EXIT [--setpriv]: --dns 100.100.2.136, the policy's
# health check, and what the host root shows (the DHCP lease)
bb_audit5() {
	local status=0 pre=()
	[ "${3:-}" != --setpriv ] || pre=(setpriv --bounding-set -sys_admin --inh-caps -sys_admin)
	nsenter --net="$NETNS_DIR/$TB_HOST" "${pre[@]}" "$CGNATCHECK" --format json --dns "$SVC" \
		--policy "$WORK/testlb.conf" \
		>"$TB_AUDIT_DIR/out.json" 2>"$TB_AUDIT_DIR/err" || status=$?
	t_expect "$1: exit status" "$2" "$status"
	[ "$status" -ne 3 ] || cat "$TB_AUDIT_DIR/err" >&2
}
# ORIGIN PROTO/PORT VERDICT of the three kinds of target
targets5() {
	tb_json '"; ".join("%s %s/%s %s" % (t["origin"], t["proto"], t["port"], t["verdict"]) for t in r["targets"] if t["origin"] in ("cli", "listening:tcp/8080", "dhcp-lease:eth0"))'
}
spot_of() { tb_json '"|".join(sorted(set(t.get("blind_spot") or "-" for t in r["targets"] if t["origin"] == "'"$1"'")))'; }
syn() { tb_probe_from "$TB_PROV" "$TB_HOST_IP" 8080 tcp --from "$SVC" "$@" 2>/dev/null || true; }
syn_kernel() {
	local got
	got=$(syn)
	[ "$got" != timeout ] || [ "$2" = timeout ] || got=$(syn --timeout 3000)
	t_expect "$1" "$2" "$got"
}
all5="cli udp/53 reachable; cli tcp/53 reachable; listening:tcp/8080 tcp/8080 reachable; dhcp-lease:eth0 udp/67 reachable"

# a. systemd's IPAddressDeny=any on a unit: its own traffic only
j_id=$(t_must "$ATTACH" "$OBJ/cg_skb_drop_all.o" cgroup_skb/egress "$U/fake-journald.service" sd_fw_egress)
bb_audit5 "a unit's own program" 0
t_expect "a unit's own program: every target reachable" "$all5" "$(targets5)"
t_expect "a unit's own program: no blind spot decides" "-" "$(spots)"
t_expect "a unit's own program: one info names it" \
	"1 cgroup BPF programs on $UP/fake-journald.service (sd_fw_egress (id $j_id, cgroup_skb egress)) filter those units' own traffic" \
	"$(tb_json 'str(len([f for f in r["findings"] if f["code"] == "BLIND_SPOT_INFO"]))') $(infos | sed 's/:.*//')"
t_expect "a unit's own program: an info, not a warning" "" \
	"$(tb_json '" ".join(f["code"] for f in r["findings"] if f["severity"] != "info")')"
# (a UDP datagram an egress program drops fails send() with EPERM:
# unreachable; the TCP SYN never leaves: timeout)
bb_kernel "a unit's own program: the kernel drops its packets" unreachable timeout 53 "$U/fake-journald.service"
bb_kernel "a unit's own program: and answers another process" reply reply
syn_kernel "a unit's own program: the kernel answers the health check" reply

# b. the same on the cgroup of the socket the health check reaches
w_id=$(t_must "$ATTACH" "$OBJ/cg_skb_drop_all.o" cgroup_skb/egress "$U/web.service" sd_fw_egress)
bb_audit5 "the listener's unit" 1
t_expect "the listener's unit: the health check uncertain, the rest reachable" \
	"${all5/listening:tcp\/8080 tcp\/8080 reachable/listening:tcp/8080 tcp/8080 uncertain}" "$(targets5)"
t_expect "the listener's unit: the program named" \
	"cgroup BPF program sd_fw_egress (id $w_id, cgroup_skb egress) on cgroup $UP/web.service" \
	"$(spot_of listening:tcp/8080)"
syn_kernel "the listener's unit: the kernel drops the SYN-ACK" timeout

# c. on the cgroup of the DHCP client (found by its process, in netd.service)
n_id=$(t_must "$ATTACH" "$OBJ/cg_skb_drop_all.o" cgroup_skb/egress "$U/netd.service" sd_fw_egress)
bb_audit5 "the DHCP client's unit" 1
cp "$TB_AUDIT_DIR/out.json" "${BB_KEEP_JSON:-/dev/null}" 2>/dev/null || true
t_expect "the DHCP client's unit: the DHCP server uncertain" \
	"cgroup BPF program sd_fw_egress (id $n_id, cgroup_skb egress) on cgroup $UP/netd.service" \
	"$(spot_of dhcp-lease:eth0)"
t_expect "the DHCP client's unit: --dns's target reachable" "cli udp/53 reachable; cli tcp/53 reachable" \
	"$(targets5 | tr ';' '\n' | sed 's/^ //' | grep '^cli' | paste -sd';' | sed 's/;/; /g')"
t_expect "the DHCP client's unit: one info, the three units" \
	"1 cgroup BPF programs on $UP/fake-journald.service (sd_fw_egress (id $j_id, cgroup_skb egress)), $UP/web.service (sd_fw_egress (id $w_id, cgroup_skb egress)), $UP/netd.service (sd_fw_egress (id $n_id, cgroup_skb egress)) filter those units' own traffic" \
	"$(tb_json 'str(len([f for f in r["findings"] if f["code"] == "BLIND_SPOT_INFO"]))') $(infos | sed 's/:.*//')"
c_targets=$(targets5)
bb_audit5 "the DHCP client's unit, no CAP_SYS_ADMIN" 1 --setpriv
t_expect "the DHCP client's unit, no CAP_SYS_ADMIN: the same verdicts" "$c_targets" "$(targets5)"
t_expect "the DHCP client's unit, no CAP_SYS_ADMIN: the program by its id" \
	"cgroup BPF program id $n_id (cgroup_skb egress) on cgroup $UP/netd.service (its name needs CAP_SYS_ADMIN)" \
	"$(spot_of dhcp-lease:eth0)"
t_expect "the DHCP client's unit, no CAP_SYS_ADMIN: the info says the names were not read" \
	"1 cgroup BPF programs on $UP/fake-journald.service (id $j_id (cgroup_skb egress))|(the programs' names need CAP_SYS_ADMIN, which cgnatcheck did not have at its start: they are named by id)" \
	"$(tb_json 'str(len([f for f in r["findings"] if f["code"] == "BLIND_SPOT_INFO"]))') $(infos | sed 's/,.*//')|$(infos | sed 's/.*modelled //')"
bb_kernel "the DHCP client's unit: the kernel drops its packets" unreachable timeout 53 "$U/netd.service"

# d. on a slice: any process may be --dns's client
s_id=$(t_must "$ATTACH" "$OBJ/cg_skb_drop_all.o" cgroup_skb/egress "$U/fake.slice" slice_deny)
bb_audit5 "a slice" 1
t_expect "a slice: --dns's target uncertain, named" \
	"cli udp/53 uncertain; cli tcp/53 uncertain|cgroup BPF program slice_deny (id $s_id, cgroup_skb egress) on cgroup $UP/fake.slice" \
	"$(targets5 | tr ';' '\n' | sed 's/^ //' | grep '^cli' | paste -sd';' | sed 's/;/; /g')|$(spot_of cli)"
bb_kernel "a slice: the kernel drops the query of a process in it" unreachable timeout 53 "$U/fake.slice/app.scope"
bb_kernel "a slice: and answers another process" reply reply

# their processes gone, their programs see nothing of this namespace
kill "${S5_PIDS[@]}" 2>/dev/null || true
wait "${S5_PIDS[@]}" 2>/dev/null || true
bb_audit "section 5's processes gone" 0
t_expect "section 5's processes gone: nothing named" "-|" "$(spots)|$(infos)"
rm -rf "$ROOT/run"

# ---- 4. a cgroup/skb program on a cgroup of the test's own -------------------
CG=$cg_root/cgt-blindbpf-$$
bb_mkcg "$CG"
cg_id=$(t_must "$ATTACH" "$OBJ/cg_skb_drop.o" cgroup_skb/ingress "$CG")
# a process of the host namespace lives in it
tb_bg "$TB_HOST" sleep 600
echo "${TB_PIDS[-1]}" >"$CG/cgroup.procs"
bb_audit "cgroup" 1
t_expect "cgroup: uncertain (which process asks is not known)" "udp/53 uncertain tcp/53 uncertain" "$(verdicts)"
t_expect "cgroup: the program and the cgroup named" \
	"cgroup BPF program cg_drop_cgnat (id $cg_id, cgroup_skb ingress) on cgroup /cgt-blindbpf-$$" "$(spots)"
t_expect "cgroup: no info (not a unit's own cgroup)" "" "$(infos)"
bb_audit "cgroup, no CAP_SYS_ADMIN" 1 --setpriv
t_expect "cgroup, no CAP_SYS_ADMIN: the same verdicts, the program by its id" \
	"udp/53 uncertain tcp/53 uncertain|cgroup BPF program id $cg_id (cgroup_skb ingress) on cgroup /cgt-blindbpf-$$ (its name needs CAP_SYS_ADMIN)" \
	"$(verdicts)|$(spots)"
t_expect "cgroup: with CAP_SYS_ADMIN, its name" \
	"spot cgroup * in cgroup BPF program cg_drop_cgnat (id $cg_id, cgroup_skb ingress) on cgroup /cgt-blindbpf-$$" \
	"$(dump | grep "^spot cgroup .*cgt-blindbpf-$$")"
bb_kernel "cgroup: the kernel drops the reply to a process in the cgroup" timeout timeout 53 "$CG"
bb_kernel "cgroup: and answers one outside it" reply reply
t_expect "cgroup: a namespace with no process in the cgroup does not see it" "" \
	"$(nsenter --net="$NETNS_DIR/$TB_PROV" "$DUMP" 2>/dev/null | grep "cgt-blindbpf-$$" || true)"
# (a copy of the program nobody can run: the tree may be a clone under /root)
tb_tmpdir_shared SHARED
cp "$DUMP" "$SHARED/"
t_expect "cgroup: without privilege, a note says what was not read" \
	"note cgroup BPF programs were not read: the kernel refused bpf(BPF_PROG_QUERY)" \
	"$(nsenter --net="$NETNS_DIR/$TB_HOST" setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all \
		--ambient-caps=-all "$SHARED/blind-bpf-dump" 2>/dev/null | grep '^note cgroup' | sed 's/ on .*//')"
status=0
# `ip netns exec` itself, not tb_exec (which mounts the hierarchy again in
# its private mount namespace): its fresh /sys has no cgroup2 mount
ip netns exec "$TB_HOST" "$CGNATCHECK" --format json --only-named --dns "$SVC" >"$TB_AUDIT_DIR/out.json" 2>/dev/null ||
	status=$?
t_expect "cgroup: under ip netns exec (no cgroup2 mount in sight): a warning says so" \
	"1 cgroup BPF programs were not read: no cgroup2 file system is mounted" \
	"$status $(unreadable | sed 's/ (.*//')"

t_done
