#!/usr/bin/env bash
# No false alarms on the common firewalls. ufw, firewalld (zone public,
# nftables backend, its own D-Bus) and shorewall's two-interface example, from
# Debian's packages, and nftables' example rulesets, each installed for real
# in the test bed's host namespace, alone and with Tailscale beside it before
# and after --fix: whenever the kernel delivers every target's replies the
# audit exits 0 with no warning (a resolver inside 100.64.0.0/10 and one
# outside it, 10.0.0.53). The warnings that are right still come, naming the
# event that makes them bite, and the event is then made to happen (the jump
# added, tailscaled's chains re-written) and the kernel shows the target cut
# off, as the warning said. The machine's own rulesets and the firewalls'
# directories under /etc and /var are the same before and after.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
. "$top_srcdir/tests/lib/netns/firewalls.sh"
tb_test_init python3 ufw firewalld firewall-cmd shorewall dbus-daemon nft iptables-nft iptables-legacy
tb_audit_env WORK
BEFORE=$(fw_host_state)

tb_scenario
ip -n "$TB_PROV" addr add 10.0.0.53/32 dev lo   # a resolver outside 100.64.0.0/10
TARGETS=(--dns 100.100.2.136 --dns 10.0.0.53)

# Every target's verdict against the kernel: a reply means reachable.
check_kernel() {
	local desc=$1 addr proto port verdict word want
	while read -r addr proto port verdict; do
		word=$(tb_probe "$addr" "$port" "$proto" || true)
		[ "$word" = timeout ] && [ "$verdict" = reachable ] &&
			word=$(tb_probe "$addr" "$port" "$proto" --timeout 3000 || true)
		if [ "$word" = reply ]; then want=reachable; else want=blocked; fi
		t_expect "$desc: $addr $proto/$port, cgnatcheck against the kernel ($word)" "$want" "$verdict"
	done < <(tb_json '"\n".join("%s %s %s %s" % (t["address"], t["proto"], t["port"], t["verdict"]) for t in r["targets"])')
}

warnings() { tb_json '"; ".join(f["code"] + ": " + f["message"] for f in r["findings"] if f["severity"] != "info")'; }

# Every target reachable (the kernel agrees): exit 0, not one warning.
expect_clean() {
	local desc=$1
	shift
	tb_audit "$desc" 0 "${TARGETS[@]}" "$@"
	check_kernel "$desc"
	t_expect "$desc: no warning" "" "$(warnings)"
}

# With Tailscale beside the firewall: the resolver in 100.64.0.0/10 is
# blocked (and only that), --fix mends it, and then all is clean.
with_tailscale() {
	local fw=$1 form=$2
	tb_ts_install "$form" new
	tb_audit "$fw+tailscale($form)" 2 "${TARGETS[@]}"
	check_kernel "$fw+tailscale($form)"
	t_expect "$fw+tailscale($form): only 100.100.2.136 blocked, by ts-input" "100.100.2.136 ts-input;100.100.2.136 ts-input" \
		"$(tb_json '";".join(t["address"] + " " + t["blocked_by"]["chain"] for t in r["targets"] if t["verdict"] != "reachable")')"
	t_expect "$fw+tailscale($form): no warning besides the block" "" \
		"$(tb_json '"; ".join(f["message"] for f in r["findings"] if f["severity"] == "warning")')"
	tb_audit "$fw+tailscale($form) --fix" 0 --fix "${TARGETS[@]}"
	expect_clean "$fw+tailscale($form), fixed"
	t_expect "$fw+tailscale($form), fixed: the exception's restart is an info, naming the event" "info overlay-start" \
		"$(tb_json '" ".join(f["severity"] + " " + f["event"] for f in r["findings"] if f["code"] == "EXCEPTION_NOT_PERSISTENT")')"
	tb_ts_remove "$form"
}

# --- nftables' examples --------------------------------------------------------------
for ex in workstation.nft all-in-one.nft; do
	t_must fw_nft_example "$ex"
	expect_clean "nft example $ex"
	with_tailscale "nft example $ex" nftables
	fw_reset
done

# --- ufw -------------------------------------------------------------------------------
t_must fw_ufw_start
t_expect "ufw: default deny incoming" "DROP" \
	"$(tb_exec "$TB_HOST" iptables-nft -S INPUT 2>/dev/null | sed -n 's/^-P INPUT //p')"
