/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The contents of the ipsets that `-m set` rules look up, read over
 * nfnetlink (NFNL_SUBSYS_IPSET), so the set match is evaluated (match-set.c)
 * instead of staying unknown.
 *
 * The rules carry a set's kernel index, not its name: IPSET_CMD_GET_BYINDEX
 * names it (protocol 7), then one IPSET_CMD_LIST dump of that set alone
 * reads its header and its elements. A set is read once however many rules
 * use it; list:set members are read by name the same way. Elements go into
 * a hash map of the ruleset's arena, so the cost is linear in the elements.
 * A set whose type is not modelled, that is larger than IPSET_MAX_ELEMS, or
 * that cannot be read stays unknown, and says why (log, and the rule's text
 * names the set). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_set.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/collect-netfilter.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/nlsock.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/xt.h"

/* Newer than some installed headers: the hash types' bitmask (a netmask
 * that need not be a prefix), nested like an address. */
#ifndef IPSET_ATTR_BITMASK
#define IPSET_ATTR_BITMASK (IPSET_ATTR_MEMSIZE + 1)
#endif

/* Above this many elements a set is not read (its match stays unknown): a
 * million-element set takes some 100 MB here. */
#define IPSET_MAX_ELEMS 2000000u
/* the dump's messages are up to a page or two each */
#define IPSET_BUF (64 * 1024)

struct ipset_type {
	const char *name;
	uint8_t n_dims;
	uint8_t dims[3];
	bool nomatch;               /* IPSET_TYPE_NOMATCH */
};

static const struct ipset_type types[] = {
	{ "hash:ip", 1, { XT_IPSET_DIM_IP }, false },
	{ "hash:net", 1, { XT_IPSET_DIM_NET }, true },
	{ "hash:ip,port", 2, { XT_IPSET_DIM_IP, XT_IPSET_DIM_PORT }, false },
	{ "hash:net,port", 2, { XT_IPSET_DIM_NET, XT_IPSET_DIM_PORT }, true },
	{ "hash:ip,port,ip", 3, { XT_IPSET_DIM_IP, XT_IPSET_DIM_PORT, XT_IPSET_DIM_IP }, false },
	{ "hash:ip,port,net", 3, { XT_IPSET_DIM_IP, XT_IPSET_DIM_PORT, XT_IPSET_DIM_NET }, true },
	{ "hash:ip,mark", 2, { XT_IPSET_DIM_IP, XT_IPSET_DIM_MARK }, false },
	{ "bitmap:ip", 1, { XT_IPSET_DIM_IP }, false },
	{ "bitmap:port", 1, { XT_IPSET_DIM_TCPUDP_PORT }, false },
};

struct ipset_reader {
	struct cg_ruleset *rs;
	struct nlconn nl;
	int nl_err;                 /* the socket could not be opened: -errno */
	uint8_t protocol;           /* 7, or 6 for a kernel that knows no better */
	/* the sets read so far, by name (a host has a handful; list:set
	 * members are looked up here) */
	struct xt_ipset **sets;
	size_t n_sets, cap_sets;
};

/* One set's dump in progress. */
struct list_state {
	struct xt_ipset *s;
	struct arena *ar;
	const struct ipset_type *type;
	bool header_seen, stopped;
	unsigned alen;
	uint8_t *keys;              /* key_len + 1 bytes per element (the last: nomatch) */
	size_t n, cap;
	char **members;             /* list:set */
	size_t n_members;
	const char *bad;            /* a malformed message, in words */
};

static const char *ipset_strerror(int err, char *buf, size_t size)
{
	switch (-err) {
	case IPSET_ERR_PROTOCOL: return "the kernel does not speak ipset protocol 6 or 7";
	case ENOENT: return "no such set";
	case EPERM: return "permission denied (needs CAP_NET_ADMIN)";
	}
	if (-err > IPSET_ERR_PRIVATE) {
		snprintf(buf, size, "ipset error %d", -err);
		return buf;
	}
	snprintf(buf, size, "%s", strerror(-err));
	return buf;
}

