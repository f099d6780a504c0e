/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The xt decoder (lengths, revisions, families, malformed blobs) and the
 * matcher / target effects on crafted packets, against what the kernel's
 * xt_*.c modules do. */
#include "config.h"

#include <net/if.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_CONNMARK.h>
#include <linux/netfilter/xt_CT.h>
#include <linux/netfilter/xt_LOG.h>
#include <linux/netfilter/xt_MARK.h>
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
#include <linux/netfilter/xt_length.h>
#include <linux/netfilter/xt_dscp.h>
#include <linux/netfilter/xt_ecn.h>
#include <linux/netfilter/xt_devgroup.h>
#include <linux/netfilter/xt_owner.h>
#include <linux/netfilter/xt_physdev.h>
#include <linux/netfilter/xt_mac.h>
#include <linux/netfilter/xt_TEE.h>
#include <linux/if_arp.h>
#include <linux/netfilter/xt_CHECKSUM.h>
#include <linux/netfilter/xt_AUDIT.h>
#include <linux/netfilter/xt_IDLETIMER.h>
#include <linux/netfilter_ipv4/ipt_ttl.h>
#include <linux/netfilter_ipv6/ip6t_frag.h>
#include <linux/netfilter_ipv6/ip6t_ipv6header.h>
#include <linux/netfilter_ipv6/ip6t_opts.h>
#include <linux/netfilter_ipv6/ip6t_rt.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/xt.h"
#include "../lib/test.h"

static struct arena A;

#define V4 NFPROTO_IPV4
#define V6 NFPROTO_IPV6

static const struct xt_decoded *dec(bool target, const char *name, uint8_t rev, uint8_t fam,
				    const void *info, uint32_t len)
{
	return xt_decode(&A, target, name, rev, fam, info, len);
}

#define DEC_M(name, rev, fam, obj) dec(false, name, rev, fam, &(obj), XT_ALIGN(sizeof(obj)))
#define DEC_T(name, rev, fam, obj) dec(true, name, rev, fam, &(obj), XT_ALIGN(sizeof(obj)))

static struct cg_addr A4(const char *s)
{
	struct cg_addr a;

	if (addr_parse(s, &a) < 0)
		abort();
	return a;
}

/* An established UDP reply from 100.100.2.136:53 to 10.0.0.5:40000, as a
 * DNS reply arrives on eth0 (the design's reply direction). */
static struct cg_packet reply_pkt(void)
{
	struct cg_packet p = { 0 };

	p.nfproto = V4;
	p.src = A4("100.100.2.136");
	p.dst = A4("10.0.0.5");
	p.l4proto = IPPROTO_UDP;
	p.sport = 53;
	p.dport = 40000;
	strcpy(p.iif.name, "eth0");
	p.pkttype = PACKET_HOST;
	p.ct.state = CG_CT_ESTABLISHED;
	p.ct.dir = IP_CT_DIR_REPLY;
	p.ct.status = IPS_SEEN_REPLY | IPS_CONFIRMED;
	p.ct.orig = (struct cg_tuple){ A4("10.0.0.5"), A4("100.100.2.136"), 40000, 53 };
	p.ct.reply = (struct cg_tuple){ A4("100.100.2.136"), A4("10.0.0.5"), 53, 40000 };
	return p;
}

/* ---- decoder -------------------------------------------------------------- */

static void test_lengths(void)
{
	struct xt_tcp tcp = { .spts = { 0, 0xffff }, .dpts = { 22, 22 } };
	struct xt_udp udp = { .spts = { 0, 0xffff }, .dpts = { 53, 53 } };
	struct xt_conntrack_mtinfo3 ct3 = { 0 };
	struct xt_conntrack_mtinfo2 ct2 = { 0 };
	struct xt_conntrack_mtinfo1 ct1 = { 0 };
	uint8_t big[512] = { 0 };

	/* exact and XT_ALIGNed sizes are accepted, anything else is not */
	CHECK(dec(false, "tcp", 0, V4, &tcp, sizeof(tcp)) != NULL);
	CHECK(dec(false, "tcp", 0, V4, &tcp, XT_ALIGN(sizeof(tcp))) != NULL);
	CHECK(dec(false, "tcp", 0, V4, &tcp, sizeof(tcp) - 1) == NULL);
	CHECK(dec(false, "tcp", 0, V4, big, XT_ALIGN(sizeof(tcp)) + 8) == NULL);
	CHECK(dec(false, "tcp", 0, V4, NULL, 16) == NULL);
	CHECK(dec(false, "tcp", 0, V4, big, 0) == NULL);
	CHECK(dec(false, "udp", 0, V4, &udp, sizeof(udp)) != NULL);
	CHECK(dec(false, "udp", 0, V4, &udp, 16) != NULL);
	CHECK(dec(false, "udp", 0, V4, &udp, 12) == NULL);

	/* each conntrack revision has its own struct */
	CHECK(DEC_M("conntrack", 1, V4, ct1) != NULL);
	CHECK(DEC_M("conntrack", 2, V4, ct2) != NULL);
	CHECK(DEC_M("conntrack", 3, V6, ct3) != NULL);
	CHECK(dec(false, "conntrack", 3, V4, big, XT_ALIGN(sizeof(ct2))) == NULL);
	CHECK(dec(false, "conntrack", 2, V4, big, XT_ALIGN(sizeof(ct3))) == NULL);
	CHECK(dec(false, "conntrack", 1, V4, big, XT_ALIGN(sizeof(ct2))) == NULL);

	/* a match name is not a target name */
	CHECK(dec(true, "tcp", 0, V4, &tcp, sizeof(tcp)) == NULL);
	CHECK(dec(false, "MARK", 2, V4, big, 8) == NULL);
	/* families the decoder does not speak */
	CHECK(dec(false, "tcp", 0, NFPROTO_BRIDGE, &tcp, sizeof(tcp)) == NULL);
}

static void test_revisions(void)
{
	struct xt_conntrack_mtinfo3 ct3 = { 0 };
	struct xt_mark_mtinfo1 mark = { .mark = 1, .mask = ~0u };
	struct xt_mark_tginfo2 mtg = { .mark = 1, .mask = 1 };
	struct nf_nat_ipv4_multi_range_compat mrc = { .rangesize = 1 };
	struct nf_nat_range r1 = { 0 };
	struct nf_nat_range2 r2 = { 0 };
	struct ipt_icmp icmp = { .type = 8, .code = { 0, 0xff } };
	const struct xt_decoded *d;

	CHECK(DEC_M("conntrack", 0, V4, ct3) == NULL);
	CHECK(DEC_M("conntrack", 4, V4, ct3) == NULL);
	CHECK(DEC_M("mark", 0, V4, mark) == NULL);
	d = DEC_M("mark", 1, V4, mark);
	CHECK(d && d->kind == XT_MATCH_MARK && d->revision == 1 && !strcmp(d->name, "mark"));
	CHECK(DEC_T("MARK", 1, V4, mtg) == NULL);
	CHECK(DEC_T("MARK", 2, V4, mtg) != NULL);

	/* NAT: rev 0 is the IPv4 compat struct, 1 and 2 any family */
	d = DEC_T("DNAT", 0, V4, mrc);
	CHECK(d && d->kind == XT_TARGET_DNAT);
	CHECK(DEC_T("DNAT", 0, V6, mrc) == NULL);
	CHECK(DEC_T("SNAT", 1, V6, r1) != NULL);
	CHECK(DEC_T("DNAT", 2, V4, r2) != NULL);
	CHECK(DEC_T("DNAT", 3, V4, r2) == NULL);
	CHECK(DEC_T("MASQUERADE", 0, V4, mrc) != NULL);
	CHECK(DEC_T("MASQUERADE", 0, V6, r1) != NULL);
	CHECK(DEC_T("MASQUERADE", 0, V6, mrc) == NULL);   /* wrong size for IPv6 */

	/* icmp is IPv4's, icmp6 IPv6's */
	CHECK(DEC_M("icmp", 0, V4, icmp) != NULL);
	CHECK(DEC_M("icmp", 0, V6, icmp) == NULL);
	CHECK(DEC_M("icmp6", 0, V6, icmp) != NULL);

	/* unknown extensions are NULL, not a guess */
	CHECK(dec(false, "recent", 0, V4, &ct3, 64) == NULL);
	CHECK(dec(true, "TPROXY", 1, V4, &ct3, 64) == NULL);
}

