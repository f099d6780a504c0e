/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m addrtype: struct xt_addrtype_info (revision 0, IPv4) and
 * xt_addrtype_info_v1 of xt_addrtype.c, printed as libxt_addrtype saves
 * them. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_addrtype.h>
#include <linux/rtnetlink.h>

/* ---- decoding ------------------------------------------------------------ */

static bool addrtype0_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_addrtype_info m;

	XT_LOAD(m, info, size);
	d->addrtype.source = m.source;
	d->addrtype.dest = m.dest;
	d->addrtype.invert_source = m.invert_source;
	d->addrtype.invert_dest = m.invert_dest;
	return true;
}

static bool addrtype1_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_addrtype_info_v1 m;

	XT_LOAD(m, info, size);
	d->addrtype.source = m.source;
	d->addrtype.dest = m.dest;
	d->addrtype.invert_source = m.flags & XT_ADDRTYPE_INVERT_SOURCE;
	d->addrtype.invert_dest = m.flags & XT_ADDRTYPE_INVERT_DEST;
	d->addrtype.limit_iface_in = m.flags & XT_ADDRTYPE_LIMIT_IFACE_IN;
	d->addrtype.limit_iface_out = m.flags & XT_ADDRTYPE_LIMIT_IFACE_OUT;
	return true;
}

/* ---- evaluating ---------------------------------------------------------- */

/* inet_dev_addr_type(): these never reach the FIB. */
static int addr_type4_fixed(const struct cg_addr *a)
{
	if (a->bytes[0] == 0 || (a->bytes[0] == 255 && a->bytes[1] == 255 && a->bytes[2] == 255 &&
				  a->bytes[3] == 255))
		return RTN_BROADCAST;
	if ((a->bytes[0] & 0xf0) == 0xe0)
		return RTN_MULTICAST;
	return -1;
}

static enum tri type4(const struct cg_addr_env *env, const struct cg_addr *a, const char *dev,
		      uint16_t mask)
{
	int t = addr_type4_fixed(a);

	if (t < 0) {
		if (!env || !env->addr_type)
			return TRI_UNKNOWN;
		t = env->addr_type(env, a, dev);
		if (t < 0 || t > 15)
			return TRI_UNKNOWN;
	}
	return tri_of(mask & (1u << t));
}

/* ipv6_addr_type() classes the kernel's match_type6() uses. */
static bool v6_multicast(const struct cg_addr *a) { return a->bytes[0] == 0xff; }
static bool v6_any(const struct cg_addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->bytes, zero, 16) == 0;
}
static bool v6_mapped(const struct cg_addr *a)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };
	return memcmp(a->bytes, pfx, 12) == 0;
}

/* match_type6(): the type bits are *conditions*, all of which must hold,
 * not a set of acceptable types as for IPv4. LOCAL, ANYCAST and UNREACHABLE
 * come from a route lookup, which the env answers. */
static enum tri type6(const struct cg_addr_env *env, const struct cg_addr *a, const char *dev,
		      uint16_t mask)
{
	if ((mask & XT_ADDRTYPE_MULTICAST) && !v6_multicast(a))
		return TRI_FALSE;
	if ((mask & XT_ADDRTYPE_UNICAST) && (v6_multicast(a) || v6_any(a) || v6_mapped(a)))
		return TRI_FALSE;
	if ((mask & XT_ADDRTYPE_UNSPEC) && !v6_any(a))
		return TRI_FALSE;
	if (mask & (XT_ADDRTYPE_LOCAL | XT_ADDRTYPE_ANYCAST | XT_ADDRTYPE_UNREACHABLE)) {
		uint16_t got = 0;
		int t;

		if (!env || !env->addr_type)
			return TRI_UNKNOWN;
		t = env->addr_type(env, a, dev);
		if (t < 0)
			return TRI_UNKNOWN;
		if (t == RTN_LOCAL)
			got = XT_ADDRTYPE_LOCAL;
		else if (t == RTN_ANYCAST)
			got = XT_ADDRTYPE_ANYCAST;
		else if (t == RTN_UNREACHABLE || t == RTN_PROHIBIT || t == RTN_BLACKHOLE)
			got = XT_ADDRTYPE_UNREACHABLE;     /* RTF_REJECT routes */
		return tri_of(mask & got);
	}
	return TRI_TRUE;
}

static enum tri addrtype_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			       const struct cg_addr_env *env)
{
	const struct xt_addrtype_dec *at = &m->addrtype;
	const char *dev = NULL;
	enum tri r = TRI_TRUE;

	if (at->limit_iface_in)
		dev = pkt->iif.name[0] ? pkt->iif.name : NULL;
	else if (at->limit_iface_out)
		dev = pkt->oif.name[0] ? pkt->oif.name : NULL;
	if (at->source) {
		enum tri t = m->nfproto == NFPROTO_IPV6 ? type6(env, &pkt->src, dev, at->source)
							: type4(env, &pkt->src, dev, at->source);
		r = tri_and(r, xt_crit(t, at->invert_source));
	}
	if (at->dest) {
		enum tri t = m->nfproto == NFPROTO_IPV6 ? type6(env, &pkt->dst, dev, at->dest)
							: type4(env, &pkt->dst, dev, at->dest);
		r = tri_and(r, xt_crit(t, at->invert_dest));
	}
	return r;
}

/* ---- printing ------------------------------------------------------------ */

static void print_types(FILE *f, const char *opt, uint16_t mask, bool inv)
{
	static const char *const names[] = {
		"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
		"BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE",
	};

	xt_print_inv(f, inv);
	fprintf(f, " %s ", opt);
	xt_print_bit_names(f, mask, names, ARRAY_SIZE(names), "");
}

static void addrtype_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_addrtype_dec *a = &d->addrtype;

	if (a->source)
		print_types(f, "--src-type", a->source, a->invert_source);
	if (a->dest)
		print_types(f, "--dst-type", a->dest, a->invert_dest);
	if (d->revision >= 1) {
		if (a->limit_iface_in)
			fputs(" --limit-iface-in", f);
		if (a->limit_iface_out)
			fputs(" --limit-iface-out", f);
	}
}

static void addrtype_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u16(c, d->addrtype.source);
	canon_u16(c, d->addrtype.dest);
	canon_u8(c, d->addrtype.invert_source);
	canon_u8(c, d->addrtype.invert_dest);
	canon_u8(c, d->addrtype.limit_iface_in);
	canon_u8(c, d->addrtype.limit_iface_out);
}

static const struct xt_ext_form forms[] = {
	{ "addrtype", XT_MATCH_ADDRTYPE, 0, 0, NFPROTO_IPV4, sizeof(struct xt_addrtype_info), addrtype0_decode },
	{ "addrtype", XT_MATCH_ADDRTYPE, 1, 1, NFPROTO_UNSPEC, sizeof(struct xt_addrtype_info_v1), addrtype1_decode },
};

const struct xt_ext xt_match_addrtype = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(addrtype),
	.match = addrtype_match,
	.print = addrtype_print,
	.ident = addrtype_ident,
};
