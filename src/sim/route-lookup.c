/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The user-space route lookup. It follows the kernel function by function:
 *
 *   IPv4  ip_route_output_key_hash_rcu / ip_route_input_slow
 *         -> fib_lookup: fib_rules_lookup (net/core/fib_rules.c) with
 *            fib4_rule_match / fib4_rule_action / fib4_rule_suppress, or the
 *            local+main shortcut when no rule was ever added
 *         -> fib_table_lookup (net/ipv4/fib_trie.c): longest prefix first,
 *            aliases in list order, reject types answer at once, dead or
 *            unusable nexthops fall back to shorter prefixes
 *         -> fib_select_path, source selection, fib_validate_source
 *   IPv6  ip6_route_output_flags / ip6_route_input_lookup
 *         -> fib6_rule_lookup -> ip6_pol_route -> fib6_table_lookup:
 *            rt6_select/find_rr_leaf scoring per node, backtracking
 *
 * Everything the dumps cannot show (multipath hashing, whether rules were
 * ever added) is flagged uncertain instead of guessed. */
#include "config.h"

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-index.h"
#include "cgnatcheck/route.h"
#include "route-internal.h"

#ifndef IFF_LOOPBACK
#define IFF_LOOPBACK 0x8
#endif
#define INVALID_UID UINT32_MAX
#define MAX_PATHS ROUTE_MAX_HOPS

/* Flags of a table lookup (the kernel's RT6_LOOKUP_F_* and FIB_LOOKUP_*). */
enum {
	LOOKUP_IFACE = 1 << 0,           /* IPv6: routes must use the oif */
	LOOKUP_HAS_SADDR = 1 << 1,       /* IPv6: the flow has a source */
	LOOKUP_IGNORE_LINKSTATE = 1 << 2,
	LOOKUP_REACHABLE = 1 << 3,       /* IPv6: pass over gateways whose neighbour FAILED */
};

/* The outcome of one table lookup (struct fib_result / fib6_result). */
struct fib_hit {
	int err;           /* 0: route; -EAGAIN: none or throw; else the reject type's error */
	int route;         /* index into st->routes, -1 */
	int path;          /* selected path (index into the route's resolved paths), -1 */
	uint8_t type;
	uint8_t prefixlen;
	uint32_t table;
	unsigned flags;    /* IPv6: the lookup flags of the pass that found it */
};

struct fib_outcome {
	int err;
	int rule;          /* deciding rule, -1 */
	struct fib_hit hit;
};

/* ---- small helpers -------------------------------------------------------- */

static void record_step(struct route_lookup_ctx *lk, int rule, uint8_t kind, int route)
{
	struct route_result *res = lk->res;

	if (!lk->record || !res)
		return;
	if (res->n_steps >= ROUTE_MAX_STEPS) {
		res->steps_truncated = true;
		return;
	}
	res->steps[res->n_steps++] = (struct route_step){ rule, kind, route };
}

static bool v4_is(const struct cg_addr *a, uint32_t net, unsigned len)
{
	uint32_t v = ntohl(a->v4.s_addr);
	uint32_t mask = len ? ~0u << (32 - len) : 0;
	return (v & mask) == net;
}

static bool v4_multicast(const struct cg_addr *a) { return v4_is(a, 0xe0000000, 4); }
static bool v4_lbcast(const struct cg_addr *a) { return v4_is(a, 0xffffffff, 32); }
static bool v4_loopback(const struct cg_addr *a) { return v4_is(a, 0x7f000000, 8); }
static bool v4_any(const struct cg_addr *a) { return a->v4.s_addr == 0; }
static bool v4_local_multicast(const struct cg_addr *a) { return v4_is(a, 0xe0000000, 24); }

static bool v6_need_strict(const struct cg_addr *a)
{
	const uint8_t *b = a->bytes;
	static const uint8_t loopback[16] = { [15] = 1 };

	return b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || memcmp(b, loopback, 16) == 0;
}

static const struct route_link *link_of(const struct route_lookup_ctx *lk, int ifindex)
{
	return ifindex > 0 ? route_state_link(lk->st, ifindex) : NULL;
}

static bool addr_is_local(const struct route_lookup_ctx *lk, const struct cg_addr *a)
{
	for (size_t i = 0; i < lk->st->n_addrs; i++) {
		const struct route_addr *x = &lk->st->addrs[i];
		if (x->family == a->family && addr_equal(&x->local, a))
			return true;
	}
	return false;
}

static bool link_has_v4_addr(const struct route_lookup_ctx *lk, int ifindex)
{
	for (size_t i = 0; i < lk->st->n_addrs; i++)
		if (lk->st->addrs[i].family == AF_INET && lk->st->addrs[i].ifindex == ifindex)
			return true;
	return false;
}

/* ---- nexthops ------------------------------------------------------------- */

/* The paths a route uses: its own, or those of its nexthop object (a group
 * expands to its members). *blackhole is set for a blackhole nexthop. */
static size_t route_paths(const struct route_lookup_ctx *lk, const struct route_entry *e,
			  struct route_path *out, size_t max, bool *blackhole)
{
	const struct route_nhobj *o;
	size_t n = 0;

	*blackhole = false;
	if (e->nh_id && (o = route_state_nhobj(lk->st, e->nh_id))) {
		if (o->blackhole) {
			*blackhole = true;
			return 0;
		}
		if (!o->n_members) {
			out[0] = (struct route_path){ o->gateway, o->ifindex, o->flags, 1 };
			return 1;
		}
		for (size_t i = 0; i < o->n_members && n < max; i++) {
			const struct route_nh_member *m = &lk->st->nh_members[o->first_member + i];
			const struct route_nhobj *mo = route_state_nhobj(lk->st, m->id);
			if (!mo)
				continue;
			if (mo->blackhole) {
				*blackhole = true;
				return 0;
			}
			out[n++] = (struct route_path){ mo->gateway, mo->ifindex, mo->flags, m->weight };
		}
		return n;
	}
	const struct route_path *own = route_entry_paths(lk->st, e);
	for (uint32_t i = 0; i < e->n_paths && n < max; i++)
		out[n++] = own[i];
	return n;
}

