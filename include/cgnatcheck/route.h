/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The routing stage: the kernel's routing state as plain data (collect/),
 * and a lookup over it that resolves a packet's route as the kernel does
 * (sim/), plus a live lookup that asks the kernel the same question.
 *
 *   struct route_state st;
 *   route_state_init(&st);
 *   r = route_state_collect(&st);   // links, addresses, rules, routes, nexthops, IPv6 neighbours
 *   r = route_lookup(&st, &packet, &res);  // pure: no I/O
 *   r = route_lookup_kernel(&st, &packet, &kres);   // RTM_GETROUTE
 *   route_state_free(&st);
 *
 * A state can also be built by hand (tests, saved states): fill the arrays
 * with the route_state_add_*() helpers, then call route_state_finalize(). */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cgnatcheck/addr.h"

/* ---- the state ---------------------------------------------------------- */

/* Per-device sysctl values that change a lookup's outcome; -1 = unknown. */
struct route_devconf {
	int32_t forwarding;
	int32_t rp_filter;
	int32_t accept_local;
	int32_t src_valid_mark;
	int32_t send_redirects;
	int32_t route_localnet;
	int32_t ignore_routes_with_linkdown;
	int32_t bc_forwarding;
	/* IPv6 */
	int32_t forwarding6;
	int32_t use_tempaddr;
	int32_t use_oif_addrs_only;
	int32_t ignore_routes_with_linkdown6;
	int32_t disable_ipv6;
	int32_t rtr_probe_interval_ms;
};

struct route_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[16];          /* IFLA_INFO_KIND: "veth", "tun", "vrf", ... ("" if none) */
	uint16_t type;          /* ARPHRD_* */
	uint32_t flags;         /* IFF_* */
	uint8_t operstate;      /* IF_OPER_* */
	bool carrier;
	int master;             /* IFLA_MASTER, 0 if none */
	uint32_t group;         /* IFLA_GROUP */
	bool has_inet, has_inet6;
	struct route_devconf conf;
};

struct route_addr {
	int family;
	int ifindex;
	struct cg_addr local;   /* the host's own address (IFA_LOCAL for IPv4) */
	struct cg_addr peer;    /* IFA_ADDRESS when it differs (point-to-point) */
	uint8_t prefixlen;
	uint8_t scope;          /* RT_SCOPE_* */
	uint32_t flags;         /* IFA_F_* (IFA_FLAGS when present) */
};

struct route_port_range {
	uint16_t start, end;    /* 0/0: not set */
};

struct route_rule {
	int family;
	uint32_t priority;
	uint8_t action;         /* FR_ACT_* */
	uint32_t table;
	uint32_t flags;         /* FIB_RULE_* (FIB_RULE_INVERT = "not") */
	struct cg_prefix src, dst;   /* len 0: any */
	uint8_t tos;            /* legacy TOS selector (IPv4 frh->tos) */
	bool dscp_set;
	uint8_t dscp, dscp_mask;
	bool flowlabel_set;
	uint32_t flowlabel, flowlabel_mask;
	char iif[IFNAMSIZ], oif[IFNAMSIZ];   /* "" = any; matched by name */
	uint32_t fwmark, fwmask;
	uint32_t goto_target;   /* FR_ACT_GOTO: priority of the target */
	int32_t suppress_prefixlen;          /* -1: not set */
	int32_t suppress_ifgroup;            /* -1: not set */
	bool uid_set;
	uint32_t uid_start, uid_end;
	uint8_t ipproto;
	struct route_port_range sport, dport;
	uint16_t sport_mask, dport_mask;
	bool l3mdev;
	uint64_t tun_id;
	uint32_t realm;         /* FRA_FLOW */
	uint8_t protocol;
	/* filled by route_state_finalize() */
	int iif_index, oif_index;  /* -1: the named device does not exist */
	int goto_rule;             /* index of the goto target, -1: unresolved */
};

struct route_path {
	struct cg_addr gateway;  /* AF_UNSPEC: none (may be IPv6 for an IPv4 route, RTA_VIA) */
	int ifindex;             /* 0: none (reject routes in IPv4) */
	uint8_t flags;           /* RTNH_F_* (DEAD, LINKDOWN, ONLINK, ...) */
	uint16_t weight;         /* 1..256 */
};

/* A route as the kernel describes it (one RTM_NEWROUTE message): what the
 * collector parses and route_state_add_route() takes. The state keeps it
 * in the compact form below (struct route_entry). */
