/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Netlink sockets through libmnl, opened the one way every netlink user
 * here opens them (bound, the kernel picking the port id), and a
 * connection for request/answer exchanges: the socket, its port id, the
 * sequence numbers and one buffer for requests and answers. The rtnetlink
 * plumbing (netlink.h), the nf_tables collector and the fix stage build on
 * it. */
#pragma once

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

/* Opens a netlink socket of `bus` (NETLINK_ROUTE, NETLINK_NETFILTER; flags:
 * SOCK_CLOEXEC, SOCK_NONBLOCK or 0) bound with an automatic port id.
 * Returns 0 with *ret and *portid (may be NULL), or a negative errno with
 * *failed (may be NULL) naming the step that failed ("open" or "bind");
 * logs nothing. */
int nlsock_open(int bus, int flags, struct mnl_socket **ret, uint32_t *portid, const char **failed);

struct nlconn {
	struct mnl_socket *nl;
	uint32_t portid, seq;       /* seq: the last request's; requests take ++seq */
	char *buf;                  /* requests are built here, answers read here */
	size_t size;
};

/* Opens c on `bus` with a buffer of `size` bytes. Returns 0, or a negative
 * errno (logs nothing; c is zeroed). */
int nlconn_open(struct nlconn *c, int bus, size_t size);
/* Closes the socket and frees the buffer; c is zeroed. */
void nlconn_close(struct nlconn *c);

/* Sends nlh and runs cb on every answer until the end of the dump (or the
 * ACK). Returns 0 or a negative errno: the kernel's, the callback's
 * (through errno: nlconn_cb_fail()), or -EINTR when a dump message carries
 * NLM_F_DUMP_INTR (the ruleset changed while it was dumped). */
int nlconn_talk(struct nlconn *c, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* A callback's failure: errno, which mnl_cb_run() leaves for the caller. */
int nlconn_cb_fail(int err);
