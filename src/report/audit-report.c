/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit's report: text for an operator at a shell (one screen, colour on
 * a terminal only), JSON for scripts and monitoring (schema 1). Both come
 * from one sequence of print calls (print.h); what one of them leaves out is
 * marked PRINT_TEXT or PRINT_JSON where it is printed. */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <inttypes.h>
#include <json-c/json.h>
#include <linux/netfilter.h>
#include <string.h>

#include "cgnatcheck/audit-report.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/hindex.h"
#include "cgnatcheck/remedy.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/nft-text.h"
#include "cgnatcheck/print.h"
#include "cgnatcheck/rule-counters.h"

/* ---- rules ---------------------------------------------------------------- */

/* What a report shares between its targets (one report at a time). */
struct report_cache {
	/* rules' texts, formatted once: the text report names the rule that
	 * blocks each target */
	const struct cg_rule **rules;
	char **texts;
	size_t n, cap;
	struct hindex index;
	/* the kernel's counters of the rules that block targets, read once
	 * per report (a live audit's only) */
	const struct cg_rule **counted;
	struct rule_counter *counts;
	bool *counted_ok;
	size_t n_counted;
	struct hindex counted_index;
};

static struct report_cache *cache;

struct rule_probe {
	const struct report_cache *c;
	const struct cg_rule *r;
};

static bool rule_eq(const void *ctx, size_t item)
{
	const struct rule_probe *q = ctx;

	return q->c->rules[item] == q->r;
}

static void cache_free(struct report_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->texts[i]);
	free(c->texts);
	free(c->rules);
	hindex_free(&c->index);
	free(c->counted);
	free(c->counts);
	free(c->counted_ok);
	hindex_free(&c->counted_index);
}

static bool counted_eq(const void *ctx, size_t item)
{
	const struct rule_probe *q = ctx;

	return q->c->counted[item] == q->r;
}

/* Reads the counters of the rules that drop a blocked target, each rule
 * once. Not for a replayed audit: its rules are not this kernel's. */
static void counters_read(struct report_cache *c, const struct audit *a)
{
	size_t cap = 0;

	if (a->opts->offline_host)
		return;
	for (size_t i = 0; i < a->n_targets; i++) {
		const struct audit_target *t = &a->targets[i];
		if (t->verdict != TARGET_BLOCKED || t->blind || !t->blocked_by)
			continue;
		struct rule_probe q = { c, t->blocked_by };
		uint32_t h = (uint32_t)hash_mix64((uintptr_t)t->blocked_by);
		if (hindex_find(&c->counted_index, h, counted_eq, &q) != HINDEX_NONE)
			continue;
		grow_array((void **)&c->counted, &cap, c->n_counted + 1, sizeof(*c->counted));
		c->counted[c->n_counted] = t->blocked_by;
		hindex_add(&c->counted_index, h, c->n_counted++);
	}
	if (!c->n_counted)
		return;
	c->counts = xcalloc(c->n_counted, sizeof(*c->counts));
	c->counted_ok = xcalloc(c->n_counted, sizeof(*c->counted_ok));
	rule_counters_read(c->counted, c->n_counted, c->counts, c->counted_ok);
}

/* The kernel's counter of a rule that blocks a target, or NULL when it was
 * not read (a replay, a rule without a counter that counts its drops). */
static const struct rule_counter *blocking_counter(const struct cg_rule *r)
{
	struct report_cache *c = cache;
	struct rule_probe q = { c, r };
	size_t i = hindex_find(&c->counted_index, (uint32_t)hash_mix64((uintptr_t)r), counted_eq, &q);

	return i != HINDEX_NONE && c->counted_ok[i] ? &c->counts[i] : NULL;
}

/* The rule in its backend's own syntax (the cache's, or NULL). */
static const char *rule_text(const struct cg_rule *r)
{
	struct report_cache *c = cache;
	struct rule_probe q = { c, r };
	uint32_t h = (uint32_t)hash_mix64((uintptr_t)r);
	size_t i = hindex_find(&c->index, h, rule_eq, &q);

	if (i != HINDEX_NONE)
		return c->texts[i];
	size_t cap = c->cap;
	grow_array((void **)&c->rules, &cap, c->n + 1, sizeof(*c->rules));
	grow_array((void **)&c->texts, &c->cap, c->n + 1, sizeof(*c->texts));
	c->rules[c->n] = r;
	c->texts[c->n] = r->chain->table->backend == CG_BACKEND_NFTABLES ? nft_rule_to_string(r) :
		ipt_rule_to_string(r);
	hindex_add(&c->index, h, c->n);
	return c->texts[c->n++];
}

