/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of route_lookup() on hand-built routing states: rule order,
 * selectors, goto/nop, throw, suppress_prefixlength, reject types, longest
 * prefix and metric order, dead nexthops, IPv6, input checks, and the
 * Tailscale layouts (table 52, exit node, throw back to main). No root. */
#include "config.h"

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-index.h"
#include "cgnatcheck/route.h"
#include "../lib/test.h"

enum { LO = 1, ETH0 = 2, TS0 = 3, ETH1 = 4 };

static void add_link(struct route_state *st, int ifindex, const char *name, const char *kind, uint32_t flags)
{
	struct route_link l;

	route_link_init(&l);
	l.ifindex = ifindex;
	snprintf(l.name, sizeof(l.name), "%s", name);
	snprintf(l.kind, sizeof(l.kind), "%s", kind);
	l.flags = flags;
	l.carrier = true;
	l.conf.forwarding = 0;
	l.conf.rp_filter = 0;
	route_state_add_link(st, &l);
}

static void add_addr(struct route_state *st, int ifindex, const char *cidr, uint8_t scope)
{
	struct route_addr a = { .ifindex = ifindex, .scope = scope };

	/* prefix_parse() masks the host bits: split by hand. */
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", cidr);
	char *slash = strchr(buf, '/');
	a.prefixlen = slash ? (uint8_t)atoi(slash + 1) : 32;
	if (slash)
		*slash = '\0';
	addr_parse(buf, &a.local);
	a.family = a.local.family;
	route_state_add_addr(st, &a);
}

/* "unicast 10.0.0.0/8 via 1.2.3.4 dev 2 metric 10 table 254" in pieces. */
static struct route_entry *add_route(struct route_state *st, uint32_t table, uint8_t type, const char *dst,
				     const char *gw, int dev, uint32_t metric, uint8_t scope)
{
	struct route_desc e = { .table = table, .type = type, .metric = metric, .scope = scope,
				.protocol = RTPROT_STATIC };
	struct route_path p = { .ifindex = dev, .weight = 1 };

	prefix_parse(dst, &e.dst);
	e.family = e.dst.addr.family;
	if (gw)
		addr_parse(gw, &p.gateway);
	return route_state_add_route(st, &e, &p, dev || gw ? 1 : 0);
}

static struct route_rule *add_rule(struct route_state *st, int family, uint32_t pref, uint8_t action,
				   uint32_t table)
{
	struct route_rule r;

	route_rule_init(&r);
	r.family = family;
	r.priority = pref;
	r.action = action;
	r.table = table;
	return route_state_add_rule(st, &r);
}

/* Rules must be in kernel order: by priority, equal ones in the order they
 * were added (a stable sort; IPv4 before IPv6 as in the dump). */
static bool rule_after(const struct route_rule *a, const struct route_rule *b)
{
	return a->family != b->family ? a->family > b->family : a->priority > b->priority;
}

static void sort_rules(struct route_state *st)
{
	for (size_t i = 1; i < st->n_rules; i++)
		for (size_t j = i; j > 0 && rule_after(&st->rules[j - 1], &st->rules[j]); j--) {
			struct route_rule t = st->rules[j];
			st->rules[j] = st->rules[j - 1];
			st->rules[j - 1] = t;
		}
}

static void tailscale_rules(struct route_state *st, int family)
{
	struct route_rule *r;

	r = add_rule(st, family, 5210, FR_ACT_TO_TBL, RT_TABLE_MAIN);
	r->fwmark = 0x80000, r->fwmask = 0xff0000;
	r = add_rule(st, family, 5230, FR_ACT_TO_TBL, RT_TABLE_DEFAULT);
	r->fwmark = 0x80000, r->fwmask = 0xff0000;
	r = add_rule(st, family, 5250, FR_ACT_UNREACHABLE, 0);
	r->fwmark = 0x80000, r->fwmask = 0xff0000;
	add_rule(st, family, 5270, FR_ACT_TO_TBL, 52);
}

/* An Alibaba Cloud ECS instance running Tailscale: eth0 172.24.4.100/20,
 * default via 172.24.15.253; tailscale0 100.101.102.103; table 52 with a
 * peer and the MagicDNS address. */
static void alibaba(struct route_state *st)
{
	route_state_init(st);
	add_link(st, LO, "lo", "", 0x1 | 0x8);
	add_link(st, ETH0, "eth0", "veth", 0x1);
	add_link(st, TS0, "tailscale0", "tun", 0x1 | 0x10);
	add_addr(st, LO, "127.0.0.1/8", RT_SCOPE_HOST);
	add_addr(st, ETH0, "172.24.4.100/20", RT_SCOPE_UNIVERSE);
	add_addr(st, TS0, "100.101.102.103/32", RT_SCOPE_UNIVERSE);
	add_route(st, RT_TABLE_LOCAL, RTN_LOCAL, "127.0.0.0/8", NULL, LO, 0, RT_SCOPE_HOST);
	add_route(st, RT_TABLE_LOCAL, RTN_LOCAL, "172.24.4.100/32", NULL, ETH0, 0, RT_SCOPE_HOST);
	add_route(st, RT_TABLE_LOCAL, RTN_LOCAL, "100.101.102.103/32", NULL, TS0, 0, RT_SCOPE_HOST);
	add_route(st, RT_TABLE_MAIN, RTN_UNICAST, "0.0.0.0/0", "172.24.15.253", ETH0, 100, RT_SCOPE_UNIVERSE);
	add_route(st, RT_TABLE_MAIN, RTN_UNICAST, "172.24.0.0/20", NULL, ETH0, 0, RT_SCOPE_LINK);
	add_route(st, 52, RTN_UNICAST, "100.100.100.100/32", NULL, TS0, 0, RT_SCOPE_LINK);
	add_route(st, 52, RTN_UNICAST, "100.88.1.2/32", NULL, TS0, 0, RT_SCOPE_LINK);
	route_state_add_default_rules(st, AF_INET);
	route_state_add_default_rules(st, AF_INET6);
	st->sysctl.fib4_custom_rules = 1;
}

