/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Decodes x_tables extension blobs into struct xt_decoded (xt.h).
 *
 * Each known (name, revision, family) has the size of the kernel struct it
 * carries; a blob of any other length is refused, so nothing here ever reads
 * past what the kernel (or a hostile dump) handed over. Blobs are copied into
 * local structs with memcpy: nf_tables attributes are only 4-byte aligned. */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_CONNMARK.h>
#include <linux/netfilter/xt_CT.h>
#include <linux/netfilter/xt_LOG.h>
#include <linux/netfilter/xt_MARK.h>
#include <linux/netfilter/xt_NFLOG.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_connmark.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_iprange.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_pkttype.h>
#include <linux/netfilter/xt_set.h>
#include <linux/netfilter/xt_state.h>
#include <linux/netfilter/xt_statistic.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/xt.h"

/* How one decode call allocates: strings either point into the blob or,
 * for a blob that goes away (xt_decode_owned()), are copied. */
struct dec_ctx {
	struct arena *arena;
	bool own_strings;
};

typedef bool (*xt_decode_fn)(struct xt_decoded *d, const void *info, struct dec_ctx *c);

struct xt_ext {
	const char *name;
	bool target;
	uint8_t rev_min, rev_max;
	uint8_t family;             /* NFPROTO_UNSPEC: any */
	enum xt_kind kind;
	uint32_t size;              /* the kernel's matchsize/targetsize */
	xt_decode_fn decode;
	uint32_t dec_size;          /* the union member decode() fills */
};

/* ---- helpers ------------------------------------------------------------ */

static void addr_from_inet(struct cg_addr *out, const union nf_inet_addr *in, uint8_t nfproto)
{
	memset(out, 0, sizeof(*out));
	if (nfproto == NFPROTO_IPV6) {
		out->family = AF_INET6;
		memcpy(out->bytes, in->all, 16);
	} else {
		out->family = AF_INET;
		memcpy(out->bytes, &in->ip, 4);
	}
}

static void addr_from_be32(struct cg_addr *out, uint32_t be)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	memcpy(out->bytes, &be, 4);
}

/* Fixed-size string fields need not be terminated in a blob; a terminated
 * one is used in place (the blob outlives the decoded value, see xt.h)
 * unless the value must own its strings (xt_decode_owned()). */
static const char *field_str(struct dec_ctx *c, const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	return n < size && !c->own_strings ? s : arena_strndup(c->arena, s, n);
}

static struct xt_port_range port_range(uint16_t lo, uint16_t hi)
{
	return (struct xt_port_range){ .lo = lo, .hi = hi };
}

/* ---- matches ------------------------------------------------------------ */

static bool dec_tcp(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_tcp t;

	memcpy(&t, info, sizeof(t));
	d->tcpudp.sport = port_range(t.spts[0], t.spts[1]);
	d->tcpudp.dport = port_range(t.dpts[0], t.dpts[1]);
	d->tcpudp.option = t.option;
	d->tcpudp.flg_mask = t.flg_mask;
	d->tcpudp.flg_cmp = t.flg_cmp;
	d->tcpudp.invflags = t.invflags;
	return true;
}

static bool dec_udp(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_udp u;

	memcpy(&u, info, sizeof(u));
	d->tcpudp.sport = port_range(u.spts[0], u.spts[1]);
	d->tcpudp.dport = port_range(u.dpts[0], u.dpts[1]);
	d->tcpudp.invflags = u.invflags;
	return true;
}

static bool dec_icmp(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct ipt_icmp i;

	memcpy(&i, info, sizeof(i));
	d->icmp.type = i.type;
	d->icmp.code_min = i.code[0];
	d->icmp.code_max = i.code[1];
	d->icmp.invert = i.invflags & IPT_ICMP_INV;
	return true;
}

static bool dec_icmp6(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct ip6t_icmp i;

	memcpy(&i, info, sizeof(i));
	d->icmp.type = i.type;
	d->icmp.code_min = i.code[0];
	d->icmp.code_max = i.code[1];
	d->icmp.invert = i.invflags & IP6T_ICMP_INV;
	return true;
}

static bool multiport_flags_ok(uint8_t flags, uint8_t count)
{
	return flags <= XT_MULTIPORT_EITHER && count <= XT_MULTI_PORTS;
}

