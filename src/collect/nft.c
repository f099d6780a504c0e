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
 * Consistency: the kernel bumps the ruleset generation on every committed
 * change. We read it before and after; if it moved, or the kernel flagged a
 * dump as interrupted (NLM_F_DUMP_INTR), or a rule names a chain the chain
 * dump did not have, another program changed the ruleset under us and the
 * whole dump is taken again (a bounded number of times).
 *
 * Which tables iptables-nft manages: nft(8) itself warns "table ip filter is
 * managed by iptables-nft, do not touch!" exactly when a rule of the table
 * holds an xt-compat expression (match or target): nftables src/xt.c,
 * netlink_parse_match()/netlink_parse_target() set table->has_xt_stmts, and
 * src/rule.c table_print() prints the warning (nftables commit "Warn for
 * tables with compat expressions in rules", Phil Sutter, 2022, first in
 * v1.0.6). We use the same marker, per table, never the table's name:
 * Tailscale's nftables mode writes native expressions into tables named
 * "ip filter" and "ip nat", exactly the names iptables-nft uses.
 *
 * We do not label rules individually. The only per-rule evidence is the xt
 * expression itself, and it already makes its table iptables-nft. Its absence
 * proves nothing: iptables-nft writes the common matches natively (-s/-d,
 * -i/-o, -p, --dport, -j ACCEPT/DROP/jumps; `-s 100.64.0.0/10 ! -i tailscale0
 * -j DROP` contains no xt expression at all). Rule user data does not help
 * either: iptables-nft's comment record has the same type (0) as nft's, and
 * the one iptables-only record (UDATA_TYPE_COMPAT_EXT, added during iptables
 * 1.8.12 development) was reverted before that release ("nft: revert compat
 * expressions in userdata"). A table is one unit to its owner anyway: nft
 * tells users not to touch any of a managed table, and iptables-nft lists
 * (and must be able to parse) every rule in it. */
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

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/nlsock.h"
#include "cgnatcheck/xt.h"
#include "nft-internal.h"

#define NFT_ATTEMPTS 5
/* Programs rewrite rulesets in bursts (tailscaled at start-up flushes and
 * refills its chains): wait 10, 20, 40, 80 ms between attempts for one to end. */
#define NFT_BACKOFF_MS 10
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

#define VEC(type) struct { type *v; size_t n, cap; }
#define VEC_PUSH(vec) \
	(grow_array((void **)&(vec).v, &(vec).cap, (vec).n + 1, sizeof(*(vec).v)), \
	 memset(&(vec).v[(vec).n], 0, sizeof(*(vec).v)), &(vec).v[(vec).n++])

struct collect {
	struct cg_ruleset *rs;
	struct arena *a;
	struct cg_hashmap table_names;  /* family byte + name -> table */
	VEC(struct cg_table) tables;
	VEC(struct tmp_chain) chains;
	VEC(struct tmp_set) sets;
	VEC(struct cg_rule) rules;      /* the chain being dumped */
	struct nft_rule_ctx rctx;
	struct cg_chain *dumping;       /* whose rules are being dumped */
	VEC(struct cg_set_elem) elems;
	struct cg_chain *last_chain;    /* rules arrive grouped by chain */
	struct nft_rule_id last_id;
	uint32_t dump_max;              /* CGNATCHECK_SET_DUMP_MAX */
	bool may_stop;                  /* the set being dumped may become lazy */
	bool stopped;                   /* ... and did: its dump was abandoned */
	uint32_t n_lazy;
};

static void collect_done(struct collect *c)
{
	free(c->tables.v);
	free(c->chains.v);
	free(c->sets.v);
	free(c->rules.v);
	free(c->elems.v);
	nft_rule_ctx_free(&c->rctx);
}

/* --- netlink ------------------------------------------------------------- */

static int nft_conn_open(struct nlconn *c)
{
	return nlconn_open(c, NETLINK_NETFILTER, NFT_RECV_BUFSIZ);
}

static struct nlmsghdr *nft_request(struct nlconn *c, uint16_t type, uint8_t family, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(c->buf, type, family, flags, ++c->seq);
}

static int nft_get_gen(struct nlconn *c, uint32_t *gen)
{
	return nlconn_talk(c, nft_gen_request(c), nft_gen_cb, gen);
}

/* --- errors -------------------------------------------------------------- */

static bool is_retryable(int r)
{
	/* EINTR: NLM_F_DUMP_INTR; EAGAIN: generation moved or dangling names;
	 * ENOBUFS: the socket overran (the dump is incomplete). */
	return r == -EINTR || r == -EAGAIN || r == -ENOBUFS;
}

static int nft_error(int r, const char *what)
{
	if (is_retryable(r))
		return r;
	log_error("Failed to %s: %s%s", what, strerror(-r),
		  r == -EPERM || r == -EACCES ? " (need CAP_NET_ADMIN: run as root)" : "");
	return r;
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

static int tables_dump(struct nlconn *conn, struct collect *c)
{
	struct cg_table *tables;
	int r;

	r = nlconn_talk(conn, nft_request(conn, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NLM_F_DUMP), table_cb, c);
	if (r < 0)
		return nft_error(r, "dump nftables tables");

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
	tc = VEC_PUSH(c->chains);
	tc->table = (uint32_t)(t - c->rs->tables);
	nft_chain_convert(nc, &tc->chain, c->a);
	t->n_chains++;
	nftnl_chain_free(nc);
	return MNL_CB_OK;
}

static int chains_dump(struct nlconn *conn, struct collect *c)
{
	struct cg_ruleset *rs = c->rs;
	int r;

	r = nlconn_talk(conn, nft_request(conn, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP), chain_cb, c);
	if (r < 0)
		return nft_error(r, "dump nftables chains");

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

static int sets_dump(struct nlconn *conn, struct collect *c)
{
	struct cg_ruleset *rs = c->rs;
	int r;

	r = nlconn_talk(conn, nft_request(conn, NFT_MSG_GETSET, NFPROTO_UNSPEC, NLM_F_DUMP), set_cb, c);
	if (r < 0)
		return nft_error(r, "dump nftables sets");

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
	struct nftnl_set *ns = nftnl_set_alloc();
	int r = MNL_CB_OK;

	if (!ns)
		return nlconn_cb_fail(-ENOMEM);
	if (nftnl_set_elems_nlmsg_parse(nlh, ns) < 0)
		r = nlconn_cb_fail(-EBADMSG);
	else
		nftnl_set_elem_foreach(ns, elem_cb, data);
	nftnl_set_free(ns);
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

static void set_make_lazy(struct collect *c, struct cg_table *t, struct cg_set *s, uint32_t seen)
{
	s->flags |= CG_SET_LAZY;
	s->n_elems = 0;
	s->elems = NULL;
	s->n_elems_seen = seen;
	c->n_lazy++;
	log_debug("nftables set %s %s %s: %s; lookups ask the kernel per key", family_to_string(t->family),
		  t->name, s->name, seen ? "too many elements to dump" : "not dumped");
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

static int set_elems_dump(struct nlconn *conn, struct collect *c, struct cg_table *t, struct cg_set *s)
{
	struct nlmsghdr *nlh = nft_request(conn, NFT_MSG_GETSETELEM, t->family, NLM_F_DUMP);
	char what[64 + 2 * NFT_NAME_MAXLEN];
	int r;

	c->elems.n = 0;
	c->may_stop = set_may_be_lazy(s);
	c->stopped = false;
	if (c->may_stop && c->dump_max == 0) {
		set_make_lazy(c, t, s, 0);
		return 0;
	}
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, t->name);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, s->name);
	r = nlconn_talk(conn, nlh, elems_msg_cb, c);
	if (r >= 0 && c->stopped) {
		/* The rest of the dump is on its way: drop the socket. */
		set_make_lazy(c, t, s, (uint32_t)c->elems.n);
		nlconn_close(conn);
		r = nft_conn_open(conn);
		return r < 0 ? nft_error(r, "open a netfilter netlink socket") : 0;
	}
	if (r == -ENOENT)
		return -EAGAIN; /* deleted since the set dump */
	if (r < 0) {
		snprintf(what, sizeof(what), "dump the elements of nftables set %s %s %s",
			 family_to_string(t->family), t->name, s->name);
		return nft_error(r, what);
	}
	s->n_elems = (uint32_t)c->elems.n;
	s->elems = c->elems.n ? arena_memdup(c->a, c->elems.v, c->elems.n * sizeof(*c->elems.v)) : NULL;
	return 0;
}

static int elems_dump(struct nlconn *conn, struct collect *c)
{
	for (uint32_t i = 0; i < c->rs->n_tables; i++) {
		struct cg_table *t = &c->rs->tables[i];

		for (uint32_t j = 0; j < t->n_sets; j++) {
			int r = set_elems_dump(conn, c, t, &t->sets[j]);
			if (r < 0)
				return r;
		}
	}
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
	if (nft_rule_has_xt(&rule))
		ch->table->backend = CG_BACKEND_IPTABLES_NFT;
	rule.chain = ch;
	rule.index = (uint32_t)c->rules.n + 1;
	*VEC_PUSH(c->rules) = rule;
	return MNL_CB_OK;
}

/* One dump per chain, not one for the whole ruleset: the kernel resumes each
 * dump message by walking its rule lists from the start again, so a single
 * dump of N rules costs O(N^2 / rules-per-message); filtered by chain it
 * walks only that chain (measured: 350k rules in 50k chains, 21.5 s as one
 * dump, 2.7 s per chain). Still no per-rule round trips. */
static int chain_rules_dump(struct nlconn *conn, struct collect *c, const struct cg_table *t,
			    struct cg_chain *ch)
{
	struct nlmsghdr *nlh = nft_request(conn, NFT_MSG_GETRULE, t->family, NLM_F_DUMP);
	char what[64 + 2 * NFT_NAME_MAXLEN];
	int r;

	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, t->name);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, ch->name);
	c->rules.n = 0;
	c->dumping = ch;
	c->rctx.table = t;
	r = nlconn_talk(conn, nlh, rule_cb, c);
	c->dumping = NULL;
	c->rctx.table = NULL;
	if (r >= 0) {
		/* the kernel dumps a chain's rules in order: keep it */
		ch->n_rules = (uint32_t)c->rules.n;
		ch->rules = ch->n_rules ? arena_memdup(c->a, c->rules.v, ch->n_rules * sizeof(*ch->rules)) :
			NULL;
	}
	if (r == -ENOENT)
		return -EAGAIN; /* deleted since the chain dump */
	if (r < 0) {
		snprintf(what, sizeof(what), "dump the rules of nftables chain %s %s %s",
			 family_to_string(t->family), t->name, ch->name);
		return nft_error(r, what);
	}
	return 0;
}

static int rules_dump(struct nlconn *conn, struct collect *c)
{
	int r;

	c->rctx.xt = xt_intern_new();
	for (uint32_t i = 0; i < c->rs->n_tables; i++) {
		struct cg_table *t = &c->rs->tables[i];

		for (uint32_t j = 0; j < t->n_chains; j++) {
			r = chain_rules_dump(conn, c, t, &t->chains[j]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* --- the whole dump ------------------------------------------------------ */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Where the time goes, for --debug and the tests: the kernel restarts every
 * dump message from the first object, so large rulesets and sets cost more
 * than their size suggests. */
static void log_collected(const struct cg_ruleset *rs, double ms_rules, double ms_elems)
{
	struct ruleset_counts n;

	ruleset_count(rs, &n);
	log_debug("nftables: %u tables, %llu chains, %llu rules, %llu sets in %.0f ms; "
		  "%llu set elements in %.0f ms (%llu sets not dumped)", rs->n_tables,
		  (unsigned long long)n.chains, (unsigned long long)n.rules, (unsigned long long)n.sets, ms_rules,
		  (unsigned long long)n.elems, ms_elems, (unsigned long long)n.lazy_sets);
}

/* No nf_tables in this kernel (or no netfilter netlink at all): then nothing
 * can have written nf_tables rules, and the truthful model is empty. */
static bool nf_tables_absent(int r)
{
	return r == -EPROTONOSUPPORT || r == -EOPNOTSUPP || r == -EAFNOSUPPORT;
}

/* Returns 0, 1 when the kernel has no nf_tables, or a negative errno. */
static int collect_once(struct nlconn *conn, struct cg_ruleset *rs)
{
	struct collect c = { .rs = rs, .a = &rs->arena, .dump_max = set_dump_max() };
	uint32_t gen_before = 0, gen_after = 0;
	double t_start = now_ms(), t_elems = t_start;
	int r;

	r = nft_get_gen(conn, &gen_before);
	if (nf_tables_absent(r))
		return 1;
	if (r < 0)
		return nft_error(r, "read the nftables ruleset generation");
	r = tables_dump(conn, &c);
	if (r >= 0)
		r = chains_dump(conn, &c);
	if (r >= 0)
		r = sets_dump(conn, &c);
	if (r >= 0) {
		/* Rules are placed by chain name, so index the names now. */
		for (uint32_t i = 0; i < rs->n_tables; i++)
			table_index_build(&rs->tables[i], &rs->arena);
		r = rules_dump(conn, &c);
	}
	if (r >= 0) {
		t_elems = now_ms();
		r = elems_dump(conn, &c);
	}
	if (r >= 0)
		log_collected(rs, t_elems - t_start, now_ms() - t_elems);
	collect_done(&c);
	if (r < 0)
		return r;

	r = nft_get_gen(conn, &gen_after);
	if (r < 0)
		return nft_error(r, "read the nftables ruleset generation");
	if (gen_after != gen_before) {
		log_debug("nftables ruleset generation moved from %u to %u during the dump", gen_before,
			  gen_after);
		return -EAGAIN;
	}
	rs->nft_generation = gen_after;
	rs->have_nftables = true;
	if (c.n_lazy) {
		/* NULL (logged): lookups in lazy sets are unknown */
		rs->set_source = nft_set_source_new(rs);
		for (uint32_t i = 0; i < rs->n_tables; i++)
			for (uint32_t j = 0; j < rs->tables[i].n_sets; j++)
				if (rs->tables[i].sets[j].flags & CG_SET_LAZY)
					rs->tables[i].sets[j].source = rs->set_source;
	}
	return ruleset_resolve(rs);
}

static void backoff(int attempt)
{
	long ms = NFT_BACKOFF_MS << (attempt - 1);
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int nft_collect(struct cg_ruleset *rs)
{
	struct nlconn conn;
	int r = 0;

	if (rs->n_tables || rs->arena.head)
		return log_error("Failed to collect the nftables ruleset: the model is not empty "
				 "(collect nftables first)");

	for (int attempt = 1; attempt <= NFT_ATTEMPTS; attempt++) {
		struct cg_ruleset tmp = { 0 };

		/* A fresh socket per attempt: an aborted dump leaves replies
		 * queued on the old one. */
		r = nft_conn_open(&conn);
		if (r < 0) {
			if (nf_tables_absent(r)) {
				log_debug("No netfilter netlink in this kernel: no nftables ruleset");
				return 0;
			}
			return nft_error(r, "open a netfilter netlink socket");
		}
		r = collect_once(&conn, &tmp);
		nlconn_close(&conn);
		if (r == 1) {
			log_debug("No nf_tables in this kernel: no nftables ruleset");
			ruleset_free(&tmp);
			return 0;
		}
		if (r >= 0) {
			*rs = tmp;
			return 0;
		}
		ruleset_free(&tmp);
		if (!is_retryable(r))
			return r;
		log_debug("The nftables ruleset changed during the dump (attempt %d of %d): %s",
			  attempt, NFT_ATTEMPTS, strerror(-r));
		if (attempt < NFT_ATTEMPTS)
			backoff(attempt);
	}
	log_error("Failed to dump the nftables ruleset: it changed during each of %d attempts "
		  "(another program keeps rewriting it); try again", NFT_ATTEMPTS);
	return -EAGAIN;
}
