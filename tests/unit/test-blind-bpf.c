/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The tc filter model of the BPF blind-spot reader (blind-bpf-filter.c) on
 * RTM_NEWTFILTER messages built here as the kernel writes them, including
 * what this machine's kernel may not have (act_gact, matchall, basic,
 * police); the mount table's cgroup2 line; which cgroup BPF programs see
 * a flow's client, and /proc/PID/cgroup's cgroup2 line. The kernel test
 * (tests/kernel/blind-bpf.sh) judges u32 and bpf against the kernel. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_gact.h>
#include <linux/tc_act/tc_mirred.h>
#include <libmnl/libmnl.h>

#include "cgnatcheck/hostfacts.h"
#include "../../src/collect/blind-bpf-internal.h"
#include "../lib/test.h"

/* ---- building messages ------------------------------------------------------ */

static char bufs[64][4096];
static unsigned n_bufs;

static struct nlmsghdr *msg(uint32_t prio, uint16_t proto, uint32_t handle, const char *kind, uint32_t chain)
{
	char *buf = bufs[n_bufs++ % 64];
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;

	memset(buf, 0, 4096);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWTFILTER;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_handle = handle;
	tcm->tcm_info = TC_H_MAKE(prio << 16, htons(proto));
	mnl_attr_put_strz(nlh, TCA_KIND, kind);
	mnl_attr_put_u32(nlh, TCA_CHAIN, chain);
	return nlh;
}

/* Actions: a list of "gact:ACTION", "gact-random:ACTION", "mirror:ACTION",
 * "redirect", "police". */
static void put_actions(struct nlmsghdr *nlh, uint16_t type, const char *const *acts)
{
	struct nlattr *all = mnl_attr_nest_start(nlh, type);

	for (unsigned i = 0; acts[i]; i++) {
		struct nlattr *one = mnl_attr_nest_start(nlh, (uint16_t)(i + 1));
		int action = 0;
		const char *colon = strchr(acts[i], ':');
		if (colon)
			action = atoi(colon + 1);
		if (strncmp(acts[i], "gact", 4) == 0) {
			struct tc_gact g = { .action = action };
			mnl_attr_put_strz(nlh, TCA_ACT_KIND, "gact");
			struct nlattr *o = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
			mnl_attr_put(nlh, TCA_GACT_PARMS, sizeof(g), &g);
			if (strncmp(acts[i], "gact-random", 11) == 0) {
				struct tc_gact_p p = { .ptype = PGACT_NETRAND, .pval = 10, .paction = TC_ACT_OK };
				mnl_attr_put(nlh, TCA_GACT_PROB, sizeof(p), &p);
			}
			mnl_attr_nest_end(nlh, o);
		} else if (strncmp(acts[i], "mirror", 6) == 0 || strcmp(acts[i], "redirect") == 0) {
			struct tc_mirred m = { .action = action, .ifindex = 7 };
			m.eaction = acts[i][0] == 'm' ? TCA_EGRESS_MIRROR : TCA_EGRESS_REDIR;
			mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
			struct nlattr *o = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
			mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(m), &m);
			mnl_attr_nest_end(nlh, o);
		} else {
			mnl_attr_put_strz(nlh, TCA_ACT_KIND, acts[i]);
		}
		mnl_attr_nest_end(nlh, one);
	}
	mnl_attr_nest_end(nlh, all);
}

struct key {
	uint32_t val, mask; /* host order, as tc prints them */
	int off;
};

