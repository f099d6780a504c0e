/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The x_tables extension blobs (xt_*_info structs), decoded once into typed
 * values, and evaluated the way the kernel modules evaluate them.
 *
 * Legacy ipt_entry rules and iptables-nft's xt-compat match/target
 * expressions carry the very same blobs (same names, revisions and structs),
 * so one decoder serves both backends. A blob whose length is not what the
 * kernel's struct (XT_ALIGNed) says is refused: NULL, never a guess.
 *
 * Decoded values are normalised across revisions (conntrack rev 1..3 share
 * one layout, NAT ranges of rev 0..2 too), with ports in host byte order and
 * addresses as struct cg_addr, so neither the matcher nor the renderer needs
 * to know which revision a rule was written with. Fields that only matter
 * for printing (raw inversion flags, revisions) are kept as well so the
 * iptables-save text can be reproduced exactly.
 *
 * Each extension keeps its decoder, matcher (or target effect) and
 * iptables-save printer in one file, src/model/xt/match-NAME.c or
 * target-NAME.c, the way iptables keeps extensions/libxt_NAME.c; the
 * descriptor type is in xt-ext.h and src/model/xt/registry.c lists them
 * by kind. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cgnatcheck/addr.h"
#include "cgnatcheck/arena.h"
#include "cgnatcheck/packet.h"

enum xt_kind {
	/* matches */
	XT_MATCH_TCP,
	XT_MATCH_UDP,               /* also udplite */
	XT_MATCH_ICMP,
	XT_MATCH_ICMP6,
	XT_MATCH_MULTIPORT,         /* rev 0 and 1 */
	XT_MATCH_CONNTRACK,         /* rev 1, 2, 3 ("-m state" is rev 1..3 with the alias flag) */
	XT_MATCH_STATE,             /* the old "state" match, rev 0 */
	XT_MATCH_MARK,              /* rev 1 */
	XT_MATCH_CONNMARK,          /* rev 1 */
	XT_MATCH_COMMENT,
	XT_MATCH_ADDRTYPE,          /* rev 0 and 1 */
	XT_MATCH_IPRANGE,           /* rev 1 */
	XT_MATCH_PKTTYPE,
	XT_MATCH_SET,               /* rev 1..4: evaluated when the set's contents were read */
	XT_MATCH_STATISTIC,         /* decoded, never evaluated */
	XT_MATCH_LIMIT,             /* decoded, never evaluated */
	/* targets */
	XT_TARGET_STANDARD,         /* "": a legacy verdict (ACCEPT/DROP/RETURN/offset) */
	XT_TARGET_REJECT,
	XT_TARGET_MARK,             /* rev 2 (--set-xmark) */
	XT_TARGET_CONNMARK,         /* rev 1 and 2 */
	XT_TARGET_DNAT,             /* rev 0 (IPv4), 1, 2 */
	XT_TARGET_SNAT,             /* rev 0 (IPv4), 1, 2 */
	XT_TARGET_MASQUERADE,
	XT_TARGET_REDIRECT,
	XT_TARGET_LOG,
	XT_TARGET_NFLOG,
	XT_TARGET_TRACE,
	XT_TARGET_CT,               /* CT rev 0..2 and the old NOTRACK */
	/* added after the targets, so the kinds above keep their numbers (and
	 * the rules holding them their rule_hash(), audit-state.h) */
	XT_MATCH_LENGTH,
	XT_MATCH_TTL,               /* ttl (IPv4) and hl (IPv6) */
	XT_MATCH_TOS,               /* tos rev 1, dscp, ecn */
	XT_MATCH_EXTHDR6,           /* frag, hbh, dst, rt, ah (IPv6), ipv6header */
	XT_MATCH_DEVGROUP,
	XT_MATCH_OWNER,             /* rev 1 */
	XT_TARGET_CONTINUE,         /* TOS, DSCP, TTL, HL, ECN, CLASSIFY, TCPMSS, ...: the rule goes on */
	XT_MATCH_PHYSDEV,
	XT_MATCH_MAC,
	XT_KIND_COUNT
};

