/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m pkttype: struct xt_pkttype_info of xt_pkttype.c, printed as
 * libxt_pkttype saves it. */
#include "config.h"

#include "xt-internal.h"

#include <linux/if_packet.h>
#include <linux/netfilter/xt_pkttype.h>

static bool pkttype_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_pkttype_info m;

	XT_LOAD(m, info, size);
	d->pkttype.pkttype = m.pkttype;
	d->pkttype.invert = m.invert;
	return true;
}

/* pkttype_mt(): looped-back packets count as multicast or broadcast */
static enum tri pkttype_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			      const struct cg_addr_env *env)
{
	int type = pkt->pkttype;

	if (type == PACKET_LOOPBACK) {
		if (m->nfproto == NFPROTO_IPV6 || (pkt->dst.bytes[0] & 0xf0) == 0xe0)
			type = PACKET_MULTICAST;
		else
			type = PACKET_BROADCAST;
	}
	return tri_of((type == m->pkttype.pkttype) != m->pkttype.invert);
}

static void pkttype_print(FILE *f, const struct xt_decoded *d)
{
	static const struct { const char *name; int type; } types[] = {
		{ "unicast", PACKET_HOST }, { "broadcast", PACKET_BROADCAST },
		{ "multicast", PACKET_MULTICAST }, { "otherhost", PACKET_OTHERHOST },
	};
	const struct xt_pkttype_dec *p = &d->pkttype;

	xt_print_inv(f, p->invert);
	fputs(" --pkt-type ", f);
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i].type == p->pkttype) {
			fputs(types[i].name, f);
			return;
		}
	fprintf(f, "%d", p->pkttype);
}

static void pkttype_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u32(c, (uint32_t)d->pkttype.pkttype);
	canon_u8(c, d->pkttype.invert);
}

static const struct xt_ext_form forms[] = {
	{ "pkttype", XT_MATCH_PKTTYPE, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_pkttype_info), pkttype_decode },
};

const struct xt_ext xt_match_pkttype = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(pkttype),
	.match = pkttype_match,
	.print = pkttype_print,
	.ident = pkttype_ident,
};
