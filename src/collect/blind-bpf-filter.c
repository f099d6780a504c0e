/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One tc filter block read from its RTM_NEWTFILTER messages and modelled
 * where that is exact: a u32 filter whose keys sit at fixed offsets of the
 * IPv4/IPv6 header (no hash tables, no links, no mark), a matchall or a
 * basic filter without ematches, each with generic actions (gact) or a
 * mirror (mirred) whose control action is plain. Everything else (bpf,
 * flower, police, redirects, goto chain, ...) is unknown for the packets it
 * may see, and named.
 *
 * The kernel runs a block's chain 0 filter by filter in priority order (u32:
 * node by node in handle order within its hash table); the first that
 * matches and whose actions end in a verdict decides; actions ending in
 * "continue" (TC_ACT_UNSPEC) hand the packet to the next filter. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_gact.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdio.h>
#include <string.h>

#include "blind-bpf-internal.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/netlink.h"

/* A filter's actions, reduced to what they do to any packet they get. */
enum tcf_result {
	TCF_RES_PASS,      /* ok, pipe at the end, no action at all: the packet goes on */
	TCF_RES_DROP,      /* shot, stolen, queued, trap */
	TCF_RES_CONTINUE,  /* unspec ("continue"): the next filter decides */
	TCF_RES_UNKNOWN,   /* police, redirect, reclassify, goto chain, random, ... */
};

enum tcf_type {
	TCF_OPAQUE,   /* not modelled: unknown for every packet of its protocol */
	TCF_U32,      /* a u32 node: keys, then its actions if it is terminal */
	TCF_U32_HT,   /* a u32 hash table (no keys, nothing runs) */
	TCF_ALL,      /* matchall, or basic without ematches */
};

struct tcf_key {
	uint32_t val, mask; /* network byte order, compared as the kernel does */
	int32_t off;        /* from the network header */
};

struct tcf {
	uint32_t chain, prio, handle;
	uint16_t protocol;          /* ETH_P_*, host byte order */
	enum tcf_type type;
	enum tcf_result result;
	bool unknown_match;         /* matches on what the packet model does not know (mark, skip_sw) */
	bool terminal, link;        /* u32: runs its actions; links to another hash table */
	uint32_t divisor;           /* u32 hash table */
	char indev[IFNAMSIZ];       /* u32: only packets that came in on this device */
	struct tcf_key *keys;
	unsigned n_keys;
	char desc[200];             /* "u32 (pref 10, handle 800::800) ip src 100.64.0.0/10 action gact drop" */
};

struct tc_block {
	unsigned refs;
	int ifindex;
	unsigned dir;
	bool sure;
	char dev[IFNAMSIZ];
	char where[64];
	struct tcf *v;
	size_t n, cap;
	/* blind_decide() asks each of the block's spots about the same packet
	 * in a row: the walk is done once per packet (the audit decides from
	 * one thread) */
	bool memo_valid;
	struct blind_packet memo_p;
	size_t memo_at;
	enum blind_effect memo_e;
};

struct tc_spot {
	struct tc_block *tb;
	size_t index;
};

/* ---- reading --------------------------------------------------------------- */

static const struct nl_policy filter_policy[TCA_MAX + 1] = {
	[TCA_KIND] = { NL_A_STRING, 0, "TCA_KIND" },
	[TCA_OPTIONS] = { NL_A_NESTED, 0, "TCA_OPTIONS" },
	[TCA_CHAIN] = { NL_A_U32, 0, "TCA_CHAIN" },
};

static const struct nl_policy u32_policy[TCA_U32_MAX + 1] = {
	[TCA_U32_CLASSID] = { NL_A_U32, 0, "TCA_U32_CLASSID" },
	[TCA_U32_HASH] = { NL_A_U32, 0, "TCA_U32_HASH" },
	[TCA_U32_LINK] = { NL_A_U32, 0, "TCA_U32_LINK" },
	[TCA_U32_DIVISOR] = { NL_A_U32, 0, "TCA_U32_DIVISOR" },
	[TCA_U32_SEL] = { NL_A_BINARY, sizeof(struct tc_u32_sel), "TCA_U32_SEL" },
	[TCA_U32_POLICE] = { NL_A_NESTED, 0, "TCA_U32_POLICE" },
	[TCA_U32_ACT] = { NL_A_NESTED, 0, "TCA_U32_ACT" },
	[TCA_U32_INDEV] = { NL_A_STRING, 0, "TCA_U32_INDEV" },
	[TCA_U32_MARK] = { NL_A_BINARY, sizeof(struct tc_u32_mark), "TCA_U32_MARK" },
	[TCA_U32_FLAGS] = { NL_A_U32, 0, "TCA_U32_FLAGS" },
};

static const struct nl_policy matchall_policy[TCA_MATCHALL_MAX + 1] = {
	[TCA_MATCHALL_ACT] = { NL_A_NESTED, 0, "TCA_MATCHALL_ACT" },
	[TCA_MATCHALL_FLAGS] = { NL_A_U32, 0, "TCA_MATCHALL_FLAGS" },
};

