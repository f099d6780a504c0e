/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -j LOG: struct xt_log_info of xt_LOG.c, printed as libxt_LOG saves it.
 * The packet continues unchanged. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_LOG.h>

static bool log_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_log_info m;

	XT_LOAD(m, info, size);
	d->log.level = m.level;
	d->log.logflags = m.logflags;
	d->log.prefix = xt_field_str(c, (const char *)info + offsetof(struct xt_log_info, prefix), sizeof(m.prefix));
	return true;
}

static void log_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_log_dec *l = &d->log;

	if (l->prefix[0]) {
		fputs(" --log-prefix", f);
		xt_print_string(f, l->prefix);
	}
	if (l->level != 4)      /* LOG_WARNING, the default */
		fprintf(f, " --log-level %d", l->level);
	if (l->logflags & XT_LOG_TCPSEQ)
		fputs(" --log-tcp-sequence", f);
	if (l->logflags & XT_LOG_TCPOPT)
		fputs(" --log-tcp-options", f);
	if (l->logflags & XT_LOG_IPOPT)
		fputs(" --log-ip-options", f);
	if (l->logflags & XT_LOG_UID)
		fputs(" --log-uid", f);
	if (l->logflags & XT_LOG_MACDECODE)
		fputs(" --log-macdecode", f);
}

static void log_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u8(c, d->log.level);
	canon_u8(c, d->log.logflags);
	canon_str(c, d->log.prefix);
}

static const struct xt_ext_form forms[] = {
	{ "LOG", XT_TARGET_LOG, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_log_info), log_decode },
};

const struct xt_ext xt_target_log = {
	.target = true,
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(log),
	.apply = xt_apply_continue,
	.print = log_print,
	.ident = log_ident,
};
