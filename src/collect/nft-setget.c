/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lookups in sets too large to dump, asked of the kernel one key at a time.
 *
 * The collector stops dumping a set after a threshold of elements (nft.c):
 * the kernel resumes every element dump message by walking the set from its
 * first element, so a million ranges take a minute to dump. The simulator
 * only ever looks up a few concrete keys, so those sets are marked lazy
 * (CG_SET_LAZY) and each lookup becomes one NFT_MSG_GETSETELEM request (no
 * NLM_F_DUMP) carrying the key, which the kernel answers with the element the
 * key hits through the set backend's get operation:
 *  - hash and bitmap sets: the element whose key equals the key;
 *  - rbtree (single-field interval) sets: the start element of the range
 *    the key lies in, ENOENT in a gap (tests/nft-lazy.sh checks this against
 *    the dumped sets on random keys, boundaries included).
 * ENOENT means no element; then the set's catch-all element applies, which
 * is asked for once per set (an element carrying only
 * NFTA_SET_ELEM_FLAGS = NFT_SET_ELEM_CATCHALL).
 *
 * An answer is only good for the ruleset the rest of the model describes.
 * Every question is followed by NFT_MSG_GETGEN on the same socket (netlink
 * handles one socket's requests in order). If the generation is still the
 * one of the dump and the answer's nfgenmsg res_id (the generation's low 16
 * bits) agrees, the answer is the set's as it was dumped. If it moved (on a
 * Kubernetes node it moves every few seconds), the collector's change
 * notifications (nft-events.c), read up to that generation, tell whether a
 * commit since the dump touched this set (its definition or its elements):
 * if none did, the answer still is the dumped set's; if one did, or the
 * notifications cannot tell (lost, none), the lookup is unknown (-ESTALE),
 * as is any other failure: never a silent miss. Every answer, failures
 * included, is cached per (set, key): a key is asked once, and one
 * simulation sees one consistent set. */
#include "config.h"

#include <netinet/in.h> /* before <linux/netfilter.h>: glibc first (xt.h needs it) */

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/nlsock.h"
#include "cgnatcheck/xt.h"
#include "nft-internal.h"

/* One element answer is a few hundred bytes; the ACK follows it. */
#define SETGET_BUFSIZ (64u * 1024u)
/* How long a commit's notifications may lag behind its generation. */
#define SETGET_CATCHUP_MS 2000

struct answer {
	int r;                          /* 1, 0 or a negative errno */
	const struct cg_set_elem *elem;
	const char *why;
};

struct setget {
	struct cg_set_source source;
	struct arena arena;             /* answers, cache keys, messages */
	struct nlconn conn;             /* opened again after a failure */
	uint32_t generation;            /* of the dump */
	bool stale;                     /* changes unknown since the dump: all unknown */
	struct nft_watch watch;         /* the collector's notifications */
	bool watching;
	/* what commits after the dump touched: (kind, family, table, name)
	 * keys, kind 't' (a table), 'c' (a chain or its rules), 's' (a set
	 * or its elements); rebuilt larger when full */
	struct cg_hashmap changed;
	uint32_t changed_cap;
	struct changed_key { const void *key; uint32_t len; } *changed_keys;
	size_t n_changed, cap_changed;
	/* chains read (or not) through load_chain: (family, table, chain)
	 * -> the failure's sentence, for the chains that could not be read */
	struct cg_hashmap failed;
	uint32_t n_failed, failed_cap;
	struct nft_rule_ctx rctx;       /* rules of chains read later */
	/* (family, table, set, key) -> struct answer; rebuilt larger when
	 * half full (the map itself never grows) */
	struct cg_hashmap cache;
	uint32_t cache_cap;
	struct cache_entry {
		const void *key;
		uint32_t len;
		struct answer *a;
	} *entries;
	size_t n_entries, cap_entries;
};

/* --- netlink ------------------------------------------------------------- */

static void setget_close(struct setget *g)
{
	nlconn_close(&g->conn);
}

/* family, table, set and key (or "*" for the catch-all), unambiguous */
#define CACHE_KEY_MAX (2 + 2 * NFT_NAME_MAXLEN + 64)

