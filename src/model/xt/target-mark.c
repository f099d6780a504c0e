/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -j MARK (revision 2, --set-xmark): struct xt_mark_tginfo2 of xt_mark.c,
 * printed as libxt_MARK saves it. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_MARK.h>

static bool mark_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_mark_tginfo2 m;

	XT_LOAD(m, info, size);
	d->mark_tg.mark = m.mark;
	d->mark_tg.mask = m.mask;
	return true;
}

/* mark_tg(): new = (old & ~mask) ^ mark */
static void mark_apply(const struct xt_decoded *t, struct cg_packet *pkt, struct xt_target_result *res)
{
	uint32_t v = (pkt->mark & ~t->mark_tg.mask) ^ t->mark_tg.mark;

	res->mark_changed = v != pkt->mark;
	pkt->mark = v;
}

static void mark_print(FILE *f, const struct xt_decoded *d)
{
	fprintf(f, " --set-xmark 0x%x/0x%x", d->mark_tg.mark, d->mark_tg.mask);
}

static void mark_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u32(c, d->mark_tg.mark);
	canon_u32(c, d->mark_tg.mask);
}

static const struct xt_ext_form forms[] = {
	{ "MARK", XT_TARGET_MARK, 2, 2, NFPROTO_UNSPEC, sizeof(struct xt_mark_tginfo2), mark_decode },
};

const struct xt_ext xt_target_mark = {
	.target = true,
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(mark_tg),
	.apply = mark_apply,
	.print = mark_print,
	.ident = mark_ident,
};
