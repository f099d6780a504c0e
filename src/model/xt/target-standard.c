/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The standard target (name ""): a legacy verdict, ACCEPT/DROP/RETURN or a
 * jump offset. The collectors turn it into the rule's verdict; as an
 * extension it is neither applied (xt_target_apply() refuses it) nor
 * printed. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/x_tables.h>

static bool standard_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	memcpy(&d->standard.verdict, info, sizeof(int));
	return true;
}

static void standard_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u32(c, (uint32_t)d->standard.verdict);
}

static const struct xt_ext_form forms[] = {
	{ XT_STANDARD_TARGET, XT_TARGET_STANDARD, 0, 0, NFPROTO_UNSPEC, sizeof(int), standard_decode },
};

const struct xt_ext xt_target_standard = {
	.target = true,
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(standard),
	.ident = standard_ident,
};