/* A u32 node; flags TC_U32_TERMINAL unless told otherwise. */
static struct nlmsghdr *u32_node(uint32_t prio, uint16_t proto, uint32_t handle, const struct key *keys, unsigned n,
				 uint8_t flags, const char *const *acts)
{
	struct nlmsghdr *nlh = msg(prio, proto, handle, "u32", 0);
	struct nlattr *o = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	char sel[sizeof(struct tc_u32_sel) + 8 * sizeof(struct tc_u32_key)] = { 0 };
	struct tc_u32_sel *s = (struct tc_u32_sel *)sel;

	s->flags = flags;
	s->nkeys = (unsigned char)n;
	for (unsigned i = 0; i < n; i++) {
		struct tc_u32_key k = { .mask = htonl(keys[i].mask), .val = htonl(keys[i].val), .off = keys[i].off };
		memcpy(sel + sizeof(*s) + i * sizeof(k), &k, sizeof(k));
	}
	mnl_attr_put_u32(nlh, TCA_U32_HASH, handle & 0xfff00000);
	mnl_attr_put(nlh, TCA_U32_SEL, sizeof(*s) + n * sizeof(struct tc_u32_key), sel);
	if (acts)
		put_actions(nlh, TCA_U32_ACT, acts);
	mnl_attr_nest_end(nlh, o);
	return nlh;
}

static struct nlmsghdr *u32_ht(uint32_t prio, uint16_t proto, uint32_t handle, uint32_t divisor)
{
	struct nlmsghdr *nlh = msg(prio, proto, handle, "u32", 0);
	struct nlattr *o = mnl_attr_nest_start(nlh, TCA_OPTIONS);

	mnl_attr_put_u32(nlh, TCA_U32_DIVISOR, divisor);
	mnl_attr_nest_end(nlh, o);
	return nlh;
}

static struct nlmsghdr *matchall(uint32_t prio, uint16_t proto, uint32_t chain, const char *const *acts, uint32_t flags)
{
	struct nlmsghdr *nlh = msg(prio, proto, 1, "matchall", chain);
	struct nlattr *o = mnl_attr_nest_start(nlh, TCA_OPTIONS);

	if (flags)
		mnl_attr_put_u32(nlh, TCA_MATCHALL_FLAGS, flags);
	put_actions(nlh, TCA_MATCHALL_ACT, acts);
	mnl_attr_nest_end(nlh, o);
	return nlh;
}

static struct nlmsghdr *bpf_filter(uint32_t prio, uint16_t proto)
{
	struct nlmsghdr *nlh = msg(prio, proto, 1, "bpf", 0);
	struct nlattr *o = mnl_attr_nest_start(nlh, TCA_OPTIONS);

	mnl_attr_put_strz(nlh, TCA_BPF_NAME, "tc_drop.o:[classifier]");
	mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	mnl_attr_put_u32(nlh, TCA_BPF_ID, 42);
	mnl_attr_nest_end(nlh, o);
	return nlh;
}

/* ---- judging packets ------------------------------------------------------- */

static uint32_t root_800(void *ctx, uint32_t prio, uint16_t protocol)
{
	(void)prio;
	(void)protocol;
	return ctx ? *(uint32_t *)ctx : 0x80000000;
}

/* A block of the given messages on device 2 ("eth0"), as blind spots. */
static void block(struct blind_spots *b, unsigned dir, bool sure, struct nlmsghdr **m, unsigned n, uint32_t *root)
{
	struct bpf_devs devs = { 0 };
	struct tc_block *tb = tc_block_new(2, "eth0", dir, sure, dir == BLIND_INGRESS ? "ingress" : "egress");

	for (unsigned i = 0; i < n; i++)
		CHECK(tc_block_add(tb, m[i], &devs) == 0);
	tc_block_finish(tb, b, root_800, root);
}

static struct blind_packet pkt(unsigned dir, const char *src, const char *dst, uint8_t proto, uint16_t sport,
			       uint16_t dport)
{
	struct blind_packet p = { .l4proto = proto, .sport = sport, .dport = dport, .ifindex = 2, .dir = dir };

	CHECK(addr_parse(src, &p.src) == 0 && addr_parse(dst, &p.dst) == 0);
	return p;
}

