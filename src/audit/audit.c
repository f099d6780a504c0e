/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per target: the kernel's route (and the user-space lookup that explains
 * it), then the request and the reply through every hook. Then findings:
 * what is blocked or unroutable and by what, what is uncertain, and rules
 * that would drop a provider's traffic once reached (latent). */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "cgnatcheck/audit.h"
#include "cgnatcheck/collect-netfilter.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hashmap.h"

/* An ephemeral port for simulated requests when the local range is unknown. */
#define DEFAULT_LOCAL_PORT 40000
/* The provider's side of an inbound conversation. */
#define REMOTE_EPHEMERAL_PORT 45000

const char *target_verdict_to_string(enum target_verdict v)
{
	switch (v) {
	case TARGET_REACHABLE: return "reachable";
	case TARGET_BLOCKED: return "blocked";
	case TARGET_UNROUTABLE: return "unroutable";
	case TARGET_UNCERTAIN: return "uncertain";
	}
	return "?";
}

const char *finding_severity_to_string(enum finding_severity s)
{
	switch (s) {
	case FINDING_INFO: return "info";
	case FINDING_WARNING: return "warning";
	case FINDING_CRITICAL: return "critical";
	}
	return "?";
}

const char *l4proto_to_string(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : proto == IPPROTO_TCP ? "tcp" : "?";
}

struct audit_finding *audit_add_finding(struct audit *a, enum finding_severity sev, const char *code,
					const struct cg_rule *rule, const char *fmt, ...)
{
	struct audit_finding *f;
	va_list ap;

	a->findings = xreallocarray(a->findings, a->n_findings + 1, sizeof(*a->findings));
	f = &a->findings[a->n_findings++];
	memset(f, 0, sizeof(*f));
	f->severity = sev;
	snprintf(f->code, sizeof(f->code), "%s", code);
	f->rule = rule;
	va_start(ap, fmt);
	if (vasprintf(&f->message, fmt, ap) < 0)
		f->message = NULL;
	va_end(ap);
	if (!f->message)
		f->message = xstrdup(code);
	return f;
}

struct audit_change *audit_add_change(struct audit *a, const char *result, const char *target,
				      char *command, const char *fmt, ...)
{
	struct audit_change *c;
	va_list ap;

	a->changes = xreallocarray(a->changes, a->n_changes + 1, sizeof(*a->changes));
	c = &a->changes[a->n_changes++];
	memset(c, 0, sizeof(*c));
	c->result = result;
	c->command = command;
	snprintf(c->target, sizeof(c->target), "%s", target ? target : "");
	va_start(ap, fmt);
	if (vasprintf(&c->message, fmt, ap) < 0)
		c->message = NULL;
	va_end(ap);
	if (!c->message)
		c->message = xstrdup(result);
	return c;
}

void finding_add_target(struct audit_finding *f, size_t target)
{
	f->targets = xreallocarray(f->targets, f->n_targets + 1, sizeof(*f->targets));
	f->targets[f->n_targets++] = target;
}

void audit_init(struct audit *a, const struct cg_options *opts)
{
	memset(a, 0, sizeof(*a));
	a->opts = opts;
	route_state_init(&a->routes);
	a->local_port = DEFAULT_LOCAL_PORT;
}

void audit_free(struct audit *a)
{
	for (size_t i = 0; i < a->n_targets; i++)
		if (a->targets[i].simulated)
			flow_result_free(&a->targets[i].sim);
	free(a->targets);
	for (size_t i = 0; i < a->n_findings; i++) {
		free(a->findings[i].message);
		free(a->findings[i].targets);
	}
	free(a->findings);
	for (size_t i = 0; i < a->n_changes; i++) {
		free(a->changes[i].command);
		free(a->changes[i].message);
	}
	free(a->changes);
	for (size_t i = 0; i < a->n_policies; i++)
		policy_free(&a->policies[i]);
	free(a->policies);
	sim_index_free(a->index);
	ruleset_free(&a->ruleset);
	route_state_free(&a->routes);
	memset(a, 0, sizeof(*a));
}

/* ---- host facts for the simulator -------------------------------------- */

