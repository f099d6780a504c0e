/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The chain list of every nf_tables table, kept between --keep's rounds.
 *
 * An audit needs the list of chains (names, handles, the base chains'
 * hooks): only then does it know where packets enter. The kernel has one
 * way to give it, a dump of every chain, and resumes each dump message
 * (at most 32 KiB, ~300 chains) by walking its list from the first chain
 * (nf_tables_dump_chains()): on a kube-proxy node of 110k chains that is
 * 0.5 s of kernel time, 86% of the whole audit. --keep audits again after
 * every change that can matter, and a tailscaled restart is to be undone
 * within a second, so it keeps the list instead: the first round records
 * the chain messages of its dump, and every notification after it
 * (NEWCHAIN, DELCHAIN, DELTABLE, which carry the same attributes as the
 * dump) is applied, commit by commit, once the commit's NEWGEN arrives.
 *
 * The list is exactly the kernel's as of one generation (cc->gen), or not
 * used at all: a commit whose notifications were not all read (an overrun,
 * a generation skipped, a message we cannot read) makes the next round
 * dump it again. A round asks for the list at the generation it starts
 * from, reading the notifications up to that generation's NEWGEN first.
 *
 * Netdev chains whose devices change (the kernel notifies only the devices
 * added or removed) are not followed: such a change makes the next round
 * dump the list again. */
#include "config.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/nft-events.h"
#include "nft-internal.h"

struct cc_table {
	uint8_t family;
	bool dead;                  /* deleted: a new table of that name is another entry */
	char *name;
};

struct cc_entry {
	uint64_t handle;
	uint32_t table;             /* in cc->tables */
	bool dead;
	struct nlmsghdr *msg;       /* the chain's last NEWCHAIN (dump or notification) */
};

#define VEC(type) struct { type *v; size_t n, cap; }

struct nft_chain_cache {
	struct mnl_socket *nl;      /* the --keep socket the notifications come from */
	bool valid;
	uint32_t gen;               /* the list is the kernel's at this generation */
	const char *why;            /* why it is not valid, for the debug log */
	VEC(struct cc_table) tables;
	VEC(struct cc_entry) entries;
	size_t n_dead;
	uint32_t *slots;            /* the index (see below) */
	uint32_t mask, used;
	/* the commit being read: its table and chain messages, applied at its NEWGEN */
	VEC(struct nlmsghdr *) pending;
	/* a dump being recorded (nft_chain_cache_record()) */
	VEC(struct nlmsghdr *) rec;
	bool recording, rec_complete;
	/* for the tests and --debug */
	struct nft_chain_cache_stats stats;
};

static struct nlmsghdr *msg_copy(const struct nlmsghdr *nlh)
{
	struct nlmsghdr *m = xmalloc(nlh->nlmsg_len);

	memcpy(m, nlh, nlh->nlmsg_len);
	return m;
}

