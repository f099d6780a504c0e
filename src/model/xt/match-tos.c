/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m tos (rev 1), -m dscp and -m ecn: the TOS / traffic class byte, by
 * xt_dscp.c (struct xt_tos_match_info, xt_dscp_info) and xt_ecn.c (struct
 * xt_ecn_info). Fields: a = the bits of the byte tested (mask), b = the
 * value they must have, inv = invert; for ecn, mode = operation, flags =
 * ip_ect, inv = invert. Printed by libxtables.
 *
 * A flow does not know its packets' DSCP (an application sets it, a
 * remote's reply carries what the remote chose, CG_PKT_U_DSCP) nor its ECN
 * bits (CG_PKT_U_ECN), nor a TCP segment's ECE and CWR flags (ECN is
 * negotiated): a test of unknown bits is unknown, one of no bits (a mask of
 * 0) is decided. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_dscp.h>
#include <linux/netfilter/xt_ecn.h>

static bool tos_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_tos_match_info m;

	XT_LOAD(m, info, size);
	xt_keep_raw(d, info, size, c);
	d->fields.a = m.tos_mask;
	d->fields.b = m.tos_value;
	d->fields.inv = m.invert;
	return true;
}

/* dscp_mt_check(): a DSCP above 0x3f is refused */
static bool dscp_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_dscp_info m;

	XT_LOAD(m, info, size);
	if (m.dscp > XT_DSCP_MAX)
		return false;
	xt_keep_raw(d, info, size, c);
	d->fields.a = XT_DSCP_MASK;
	d->fields.b = (uint32_t)m.dscp << XT_DSCP_SHIFT;
	d->fields.inv = m.invert;
	return true;
}

/* ecn_mt_check4/6(): unknown operation or invert bits, an ECT value
 * outside the ECN bits are refused (the rule's -p tcp for ECE and CWR is
 * the rule's business) */
static bool ecn_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_ecn_info m;

	XT_LOAD(m, info, size);
	if ((m.operation & XT_ECN_OP_MATCH_MASK) || (m.invert & XT_ECN_OP_MATCH_MASK) ||
	    (m.ip_ect & (uint8_t)~XT_ECN_IP_MASK))
		return false;
	xt_keep_raw(d, info, size, c);
	d->fields.mode = m.operation;
	d->fields.flags = m.ip_ect;
	d->fields.inv = m.invert;
	return true;
}

/* (tos & mask) == value, with the bits of tos the flow does not know */
static enum tri tos_bits(const struct cg_packet *pkt, uint8_t mask, uint8_t value)
{
	uint8_t unknown = 0;

	if (pkt->unknown & CG_PKT_U_DSCP)
		unknown |= XT_DSCP_MASK;
	if (pkt->unknown & CG_PKT_U_ECN)
		unknown |= (uint8_t)~XT_DSCP_MASK;
	/* a bit of value outside the mask can never be equal */
	if (value & ~mask)
		return TRI_FALSE;
	if (mask & unknown)
		return TRI_UNKNOWN;
	/* the known byte: the DSCP, ECN not-ECT */
	return tri_of((((uint8_t)(pkt->dscp << XT_DSCP_SHIFT)) & mask) == value);
}

static enum tri tos_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			  const struct cg_addr_env *env)
{
	(void)env;
	if (m->kind != XT_MATCH_TOS)
		return TRI_UNKNOWN;
	if (strcmp(m->name, "ecn") != 0)
		return xt_crit(tos_bits(pkt, (uint8_t)m->fields.a, (uint8_t)m->fields.b), m->fields.inv);

	/* ecn_mt4/6(): each operation asked for must hold */
	enum tri r = TRI_TRUE;
	uint8_t op = m->fields.mode, inv = m->fields.inv;

	if (op & XT_ECN_OP_MATCH_IP)
		r = tri_and(r, xt_crit(tos_bits(pkt, (uint8_t)~XT_DSCP_MASK, m->fields.flags),
				       inv & XT_ECN_OP_MATCH_IP));
	for (int i = 0; i < 2; i++) {
		uint8_t opbit = i ? XT_ECN_OP_MATCH_CWR : XT_ECN_OP_MATCH_ECE;
		uint8_t flag = i ? 0x80 : 0x40;      /* CWR, ECE */

		if (!(op & opbit))
			continue;
		if (pkt->l4proto != IPPROTO_TCP || (pkt->tcp_flags_unknown & flag))
			r = tri_and(r, TRI_UNKNOWN);
		else
			r = tri_and(r, xt_crit(tri_of(pkt->tcp_flags & flag), inv & opbit));
	}
	return r;
}

static const struct xt_ext_form forms[] = {
	{ "tos", XT_MATCH_TOS, 1, 1, NFPROTO_UNSPEC, sizeof(struct xt_tos_match_info), tos_decode },
	{ "dscp", XT_MATCH_TOS, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_dscp_info), dscp_decode },
	{ "ecn", XT_MATCH_TOS, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_ecn_info), ecn_decode },
};

const struct xt_ext xt_match_tos = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(fields),
	.match = tos_match,
	.ident = xt_ident_raw,
};
