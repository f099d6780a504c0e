/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nf_tables collector.
 *
 * Reads the whole ruleset in bulk, the way `nft list ruleset` does: one dump
 * each of tables, chains, sets and rules across all families, then one
 * element dump per set (the kernel offers no other way), all on one netlink
 * socket with a large receive buffer. Nothing is requested per rule or per
 * chain, so 300k rules cost four dumps.
 *
 * What a dump costs is the kernel's business, and it is not linear: for every
 * message (at most ~32 KiB, the kernel's cap) nf_tables resumes by walking
 * its lists from the first rule, or the set's tree from the first element,
 * skipping what it sent before. A dump of N objects thus costs about
 * N^2 / (2 * objects per message) steps: 100k rules ~3 s of kernel time,
 * 350k rules ~20 s, 1M interval ranges ~65 s, for nft(8) as much as for us.
 * Only the element dump per set is cut into pieces by nature.
 *
 * So large sets are not dumped at all: once a set's dump passes
 * CGNATCHECK_SET_DUMP_MAX elements (default NFT_SET_DUMP_MAX; 0 makes every
 * eligible set lazy without dumping it) we stop reading it (a dump cannot be
 * cancelled: the socket is replaced), mark the set CG_SET_LAZY and leave its
 * elements in the kernel: the simulator looks up a handful of keys, and
 * nft-setget.c asks the kernel for each (NFT_MSG_GETSETELEM per key). Only
 * sets whose kernel get operation answers what the packet path's lookup
 * would are eligible: exact sets and maps (hash, bitmap) and single-field
 * interval sets (rbtree, which answers a key inside a range with the range's
 * start element). Concatenated ranges (pipapo) and anonymous sets (their
 * elements are printed inside the rules) are always dumped.
 *
 * Consistency. The kernel bumps one generation for the whole ruleset on
 * every commit, and on a Kubernetes node kube-proxy commits every few
 * seconds while a 300k-rule read takes two: "read it all again until the
 * generation holds still" may never end. So we also listen to the nf_tables
 * change notifications (NFNLGRP_NFTABLES, nft-events.c), subscribed before
 * the first generation is read: every later commit tells us each table,
 * chain, rule, set and element it touched, and its generation (the commit
 * ends with NFT_MSG_NEWGEN). Each chain's rules and each set's elements
 * are held with the generation read before they were dumped; the list of
 * tables, chains and sets as a whole likewise (its dumps resume by
 * position, so any chain or set created or deleted moves the rest). A
 * commit of a generation at or after that touches what we hold makes it
 * stale from that generation on. A read ends by reading the generation G
 * and waiting until every commit up to G has been told: if nothing held was
 * touched by then, what we hold is exactly the ruleset of generation G,
 * however long it took to read. Otherwise what was touched, and only that,
 * is read again, right after the next commit (or a jittered pause), so a
 * writer that rewrites its own table keeps neither Tailscale's chains nor
 * anyone else's from being held. Because the notifications say which
 * objects moved, a dump flagged NLM_F_DUMP_INTR (the generation moved while
 * it ran) is not thrown away: only what the commits touched is. If
 * notifications were lost (the socket overran, a commit's generation was
 * skipped) or cannot be had, everything is read again, and only a read the
 * generation did not move during counts. After a budget of several seconds
 * (NFT_BUDGET_MS, or more for a ruleset that is slow to read) we give up
 * with an error naming what kept changing: never a mix of two rulesets.
 *
 * Which tables are iptables-nft's: nft_table_owner() (nft-owner.c), once
 * the whole ruleset is read. Neither the kernel nor either tool records it;
 * nft warns "managed by iptables-nft" for a table with an xt expression,
 * iptables-nft takes any ip/ip6 table with its built-in names for its own
 * and lists it when it can parse every rule. nft-owner.c reads both, and
 * what each writes (interface names, counters, comments), into one
 * decision per table. */
#include "config.h"

#include <netinet/in.h> /* before <linux/netfilter.h>: glibc first (xt.h needs it) */

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/nlsock.h"
#include "cgnatcheck/xt.h"
#include "nft-internal.h"

/* How long we keep trying for a consistent view before giving up (exit 3),
 * at least: CGNATCHECK_NFT_RETRY_MS overrides it. A ruleset that takes long
 * to read gets NFT_BUDGET_READS times its first complete read. */
#define NFT_BUDGET_MS 10000
#define NFT_BUDGET_READS 4
/* Between two reads that met a change: until the next commit ends (then the
 * writer is least likely to be in the middle of something), or this long
 * (doubling from 5 ms, at most 320 ms, jittered by +-50%) when none comes. */
#define NFT_BACKOFF_MS 5
#define NFT_BACKOFF_MAX_MS 320
/* How long a commit's notifications may lag behind its generation. */
#define NFT_CATCHUP_MS 2000
/* Objects read between two looks at the notifications (and the generation):
 * the socket holds what arrives meanwhile, and a change is placed against
 * the generation the object was read at. */
#define NFT_CHECK_EVERY 64
/* A dump message is at most a few pages, but a truncated read loses the
 * rest of it (ENOSPC): read with room to spare. */
#define NFT_RECV_BUFSIZ (1u << 20)
/* Elements (interval sets: start and end markers each) dumped before a set
 * becomes lazy. 65536 cost a few milliseconds of kernel time. */
#define NFT_SET_DUMP_MAX 65536u

struct tmp_chain {
	uint32_t table;
	struct cg_chain chain;
};

struct tmp_set {
	uint32_t table;
	struct cg_set set;
};

/* Since when we hold one chain's rules (they are in the chain; a kube-proxy
 * table has 100k chains, so this is small). A commit that touched them
 * after they were read (changed) makes them stale from its generation on:
 * what was read is still the ruleset of any generation before that one. */
struct chain_state {
	uint32_t read_gen;              /* the generation before they were read */
	uint32_t changed_gen;           /* the first commit since that touched them */
	bool valid;                     /* read (and not to be read again) */
	bool changed;
	bool wanted;                    /* to be read (every chain unless lazy) */
};

/* ... and of one set's elements */
struct set_state {
	uint32_t read_gen;
	uint32_t changed_gen;           /* lazy sets: the last commit that touched it */
	bool valid;
	bool changed;
	bool lazy;                      /* not dumped: looked up per key */
	bool wanted;                    /* to be read (every set unless lazy) */
	uint32_t n_elems, n_elems_seen;
	struct cg_set_elem *elems;
};

/* where a table's chains and sets are in the state arrays */
struct table_state {
	uint32_t chain0, set0;
};

#define VEC(type) struct { type *v; size_t n, cap; }
#define VEC_PUSH(vec) \
	(grow_array((void **)&(vec).v, &(vec).cap, (vec).n + 1, sizeof(*(vec).v)), \
	 memset(&(vec).v[(vec).n], 0, sizeof(*(vec).v)), &(vec).v[(vec).n++])

#define CHANGED_NAMED 3

struct collect {
	struct cg_ruleset *rs;          /* the model being built (its arena) */
	struct arena *a;
	struct nlconn conn;
	struct nft_watch watch;
	bool watching;                  /* watch is open: changes are known object by object */
	uint32_t gen0;                  /* the generation when we started */
	uint32_t gen;                   /* the last one read: what reads now start from */

	/* The structure: rs->tables with their chains and sets (no rules, no
	 * elements: those are in the states), read at struct_gen. */
	bool have_struct;
	bool struct_valid;              /* not to be read again */
	bool struct_changed;            /* since struct_gen, first by struct_changed_gen */
	uint32_t struct_gen, struct_changed_gen;
	struct cg_hashmap table_names;  /* family byte + name -> table */
	struct table_state *tstates;
	struct chain_state *cstates;
	struct set_state *sstates;
	uint32_t n_cstates, n_sstates;

	/* staging while dumping */
	VEC(struct cg_table) tables;
	VEC(struct tmp_chain) chains;
	VEC(struct tmp_set) sets;
	VEC(struct cg_rule) rules;      /* the chain being dumped */
	VEC(struct cg_set_elem) elems;
	struct nft_rule_ctx rctx;
	struct cg_chain *dumping;       /* whose rules are being dumped */
	struct cg_chain *last_chain;    /* rules arrive grouped by chain */
	struct nft_rule_id last_id;
	uint32_t dump_max;              /* CGNATCHECK_SET_DUMP_MAX */
	bool may_stop;                  /* the set being dumped may become lazy */
	bool stopped;                   /* ... and did: its dump was abandoned */
	bool intr;                      /* a dump message carried NLM_F_DUMP_INTR */

	/* what made the last read inconsistent, for the message if we give up */
	char changed[CHANGED_NAMED][32 + 3 * NFT_NAME_MAXLEN];
	uint32_t n_changed;
	/* Reading only what packets can reach (nft_collect_opts()): tables
	 * of more than lazy_min chains are read in part (see wanted_mark()). */
	const struct nft_collect_opts *opts;
	uint32_t lazy_min;
	bool cache_recording;           /* the chain dump is recorded in opts->chain_cache */
	/* every change seen, for the source of what is read later: those of
	 * commits after the generation we end up with are its business */
	VEC(struct nft_change) seen;
	struct arena seen_arena;
	/* for --debug */
	uint32_t reads, chains_reread, sets_reread, structs_read;
	double ms_elems;                /* of the reads, in set element dumps */
	uint64_t jitter;
};

static void staging_free(struct collect *c)
{
	free(c->tables.v);
	free(c->chains.v);
	free(c->sets.v);
	free(c->rules.v);
	free(c->elems.v);
	c->tables.v = NULL;
	c->chains.v = NULL;
	c->sets.v = NULL;
	c->rules.v = NULL;
	c->elems.v = NULL;
	c->tables.n = c->tables.cap = c->chains.n = c->chains.cap = c->sets.n = c->sets.cap = 0;
	c->rules.n = c->rules.cap = c->elems.n = c->elems.cap = 0;
}

static void states_free(struct collect *c)
{
	free(c->tstates);
	free(c->cstates);
	free(c->sstates);
	c->tstates = NULL;
	c->cstates = NULL;
	c->sstates = NULL;
	c->n_cstates = c->n_sstates = 0;
}

/* --- netlink ------------------------------------------------------------- */

static int nft_conn_open(struct nlconn *c)
{
	return nlconn_open(c, NETLINK_NETFILTER, NFT_RECV_BUFSIZ);
}

/* After a dump that did not run to its end: the rest of it may still be
 * queued on the socket, so take a fresh one. */
static int conn_reset(struct collect *c)
{
	int r;

	nlconn_close(&c->conn);
	r = nft_conn_open(&c->conn);
	if (r < 0)
		log_error_errno(r, "Failed to open a netfilter netlink socket");
	return r;
}

static struct nlmsghdr *nft_request(struct nlconn *c, uint16_t type, uint8_t family, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(c->buf, type, family, flags, ++c->seq);
}

static int nft_get_gen(struct nlconn *c, uint32_t *gen)
{
	return nlconn_talk(c, nft_gen_request(c), nft_gen_cb, gen);
}

/* nlconn_talk() for dumps, except that a message flagged NLM_F_DUMP_INTR
 * (something changed since the dump began; the kernel compares the
 * generation per message) does not end it: it sets c->intr, and whether
 * what was dumped changed is for the caller to tell, from the
 * notifications. The kernel resumes a dump by position, so the flag matters
 * for the objects that moved, not for the others. */
static int dump_talk(struct collect *c, const struct nlmsghdr *nlh, mnl_cb_t cb)
{
	struct nlconn *conn = &c->conn;
	uint32_t seq = nlh->nlmsg_seq;

	if (mnl_socket_sendto(conn->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(conn->nl, conn->buf, conn->size);
		const struct nlmsghdr *m = (const void *)conn->buf;
		int left, r;

		if (n < 0)
			return -errno;
		/* noted, and cleared: libmnl's mnl_cb_run() would stop there */
		for (left = (int)n; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left))
			if (m->nlmsg_flags & NLM_F_DUMP_INTR) {
				c->intr = true;
				((struct nlmsghdr *)(uintptr_t)m)->nlmsg_flags &= (uint16_t)~NLM_F_DUMP_INTR;
			}
		errno = 0;
		r = mnl_cb_run(conn->buf, (size_t)n, seq, conn->portid, cb, c);
		if (r < 0)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

/* --- errors -------------------------------------------------------------- */

/* The ruleset changed under a dump: read again what it was reading.
 * ENOENT: what we asked for is gone; EAGAIN: a name we do not know yet;
 * EINTR: NLM_F_DUMP_INTR; ENOBUFS: the socket overran (incomplete). */
static bool is_retryable(int r)
{
	return r == -ENOENT || r == -EAGAIN || r == -EINTR || r == -ENOBUFS;
}

static int nft_error(int r, const char *what)
{
	log_error("Failed to %s: %s%s", what, strerror(-r),
		  r == -EPERM || r == -EACCES ? " (need CAP_NET_ADMIN: run as root)" : "");
	return r;
}

/* Notes what changed, for the message if we give up. */
static void changed(struct collect *c, const char *kind, uint8_t family, const char *table, const char *name)
{
	if (c->n_changed < CHANGED_NAMED)
		snprintf(c->changed[c->n_changed], sizeof(c->changed[0]), "%s%s%s%s%s%s%s", kind,
			 table ? " " : "", table ? family_to_string(family) : "", table ? " " : "",
			 table ? table : "", name ? " " : "", name ? name : "");
	c->n_changed++;
}

/* --- tables -------------------------------------------------------------- */

/* Table names are unique per family only ("ip filter", "ip6 filter"). */
static uint32_t table_key(char key[static 1 + NFT_TABLE_MAXNAMELEN], uint8_t family, const char *name)
{
	size_t len = strnlen(name, NFT_TABLE_MAXNAMELEN - 1);

	key[0] = (char)family;
	memcpy(key + 1, name, len);
	return (uint32_t)len + 1;
}

static struct cg_table *table_find(const struct collect *c, uint8_t family, const char *name)
{
	char key[1 + NFT_TABLE_MAXNAMELEN];

	if (!name)
		return NULL;
	return hashmap_get(&c->table_names, key, table_key(key, family, name));
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	struct nftnl_table *nt = nftnl_table_alloc();
	struct cg_table *t;
	const char *name;

	if (!nt)
		return nlconn_cb_fail(-ENOMEM);
	if (nftnl_table_nlmsg_parse(nlh, nt) < 0 || !(name = nftnl_table_get_str(nt, NFTNL_TABLE_NAME))) {
		nftnl_table_free(nt);
		return nlconn_cb_fail(-EBADMSG);
	}
	t = VEC_PUSH(c->tables);
	t->backend = CG_BACKEND_NFTABLES;
	t->family = (uint8_t)nftnl_table_get_u32(nt, NFTNL_TABLE_FAMILY);
	t->name = arena_strdup(c->a, name);
	t->handle = nftnl_table_get_u64(nt, NFTNL_TABLE_HANDLE);
	t->flags = nftnl_table_get_u32(nt, NFTNL_TABLE_FLAGS);
	nftnl_table_free(nt);
	return MNL_CB_OK;
}

static int tables_dump(struct collect *c)
{
	struct cg_table *tables;
	int r;

	c->tables.n = 0;
	r = dump_talk(c, nft_request(&c->conn, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NLM_F_DUMP), table_cb);
	if (r < 0)
		return is_retryable(r) ? r : nft_error(r, "dump nftables tables");

	tables = ruleset_add_tables(c->rs, (uint32_t)c->tables.n);
	if (c->tables.n)
		memcpy(tables, c->tables.v, c->tables.n * sizeof(*tables));
	hashmap_init(&c->table_names, c->a, (uint32_t)c->tables.n);
	for (size_t i = 0; i < c->tables.n; i++) {
		char key[1 + NFT_TABLE_MAXNAMELEN];
		uint32_t len = table_key(key, tables[i].family, tables[i].name);

		hashmap_put(&c->table_names, arena_memdup(c->a, key, len), len, &tables[i]);
	}
	return 0;
}

/* --- chains -------------------------------------------------------------- */

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	struct nftnl_chain *nc = nftnl_chain_alloc();
	struct cg_table *t;
	struct tmp_chain *tc;

	if (!nc)
		return nlconn_cb_fail(-ENOMEM);
	if (nftnl_chain_nlmsg_parse(nlh, nc) < 0 || !nftnl_chain_is_set(nc, NFTNL_CHAIN_NAME)) {
		nftnl_chain_free(nc);
		return nlconn_cb_fail(-EBADMSG);
	}
	t = table_find(c, (uint8_t)nftnl_chain_get_u32(nc, NFTNL_CHAIN_FAMILY),
		       nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE));
	if (!t) {
		/* created after our table dump */
		nftnl_chain_free(nc);
		return nlconn_cb_fail(-EAGAIN);
	}
	if (c->cache_recording)
		nft_chain_cache_record(c->opts->chain_cache, nlh);
	tc = VEC_PUSH(c->chains);
	tc->table = (uint32_t)(t - c->rs->tables);
	nft_chain_convert(nc, &tc->chain, c->a);
	t->n_chains++;
	nftnl_chain_free(nc);
	return MNL_CB_OK;
}

/* The chain list as of c->gen from --keep's cache (chain_cache), if it
 * has it: 1 read from there, 0 not (dump it), or a negative errno. */
static int chains_from_cache(struct collect *c)
{
	struct nft_chain_cache *cc = c->opts ? c->opts->chain_cache : NULL;
	int r;

	if (!cc)
		return 0;
	r = nft_chain_cache_catch_up(cc, c->gen, NFT_CATCHUP_MS);
	if (r < 0) {
		const char *why = nft_chain_cache_why(cc);

		log_debug("nftables: the chain list kept between rounds is not the kernel's at generation %u "
			  "(%s): dumping it", c->gen, why ? why : strerror(-r));
		nft_chain_cache_record_start(cc);
		c->cache_recording = true;
		return 0;
	}
	nft_chain_cache_record_stop(cc, false); /* an earlier dump's, if any */
	r = nft_chain_cache_foreach(cc, chain_cb, c);
	if (r < 0)
		return errno ? -errno : -EIO;
	log_debug("nftables: the chain list of generation %u from the notifications since the last round", c->gen);
	return 1;
}

static int chains_dump(struct collect *c)
{
	struct cg_ruleset *rs = c->rs;
	int r;

	c->chains.n = 0;
	r = chains_from_cache(c);
	if (r == 0)
		r = dump_talk(c, nft_request(&c->conn, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP), chain_cb);
	if (c->cache_recording) {
		nft_chain_cache_record_stop(c->opts->chain_cache, r >= 0);
		c->cache_recording = false;
	}
	if (r < 0)
		return is_retryable(r) ? r : nft_error(r, "dump nftables chains");

	/* Counted per table while dumping; now place them, in kernel order. */
	for (uint32_t i = 0; i < rs->n_tables; i++) {
		struct cg_table *t = &rs->tables[i];
		t->chains = arena_alloc(c->a, (t->n_chains ? t->n_chains : 1) * sizeof(*t->chains));
		t->n_chains = 0;
	}
	for (size_t i = 0; i < c->chains.n; i++) {
		struct cg_table *t = &rs->tables[c->chains.v[i].table];
		struct cg_chain *ch = &t->chains[t->n_chains++];

		*ch = c->chains.v[i].chain;
		ch->table = t;
	}
	/* placed: the staging copy goes before the rules arrive */
	free(c->chains.v);
	c->chains.v = NULL;
	c->chains.n = c->chains.cap = 0;
	return 0;
}

/* --- sets ---------------------------------------------------------------- */

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	struct nftnl_set *ns = nftnl_set_alloc();
	struct cg_table *t;
	struct tmp_set *ts;

	if (!ns)
		return nlconn_cb_fail(-ENOMEM);
	if (nftnl_set_nlmsg_parse(nlh, ns) < 0 || !nftnl_set_is_set(ns, NFTNL_SET_NAME)) {
		nftnl_set_free(ns);
		return nlconn_cb_fail(-EBADMSG);
	}
	t = table_find(c, (uint8_t)nftnl_set_get_u32(ns, NFTNL_SET_FAMILY),
		       nftnl_set_get_str(ns, NFTNL_SET_TABLE));
	if (!t) {
		nftnl_set_free(ns);
		return nlconn_cb_fail(-EAGAIN);
	}
	ts = VEC_PUSH(c->sets);
	ts->table = (uint32_t)(t - c->rs->tables);
	nft_set_convert(ns, &ts->set, c->a);
	t->n_sets++;
	nftnl_set_free(ns);
	return MNL_CB_OK;
}