static struct nlmsghdr *ipset_msg(struct ipset_reader *r, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->nl.buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_IPSET << 8) | cmd;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++r->nl.seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_IPV4;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	mnl_attr_put_u8(nlh, IPSET_ATTR_PROTOCOL, r->protocol);
	return nlh;
}

/* ---- the name of an index ------------------------------------------------- */

struct byindex {
	char name[IPSET_MAXNAMELEN];
};

static int byindex_cb(const struct nlmsghdr *nlh, void *data)
{
	struct byindex *b = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == IPSET_ATTR_SETNAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			snprintf(b->name, sizeof(b->name), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int ipset_name_of(struct ipset_reader *r, uint16_t index, char name[IPSET_MAXNAMELEN])
{
	struct byindex b = { "" };
	struct nlmsghdr *nlh;
	int e;

	if (r->protocol < 7)
		return -EOPNOTSUPP;
	nlh = ipset_msg(r, IPSET_CMD_GET_BYINDEX, NLM_F_ACK);
	mnl_attr_put_u16(nlh, IPSET_ATTR_INDEX | NLA_F_NET_BYTEORDER, htons(index));
	e = nlconn_talk(&r->nl, nlh, byindex_cb, &b);
	if (e < 0)
		return e;
	if (!b.name[0])
		return -EBADMSG;
	memcpy(name, b.name, IPSET_MAXNAMELEN);
	return 0;
}

/* ---- one set's dump ------------------------------------------------------- */

static int get_be32(const struct nlattr *a, uint32_t *v)
{
	if (mnl_attr_get_payload_len(a) < 4)
		return -1;
	*v = ntohl(mnl_attr_get_u32(a));
	return 0;
}

/* An IPSET_ATTR_IP nest: IPSET_ATTR_IPADDR_IPV4 or _IPV6 inside. */
static int get_ip(const struct nlattr *nest, unsigned alen, uint8_t *out)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		uint16_t t = mnl_attr_get_type(a);
		if ((t == IPSET_ATTR_IPADDR_IPV4 && alen == 4) || (t == IPSET_ATTR_IPADDR_IPV6 && alen == 16)) {
			if (mnl_attr_get_payload_len(a) < alen)
				return -1;
			memcpy(out, mnl_attr_get_payload(a), alen);
			return 0;
		}
	}
	return -1;
}

static void mask_prefix(uint8_t *b, unsigned len, unsigned plen)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned bits = plen > i * 8 ? plen - i * 8 : 0;
		b[i] &= bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
	}
}

/* The set's header (IPSET_ATTR_DATA of the first message). */
static int parse_header(struct list_state *st, const struct nlattr *data)
{
	struct xt_ipset *s = st->s;
	const struct nlattr *a;
	uint32_t v;

	mnl_attr_for_each_nested(a, data) {
		switch (mnl_attr_get_type(a)) {
		case IPSET_ATTR_NETMASK:
			if (mnl_attr_get_payload_len(a) < 1 || st->alen == 0)
				return -1;
			mask_prefix(s->mask, st->alen, mnl_attr_get_u8(a));
			break;
		case IPSET_ATTR_BITMASK: {
			uint8_t m[16];
			if (st->alen == 0 || get_ip(a, st->alen, m) < 0)
				return -1;
			for (unsigned i = 0; i < st->alen; i++)
				s->mask[i] &= m[i];
			break;
		}
		case IPSET_ATTR_MARKMASK:
			if (get_be32(a, &s->markmask) < 0)
				return -1;
			break;
		case IPSET_ATTR_CADT_FLAGS:
			if (get_be32(a, &v) < 0)
				return -1;
			s->counters = v & IPSET_FLAG_WITH_COUNTERS;
			break;
		case IPSET_ATTR_ELEMENTS:
			if (get_be32(a, &v) < 0)
				return -1;
			if (v > IPSET_MAX_ELEMS)
				s->unknown = "it has too many elements to read";
			break;
		}
	}
	return 0;
}

