/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <cap-ng.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "cgnatcheck/caps.h"
#include "cgnatcheck/common.h"

/* NAME or a numeric id: the user's uid and primary gid. */
static int resolve_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	char *end;

	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		unsigned long v = strtoul(name, &end, 10);
		if (*name && !*end && v < (uid_t)-1) {
			pw = getpwuid((uid_t)v);
			if (!pw) {
				/* a bare id without a passwd entry: its own group */
				*uid = (uid_t)v;
				*gid = (gid_t)v;
				return 0;
			}
		}
	}
	if (!pw)
		return log_error("--user %s: no such user (getent passwd %s); create it, e.g. "
				 "useradd --system --no-create-home --shell /usr/sbin/nologin %s", name, name, name);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* The kernel's lists of iptables-legacy tables (/proc/net/ip_tables_names,
 * ip6_tables_names) are 0440 and owned by root's uid and gid; reading them
 * is the only way to learn which legacy tables exist without creating the
 * missing ones. A user that cannot read them keeps that one group as its
 * only supplementary group. Returns the group, or (gid_t)-1 when none is
 * needed (no legacy tables in this kernel, or readable anyway). */
static gid_t legacy_lists_group(uid_t uid, gid_t gid)
{
	static const char *const paths[] = { "/proc/net/ip_tables_names", "/proc/net/ip6_tables_names" };

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		struct stat st;
		if (stat(paths[i], &st) < 0)
			continue;
		if ((st.st_mode & S_IROTH) || (st.st_uid == uid && (st.st_mode & S_IRUSR)) ||
		    (st.st_gid == gid && (st.st_mode & S_IRGRP)))
			continue;
		if (st.st_mode & S_IRGRP)
			return st.st_gid;
	}
	return (gid_t)-1;
}

/* The binary actually running (what setcap must be given), or the name it
 * was started by when /proc is not there to say. */
static const char *self_exe(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	if (n <= 0)
		return program_invocation_name;
	buf[n] = '\0';
	return buf;
}

int caps_drop(bool need_net_admin, const char *user)
{
	bool admin, raw;
	uid_t uid = 0;
	gid_t gid = 0;

	/* look the user up while NSS can still read what it needs */
	if (user && resolve_user(user, &uid, &gid) < 0)
		return -EINVAL;
	/* already that user (and group): nothing to switch */
	if (user && geteuid() == uid && getegid() == gid)
		user = NULL;
	capng_get_caps_process();
	admin = capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN);
	raw = capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_RAW);
	if (need_net_admin && !admin) {
		char exe[PATH_MAX];
		return log_error("missing capability CAP_NET_ADMIN, which reading the firewall rules needs: "
				 "run as root (sudo %s ...) or grant it, e.g. "
				 "setcap cap_net_admin,cap_net_raw+ep %s", program_invocation_name, self_exe(exe, sizeof(exe)));
	}
	if (user && (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) ||
		     !capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID) ||
		     !capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP)))
		return log_error("--user %s needs to be started as root (CAP_SETUID, CAP_SETGID and CAP_SETPCAP): "
				 "run it as root, or leave --user out and start it as that user with the "
				 "capabilities granted", user);
	capng_clear(CAPNG_SELECT_BOTH);
	if (admin)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_NET_ADMIN);
	if (raw)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_NET_RAW);
	if (user) {
		/* the bounding set first, while CAP_SETPCAP is still effective;
		 * then the ids, keeping the two capabilities across the change
		 * (libcap-ng sets and clears PR_SET_KEEPCAPS around setresuid) */
		int r = capng_apply(CAPNG_SELECT_BOUNDS);
		if (r < 0)
			return log_error("failed to clear the capability bounding set (libcap-ng capng_apply: %d)", r);
		gid_t extra = need_net_admin ? legacy_lists_group(uid, gid) : (gid_t)-1;
		if (setgroups(extra == (gid_t)-1 ? 0 : 1, &extra) < 0)
			return log_error_errno(-errno, "failed to clear the supplementary groups for --user %s", user);
		if (extra != (gid_t)-1)
			log_info("--user %s: keeping supplementary group %u only, to read the kernel's lists of "
				 "iptables-legacy tables (/proc/net/ip_tables_names is readable by that group only)",
				 user, (unsigned)extra);
		r = capng_change_id((int)uid, (int)gid, CAPNG_CLEAR_AMBIENT);
		if (r < 0)
			return log_error("failed to switch to user %s (uid %u, gid %u) keeping CAP_NET_ADMIN "
					 "(libcap-ng capng_change_id: %d)", user, (unsigned)uid, (unsigned)gid, r);
	} else if (capng_apply(CAPNG_SELECT_BOTH) < 0 && capng_apply(CAPNG_SELECT_CAPS) < 0) {
		/* CAPNG_SELECT_BOTH also clears the bounding set, which needs
		 * CAP_SETPCAP: a start with file capabilities only has not got it */
		return log_error("failed to drop capabilities (libcap-ng capng_apply)");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return log_error_errno(-errno, "failed to set no-new-privs");
	caps_log_state();
	return 0;
}

void caps_log_state(void)
{
	static const char *const keys[] = { "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:",
					     "CapBnd:", "CapAmb:", "NoNewPrivs:" };
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[256], out[768] = "";
	size_t n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		bool want = false;
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
			want |= strncmp(line, keys[k], strlen(keys[k])) == 0;
		if (!want)
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (char *c = line; *c; c++)
			if (*c == '\t')
				*c = ' ';
		/* "Uid: 0 0 0 0" reads better without the trailing blank */
		for (size_t l = strlen(line); l && line[l - 1] == ' ';)
			line[--l] = '\0';
		n += (size_t)snprintf(out + n, n < sizeof(out) ? sizeof(out) - n : 0, "%s%s", n ? ", " : "", line);
	}
	log_debug("capabilities after start-up: %s", out);
}