/* "nftables ip filter, chain forward" */
static void print_chain_name(struct printer *p, enum print_type t, const struct cg_chain *c)
{
	print_string(p, t, "backend", "%s", backend_to_string(c->table->backend));
	print_string(p, t, "family", " %s", family_to_string(c->table->family));
	print_string(p, t, "table", " %s", c->table->name);
	print_string(p, t, "chain", ", chain %s", c->name);
}

/* A rule as an object under key (NULL: null), or in text where it is and
 * its own text in bold on the next line. t without PRINT_TEXT: JSON only. */
static void print_rule(struct printer *p, enum print_type t, const char *key, const char *indent,
		       const struct cg_rule *r)
{
	const bool text = t & PRINT_TEXT;
	const struct cg_chain *c;

	if (!r) {
		print_null(p, PRINT_JSON, key, NULL);
		return;
	}
	/* in JSON, a rule is the same object wherever it is named */
	if (print_reuse(p, key, &r, sizeof(r)))
		return;
	c = r->chain;
	const char *s = rule_text(r);
	open_json_object(p, key);
	if (text)
		print_text(p, "%s", indent);
	print_chain_name(p, t, c);
	print_uint(p, t, "index", ", rule %u", r->index);
	if (!r->handle)
		print_null(p, PRINT_JSON, "handle", NULL);
	else /* legacy rules have no handle to show */
		print_u64(p, c->table->backend != CG_BACKEND_IPTABLES_LEGACY ? t : PRINT_JSON, "handle",
			  " (handle %" PRIu64 ")", r->handle);
	if (text) {
		print_text(p, ":\n%s  ", indent);
		print_color_text(p, COLOR_BOLD, "%s", s ? s : "?");
		print_text(p, "\n");
	}
	print_string(p, PRINT_JSON, "text", NULL, s ? s : "");
	close_json_object(p);
	print_keep(p, &r, sizeof(r));
}

/* A chain's policy as an object under key, or in text "the drop policy of
 * ..." on a line. */
static void print_chain_policy(struct printer *p, enum print_type t, const char *key, const char *indent,
			       const struct cg_chain *c)
{
	const struct { const char *tag; const struct cg_chain *c; } id = { "policy", c };

	if (print_reuse(p, key, &id, sizeof(id)))
		return;
	open_json_object(p, key);
	if (t & PRINT_TEXT)
		print_text(p, "%sthe %s policy of ", indent, verdict_to_string(c->policy));
	print_chain_name(p, t, c);
	print_string(p, PRINT_JSON, "policy", NULL, verdict_to_string(c->policy));
	if (t & PRINT_TEXT)
		print_text(p, "\n");
	close_json_object(p);
	print_keep(p, &id, sizeof(id));
}

/* ---- targets -------------------------------------------------------------- */

/* The kernel's route for the target: "route: unicast dev eth0 via ..., table
 * main (ip rule 32766)". */
static void print_route(struct printer *p, const struct audit *a, const struct audit_target *t)
{
	const struct target_route *k = &t->route;
	/* the kernel does not say which rule decided; the lookup over the
	 * dumped rules does, when the two agree (audit.c) */
	const bool by_rule = k->rule_known;
	/* an error is all the text says */
	const enum print_type where = k->error ? PRINT_JSON : PRINT_ANY;
	char buf[CG_ADDRSTRLEN], tb[16], n[IFNAMSIZ + 8];
	const char *table = k->table ? route_table_to_string(k->table, tb) : NULL;

	open_json_object(p, "route");
	print_string(p, PRINT_JSON, "table", NULL, table);
	if (by_rule)
		print_int64(p, PRINT_JSON, "rule_priority", NULL, k->rule_priority);
	else
		print_null(p, PRINT_JSON, "rule_priority", NULL);
	print_text(p, "      route: ");
	if (k->error)
		print_text(p, "%s", strerror(-k->error));
	else
		print_text(p, "%s", route_type_to_string(k->type));
	print_string(p, where, "dev", " dev %s", k->ifindex ? route_ifname(&a->routes, k->ifindex, n) : NULL);
	print_string(p, where, "gateway", " via %s", k->gateway.family ? addr_to_string(&k->gateway, buf) : NULL);
	print_string(p, where, "source", " src %s", k->source.family ? addr_to_string(&k->source, buf) : NULL);
	print_string(p, PRINT_JSON, "type", NULL, route_type_to_string(k->type));
	print_string(p, PRINT_JSON, "error", NULL, k->error ? strerror(-k->error) : NULL);
	print_bool(p, PRINT_JSON, "agrees_with_lookup", NULL, t->route_agrees);
	print_string(p, PRINT_TEXT, NULL, ", table %s", table);
	if (by_rule)
		print_text(p, " (ip rule %u)", k->rule_priority);
	print_text(p, "\n");
	close_json_object(p);
}

