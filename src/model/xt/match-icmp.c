/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m icmp and -m icmp6: struct ipt_icmp / ip6t_icmp of ip_tables.c and
 * ip6_tables.c, printed as libipt_icmp / libip6t_icmp save them. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

/* The two structs are one layout under two names. */
_Static_assert(sizeof(struct ipt_icmp) == sizeof(struct ip6t_icmp) &&
	       offsetof(struct ipt_icmp, code) == offsetof(struct ip6t_icmp, code) &&
	       offsetof(struct ipt_icmp, invflags) == offsetof(struct ip6t_icmp, invflags) &&
	       IPT_ICMP_INV == IP6T_ICMP_INV, "ipt_icmp and ip6t_icmp differ");

static bool icmp_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct ipt_icmp i;

	XT_LOAD(i, info, size);
	d->icmp.type = i.type;
	d->icmp.code_min = i.code[0];
	d->icmp.code_max = i.code[1];
	d->icmp.invert = i.invflags & IPT_ICMP_INV;
	return true;
}

static enum tri icmp_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			   const struct cg_addr_env *env)
{
	const struct xt_icmp_dec *i = &m->icmp;
	bool hit;

	if (m->kind == XT_MATCH_ICMP) {
		if (pkt->l4proto != IPPROTO_ICMP)
			return TRI_FALSE;
		/* icmp_type_code_match(): 0xff is "any" (IPv4 only) */
		hit = i->type == 0xff ||
		      (pkt->icmp_type == i->type && pkt->icmp_code >= i->code_min &&
		       pkt->icmp_code <= i->code_max);
	} else {
		if (pkt->l4proto != IPPROTO_ICMPV6)
			return TRI_FALSE;
		hit = pkt->icmp_type == i->type && pkt->icmp_code >= i->code_min &&
		      pkt->icmp_code <= i->code_max;
	}
	return tri_of(hit != i->invert);
}

static void icmp_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_icmp_dec *i = &d->icmp;

	xt_print_inv(f, i->invert);
	if (d->kind == XT_MATCH_ICMP && i->type == 0xff) {
		fputs(" --icmp-type any", f);
		return;
	}
	fprintf(f, d->kind == XT_MATCH_ICMP ? " --icmp-type %u" : " --icmpv6-type %u", i->type);
	if (i->code_min != 0 || i->code_max != 0xff)
		fprintf(f, "/%u", i->code_min);
}

static void icmp_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u8(c, d->icmp.type);
	canon_u8(c, d->icmp.code_min);
	canon_u8(c, d->icmp.code_max);
	canon_u8(c, d->icmp.invert);
}

static const struct xt_ext_form forms[] = {
	{ "icmp",  XT_MATCH_ICMP,  0, 0, NFPROTO_IPV4, sizeof(struct ipt_icmp), icmp_decode },
	{ "icmp6", XT_MATCH_ICMP6, 0, 0, NFPROTO_IPV6, sizeof(struct ip6t_icmp), icmp_decode },
};

const struct xt_ext xt_match_icmp = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(icmp),
	.match = icmp_match,
	.print = icmp_print,
	.ident = icmp_ident,
};