static bool dec_multiport0(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_multiport m;

	memcpy(&m, info, sizeof(m));
	/* The kernel's checkentry refuses these too; they cannot be loaded. */
	if (!multiport_flags_ok(m.flags, m.count))
		return false;
	d->multiport.flags = m.flags;
	d->multiport.count = m.count;
	memcpy(d->multiport.ports, m.ports, sizeof(m.ports));
	return true;
}

static bool dec_multiport1(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_multiport_v1 m;

	memcpy(&m, info, sizeof(m));
	if (!multiport_flags_ok(m.flags, m.count))
		return false;
	d->multiport.flags = m.flags;
	d->multiport.count = m.count;
	memcpy(d->multiport.ports, m.ports, sizeof(m.ports));
	memcpy(d->multiport.pflags, m.pflags, sizeof(m.pflags));
	d->multiport.invert = m.invert;
	return true;
}

/* Revisions 1 and 2 share everything up to state_mask with revision 3; their
 * ports are big endian and compared for equality only. */
#define CT_COMMON_DECODE(d, m, nfproto)                                                    \
	do {                                                                               \
		addr_from_inet(&(d)->conntrack.origsrc, &(m).origsrc_addr, nfproto);       \
		addr_from_inet(&(d)->conntrack.origsrc_mask, &(m).origsrc_mask, nfproto);  \
		addr_from_inet(&(d)->conntrack.origdst, &(m).origdst_addr, nfproto);       \
		addr_from_inet(&(d)->conntrack.origdst_mask, &(m).origdst_mask, nfproto);  \
		addr_from_inet(&(d)->conntrack.replsrc, &(m).replsrc_addr, nfproto);       \
		addr_from_inet(&(d)->conntrack.replsrc_mask, &(m).replsrc_mask, nfproto);  \
		addr_from_inet(&(d)->conntrack.repldst, &(m).repldst_addr, nfproto);       \
		addr_from_inet(&(d)->conntrack.repldst_mask, &(m).repldst_mask, nfproto);  \
		(d)->conntrack.expires_min = (m).expires_min;                              \
		(d)->conntrack.expires_max = (m).expires_max;                              \
		(d)->conntrack.l4proto = (m).l4proto;                                      \
		(d)->conntrack.match_flags = (m).match_flags;                              \
		(d)->conntrack.invert_flags = (m).invert_flags;                            \
		(d)->conntrack.state_mask = (m).state_mask;                                \
		(d)->conntrack.status_mask = (m).status_mask;                              \
	} while (0)

#define CT_BE_PORTS(d, m)                                                                   \
	do {                                                                                \
		uint16_t p_;                                                                \
		p_ = ntohs((m).origsrc_port); (d)->conntrack.origsrc_port = port_range(p_, p_); \
		p_ = ntohs((m).origdst_port); (d)->conntrack.origdst_port = port_range(p_, p_); \
		p_ = ntohs((m).replsrc_port); (d)->conntrack.replsrc_port = port_range(p_, p_); \
		p_ = ntohs((m).repldst_port); (d)->conntrack.repldst_port = port_range(p_, p_); \
	} while (0)

static bool dec_conntrack1(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_conntrack_mtinfo1 m;

	memcpy(&m, info, sizeof(m));
	CT_COMMON_DECODE(d, m, d->nfproto);
	CT_BE_PORTS(d, m);
	return true;
}

static bool dec_conntrack2(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_conntrack_mtinfo2 m;

	memcpy(&m, info, sizeof(m));
	CT_COMMON_DECODE(d, m, d->nfproto);
	CT_BE_PORTS(d, m);
	return true;
}

static bool dec_conntrack3(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_conntrack_mtinfo3 m;

	memcpy(&m, info, sizeof(m));
	CT_COMMON_DECODE(d, m, d->nfproto);
	d->conntrack.origsrc_port = port_range(m.origsrc_port, m.origsrc_port_high);
	d->conntrack.origdst_port = port_range(m.origdst_port, m.origdst_port_high);
	d->conntrack.replsrc_port = port_range(m.replsrc_port, m.replsrc_port_high);
	d->conntrack.repldst_port = port_range(m.repldst_port, m.repldst_port_high);
	return true;
}

static bool dec_state(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_state_info s;

	memcpy(&s, info, sizeof(s));
	d->state.statemask = s.statemask;
	return true;
}