static int sets_dump(struct collect *c)
{
	struct cg_ruleset *rs = c->rs;
	int r;

	c->sets.n = 0;
	r = dump_talk(c, nft_request(&c->conn, NFT_MSG_GETSET, NFPROTO_UNSPEC, NLM_F_DUMP), set_cb);
	if (r < 0)
		return is_retryable(r) ? r : nft_error(r, "dump nftables sets");

	for (uint32_t i = 0; i < rs->n_tables; i++) {
		struct cg_table *t = &rs->tables[i];
		t->sets = arena_alloc(c->a, (t->n_sets ? t->n_sets : 1) * sizeof(*t->sets));
		t->n_sets = 0;
	}
	for (size_t i = 0; i < c->sets.n; i++) {
		struct cg_table *t = &rs->tables[c->sets.v[i].table];
		struct cg_set *s = &t->sets[t->n_sets++];

		*s = c->sets.v[i].set;
		s->table = t;
	}
	return 0;
}

/* --- the states of chains and sets ---------------------------------------- */

static struct chain_state *chain_state_of(const struct collect *c, const struct cg_chain *ch)
{
	const struct cg_table *t = ch->table;

	return &c->cstates[c->tstates[t - c->rs->tables].chain0 + (uint32_t)(ch - t->chains)];
}

