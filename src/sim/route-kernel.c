/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The live lookup: ask the kernel (RTM_GETROUTE, what `ip route get` does)
 * for the route, then again with RTM_F_FIB_MATCH for the matched prefix and
 * its nexthops. The only function of the simulator that does I/O. */
#include "config.h"

#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"

#define KERNEL_MAX_PATHS 64

struct reply {
	bool seen;
	struct route_desc e;
	struct route_path paths[KERNEL_MAX_PATHS];
	size_t n_paths;
};

static int reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply *rp = data;
	int r;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	r = rtnl_route_from_msg(nlh, &rp->e, rp->paths, KERNEL_MAX_PATHS, &rp->n_paths);
	if (r < 0)
		return r;
	rp->seen = true;
	return 0;
}

static void put_addr(struct nlmsghdr *nlh, uint16_t type, const struct cg_addr *a)
{
	mnl_attr_put(nlh, type, (size_t)addr_family_len(a->family), a->bytes);
}

static struct nlmsghdr *build_request(struct nl_sock *s, const struct route_packet *p, unsigned flags)
{
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	int bits = addr_family_bits(p->dst.family);

	rtm->rtm_family = (uint8_t)p->dst.family;
	rtm->rtm_dst_len = (uint8_t)bits;
	rtm->rtm_tos = p->tos;
	rtm->rtm_flags = flags;
	put_addr(nlh, RTA_DST, &p->dst);
	if (p->src.family) {
		rtm->rtm_src_len = (uint8_t)bits;
		put_addr(nlh, RTA_SRC, &p->src);
	}
	if (p->mark)
		mnl_attr_put_u32(nlh, RTA_MARK, p->mark);
	if (p->iif)
		mnl_attr_put_u32(nlh, RTA_IIF, (uint32_t)p->iif);
	if (p->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)p->oif);
	if (p->uid_set)
		mnl_attr_put_u32(nlh, RTA_UID, p->uid);
	if (p->ipproto)
		mnl_attr_put_u8(nlh, RTA_IP_PROTO, p->ipproto);
	if (p->sport)
		mnl_attr_put_u16(nlh, RTA_SPORT, htons(p->sport));
	if (p->dport)
		mnl_attr_put_u16(nlh, RTA_DPORT, htons(p->dport));
	return nlh;
}

/* The errors `ip route get` reports as the answer, not as a failure. */
static bool is_route_error(int err, const char *ext)
{
	switch (err) {
	case -ENETUNREACH:
	case -EHOSTUNREACH:
	case -EACCES:
	case -ENODEV:
	case -EXDEV:
		return true;
	case -EINVAL:
		/* Also a malformed request; the kernel then says why. */
		return !ext || !*ext;
	default:
		return false;
	}
}

static uint8_t error_type(int err)
{
	switch (err) {
	case -ENETUNREACH:
	case -EHOSTUNREACH:
		return RTN_UNREACHABLE;
	case -EACCES:
		return RTN_PROHIBIT;
	case -EINVAL:
		return RTN_BLACKHOLE;
	default:
		return RTN_UNSPEC;
	}
}

static const char *error_reason(int err)
{
	switch (err) {
	case -ENETUNREACH:
		return "Network is unreachable";
	case -EHOSTUNREACH:
		return "No route to host";
	case -EACCES:
		return "Permission denied (prohibit)";
	case -EINVAL:
		return "Invalid argument (a blackhole, or a packet the kernel refuses)";
	case -ENODEV:
		return "No such device";
	default:
		return "routing error";
	}
}

static void fill_hops(const struct route_state *st, const struct reply *rp, struct route_result *res)
{
	const struct route_nhobj *o = rp->e.nh_id && st ? route_state_nhobj(st, rp->e.nh_id) : NULL;

	res->n_hops = 0;
	for (size_t i = 0; i < rp->n_paths && res->n_hops < ROUTE_MAX_HOPS; i++) {
		struct route_hop *h = &res->hops[res->n_hops++];
		h->ifindex = rp->paths[i].ifindex;
		h->gateway = rp->paths[i].gateway;
		h->weight = rp->paths[i].weight;
		h->flags = rp->paths[i].flags | (o ? o->flags : 0);
		h->usable = !(h->flags & RTNH_F_DEAD);
	}
}

struct route_kernel {
	struct nl_sock *s;
};

int route_kernel_open(struct route_kernel **ret)
{
	struct route_kernel *k = xcalloc(1, sizeof(*k));
	int r = nl_open(&k->s);

	if (r < 0) {
		free(k);
		return r;
	}
	*ret = k;
	return 0;
}

void route_kernel_close(struct route_kernel *k)
{
	if (!k)
		return;
	nl_close(k->s);
	free(k);
}

int route_lookup_kernel(const struct route_state *st, const struct route_packet *p,
			struct route_result *res)
{
	struct route_kernel *k = NULL;
	int r;

	route_result_init(res, p->dst.family);
	res->input = p->iif != 0;
	if (p->dst.family != AF_INET && p->dst.family != AF_INET6)
		return -EINVAL;
	r = route_kernel_open(&k);
	if (r < 0)
		return r;
	r = route_kernel_lookup(k, st, p, res);
	route_kernel_close(k);
	return r;
}

int route_kernel_lookup(struct route_kernel *k, const struct route_state *st, const struct route_packet *p,
			struct route_result *res)
{
	struct nl_sock *s = k->s;
	struct reply plain = { 0 }, match = { 0 };
	char a[CG_ADDRSTRLEN];
	int r;

	route_result_init(res, p->dst.family);
	res->input = p->iif != 0;
	if (p->dst.family != AF_INET && p->dst.family != AF_INET6)
		return -EINVAL;

	/* IPv6 always reports the table; its strict check refuses the flag. */
	r = nl_call(s, build_request(s, p, p->dst.family == AF_INET ? RTM_F_LOOKUP_TABLE : 0), reply_cb, &plain);
	if (r < 0) {
		if (!is_route_error(r, nl_ext_msg(s)))
			return log_error_errno(r, "Failed to ask the kernel for the route to %s%s%s",
					       addr_to_string(&p->dst, a), *nl_ext_msg(s) ? ": " : "",
					       nl_ext_msg(s));
		res->error = r == -EXDEV ? -EINVAL : r;
		res->type = error_type(res->error);
		res->reason = error_reason(res->error);
		res->no_route = r == -ENETUNREACH;
		return 0;
	}
	if (!plain.seen)
		return log_error_errno(-EBADMSG, "The kernel answered the route request for %s without a route",
				       addr_to_string(&p->dst, a));
	res->type = plain.e.type;
	res->table = plain.e.table;
	if (plain.n_paths) {
		res->ifindex = plain.paths[0].ifindex;
		res->gateway = plain.paths[0].gateway;
	}
	/* What the packet leaves with: the given source, else the kernel's
	 * choice; an arriving packet keeps its own (IPv6 reports a route's
	 * prefsrc even then). */
	if (res->input)
		res->source = p->dst.family == AF_INET6 && plain.e.prefsrc.family ? plain.e.prefsrc : p->src;
	else if (p->src.family)
		res->source = p->src;
	else
		res->source = plain.e.prefsrc;

	/* The matched route itself; absent when the kernel made the route up
	 * (an oif-bound socket without a route gets an on-link guess). */
	r = nl_call(s, build_request(s, p, RTM_F_FIB_MATCH), reply_cb, &match);
	if (r == 0 && match.seen) {
		res->have_prefix = true;
		res->prefix = match.e.dst;
		res->metric = match.e.metric;
		if (!res->table)
			res->table = match.e.table;
		fill_hops(st, &match, res);
	}
	return 0;
}
