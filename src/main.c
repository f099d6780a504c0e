/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdio.h>

#include "cgnatcheck/caps.h"
#include "cgnatcheck/cmd.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/options.h"

int main(int argc, char *argv[])
{
	struct cg_options opts;
	int r, status;

	r = options_parse(argc, argv, &opts);
	if (r < 0) {
		options_free(&opts);
		return CG_EXIT_FAILURE;
	}
	cg_log_set_level(opts.verbosity >= 2 ? CG_LOG_DEBUG :
			 opts.verbosity == 1 ? CG_LOG_INFO : CG_LOG_WARNING);

	/* least privilege from here on: only what netfilter needs */
	if (opts.mode != CG_MODE_HELP && opts.mode != CG_MODE_VERSION &&
	    caps_drop(opts.mode != CG_MODE_SHOW_ROUTE) < 0) {
		options_free(&opts);
		return CG_EXIT_FAILURE;
	}

	switch (opts.mode) {
	case CG_MODE_HELP:
		options_print_help(stdout);
		status = CG_EXIT_OK;
		break;
	case CG_MODE_VERSION:
		printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		status = CG_EXIT_OK;
		break;
	case CG_MODE_SHOW_ROUTE:
		status = cmd_show_route(&opts);
		break;
	case CG_MODE_UNDO:
		status = cmd_undo(&opts);
		break;
	case CG_MODE_AUDIT:
	default:
		status = opts.keep ? cmd_keep(&opts) : cmd_audit(&opts);
		break;
	}
	if (fflush(stdout) != 0 && status != CG_EXIT_FAILURE) {
		log_error_errno(-errno, "failed to write the report to standard output");
		status = CG_EXIT_FAILURE;
	}
	options_free(&opts);
	return status;
}