static struct set_state *set_state_of(const struct collect *c, const struct cg_set *s)
{
	const struct cg_table *t = s->table;

	return &c->sstates[c->tstates[t - c->rs->tables].set0 + (uint32_t)(s - t->sets)];
}

/* A chain or set of the structure before, by (table handle, its handle):
 * handles are never reused, so the same key is the same object (a chain
 * may have been renamed, though). */
struct old_key {
	uint64_t table, handle;
	uint8_t kind;                   /* 'c', 's' */
	uint8_t pad[7];
};

struct old_obj {
	const void *obj;                /* the chain or set */
	const char *name;
	const void *state;
};

/* Places the states of the structure just read, keeping what was read of
 * each chain and set that is still there and untouched. */
static void states_place(struct collect *c, const struct cg_table *old_tables, uint32_t n_old,
			 struct chain_state *old_c, struct set_state *old_s, const struct table_state *old_t)
{
	struct cg_ruleset *rs = c->rs;
	struct arena tmp = { 0 };
	struct cg_hashmap map;
	struct old_key *keys;
	struct old_obj *objs;
	uint32_t n = 0, n_old_objs = 0, nc = 0, ns = 0;

	for (uint32_t i = 0; i < n_old; i++)
		n_old_objs += old_tables[i].n_chains + old_tables[i].n_sets;
	keys = xcalloc(n_old_objs ? n_old_objs : 1, sizeof(*keys));
	objs = xcalloc(n_old_objs ? n_old_objs : 1, sizeof(*objs));
	hashmap_init(&map, &tmp, n_old_objs);
	for (uint32_t i = 0; i < n_old; i++) {
		const struct cg_table *t = &old_tables[i];

		for (uint32_t j = 0; j < t->n_chains; j++, n++) {
			keys[n] = (struct old_key){ .table = t->handle, .handle = t->chains[j].handle, .kind = 'c' };
			objs[n] = (struct old_obj){ &t->chains[j], t->chains[j].name, &old_c[old_t[i].chain0 + j] };
			hashmap_put(&map, &keys[n], sizeof(keys[n]), &objs[n]);
		}
		for (uint32_t j = 0; j < t->n_sets; j++, n++) {
			keys[n] = (struct old_key){ .table = t->handle, .handle = t->sets[j].handle, .kind = 's' };
			objs[n] = (struct old_obj){ &t->sets[j], t->sets[j].name, &old_s[old_t[i].set0 + j] };
			hashmap_put(&map, &keys[n], sizeof(keys[n]), &objs[n]);
		}
	}

