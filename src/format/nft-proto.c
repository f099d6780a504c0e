/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What nft knows of protocols and keys: the header descriptions and their
 * fields (proto.c), the meta and ct keys (meta.c, ct.c), the protocol
 * context a rule's own protocol matches fill, and the payload fields a raw
 * load names in it (payload.c). */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>
#include <netinet/in.h> /* before <linux/...>: glibc first */

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nft-internal.h"

/* ==== protocol headers ==========================================================
 * proto.c's descriptions: fields in ascending offset order (payload_expr_expand()
 * splits merged loads walking them in that order), the field that names the
 * upper protocol, and the protocol numbers linking the layers. */

#define FIELD(tok, dt, off, ln) { .token = tok, .dtype = dt, .offset = off, .len = ln, .byteorder = BO_BIG }
#define INT_FIELD(tok, off, ln) FIELD(tok, &nftp_dt_integer, off, ln)
#define ICMP_FIELD(tok, off, ln, dep) \
	{ .token = tok, .dtype = &nftp_dt_integer, .offset = off, .len = ln, .byteorder = BO_BIG, .icmp_dep = dep }
#define META_TMPL(tok, dt, k, ln) { .token = tok, .dtype = dt, .meta_key = k, .len = ln }

static const struct proto_desc proto_tcp, proto_udp, proto_udplite, proto_dccp, proto_sctp,
	proto_igmp, proto_esp, proto_ah, proto_comp, proto_arp;

#define L4_LINKS \
	{ IPPROTO_ESP, &proto_esp }, { IPPROTO_AH, &proto_ah }, { IPPROTO_COMP, &proto_comp }, \
	{ IPPROTO_UDP, &proto_udp }, { IPPROTO_UDPLITE, &proto_udplite }, \
	{ IPPROTO_TCP, &proto_tcp }, { IPPROTO_DCCP, &proto_dccp }, { IPPROTO_SCTP, &proto_sctp }