static bool path_alive(const struct route_lookup_ctx *lk, const struct route_path *p, int family,
		       unsigned flags)
{
	const struct route_link *l;

	if (p->flags & RTNH_F_DEAD)
		return false;
	if ((flags & LOOKUP_IGNORE_LINKSTATE) || !(p->flags & RTNH_F_LINKDOWN))
		return true;
	l = link_of(lk, p->ifindex);
	return !(family == AF_INET ? route_conf_or(lk, l, ROUTE_CONF(ignore_routes_with_linkdown)) :
				     route_conf_or(lk, l, ROUTE_CONF(ignore_routes_with_linkdown6)));
}

/* fib_lookup_good_nhc() */
static bool v4_good_nhc(const struct route_lookup_ctx *lk, const struct route_path *p,
			const struct route_flow *fl, unsigned flags)
{
	if (!path_alive(lk, p, AF_INET, flags))
		return false;
	return !fl->oif || fl->oif == p->ifindex;
}

/* fib_props[type].error */
static int v4_type_error(uint8_t type)
{
	switch (type) {
	case RTN_BLACKHOLE:
	case RTN_NAT:
	case RTN_XRESOLVE:
		return -EINVAL;
	case RTN_UNREACHABLE:
		return -EHOSTUNREACH;
	case RTN_PROHIBIT:
		return -EACCES;
	case RTN_THROW:
		return -EAGAIN;
	default:
		return 0;
	}
}

/* ---- IPv4 table lookup (fib_table_lookup) ---------------------------------- */

struct dead_key {
	const struct route_table_info *t;
	struct cg_addr key;
};

/* The i-th route of the index node found at `first` (route_index_find). */
static uint32_t node_route(const struct route_lookup_ctx *lk, uint32_t first, size_t i)
{
	return route_index_member(lk->ix, first + (uint32_t)i);
}

static void hit_reset(struct fib_hit *hit)
{
	*hit = (struct fib_hit){ .err = -EAGAIN, .route = -1, .path = -1 };
}

static void hit_set(struct fib_hit *hit, int err, uint32_t idx, const struct route_entry *e, int path)
{
	*hit = (struct fib_hit){ err, (int)idx, path, e->type, e->dst_len, e->table, 0 };
}

/* Looks up fl->daddr in one table, or in local and main merged the way the
 * kernel merges them while no rule was ever added. */
static void fib4_table_lookup(struct route_lookup_ctx *lk, const struct route_table_info *const *tabs,
			      size_t n_tabs, const struct route_flow *fl, unsigned flags,
			      struct fib_hit *hit)
{
	struct dead_key dead[8];
	size_t n_dead = 0;

	hit_reset(hit);
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
				uint32_t idx = node_route(lk, first, i);
				const struct route_entry *e = &lk->st->routes[idx];
				struct route_path paths[MAX_PATHS];
				bool blackhole;
				size_t np;
				int err;

				if (e->tos && e->tos != fl->tos)
					continue;
				if (e->scope < fl->scope)
					continue;
				err = v4_type_error(e->type);
				if (err) {
					hit_set(hit, err, idx, e, -1);
					return;
				}
				if (e->flags & RTNH_F_DEAD)
					continue;
				np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);
				if (blackhole) {
					hit_set(hit, -EINVAL, idx, e, -1);
					hit->type = RTN_BLACKHOLE;
					return;
				}
				for (size_t p = 0; p < np; p++)
					if (v4_good_nhc(lk, &paths[p], fl, flags)) {
						hit_set(hit, 0, idx, e, (int)p);
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

static bool port_match(const struct route_port_range *r, uint16_t mask, uint16_t port)
{
	if ((r->start ^ port) & mask)
		return false;
	if (!mask && r->start && r->end && (port < r->start || port > r->end))
		return false;
	return true;
}

static bool rule_match_l4(const struct route_rule *r, const struct route_flow *fl)
{
	if (r->ipproto && r->ipproto != fl->proto)
		return false;
	return port_match(&r->sport, r->sport_mask, fl->sport) &&
	       port_match(&r->dport, r->dport_mask, fl->dport);
}

static bool rule_match_dscp(const struct route_rule *r, const struct route_flow *fl)
{
	uint8_t dscp = fl->tos >> 2;

	if (r->dscp_set)
		return !((r->dscp ^ dscp) & r->dscp_mask);
	return !r->tos || (r->tos >> 2) == dscp;
}

/* fib4_rule_match() */
static bool rule_match4(const struct route_rule *r, const struct route_flow *fl)
{
	if (r->src.len && !addr_prefix_match(&fl->saddr, &r->src.addr, r->src.len))
		return false;
	if (r->dst.len && !addr_prefix_match(&fl->daddr, &r->dst.addr, r->dst.len))
		return false;
	return rule_match_dscp(r, fl) && rule_match_l4(r, fl);
}

/* fib6_rule_match() */
static bool rule_match6(struct route_lookup_ctx *lk, const struct route_rule *r,
			const struct route_flow *fl, unsigned flags)
{
	if (r->dst.len && !addr_prefix_match(&fl->daddr, &r->dst.addr, r->dst.len))
		return false;
	if (r->src.len) {
		if (flags & LOOKUP_HAS_SADDR) {
			if (!addr_prefix_match(&fl->saddr, &r->src.addr, r->src.len))
				return false;
		} else if (!(r->flags & FIB_RULE_FIND_SADDR)) {
			return false;
		} else {
			route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT,
					     "an IPv6 rule defers its source check to address selection");
		}
	}
	if (!rule_match_dscp(r, fl))
		return false;
	if (r->flowlabel_set && ((fl->flowlabel ^ r->flowlabel) & r->flowlabel_mask))
		return false;
	return rule_match_l4(r, fl);
}

/* fib_rule_match(): the generic selectors, then the family's. */
static bool rule_match(struct route_lookup_ctx *lk, const struct route_rule *r,
		       const struct route_flow *fl, unsigned flags)
{
	bool ret = false;

	/* A rule naming a device that does not exist holds ifindex -1 and
	 * so never matches (until a device of that name appears). */
	if (r->iif[0] && r->iif_index != fl->iif)
		goto out;
	if (r->oif[0] && r->oif_index != fl->oif)
		goto out;
	if ((r->fwmark ^ fl->mark) & r->fwmask)
		goto out;
	if (r->tun_id)
		goto out;
	if (r->l3mdev) {
		if (lk->ix->have_l3mdev)
			route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT, "l3mdev (VRF) rules are not simulated");
		goto out;
	}
	if (r->uid_set && (fl->uid < r->uid_start || fl->uid > r->uid_end))
		goto out;
	ret = fl->family == AF_INET ? rule_match4(r, fl) : rule_match6(lk, r, fl, flags);
