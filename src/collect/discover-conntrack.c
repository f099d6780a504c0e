/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the host talks to now: the connection tracking table, dumped over
 * ctnetlink (NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET, once for IPv4 and
 * once for IPv6) and read as it streams in: a busy node holds a million
 * entries, so none is kept. Only TCP and UDP entries whose peer is inside
 * the scope count, each (peer, protocol, port, direction) once (a hash
 * set):
 *
 *   the host opened it    the original direction's source is one of the
 *                         host's addresses: the peer is the original
 *                         destination, the port its destination port
 *                         (an outbound target, role "peer")
 *   the peer opened it    the original source is the peer and the host
 *                         is the original destination (or, after DNAT,
 *                         the reply's source): the port is the original
 *                         destination port, as the packet arrives (the
 *                         simulation applies the DNAT itself)
 *
 * Forwarded flows (neither end is the host) are not the host's own.
 *
 * conntrack does not name a device. Which one a peer's packets take is
 * the route to it: asked of the kernel (RTM_GETROUTE) once per distinct
 * peer after the dump; a peer routed through an overlay's device is the
 * overlay's business and left out. The audit's routing state is not
 * reachable from collect/ (and not collected yet when the sources run on
 * a replay's behalf), and the peers are few after deduplication (at most
 * CT_MAX_FOUND), so one question each costs less than dumping every table.
 * The device found is the discovered target's ifname, so the audit's own
 * overlay filter sees it too. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/hindex.h"
#include "cgnatcheck/hostfacts.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/nlsock.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"

/* The receive buffer: the kernel fills a dump message up to what the
 * reader takes, so a big one keeps a million entries to few round trips. */
#define CT_RECV_BUFFER (256 * 1024)
/* Distinct (peer, protocol, port, direction) kept: more is a note, and
 * each kept one is a target the audit simulates. */
#define CT_MAX_FOUND 1024
/* An interrupted dump (NLM_F_DUMP_INTR) is asked again this often. */
#define CT_DUMP_ATTEMPTS 3

struct ct_found {
	struct cg_addr peer;
	uint8_t proto;            /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t port;
	bool inbound;
	uint16_t local_port;      /* the host's own port when it is a well-known one */
};

struct ct_ctx {
	const struct discover_scope *scope;
	/* the host's addresses, indexed */
	const struct route_state *st;
	struct hindex locals;
	/* what was found, indexed by (peer, proto, port, direction) */
	struct ct_found *v;
	size_t n, cap;
	struct hindex index;
	size_t entries, malformed, left_out;
};

static uint32_t addr_hash(const struct cg_addr *a)
{
	uint64_t h = hash_fnv1a_u64(HASH_FNV1A_INIT, (uint64_t)(unsigned)a->family);

	return (uint32_t)hash_mix64(hash_fnv1a(h, a->bytes, (size_t)addr_family_len(a->family)));
}

struct local_probe {
	const struct ct_ctx *c;
	const struct cg_addr *a;
};

static bool local_eq(const void *ctx, size_t item)
{
	const struct local_probe *q = ctx;

	return addr_equal(&q->c->st->addrs[item].local, q->a);
}

static bool is_local(const struct ct_ctx *c, const struct cg_addr *a)
{
	struct local_probe q = { c, a };

	return hindex_find(&c->locals, addr_hash(a), local_eq, &q) != HINDEX_NONE;
}

static uint32_t found_hash(const struct ct_found *f)
{
	uint64_t h = addr_hash(&f->peer);

	return (uint32_t)hash_mix64(hash_fnv1a_u64(h, (uint64_t)f->proto << 32 | (uint64_t)f->port << 8 | f->inbound));
}

struct found_probe {
	const struct ct_ctx *c;
	const struct ct_found *f;
};

static bool found_eq(const void *ctx, size_t item)
{
	const struct found_probe *q = ctx;
	const struct ct_found *x = &q->c->v[item];

	return addr_equal(&x->peer, &q->f->peer) && x->proto == q->f->proto && x->port == q->f->port &&
	       x->inbound == q->f->inbound;
}

static void found_add(struct ct_ctx *c, const struct ct_found *f)
{
	uint32_t h = found_hash(f);
	struct found_probe q = { c, f };

	if (hindex_find(&c->index, h, found_eq, &q) != HINDEX_NONE)
		return;
	if (c->n >= CT_MAX_FOUND) {
		c->left_out++;
		return;
	}
	grow_array((void **)&c->v, &c->cap, c->n + 1, sizeof(*c->v));
	c->v[c->n] = *f;
	hindex_add(&c->index, h, c->n);
	c->n++;
}

/* ---- one entry ------------------------------------------------------------ */

struct ct_tuple {
	struct cg_addr src, dst;
	uint8_t proto;
	uint16_t sport, dport;    /* host order */
	bool have_ports;
};

struct attr_table {
	const struct nlattr **tb;
	unsigned max;
	bool bad;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attr_table *t = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

static bool parse_nested(const struct nlattr *nest, const struct nlattr **tb, unsigned max)
{
	struct attr_table t = { tb, max, false };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return false;
	return mnl_attr_parse_nested(nest, attr_cb, &t) >= 0;
}

static bool get_addr(const struct nlattr *a, int family, struct cg_addr *out)
{
	size_t len = (size_t)addr_family_len(family);

	if (!a || mnl_attr_get_payload_len(a) != len)
		return false;
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(out->bytes, mnl_attr_get_payload(a), len);
	return true;
}

static bool get_port(const struct nlattr *a, uint16_t *out)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U16) < 0)
		return false;
	*out = ntohs(mnl_attr_get_u16(a));
	return true;
}

