#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Whose an nf_tables table is (src/collect/nft-owner.c), one label at every
# step: the rule text in reports, the backend of every rule and chain, the
# TAILSCALE_LAYOUT mode, the command the report suggests and the exception
# --fix writes, the same before and after --fix and after --undo. Each table
# is written by the tool that owns it in the test bed's host namespace; the
# stock tools are the oracle for what they can tell (nft's "managed by
# iptables-nft" warning, iptables-nft-save listing the table or refusing it),
# the kernel for the verdicts:
#
#   ts-ipt-native  Tailscale's iptables mode written by iptables-nft, ip filter
#                  without its one xt rule (-j MARK): native expressions
#                  only, no nft warning; iptables-nft, by its interface names
#   hand-ipt       INPUT written by iptables-nft with -i, -p tcp --dport, -m
#                  mark, -m limit, -j NFLOG, -j ACCEPT, -s ... -j DROP
#   hand-ipt-bare  the same without an interface name: nothing only nft
#                  writes, so iptables-nft's
#   native         `table ip filter` with chain INPUT written by nft -f: nft's
#                  (no counters); with counters: nft's by its interface names;
#                  a comment
#   mixed          Tailscale's iptables-nft rules and a native `ct state` rule
#                  in one ip filter: nft warns, iptables-nft-save refuses it:
#                  nft's, every rule in nft syntax, the exception native
#   ts-nftables    Tailscale's nftables mode: nft's before and after --fix
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/netns/lib.sh"
tb_test_init python3 nft iptables-nft iptables-nft-save ip6tables-nft
tb_audit_env WORK
tb_scenario
# no host files: nothing discovered (and no name waited for)
tb_tmpdir ROOT
export CGNATCHECK_HOST_ROOT=$ROOT CGNATCHECK_RESOLVED_CONF=$ROOT/resolved.conf

# the whole ruleset as nft lists it, counters and generation-dependent
# details left out: equal before --fix and after --undo
ruleset() {
	tb_exec "$TB_HOST" nft list ruleset 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'
}

# nft_warns FAMILY TABLE: nft prints its "managed by iptables-nft" warning
nft_warns() {
	local warnings
	warnings=$(tb_exec "$TB_HOST" nft list ruleset 2>&1 >/dev/null || true)
	grep -qxF "# Warning: table $1 $2 is managed by iptables-nft, do not touch!" <<<"$warnings"
}

# ipt_status TABLE: what iptables-nft-save makes of ip TABLE: listed,
# incompatible or failed
ipt_status() {
	local out
	if out=$(tb_exec "$TB_HOST" iptables-nft-save -t "$1" 2>&1); then
		case $out in *"is incompatible, use 'nft' tool"*) echo incompatible ;; *) echo listed ;; esac
	else
		echo failed
	fi
}

# labelled TABLE: "BACKEND: REASON" from the last audit's debug line for ip TABLE
labelled() {
	sed -n -E "s/^cgnatcheck: nftables: table ip $1 labelled ([a-z-]+): ([^(]*[^ (]).*/\1: \2/p" \
		"$TB_AUDIT_DIR/err" | tail -n1
}

# backends TABLE: every backend the last report gives a rule or chain of ip TABLE
backends() {
	python3 -I -S -c '
import json, sys
seen = set()
def walk(o):
    if isinstance(o, dict):
        if "backend" in o and o.get("family") == "ip" and o.get("table") == sys.argv[2]:
            seen.add(o["backend"])
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.load(open(sys.argv[1])))
print(" ".join(sorted(seen)))' "$TB_AUDIT_DIR/out.json" "$1"
}

# text EXPR: a rule text from the last report, counters left out
text() {
	tb_json "$1" | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/g'
}

layout() {
	tb_json '" ".join(f["message"].split(",")[0] for f in r["findings"] if f["code"] == "TAILSCALE_LAYOUT")'
}

reset_fw() {
	tb_exec "$TB_HOST" nft flush ruleset
}

