/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The scheduled audit's memory: the last result under the state directory,
 * as canonical lines (one per target, one per warning or critical finding)
 * and their digest, which names each rule by its identity in the model
 * (rule_hash()) rather than by its printed text. Nothing that changes from
 * run to run without the result changing goes in: no time, no counters, no
 * rule handles or positions (tailscaled re-creates its chains, which
 * renumbers them). */
#include "config.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cgnatcheck/audit-state.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/nft-text.h"

#define STATE_FILE "last-audit.json"

const char *cg_state_dir(void)
{
	const char *e = getenv("CGNATCHECK_STATE_DIR");

	return e && *e ? e : CG_STATEDIR;
}

int cg_state_dir_prepare(const char *why)
{
	const char *dir = cg_state_dir();

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "cannot create the state directory %s for %s (uid %u); create "
				       "it writable for this user (systemd: StateDirectory=cgnatcheck) or set "
				       "CGNATCHECK_STATE_DIR to one that is", dir, why, (unsigned)geteuid());
	if (access(dir, W_OK | X_OK) < 0)
		return log_error_errno(-errno, "the state directory %s is not writable for uid %u, and %s is "
				       "kept there; chown it to the user cgnatcheck runs as (--user) or set "
				       "CGNATCHECK_STATE_DIR to a writable directory", dir, (unsigned)geteuid(), why);
	return 0;
}

/* "backend family table chain: TEXT", TEXT the rule as the report prints it,
 * for whoever reads last-audit.json or the mail's list of changes.
 * *text_len is TEXT's length: the digest takes the rule's identity in the
 * model (rule_hash()) in its place. */
static char *rule_line(const struct cg_rule *r, size_t *text_len)
{
	const struct cg_chain *c = r->chain;
	_cleanup_free_ char *text = c->table->backend == CG_BACKEND_NFTABLES ? nft_rule_to_string(r) :
									       ipt_rule_to_string(r);
	char *out;

	if (asprintf(&out, "%s %s %s %s: %s", backend_to_string(c->table->backend),
		     family_to_string(c->table->family), c->table->name, c->name, text ? text : "?") < 0)
		abort();
	*text_len = strlen(text ? text : "?");
	return out;
}

static void add_line(struct audit_state *s, char *line)
{
	s->lines = xreallocarray(s->lines, s->n_lines + 1, sizeof(char *));
	s->lines[s->n_lines++] = line;
}

/* The digest's FNV-1a seed: not FNV's offset basis, but what every stored
 * last-audit.json was made with; a new one would make every host's next
 * run look changed. */
#define DIGEST_INIT 1469598103934665603ull

static void digest_bytes(uint64_t *h, const char *p, size_t n)
{
	*h = hash_fnv1a(*h, p, n);
}

/* FNV-1a over the line and its NUL (the NUL separates lines), except that
 * a line ending in a rule (rule != NULL, its printed text the last
 * text_len bytes) has the rule's identity in the model in place of the
 * text: what the rule matches and does, which the text may not show in
 * full, and never its handle or position (tailscaled re-creates its
 * chains, which renumbers them). The chain that holds it is in the line. */
static void digest_line(uint64_t *h, const char *line, const struct cg_rule *rule, size_t text_len)
{
	size_t len = strlen(line);
	char id[32];

	if (rule) {
		snprintf(id, sizeof(id), "rule %016llx", (unsigned long long)rule_hash(rule));
		digest_bytes(h, line, len - text_len);
		digest_bytes(h, id, strlen(id));
	} else {
		digest_bytes(h, line, len);
	}
	digest_bytes(h, "", 1);
}

static void digest_set(struct audit_state *s, uint64_t h)
{
	snprintf(s->digest, sizeof(s->digest), "%016llx", (unsigned long long)h);
}

static char *now_iso(void)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;

	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	return xstrdup(buf);
}