static uint32_t set_key(uint8_t k[static CACHE_KEY_MAX], uint8_t family, const char *table, const char *set)
{
	size_t tl = strnlen(table, NFT_NAME_MAXLEN - 1), sl = strnlen(set, NFT_NAME_MAXLEN - 1);
	uint8_t *p = k;

	*p++ = family;
	memcpy(p, table, tl);
	p += tl;
	*p++ = 0;
	memcpy(p, set, sl);
	p += sl;
	*p++ = 0;
	return (uint32_t)(p - k);
}

static uint32_t obj_key(uint8_t k[static CACHE_KEY_MAX], char kind, uint8_t family, const char *table,
			const char *name)
{
	uint8_t tmp[CACHE_KEY_MAX];
	uint32_t len = set_key(tmp, family, table, name ? name : "");

	if (len >= CACHE_KEY_MAX)
		len = CACHE_KEY_MAX - 1;
	k[0] = (uint8_t)kind;
	memcpy(k + 1, tmp, len);
	return len + 1;
}

static void changed_rebuild(struct setget *g, uint32_t cap)
{
	hashmap_init(&g->changed, &g->arena, cap);
	g->changed_cap = cap;
	for (size_t i = 0; i < g->n_changed; i++)
		hashmap_put(&g->changed, g->changed_keys[i].key, g->changed_keys[i].len, &g->changed_keys[i]);
}

static bool was_changed(const struct setget *g, char kind, uint8_t family, const char *table, const char *name)
{
	uint8_t k[CACHE_KEY_MAX];

	if (hashmap_get(&g->changed, k, obj_key(k, 't', family, table, NULL)))
		return true;
	return kind != 't' && hashmap_get(&g->changed, k, obj_key(k, kind, family, table, name));
}

static void changed_add(struct setget *g, char kind, uint8_t family, const char *table, const char *name)
{
	uint8_t k[CACHE_KEY_MAX];
	uint32_t len;

	if (!table)
		return;
	len = obj_key(k, kind, family, table, name);
	if (hashmap_get(&g->changed, k, len))
		return;
	log_debug("nftables: %s %s %s%s%s changed since the dump (generation %u)",
		  kind == 't' ? "table" : kind == 'c' ? "chain" : "set", family_to_string(family), table,
		  name ? " " : "", name ? name : "", g->generation);
	grow_array((void **)&g->changed_keys, &g->cap_changed, g->n_changed + 1, sizeof(*g->changed_keys));
	g->changed_keys[g->n_changed] = (struct changed_key){ arena_memdup(&g->arena, k, len), len };
	if (++g->n_changed > g->changed_cap / 2)
		changed_rebuild(g, g->changed_cap * 4);
	else
		hashmap_put(&g->changed, g->changed_keys[g->n_changed - 1].key, len,
			    &g->changed_keys[g->n_changed - 1]);
}

/* A change since the dump (a commit of a later generation: the dump holds
 * the earlier ones) to anything: sets looked up per key and chains read
 * later must not have changed since. */
static void note(struct setget *g, const struct nft_change *ch)
{
	if (!nft_gen_ge(ch->gen, g->generation + 1))
		return;
	switch (ch->type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
		changed_add(g, 't', ch->family, ch->table, NULL);
		break;
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		if (ch->name)
			changed_add(g, 'c', ch->family, ch->table, ch->name);
		break;
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		if (ch->name)
			changed_add(g, 's', ch->family, ch->table, ch->name);
		break;
	default:
		break;
	}
}

static void on_change(const struct nft_change *ch, void *data)
{
	note(data, ch);
}

static bool set_changed(const struct setget *g, const struct cg_set *s)
{
	return was_changed(g, 's', s->table->family, s->table->name, s->name);
}

/* Reads the notifications up to generation gen: false when they cannot
 * tell what changed (none, lost), and then from now on. */
static bool changes_known_until(struct setget *g, uint32_t gen)
{
	int r;

	if (!g->watching)
		return false;
	r = nft_watch_poll(&g->watch, gen, SETGET_CATCHUP_MS, on_change, g);
	if (r < 0 || g->watch.lost) {
		log_debug("nftables: change notifications %s: lookups in large sets and chains not read yet "
			  "are unknown", r < 0 ? strerror(-r) : "lost");
		nft_watch_close(&g->watch);
		g->watching = false;
		g->stale = true;
		return false;
	}
	return true;
}

/* Whether s is still as dumped at generation `gen`, read after an answer:
 * the notifications up to gen tell. */
