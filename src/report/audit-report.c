/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit's report: text for an operator at a shell (one screen, colour on
 * a terminal only), JSON for scripts and monitoring (schema 1, through
 * json-c). */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <json-c/json.h>
#include <linux/netfilter.h>
#include <string.h>
#include <unistd.h>

#include "cgnatcheck/audit-report.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/fix.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/nft-text.h"

/* ---- rules ---------------------------------------------------------------- */

/* The rule in its backend's own syntax (malloc'd). */
static char *rule_text(const struct cg_rule *r)
{
	if (r->chain->table->backend == CG_BACKEND_NFTABLES)
		return nft_rule_to_string(r);
	return ipt_rule_to_string(r);
}

static struct json_object *json_rule(const struct cg_rule *r)
{
	struct json_object *o;
	const struct cg_chain *c;
	char *text;

	if (!r)
		return NULL;
	c = r->chain;
	o = json_object_new_object();
	json_object_object_add(o, "backend", json_object_new_string(backend_to_string(c->table->backend)));
	json_object_object_add(o, "family", json_object_new_string(family_to_string(c->table->family)));
	json_object_object_add(o, "table", json_object_new_string(c->table->name));
	json_object_object_add(o, "chain", json_object_new_string(c->name));
	json_object_object_add(o, "index", json_object_new_int64(r->index));
	json_object_object_add(o, "handle", r->handle ? json_object_new_int64((int64_t)r->handle) : NULL);
	text = rule_text(r);
	json_object_object_add(o, "text", json_object_new_string(text ? text : ""));
	free(text);
	return o;
}

static struct json_object *json_chain_policy(const struct cg_chain *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "backend", json_object_new_string(backend_to_string(c->table->backend)));
	json_object_object_add(o, "family", json_object_new_string(family_to_string(c->table->family)));
	json_object_object_add(o, "table", json_object_new_string(c->table->name));
	json_object_object_add(o, "chain", json_object_new_string(c->name));
	json_object_object_add(o, "policy", json_object_new_string(verdict_to_string(c->policy)));
	return o;
}

/* ---- targets -------------------------------------------------------------- */

static struct json_object *json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *json_route(const struct audit *a, const struct audit_target *t)
{
	struct json_object *o = json_object_new_object();
	const struct route_result *k = &t->route, *s = &t->route_sim;
	char buf[CG_ADDRSTRLEN], tb[16], n[IFNAMSIZ + 8];

	json_object_object_add(o, "table", k->table ? json_object_new_string(route_table_to_string(k->table, tb)) : NULL);
	/* the kernel does not say which rule decided; the lookup over the
	 * dumped rules does, when the two agree */
	json_object_object_add(o, "rule_priority", t->route_agrees && s->rule >= 0 ?
			       json_object_new_int64(s->rule_priority) : NULL);
	json_object_object_add(o, "dev", k->ifindex ? json_object_new_string(route_ifname(&a->routes, k->ifindex, n)) : NULL);
	json_object_object_add(o, "gateway", k->gateway.family ? json_object_new_string(addr_to_string(&k->gateway, buf)) : NULL);
	json_object_object_add(o, "source", k->source.family ? json_object_new_string(addr_to_string(&k->source, buf)) : NULL);
	json_object_object_add(o, "type", json_object_new_string(route_type_to_string(k->type)));
	json_object_object_add(o, "error", k->error ? json_object_new_string(strerror(-k->error)) : NULL);
	json_object_object_add(o, "agrees_with_lookup", json_object_new_boolean(t->route_agrees));
	return o;
}

