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
	/* the lazy sets (family, table, set) -> bool: changed since the dump */
	struct cg_hashmap lazy;
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

/* A change since the dump to one of our sets (a commit of a later
 * generation: the dump holds the earlier ones). */
static void on_change(const struct nft_change *ch, void *data)
{
	struct setget *g = data;
	uint8_t k[CACHE_KEY_MAX];
	bool *changed;

	if (!ch->name || !nft_gen_ge(ch->gen, g->generation + 1))
		return;
	switch (ch->type) {
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		changed = hashmap_get(&g->lazy, k, set_key(k, ch->family, ch->table, ch->name));
		if (changed && !*changed) {
			log_debug("nftables: set %s %s %s changed since the dump (generation %u)",
				  family_to_string(ch->family), ch->table, ch->name, ch->gen);
			*changed = true;
		}
		break;
	default:
		break;
	}
}

static bool *set_changed_flag(const struct setget *g, const struct cg_set *s)
{
	uint8_t k[CACHE_KEY_MAX];

	return hashmap_get(&g->lazy, k, set_key(k, s->table->family, s->table->name, s->name));
}

/* Whether s is still as dumped at generation `gen`, read after an answer:
 * the notifications up to gen tell. */
static bool set_unchanged_until(struct setget *g, const struct cg_set *s, uint32_t gen)
{
	const bool *changed;
	int r;

	if (!g->watching)
		return false;
	r = nft_watch_poll(&g->watch, gen, SETGET_CATCHUP_MS, on_change, g);
	if (r < 0 || g->watch.lost) {
		log_debug("nftables: change notifications %s: lookups in large sets are unknown",
			  r < 0 ? strerror(-r) : "lost");
		nft_watch_close(&g->watch);
		g->watching = false;
		return false;
	}
	changed = set_changed_flag(g, s);
	if (changed && !*changed)
		log_debug("nftables: set %s %s %s: the ruleset moved on to generation %u since the dump at %u, "
			  "the set did not: its answer stands", family_to_string(s->table->family),
			  s->table->name, s->name, gen, g->generation);
	return changed && !*changed;
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
	struct nftnl_set *ns;
	int r = MNL_CB_OK;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg))
		return nlconn_cb_fail(-EBADMSG);
	ea->res_id = ntohs(nfg->res_id);
	ns = nftnl_set_alloc();
	if (!ns)
		return nlconn_cb_fail(-ENOMEM);
	if (nftnl_set_elems_nlmsg_parse(nlh, ns) < 0)
		r = nlconn_cb_fail(-EBADMSG);
	else
		nftnl_set_elem_foreach(ns, elem_one_cb, ea);
	nftnl_set_free(ns);
	return r;
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
	const bool *changed;
	uint32_t gen = 0;
	int r, q;

	*out = NULL;
	changed = set_changed_flag(g, s);
	if (g->stale || (changed && *changed))
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
	arena_free(&g->arena);
	free(g);
}

static const struct cg_set_source_ops setget_ops = {
	.get = setget_get,
	.free = setget_free,
};

struct cg_set_source *nft_set_source_new(const struct cg_ruleset *rs, struct nft_watch *watch)
{
	struct setget *g = xmalloc(sizeof(*g));
	uint32_t n_lazy = 0;
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
	for (uint32_t i = 0; i < rs->n_tables; i++)
		for (uint32_t j = 0; j < rs->tables[i].n_sets; j++)
			n_lazy += !!(rs->tables[i].sets[j].flags & CG_SET_LAZY);
	hashmap_init(&g->lazy, &g->arena, n_lazy);
	for (uint32_t i = 0; i < rs->n_tables; i++) {
		const struct cg_table *t = &rs->tables[i];

		for (uint32_t j = 0; j < t->n_sets; j++) {
			uint8_t k[CACHE_KEY_MAX];
			uint32_t len;

			if (!(t->sets[j].flags & CG_SET_LAZY))
				continue;
			len = set_key(k, t->family, t->name, t->sets[j].name);
			hashmap_put(&g->lazy, arena_memdup(&g->arena, k, len), len,
				    arena_alloc(&g->arena, sizeof(bool)));
		}
	}
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
	bool *changed = set_changed_flag(source->ctx, s);

	if (changed)
		*changed = true;
}