out:
	return (r->flags & FIB_RULE_INVERT) ? !ret : ret;
}

static int rule_action_error(uint8_t action, uint8_t *type)
{
	switch (action) {
	case FR_ACT_UNREACHABLE:
		*type = RTN_UNREACHABLE;
		return -ENETUNREACH;
	case FR_ACT_PROHIBIT:
		*type = RTN_PROHIBIT;
		return -EACCES;
	default:
		*type = RTN_BLACKHOLE;
		return -EINVAL;
	}
}

/* The device of a route's first nexthop: what suppress_ifgroup tests. */
static int route_first_dev(const struct route_lookup_ctx *lk, const struct route_entry *e)
{
	struct route_path paths[MAX_PATHS];
	bool blackhole;

	return route_paths(lk, e, paths, MAX_PATHS, &blackhole) ? paths[0].ifindex : 0;
}

/* fib4_rule_suppress() / fib6_rule_suppress() */
static bool rule_suppress(struct route_lookup_ctx *lk, const struct route_rule *r,
			  const struct fib_hit *hit, int dev)
{
	const struct route_link *l;

	if (r->suppress_prefixlen >= 0 && (int)hit->prefixlen <= r->suppress_prefixlen)
		return true;
	if (r->suppress_ifgroup != -1 && dev && (l = link_of(lk, dev)) &&
	    (int32_t)l->group == r->suppress_ifgroup)
		return true;
	return false;
}

static void fib6_table_lookup(struct route_lookup_ctx *lk, const struct route_table_info *t,
			      const struct route_flow *fl, int oif, unsigned flags, struct fib_hit *hit);
static int v6_result_dev(const struct route_lookup_ctx *lk, const struct fib_hit *hit);

static int v6_score(struct route_lookup_ctx *lk, const struct route_entry *e,
		    const struct route_path *p, int oif, unsigned flags);

/* IPv6 suppresses by the device of the nexthop the flow hash picked: with
 * siblings in and out of the group, the outcome is the hash's. */
static void v6_check_suppress_ifgroup(struct route_lookup_ctx *lk, const struct route_rule *r,
				      const struct fib_hit *hit, int oif, unsigned flags)
{
	const struct route_entry *e = &lk->st->routes[hit->route];
	struct route_path paths[MAX_PATHS];
	bool blackhole, in = false, out = false;
	size_t np;

	if (e->type == RTN_LOCAL || e->type == RTN_ANYCAST)
		return;
	np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);
	for (size_t i = 0; i < np; i++) {
		const struct route_link *l = link_of(lk, paths[i].ifindex);
		if (v6_score(lk, e, &paths[i], oif, flags) < 0)
			continue;
		if (l && (int32_t)l->group == r->suppress_ifgroup)
			in = true;
		else
			out = true;
	}
	if (in && out)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT,
				     "suppress_ifgroup on a multipath route: the flow hash decides");
}

/* fib4_rule_action() / fib6_rule_action(): the rule's own verdict or its
 * table's answer. */
static int rule_action(struct route_lookup_ctx *lk, const struct route_rule *r,
		       const struct route_flow *fl, unsigned flags, int oif6, struct fib_hit *hit)
{
	const struct route_table_info *t;

	hit_reset(hit);
	if (r->action != FR_ACT_TO_TBL) {
		hit->err = rule_action_error(r->action, &hit->type);
		return hit->err;
	}
	t = route_index_table(lk->ix, fl->family, r->table);
	if (!t)
		return -EAGAIN; /* no such table: next rule */
	if (fl->family == AF_INET)
		fib4_table_lookup(lk, &t, 1, fl, flags, hit);
	else
		fib6_table_lookup(lk, t, fl, oif6, flags, hit);
	return hit->err;
}

/* fib_rules_lookup(): the rules of one family in order; goto jumps forward,
 * a table without an answer (or a throw route) passes to the next rule. */
static int fib_rules_lookup(struct route_lookup_ctx *lk, const struct route_flow *fl, unsigned flags,
			    int oif6, struct fib_outcome *out)
{
	int f = route_family_slot(fl->family);
	const uint32_t *rules = lk->ix->rules[f];
	size_t n = lk->ix->n_rules[f], pos = 0;

	*out = (struct fib_outcome){ .rule = -1 };
	hit_reset(&out->hit);
	while (pos < n) {
		const struct route_rule *r = &lk->st->rules[rules[pos]];
		struct fib_hit hit;
		int err;

		if (!rule_match(lk, r, fl, flags)) {
			record_step(lk, (int)rules[pos], ROUTE_STEP_NO_MATCH, -1);
			pos++;
			continue;
		}
		if (r->action == FR_ACT_GOTO) {
			int target = lk->ix->goto_pos[f][pos];
			record_step(lk, (int)rules[pos], target < 0 ? ROUTE_STEP_GOTO_UNRESOLVED : ROUTE_STEP_GOTO, -1);
			pos = target < 0 ? pos + 1 : (size_t)target;
			continue;
		}
		if (r->action == FR_ACT_NOP) {
			record_step(lk, (int)rules[pos], ROUTE_STEP_NOP, -1);
			pos++;
			continue;
		}
		err = rule_action(lk, r, fl, flags, oif6, &hit);
		if (err == 0) {
			int dev = fl->family == AF_INET ? route_first_dev(lk, &lk->st->routes[hit.route]) :
							  v6_result_dev(lk, &hit);
			if (fl->family == AF_INET6 && r->suppress_ifgroup != -1)
				v6_check_suppress_ifgroup(lk, r, &hit, oif6, hit.flags);
			if (rule_suppress(lk, r, &hit, dev)) {
				record_step(lk, (int)rules[pos], ROUTE_STEP_SUPPRESSED, hit.route);
				pos++;
				continue;
			}
		}
		if (err != -EAGAIN) {
			record_step(lk, (int)rules[pos], ROUTE_STEP_DECIDED, hit.route);
			*out = (struct fib_outcome){ err, (int)rules[pos], hit };
			return err;
		}
		record_step(lk, (int)rules[pos], hit.route >= 0 ? ROUTE_STEP_THROW : ROUTE_STEP_MISS, hit.route);
		pos++;
	}
	out->err = -ENETUNREACH; /* -ESRCH from the rules becomes "Network is unreachable" */
	out->hit.type = RTN_UNREACHABLE;
	return out->err;
}

