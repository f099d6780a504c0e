/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit and the fix need the netfilter collector and simulator, which this
 * version does not have yet. Refuse plainly (exit 3) instead of pretending:
 * a monitoring check must never read "0, all reachable" from an audit that
 * did not run. */
#include "config.h"

#include "cgnatcheck/cmd.h"
#include "cgnatcheck/common.h"

int cmd_audit(const struct cg_options *opts)
{
	log_error("%s is not available in cgnatcheck %s: the netfilter audit is not implemented "
		  "yet. Use --show-route ADDR to check how a provider address is routed.",
		  opts->fix ? "--fix" : "the audit", PACKAGE_VERSION);
	return CG_EXIT_FAILURE;
}

int cmd_undo(const struct cg_options *opts)
{
	(void)opts;
	log_error("--undo is not available in cgnatcheck %s: this version installs no exceptions, "
		  "so there is nothing to remove.", PACKAGE_VERSION);
	return CG_EXIT_FAILURE;
}
