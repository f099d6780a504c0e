/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <string.h>

#include "nf-internal.h"

static void put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

void pkt_headers_build(const struct cg_packet *pkt, struct pkt_headers *h)
{
	uint16_t l4len;

	memset(h, 0, sizeof(*h));
	switch (pkt->l4proto) {
	case IPPROTO_TCP:
		h->th_len = 20;
		put16(h->th, pkt->sport);
		put16(h->th + 2, pkt->dport);
		h->th[12] = 5 << 4;              /* data offset: no options */
		h->th[13] = pkt->tcp_flags;
		put16(h->th + 14, 64240);        /* window */
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		h->th_len = 8;
		put16(h->th, pkt->sport);
		put16(h->th + 2, pkt->dport);
		put16(h->th + 4, 8);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		h->th_len = 8;
		h->th[0] = pkt->icmp_type;
		h->th[1] = pkt->icmp_code;
		break;
	default:
		h->th_len = 0;
		break;
	}
	l4len = (uint16_t)h->th_len;

	if (pkt->nfproto == NFPROTO_IPV6) {
		h->nh_len = 40;
		h->nh[0] = (uint8_t)(0x60 | (pkt->dscp >> 2));
		h->nh[1] = (uint8_t)((pkt->dscp & 3) << 6);
		put16(h->nh + 4, pkt->len > 40 ? (uint16_t)(pkt->len - 40) : l4len);
		h->nh[6] = pkt->l4proto;
		h->nh[7] = pkt->ttl ? pkt->ttl : 64;
		memcpy(h->nh + 8, pkt->src.bytes, 16);
		memcpy(h->nh + 24, pkt->dst.bytes, 16);
	} else {
		h->nh_len = 20;
		h->nh[0] = 0x45;
		h->nh[1] = (uint8_t)(pkt->dscp << 2);
		put16(h->nh + 2, pkt->len ? pkt->len : (uint16_t)(20 + l4len));
		put16(h->nh + 6, 0x4000);        /* DF, not a fragment */
		h->nh[8] = pkt->ttl ? pkt->ttl : 64;
		h->nh[9] = pkt->l4proto;
		memcpy(h->nh + 12, pkt->src.bytes, 4);
		memcpy(h->nh + 16, pkt->dst.bytes, 4);
	}
}
