/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Decoded x_tables matches and targets applied to a simulated packet, the
 * way net/netfilter/xt_*.c do it (kernel 6.x). Each match returns what the
 * kernel would, or TRI_UNKNOWN where the answer depends on state the
 * simulator does not have (rates, random numbers, ipsets, TCP options,
 * conntrack timers). A chain of conditions is a three-valued AND: one
 * definite "no" decides, unknowns only matter when nothing else failed. */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_CONNMARK.h>
#include <linux/netfilter/xt_CT.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_connmark.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_iprange.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_state.h>
#include <linux/netfilter/xt_statistic.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/xt.h"

/* ---- conntrack as the kernel sees it ---------------------------------- */

/* nf_ct_get(): state 0 is "no conntrack entry attached yet" (before the
 * conntrack hook), which the matches treat exactly like INVALID. */
static bool pkt_has_ct(const struct cg_packet *pkt)
{
	return pkt->ct.state & (CG_CT_NEW | CG_CT_ESTABLISHED | CG_CT_RELATED);
}

static bool pkt_untracked(const struct cg_packet *pkt)
{
	return pkt->ct.state & CG_CT_UNTRACKED;
}

/* XT_CONNTRACK_STATE_BIT(ctinfo) and XT_STATE_BIT(ctinfo) put ESTABLISHED,
 * RELATED and NEW at bits 1, 2, 3 (as packet.h does); INVALID is bit 0 and
 * UNTRACKED differs between the two matches. */
static uint32_t ct_statebit(const struct cg_packet *pkt, uint32_t untracked_bit)
{
	if (pkt_has_ct(pkt))
		return pkt->ct.state & (CG_CT_NEW | CG_CT_ESTABLISHED | CG_CT_RELATED);
	if (pkt_untracked(pkt))
		return untracked_bit;
	return XT_CONNTRACK_STATE_INVALID;
}

static bool has_ports(uint8_t l4proto)
{
	switch (l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		return true;
	}
	return false;
}

static bool port_in(struct xt_port_range r, uint16_t port)
{
	return port >= r.lo && port <= r.hi;
}

/* ---- tcp, udp, icmp ------------------------------------------------------ */

/* The rule's "-p tcp" (mandatory with -m tcp, xt_check_proto()) already
 * failed for other protocols; a compat expression is guarded the same way. */
static enum tri match_tcp(const struct xt_tcpudp_dec *t, const struct cg_packet *pkt)
{
	if (pkt->l4proto != IPPROTO_TCP)
		return TRI_FALSE;
	if (port_in(t->sport, pkt->sport) == !!(t->invflags & XT_TCP_INV_SRCPT))
		return TRI_FALSE;
	if (port_in(t->dport, pkt->dport) == !!(t->invflags & XT_TCP_INV_DSTPT))
		return TRI_FALSE;
	/* tcp_mt() checks the flags even with an empty mask (0 == 0) */
	if (((pkt->tcp_flags & t->flg_mask) == t->flg_cmp) == !!(t->invflags & XT_TCP_INV_FLAGS))
		return TRI_FALSE;
	/* The simulated segment has no option list (a real SYN carries MSS,
	 * SACK, timestamps...), so an option match cannot be answered. */
	if (t->option)
		return TRI_UNKNOWN;
	return TRI_TRUE;
}

static enum tri match_udp(const struct xt_decoded *m, const struct cg_packet *pkt)
{
	const struct xt_tcpudp_dec *u = &m->tcpudp;
	uint8_t want = strcmp(m->name, "udplite") == 0 ? IPPROTO_UDPLITE : IPPROTO_UDP;

	if (pkt->l4proto != want)
		return TRI_FALSE;
	if (port_in(u->sport, pkt->sport) == !!(u->invflags & XT_UDP_INV_SRCPT))
		return TRI_FALSE;
	if (port_in(u->dport, pkt->dport) == !!(u->invflags & XT_UDP_INV_DSTPT))
		return TRI_FALSE;
	return TRI_TRUE;
}

static enum tri match_icmp(const struct xt_decoded *m, const struct cg_packet *pkt)
{
	const struct xt_icmp_dec *i = &m->icmp;
	bool hit;