/* addrtype / fib: what an address is to this host, from its addresses. */
static int addr_type(const struct cg_addr_env *env, const struct cg_addr *addr, const char *dev)
{
	const struct route_state *st = env->userdata;

	for (size_t i = 0; i < st->n_addrs; i++) {
		const struct route_addr *ra = &st->addrs[i];
		if (!addr_equal(&ra->local, addr))
			continue;
		if (dev) {
			const struct route_link *l = route_state_link(st, ra->ifindex);
			if (!l || strcmp(l->name, dev) != 0)
				continue;
		}
		return RTN_LOCAL;
	}
	if (addr->family == AF_INET) {
		if (addr->v4.s_addr == 0xffffffff || addr->bytes[0] == 0)
			return RTN_BROADCAST;
		if ((addr->bytes[0] & 0xf0) == 0xe0)
			return RTN_MULTICAST;
		/* directed broadcast of a local subnet */
		for (size_t i = 0; i < st->n_addrs; i++) {
			const struct route_addr *ra = &st->addrs[i];
			if (ra->family != AF_INET || ra->prefixlen >= 31)
				continue;
			uint32_t mask = ra->prefixlen ? htonl(~0u << (32 - ra->prefixlen)) : 0;
			if ((addr->v4.s_addr & mask) == (ra->local.v4.s_addr & mask) &&
			    (addr->v4.s_addr | mask) == 0xffffffff)
				return RTN_BROADCAST;
		}
	} else if (addr->bytes[0] == 0xff) {
		return RTN_MULTICAST;
	}
	return RTN_UNICAST;
}

/* The middle of net.ipv4.ip_local_port_range: where the kernel picks a
 * request's source port. Rules on ephemeral ports rarely split that range. */
static uint16_t local_port(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	unsigned lo, hi;

	if (!f || fscanf(f, "%u %u", &lo, &hi) != 2 || lo == 0 || hi > 65535 || lo > hi)
		return DEFAULT_LOCAL_PORT;
	return (uint16_t)((lo + hi) / 2);
}

struct route_job {
	struct route_state *st;
	int r;
};

static void *route_job_run(void *p)
{
	struct route_job *j = p;

	j->r = route_state_collect(j->st);
	return NULL;
}

int audit_collect_state(struct audit *a)
{
	struct route_job job = { .st = &a->routes };
	pthread_t th;
	bool threaded;
	int r;

	/* The routing state and the rulesets are independent dumps over
	 * sockets of their own: read them side by side (a kube-proxy node's
	 * 100k routes take as long as a tenth of its 300k rules). */
	threaded = pthread_create(&th, NULL, route_job_run, &job) == 0;
	if (!threaded)
		route_job_run(&job);
	r = netfilter_collect(&a->ruleset);
	if (threaded)
		pthread_join(th, NULL);
	if (job.r < 0)
		return log_error_errno(job.r, "cannot audit: reading the routing state failed");
	if (r < 0)
		return log_error_errno(r, "cannot audit: reading the firewall rules failed");
	r = sim_index_build(&a->ruleset, &a->index);
	if (r < 0)
		return log_error_errno(r, "cannot audit: indexing the firewall rules failed");
	a->env = (struct cg_addr_env){ .addr_type = addr_type, .userdata = &a->routes };
	a->local_port = local_port();
	return 0;
}

/* ---- per target ---------------------------------------------------------- */

/* Is the device an overlay's (by policy, or by its kind and name)? */
static const char *overlay_of(const struct audit *a, const struct route_link *l)
{
	for (size_t i = 0; i < a->n_policies; i++)
		for (size_t j = 0; j < a->policies[i].n_overlays; j++)
			if (strcmp(a->policies[i].overlays[j].interface, l->name) == 0)
				return a->policies[i].overlays[j].name;
	return route_link_is_overlay(l) ? "an overlay" : NULL;
}

/* The service is meant to be reached over this device (quad-100 over tailscale0). */
static bool expected_on(const struct audit *a, const struct audit_target *t, const char *dev)
{
	for (size_t i = 0; i < a->n_policies; i++)
		for (size_t j = 0; j < a->policies[i].n_services; j++) {
			const struct policy_service *s = &a->policies[i].services[j];
			if (!s->interface || strcmp(s->interface, dev) != 0)
				continue;
			for (size_t k = 0; k < s->n_addrs; k++)
				if (prefix_contains(&s->addrs[k], &t->addr))
					return true;
		}
	return false;
}

static int route_target(struct audit *a, struct audit_target *t)
{
	struct route_packet *p = &t->route_pkt;
	int r;

	memset(p, 0, sizeof(*p));
	p->dst = t->addr;
	p->ipproto = t->l4proto;
	p->uid_set = true;
	if (t->inbound) {
		/* the reply's route back to the provider decides the device */
		p->sport = t->port;
		p->dport = REMOTE_EPHEMERAL_PORT;
	} else {
		p->sport = a->local_port;
		p->dport = t->port;
	}
	r = route_lookup_kernel(&a->routes, p, &t->route);
	if (r < 0)
		return r;
	r = route_lookup(&a->routes, p, &t->route_sim);
	if (r < 0)
		return r;
	t->routed = true;
	t->route_agrees = route_result_agrees(&t->route_sim, &t->route, t->route_disagreement,
					      sizeof(t->route_disagreement));
	return 0;
}

