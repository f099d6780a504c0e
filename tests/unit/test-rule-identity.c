/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rule_equal() / rule_hash(): the same rule read twice (other chains, other
 * set objects, other arenas, packed or not, another handle and position) is
 * equal and hashes alike; a change to anything the rule does (a compared
 * byte, a jump target, an xt value, an anonymous set's elements, a named
 * set, the comment) makes it another rule. */
#include "config.h"

#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/xt.h"
#include "../lib/test.h"

/* One reading of a table: its own chains, sets and arena. */
struct reading {
	struct arena a;
	struct cg_table t;
	struct cg_chain chains[3];      /* "in", "svc", "other" */
	struct cg_set anon, named;
	struct cg_set_elem elems[3];
	struct cg_expr v[8];
	struct cg_rule rule;
};

static const uint8_t cgnat[4] = { 100, 64, 0, 0 }, mask[4] = { 255, 192, 0, 0 }, zero[4];

static struct cg_data data(struct arena *a, const void *p, uint8_t len)
{
	return (struct cg_data){ .len = len, .bytes = arena_memdup(a, p, len) };
}

static const struct xt_decoded *udp_dport(struct arena *a, uint16_t port)
{
	struct xt_udp u = { .spts = { 0, 0xffff }, .dpts = { port, port } };

	return xt_decode(a, false, "udp", 0, NFPROTO_IPV4, &u, sizeof(u));
}

/* ip saddr & 255.192.0.0 == 100.64.0.0 udp dport 53 ip daddr { ... } jump svc
 * (the elements in the order given by `order`) */
static void reading_init(struct reading *r, const char *anon_name, const int order[3], uint64_t handle)
{
	static const uint8_t keys[3][4] = { { 10, 0, 0, 1 }, { 10, 0, 0, 2 }, { 10, 0, 0, 3 } };
	struct cg_bitwise_data *bw;
	static const char *const names[] = { "in", "svc", "other" };

	memset(r, 0, sizeof(*r));
	r->t = (struct cg_table){ .family = NFPROTO_IPV4, .name = "filter", .n_chains = 3, .chains = r->chains };
	for (int i = 0; i < 3; i++)
		r->chains[i] = (struct cg_chain){ .table = &r->t, .name = arena_strdup(&r->a, names[i]) };
	for (int i = 0; i < 3; i++)
		r->elems[i].key = data(&r->a, keys[order[i]], 4);
	r->anon = (struct cg_set){ .table = &r->t, .name = anon_name, .flags = CG_SET_ANONYMOUS | CG_SET_CONSTANT,
				   .key_len = 4, .n_elems = 3, .elems = r->elems };
	r->named = (struct cg_set){ .table = &r->t, .name = "allowed", .key_len = 4 };

	bw = arena_alloc(&r->a, sizeof(*bw));
	bw->mask = data(&r->a, mask, 4);
	bw->xor = data(&r->a, zero, 4);
	r->v[0] = (struct cg_expr){ .type = CG_EXPR_PAYLOAD,
				    .payload = { NFT_REG_1, NFT_PAYLOAD_NETWORK_HEADER, 12, 4 } };
	r->v[1] = (struct cg_expr){ .type = CG_EXPR_BITWISE,
				    .bitwise = { .sreg = NFT_REG_1, .dreg = NFT_REG_1, .len = 4, .data = bw } };
	r->v[2] = (struct cg_expr){ .type = CG_EXPR_CMP, .cmp = { NFT_REG_1, NFT_CMP_EQ, data(&r->a, cgnat, 4) } };
	r->v[3] = (struct cg_expr){ .type = CG_EXPR_XT_MATCH,
				    .xt = { .name = "udp", .decoded = udp_dport(&r->a, 53) } };
	r->v[4] = (struct cg_expr){ .type = CG_EXPR_PAYLOAD,
				    .payload = { NFT_REG_1, NFT_PAYLOAD_NETWORK_HEADER, 16, 4 } };
	r->v[5] = (struct cg_expr){ .type = CG_EXPR_LOOKUP,
				    .lookup = { .sreg = NFT_REG_1, .set_name = anon_name, .set = &r->anon } };
	r->v[6] = (struct cg_expr){ .type = CG_EXPR_COUNTER };
	r->v[7] = (struct cg_expr){ .type = CG_EXPR_IMMEDIATE,
				    .immediate.verdict = { CG_VERDICT_JUMP, "svc", &r->chains[1] } };
	r->rule = (struct cg_rule){ .chain = &r->chains[0], .index = 1, .n_exprs = 8, .handle = handle,
				    .exprs = r->v, .comment = "cgnat" };
}

