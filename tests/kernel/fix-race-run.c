/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgnatcheck's own command line (the audit, --fix, --keep) with a change of
 * the ruleset at a chosen moment, for tests/kernel/fix-atomic.sh:
 *
 *   fix-race-run [--before N:CMD]... [--after N:CMD]... -- CGNATCHECK-ARGS...
 *
 * --before N:CMD runs CMD (sh -c) at the N-th start of an apply, after the
 * audit and the plan, before the live ruleset is read again (N 0: at every
 * one); --after N:CMD after the N-th apply committed everything. That is
 * where tailscaled's restart hurts: between the plan and the change, and
 * between a change and the next wait. Privileges are not dropped. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/cmd.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/fix-apply.h"
#include "cgnatcheck/options.h"

struct when {
	bool after;
	unsigned call;          /* 0: every call */
	const char *cmd;
};

static struct when whens[16];
static size_t n_whens;

static void hook(bool after, unsigned call)
{
	for (size_t i = 0; i < n_whens; i++) {
		if (whens[i].after != after || (whens[i].call && whens[i].call != call))
			continue;
		fprintf(stderr, "fix-race-run: %s apply %u: %s\n", after ? "after" : "before", call, whens[i].cmd);
		if (system(whens[i].cmd) != 0)
			fprintf(stderr, "fix-race-run: the command failed: %s\n", whens[i].cmd);
		else
			fprintf(stderr, "fix-race-run: %s apply %u: done\n", after ? "after" : "before", call);
	}
}

int main(int argc, char **argv)
{
	struct cg_options opts;
	int i, r, status;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
		char *colon;
		if (i + 1 >= argc || n_whens == sizeof(whens) / sizeof(whens[0]) ||
		    (strcmp(argv[i], "--before") != 0 && strcmp(argv[i], "--after") != 0) ||
		    !(colon = strchr(argv[i + 1], ':'))) {
			fprintf(stderr, "usage: %s [--before N:CMD]... [--after N:CMD]... -- CGNATCHECK-ARGS...\n",
				argv[0]);
			return 2;
		}
		whens[n_whens++] = (struct when){ strcmp(argv[i], "--after") == 0,
						  (unsigned)strtoul(argv[i + 1], NULL, 10), colon + 1 };
	}
	if (i >= argc) {
		fprintf(stderr, "%s: no -- before cgnatcheck's arguments\n", argv[0]);
		return 2;
	}
	fix_apply_test_hook = hook;
	/* options_parse() reads argv[0] as the program name */
	argv[i] = argv[0];
	r = options_parse(argc - i, argv + i, &opts);
	if (r < 0)
		return CG_EXIT_FAILURE;
	cg_log_set_level(opts.verbosity >= 2 ? CG_LOG_DEBUG : opts.verbosity == 1 ? CG_LOG_INFO : CG_LOG_WARNING);
	status = opts.keep ? cmd_keep(&opts) : cmd_audit(&opts);
	fflush(stdout);
	options_free(&opts);
	return status;
}
