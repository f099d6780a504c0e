/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m set evaluated against hand-built set contents (struct xt_ipset, as
 * src/collect/ipset.c fills it): what ip_set_test() and xt_set.c decide at
 * the edges the kernel test does not reach (revisions' --return-nomatch,
 * counters, dimensions, families, list:set with an unreadable member). */
#include "config.h"

#include <net/if.h>
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_set.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/addr.h"
#include "cgnatcheck/arena.h"
#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/xt.h"
#include "../lib/test.h"

static struct arena A;

static struct cg_addr A4(const char *s)
{
	struct cg_addr a;

	if (addr_parse(s, &a) < 0)
		abort();
	return a;
}

static struct cg_packet reply(const char *src, uint8_t proto)
{
	struct cg_packet p = { 0 };

	p.nfproto = NFPROTO_IPV4;
	p.src = A4(src);
	p.dst = A4("10.0.0.5");
	p.l4proto = proto;
	p.sport = 53;
	p.dport = 40000;
	return p;
}

/* a hash:net of IPv4 prefixes; nomatch[i] marks entry i */
static struct xt_ipset *hash_net(const char *name, const char *const *nets, const bool *nomatch, size_t n)
{
	struct xt_ipset *s = arena_alloc(&A, sizeof(*s));
	struct cg_hashmap *m = arena_alloc(&A, sizeof(*m));

	s->name = name;
	s->type = "hash:net";
	s->family = NFPROTO_IPV4;
	s->n_dims = 1;
	s->dims[0] = XT_IPSET_DIM_NET;
	s->nomatch = true;
	memset(s->mask, 0xff, sizeof(s->mask));
	s->key_len = 5;
	hashmap_init(m, &A, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		struct cg_prefix p;
		uint8_t *k = arena_alloc(&A, 6);
		if (prefix_parse(nets[i], &p) < 0)
			abort();
		memcpy(k, p.addr.bytes, 4);
		k[4] = p.len;
		k[5] = nomatch && nomatch[i];
		s->cidrs[p.len / 64] |= 1ull << (p.len % 64);
		hashmap_put(m, k, 5, k + 5);
	}
	s->elems = m;
	s->n_elems = (uint32_t)n;
	return s;
}

static const struct xt_decoded *rule(uint8_t rev, uint8_t dim, uint8_t flags, uint32_t v3_flags, uint8_t pkt_op,
				     const struct xt_ipset *s)
{
	const struct xt_decoded *d;

	if (rev <= 2) {
		struct xt_set_info_match_v1 m = { .match_set = { .index = 7, .dim = dim, .flags = flags } };
		d = xt_decode(&A, false, "set", rev, NFPROTO_IPV4, &m, XT_ALIGN(sizeof(m)));
	} else {
		struct xt_set_info_match_v3 m = { .match_set = { .index = 7, .dim = dim, .flags = flags },
						  .flags = v3_flags };
		m.packets.op = pkt_op;
		m.packets.value = 5;
		d = xt_decode(&A, false, "set", rev, NFPROTO_IPV4, &m, XT_ALIGN(sizeof(m)));
	}
	if (!d)
		abort();
	((struct xt_decoded *)d)->set.ipset = s;
	return d;
}

#define SRC IPSET_DIM_ONE_SRC

