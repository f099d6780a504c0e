/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The user-space route lookup. It follows the kernel function by function:
 *
 *   IPv4  ip_route_output_key_hash_rcu / ip_route_input_slow
 *         -> fib_lookup: fib_rules_lookup (route-rules.c) or the local+main
 *            shortcut when no rule was ever added
 *         -> fib_table_lookup (route-table.c)
 *         -> fib_select_path (route-result.c), source selection
 *            (route-source.c), fib_validate_source (here)
 *   IPv6  ip6_route_output_flags / ip6_route_input_lookup
 *         -> fib6_rule_lookup (route-rules.c) -> ip6_pol_route ->
 *            fib6_table_lookup (route-table.c)
 *
 * This file is the top: the input and output paths and the entry point.
 *
 * Everything the dumps cannot show (multipath hashing, whether rules were
 * ever added) is flagged uncertain instead of guessed. */
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
#define INVALID_UID UINT32_MAX

/* ---- small helpers -------------------------------------------------------- */

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
	fib_hit_reset(&o.hit);
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
	size_t np;
	int err;

	if (fl->has_saddr) {
		/* 0.0.0.0/8 is an ordinary range since Linux 5.3; only 0.0.0.0 is special. */
		if (v4_multicast(&fl->saddr) || v4_lbcast(&fl->saddr)) {
			route_result_error(res, -EINVAL, RTN_UNSPEC, "invalid source address");
			return 0;
		}
		if (!fl->oif && (v4_multicast(&fl->daddr) || v4_lbcast(&fl->daddr)))
			route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT, "multicast and broadcast are not simulated");
		if (!v4_source_is_local(lk, &fl->saddr)) {
			route_result_error(res, -ENETUNREACH, RTN_UNSPEC,
					   "source address is not an address of this host");
			return 0;
		}
	}
	if (fl->oif) {
		oif = route_link_of(lk, fl->oif);
		if (!oif) {
			route_result_error(res, -ENODEV, RTN_UNSPEC, "no such output device");
			return 0;
		}
		if (!(oif->flags & IFF_UP)) {
			route_result_error(res, -ENETUNREACH, RTN_UNSPEC, "output device is down");
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
	route_result_from_outcome(lk, &o, res);
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
		route_result_error(res, err, o.hit.type, NULL);
		return 0;
	}
	e = route_result_route(lk, &o.hit, fl, 0, 0, res, paths, &np);

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
			route_result_check_multipath(lk, res, o.hit.path);
			if (np == 1)
				route_v4_check_default_choice(lk, e);
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
		const struct route_link *l = route_link_of(lk, res->ifindex);
		if (!l || !(l->flags & IFF_LOOPBACK)) {
			route_result_error(res, -EINVAL, RTN_UNSPEC,
					   "loopback source address on a non-loopback device");
			return 0;
		}
	}
	if (res->type == RTN_BROADCAST)
		res->gateway = (struct cg_addr){ 0 };
	return 0;
}

