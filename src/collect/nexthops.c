/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Nexthop objects (RTM_GETNEXTHOP dump): routes that say "nhid N" resolve
 * through these. Kernels without nexthop objects answer EOPNOTSUPP; that is
 * not an error as long as no route references one. */
#include "config.h"

#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"

static const struct nl_policy nexthop_policy[NHA_MAX + 1] = {
	[NHA_ID] = { NL_A_U32, 0, "NHA_ID" },
	[NHA_GROUP] = { NL_A_BINARY, sizeof(struct nexthop_grp), "NHA_GROUP" },
	[NHA_GROUP_TYPE] = { NL_A_U16, 0, "NHA_GROUP_TYPE" },
	[NHA_BLACKHOLE] = { NL_A_FLAG, 0, "NHA_BLACKHOLE" },
	[NHA_OIF] = { NL_A_U32, 0, "NHA_OIF" },
	[NHA_GATEWAY] = { NL_A_ADDR, 0, "NHA_GATEWAY" },
	[NHA_FDB] = { NL_A_FLAG, 0, "NHA_FDB" },
};

static int nexthop_group_parse(const struct nlattr *a, struct route_nh_member **members, size_t *n)
{
	size_t len = mnl_attr_get_payload_len(a);
	const char *p = mnl_attr_get_payload(a);

	if (len % sizeof(struct nexthop_grp)) {
		log_error("malformed RTM_NEWNEXTHOP message from the kernel: NHA_GROUP length %zu", len);
		return -EBADMSG;
	}
	*n = len / sizeof(struct nexthop_grp);
	*members = xcalloc(*n, sizeof(**members));
	for (size_t i = 0; i < *n; i++) {
		struct nexthop_grp g;
		memcpy(&g, p + i * sizeof(g), sizeof(g));
		/* The byte after weight carries the high weight bits on kernels
		 * >= 6.12 (resvd1, weight_high in newer headers: read by offset). */
		uint8_t hi = (uint8_t)p[i * sizeof(g) + offsetof(struct nexthop_grp, weight) + 1];
		(*members)[i] = (struct route_nh_member){ g.id, (uint16_t)(g.weight + 1 + (hi << 8)) };
	}
	return 0;
}

int rtnl_parse_nexthop(const struct nlmsghdr *nlh, struct route_state *st)
{
	const struct nlattr *tb[NHA_MAX + 1];
	const struct nhmsg *nhm = mnl_nlmsg_get_payload(nlh);
	_cleanup_free_ struct route_nh_member *members = NULL;
	struct route_nhobj o = { 0 };
	size_t n = 0;
	int r;

	if (nlh->nlmsg_type != RTM_NEWNEXTHOP)
		return 0;
	r = nl_parse(nlh, sizeof(*nhm), nhm->nh_family, nexthop_policy, NHA_MAX, tb);
	if (r < 0)
		return r;
	if (!tb[NHA_ID]) {
		log_error("malformed RTM_NEWNEXTHOP message from the kernel: no NHA_ID");
		return -EBADMSG;
	}
	o.id = mnl_attr_get_u32(tb[NHA_ID]);
	o.family = nhm->nh_family;
	o.flags = (uint8_t)nhm->nh_flags;
	o.protocol = nhm->nh_protocol;
	o.blackhole = tb[NHA_BLACKHOLE] != NULL;
	o.fdb = tb[NHA_FDB] != NULL;
	o.ifindex = tb[NHA_OIF] ? (int)mnl_attr_get_u32(tb[NHA_OIF]) : 0;
	if (tb[NHA_GATEWAY])
		nl_attr_get_addr(tb[NHA_GATEWAY], nhm->nh_family, &o.gateway);
	if (tb[NHA_GROUP]) {
		r = nexthop_group_parse(tb[NHA_GROUP], &members, &n);
		if (r < 0)
			return r;
		o.group_type = tb[NHA_GROUP_TYPE] ? mnl_attr_get_u16(tb[NHA_GROUP_TYPE]) : NEXTHOP_GRP_TYPE_MPATH;
	}
	route_state_add_nhobj(st, &o, members, n);
	return 0;
}

static int nexthop_cb(const struct nlmsghdr *nlh, void *data)
{
	return rtnl_parse_nexthop(nlh, data);
}

static void nexthop_reset(void *data)
{
	struct route_state *st = data;
	st->n_nhobjs = 0;
	st->n_nh_members = 0;
}

int rtnl_dump_nexthops(struct nl_sock *s, struct route_state *st)
{
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETNEXTHOP, NLM_F_DUMP);
	struct nhmsg *nhm = mnl_nlmsg_put_extra_header(nlh, sizeof(*nhm));
	int r;

	nhm->nh_family = AF_UNSPEC;
	r = nl_dump(s, nlh, nexthop_cb, nexthop_reset, st);
	if (r == -EOPNOTSUPP || r == -EINVAL || r == -EAFNOSUPPORT) {
		nexthop_reset(st);
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to dump the nexthop objects (RTM_GETNEXTHOP)");
	return 0;
}
