/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exceptions in nf_tables: iptables-nft tables get the expressions
 * iptables-nft 1.8.9 writes for the same command line (so iptables-nft-save
 * and `iptables-nft -C` see its rule); native tables get what nft writes.
 *
 * Kernel semantics this relies on (nf_tables_newrule()):
 *  * NFT_MSG_NEWRULE with NFTA_RULE_POSITION and without NLM_F_APPEND puts
 *    the rule *before* the rule with that handle (list_add_tail before it):
 *    `nft insert rule ... position H`. With NLM_F_APPEND it goes after H
 *    (`nft add rule ... position H`).
 *  * A batch whose NFNL_MSG_BATCH_BEGIN carries NFNL_BATCH_GENID (the same
 *    attribute number as NFTA_GEN_ID, as iptables-nft sends it) is refused as
 *    a whole, before any message runs, with ERESTART when the ruleset
 *    generation is no longer that one (nfnetlink_rcv_batch(),
 *    nft_valid_genid()). We then re-read the chain and try again. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h> /* before the linux/ headers */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/x_tables.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "cgnatcheck/arena.h"
#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/fix-apply.h"
#include "cgnatcheck/nlsock.h"

#define APPLY_ATTEMPTS 20
#define APPLY_BUFSIZ (1u << 20)

void (*fix_nft_test_hook)(unsigned attempt);

/* A chain's (or the whole ruleset's) rules as they are now. */
struct live_rule {
	uint8_t family;
	char table[256], chain[256];
	uint64_t handle;
	uint32_t n_exprs;
	char *comment;
};

struct live {
	struct live_rule *v;
	size_t n, cap;
	struct arena a;
};

static void live_free(struct live *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].comment);
	free(l->v);
	arena_free(&l->a);
	memset(l, 0, sizeof(*l));
}

static int conn_open(struct nlconn *c)
{
	int r = nlconn_open(c, NETLINK_NETFILTER, APPLY_BUFSIZ);

	if (r < 0)
		return log_error_errno(r, "Failed to open a netfilter netlink socket: %s", strerror(-r));
	c->seq = (uint32_t)time(NULL);
	return 0;
}

/* Discards answers still queued from an earlier exchange (a batch refused as
 * a whole is answered once, and the acks of its other messages may follow),
 * so they are never read as the answer to the next request. */
static void conn_drain(struct nlconn *c)
{
	char junk[8192];

	while (recv(mnl_socket_get_fd(c->nl), junk, sizeof(junk), MSG_DONTWAIT | MSG_TRUNC) > 0)
		;
}

/* Sends one request and runs cb on every reply until the end of the dump or
 * the ACK, never taking an earlier exchange's answer for it. -EINTR when a
 * dump was interrupted by a change. */
static int talk(struct nlconn *c, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	conn_drain(c);
	return nlconn_talk(c, nlh, cb, data);
}

static int get_gen(struct nlconn *c, uint32_t *gen)
{
	return talk(c, nft_gen_request(c), nft_gen_cb, gen);
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct live *l = data;
	struct cg_rule rule = { 0 };
	struct nft_rule_id id;
	struct live_rule *lr;

	if (nft_rule_from_nlmsg(nlh, &l->a, &rule, &id) < 0)
		return MNL_CB_OK; /* not a rule: ignore */
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		void *v = realloc(l->v, cap * sizeof(*l->v));
		if (!v) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		l->v = v;
		l->cap = cap;
	}
	lr = &l->v[l->n++];
	memset(lr, 0, sizeof(*lr));
	lr->family = id.family;
	snprintf(lr->table, sizeof(lr->table), "%s", id.table);
	snprintf(lr->chain, sizeof(lr->chain), "%s", id.chain);
	lr->handle = rule.handle;
	lr->n_exprs = rule.n_exprs;
	lr->comment = rule.comment ? strdup(rule.comment) : NULL;
	return MNL_CB_OK;
}

/* Appends the rules of one chain (table and chain NULL: of every table). */
static int live_dump(struct nlconn *c, uint8_t family, const char *table, const char *chain, struct live *l)
{
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(c->buf, NFT_MSG_GETRULE, family, NLM_F_DUMP, ++c->seq);
	if (table) {
		r = nftnl_rule_alloc();
		if (!r)
			return -ENOMEM;
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
	}
	return talk(c, nlh, rule_cb, l);
}