struct xt_port_range {
	uint16_t lo, hi;            /* host byte order, inclusive */
};

struct xt_tcpudp_dec {
	struct xt_port_range sport, dport;  /* 0:65535 when not matched */
	uint8_t invflags;           /* XT_TCP_INV_* / XT_UDP_INV_* as stored */
	/* tcp only */
	uint8_t option;             /* --tcp-option, 0: none */
	uint8_t flg_mask, flg_cmp;  /* --tcp-flags mask comp */
};

struct xt_icmp_dec {
	uint8_t type;               /* IPv4: 0xff means any type */
	uint8_t code_min, code_max;
	bool invert;
};

#define XT_DEC_MULTI_PORTS 15

struct xt_multiport_dec {
	uint8_t flags;              /* XT_MULTIPORT_SOURCE/DESTINATION/EITHER */
	uint8_t count;              /* entries used in ports[] */
	uint16_t ports[XT_DEC_MULTI_PORTS];
	/* rev 1: pflags[i] set means ports[i]..ports[i + 1] is a range */
	uint8_t pflags[XT_DEC_MULTI_PORTS];
	bool invert;                /* rev 1 only */
};

struct xt_conntrack_dec {
	uint16_t match_flags, invert_flags; /* XT_CONNTRACK_* (incl. STATE_ALIAS) */
	uint16_t state_mask;        /* XT_CONNTRACK_STATE_* bits (not packet.h's) */
	uint16_t status_mask;       /* IPS_* */
	uint16_t l4proto;
	struct cg_addr origsrc, origsrc_mask, origdst, origdst_mask;
	struct cg_addr replsrc, replsrc_mask, repldst, repldst_mask;
	/* host order; rev 1 and 2 compare one port: lo == hi */
	struct xt_port_range origsrc_port, origdst_port, replsrc_port, repldst_port;
	uint32_t expires_min, expires_max;
};

struct xt_state_dec {
	uint32_t statemask;         /* XT_STATE_* bits; "!" is already folded in */
};

struct xt_mark_dec {                /* mark and connmark matches */
	uint32_t mark, mask;
	bool invert;
};

struct xt_addrtype_dec {
	uint16_t source, dest;      /* 1 << RTN_* masks */
	bool invert_source, invert_dest;
	bool limit_iface_in, limit_iface_out;
};

struct xt_iprange_dec {
	uint8_t flags;              /* IPRANGE_SRC/DST[_INV] */
	struct cg_addr src_min, src_max, dst_min, dst_max;
};

struct xt_pkttype_dec {
	int pkttype;                /* PACKET_HOST, ... */
	bool invert;
};

/* One ipset's contents as src/collect/ipset.c read them, for the set match
 * (match-set.c). Lives in the ruleset's arena.
 *
 * Elements are keys in a hash map: the dimensions' fields one after the
 * other, each in the kernel's byte order:
 *   XT_IPSET_DIM_IP    the address (4 or 16 bytes, the set's family),
 *                      masked with `mask` (hash:ip netmask/bitmask)
 *   XT_IPSET_DIM_NET   the address masked to its prefix, then the prefix
 *                      length (1 byte)
 *   XT_IPSET_DIM_PORT  the port (2 bytes, big-endian), then the protocol
 *   XT_IPSET_DIM_MARK  the mark (4 bytes, big-endian), masked with markmask
 *   XT_IPSET_DIM_TCPUDP_PORT  bitmap:port's: the port (2 bytes, big-endian)
 *                      of a tcp or udp packet; other packets never match
 * and each key maps to a flag byte: nonzero for a nomatch entry. */
enum xt_ipset_dim {
	XT_IPSET_DIM_IP = 1, XT_IPSET_DIM_NET, XT_IPSET_DIM_PORT, XT_IPSET_DIM_MARK, XT_IPSET_DIM_TCPUDP_PORT,
};