static void finalize(struct route_state *st)
{
	sort_rules(st);
	CHECK(route_state_finalize(st) == 0);
}

static struct route_packet pkt(const char *dst)
{
	struct route_packet p = { 0 };
	addr_parse(dst, &p.dst);
	return p;
}

static const char *addr_str(const struct cg_addr *a)
{
	static char buf[4][CG_ADDRSTRLEN];
	static int i;
	return addr_to_string(a, buf[i++ % 4]);
}

static void test_alibaba_main(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("100.100.2.136");
	struct route_result r;

	alibaba(&st);
	tailscale_rules(&st, AF_INET);
	finalize(&st);
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.error == 0);
	CHECK(r.type == RTN_UNICAST);
	CHECK(r.table == RT_TABLE_MAIN);
	CHECK(r.rule_priority == 32766);
	CHECK(r.ifindex == ETH0);
	CHECK_STR(addr_str(&r.gateway), "172.24.15.253");
	CHECK_STR(addr_str(&r.source), "172.24.4.100");
	CHECK(r.uncertain == 0);
	/* 5270's table 52 has no route for it: a miss, not a decision. */
	bool saw_miss = false;
	for (unsigned i = 0; i < r.n_steps; i++)
		if (st.rules[r.steps[i].rule].priority == 5270 && r.steps[i].kind == ROUTE_STEP_MISS)
			saw_miss = true;
	CHECK(saw_miss);
}

static void test_exit_node_and_throw(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("100.100.2.136");
	struct route_result r;

	alibaba(&st);
	tailscale_rules(&st, AF_INET);
	add_route(&st, 52, RTN_UNICAST, "0.0.0.0/0", NULL, TS0, 0, RT_SCOPE_LINK); /* exit node */
	finalize(&st);
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.error == 0 && r.table == 52 && r.rule_priority == 5270 && r.ifindex == TS0);
	CHECK(r.gateway.family == AF_UNSPEC);
	CHECK_STR(addr_str(&r.source), "100.101.102.103");

	/* Tailscale's own traffic carries the bypass mark and stays on eth0. */
	p.mark = 0x80000;
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.error == 0 && r.rule_priority == 5210 && r.ifindex == ETH0);
	p.mark = 0x1080000; /* other bits outside the mask do not matter */
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.rule_priority == 5210);

	/* A throw route for the provider range sends the lookup on to main. */
	route_state_free(&st);
	alibaba(&st);
	tailscale_rules(&st, AF_INET);
	add_route(&st, 52, RTN_UNICAST, "0.0.0.0/0", NULL, TS0, 0, RT_SCOPE_LINK);
	add_route(&st, 52, RTN_THROW, "100.100.0.0/16", NULL, 0, 0, RT_SCOPE_UNIVERSE);
	finalize(&st);
	p = pkt("100.100.2.136");
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.error == 0 && r.table == RT_TABLE_MAIN && r.rule_priority == 32766 && r.ifindex == ETH0);
	bool saw_throw = false;
	for (unsigned i = 0; i < r.n_steps; i++)
		saw_throw |= r.steps[i].kind == ROUTE_STEP_THROW;
	CHECK(saw_throw);
	/* ...but only for that range. */
	p = pkt("8.8.8.8");
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.table == 52 && r.ifindex == TS0);
}

static void test_subnet_route_and_peers(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("100.100.100.200");
	struct route_result r;

	alibaba(&st);
	tailscale_rules(&st, AF_INET);
	add_route(&st, 52, RTN_UNICAST, "100.100.0.0/16", NULL, TS0, 0, RT_SCOPE_LINK); /* subnet route */
	finalize(&st);
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.table == 52 && r.ifindex == TS0 && r.prefix.len == 16);
	/* MagicDNS is a host route, longest prefix wins. */
	p = pkt("100.100.100.100");
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.table == 52 && r.prefix.len == 32);
	/* Local addresses: rule 0, table local, delivered through lo. */
	p = pkt("172.24.4.100");
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.type == RTN_LOCAL && r.table == RT_TABLE_LOCAL && r.rule_priority == 0 && r.ifindex == LO);
}

