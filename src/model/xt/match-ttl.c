/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m ttl and -m hl: struct ipt_ttl_info and ip6t_hl_info of xt_hl.c
 * (fields: mode, a = the value); printed by libxtables.
 *
 * A flow does not know its packets' TTL (CG_PKT_U_TTL: an application may
 * set it, a reply's depends on the path): eq and ne are unknown, and lt and
 * gt decided only where no value 0..255 passes ("--ttl-lt 0",
 * "--ttl-gt 255"). A mode the kernel does not know never matches (ttl_mt()'s
 * default; no checkentry refuses it). */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter_ipv4/ipt_ttl.h>
#include <linux/netfilter_ipv6/ip6t_hl.h>

static bool ttl_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct ipt_ttl_info m;   /* ip6t_hl_info has the same two bytes */

	XT_LOAD(m, info, size);
	xt_keep_raw(d, info, size, c);
	d->fields.mode = m.mode;
	d->fields.a = m.ttl;
	return true;
}

static enum tri ttl_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			  const struct cg_addr_env *env)
{
	uint32_t v = m->fields.a;

	(void)env;
	if (m->fields.mode > IPT_TTL_GT)
		return TRI_FALSE;
	if (!(pkt->unknown & CG_PKT_U_TTL)) {
		switch (m->fields.mode) {
		case IPT_TTL_EQ: return tri_of(pkt->ttl == v);
		case IPT_TTL_NE: return tri_of(pkt->ttl != v);
		case IPT_TTL_LT: return tri_of(pkt->ttl < v);
		default: return tri_of(pkt->ttl > v);
		}
	}
	if (m->fields.mode == IPT_TTL_LT && v == 0)
		return TRI_FALSE;
	if (m->fields.mode == IPT_TTL_GT && v == 255)
		return TRI_FALSE;
	return TRI_UNKNOWN;
}

static const struct xt_ext_form forms[] = {
	{ "ttl", XT_MATCH_TTL, 0, 0, NFPROTO_IPV4, sizeof(struct ipt_ttl_info), ttl_decode },
	{ "hl", XT_MATCH_TTL, 0, 0, NFPROTO_IPV6, sizeof(struct ip6t_hl_info), ttl_decode },
};

const struct xt_ext xt_match_ttl = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(fields),
	.match = ttl_match,
	.ident = xt_ident_raw,
};