static bool dec_mark1(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_mark_mtinfo1 m;

	memcpy(&m, info, sizeof(m));
	d->mark.mark = m.mark;
	d->mark.mask = m.mask;
	d->mark.invert = m.invert;
	return true;
}

static bool dec_connmark1(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_connmark_mtinfo1 m;

	memcpy(&m, info, sizeof(m));
	d->mark.mark = m.mark;
	d->mark.mask = m.mask;
	d->mark.invert = m.invert;
	return true;
}

static bool dec_comment(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	d->comment = field_str(c, (const char *)info + offsetof(struct xt_comment_info, comment), XT_MAX_COMMENT_LEN);
	return true;
}

static bool dec_addrtype0(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_addrtype_info m;

	memcpy(&m, info, sizeof(m));
	d->addrtype.source = m.source;
	d->addrtype.dest = m.dest;
	d->addrtype.invert_source = m.invert_source;
	d->addrtype.invert_dest = m.invert_dest;
	return true;
}

static bool dec_addrtype1(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_addrtype_info_v1 m;

	memcpy(&m, info, sizeof(m));
	d->addrtype.source = m.source;
	d->addrtype.dest = m.dest;
	d->addrtype.invert_source = m.flags & XT_ADDRTYPE_INVERT_SOURCE;
	d->addrtype.invert_dest = m.flags & XT_ADDRTYPE_INVERT_DEST;
	d->addrtype.limit_iface_in = m.flags & XT_ADDRTYPE_LIMIT_IFACE_IN;
	d->addrtype.limit_iface_out = m.flags & XT_ADDRTYPE_LIMIT_IFACE_OUT;
	return true;
}

static bool dec_iprange1(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_iprange_mtinfo m;

	memcpy(&m, info, sizeof(m));
	d->iprange.flags = m.flags;
	addr_from_inet(&d->iprange.src_min, &m.src_min, d->nfproto);
	addr_from_inet(&d->iprange.src_max, &m.src_max, d->nfproto);
	addr_from_inet(&d->iprange.dst_min, &m.dst_min, d->nfproto);
	addr_from_inet(&d->iprange.dst_max, &m.dst_max, d->nfproto);
	return true;
}

static bool dec_pkttype(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_pkttype_info m;

	memcpy(&m, info, sizeof(m));
	d->pkttype.pkttype = m.pkttype;
	d->pkttype.invert = m.invert;
	return true;
}

static bool set_info_decode(struct xt_decoded *d, const struct xt_set_info *s)
{
	/* The kernel refuses dim 0 or above IPSET_DIM_MAX at checkentry. */
	if (s->dim < IPSET_DIM_ONE || s->dim > IPSET_DIM_MAX)
		return false;
	d->set.index = s->index;
	d->set.dim = s->dim;
	d->set.flags = s->flags;
	return true;
}

static bool dec_set1(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_set_info_match_v1 m;

	memcpy(&m, info, sizeof(m));
	return set_info_decode(d, &m.match_set);
}

static bool dec_set3(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_set_info_match_v3 m;

	memcpy(&m, info, sizeof(m));
	d->set.v3_flags = m.flags;
	d->set.packets.op = m.packets.op;
	d->set.packets.value = m.packets.value;
	d->set.bytes.op = m.bytes.op;
	d->set.bytes.value = m.bytes.value;
	return set_info_decode(d, &m.match_set);
}

static bool dec_set4(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_set_info_match_v4 m;

	memcpy(&m, info, sizeof(m));
	d->set.v3_flags = m.flags;
	d->set.packets.op = m.packets.op;
	d->set.packets.value = m.packets.value;
	d->set.bytes.op = m.bytes.op;
	d->set.bytes.value = m.bytes.value;
	return set_info_decode(d, &m.match_set);
}

static bool dec_statistic(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_statistic_info m;

	memcpy(&m, info, sizeof(m));
	if (m.mode > XT_STATISTIC_MODE_MAX)
		return false;
	d->statistic.mode = m.mode;
	d->statistic.flags = m.flags;
	if (m.mode == XT_STATISTIC_MODE_RANDOM) {
		d->statistic.probability = m.u.random.probability;
	} else {
		d->statistic.every = m.u.nth.every;
		d->statistic.packet = m.u.nth.packet;
	}
	return true;
}

static bool dec_limit(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_rateinfo m;

	memcpy(&m, info, sizeof(m));
	d->limit.avg = m.avg;
	d->limit.burst = m.burst;
	return true;
}