static bool set_unchanged_until(struct setget *g, const struct cg_set *s, uint32_t gen)
{
	if (!changes_known_until(g, gen) || set_changed(g, s))
		return false;
	log_debug("nftables: set %s %s %s: the ruleset moved on to generation %u since the dump at %u, "
		  "the set did not: its answer stands", family_to_string(s->table->family),
		  s->table->name, s->name, gen, g->generation);
	return true;
}

static int setget_open(struct setget *g)
{
	if (g->conn.nl)
		return 0;
	return nlconn_open(&g->conn, NETLINK_NETFILTER, SETGET_BUFSIZ);
}

/* Sends one request and runs cb on its answer until the ACK. Returns 0 or a
 * negative errno (the kernel's, or the callback's through errno). After a
 * failure the socket is replaced: it may still hold part of an answer. */
static int setget_talk(struct setget *g, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	int r = nlconn_talk(&g->conn, nlh, cb, data);

	/* ENOENT is an answer, not a broken exchange */
	if (r < 0 && r != -ENOENT)
		setget_close(g);
	return r;
}

struct elem_answer {
	struct setget *g;
	const struct cg_set *set;
	struct cg_set_elem *elem;       /* NULL until one arrived */
	uint32_t n;                     /* elements in the answer */
	uint16_t res_id;                /* nfgenmsg res_id of the answer */
};

static int elem_one_cb(struct nftnl_set_elem *ne, void *data)
{
	struct elem_answer *ea = data;

	if (ea->n++)
		return 0;
	ea->elem = arena_alloc(&ea->g->arena, sizeof(*ea->elem));
	nft_elem_convert(ne, ea->elem, &ea->g->arena);
	return 0;
}

static int elem_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elem_answer *ea = data;
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg))
		return nlconn_cb_fail(-EBADMSG);
	ea->res_id = ntohs(nfg->res_id);
	return nft_elems_msg_foreach(nlh, elem_one_cb, ea);
}

/* GETSETELEM for key (NULL: the catch-all element). */
static struct nlmsghdr *elem_request(struct setget *g, const struct cg_set *s, const uint8_t *key,
				     uint32_t len)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(g->conn.buf, NFT_MSG_GETSETELEM, s->table->family,
						     NLM_F_ACK, ++g->conn.seq);
	struct nlattr *list, *el, *k;

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, s->table->name);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, s->name);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	if (key) {
		k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, len, key);
		mnl_attr_nest_end(nlh, k);
	} else {
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_CATCHALL));
	}
	mnl_attr_nest_end(nlh, el);
	mnl_attr_nest_end(nlh, list);
	return nlh;
}

/* Asks the kernel; returns 1 (*out), 0 or a negative errno. */
static int ask(struct setget *g, const struct cg_set *s, const uint8_t *key, uint32_t len,
	       struct cg_set_elem **out)
{
	struct elem_answer ea = { .g = g, .set = s };
	uint32_t gen = 0;
	int r, q;

	*out = NULL;
	if (g->stale || set_changed(g, s))
		return -ESTALE; /* known already: no need to ask */
	r = setget_open(g);
	if (r < 0)
		return r;
	q = setget_talk(g, elem_request(g, s, key, len), elem_msg_cb, &ea);
	if (q < 0 && q != -ENOENT)
		return q;
	/* After the answer, on the same socket: which ruleset answered. */
	r = setget_talk(g, nft_gen_request(&g->conn), nft_gen_cb, &gen);
	if (r < 0)
		return r;
	if (gen == g->generation ? q == 0 && ea.res_id != (g->generation & 0xffff) :
	    !set_unchanged_until(g, s, gen)) {
		log_debug("nftables ruleset generation %u, answer %u: set %s %s %s changed since the dump "
			  "at generation %u, or no notifications tell", gen, ea.res_id,
			  family_to_string(s->table->family), s->table->name, s->name, g->generation);
		if (!g->watching)
			g->stale = true;
		return -ESTALE;
	}
	if (q == -ENOENT)
		return 0;
	if (ea.n != 1 || !ea.elem)
		return -EBADMSG;
	/* Interval sets: a key inside a range finds the range's start. An end
	 * marker is not what a lookup returns: do not guess what it means. */
	if (ea.elem->interval_end)
		return -EBADMSG;
	if (!key && !ea.elem->catchall)
		return -EBADMSG;
	if (ea.elem->verdict.code == CG_VERDICT_JUMP || ea.elem->verdict.code == CG_VERDICT_GOTO)
		ea.elem->verdict.chain = chain_find(s->table, ea.elem->verdict.chain_name);
	*out = ea.elem;
	return 1;
}

