/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m comment: struct xt_comment_info of xt_comment.c (always matches),
 * printed as libxt_comment saves it. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_comment.h>

static bool comment_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	d->comment = xt_field_str(c, (const char *)info + offsetof(struct xt_comment_info, comment),
				  XT_MAX_COMMENT_LEN);
	return true;
}

static enum tri comment_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			      const struct cg_addr_env *env)
{
	return TRI_TRUE;
}

static void comment_print(FILE *f, const struct xt_decoded *d)
{
	fputs(" --comment", f);
	xt_print_string(f, d->comment);
}

static void comment_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_str(c, d->comment);
}

static const struct xt_ext_form forms[] = {
	{ "comment", XT_MATCH_COMMENT, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_comment_info), comment_decode },
};

const struct xt_ext xt_match_comment = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(comment),
	.match = comment_match,
	.print = comment_print,
	.ident = comment_ident,
};
