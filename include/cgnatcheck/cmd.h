/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The commands main() dispatches to; each runs the pipeline stages it needs
 * and returns an exit status from the contract (CG_EXIT_*). */
#pragma once

#include <stdbool.h>

#include "cgnatcheck/options.h"

int cmd_show_route(const struct cg_options *opts);
int cmd_audit(const struct cg_options *opts);
int cmd_undo(const struct cg_options *opts);
/* One --fix round: audit, apply, audit again. keeping: log the changes
 * instead of printing a report (the long-running mode's later rounds). */
int cmd_fix_once(const struct cg_options *opts, bool keeping);
/* --keep: --fix, then again whenever the ruleset changes, until SIGTERM. */
int cmd_keep(const struct cg_options *opts);
