/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The --show-route report. Both formats print from one view of the result
 * and one sequence of print calls (print.h): the text is `ip route get`'s
 * line and the decision under it, the JSON design.md's "route" object; what
 * one of them leaves out is marked PRINT_TEXT or PRINT_JSON. */
#include "config.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/print.h"
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

/* ---- the report ------------------------------------------------------------- */

static const char *or_null(const char *s)
{
	return s && *s ? s : NULL;
}

/* Text only: the result as `ip route get` prints it, with the packet's
 * source and input device (the JSON has them in "packet"). */
static void print_route_line(struct printer *f, const struct route_report *rep, const struct route_result *res,
			     const struct route_view *v)
{
	const struct route_packet *p = rep->packet;
	char a[CG_ADDRSTRLEN], b[IFNAMSIZ + 8];

	addr_to_string(&p->dst, a);
	if (res->error) {
		if (res->no_route)
			print_text(f, "%s: no route (%s)\n", a, v->error);
		else if (res->type == RTN_UNSPEC)
			print_text(f, "%s: %s\n", a, v->error);
		else
			print_text(f, "%s %s: %s\n", v->type, a, v->error);
		return;
	}
	if (res->type != RTN_UNICAST)
		print_text(f, "%s ", v->type);
	print_text(f, "%s", a);
	if (p->src.family)
		print_text(f, " from %s", addr_to_string(&p->src, a));
	if (v->gateway[0])
		print_text(f, " via %s", v->gateway);
	if (v->dev[0])
		print_text(f, " dev %s", v->dev);
	if (v->table[0])
		print_text(f, " table %s", v->table);
	if (v->source[0] && !res->input)
		print_text(f, " src %s", v->source);
	if (p->iif)
		print_text(f, " iif %s", route_ifname(rep->st, p->iif, b));
	print_text(f, "\n");
}

/* The rule that decided, known to the user-space lookup only (with_rule):
 * "decided by rule 100 (table 52): unicast route 100.64.0.0/10 metric 0". */
static void print_decision(struct printer *f, const struct route_report *rep, const struct route_result *res,
			   const struct route_view *v, bool with_rule)
{
	const bool by_rule = with_rule && res->rule >= 0;
	const bool to_route = res->rule_action == FR_ACT_TO_TBL && res->route >= 0;

	if (by_rule)
		print_int64(f, PRINT_ANY, "rule_priority", "    decided by rule %" PRId64, res->rule_priority);
	else
		print_null(f, PRINT_JSON, "rule_priority", NULL);
	if (by_rule && to_route)
		print_text(f, " (table %s): %s route %s metric %u\n", v->table[0] ? v->table : "?",
			   route_type_to_string(rep->st->routes[res->route].type), v->prefix, res->metric);
	print_string(f, by_rule && !to_route ? PRINT_ANY : PRINT_JSON, "rule", ": %s\n",
		     with_rule ? or_null(v->rule) : NULL);
	if (with_rule && res->rule < 0 && res->no_route)
		print_text(f, "    no rule found a route\n");
}

/* The nexthops: all of them in JSON, in text those of a multipath route. */
static void print_hops(struct printer *f, const struct route_report *rep, const struct route_result *res,
		       bool text)
{
	const enum print_type t = text && res->n_hops > 1 ? PRINT_ANY : PRINT_JSON;
	char n[IFNAMSIZ + 8], g[CG_ADDRSTRLEN];

	open_json_array(f, "nexthops");
	for (unsigned i = 0; i < res->n_hops; i++) {
		const struct route_hop *h = &res->hops[i];
		const char *gw = h->gateway.family ? addr_to_string(&h->gateway, g) : NULL;
		open_json_object(f, NULL);
		if (t & PRINT_TEXT)
			print_text(f, "    nexthop%s%s", gw ? " via " : "", gw ? gw : "");
		print_string(f, t, "dev", " dev %s", route_ifname(rep->st, h->ifindex, n));
		print_string(f, PRINT_JSON, "gateway", NULL, gw);
		print_uint(f, t, "weight", " weight %u", h->weight);
		print_bool(f, PRINT_JSON, "dead", NULL, h->flags & RTNH_F_DEAD);
		if (t & PRINT_TEXT)
			print_text(f, "%s\n", (h->flags & RTNH_F_DEAD) ? " dead" : h->usable ? "" : " (not a candidate)");
		close_json_object(f);
	}
	close_json_array(f);
}