static void msgs_free(struct nlmsghdr **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

static void entries_clear(struct nft_chain_cache *cc)
{
	for (size_t i = 0; i < cc->entries.n; i++)
		free(cc->entries.v[i].msg);
	for (size_t i = 0; i < cc->tables.n; i++)
		free(cc->tables.v[i].name);
	cc->entries.n = cc->tables.n = cc->n_dead = 0;
	free(cc->slots);
	cc->slots = NULL;
	cc->mask = cc->used = 0;
}

static void invalidate(struct nft_chain_cache *cc, const char *why)
{
	if (cc->valid)
		log_debug("nftables: the chain list kept between rounds is dropped (%s): the next round dumps it",
			  why);
	cc->valid = false;
	cc->why = why;
	msgs_free(cc->pending.v, cc->pending.n);
	cc->pending.n = 0;
	entries_clear(cc);
}

struct nft_chain_cache *nft_chain_cache_new(struct mnl_socket *nl)
{
	struct nft_chain_cache *cc = xcalloc(1, sizeof(*cc));

	cc->nl = nl;
	cc->why = "none kept yet: the first round";
	return cc;
}

void nft_chain_cache_free(struct nft_chain_cache *cc)
{
	if (!cc)
		return;
	entries_clear(cc);
	msgs_free(cc->pending.v, cc->pending.n);
	msgs_free(cc->rec.v, cc->rec.n);
	free(cc->pending.v);
	free(cc->rec.v);
	free(cc->tables.v);
	free(cc->entries.v);
	free(cc);
}

const char *nft_chain_cache_why(const struct nft_chain_cache *cc)
{
	return cc->valid ? NULL : cc->why;
}

void nft_chain_cache_get_stats(const struct nft_chain_cache *cc, struct nft_chain_cache_stats *st)
{
	*st = cc->stats;
	st->valid = cc->valid;
	st->gen = cc->gen;
	st->chains = (uint64_t)(cc->entries.n - cc->n_dead);
}

/* --- the index ------------------------------------------------------------ */
/* (table, handle) -> entry index + 1 in cc->slots, open addressing with
 * linear probing, at most half full; 4 bytes a slot (110k chains: 1 MiB).
 * A dead entry keeps its slot until the next rebuild. */

static uint32_t key_hash(uint32_t table, uint64_t handle)
{
	uint64_t h = (handle ^ ((uint64_t)table << 40)) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32);
}

/* The slot holding that key, or the empty one where it would go. */
static uint32_t *slot_of(const struct nft_chain_cache *cc, uint32_t table, uint64_t handle)
{
	for (uint32_t i = key_hash(table, handle) & cc->mask;; i = (i + 1) & cc->mask) {
		uint32_t v = cc->slots[i];

		if (!v || (cc->entries.v[v - 1].table == table && cc->entries.v[v - 1].handle == handle))
			return &cc->slots[i];
	}
}

static void map_rebuild(struct nft_chain_cache *cc)
{
	size_t live = 0, cap = 2048;

	/* compact: the dead go, the order stays (it is the kernel's) */
	for (size_t i = 0; i < cc->entries.n; i++) {
		if (cc->entries.v[i].dead) {
			free(cc->entries.v[i].msg);
			continue;
		}
		cc->entries.v[live++] = cc->entries.v[i];
	}
	cc->entries.n = live;
	cc->n_dead = 0;
	while (cap < 2 * (live + live / 4 + 1024))
		cap *= 2;
	free(cc->slots);
	cc->slots = xcalloc(cap, sizeof(*cc->slots));
	cc->mask = (uint32_t)(cap - 1);
	cc->used = (uint32_t)live;
	for (size_t i = 0; i < live; i++)
		*slot_of(cc, cc->entries.v[i].table, cc->entries.v[i].handle) = (uint32_t)(i + 1);
}

static struct cc_entry *entry_find(struct nft_chain_cache *cc, uint32_t table, uint64_t handle)
{
	uint32_t v = cc->slots ? *slot_of(cc, table, handle) : 0;

	if (!v || cc->entries.v[v - 1].dead)
		return NULL;
	return &cc->entries.v[v - 1];
}

static void entry_add(struct nft_chain_cache *cc, uint32_t table, uint64_t handle, struct nlmsghdr *msg)
{
	uint32_t *slot;

	if (!cc->slots || 2 * (cc->used + 1) > cc->mask + 1)
		map_rebuild(cc);
	/* a dead entry of that key (a handle is never reused in a table's
	 * life, but a deleted table's entry goes first) */
	slot = slot_of(cc, table, handle);
	if (*slot) {
		map_rebuild(cc);
		slot = slot_of(cc, table, handle);
		if (*slot) {
			free(msg);
			invalidate(cc, "a chain handle seen twice");
			return;
		}
	}
	grow_array((void **)&cc->entries.v, &cc->entries.cap, cc->entries.n + 1, sizeof(*cc->entries.v));
	cc->entries.v[cc->entries.n++] = (struct cc_entry){ .handle = handle, .table = table, .msg = msg };
	*slot = (uint32_t)cc->entries.n;
	cc->used++;
}