static char *summary(const struct audit *a, int exit_status)
{
	size_t blocked = 0, unroutable = 0, warnings = 0;
	char *out;
	int r;

	if (!a)
		return xstrdup("audit failed");
	for (size_t i = 0; i < a->n_targets; i++) {
		blocked += a->targets[i].verdict == TARGET_BLOCKED;
		unroutable += a->targets[i].verdict == TARGET_UNROUTABLE;
		warnings += a->targets[i].verdict == TARGET_UNCERTAIN;
	}
	for (size_t i = 0; i < a->n_findings; i++)
		warnings += a->findings[i].severity == FINDING_WARNING;
	if (exit_status == CG_EXIT_BLOCKED)
		r = asprintf(&out, "%s (%zu of %zu target%s)",
			     !unroutable ? "blocked" : !blocked ? "unroutable" : "blocked or unroutable",
			     blocked + unroutable, a->n_targets, a->n_targets == 1 ? "" : "s");
	else if (exit_status == CG_EXIT_WARNING)
		r = asprintf(&out, "warnings (%zu)", warnings ? warnings : 1);
	else if (exit_status == CG_EXIT_OK)
		r = asprintf(&out, "all %zu target%s reachable", a->n_targets, a->n_targets == 1 ? "" : "s");
	else
		r = asprintf(&out, "audit failed");
	if (r < 0)
		abort();
	return out;
}

void audit_state_from_audit(struct audit_state *s, const struct audit *a, int exit_status)
{
	char addr[CG_ADDRSTRLEN], *line;
	uint64_t h = DIGEST_INIT;

	*s = (struct audit_state){ .exit_status = a ? exit_status : CG_EXIT_FAILURE };
	s->time = now_iso();
	s->summary = summary(a, s->exit_status);
	if (!a) {
		add_line(s, xstrdup("audit failed"));
		digest_line(&h, s->lines[0], NULL, 0);
		digest_set(s, h);
		return;
	}
	s->n_targets = a->n_targets;
	for (size_t i = 0; i < a->n_targets; i++) {
		const struct audit_target *t = &a->targets[i];
		const struct cg_rule *by = NULL;
		_cleanup_free_ char *rule = NULL;
		size_t text_len = 0;

		s->n_bad += t->verdict != TARGET_REACHABLE;
		/* what conntrack saw comes and goes with the host's traffic: a
		 * peer that is fine is no change worth a mail */
		if (t->verdict == TARGET_REACHABLE && t->origin && strcmp(t->origin, "conntrack") == 0)
			continue;
		if (t->blind) {
			if (asprintf(&rule, "%s (outside netfilter)", t->blind->what) < 0)
				abort();
		} else if ((t->verdict == TARGET_BLOCKED || t->verdict == TARGET_UNCERTAIN) && t->blocked_by) {
			by = t->blocked_by;
			rule = rule_line(by, &text_len);
		} else if (t->verdict == TARGET_BLOCKED && t->blocked_policy &&
			   asprintf(&rule, "%s %s %s %s: policy %s", backend_to_string(t->blocked_policy->table->backend),
				    family_to_string(t->blocked_policy->table->family), t->blocked_policy->table->name,
				    t->blocked_policy->name, verdict_to_string(t->blocked_policy->policy)) < 0) {
			abort();
		}
		if (asprintf(&line, "target %s %s/%u %s %s: %s%s%s", addr_to_string(&t->addr, addr),
			     l4proto_to_string(t->l4proto), t->port, t->role, t->inbound ? "inbound" : "outbound",
			     target_verdict_to_string(t->verdict), rule ? " by " : "", rule ? rule : "") < 0)
			abort();
		add_line(s, line);
		digest_line(&h, line, by, text_len);
	}
	for (size_t i = 0; i < a->n_findings; i++) {
		const struct audit_finding *f = &a->findings[i];
		_cleanup_free_ char *rule = NULL;
		size_t text_len = 0;

		/* info findings describe, they do not judge */
		if (f->severity == FINDING_INFO)
			continue;
		if (f->rule)
			rule = rule_line(f->rule, &text_len);
		/* which targets, not the message: it names rule positions */
		char *who = NULL;
		size_t wlen = 0;
		FILE *m = open_memstream(&who, &wlen);
		if (!m)
			abort();
		for (size_t k = 0; k < f->n_targets; k++) {
			const struct audit_target *t = &a->targets[f->targets[k]];
			fprintf(m, " %s %s/%u", addr_to_string(&t->addr, addr), l4proto_to_string(t->l4proto), t->port);
		}
		fclose(m);
		if (asprintf(&line, "finding %s %s%s%s%s", finding_severity_to_string(f->severity), f->code,
			     who, rule ? " at " : "", rule ? rule : "") < 0)
			abort();
		free(who);
		add_line(s, line);
		digest_line(&h, line, f->rule, text_len);
	}
	digest_set(s, h);
}