	if (m->kind == XT_MATCH_ICMP) {
		if (pkt->l4proto != IPPROTO_ICMP)
			return TRI_FALSE;
		/* icmp_type_code_match(): 0xff is "any" (IPv4 only) */
		hit = i->type == 0xff ||
		      (pkt->icmp_type == i->type && pkt->icmp_code >= i->code_min &&
		       pkt->icmp_code <= i->code_max);
	} else {
		if (pkt->l4proto != IPPROTO_ICMPV6)
			return TRI_FALSE;
		hit = pkt->icmp_type == i->type && pkt->icmp_code >= i->code_min &&
		      pkt->icmp_code <= i->code_max;
	}
	return tri_of(hit != i->invert);
}

/* ---- multiport ------------------------------------------------------------ */

static bool mp_hit(uint8_t flags, uint16_t lo, uint16_t hi, uint16_t src, uint16_t dst)
{
	bool s = src >= lo && src <= hi, d = dst >= lo && dst <= hi;

	switch (flags) {
	case XT_MULTIPORT_SOURCE: return s;
	case XT_MULTIPORT_DESTINATION: return d;
	default: return s || d;
	}
}

/* ports_match_v0() / ports_match_v1(): the first hit decides, "!" (rev 1)
 * flips the answer both ways. */
static enum tri match_multiport(const struct xt_decoded *m, const struct cg_packet *pkt)
{
	const struct xt_multiport_dec *mp = &m->multiport;

	if (!has_ports(pkt->l4proto))
		return TRI_FALSE;
	for (unsigned i = 0; i < mp->count && i < XT_DEC_MULTI_PORTS; i++) {
		uint16_t lo = mp->ports[i], hi = lo;

		if (m->revision >= 1 && mp->pflags[i]) {
			if (++i >= XT_DEC_MULTI_PORTS)
				break;      /* the kernel reads ports[++i] of its array */
			hi = mp->ports[i];
		}
		if (mp_hit(mp->flags, lo, hi, pkt->sport, pkt->dport))
			return tri_of(!mp->invert);
	}
	return tri_of(mp->invert);
}

/* ---- conntrack and state ------------------------------------------------- */

static enum tri addr_masked_eq(const struct cg_addr *k, const struct cg_addr *u,
			       const struct cg_addr *mask, uint8_t nfproto)
{
	int len = nfproto == NFPROTO_IPV6 ? 16 : 4;
	int fam = nfproto == NFPROTO_IPV6 ? AF_INET6 : AF_INET;

	if (k->family == AF_UNSPEC)
		return TRI_UNKNOWN;     /* the simulated entry has no such tuple */
	if (k->family != fam)
		return TRI_FALSE;
	for (int i = 0; i < len; i++)
		if ((k->bytes[i] ^ u->bytes[i]) & mask->bytes[i])
			return TRI_FALSE;
	return TRI_TRUE;
}

/* One criterion: `ok` is whether the entry has the property, invert flips
 * it, and the criterion passes when the result is true. */
static enum tri crit(enum tri ok, bool invert)
{
	return invert ? tri_not(ok) : ok;
}

static enum tri ct_port_crit(const struct xt_decoded *m, uint16_t flag, struct xt_port_range r,
			     uint16_t port)
{
	const struct xt_conntrack_dec *c = &m->conntrack;

	if (!(c->match_flags & flag))
		return TRI_TRUE;
	/* rev 1/2: port equality (lo == hi); rev 3: a range */
	return crit(tri_of(port_in(r, port)), c->invert_flags & flag);
}

static enum tri ct_addr_crit(const struct xt_decoded *m, uint16_t flag, const struct cg_addr *k,
			     const struct cg_addr *u, const struct cg_addr *mask)
{
	const struct xt_conntrack_dec *c = &m->conntrack;

	if (!(c->match_flags & flag))
		return TRI_TRUE;
	return crit(addr_masked_eq(k, u, mask, m->nfproto), c->invert_flags & flag);
}

/* conntrack_mt() */
static enum tri match_conntrack(const struct xt_decoded *m, const struct cg_packet *pkt)
{
	const struct xt_conntrack_dec *c = &m->conntrack;
	const struct cg_conntrack *ct = &pkt->ct;
	bool have_ct = pkt_has_ct(pkt);
	uint32_t statebit = ct_statebit(pkt, XT_CONNTRACK_STATE_UNTRACKED);
	enum tri r = TRI_TRUE;

