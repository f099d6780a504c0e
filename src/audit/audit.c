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
#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "cgnatcheck/audit.h"
#include "cgnatcheck/collect-netfilter.h"
#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/hindex.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/nft-text.h"

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

/* Room for element n of an array that grows only through here: doubled
 * whenever it is full (its capacity is the power of two at or above n), so
 * n appends copy at most 2n elements. */
static void *grow_by_one(void *v, size_t n, size_t size)
{
	if (n == 0 || (n & (n - 1)) == 0)
		v = xreallocarray(v, n ? 2 * n : 1, size);
	return v;
}

struct audit_finding *audit_add_finding(struct audit *a, enum finding_severity sev, const char *code,
					const struct cg_rule *rule, const char *fmt, ...)
{
	struct audit_finding *f;
	va_list ap;

	a->findings = grow_by_one(a->findings, a->n_findings, sizeof(*a->findings));
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

	a->changes = grow_by_one(a->changes, a->n_changes, sizeof(*a->changes));
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
	f->targets = grow_by_one(f->targets, f->n_targets, sizeof(*f->targets));
	f->targets[f->n_targets++] = target;
}

void audit_init(struct audit *a, const struct cg_options *opts)
{
	memset(a, 0, sizeof(*a));
	a->opts = opts;
	route_state_init(&a->routes);
	a->local_port = DEFAULT_LOCAL_PORT;
}

/* ---- shared simulation outcomes ------------------------------------------
 *
 * Targets whose packets take the same path to the same verdicts share one
 * struct flow_result: 200,000 targets of one policy service are a few
 * outcomes, where each target's own was 1.8 KB and its traces. Two outcomes
 * are the same when every field of every leg is, but for the packets'
 * addresses and ports (a leg's packet is the flow's: sim_leg_packet()). */

struct sim_outcomes {
	struct flow_result **v;
	size_t n;
	struct hindex index;
};

static uint64_t hash_step(uint64_t h, const struct sim_step *st)
{
	h = hash_fnv1a_u64(h, (uint64_t)st->kind << 40 | (uint64_t)(unsigned)st->verdict << 8 | st->unknown);
	h = hash_fnv1a_u64(h, (uintptr_t)st->chain);
	h = hash_fnv1a_u64(h, (uintptr_t)st->rule);
	return hash_fnv1a_u64(h, (uintptr_t)st->unknown_what);
}

static uint32_t outcome_hash(const struct flow_result *r)
{
	uint64_t h = hash_fnv1a_u64(HASH_FNV1A_INIT, (uint64_t)r->request << 32 | (uint64_t)r->reply << 16 | r->verdict);

	for (int l = 0; l < _SIM_LEG_MAX; l++) {
		const struct sim_leg_result *lr = &r->legs[l];
		h = hash_fnv1a_u64(h, lr->present);
		if (!lr->present)
			continue;
		h = hash_fnv1a_u64(h, (uint64_t)lr->pkt.nfproto << 32 | lr->pkt.ct.mark);
		h = hash_fnv1a_u64(h, (uint64_t)lr->hooks[0] << 32 | lr->hooks[1]);
		h = hash_fnv1a_u64(h, (uint64_t)lr->verdict << 32 | (uint32_t)lr->deciding_hook);
		for (int k = 0; k < 2; k++) {
			const struct hook_result *hr = &lr->res[k];
			h = hash_fnv1a_u64(h, (uint64_t)hr->verdict << 32 | hr->trace.n);
			h = hash_fnv1a_u64(h, (uintptr_t)hr->decided_by);
			h = hash_fnv1a_u64(h, (uintptr_t)hr->policy_chain);
			for (uint32_t i = 0; i < hr->trace.n; i++)
				h = hash_step(h, &hr->trace.steps[i]);
		}
	}
	return (uint32_t)hash_mix64(h);
}

static bool step_same(const struct sim_step *a, const struct sim_step *b)
{
	return a->kind == b->kind && a->chain == b->chain && a->rule == b->rule && a->verdict == b->verdict &&
	       a->unknown == b->unknown && a->unknown_what == b->unknown_what;
}

static bool hook_same(const struct hook_result *a, const struct hook_result *b)
{
	if (a->verdict != b->verdict || a->decided_by != b->decided_by || a->policy_chain != b->policy_chain ||
	    a->reject != b->reject || a->unknown_what != b->unknown_what || a->dnat != b->dnat ||
	    a->snat != b->snat || a->nat_port != b->nat_port || a->trace.n != b->trace.n ||
	    a->trace.truncated != b->trace.truncated)
		return false;
	if ((a->dnat || a->snat) && !addr_equal(&a->nat_addr, &b->nat_addr))
		return false;
	for (uint32_t i = 0; i < a->trace.n; i++)
		if (!step_same(&a->trace.steps[i], &b->trace.steps[i]))
			return false;
	return true;
}

static bool outcome_same(const struct flow_result *a, const struct flow_result *b)
{
	if (a->request != b->request || a->reply != b->reply || a->verdict != b->verdict)
		return false;
	for (int l = 0; l < _SIM_LEG_MAX; l++) {
		const struct sim_leg_result *x = &a->legs[l], *y = &b->legs[l];
		if (x->present != y->present)
			return false;
		if (!x->present)
			continue;
		if (x->pkt.nfproto != y->pkt.nfproto || x->pkt.ct.mark != y->pkt.ct.mark ||
		    x->hooks[0] != y->hooks[0] || x->hooks[1] != y->hooks[1] || x->verdict != y->verdict ||
		    x->deciding_hook != y->deciding_hook || x->rerouted != y->rerouted ||
		    x->dev.index != y->dev.index || x->route_why != y->route_why ||
		    x->res[0].reroute != y->res[0].reroute || !hook_same(&x->res[0], &y->res[0]) ||
		    !hook_same(&x->res[1], &y->res[1]))
			return false;
	}
	return true;
}

struct outcome_probe {
	const struct sim_outcomes *o;
	const struct flow_result *r;
};

static bool outcome_eq(const void *ctx, size_t item)
{
	const struct outcome_probe *p = ctx;

	return outcome_same(p->o->v[item], p->r);
}

/* The shared outcome equal to *r; takes what *r holds (its traces). */
static const struct flow_result *outcome_intern(struct audit *a, struct flow_result *r)
{
	struct sim_outcomes *o = a->outcomes ? a->outcomes : (a->outcomes = xcalloc(1, sizeof(*o)));
	uint32_t h = outcome_hash(r);
	struct outcome_probe probe = { o, r };
	size_t i = hindex_find(&o->index, h, outcome_eq, &probe);

	if (i != HINDEX_NONE) {
		flow_result_free(r);
		return o->v[i];
	}
	o->v = grow_by_one(o->v, o->n, sizeof(*o->v));
	o->v[o->n] = xmalloc(sizeof(*r));
	*o->v[o->n] = *r;
	memset(r, 0, sizeof(*r));
	hindex_add(&o->index, h, o->n);
	return o->v[o->n++];
}

static void outcomes_free(struct sim_outcomes *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++) {
		flow_result_free(o->v[i]);
		free(o->v[i]);
	}
	free(o->v);
	hindex_free(&o->index);
	free(o);
}

