/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The scheduled audit's state (last-audit.json): its lines print the
 * blocking rule as the report does; its digest takes the rule's identity in
 * the model instead (rule_hash()), so the same rule read again (another
 * handle, another position) is no change and a rule that matches something
 * else is one, and a result that names no rule keeps the digest it always
 * had (FNV-1a 64 of the lines, each with its NUL). */
#include "config.h"

#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "cgnatcheck/audit-state.h"
#include "cgnatcheck/common.h"
#include "../lib/test.h"

struct reading {
	struct cg_table t;
	struct cg_chain c;
	struct cg_expr v[4];
	struct cg_rule r;
};

/* -A ts-input -s SRC/10 -j DROP, at position index with handle h */
static void reading_init(struct reading *x, const uint8_t *src, uint32_t index, uint64_t h)
{
	static const uint8_t mask[4] = { 255, 192, 0, 0 }, zero[4];
	static const struct cg_bitwise_data bw = { .mask = { 4, mask }, .xor = { 4, zero } };

	memset(x, 0, sizeof(*x));
	x->t = (struct cg_table){ .backend = CG_BACKEND_IPTABLES_LEGACY, .family = NFPROTO_IPV4, .name = "filter",
				  .n_chains = 1, .chains = &x->c };
	x->c = (struct cg_chain){ .table = &x->t, .name = "ts-input", .n_rules = index, .rules = &x->r };
	x->v[0] = (struct cg_expr){ .type = CG_EXPR_PAYLOAD,
				    .payload = { NFT_REG_1, NFT_PAYLOAD_NETWORK_HEADER, 12, 4 } };
	x->v[1] = (struct cg_expr){ .type = CG_EXPR_BITWISE,
				    .bitwise = { .sreg = NFT_REG_1, .dreg = NFT_REG_1, .len = 4, .data = &bw } };
	x->v[2] = (struct cg_expr){ .type = CG_EXPR_CMP, .cmp = { NFT_REG_1, NFT_CMP_EQ, { 4, src } } };
	x->v[3] = (struct cg_expr){ .type = CG_EXPR_IMMEDIATE, .immediate.verdict.code = CG_VERDICT_DROP };
	x->r = (struct cg_rule){ .chain = &x->c, .index = index, .n_exprs = 4, .handle = h, .exprs = x->v };
}

static void one_target(struct audit *a, struct audit_target *t, enum target_verdict v, const struct cg_rule *by)
{
	memset(a, 0, sizeof(*a));
	memset(t, 0, sizeof(*t));
	addr_parse("100.100.2.136", &t->addr);
	t->l4proto = IPPROTO_UDP;
	t->port = 53;
	t->role = "dns";
	t->verdict = v;
	t->blocked_by = by;
	a->targets = t;
	a->n_targets = 1;
}

static void old_digest(const struct audit_state *s, char out[17])
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < s->n_lines; i++)
		for (const char *c = s->lines[i];; c++) {
			h ^= (uint8_t)*c;
			h *= 1099511628211ull;
			if (!*c)
				break;
		}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int main(void)
{
	static const uint8_t cgnat[4] = { 100, 64, 0, 0 }, other[4] = { 100, 65, 0, 0 };
	struct reading x, y;
	struct audit a;
	struct audit_target t;
	struct audit_state s1, s2, s3;
	char want[17];

	/* nothing blocked: the lines' digest as it always was */
	one_target(&a, &t, TARGET_REACHABLE, NULL);
	audit_state_from_audit(&s1, &a, CG_EXIT_OK);
	CHECK(s1.n_lines == 1);
	CHECK_STR(s1.lines[0], "target 100.100.2.136 udp/53 dns outbound: reachable");
	old_digest(&s1, want);
	CHECK_STR(s1.digest, want);
	audit_state_free(&s1);
	audit_state_from_audit(&s1, NULL, CG_EXIT_FAILURE);
	old_digest(&s1, want);
	CHECK_STR(s1.digest, want);
	audit_state_free(&s1);

	/* blocked: the line prints the rule; the digest is the rule's identity */
	reading_init(&x, cgnat, 3, 0);
	one_target(&a, &t, TARGET_BLOCKED, &x.r);
	audit_state_from_audit(&s1, &a, CG_EXIT_BLOCKED);
	CHECK_STR(s1.lines[0], "target 100.100.2.136 udp/53 dns outbound: blocked by "
		  "iptables-legacy ip filter ts-input: -A ts-input -s 100.64.0.0/10 -j DROP");
	old_digest(&s1, want);
	CHECK(strcmp(s1.digest, want) != 0);

	/* the same rule read again, elsewhere in its chain: no change */
	reading_init(&y, cgnat, 7, 42);
	one_target(&a, &t, TARGET_BLOCKED, &y.r);
	audit_state_from_audit(&s2, &a, CG_EXIT_BLOCKED);
	CHECK_STR(s2.lines[0], s1.lines[0]);
	CHECK_STR(s2.digest, s1.digest);
	CHECK(audit_state_diff(&s1, &s2) == NULL);

	/* another rule in the same place: a change */
	reading_init(&y, other, 3, 0);
	audit_state_from_audit(&s3, &a, CG_EXIT_BLOCKED);
	CHECK(strcmp(s3.digest, s1.digest) != 0);

	audit_state_free(&s1);
	audit_state_free(&s2);
	audit_state_free(&s3);
	return test_result();
}
