/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The default command: audit this host (collect -> simulate -> audit ->
 * report); with --fix, plan and install the exceptions, then audit again and
 * report by the new state; --undo removes what cgnatcheck installed. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cgnatcheck/audit-report.h"
#include "cgnatcheck/audit-state.h"
#include "cgnatcheck/audit.h"
#include "cgnatcheck/cmd.h"
#include "cgnatcheck/collect-netfilter.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/fix-apply.h"
#include "cgnatcheck/remedy.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/nft-text.h"

/* Appends one line per change to STATE_DIR/changes.log: when, what, why.
 * The change itself is made by then: a log that cannot be written is an
 * error to report, not a reason to undo it. */
static void record_change(const struct audit_change *c, const char *rule)
{
	char path[4096], when[32];
	time_t now = time(NULL);
	struct tm tm;

	if (cg_state_dir_prepare("the log of changes (changes.log)") < 0) {
		log_error("the change above is not recorded in changes.log (it was made)");
		return;
	}
	snprintf(path, sizeof(path), "%s/changes.log", cg_state_dir());
	_cleanup_fclose_ FILE *f = fopen(path, "ae");
	if (!f) {
		log_error("cannot open %s for appending (%s, uid %u): the change was made but is not recorded; "
			  "make it writable for this user or set CGNATCHECK_STATE_DIR", path, strerror(errno),
			  (unsigned)geteuid());
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(f, "%s %s target=%s before-rule=%s command=%s\n", when, c->result,
		c->target[0] ? c->target : "-", rule ? rule : "-", c->command ? c->command : "-");
	if (fflush(f) != 0 || ferror(f))
		log_error("cannot write %s (%s): the change was made but is not recorded", path, strerror(errno));
}

int audit_host(struct audit *a, const struct cg_options *opts)
{
	int r;

	audit_init(a, opts);
	r = audit_load_policies(a);
	if (r >= 0)
		r = audit_collect_state(a);
	if (r >= 0)
		r = audit_collect_targets(a);
	if (r >= 0)
		r = audit_run(a);
	return r;
}

static void target_name(const struct audit_target *t, char *buf, size_t size)
{
	char addr[CG_ADDRSTRLEN];

	snprintf(buf, size, "%s %s/%u", addr_to_string(&t->addr, addr), l4proto_to_string(t->l4proto), t->port);
}

/* Plans and (unless --dry-run) applies an exception for every blocked
 * target. Returns the number of targets no precise exception could be
 * placed for, or a negative errno when applying failed. */
static int fix_targets(struct audit *before, struct audit *changes)
{
	int refused = 0, failed = 0;

	for (size_t i = 0; i < before->n_targets; i++) {
		const struct audit_target *t = &before->targets[i];
		struct remedy ex;
		const char *why = NULL;
		char name[64];

		if (t->verdict != TARGET_BLOCKED)
			continue;
		target_name(t, name, sizeof(name));
		if (remedy_plan(before, t, &ex, &why) < 0) {
			audit_add_change(changes, "refused", name, NULL, "no precise exception for %s: %s", name, why);
			refused++;
			continue;
		}
		char *cmd = remedy_command(&ex);
		if (before->opts->dry_run) {
			audit_add_change(changes, "dry-run", name, cmd, "would add an exception for %s", name);
			continue;
		}
		int r = fix_apply(&ex);
		struct audit_change *c;
		if (r < 0) {
			c = audit_add_change(changes, "failed", name, cmd, "could not add the exception for %s: %s",
					     name, strerror(-r));
			failed++;
		} else if (r == FIX_UNCHANGED) {
			c = audit_add_change(changes, "unchanged", name, cmd, "the exception for %s is already in place",
					     name);
		} else {
			c = audit_add_change(changes, "applied", name, cmd, "added an exception for %s", name);
		}
		c->before = target_verdict_to_string(t->verdict);
		_cleanup_free_ char *rule = ex.before->chain->table->backend == CG_BACKEND_NFTABLES ?
			nft_rule_to_string(ex.before) : ipt_rule_to_string(ex.before);
		record_change(c, rule);
	}
	return failed ? -EIO : refused;
}

int cmd_fix_once(const struct cg_options *opts, bool keeping)
{
	struct audit before, after;
	int r, status;

	r = audit_host(&before, opts);
	if (r < 0) {
		audit_free(&before);
		return CG_EXIT_FAILURE;
	}
	/* the changes are kept in `after`, which is what gets reported */
	struct audit changes;
	audit_init(&changes, opts);
	int refused = fix_targets(&before, &changes);

	if (opts->dry_run) {
		before.changes = changes.changes;
		before.n_changes = changes.n_changes;
		changes.changes = NULL;
		changes.n_changes = 0;
		status = audit_exit_status(&before);
		r = audit_report_print(stdout, opts->format, &before);
		audit_free(&before);
		audit_free(&changes);
		return r < 0 ? CG_EXIT_FAILURE : refused > 0 ? CG_EXIT_FAILURE : status;
	}

	if (keeping) {
		/* Speed matters more than a second dump here: our own change
		 * wakes the next round, which audits the result anyway. */
		for (size_t i = 0; i < changes.n_changes; i++) {
			const struct audit_change *c = &changes.changes[i];
			fprintf(stderr, "cgnatcheck: %s%s%s%s\n",
				strcmp(c->result, "applied") == 0 ? "re-applied: " : "", c->message,
				c->command ? ": " : "", c->command ? c->command : "");
		}
		status = refused ? CG_EXIT_FAILURE : audit_exit_status(&before);
		audit_free(&before);
		audit_free(&changes);
		return status;
	}

	/* verified: audit again, from a fresh dump */
	r = audit_host(&after, opts);
	if (r < 0) {
		audit_free(&before);
		audit_free(&changes);
		audit_free(&after);
		return CG_EXIT_FAILURE;
	}
	for (size_t i = 0; i < changes.n_changes; i++) {
		struct audit_change *c = &changes.changes[i];
		for (size_t k = 0; k < after.n_targets; k++) {
			char name[64];
			target_name(&after.targets[k], name, sizeof(name));
			if (strcmp(name, c->target) == 0)
				c->after = target_verdict_to_string(after.targets[k].verdict);
		}
	}
	after.changes = changes.changes;
	after.n_changes = changes.n_changes;
	changes.changes = NULL;
	changes.n_changes = 0;
	status = audit_exit_status(&after);
	r = audit_report_print(stdout, opts->format, &after);
	if (r < 0)
		status = CG_EXIT_FAILURE;
	if (refused < 0) {
		log_error("some exceptions could not be added (see the changes above); the firewall was left "
			  "as it was for those targets");
		status = CG_EXIT_FAILURE;
	} else if (refused > 0) {
		log_error("%d blocked target%s could not get a precise exception (see the changes above): "
			  "cgnatcheck will not widen an exception or edit someone else's rule; change that rule "
			  "or its chain's policy yourself", refused, refused == 1 ? "" : "s");
		status = CG_EXIT_FAILURE;
	}
	audit_free(&before);
	audit_free(&changes);
	audit_free(&after);
	return status;
}

int cmd_audit(const struct cg_options *opts)
{
	struct audit a;
	int r, status;

	if (opts->fix)
		return cmd_fix_once(opts, false);
	r = audit_host(&a, opts);
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
	struct cg_ruleset rs = { 0 };
	struct audit a;
	unsigned n = 0;
	int r;

	r = netfilter_collect(&rs);
	if (r < 0) {
		log_error("cannot undo: reading the firewall rules failed");
		return CG_EXIT_FAILURE;
	}
	r = fix_remove_tagged(&rs, &n);
	ruleset_free(&rs);
	audit_init(&a, opts);
	struct audit_change *c = r < 0 ?
		audit_add_change(&a, "failed", NULL, NULL, "removing cgnatcheck's exceptions failed: %s", strerror(-r)) :
		audit_add_change(&a, "removed", NULL, NULL, "removed %u rule%s tagged cgnatcheck:", n, n == 1 ? "" : "s");
	if (r >= 0 && n)
		record_change(c, NULL);
	int w = audit_report_print(stdout, opts->format, &a);
	audit_free(&a);
	return r < 0 || w < 0 ? CG_EXIT_FAILURE : CG_EXIT_OK;
}
