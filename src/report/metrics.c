/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Prometheus textfile (--metrics-file). node_exporter's textfile
 * collector reads every *.prom file of its directory at each scrape, so the
 * file is replaced whole by rename(2), never rewritten in place; its
 * metrics, labels and escaping follow the text exposition format 0.0.4
 * (HELP and TYPE lines, label values with \\, \" and \n escaped), which
 * `promtool check metrics` checks in tests/kernel/metrics.sh. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/fix-apply.h"
#include "cgnatcheck/metrics.h"

static void header(FILE *out, const char *name, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* A label value, escaped as the exposition format wants it. */
static void label(FILE *out, const char *name, const char *value, bool first)
{
	fprintf(out, "%s%s=\"", first ? "" : ",", name);
	for (const char *c = value ? value : ""; *c; c++) {
		if (*c == '\\' || *c == '"')
			fprintf(out, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", out);
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

static void target_series(FILE *out, const struct audit *a)
{
	static const enum target_verdict verdicts[] = { TARGET_REACHABLE, TARGET_BLOCKED, TARGET_UNROUTABLE,
							 TARGET_UNCERTAIN };
	char addr[CG_ADDRSTRLEN], port[8];

	header(out, "cgnatcheck_target_verdict",
	       "The audit's verdict per target: 1 for the target's verdict, 0 for the others.");
	for (size_t i = 0; i < a->n_targets; i++) {
		const struct audit_target *t = &a->targets[i];
		snprintf(port, sizeof(port), "%u", t->port);
		for (size_t v = 0; v < ARRAY_SIZE(verdicts); v++) {
			fputs("cgnatcheck_target_verdict{", out);
			label(out, "address", addr_to_string(&t->addr, addr), true);
			label(out, "proto", l4proto_to_string(t->l4proto), false);
			label(out, "port", port, false);
			label(out, "direction", t->inbound ? "inbound" : "outbound", false);
			label(out, "role", t->role, false);
			label(out, "origin", t->origin, false);
			label(out, "verdict", target_verdict_to_string(verdicts[v]), false);
			fprintf(out, "} %d\n", t->verdict == verdicts[v]);
		}
	}
	header(out, "cgnatcheck_targets", "Targets audited, by verdict.");
	for (size_t v = 0; v < ARRAY_SIZE(verdicts); v++) {
		size_t n = 0;
		for (size_t i = 0; i < a->n_targets; i++)
			n += a->targets[i].verdict == verdicts[v];
		fputs("cgnatcheck_targets{", out);
		label(out, "verdict", target_verdict_to_string(verdicts[v]), true);
		fprintf(out, "} %zu\n", n);
	}
}

static void finding_series(FILE *out, const struct audit *a)
{
	static const enum finding_severity sevs[] = { FINDING_CRITICAL, FINDING_WARNING, FINDING_INFO };

	header(out, "cgnatcheck_findings", "Findings of the audit, by severity.");
	for (size_t s = 0; s < ARRAY_SIZE(sevs); s++) {
		size_t n = 0;
		for (size_t i = 0; i < a->n_findings; i++)
			n += a->findings[i].severity == sevs[s];
		fputs("cgnatcheck_findings{", out);
		label(out, "severity", finding_severity_to_string(sevs[s]), true);
		fprintf(out, "} %zu\n", n);
	}
}

/* The rules cgnatcheck tagged (its exceptions), per backend, in the
 * ruleset the audit read. */
static void exception_series(FILE *out, const struct audit *a)
{
	static const enum cg_backend backends[] = { CG_BACKEND_IPTABLES_LEGACY, CG_BACKEND_IPTABLES_NFT,
						    CG_BACKEND_NFTABLES };
	uint64_t n[ARRAY_SIZE(backends)] = { 0 };

	for (uint32_t t = 0; t < a->ruleset.n_tables; t++) {
		const struct cg_table *tb = &a->ruleset.tables[t];
		size_t b = 0;
		while (b < ARRAY_SIZE(backends) && backends[b] != tb->backend)
			b++;
		if (b == ARRAY_SIZE(backends))
			continue;
		for (uint32_t c = 0; c < tb->n_chains; c++)
			for (uint32_t r = 0; r < tb->chains[c].n_rules; r++)
				n[b] += fix_is_tag(tb->chains[c].rules[r].comment);
	}
	header(out, "cgnatcheck_exceptions",
	       "Exceptions cgnatcheck --fix installed that are in place (rules tagged cgnatcheck:), by backend.");
	for (size_t b = 0; b < ARRAY_SIZE(backends); b++) {
		fputs("cgnatcheck_exceptions{", out);
		label(out, "backend", backend_to_string(backends[b]), true);
		fprintf(out, "} %llu\n", (unsigned long long)n[b]);
	}
}

int metrics_print(FILE *out, const struct audit *a, int exit_status)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	header(out, "cgnatcheck_last_audit_timestamp_seconds", "When the last audit ran, in seconds since the epoch.");
	fprintf(out, "cgnatcheck_last_audit_timestamp_seconds %lld.%03ld\n", (long long)now.tv_sec,
		now.tv_nsec / 1000000);
	header(out, "cgnatcheck_audit_success", "1 when the last audit completed, 0 when it could not (exit status 3).");
	fprintf(out, "cgnatcheck_audit_success %d\n", a && exit_status != CG_EXIT_FAILURE);
	header(out, "cgnatcheck_exit_status",
	       "The last audit's exit status: 0 all reachable, 1 warnings, 2 blocked or unroutable, 3 failed.");
	fprintf(out, "cgnatcheck_exit_status %d\n", exit_status);
	header(out, "cgnatcheck_info", "The version that ran the audit and the provider it audited for.");
	fputs("cgnatcheck_info{", out);
	label(out, "version", PACKAGE_VERSION, true);
	label(out, "provider", a && a->provider ? a->provider : "", false);
	fputs("} 1\n", out);
	if (a) {
		target_series(out, a);
		finding_series(out, a);
		exception_series(out, a);
	}
	return ferror(out) ? -EIO : 0;
}

int metrics_write(const char *path, const struct audit *a, int exit_status)
{
	_cleanup_free_ char *tmp = NULL;
	FILE *f;
	int fd, r;

	if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
		abort();
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT || r == -ENOTDIR)
			return log_error("cannot write the metrics file %s: its directory does not exist; create it "
					 "(node_exporter's textfile collector reads the directory given by "
					 "--collector.textfile.directory)", path);
		return log_error_errno(r, "cannot write the metrics file %s: cannot create %s in its directory "
				       "(it must be writable for uid %u)", path, tmp, (unsigned)geteuid());
	}
	/* the collector runs as another user: readable by all, like the
	 * files node_exporter's own textfile scripts write */
	(void)fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return log_error_errno(r, "cannot write the metrics file %s", tmp);
	}
	r = metrics_print(f, a, exit_status);
	if (r >= 0 && fflush(f) != 0)
		r = -errno;
	if (r >= 0 && fsync(fileno(f)) < 0)
		r = -errno;
	if (fclose(f) != 0 && r >= 0)
		r = -errno;
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return log_error_errno(r, "cannot write the metrics file %s (through %s)", path, tmp);
	}
	return 0;
}
