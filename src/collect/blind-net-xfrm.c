/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xfrm (IPsec) policies: the kernel looks up the host's outgoing packets
 * in the "out" policies (xfrm_lookup() after routing) and checks the
 * packets it delivers against the "in" policies (xfrm_policy_check() in
 * ip_local_deliver). Of the policies whose selector matches a packet the
 * one of the lowest priority value decides: block drops the packet; allow
 * without templates lets it pass as it is; allow with templates transforms
 * it (out: ESP/AH, a tunnel; in: it must have arrived so), which the
 * simulator does not model: UNKNOWN, naming the policy. With no matching
 * policy the default policy decides (`ip xfrm policy setdefault`, accept
 * unless set). "fwd" policies are for forwarded packets, never the host's
 * own: not read.
 *
 * Each policy is a blind spot of its own, so the deciding one is named; a
 * spot decides only when its policy is the one the kernel would pick, and
 * the pick is made once per packet for all the spots of a direction.
 *
 * Not visible: per-socket policies (setsockopt IP_XFRM_POLICY, which IKE
 * daemons put on their own sockets) are in no dump; a resolver or NTP
 * client does not set them. Policies bound to an xfrm interface (if_id)
 * apply only to packets routed through it, and the selector's ifindex of an
 * "in" policy compares with the route's device (loopback for local
 * delivery): such policies are UNKNOWN when the rest of the selector
 * matches, like those with a mark or a security context. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "blind-net-internal.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/nlsock.h"

struct xfrm_pol {
	struct xfrm_selector sel;
	uint32_t priority, order;   /* order: as dumped, for equal priorities */
	uint8_t dir, action;
	bool has_tmpl, all_optional;
	bool uncertain;             /* a mark, if_id, security context or ifindex decides too */
};

/* The policies of one direction, sorted by priority; shared by its spots. */
struct xfrm_dir {
	struct xfrm_pol *v;
	size_t n;
	uint8_t default_action;     /* XFRM_USERPOLICY_* */
	unsigned refs;
	/* the last packet's pick (the spots of a direction ask in a row) */
	struct blind_packet last;
	bool last_valid;
	long last_pick;             /* index, or -1: no policy matched */
	enum blind_effect last_effect;
};

struct xfrm_spot {
	struct xfrm_dir *dir;
	long index;                 /* -1: the default policy's spot */
};

static bool addr_match(const void *a, const void *b, unsigned plen, unsigned alen)
{
	const uint8_t *x = a, *y = b;
	unsigned full = plen / 8, rest = plen % 8;

	if (plen > alen * 8)
		return false;
	if (memcmp(x, y, full) != 0)
		return false;
	return !rest || !((x[full] ^ y[full]) & (uint8_t)(0xff00 >> rest));
}

/* xfrm_selector_match(): false, true, or (as -1) "depends on what is not
 * known here". */
static int selector_match(const struct xfrm_pol *p, const struct blind_packet *pkt)
{
	const struct xfrm_selector *s = &p->sel;
	unsigned alen = pkt->dst.family == AF_INET6 ? 16 : 4;

	if (s->family && s->family != pkt->dst.family)
		return 0;
	if (!addr_match(pkt->dst.bytes, &s->daddr, s->prefixlen_d, alen) ||
	    !addr_match(pkt->src.bytes, &s->saddr, s->prefixlen_s, alen))
		return 0;
	if (s->proto && s->proto != pkt->l4proto)
		return 0;
	if ((htons(pkt->dport) ^ s->dport) & s->dport_mask)
		return 0;
	if ((htons(pkt->sport) ^ s->sport) & s->sport_mask)
		return 0;
	if (s->ifindex) {
		if (pkt->dir == BLIND_INGRESS)
			return -1;
		if (s->ifindex != pkt->ifindex)
			return 0;
	}
	return p->uncertain ? -1 : 1;
}