static void entry_kill(struct nft_chain_cache *cc, struct cc_entry *e)
{
	e->dead = true;
	free(e->msg);
	e->msg = NULL;
	if (++cc->n_dead > 1024 && cc->n_dead > (cc->entries.n - cc->n_dead) / 2)
		map_rebuild(cc);
}

static int table_index(struct nft_chain_cache *cc, uint8_t family, const char *name, bool create)
{
	for (size_t i = 0; i < cc->tables.n; i++)
		if (!cc->tables.v[i].dead && cc->tables.v[i].family == family &&
		    strcmp(cc->tables.v[i].name, name) == 0)
			return (int)i;
	if (!create)
		return -1;
	grow_array((void **)&cc->tables.v, &cc->tables.cap, cc->tables.n + 1, sizeof(*cc->tables.v));
	cc->tables.v[cc->tables.n] = (struct cc_table){ .family = family, .name = xstrdup(name) };
	return (int)cc->tables.n++;
}

/* --- one chain message ---------------------------------------------------- */

struct chain_msg {
	uint8_t family;
	const char *table;
	uint64_t handle;
	bool devices;               /* its hook names devices (netdev, inet ingress) */
};

static int hook_attr_cb(const struct nlattr *attr, void *data)
{
	bool *devices = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type == NFTA_HOOK_DEV || type == NFTA_HOOK_DEVS)
		*devices = true;
	return MNL_CB_OK;
}

static int chain_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= NFTA_CHAIN_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

/* The table, handle and whether it names devices; false when the message
 * lacks them. */
static bool chain_msg_parse(const struct nlmsghdr *nlh, struct chain_msg *m)
{
	const struct nlattr *tb[NFTA_CHAIN_MAX + 1] = { 0 };
	const struct nfgenmsg *nfg;

	*m = (struct chain_msg){ 0 };
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg) ||
	    mnl_attr_parse(nlh, sizeof(*nfg), chain_attr_cb, tb) < 0)
		return false;
	nfg = mnl_nlmsg_get_payload(nlh);
	m->family = nfg->nfgen_family;
	if (!tb[NFTA_CHAIN_TABLE] || mnl_attr_validate(tb[NFTA_CHAIN_TABLE], MNL_TYPE_NUL_STRING) < 0 ||
	    !tb[NFTA_CHAIN_HANDLE] || mnl_attr_validate(tb[NFTA_CHAIN_HANDLE], MNL_TYPE_U64) < 0 ||
	    !tb[NFTA_CHAIN_NAME] || mnl_attr_validate(tb[NFTA_CHAIN_NAME], MNL_TYPE_NUL_STRING) < 0)
		return false;
	m->table = mnl_attr_get_str(tb[NFTA_CHAIN_TABLE]);
	m->handle = be64toh(mnl_attr_get_u64(tb[NFTA_CHAIN_HANDLE]));
	if (tb[NFTA_CHAIN_HOOK] && mnl_attr_parse_nested(tb[NFTA_CHAIN_HOOK], hook_attr_cb, &m->devices) < 0)
		return false;
	return true;
}

static uint16_t msg_type(const struct nlmsghdr *nlh)
{
	return nft_change_type(NFNL_MSG_TYPE(nlh->nlmsg_type));
}

/* A table message's name (NULL: none). */
static const char *table_msg_name(const struct nlmsghdr *nlh)
{
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(attr) == NFTA_TABLE_NAME &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			return mnl_attr_get_str(attr);
	return NULL;
}

