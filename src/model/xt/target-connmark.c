/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -j CONNMARK: struct xt_connmark_tginfo1 and _tginfo2 of xt_connmark.c,
 * printed as libxt_CONNMARK saves them. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_CONNMARK.h>

/* Revision 1 is revision 2 without the shift; its mode sits where
 * revision 2 keeps shift_dir. */
_Static_assert(offsetof(struct xt_connmark_tginfo1, nfmask) == offsetof(struct xt_connmark_tginfo2, nfmask),
	       "xt_connmark_tginfo1 and _tginfo2 differ before the mode");

static bool connmark_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_connmark_tginfo2 m;

	XT_LOAD(m, info, size);
	if (d->revision == 1) {
		struct xt_connmark_tginfo1 m1;

		XT_LOAD(m1, info, size);
		m.mode = m1.mode;
		m.shift_dir = m.shift_bits = 0;
	}
	/* connmark_tg_check() refuses these */
	if (m.mode > XT_CONNMARK_RESTORE || m.shift_dir > D_SHIFT_RIGHT || m.shift_bits > 31)
		return false;
	d->connmark_tg.mode = m.mode;
	d->connmark_tg.ctmark = m.ctmark;
	d->connmark_tg.ctmask = m.ctmask;
	d->connmark_tg.nfmask = m.nfmask;
	d->connmark_tg.shift_dir = m.shift_dir;
	d->connmark_tg.shift_bits = m.shift_bits;
	return true;
}

static uint32_t shift(uint32_t v, uint8_t dir, uint8_t bits)
{
	return dir == D_SHIFT_RIGHT ? v >> bits : v << bits;
}

/* connmark_tg_shift(); revision 1 is revision 2 with no shift. */
static void connmark_apply(const struct xt_decoded *t, struct cg_packet *pkt, struct xt_target_result *res)
{
	const struct xt_connmark_tg_dec *c = &t->connmark_tg;
	uint32_t v;

	if (!xt_pkt_has_ct(pkt))
		return;
	switch (c->mode) {
	case XT_CONNMARK_SET:
		v = shift((pkt->ct.mark & ~c->ctmask) ^ c->ctmark, c->shift_dir, c->shift_bits);
		res->ctmark_changed = v != pkt->ct.mark;
		pkt->ct.mark = v;
		break;
	case XT_CONNMARK_SAVE:
		v = (pkt->ct.mark & ~c->ctmask) ^ shift(pkt->mark & c->nfmask, c->shift_dir, c->shift_bits);
		res->ctmark_changed = v != pkt->ct.mark;
		pkt->ct.mark = v;
		break;
	case XT_CONNMARK_RESTORE:
		v = (pkt->mark & ~c->nfmask) ^ shift(pkt->ct.mark & c->ctmask, c->shift_dir, c->shift_bits);
		res->mark_changed = v != pkt->mark;
		pkt->mark = v;
		break;
	}
}

static void connmark_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_connmark_tg_dec *c = &d->connmark_tg;

	switch (c->mode) {
	case XT_CONNMARK_SET:
		fprintf(f, " --set-xmark 0x%x/0x%x", c->ctmark, c->ctmask);
		break;
	case XT_CONNMARK_SAVE:
		fprintf(f, " --save-mark --nfmask 0x%x --ctmask 0x%x", c->nfmask, c->ctmask);
		break;
	case XT_CONNMARK_RESTORE:
		fprintf(f, " --restore-mark --nfmask 0x%x --ctmask 0x%x", c->nfmask, c->ctmask);
		break;
	}
	if (d->revision >= 2 && c->shift_bits)
		fprintf(f, " --%s %u", c->shift_dir == D_SHIFT_RIGHT ? "right-shift-mark" : "left-shift-mark",
			c->shift_bits);
}

static void connmark_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u8(c, d->connmark_tg.mode);
	canon_u32(c, d->connmark_tg.ctmark);
	canon_u32(c, d->connmark_tg.ctmask);
	canon_u32(c, d->connmark_tg.nfmask);
	canon_u8(c, d->connmark_tg.shift_dir);
	canon_u8(c, d->connmark_tg.shift_bits);
}

static const struct xt_ext_form forms[] = {
	{ "CONNMARK", XT_TARGET_CONNMARK, 1, 1, NFPROTO_UNSPEC, sizeof(struct xt_connmark_tginfo1), connmark_decode },
	{ "CONNMARK", XT_TARGET_CONNMARK, 2, 2, NFPROTO_UNSPEC, sizeof(struct xt_connmark_tginfo2), connmark_decode },
};

const struct xt_ext xt_target_connmark = {
	.target = true,
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(connmark_tg),
	.apply = connmark_apply,
	.print = connmark_print,
	.ident = connmark_ident,
};
