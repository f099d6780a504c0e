/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m multiport: struct xt_multiport (revision 0) and xt_multiport_v1 of
 * xt_multiport.c, printed as libxt_multiport saves them. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_multiport.h>

/* Revision 0 is revision 1 without port ranges and "!". */
_Static_assert(offsetof(struct xt_multiport_v1, ports) == offsetof(struct xt_multiport, ports) &&
	       offsetof(struct xt_multiport_v1, pflags) >= sizeof(struct xt_multiport),
	       "xt_multiport is not the prefix of xt_multiport_v1");

static bool multiport_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_multiport_v1 m;

	XT_LOAD(m, info, size);
	/* The kernel's checkentry refuses these too; they cannot be loaded. */
	if (m.flags > XT_MULTIPORT_EITHER || m.count > XT_MULTI_PORTS)
		return false;
	d->multiport.flags = m.flags;
	d->multiport.count = m.count;
	memcpy(d->multiport.ports, m.ports, sizeof(m.ports));
	memcpy(d->multiport.pflags, m.pflags, sizeof(m.pflags));
	d->multiport.invert = m.invert;
	return true;
}

static bool has_ports(uint8_t l4proto)
{
	switch (l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		return true;
	}
	return false;
}

static bool mp_hit(uint8_t flags, uint16_t lo, uint16_t hi, uint16_t src, uint16_t dst)
{
	bool s = src >= lo && src <= hi, d = dst >= lo && dst <= hi;

	switch (flags) {
	case XT_MULTIPORT_SOURCE: return s;
	case XT_MULTIPORT_DESTINATION: return d;
	default: return s || d;
	}
}

/* ports_match_v0() / ports_match_v1(): the first hit decides, "!" (rev 1)
 * flips the answer both ways. */
static enum tri multiport_match(const struct xt_decoded *m, const struct cg_packet *pkt,
				const struct cg_addr_env *env)
{
	const struct xt_multiport_dec *mp = &m->multiport;

	if (!has_ports(pkt->l4proto))
		return TRI_FALSE;
	for (unsigned i = 0; i < mp->count && i < XT_DEC_MULTI_PORTS; i++) {
		uint16_t lo = mp->ports[i], hi = lo;

		if (m->revision >= 1 && mp->pflags[i]) {
			if (++i >= XT_DEC_MULTI_PORTS)
				break;      /* the kernel reads ports[++i] of its array */
			hi = mp->ports[i];
		}
		if (mp_hit(mp->flags, lo, hi, pkt->sport, pkt->dport))
			return tri_of(!mp->invert);
	}
	return tri_of(mp->invert);
}

static void multiport_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_multiport_dec *m = &d->multiport;
	static const char *const opt[] = { " --sports ", " --dports ", " --ports " };

	xt_print_inv(f, d->revision >= 1 && m->invert);
	if (m->flags <= XT_MULTIPORT_EITHER)
		fputs(opt[m->flags], f);
	for (unsigned i = 0; i < m->count && i < XT_DEC_MULTI_PORTS; i++) {
		fprintf(f, "%s%u", i ? "," : "", m->ports[i]);
		if (d->revision >= 1 && m->pflags[i] && i + 1 < XT_DEC_MULTI_PORTS)
			fprintf(f, ":%u", m->ports[++i]);
	}
}

static void multiport_ident(struct canon *c, const struct xt_decoded *d)
{
	uint8_t n = d->multiport.count < XT_DEC_MULTI_PORTS ? d->multiport.count : XT_DEC_MULTI_PORTS;

	canon_u8(c, d->multiport.flags);
	canon_u8(c, n);
	canon_bytes(c, d->multiport.ports, n * sizeof(d->multiport.ports[0]));
	canon_bytes(c, d->multiport.pflags, n);
	canon_u8(c, d->multiport.invert);
}

static const struct xt_ext_form forms[] = {
	{ "multiport", XT_MATCH_MULTIPORT, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_multiport), multiport_decode },
	{ "multiport", XT_MATCH_MULTIPORT, 1, 1, NFPROTO_UNSPEC, sizeof(struct xt_multiport_v1), multiport_decode },
};

const struct xt_ext xt_match_multiport = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(multiport),
	.match = multiport_match,
	.print = multiport_print,
	.ident = multiport_ident,
};