/* A CTA_TUPLE_ORIG or CTA_TUPLE_REPLY nest. false: malformed (or a family
 * the message does not say). */
static bool parse_tuple(const struct nlattr *nest, int family, struct ct_tuple *t)
{
	const struct nlattr *tb[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1], *pr[CTA_PROTO_MAX + 1];

	memset(t, 0, sizeof(*t));
	if (!nest || !parse_nested(nest, tb, CTA_TUPLE_MAX) || !tb[CTA_TUPLE_IP] || !tb[CTA_TUPLE_PROTO])
		return false;
	if (!parse_nested(tb[CTA_TUPLE_IP], ip, CTA_IP_MAX) || !parse_nested(tb[CTA_TUPLE_PROTO], pr, CTA_PROTO_MAX))
		return false;
	if (family == AF_INET) {
		if (!get_addr(ip[CTA_IP_V4_SRC], AF_INET, &t->src) || !get_addr(ip[CTA_IP_V4_DST], AF_INET, &t->dst))
			return false;
	} else if (family == AF_INET6) {
		if (!get_addr(ip[CTA_IP_V6_SRC], AF_INET6, &t->src) || !get_addr(ip[CTA_IP_V6_DST], AF_INET6, &t->dst))
			return false;
	} else {
		return false;
	}
	if (!pr[CTA_PROTO_NUM] || mnl_attr_validate(pr[CTA_PROTO_NUM], MNL_TYPE_U8) < 0)
		return false;
	t->proto = mnl_attr_get_u8(pr[CTA_PROTO_NUM]);
	if (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP)
		return true; /* well formed, not ours: no ports to read */
	t->have_ports = get_port(pr[CTA_PROTO_SRC_PORT], &t->sport) && get_port(pr[CTA_PROTO_DST_PORT], &t->dport);
	return t->have_ports;
}

/* The host's own port, when it is one the host chose (below 1024: a
 * service's, as NTP's 123 or DHCP's 68) rather than an ephemeral one. */
static uint16_t own_port(uint16_t port)
{
	return port < 1024 ? port : 0;
}

static void entry(struct ct_ctx *c, const struct ct_tuple *o, const struct ct_tuple *r)
{
	struct ct_found f = { .proto = o->proto };
	bool src_local = is_local(c, &o->src);

	if (src_local) {
		/* the host opened it; a connection between two of its own
		 * addresses has no peer */
		if (!discover_in_scope(c->scope, &o->dst) || is_local(c, &o->dst))
			return;
		f.peer = o->dst;
		f.port = o->dport;
		f.local_port = own_port(o->sport);
	} else {
		if (!discover_in_scope(c->scope, &o->src))
			return;
		if (!is_local(c, &o->dst) && !(r && is_local(c, &r->src)))
			return; /* forwarded: not the host's own */
		f.peer = o->src;
		f.port = o->dport;
		f.inbound = true;
	}
	found_add(c, &f);
}

static int ct_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ct_ctx *c = data;
	const struct nfgenmsg *nfg;
	const struct nlattr *tb[CTA_MAX + 1];
	struct attr_table t = { tb, CTA_MAX, false };
	struct ct_tuple o, r;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW))
		return MNL_CB_OK;
	c->entries++;
	memset(tb, 0, sizeof(tb));
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg) ||
	    mnl_attr_parse(nlh, sizeof(*nfg), attr_cb, &t) < 0) {
		c->malformed++;
		return MNL_CB_OK;
	}
	nfg = mnl_nlmsg_get_payload(nlh);
	if (!parse_tuple(tb[CTA_TUPLE_ORIG], nfg->nfgen_family, &o)) {
		c->malformed++;
		return MNL_CB_OK;
	}
	if (!o.have_ports)
		return MNL_CB_OK;
	/* the reply tuple only says where a DNAT sent it */
	entry(c, &o, parse_tuple(tb[CTA_TUPLE_REPLY], nfg->nfgen_family, &r) ? &r : NULL);
	return MNL_CB_OK;
}

