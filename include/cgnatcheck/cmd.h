/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The commands main() dispatches to; each runs the pipeline stages it needs
 * and returns an exit status from the contract (CG_EXIT_*). */
#pragma once

#include "cgnatcheck/options.h"

int cmd_show_route(const struct cg_options *opts);
int cmd_audit(const struct cg_options *opts);
int cmd_undo(const struct cg_options *opts);
