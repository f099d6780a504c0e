/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Routes of every table (RTM_GETROUTE dump with table RT_TABLE_UNSPEC,
 * IPv4 and IPv6 in one request): type, gateway, device, prefsrc, metric,
 * multipath nexthops and nexthop object references. */
#include "config.h"

#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"

#define ROUTE_MAX_PATHS 256

static const struct nl_policy route_policy[RTA_MAX + 1] = {
	[RTA_DST] = { NL_A_ADDR, 0, "RTA_DST" },
	[RTA_SRC] = { NL_A_ADDR, 0, "RTA_SRC" },
	[RTA_IIF] = { NL_A_U32, 0, "RTA_IIF" },
	[RTA_OIF] = { NL_A_U32, 0, "RTA_OIF" },
	[RTA_GATEWAY] = { NL_A_ADDR, 0, "RTA_GATEWAY" },
	[RTA_PRIORITY] = { NL_A_U32, 0, "RTA_PRIORITY" },
	[RTA_PREFSRC] = { NL_A_ADDR, 0, "RTA_PREFSRC" },
	[RTA_MULTIPATH] = { NL_A_BINARY, 0, "RTA_MULTIPATH" },
	[RTA_FLOW] = { NL_A_U32, 0, "RTA_FLOW" },
	[RTA_TABLE] = { NL_A_U32, 0, "RTA_TABLE" },
	[RTA_VIA] = { NL_A_BINARY, sizeof(struct rtvia), "RTA_VIA" },
	[RTA_PREF] = { NL_A_U8, 0, "RTA_PREF" },
	[RTA_NH_ID] = { NL_A_U32, 0, "RTA_NH_ID" },
};

static const struct nl_policy nexthop_policy[RTA_MAX + 1] = {
	[RTA_GATEWAY] = { NL_A_ADDR, 0, "RTA_MULTIPATH/RTA_GATEWAY" },
	[RTA_VIA] = { NL_A_BINARY, sizeof(struct rtvia), "RTA_MULTIPATH/RTA_VIA" },
	[RTA_FLOW] = { NL_A_U32, 0, "RTA_MULTIPATH/RTA_FLOW" },
};

static int route_malformed(const char *what)
{
	log_error("malformed RTM_NEWROUTE message from the kernel: %s", what);
	return -EBADMSG;
}

/* RTA_VIA: a gateway of another family (IPv4 route via an IPv6 nexthop). */
static int via_get(const struct nlattr *a, struct cg_addr *out)
{
	const struct rtvia *via = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a) - sizeof(*via);
	int family = via->rtvia_family;

	if ((family != AF_INET && family != AF_INET6) || len != (size_t)addr_family_len(family))
		return route_malformed("RTA_VIA has a bad family or length");
	*out = (struct cg_addr){ .family = family };
	memcpy(out->bytes, via->rtvia_addr, len);
	return 0;
}

static int gateway_get(const struct nlattr **tb, int family, struct cg_addr *out)
{
	*out = (struct cg_addr){ 0 };
	if (tb[RTA_GATEWAY])
		nl_attr_get_addr(tb[RTA_GATEWAY], family, out);
	else if (tb[RTA_VIA])
		return via_get(tb[RTA_VIA], out);
	return 0;
}

/* RTA_MULTIPATH is a run of struct rtnexthop, each followed by attributes. */
static int multipath_parse(const struct nlattr *mp, int family, struct route_path *paths,
			   size_t max_paths, size_t *n_paths)
{
	const char *p = mnl_attr_get_payload(mp);
	size_t len = mnl_attr_get_payload_len(mp), n = 0;

	while (len > 0) {
		const struct rtnexthop *rtnh = (const struct rtnexthop *)p;
		const struct nlattr *tb[RTA_MAX + 1];
		struct route_path path = { 0 };
		int r;

		if (len < sizeof(*rtnh) || rtnh->rtnh_len < sizeof(*rtnh) || rtnh->rtnh_len > len)
			return route_malformed("RTA_MULTIPATH holds a truncated nexthop");
		r = nl_parse_payload(RTNH_DATA(rtnh), rtnh->rtnh_len - RTNH_ALIGN(sizeof(*rtnh)),
				     RTM_NEWROUTE, family, nexthop_policy, RTA_MAX, tb);
		if (r < 0)
			return r;
		r = gateway_get(tb, family, &path.gateway);
		if (r < 0)
			return r;
		path.ifindex = rtnh->rtnh_ifindex;
		path.flags = rtnh->rtnh_flags;
		path.weight = (uint16_t)(rtnh->rtnh_hops + 1);
		if (n < max_paths)
			paths[n] = path;
		n++;
		size_t step = (size_t)RTNH_ALIGN(rtnh->rtnh_len);
		if (step > len)
			step = len;
		len -= step;
		p += step;
	}
	*n_paths = n < max_paths ? n : max_paths;
	return 0;
}