static const struct proto_desc proto_ah = {
	.name = "ah", .base = BASE_TH, .protocol_key = 1,
	.links = { L4_LINKS },
	.tmpl = { [1] = FIELD("nexthdr", &nftp_dt_inet_protocol, 0, 8), [2] = INT_FIELD("hdrlength", 8, 8),
		  [3] = INT_FIELD("reserved", 16, 16), [4] = INT_FIELD("spi", 32, 32),
		  [5] = INT_FIELD("sequence", 64, 32) },
};
static const struct proto_desc proto_esp = {
	.name = "esp", .base = BASE_TH,
	.tmpl = { [1] = INT_FIELD("spi", 0, 32), [2] = INT_FIELD("sequence", 32, 32) },
};
static const struct proto_desc proto_comp = {
	.name = "comp", .base = BASE_TH, .protocol_key = 1,
	.links = { L4_LINKS },
	.tmpl = { [1] = FIELD("nexthdr", &nftp_dt_inet_protocol, 0, 8),
		  [2] = FIELD("flags", &nftp_dt_bitmask, 8, 8), [3] = INT_FIELD("cpi", 16, 16) },
};
const struct proto_desc nftp_proto_icmp = {
	.name = "icmp", .base = BASE_TH, .protocol_key = 1,
	.tmpl = { [1] = FIELD("type", &nftp_dt_icmp_type, 0, 8), [2] = FIELD("code", &nftp_dt_icmp_code, 8, 8),
		  [3] = ICMP_FIELD("checksum", 16, 16, ICMP_DEP_ANY),
		  [4] = ICMP_FIELD("id", 32, 16, ICMP_DEP_ECHO),
		  [5] = ICMP_FIELD("sequence", 48, 16, ICMP_DEP_ECHO),
		  [6] = ICMP_FIELD("gateway", 32, 32, ICMP_DEP_ADDRESS),
		  [7] = ICMP_FIELD("mtu", 48, 16, ICMP_DEP_MTU) },
};
static const struct proto_desc proto_igmp = {
	.name = "igmp", .base = BASE_TH,
	.tmpl = { [1] = FIELD("type", &nftp_dt_igmp_type, 0, 8), [2] = INT_FIELD("checksum", 16, 16),
		  [3] = INT_FIELD("mrt", 8, 8), [4] = INT_FIELD("group", 32, 32) },
};
static const struct proto_desc proto_udp = {
	.name = "udp", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &nftp_dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &nftp_dt_inet_service, 16, 16),
		  [3] = INT_FIELD("length", 32, 16), [4] = INT_FIELD("checksum", 48, 16) },
};
static const struct proto_desc proto_udplite = {
	.name = "udplite", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &nftp_dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &nftp_dt_inet_service, 16, 16),
		  [3] = INT_FIELD("csumcov", 32, 16), [4] = INT_FIELD("checksum", 48, 16) },
};
static const struct proto_desc proto_tcp = {
	.name = "tcp", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &nftp_dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &nftp_dt_inet_service, 16, 16),
		  [3] = INT_FIELD("sequence", 32, 32), [4] = INT_FIELD("ackseq", 64, 32),
		  [5] = INT_FIELD("doff", 96, 4), [6] = INT_FIELD("reserved", 100, 4),
		  [7] = FIELD("flags", &nftp_dt_tcp_flag, 104, 8), [8] = INT_FIELD("window", 112, 16),
		  [9] = INT_FIELD("checksum", 128, 16), [10] = INT_FIELD("urgptr", 144, 16) },
};
static const struct proto_desc proto_dccp = {
	.name = "dccp", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &nftp_dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &nftp_dt_inet_service, 16, 16),
		  [3] = FIELD("type", &nftp_dt_dccp_pkttype, 67, 4) },
};
static const struct proto_desc proto_sctp = {
	.name = "sctp", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &nftp_dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &nftp_dt_inet_service, 16, 16),
		  [3] = INT_FIELD("vtag", 32, 32), [4] = INT_FIELD("checksum", 64, 32) },
};
/* the transport header when only the port layout is known */
static const struct proto_desc proto_th = {
	.name = "th", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &nftp_dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &nftp_dt_inet_service, 16, 16) },
};
const struct proto_desc nftp_proto_ip = {
	.name = "ip", .base = BASE_NH,
	.links = { { IPPROTO_ICMP, &nftp_proto_icmp }, { IPPROTO_IGMP, &proto_igmp },
		   { IPPROTO_ICMPV6, &nftp_proto_icmp6 }, L4_LINKS },
	.tmpl = { [0] = META_TMPL("l4proto", &nftp_dt_inet_protocol, NFT_META_L4PROTO, 8),
		  [1] = INT_FIELD("version", 0, 4), [2] = INT_FIELD("hdrlength", 4, 4),
		  [3] = FIELD("dscp", &nftp_dt_dscp, 8, 6), [4] = FIELD("ecn", &nftp_dt_ecn, 14, 2),
		  [5] = INT_FIELD("length", 16, 16), [6] = INT_FIELD("id", 32, 16),
		  [7] = INT_FIELD("frag-off", 48, 16), [8] = INT_FIELD("ttl", 64, 8),
		  [9] = FIELD("protocol", &nftp_dt_inet_protocol, 72, 8),
		  [10] = INT_FIELD("checksum", 80, 16), [11] = FIELD("saddr", &nftp_dt_ipaddr, 96, 32),
		  [12] = FIELD("daddr", &nftp_dt_ipaddr, 128, 32) },
};
#define IPHDR_PROTOCOL 9
const struct proto_desc nftp_proto_icmp6 = {
	.name = "icmpv6", .base = BASE_TH, .protocol_key = 1,
	.tmpl = { [1] = FIELD("type", &nftp_dt_icmp6_type, 0, 8),
		  [2] = FIELD("code", &nftp_dt_icmpv6_code, 8, 8),
		  [3] = ICMP_FIELD("checksum", 16, 16, ICMP_DEP_ANY),
		  [4] = ICMP_FIELD("parameter-problem", 32, 32, ICMP6_DEP_PPTR),
		  [5] = ICMP_FIELD("mtu", 32, 32, ICMP6_DEP_MTU),
		  [6] = ICMP_FIELD("id", 32, 16, ICMP6_DEP_ECHO),
		  [7] = ICMP_FIELD("sequence", 48, 16, ICMP6_DEP_ECHO),
		  [8] = ICMP_FIELD("max-delay", 32, 16, ICMP6_DEP_MGMQ) },
};
const struct proto_desc nftp_proto_ip6 = {
	.name = "ip6", .base = BASE_NH,
	.links = { L4_LINKS, { IPPROTO_ICMP, &nftp_proto_icmp }, { IPPROTO_IGMP, &proto_igmp },
		   { IPPROTO_ICMPV6, &nftp_proto_icmp6 } },
	.tmpl = { [0] = META_TMPL("l4proto", &nftp_dt_inet_protocol, NFT_META_L4PROTO, 8),
		  [1] = INT_FIELD("version", 0, 4), [2] = FIELD("dscp", &nftp_dt_dscp, 4, 6),
		  [3] = FIELD("ecn", &nftp_dt_ecn, 10, 2), [4] = INT_FIELD("flowlabel", 12, 20),
		  [5] = INT_FIELD("length", 32, 16), [6] = FIELD("nexthdr", &nftp_dt_inet_protocol, 48, 8),
		  [7] = INT_FIELD("hoplimit", 56, 8), [8] = FIELD("saddr", &nftp_dt_ip6addr, 64, 128),
		  [9] = FIELD("daddr", &nftp_dt_ip6addr, 192, 128) },
};
#define IP6HDR_NEXTHDR 6
/* inet tables: the link layer is "which of IPv4 and IPv6" */
static const struct proto_desc proto_inet = {
	.name = "inet", .base = BASE_LL,
	.links = { { NFPROTO_IPV4, &nftp_proto_ip }, { NFPROTO_IPV6, &nftp_proto_ip6 } },
	.tmpl = { [0] = META_TMPL("nfproto", &nftp_dt_nfproto, NFT_META_NFPROTO, 8) },
};
/* the transport protocols of both IP versions, for meta l4proto */
static const struct proto_desc proto_inet_service = {
	.name = "inet-service", .base = BASE_TH,
	.links = { L4_LINKS, { IPPROTO_ICMP, &nftp_proto_icmp }, { IPPROTO_IGMP, &proto_igmp },
		   { IPPROTO_ICMPV6, &nftp_proto_icmp6 } },
	.tmpl = { [0] = META_TMPL("l4proto", &nftp_dt_inet_protocol, NFT_META_L4PROTO, 8) },
};
static const struct proto_desc proto_arp = {
	.name = "arp", .base = BASE_NH,
	.tmpl = { [1] = INT_FIELD("htype", 0, 16), [2] = FIELD("ptype", &nftp_dt_ethertype, 16, 16),
		  [3] = INT_FIELD("hlen", 32, 8), [4] = INT_FIELD("plen", 40, 8),
		  [5] = FIELD("operation", &nftp_dt_arpop, 48, 16),
		  [6] = FIELD("saddr ether", &nftp_dt_etheraddr, 64, 48),
		  [7] = FIELD("saddr ip", &nftp_dt_ipaddr, 112, 32),
		  [8] = FIELD("daddr ether", &nftp_dt_etheraddr, 144, 48),
		  [9] = FIELD("daddr ip", &nftp_dt_ipaddr, 192, 32) },
};
#define LL_LINKS \
	{ 0x0800, &nftp_proto_ip }, { 0x0806, &proto_arp }, { 0x86dd, &nftp_proto_ip6 }, \
	{ 0x8100, &nftp_proto_vlan }, { 0x88a8, &nftp_proto_vlan }
