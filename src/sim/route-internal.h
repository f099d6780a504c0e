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

/* route-common.c: */
void route_mark_uncertain(struct route_lookup_ctx *lk, unsigned what, const char *why);

/* Source address selection, as inet_select_addr() (IPv4, `gw` may be
 * unset) and ipv6_dev_get_saddr() (IPv6, `dev` 0 for none). Return false
 * when the kernel would find no address. */
bool route_select_addr4(struct route_lookup_ctx *lk, int ifindex, const struct cg_addr *gw,
			uint8_t scope, struct cg_addr *out);
bool route_select_addr6(struct route_lookup_ctx *lk, int ifindex, const struct cg_addr *daddr,
			struct cg_addr *out);

/* Sysctl helpers: the device's value combined with "all" as the kernel does. */
int route_conf_or(const struct route_lookup_ctx *lk, const struct route_link *l, size_t offset);
int route_conf_max(const struct route_lookup_ctx *lk, const struct route_link *l, size_t offset);
#define ROUTE_CONF(field) offsetof(struct route_devconf, field)
