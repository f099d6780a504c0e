/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IPVS (kube-proxy's ipvs mode, keepalived): a packet the host sends to a
 * virtual service, or that arrives for one, is scheduled to a real server
 * and rewritten by IPVS at LOCAL_OUT / LOCAL_IN, outside netfilter's rules.
 * The simulator does not model that: such a packet is UNKNOWN, naming the
 * service; every other packet PASSes. A firewall-mark service takes the
 * packets that mangle rules mark, and the mark of a packet at that point is
 * not known here: UNKNOWN for every packet of its family.
 *
 * Read over generic netlink: the family's id from a dump of the families
 * (asking for it by name would load the ip_vs module; no module, no
 * services, nothing said), then IPVS_CMD_GET_SERVICE (a dump), and for the
 * first IPVS_MAX_DEST_DUMPS services IPVS_CMD_GET_DEST, to count their
 * real servers. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blind-net-internal.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/nlsock.h"

/* One destination dump per service is one request per service: a node of
 * a large cluster has thousands; past this many the count is left out. */
#define IPVS_MAX_DEST_DUMPS 256

struct ipvs_service {
	int af;                     /* AF_INET, AF_INET6 */
	uint16_t protocol;          /* IPPROTO_TCP, _UDP, _SCTP */
	uint8_t addr[16];
	uint16_t port;              /* host order; 0: every port (persistent) */
	uint32_t fwmark;            /* nonzero: a firewall-mark service */
};

static const char *proto_name(uint16_t p)
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	}
	return "?";
}

static enum blind_effect ipvs_decide(const struct blind_spot *b, const struct blind_packet *p)
{
	const struct ipvs_service *s = b->data;
	size_t alen = s->af == AF_INET6 ? 16 : 4;

	if (p->dst.family != s->af)
		return BLIND_PASS;
	if (s->fwmark)
		return BLIND_UNKNOWN;
	if (p->l4proto != s->protocol)
		return BLIND_PASS;
	/* the request to the service, and its reply (which IPVS rewrites
	 * back from the real server's) */
	if (memcmp(p->dst.bytes, s->addr, alen) == 0 && (!s->port || s->port == p->dport))
		return BLIND_UNKNOWN;
	if (memcmp(p->src.bytes, s->addr, alen) == 0 && (!s->port || s->port == p->sport))
		return BLIND_UNKNOWN;
	return BLIND_PASS;
}

/* ---- generic netlink ------------------------------------------------------ */

static struct nlmsghdr *genl_msg(struct nlconn *c, uint16_t family, uint8_t cmd, uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(c->buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++c->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

struct family_find {
	const char *name;
	uint16_t id;
};

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct family_find *f = data;
	const struct nlattr *a, *name = NULL, *id = NULL;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_NAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			name = a;
		else if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID && mnl_attr_validate(a, MNL_TYPE_U16) == 0)
			id = a;
	}
	if (name && id && strcmp(mnl_attr_get_str(name), f->name) == 0)
		f->id = mnl_attr_get_u16(id);
	return MNL_CB_OK;
}

/* ---- services ------------------------------------------------------------- */

struct svc_dump {
	struct blind_spots *b;
	uint16_t family;
	size_t first, n;            /* the spots this dump added */
	int bad;
};

static int parse_service(const struct nlattr *nest, struct ipvs_service *s, char *sched, size_t sched_size)
{
	const struct nlattr *a;
	bool have_af = false;

	memset(s, 0, sizeof(*s));
	snprintf(sched, sched_size, "?");
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case IPVS_SVC_ATTR_AF:
			if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
				return -1;
			s->af = mnl_attr_get_u16(a);
			have_af = true;
			break;
		case IPVS_SVC_ATTR_PROTOCOL:
			if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
				return -1;
			s->protocol = mnl_attr_get_u16(a);
			break;
		case IPVS_SVC_ATTR_ADDR:
			if (mnl_attr_get_payload_len(a) < 4)
				return -1;
			memcpy(s->addr, mnl_attr_get_payload(a),
			       mnl_attr_get_payload_len(a) < 16 ? 4 : 16);
			break;
		case IPVS_SVC_ATTR_PORT:
			if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
				return -1;
			s->port = ntohs(mnl_attr_get_u16(a));
			break;
		case IPVS_SVC_ATTR_FWMARK:
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				return -1;
			s->fwmark = mnl_attr_get_u32(a);
			break;
		case IPVS_SVC_ATTR_SCHED_NAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
				return -1;
			snprintf(sched, sched_size, "%s", mnl_attr_get_str(a));
			break;
		}
	}
	return have_af && (s->af == AF_INET || s->af == AF_INET6) ? 0 : -1;
}

static void service_what(struct blind_spot *sp, const struct ipvs_service *s, const char *sched, long n_dests)
{
	char addr[INET6_ADDRSTRLEN + 2], dests[48] = "";

	if (n_dests >= 0)
		snprintf(dests, sizeof(dests), ", %ld destination%s", n_dests, n_dests == 1 ? "" : "s");
	if (s->fwmark) {
		snprintf(sp->what, sizeof(sp->what),
			 "IPVS firewall-mark service %u (%s%s, %s): it takes every packet marked %u, and "
			 "cgnatcheck does not know a packet's mark where IPVS looks",
			 s->fwmark, sched, dests, s->af == AF_INET6 ? "IPv6" : "IPv4", s->fwmark);
		return;
	}
	blind_net_addr(s->af, s->addr, true, addr, sizeof(addr));
	if (s->port)
		snprintf(sp->what, sizeof(sp->what), "IPVS virtual service %s:%u/%s (%s%s)", addr, s->port,
			 proto_name(s->protocol), sched, dests);
	else
		snprintf(sp->what, sizeof(sp->what), "IPVS virtual service %s/%s, every port (%s%s)", addr,
			 proto_name(s->protocol), sched, dests);
}