/* --- building expressions ----------------------------------------------- */

static int add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);
	return 0;
}

static struct nftnl_expr *expr_meta(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return e;
}

static struct nftnl_expr *expr_payload(uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	return e;
}

static struct nftnl_expr *expr_cmp(uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return e;
}

static struct nftnl_expr *expr_bitwise(const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	return e;
}

/* The blob is the extension's struct padded with zeroes to XT_ALIGN(), the
 * size the kernel's compat layer insists on. */
static struct nftnl_expr *expr_match(const char *name, uint32_t rev, const void *info, uint32_t size)
{
	struct nftnl_expr *e = nftnl_expr_alloc("match");
	uint32_t len = XT_ALIGN(size);
	/* libnftnl keeps (and later frees) the info pointer itself */
	void *copy = calloc(1, len);

	if (!e || !copy) {
		free(copy);
		if (e)
			nftnl_expr_free(e);
		return NULL;
	}
	memcpy(copy, info, size);
	nftnl_expr_set_str(e, NFTNL_EXPR_MT_NAME, name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_MT_REV, rev);
	nftnl_expr_set(e, NFTNL_EXPR_MT_INFO, copy, len);
	return e;
}

/* iifname/oifname. iptables-nft compares the name and its NUL; nft the whole
 * IFNAMSIZ buffer. */
static int add_ifname(struct nftnl_rule *r, uint32_t key, const char *name, bool ipt)
{
	char buf[IFNAMSIZ] = { 0 };
	int ret;

	snprintf(buf, sizeof(buf), "%s", name);
	ret = add(r, expr_meta(key));
	if (ret >= 0)
		ret = add(r, expr_cmp(NFT_CMP_EQ, buf, ipt ? (uint32_t)strlen(buf) + 1 : IFNAMSIZ));
	return ret;
}

/* An address match the way both tools write it: whole bytes of the prefix
 * are compared directly; a partial byte needs a bitwise mask over the whole
 * address (iptables-nft) or over the prefix's bytes (nft). */
static int add_addr(struct nftnl_rule *r, const struct cg_prefix *p, uint32_t offset, bool ipt)
{
	uint32_t alen = (uint32_t)addr_family_len(p->addr.family);
	uint8_t data[16], mask[16] = { 0 };
	uint32_t len;
	int ret;

	memcpy(data, &p->addr.v6, alen);
	for (uint32_t i = 0; i < p->len; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (uint32_t i = 0; i < alen; i++)
		data[i] &= mask[i];
	if (p->len % 8 == 0) {
		len = (uint32_t)p->len / 8;
		ret = add(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, offset, len));
	} else {
		len = ipt ? alen : ((uint32_t)p->len + 7) / 8;
		ret = add(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, offset, len));
		if (ret >= 0)
			ret = add(r, expr_bitwise(mask, len));
	}
	if (ret >= 0)
		ret = add(r, expr_cmp(NFT_CMP_EQ, data, len));
	return ret;
}

static int add_ports(struct nftnl_rule *r, const struct remedy *ex, bool ipt)
{
	int ret = 0;

	/* iptables-nft 1.8.9 (add_nft_tcpudp) compares both ports in one load */
	if (ipt && ex->sport && ex->dport) {
		uint32_t both = htonl((uint32_t)ex->dport << 16 | ex->sport);
		ret = add(r, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4));
		return ret < 0 ? ret : add(r, expr_cmp(NFT_CMP_EQ, &both, 4));
	}
	if (ex->sport) {
		uint16_t p = htons(ex->sport);
		ret = add(r, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2));
		if (ret >= 0)
			ret = add(r, expr_cmp(NFT_CMP_EQ, &p, 2));
	}
	if (ret >= 0 && ex->dport) {
		uint16_t p = htons(ex->dport);
		ret = add(r, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2));
		if (ret >= 0)
			ret = add(r, expr_cmp(NFT_CMP_EQ, &p, 2));
	}
	return ret;
}

static int add_verdict(struct nftnl_rule *r, bool accept)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, accept ? (uint32_t)NF_ACCEPT : (uint32_t)NFT_RETURN);
	}
	return add(r, e);
}

static uint32_t saddr_offset(int family, bool src)
{
	if (family == AF_INET6)
		return src ? 8 : 24;
	return src ? 12 : 16;
}

