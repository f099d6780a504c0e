#!/usr/bin/env bash
# Offline audits (issue 18): in each firewall form (iptables-legacy,
# iptables-nft, native nftables) the test bed's host is audited live with
# --save, then the saved file is audited with --replay from this machine's
# own namespace context: the replay builds a private network namespace of
# its own (the kernel and the stock tools parse the saved state again),
# which must be gone afterwards. The two reports must agree in everything
# but the offline marking (and nft rule handles, which a re-created table
# numbers afresh). A truncated, corrupted or foreign file, --probe and --fix
# with --replay: a clear error, exit 3.
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_test_init python3 nft iptables-legacy-restore iptables-nft-restore
tb_audit_env WORK
tb_scenario
tb_host_listen 8080/tcp
mkdir -p "$WORK/dmi" "$WORK/local"
# a policy of the host's own, which the replay must use in place of this
# machine's (none here): its service becomes a target
cat >"$WORK/local/testcloud.conf" <<'EOF2'
[Provider]
Name=testcloud
Description=a provider whose services are the test bed's
MatchSysVendor=Testcloud
[Service]
Name=dns
Role=dns
Address=100.100.2.138
Protocol=udp
Port=53
Direction=outbound
[Service]
Name=health
Role=health-check
Address=100.64.0.0/10
Protocol=tcp
Port=8080
Direction=inbound
EOF2
mkdir -p "$WORK/dmi" "$WORK/local"
echo Testcloud >"$WORK/dmi/sys_vendor"
mkdir -p "/etc/netns/$TB_HOST"
printf 'nameserver 100.100.2.136\n' >"/etc/netns/$TB_HOST/resolv.conf"

# The report without what must differ: the offline marking, nft handles, the
# kernel's counters of the blocking rules (a live audit's evidence, not saved).
normal() { # JSON-FILE
	python3 - "$1" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
r.pop("offline", None)
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items()
                if k not in ("handle", "blocked_by_packets", "blocked_by_bytes")}
    if isinstance(o, list):
        return [strip(v) for v in o]
    if isinstance(o, str):
        return re.sub(r"\(?handle [0-9]+\)?", "", o)
    return o
print(json.dumps(strip(r), indent=1, sort_keys=True))
PY
}

# the replay with none of the test bed's settings: what it needs (the
# policies, the DMI strings, resolv.conf) must come from the file
replay() {
	env -u CGNATCHECK_POLICY_DIR -u CGNATCHECK_POLICY_LOCAL_DIR -u CGNATCHECK_DMI_DIR \
		-u CGNATCHECK_RESOLVED_CONF "$CGNATCHECK" "$@"
}

tmp_before=$(ls "${TMPDIR:-/tmp}" | grep -c '^cgnatcheck-replay' || true)

for form in legacy nft nftables; do
	tb_ts_install "$form" new
	# a policy-routing rule and a table of its own, which the replay restores
	ip -n "$TB_HOST" rule add pref 5000 to 100.100.61.88 lookup 77
	ip -n "$TB_HOST" route add unreachable 100.100.61.88 table 77
	tb_audit "$form: live audit with --save" 2 --save "$WORK/$form.save"
	cp "$WORK/out.json" "$WORK/$form.live.json"
	t_expect "$form live: not marked offline" None "$(tb_json 'r["offline"]')"
	t_expect "$form live: the verdicts of every target" \
		"100.100.2.136/udp:blocked 100.100.2.136/tcp:blocked 100.100.100.100/udp:blocked 100.100.100.100/tcp:blocked 100.100.2.138/udp:blocked 100.64.0.1/tcp:blocked" \
		"$(tb_json '" ".join(t["address"] + "/" + t["proto"] + ":" + t["verdict"] for t in r["targets"])')"
	[ -s "$WORK/$form.save" ] && t_ok "$form: the file is written" || t_fail "$form: no $WORK/$form.save"
	ip -n "$TB_HOST" rule del pref 5000
	ip -n "$TB_HOST" route flush table 77

	# from the machine's own namespace context: nothing of the test bed's
	status=0
	replay --format json --replay "$WORK/$form.save" >"$WORK/$form.off.json" 2>"$WORK/err" || status=$?
	t_expect "$form --replay: exit status" 2 "$status"
	[ "$status" -ne 3 ] || cat "$WORK/err" >&2
	cp "$WORK/$form.off.json" "$WORK/out.json"
	t_expect "$form --replay: marked offline, with the host and the time" \
		"$(hostname) $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["offline"]["saved_at"])' "$WORK/out.json")" \
		"$(tb_json 'r["offline"]["host"] + " " + r["offline"]["saved_at"]')"
	case "$(tb_json 'r["offline"]["saved_at"]')" in
	20[0-9][0-9]-[01][0-9]-[0-3][0-9]T*Z) t_ok "$form --replay: the time is UTC ISO 8601" ;;
	*) t_fail "$form --replay: saved_at $(tb_json 'r["offline"]["saved_at"]')" ;;
	esac
	if diff -u <(normal "$WORK/$form.live.json") <(normal "$WORK/$form.off.json") >"$WORK/diff"; then
		t_ok "$form --replay: the same report as the live audit (verdicts, routes, rules, findings)"
	else
		t_fail "$form --replay: the reports differ: $(head -40 "$WORK/diff")"
	fi
	t_expect "$form --replay: the policy route came back" \
		"unroutable" "$(replay --format json --replay "$WORK/$form.save" --service 100.100.61.88:123/udp 2>/dev/null |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["targets"][0]["verdict"])')"
	tb_ts_remove "$form"
