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
# --user nobody reads the policies, the (empty) local policy directory and
# the DMI directory: all in directories every user can reach (the tree may
# be a clone under /root, mode 700)
tb_tmpdir_shared WORK
tb_policies_shared POLICIES
export CGNATCHECK_POLICY_DIR="$POLICIES" CGNATCHECK_POLICY_LOCAL_DIR="$WORK" CGNATCHECK_DMI_DIR="$WORK"

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
# a local policy directory the user cannot read (root's, mode 700): the
# audit stops (exit 3) and names the directory and why, never audits
# silently without the policies in it
tb_tmpdir_shared LOCKED
mkdir -m 0700 "$LOCKED/policies.d"
cp "$POLICIES/tailscale.conf" "$LOCKED/policies.d/"
status=0
CGNATCHECK_POLICY_LOCAL_DIR="$LOCKED/policies.d" tb_exec "$NS" "$CGNATCHECK" --user nobody --dns 192.0.2.53 \
	>"$WORK/out" 2>"$WORK/err" || status=$?
t_expect "--user nobody, a policy directory it cannot read: exit 3" 3 "$status"
case "$(cat "$WORK/err")" in *"$LOCKED/policies.d"*"Permission denied"*) t_ok "... and the error names the directory and why" ;;
	*) t_fail "unreadable policy directory: $(cat "$WORK/err")" ;; esac
t_expect "... and no report" "" "$(cat "$WORK/out")"
# a policy file in a readable directory that the user cannot read (0600)
mkdir -m 0755 "$LOCKED/open.d"
install -m 0600 "$POLICIES/tailscale.conf" "$LOCKED/open.d/local.conf"
status=0
CGNATCHECK_POLICY_LOCAL_DIR="$LOCKED/open.d" tb_exec "$NS" "$CGNATCHECK" --user nobody --dns 192.0.2.53 \
	>"$WORK/out" 2>"$WORK/err" || status=$?
t_expect "--user nobody, a policy file it cannot read: exit 3" 3 "$status"
case "$(cat "$WORK/err")" in *"$LOCKED/open.d/local.conf"*"Permission denied"*) t_ok "... and the error names the file and why" ;;
	*) t_fail "unreadable policy file: $(cat "$WORK/err")" ;; esac

# The build tree's own policies (no CGNATCHECK_POLICY_DIR, nothing
# installed) in a tree --user cannot enter, like a clone under /root (mode
# 700): the audit names the directory and stops, never audits without them.
# In a mount namespace of its own, a mode-700 tmpfs over the tree's parent
# (the program and the output files opened first: the parent may hold them
# too; run through its descriptor it is still the build tree's program);
# nothing outside the namespace changes.
status=0
tb_exec "$NS" unshare -m --propagation private bash -c '
	exec 7>"$2/out" 8>"$2/err" 9<"$1"
	[ "$(dirname "$3")" != / ] || { echo "the source tree is /*" >&8; exit 97; }
	mount -t tmpfs -o mode=0700 tmpfs "$(dirname "$3")" || exit 99
	env -u CGNATCHECK_POLICY_DIR /proc/self/fd/9 --user nobody --dns 192.0.2.53 >&7 2>&8
' bash "$CGNATCHECK" "$WORK" "$(cd "$top_srcdir" && pwd)" || status=$?
t_expect "--user nobody, the build tree's policies out of its reach: exit 3" 3 "$status"
# (the directory as the build spelt it: under make distcheck a path with ..)
case "$(cat "$WORK/err")" in *"Failed to read the policy directory /"*"/policies: Permission denied"*)
	t_ok "... and the error names the policy directory and why" ;;
	*) t_fail "build tree out of reach: $(cat "$WORK/err")" ;; esac

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
