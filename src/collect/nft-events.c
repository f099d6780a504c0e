/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/nft-events.h"
#include "cgnatcheck/nlsock.h"
#include "nft-internal.h"

#define EVENTS_RCVBUF (16 << 20)

struct mnl_socket *nft_events_open(void)
{
	struct mnl_socket *nl;
	unsigned group = NFNLGRP_NFTABLES;
	int r = nlsock_open(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK, &nl, NULL, NULL);

	if (r < 0) {
		errno = -r;
		return NULL;
	}
	if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		int err = errno;

		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	/* One kube-proxy sync is thousands of notifications (a megabyte):
	 * with the default buffer they overrun it, and an overrun means
	 * "anything may have changed" (--keep audits again for nothing). */
	int size = EVENTS_RCVBUF, fd = mnl_socket_get_fd(nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return nl;
}

bool nft_events_drain(struct mnl_socket *nl, struct nft_chain_cache *cc)
{
	static char buf[64u * 1024u];
	bool any = false;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const void *)buf;
		int left = (int)n;

		if (n < 0 && (errno == ENOBUFS || errno == ENOSPC)) {
			nft_chain_cache_lost(cc);
			any = true;
			continue;
		}
		if (n <= 0)
			return any;
		any = true;
		for (; cc && mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			nft_chain_cache_feed(cc, nlh);
	}
}

int nft_events_generation(uint32_t *gen)
{
	struct nlconn c;
	int r = nlconn_open(&c, NETLINK_NETFILTER, MNL_SOCKET_BUFFER_SIZE);

	if (r < 0)
		return r;
	r = nlconn_talk(&c, nft_gen_request(&c), nft_gen_cb, gen);
	nlconn_close(&c);
	return r;
}

/* --- the collector's watch ------------------------------------------------ */
/* What changed while the collector read, object by object, from the same
 * notifications; see nft.c for how it is used. */

/* One commit of a kube-proxy-sized table is hundreds of thousands of
 * notifications; the kernel coalesces them into skbs of a few pages. The
 * buffer only holds what has not been read yet (the collector reads between
 * dumps), and an overrun is noticed (ENOBUFS), never silent. */
#define WATCH_RCVBUF (8 << 20)
#define WATCH_BUFSIZ (64u * 1024u)

int nft_watch_open(struct nft_watch *w)
{
	int size = WATCH_RCVBUF, fd;

	memset(w, 0, sizeof(*w));
	w->nl = nft_events_open();
	if (!w->nl)
		return -errno;
	fd = mnl_socket_get_fd(w->nl);
	/* CAP_NET_ADMIN (the collector needs it anyway) may exceed rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	w->buf = xmalloc(WATCH_BUFSIZ);
	return 0;
}

void nft_watch_start(struct nft_watch *w, uint32_t gen)
{
	/* Commits before gen released the commit mutex before gen's began:
	 * whatever is read from now on includes them. gen itself may still
	 * be under way. */
	w->gen = gen - 1;
	w->started = false;
	w->lost = false;
}

void nft_watch_close(struct nft_watch *w)
{
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

/* The commit a notification belongs to: at most a few generations past
 * the last one seen. */
static uint32_t commit_gen(const struct nft_watch *w, uint16_t res_id)
{
	return nft_gen_near(w->gen + 1, res_id);
}

struct change_attrs {
	const struct nlattr *tb[8];
};

static int change_attr_cb(const struct nlattr *attr, void *data)
{
	struct change_attrs *a = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type < ARRAY_SIZE(a->tb))
		a->tb[type] = attr;
	return MNL_CB_OK;
}

