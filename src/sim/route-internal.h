/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the route lookup's files; not an interface. */
#pragma once

#include "cgnatcheck/route-index.h"
#include "cgnatcheck/route.h"

/* What the kernel calls a flow (struct flowi4 / flowi6). */
struct route_flow {
	int family;
	struct cg_addr daddr;
	struct cg_addr saddr;   /* all zero (family set) when not given */
	bool has_saddr;
	int iif;                /* the loopback ifindex for locally generated packets */
	int oif;
	uint32_t mark;
	uint32_t uid;
	uint8_t proto, tos;
	uint8_t scope;          /* minimum route scope (RT_SCOPE_UNIVERSE for lookups) */
	uint16_t sport, dport;
	uint32_t flowlabel;
};

struct route_lookup_ctx {
	const struct route_state *st;
	const struct route_index *ix;
	struct route_result *res;   /* where steps and uncertainty go */
	bool record;                /* record rule steps (the main lookup only) */
	int lo_ifindex;
};

#define MAX_PATHS ROUTE_MAX_HOPS

/* Flags of a table lookup (the kernel's RT6_LOOKUP_F_* and FIB_LOOKUP_*). */
enum {
	LOOKUP_IFACE = 1 << 0,           /* IPv6: routes must use the oif */
	LOOKUP_HAS_SADDR = 1 << 1,       /* IPv6: the flow has a source */
	LOOKUP_IGNORE_LINKSTATE = 1 << 2,
	LOOKUP_REACHABLE = 1 << 3,       /* IPv6: pass over gateways whose neighbour FAILED */
	/* IPv6: pick within a node as ip6_pol_route_lookup's rt6_device_match()
	 * does (nft's fib), not by rt6_select()'s scores */
	LOOKUP_DEVICE_MATCH = 1 << 4,
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

/* ---- route-common.c ---- */

void route_mark_uncertain(struct route_lookup_ctx *lk, unsigned what, const char *why);
/* Sysctl helpers: the device's value combined with "all" as the kernel does. */
int route_conf_or(const struct route_lookup_ctx *lk, const struct route_link *l, size_t offset);
int route_conf_max(const struct route_lookup_ctx *lk, const struct route_link *l, size_t offset);
#define ROUTE_CONF(field) offsetof(struct route_devconf, field)
const struct route_link *route_link_of(const struct route_lookup_ctx *lk, int ifindex);
/* The paths a route uses: its own, or those of its nexthop object (a group
 * expands to its members). *blackhole is set for a blackhole nexthop. */
size_t route_paths(const struct route_lookup_ctx *lk, const struct route_entry *e,
		   struct route_path *out, size_t max, bool *blackhole);
bool route_path_alive(const struct route_lookup_ctx *lk, const struct route_path *p, int family,
		      unsigned flags);
/* fib_props[type].error: what a route of this type answers (0: a route). */
int route_type_error(uint8_t type);
/* The i-th route of the index node found at `first` (route_index_find). */
uint32_t route_node_route(const struct route_lookup_ctx *lk, uint32_t first, size_t i);
void fib_hit_reset(struct fib_hit *hit);
void fib_hit_set(struct fib_hit *hit, int err, uint32_t idx, const struct route_entry *e, int path);

/* ---- route-table.c ---- */

/* fib_lookup_good_nhc() */
bool route_v4_good_nhc(const struct route_lookup_ctx *lk, const struct route_path *p,
		       const struct route_flow *fl, unsigned flags);
/* Looks up fl->daddr in one table, or in local and main merged the way the
 * kernel merges them while no rule was ever added. */
void fib4_table_lookup(struct route_lookup_ctx *lk, const struct route_table_info *const *tabs,
		       size_t n_tabs, const struct route_flow *fl, unsigned flags,
		       struct fib_hit *hit);
/* find_match() + rt6_score_route(): -1 when the nexthop is not a candidate. */
int route_v6_score(struct route_lookup_ctx *lk, const struct route_entry *e,
		   const struct route_path *p, int oif, unsigned flags);
void fib6_table_lookup(struct route_lookup_ctx *lk, const struct route_table_info *t,
		       const struct route_flow *fl, int oif, unsigned flags, struct fib_hit *hit);
/* The device of an IPv6 result as the rule suppressor sees it (rt6i_idev):
 * loopback for local delivery. */
int route_v6_result_dev(const struct route_lookup_ctx *lk, const struct fib_hit *hit);

/* ---- route-rules.c ---- */

/* fib_rules_lookup(): the rules of one family in order. */
int fib_rules_lookup(struct route_lookup_ctx *lk, const struct route_flow *fl, unsigned flags,
		     int oif6, struct fib_outcome *out);
/* fib_lookup() for IPv4 (the rules, or the shortcut without them). */
int fib4_lookup(struct route_lookup_ctx *lk, const struct route_flow *fl, unsigned flags,
		struct fib_outcome *out);

/* ---- route-result.c ---- */

void route_result_error(struct route_result *res, int err, uint8_t type, const char *reason);
void route_result_from_outcome(struct route_lookup_ctx *lk, const struct fib_outcome *o,
			       struct route_result *res);
/* The route a lookup found: fills the nexthop list (the candidates marked)
 * and hands back the route and its paths (*np, room for MAX_PATHS). */
const struct route_entry *route_result_route(struct route_lookup_ctx *lk, const struct fib_hit *hit,
					     const struct route_flow *fl, unsigned flags, int oif6,
					     struct route_result *res, struct route_path *paths, size_t *np);
/* Flags a flow-hash choice among candidates that differ. */
void route_result_check_multipath(struct route_lookup_ctx *lk, struct route_result *res, int sel);
/* fib_select_default(): flags several default gateways of one metric. */
void route_v4_check_default_choice(struct route_lookup_ctx *lk, const struct route_entry *e);

/* ---- route-source.c ---- */

/* Source address selection, as inet_select_addr() (IPv4, `gw` may be
 * unset) and ipv6_dev_get_saddr() (IPv6, `dev` 0 for none). Return false
 * when the kernel would find no address. */
bool route_select_addr4(struct route_lookup_ctx *lk, int ifindex, const struct cg_addr *gw,
			uint8_t scope, struct cg_addr *out);
bool route_select_addr6(struct route_lookup_ctx *lk, int ifindex, const struct cg_addr *daddr,
			struct cg_addr *out);