/* fib_lookup() while no rule was ever added: local and main as one trie,
 * then table default only when nothing matched (an error route in main is
 * final, as it is under the default rules). */
static int fib4_lookup_shortcut(struct route_lookup_ctx *lk, const struct route_flow *fl,
				unsigned flags, struct fib_outcome *out)
{
	const struct route_table_info *tabs[2];
	const struct route_table_info *t;
	size_t n = 0;

	*out = (struct fib_outcome){ .rule = -1 };
	if ((t = route_index_table(lk->ix, AF_INET, RT_TABLE_LOCAL)))
		tabs[n++] = t;
	if ((t = route_index_table(lk->ix, AF_INET, RT_TABLE_MAIN)))
		tabs[n++] = t;
	fib4_table_lookup(lk, tabs, n, fl, flags, &out->hit);
	out->err = out->hit.err;
	if (out->err == -EAGAIN && (t = route_index_table(lk->ix, AF_INET, RT_TABLE_DEFAULT))) {
		fib4_table_lookup(lk, &t, 1, fl, flags, &out->hit);
		out->err = out->hit.err;
	}
	if (out->err == -EAGAIN) {
		out->err = -ENETUNREACH;
		hit_reset(&out->hit);
		out->hit.err = -ENETUNREACH;
		out->hit.type = RTN_UNREACHABLE;
	}
	return out->err;
}

static bool outcomes_equal(const struct fib_outcome *a, const struct fib_outcome *b)
{
	return a->err == b->err && a->hit.route == b->hit.route && a->hit.path == b->hit.path;
}

/* The rules the shortcut stands for, to name in the report. */
static void shortcut_name_rule(struct route_lookup_ctx *lk, struct fib_outcome *o)
{
	const uint32_t *rules = lk->ix->rules[0];

	if (o->hit.route < 0)
		return;
	for (size_t i = 0; i < lk->ix->n_rules[0]; i++)
		if (lk->st->rules[rules[i]].table == lk->st->routes[o->hit.route].table) {
			o->rule = (int)rules[i];
			return;
		}
}

/* fib_lookup() for IPv4. While no rule was ever added the kernel takes a
 * shortcut (fib_has_custom_rules); the collector probes for it. When it is
 * unknown, both ways are computed and a difference is flagged. */
static int fib4_lookup(struct route_lookup_ctx *lk, const struct route_flow *fl, unsigned flags,
		       struct fib_outcome *out)
{
	int32_t custom = lk->st->sysctl.fib4_custom_rules;
	struct fib_outcome alt;
	bool record = lk->record;
	int err;

	if (!lk->ix->default_rules[0] || custom > 0)
		return fib_rules_lookup(lk, fl, flags, 0, out);
	if (custom == 0) {
		err = fib4_lookup_shortcut(lk, fl, flags, out);
		shortcut_name_rule(lk, out);
		if (lk->res && lk->record)
			lk->res->tables_merged = true;
		return err;
	}
	err = fib_rules_lookup(lk, fl, flags, 0, out);
	lk->record = false;
	fib4_lookup_shortcut(lk, fl, flags, &alt);
	lk->record = record;
	if (!outcomes_equal(out, &alt))
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT,
				     "with only the default rules the answer depends on whether rules "
				     "were ever added, which no dump shows");
	if (out->err == 0 && out->hit.table == RT_TABLE_LOCAL)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_TABLE,
				     "the kernel reports table main for local routes until a rule is added");
	return err;
}

/* ---- IPv6 table lookup (fib6_table_lookup, rt6_select) --------------------- */

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
	l = link_of(lk, p->ifindex);
	interval = l && l->conf.rtr_probe_interval_ms > 0 ? l->conf.rtr_probe_interval_ms : 60000;
	if (n->updated_ms >= (uint32_t)interval)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT,
				     "a gateway's neighbour entry is FAILED; the lookup re-probes it, so the "
				     "next lookup may choose another route");
	return true;
}

/* find_match() + rt6_score_route(): -1 when the nexthop is not a candidate. */
static int v6_score(struct route_lookup_ctx *lk, const struct route_entry *e,
		    const struct route_path *p, int oif, unsigned flags)
{
	int m;

	if (!path_alive(lk, p, AF_INET6, flags))
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
		int m = v6_score(lk, e, &paths[p], oif, flags);
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
	metric0 = lk->st->routes[node_route(lk, first, 0)].metric;
	for (; i < n && lk->st->routes[node_route(lk, first, i)].metric == metric0; i++)
		v6_consider(lk, node_route(lk, first, i), oif, flags, best);
	if (best->route < 0)
		for (; i < n; i++)
			v6_consider(lk, node_route(lk, first, i), oif, flags, best);
	return best->route >= 0;
}

static int v6_type_error(uint8_t type)
{
	switch (type) {
	case RTN_BLACKHOLE:
	case RTN_NAT:
	case RTN_XRESOLVE:
		return -EINVAL;
	case RTN_UNREACHABLE:
		return -EHOSTUNREACH;
	case RTN_PROHIBIT:
		return -EACCES;
	case RTN_THROW:
		return -EAGAIN;
	default:
		return 0;
	}
}

/* fib6_table_lookup(): longest prefix first, backtracking past nodes with
 * no candidate; while forwarding is off, a first pass that passes over
 * FAILED gateways, then a second without that. */
