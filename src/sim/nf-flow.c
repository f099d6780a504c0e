/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A conversation as the kernel sees it: the opener's first packet is NEW in
 * the original direction; everything after it is ESTABLISHED, the answer in
 * the reply direction (conntrack sets SEEN_REPLY before filter hooks run). */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/sim-netfilter.h"

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10

const char *sim_leg_to_string(enum sim_leg leg)
{
	switch (leg) {
	case SIM_LEG_REQUEST: return "request";
	case SIM_LEG_REQUEST_EST: return "request (established)";
	case SIM_LEG_REPLY: return "reply";
	case SIM_LEG_REPLY_DATA: return "reply (data)";
	default: return "?";
	}
}

/* Is the leg sent by this host (output path) or received (input path)? */
static bool leg_sent_by_host(const struct sim_flow *f, enum sim_leg leg)
{
	bool opener_leg = leg == SIM_LEG_REQUEST || leg == SIM_LEG_REQUEST_EST;
	return opener_leg != f->inbound;
}

void sim_leg_packet(const struct sim_flow *f, enum sim_leg leg, uint32_t ct_mark, struct cg_packet *p)
{
	bool opener_leg = leg == SIM_LEG_REQUEST || leg == SIM_LEG_REQUEST_EST;
	bool from_host = leg_sent_by_host(f, leg);
	/* the opener's side of the tuple */
	const struct cg_addr *osrc = f->inbound ? &f->remote : &f->local;
	const struct cg_addr *odst = f->inbound ? &f->local : &f->remote;
	uint16_t osport = f->inbound ? f->remote_port : f->local_port;
	uint16_t odport = f->inbound ? f->local_port : f->remote_port;

	memset(p, 0, sizeof(*p));
	p->nfproto = f->nfproto;
	p->l4proto = f->l4proto;
	p->src = opener_leg ? *osrc : *odst;
	p->dst = opener_leg ? *odst : *osrc;
	p->sport = opener_leg ? osport : odport;
	p->dport = opener_leg ? odport : osport;
	if (from_host) {
		p->oif = f->dev;
		p->locally_generated = true;
		p->mark = f->mark;
		p->skuid = f->uid;
		p->skgid = f->gid;
	} else {
		p->iif = f->dev;
		p->pkttype = PACKET_HOST;
	}
	switch (leg) {
	case SIM_LEG_REQUEST:
		p->ct.state = CG_CT_NEW;
		p->ct.dir = IP_CT_DIR_ORIGINAL;
		p->tcp_flags = TCP_FLAG_SYN;
		break;
	case SIM_LEG_REQUEST_EST:
		p->ct.state = CG_CT_ESTABLISHED;
		p->ct.dir = IP_CT_DIR_ORIGINAL;
		p->ct.status = IPS_SEEN_REPLY | IPS_CONFIRMED;
		p->tcp_flags = TCP_FLAG_ACK | TCP_FLAG_PSH;
		break;
	case SIM_LEG_REPLY:
		p->ct.state = CG_CT_ESTABLISHED;
		p->ct.dir = IP_CT_DIR_REPLY;
		p->ct.status = IPS_SEEN_REPLY | IPS_CONFIRMED;
		p->tcp_flags = TCP_FLAG_SYN | TCP_FLAG_ACK;
		break;
	case SIM_LEG_REPLY_DATA:
	default:
		p->ct.state = CG_CT_ESTABLISHED;
		p->ct.dir = IP_CT_DIR_REPLY;
		p->ct.status = IPS_SEEN_REPLY | IPS_CONFIRMED;
		p->tcp_flags = TCP_FLAG_ACK | TCP_FLAG_PSH;
		break;
	}
	if (p->l4proto != IPPROTO_TCP)
		p->tcp_flags = 0;
	p->ct.mark = ct_mark;
	p->ct.orig = (struct cg_tuple){ *osrc, *odst, osport, odport };
	p->ct.reply = (struct cg_tuple){ *odst, *osrc, odport, osport };
	p->ttl = 64;
	/* what the flow does not say (length, TTL, DSCP, a SYN's options, ...):
	 * the values above and below are placeholders, matches on them unknown;
	 * of the TCP flags, ECN's (negotiated) and PSH (how data is cut) */
	p->unknown = CG_PKT_U_UNDETERMINED;
	if (p->l4proto == IPPROTO_TCP)
		p->tcp_flags_unknown = 0x80 | 0x40 | (p->tcp_flags & TCP_FLAG_SYN ? 0 : TCP_FLAG_PSH);
	p->ct_status_unknown = IPS_ASSURED | IPS_NAT_MASK | IPS_NAT_DONE_MASK;
	uint16_t l4 = p->l4proto == IPPROTO_TCP ? 20 : 8;
	uint16_t payload = (leg == SIM_LEG_REQUEST || leg == SIM_LEG_REPLY) && p->l4proto == IPPROTO_TCP ? 0 : 32;
	p->len = (uint16_t)((f->nfproto == NFPROTO_IPV6 ? 40 : 20) + l4 + payload);
}