void audit_free(struct audit *a)
{
	for (size_t i = 0; i < a->n_targets; i++) {
		free(a->targets[i].route_disagreement);
		free(a->targets[i].probe);
	}
	free(a->targets);
	discovered_free(&a->discovered);
	if (a->services_read)
		svc_report_free(&a->services);
	blind_spots_free(&a->blind);
	outcomes_free(a->outcomes);
	arena_free(&a->strings);
	for (size_t i = 0; i < a->n_findings; i++) {
		free(a->findings[i].message);
		free(a->findings[i].targets);
	}
	free(a->findings);
	for (size_t i = 0; i < a->n_changes; i++) {
		free(a->changes[i].command);
		free(a->changes[i].message);
		free(a->changes[i].file);
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

const char **audit_overlay_chains(const struct audit *a, size_t *n)
{
	const char **names = NULL;

	*n = 0;
	for (size_t p = 0; p < a->n_policies; p++)
		for (size_t o = 0; o < a->policies[p].n_overlays; o++)
			for (size_t c = 0; c < a->policies[p].overlays[o].n_chains; c++) {
				names = xreallocarray(names, *n + 1, sizeof(*names));
				names[(*n)++] = a->policies[p].overlays[o].chains[c];
			}
	return names;
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
	/* nf_tables as far as packets reach in very large tables (a
	 * kube-proxy table), and the overlays' chains, which the latent
	 * passes run on their own */
	size_t n_names;
	const char **names = audit_overlay_chains(a, &n_names);
	struct nft_collect_opts nft = { .lazy = true, .lazy_min_chains = NFT_LAZY_MIN_CHAINS,
					.chains = names, .n_chains = n_names,
					.chain_cache = a->opts->nft_chains };
	r = netfilter_collect_opts(&a->ruleset, &nft);
	free(names);
	if (threaded)
		pthread_join(th, NULL);
	if (job.r < 0)
		return log_error_errno(job.r, "cannot audit: reading the routing state failed");
	if (r < 0)
		return log_error_errno(r, "cannot audit: reading the firewall rules failed");
	r = sim_index_build(&a->ruleset, &a->index);
	if (r < 0)
		return log_error_errno(r, "cannot audit: indexing the firewall rules failed");
	a->env = (struct cg_addr_env){ .addr_type = addr_type, .userdata = &a->routes, .routes = &a->routes };
	a->local_port = local_port();
	/* what else is on the path (not for a replayed audit: it would be
	 * this machine's); each reader says what it could not read */
	if (!a->opts->offline_host) {
		(void)blind_collect_bpf(&a->blind);
		(void)blind_collect_net(&a->blind);
		for (size_t i = 0; i < a->blind.n_notes; i++)
			audit_add_finding(a, FINDING_WARNING, "BLIND_SPOT_UNREADABLE", NULL, "%s",
					  a->blind.notes[i]);
		for (size_t i = 0; i < a->blind.n_infos; i++)
			audit_add_finding(a, FINDING_INFO, "BLIND_SPOT_INFO", NULL, "%s", a->blind.infos[i]);
	}
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

/* The policies' services bound to an interface (quad-100 over tailscale0),
 * indexed by interface and prefix: a target routed into an overlay is
 * looked up once per prefix length in use, where it was compared with every
 * address of every such service. */
struct overlay_service {
	const char *interface;
	struct cg_prefix prefix;      /* masked to its length */
};

struct overlay_services {
	struct overlay_service *v;
	size_t n;
	struct hindex index;
	uint8_t lens[2][129];         /* [v6][len]: a prefix of that length is there */
	bool built;
};

static uint32_t overlay_service_hash(const char *interface, const struct cg_prefix *p)
{
	uint64_t h = hash_fnv1a(HASH_FNV1A_INIT, interface, strlen(interface));

	h = hash_fnv1a_u64(h, (uint64_t)(unsigned)p->addr.family << 8 | p->len);
	h = hash_fnv1a(h, p->addr.bytes, (size_t)addr_family_len(p->addr.family));
	return (uint32_t)hash_mix64(h);
}

struct overlay_service_probe {
	const struct overlay_services *x;
	const char *interface;
	const struct cg_prefix *p;
};

static bool overlay_service_eq(const void *ctx, size_t item)
{
	const struct overlay_service_probe *q = ctx;
	const struct overlay_service *e = &q->x->v[item];

	return e->prefix.len == q->p->len && addr_equal(&e->prefix.addr, &q->p->addr) &&
	       strcmp(e->interface, q->interface) == 0;
}

static size_t overlay_service_find(const struct overlay_services *x, const char *interface,
				   const struct cg_prefix *p)
{
	struct overlay_service_probe q = { x, interface, p };

	return hindex_find(&x->index, overlay_service_hash(interface, p), overlay_service_eq, &q);
}

static void overlay_services_build(struct overlay_services *x, const struct audit *a)
{
	x->built = true;
	for (size_t i = 0; i < a->n_policies; i++)
		for (size_t j = 0; j < a->policies[i].n_services; j++) {
			const struct policy_service *s = &a->policies[i].services[j];
			if (!s->interface)
				continue;
			for (size_t k = 0; k < s->n_addrs; k++) {
				struct cg_prefix p = s->addrs[k];
				if (p.addr.family != AF_INET && p.addr.family != AF_INET6)
					continue;
				addr_mask(&p.addr, p.len);
				if (overlay_service_find(x, s->interface, &p) != HINDEX_NONE)
					continue;
				x->v = grow_by_one(x->v, x->n, sizeof(*x->v));
				x->v[x->n] = (struct overlay_service){ s->interface, p };
				hindex_add(&x->index, overlay_service_hash(s->interface, &p), x->n++);
				x->lens[p.addr.family == AF_INET6][p.len] = 1;
			}
		}
}

static void overlay_services_free(struct overlay_services *x)
{
	free(x->v);
	hindex_free(&x->index);
}

/* The service is meant to be reached over this device (quad-100 over tailscale0). */
static bool expected_on(const struct audit *a, struct overlay_services *x, const struct audit_target *t,
			const char *dev)
{
	int v6 = t->addr.family == AF_INET6;

	if (!x->built)
		overlay_services_build(x, a);
	for (unsigned len = 0; len <= (unsigned)addr_family_bits(t->addr.family); len++) {
		if (!x->lens[v6][len])
			continue;
		struct cg_prefix p = { .addr = t->addr, .len = (uint8_t)len };
		addr_mask(&p.addr, len);
		if (overlay_service_find(x, dev, &p) != HINDEX_NONE)
			return true;
	}
	return false;
}

/* ---- routes ------------------------------------------------------------------
 *
 * The kernel answers for each target's route (RTM_GETROUTE, the verdict's
 * input), and the user-space lookup over the dumped rules and tables
 * explains it; ROUTE_MODEL_DISAGREES is a target where the two differ.
 * Asking the kernel costs a netlink round trip or two, each, which 200,000
 * targets of one policy service made seconds. So the kernel is asked once
 * per route decision of the lookup: targets whose question differs only in
 * the destination (the same protocol, ports, mark, uid, interfaces) and
 * that the lookup routes the same way (the same rule, route, type, table,
 * device, gateway, source and matched prefix, nothing uncertain) are
 * answered by the kernel's answer for the first of them. When the kernel
 * disagrees with the lookup for that first one, or the lookup is
 * uncertain, every target of the decision is asked about on its own, and
 * each disagreement is reported as it is. What the report claims for a
 * target (its route, agrees_with_lookup) is thus what the kernel said for
 * one target of its decision, and exactly what it says for every target
 * where the lookup and the kernel differ once. */

struct route_decision {
	/* the key: the question but its destination, and the lookup's answer */
	struct {
		struct cg_addr src;
		uint32_t mark, uid, table, rule_priority;
		int iif, oif, error, rule, route, ifindex;
		uint16_t sport, dport;
		uint8_t ipproto, tos, type, rule_action, prefix_len;
		bool uid_set, no_route, tables_merged, have_prefix;
		struct cg_addr gateway, source, prefix;
		unsigned n_hops;
	} key;
	struct target_route kernel;   /* the kernel's answer for the first target */
	bool agrees;
};

struct route_decisions {
	struct route_decision *v;
	size_t n;
	struct hindex index;
};

/* An address as a key: its family's bytes only. */
static struct cg_addr addr_key(const struct cg_addr *a)
{
	struct cg_addr k;

	memset(&k, 0, sizeof(k));
	k.family = a->family;
	memcpy(k.bytes, a->bytes, (size_t)addr_family_len(a->family));
	return k;
}

static void decision_key(struct route_decision *d, const struct route_packet *p, const struct route_result *sim)
{
	memset(d, 0, sizeof(*d));
	d->key.src = addr_key(&p->src);
	d->key.mark = p->mark;
	d->key.uid = p->uid;
	d->key.uid_set = p->uid_set;
	d->key.iif = p->iif;
	d->key.oif = p->oif;
	d->key.sport = p->sport;
	d->key.dport = p->dport;
	d->key.ipproto = p->ipproto;
	d->key.tos = p->tos;
	d->key.error = sim->error;
	d->key.no_route = sim->no_route;
	d->key.type = sim->type;
	d->key.tables_merged = sim->tables_merged;
	d->key.rule = sim->rule;
	d->key.rule_priority = sim->rule_priority;
	d->key.rule_action = sim->rule_action;
	d->key.table = sim->table;
	d->key.route = sim->route;
	d->key.have_prefix = sim->have_prefix;
	if (sim->have_prefix) {
		d->key.prefix = addr_key(&sim->prefix.addr);
		d->key.prefix_len = sim->prefix.len;
	}
	d->key.ifindex = sim->ifindex;
	d->key.gateway = addr_key(&sim->gateway);
	d->key.source = addr_key(&sim->source);
	d->key.n_hops = sim->n_hops;
}

struct decision_probe {
	const struct route_decisions *x;
	const struct route_decision *d;
};

static bool decision_eq(const void *ctx, size_t item)
{
	const struct decision_probe *q = ctx;

	return memcmp(&q->x->v[item].key, &q->d->key, sizeof(q->d->key)) == 0;
}

static void route_decisions_free(struct route_decisions *x)
{
	free(x->v);
	hindex_free(&x->index);
}

static int route_target(struct audit *a, struct route_kernel *k, struct route_decisions *decisions,
			struct audit_target *t)
{
	/* both lookups' whole results (the rules and tables walked) are kept
	 * only while the target is routed */
	struct route_result kern, sim;
	struct route_packet p = { 0 };
	struct route_decision d;
	size_t known = HINDEX_NONE;
	uint32_t h = 0;
	char why[256];
	int r;

	p.dst = t->addr;
	p.ipproto = t->l4proto;
	p.uid_set = true;
	if (t->inbound) {
		/* the reply's route back to the provider decides the device */
		p.sport = t->port;
		p.dport = REMOTE_EPHEMERAL_PORT;
	} else {
		p.sport = t->local_port ? t->local_port : a->local_port;
		p.dport = t->port;
	}
	r = route_lookup(&a->routes, &p, &sim);
	if (r < 0)
		return r;
	t->routed = true;
	if (!sim.uncertain) {
		struct decision_probe q = { decisions, &d };
		decision_key(&d, &p, &sim);
		h = (uint32_t)hash_bytes(&d.key, sizeof(d.key));
		known = hindex_find(&decisions->index, h, decision_eq, &q);
	}
	if (known != HINDEX_NONE && decisions->v[known].agrees) {
		t->route = decisions->v[known].kernel;
		t->route_agrees = true;
		return 0;
	}
	r = route_kernel_lookup(k, &a->routes, &p, &kern);
	if (r < 0)
		return r;
	t->route = (struct target_route){
		.error = kern.error, .type = kern.type, .no_route = kern.no_route, .reason = kern.reason,
		.table = kern.table, .ifindex = kern.ifindex, .gateway = kern.gateway, .source = kern.source,
	};
	t->route_agrees = route_result_agrees(&sim, &kern, why, sizeof(why));
	if (!t->route_agrees)
		t->route_disagreement = xstrdup(why);
	/* the kernel does not say which rule decided; the lookup over the
	 * dumped rules does, when the two agree */
	t->route.rule_known = t->route_agrees && sim.rule >= 0;
	t->route.rule_priority = sim.rule_priority;
	if (!sim.uncertain && known == HINDEX_NONE) {
		d.kernel = t->route;
		d.agrees = t->route_agrees;
		decisions->v = grow_by_one(decisions->v, decisions->n, sizeof(*decisions->v));
		decisions->v[decisions->n] = d;
		hindex_add(&decisions->index, h, decisions->n++);
	}
	return 0;
}

static const char *unroutable_reason(const struct target_route *r)
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

/* What is on the flow's path besides netfilter (XDP, tc, cgroup BPF, IPVS,
 * xfrm, ...): the request where it leaves or arrives, the reply the other
 * way. A netfilter pass is only as good as they let it be: one that drops
 * makes the target blocked, one that may touch it uncertain. */
static void blind_spots_on_path(struct audit *a, struct audit_target *t)
{
	const struct sim_flow *f = &t->flow;
	/* where the packets cross: the answer's device, which is where the
	 * first packet left when a mark re-routed it */
	const struct sim_leg_result *far = t->sim ? &t->sim->legs[t->inbound ? SIM_LEG_REQUEST : SIM_LEG_REPLY] : NULL;
	struct blind_packet req = {
		.l4proto = f->l4proto, .ct_new = true, .client = t->client,
		.ifindex = (int)(far && far->present && far->dev.index ? far->dev.index : f->dev.index),
	};
	struct blind_packet rep;
	const struct blind_spot *which = NULL, *w;
	enum blind_effect e, worst = BLIND_PASS;

	if (!a->blind.n)
		return;
	if (t->inbound) {
		req.src = f->remote;
		req.dst = f->local;
		req.sport = f->remote_port;
		req.dport = f->local_port;
		req.dir = BLIND_INGRESS;
	} else {
		req.src = f->local;
		req.dst = f->remote;
		req.sport = f->local_port;
		req.dport = f->remote_port;
		req.dir = BLIND_EGRESS;
	}
	rep = req;
	rep.src = req.dst;
	rep.dst = req.src;
	rep.sport = req.dport;
	rep.dport = req.sport;
	rep.dir = req.dir == BLIND_INGRESS ? BLIND_EGRESS : BLIND_INGRESS;
	rep.ct_new = false;
	const struct blind_packet *legs[] = { &req, &rep };
	for (size_t i = 0; i < ARRAY_SIZE(legs) && worst != BLIND_DROP; i++) {
		e = blind_decide(&a->blind, legs[i], &w);
		if (e == BLIND_DROP || (e == BLIND_UNKNOWN && worst == BLIND_PASS)) {
			worst = e;
			which = w;
		}
	}
	/* netfilter's own drop stays the reason; its unknown stays the first
	 * one named unless something else drops the packet for sure */
	if (worst == BLIND_PASS || t->verdict == TARGET_BLOCKED ||
	    (t->verdict == TARGET_UNCERTAIN && worst != BLIND_DROP))
		return;
	t->blind = which;
	t->blocked_by = NULL;
	t->blocked_policy = NULL;
	t->blocked_leg = worst == BLIND_DROP && which && !(which->dirs & req.dir) ? SIM_LEG_REPLY : SIM_LEG_REQUEST;
	t->verdict = worst == BLIND_DROP ? TARGET_BLOCKED : TARGET_UNCERTAIN;
	t->uncertain_what = which ? which->what : "something outside netfilter";
}

static void simulate_target(struct audit *a, struct audit_target *t, const struct route_link *dev)
{
	struct sim_flow *f = &t->flow;
	struct flow_result res;

	memset(f, 0, sizeof(*f));
	f->nfproto = t->addr.family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	f->inbound = t->inbound;
	f->local = t->route.source;
	f->remote = t->addr;
	f->l4proto = t->l4proto;
	f->local_port = t->inbound ? t->port : t->local_port ? t->local_port : a->local_port;
	f->remote_port = t->inbound ? REMOTE_EPHEMERAL_PORT : t->port;
	snprintf(f->dev.name, sizeof(f->dev.name), "%s", dev->name);
	f->dev.index = (uint32_t)dev->ifindex;
	f->dev.type = dev->type;
	f->dev.group = dev->group;
	f->routes = &a->routes;   /* re-routing after a mark, rp_filter on the way in */
	if (simulate_flow(a->index, &a->env, f, &res) < 0) {
		t->verdict = TARGET_UNCERTAIN;
		t->uncertain_what = "the simulation failed";
		return;
	}
	t->sim = outcome_intern(a, &res);
	t->simulated = true;
	switch (t->sim->verdict) {
	case SIM_ACCEPT:
		t->verdict = TARGET_REACHABLE;
		blind_spots_on_path(a, t);
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
		const struct sim_leg_result *lr = &t->sim->legs[order[i]];
		if (!lr->present || lr->verdict == SIM_ACCEPT)
			continue;
		if (t->verdict == TARGET_BLOCKED && lr->verdict != SIM_DROP)
			continue;
		if (lr->deciding_hook < 0) {
			/* the route between the hooks: no rule decided */
			if (!lr->route_why)
				continue;
			t->blocked_leg = order[i];
			t->uncertain_what = lr->verdict == SIM_DROP ? NULL : lr->route_why;
			if (lr->verdict == SIM_DROP) {
				t->verdict = TARGET_UNROUTABLE;
				t->unroutable_why = lr->route_why;
				return;
			}
			break;
		}
		const struct hook_result *h = &lr->res[lr->deciding_hook];
		t->blocked_by = h->decided_by;
		t->blocked_policy = h->decided_by ? NULL : h->policy_chain;
		t->blocked_leg = order[i];
		t->uncertain_what = h->unknown_what;
		break;
	}
	/* ISC dhclient reads the server's answer through its packet socket
	 * before netfilter sees it: a drop of the reply's copy costs it
	 * nothing (the kernel test shows its renewals go through) */
	if (t->verdict == TARGET_BLOCKED && t->reply_before_netfilter && !t->inbound && t->blocked_by &&
	    (t->blocked_leg == SIM_LEG_REPLY || t->blocked_leg == SIM_LEG_REPLY_DATA)) {
		t->reply_drop_unread = t->blocked_by;
		t->blocked_by = NULL;
		t->verdict = TARGET_REACHABLE;
	}
	if (t->verdict != TARGET_BLOCKED)
		blind_spots_on_path(a, t);
}

static void audit_target(struct audit *a, struct overlay_services *services, struct audit_target *t)
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
	/* a service offered over the overlay: the peer's connection came in
	 * on the overlay's device, and the replies must leave there */
	if (t->overlay_dev && strcmp(t->overlay_dev, dev->name) != 0) {
		t->verdict = TARGET_UNROUTABLE;
		t->unroutable_why = "the replies to the overlay peer leave through another device than the overlay's";
		return;
	}
	bool into_overlay = overlay_of(a, dev) && !t->overlay_dev && !expected_on(a, services, t, dev->name);
	simulate_target(a, t, dev);
	/* a route-type chain may have set a mark that routes the host's
	 * first packet elsewhere (Tailscale's bypass mark past an exit node) */
	const struct sim_leg_result *first = t->simulated ? &t->sim->legs[t->inbound ? SIM_LEG_REPLY : SIM_LEG_REQUEST] : NULL;
	if (first && first->present && first->rerouted) {
		const struct route_link *out = route_state_link(&a->routes, (int)first->dev.index);
		into_overlay = out && !t->overlay_dev && overlay_of(a, out) && !expected_on(a, services, t, out->name);
	}
	if (into_overlay) {
		t->verdict = TARGET_UNROUTABLE;
		t->unroutable_why = "routed into the overlay";
		t->simulated = false;
		t->blocked_by = NULL;
		t->blocked_policy = NULL;
		t->blind = NULL;
		t->uncertain_what = NULL;
		t->reply_drop_unread = NULL;
	}
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
 * names them all (in the order of the targets, the findings in the order of
 * their first target). */
struct block_groups {
	const struct audit *a;
	size_t *first, *last;         /* each group's first and last target */
	size_t n;
	struct hindex index;
};

static uint32_t block_hash(const struct audit_target *t)
{
	uint64_t h = hash_fnv1a_u64(HASH_FNV1A_INIT, (uintptr_t)t->blocked_by);

	h = hash_fnv1a_u64(h, (uintptr_t)t->blocked_policy);
	h = hash_fnv1a_u64(h, (uintptr_t)t->blind);
	return (uint32_t)hash_mix64(hash_fnv1a_u64(h, (uint64_t)t->blocked_leg));
}

struct block_probe {
	const struct block_groups *g;
	const struct audit_target *t;
};

static bool block_eq(const void *ctx, size_t item)
{
	const struct block_probe *p = ctx;
	const struct audit_target *u = &p->g->a->targets[p->g->first[item]];

	return u->blocked_by == p->t->blocked_by && u->blocked_policy == p->t->blocked_policy &&
	       u->blind == p->t->blind && u->blocked_leg == p->t->blocked_leg;
}

static void blocked_findings(struct audit *a)
{
	struct block_groups g = { .a = a };
	size_t *next = xcalloc(a->n_targets + 1, sizeof(*next));   /* the group's next target */
	char where[512], label[192];

	for (size_t i = 0; i < a->n_targets; i++) {
		const struct audit_target *t = &a->targets[i];
		if (t->verdict != TARGET_BLOCKED)
			continue;
		uint32_t h = block_hash(t);
		struct block_probe probe = { &g, t };
		size_t k = hindex_find(&g.index, h, block_eq, &probe);
		next[i] = SIZE_MAX;
		if (k == HINDEX_NONE) {
			g.first = grow_by_one(g.first, g.n, sizeof(*g.first));
			g.last = grow_by_one(g.last, g.n, sizeof(*g.last));
			g.first[g.n] = g.last[g.n] = i;
			hindex_add(&g.index, h, g.n++);
			continue;
		}
		next[g.last[k]] = i;
		g.last[k] = i;
	}
	for (size_t k = 0; k < g.n; k++) {
		const struct audit_target *t = &a->targets[g.first[k]];
		_cleanup_free_ char *labels = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&labels, &len);

		if (!m)
			abort();
		for (size_t j = g.first[k]; j != SIZE_MAX; j = next[j]) {
			target_label(&a->targets[j], label, sizeof(label));
			fprintf(m, "%s%s", j == g.first[k] ? "" : ", ", label);
		}
		fclose(m);
		if (t->blind)
			snprintf(where, sizeof(where), "%s (outside netfilter)", t->blind->what);
		else
			rule_where(t->blocked_by, t->blocked_policy, where, sizeof(where));
		bool reply = t->blocked_leg == SIM_LEG_REPLY || t->blocked_leg == SIM_LEG_REPLY_DATA;
		struct audit_finding *f = audit_add_finding(a, FINDING_CRITICAL, "TARGET_BLOCKED", t->blocked_by,
							    "%s dropped by %s: %s", reply ? "reply" : "request",
							    where, labels);
		for (size_t j = g.first[k]; j != SIZE_MAX; j = next[j])
			finding_add_target(f, j);
	}
	free(next);
	free(g.first);
	free(g.last);
	hindex_free(&g.index);
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
			if (t->blind) {
				f = audit_add_finding(a, FINDING_WARNING, "VERDICT_UNCERTAIN", NULL,
						      "%s: netfilter lets it pass, but its path crosses %s, which "
						      "cgnatcheck cannot evaluate", label, t->blind->what);
				finding_add_target(f, i);
				break;
			}
			rule_where(t->blocked_by, t->blocked_policy, where, sizeof(where));
			f = audit_add_finding(a, FINDING_WARNING, "VERDICT_UNCERTAIN", t->blocked_by,
					      "%s: the verdict depends on %s in %s, which the simulator cannot "
					      "evaluate", label, t->uncertain_what ? t->uncertain_what : "a match",
					      where);
			finding_add_target(f, i);
			break;
		case TARGET_REACHABLE:
			if (t->reply_drop_unread) {
				rule_where(t->reply_drop_unread, NULL, where, sizeof(where));
				f = audit_add_finding(a, FINDING_INFO, "REPLY_READ_BEFORE_NETFILTER",
						      t->reply_drop_unread,
						      "%s: %s drops the server's answers, but the DHCP client "
						      "(ISC dhclient) reads them through its packet socket before "
						      "netfilter does, so its renewals work; a client that "
						      "renews over UDP (systemd-networkd, dhcpcd) would be cut off",
						      label, where);
				finding_add_target(f, i);
			}
			break;
		case TARGET_BLOCKED:
		default:
			break;
		}
		if (t->routed && !t->route_agrees) {
			f = audit_add_finding(a, FINDING_WARNING, "ROUTE_MODEL_DISAGREES", NULL,
					      "%s: the kernel's route and cgnatcheck's lookup differ (%s); "
					      "the verdict uses the kernel's", label, t->route_disagreement ? t->route_disagreement : "");
			finding_add_target(f, i);
		}
	}
}

