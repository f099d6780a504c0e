/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One routing table's answer, as the kernel finds it:
 *
 *   IPv4  fib_table_lookup (net/ipv4/fib_trie.c): longest prefix first,
 *         aliases in list order, reject types answer at once, dead or
 *         unusable nexthops fall back to shorter prefixes
 *   IPv6  fib6_table_lookup: rt6_select/find_rr_leaf scoring per node,
 *         backtracking */
#include "config.h"

#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-index.h"
#include "cgnatcheck/route.h"
#include "route-internal.h"

/* fib_lookup_good_nhc() */
bool route_v4_good_nhc(const struct route_lookup_ctx *lk, const struct route_path *p,
		       const struct route_flow *fl, unsigned flags)
{
	if (!route_path_alive(lk, p, AF_INET, flags))
		return false;
	return !fl->oif || fl->oif == p->ifindex;
}

struct dead_key {
	const struct route_table_info *t;
	struct cg_addr key;
};

/* Looks up fl->daddr in one table, or in local and main merged the way the
 * kernel merges them while no rule was ever added. */
void fib4_table_lookup(struct route_lookup_ctx *lk, const struct route_table_info *const *tabs,
		       size_t n_tabs, const struct route_flow *fl, unsigned flags,
		       struct fib_hit *hit)
{
	struct dead_key dead[8];
	size_t n_dead = 0;

	fib_hit_reset(hit);
	for (int len = 32; len >= 0; len--) {
		for (size_t t = 0; t < n_tabs; t++) {
			uint32_t first;
			size_t n;
			bool skip = false;

			if (!route_table_has_len(tabs[t], (unsigned)len))
				continue;
			n = route_index_find(lk->st, tabs[t], (unsigned)len, &fl->daddr, &first);
			if (n_dead) {
				struct cg_addr k = fl->daddr;
				addr_mask(&k, (unsigned)len);
				for (size_t d = 0; d < n_dead; d++)
					if (dead[d].t == tabs[t] && addr_equal(&k, &dead[d].key))
						skip = true;
			}
			if (skip)
				continue;
			for (size_t i = 0; i < n; i++) {
				uint32_t idx = route_node_route(lk, first, i);
				const struct route_entry *e = &lk->st->routes[idx];
				struct route_path paths[MAX_PATHS];
				bool blackhole;
				size_t np;
				int err;

				if (e->tos && e->tos != fl->tos)
					continue;
				if (e->scope < fl->scope)
					continue;
				err = route_type_error(e->type);
				if (err) {
					fib_hit_set(hit, err, idx, e, -1);
					return;
				}
				if (e->flags & RTNH_F_DEAD)
					continue;
				np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);
				if (blackhole) {
					fib_hit_set(hit, -EINVAL, idx, e, -1);
					hit->type = RTN_BLACKHOLE;
					return;
				}
				for (size_t p = 0; p < np; p++)
					if (route_v4_good_nhc(lk, &paths[p], fl, flags)) {
						fib_hit_set(hit, 0, idx, e, (int)p);
						return;
					}
				/* A nexthop object without a usable member ends the
				 * whole trie leaf ("goto miss"), not just this alias. */
				if (e->nh_id && n_dead < ARRAY_SIZE(dead)) {
					dead[n_dead] = (struct dead_key){ tabs[t], route_entry_dst(e).addr };
					n_dead++;
					break;
				}
			}
		}
	}
}

/* ---- rules ---------------------------------------------------------------- */

static int v6_pref_score(uint8_t pref)
{
	return (pref & 3) ^ 2; /* IPV6_DECODE_PREF: low 1, medium 2, high 3 */
}

/* rt6_check_neigh() with CONFIG_IPV6_ROUTER_PREF: only a FAILED entry
 * disqualifies a gateway (RT6_NUD_FAIL_PROBE). The lookup then re-probes an
 * entry that failed long enough ago, so the next lookup may decide
 * differently. */
static bool v6_neigh_failed(struct route_lookup_ctx *lk, const struct route_path *p)
{
	const struct route_neigh *n = route_state_neigh(lk->st, p->ifindex, &p->gateway);
	const struct route_link *l;
	int32_t interval;

	if (!n || !(n->state & NUD_FAILED))
		return false;
	l = route_link_of(lk, p->ifindex);
	interval = l && l->conf.rtr_probe_interval_ms > 0 ? l->conf.rtr_probe_interval_ms : 60000;
	if (n->updated_ms >= (uint32_t)interval)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT,
				     "a gateway's neighbour entry is FAILED; the lookup re-probes it, so the "
				     "next lookup may choose another route");
	return true;
}

