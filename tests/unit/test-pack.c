/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rule_pack() / rule_exprs() / rule_repack(): every expression kind, with
 * random values in every field, comes back exactly as it went in; the
 * compact forms (a resolved jump, a decoded xt value) too; resolving a
 * packed rule in place gives what resolving the expressions gives; and a
 * repack that needs more room is refused. */
#include "config.h"

#include <netinet/in.h>

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/xt.h"
#include "../lib/test.h"

static uint64_t seed = 0x2026112307u;

static uint32_t rnd32(void)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(seed >> 33);
}

static uint64_t rnd64(void)
{
	return (uint64_t)rnd32() << 32 | rnd32();
}

/* a field's width at random: small values, full range, zero */
static uint32_t rnd_u32(void)
{
	switch (rnd32() % 3) {
	case 0: return 0;
	case 1: return rnd32() % 300;
	default: return rnd32() ^ (rnd32() << 1);
	}
}

static uint8_t bytes_pool[4096];

static struct cg_data rnd_data(void)
{
	uint8_t len = (uint8_t)(rnd32() % 65);

	return (struct cg_data){ .len = len, .bytes = len ? &bytes_pool[rnd32() % (sizeof(bytes_pool) - 64)] : NULL };
}

static const char *const names[] = { "ts-input", "KUBE-SERVICES", "x", "a-long-name-of-a-chain" };
static struct cg_chain chains[4];
static struct cg_set sets[2];
static struct cg_bitwise_data bw;
static const struct xt_decoded *comment_value;

static const void *rnd_ptr(void)
{
	switch (rnd32() % 3) {
	case 0: return NULL;
	case 1: return names[rnd32() % 4];
	default: return &bytes_pool[rnd32() % sizeof(bytes_pool)];
	}
}

