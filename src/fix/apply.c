/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fix_apply()/fix_remove_tagged(): the checks, then the backends
 * (apply-legacy.c, apply-nft.c), which share fix-common.c. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/fix-apply.h"

static int check_exception(const struct remedy *ex)
{
	if (!ex->before || !ex->before->chain || !ex->before->chain->table) {
		log_error("Cannot apply an exception without the rule to insert it before");
		return -EINVAL;
	}
	if (!fix_is_tag(ex->comment)) {
		log_error("Refusing to write an exception whose comment \"%s\" is not a %s tag: "
			  "--undo could not find it again", ex->comment, FIX_TAG_PREFIX);
		return -EINVAL;
	}
	if ((ex->sport || ex->dport) && ex->l4proto != IPPROTO_TCP && ex->l4proto != IPPROTO_UDP) {
		log_error("Ports are only supported with tcp and udp (protocol %u)", ex->l4proto);
		return -ENOTSUP;
	}
	return 0;
}

int fix_apply(const struct remedy *ex)
{
	int r = check_exception(ex);

	if (r < 0)
		return r;
	switch (ex->before->chain->table->backend) {
	case CG_BACKEND_IPTABLES_LEGACY:
		return fix_apply_legacy(ex);
	case CG_BACKEND_IPTABLES_NFT:
	case CG_BACKEND_NFTABLES:
		return fix_apply_nft(ex);
	}
	return -EINVAL;
}

int fix_remove_tagged(struct cg_ruleset *rs, unsigned *n_removed)
{
	unsigned n = 0;
	int r = 0;

	for (uint32_t i = 0; i < rs->n_tables && r >= 0; i++)
		if (rs->tables[i].backend == CG_BACKEND_IPTABLES_LEGACY)
			r = fix_remove_legacy(&rs->tables[i], &n);
	if (r >= 0 && rs->have_nftables)
		r = fix_remove_nft(&n);
	if (n_removed)
		*n_removed = n;
	return r < 0 ? r : 0;
}
