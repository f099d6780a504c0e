#!/usr/bin/env bash
# The audit against the kernel: in each scenario `cgnatcheck` runs inside the
# test bed's host namespace, and every target's verdict must equal what the
# kernel oracle observes for the same flow; exit status, the blocking rule
# (chain and index) and the findings are checked too.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3

# Six test beds, their cases at once (tb_spawn): one per firewall form for
# the seed case, three for the rest. Each job has its own audit directory.
bed_setup() {
	tb_host_listen 8080/tcp || tb_die "the host's listener did not start"
	ip -n "$TB_PROV" addr add 100.100.2.158/32 dev lo   # Alibaba's second mirror address
}
tb_beds 6 bed_setup
job_start() { # BED
	tb_use_bed "$1"
	tb_audit_env WORK
	mkdir -p "$WORK/dmi" "$WORK/local"
}

# Every target's verdict against the kernel: a reply means reachable. The
# services the host offers over the overlay (a peer's connection arriving on
# tailscale0, which here is a tun nobody writes to) have no sender in this
# bed: tests/kernel/overlay-services.sh judges them with a peer of its own.
check_kernel() {
	local desc=$1 line addr proto port dir verdict word want
	while read -r addr proto port dir verdict; do
		if [ "$dir" = inbound ]; then
			word=$(tb_probe_inbound "$port" "$proto" --from "$addr" || true)
			[ "$word" = timeout ] && [ "$verdict" = reachable ] &&
				word=$(tb_probe_inbound "$port" "$proto" --from "$addr" --timeout 3000 || true)
		else
			word=$(tb_probe "$addr" "$port" "$proto" || true)
			[ "$word" = timeout ] && [ "$verdict" = reachable ] &&
				word=$(tb_probe "$addr" "$port" "$proto" --timeout 3000 || true)
		fi
		if [ "$word" = reply ]; then want=reachable; else want="blocked|unroutable"; fi
		case "|$want|" in
		*"|$verdict|"*) t_ok "$desc: $addr $proto/$port $verdict, the kernel agrees ($word)" ;;
		*) t_fail "$desc: $addr $proto/$port: cgnatcheck says $verdict, the kernel $word" ;;
		esac
	done < <(python3 -c '
import json, sys
for t in json.load(open(sys.argv[1]))["targets"]:
    if t["role"] not in ("overlay-service", "ssh"):
        print(t["address"], t["proto"], t["port"], t["direction"], t["verdict"])' "$WORK/out.json")
}

drop_index() { # FORM: the CGNAT DROP's position in ts-input
	tb_chain_rules "$1" 4 filter ts-input |
		grep -n -E -- '(-s 100\.64\.0\.0/10 ! -i tailscale0 -j DROP|100\.64\.0\.0/10 .*drop)' | cut -d: -f1 | head -1
}

fw_reset() {
	tb_exec "$TB_HOST" nft flush ruleset
	local t
	for t in raw mangle nat filter; do
		tb_exec "$TB_HOST" iptables-legacy -t "$t" -F 2>/dev/null || true
		tb_exec "$TB_HOST" iptables-legacy -t "$t" -X 2>/dev/null || true
	done
	tb_exec "$TB_HOST" iptables-legacy -P OUTPUT ACCEPT 2>/dev/null || true
}

