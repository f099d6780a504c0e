/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <cap-ng.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>

#include "cgnatcheck/caps.h"
#include "cgnatcheck/common.h"

int caps_drop(bool need_net_admin)
{
	bool admin, raw;

	capng_get_caps_process();
	admin = capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN);
	raw = capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_RAW);
	if (need_net_admin && !admin)
		return log_error("missing capability CAP_NET_ADMIN, which reading the firewall rules needs: "
				 "run as root (sudo cgnatcheck ...) or grant it, e.g. "
				 "setcap cap_net_admin,cap_net_raw+ep /usr/sbin/cgnatcheck");
	capng_clear(CAPNG_SELECT_BOTH);
	if (admin)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_NET_ADMIN);
	if (raw)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_NET_RAW);
	/* CAPNG_SELECT_BOTH also clears the bounding set, which needs
	 * CAP_SETPCAP: a start with file capabilities only has not got it */
	if (capng_apply(CAPNG_SELECT_BOTH) < 0 && capng_apply(CAPNG_SELECT_CAPS) < 0)
		return log_error("failed to drop capabilities (libcap-ng capng_apply)");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return log_error_errno(-errno, "failed to set no-new-privs");
	caps_log_state();
	return 0;
}

void caps_log_state(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[256], out[512] = "";
	size_t n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "CapEff:", 7) && strncmp(line, "CapPrm:", 7) && strncmp(line, "CapBnd:", 7) &&
		    strncmp(line, "CapInh:", 7) && strncmp(line, "CapAmb:", 7) && strncmp(line, "NoNewPrivs:", 11))
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (char *c = line; *c; c++)
			if (*c == '\t')
				*c = ' ';
		n += (size_t)snprintf(out + n, n < sizeof(out) ? sizeof(out) - n : 0, "%s%s", n ? ", " : "", line);
	}
	log_debug("capabilities after start-up: %s", out);
}