static const char *attr_str(const struct change_attrs *a, uint16_t type)
{
	const struct nlattr *attr = a->tb[type];

	if (!attr || mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return NULL;
	return mnl_attr_get_str(attr);
}

/* What one notification says: a change (1, *ch and *res_id set), a NEWGEN
 * (2, *res_id holds nothing; *newgen the generation), nothing we model (0),
 * or something we cannot understand (-1). ch's strings point into nlh. */
static int change_parse(const struct nlmsghdr *nlh, struct nft_change *ch, uint16_t *res_id, uint32_t *newgen)
{
	const struct nfgenmsg *nfg;
	struct change_attrs a = { 0 };
	uint16_t table_attr = 1, name_attr = 0;     /* NFTA_*_TABLE is 1 in each */

	*ch = (struct nft_change){ 0 };
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg))
		return -1;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*nfg), change_attr_cb, &a) < 0)
		return -1;
	ch->type = nft_change_type(NFNL_MSG_TYPE(nlh->nlmsg_type));
	ch->family = nfg->nfgen_family;
	switch (ch->type) {
	case NFT_MSG_NEWGEN:
		if (!a.tb[NFTA_GEN_ID] || mnl_attr_validate(a.tb[NFTA_GEN_ID], MNL_TYPE_U32) < 0)
			return -1;
		*newgen = ntohl(mnl_attr_get_u32(a.tb[NFTA_GEN_ID]));
		return 2;
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
		table_attr = NFTA_TABLE_NAME;
		break;
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		name_attr = NFTA_CHAIN_NAME;
		ch->base = a.tb[NFTA_CHAIN_HOOK] != NULL;
		break;
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		name_attr = NFTA_RULE_CHAIN;
		break;
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
		name_attr = NFTA_SET_NAME;
		break;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		name_attr = NFTA_SET_ELEM_LIST_SET;
		break;
	case NFT_MSG_NEWOBJ:
	case NFT_MSG_DELOBJ:
	case NFT_MSG_NEWFLOWTABLE:
	case NFT_MSG_DELFLOWTABLE:
	case NFT_MSG_GETOBJ_RESET:
		/* objects, flowtables: not modelled */
		return 0;
	default:
		/* counters reset: not modelled; else a kind of change we
		 * cannot place */
		return nft_change_type_known(ch->type) ? 0 : -1;
	}
	ch->table = attr_str(&a, table_attr);
	ch->name = name_attr ? attr_str(&a, name_attr) : NULL;
	if (!ch->table || (name_attr && !ch->name))
		return -1;
	*res_id = ntohs(nfg->res_id);
	return 1;
}

/* One notification: a change reported to cb, or a NEWGEN that closes a
 * commit. Returns false when it cannot be understood (then changes are
 * unknown). */
static bool watch_message(struct nft_watch *w, const struct nlmsghdr *nlh, nft_change_cb cb, void *data)
{
	struct nft_change ch;
	uint16_t res_id = 0;
	uint32_t gen = 0;

	switch (change_parse(nlh, &ch, &res_id, &gen)) {
	case 0:
		return true;
	case 2: {
		uint32_t expect = w->gen + 1;
		bool in_order;

		if (!nft_gen_ge(gen, expect))
			return true; /* a commit that ended before we started */
		/* Commits follow one another (one mutex, base_seq + 1 each):
		 * a generation skipped is a commit whose notifications we
		 * missed. Only the first one we see may skip the generation
		 * the caller started at: that commit may have ended before
		 * we subscribed. */
		in_order = gen == expect || (!w->started && gen == expect + 1);
		w->gen = gen;
		w->started = true;
		return in_order;
	}
	case 1:
		break;
	default:
		return false;
	}
	ch.gen = commit_gen(w, res_id);
	if (nft_gen_ge(w->gen, ch.gen))
		return true; /* of a commit that ended before we started */
	cb(&ch, data);
	return true;
}

/* --- what an audit read, for --keep ---------------------------------------- */

struct nft_interest {
	struct arena arena;
	struct cg_hashmap keys;     /* kind, family, table[, name] -> non-NULL */
};

#define INTEREST_KEY_MAX (2 + 2 * NFT_NAME_MAXLEN + 2)

/* kind 'W' (a table read whole), 'P' (read in part), 'c' (a chain read of
 * such a table), 's' (a set read of it) */
static uint32_t interest_key(uint8_t k[static INTEREST_KEY_MAX], char kind, uint8_t family, const char *table,
			     const char *name)
{
	size_t tl = strnlen(table, NFT_NAME_MAXLEN - 1), nl = name ? strnlen(name, NFT_NAME_MAXLEN - 1) : 0;
	uint8_t *p = k;

	*p++ = (uint8_t)kind;
	*p++ = family;
	memcpy(p, table, tl);
	p += tl;
	*p++ = 0;
	memcpy(p, name ? name : "", nl);
	p += nl;
	return (uint32_t)(p - k);
}

/* A set read of a table read in part: which of its elements' changes can
 * matter (those of a key an audited packet looked up, or any). */
struct set_interest {
	bool any;
	uint32_t key_len, n;
	const uint8_t *keys;
};

static void interest_put(struct nft_interest *in, char kind, uint8_t family, const char *table, const char *name,
			 void *value)
{
	uint8_t k[INTEREST_KEY_MAX];
	uint32_t len = interest_key(k, kind, family, table, name);

	hashmap_put(&in->keys, arena_memdup(&in->arena, k, len), len, value ? value : in);
}

static void *interest_get(const struct nft_interest *in, char kind, uint8_t family, const char *table,
			  const char *name)
{
	uint8_t k[INTEREST_KEY_MAX];

	return hashmap_get(&in->keys, k, interest_key(k, kind, family, table, name));
}