static void test_values(void)
{
	struct xt_conntrack_mtinfo1 ct1 = { 0 };
	struct xt_conntrack_mtinfo3 ct3 = { 0 };
	struct xt_multiport_v1 mp = { .flags = XT_MULTIPORT_DESTINATION, .count = 16 };
	struct xt_connmark_tginfo2 cm = { .mode = XT_CONNMARK_SAVE, .shift_dir = 2 };
	struct nf_nat_ipv4_multi_range_compat mrc = { .rangesize = 2 };
	struct nf_nat_range2 r2 = { .flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED };
	struct xt_statistic_info st = { .mode = 7 };
	struct xt_comment_info com;
	struct xt_set_info_match_v1 set = { .match_set = { .index = 3, .dim = 0 } };
	uint32_t reject = 9;
	const struct xt_decoded *d;

	/* values the kernel's checkentry refuses are refused here too */
	CHECK(DEC_M("multiport", 1, V4, mp) == NULL);
	CHECK(DEC_T("CONNMARK", 2, V4, cm) == NULL);
	CHECK(DEC_T("DNAT", 0, V4, mrc) == NULL);
	CHECK(DEC_M("statistic", 0, V4, st) == NULL);
	CHECK(DEC_M("set", 1, V4, set) == NULL);
	CHECK(dec(true, "REJECT", 0, V4, &reject, 4) == NULL);

	/* rev 1 ports are big endian and single; rev 3 host order ranges */
	ct1.match_flags = XT_CONNTRACK_ORIGDST_PORT;
	ct1.origdst_port = htons(53);
	ct1.state_mask = XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED);
	d = DEC_M("conntrack", 1, V4, ct1);
	CHECK(d && d->conntrack.origdst_port.lo == 53 && d->conntrack.origdst_port.hi == 53);
	CHECK(d && d->conntrack.state_mask == XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED));
	ct3.origdst_port = 1000;
	ct3.origdst_port_high = 2000;
	d = DEC_M("conntrack", 3, V4, ct3);
	CHECK(d && d->conntrack.origdst_port.lo == 1000 && d->conntrack.origdst_port.hi == 2000);

	/* NAT ports come out in host order, addresses by family */
	inet_pton(AF_INET6, "2001:db8::2", &r2.min_addr.in6);
	r2.max_addr = r2.min_addr;
	r2.min_proto.all = htons(8080);
	r2.max_proto.all = htons(8081);
	d = DEC_T("DNAT", 2, V6, r2);
	CHECK(d && d->nat.min_port == 8080 && d->nat.max_port == 8081);
	CHECK(d && d->nat.min_addr.family == AF_INET6 && d->nat.min_addr.bytes[15] == 2);

	/* an unterminated comment stays within its field */
	memset(com.comment, 'x', sizeof(com.comment));
	d = DEC_M("comment", 0, V4, com);
	CHECK(d && strlen(d->comment) == XT_MAX_COMMENT_LEN);

	/* targets without payload */
	CHECK(dec(true, "TRACE", 0, V4, NULL, 0) != NULL);
	d = dec(true, "NOTRACK", 0, V6, NULL, 0);
	CHECK(d && d->kind == XT_TARGET_CT && (d->ct.flags & XT_CT_NOTRACK));
}

/* Random bytes of every length for every known name: nothing may read
 * outside the blob (ASan/UBSan builds check this). */
static void test_garbage(void)
{
	static const char *const names[] = {
		"tcp", "udp", "udplite", "icmp", "icmp6", "multiport", "conntrack", "state", "mark",
		"connmark", "comment", "addrtype", "iprange", "pkttype", "set", "statistic", "limit",
		"", "REJECT", "MARK", "CONNMARK", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "LOG",
		"NFLOG", "TRACE", "CT", "NOTRACK",
		"length", "ttl", "hl", "tos", "dscp", "ecn", "frag", "hbh", "dst", "rt", "ah", "ipv6header",
		"devgroup", "owner", "TOS", "DSCP", "TTL", "HL", "ECN", "CLASSIFY", "TCPMSS", "TCPOPTSTRIP",
		"CHECKSUM", "IDLETIMER", "RATEEST", "AUDIT", "TEE", "physdev", "mac",
	};
	uint32_t seed = 12345;
	unsigned decoded = 0;

	for (unsigned n = 0; n < ARRAY_SIZE(names); n++)
		for (unsigned rev = 0; rev < 5; rev++)
			for (uint32_t len = 0; len <= 264; len++) {
				uint8_t *buf = xmalloc(len ? len : 1);
				struct cg_packet p = reply_pkt();
				struct xt_target_result res;
				const struct xt_decoded *d;

				for (uint32_t i = 0; i < len; i++) {
					seed = seed * 1103515245u + 12345u;
					buf[i] = (uint8_t)(seed >> 16);
				}
				for (int fam = 0; fam < 2; fam++) {
					bool target = names[n][0] == '\0' || (names[n][0] >= 'A' && names[n][0] <= 'Z');

					d = dec(target, names[n], (uint8_t)rev, fam ? V6 : V4, buf, len);
					if (!d)
						continue;
					decoded++;
					if (target)
						(void)xt_target_apply(d, &p, &res);
					else
						(void)xt_match(d, &p, NULL);
				}
				free(buf);
			}
	CHECK(decoded > 0);
}

/* ---- matches ---------------------------------------------------------------- */

static const struct xt_decoded *ct3(uint16_t flags, uint16_t inv, uint16_t states)
{
	struct xt_conntrack_mtinfo3 m = { .match_flags = flags, .invert_flags = inv, .state_mask = states };

	return DEC_M("conntrack", 3, V4, m);
}

#define EST XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED)
#define REL XT_CONNTRACK_STATE_BIT(IP_CT_RELATED)
#define NEW XT_CONNTRACK_STATE_BIT(IP_CT_NEW)