const struct proto_desc nftp_proto_vlan = {
	.name = "vlan", .base = BASE_LL, .protocol_key = 5, .length = 32,
	.links = { LL_LINKS },
	.tmpl = { [1] = INT_FIELD("pcp", 0, 3), [2] = INT_FIELD("dei", 3, 1),
		  [3] = INT_FIELD("cfi", 3, 1), [4] = INT_FIELD("id", 4, 12),
		  [5] = FIELD("type", &nftp_dt_ethertype, 16, 16) },
};
const struct proto_desc nftp_proto_eth = {
	.name = "ether", .base = BASE_LL, .protocol_key = 3, .length = 112,
	.links = { LL_LINKS },
	.tmpl = { [1] = FIELD("daddr", &nftp_dt_etheraddr, 0, 48), [2] = FIELD("saddr", &nftp_dt_etheraddr, 48, 48),
		  [3] = FIELD("type", &nftp_dt_ethertype, 96, 16) },
};
/* netdev tables: the link layer is known by meta protocol only */
static const struct proto_desc proto_netdev = {
	.name = "netdev", .base = BASE_LL,
	.links = { LL_LINKS },
	.tmpl = { [0] = META_TMPL("protocol", &nftp_dt_ethertype, NFT_META_PROTOCOL, 16) },
};

const struct proto_desc nftp_proto_unknown = { .name = "unknown", .base = BASE_INVALID };

