/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Blind spots besides BPF: what the kernel does to a packet of the host's
 * outside netfilter's rules, as the simulator sees them.
 *
 *   IPVS virtual services       blind-net-ipvs.c
 *   xfrm (IPsec) policies        blind-net-xfrm.c
 *   nft flowtables               here: known, modelled, PASS
 *   bridge netfilter             here: known, modelled, PASS
 *
 * None of them changes anything, and none loads a module to ask. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/flowtable.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blind-net-internal.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"
#include "cgnatcheck/nlsock.h"
#include "cgnatcheck/route-collect.h"
#include "cgnatcheck/route.h"
#include "cgnatcheck/ruleset.h"

static enum blind_effect decide_pass(const struct blind_spot *b, const struct blind_packet *p)
{
	return BLIND_PASS;
}

/* ---- nft flowtables --------------------------------------------------------
 * A flowtable offloads the flows that a forward chain's `flow add @ft`
 * puts there: after that, their packets skip the hooks between ingress and
 * the output device. Only forwarded flows are offloaded; the host's own
 * traffic (every target of the audit is the host's) never takes the fast
 * path, so a flowtable PASSes each of its packets. Recorded all the same,
 * so the report can say what was considered. */

static int flowtable_cb(const struct nlmsghdr *nlh, void *data)
{
	struct blind_spots *b = data;
	struct nftnl_flowtable *ft = nftnl_flowtable_alloc();
	const char *const *devs;
	struct blind_spot *sp;
	char list[160] = "";
	size_t n;

	if (!ft)
		return MNL_CB_OK;
	if (nftnl_flowtable_nlmsg_parse(nlh, ft) < 0) {
		nftnl_flowtable_free(ft);
		return MNL_CB_OK;
	}
	devs = nftnl_flowtable_get_array(ft, NFTNL_FLOWTABLE_DEVICES);
	for (size_t i = 0; devs && devs[i]; i++) {
		n = strlen(list);
		snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", devs[i]);
	}
	sp = blind_add(b);
	sp->kind = BLIND_FLOWTABLE;
	sp->ifindex = 0;
	sp->dirs = BLIND_INGRESS | BLIND_EGRESS;
	sp->decide = decide_pass;
	snprintf(sp->what, sizeof(sp->what),
		 "nft flowtable %s %s %s (devices %s%s): it offloads forwarded flows only, never the host's own",
		 family_to_string((uint8_t)nftnl_flowtable_get_u32(ft, NFTNL_FLOWTABLE_FAMILY)),
		 nftnl_flowtable_get_str(ft, NFTNL_FLOWTABLE_TABLE) ?: "?",
		 nftnl_flowtable_get_str(ft, NFTNL_FLOWTABLE_NAME) ?: "?", list[0] ? list : "none",
		 nftnl_flowtable_get_u32(ft, NFTNL_FLOWTABLE_FLAGS) & NFT_FLOWTABLE_HW_OFFLOAD ?
			 ", hardware offload" : "");
	nftnl_flowtable_free(ft);
	return MNL_CB_OK;
}

static void blind_net_flowtables(struct blind_spots *b)
{
	struct nlconn c;
	struct nlmsghdr *nlh;
	size_t first = b->n;
	int e;

	e = nlconn_open(&c, NETLINK_NETFILTER, MNL_SOCKET_BUFFER_SIZE * 4);
	if (e < 0) {
		blind_note(b, "nft flowtables cannot be read (netlink: %s)", strerror(-e));
		return;
	}
	for (int tries = 0; tries < 3; tries++) {
		while (b->n > first)
			b->n--;
		nlh = nftnl_nlmsg_build_hdr(c.buf, NFT_MSG_GETFLOWTABLE, NFPROTO_UNSPEC, NLM_F_DUMP, ++c.seq);
		e = nlconn_talk(&c, nlh, flowtable_cb, b);
		if (e != -EINTR)
			break;
		nlconn_close(&c);
		if ((e = nlconn_open(&c, NETLINK_NETFILTER, MNL_SOCKET_BUFFER_SIZE * 4)) < 0)
			break;
	}
	/* no nf_tables, or no flowtable support: none can exist */
	if (e < 0 && e != -ENOENT && e != -EOPNOTSUPP && e != -EPROTONOSUPPORT)
		blind_note(b, "nft flowtables cannot be read (%s%s)", strerror(-e),
			   e == -EPERM ? ", needs CAP_NET_ADMIN" : "");
	nlconn_close(&c);
}

