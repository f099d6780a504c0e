/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The routing state container: growth, the default rules, and the names of
 * things (the lookups and the index built once the state is complete are
 * route-index.c's). */
#include "config.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-index.h"
#include "cgnatcheck/route.h"

void route_state_init(struct route_state *st)
{
	*st = (struct route_state){ 0 };
	memset(&st->sysctl.all, 0xff, sizeof(st->sysctl.all)); /* -1: unknown */
	st->sysctl.fib_multipath_use_neigh = -1;
	st->sysctl.fib4_custom_rules = -1;
}

void route_state_free(struct route_state *st)
{
	free(st->links);
	free(st->addrs);
	free(st->rules);
	free(st->routes);
	free(st->paths);
	free(st->route_extras);
	free(st->nhobjs);
	free(st->nh_members);
	free(st->neighs);
	route_index_free(st->index);
	route_state_init(st);
}

#define APPEND(st, arr, n, cap, item)                                                  \
	({                                                                             \
		grow_array((void **)&(st)->arr, &(st)->cap, (st)->n + 1, sizeof(*(st)->arr)); \
		(st)->arr[(st)->n] = *(item);                                          \
		&(st)->arr[(st)->n++];                                                 \
	})

struct route_link *route_state_add_link(struct route_state *st, const struct route_link *l)
{
	return APPEND(st, links, n_links, cap_links, l);
}

struct route_addr *route_state_add_addr(struct route_state *st, const struct route_addr *a)
{
	return APPEND(st, addrs, n_addrs, cap_addrs, a);
}

struct route_rule *route_state_add_rule(struct route_state *st, const struct route_rule *r)
{
	return APPEND(st, rules, n_rules, cap_rules, r);
}

/* What a route costs: no padding, a single path inline. */
_Static_assert(sizeof(struct route_entry) == 76, "struct route_entry layout");

static bool addr_is_none(const struct cg_addr *a)
{
	static const uint8_t zero[sizeof(a->bytes)];

	return a->family == AF_UNSPEC && memcmp(a->bytes, zero, sizeof(zero)) == 0;
}

static bool extra_equal(const struct route_extra *x, const struct route_desc *d)
{
	return x->src.len == d->src.len && x->src.addr.family == d->src.addr.family &&
	       memcmp(x->src.addr.bytes, d->src.addr.bytes, sizeof(x->src.addr.bytes)) == 0 &&
	       x->prefsrc.family == d->prefsrc.family &&
	       memcmp(x->prefsrc.bytes, d->prefsrc.bytes, sizeof(x->prefsrc.bytes)) == 0 &&
	       x->realm == d->realm;
}

/* The route's extra (1 + index), 0 when it has none: no source prefix (what
 * route_entry_src() gives then), no preferred source, no realm. The last
 * few are looked at for an equal one to share (consecutive routes often
 * have the same preferred source). */
static uint32_t route_extra_get(struct route_state *st, const struct route_desc *d)
{
	struct route_extra *x;
	struct cg_addr src = d->src.addr;

	if (src.family == d->family)
		src.family = AF_UNSPEC;
	if (!d->src.len && addr_is_none(&src) && addr_is_none(&d->prefsrc) && !d->realm)
		return 0;
	for (size_t i = st->n_route_extras, k = 0; i > 0 && k < 8; i--, k++)
		if (extra_equal(&st->route_extras[i - 1], d))
			return (uint32_t)i;
	grow_array((void **)&st->route_extras, &st->cap_route_extras, st->n_route_extras + 1,
		   sizeof(*st->route_extras));
	x = &st->route_extras[st->n_route_extras++];
	*x = (struct route_extra){ .src = d->src, .prefsrc = d->prefsrc, .realm = d->realm };
	return (uint32_t)st->n_route_extras;
}

struct route_entry *route_state_add_route(struct route_state *st, const struct route_desc *d,
					  const struct route_path *paths, size_t n)
{
	struct route_entry e = {
		.table = d->table,
		.flags = d->flags,
		.metric = d->metric,
		.nh_id = d->nh_id,
		.extra = route_extra_get(st, d),
		.n_paths = (uint32_t)n,
		/* anything else is refused by route_state_finalize() */
		.family = d->family == AF_INET || d->family == AF_INET6 ? (uint8_t)d->family : AF_UNSPEC,
		.type = d->type,
		.protocol = d->protocol,
		.scope = d->scope,
		.tos = d->tos,
		.pref = d->pref,
		.dst_len = d->dst.addr.family == d->family && d->dst.len < ROUTE_DST_LEN_BAD ?
				   d->dst.len : ROUTE_DST_LEN_BAD,
	};

	memcpy(e.dst, d->dst.addr.bytes, sizeof(e.dst));
	if (n == 1) {
		e.path = paths[0];
	} else if (n > 1) {
		e.first_path = (uint32_t)st->n_paths;
		for (size_t i = 0; i < n; i++)
			APPEND(st, paths, n_paths, cap_paths, &paths[i]);
	}
	return APPEND(st, routes, n_routes, cap_routes, &e);
}

struct route_nhobj *route_state_add_nhobj(struct route_state *st, const struct route_nhobj *o,
					  const struct route_nh_member *members, size_t n)
{
	struct route_nhobj *out = APPEND(st, nhobjs, n_nhobjs, cap_nhobjs, o);

	out->first_member = (uint32_t)st->n_nh_members;
	out->n_members = (uint32_t)n;
	for (size_t i = 0; i < n; i++)
		APPEND(st, nh_members, n_nh_members, cap_nh_members, &members[i]);
	return out;
}

struct route_neigh *route_state_add_neigh(struct route_state *st, const struct route_neigh *n)
{
	return APPEND(st, neighs, n_neighs, cap_neighs, n);
}

void route_rule_init(struct route_rule *r)
{
	*r = (struct route_rule){
		.action = FR_ACT_TO_TBL,
		.suppress_prefixlen = -1,
		.suppress_ifgroup = -1,
		.uid_end = UINT32_MAX,
		.iif_index = 0,
		.oif_index = 0,
		.goto_rule = -1,
	};
}

void route_link_init(struct route_link *l)
{
	*l = (struct route_link){ 0 };
	memset(&l->conf, 0xff, sizeof(l->conf)); /* -1: unknown */
}

void route_state_add_default_rules(struct route_state *st, int family)
{
	static const struct { uint32_t pref, table; } defaults[] = {
		{ 0, RT_TABLE_LOCAL }, { 32766, RT_TABLE_MAIN }, { 32767, RT_TABLE_DEFAULT },
	};
	struct route_rule r;

	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
		if (family == AF_INET6 && defaults[i].table == RT_TABLE_DEFAULT)
			continue;
		route_rule_init(&r);
		r.family = family;
		r.priority = defaults[i].pref;
		r.table = defaults[i].table;
		route_state_add_rule(st, &r);
	}
}

