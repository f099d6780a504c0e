/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --mail-to: the scheduled audit (cgnatcheck-audit.timer, cron.d). Audits
 * this host, remembers the result under the state directory and mails the
 * report when there is a problem or the result changed (--mail-on). The
 * report content never passes through a shell: the message is built here
 * and handed to sendmail(8) on a pipe (src/report/mail.c). */
#include "config.h"

#include <pwd.h>
#include <string.h>
#include <time.h>

#include "cgnatcheck/audit-report.h"
#include "cgnatcheck/audit-state.h"
#include "cgnatcheck/audit.h"
#include "cgnatcheck/cmd.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/mail.h"

static void hostname(char *buf, size_t size)
{
	if (gethostname(buf, size) < 0 || !*buf)
		snprintf(buf, size, "localhost");
	buf[size - 1] = '\0';
}

static char *default_from(const char *host)
{
	struct passwd *pw = getpwuid(geteuid());
	char *out;

	if (asprintf(&out, "%s@%s", pw && pw->pw_name ? pw->pw_name : "root", host) < 0)
		abort();
	/* a host name could hold anything sethostname() accepts */
	if (!mail_address_valid(out)) {
		free(out);
		out = xstrdup("root");
	}
	return out;
}

static const char *why_mailed(unsigned on, int status, bool changed, bool first)
{
	if (first && status != CG_EXIT_OK && (on & (CG_MAIL_ON_CHANGE | CG_MAIL_ON_PROBLEM)))
		return "this first run found a problem";
	if ((on & CG_MAIL_ON_CHANGE) && changed)
		return "the result changed since the last run";
	if ((on & CG_MAIL_ON_PROBLEM) && status != CG_EXIT_OK)
		return "there is a problem (this mail repeats at every run until it is fixed; --mail-on change "
		       "mails only changes)";
	return "--mail-on always";
}

int cmd_scheduled(const struct cg_options *opts, struct mailer *mailer)
{
	struct cg_options mo = *opts;
	struct audit a;
	struct audit_state now, last;
	bool have_last, changed, due;
	int r, status;
	char host[256];

	/* the state is needed to know what changed: check it first */
	if (cg_state_dir_prepare("the scheduled audit's last result (last-audit.json)") < 0) {
		mailer_finish(mailer);
		return CG_EXIT_FAILURE;
	}
	/* the mail gets the whole report, whatever --quiet asks of stdout */
	mo.quiet = false;
	r = audit_host(&a, &mo);
	status = r < 0 ? CG_EXIT_FAILURE : audit_exit_status(&a);
	if (r >= 0) {
		a.opts = opts;
		if (audit_report_print(stdout, opts->format, &a) < 0)
			status = CG_EXIT_FAILURE;
		a.opts = &mo;
	}

	audit_state_from_audit(&now, r < 0 ? NULL : &a, status);
	have_last = audit_state_load(&last) == 0;
	/* no earlier result: a clean first run is no news, a problem is */
	changed = have_last ? strcmp(last.digest, now.digest) != 0 : now.exit_status != CG_EXIT_OK;
	due = (opts->mail_on & CG_MAIL_ON_ALWAYS) ||
	      ((opts->mail_on & CG_MAIL_ON_PROBLEM) && now.exit_status != CG_EXIT_OK) ||
	      ((opts->mail_on & CG_MAIL_ON_CHANGE) && changed);
	log_info("scheduled audit: %s; %s the last run%s; %s", now.summary,
		 !have_last ? "no result of" : changed ? "changed since" : "unchanged since",
		 have_last ? "" : " (first run)", due ? "mailing the report" : "no mail due");

	bool mailed_ok = true;
	if (due) {
		hostname(host, sizeof(host));
		_cleanup_free_ char *from = opts->mail_from ? xstrdup(opts->mail_from) : default_from(host);
		_cleanup_free_ char *subject = NULL, *json = NULL, *text = NULL, *body = NULL, *diff = NULL;
		char date[64];
		struct tm tm;
		time_t t = time(NULL);

		bool fixed = now.exit_status == CG_EXIT_OK && have_last && last.exit_status != CG_EXIT_OK;
		if (asprintf(&subject, "[cgnatcheck] %s: %s%s%s", host,
			     fixed ? "fixed, " : now.exit_status == CG_EXIT_OK ? "ok, " : "", now.summary,
			     changed && have_last && now.exit_status != CG_EXIT_OK && last.exit_status != CG_EXIT_OK ?
				     ", changed since the last run" : "") < 0)
			abort();
		if (r >= 0) {
			text = audit_report_to_string(CG_FORMAT_TEXT, &a);
			json = audit_report_to_string(CG_FORMAT_JSON, &a);
		}
		if (have_last && changed)
			diff = audit_state_diff(&last, &now);
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));

		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (!m)
			abort();
		fprintf(m, "cgnatcheck audited %s at %s: %s (exit status %d).\n", host, date, now.summary,
			now.exit_status);
		fprintf(m, "This mail was sent because %s.\n", why_mailed(opts->mail_on, now.exit_status, changed, !have_last));
		if (have_last)
			fprintf(m, "Last run: %s, %s.\n", last.time && *last.time ? last.time : "?",
				last.summary && *last.summary ? last.summary : "?");
		if (diff)
			fprintf(m, "\nWhat changed since the last run:\n%s", diff);
		fputc('\n', m);
		if (text)
			fputs(text, m);
		else
			fputs("The audit could not be completed; its error is in the journal (journalctl -u "
			      "cgnatcheck-audit.service) or in cron's mail. Run `cgnatcheck -v` as root to see it.\n", m);
		if (now.exit_status == CG_EXIT_BLOCKED)
			fputs("\nTo see the exact change: cgnatcheck --fix --dry-run\n"
			      "To install it:           cgnatcheck --fix\n", m);
		if (json)
			fputs("\nThe full report is attached as JSON (schema 1).\n", m);
		fclose(m);
		body = buf;

		struct mail_message msg = {
			.from = from, .to = opts->mail_to, .n_to = opts->n_mail_to, .subject = subject,
			.host = host, .text = body, .json = json, .date = t,
		};
		buf = NULL;
		len = 0;
		m = open_memstream(&buf, &len);
		if (!m)
			abort();
		mail_write(m, &msg);
		fclose(m);
		if (mailer_send(mailer, buf, len) < 0) {
			mailed_ok = false;
			status = CG_EXIT_FAILURE;
		} else {
			log_info("mailed the report to %s%s (%s)", opts->mail_to[0], opts->n_mail_to > 1 ? " and others" : "",
				 subject);
		}
		free(buf);
	} else {
		mailer_finish(mailer);
	}
	/* a report that was due but not sent is due again next time: keep the
	 * old state so the change is still a change */
	if (mailed_ok && audit_state_save(&now) < 0)
		status = CG_EXIT_FAILURE;

	/* the audit's own outcome, whatever became of the mail */
	if (opts->metrics_file && cmd_write_metrics(opts, r < 0 ? NULL : &a, r < 0 ? CG_EXIT_FAILURE :
						    audit_exit_status(&a)) == CG_EXIT_FAILURE && r >= 0)
		status = CG_EXIT_FAILURE;
	audit_state_free(&now);
	if (have_last)
		audit_state_free(&last);
	audit_free(&a);
	return status;
}