static const char *unroutable_reason(const struct route_result *r)
{
	if (r->no_route)
		return "no route";
	switch (r->type) {
	case RTN_BLACKHOLE: return "a blackhole route";
	case RTN_PROHIBIT: return "a prohibit route";
	case RTN_UNREACHABLE: return "an unreachable route";
	default: return r->reason ? r->reason : "the kernel has no route";
	}
}

static void simulate_target(struct audit *a, struct audit_target *t, const struct route_link *dev)
{
	struct sim_flow *f = &t->flow;

	memset(f, 0, sizeof(*f));
	f->nfproto = t->addr.family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	f->inbound = t->inbound;
	f->local = t->route.source;
	f->remote = t->addr;
	f->l4proto = t->l4proto;
	f->local_port = t->inbound ? t->port : a->local_port;
	f->remote_port = t->inbound ? REMOTE_EPHEMERAL_PORT : t->port;
	snprintf(f->dev.name, sizeof(f->dev.name), "%s", dev->name);
	f->dev.index = (uint32_t)dev->ifindex;
	f->dev.type = dev->type;
	f->dev.group = dev->group;
	if (simulate_flow(a->index, &a->env, f, &t->sim) < 0) {
		t->verdict = TARGET_UNCERTAIN;
		t->uncertain_what = "the simulation failed";
		return;
	}
	t->simulated = true;
	switch (t->sim.verdict) {
	case SIM_ACCEPT:
		t->verdict = TARGET_REACHABLE;
		return;
	case SIM_DROP:
		t->verdict = TARGET_BLOCKED;
		break;
	case SIM_UNCERTAIN:
	default:
		t->verdict = TARGET_UNCERTAIN;
		break;
	}
	/* the first leg (in time) that did not pass explains the verdict */
	static const enum sim_leg order[] = { SIM_LEG_REQUEST, SIM_LEG_REPLY, SIM_LEG_REQUEST_EST,
					      SIM_LEG_REPLY_DATA };
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		const struct sim_leg_result *lr = &t->sim.legs[order[i]];
		if (!lr->present || lr->deciding_hook < 0)
			continue;
		if (t->verdict == TARGET_BLOCKED && lr->verdict != SIM_DROP)
			continue;
		const struct hook_result *h = &lr->res[lr->deciding_hook];
		t->blocked_by = h->decided_by;
		t->blocked_policy = h->decided_by ? NULL : h->policy_chain;
		t->blocked_leg = order[i];
		t->uncertain_what = h->unknown_what;
		break;
	}
}

static void audit_target(struct audit *a, struct audit_target *t)
{
	const struct route_link *dev;
	char n[IFNAMSIZ + 8];

	if (t->route.error) {
		t->verdict = TARGET_UNROUTABLE;
		t->unroutable_why = unroutable_reason(&t->route);
		return;
	}
	if (t->route.type == RTN_LOCAL) {
		/* one of this host's own addresses: nothing crosses a device */
		t->verdict = TARGET_REACHABLE;
		return;
	}
	dev = route_state_link(&a->routes, t->route.ifindex);
	if (!dev) {
		t->verdict = TARGET_UNCERTAIN;
		t->uncertain_what = route_ifname(&a->routes, t->route.ifindex, n);
		return;
	}
	if (overlay_of(a, dev) && !expected_on(a, t, dev->name)) {
		t->verdict = TARGET_UNROUTABLE;
		t->unroutable_why = "routed into the overlay";
		return;
	}
	simulate_target(a, t, dev);
}

/* ---- findings ------------------------------------------------------------ */

static const char *rule_where(const struct cg_rule *r, const struct cg_chain *policy, char *buf, size_t size)
{
	const struct cg_chain *c = r ? r->chain : policy;

	if (!c)
		snprintf(buf, size, "(unknown)");
	else if (r)
		snprintf(buf, size, "%s %s %s chain %s rule %u", backend_to_string(c->table->backend),
			 family_to_string(c->table->family), c->table->name, c->name, r->index);
	else
		snprintf(buf, size, "the policy of %s %s %s chain %s", backend_to_string(c->table->backend),
			 family_to_string(c->table->family), c->table->name, c->name);
	return buf;
}

static void target_label(const struct audit_target *t, char *buf, size_t size)
{
	char a[CG_ADDRSTRLEN];

	if (t->inbound)
		snprintf(buf, size, "%s from %s to port %s/%u", t->role, addr_to_string(&t->addr, a),
			 l4proto_to_string(t->l4proto), t->port);
	else
		snprintf(buf, size, "%s %s %s/%u", t->role, addr_to_string(&t->addr, a),
			 l4proto_to_string(t->l4proto), t->port);
}

