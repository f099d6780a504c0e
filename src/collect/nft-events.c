/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/nft-events.h"
#include "cgnatcheck/nlsock.h"

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
	return nl;
}

bool nft_events_drain(struct mnl_socket *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	bool any = false;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n > 0 || (n < 0 && errno == ENOBUFS)) {
			any = true;
			continue;
		}
		return any;
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
