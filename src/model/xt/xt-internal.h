/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the extensions in src/model/xt/ share: reading kernel structs out of
 * blobs, and the packet's conntrack entry as the matches see it. Private to
 * this folder. */
#pragma once

/* glibc before any <linux/...> header: both define ifreq, in_addr... */
#include <net/if.h>
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/xt_conntrack.h>
#include <string.h>

#include "cgnatcheck/arena.h"
#include "cgnatcheck/canon.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/xt-ext.h"

/* The size of the union member of struct xt_decoded a descriptor fills. */
#define XT_VALUE_SIZE(member) sizeof(((struct xt_decoded *)0)->member)

/* ---- decoding ------------------------------------------------------------ */

/* Copies a blob into a zeroed local struct (nf_tables attributes are only
 * 4-byte aligned). A blob shorter than the struct is an older revision that
 * is the struct's prefix: the rest stays zero. */
#define XT_LOAD(dst, info, size) xt_load(&(dst), sizeof(dst), (info), (size))

static inline void xt_load(void *dst, size_t cap, const void *info, uint32_t size)
{
	memset(dst, 0, cap);
	memcpy(dst, info, size < cap ? size : cap);
}

static inline void xt_addr_from_inet(struct cg_addr *out, const union nf_inet_addr *in, uint8_t nfproto)
{
	memset(out, 0, sizeof(*out));
	if (nfproto == NFPROTO_IPV6) {
		out->family = AF_INET6;
		memcpy(out->bytes, in->all, 16);
	} else {
		out->family = AF_INET;
		memcpy(out->bytes, &in->ip, 4);
	}
}

/* Fixed-size string fields need not be terminated in a blob; a terminated
 * one is used in place (the blob outlives the decoded value, see xt.h)
 * unless the value must own its strings (xt_decode_owned()). s points into
 * the blob itself, not into a copy. */
static inline const char *xt_field_str(struct xt_dec_ctx *c, const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	return n < size && !c->own_strings ? s : arena_strndup(c->arena, s, n);
}

static inline struct xt_port_range xt_port_range(uint16_t lo, uint16_t hi)
{
	return (struct xt_port_range){ .lo = lo, .hi = hi };
}

/* For the extensions decoding to struct xt_fields_dec: keeps a copy of the
 * blob (what identifies the value: xt_ident_raw()). */
static inline void xt_keep_raw(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	uint8_t *p = arena_alloc(c->arena, size ? size : 1);

	memcpy(p, info, size);
	d->fields.raw = p;
	d->fields.raw_len = size;
}

static inline void xt_ident_raw(struct canon *c, const struct xt_decoded *d)
{
	canon_u32(c, d->fields.raw_len);
	canon_bytes(c, d->fields.raw, d->fields.raw_len);
}

/* ---- evaluating ---------------------------------------------------------- */

static inline bool xt_port_in(struct xt_port_range r, uint16_t port)
{
	return port >= r.lo && port <= r.hi;
}

/* One criterion: `ok` is whether the packet or entry has the property,
 * invert flips it, and the criterion passes when the result is true. */
static inline enum tri xt_crit(enum tri ok, bool invert)
{
	return invert ? tri_not(ok) : ok;
}

/* nf_ct_get(): state 0 is "no conntrack entry attached yet" (before the
 * conntrack hook), which the matches treat exactly like INVALID. */
static inline bool xt_pkt_has_ct(const struct cg_packet *pkt)
{
	return pkt->ct.state & (CG_CT_NEW | CG_CT_ESTABLISHED | CG_CT_RELATED);
}

/* XT_CONNTRACK_STATE_BIT(ctinfo) and XT_STATE_BIT(ctinfo) put ESTABLISHED,
 * RELATED and NEW at bits 1, 2, 3 (as packet.h does); INVALID is bit 0 and
 * UNTRACKED differs between the conntrack and state matches. */
static inline uint32_t xt_ct_statebit(const struct cg_packet *pkt, uint32_t untracked_bit)
{
	if (xt_pkt_has_ct(pkt))
		return pkt->ct.state & (CG_CT_NEW | CG_CT_ESTABLISHED | CG_CT_RELATED);
	if (pkt->ct.state & CG_CT_UNTRACKED)
		return untracked_bit;
	return XT_CONNTRACK_STATE_INVALID;
}

/* ---- applying ------------------------------------------------------------ */

/* A target that continues (XT_CONTINUE) with nothing the verdict depends
 * on: LOG, NFLOG, TRACE. */
static inline void xt_apply_continue(const struct xt_decoded *t, struct cg_packet *pkt,
				     struct xt_target_result *res)
{
}

/* ---- identifying --------------------------------------------------------- */

static inline void xt_ident_ports(struct canon *c, const struct xt_port_range *r)
{
	canon_u16(c, r->lo);
	canon_u16(c, r->hi);
}

/* ---- printing ------------------------------------------------------------ */

/* print_state() of libxt_conntrack (match-conntrack.c): the state names in
 * iptables' order, comma separated, the first after sep. */
void xt_print_ct_states(FILE *f, uint32_t mask, const char *sep);
