/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IPv6 neighbours (RTM_GETNEIGH dump): while forwarding is off, IPv6 route
 * selection passes over gateways whose neighbour entry is FAILED
 * (RT6_LOOKUP_F_REACHABLE), so their state is part of the routing state. */
#include "config.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <unistd.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"

static const struct nl_policy neigh_policy[NDA_MAX + 1] = {
	[NDA_DST] = { NL_A_ADDR, 0, "NDA_DST" },
	[NDA_CACHEINFO] = { NL_A_BINARY, sizeof(struct nda_cacheinfo), "NDA_CACHEINFO" },
};

int rtnl_parse_neigh(const struct nlmsghdr *nlh, struct route_state *st)
{
	const struct nlattr *tb[NDA_MAX + 1];
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct route_neigh n = { 0 };
	int r;

	if (nlh->nlmsg_type != RTM_NEWNEIGH)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*ndm) && ndm->ndm_family != AF_INET6)
		return 0;
	r = nl_parse(nlh, sizeof(*ndm), ndm->ndm_family, neigh_policy, NDA_MAX, tb);
	if (r < 0)
		return r;
	if (!tb[NDA_DST])
		return 0; /* proxy and bridge entries carry no destination */
	n.family = ndm->ndm_family;
	n.ifindex = ndm->ndm_ifindex;
	n.state = ndm->ndm_state;
	nl_attr_get_addr(tb[NDA_DST], n.family, &n.addr);
	if (tb[NDA_CACHEINFO]) {
		struct nda_cacheinfo ci;
		long hz = sysconf(_SC_CLK_TCK);
		memcpy(&ci, mnl_attr_get_payload(tb[NDA_CACHEINFO]), sizeof(ci));
		n.updated_ms = (uint32_t)((uint64_t)ci.ndm_updated * 1000 / (uint64_t)(hz > 0 ? hz : 100));
	}
	route_state_add_neigh(st, &n);
	return 0;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	return rtnl_parse_neigh(nlh, data);
}

static void neigh_reset(void *data)
{
	struct route_state *st = data;
	st->n_neighs = 0;
}

int rtnl_dump_neighs(struct nl_sock *s, struct route_state *st)
{
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETNEIGH, NLM_F_DUMP);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	int r;

	ndm->ndm_family = AF_INET6;
	r = nl_dump(s, nlh, neigh_cb, neigh_reset, st);
	if (r == -EAFNOSUPPORT) /* IPv6 disabled */
		return 0;
	if (r < 0)
		return log_error_errno(r, "Failed to dump the IPv6 neighbours (RTM_GETNEIGH)");
	return 0;
}