/* ---- targets ------------------------------------------------------------ */

static bool dec_standard(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	memcpy(&d->standard.verdict, info, sizeof(int));
	return true;
}

static bool dec_reject(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	uint32_t with;

	memcpy(&with, info, sizeof(with));
	/* Both enums end at 8 (IPT_ICMP_ADMIN_PROHIBITED, IP6T_ICMP6_REJECT_ROUTE). */
	if (with > 8)
		return false;
	d->reject.with = with;
	return true;
}

static bool dec_mark_tg2(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_mark_tginfo2 m;

	memcpy(&m, info, sizeof(m));
	d->mark_tg.mark = m.mark;
	d->mark_tg.mask = m.mask;
	return true;
}

static bool dec_connmark_tg1(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_connmark_tginfo1 m;

	memcpy(&m, info, sizeof(m));
	if (m.mode > XT_CONNMARK_RESTORE)
		return false;
	d->connmark_tg.mode = m.mode;
	d->connmark_tg.ctmark = m.ctmark;
	d->connmark_tg.ctmask = m.ctmask;
	d->connmark_tg.nfmask = m.nfmask;
	return true;
}

static bool dec_connmark_tg2(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_connmark_tginfo2 m;

	memcpy(&m, info, sizeof(m));
	/* connmark_tg_check() refuses these */
	if (m.mode > XT_CONNMARK_RESTORE || m.shift_dir > D_SHIFT_RIGHT || m.shift_bits > 31)
		return false;
	d->connmark_tg.mode = m.mode;
	d->connmark_tg.ctmark = m.ctmark;
	d->connmark_tg.ctmask = m.ctmask;
	d->connmark_tg.nfmask = m.nfmask;
	d->connmark_tg.shift_dir = m.shift_dir;
	d->connmark_tg.shift_bits = m.shift_bits;
	return true;
}

static bool dec_nat_mrc(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct nf_nat_ipv4_multi_range_compat m;

	memcpy(&m, info, sizeof(m));
	/* xt_nat_checkentry_v0(): exactly one range */
	if (m.rangesize != 1)
		return false;
	d->nat.flags = m.range[0].flags;
	addr_from_be32(&d->nat.min_addr, m.range[0].min_ip);
	addr_from_be32(&d->nat.max_addr, m.range[0].max_ip);
	d->nat.min_port = ntohs(m.range[0].min.all);
	d->nat.max_port = ntohs(m.range[0].max.all);
	return true;
}

static bool dec_nat_range1(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct nf_nat_range m;

	memcpy(&m, info, sizeof(m));
	d->nat.flags = m.flags;
	addr_from_inet(&d->nat.min_addr, &m.min_addr, d->nfproto);
	addr_from_inet(&d->nat.max_addr, &m.max_addr, d->nfproto);
	d->nat.min_port = ntohs(m.min_proto.all);
	d->nat.max_port = ntohs(m.max_proto.all);
	return true;
}

static bool dec_nat_range2(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct nf_nat_range2 m;

	memcpy(&m, info, sizeof(m));
	d->nat.flags = m.flags;
	addr_from_inet(&d->nat.min_addr, &m.min_addr, d->nfproto);
	addr_from_inet(&d->nat.max_addr, &m.max_addr, d->nfproto);
	d->nat.min_port = ntohs(m.min_proto.all);
	d->nat.max_port = ntohs(m.max_proto.all);
	d->nat.base_port = ntohs(m.base_proto.all);
	return true;
}

static bool dec_log(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_log_info m;

	memcpy(&m, info, sizeof(m));
	d->log.level = m.level;
	d->log.logflags = m.logflags;
	d->log.prefix = field_str(c, (const char *)info + offsetof(struct xt_log_info, prefix), sizeof(m.prefix));
	return true;
}

static bool dec_nflog(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_nflog_info m;

	memcpy(&m, info, sizeof(m));
	d->nflog.len = m.len;
	d->nflog.group = m.group;
	d->nflog.threshold = m.threshold;
	d->nflog.flags = m.flags;
	d->nflog.prefix = field_str(c, (const char *)info + offsetof(struct xt_nflog_info, prefix), sizeof(m.prefix));
	return true;
}

static bool dec_trace(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	return true;
}

