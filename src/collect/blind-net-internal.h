/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parts of blind_collect_net() (blind-net.c), one file per source.
 * Each adds its blind spots to b, or a note when it cannot read what is
 * there; a facility the kernel does not have adds nothing. Private to
 * src/collect/. */
#pragma once

#include <arpa/inet.h>
#include <stdio.h>

#include "cgnatcheck/hostfacts.h"

/* IPVS virtual services (generic netlink family "IPVS"). */
void blind_net_ipvs(struct blind_spots *b);
/* xfrm (IPsec) policies and the default policies (NETLINK_XFRM). */
void blind_net_xfrm(struct blind_spots *b);

/* "100.100.2.136", "[fd00::1]" with brackets when bracket and IPv6. (Here,
 * not in blind-net.c: the files of a folder call no file that calls them.) */
static inline const char *blind_net_addr(int family, const void *bytes, bool bracket, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, bytes, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, size, bracket && family == AF_INET6 ? "[%s]" : "%s", a);
	return buf;
}