/* The rules that block a target today, for the latent passes (a drop that
 * blocks a target is reported as that, not as latent). */
struct rule_set {
	const struct cg_rule **v;
	size_t n;
	struct hindex index;
};

static uint32_t ptr_hash(const void *p)
{
	return (uint32_t)hash_mix64((uintptr_t)p);
}

struct rule_probe {
	const struct rule_set *s;
	const struct cg_rule *r;
};

static bool rule_eq(const void *ctx, size_t item)
{
	const struct rule_probe *p = ctx;

	return p->s->v[item] == p->r;
}

static bool rule_set_has(const struct rule_set *s, const struct cg_rule *r)
{
	struct rule_probe p = { s, r };

	return hindex_find(&s->index, ptr_hash(r), rule_eq, &p) != HINDEX_NONE;
}

static void rule_set_add(struct rule_set *s, const struct cg_rule *r)
{
	if (rule_set_has(s, r))
		return;
	s->v = grow_by_one(s->v, s->n, sizeof(*s->v));
	s->v[s->n] = r;
	hindex_add(&s->index, ptr_hash(r), s->n++);
}

static void rule_set_free(struct rule_set *s)
{
	free(s->v);
	hindex_free(&s->index);
}

/* A rule (or a chain's policy) that drops a target's packets, and the targets. */
struct rule_targets {
	const struct cg_rule *rule;
	const struct cg_chain *policy;   /* the rule is NULL: this chain's policy drops */
	const struct cg_rule *decider;   /* shadowed: the earlier rule that decides first */
	size_t *targets;
	size_t n;
};

