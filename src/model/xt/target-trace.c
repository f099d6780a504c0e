/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -j TRACE (no payload, xt_TRACE.c; iptables-nft writes it as "meta nftrace
 * set 1"). The packet continues unchanged; no options to print. */
#include "config.h"

#include "xt-internal.h"

static bool trace_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	return true;
}

static void trace_print(FILE *f, const struct xt_decoded *d)
{
}

/* no payload: the kind rule-identity.c writes says it all */
static void trace_ident(struct canon *c, const struct xt_decoded *d)
{
}

static const struct xt_ext_form forms[] = {
	{ "TRACE", XT_TARGET_TRACE, 0, 0, NFPROTO_UNSPEC, 0, trace_decode },
};

const struct xt_ext xt_target_trace = {
	.target = true,
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = 0,
	.apply = xt_apply_continue,
	.print = trace_print,
	.ident = trace_ident,
};