/* "drop", "pass" or "unknown", and the deciding spot's words after a space */
static const char *judge(const struct blind_spots *b, struct blind_packet p)
{
	static char out[300];
	const struct blind_spot *w;
	enum blind_effect e = blind_decide(b, &p, &w);

	snprintf(out, sizeof(out), "%s%s%s", e == BLIND_DROP ? "drop" : e == BLIND_PASS ? "pass" : "unknown",
		 w ? " " : "", w ? w->what : "");
	return out;
}

#define REPLY(src) pkt(BLIND_INGRESS, src, "172.24.4.100", IPPROTO_UDP, 53, 40000)
#define CGNAT_SRC { 0x64400000, 0xffc00000, 12 }

static void test_u32(void)
{
	static const char *const drop[] = { "gact:2", NULL }, *const pass[] = { "gact:0", NULL };
	struct blind_spots b = { 0 };
	struct key k[] = { CGNAT_SRC };

	/* src 100.64.0.0/10 drop: the filter named as tc prints it */
	struct nlmsghdr *m[] = { u32_ht(10, ETH_P_IP, 0x80000000, 1), u32_node(10, ETH_P_IP, 0x80000800, k, 1, 1, drop) };
	block(&b, BLIND_INGRESS, true, m, 2, NULL);
	CHECK(b.n == 1);
	CHECK_STR(judge(&b, REPLY("100.100.2.136")),
		  "drop tc ingress filter u32 (pref 10, handle 800::800) ip src 100.64.0.0/10 action gact drop on eth0");
	CHECK_STR(judge(&b, REPLY("192.0.2.1")), "pass");
	/* protocol ip: IPv6 is not its business */
	CHECK_STR(judge(&b, pkt(BLIND_INGRESS, "fd00::1", "fd00::2", IPPROTO_UDP, 53, 40000)), "pass");
	/* another device's or direction's packets do not cross it */
	struct blind_packet p = REPLY("100.100.2.136");
	p.ifindex = 3;
	CHECK_STR(judge(&b, p), "pass");
	p = pkt(BLIND_EGRESS, "172.24.4.100", "100.100.2.136", IPPROTO_UDP, 40000, 53);
	CHECK_STR(judge(&b, p), "pass");
	blind_spots_free(&b);

	/* protocol all, IPv6: offset 12 is in the source address, and
	 * fd00:cafe:1::136's bytes there are 0001 0000: no match */
	struct nlmsghdr *m2[] = { u32_ht(10, ETH_P_ALL, 0x80000000, 1), u32_node(10, ETH_P_ALL, 0x80000800, k, 1, 1, drop) };
	block(&b, BLIND_INGRESS, true, m2, 2, NULL);
	CHECK_STR(judge(&b, pkt(BLIND_INGRESS, "fd00:cafe:1::136", "fd00:cafe::100", IPPROTO_UDP, 53, 40000)), "pass");
	CHECK_STR(judge(&b, pkt(BLIND_INGRESS, "fd00:cafe:6440::1", "fd00:cafe::100", IPPROTO_UDP, 53, 40000)),
		  "drop tc ingress filter u32 (pref 10, handle 800::800) match 64400000/ffc00000 at 12 action gact drop on eth0");
	blind_spots_free(&b);

	/* a key on the TTL: unknown; with a key that surely fails: no match */
	struct key ttl[] = { { 0x40000000, 0xff000000, 8 } }, ttl_and_src[] = { { 0x40000000, 0xff000000, 8 }, CGNAT_SRC };
	struct nlmsghdr *m3[] = { u32_ht(10, ETH_P_IP, 0x80000000, 1), u32_node(10, ETH_P_IP, 0x80000800, ttl, 1, 1, drop) };
	block(&b, BLIND_INGRESS, true, m3, 2, NULL);
	CHECK(strncmp(judge(&b, REPLY("100.100.2.136")), "unknown tc ingress filter u32 (pref 10, handle 800::800) match 40000000/ff000000 at 8", 80) == 0);
	blind_spots_free(&b);
	struct nlmsghdr *m4[] = { u32_ht(10, ETH_P_IP, 0x80000000, 1),
				  u32_node(10, ETH_P_IP, 0x80000800, ttl_and_src, 2, 1, drop) };
	block(&b, BLIND_INGRESS, true, m4, 2, NULL);
	CHECK_STR(judge(&b, REPLY("192.0.2.1")), "pass");
	CHECK(strncmp(judge(&b, REPLY("100.100.2.136")), "unknown ", 8) == 0);
	blind_spots_free(&b);

	/* ports (at 20, an IPv4 header without options) and the protocol */
	struct key dport[] = { { 53, 0xffff, 20 }, { 0x00110000, 0x00ff0000, 8 } };
	struct nlmsghdr *m5[] = { u32_ht(10, ETH_P_IP, 0x80000000, 1), u32_node(10, ETH_P_IP, 0x80000800, dport, 2, 1, drop) };
	block(&b, BLIND_EGRESS, true, m5, 2, NULL);
	CHECK(strncmp(judge(&b, pkt(BLIND_EGRESS, "172.24.4.100", "100.100.2.136", IPPROTO_UDP, 40000, 53)),
		      "drop tc egress filter u32 (pref 10, handle 800::800) ip dport 53 ip protocol 17 action gact drop", 90) == 0);
	CHECK_STR(judge(&b, pkt(BLIND_EGRESS, "172.24.4.100", "100.100.2.136", IPPROTO_TCP, 40000, 53)), "pass");
	CHECK_STR(judge(&b, pkt(BLIND_EGRESS, "172.24.4.100", "100.100.2.136", IPPROTO_UDP, 40000, 123)), "pass");
	blind_spots_free(&b);

	/* a pass before the drop takes 100.64.0.0/10 away from it */
	struct key any[] = { { 0, 0, 0 } };
	struct nlmsghdr *m6[] = { u32_ht(10, ETH_P_IP, 0x80000000, 1), u32_node(10, ETH_P_IP, 0x80000800, k, 1, 1, pass),
				  u32_node(10, ETH_P_IP, 0x80000801, any, 1, 1, drop) };
	block(&b, BLIND_INGRESS, true, m6, 3, NULL);
	CHECK(b.n == 1);
	CHECK_STR(judge(&b, REPLY("100.100.2.136")), "pass");
	CHECK(strncmp(judge(&b, REPLY("192.0.2.1")), "drop tc ingress filter u32 (pref 10, handle 800::801)", 50) == 0);
	blind_spots_free(&b);

	/* a node that is not terminal does nothing; a link is unknown */
	struct nlmsghdr *m7[] = { u32_ht(10, ETH_P_IP, 0x80000000, 1), u32_node(10, ETH_P_IP, 0x80000800, k, 1, 0, drop) };
	block(&b, BLIND_INGRESS, true, m7, 2, NULL);
	CHECK_STR(judge(&b, REPLY("100.100.2.136")), "pass");
	blind_spots_free(&b);

	/* two tables at this priority (the hook's other block's, or one
	 * linked to): only the root's nodes run */
	struct nlmsghdr *m8[] = { u32_ht(10, ETH_P_IP, 0x80100000, 1), u32_node(10, ETH_P_IP, 0x80100800, any, 1, 1, drop),
				  u32_ht(10, ETH_P_IP, 0x80000000, 1), u32_node(10, ETH_P_IP, 0x80000800, k, 1, 1, drop) };
	uint32_t root = 0x80000000;
	block(&b, BLIND_INGRESS, true, m8, 4, &root);
	CHECK(b.n == 1);
	CHECK_STR(judge(&b, REPLY("192.0.2.1")), "pass");
	CHECK(strncmp(judge(&b, REPLY("100.100.2.136")), "drop tc ingress filter u32 (pref 10, handle 800::800)", 50) == 0);
	blind_spots_free(&b);
	root = 0x80100000;
	block(&b, BLIND_INGRESS, true, m8, 4, &root);
	CHECK(strncmp(judge(&b, REPLY("192.0.2.1")), "drop tc ingress filter u32 (pref 10, handle 801::800)", 50) == 0);
	blind_spots_free(&b);
	/* the root unknown: the whole classifier is */
	root = 0;
	block(&b, BLIND_INGRESS, true, m8, 4, &root);
	CHECK_STR(judge(&b, REPLY("192.0.2.1")),
		  "unknown tc ingress filter u32 (pref 10) whose root hash table could not be read on eth0");
	blind_spots_free(&b);
	/* the root hashes */
	struct nlmsghdr *m9[] = { u32_ht(10, ETH_P_IP, 0x80000000, 256), u32_node(10, ETH_P_IP, 0x80000800, k, 1, 1, drop) };
	block(&b, BLIND_INGRESS, true, m9, 2, NULL);
	CHECK(strncmp(judge(&b, REPLY("192.0.2.1")), "unknown ", 8) == 0);
	blind_spots_free(&b);

	/* a drop in a class's filters: the packet may never get there */
	block(&b, BLIND_EGRESS, false, m5, 2, NULL);
	CHECK(strncmp(judge(&b, pkt(BLIND_EGRESS, "172.24.4.100", "100.100.2.136", IPPROTO_UDP, 40000, 53)), "unknown ", 8) == 0);
	blind_spots_free(&b);
}