/* find_match() + rt6_score_route(): -1 when the nexthop is not a candidate. */
int route_v6_score(struct route_lookup_ctx *lk, const struct route_entry *e,
		   const struct route_path *p, int oif, unsigned flags)
{
	int m;

	if (!route_path_alive(lk, p, AF_INET6, flags))
		return -1;
	m = (!oif || p->ifindex == oif) ? 2 : 0;
	if (!m && (flags & LOOKUP_IFACE))
		return -1;
	if ((flags & LOOKUP_REACHABLE) && p->gateway.family == AF_INET6 && v6_neigh_failed(lk, p))
		return -1;
	return m | v6_pref_score(e->pref) << 2;
}

struct v6_pick {
	int route;
	int path;
	int score;
};

static void v6_consider(struct route_lookup_ctx *lk, uint32_t idx, int oif, unsigned flags,
			struct v6_pick *best)
{
	const struct route_entry *e = &lk->st->routes[idx];
	struct route_path paths[MAX_PATHS];
	bool blackhole;
	size_t np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);

	if (blackhole) {
		if (best->score < 0) {
			best->route = (int)idx;
			best->path = -1;
			best->score = 0;
		}
		return;
	}
	for (size_t p = 0; p < np; p++) {
		int m = route_v6_score(lk, e, &paths[p], oif, flags);
		if (m > best->score) {
			best->route = (int)idx;
			best->path = (int)p;
			best->score = m;
		}
	}
}

/* find_rr_leaf(): the routes of the lowest metric first; only when none of
 * them qualifies, every remaining route. Best score wins, ties go to the
 * first. */
static bool rt6_select(struct route_lookup_ctx *lk, uint32_t first, size_t n, int oif,
		       unsigned flags, struct v6_pick *best)
{
	uint32_t metric0;
	size_t i = 0;

	*best = (struct v6_pick){ -1, -1, -1 };
	if (!n)
		return false;
	metric0 = lk->st->routes[route_node_route(lk, first, 0)].metric;
	for (; i < n && lk->st->routes[route_node_route(lk, first, i)].metric == metric0; i++)
		v6_consider(lk, route_node_route(lk, first, i), oif, flags, best);
	if (best->route < 0)
		for (; i < n; i++)
			v6_consider(lk, route_node_route(lk, first, i), oif, flags, best);
	return best->route >= 0;
}

/* ipv6_chk_addr(): saddr is an address of dev, or (not strict) a global
 * address of any device. Tentative addresses do not count. */
static bool v6_chk_addr(const struct route_lookup_ctx *lk, const struct cg_addr *a, int dev, bool strict)
{
	for (size_t i = 0; i < lk->st->n_addrs; i++) {
		const struct route_addr *x = &lk->st->addrs[i];

		if (x->family != AF_INET6 || !addr_equal(&x->local, a) ||
		    ((x->flags & IFA_F_TENTATIVE) && !(x->flags & IFA_F_OPTIMISTIC)))
			continue;
		if (x->ifindex == dev || (!strict && x->scope != RT_SCOPE_LINK && x->scope != RT_SCOPE_HOST))
			return true;
	}
	return false;
}

static bool v6_path_dead(const struct route_entry *e, const struct route_path *p)
{
	return (e->flags & RTNH_F_DEAD) || (p->flags & RTNH_F_DEAD);
}

/* rt6_device_match() and fib6_select_path() as ip6_pol_route_lookup() uses
 * them: the first route whose live nexthop is on oif or, without one, on a
 * device holding the flow's source; failing that (unless the oif is
 * required) the first route if alive. Among the siblings of a multipath
 * route the flow hash picks when no oif is given. */
