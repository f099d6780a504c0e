/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One pass over the kernel's routing state: one dump request per object
 * kind, each covering IPv4 and IPv6 and every table. */
#include "config.h"

#include <linux/rtnetlink.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"

static int probe_table_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	uint32_t *table = data;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return 0;
	*table = rtm->rtm_table;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
		if (mnl_attr_get_type(a) == RTA_TABLE && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			*table = mnl_attr_get_u32(a);
	return 0;
}

/* While no IPv4 rule was ever added or deleted, the kernel looks up local
 * and main as one merged table and reports table main for a local route.
 * Ask it where 127.0.0.1 is: main means the shortcut is in use. */
static int32_t probe_custom_rules4(struct nl_sock *s)
{
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	uint32_t table = 0, lo = htonl(INADDR_LOOPBACK);

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_flags = RTM_F_LOOKUP_TABLE;
	mnl_attr_put(nlh, RTA_DST, sizeof(lo), &lo);
	if (nl_call(s, nlh, probe_table_cb, &table) < 0)
		return -1;
	return table == RT_TABLE_MAIN ? 0 : table == RT_TABLE_LOCAL ? 1 : -1;
}

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
	    (r = rtnl_dump_routes(s, st)) < 0 || (r = rtnl_dump_neighs(s, st)) < 0)
		return r;
	route_sysctl_read(&st->sysctl);
	st->sysctl.fib4_custom_rules = probe_custom_rules4(s);
	return route_state_finalize(st);
}