# check_iptnft CASE TABLE CHAIN DROP-TEXT REASON [LAYOUT]: the audit, --fix
# and --undo of a table that is iptables-nft's
check_iptnft() {
	local c=$1 table=$2 chain=$3 drop=$4 reason=$5 lay=${6:-} cmd want line before
	before=$(ruleset)
	tb_audit "$c" 2 -vv --dns 100.100.2.136
	t_expect "$c: labelled" "iptables-nft: $reason" "$(labelled "$table")"
	t_expect "$c: blocked by, in iptables-save syntax" "iptables-nft $chain $drop" \
		"$(tb_json 'r["targets"][0]["blocked_by"]["backend"] + " " + r["targets"][0]["blocked_by"]["chain"] + " " + r["targets"][0]["blocked_by"]["text"]')"
	t_expect "$c: every rule and chain of ip $table labelled alike" iptables-nft "$(backends "$table")"
	[ -z "$lay" ] || t_expect "$c: Tailscale's mode" "$lay" "$(layout)"
	cmd=$(tb_json 'r["targets"][0]["fix"]["command"]')
	case $cmd in
	"iptables-nft -w -t $table -I $chain "[0-9]*) t_ok "$c: the suggested command is iptables-nft's" ;;
	*) t_fail "$c: suggested command: $cmd" ;;
	esac

	tb_audit "$c --fix" 0 -vv --fix --dns 100.100.2.136
	t_expect "$c --fix: applied, verified reachable" "applied:reachable applied:reachable" \
		"$(tb_json '" ".join(c["result"] + ":" + str(c["after"]) for c in r["changes"])')"
	t_expect "$c --fix: still labelled" "iptables-nft" "$(labelled "$table" | cut -d: -f1)"
	t_expect "$c --fix: every rule and chain of ip $table labelled alike" iptables-nft "$(backends "$table")"
	[ -z "$lay" ] || t_expect "$c --fix: Tailscale's mode" "$lay" "$(layout)"
	tb_expect_probe "$c --fix: the resolver answers" reply 100.100.2.136 53 udp
	# iptables-nft-save prints the exception exactly as the suggested
	# command wrote it, its comment included
	want="-A $chain${cmd#iptables-nft -w -t "$table" -I "$chain" [0-9]*}"
	line=$(tb_exec "$TB_HOST" iptables-nft-save -t "$table" | grep -F -- "-p udp" | grep -F 'cgnatcheck:' || true)
	t_expect "$c --fix: iptables-nft-save shows the exception as suggested" "$want" "$line"
	t_expect "$c --fix: iptables-nft-save lists the table" listed "$(ipt_status "$table")"

	tb_audit "$c after" 0 -vv --dns 100.100.2.136
	t_expect "$c after: labelled" "iptables-nft" "$(labelled "$table" | cut -d: -f1)"
	t_expect "$c after: every rule and chain of ip $table labelled alike" iptables-nft "$(backends "$table")"
	[ -z "$lay" ] || t_expect "$c after: Tailscale's mode" "$lay" "$(layout)"
	t_expect "$c after: the shadowed drop named in iptables-save syntax" "iptables-nft $drop" \
		"$(tb_json '" ".join(f["rule"]["backend"] + " " + f["rule"]["text"] for f in r["findings"] if f["code"] == "SHADOWED_DROP_RULE")')"

	tb_audit "$c --undo" 0 --undo
	t_expect "$c --undo: the ruleset as it was" "$before" "$(ruleset)"
	tb_audit "$c undone" 2 -vv --dns 100.100.2.136
	t_expect "$c undone: labelled" "iptables-nft: $reason" "$(labelled "$table")"
}