static struct json_object *json_step(const struct sim_step *s, uint32_t hook, uint8_t nfproto)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "hook", json_object_new_string(hook_to_string(nfproto, hook)));
	if (s->kind == SIM_STEP_RULE && s->rule) {
		json_object_object_add(o, "rule", json_rule(s->rule));
	} else {
		json_object_object_add(o, "chain", s->chain ? json_chain_policy(s->chain) : NULL);
	}
	json_object_object_add(o, "step", json_object_new_string(s->kind == SIM_STEP_RULE ? "rule" :
								   s->kind == SIM_STEP_POLICY ? "policy" : "return"));
	json_object_object_add(o, "verdict", json_object_new_string(verdict_to_string(s->verdict)));
	if (s->unknown)
		json_object_object_add(o, "unknown", json_object_new_string(s->unknown_what ? s->unknown_what : "?"));
	return o;
}

/* One direction of the conversation: its legs' verdict, the rule that
 * decided and every step through the hooks. */
static struct json_object *json_direction(const struct audit_target *t, bool opener)
{
	struct json_object *o = json_object_new_object(), *trace = json_object_new_array();
	enum sim_leg legs[2] = { opener ? SIM_LEG_REQUEST : SIM_LEG_REPLY,
				 opener ? SIM_LEG_REQUEST_EST : SIM_LEG_REPLY_DATA };
	enum sim_verdict v = opener ? t->sim.request : t->sim.reply;
	const struct cg_rule *by = NULL;
	const struct cg_chain *policy = NULL;

	for (int i = 0; i < 2; i++) {
		const struct sim_leg_result *lr = &t->sim.legs[legs[i]];
		if (!lr->present)
			continue;
		for (int h = 0; h < 2; h++) {
			const struct hook_result *hr = &lr->res[h];
			for (uint32_t k = 0; k < hr->trace.n; k++)
				json_object_array_add(trace, json_step(&hr->trace.steps[k], lr->hooks[h], lr->pkt.nfproto));
			if (h == lr->deciding_hook && !by && !policy && lr->verdict != SIM_ACCEPT) {
				by = hr->decided_by;
				policy = hr->decided_by ? NULL : hr->policy_chain;
			}
			if (h == lr->deciding_hook)
				break;
		}
	}
	json_object_object_add(o, "verdict", json_object_new_string(sim_verdict_to_string(v)));
	json_object_object_add(o, "decided_by", json_rule(by));
	if (policy)
		json_object_object_add(o, "decided_by_policy", json_chain_policy(policy));
	json_object_object_add(o, "trace", trace);
	return o;
}

static struct json_object *json_target(const struct audit *a, const struct audit_target *t)
{
	struct json_object *o = json_object_new_object();
	char buf[CG_ADDRSTRLEN];

	json_object_object_add(o, "address", json_object_new_string(addr_to_string(&t->addr, buf)));
	json_object_object_add(o, "proto", json_object_new_string(l4proto_to_string(t->l4proto)));
	json_object_object_add(o, "port", json_object_new_int(t->port));
	json_object_object_add(o, "role", json_object_new_string(t->role));
	json_object_object_add(o, "direction", json_object_new_string(t->inbound ? "inbound" : "outbound"));
	json_object_object_add(o, "origin", json_object_new_string(t->origin));
	json_object_object_add(o, "service", json_str(t->service));
	json_object_object_add(o, "verdict", json_object_new_string(target_verdict_to_string(t->verdict)));
	json_object_object_add(o, "route", t->routed ? json_route(a, t) : NULL);
	json_object_object_add(o, "request", t->simulated ? json_direction(t, true) : NULL);
	json_object_object_add(o, "reply", t->simulated ? json_direction(t, false) : NULL);
	if (t->probed) {
		struct json_object *po = json_object_new_object();
		json_object_object_add(po, "status", json_object_new_string(probe_status_to_string(t->probe.status)));
		json_object_object_add(po, "detail", json_object_new_string(t->probe.detail));
		json_object_object_add(po, "ms", json_object_new_double(t->probe.ms));
		json_object_object_add(po, "reached", json_object_new_boolean(probe_reached(&t->probe)));
		json_object_object_add(o, "probe", po);
	} else {
		json_object_object_add(o, "probe", NULL);
	}
	json_object_object_add(o, "blocked_by", t->verdict == TARGET_BLOCKED || t->verdict == TARGET_UNCERTAIN ?
			       json_rule(t->blocked_by) : NULL);
	if (t->verdict == TARGET_BLOCKED && t->blocked_policy)
		json_object_object_add(o, "blocked_by_policy", json_chain_policy(t->blocked_policy));
	if (t->verdict == TARGET_BLOCKED) {
		struct json_object *fx = json_object_new_object();
		struct fix_exception ex;
		const char *why = NULL;
		json_object_object_add(o, "blocked_leg", json_object_new_string(sim_leg_to_string(t->blocked_leg)));
		if (fix_plan(a, t, &ex, &why) == 0) {
			char *cmd = fix_command(&ex);
			json_object_object_add(fx, "command", json_str(cmd));
			free(cmd);
		} else {
			json_object_object_add(fx, "refused", json_str(why));
		}
		json_object_object_add(o, "fix", fx);
	}
	if (t->verdict == TARGET_UNROUTABLE)
		json_object_object_add(o, "unroutable_reason", json_str(t->unroutable_why));
	if (t->verdict == TARGET_UNCERTAIN)
		json_object_object_add(o, "uncertain_match", json_str(t->uncertain_what));
	return o;
}