struct route_desc {
	int family;
	uint32_t table;
	uint8_t type;            /* RTN_* */
	uint8_t protocol;        /* RTPROT_* */
	uint8_t scope;           /* RT_SCOPE_* */
	uint8_t tos;
	uint32_t flags;          /* rtm_flags, incl. RTNH_F_DEAD/LINKDOWN of a single path */
	struct cg_prefix dst;
	struct cg_prefix src;    /* IPv6 source-specific routes (len 0: none) */
	struct cg_addr prefsrc;  /* AF_UNSPEC: none */
	uint32_t metric;
	uint32_t nh_id;          /* RTA_NH_ID, 0: none */
	uint8_t pref;            /* RTA_PREF (IPv6 router preference), ICMPV6_ROUTER_PREF_* */
	uint32_t realm;          /* RTA_FLOW */
};

/* What few routes have, kept aside (route_state.route_extras) and shared by
 * the routes that have the same: a source prefix, a preferred source, a realm. */
struct route_extra {
	struct cg_prefix src;    /* IPv6 source-specific routes (len 0: none) */
	struct cg_addr prefsrc;  /* AF_UNSPEC: none */
	uint32_t realm;          /* RTA_FLOW */
};

/* A route in the state (route_state.routes): a struct route_desc, compacted
 * (76 bytes instead of 108 + 28 per path). The destination prefix is
 * route_entry_dst(); the source prefix, preferred source and realm are
 * route_entry_src(), route_entry_prefsrc(), route_entry_realm(); the paths
 * are route_entry_paths(). */
struct route_entry {
	uint8_t dst[16];         /* destination address bytes (family's length used);
				  * masked to dst_len by route_state_finalize() */
	uint32_t table;
	uint32_t flags;          /* rtm_flags, incl. RTNH_F_DEAD/LINKDOWN of a single path */
	uint32_t metric;
	uint32_t nh_id;          /* RTA_NH_ID, 0: none */
	uint32_t extra;          /* 1 + index into route_state.route_extras; 0: none */
	union {
		struct route_path path;  /* n_paths == 1: the path itself */
		uint32_t first_path;     /* n_paths > 1: into route_state.paths */
	};
	uint32_t n_paths;
	uint8_t family;          /* AF_INET, AF_INET6 */
	uint8_t type;            /* RTN_* */
	uint8_t protocol;        /* RTPROT_* */
	uint8_t scope;           /* RT_SCOPE_* */
	uint8_t tos;
	uint8_t pref;            /* RTA_PREF (IPv6 router preference), ICMPV6_ROUTER_PREF_* */
	uint8_t dst_len;         /* ROUTE_DST_LEN_BAD: the description's prefix was of another family */
	uint8_t index_flags;     /* ROUTE_F_* (route-index.h), set by route_state_finalize() */
};

#define ROUTE_DST_LEN_BAD 0xff

struct route_nh_member {
	uint32_t id;
	uint16_t weight;         /* 1..256 */
};

/* A nexthop object (ip nexthop): a single path, a blackhole, or a group. */
struct route_nhobj {
	uint32_t id;
	int family;
	uint8_t flags;           /* RTNH_F_* */
	uint8_t protocol;
	bool blackhole;
	bool fdb;
	int ifindex;
	struct cg_addr gateway;
	uint16_t group_type;     /* NEXTHOP_GRP_TYPE_* */
	uint32_t first_member, n_members;  /* into route_state.nh_members; 0 members: not a group */
};

/* A neighbour cache entry (IPv6 only: route selection skips gateways whose
 * entry is FAILED while forwarding is off). */
struct route_neigh {
	int family;
	int ifindex;
	struct cg_addr addr;
	uint16_t state;          /* NUD_* */
	uint32_t updated_ms;     /* since the last state change */
};

/* Global ("all") sysctls and kernel facts no dump shows; -1 when unknown. */
struct route_sysctl {
	struct route_devconf all;
	int32_t fib_multipath_use_neigh;
	/* IPv4 keeps local and main merged and skips the rules until a rule
	 * is first added or deleted (fib_has_custom_rules); probed by asking
	 * for 127.0.0.1 with RTM_F_LOOKUP_TABLE. */
	int32_t fib4_custom_rules;
};

struct route_index;