/* JSON only: one step of the simulated path through the hooks. */
static void print_step(struct printer *p, const struct sim_step *s, uint32_t hook, uint8_t nfproto)
{
	open_json_object(p, NULL);
	print_string(p, PRINT_JSON, "hook", NULL, hook_to_string(nfproto, hook));
	if (s->kind == SIM_STEP_RULE && s->rule)
		print_rule(p, PRINT_JSON, "rule", NULL, s->rule);
	else if (s->chain)
		print_chain_policy(p, PRINT_JSON, "chain", NULL, s->chain);
	else
		print_null(p, PRINT_JSON, "chain", NULL);
	print_string(p, PRINT_JSON, "step", NULL, s->kind == SIM_STEP_RULE ? "rule" :
						    s->kind == SIM_STEP_POLICY ? "policy" : "return");
	print_string(p, PRINT_JSON, "verdict", NULL, verdict_to_string(s->verdict));
	if (s->unknown)
		print_string(p, PRINT_JSON, "unknown", NULL, s->unknown_what ? s->unknown_what : "?");
	close_json_object(p);
}

/* The hooks one direction of the conversation passed, in order, up to the
 * one that decided each leg. */
struct passed_hook {
	const struct sim_leg_result *leg;
	int h;                          /* index into leg->res and leg->hooks */
};

static size_t direction_hooks(const struct audit_target *t, bool opener, struct passed_hook out[4])
{
	enum sim_leg legs[2] = { opener ? SIM_LEG_REQUEST : SIM_LEG_REPLY,
				 opener ? SIM_LEG_REQUEST_EST : SIM_LEG_REPLY_DATA };
	size_t n = 0;

	for (int i = 0; i < 2; i++) {
		const struct sim_leg_result *lr = &t->sim->legs[legs[i]];
		if (!lr->present)
			continue;
		for (int h = 0; h < 2; h++) {
			out[n++] = (struct passed_hook){ lr, h };
			if (h == lr->deciding_hook)
				break;
		}
	}
	return n;
}

/* JSON only (the text report gives the verdicts and the rule that
 * decided): one direction of the conversation, its legs' verdict, the rule
 * that decided and every step through the hooks. */
static void print_direction(struct printer *p, const char *key, const struct audit_target *t, bool opener)
{
	struct passed_hook hooks[4];
	size_t n;
	const struct cg_rule *by = NULL;
	const struct cg_chain *policy = NULL;

	if (!t->simulated || !t->sim) {
		print_null(p, PRINT_JSON, key, NULL);
		return;
	}
	n = direction_hooks(t, opener, hooks);
	/* all of it comes from the outcome, which targets share (audit.h) */
	const struct { const struct flow_result *sim; bool opener; } id = { t->sim, opener };
	if (print_reuse(p, key, &id, sizeof(id)))
		return;
	for (size_t i = 0; i < n; i++) {
		const struct sim_leg_result *lr = hooks[i].leg;
		const struct hook_result *hr = &lr->res[hooks[i].h];
		if (hooks[i].h == lr->deciding_hook && !by && !policy && lr->verdict != SIM_ACCEPT) {
			by = hr->decided_by;
			policy = hr->decided_by ? NULL : hr->policy_chain;
		}
	}
	open_json_object(p, key);
	print_string(p, PRINT_JSON, "verdict", NULL, sim_verdict_to_string(opener ? t->sim->request : t->sim->reply));
	print_rule(p, PRINT_JSON, "decided_by", NULL, by);
	if (policy)
		print_chain_policy(p, PRINT_JSON, "decided_by_policy", NULL, policy);
	open_json_array(p, "trace");
	for (size_t i = 0; i < n; i++) {
		const struct sim_leg_result *lr = hooks[i].leg;
		const struct hook_result *hr = &lr->res[hooks[i].h];
		for (uint32_t k = 0; k < hr->trace.n; k++)
			print_step(p, &hr->trace.steps[k], lr->hooks[hooks[i].h], lr->pkt.nfproto);
	}
	close_json_array(p);
	close_json_object(p);
	print_keep(p, &id, sizeof(id));
}

