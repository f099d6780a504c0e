/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m set: struct xt_set_info_match_v1 (revisions 1 and 2), _v3 and _v4 of
 * xt_set.c, printed as libxt_set saves them but for the set's name. Decoded,
 * never evaluated: the sets' members are not collected. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_set.h>

/* ---- decoding ------------------------------------------------------------ */

static bool set_info_decode(struct xt_decoded *d, const struct xt_set_info *s)
{
	/* The kernel refuses dim 0 or above IPSET_DIM_MAX at checkentry. */
	if (s->dim < IPSET_DIM_ONE || s->dim > IPSET_DIM_MAX)
		return false;
	d->set.index = s->index;
	d->set.dim = s->dim;
	d->set.flags = s->flags;
	return true;
}

static bool set1_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_set_info_match_v1 m;

	XT_LOAD(m, info, size);
	return set_info_decode(d, &m.match_set);
}

/* Revisions 3 and 4 carry the same counters; 4 aligns them differently. */
static void set_counters(struct xt_set_dec *s, uint32_t flags, uint8_t packets_op, uint64_t packets,
			 uint8_t bytes_op, uint64_t bytes)
{
	s->v3_flags = flags;
	s->packets.op = packets_op;
	s->packets.value = packets;
	s->bytes.op = bytes_op;
	s->bytes.value = bytes;
}

static bool set3_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_set_info_match_v3 m;

	XT_LOAD(m, info, size);
	set_counters(&d->set, m.flags, m.packets.op, m.packets.value, m.bytes.op, m.bytes.value);
	return set_info_decode(d, &m.match_set);
}

static bool set4_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_set_info_match_v4 m;

	XT_LOAD(m, info, size);
	set_counters(&d->set, m.flags, m.packets.op, m.packets.value, m.bytes.op, m.bytes.value);
	return set_info_decode(d, &m.match_set);
}

/* ---- printing ------------------------------------------------------------ */

static void print_counter(FILE *f, uint8_t op, uint64_t value, const char *name)
{
	switch (op) {
	case IPSET_COUNTER_EQ: fprintf(f, " --%s-eq %llu", name, (unsigned long long)value); break;
	case IPSET_COUNTER_NE: fprintf(f, " ! --%s-eq %llu", name, (unsigned long long)value); break;
	case IPSET_COUNTER_LT: fprintf(f, " --%s-lt %llu", name, (unsigned long long)value); break;
	case IPSET_COUNTER_GT: fprintf(f, " --%s-gt %llu", name, (unsigned long long)value); break;
	}
}

/* The blob carries the set's kernel index, not its name, which iptables-save
 * asks ipset for; the index is printed in a marked comment instead. */
static void set_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_set_dec *s = &d->set;

	xt_print_inv(f, s->flags & IPSET_INV_MATCH);
	fprintf(f, " --match-set /* ipset index %u */", s->index);
	for (unsigned i = 1; i <= s->dim; i++)
		fprintf(f, "%s%s", i == 1 ? " " : ",", s->flags & (1u << i) ? "src" : "dst");
	if (d->revision == 2 && (s->flags & IPSET_RETURN_NOMATCH))
		fputs(" --return-nomatch", f);
	if (d->revision >= 3) {
		if (s->v3_flags & IPSET_FLAG_RETURN_NOMATCH)
			fputs(" --return-nomatch", f);
		if (s->v3_flags & IPSET_FLAG_SKIP_COUNTER_UPDATE)
			fputs(" ! --update-counters", f);
		if (s->v3_flags & IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE)
			fputs(" ! --update-subcounters", f);
		print_counter(f, s->packets.op, s->packets.value, "packets");
		print_counter(f, s->bytes.op, s->bytes.value, "bytes");
	}
}

static void set_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u16(c, d->set.index);
	canon_u8(c, d->set.dim);
	canon_u8(c, d->set.flags);
	canon_u32(c, d->set.v3_flags);
	canon_u8(c, d->set.packets.op);
	canon_u64(c, d->set.packets.value);
	canon_u8(c, d->set.bytes.op);
	canon_u64(c, d->set.bytes.value);
}

static const struct xt_ext_form forms[] = {
	{ "set", XT_MATCH_SET, 1, 2, NFPROTO_UNSPEC, sizeof(struct xt_set_info_match_v1), set1_decode },
	{ "set", XT_MATCH_SET, 3, 3, NFPROTO_UNSPEC, sizeof(struct xt_set_info_match_v3), set3_decode },
	{ "set", XT_MATCH_SET, 4, 4, NFPROTO_UNSPEC, sizeof(struct xt_set_info_match_v4), set4_decode },
};

const struct xt_ext xt_match_set = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(set),
	.print = set_print,
	.ident = set_ident,
};