/* The device of ifindex as a hook sees it. */
static void iface_of(const struct route_state *st, int ifindex, struct cg_iface *dev)
{
	const struct route_link *l = route_state_link(st, ifindex);

	memset(dev, 0, sizeof(*dev));
	dev->index = (uint32_t)ifindex;
	if (l) {
		snprintf(dev->name, sizeof(dev->name), "%s", l->name);
		dev->type = l->type;
		dev->group = l->group;
	}
}

/* ip_route_me_harder() / ip6_route_me_harder(): the route of a packet the
 * host sends, looked up again with the mark (and addresses) the route-type
 * chain left it with. The source stays the one the first route chose. */
static void reroute_sent(const struct sim_flow *f, const struct hook_result *h, struct cg_packet *p,
			 struct sim_leg_result *lr)
{
	struct route_packet q = { 0 };
	struct route_result r;

	q.dst = h->reroute_dst;
	q.src = h->reroute_src;
	q.mark = h->reroute_mark;
	q.ipproto = p->l4proto;
	q.sport = p->sport;
	q.dport = p->dport;
	q.uid_set = true;
	/* IPv4 leaves the flow's uid unset (0); IPv6 takes the socket's */
	q.uid = p->nfproto == NFPROTO_IPV6 ? f->uid : 0;
	if (route_lookup(f->routes, &q, &r) < 0 || (r.uncertain & (ROUTE_UNCERTAIN_DEV | ROUTE_UNCERTAIN_RESULT))) {
		lr->verdict = SIM_UNCERTAIN;
		lr->route_why = "the route after a route-type chain changed the mark";
		return;
	}
	if (r.error) {
		lr->verdict = SIM_DROP;
		lr->route_why = r.reason ? r.reason : "no route after a route-type chain changed the mark";
		return;
	}
	lr->rerouted = true;
	iface_of(f->routes, r.ifindex, &lr->dev);
	p->oif = lr->dev;
}

/* ip_route_input(): a packet the host receives, after PREROUTING, with the
 * mark it has then: local delivery, the source check (rp_filter, which
 * uses the mark only with src_valid_mark) on the way. */
static void route_received(const struct sim_flow *f, const struct cg_packet *p, struct sim_leg_result *lr)
{
	struct route_packet q = { 0 };
	struct route_result r;

	q.dst = p->dst;
	q.src = p->src;
	q.mark = p->mark;
	q.iif = (int)p->iif.index;
	q.ipproto = p->l4proto;
	q.sport = p->sport;
	q.dport = p->dport;
	if (route_lookup(f->routes, &q, &r) < 0 || (r.uncertain & ROUTE_UNCERTAIN_RESULT)) {
		lr->verdict = SIM_UNCERTAIN;
		lr->route_why = "the input route (reverse path filter)";
		return;
	}
	if (r.error) {
		lr->verdict = SIM_DROP;
		lr->route_why = r.reason ? r.reason : "no input route";
		return;
	}
	if (r.type != RTN_LOCAL) {
		/* not for this host: forwarded, not delivered */
		lr->verdict = SIM_UNCERTAIN;
		lr->route_why = "the input route (not to a local address)";
	}
}