/* proto_find_upper() */
static const struct proto_desc *proto_upper(const struct proto_desc *base, unsigned num)
{
	for (unsigned i = 0; base && i < MAX_LINKS && base->links[i].desc; i++)
		if (base->links[i].num == num)
			return base->links[i].desc;
	return NULL;
}

/* proto_find_num() */
int nftp_proto_num(const struct proto_desc *base, const struct proto_desc *desc)
{
	for (unsigned i = 0; base && i < MAX_LINKS && base->links[i].desc; i++)
		if (base->links[i].desc == desc)
			return (int)base->links[i].num;
	return -1;
}

/* payload_expr_alloc()'s EXPR_F_PROTOCOL: the field names the next layer */
static bool tmpl_is_protocol(const struct proto_desc *desc, unsigned i)
{
	if (desc->protocol_key && i == desc->protocol_key)
		return true;
	return (desc == &nftp_proto_ip && i == IPHDR_PROTOCOL) || (desc == &nftp_proto_ip6 && i == IP6HDR_NEXTHDR);
}

unsigned nftp_icmp_dep_type(enum icmp_dep d)
{
	switch (d) {
	case ICMP_DEP_ECHO: return 8;
	case ICMP6_DEP_ECHO: return 128;
	case ICMP_DEP_MTU: return 3;
	case ICMP_DEP_ADDRESS: return 5;
	case ICMP6_DEP_MTU: return 2;
	case ICMP6_DEP_MGMQ: return 130;
	case ICMP6_DEP_PPTR: return 4;
	default: return 0;
	}
}

/* ==== payload expressions ===================================================== */

/* payload_init_raw(): a transport header's first two 16-bit words are ports
 * whatever the protocol */
struct node *nftp_payload_raw(struct ctx *c, unsigned base, unsigned offset, unsigned len)
{
	struct node *n = nftp_node_new(c, N_PAYLOAD, &nftp_dt_xinteger, BO_INVALID, len);

	n->payload.base = (enum base)base;
	n->payload.offset = offset;
	n->payload.desc = &nftp_proto_unknown;
	if (base == BASE_TH && len == 16 && (offset == 0 || offset == 16)) {
		n->payload.desc = &proto_th;
		n->payload.tmpl = &proto_th.tmpl[offset == 0 ? 1 : 2];
		n->dtype = &nftp_dt_inet_service;
	}
	return n;
}

/* a known field, as payload_expr_alloc() makes it */
static struct node *payload_field(struct ctx *c, const struct proto_desc *desc, unsigned i)
{
	const struct hdr_tmpl *t = &desc->tmpl[i];
	struct node *n = nftp_node_new(c, N_PAYLOAD, t->dtype, t->byteorder, t->len);

	n->payload.desc = desc;
	n->payload.tmpl = t;
	n->payload.base = desc->base;
	n->payload.offset = t->offset;
	if (tmpl_is_protocol(desc, i))
		n->flags |= F_PROTOCOL;
	return n;
}

/* ==== meta and ct keys ======================================================== */