static bool dec_ct0(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_ct_target_info m;

	memcpy(&m, info, sizeof(m));
	d->ct.flags = m.flags;
	d->ct.zone = m.zone;
	d->ct.ct_events = m.ct_events;
	d->ct.exp_events = m.exp_events;
	d->ct.helper = field_str(c, (const char *)info + offsetof(struct xt_ct_target_info, helper), sizeof(m.helper));
	d->ct.timeout = "";
	return true;
}

static bool dec_ct1(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	struct xt_ct_target_info_v1 m;

	memcpy(&m, info, sizeof(m));
	d->ct.flags = m.flags;
	d->ct.zone = m.zone;
	d->ct.ct_events = m.ct_events;
	d->ct.exp_events = m.exp_events;
	d->ct.helper = field_str(c, (const char *)info + offsetof(struct xt_ct_target_info_v1, helper),
				 sizeof(m.helper));
	d->ct.timeout = field_str(c, (const char *)info + offsetof(struct xt_ct_target_info_v1, timeout),
				  sizeof(m.timeout));
	return true;
}

/* The old NOTRACK target (no payload) did what CT --notrack does now. */
static bool dec_notrack(struct xt_decoded *d, const void *info, struct dec_ctx *c)
{
	d->ct.flags = XT_CT_NOTRACK;
	d->ct.helper = "";
	d->ct.timeout = "";
	return true;
}

#define M false
#define T true
#define MEMBER_SIZE(m) sizeof(((struct xt_decoded *)0)->m)
#define ANY NFPROTO_UNSPEC
#define V4 NFPROTO_IPV4
#define V6 NFPROTO_IPV6

