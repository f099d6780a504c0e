/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The lookup's result: the deciding rule and route, every nexthop of the
 * route with the candidates marked, and what the kernel picks among
 * candidates by flow hash (multipath) or by neighbour state (several
 * default gateways), which is flagged uncertain when it matters. */
#include "config.h"

#include <linux/rtnetlink.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-index.h"
#include "cgnatcheck/route.h"
#include "route-internal.h"

void route_result_init(struct route_result *res, int family)
{
	*res = (struct route_result){ .family = family, .rule = -1, .route = -1 };
}

void route_result_error(struct route_result *res, int err, uint8_t type, const char *reason)
{
	res->error = err;
	res->type = type;
	res->reason = reason;
	res->ifindex = 0;
	res->gateway = (struct cg_addr){ 0 };
	res->no_route = err == -ENETUNREACH && res->rule < 0 && !reason;
}

void route_result_from_outcome(struct route_lookup_ctx *lk, const struct fib_outcome *o,
			       struct route_result *res)
{
	const struct route_entry *e = o->hit.route >= 0 ? &lk->st->routes[o->hit.route] : NULL;

	res->rule = o->rule;
	if (o->rule >= 0) {
		res->rule_priority = lk->st->rules[o->rule].priority;
		res->rule_action = lk->st->rules[o->rule].action;
	}
	res->route = o->hit.route;
	res->type = o->hit.type;
	if (e) {
		res->table = e->table;
		res->have_prefix = true;
		res->prefix = route_entry_dst(e);
		res->metric = e->metric;
	}
}

/* The route a lookup found (o->hit.route): fills the nexthop list, every
 * path of the route with the candidates marked, and hands back its paths
 * (*np of them, room for MAX_PATHS). */
const struct route_entry *route_result_route(struct route_lookup_ctx *lk, const struct fib_hit *hit,
					     const struct route_flow *fl, unsigned flags, int oif6,
					     struct route_result *res, struct route_path *paths, size_t *np)
{
	const struct route_entry *e = &lk->st->routes[hit->route];
	bool blackhole;

	*np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);
	res->n_hops = 0;
	for (size_t i = 0; i < *np; i++) {
		struct route_hop *h = &res->hops[res->n_hops++];
		h->ifindex = paths[i].ifindex;
		h->gateway = paths[i].gateway;
		h->weight = paths[i].weight;
		h->flags = paths[i].flags;
		h->usable = fl->family == AF_INET ? route_v4_good_nhc(lk, &paths[i], fl, flags) :
						    route_v6_score(lk, e, &paths[i], oif6, flags) >= 0;
	}
	return e;
}

/* When the kernel picks among several nexthops by flow hash, the device is
 * known only if every candidate agrees. */
void route_result_check_multipath(struct route_lookup_ctx *lk, struct route_result *res, int sel)
{
	unsigned usable = 0;
	bool same = true;

	for (unsigned i = 0; i < res->n_hops; i++) {
		if (!res->hops[i].usable)
			continue;
		usable++;
		if (res->hops[i].ifindex != res->hops[sel].ifindex ||
		    !addr_equal(&res->hops[i].gateway, &res->hops[sel].gateway))
			same = false;
	}
	if (usable > 1 && !same)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_DEV | ROUTE_UNCERTAIN_SOURCE,
				     "multipath: the kernel picks a nexthop by flow hash");
}

/* fib_select_default(): several default gateways of the same metric are
 * chosen among by neighbour liveness. */
void route_v4_check_default_choice(struct route_lookup_ctx *lk, const struct route_entry *e)
{
	const struct route_table_info *t = route_index_table(lk->ix, AF_INET, e->table);
	uint32_t first;
	size_t n;
	int candidates = 0;

	if (!t || t->n_default < 2 || e->dst_len != 0 || e->type != RTN_UNICAST)
		return;
	struct cg_prefix dst = route_entry_dst(e);
	n = route_index_find(lk->st, t, 0, &dst.addr, &first);
	for (size_t i = 0; i < n; i++) {
		const struct route_entry *o = &lk->st->routes[route_node_route(lk, first, i)];
		struct route_path p[MAX_PATHS];
		bool bh;
		if (o->metric != e->metric || o->tos != e->tos || o->type != RTN_UNICAST ||
		    (o->flags & RTNH_F_DEAD) || o->scope != e->scope)
			continue;
		if (route_paths(lk, o, p, MAX_PATHS, &bh) && p[0].gateway.family)
			candidates++;
	}
	if (candidates > 1)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_DEV | ROUTE_UNCERTAIN_SOURCE,
				     "several default gateways of the same metric: the kernel picks by "
				     "neighbour state");
}

/* ---- IPv4 ------------------------------------------------------------------ */