const struct key_tmpl *nftp_meta_tmpl(uint32_t key)
{
	static const struct key_tmpl tmpls[] = {
		[NFT_META_LEN] = { "length", &nftp_dt_integer, 32, BO_HOST },
		[NFT_META_PROTOCOL] = { "protocol", &nftp_dt_ethertype, 16, BO_BIG },
		[NFT_META_PRIORITY] = { "priority", &nftp_dt_classid, 32, BO_HOST },
		[NFT_META_MARK] = { "mark", &nftp_dt_mark, 32, BO_HOST },
		[NFT_META_IIF] = { "iif", &nftp_dt_ifindex, 32, BO_HOST },
		[NFT_META_OIF] = { "oif", &nftp_dt_ifindex, 32, BO_HOST },
		[NFT_META_IIFNAME] = { "iifname", &nftp_dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_OIFNAME] = { "oifname", &nftp_dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_IIFTYPE] = { "iiftype", &nftp_dt_arphrd, 16, BO_HOST },
		[NFT_META_OIFTYPE] = { "oiftype", &nftp_dt_arphrd, 16, BO_HOST },
		[NFT_META_SKUID] = { "skuid", &nftp_dt_uid, 32, BO_HOST },
		[NFT_META_SKGID] = { "skgid", &nftp_dt_gid, 32, BO_HOST },
		[NFT_META_NFTRACE] = { "nftrace", &nftp_dt_integer, 1, BO_HOST },
		[NFT_META_RTCLASSID] = { "rtclassid", &nftp_dt_realm, 32, BO_HOST },
		[NFT_META_SECMARK] = { "secmark", &nftp_dt_integer, 32, BO_HOST },
		[NFT_META_NFPROTO] = { "nfproto", &nftp_dt_nfproto, 8, BO_HOST },
		[NFT_META_L4PROTO] = { "l4proto", &nftp_dt_inet_protocol, 8, BO_HOST },
		[NFT_META_BRI_IIFNAME] = { "ibrname", &nftp_dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_BRI_OIFNAME] = { "obrname", &nftp_dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_PKTTYPE] = { "pkttype", &nftp_dt_pkttype, 8, BO_HOST },
		[NFT_META_CPU] = { "cpu", &nftp_dt_integer, 32, BO_HOST },
		[NFT_META_IIFGROUP] = { "iifgroup", &nftp_dt_devgroup, 32, BO_HOST },
		[NFT_META_OIFGROUP] = { "oifgroup", &nftp_dt_devgroup, 32, BO_HOST },
		[NFT_META_CGROUP] = { "cgroup", &nftp_dt_integer, 32, BO_HOST },
		[NFT_META_PRANDOM] = { "random", &nftp_dt_integer, 32, BO_BIG },
		[NFT_META_SECPATH] = { "ipsec", &nftp_dt_boolean, 8, BO_HOST },
		[NFT_META_IIFKIND] = { "iifkind", &nftp_dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_OIFKIND] = { "oifkind", &nftp_dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_BRI_IIFPVID] = { "ibrpvid", &nftp_dt_integer, 16, BO_HOST },
		[NFT_META_BRI_IIFVPROTO] = { "ibrvproto", &nftp_dt_ethertype, 16, BO_BIG },
		[NFT_META_TIME_NS] = { "time", &nftp_dt_date, 64, BO_HOST },
		[NFT_META_TIME_DAY] = { "day", &nftp_dt_day, 8, BO_HOST },
		[NFT_META_TIME_HOUR] = { "hour", &nftp_dt_hour, 32, BO_HOST },
		[NFT_META_SDIF] = { "sdif", &nftp_dt_ifindex, 32, BO_HOST },
		[NFT_META_SDIFNAME] = { "sdifname", &nftp_dt_ifname, IFNAMSIZ * 8, BO_HOST },
	};

	return key < ARRAY_SIZE(tmpls) && tmpls[key].token ? &tmpls[key] : NULL;
}

/* a load of a meta or ct key; of one nft does not know, a placeholder */
static struct node *key_new(struct ctx *c, enum node_type type, const struct key_tmpl *t, uint32_t key,
			    const char *what)
{
	struct node *n;

	if (!t) {
		n = nftp_node_new(c, N_UNSUPPORTED, &nftp_dt_invalid, BO_INVALID, 32);
		n->what = what;
		return n;
	}
	n = nftp_node_new(c, type, t->dtype, t->byteorder, t->len);
	n->key = key;
	return n;
}

struct node *nftp_meta_new(struct ctx *c, uint32_t key)
{
	struct node *n = key_new(c, N_META, nftp_meta_tmpl(key), key, "meta key");

	if (n->type == N_UNSUPPORTED)
		return n;
	switch (key) {
	case NFT_META_IIFTYPE:
		n->flags |= F_PROTOCOL;
		break;
	case NFT_META_NFPROTO:
	case NFT_META_PROTOCOL:
		n->flags |= F_PROTOCOL;
		n->kbase = BASE_LL;
		break;
	case NFT_META_L4PROTO:
		n->flags |= F_PROTOCOL;
		n->kbase = BASE_NH;
		break;
	}
	return n;
}