static enum blind_effect pol_effect(const struct xfrm_pol *p, uint8_t dir)
{
	if (p->action == XFRM_POLICY_BLOCK)
		return BLIND_DROP;
	if (!p->has_tmpl)
		return BLIND_PASS;
	/* "in": optional templates (level use) let a plain packet through */
	if (dir == XFRM_POLICY_IN && p->all_optional)
		return BLIND_PASS;
	return BLIND_UNKNOWN;
}

/* The kernel's pick for pkt among the direction's policies: the first (by
 * priority) whose selector matches. One that may match makes the outcome
 * unknown, charged to it. */
static bool same_packet(const struct blind_packet *a, const struct blind_packet *b)
{
	return a->src.family == b->src.family && memcmp(a->src.bytes, b->src.bytes, 16) == 0 &&
	       a->dst.family == b->dst.family && memcmp(a->dst.bytes, b->dst.bytes, 16) == 0 &&
	       a->l4proto == b->l4proto && a->sport == b->sport && a->dport == b->dport &&
	       a->ifindex == b->ifindex && a->dir == b->dir;
}

static void pick(struct xfrm_dir *d, const struct blind_packet *pkt)
{
	if (d->last_valid && same_packet(&d->last, pkt))
		return;
	d->last = *pkt;
	d->last_valid = true;
	d->last_pick = -1;
	d->last_effect = d->default_action == XFRM_USERPOLICY_BLOCK ? BLIND_DROP : BLIND_PASS;
	for (size_t i = 0; i < d->n; i++) {
		int m = selector_match(&d->v[i], pkt);
		if (!m)
			continue;
		d->last_pick = (long)i;
		d->last_effect = m < 0 ? BLIND_UNKNOWN : pol_effect(&d->v[i], d->v[i].dir);
		return;
	}
}

static enum blind_effect xfrm_decide(const struct blind_spot *b, const struct blind_packet *p)
{
	const struct xfrm_spot *s = b->data;

	pick(s->dir, p);
	return s->dir->last_pick == s->index ? s->dir->last_effect : BLIND_PASS;
}

static void xfrm_spot_free(void *data)
{
	struct xfrm_spot *s = data;

	if (--s->dir->refs == 0) {
		free(s->dir->v);
		free(s->dir);
	}
	free(s);
}

/* ---- reading -------------------------------------------------------------- */

struct pol_dump {
	struct xfrm_dir *dirs[2];   /* XFRM_POLICY_IN, XFRM_POLICY_OUT */
	size_t cap[2];
	uint32_t order;
	int bad;
};

static int policy_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pol_dump *d = data;
	struct xfrm_userpolicy_info buf, *info = &buf;
	const struct nlattr *a;
	struct xfrm_pol p = { 0 };
	struct xfrm_dir *dir;

	if (nlh->nlmsg_type != XFRM_MSG_NEWPOLICY)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*info)) {
		d->bad++;
		return MNL_CB_OK;
	}
	/* copied: the struct has 8-byte members, a message only 4-byte alignment */
	memcpy(&buf, mnl_nlmsg_get_payload(nlh), sizeof(buf));
	if (info->dir != XFRM_POLICY_IN && info->dir != XFRM_POLICY_OUT)
		return MNL_CB_OK;
	p.sel = info->sel;
	p.priority = info->priority;
	p.order = d->order++;
	p.dir = info->dir;
	p.action = info->action;
	p.all_optional = true;
	mnl_attr_for_each(a, nlh, sizeof(*info)) {
		switch (mnl_attr_get_type(a)) {
		case XFRMA_TMPL: {
			size_t n = mnl_attr_get_payload_len(a) / sizeof(struct xfrm_user_tmpl);
			const struct xfrm_user_tmpl *t = mnl_attr_get_payload(a);
			for (size_t i = 0; i < n; i++) {
				struct xfrm_user_tmpl tmpl;
				memcpy(&tmpl, t + i, sizeof(tmpl));
				p.has_tmpl = true;
				p.all_optional &= tmpl.optional != 0;
			}
			break;
		}
		case XFRMA_MARK:
			if (mnl_attr_get_payload_len(a) >= sizeof(struct xfrm_mark)) {
				struct xfrm_mark m;
				memcpy(&m, mnl_attr_get_payload(a), sizeof(m));
				p.uncertain |= m.m != 0;
			}
			break;
		case XFRMA_IF_ID:
			if (mnl_attr_get_payload_len(a) >= 4 && mnl_attr_get_u32(a))
				p.uncertain = true;
			break;
		case XFRMA_SEC_CTX:
			p.uncertain = true;
			break;
		}
	}
	if (!p.has_tmpl)
		p.all_optional = false;
	dir = d->dirs[p.dir];
	grow_array((void **)&dir->v, &d->cap[p.dir], dir->n + 1, sizeof(*dir->v));
	dir->v[dir->n++] = p;
	return MNL_CB_OK;
}

