/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Source address selection: inet_select_addr() for IPv4 and
 * ipv6_dev_get_saddr() (RFC 6724 with the kernel's rule order and default
 * policy table) for IPv6. */
#include "config.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route.h"
#include "route-internal.h"

/* ---- IPv4 ----------------------------------------------------------------- */

static bool v4_ifa_match(const struct route_addr *a, const struct cg_addr *dst)
{
	const struct cg_addr *net = a->peer.family ? &a->peer : &a->local;
	return addr_prefix_match(net, dst, a->prefixlen);
}

/* in_dev_select_addr(): the fallback over other devices. */
static bool v4_select_on_other_dev(struct route_lookup_ctx *lk, int ifindex, uint8_t scope,
				   struct cg_addr *out)
{
	const struct route_state *st = lk->st;
	const struct route_index *ix = lk->ix;

	/* Devices in ifindex order, loopback first: the kernel walks its
	 * device list, which is registration order. */
	for (size_t i = 0; i < st->n_links; i++) {
		const struct route_link *l = &st->links[ix ? ix->links_by_index[i] : i];
		if (l->ifindex == ifindex)
			continue;
		for (size_t k = 0; k < st->n_addrs; k++) {
			const struct route_addr *a = &st->addrs[k];
			if (a->family != AF_INET || a->ifindex != l->ifindex || (a->flags & IFA_F_SECONDARY))
				continue;
			if (a->scope != RT_SCOPE_LINK && a->scope <= scope) {
				*out = a->local;
				return true;
			}
		}
	}
	return false;
}

bool route_select_addr4(struct route_lookup_ctx *lk, int ifindex, const struct cg_addr *gw,
			uint8_t scope, struct cg_addr *out)
{
	const struct route_link *l = route_state_link(lk->st, ifindex);
	uint8_t localnet_scope = RT_SCOPE_HOST;
	bool found = false;

	if (l && route_conf_or(lk, l, ROUTE_CONF(route_localnet)))
		localnet_scope = RT_SCOPE_LINK;
	for (size_t i = 0; i < lk->st->n_addrs; i++) {
		const struct route_addr *a = &lk->st->addrs[i];
		uint8_t s;

		if (a->family != AF_INET || a->ifindex != ifindex || (a->flags & IFA_F_SECONDARY))
			continue;
		s = a->scope < localnet_scope ? a->scope : localnet_scope;
		if (s > scope)
			continue;
		if (!gw || v4_ifa_match(a, gw)) {
			*out = a->local;
			return true;
		}
		if (!found) {
			*out = a->local;
			found = true;
		}
	}
	if (found)
		return true;
	if (l && l->master)
		route_mark_uncertain(lk, ROUTE_UNCERTAIN_SOURCE, "source selection in a VRF is not simulated");
	return v4_select_on_other_dev(lk, ifindex, scope, out);
}

/* ---- IPv6 ----------------------------------------------------------------- */

enum {
	SCOPE_NODELOCAL = 0x01,
	SCOPE_LINKLOCAL = 0x02,
	SCOPE_SITELOCAL = 0x05,
	SCOPE_GLOBAL = 0x0e,
};

/* __ipv6_addr_type() reduced to what selection needs: -1 for the
 * unspecified and multicast addresses (never candidates), else the scope. */
static int v6_scope(const struct cg_addr *a, bool *special)
{
	const uint8_t *b = a->bytes;
	static const uint8_t zero[16];
	static const uint8_t loopback[16] = { [15] = 1 };

	*special = false;
	if (b[0] == 0xff)
		return b[1] & 0x0f; /* multicast scope */
	if ((b[0] & 0xe0) != 0 && (b[0] & 0xe0) != 0xe0)
		return SCOPE_GLOBAL;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return SCOPE_LINKLOCAL;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return SCOPE_SITELOCAL;
	if ((b[0] & 0xfe) == 0xfc)
		return SCOPE_GLOBAL;
	if (memcmp(b, zero, 16) == 0)
		return -1;
	if (memcmp(b, loopback, 16) == 0) {
		*special = true; /* IPV6_ADDR_LOOPBACK: always "preferred" */
		return SCOPE_NODELOCAL;
	}
	if (memcmp(b, zero, 10) == 0 && ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0)))
		*special = true; /* mapped / compatible */
	return SCOPE_GLOBAL;
}

