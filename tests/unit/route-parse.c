/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The collector's message parsing on crafted netlink buffers: well-formed
 * messages become state, unknown attributes are ignored, and malformed ones
 * are rejected with an error that names the message and the attribute. */
#include "config.h"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <unistd.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"
#include "../lib/test.h"

static char buf[8192];
static char errors[4096];

/* A new message of the given type in buf, its nlh in *nlh; returns its
 * family header (hdr_len bytes, zeroed) for the caller to fill in. */
static void *new_msg(uint16_t type, size_t hdr_len, struct nlmsghdr **nlh)
{
	memset(buf, 0, sizeof(buf));
	*nlh = mnl_nlmsg_put_header(buf);
	(*nlh)->nlmsg_type = type;
	return mnl_nlmsg_put_extra_header(*nlh, hdr_len);
}

static struct nlmsghdr *route_msg(uint8_t family, uint8_t dst_len, uint8_t table, uint8_t type)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm = new_msg(RTM_NEWROUTE, sizeof(*rtm), &nlh);

	rtm->rtm_family = family;
	rtm->rtm_dst_len = dst_len;
	rtm->rtm_table = table;
	rtm->rtm_type = type;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_protocol = RTPROT_STATIC;
	return nlh;
}

/* Runs fn with stderr captured into errors[]. */
static int capture(int (*fn)(const struct nlmsghdr *, struct route_state *), const struct nlmsghdr *nlh,
		   struct route_state *st)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO), r;
	size_t n;

	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	r = fn(nlh, st);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(errors, 1, sizeof(errors) - 1, f);
	errors[n] = '\0';
	fclose(f);
	return r;
}

static void test_route_ok(void)
{
	_cleanup_route_state_ struct route_state st;
	struct nlmsghdr *nlh = route_msg(AF_INET, 16, RT_TABLE_COMPAT, RTN_UNICAST);
	uint32_t dst = htonl(0x64640000), gw = htonl(0xac180ffd);
	struct cg_prefix pfx;
	char a[CG_ADDRSTRLEN];

	route_state_init(&st);
	mnl_attr_put(nlh, RTA_DST, 4, &dst);
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	mnl_attr_put(nlh, RTA_GATEWAY, 4, &gw);
	mnl_attr_put_u32(nlh, RTA_TABLE, 52);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 100);
	mnl_attr_put_u32(nlh, 200, 0xdead); /* from a future kernel: ignored */
	mnl_attr_put_u8(nlh, RTA_PREF, 0);
	CHECK(capture(rtnl_parse_route, nlh, &st) == 0);
	CHECK_STR(errors, "");
	CHECK(st.n_routes == 1);
	CHECK(st.routes[0].table == 52 && st.routes[0].metric == 100 && st.routes[0].dst_len == 16);
	pfx = route_entry_dst(&st.routes[0]);
	CHECK_STR(prefix_to_string(&pfx, a), "100.100.0.0/16");
	CHECK(st.routes[0].n_paths == 1 && route_entry_paths(&st, &st.routes[0])[0].ifindex == 3);
	CHECK_STR(addr_to_string(&route_entry_paths(&st, &st.routes[0])[0].gateway, a), "172.24.15.253");
}