static const struct nl_policy basic_policy[TCA_BASIC_MAX + 1] = {
	[TCA_BASIC_EMATCHES] = { NL_A_NESTED, 0, "TCA_BASIC_EMATCHES" },
	[TCA_BASIC_ACT] = { NL_A_NESTED, 0, "TCA_BASIC_ACT" },
	[TCA_BASIC_POLICE] = { NL_A_NESTED, 0, "TCA_BASIC_POLICE" },
};

static const struct nl_policy bpf_policy[TCA_BPF_MAX + 1] = {
	[TCA_BPF_ACT] = { NL_A_NESTED, 0, "TCA_BPF_ACT" },
	[TCA_BPF_POLICE] = { NL_A_NESTED, 0, "TCA_BPF_POLICE" },
	[TCA_BPF_OPS_LEN] = { NL_A_U16, 0, "TCA_BPF_OPS_LEN" },
	[TCA_BPF_NAME] = { NL_A_STRING, 0, "TCA_BPF_NAME" },
	[TCA_BPF_FLAGS] = { NL_A_U32, 0, "TCA_BPF_FLAGS" },
	[TCA_BPF_FLAGS_GEN] = { NL_A_U32, 0, "TCA_BPF_FLAGS_GEN" },
	[TCA_BPF_ID] = { NL_A_U32, 0, "TCA_BPF_ID" },
};

/* The actions' nest holds one nest per action, by order (1, 2, ...). */
#define ACT_ORDER_MAX 32
static const struct nl_policy acts_policy[ACT_ORDER_MAX + 1] = {
	[1 ... ACT_ORDER_MAX] = { NL_A_NESTED, 0, "action" },
};

#define ACT_ATTR_MAX TCA_ACT_COOKIE
static const struct nl_policy act_policy[ACT_ATTR_MAX + 1] = {
	[TCA_ACT_KIND] = { NL_A_STRING, 0, "TCA_ACT_KIND" },
	[TCA_ACT_OPTIONS] = { NL_A_NESTED, 0, "TCA_ACT_OPTIONS" },
};

static const struct nl_policy gact_policy[TCA_GACT_MAX + 1] = {
	[TCA_GACT_PARMS] = { NL_A_BINARY, sizeof(struct tc_gact), "TCA_GACT_PARMS" },
	[TCA_GACT_PROB] = { NL_A_BINARY, sizeof(struct tc_gact_p), "TCA_GACT_PROB" },
};

static const struct nl_policy mirred_policy[TCA_MIRRED_MAX + 1] = {
	[TCA_MIRRED_PARMS] = { NL_A_BINARY, sizeof(struct tc_mirred), "TCA_MIRRED_PARMS" },
};

/* What a control action code does, and its name as tc prints it. */
static enum tcf_result control_result(int action, char *name, size_t size)
{
	if (TC_ACT_EXT_CMP(action, TC_ACT_GOTO_CHAIN)) {
		snprintf(name, size, "goto chain %d", action & TC_ACT_EXT_VAL_MASK);
		return TCF_RES_UNKNOWN;
	}
	if (TC_ACT_EXT_CMP(action, TC_ACT_JUMP)) {
		snprintf(name, size, "jump %d", action & TC_ACT_EXT_VAL_MASK);
		return TCF_RES_UNKNOWN;
	}
	switch (action) {
	case TC_ACT_UNSPEC: snprintf(name, size, "continue"); return TCF_RES_CONTINUE;
	case TC_ACT_OK: snprintf(name, size, "pass"); return TCF_RES_PASS;
	case TC_ACT_PIPE: snprintf(name, size, "pipe"); return TCF_RES_PASS;
	case TC_ACT_SHOT: snprintf(name, size, "drop"); return TCF_RES_DROP;
	case TC_ACT_STOLEN: snprintf(name, size, "stolen"); return TCF_RES_DROP;
	case TC_ACT_QUEUED: snprintf(name, size, "queued"); return TCF_RES_DROP;
	case TC_ACT_TRAP: snprintf(name, size, "trap"); return TCF_RES_DROP;
	case TC_ACT_RECLASSIFY: snprintf(name, size, "reclassify"); return TCF_RES_UNKNOWN;
	case TC_ACT_REPEAT: snprintf(name, size, "repeat"); return TCF_RES_UNKNOWN;
	case TC_ACT_REDIRECT: snprintf(name, size, "redirect"); return TCF_RES_UNKNOWN;
	default: snprintf(name, size, "action %d", action); return TCF_RES_UNKNOWN;
	}
}

/* One action: what it does to the packet (TCF_RES_PASS standing for
 * "pipe": the next action runs), its words appended to desc. */
