/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The default command: audit this host (collect -> simulate -> audit ->
 * report); with --fix, plan and install the exceptions, then audit again and
 * report by the new state; --undo removes what cgnatcheck installed. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgnatcheck/audit-report.h"
#include "cgnatcheck/audit-state.h"
#include "cgnatcheck/audit.h"
#include "cgnatcheck/cmd.h"
#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/collect-netfilter.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/fix-apply.h"
#include "cgnatcheck/nft-events.h"
#include "cgnatcheck/fix-units.h"
#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/remedy.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/metrics.h"
#include "cgnatcheck/nft-text.h"

/* STATE_DIR/changes.log: one line per change, when, what, why. A change is
 * written down before it is made ("planned") and again with its outcome, so
 * a log that cannot be written stops the run before anything changes, and
 * an interrupted run leaves its plan on record. */
struct change_log {
	FILE *f;
	char path[4096];
};

static void change_log_close(struct change_log *log)
{
	if (log->f)
		fclose(log->f);
	log->f = NULL;
}

/* Opens the log for appending. Returns 0, or -errno after saying why and
 * that nothing was changed. */
static int change_log_open(struct change_log *log)
{
	int r;

	log->f = NULL;
	r = cg_state_dir_prepare("the log of changes (changes.log)");
	if (r < 0) {
		log_error("nothing was changed: every change is written to changes.log first");
		return r < 0 ? r : -EIO;
	}
	snprintf(log->path, sizeof(log->path), "%s/changes.log", cg_state_dir());
	log->f = fopen(log->path, "ae");
	if (!log->f) {
		r = -errno;
		log_error("cannot open %s for appending (%s, uid %u); nothing was changed: every change is written "
			  "there first. Make it writable for this user or set CGNATCHECK_STATE_DIR", log->path,
			  strerror(-r), (unsigned)geteuid());
		return r;
	}
	return 0;
}

static void change_log_line(struct change_log *log, const char *result, const char *target, const char *rule,
			    const char *command)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(log->f, "%s %s target=%s before-rule=%s command=%s\n", when, result, target && target[0] ? target : "-",
		rule ? rule : "-", command ? command : "-");
}

/* Flushes the lines written so far to the disk. Returns 0 or -errno after
 * logging (what: "the plan", "the outcome"). */
static int change_log_sync(struct change_log *log, const char *what)
{
	int r = 0;

	if (fflush(log->f) != 0 || ferror(log->f))
		r = -errno;
	else if (fsync(fileno(log->f)) < 0)
		r = -errno;
	if (r < 0)
		log_error("cannot write %s to %s (%s)", what, log->path, strerror(-r ? -r : EIO));
	return r ? r : 0;
}