/* The rule comment as nft writes it (user data): `nft list` shows it, and
 * iptables-nft reads it as `-m comment`. */
static int set_udata_comment(struct nftnl_rule *r, const char *comment)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

	if (!u || !nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, comment)) {
		nftnl_udata_buf_free(u);
		return -ENOMEM;
	}
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
	return 0;
}

/* What `iptables-nft -I ... -m conntrack --ctstate ... -m comment --comment
 * ... -j RETURN` writes (remedy_command() prints that command), in
 * iptables-nft 1.8.9's order (nft_ipv4_add/nft_ipv6_add): interfaces, -p,
 * addresses, then the matches in command-line order (udp/tcp natively,
 * conntrack and comment as xt matches), a counter, the verdict. For the
 * tables that are iptables-nft's (nft_table_owner()): the xt matches and
 * the interface names with their NUL keep them so. */
static int build_iptnft(struct nftnl_rule *r, const struct remedy *ex)
{
	struct xt_conntrack_mtinfo3 ct = { 0 };
	struct xt_comment_info cm = { 0 };
	int ret = 0;

	if (ex->iif[0])
		ret = add_ifname(r, NFT_META_IIFNAME, ex->iif, true);
	if (ret >= 0 && ex->oif[0])
		ret = add_ifname(r, NFT_META_OIFNAME, ex->oif, true);
	if (ret >= 0 && ex->l4proto) {
		ret = add(r, expr_meta(NFT_META_L4PROTO));
		if (ret >= 0)
			ret = add(r, expr_cmp(NFT_CMP_EQ, &ex->l4proto, 1));
	}
	if (ret >= 0 && ex->src.addr.family)
		ret = add_addr(r, &ex->src, saddr_offset(ex->src.addr.family, true), true);
	if (ret >= 0 && ex->dst.addr.family)
		ret = add_addr(r, &ex->dst, saddr_offset(ex->dst.addr.family, false), true);
	if (ret >= 0)
		ret = add_ports(r, ex, true);
	if (ret >= 0 && ex->ct_states) {
		ct.match_flags = XT_CONNTRACK_STATE;
		ct.state_mask = fix_xt_ctstate(ex->ct_states);
		ret = add(r, expr_match("conntrack", 3, &ct, sizeof(ct)));
	}
	if (ret >= 0) {
		snprintf((char *)cm.comment, sizeof(cm.comment), "%s", ex->comment);
		ret = add(r, expr_match("comment", 0, &cm, sizeof(cm)));
	}
	if (ret >= 0)
		ret = add(r, nftnl_expr_alloc("counter"));
	if (ret >= 0)
		ret = add_verdict(r, ex->accept);
	return ret;
}

/* What nft writes for `iifname "eth0" ip saddr A udp sport P ct state
 * established,related return comment "..."`. */
static int build_native(struct nftnl_rule *r, const struct remedy *ex, uint8_t table_family)
{
	int family = ex->src.addr.family ? ex->src.addr.family : ex->dst.addr.family;
	int ret = 0;

	if (ex->iif[0])
		ret = add_ifname(r, NFT_META_IIFNAME, ex->iif, false);
	if (ret >= 0 && ex->oif[0])
		ret = add_ifname(r, NFT_META_OIFNAME, ex->oif, false);
	if (ret >= 0 && family && table_family != NFPROTO_IPV4 && table_family != NFPROTO_IPV6) {
		/* inet, bridge, netdev: the network header needs a dependency */
		uint8_t nfproto = family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
		ret = add(r, expr_meta(NFT_META_NFPROTO));
		if (ret >= 0)
			ret = add(r, expr_cmp(NFT_CMP_EQ, &nfproto, 1));
	}
	if (ret >= 0 && ex->src.addr.family)
		ret = add_addr(r, &ex->src, saddr_offset(ex->src.addr.family, true), false);
	if (ret >= 0 && ex->dst.addr.family)
		ret = add_addr(r, &ex->dst, saddr_offset(ex->dst.addr.family, false), false);
	if (ret >= 0 && ex->l4proto) {
		ret = add(r, expr_meta(NFT_META_L4PROTO));
		if (ret >= 0)
			ret = add(r, expr_cmp(NFT_CMP_EQ, &ex->l4proto, 1));
	}
	if (ret >= 0)
		ret = add_ports(r, ex, false);
	if (ret >= 0 && ex->ct_states) {
		uint32_t mask = fix_xt_ctstate(ex->ct_states), zero = 0;
		struct nftnl_expr *e = nftnl_expr_alloc("ct");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
			nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
		}
		ret = add(r, e);
		if (ret >= 0)
			ret = add(r, expr_bitwise(&mask, 4));
		if (ret >= 0)
			ret = add(r, expr_cmp(NFT_CMP_NEQ, &zero, 4));
	}
	if (ret >= 0)
		ret = add_verdict(r, ex->accept);
	if (ret >= 0)
		ret = set_udata_comment(r, ex->comment);
	return ret;
}

