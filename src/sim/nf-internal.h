/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the netfilter simulator's files; not an interface. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/packet.h"
#include "cgnatcheck/ruleset.h"

/* The packet's headers as bytes, so payload expressions load exactly what the
 * kernel would: network header then transport header. */
struct pkt_headers {
	uint8_t nh[40];
	uint8_t th[20];
	uint32_t nh_len, th_len;
};

struct sim_index;

void pkt_headers_build(const struct cg_packet *pkt, struct pkt_headers *h);

/* The base chains a packet meets at a hook, in order: ingress chains (netdev
 * and inet families) on dev first when hook is NF_INET_PRE_ROUTING, then the
 * family's and inet's chains by priority. *out is allocated; free() it. */
size_t sim_index_chains(const struct sim_index *idx, uint8_t nfproto, uint32_t hook,
			const char *dev, const struct cg_chain ***out);
