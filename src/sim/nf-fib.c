/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nf_tables' fib expression, as the kernel evaluates it (nft_fib.c,
 * nft_fib_ipv4.c, nft_fib_ipv6.c of Linux 6.18):
 *
 *   fib saddr . mark . iif oif exists    the reverse path: a route back to
 *                                        the source, through the input device
 *   fib daddr type local                 what the destination is to this host
 *
 * What goes into the lookup is the expression's: the source and destination
 * swap roles for saddr, the mark only with ". mark", the input device only
 * as a test of the result (". iif": the route must use it), never ports or
 * (IPv4) the protocol, so an `ip rule ... ipproto udp dport 53` exception
 * that changes what rp_filter says does not change what fib says. The
 * lookups themselves are route-fib.c's, on the collected routing state;
 * where that state cannot decide, the expression is unknown. */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <arpa/inet.h>
#include <net/if_arp.h>
#include <linux/if_addr.h>
#include <linux/if_packet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route-index.h"
#include "cgnatcheck/route.h"
#include "nf-internal.h"

#ifndef IFF_LOOPBACK
#define IFF_LOOPBACK 0x8
#endif
#ifndef RTN_THROW
#define RTN_THROW 9
#endif

#define UNCERTAIN_FOR_FIB (ROUTE_UNCERTAIN_RESULT | ROUTE_UNCERTAIN_DEV | ROUTE_UNCERTAIN_TYPE)

/* nft_fib_validate(): where the kernel lets the expression be */
static bool hook_allowed(const struct cg_expr *e, uint32_t hook)
{
	uint32_t f = e->fib.flags, hooks;

	switch (e->fib.result) {
	case NFT_FIB_RESULT_OIF:
	case NFT_FIB_RESULT_OIFNAME:
		hooks = 1u << NF_INET_PRE_ROUTING;
		if (f & NFTA_FIB_F_IIF)
			hooks |= 1u << NF_INET_LOCAL_IN | 1u << NF_INET_FORWARD;
		break;
	case NFT_FIB_RESULT_ADDRTYPE:
		if (f & NFTA_FIB_F_IIF)
			hooks = 1u << NF_INET_PRE_ROUTING | 1u << NF_INET_LOCAL_IN | 1u << NF_INET_FORWARD;
		else if (f & NFTA_FIB_F_OIF)
			hooks = 1u << NF_INET_LOCAL_OUT | 1u << NF_INET_POST_ROUTING | 1u << NF_INET_FORWARD;
		else
			hooks = 1u << NF_INET_LOCAL_IN | 1u << NF_INET_LOCAL_OUT | 1u << NF_INET_FORWARD |
				1u << NF_INET_PRE_ROUTING | 1u << NF_INET_POST_ROUTING;
		break;
	default:
		return false;
	}
	return hook < 32 && (hooks & (1u << hook));
}

static bool input_hook(uint32_t hook)
{
	return hook == NF_INET_PRE_ROUTING || hook == NF_INET_LOCAL_IN;
}

/* nft_in() / nft_out(): the hook's devices; NULL where the hook has none */
static const struct cg_iface *dev_in(const struct exec *x, uint32_t hook)
{
	return input_hook(hook) && x->pkt.iif.name[0] ? &x->pkt.iif : NULL;
}

static const struct cg_iface *dev_out(const struct exec *x, uint32_t hook)
{
	return (hook == NF_INET_LOCAL_OUT || hook == NF_INET_POST_ROUTING) && x->pkt.oif.name[0] ? &x->pkt.oif :
												 NULL;
}

/* the device an IIF or OIF flag names */
static const struct cg_iface *flag_dev(const struct exec *x, uint32_t hook, uint32_t flags)
{
	if (flags & NFTA_FIB_F_IIF)
		return dev_in(x, hook);
	if (flags & NFTA_FIB_F_OIF)
		return dev_out(x, hook);
	return NULL;
}

/* nft_fib_is_loopback() */
static bool is_loopback(const struct route_state *st, const struct cg_packet *p, const struct cg_iface *in)
{
	const struct route_link *l = route_state_link(st, (int)in->index);

	return p->pkttype == PACKET_LOOPBACK || in->type == ARPHRD_LOOPBACK || (l && (l->flags & IFF_LOOPBACK));
}

