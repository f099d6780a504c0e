/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fix stage, applying half: writes a planned exception (fix.h) into the
 * running network namespace, immediately before the rule that blocks, in that
 * rule's backend, and removes what cgnatcheck added (design.md,
 * "Exceptions").
 *
 *  * iptables-legacy: libiptc (libip4tc/libip6tc), one commit of the table,
 *    holding the xtables lock (/run/xtables.lock) as `iptables -w` does.
 *  * iptables-nft: one nf_tables batch with the expressions iptables-nft
 *    1.8.9 itself writes (native ip header/udp/tcp matches, xt-compat
 *    `conntrack` rev 3 and `comment` matches), so iptables-nft-save shows it.
 *  * nftables: one batch with native expressions; the tag is the rule's
 *    comment (user data).
 *
 * Every nf_tables batch carries the generation (NFNL_BATCH_GENID) of the
 * chain contents it was planned against: the kernel refuses it with ERESTART
 * when anything changed in between, and the change is re-read and retried.
 * Legacy changes are read, checked and committed under the lock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgnatcheck/remedy.h"
#include "cgnatcheck/ruleset.h"

#define FIX_TAG_PREFIX "cgnatcheck:"

enum {
	FIX_APPLIED = 0,        /* the exception was inserted */
	FIX_UNCHANGED = 1,      /* the same tagged rule already sits right before */
};

/* Inserts ex immediately before ex->before (same table and chain, same
 * backend). The blocking rule is looked up again in the live ruleset (nft: by
 * handle; legacy: at its index if it is the same rule, rule_equal(), else the
 * one rule of the chain that is) and -ESTALE is returned when it is gone.
 * Returns FIX_APPLIED, FIX_UNCHANGED (nothing written) or a negative errno
 * after logging what failed. Needs CAP_NET_ADMIN. */
int fix_apply(const struct remedy *ex);

/* Removes exactly the rules whose comment starts with "cgnatcheck:", in every
 * table of rs (legacy: per table under the lock, one commit each; nf_tables:
 * one batch of deletions by handle, generation-checked). rs says which tables
 * exist; the rules themselves are re-read. *n_removed (may be NULL) counts
 * them. Returns 0 or a negative errno. */
int fix_remove_tagged(struct cg_ruleset *rs, unsigned *n_removed);

/* The xtables lock: waits up to timeout_ms for /run/xtables.lock (created
 * 0600 when missing). Returns the locked fd, or -ETIMEDOUT / a negative errno
 * after logging. Release with fix_xtables_unlock(). */
int fix_xtables_lock(unsigned timeout_ms);
void fix_xtables_unlock(int fd);

/* For tests: called after an nf_tables apply/remove has read the ruleset and
 * before it sends its batch (attempt counts from 1), so a test can change the
 * ruleset in between and see the generation check refuse the batch. */
extern void (*fix_nft_test_hook)(unsigned attempt);

/* Internal: the backends apply.c calls (apply-legacy.c, apply-nft.c)... */
int fix_apply_legacy(const struct remedy *ex);
int fix_apply_nft(const struct remedy *ex);
int fix_remove_legacy(const struct cg_table *t, unsigned *n_removed);
int fix_remove_nft(unsigned *n_removed);
/* ...and what they share (fix-common.c, with the xtables lock above). */
bool fix_is_tag(const char *comment);
/* xt_conntrack state_mask bits for CG_CT_* states. */
uint16_t fix_xt_ctstate(uint32_t cg_states);