static void fib6_table_lookup(struct route_lookup_ctx *lk, const struct route_table_info *t,
			      const struct route_flow *fl, int oif, unsigned flags, struct fib_hit *hit)
{
	if (lk->st->sysctl.all.forwarding6 <= 0)
		flags |= LOOKUP_REACHABLE;
	hit_reset(hit);
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
					if (route_entry_src(lk->st, &lk->st->routes[node_route(lk, first, i)]).len)
						route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT,
								     "source-specific IPv6 routes are not simulated");
			if (!rt6_select(lk, first, n, oif, flags, &pick))
				continue; /* fib6_backtrack() to a shorter prefix */
			const struct route_entry *e = &lk->st->routes[pick.route];
			hit_set(hit, v6_type_error(e->type), (uint32_t)pick.route, e, pick.path);
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
static int v6_result_dev(const struct route_lookup_ctx *lk, const struct fib_hit *hit)
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

void route_result_init(struct route_result *res, int family)
{
	*res = (struct route_result){ .family = family, .rule = -1, .route = -1 };
}

static void result_error(struct route_result *res, int err, uint8_t type, const char *reason)
{
	res->error = err;
	res->type = type;
	res->reason = reason;
	res->ifindex = 0;
	res->gateway = (struct cg_addr){ 0 };
	res->no_route = err == -ENETUNREACH && res->rule < 0 && !reason;
}

static void result_from_outcome(struct route_lookup_ctx *lk, const struct fib_outcome *o,
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

/* Fills the nexthop list: every path of the route, marking the candidates. */
static void result_hops(struct route_lookup_ctx *lk, const struct route_entry *e, int family,
			const struct route_flow *fl, unsigned flags, int oif6, struct route_result *res)
{
	struct route_path paths[MAX_PATHS];
	bool blackhole;
	size_t np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);

	res->n_hops = 0;
	for (size_t i = 0; i < np; i++) {
		struct route_hop *h = &res->hops[res->n_hops++];
		h->ifindex = paths[i].ifindex;
		h->gateway = paths[i].gateway;
		h->weight = paths[i].weight;
		h->flags = paths[i].flags;
		h->usable = family == AF_INET ? v4_good_nhc(lk, &paths[i], fl, flags) :
						v6_score(lk, e, &paths[i], oif6, flags) >= 0;
	}
}

/* When the kernel picks among several nexthops by flow hash, the device is
 * known only if every candidate agrees. */
static void result_check_multipath(struct route_lookup_ctx *lk, struct route_result *res, int sel)
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
static void v4_check_default_choice(struct route_lookup_ctx *lk, const struct route_entry *e)
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
		const struct route_entry *o = &lk->st->routes[node_route(lk, first, i)];
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

/* __ip_dev_find(saddr): an address of this host, or local in table local.
 * While local and main are merged (no rule ever added), "table local" is
 * the merged trie, so a local route in main counts too. */
static bool v4_source_is_local(struct route_lookup_ctx *lk, const struct cg_addr *a)
{
	const struct route_table_info *tabs[2];
	struct route_flow fl = { .family = AF_INET, .daddr = *a, .saddr = { .family = AF_INET } };
	struct fib_hit hit;
	int32_t custom = lk->st->sysctl.fib4_custom_rules;
	bool local_only, merged;

	if (addr_is_local(lk, a))
		return true;
	if (!(tabs[0] = route_index_table(lk->ix, AF_INET, RT_TABLE_LOCAL)))
		return false;
	fib4_table_lookup(lk, tabs, 1, &fl, 0, &hit);
	local_only = hit.err == 0 && hit.type == RTN_LOCAL;
	if (custom > 0 || !lk->ix->default_rules[0] ||
	    !(tabs[1] = route_index_table(lk->ix, AF_INET, RT_TABLE_MAIN)))
		return local_only;
	fib4_table_lookup(lk, tabs, 2, &fl, 0, &hit);
	merged = hit.err == 0 && hit.type == RTN_LOCAL;
	if (custom < 0 && merged != local_only)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT,
				     "whether the source is local depends on whether rules were ever added");
	return custom == 0 ? merged : local_only;
}

/* fib_info_nh_uses_dev() */
static bool route_uses_dev(const struct route_lookup_ctx *lk, const struct route_entry *e, int dev)
{
	struct route_path paths[MAX_PATHS];
	bool blackhole;
	size_t np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);

	for (size_t i = 0; i < np; i++)
		if (paths[i].ifindex == dev)
			return true;
	return false;
}

/* __fib_validate_source(): the reverse path check. */
static int v4_validate_source_full(struct route_lookup_ctx *lk, const struct route_flow *in, int oif,
				   const struct route_link *dev, int rpf)
{
	struct route_flow rfl = {
		.family = AF_INET,
		.daddr = in->saddr,
		.saddr = in->daddr,
		.has_saddr = true,
		.iif = oif ? oif : lk->lo_ifindex,
		.mark = route_conf_or(lk, dev, ROUTE_CONF(src_valid_mark)) ? in->mark : 0,
		.uid = 0,
		.proto = in->proto,
		.tos = in->tos,
		.sport = in->dport,
		.dport = in->sport,
	};
	struct fib_outcome o;
	bool record = lk->record;
	int err;

	lk->record = false;
	err = fib4_lookup(lk, &rfl, 0, &o);
	lk->record = record;
	if (err)
		return rpf ? -EXDEV : 0;
	if (o.hit.type != RTN_UNICAST &&
	    (o.hit.type != RTN_LOCAL || !route_conf_or(lk, dev, ROUTE_CONF(accept_local))))
		return -EINVAL;
	if (route_uses_dev(lk, &lk->st->routes[o.hit.route], dev->ifindex) ||
	    (o.hit.type == RTN_LOCAL && dev->ifindex == lk->lo_ifindex))
		return 0;
	if (!link_has_v4_addr(lk, dev->ifindex))
		return rpf ? -EXDEV : 0;
	if (rpf == 1)
		return -EXDEV;
	return 0; /* loose mode: any route back will do */
}