/* --- batches -------------------------------------------------------------- */

struct batch {
	struct nftnl_batch *b;
	uint32_t begin_seq;
	uint32_t last_seq;      /* the message whose ACK ends the answer */
};

static int batch_start(struct nlconn *c, struct batch *bt, uint32_t gen)
{
	struct nlmsghdr *nlh;

	bt->b = nftnl_batch_alloc(MNL_SOCKET_BUFFER_SIZE, MNL_SOCKET_BUFFER_SIZE);
	if (!bt->b)
		return -ENOMEM;
	bt->begin_seq = ++c->seq;
	bt->last_seq = 0;
	nlh = nftnl_batch_begin(nftnl_batch_buffer(bt->b), bt->begin_seq);
	/* NFNL_BATCH_GENID: refuse the batch if the ruleset moved on */
	mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(gen));
	nftnl_batch_update(bt->b);
	return 0;
}

/* The next message of the batch. Only the last one asks for an ACK (the
 * caller passes last): the kernel answers every failing message anyway, and
 * thousands of ACKs would overrun the socket's receive buffer. */
static void *batch_next(struct nlconn *c, struct batch *bt, uint16_t type, uint8_t family, uint16_t flags,
			bool last)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(bt->b), type, family,
						     flags | (last ? NLM_F_ACK : 0), ++c->seq);
	if (last)
		bt->last_seq = c->seq;
	return nlh;
}

/* Sends the batch in one sendmsg() (nfnetlink runs a batch only whole) and
 * reads the answers up to the ACK of its last message; the first error
 * wins. -ERESTART: the generation check failed, nothing was changed. Any
 * error: the kernel aborted the whole batch. */