# check_nft CASE TABLE CHAIN DROP-TEXT REASON [LAYOUT]: the same for a table
# that is nft's
check_nft() {
	local c=$1 table=$2 chain=$3 drop=$4 reason=$5 lay=${6:-} cmd before warned
	before=$(ruleset)
	nft_warns ip "$table" && warned=yes || warned=no
	tb_audit "$c" 2 -vv --dns 100.100.2.136
	t_expect "$c: labelled" "nftables: $reason" "$(labelled "$table")"
	t_expect "$c: blocked by, in nft syntax" "nftables $chain $drop" \
		"$(text 'r["targets"][0]["blocked_by"]["backend"] + " " + r["targets"][0]["blocked_by"]["chain"] + " " + r["targets"][0]["blocked_by"]["text"]')"
	t_expect "$c: every rule and chain of ip $table labelled alike" nftables "$(backends "$table")"
	[ -z "$lay" ] || t_expect "$c: Tailscale's mode" "$lay" "$(layout)"
	cmd=$(tb_json 'r["targets"][0]["fix"]["command"]')
	case $cmd in
	"nft 'insert rule ip $table $chain index "[0-9]*) t_ok "$c: the suggested command is nft's" ;;
	*) t_fail "$c: suggested command: $cmd" ;;
	esac

	tb_audit "$c --fix" 0 -vv --fix --dns 100.100.2.136
	t_expect "$c --fix: applied, verified reachable" "applied:reachable applied:reachable" \
		"$(tb_json '" ".join(c["result"] + ":" + str(c["after"]) for c in r["changes"])')"
	t_expect "$c --fix: still labelled" "nftables" "$(labelled "$table" | cut -d: -f1)"
	t_expect "$c --fix: every rule and chain of ip $table labelled alike" nftables "$(backends "$table")"
	[ -z "$lay" ] || t_expect "$c --fix: Tailscale's mode" "$lay" "$(layout)"
	tb_expect_probe "$c --fix: the resolver answers" reply 100.100.2.136 53 udp
	t_expect "$c --fix: nft lists the exception natively, with its comment" 1 \
		"$(tb_exec "$TB_HOST" nft list chain ip "$table" "$chain" 2>/dev/null |
			grep -c 'ip saddr 100.100.2.136 udp sport 53 ct state established,related .*comment "cgnatcheck:' || true)"
	t_expect "$c --fix: nft's warning as before" "$warned" "$(nft_warns ip "$table" && echo yes || echo no)"

	tb_audit "$c after" 0 -vv --dns 100.100.2.136
	t_expect "$c after: labelled" "nftables" "$(labelled "$table" | cut -d: -f1)"
	t_expect "$c after: every rule and chain of ip $table labelled alike" nftables "$(backends "$table")"
	[ -z "$lay" ] || t_expect "$c after: Tailscale's mode" "$lay" "$(layout)"
	t_expect "$c after: the shadowed drop named in nft syntax" "nftables $drop" \
		"$(text '" ".join(f["rule"]["backend"] + " " + f["rule"]["text"] for f in r["findings"] if f["code"] == "SHADOWED_DROP_RULE")')"

	tb_audit "$c --undo" 0 --undo
	t_expect "$c --undo: the ruleset as it was" "$before" "$(ruleset)"
	tb_audit "$c undone" 2 -vv --dns 100.100.2.136
	t_expect "$c undone: labelled" "nftables: $reason" "$(labelled "$table")"
}

IPTMODE="Tailscale's firewall: iptables mode (iptables-nft)"
NFTMODE="Tailscale's firewall: nftables mode (nftables)"
TSDROP="-A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP"

# --- ts-ipt-native ------------------------------------------------------------
tb_ts_install nft new
for ipt in iptables-nft ip6tables-nft; do
	t_must tb_exec "$TB_HOST" "$ipt" -w -D ts-forward -i "$TB_TUN" -j MARK --set-mark "$TB_TS_SUBNET_MARK/$TB_TS_MASK"
done
# this nft prints the warning, and only for the tables with xt expressions
nft_warns ip mangle && t_ok "ts-ipt-native: nft warns about ip mangle (xt conntrack, CONNMARK)" ||
	t_fail "ts-ipt-native: nft printed no warning for ip mangle"
nft_warns ip filter && t_fail "ts-ipt-native: nft warns about ip filter, which has no xt rule left" ||
	t_ok "ts-ipt-native: nft does not warn about ip filter (native expressions only)"
t_expect "ts-ipt-native: iptables-nft-save lists ip filter" listed "$(ipt_status filter)"
check_iptnft ts-ipt-native filter ts-input "$TSDROP" "an interface name compared as iptables-nft writes it" "$IPTMODE"
tb_ts_remove nft
reset_fw