struct rule_groups {
	struct rule_targets *v;
	size_t n;
	struct hindex index;
};

static uint32_t group_hash(const struct cg_rule *r, const struct cg_chain *policy)
{
	return (uint32_t)hash_mix64(hash_fnv1a_u64(hash_fnv1a_u64(HASH_FNV1A_INIT, (uintptr_t)r), (uintptr_t)policy));
}

struct group_probe {
	const struct rule_groups *g;
	const struct cg_rule *r;
	const struct cg_chain *policy;
};

static bool group_eq(const void *ctx, size_t item)
{
	const struct group_probe *p = ctx;

	return p->g->v[item].rule == p->r && p->g->v[item].policy == p->policy;
}

/* Targets are added in their order: a target already in the group is its
 * last one. */
static void group_add(struct rule_groups *g, const struct cg_rule *r, const struct cg_chain *policy,
		      const struct cg_rule *decider, size_t target)
{
	struct group_probe p = { g, r, policy };
	uint32_t h = group_hash(r, policy);
	size_t i = hindex_find(&g->index, h, group_eq, &p);
	struct rule_targets *e;

	if (i == HINDEX_NONE) {
		g->v = grow_by_one(g->v, g->n, sizeof(*g->v));
		g->v[g->n] = (struct rule_targets){ .rule = r, .policy = policy, .decider = decider };
		hindex_add(&g->index, h, g->n);
		i = g->n++;
	}
	e = &g->v[i];
	if (e->n && e->targets[e->n - 1] == target)
		return;
	e->targets = grow_by_one(e->targets, e->n, sizeof(*e->targets));
	e->targets[e->n++] = target;
}

