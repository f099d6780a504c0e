/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule model's bookkeeping: freeing, and the resolution pass that
 * turns names (jump targets, set references) into pointers once a ruleset is
 * complete, so the evaluator never searches by name (the enums' names are
 * in names.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/ruleset.h"

/* Chain names -> chains: a kube-proxy table has 100k chains, so the index
 * holds a chain's position and its name's hash (8 bytes a slot) rather
 * than a general map's 24; names are compared in the chains themselves. */
struct chain_slot {
	uint32_t pos1;              /* position in t->chains + 1; 0: empty */
	uint32_t hash;
};

struct chain_index {
	uint32_t mask;
	struct chain_slot *slots;
};

struct table_index {
	struct chain_index chains;
	struct cg_hashmap sets;     /* name -> struct cg_set */
	struct cg_hashmap set_ids;  /* id -> struct cg_set (sets with an id only) */
	bool resolved;
};

void ruleset_free(struct cg_ruleset *rs)
{
	for (uint32_t t = 0; t < rs->n_tables; t++)
		for (uint32_t i = 0; i < rs->tables[t].n_sets; i++)
			free(rs->tables[t].sets[i].lookups);
	if (rs->set_source && rs->set_source->ops && rs->set_source->ops->free)
		rs->set_source->ops->free(rs->set_source->ctx);
	arena_free(&rs->arena);
	memset(rs, 0, sizeof(*rs));
}

void ruleset_count(const struct cg_ruleset *rs, struct ruleset_counts *out)
{
	*out = (struct ruleset_counts){ 0 };
	for (uint32_t i = 0; i < rs->n_tables; i++) {
		const struct cg_table *t = &rs->tables[i];

		out->chains += t->n_chains;
		out->sets += t->n_sets;
		for (uint32_t j = 0; j < t->n_chains; j++)
			out->rules += t->chains[j].n_rules;
		for (uint32_t j = 0; j < t->n_sets; j++) {
			out->elems += t->sets[j].n_elems;
			out->ranges += t->sets[j].n_intervals;
			out->lazy_sets += !!(t->sets[j].flags & CG_SET_LAZY);
		}
	}
}

struct cg_table *ruleset_add_tables(struct cg_ruleset *rs, uint32_t n)
{
	struct cg_table *tables = arena_alloc(&rs->arena, (size_t)(rs->n_tables + n) * sizeof(*tables));

	if (rs->n_tables)
		memcpy(tables, rs->tables, rs->n_tables * sizeof(*tables));
	/* Chains and sets point back to their table, which just moved. */
	for (uint32_t i = 0; i < rs->n_tables; i++) {
		struct cg_table *t = &tables[i];

		for (uint32_t c = 0; c < t->n_chains; c++)
			t->chains[c].table = t;
		for (uint32_t s = 0; s < t->n_sets; s++)
			t->sets[s].table = t;
	}
	struct cg_table *first = &tables[rs->n_tables];
	rs->tables = tables;
	rs->n_tables += n;
	return first;
}

/* A chain name's hash, a word at a time (kube-proxy's 100k names are some
 * 26 bytes each, hashed once more per lookup): the index's own, nothing
 * outside it sees it. */
static uint32_t chain_name_hash(const char *name)
{
	size_t n = strlen(name);

	return (uint32_t)hash_mix64(hash_words(0x9e3779b97f4a7c15ULL ^ n, name, n));
}

/* The slot that holds `name`, or the empty one where it would go. */
static struct chain_slot *chain_slot_find(const struct cg_table *t, const struct chain_index *ci,
					  const char *name, uint32_t h)
{
	for (uint32_t i = h & ci->mask;; i = (i + 1) & ci->mask) {
		struct chain_slot *sl = &ci->slots[i];

		if (!sl->pos1 || (sl->hash == h && strcmp(t->chains[sl->pos1 - 1].name, name) == 0))
			return sl;
	}
}

void table_index_build(struct cg_table *t, struct arena *a)
{
	struct table_index *ix = arena_alloc(a, sizeof(*ix));
	uint32_t n_ids = 0;

	uint32_t cap = 16;

	while (cap < 2 * (uint64_t)t->n_chains)
		cap *= 2;
	ix->chains.mask = cap - 1;
	ix->chains.slots = arena_alloc(a, cap * sizeof(*ix->chains.slots));
	/* written once now: fresh arena pages read first (an empty slot)
	 * would map the zero page and fault again on the write */
	memset(ix->chains.slots, 0, cap * sizeof(*ix->chains.slots));
	/* the hashes run CHAIN_AHEAD chains ahead of the inserts, their
	 * slots asked for meanwhile: at 100k chains the slots (2 MiB) are
	 * not in the cache, and each insert would wait for one */
	enum { CHAIN_AHEAD = 16 };
	uint32_t ahead[CHAIN_AHEAD];
	for (uint32_t i = 0; i < t->n_chains && i < CHAIN_AHEAD; i++) {
		ahead[i] = chain_name_hash(t->chains[i].name);
		__builtin_prefetch(&ix->chains.slots[ahead[i] & ix->chains.mask], 1);
	}
	for (uint32_t i = 0; i < t->n_chains; i++) {
		const struct cg_chain *c = &t->chains[i];
		uint32_t h = ahead[i % CHAIN_AHEAD];
		struct chain_slot *sl;

		/* and the names further on (each in memory of its own) */
		if (i + 2 * CHAIN_AHEAD < t->n_chains)
			__builtin_prefetch(t->chains[i + 2 * CHAIN_AHEAD].name);
		if (i + CHAIN_AHEAD < t->n_chains) {
			uint32_t hn = chain_name_hash(t->chains[i + CHAIN_AHEAD].name);

			ahead[i % CHAIN_AHEAD] = hn;
			__builtin_prefetch(&ix->chains.slots[hn & ix->chains.mask], 1);
		}
		sl = chain_slot_find(t, &ix->chains, c->name, h);

		/* The kernel keeps chain names unique per table; a duplicate
		 * (hand-built model) keeps the first, as a lookup would. */
		if (!sl->pos1)
			*sl = (struct chain_slot){ .pos1 = i + 1, .hash = h };
	}
	hashmap_init(&ix->sets, a, t->n_sets);
	for (uint32_t i = 0; i < t->n_sets; i++) {
		struct cg_set *s = &t->sets[i];

		if (s->name)
			hashmap_put(&ix->sets, s->name, strlen(s->name), s);
		n_ids += s->id != 0;
	}
	hashmap_init(&ix->set_ids, a, n_ids);
	for (uint32_t i = 0; i < t->n_sets; i++) {
		struct cg_set *s = &t->sets[i];

		if (s->id)
			hashmap_put(&ix->set_ids, &s->id, sizeof(s->id), s);
	}
	t->index = ix;
}

struct cg_chain *chain_find(const struct cg_table *t, const char *name)
{
	const struct table_index *ix = t->index;

	const struct chain_slot *sl;

	if (!ix || !name)
		return NULL;
	sl = chain_slot_find(t, &ix->chains, name, chain_name_hash(name));
	return sl->pos1 ? &t->chains[sl->pos1 - 1] : NULL;
}

struct cg_set *set_find(const struct cg_table *t, const char *name)
{
	const struct table_index *ix = t->index;

	if (!ix || !name)
		return NULL;
	return hashmap_get(&ix->sets, name, strlen(name));
}

static struct cg_set *set_find_by_id(const struct cg_table *t, uint32_t id)
{
	const struct table_index *ix = t->index;

	if (!ix || !id)
		return NULL;
	return hashmap_get(&ix->set_ids, &id, sizeof(id));
}

/* Jumps and gotos can only name chains of the rule's own table (the kernel
 * refuses anything else), so the table is the whole search space. */
static void verdict_resolve(const struct cg_table *t, struct cg_verdict *v)
{
	if (v->code == CG_VERDICT_JUMP || v->code == CG_VERDICT_GOTO) {
		v->chain = chain_find(t, v->chain_name);
		if (v->chain)
			v->chain_name = v->chain->name; /* one copy of the name */
	}
}

static bool exprs_resolve(const struct cg_table *t, struct cg_expr *v, uint32_t n)
{
	bool changed = false;

	for (uint32_t i = 0; i < n; i++) {
		struct cg_expr *e = &v[i];

		switch (e->type) {
		case CG_EXPR_IMMEDIATE:
			if (e->immediate.verdict.code == CG_VERDICT_JUMP ||
			    e->immediate.verdict.code == CG_VERDICT_GOTO) {
				verdict_resolve(t, &e->immediate.verdict);
				changed = true;
			}
			break;
		case CG_EXPR_LOOKUP:
			e->lookup.set = set_find(t, e->lookup.set_name);
			if (!e->lookup.set && !e->lookup.set_name)
				e->lookup.set = set_find_by_id(t, e->lookup.set_id);
			changed = true;
			break;
		default:
			break;
		}
	}
	return changed;
}

static void rule_resolve(const struct cg_table *t, struct cg_rule *r)
{
	struct cg_expr_buf buf;
	struct cg_expr *v;

	if (!r->packed) {
		exprs_resolve(t, r->exprs, r->n_exprs);
		return;
	}
	/* unpacked into buf: writable */
	v = (struct cg_expr *)(uintptr_t)rule_exprs(r, &buf);
	if (exprs_resolve(t, v, r->n_exprs) && rule_repack(r, v) < 0)
		abort(); /* only pointer slots changed: cannot happen */
	expr_buf_free(&buf);
}

void chain_rules_resolve(const struct cg_table *t, struct cg_chain *ch)
{
	for (uint32_t r = 0; r < ch->n_rules; r++)
		rule_resolve(t, &ch->rules[r]);
}

int set_read_resolve(const struct cg_table *t, struct cg_set *s, struct arena *a)
{
	for (uint32_t e = 0; e < s->n_elems; e++)
		verdict_resolve(t, &s->elems[e].verdict);
	s->hash = NULL;
	return set_index_build(s, a);
}

int chain_read(const struct cg_chain *ch, const char **why)
{
	const struct cg_set_source *src = ch->table ? ch->table->source : NULL;

	if (!ch->unread)
		return 0;
	if (!src || !src->ops || !src->ops->load_chain) {
		*why = "a chain whose rules were not read";
		return -ENXIO;
	}
	return src->ops->load_chain(src->ctx, (struct cg_chain *)(uintptr_t)ch, why);
}

static void table_resolve(struct cg_table *t)
{
	for (uint32_t c = 0; c < t->n_chains; c++)
		for (uint32_t r = 0; r < t->chains[c].n_rules; r++)
			rule_resolve(t, &t->chains[c].rules[r]);
	for (uint32_t s = 0; s < t->n_sets; s++)
		for (uint32_t e = 0; e < t->sets[s].n_elems; e++)
			verdict_resolve(t, &t->sets[s].elems[e].verdict);
}

int ruleset_resolve(struct cg_ruleset *rs)
{
	for (uint32_t i = 0; i < rs->n_tables; i++) {
		struct cg_table *t = &rs->tables[i];
		struct table_index *ix;

		if (!t->index)
			table_index_build(t, &rs->arena);
		ix = t->index;
		if (ix->resolved)
			continue;
		if (!t->jumps_resolved)
			table_resolve(t);
		ix->resolved = true;
	}
	return model_index_sets(rs);
}
