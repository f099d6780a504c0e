/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdio.h>

#include "cgnatcheck/caps.h"
#include "cgnatcheck/cmd.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/mail.h"
#include "cgnatcheck/options.h"
#include "cgnatcheck/port-holders.h"

int main(int argc, char *argv[])
{
	struct cg_options opts;
	struct mailer mailer = MAILER_INIT;
	int r, status;

	r = options_parse(argc, argv, &opts);
	if (r < 0) {
		options_free(&opts);
		return CG_EXIT_FAILURE;
	}
	cg_log_set_level(opts.verbosity >= 2 ? CG_LOG_DEBUG :
			 opts.verbosity == 1 ? CG_LOG_INFO : CG_LOG_WARNING);

	/* The scheduled audit's mail goes through sendmail, which may need
	 * set-id and the invoking user's privileges: a helper forked now keeps
	 * them and does nothing but run sendmail when handed a message. */
	if (opts.mode == CG_MODE_AUDIT && opts.n_mail_to &&
	    mailer_start(&mailer, mail_sendmail_path(opts.sendmail), opts.mail_to, opts.n_mail_to, opts.user) < 0) {
		options_free(&opts);
		return CG_EXIT_FAILURE;
	}

	/* an offline audit: the saved state replayed into a private network
	 * namespace, while CAP_SYS_ADMIN is still there */
	if (opts.mode == CG_MODE_AUDIT && opts.replay_file && replay_enter(&opts) < 0) {
		options_free(&opts);
		return CG_EXIT_FAILURE;
	}

	/* who holds the ports of the services offered over the overlays
	 * (issue 16): another process's /proc/PID/fd needs CAP_SYS_PTRACE and
	 * CAP_DAC_READ_SEARCH, which the drop removes; read them now */
	if (opts.mode == CG_MODE_AUDIT && !opts.replay_file)
		port_holders_snapshot();

	/* least privilege from here on: only what netfilter needs */
	if (opts.mode != CG_MODE_HELP && opts.mode != CG_MODE_VERSION &&
	    caps_drop(opts.mode != CG_MODE_SHOW_ROUTE, opts.user) < 0) {
		replay_leave();
		mailer_finish(&mailer);
		options_free(&opts);
		return CG_EXIT_FAILURE;
	}

	if (opts.mode == CG_MODE_AUDIT && opts.wait_overlay >= 0 && overlay_wait(&opts) < 0) {
		mailer_finish(&mailer);
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
		status = opts.n_mail_to ? cmd_scheduled(&opts, &mailer) :
			 opts.keep ? cmd_keep(&opts) : cmd_audit(&opts);
		break;
	}
	mailer_finish(&mailer);
	replay_leave();
	if (fflush(stdout) != 0 && status != CG_EXIT_FAILURE) {
		log_error_errno(-errno, "failed to write the report to standard output");
		status = CG_EXIT_FAILURE;
	}
	options_free(&opts);
	return status;
}