static const char *state_path(char *buf, size_t size, const char *suffix)
{
	snprintf(buf, size, "%s/%s%s", cg_state_dir(), STATE_FILE, suffix);
	return buf;
}

int audit_state_load(struct audit_state *s)
{
	char path[4096];
	struct json_object *root, *v;

	*s = (struct audit_state){ 0 };
	state_path(path, sizeof(path), "");
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return -ENOENT;
	root = json_object_from_file(path);
	if (!root) {
		log_warning("cannot read %s (%s): treating this run as the first one", path, json_util_get_last_err());
		return -EINVAL;
	}
	if (!json_object_object_get_ex(root, "schema", &v) || json_object_get_int(v) != 1 ||
	    !json_object_object_get_ex(root, "digest", &v) || !json_object_is_type(v, json_type_string)) {
		json_object_put(root);
		log_warning("%s is not a state file of this version: treating this run as the first one", path);
		return -EINVAL;
	}
	snprintf(s->digest, sizeof(s->digest), "%s", json_object_get_string(v));
	s->exit_status = json_object_object_get_ex(root, "exit_status", &v) ? json_object_get_int(v) : 0;
	s->summary = xstrdup(json_object_object_get_ex(root, "summary", &v) ? json_object_get_string(v) : "");
	s->time = xstrdup(json_object_object_get_ex(root, "time", &v) ? json_object_get_string(v) : "");
	if (json_object_object_get_ex(root, "result", &v) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			const char *l = json_object_get_string(json_object_array_get_idx(v, i));
			add_line(s, xstrdup(l ? l : ""));
		}
	json_object_put(root);
	return 0;
}

int audit_state_save(const struct audit_state *s)
{
	char path[4096], tmp[4096];
	struct json_object *root = json_object_new_object(), *lines = json_object_new_array();
	const char *text;
	int r = 0;

	json_object_object_add(root, "schema", json_object_new_int(1));
	json_object_object_add(root, "time", json_object_new_string(s->time ? s->time : ""));
	json_object_object_add(root, "exit_status", json_object_new_int(s->exit_status));
	json_object_object_add(root, "summary", json_object_new_string(s->summary ? s->summary : ""));
	json_object_object_add(root, "digest", json_object_new_string(s->digest));
	for (size_t i = 0; i < s->n_lines; i++)
		json_object_array_add(lines, json_object_new_string(s->lines[i]));
	json_object_object_add(root, "result", lines);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

	state_path(path, sizeof(path), "");
	state_path(tmp, sizeof(tmp), ".tmp");
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	for (size_t off = 0, len = strlen(text); off < len;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0 || rename(tmp, path) < 0) {
		r = errno ? -errno : -EIO;
		goto fail;
	}
	json_object_put(root);
	return 0;
fail:
	json_object_put(root);
	unlink(tmp);
	return log_error_errno(r, "cannot write the last audit's result to %s (uid %u); make %s writable for "
			       "this user or set CGNATCHECK_STATE_DIR", path, (unsigned)geteuid(), cg_state_dir());
}

static bool has_line(const struct audit_state *s, const char *l)
{
	for (size_t i = 0; i < s->n_lines; i++)
		if (strcmp(s->lines[i], l) == 0)
			return true;
	return false;
}

char *audit_state_diff(const struct audit_state *before, const struct audit_state *now)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		abort();
	for (size_t i = 0; i < before->n_lines; i++)
		if (!has_line(now, before->lines[i]))
			fprintf(m, "  - %s\n", before->lines[i]);
	for (size_t i = 0; i < now->n_lines; i++)
		if (!has_line(before, now->lines[i]))
			fprintf(m, "  + %s\n", now->lines[i]);
	fclose(m);
	if (!len) {
		free(buf);
		return NULL;
	}
	return buf;
}

void audit_state_free(struct audit_state *s)
{
	for (size_t i = 0; i < s->n_lines; i++)
		free(s->lines[i]);
	free(s->lines);
	free(s->summary);
	free(s->time);
	*s = (struct audit_state){ 0 };
}
