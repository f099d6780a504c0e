/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's listening sockets, from sock_diag (NETLINK_SOCK_DIAG,
 * inet_diag_req_v2): TCP sockets in LISTEN and UDP sockets that are bound
 * and not connected (the state the kernel calls TCP_CLOSE for UDP), IPv4
 * and IPv6: four dumps, each read as it comes. What a socket is bound to:
 * its address (a wildcard is the family's any address), its port, the
 * device of SO_BINDTODEVICE (idiag_if), IPV6_V6ONLY (INET_DIAG_SKV6ONLY,
 * which the kernel adds for every IPv6 socket in these states), its inode
 * and owner, and the cgroup it was made in (INET_DIAG_CGROUP_ID, since
 * Linux 5.9). Only this network namespace's sockets are seen. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hostfacts.h"
#include "cgnatcheck/nlsock.h"

#define DIAG_RECV_BUFFER (64 * 1024)

struct listen_ctx {
	struct listener_list *l;
	uint8_t proto;
	size_t malformed;
};

struct diag_attrs {
	int v6only;
	uint64_t cgroup_id;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct diag_attrs *d = data;

	if (mnl_attr_get_type(a) == INET_DIAG_SKV6ONLY && mnl_attr_validate(a, MNL_TYPE_U8) == 0)
		d->v6only = mnl_attr_get_u8(a) != 0;
	else if (mnl_attr_get_type(a) == INET_DIAG_CGROUP_ID && mnl_attr_validate(a, MNL_TYPE_U64) == 0)
		d->cgroup_id = mnl_attr_get_u64(a);
	return MNL_CB_OK;
}

static bool v4_mapped(const uint8_t *b)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(b, prefix, sizeof(prefix)) == 0;
}

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	struct listen_ctx *c = data;
	const struct inet_diag_msg *m;
	struct listener ls = { .l4proto = c->proto };
	struct diag_attrs at = { .v6only = -1 };

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m)) {
		c->malformed++;
		return MNL_CB_OK;
	}
	m = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*m), attr_cb, &at) < 0) {
		c->malformed++;
		return MNL_CB_OK;
	}
	if (m->idiag_family == AF_INET) {
		ls.addr.family = AF_INET;
		memcpy(ls.addr.bytes, m->id.idiag_src, 4);
	} else if (m->idiag_family == AF_INET6) {
		const uint8_t *b = (const uint8_t *)m->id.idiag_src;
		/* ::ffff:a.b.c.d takes IPv4 to a.b.c.d */
		if (v4_mapped(b)) {
			ls.addr.family = AF_INET;
			memcpy(ls.addr.bytes, b + 12, 4);
		} else {
			ls.addr.family = AF_INET6;
			memcpy(ls.addr.bytes, b, 16);
			/* the kernel always says; unsaid, assume the narrower */
			ls.v6only = at.v6only != 0;
		}
	} else {
		return MNL_CB_OK;
	}
	ls.port = ntohs(m->id.idiag_sport);
	ls.ifindex = (int)m->id.idiag_if;
	ls.inode = m->idiag_inode;
	ls.uid = m->idiag_uid;
	ls.cgroup_id = at.cgroup_id;
	if (!ls.port)
		return MNL_CB_OK; /* not bound to a port: nothing reaches it */
	grow_array((void **)&c->l->v, &c->l->cap, c->l->n + 1, sizeof(*c->l->v));
	c->l->v[c->l->n++] = ls;
	return MNL_CB_OK;
}

static int diag_dump(struct listener_list *l, int family, uint8_t proto, size_t *malformed)
{
	struct listen_ctx c = { .l = l, .proto = proto };
	struct nlconn conn;
	struct nlmsghdr *nlh;
	struct inet_diag_req_v2 *req;
	int r;

	r = nlconn_open(&conn, NETLINK_SOCK_DIAG, DIAG_RECV_BUFFER);
	if (r < 0)
		return r;
	nlh = mnl_nlmsg_put_header(conn.buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++conn.seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = proto;
	/* UDP has no LISTEN: a bound, unconnected socket is in CLOSE */
	req->idiag_states = proto == IPPROTO_TCP ? 1u << TCP_LISTEN : 1u << TCP_CLOSE;
	r = nlconn_talk(&conn, nlh, diag_cb, &c);
	nlconn_close(&conn);
	*malformed += c.malformed;
	return r;
}

int discover_listeners(struct listener_list *l)
{
	static const int families[] = { AF_INET, AF_INET6 };
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	size_t malformed = 0;
	int r, first = 0;

	l->why[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
		for (size_t j = 0; j < ARRAY_SIZE(families); j++) {
			r = diag_dump(l, families[j], protos[i], &malformed);
			/* no IPv6 in this kernel: no IPv6 sockets either */
			if (r == -EAFNOSUPPORT || (r == -ENOENT && families[j] == AF_INET6))
				continue;
			if (r < 0 && !first) {
				first = r;
				snprintf(l->why, sizeof(l->why), "the %s %s sockets cannot be listed (sock_diag: %s)",
					 families[j] == AF_INET ? "IPv4" : "IPv6",
					 protos[i] == IPPROTO_TCP ? "TCP" : "UDP", strerror(-r));
			}
		}
	if (!first && malformed) {
		snprintf(l->why, sizeof(l->why), "%zu socket descriptions from sock_diag could not be parsed",
			 malformed);
		first = -EBADMSG;
	}
	return first;
}

void listener_list_free(struct listener_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