static void test_actions(void)
{
	struct blind_spots b = { 0 };
	static const char *const drop[] = { "gact:2", NULL }, *const cont[] = { "gact:-1", NULL },
				 *const ok[] = { "gact:0", NULL }, *const goto1[] = { "gact:536870913", NULL },
				 *const random_drop[] = { "gact-random:2", NULL }, *const police[] = { "police", NULL },
				 *const redirect[] = { "redirect", NULL }, *const mirror_drop[] = { "mirror:2", NULL },
				 *const pipe_drop[] = { "mirror:3", "gact:2", NULL }, *const stolen[] = { "gact:4", NULL };
	struct key k[] = { CGNAT_SRC };

	/* matchall drop / pass */
	struct nlmsghdr *m1[] = { matchall(1, ETH_P_ALL, 0, drop, 0) };
	block(&b, BLIND_INGRESS, true, m1, 1, NULL);
	CHECK_STR(judge(&b, REPLY("192.0.2.1")), "drop tc ingress filter matchall (pref 1) action gact drop on eth0");
	blind_spots_free(&b);
	struct nlmsghdr *m2[] = { matchall(1, ETH_P_ALL, 0, ok, 0), matchall(2, ETH_P_ALL, 0, drop, 0) };
	block(&b, BLIND_INGRESS, true, m2, 2, NULL);
	CHECK_STR(judge(&b, REPLY("192.0.2.1")), "pass");
	blind_spots_free(&b);
	/* continue hands it on */
	struct nlmsghdr *m3[] = { matchall(1, ETH_P_ALL, 0, cont, 0), matchall(2, ETH_P_ALL, 0, drop, 0) };
	block(&b, BLIND_INGRESS, true, m3, 2, NULL);
	CHECK_STR(judge(&b, REPLY("192.0.2.1")), "drop tc ingress filter matchall (pref 2) action gact drop on eth0");
	blind_spots_free(&b);
	/* skip_sw: hardware's business */
	struct nlmsghdr *m4[] = { matchall(1, ETH_P_ALL, 0, drop, TCA_CLS_FLAGS_SKIP_SW) };
	block(&b, BLIND_INGRESS, true, m4, 1, NULL);
	CHECK_STR(judge(&b, REPLY("192.0.2.1")), "unknown tc ingress filter matchall (pref 1) skip_sw action gact drop on eth0");
	blind_spots_free(&b);
	/* goto chain: unknown; the other chain's filters are not run by themselves */
	struct nlmsghdr *m5[] = { matchall(1, ETH_P_ALL, 0, goto1, 0), matchall(1, ETH_P_ALL, 1, drop, 0) };
	block(&b, BLIND_INGRESS, true, m5, 2, NULL);
	CHECK(b.n == 1);
	CHECK_STR(judge(&b, REPLY("192.0.2.1")), "unknown tc ingress filter matchall (pref 1) action gact goto chain 1 on eth0");
	blind_spots_free(&b);
	/* random, police, redirect: unknown */
	const char *const *unknowns[] = { random_drop, police, redirect };
	const char *words[] = { "action gact drop (random)", "action police", "action mirred egress redirect to if7" };
	for (unsigned i = 0; i < 3; i++) {
		struct nlmsghdr *m[] = { u32_ht(10, ETH_P_IP, 0x80000000, 1),
					 u32_node(10, ETH_P_IP, 0x80000800, k, 1, 1, unknowns[i]) };
		char want[200];
		block(&b, BLIND_INGRESS, true, m, 2, NULL);
		snprintf(want, sizeof(want), "unknown tc ingress filter u32 (pref 10, handle 800::800) ip src 100.64.0.0/10 %s on eth0",
			 words[i]);
		CHECK_STR(judge(&b, REPLY("100.100.2.136")), want);
		CHECK_STR(judge(&b, REPLY("192.0.2.1")), "pass");
		blind_spots_free(&b);
	}
	/* a mirror's control action; a pipe hands on to the next action */
	const char *const *drops[] = { mirror_drop, pipe_drop, stolen };
	for (unsigned i = 0; i < 3; i++) {
		struct nlmsghdr *m[] = { matchall(1, ETH_P_IP, 0, drops[i], 0) };
		block(&b, BLIND_INGRESS, true, m, 1, NULL);
		CHECK(strncmp(judge(&b, REPLY("192.0.2.1")), "drop ", 5) == 0);
		blind_spots_free(&b);
	}
	/* bpf: unknown for every packet it sees */
	struct nlmsghdr *m6[] = { bpf_filter(49152, ETH_P_ALL) };
	block(&b, BLIND_INGRESS, true, m6, 1, NULL);
	CHECK_STR(judge(&b, REPLY("192.0.2.1")),
		  "unknown tc ingress filter bpf tc_drop.o:[classifier] direct-action (pref 49152, id 42) on eth0");
	blind_spots_free(&b);
	/* ... unless its protocol is not IP */
	struct nlmsghdr *m7[] = { bpf_filter(49152, ETH_P_ARP) };
	block(&b, BLIND_INGRESS, true, m7, 1, NULL);
	CHECK(b.n == 0);
	blind_spots_free(&b);
	/* a classifier the model does not read, whatever its actions */
	struct nlmsghdr *m8[] = { msg(3, ETH_P_IP, 1, "flower", 0) };
	block(&b, BLIND_INGRESS, true, m8, 1, NULL);
	CHECK_STR(judge(&b, REPLY("192.0.2.1")), "unknown tc ingress filter flower (pref 3, handle 0x1) on eth0");
	blind_spots_free(&b);
	/* a pass that may or may not match makes a later drop uncertain,
	 * and that drop is named */
	struct key tos[] = { { 0x00100000, 0x00ff0000, 0 } };
	struct nlmsghdr *m9[] = { u32_ht(1, ETH_P_IP, 0x80000000, 1), u32_node(1, ETH_P_IP, 0x80000800, tos, 1, 1, ok),
				  matchall(2, ETH_P_ALL, 0, drop, 0) };
	block(&b, BLIND_INGRESS, true, m9, 3, NULL);
	CHECK_STR(judge(&b, REPLY("192.0.2.1")), "unknown tc ingress filter matchall (pref 2) action gact drop on eth0");
	/* the walk is remembered per packet: another packet is walked again */
	CHECK_STR(judge(&b, pkt(BLIND_INGRESS, "fd00::1", "fd00::2", IPPROTO_UDP, 53, 40000)),
		  "drop tc ingress filter matchall (pref 2) action gact drop on eth0");
	CHECK_STR(judge(&b, REPLY("192.0.2.1")), "unknown tc ingress filter matchall (pref 2) action gact drop on eth0");
	blind_spots_free(&b);
}