static void rnd_expr(struct cg_expr *e, enum cg_expr_type type)
{
	memset(e, 0, sizeof(*e));
	e->type = type;
	switch (type) {
	case CG_EXPR_PAYLOAD:
		e->payload.dreg = (uint8_t)rnd32();
		e->payload.base = (uint8_t)rnd32();
		e->payload.offset = rnd_u32();
		e->payload.len = rnd_u32();
		break;
	case CG_EXPR_PAYLOAD_SET:
		e->payload_set.sreg = (uint8_t)rnd32();
		e->payload_set.base = (uint8_t)rnd32();
		e->payload_set.offset = rnd_u32();
		e->payload_set.len = rnd_u32();
		e->payload_set.csum_type = rnd_u32();
		e->payload_set.csum_offset = rnd_u32();
		break;
	case CG_EXPR_META:
	case CG_EXPR_META_SET:
		e->meta.key = rnd_u32();
		e->meta.reg = (uint8_t)rnd32();
		break;
	case CG_EXPR_CT:
	case CG_EXPR_CT_SET:
		e->ct.key = rnd_u32();
		e->ct.reg = (uint8_t)rnd32();
		e->ct.dir = (int8_t)(rnd32() % 3) - 1;
		break;
	case CG_EXPR_CMP:
		e->cmp.sreg = (uint8_t)rnd32();
		e->cmp.op = rnd_u32();
		e->cmp.data = rnd_data();
		break;
	case CG_EXPR_BITWISE:
		e->bitwise.sreg = (uint8_t)rnd32();
		e->bitwise.dreg = (uint8_t)rnd32();
		e->bitwise.op = rnd_u32();
		e->bitwise.len = rnd_u32();
		e->bitwise.data = &bw;
		break;
	case CG_EXPR_BYTEORDER:
		e->byteorder.sreg = (uint8_t)rnd32();
		e->byteorder.dreg = (uint8_t)rnd32();
		e->byteorder.op = rnd_u32();
		e->byteorder.len = rnd_u32();
		e->byteorder.size = rnd_u32();
		break;
	case CG_EXPR_RANGE:
		e->range.sreg = (uint8_t)rnd32();
		e->range.op = rnd_u32();
		e->range.from = rnd_data();
		e->range.to = rnd_data();
		break;
	case CG_EXPR_LOOKUP:
		e->lookup.sreg = (uint8_t)rnd32();
		e->lookup.dreg = (uint8_t)rnd32();
		e->lookup.invert = rnd32() & 1;
		e->lookup.set_name = rnd_ptr();
		e->lookup.set_id = rnd_u32();
		e->lookup.set = rnd32() & 1 ? &sets[rnd32() % 2] : NULL;
		break;
	case CG_EXPR_IMMEDIATE:
		e->immediate.dreg = (uint8_t)rnd32();
		e->immediate.data = rnd_data();
		e->immediate.verdict.code = (enum cg_verdict_code)(rnd32() % (CG_VERDICT_RETURN + 1));
		if (e->immediate.verdict.code == CG_VERDICT_JUMP || e->immediate.verdict.code == CG_VERDICT_GOTO) {
			struct cg_chain *c = &chains[rnd32() % 4];

			switch (rnd32() % 3) {
			case 0: /* resolved: the compact form */
				e->immediate.verdict.chain = c;
				e->immediate.verdict.chain_name = c->name;
				break;
			case 1: /* resolved, with a name of its own */
				e->immediate.verdict.chain = c;
				e->immediate.verdict.chain_name = "copy";
				break;
			default: /* not (yet) */
				e->immediate.verdict.chain_name = names[rnd32() % 4];
			}
		}
		break;
	case CG_EXPR_REJECT:
		e->reject.type = rnd_u32();
		e->reject.code = (uint8_t)rnd32();
		e->reject.code_set = rnd32() & 1;
		break;
	case CG_EXPR_NAT:
		e->nat.type = rnd_u32();
		e->nat.family = (uint8_t)rnd32();
		e->nat.reg_addr_min = (uint8_t)rnd32();
		e->nat.reg_addr_max = (uint8_t)rnd32();
		e->nat.reg_proto_min = (uint8_t)rnd32();
		e->nat.reg_proto_max = (uint8_t)rnd32();
		e->nat.flags = rnd_u32();
		break;
	case CG_EXPR_MASQ:
	case CG_EXPR_REDIR:
		e->masq_redir.reg_proto_min = (uint8_t)rnd32();
		e->masq_redir.reg_proto_max = (uint8_t)rnd32();
		e->masq_redir.flags = rnd_u32();
		break;
	case CG_EXPR_LIMIT:
		e->limit.rate = rnd32() & 1 ? rnd64() : rnd_u32();
		e->limit.unit = rnd64();
		e->limit.burst = rnd_u32();
		e->limit.type = rnd_u32();
		e->limit.flags = rnd_u32();
		e->limit.set = rnd32() & 1;
		break;
	case CG_EXPR_LOG:
		e->log.prefix = rnd_ptr();
		e->log.group = (uint16_t)rnd32();
		e->log.qthreshold = (uint16_t)rnd32();
		e->log.snaplen = rnd_u32();
		e->log.level = rnd_u32();
		e->log.logflags = rnd_u32();
		e->log.present = rnd_u32();
		break;
	case CG_EXPR_XT_MATCH:
	case CG_EXPR_XT_TARGET:
		if (type == CG_EXPR_XT_MATCH && rnd32() % 2) {
			/* decoded, blob not kept: the compact form */
			e->xt.name = "comment";
			e->xt.revision = 0;
			e->xt.info_len = 256;
			e->xt.decoded = comment_value;
		} else {
			e->xt.name = rnd32() & 1 ? "conntrack" : "";
			e->xt.revision = (uint8_t)rnd32();
			e->xt.info_len = rnd_u32();
			e->xt.info = rnd_ptr();
			e->xt.decoded = rnd32() & 1 ? comment_value : NULL;
		}
		break;
	case CG_EXPR_UNKNOWN:
	case CG_EXPR_QUOTA:
		/* the kernel attributes: a pointer only when there are some */
		e->unknown.name = rnd_ptr();
		e->unknown.attrs_len = rnd32() & 1 ? rnd_u32() : 0;
		e->unknown.attrs = e->unknown.attrs_len ? rnd_ptr() : NULL;
		break;
	case CG_EXPR_FIB:
		e->fib.dreg = (uint8_t)rnd32();
		e->fib.result = rnd_u32();
		e->fib.flags = rnd_u32();
		break;
	case CG_EXPR_COUNTER:
	case CG_EXPR_NOTRACK:
		break;
	}
}

static bool data_eq(const struct cg_data *a, const struct cg_data *b)
{
	return a->len == b->len && (!a->len || memcmp(a->bytes, b->bytes, a->len) == 0);
}

/* Field by field (through memcmp after aligning what may differ: data
 * pointers, which point into the packed string, and equal xt names). */
static bool expr_eq(const struct cg_expr *a, const struct cg_expr *b)
{
	struct cg_expr x = *a, y = *b;

	switch (a->type) {
	case CG_EXPR_CMP:
		if (!data_eq(&x.cmp.data, &y.cmp.data))
			return false;
		y.cmp.data.bytes = x.cmp.data.bytes;
		break;
	case CG_EXPR_RANGE:
		if (!data_eq(&x.range.from, &y.range.from) || !data_eq(&x.range.to, &y.range.to))
			return false;
		y.range.from.bytes = x.range.from.bytes;
		y.range.to.bytes = x.range.to.bytes;
		break;
	case CG_EXPR_IMMEDIATE:
		if (!data_eq(&x.immediate.data, &y.immediate.data))
			return false;
		y.immediate.data.bytes = x.immediate.data.bytes;
		break;
	case CG_EXPR_XT_MATCH:
	case CG_EXPR_XT_TARGET:
		if ((x.xt.name == NULL) != (y.xt.name == NULL) ||
		    (x.xt.name && strcmp(x.xt.name, y.xt.name) != 0))
			return false;
		y.xt.name = x.xt.name;
		break;
	default:
		break;
	}
	return memcmp(&x, &y, sizeof(x)) == 0;
}