/* ---- bridge netfilter ------------------------------------------------------
 * br_netfilter (bridge-nf-call-iptables=1) runs the IP hooks on frames the
 * bridge forwards between its ports. The host's own traffic on a bridge is
 * not bridged: it leaves through the bridge device's IP output (OUTPUT and
 * POSTROUTING with the bridge as out device; br_netfilter's post-routing
 * hook lets a locally made packet go, it has no bridge state) and arrives
 * through PREROUTING (run by br_netfilter from the bridge's own
 * pre-routing, with the bridge as in device; ip_sabotage_in skips the
 * second run in ip_rcv) and INPUT with the bridge as in device. That is
 * the path the simulator takes for a route via the bridge: nothing it sees
 * changes, so PASS. What does differ is only in matches the simulator
 * already leaves unknown (-m physdev: the port the frame came in on). A
 * bridge port carries no routed traffic of the host's (its frames are the
 * bridge's): PASS too. Recorded for the report. */

static int read_sysctl(const char *path)
{
	/* /proc/sys shows the network namespace of the reader */
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	int v;

	if (!f || fscanf(f, "%d", &v) != 1)
		return -1;
	return v;
}

static void blind_net_bridge(struct blind_spots *b)
{
	int v4 = read_sysctl("/proc/sys/net/bridge/bridge-nf-call-iptables");
	int v6 = read_sysctl("/proc/sys/net/bridge/bridge-nf-call-ip6tables");
	_cleanup_nl_sock_ struct nl_sock *s = NULL;
	struct route_state st;
	char which[64];
	int e;

	/* no br_netfilter (no such sysctl), or it calls no IP hook */
	if (v4 <= 0 && v6 <= 0)
		return;
	snprintf(which, sizeof(which), "%s%s%s", v4 > 0 ? "bridge-nf-call-iptables" : "",
		 v4 > 0 && v6 > 0 ? ", " : "", v6 > 0 ? "bridge-nf-call-ip6tables" : "");
	route_state_init(&st);
	e = nl_open(&s);
	if (e >= 0)
		e = rtnl_dump_links(s, &st);
	if (e < 0) {
		blind_note(b, "bridge netfilter is on (%s), but the devices cannot be read (%s)", which,
			   strerror(-e));
		route_state_free(&st);
		return;
	}
	for (size_t i = 0; i < st.n_links; i++) {
		const struct route_link *l = &st.links[i];
		const struct route_link *m = l->master ? route_state_link(&st, l->master) : NULL;
		struct blind_spot *sp;

		if (strcmp(l->kind, "bridge") != 0 && !(m && strcmp(m->kind, "bridge") == 0))
			continue;
		sp = blind_add(b);
		sp->kind = BLIND_BRIDGE_NF;
		sp->ifindex = l->ifindex;
		sp->dirs = BLIND_INGRESS | BLIND_EGRESS;
		sp->decide = decide_pass;
		if (strcmp(l->kind, "bridge") == 0)
			snprintf(sp->what, sizeof(sp->what),
				 "bridge netfilter on bridge %s (%s): the host's own packets cross the IP hooks "
				 "once, with %s as their device, as simulated", l->name, which, l->name);
		else
			snprintf(sp->what, sizeof(sp->what),
				 "bridge netfilter on %s, a port of bridge %s (%s): the host's own traffic goes "
				 "through %s, as simulated", l->name, m->name, which, m->name);
	}
	route_state_free(&st);
}

int blind_collect_net(struct blind_spots *b)
{
	blind_net_ipvs(b);
	blind_net_flowtables(b);
	blind_net_xfrm(b);
	blind_net_bridge(b);
	return 0;
}