static void test_malformed(void)
{
	struct bpf_devs devs = { 0 };
	struct tc_block *tb = tc_block_new(2, "eth0", BLIND_INGRESS, true, "ingress");
	struct key k[] = { CGNAT_SRC };
	struct nlmsghdr *m = u32_node(10, ETH_P_IP, 0x80000800, k, 1, 1, NULL);
	/* nkeys says 9, the attribute holds one */
	struct nlattr *a;

	mnl_attr_for_each(a, m, sizeof(struct tcmsg)) {
		if (mnl_attr_get_type(a) != TCA_OPTIONS)
			continue;
		const struct nlattr *o;
		mnl_attr_for_each_nested(o, a)
			if (mnl_attr_get_type(o) == TCA_U32_SEL)
				((struct tc_u32_sel *)mnl_attr_get_payload(o))->nkeys = 9;
	}
	CHECK(tc_block_add(tb, m, &devs) == -EBADMSG);
	/* a filter without a kind */
	m = msg(1, ETH_P_IP, 1, "matchall", 0);
	mnl_attr_for_each(a, m, sizeof(struct tcmsg))
		if (mnl_attr_get_type(a) == TCA_KIND)
			a->nla_type = 200;
	CHECK(tc_block_add(tb, m, &devs) == -EBADMSG);
	tc_block_unref(tb);
}