/* What the dumped state cannot decide: JSON lists the parts (design.md's
 * names), text names them on one line. */
static void print_uncertain(struct printer *f, const struct route_result *res, bool text)
{
	static const struct {
		unsigned flag;
		const char *name;
	} json_parts[] = {
		{ ROUTE_UNCERTAIN_RESULT, "outcome" }, { ROUTE_UNCERTAIN_DEV, "dev" },
		{ ROUTE_UNCERTAIN_SOURCE, "source" }, { ROUTE_UNCERTAIN_TABLE, "table" },
		{ ROUTE_UNCERTAIN_TYPE, "type" },
	};
	const unsigned u = res->uncertain;

	open_json_array(f, "uncertain");
	for (size_t i = 0; i < ARRAY_SIZE(json_parts); i++)
		if (u & json_parts[i].flag)
			print_string(f, PRINT_JSON, NULL, NULL, json_parts[i].name);
	close_json_array(f);
	print_string(f, PRINT_JSON, "uncertain_reason", NULL, or_null(res->uncertain_why));
	if (text && u)
		print_text(f, "    uncertain:%s%s%s%s%s (%s)\n", u & ROUTE_UNCERTAIN_RESULT ? " outcome" : "",
			   u & ROUTE_UNCERTAIN_TYPE ? " type" : "", u & ROUTE_UNCERTAIN_DEV ? " device" : "",
			   u & ROUTE_UNCERTAIN_SOURCE ? " source" : "", u & ROUTE_UNCERTAIN_TABLE ? " table" : "",
			   res->uncertain_why ? res->uncertain_why : "");
}

/* The rules the lookup walked: JSON always, text with -v. */
static void print_trace(struct printer *f, const struct route_report *rep, const struct route_result *res)
{
	const enum print_type t = rep->verbosity > 0 ? PRINT_ANY : PRINT_JSON;
	char rule[256];

	open_json_array(f, "trace");
	for (unsigned i = 0; i < res->n_steps; i++) {
		const struct route_step *s = &res->steps[i];
		const struct route_rule *r = &rep->st->rules[s->rule];
		route_rule_format(rep->st, r, rule, sizeof(rule));
		open_json_object(f, NULL);
		print_int64(f, PRINT_JSON, "rule_priority", NULL, r->priority);
		if (t & PRINT_TEXT)
			print_text(f, "    trace: %-16s", route_step_kind_to_string(s->kind));
		print_string(f, t, "rule", " %s\n", rule);
		print_string(f, PRINT_JSON, "result", NULL, route_step_kind_to_string(s->kind));
		close_json_object(f);
	}
	close_json_array(f);
	if (res->steps_truncated && (t & PRINT_TEXT))
		print_text(f, "    trace: ... (truncated)\n");
}

/* One result as an object under key. The user-space lookup's (with_rule)
 * also says which rule decided and how it got there; the text shows its
 * line (line_prefix: before it, NULL: no line) and, for the lookup, the
 * decision and notes under it. */