/* One element (an IPSET_ATTR_DATA nest of IPSET_ATTR_ADT) into its key. */
static int parse_elem(struct list_state *st, const struct nlattr *data)
{
	const struct nlattr *tb[IPSET_ATTR_ADT_MAX + 1] = { 0 };
	const struct nlattr *a;
	struct xt_ipset *s = st->s;
	uint8_t key[64], *k = key;
	unsigned n_ip = 0;
	uint32_t flags = 0;

	mnl_attr_for_each_nested(a, data) {
		uint16_t t = mnl_attr_get_type(a);
		if (t <= IPSET_ATTR_ADT_MAX)
			tb[t] = a;
	}
	if (s->list) {
		if (!tb[IPSET_ATTR_NAME] || mnl_attr_validate(tb[IPSET_ATTR_NAME], MNL_TYPE_NUL_STRING) < 0)
			return -1;
		st->members = xreallocarray(st->members, st->n_members + 1, sizeof(*st->members));
		st->members[st->n_members++] = xstrdup(mnl_attr_get_str(tb[IPSET_ATTR_NAME]));
		return 0;
	}
	for (unsigned i = 0; i < s->n_dims; i++) {
		const struct nlattr *ip = n_ip ? tb[IPSET_ATTR_IP2] : tb[IPSET_ATTR_IP];
		const struct nlattr *cidr = n_ip ? tb[IPSET_ATTR_CIDR2] : tb[IPSET_ATTR_CIDR];
		unsigned plen = st->alen * 8;
		uint32_t mark;

		switch (s->dims[i]) {
		case XT_IPSET_DIM_IP:
		case XT_IPSET_DIM_NET:
			n_ip++;
			if (!ip || get_ip(ip, st->alen, k) < 0)
				return -1;
			if (cidr) {
				if (mnl_attr_get_payload_len(cidr) < 1 || mnl_attr_get_u8(cidr) > plen)
					return -1;
				plen = mnl_attr_get_u8(cidr);
			}
			if (s->dims[i] == XT_IPSET_DIM_IP) {
				/* bitmap:ip lists a netmask's blocks with their
				 * length; the lookup masks with the set's mask */
				for (unsigned j = 0; j < st->alen; j++)
					k[j] &= s->mask[j];
				k += st->alen;
				break;
			}
			mask_prefix(k, st->alen, plen);
			k += st->alen;
			*k++ = (uint8_t)plen;
			s->cidrs[plen / 64] |= 1ull << (plen % 64);
			break;
		case XT_IPSET_DIM_PORT:
			if (!tb[IPSET_ATTR_PORT] || mnl_attr_get_payload_len(tb[IPSET_ATTR_PORT]) < 2 ||
			    !tb[IPSET_ATTR_PROTO] || mnl_attr_get_payload_len(tb[IPSET_ATTR_PROTO]) < 1)
				return -1;
			memcpy(k, mnl_attr_get_payload(tb[IPSET_ATTR_PORT]), 2);
			k[2] = mnl_attr_get_u8(tb[IPSET_ATTR_PROTO]);
			k += 3;
			break;
		case XT_IPSET_DIM_TCPUDP_PORT:
			if (!tb[IPSET_ATTR_PORT] || mnl_attr_get_payload_len(tb[IPSET_ATTR_PORT]) < 2)
				return -1;
			memcpy(k, mnl_attr_get_payload(tb[IPSET_ATTR_PORT]), 2);
			k += 2;
			break;
		case XT_IPSET_DIM_MARK:
			if (!tb[IPSET_ATTR_MARK] || get_be32(tb[IPSET_ATTR_MARK], &mark) < 0)
				return -1;
			mark &= s->markmask;
			k[0] = (uint8_t)(mark >> 24);
			k[1] = (uint8_t)(mark >> 16);
			k[2] = (uint8_t)(mark >> 8);
			k[3] = (uint8_t)mark;
			k += 4;
			break;
		}
	}
	if (tb[IPSET_ATTR_CADT_FLAGS] && get_be32(tb[IPSET_ATTR_CADT_FLAGS], &flags) < 0)
		return -1;
	if ((uint32_t)(k - key) != s->key_len)
		return -1;
	if (st->n + 1 > IPSET_MAX_ELEMS) {
		s->unknown = "it has too many elements to read";
		return 0;
	}
	grow_array((void **)&st->keys, &st->cap, (st->n + 1) * (s->key_len + 1), 1);
	memcpy(st->keys + st->n * (s->key_len + 1), key, s->key_len);
	st->keys[st->n * (s->key_len + 1) + s->key_len] = (flags & IPSET_FLAG_NOMATCH) && s->nomatch;
	st->n++;
	return 0;
}