/* ---- names ----------------------------------------------------------------- */

const char *route_type_to_string(uint8_t type)
{
	static const char *const names[] = {
		[RTN_UNSPEC] = "none",        [RTN_UNICAST] = "unicast",   [RTN_LOCAL] = "local",
		[RTN_BROADCAST] = "broadcast", [RTN_ANYCAST] = "anycast",  [RTN_MULTICAST] = "multicast",
		[RTN_BLACKHOLE] = "blackhole", [RTN_UNREACHABLE] = "unreachable",
		[RTN_PROHIBIT] = "prohibit",  [RTN_THROW] = "throw",       [RTN_NAT] = "nat",
		[RTN_XRESOLVE] = "xresolve",
	};
	return type < ARRAY_SIZE(names) && names[type] ? names[type] : "unknown";
}

const char *route_table_to_string(uint32_t table, char buf[static 11])
{
	switch (table) {
	case RT_TABLE_MAIN:
		return "main";
	case RT_TABLE_LOCAL:
		return "local";
	case RT_TABLE_DEFAULT:
		return "default";
	default:
		snprintf(buf, 11, "%u", table);
		return buf;
	}
}

const char *route_rule_action_to_string(uint8_t action)
{
	switch (action) {
	case FR_ACT_TO_TBL:
		return "lookup";
	case FR_ACT_GOTO:
		return "goto";
	case FR_ACT_NOP:
		return "nop";
	case FR_ACT_BLACKHOLE:
		return "blackhole";
	case FR_ACT_UNREACHABLE:
		return "unreachable";
	case FR_ACT_PROHIBIT:
		return "prohibit";
	default:
		return "unknown";
	}
}