/* Targets blocked by the same rule, on the same leg, make one finding that
 * names them all. */
static bool same_block(const struct audit_target *t, const struct audit_target *u)
{
	return u->verdict == TARGET_BLOCKED && u->blocked_by == t->blocked_by &&
	       u->blocked_policy == t->blocked_policy && u->blocked_leg == t->blocked_leg;
}

static void blocked_findings(struct audit *a)
{
	char where[512], label[192];
	bool *done = xcalloc(a->n_targets + 1, sizeof(*done));

	for (size_t i = 0; i < a->n_targets; i++) {
		struct audit_target *t = &a->targets[i];
		_cleanup_free_ char *labels = NULL;
		size_t len = 0;
		FILE *m;

		if (t->verdict != TARGET_BLOCKED || done[i])
			continue;
		m = open_memstream(&labels, &len);
		if (!m)
			abort();
		for (size_t j = i; j < a->n_targets; j++)
			if (!done[j] && same_block(t, &a->targets[j])) {
				target_label(&a->targets[j], label, sizeof(label));
				fprintf(m, "%s%s", j == i ? "" : ", ", label);
			}
		fclose(m);
		rule_where(t->blocked_by, t->blocked_policy, where, sizeof(where));
		bool reply = t->blocked_leg == SIM_LEG_REPLY || t->blocked_leg == SIM_LEG_REPLY_DATA;
		struct audit_finding *f = audit_add_finding(a, FINDING_CRITICAL, "TARGET_BLOCKED", t->blocked_by,
							    "%s dropped by %s: %s", reply ? "reply" : "request",
							    where, labels);
		for (size_t j = i; j < a->n_targets; j++)
			if (!done[j] && same_block(t, &a->targets[j])) {
				done[j] = true;
				finding_add_target(f, j);
			}
	}
	free(done);
}

static void target_findings(struct audit *a)
{
	char label[192], where[512], rt[16], n[IFNAMSIZ + 8];

	blocked_findings(a);
	for (size_t i = 0; i < a->n_targets; i++) {
		struct audit_target *t = &a->targets[i];
		struct audit_finding *f;

		target_label(t, label, sizeof(label));
		switch (t->verdict) {
		case TARGET_UNROUTABLE:
			if (t->route.error)
				f = audit_add_finding(a, FINDING_CRITICAL, "TARGET_UNROUTABLE", NULL, "%s: %s",
						      label, t->unroutable_why);
			else
				f = audit_add_finding(a, FINDING_CRITICAL, "TARGET_UNROUTABLE", NULL,
						      "%s: %s: dev %s, table %s%s", label, t->unroutable_why,
						      route_ifname(&a->routes, t->route.ifindex, n),
						      route_table_to_string(t->route.table, rt),
						      t->route.table == 52 ? " (Tailscale's table: an exit node or a "
									     "subnet route covers it)" : "");
			finding_add_target(f, i);
			break;
		case TARGET_UNCERTAIN:
			rule_where(t->blocked_by, t->blocked_policy, where, sizeof(where));
			f = audit_add_finding(a, FINDING_WARNING, "VERDICT_UNCERTAIN", t->blocked_by,
					      "%s: the verdict depends on %s in %s, which the simulator cannot "
					      "evaluate", label, t->uncertain_what ? t->uncertain_what : "a match",
					      where);
			finding_add_target(f, i);
			break;
		case TARGET_BLOCKED:
		case TARGET_REACHABLE:
		default:
			break;
		}
		if (t->routed && !t->route_agrees) {
			f = audit_add_finding(a, FINDING_WARNING, "ROUTE_MODEL_DISAGREES", NULL,
					      "%s: the kernel's route and cgnatcheck's lookup differ (%s); "
					      "the verdict uses the kernel's", label, t->route_disagreement);
			finding_add_target(f, i);
		}
	}
}

static bool rule_blocks_a_target(const struct audit *a, const struct cg_rule *r)
{
	for (size_t i = 0; i < a->n_targets; i++)
		if (a->targets[i].blocked_by == r)
			return true;
	return false;
}

/* A rule that drops a target's packets in some chain, and the targets. */
struct rule_targets {
	const struct cg_rule *rule;
	const struct cg_rule *decider;   /* shadowed: the earlier rule that decides first */
	size_t *targets;
	size_t n;
};

struct rule_groups {
	struct rule_targets *v;
	size_t n;
};