	if (c->match_flags & XT_CONNTRACK_STATE) {
		if (have_ct) {
			if (ct->status & IPS_SRC_NAT)
				statebit |= XT_CONNTRACK_STATE_SNAT;
			if (ct->status & IPS_DST_NAT)
				statebit |= XT_CONNTRACK_STATE_DNAT;
		}
		if (!!(c->state_mask & statebit) == !!(c->invert_flags & XT_CONNTRACK_STATE))
			return TRI_FALSE;
	}
	/* No entry (invalid, untracked): only a state criterion can match;
	 * everything else is false whatever its "!" says. */
	if (!have_ct)
		return tri_of(c->match_flags & XT_CONNTRACK_STATE);

	if (c->match_flags & XT_CONNTRACK_DIRECTION) {
		/* --ctdir ORIGINAL clears the invert bit, REPLY sets it */
		bool want_orig = !(c->invert_flags & XT_CONNTRACK_DIRECTION);
		if ((ct->dir == IP_CT_DIR_ORIGINAL) != want_orig)
			return TRI_FALSE;
	}
	r = tri_and(r, ct_addr_crit(m, XT_CONNTRACK_ORIGSRC, &ct->orig.src, &c->origsrc, &c->origsrc_mask));
	r = tri_and(r, ct_addr_crit(m, XT_CONNTRACK_ORIGDST, &ct->orig.dst, &c->origdst, &c->origdst_mask));
	r = tri_and(r, ct_addr_crit(m, XT_CONNTRACK_REPLSRC, &ct->reply.src, &c->replsrc, &c->replsrc_mask));
	r = tri_and(r, ct_addr_crit(m, XT_CONNTRACK_REPLDST, &ct->reply.dst, &c->repldst, &c->repldst_mask));
	if (c->match_flags & XT_CONNTRACK_PROTO)
		/* nf_ct_protonum(): the entry's protocol is the packet's */
		r = tri_and(r, crit(tri_of(pkt->l4proto == c->l4proto),
				    c->invert_flags & XT_CONNTRACK_PROTO));
	r = tri_and(r, ct_port_crit(m, XT_CONNTRACK_ORIGSRC_PORT, c->origsrc_port, ct->orig.sport));
	r = tri_and(r, ct_port_crit(m, XT_CONNTRACK_ORIGDST_PORT, c->origdst_port, ct->orig.dport));
	r = tri_and(r, ct_port_crit(m, XT_CONNTRACK_REPLSRC_PORT, c->replsrc_port, ct->reply.sport));
	r = tri_and(r, ct_port_crit(m, XT_CONNTRACK_REPLDST_PORT, c->repldst_port, ct->reply.dport));
	if (c->match_flags & XT_CONNTRACK_STATUS)
		r = tri_and(r, crit(tri_of(c->status_mask & ct->status),
				    c->invert_flags & XT_CONNTRACK_STATUS));
	if (c->match_flags & XT_CONNTRACK_EXPIRES)
		r = tri_and(r, TRI_UNKNOWN);    /* timers are not simulated */
	return r;
}

/* state_mt(): the "!" is folded into the mask by iptables */
static enum tri match_state(const struct xt_state_dec *s, const struct cg_packet *pkt)
{
	return tri_of(s->statemask & ct_statebit(pkt, XT_STATE_UNTRACKED));
}

/* ---- marks ---------------------------------------------------------------- */

static enum tri match_mark(const struct xt_mark_dec *mk, uint32_t value)
{
	return tri_of(((value & mk->mask) == mk->mark) != mk->invert);
}

/* connmark_mt(): no entry, no match, "!" or not */
static enum tri match_connmark(const struct xt_mark_dec *mk, const struct cg_packet *pkt)
{
	if (!pkt_has_ct(pkt))
		return TRI_FALSE;
	return match_mark(mk, pkt->ct.mark);
}

/* ---- addrtype ------------------------------------------------------------ */

