/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The --show-route report. Both formats print from one view of the result,
 * so text and JSON cannot drift apart. */
#include "config.h"

#include <json-c/json.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-report.h"
#include "cgnatcheck/route.h"

/* The printable parts of one result; "" when absent. */
struct route_view {
	const char *type;
	char dev[IFNAMSIZ + 8];
	char gateway[CG_ADDRSTRLEN];
	char source[CG_ADDRSTRLEN];
	char table[11];
	char prefix[CG_ADDRSTRLEN];
	char rule[256];
	const char *error;       /* strerror text */
	const char *errno_name;
};

static const char *errno_name(int err)
{
	switch (-err) {
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EACCES: return "EACCES";
	case EINVAL: return "EINVAL";
	case ENODEV: return "ENODEV";
	case EXDEV: return "EXDEV";
	default: return "error";
	}
}

static void view_make(const struct route_report *rep, const struct route_result *res, struct route_view *v)
{
	char t[11];

	*v = (struct route_view){ .type = route_type_to_string(res->type) };
	if (res->ifindex)
		snprintf(v->dev, sizeof(v->dev), "%s", route_ifname(rep->st, res->ifindex, v->dev));
	if (res->gateway.family)
		addr_to_string(&res->gateway, v->gateway);
	if (res->source.family)
		addr_to_string(&res->source, v->source);
	if (res->table)
		snprintf(v->table, sizeof(v->table), "%s", route_table_to_string(res->table, t));
	if (res->have_prefix)
		prefix_to_string(&res->prefix, v->prefix);
	if (res->rule >= 0)
		route_rule_format(rep->st, &rep->st->rules[res->rule], v->rule, sizeof(v->rule));
	if (res->error) {
		v->error = strerror(-res->error);
		v->errno_name = errno_name(res->error);
		if (res->no_route)
			v->type = "unreachable";
	}
}

static bool in_shared_space(const struct cg_addr *a)
{
	struct cg_prefix cgnat;

	prefix_parse("100.64.0.0/10", &cgnat);
	return prefix_contains(&cgnat, a);
}

static const char *route_kind(const struct route_result *r)
{
	if (!r->have_prefix)
		return "a route";
	if (r->prefix.len == 0)
		return r->table == 52 ? "an exit-node default route" : "a default route";
	if (r->prefix.len == addr_family_bits(r->prefix.addr.family))
		return "a host route for this address";
	return r->table == 52 ? "a subnet route covering this address" : "a prefix route covering this address";
}

size_t route_report_warnings(const struct route_report *rep, char w[][512], size_t max)
{
	const struct route_result *r = rep->kernel ? rep->kernel : rep->sim;
	const struct route_link *l;
	char dst[CG_ADDRSTRLEN], why[256], t[11], p[CG_ADDRSTRLEN];
	size_t n = 0;

	addr_to_string(&rep->packet->dst, dst);
	if (n < max && !r->error && in_shared_space(&rep->packet->dst) &&
	    (l = route_state_link(rep->st, r->ifindex)) && route_link_is_overlay(l)) {
		const struct route_result *s = rep->sim;
		char by[128] = "";
		if (s->rule >= 0 && !s->error && s->ifindex == r->ifindex)
			snprintf(by, sizeof(by), " by rule %u (table %s, %s %s)", s->rule_priority,
				 route_table_to_string(s->table, t), route_kind(s),
				 s->have_prefix ? prefix_to_string(&s->prefix, p) : "");
		snprintf(w[n++], 512,
			 "%s is in 100.64.0.0/10 (shared address space, where cloud providers put their "
			 "own services) but is routed into the overlay device %s%s: a provider service at "
			 "this address is not reachable while this route is in place",
			 dst, l->name, by);
	}
	if (n < max && rep->kernel && !route_result_agrees(rep->sim, rep->kernel, why, sizeof(why)))
		snprintf(w[n++], 512,
			 "the simulated lookup and the kernel disagree (%s); the kernel's answer is the one "
			 "that counts, please report this with `ip rule; ip route show table all`", why);
	return n;
}

/* ---- text ------------------------------------------------------------------- */

static void text_route_line(FILE *f, const struct route_report *rep, const struct route_result *res,
			    const struct route_view *v)
{
	const struct route_packet *p = rep->packet;
	char a[CG_ADDRSTRLEN], b[IFNAMSIZ + 8];

	addr_to_string(&p->dst, a);
	if (res->error) {
		if (res->no_route)
			fprintf(f, "%s: no route (%s)\n", a, v->error);
		else if (res->type == RTN_UNSPEC)
			fprintf(f, "%s: %s\n", a, v->error);
		else
			fprintf(f, "%s %s: %s\n", v->type, a, v->error);
		return;
	}
	if (res->type != RTN_UNICAST)
		fprintf(f, "%s ", v->type);
	fputs(a, f);
	if (p->src.family)
		fprintf(f, " from %s", addr_to_string(&p->src, a));
	if (v->gateway[0])
		fprintf(f, " via %s", v->gateway);
	if (v->dev[0])
		fprintf(f, " dev %s", v->dev);
	if (v->table[0])
		fprintf(f, " table %s", v->table);
	if (v->source[0] && !res->input)
		fprintf(f, " src %s", v->source);
	if (p->iif)
		fprintf(f, " iif %s", route_ifname(rep->st, p->iif, b));
	fputc('\n', f);
}