/* fib_validate_source() */
static int v4_validate_source(struct route_lookup_ctx *lk, const struct route_flow *in, int oif,
			      const struct route_link *dev)
{
	int rpf = route_conf_max(lk, dev, ROUTE_CONF(rp_filter));
	int tx_redirects = dev->conf.send_redirects < 0 && lk->st->sysctl.all.send_redirects < 0 ?
				   1 : route_conf_or(lk, dev, ROUTE_CONF(send_redirects));
	const struct route_table_info *local;
	int quick, full;

	if (rpf || lk->ix->tclassid_users || (dev->ifindex == oif && tx_redirects))
		return v4_validate_source_full(lk, in, oif, dev, rpf);
	if (route_conf_or(lk, dev, ROUTE_CONF(accept_local)))
		return 0;
	full = v4_validate_source_full(lk, in, oif, dev, rpf);
	local = route_index_table(lk->ix, AF_INET, RT_TABLE_LOCAL);
	if (!lk->ix->default_rules[0] || lk->st->sysctl.fib4_custom_rules > 0 || (local && local->has_custom))
		return full;
	quick = addr_is_local(lk, &in->saddr) ? -EINVAL : 0;
	if (quick != full)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT,
				     "the source check depends on whether rules or local routes were "
				     "ever added, which no dump shows");
	return quick;
}

/* Whether the kernel sends through the nexthop's gateway: only when the
 * nexthop has link scope. The dump does not carry the nexthop's scope; it
 * is what resolved the gateway when the route was added
 * (fib_check_nh_v4_gw: the route's own table first, then the rules, at
 * link scope or above). That is redone here on today's state; when it says
 * "not used" (the gateway resolves to a local route), history may differ,
 * so the gateway is flagged uncertain. */
static bool v4_gateway_used(struct route_lookup_ctx *lk, const struct route_entry *e,
			    const struct route_path *p)
{
	const struct route_table_info *t = NULL;
	struct route_flow fl = {
		.family = AF_INET,
		.daddr = p->gateway,
		.saddr = { .family = AF_INET },
		.iif = lk->lo_ifindex,
		.oif = p->ifindex,
		.scope = RT_SCOPE_LINK,
	};
	struct fib_outcome o;
	bool record = lk->record;

	if (p->gateway.family != AF_INET || (p->flags & RTNH_F_ONLINK))
		return p->gateway.family != AF_UNSPEC;
	hit_reset(&o.hit);
	if (e->table != RT_TABLE_MAIN && (t = route_index_table(lk->ix, AF_INET, e->table)))
		fib4_table_lookup(lk, &t, 1, &fl, LOOKUP_IGNORE_LINKSTATE, &o.hit);
	if (!t || o.hit.err) {
		lk->record = false;
		fib4_lookup(lk, &fl, LOOKUP_IGNORE_LINKSTATE, &o);
		lk->record = record;
	}
	if (o.hit.err == 0 && o.hit.type != RTN_LOCAL && o.hit.route >= 0 &&
	    lk->st->routes[o.hit.route].scope == RT_SCOPE_LINK)
		return true;
	route_mark_uncertain(lk, ROUTE_UNCERTAIN_DEV,
			     "the gateway does not resolve to an on-link route: whether the kernel uses "
			     "it depends on what resolved it when the route was added");
	return o.hit.err != 0; /* unresolvable today: it was resolvable then */
}

static void v4_set_source(struct route_lookup_ctx *lk, const struct route_entry *e,
			  const struct route_path *p, struct route_result *res)
{
	struct cg_addr gw = p && p->gateway.family == AF_INET ? p->gateway : (struct cg_addr){ 0 };
	struct cg_addr prefsrc = route_entry_prefsrc(lk->st, e);

	if (prefsrc.family) {
		res->source = prefsrc;
		return;
	}
	if (!p || !route_select_addr4(lk, p->ifindex, gw.family ? &gw : NULL, e->scope, &res->source))
		res->source = (struct cg_addr){ 0 };
}

static int v4_output(struct route_lookup_ctx *lk, struct route_flow *fl,
		     struct route_result *res)
{
	const struct route_link *oif = NULL;
	struct fib_outcome o;
	const struct route_entry *e;
	struct route_path paths[MAX_PATHS];
	bool blackhole;
	size_t np;
	int err;

	if (fl->has_saddr) {
		/* 0.0.0.0/8 is an ordinary range since Linux 5.3; only 0.0.0.0 is special. */
		if (v4_multicast(&fl->saddr) || v4_lbcast(&fl->saddr)) {
			result_error(res, -EINVAL, RTN_UNSPEC, "invalid source address");
			return 0;
		}
		if (!fl->oif && (v4_multicast(&fl->daddr) || v4_lbcast(&fl->daddr)))
			route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT, "multicast and broadcast are not simulated");
		if (!v4_source_is_local(lk, &fl->saddr)) {
			result_error(res, -ENETUNREACH, RTN_UNSPEC, "source address is not an address of this host");
			return 0;
		}
	}
	if (fl->oif) {
		oif = link_of(lk, fl->oif);
		if (!oif) {
			result_error(res, -ENODEV, RTN_UNSPEC, "no such output device");
			return 0;
		}
		if (!(oif->flags & IFF_UP)) {
			result_error(res, -ENETUNREACH, RTN_UNSPEC, "output device is down");
			return 0;
		}
		if (v4_local_multicast(&fl->daddr) || v4_lbcast(&fl->daddr))
			route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT, "multicast and broadcast are not simulated");
	}
	if (v4_any(&fl->daddr)) {
		res->type = RTN_LOCAL;
		res->ifindex = lk->lo_ifindex;
		res->source = fl->has_saddr ? fl->saddr : fl->daddr;
		if (!fl->has_saddr)
			addr_parse("127.0.0.1", &res->source);
		res->reason = "the unspecified destination means this host";
		return 0;
	}

	err = fib4_lookup(lk, fl, 0, &o);
	result_from_outcome(lk, &o, res);
	if (err) {
		if (fl->oif) {
			/* "Apparently, routing tables are wrong. Assume that
			 * the destination is on link." (route.c) */
			res->rule = -1;
			res->route = -1;
			res->table = 0;
			res->have_prefix = false;
			res->type = RTN_UNICAST;
			res->ifindex = fl->oif;
			res->reason = "no route; the socket is bound to the device, so the destination "
				      "is assumed on-link";
			if (fl->has_saddr)
				res->source = fl->saddr;
			else
				route_select_addr4(lk, fl->oif, NULL, RT_SCOPE_LINK, &res->source);
			goto make_route;
		}
		result_error(res, err, o.hit.type, NULL);
		return 0;
	}
	e = &lk->st->routes[o.hit.route];
	np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);
	result_hops(lk, e, AF_INET, fl, 0, 0, res);

	if (e->type == RTN_LOCAL) {
		res->ifindex = lk->lo_ifindex;
		struct cg_addr prefsrc = route_entry_prefsrc(lk->st, e);
		res->source = fl->has_saddr ? fl->saddr : prefsrc.family ? prefsrc : fl->daddr;
		goto make_route;
	}
	if (e->index_flags & ROUTE_F_V4_MC_SHARED)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_TYPE,
				     "a route to multicast space shares this route's nexthop, and with it "
				     "the cached output route, which may say multicast");
	/* fib_select_path() */
	if (o.hit.path >= 0 && (size_t)o.hit.path < np) {
		const struct route_path *p = &paths[o.hit.path];
		res->ifindex = p->ifindex;
		if (v4_gateway_used(lk, e, p))
			res->gateway = p->gateway;
		if (!fl->oif) {
			result_check_multipath(lk, res, o.hit.path);
			if (np == 1)
				v4_check_default_choice(lk, e);
		}
		if (fl->has_saddr)
			res->source = fl->saddr;
		else
			v4_set_source(lk, e, p, res);
	}