static int default_cb(const struct nlmsghdr *nlh, void *data)
{
	struct xfrm_userpolicy_default *out = data;

	if (nlh->nlmsg_type == XFRM_MSG_GETDEFAULT && mnl_nlmsg_get_payload_len(nlh) >= sizeof(*out))
		memcpy(out, mnl_nlmsg_get_payload(nlh), sizeof(*out));
	return MNL_CB_OK;
}

static int pol_cmp(const void *a, const void *b)
{
	const struct xfrm_pol *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static const char *proto_name(uint8_t p, char *buf, size_t size)
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "ipv6-icmp";
	case IPPROTO_SCTP: return "sctp";
	}
	snprintf(buf, size, "%u", p);
	return buf;
}

/* "IPsec policy out src 100.64.0.0/10 dst 0.0.0.0/0 proto udp dport 53
 * (priority 0): block" and the like, as `ip xfrm policy` names it. */
static void policy_what(char *what, size_t size, const struct xfrm_pol *p, const char *templates)
{
	char s[INET6_ADDRSTRLEN + 2], d[INET6_ADDRSTRLEN + 2], pr[8], extra[64] = "";
	int fam = p->sel.family ? p->sel.family : AF_INET;
	size_t n;

	blind_net_addr(fam, &p->sel.saddr, false, s, sizeof(s));
	blind_net_addr(fam, &p->sel.daddr, false, d, sizeof(d));
	if (p->sel.proto) {
		n = strlen(extra);
		snprintf(extra + n, sizeof(extra) - n, " proto %s", proto_name(p->sel.proto, pr, sizeof(pr)));
	}
	if (p->sel.sport_mask) {
		n = strlen(extra);
		snprintf(extra + n, sizeof(extra) - n, " sport %u", ntohs(p->sel.sport));
	}
	if (p->sel.dport_mask) {
		n = strlen(extra);
		snprintf(extra + n, sizeof(extra) - n, " dport %u", ntohs(p->sel.dport));
	}
	snprintf(what, size, "IPsec policy %s src %s/%u dst %s/%u%s (priority %u%s): %s",
		 p->dir == XFRM_POLICY_IN ? "in" : "out", s, p->sel.prefixlen_s, d, p->sel.prefixlen_d, extra,
		 p->priority, p->uncertain ? "; also selects by mark, interface or security context" : "",
		 templates);
}

static void tmpl_text(const struct xfrm_user_tmpl *t, int fam, char *buf, size_t size)
{
	char d[INET6_ADDRSTRLEN + 2];
	const char *proto = t->id.proto == IPPROTO_AH ? "AH" : t->id.proto == IPPROTO_COMP ? "IPComp" : "ESP";

	if (t->mode == XFRM_MODE_TUNNEL)
		snprintf(buf, size, "requires %s tunnel to %s%s", proto,
			 blind_net_addr(t->family ? t->family : fam, &t->id.daddr, false, d, sizeof(d)),
			 t->optional ? " (optional)" : "");
	else
		snprintf(buf, size, "requires %s %s%s", proto, t->mode == XFRM_MODE_TRANSPORT ? "transport" : "mode",
			 t->optional ? " (optional)" : "");
}

