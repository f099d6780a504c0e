/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -j DNAT, SNAT, MASQUERADE and REDIRECT: the NAT range they share,
 * struct nf_nat_ipv4_multi_range_compat (revision 0, IPv4),
 * nf_nat_range (revision 1; MASQUERADE and REDIRECT for IPv6) and
 * nf_nat_range2 (revision 2) of xt_nat.c, xt_MASQUERADE.c and
 * xt_REDIRECT.c, printed as libxt_NAT, libxt_MASQUERADE and libxt_REDIRECT
 * save them. */
#include "config.h"

#include "xt-internal.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_nat.h>

/* ---- decoding ------------------------------------------------------------ */

static bool nat_compat_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct nf_nat_ipv4_multi_range_compat m;
	struct xt_nat_dec *n = &d->nat;

	XT_LOAD(m, info, size);
	/* xt_nat_checkentry_v0(): exactly one range */
	if (m.rangesize != 1)
		return false;
	n->flags = m.range[0].flags;
	memset(&n->min_addr, 0, sizeof(n->min_addr));
	memset(&n->max_addr, 0, sizeof(n->max_addr));
	n->min_addr.family = n->max_addr.family = AF_INET;
	memcpy(n->min_addr.bytes, &m.range[0].min_ip, 4);
	memcpy(n->max_addr.bytes, &m.range[0].max_ip, 4);
	n->min_port = ntohs(m.range[0].min.all);
	n->max_port = ntohs(m.range[0].max.all);
	return true;
}

/* nf_nat_range is nf_nat_range2 without base_proto. */
_Static_assert(offsetof(struct nf_nat_range2, base_proto) == sizeof(struct nf_nat_range),
	       "nf_nat_range is not the prefix of nf_nat_range2");

static bool nat_range_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct nf_nat_range2 m;
	struct xt_nat_dec *n = &d->nat;

	XT_LOAD(m, info, size);
	n->flags = m.flags;
	xt_addr_from_inet(&n->min_addr, &m.min_addr, d->nfproto);
	xt_addr_from_inet(&n->max_addr, &m.max_addr, d->nfproto);
	n->min_port = ntohs(m.min_proto.all);
	n->max_port = ntohs(m.max_proto.all);
	n->base_port = ntohs(m.base_proto.all);
	return true;
}

/* ---- applying ------------------------------------------------------------ */

static void nat_apply(const struct xt_decoded *t, struct cg_packet *pkt, struct xt_target_result *res)
{
	const struct xt_nat_dec *n = &t->nat;

	/* nf_nat_setup_info() returns NF_ACCEPT: the nat chain ends here */
	res->terminal = true;
	res->verdict = XT_RESULT_ACCEPT;
	if (n->flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
		res->nat_port = n->min_port;
		res->nat_port_max = n->max_port;
	}
	switch (t->kind) {
	case XT_TARGET_DNAT:
	case XT_TARGET_SNAT:
		res->nat = t->kind == XT_TARGET_DNAT ? XT_NAT_DNAT : XT_NAT_SNAT;
		res->dnat = t->kind == XT_TARGET_DNAT;
		res->snat = !res->dnat;
		if (n->flags & NF_NAT_RANGE_MAP_IPS) {
			res->nat_addr = n->min_addr;
			res->nat_addr_max = n->max_addr;
		}
		break;
	case XT_TARGET_MASQUERADE:
		res->nat = XT_NAT_MASQUERADE;
		res->snat = true;   /* the out device's address, chosen at run time */
		break;
	case XT_TARGET_REDIRECT:
		res->nat = XT_NAT_REDIRECT;
		res->dnat = true;
		/* nf_nat_redirect_ipv4/6(): loopback for locally generated
		 * packets, the in device's first address otherwise */
		if (pkt->locally_generated) {
			if (t->nfproto == NFPROTO_IPV6)
				addr_parse("::1", &res->nat_addr);
			else
				addr_parse("127.0.0.1", &res->nat_addr);
			res->nat_addr_max = res->nat_addr;
		}
		break;
	default:
		break;
	}
}

/* ---- printing ------------------------------------------------------------ */