struct xt_ipset {
	const char *name;           /* NULL: the set's name could not be read */
	const char *type;           /* "hash:net" ("" when unknown) */
	uint8_t family;             /* NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_UNSPEC */
	/* NULL: the contents were read and the match is evaluated; else why it
	 * stays unknown ("type hash:mac is not modelled") */
	const char *unknown;
	uint8_t n_dims;             /* the type's dimensions (1..3) */
	uint8_t dims[3];            /* enum xt_ipset_dim */
	bool counters;              /* elements carry counters (the match's --packets-gt etc. read them) */
	bool nomatch;               /* the type honours nomatch entries (hash:*net*) */
	uint8_t mask[16];           /* XT_IPSET_DIM_IP: the netmask/bitmask (all ones: none) */
	uint32_t markmask;
	/* the prefix lengths present per XT_IPSET_DIM_NET (one net dimension
	 * at most), bit i: /i */
	uint64_t cidrs[3];
	uint32_t key_len, n_elems;
	void *elems;                /* struct cg_hashmap * (hashmap.h) */
	/* list:set: its members, in order (each read as a set of its own) */
	const struct xt_ipset **members;
	uint32_t n_members;
	bool list;
};

struct xt_set_dec {
	/* Resolved by the ipset collector (src/collect/ipset.c) once the
	 * rules are read; NULL: the set's contents are not known and the
	 * match is unknown. The decoded value is shared by every rule with
	 * the same blob, which names the same set. */
	const struct xt_ipset *ipset;
	uint16_t index;             /* the kernel's ipset index; the name is not in the blob */
	uint8_t dim;                /* 1..6 dimensions */
	uint8_t flags;              /* bit 0 (IPSET_INV_MATCH), bits 1..6: src per dimension */
	uint32_t v3_flags;          /* rev 3/4: IPSET_FLAG_* */
	struct { uint8_t op; uint64_t value; } packets, bytes; /* rev 3/4 counters */
};

struct xt_statistic_dec {
	uint16_t mode, flags;       /* XT_STATISTIC_MODE_*, XT_STATISTIC_INVERT */
	uint32_t probability;       /* random: out of 0x80000000 */
	uint32_t every, packet;     /* nth: every is stored minus one */
};

struct xt_limit_dec {
	uint32_t avg, burst;        /* avg: XT_LIMIT_SCALE units per packet */
};

struct xt_standard_dec {
	int verdict;                /* -NF_ACCEPT-1, -NF_DROP-1, XT_RETURN or an offset */
};

struct xt_reject_dec {
	uint32_t with;              /* enum ipt_reject_with / ip6t_reject_with */
};

struct xt_mark_tg_dec {
	uint32_t mark, mask;        /* new = (old & ~mask) ^ mark */
};

struct xt_connmark_tg_dec {
	uint8_t mode;               /* XT_CONNMARK_SET/SAVE/RESTORE */
	uint32_t ctmark, ctmask, nfmask;
	uint8_t shift_dir, shift_bits; /* rev 2 */
};

struct xt_nat_dec {
	uint32_t flags;             /* NF_NAT_RANGE_* */
	struct cg_addr min_addr, max_addr; /* when NF_NAT_RANGE_MAP_IPS */
	uint16_t min_port, max_port;       /* host order, NF_NAT_RANGE_PROTO_SPECIFIED */
	uint16_t base_port;                /* rev 2, NF_NAT_RANGE_PROTO_OFFSET */
};

struct xt_log_dec {
	uint8_t level, logflags;
	const char *prefix;         /* "" when none */
};

struct xt_nflog_dec {
	uint32_t len;
	uint16_t group, threshold, flags;
	const char *prefix;
};

struct xt_ct_dec {
	uint16_t flags;             /* XT_CT_NOTRACK, XT_CT_NOTRACK_ALIAS, zone flags */
	uint16_t zone;
	uint32_t ct_events, exp_events;
	const char *helper, *timeout; /* "" when none */
};