static void group_add(struct rule_groups *g, const struct cg_rule *r, const struct cg_rule *decider, size_t target)
{
	struct rule_targets *e = NULL;

	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].rule == r)
			e = &g->v[i];
	if (!e) {
		g->v = xreallocarray(g->v, g->n + 1, sizeof(*g->v));
		e = &g->v[g->n++];
		*e = (struct rule_targets){ .rule = r, .decider = decider };
	}
	for (size_t i = 0; i < e->n; i++)
		if (e->targets[i] == target)
			return;
	e->targets = xreallocarray(e->targets, e->n + 1, sizeof(*e->targets));
	e->targets[e->n++] = target;
}

static void groups_free(struct rule_groups *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].targets);
	free(g->v);
}

/* A rule whose verdict drops: drop, reject, or an xt DROP/REJECT target. */
static bool exprs_drop(const struct cg_expr *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct cg_expr *e = &v[i];
		if ((e->type == CG_EXPR_IMMEDIATE && e->immediate.dreg == 0 &&
		     e->immediate.verdict.code == CG_VERDICT_DROP) || e->type == CG_EXPR_REJECT ||
		    (e->type == CG_EXPR_XT_TARGET && e->xt.name && strcmp(e->xt.name, "REJECT") == 0))
			return true;
	}
	return false;
}

static bool rule_is_drop(const struct cg_rule *r)
{
	struct cg_expr_buf eb;
	bool drop = exprs_drop(rule_exprs(r, &eb), r->n_exprs);

	expr_buf_free(&eb);
	return drop;
}

/* Whether traversing `ch` can end in a drop decided by one of its rules or
 * by a rule of a chain it jumps to; a verdict map may do either. Only such
 * chains can hold a latent or shadowed drop: the scan skips the others (a
 * kube-proxy nat table has 100k chains and not one drop). The memo holds
 * each chain's state, a byte per chain of the ruleset (a loop, which the
 * kernel refuses anyway, ends at a chain being visited). */
enum drop_state { DROP_UNKNOWN, DROP_VISITING, DROP_MAY, DROP_NEVER };

struct drop_memo {
	const struct cg_ruleset *rs;
	uint32_t *first;            /* per table: the index of its first chain */
	uint8_t *state;             /* per chain: enum drop_state */
};

static void drop_memo_init(struct drop_memo *m, const struct cg_ruleset *rs)
{
	uint32_t n = 0;

	m->rs = rs;
	m->first = xreallocarray(NULL, rs->n_tables ? rs->n_tables : 1, sizeof(*m->first));
	for (uint32_t i = 0; i < rs->n_tables; i++) {
		m->first[i] = n;
		n += rs->tables[i].n_chains;
	}
	m->state = xcalloc(n ? n : 1, 1);
}

static void drop_memo_free(struct drop_memo *m)
{
	free(m->first);
	free(m->state);
}

static bool chain_may_drop(struct drop_memo *m, const struct cg_chain *ch)
{
	const struct cg_table *t = ch->table;
	uint8_t *state;
	bool may = false;

	/* a chain outside the ruleset's tables: nothing known, assume it may */
	if (!t || t < m->rs->tables || t >= m->rs->tables + m->rs->n_tables || ch < t->chains ||
	    ch >= t->chains + t->n_chains)
		return true;
	state = &m->state[m->first[t - m->rs->tables] + (uint32_t)(ch - t->chains)];
	if (*state != DROP_UNKNOWN)
		return *state == DROP_MAY;
	*state = DROP_VISITING;
	for (uint32_t r = 0; r < ch->n_rules && !may; r++) {
		const struct cg_rule *rule = &ch->rules[r];
		struct cg_expr_buf eb;
		const struct cg_expr *ex = rule_exprs(rule, &eb);

		may = exprs_drop(ex, rule->n_exprs);
		for (uint32_t i = 0; i < rule->n_exprs && !may; i++) {
			const struct cg_expr *e = &ex[i];

			if (e->type == CG_EXPR_LOOKUP && e->lookup.dreg == NFT_REG_VERDICT)
				may = true;
			else if (e->type == CG_EXPR_IMMEDIATE && e->immediate.dreg == NFT_REG_VERDICT &&
				 (e->immediate.verdict.code == CG_VERDICT_JUMP ||
				  e->immediate.verdict.code == CG_VERDICT_GOTO))
				may = !e->immediate.verdict.chain || chain_may_drop(m, e->immediate.verdict.chain);
		}
		expr_buf_free(&eb);
	}
	*state = may ? DROP_MAY : DROP_NEVER;
	return may;
}

/* The last rule of `ch` that the traversal went through: where it stopped. */
static const struct cg_rule *last_rule_in(const struct hook_result *res, const struct cg_chain *ch)
{
	for (uint32_t i = res->trace.n; i-- > 0;) {
		const struct sim_step *s = &res->trace.steps[i];
		if (s->kind == SIM_STEP_RULE && s->rule && s->rule->chain == ch && s->verdict != CG_VERDICT_NONE)
			return s->rule;
	}
	return NULL;
}