static void check_same(const struct cg_rule *a, const struct cg_rule *b, int line)
{
	if (!rule_equal(a, b) || rule_hash(a) != rule_hash(b)) {
		fprintf(stderr, "line %d: expected the same rule\n", line);
		CHECK(false);
	} else {
		CHECK(true);
	}
}

static void check_differ(const struct cg_rule *a, const struct cg_rule *b, int line)
{
	if (rule_equal(a, b) || rule_equal(b, a) || rule_hash(a) == rule_hash(b)) {
		fprintf(stderr, "line %d: expected another rule\n", line);
		CHECK(false);
	} else {
		CHECK(true);
	}
}

int main(void)
{
	static const int in_order[3] = { 0, 1, 2 }, reversed[3] = { 2, 1, 0 };
	struct reading *x = xcalloc(1, sizeof(*x)), *y = xcalloc(1, sizeof(*y));
	struct cg_rule packed;
	struct arena pa = { 0 };

	/* two readings: other objects, handle, position, set name and order */
	reading_init(x, "__set0", in_order, 7);
	reading_init(y, "__set4", reversed, 99);
	y->rule.index = 5;
	check_same(&x->rule, &y->rule, __LINE__);
	check_same(&x->rule, &x->rule, __LINE__);

	/* packed (as the collectors hold it) or not */
	packed = x->rule;
	rule_pack(&packed, &pa, x->v, x->rule.n_exprs);
	check_same(&packed, &y->rule, __LINE__);

	/* a jump resolved or named only */
	y->v[7].immediate.verdict.chain = NULL;
	check_same(&x->rule, &y->rule, __LINE__);
	y->v[7].immediate.verdict.chain_name = "other";
	check_differ(&x->rule, &y->rule, __LINE__);
	y->v[7].immediate.verdict = (struct cg_verdict){ CG_VERDICT_JUMP, "svc", &y->chains[1] };

	/* a compared byte */
	y->v[2].cmp.data.bytes = (const uint8_t[]){ 100, 65, 0, 0 };
	check_differ(&x->rule, &y->rule, __LINE__);
	y->v[2].cmp.data = data(&y->a, cgnat, 4);
	check_same(&x->rule, &y->rule, __LINE__);

	/* the bitwise mask */
	((struct cg_bitwise_data *)y->v[1].bitwise.data)->mask.bytes = (const uint8_t[]){ 255, 255, 0, 0 };
	check_differ(&x->rule, &y->rule, __LINE__);
	((struct cg_bitwise_data *)y->v[1].bitwise.data)->mask = data(&y->a, mask, 4);

	/* an xt value: decoded again it is the same, another port is not */
	y->v[3].xt.decoded = udp_dport(&y->a, 53);
	check_same(&x->rule, &y->rule, __LINE__);
	y->v[3].xt.decoded = udp_dport(&y->a, 54);
	check_differ(&x->rule, &y->rule, __LINE__);
	y->v[3].xt.decoded = udp_dport(&y->a, 53);

	/* the anonymous set's elements */
	y->elems[1].key = data(&y->a, (const uint8_t[]){ 10, 0, 0, 9 }, 4);
	check_differ(&x->rule, &y->rule, __LINE__);
	y->elems[1].key = data(&y->a, (const uint8_t[]){ 10, 0, 0, 2 }, 4);
	check_same(&x->rule, &y->rule, __LINE__);

	/* a named set is its name */
	x->v[5].lookup.set = &x->named;
	x->v[5].lookup.set_name = "allowed";
	y->v[5].lookup.set = NULL;
	y->v[5].lookup.set_name = "allowed";
	check_same(&x->rule, &y->rule, __LINE__);
	y->v[5].lookup.set_name = "denied";
	check_differ(&x->rule, &y->rule, __LINE__);
	y->v[5].lookup.set_name = "allowed";

	/* the comment; none is not an empty one */
	y->rule.comment = "cgnat2";
	check_differ(&x->rule, &y->rule, __LINE__);
	y->rule.comment = NULL;
	x->rule.comment = "";
	check_differ(&x->rule, &y->rule, __LINE__);
	x->rule.comment = NULL;
	check_same(&x->rule, &y->rule, __LINE__);

	/* one expression less */
	y->rule.n_exprs = 7;
	check_differ(&x->rule, &y->rule, __LINE__);

	arena_free(&pa);
	arena_free(&x->a);
	arena_free(&y->a);
	free(x);
	free(y);
	return test_result();
}