static const struct xt_ext xt_exts[] = {
	{ "tcp",        M, 0, 0, ANY, XT_MATCH_TCP,        sizeof(struct xt_tcp), dec_tcp, MEMBER_SIZE(tcpudp) },
	{ "udp",        M, 0, 0, ANY, XT_MATCH_UDP,        sizeof(struct xt_udp), dec_udp, MEMBER_SIZE(tcpudp) },
	{ "udplite",    M, 0, 0, ANY, XT_MATCH_UDP,        sizeof(struct xt_udp), dec_udp, MEMBER_SIZE(tcpudp) },
	{ "icmp",       M, 0, 0, V4,  XT_MATCH_ICMP,       sizeof(struct ipt_icmp), dec_icmp, MEMBER_SIZE(icmp) },
	{ "icmp6",      M, 0, 0, V6,  XT_MATCH_ICMP6,      sizeof(struct ip6t_icmp), dec_icmp6, MEMBER_SIZE(icmp) },
	{ "multiport",  M, 0, 0, ANY, XT_MATCH_MULTIPORT,  sizeof(struct xt_multiport), dec_multiport0, MEMBER_SIZE(multiport) },
	{ "multiport",  M, 1, 1, ANY, XT_MATCH_MULTIPORT,  sizeof(struct xt_multiport_v1), dec_multiport1, MEMBER_SIZE(multiport) },
	{ "conntrack",  M, 1, 1, ANY, XT_MATCH_CONNTRACK,  sizeof(struct xt_conntrack_mtinfo1), dec_conntrack1, MEMBER_SIZE(conntrack) },
	{ "conntrack",  M, 2, 2, ANY, XT_MATCH_CONNTRACK,  sizeof(struct xt_conntrack_mtinfo2), dec_conntrack2, MEMBER_SIZE(conntrack) },
	{ "conntrack",  M, 3, 3, ANY, XT_MATCH_CONNTRACK,  sizeof(struct xt_conntrack_mtinfo3), dec_conntrack3, MEMBER_SIZE(conntrack) },
	{ "state",      M, 0, 0, ANY, XT_MATCH_STATE,      sizeof(struct xt_state_info), dec_state, MEMBER_SIZE(state) },
	{ "mark",       M, 1, 1, ANY, XT_MATCH_MARK,       sizeof(struct xt_mark_mtinfo1), dec_mark1, MEMBER_SIZE(mark) },
	{ "connmark",   M, 1, 1, ANY, XT_MATCH_CONNMARK,   sizeof(struct xt_connmark_mtinfo1), dec_connmark1, MEMBER_SIZE(mark) },
	{ "comment",    M, 0, 0, ANY, XT_MATCH_COMMENT,    sizeof(struct xt_comment_info), dec_comment, MEMBER_SIZE(comment) },
	{ "addrtype",   M, 0, 0, V4,  XT_MATCH_ADDRTYPE,   sizeof(struct xt_addrtype_info), dec_addrtype0, MEMBER_SIZE(addrtype) },
	{ "addrtype",   M, 1, 1, ANY, XT_MATCH_ADDRTYPE,   sizeof(struct xt_addrtype_info_v1), dec_addrtype1, MEMBER_SIZE(addrtype) },
	{ "iprange",    M, 1, 1, ANY, XT_MATCH_IPRANGE,    sizeof(struct xt_iprange_mtinfo), dec_iprange1, MEMBER_SIZE(iprange) },
	{ "pkttype",    M, 0, 0, ANY, XT_MATCH_PKTTYPE,    sizeof(struct xt_pkttype_info), dec_pkttype, MEMBER_SIZE(pkttype) },
	{ "set",        M, 1, 2, ANY, XT_MATCH_SET,        sizeof(struct xt_set_info_match_v1), dec_set1, MEMBER_SIZE(set) },
	{ "set",        M, 3, 3, ANY, XT_MATCH_SET,        sizeof(struct xt_set_info_match_v3), dec_set3, MEMBER_SIZE(set) },
	{ "set",        M, 4, 4, ANY, XT_MATCH_SET,        sizeof(struct xt_set_info_match_v4), dec_set4, MEMBER_SIZE(set) },
	{ "statistic",  M, 0, 0, ANY, XT_MATCH_STATISTIC,  sizeof(struct xt_statistic_info), dec_statistic, MEMBER_SIZE(statistic) },
	{ "limit",      M, 0, 0, ANY, XT_MATCH_LIMIT,      sizeof(struct xt_rateinfo), dec_limit, MEMBER_SIZE(limit) },

	{ XT_STANDARD_TARGET, T, 0, 0, ANY, XT_TARGET_STANDARD, sizeof(int), dec_standard, MEMBER_SIZE(standard) },
	{ "REJECT",     T, 0, 0, V4,  XT_TARGET_REJECT,    sizeof(struct ipt_reject_info), dec_reject, MEMBER_SIZE(reject) },
	{ "REJECT",     T, 0, 0, V6,  XT_TARGET_REJECT,    sizeof(struct ip6t_reject_info), dec_reject, MEMBER_SIZE(reject) },
	{ "MARK",       T, 2, 2, ANY, XT_TARGET_MARK,      sizeof(struct xt_mark_tginfo2), dec_mark_tg2, MEMBER_SIZE(mark_tg) },
	{ "CONNMARK",   T, 1, 1, ANY, XT_TARGET_CONNMARK,  sizeof(struct xt_connmark_tginfo1), dec_connmark_tg1, MEMBER_SIZE(connmark_tg) },
	{ "CONNMARK",   T, 2, 2, ANY, XT_TARGET_CONNMARK,  sizeof(struct xt_connmark_tginfo2), dec_connmark_tg2, MEMBER_SIZE(connmark_tg) },
	{ "DNAT",       T, 0, 0, V4,  XT_TARGET_DNAT,      sizeof(struct nf_nat_ipv4_multi_range_compat), dec_nat_mrc, MEMBER_SIZE(nat) },
	{ "DNAT",       T, 1, 1, ANY, XT_TARGET_DNAT,      sizeof(struct nf_nat_range), dec_nat_range1, MEMBER_SIZE(nat) },
	{ "DNAT",       T, 2, 2, ANY, XT_TARGET_DNAT,      sizeof(struct nf_nat_range2), dec_nat_range2, MEMBER_SIZE(nat) },
	{ "SNAT",       T, 0, 0, V4,  XT_TARGET_SNAT,      sizeof(struct nf_nat_ipv4_multi_range_compat), dec_nat_mrc, MEMBER_SIZE(nat) },
	{ "SNAT",       T, 1, 1, ANY, XT_TARGET_SNAT,      sizeof(struct nf_nat_range), dec_nat_range1, MEMBER_SIZE(nat) },
	{ "SNAT",       T, 2, 2, ANY, XT_TARGET_SNAT,      sizeof(struct nf_nat_range2), dec_nat_range2, MEMBER_SIZE(nat) },
	{ "MASQUERADE", T, 0, 0, V4,  XT_TARGET_MASQUERADE, sizeof(struct nf_nat_ipv4_multi_range_compat), dec_nat_mrc, MEMBER_SIZE(nat) },
	{ "MASQUERADE", T, 0, 0, V6,  XT_TARGET_MASQUERADE, sizeof(struct nf_nat_range), dec_nat_range1, MEMBER_SIZE(nat) },
	{ "REDIRECT",   T, 0, 0, V4,  XT_TARGET_REDIRECT,  sizeof(struct nf_nat_ipv4_multi_range_compat), dec_nat_mrc, MEMBER_SIZE(nat) },
	{ "REDIRECT",   T, 0, 0, V6,  XT_TARGET_REDIRECT,  sizeof(struct nf_nat_range), dec_nat_range1, MEMBER_SIZE(nat) },
	{ "LOG",        T, 0, 0, ANY, XT_TARGET_LOG,       sizeof(struct xt_log_info), dec_log, MEMBER_SIZE(log) },
	{ "NFLOG",      T, 0, 0, ANY, XT_TARGET_NFLOG,     sizeof(struct xt_nflog_info), dec_nflog, MEMBER_SIZE(nflog) },
	{ "TRACE",      T, 0, 0, ANY, XT_TARGET_TRACE,     0, dec_trace, 0 },
	{ "CT",         T, 0, 0, ANY, XT_TARGET_CT,        sizeof(struct xt_ct_target_info), dec_ct0, MEMBER_SIZE(ct) },
	{ "CT",         T, 1, 2, ANY, XT_TARGET_CT,        sizeof(struct xt_ct_target_info_v1), dec_ct1, MEMBER_SIZE(ct) },
	{ "NOTRACK",    T, 0, 0, ANY, XT_TARGET_CT,        0, dec_notrack, MEMBER_SIZE(ct) },
};