/* What every chain does, alone, to a packet arriving from a target (its
 * reply, or its health check): a drop there is latent (reached as soon as
 * the chain is: Tailscale's nodivert mode, an accept above the jump that the
 * next restart moves below it); a drop rule that would drop it but is never
 * reached because an earlier rule of the chain decides first is shadowed. */
static void scan_chain(struct audit *a, const struct cg_chain *ch, const struct cg_packet *in, size_t ti,
		       struct rule_groups *latent, struct rule_groups *shadowed)
{
	struct cg_packet p = *in;
	struct hook_result full;

	if (evaluate_chain(ch, &p, NF_INET_LOCAL_IN, &a->env, &full) < 0)
		return;
	const struct cg_rule *d = full.decided_by;
	if (full.verdict == SIM_DROP && d) {
		if (!rule_blocks_a_target(a, d))
			group_add(latent, d, NULL, ti);
		hook_result_free(&full);
		return;
	}
	const struct cg_rule *stop = last_rule_in(&full, ch);
	hook_result_free(&full);
	if (!stop)
		return;
	for (uint32_t k = stop->index; k < ch->n_rules; k++) {
		const struct cg_rule *r = &ch->rules[k];
		struct hook_result from;
		if (!rule_is_drop(r))
			continue;
		p = *in;
		if (evaluate_chain_from(ch, k, &p, NF_INET_LOCAL_IN, &a->env, &from) < 0)
			continue;
		if (from.verdict == SIM_DROP && from.decided_by == r)
			group_add(shadowed, r, stop, ti);
		hook_result_free(&from);
	}
}

static char *labels_of(const struct audit *a, const size_t *targets, size_t n)
{
	char *buf = NULL, label[192];
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		abort();
	for (size_t i = 0; i < n; i++) {
		target_label(&a->targets[targets[i]], label, sizeof(label));
		fprintf(m, "%s%s", i ? ", " : "", label);
	}
	fclose(m);
	return buf;
}

static void latent_findings(struct audit *a)
{
	struct rule_groups latent = { 0 }, shadowed = { 0 };
	char where[512], where2[512];

	struct drop_memo memo;

	drop_memo_init(&memo, &a->ruleset);
	for (size_t i = 0; i < a->n_targets; i++) {
		const struct audit_target *t = &a->targets[i];
		if (!t->simulated)
			continue;
		const struct sim_leg_result *in = &t->sim.legs[t->inbound ? SIM_LEG_REQUEST : SIM_LEG_REPLY];
		if (!in->present)
			continue;
		for (uint32_t ti = 0; ti < a->ruleset.n_tables; ti++) {
			const struct cg_table *tb = &a->ruleset.tables[ti];
			if (tb->family != NFPROTO_INET && tb->family != in->pkt.nfproto)
				continue;
			for (uint32_t ci = 0; ci < tb->n_chains; ci++) {
				const struct cg_chain *ch = &tb->chains[ci];
				if (ch->type && strcmp(ch->type, "nat") == 0)
					continue;
				if (ch->base && ch->hook != NF_INET_LOCAL_IN && ch->hook != NF_INET_PRE_ROUTING)
					continue;
				if (!chain_may_drop(&memo, ch))
					continue;
				scan_chain(a, ch, &in->pkt, i, &latent, &shadowed);
			}
		}
	}
	for (size_t i = 0; i < latent.n; i++) {
		const struct rule_targets *g = &latent.v[i];
		_cleanup_free_ char *labels = labels_of(a, g->targets, g->n);
		rule_where(g->rule, NULL, where, sizeof(where));
		struct audit_finding *f = audit_add_finding(
			a, FINDING_WARNING, "LATENT_DROP_RULE", g->rule,
			"%s would drop the traffic of %s as soon as its chain is reached; it is not reached "
			"today (a restart of the overlay can change that)", where, labels);
		for (size_t k = 0; k < g->n; k++)
			finding_add_target(f, g->targets[k]);
	}
	for (size_t i = 0; i < shadowed.n; i++) {
		const struct rule_targets *g = &shadowed.v[i];
		_cleanup_free_ char *labels = labels_of(a, g->targets, g->n);
		rule_where(g->rule, NULL, where, sizeof(where));
		rule_where(g->decider, NULL, where2, sizeof(where2));
		struct audit_finding *f = audit_add_finding(
			a, FINDING_INFO, "SHADOWED_DROP_RULE", g->rule,
			"%s would drop the traffic of %s but is never reached for it: %s decides first",
			where, labels, where2);
		for (size_t k = 0; k < g->n; k++)
			finding_add_target(f, g->targets[k]);
	}
	groups_free(&latent);
	groups_free(&shadowed);
	drop_memo_free(&memo);
}