struct route_state {
	struct route_link *links;
	size_t n_links, cap_links;
	struct route_addr *addrs;
	size_t n_addrs, cap_addrs;
	struct route_rule *rules;      /* in the kernel's order, both families */
	size_t n_rules, cap_rules;
	struct route_entry *routes;    /* in dump order */
	size_t n_routes, cap_routes;
	struct route_path *paths;      /* of multipath routes (a single path is in its route) */
	size_t n_paths, cap_paths;
	struct route_extra *route_extras;
	size_t n_route_extras, cap_route_extras;
	struct route_nhobj *nhobjs;
	size_t n_nhobjs, cap_nhobjs;
	struct route_nh_member *nh_members;
	size_t n_nh_members, cap_nh_members;
	struct route_neigh *neighs;
	size_t n_neighs, cap_neighs;
	struct route_sysctl sysctl;

	/* built by route_state_finalize() */
	struct route_index *index;
};

void route_state_init(struct route_state *st);
void route_state_free(struct route_state *st);
static inline void route_state_freep(struct route_state *st) { route_state_free(st); }
#define _cleanup_route_state_ __attribute__((cleanup(route_state_freep)))

/* Appends a copy; the pointer returned is valid until the next add. */
struct route_link *route_state_add_link(struct route_state *st, const struct route_link *l);
struct route_addr *route_state_add_addr(struct route_state *st, const struct route_addr *a);
struct route_rule *route_state_add_rule(struct route_state *st, const struct route_rule *r);
/* Adds a route with its paths (n may be 0 for reject routes). Routes of one
 * prefix in one table must come in the kernel's order (as its dump lists
 * them: by TOS, then metric, then age): that order decides among them. */
struct route_entry *route_state_add_route(struct route_state *st, const struct route_desc *d,
					  const struct route_path *paths, size_t n);
struct route_nhobj *route_state_add_nhobj(struct route_state *st, const struct route_nhobj *o,
					  const struct route_nh_member *members, size_t n);
struct route_neigh *route_state_add_neigh(struct route_state *st, const struct route_neigh *n);
/* Defaults for hand-built objects: a rule that matches everything (suppress
 * fields -1), a link with every devconf unknown. */
void route_rule_init(struct route_rule *r);
void route_link_init(struct route_link *l);
/* The kernel's default rules for a family (0 local, 32766 main, 32767 default). */
void route_state_add_default_rules(struct route_state *st, int family);

/* Builds the lookup indexes (per-table prefix hash) and resolves rule device
 * names and goto targets; trims the arrays to their size. Must be called
 * after the last add and before any lookup. Returns 0 or a negative errno. */
int route_state_finalize(struct route_state *st);

/* Collector (src/collect/): dumps links, addresses, rules, routes and
 * nexthop objects of the current network namespace over rtnetlink, reads the
 * "all" sysctls, then finalizes. Returns 0 or a negative errno (logged). */
int route_state_collect(struct route_state *st);

const struct route_link *route_state_link(const struct route_state *st, int ifindex);
const struct route_link *route_state_link_by_name(const struct route_state *st, const char *name);
const struct route_nhobj *route_state_nhobj(const struct route_state *st, uint32_t id);
const struct route_neigh *route_state_neigh(const struct route_state *st, int ifindex,
					    const struct cg_addr *addr);

/* A stored route's parts. */
static inline struct cg_prefix route_entry_dst(const struct route_entry *e)
{
	struct cg_prefix p = { .addr.family = e->family, .len = e->dst_len };

	memcpy(p.addr.bytes, e->dst, sizeof(p.addr.bytes));
	return p;
}

static inline const struct route_extra *route_entry_extra(const struct route_state *st,
							 const struct route_entry *e)
{
	return e->extra ? &st->route_extras[e->extra - 1] : NULL;
}

/* The source prefix: length 0 (and no address) when the route has none. */
static inline struct cg_prefix route_entry_src(const struct route_state *st, const struct route_entry *e)
{
	const struct route_extra *x = route_entry_extra(st, e);

	return x ? x->src : (struct cg_prefix){ .addr.family = e->family };
}

/* The preferred source: AF_UNSPEC when none. */
static inline struct cg_addr route_entry_prefsrc(const struct route_state *st, const struct route_entry *e)
{
	const struct route_extra *x = route_entry_extra(st, e);

	return x ? x->prefsrc : (struct cg_addr){ 0 };
}

static inline uint32_t route_entry_realm(const struct route_state *st, const struct route_entry *e)
{
	const struct route_extra *x = route_entry_extra(st, e);

	return x ? x->realm : 0;
}