static int v4_input(struct route_lookup_ctx *lk, struct route_flow *fl, struct route_result *res)
{
	const struct route_link *dev = route_link_of(lk, fl->iif);
	struct route_flow bfl;
	int forwarding;
	struct fib_outcome o;
	const struct route_entry *e;
	struct route_path paths[MAX_PATHS];
	bool passes;
	size_t np;
	int err;

	res->input = true;
	if (!dev) {
		route_result_error(res, -ENODEV, RTN_UNSPEC, "no such input device");
		return 0;
	}
	forwarding = dev->conf.forwarding >= 0 ? dev->conf.forwarding : lk->st->sysctl.all.forwarding;
	if (v4_multicast(&fl->daddr)) {
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT, "multicast is not simulated");
		route_result_error(res, -EINVAL, RTN_MULTICAST, "multicast destination");
		return 0;
	}
	if (v4_multicast(&fl->saddr) || v4_lbcast(&fl->saddr)) {
		route_result_error(res, -EINVAL, RTN_UNSPEC, "martian source address");
		return 0;
	}
	if (v4_lbcast(&fl->daddr) || (v4_any(&fl->saddr) && v4_any(&fl->daddr)))
		goto brd_input;
	if (v4_any(&fl->saddr)) {
		route_result_error(res, -EINVAL, RTN_UNSPEC, "martian source address");
		return 0;
	}
	if (v4_any(&fl->daddr)) {
		route_result_error(res, -EINVAL, RTN_UNSPEC, "martian destination address");
		return 0;
	}
	if (v4_loopback(&fl->daddr) || v4_loopback(&fl->saddr)) {
		if (!route_conf_or(lk, dev, ROUTE_CONF(route_localnet))) {
			route_result_error(res, -EINVAL, RTN_UNSPEC,
					   "loopback address on an outside interface (martian)");
			return 0;
		}
	}

	fl->uid = 0; /* sock_net_uid(net, NULL): the input path ignores RTA_UID */
	err = fib4_lookup(lk, fl, 0, &o);
	route_result_from_outcome(lk, &o, res);
	if (err) {
		if (forwarding <= 0) {
			route_result_error(res, -EHOSTUNREACH, o.hit.type ? o.hit.type : RTN_UNREACHABLE,
						   "no route, and forwarding is off on the input device");
			return 0;
		}
		route_result_error(res, err, o.hit.type, NULL);
		return 0;
	}
	e = route_result_route(lk, &o.hit, fl, 0, 0, res, paths, &np);
	if (e->type == RTN_BROADCAST) {
		if (route_conf_or(lk, dev, ROUTE_CONF(bc_forwarding)) &&
		    lk->st->sysctl.all.bc_forwarding > 0)
			route_mark_uncertain(lk, ROUTE_UNCERTAIN_RESULT, "broadcast forwarding is not simulated");
		goto brd_input;
	}
	if (e->type == RTN_LOCAL) {
		if (v4_validate_source(lk, fl, 0, dev) < 0) {
			route_result_error(res, -EINVAL, RTN_LOCAL, "source address fails the source check "
						   "(martian or reverse path filter)");
			return 0;
		}
		res->ifindex = lk->lo_ifindex;
		res->source = fl->saddr;
		return 0;
	}
	if (forwarding <= 0) {
		route_result_error(res, -EHOSTUNREACH, e->type, "forwarding is off on the input device");
		return 0;
	}
	if (e->type != RTN_UNICAST) {
		route_result_error(res, -EINVAL, e->type, "martian destination");
		return 0;
	}
	if (o.hit.path < 0 || (size_t)o.hit.path >= np) {
		route_result_error(res, -EINVAL, RTN_UNSPEC, "no usable nexthop");
		return 0;
	}
	res->ifindex = paths[o.hit.path].ifindex;
	if (v4_gateway_used(lk, e, &paths[o.hit.path]))
		res->gateway = paths[o.hit.path].gateway;
	route_result_check_multipath(lk, res, o.hit.path);
	if (!route_link_of(lk, res->ifindex)) {
		route_result_error(res, -EINVAL, RTN_UNSPEC, "output device without IPv4");
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
		route_result_error(res, -EINVAL, RTN_UNICAST, "source address fails the source check "
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
		route_result_error(res, -EINVAL, RTN_BROADCAST, "source address fails the source check");
		return 0;
	}
	res->type = RTN_BROADCAST;
	res->ifindex = lk->lo_ifindex;
	res->gateway = (struct cg_addr){ 0 };
	res->source = fl->saddr;
	return 0;
}

/* ---- IPv6 ------------------------------------------------------------------ */

/* ---- IPv6 ------------------------------------------------------------------ */

static int v6_lookup(struct route_lookup_ctx *lk, struct route_flow *fl, struct route_result *res)
{
	unsigned flags = 0;
	int oif = fl->oif;
	struct fib_outcome o;
	const struct route_entry *e;
	struct route_path paths[MAX_PATHS];
	size_t np;
	int err;

	if (fl->iif != lk->lo_ifindex) {
		/* ip6_route_input_lookup(): the input device scores like an oif */
		res->input = true;
		if (!route_link_of(lk, fl->iif)) {
			route_result_error(res, -ENODEV, RTN_UNSPEC, "no such input device");
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
	route_result_from_outcome(lk, &o, res);
	if (err) {
		route_result_error(res, err, o.hit.type, NULL);
		return 0;
	}
	e = route_result_route(lk, &o.hit, fl, o.hit.flags ? o.hit.flags : flags, oif, res, paths, &np);
	if (e->index_flags & ROUTE_F_V6_SHARED_NH)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_TABLE,
				     "IPv6 routes sharing a nexthop object share its route cache: the kernel "
				     "reports the table and prefix of whichever route filled it first");
	if (o.hit.path >= 0 && (size_t)o.hit.path < np) {
		const struct route_path *p = &paths[o.hit.path];
		res->ifindex = (e->type == RTN_LOCAL || e->type == RTN_ANYCAST) ? lk->lo_ifindex : p->ifindex;
		res->gateway = p->gateway;
		route_result_check_multipath(lk, res, o.hit.path);
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