static void test_suppress_and_goto(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("100.100.2.136");
	struct route_result r;
	struct route_rule *rule;

	alibaba(&st);
	tailscale_rules(&st, AF_INET);
	add_route(&st, 52, RTN_UNICAST, "0.0.0.0/0", NULL, TS0, 0, RT_SCOPE_LINK);
	/* wg-quick's trick: main, but not its default route. */
	rule = add_rule(&st, AF_INET, 5000, FR_ACT_TO_TBL, RT_TABLE_MAIN);
	rule->suppress_prefixlen = 0;
	finalize(&st);
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.rule_priority == 5270 && r.ifindex == TS0);
	p = pkt("172.24.9.9"); /* a connected /20 is not suppressed */
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.rule_priority == 5000 && r.ifindex == ETH0 && r.gateway.family == AF_UNSPEC);

	/* goto jumps forward and evaluates the target's selector. */
	route_state_free(&st);
	alibaba(&st);
	tailscale_rules(&st, AF_INET);
	add_route(&st, 52, RTN_UNICAST, "0.0.0.0/0", NULL, TS0, 0, RT_SCOPE_LINK);
	rule = add_rule(&st, AF_INET, 100, FR_ACT_GOTO, 0);
	rule->goto_target = 5270;
	finalize(&st);
	p = pkt("100.100.2.136");
	p.mark = 0x80000; /* would match 5210, which goto skips */
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.rule_priority == 5270 && r.ifindex == TS0);
	CHECK(r.steps[1].kind == ROUTE_STEP_GOTO);

	/* An unresolved goto (no such priority) is passed over. */
	st.rules[0].flags |= 0; /* keep the layout */
	for (size_t i = 0; i < st.n_rules; i++)
		if (st.rules[i].action == FR_ACT_GOTO)
			st.rules[i].goto_target = 4000;
	CHECK(route_state_finalize(&st) == 0);
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.rule_priority == 5210);
}

static void test_reject_types(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p;
	struct route_result r;

	alibaba(&st);
	tailscale_rules(&st, AF_INET);
	add_route(&st, RT_TABLE_MAIN, RTN_BLACKHOLE, "10.0.0.0/8", NULL, 0, 0, 0);
	add_route(&st, RT_TABLE_MAIN, RTN_UNREACHABLE, "10.1.0.0/16", NULL, 0, 0, 0);
	add_route(&st, RT_TABLE_MAIN, RTN_PROHIBIT, "10.1.2.0/24", NULL, 0, 0, 0);
	finalize(&st);
	p = pkt("10.9.9.9");
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -EINVAL && r.type == RTN_BLACKHOLE);
	p = pkt("10.1.9.9");
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -EHOSTUNREACH && r.type == RTN_UNREACHABLE);
	p = pkt("10.1.2.9");
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -EACCES && r.type == RTN_PROHIBIT);
	CHECK(r.rule_priority == 32766 && r.table == RT_TABLE_MAIN);
	/* The rule's own unreachable: ENETUNREACH, decided by 5250. */
	p = pkt("100.100.2.136");
	p.mark = 0x80000;
	st.rules[1].fwmark = 0xdead; /* 5210 no longer matches */
	st.rules[2].fwmark = 0xdead; /* nor 5230 */
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -ENETUNREACH && r.rule_priority == 5250);
	CHECK(!r.no_route);
}

static void test_no_route(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("8.8.8.8");
	struct route_result r;

	alibaba(&st);
	st.n_routes = 5; /* keep local + the default? drop the default below */
	st.routes[3].type = RTN_THROW; /* main's default becomes a throw */
	finalize(&st);
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.error == -ENETUNREACH && r.no_route && r.rule == -1);
}

static void test_lpm_metric_dead(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("192.0.2.77");
	struct route_result r;
	struct route_entry *e;

	alibaba(&st);
	add_link(&st, ETH1, "eth1", "veth", 0x1);
	add_addr(&st, ETH1, "198.51.100.1/24", RT_SCOPE_UNIVERSE);
	/* Same prefix: the kernel keeps aliases by metric, and dumps them so. */
	add_route(&st, RT_TABLE_MAIN, RTN_UNICAST, "192.0.2.0/24", NULL, ETH0, 100, RT_SCOPE_LINK);
	add_route(&st, RT_TABLE_MAIN, RTN_UNICAST, "192.0.2.0/24", NULL, ETH1, 200, RT_SCOPE_LINK);
	e = add_route(&st, RT_TABLE_MAIN, RTN_UNICAST, "192.0.2.64/26", NULL, ETH1, 0, RT_SCOPE_LINK);
	(void)e;
	finalize(&st);
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.prefix.len == 26 && r.ifindex == ETH1);
	/* A dead nexthop on the /26 falls back to the /24s, lowest metric first. */
	st.routes[st.n_routes - 1].path.flags |= RTNH_F_DEAD;
	CHECK(route_state_finalize(&st) == 0);
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.prefix.len == 24 && r.ifindex == ETH0 && r.metric == 100);
	/* oif selects among the aliases (fib_lookup_good_nhc). */
	p.oif = ETH1;
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.prefix.len == 24 && r.ifindex == ETH1 && r.metric == 200);
	/* LINKDOWN is used unless ignore_routes_with_linkdown. */
	p.oif = 0;
	st.routes[st.n_routes - 1].path.flags = RTNH_F_LINKDOWN;
	CHECK(route_state_finalize(&st) == 0);
	CHECK(route_lookup(&st, &p, &r) == 0 && r.prefix.len == 26);
	st.sysctl.all.ignore_routes_with_linkdown = 1;
	CHECK(route_lookup(&st, &p, &r) == 0 && r.prefix.len == 24);
}

