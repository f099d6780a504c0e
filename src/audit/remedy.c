/* SPDX-License-Identifier: GPL-2.0-or-later */
/* As narrow as the flow: the provider's address (/32, /128) or the
 * provider's range for health checks, the device the route uses, the
 * protocol and port, and for a service the host uses only replies
 * (ct state established,related). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h> /* before the linux/ headers */
#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/remedy.h"

static void host_prefix(const struct cg_addr *a, struct cg_prefix *p)
{
	p->addr = *a;
	p->len = (uint8_t)addr_family_bits(a->family);
}

/* The comment that tags what cgnatcheck adds:
 * cgnatcheck:<policy>:<service>-<address>-<proto>-<port> (the role for targets
 * of no policy service). One per exception: a service of two addresses and
 * two protocols needs four, and a re-run recognises each by its tag. */
static void tag(const struct audit_target *t, char *buf, size_t size)
{
	const char *policy = strncmp(t->origin, "policy:", 7) == 0 ? t->origin + 7 : t->origin;
	char addr[CG_ADDRSTRLEN];

	snprintf(buf, size, "cgnatcheck:%s:%s-%s-%s-%u", policy, t->service ? t->service : t->role,
		 addr_to_string(&t->addr, addr), l4proto_to_string(t->l4proto), t->port);
	/* the tag goes into shell commands and rule comments: keep it plain */
	for (char *c = buf; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr(".:_-", *c))
			*c = '_';
}

int remedy_plan(const struct audit *a, const struct audit_target *t, struct remedy *ex, const char **why)
{
	bool reply_leg = t->blocked_leg == SIM_LEG_REPLY || t->blocked_leg == SIM_LEG_REPLY_DATA;
	/* the packet that was dropped travels towards the host (input path) */
	bool arriving = reply_leg != t->inbound;
	const char *dev = t->flow.dev.name;
	/* the device the dropped packet had where it was dropped: after a
	 * re-route (a mark set in a route-type chain) the answer arrives, and
	 * POSTROUTING sees the packet leave, on another one than the first route's */
	const struct sim_leg_result *lr = t->sim ? &t->sim->legs[t->blocked_leg] : NULL;
	if (lr && lr->present && lr->dev.name[0] && (arriving || lr->deciding_hook == 1))
		dev = lr->dev.name;

	(void)a;
	memset(ex, 0, sizeof(*ex));
	if (t->verdict != TARGET_BLOCKED) {
		*why = "the target is not blocked";
		return -EINVAL;
	}
	if (t->blind) {
		*why = "what drops it is not a netfilter rule (see above); cgnatcheck changes netfilter only";
		return -ENOTSUP;
	}
	if (!t->blocked_by) {
		*why = "it is blocked by a chain's drop policy, which no exception placed before a rule can narrow";
		return -ENOTSUP;
	}
	ex->before = t->blocked_by;
	ex->accept = t->blocked_by->chain->base;
	ex->l4proto = t->l4proto;
	/* a health check comes from anywhere in the provider's range */
	struct cg_prefix peer;
	if (t->range.len)
		peer = t->range;
	else
		host_prefix(&t->addr, &peer);
	if (arriving) {
		ex->src = peer;
		snprintf(ex->iif, sizeof(ex->iif), "%s", dev);
	} else {
		ex->dst = peer;
		snprintf(ex->oif, sizeof(ex->oif), "%s", dev);
	}
	if (t->inbound) {
		/* the provider opens: its packets go to our listener */
		if (arriving)
			ex->dport = t->port;
		else
			ex->sport = t->port;
		ex->ct_states = arriving ? 0 : CG_CT_ESTABLISHED | CG_CT_RELATED;
	} else {
		if (arriving)
			ex->sport = t->port;
		else
			ex->dport = t->port;
		/* a client with a fixed port of its own (DHCP's 68) */
		if (t->local_port) {
			if (arriving)
				ex->dport = t->local_port;
			else
				ex->sport = t->local_port;
		}
		/* replies only where that is enough; a blocked request needs new too */
		ex->ct_states = arriving ? CG_CT_ESTABLISHED | CG_CT_RELATED : CG_CT_NEW | CG_CT_ESTABLISHED;
	}
	tag(t, ex->comment, sizeof(ex->comment));
	return 0;
}