static int action_read(const struct nlattr *nest, const struct bpf_devs *devs, enum tcf_result *res,
		       bool *piped, char *desc, size_t size)
{
	const struct nlattr *tb[ACT_ATTR_MAX + 1];
	const char *kind;
	char ctl[32];
	int r;

	*piped = false;
	r = nl_parse_nested(nest, RTM_NEWTFILTER, AF_UNSPEC, act_policy, ACT_ATTR_MAX, tb);
	if (r < 0)
		return r;
	kind = tb[TCA_ACT_KIND] ? mnl_attr_get_str(tb[TCA_ACT_KIND]) : "?";
	*res = TCF_RES_UNKNOWN;
	if (strcmp(kind, "gact") == 0 && tb[TCA_ACT_OPTIONS]) {
		const struct nlattr *g[TCA_GACT_MAX + 1];
		struct tc_gact parm;
		r = nl_parse_nested(tb[TCA_ACT_OPTIONS], RTM_NEWTFILTER, AF_UNSPEC, gact_policy, TCA_GACT_MAX, g);
		if (r < 0)
			return r;
		if (!g[TCA_GACT_PARMS]) {
			bpf_append(desc, size, " action gact");
			return 0;
		}
		memcpy(&parm, mnl_attr_get_payload(g[TCA_GACT_PARMS]), sizeof(parm));
		*res = control_result(parm.action, ctl, sizeof(ctl));
		*piped = parm.action == TC_ACT_PIPE;
		bpf_append(desc, size, " action gact %s", ctl);
		if (g[TCA_GACT_PROB]) {
			struct tc_gact_p p;
			memcpy(&p, mnl_attr_get_payload(g[TCA_GACT_PROB]), sizeof(p));
			if (p.ptype != PGACT_NONE) {
				/* some packets get the other action */
				*res = TCF_RES_UNKNOWN;
				*piped = false;
				bpf_append(desc, size, " (random)");
			}
		}
		return 0;
	}
	if (strcmp(kind, "mirred") == 0 && tb[TCA_ACT_OPTIONS]) {
		const struct nlattr *m[TCA_MIRRED_MAX + 1];
		struct tc_mirred parm;
		char dev[IFNAMSIZ + 8];
		r = nl_parse_nested(tb[TCA_ACT_OPTIONS], RTM_NEWTFILTER, AF_UNSPEC, mirred_policy, TCA_MIRRED_MAX, m);
		if (r < 0)
			return r;
		if (!m[TCA_MIRRED_PARMS]) {
			bpf_append(desc, size, " action mirred");
			return 0;
		}
		memcpy(&parm, mnl_attr_get_payload(m[TCA_MIRRED_PARMS]), sizeof(parm));
		bpf_dev_name(devs, (int)parm.ifindex, dev);
		switch (parm.eaction) {
		case TCA_EGRESS_MIRROR:
		case TCA_INGRESS_MIRROR:
			/* a copy goes to the device; the packet itself gets
			 * the control action */
			*res = control_result(parm.action, ctl, sizeof(ctl));
			*piped = parm.action == TC_ACT_PIPE;
			bpf_append(desc, size, " action mirred %s mirror to %s %s",
			       parm.eaction == TCA_EGRESS_MIRROR ? "egress" : "ingress", dev, ctl);
			return 0;
		case TCA_EGRESS_REDIR:
		case TCA_INGRESS_REDIR:
			bpf_append(desc, size, " action mirred %s redirect to %s",
			       parm.eaction == TCA_EGRESS_REDIR ? "egress" : "ingress", dev);
			return 0;
		default:
			bpf_append(desc, size, " action mirred");
			return 0;
		}
	}
	bpf_append(desc, size, " action %s", kind);
	return 0;
}

/* A filter's actions (the nest of TCA_*_ACT): the first one that does not
 * pipe decides; none at all passes the packet. */
static int actions_read(const struct nlattr *nest, const struct bpf_devs *devs, struct tcf *f)
{
	const struct nlattr *tb[ACT_ORDER_MAX + 1];
	enum tcf_result res = TCF_RES_PASS;
	bool decided = false;
	int r;

	f->result = TCF_RES_PASS;
	if (!nest)
		return 0;
	r = nl_parse_nested(nest, RTM_NEWTFILTER, AF_UNSPEC, acts_policy, ACT_ORDER_MAX, tb);
	if (r < 0)
		return r;
	for (unsigned i = 1; i <= ACT_ORDER_MAX; i++) {
		bool piped;
		enum tcf_result one;
		if (!tb[i])
			continue;
		r = action_read(tb[i], devs, &one, &piped, f->desc, sizeof(f->desc));
		if (r < 0)
			return r;
		if (decided || piped)
			continue;
		res = one;
		decided = true;
	}
	f->result = res;
	return 0;
}

/* The actions, then the classifier's own police (a rate: unknown). */
static int actions_police_read(const struct nlattr *acts, const struct nlattr *police, const struct bpf_devs *devs,
			       struct tcf *f)
{
	int r = actions_read(acts, devs, f);

	if (r < 0)
		return r;
	if (police) {
		bpf_append(f->desc, sizeof(f->desc), " police");
		f->result = TCF_RES_UNKNOWN;
	}
	return 0;
}