static void print_probe(struct printer *p, const struct audit_target *t)
{
	if (!t->probed) {
		print_null(p, PRINT_JSON, "probe", NULL);
		return;
	}
	const bool reached = probe_reached(t->probe);

	open_json_object(p, "probe");
	print_text(p, "      probe: ");
	print_color_string(p, PRINT_ANY, reached ? COLOR_GREEN : COLOR_YELLOW, "status", "%s",
			   probe_status_to_string(t->probe->status));
	print_string(p, PRINT_ANY, "detail", " (%s)", t->probe->detail);
	print_double(p, PRINT_ANY, "ms", ", %.0f ms\n", t->probe->ms);
	print_bool(p, PRINT_JSON, "reached", NULL, reached);
	close_json_object(p);
}

/* The exception --fix would add for a blocked target, or why there is none. */
static void print_fix(struct printer *p, const struct audit *a, const struct audit_target *t)
{
	struct remedy ex;
	const char *why = NULL;

	open_json_object(p, "fix");
	if (remedy_plan(a, t, &ex, &why) < 0) {
		print_string(p, PRINT_ANY, "refused", "      no precise exception: %s\n", why);
	} else {
		_cleanup_free_ char *cmd = remedy_command(&ex);
		print_text(p, "      the exception --fix would add:\n        ");
		print_string(p, PRINT_JSON, "command", NULL, cmd);
		print_color_text(p, COLOR_GREEN, "%s", cmd ? cmd : "?");
		print_text(p, "\n");
	}
	close_json_object(p);
}

static enum print_color verdict_color(enum target_verdict v)
{
	return v == TARGET_REACHABLE ? COLOR_GREEN : v == TARGET_UNCERTAIN ? COLOR_YELLOW : COLOR_RED;
}

/* Marks the targets the live probe contradicts (a critical PROBE_DISAGREES
 * finding names them): the text must not call them fine. One pass over the
 * findings; malloc'd, NULL when there are no targets. */
static bool *probe_disagreements(const struct audit *a)
{
	bool *d = a->n_targets ? xcalloc(a->n_targets, sizeof(*d)) : NULL;

	for (size_t k = 0; k < a->n_findings; k++) {
		const struct audit_finding *f = &a->findings[k];
		if (f->severity != FINDING_CRITICAL || strcmp(f->code, "PROBE_DISAGREES") != 0)
			continue;
		for (size_t j = 0; j < f->n_targets; j++)
			if (f->targets[j] < a->n_targets)
				d[f->targets[j]] = true;
	}
	return d;
}