static void groups_free(struct rule_groups *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].targets);
	free(g->v);
	hindex_free(&g->index);
	*g = (struct rule_groups){ 0 };
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

/* Whether the rule jumps (or goes) to `target`. */
static bool rule_jumps_to(const struct cg_rule *r, const struct cg_chain *target)
{
	struct cg_expr_buf eb;
	const struct cg_expr *ex = rule_exprs(r, &eb);
	bool found = false;

	for (uint32_t e = 0; e < r->n_exprs && !found; e++) {
		const struct cg_expr *x = &ex[e];
		found = x->type == CG_EXPR_IMMEDIATE && x->immediate.dreg == 0 &&
			(x->immediate.verdict.code == CG_VERDICT_JUMP || x->immediate.verdict.code == CG_VERDICT_GOTO) &&
			x->immediate.verdict.chain == target;
	}
	expr_buf_free(&eb);
	return found;
}

/* Whether a base chain at the input hook of the chain's table jumps to it. */
static bool jumped_to_from_input(const struct cg_table *tb, const struct cg_chain *target)
{
	for (uint32_t c = 0; c < tb->n_chains; c++) {
		const struct cg_chain *ch = &tb->chains[c];
		if (!ch->base || ch->hook != NF_INET_LOCAL_IN)
			continue;
		for (uint32_t r = 0; r < ch->n_rules; r++)
			if (rule_jumps_to(&ch->rules[r], target))
				return true;
	}
	return false;
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

/* ---- events: what a drop needs to bite ---------------------------------------
 *
 * A drop rule is news only when a target's packet can meet it: today (the
 * target is blocked, reported above), or after an event the audit knows,
 * which rewrites the ruleset in a known way. Each event is simulated as a
 * variant of the collected ruleset (struct sim_variant: a few chains' rule
 * lists replaced, nothing copied), and a target reachable today but dropped
 * in the variant is a warning that names the event and the rule. The events
 * (Tailscale's util/linuxfw; /work/shared/reference/tailscale-netfilter.md):
 *  - the overlay's daemon starting (tailscaled's restart or upgrade, `tailscale
 *    down`/`up`, which is also when its interface comes up): it deletes its
 *    jumps and chains and writes them again, the jump at position 1 of INPUT
 *    in netfilter-mode on, the chain with only its own rules. An accept a
 *    user put above the jump ends up below it; a rule a user put into
 *    ts-input is gone. cgnatcheck's own exceptions are kept: --keep and the
 *    first-boot unit write them again (an info finding says so);
 *  - --netfilter-mode going from nodivert to on: the same, and the jump is
 *    added.
 * Nothing else is simulated, so a rule that no target's packet reaches in any
 * of them (ufw's, firewalld's, shorewall's catch-all drops behind their
 * established accepts) is not a finding. */

enum event_kind { EVENT_OVERLAY_START, EVENT_DIVERT_ON };

struct overlay_event {
	enum event_kind kind;
	const struct policy_overlay *overlay;
	const struct cg_chain *input;       /* the overlay's input chain (one family's) */
	bool kept_exception;                /* the chain holds cgnatcheck's exceptions */
	struct sim_variant variant;
	struct sim_chain_view *views;
	size_t n_views;
	const struct cg_chain **extra;
	size_t n_extra;
	void **owned;                       /* what the views and extras are built of */
	size_t n_owned;
};

static void *event_own(struct overlay_event *e, void *p)
{
	e->owned = xreallocarray(e->owned, e->n_owned + 1, sizeof(*e->owned));
	e->owned[e->n_owned++] = p;
	return p;
}

static void event_free(struct overlay_event *e)
{
	for (size_t i = 0; i < e->n_owned; i++)
		free(e->owned[i]);
	free(e->owned);
	free(e->views);
	free(e->extra);
	memset(e, 0, sizeof(*e));
}

static void event_add_view(struct overlay_event *e, const struct cg_chain *ch, const struct cg_rule **rules,
			   uint32_t n)
{
	e->views = xreallocarray(e->views, e->n_views + 1, sizeof(*e->views));
	e->views[e->n_views++] = (struct sim_chain_view){ .chain = ch, .rules = rules, .n_rules = n };
	e->variant = (struct sim_variant){ .views = e->views, .n_views = e->n_views,
					   .extra_base = e->extra, .n_extra_base = e->n_extra };
}

static const char *event_id(enum event_kind k)
{
	return k == EVENT_DIVERT_ON ? "netfilter-mode-on" : "overlay-start";
}

static void event_describe(const struct overlay_event *e, char *buf, size_t size)
{
	if (e->kind == EVENT_DIVERT_ON)
		snprintf(buf, size, "--netfilter-mode changing from nodivert to on (%s then jumps to %s at position 1 "
			 "of INPUT)", e->overlay->name, e->input->name);
	else
		snprintf(buf, size, "the next start of %s's daemon (a restart, an upgrade, down/up, %s coming up: it "
			 "re-creates %s with only its own rules%s)", e->overlay->name,
			 e->overlay->interface ? e->overlay->interface : "its interface", e->input->name,
			 jumped_to_from_input(e->input->table, e->input) ? " and puts its jump back at position 1" : "");
}

/* The rules tailscaled writes into ts-input (iptables_runner.go and
 * nftables_runner.go; '@' is the overlay's interface), in the text the
 * report quotes: iptables-save without "-A CHAIN ", or nft's listing without
 * counters, quotes and the '*' of Tailscale's prefix interface matches. */
static const char *const tailscale_input_rules[] = {
	"-s * -i lo -j ACCEPT",
	"-i @ -j ACCEPT",
	"-p udp -m udp --dport * -j ACCEPT",
	"-s 100.115.92.0/23 ! -i @ -j RETURN",
	"-s 100.64.0.0/10 ! -i @ -j DROP",
	"-s 100.64.0.0/10 ! -i @ -j RETURN",
	"iifname lo ip saddr * accept",
	"iifname lo ip6 saddr * accept",
	"iifname @ accept",
	"udp dport * accept",
	"iifname != @ ip saddr 100.115.92.0/23 return",
	"iifname != @ ip saddr 100.64.0.0/10 drop",
	"iifname != @ ip saddr 100.64.0.0/10 return",
};

static bool is_cgnatcheck_exception(const struct cg_rule *r)
{
	return r->comment && strncmp(r->comment, "cgnatcheck:", strlen("cgnatcheck:")) == 0;
}

static char *rule_shape(const struct cg_rule *r)
{
	bool nft = r->chain->table->backend == CG_BACKEND_NFTABLES;
	char *text = nft ? nft_rule_to_string(r) : ipt_rule_to_string(r);
	char *w = text, *p;

	if (!text)
		return NULL;
	p = text;
	if (!nft && strncmp(p, "-A ", 3) == 0 && (p = strchr(p + 3, ' ')))
		p++;
	else
		p = text;
	for (; *p; p++) {
		if (nft && (*p == '"' || *p == '*'))
			continue;
		if (nft && strncmp(p, "counter ", 8) == 0) {
			p += 7;
			continue;
		}
		*w++ = *p;
	}
	*w = '\0';
	return text;
}

/* Whether the overlay's daemon writes this rule into its input chain, so that
 * the chain holds it again after the daemon's next start. */
static bool rule_survives_start(const struct policy_overlay *ov, const struct cg_rule *r)
{
	if (is_cgnatcheck_exception(r))
		return true;
	/* only Tailscale's layout is known: keep any other overlay's rules */
	if (strcmp(ov->name, "tailscale") != 0)
		return true;
	_cleanup_free_ char *shape = rule_shape(r);
	const char *dev = ov->interface ? ov->interface : "tailscale0";
	if (!shape)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(tailscale_input_rules); i++) {
		char pattern[128];
		const char *at = strchr(tailscale_input_rules[i], '@');
		if (at)
			snprintf(pattern, sizeof(pattern), "%.*s%s%s", (int)(at - tailscale_input_rules[i]),
				 tailscale_input_rules[i], dev, at + 1);
		else
			snprintf(pattern, sizeof(pattern), "%s", tailscale_input_rules[i]);
		if (fnmatch(pattern, shape, 0) == 0)
			return true;
	}
	return false;
}