static void add_spots(struct blind_spots *b, struct xfrm_dir *dir, uint8_t which, char **texts)
{
	for (size_t i = 0; i < dir->n; i++) {
		struct blind_spot *sp = blind_add(b);
		struct xfrm_spot *s = xmalloc(sizeof(*s));

		s->dir = dir;
		s->index = (long)i;
		dir->refs++;
		sp->kind = BLIND_XFRM;
		sp->dirs = which == XFRM_POLICY_IN ? BLIND_INGRESS : BLIND_EGRESS;
		sp->decide = xfrm_decide;
		sp->data = s;
		sp->free_data = xfrm_spot_free;
		policy_what(sp->what, sizeof(sp->what), &dir->v[i], texts[dir->v[i].order]);
	}
	if (dir->default_action == XFRM_USERPOLICY_BLOCK) {
		struct blind_spot *sp = blind_add(b);
		struct xfrm_spot *s = xmalloc(sizeof(*s));

		s->dir = dir;
		s->index = -1;
		dir->refs++;
		sp->kind = BLIND_XFRM;
		sp->dirs = which == XFRM_POLICY_IN ? BLIND_INGRESS : BLIND_EGRESS;
		sp->decide = xfrm_decide;
		sp->data = s;
		sp->free_data = xfrm_spot_free;
		snprintf(sp->what, sizeof(sp->what), "IPsec default policy %s: block (a packet no xfrm policy "
			 "selects is dropped)", which == XFRM_POLICY_IN ? "in" : "out");
	}
}

/* The words of every policy's templates, by dump order (a second walk of
 * the same messages would need them kept: the texts are made in the
 * callback instead). */
struct text_dump {
	struct pol_dump pd;
	char **texts;
	size_t cap;
};

static int policy_text_cb(const struct nlmsghdr *nlh, void *data)
{
	struct text_dump *t = data;
	uint32_t before = t->pd.order;
	struct xfrm_userpolicy_info buf, *info = &buf;
	const struct nlattr *a;
	char words[160] = "", one[96];
	int r = policy_cb(nlh, &t->pd);

	if (t->pd.order == before)
		return r;
	memcpy(&buf, mnl_nlmsg_get_payload(nlh), sizeof(buf));
	if (info->action == XFRM_POLICY_BLOCK) {
		snprintf(words, sizeof(words), "block");
	} else {
		mnl_attr_for_each(a, nlh, sizeof(*info)) {
			if (mnl_attr_get_type(a) != XFRMA_TMPL)
				continue;
			size_t n = mnl_attr_get_payload_len(a) / sizeof(struct xfrm_user_tmpl);
			for (size_t i = 0; i < n; i++) {
				struct xfrm_user_tmpl tmpl;
				size_t len = strlen(words);
				memcpy(&tmpl, (const struct xfrm_user_tmpl *)mnl_attr_get_payload(a) + i, sizeof(tmpl));
				tmpl_text(&tmpl, info->sel.family ? info->sel.family : AF_INET, one, sizeof(one));
				snprintf(words + len, sizeof(words) - len, "%s%s", len ? ", " : "", one);
			}
		}
		if (!words[0])
			snprintf(words, sizeof(words), "allow (no transform)");
	}
	grow_array((void **)&t->texts, &t->cap, before + 1, sizeof(*t->texts));
	t->texts[before] = xstrdup(words);
	return r;
}