static void print_target(struct printer *p, const struct audit *a, const struct audit_target *t, bool disagrees)
{
	const char *verdict = target_verdict_to_string(t->verdict);
	char buf[CG_ADDRSTRLEN];
	const char *addr = addr_to_string(&t->addr, buf), *proto = l4proto_to_string(t->l4proto);

	open_json_object(p, NULL);
	print_string(p, PRINT_JSON, "address", NULL, addr);
	print_string(p, PRINT_JSON, "proto", NULL, proto);
	print_uint(p, PRINT_JSON, "port", NULL, t->port);
	print_string(p, PRINT_JSON, "role", NULL, t->role);
	print_string(p, PRINT_JSON, "direction", NULL, t->inbound ? "inbound" : "outbound");
	/* "  blocked    dns 100.100.100.100 53/udp  (resolv.conf)" */
	print_text(p, "  ");
	/* simulated reachable, refuted by the probe: the text says so */
	if (disagrees && t->verdict == TARGET_REACHABLE)
		print_color_string(p, PRINT_TEXT, COLOR_RED, NULL, "%-10s", "disagrees");
	else
		print_color_string(p, PRINT_TEXT, verdict_color(t->verdict), NULL, "%-10s", verdict);
	if (t->inbound)
		print_text(p, " %s from %s to port %u/%s  ", t->role, addr, t->port, proto);
	else
		print_text(p, " %s %s %u/%s  ", t->role, addr, t->port, proto);
	print_color_string(p, PRINT_ANY, COLOR_DIM, "origin", "(%s)", t->origin);
	print_text(p, "\n");
	print_string(p, PRINT_JSON, "service", NULL, t->service);
	print_string(p, PRINT_JSON, "verdict", NULL, verdict);
	if (t->routed)
		print_route(p, a, t);
	else
		print_null(p, PRINT_JSON, "route", NULL);
	print_direction(p, "request", t, true);
	print_direction(p, "reply", t, false);
	print_probe(p, t);
	print_bool(p, PRINT_JSON, "probe_disagrees", NULL, disagrees);
	if (disagrees)
		print_text(p, "      simulated %s, but the live probe says otherwise (PROBE_DISAGREES below)\n", verdict);

	/* only where one decided: a replayed audit reads none, and its report
	 * is the live one's */
	if (t->blind)
		print_string(p, PRINT_JSON, "blind_spot", NULL, t->blind->what);
	switch (t->verdict) {
	case TARGET_BLOCKED:
		if (t->blind) {
			/* outside netfilter: nothing of its rules to name */
			print_text(p, "      netfilter lets it pass; the %s is dropped outside netfilter by\n"
				   "        %s\n", sim_leg_to_string(t->blocked_leg), t->blind->what);
			print_null(p, PRINT_JSON, "blocked_by", NULL);
			print_string(p, PRINT_JSON, "blocked_leg", NULL, sim_leg_to_string(t->blocked_leg));
			print_fix(p, a, t);
			break;
		}
		print_text(p, "      request: %s, reply: %s; the %s is dropped by\n", sim_verdict_to_string(t->sim->request),
			   sim_verdict_to_string(t->sim->reply), sim_leg_to_string(t->blocked_leg));
		/* a rule or, when none decided, the chain's policy (audit.c) */
		print_rule(p, PRINT_ANY, "blocked_by", "        ", t->blocked_by);
		/* evidence, as the kernel counted it: everything the rule
		 * matched, not only this target's packets */
		const struct rule_counter *k = t->blocked_by ? blocking_counter(t->blocked_by) : NULL;
		if (k) {
			print_u64(p, PRINT_ANY, "blocked_by_packets", "        dropped %" PRIu64, k->packets);
			print_text(p, " packet%s", k->packets == 1 ? "" : "s");
			print_u64(p, PRINT_ANY, "blocked_by_bytes", " (%" PRIu64 " bytes) so far: the kernel's counter "
				  "of this rule\n", k->bytes);
		}
		if (t->blocked_policy)
			print_chain_policy(p, PRINT_ANY, "blocked_by_policy", "        ", t->blocked_policy);
		print_string(p, PRINT_JSON, "blocked_leg", NULL, sim_leg_to_string(t->blocked_leg));
		print_fix(p, a, t);
		break;
	case TARGET_UNCERTAIN:
		if (t->blind) {
			print_text(p, "      netfilter lets it pass, but its path also crosses what cgnatcheck "
				   "cannot evaluate:\n        %s\n", t->blind->what);
			print_null(p, PRINT_JSON, "blocked_by", NULL);
			print_string(p, PRINT_JSON, "uncertain_match", NULL, t->uncertain_what);
			break;
		}
		print_text(p, "      cannot be decided: %s in\n", t->uncertain_what ? t->uncertain_what : "a match");
		print_rule(p, PRINT_ANY, "blocked_by", "        ", t->blocked_by);
		print_string(p, PRINT_JSON, "uncertain_match", NULL, t->uncertain_what);
		break;
	case TARGET_UNROUTABLE:
		print_null(p, PRINT_JSON, "blocked_by", NULL);
		print_string(p, PRINT_ANY, "unroutable_reason", "      %s\n", t->unroutable_why);
		break;
	case TARGET_REACHABLE:
	default:
		print_null(p, PRINT_JSON, "blocked_by", NULL);
		break;
	}
	close_json_object(p);
}

/* ---- findings, changes ------------------------------------------------------ */

static enum print_color severity_color(enum finding_severity s)
{
	return s == FINDING_CRITICAL ? COLOR_RED : s == FINDING_WARNING ? COLOR_YELLOW : COLOR_DIM;
}

/* A finding's addresses, each once: an index of those listed so far. */
struct addr_probe {
	const struct audit *a;
	const struct audit_finding *f;
	const struct cg_addr *addr;
};

static bool addr_eq(const void *ctx, size_t item)
{
	const struct addr_probe *q = ctx;

	return addr_equal(&q->a->targets[q->f->targets[item]].addr, q->addr);
}

static uint32_t addr_hash(const struct cg_addr *a)
{
	uint64_t h = hash_fnv1a_u64(HASH_FNV1A_INIT, (uint64_t)(unsigned)a->family);

	return (uint32_t)hash_mix64(hash_fnv1a(h, a->bytes, (size_t)addr_family_len(a->family)));
}

/* The services offered over the overlays, as the units and sshd_config
 * say, with who holds each now; and the ports the operator offers (JSON
 * "overlay_services", "offered_ports"; the text shows them with -v). */