static void test_mountinfo(void)
{
	char mnt[64], root[64];
	const char *hybrid =
		"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
	const char *spaced = "50 1 0:40 /docker/abc /mnt/my\\040cgroups rw - cgroup2 none rw,nsdelegate";

	CHECK(mountinfo_find_cgroup2(hybrid, strlen(hybrid), mnt, sizeof(mnt), root, sizeof(root)) == 1);
	CHECK_STR(mnt, "/sys/fs/cgroup/unified");
	CHECK_STR(root, "/");
	CHECK(mountinfo_find_cgroup2(spaced, strlen(spaced), mnt, sizeof(mnt), root, sizeof(root)) == 1);
	CHECK_STR(mnt, "/mnt/my cgroups");
	CHECK_STR(root, "/docker/abc");
	/* none; a short line; a path that does not fit; a NUL escaped in */
	CHECK(mountinfo_find_cgroup2(hybrid, 140, mnt, sizeof(mnt), root, sizeof(root)) == 0);
	CHECK(mountinfo_find_cgroup2("1 2 3 - cgroup2", 15, mnt, sizeof(mnt), root, sizeof(root)) == 0);
	CHECK(mountinfo_find_cgroup2(spaced, strlen(spaced), mnt, 8, root, sizeof(root)) == -EINVAL);
	const char *nul = "50 1 0:40 / /a\\000b rw - cgroup2 none rw";
	CHECK(mountinfo_find_cgroup2(nul, strlen(nul), mnt, sizeof(mnt), root, sizeof(root)) == -EINVAL);
	const char *rel = "50 1 0:40 / relative rw - cgroup2 none rw";
	CHECK(mountinfo_find_cgroup2(rel, strlen(rel), mnt, sizeof(mnt), root, sizeof(root)) == -EINVAL);
}