/* The type and family of the first message fix the key's layout. */
static void set_type(struct list_state *st, const char *typename, uint8_t family)
{
	struct xt_ipset *s = st->s;

	s->type = arena_strdup(st->ar, typename);
	s->family = family;
	st->alen = family == NFPROTO_IPV6 ? 16 : family == NFPROTO_IPV4 ? 4 : 0;
	memset(s->mask, 0xff, sizeof(s->mask));
	s->markmask = UINT32_MAX;
	if (strcmp(typename, "list:set") == 0) {
		s->list = true;
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		if (strcmp(types[i].name, typename) != 0)
			continue;
		st->type = &types[i];
		s->n_dims = types[i].n_dims;
		memcpy(s->dims, types[i].dims, sizeof(s->dims));
		s->nomatch = types[i].nomatch;
		for (unsigned d = 0; d < s->n_dims; d++)
			s->key_len += s->dims[d] == XT_IPSET_DIM_IP ? st->alen :
				      s->dims[d] == XT_IPSET_DIM_NET ? st->alen + 1 :
				      s->dims[d] == XT_IPSET_DIM_PORT ? 3 :
				      s->dims[d] == XT_IPSET_DIM_MARK ? 4 : 2;
		/* an address dimension needs an address family */
		for (unsigned d = 0; d < s->n_dims; d++)
			if ((s->dims[d] == XT_IPSET_DIM_IP || s->dims[d] == XT_IPSET_DIM_NET) && !st->alen)
				st->type = NULL;
		if (st->type)
			return;
	}
	s->unknown = "its type is not modelled";
}

static int list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct list_state *st = data;
	struct ipset_reader_msg {
		const struct nlattr *typename, *family, *data, *adt;
	} m = { 0 };
	const struct nlattr *a;

	if (st->stopped)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case IPSET_ATTR_TYPENAME: m.typename = a; break;
		case IPSET_ATTR_FAMILY: m.family = a; break;
		case IPSET_ATTR_DATA: m.data = a; break;
		case IPSET_ATTR_ADT: m.adt = a; break;
		}
	}
	if (!st->header_seen) {
		if (!m.typename || mnl_attr_validate(m.typename, MNL_TYPE_NUL_STRING) < 0 || !m.family ||
		    mnl_attr_get_payload_len(m.family) < 1) {
			st->bad = "the set's first message has no type or family";
			return MNL_CB_STOP;
		}
		st->header_seen = true;
		set_type(st, mnl_attr_get_str(m.typename), mnl_attr_get_u8(m.family));
		if (m.data && parse_header(st, m.data) < 0) {
			st->bad = "a malformed set header";
			return MNL_CB_STOP;
		}
	}
	if (st->s->unknown) {
		/* not modelled, or too big: read no further (the caller
		 * closes the socket with the rest of the dump in it) */
		st->stopped = true;
		return MNL_CB_STOP;
	}
	if (m.adt) {
		mnl_attr_for_each_nested(a, m.adt) {
			if (mnl_attr_get_type(a) != IPSET_ATTR_DATA)
				continue;
			if (parse_elem(st, a) < 0) {
				st->bad = "a malformed element";
				return MNL_CB_STOP;
			}
			if (st->s->unknown) {
				st->stopped = true;
				return MNL_CB_STOP;
			}
		}
	}
	return MNL_CB_OK;
}