#define N_TYPES (CG_EXPR_UNKNOWN + 1)
#define MAX_N 40

static void test_round_trip(void)
{
	struct arena a = { 0 };
	struct cg_expr v[MAX_N];
	unsigned bad = 0, done = 0;

	for (unsigned round = 0; round < 20000; round++) {
		struct cg_rule r = { 0 };
		struct cg_expr_buf eb;
		const struct cg_expr *out;
		/* a single kind at a time first (every kind seen), then mixes,
		 * some longer than the buffer's own room */
		uint32_t n = round < N_TYPES * 50 ? 1 + rnd32() % 3 : rnd32() % MAX_N;

		for (uint32_t i = 0; i < n; i++)
			rnd_expr(&v[i], round < N_TYPES * 50 ? (enum cg_expr_type)(round % N_TYPES) :
								 (enum cg_expr_type)(rnd32() % N_TYPES));
		rule_pack(&r, &a, v, n);
		CHECK(r.n_exprs == n && r.packed && (n == 0) == (r.code == NULL));
		out = rule_exprs(&r, &eb);
		for (uint32_t i = 0; i < n; i++)
			if (!expr_eq(&v[i], &out[i])) {
				if (bad++ < 5)
					fprintf(stderr, "round %u expr %u (%s) differs\n", round, i,
						expr_type_to_string(v[i].type));
			}
		expr_buf_free(&eb);
		done += n;
	}
	CHECK(bad == 0);
	CHECK(done > 300000);
	arena_free(&a);
}

/* An unpacked rule is read as it is. */
static void test_unpacked(void)
{
	struct cg_expr v[2];
	struct cg_rule r = { .n_exprs = 2, .exprs = v };
	struct cg_expr_buf eb;

	rnd_expr(&v[0], CG_EXPR_CMP);
	rnd_expr(&v[1], CG_EXPR_COUNTER);
	CHECK(rule_exprs(&r, &eb) == v);
	expr_buf_free(&eb);
}

/* Resolution in place: a jump by name becomes the compact form (shorter),
 * and back to a longer form is refused, nothing written. */
static void test_repack(void)
{
	struct arena a = { 0 };
	struct cg_expr v[3], w[3];
	struct cg_rule r = { 0 };
	struct cg_expr_buf eb;
	const struct cg_expr *out;
	uint8_t before[64];

	rnd_expr(&v[0], CG_EXPR_CMP);
	memset(&v[1], 0, sizeof(v[1]));
	v[1].type = CG_EXPR_IMMEDIATE;
	v[1].immediate.verdict = (struct cg_verdict){ CG_VERDICT_JUMP, "ts-input", NULL };
	rnd_expr(&v[2], CG_EXPR_LOOKUP);
	v[2].lookup.set = NULL;
	rule_pack(&r, &a, v, 3);

	out = rule_exprs(&r, &eb);
	memcpy(w, out, sizeof(w));
	expr_buf_free(&eb);
	w[1].immediate.verdict.chain = &chains[0];
	w[1].immediate.verdict.chain_name = chains[0].name;
	w[2].lookup.set = &sets[1];
	CHECK(rule_repack(&r, w) == 0);
	out = rule_exprs(&r, &eb);
	CHECK(expr_eq(&out[0], &v[0]));
	CHECK(out[1].immediate.verdict.chain == &chains[0] &&
	      strcmp(out[1].immediate.verdict.chain_name, "ts-input") == 0);
	CHECK(out[2].lookup.set == &sets[1]);
	memcpy(w, out, sizeof(w));
	expr_buf_free(&eb);

	/* the compact form has no room for a name of its own */
	memcpy(before, r.code, sizeof(before) < 30 ? sizeof(before) : 30);
	w[1].immediate.verdict.chain_name = "copy";
	CHECK(rule_repack(&r, w) == -EINVAL);
	CHECK(memcmp(before, r.code, 30) == 0);
	arena_free(&a);
}

int main(void)
{
	static const uint8_t comment_blob[256] = "ns1/svc:http";
	struct arena a = { 0 };

	for (size_t i = 0; i < sizeof(bytes_pool); i++)
		bytes_pool[i] = (uint8_t)rnd32();
	chains[0].name = "ts-input";
	for (int i = 1; i < 4; i++)
		chains[i].name = names[i];
	sets[0].name = "s0";
	sets[1].name = "s1";
	comment_value = xt_decode(&a, false, "comment", 0, NFPROTO_IPV4, comment_blob, sizeof(comment_blob));
	CHECK(comment_value != NULL);
	if (!comment_value)
		return test_result();

	test_round_trip();
	test_unpacked();
	test_repack();
	arena_free(&a);
	return test_result();
}
