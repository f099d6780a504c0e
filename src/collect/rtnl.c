/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rtnetlink socket, dump loop and validating attribute parser. */
#include "config.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/nlsock.h"

/* Big enough that a dump of 100k routes takes few round trips: the kernel
 * sizes each dump skb after the largest read buffer it has seen. */
#define NL_RECV_BUFFER (256 * 1024)
#define NL_SOCKET_RCVBUF (8 * 1024 * 1024)
#define NL_DUMP_ATTEMPTS 10

struct nl_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char *recv;
	char send[16384];
	char ext_msg[256];   /* extended ack message of the last error */
};

const char *nl_msg_type_name(uint16_t type)
{
	static const struct { uint16_t type; const char *name; } names[] = {
		{ RTM_NEWLINK, "RTM_NEWLINK" },   { RTM_NEWADDR, "RTM_NEWADDR" },
		{ RTM_NEWROUTE, "RTM_NEWROUTE" }, { RTM_NEWRULE, "RTM_NEWRULE" },
		{ RTM_NEWNEXTHOP, "RTM_NEWNEXTHOP" }, { RTM_GETROUTE, "RTM_GETROUTE" },
		{ RTM_DELROUTE, "RTM_DELROUTE" }, { RTM_NEWNETCONF, "RTM_NEWNETCONF" },
	};
	static __thread char buf[32];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].type == type)
			return names[i].name;
	snprintf(buf, sizeof(buf), "message type %u", type);
	return buf;
}

struct nl_parse_ctx {
	const struct nl_policy *policy;
	unsigned max;
	const struct nlattr **tb;
	int family;
	int bad_type;
	const char *why;
};