static void test_selectors(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("100.100.2.136");
	struct route_result r;
	struct route_rule *rule;

	alibaba(&st);
	add_route(&st, 100, RTN_UNICAST, "0.0.0.0/0", NULL, TS0, 0, RT_SCOPE_LINK);
	rule = add_rule(&st, AF_INET, 10, FR_ACT_TO_TBL, 100);
	snprintf(rule->iif, sizeof(rule->iif), "ghost0"); /* no such device: never matches */
	rule = add_rule(&st, AF_INET, 11, FR_ACT_TO_TBL, 100);
	rule->uid_set = true, rule->uid_start = 1000, rule->uid_end = 2000;
	rule = add_rule(&st, AF_INET, 12, FR_ACT_TO_TBL, 100);
	rule->ipproto = 6, rule->dport = (struct route_port_range){ 443, 443 };
	rule = add_rule(&st, AF_INET, 13, FR_ACT_TO_TBL, 100);
	rule->flags = FIB_RULE_INVERT; /* not from 172.24.0.0/20 */
	prefix_parse("172.24.0.0/20", &rule->src);
	finalize(&st);

	/* Without a source, 0.0.0.0 is not in 172.24.0.0/20: "not" matches. */
	CHECK(route_lookup(&st, &p, &r) == 0 && r.rule_priority == 13);
	addr_parse("172.24.4.100", &p.src);
	CHECK(route_lookup(&st, &p, &r) == 0 && r.rule_priority == 32766);
	p.uid_set = true, p.uid = 1500;
	CHECK(route_lookup(&st, &p, &r) == 0 && r.rule_priority == 11);
	p.uid = 999;
	p.ipproto = 6, p.dport = 443;
	CHECK(route_lookup(&st, &p, &r) == 0 && r.rule_priority == 12);
	p.dport = 80;
	CHECK(route_lookup(&st, &p, &r) == 0 && r.rule_priority == 32766);
	/* "iif lo" is how locally generated packets look to the rules. */
	snprintf(st.rules[0 + 1].iif, IFNAMSIZ, "lo"); /* rule 10 after sorting: index 1 */
	CHECK(route_state_finalize(&st) == 0);
	CHECK(route_lookup(&st, &p, &r) == 0 && r.rule_priority == 10);
}

static void test_input(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("172.24.4.100");
	struct route_result r;

	alibaba(&st);
	tailscale_rules(&st, AF_INET);
	add_route(&st, 52, RTN_UNICAST, "0.0.0.0/0", NULL, TS0, 0, RT_SCOPE_LINK);
	finalize(&st);
	/* The provider's DNS reply arriving on eth0 is local delivery... */
	p.iif = ETH0;
	addr_parse("100.100.2.136", &p.src);
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.error == 0 && r.type == RTN_LOCAL && r.input && r.ifindex == LO);
	/* ...unless strict reverse-path filtering: the way back is tailscale0. */
	st.links[1].conf.rp_filter = 1;
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.error == -EINVAL);
	/* Loose mode accepts any route back. */
	st.links[1].conf.rp_filter = 2;
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == 0);
	/* Forwarding off: a transit packet has no route. */
	p = pkt("8.8.8.8");
	p.iif = ETH0;
	addr_parse("172.24.9.9", &p.src);
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -EHOSTUNREACH);
	st.links[1].conf.forwarding = 1;
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == 0 && r.ifindex == TS0);
	/* Martians. */
	addr_parse("224.0.0.9", &p.src);
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -EINVAL);
	addr_parse("127.0.0.9", &p.src);
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -EINVAL);
}

static void test_ipv6(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("2001:db8:1::5");
	struct route_result r;
	struct route_entry *e;
	struct route_rule *rule;

	alibaba(&st);
	add_addr(&st, ETH0, "2001:db8:ffff::100/64", RT_SCOPE_UNIVERSE);
	add_addr(&st, ETH0, "fe80::1/64", RT_SCOPE_LINK);
	add_addr(&st, TS0, "fd7a:115c:a1e0::1/128", RT_SCOPE_UNIVERSE);
	e = add_route(&st, RT_TABLE_MAIN, RTN_UNICAST, "::/0", "fe80::fe", ETH0, 1024, 0);
	e = add_route(&st, RT_TABLE_MAIN, RTN_UNICAST, "2001:db8:ffff::/64", NULL, ETH0, 256, 0);
	e = add_route(&st, 52, RTN_UNICAST, "fd7a:115c:a1e0::/48", NULL, TS0, 1024, 0);
	e = add_route(&st, RT_TABLE_MAIN, RTN_UNREACHABLE, "2001:db8:dead::/48", NULL, LO, 1024, 0);
	(void)e;
	tailscale_rules(&st, AF_INET6);
	rule = add_rule(&st, AF_INET6, 100, FR_ACT_PROHIBIT, 0);
	prefix_parse("2001:db8:ffff::/64", &rule->src);
	finalize(&st);
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.error == 0 && r.table == RT_TABLE_MAIN && r.ifindex == ETH0);
	CHECK_STR(addr_str(&r.gateway), "fe80::fe");
	CHECK_STR(addr_str(&r.source), "2001:db8:ffff::100"); /* global, not link-local, not fd7a */
	/* An IPv6 "from" rule needs a source to match. */
	addr_parse("2001:db8:ffff::100", &p.src);
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -EACCES && r.rule_priority == 100);
	p = pkt("fd7a:115c:a1e0::53");
	CHECK(route_lookup(&st, &p, &r) == 0 && r.table == 52 && r.ifindex == TS0);
	CHECK_STR(addr_str(&r.source), "fd7a:115c:a1e0::1"); /* longest matching prefix */
	p = pkt("2001:db8:dead::1");
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -EHOSTUNREACH);
	/* The IPv6 rule unreachable gives ENETUNREACH. */
	p = pkt("2001:db8:1::5");
	p.mark = 0x80000;
	for (size_t i = 0; i < st.n_rules; i++)
		if (st.rules[i].family == AF_INET6 && st.rules[i].priority < 5250)
			st.rules[i].fwmark = 0xdead;
	CHECK(route_state_finalize(&st) == 0);
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -ENETUNREACH && r.rule_priority == 5250);
}