static bool xfrm_possible(void)
{
	/* Opening NETLINK_XFRM loads xfrm_user when it is a module that is
	 * not loaded; without it (nor af_key, PF_KEY's) no policy can have
	 * been made, so nothing is asked. Built in, or where this cannot be
	 * told, the kernel is asked. */
	static const char *const exts[] = { "", ".xz", ".zst", ".gz" };
	_cleanup_fclose_ FILE *f = fopen("/proc/modules", "re");
	struct utsname u;
	char line[256], path[512];

	if (!f)
		return true;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "xfrm_user ", 10) == 0 || strncmp(line, "af_key ", 7) == 0)
			return true;
	if (uname(&u) < 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		snprintf(path, sizeof(path), "/lib/modules/%s/kernel/net/xfrm/xfrm_user.ko%s", u.release, exts[i]);
		if (access(path, F_OK) == 0)
			return false;
	}
	return true;
}

void blind_net_xfrm(struct blind_spots *b)
{
	struct text_dump t = { 0 };
	struct xfrm_userpolicy_default def = { 0 };
	struct nlconn c;
	struct nlmsghdr *nlh;
	int e;

	if (!xfrm_possible())
		return;
	e = nlconn_open(&c, NETLINK_XFRM, MNL_SOCKET_BUFFER_SIZE * 4);
	if (e < 0) {
		if (e != -EPROTONOSUPPORT)
			blind_note(b, "IPsec (xfrm) policies cannot be read (netlink: %s)", strerror(-e));
		return;
	}
	for (int i = 0; i < 2; i++) {
		t.pd.dirs[i] = xcalloc(1, sizeof(*t.pd.dirs[i]));
		t.pd.dirs[i]->refs = 1;
	}
	for (int tries = 0; tries < 3; tries++) {
		for (size_t i = 0; i < t.pd.order; i++)
			free(t.texts[i]);
		t.pd.order = 0;
		t.pd.bad = 0;
		t.pd.dirs[0]->n = t.pd.dirs[1]->n = 0;
		nlh = mnl_nlmsg_put_header(c.buf);
		nlh->nlmsg_type = XFRM_MSG_GETPOLICY;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = ++c.seq;
		mnl_nlmsg_put_extra_header(nlh, sizeof(struct xfrm_userpolicy_id));
		e = nlconn_talk(&c, nlh, policy_text_cb, &t);
		if (e != -EINTR)
			break;
		nlconn_close(&c);
		if ((e = nlconn_open(&c, NETLINK_XFRM, MNL_SOCKET_BUFFER_SIZE * 4)) < 0)
			break;
	}
	if (e < 0) {
		blind_note(b, "IPsec (xfrm) policies cannot be read (%s%s): one that blocks or transforms a "
			   "target's packets would go unseen", strerror(-e), e == -EPERM ? ", needs CAP_NET_ADMIN" : "");
		goto out;
	}
	if (t.pd.bad)
		blind_note(b, "%d IPsec (xfrm) polic%s could not be understood (short messages)", t.pd.bad,
			   t.pd.bad == 1 ? "y" : "ies");
	/* the default policies (kernel 5.16 and later; older: accept) */
	nlh = mnl_nlmsg_put_header(c.buf);
	nlh->nlmsg_type = XFRM_MSG_GETDEFAULT;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++c.seq;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct xfrm_userpolicy_default));
	if (nlconn_talk(&c, nlh, default_cb, &def) == 0) {
		t.pd.dirs[XFRM_POLICY_IN]->default_action = def.in;
		t.pd.dirs[XFRM_POLICY_OUT]->default_action = def.out;
	}
	for (uint8_t i = 0; i < 2; i++) {
		if (t.pd.dirs[i]->n)    /* no qsort() of a NULL array */
			qsort(t.pd.dirs[i]->v, t.pd.dirs[i]->n, sizeof(*t.pd.dirs[i]->v), pol_cmp);
		add_spots(b, t.pd.dirs[i], i, t.texts);
	}
out:
	for (int i = 0; i < 2; i++) {
		struct xfrm_dir *d = t.pd.dirs[i];
		if (--d->refs == 0) {
			free(d->v);
			free(d);
		}
	}
	for (size_t i = 0; i < t.pd.order; i++)
		free(t.texts[i]);
	free(t.texts);
	nlconn_close(&c);
}