static void print_result(struct printer *f, const struct route_report *rep, const struct route_result *res,
			 const char *key, bool with_rule, const char *line_prefix)
{
	const enum print_type t = with_rule ? PRINT_ANY : PRINT_JSON;
	struct route_view v;

	view_make(rep, res, &v);
	if (line_prefix) {
		print_text(f, "%s", line_prefix);
		print_route_line(f, rep, res, &v);
	}
	open_json_object(f, key);
	print_string(f, PRINT_JSON, "type", NULL, v.type);
	print_string(f, PRINT_JSON, "table", NULL, or_null(v.table));
	print_decision(f, rep, res, &v, with_rule);
	print_string(f, PRINT_JSON, "dev", NULL, or_null(v.dev));
	print_string(f, PRINT_JSON, "gateway", NULL, or_null(v.gateway));
	print_string(f, PRINT_JSON, "source", NULL, or_null(v.source));
	print_string(f, PRINT_JSON, "prefix", NULL, or_null(v.prefix));
	if (res->have_prefix)
		print_int64(f, PRINT_JSON, "metric", NULL, res->metric);
	else
		print_null(f, PRINT_JSON, "metric", NULL);
	print_string(f, PRINT_JSON, "error", NULL, or_null(v.error));
	print_string(f, PRINT_JSON, "errno", NULL, or_null(v.errno_name));
	print_string(f, t, "reason", "    note: %s\n", or_null(res->reason));
	if (with_rule && res->tables_merged && rep->verbosity > 0)
		print_text(f, "    note: no IPv4 rule was ever added here, so the kernel searches tables local "
			      "and main as one (and reports table main)\n");
	print_hops(f, rep, res, with_rule);
	print_uncertain(f, res, with_rule);
	if (with_rule)
		print_trace(f, rep, res);
	close_json_object(f);
}

/* JSON: a selector the packet does not have (0) is null. */
static void print_number_or_null(struct printer *f, const char *key, unsigned v)
{
	if (v)
		print_uint(f, PRINT_JSON, key, NULL, v);
	else
		print_null(f, PRINT_JSON, key, NULL);
}

/* JSON only: the question (the text shows it in the route line). */
static void print_packet(struct printer *f, const struct route_report *rep)
{
	const struct route_packet *p = rep->packet;
	char a[CG_ADDRSTRLEN], n[IFNAMSIZ + 8];

	open_json_object(f, "packet");
	print_string(f, PRINT_JSON, "source", NULL, p->src.family ? addr_to_string(&p->src, a) : NULL);
	print_int64(f, PRINT_JSON, "mark", NULL, p->mark);
	print_string(f, PRINT_JSON, "iif", NULL, p->iif ? route_ifname(rep->st, p->iif, n) : NULL);
	print_string(f, PRINT_JSON, "oif", NULL, p->oif ? route_ifname(rep->st, p->oif, n) : NULL);
	if (p->uid_set)
		print_int64(f, PRINT_JSON, "uid", NULL, p->uid);
	else
		print_null(f, PRINT_JSON, "uid", NULL);
	print_number_or_null(f, "ipproto", p->ipproto);
	print_number_or_null(f, "sport", p->sport);
	print_number_or_null(f, "dport", p->dport);
	close_json_object(f);
}

int route_report_print(FILE *out, enum cg_format format, const struct route_report *rep)
{
	struct printer f;
	char a[CG_ADDRSTRLEN], w[4][512];
	size_t nw = route_report_warnings(rep, w, ARRAY_SIZE(w));

	print_init(&f, out, format, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE, 0);
	print_string(&f, PRINT_JSON, "destination", NULL, addr_to_string(&rep->packet->dst, a));
	print_packet(&f, rep);
	print_result(&f, rep, rep->sim, "route", true, "");
	if (rep->kernel) {
		bool agree = route_result_agrees(rep->sim, rep->kernel, NULL, 0);
		if (agree)
			print_text(&f, "    kernel agrees\n");
		print_result(&f, rep, rep->kernel, "kernel", false, agree ? NULL : "    kernel: ");
		print_bool(&f, PRINT_JSON, "agree", NULL, agree);
	} else {
		print_text(&f, "    (offline: the kernel was not asked)\n");
		print_null(&f, PRINT_JSON, "kernel", NULL);
		print_null(&f, PRINT_JSON, "agree", NULL);
	}
	open_json_array(&f, "warnings");
	for (size_t i = 0; i < nw; i++)
		print_string(&f, PRINT_ANY, NULL, "warning: %s\n", w[i]);
	close_json_array(&f);
	return print_finish(&f);
}