# --- hand-ipt -----------------------------------------------------------------
t_must tb_exec "$TB_HOST" bash -e -c '
ipt="iptables-nft -w"
$ipt -A INPUT -i lo -j ACCEPT
$ipt -A INPUT -p tcp --dport 22 -j ACCEPT
$ipt -A INPUT -m mark --mark 0x80000/0xff0000 -j ACCEPT
$ipt -A INPUT -m limit --limit 5/min -j NFLOG --nflog-group 3
$ipt -A INPUT -s 100.64.0.0/10 -j DROP'
nft_warns ip filter && t_fail "hand-ipt: nft warns about ip filter" || t_ok "hand-ipt: no nft warning (no xt rule)"
t_expect "hand-ipt: iptables-nft-save lists ip filter" listed "$(ipt_status filter)"
check_iptnft hand-ipt filter INPUT "-A INPUT -s 100.64.0.0/10 -j DROP" \
	"an interface name compared as iptables-nft writes it"
reset_fw

t_must tb_exec "$TB_HOST" bash -e -c '
iptables-nft -w -A INPUT -p tcp --dport 22 -j ACCEPT
iptables-nft -w -A INPUT -m mark --mark 0x80000/0xff0000 -j ACCEPT
iptables-nft -w -A INPUT -s 100.64.0.0/10 -j DROP'
check_iptnft hand-ipt-bare filter INPUT "-A INPUT -s 100.64.0.0/10 -j DROP" "nothing only nft writes"
reset_fw

# --- native -------------------------------------------------------------------
t_must tb_exec "$TB_HOST" nft -f - <<'EOF'
table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy accept;
		iifname "lo" accept
		tcp dport 22 accept
		ip saddr 100.64.0.0/10 drop
	}
}
EOF
# iptables-nft 1.8.9 would list this table as its own
t_expect "native: iptables-nft-save lists ip filter" listed "$(ipt_status filter)"
check_nft native filter INPUT "ip saddr 100.64.0.0/10 drop" "a rule without a counter"
reset_fw

t_must tb_exec "$TB_HOST" nft -f - <<'EOF'
table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy accept;
		iifname "lo" counter accept
		ip saddr 100.64.0.0/10 counter drop
	}
}
EOF
tb_audit "native-counters" 2 -vv --dns 100.100.2.136
t_expect "native-counters: labelled" "nftables: an interface name padded as nft writes it" "$(labelled filter)"
reset_fw

t_must tb_exec "$TB_HOST" nft -f - <<'EOF'
table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy accept;
		ip saddr 100.64.0.0/10 counter drop comment "shared space"
	}
}
EOF
tb_audit "native-comment" 2 -vv --dns 100.100.2.136
t_expect "native-comment: labelled" "nftables: a rule comment in user data" "$(labelled filter)"
t_expect "native-comment: blocked by" 'ip saddr 100.64.0.0/10 counter drop comment "shared space"' \
	"$(text 'r["targets"][0]["blocked_by"]["text"]')"
reset_fw

t_must tb_exec "$TB_HOST" nft -f - <<'EOF'
table ip filter {
	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr 100.64.0.0/10 counter drop
	}
}
EOF
tb_audit "native-chain" 2 -vv --dns 100.100.2.136
t_expect "native-chain: labelled" "nftables: a base chain iptables-nft does not make" "$(labelled filter)"
reset_fw

# --- mixed --------------------------------------------------------------------
tb_ts_install nft new
t_must tb_exec "$TB_HOST" nft add rule ip filter INPUT ct state established,related counter accept
nft_warns ip filter && t_ok "mixed: nft warns about ip filter (xt -j MARK)" ||
	t_fail "mixed: nft printed no warning for ip filter"
t_expect "mixed: iptables-nft-save refuses ip filter" incompatible "$(ipt_status filter)"
check_nft mixed filter ts-input 'iifname != "tailscale0" ip saddr 100.64.0.0/10 counter drop' \
	"a rule iptables-nft cannot list: ct" "$NFTMODE"
tb_ts_remove nft
reset_fw

# --- ts-nftables --------------------------------------------------------------
tb_ts_install nftables new
t_expect "ts-nftables: iptables-nft-save fails on ip filter (meta mark set)" failed "$(ipt_status filter)"
check_nft ts-nftables filter ts-input 'iifname != "tailscale0*" ip saddr 100.64.0.0/10 counter drop' \
	"a rule iptables-nft cannot list: meta set" "$NFTMODE"
tb_ts_remove nftables
reset_fw

t_done