static void test_conntrack_state(void)
{
	struct cg_packet p = reply_pkt();
	const struct xt_decoded *est_rel = ct3(XT_CONNTRACK_STATE, 0, EST | REL);
	const struct xt_decoded *not_est_rel = ct3(XT_CONNTRACK_STATE, XT_CONNTRACK_STATE, EST | REL);
	const struct xt_decoded *invalid = ct3(XT_CONNTRACK_STATE, 0, XT_CONNTRACK_STATE_INVALID);
	const struct xt_decoded *untracked = ct3(XT_CONNTRACK_STATE, 0, XT_CONNTRACK_STATE_UNTRACKED);
	const struct xt_decoded *dnat = ct3(XT_CONNTRACK_STATE, 0, XT_CONNTRACK_STATE_DNAT);

	CHECK(xt_match(est_rel, &p, NULL) == TRI_TRUE);
	CHECK(xt_match(not_est_rel, &p, NULL) == TRI_FALSE);
	p.ct.state = CG_CT_NEW;
	CHECK(xt_match(est_rel, &p, NULL) == TRI_FALSE);
	CHECK(xt_match(not_est_rel, &p, NULL) == TRI_TRUE);
	p.ct.state = CG_CT_RELATED;
	CHECK(xt_match(est_rel, &p, NULL) == TRI_TRUE);

	/* no entry yet (before the conntrack hook) is INVALID */
	p.ct.state = 0;
	CHECK(xt_match(invalid, &p, NULL) == TRI_TRUE);
	CHECK(xt_match(est_rel, &p, NULL) == TRI_FALSE);
	CHECK(xt_match(not_est_rel, &p, NULL) == TRI_TRUE);
	p.ct.state = CG_CT_UNTRACKED;
	CHECK(xt_match(untracked, &p, NULL) == TRI_TRUE);
	CHECK(xt_match(invalid, &p, NULL) == TRI_FALSE);

	/* SNAT/DNAT are extra state bits from the entry's status */
	p = reply_pkt();
	CHECK(xt_match(dnat, &p, NULL) == TRI_FALSE);
	p.ct.status |= IPS_DST_NAT;
	CHECK(xt_match(dnat, &p, NULL) == TRI_TRUE);
}

static void test_conntrack_other(void)
{
	struct cg_packet p = reply_pkt();
	struct xt_conntrack_mtinfo3 m = { 0 };
	struct xt_conntrack_mtinfo1 m1 = { 0 };
	const struct xt_decoded *d;

	/* --ctdir ORIGINAL has no invert bit, REPLY has it */
	CHECK(xt_match(ct3(XT_CONNTRACK_DIRECTION, 0, 0), &p, NULL) == TRI_FALSE);
	CHECK(xt_match(ct3(XT_CONNTRACK_DIRECTION, XT_CONNTRACK_DIRECTION, 0), &p, NULL) == TRI_TRUE);
	p.ct.dir = IP_CT_DIR_ORIGINAL;
	CHECK(xt_match(ct3(XT_CONNTRACK_DIRECTION, 0, 0), &p, NULL) == TRI_TRUE);

	/* without an entry only --ctstate can match; "!" does not help */
	p = reply_pkt();
	p.ct.state = CG_CT_INVALID;
	CHECK(xt_match(ct3(XT_CONNTRACK_STATUS, XT_CONNTRACK_STATUS, IPS_ASSURED), &p, NULL) == TRI_FALSE);
	CHECK(xt_match(ct3(XT_CONNTRACK_DIRECTION, XT_CONNTRACK_DIRECTION, 0), &p, NULL) == TRI_FALSE);

	/* status */
	p = reply_pkt();
	m.match_flags = XT_CONNTRACK_STATUS;
	m.status_mask = IPS_ASSURED;
	CHECK(xt_match(DEC_M("conntrack", 3, V4, m), &p, NULL) == TRI_FALSE);
	m.invert_flags = XT_CONNTRACK_STATUS;
	CHECK(xt_match(DEC_M("conntrack", 3, V4, m), &p, NULL) == TRI_TRUE);

	/* original source with a mask; an entry without tuples is unknown */
	memset(&m, 0, sizeof(m));
	m.match_flags = XT_CONNTRACK_ORIGSRC;
	inet_pton(AF_INET, "10.0.0.0", &m.origsrc_addr.in);
	inet_pton(AF_INET, "255.0.0.0", &m.origsrc_mask.in);
	d = DEC_M("conntrack", 3, V4, m);
	CHECK(xt_match(d, &p, NULL) == TRI_TRUE);
	m.invert_flags = XT_CONNTRACK_ORIGSRC;
	CHECK(xt_match(DEC_M("conntrack", 3, V4, m), &p, NULL) == TRI_FALSE);
	p.ct.orig.src.family = AF_UNSPEC;
	CHECK(xt_match(d, &p, NULL) == TRI_UNKNOWN);

	/* rev 3 port ranges, rev 1 single big-endian ports */
	p = reply_pkt();
	memset(&m, 0, sizeof(m));
	m.match_flags = XT_CONNTRACK_REPLSRC_PORT;
	m.replsrc_port = 50;
	m.replsrc_port_high = 60;
	CHECK(xt_match(DEC_M("conntrack", 3, V4, m), &p, NULL) == TRI_TRUE);
	m.replsrc_port = 54;
	CHECK(xt_match(DEC_M("conntrack", 3, V4, m), &p, NULL) == TRI_FALSE);
	m1.match_flags = XT_CONNTRACK_ORIGDST_PORT | XT_CONNTRACK_PROTO;
	m1.origdst_port = htons(53);
	m1.l4proto = IPPROTO_UDP;
	CHECK(xt_match(DEC_M("conntrack", 1, V4, m1), &p, NULL) == TRI_TRUE);
	m1.invert_flags = XT_CONNTRACK_PROTO;
	CHECK(xt_match(DEC_M("conntrack", 1, V4, m1), &p, NULL) == TRI_FALSE);

	/* expiry is a timer the simulator does not have */
	CHECK(xt_match(ct3(XT_CONNTRACK_EXPIRES, 0, 0), &p, NULL) == TRI_UNKNOWN);
	/* ... unless something else already failed */
	CHECK(xt_match(ct3(XT_CONNTRACK_EXPIRES | XT_CONNTRACK_STATE, 0, NEW), &p, NULL) == TRI_FALSE);
}