int rtnl_route_from_msg(const struct nlmsghdr *nlh, struct route_desc *e, struct route_path *paths,
			size_t max_paths, size_t *n_paths)
{
	const struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	int r;

	r = nl_parse(nlh, sizeof(*rtm), rtm->rtm_family, route_policy, RTA_MAX, tb);
	if (r < 0)
		return r;
	if (rtm->rtm_dst_len > addr_family_bits(rtm->rtm_family) ||
	    rtm->rtm_src_len > addr_family_bits(rtm->rtm_family))
		return route_malformed("prefix length beyond the address family");

	*e = (struct route_desc){
		.family = rtm->rtm_family,
		.table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table,
		.type = rtm->rtm_type,
		.protocol = rtm->rtm_protocol,
		.scope = rtm->rtm_scope,
		.tos = rtm->rtm_tos,
		.flags = rtm->rtm_flags,
		.metric = tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0,
		.nh_id = tb[RTA_NH_ID] ? mnl_attr_get_u32(tb[RTA_NH_ID]) : 0,
		.pref = tb[RTA_PREF] ? mnl_attr_get_u8(tb[RTA_PREF]) : 0,
		.realm = tb[RTA_FLOW] ? mnl_attr_get_u32(tb[RTA_FLOW]) : 0,
	};
	e->dst.addr.family = e->family;
	e->dst.len = rtm->rtm_dst_len;
	if (tb[RTA_DST])
		nl_attr_get_addr(tb[RTA_DST], e->family, &e->dst.addr);
	else if (rtm->rtm_dst_len)
		return route_malformed("prefix length without RTA_DST");
	e->src.addr.family = e->family;
	e->src.len = rtm->rtm_src_len;
	if (tb[RTA_SRC])
		nl_attr_get_addr(tb[RTA_SRC], e->family, &e->src.addr);
	if (tb[RTA_PREFSRC])
		nl_attr_get_addr(tb[RTA_PREFSRC], e->family, &e->prefsrc);

	*n_paths = 0;
	if (tb[RTA_MULTIPATH])
		return multipath_parse(tb[RTA_MULTIPATH], e->family, paths, max_paths, n_paths);
	if (tb[RTA_OIF] || tb[RTA_GATEWAY] || tb[RTA_VIA]) {
		struct route_path p = {
			.ifindex = tb[RTA_OIF] ? (int)mnl_attr_get_u32(tb[RTA_OIF]) : 0,
			/* A single path's flags travel in rtm_flags. */
			.flags = (uint8_t)(rtm->rtm_flags & 0xff),
			.weight = 1,
		};
		r = gateway_get(tb, e->family, &p.gateway);
		if (r < 0)
			return r;
		if (max_paths > 0) {
			paths[0] = p;
			*n_paths = 1;
		}
	}
	return 0;
}

int rtnl_parse_route(const struct nlmsghdr *nlh, struct route_state *st)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_path paths[ROUTE_MAX_PATHS];
	struct route_desc e;
	size_t n;
	int r;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*rtm) && rtm->rtm_family != AF_INET &&
	    rtm->rtm_family != AF_INET6)
		return 0; /* multicast routing, MPLS, ... */
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*rtm) && (rtm->rtm_flags & RTM_F_CLONED))
		return 0; /* cache entries are not routes */
	r = rtnl_route_from_msg(nlh, &e, paths, ROUTE_MAX_PATHS, &n);
	if (r < 0)
		return r;
	route_state_add_route(st, &e, paths, n);
	return 0;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	return rtnl_parse_route(nlh, data);
}

static void route_reset(void *data)
{
	struct route_state *st = data;
	st->n_routes = 0;
	st->n_paths = 0;
	st->n_route_extras = 0;
}

int rtnl_dump_routes(struct nl_sock *s, struct route_state *st)
{
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	int r;

	rtm->rtm_family = AF_UNSPEC;
	rtm->rtm_table = RT_TABLE_UNSPEC; /* every table */
	r = nl_dump(s, nlh, route_cb, route_reset, st);
	if (r < 0)
		return log_error_errno(r, "Failed to dump the routing tables (RTM_GETROUTE)");
	return 0;
}