static void print_overlay_services(struct printer *p, const struct audit *a)
{
	const struct svc_report *r = &a->services;
	const bool text = a->opts->verbosity > 0 && !a->opts->quiet;
	char buf[CG_ADDRSTRLEN];
	bool header = false;

	open_json_array(p, "overlay_services");
	for (size_t i = 0; a->services_read && i < r->n_listeners; i++) {
		const struct svc_listener *l = &r->listeners[i];
		const enum print_type t = text ? PRINT_ANY : PRINT_JSON;
		if (!l->overlay_address && !l->overlay_device)
			continue;
		if (text && !header)
			print_text(p, "\nServices offered over the overlay:\n");
		header = true;
		open_json_object(p, NULL);
		print_string(p, t, "unit", "  %s", l->unit);
		print_string(p, t, "source", " %s", l->source);
		print_string(p, t, "address", " %s", l->addr.family ? addr_to_string(&l->addr, buf) : NULL);
		print_uint(p, t, "port", " port %u", l->port);
		print_string(p, t, "device", " on %s", l->ifname[0] ? l->ifname : NULL);
		print_bool(p, PRINT_JSON, "in_boot", NULL, l->in_boot);
		print_string(p, PRINT_JSON, "where", NULL, l->where);
		if (l->holder_pid) {
			print_int(p, t, "holder_pid", ": held by pid %d", l->holder_pid);
			print_string(p, t, "holder_comm", " (%s)", l->holder_comm);
			print_string(p, t, "holder_unit", " in %s", l->holder_unit[0] ? l->holder_unit : NULL);
		} else {
			print_null(p, PRINT_JSON, "holder_pid", NULL);
		}
		if (text)
			print_text(p, "\n");
		close_json_object(p);
	}
	close_json_array(p);
	open_json_array(p, "offered_ports");
	for (size_t i = 0; a->services_read && i < r->n_port_uses; i++) {
		const struct svc_port_use *u = &r->port_uses[i];
		const enum print_type t = text ? PRINT_ANY : PRINT_JSON;
		if (text && !header)
			print_text(p, "\nServices offered over the overlay:\n");
		header = true;
		open_json_object(p, NULL);
		print_string(p, t, "proto", "  %s", l4proto_to_string(u->proto));
		print_uint(p, t, "port", "/%u", u->port);
		print_bool(p, PRINT_JSON, "bound", NULL, u->bound);
		if (!u->bound) {
			print_text(p, " (--offer): nothing listens\n");
			close_json_object(p);
			continue;
		}
		print_string(p, t, "address", " (--offer) on %s", addr_to_string(&u->addr, buf));
		print_string(p, t, "device", " %s", u->ifname[0] ? u->ifname : NULL);
		print_int(p, t, "pid", ": pid %d", u->pid);
		print_string(p, t, "comm", " (%s)", u->comm);
		print_string(p, PRINT_JSON, "cmdline", NULL, u->cmdline);
		print_string(p, PRINT_JSON, "exe", NULL, u->exe);
		print_string(p, t, "unit", " in %s", u->unit[0] ? u->unit : NULL);
		print_string(p, PRINT_JSON, "cgroup", NULL, u->cgroup);
		print_string(p, t, "owner", ", should be %s's", u->owner[0] ? u->owner : NULL);
		print_bool(p, PRINT_JSON, "outside", NULL, u->outside);
		if (text)
			print_text(p, "\n");
		close_json_object(p);
	}
	close_json_array(p);
}

/* A finding about a unit of a service offered over the overlay: the unit,
 * when it bites, the cycle edge by edge and the files --fix writes (their
 * contents in JSON, and in the text with -v). */
