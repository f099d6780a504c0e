/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The IPv6 extension header matches: -m frag, hbh, dst, rt, ah
 * (net/ipv6/netfilter/ip6t_frag.c, ip6t_hbh.c, ip6t_rt.c, ip6t_ah.c) and
 * -m ipv6header (ip6t_ipv6header.c). Printed by libxtables. (srh stays
 * undecoded: uncertain.)
 *
 * A simulated packet carries no extension header (conntrack's defrag has
 * removed a fragment header before any chain sees it, as the simulator
 * assumes for IPv4's fragment offset too; a sender's own options, IPv6
 * BIG TCP's jumbo header are not modelled). Each of the first
 * five finds its header with ipv6_find_hdr(), and when there is none returns
 * false, whatever the rule's "!" options say. ipv6header walks the header
 * chain: it finds only the upper-layer protocol (MASK_PROTO), then compares
 * that with the rule's header list (fields: mode = modeflag (--soft),
 * flags = matchflags, inv = invflags). */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter_ipv6/ip6t_ah.h>
#include <linux/netfilter_ipv6/ip6t_frag.h>
#include <linux/netfilter_ipv6/ip6t_ipv6header.h>
#include <linux/netfilter_ipv6/ip6t_opts.h>
#include <linux/netfilter_ipv6/ip6t_rt.h>

/* each checkentry refuses unknown inversion bits */
static bool frag_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct ip6t_frag m;

	XT_LOAD(m, info, size);
	if (m.invflags & ~IP6T_FRAG_INV_MASK)
		return false;
	xt_keep_raw(d, info, size, c);
	return true;
}

static bool opts_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct ip6t_opts m;

	XT_LOAD(m, info, size);
	if ((m.invflags & ~IP6T_OPTS_INV_MASK) || (m.flags & IP6T_OPTS_NSTRICT))
		return false;
	xt_keep_raw(d, info, size, c);
	return true;
}

static bool rt_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct ip6t_rt m;

	XT_LOAD(m, info, size);
	if (m.invflags & ~IP6T_RT_INV_MASK)
		return false;
	if ((m.flags & (IP6T_RT_RES | IP6T_RT_FST_MASK)) &&
	    (!(m.flags & IP6T_RT_TYP) || m.rt_type != 0 || (m.invflags & IP6T_RT_INV_TYP)))
		return false;
	xt_keep_raw(d, info, size, c);
	return true;
}

static bool ah_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct ip6t_ah m;

	XT_LOAD(m, info, size);
	if (m.invflags & ~IP6T_AH_INV_MASK)
		return false;
	xt_keep_raw(d, info, size, c);
	return true;
}

/* ipv6header_mt6_check(): outside --soft, invflags is 0 or 0xff */
static bool ipv6header_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct ip6t_ipv6header_info m;

	XT_LOAD(m, info, size);
	if (!m.modeflag && m.invflags != 0 && m.invflags != 0xff)
		return false;
	xt_keep_raw(d, info, size, c);
	d->fields.mode = m.modeflag;
	d->fields.flags = m.matchflags;
	d->fields.inv = m.invflags;
	return true;
}

static enum tri exthdr6_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			      const struct cg_addr_env *env)
{
	(void)env;
	if (pkt->nfproto != NFPROTO_IPV6)
		return TRI_UNKNOWN;
	if (strcmp(m->name, "ipv6header") != 0)
		return TRI_FALSE;      /* no such header: false, "!" or not */

	/* the walk finds no extension header, then the upper-layer protocol */
	unsigned temp = MASK_PROTO;
	unsigned match = m->fields.flags, inv = m->fields.inv;

	if (m->fields.mode)
		return tri_of(!((temp ^ match ^ inv) & match));
	return tri_of(inv ? temp != match : temp == match);
}

static const struct xt_ext_form forms[] = {
	{ "frag", XT_MATCH_EXTHDR6, 0, 0, NFPROTO_IPV6, sizeof(struct ip6t_frag), frag_decode },
	{ "hbh", XT_MATCH_EXTHDR6, 0, 0, NFPROTO_IPV6, sizeof(struct ip6t_opts), opts_decode },
	{ "dst", XT_MATCH_EXTHDR6, 0, 0, NFPROTO_IPV6, sizeof(struct ip6t_opts), opts_decode },
	{ "rt", XT_MATCH_EXTHDR6, 0, 0, NFPROTO_IPV6, sizeof(struct ip6t_rt), rt_decode },
	{ "ah", XT_MATCH_EXTHDR6, 0, 0, NFPROTO_IPV6, sizeof(struct ip6t_ah), ah_decode },
	{ "ipv6header", XT_MATCH_EXTHDR6, 0, 0, NFPROTO_IPV6, sizeof(struct ip6t_ipv6header_info), ipv6header_decode },
};

const struct xt_ext xt_match_exthdr6 = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(fields),
	.match = exthdr6_match,
	.ident = xt_ident_raw,
};