/* An established TCP socket that early demux hands the packet to on the way
 * to local delivery: nft_fib_can_skip() then answers with the input device
 * when it is the one the socket last received on, without a lookup. The
 * first answer of a connection (SYN-ACK) finds the socket without one yet. */
static bool demuxed_socket(const struct exec *x, uint32_t hook)
{
	const struct cg_packet *p = &x->pkt;

	return hook == NF_INET_LOCAL_IN && p->l4proto == IPPROTO_TCP && x->ct_visible && !x->untracked &&
	       (p->ct.state & CG_CT_ESTABLISHED) && p->ct.dir == 1 /* IP_CT_DIR_REPLY */ &&
	       !(p->tcp_flags & 0x02 /* SYN */);
}

/* nft_fib_store_result() */
static int store_dev(const struct route_state *st, const struct cg_expr *e, int ifindex, uint8_t *out,
		     uint32_t *len, const char **what)
{
	memset(out, 0, 16);
	*len = 4;
	if (e->fib.flags & NFTA_FIB_F_PRESENT) {
		out[0] = ifindex != 0;        /* nft_reg_store8(): one word */
		return 1;
	}
	if (e->fib.result == NFT_FIB_RESULT_OIF) {
		int32_t v = ifindex;
		memcpy(out, &v, 4);
		return 1;
	}
	*len = IFNAMSIZ;
	if (ifindex) {
		const struct route_link *l = route_state_link(st, ifindex);
		if (!l) {
			*what = "fib oifname: a device the routing state does not name";
			return 0;
		}
		memcpy(out, l->name, strnlen(l->name, IFNAMSIZ - 1));
	}
	return 1;
}

static bool v4_zeronet(const struct cg_addr *a) { return (ntohl(a->v4.s_addr) & 0xff000000u) == 0; }
static bool v4_lbcast(const struct cg_addr *a) { return a->v4.s_addr == 0xffffffffu; }
static bool v4_multicast(const struct cg_addr *a) { return (ntohl(a->v4.s_addr) & 0xf0000000u) == 0xe0000000u; }
static bool v4_local_multicast(const struct cg_addr *a)
{
	return (ntohl(a->v4.s_addr) & 0xffffff00u) == 0xe0000000u;
}

static bool v6_any(const struct cg_addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->bytes, zero, 16) == 0;
}
static bool v6_linklocal(const struct cg_addr *a) { return a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80; }
static bool v6_multicast(const struct cg_addr *a) { return a->bytes[0] == 0xff; }
/* ipv6_addr_type() & IPV6_ADDR_UNICAST, as far as a lookup cares */
static bool v6_unicast(const struct cg_addr *a) { return !v6_any(a) && !v6_multicast(a); }

/* get_saddr(): no lookup from a multicast, broadcast or zeronet source */
static struct cg_addr v4_get_saddr(const struct cg_addr *a)
{
	if (v4_multicast(a) || v4_lbcast(a) || v4_zeronet(a))
		return (struct cg_addr){ .family = AF_INET };
	return *a;
}

/* The lookup depends on DSCP (IPv4 tos, IPv6 traffic class and flow label)
 * only when a rule or route selects by it. */
static bool tos_matters(const struct route_state *st, const struct cg_packet *p)
{
	int f = p->nfproto == NFPROTO_IPV6 ? 1 : 0;

	return (p->unknown & (CG_PKT_U_DSCP | CG_PKT_U_FLOWLABEL)) && st->index->has_tos[f];
}

static int fib_uncertain(const struct route_result *res, const char **what)
{
	*what = res->uncertain_why ? res->uncertain_why : "fib: the route lookup cannot be decided";
	return 0;
}

/* nft_fib4_eval() / nft_fib6_eval(): the device of the route back (or on),
 * or none */