/* The overlay's input chain: the one of its chains named for the input hook
 * (Tailscale: ts-input). Its forward chain never sees this host's traffic. */
static const char *overlay_input_name(const struct policy_overlay *ov)
{
	for (size_t i = 0; i < ov->n_chains; i++) {
		size_t n = strlen(ov->chains[i]);
		if (n >= 5 && strcmp(ov->chains[i] + n - 5, "input") == 0)
			return ov->chains[i];
	}
	return NULL;
}

/* The rule `jump <target>` at the top of `base`, built for the variant. */
static const struct cg_rule *event_jump_rule(struct overlay_event *e, const struct cg_chain *base,
					     const struct cg_chain *target)
{
	struct cg_expr *x = event_own(e, xcalloc(1, sizeof(*x)));
	struct cg_rule *r = event_own(e, xcalloc(1, sizeof(*r)));

	x->type = CG_EXPR_IMMEDIATE;
	x->immediate.dreg = NFT_REG_VERDICT;
	x->immediate.verdict = (struct cg_verdict){ .code = CG_VERDICT_JUMP, .chain_name = target->name,
						    .chain = (struct cg_chain *)target };
	r->chain = (struct cg_chain *)base;
	r->index = 1;
	r->n_exprs = 1;
	r->exprs = x;
	return r;
}

/* The table's base chain at the input hook that the daemon would jump from:
 * the one that jumps today, INPUT, any; or one the event creates. */
static const struct cg_chain *event_input_base(struct overlay_event *e, const struct cg_table *tb)
{
	const struct cg_chain *any = NULL;

	for (uint32_t c = 0; c < tb->n_chains; c++) {
		const struct cg_chain *ch = &tb->chains[c];
		if (!ch->base || ch->hook != NF_INET_LOCAL_IN)
			continue;
		if (strcmp(ch->name, "INPUT") == 0)
			return ch;
		if (!any)
			any = ch;
	}
	if (any)
		return any;
	struct cg_chain *b = event_own(e, xcalloc(1, sizeof(*b)));
	*b = (struct cg_chain){ .table = (struct cg_table *)tb, .name = "INPUT", .type = "filter",
				.hook = NF_INET_LOCAL_IN, .priority = 0, .policy = CG_VERDICT_ACCEPT, .base = true };
	e->extra = xreallocarray(e->extra, e->n_extra + 1, sizeof(*e->extra));
	e->extra[e->n_extra++] = b;
	e->variant.extra_base = e->extra;
	e->variant.n_extra_base = e->n_extra;
	return b;
}

/* One table's part of the event: its copy of the overlay's input chain with
 * only the daemon's rules, and with jumps, the jump first in the base chain. */
static void event_table(struct overlay_event *e, const struct cg_chain *ch, bool jumps)
{
	const struct cg_table *tb = ch->table;
	const struct cg_rule **own = event_own(e, xreallocarray(NULL, ch->n_rules + 1, sizeof(*own)));
	uint32_t n = 0;
	bool moved = false;

	for (uint32_t r = 0; r < ch->n_rules; r++) {
		e->kept_exception |= is_cgnatcheck_exception(&ch->rules[r]);
		if (rule_survives_start(e->overlay, &ch->rules[r]))
			own[n++] = &ch->rules[r];
	}
	event_add_view(e, ch, own, n);
	if (!jumps)
		return;
	for (uint32_t c = 0; c < tb->n_chains; c++) {
		const struct cg_chain *b = &tb->chains[c];
		const struct cg_rule *jump = NULL;
		if (!b->base || b->hook != NF_INET_LOCAL_IN)
			continue;
		for (uint32_t r = 0; r < b->n_rules && !jump; r++)
			if (rule_jumps_to(&b->rules[r], ch))
				jump = &b->rules[r];
		if (!jump)
			continue;
		/* the daemon deletes its jumps and inserts one at position 1 */
		const struct cg_rule **v = event_own(e, xreallocarray(NULL, b->n_rules + 1, sizeof(*v)));
		uint32_t k = 0;
		v[k++] = jump;
		for (uint32_t r = 0; r < b->n_rules; r++)
			if (!rule_jumps_to(&b->rules[r], ch))
				v[k++] = &b->rules[r];
		event_add_view(e, b, v, k);
		moved = true;
	}
	if (moved)
		return;
	const struct cg_chain *b = event_input_base(e, tb);
	const struct cg_rule **v = event_own(e, xreallocarray(NULL, b->n_rules + 1, sizeof(*v)));
	uint32_t k = 0;
	v[k++] = event_jump_rule(e, b, ch);
	for (uint32_t r = 0; r < b->n_rules; r++)
		v[k++] = &b->rules[r];
	event_add_view(e, b, v, k);
}