/* --- the cache ----------------------------------------------------------- */

static void cache_rebuild(struct setget *g, uint32_t cap)
{
	hashmap_init(&g->cache, &g->arena, cap);
	g->cache_cap = cap;
	for (size_t i = 0; i < g->n_entries; i++)
		hashmap_put(&g->cache, g->entries[i].key, g->entries[i].len, g->entries[i].a);
}

static void cache_put(struct setget *g, const void *key, uint32_t len, struct answer *a)
{
	struct cache_entry *e;

	grow_array((void **)&g->entries, &g->cap_entries, g->n_entries + 1, sizeof(*g->entries));
	e = &g->entries[g->n_entries++];
	e->key = key;
	e->len = len;
	e->a = a;
	if (g->n_entries > g->cache_cap)
		cache_rebuild(g, g->cache_cap * 4);
	else
		hashmap_put(&g->cache, key, len, a);
}

static uint32_t cache_key(uint8_t k[static CACHE_KEY_MAX], const struct cg_set *s, const uint8_t *key,
			  uint32_t len)
{
	size_t tl = strnlen(s->table->name, NFT_NAME_MAXLEN - 1), sl = strnlen(s->name, NFT_NAME_MAXLEN - 1);
	uint8_t *p = k;

	if (len > 64)
		len = 64;
	*p++ = s->table->family;
	*p++ = key ? 'k' : '*';
	memcpy(p, s->table->name, tl);
	p += tl;
	*p++ = 0;
	memcpy(p, s->name, sl);
	p += sl;
	*p++ = 0;
	if (key) {
		memcpy(p, key, len);
		p += len;
	}
	return (uint32_t)(p - k);
}

static const char *reason(int r)
{
	switch (r) {
	case -ESTALE:
		return "the set changed since the ruleset was collected";
	case -EBADMSG:
		return "its answer was not a single element of the set";
	default:
		return strerror(-r);
	}
}

static int setget_get(void *ctx, const struct cg_set *s, const uint8_t *key, uint32_t len,
		      const struct cg_set_elem **out, const char **why)
{
	struct setget *g = ctx;
	struct cg_set_elem *elem;
	struct answer *a;
	uint8_t k[CACHE_KEY_MAX];
	uint32_t klen;
	char *msg;
	int r;

	*out = NULL;
	klen = cache_key(k, s, key, len);
	a = hashmap_get(&g->cache, k, klen);
	if (!a) {
		r = ask(g, s, key, len, &elem);
		a = arena_alloc(&g->arena, sizeof(*a));
		a->r = r;
		a->elem = elem;
		if (r < 0) {
			const char *what = reason(r);
			size_t n = strlen(what) + strlen(s->table->name) + strlen(s->name) + 128;

			msg = arena_alloc(&g->arena, n);
			snprintf(msg, n, "the kernel could not be asked about set %s %s %s: %s",
				 family_to_string(s->table->family), s->table->name, s->name, what);
			a->why = msg;
			log_debug("Lookup in the nftables set %s %s %s: %s", family_to_string(s->table->family),
				  s->table->name, s->name, what);
		}
		cache_put(g, arena_memdup(&g->arena, k, klen), klen, a);
	}
	*out = a->elem;
	if (a->r < 0)
		*why = a->why;
	return a->r;
}

static void setget_free(void *ctx)
{
	struct setget *g = ctx;

	if (!g)
		return;
	setget_close(g);
	if (g->watching)
		nft_watch_close(&g->watch);
	free(g->entries);
	free(g->changed_keys);
	nft_rule_ctx_free(&g->rctx);
	arena_free(&g->arena);
	free(g);
}

/* --- chains read when a packet reaches them ------------------------------ */

struct chain_read {
	struct setget *g;
	struct cg_chain *ch;
	struct cg_rule *rules;
	size_t n, cap;
	struct cg_set_elem *elems;
	size_t n_elems, cap_elems;
};