static bool interest_has(const struct nft_interest *in, char kind, uint8_t family, const char *table,
			 const char *name)
{
	return interest_get(in, kind, family, table, name) != NULL;
}

struct nft_interest *nft_interest_new(const struct cg_ruleset *rs)
{
	struct nft_interest *in = xcalloc(1, sizeof(*in));
	size_t n = 1;

	for (uint32_t t = 0; t < rs->n_tables; t++)
		n += 1 + rs->tables[t].n_chains + rs->tables[t].n_sets;
	hashmap_init(&in->keys, &in->arena, n);
	for (uint32_t t = 0; t < rs->n_tables; t++) {
		const struct cg_table *tb = &rs->tables[t];
		bool part = false;

		if (tb->backend == CG_BACKEND_IPTABLES_LEGACY)
			continue;
		for (uint32_t c = 0; c < tb->n_chains && !part; c++)
			part = tb->chains[c].unread;
		for (uint32_t s = 0; s < tb->n_sets && !part; s++)
			part = tb->sets[s].flags & CG_SET_UNREAD;
		interest_put(in, part ? 'P' : 'W', tb->family, tb->name, NULL, NULL);
		if (!part)
			continue;
		for (uint32_t c = 0; c < tb->n_chains; c++)
			if (!tb->chains[c].unread)
				interest_put(in, 'c', tb->family, tb->name, tb->chains[c].name, NULL);
		for (uint32_t s = 0; s < tb->n_sets; s++) {
			const struct cg_set *set = &tb->sets[s];
			struct set_interest *si;

			if (set->flags & CG_SET_UNREAD)
				continue;
			/* ranges (a key inside a changed range) and sets
			 * asked too much: any change of an element */
			si = arena_alloc(&in->arena, sizeof(*si));
			*si = (struct set_interest){ .any = (set->flags & (CG_SET_INTERVAL | CG_SET_LAZY)) ||
							    set->n_lookups == CG_SET_LOOKUPS_MANY,
						     .key_len = set->key_len };
			if (!si->any && set->n_lookups) {
				si->n = set->n_lookups;
				si->keys = arena_memdup(&in->arena, set->lookups, (size_t)set->n_lookups * set->key_len);
			}
			interest_put(in, 's', tb->family, tb->name, set->name, si);
		}
	}
	return in;
}

void nft_interest_free(struct nft_interest *in)
{
	if (!in)
		return;
	arena_free(&in->arena);
	free(in);
}

static const char *change_kind(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWTABLE: return "new table";
	case NFT_MSG_DELTABLE: return "table deleted";
	case NFT_MSG_NEWCHAIN: return "new or changed chain";
	case NFT_MSG_DELCHAIN: return "chain deleted";
	case NFT_MSG_NEWRULE: return "new rule";
	case NFT_MSG_DELRULE: return "rule deleted";
	case NFT_MSG_NEWSET: return "new or changed set";
	case NFT_MSG_DELSET: return "set deleted";
	case NFT_MSG_NEWSETELEM: return "new set element";
	case NFT_MSG_DELSETELEM: return "set element deleted";
	default: return "change";
	}
}

/* Whether an element of the notification is one of the keys looked up
 * (or the catch-all, or one that cannot be told). */
struct elem_probe {
	const struct set_interest *si;
	bool hit;
};

static int elem_probe_cb(struct nftnl_set_elem *ne, void *data)
{
	struct elem_probe *p = data;
	uint32_t flags = nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_FLAGS) ?
		nftnl_set_elem_get_u32(ne, NFTNL_SET_ELEM_FLAGS) : 0;
	uint32_t len = 0;
	const uint8_t *key;

	if (p->hit)
		return 0;
	if ((flags & NFT_SET_ELEM_CATCHALL) || !nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_KEY)) {
		p->hit = true;
		return 0;
	}
	key = nftnl_set_elem_get(ne, NFTNL_SET_ELEM_KEY, &len);
	if (!key || len != p->si->key_len) {
		p->hit = true;
		return 0;
	}
	for (uint32_t i = 0; i < p->si->n && !p->hit; i++)
		p->hit = memcmp(p->si->keys + (size_t)i * len, key, len) == 0;
	return 0;
}

static bool elems_matter(const struct set_interest *si, const struct nlmsghdr *nlh)
{
	struct elem_probe p = { .si = si };
	struct nftnl_set *ns;

	if (si->any)
		return true;
	if (!si->n)
		return false; /* no audited packet looked anything up in it */
	if (!nlh || !(ns = nftnl_set_alloc()))
		return true;
	if (nftnl_set_elems_nlmsg_parse(nlh, ns) < 0)
		p.hit = true;
	else
		nftnl_set_elem_foreach(ns, elem_probe_cb, &p);
	nftnl_set_free(ns);
	return p.hit;
}