	c->tstates = xcalloc(rs->n_tables ? rs->n_tables : 1, sizeof(*c->tstates));
	for (uint32_t i = 0; i < rs->n_tables; i++) {
		c->tstates[i] = (struct table_state){ nc, ns };
		nc += rs->tables[i].n_chains;
		ns += rs->tables[i].n_sets;
	}
	c->cstates = xcalloc(nc ? nc : 1, sizeof(*c->cstates));
	c->sstates = xcalloc(ns ? ns : 1, sizeof(*c->sstates));
	c->n_cstates = nc;
	c->n_sstates = ns;
	for (uint32_t i = 0; i < rs->n_tables; i++) {
		struct cg_table *t = &rs->tables[i];
		bool renamed = false;

		for (uint32_t j = 0; j < t->n_chains; j++) {
			struct old_key k = { .table = t->handle, .handle = t->chains[j].handle, .kind = 'c' };
			const struct old_obj *o = hashmap_get(&map, &k, sizeof(k));

			if (!o)
				continue;
			/* Jumps name their chain: after a rename the other
			 * chains' rules we hold would not find it. */
			if (strcmp(o->name, t->chains[j].name) != 0) {
				renamed = true;
			} else {
				const struct cg_chain *old = o->obj;

				c->cstates[c->tstates[i].chain0 + j] = *(const struct chain_state *)o->state;
				t->chains[j].rules = old->rules;
				t->chains[j].n_rules = old->n_rules;
			}
		}
		if (renamed)
			for (uint32_t j = 0; j < t->n_chains; j++)
				c->cstates[c->tstates[i].chain0 + j].valid = false;
		for (uint32_t j = 0; j < t->n_sets; j++) {
			struct old_key k = { .table = t->handle, .handle = t->sets[j].handle, .kind = 's' };
			const struct old_obj *o = hashmap_get(&map, &k, sizeof(k));

			if (o && strcmp(o->name, t->sets[j].name) == 0)
				c->sstates[c->tstates[i].set0 + j] = *(const struct set_state *)o->state;
		}
	}
	free(keys);
	free(objs);
	arena_free(&tmp);
}

/* Reads the tables, chains and sets (no rules, no elements) at c->gen. When
 * a dump meets a change it cannot place, the structure stays as it was and
 * struct_valid false. Returns 0 or a negative errno (logged). */
static int structure_read(struct collect *c)
{
	struct cg_ruleset *rs = c->rs;
	struct cg_table *old_tables = rs->tables;
	uint32_t n_old = rs->n_tables;
	struct cg_hashmap old_names = c->table_names;
	struct table_state *old_t = c->tstates;
	struct chain_state *old_c = c->cstates;
	struct set_state *old_s = c->sstates;
	int r;

	c->structs_read++;
	c->struct_gen = c->gen;
	c->struct_valid = true;
	c->struct_changed = false;
	c->intr = false;
	rs->tables = NULL;
	rs->n_tables = 0;
	r = tables_dump(c);
	if (r >= 0)
		r = chains_dump(c);
	if (r >= 0)
		r = sets_dump(c);
	if (r >= 0 && c->intr && !c->watching)
		r = -EINTR;
	if (r < 0) {
		/* the structure before stays, for the notifications to be
		 * placed in; this read is lost (its memory with it) */
		rs->tables = old_tables;
		rs->n_tables = n_old;
		c->table_names = old_names;
		c->struct_valid = false;
		if (!is_retryable(r))
			return r;
		changed(c, "the list of tables, chains and sets", 0, NULL, NULL);
		log_debug("nftables: reading the list of tables, chains and sets again: %s", strerror(-r));
		return conn_reset(c);
	}
	/* Rules are placed by chain name, so index the names now. */
	for (uint32_t i = 0; i < rs->n_tables; i++)
		table_index_build(&rs->tables[i], c->a);
	c->tstates = NULL;
	c->cstates = NULL;
	c->sstates = NULL;
	states_place(c, old_tables, c->have_struct ? n_old : 0, old_c, old_s, old_t);
	free(old_t);
	free(old_c);
	free(old_s);
	c->have_struct = true;
	c->last_chain = NULL; /* of the structure before */
	return 0;
}

/* --- set elements -------------------------------------------------------- */

static int elem_cb(struct nftnl_set_elem *ne, void *data)
{
	struct collect *c = data;

	nft_elem_convert(ne, VEC_PUSH(c->elems), c->a);
	return 0;
}

static int elems_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	int r = nft_elems_msg_foreach(nlh, elem_cb, data);

	if (r == MNL_CB_OK && c->may_stop && c->elems.n > c->dump_max) {
		c->stopped = true;
		return MNL_CB_STOP;
	}
	return r;
}

/* Whether the kernel's answer to a GETSETELEM for one key is what a lookup
 * of that key finds (see the top of this file and nft-setget.c). */
static bool set_may_be_lazy(const struct cg_set *s)
{
	if (s->flags & CG_SET_ANONYMOUS)
		return false;
	if ((s->flags & CG_SET_INTERVAL) && ((s->flags & CG_SET_CONCAT) || s->n_fields > 1))
		return false;
	return s->key_len > 0 && s->key_len <= 64;
}

/* CGNATCHECK_SET_DUMP_MAX: a number of elements (0: no eligible set is dumped). */
static uint32_t set_dump_max(void)
{
	const char *v = getenv("CGNATCHECK_SET_DUMP_MAX");
	unsigned long long n;
	char *end;

	if (!v || !*v)
		return NFT_SET_DUMP_MAX;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || v[0] == '-') {
		log_warning("Ignoring CGNATCHECK_SET_DUMP_MAX=%s: not a number of elements", v);
		return NFT_SET_DUMP_MAX;
	}
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* Reads one set's elements into its state (valid unless it changed in a way
 * only a read again can tell). Returns 0 or a negative errno (logged). */