/* Whether tb may hold a chain named `name`: its index says (a kube-proxy
 * table's 100k names are not read one by one for each overlay); without
 * one, it may. The callers still look at every chain of a table that has
 * it. */
static bool table_may_have_chain(const struct cg_table *tb, const char *name)
{
	return !tb->index || chain_find(tb, name);
}

/* The events that apply to this host: for each overlay whose input chain
 * exists, its daemon's next start, and in nodivert mode the change to on. */
static size_t overlay_events(const struct audit *a, struct overlay_event **out)
{
	struct overlay_event *ev = NULL;
	size_t n = 0;

	for (size_t p = 0; p < a->n_policies; p++)
		for (size_t o = 0; o < a->policies[p].n_overlays; o++) {
			const struct policy_overlay *ov = &a->policies[p].overlays[o];
			const char *name = overlay_input_name(ov);
			const struct cg_chain *first = NULL;
			bool divert = false;

			if (!name)
				continue;
			for (uint32_t t = 0; t < a->ruleset.n_tables; t++) {
				const struct cg_table *tb = &a->ruleset.tables[t];
				if (!table_may_have_chain(tb, name))
					continue;
				for (uint32_t c = 0; c < tb->n_chains; c++)
					if (!tb->chains[c].base && strcmp(tb->chains[c].name, name) == 0) {
						first = first ? first : &tb->chains[c];
						divert |= jumped_to_from_input(tb, &tb->chains[c]);
					}
			}
			if (!first)
				continue;
			for (int k = 0; k < 2; k++) {
				enum event_kind kind = k ? EVENT_DIVERT_ON : EVENT_OVERLAY_START;
				if (kind == EVENT_DIVERT_ON && divert)
					continue;
				ev = xreallocarray(ev, n + 1, sizeof(*ev));
				struct overlay_event *e = &ev[n++];
				*e = (struct overlay_event){ .kind = kind, .overlay = ov, .input = first };
				for (uint32_t t = 0; t < a->ruleset.n_tables; t++) {
					const struct cg_table *tb = &a->ruleset.tables[t];
					if (!table_may_have_chain(tb, name))
						continue;
					for (uint32_t c = 0; c < tb->n_chains; c++)
						if (!tb->chains[c].base && strcmp(tb->chains[c].name, name) == 0)
							event_table(e, &tb->chains[c], divert || kind == EVENT_DIVERT_ON);
				}
			}
		}
	*out = ev;
	return n;
}

/* Where a simulated flow was first dropped (in time). */
static bool flow_dropped_by(const struct flow_result *res, const struct cg_rule **rule,
			    const struct cg_chain **policy)
{
	static const enum sim_leg order[] = { SIM_LEG_REQUEST, SIM_LEG_REPLY, SIM_LEG_REQUEST_EST,
					      SIM_LEG_REPLY_DATA };
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		const struct sim_leg_result *lr = &res->legs[order[i]];
		if (!lr->present || lr->verdict != SIM_DROP || lr->deciding_hook < 0)
			continue;
		*rule = lr->res[lr->deciding_hook].decided_by;
		*policy = *rule ? NULL : lr->res[lr->deciding_hook].policy_chain;
		return true;
	}
	return false;
}

/* Each target reachable today, simulated again in the event's ruleset. */
static void event_findings(struct audit *a, struct overlay_event *e)
{
	struct rule_groups bites = { 0 };
	char where[512], what[384];

	for (size_t i = 0; i < a->n_targets; i++) {
		const struct audit_target *t = &a->targets[i];
		struct flow_result res;
		const struct cg_rule *rule = NULL;
		const struct cg_chain *policy = NULL;

		if (!t->simulated || t->verdict != TARGET_REACHABLE)
			continue;
		if (simulate_flow_variant(a->index, &e->variant, &a->env, &t->flow, &res) < 0)
			continue;
		if (res.verdict == SIM_DROP && flow_dropped_by(&res, &rule, &policy))
			group_add(&bites, rule, policy, NULL, i);
		flow_result_free(&res);
	}
	event_describe(e, what, sizeof(what));
	for (size_t i = 0; i < bites.n; i++) {
		const struct rule_targets *g = &bites.v[i];
		_cleanup_free_ char *labels = labels_of(a, g->targets, g->n);
		rule_where(g->rule, g->policy, where, sizeof(where));
		struct audit_finding *f = audit_add_finding(
			a, FINDING_WARNING, "LATENT_DROP_RULE", g->rule,
			"%s would drop the traffic of %s after %s; it does not today", where, labels, what);
		f->event = event_id(e->kind);
		for (size_t k = 0; k < g->n; k++)
			finding_add_target(f, g->targets[k]);
	}
	if (e->kind == EVENT_OVERLAY_START && e->kept_exception)
		audit_add_finding(a, FINDING_INFO, "EXCEPTION_NOT_PERSISTENT", NULL,
				  "%s holds cgnatcheck's exceptions, which %s deletes: cgnatcheck-keep.service "
				  "(cgnatcheck --keep) or the first-boot unit writes them again; the audit assumes "
				  "one of them runs", e->input->name, what)->event = event_id(e->kind);
	groups_free(&bites);
}

/* A documentation address of the packet's family other than its source: a
 * drop that also drops it drops everything, and is no news about a target. */
static void control_source(struct cg_packet *p)
{
	const char *alt = p->nfproto == NFPROTO_IPV6 ? "2001:db8::1" : "192.0.2.1";
	struct cg_addr x;

	if (addr_parse(alt, &x) == 0 && addr_equal(&x, &p->src))
		alt = p->nfproto == NFPROTO_IPV6 ? "2001:db8:1::1" : "198.51.100.1";
	if (addr_parse(alt, &x) == 0)
		p->src = x;
}

/* In a chain the target's packet goes through today, a drop rule that would
 * drop it but is never reached: an earlier rule decides first (an exception
 * before Tailscale's CGNAT drop). Only drops about the target's address. */
static void shadowed_in_chain(struct audit *a, const struct rule_set *blocking, const struct cg_chain *ch,
			      uint32_t hook, const struct cg_packet *in, size_t ti, struct rule_groups *shadowed)
{
	struct cg_packet p = *in, ctl;
	struct hook_result full;

	if (evaluate_chain(ch, &p, hook, &a->env, &full) < 0)
		return;
	const struct cg_rule *stop = full.verdict == SIM_DROP ? NULL : last_rule_in(&full, ch);
	hook_result_free(&full);
	if (!stop)
		return;
	for (uint32_t k = stop->index; k < ch->n_rules; k++) {
		const struct cg_rule *r = &ch->rules[k];
		struct hook_result from;
		bool drops;
		if (!rule_is_drop(r) || rule_set_has(blocking, r))
			continue;
		p = *in;
		if (evaluate_chain_from(ch, k, &p, hook, &a->env, &from) < 0)
			continue;
		drops = from.verdict == SIM_DROP && from.decided_by == r;
		hook_result_free(&from);
		if (!drops)
			continue;
		ctl = *in;
		control_source(&ctl);
		if (evaluate_chain_from(ch, k, &ctl, hook, &a->env, &from) < 0)
			continue;
		drops = from.verdict == SIM_DROP && from.decided_by == r;
		hook_result_free(&from);
		if (!drops)
			group_add(shadowed, r, NULL, stop, ti);
	}
}