/* The route's e->n_paths paths. */
static inline const struct route_path *route_entry_paths(const struct route_state *st,
							 const struct route_entry *e)
{
	return e->n_paths == 1 ? &e->path : e->n_paths ? &st->paths[e->first_path] : NULL;
}

/* ---- the lookup --------------------------------------------------------- */

struct route_packet {
	struct cg_addr dst;
	struct cg_addr src;      /* AF_UNSPEC: not given */
	uint32_t mark;
	int iif;                 /* ifindex; 0: locally generated (iif lo for the rules) */
	int oif;                 /* ifindex the socket is bound to; 0: none */
	bool uid_set;
	uint32_t uid;            /* default: 0 (root) for output lookups */
	uint8_t ipproto;         /* 0: UDP for IPv4 (what RTM_GETROUTE assumes), none for IPv6 */
	uint16_t sport, dport;
	uint8_t tos;
};

/* Parts of a result the dumped state cannot decide; the kernel's own answer
 * (route_lookup_kernel) is authoritative for them. */
enum {
	ROUTE_UNCERTAIN_DEV = 1 << 0,     /* multipath / default-gateway selection: dev, gateway */
	ROUTE_UNCERTAIN_SOURCE = 1 << 1,  /* source address selection */
	ROUTE_UNCERTAIN_RESULT = 1 << 2,  /* the outcome itself (kernel state not in any dump) */
	ROUTE_UNCERTAIN_TABLE = 1 << 3,   /* which table id the kernel reports */
	ROUTE_UNCERTAIN_TYPE = 1 << 4,    /* which route type the kernel reports */
};

enum route_step_kind {
	ROUTE_STEP_NO_MATCH,      /* selector did not match */
	ROUTE_STEP_NOP,
	ROUTE_STEP_GOTO,
	ROUTE_STEP_GOTO_UNRESOLVED,
	ROUTE_STEP_MISS,          /* table has no usable route: next rule */
	ROUTE_STEP_THROW,         /* throw route: next rule */
	ROUTE_STEP_SUPPRESSED,    /* suppress_prefixlength / suppress_ifgroup */
	ROUTE_STEP_DECIDED,
};

struct route_step {
	int rule;                 /* index into state->rules */
	uint8_t kind;             /* enum route_step_kind */
	int route;                /* route involved (throw, suppressed, decided), -1 */
};

struct route_hop {
	int ifindex;
	struct cg_addr gateway;
	uint16_t weight;
	uint8_t flags;
	bool usable;              /* a candidate for this packet (alive, matches oif) */
};

#define ROUTE_MAX_HOPS 16
#define ROUTE_MAX_STEPS 48

struct route_result {
	int family;
	bool input;               /* iif given: the packet arrives from outside */
	int error;                /* 0, or the kernel's negative errno for the lookup */
	uint8_t type;             /* RTN_*; on error the cause: RTN_UNREACHABLE (also "no route"),
				   * RTN_BLACKHOLE, RTN_PROHIBIT; RTN_UNSPEC when unknown */
	bool no_route;            /* ENETUNREACH: no rule/table had a route */
	bool tables_merged;       /* IPv4 local+main merged: the kernel reports main for local routes */
	const char *reason;       /* short explanation of an error or a special case, or NULL */

	int rule;                 /* deciding rule (index into state->rules), -1: none/unknown */
	uint32_t rule_priority;
	uint8_t rule_action;      /* FR_ACT_* of the deciding rule */
	uint32_t table;           /* table of the deciding route; 0: none/unknown */
	int route;                /* deciding route (index into state->routes), -1 */
	bool have_prefix;
	struct cg_prefix prefix;  /* prefix of the deciding route */
	uint32_t metric;

	int ifindex;              /* output device; lo for local delivery; 0 if none */
	struct cg_addr gateway;   /* AF_UNSPEC: directly connected */
	struct cg_addr source;    /* source address used; AF_UNSPEC: none */
	struct route_hop hops[ROUTE_MAX_HOPS];
	unsigned n_hops;          /* nexthops of the deciding route (multipath: all) */

	unsigned uncertain;       /* ROUTE_UNCERTAIN_* */
	const char *uncertain_why;
	struct route_step steps[ROUTE_MAX_STEPS];
	unsigned n_steps;
	bool steps_truncated;
};

