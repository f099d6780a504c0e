/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The walk that compiles one iptables-legacy table, whatever reads it: the
 * family's view of an entry (ipt_entry / ip6t_entry), a built-in chain's
 * hook, priority and policy, a rule compiled from its entry, and the whole
 * walk over a source (legacy_source_ops: libiptc's handle in legacy.c, the
 * kernel's snapshot in legacy-snapshot.c). Below both of them. */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/xt.h"
#include "legacy-internal.h"

/* ---- entries ---------------------------------------------------------- */

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

void (*legacy_entry_view(uint8_t nfproto))(const void *e, struct entry_view *v)
{
	return nfproto == NFPROTO_IPV6 ? ip6_view : ip4_view;
}

const struct xt_entry_target *legacy_entry_target(const struct entry_view *v)
{
	return (const void *)((const uint8_t *)v->entry + v->target_offset);
}

/* A standard target's verdict; false for any other target. */
bool legacy_standard_verdict(const struct entry_view *v, int *verdict)
{
	const struct xt_entry_target *t = legacy_entry_target(v);

	if (t->u.user.name[0] != '\0')
		return false;
	*verdict = ((const struct xt_standard_target *)t)->verdict;
	return true;
}

/* libiptc's name of a standard verdict ("ACCEPT", "DROP", "QUEUE", "RETURN");
 * NULL for a jump (an offset). */
const char *legacy_verdict_label(int verdict)
{
	switch (verdict) {
	case -NF_ACCEPT - 1:
		return "ACCEPT";
	case -NF_DROP - 1:
		return "DROP";
	case -NF_QUEUE - 1:
		return "QUEUE";
	case XT_RETURN:
		return "RETURN";
	default:
		return NULL;
	}
}

const char *legacy_family_label(uint8_t nfproto)
{
	return nfproto == NFPROTO_IPV6 ? "IPv6" : "IPv4";
}

/* ---- chains ----------------------------------------------------------- */

static const char *const builtin_names[NF_INET_NUMHOOKS] = {
	[NF_INET_PRE_ROUTING] = "PREROUTING", [NF_INET_LOCAL_IN] = "INPUT",
	[NF_INET_FORWARD] = "FORWARD", [NF_INET_LOCAL_OUT] = "OUTPUT",
	[NF_INET_POST_ROUTING] = "POSTROUTING",
};

const char *legacy_builtin_name(uint32_t hook)
{
	return hook < ARRAY_SIZE(builtin_names) ? builtin_names[hook] : NULL;
}

int legacy_builtin_hook(const char *chain, uint32_t *hook)
{
	for (uint32_t i = 0; i < ARRAY_SIZE(builtin_names); i++)
		if (!strcmp(chain, builtin_names[i])) {
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
	uint8_t nfproto;
	void (*view)(const void *e, struct entry_view *v);
	const struct legacy_source_ops *ops;
	void *h;
	const char *table;
};

int legacy_chain_base(uint8_t nfproto, const char *table, const char *policy, struct cg_chain *c)
{
	const char *label = legacy_family_label(nfproto);
	int r;

	r = legacy_builtin_hook(c->name, &c->hook);
	if (r < 0)
		return log_error_errno(r, "iptables-legacy %s table '%s': built-in chain '%s' has no known hook",
				       label, table, c->name);
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
				       label, table, c->name, policy ? policy : "(none)");
	return 0;
}

static int chain_fill_base(const struct walk *w, const char *label, struct cg_chain *c)
{
	return legacy_chain_base(w->nfproto, w->table, w->ops->get_policy(label, w->h), c);
}

int legacy_rule_fill(uint8_t nfproto, const char *table, struct cg_chain *c, uint32_t i,
		     const struct entry_view *v, struct compile_ctx *ctx)
{
	const char *label = legacy_family_label(nfproto);
	struct cg_rule *rule = &c->rules[i];
	int r;

	if (!v->target_label)
		return log_error_errno(-EBADMSG, "iptables-legacy %s table '%s': rule %u of chain %s jumps "
				       "to no chain", label, table, i + 1, c->name);
	rule->chain = c;
	rule->index = i + 1;
	r = legacy_rule_compile(v, ctx, rule);
	if (r < 0)
		return log_error_errno(r, "iptables-legacy %s table '%s': rule %u of chain %s is malformed",
				       label, table, i + 1, c->name);
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
		w->view(e, &v);
		v.target_label = w->ops->get_target(e, w->h);
		r = legacy_rule_fill(w->nfproto, w->table, c, i, &v, &sc->ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

int legacy_table_from_source(const struct legacy_source_ops *ops, void *h, uint8_t nfproto,
			     const char *table, struct arena *a, struct cg_table *t)
{
	const struct walk w = { .nfproto = nfproto, .view = legacy_entry_view(nfproto), .ops = ops, .h = h,
				.table = table };
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
	/* every jump points at its chain: ruleset_resolve() need not look */
	t->jumps_resolved = sc.ctx.unresolved == 0;
	t->no_xt_set = sc.ctx.set_matches == 0;
	return 0;
}