static int set_elems_dump(struct collect *c, const struct cg_table *t, const struct cg_set *s,
			  struct set_state *st)
{
	struct nlmsghdr *nlh = nft_request(&c->conn, NFT_MSG_GETSETELEM, t->family, NLM_F_DUMP);
	char what[64 + 2 * NFT_NAME_MAXLEN];
	int r;

	c->elems.n = 0;
	c->may_stop = set_may_be_lazy(s);
	c->stopped = false;
	c->intr = false;
	*st = (struct set_state){ .read_gen = c->gen, .valid = true, .wanted = st->wanted };
	if (c->may_stop && c->dump_max == 0) {
		st->lazy = true;
		return 0;
	}
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, t->name);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, s->name);
	r = dump_talk(c, nlh, elems_msg_cb);
	if (r >= 0 && c->stopped) {
		/* The rest of the dump is on its way: drop the socket. */
		st->lazy = true;
		st->n_elems_seen = (uint32_t)c->elems.n;
		return conn_reset(c);
	}
	if (r >= 0 && c->intr && !c->watching)
		r = -EINTR;
	if (r < 0) {
		st->valid = false;
		if (!is_retryable(r)) {
			snprintf(what, sizeof(what), "dump the elements of nftables set %s %s %s",
				 family_to_string(t->family), t->name, s->name);
			return nft_error(r, what);
		}
		if (r == -ENOENT)
			c->struct_valid = false; /* deleted since the set dump */
		changed(c, "set", t->family, t->name, s->name);
		log_debug("nftables: reading set %s %s %s again: %s", family_to_string(t->family), t->name,
			  s->name, strerror(-r));
		return r == -ENOENT ? 0 : conn_reset(c);
	}
	st->n_elems = (uint32_t)c->elems.n;
	st->elems = c->elems.n ? arena_memdup(c->a, c->elems.v, c->elems.n * sizeof(*c->elems.v)) : NULL;
	return 0;
}

/* --- rules --------------------------------------------------------------- */

static struct cg_chain *rule_chain(struct collect *c, const struct nft_rule_id *id)
{
	struct cg_table *t;

	if (c->last_chain && c->last_id.family == id->family && strcmp(c->last_id.chain, id->chain) == 0 &&
	    strcmp(c->last_id.table, id->table) == 0)
		return c->last_chain;
	t = table_find(c, id->family, id->table);
	c->last_chain = t ? chain_find(t, id->chain) : NULL;
	c->last_id = *id;
	return c->last_chain;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	struct nft_rule_id id;
	struct cg_rule rule;
	struct cg_chain *ch;

	if (nft_rule_from_nlmsg_ctx(nlh, c->a, &c->rctx, &rule, &id) < 0)
		return nlconn_cb_fail(-EBADMSG);
	ch = rule_chain(c, &id);
	if (!ch)
		return nlconn_cb_fail(-EAGAIN); /* its chain appeared after the chain dump */
	if (ch != c->dumping)
		return MNL_CB_OK; /* a kernel that ignores the chain filter: another chain's */
	rule.chain = ch;
	rule.index = (uint32_t)c->rules.n + 1;
	*VEC_PUSH(c->rules) = rule;
	return MNL_CB_OK;
}

/* One dump per chain, not one for the whole ruleset: the kernel resumes each
 * dump message by walking its rule lists from the start again, so a single
 * dump of N rules costs O(N^2 / rules-per-message); filtered by chain it
 * walks only that chain (measured: 350k rules in 50k chains, 21.5 s as one
 * dump, 2.7 s per chain). Still no per-rule round trips. The rules go to
 * the chain's state (valid unless the read met a change only a read again
 * can tell). Returns 0 or a negative errno (logged). */
static int chain_rules_dump(struct collect *c, const struct cg_table *t, struct cg_chain *ch,
			    struct chain_state *st)
{
	struct nlmsghdr *nlh = nft_request(&c->conn, NFT_MSG_GETRULE, t->family, NLM_F_DUMP);
	char what[64 + 2 * NFT_NAME_MAXLEN];
	int r;

	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, t->name);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, ch->name);
	c->rules.n = 0;
	c->dumping = ch;
	c->intr = false;
	c->rctx.table = t;
	*st = (struct chain_state){ .read_gen = c->gen, .valid = true, .wanted = st->wanted };
	r = dump_talk(c, nlh, rule_cb);
	c->dumping = NULL;
	c->rctx.table = NULL;
	if (r >= 0 && c->intr && !c->watching)
		r = -EINTR;
	if (r < 0) {
		st->valid = false;
		if (!is_retryable(r)) {
			snprintf(what, sizeof(what), "dump the rules of nftables chain %s %s %s",
				 family_to_string(t->family), t->name, ch->name);
			return nft_error(r, what);
		}
		/* ENOENT: deleted since the chain dump; EAGAIN: a jump to a
		 * chain created since */
		if (r == -ENOENT || r == -EAGAIN)
			c->struct_valid = false;
		changed(c, "chain", t->family, t->name, ch->name);
		log_debug("nftables: reading chain %s %s %s again: %s", family_to_string(t->family), t->name,
			  ch->name, strerror(-r));
		return r == -ENOENT ? 0 : conn_reset(c);
	}
	/* the kernel dumps a chain's rules in order: keep it */
	ch->n_rules = (uint32_t)c->rules.n;
	ch->rules = ch->n_rules ? arena_memdup(c->a, c->rules.v, ch->n_rules * sizeof(*ch->rules)) : NULL;
	return 0;
}

/* --- what changed -------------------------------------------------------- */

/* A change of generation gen to what was read at read_gen or before: the
 * commit may have begun (moved the generation) before that read and ended
 * (made its change visible) during it, so gen == read_gen counts. */
static bool touches(uint32_t gen, uint32_t read_gen)
{
	return nft_gen_ge(gen, read_gen);
}

static void structure_changed(struct collect *c, const struct nft_change *ch)
{
	if (c->have_struct && c->struct_valid && !c->struct_changed && touches(ch->gen, c->struct_gen)) {
		c->struct_changed = true;
		c->struct_changed_gen = ch->gen;
		changed(c, "the list of tables, chains and sets", 0, NULL, NULL);
	}
}

/* Returns false when the structure has no such chain. */
static bool chain_changed(struct collect *c, const struct nft_change *ch, struct cg_table *t)
{
	struct cg_chain *chain = t ? chain_find(t, ch->name) : NULL;
	struct chain_state *st;

	if (!chain)
		return false;
	st = chain_state_of(c, chain);
	if (st->valid && !st->changed && touches(ch->gen, st->read_gen)) {
		st->changed = true;
		st->changed_gen = ch->gen;
		changed(c, "chain", t->family, t->name, chain->name);
	}
	return true;
}

static bool set_changed(struct collect *c, const struct nft_change *ch, struct cg_table *t)
{
	struct cg_set *s = t ? set_find(t, ch->name) : NULL;
	struct set_state *st;

	if (!s)
		return false;
	st = set_state_of(c, s);
	if (!st->valid || !touches(ch->gen, st->read_gen))
		return true;
	if (st->lazy) {
		/* It holds nothing: its lookups ask the kernel, and need
		 * to know whether it changed after the generation we end
		 * up with (model_finish()). */
		st->changed = true;
		st->changed_gen = ch->gen;
	} else if (!st->changed) {
		st->changed = true;
		st->changed_gen = ch->gen;
		changed(c, "set", t->family, t->name, s->name);
	}
	return true;
}

/* One change another program committed while we read (nft_watch_poll()):
 * what it touched is read again. */
