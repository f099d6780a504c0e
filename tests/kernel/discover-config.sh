#!/usr/bin/env bash
# What the host's own configuration says it depends on, found with nothing
# on the command line: chrony's server (Alibaba's NTP, 100.100.61.88), a
# systemd-timesyncd drop-in that resets NTP= and names 100.100.61.89,
# cloud-init's instance data naming the metadata service 100.100.100.200,
# and apt's mirror by name (mirrors.cloud.aliyuncs.com, 100.100.2.148 by the
# namespace's own /etc/hosts, as glibc resolves it) beside a name that does
# not resolve. Each is a target with its file and line, blocked by
# Tailscale's drop as the kernel shows (a udp exchange, a tcp connect);
# the resolver (100.100.2.136) is cut too, so the second name is not
# resolved within the deadline and a note says so. --fix lets them all
# through (the kernel agrees), and then the resolver answers.
#
# glibc reads the namespace's /etc/hosts, nsswitch.conf and resolv.conf:
# `ip netns exec` runs the audit in a mount namespace of its own with
# /etc/netns/<namespace>/* bind-mounted over /etc (unshare -m and a bind
# mount, done by ip), never the machine's own files.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3 iptables-legacy iptables-legacy-save
tb_audit_env WORK

tb_scenario
# the timesyncd drop-in's server beside the scenario's services
ip -n "$TB_PROV" addr add 100.100.61.89/32 dev lo
# a resolver that answers (every name: 192.0.2.1, outside the range), and
# echo on the services' ports for the kernel's verdict
tb_prov_services dns:53 echo:80/tcp echo:123/udp

# --- the host's files --------------------------------------------------------
tb_tmpdir ROOT
mkdir -p "$ROOT/etc/chrony" "$ROOT/etc/systemd/timesyncd.conf.d" "$ROOT/run/cloud-init" \
	"$ROOT/etc/apt/sources.list.d"
cat >"$ROOT/etc/chrony/chrony.conf" <<'EOF'
# Alibaba Cloud's NTP server
server 100.100.61.88 iburst minpoll 4 maxpoll 10
EOF
cat >"$ROOT/etc/systemd/timesyncd.conf" <<'EOF'
[Time]
NTP=100.100.5.1
EOF
# a later assignment adds, an empty one resets: 100.100.5.1 is gone
cat >"$ROOT/etc/systemd/timesyncd.conf.d/aliyun.conf" <<'EOF'
[Time]
NTP=
NTP=100.100.61.89
EOF
# as cloud-init writes it (the keys that matter, of many)
cat >"$ROOT/run/cloud-init/instance-data.json" <<'EOF'
{
 "_beta_keys": ["subplatform"],
 "ds": {"_doc": "EXPERIMENTAL", "meta-data": {"instance-id": "i-2ze"}},
 "merged_cfg": "redacted for non-root user",
 "v1": {"cloud_name": "aliyun", "platform": "aliyun", "region": "cn-beijing",
        "subplatform": "metadata (http://100.100.100.200)"}
}
EOF
cat >"$ROOT/etc/apt/sources.list" <<'EOF'
deb http://mirrors.cloud.aliyuncs.com/debian/ bookworm main
EOF
cat >"$ROOT/etc/apt/sources.list.d/internal.list" <<'EOF'
deb http://mirrors.nx.invalid/debian bookworm main
EOF
cat >"$ROOT/etc/hosts" <<'EOF'
127.0.0.1 localhost
100.100.2.148 mirrors.cloud.aliyuncs.com
100.100.9.9 unused.internal
EOF
export CGNATCHECK_HOST_ROOT=$ROOT
# glibc in the host namespace: the same hosts file, files then DNS, the
# provider's resolver
mkdir -p "/etc/netns/$TB_HOST"
cp "$ROOT/etc/hosts" "/etc/netns/$TB_HOST/hosts"
echo "hosts: files dns" >"/etc/netns/$TB_HOST/nsswitch.conf"
echo "nameserver 100.100.2.136" >"/etc/netns/$TB_HOST/resolv.conf"

targets() {
	tb_json '"; ".join("%s %s %s/%s %s %s" % (t["role"], t["address"], t["proto"], t["port"], t["origin"], t["verdict"]) for t in r["targets"] if t["role"] in ("ntp", "metadata", "mirror", "hosts"))'
}
notes() { # WORD...: the discovery notes holding every WORD, one a line
	tb_json '"\n".join(f["message"] for f in r["findings"] if f["code"] == "DISCOVERY_NOTE" and all(w in f["message"] for w in sys.argv[3:]))' "$@"
}
# the kernel's word for each service, in the targets' order
kernel() {
	local a
	for a in "100.100.61.88 123 udp" "100.100.61.89 123 udp" "100.100.100.200 80 tcp" "100.100.2.148 80 tcp"; do
		# shellcheck disable=SC2086 # three words
		tb_probe $a || true
	done | tr '\n' ' ' | sed 's/ $//'
}
# an expected reply may take longer on a loaded machine: once more, slowly
kernel_replies() {
	local got a
	got=$(kernel)
	if [ "$got" != "reply reply reply reply" ]; then
		echo "note: $1: '$got' at the default deadline, retrying with 3 s" >&2
		got=$(for a in "100.100.61.88 123 udp" "100.100.61.89 123 udp" "100.100.100.200 80 tcp" \
			"100.100.2.148 80 tcp"; do
			# shellcheck disable=SC2086
			tb_probe $a --timeout 3000 || true
		done | tr '\n' ' ' | sed 's/ $//')
	fi
	t_expect "$1: the kernel agrees" "reply reply reply reply" "$got"
}