static void test_clients(void)
{
	char *resolved[] = { "/system.slice/systemd-resolved.service" };
	char *nested[] = { "/user.slice/user-1000.slice/user@1000.service/app.slice/app-term.scope" };
	static const char *const chrony_units[] = { "chrony.service", "chronyd.service", NULL };
	static const char *const dhcpcd_units[] = { "dhcpcd@*.service", NULL };
	const struct blind_client c = { .cgroups = resolved, .n_cgroups = 1 };
	const struct blind_client user = { .cgroups = nested, .n_cgroups = 1 };
	const struct blind_client chrony = { .units = chrony_units };
	const struct blind_client dhcpcd = { .units = dhcpcd_units };

	/* the root sees everyone's */
	CHECK(cgroup_prog_sees("/", true, true, NULL));
	CHECK(cgroup_prog_sees("/", true, true, &c));
	/* any process: a slice's, a cgroup outside units; not a unit's own */
	CHECK(cgroup_prog_sees("/system.slice", false, true, NULL));
	CHECK(cgroup_prog_sees("/cgt-1", false, true, NULL));
	CHECK(!cgroup_prog_sees("/system.slice/systemd-journald.service", false, false, NULL));
	/* a known client: its cgroup and those above it, nothing else */
	CHECK(cgroup_prog_sees("/system.slice/systemd-resolved.service", false, false, &c));
	CHECK(cgroup_prog_sees("/system.slice", false, true, &c));
	CHECK(!cgroup_prog_sees("/system.slice/systemd-journald.service", false, false, &c));
	CHECK(!cgroup_prog_sees("/system.slice/systemd-resolved.service/sub", false, false, &c));
	CHECK(!cgroup_prog_sees("/system.slice/systemd-resolved", false, true, &c));
	CHECK(!cgroup_prog_sees("/user.slice", false, true, &c));
	CHECK(cgroup_prog_sees("/user.slice/user-1000.slice/user@1000.service", false, true, &user));
	CHECK(!cgroup_prog_sees("/user.slice/user-1000.slice/session-2.scope", false, false, &user));
	/* not running: its units, below them, and slices */
	CHECK(cgroup_prog_sees("/system.slice/chrony.service", false, false, &chrony));
	CHECK(cgroup_prog_sees("/system.slice/chronyd.service/x", false, false, &chrony));
	CHECK(cgroup_prog_sees("/system.slice", false, true, &chrony));
	CHECK(!cgroup_prog_sees("/system.slice/ntpsec.service", false, false, &chrony));
	CHECK(cgroup_prog_sees("/system.slice/system-dhcpcd.slice/dhcpcd@eth0.service", false, false, &dhcpcd));
	CHECK(!cgroup_prog_sees("/system.slice/dhcpcd.service", false, false, &dhcpcd));

	CHECK(cgroup_within("/a/b", "/a"));
	CHECK(cgroup_within("/a", "/a"));
	CHECK(cgroup_within("/a", "/"));
	CHECK(!cgroup_within("/ab", "/a"));
	CHECK(!cgroup_within("/a", "/a/b"));
	CHECK(cgroup_in_units("//a.service//", (const char *const[]){ "a.service", NULL }));
	CHECK(!cgroup_in_units("/", (const char *const[]){ "*", NULL }));

	char path[64];
	const char *hybrid = "9:name=systemd:/\n4:memory:/x\n0::/system.slice/chrony.service\n";
	CHECK(proc_cgroup2_path(hybrid, strlen(hybrid), path, sizeof(path)) == 1);
	CHECK_STR(path, "/system.slice/chrony.service");
	CHECK(proc_cgroup2_path("0::/\n", 5, path, sizeof(path)) == 1);
	CHECK_STR(path, "/");
	/* v1 only; outside this cgroup namespace ("/../x" is a path); no path */
	CHECK(proc_cgroup2_path("1:cpu:/\n", 8, path, sizeof(path)) == 0);
	CHECK(proc_cgroup2_path("0::/../x", 8, path, sizeof(path)) == 1);
	CHECK(proc_cgroup2_path("0::x\n", 5, path, sizeof(path)) == -EINVAL);
	CHECK(proc_cgroup2_path("0::/abcdef", 10, path, 4) == -EINVAL);
	CHECK(proc_cgroup2_path("0::", 3, path, sizeof(path)) == 0);
}

int main(void)
{
	test_u32();
	test_actions();
	test_malformed();
	test_mountinfo();
	test_clients();
	return test_result();
}