# --- the seed case in all three forms, old and new order -------------------
form_job() { # BED FORM
	local form=$2 variant idx layout want_order cmd
	job_start "$1"
	for variant in new old; do
		tb_ts_install "$form" "$variant"
		idx=$(drop_index "$form")
		tb_audit "$form/$variant" 2 --dns 100.100.2.136
		check_kernel "$form/$variant"
		t_expect "$form/$variant: blocked by ts-input" "ts-input $idx" \
			"$(tb_json 'r["targets"][0]["blocked_by"]["chain"] + " " + str(r["targets"][0]["blocked_by"]["index"])')"
		t_expect "$form/$variant: backend" "$([ "$form" = legacy ] && echo iptables-legacy || { [ "$form" = nft ] && echo iptables-nft || echo nftables; })" \
			"$(tb_json 'r["targets"][0]["blocked_by"]["backend"]')"
		# the first finding that is not for information (what the host's
		# own files name, e.g. an apt mirror the test bed cannot resolve,
		# may come first as a DISCOVERY_NOTE)
		t_expect "$form/$variant: a critical finding" "critical TARGET_BLOCKED" \
			"$(tb_json '[f["severity"] + " " + f["code"] for f in r["findings"] if f["severity"] != "info"][0]')"
		t_expect "$form/$variant: the reply is what is dropped" "accept drop" \
			"$(tb_json 'r["targets"][0]["request"]["verdict"] + " " + r["targets"][0]["reply"]["verdict"]')"
		layout=$(tb_json '[f["message"] for f in r["findings"] if f["code"] == "TAILSCALE_LAYOUT"][0]')
		want_order="v1.98+ rule order"
		[ "$variant" = old ] && want_order="pre-1.98 rule order"
		case "$layout" in *"netfilter-mode on, $want_order, the CGNAT drop"*) t_ok "$form/$variant: layout recognised" ;;
			*) t_fail "$form/$variant: layout: $layout" ;; esac
		if [ "$form" != nftables ]; then
			t_expect "$form/$variant: rule text" "-A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP" \
				"$(tb_json 'r["targets"][0]["blocked_by"]["text"]')"
		fi
		if [ "$variant" = new ]; then
			# the exceptions the report suggests, run as printed, fix the
			# resolver and nothing else
			while IFS= read -r cmd; do
				tb_exec "$TB_HOST" bash -c "$cmd" || t_fail "$form: suggested command failed: $cmd"
			done < <(tb_json '"\n".join(t["fix"]["command"] for t in r["targets"])')
			tb_audit "$form/$variant+suggested" 0 --dns 100.100.2.136
			check_kernel "$form/$variant+suggested"
			t_expect "$form: the CGNAT drop is now shadowed for the resolver (info)" "True" \
				"$(tb_json 'any(f["code"] == "SHADOWED_DROP_RULE" and f["severity"] == "info" for f in r["findings"])')"
			tb_expect_probe "$form: 100.100.2.138 is still dropped" timeout 100.100.2.138 53 udp
			tb_expect_inbound "$form: a spoofed NEW from 100.100.2.136 is still dropped" timeout 8080 tcp --from 100.100.2.136
		fi
		tb_ts_remove "$form"
	done

	tb_ts_install "$form" nodivert
	tb_audit "$form/nodivert" 1 --dns 100.100.2.136
	check_kernel "$form/nodivert"
	t_expect "$form/nodivert: layout recognised" "True" \
		"$(tb_json 'any(f["code"] == "TAILSCALE_LAYOUT" and "nodivert" in f["message"] for f in r["findings"])')"
	t_expect "$form/nodivert: warns about the latent rule" "True" \
		"$(tb_json 'any(f["code"] == "LATENT_DROP_RULE" and f["rule"]["chain"] == "ts-input" for f in r["findings"])')"
	tb_ts_remove "$form"

	tb_ts_install "$form" return
	tb_audit "$form/return" 0 --dns 100.100.2.136
	check_kernel "$form/return"
	t_expect "$form/return: layout recognised" "True" \
		"$(tb_json 'any(f["code"] == "TAILSCALE_LAYOUT" and "RETURN form" in f["message"] for f in r["findings"])')"
	tb_ts_remove "$form"
	fw_reset
}

# the other scenarios, in three jobs
others_job() { # BED
	job_start "$1"

	# --- an ESTABLISHED,RELATED accept before the jump --------------------------
	tb_ts_install legacy new
	tb_exec "$TB_HOST" iptables-legacy -I INPUT 1 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	tb_audit "established-first" 1 --dns 100.100.2.136 --service 100.100.100.200:80/tcp
	check_kernel "established-first"
	t_expect "established-first: all reachable" "True" "$(tb_json 'all(t["verdict"] == "reachable" for t in r["targets"])')"
	tb_ts_remove legacy
	fw_reset

	# --- Huawei's resolver, the metadata service over tcp/80, an inbound health check
	tb_ts_install nft new
	tb_audit "huawei+metadata" 2 --dns 100.125.1.250 --service 100.100.100.200:80/tcp
	check_kernel "huawei+metadata"
	t_expect "huawei+metadata: three targets blocked" "3" \
		"$(tb_json 'sum(t["verdict"] == "blocked" for t in r["targets"])')"
	tb_ts_remove nft
	fw_reset

	# --- an OUTPUT REJECT of the range: blocked on the request ------------------
	tb_exec "$TB_HOST" iptables-legacy -A OUTPUT -d 100.64.0.0/10 -j REJECT
	tb_audit "output-reject" 2 --dns 100.100.2.136
	check_kernel "output-reject"
	t_expect "output-reject: the request is what is dropped" "drop OUTPUT" \
		"$(tb_json 'r["targets"][0]["request"]["verdict"] + " " + r["targets"][0]["blocked_by"]["chain"]')"
	fw_reset

	# --- an nft set holding 100.64.0.0/10 ----------------------------------------
	tb_nft_guard
	tb_audit "nft-set" 2 --dns 100.100.2.136
	check_kernel "nft-set"
	t_expect "nft-set: blocked by the set rule" "nftables guard input" \
		"$(tb_json 'r["targets"][0]["blocked_by"]["backend"] + " " + r["targets"][0]["blocked_by"]["table"] + " " + r["targets"][0]["blocked_by"]["chain"]')"
	fw_reset

	# --- a drop only on -i tailscale0: reachable ---------------------------------
	tb_exec "$TB_HOST" iptables-legacy -A INPUT -i tailscale0 -s 100.64.0.0/10 -j DROP
	tb_audit "tailscale0-only" 0 --dns 100.100.2.136
	check_kernel "tailscale0-only"
	fw_reset
}

