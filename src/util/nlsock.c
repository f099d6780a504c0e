/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/nlsock.h"

int nlsock_open(int bus, int flags, struct mnl_socket **ret, uint32_t *portid, const char **failed)
{
	struct mnl_socket *nl = mnl_socket_open2(bus, flags);

	if (!nl) {
		if (failed)
			*failed = "open";
		return -errno;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		mnl_socket_close(nl);
		if (failed)
			*failed = "bind";
		return r;
	}
	if (portid)
		*portid = mnl_socket_get_portid(nl);
	*ret = nl;
	return 0;
}

void nlconn_close(struct nlconn *c)
{
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

int nlconn_open(struct nlconn *c, int bus, size_t size)
{
	int r;

	memset(c, 0, sizeof(*c));
	r = nlsock_open(bus, 0, &c->nl, &c->portid, NULL);
	if (r < 0)
		return r;
	c->buf = xmalloc(size);
	c->size = size;
	return 0;
}

int nlconn_cb_fail(int err)
{
	errno = -err;
	return MNL_CB_ERROR;
}

/* The kernel sets NLM_F_DUMP_INTR on a dump message when what it dumps
 * changed since the dump began. Checked here so the answer does not depend
 * on which libmnl version is installed. */
static bool dump_interrupted(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			return true;
	return false;
}

int nlconn_talk(struct nlconn *c, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(c->nl, c->buf, c->size);
		if (n < 0)
			return -errno;
		if (dump_interrupted(c->buf, (size_t)n))
			return -EINTR;
		errno = 0;
		r = mnl_cb_run(c->buf, (size_t)n, seq, c->portid, cb, data);
		if (r < 0)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}