static struct json_object *json_finding(const struct audit *a, const struct audit_finding *f)
{
	struct json_object *o = json_object_new_object(), *ts = json_object_new_array();
	char buf[CG_ADDRSTRLEN];

	json_object_object_add(o, "severity", json_object_new_string(finding_severity_to_string(f->severity)));
	json_object_object_add(o, "code", json_object_new_string(f->code));
	json_object_object_add(o, "message", json_object_new_string(f->message));
	json_object_object_add(o, "rule", json_rule(f->rule));
	for (size_t i = 0; i < f->n_targets; i++) {
		const char *addr = addr_to_string(&a->targets[f->targets[i]].addr, buf);
		bool dup = false;
		for (size_t k = 0; k < json_object_array_length(ts); k++)
			dup |= strcmp(json_object_get_string(json_object_array_get_idx(ts, k)), addr) == 0;
		if (!dup)
			json_object_array_add(ts, json_object_new_string(addr));
	}
	json_object_object_add(o, "targets", ts);
	return o;
}

static int report_json(FILE *out, const struct audit *a)
{
	struct json_object *root = json_object_new_object(), *targets = json_object_new_array(),
			   *findings = json_object_new_array();
	int r = 0;

	json_object_object_add(root, "schema", json_object_new_int(1));
	json_object_object_add(root, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(root, "provider", json_str(a->provider));
	for (size_t i = 0; i < a->n_targets; i++)
		json_object_array_add(targets, json_target(a, &a->targets[i]));
	json_object_object_add(root, "targets", targets);
	for (size_t i = 0; i < a->n_findings; i++)
		if (!a->opts->quiet || a->findings[i].severity > FINDING_INFO)
			json_object_array_add(findings, json_finding(a, &a->findings[i]));
	json_object_object_add(root, "findings", findings);
	struct json_object *changes = json_object_new_array();
	for (size_t i = 0; i < a->n_changes; i++) {
		const struct audit_change *c = &a->changes[i];
		struct json_object *co = json_object_new_object();
		json_object_object_add(co, "result", json_object_new_string(c->result));
		json_object_object_add(co, "target", c->target[0] ? json_object_new_string(c->target) : NULL);
		json_object_object_add(co, "command", json_str(c->command));
		json_object_object_add(co, "message", json_object_new_string(c->message));
		json_object_object_add(co, "before", json_str(c->before));
		json_object_object_add(co, "after", json_str(c->after));
		json_object_array_add(changes, co);
	}
	json_object_object_add(root, "changes", changes);
	json_object_object_add(root, "exit_status", json_object_new_int(audit_exit_status(a)));
	if (fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE), out) < 0 ||
	    fputc('\n', out) == EOF)
		r = -EIO;
	json_object_put(root);
	return r;
}