static void on_change(const struct nft_change *ch, void *data)
{
	struct collect *c = data;
	struct cg_table *t;

	if (c->opts && c->opts->lazy) {
		struct nft_change *k = VEC_PUSH(c->seen);

		*k = *ch;
		k->table = ch->table ? arena_strdup(&c->seen_arena, ch->table) : NULL;
		k->name = ch->name ? arena_strdup(&c->seen_arena, ch->name) : NULL;
	}
	if (!c->have_struct)
		return; /* nothing read yet */
	t = table_find(c, ch->family, ch->table);
	switch (ch->type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
		structure_changed(c, ch);
		break;
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		structure_changed(c, ch);
		chain_changed(c, ch, t);
		break;
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		if (!chain_changed(c, ch, t))
			structure_changed(c, ch);
		break;
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
		structure_changed(c, ch);
		set_changed(c, ch, t);
		break;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		if (!set_changed(c, ch, t))
			structure_changed(c, ch);
		break;
	default:
		break;
	}
}

/* Everything read counts as changed (notifications were lost, or there are
 * none). */
static void all_changed(struct collect *c)
{
	c->struct_valid = false;
	c->struct_changed = false;
	for (uint32_t i = 0; i < c->n_cstates; i++)
		c->cstates[i] = (struct chain_state){ 0 };
	for (uint32_t i = 0; i < c->n_sstates; i++)
		c->sstates[i] = (struct set_state){ 0 };
}

/* Stops watching (a notification socket that fails): from now on a read is
 * consistent only when the generation did not move during it. */
static void watch_drop(struct collect *c, int r)
{
	log_debug("nftables: no change notifications any more (%s): reading everything again", strerror(-r));
	nft_watch_close(&c->watch);
	c->watching = false;
	changed(c, "the ruleset (change notifications failed)", 0, NULL, NULL);
	all_changed(c);
}

/* Places the changes queued so far, then reads the generation reads start
 * from now. */
