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

void (*fix_apply_test_hook)(bool after, unsigned call);

int fix_apply_all(struct fix_item *items, size_t n, struct fix_sync *sync)
{
	static unsigned calls_before, calls_after;
	struct fix_legacy_txn *tx = NULL;
	int r = 0;

	if (fix_apply_test_hook)
		fix_apply_test_hook(false, ++calls_before);

	if (sync) {
		sync->changed_since_plan = sync->nft_committed = sync->legacy_committed = false;
		sync->nft_gen_after = 0;
		sync->legacy_fp_after = 0;
	}
	for (size_t i = 0; i < n; i++)
		items[i].result = FIX_PENDING;
	for (size_t i = 0; i < n && r >= 0; i++)
		r = check_exception(items[i].ex);
	/* legacy first: committed under the lock, they can be taken out
	 * exactly if the nf_tables batch then fails; the batch itself is
	 * all or nothing */
	if (r >= 0)
		r = fix_legacy_prepare(items, n, sync, &tx);
	if (r >= 0)
		r = fix_legacy_commit(tx, sync);
	if (r >= 0) {
		r = fix_apply_nft_all(items, n, sync);
		if (r < 0 && tx) {
			int rr = fix_legacy_rollback(tx);
			if (rr < 0)
				r = rr;
		}
	}
	fix_legacy_close(tx);
	if (r >= 0 && fix_apply_test_hook)
		fix_apply_test_hook(true, ++calls_after);
	for (size_t i = 0; i < n; i++)
		if (items[i].result == FIX_PENDING)
			items[i].result = r < 0 ? r : FIX_APPLIED;
	if (r < 0 && sync && r != -ENOTRECOVERABLE)
		sync->nft_committed = sync->legacy_committed = false;
	return r;
}

int fix_apply(const struct remedy *ex)
{
	struct fix_item it = { .ex = ex };
	int r = fix_apply_all(&it, 1, NULL);

	return r < 0 ? r : it.result;
}

int fix_remove_tagged(struct cg_ruleset *rs, unsigned *n_removed)
{
	unsigned n = 0;
	int r = 0;

	for (uint32_t i = 0; i < rs->n_tables && r >= 0; i++)
		if (rs->tables[i].backend == CG_BACKEND_IPTABLES_LEGACY)
			r = fix_remove_legacy(&rs->tables[i], &n);
	if (r >= 0 && rs->have_nftables)
		r = fix_remove_nft(rs, &n);
	if (n_removed)
		*n_removed = n;
	return r < 0 ? r : 0;
}
