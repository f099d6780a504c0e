/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What cgnatcheck remembers between runs, under the state directory
 * (/var/lib/cgnatcheck, CGNATCHECK_STATE_DIR overrides): the result of the
 * last scheduled audit, reduced to what matters for "did anything change"
 * (each target's verdict and blocking rule, each warning or critical
 * finding), never timestamps, counters or handles. */
#pragma once

#include <stddef.h>

#include "cgnatcheck/audit.h"

struct audit_state {
	int exit_status;       /* the audit's exit status (3: it failed) */
	char *summary;         /* "blocked (2 of 5 targets)", "ok, all 5 targets reachable", ... */
	char **lines;          /* the result, one canonical line per target and finding */
	size_t n_lines;
	char digest[17];       /* FNV-1a 64 of the lines (a rule in them by its
	                        * identity in the model, rule_hash()), hex */
	char *time;            /* when (UTC, ISO 8601); informational only */
	size_t n_targets, n_bad;
};

/* The state directory: $CGNATCHECK_STATE_DIR, else /var/lib/cgnatcheck. */
const char *cg_state_dir(void);

/* Creates the state directory when missing and checks it is writable.
 * On failure logs what failed and what to do (mentioning `why`, e.g. "the
 * scheduled audit's last result") and returns a negative errno. */
int cg_state_dir_prepare(const char *why);

/* The state of a finished audit (a NULL: the audit could not complete;
 * exit_status then CG_EXIT_FAILURE). */
void audit_state_from_audit(struct audit_state *s, const struct audit *a, int exit_status);

/* Reads STATE_DIR/last-audit.json: 0, -ENOENT when there is none (nothing
 * logged), another negative errno when it cannot be read or parsed (logged
 * as a warning: it is then treated as missing). */
int audit_state_load(struct audit_state *s);

/* Writes STATE_DIR/last-audit.json atomically (a temporary file, fsync,
 * rename). Returns 0 or a negative errno (logged, with what to do). */
int audit_state_save(const struct audit_state *s);

/* Lines of `now` missing from `before` ("+ ...") and lines of `before` gone
 * from `now` ("- ..."), one per line; NULL when equal. malloc'd. */
char *audit_state_diff(const struct audit_state *before, const struct audit_state *now);

void audit_state_free(struct audit_state *s);
