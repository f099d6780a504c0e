/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parts of blind_collect_net() (blind-net.c), one file per source.
 * Each adds its blind spots to b, or a note when it cannot read what is
 * there; a facility the kernel does not have adds nothing. Private to
 * src/collect/. */
#pragma once

#include "cgnatcheck/hostfacts.h"

/* IPVS virtual services (generic netlink family "IPVS"). */
void blind_net_ipvs(struct blind_spots *b);
/* xfrm (IPsec) policies and the default policies (NETLINK_XFRM). */
void blind_net_xfrm(struct blind_spots *b);

/* "100.100.2.136", "[fd00::1]" with brackets when bracket and IPv6. */
const char *blind_net_addr(int family, const void *bytes, bool bracket, char *buf, size_t size);