done

# the text report says it too
status=0
replay --replay "$WORK/legacy.save" >"$WORK/out.txt" 2>"$WORK/err" || status=$?
t_expect "text --replay: exit status" 2 "$status"
cp "$WORK/legacy.off.json" "$WORK/out.json"
t_expect "text --replay: the second line" "offline audit of $(hostname) saved at $(tb_json 'r["offline"]["saved_at"]')" \
	"$(sed -n 2p "$WORK/out.txt")"

# nothing left behind: the replay's two namespaces (their inodes, from its
# debug log) are held by no process and by no name under /run/netns (what
# `ip netns list` lists; comparing the list itself would race with other
# tests adding theirs), and no temporary directory
replay -vv --replay "$WORK/legacy.save" >/dev/null 2>"$WORK/err" || true
inodes=$(sed -n 's/.*replay: in network namespace net:\[\([0-9]*\)\], the veth peers in net:\[\([0-9]*\)\].*/\1 \2/p' "$WORK/err")
[ -n "$inodes" ] && t_ok "the replay names its namespaces ($inodes)" || t_fail "no namespace inodes in: $(cat "$WORK/err")"
held=
for ino in $inodes; do
	for p in /proc/[0-9]*/ns/net /run/netns/*; do
		[ "$(stat -L -c %i "$p" 2>/dev/null)" = "$ino" ] && held="$held $p"
	done
done
t_expect "the replay's namespaces are gone (no process, no /run/netns name holds them)" "" "$held"
t_expect "no temporary directory left behind" "$tmp_before" \
	"$(ls "${TMPDIR:-/tmp}" | grep -c '^cgnatcheck-replay' || true)"

# bad files and bad combinations: exit 3, and a message that says why
bad() { # DESC WANT-IN-MESSAGE ARGS...
	local desc=$1 want=$2 status=0
	shift 2
	"$CGNATCHECK" "$@" >"$WORK/out.txt" 2>"$WORK/err" || status=$?
	t_expect "$desc: exit status" 3 "$status"
	case "$(cat "$WORK/err")" in *"$want"*) t_ok "$desc: says why" ;;
		*) t_fail "$desc: message was: $(cat "$WORK/err")" ;; esac
	t_expect "$desc: no report" "" "$(cat "$WORK/out.txt")"
}
size=$(stat -c %s "$WORK/legacy.save")
head -c $((size / 2)) "$WORK/legacy.save" >"$WORK/truncated.save"
bad "a truncated file" "truncated" --replay "$WORK/truncated.save"
head -c $((size - 10)) "$WORK/legacy.save" >"$WORK/trailer.save"
bad "a file without its trailer" "not a usable saved audit" --replay "$WORK/trailer.save"
sed 's/-A ts-input/-A ts-inpuT/' "$WORK/legacy.save" >"$WORK/edited.save"
bad "a corrupted file" "digest does not match" --replay "$WORK/edited.save"
printf 'hello\n' >"$WORK/foreign.save"
bad "a foreign file" "does not start with" --replay "$WORK/foreign.save"
bad "a missing file" "cannot read the saved audit" --replay "$WORK/nonexistent.save"
bad "--replay --probe" "nothing there to probe or fix" --replay "$WORK/legacy.save" --probe
bad "--replay --fix" "nothing there to probe or fix" --replay "$WORK/legacy.save" --fix
t_done
