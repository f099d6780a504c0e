/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m length: struct xt_length_info of xt_length.c (fields: a = min,
 * b = max, inv = invert); printed by libxtables.
 *
 * The kernel compares the IPv4 total length, or the IPv6 payload length
 * plus the 40 bytes of the header. A flow does not say how long its packets
 * are (CG_PKT_U_LEN), only how short they cannot be: the IP and transport
 * headers. TCP packets may be far longer than 65535 (BIG TCP's GSO and GRO
 * packets), with a length field of 0: for TCP the floor is 0. So the match
 * is decided only when its range holds every possible length, or none. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_length.h>

static bool length_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_length_info m;

	XT_LOAD(m, info, size);
	xt_keep_raw(d, info, size, c);
	d->fields.a = m.min;
	d->fields.b = m.max;
	d->fields.inv = m.invert;
	return true;
}

/* The shortest packet of the flow's protocol, as the length field says. */
static uint32_t length_floor(const struct cg_packet *pkt)
{
	uint32_t ip = pkt->nfproto == NFPROTO_IPV6 ? 40 : 20;

	switch (pkt->l4proto) {
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return ip + 8;
	default:
		return 0;
	}
}

static enum tri length_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			     const struct cg_addr_env *env)
{
	uint32_t lo = m->fields.a, hi = m->fields.b, floor;
	enum tri in;

	(void)env;
	if (!(pkt->unknown & CG_PKT_U_LEN)) {
		in = tri_of(pkt->len >= lo && pkt->len <= hi);
	} else {
		floor = length_floor(pkt);
		if (lo <= floor && hi >= 0xffff)
			in = TRI_TRUE;
		else if (lo > hi || hi < floor)
			in = TRI_FALSE;
		else
			in = TRI_UNKNOWN;
	}
	return xt_crit(in, m->fields.inv);
}

static const struct xt_ext_form forms[] = {
	{ "length", XT_MATCH_LENGTH, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_length_info), length_decode },
};

const struct xt_ext xt_match_length = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(fields),
	.match = length_match,
	.ident = xt_ident_raw,
};