routing_job() { # BED
	job_start "$1"

	# --- an exit node's default route in table 52: unroutable --------------------
	tb_ts_routing exitnode
	tb_audit "exit-node" 2 --dns 100.100.2.136
	check_kernel "exit-node"
	t_expect "exit-node: unroutable via tailscale0 in table 52" "unroutable tailscale0 52" \
		"$(tb_json 'r["targets"][0]["verdict"] + " " + r["targets"][0]["route"]["dev"] + " " + r["targets"][0]["route"]["table"]')"
	tb_ts_unroute
	tb_ts_routing exitnode-throw-provider
	tb_audit "exit-node+throw" 0 --dns 100.100.2.136
	check_kernel "exit-node+throw"
	tb_ts_unroute

	# --- auto-discovery: the namespace's own resolv.conf, systemd-resolved, DMI --
	mkdir -p "/etc/netns/$TB_HOST"
	echo "nameserver 100.100.2.136" >"/etc/netns/$TB_HOST/resolv.conf"
	echo "Alibaba Cloud ECS" >"$WORK/dmi/product_name"
	tb_ts_install legacy new
	tb_audit "discovery" 2
	check_kernel "discovery"
	t_expect "discovery: provider detected" "alibaba" "$(tb_json 'r["provider"]')"
	t_expect "discovery: the resolver from resolv.conf" "True" \
		"$(tb_json 'any(t["address"] == "100.100.2.136" and t["origin"] == "resolv.conf" for t in r["targets"])')"
	t_expect "discovery: the policy's metadata service" "True" \
		"$(tb_json 'any(t["address"] == "100.100.100.200" and t["origin"] == "policy:alibaba" and t["port"] == 80 for t in r["targets"])')"
	echo "nameserver 127.0.0.53" >"/etc/netns/$TB_HOST/resolv.conf"
	echo "nameserver 100.100.2.138" >"$WORK/resolved.conf"
	CGNATCHECK_RESOLVED_CONF="$WORK/resolved.conf" tb_audit "discovery/resolved" 2
	t_expect "discovery/resolved: systemd-resolved's upstream" "True" \
		"$(tb_json 'any(t["address"] == "100.100.2.138" and t["origin"] == "systemd-resolved" for t in r["targets"])')"
	tb_ts_remove legacy
	fw_reset

	# --- a health check from the provider's range to a listener port, configured
	# by overriding the shipped policy in the local policy directory ------------
	ip -n "$TB_PROV" addr add 100.64.0.1/32 dev lo
	sed 's/^Port=listener$/Port=8080/' "$top_srcdir/policies/alibaba.conf" >"$WORK/local/alibaba.conf"
	tb_ts_install legacy new
	tb_audit "health-check" 2 --policy alibaba --dns 100.100.2.136
	check_kernel "health-check"
	t_expect "health-check: an inbound target from the range" "True" \
		"$(tb_json 'any(t["direction"] == "inbound" and t["port"] == 8080 and t["verdict"] == "blocked" for t in r["targets"])')"
	t_expect "health-check: the exception covers the range, to the listener only" "True" \
		"$(tb_json 'any(t["direction"] == "inbound" and "-s 100.64.0.0/10 -i eth0 -p tcp -m tcp --dport 8080" in t["fix"]["command"] for t in r["targets"])')"
	tb_ts_remove legacy
	fw_reset
	rm -f "$WORK/local/alibaba.conf"
}

