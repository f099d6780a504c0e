/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "cgnatcheck/cmd.h"
#include "cgnatcheck/common.h"

/* Replaced by the routing stage (issue 3). */
int cmd_show_route(const struct cg_options *opts)
{
	(void)opts;
	log_error("--show-route is not implemented yet");
	return CG_EXIT_FAILURE;
}