static int eval_oif(const struct exec *x, const struct ctx *c, const struct route_state *st,
		    const struct cg_expr *e, uint8_t *out, uint32_t *len, const char **what)
{
	const struct cg_packet *p = &x->pkt;
	uint32_t flags = e->fib.flags, hook = c->hook;
	const struct cg_iface *in = dev_in(x, hook), *oif = flag_dev(x, hook, flags);
	bool v6 = p->nfproto == NFPROTO_IPV6, sk = demuxed_socket(x, hook);
	bool daddr = flags & NFTA_FIB_F_DADDR;
	struct route_fib_query q = { .mark = (flags & NFTA_FIB_F_MARK) ? p->mark : 0 };
	struct route_result res;
	int found = 0;

	if (!in) {
		*what = "fib: the packet has no input device here";
		return 0;
	}
	if ((flags & NFTA_FIB_F_IIF) && !oif) {
		*what = "fib iif without an input device";
		return 0;
	}
	/* nft_fib_can_skip(): a socket found by early demux, else loopback */
	if (!sk && is_loopback(st, p, in))
		return store_dev(st, e, (int)in->index, out, len, what);
	if (tos_matters(st, p)) {
		*what = "fib: ip rules or routes select by DSCP, which the flow does not determine";
		return 0;
	}
	if (!v6) {
		if (v4_zeronet(&p->src) && (v4_lbcast(&p->dst) || v4_local_multicast(&p->dst)))
			return store_dev(st, e, (int)in->index, out, len, what);
		q.tos = (uint8_t)(p->dscp << 2);
		q.dst = daddr ? p->dst : p->src;
		q.src = v4_get_saddr(daddr ? &p->src : &p->dst);
	} else {
		/* nft_fib_v6_skip_icmpv6(): DAD and the like */
		if (p->l4proto == IPPROTO_ICMPV6 && v6_any(&p->src) && v6_linklocal(&p->dst))
			return store_dev(st, e, (int)in->index, out, len, what);
		q.dst = daddr ? p->dst : p->src;
		q.src = daddr ? p->src : p->dst;
		if (!v6_unicast(&q.src))
			q.src = (struct cg_addr){ .family = AF_INET6 };
		if (v6_linklocal(&q.dst))
			q.oif = (int)(oif ? oif->index : in->index);
		q.proto = p->l4proto;
		q.tos = (uint8_t)(p->dscp << 2);
	}
	if (route_fib_lookup(st, &q, &res) < 0) {
		*what = "fib: a lookup the routing state cannot answer";
		return 0;
	}
	if (res.uncertain & UNCERTAIN_FOR_FIB)
		return fib_uncertain(&res, what);
	if (res.error || res.type == RTN_LOCAL || (v6 && res.type == RTN_ANYCAST)) {
		found = 0;   /* no route back, or one that says "this host" */
	} else if (!oif) {
		found = res.ifindex;
	} else if (v6) {
		found = res.ifindex == (int)oif->index ? res.ifindex : 0;
	} else {
		/* fib_info_nh_uses_dev(): any nexthop of the route */
		for (unsigned i = 0; i < res.n_hops; i++)
			if (res.hops[i].ifindex == (int)oif->index)
				found = res.hops[i].ifindex;
	}
	if (sk && found != (int)in->index) {
		*what = "fib at input for an established connection: early demux may answer with the "
			"input device without a lookup";
		return 0;
	}
	return store_dev(st, e, found, out, len, what);
}

/* nf_ipv6_chk_addr(net, addr, dev, strict): an address of dev */
static bool v6_addr_on(const struct route_state *st, const struct cg_addr *a, int dev)
{
	for (size_t i = 0; i < st->n_addrs; i++) {
		const struct route_addr *x = &st->addrs[i];
		if (x->family == AF_INET6 && x->ifindex == dev && addr_equal(&x->local, a) &&
		    (!(x->flags & IFA_F_TENTATIVE) || (x->flags & IFA_F_OPTIMISTIC)))
			return true;
	}
	return false;
}

/* ipv6_anycast_destination(): an anycast route, or the subnet-router
 * anycast address of a connected prefix */
static bool v6_anycast_dst(const struct route_result *res, const struct cg_addr *dst)
{
	if (res->type == RTN_ANYCAST)
		return true;
	return res->have_prefix && res->prefix.len < 127 && res->gateway.family == AF_UNSPEC &&
	       addr_equal(&res->prefix.addr, dst);
}