#undef MEMBER_SIZE
#undef M
#undef T
#undef ANY
#undef V4
#undef V6

const char *xt_known_name(bool target, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(xt_exts); i++)
		if (xt_exts[i].target == target && xt_exts[i].name[0] == name[0] &&
		    strcmp(xt_exts[i].name, name) == 0)
			return xt_exts[i].name;
	return NULL;
}

static const struct xt_ext *ext_find(bool target, const char *name, uint8_t revision, uint8_t nfproto)
{
	for (size_t i = 0; i < ARRAY_SIZE(xt_exts); i++) {
		const struct xt_ext *x = &xt_exts[i];

		/* called per match of every rule: skip strcmp() when it cannot match */
		if (x->target != target || x->name[0] != name[0] ||
		    (x->name != name && strcmp(x->name, name) != 0))
			continue;
		if (revision < x->rev_min || revision > x->rev_max)
			continue;
		if (x->family != NFPROTO_UNSPEC && x->family != nfproto)
			continue;
		return x;
	}
	return NULL;
}

/* The kernel stores XT_ALIGN(size) bytes (legacy entries, nft_compat dumps);
 * a producer that did not pad sends exactly size. Anything else is not this
 * struct. */
static bool len_ok(uint32_t len, uint32_t size)
{
	return len == size || len == XT_ALIGN(size);
}

static const struct xt_decoded *decode(struct arena *a, bool own_strings, bool target, const char *name,
				       uint8_t revision, uint8_t nfproto, const void *info, uint32_t len)
{
	struct dec_ctx ctx = { .arena = a, .own_strings = own_strings };
	const struct xt_ext *x;
	struct xt_decoded *d;

	if (!name)
		return NULL;
	if (nfproto != NFPROTO_IPV4 && nfproto != NFPROTO_IPV6) {
		log_debug("xt %s '%s': family %u is not IPv4/IPv6, not decoded",
			  target ? "target" : "match", name, nfproto);
		return NULL;
	}
	x = ext_find(target, name, revision, nfproto);
	if (!x) {
		log_debug("xt %s '%s' revision %u (%s): not supported, evaluates as unknown",
			  target ? "target" : "match", name, revision,
			  nfproto == NFPROTO_IPV6 ? "ip6" : "ip");
		return NULL;
	}
	if (!len_ok(len, x->size) || (len && !info)) {
		log_debug("xt %s '%s' revision %u: %u bytes of info, the kernel's struct has %u (%u aligned); ignored",
			  target ? "target" : "match", name, revision, len, x->size,
			  (unsigned)XT_ALIGN(x->size));
		return NULL;
	}

	/* Only the union member this extension uses is allocated: a ruleset
	 * of 300k rules holds a million of these. */
	d = arena_alloc(a, offsetof(struct xt_decoded, tcpudp) + x->dec_size);
	d->kind = x->kind;
	d->target = target;
	d->revision = revision;
	d->nfproto = nfproto;
	d->name = x->name;
	if (!x->decode(d, info, &ctx)) {
		log_debug("xt %s '%s' revision %u: values the kernel would refuse; ignored",
			  target ? "target" : "match", name, revision);
		return NULL;     /* the arena keeps the bytes until the ruleset goes */
	}
	return d;
}