static void text_decision(FILE *f, const struct route_report *rep, const struct route_result *res,
			  const struct route_view *v)
{
	char n[IFNAMSIZ + 8], g[CG_ADDRSTRLEN];

	if (res->rule >= 0) {
		if (res->rule_action != FR_ACT_TO_TBL)
			fprintf(f, "    decided by rule %u: %s\n", res->rule_priority, v->rule);
		else if (res->route >= 0)
			fprintf(f, "    decided by rule %u (table %s): %s route %s metric %u\n",
				res->rule_priority, v->table[0] ? v->table : "?",
				route_type_to_string(rep->st->routes[res->route].type), v->prefix, res->metric);
		else
			fprintf(f, "    decided by rule %u: %s\n", res->rule_priority, v->rule);
	} else if (res->no_route) {
		fprintf(f, "    no rule found a route\n");
	}
	if (res->reason)
		fprintf(f, "    note: %s\n", res->reason);
	if (res->tables_merged && rep->verbosity > 0)
		fprintf(f, "    note: no IPv4 rule was ever added here, so the kernel searches tables local "
			   "and main as one (and reports table main)\n");
	if (res->n_hops > 1)
		for (unsigned i = 0; i < res->n_hops; i++) {
			const struct route_hop *h = &res->hops[i];
			fprintf(f, "    nexthop%s%s dev %s weight %u%s\n", h->gateway.family ? " via " : "",
				h->gateway.family ? addr_to_string(&h->gateway, g) : "",
				route_ifname(rep->st, h->ifindex, n), h->weight,
				(h->flags & RTNH_F_DEAD) ? " dead" : h->usable ? "" : " (not a candidate)");
		}
	if (res->uncertain)
		fprintf(f, "    uncertain:%s%s%s%s%s (%s)\n", res->uncertain & ROUTE_UNCERTAIN_RESULT ? " outcome" : "",
			res->uncertain & ROUTE_UNCERTAIN_TYPE ? " type" : "",
			res->uncertain & ROUTE_UNCERTAIN_DEV ? " device" : "",
			res->uncertain & ROUTE_UNCERTAIN_SOURCE ? " source" : "",
			res->uncertain & ROUTE_UNCERTAIN_TABLE ? " table" : "",
			res->uncertain_why ? res->uncertain_why : "");
}

static void text_trace(FILE *f, const struct route_report *rep, const struct route_result *res)
{
	char rule[256];

	for (unsigned i = 0; i < res->n_steps; i++) {
		const struct route_step *s = &res->steps[i];
		route_rule_format(rep->st, &rep->st->rules[s->rule], rule, sizeof(rule));
		fprintf(f, "    trace: %-16s %s\n", route_step_kind_to_string(s->kind), rule);
	}
	if (res->steps_truncated)
		fprintf(f, "    trace: ... (truncated)\n");
}