/* The extensions below the targets decode to this: the blob itself (copied
 * into the arena: what identifies the value) and the few fields the match
 * reads, named per extension in its file (src/model/xt/match-NAME.c). */
struct xt_fields_dec {
	const uint8_t *raw;
	uint32_t raw_len;
	uint32_t a, b;
	uint8_t mode, flags, inv, extra;
};

struct xt_decoded {
	enum xt_kind kind;
	bool target;
	uint8_t revision;
	uint8_t nfproto;            /* family the blob was decoded for */
	const char *name;           /* the extension's kernel name ("conntrack", "DNAT") */
	union {
		struct xt_tcpudp_dec tcpudp;
		struct xt_icmp_dec icmp;
		struct xt_multiport_dec multiport;
		struct xt_conntrack_dec conntrack;
		struct xt_state_dec state;
		struct xt_mark_dec mark;            /* mark and connmark */
		const char *comment;
		struct xt_addrtype_dec addrtype;
		struct xt_iprange_dec iprange;
		struct xt_pkttype_dec pkttype;
		struct xt_set_dec set;
		struct xt_statistic_dec statistic;
		struct xt_limit_dec limit;
		struct xt_standard_dec standard;
		struct xt_reject_dec reject;
		struct xt_mark_tg_dec mark_tg;
		struct xt_connmark_tg_dec connmark_tg;
		struct xt_nat_dec nat;              /* DNAT, SNAT, MASQUERADE, REDIRECT */
		struct xt_log_dec log;
		struct xt_nflog_dec nflog;
		struct xt_ct_dec ct;
		struct xt_fields_dec fields;
	};
};

/* Decodes one extension blob (the xt_entry_match/target payload, without its
 * header) for family nfproto (NFPROTO_IPV4/IPV6). The result lives in `a`;
 * its strings (comment, log prefix) may point into info, which must live as
 * long as the result (collectors keep blobs in the ruleset's arena). Only
 * the union member of the result's kind is allocated: never copy a struct
 * xt_decoded by value.
 * Returns NULL, after a debug log, for unknown extensions or revisions and
 * for blobs whose length does not match the kernel's struct. */
const struct xt_decoded *xt_decode(struct arena *a, bool target, const char *name, uint8_t revision,
				   uint8_t nfproto, const void *info, uint32_t len);

/* The same, with every string copied into `a`: for blobs that do not stay
 * (the legacy collector decodes straight from libiptc's snapshot). */
const struct xt_decoded *xt_decode_owned(struct arena *a, bool target, const char *name, uint8_t revision,
					 uint8_t nfproto, const void *info, uint32_t len);

/* Decodes through a cache of the blobs decoded last: a blob identical to
 * one of them (same extension, revision, family and bytes) gets the value
 * already made, in `a`, so a collector that meets a service's comment on
 * each of its rules stores it once. xi NULL: plain xt_decode_owned(). The
 * cache is bounded (it holds copies of recent blobs until
 * xt_intern_free()); the values stay in a. */
struct xt_intern;
struct xt_intern *xt_intern_new(void);
void xt_intern_free(struct xt_intern *xi);
const struct xt_decoded *xt_decode_interned(struct xt_intern *xi, struct arena *a, bool target,
					    const char *name, uint8_t revision, uint8_t nfproto,
					    const void *info, uint32_t len);

/* The decoder's own copy of a known extension name ("tcp"), so callers can
 * share one string instead of copying it per rule; NULL if unknown. */
const char *xt_known_name(bool target, const char *name);