static int addr_len_for(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Returns NULL when the attribute satisfies its policy, else what is wrong. */
static const char *nl_attr_check(const struct nlattr *a, const struct nl_policy *p, int family)
{
	uint16_t len = mnl_attr_get_payload_len(a);

	switch (p->kind) {
	case NL_A_U8:
		return mnl_attr_validate(a, MNL_TYPE_U8) < 0 ? "is shorter than 1 byte" : NULL;
	case NL_A_U16:
		return mnl_attr_validate(a, MNL_TYPE_U16) < 0 ? "is shorter than 2 bytes" : NULL;
	case NL_A_U32:
		return mnl_attr_validate(a, MNL_TYPE_U32) < 0 ? "is shorter than 4 bytes" : NULL;
	case NL_A_U64:
		return mnl_attr_validate(a, MNL_TYPE_U64) < 0 ? "is shorter than 8 bytes" : NULL;
	case NL_A_STRING:
		return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ? "is not a NUL-terminated string" :
		       NULL;
	case NL_A_NESTED:
		return mnl_attr_validate(a, MNL_TYPE_NESTED) < 0 ? "is not a valid nest" : NULL;
	case NL_A_ADDR: {
		int want = addr_len_for(family);
		if (want ? len != want : (len != 4 && len != 16))
			return "has an address length that does not match the family";
		return NULL;
	}
	case NL_A_BINARY:
		return len < p->len ? "is too short" : NULL;
	default:
		return NULL;
	}
}

static int nl_attr_cb(const struct nlattr *a, void *data)
{
	struct nl_parse_ctx *ctx = data;
	uint16_t type = mnl_attr_get_type(a);

	/* Attributes newer than this program, or ones it does not use, are
	 * not errors: the kernel keeps adding them. */
	if (mnl_attr_type_valid(a, ctx->max) < 0 || ctx->policy[type].kind == NL_A_NONE)
		return MNL_CB_OK;
	ctx->why = nl_attr_check(a, &ctx->policy[type], ctx->family);
	if (ctx->why) {
		ctx->bad_type = type;
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	ctx->tb[type] = a;
	return MNL_CB_OK;
}

/* mnl_attr_parse() stops quietly at a badly framed attribute; the rest of
 * the message would be lost without a word, so check the framing first. */
static bool attrs_well_framed(const void *start, size_t len)
{
	const char *p = start;

	while (len >= sizeof(struct nlattr)) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t step;

		if (a->nla_len < sizeof(struct nlattr) || a->nla_len > len)
			return false;
		step = MNL_ALIGN(a->nla_len);
		if (step >= len)
			return true;
		len -= step;
		p += step;
	}
	return len == 0;
}

static int malformed(uint16_t msg_type, const struct nl_parse_ctx *ctx, const char *what)
{
	if (ctx && ctx->bad_type >= 0) {
		const char *name = ctx->policy[ctx->bad_type].name;
		log_error("malformed %s message from the kernel: attribute %s (%d) %s",
			  nl_msg_type_name(msg_type), name ? name : "?", ctx->bad_type, ctx->why);
	} else {
		log_error("malformed %s message from the kernel: %s", nl_msg_type_name(msg_type), what);
	}
	return -EBADMSG;
}

int nl_parse(const struct nlmsghdr *nlh, size_t hdrlen, int family, const struct nl_policy *policy,
	     unsigned max, const struct nlattr **tb)
{
	struct nl_parse_ctx ctx = { policy, max, tb, family, -1, NULL };
	size_t payload = mnl_nlmsg_get_payload_len(nlh);

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (nlh->nlmsg_len < sizeof(*nlh) || payload < hdrlen)
		return malformed(nlh->nlmsg_type, NULL, "shorter than its header");
	if (payload > MNL_ALIGN(hdrlen) &&
	    !attrs_well_framed(mnl_nlmsg_get_payload_offset(nlh, hdrlen), payload - MNL_ALIGN(hdrlen)))
		return malformed(nlh->nlmsg_type, NULL, "an attribute overruns the message");
	if (mnl_attr_parse(nlh, hdrlen, nl_attr_cb, &ctx) < 0)
		return malformed(nlh->nlmsg_type, &ctx, NULL);
	return 0;
}

int nl_parse_nested(const struct nlattr *nest, uint16_t msg_type, int family,
		    const struct nl_policy *policy, unsigned max, const struct nlattr **tb)
{
	struct nl_parse_ctx ctx = { policy, max, tb, family, -1, NULL };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (!attrs_well_framed(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest)))
		return malformed(msg_type, NULL, "a nested attribute overruns its nest");
	if (mnl_attr_parse_nested(nest, nl_attr_cb, &ctx) < 0)
		return malformed(msg_type, &ctx, NULL);
	return 0;
}

int nl_parse_payload(const void *buf, size_t len, uint16_t msg_type, int family,
		     const struct nl_policy *policy, unsigned max, const struct nlattr **tb)
{
	struct nl_parse_ctx ctx = { policy, max, tb, family, -1, NULL };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (len == 0)
		return 0;
	if (!attrs_well_framed(buf, len))
		return malformed(msg_type, NULL, "an attribute overruns its container");
	if (mnl_attr_parse_payload(buf, len, nl_attr_cb, &ctx) < 0)
		return malformed(msg_type, &ctx, NULL);
	return 0;
}

void nl_attr_get_addr(const struct nlattr *a, int family, struct cg_addr *out)
{
	uint16_t len = mnl_attr_get_payload_len(a);

	*out = (struct cg_addr){ 0 };
	if (family != AF_INET && family != AF_INET6)
		family = len == 4 ? AF_INET : AF_INET6;
	out->family = family;
	memcpy(out->bytes, mnl_attr_get_payload(a), addr_len_for(family));
}