/* inet_dev_addr_type(): these never reach the FIB. */
static int addr_type4_fixed(const struct cg_addr *a)
{
	if (a->bytes[0] == 0 || (a->bytes[0] == 255 && a->bytes[1] == 255 && a->bytes[2] == 255 &&
				  a->bytes[3] == 255))
		return RTN_BROADCAST;
	if ((a->bytes[0] & 0xf0) == 0xe0)
		return RTN_MULTICAST;
	return -1;
}

static enum tri type4(const struct cg_addr_env *env, const struct cg_addr *a, const char *dev,
		      uint16_t mask)
{
	int t = addr_type4_fixed(a);

	if (t < 0) {
		if (!env || !env->addr_type)
			return TRI_UNKNOWN;
		t = env->addr_type(env, a, dev);
		if (t < 0 || t > 15)
			return TRI_UNKNOWN;
	}
	return tri_of(mask & (1u << t));
}

/* ipv6_addr_type() classes the kernel's match_type6() uses. */
static bool v6_multicast(const struct cg_addr *a) { return a->bytes[0] == 0xff; }
static bool v6_any(const struct cg_addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->bytes, zero, 16) == 0;
}
static bool v6_mapped(const struct cg_addr *a)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };
	return memcmp(a->bytes, pfx, 12) == 0;
}

/* match_type6(): the type bits are *conditions*, all of which must hold,
 * not a set of acceptable types as for IPv4. LOCAL, ANYCAST and UNREACHABLE
 * come from a route lookup, which the env answers. */
static enum tri type6(const struct cg_addr_env *env, const struct cg_addr *a, const char *dev,
		      uint16_t mask)
{
	if ((mask & XT_ADDRTYPE_MULTICAST) && !v6_multicast(a))
		return TRI_FALSE;
	if ((mask & XT_ADDRTYPE_UNICAST) && (v6_multicast(a) || v6_any(a) || v6_mapped(a)))
		return TRI_FALSE;
	if ((mask & XT_ADDRTYPE_UNSPEC) && !v6_any(a))
		return TRI_FALSE;
	if (mask & (XT_ADDRTYPE_LOCAL | XT_ADDRTYPE_ANYCAST | XT_ADDRTYPE_UNREACHABLE)) {
		uint16_t got = 0;
		int t;

		if (!env || !env->addr_type)
			return TRI_UNKNOWN;
		t = env->addr_type(env, a, dev);
		if (t < 0)
			return TRI_UNKNOWN;
		if (t == RTN_LOCAL)
			got = XT_ADDRTYPE_LOCAL;
		else if (t == RTN_ANYCAST)
			got = XT_ADDRTYPE_ANYCAST;
		else if (t == RTN_UNREACHABLE || t == RTN_PROHIBIT || t == RTN_BLACKHOLE)
			got = XT_ADDRTYPE_UNREACHABLE;     /* RTF_REJECT routes */
		return tri_of(mask & got);
	}
	return TRI_TRUE;
}

static enum tri match_addrtype(const struct xt_decoded *m, const struct cg_packet *pkt,
			       const struct cg_addr_env *env)
{
	const struct xt_addrtype_dec *at = &m->addrtype;
	const char *dev = NULL;
	enum tri r = TRI_TRUE;

	if (at->limit_iface_in)
		dev = pkt->iif.name[0] ? pkt->iif.name : NULL;
	else if (at->limit_iface_out)
		dev = pkt->oif.name[0] ? pkt->oif.name : NULL;
	if (at->source) {
		enum tri t = m->nfproto == NFPROTO_IPV6 ? type6(env, &pkt->src, dev, at->source)
							: type4(env, &pkt->src, dev, at->source);
		r = tri_and(r, crit(t, at->invert_source));
	}
	if (at->dest) {
		enum tri t = m->nfproto == NFPROTO_IPV6 ? type6(env, &pkt->dst, dev, at->dest)
							: type4(env, &pkt->dst, dev, at->dest);
		r = tri_and(r, crit(t, at->invert_dest));
	}
	return r;
}

/* ---- iprange, pkttype, statistic ----------------------------------------- */

static bool in_range(const struct cg_addr *a, const struct cg_addr *lo, const struct cg_addr *hi, int len)
{
	/* big-endian byte strings compare as numbers */
	return memcmp(a->bytes, lo->bytes, len) >= 0 && memcmp(a->bytes, hi->bytes, len) <= 0;
}