int main(void)
{
	static const char *const nets[] = { "100.64.0.0/10", "100.100.2.0/24" };
	static const bool nm[] = { false, true };
	struct xt_ipset *cgnat = hash_net("cgnat", nets, NULL, 1);
	struct xt_ipset *holes = hash_net("holes", nets, nm, 2);
	struct cg_packet p = reply("100.100.2.136", IPPROTO_UDP), other = reply("192.0.2.1", IPPROTO_UDP);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	/* membership, inversion */
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, cgnat), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, cgnat), &other, NULL) == TRI_FALSE);
	CHECK(xt_match(rule(1, 1, 0, 0, 0, cgnat), &p, NULL) == TRI_FALSE);   /* dst: 10.0.0.5 */
	CHECK(xt_match(rule(1, 1, SRC | IPSET_INV_MATCH, 0, 0, cgnat), &p, NULL) == TRI_FALSE);
	CHECK(xt_match(rule(1, 1, SRC | IPSET_INV_MATCH, 0, 0, cgnat), &other, NULL) == TRI_TRUE);

	/* the longest prefix decides: a nomatch /24 inside the /10 */
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, holes), &p, NULL) == TRI_FALSE);
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, holes), &(struct cg_packet){ .nfproto = NFPROTO_IPV4,
		.src = A4("100.100.3.1"), .dst = A4("10.0.0.5"), .l4proto = IPPROTO_UDP }, NULL) == TRI_TRUE);
	/* --return-nomatch turns that round: rev 2's flag bit, rev 3's flag */
	CHECK(xt_match(rule(2, 1, SRC | IPSET_RETURN_NOMATCH, 0, 0, holes), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(rule(3, 1, SRC, IPSET_FLAG_RETURN_NOMATCH, 0, holes), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(rule(3, 1, SRC, IPSET_FLAG_RETURN_NOMATCH, 0, cgnat), &p, NULL) == TRI_FALSE);
	CHECK(xt_match(rule(3, 1, SRC, IPSET_FLAG_RETURN_NOMATCH, 0, cgnat), &other, NULL) == TRI_FALSE);

	/* counters: only a set that keeps them makes the answer unknown */
	CHECK(xt_match(rule(3, 1, SRC, 0, IPSET_COUNTER_GT, cgnat), &p, NULL) == TRI_TRUE);
	cgnat->counters = true;
	CHECK(xt_match(rule(3, 1, SRC, 0, IPSET_COUNTER_GT, cgnat), &p, NULL) == TRI_UNKNOWN);
	CHECK(xt_match(rule(3, 1, SRC, 0, IPSET_COUNTER_GT, cgnat), &other, NULL) == TRI_FALSE);
	cgnat->counters = false;

	/* a set not read, or not modelled */
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, NULL), &p, NULL) == TRI_UNKNOWN);
	struct xt_ipset odd = { .name = "odd", .type = "hash:mac", .unknown = "its type is not modelled" };
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, &odd), &p, NULL) == TRI_UNKNOWN);

	/* fewer dimensions than the set, or another family: never */
	struct xt_ipset two = *cgnat;
	two.n_dims = 2;
	two.dims[1] = XT_IPSET_DIM_PORT;
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, &two), &p, NULL) == TRI_FALSE);
	struct cg_packet p6 = p;
	p6.nfproto = NFPROTO_IPV6;
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, cgnat), &p6, NULL) == TRI_FALSE);

	/* bitmap:port: tcp and udp only */
	struct xt_ipset ports = { .name = "low", .type = "bitmap:port", .family = NFPROTO_UNSPEC, .n_dims = 1,
				  .dims = { XT_IPSET_DIM_TCPUDP_PORT }, .key_len = 2 };
	struct cg_hashmap pm;
	static const uint8_t k53[3] = { 0, 53, 0 };
	hashmap_init(&pm, &A, 1);
	hashmap_put(&pm, k53, 2, (void *)(k53 + 2));
	ports.elems = &pm;
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, &ports), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(rule(1, 1, 0, 0, 0, &ports), &p, NULL) == TRI_FALSE);
	struct cg_packet icmp = reply("100.100.2.136", IPPROTO_ICMP);
	icmp.sport = 53;
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, &ports), &icmp, NULL) == TRI_FALSE);

	/* list:set: the first member that holds it; an unreadable member
	 * leaves a miss unknown */
	const struct xt_ipset *members[] = { &odd, cgnat };
	struct xt_ipset list = { .name = "all", .type = "list:set", .family = NFPROTO_UNSPEC, .list = true,
				 .members = members, .n_members = 2 };
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, &list), &p, NULL) == TRI_TRUE);
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, &list), &other, NULL) == TRI_UNKNOWN);
	members[0] = holes;
	CHECK(xt_match(rule(1, 1, SRC, 0, 0, &list), &other, NULL) == TRI_FALSE);

	/* the rule's text: the set's name as iptables-save prints it */
	f = open_memstream(&text, &len);
	xt_print(f, rule(1, 1, SRC, 0, 0, cgnat));
	xt_print(f, rule(1, 1, SRC, 0, 0, NULL));
	fclose(f);
	CHECK_STR(text, " -m set --match-set cgnat src -m set --match-set /* ipset index 7 */ src");
	free(text);

	arena_free(&A);
	return test_result();
}
