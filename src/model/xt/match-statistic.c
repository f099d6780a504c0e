/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m statistic: struct xt_statistic_info of xt_statistic.c, printed as
 * libxt_statistic saves it. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_statistic.h>

static bool statistic_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_statistic_info m;

	XT_LOAD(m, info, size);
	if (m.mode > XT_STATISTIC_MODE_MAX)
		return false;
	d->statistic.mode = m.mode;
	d->statistic.flags = m.flags;
	if (m.mode == XT_STATISTIC_MODE_RANDOM) {
		d->statistic.probability = m.u.random.probability;
	} else {
		d->statistic.every = m.u.nth.every;
		d->statistic.packet = m.u.nth.packet;
	}
	return true;
}

/* statistic_mt(): random with probability 0 or 1 and "every 1" are certain;
 * anything else depends on a random number or a counter. */
static enum tri statistic_match(const struct xt_decoded *m, const struct cg_packet *pkt,
				const struct cg_addr_env *env)
{
	const struct xt_statistic_dec *s = &m->statistic;
	bool inv = s->flags & XT_STATISTIC_INVERT;

	if (s->mode == XT_STATISTIC_MODE_RANDOM) {
		if (s->probability == 0)
			return tri_of(inv);
		if (s->probability >= 0x80000000u)
			return tri_of(!inv);
	} else if (s->every == 0) {
		return tri_of(!inv);
	}
	return TRI_UNKNOWN;
}

static void statistic_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_statistic_dec *s = &d->statistic;
	bool inv = s->flags & XT_STATISTIC_INVERT;

	if (s->mode == XT_STATISTIC_MODE_RANDOM) {
		fputs(" --mode random", f);
		xt_print_inv(f, inv);
		fprintf(f, " --probability %.11f", 1.0 * s->probability / 0x80000000);
	} else {
		fputs(" --mode nth", f);
		xt_print_inv(f, inv);
		fprintf(f, " --every %u --packet %u", s->every + 1, s->packet);
	}
}

static void statistic_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u16(c, d->statistic.mode);
	canon_u16(c, d->statistic.flags);
	canon_u32(c, d->statistic.probability);
	canon_u32(c, d->statistic.every);
	canon_u32(c, d->statistic.packet);
}

static const struct xt_ext_form forms[] = {
	{ "statistic", XT_MATCH_STATISTIC, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_statistic_info), statistic_decode },
};

const struct xt_ext xt_match_statistic = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(statistic),
	.match = statistic_match,
	.print = statistic_print,
	.ident = statistic_ident,
};