const char *route_step_kind_to_string(uint8_t kind)
{
	static const char *const names[] = {
		[ROUTE_STEP_NO_MATCH] = "no-match",  [ROUTE_STEP_NOP] = "nop",
		[ROUTE_STEP_GOTO] = "goto",          [ROUTE_STEP_GOTO_UNRESOLVED] = "goto-unresolved",
		[ROUTE_STEP_MISS] = "no-route",      [ROUTE_STEP_THROW] = "throw",
		[ROUTE_STEP_SUPPRESSED] = "suppressed", [ROUTE_STEP_DECIDED] = "decided",
	};
	return kind < ARRAY_SIZE(names) && names[kind] ? names[kind] : "unknown";
}

const char *route_ifname(const struct route_state *st, int ifindex, char buf[static IFNAMSIZ + 8])
{
	const struct route_link *l = st ? route_state_link(st, ifindex) : NULL;

	if (l)
		return l->name;
	snprintf(buf, IFNAMSIZ + 8, "if%d", ifindex);
	return buf;
}

int route_rule_format(const struct route_state *st, const struct route_rule *r, char *buf, size_t size)
{
	char a[CG_ADDRSTRLEN], t[11];
	size_t n = 0;

#define OUT(...) (n += (size_t)snprintf(buf + (n < size ? n : size), n < size ? size - n : 0, __VA_ARGS__))
	(void)st;
	OUT("%u: ", r->priority);
	if (r->flags & FIB_RULE_INVERT)
		OUT("not ");
	OUT("from %s", r->src.len ? prefix_to_string(&r->src, a) : "all");
	if (r->dst.len)
		OUT(" to %s", prefix_to_string(&r->dst, a));
	if (r->tos)
		OUT(" tos 0x%02x", r->tos);
	if (r->dscp_set)
		OUT(" dscp %u", r->dscp);
	if (r->fwmask)
		OUT(r->fwmask == UINT32_MAX ? " fwmark 0x%x" : " fwmark 0x%x/0x%x", r->fwmark, r->fwmask);
	if (r->iif[0])
		OUT(" iif %s%s", r->iif, r->iif_index < 0 ? " [detached]" : "");
	if (r->oif[0])
		OUT(" oif %s%s", r->oif, r->oif_index < 0 ? " [detached]" : "");
	if (r->uid_set)
		OUT(" uidrange %u-%u", r->uid_start, r->uid_end);
	if (r->ipproto)
		OUT(" ipproto %u", r->ipproto);
	if (r->sport.start || r->sport.end)
		OUT(r->sport.start == r->sport.end ? " sport %u" : " sport %u-%u", r->sport.start, r->sport.end);
	if (r->dport.start || r->dport.end)
		OUT(r->dport.start == r->dport.end ? " dport %u" : " dport %u-%u", r->dport.start, r->dport.end);
	if (r->l3mdev)
		OUT(" lookup [l3mdev-table]");
	switch (r->action) {
	case FR_ACT_TO_TBL:
		if (!r->l3mdev)
			OUT(" lookup %s", route_table_to_string(r->table, t));
		break;
	case FR_ACT_GOTO:
		OUT(" goto %u%s", r->goto_target, r->flags & FIB_RULE_UNRESOLVED ? " [unresolved]" : "");
		break;
	default:
		OUT(" %s", route_rule_action_to_string(r->action));
	}
	if (r->suppress_prefixlen >= 0)
		OUT(" suppress_prefixlength %d", r->suppress_prefixlen);
	if (r->suppress_ifgroup >= 0)
		OUT(" suppress_ifgroup %d", r->suppress_ifgroup);
#undef OUT
	return (int)n;
}

bool route_link_is_overlay(const struct route_link *l)
{
	static const char *const prefixes[] = { "tailscale", "wg", "nb-", "wt", "zt", "CloudflareWARP" };

	if (strcmp(l->kind, "wireguard") == 0 || strcmp(l->kind, "tun") == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncasecmp(l->name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}
