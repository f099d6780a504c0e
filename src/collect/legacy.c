/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reads iptables-legacy (x_tables) rulesets.
 *
 * Each table is one kernel snapshot (legacy-snapshot.c: the two getsockopt()
 * calls libiptc's iptc_init() makes, GET_INFO and GET_ENTRIES), walked in
 * place and compiled into the ruleset's arena (streamed where a userfaultfd
 * can be had: legacy_table_read()); the snapshot is freed before the next
 * table is read. libiptc handles (the writer's, src/fix/) are
 * walked by the same code through libiptc's accessors. */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>

#include <errno.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter.h>
#include <string.h>

#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/xt.h"
#include "legacy-internal.h"

/* The tables x_tables offers, in the order iptables-save lists them on a
 * host that loaded them in the usual order. */
static const char *const legacy_tables[] = { "filter", "nat", "mangle", "raw", "security" };

struct legacy_family {
	uint8_t nfproto;
	const char *label;
	const char *names_path;
	const struct legacy_source_ops *iptc;  /* libiptc / libip6tc */
	void (*view)(const void *e, struct entry_view *v);
};

/* ---- IPv4 ------------------------------------------------------------- */

static const char *ip4_first_chain(void *h)
{
	return iptc_first_chain(h);
}

static const char *ip4_next_chain(void *h)
{
	return iptc_next_chain(h);
}

static const void *ip4_first_rule(const char *chain, void *h)
{
	return iptc_first_rule(chain, h);
}

static const void *ip4_next_rule(const void *prev, void *h)
{
	return iptc_next_rule(prev, h);
}

static const char *ip4_get_target(const void *e, void *h)
{
	return iptc_get_target(e, h);
}

static int ip4_builtin(const char *chain, void *h)
{
	return iptc_builtin(chain, h);
}

static const char *ip4_get_policy(const char *chain, void *h)
{
	struct xt_counters counters;

	return iptc_get_policy(chain, &counters, h);
}

static const struct legacy_source_ops ip4_iptc = {
	.first_chain = ip4_first_chain,
	.next_chain = ip4_next_chain,
	.first_rule = ip4_first_rule,
	.next_rule = ip4_next_rule,
	.get_target = ip4_get_target,
	.builtin = ip4_builtin,
	.get_policy = ip4_get_policy,
};

static void ip4_view(const void *entry, struct entry_view *v)
{
	const struct ipt_entry *e = entry;

	v->nfproto = NFPROTO_IPV4;
	v->entry = e;
	v->size = e->next_offset;
	v->header_size = sizeof(*e);
	v->target_offset = e->target_offset;
	v->addr_len = 4;
	v->src = (const uint8_t *)&e->ip.src;
	v->dst = (const uint8_t *)&e->ip.dst;
	v->smsk = (const uint8_t *)&e->ip.smsk;
	v->dmsk = (const uint8_t *)&e->ip.dmsk;
	v->iniface = e->ip.iniface;
	v->outiface = e->ip.outiface;
	v->iniface_mask = e->ip.iniface_mask;
	v->outiface_mask = e->ip.outiface_mask;
	v->proto = e->ip.proto;
	v->frag = e->ip.flags & IPT_F_FRAG;
	v->go_to = e->ip.flags & IPT_F_GOTO;
	v->invflags = e->ip.invflags;
}

/* ---- IPv6 ------------------------------------------------------------- */

static const char *ip6_first_chain(void *h)
{
	return ip6tc_first_chain(h);
}

static const char *ip6_next_chain(void *h)
{
	return ip6tc_next_chain(h);
}

static const void *ip6_first_rule(const char *chain, void *h)
{
	return ip6tc_first_rule(chain, h);
}

static const void *ip6_next_rule(const void *prev, void *h)
{
	return ip6tc_next_rule(prev, h);
}

static const char *ip6_get_target(const void *e, void *h)
{
	return ip6tc_get_target(e, h);
}

static int ip6_builtin(const char *chain, void *h)
{
	return ip6tc_builtin(chain, h);
}

static const char *ip6_get_policy(const char *chain, void *h)
{
	struct xt_counters counters;

	return ip6tc_get_policy(chain, &counters, h);
}

static const struct legacy_source_ops ip6_iptc = {
	.first_chain = ip6_first_chain,
	.next_chain = ip6_next_chain,
	.first_rule = ip6_first_rule,
	.next_rule = ip6_next_rule,
	.get_target = ip6_get_target,
	.builtin = ip6_builtin,
	.get_policy = ip6_get_policy,
};

static void ip6_view(const void *entry, struct entry_view *v)
{
	const struct ip6t_entry *e = entry;

	v->nfproto = NFPROTO_IPV6;
	v->entry = e;
	v->size = e->next_offset;
	v->header_size = sizeof(*e);
	v->target_offset = e->target_offset;
	v->addr_len = 16;
	v->src = e->ipv6.src.s6_addr;
	v->dst = e->ipv6.dst.s6_addr;
	v->smsk = e->ipv6.smsk.s6_addr;
	v->dmsk = e->ipv6.dmsk.s6_addr;
	v->iniface = e->ipv6.iniface;
	v->outiface = e->ipv6.outiface;
	v->iniface_mask = e->ipv6.iniface_mask;
	v->outiface_mask = e->ipv6.outiface_mask;
	/* ip6_packet_match() looks at proto only with IP6T_F_PROTO */
	v->proto = e->ipv6.flags & IP6T_F_PROTO ? e->ipv6.proto : 0;
	v->frag = false;
	v->go_to = e->ipv6.flags & IP6T_F_GOTO;
	v->invflags = e->ipv6.invflags;
}

static const struct legacy_family families[] = {
	{
		.nfproto = NFPROTO_IPV4,
		.label = "IPv4",
		.names_path = "/proc/net/ip_tables_names",
		.iptc = &ip4_iptc,
		.view = ip4_view,
	},
	{
		.nfproto = NFPROTO_IPV6,
		.label = "IPv6",
		.names_path = "/proc/net/ip6_tables_names",
		.iptc = &ip6_iptc,
		.view = ip6_view,
	},
};

static const struct legacy_family *family_get(uint8_t nfproto)
{
	return nfproto == NFPROTO_IPV6 ? &families[1] : &families[0];
}

void (*legacy_entry_view(uint8_t nfproto))(const void *e, struct entry_view *v)
{
	return family_get(nfproto)->view;
}

/* ---- chains ----------------------------------------------------------- */

int legacy_builtin_hook(const char *chain, uint32_t *hook)
{
	static const char *const names[] = {
		[NF_INET_PRE_ROUTING] = "PREROUTING", [NF_INET_LOCAL_IN] = "INPUT",
		[NF_INET_FORWARD] = "FORWARD", [NF_INET_LOCAL_OUT] = "OUTPUT",
		[NF_INET_POST_ROUTING] = "POSTROUTING",
	};

	for (uint32_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(chain, names[i])) {
			*hook = i;
			return 0;
		}
	return -EINVAL;
}

int legacy_table_priority(const char *table, uint32_t hook, int32_t *prio)
{
	if (!strcmp(table, "raw"))
		*prio = -300;           /* NF_IP_PRI_RAW */
	else if (!strcmp(table, "mangle"))
		*prio = -150;           /* NF_IP_PRI_MANGLE */
	else if (!strcmp(table, "nat"))
		/* NF_IP_PRI_NAT_DST before routing, NF_IP_PRI_NAT_SRC after */
		*prio = hook == NF_INET_PRE_ROUTING || hook == NF_INET_LOCAL_OUT ? -100 : 100;
	else if (!strcmp(table, "filter"))
		*prio = 0;              /* NF_IP_PRI_FILTER */
	else if (!strcmp(table, "security"))
		*prio = 50;             /* NF_IP_PRI_SECURITY */
	else
		return -EINVAL;
	return 0;
}

/* The nf_tables chain type the same hook would need: nat chains translate,
 * mangle OUTPUT re-routes on a changed mark (ipt_mangle_out()). */
static const char *chain_type(const char *table, uint32_t hook)
{
	if (!strcmp(table, "nat"))
		return "nat";
	if (!strcmp(table, "mangle") && hook == NF_INET_LOCAL_OUT)
		return "route";
	return "filter";
}

/* The walk over one table of one source. */
struct walk {
	const struct legacy_family *f;
	const struct legacy_source_ops *ops;
	void *h;
	const char *table;
};

int legacy_chain_base(uint8_t nfproto, const char *table, const char *policy, struct cg_chain *c)
{
	const struct legacy_family *f = family_get(nfproto);
	int r;

	r = legacy_builtin_hook(c->name, &c->hook);
	if (r < 0)
		return log_error_errno(r, "iptables-legacy %s table '%s': built-in chain '%s' has no known hook",
				       f->label, table, c->name);
	r = legacy_table_priority(table, c->hook, &c->priority);
	if (r < 0)
		return r;
	c->base = true;
	c->type = chain_type(table, c->hook);
	if (policy && !strcmp(policy, "DROP"))
		c->policy = CG_VERDICT_DROP;
	else if (policy && !strcmp(policy, "ACCEPT"))
		c->policy = CG_VERDICT_ACCEPT;
	else
		return log_error_errno(-EINVAL, "iptables-legacy %s table '%s': chain %s has policy '%s'",
				       f->label, table, c->name, policy ? policy : "(none)");
	return 0;
}

static int chain_fill_base(const struct walk *w, const char *label, struct cg_chain *c)
{
	return legacy_chain_base(w->f->nfproto, w->table, w->ops->get_policy(label, w->h), c);
}

int legacy_rule_fill(uint8_t nfproto, const char *table, struct cg_chain *c, uint32_t i,
		     const struct entry_view *v, struct compile_ctx *ctx)
{
	const struct legacy_family *f = family_get(nfproto);
	struct cg_rule *rule = &c->rules[i];
	int r;

	if (!v->target_label)
		return log_error_errno(-EBADMSG, "iptables-legacy %s table '%s': rule %u of chain %s jumps "
				       "to no chain", f->label, table, i + 1, c->name);
	rule->chain = c;
	rule->index = i + 1;
	r = legacy_rule_compile(v, ctx, rule);
	if (r < 0)
		return log_error_errno(r, "iptables-legacy %s table '%s': rule %u of chain %s is malformed",
				       f->label, table, i + 1, c->name);
	return 0;
}

/* Scratch space reused across the chains and rules of one table. */
struct scratch {
	const void **entries;
	size_t n_entries, cap_entries;
	struct compile_ctx ctx;
	struct arena names_arena;   /* the chain index, this table only */
	struct cg_hashmap names;
	const char **labels;        /* libiptc's name of each chain */
};

static void scratch_free(struct scratch *s)
{
	free(s->entries);
	free(s->ctx.tmp);
	arena_free(&s->ctx.scratch);
	xt_intern_free(s->ctx.xt);
	free(s->labels);
	arena_free(&s->names_arena);
}

static int chain_fill_rules(const struct walk *w, const char *label, struct cg_chain *c,
			    struct scratch *sc)
{
	uint32_t n;
	const void *e;

	/* one walk (libiptc's first_rule() searches the chain by name) */
	sc->n_entries = 0;
	for (e = w->ops->first_rule(label, w->h); e; e = w->ops->next_rule(e, w->h)) {
		grow_array((void **)&sc->entries, &sc->cap_entries, sc->n_entries + 1, sizeof(*sc->entries));
		sc->entries[sc->n_entries++] = e;
	}
	n = (uint32_t)sc->n_entries;
	c->n_rules = n;
	c->rules = n ? arena_alloc(sc->ctx.arena, n * sizeof(*c->rules)) : NULL;
	for (uint32_t i = 0; i < n; i++) {
		struct entry_view v = { 0 };
		int r;

		e = sc->entries[i];
		w->f->view(e, &v);
		v.target_label = w->ops->get_target(e, w->h);
		r = legacy_rule_fill(w->f->nfproto, w->table, c, i, &v, &sc->ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

int legacy_table_from_source(const struct legacy_source_ops *ops, void *h, uint8_t nfproto,
			     const char *table, struct arena *a, struct cg_table *t)
{
	const struct walk w = { .f = family_get(nfproto), .ops = ops, .h = h, .table = table };
	_cleanup_(scratch_free) struct scratch sc = { .ctx.arena = a };
	const char *name;
	uint32_t n = 0, i = 0;
	int r;

	memset(t, 0, sizeof(*t));
	t->backend = CG_BACKEND_IPTABLES_LEGACY;
	t->family = nfproto;
	t->name = arena_strdup(a, table);

	for (name = ops->first_chain(h); name; name = ops->next_chain(h))
		n++;
	t->n_chains = n;
	t->chains = n ? arena_alloc(a, n * sizeof(*t->chains)) : NULL;
	/* Every chain first, so a rule's jump can point at its target. The
	 * source names a jump's target by the very string it lists the chain
	 * under, so the index is keyed on that pointer: 300k jumps cost no
	 * string hashing. */
	hashmap_init(&sc.names, &sc.names_arena, n);
	sc.labels = n ? xcalloc(n, sizeof(*sc.labels)) : NULL;
	for (name = ops->first_chain(h); name && i < n; name = ops->next_chain(h), i++) {
		struct cg_chain *c = &t->chains[i];
		uint32_t hook;

		c->table = t;
		c->name = arena_strdup(a, name);
		sc.labels[i] = name;
		hashmap_put(&sc.names, &sc.labels[i], sizeof(sc.labels[i]), c);
		/* libiptc's builtin() searches the chain list: ask only when
		 * the name could be a built-in one */
		if (legacy_builtin_hook(name, &hook) == 0 && ops->builtin(name, h)) {
			r = chain_fill_base(&w, name, c);
			if (r < 0)
				return r;
		}
	}
	t->n_chains = i;
	sc.ctx.chains = &sc.names;
	/* the rules, in the order the chains were listed */
	for (name = ops->first_chain(h), i = 0; name && i < t->n_chains; name = ops->next_chain(h), i++) {
		r = chain_fill_rules(&w, sc.labels[i], &t->chains[i], &sc);
		if (r < 0)
			return r;
	}
	return 0;
}

int legacy_table_from_handle(struct xtc_handle *h, uint8_t nfproto, const char *table,
			     struct arena *a, struct cg_table *t)
{
	return legacy_table_from_source(family_get(nfproto)->iptc, h, nfproto, table, a, t);
}

/* ---- tables ----------------------------------------------------------- */

struct table_names {
	char names[16][XT_TABLE_MAXNAMELEN];
	unsigned n;
};

/* /proc/net/ip_tables_names lists the tables this namespace has; it is what
 * iptables-save reads too. Missing entirely: x_tables is not there. */
static int table_names_read(const struct legacy_family *f, struct table_names *tn)
{
	_cleanup_fclose_ FILE *fp = NULL;
	char line[64];

	memset(tn, 0, sizeof(*tn));
	fp = fopen(f->names_path, "re");
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		if (errno == EACCES || errno == EPERM)
			/* Root's 0440 file. Probing the tables instead would
			 * create every one that is missing (see the header). */
			return log_error_errno(-errno, "Cannot list the iptables-legacy %s tables (%s): "
					       "run as root (uid 0) with CAP_NET_ADMIN and CAP_NET_RAW",
					       f->label, f->names_path);
		return log_error_errno(-errno, "Cannot read %s (the list of iptables-legacy %s tables)",
				       f->names_path, f->label);
	}
	while (fgets(line, sizeof(line), fp) && tn->n < ARRAY_SIZE(tn->names)) {
		size_t len = strcspn(line, "\n");

		if (len == 0 || len >= XT_TABLE_MAXNAMELEN)
			continue;       /* not a table we could ask for anyway */
		memcpy(tn->names[tn->n], line, len);
		tn->names[tn->n++][len] = '\0';
	}
	return 0;
}

static bool table_listed(const struct table_names *tn, const char *table)
{
	for (unsigned i = 0; i < tn->n; i++)
		if (!strcmp(tn->names[i], table))
			return true;
	return false;
}

/* Returns 1 when the table was read, 0 when it does not exist. */
static int table_collect(const struct legacy_family *f, const char *table, struct arena *a,
			 struct cg_table *t)
{
	struct legacy_read_info ri;
	int r;

	r = legacy_table_read(f->nfproto, table, a, t, &ri);
	if (r < 0 && ri.logged)
		return r;
	if (r == -ENOENT) {
		log_debug("iptables-legacy %s table '%s' is gone; skipped", f->label, table);
		return 0;
	}
	if (r == -EPERM || r == -EACCES)
		return log_error_errno(r, "Cannot read iptables-legacy %s table '%s': "
				       "run as root or grant CAP_NET_ADMIN and CAP_NET_RAW (a raw socket reads the table)",
				       f->label, table);
	if (r == -EBADMSG)
		return log_error_errno(r, "iptables-legacy %s table '%s': the kernel's snapshot does not parse "
				       "(an entry, a chain boundary or a jump is out of place)", f->label, table);
	if (r < 0)
		return log_error_errno(r, "Cannot read iptables-legacy %s table '%s'", f->label, table);
	return 1;
}

int legacy_collect(struct cg_ruleset *rs)
{
	struct cg_table found[ARRAY_SIZE(families) * ARRAY_SIZE(legacy_tables)];
	struct cg_table *dst;
	unsigned n = 0;
	int r;

	for (size_t fi = 0; fi < ARRAY_SIZE(families); fi++) {
		const struct legacy_family *f = &families[fi];
		struct table_names tn;

		r = table_names_read(f, &tn);
		if (r < 0)
			return r;
		for (size_t ti = 0; ti < ARRAY_SIZE(legacy_tables); ti++) {
			if (!table_listed(&tn, legacy_tables[ti]))
				continue;
			r = table_collect(f, legacy_tables[ti], &rs->arena, &found[n]);
			if (r < 0)
				return r;
			n += r;
		}
	}
	if (!n)
		return 0;

	/* Tables move into the ruleset's array: chains point back to them. */
	dst = ruleset_add_tables(rs, n);
	for (unsigned i = 0; i < n; i++) {
		dst[i] = found[i];
		for (uint32_t c = 0; c < dst[i].n_chains; c++)
			dst[i].chains[c].table = &dst[i];
	}
	rs->have_legacy = true;
	return ruleset_resolve(rs);
}
