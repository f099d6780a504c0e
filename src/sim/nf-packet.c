/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated packet's headers as bytes, and beside each byte the bits of
 * it the flow determines. A flow knows its addresses, protocol, ports, ICMP
 * type and code and the TCP flags of its legs; it does not know a packet's
 * length, TTL, DSCP, identification, checksums, a TCP segment's options,
 * window or sequence numbers (cg_packet.unknown says which). Those bytes
 * hold a plausible value, but a load of them is unknown. */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nf-internal.h"

static void put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

/* the bits of n bytes from p are unknown when the packet does not know `field` */
static void unknown_if(uint8_t *known, uint32_t from, uint32_t n, const struct cg_packet *pkt, uint32_t field)
{
	if (pkt->unknown & field)
		memset(known + from, 0, n);
}

static void tcp_header(const struct cg_packet *pkt, struct pkt_headers *h)
{
	h->th_len = 20;
	put16(h->th, pkt->sport);
	put16(h->th + 2, pkt->dport);
	h->th[12] = 5 << 4;              /* data offset: no options */
	h->th[13] = pkt->tcp_flags;
	put16(h->th + 14, 64240);        /* window */
	unknown_if(h->th_known, 4, 8, pkt, CG_PKT_U_TCPSEQ);
	/* the data offset, and the reserved and AE bits beside it */
	unknown_if(h->th_known, 12, 1, pkt, CG_PKT_U_TCPOPT);
	h->th_known[13] = (uint8_t)~pkt->tcp_flags_unknown;
	unknown_if(h->th_known, 14, 2, pkt, CG_PKT_U_TCPWIN);
	unknown_if(h->th_known, 16, 2, pkt, CG_PKT_U_CSUM);
	unknown_if(h->th_known, 18, 2, pkt, CG_PKT_U_TCPSEQ);
}

void pkt_headers_build(const struct cg_packet *pkt, struct pkt_headers *h)
{
	uint16_t l4len;

	memset(h, 0, sizeof(*h));
	memset(h->nh_known, 0xff, sizeof(h->nh_known));
	memset(h->th_known, 0xff, sizeof(h->th_known));
	switch (pkt->l4proto) {
	case IPPROTO_TCP:
		tcp_header(pkt, h);
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		h->th_len = 8;
		put16(h->th, pkt->sport);
		put16(h->th + 2, pkt->dport);
		put16(h->th + 4, 8);
		unknown_if(h->th_known, 4, 2, pkt, CG_PKT_U_LEN);
		unknown_if(h->th_known, 6, 2, pkt, CG_PKT_U_CSUM);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		h->th_len = 8;
		h->th[0] = pkt->icmp_type;
		h->th[1] = pkt->icmp_code;
		/* checksum, and identifier and sequence (or what the type puts there) */
		memset(h->th_known + 2, 0, 6);
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
		/* version 4 bits, traffic class 8 (DSCP 6, ECN 2), flow label 20 */
		if (pkt->unknown & CG_PKT_U_DSCP) {
			h->nh_known[0] &= 0xf0;
			h->nh_known[1] &= 0x3f;
		}
		if (pkt->unknown & CG_PKT_U_ECN)
			h->nh_known[1] &= 0xcf;
		if (pkt->unknown & CG_PKT_U_FLOWLABEL) {
			h->nh_known[1] &= 0xf0;
			h->nh_known[2] = h->nh_known[3] = 0;
		}
		unknown_if(h->nh_known, 4, 2, pkt, CG_PKT_U_LEN);
		unknown_if(h->nh_known, 7, 1, pkt, CG_PKT_U_TTL);
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
		if (pkt->unknown & CG_PKT_U_IPOPT)
			h->nh_known[0] &= 0xf0;
		if (pkt->unknown & CG_PKT_U_DSCP)
			h->nh_known[1] &= 0x03;
		if (pkt->unknown & CG_PKT_U_ECN)
			h->nh_known[1] &= 0xfc;
		unknown_if(h->nh_known, 2, 2, pkt, CG_PKT_U_LEN);
		unknown_if(h->nh_known, 4, 2, pkt, CG_PKT_U_IPID);
		/* conntrack reassembles before any chain sees the packet: no
		 * fragment offset and no MF; DF is the sender's choice */
		if (pkt->unknown & CG_PKT_U_DF)
			h->nh_known[6] &= (uint8_t)~0x40;
		unknown_if(h->nh_known, 8, 1, pkt, CG_PKT_U_TTL);
		unknown_if(h->nh_known, 10, 2, pkt, CG_PKT_U_CSUM);
	}
}

struct field {
	uint8_t from, to;       /* bytes [from, to] */
	const char *name;
};

static const char *field_in(const struct field *f, size_t n, uint32_t offset)
{
	for (size_t i = 0; i < n; i++)
		if (offset >= f[i].from && offset <= f[i].to)
			return f[i].name;
	return NULL;
}

const char *pkt_field_name(const struct cg_packet *pkt, uint32_t base, uint32_t offset)
{
	static const struct field ip[] = {
		{ 0, 0, "ip hdrlength" }, { 1, 1, "ip dscp/ecn" }, { 2, 3, "ip length" }, { 4, 5, "ip id" },
		{ 6, 7, "ip frag-off" }, { 8, 8, "ip ttl" }, { 10, 11, "ip checksum" },
	};
	static const struct field ip6[] = {
		{ 0, 3, "ip6 dscp/ecn/flowlabel" }, { 4, 5, "ip6 length" }, { 7, 7, "ip6 hoplimit" },
	};
	static const struct field tcp[] = {
		{ 4, 7, "tcp sequence" }, { 8, 11, "tcp ackseq" }, { 12, 12, "tcp doff" }, { 13, 13, "tcp flags" },
		{ 14, 15, "tcp window" }, { 16, 17, "tcp checksum" }, { 18, 19, "tcp urgptr" },
	};
	static const struct field udp[] = { { 4, 5, "udp length" }, { 6, 7, "udp checksum" } };
	const char *n = NULL;

	if (base == NFT_PAYLOAD_NETWORK_HEADER)
		n = pkt->nfproto == NFPROTO_IPV6 ? field_in(ip6, sizeof(ip6) / sizeof(ip6[0]), offset) :
						   field_in(ip, sizeof(ip) / sizeof(ip[0]), offset);
	else if (base == NFT_PAYLOAD_TRANSPORT_HEADER && pkt->l4proto == IPPROTO_TCP)
		n = field_in(tcp, sizeof(tcp) / sizeof(tcp[0]), offset);
	else if (base == NFT_PAYLOAD_TRANSPORT_HEADER &&
		 (pkt->l4proto == IPPROTO_UDP || pkt->l4proto == IPPROTO_UDPLITE))
		n = field_in(udp, sizeof(udp) / sizeof(udp[0]), offset);
	else if (base == NFT_PAYLOAD_TRANSPORT_HEADER)
		n = "icmp checksum/id/sequence";
	return n ? n : "a header field";
}