#define MAX_SCANNED_CHAINS 64

static void shadowed_findings(struct audit *a)
{
	struct rule_groups shadowed = { 0 };
	struct rule_set blocking = { 0 };
	char where[512], where2[512];

	for (size_t i = 0; i < a->n_targets; i++)
		if (a->targets[i].blocked_by)
			rule_set_add(&blocking, a->targets[i].blocked_by);
	for (size_t i = 0; i < a->n_targets; i++) {
		const struct audit_target *t = &a->targets[i];
		const struct cg_chain *seen[MAX_SCANNED_CHAINS];
		size_t n_seen = 0;
		struct cg_packet pkt;

		if (!t->simulated || t->verdict != TARGET_REACHABLE)
			continue;
		const enum sim_leg leg = t->inbound ? SIM_LEG_REQUEST : SIM_LEG_REPLY;
		const struct sim_leg_result *in = &t->sim->legs[leg];
		if (!in->present)
			continue;
		/* the shared outcome's packet is another target's: this one's */
		struct sim_flow fl = t->flow;
		if (in->dev.index)
			fl.dev = in->dev;   /* where it arrived (after a re-route) */
		sim_leg_packet(&fl, leg, in->pkt.ct.mark, &pkt);
		for (int h = 0; h < 2; h++)
			for (uint32_t s = 0; s < in->res[h].trace.n; s++) {
				const struct sim_step *st = &in->res[h].trace.steps[s];
				const struct cg_chain *ch = st->kind == SIM_STEP_RULE && st->rule ? st->rule->chain : NULL;
				bool dup = false;
				if (!ch || (ch->type && strcmp(ch->type, "nat") == 0))
					continue;
				for (size_t k = 0; k < n_seen && !dup; k++)
					dup = seen[k] == ch;
				if (dup || n_seen == MAX_SCANNED_CHAINS)
					continue;
				seen[n_seen++] = ch;
				shadowed_in_chain(a, &blocking, ch, in->hooks[h], &pkt, i, &shadowed);
			}
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
	groups_free(&shadowed);
	rule_set_free(&blocking);
}

static void latent_findings(struct audit *a)
{
	struct overlay_event *ev = NULL;
	size_t n = overlay_events(a, &ev);

	for (size_t i = 0; i < n; i++) {
		event_findings(a, &ev[i]);
		event_free(&ev[i]);
	}
	free(ev);
	shadowed_findings(a);
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
		/* a service offered over the overlay: is it ready? A fresh
		 * connection to the host's own overlay address must read the
		 * protocol's greeting (seed 003); the peer's path stays the
		 * simulation's (this connection does not cross the device) */
		if (t->overlay_dev && t->route.source.family && t->verdict != TARGET_UNROUTABLE) {
			t->probe = xcalloc(1, sizeof(*t->probe));
			probe_target(&t->route.source, t->l4proto, t->port, t->role, PROBE_TIMEOUT_MS, t->probe);
			t->probed = true;
			continue;
		}
		/* the provider opens inbound flows: nothing this host can send */
		if (t->inbound)
			continue;
		t->probe = xcalloc(1, sizeof(*t->probe));
		probe_target(&t->addr, t->l4proto, t->port, t->role, PROBE_TIMEOUT_MS, t->probe);
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
		const struct probe_result *p = t->probe;
		struct audit_finding *f = NULL;
		if (!t->probed)
			continue;
		target_label(t, label, sizeof(label));
		if (t->overlay_dev) {
			char buf[CG_ADDRSTRLEN];
			const char *at = addr_to_string(&t->route.source, buf);
			if (p->status == PROBE_UNSUPPORTED || p->status == PROBE_ERROR)
				f = audit_add_finding(a, FINDING_INFO, "PROBE_NOT_POSSIBLE", NULL,
						      "%s: no readiness probe: %s", label, p->detail);
			else if (p->status == PROBE_CONNECTED_SILENT && !probe_knows_protocol(t->l4proto, t->port, t->role))
				/* a protocol that waits for the client (a database,
				 * a web server on its own port): an accept is all a
				 * probe that speaks none of it can see */
				f = audit_add_finding(a, FINDING_INFO, "OVERLAY_SERVICE_PROBE_INCONCLUSIVE", NULL,
						      "%s: %s port %u accepts a connection and says nothing first; its "
						      "protocol is not one the probe speaks, so readiness is not proven (%s)",
						      label, at, t->port, p->detail);
			else if (p->status == PROBE_CONNECTED_SILENT || p->status == PROBE_BAD_ANSWER)
				f = audit_add_finding(a, FINDING_CRITICAL, "OVERLAY_SERVICE_NOT_READY", NULL,
						      "%s: a connection to %s port %u is accepted, but the service is not "
						      "ready: %s (an accept alone is a forwarder or a socket whose service "
						      "does not run)", label, at, t->port, p->detail);
			else if (p->status != PROBE_ANSWERED)
				f = audit_add_finding(a, FINDING_CRITICAL, "OVERLAY_SERVICE_NOT_LISTENING", NULL,
						      "%s: nothing answers on %s port %u now (%s: %s)", label, at, t->port,
						      probe_status_to_string(p->status), p->detail);
			if (f)
				finding_add_target(f, i);
			continue;
		}
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

static enum finding_severity severity_of(const struct svc_finding *f)
{
	if (f->severity && !strcmp(f->severity, "critical"))
		return FINDING_CRITICAL;
	if (f->severity && !strcmp(f->severity, "warning"))
		return FINDING_WARNING;
	return FINDING_INFO;
}

/* The findings of the services' boot-safety analysis (audit/overlay.c), with
 * their units, cycles and remedies. */
static void services_findings(struct audit *a)
{
	if (!a->services_read)
		return;
	for (size_t i = 0; i < a->services.n_findings; i++) {
		const struct svc_finding *s = &a->services.findings[i];
		struct audit_finding *f = audit_add_finding(a, severity_of(s), svc_code_to_string(s->code), NULL,
							    "%s", s->message);
		f->svc = s;
	}
	/* what could not be read or understood: the analysis is only as good */
	for (size_t i = 0; !a->services_quiet && i < a->services.notes.n; i++)
		audit_add_finding(a, FINDING_INFO, "UNITS_NOTE", NULL, "%s", a->services.notes.v[i]);
}

int audit_run(struct audit *a)
{
	struct overlay_services services = { 0 };
	struct route_decisions decisions = { 0 };
	struct route_kernel *k = NULL;
	int r = 0;

	/* one socket for every target's question to the kernel */
	if (a->n_targets) {
		r = route_kernel_open(&k);
		if (r < 0)
			return log_error_errno(r, "cannot audit: the kernel cannot be asked for routes");
	}
	for (size_t i = 0; i < a->n_targets; i++) {
		struct audit_target *t = &a->targets[i];
		r = route_target(a, k, &decisions, t);
		if (r < 0) {
			char buf[CG_ADDRSTRLEN];
			log_error_errno(r, "cannot audit: the kernel could not be asked for the route to %s",
					addr_to_string(&t->addr, buf));
			break;
		}
		audit_target(a, &services, t);
	}
	route_kernel_close(k);
	route_decisions_free(&decisions);
	overlay_services_free(&services);
	if (r < 0)
		return r;
	if (a->opts->probe)
		probe_targets(a);
	target_findings(a);
	if (a->opts->probe)
		probe_findings(a);
	latent_findings(a);
	tailscale_findings(a);
	services_findings(a);
	return 0;
}

int audit_exit_status(const struct audit *a)
{
	bool warning = false;

	if (a->status_forced)
		return a->forced_status;

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
