/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The commands main() dispatches to; each runs the pipeline stages it needs
 * and returns an exit status from the contract (CG_EXIT_*). */
#pragma once

#include <stdbool.h>

#include "cgnatcheck/options.h"

struct audit;
struct mailer;

int cmd_show_route(const struct cg_options *opts);
int cmd_audit(const struct cg_options *opts);
int cmd_undo(const struct cg_options *opts);
/* One --fix round: audit, apply (all or none; audited and planned again
 * when the ruleset moved under the plan), audit again. keeping: log the
 * changes instead of printing a report (the long-running mode's later
 * rounds). sync (may be NULL) gets the ruleset's generation at the plan and
 * after the round's own commits (fix-apply.h). */
struct fix_sync;
int cmd_fix_once(const struct cg_options *opts, bool keeping, struct fix_sync *sync);
/* --keep: --fix, then again whenever the ruleset changes, until SIGTERM. */
int cmd_keep(const struct cg_options *opts);

/* --metrics-file: writes the audit's metrics (a is NULL when the audit
 * failed). Returns status, or CG_EXIT_FAILURE when the file could not be
 * written (logged). Without --metrics-file, status. */
int cmd_write_metrics(const struct cg_options *opts, const struct audit *a, int status);

/* --save FILE: writes what an audit reads on this host (saved.h), by the
 * stock tools' own dumps; a is the audit just made (which nf_tables tables
 * are iptables-nft's). Returns 0 or -errno (logged). */
int cmd_save(const char *path, const struct audit *a);

/* --replay FILE: reads the saved file, enters a private network (and mount)
 * namespace and replays the saved state into it, so that the audit that
 * follows reads it as it reads a live host. Before the capabilities are
 * dropped (it needs CAP_SYS_ADMIN). Sets opts->offline_host and
 * offline_time. Returns 0 or -errno (logged). */
int replay_enter(struct cg_options *opts);
/* Removes what replay_enter() left on disk (its temporary directory). */
void replay_leave(void);

/* One audit of this host: policies, state, targets, simulation. The audit
 * must be freed with audit_free() either way. Returns 0 or -errno (logged). */
int audit_host(struct audit *a, const struct cg_options *opts);

/* --wait-overlay: waits until the chains an overlay policy lists (Chains=)
 * exist and the ruleset has settled, or the time is up (a warning). Returns
 * 0, or -errno when the policies cannot be loaded (logged). */
int overlay_wait(const struct cg_options *opts);

/* --mail-to: the scheduled audit. Audits, prints the report as asked,
 * compares the result with the last run's (state directory) and mails the
 * report through the helper when due (--mail-on). The audit's exit status,
 * or CG_EXIT_FAILURE when the mail or the state could not be written. */
int cmd_scheduled(const struct cg_options *opts, struct mailer *mailer);