const struct xt_decoded *xt_decode(struct arena *a, bool target, const char *name, uint8_t revision,
				   uint8_t nfproto, const void *info, uint32_t len)
{
	return decode(a, false, target, name, revision, nfproto, info, len);
}

const struct xt_decoded *xt_decode_owned(struct arena *a, bool target, const char *name, uint8_t revision,
					 uint8_t nfproto, const void *info, uint32_t len)
{
	return decode(a, true, target, name, revision, nfproto, info, len);
}


/* --- shared decoded values -------------------------------------------------
 * A kube-proxy table says the same things over and over, close together:
 * a service's rules carry its comment blob (256 bytes), its endpoint
 * chains the same few statistic matches. Identical blobs decode to
 * identical values, so a bounded cache of the blobs decoded last gives
 * repeats the value already made. Bounded: most blobs of a large table
 * are distinct (an endpoint's comment and DNAT range), and remembering
 * every one would cost more than it saves. */

#define XT_INTERN_SLOTS 4096    /* a power of two */

struct intern_entry {
	uint64_t hash;
	const struct xt_decoded *d;     /* NULL: an empty slot */
	const char *name;               /* the decoder's copy */
	uint8_t target, revision, nfproto;
	uint32_t len;
	uint32_t keep;                  /* the blob's bytes up to its last non-zero one */
	void *info;                     /* a copy of those (owned): a comment blob is 256
					 * bytes, mostly the zeros after the text */
	uint32_t cap;
};

static uint32_t nonzero_len(const uint8_t *p, uint32_t len)
{
	while (len && !p[len - 1])
		len--;
	return len;
}

struct xt_intern {
	struct intern_entry slots[XT_INTERN_SLOTS];
};

struct xt_intern *xt_intern_new(void)
{
	return xcalloc(1, sizeof(struct xt_intern));
}

void xt_intern_free(struct xt_intern *xi)
{
	if (!xi)
		return;
	for (size_t i = 0; i < XT_INTERN_SLOTS; i++)
		free(xi->slots[i].info);
	free(xi);
}

const struct xt_decoded *xt_decode_interned(struct xt_intern *xi, struct arena *a, bool target,
					    const char *name, uint8_t revision, uint8_t nfproto,
					    const void *info, uint32_t len)
{
	const struct xt_decoded *d;
	struct intern_entry *s;
	uint32_t keep;
	uint64_t h;

	if (!xi || !name || (len && !info))
		return xt_decode_owned(a, target, name, revision, nfproto, info, len);
	/* the first bytes tell blobs apart (a comment's text, a range's
	 * addresses); a collision only costs a cache miss: memcmp decides */
	h = hash_bytes(info, len < 64 ? len : 64) ^ hash_bytes(name, (uint32_t)strlen(name)) * 0x9e3779b97f4a7c15ULL ^
	    (uint64_t)len << 32 ^
	    ((uint64_t)target << 8 | (uint64_t)revision << 16 | (uint64_t)nfproto << 24);
	s = &xi->slots[h & (XT_INTERN_SLOTS - 1)];
	keep = len ? nonzero_len(info, len) : 0;
	if (s->d && s->hash == h && s->target == target && s->revision == revision && s->nfproto == nfproto &&
	    s->len == len && s->keep == keep && strcmp(s->name, name) == 0 &&
	    (!keep || memcmp(s->info, info, keep) == 0))
		return s->d;
	d = xt_decode_owned(a, target, name, revision, nfproto, info, len);
	if (!d)
		return NULL;    /* not remembered: the caller keeps the blob */
	if (keep > s->cap) {
		free(s->info);
		s->info = xmalloc(keep);
		s->cap = keep;
	}
	if (keep)
		memcpy(s->info, info, keep);
	s->keep = keep;
	s->hash = h;
	s->d = d;
	s->name = d->name;
	s->target = target;
	s->revision = revision;
	s->nfproto = nfproto;
	s->len = len;
	return d;
}
