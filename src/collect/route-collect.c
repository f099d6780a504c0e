/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One pass over the kernel's routing state: one dump request per object
 * kind, each covering IPv4 and IPv6 and every table. */
#include "config.h"

#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"

int route_state_collect(struct route_state *st)
{
	_cleanup_nl_sock_ struct nl_sock *s = NULL;
	int r;

	route_state_free(st);
	r = nl_open(&s);
	if (r < 0)
		return r;
	if ((r = rtnl_dump_links(s, st)) < 0 || (r = rtnl_dump_addrs(s, st)) < 0 ||
	    (r = rtnl_dump_rules(s, st)) < 0 || (r = rtnl_dump_nexthops(s, st)) < 0 ||
	    (r = rtnl_dump_routes(s, st)) < 0)
		return r;
	route_sysctl_read(&st->sysctl);
	return route_state_finalize(st);
}