static enum tri match_iprange(const struct xt_decoded *m, const struct cg_packet *pkt)
{
	const struct xt_iprange_dec *ir = &m->iprange;
	int len = m->nfproto == NFPROTO_IPV6 ? 16 : 4;

	if (ir->flags & IPRANGE_SRC) {
		bool in = in_range(&pkt->src, &ir->src_min, &ir->src_max, len);
		if (in == !!(ir->flags & IPRANGE_SRC_INV))
			return TRI_FALSE;
	}
	if (ir->flags & IPRANGE_DST) {
		bool in = in_range(&pkt->dst, &ir->dst_min, &ir->dst_max, len);
		if (in == !!(ir->flags & IPRANGE_DST_INV))
			return TRI_FALSE;
	}
	return TRI_TRUE;
}

/* pkttype_mt(): looped-back packets count as multicast or broadcast */
static enum tri match_pkttype(const struct xt_decoded *m, const struct cg_packet *pkt)
{
	int type = pkt->pkttype;

	if (type == PACKET_LOOPBACK) {
		if (m->nfproto == NFPROTO_IPV6 || (pkt->dst.bytes[0] & 0xf0) == 0xe0)
			type = PACKET_MULTICAST;
		else
			type = PACKET_BROADCAST;
	}
	return tri_of((type == m->pkttype.pkttype) != m->pkttype.invert);
}

/* statistic_mt(): random with probability 0 or 1 and "every 1" are certain;
 * anything else depends on a random number or a counter. */
static enum tri match_statistic(const struct xt_statistic_dec *s)
{
	bool inv = s->flags & XT_STATISTIC_INVERT;

	if (s->mode == XT_STATISTIC_MODE_RANDOM) {
		if (s->probability == 0)
			return tri_of(inv);
		if (s->probability >= 0x80000000u)
			return tri_of(!inv);
	} else if (s->every == 0) {
		return tri_of(!inv);
	}
	return TRI_UNKNOWN;
}

enum tri xt_match(const struct xt_decoded *m, const struct cg_packet *pkt,
		  const struct cg_addr_env *env)
{
	if (!m || m->target)
		return TRI_UNKNOWN;
	switch (m->kind) {
	case XT_MATCH_TCP: return match_tcp(&m->tcpudp, pkt);
	case XT_MATCH_UDP: return match_udp(m, pkt);
	case XT_MATCH_ICMP:
	case XT_MATCH_ICMP6: return match_icmp(m, pkt);
	case XT_MATCH_MULTIPORT: return match_multiport(m, pkt);
	case XT_MATCH_CONNTRACK: return match_conntrack(m, pkt);
	case XT_MATCH_STATE: return match_state(&m->state, pkt);
	case XT_MATCH_MARK: return match_mark(&m->mark, pkt->mark);
	case XT_MATCH_CONNMARK: return match_connmark(&m->mark, pkt);
	case XT_MATCH_COMMENT: return TRI_TRUE;
	case XT_MATCH_ADDRTYPE: return match_addrtype(m, pkt, env);
	case XT_MATCH_IPRANGE: return match_iprange(m, pkt);
	case XT_MATCH_PKTTYPE: return match_pkttype(m, pkt);
	case XT_MATCH_STATISTIC: return match_statistic(&m->statistic);
	case XT_MATCH_SET:       /* the set's members are not collected */
	case XT_MATCH_LIMIT:     /* depends on the packet rate */
	default:
		return TRI_UNKNOWN;
	}
}

/* ---- targets -------------------------------------------------------------- */

static uint32_t shift(uint32_t v, uint8_t dir, uint8_t bits)
{
	return dir == D_SHIFT_RIGHT ? v >> bits : v << bits;
}

/* connmark_tg_shift(); revision 1 is revision 2 with no shift. */
static void apply_connmark(const struct xt_connmark_tg_dec *c, struct cg_packet *pkt,
			   struct xt_target_result *res)
{
	uint32_t v;