static int checkpoint(struct collect *c)
{
	int r;

	if (c->watching) {
		r = nft_watch_poll(&c->watch, c->watch.gen, 0, on_change, c);
		if (r < 0)
			watch_drop(c, r);
	}
	r = nft_get_gen(&c->conn, &c->gen);
	return r < 0 ? nft_error(r, "read the nftables ruleset generation") : 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* --- reading ------------------------------------------------------------- */

/* Whether what is held of an object is the ruleset of generation gen: read,
 * and not touched by a commit up to gen. */
static bool held_at(bool valid, bool changed, uint32_t changed_gen, uint32_t gen)
{
	return valid && (!changed || !nft_gen_ge(gen, changed_gen));
}

/* What is not held as of generation gen (unread, or changed by then). */
static uint32_t objects_stale(const struct collect *c, uint32_t gen)
{
	uint32_t n = !c->have_struct || !held_at(c->struct_valid, c->struct_changed, c->struct_changed_gen, gen);

	for (uint32_t i = 0; i < c->n_cstates; i++) {
		const struct chain_state *st = &c->cstates[i];

		n += st->wanted && !held_at(st->valid, st->changed, st->changed_gen, gen);
	}
	for (uint32_t i = 0; i < c->n_sstates; i++) {
		const struct set_state *st = &c->sstates[i];

		n += st->wanted && !held_at(st->valid, st->changed && !st->lazy, st->changed_gen, gen);
	}
	return n;
}

/* What changed is to be read again. */
static bool chain_unheld(const struct chain_state *st)
{
	return st->wanted && (!st->valid || st->changed);
}

static bool set_unheld(const struct set_state *st)
{
	return st->wanted && (!st->valid || (st->changed && !st->lazy));
}

/* --- what to read -------------------------------------------------------- */

/* CGNATCHECK_NFT_LAZY_CHAINS: tables of more chains than this are read in
 * part (0: every table; the tests use it to run small rulesets that way). */
static uint32_t lazy_min_chains(const struct nft_collect_opts *o)
{
	const char *v = getenv("CGNATCHECK_NFT_LAZY_CHAINS");
	unsigned long long n;
	char *end;

	if (!v || !*v)
		return o->lazy_min_chains;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || v[0] == '-') {
		log_warning("Ignoring CGNATCHECK_NFT_LAZY_CHAINS=%s: not a number of chains", v);
		return o->lazy_min_chains;
	}
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static bool table_lazy(const struct collect *c, const struct cg_table *t)
{
	return c->opts && c->opts->lazy && t->n_chains > c->lazy_min;
}

static bool chain_named(const struct collect *c, const struct cg_chain *ch)
{
	for (size_t i = 0; i < c->opts->n_chains; i++)
		if (strcmp(c->opts->chains[i], ch->name) == 0)
			return true;
	return false;
}

/* Marks the sets that the rules of ch look up as wanted. */
static void sets_of_rules_wanted(struct collect *c, const struct cg_table *t, const struct cg_chain *ch)
{
	for (uint32_t r = 0; r < ch->n_rules; r++) {
		struct cg_expr_buf buf;
		const struct cg_expr *x = rule_exprs(&ch->rules[r], &buf);

		for (uint32_t k = 0; k < ch->rules[r].n_exprs; k++) {
			const struct cg_set *s;

			if (x[k].type != CG_EXPR_LOOKUP || !x[k].lookup.set_name)
				continue;
			s = set_find(t, x[k].lookup.set_name);
			if (s)
				set_state_of(c, s)->wanted = true;
		}
		expr_buf_free(&buf);
	}
}

/* What a read is to read. Every chain and set of a table, unless the
 * table is lazy (a kube-proxy table of 100k chains, of which a packet
 * reaches a handful): then its base chains, the chains the caller names
 * (the overlays' chains, which the audit inspects on their own), its named
 * sets, and the anonymous sets of the rules read. The rest is marked
 * unread in the model and read when a packet reaches it (chain_read(),
 * through nft-setget.c's source), each checked against the notifications
 * to be as it was at the model's generation. */
static void wanted_mark(struct collect *c, bool sets)
{
	struct cg_ruleset *rs = c->rs;

	for (uint32_t i = 0; i < rs->n_tables; i++) {
		struct cg_table *t = &rs->tables[i];
		bool lazy = table_lazy(c, t);

		for (uint32_t j = 0; j < t->n_chains; j++) {
			struct chain_state *st = &c->cstates[c->tstates[i].chain0 + j];

			if (!sets)
				st->wanted = !lazy || t->chains[j].base || chain_named(c, &t->chains[j]);
			else if (lazy && st->wanted && st->valid)
				sets_of_rules_wanted(c, t, &t->chains[j]);
		}
		for (uint32_t j = 0; j < t->n_sets && !sets; j++) {
			struct set_state *st = &c->sstates[c->tstates[i].set0 + j];

			st->wanted = !lazy || !(t->sets[j].flags & CG_SET_ANONYMOUS);
		}
	}
}

/* Whether this read is still worth going on with: without notifications
 * (or with some lost) a change anywhere means reading everything again. */
static bool read_on(const struct collect *c)
{
	return c->watching ? !c->watch.lost : c->n_changed == 0;
}

/* Every chain whose rules are not held, and every such set's elements. */
static int chains_and_sets_read(struct collect *c)
{
	struct cg_ruleset *rs = c->rs;
	uint32_t n = 0;
	double t_elems;
	int r = 0;

	wanted_mark(c, false);
	for (uint32_t i = 0; i < rs->n_tables && r >= 0 && read_on(c); i++) {
		struct cg_table *t = &rs->tables[i];

		for (uint32_t j = 0; j < t->n_chains && r >= 0 && read_on(c); j++) {
			struct chain_state *st = &c->cstates[c->tstates[i].chain0 + j];

			if (!chain_unheld(st))
				continue;
			if (++n % NFT_CHECK_EVERY == 0 && (r = checkpoint(c)) < 0)
				break;
			c->chains_reread += c->reads > 1;
			r = chain_rules_dump(c, t, &t->chains[j], st);
		}
	}
	if (r >= 0)
		wanted_mark(c, true);
	t_elems = now_ms();
	for (uint32_t i = 0; i < rs->n_tables && r >= 0 && read_on(c); i++) {
		struct cg_table *t = &rs->tables[i];

		for (uint32_t j = 0; j < t->n_sets && r >= 0 && read_on(c); j++) {
			struct set_state *st = &c->sstates[c->tstates[i].set0 + j];

			if (!set_unheld(st))
				continue;
			if (++n % NFT_CHECK_EVERY == 0 && (r = checkpoint(c)) < 0)
				break;
			c->sets_reread += c->reads > 1;
			r = set_elems_dump(c, t, &t->sets[j], st);
		}
	}
	c->ms_elems += now_ms() - t_elems;
	return r;
}

/* The end of a read: the generation `gen` now, and every change up to it
 * placed (the notifications of every commit after the one we started at
 * reach us: we subscribed before). Without notifications, only a read the
 * generation did not move during (it began at gen_start), of everything,
 * counts. Returns 0 or a negative errno (logged). */
static int read_end(struct collect *c, uint32_t gen_start, uint32_t *gen)
{
	int r = nft_get_gen(&c->conn, gen);

	if (r < 0)
		return nft_error(r, "read the nftables ruleset generation");
	if (c->watching) {
		r = nft_watch_poll(&c->watch, *gen == c->gen0 ? c->watch.gen : *gen, NFT_CATCHUP_MS, on_change,
				   c);
		if (r == -ETIMEDOUT)
			c->watch.lost = true;
		else if (r < 0)
			watch_drop(c, r);
	}
	if (c->watching && c->watch.lost) {
		log_debug("nftables: change notifications were lost: reading everything again");
		changed(c, "the ruleset (change notifications lost)", 0, NULL, NULL);
		c->watch.lost = false;
		all_changed(c);
	} else if (!c->watching && (*gen != gen_start || objects_stale(c, *gen))) {
		changed(c, "the ruleset", 0, NULL, NULL);
		all_changed(c);
	}
	return 0;
}

/* One read: the structure if it changed, then every chain and set not
 * held, then the generation again, and the notifications up to it. Returns
 * 0 or a negative errno (logged); *done when everything held is the
 * ruleset of generation *gen (changes after it do not matter). */
static int read_once(struct collect *c, bool *done, uint32_t *gen)
{
	uint32_t gen_start;
	int r;

	*done = false;
	c->reads++;
	c->n_changed = 0;
	r = checkpoint(c);
	if (r < 0)
		return r;
	gen_start = c->gen;
	if (!c->have_struct || !c->struct_valid || c->struct_changed) {
		r = structure_read(c);
		if (r < 0)
			return r;
	}
	if (c->have_struct && c->struct_valid) {
		r = chains_and_sets_read(c);
		if (r < 0)
			return r;
	}
	r = read_end(c, gen_start, gen);
	if (r < 0)
		return r;
	*done = objects_stale(c, *gen) == 0;
	return 0;
}

/* --- the whole dump ------------------------------------------------------ */


/* Where the time goes, for --debug and the tests: the kernel restarts every
 * dump message from the first object, so large rulesets and sets cost more
 * than their size suggests. */
static void log_collected(const struct collect *c, double ms)
{
	const struct cg_ruleset *rs = c->rs;
	struct ruleset_counts n;

	ruleset_count(rs, &n);
	log_debug("nftables: %u tables, %llu chains, %llu rules, %llu sets in %.0f ms; "
		  "%llu set elements in %.0f ms (%llu sets not dumped)", rs->n_tables,
		  (unsigned long long)n.chains, (unsigned long long)n.rules, (unsigned long long)n.sets,
		  ms - c->ms_elems, (unsigned long long)n.elems, c->ms_elems, (unsigned long long)n.lazy_sets);
	if (c->reads > 1)
		log_debug("nftables: the ruleset changed while it was read (generation %u to %u): "
			  "%u reads; read again %u chains, %u sets, the list of chains %u times",
			  c->gen0, rs->nft_generation, c->reads, c->chains_reread, c->sets_reread,
			  c->structs_read - 1);
}

/* Whose the table is (nft-owner.c), with the reason in the debug log for
 * the tables both tools may claim. */
static void table_owner(struct cg_table *t)
{
	struct nft_owner o;

	nft_table_owner(t, &o);
	t->backend = o.backend;
	if (!nft_owner_iptables_table(t->family, t->name))
		return;
	if (o.rule)
		log_debug("nftables: table %s %s labelled %s: %s%s%s (chain %s rule %u)", family_to_string(t->family),
			  t->name, backend_to_string(o.backend), o.why, o.what ? ": " : "", o.what ? o.what : "",
			  o.rule->chain->name, o.rule->index);
	else
		log_debug("nftables: table %s %s labelled %s: %s", family_to_string(t->family), t->name,
			  backend_to_string(o.backend), o.why);
}

/* The states into the model: rules into chains, elements into sets. */
static int model_finish(struct collect *c, uint32_t gen)
{
	struct cg_ruleset *rs = c->rs;
	uint32_t n_lazy = 0, n_unread = 0, n_unread_sets = 0;

	for (uint32_t i = 0; i < rs->n_tables; i++) {
		struct cg_table *t = &rs->tables[i];

		for (uint32_t j = 0; j < t->n_chains; j++) {
			struct cg_chain *ch = &t->chains[j];

			if (!c->cstates[c->tstates[i].chain0 + j].wanted) {
				ch->unread = true;
				ch->rules = NULL;
				ch->n_rules = 0;
				n_unread++;
				continue;
			}
			/* read while the structure was another one, maybe */
			for (uint32_t k = 0; k < ch->n_rules; k++)
				ch->rules[k].chain = ch;
		}
		table_owner(t);
		for (uint32_t j = 0; j < t->n_sets; j++) {
			const struct set_state *st = &c->sstates[c->tstates[i].set0 + j];
			struct cg_set *s = &t->sets[j];

			s->n_elems = st->n_elems;
			s->elems = st->elems;
			if (!st->wanted) {
				s->flags |= CG_SET_UNREAD;
				s->n_elems = 0;
				s->elems = NULL;
				n_unread_sets++;
				continue;
			}
			if (!st->lazy)
				continue;
			s->flags |= CG_SET_LAZY;
			s->n_elems = 0;
			s->elems = NULL;
			s->n_elems_seen = st->n_elems_seen;
			n_lazy++;
			log_debug("nftables: set %s %s %s: %s; lookups ask the kernel per key",
				  family_to_string(t->family), t->name, s->name,
				  st->n_elems_seen ? "too many elements to dump" : "not dumped");
		}
	}
	rs->nft_generation = gen;
	rs->have_nftables = true;
	if (n_unread)
		log_debug("nftables: %u chains and %u sets not read (tables of more than %u chains are read "
			  "as far as packets reach)", n_unread, n_unread_sets, c->lazy_min);
	if (n_lazy || n_unread || n_unread_sets) {
		/* NULL (logged): lookups in lazy sets are unknown. The
		 * notifications tell it which changes are to its sets. */
		rs->set_source = nft_set_source_new(rs, c->watching ? &c->watch : NULL);
		c->watching = false;
		/* the commits after gen whose notifications we read already */
		for (size_t i = 0; rs->set_source && i < c->seen.n; i++)
			if (nft_gen_ge(c->seen.v[i].gen, gen + 1))
				nft_source_note(rs->set_source, &c->seen.v[i]);
		for (uint32_t i = 0; i < rs->n_tables; i++)
			rs->tables[i].source = rs->set_source;
		for (uint32_t i = 0; i < rs->n_tables; i++)
			for (uint32_t j = 0; j < rs->tables[i].n_sets; j++)
				if (rs->tables[i].sets[j].flags & CG_SET_LAZY) {
					const struct set_state *st = &c->sstates[c->tstates[i].set0 + j];

					rs->tables[i].sets[j].source = rs->set_source;
					/* its notification is behind us, read already */
					if (rs->set_source && st->changed && !nft_gen_ge(gen, st->changed_gen))
						nft_set_source_changed(rs->set_source, &rs->tables[i].sets[j]);
				}
	}
	/* Jumps of rules read under an earlier structure point at its chains:
	 * they are found again by name, like every jump and lookup. */
	return ruleset_resolve(rs);
}

/* Starts over with nothing held (the memory of what was read again piled up). */
static void start_over(struct collect *c)
{
	ruleset_free(c->rs);
	nft_rule_ctx_free(&c->rctx);
	c->rctx.xt = xt_intern_new();
	states_free(c);
	c->have_struct = c->struct_valid = false;
	c->table_names = (struct cg_hashmap){ 0 };
	c->last_chain = NULL;
}

/* CGNATCHECK_NFT_RETRY_MS: how long to try for a consistent read (ms). */
static double retry_budget_ms(double first_read_ms)
{
	const char *v = getenv("CGNATCHECK_NFT_RETRY_MS");
	double budget = NFT_BUDGET_MS;
	char *end;

	if (v && *v) {
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 10);
		if (!errno && !*end && v[0] != '-')
			return (double)n;
		log_warning("Ignoring CGNATCHECK_NFT_RETRY_MS=%s: not a number of milliseconds", v);
	}
	if (budget < NFT_BUDGET_READS * first_read_ms)
		budget = NFT_BUDGET_READS * first_read_ms;
	return budget;
}