static int report_text(FILE *f, const struct route_report *rep)
{
	struct route_view sv, kv;
	char w[4][512];
	size_t nw;

	view_make(rep, rep->sim, &sv);
	text_route_line(f, rep, rep->sim, &sv);
	text_decision(f, rep, rep->sim, &sv);
	if (rep->verbosity > 0)
		text_trace(f, rep, rep->sim);
	if (rep->kernel) {
		if (route_result_agrees(rep->sim, rep->kernel, NULL, 0)) {
			fputs("    kernel agrees\n", f);
		} else {
			view_make(rep, rep->kernel, &kv);
			fputs("    kernel: ", f);
			text_route_line(f, rep, rep->kernel, &kv);
		}
	} else {
		fputs("    (offline: the kernel was not asked)\n", f);
	}
	nw = route_report_warnings(rep, w, ARRAY_SIZE(w));
	for (size_t i = 0; i < nw; i++)
		fprintf(f, "warning: %s\n", w[i]);
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON ------------------------------------------------------------------- */

static struct json_object *json_str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static struct json_object *json_result(const struct route_report *rep, const struct route_result *res,
				       bool with_rule)
{
	struct json_object *o = json_object_new_object(), *hops, *unc, *trace;
	struct route_view v;
	char n[IFNAMSIZ + 8], g[CG_ADDRSTRLEN], rule[256];

	view_make(rep, res, &v);
	json_object_object_add(o, "type", json_object_new_string(v.type));
	json_object_object_add(o, "table", json_str_or_null(v.table));
	json_object_object_add(o, "rule_priority",
			       with_rule && res->rule >= 0 ? json_object_new_int64(res->rule_priority) : NULL);
	json_object_object_add(o, "rule", with_rule ? json_str_or_null(v.rule) : NULL);
	json_object_object_add(o, "dev", json_str_or_null(v.dev));
	json_object_object_add(o, "gateway", json_str_or_null(v.gateway));
	json_object_object_add(o, "source", json_str_or_null(v.source));
	json_object_object_add(o, "prefix", json_str_or_null(v.prefix));
	json_object_object_add(o, "metric", res->have_prefix ? json_object_new_int64(res->metric) : NULL);
	json_object_object_add(o, "error", json_str_or_null(v.error));
	json_object_object_add(o, "errno", json_str_or_null(v.errno_name));
	json_object_object_add(o, "reason", json_str_or_null(res->reason));

	hops = json_object_new_array();
	for (unsigned i = 0; i < res->n_hops; i++) {
		const struct route_hop *h = &res->hops[i];
		struct json_object *ho = json_object_new_object();
		json_object_object_add(ho, "dev", json_object_new_string(route_ifname(rep->st, h->ifindex, n)));
		json_object_object_add(ho, "gateway", h->gateway.family ?
				       json_object_new_string(addr_to_string(&h->gateway, g)) : NULL);
		json_object_object_add(ho, "weight", json_object_new_int(h->weight));
		json_object_object_add(ho, "dead", json_object_new_boolean(h->flags & RTNH_F_DEAD));
		json_object_array_add(hops, ho);
	}
	json_object_object_add(o, "nexthops", hops);

	unc = json_object_new_array();
	if (res->uncertain & ROUTE_UNCERTAIN_RESULT)
		json_object_array_add(unc, json_object_new_string("outcome"));
	if (res->uncertain & ROUTE_UNCERTAIN_DEV)
		json_object_array_add(unc, json_object_new_string("dev"));
	if (res->uncertain & ROUTE_UNCERTAIN_SOURCE)
		json_object_array_add(unc, json_object_new_string("source"));
	if (res->uncertain & ROUTE_UNCERTAIN_TABLE)
		json_object_array_add(unc, json_object_new_string("table"));
	if (res->uncertain & ROUTE_UNCERTAIN_TYPE)
		json_object_array_add(unc, json_object_new_string("type"));
	json_object_object_add(o, "uncertain", unc);
	json_object_object_add(o, "uncertain_reason", json_str_or_null(res->uncertain_why));

	if (with_rule) {
		trace = json_object_new_array();
		for (unsigned i = 0; i < res->n_steps; i++) {
			const struct route_step *s = &res->steps[i];
			struct json_object *so = json_object_new_object();
			route_rule_format(rep->st, &rep->st->rules[s->rule], rule, sizeof(rule));
			json_object_object_add(so, "rule_priority", json_object_new_int64(rep->st->rules[s->rule].priority));
			json_object_object_add(so, "rule", json_object_new_string(rule));
			json_object_object_add(so, "result", json_object_new_string(route_step_kind_to_string(s->kind)));
			json_object_array_add(trace, so);
		}
		json_object_object_add(o, "trace", trace);
	}
	return o;
}

static struct json_object *json_packet(const struct route_report *rep)
{
	const struct route_packet *p = rep->packet;
	struct json_object *o = json_object_new_object();
	char a[CG_ADDRSTRLEN], n[IFNAMSIZ + 8];

	json_object_object_add(o, "source", p->src.family ? json_object_new_string(addr_to_string(&p->src, a)) : NULL);
	json_object_object_add(o, "mark", json_object_new_int64(p->mark));
	json_object_object_add(o, "iif", p->iif ? json_object_new_string(route_ifname(rep->st, p->iif, n)) : NULL);
	json_object_object_add(o, "oif", p->oif ? json_object_new_string(route_ifname(rep->st, p->oif, n)) : NULL);
	json_object_object_add(o, "uid", p->uid_set ? json_object_new_int64(p->uid) : NULL);
	json_object_object_add(o, "ipproto", p->ipproto ? json_object_new_int(p->ipproto) : NULL);
	json_object_object_add(o, "sport", p->sport ? json_object_new_int(p->sport) : NULL);
	json_object_object_add(o, "dport", p->dport ? json_object_new_int(p->dport) : NULL);
	return o;
}

static int report_json(FILE *f, const struct route_report *rep)
{
	struct json_object *o = json_object_new_object(), *warnings = json_object_new_array();
	char a[CG_ADDRSTRLEN], w[4][512];
	size_t nw = route_report_warnings(rep, w, ARRAY_SIZE(w));

	json_object_object_add(o, "destination", json_object_new_string(addr_to_string(&rep->packet->dst, a)));
	json_object_object_add(o, "packet", json_packet(rep));
	json_object_object_add(o, "route", json_result(rep, rep->sim, true));
	json_object_object_add(o, "kernel", rep->kernel ? json_result(rep, rep->kernel, false) : NULL);
	json_object_object_add(o, "agree", rep->kernel ?
			       json_object_new_boolean(route_result_agrees(rep->sim, rep->kernel, NULL, 0)) : NULL);
	for (size_t i = 0; i < nw; i++)
		json_object_array_add(warnings, json_object_new_string(w[i]));
	json_object_object_add(o, "warnings", warnings);
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return ferror(f) ? -EIO : 0;
}

int route_report_print(FILE *out, enum cg_format format, const struct route_report *rep)
{
	return format == CG_FORMAT_JSON ? report_json(out, rep) : report_text(out, rep);
}
