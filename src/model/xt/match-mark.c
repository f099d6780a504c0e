/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m mark and -m connmark: struct xt_mark_mtinfo1 of xt_mark.c and
 * xt_connmark_mtinfo1 of xt_connmark.c (one layout), printed as libxt_mark
 * and libxt_connmark save them. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_connmark.h>
#include <linux/netfilter/xt_mark.h>

_Static_assert(sizeof(struct xt_mark_mtinfo1) == sizeof(struct xt_connmark_mtinfo1) &&
	       offsetof(struct xt_mark_mtinfo1, mask) == offsetof(struct xt_connmark_mtinfo1, mask) &&
	       offsetof(struct xt_mark_mtinfo1, invert) == offsetof(struct xt_connmark_mtinfo1, invert),
	       "xt_mark_mtinfo1 and xt_connmark_mtinfo1 differ");

static bool mark_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_mark_mtinfo1 m;

	XT_LOAD(m, info, size);
	d->mark.mark = m.mark;
	d->mark.mask = m.mask;
	d->mark.invert = m.invert;
	return true;
}

static enum tri mark_is(const struct xt_mark_dec *mk, uint32_t value)
{
	return tri_of(((value & mk->mask) == mk->mark) != mk->invert);
}

/* mark_mt(); connmark_mt(): no entry, no match, "!" or not */
static enum tri mark_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			   const struct cg_addr_env *env)
{
	if (m->kind == XT_MATCH_MARK)
		return mark_is(&m->mark, pkt->mark);
	if (!xt_pkt_has_ct(pkt))
		return TRI_FALSE;
	return mark_is(&m->mark, pkt->ct.mark);
}

static void mark_print(FILE *f, const struct xt_decoded *d)
{
	xt_print_inv(f, d->mark.invert);
	fputs(" --mark", f);
	xt_print_mark_mask(f, d->mark.mark, d->mark.mask);
}

static void mark_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u32(c, d->mark.mark);
	canon_u32(c, d->mark.mask);
	canon_u8(c, d->mark.invert);
}

static const struct xt_ext_form forms[] = {
	{ "mark",     XT_MATCH_MARK,     1, 1, NFPROTO_UNSPEC, sizeof(struct xt_mark_mtinfo1), mark_decode },
	{ "connmark", XT_MATCH_CONNMARK, 1, 1, NFPROTO_UNSPEC, sizeof(struct xt_connmark_mtinfo1), mark_decode },
};

const struct xt_ext xt_match_mark = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(mark),
	.match = mark_match,
	.print = mark_print,
	.ident = mark_ident,
};
