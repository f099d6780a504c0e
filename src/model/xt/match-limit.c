/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m limit: struct xt_rateinfo of xt_limit.c, printed as libxt_limit saves
 * it. Decoded, never evaluated: it depends on the packet rate. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_limit.h>
#include <math.h>

/* libxt_limit's default burst (the uapi header does not carry it) */
#define XT_LIMIT_BURST 5

static bool limit_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_rateinfo m;

	XT_LOAD(m, info, size);
	d->limit.avg = m.avg;
	d->limit.burst = m.burst;
	return true;
}

/* print_rate() of libxt_limit: the largest unit with an exact-ish count */
static void limit_print(FILE *f, const struct xt_decoded *d)
{
	static const struct { const char *name; uint32_t mult; } rates[] = {
		{ "day", XT_LIMIT_SCALE * 24 * 60 * 60 }, { "hour", XT_LIMIT_SCALE * 60 * 60 },
		{ "min", XT_LIMIT_SCALE * 60 }, { "sec", XT_LIMIT_SCALE },
	};
	const struct xt_limit_dec *l = &d->limit;
	unsigned i;

	fputs(" --limit", f);
	if (l->avg == 0) {
		fprintf(f, " %f", INFINITY);
	} else {
		for (i = 1; i < ARRAY_SIZE(rates); i++)
			if (l->avg > rates[i].mult || rates[i].mult / l->avg < rates[i].mult % l->avg)
				break;
		fprintf(f, " %u/%s", rates[i - 1].mult / l->avg, rates[i - 1].name);
	}
	if (l->burst != XT_LIMIT_BURST)
		fprintf(f, " --limit-burst %u", l->burst);
}

static void limit_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u32(c, d->limit.avg);
	canon_u32(c, d->limit.burst);
}

static const struct xt_ext_form forms[] = {
	{ "limit", XT_MATCH_LIMIT, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_rateinfo), limit_decode },
};

const struct xt_ext xt_match_limit = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(limit),
	.print = limit_print,
	.ident = limit_ident,
};