static struct xt_ipset *ipset_read_name(struct ipset_reader *r, const char *name, int depth);

static void list_state_free(struct list_state *st)
{
	for (size_t i = 0; i < st->n_members; i++)
		free(st->members[i]);
	free(st->members);
	free(st->keys);
	memset(st, 0, sizeof(*st));
}

/* Dumps one set into s (its name set). A stopped dump leaves messages on
 * the socket: it is reopened for the next request. */
static void ipset_dump(struct ipset_reader *r, struct xt_ipset *s, int depth)
{
	struct arena *ar = &r->rs->arena;
	struct list_state st = { .s = s, .ar = ar };
	struct nlmsghdr *nlh;
	char eb[64];
	int e = -EINTR;

	for (int tries = 0; tries < 3 && e == -EINTR; tries++) {
		if (tries) {
			/* an interrupted dump leaves the rest of it queued */
			nlconn_close(&r->nl);
			r->nl_err = nlconn_open(&r->nl, NETLINK_NETFILTER, IPSET_BUF);
			if (r->nl_err < 0) {
				e = r->nl_err;
				break;
			}
		}
		list_state_free(&st);
		st.s = s;
		st.ar = ar;
		s->unknown = NULL;
		s->n_dims = 0;
		s->key_len = 0;
		memset(s->cidrs, 0, sizeof(s->cidrs));
		nlh = ipset_msg(r, IPSET_CMD_LIST, NLM_F_DUMP);
		mnl_attr_put_strz(nlh, IPSET_ATTR_SETNAME, s->name);
		e = nlconn_talk(&r->nl, nlh, list_cb, &st);
		if (e == -IPSET_ERR_PROTOCOL && r->protocol == 7) {
			r->protocol = 6;
			e = -EINTR;
		}
	}
	if (r->nl_err == 0 && (st.stopped || st.bad || e < 0)) {
		/* the rest of the dump may still be queued */
		nlconn_close(&r->nl);
		r->nl_err = nlconn_open(&r->nl, NETLINK_NETFILTER, IPSET_BUF);
	}
	if (e < 0)
		s->unknown = arena_strdup(ar, ipset_strerror(e, eb, sizeof(eb)));
	else if (st.bad)
		s->unknown = st.bad;
	else if (!st.header_seen)
		s->unknown = "the kernel listed nothing for it";
	if (s->unknown) {
		log_info("ipset %s%s%s: %s: rules matching it stay unknown", s->name, s->type && *s->type ? " of type " : "",
			 s->type ? s->type : "", s->unknown);
		list_state_free(&st);
		return;
	}
	if (s->list) {
		s->members = arena_alloc(ar, st.n_members * sizeof(*s->members) + 1);
		for (size_t i = 0; i < st.n_members; i++) {
			const struct xt_ipset *m = depth ? NULL : ipset_read_name(r, st.members[i], depth + 1);
			if (!m || m->unknown) {
				s->unknown = arena_strdup(ar, "a member set could not be read");
				break;
			}
			s->members[s->n_members++] = m;
		}
		list_state_free(&st);
		return;
	}
	s->n_elems = (uint32_t)st.n;
	if (st.n) {
		size_t rec = s->key_len + 1;
		uint8_t *keys = arena_memdup(ar, st.keys, st.n * rec);
		struct cg_hashmap *map = arena_alloc(ar, sizeof(*map));

		hashmap_init(map, ar, (uint32_t)st.n);
		for (size_t i = 0; i < st.n; i++)
			hashmap_put(map, keys + i * rec, s->key_len, keys + i * rec + s->key_len);
		s->elems = map;
	}
	log_debug("ipset %s (%s): %zu elements read", s->name, s->type, st.n);
	list_state_free(&st);
}

static struct xt_ipset *ipset_new(struct ipset_reader *r, const char *name, const char *unknown)
{
	struct xt_ipset *s = arena_alloc(&r->rs->arena, sizeof(*s));