const struct key_tmpl *nftp_ct_tmpl(uint32_t key)
{
	static const struct key_tmpl tmpls[] = {
		[NFT_CT_STATE] = { "state", &nftp_dt_ct_state, 32, BO_HOST },
		[NFT_CT_DIRECTION] = { "direction", &nftp_dt_ct_dir, 8, BO_HOST },
		[NFT_CT_STATUS] = { "status", &nftp_dt_ct_status, 32, BO_HOST },
		[NFT_CT_MARK] = { "mark", &nftp_dt_mark, 32, BO_HOST },
		[NFT_CT_EXPIRATION] = { "expiration", &nftp_dt_time, 32, BO_HOST },
		[NFT_CT_HELPER] = { "helper", &nftp_dt_string, 16 * 8, BO_HOST },
		[NFT_CT_L3PROTOCOL] = { "l3proto", &nftp_dt_nfproto, 8, BO_HOST },
		[NFT_CT_SRC] = { "saddr", &nftp_dt_invalid, 0, BO_BIG },
		[NFT_CT_DST] = { "daddr", &nftp_dt_invalid, 0, BO_BIG },
		[NFT_CT_PROTOCOL] = { "protocol", &nftp_dt_inet_protocol, 8, BO_BIG },
		[NFT_CT_PROTO_SRC] = { "proto-src", &nftp_dt_invalid, 16, BO_BIG },
		[NFT_CT_PROTO_DST] = { "proto-dst", &nftp_dt_invalid, 16, BO_BIG },
		[NFT_CT_LABELS] = { "label", &nftp_dt_ct_label, 128, BO_HOST },
		[NFT_CT_PKTS] = { "packets", &nftp_dt_integer, 64, BO_HOST },
		[NFT_CT_BYTES] = { "bytes", &nftp_dt_integer, 64, BO_HOST },
		[NFT_CT_AVGPKT] = { "avgpkt", &nftp_dt_integer, 64, BO_HOST },
		[NFT_CT_ZONE] = { "zone", &nftp_dt_integer, 16, BO_HOST },
		[NFT_CT_EVENTMASK] = { "event", &nftp_dt_ct_event, 32, BO_HOST },
		[NFT_CT_SRC_IP] = { "ip saddr", &nftp_dt_ipaddr, 32, BO_BIG },
		[NFT_CT_DST_IP] = { "ip daddr", &nftp_dt_ipaddr, 32, BO_BIG },
		[NFT_CT_SRC_IP6] = { "ip6 saddr", &nftp_dt_ip6addr, 128, BO_BIG },
		[NFT_CT_DST_IP6] = { "ip6 daddr", &nftp_dt_ip6addr, 128, BO_BIG },
		[NFT_CT_SECMARK] = { "secmark", &nftp_dt_integer, 32, BO_HOST },
		[NFT_CT_ID] = { "id", &nftp_dt_integer, 32, BO_BIG },
	};

	return key < ARRAY_SIZE(tmpls) && tmpls[key].token ? &tmpls[key] : NULL;
}

struct node *nftp_ct_new(struct ctx *c, uint32_t key, int8_t dir)
{
	struct node *n = key_new(c, N_CT, nftp_ct_tmpl(key), key, "ct key");

	if (n->type == N_UNSUPPORTED)
		return n;
	n->dir = dir;
	switch (key) {
	case NFT_CT_SRC:
	case NFT_CT_DST:
		n->kbase = BASE_NH;
		break;
	case NFT_CT_PROTO_SRC:
	case NFT_CT_PROTO_DST:
		n->kbase = BASE_TH;
		break;
	case NFT_CT_PROTOCOL:
		n->flags = F_PROTOCOL;
		n->kbase = BASE_NH;
		break;
	case NFT_CT_L3PROTOCOL:
		n->flags = F_PROTOCOL;
		n->kbase = BASE_LL;
		break;
	}
	return n;
}

/* ==== the protocol context ==================================================== */

/* hook_proto_desc[]: what a table family knows before any match, and at
 * which base */
static const struct proto_desc *hook_desc(uint8_t family, enum base *base)
{
	*base = BASE_LL;
	switch (family) {
	case NFPROTO_BRIDGE: return &nftp_proto_eth;
	case NFPROTO_NETDEV: return &proto_netdev;
	case NFPROTO_INET: return &proto_inet;
	case NFPROTO_IPV4: *base = BASE_NH; return &nftp_proto_ip;
	case NFPROTO_IPV6: *base = BASE_NH; return &nftp_proto_ip6;
	case NFPROTO_ARP: *base = BASE_NH; return &proto_arp;
	}
	*base = BASE_INVALID;
	return NULL;
}

void nftp_proto_ctx_init(struct proto_ctx *pc, uint8_t family)
{
	enum base base;
	const struct proto_desc *desc = hook_desc(family, &base);

	memset(pc, 0, sizeof(*pc));
	pc->family = family;
	if (desc)
		pc->desc[base] = desc;
}