/* What the first packet's NAT made of the connection: its destination
 * (DNAT, in the first hook) and its source (SNAT, in the second). */
struct flow_nat {
	bool dnat, snat;
	struct cg_addr daddr, saddr;
	uint16_t dport, sport;          /* 0: unchanged */
};

static void nat_step(struct cg_packet *p, uint32_t hook, int32_t prio, bool src, const struct cg_addr *a,
		     uint16_t port)
{
	if (p->n_nat_steps < ARRAY_SIZE(p->nat_steps))
		p->nat_steps[p->n_nat_steps++] = (struct cg_nat_step){ hook, prio, src, *a, port };
}

#define PRI_NAT_DST (-100)
#define PRI_NAT_SRC 100

/* A later packet of a NATed connection, as conntrack has it: the opener's
 * translated again at the nat hooks' priorities; the answers arrive (or
 * leave) addressed to the translated tuple and are translated back (the
 * destination at NAT_DST of the first hook, the source at NAT_SRC of the
 * second: filter INPUT sees a DNATed connection's answers from the endpoint,
 * not from the address the host asked for). */
static void leg_nat(const struct sim_flow *f, enum sim_leg leg, const struct flow_nat *n, struct cg_packet *p)
{
	bool opener_leg = leg == SIM_LEG_REQUEST || leg == SIM_LEG_REQUEST_EST;
	bool from_host = leg_sent_by_host(f, leg);
	uint32_t first = from_host ? NF_INET_LOCAL_OUT : NF_INET_PRE_ROUTING;
	uint32_t second = from_host ? NF_INET_POST_ROUTING : NF_INET_LOCAL_IN;
	struct cg_tuple orig = p->ct.orig;

	if (!n->dnat && !n->snat)
		return;
	/* the reply tuple: from the translated destination to the translated source */
	p->ct.reply = (struct cg_tuple){ n->dnat ? n->daddr : orig.dst, n->snat ? n->saddr : orig.src,
					 n->dnat && n->dport ? n->dport : orig.dport,
					 n->snat && n->sport ? n->sport : orig.sport };
	if (opener_leg) {
		if (n->dnat)
			nat_step(p, first, PRI_NAT_DST, false, &n->daddr, n->dport);
		if (n->snat)
			nat_step(p, second, PRI_NAT_SRC, true, &n->saddr, n->sport);
		return;
	}
	p->src = p->ct.reply.src;
	p->dst = p->ct.reply.dst;
	p->sport = p->ct.reply.sport;
	p->dport = p->ct.reply.dport;
	if (n->snat)
		nat_step(p, first, PRI_NAT_DST, false, &orig.src, orig.sport);
	if (n->dnat)
		nat_step(p, second, PRI_NAT_SRC, true, &orig.dst, orig.dport);
}

static int run_leg(const struct sim_index *idx, const struct sim_variant *v, const struct cg_addr_env *env,
		   const struct sim_flow *f, enum sim_leg leg, uint32_t *ct_mark, const struct flow_nat *nat,
		   struct sim_leg_result *lr)
{
	bool from_host = leg_sent_by_host(f, leg);
	struct cg_packet p;
	int r;

	sim_leg_packet(f, leg, *ct_mark, &p);
	leg_nat(f, leg, nat, &p);
	lr->present = true;
	lr->pkt = p;
	lr->dev = f->dev;
	lr->hooks[0] = from_host ? NF_INET_LOCAL_OUT : NF_INET_PRE_ROUTING;
	lr->hooks[1] = from_host ? NF_INET_POST_ROUTING : NF_INET_LOCAL_IN;
	lr->verdict = SIM_ACCEPT;
	lr->deciding_hook = -1;
	for (int h = 0; h < 2; h++) {
		r = evaluate_hook_variant(idx, v, &p, lr->hooks[h], env, &lr->res[h]);
		if (r < 0)
			return r;
		if (lr->res[h].verdict == SIM_DROP) {
			lr->verdict = SIM_DROP;
			lr->deciding_hook = h;
			break;
		}
		if (lr->res[h].verdict == SIM_UNCERTAIN && lr->verdict != SIM_UNCERTAIN) {
			lr->verdict = SIM_UNCERTAIN;
			lr->deciding_hook = h;
		}
		if (h == 1 || !f->routes)
			continue;
		/* the route between the two hooks */
		enum sim_verdict before = lr->verdict;
		if (from_host && lr->res[0].reroute)
			reroute_sent(f, &lr->res[0], &p, lr);
		else if (!from_host)
			route_received(f, &p, lr);
		if (lr->verdict == SIM_DROP) {
			lr->deciding_hook = -1;
			break;
		}
		if (lr->verdict != before)
			lr->deciding_hook = -1;
	}
	*ct_mark = p.ct.mark;
	return 0;
}