/* The user-space lookup: walks the rules and tables of `st` exactly as the
 * kernel's fib_rules_lookup/fib_table_lookup (IPv4) and fib6_rule_lookup/
 * ip6_pol_route (IPv6) do, then selects the source address. No I/O.
 * Returns 0 (the outcome, including "unreachable", is in *res) or -EINVAL
 * for a packet that is not a question (no destination, families differ). */
int route_lookup(const struct route_state *st, const struct route_packet *p,
		 struct route_result *res);

/* The live lookup: asks the kernel of the current network namespace
 * (RTM_GETROUTE, then again with RTM_F_FIB_MATCH for the matched prefix) and
 * fills *res the same way (rule unknown). A routing error is reported in
 * res->error like `ip route get` reports it; returns 0, or a negative errno
 * when the kernel could not be asked at all. `st` (may be NULL) is used only
 * for nexthop flags. */
int route_lookup_kernel(const struct route_state *st, const struct route_packet *p,
			struct route_result *res);

/* The same over one socket kept open between lookups: an audit asks for the
 * route of every target, and a socket per question cost more than the
 * lookup (200,000 targets: 200,000 sockets, each with its buffers). */
struct route_kernel;
int route_kernel_open(struct route_kernel **ret);   /* 0 or -errno (logged) */
void route_kernel_close(struct route_kernel *k);
int route_kernel_lookup(struct route_kernel *k, const struct route_state *st, const struct route_packet *p,
			struct route_result *res);

void route_result_init(struct route_result *res, int family);

/* ---- the lookups of nf_tables' fib expression ----------------------------- */

struct route_fib_query {
	struct cg_addr dst;
	struct cg_addr src;      /* AF_UNSPEC or all zero: none */
	uint32_t mark;
	uint8_t tos;             /* IPv4: iph->tos & 0xfc; IPv6: the traffic class */
	uint8_t proto;           /* IPv6 only: flowi6_proto */
	uint32_t flowlabel;      /* IPv6 */
	int oif;                 /* IPv6: a link-local destination's device (RT6_LOOKUP_F_IFACE) */
};

/* The lookup nft_fib4_eval() (fib_lookup() from "lo", uid 0, without
 * protocol, ports or oif, ignoring link state) and nft_fib6_eval()
 * (ip6_route_lookup(): rt6_device_match within a prefix) make: the rules and
 * tables alone, none of the checks of the input or output path. Fills
 * res->error, type, rule, route, hops (every nexthop of the route) and
 * ifindex (the nexthop the kernel's result names), and res->uncertain.
 * Returns 0, or -EINVAL for a query that is not one. */
int route_fib_lookup(const struct route_state *st, const struct route_fib_query *q, struct route_result *res);
/* inet_dev_addr_type(): the RTN_* type of an IPv4 address in table local
 * (broadcast, multicast and 0.0.0.0/8 by their class); RTN_UNICAST when the
 * table has no route for it or, with dev > 0, its route's first nexthop is
 * on another device. -1 when the state cannot tell, *why saying why. */
int route_fib_addr_type4(const struct route_state *st, const struct cg_addr *a, int dev, const char **why);

/* ---- names -------------------------------------------------------------- */

const char *route_type_to_string(uint8_t type);          /* "unicast", "throw", ... */
/* "main", "local", "default", "52", ...; buf needs 11 bytes. */
const char *route_table_to_string(uint32_t table, char buf[static 11]);
const char *route_rule_action_to_string(uint8_t action); /* "lookup", "goto", ... */
const char *route_step_kind_to_string(uint8_t kind);
/* Name of ifindex in st, or "if<N>" in buf (IFNAMSIZ+8 bytes). */
const char *route_ifname(const struct route_state *st, int ifindex, char buf[static IFNAMSIZ + 8]);
/* One line in `ip rule` syntax ("5270: from all lookup 52"). */
int route_rule_format(const struct route_state *st, const struct route_rule *r, char *buf, size_t size);

/* True when a device looks like an overlay VPN's (tailscale*, wg*, nb-*, tun kind...). */
bool route_link_is_overlay(const struct route_link *l);

/* Whether the user-space lookup and the kernel's answer agree on every part
 * the lookup did not flag uncertain (error, type, table, device, gateway,
 * source of a locally generated packet, matched prefix). On disagreement,
 * `why` (may be NULL) says on what. */
bool route_result_agrees(const struct route_result *sim, const struct route_result *kernel,
			 char *why, size_t size);