static void test_multipath_uncertain(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("203.0.113.9");
	struct route_result r;
	struct route_desc e = { .family = AF_INET, .table = RT_TABLE_MAIN, .type = RTN_UNICAST };
	struct route_path paths[2] = { { .ifindex = ETH0, .weight = 1 }, { .ifindex = TS0, .weight = 1 } };

	alibaba(&st);
	prefix_parse("203.0.113.0/24", &e.dst);
	route_state_add_route(&st, &e, paths, 2);
	finalize(&st);
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.error == 0 && r.n_hops == 2 && (r.uncertain & ROUTE_UNCERTAIN_DEV));
	/* One dead path: no choice left. */
	st.paths[st.routes[st.n_routes - 1].first_path].flags = RTNH_F_DEAD;
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.ifindex == TS0 && !(r.uncertain & ROUTE_UNCERTAIN_DEV));
	/* oif picks a path deterministically. */
	st.paths[st.routes[st.n_routes - 1].first_path].flags = 0;
	p.oif = ETH0;
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.ifindex == ETH0 && !(r.uncertain & ROUTE_UNCERTAIN_DEV));
}

/* While no rule was ever added, local and main are one trie: the longest
 * prefix wins across both, and the kernel reports table main. */
static void test_shortcut(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("10.1.2.3");
	struct route_result r;

	alibaba(&st);
	add_route(&st, RT_TABLE_LOCAL, RTN_LOCAL, "10.0.0.0/8", NULL, LO, 0, RT_SCOPE_HOST); /* AnyIP */
	add_route(&st, RT_TABLE_MAIN, RTN_UNICAST, "10.1.0.0/16", NULL, ETH0, 0, RT_SCOPE_LINK);
	finalize(&st);
	st.sysctl.fib4_custom_rules = 1; /* the rules: local first */
	CHECK(route_lookup(&st, &p, &r) == 0 && r.type == RTN_LOCAL && r.rule_priority == 0);
	st.sysctl.fib4_custom_rules = 0; /* the shortcut: /16 beats /8 */
	CHECK(route_lookup(&st, &p, &r) == 0 && r.type == RTN_UNICAST && r.ifindex == ETH0);
	CHECK(r.tables_merged && r.uncertain == 0);
	st.sysctl.fib4_custom_rules = -1; /* unknown: flagged */
	CHECK(route_lookup(&st, &p, &r) == 0 && (r.uncertain & ROUTE_UNCERTAIN_RESULT));
	/* A local address: table local, which the kernel then calls main. */
	st.sysctl.fib4_custom_rules = 0;
	p = pkt("172.24.4.100");
	CHECK(route_lookup(&st, &p, &r) == 0 && r.type == RTN_LOCAL && r.table == RT_TABLE_LOCAL);
	struct route_result k = r;
	k.table = RT_TABLE_MAIN;
	CHECK(route_result_agrees(&r, &k, NULL, 0));
}

/* RTM_GETROUTE asks about UDP for IPv4 when no protocol is given; 0.0.0.0/8
 * is an ordinary range since Linux 5.3. */
static void test_defaults(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("100.100.2.136");
	struct route_result r;
	struct route_rule *rule;

	alibaba(&st);
	rule = add_rule(&st, AF_INET, 10, FR_ACT_PROHIBIT, 0);
	rule->ipproto = 17;
	rule = add_rule(&st, AF_INET6, 10, FR_ACT_PROHIBIT, 0);
	rule->ipproto = 17;
	add_route(&st, RT_TABLE_MAIN, RTN_UNICAST, "::/0", NULL, ETH0, 1024, 0);
	finalize(&st);
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -EACCES && r.rule_priority == 10);
	p.ipproto = 6;
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == 0);
	p = pkt("2001:db8::1");
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == 0);
	p.ipproto = 17;
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -EACCES);

	p = pkt("0.1.2.3");
	p.ipproto = 6;
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == 0 && r.ifindex == ETH0);
	p = pkt("172.24.4.100");
	p.ipproto = 6;
	p.iif = ETH0;
	addr_parse("0.1.2.3", &p.src);
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == 0 && r.type == RTN_LOCAL);
	p.src = (struct cg_addr){ 0 }; /* no source: 0.0.0.0, a martian */
	CHECK(route_lookup(&st, &p, &r) == 0 && r.error == -EINVAL);
}