/* One dump of one family. 0, or the kernel's negative errno. */
/* A ctnetlink request of msg (IPCTNL_MSG_CT_*) for family in conn's buffer. */
static struct nlmsghdr *ct_request(struct nlconn *conn, uint16_t msg, uint16_t flags, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(conn->buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++conn->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

static int ct_dump(struct ct_ctx *c, int family)
{
	int r = -EINTR;

	for (int attempt = 0; attempt < CT_DUMP_ATTEMPTS && r == -EINTR; attempt++) {
		/* a fresh socket: an interrupted dump's rest must not be read
		 * as the next one's (what was found stays: the set dedupes) */
		struct nlconn conn;

		r = nlconn_open(&conn, NETLINK_NETFILTER, CT_RECV_BUFFER);
		if (r < 0)
			return r;
		r = nlconn_talk(&conn, ct_request(&conn, IPCTNL_MSG_CT_GET, NLM_F_DUMP, (uint8_t)family), ct_cb, c);
		nlconn_close(&conn);
	}
	return r;
}

static int ct_count_cb(const struct nlmsghdr *nlh, void *data)
{
	uint64_t *n = data;
	const struct nlattr *a;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == CTA_STATS_GLOBAL_ENTRIES && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			*n = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

/* How many connections this namespace's table tracks (both families),
 * asked in one message (IPCTNL_MSG_CT_GET_STATS): a dump walks every
 * bucket of the kernel's table, which all namespaces share (262,144 on a
 * small machine: some 10 ms per family), however few are this
 * namespace's. Returns 0 and *n (UINT64_MAX: the answer did not say), or
 * -errno; the dumps then say what is wrong. */
static int ct_count(uint64_t *n)
{
	struct nlconn conn;
	int r;

	*n = UINT64_MAX;
	r = nlconn_open(&conn, NETLINK_NETFILTER, MNL_SOCKET_BUFFER_SIZE);
	if (r < 0)
		return r;
	/* the ACK ends the answer */
	r = nlconn_talk(&conn, ct_request(&conn, IPCTNL_MSG_CT_GET_STATS, NLM_F_ACK, AF_UNSPEC), ct_count_cb, n);
	nlconn_close(&conn);
	return r;
}

/* ---- the route to each peer ------------------------------------------------ */

struct route_answer {
	int oif;
	bool got;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_answer *ans = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	ans->got = true;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
		if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			ans->oif = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

/* The device of the route to peer, in ifname ("" when there is none: the
 * audit finds the target unroutable and says why). */
static void route_dev(struct nl_sock *s, const struct cg_addr *peer, char ifname[IFNAMSIZ])
{
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_answer ans = { 0 };

	ifname[0] = '\0';
	rtm->rtm_family = (uint8_t)peer->family;
	rtm->rtm_dst_len = (uint8_t)addr_family_bits(peer->family);
	mnl_attr_put(nlh, RTA_DST, (size_t)addr_family_len(peer->family), peer->bytes);
	if (nl_call(s, nlh, route_cb, &ans) < 0 || !ans.got || ans.oif <= 0)
		return;
	if (!if_indextoname((unsigned)ans.oif, ifname))
		ifname[0] = '\0';
}

static bool overlay_dev(const struct discover_scope *s, const char *ifname)
{
	for (size_t i = 0; ifname[0] && i < s->n_overlay_ifnames; i++)
		if (strcmp(s->overlay_ifnames[i], ifname) == 0)
			return true;
	return false;
}

/* A peer's device, asked once per address however many ports it has. */
struct peer_dev {
	struct cg_addr addr;
	char ifname[IFNAMSIZ];
};

struct peer_probe {
	const struct peer_dev *v;
	const struct cg_addr *a;
};

static bool peer_eq(const void *ctx, size_t item)
{
	const struct peer_probe *q = ctx;

	return addr_equal(&q->v[item].addr, q->a);
}

/* ---- the source --------------------------------------------------------------- */

static bool same_service(const struct discovered *a, const struct discovered *b)
{
	return addr_equal(&a->addr, &b->addr) && a->protos == b->protos && a->port == b->port &&
	       a->inbound == b->inbound && a->local_port == b->local_port;
}

/* Appends what was found (the set has deduplicated it; only the other
 * sources' entries, a handful, are compared), skipping the overlay's. */
static void ct_emit(struct ct_ctx *c, struct nl_sock *s, struct discovered_list *l)
{
	struct peer_dev *peers = NULL;
	size_t n_peers = 0, cap_peers = 0, n_before = l->n, overlay = 0;
	struct hindex peer_index = { 0 };

	for (size_t i = 0; i < c->n; i++) {
		const struct ct_found *f = &c->v[i];
		struct peer_probe q = { peers, &f->peer };
		uint32_t h = addr_hash(&f->peer);
		size_t k = hindex_find(&peer_index, h, peer_eq, &q);

		if (k == HINDEX_NONE) {
			grow_array((void **)&peers, &cap_peers, n_peers + 1, sizeof(*peers));
			peers[n_peers].addr = f->peer;
			route_dev(s, &f->peer, peers[n_peers].ifname);
			hindex_add(&peer_index, h, n_peers);
			k = n_peers++;
		}
		if (overlay_dev(c->scope, peers[k].ifname)) {
			overlay++;
			continue;
		}
		struct discovered d = {
			.addr = f->peer,
			.protos = f->proto == IPPROTO_TCP ? CG_PROTO_TCP : CG_PROTO_UDP,
			.port = f->port,
			.local_port = f->local_port,
			.inbound = f->inbound,
			.role = "peer",
		};
		snprintf(d.origin, sizeof(d.origin), "conntrack");
		memcpy(d.ifname, peers[k].ifname, sizeof(d.ifname));
		bool dup = false;
		for (size_t j = 0; j < n_before && !dup; j++)
			dup = same_service(&l->v[j], &d);
		if (dup)
			continue;
		grow_array((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = d;
	}
	if (overlay)
		log_debug("conntrack: %zu peer%s in range reached through an overlay's device, left to the overlay",
			  overlay, overlay == 1 ? "" : "s");
	hindex_free(&peer_index);
	free(peers);
}

/* Whether this namespace tracks connections at all: nf_conntrack's sysctls
 * are there once the module is (per namespace). Asking ctnetlink without it
 * would load modules. */
static bool conntrack_loaded(void)
{
	return access("/proc/sys/net/netfilter/nf_conntrack_count", F_OK) == 0;
}

int discover_conntrack(const struct discover_scope *s, struct discovered_list *l)
{
	struct route_state st;
	struct ct_ctx c = { .scope = s, .st = &st };
	struct nl_sock *rt = NULL;
	int r;

	if (!s->n_ranges)
		return 0;
	if (!conntrack_loaded()) {
		discovered_note(l, "conntrack: this kernel tracks no connections (the nf_conntrack module is not "
				"loaded), so what the host talks to now was not looked at");
		return 0;
	}
	route_state_init(&st);
	r = nl_open(&rt);
	if (r >= 0)
		r = rtnl_dump_addrs(rt, &st);
	if (r < 0) {
		discovered_note(l, "conntrack: cannot read the host's addresses (%s), so the connections it "
				"opened cannot be told from the others; the connection table was not looked at",
				strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < st.n_addrs; i++) {
		struct local_probe q = { &c, &st.addrs[i].local };
		uint32_t h = addr_hash(&st.addrs[i].local);
		if (hindex_find(&c.locals, h, local_eq, &q) == HINDEX_NONE)
			hindex_add(&c.locals, h, i);
	}

	/* none tracked: the dumps would find none (and the walks are what
	 * they cost); anything else, or no answer, and they run */
	uint64_t tracked;
	if (ct_count(&tracked) == 0 && tracked == 0)
		goto emit;
	static const int families[] = { AF_INET, AF_INET6 };
	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		r = ct_dump(&c, families[i]);
		if (r == -EPERM || r == -EACCES) {
			discovered_note(l, "conntrack: reading the connection table needs CAP_NET_ADMIN (%s); what "
					"the host talks to now was not looked at", strerror(-r));
			goto out;
		}
		if (r == -EOPNOTSUPP || r == -EPROTONOSUPPORT || r == -ENOENT) {
			discovered_note(l, "conntrack: the kernel cannot dump its connection table (%s: "
					"nf_conntrack_netlink is not available); what the host talks to now was "
					"not looked at", strerror(-r));
			goto out;
		}
		if (r < 0) {
			discovered_note(l, "conntrack: the %s connection table could not be read (%s); what the "
					"host talks to now over %s was not looked at",
					families[i] == AF_INET ? "IPv4" : "IPv6", strerror(-r),
					families[i] == AF_INET ? "IPv4" : "IPv6");
			continue;
		}
	}
	if (c.malformed)
		discovered_note(l, "conntrack: %zu of %zu connection table entries could not be parsed and were "
				"skipped", c.malformed, c.entries);
	if (c.left_out)
		discovered_note(l, "conntrack: more than %d distinct peers, ports and directions in range; %zu "
				"further connections were not checked (name them with --service)",
				CT_MAX_FOUND, c.left_out);
emit:
	ct_emit(&c, rt, l);
out:
	if (rt)
		nl_close(rt);
	hindex_free(&c.locals);
	hindex_free(&c.index);
	free(c.v);
	route_state_free(&st);
	return 0;
}