	s->name = name ? arena_strdup(&r->rs->arena, name) : NULL;
	s->type = "";
	s->unknown = unknown;
	grow_array((void **)&r->sets, &r->cap_sets, r->n_sets + 1, sizeof(*r->sets));
	r->sets[r->n_sets++] = s;
	return s;
}

static struct xt_ipset *ipset_read_name(struct ipset_reader *r, const char *name, int depth)
{
	struct xt_ipset *s;

	for (size_t i = 0; i < r->n_sets; i++)
		if (r->sets[i]->name && strcmp(r->sets[i]->name, name) == 0)
			return r->sets[i];
	s = ipset_new(r, name, NULL);
	if (r->nl_err < 0) {
		s->unknown = "ipsets cannot be read (no netlink socket)";
		return s;
	}
	ipset_dump(r, s, depth);
	/* the type's name lives in the arena too */
	return s;
}

/* ---- the rules' sets ------------------------------------------------------ */

/* The sets a SET target's blob names, by its revision's struct */
static unsigned set_target_indices(const struct cg_expr *e, uint16_t out[3])
{
	union {
		struct xt_set_info_target_v0 v0;
		struct xt_set_info_target_v1 v1;
		struct xt_set_info_target_v3 v3;
	} u;
	unsigned n = 0;

	if (e->type != CG_EXPR_XT_TARGET || e->xt.decoded || !e->xt.name || strcmp(e->xt.name, "SET") || !e->xt.info)
		return 0;
	switch (e->xt.revision) {
	case 0:
		if (e->xt.info_len < sizeof(u.v0))
			return 0;
		memcpy(&u.v0, e->xt.info, sizeof(u.v0));
		out[n++] = u.v0.add_set.index;
		out[n++] = u.v0.del_set.index;
		break;
	case 1:
	case 2:
		if (e->xt.info_len < sizeof(u.v1))
			return 0;
		memcpy(&u.v1, e->xt.info, sizeof(u.v1));
		out[n++] = u.v1.add_set.index;
		out[n++] = u.v1.del_set.index;
		break;
	case 3:
		if (e->xt.info_len < sizeof(u.v3))
			return 0;
		memcpy(&u.v3, e->xt.info, sizeof(u.v3));
		out[n++] = u.v3.add_set.index;
		out[n++] = u.v3.del_set.index;
		out[n++] = u.v3.map_set.index;
		break;
	}
	return n;
}

/* A SET target's sets (the indices its blob holds), by table */
struct target_sets {
	uint32_t table;
	unsigned n;
	uint16_t index[3];
};

/* Every decoded set match of the ruleset (values shared between rules are
 * listed once per rule: resolving twice is harmless), and in the same pass
 * every SET target's sets. */
static void find_set_matches(const struct cg_ruleset *rs, struct xt_decoded ***out, size_t *n,
			     struct target_sets **targets, size_t *n_targets)
{
	size_t cap = 0, tcap = 0;

	*out = NULL;
	*n = 0;
	*targets = NULL;
	*n_targets = 0;
	for (uint32_t t = 0; t < rs->n_tables; t++) {
		const struct cg_table *tb = &rs->tables[t];
		if (tb->no_xt_set)
			continue;
		for (uint32_t c = 0; c < tb->n_chains; c++) {
			const struct cg_chain *ch = &tb->chains[c];
			for (uint32_t i = 0; i < ch->n_rules; i++) {
				struct cg_expr_buf eb;
				const struct cg_expr *e = rule_exprs(&ch->rules[i], &eb);
				for (uint16_t j = 0; j < ch->rules[i].n_exprs; j++) {
					struct target_sets ts = { .table = t };

					if ((ts.n = set_target_indices(&e[j], ts.index))) {
						grow_array((void **)targets, &tcap, *n_targets + 1, sizeof(**targets));
						(*targets)[(*n_targets)++] = ts;
						continue;
					}
					if (e[j].type != CG_EXPR_XT_MATCH || !e[j].xt.decoded ||
					    e[j].xt.decoded->kind != XT_MATCH_SET)
						continue;
					grow_array((void **)out, &cap, *n + 1, sizeof(**out));
					/* the model's values are const to the
					 * simulator; the collector that made
					 * them completes them here */
					(*out)[(*n)++] = (struct xt_decoded *)e[j].xt.decoded;
				}
				expr_buf_free(&eb);
			}
		}
	}
}

