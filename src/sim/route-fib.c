/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The route lookups of nf_tables' fib expression. They are not the input or
 * output path of route-lookup.c: nft_fib4_eval() calls fib_lookup() itself
 * (from "lo", uid 0, no protocol or ports, FIB_LOOKUP_IGNORE_LINKSTATE), so
 * no source check, no martian check and no forwarding test stand around
 * it; nft_fib6_eval() calls ip6_route_lookup(), whose table lookup picks
 * within a prefix by device (rt6_device_match), not by score; and
 * nft_fib4_eval_type() asks table local alone (inet_dev_addr_type()). */
#include "config.h"

#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-index.h"
#include "cgnatcheck/route.h"
#include "route-internal.h"

#ifndef IFF_LOOPBACK
#define IFF_LOOPBACK 0x8
#endif

static int fib_lo_ifindex(const struct route_state *st)
{
	for (size_t i = 0; i < st->n_links; i++)
		if (st->links[i].flags & IFF_LOOPBACK)
			return st->links[i].ifindex;
	return 1; /* LOOPBACK_IFINDEX */
}

static bool addr_is_zero(const struct cg_addr *a)
{
	static const uint8_t zero[16];

	return a->family == AF_UNSPEC || memcmp(a->bytes, zero, addr_family_len(a->family)) == 0;
}

int route_fib_lookup(const struct route_state *st, const struct route_fib_query *q, struct route_result *res)
{
	int family = q->dst.family;
	struct route_lookup_ctx lk = { st, st->index, res, true, fib_lo_ifindex(st) };
	struct route_flow fl = {
		.family = family,
		.daddr = q->dst,
		.saddr = { .family = family },
		.iif = lk.lo_ifindex,
		.mark = q->mark,
		.uid = 0,               /* sock_net_uid(net, NULL) */
		.tos = q->tos,
		.scope = RT_SCOPE_UNIVERSE,
		.flowlabel = q->flowlabel,
	};
	struct route_path paths[MAX_PATHS];
	const struct route_entry *e;
	struct fib_outcome o;
	unsigned flags;
	size_t np;
	int err;

	route_result_init(res, family);
	if (!st->index || (family != AF_INET && family != AF_INET6) ||
	    (!addr_is_zero(&q->src) && q->src.family != family))
		return -EINVAL;
	if (!addr_is_zero(&q->src)) {
		fl.saddr = q->src;
		fl.has_saddr = true;
	}
	if (family == AF_INET) {
		/* fl4 carries neither protocol nor ports nor an oif */
		flags = LOOKUP_IGNORE_LINKSTATE;
		err = fib4_lookup(&lk, &fl, flags, &o);
	} else {
		fl.proto = q->proto;
		fl.oif = q->oif;
		flags = LOOKUP_DEVICE_MATCH;
		/* nft_fib6_flowi_init(): a unicast source is a source */
		if (fl.has_saddr && q->src.bytes[0] != 0xff)
			flags |= LOOKUP_HAS_SADDR;
		if (q->oif)
			flags |= LOOKUP_IFACE;
		err = fib_rules_lookup(&lk, &fl, flags, fl.oif, &o);
	}
	route_result_from_outcome(&lk, &o, res);
	if (err) {
		route_result_error(res, err, o.hit.type, NULL);
		res->uncertain &= ~(unsigned)(ROUTE_UNCERTAIN_DEV | ROUTE_UNCERTAIN_SOURCE | ROUTE_UNCERTAIN_TABLE |
					      ROUTE_UNCERTAIN_TYPE);
		return 0;
	}
	e = route_result_route(&lk, &o.hit, &fl, family == AF_INET ? flags : o.hit.flags, fl.oif, res, paths, &np);
	if (o.hit.path >= 0 && (size_t)o.hit.path < np)
		res->ifindex = paths[o.hit.path].ifindex;
	if (family == AF_INET6 && e->index_flags & ROUTE_F_V6_SHARED_NH)
		/* the route cache of a shared nexthop may hold another route */
		route_mark_uncertain(&lk, ROUTE_UNCERTAIN_TYPE, "IPv6 routes sharing a nexthop object");
	return 0;
}

/* __inet_dev_addr_type() on table local: while no rule was ever added that
 * table is main's trie too (fib_new_table() aliases them). */
int route_fib_addr_type4(const struct route_state *st, const struct cg_addr *a, int dev, const char **why)
{
	struct route_result scratch;
	struct route_lookup_ctx lk = { st, st->index, &scratch, false, fib_lo_ifindex(st) };
	struct route_flow fl = { .family = AF_INET, .daddr = *a, .saddr = { .family = AF_INET } };
	const struct route_table_info *tabs[2];
	int32_t custom = st->sysctl.fib4_custom_rules;
	uint32_t v = ntohl(a->v4.s_addr);
	int local_only, merged;

	*why = NULL;
	if ((v & 0xff000000u) == 0 || v == 0xffffffffu)
		return RTN_BROADCAST;
	if ((v & 0xf0000000u) == 0xe0000000u)
		return RTN_MULTICAST;
	if (!st->index) {
		*why = "fib address type without the routing state";
		return -1;
	}
	if (dev > 0 && st->index->have_l3mdev) {
		*why = "fib address type on a VRF device (its own table)";
		return -1;
	}
	route_result_init(&scratch, AF_INET);
	tabs[0] = route_index_table(st->index, AF_INET, RT_TABLE_LOCAL);
	tabs[1] = route_index_table(st->index, AF_INET, RT_TABLE_MAIN);
	if (!tabs[0])
		return RTN_UNICAST; /* no table: RTN_BROADCAST; the kernel always has one */
	local_only = merged = RTN_UNICAST;
	for (int pass = 0; pass < 2; pass++) {
		struct fib_hit hit;
		struct route_path paths[MAX_PATHS];
		bool blackhole;
		int t;

		if (pass == 1 && (custom > 0 || !st->index->default_rules[0] || !tabs[1]))
			break;
		fib4_table_lookup(&lk, tabs, pass ? 2 : 1, &fl, 0, &hit);
		t = RTN_UNICAST;
		if (hit.err == 0 && hit.route >= 0) {
			const struct route_entry *e = &st->routes[hit.route];
			size_t np = route_paths(&lk, e, paths, MAX_PATHS, &blackhole);

			/* fib_info_nhc(res.fi, 0): the route's first nexthop */
			if (dev <= 0 || (np && paths[0].ifindex == dev))
				t = hit.type;
		}
		if (pass == 0)
			local_only = merged = t;
		else
			merged = t;
	}
	if (custom == 0)
		return merged;
	if (custom < 0 && merged != local_only) {
		*why = "the address type depends on whether rules were ever added, which no dump shows";
		return -1;
	}
	return local_only;
}
