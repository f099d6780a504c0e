/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every part of the route lookup uses: the uncertainty a result
 * carries, the sysctls as the kernel combines a device's value with "all",
 * a route's paths (its own or its nexthop object's), whether a path is
 * alive, what a route type answers, and a table hit. Below the lookup's
 * other files and source selection (route-source.c). */
#include "config.h"

#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-index.h"
#include "cgnatcheck/route.h"
#include "route-internal.h"

void route_mark_uncertain(struct route_lookup_ctx *lk, unsigned what, const char *why)
{
	if (!lk->res)
		return;
	if (!lk->res->uncertain_why)
		lk->res->uncertain_why = why;
	lk->res->uncertain |= what;
}

static int32_t conf_val(const struct route_link *l, size_t offset)
{
	int32_t v;

	memcpy(&v, (const char *)&l->conf + offset, sizeof(v));
	return v;
}

/* IN_DEV_ORCONF: "all" or the device. Unknown counts as 0. */
int route_conf_or(const struct route_lookup_ctx *lk, const struct route_link *l, size_t offset)
{
	int32_t a = 0, d = 0;

	memcpy(&a, (const char *)&lk->st->sysctl.all + offset, sizeof(a));
	if (l)
		d = conf_val(l, offset);
	return a > 0 || d > 0;
}

/* IN_DEV_MAXCONF: the larger of "all" and the device (rp_filter). */
int route_conf_max(const struct route_lookup_ctx *lk, const struct route_link *l, size_t offset)
{
	int32_t a = 0, d = 0;

	memcpy(&a, (const char *)&lk->st->sysctl.all + offset, sizeof(a));
	if (l)
		d = conf_val(l, offset);
	if (a < 0)
		a = 0;
	if (d < 0)
		d = 0;
	return a > d ? a : d;
}

const struct route_link *route_link_of(const struct route_lookup_ctx *lk, int ifindex)
{
	return ifindex > 0 ? route_state_link(lk->st, ifindex) : NULL;
}

/* The paths a route uses: its own, or those of its nexthop object (a group
 * expands to its members). *blackhole is set for a blackhole nexthop. */
size_t route_paths(const struct route_lookup_ctx *lk, const struct route_entry *e,
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

bool route_path_alive(const struct route_lookup_ctx *lk, const struct route_path *p, int family,
		      unsigned flags)
{
	const struct route_link *l;

	if (p->flags & RTNH_F_DEAD)
		return false;
	if ((flags & LOOKUP_IGNORE_LINKSTATE) || !(p->flags & RTNH_F_LINKDOWN))
		return true;
	l = route_link_of(lk, p->ifindex);
	return !(family == AF_INET ? route_conf_or(lk, l, ROUTE_CONF(ignore_routes_with_linkdown)) :
				     route_conf_or(lk, l, ROUTE_CONF(ignore_routes_with_linkdown6)));
}

/* fib_props[type].error */
int route_type_error(uint8_t type)
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

/* The i-th route of the index node found at `first` (route_index_find). */
uint32_t route_node_route(const struct route_lookup_ctx *lk, uint32_t first, size_t i)
{
	return route_index_member(lk->ix, first + (uint32_t)i);
}

void fib_hit_reset(struct fib_hit *hit)
{
	*hit = (struct fib_hit){ .err = -EAGAIN, .route = -1, .path = -1 };
}

void fib_hit_set(struct fib_hit *hit, int err, uint32_t idx, const struct route_entry *e, int path)
{
	*hit = (struct fib_hit){ err, (int)idx, path, e->type, e->dst_len, e->table, 0 };
}