static int name_cmp(const void *a, const void *b)
{
	const struct cg_ipset_name *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

/* the names of the sets each table's SET targets name (their text) */
static void set_target_names(struct ipset_reader *r, struct cg_ruleset *rs, const struct target_sets *ts,
			     size_t n_ts)
{
	for (uint32_t t = 0; t < rs->n_tables; t++) {
		struct cg_table *tb = &rs->tables[t];
		struct cg_ipset_name *names = NULL;
		size_t n = 0, cap = 0;

		for (size_t i = 0; i < n_ts; i++) {
			if (ts[i].table != t)
				continue;
			for (unsigned x = 0; x < ts[i].n; x++) {
				char name[IPSET_MAXNAMELEN];
				bool seen = false;

				if (ts[i].index[x] == IPSET_INVALID_ID)
					continue;
				for (size_t y = 0; y < n && !seen; y++)
					seen = names[y].index == ts[i].index[x];
				if (seen || ipset_name_of(r, ts[i].index[x], name) < 0)
					continue;
				grow_array((void **)&names, &cap, n + 1, sizeof(*names));
				names[n].index = ts[i].index[x];
				names[n++].name = arena_strdup(&rs->arena, name);
			}
		}
		if (!n)
			continue;
		qsort(names, n, sizeof(*names), name_cmp);
		tb->ipset_names = arena_memdup(&rs->arena, names, n * sizeof(*names));
		tb->n_ipset_names = (uint32_t)n;
		free(names);
	}
}

int ipset_collect(struct cg_ruleset *rs)
{
	struct ipset_reader r = { .rs = rs, .protocol = IPSET_PROTOCOL };
	struct xt_decoded **m;
	struct xt_ipset **by_index;
	struct target_sets *ts;
	size_t n, n_ts;

	find_set_matches(rs, &m, &n, &ts, &n_ts);
	if (!n && !n_ts)
		return 0;
	r.nl_err = nlconn_open(&r.nl, NETLINK_NETFILTER, IPSET_BUF);
	if (n_ts && r.nl_err >= 0)
		set_target_names(&r, rs, ts, n_ts);
	free(ts);
	if (!n) {
		if (r.nl_err >= 0)
			nlconn_close(&r.nl);
		return 0;
	}
	by_index = xcalloc(IPSET_INVALID_ID + 1, sizeof(*by_index));
	if (r.nl_err < 0)
		log_warning("cannot read ipsets (netlink: %s): rules that match a set stay unknown",
			    strerror(-r.nl_err));
	for (size_t i = 0; i < n; i++) {
		uint16_t index = m[i]->set.index;
		char name[IPSET_MAXNAMELEN], eb[64];
		int e;

		if (!by_index[index]) {
			if (r.nl_err < 0) {
				by_index[index] = ipset_new(&r, NULL, "ipsets cannot be read (no netlink socket)");
			} else if ((e = ipset_name_of(&r, index, name)) < 0) {
				by_index[index] = ipset_new(&r, NULL, arena_strdup(&rs->arena,
										  ipset_strerror(e, eb, sizeof(eb))));
				log_info("ipset index %u: its name cannot be read (%s): rules matching it stay unknown",
					 index, by_index[index]->unknown);
			} else {
				by_index[index] = ipset_read_name(&r, name, 0);
			}
		}
		m[i]->set.ipset = by_index[index];
	}
	nlconn_close(&r.nl);
	free(by_index);
	free(r.sets);
	free(m);
	return 0;
}
