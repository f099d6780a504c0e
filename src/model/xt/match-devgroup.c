/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m devgroup: struct xt_devgroup_info of xt_devgroup.c, read back from
 * the kept blob; printed by libxtables. The in and out devices' groups are
 * the host's (the routing state's links). */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_devgroup.h>

#define DEVGROUP_FLAGS (XT_DEVGROUP_MATCH_SRC | XT_DEVGROUP_INVERT_SRC | XT_DEVGROUP_MATCH_DST | \
			XT_DEVGROUP_INVERT_DST)

/* devgroup_mt_checkentry(): unknown flags are refused (the hooks each
 * option may be used in are the rule's business) */
static bool devgroup_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_devgroup_info m;

	XT_LOAD(m, info, size);
	if (m.flags & ~DEVGROUP_FLAGS)
		return false;
	xt_keep_raw(d, info, size, c);
	return true;
}

/* one side of devgroup_mt(): ((group ^ want) & mask) == 0, inverted */
static enum tri devgroup_side(const struct cg_iface *dev, uint32_t group, uint32_t mask, bool invert)
{
	if (!dev->name[0])
		return TRI_UNKNOWN;     /* the hook has no such device: checkentry forbids it */
	return xt_crit(tri_of(((dev->group ^ group) & mask) == 0), invert);
}

static enum tri devgroup_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			       const struct cg_addr_env *env)
{
	struct xt_devgroup_info i;
	enum tri r = TRI_TRUE;

	(void)env;
	XT_LOAD(i, m->fields.raw, m->fields.raw_len);
	if (i.flags & XT_DEVGROUP_MATCH_SRC)
		r = tri_and(r, devgroup_side(&pkt->iif, i.src_group, i.src_mask, i.flags & XT_DEVGROUP_INVERT_SRC));
	if (i.flags & XT_DEVGROUP_MATCH_DST)
		r = tri_and(r, devgroup_side(&pkt->oif, i.dst_group, i.dst_mask, i.flags & XT_DEVGROUP_INVERT_DST));
	return r;
}

static const struct xt_ext_form forms[] = {
	{ "devgroup", XT_MATCH_DEVGROUP, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_devgroup_info), devgroup_decode },
};

const struct xt_ext xt_match_devgroup = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(fields),
	.match = devgroup_match,
	.ident = xt_ident_raw,
};