/* The default address label table (ip6addrlbl_init_table). */
static unsigned v6_label(const struct cg_addr *a)
{
	static const struct { uint8_t prefix[16]; uint8_t len; unsigned label; } table[] = {
		{ { [15] = 1 }, 128, 0 },
		{ { [10] = 0xff, [11] = 0xff }, 96, 4 },
		{ { 0 }, 96, 3 },
		{ { 0x20, 0x01, 0x00, 0x10 }, 28, 7 },
		{ { 0x20, 0x01 }, 32, 6 },
		{ { 0x20, 0x02 }, 16, 2 },
		{ { 0x3f, 0xfe }, 16, 12 },
		{ { 0xfe, 0xc0 }, 10, 11 },
		{ { 0xfc }, 7, 5 },
		{ { 0 }, 0, 1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		struct cg_addr p = { .family = AF_INET6 };
		memcpy(p.bytes, table[i].prefix, 16);
		if (addr_prefix_match(&p, a, table[i].len))
			return table[i].label;
	}
	return 1;
}

static bool v6_orchid(const struct cg_addr *a)
{
	return a->bytes[0] == 0x20 && a->bytes[1] == 0x01 && a->bytes[2] == 0x00 &&
	       (a->bytes[3] & 0xf0) == 0x10;
}

static unsigned v6_common_bits(const struct cg_addr *a, const struct cg_addr *b)
{
	for (unsigned i = 0; i < 128; i++)
		if (addr_bit(a, i) != addr_bit(b, i))
			return i;
	return 128;
}

#define N_RULES 11

/* ipv6_get_saddr_eval(), rule by rule: INIT, LOCAL, SCOPE, PREFERRED, HOA,
 * OIF, LABEL, PRIVACY, ORCHID, PREFIX, NOT_OPTIMISTIC. Higher is better. */
static void v6_score(const struct route_lookup_ctx *lk, const struct route_addr *a,
		     const struct cg_addr *daddr, int dst_scope, int dst_ifindex, int score[N_RULES])
{
	const struct route_link *l = route_state_link(lk->st, a->ifindex);
	bool special;
	int s = v6_scope(&a->local, &special);
	unsigned match;
	int use_tempaddr = l && l->conf.use_tempaddr >= 0 ? l->conf.use_tempaddr : 0;

	score[0] = 1;
	score[1] = addr_equal(&a->local, daddr);
	score[2] = s >= dst_scope ? -s : s - 128;
	score[3] = special || !(a->flags & (IFA_F_DEPRECATED | IFA_F_OPTIMISTIC));
	score[4] = (a->flags & IFA_F_HOMEADDRESS) != 0;
	score[5] = !dst_ifindex || dst_ifindex == a->ifindex;
	score[6] = v6_label(&a->local) == v6_label(daddr);
	score[7] = !(a->flags & IFA_F_TEMPORARY) ^ (use_tempaddr >= 2);
	score[8] = !(v6_orchid(&a->local) ^ v6_orchid(daddr));
	match = v6_common_bits(&a->local, daddr);
	score[9] = (int)(match > a->prefixlen ? a->prefixlen : match);
	score[10] = !(a->flags & IFA_F_OPTIMISTIC);
}

static void v6_consider_dev(const struct route_lookup_ctx *lk, int ifindex, const struct cg_addr *daddr,
			    int dst_scope, int dst_ifindex, int best[N_RULES], const struct route_addr **hi)
{
	for (size_t i = 0; i < lk->st->n_addrs; i++) {
		const struct route_addr *a = &lk->st->addrs[i];
		int score[N_RULES];
		bool special;
		int s;

		if (a->family != AF_INET6 || a->ifindex != ifindex)
			continue;
		if ((a->flags & IFA_F_TENTATIVE) && !(a->flags & IFA_F_OPTIMISTIC))
			continue;
		s = v6_scope(&a->local, &special);
		if (s < 0 || a->local.bytes[0] == 0xff)
			continue;
		v6_score(lk, a, daddr, dst_scope, dst_ifindex, score);
		for (int r = 0; r < N_RULES; r++) {
			if (best[r] > score[r])
				break;
			if (best[r] < score[r]) {
				memcpy(best, score, sizeof(score));
				*hi = a;
				break;
			}
		}
	}
}

bool route_select_addr6(struct route_lookup_ctx *lk, int ifindex, const struct cg_addr *daddr,
			struct cg_addr *out)
{
	const struct route_link *dev = ifindex ? route_state_link(lk->st, ifindex) : NULL;
	const struct route_addr *hi = NULL;
	int best[N_RULES] = { 0 };
	bool special;
	int dst_scope = v6_scope(daddr, &special);
	bool oif_only = false;

	if (dev && (daddr->bytes[0] == 0xff || dst_scope <= SCOPE_LINKLOCAL ||
		    dev->conf.use_oif_addrs_only > 0 || lk->st->sysctl.all.use_oif_addrs_only > 0))
		oif_only = true;
	if (oif_only) {
		v6_consider_dev(lk, ifindex, daddr, dst_scope, ifindex, best, &hi);
	} else {
		for (size_t i = 0; i < lk->st->n_links; i++) {
			const struct route_link *l = &lk->st->links[lk->ix ? lk->ix->links_by_index[i] : i];
			if (l->master || (dev && dev->master))
				route_mark_uncertain(lk, ROUTE_UNCERTAIN_SOURCE,
						     "source selection across a VRF is not simulated");
			v6_consider_dev(lk, l->ifindex, daddr, dst_scope, ifindex, best, &hi);
		}
	}
	if (!hi)
		return false;
	*out = hi->local;
	return true;
}