	if (!pkt_has_ct(pkt))
		return;
	switch (c->mode) {
	case XT_CONNMARK_SET:
		v = shift((pkt->ct.mark & ~c->ctmask) ^ c->ctmark, c->shift_dir, c->shift_bits);
		res->ctmark_changed = v != pkt->ct.mark;
		pkt->ct.mark = v;
		break;
	case XT_CONNMARK_SAVE:
		v = (pkt->ct.mark & ~c->ctmask) ^ shift(pkt->mark & c->nfmask, c->shift_dir, c->shift_bits);
		res->ctmark_changed = v != pkt->ct.mark;
		pkt->ct.mark = v;
		break;
	case XT_CONNMARK_RESTORE:
		v = (pkt->mark & ~c->nfmask) ^ shift(pkt->ct.mark & c->ctmask, c->shift_dir, c->shift_bits);
		res->mark_changed = v != pkt->mark;
		pkt->mark = v;
		break;
	}
}

static void nat_ports(const struct xt_nat_dec *n, struct xt_target_result *res)
{
	if (n->flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
		res->nat_port = n->min_port;
		res->nat_port_max = n->max_port;
	}
}

static void apply_nat(const struct xt_decoded *t, const struct cg_packet *pkt,
		      struct xt_target_result *res)
{
	const struct xt_nat_dec *n = &t->nat;

	/* nf_nat_setup_info() returns NF_ACCEPT: the nat chain ends here */
	res->terminal = true;
	res->verdict = XT_RESULT_ACCEPT;
	nat_ports(n, res);
	switch (t->kind) {
	case XT_TARGET_DNAT:
	case XT_TARGET_SNAT:
		res->nat = t->kind == XT_TARGET_DNAT ? XT_NAT_DNAT : XT_NAT_SNAT;
		res->dnat = t->kind == XT_TARGET_DNAT;
		res->snat = !res->dnat;
		if (n->flags & NF_NAT_RANGE_MAP_IPS) {
			res->nat_addr = n->min_addr;
			res->nat_addr_max = n->max_addr;
		}
		break;
	case XT_TARGET_MASQUERADE:
		res->nat = XT_NAT_MASQUERADE;
		res->snat = true;   /* the out device's address, chosen at run time */
		break;
	case XT_TARGET_REDIRECT:
		res->nat = XT_NAT_REDIRECT;
		res->dnat = true;
		/* nf_nat_redirect_ipv4/6(): loopback for locally generated
		 * packets, the in device's first address otherwise */
		if (pkt->locally_generated) {
			if (t->nfproto == NFPROTO_IPV6)
				addr_parse("::1", &res->nat_addr);
			else
				addr_parse("127.0.0.1", &res->nat_addr);
			res->nat_addr_max = res->nat_addr;
		}
		break;
	default:
		break;
	}
}

int xt_target_apply(const struct xt_decoded *t, struct cg_packet *pkt, struct xt_target_result *res)
{
	uint32_t v;

	memset(res, 0, sizeof(*res));
	if (!t)
		return -EOPNOTSUPP;
	if (!t->target || t->kind == XT_TARGET_STANDARD)
		return -EINVAL;

	switch (t->kind) {
	case XT_TARGET_REJECT:
		/* reject_tg(): sends the error, then NF_DROP */
		res->terminal = true;
		res->verdict = XT_RESULT_DROP;
		res->reject = true;
		return 0;
	case XT_TARGET_MARK:
		v = (pkt->mark & ~t->mark_tg.mask) ^ t->mark_tg.mark;
		res->mark_changed = v != pkt->mark;
		pkt->mark = v;
		return 0;
	case XT_TARGET_CONNMARK:
		apply_connmark(&t->connmark_tg, pkt, res);
		return 0;
	case XT_TARGET_DNAT:
	case XT_TARGET_SNAT:
	case XT_TARGET_MASQUERADE:
	case XT_TARGET_REDIRECT:
		apply_nat(t, pkt, res);
		return 0;
	case XT_TARGET_LOG:
	case XT_TARGET_NFLOG:
	case XT_TARGET_TRACE:
		return 0;           /* XT_CONTINUE, nothing the verdict depends on */
	case XT_TARGET_CT:
		/* xt_ct_target(): --notrack attaches the untracked template,
		 * so conntrack leaves the packet alone; helpers, zones and
		 * timeouts do not change what this packet's verdict is. */
		if (t->ct.flags & XT_CT_NOTRACK) {
			pkt->ct.state = CG_CT_UNTRACKED;
			res->notrack = true;
		}
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}
