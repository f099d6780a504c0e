/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy routing rules: fib_rules_lookup (net/core/fib_rules.c) with
 * fib4_rule_match / fib4_rule_action / fib4_rule_suppress (and IPv6's), or,
 * for IPv4, the local+main shortcut fib_lookup takes while no rule was ever
 * added. Each rule that names a table asks it (route-table.c). */
#include "config.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-index.h"
#include "cgnatcheck/route.h"
#include "route-internal.h"

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
	if (r->suppress_ifgroup != -1 && dev && (l = route_link_of(lk, dev)) &&
	    (int32_t)l->group == r->suppress_ifgroup)
		return true;
	return false;
}

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
		const struct route_link *l = route_link_of(lk, paths[i].ifindex);
		if (route_v6_score(lk, e, &paths[i], oif, flags) < 0)
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

	fib_hit_reset(hit);
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
int fib_rules_lookup(struct route_lookup_ctx *lk, const struct route_flow *fl, unsigned flags,
		     int oif6, struct fib_outcome *out)
{
	int f = route_family_slot(fl->family);
	const uint32_t *rules = lk->ix->rules[f];
	size_t n = lk->ix->n_rules[f], pos = 0;

	*out = (struct fib_outcome){ .rule = -1 };
	fib_hit_reset(&out->hit);
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
							  route_v6_result_dev(lk, &hit);
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
		fib_hit_reset(&out->hit);
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
int fib4_lookup(struct route_lookup_ctx *lk, const struct route_flow *fl, unsigned flags,
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