probe_job() { # BED
	job_start "$1"

	# --- --probe: the live probe beside the simulated verdict -------------------
	# (last: real services replace the scenario's echo, which the oracle needs)
	tb_prov_services dns:53 http:80 ntp:123
	tb_audit "probe/clean" 0 --probe --dns 100.100.2.136 --service 100.100.100.200:80/tcp
	t_expect "probe/clean: every probe answered" "answered answered answered" \
		"$(tb_json '" ".join(t["probe"]["status"] for t in r["targets"])')"
	tb_ts_install legacy new
	tb_audit "probe/tailscale" 2 --probe --dns 100.100.2.136 --service 100.100.100.200:80/tcp
	t_expect "probe/tailscale: blocked, and the probes time out" "blocked:timeout blocked:timeout blocked:timeout" \
		"$(tb_json '" ".join(t["verdict"] + ":" + t["probe"]["status"] for t in r["targets"])')"
	t_expect "probe/tailscale: no disagreement" "False" \
		"$(tb_json 'any(f["code"] == "PROBE_DISAGREES" for f in r["findings"])')"
	tb_ts_remove legacy
	# a drop the host's netfilter does not hold (the provider stops answering):
	# the simulation says reachable, the probe disagrees, and says so
	tb_exec "$TB_PROV" iptables-legacy -A OUTPUT -p udp --sport 53 -j DROP
	# the earlier audits' own probes are connections conntrack would show
	# as peers of the host's (100.100.100.200:80): this case is about one
	tb_ct_flush "$TB_HOST"
	tb_audit "probe/outside" 2 --probe --dns 100.100.2.136
	t_expect "probe/outside: a critical disagreement for udp" "True" \
		"$(tb_json 'any(f["code"] == "PROBE_DISAGREES" and f["severity"] == "critical" for f in r["findings"])')"
	# the text must not call the refuted target fine: counted as a problem,
	# shown as disagreeing (not `reachable`), and kept by --quiet
	t_expect "probe/outside JSON: the udp target is marked" "udp:True tcp:False" \
		"$(tb_json '" ".join(t["proto"] + ":" + str(t["probe_disagrees"]) for t in r["targets"])')"
	status=0
	tb_exec "$TB_HOST" "$CGNATCHECK" --probe --dns 100.100.2.136 >"$WORK/out.txt" 2>/dev/null || status=$?
	t_expect "probe/outside text: exit status" 2 "$status"
	t_expect "probe/outside text: the summary counts it" "2 targets, 1 with a problem" \
		"$(sed -n '1s/^cgnatcheck [^:]*: \([^;]*\).*/\1/p' "$WORK/out.txt")"
	t_expect "probe/outside text: the verdict column" "disagrees dns 100.100.2.136 53/udp|reachable dns 100.100.2.136 53/tcp" \
		"$(grep -E '^  [a-z]+ +dns ' "$WORK/out.txt" | awk '{ print $1, $2, $3, $4 }' | paste -sd'|')"
	tb_exec "$TB_HOST" "$CGNATCHECK" --quiet --probe --dns 100.100.2.136 >"$WORK/out.txt" 2>/dev/null || true
	t_expect "probe/outside --quiet: shows the refuted target only" "disagrees dns 100.100.2.136 53/udp" \
		"$(grep -E '^  [a-z]+ +dns ' "$WORK/out.txt" | awk '{ print $1, $2, $3, $4 }' | paste -sd'|')"
	tb_exec "$TB_PROV" iptables-legacy -F OUTPUT
	fw_reset

	# --- bad input: a malformed policy names file and line, exit 3 ---------------
	printf '[Provider]\nName=x\nBogus=1\n' >"$WORK/bad.conf"
	tb_audit "bad policy" 3 --policy "$WORK/bad.conf" --dns 100.100.2.136
	case "$(cat "$WORK/err")" in *"bad.conf:3:"*) t_ok "bad policy: file and line named" ;;
		*) t_fail "bad policy: message was: $(cat "$WORK/err")" ;; esac
	tb_audit "unknown policy" 3 --policy nosuchcloud --dns 100.100.2.136
}

i=0
for form in legacy nft nftables; do
	tb_spawn "$form" form_job "$i" "$form"
	i=$((i + 1))
done
tb_spawn "established, huawei, reject, set, tailscale0" others_job 3
tb_spawn "exit node, discovery, health check" routing_job 4
tb_spawn "--probe, bad input" probe_job 5
tb_join
t_done