expect_clean "ufw"
with_tailscale ufw nft
with_tailscale ufw legacy

# --- the warnings that are right, on a ufw host ----------------------------------------
# nodivert: the chains without the jump; going to `on` adds it at position 1
tb_ts_install nft nodivert
tb_audit "ufw+nodivert" 1 "${TARGETS[@]}"
check_kernel "ufw+nodivert"
t_expect "ufw+nodivert: the CGNAT drop, for the resolver in the range, after nodivert->on" \
	"ts-input netfilter-mode-on 100.100.2.136" \
	"$(tb_json '";".join(f["rule"]["chain"] + " " + f["event"] + " " + " ".join(f["targets"]) for f in r["findings"] if f["severity"] == "warning")')"
case $(warnings) in *"after --netfilter-mode changing from nodivert to on"*) t_ok "ufw+nodivert: the event in words" ;;
	*) t_fail "ufw+nodivert: the message: $(warnings)" ;; esac
tb_exec "$TB_HOST" iptables-nft -w -I INPUT 1 -j ts-input
tb_audit "ufw+nodivert, now on" 2 "${TARGETS[@]}"
check_kernel "ufw+nodivert, now on"
tb_ts_remove nft

# a user's accept above Tailscale's jump: the next start puts the jump above it
tb_ts_install nft new
tb_exec "$TB_HOST" iptables-nft -w -I INPUT 1 -s 100.100.2.136/32 -i eth0 -j ACCEPT
tb_audit "ufw+accept above the jump" 1 "${TARGETS[@]}"
check_kernel "ufw+accept above the jump"
t_expect "ufw+accept above the jump: the CGNAT drop after tailscaled's next start" \
	"ts-input overlay-start 100.100.2.136" \
	"$(tb_json '";".join(f["rule"]["chain"] + " " + f["event"] + " " + " ".join(f["targets"]) for f in r["findings"] if f["severity"] == "warning")')"
tb_ts_remove nft
tb_ts_install nft new   # what tailscaled's start does
tb_audit "ufw+accept above the jump, restarted" 2 "${TARGETS[@]}"
check_kernel "ufw+accept above the jump, restarted"
tb_exec "$TB_HOST" iptables-nft -w -D INPUT -s 100.100.2.136/32 -i eth0 -j ACCEPT
tb_ts_remove nft

# a user's exception inside ts-input (not cgnatcheck's): gone at the next start
tb_ts_install legacy new
t_must tb_exception legacy
tb_audit "ufw+exception in ts-input" 1 "${TARGETS[@]}"
check_kernel "ufw+exception in ts-input"
t_expect "ufw+exception in ts-input: the CGNAT drop after tailscaled's next start" \
	"ts-input overlay-start 100.100.2.136" \
	"$(tb_json '";".join(f["rule"]["chain"] + " " + f["event"] + " " + " ".join(f["targets"]) for f in r["findings"] if f["severity"] == "warning")')"
tb_ts_remove legacy
tb_ts_install legacy new
tb_audit "ufw+exception in ts-input, restarted" 2 "${TARGETS[@]}"
check_kernel "ufw+exception in ts-input, restarted"
tb_ts_remove legacy
fw_reset

# --- firewalld ---------------------------------------------------------------------------
t_must fw_firewalld_start
t_expect "firewalld: the default zone" public "$(fw_firewall_cmd --get-default-zone 2>/dev/null)"
t_expect "firewalld: its nftables table" "True" \
	"$(tb_exec "$TB_HOST" nft list tables | grep -c 'inet firewalld' >/dev/null && echo True || echo False)"
expect_clean "firewalld"
with_tailscale firewalld nft
with_tailscale firewalld nftables
t_must fw_firewalld_stop
fw_reset

# --- shorewall (last: it sets the namespace's rp_filter and martian logging) ----------------
t_must fw_shorewall_start
t_expect "shorewall: the net zone's chain" "True" \
	"$(tb_exec "$TB_HOST" iptables-nft -S 2>/dev/null | grep -c -- '-N net-fw' >/dev/null && echo True || echo False)"
expect_clean "shorewall"
with_tailscale shorewall nft
fw_reset

t_expect "the machine's own rulesets and the firewalls' directories are unchanged" "$BEFORE" "$(fw_host_state)"
t_done