/* sprint_range() + __NAT_print() of libxt_NAT */
static void nat_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_nat_dec *n = &d->nat;
	bool v6 = d->nfproto == NFPROTO_IPV6;
	bool ports_only = d->kind == XT_TARGET_MASQUERADE || d->kind == XT_TARGET_REDIRECT;
	bool brackets = v6 && (n->flags & NF_NAT_RANGE_PROTO_SPECIFIED);
	char buf[2 * INET6_ADDRSTRLEN + 32], a[INET6_ADDRSTRLEN];
	size_t len = 0;
	const char *p;

	buf[0] = '\0';
	if (n->flags & NF_NAT_RANGE_MAP_IPS) {
		int fam = v6 ? AF_INET6 : AF_INET;

		len += snprintf(buf + len, sizeof(buf) - len, "%s%s", brackets ? "[" : "",
				inet_ntop(fam, n->min_addr.bytes, a, sizeof(a)));
		if (memcmp(n->min_addr.bytes, n->max_addr.bytes, 16))
			len += snprintf(buf + len, sizeof(buf) - len, "-%s",
					inet_ntop(fam, n->max_addr.bytes, a, sizeof(a)));
		if (brackets)
			len += snprintf(buf + len, sizeof(buf) - len, "]");
	}
	if (n->flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
		len += snprintf(buf + len, sizeof(buf) - len, ":%hu", n->min_port);
		if (n->max_port != n->min_port)
			len += snprintf(buf + len, sizeof(buf) - len, "-%hu", n->max_port);
		if (n->flags & NF_NAT_RANGE_PROTO_OFFSET)
			snprintf(buf + len, sizeof(buf) - len, "/%hu", n->base_port);
	}
	p = buf;
	if (*p) {
		if (*p == ':' && ports_only)
			p++;
		fprintf(f, " %s%s", ports_only ? "--to-ports "
				     : d->kind == XT_TARGET_DNAT ? "--to-destination " : "--to-source ", p);
	}
	if (n->flags & NF_NAT_RANGE_PROTO_RANDOM)
		fputs(" --random", f);
	if (n->flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY)
		fputs(" --random-fully", f);
	if (n->flags & NF_NAT_RANGE_PERSISTENT)
		fputs(" --persistent", f);
}

#define NAT_FORMS(name, kind)                                                                          \
	{ name, kind, 0, 0, NFPROTO_IPV4, sizeof(struct nf_nat_ipv4_multi_range_compat), nat_compat_decode }, \
	{ name, kind, 1, 1, NFPROTO_UNSPEC, sizeof(struct nf_nat_range), nat_range_decode },             \
	{ name, kind, 2, 2, NFPROTO_UNSPEC, sizeof(struct nf_nat_range2), nat_range_decode }

static void nat_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u32(c, d->nat.flags);
	canon_addr(c, &d->nat.min_addr);
	canon_addr(c, &d->nat.max_addr);
	canon_u16(c, d->nat.min_port);
	canon_u16(c, d->nat.max_port);
	canon_u16(c, d->nat.base_port);
}

static const struct xt_ext_form forms[] = {
	NAT_FORMS("DNAT", XT_TARGET_DNAT),
	NAT_FORMS("SNAT", XT_TARGET_SNAT),
	/* one revision, the family's own range */
	{ "MASQUERADE", XT_TARGET_MASQUERADE, 0, 0, NFPROTO_IPV4, sizeof(struct nf_nat_ipv4_multi_range_compat),
	  nat_compat_decode },
	{ "MASQUERADE", XT_TARGET_MASQUERADE, 0, 0, NFPROTO_IPV6, sizeof(struct nf_nat_range), nat_range_decode },
	{ "REDIRECT", XT_TARGET_REDIRECT, 0, 0, NFPROTO_IPV4, sizeof(struct nf_nat_ipv4_multi_range_compat),
	  nat_compat_decode },
	{ "REDIRECT", XT_TARGET_REDIRECT, 0, 0, NFPROTO_IPV6, sizeof(struct nf_nat_range), nat_range_decode },
};

const struct xt_ext xt_target_nat = {
	.target = true,
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(nat),
	.apply = nat_apply,
	.print = nat_print,
	.ident = nat_ident,
};