/* The pause after a read that met a change: until the next commit ends, or
 * for a while (jittered, so that two readers do not fall in step). */
static void pause_after(struct collect *c, uint32_t attempt)
{
	uint32_t shift = attempt > 7 ? 7 : attempt - 1;
	double ms = NFT_BACKOFF_MS * (double)(1u << shift);
	struct timespec ts;

	if (ms > NFT_BACKOFF_MAX_MS)
		ms = NFT_BACKOFF_MAX_MS;
	c->jitter ^= c->jitter << 13;
	c->jitter ^= c->jitter >> 7;
	c->jitter ^= c->jitter << 17;
	ms *= 0.5 + (double)(c->jitter % 1000) / 1000.0;
	if (c->watching) {
		int r = nft_watch_poll(&c->watch, c->watch.gen + 1, (int)ms, on_change, c);

		if (r < 0 && r != -ETIMEDOUT)
			watch_drop(c, r);
		return;
	}
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* No nf_tables in this kernel (or no netfilter netlink at all): then nothing
 * can have written nf_tables rules, and the truthful model is empty. */
static bool nf_tables_absent(int r)
{
	return r == -EPROTONOSUPPORT || r == -EOPNOTSUPP || r == -EAFNOSUPPORT;
}

static void give_up(const struct collect *c, double ms)
{
	char list[CHANGED_NAMED * (sizeof(c->changed[0]) + 2) + 32] = "";
	size_t len = 0;

	for (uint32_t i = 0; i < c->n_changed && i < CHANGED_NAMED; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", c->changed[i]);
	if (c->n_changed > CHANGED_NAMED)
		snprintf(list + len, sizeof(list) - len, " and %u more", c->n_changed - CHANGED_NAMED);
	log_error("Failed to read a consistent nftables ruleset: another program kept changing it while it "
		  "was read, for %.1f s (%u read%s; changed during the last: %s); try again, or when that "
		  "program is idle", ms / 1000, c->reads, c->reads == 1 ? "" : "s",
		  c->n_changed ? list : "the ruleset");
}

static int collect(struct collect *c)
{
	double t_start = now_ms(), t_first = 0, budget = 0;
	size_t used_first = 0;
	uint32_t gen = 0;
	bool done;
	int r;

	for (uint32_t attempt = 1;; attempt++) {
		r = read_once(c, &done, &gen);
		if (r < 0)
			return r;
		if (done)
			break;
		if (attempt == 1) {
			t_first = now_ms() - t_start;
			budget = retry_budget_ms(t_first);
			used_first = c->rs->arena.used;
		}
		if (now_ms() - t_start >= budget) {
			give_up(c, now_ms() - t_start);
			return -EAGAIN;
		}
		log_debug("nftables: changed while it was read (read %u): %u object%s to read again",
			  attempt, objects_stale(c, gen), objects_stale(c, gen) == 1 ? "" : "s");
		/* What was read again is kept in the arena with what it
		 * replaced: past twice a whole read, start over. */
		if (c->rs->arena.used > 2 * used_first + (16u << 20))
			start_over(c);
		pause_after(c, attempt);
	}
	r = model_finish(c, gen);
	if (r >= 0)
		log_collected(c, now_ms() - t_start);
	/* the structure read last is the ruleset's at gen: its chain list,
	 * if dumped, is --keep's from now on */
	if (r >= 0 && c->opts && c->opts->chain_cache)
		nft_chain_cache_record_commit(c->opts->chain_cache, gen);
	return r;
}

int nft_collect(struct cg_ruleset *rs)
{
	return nft_collect_opts(rs, NULL);
}

int nft_collect_opts(struct cg_ruleset *rs, const struct nft_collect_opts *opts)
{
	struct cg_ruleset tmp = { 0 };
	struct collect c = { .rs = &tmp, .a = &tmp.arena, .dump_max = set_dump_max(), .opts = opts };
	int r;

	if (opts && opts->lazy)
		c.lazy_min = lazy_min_chains(opts);
	if (rs->n_tables || rs->arena.head)
		return log_error("Failed to collect the nftables ruleset: the model is not empty "
				 "(collect nftables first)");

	r = nft_conn_open(&c.conn);
	if (r < 0) {
		if (nf_tables_absent(r)) {
			log_debug("No netfilter netlink in this kernel: no nftables ruleset");
			return 0;
		}
		return nft_error(r, "open a netfilter netlink socket");
	}
	/* Subscribed before the first generation is read: every commit after
	 * it is told to us. */
	r = nft_watch_open(&c.watch);
	c.watching = r >= 0;
	if (r < 0)
		log_debug("nftables: no change notifications (%s): only a read the generation did not "
			  "move during counts", strerror(-r));
	r = nft_get_gen(&c.conn, &c.gen0);
	if (nf_tables_absent(r)) {
		log_debug("No nf_tables in this kernel: no nftables ruleset");
		r = 0;
		goto out;
	}
	if (r < 0) {
		nft_error(r, "read the nftables ruleset generation");
		goto out;
	}
	if (c.watching)
		nft_watch_start(&c.watch, c.gen0);
	c.jitter = (uint64_t)now_ms() * 2654435761u + (uint64_t)getpid() + 1;
	c.rctx.xt = xt_intern_new();
	r = collect(&c);
	if (r >= 0) {
		*rs = tmp;
		tmp = (struct cg_ruleset){ 0 };
	}
out:
	ruleset_free(&tmp);
	nft_rule_ctx_free(&c.rctx);
	staging_free(&c);
	states_free(&c);
	free(c.seen.v);
	arena_free(&c.seen_arena);
	if (c.watching)
		nft_watch_close(&c.watch);
	nlconn_close(&c.conn);
	return r < 0 ? r : 0;
}