static void print_svc(struct printer *p, const struct audit *a, const struct svc_finding *s)
{
	const bool verbose = a->opts->verbosity > 0;

	print_string(p, PRINT_JSON, "unit", NULL, s->unit);
	print_string(p, PRINT_ANY, "when", "           bites: %s\n", s->when);
	if (s->holder_pid) {
		print_int(p, PRINT_ANY, "holder_pid", "           held by pid %d", s->holder_pid);
		print_string(p, PRINT_ANY, "holder_comm", " (%s)", s->holder_comm);
		print_string(p, PRINT_ANY, "holder_unit", " in %s", s->holder_unit[0] ? s->holder_unit : NULL);
		print_text(p, "\n");
	}
	open_json_array(p, "cycle");
	for (size_t i = 0; i < s->n_cycle; i++) {
		const struct svc_step *st = &s->cycle[i];
		open_json_object(p, NULL);
		print_string(p, PRINT_ANY, "unit", "           %s", st->unit);
		print_string(p, PRINT_ANY, "waits_for", " waits for %s", st->next);
		print_string(p, PRINT_ANY, "because", ": %s", st->why);
		print_bool(p, PRINT_JSON, "systemd_sees", NULL, st->systemd_sees);
		if (!st->systemd_sees)
			print_text(p, " (systemd does not see this wait)");
		print_text(p, "\n");
		close_json_object(p);
	}
	close_json_array(p);
	print_bool(p, PRINT_JSON, "remedy_verified", NULL, s->remedy_verified);
	open_json_array(p, "remedies");
	for (size_t i = 0; i < s->n_remedies; i++) {
		const struct svc_remedy *rm = &s->remedies[i];
		open_json_object(p, NULL);
		print_string(p, PRINT_ANY, "path", "           --fix writes %s", rm->path);
		print_string(p, PRINT_ANY, "shadows", " (in place of %s)", rm->shadows);
		print_string(p, PRINT_ANY, "note", ": %s\n", rm->note);
		print_string(p, PRINT_JSON, "content", NULL, rm->content);
		/* -v: the file itself, indented */
		for (const char *l = rm->content; verbose && l && *l;) {
			const char *e = strchrnul(l, '\n');
			print_text(p, "             | %.*s\n", (int)(e - l), l);
			l = *e ? e + 1 : e;
		}
		close_json_object(p);
	}
	close_json_array(p);
}

static void print_finding(struct printer *p, const struct audit *a, const struct audit_finding *f)
{
	struct hindex seen = { 0 };
	char buf[CG_ADDRSTRLEN];

	open_json_object(p, NULL);
	print_text(p, "  ");
	print_color_string(p, PRINT_ANY, severity_color(f->severity), "severity", "%-8s",
			   finding_severity_to_string(f->severity));
	print_string(p, PRINT_ANY, "code", " %s", f->code);
	print_string(p, PRINT_ANY, "message", ": %s\n", f->message);
	/* what would make it bite (the message says it in words) */
	print_string(p, PRINT_JSON, "event", NULL, f->event);
	/* the text shows a blocked target's rule with the target already */
	print_rule(p, strcmp(f->code, "TARGET_BLOCKED") != 0 ? PRINT_ANY : PRINT_JSON, "rule", "           ", f->rule);
	open_json_array(p, "targets");
	/* the same address twice is the same text: addr_to_string() writes
	 * one form of each address of a family */
	for (size_t i = 0; print_is_json(p) && i < f->n_targets; i++) {
		const struct cg_addr *addr = &a->targets[f->targets[i]].addr;
		struct addr_probe q = { a, f, addr };
		uint32_t h = addr_hash(addr);
		if (hindex_find(&seen, h, addr_eq, &q) != HINDEX_NONE)
			continue;
		hindex_add(&seen, h, i);
		print_string(p, PRINT_JSON, NULL, NULL, addr_to_string(addr, buf));
	}
	hindex_free(&seen);
	close_json_array(p);
	if (f->svc)
		print_svc(p, a, f->svc);
	close_json_object(p);
}

static void print_change(struct printer *p, const struct audit_change *c)
{
	open_json_object(p, NULL);
	print_string(p, PRINT_ANY, "result", "  %-9s", c->result);
	print_string(p, PRINT_JSON, "target", NULL, c->target[0] ? c->target : NULL);
	print_string(p, PRINT_JSON, "command", NULL, c->command);
	print_string(p, PRINT_ANY, "message", " %s", c->message);
	print_string(p, PRINT_JSON, "before", NULL, c->before);
	print_string(p, PRINT_JSON, "after", NULL, c->after);
	print_string(p, PRINT_JSON, "file", NULL, c->file);
	if (c->before && c->after)
		print_text(p, " (%s: %s -> %s)", c->target, c->before, c->after);
	print_text(p, "\n");
	print_string(p, PRINT_TEXT, NULL, "            %s\n", c->command);
	close_json_object(p);
}

/* ---- the report --------------------------------------------------------------- */

static int report(FILE *out, enum cg_format format, const struct audit *a);

int audit_report_print(FILE *out, enum cg_format format, const struct audit *a)
{
	struct report_cache c = { 0 };
	int r;

	cache = &c;
	counters_read(&c, a);
	r = report(out, format, a);
	cache = NULL;
	cache_free(&c);
	return r;
}