static int batch_send(struct nlconn *c, struct batch *bt)
{
	int err = 0, fd = mnl_socket_get_fd(c->nl);
	size_t n_iov, total = 0;

	nftnl_batch_end(nftnl_batch_buffer(bt->b), ++c->seq);
	nftnl_batch_update(bt->b);
	n_iov = (size_t)nftnl_batch_iovec_len(bt->b);
	struct iovec *iov = calloc(n_iov, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	nftnl_batch_iovec(bt->b, iov, (uint32_t)n_iov);
	for (size_t i = 0; i < n_iov; i++)
		total += iov[i].iov_len;
	/* the whole batch must fit the send buffer (as nft does it) */
	if (total > (size_t)MNL_SOCKET_BUFFER_SIZE) {
		int sz = total > INT_MAX / 2 ? INT_MAX : (int)total * 2;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	struct msghdr msg = { .msg_name = &snl, .msg_namelen = sizeof(snl), .msg_iov = iov,
			      .msg_iovlen = n_iov };
	conn_drain(c);
	ssize_t sent = sendmsg(fd, &msg, 0);
	free(iov);
	if (sent < 0)
		return -errno;
	/* nfnetlink runs the batch inside sendmsg(): every answer is queued
	 * by now. A kernel that answers an out-of-memory batch with a single
	 * message sends no ACK for the last one, so a quiet socket ends the
	 * wait too (after a grace second). */
	for (bool waited = false;;) {
		ssize_t n = recv(fd, c->buf, APPLY_BUFSIZ, MSG_DONTWAIT);
		const struct nlmsghdr *m = (const void *)c->buf;
		int left;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (err || waited)
				return err ? err : -EPROTO;
			waited = true;
			(void)poll(&p, 1, 1000);
			continue;
		}
		if (n < 0)
			return -errno;
		left = (int)n;
		for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
			const struct nlmsgerr *e;

			if (m->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(m);
			if (m->nlmsg_seq == bt->begin_seq)
				return e->error ? e->error : -EPROTO; /* the batch as a whole */
			if (e->error && !err)
				err = e->error;
			if (m->nlmsg_seq == bt->last_seq)
				return err;
		}
	}
}

/* Worth reading the ruleset again and retrying: the generation moved
 * (ERESTART), the dump was interrupted (EINTR), or the kernel answered the
 * batch as a whole without an error (EPROTO, seen under a concurrent
 * writer). A retry is safe: it starts from what is in the kernel now, so a
 * batch that did take effect leaves nothing to do. */
static bool batch_retryable(int r)
{
	return r == -ERESTART || r == -EINTR || r == -EPROTO;
}

static void batch_free(struct batch *bt)
{
	if (bt->b)
		nftnl_batch_free(bt->b);
	bt->b = NULL;
}

static void backoff(unsigned attempt)
{
	long ms = attempt < 6 ? 1L << attempt : 50;

	nanosleep(&(struct timespec){ .tv_nsec = ms * 1000000L }, NULL);
}

/* Runs once() until it is done: a change of the ruleset in between
 * (batch_retryable()) starts it over from what is in the kernel then,
 * APPLY_ATTEMPTS times at most. `what` names the job in the debug line.
 * Returns once()'s last result. */
static int with_retries(struct nlconn *c, int (*once)(struct nlconn *c, void *arg, unsigned attempt), void *arg,
			const char *what)
{
	int r;

	for (unsigned attempt = 1;; attempt++) {
		r = once(c, arg, attempt);
		if (!batch_retryable(r) || attempt == APPLY_ATTEMPTS)
			return r;
		log_debug("nftables ruleset changed while %s (%s); re-reading, attempt %u", what, strerror(-r),
			  attempt + 1);
		backoff(attempt);
	}
}

/* --- apply ---------------------------------------------------------------- */

/* The live rules of one chain, and their positions by handle. */
struct live_chain {
	const struct cg_chain *chain;   /* the audit's */
	struct live l;
	struct by_handle { uint64_t handle; size_t pos; } *idx;
};

static int by_handle_cmp(const void *x, const void *y)
{
	const struct by_handle *a = x, *b = y;

	return a->handle < b->handle ? -1 : a->handle > b->handle;
}

static int chain_ptr_cmp(const void *x, const void *y)
{
	const struct fix_item *const *a = x, *const *b = y;
	const struct cg_chain *ca = (*a)->ex->before->chain, *cb = (*b)->ex->before->chain;

	if (ca != cb)
		return (uintptr_t)ca < (uintptr_t)cb ? -1 : 1;
	return *a < *b ? -1 : *a > *b; /* the plan's order */
}

static const struct live_rule *live_chain_find(const struct live_chain *lc, uint64_t handle, size_t *pos)
{
	struct by_handle key = { .handle = handle }, *f;

	f = bsearch(&key, lc->idx, lc->l.n, sizeof(*lc->idx), by_handle_cmp);
	if (!f)
		return NULL;
	*pos = f->pos;
	return &lc->l.v[f->pos];
}

static int live_chain_read(struct nlconn *c, struct live_chain *lc)
{
	const struct cg_table *t = lc->chain->table;
	int r = live_dump(c, t->family, t->name, lc->chain->name, &lc->l);

	if (r < 0)
		return r;
	lc->idx = malloc((lc->l.n ? lc->l.n : 1) * sizeof(*lc->idx));
	if (!lc->idx)
		return -ENOMEM;
	for (size_t i = 0; i < lc->l.n; i++)
		lc->idx[i] = (struct by_handle){ lc->l.v[i].handle, i };
	qsort(lc->idx, lc->l.n, sizeof(*lc->idx), by_handle_cmp);
	return 0;
}

struct nft_run {
	struct fix_item **v;    /* the nf_tables items, grouped by chain */
	size_t n;
	struct fix_sync *sync;
};

/* Whether an earlier item of the run inserts the same tag before the same
 * rule (v is grouped by chain, so it is among the previous ones). */
static bool queued_before(struct fix_item *const *v, size_t i)
{
	for (size_t k = i; k-- > 0 && v[k]->ex->before->chain == v[i]->ex->before->chain;)
		if (v[k]->result == FIX_PENDING && v[k]->ex->before->handle == v[i]->ex->before->handle &&
		    strcmp(v[k]->ex->comment, v[i]->ex->comment) == 0)
			return true;
	return false;
}

static int newrule(struct nlconn *c, struct batch *bt, const struct remedy *ex, bool last)
{
	const struct cg_chain *ch = ex->before->chain;
	const struct cg_table *t = ch->table;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	int ret;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, t->family);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, t->name);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, ch->name);
	nftnl_rule_set_u64(r, NFTNL_RULE_POSITION, ex->before->handle);
	ret = remedy_table_iptables_compatible(t) ? build_iptnft(r, ex) : build_native(r, ex, t->family);
	if (ret >= 0) {
		/* no NLM_F_APPEND: before the rule at POSITION; several before
		 * the same rule keep the plan's order */
		nlh = batch_next(c, bt, NFT_MSG_NEWRULE, t->family, NLM_F_CREATE, last);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_batch_update(bt->b);
	}
	nftnl_rule_free(r);
	return ret;
}