/* ---- Tailscale's layout ---------------------------------------------------- */

static const struct cg_chain *find_chain(const struct audit *a, uint8_t family, const char *name,
					 const struct cg_table **tb_out)
{
	for (uint32_t i = 0; i < a->ruleset.n_tables; i++) {
		const struct cg_table *tb = &a->ruleset.tables[i];
		if (tb->family != family || strcmp(tb->name, "filter") != 0)
			continue;
		for (uint32_t c = 0; c < tb->n_chains; c++)
			if (strcmp(tb->chains[c].name, name) == 0) {
				*tb_out = tb;
				return &tb->chains[c];
			}
	}
	return NULL;
}

static bool jumped_to_from_input(const struct cg_table *tb, const struct cg_chain *target)
{
	for (uint32_t c = 0; c < tb->n_chains; c++) {
		const struct cg_chain *ch = &tb->chains[c];
		if (!ch->base || ch->hook != NF_INET_LOCAL_IN)
			continue;
		for (uint32_t r = 0; r < ch->n_rules; r++) {
			struct cg_expr_buf eb;
			const struct cg_expr *ex = rule_exprs(&ch->rules[r], &eb);
			bool found = false;

			for (uint32_t e = 0; e < ch->rules[r].n_exprs && !found; e++) {
				const struct cg_expr *x = &ex[e];
				found = x->type == CG_EXPR_IMMEDIATE && x->immediate.dreg == 0 &&
					(x->immediate.verdict.code == CG_VERDICT_JUMP ||
					 x->immediate.verdict.code == CG_VERDICT_GOTO) &&
					x->immediate.verdict.chain == target;
			}
			expr_buf_free(&eb);
			if (found)
				return true;
		}
	}
	return false;
}

/* Which rule of ts-input decides for a new connection from inside
 * 100.64.0.0/10 arriving on `dev`, and with what verdict. The address is
 * one no exception names (exceptions name the provider's services). */
static const struct cg_rule *ts_input_decides(struct audit *a, const struct cg_chain *ts, const char *dev,
					      enum cg_verdict_code *v)
{
	struct cg_packet p = { .nfproto = NFPROTO_IPV4, .l4proto = IPPROTO_TCP, .sport = 40000, .dport = 9,
			       .tcp_flags = 0x02, .ct = { .state = CG_CT_NEW, .dir = 0 } };
	struct hook_result res;
	const struct cg_rule *r = NULL;

	addr_parse("100.127.255.254", &p.src);
	addr_parse("192.0.2.1", &p.dst);
	snprintf(p.iif.name, sizeof(p.iif.name), "%s", dev);
	*v = CG_VERDICT_NONE;
	if (evaluate_chain(ts, &p, NF_INET_LOCAL_IN, &a->env, &res) < 0)
		return NULL;
	r = last_rule_in(&res, ts);
	for (uint32_t i = res.trace.n; r && i-- > 0;)
		if (res.trace.steps[i].rule == r) {
			*v = res.trace.steps[i].verdict;
			break;
		}
	hook_result_free(&res);
	return r;
}

static void tailscale_findings(struct audit *a)
{
	const struct cg_table *tb;
	const struct cg_chain *ts = find_chain(a, NFPROTO_IPV4, "ts-input", &tb);
	enum cg_verdict_code vo, vt;

	if (!ts)
		return;
	const struct cg_rule *cgnat = ts_input_decides(a, ts, "eth0", &vo);
	const struct cg_rule *accept = ts_input_decides(a, ts, "tailscale0", &vt);
	bool divert = jumped_to_from_input(tb, ts);
	const char *form = vo == CG_VERDICT_DROP ? "the CGNAT drop" :
			   vo == CG_VERDICT_RETURN ? "the disable-linux-cgnat-drop-rule RETURN form" : "no CGNAT rule";
	const char *order = cgnat && accept && vt == CG_VERDICT_ACCEPT ?
			    (accept->index < cgnat->index ? "v1.98+ rule order" : "pre-1.98 rule order") : "unknown rule order";
	char where[512] = "";

	if (cgnat)
		rule_where(cgnat, NULL, where, sizeof(where));
	audit_add_finding(a, FINDING_INFO, "TAILSCALE_LAYOUT", cgnat,
			  "Tailscale's firewall: %s mode (%s), netfilter-mode %s, %s, %s%s%s. tailscaled deletes "
			  "and re-creates its chains at every start, on down/up and on mode changes: rules added "
			  "inside them, or above its jumps, do not stay where they were put",
			  tb->backend == CG_BACKEND_NFTABLES ? "nftables" : "iptables",
			  backend_to_string(tb->backend), divert ? "on" : "nodivert (no jump to ts-input)", order,
			  form, cgnat ? " at " : "", where);
}