/* "800::800", as tc prints a u32 handle. */
static void u32_handle(uint32_t h, char *buf, size_t size)
{
	snprintf(buf, size, "%x:%x:%x", h >> 20, (h >> 12) & 0xff, h & 0xfff);
	/* tc leaves a zero bucket out */
	if (((h >> 12) & 0xff) == 0)
		snprintf(buf, size, "%x::%x", h >> 20, h & 0xfff);
}

static unsigned prefix_len_of(uint32_t mask_host)
{
	unsigned n = 0;

	while (n < 32 && (mask_host & (0x80000000u >> n)))
		n++;
	/* a contiguous mask only */
	return (n == 32 || (mask_host << n) == 0) ? n : 33;
}

/* One key in words: the IPv4 header's fields by name (protocol ip), the
 * rest as tc prints them. */
static void key_describe(const struct tcf_key *k, uint16_t protocol, char *desc, size_t size)
{
	uint32_t val = ntohl(k->val), mask = ntohl(k->mask);
	unsigned plen = prefix_len_of(mask);

	if (protocol == ETH_P_IP && (k->off == 12 || k->off == 16) && plen <= 32) {
		struct in_addr a = { .s_addr = k->val };
		char s[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a, s, sizeof(s));
		bpf_append(desc, size, " ip %s %s/%u", k->off == 12 ? "src" : "dst", s, plen);
	} else if (protocol == ETH_P_IP && k->off == 20 && mask == 0xffff0000) {
		bpf_append(desc, size, " ip sport %u", val >> 16);
	} else if (protocol == ETH_P_IP && k->off == 20 && mask == 0x0000ffff) {
		bpf_append(desc, size, " ip dport %u", val & 0xffff);
	} else if (protocol == ETH_P_IP && k->off == 8 && mask == 0x00ff0000) {
		bpf_append(desc, size, " ip protocol %u", (val >> 16) & 0xff);
	} else {
		bpf_append(desc, size, " match %08x/%08x at %d", val, mask, k->off);
	}
}

static int u32_read(const struct nlattr *opts, const struct bpf_devs *devs, struct tcf *f)
{
	const struct nlattr *tb[TCA_U32_MAX + 1];
	char h[24];
	int r;

	r = nl_parse_nested(opts, RTM_NEWTFILTER, AF_UNSPEC, u32_policy, TCA_U32_MAX, tb);
	if (r < 0)
		return r;
	u32_handle(f->handle, h, sizeof(h));
	snprintf(f->desc, sizeof(f->desc), "u32 (pref %u, handle %s)", f->prio, h);
	if (!tb[TCA_U32_SEL]) {
		/* a hash table */
		f->type = TCF_U32_HT;
		f->divisor = tb[TCA_U32_DIVISOR] ? mnl_attr_get_u32(tb[TCA_U32_DIVISOR]) : 1;
		return 0;
	}
	const struct tc_u32_sel *sel = mnl_attr_get_payload(tb[TCA_U32_SEL]);
	size_t len = mnl_attr_get_payload_len(tb[TCA_U32_SEL]);
	struct tc_u32_sel s;
	memcpy(&s, sel, sizeof(s));
	if (len < sizeof(s) + (size_t)s.nkeys * sizeof(struct tc_u32_key)) {
		log_error("malformed RTM_NEWTFILTER message from the kernel: u32 selector shorter than its %u keys",
			  s.nkeys);
		return -EBADMSG;
	}
	f->type = TCF_U32;
	f->terminal = s.flags & TC_U32_TERMINAL;
	f->link = tb[TCA_U32_LINK] && mnl_attr_get_u32(tb[TCA_U32_LINK]) != 0;
	f->n_keys = s.nkeys;
	f->keys = xcalloc(s.nkeys ? s.nkeys : 1, sizeof(*f->keys));
	for (unsigned i = 0; i < s.nkeys; i++) {
		struct tc_u32_key k;
		memcpy(&k, (const char *)sel + sizeof(s) + i * sizeof(k), sizeof(k));
		f->keys[i] = (struct tcf_key){ .val = k.val, .mask = k.mask, .off = k.off };
		key_describe(&f->keys[i], f->protocol, f->desc, sizeof(f->desc));
	}
	if (tb[TCA_U32_MARK]) {
		struct tc_u32_mark m;
		memcpy(&m, mnl_attr_get_payload(tb[TCA_U32_MARK]), sizeof(m));
		if (m.mask) {
			f->unknown_match = true;
			bpf_append(f->desc, sizeof(f->desc), " mark 0x%x/0x%x", m.val, m.mask);
		}
	}
	if (tb[TCA_U32_INDEV]) {
		snprintf(f->indev, sizeof(f->indev), "%s", mnl_attr_get_str(tb[TCA_U32_INDEV]));
		bpf_append(f->desc, sizeof(f->desc), " indev %s", f->indev);
	}
	if (tb[TCA_U32_FLAGS] && (mnl_attr_get_u32(tb[TCA_U32_FLAGS]) & TCA_CLS_FLAGS_SKIP_SW)) {
		f->unknown_match = true;
		bpf_append(f->desc, sizeof(f->desc), " skip_sw");
	}
	if (f->link) {
		u32_handle(mnl_attr_get_u32(tb[TCA_U32_LINK]), h, sizeof(h));
		bpf_append(f->desc, sizeof(f->desc), " link %s", h);
	}
	return actions_police_read(tb[TCA_U32_ACT], tb[TCA_U32_POLICE], devs, f);
}