/* While forwarding is off, IPv6 passes over a gateway whose neighbour entry
 * FAILED, as long as another route will do (RT6_LOOKUP_F_REACHABLE). */
static void test_ipv6_failed_gateway(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_packet p = pkt("2001:db8:7::1");
	struct route_result r;
	struct route_neigh n = { .family = AF_INET6, .ifindex = ETH0, .state = 0x20 /* NUD_FAILED */ };

	alibaba(&st);
	add_addr(&st, ETH0, "2001:db8::100/64", RT_SCOPE_UNIVERSE);
	add_route(&st, RT_TABLE_MAIN, RTN_UNICAST, "2001:db8:7::/48", "2001:db8::2", ETH0, 100, 0);
	add_route(&st, RT_TABLE_MAIN, RTN_UNICAST, "2001:db8:7::/48", "2001:db8::4", ETH0, 200, 0);
	addr_parse("2001:db8::2", &n.addr);
	route_state_add_neigh(&st, &n);
	finalize(&st);
	st.sysctl.all.forwarding6 = 0;
	CHECK(route_lookup(&st, &p, &r) == 0 && r.metric == 200);
	CHECK_STR(addr_str(&r.gateway), "2001:db8::4");
	CHECK(!(r.uncertain & ROUTE_UNCERTAIN_RESULT)); /* fresh: not re-probed yet */
	st.neighs[0].updated_ms = 120000;
	CHECK(route_lookup(&st, &p, &r) == 0 && (r.uncertain & ROUTE_UNCERTAIN_RESULT));
	st.sysctl.all.forwarding6 = 1; /* a router takes the first anyway */
	CHECK(route_lookup(&st, &p, &r) == 0 && r.metric == 100);
	st.sysctl.all.forwarding6 = 0;
	st.neighs[0].state = 0x04; /* NUD_STALE is fine */
	CHECK(route_lookup(&st, &p, &r) == 0 && r.metric == 100);
}

static void test_agreement(void)
{
	struct route_result a, b;
	char why[128];

	route_result_init(&a, AF_INET);
	route_result_init(&b, AF_INET);
	a.type = b.type = RTN_UNICAST;
	a.table = b.table = 52;
	a.ifindex = b.ifindex = TS0;
	CHECK(route_result_agrees(&a, &b, why, sizeof(why)));
	b.ifindex = ETH0;
	CHECK(!route_result_agrees(&a, &b, why, sizeof(why)));
	CHECK(strstr(why, "device") != NULL);
	a.uncertain = ROUTE_UNCERTAIN_DEV;
	CHECK(route_result_agrees(&a, &b, why, sizeof(why)));
	b.error = -EHOSTUNREACH;
	CHECK(!route_result_agrees(&a, &b, why, sizeof(why)));
}

/* The state keeps routes compact: what goes in comes back out, shared
 * extras included; and the prefix index finds every node with all its
 * aliases in dump order. */