bool nft_interest_matches(const struct nft_interest *in, const struct nft_change *ch, const struct nlmsghdr *nlh)
{
	if (!in || ch->type == NFT_MSG_NEWTABLE || ch->type == NFT_MSG_DELTABLE)
		return true;
	if (interest_has(in, 'W', ch->family, ch->table, NULL))
		return true;
	if (!interest_has(in, 'P', ch->family, ch->table, NULL))
		return true; /* a table the audit did not see: it may hold base chains */
	switch (ch->type) {
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		/* a new base chain sees packets; a new regular one does not
		 * until a rule or element read jumps to it (a change of its own) */
		return ch->base || interest_has(in, 'c', ch->family, ch->table, ch->name);
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		return interest_has(in, 'c', ch->family, ch->table, ch->name);
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
		return interest_has(in, 's', ch->family, ch->table, ch->name);
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM: {
		/* an element of a key no audited packet looked up cannot
		 * change a verdict (kube-proxy replacing service-ips elements
		 * of cluster IPs) */
		const struct set_interest *si = interest_get(in, 's', ch->family, ch->table, ch->name);

		return si && elems_matter(si, nlh);
	}
	default:
		return true;
	}
}

bool nft_events_drain_interest(struct mnl_socket *nl, struct nft_chain_cache *cc, const struct nft_interest *in,
			       uint64_t *ignored)
{
	return nft_events_drain_after(nl, cc, in, NULL, NULL, ignored);
}

bool nft_events_drain_after(struct mnl_socket *nl, struct nft_chain_cache *cc, const struct nft_interest *in,
			    const uint32_t *after_gen, const uint32_t *own_gen, uint64_t *ignored)
{
	static char buf[WATCH_BUFSIZ];
	bool any = false;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const void *)buf;
		int left;

		if (n < 0 && (errno == ENOBUFS || errno == ENOSPC)) {
			log_debug("nf_tables: notifications overran the socket, or one did not fit: what changed is "
				  "unknown");
			nft_chain_cache_lost(cc);
			any = true; /* overrun: what changed is unknown */
			continue;
		}
		if (n <= 0)
			return any;
		left = (int)n;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			struct nft_change ch;
			uint16_t res_id;
			uint32_t gen;
			int r = change_parse(nlh, &ch, &res_id, &gen);

			nft_chain_cache_feed(cc, nlh);
			if (r == 1 && after_gen) {
				/* the commit's generation, from its low 16 bits: close
				 * to the one the audit read */
				uint32_t g = nft_gen_near(*after_gen, res_id);

				if (!nft_gen_ge(g, *after_gen + 1) || (own_gen && g == *own_gen))
					continue; /* in the audit already, or ours */
			}
			if (r < 0 || (r == 1 && nft_interest_matches(in, &ch, nlh))) {
				if (!any)
					log_debug("nf_tables: a change that can matter: %s%s%s (%s)",
						  r < 0 ? "a notification not understood" : ch.table, r < 0 || !ch.name ? "" : " ",
						  r < 0 || !ch.name ? "" : ch.name, r < 0 ? "" : change_kind(ch.type));
				any = true;
			}
			else if (r == 1 && ignored)
				(*ignored)++;
		}
	}
}

int nft_watch_poll(struct nft_watch *w, uint32_t until, int timeout_ms, nft_change_cb cb, void *data)
{
	int64_t deadline = nft_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		/* non-blocking (nft_events_open()); only the kernel's messages
		 * (ESRCH otherwise), a truncated one fails (ENOSPC) */
		ssize_t n = mnl_socket_recvfrom(w->nl, w->buf, WATCH_BUFSIZ);
		const struct nlmsghdr *nlh = (const void *)w->buf;
		int left;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r;

			/* lost: the caller reads everything again anyway */
			if (nft_gen_ge(w->gen, until) || w->lost)
				return 0;
			if ((r = nft_wait_readable(w->nl, deadline)) < 0)
				return r;
			continue;
		}
		if (n < 0) {
			if (errno == EINTR || errno == ESRCH)
				continue;
			if (errno != ENOBUFS && errno != ENOSPC)
				return -errno;
			w->lost = true; /* overrun, or truncated: notifications are missing */
			continue;
		}
		left = (int)n;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			if (!watch_message(w, nlh, cb, data))
				w->lost = true;
	}
}