static void pctx_update(struct proto_ctx *pc, enum base base, const struct proto_desc *desc)
{
	if (base <= BASE_MAX)
		pc->desc[base] = desc;
}

/* payload_expr_pctx_update() */
static void payload_pctx_update(struct proto_ctx *pc, const struct node *left, const struct node *right)
{
	const struct proto_desc *base = pc->desc[left->payload.base], *desc;
	unsigned proto = (unsigned)nftp_value_u64(right);

	desc = proto_upper(base, proto);
	if (!desc) {
		if (base == &nftp_proto_icmp)
			pc->icmp_type = proto ? proto : 8;     /* echo reply counts as echo */
		else if (base == &nftp_proto_icmp6)
			pc->icmp_type = proto == 129 ? 128 : proto;
		return;
	}
	if (base && desc->base == base->base && desc->base == BASE_LL && pc->n_stacked < ARRAY_SIZE(pc->stacked_ll))
		pc->stacked_ll[pc->n_stacked++] = base;
	pctx_update(pc, desc->base, desc);
}

/* meta_expr_pctx_update() */
static void meta_pctx_update(struct proto_ctx *pc, const struct node *left, const struct node *right)
{
	enum base hbase;
	const struct proto_desc *h = hook_desc(pc->family, &hbase), *desc;
	unsigned v = (unsigned)nftp_value_u64(right);

	switch (left->key) {
	case NFT_META_IIFTYPE:
		if (hbase < BASE_NH && pc->family != NFPROTO_INET && pc->family != NFPROTO_NETDEV)
			return;
		pctx_update(pc, BASE_LL, v == 1 ? &nftp_proto_eth : &nftp_proto_unknown);
		break;
	case NFT_META_NFPROTO:
		desc = proto_upper(h, v);
		if (!desc)
			desc = v == pc->family && hbase == BASE_NH ? h : &nftp_proto_unknown;
		pctx_update(pc, BASE_NH, desc);
		break;
	case NFT_META_L4PROTO:
		desc = proto_upper(&proto_inet_service, v);
		pctx_update(pc, BASE_TH, desc ? desc : &nftp_proto_unknown);
		break;
	case NFT_META_PROTOCOL:
		if (hbase != BASE_LL || (pc->family != NFPROTO_NETDEV && pc->family != NFPROTO_BRIDGE))
			return;
		desc = proto_upper(h, v);
		pctx_update(pc, BASE_NH, desc ? desc : &nftp_proto_unknown);
		break;
	}
}

/* ct_expr_pctx_update() */
static void ct_pctx_update(struct proto_ctx *pc, const struct node *left, const struct node *right)
{
	const struct proto_desc *base = pc->desc[left->kbase], *desc;

	if (!base)
		return;
	desc = proto_upper(base, (unsigned)nftp_value_u64(right));
	if (desc)
		pctx_update(pc, left->kbase + 1, desc);
}

/* relational_expr_pctx_update(): a protocol match tells what the next layer is */
void nftp_relational_pctx_update(struct proto_ctx *pc, const struct node *rel)
{
	const struct node *left = rel->left, *right = rel->right;

	if (!(left->flags & F_PROTOCOL) || right->type != N_VALUE)
		return;
	switch (left->type) {
	case N_PAYLOAD: payload_pctx_update(pc, left, right); break;
	case N_META: meta_pctx_update(pc, left, right); break;
	case N_CT: ct_pctx_update(pc, left, right); break;
	default: break;
	}
}

/* ==== payload fields (payload.c) ============================================== */

/* get_stacked_desc(): a link layer offset past the first header is in a stacked one */
static const struct proto_desc *stacked_desc(const struct proto_ctx *pc, const struct proto_desc *top,
					     const struct node *e, unsigned *skip)
{
	unsigned off = e->payload.offset, total = 0;

	*skip = 0;
	if (e->payload.base != BASE_LL || off < top->length)
		return top;
	for (unsigned i = 0; i < pc->n_stacked; i++) {
		const struct proto_desc *s = pc->stacked_ll[i];

		if (off < s->length) {
			*skip = total;
			return s;
		}
		off -= s->length;
		total += s->length;
	}
	*skip = total;
	return top;
}

static const struct proto_desc *payload_base_desc(const struct proto_ctx *pc, const struct node *e,
						  unsigned *skip)
{
	const struct proto_desc *desc = e->payload.base <= BASE_MAX ? pc->desc[e->payload.base] : NULL;

	*skip = 0;
	if (!desc || desc == &nftp_proto_unknown || desc->base != e->payload.base)
		return NULL;
	return stacked_desc(pc, desc, e, skip);
}

