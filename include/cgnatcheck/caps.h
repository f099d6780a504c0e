/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Least privilege: an audit needs CAP_NET_ADMIN (netfilter dumps and
 * changes) and CAP_NET_RAW (libiptc talks to x_tables over a raw socket),
 * nothing else. */
#pragma once

#include <stdbool.h>

/* Drops every capability but CAP_NET_ADMIN and CAP_NET_RAW (those it holds),
 * clears the bounding set and sets no-new-privs. When need_net_admin is set
 * and CAP_NET_ADMIN is missing, fails with a message that says what to do.
 * user (--user NAME, or NULL): then switch to that user and its primary group
 * (no supplementary groups) keeping the two capabilities; needs root.
 * Returns 0 or a negative errno (logged). */
int caps_drop(bool need_net_admin, const char *user);

/* Logs (debug level) the process's Uid, Gid, Groups, CapInh, CapPrm, CapEff,
 * CapBnd, CapAmb and NoNewPrivs as /proc/self/status shows them. */
void caps_log_state(void);