static void test_route_malformed(void)
{
	_cleanup_route_state_ struct route_state st;
	struct nlmsghdr *nlh;
	uint8_t gw6[16] = { 0x20, 0x01 };
	uint16_t two = 3;
	struct nlattr *a;

	route_state_init(&st);

	/* RTA_OIF of two bytes */
	nlh = route_msg(AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
	mnl_attr_put(nlh, RTA_OIF, sizeof(two), &two);
	CHECK(capture(rtnl_parse_route, nlh, &st) == -EBADMSG);
	CHECK(strstr(errors, "RTM_NEWROUTE") && strstr(errors, "RTA_OIF"));

	/* an IPv6-sized gateway in an IPv4 route */
	nlh = route_msg(AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw6), gw6);
	CHECK(capture(rtnl_parse_route, nlh, &st) == -EBADMSG);
	CHECK(strstr(errors, "RTA_GATEWAY") && strstr(errors, "address length"));

	/* an attribute whose length runs past the message */
	nlh = route_msg(AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	a = (struct nlattr *)((char *)nlh + nlh->nlmsg_len - MNL_ALIGN(sizeof(struct nlattr) + 4));
	a->nla_len = 64;
	CHECK(capture(rtnl_parse_route, nlh, &st) == -EBADMSG);
	CHECK(strstr(errors, "RTM_NEWROUTE") && strstr(errors, "overruns"));

	/* a header cut short */
	nlh = route_msg(AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
	nlh->nlmsg_len = NLMSG_LENGTH(4);
	CHECK(capture(rtnl_parse_route, nlh, &st) == -EBADMSG);
	CHECK(strstr(errors, "RTM_NEWROUTE") && strstr(errors, "header"));

	/* a prefix length without RTA_DST */
	nlh = route_msg(AF_INET, 24, RT_TABLE_MAIN, RTN_UNICAST);
	CHECK(capture(rtnl_parse_route, nlh, &st) == -EBADMSG);
	CHECK(strstr(errors, "RTA_DST") != NULL);

	/* a multipath run with a truncated nexthop */
	nlh = route_msg(AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
	{
		struct rtnexthop rtnh = { .rtnh_len = 40, .rtnh_ifindex = 2 };
		mnl_attr_put(nlh, RTA_MULTIPATH, sizeof(rtnh), &rtnh);
	}
	CHECK(capture(rtnl_parse_route, nlh, &st) == -EBADMSG);
	CHECK(strstr(errors, "RTA_MULTIPATH") != NULL);

	CHECK(st.n_routes == 0);
}

static void test_multipath_ok(void)
{
	_cleanup_route_state_ struct route_state st;
	struct nlmsghdr *nlh = route_msg(AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST);
	char mp[64] = { 0 };
	struct rtnexthop *h1 = (struct rtnexthop *)mp, *h2;
	struct nlattr *gw;
	uint32_t g1 = htonl(0x0a000001), g2 = htonl(0x0a000002);

	route_state_init(&st);
	h1->rtnh_len = RTNH_ALIGN(sizeof(*h1)) + 8;
	h1->rtnh_ifindex = 2;
	h1->rtnh_hops = 1;
	gw = (struct nlattr *)RTNH_DATA(h1);
	gw->nla_type = RTA_GATEWAY, gw->nla_len = 8;
	memcpy(gw + 1, &g1, 4);
	h2 = (struct rtnexthop *)(mp + h1->rtnh_len);
	h2->rtnh_len = RTNH_ALIGN(sizeof(*h2)) + 8;
	h2->rtnh_ifindex = 4;
	h2->rtnh_flags = RTNH_F_DEAD;
	gw = (struct nlattr *)RTNH_DATA(h2);
	gw->nla_type = RTA_GATEWAY, gw->nla_len = 8;
	memcpy(gw + 1, &g2, 4);
	mnl_attr_put(nlh, RTA_MULTIPATH, h1->rtnh_len + h2->rtnh_len, mp);
	CHECK(capture(rtnl_parse_route, nlh, &st) == 0);
	CHECK(st.n_routes == 1 && st.routes[0].n_paths == 2);
	CHECK(st.paths[0].ifindex == 2 && st.paths[0].weight == 2);
	CHECK(st.paths[1].ifindex == 4 && (st.paths[1].flags & RTNH_F_DEAD));
}

static struct nlmsghdr *rule_msg(uint8_t family, uint8_t action)
{
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh = new_msg(RTM_NEWRULE, sizeof(*frh), &nlh);

	frh->family = family;
	frh->action = action;
	return nlh;
}

static void test_rules(void)
{
	_cleanup_route_state_ struct route_state st;
	struct nlmsghdr *nlh;
	struct fib_rule_port_range pr = { 53, 53 };
	uint32_t short_range = 7;

	route_state_init(&st);
	nlh = rule_msg(AF_INET, FR_ACT_TO_TBL);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, 5270);
	mnl_attr_put_u32(nlh, FRA_TABLE, 52);
	mnl_attr_put_u32(nlh, FRA_FWMARK, 0x80000);
	mnl_attr_put_u32(nlh, FRA_FWMASK, 0xff0000);
	mnl_attr_put_strz(nlh, FRA_IIFNAME, "eth0");
	mnl_attr_put(nlh, FRA_DPORT_RANGE, sizeof(pr), &pr);
	mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, 0);
	mnl_attr_put_u8(nlh, FRA_DPORT_RANGE + 1 /* FRA_DSCP, Linux 6.12 */, 10);
	mnl_attr_put_u32(nlh, 60, 1); /* unknown: ignored */
	CHECK(capture(rtnl_parse_rule, nlh, &st) == 0);
	CHECK_STR(errors, "");
	CHECK(st.n_rules == 1);
	if (st.n_rules != 1)
		return;
	CHECK(st.rules[0].priority == 5270 && st.rules[0].table == 52);
	CHECK(st.rules[0].fwmark == 0x80000 && st.rules[0].fwmask == 0xff0000);
	CHECK_STR(st.rules[0].iif, "eth0");
	CHECK(st.rules[0].dport.start == 53 && st.rules[0].dport.end == 53);
	CHECK(st.rules[0].suppress_prefixlen == 0 && st.rules[0].suppress_ifgroup == -1);
	CHECK(st.rules[0].dscp_set && st.rules[0].dscp == 10 && st.rules[0].dscp_mask == 0x3f);

	/* a uid range of 4 bytes */
	nlh = rule_msg(AF_INET, FR_ACT_TO_TBL);
	mnl_attr_put(nlh, FRA_UID_RANGE, sizeof(short_range), &short_range);
	CHECK(capture(rtnl_parse_rule, nlh, &st) == -EBADMSG);
	CHECK(strstr(errors, "RTM_NEWRULE") && strstr(errors, "FRA_UID_RANGE"));

	/* an interface name without its terminating NUL */
	nlh = rule_msg(AF_INET6, FR_ACT_TO_TBL);
	mnl_attr_put(nlh, FRA_OIFNAME, 4, "eth0");
	CHECK(capture(rtnl_parse_rule, nlh, &st) == -EBADMSG);
	CHECK(strstr(errors, "FRA_OIFNAME") != NULL);

	/* multicast routing rules are not ours: skipped quietly */
	nlh = rule_msg(128 /* RTNL_FAMILY_IPMR */, FR_ACT_TO_TBL);
	CHECK(capture(rtnl_parse_rule, nlh, &st) == 0);
	CHECK(st.n_rules == 1);
}

static void test_link(void)
{
	_cleanup_route_state_ struct route_state st;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *af, *inet, *info;
	int32_t conf[IPV4_DEVCONF_MAX] = { 0 };

	route_state_init(&st);
	ifi = new_msg(RTM_NEWLINK, sizeof(*ifi), &nlh);
	ifi->ifi_index = 7;
	ifi->ifi_flags = 1;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "tailscale0");
	mnl_attr_put_u32(nlh, IFLA_GROUP, 3);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "tun");
	mnl_attr_nest_end(nlh, info);
	af = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	inet = mnl_attr_nest_start(nlh, AF_INET);
	conf[IPV4_DEVCONF_RP_FILTER - 1] = 2;
	conf[IPV4_DEVCONF_FORWARDING - 1] = 1;
	mnl_attr_put(nlh, IFLA_INET_CONF, sizeof(conf), conf);
	mnl_attr_nest_end(nlh, inet);
	mnl_attr_nest_end(nlh, af);
	CHECK(capture(rtnl_parse_link, nlh, &st) == 0);
	CHECK(st.n_links == 1 && st.links[0].ifindex == 7 && st.links[0].group == 3);
	CHECK_STR(st.links[0].name, "tailscale0");
	CHECK_STR(st.links[0].kind, "tun");
	CHECK(st.links[0].conf.rp_filter == 2 && st.links[0].conf.forwarding == 1);
	CHECK(st.links[0].conf.forwarding6 == -1); /* no IPv6 section: unknown */

	/* a link without a name */
	ifi = new_msg(RTM_NEWLINK, sizeof(*ifi), &nlh);
	ifi->ifi_index = 9;
	CHECK(capture(rtnl_parse_link, nlh, &st) == -EBADMSG);
	CHECK(strstr(errors, "RTM_NEWLINK") && strstr(errors, "IFLA_IFNAME"));
}

int main(void)
{
	test_route_ok();
	test_route_malformed();
	test_multipath_ok();
	test_rules();
	test_link();
	return test_result();
}
