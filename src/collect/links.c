/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Links (RTM_GETLINK dump): name, index, type, state, flags, master, group,
 * kind, and the per-device IPv4/IPv6 sysctls that change routing. */
#include "config.h"

#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"

/* From <linux/if.h>, which cannot be mixed with <net/if.h>. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif
#define CG_IF_OPER_UNKNOWN 0

static const struct nl_policy link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { NL_A_STRING, 0, "IFLA_IFNAME" },
	[IFLA_MASTER] = { NL_A_U32, 0, "IFLA_MASTER" },
	[IFLA_GROUP] = { NL_A_U32, 0, "IFLA_GROUP" },
	[IFLA_OPERSTATE] = { NL_A_U8, 0, "IFLA_OPERSTATE" },
	[IFLA_CARRIER] = { NL_A_U8, 0, "IFLA_CARRIER" },
	[IFLA_LINKINFO] = { NL_A_NESTED, 0, "IFLA_LINKINFO" },
	[IFLA_AF_SPEC] = { NL_A_NESTED, 0, "IFLA_AF_SPEC" },
};

static const struct nl_policy linkinfo_policy[IFLA_INFO_MAX + 1] = {
	[IFLA_INFO_KIND] = { NL_A_STRING, 0, "IFLA_INFO_KIND" },
};

#define AF_SPEC_MAX AF_INET6
static const struct nl_policy af_spec_policy[AF_SPEC_MAX + 1] = {
	[AF_INET] = { NL_A_NESTED, 0, "IFLA_AF_SPEC/AF_INET" },
	[AF_INET6] = { NL_A_NESTED, 0, "IFLA_AF_SPEC/AF_INET6" },
};

static const struct nl_policy inet_policy[IFLA_INET_MAX + 1] = {
	[IFLA_INET_CONF] = { NL_A_BINARY, 4, "IFLA_INET_CONF" },
};

static const struct nl_policy inet6_policy[IFLA_INET6_MAX + 1] = {
	[IFLA_INET6_CONF] = { NL_A_BINARY, 4, "IFLA_INET6_CONF" },
};

/* IFLA_INET_CONF is indexed by IPV4_DEVCONF_* - 1, IFLA_INET6_CONF by DEVCONF_*. */
static int32_t conf_get(const struct nlattr *a, unsigned index)
{
	int32_t v;

	if (!a || (index + 1) * sizeof(int32_t) > mnl_attr_get_payload_len(a))
		return -1;
	memcpy(&v, (const char *)mnl_attr_get_payload(a) + index * sizeof(int32_t), sizeof(v));
	return v;
}

static int link_parse_inet(const struct nlattr *nest, struct route_link *l)
{
	const struct nlattr *tb[IFLA_INET_MAX + 1];
	const struct nlattr *c;
	int r = nl_parse_nested(nest, RTM_NEWLINK, AF_UNSPEC, inet_policy, IFLA_INET_MAX, tb);

	if (r < 0)
		return r;
	c = tb[IFLA_INET_CONF];
	l->has_inet = c != NULL;
	l->conf.forwarding = conf_get(c, IPV4_DEVCONF_FORWARDING - 1);
	l->conf.rp_filter = conf_get(c, IPV4_DEVCONF_RP_FILTER - 1);
	l->conf.accept_local = conf_get(c, IPV4_DEVCONF_ACCEPT_LOCAL - 1);
	l->conf.src_valid_mark = conf_get(c, IPV4_DEVCONF_SRC_VMARK - 1);
	l->conf.send_redirects = conf_get(c, IPV4_DEVCONF_SEND_REDIRECTS - 1);
	l->conf.route_localnet = conf_get(c, IPV4_DEVCONF_ROUTE_LOCALNET - 1);
	l->conf.ignore_routes_with_linkdown = conf_get(c, IPV4_DEVCONF_IGNORE_ROUTES_WITH_LINKDOWN - 1);
	l->conf.bc_forwarding = conf_get(c, IPV4_DEVCONF_BC_FORWARDING - 1);
	return 0;
}

