/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tc: which devices have filters, and the filters. One RTM_GETQDISC dump
 * for every device; then one RTM_GETTFILTER dump per block that can hold
 * filters: the clsact qdisc's ingress and egress hooks, the ingress qdisc,
 * each egress qdisc that classifies (htb, prio, fq_codel, ...: not the
 * default pfifo_fast or noqueue) and, for htb, hfsc and atm, each class
 * (their classes hold filters of their own: one RTM_GETTCLASS dump per such
 * device, one filter dump per class). Requests grow with the blocks, never
 * with the filters. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include "blind-bpf-internal.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"

struct tc_qdisc {
	int ifindex;
	uint32_t handle, parent;
	char kind[16];
};

struct tc_qdiscs {
	struct tc_qdisc *v;
	size_t n, cap;
};

static const struct nl_policy qdisc_policy[TCA_MAX + 1] = {
	[TCA_KIND] = { NL_A_STRING, 0, "TCA_KIND" },
};

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tc_qdiscs *q = data;
	const struct nlattr *tb[TCA_MAX + 1];
	const struct tcmsg *tcm;
	struct tc_qdisc *d;
	int r;

	if (nlh->nlmsg_type != RTM_NEWQDISC && nlh->nlmsg_type != RTM_NEWTCLASS)
		return 0;
	r = nl_parse(nlh, sizeof(*tcm), AF_UNSPEC, qdisc_policy, TCA_MAX, tb);
	if (r < 0)
		return r;
	tcm = mnl_nlmsg_get_payload(nlh);
	grow_array((void **)&q->v, &q->cap, q->n + 1, sizeof(*q->v));
	d = &q->v[q->n++];
	d->ifindex = tcm->tcm_ifindex;
	d->handle = tcm->tcm_handle;
	d->parent = tcm->tcm_parent;
	snprintf(d->kind, sizeof(d->kind), "%s", tb[TCA_KIND] ? mnl_attr_get_str(tb[TCA_KIND]) : "");
	return 0;
}

static void qdiscs_reset(void *data)
{
	((struct tc_qdiscs *)data)->n = 0;
}

/* Queueing disciplines that cannot hold filters (no tcf_block in the
 * kernel): the defaults and the plain shapers and AQMs. Any other kind is
 * asked (an empty dump costs one request). */
static bool qdisc_without_filters(const char *kind)
{
	static const char *const kinds[] = {
		"noqueue", "pfifo_fast", "pfifo", "bfifo", "pfifo_head_drop", "mq", "mqprio", "tbf",
		"netem", "fq", "codel", "pie", "fq_pie", "red", "gred", "hhf", "plug", "taprio",
		"etf", "cbs", "skbprio", "dualpi2",
	};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return true;
	return false;
}

/* Classful qdiscs whose classes hold filters of their own. */
static bool classes_hold_filters(const char *kind)
{
	return strcmp(kind, "htb") == 0 || strcmp(kind, "hfsc") == 0 || strcmp(kind, "atm") == 0;
}

static void tc_handle(uint32_t h, char *buf, size_t size)
{
	if (TC_H_MIN(h))
		snprintf(buf, size, "%x:%x", TC_H_MAJ(h) >> 16, TC_H_MIN(h));
	else
		snprintf(buf, size, "%x:", TC_H_MAJ(h) >> 16);
}

struct filter_dump {
	struct tc_block *tb;
	const struct bpf_devs *devs;
};

static int filter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct filter_dump *d = data;

	return tc_block_add(d->tb, nlh, d->devs);
}

static void filter_reset(void *data)
{
	tc_block_reset(((struct filter_dump *)data)->tb);
}

struct u32_root {
	struct nl_sock *s;
	int ifindex;
	uint32_t parent;
	uint32_t handle; /* the answer */
};

static int u32_root_cb(const struct nlmsghdr *nlh, void *data)
{
	struct u32_root *q = data;

	if (nlh->nlmsg_type == RTM_NEWTFILTER && mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct tcmsg))
		q->handle = ((const struct tcmsg *)mnl_nlmsg_get_payload(nlh))->tcm_handle;
	return 0;
}

/* A get of u32 handle fff: (TC_U32_ROOT) answers with the classifier's
 * root hash table: one request per u32 priority. */
static uint32_t u32_root(void *ctx, uint32_t prio, uint16_t protocol)
{
	struct u32_root *q = ctx;
	struct nlmsghdr *nlh = nl_msg_start(q->s, RTM_GETTFILTER, 0);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = q->ifindex;
	tcm->tcm_parent = q->parent;
	tcm->tcm_handle = 0xfff00000;
	tcm->tcm_info = TC_H_MAKE(prio << 16, htons(protocol));
	mnl_attr_put_strz(nlh, TCA_KIND, "u32");
	mnl_attr_put_u32(nlh, TCA_CHAIN, 0);
	q->handle = 0;
	if (nl_call(q->s, nlh, u32_root_cb, q) < 0)
		return 0;
	return q->handle;
}

