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
	FIX_PENDING = 2,        /* internal: to be inserted by the run under way */
};

/* One exception of a run and what became of it. */
struct fix_item {
	const struct remedy *ex;
	int result;             /* out: FIX_APPLIED, FIX_UNCHANGED or a negative errno */
};

/* What the ruleset was when the plan was made, and what it is after this
 * run's own commits: --keep compares the ruleset with `after` to tell a
 * change of someone else's (audit again) from its own. */
struct fix_sync {
	/* in: the audit's snapshot */
	bool have_nft;
	uint32_t nft_gen;               /* nf_tables generation of the dump */
	uint64_t legacy_fp;             /* legacy_fingerprint() before the dump */
	/* out */
	bool changed_since_plan;        /* someone else changed the ruleset between the plan and the commit */
	bool nft_committed, legacy_committed;
	uint32_t nft_gen_after;         /* the generation our batch made (nft_committed) */
	uint64_t legacy_fp_after;       /* the fingerprint right after our commits (legacy_committed) */
	/* out of cmd_fix_once() for --keep: what its audit read of nf_tables
	 * (nft_interest_new(); NULL: unknown), freed by the caller */
	struct nft_interest *interest;
};

/* Inserts every exception immediately before its ex->before (same table and
 * chain, same backend), all or none:
 *  * iptables-legacy: one lock for the run, one libiptc commit per table;
 *    the rule to insert before is found again in the table read under the
 *    lock (at its index if it is the same rule, rule_equal(), else the one
 *    rule of the chain that is);
 *  * nf_tables (iptables-nft and nftables): one batch for all of them,
 *    generation-checked, re-read and re-sent when the ruleset moved; the
 *    rule to insert before is found by handle.
 * Legacy tables are committed first, the nf_tables batch last; when a later
 * step fails, what the earlier ones committed is taken out again (exactly
 * the rules inserted, at their positions, still under the lock).
 *
 * Returns 0 when every item is FIX_APPLIED or FIX_UNCHANGED; otherwise a
 * negative errno with nothing changed: -ESTALE when a rule to insert before
 * is gone (the caller audits again and re-plans), -ETIMEDOUT for the lock,
 * and each item's result says what failed (items that were to be inserted
 * carry the error, unchanged ones stay FIX_UNCHANGED). -ENOTRECOVERABLE when
 * the roll-back itself failed: logged with what is left in place (--undo
 * removes it). sync may be NULL. Needs CAP_NET_ADMIN. */
int fix_apply_all(struct fix_item *items, size_t n, struct fix_sync *sync);

/* One exception: fix_apply_all() of one item. Returns its result. */
int fix_apply(const struct remedy *ex);

/* Removes exactly the rules whose comment starts with "cgnatcheck:", in every
 * table of rs (legacy: per table under the lock, one commit each; nf_tables:
 * the chains that held such rules in rs, each read again, and one batch of
 * deletions by handle, generation-checked). *n_removed (may be NULL) counts
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

/* For tests: called by fix_apply_all() before it reads the live ruleset
 * (after false) and after everything was committed (after true); call counts
 * the runs of each phase from 1. tests/kernel/fix-race-run.c changes the
 * ruleset there the way tailscaled does at a restart. */
extern void (*fix_apply_test_hook)(bool after, unsigned call);

/* Internal: the backends apply.c calls (apply-legacy.c, apply-nft.c)... */
struct fix_legacy_txn;
/* Locks, reads each legacy table the items name once, finds the rules to
 * insert before and inserts the exceptions in memory (items of other
 * backends are skipped). Sets results (FIX_UNCHANGED, or the error) and
 * sync->changed_since_plan when the tables differ from sync->legacy_fp.
 * *tx is NULL when there is nothing legacy to do. */
int fix_legacy_prepare(struct fix_item *items, size_t n, struct fix_sync *sync, struct fix_legacy_txn **tx);
/* Commits each prepared table; a failure rolls back the tables committed
 * before it. */
int fix_legacy_commit(struct fix_legacy_txn *tx, struct fix_sync *sync);
/* Takes out again what fix_legacy_commit() committed. */
int fix_legacy_rollback(struct fix_legacy_txn *tx);
/* Releases the tables and the lock. */
void fix_legacy_close(struct fix_legacy_txn *tx);
int fix_apply_nft_all(struct fix_item *items, size_t n, struct fix_sync *sync);
int fix_remove_legacy(const struct cg_table *t, unsigned *n_removed);
int fix_remove_nft(const struct cg_ruleset *rs, unsigned *n_removed);
/* ...and what they share (fix-common.c, with the xtables lock above). */
bool fix_is_tag(const char *comment);
/* xt_conntrack state_mask bits for CG_CT_* states. */
uint16_t fix_xt_ctstate(uint32_t cg_states);