/* an icmp field that exists only for some types: whether the type the rule
 * matched (if any) is one of them */
static bool tmpl_fits_icmp(const struct hdr_tmpl *t, const struct proto_ctx *pc)
{
	return !t->icmp_dep || !pc->icmp_type || pc->icmp_type == nftp_icmp_dep_type(t->icmp_dep);
}

/* payload_expr_complete(): name the field a raw load covers exactly */
void nftp_payload_complete(struct node *e, const struct proto_ctx *pc)
{
	unsigned skip, off;
	const struct proto_desc *desc = payload_base_desc(pc, e, &skip);

	if (!desc || desc == &proto_inet)
		return;
	off = e->payload.offset - skip;
	for (unsigned i = 0; i < MAX_TMPL; i++) {
		const struct hdr_tmpl *t = &desc->tmpl[i];

		if (!t->len || t->offset != off || t->len != e->len)
			continue;
		if (t->meta_key && i == 0)
			continue;
		if (!tmpl_fits_icmp(t, pc))
			continue;
		e->dtype = t->dtype;
		e->payload.desc = desc;
		e->payload.tmpl = t;
		return;
	}
}

bool nftp_payload_known(const struct node *e)
{
	return e->payload.desc && e->payload.tmpl && e->payload.desc != &nftp_proto_unknown;
}

/* payload_expr_expand(): a load spanning several fields, split into them */
unsigned nftp_payload_expand(struct ctx *c, const struct node *e, const struct proto_ctx *pc,
			struct node **out, unsigned max)
{
	unsigned skip, off, len = e->len, n = 0;
	const struct proto_desc *desc = payload_base_desc(pc, e, &skip);

	off = e->payload.offset - skip;
	if (!desc)
		goto raw;
	for (unsigned i = 1; i < MAX_TMPL && n < max; i++) {
		const struct hdr_tmpl *t = &desc->tmpl[i];

		if (!t->len)
			break;
		if (t->offset != off)
			continue;
		if (!tmpl_fits_icmp(t, pc))
			continue;
		if (t->len <= len) {
			out[n++] = payload_field(c, desc, i);
			len -= t->len;
			off += t->len;
			if (len == 0)
				return n;
		} else {
			struct node *f = payload_field(c, desc, i);

			f->len = len;
			out[n++] = f;
			return n;
		}
	}
raw:
	if (n < max) {
		out[n++] = nftp_payload_raw(c, e->payload.base, off, len);
	}
	return n;
}

/* payload_expr_trim(): whether a mask only selects whole fields; then the
 * load shrinks to them and the value shifts by *shift */
bool nftp_payload_trim(struct node *e, const struct node *mask, const struct proto_ctx *pc,
		  unsigned *shift)
{
	unsigned skip, off, plen = e->len, len = 0;
	const struct proto_desc *desc = payload_base_desc(pc, e, &skip);
	unsigned moff, mlen, adj;

	if (!desc)
		return false;
	moff = nftp_num_scan1(mask->value, 0);
	if (moff == NO_BIT)
		moff = 0;
	mlen = nftp_num_scan0(mask->value, moff + 1);
	off = e->payload.offset - skip;
	adj = (mask->len + 7) / 8 * 8 - mlen;
	off += adj;
	for (unsigned i = 1; i < MAX_TMPL; i++) {
		const struct hdr_tmpl *t = &desc->tmpl[i];

		if (!t->len || t->offset != off)
			continue;
		if (t->len > plen)
			return false;
		plen -= t->len;
		off += t->len;
		len += t->len;
		if (plen == 0)
			return false;
		if (moff + len == mlen) {
			e->payload.offset += adj;
			e->len = len;
			*shift = moff;
			return true;
		}
	}
	return false;
}

/* payload_is_stacked(): a protocol match naming a protocol of the same layer */
bool nftp_payload_stacked(const struct proto_desc *desc, const struct node *rel)
{
	const struct proto_desc *next;

	if (rel->left->type != N_PAYLOAD || !(rel->left->flags & F_PROTOCOL) || rel->op != OP_EQ ||
	    rel->right->type != N_VALUE)
		return false;
	next = proto_upper(desc, (unsigned)(nftp_value_u64(rel->right) & 0xffff));
	return next && desc && next->base == desc->base;
}