/* ct states in the order each tool prints them */
static void print_states(FILE *f, uint32_t s, bool nft)
{
	static const struct { uint32_t bit; const char *ipt, *nft; } names[] = {
		{ CG_CT_RELATED, "RELATED", NULL }, { CG_CT_ESTABLISHED, "ESTABLISHED", "established" },
		{ CG_CT_RELATED, NULL, "related" }, { CG_CT_NEW, "NEW", "new" },
	};
	const char *sep = "";

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const char *name = nft ? names[i].nft : names[i].ipt;
		if (name && (s & names[i].bit)) {
			fprintf(f, "%s%s", sep, name);
			sep = ",";
		}
	}
}

static void ipt_command(FILE *f, const struct remedy *ex)
{
	const struct cg_chain *c = ex->before->chain;
	bool v6 = c->table->family == NFPROTO_IPV6;
	bool legacy = c->table->backend == CG_BACKEND_IPTABLES_LEGACY;
	const char *proto = l4proto_to_string(ex->l4proto);
	char p[CG_ADDRSTRLEN];

	fprintf(f, "%s-%s -w -t %s -I %s %u", v6 ? "ip6tables" : "iptables", legacy ? "legacy" : "nft",
		c->table->name, c->name, ex->before->index);
	if (ex->src.addr.family)
		fprintf(f, " -s %s", prefix_to_string(&ex->src, p));
	if (ex->dst.addr.family)
		fprintf(f, " -d %s", prefix_to_string(&ex->dst, p));
	if (ex->iif[0])
		fprintf(f, " -i %s", ex->iif);
	if (ex->oif[0])
		fprintf(f, " -o %s", ex->oif);
	fprintf(f, " -p %s -m %s", proto, proto);
	if (ex->sport)
		fprintf(f, " --sport %u", ex->sport);
	if (ex->dport)
		fprintf(f, " --dport %u", ex->dport);
	if (ex->ct_states) {
		fputs(" -m conntrack --ctstate ", f);
		print_states(f, ex->ct_states, false);
	}
	fprintf(f, " -m comment --comment \"%s\" -j %s", ex->comment, ex->accept ? "ACCEPT" : "RETURN");
}

/* nft prints a host address without its length */
static const char *nft_prefix(const struct cg_prefix *p, char buf[static CG_ADDRSTRLEN])
{
	if (p->len == addr_family_bits(p->addr.family))
		return addr_to_string(&p->addr, buf);
	return prefix_to_string(p, buf);
}

static void nft_command(FILE *f, const struct remedy *ex)
{
	const struct cg_chain *c = ex->before->chain;
	const char *ipk = (ex->src.addr.family ? ex->src.addr.family : ex->dst.addr.family) == AF_INET6 ? "ip6" : "ip";
	const char *proto = l4proto_to_string(ex->l4proto);
	char p[CG_ADDRSTRLEN];

	/* one argument, so the shell keeps nft's own quotes; the place by
	 * index (0-based), which means the same rule on the host as in its
	 * saved copy (--replay gives every rule a new handle) */
	fprintf(f, "nft 'insert rule %s %s %s index %u", family_to_string(c->table->family), c->table->name,
		c->name, ex->before->index - 1);
	if (ex->iif[0])
		fprintf(f, " iifname \"%s\"", ex->iif);
	if (ex->oif[0])
		fprintf(f, " oifname \"%s\"", ex->oif);
	if (ex->src.addr.family)
		fprintf(f, " %s saddr %s", ipk, nft_prefix(&ex->src, p));
	if (ex->dst.addr.family)
		fprintf(f, " %s daddr %s", ipk, nft_prefix(&ex->dst, p));
	if (ex->sport)
		fprintf(f, " %s sport %u", proto, ex->sport);
	if (ex->dport)
		fprintf(f, " %s dport %u", proto, ex->dport);
	if (ex->ct_states) {
		fputs(" ct state ", f);
		print_states(f, ex->ct_states, true);
	}
	fprintf(f, " %s comment \"%s\"'", ex->accept ? "accept" : "return", ex->comment);
}

bool remedy_table_iptables_compatible(const struct cg_table *t)
{
	return t->backend != CG_BACKEND_NFTABLES;
}

char *remedy_command(const struct remedy *ex)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (remedy_table_iptables_compatible(ex->before->chain->table))
		ipt_command(f, ex);
	else
		nft_command(f, ex);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