static uint8_t msg_family(const struct nlmsghdr *nlh)
{
	return ((const struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family;
}

static void table_delete(struct nft_chain_cache *cc, const struct nlmsghdr *nlh)
{
	const char *name = table_msg_name(nlh);
	int t = name ? table_index(cc, msg_family(nlh), name, false) : -1;

	if (t < 0)
		return; /* a table without chains */
	for (size_t i = 0; i < cc->entries.n; i++)
		if (!cc->entries.v[i].dead && cc->entries.v[i].table == (uint32_t)t) {
			cc->entries.v[i].dead = true;
			free(cc->entries.v[i].msg);
			cc->entries.v[i].msg = NULL;
			cc->n_dead++;
		}
	cc->tables.v[t].dead = true;
	map_rebuild(cc);
}

/* Whether the commit being applied deletes that table. */
static bool table_deleted_in_commit(const struct nft_chain_cache *cc, uint8_t family, const char *table)
{
	for (size_t i = 0; i < cc->pending.n; i++) {
		const struct nlmsghdr *nlh = cc->pending.v[i];
		const char *name;

		if (nlh && msg_type(nlh) == NFT_MSG_DELTABLE && msg_family(nlh) == family &&
		    (name = table_msg_name(nlh)) && strcmp(name, table) == 0)
			return true;
	}
	return false;
}

/* Applies one message of a commit (or of the dump); takes msg. */
static void apply(struct nft_chain_cache *cc, struct nlmsghdr *msg)
{
	uint16_t type = msg_type(msg);
	struct chain_msg m;
	struct cc_entry *e;
	int t;

	if (type == NFT_MSG_NEWTABLE) {
		free(msg); /* its chains come one by one */
		return;
	}
	if (type == NFT_MSG_DELTABLE) {
		table_delete(cc, msg);
		free(msg);
		return;
	}
	if (!chain_msg_parse(msg, &m)) {
		free(msg);
		invalidate(cc, "a chain notification without its table, name or handle");
		return;
	}
	t = table_index(cc, m.family, m.table, type == NFT_MSG_NEWCHAIN);
	e = t >= 0 ? entry_find(cc, (uint32_t)t, m.handle) : NULL;
	if (type == NFT_MSG_DELCHAIN) {
		/* Devices removed from a netdev chain, or the chain: the
		 * notification does not tell them apart, unless its table
		 * goes in the same commit (nft flush ruleset). */
		if (m.devices && !table_deleted_in_commit(cc, m.family, m.table))
			invalidate(cc, "a netdev chain's devices changed");
		else if (e)
			entry_kill(cc, e);
		free(msg);
		return;
	}
	if (!e) {
		entry_add(cc, (uint32_t)t, m.handle, msg);
		return;
	}
	/* an update (policy, rename): the notification carries the chain's
	 * attributes, but of a netdev chain only the devices added */
	if (m.devices) {
		free(msg);
		invalidate(cc, "a netdev chain's devices changed");
		return;
	}
	free(e->msg);
	e->msg = msg;
}

static void pending_drop(struct nft_chain_cache *cc)
{
	msgs_free(cc->pending.v, cc->pending.n);
	cc->pending.n = 0;
}

/* The commit a message belongs to, from its res_id (the generation's low
 * 16 bits): close to the one after cc->gen. */
static uint32_t commit_of(const struct nft_chain_cache *cc, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);

	return nft_gen_near(cc->gen + 1, ntohs(nfg->res_id));
}

void nft_chain_cache_feed(struct nft_chain_cache *cc, const struct nlmsghdr *nlh)
{
	uint16_t type;

	if (!cc || !cc->valid || NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg)) {
		invalidate(cc, "a notification too short to read");
		return;
	}
	type = msg_type(nlh);
	switch (type) {
	case NFT_MSG_NEWGEN: {
		const struct nlattr *attr;
		uint32_t gen = 0;
		bool have = false;

		mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg))
			if (mnl_attr_get_type(attr) == NFTA_GEN_ID && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0) {
				gen = ntohl(mnl_attr_get_u32(attr));
				have = true;
			}
		if (!have) {
			invalidate(cc, "a generation notification without its generation");
			return;
		}
		if (nft_gen_ge(cc->gen, gen)) {
			pending_drop(cc); /* a commit the list holds already */
			return;
		}
		if (gen != cc->gen + 1) {
			invalidate(cc, "a commit's notifications were missed");
			return;
		}
		for (size_t i = 0; i < cc->pending.n && cc->valid; i++) {
			struct nlmsghdr *msg = cc->pending.v[i];

			cc->pending.v[i] = NULL; /* apply() takes it */
			apply(cc, msg);
		}
		pending_drop(cc);
		if (cc->valid) {
			cc->gen = gen;
			cc->stats.commits++;
		}
		return;
	}
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		if (!nft_gen_ge(cc->gen, commit_of(cc, nlh))) {
			grow_array((void **)&cc->pending.v, &cc->pending.cap, cc->pending.n + 1,
				   sizeof(*cc->pending.v));
			cc->pending.v[cc->pending.n++] = msg_copy(nlh);
		}
		return;
	default:
		/* rules, sets, elements, objects: the chain list stays */
		if (!nft_change_type_known(type))
			invalidate(cc, "a notification of a kind not understood");
		return;
	}
}

