/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The "all" sysctls that combine with the per-device values the link dump
 * carries (rp_filter takes the maximum, accept_local the OR, ...). They are
 * not in any netlink dump, so read them from /proc/sys, which shows the
 * network namespace of the reader. */
#include "config.h"

#include <stdio.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"

static int32_t sysctl_get(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	int v;

	if (!f || fscanf(f, "%d", &v) != 1)
		return -1;
	return v;
}

void route_sysctl_read(struct route_sysctl *out)
{
	struct route_devconf *c = &out->all;

#define V4(name) sysctl_get("/proc/sys/net/ipv4/conf/all/" name)
#define V6(name) sysctl_get("/proc/sys/net/ipv6/conf/all/" name)
	c->forwarding = V4("forwarding");
	c->rp_filter = V4("rp_filter");
	c->accept_local = V4("accept_local");
	c->src_valid_mark = V4("src_valid_mark");
	c->send_redirects = V4("send_redirects");
	c->route_localnet = V4("route_localnet");
	c->ignore_routes_with_linkdown = V4("ignore_routes_with_linkdown");
	c->bc_forwarding = V4("bc_forwarding");
	c->forwarding6 = V6("forwarding");
	c->use_tempaddr = V6("use_tempaddr");
	c->use_oif_addrs_only = V6("use_oif_addrs_only");
	c->ignore_routes_with_linkdown6 = V6("ignore_routes_with_linkdown");
	c->disable_ipv6 = V6("disable_ipv6");
#undef V4
#undef V6
	out->fib_multipath_use_neigh = sysctl_get("/proc/sys/net/ipv4/fib_multipath_use_neigh");
}