static int matchall_read(const struct nlattr *opts, const struct bpf_devs *devs, struct tcf *f)
{
	const struct nlattr *tb[TCA_MATCHALL_MAX + 1];
	int r;

	r = nl_parse_nested(opts, RTM_NEWTFILTER, AF_UNSPEC, matchall_policy, TCA_MATCHALL_MAX, tb);
	if (r < 0)
		return r;
	f->type = TCF_ALL;
	snprintf(f->desc, sizeof(f->desc), "matchall (pref %u)", f->prio);
	if (tb[TCA_MATCHALL_FLAGS] && (mnl_attr_get_u32(tb[TCA_MATCHALL_FLAGS]) & TCA_CLS_FLAGS_SKIP_SW)) {
		f->unknown_match = true;
		bpf_append(f->desc, sizeof(f->desc), " skip_sw");
	}
	return actions_read(tb[TCA_MATCHALL_ACT], devs, f);
}

static int basic_read(const struct nlattr *opts, const struct bpf_devs *devs, struct tcf *f)
{
	const struct nlattr *tb[TCA_BASIC_MAX + 1];
	int r;

	r = nl_parse_nested(opts, RTM_NEWTFILTER, AF_UNSPEC, basic_policy, TCA_BASIC_MAX, tb);
	if (r < 0)
		return r;
	snprintf(f->desc, sizeof(f->desc), "basic (pref %u, handle 0x%x)", f->prio, f->handle);
	/* without ematches it matches everything */
	f->type = tb[TCA_BASIC_EMATCHES] ? TCF_OPAQUE : TCF_ALL;
	if (tb[TCA_BASIC_EMATCHES])
		bpf_append(f->desc, sizeof(f->desc), " ematch");
	r = actions_police_read(tb[TCA_BASIC_ACT], tb[TCA_BASIC_POLICE], devs, f);
	if (r < 0)
		return r;
	if (f->type == TCF_OPAQUE)
		f->result = TCF_RES_UNKNOWN;
	return 0;
}

static int bpf_read(const struct nlattr *opts, const struct bpf_devs *devs, struct tcf *f)
{
	const struct nlattr *tb[TCA_BPF_MAX + 1];
	int r;

	r = nl_parse_nested(opts, RTM_NEWTFILTER, AF_UNSPEC, bpf_policy, TCA_BPF_MAX, tb);
	if (r < 0)
		return r;
	f->type = TCF_OPAQUE;
	if (tb[TCA_BPF_NAME])
		snprintf(f->desc, sizeof(f->desc), "bpf %s", mnl_attr_get_str(tb[TCA_BPF_NAME]));
	else if (tb[TCA_BPF_OPS_LEN])
		snprintf(f->desc, sizeof(f->desc), "bpf classic BPF (%u instructions)",
			 mnl_attr_get_u16(tb[TCA_BPF_OPS_LEN]));
	else
		snprintf(f->desc, sizeof(f->desc), "bpf");
	if (tb[TCA_BPF_FLAGS] && (mnl_attr_get_u32(tb[TCA_BPF_FLAGS]) & TCA_BPF_FLAG_ACT_DIRECT))
		bpf_append(f->desc, sizeof(f->desc), " direct-action");
	if (tb[TCA_BPF_FLAGS_GEN] && (mnl_attr_get_u32(tb[TCA_BPF_FLAGS_GEN]) & TCA_CLS_FLAGS_SKIP_SW))
		bpf_append(f->desc, sizeof(f->desc), " skip_sw");
	if (tb[TCA_BPF_ID])
		bpf_append(f->desc, sizeof(f->desc), " (pref %u, id %u)", f->prio, mnl_attr_get_u32(tb[TCA_BPF_ID]));
	else
		bpf_append(f->desc, sizeof(f->desc), " (pref %u)", f->prio);
	r = actions_police_read(tb[TCA_BPF_ACT], tb[TCA_BPF_POLICE], devs, f);
	if (r < 0)
		return r;
	/* what the program returns is the verdict (direct-action) or the
	 * class: either way the program is not read */
	f->result = TCF_RES_UNKNOWN;
	return 0;
}

/* A classifier this model does not read: named, with its actions (which
 * decide nothing: whether it matches is unknown). */