/* ---- live probes ------------------------------------------------------------ */

#define PROBE_TIMEOUT_MS 1500

static void probe_targets(struct audit *a)
{
	for (size_t i = 0; i < a->n_targets; i++) {
		struct audit_target *t = &a->targets[i];
		/* the provider opens inbound flows: nothing this host can send */
		if (t->inbound)
			continue;
		probe_target(&t->addr, t->l4proto, t->port, t->role, PROBE_TIMEOUT_MS, &t->probe);
		t->probed = true;
	}
}

/* The live probe against the simulated verdict: an answer proves the reply
 * came back through this host's firewall; silence or an error proves the
 * opposite; a connection without an answer proves little (seed 003). */
static void probe_findings(struct audit *a)
{
	char label[192];

	for (size_t i = 0; i < a->n_targets; i++) {
		const struct audit_target *t = &a->targets[i];
		const struct probe_result *p = &t->probe;
		struct audit_finding *f = NULL;
		if (!t->probed)
			continue;
		target_label(t, label, sizeof(label));
		bool came_back = p->status == PROBE_ANSWERED || p->status == PROBE_BAD_ANSWER;
		bool stopped = p->status == PROBE_TIMEOUT || p->status == PROBE_REFUSED ||
			       p->status == PROBE_UNREACHABLE;
		bool passes = t->verdict == TARGET_REACHABLE;
		bool fails = t->verdict == TARGET_BLOCKED || t->verdict == TARGET_UNROUTABLE;

		if (p->status == PROBE_UNSUPPORTED || p->status == PROBE_ERROR)
			f = audit_add_finding(a, FINDING_INFO, "PROBE_NOT_POSSIBLE", NULL, "%s: no live probe: %s",
					      label, p->detail);
		else if (p->status == PROBE_CONNECTED_SILENT)
			f = audit_add_finding(a, FINDING_WARNING, "PROBE_INCONCLUSIVE", NULL,
					      "%s: the live probe connected but got no answer (%s): an accepted "
					      "connection alone does not prove the service works", label, p->detail);
		else if (passes && stopped)
			f = audit_add_finding(a, FINDING_CRITICAL, "PROBE_DISAGREES", NULL,
					      "%s: simulated reachable, but the live probe got %s (%s): something "
					      "outside this host's netfilter (the service, the path beyond the "
					      "gateway) or a simulator bug", label, probe_status_to_string(p->status),
					      p->detail);
		else if (fails && came_back)
			f = audit_add_finding(a, FINDING_CRITICAL, "PROBE_DISAGREES", NULL,
					      "%s: simulated %s, but the live probe got an answer (%s): a simulator "
					      "bug, or the state changed during the audit", label,
					      target_verdict_to_string(t->verdict), p->detail);
		else if (passes && p->status == PROBE_BAD_ANSWER)
			f = audit_add_finding(a, FINDING_WARNING, "PROBE_BAD_ANSWER", NULL,
					      "%s: the reply comes back, but not in the service's protocol (%s)",
					      label, p->detail);
		if (f)
			finding_add_target(f, i);
	}
}

int audit_run(struct audit *a)
{
	int r;

	for (size_t i = 0; i < a->n_targets; i++) {
		struct audit_target *t = &a->targets[i];
		r = route_target(a, t);
		if (r < 0) {
			char buf[CG_ADDRSTRLEN];
			return log_error_errno(r, "cannot audit: the kernel could not be asked for the route to %s",
					       addr_to_string(&t->addr, buf));
		}
		audit_target(a, t);
	}
	if (a->opts->probe)
		probe_targets(a);
	target_findings(a);
	if (a->opts->probe)
		probe_findings(a);
	latent_findings(a);
	tailscale_findings(a);
	return 0;
}

int audit_exit_status(const struct audit *a)
{
	bool warning = false;

	for (size_t i = 0; i < a->n_targets; i++) {
		enum target_verdict v = a->targets[i].verdict;
		if (v == TARGET_BLOCKED || v == TARGET_UNROUTABLE)
			return CG_EXIT_BLOCKED;
		if (v == TARGET_UNCERTAIN)
			warning = true;
	}
	for (size_t i = 0; i < a->n_findings; i++) {
		/* a critical finding without a blocked target: the live probe
		 * found the target cut off where the simulation did not */
		if (a->findings[i].severity == FINDING_CRITICAL)
			return CG_EXIT_BLOCKED;
		if (a->findings[i].severity >= FINDING_WARNING)
			warning = true;
	}
	return warning ? CG_EXIT_WARNING : CG_EXIT_OK;
}
