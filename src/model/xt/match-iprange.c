/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m iprange (revision 1): struct xt_iprange_mtinfo of xt_iprange.c,
 * printed as libxt_iprange saves it. */
#include "config.h"

#include "xt-internal.h"

#include <arpa/inet.h>
#include <linux/netfilter/xt_iprange.h>

static bool iprange_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_iprange_mtinfo m;

	XT_LOAD(m, info, size);
	d->iprange.flags = m.flags;
	xt_addr_from_inet(&d->iprange.src_min, &m.src_min, d->nfproto);
	xt_addr_from_inet(&d->iprange.src_max, &m.src_max, d->nfproto);
	xt_addr_from_inet(&d->iprange.dst_min, &m.dst_min, d->nfproto);
	xt_addr_from_inet(&d->iprange.dst_max, &m.dst_max, d->nfproto);
	return true;
}

static bool in_range(const struct cg_addr *a, const struct cg_addr *lo, const struct cg_addr *hi, int len)
{
	/* big-endian byte strings compare as numbers */
	return memcmp(a->bytes, lo->bytes, len) >= 0 && memcmp(a->bytes, hi->bytes, len) <= 0;
}

static enum tri iprange_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			      const struct cg_addr_env *env)
{
	const struct xt_iprange_dec *ir = &m->iprange;
	int len = m->nfproto == NFPROTO_IPV6 ? 16 : 4;

	if (ir->flags & IPRANGE_SRC) {
		bool in = in_range(&pkt->src, &ir->src_min, &ir->src_max, len);
		if (in == !!(ir->flags & IPRANGE_SRC_INV))
			return TRI_FALSE;
	}
	if (ir->flags & IPRANGE_DST) {
		bool in = in_range(&pkt->dst, &ir->dst_min, &ir->dst_max, len);
		if (in == !!(ir->flags & IPRANGE_DST_INV))
			return TRI_FALSE;
	}
	return TRI_TRUE;
}

static void print_range(FILE *f, const char *opt, const struct cg_addr *min, const struct cg_addr *max,
			bool inv)
{
	char lo[INET6_ADDRSTRLEN], hi[INET6_ADDRSTRLEN];
	int fam = min->family == AF_INET6 ? AF_INET6 : AF_INET;

	xt_print_inv(f, inv);
	fprintf(f, " %s %s-%s", opt, inet_ntop(fam, min->bytes, lo, sizeof(lo)),
		inet_ntop(fam, max->bytes, hi, sizeof(hi)));
}

static void iprange_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_iprange_dec *r = &d->iprange;

	if (r->flags & IPRANGE_SRC)
		print_range(f, "--src-range", &r->src_min, &r->src_max, r->flags & IPRANGE_SRC_INV);
	if (r->flags & IPRANGE_DST)
		print_range(f, "--dst-range", &r->dst_min, &r->dst_max, r->flags & IPRANGE_DST_INV);
}

static void iprange_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u8(c, d->iprange.flags);
	canon_addr(c, &d->iprange.src_min);
	canon_addr(c, &d->iprange.src_max);
	canon_addr(c, &d->iprange.dst_min);
	canon_addr(c, &d->iprange.dst_max);
}

static const struct xt_ext_form forms[] = {
	{ "iprange", XT_MATCH_IPRANGE, 1, 1, NFPROTO_UNSPEC, sizeof(struct xt_iprange_mtinfo), iprange_decode },
};

const struct xt_ext xt_match_iprange = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(iprange),
	.match = iprange_match,
	.print = iprange_print,
	.ident = iprange_ident,
};