/* Evaluates a decoded match against the packet exactly as the kernel module
 * would (xt_tcpudp.c, xt_multiport.c, xt_conntrack.c, xt_state.c, ...).
 * TRI_UNKNOWN when the answer depends on something the simulator does not
 * know: rate and random matches, ipsets whose contents were not read, TCP options, conntrack expiry, an
 * address type env cannot tell.
 *
 * Conntrack: pkt->ct.state 0 or CG_CT_INVALID means no conntrack entry (the
 * kernel's ct == NULL), CG_CT_UNTRACKED an untracked packet; for chains that
 * run before conntrack (priority below -200 at PREROUTING/OUTPUT) pass a
 * packet whose ct.state is 0. env may be NULL (addrtype is then unknown). */
enum tri xt_match(const struct xt_decoded *m, const struct cg_packet *pkt,
		  const struct cg_addr_env *env);

enum xt_result_verdict {
	XT_RESULT_CONTINUE,         /* XT_CONTINUE: the next rule */
	XT_RESULT_ACCEPT,           /* NF_ACCEPT (NAT targets accept in their chain) */
	XT_RESULT_DROP,             /* NF_DROP (REJECT drops after answering) */
};

enum xt_nat_kind { XT_NAT_NONE, XT_NAT_SNAT, XT_NAT_DNAT, XT_NAT_MASQUERADE, XT_NAT_REDIRECT };

struct xt_target_result {
	bool terminal;              /* the verdict ends the traversal of this hook's table */
	enum xt_result_verdict verdict;
	bool reject;                /* REJECT: dropped with an ICMP error / TCP RST */
	bool mark_changed, ctmark_changed;
	bool notrack;               /* CT --notrack / NOTRACK: the packet is untracked now */
	/* NAT (the first packet of a connection): what the mapping will be.
	 * nat_addr.family is AF_UNSPEC when the address is not known here
	 * (MASQUERADE: the out device's address; REDIRECT on input: the in
	 * device's) or unchanged (port-only maps). Ports 0: unchanged. */
	enum xt_nat_kind nat;
	bool dnat, snat;            /* destination / source rewritten */
	struct cg_addr nat_addr, nat_addr_max;
	uint16_t nat_port, nat_port_max;
};

/* Applies a decoded target's effect on pkt as the kernel target would (MARK
 * and CONNMARK change pkt->mark / pkt->ct.mark; CT --notrack makes the packet
 * untracked) and says whether it ends the traversal. LOG, NFLOG and TRACE
 * continue without effect. Returns 0, -EOPNOTSUPP for targets the simulator
 * cannot apply (res then says nothing), or -EINVAL when t is not a target
 * (or is a standard verdict, which the rule model carries as an immediate). */
int xt_target_apply(const struct xt_decoded *t, struct cg_packet *pkt, struct xt_target_result *res);

/* Prints a decoded match or target the way iptables-save does: " -m NAME"
 * or " -j NAME" (the name iptables shows: "state" for conntrack's alias,
 * "NOTRACK" for CT's), then the extension's options. An extension without a
 * printer gets an "unsupported" C comment instead of options. */
void xt_print(FILE *f, const struct xt_decoded *d);
/* Whether xt_print() prints d's options itself; false: the extension is
 * decoded (and evaluated) but printed by libxtables (xt_print_by_libxtables()). */
bool xt_has_printer(const struct xt_decoded *d);
/* The blob a decoded value without a printer keeps (struct xt_fields_dec),
 * for libxtables to print, and its length in *len; NULL for the others. */
const void *xt_kept_blob(const struct xt_decoded *d, uint32_t *len);
/* For an extension cgnatcheck does not model (or a blob it refused):
 * " -m NAME OPTIONS" or " -j NAME OPTIONS" printed by the extension's own
 * save() from libxtables' shared objects, exactly as iptables-save prints
 * it; l4proto and inv_proto are the rule's "-p" (some save()s read it).
 * false, printing nothing, when no shared object takes this blob
 * (src/model/xt/libxtables.c). */
bool xt_print_by_libxtables(FILE *f, bool target, const char *name, uint8_t revision, uint8_t nfproto,
			    uint16_t l4proto, bool inv_proto, const void *info, uint32_t len);
