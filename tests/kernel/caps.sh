#!/usr/bin/env bash
# Least privilege: after start-up the process holds CAP_NET_ADMIN and
# CAP_NET_RAW only (effective, permitted and bounding), with no-new-privs;
# with --user it is that user (uid, gid, no supplementary groups) with the
# same capabilities; without CAP_NET_ADMIN the audit refuses with exit 3 and
# says what to do (setcap on the binary that ran).
# Runs in a namespace of its own (the audit reads its firewall).
set -euo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/netns/lib.sh"
tb_init
command -v setpriv >/dev/null || t_skip "needs setpriv (util-linux)"
tb_ns_add NS caps
tb_tmpdir WORK
export CGNATCHECK_POLICY_DIR="$top_srcdir/policies" CGNATCHECK_POLICY_LOCAL_DIR="$WORK" CGNATCHECK_DMI_DIR="$WORK"

# CAP_NET_ADMIN is bit 12, CAP_NET_RAW bit 13
want=0000000000003000
status=0
tb_exec "$NS" "$CGNATCHECK" -vv --dns 192.0.2.53 >/dev/null 2>"$WORK/err" || status=$?
t_expect "root audit runs" 2 "$status"   # no route to 192.0.2.53 in an empty namespace
line=$(grep "capabilities after start-up" "$WORK/err" || true)
for f in CapEff CapPrm CapBnd; do
	case "$line" in *"$f: $want"*) t_ok "$f is CAP_NET_ADMIN+CAP_NET_RAW" ;;
		*) t_fail "$f: $line" ;; esac
done
case "$line" in *"CapInh: 0000000000000000"*) t_ok "nothing inheritable" ;; *) t_fail "CapInh: $line" ;; esac
case "$line" in *"NoNewPrivs: 1"*) t_ok "no-new-privs set" ;; *) t_fail "NoNewPrivs: $line" ;; esac

# --user: switched to that user and its primary group, the same two
# capabilities in every set, no supplementary group except root's when the
# kernel's lists of iptables-legacy tables (0440 root:root) need it
uid=$(id -u nobody) gid=$(id -g nobody)
chmod 0755 "$WORK"   # nobody reads the (empty) local policy and DMI directories
status=0
tb_exec "$NS" "$CGNATCHECK" -vv --user nobody --dns 192.0.2.53 >/dev/null 2>"$WORK/err" || status=$?
t_expect "--user nobody: the audit runs" 2 "$status"
[ "$status" -ne 3 ] || cat "$WORK/err" >&2
line=$(grep "capabilities after start-up" "$WORK/err" || true)
case "$line" in *"Uid: $uid $uid $uid $uid,"*) t_ok "--user: real, effective, saved and fs uid are nobody's" ;;
	*) t_fail "--user Uid: $line" ;; esac
case "$line" in *"Gid: $gid $gid $gid $gid,"*) t_ok "--user: every gid is nobody's group" ;;
	*) t_fail "--user Gid: $line" ;; esac
groups=$(sed -n 's/.*Groups:\([^,]*\),.*/\1/p' <<<"$line" | tr -d ' ')
if [ -e /proc/net/ip_tables_names ] && [ "$(stat -c %a /proc/net/ip_tables_names)" = 440 ]; then
	t_expect "--user: only root's group, for /proc/net/ip_tables_names" 0 "$groups"
else
	t_expect "--user: no supplementary groups" "" "$groups"
fi
for f in CapEff CapPrm CapBnd; do
	case "$line" in *"$f: $want"*) t_ok "--user: $f is CAP_NET_ADMIN+CAP_NET_RAW" ;;
		*) t_fail "--user: $f: $line" ;; esac
done
case "$line" in *"CapAmb: 0000000000000000"*"NoNewPrivs: 1"*) t_ok "--user: nothing ambient, no-new-privs" ;;
	*) t_fail "--user: CapAmb/NoNewPrivs: $line" ;; esac
status=0
tb_exec "$NS" "$CGNATCHECK" --user no-such-user-cgnatcheck --dns 192.0.2.53 >/dev/null 2>"$WORK/err" || status=$?
t_expect "--user with an unknown user: exit 3" 3 "$status"
case "$(cat "$WORK/err")" in *"no such user"*useradd*) t_ok "--user unknown: says so and how to create it" ;;
	*) t_fail "--user unknown: $(cat "$WORK/err")" ;; esac
status=0
tb_exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$CGNATCHECK" --user root --show-route 127.0.0.1 >/dev/null 2>"$WORK/err" || status=$?
t_expect "--user when not started as root: exit 3" 3 "$status"
case "$(cat "$WORK/err")" in *"needs to be started as root"*) t_ok "--user unprivileged: says it needs root" ;;
	*) t_fail "--user unprivileged: $(cat "$WORK/err")" ;; esac

# --show-route needs no privilege at all: it runs unprivileged
status=0
tb_exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$CGNATCHECK" --show-route 127.0.0.1 >/dev/null 2>"$WORK/err" || status=$?
t_expect "unprivileged --show-route works" 0 "$status"

# the audit without CAP_NET_ADMIN: exit 3, and the message says what to do
status=0
tb_exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$CGNATCHECK" --dns 192.0.2.53 >"$WORK/out" 2>"$WORK/err" || status=$?
t_expect "unprivileged audit refuses" 3 "$status"
case "$(cat "$WORK/err")" in *CAP_NET_ADMIN*"run as root"*) t_ok "the message names CAP_NET_ADMIN and what to do" ;;
	*) t_fail "message: $(cat "$WORK/err")" ;; esac
t_expect "no report on refusal" "" "$(cat "$WORK/out")"
# the setcap it suggests names the binary that ran, not an installed path
self=$(readlink -f "$CGNATCHECK")
case "$(cat "$WORK/err")" in *"setcap cap_net_admin,cap_net_raw+ep $self"*) t_ok "setcap names $self" ;;
	*) t_fail "setcap hint does not name $self: $(cat "$WORK/err")" ;; esac
t_done