/* The filters of (ifindex, parent) into a new block, and its blind spots. */
static void dump_block(struct nl_sock *s, const struct bpf_devs *devs, struct blind_spots *b, int ifindex,
		       uint32_t parent, unsigned dir, bool sure, const char *where)
{
	char dev[IFNAMSIZ + 8];
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETTFILTER, NLM_F_DUMP);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	struct filter_dump d = { .devs = devs };
	int r;

	bpf_dev_name(devs, ifindex, dev);
	d.tb = tc_block_new(ifindex, dev, dir, sure, where);
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	r = nl_dump(s, nlh, filter_cb, filter_reset, &d);
	if (r < 0) {
		blind_note(b, "the tc %s filters on %s could not be read (RTM_GETTFILTER: %s)", where, dev,
			   r == -EBADMSG ? "a malformed message" : strerror(-r));
		tc_block_unref(d.tb);
		return;
	}
	struct u32_root q = { .s = s, .ifindex = ifindex, .parent = parent };
	(void)tc_block_finish(d.tb, b, u32_root, &q);
}

/* The classes of a device (htb, hfsc, atm) and each one's filters. */
static void dump_classes(struct nl_sock *s, const struct bpf_devs *devs, struct blind_spots *b,
			 const struct tc_qdisc *q)
{
	struct tc_qdiscs classes = { 0 };
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETTCLASS, NLM_F_DUMP);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	char dev[IFNAMSIZ + 8], h[24], where[48];
	int r;

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = q->ifindex;
	r = nl_dump(s, nlh, qdisc_cb, qdiscs_reset, &classes);
	if (r < 0) {
		blind_note(b, "the tc classes of %s on %s could not be read (RTM_GETTCLASS: %s)", q->kind,
			   bpf_dev_name(devs, q->ifindex, dev), r == -EBADMSG ? "a malformed message" : strerror(-r));
		free(classes.v);
		return;
	}
	for (size_t i = 0; i < classes.n; i++) {
		const struct tc_qdisc *c = &classes.v[i];
		if (c->ifindex != q->ifindex || TC_H_MAJ(c->handle) != TC_H_MAJ(q->handle) || !TC_H_MIN(c->handle))
			continue;
		tc_handle(c->handle, h, sizeof(h));
		snprintf(where, sizeof(where), "egress class %s", h);
		dump_block(s, devs, b, q->ifindex, c->handle, BLIND_EGRESS, false, where);
	}
	free(classes.v);
}

int blind_collect_tc(struct nl_sock *s, const struct bpf_devs *devs, struct blind_spots *b)
{
	struct tc_qdiscs qd = { 0 };
	struct nlmsghdr *nlh = nl_msg_start(s, RTM_GETQDISC, NLM_F_DUMP);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	char h[24], where[64];
	int r;

	tcm->tcm_family = AF_UNSPEC;
	r = nl_dump(s, nlh, qdisc_cb, qdiscs_reset, &qd);
	if (r < 0) {
		blind_note(b, "tc filters were not read: the queueing disciplines could not be listed (RTM_GETQDISC: %s)",
			   r == -EBADMSG ? "a malformed message" : strerror(-r));
		free(qd.v);
		return r;
	}
	for (size_t i = 0; i < qd.n; i++) {
		const struct tc_qdisc *q = &qd.v[i];
		if (strcmp(q->kind, "clsact") == 0) {
			dump_block(s, devs, b, q->ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), BLIND_INGRESS,
				   true, "ingress");
			dump_block(s, devs, b, q->ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), BLIND_EGRESS,
				   true, "egress");
		} else if (strcmp(q->kind, "ingress") == 0) {
			dump_block(s, devs, b, q->ifindex, TC_H_MAJ(q->handle), BLIND_INGRESS, true, "ingress");
		} else if (!qdisc_without_filters(q->kind) && TC_H_MAJ(q->handle)) {
			tc_handle(q->handle, h, sizeof(h));
			/* the root qdisc sees every packet leaving; an inner
			 * one what classification sends to it */
			snprintf(where, sizeof(where), "egress qdisc %s %s", q->kind, h);
			dump_block(s, devs, b, q->ifindex, TC_H_MAJ(q->handle), BLIND_EGRESS, q->parent == TC_H_ROOT,
				   where);
			if (classes_hold_filters(q->kind))
				dump_classes(s, devs, b, q);
		}
	}
	free(qd.v);
	return 0;
}