make_route:
	/* __mkroute_output() */
	if (v4_lbcast(&fl->daddr)) {
		res->type = RTN_BROADCAST;
		res->gateway = (struct cg_addr){ 0 };
	} else if (v4_multicast(&fl->daddr)) {
		res->type = RTN_MULTICAST;
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT, "multicast is not simulated");
	}
	if (res->source.family && v4_loopback(&res->source)) {
		const struct route_link *l = link_of(lk, res->ifindex);
		if (!l || !(l->flags & IFF_LOOPBACK)) {
			result_error(res, -EINVAL, RTN_UNSPEC, "loopback source address on a non-loopback device");
			return 0;
		}
	}
	if (res->type == RTN_BROADCAST)
		res->gateway = (struct cg_addr){ 0 };
	return 0;
}

static int v4_input(struct route_lookup_ctx *lk, struct route_flow *fl, struct route_result *res)
{
	const struct route_link *dev = link_of(lk, fl->iif);
	struct route_flow bfl;
	int forwarding;
	struct fib_outcome o;
	const struct route_entry *e;
	struct route_path paths[MAX_PATHS];
	bool blackhole, passes;
	size_t np;
	int err;

	res->input = true;
	if (!dev) {
		result_error(res, -ENODEV, RTN_UNSPEC, "no such input device");
		return 0;
	}
	forwarding = dev->conf.forwarding >= 0 ? dev->conf.forwarding : lk->st->sysctl.all.forwarding;
	if (v4_multicast(&fl->daddr)) {
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT, "multicast is not simulated");
		result_error(res, -EINVAL, RTN_MULTICAST, "multicast destination");
		return 0;
	}
	if (v4_multicast(&fl->saddr) || v4_lbcast(&fl->saddr)) {
		result_error(res, -EINVAL, RTN_UNSPEC, "martian source address");
		return 0;
	}
	if (v4_lbcast(&fl->daddr) || (v4_any(&fl->saddr) && v4_any(&fl->daddr)))
		goto brd_input;
	if (v4_any(&fl->saddr)) {
		result_error(res, -EINVAL, RTN_UNSPEC, "martian source address");
		return 0;
	}
	if (v4_any(&fl->daddr)) {
		result_error(res, -EINVAL, RTN_UNSPEC, "martian destination address");
		return 0;
	}
	if (v4_loopback(&fl->daddr) || v4_loopback(&fl->saddr)) {
		if (!route_conf_or(lk, dev, ROUTE_CONF(route_localnet))) {
			result_error(res, -EINVAL, RTN_UNSPEC, "loopback address on an outside interface (martian)");
			return 0;
		}
	}

	fl->uid = 0; /* sock_net_uid(net, NULL): the input path ignores RTA_UID */
	err = fib4_lookup(lk, fl, 0, &o);
	result_from_outcome(lk, &o, res);
	if (err) {
		if (forwarding <= 0) {
			result_error(res, -EHOSTUNREACH, o.hit.type ? o.hit.type : RTN_UNREACHABLE,
				     "no route, and forwarding is off on the input device");
			return 0;
		}
		result_error(res, err, o.hit.type, NULL);
		return 0;
	}
	e = &lk->st->routes[o.hit.route];
	np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);
	result_hops(lk, e, AF_INET, fl, 0, 0, res);
	if (e->type == RTN_BROADCAST) {
		if (route_conf_or(lk, dev, ROUTE_CONF(bc_forwarding)) &&
		    lk->st->sysctl.all.bc_forwarding > 0)
			route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT, "broadcast forwarding is not simulated");
		goto brd_input;
	}
	if (e->type == RTN_LOCAL) {
		if (v4_validate_source(lk, fl, 0, dev) < 0) {
			result_error(res, -EINVAL, RTN_LOCAL, "source address fails the source check "
				     "(martian or reverse path filter)");
			return 0;
		}
		res->ifindex = lk->lo_ifindex;
		res->source = fl->saddr;
		return 0;
	}
	if (forwarding <= 0) {
		result_error(res, -EHOSTUNREACH, e->type, "forwarding is off on the input device");
		return 0;
	}
	if (e->type != RTN_UNICAST) {
		result_error(res, -EINVAL, e->type, "martian destination");
		return 0;
	}
	if (o.hit.path < 0 || (size_t)o.hit.path >= np) {
		result_error(res, -EINVAL, RTN_UNSPEC, "no usable nexthop");
		return 0;
	}
	res->ifindex = paths[o.hit.path].ifindex;
	if (v4_gateway_used(lk, e, &paths[o.hit.path]))
		res->gateway = paths[o.hit.path].gateway;
	result_check_multipath(lk, res, o.hit.path);
	if (!link_of(lk, res->ifindex)) {
		result_error(res, -EINVAL, RTN_UNSPEC, "output device without IPv4");
		return 0;
	}
	/* __mkroute_input() validates the source against the nexthop the
	 * flow hash picked: with several candidates on different devices
	 * the check can pass for one and fail for another. */
	passes = v4_validate_source(lk, fl, res->ifindex, dev) >= 0;
	for (unsigned i = 0; i < res->n_hops; i++) {
		if (!res->hops[i].usable || res->hops[i].ifindex == res->ifindex)
			continue;
		if ((v4_validate_source(lk, fl, res->hops[i].ifindex, dev) >= 0) != passes) {
			route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT,
					     "multipath: whether the source check passes depends on the "
					     "nexthop the flow hash picks");
			break;
		}
	}
	if (!passes) {
		result_error(res, -EINVAL, RTN_UNICAST, "source address fails the source check "
			     "(martian or reverse path filter)");
		return 0;
	}
	res->source = fl->saddr;
	return 0;

