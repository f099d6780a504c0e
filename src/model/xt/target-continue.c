/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Targets that change the packet (or count it) and always continue
 * (XT_CONTINUE): TOS (rev 1), DSCP, TTL, HL, ECN (IPv4), CLASSIFY, TCPMSS,
 * TCPOPTSTRIP, CHECKSUM, IDLETIMER, RATEEST, AUDIT, TEE (the original goes
 * on, the copy is sent to the gateway). Printed by libxtables.
 *
 * The fields they set are ones a flow does not determine anyway (the TOS
 * byte, the TTL, TCP options, skb->priority: cg_packet.unknown), so a later
 * match on them stays unknown, and the verdict is left to the rules after
 * them. Each target returns NF_DROP only when the kernel cannot make the
 * packet writable (no memory), which no rule decides. The decoders refuse
 * what each checkentry refuses. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_AUDIT.h>
#include <linux/netfilter/xt_CHECKSUM.h>
#include <linux/netfilter/xt_CLASSIFY.h>
#include <linux/netfilter/xt_DSCP.h>
#include <linux/netfilter/xt_IDLETIMER.h>
#include <linux/netfilter/xt_RATEEST.h>
#include <linux/netfilter/xt_TCPMSS.h>
#include <linux/netfilter/xt_TCPOPTSTRIP.h>
#include <linux/netfilter/xt_TEE.h>
#include <linux/netfilter_ipv4/ipt_ECN.h>
#include <linux/netfilter_ipv4/ipt_TTL.h>
#include <linux/netfilter_ipv6/ip6t_HL.h>

static bool keep_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	xt_keep_raw(d, info, size, c);
	return true;
}

/* dscp_tg_check(): above 0x3f is refused */
static bool dscp_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_DSCP_info t;

	XT_LOAD(t, info, size);
	return t.dscp <= XT_DSCP_MAX && keep_decode(d, info, size, c);
}

/* ttl_tg_check() and hl_tg6_check(): an unknown mode, or decrementing by 0 */
static bool ttl_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct ipt_TTL_info t;   /* ip6t_HL_info has the same two bytes */

	XT_LOAD(t, info, size);
	if (t.mode > IPT_TTL_MAXMODE || (t.mode == IPT_TTL_DEC && t.ttl == 0))
		return false;
	return keep_decode(d, info, size, c);
}

/* ecn_tg_check(): unknown operations, an ECT value outside the ECN bits */
static bool ecn_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct ipt_ECN_info t;

	XT_LOAD(t, info, size);
	if ((t.operation & IPT_ECN_OP_MASK) || (t.ip_ect & (uint8_t)~IPT_ECN_IP_MASK))
		return false;
	return keep_decode(d, info, size, c);
}

/* checksum_tg_check(): the fill operation, and nothing else */
static bool checksum_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_CHECKSUM_info t;

	XT_LOAD(t, info, size);
	if (!t.operation || (t.operation & ~XT_CHECKSUM_OP_FILL))
		return false;
	return keep_decode(d, info, size, c);
}

/* audit_tg_check(): a type past the last */
static bool audit_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_audit_info t;

	XT_LOAD(t, info, size);
	return t.type <= XT_AUDIT_TYPE_MAX && keep_decode(d, info, size, c);
}

/* idletimer_tg_checkentry_v1(): a timeout of 0 (revision 0, which
 * iptables 1.8.9 no longer prints, stays undecoded) */
static bool idletimer_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct idletimer_tg_info_v1 t;

	XT_LOAD(t, info, size);
	return t.timeout != 0 && keep_decode(d, info, size, c);
}

/* tee_tg_check(): a gateway, and a terminated device name */
static bool tee_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	static const union nf_inet_addr zero;
	struct xt_tee_tginfo t;

	XT_LOAD(t, info, size);
	if (!memcmp(&t.gw, &zero, sizeof(zero)) || (t.oif[0] && t.oif[sizeof(t.oif) - 1]))
		return false;
	return keep_decode(d, info, size, c);
}

static void continue_apply(const struct xt_decoded *t, struct cg_packet *pkt, struct xt_target_result *res)
{
	(void)t;
	(void)pkt;
	(void)res;        /* cleared: not terminal, nothing the verdict reads changed */
}

static const struct xt_ext_form forms[] = {
	{ "TOS", XT_TARGET_CONTINUE, 1, 1, NFPROTO_UNSPEC, sizeof(struct xt_tos_target_info), keep_decode },
	{ "DSCP", XT_TARGET_CONTINUE, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_DSCP_info), dscp_decode },
	{ "TTL", XT_TARGET_CONTINUE, 0, 0, NFPROTO_IPV4, sizeof(struct ipt_TTL_info), ttl_decode },
	{ "HL", XT_TARGET_CONTINUE, 0, 0, NFPROTO_IPV6, sizeof(struct ip6t_HL_info), ttl_decode },
	{ "ECN", XT_TARGET_CONTINUE, 0, 0, NFPROTO_IPV4, sizeof(struct ipt_ECN_info), ecn_decode },
	{ "CLASSIFY", XT_TARGET_CONTINUE, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_classify_target_info), keep_decode },
	{ "TCPMSS", XT_TARGET_CONTINUE, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_tcpmss_info), keep_decode },
	{ "TCPOPTSTRIP", XT_TARGET_CONTINUE, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_tcpoptstrip_target_info),
	  keep_decode },
	{ "CHECKSUM", XT_TARGET_CONTINUE, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_CHECKSUM_info), checksum_decode },
	{ "IDLETIMER", XT_TARGET_CONTINUE, 1, 1, NFPROTO_UNSPEC, sizeof(struct idletimer_tg_info_v1),
	  idletimer_decode },
	{ "RATEEST", XT_TARGET_CONTINUE, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_rateest_target_info), keep_decode },
	{ "TEE", XT_TARGET_CONTINUE, 1, 1, NFPROTO_UNSPEC, sizeof(struct xt_tee_tginfo), tee_decode },
	{ "AUDIT", XT_TARGET_CONTINUE, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_audit_info), audit_decode },
};

const struct xt_ext xt_target_continue = {
	.target = true,
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(fields),
	.apply = continue_apply,
	.ident = xt_ident_raw,
};