static int apply_all_once(struct nlconn *c, void *arg, unsigned attempt)
{
	struct nft_run *run = arg;
	struct live_chain *lcs = NULL;
	size_t n_lc = 0, n_new = 0, last = 0;
	struct batch bt = { 0 };
	uint32_t gen;
	int r;

	r = get_gen(c, &gen);
	if (r < 0)
		return r;
	lcs = calloc(run->n ? run->n : 1, sizeof(*lcs));
	if (!lcs)
		return -ENOMEM;
	for (size_t i = 0; i < run->n && r >= 0; i++) {
		struct fix_item *it = run->v[i];
		const struct remedy *ex = it->ex;
		const struct cg_chain *ch = ex->before->chain;
		const struct live_rule *lr;
		size_t pos;

		if (n_lc == 0 || lcs[n_lc - 1].chain != ch) {
			lcs[n_lc].chain = ch;
			r = live_chain_read(c, &lcs[n_lc++]);
			if (r < 0)
				break;
		}
		lr = live_chain_find(&lcs[n_lc - 1], ex->before->handle, &pos);
		if (!lr || lr->n_exprs != ex->before->n_exprs) {
			log_info("The rule to insert \"%s\" before (%s %s %s handle %llu) is %s.", ex->comment,
				 family_to_string(ch->table->family), ch->table->name, ch->name,
				 (unsigned long long)ex->before->handle, lr ? "no longer the same rule" : "gone");
			r = -ESTALE;
			break;
		}
		it->result = FIX_PENDING;
		if ((pos > 0 && lcs[n_lc - 1].l.v[pos - 1].comment &&
		     strcmp(lcs[n_lc - 1].l.v[pos - 1].comment, ex->comment) == 0) ||
		    queued_before(run->v, i)) {
			log_info("The exception \"%s\" is already in place in %s %s %s; nothing changed.",
				 ex->comment, family_to_string(ch->table->family), ch->table->name, ch->name);
			it->result = FIX_UNCHANGED;
			continue;
		}
		n_new++;
		last = i;
	}
	if (r >= 0 && n_new > 0) {
		if (fix_nft_test_hook)
			fix_nft_test_hook(attempt);
		r = batch_start(c, &bt, gen);
		for (size_t i = 0; i < run->n && r >= 0; i++)
			if (run->v[i]->result == FIX_PENDING)
				r = newrule(c, &bt, run->v[i]->ex, i == last);
		if (r >= 0)
			r = batch_send(c, &bt);
		if (r >= 0) {
			for (size_t i = 0; i < run->n; i++)
				if (run->v[i]->result == FIX_PENDING)
					run->v[i]->result = FIX_APPLIED;
			if (run->sync) {
				run->sync->nft_committed = true;
				run->sync->nft_gen_after = gen + 1;
			}
		}
	}
	if (r >= 0 && run->sync && run->sync->have_nft && gen != run->sync->nft_gen)
		run->sync->changed_since_plan = true;
	batch_free(&bt);
	for (size_t i = 0; i < n_lc; i++) {
		live_free(&lcs[i].l);
		free(lcs[i].idx);
	}
	free(lcs);
	return r;
}

