/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulator side of the kernel-differential tests: collects every
 * netfilter backend of the namespace it runs in, then simulates one flow per
 * input line and prints the verdict.
 *
 *   in:  ID out|in LOCAL REMOTE udp|tcp LOCAL_PORT REMOTE_PORT DEV [mark=N]
 *        (mark: the local socket's SO_MARK)
 *   out: ID reachable|blocked|uncertain request=V reply=V
 *        [leg=LEG by=BACKEND:FAMILY:TABLE:CHAIN:#INDEX handle=H (or :policy) what=...]
 */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <ifaddrs.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/collect-netfilter.h"
#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/route.h"
#include "cgnatcheck/sim-netfilter.h"

struct local_addrs {
	struct cg_addr v[64];
	int n;
};

static int addr_type(const struct cg_addr_env *env, const struct cg_addr *a, const char *dev)
{
	const struct local_addrs *l = env->userdata;

	(void)dev;
	for (int i = 0; i < l->n; i++)
		if (addr_equal(&l->v[i], a))
			return RTN_LOCAL;
	if (a->family == AF_INET && a->bytes[0] >= 224 && a->bytes[0] < 240)
		return RTN_MULTICAST;
	if (a->family == AF_INET && a->v4.s_addr == 0xffffffff)
		return RTN_BROADCAST;
	return RTN_UNICAST;
}

static void load_local_addrs(struct local_addrs *l)
{
	struct ifaddrs *ifa, *i;

	l->n = 0;
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i && l->n < 64; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		struct cg_addr a = { .family = i->ifa_addr->sa_family };
		if (a.family == AF_INET)
			a.v4 = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		else if (a.family == AF_INET6)
			a.v6 = ((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		else
			continue;
		l->v[l->n++] = a;
	}
	freeifaddrs(ifa);
}

static const char *verdict_word(enum sim_verdict v)
{
	return v == SIM_ACCEPT ? "reachable" : v == SIM_DROP ? "blocked" : "uncertain";
}

static void print_rule(const struct cg_rule *r, const struct cg_chain *policy)
{
	const struct cg_chain *c = r ? r->chain : policy;

	if (!c) {
		printf(" by=-");
		return;
	}
	printf(" by=%s:%s:%s:%s:", backend_to_string(c->table->backend),
	       family_to_string(c->table->family), c->table->name, c->name);
	if (r)
		printf("#%u handle=%llu", r->index, (unsigned long long)r->handle);
	else
		printf("policy");
}

/* The first leg that did not pass explains the verdict. */
static void print_explanation(const struct flow_result *res)
{
	for (int l = 0; l < _SIM_LEG_MAX; l++) {
		const struct sim_leg_result *lr = &res->legs[l];
		if (!lr->present || lr->verdict == SIM_ACCEPT || lr->deciding_hook < 0)
			continue;
		const struct hook_result *h = &lr->res[lr->deciding_hook];
		printf(" leg=%s", sim_leg_to_string(l));
		print_rule(h->decided_by, h->policy_chain);
		if (h->unknown_what)
			printf(" what=%s", h->unknown_what);
		return;
	}
}

int main(void)
{
	struct cg_ruleset rs = { 0 };
	struct sim_index *idx = NULL;
	struct local_addrs locals;
	struct route_state routes;
	struct cg_addr_env env = { .addr_type = addr_type, .userdata = &locals, .routes = &routes };
	char line[512];
	int r;

	/* the routing state, for fib expressions */
	route_state_init(&routes);
	if (route_state_collect(&routes) < 0)
		return 2;
	/* NF_SIMULATE_LAZY=1: nf_tables as the audit reads it (collect-nft.h:
	 * large tables only as far as packets reach; CGNATCHECK_NFT_LAZY_CHAINS=0
	 * makes every table large), so the tests can hold that reading against
	 * the kernel too. NF_SIMULATE_AFTER_COLLECT: a shell command run between
	 * the collection and the first flow (a change the chains read later
	 * must notice). */
	const char *lazy = getenv("NF_SIMULATE_LAZY"), *after = getenv("NF_SIMULATE_AFTER_COLLECT");
	struct nft_collect_opts nft = { .lazy = true, .lazy_min_chains = NFT_LAZY_MIN_CHAINS };
	r = netfilter_collect_opts(&rs, lazy && strcmp(lazy, "1") == 0 ? &nft : NULL);
	if (r < 0)
		return 2;
	if (after && *after && system(after) != 0) {
		fprintf(stderr, "nf-simulate: `%s` failed\n", after);
		return 2;
	}
	r = sim_index_build(&rs, &idx);
	if (r < 0)
		return 2;
	load_local_addrs(&locals);

	while (fgets(line, sizeof(line), stdin)) {
		char id[64], dir[8], local[64], remote[64], proto[8], dev[IFNAMSIZ + 1];
		unsigned lport, rport;
		const char *m;
		struct sim_flow f = { 0 };
		struct flow_result res;
		int end = 0;

		if (sscanf(line, "%63s %7s %63s %63s %7s %u %u %16s%n", id, dir, local, remote, proto,
			   &lport, &rport, dev, &end) != 8) {
			fprintf(stderr, "nf-simulate: malformed line: %s", line);
			return 2;
		}
		if ((m = strstr(line + end, "mark=")))
			f.mark = (uint32_t)strtoul(m + 5, NULL, 0);
		if (addr_parse(local, &f.local) < 0 || addr_parse(remote, &f.remote) < 0 ||
		    lport > 65535 || rport > 65535 || strlen(dev) >= IFNAMSIZ) {
			fprintf(stderr, "nf-simulate: bad value in: %s", line);
			return 2;
		}
		f.nfproto = f.local.family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
		f.inbound = strcmp(dir, "in") == 0;
		f.l4proto = strcmp(proto, "tcp") == 0 ? IPPROTO_TCP : IPPROTO_UDP;
		f.local_port = (uint16_t)lport;
		f.remote_port = (uint16_t)rport;
		memcpy(f.dev.name, dev, strlen(dev) + 1);
		f.dev.index = if_nametoindex(dev);
		r = simulate_flow(idx, &env, &f, &res);
		if (r < 0)
			return 2;
		printf("%s %s request=%s reply=%s", id, verdict_word(res.verdict),
		       sim_verdict_to_string(res.request), sim_verdict_to_string(res.reply));
		print_explanation(&res);
		putchar('\n');
		flow_result_free(&res);
	}
	sim_index_free(idx);
	ruleset_free(&rs);
	route_state_free(&routes);
	return 0;
}
