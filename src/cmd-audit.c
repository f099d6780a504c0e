/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The default command: audit this host (collect -> simulate -> audit ->
 * report). --fix and --undo belong to the fix stage, which this version does
 * not have yet: they refuse (exit 3) instead of pretending. */
#include "config.h"

#include "cgnatcheck/audit-report.h"
#include "cgnatcheck/audit.h"
#include "cgnatcheck/cmd.h"
#include "cgnatcheck/common.h"

int cmd_audit(const struct cg_options *opts)
{
	struct audit a;
	int r, status;

	if (opts->fix) {
		log_error("--fix is not available in cgnatcheck %s: installing exceptions is not "
			  "implemented yet. Run without --fix to see what is blocked and by which rule.",
			  PACKAGE_VERSION);
		return CG_EXIT_FAILURE;
	}
	audit_init(&a, opts);
	r = audit_load_policies(&a);
	if (r >= 0)
		r = audit_collect_state(&a);
	if (r >= 0)
		r = audit_collect_targets(&a);
	if (r >= 0)
		r = audit_run(&a);
	if (r < 0) {
		audit_free(&a);
		return CG_EXIT_FAILURE;
	}
	status = audit_exit_status(&a);
	r = audit_report_print(stdout, opts->format, &a);
	if (r < 0) {
		log_error_errno(r, "Failed to write the report");
		status = CG_EXIT_FAILURE;
	}
	audit_free(&a);
	return status;
}

int cmd_undo(const struct cg_options *opts)
{
	(void)opts;
	log_error("--undo is not available in cgnatcheck %s: this version installs no exceptions, "
		  "so there is nothing to remove.", PACKAGE_VERSION);
	return CG_EXIT_FAILURE;
}