static int opaque_read(const char *kind, const struct nlattr *opts, const struct bpf_devs *devs, struct tcf *f)
{
	f->type = TCF_OPAQUE;
	f->result = TCF_RES_UNKNOWN;
	snprintf(f->desc, sizeof(f->desc), "%s (pref %u, handle 0x%x)", kind, f->prio, f->handle);
	/* the common classifiers keep their actions under attribute
	 * TCA_*_ACT; look for a nest of actions without knowing its number */
	if (opts) {
		const struct nlattr *a;
		mnl_attr_for_each_nested(a, opts) {
			const struct nlattr *first;
			if (mnl_attr_get_type(a) == 0 || mnl_attr_validate(a, MNL_TYPE_NESTED) < 0 ||
			    mnl_attr_get_payload_len(a) < sizeof(struct nlattr))
				continue;
			first = mnl_attr_get_payload(a);
			if (mnl_attr_get_type(first) != 1 || first->nla_len > mnl_attr_get_payload_len(a) ||
			    mnl_attr_validate(first, MNL_TYPE_NESTED) < 0 ||
			    mnl_attr_get_payload_len(first) < sizeof(struct nlattr))
				continue;
			const struct nlattr *k = mnl_attr_get_payload(first);
			if (mnl_attr_get_type(k) == TCA_ACT_KIND && k->nla_len <= mnl_attr_get_payload_len(first) &&
			    mnl_attr_validate(k, MNL_TYPE_NUL_STRING) == 0) {
				(void)actions_read(a, devs, f);
				f->result = TCF_RES_UNKNOWN;
				break;
			}
		}
	}
	return 0;
}

struct tc_block *tc_block_new(int ifindex, const char *dev, unsigned dir, bool sure, const char *where)
{
	struct tc_block *tb = xcalloc(1, sizeof(*tb));

	tb->refs = 1;
	tb->ifindex = ifindex;
	tb->dir = dir;
	tb->sure = sure;
	snprintf(tb->dev, sizeof(tb->dev), "%s", dev);
	snprintf(tb->where, sizeof(tb->where), "%s", where);
	return tb;
}

void tc_block_reset(struct tc_block *tb)
{
	for (size_t i = 0; i < tb->n; i++)
		free(tb->v[i].keys);
	tb->n = 0;
	tb->memo_valid = false;
}

void tc_block_unref(struct tc_block *tb)
{
	if (!tb || --tb->refs > 0)
		return;
	tc_block_reset(tb);
	free(tb->v);
	free(tb);
}

int tc_block_add(struct tc_block *tb, const struct nlmsghdr *nlh, const struct bpf_devs *devs)
{
	const struct nlattr *tb_a[TCA_MAX + 1];
	const struct tcmsg *tcm;
	struct tcf f = { 0 };
	const char *kind;
	int r;

	if (nlh->nlmsg_type != RTM_NEWTFILTER)
		return 0;
	r = nl_parse(nlh, sizeof(*tcm), AF_UNSPEC, filter_policy, TCA_MAX, tb_a);
	if (r < 0)
		return r;
	tcm = mnl_nlmsg_get_payload(nlh);
	/* handle 0: the classifier itself (one a priority), not a filter */
	if (tcm->tcm_handle == 0)
		return 0;
	if (!tb_a[TCA_KIND]) {
		log_error("malformed RTM_NEWTFILTER message from the kernel: filter 0x%x has no TCA_KIND",
			  tcm->tcm_handle);
		return -EBADMSG;
	}
	kind = mnl_attr_get_str(tb_a[TCA_KIND]);
	f.chain = tb_a[TCA_CHAIN] ? mnl_attr_get_u32(tb_a[TCA_CHAIN]) : 0;
	f.prio = tcm->tcm_info >> 16;
	f.protocol = ntohs((uint16_t)(tcm->tcm_info & 0xffff));
	f.handle = tcm->tcm_handle;
	f.result = TCF_RES_PASS;
	if (strcmp(kind, "u32") == 0 && tb_a[TCA_OPTIONS])
		r = u32_read(tb_a[TCA_OPTIONS], devs, &f);
	else if (strcmp(kind, "matchall") == 0 && tb_a[TCA_OPTIONS])
		r = matchall_read(tb_a[TCA_OPTIONS], devs, &f);
	else if (strcmp(kind, "basic") == 0 && tb_a[TCA_OPTIONS])
		r = basic_read(tb_a[TCA_OPTIONS], devs, &f);
	else if (strcmp(kind, "bpf") == 0 && tb_a[TCA_OPTIONS])
		r = bpf_read(tb_a[TCA_OPTIONS], devs, &f);
	else
		r = opaque_read(kind, tb_a[TCA_OPTIONS], devs, &f);
	if (r < 0) {
		free(f.keys);
		return r;
	}
	grow_array((void **)&tb->v, &tb->cap, tb->n + 1, sizeof(*tb->v));
	tb->v[tb->n++] = f;
	return 0;
}

/* ---- the model -------------------------------------------------------------- */

/* What the packet model knows of a packet's first bytes from its network
 * header: the version, the transport protocol, the addresses and the ports
 * (an IPv4 header without options, an IPv6 header without extension
 * headers, as the host's own DNS, NTP and DHCP packets are). Length, TOS,
 * id, TTL, flow label and payload are unknown. */