int cmd_write_metrics(const struct cg_options *opts, const struct audit *a, int status)
{
	if (!opts->metrics_file)
		return status;
	if (metrics_write(opts->metrics_file, a, status) < 0)
		return CG_EXIT_FAILURE;
	return status;
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

/* How often a run audits again when the ruleset changed between its audit
 * and its change (a rule to insert before is gone: tailscaled restarting
 * while a first-boot run works). */
#define FIX_REPLAN_ATTEMPTS 5

/* One exception of a round, with what the report and the log say of it. */
struct planned {
	struct remedy ex;
	const struct audit_target *target;
	char name[64];
	char *cmd;
	char *rule;
};

struct fix_round {
	struct planned *p;
	size_t n;
	int refused;
};

static void fix_round_free(struct fix_round *fr)
{
	for (size_t i = 0; i < fr->n; i++) {
		free(fr->p[i].cmd);
		free(fr->p[i].rule);
	}
	free(fr->p);
	memset(fr, 0, sizeof(*fr));
}

/* Plans an exception for every blocked target; refusals go to changes. */
static int fix_plan(const struct audit *before, struct audit *changes, struct fix_round *fr)
{
	fr->p = calloc(before->n_targets ? before->n_targets : 1, sizeof(*fr->p));
	if (!fr->p)
		return -ENOMEM;
	for (size_t i = 0; i < before->n_targets; i++) {
		const struct audit_target *t = &before->targets[i];
		struct planned *p = &fr->p[fr->n];
		const char *why = NULL;

		if (t->verdict != TARGET_BLOCKED)
			continue;
		target_name(t, p->name, sizeof(p->name));
		if (remedy_plan(before, t, &p->ex, &why) < 0) {
			audit_add_change(changes, "refused", p->name, NULL, "no precise exception for %s: %s", p->name,
					 why);
			fr->refused++;
			continue;
		}
		p->target = t;
		p->cmd = remedy_command(&p->ex);
		p->rule = p->ex.before->chain->table->backend == CG_BACKEND_NFTABLES ? nft_rule_to_string(p->ex.before) :
										       ipt_rule_to_string(p->ex.before);
		fr->n++;
	}
	return 0;
}

/* The outcome of a round, in the report's changes and in the log. */
static void fix_record(struct fix_round *fr, const struct fix_item *items, int r, struct audit *changes,
		       struct change_log *log)
{
	for (size_t i = 0; i < fr->n; i++) {
		const struct planned *p = &fr->p[i];
		int res = items[i].result;
		struct audit_change *c;

		if (res == FIX_UNCHANGED)
			c = audit_add_change(changes, "unchanged", p->name, p->cmd ? xstrdup(p->cmd) : NULL,
					     "the exception for %s is already in place", p->name);
		else if (res == FIX_APPLIED)
			c = audit_add_change(changes, "applied", p->name, p->cmd ? xstrdup(p->cmd) : NULL,
					     "added an exception for %s", p->name);
		else
			c = audit_add_change(changes, "failed", p->name, p->cmd ? xstrdup(p->cmd) : NULL,
					     "could not add the exception for %s: %s%s", p->name, strerror(-res),
					     r == -ENOTRECOVERABLE ? "" : " (no exception of this run was added)");
		c->before = target_verdict_to_string(p->target->verdict);
		change_log_line(log, c->result, c->target, p->rule, p->cmd);
	}
}

enum fix_outcome {
	FIX_DONE,               /* applied, unchanged or refused: changes say which */
	FIX_FAILED,             /* applying failed: nothing of the run is in place (changes say why) */
	FIX_NOT_RECORDED,       /* the change log could not be written */
	FIX_PARTIAL,            /* applying failed and so did taking the run's changes out again */
};

/* Audits, plans an exception for every blocked target and (unless
 * --dry-run) applies them all or none; when the ruleset changed under the
 * plan, audits and plans again. *before is the audit the plan was made on,
 * *refused the number of blocked targets without a precise exception.
 * Returns 0 (*outcome says how it went) or a negative errno when the audit
 * itself failed. */
static int fix_targets(const struct cg_options *opts, struct audit *before, struct audit *changes,
		       struct fix_sync *sync, enum fix_outcome *outcome, int *refused)
{
	*outcome = FIX_DONE;
	*refused = 0;
	for (unsigned attempt = 1;; attempt++) {
		struct fix_round fr = { 0 };
		struct change_log log = { 0 };
		struct fix_item *items = NULL;
		int r;

		uint64_t legacy_fp = legacy_fingerprint();
		r = audit_host(before, opts);
		if (r < 0)
			return r;
		*sync = (struct fix_sync){ .have_nft = before->ruleset.have_nftables,
					   .nft_gen = before->ruleset.nft_generation, .legacy_fp = legacy_fp };
		r = fix_plan(before, changes, &fr);
		if (r < 0)
			return r;
		if (opts->dry_run || fr.n == 0) {
			for (size_t i = 0; i < fr.n; i++)
				audit_add_change(changes, "dry-run", fr.p[i].name, fr.p[i].cmd ? xstrdup(fr.p[i].cmd) : NULL,
						 "would add an exception for %s", fr.p[i].name);
			*refused = fr.refused;
			fix_round_free(&fr);
			return 0;
		}
		/* on record before anything changes */
		r = change_log_open(&log);
		if (r >= 0) {
			for (size_t i = 0; i < fr.n; i++)
				change_log_line(&log, "planned", fr.p[i].name, fr.p[i].rule, fr.p[i].cmd);
			r = change_log_sync(&log, "the planned changes");
			if (r < 0)
				log_error("nothing was changed: every change is written to the log first");
		}
		if (r < 0) {
			for (size_t i = 0; i < fr.n; i++)
				audit_add_change(changes, "failed", fr.p[i].name, fr.p[i].cmd ? xstrdup(fr.p[i].cmd) : NULL,
						 "not applied: the change log %s cannot be written", log.path[0] ?
						 log.path : "changes.log")->before = "blocked";
			*refused = fr.refused;
			*outcome = FIX_NOT_RECORDED;
			change_log_close(&log);
			fix_round_free(&fr);
			return 0;
		}
		items = calloc(fr.n, sizeof(*items));
		if (!items) {
			change_log_close(&log);
			fix_round_free(&fr);
			return -ENOMEM;
		}
		for (size_t i = 0; i < fr.n; i++)
			items[i].ex = &fr.p[i].ex;
		r = fix_apply_all(items, fr.n, sync);
		if (r == -ESTALE && attempt < FIX_REPLAN_ATTEMPTS) {
			for (size_t i = 0; i < fr.n; i++)
				change_log_line(&log, "replanning", fr.p[i].name, fr.p[i].rule, fr.p[i].cmd);
			(void)change_log_sync(&log, "the outcome");
			change_log_close(&log);
			log_info("The ruleset changed between the audit and the change (a rule to insert before is gone); "
				 "nothing was changed; auditing again (attempt %u of %u)", attempt + 1,
				 FIX_REPLAN_ATTEMPTS);
			free(items);
			fix_round_free(&fr);
			/* a fresh audit, and only this round's refusals */
			audit_free(before);
			audit_free(changes);
			audit_init(changes, opts);
			continue;
		}
		if (r == -ESTALE)
			log_error("The ruleset changed under each of %u audits (a rule to insert before was gone every "
				  "time); nothing was changed. Try again when the firewall has settled.",
				  FIX_REPLAN_ATTEMPTS);
		fix_record(&fr, items, r, changes, &log);
		int w = change_log_sync(&log, "the outcome");
		change_log_close(&log);
		*refused = fr.refused;
		free(items);
		fix_round_free(&fr);
		if (r == -ENOTRECOVERABLE)
			*outcome = FIX_PARTIAL;
		else if (r < 0)
			*outcome = FIX_FAILED;
		else if (w < 0) {
			log_error("the changes above were made; changes.log holds them as planned but not their outcome");
			*outcome = FIX_NOT_RECORDED;
		}
		return 0;
	}
}

/* The services' remedies (fix-units.h): the unit files the boot-safety
 * analysis of *before found to work, written all or none, each on record in
 * the change log first; then systemd is told (daemon-reload) when it runs
 * this system. Nothing is restarted: the files take effect at the next boot
 * (or the unit's next start). *refused counts the files not written because
 * of what is there; returns the outcome. */
static enum fix_outcome fix_units(const struct cg_options *opts, const struct audit *before, struct audit *changes,
				  int *refused)
{
	struct unit_fix *v = NULL;
	struct change_log log = { 0 };
	size_t n = before->services_read ? unit_fix_plan(&before->services, &v) : 0;
	size_t to_write = 0;
	enum fix_outcome outcome = FIX_DONE;
	char why[256];
	int r;

	for (size_t i = 0; i < n; i++) {
		const struct unit_fix *u = &v[i];
		const char *unit = u->finding->unit;
		struct audit_change *c = NULL;
		if (u->result == UNIT_FIX_REFUSED) {
			c = audit_add_change(changes, "refused", unit, NULL, "not written: %s", u->why);
			(*refused)++;
		} else if (u->result == UNIT_FIX_UNCHANGED) {
			c = audit_add_change(changes, "unchanged", unit, NULL, "%s is in place already", u->remedy->path);
		} else if (opts->dry_run) {
			c = audit_add_change(changes, "dry-run", unit, NULL, "would write %s for %s (%s)", u->remedy->path,
					     unit, u->remedy->note);
		} else {
			to_write++;
		}
		if (c)
			c->file = xstrdup(u->remedy->path);
	}
	if (!to_write || opts->dry_run) {
		free(v);
		return FIX_DONE;
	}
	r = change_log_open(&log);
	if (r >= 0) {
		for (size_t i = 0; i < n; i++)
			if (v[i].result == UNIT_FIX_WRITE)
				change_log_line(&log, "planned", v[i].finding->unit, NULL, v[i].remedy->path);
		r = change_log_sync(&log, "the planned changes");
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			if (v[i].result == UNIT_FIX_WRITE)
				audit_add_change(changes, "failed", v[i].finding->unit, NULL,
						 "%s not written: the change log cannot be written", v[i].remedy->path)
					->file = xstrdup(v[i].remedy->path);
		change_log_close(&log);
		free(v);
		return FIX_NOT_RECORDED;
	}
	r = unit_fix_apply(v, n);
	for (size_t i = 0; i < n; i++) {
		const struct unit_fix *u = &v[i];
		struct audit_change *c;
		if (u->result == UNIT_FIX_WRITTEN)
			c = audit_add_change(changes, "applied", u->finding->unit, NULL, "wrote %s for %s (%s)",
					     u->remedy->path, u->finding->unit, u->remedy->note);
		else if (u->result == UNIT_FIX_FAILED)
			c = audit_add_change(changes, "failed", u->finding->unit, NULL, "%s", u->why);
		else
			continue;
		c->file = xstrdup(u->remedy->path);
		change_log_line(&log, c->result, c->target, NULL, u->remedy->path);
	}
	if (r < 0)
		outcome = FIX_FAILED;
	else if (unit_fix_reload(why, sizeof(why)) < 0) {
		audit_add_change(changes, "failed", NULL, NULL, "the unit files were written, but systemd was not told: "
				 "%s; run `systemctl daemon-reload`", why);
		outcome = FIX_PARTIAL;
	}
	if (change_log_sync(&log, "the outcome") < 0 && outcome == FIX_DONE)
		outcome = FIX_NOT_RECORDED;
	change_log_close(&log);
	free(v);
	return outcome;
}

int cmd_fix_once(const struct cg_options *opts, bool keeping, struct fix_sync *sync_out)
{
	struct audit before, after, changes;
	struct fix_sync sync = { 0 };
	enum fix_outcome outcome;
	int r, status, refused;

	/* the changes are kept apart, and reported with the audit after */
	audit_init(&changes, opts);
	r = fix_targets(opts, &before, &changes, &sync, &outcome, &refused);
	if (sync_out)
		*sync_out = sync;
	if (r < 0) {
		audit_free(&before);
		audit_free(&changes);
		return keeping ? CG_EXIT_FAILURE : cmd_write_metrics(opts, NULL, CG_EXIT_FAILURE);
	}
	/* the unit files of the services offered over the overlays */
	int units_refused = 0;
	enum fix_outcome units = fix_units(opts, &before, &changes, &units_refused);

	if (opts->dry_run) {
		before.changes = changes.changes;
		before.n_changes = changes.n_changes;
		changes.changes = NULL;
		changes.n_changes = 0;
		if (refused > 0 || units_refused > 0) {
			before.status_forced = true;
			before.forced_status = CG_EXIT_FAILURE;
		}
		status = audit_exit_status(&before);
		r = audit_report_print(stdout, opts->format, &before);
		status = r < 0 ? CG_EXIT_FAILURE : status;
		status = cmd_write_metrics(opts, &before, status);
		audit_free(&before);
		audit_free(&changes);
		return status;
	}

	if (keeping) {
		/* Speed matters more than a second dump here: --keep audits
		 * again at once if anyone else changed the ruleset meanwhile. */
		for (size_t i = 0; i < changes.n_changes; i++) {
			const struct audit_change *c = &changes.changes[i];
			fprintf(stderr, "cgnatcheck: %s%s%s%s\n",
				strcmp(c->result, "applied") == 0 ? "re-applied: " : "", c->message,
				c->command ? ": " : "", c->command ? c->command : "");
		}
		status = refused || units_refused || outcome != FIX_DONE || units != FIX_DONE ? CG_EXIT_FAILURE :
			 audit_exit_status(&before);
		/* what a change must touch to matter to the next round */
		if (sync_out)
			sync_out->interest = nft_interest_new(&before.ruleset);
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
		return cmd_write_metrics(opts, NULL, CG_EXIT_FAILURE);
	}
	/* each change's target in the audit after, by name (the first of a
	 * name, as the report lists them) */
	struct arena names = { 0 };
	struct cg_hashmap by_name;
	hashmap_init(&by_name, &names, (uint32_t)after.n_targets);
	for (size_t k = 0; k < after.n_targets; k++) {
		char *name = arena_alloc(&names, 64);
		target_name(&after.targets[k], name, 64);
		hashmap_put(&by_name, name, (uint32_t)strlen(name), &after.targets[k]);
	}
	for (size_t i = 0; i < changes.n_changes; i++) {
		struct audit_change *c = &changes.changes[i];
		const struct audit_target *t = c->target[0] ? hashmap_get(&by_name, c->target, (uint32_t)strlen(c->target)) :
							      NULL;
		if (t)
			c->after = target_verdict_to_string(t->verdict);
	}
	arena_free(&names);
	after.changes = changes.changes;
	after.n_changes = changes.n_changes;
	changes.changes = NULL;
	changes.n_changes = 0;
	/* the report's exit_status is the run's */
	if (outcome != FIX_DONE || units != FIX_DONE || refused > 0 || units_refused > 0) {
		after.status_forced = true;
		after.forced_status = CG_EXIT_FAILURE;
	}
	status = audit_exit_status(&after);
	r = audit_report_print(stdout, opts->format, &after);
	if (r < 0)
		status = CG_EXIT_FAILURE;
	if (outcome == FIX_FAILED) {
		log_error("the exceptions could not be added (see the changes above); no exception of this run is in "
			  "place, the firewall was left as it was");
		status = CG_EXIT_FAILURE;
	} else if (outcome == FIX_PARTIAL) {
		log_error("the exceptions could not be added, and some that were could not be taken out again (see "
			  "above); `cgnatcheck --undo` removes every rule tagged " FIX_TAG_PREFIX);
		status = CG_EXIT_FAILURE;
	} else if (outcome == FIX_NOT_RECORDED) {
		status = CG_EXIT_FAILURE;
	} else if (refused > 0) {
		log_error("%d blocked target%s could not get a precise exception (see the changes above): "
			  "cgnatcheck will not widen an exception or edit someone else's rule; change that rule "
			  "or its chain's policy yourself", refused, refused == 1 ? "" : "s");
		status = CG_EXIT_FAILURE;
	}
	if (units == FIX_FAILED) {
		log_error("the unit files could not be written (see the changes above); none of this run's is in "
			  "place");
		status = CG_EXIT_FAILURE;
	} else if (units == FIX_PARTIAL) {
		log_error("the unit files were written, but systemd could not be told (see the changes above)");
		status = CG_EXIT_FAILURE;
	} else if (units == FIX_NOT_RECORDED) {
		status = CG_EXIT_FAILURE;
	}
	if (units_refused > 0) {
		log_error("%d unit file%s not written (see the changes above): cgnatcheck does not overwrite a file "
			  "that is not its own, nor write a remedy the analysis did not confirm", units_refused,
			  units_refused == 1 ? " was" : "s were");
		status = CG_EXIT_FAILURE;
	}
	status = cmd_write_metrics(opts, &after, status);
	/* --keep's first round: what a change must touch to matter next */
	if (sync_out)
		sync_out->interest = nft_interest_new(&after.ruleset);
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
		return cmd_fix_once(opts, false, NULL);
	r = audit_host(&a, opts);
	if (r < 0) {
		audit_free(&a);
		return cmd_write_metrics(opts, NULL, CG_EXIT_FAILURE);
	}
	/* what the audit read, for an offline audit elsewhere (--replay) */
	if (opts->save_file && cmd_save(opts->save_file, &a) < 0) {
		audit_free(&a);
		return CG_EXIT_FAILURE;
	}
	status = audit_exit_status(&a);
	r = audit_report_print(stdout, opts->format, &a);
	if (r < 0) {
		log_error_errno(r, "Failed to write the report");
		status = CG_EXIT_FAILURE;
	}
	status = cmd_write_metrics(opts, &a, status);
	audit_free(&a);
	return status;
}

int cmd_undo(const struct cg_options *opts)
{
	struct cg_ruleset rs = { 0 };
	struct change_log log = { 0 };
	struct audit a;
	unsigned n = 0;
	int r;

	r = netfilter_collect(&rs);
	if (r < 0) {
		log_error("cannot undo: reading the firewall rules failed");
		return CG_EXIT_FAILURE;
	}
	if (change_log_open(&log) < 0) {
		ruleset_free(&rs);
		return CG_EXIT_FAILURE;
	}
	change_log_line(&log, "removing", NULL, NULL, "rules tagged " FIX_TAG_PREFIX);
	if (change_log_sync(&log, "the planned removal") < 0) {
		log_error("nothing was removed: every change is written to the log first");
		change_log_close(&log);
		ruleset_free(&rs);
		return CG_EXIT_FAILURE;
	}
	r = fix_remove_tagged(&rs, &n);
	ruleset_free(&rs);
	audit_init(&a, opts);
	/* the unit files of the services' remedies */
	char **files = NULL, why[256];
	size_t n_files = 0;
	int u = unit_fix_undo(&files, &n_files);
	for (size_t i = 0; i < n_files; i++) {
		struct audit_change *c = audit_add_change(&a, "removed", NULL, NULL, "%s", files[i]);
		c->file = xstrdup(files[i]);
		change_log_line(&log, "removed", NULL, NULL, files[i]);
	}
	unit_fix_strv_free(files, n_files);
	if (u < 0)
		audit_add_change(&a, "failed", NULL, NULL, "removing cgnatcheck's unit files failed: %s", strerror(-u));
	else if (n_files && unit_fix_reload(why, sizeof(why)) < 0) {
		audit_add_change(&a, "failed", NULL, NULL, "the unit files were removed, but systemd was not told: %s; "
				 "run `systemctl daemon-reload`", why);
		u = -EIO;
	}
	struct audit_change *c = r < 0 ?
		audit_add_change(&a, "failed", NULL, NULL, "removing cgnatcheck's exceptions failed: %s", strerror(-r)) :
		n ? audit_add_change(&a, "removed", NULL, NULL, "%u exception%s (rule%s whose comment starts with \""
				     FIX_TAG_PREFIX "\")", n, n == 1 ? "" : "s", n == 1 ? "" : "s") :
		    audit_add_change(&a, "removed", NULL, NULL, "nothing: no rule's comment starts with \""
				     FIX_TAG_PREFIX "\"");
	change_log_line(&log, c->result, NULL, NULL, c->message);
	int w = change_log_sync(&log, "the outcome");
	change_log_close(&log);
	int p = audit_report_print(stdout, opts->format, &a);
	audit_free(&a);
	return r < 0 || u < 0 || w < 0 || p < 0 ? CG_EXIT_FAILURE : CG_EXIT_OK;
}