static int chain_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct chain_read *cr = data;
	struct nft_rule_id id;
	struct cg_rule rule;

	if (nft_rule_from_nlmsg_ctx(nlh, &cr->g->arena, &cr->g->rctx, &rule, &id) < 0)
		return nlconn_cb_fail(-EBADMSG);
	if (id.family != cr->ch->table->family || strcmp(id.table, cr->ch->table->name) != 0 ||
	    strcmp(id.chain, cr->ch->name) != 0)
		return MNL_CB_OK; /* a kernel that ignores the chain filter */
	grow_array((void **)&cr->rules, &cr->cap, cr->n + 1, sizeof(*cr->rules));
	rule.chain = cr->ch;
	rule.index = (uint32_t)cr->n + 1;
	cr->rules[cr->n++] = rule;
	return MNL_CB_OK;
}

static int chain_elem_cb(struct nftnl_set_elem *ne, void *data)
{
	struct chain_read *cr = data;

	grow_array((void **)&cr->elems, &cr->cap_elems, cr->n_elems + 1, sizeof(*cr->elems));
	memset(&cr->elems[cr->n_elems], 0, sizeof(*cr->elems));
	nft_elem_convert(ne, &cr->elems[cr->n_elems++], &cr->g->arena);
	return 0;
}

static int chain_elems_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	return nft_elems_msg_foreach(nlh, chain_elem_cb, data);
}

/* The unread sets the rules look up, in `sets` (at most max). */
static size_t unread_sets(const struct cg_table *t, const struct cg_rule *rules, size_t n,
			  struct cg_set **sets, size_t max)
{
	size_t k = 0;

	for (size_t r = 0; r < n; r++) {
		struct cg_expr_buf buf;
		const struct cg_expr *x = rule_exprs(&rules[r], &buf);

		for (uint32_t i = 0; i < rules[r].n_exprs; i++) {
			struct cg_set *s;
			bool dup = false;

			if (x[i].type != CG_EXPR_LOOKUP || !x[i].lookup.set_name)
				continue;
			s = set_find(t, x[i].lookup.set_name);
			if (!s || !(s->flags & CG_SET_UNREAD))
				continue;
			for (size_t j = 0; j < k && !dup; j++)
				dup = sets[j] == s;
			if (!dup && k < max)
				sets[k++] = s;
		}
		expr_buf_free(&buf);
	}
	return k;
}

#define CHAIN_SETS_MAX 64

/* Reads ch's rules and the elements of the unread sets they use, then checks
 * that none of it changed since the dump. Returns 0 or a negative errno. */
static int chain_load(struct setget *g, struct cg_chain *ch)
{
	const struct cg_table *t = ch->table;
	struct chain_read cr = { .g = g, .ch = ch };
	struct cg_set *sets[CHAIN_SETS_MAX];
	struct cg_set_elem *set_elems[CHAIN_SETS_MAX];
	uint32_t set_n[CHAIN_SETS_MAX];
	size_t n_sets;
	uint32_t gen = 0;
	struct nlmsghdr *nlh;
	int r;

	if (g->stale || was_changed(g, 'c', t->family, t->name, ch->name))
		return -ESTALE;
	r = setget_open(g);
	if (r < 0)
		return r;
	nlh = nftnl_nlmsg_build_hdr(g->conn.buf, NFT_MSG_GETRULE, t->family, NLM_F_DUMP, ++g->conn.seq);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, t->name);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, ch->name);
	g->rctx.table = t;
	r = setget_talk(g, nlh, chain_rule_cb, &cr);
	g->rctx.table = NULL;
	if (r < 0)
		goto out;
	n_sets = unread_sets(t, cr.rules, cr.n, sets, CHAIN_SETS_MAX);
	for (size_t i = 0; i < n_sets; i++) {
		if (was_changed(g, 's', t->family, t->name, sets[i]->name)) {
			r = -ESTALE;
			goto out;
		}
		cr.n_elems = 0;
		nlh = nftnl_nlmsg_build_hdr(g->conn.buf, NFT_MSG_GETSETELEM, t->family, NLM_F_DUMP, ++g->conn.seq);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, t->name);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, sets[i]->name);
		r = setget_talk(g, nlh, chain_elems_msg_cb, &cr);
		if (r < 0)
			goto out;
		set_n[i] = (uint32_t)cr.n_elems;
		set_elems[i] = cr.n_elems ? arena_memdup(&g->arena, cr.elems, cr.n_elems * sizeof(*cr.elems)) : NULL;
	}
	/* which ruleset answered: the dump's, or one since that touched none
	 * of it */
	r = setget_talk(g, nft_gen_request(&g->conn), nft_gen_cb, &gen);
	if (r < 0)
		goto out;
	if (gen != g->generation) {
		bool same = changes_known_until(g, gen) && !was_changed(g, 'c', t->family, t->name, ch->name);

		for (size_t i = 0; same && i < n_sets; i++)
			same = !was_changed(g, 's', t->family, t->name, sets[i]->name);
		if (!same) {
			r = -ESTALE;
			goto out;
		}
	}
	for (size_t i = 0; i < n_sets; i++) {
		sets[i]->elems = set_elems[i];
		sets[i]->n_elems = set_n[i];
		sets[i]->flags &= ~(uint32_t)CG_SET_UNREAD;
		if (set_read_resolve(t, sets[i], &g->arena) < 0)
			log_warning("Set %s %s %s holds elements whose key length is not %u bytes; they are "
				    "ignored in lookups", family_to_string(t->family), t->name, sets[i]->name,
				    sets[i]->key_len);
	}
	ch->rules = cr.n ? arena_memdup(&g->arena, cr.rules, cr.n * sizeof(*cr.rules)) : NULL;
	ch->n_rules = (uint32_t)cr.n;
	for (uint32_t i = 0; i < ch->n_rules; i++)
		ch->rules[i].chain = ch;
	ch->unread = false;
	chain_rules_resolve(t, ch);
	log_debug("nftables: read chain %s %s %s (%u rules, %zu sets) when a packet reached it%s",
		  family_to_string(t->family), t->name, ch->name, ch->n_rules, n_sets,
		  gen != g->generation ? "; the ruleset moved on since the dump, the chain did not" : "");
	r = 0;