int nl_open(struct nl_sock **ret)
{
	_cleanup_free_ struct nl_sock *s = xcalloc(1, sizeof(*s));
	int one = 1, size = NL_SOCKET_RCVBUF, r;
	const char *failed = NULL;

	r = nlsock_open(NETLINK_ROUTE, 0, &s->nl, &s->portid, &failed);
	if (r < 0)
		return log_error_errno(r, strcmp(failed, "bind") == 0 ? "Failed to bind the NETLINK_ROUTE socket" :
				       "Failed to open a NETLINK_ROUTE socket");
	/* Best effort: FORCE needs CAP_NET_ADMIN, the plain option is capped. */
	if (setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	(void)mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(s->nl, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	s->seq = (uint32_t)time(NULL);
	s->recv = xmalloc(NL_RECV_BUFFER);
	*ret = s;
	s = NULL;
	return 0;
}

void nl_close(struct nl_sock *s)
{
	if (!s)
		return;
	mnl_socket_close(s->nl);
	free(s->recv);
	free(s);
}

struct nlmsghdr *nl_msg_start(struct nl_sock *s, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(s->send, 0, sizeof(s->send));
	nlh = mnl_nlmsg_put_header(s->send);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

static int nl_send(struct nl_sock *s, struct nlmsghdr *req)
{
	s->ext_msg[0] = '\0';
	req->nlmsg_seq = ++s->seq;
	if (mnl_socket_sendto(s->nl, req, req->nlmsg_len) < 0)
		return -errno;
	return 0;
}

enum { NL_MORE, NL_DONE };

/* Keeps the kernel's explanation of an error (NLMSGERR_ATTR_MSG). */
static void nl_save_ext_ack(struct nl_sock *s, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e), len = mnl_nlmsg_get_payload_len(nlh);

	s->ext_msg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	off = MNL_ALIGN(off);
	if (off >= len || !attrs_well_framed((const char *)e + off, len - off))
		return;
	const void *tlvs = (const char *)e + off;
	const struct nlattr *attr;
	mnl_attr_for_each_payload(tlvs, len - off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(s->ext_msg, sizeof(s->ext_msg), "%s", mnl_attr_get_str(attr));
	}
}

const char *nl_ext_msg(const struct nl_sock *s)
{
	return s->ext_msg;
}

/* Runs the messages of one datagram. Returns NL_MORE, NL_DONE or a negative
 * errno; *intr is set when a message carries NLM_F_DUMP_INTR. */
static int nl_run(struct nl_sock *s, const char *buf, size_t len, nl_msg_cb cb, void *data,
		  bool *intr)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int n = (int)len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_seq != s->seq || nlh->nlmsg_pid != s->portid)
			continue; /* a stale answer to an earlier, abandoned request */
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			*intr = true;
		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			continue;
		case NLMSG_DONE:
			if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
				int err = *(const int *)mnl_nlmsg_get_payload(nlh);
				if (err < 0)
					return err;
			}
			return NL_DONE;
		case NLMSG_ERROR: {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
				return -EBADMSG;
			if (e->error < 0)
				nl_save_ext_ack(s, nlh);
			return e->error < 0 ? e->error : NL_DONE;
		}
		default:
			if (*intr)
				continue; /* the dump is going to be repeated anyway */
			if (cb) {
				int r = cb(nlh, data);
				if (r < 0)
					return r;
			}
			if (!(nlh->nlmsg_flags & NLM_F_MULTI))
				return NL_DONE;
		}
	}
	if (n > 0)
		return -EBADMSG;
	return NL_MORE;
}

static int nl_receive(struct nl_sock *s, nl_msg_cb cb, void *data, bool *intr)
{
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(s->nl, s->recv, NL_RECV_BUFFER);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		int r = nl_run(s, s->recv, (size_t)len, cb, data, intr);
		if (r != NL_MORE)
			return r < 0 ? r : 0;
	}
}

int nl_dump(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void (*reset)(void *data),
	    void *data)
{
	for (int attempt = 0; attempt < NL_DUMP_ATTEMPTS; attempt++) {
		bool intr = false;
		int r = nl_send(s, req);
		if (r < 0)
			return r;
		r = nl_receive(s, cb, data, &intr);
		if (r < 0)
			return r;
		if (!intr)
			return 0;
		log_debug("%s dump was interrupted by a change, retrying", nl_msg_type_name(req->nlmsg_type));
		if (reset)
			reset(data);
	}
	return -EBUSY;
}

int nl_call(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void *data)
{
	bool intr = false;
	int r = nl_send(s, req);

	if (r < 0)
		return r;
	return nl_receive(s, cb, data, &intr);
}