int fix_apply_nft_all(struct fix_item *items, size_t n, struct fix_sync *sync)
{
	struct nft_run run = { .sync = sync };
	struct nlconn c;
	int r;

	run.v = malloc((n ? n : 1) * sizeof(*run.v));
	if (!run.v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (items[i].ex->before->chain->table->backend != CG_BACKEND_IPTABLES_LEGACY)
			run.v[run.n++] = &items[i];
	if (run.n == 0) {
		free(run.v);
		return 0;
	}
	qsort(run.v, run.n, sizeof(*run.v), chain_ptr_cmp);
	r = conn_open(&c);
	if (r >= 0) {
		r = with_retries(&c, apply_all_once, &run, "applying the exceptions");
		nlconn_close(&c);
	}
	if (r < 0 && r != -ESTALE)
		log_error_errno(r, "Failed to insert the nftables exceptions (%zu in one batch; none was added): %s%s",
				run.n, strerror(-r),
				r == -EPERM ? " (need CAP_NET_ADMIN: run as root)" :
				r == -ERESTART ? " (the ruleset keeps changing: try again later)" : "");
	free(run.v);
	return r;
}

/* --- remove --------------------------------------------------------------- */

/* The nf_tables chains that held tagged rules when the ruleset was read:
 * only those are read again (one small dump each, which a busy writer
 * elsewhere does not interrupt the way it interrupts a dump of everything). */
struct remove_run {
	const struct cg_chain **chains;
	size_t n;
	unsigned *n_removed;
};

static int remove_once(struct nlconn *c, void *arg, unsigned attempt)
{
	struct remove_run *run = arg;
	struct batch bt = { 0 };
	struct live l = { 0 };
	unsigned n = 0;
	size_t last = 0;
	uint32_t gen;
	int r;

	r = get_gen(c, &gen);
	for (size_t i = 0; r >= 0 && i < run->n; i++) {
		const struct cg_table *t = run->chains[i]->table;
		r = live_dump(c, t->family, t->name, run->chains[i]->name, &l);
		if (r == -ENOENT) /* the chain is gone, and its rules with it */
			r = 0;
	}
	if (r < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++)
		if (fix_is_tag(l.v[i].comment)) {
			n++;
			last = i;
		}
	if (n == 0)
		goto out;
	if (fix_nft_test_hook)
		fix_nft_test_hook(attempt);
	r = batch_start(c, &bt, gen);
	for (size_t i = 0; r >= 0 && i < l.n; i++) {
		struct nftnl_rule *nr;
		struct nlmsghdr *nlh;

		if (!fix_is_tag(l.v[i].comment))
			continue;
		nr = nftnl_rule_alloc();
		if (!nr) {
			r = -ENOMEM;
			break;
		}
		nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, l.v[i].table);
		nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, l.v[i].chain);
		nftnl_rule_set_u64(nr, NFTNL_RULE_HANDLE, l.v[i].handle);
		nlh = batch_next(c, &bt, NFT_MSG_DELRULE, l.v[i].family, 0, i == last);
		nftnl_rule_nlmsg_build_payload(nlh, nr);
		nftnl_batch_update(bt.b);
		nftnl_rule_free(nr);
	}
	if (r >= 0)
		r = batch_send(c, &bt);
	if (r >= 0)
		*run->n_removed += n;
out:
	batch_free(&bt);
	live_free(&l);
	return r;
}

int fix_remove_nft(const struct cg_ruleset *rs, unsigned *n_removed)
{
	struct remove_run run = { .n_removed = n_removed };
	struct nlconn c;
	int r;

	for (uint32_t t = 0; t < rs->n_tables; t++) {
		const struct cg_table *tb = &rs->tables[t];
		if (tb->backend == CG_BACKEND_IPTABLES_LEGACY)
			continue;
		for (uint32_t ch = 0; ch < tb->n_chains; ch++) {
			const struct cg_chain *chain = &tb->chains[ch];
			bool tagged = false;
			for (uint32_t i = 0; i < chain->n_rules && !tagged; i++)
				tagged = fix_is_tag(chain->rules[i].comment);
			if (!tagged)
				continue;
			run.chains = xreallocarray(run.chains, run.n + 1, sizeof(*run.chains));
			run.chains[run.n++] = chain;
		}
	}
	if (run.n == 0)
		return 0;
	r = conn_open(&c);
	if (r >= 0) {
		r = with_retries(&c, remove_once, &run, "removing cgnatcheck's rules");
		nlconn_close(&c);
	}
	free(run.chains);
	if (r < 0)
		log_error_errno(r, "Failed to remove cgnatcheck's nftables rules: %s%s", strerror(-r),
				r == -ERESTART ? " (the ruleset keeps changing: try again later)" : "");
	return r;
}