# tb_json's python reads extra words from its command line
tb_json() {
	python3 -I -S -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$TB_AUDIT_DIR/out.json" "$@"
}

# --- no overlay firewall: everything reachable, the kernel agrees ------------------
tb_audit "no overlay firewall" 0
t_expect "no overlay firewall: the services found, with file and line" \
	"ntp 100.100.61.88 udp/123 chrony.conf:2 reachable; ntp 100.100.61.89 udp/123 timesyncd.conf.d/aliyun.conf:3 reachable; metadata 100.100.100.200 tcp/80 instance-data.json reachable; mirror 100.100.2.148 tcp/80 sources.list:1 reachable" \
	"$(targets)"
kernel_replies "no overlay firewall"
t_expect "no overlay firewall: the resolver answers, the other name is outside the range (no note)" "" \
	"$(notes mirrors.nx.invalid)"

# --- Tailscale's drop: all of them cut -------------------------------------------
tb_ts_install legacy new
t0=$(t_now_ms)
tb_audit "tailscale's drop" 2
echo "note: the audit took $(($(t_now_ms) - t0)) ms (its resolver deadline is 2 s)" >&2
t_expect "tailscale's drop: each found with its origin, blocked" \
	"ntp 100.100.61.88 udp/123 chrony.conf:2 blocked; ntp 100.100.61.89 udp/123 timesyncd.conf.d/aliyun.conf:3 blocked; metadata 100.100.100.200 tcp/80 instance-data.json blocked; mirror 100.100.2.148 tcp/80 sources.list:1 blocked" \
	"$(targets)"
t_expect "tailscale's drop: blocked by the CGNAT drop, the reply" \
	"-A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP|drop" \
	"$(tb_json '"|".join(sorted(set(t["blocked_by"]["text"] for t in r["targets"] if t["role"] in ("ntp", "metadata", "mirror")))) + "|" + "".join(sorted(set(t["reply"]["verdict"] for t in r["targets"] if t["role"] in ("ntp", "metadata", "mirror"))))')"
t_expect "tailscale's drop: the kernel agrees" "timeout timeout timeout timeout" "$(kernel)"
t_expect "tailscale's drop: the resolver is cut too" "blocked blocked" \
	"$(tb_json '" ".join(t["verdict"] for t in r["targets"] if t["origin"] == "resolv.conf")')"
t_expect "tailscale's drop: the name that does not resolve is a note, with its origin" "1" \
	"$(notes "sources.list.d/internal.list:1" mirrors.nx.invalid "not resolved within 2 s" | grep -c . || true)"
t_expect "tailscale's drop: an /etc/hosts entry nothing uses is a note, not a target" "1" \
	"$(notes "hosts:3" 100.100.9.9 "--service 100.100.9.9:PORT" | grep -c . || true)"
t_expect "tailscale's drop: no target for it, none for the timesyncd server the drop-in reset" "False" \
	"$(tb_json 'any(t["address"] in ("100.100.9.9", "100.100.5.1") for t in r["targets"])')"

# the text report names the origins
tb_exec "$TB_HOST" "$CGNATCHECK" >"$TB_AUDIT_DIR/out.txt" 2>&1 || true
for o in "(chrony.conf:2)" "(timesyncd.conf.d/aliyun.conf:3)" "(instance-data.json)" "(sources.list:1)"; do
	if grep -qF -- "$o" "$TB_AUDIT_DIR/out.txt"; then t_ok "text report: $o"; else
		t_fail "text report: $o missing"
		cat "$TB_AUDIT_DIR/out.txt" >&2
	fi
done

# --- --only-named: none of it --------------------------------------------------------
tb_audit "--only-named" 2 --only-named --dns 100.100.2.136
t_expect "--only-named: no discovered target" "" "$(targets)"
t_expect "--only-named: no discovery note" "" "$(notes)"

# --- --fix: the exceptions, and the kernel lets them through --------------------------
rules_before=$(tb_exec "$TB_HOST" iptables-legacy-save -t filter | grep -v '^[#:]')
tb_audit "--fix" 0 --fix
t_expect "--fix: all reachable" \
	"ntp 100.100.61.88 udp/123 chrony.conf:2 reachable; ntp 100.100.61.89 udp/123 timesyncd.conf.d/aliyun.conf:3 reachable; metadata 100.100.100.200 tcp/80 instance-data.json reachable; mirror 100.100.2.148 tcp/80 sources.list:1 reachable" \
	"$(targets)"
t_expect "--fix: every change applied" "True" \
	"$(tb_json 'len(r["changes"]) > 0 and all(c["result"] == "applied" for c in r["changes"])')"
for a in 100.100.61.88 100.100.61.89 100.100.100.200 100.100.2.148; do
	t_expect "--fix: an exception for $a/32 on eth0" "1" \
		"$(tb_exec "$TB_HOST" iptables-legacy-save -t filter | grep -c -- "-s $a/32 -i eth0 .*cgnatcheck:" || true)"
done
kernel_replies "--fix"
tb_audit "after --fix" 0
t_expect "after --fix: the resolver answers now (the name is outside the range: no note)" "" \
	"$(notes mirrors.nx.invalid)"
t_expect "after --fix: still all reachable" "reachable reachable reachable reachable" \
	"$(tb_json '" ".join(t["verdict"] for t in r["targets"] if t["role"] in ("ntp", "metadata", "mirror"))')"

# --- --undo: cut again ---------------------------------------------------------------
tb_audit "--undo" 0 --undo
t_expect "--undo: the rules as before" "$rules_before" \
	"$(tb_exec "$TB_HOST" iptables-legacy-save -t filter | grep -v '^[#:]')"
t_expect "--undo: the kernel agrees" "timeout timeout timeout timeout" "$(kernel)"

t_done
