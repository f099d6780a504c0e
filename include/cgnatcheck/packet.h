/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the simulator pushes through the hooks: one packet with its metadata
 * and conntrack state, and three-valued match results. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgnatcheck/addr.h"

/* A match the simulator does not understand is unknown, never silently true
 * or false (design.md, "three-valued evaluation"). */
enum tri { TRI_FALSE = 0, TRI_TRUE = 1, TRI_UNKNOWN = 2 };

static inline enum tri tri_not(enum tri a)
{
	return a == TRI_UNKNOWN ? TRI_UNKNOWN : a == TRI_TRUE ? TRI_FALSE : TRI_TRUE;
}
static inline enum tri tri_and(enum tri a, enum tri b)
{
	if (a == TRI_FALSE || b == TRI_FALSE)
		return TRI_FALSE;
	return a == TRI_TRUE && b == TRI_TRUE ? TRI_TRUE : TRI_UNKNOWN;
}
static inline enum tri tri_or(enum tri a, enum tri b)
{
	if (a == TRI_TRUE || b == TRI_TRUE)
		return TRI_TRUE;
	return a == TRI_FALSE && b == TRI_FALSE ? TRI_FALSE : TRI_UNKNOWN;
}
static inline enum tri tri_of(bool b) { return b ? TRI_TRUE : TRI_FALSE; }

/* Conntrack state bits as nft's `ct state` and xt_conntrack use them
 * (NF_CT_STATE_BIT(ctinfo), NF_CT_STATE_INVALID_BIT, NF_CT_STATE_UNTRACKED_BIT). */
enum {
	CG_CT_INVALID = 1 << 0,
	CG_CT_ESTABLISHED = 1 << 1,
	CG_CT_RELATED = 1 << 2,
	CG_CT_NEW = 1 << 3,
	CG_CT_UNTRACKED = 1 << 6,
};

struct cg_tuple {
	struct cg_addr src, dst;
	uint16_t sport, dport;     /* host byte order */
};

struct cg_conntrack {
	uint32_t state;            /* exactly one CG_CT_* bit */
	uint8_t dir;               /* IP_CT_DIR_ORIGINAL (0) or IP_CT_DIR_REPLY (1) */
	uint32_t status;           /* IPS_* bits (SEEN_REPLY, ASSURED, SRC_NAT, DST_NAT, ...) */
	uint32_t mark;
	struct cg_tuple orig, reply;
};

struct cg_iface {
	char name[IFNAMSIZ];       /* "" when the hook has no such device */
	uint32_t index;
	uint16_t type;             /* ARPHRD_* */
	uint32_t group;
};

/* Fields of a packet that the flow does not determine (cg_packet.unknown):
 * the struct holds some value for each, but a match on one is unknown
 * (design.md: "a packet field it does not know (a reply's length, a TTL)
 * is unknown, never silently true or false"). */
enum {
	CG_PKT_U_LEN = 1 << 0,        /* IP total/payload length, meta length, UDP length */
	CG_PKT_U_TTL = 1 << 1,        /* TTL, hop limit */
	CG_PKT_U_DSCP = 1 << 2,
	CG_PKT_U_ECN = 1 << 3,
	CG_PKT_U_IPID = 1 << 4,       /* IPv4 identification */
	CG_PKT_U_DF = 1 << 5,         /* IPv4 don't-fragment flag */
	CG_PKT_U_FLOWLABEL = 1 << 6,  /* IPv6 */
	CG_PKT_U_IPOPT = 1 << 7,      /* IPv4 header length (options) */
	CG_PKT_U_TCPOPT = 1 << 8,     /* TCP data offset and options (a SYN's MSS, SACK, ...) */
	CG_PKT_U_TCPWIN = 1 << 9,
	CG_PKT_U_TCPSEQ = 1 << 10,    /* sequence and acknowledgment numbers, urgent pointer */
	CG_PKT_U_CSUM = 1 << 11,      /* checksums */
	CG_PKT_U_PRIORITY = 1 << 12,  /* skb->priority, secmark */
};
/* Everything but the flow's own facts: what a simulated flow's packets have. */
#define CG_PKT_U_UNDETERMINED 0x1fffu

struct cg_packet {
	uint8_t nfproto;           /* NFPROTO_IPV4 or NFPROTO_IPV6 */
	struct cg_addr src, dst;
	uint8_t l4proto;           /* IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP, ... */
	uint16_t sport, dport;     /* host byte order; 0 for portless protocols */
	uint8_t tcp_flags;         /* TCP: SYN for a new connection, ACK for replies */
	uint8_t tcp_flags_unknown; /* the bits of tcp_flags the flow does not determine */
	uint8_t icmp_type, icmp_code;
	uint8_t ttl;               /* hop limit for IPv6 */
	uint8_t dscp;
	uint16_t len;              /* total length of the network packet */
	struct cg_iface iif, oif;
	uint32_t mark;
	bool locally_generated;    /* has a socket: skuid/skgid are meaningful */
	uint32_t skuid, skgid;
	uint8_t pkttype;           /* PACKET_HOST, PACKET_BROADCAST, ... */
	struct cg_conntrack ct;
	uint32_t unknown;          /* CG_PKT_U_*: fields the flow does not determine */
	uint32_t ct_status_unknown;  /* the bits of ct.status the flow does not determine */
	/* Conntrack's NAT of a connection's later packets (the first packet's
	 * DNAT or SNAT, done again, or undone on the answers): at hook `hook`,
	 * for the chains of a priority above `priority` (the nat hook's:
	 * NF_IP_PRI_NAT_DST -100, NF_IP_PRI_NAT_SRC 100), the source or the
	 * destination becomes addr:port (port 0: unchanged). Applied by the
	 * simulator as the hook passes that priority. */
	struct cg_nat_step {
		uint32_t hook;
		int32_t priority;
		bool src;
		struct cg_addr addr;
		uint16_t port;
	} nat_steps[2];
	uint8_t n_nat_steps;
};

struct route_state;

/* How an address relates to this host, for addrtype / fib matches. The
 * simulator gets this from the routing state (local table); RTN_* values. */
struct cg_addr_env {
	/* Returns the route type (RTN_LOCAL, RTN_UNICAST, RTN_BROADCAST, ...)
	 * of addr as the host's local table sees it, or -1 if unknown. When
	 * dev is non-NULL the lookup is limited to that device (addrtype
	 * --limit-iface-in/out). */
	int (*addr_type)(const struct cg_addr_env *env, const struct cg_addr *addr, const char *dev);
	void *userdata;
	/* The routing state nft's fib expression looks up (route_fib_lookup());
	 * NULL: every fib expression is unknown. */
	const struct route_state *routes;
};