#define PKT_BYTES 48
struct pkt_image {
	uint8_t val[PKT_BYTES];
	uint8_t known[PKT_BYTES]; /* the bits of val that are known */
};

static void image_set(struct pkt_image *im, unsigned off, const void *bytes, unsigned n)
{
	memcpy(im->val + off, bytes, n);
	memset(im->known + off, 0xff, n);
}

static void image_build(const struct blind_packet *p, struct pkt_image *im)
{
	uint16_t ports[2] = { htons(p->sport), htons(p->dport) };
	unsigned l4;

	memset(im, 0, sizeof(*im));
	if (p->src.family == AF_INET) {
		im->val[0] = 0x45;
		im->known[0] = 0xff;
		image_set(im, 9, &p->l4proto, 1);
		image_set(im, 12, &p->src.v4, 4);
		image_set(im, 16, &p->dst.v4, 4);
		l4 = 20;
	} else {
		im->val[0] = 0x60;
		im->known[0] = 0xf0;
		image_set(im, 6, &p->l4proto, 1);
		image_set(im, 8, &p->src.v6, 16);
		image_set(im, 24, &p->dst.v6, 16);
		l4 = 40;
	}
	if (p->l4proto == IPPROTO_UDP || p->l4proto == IPPROTO_TCP)
		image_set(im, l4, ports, 4);
}

enum tri { T_FALSE, T_TRUE, T_UNKNOWN };

static enum tri key_eval(const struct tcf_key *k, const struct pkt_image *im)
{
	const uint8_t *val = (const uint8_t *)&k->val, *mask = (const uint8_t *)&k->mask;
	bool unknown = false;

	for (int i = 0; i < 4; i++) {
		int64_t at = (int64_t)k->off + i;
		if (!mask[i])
			continue;
		if (at < 0 || at >= PKT_BYTES) {
			unknown = true;
			continue;
		}
		if ((im->val[at] ^ val[i]) & mask[i] & im->known[at])
			return T_FALSE;
		if (mask[i] & ~im->known[at])
			unknown = true;
	}
	return unknown ? T_UNKNOWN : T_TRUE;
}

static bool protocol_sees(uint16_t protocol, const struct blind_packet *p)
{
	switch (protocol) {
	case ETH_P_ALL: return true;
	case ETH_P_IP: return p->src.family == AF_INET;
	case ETH_P_IPV6: return p->src.family == AF_INET6;
	default: return false;
	}
}

/* Does f match p (as far as the model can tell)? */
static enum tri filter_match(const struct tc_block *tb, const struct tcf *f, const struct blind_packet *p,
			     const struct pkt_image *im)
{
	enum tri m = T_TRUE;

	if (!protocol_sees(f->protocol, p))
		return T_FALSE;
	if (f->type == TCF_U32_HT || (f->type == TCF_U32 && !f->terminal && !f->link))
		return T_FALSE; /* nothing runs */
	if (f->type == TCF_OPAQUE)
		return T_UNKNOWN;
	if (f->type == TCF_U32) {
		for (unsigned i = 0; i < f->n_keys; i++) {
			enum tri k = key_eval(&f->keys[i], im);
			if (k == T_FALSE)
				return T_FALSE;
			if (k == T_UNKNOWN)
				m = T_UNKNOWN;
		}
		/* the device a packet came in on: this one on ingress; a
		 * locally generated packet has none */
		if (f->indev[0] && (p->dir != BLIND_INGRESS || strcmp(f->indev, tb->dev) != 0))
			return T_FALSE;
		if (f->link)
			return T_UNKNOWN;
	}
	if (f->unknown_match)
		m = T_UNKNOWN;
	return m;
}

static bool packet_equal(const struct blind_packet *a, const struct blind_packet *b)
{
	return addr_equal(&a->src, &b->src) && addr_equal(&a->dst, &b->dst) && a->l4proto == b->l4proto &&
	       a->sport == b->sport && a->dport == b->dport && a->ifindex == b->ifindex && a->dir == b->dir &&
	       a->ct_new == b->ct_new;
}

enum blind_effect tc_block_walk(struct tc_block *tb, const struct blind_packet *p, size_t *at)
{
	struct pkt_image im;
	bool maybe_taken = false; /* an earlier filter may have passed it already */

	if (tb->memo_valid && packet_equal(&tb->memo_p, p)) {
		*at = tb->memo_at;
		return tb->memo_e;
	}
	image_build(p, &im);
	*at = tb->n;
	enum blind_effect e = BLIND_PASS;
	for (size_t i = 0; i < tb->n; i++) {
		const struct tcf *f = &tb->v[i];
		enum tri m = filter_match(tb, f, p, &im);
		if (m == T_FALSE)
			continue;
		if (f->result == TCF_RES_CONTINUE)
			continue;
		if (f->result == TCF_RES_PASS) {
			if (m == T_TRUE)
				break;
			maybe_taken = true;
			continue;
		}
		*at = i;
		e = f->result == TCF_RES_DROP && m == T_TRUE && tb->sure && !maybe_taken ? BLIND_DROP : BLIND_UNKNOWN;
		break;
	}
	tb->memo_valid = true;
	tb->memo_p = *p;
	tb->memo_at = *at;
	tb->memo_e = e;
	return e;
}

