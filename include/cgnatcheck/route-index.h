/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The lookup index over a struct route_state, built by route_state_finalize():
 * for every (family, table) the set of prefix lengths present, and one hash
 * of (family, table, length, prefix) -> the routes of that prefix in the
 * kernel's order. A longest-prefix match probes the lengths present, longest
 * first: at most 33 (IPv4) or 129 (IPv6) probes, whatever the table size. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/route.h"

struct route_table_info {
	int family;
	uint32_t id;
	uint64_t lens[3];        /* bit L: some route has prefix length L (0..128) */
	uint32_t n_routes;
	uint32_t n_default;      /* routes with prefix length 0 */
	bool has_src_routes;     /* IPv6 source-specific routes */
	bool has_custom;         /* routes not made by the kernel (protocol != kernel) */
};

/* One slot of the prefix hash: a (table, length, prefix) node, named by
 * the position of its first route in members order. The node's key is not
 * stored: a probe compares `tag` (other bits of the same hash), then the
 * first route's own table, length and prefix. */
struct route_slot {
	uint32_t tag;
	uint32_t pos;            /* 1 + position in members order; 0: empty slot */
};

struct route_index {
	struct route_table_info *tables;
	size_t n_tables;
	struct route_slot *slots;
	size_t mask;             /* slots - 1; slots is a power of two */
	/* Route indices grouped by node, kernel order inside; a node's last
	 * route carries ROUTE_F_NODE_END. NULL when the routes are grouped so
	 * already (as the kernel dumps them): position i is route i. */
	uint32_t *members;
	uint32_t *rules[2];      /* rule indices per family (0: IPv4, 1: IPv6), kernel order */
	size_t n_rules[2];
	int *goto_pos[2];        /* per family: position of each rule's goto target, -1 */
	uint32_t *links_by_index;   /* link indices sorted by ifindex */
	uint32_t *nhobjs_by_id;     /* nexthop object indices sorted by id */
	uint32_t *neighs_sorted;    /* neighbour indices sorted by (ifindex, address) */
	bool default_rules[2];   /* exactly the kernel's initial rules */
	bool have_l3mdev;        /* a VRF (l3 master) device exists */
	bool tclassid_users;     /* realms in use (changes rp_filter's shortcut) */
	/* per family: a rule or route selects by TOS/DSCP (or IPv6 flow label),
	 * so a lookup depends on those bits of the packet */
	bool has_tos[2];
};

/* route_entry.index_flags: */
/* An IPv6 route whose nexthop object shares a nexthop with another route
 * (they share the nexthop's route cache). */
#define ROUTE_F_V6_SHARED_NH 0x1
/* An IPv4 route that shares its fib_info (and so its cached output route)
 * with a route to a multicast range: a lookup there leaves a multicast-typed
 * route in the cache, which the kernel then hands out for this one too. */
#define ROUTE_F_V4_MC_SHARED 0x2
/* The last route of its (table, length, prefix) in members order. */
#define ROUTE_F_NODE_END 0x4

/* Frees an index (route_state_free() does, with the state). */
void route_index_free(struct route_index *ix);

static inline int route_family_slot(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

const struct route_table_info *route_index_table(const struct route_index *ix, int family,
						 uint32_t id);
/* How many routes have exactly (table, len, addr masked to len) in st's
 * index, 0 when none; they are route_index_member(ix, *first + i), in the
 * kernel's order. */
size_t route_index_find(const struct route_state *st, const struct route_table_info *t,
			unsigned len, const struct cg_addr *addr, uint32_t *first);

static inline uint32_t route_index_member(const struct route_index *ix, uint32_t pos)
{
	return ix->members ? ix->members[pos] : pos;
}

static inline bool route_table_has_len(const struct route_table_info *t, unsigned len)
{
	return (t->lens[len / 64] >> (len % 64)) & 1;
}
