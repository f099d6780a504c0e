/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Blind spots made of BPF and tc: XDP programs (IFLA_XDP in the RTM_GETLINK
 * dump), tc filters (blind-bpf-tc.c) and cgroup BPF programs
 * (blind-bpf-cgroup.c). A program's name takes CAP_SYS_ADMIN (the kernel
 * gives a program's file descriptor to nobody else); without it the blind
 * spot names the program by its id and says so. */
#include "config.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include "blind-bpf-internal.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"

/* ---- XDP ------------------------------------------------------------------- */

struct xdp_prog {
	int ifindex;
	uint8_t attached;
	uint32_t id[3]; /* driver, generic (skb), hardware */
};

struct link_dump {
	struct bpf_devs *devs;
	struct xdp_prog *xdp;
	size_t n_xdp, cap_xdp;
};

static const struct nl_policy link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { NL_A_STRING, 0, "IFLA_IFNAME" },
	[IFLA_XDP] = { NL_A_NESTED, 0, "IFLA_XDP" },
};

static const struct nl_policy xdp_policy[IFLA_XDP_MAX + 1] = {
	[IFLA_XDP_ATTACHED] = { NL_A_U8, 0, "IFLA_XDP_ATTACHED" },
	[IFLA_XDP_PROG_ID] = { NL_A_U32, 0, "IFLA_XDP_PROG_ID" },
	[IFLA_XDP_DRV_PROG_ID] = { NL_A_U32, 0, "IFLA_XDP_DRV_PROG_ID" },
	[IFLA_XDP_SKB_PROG_ID] = { NL_A_U32, 0, "IFLA_XDP_SKB_PROG_ID" },
	[IFLA_XDP_HW_PROG_ID] = { NL_A_U32, 0, "IFLA_XDP_HW_PROG_ID" },
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_dump *d = data;
	const struct nlattr *tb[IFLA_MAX + 1], *x[IFLA_XDP_MAX + 1];
	const struct ifinfomsg *ifi;
	struct bpf_dev *dev;
	struct xdp_prog p = { 0 };
	int r;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	r = nl_parse(nlh, sizeof(*ifi), AF_UNSPEC, link_policy, IFLA_MAX, tb);
	if (r < 0)
		return r;
	ifi = mnl_nlmsg_get_payload(nlh);
	grow_array((void **)&d->devs->v, &d->devs->cap, d->devs->n + 1, sizeof(*d->devs->v));
	dev = &d->devs->v[d->devs->n++];
	dev->ifindex = ifi->ifi_index;
	snprintf(dev->name, sizeof(dev->name), "%s", tb[IFLA_IFNAME] ? mnl_attr_get_str(tb[IFLA_IFNAME]) : "");
	if (!tb[IFLA_XDP])
		return 0;
	r = nl_parse_nested(tb[IFLA_XDP], RTM_NEWLINK, AF_UNSPEC, xdp_policy, IFLA_XDP_MAX, x);
	if (r < 0)
		return r;
	p.attached = x[IFLA_XDP_ATTACHED] ? mnl_attr_get_u8(x[IFLA_XDP_ATTACHED]) : XDP_ATTACHED_NONE;
	if (p.attached == XDP_ATTACHED_NONE)
		return 0;
	p.ifindex = ifi->ifi_index;
	/* one mode: IFLA_XDP_PROG_ID; several (XDP_ATTACHED_MULTI): one id
	 * per mode */
	if (x[IFLA_XDP_DRV_PROG_ID])
		p.id[0] = mnl_attr_get_u32(x[IFLA_XDP_DRV_PROG_ID]);
	if (x[IFLA_XDP_SKB_PROG_ID])
		p.id[1] = mnl_attr_get_u32(x[IFLA_XDP_SKB_PROG_ID]);
	if (x[IFLA_XDP_HW_PROG_ID])
		p.id[2] = mnl_attr_get_u32(x[IFLA_XDP_HW_PROG_ID]);
	if (x[IFLA_XDP_PROG_ID] && p.attached >= XDP_ATTACHED_DRV && p.attached <= XDP_ATTACHED_HW &&
	    !p.id[p.attached - XDP_ATTACHED_DRV])
		p.id[p.attached - XDP_ATTACHED_DRV] = mnl_attr_get_u32(x[IFLA_XDP_PROG_ID]);
	grow_array((void **)&d->xdp, &d->cap_xdp, d->n_xdp + 1, sizeof(*d->xdp));
	d->xdp[d->n_xdp++] = p;
	return 0;
}

static void link_reset(void *data)
{
	struct link_dump *d = data;

	d->devs->n = 0;
	d->n_xdp = 0;
}

static void xdp_spot(struct blind_spots *b, const struct bpf_devs *devs, const struct xdp_prog *p)
{
	static const char *const modes[] = { "driver mode", "generic mode", "hardware mode" };
	struct blind_spot *s = blind_add(b);
	char dev[IFNAMSIZ + 8], label[BPF_OBJ_NAME_LEN + 48];
	bool refused = false;
	unsigned n = 0;
	size_t len;

	s->kind = BLIND_XDP;
	s->ifindex = p->ifindex;
	/* XDP sees what the device receives, before everything else */
	s->dirs = BLIND_INGRESS;
	for (unsigned i = 0; i < ARRAY_SIZE(p->id); i++)
		n += p->id[i] != 0;
	snprintf(s->what, sizeof(s->what), "XDP program%s", n > 1 ? "s" : "");
	for (unsigned i = 0, k = 0; i < ARRAY_SIZE(p->id); i++) {
		if (!p->id[i])
			continue;
		refused |= bpf_prog_label(p->id[i], modes[i], label, sizeof(label));
		len = strlen(s->what);
		snprintf(s->what + len, sizeof(s->what) - len, "%s %s", k++ ? " and" : "", label);
	}
	len = strlen(s->what);
	if (!n)
		snprintf(s->what + len, sizeof(s->what) - len, " (attach mode %u)", p->attached);
	len = strlen(s->what);
	snprintf(s->what + len, sizeof(s->what) - len, " on %s%s", bpf_dev_name(devs, p->ifindex, dev),
		 refused ? " (its name needs CAP_SYS_ADMIN)" : "");
}

int blind_collect_bpf(struct blind_spots *b)
{
	_cleanup_nl_sock_ struct nl_sock *s = NULL;
	struct bpf_devs devs = { 0 };
	struct link_dump d = { .devs = &devs };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int r;

	r = nl_open(&s);
	if (r < 0) {
		blind_note(b, "XDP programs and tc filters were not read: no rtnetlink socket (%s)", strerror(-r));
	} else {
		nlh = nl_msg_start(s, RTM_GETLINK, NLM_F_DUMP);
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		r = nl_dump(s, nlh, link_cb, link_reset, &d);
		if (r < 0)
			blind_note(b, "XDP programs were not read: the devices could not be listed (RTM_GETLINK: %s)",
				   r == -EBADMSG ? "a malformed message" : strerror(-r));
		else
			for (size_t i = 0; i < d.n_xdp; i++)
				xdp_spot(b, &devs, &d.xdp[i]);
		(void)blind_collect_tc(s, &devs, b);
	}
	(void)blind_collect_cgroup(b);
	free(d.xdp);
	free(devs.v);
	return r < 0 ? r : 0;
}