brd_input:
	/* ip_route_input_slow() checks a broadcast's source against
	 * destination 0.0.0.0, which matters to "from" selectors of the
	 * reverse lookup. */
	bfl = *fl;
	bfl.daddr = (struct cg_addr){ .family = AF_INET };
	if (!v4_any(&fl->saddr) && v4_validate_source(lk, &bfl, 0, dev) < 0) {
		result_error(res, -EINVAL, RTN_BROADCAST, "source address fails the source check");
		return 0;
	}
	res->type = RTN_BROADCAST;
	res->ifindex = lk->lo_ifindex;
	res->gateway = (struct cg_addr){ 0 };
	res->source = fl->saddr;
	return 0;
}

/* ---- IPv6 ------------------------------------------------------------------ */

static int v6_lookup(struct route_lookup_ctx *lk, struct route_flow *fl, struct route_result *res)
{
	unsigned flags = 0;
	int oif = fl->oif;
	struct fib_outcome o;
	const struct route_entry *e;
	struct route_path paths[MAX_PATHS];
	bool blackhole;
	size_t np;
	int err;

	if (fl->iif != lk->lo_ifindex) {
		/* ip6_route_input_lookup(): the input device scores like an oif */
		res->input = true;
		if (!link_of(lk, fl->iif)) {
			result_error(res, -ENODEV, RTN_UNSPEC, "no such input device");
			return 0;
		}
		oif = fl->iif;
		if (v6_need_strict(&fl->daddr))
			flags |= LOOKUP_IFACE;
	} else if (v6_need_strict(&fl->daddr) || (fl->oif && !fl->has_saddr)) {
		flags |= LOOKUP_IFACE;
	}
	if (fl->has_saddr)
		flags |= LOOKUP_HAS_SADDR;
	if (fl->daddr.bytes[0] == 0xff)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT, "multicast is not simulated");

	/* Without custom rules the kernel looks at local, then main: the
	 * same walk as the default rules. */
	err = fib_rules_lookup(lk, fl, flags, oif, &o);
	result_from_outcome(lk, &o, res);
	if (err) {
		result_error(res, err, o.hit.type, NULL);
		return 0;
	}
	e = &lk->st->routes[o.hit.route];
	np = route_paths(lk, e, paths, MAX_PATHS, &blackhole);
	result_hops(lk, e, AF_INET6, fl, o.hit.flags ? o.hit.flags : flags, oif, res);
	if (e->index_flags & ROUTE_F_V6_SHARED_NH)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_TABLE,
				     "IPv6 routes sharing a nexthop object share its route cache: the kernel "
				     "reports the table and prefix of whichever route filled it first");
	if (o.hit.path >= 0 && (size_t)o.hit.path < np) {
		const struct route_path *p = &paths[o.hit.path];
		res->ifindex = (e->type == RTN_LOCAL || e->type == RTN_ANYCAST) ? lk->lo_ifindex : p->ifindex;
		res->gateway = p->gateway;
		result_check_multipath(lk, res, o.hit.path);
		struct cg_addr prefsrc = route_entry_prefsrc(lk->st, e);
		if (res->input)
			res->source = prefsrc.family ? prefsrc : fl->saddr;
		else if (fl->has_saddr)
			res->source = fl->saddr;
		else if (prefsrc.family)
			res->source = prefsrc;
		else if (!route_select_addr6(lk, p->ifindex, &fl->daddr, &res->source))
			res->source = (struct cg_addr){ 0 };
	}
	return 0;
}

/* ---- entry point ------------------------------------------------------------- */

static int lo_ifindex(const struct route_state *st)
{
	for (size_t i = 0; i < st->n_links; i++)
		if (st->links[i].flags & IFF_LOOPBACK)
			return st->links[i].ifindex;
	return 1; /* LOOPBACK_IFINDEX */
}

int route_lookup(const struct route_state *st, const struct route_packet *p, struct route_result *res)
{
	struct route_lookup_ctx lk = { st, st->index, res, true, lo_ifindex(st) };
	int family = p->dst.family;
	struct route_flow fl = {
		.family = family,
		.daddr = p->dst,
		.saddr = p->src,
		.has_saddr = p->src.family != AF_UNSPEC,
		.iif = p->iif ? p->iif : lk.lo_ifindex,
		.oif = p->oif,
		.mark = p->mark,
		/* IPv4 route queries without a protocol are answered for UDP
		 * (inet_rtm_getroute builds a UDP packet); IPv6 ones for none. */
		.proto = p->ipproto ? p->ipproto : family == AF_INET ? IPPROTO_UDP : 0,
		.tos = p->tos,
		.sport = p->sport,
		.dport = p->dport,
	};

	route_result_init(res, family);
	if (!st->index || (family != AF_INET && family != AF_INET6) ||
	    (fl.has_saddr && p->src.family != family))
		return -EINVAL;
	if (!fl.has_saddr)
		fl.saddr = (struct cg_addr){ .family = family };
	/* Locally generated: the socket's uid (root for us); IPv6 input
	 * lookups without one use INVALID_UID, IPv4 input uses uid 0. */
	fl.uid = p->uid_set ? p->uid : (p->iif && family == AF_INET6) ? INVALID_UID : 0;
	if (family == AF_INET6) {
		v6_lookup(&lk, &fl, res);
	} else if (p->iif) {
		v4_input(&lk, &fl, res);
	} else {
		v4_output(&lk, &fl, res);
	}
	if (res->error)
		res->uncertain &= ~(unsigned)(ROUTE_UNCERTAIN_DEV | ROUTE_UNCERTAIN_SOURCE | ROUTE_UNCERTAIN_TABLE |
					      ROUTE_UNCERTAIN_TYPE);
	return 0;
}