void nft_chain_cache_lost(struct nft_chain_cache *cc)
{
	if (cc)
		invalidate(cc, "notifications were lost (the socket overran)");
}

/* --- the collector's side -------------------------------------------------- */

int nft_chain_cache_catch_up(struct nft_chain_cache *cc, uint32_t gen, int timeout_ms)
{
	static char buf[64u * 1024u];
	int64_t deadline = nft_mono_ms() + timeout_ms;

	while (cc->valid && !nft_gen_ge(cc->gen, gen)) {
		/* one datagram at a time: a commit's NEWGEN comes alone, so
		 * nothing of a later commit is read here (--keep reads those) */
		ssize_t n = mnl_socket_recvfrom(cc->nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const void *)buf;
		int left;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = nft_wait_readable(cc->nl, deadline);

			if (r < 0)
				return r;
			continue;
		}
		if (n < 0) {
			if (errno == EINTR || errno == ESRCH)
				continue;
			if (errno == ENOBUFS || errno == ENOSPC) {
				nft_chain_cache_lost(cc);
				break;
			}
			return -errno;
		}
		left = (int)n;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			nft_chain_cache_feed(cc, nlh);
	}
	if (!cc->valid)
		return -ESTALE;
	if (cc->gen != gen)
		return -ESTALE; /* the caller's generation is older than the list */
	return 0;
}

int nft_chain_cache_foreach(struct nft_chain_cache *cc, int (*cb)(const struct nlmsghdr *nlh, void *data),
			    void *data)
{
	cc->stats.uses++;
	for (size_t i = 0; i < cc->entries.n; i++) {
		int r;

		if (cc->entries.v[i].dead)
			continue;
		r = cb(cc->entries.v[i].msg, data);
		if (r <= MNL_CB_STOP)
			return r;
	}
	return MNL_CB_OK;
}

void nft_chain_cache_record_start(struct nft_chain_cache *cc)
{
	msgs_free(cc->rec.v, cc->rec.n);
	cc->rec.n = 0;
	cc->recording = true;
	cc->rec_complete = false;
}

void nft_chain_cache_record(struct nft_chain_cache *cc, const struct nlmsghdr *nlh)
{
	if (!cc->recording)
		return;
	grow_array((void **)&cc->rec.v, &cc->rec.cap, cc->rec.n + 1, sizeof(*cc->rec.v));
	cc->rec.v[cc->rec.n++] = msg_copy(nlh);
}

void nft_chain_cache_record_stop(struct nft_chain_cache *cc, bool complete)
{
	cc->recording = false;
	cc->rec_complete = complete;
	if (!complete) {
		msgs_free(cc->rec.v, cc->rec.n);
		cc->rec.n = 0;
	}
}

void nft_chain_cache_record_commit(struct nft_chain_cache *cc, uint32_t gen)
{
	if (!cc->rec_complete)
		return; /* nothing recorded: the list came from the cache */
	cc->recording = cc->rec_complete = false;
	pending_drop(cc);
	entries_clear(cc);
	cc->valid = true;
	cc->gen = gen;
	cc->why = NULL;
	for (size_t i = 0; i < cc->rec.n && cc->valid; i++) {
		struct nlmsghdr *msg = cc->rec.v[i];

		cc->rec.v[i] = NULL;
		apply(cc, msg);
	}
	msgs_free(cc->rec.v, cc->rec.n);
	cc->rec.n = 0;
	if (cc->valid)
		cc->stats.dumps++;
}
