/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lazy sets in the model and the evaluator, with a stub source instead of
 * the kernel: set_lookup()'s three outcomes (found, not found, unknown), the
 * catch-all after a miss, and a rule matching a lazy set whose source fails
 * making the verdict uncertain with a reason that names the set. The
 * kernel side is tests/kernel/nft-lazy.sh. */
#include <netinet/in.h> /* before the linux/ headers */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/sim-netfilter.h"
#include "../lib/test.h"

/* The stub: 100.100.2.0/24 is in the set (its start element answers), the
 * catch-all exists when `catchall`, and everything fails when `fail`. */
struct stub {
	struct cg_set_elem range, any;
	bool catchall, fail;
	int calls, freed;
};

static int stub_get(void *ctx, const struct cg_set *s, const uint8_t *key, uint32_t len,
		    const struct cg_set_elem **out, const char **why)
{
	struct stub *st = ctx;
	static const uint8_t net[3] = { 100, 100, 2 };

	(void)s;
	st->calls++;
	*out = NULL;
	if (st->fail) {
		*why = "the kernel could not be asked about set ip filter big: stub failure";
		return -ESTALE;
	}
	if (!key) {
		if (!st->catchall)
			return 0;
		*out = &st->any;
		return 1;
	}
	if (len == 4 && memcmp(key, net, 3) == 0) {
		*out = &st->range;
		return 1;
	}
	return 0;
}

static void stub_free(void *ctx)
{
	((struct stub *)ctx)->freed++;
}

static const struct cg_set_source_ops stub_ops = { .get = stub_get, .free = stub_free };

static int lookup(const struct cg_set *s, const char *addr, const struct cg_set_elem **e, const char **why)
{
	struct in_addr a;

	inet_pton(AF_INET, addr, &a);
	return set_lookup(s, (const uint8_t *)&a, 4, e, why);
}

int main(void)
{
	static const uint8_t start[4] = { 100, 100, 2, 0 };
	struct stub st = {
		.range = { .key = { 4, start } },
		.any = { .catchall = true, .verdict = { .code = CG_VERDICT_DROP } },
	};
	struct cg_set_source src = { .ops = &stub_ops, .ctx = &st };
	struct cg_ruleset rs = { 0 };
	const struct cg_set_elem *e;
	const char *why;
	struct cg_table *t;
	struct cg_set *s;
	struct cg_chain *c;

	t = ruleset_add_tables(&rs, 1);
	t->family = NFPROTO_IPV4;
	t->name = "filter";
	t->n_sets = 1;
	t->sets = s = arena_alloc(&rs.arena, sizeof(*s));
	s->table = t;
	s->name = "big";
	s->key_len = 4;
	s->flags = CG_SET_INTERVAL | CG_SET_LAZY;
	s->n_elems_seen = 70000;
	s->source = &src;
	rs.set_source = &src;

	/* input: ip saddr @big drop */
	t->n_chains = 1;
	t->chains = c = arena_alloc(&rs.arena, sizeof(*c));
	c->table = t;
	c->name = "input";
	c->base = true;
	c->type = "filter";
	c->hook = NF_INET_LOCAL_IN;
	c->policy = CG_VERDICT_ACCEPT;
	c->n_rules = 1;
	c->rules = arena_alloc(&rs.arena, sizeof(*c->rules));
	c->rules[0] = (struct cg_rule){ .chain = c, .index = 1, .handle = 7, .n_exprs = 3 };
	struct cg_expr *x = arena_alloc(&rs.arena, 3 * sizeof(*x));
	x[0] = (struct cg_expr){ .type = CG_EXPR_PAYLOAD,
				 .payload = { NFT_REG32_00, NFT_PAYLOAD_NETWORK_HEADER, 12, 4 } };
	x[1] = (struct cg_expr){ .type = CG_EXPR_LOOKUP, .lookup = { .sreg = NFT_REG32_00, .set_name = "big" } };
	x[2] = (struct cg_expr){ .type = CG_EXPR_IMMEDIATE,
				 .immediate = { .dreg = NFT_REG_VERDICT, .verdict = { CG_VERDICT_DROP } } };
	c->rules[0].exprs = x;
	CHECK(ruleset_resolve(&rs) == 0);
	CHECK(x[1].lookup.set == s);

	/* the model: found, not found, the catch-all, unknown */
	CHECK(lookup(s, "100.100.2.136", &e, NULL) == 1 && e == &st.range);
	CHECK(lookup(s, "100.100.3.1", &e, NULL) == 0 && e == NULL);
	st.catchall = true;
	CHECK(lookup(s, "100.100.3.1", &e, NULL) == 1 && e == &st.any);
	/* a key of the wrong length: only the catch-all can match */
	st.calls = 0;
	CHECK(set_lookup(s, start, 2, &e, NULL) == 1 && e == &st.any && st.calls == 1);
	st.catchall = false;
	st.fail = true;
	why = NULL;
	CHECK(lookup(s, "100.100.2.136", &e, &why) == -ESTALE && e == NULL);
	CHECK(why && strstr(why, "set ip filter big"));
	CHECK(lookup(s, "100.100.2.136", &e, NULL) < 0); /* why may be NULL */
	/* no source: unknown, not a miss */
	s->source = NULL;
	CHECK(lookup(s, "100.100.2.136", &e, &why) < 0 && why);
	s->source = &src;

	/* the evaluator: drop, accept, uncertain naming the set */
	struct cg_packet p = { .nfproto = NFPROTO_IPV4, .l4proto = IPPROTO_UDP, .sport = 53, .dport = 40000 };
	struct sim_index *idx;
	struct hook_result res;

	addr_parse("100.100.2.136", &p.src);
	addr_parse("172.24.4.100", &p.dst);
	strcpy(p.iif.name, "eth0");
	p.iif.index = 2;
	CHECK(sim_index_build(&rs, &idx) == 0);

	st.fail = false;
	CHECK(evaluate_hook(idx, &p, NF_INET_LOCAL_IN, NULL, &res) == 0);
	CHECK(res.verdict == SIM_DROP && res.decided_by == &c->rules[0]);
	hook_result_free(&res);

	addr_parse("100.100.3.1", &p.src);
	CHECK(evaluate_hook(idx, &p, NF_INET_LOCAL_IN, NULL, &res) == 0);
	CHECK(res.verdict == SIM_ACCEPT);
	hook_result_free(&res);

	st.fail = true;
	CHECK(evaluate_hook(idx, &p, NF_INET_LOCAL_IN, NULL, &res) == 0);
	CHECK(res.verdict == SIM_UNCERTAIN && res.decided_by == &c->rules[0]);
	CHECK(res.unknown_what && strstr(res.unknown_what, "could not be asked about set ip filter big"));
	hook_result_free(&res);
	sim_index_free(idx);

	/* the ruleset owns the source */
	ruleset_free(&rs);
	CHECK(st.freed == 1);
	return test_result();
}
