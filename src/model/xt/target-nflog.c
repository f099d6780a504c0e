/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -j NFLOG: struct xt_nflog_info of xt_NFLOG.c, printed as libxt_NFLOG
 * saves it (iptables-nft also prints any nft log statement this way). The
 * packet continues unchanged. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_NFLOG.h>

static bool nflog_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_nflog_info m;

	XT_LOAD(m, info, size);
	d->nflog.len = m.len;
	d->nflog.group = m.group;
	d->nflog.threshold = m.threshold;
	d->nflog.flags = m.flags;
	d->nflog.prefix = xt_field_str(c, (const char *)info + offsetof(struct xt_nflog_info, prefix),
				       sizeof(m.prefix));
	return true;
}

static void nflog_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_nflog_dec *n = &d->nflog;

	if (n->prefix[0]) {
		fputs(" --nflog-prefix", f);
		xt_print_string(f, n->prefix);
	}
	if (n->group)
		fprintf(f, " --nflog-group %u", n->group);
	if (n->flags & XT_NFLOG_F_COPY_LEN)
		fprintf(f, " --nflog-size %u", n->len);
	else if (n->len)
		fprintf(f, " --nflog-range %u", n->len);
	if (n->threshold != XT_NFLOG_DEFAULT_THRESHOLD)
		fprintf(f, " --nflog-threshold %u", n->threshold);
}

static void nflog_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u32(c, d->nflog.len);
	canon_u16(c, d->nflog.group);
	canon_u16(c, d->nflog.threshold);
	canon_u16(c, d->nflog.flags);
	canon_str(c, d->nflog.prefix);
}

static const struct xt_ext_form forms[] = {
	{ "NFLOG", XT_TARGET_NFLOG, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_nflog_info), nflog_decode },
};

const struct xt_ext xt_target_nflog = {
	.target = true,
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(nflog),
	.apply = xt_apply_continue,
	.print = nflog_print,
	.ident = nflog_ident,
};