static int report(FILE *out, enum cg_format format, const struct audit *a)
{
	const bool quiet = a->opts->quiet;
	struct printer p;
	size_t bad = 0, warn = 0;
	bool header = false;
	_cleanup_free_ bool *disagrees = probe_disagreements(a);

	print_init(&p, out, format, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, PRINT_F_COLOR);
	for (size_t i = 0; i < a->n_targets; i++)
		bad += a->targets[i].verdict != TARGET_REACHABLE || disagrees[i];
	for (size_t i = 0; i < a->n_findings; i++)
		warn += a->findings[i].severity > FINDING_INFO;
	/* --undo audits nothing: its text is what it removed, and with
	 * --quiet only what failed */
	const bool undo = a->opts->mode == CG_MODE_UNDO;
	size_t failed = 0;
	for (size_t i = 0; i < a->n_changes; i++)
		failed += strcmp(a->changes[i].result, "failed") == 0;
	/* --quiet and nothing to say: no text at all (JSON is always whole) */
	if (!print_is_json(&p) && quiet && !bad && !warn && (!a->n_changes || (undo && !failed)))
		return print_finish(&p);

	/* "cgnatcheck 1.0: 3 targets, 1 with a problem; provider aws" */
	const enum print_type head = quiet || undo ? PRINT_JSON : PRINT_ANY;
	print_int(&p, PRINT_JSON, "schema", NULL, 1);
	print_color_string(&p, head, COLOR_BOLD, "version", "cgnatcheck %s", PACKAGE_VERSION);
	if (!quiet && !undo)
		print_text(&p, ": %zu target%s, %zu with a problem", a->n_targets, a->n_targets == 1 ? "" : "s", bad);
	/* findings about no target (the services' boot findings): counted on
	 * their own */
	size_t other = 0;
	for (size_t i = 0; i < a->n_findings; i++)
		other += a->findings[i].severity > FINDING_INFO && !a->findings[i].n_targets;
	if (!quiet && !undo && other)
		print_text(&p, ", %zu other finding%s to act on", other, other == 1 ? "" : "s");
	print_string(&p, head, "provider", "; provider %s", a->provider);
	if (!quiet && !undo)
		print_text(&p, "\n");
	/* --replay: the state is a saved one, not this machine's */
	if (a->opts->offline_host) {
		open_json_object(&p, "offline");
		print_string(&p, PRINT_ANY, "host", "offline audit of %s", a->opts->offline_host);
		print_string(&p, PRINT_ANY, "saved_at", " saved at %s", a->opts->offline_time);
		print_string(&p, PRINT_JSON, "file", NULL, a->opts->replay_file);
		close_json_object(&p);
		print_text(&p, "\n");
	} else {
		print_null(&p, PRINT_JSON, "offline", NULL);
	}
	if (!quiet && !undo)
		print_text(&p, "\n");

	open_json_array(&p, "targets");
	for (size_t i = 0; i < a->n_targets; i++)
		/* --quiet: the text leaves out what is reachable */
		if (print_is_json(&p) || !quiet || a->targets[i].verdict != TARGET_REACHABLE || disagrees[i])
			print_target(&p, a, &a->targets[i], disagrees[i]);
	close_json_array(&p);

	/* info describes, it does not judge: the text shows it with -v */
	size_t hidden = 0;
	open_json_array(&p, "findings");
	for (size_t i = 0; i < a->n_findings; i++) {
		if (quiet && a->findings[i].severity == FINDING_INFO)
			continue;
		if (!print_is_json(&p) && a->opts->verbosity < 1 && a->findings[i].severity == FINDING_INFO) {
			hidden++;
			continue;
		}
		if (!header)
			print_text(&p, "\nFindings:\n");
		header = true;
		print_finding(&p, a, &a->findings[i]);
	}
	close_json_array(&p);
	if (hidden)
		print_text(&p, "\n%zu informational finding%s not shown (-v shows them)\n", hidden,
			   hidden == 1 ? "" : "s");

	if (!undo)
		print_overlay_services(&p, a);

	if (a->n_changes && !undo)
		print_text(&p, "\nChanges:\n");
	open_json_array(&p, "changes");
	for (size_t i = 0; i < a->n_changes; i++)
		if (print_is_json(&p) || !undo || !quiet || strcmp(a->changes[i].result, "failed") == 0)
			print_change(&p, &a->changes[i]);
	close_json_array(&p);
	print_int(&p, PRINT_JSON, "exit_status", NULL, audit_exit_status(a));
	return print_finish(&p);
}

char *audit_report_to_string(enum cg_format format, const struct audit *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		abort();
	audit_report_print(m, format, a);
	fclose(m);
	return buf;
}
