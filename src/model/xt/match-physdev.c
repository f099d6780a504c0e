/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m physdev: struct xt_physdev_info of xt_physdev.c, read back from the
 * kept blob; printed by libxtables.
 *
 * A packet that did not cross a bridge with bridge netfilter carries no
 * nf_bridge info, and physdev_mt() then matches exactly when every option
 * used is inverted. A packet the host sends never carries it in the IP
 * hooks (br_netfilter attaches it to frames entering a bridge); whether a
 * received packet came through a bridge, the packet alone does not say:
 * unknown. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_physdev.h>

/* physdev_mt_check(): some option, and only known ones */
static bool physdev_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_physdev_info m;

	XT_LOAD(m, info, size);
	if (!(m.bitmask & XT_PHYSDEV_OP_MASK) || (m.bitmask & ~XT_PHYSDEV_OP_MASK))
		return false;
	xt_keep_raw(d, info, size, c);
	d->fields.flags = m.bitmask;
	d->fields.inv = m.invert;
	return true;
}

static enum tri physdev_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			      const struct cg_addr_env *env)
{
	(void)env;
	if (!pkt->locally_generated)
		return TRI_UNKNOWN;
	/* no nf_bridge info: each option used must be inverted */
	return tri_of((m->fields.flags & ~m->fields.inv & XT_PHYSDEV_OP_MASK) == 0);
}

static const struct xt_ext_form forms[] = {
	{ "physdev", XT_MATCH_PHYSDEV, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_physdev_info), physdev_decode },
};

const struct xt_ext xt_match_physdev = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(fields),
	.match = physdev_match,
	.ident = xt_ident_raw,
};