static void test_storage(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_desc d = { .family = AF_INET, .table = RT_TABLE_MAIN, .type = RTN_UNICAST,
				.protocol = RTPROT_STATIC, .metric = 7, .flags = RTM_F_OFFLOAD };
	struct route_path paths[3] = { { .ifindex = ETH0, .weight = 1, .flags = RTNH_F_ONLINK },
				       { .ifindex = TS0, .weight = 2 }, { .ifindex = ETH1, .weight = 3 } };
	const struct route_table_info *t;
	uint32_t first;
	struct cg_prefix pfx;
	struct cg_addr a;
	char buf[CG_ADDRSTRLEN];

	route_state_init(&st);
	add_link(&st, LO, "lo", "", 0x9);
	add_link(&st, ETH0, "eth0", "veth", 0x1);
	/* 0: host bits set, single path with a gateway of another family */
	prefix_parse("10.1.0.0/16", &d.dst);
	d.dst.addr.bytes[3] = 0x77;
	addr_parse("fe80::1", &paths[0].gateway);
	route_state_add_route(&st, &d, paths, 1);
	/* 1, 2: the same preferred source, one extra for both */
	addr_parse("10.1.2.3", &d.prefsrc);
	prefix_parse("10.2.0.0/16", &d.dst);
	route_state_add_route(&st, &d, paths + 1, 2);
	prefix_parse("10.3.0.0/16", &d.dst);
	route_state_add_route(&st, &d, NULL, 0);
	/* 3: IPv6, source-specific, a realm */
	d = (struct route_desc){ .family = AF_INET6, .table = 52, .type = RTN_UNICAST, .pref = 3, .realm = 9 };
	prefix_parse("2001:db8::/32", &d.dst);
	prefix_parse("2001:db8:ffff::/48", &d.src);
	route_state_add_route(&st, &d, paths + 1, 1);
	/* 4, 5, 6: aliases of one prefix, kept in dump order */
	d = (struct route_desc){ .family = AF_INET, .table = RT_TABLE_MAIN, .type = RTN_UNICAST };
	prefix_parse("192.0.2.0/24", &d.dst);
	for (uint32_t m = 300; m > 0; m -= 100) {
		d.metric = m;
		route_state_add_route(&st, &d, paths + 1, 1);
	}
	/* 7..: many host routes in another table */
	for (uint32_t i = 0; i < 5000; i++) {
		d = (struct route_desc){ .family = AF_INET, .table = 100, .type = RTN_UNICAST,
					 .dst = { .addr = { .family = AF_INET }, .len = 32 } };
		d.dst.addr.v4.s_addr = htonl(0x0aa00000 + 4 * i);
		route_state_add_route(&st, &d, paths + 2, 1);
	}
	CHECK(route_state_finalize(&st) == 0);
	CHECK(st.n_route_extras == 2 && st.n_paths == 2 && st.cap_routes == st.n_routes);

	pfx = route_entry_dst(&st.routes[0]);
	CHECK_STR(prefix_to_string(&pfx, buf), "10.1.0.0/16");
	CHECK(st.routes[0].metric == 7 && st.routes[0].flags == RTM_F_OFFLOAD && st.routes[0].n_paths == 1);
	CHECK(route_entry_paths(&st, &st.routes[0])[0].flags == RTNH_F_ONLINK);
	CHECK_STR(addr_to_string(&route_entry_paths(&st, &st.routes[0])[0].gateway, buf), "fe80::1");
	CHECK(route_entry_prefsrc(&st, &st.routes[0]).family == AF_UNSPEC && !route_entry_src(&st, &st.routes[0]).len);
	CHECK(st.routes[1].n_paths == 2 && route_entry_paths(&st, &st.routes[1])[1].ifindex == ETH1 &&
	      route_entry_paths(&st, &st.routes[1])[1].weight == 3);
	CHECK(st.routes[2].n_paths == 0 && route_entry_paths(&st, &st.routes[2]) == NULL);
	CHECK(st.routes[1].extra && st.routes[1].extra == st.routes[2].extra);
	a = route_entry_prefsrc(&st, &st.routes[2]);
	CHECK_STR(addr_to_string(&a, buf), "10.1.2.3");
	pfx = route_entry_src(&st, &st.routes[3]);
	CHECK_STR(prefix_to_string(&pfx, buf), "2001:db8:ffff::/48");
	CHECK(route_entry_realm(&st, &st.routes[3]) == 9 && st.routes[3].pref == 3 && st.routes[3].table == 52);
	CHECK(st.index->tclassid_users);

	t = route_index_table(st.index, AF_INET, RT_TABLE_MAIN);
	addr_parse("192.0.2.200", &a);
	CHECK(t && route_index_find(&st, t, 24, &a, &first) == 3);
	CHECK(route_index_member(st.index, first) == 4 && route_index_member(st.index, first + 1) == 5 &&
	      route_index_member(st.index, first + 2) == 6);
	CHECK(route_index_find(&st, t, 25, &a, &first) == 0);
	addr_parse("10.1.255.1", &a);
	CHECK(route_index_find(&st, t, 16, &a, &first) == 1 && route_index_member(st.index, first) == 0);
	t = route_index_table(st.index, AF_INET, 100);
	for (uint32_t i = 0; i < 5000; i++) {
		a = (struct cg_addr){ .family = AF_INET };
		a.v4.s_addr = htonl(0x0aa00000 + 4 * i);
		CHECK(route_index_find(&st, t, 32, &a, &first) == 1 && route_index_member(st.index, first) == 7 + i);
		a.v4.s_addr = htonl(0x0aa00000 + 4 * i + 1);
		CHECK(route_index_find(&st, t, 32, &a, &first) == 0);
	}

	CHECK(st.index->members == NULL); /* grouped as dumped: no members array */

	/* An alias apart from its prefix's other routes: the index sorts. */
	d = (struct route_desc){ .family = AF_INET, .table = RT_TABLE_MAIN, .type = RTN_UNICAST, .metric = 9 };
	prefix_parse("10.1.0.0/16", &d.dst);
	route_state_add_route(&st, &d, paths + 2, 1);
	CHECK(route_state_finalize(&st) == 0 && st.index->members != NULL);
	t = route_index_table(st.index, AF_INET, RT_TABLE_MAIN);
	addr_parse("10.1.0.1", &a);
	CHECK(route_index_find(&st, t, 16, &a, &first) == 2 && route_index_member(st.index, first) == 0 &&
	      route_index_member(st.index, first + 1) == st.n_routes - 1);
	addr_parse("192.0.2.1", &a);
	CHECK(route_index_find(&st, t, 24, &a, &first) == 3 && route_index_member(st.index, first) == 4);
	t = route_index_table(st.index, AF_INET, 100);
	for (uint32_t i = 0; i < 5000; i++) {
		a = (struct cg_addr){ .family = AF_INET };
		a.v4.s_addr = htonl(0x0aa00000 + 4 * i);
		CHECK(route_index_find(&st, t, 32, &a, &first) == 1 && route_index_member(st.index, first) == 7 + i);
	}
	st.n_routes--;

	/* A prefix of another family than the route's, an unknown family (both logged). */
	d = (struct route_desc){ .family = AF_INET6, .table = RT_TABLE_MAIN, .type = RTN_UNICAST };
	prefix_parse("10.9.0.0/16", &d.dst);
	route_state_add_route(&st, &d, NULL, 0);
	CHECK(route_state_finalize(&st) == -EINVAL);
	st.n_routes--;
	d.family = AF_PACKET;
	route_state_add_route(&st, &d, NULL, 0);
	CHECK(route_state_finalize(&st) == -EAFNOSUPPORT);
	st.n_routes--;
	CHECK(route_state_finalize(&st) == 0);
}