static int service_cb(const struct nlmsghdr *nlh, void *data)
{
	struct svc_dump *d = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		struct ipvs_service s, *copy;
		struct blind_spot *sp;
		char sched[IP_VS_SCHEDNAME_MAXLEN + 1];

		if (mnl_attr_get_type(a) != IPVS_CMD_ATTR_SERVICE)
			continue;
		if (parse_service(a, &s, sched, sizeof(sched)) < 0) {
			d->bad++;
			continue;
		}
		copy = xmalloc(sizeof(*copy));
		*copy = s;
		sp = blind_add(d->b);
		sp->kind = BLIND_IPVS;
		sp->ifindex = 0;
		sp->dirs = BLIND_INGRESS | BLIND_EGRESS;
		sp->decide = ipvs_decide;
		sp->data = copy;
		sp->free_data = free;
		/* the scheduler's name until the destinations are counted */
		service_what(sp, &s, sched, -1);
		d->n++;
	}
	return MNL_CB_OK;
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	long *n = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == IPVS_CMD_ATTR_DEST)
			(*n)++;
	return MNL_CB_OK;
}

/* The scheduler's name back out of what service_what() wrote. */
static void what_sched(const char *what, char *sched, size_t size)
{
	const char *p = strrchr(what, '(');
	size_t n;

	snprintf(sched, size, "?");
	if (!p)
		return;
	p++;
	n = strcspn(p, ",)");
	snprintf(sched, size, "%.*s", (int)n, p);
}

void blind_net_ipvs(struct blind_spots *b)
{
	struct nlconn c;
	struct family_find f = { .name = IPVS_GENL_NAME };
	struct svc_dump d = { .b = b, .first = b->n };
	struct nlmsghdr *nlh;
	int e;

	e = nlconn_open(&c, NETLINK_GENERIC, MNL_SOCKET_BUFFER_SIZE * 4);
	if (e < 0) {
		blind_note(b, "IPVS virtual services cannot be read (generic netlink: %s)", strerror(-e));
		return;
	}
	nlh = genl_msg(&c, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_DUMP);
	e = nlconn_talk(&c, nlh, family_cb, &f);
	if (e < 0) {
		blind_note(b, "IPVS virtual services cannot be read (generic netlink families: %s)", strerror(-e));
		goto out;
	}
	if (!f.id)
		goto out;           /* no ip_vs: nothing to say */
	for (int tries = 0; tries < 3; tries++) {
		/* an interrupted dump starts again, its spots dropped */
		while (b->n > d.first) {
			struct blind_spot *sp = &b->v[--b->n];
			sp->free_data(sp->data);
		}
		d.n = 0;
		d.bad = 0;
		nlh = genl_msg(&c, f.id, IPVS_CMD_GET_SERVICE, IPVS_GENL_VERSION, NLM_F_DUMP);
		e = nlconn_talk(&c, nlh, service_cb, &d);
		if (e != -EINTR)
			break;
		nlconn_close(&c);
		if ((e = nlconn_open(&c, NETLINK_GENERIC, MNL_SOCKET_BUFFER_SIZE * 4)) < 0)
			break;
	}
	if (e < 0) {
		blind_note(b, "IPVS virtual services cannot be read (%s%s): a target that is one would be "
			   "scheduled unseen", strerror(-e), e == -EPERM ? ", needs CAP_NET_ADMIN" : "");
		goto out;
	}
	if (d.bad)
		blind_note(b, "%d IPVS service%s could not be understood (malformed attributes)", d.bad,
			   d.bad == 1 ? "" : "s");
	/* the real servers behind each service, for its name */
	for (size_t i = d.first; i < b->n && i - d.first < IPVS_MAX_DEST_DUMPS; i++) {
		struct blind_spot *sp = &b->v[i];
		const struct ipvs_service *s = sp->data;
		struct nlattr *nest;
		char sched[IP_VS_SCHEDNAME_MAXLEN + 1];
		long n = 0;

		nlh = genl_msg(&c, f.id, IPVS_CMD_GET_DEST, IPVS_GENL_VERSION, NLM_F_DUMP);
		nest = mnl_attr_nest_start(nlh, IPVS_CMD_ATTR_SERVICE);
		mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_AF, (uint16_t)s->af);
		if (s->fwmark) {
			mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_FWMARK, s->fwmark);
		} else {
			mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_PROTOCOL, s->protocol);
			mnl_attr_put(nlh, IPVS_SVC_ATTR_ADDR, 16, s->addr);
			mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_PORT, htons(s->port));
		}
		mnl_attr_nest_end(nlh, nest);
		if (nlconn_talk(&c, nlh, count_cb, &n) < 0)
			continue;
		what_sched(sp->what, sched, sizeof(sched));
		service_what(sp, s, sched, n);
	}
out:
	nlconn_close(&c);
}