static void test_state_rev0(void)
{
	struct xt_state_info s = { .statemask = XT_STATE_BIT(IP_CT_ESTABLISHED) | XT_STATE_BIT(IP_CT_RELATED) };
	struct xt_state_info inv = { .statemask = ~s.statemask };
	struct xt_state_info untr = { .statemask = XT_STATE_UNTRACKED };
	struct cg_packet p = reply_pkt();

	CHECK(xt_match(DEC_M("state", 0, V4, s), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(DEC_M("state", 0, V4, inv), &p, NULL) == TRI_FALSE);
	p.ct.state = CG_CT_UNTRACKED;
	CHECK(xt_match(DEC_M("state", 0, V4, untr), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(DEC_M("state", 0, V4, s), &p, NULL) == TRI_FALSE);
}

static void test_multiport(void)
{
	struct xt_multiport m0 = { .flags = XT_MULTIPORT_SOURCE, .count = 2, .ports = { 22, 53 } };
	struct xt_multiport_v1 m1 = { .flags = XT_MULTIPORT_DESTINATION, .count = 4,
				      .ports = { 80, 39000, 41000, 443 }, .pflags = { 0, 1, 0, 0 } };
	struct xt_multiport_v1 either = { .flags = XT_MULTIPORT_EITHER, .count = 1, .ports = { 53 }, .invert = 1 };
	struct cg_packet p = reply_pkt();

	CHECK(xt_match(DEC_M("multiport", 0, V4, m0), &p, NULL) == TRI_TRUE);
	m0.flags = XT_MULTIPORT_DESTINATION;
	CHECK(xt_match(DEC_M("multiport", 0, V4, m0), &p, NULL) == TRI_FALSE);
	/* 39000:41000 is a range: 40000 falls in it */
	CHECK(xt_match(DEC_M("multiport", 1, V4, m1), &p, NULL) == TRI_TRUE);
	m1.invert = 1;
	CHECK(xt_match(DEC_M("multiport", 1, V4, m1), &p, NULL) == TRI_FALSE);
	p.dport = 41001;
	CHECK(xt_match(DEC_M("multiport", 1, V4, m1), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(DEC_M("multiport", 1, V4, either), &p, NULL) == TRI_FALSE);
	/* no ports, no match */
	p.l4proto = IPPROTO_ICMP;
	CHECK(xt_match(DEC_M("multiport", 1, V4, either), &p, NULL) == TRI_FALSE);
}

static void test_tcpudp_icmp(void)
{
	struct xt_tcp syn = { .spts = { 0, 0xffff }, .dpts = { 22, 22 },
			      .flg_mask = 0x17, .flg_cmp = 0x02 };
	struct xt_tcp opt = { .spts = { 0, 0xffff }, .dpts = { 0, 0xffff }, .option = 8 };
	struct xt_udp udp = { .spts = { 53, 53 }, .dpts = { 0, 0xffff } };
	struct ipt_icmp any = { .type = 0xff, .code = { 0, 0xff } };
	struct ipt_icmp unreach = { .type = 3, .code = { 4, 4 } };
	struct ip6t_icmp ns = { .type = 135, .code = { 0, 0xff } };
	struct cg_packet p = reply_pkt();

	CHECK(xt_match(DEC_M("udp", 0, V4, udp), &p, NULL) == TRI_TRUE);
	udp.invflags = XT_UDP_INV_SRCPT;
	CHECK(xt_match(DEC_M("udp", 0, V4, udp), &p, NULL) == TRI_FALSE);
	CHECK(xt_match(DEC_M("tcp", 0, V4, syn), &p, NULL) == TRI_FALSE);   /* not TCP */

	p.l4proto = IPPROTO_TCP;
	p.dport = 22;
	p.tcp_flags = 0x02;     /* SYN */
	CHECK(xt_match(DEC_M("tcp", 0, V4, syn), &p, NULL) == TRI_TRUE);
	p.tcp_flags = 0x12;     /* SYN,ACK */
	CHECK(xt_match(DEC_M("tcp", 0, V4, syn), &p, NULL) == TRI_FALSE);
	syn.invflags = XT_TCP_INV_FLAGS;
	CHECK(xt_match(DEC_M("tcp", 0, V4, syn), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(DEC_M("tcp", 0, V4, opt), &p, NULL) == TRI_UNKNOWN);

	p.l4proto = IPPROTO_ICMP;
	p.icmp_type = 3;
	p.icmp_code = 4;
	CHECK(xt_match(DEC_M("icmp", 0, V4, any), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(DEC_M("icmp", 0, V4, unreach), &p, NULL) == TRI_TRUE);
	unreach.invflags = IPT_ICMP_INV;
	CHECK(xt_match(DEC_M("icmp", 0, V4, unreach), &p, NULL) == TRI_FALSE);
	p.nfproto = V6;
	p.l4proto = IPPROTO_ICMPV6;
	p.icmp_type = 135;
	p.icmp_code = 0;
	CHECK(xt_match(DEC_M("icmp6", 0, V6, ns), &p, NULL) == TRI_TRUE);
	/* 0xff is "any" for IPv4 only */
	ns.type = 0xff;
	CHECK(xt_match(DEC_M("icmp6", 0, V6, ns), &p, NULL) == TRI_FALSE);
}

static void test_marks(void)
{
	struct xt_mark_mtinfo1 m = { .mark = 0x40000, .mask = 0xff0000 };
	struct xt_connmark_mtinfo1 cm = { .mark = 0, .mask = 0xff0000, .invert = 1 };
	struct cg_packet p = reply_pkt();

	p.mark = 0x12040000;
	CHECK(xt_match(DEC_M("mark", 1, V4, m), &p, NULL) == TRI_TRUE);
	m.invert = 1;
	CHECK(xt_match(DEC_M("mark", 1, V4, m), &p, NULL) == TRI_FALSE);
	p.ct.mark = 0x80000;
	CHECK(xt_match(DEC_M("connmark", 1, V4, cm), &p, NULL) == TRI_TRUE);
	p.ct.mark = 0x1;
	CHECK(xt_match(DEC_M("connmark", 1, V4, cm), &p, NULL) == TRI_FALSE);
	/* connmark_mt(): no entry is no match, inverted or not */
	p.ct.mark = 0x80000;
	p.ct.state = CG_CT_UNTRACKED;
	CHECK(xt_match(DEC_M("connmark", 1, V4, cm), &p, NULL) == TRI_FALSE);
}

/* A host with 10.0.0.5 on eth0 and 10.9.9.9 on eth1. */
static int fake_addr_type(const struct cg_addr_env *env, const struct cg_addr *a, const char *dev)
{
	struct cg_addr l0 = A4("10.0.0.5"), l1 = A4("10.9.9.9"), v6 = { 0 };

	inet_pton(AF_INET6, "2001:db8::5", v6.bytes);
	if (a->family == AF_INET6)
		return memcmp(a->bytes, v6.bytes, 16) == 0 ? RTN_LOCAL : RTN_UNICAST;
	if (addr_equal(a, &l0))
		return !dev || !strcmp(dev, "eth0") ? RTN_LOCAL : RTN_UNICAST;
	if (addr_equal(a, &l1))
		return !dev || !strcmp(dev, "eth1") ? RTN_LOCAL : RTN_UNICAST;
	return RTN_UNICAST;
}

static void test_addrtype(void)
{
	struct cg_addr_env env = { .addr_type = fake_addr_type };
	struct xt_addrtype_info_v1 dst_local = { .dest = XT_ADDRTYPE_LOCAL };
	struct xt_addrtype_info_v1 src_local = { .source = XT_ADDRTYPE_LOCAL, .flags = XT_ADDRTYPE_INVERT_SOURCE };
	struct xt_addrtype_info_v1 bcast = { .dest = XT_ADDRTYPE_BROADCAST };
	struct xt_addrtype_info_v1 v6 = { .dest = XT_ADDRTYPE_LOCAL | XT_ADDRTYPE_UNICAST };
	struct cg_packet p = reply_pkt();

	CHECK(xt_match(DEC_M("addrtype", 1, V4, dst_local), &p, &env) == TRI_TRUE);
	CHECK(xt_match(DEC_M("addrtype", 1, V4, src_local), &p, &env) == TRI_TRUE);
	/* --limit-iface-in: the address must be local on the in device */
	dst_local.flags = XT_ADDRTYPE_LIMIT_IFACE_IN;
	CHECK(xt_match(DEC_M("addrtype", 1, V4, dst_local), &p, &env) == TRI_TRUE);
	strcpy(p.iif.name, "eth1");
	CHECK(xt_match(DEC_M("addrtype", 1, V4, dst_local), &p, &env) == TRI_FALSE);
	dst_local.flags |= XT_ADDRTYPE_INVERT_DEST;
	CHECK(xt_match(DEC_M("addrtype", 1, V4, dst_local), &p, &env) == TRI_TRUE);
	/* no env: unknown; limited broadcast needs none */
	CHECK(xt_match(DEC_M("addrtype", 1, V4, dst_local), &p, NULL) == TRI_UNKNOWN);
	p.dst = A4("255.255.255.255");
	CHECK(xt_match(DEC_M("addrtype", 1, V4, bcast), &p, NULL) == TRI_TRUE);
	/* IPv6: every type bit is a condition (LOCAL and UNICAST) */
	p.nfproto = V6;
	inet_pton(AF_INET6, "2001:db8::5", p.dst.bytes);
	p.dst.family = AF_INET6;
	CHECK(xt_match(DEC_M("addrtype", 1, V6, v6), &p, &env) == TRI_TRUE);
	inet_pton(AF_INET6, "ff02::1", p.dst.bytes);
	CHECK(xt_match(DEC_M("addrtype", 1, V6, v6), &p, &env) == TRI_FALSE);
}

static void test_iprange_pkttype_misc(void)
{
	struct xt_iprange_mtinfo r = { .flags = IPRANGE_SRC };
	struct xt_pkttype_info pt = { .pkttype = PACKET_BROADCAST, .invert = 1 };
	struct xt_statistic_info all = { .mode = XT_STATISTIC_MODE_RANDOM, .u.random.probability = 0x80000000u };
	struct xt_statistic_info half = { .mode = XT_STATISTIC_MODE_RANDOM, .u.random.probability = 0x40000000u };
	struct xt_statistic_info every1 = { .mode = XT_STATISTIC_MODE_NTH, .u.nth.every = 0, .flags = XT_STATISTIC_INVERT };
	struct xt_rateinfo lim = { .avg = 1000, .burst = 5 };
	struct xt_comment_info com = { "hello" };
	struct cg_packet p = reply_pkt();

	inet_pton(AF_INET, "100.64.0.0", &r.src_min.in);
	inet_pton(AF_INET, "100.127.255.255", &r.src_max.in);
	CHECK(xt_match(DEC_M("iprange", 1, V4, r), &p, NULL) == TRI_TRUE);
	r.flags |= IPRANGE_SRC_INV;
	CHECK(xt_match(DEC_M("iprange", 1, V4, r), &p, NULL) == TRI_FALSE);
	CHECK(xt_match(DEC_M("pkttype", 0, V4, pt), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(DEC_M("statistic", 0, V4, all), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(DEC_M("statistic", 0, V4, half), &p, NULL) == TRI_UNKNOWN);
	CHECK(xt_match(DEC_M("statistic", 0, V4, every1), &p, NULL) == TRI_FALSE);
	CHECK(xt_match(DEC_M("limit", 0, V4, lim), &p, NULL) == TRI_UNKNOWN);
	CHECK(xt_match(DEC_M("comment", 0, V4, com), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(NULL, &p, NULL) == TRI_UNKNOWN);
}

/* ---- targets ------------------------------------------------------------------ */

static void test_targets(void)
{
	struct xt_mark_tginfo2 mark = { .mark = 0x40000, .mask = 0xff0000 };
	struct xt_mark_mtinfo1 mm = { .mark = 1, .mask = 1 };
	struct xt_connmark_tginfo2 save = { .mode = XT_CONNMARK_SAVE, .nfmask = 0xff0000, .ctmask = 0xff0000 };
	struct xt_connmark_tginfo1 restore = { .mode = XT_CONNMARK_RESTORE, .nfmask = 0xff0000, .ctmask = 0xff0000 };
	struct xt_connmark_tginfo2 shifted = { .mode = XT_CONNMARK_SAVE, .nfmask = 0xff, .ctmask = 0xff00,
					       .shift_dir = D_SHIFT_LEFT, .shift_bits = 8 };
	struct nf_nat_range2 dnat = { .flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED };
	struct nf_nat_ipv4_multi_range_compat masq = { .rangesize = 1 };
	struct ipt_reject_info rej = { .with = IPT_ICMP_PORT_UNREACHABLE };
	struct xt_log_info log = { .level = 4, .prefix = "x" };
	struct xt_ct_target_info_v1 notrack = { .flags = XT_CT_NOTRACK | XT_CT_NOTRACK_ALIAS };
	int std = -NF_ACCEPT - 1;
	struct xt_target_result res;
	struct cg_packet p = reply_pkt();

	p.mark = 0x12345678;
	CHECK(xt_target_apply(DEC_T("MARK", 2, V4, mark), &p, &res) == 0);
	CHECK(p.mark == 0x12045678 && res.mark_changed && !res.terminal);

	p.ct.mark = 0xff000001;
	CHECK(xt_target_apply(DEC_T("CONNMARK", 2, V4, save), &p, &res) == 0);
	CHECK(p.ct.mark == 0xff040001 && res.ctmark_changed);
	p.mark = 0;
	CHECK(xt_target_apply(DEC_T("CONNMARK", 1, V4, restore), &p, &res) == 0);
	CHECK(p.mark == 0x40000 && res.mark_changed);
	p.mark = 0x12;
	p.ct.mark = 0;
	CHECK(xt_target_apply(DEC_T("CONNMARK", 2, V4, shifted), &p, &res) == 0);
	CHECK(p.ct.mark == 0x1200);
	/* no entry: CONNMARK does nothing */
	p.ct.state = CG_CT_INVALID;
	p.mark = 0;
	CHECK(xt_target_apply(DEC_T("CONNMARK", 1, V4, restore), &p, &res) == 0);
	CHECK(p.mark == 0 && !res.mark_changed);

	p = reply_pkt();
	inet_pton(AF_INET, "172.17.0.2", &dnat.min_addr.in);
	dnat.max_addr = dnat.min_addr;
	dnat.min_proto.all = dnat.max_proto.all = htons(80);
	CHECK(xt_target_apply(DEC_T("DNAT", 2, V4, dnat), &p, &res) == 0);
	CHECK(res.terminal && res.verdict == XT_RESULT_ACCEPT && res.dnat && res.nat == XT_NAT_DNAT);
	CHECK(res.nat_port == 80 && res.nat_addr.family == AF_INET && res.nat_addr.bytes[0] == 172);
	CHECK(xt_target_apply(DEC_T("MASQUERADE", 0, V4, masq), &p, &res) == 0);
	CHECK(res.snat && res.nat_addr.family == AF_UNSPEC && res.verdict == XT_RESULT_ACCEPT);
	p.locally_generated = true;
	CHECK(xt_target_apply(DEC_T("REDIRECT", 0, V4, masq), &p, &res) == 0);
	CHECK(res.dnat && res.nat_addr.family == AF_INET && res.nat_addr.bytes[0] == 127);

	CHECK(xt_target_apply(DEC_T("REJECT", 0, V4, rej), &p, &res) == 0);
	CHECK(res.terminal && res.verdict == XT_RESULT_DROP && res.reject);
	CHECK(xt_target_apply(DEC_T("LOG", 0, V4, log), &p, &res) == 0);
	CHECK(!res.terminal && res.verdict == XT_RESULT_CONTINUE);
	CHECK(xt_target_apply(DEC_T("CT", 2, V4, notrack), &p, &res) == 0);
	CHECK(res.notrack && p.ct.state == CG_CT_UNTRACKED && !res.terminal);
	CHECK(xt_target_apply(dec(true, "", 0, V4, &std, sizeof(std)), &p, &res) == -EINVAL);
	CHECK(xt_target_apply(NULL, &p, &res) == -EOPNOTSUPP);
	CHECK(xt_target_apply(DEC_M("mark", 1, V4, mm), &p, &res) == -EINVAL);
}

/* ---- the renderer on hand-built rules --------------------------------------- */

static void render_check(struct cg_rule *rule, const char *want)
{
	char *text = ipt_rule_to_string(rule);

	CHECK_STR(text, want);
	free(text);
}

static void test_render(void)
{
	struct cg_table t = { .family = V4, .name = "filter" };
	struct cg_chain c = { .table = &t, .name = "ts-input" };
	struct cg_expr e[8];
	struct cg_rule rule = { .chain = &c, .exprs = e };
	static const uint8_t cgnat[4] = { 100, 64, 0, 0 }, mask10[4] = { 255, 192, 0, 0 }, zero[4];
	static const char ts0[] = "tailscale0";
	struct xt_conntrack_mtinfo3 ct = { .match_flags = XT_CONNTRACK_STATE,
					   .state_mask = EST | REL };

	/* Tailscale's drop rule as iptables-nft writes it */
	memset(e, 0, sizeof(e));
	e[0] = (struct cg_expr){ .type = CG_EXPR_META, .meta = { .key = NFT_META_IIFNAME, .reg = 1 } };
	e[1] = (struct cg_expr){ .type = CG_EXPR_CMP, .cmp = { .sreg = 1, .op = NFT_CMP_NEQ,
							     .data = { sizeof(ts0), (const uint8_t *)ts0 } } };
	e[2] = (struct cg_expr){ .type = CG_EXPR_PAYLOAD, .payload = { .dreg = 1, .base = NFT_PAYLOAD_NETWORK_HEADER,
								      .offset = 12, .len = 4 } };
	e[3] = (struct cg_expr){ .type = CG_EXPR_BITWISE, .bitwise = { .sreg = 1, .dreg = 1, .op = NFT_BITWISE_BOOL,
								      .len = 4,
								      .data = &(struct cg_bitwise_data){ .mask = { 4, mask10 },
													  .xor = { 4, zero } } } };
	e[4] = (struct cg_expr){ .type = CG_EXPR_CMP, .cmp = { .sreg = 1, .op = NFT_CMP_EQ, .data = { 4, cgnat } } };
	e[5] = (struct cg_expr){ .type = CG_EXPR_COUNTER };
	e[6] = (struct cg_expr){ .type = CG_EXPR_IMMEDIATE, .immediate = { .verdict = { .code = CG_VERDICT_DROP } } };
	rule.n_exprs = 7;
	render_check(&rule, "-A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP");

	/* an undecoded xt blob is decoded on the fly; an unknown one is marked */
	memset(e, 0, sizeof(e));
	e[0] = (struct cg_expr){ .type = CG_EXPR_XT_MATCH, .xt = { .name = "conntrack", .revision = 3,
								  .info_len = sizeof(ct), .info = &ct } };
	e[1] = (struct cg_expr){ .type = CG_EXPR_XT_MATCH, .xt = { .name = "recent", .revision = 0 } };
	e[2] = (struct cg_expr){ .type = CG_EXPR_IMMEDIATE, .immediate = { .verdict = { .code = CG_VERDICT_ACCEPT } } };
	rule.n_exprs = 3;
	c.name = "INPUT";
	render_check(&rule, "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m recent /* unsupported */ -j ACCEPT");

	/* native expressions without an iptables spelling are marked, in place */
	memset(e, 0, sizeof(e));
	e[0] = (struct cg_expr){ .type = CG_EXPR_CT, .ct = { .key = NFT_CT_STATE, .reg = 1, .dir = -1 } };
	e[1] = (struct cg_expr){ .type = CG_EXPR_UNKNOWN, .unknown = { .name = "fib" } };
	e[2] = (struct cg_expr){ .type = CG_EXPR_XT_TARGET, .xt = { .name = "TPROXY", .revision = 1 } };
	rule.n_exprs = 3;
	rule.comment = "added by hand";
	render_check(&rule, "-A INPUT /* unsupported: ct */ /* unsupported: fib */"
		     " -m comment --comment \"added by hand\" -j TPROXY /* unsupported */");
}

/* The cache of recent blobs: identical blobs share one value, any byte
 * apart (a trailing one too, or another extension, revision or family)
 * gets its own, and what a cache slot forgets is decoded again. */
static void test_intern(void)
{
	struct xt_intern *xi = xt_intern_new();
	struct xt_comment_info a = { 0 }, b = { 0 }, c = { 0 };
	const struct xt_decoded *da, *da2, *db, *dc, *d6;
	uint32_t len = XT_ALIGN(sizeof(a));

	snprintf(a.comment, sizeof(a.comment), "ns1/svc:http");
	b = a;
	c = a;
	c.comment[sizeof(c.comment) - 1] = 'x'; /* differs in its last byte only */
	da = xt_decode_interned(xi, &A, false, "comment", 0, V4, &a, len);
	da2 = xt_decode_interned(xi, &A, false, "comment", 0, V4, &b, len);
	db = xt_decode_interned(xi, &A, false, "comment", 0, V4, &a, len);
	dc = xt_decode_interned(xi, &A, false, "comment", 0, V4, &c, len);
	d6 = xt_decode_interned(xi, &A, false, "comment", 0, V6, &a, len);
	CHECK(da && da == da2 && da == db);
	CHECK(dc && dc != da && d6 && d6 != da);
	CHECK(da && !strcmp(da->comment, "ns1/svc:http"));
	/* ten thousand other blobs later the first is still right */
	for (int i = 0; i < 10000; i++) {
		struct xt_comment_info o = { 0 };

		snprintf(o.comment, sizeof(o.comment), "other-%d", i);
		xt_decode_interned(xi, &A, false, "comment", 0, V4, &o, len);
	}
	db = xt_decode_interned(xi, &A, false, "comment", 0, V4, &a, len);
	CHECK(db && !strcmp(db->comment, "ns1/svc:http"));
	/* not decodable: NULL, and not remembered as anything */
	CHECK(!xt_decode_interned(xi, &A, false, "comment", 0, V4, &a, len - 8));
	CHECK(!xt_decode_interned(xi, &A, false, "no-such-match", 0, V4, &a, len));
	xt_intern_free(xi);
}

/* ---- the extensions decided from the packet's known fields (issue 14) ---- */

static void test_fields_exts(void)
{
	struct xt_length_info len = { .min = 0, .max = 27 };
	struct ipt_ttl_info ttl = { .mode = IPT_TTL_LT, .ttl = 0 };
	struct xt_tos_match_info tos = { .tos_mask = 0, .tos_value = 0 };
	struct xt_dscp_info dscp = { .dscp = 0x2e };
	struct xt_ecn_info ecn = { .operation = XT_ECN_OP_MATCH_IP, .ip_ect = 1 };
	struct ip6t_frag frag = { .ids = { 5, 5 }, .invflags = IP6T_FRAG_INV_IDS };
	struct ip6t_opts hbh = { .hdrlen = 8, .flags = IP6T_OPTS_LEN };
	struct ip6t_rt rt = { .rt_type = 0, .flags = IP6T_RT_TYP, .invflags = IP6T_RT_INV_TYP };
	struct ip6t_ipv6header_info v6h = { .matchflags = MASK_PROTO };
	struct xt_devgroup_info dg = { .flags = XT_DEVGROUP_MATCH_SRC, .src_group = 5, .src_mask = ~0u };
	struct xt_owner_match_info own = { .match = XT_OWNER_UID, .invert = XT_OWNER_UID };
	struct xt_CHECKSUM_info csum = { .operation = XT_CHECKSUM_OP_FILL };
	struct xt_audit_info audit = { .type = XT_AUDIT_TYPE_MAX + 1 };
	struct idletimer_tg_info_v1 idle = { .timeout = 0 };
	uint8_t ttl_tg[2] = { 2 /* IPT_TTL_DEC */, 0 }, dscp_tg[1] = { 0x40 };
	struct xt_target_result res;
	struct cg_packet p = reply_pkt(), t = reply_pkt(), p6 = reply_pkt();

	p.unknown = t.unknown = p6.unknown = CG_PKT_U_UNDETERMINED;
	t.l4proto = IPPROTO_TCP;
	t.tcp_flags = 0x10;
	t.tcp_flags_unknown = 0xc0;
	p6.nfproto = V6;

	/* sizes: the struct's, aligned or not; anything else refused */
	CHECK(dec(false, "length", 0, V4, &len, sizeof(len)) != NULL);
	CHECK(dec(false, "length", 0, V4, &len, sizeof(len) + 9) == NULL);
	CHECK(dec(false, "ipv6header", 0, V6, &v6h, 2) == NULL);
	CHECK(dec(false, "frag", 0, V4, &frag, XT_ALIGN(sizeof(frag))) == NULL);   /* IPv6 only */
	CHECK(dec(false, "owner", 0, V4, &own, XT_ALIGN(sizeof(own))) == NULL);    /* rev 0 differs */
	CHECK(dec(true, "TTL", 0, V6, ttl_tg, 8) == NULL);                         /* IPv4 only */

	/* length: a UDP packet is never shorter than 28 bytes; TCP may carry 0 */
	CHECK(xt_match(DEC_M("length", 0, V4, len), &p, NULL) == TRI_FALSE);
	CHECK(xt_match(DEC_M("length", 0, V4, len), &t, NULL) == TRI_UNKNOWN);
	len.max = 0xffff;
	CHECK(xt_match(DEC_M("length", 0, V4, len), &t, NULL) == TRI_TRUE);
	len.invert = 1;
	CHECK(xt_match(DEC_M("length", 0, V4, len), &t, NULL) == TRI_FALSE);
	len = (struct xt_length_info){ .min = 100, .max = 1500 };
	CHECK(xt_match(DEC_M("length", 0, V4, len), &p, NULL) == TRI_UNKNOWN);
	p.unknown &= ~(uint32_t)CG_PKT_U_LEN;
	p.len = 120;
	CHECK(xt_match(DEC_M("length", 0, V4, len), &p, NULL) == TRI_TRUE);
	p.unknown = CG_PKT_U_UNDETERMINED;

	/* ttl: lt 0 and gt 255 never; eq unknown; an unknown mode never */
	CHECK(xt_match(DEC_M("ttl", 0, V4, ttl), &p, NULL) == TRI_FALSE);
	ttl = (struct ipt_ttl_info){ .mode = IPT_TTL_EQ, .ttl = 64 };
	CHECK(xt_match(DEC_M("ttl", 0, V4, ttl), &p, NULL) == TRI_UNKNOWN);
	ttl = (struct ipt_ttl_info){ .mode = IPT_TTL_GT, .ttl = 255 };
	CHECK(xt_match(DEC_M("hl", 0, V6, ttl), &p6, NULL) == TRI_FALSE);
	ttl.mode = 9;
	CHECK(xt_match(DEC_M("ttl", 0, V4, ttl), &p, NULL) == TRI_FALSE);

	/* tos: no bits tested decides; DSCP and ECN bits are unknown */
	CHECK(xt_match(DEC_M("tos", 1, V4, tos), &p, NULL) == TRI_TRUE);
	tos.invert = 1;
	CHECK(xt_match(DEC_M("tos", 1, V6, tos), &p6, NULL) == TRI_FALSE);
	tos = (struct xt_tos_match_info){ .tos_mask = 0x0f, .tos_value = 0x10 };
	CHECK(xt_match(DEC_M("tos", 1, V4, tos), &p, NULL) == TRI_FALSE);  /* value outside the mask */
	tos.tos_value = 0x01;
	CHECK(xt_match(DEC_M("tos", 1, V4, tos), &p, NULL) == TRI_UNKNOWN);
	CHECK(xt_match(DEC_M("dscp", 0, V4, dscp), &p, NULL) == TRI_UNKNOWN);
	dscp.dscp = 0x40;
	CHECK(DEC_M("dscp", 0, V4, dscp) == NULL);
	CHECK(xt_match(DEC_M("ecn", 0, V4, ecn), &p, NULL) == TRI_UNKNOWN);
	ecn = (struct xt_ecn_info){ .operation = XT_ECN_OP_MATCH_CWR };
	CHECK(xt_match(DEC_M("ecn", 0, V4, ecn), &t, NULL) == TRI_UNKNOWN);
	t.tcp_flags_unknown = 0;
	CHECK(xt_match(DEC_M("ecn", 0, V4, ecn), &t, NULL) == TRI_FALSE);
	ecn.invert = XT_ECN_OP_MATCH_CWR;
	CHECK(xt_match(DEC_M("ecn", 0, V4, ecn), &t, NULL) == TRI_TRUE);
	ecn.operation = 0x02;
	CHECK(DEC_M("ecn", 0, V4, ecn) == NULL);
	ecn = (struct xt_ecn_info){ .operation = XT_ECN_OP_MATCH_IP, .ip_ect = 4 };
	CHECK(DEC_M("ecn", 0, V4, ecn) == NULL);

	/* IPv6 extension headers: none, so false even inverted */
	CHECK(xt_match(DEC_M("frag", 0, V6, frag), &p6, NULL) == TRI_FALSE);
	CHECK(xt_match(DEC_M("hbh", 0, V6, hbh), &p6, NULL) == TRI_FALSE);
	CHECK(xt_match(DEC_M("dst", 0, V6, hbh), &p6, NULL) == TRI_FALSE);
	CHECK(xt_match(DEC_M("rt", 0, V6, rt), &p6, NULL) == TRI_FALSE);
	frag.invflags = 0x04;
	CHECK(DEC_M("frag", 0, V6, frag) == NULL);
	hbh.flags |= IP6T_OPTS_NSTRICT;
	CHECK(DEC_M("hbh", 0, V6, hbh) == NULL);
	rt.flags |= IP6T_RT_RES;    /* --rt-0-res with "! --rt-type" */
	CHECK(DEC_M("rt", 0, V6, rt) == NULL);
	/* ipv6header: only the upper-layer protocol is found */
	CHECK(xt_match(DEC_M("ipv6header", 0, V6, v6h), &p6, NULL) == TRI_TRUE);
	v6h = (struct ip6t_ipv6header_info){ .matchflags = MASK_HOPOPTS | MASK_FRAGMENT, .modeflag = 1 };
	CHECK(xt_match(DEC_M("ipv6header", 0, V6, v6h), &p6, NULL) == TRI_FALSE);
	v6h.invflags = MASK_HOPOPTS | MASK_FRAGMENT;
	CHECK(xt_match(DEC_M("ipv6header", 0, V6, v6h), &p6, NULL) == TRI_TRUE);
	v6h = (struct ip6t_ipv6header_info){ .matchflags = MASK_PROTO, .invflags = 0x0f };
	CHECK(DEC_M("ipv6header", 0, V6, v6h) == NULL);

	/* devgroup: the device's group; no device: unknown */
	p.iif.group = 0;
	CHECK(xt_match(DEC_M("devgroup", 0, V4, dg), &p, NULL) == TRI_FALSE);
	dg.flags |= XT_DEVGROUP_INVERT_SRC;
	CHECK(xt_match(DEC_M("devgroup", 0, V4, dg), &p, NULL) == TRI_TRUE);
	p.iif.name[0] = '\0';
	CHECK(xt_match(DEC_M("devgroup", 0, V4, dg), &p, NULL) == TRI_UNKNOWN);
	strcpy(p.iif.name, "eth0");
	dg.flags = 0x10;
	CHECK(DEC_M("devgroup", 0, V4, dg) == NULL);

	/* owner: a local socket's uid and gid; a received packet: unknown */
	CHECK(xt_match(DEC_M("owner", 1, V4, own), &p, NULL) == TRI_UNKNOWN);
	p.locally_generated = true;
	p.skuid = 0;
	CHECK(xt_match(DEC_M("owner", 1, V4, own), &p, NULL) == TRI_FALSE);
	p.skuid = 1000;
	CHECK(xt_match(DEC_M("owner", 1, V4, own), &p, NULL) == TRI_TRUE);
	own = (struct xt_owner_match_info){ .match = XT_OWNER_SOCKET, .invert = XT_OWNER_SOCKET };
	CHECK(xt_match(DEC_M("owner", 1, V4, own), &p, NULL) == TRI_FALSE);
	own = (struct xt_owner_match_info){ .match = XT_OWNER_GID | XT_OWNER_SUPPL_GROUPS, .gid_min = 5,
					    .gid_max = 5 };
	CHECK(xt_match(DEC_M("owner", 1, V4, own), &p, NULL) == TRI_UNKNOWN);
	own.match = 0x10;
	CHECK(DEC_M("owner", 1, V4, own) == NULL);

	/* physdev: a packet the host sends crossed no bridge; a received one may have */
	struct xt_physdev_info pd = { .bitmask = XT_PHYSDEV_OP_BRIDGED };
	CHECK(xt_match(DEC_M("physdev", 0, V4, pd), &p, NULL) == TRI_FALSE);
	pd.invert = XT_PHYSDEV_OP_BRIDGED;
	CHECK(xt_match(DEC_M("physdev", 0, V4, pd), &p, NULL) == TRI_TRUE);
	pd.bitmask |= XT_PHYSDEV_OP_ISIN;
	CHECK(xt_match(DEC_M("physdev", 0, V4, pd), &p, NULL) == TRI_FALSE);
	p.locally_generated = false;
	CHECK(xt_match(DEC_M("physdev", 0, V4, pd), &p, NULL) == TRI_UNKNOWN);
	pd.bitmask = 0;
	CHECK(DEC_M("physdev", 0, V4, pd) == NULL);
	pd.bitmask = 0x20;
	CHECK(DEC_M("physdev", 0, V4, pd) == NULL);

	/* mac: never on a device that is not Ethernet */
	struct xt_mac_info mac = { .srcaddr = { 0, 0x11, 0x22, 0x33, 0x44, 0x55 }, .invert = 1 };
	p.iif.type = ARPHRD_ETHER;
	CHECK(xt_match(DEC_M("mac", 0, V4, mac), &p, NULL) == TRI_UNKNOWN);
	p.iif.type = ARPHRD_NONE;
	CHECK(xt_match(DEC_M("mac", 0, V4, mac), &p, NULL) == TRI_FALSE);
	p.locally_generated = true;

	/* targets that continue; what each checkentry refuses */
	struct xt_tee_tginfo tee = { .oif = "eth0" };
	CHECK(DEC_T("TEE", 1, V4, tee) == NULL);          /* no gateway */
	tee.gw.ip = htonl(0x0a000009);
	CHECK(xt_target_apply(DEC_T("TEE", 1, V4, tee), &p, &res) == 0 && !res.terminal);
	memset(tee.oif, 'x', sizeof(tee.oif));
	CHECK(DEC_T("TEE", 1, V4, tee) == NULL);
	CHECK(xt_target_apply(DEC_T("CHECKSUM", 0, V4, csum), &p, &res) == 0 && !res.terminal);
	csum.operation = 0;
	CHECK(DEC_T("CHECKSUM", 0, V4, csum) == NULL);
	CHECK(DEC_T("AUDIT", 0, V4, audit) == NULL);
	CHECK(DEC_T("IDLETIMER", 1, V4, idle) == NULL);
	CHECK(dec(true, "TTL", 0, V4, ttl_tg, 8) == NULL);    /* --ttl-dec 0 */
	ttl_tg[1] = 1;
	CHECK(xt_target_apply(dec(true, "TTL", 0, V4, ttl_tg, 8), &p, &res) == 0 && !res.terminal);
	CHECK(dec(true, "DSCP", 0, V4, dscp_tg, 8) == NULL);
}

int main(void)
{
	test_lengths();
	test_revisions();
	test_values();
	test_garbage();
	test_conntrack_state();
	test_conntrack_other();
	test_state_rev0();
	test_multiport();
	test_tcpudp_icmp();
	test_marks();
	test_addrtype();
	test_iprange_pkttype_misc();
	test_targets();
	test_fields_exts();
	test_render();
	test_intern();
	arena_free(&A);
	return test_result();
}