/* nft's fib lookups (route_fib_lookup): no ports or protocol, from lo, a
 * source that need not be local; the address type from table local. */
static void test_fib(void)
{
	_cleanup_route_state_ struct route_state st;
	struct route_fib_query q = { 0 };
	struct route_packet p = pkt("100.100.2.136");
	struct route_result r;
	struct route_rule *x;
	const char *why;

	alibaba(&st);
	tailscale_rules(&st, AF_INET);
	add_route(&st, 52, RTN_UNICAST, "0.0.0.0/0", NULL, TS0, 0, RT_SCOPE_LINK); /* exit node */
	x = add_rule(&st, AF_INET, 5200, FR_ACT_TO_TBL, RT_TABLE_MAIN);
	x->ipproto = IPPROTO_UDP;
	x->dport = (struct route_port_range){ 53, 53 };
	finalize(&st);
	/* the kernel's own route for the DNS query honours the exception ... */
	p.ipproto = IPPROTO_UDP;
	p.dport = 53;
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.error == 0 && r.rule_priority == 5200 && r.ifindex == ETH0);
	/* ... fib's reverse lookup for the answer cannot: table 52, tailscale0 */
	addr_parse("100.100.2.136", &q.dst);
	addr_parse("172.24.4.100", &q.src);
	CHECK(route_fib_lookup(&st, &q, &r) == 0);
	CHECK(r.error == 0 && r.rule_priority == 5270 && r.ifindex == TS0 && r.type == RTN_UNICAST);
	CHECK((r.uncertain & (ROUTE_UNCERTAIN_RESULT | ROUTE_UNCERTAIN_DEV)) == 0);
	/* with ". mark" and the bypass mark: main, eth0 */
	q.mark = 0x80000;
	CHECK(route_fib_lookup(&st, &q, &r) == 0);
	CHECK(r.error == 0 && r.rule_priority == 5210 && r.ifindex == ETH0);
	CHECK(r.n_hops == 1 && r.hops[0].ifindex == ETH0);
	/* a source that is not this host's does not stop it (no output path) */
	q.mark = 0;
	addr_parse("10.9.9.9", &q.src);
	CHECK(route_fib_lookup(&st, &q, &r) == 0);
	CHECK(r.error == 0 && r.ifindex == TS0);
	/* the host's own address: a local route, which fib answers with none */
	addr_parse("172.24.4.100", &q.dst);
	CHECK(route_fib_lookup(&st, &q, &r) == 0);
	CHECK(r.error == 0 && r.type == RTN_LOCAL);
	/* a route whose link is down still answers (FIB_LOOKUP_IGNORE_LINKSTATE),
	 * even where ignore_routes_with_linkdown would skip it */
	route_state_free(&st);
	alibaba(&st);
	tailscale_rules(&st, AF_INET);
	struct route_entry *e = add_route(&st, 52, RTN_UNICAST, "0.0.0.0/0", NULL, TS0, 0, RT_SCOPE_LINK);
	e->path.flags |= RTNH_F_LINKDOWN;
	st.sysctl.all.ignore_routes_with_linkdown = 1;
	finalize(&st);
	q = (struct route_fib_query){ 0 };
	addr_parse("192.0.2.1", &q.dst);
	CHECK(route_fib_lookup(&st, &q, &r) == 0);
	CHECK(r.error == 0 && r.ifindex == TS0);
	p = pkt("192.0.2.1");
	CHECK(route_lookup(&st, &p, &r) == 0);
	CHECK(r.ifindex == ETH0);

	/* inet_dev_addr_type() */
	struct cg_addr a;
	addr_parse("172.24.4.100", &a);
	CHECK(route_fib_addr_type4(&st, &a, 0, &why) == RTN_LOCAL);
	CHECK(route_fib_addr_type4(&st, &a, ETH0, &why) == RTN_LOCAL);
	CHECK(route_fib_addr_type4(&st, &a, TS0, &why) == RTN_UNICAST);
	addr_parse("100.100.2.136", &a);
	CHECK(route_fib_addr_type4(&st, &a, 0, &why) == RTN_UNICAST);
	addr_parse("224.0.0.251", &a);
	CHECK(route_fib_addr_type4(&st, &a, 0, &why) == RTN_MULTICAST);
	addr_parse("0.1.2.3", &a);
	CHECK(route_fib_addr_type4(&st, &a, 0, &why) == RTN_BROADCAST);
}

int main(void)
{
	cg_log_set_level(CG_LOG_ERR);
	test_fib();
	test_alibaba_main();
	test_exit_node_and_throw();
	test_subnet_route_and_peers();
	test_suppress_and_goto();
	test_reject_types();
	test_no_route();
	test_lpm_metric_dead();
	test_selectors();
	test_input();
	test_ipv6();
	test_multipath_uncertain();
	test_shortcut();
	test_defaults();
	test_ipv6_failed_gateway();
	test_agreement();
	test_storage();
	return test_result();
}