/* ---- text ----------------------------------------------------------------- */

struct style {
	const char *bold, *red, *yellow, *green, *dim, *reset;
};

static struct style style_for(FILE *out)
{
	const char *term = getenv("TERM");
	bool colour = isatty(fileno(out)) && !getenv("NO_COLOR") && term && strcmp(term, "dumb") != 0;

	if (!colour)
		return (struct style){ "", "", "", "", "", "" };
	return (struct style){ "\033[1m", "\033[31m", "\033[33m", "\033[32m", "\033[2m", "\033[0m" };
}

static const char *verdict_colour(const struct style *s, enum target_verdict v)
{
	return v == TARGET_REACHABLE ? s->green : v == TARGET_UNCERTAIN ? s->yellow : s->red;
}

static void text_rule(FILE *out, const struct style *s, const char *indent, const struct cg_rule *r,
		      const struct cg_chain *policy)
{
	if (r) {
		const struct cg_chain *c = r->chain;
		char *text = rule_text(r);
		fprintf(out, "%s%s %s %s, chain %s, rule %u", indent, backend_to_string(c->table->backend),
			family_to_string(c->table->family), c->table->name, c->name, r->index);
		if (r->handle && c->table->backend != CG_BACKEND_IPTABLES_LEGACY)
			fprintf(out, " (handle %llu)", (unsigned long long)r->handle);
		fprintf(out, ":\n%s  %s%s%s\n", indent, s->bold, text ? text : "?", s->reset);
		free(text);
	} else if (policy) {
		fprintf(out, "%sthe %s policy of %s %s %s, chain %s\n", indent, verdict_to_string(policy->policy),
			backend_to_string(policy->table->backend), family_to_string(policy->table->family),
			policy->table->name, policy->name);
	}
}

static void text_route(FILE *out, const struct audit *a, const struct audit_target *t)
{
	const struct route_result *k = &t->route;
	char buf[CG_ADDRSTRLEN], tb[16], n[IFNAMSIZ + 8];

	fprintf(out, "      route: ");
	if (k->error) {
		fprintf(out, "%s", strerror(-k->error));
	} else {
		fprintf(out, "%s", route_type_to_string(k->type));
		if (k->ifindex)
			fprintf(out, " dev %s", route_ifname(&a->routes, k->ifindex, n));
		if (k->gateway.family)
			fprintf(out, " via %s", addr_to_string(&k->gateway, buf));
		if (k->source.family)
			fprintf(out, " src %s", addr_to_string(&k->source, buf));
	}
	if (k->table)
		fprintf(out, ", table %s", route_table_to_string(k->table, tb));
	if (t->route_agrees && t->route_sim.rule >= 0)
		fprintf(out, " (ip rule %u)", t->route_sim.rule_priority);
	fputc('\n', out);
}

static void text_fix(FILE *out, const struct style *s, const struct audit *a, const struct audit_target *t)
{
	struct fix_exception ex;
	const char *why = NULL;

	if (fix_plan(a, t, &ex, &why) < 0) {
		fprintf(out, "      no precise exception: %s\n", why);
		return;
	}
	_cleanup_free_ char *cmd = fix_command(&ex);
	fprintf(out, "      the exception --fix would add:\n        %s%s%s\n", s->green, cmd ? cmd : "?", s->reset);
}