static enum blind_effect tc_spot_decide(const struct blind_spot *b, const struct blind_packet *p)
{
	struct tc_spot *s = b->data;
	size_t at;
	enum blind_effect e = tc_block_walk(s->tb, p, &at);

	return at == s->index ? e : BLIND_PASS;
}

static void tc_spot_free(void *data)
{
	struct tc_spot *s = data;

	tc_block_unref(s->tb);
	free(s);
}

/* Filters run in priority order; u32 nodes by handle within their table. */
static int tcf_cmp(const void *a, const void *b)
{
	const struct tcf *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	if (x->type == TCF_U32_HT || y->type == TCF_U32_HT)
		return (y->type == TCF_U32_HT) - (x->type == TCF_U32_HT);
	return x->handle < y->handle ? -1 : x->handle > y->handle;
}

/* A u32 classifier (one priority) runs the nodes of its root hash table;
 * nodes of other tables run only through a link (unknown itself). The dump
 * does not say which table is the root (the hook's two blocks, and a
 * qdisc's classes, share their tables: each one's dump shows the other's
 * of the same priority too), so the caller asks the kernel: when it cannot
 * tell, the classifier is one opaque entry. */
static void u32_flatten(struct tc_block *tb, tc_u32_root_fn root_fn, void *ctx)
{
	size_t w = 0;

	for (size_t i = 0; i < tb->n;) {
		size_t j = i;
		uint32_t root;
		bool simple = false;

		if (tb->v[i].type != TCF_U32 && tb->v[i].type != TCF_U32_HT) {
			tb->v[w++] = tb->v[i++];
			continue;
		}
		while (j < tb->n && tb->v[j].prio == tb->v[i].prio &&
		       (tb->v[j].type == TCF_U32 || tb->v[j].type == TCF_U32_HT))
			j++;
		root = root_fn ? root_fn(ctx, tb->v[i].prio, tb->v[i].protocol) & 0xfff00000 : 0;
		for (size_t k = i; k < j && root; k++)
			if (tb->v[k].type == TCF_U32_HT && (tb->v[k].handle & 0xfff00000) == root)
				simple = tb->v[k].divisor <= 1;
		if (simple) {
			for (size_t k = i; k < j; k++) {
				if (tb->v[k].type == TCF_U32 && (tb->v[k].handle & 0xfff00000) == root)
					tb->v[w++] = tb->v[k];
				else
					free(tb->v[k].keys);
			}
		} else {
			struct tcf o = tb->v[i];
			for (size_t k = i; k < j; k++)
				free(tb->v[k].keys);
			o.keys = NULL;
			o.n_keys = 0;
			o.type = TCF_OPAQUE;
			o.result = TCF_RES_UNKNOWN;
			snprintf(o.desc, sizeof(o.desc), "u32 (pref %u) whose root hash table %s", o.prio,
				 root ? "hashes" : "could not be read");
			tb->v[w++] = o;
		}
		i = j;
	}
	tb->n = w;
}

size_t tc_block_finish(struct tc_block *tb, struct blind_spots *b, tc_u32_root_fn root_fn, void *ctx)
{
	size_t w = 0, added = 0;

	/* chain 0 is where classification starts; the others are reached
	 * by a goto chain action only, which is unknown itself */
	for (size_t i = 0; i < tb->n; i++) {
		if (tb->v[i].chain == 0)
			tb->v[w++] = tb->v[i];
		else
			free(tb->v[i].keys);
	}
	tb->n = w;
	if (tb->n)
		qsort(tb->v, tb->n, sizeof(*tb->v), tcf_cmp);
	u32_flatten(tb, root_fn, ctx);
	for (size_t i = 0; i < tb->n; i++) {
		const struct tcf *f = &tb->v[i];
		/* a filter that can only pass or hand on needs no spot: it
		 * is in the walk all the same */
		if (f->type != TCF_OPAQUE && f->result != TCF_RES_DROP && f->result != TCF_RES_UNKNOWN)
			continue;
		if (f->type == TCF_U32 && !f->terminal && !f->link)
			continue;
		if (f->type == TCF_OPAQUE && f->protocol != ETH_P_ALL && f->protocol != ETH_P_IP &&
		    f->protocol != ETH_P_IPV6)
			continue;
		struct blind_spot *s = blind_add(b);
		struct tc_spot *d = xcalloc(1, sizeof(*d));
		s->kind = BLIND_TC;
		s->ifindex = tb->ifindex;
		s->dirs = tb->dir;
		bpf_append(s->what, sizeof(s->what), "tc %s filter %s on %s", tb->where, f->desc, tb->dev);
		d->tb = tb;
		d->index = i;
		tb->refs++;
		s->data = d;
		s->decide = tc_spot_decide;
		s->free_data = tc_spot_free;
		added++;
	}
	tc_block_unref(tb);
	return added;
}
