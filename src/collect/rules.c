/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Policy routing rules (RTM_GETRULE dump, IPv4 and IPv6 in one request), in
 * the kernel's list order: priority, then the order they were added. */
#include "config.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"

/* Attributes newer than the uapi headers this builds against. */
enum {
	CG_FRA_DSCP = FRA_DPORT_RANGE + 1,  /* 25, Linux 6.12 */
	CG_FRA_FLOWLABEL,
	CG_FRA_FLOWLABEL_MASK,
	CG_FRA_SPORT_MASK,                  /* Linux 6.15 */
	CG_FRA_DPORT_MASK,
	CG_FRA_DSCP_MASK,
	CG_FRA_MAX = CG_FRA_DSCP_MASK,
};

static const struct nl_policy rule_policy[CG_FRA_MAX + 1] = {
	[FRA_DST] = { NL_A_ADDR, 0, "FRA_DST" },
	[FRA_SRC] = { NL_A_ADDR, 0, "FRA_SRC" },
	[FRA_IIFNAME] = { NL_A_STRING, 0, "FRA_IIFNAME" },
	[FRA_OIFNAME] = { NL_A_STRING, 0, "FRA_OIFNAME" },
	[FRA_GOTO] = { NL_A_U32, 0, "FRA_GOTO" },
	[FRA_PRIORITY] = { NL_A_U32, 0, "FRA_PRIORITY" },
	[FRA_FWMARK] = { NL_A_U32, 0, "FRA_FWMARK" },
	[FRA_FWMASK] = { NL_A_U32, 0, "FRA_FWMASK" },
	[FRA_FLOW] = { NL_A_U32, 0, "FRA_FLOW" },
	[FRA_TUN_ID] = { NL_A_U64, 0, "FRA_TUN_ID" },
	[FRA_SUPPRESS_IFGROUP] = { NL_A_U32, 0, "FRA_SUPPRESS_IFGROUP" },
	[FRA_SUPPRESS_PREFIXLEN] = { NL_A_U32, 0, "FRA_SUPPRESS_PREFIXLEN" },
	[FRA_TABLE] = { NL_A_U32, 0, "FRA_TABLE" },
	[FRA_L3MDEV] = { NL_A_U8, 0, "FRA_L3MDEV" },
	[FRA_UID_RANGE] = { NL_A_BINARY, sizeof(struct fib_rule_uid_range), "FRA_UID_RANGE" },
	[FRA_PROTOCOL] = { NL_A_U8, 0, "FRA_PROTOCOL" },
	[FRA_IP_PROTO] = { NL_A_U8, 0, "FRA_IP_PROTO" },
	[FRA_SPORT_RANGE] = { NL_A_BINARY, sizeof(struct fib_rule_port_range), "FRA_SPORT_RANGE" },
	[FRA_DPORT_RANGE] = { NL_A_BINARY, sizeof(struct fib_rule_port_range), "FRA_DPORT_RANGE" },
	[CG_FRA_DSCP] = { NL_A_U8, 0, "FRA_DSCP" },
	[CG_FRA_FLOWLABEL] = { NL_A_U32, 0, "FRA_FLOWLABEL" },
	[CG_FRA_FLOWLABEL_MASK] = { NL_A_U32, 0, "FRA_FLOWLABEL_MASK" },
	[CG_FRA_SPORT_MASK] = { NL_A_U16, 0, "FRA_SPORT_MASK" },
	[CG_FRA_DPORT_MASK] = { NL_A_U16, 0, "FRA_DPORT_MASK" },
	[CG_FRA_DSCP_MASK] = { NL_A_U8, 0, "FRA_DSCP_MASK" },
};

static struct route_port_range port_range_get(const struct nlattr *a)
{
	struct fib_rule_port_range pr;

	memcpy(&pr, mnl_attr_get_payload(a), sizeof(pr));
	return (struct route_port_range){ pr.start, pr.end };
}

