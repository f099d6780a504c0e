/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m owner (revision 1): struct xt_owner_match_info of xt_owner.c, read
 * back from the kept blob; printed by libxtables.
 *
 * As for nft's meta skuid: only a locally generated packet's socket is
 * known (its owner is the flow's uid and gid); anything else is unknown.
 * Supplementary groups are not known: --suppl-groups decides only when the
 * primary group already matches. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_owner.h>

/* owner_check(): unknown option bits are refused */
static bool owner_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_owner_match_info m;

	XT_LOAD(m, info, size);
	if ((m.match & ~XT_OWNER_MASK) || (m.invert & ~XT_OWNER_MASK))
		return false;
	xt_keep_raw(d, info, size, c);
	return true;
}

/* owner_mt() for a packet with a socket that has a file */
static enum tri owner_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			    const struct cg_addr_env *env)
{
	struct xt_owner_match_info i;

	(void)env;
	if (!pkt->locally_generated)
		return TRI_UNKNOWN;
	XT_LOAD(i, m->fields.raw, m->fields.raw_len);
	/* "! --socket-exists" with a socket */
	if (i.match & i.invert & XT_OWNER_SOCKET)
		return TRI_FALSE;
	if ((i.match & XT_OWNER_UID) &&
	    ((pkt->skuid >= i.uid_min && pkt->skuid <= i.uid_max) ^ !(i.invert & XT_OWNER_UID)))
		return TRI_FALSE;
	if (i.match & XT_OWNER_GID) {
		bool in = pkt->skgid >= i.gid_min && pkt->skgid <= i.gid_max;

		if (!in && (i.match & XT_OWNER_SUPPL_GROUPS))
			return TRI_UNKNOWN;
		if (in ^ !(i.invert & XT_OWNER_GID))
			return TRI_FALSE;
	}
	return TRI_TRUE;
}

static const struct xt_ext_form forms[] = {
	{ "owner", XT_MATCH_OWNER, 1, 1, NFPROTO_UNSPEC, sizeof(struct xt_owner_match_info), owner_decode },
};

const struct xt_ext xt_match_owner = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(fields),
	.match = owner_match,
	.ident = xt_ident_raw,
};