static int link_parse_inet6(const struct nlattr *nest, struct route_link *l)
{
	const struct nlattr *tb[IFLA_INET6_MAX + 1];
	const struct nlattr *c;
	int r = nl_parse_nested(nest, RTM_NEWLINK, AF_UNSPEC, inet6_policy, IFLA_INET6_MAX, tb);

	if (r < 0)
		return r;
	c = tb[IFLA_INET6_CONF];
	l->has_inet6 = c != NULL;
	l->conf.forwarding6 = conf_get(c, DEVCONF_FORWARDING);
	l->conf.use_tempaddr = conf_get(c, DEVCONF_USE_TEMPADDR);
	l->conf.use_oif_addrs_only = conf_get(c, DEVCONF_USE_OIF_ADDRS_ONLY);
	l->conf.ignore_routes_with_linkdown6 = conf_get(c, DEVCONF_IGNORE_ROUTES_WITH_LINKDOWN);
	l->conf.disable_ipv6 = conf_get(c, DEVCONF_DISABLE_IPV6);
	l->conf.rtr_probe_interval_ms = conf_get(c, DEVCONF_RTR_PROBE_INTERVAL);
	return 0;
}

static int link_parse_af_spec(const struct nlattr *nest, struct route_link *l)
{
	const struct nlattr *tb[AF_SPEC_MAX + 1];
	int r = nl_parse_nested(nest, RTM_NEWLINK, AF_UNSPEC, af_spec_policy, AF_SPEC_MAX, tb);

	if (r < 0)
		return r;
	if (tb[AF_INET] && (r = link_parse_inet(tb[AF_INET], l)) < 0)
		return r;
	if (tb[AF_INET6] && (r = link_parse_inet6(tb[AF_INET6], l)) < 0)
		return r;
	return 0;
}

int rtnl_parse_link(const struct nlmsghdr *nlh, struct route_state *st)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct route_link l;
	int r;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	r = nl_parse(nlh, sizeof(*ifi), AF_UNSPEC, link_policy, IFLA_MAX, tb);
	if (r < 0)
		return r;
	if (!tb[IFLA_IFNAME]) {
		log_error("malformed RTM_NEWLINK message from the kernel: link %d has no IFLA_IFNAME",
			  ifi->ifi_index);
		return -EBADMSG;
	}
	route_link_init(&l);
	l.ifindex = ifi->ifi_index;
	l.type = ifi->ifi_type;
	l.flags = ifi->ifi_flags;
	snprintf(l.name, sizeof(l.name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	l.master = tb[IFLA_MASTER] ? (int)mnl_attr_get_u32(tb[IFLA_MASTER]) : 0;
	l.group = tb[IFLA_GROUP] ? mnl_attr_get_u32(tb[IFLA_GROUP]) : 0;
	l.operstate = tb[IFLA_OPERSTATE] ? mnl_attr_get_u8(tb[IFLA_OPERSTATE]) : CG_IF_OPER_UNKNOWN;
	l.carrier = tb[IFLA_CARRIER] ? mnl_attr_get_u8(tb[IFLA_CARRIER]) != 0 :
				       (ifi->ifi_flags & IFF_LOWER_UP) != 0;
	if (tb[IFLA_LINKINFO]) {
		const struct nlattr *li[IFLA_INFO_MAX + 1];
		r = nl_parse_nested(tb[IFLA_LINKINFO], RTM_NEWLINK, AF_UNSPEC, linkinfo_policy,
				    IFLA_INFO_MAX, li);
		if (r < 0)
			return r;
		if (li[IFLA_INFO_KIND])
			snprintf(l.kind, sizeof(l.kind), "%s", mnl_attr_get_str(li[IFLA_INFO_KIND]));
	}
	if (tb[IFLA_AF_SPEC] && (r = link_parse_af_spec(tb[IFLA_AF_SPEC], &l)) < 0)
		return r;
	route_state_add_link(st, &l);
	return 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	return rtnl_parse_link(nlh, data);
}

static void link_reset(void *data)
{
	struct route_state *st = data;
	st->n_links = 0;
}

int rtnl_dump_links(struct nl_sock *s, struct route_state *st)
{
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	int r;

	ifi->ifi_family = AF_UNSPEC;
	r = nl_dump(s, nlh, link_cb, link_reset, st);
	if (r < 0)
		return log_error_errno(r, "Failed to dump the network links (RTM_GETLINK)");
	return 0;
}