static void rule_parse_selectors(const struct nlattr **tb, const struct fib_rule_hdr *frh,
				 struct route_rule *r)
{
	if (frh->src_len) {
		nl_attr_get_addr(tb[FRA_SRC], frh->family, &r->src.addr);
		r->src.len = frh->src_len;
	}
	if (frh->dst_len) {
		nl_attr_get_addr(tb[FRA_DST], frh->family, &r->dst.addr);
		r->dst.len = frh->dst_len;
	}
	if (tb[FRA_IIFNAME])
		snprintf(r->iif, sizeof(r->iif), "%s", mnl_attr_get_str(tb[FRA_IIFNAME]));
	if (tb[FRA_OIFNAME])
		snprintf(r->oif, sizeof(r->oif), "%s", mnl_attr_get_str(tb[FRA_OIFNAME]));
	if (tb[FRA_FWMARK])
		r->fwmark = mnl_attr_get_u32(tb[FRA_FWMARK]);
	/* Without a mask a non-zero mark compares all bits (the kernel's
	 * compatibility rule; its dumps always carry the mask anyway). */
	r->fwmask = tb[FRA_FWMASK] ? mnl_attr_get_u32(tb[FRA_FWMASK]) : (r->fwmark ? UINT32_MAX : 0);
	if (tb[FRA_UID_RANGE]) {
		struct fib_rule_uid_range u;
		memcpy(&u, mnl_attr_get_payload(tb[FRA_UID_RANGE]), sizeof(u));
		r->uid_set = true;
		r->uid_start = u.start;
		r->uid_end = u.end;
	}
	if (tb[FRA_IP_PROTO])
		r->ipproto = mnl_attr_get_u8(tb[FRA_IP_PROTO]);
	if (tb[FRA_SPORT_RANGE])
		r->sport = port_range_get(tb[FRA_SPORT_RANGE]);
	if (tb[FRA_DPORT_RANGE])
		r->dport = port_range_get(tb[FRA_DPORT_RANGE]);
	if (tb[CG_FRA_SPORT_MASK])
		r->sport_mask = mnl_attr_get_u16(tb[CG_FRA_SPORT_MASK]);
	if (tb[CG_FRA_DPORT_MASK])
		r->dport_mask = mnl_attr_get_u16(tb[CG_FRA_DPORT_MASK]);
	r->tos = frh->tos;
	if (tb[CG_FRA_DSCP]) {
		r->dscp_set = true;
		r->dscp = mnl_attr_get_u8(tb[CG_FRA_DSCP]);
		r->dscp_mask = tb[CG_FRA_DSCP_MASK] ? mnl_attr_get_u8(tb[CG_FRA_DSCP_MASK]) : 0x3f;
	}
	if (tb[CG_FRA_FLOWLABEL]) {
		r->flowlabel_set = true;
		r->flowlabel = ntohl(mnl_attr_get_u32(tb[CG_FRA_FLOWLABEL]));
		r->flowlabel_mask = tb[CG_FRA_FLOWLABEL_MASK] ?
					    ntohl(mnl_attr_get_u32(tb[CG_FRA_FLOWLABEL_MASK])) : 0xfffff;
	}
	if (tb[FRA_L3MDEV])
		r->l3mdev = mnl_attr_get_u8(tb[FRA_L3MDEV]) != 0;
	if (tb[FRA_TUN_ID])
		r->tun_id = mnl_attr_get_u64(tb[FRA_TUN_ID]);
}

int rtnl_parse_rule(const struct nlmsghdr *nlh, struct route_state *st)
{
	const struct nlattr *tb[CG_FRA_MAX + 1];
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	struct route_rule r;
	int e;

	if (nlh->nlmsg_type != RTM_NEWRULE)
		return 0;
	/* The AF_UNSPEC dump also returns the multicast routing families. */
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*frh) && frh->family != AF_INET &&
	    frh->family != AF_INET6)
		return 0;
	e = nl_parse(nlh, sizeof(*frh), frh->family, rule_policy, CG_FRA_MAX, tb);
	if (e < 0)
		return e;
	if ((frh->src_len && !tb[FRA_SRC]) || (frh->dst_len && !tb[FRA_DST]) ||
	    frh->src_len > addr_family_bits(frh->family) || frh->dst_len > addr_family_bits(frh->family)) {
		log_error("malformed RTM_NEWRULE message from the kernel: bad from/to prefix");
		return -EBADMSG;
	}
	route_rule_init(&r);
	r.family = frh->family;
	r.action = frh->action;
	r.flags = frh->flags;
	r.table = tb[FRA_TABLE] ? mnl_attr_get_u32(tb[FRA_TABLE]) : frh->table;
	r.priority = tb[FRA_PRIORITY] ? mnl_attr_get_u32(tb[FRA_PRIORITY]) : 0;
	r.goto_target = tb[FRA_GOTO] ? mnl_attr_get_u32(tb[FRA_GOTO]) : 0;
	r.suppress_prefixlen = tb[FRA_SUPPRESS_PREFIXLEN] ?
				       (int32_t)mnl_attr_get_u32(tb[FRA_SUPPRESS_PREFIXLEN]) : -1;
	r.suppress_ifgroup = tb[FRA_SUPPRESS_IFGROUP] ?
				     (int32_t)mnl_attr_get_u32(tb[FRA_SUPPRESS_IFGROUP]) : -1;
	r.realm = tb[FRA_FLOW] ? mnl_attr_get_u32(tb[FRA_FLOW]) : 0;
	r.protocol = tb[FRA_PROTOCOL] ? mnl_attr_get_u8(tb[FRA_PROTOCOL]) : 0;
	rule_parse_selectors(tb, frh, &r);
	route_state_add_rule(st, &r);
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	return rtnl_parse_rule(nlh, data);
}

static void rule_reset(void *data)
{
	struct route_state *st = data;
	st->n_rules = 0;
}

int rtnl_dump_rules(struct nl_sock *s, struct route_state *st)
{
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETRULE, NLM_F_DUMP);
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	int r;

	frh->family = AF_UNSPEC;
	r = nl_dump(s, nlh, rule_cb, rule_reset, st);
	if (r < 0)
		return log_error_errno(r, "Failed to dump the routing rules (RTM_GETRULE)");
	return 0;
}