static void text_target(FILE *out, const struct style *s, const struct audit *a, const struct audit_target *t)
{
	char label[192], buf[CG_ADDRSTRLEN];

	if (t->inbound)
		snprintf(label, sizeof(label), "%s from %s to port %u/%s", t->role, addr_to_string(&t->addr, buf),
			 t->port, l4proto_to_string(t->l4proto));
	else
		snprintf(label, sizeof(label), "%s %s %u/%s", t->role, addr_to_string(&t->addr, buf), t->port,
			 l4proto_to_string(t->l4proto));
	fprintf(out, "  %s%-10s%s %s  %s(%s)%s\n", verdict_colour(s, t->verdict),
		target_verdict_to_string(t->verdict), s->reset, label, s->dim, t->origin, s->reset);
	if (a->opts->quiet && t->verdict == TARGET_REACHABLE)
		return;
	if (t->routed)
		text_route(out, a, t);
	if (t->probed)
		fprintf(out, "      probe: %s%s%s (%s), %.0f ms\n", probe_reached(&t->probe) ? s->green : s->yellow,
			probe_status_to_string(t->probe.status), s->reset, t->probe.detail, t->probe.ms);
	switch (t->verdict) {
	case TARGET_BLOCKED:
		fprintf(out, "      request: %s, reply: %s; the %s is dropped by\n",
			sim_verdict_to_string(t->sim.request), sim_verdict_to_string(t->sim.reply),
			sim_leg_to_string(t->blocked_leg));
		text_rule(out, s, "        ", t->blocked_by, t->blocked_policy);
		text_fix(out, s, a, t);
		break;
	case TARGET_UNROUTABLE:
		fprintf(out, "      %s\n", t->unroutable_why);
		break;
	case TARGET_UNCERTAIN:
		fprintf(out, "      cannot be decided: %s in\n", t->uncertain_what ? t->uncertain_what : "a match");
		text_rule(out, s, "        ", t->blocked_by, NULL);
		break;
	case TARGET_REACHABLE:
	default:
		break;
	}
}

static int report_text(FILE *out, const struct audit *a)
{
	struct style s = style_for(out);
	size_t bad = 0, warn = 0;

	for (size_t i = 0; i < a->n_targets; i++)
		bad += a->targets[i].verdict != TARGET_REACHABLE;
	for (size_t i = 0; i < a->n_findings; i++)
		warn += a->findings[i].severity > FINDING_INFO;
	if (a->opts->quiet && !bad && !warn && !a->n_changes)
		return 0;

	if (!a->opts->quiet) {
		fprintf(out, "%scgnatcheck %s%s: %zu target%s, %zu with a problem", s.bold, PACKAGE_VERSION, s.reset,
			a->n_targets, a->n_targets == 1 ? "" : "s", bad);
		if (a->provider)
			fprintf(out, "; provider %s", a->provider);
		fputs("\n\n", out);
	}
	for (size_t i = 0; i < a->n_targets; i++)
		if (!a->opts->quiet || a->targets[i].verdict != TARGET_REACHABLE)
			text_target(out, &s, a, &a->targets[i]);
	bool header = false;
	for (size_t i = 0; i < a->n_findings; i++) {
		const struct audit_finding *f = &a->findings[i];
		if (a->opts->quiet && f->severity == FINDING_INFO)
			continue;
		if (!header) {
			fputs("\nFindings:\n", out);
			header = true;
		}
		const char *c = f->severity == FINDING_CRITICAL ? s.red : f->severity == FINDING_WARNING ? s.yellow : s.dim;
		fprintf(out, "  %s%-8s%s %s: %s\n", c, finding_severity_to_string(f->severity), s.reset, f->code,
			f->message);
		if (f->rule && strcmp(f->code, "TARGET_BLOCKED") != 0)
			text_rule(out, &s, "           ", f->rule, NULL);
	}
	if (a->n_changes)
		fputs("\nChanges:\n", out);
	for (size_t i = 0; i < a->n_changes; i++) {
		const struct audit_change *c = &a->changes[i];
		fprintf(out, "  %-9s %s", c->result, c->message);
		if (c->before && c->after)
			fprintf(out, " (%s: %s -> %s)", c->target, c->before, c->after);
		fputc('\n', out);
		if (c->command)
			fprintf(out, "            %s\n", c->command);
	}
	return ferror(out) ? -EIO : 0;
}

int audit_report_print(FILE *out, enum cg_format format, const struct audit *a)
{
	return format == CG_FORMAT_JSON ? report_json(out, a) : report_text(out, a);
}