out:
	free(cr.rules);
	free(cr.elems);
	return r;
}

static int setget_load_chain(void *ctx, struct cg_chain *ch, const char **why)
{
	struct setget *g = ctx;
	const struct cg_table *t = ch->table;
	uint8_t k[CACHE_KEY_MAX];
	uint32_t klen = obj_key(k, 'c', t->family, t->name, ch->name);
	const char *msg = hashmap_get(&g->failed, k, klen);
	int r;

	if (!msg) {
		r = chain_load(g, ch);
		if (r >= 0)
			return 0;
		const char *what = r == -ESTALE ? "it changed since the ruleset was collected" :
				   r == -EBADMSG ? "the kernel's answer was not understood" : strerror(-r);
		size_t n = strlen(what) + strlen(t->name) + strlen(ch->name) + 96;
		char *m = arena_alloc(&g->arena, n);

		snprintf(m, n, "nftables chain %s %s %s could not be read when the packet reached it: %s",
			 family_to_string(t->family), t->name, ch->name, what);
		log_debug("%s", m);
		if (g->n_failed >= g->failed_cap / 2) {
			/* a full map stops finding: start a larger one (the
			 * failures before are asked again, and fail again) */
			g->failed_cap *= 4;
			hashmap_init(&g->failed, &g->arena, g->failed_cap);
			g->n_failed = 0;
		}
		hashmap_put(&g->failed, arena_memdup(&g->arena, k, klen), klen, m);
		g->n_failed++;
		msg = m;
	}
	*why = msg;
	return -ESTALE;
}

static const struct cg_set_source_ops setget_ops = {
	.get = setget_get,
	.load_chain = setget_load_chain,
	.free = setget_free,
};

struct cg_set_source *nft_set_source_new(const struct cg_ruleset *rs, struct nft_watch *watch)
{
	struct setget *g = xmalloc(sizeof(*g));
	int r;

	memset(g, 0, sizeof(*g));
	g->source.ops = &setget_ops;
	g->source.ctx = g;
	g->generation = rs->nft_generation;
	if (watch) {
		g->watch = *watch;
		g->watching = true;
		memset(watch, 0, sizeof(*watch));
	}
	changed_rebuild(g, 64);
	g->failed_cap = 64;
	hashmap_init(&g->failed, &g->arena, g->failed_cap);
	g->rctx.xt = xt_intern_new();
	cache_rebuild(g, 16);
	r = setget_open(g);
	if (r < 0) {
		log_error_errno(r, "Failed to open a netfilter netlink socket for lookups in large sets");
		setget_free(g);
		return NULL;
	}
	return &g->source;
}

void nft_set_source_changed(struct cg_set_source *source, const struct cg_set *s)
{
	changed_add(source->ctx, 's', s->table->family, s->table->name, s->name);
}

void nft_source_note(struct cg_set_source *source, const struct nft_change *ch)
{
	note(source->ctx, ch);
}