static bool v6_device_match(struct route_lookup_ctx *lk, uint32_t first, size_t n, const struct route_flow *fl,
			    int oif, unsigned flags, struct v6_pick *best)
{
	static const uint8_t any[16];
	struct route_path paths[MAX_PATHS];
	bool blackhole, saddr_any = memcmp(fl->saddr.bytes, any, 16) == 0;
	const struct route_entry *e0;
	size_t np;

	*best = (struct v6_pick){ -1, -1, -1 };
	if (!n)
		return false;
	e0 = &lk->st->routes[route_node_route(lk, first, 0)];
	np = route_paths(lk, e0, paths, MAX_PATHS, &blackhole);
	if (!oif && saddr_any && (blackhole || (np && !v6_path_dead(e0, &paths[0])))) {
		*best = (struct v6_pick){ (int)route_node_route(lk, first, 0), blackhole ? -1 : 0, 0 };
		goto picked;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t idx = route_node_route(lk, first, i);
		const struct route_entry *e = &lk->st->routes[idx];

		np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);
		for (size_t p = 0; p < np; p++) {
			if (v6_path_dead(e, &paths[p]))
				continue;
			if (oif ? paths[p].ifindex == oif :
				  v6_chk_addr(lk, &fl->saddr, paths[p].ifindex, flags & LOOKUP_IFACE)) {
				*best = (struct v6_pick){ (int)idx, (int)p, 0 };
				goto picked;
			}
		}
	}
	if (oif && (flags & LOOKUP_IFACE))
		return false;
	np = route_paths(lk, e0, paths, MAX_PATHS, &blackhole);
	if (!blackhole && (!np || v6_path_dead(e0, &paths[0])))
		return false;
	*best = (struct v6_pick){ (int)route_node_route(lk, first, 0), blackhole ? -1 : 0, 0 };
picked:
	if (best->path >= 0 && !oif) {
		const struct route_entry *e = &lk->st->routes[best->route];

		np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);
		for (size_t p = 0; p < np; p++)
			if (!v6_path_dead(e, &paths[p]) && paths[p].ifindex != paths[best->path].ifindex)
				route_mark_uncertain(lk, ROUTE_UNCERTAIN_DEV,
						     "multipath: the kernel picks a nexthop by flow hash");
	}
	return true;
}

/* fib6_table_lookup(): longest prefix first, backtracking past nodes with
 * no candidate; while forwarding is off, a first pass that passes over
 * FAILED gateways, then a second without that. */
void fib6_table_lookup(struct route_lookup_ctx *lk, const struct route_table_info *t,
		       const struct route_flow *fl, int oif, unsigned flags, struct fib_hit *hit)
{
	if (lk->st->sysctl.all.forwarding6 <= 0 && !(flags & LOOKUP_DEVICE_MATCH))
		flags |= LOOKUP_REACHABLE;
	fib_hit_reset(hit);
	for (;;) {
		for (int len = 128; len >= 0; len--) {
			uint32_t first;
			struct v6_pick pick;
			size_t n;

			if (!route_table_has_len(t, (unsigned)len))
				continue;
			n = route_index_find(lk->st, t, (unsigned)len, &fl->daddr, &first);
			if (!n)
				continue;
			if (t->has_src_routes)
				for (size_t i = 0; i < n; i++)
					if (route_entry_src(lk->st,
							    &lk->st->routes[route_node_route(lk, first, i)]).len)
						route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT,
								     "source-specific IPv6 routes are not simulated");
			if (!((flags & LOOKUP_DEVICE_MATCH) ? v6_device_match(lk, first, n, fl, oif, flags, &pick) :
							       rt6_select(lk, first, n, oif, flags, &pick)))
				continue; /* fib6_backtrack() to a shorter prefix */
			const struct route_entry *e = &lk->st->routes[pick.route];
			fib_hit_set(hit, route_type_error(e->type), (uint32_t)pick.route, e, pick.path);
			hit->flags = flags;
			if (pick.path < 0) { /* blackhole nexthop object */
				hit->err = -EINVAL;
				hit->type = RTN_BLACKHOLE;
			}
			return;
		}
		if (!(flags & LOOKUP_REACHABLE))
			return;
		flags &= ~(unsigned)LOOKUP_REACHABLE; /* "also consider unreachable route" */
	}
}

/* The device of an IPv6 result as the rule suppressor sees it (rt6i_idev):
 * loopback for local delivery. */
int route_v6_result_dev(const struct route_lookup_ctx *lk, const struct fib_hit *hit)
{
	const struct route_entry *e = &lk->st->routes[hit->route];
	struct route_path paths[MAX_PATHS];
	bool blackhole;
	size_t np;

	if (e->type == RTN_LOCAL || e->type == RTN_ANYCAST)
		return lk->lo_ifindex;
	np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);
	return hit->path >= 0 && (size_t)hit->path < np ? paths[hit->path].ifindex : 0;
}

/* ---- results ---------------------------------------------------------------- */