/* __nft_fib6_eval_type() */
static int type6(const struct exec *x, const struct ctx *c, const struct route_state *st,
		 const struct cg_iface *dev, uint32_t flags, uint32_t *type, const char **what)
{
	const struct cg_packet *p = &x->pkt;
	bool daddr = flags & NFTA_FIB_F_DADDR;
	struct route_packet rp = {
		.dst = daddr ? p->dst : p->src,
		.src = daddr ? p->src : p->dst,
		.mark = (flags & NFTA_FIB_F_MARK) ? p->mark : 0,
		.uid_set = true,
		.uid = 0,
		.ipproto = p->l4proto,
	};
	struct route_result res;
	uint32_t ret = 0;

	if (!v6_unicast(&rp.src))
		rp.src = (struct cg_addr){ 0 };
	if (v6_linklocal(&rp.dst)) {
		const struct cg_iface *skb_dev = dev ? dev : input_hook(c->hook) ? dev_in(x, c->hook) : NULL;
		if (!skb_dev) {
			*what = "fib type of a link-local address without its device";
			return 0;
		}
		rp.oif = (int)skb_dev->index;
	}
	if (dev && v6_addr_on(st, &rp.dst, (int)dev->index))
		ret = RTN_LOCAL;
	if (route_lookup(st, &rp, &res) < 0) {
		*what = "fib type: a lookup the routing state cannot answer";
		return 0;
	}
	if (res.uncertain & (ROUTE_UNCERTAIN_RESULT | ROUTE_UNCERTAIN_TYPE))
		return fib_uncertain(&res, what);
	if (res.error) {
		switch (res.type) {
		case RTN_BLACKHOLE: *type = RTN_BLACKHOLE; break;
		case RTN_PROHIBIT: *type = RTN_PROHIBIT; break;
		case RTN_THROW: *type = RTN_THROW; break;
		default: *type = RTN_UNREACHABLE; break;
		}
		return 1;
	}
	if (v6_anycast_dst(&res, &rp.dst))
		ret = RTN_ANYCAST;
	else if (!dev && res.type == RTN_LOCAL)
		ret = RTN_LOCAL;
	if (!ret)
		ret = v6_multicast(&rp.dst) ? RTN_MULTICAST : v6_unicast(&rp.dst) ? RTN_UNICAST : RTN_UNSPEC;
	*type = ret;
	return 1;
}

/* nft_fib4_eval_type() / nft_fib6_eval_type() */
static int eval_type(const struct exec *x, const struct ctx *c, const struct route_state *st,
		     const struct cg_expr *e, uint8_t *out, uint32_t *len, const char **what)
{
	const struct cg_packet *p = &x->pkt;
	uint32_t flags = e->fib.flags, type;
	const struct cg_iface *dev = flag_dev(x, c->hook, flags);

	if ((flags & (NFTA_FIB_F_IIF | NFTA_FIB_F_OIF)) && !dev) {
		*what = "fib type on a device the packet does not have here";
		return 0;
	}
	if (p->nfproto == NFPROTO_IPV6) {
		if (tos_matters(st, p)) {
			*what = "fib: ip rules select by DSCP or flow label, which the flow does not determine";
			return 0;
		}
		if (!type6(x, c, st, dev, flags, &type, what))
			return 0;
	} else {
		const char *why;
		int t = route_fib_addr_type4(st, (flags & NFTA_FIB_F_DADDR) ? &p->dst : &p->src,
					     dev ? (int)dev->index : 0, &why);
		if (t < 0) {
			*what = why;
			return 0;
		}
		type = (uint32_t)t;
	}
	memset(out, 0, 16);
	memcpy(out, &type, 4);
	*len = 4;
	return 1;
}

int nf_fib_eval(const struct exec *x, const struct ctx *c, const struct cg_expr *e, uint8_t out[16],
		uint32_t *len, const char **what)
{
	const struct route_state *st = c->env ? c->env->routes : NULL;

	if (!st || !st->index) {
		*what = "fib (no routing state to look it up in)";
		return 0;
	}
	if (x->pkt.nfproto != NFPROTO_IPV4 && x->pkt.nfproto != NFPROTO_IPV6) {
		*what = "fib on a packet that is neither IPv4 nor IPv6";
		return 0;
	}
	if (!hook_allowed(e, c->hook)) {
		*what = "fib where the kernel does not allow it";
		return 0;
	}
	if (c->hook == NF_INET_FORWARD) {
		*what = "fib in forward (forwarded packets are not simulated)";
		return 0;
	}
	if (e->fib.result == NFT_FIB_RESULT_ADDRTYPE)
		return eval_type(x, c, st, e, out, len, what);
	return eval_oif(x, c, st, e, out, len, what);
}
