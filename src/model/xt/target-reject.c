/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -j REJECT: struct ipt_reject_info / ip6t_reject_info of ipt_REJECT.c and
 * ip6t_REJECT.c, printed as libipt_REJECT / libip6t_REJECT save them. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>

static bool reject_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	uint32_t with;

	memcpy(&with, info, sizeof(with));
	/* Both enums end at 8 (IPT_ICMP_ADMIN_PROHIBITED, IP6T_ICMP6_REJECT_ROUTE). */
	if (with > 8)
		return false;
	d->reject.with = with;
	return true;
}

/* reject_tg(): sends the error, then NF_DROP */
static void reject_apply(const struct xt_decoded *t, struct cg_packet *pkt, struct xt_target_result *res)
{
	res->terminal = true;
	res->verdict = XT_RESULT_DROP;
	res->reject = true;
}

static void reject_print(FILE *f, const struct xt_decoded *d)
{
	static const char *const v4[] = {
		[IPT_ICMP_NET_UNREACHABLE] = "icmp-net-unreachable",
		[IPT_ICMP_HOST_UNREACHABLE] = "icmp-host-unreachable",
		[IPT_ICMP_PROT_UNREACHABLE] = "icmp-proto-unreachable",
		[IPT_ICMP_PORT_UNREACHABLE] = "icmp-port-unreachable",
		[IPT_ICMP_NET_PROHIBITED] = "icmp-net-prohibited",
		[IPT_ICMP_HOST_PROHIBITED] = "icmp-host-prohibited",
		[IPT_TCP_RESET] = "tcp-reset",
		[IPT_ICMP_ADMIN_PROHIBITED] = "icmp-admin-prohibited",
	};
	static const char *const v6[] = {
		[IP6T_ICMP6_NO_ROUTE] = "icmp6-no-route",
		[IP6T_ICMP6_ADM_PROHIBITED] = "icmp6-adm-prohibited",
		[IP6T_ICMP6_ADDR_UNREACH] = "icmp6-addr-unreachable",
		[IP6T_ICMP6_PORT_UNREACH] = "icmp6-port-unreachable",
		[IP6T_TCP_RESET] = "tcp-reset",
		[IP6T_ICMP6_POLICY_FAIL] = "icmp6-policy-fail",
		[IP6T_ICMP6_REJECT_ROUTE] = "icmp6-reject-route",
	};
	const char *name = NULL;

	if (d->nfproto == NFPROTO_IPV6 && d->reject.with < ARRAY_SIZE(v6))
		name = v6[d->reject.with];
	else if (d->nfproto != NFPROTO_IPV6 && d->reject.with < ARRAY_SIZE(v4))
		name = v4[d->reject.with];
	if (name)
		fprintf(f, " --reject-with %s", name);
	else
		fprintf(f, " --reject-with /* unsupported: type %u */", d->reject.with);
}

static void reject_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u32(c, d->reject.with);
}

static const struct xt_ext_form forms[] = {
	{ "REJECT", XT_TARGET_REJECT, 0, 0, NFPROTO_IPV4, sizeof(struct ipt_reject_info), reject_decode },
	{ "REJECT", XT_TARGET_REJECT, 0, 0, NFPROTO_IPV6, sizeof(struct ip6t_reject_info), reject_decode },
};

const struct xt_ext xt_target_reject = {
	.target = true,
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(reject),
	.apply = reject_apply,
	.print = reject_print,
	.ident = reject_ident,
};