/* DROP beats UNCERTAIN beats ACCEPT. */
static enum sim_verdict combine(enum sim_verdict a, enum sim_verdict b)
{
	if (a == SIM_DROP || b == SIM_DROP)
		return SIM_DROP;
	if (a == SIM_UNCERTAIN || b == SIM_UNCERTAIN)
		return SIM_UNCERTAIN;
	return SIM_ACCEPT;
}

int simulate_flow(const struct sim_index *idx, const struct cg_addr_env *env,
		  const struct sim_flow *f, struct flow_result *res)
{
	return simulate_flow_variant(idx, NULL, env, f, res);
}

int simulate_flow_variant(const struct sim_index *idx, const struct sim_variant *v,
			  const struct cg_addr_env *env, const struct sim_flow *f, struct flow_result *res)
{
	static const enum sim_leg order[] = {
		SIM_LEG_REQUEST, SIM_LEG_REPLY, SIM_LEG_REQUEST_EST, SIM_LEG_REPLY_DATA,
	};
	uint32_t ct_mark = 0;
	struct sim_flow g = *f;
	struct cg_iface in_dev = f->dev, out_dev = f->dev;
	struct flow_nat nat = { 0 };
	int r;

	memset(res, 0, sizeof(*res));
	res->request = res->reply = SIM_ACCEPT;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		enum sim_leg leg = order[i];
		if ((leg == SIM_LEG_REQUEST_EST || leg == SIM_LEG_REPLY_DATA) && f->l4proto != IPPROTO_TCP)
			continue;
		/* the host's packets start on the socket's route (f->dev) each
		 * time; what it receives arrives where its first packet left */
		g.dev = leg_sent_by_host(f, leg) ? out_dev : in_dev;
		r = run_leg(idx, v, env, &g, leg, &ct_mark, &nat, &res->legs[leg]);
		if (r < 0) {
			flow_result_free(res);
			return r;
		}
		/* the answer comes back where the first packet left */
		if (leg == SIM_LEG_REQUEST && !f->inbound && res->legs[leg].rerouted)
			in_dev = res->legs[leg].dev;
		if (leg == SIM_LEG_REQUEST) {
			const struct sim_leg_result *lr = &res->legs[leg];

			/* a DNATed connection's later packets take the route
			 * of the translated destination */
			if (!f->inbound && lr->rerouted && lr->res[0].dnat)
				out_dev = lr->dev;
			if (lr->res[0].dnat && lr->res[0].nat_addr.family) {
				nat.dnat = true;
				nat.daddr = lr->res[0].nat_addr;
				nat.dport = lr->res[0].nat_port;
			}
			if (lr->res[1].snat && lr->res[1].nat_addr.family) {
				nat.snat = true;
				nat.saddr = lr->res[1].nat_addr;
				nat.sport = lr->res[1].nat_port;
			}
		}
		enum sim_verdict lv = res->legs[leg].verdict;
		if (leg == SIM_LEG_REQUEST || leg == SIM_LEG_REQUEST_EST)
			res->request = combine(res->request, lv);
		else
			res->reply = combine(res->reply, lv);
	}
	res->verdict = combine(res->request, res->reply);
	return 0;
}

void flow_result_free(struct flow_result *res)
{
	for (int l = 0; l < _SIM_LEG_MAX; l++)
		for (int h = 0; h < 2; h++)
			if (res->legs[l].present)
				hook_result_free(&res->legs[l].res[h]);
	memset(res, 0, sizeof(*res));
}
