/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Addresses (RTM_GETADDR dump, IPv4 and IPv6 in one request). The order is
 * the kernel's per-device list order, which source selection depends on. */
#include "config.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"

static const struct nl_policy addr_policy[IFA_MAX + 1] = {
	[IFA_ADDRESS] = { NL_A_ADDR, 0, "IFA_ADDRESS" },
	[IFA_LOCAL] = { NL_A_ADDR, 0, "IFA_LOCAL" },
	[IFA_FLAGS] = { NL_A_U32, 0, "IFA_FLAGS" },
};

int rtnl_parse_addr(const struct nlmsghdr *nlh, struct route_state *st)
{
	const struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct route_addr a = { 0 };
	struct cg_addr address = { 0 };
	int r;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*ifa) && ifa->ifa_family != AF_INET &&
	    ifa->ifa_family != AF_INET6)
		return 0;
	r = nl_parse(nlh, sizeof(*ifa), ifa->ifa_family, addr_policy, IFA_MAX, tb);
	if (r < 0)
		return r;
	if (!tb[IFA_ADDRESS] && !tb[IFA_LOCAL]) {
		log_error("malformed RTM_NEWADDR message from the kernel: no address on link %u",
			  ifa->ifa_index);
		return -EBADMSG;
	}
	if (ifa->ifa_prefixlen > addr_family_bits(ifa->ifa_family)) {
		log_error("malformed RTM_NEWADDR message from the kernel: prefix length %u",
			  ifa->ifa_prefixlen);
		return -EBADMSG;
	}
	a.family = ifa->ifa_family;
	a.ifindex = (int)ifa->ifa_index;
	a.prefixlen = ifa->ifa_prefixlen;
	a.scope = ifa->ifa_scope;
	a.flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	if (tb[IFA_ADDRESS])
		nl_attr_get_addr(tb[IFA_ADDRESS], a.family, &address);
	if (tb[IFA_LOCAL]) {
		nl_attr_get_addr(tb[IFA_LOCAL], a.family, &a.local);
		if (tb[IFA_ADDRESS] && !addr_equal(&address, &a.local))
			a.peer = address;
	} else {
		a.local = address;
	}
	route_state_add_addr(st, &a);
	return 0;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	return rtnl_parse_addr(nlh, data);
}

static void addr_reset(void *data)
{
	struct route_state *st = data;
	st->n_addrs = 0;
}

int rtnl_dump_addrs(struct nl_sock *s, struct route_state *st)
{
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	int r;

	ifa->ifa_family = AF_UNSPEC;
	r = nl_dump(s, nlh, addr_cb, addr_reset, st);
	if (r < 0)
		return log_error_errno(r, "Failed to dump the addresses (RTM_GETADDR)");
	return 0;
}
