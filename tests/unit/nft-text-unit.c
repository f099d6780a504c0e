/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_rule_format() on hand-built rules: the placeholder paths the kernel
 * test cannot reach (unknown expressions, a jump whose chain the model does
 * not have, a lookup in a set it does not have, values read from a register
 * nothing loaded), the statements whose fields the model does not keep, and
 * the snprintf-like contract of the formatting functions. */
#include "config.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/nft-text.h"
#include "../lib/test.h"

#define MAX_EXPRS 16

struct built {
	struct cg_table table;
	struct cg_chain chain;
	struct cg_rule rule;
	struct cg_expr exprs[MAX_EXPRS];
};

static void build(struct built *b, uint8_t family)
{
	memset(b, 0, sizeof(*b));
	b->table.backend = CG_BACKEND_NFTABLES;
	b->table.family = family;
	b->table.name = "t";
	b->chain.table = &b->table;
	b->chain.name = "c";
	b->rule.chain = &b->chain;
	b->rule.index = 1;
	b->rule.handle = 2;
	b->rule.exprs = b->exprs;
}

static struct cg_expr *add(struct built *b, enum cg_expr_type type)
{
	struct cg_expr *e = &b->exprs[b->rule.n_exprs++];

	e->type = type;
	return e;
}

static void add_verdict(struct built *b, enum cg_verdict_code code, const char *chain, struct cg_chain *target)
{
	struct cg_expr *e = add(b, CG_EXPR_IMMEDIATE);

	e->immediate.dreg = NFT_REG_VERDICT;
	e->immediate.verdict.code = code;
	e->immediate.verdict.chain_name = chain;
	e->immediate.verdict.chain = target;
}

static void add_unknown(struct built *b, const char *name)
{
	add(b, CG_EXPR_UNKNOWN)->unknown.name = name;
}

static void add_cmp(struct built *b, uint32_t op, const void *data, uint8_t len)
{
	struct cg_expr *e = add(b, CG_EXPR_CMP);

	e->cmp.sreg = NFT_REG_1;
	e->cmp.op = op;
	e->cmp.data.len = len;
	e->cmp.data.bytes = data;
}

static void add_meta(struct built *b, uint32_t key)
{
	struct cg_expr *e = add(b, CG_EXPR_META);

	e->meta.key = key;
	e->meta.reg = NFT_REG_1;
}

/* the text, checked against the length both functions report */
static char *render(const struct cg_rule *r)
{
	char *s = nft_rule_to_string(r);
	int len = nft_rule_format(r, NULL, 0);

	CHECK(s != NULL);
	CHECK(s && len == (int)strlen(s));
	return s;
}

#define CHECK_RULE(b, want)                             \
	do {                                            \
		char *_s = render(&(b)->rule);          \
		CHECK_STR(_s, want);                    \
		free(_s);                               \
	} while (0)

static void test_unknown(void)
{
	struct built b;

	build(&b, NFPROTO_IPV4);
	add_unknown(&b, "fancy");
	add_verdict(&b, CG_VERDICT_ACCEPT, NULL, NULL);
	CHECK_RULE(&b, "/* unsupported: fancy */ accept");

	/* a nameless expression still shows */
	build(&b, NFPROTO_IPV4);
	add_unknown(&b, NULL);
	CHECK_RULE(&b, "/* unsupported: unknown expression */");

	/* an unknown load: its user shows it, the value in hex */
	build(&b, NFPROTO_IPV4);
	add_unknown(&b, "fib");
	add_cmp(&b, NFT_CMP_EQ, "\x00\x00\x00\x02", 4);
	add_verdict(&b, CG_VERDICT_DROP, NULL, NULL);
	CHECK_RULE(&b, "/* unsupported: fib */ 0x2 drop");

	/* a comparison of a register nothing loaded */
	build(&b, NFPROTO_IPV4);
	add_cmp(&b, NFT_CMP_NEQ, "\x01", 1);
	CHECK_RULE(&b, "/* unsupported: empty register */ != 0x1");
}

static void test_missing_chain(void)
{
	struct built b;
	struct cg_chain target = { .name = "ts-input" };

	build(&b, NFPROTO_IPV4);
	target.table = &b.table;
	add_verdict(&b, CG_VERDICT_JUMP, "ts-input", NULL);
	CHECK_RULE(&b, "jump ts-input /* missing chain */");

	build(&b, NFPROTO_IPV4);
	add_verdict(&b, CG_VERDICT_GOTO, NULL, NULL);
	CHECK_RULE(&b, "goto /* missing chain */");

	build(&b, NFPROTO_IPV4);
	target.table = &b.table;
	add(&b, CG_EXPR_COUNTER);
	add_verdict(&b, CG_VERDICT_JUMP, "ts-input", &target);
	CHECK_RULE(&b, "counter jump ts-input");
}

static void test_missing_set(void)
{
	struct built b;
	struct cg_expr *e;

	build(&b, NFPROTO_IPV4);
	e = add(&b, CG_EXPR_PAYLOAD);
	e->payload.dreg = NFT_REG_1;
	e->payload.base = NFT_PAYLOAD_NETWORK_HEADER;
	e->payload.offset = 12;
	e->payload.len = 4;
	e = add(&b, CG_EXPR_LOOKUP);
	e->lookup.sreg = NFT_REG_1;
	e->lookup.set_name = "cgnat";
	add_verdict(&b, CG_VERDICT_DROP, NULL, NULL);
	CHECK_RULE(&b, "/* unsupported: lookup in missing set cgnat */ drop");
}

/* Tailscale's CGNAT rule as the kernel holds it */
static void test_cgnat_rule(void)
{
	struct built b;
	struct cg_expr *e;

	build(&b, NFPROTO_IPV4);
	add_meta(&b, NFT_META_IIFNAME);
	add_cmp(&b, NFT_CMP_NEQ, "tailscale0", 10);
	e = add(&b, CG_EXPR_PAYLOAD);
	e->payload.dreg = NFT_REG_1;
	e->payload.base = NFT_PAYLOAD_NETWORK_HEADER;
	e->payload.offset = 12;
	e->payload.len = 4;
	e = add(&b, CG_EXPR_BITWISE);
	e->bitwise.sreg = e->bitwise.dreg = NFT_REG_1;
	e->bitwise.op = NFT_BITWISE_BOOL;
	e->bitwise.len = 4;
	static const struct cg_bitwise_data cgnat_mask = {
		.mask = { 4, (const uint8_t *)"\xff\xc0\x00\x00" },
		.xor = { 4, (const uint8_t *)"\x00\x00\x00\x00" },
	};
	e->bitwise.data = &cgnat_mask;
	add_cmp(&b, NFT_CMP_EQ, "\x64\x40\x00\x00", 4);
	add(&b, CG_EXPR_COUNTER);
	add_verdict(&b, CG_VERDICT_DROP, NULL, NULL);
	b.rule.comment = "cgnat";
	CHECK_RULE(&b, "iifname != \"tailscale0*\" ip saddr 100.64.0.0/10 counter drop comment \"cgnat\"");
}

/* netlink attributes as the kernel dumps them: u32 in network order,
 * strings with their NUL, each padded to 4 bytes */
static size_t put_attr(uint8_t *buf, size_t off, uint16_t type, const void *data, uint16_t len)
{
	uint16_t alen = (uint16_t)(4 + len);

	memcpy(buf + off, &alen, 2);
	memcpy(buf + off + 2, &type, 2);
	memcpy(buf + off + 4, data, len);
	memset(buf + off + 4 + len, 0, (size_t)((4 - alen % 4) % 4));
	return off + (size_t)((alen + 3) & ~3);
}

/* An anonymous object map (`counter name ip saddr map { 1.1.1.1 : "c1" }`):
 * its elements with the objects they map to, as nft lists them, when the
 * model has every element's object; a placeholder when it does not. */
static void test_objref_anonymous(void)
{
	static const char *const names[] = { "c2", "c1" };
	static const uint8_t keys[][4] = { { 2, 2, 2, 2 }, { 1, 1, 1, 1 } };
	static uint8_t attrs[64];
	struct cg_set_elem el[2] = { 0 };
	struct cg_set set = { 0 };
	struct cg_ruleset rs = { 0 };
	struct built b;
	struct cg_expr *e;
	uint32_t sreg = htonl(NFT_REG_1);
	size_t n;

	build(&b, NFPROTO_IPV4);
	for (unsigned i = 0; i < 2; i++) {
		el[i].key = (struct cg_data){ 4, keys[i] };
		el[i].obj = names[i];
	}
	set.table = &b.table;
	set.name = "__objmap0";
	set.flags = CG_SET_ANONYMOUS | CG_SET_CONSTANT;
	set.key_type = 7; /* ipv4_addr */
	set.key_len = 4;
	set.obj_type = NFT_OBJECT_COUNTER;
	set.n_elems = 2;
	set.elems = el;
	b.table.sets = &set;
	b.table.n_sets = 1;
	b.table.chains = &b.chain;
	b.table.n_chains = 1;
	b.chain.rules = &b.rule;
	b.chain.n_rules = 1;
	rs.tables = &b.table;
	rs.n_tables = 1;

	e = add(&b, CG_EXPR_PAYLOAD);
	e->payload.dreg = NFT_REG_1;
	e->payload.base = NFT_PAYLOAD_NETWORK_HEADER;
	e->payload.offset = 12;
	e->payload.len = 4;
	n = put_attr(attrs, 0, NFTA_OBJREF_SET_SREG, &sreg, 4);
	n = put_attr(attrs, n, NFTA_OBJREF_SET_NAME, "__objmap0", 10);
	e = add(&b, CG_EXPR_UNKNOWN);
	e->unknown.name = "objref";
	e->unknown.attrs = attrs;
	e->unknown.attrs_len = (uint32_t)n;
	CHECK(ruleset_resolve(&rs) == 0);
	CHECK_RULE(&b, "counter name ip saddr map { 1.1.1.1 : \"c1\", 2.2.2.2 : \"c2\" }");

	/* a ct helper map: the statement the object type names */
	set.obj_type = NFT_OBJECT_CT_HELPER;
	CHECK_RULE(&b, "ct helper set ip saddr map { 1.1.1.1 : \"c1\", 2.2.2.2 : \"c2\" }");

	/* an element whose object the collector did not read */
	el[0].obj = NULL;
	CHECK_RULE(&b, "/* unsupported: objref */");
	ruleset_free(&rs);
}

/* nft's set user data, as libnftnl writes it: a type byte, a length
 * byte, the value; numbers in host order */
static size_t ud_put(uint8_t *buf, size_t off, uint8_t type, const void *v, uint8_t len)
{
	buf[off] = type;
	buf[off + 1] = len;
	memcpy(buf + off + 2, v, len);
	return off + 2 + len;
}

static size_t ud_u32(uint8_t *buf, size_t off, uint8_t type, uint32_t v)
{
	return ud_put(buf, off, type, &v, 4);
}

/* a payload's typeof: EXPR_PAYLOAD (7), its data: the protocol (0: raw),
 * the field, base, offset and length in bits */
static size_t ud_payload(uint8_t *buf, size_t off, uint8_t type, uint32_t desc, uint32_t field)
{
	uint8_t data[64], member[80];
	size_t n = 0, m = 0;

	n = ud_u32(data, n, 0, desc);
	n = ud_u32(data, n, 1, field);
	if (!desc) {
		n = ud_u32(data, n, 2, 2);   /* the network header */
		n = ud_u32(data, n, 3, 64);
		n = ud_u32(data, n, 4, 8);
	}
	m = ud_u32(member, m, 0, 7);
	m = ud_put(member, m, 1, data, (uint8_t)n);
	return ud_put(buf, off, type, member, (uint8_t)m);
}

/* NFTNL_UDATA_SET_KEYBYTEORDER, then NFTNL_UDATA_SET_KEY_TYPEOF of
 * `FIELD . ip saddr`: FIELD raw (@nh,64,8) or by name (ip ttl) */
static size_t ud_typeof_ttl_saddr(uint8_t *buf, bool raw)
{
	uint8_t members[128], key[160];
	size_t n = 0, k = 0, off = 0;

	n = ud_payload(members, n, 0, raw ? 0 : 12, raw ? 0 : 8);
	n = ud_payload(members, n, 1, 12, 11);
	k = ud_u32(key, k, 0, 13);  /* EXPR_CONCAT */
	k = ud_put(key, k, 1, members, (uint8_t)n);
	off = ud_u32(buf, off, 0, 0);
	return ud_put(buf, off, 3, key, (uint8_t)k);
}

/* A set's elements against a field written as raw payload: nft records
 * the key's typeof in the set's user data and lists a raw field in hex,
 * the same field written by name in its type's way (`@nh,64,8 . ip saddr
 * { 64 . 1.2.3.4 }` lists as `ip ttl . ip saddr { 0x40 . 1.2.3.4 }`, `ip ttl
 * . ip saddr { 64 . 1.2.3.4 }` as itself); the kernel's rule is the same. */
static void test_typeof_raw(void)
{
	static const uint8_t key[8] = { 64, 0, 0, 0, 1, 2, 3, 4 };
	static uint8_t udata[256];
	struct cg_set_elem el = { 0 };
	struct cg_set set = { 0 };
	struct cg_ruleset rs = { 0 };
	struct built b;
	struct cg_expr *e;

	build(&b, NFPROTO_IPV4);
	el.key = (struct cg_data){ 8, key };
	set.table = &b.table;
	set.name = "__set0";
	set.flags = CG_SET_ANONYMOUS | CG_SET_CONSTANT | CG_SET_CONCAT;
	set.key_type = 4 << 6 | 7; /* integer . ipv4_addr */
	set.key_len = 8;
	set.n_fields = 2;
	set.field_len[0] = 1;
	set.field_len[1] = 4;
	set.n_elems = 1;
	set.elems = &el;
	b.table.sets = &set;
	b.table.n_sets = 1;
	b.table.chains = &b.chain;
	b.table.n_chains = 1;
	b.chain.rules = &b.rule;
	b.chain.n_rules = 1;
	rs.tables = &b.table;
	rs.n_tables = 1;

	e = add(&b, CG_EXPR_PAYLOAD);
	e->payload.dreg = NFT_REG32_00;
	e->payload.base = NFT_PAYLOAD_NETWORK_HEADER;
	e->payload.offset = 8;
	e->payload.len = 1;
	e = add(&b, CG_EXPR_PAYLOAD);
	e->payload.dreg = NFT_REG32_01;
	e->payload.base = NFT_PAYLOAD_NETWORK_HEADER;
	e->payload.offset = 12;
	e->payload.len = 4;
	e = add(&b, CG_EXPR_LOOKUP);
	e->lookup.sreg = NFT_REG32_00;
	e->lookup.set_name = "__set0";
	add_verdict(&b, CG_VERDICT_ACCEPT, NULL, NULL);
	CHECK(ruleset_resolve(&rs) == 0);

	/* nothing recorded: an integer field prints in decimal */
	CHECK_RULE(&b, "ip ttl . ip saddr { 64 . 1.2.3.4 } accept");
	set.udata = udata;
	set.udata_len = (uint32_t)ud_typeof_ttl_saddr(udata, true);
	CHECK_RULE(&b, "ip ttl . ip saddr { 0x40 . 1.2.3.4 } accept");
	set.udata_len = (uint32_t)ud_typeof_ttl_saddr(udata, false);
	CHECK_RULE(&b, "ip ttl . ip saddr { 64 . 1.2.3.4 } accept");
	/* user data that ends inside a value is not read past its end */
	set.udata_len = 9;
	CHECK_RULE(&b, "ip ttl . ip saddr { 64 . 1.2.3.4 } accept");
	ruleset_free(&rs);
}

static void test_unkept_fields(void)
{
	struct built b;
	struct cg_expr *e;
	uint32_t idx = 0x7ffffffe;   /* no interface has it */

	build(&b, NFPROTO_IPV4);
	add(&b, CG_EXPR_QUOTA);
	CHECK_RULE(&b, "/* unsupported: quota */");

	build(&b, NFPROTO_IPV4);
	add(&b, CG_EXPR_LIMIT);     /* limit.set false: nothing collected */
	CHECK_RULE(&b, "limit /* unsupported: rate not collected */");

	build(&b, NFPROTO_IPV4);
	e = add(&b, CG_EXPR_LIMIT);
	e->limit = (typeof(e->limit)){ .rate = 3, .unit = 60, .burst = 5, .type = NFT_LIMIT_PKTS, .set = true };
	CHECK_RULE(&b, "limit rate 3/minute");

	/* an index no interface has prints as the number */
	build(&b, NFPROTO_IPV4);
	add_meta(&b, NFT_META_IIF);
	add_cmp(&b, NFT_CMP_EQ, &idx, 4);
	CHECK_RULE(&b, "iif 2147483646");

	build(&b, NFPROTO_INET);
	add(&b, CG_EXPR_REJECT)->reject.type = NFT_REJECT_ICMPX_UNREACH;
	CHECK_RULE(&b, "reject");

	build(&b, NFPROTO_IPV4);
	e = add(&b, CG_EXPR_XT_MATCH);
	e->xt.name = "conntrack";
	e = add(&b, CG_EXPR_XT_TARGET);
	e->xt.name = "MASQUERADE";
	CHECK_RULE(&b, "xt match \"conntrack\" xt target \"MASQUERADE\"");

	build(&b, NFPROTO_IPV4);
	e = add(&b, CG_EXPR_LOG);
	e->log.prefix = "x";
	e->log.present = 1 | 1u << NFTA_LOG_PREFIX;
	CHECK_RULE(&b, "log prefix \"x\"");
}

static void test_contract(void)
{
	struct built b;
	char buf[8];
	const char *want = "ct mark set meta mark";
	struct cg_expr *e;
	int len;

	build(&b, NFPROTO_IPV4);
	add_meta(&b, NFT_META_MARK);
	e = add(&b, CG_EXPR_CT_SET);
	e->ct.key = NFT_CT_MARK;
	e->ct.reg = NFT_REG_1;
	e->ct.dir = -1;
	CHECK_RULE(&b, want);

	/* truncated like snprintf: the whole length, a terminated prefix */
	memset(buf, 'x', sizeof(buf));
	len = nft_rule_format(&b.rule, buf, sizeof(buf));
	CHECK(len == (int)strlen(want));
	CHECK(buf[sizeof(buf) - 1] == '\0');
	CHECK(strncmp(buf, want, sizeof(buf) - 1) == 0);
	CHECK(nft_rule_format(&b.rule, buf, 1) == len && buf[0] == '\0');
	CHECK(nft_rule_format(&b.rule, NULL, 0) == len);

	CHECK(nft_rule_format(NULL, buf, sizeof(buf)) == -EINVAL);
	CHECK(nft_rule_format(&b.rule, NULL, 4) == -EINVAL);
	CHECK(nft_rule_to_string(NULL) == NULL);

	/* a rule without expressions (nft lists an empty line) */
	build(&b, NFPROTO_IPV4);
	CHECK_RULE(&b, "");
}

/* ---- random expression lists: whatever the kernel could hand over -------- */

static uint32_t rnd_state = 12345;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return n ? (rnd_state >> 8) % n : 0;
}

static uint8_t pool[4096];

static struct cg_data rnd_data(void)
{
	uint8_t len = (uint8_t)rnd(5) == 0 ? (uint8_t)rnd(65) : (uint8_t)(1u << rnd(5));

	return (struct cg_data){ len, pool + rnd(sizeof(pool) - 64) };
}

static uint8_t rnd_reg(void)
{
	static const uint8_t regs[] = { 0, 1, 2, 3, 4, 5, 8, 9, 10, 15, 23, 24, 200 };

	return regs[rnd(ARRAY_SIZE(regs))];
}

#define N_SETS 6
#define N_ELEMS 12

static struct cg_set sets[N_SETS];
static struct cg_set_elem elems[N_SETS][N_ELEMS];

static void make_sets(void)
{
	/* key types: ipv4, inet_service, ipv4 . inet_service, ct_state, ifname, garbage */
	static const uint32_t key_types[N_SETS] = { 7, 13, 7 << 6 | 13, 26, 41, 0xfffff };
	static const uint32_t key_lens[N_SETS] = { 4, 2, 8, 4, 16, 3 };

	for (size_t i = 0; i < sizeof(pool); i++)
		pool[i] = (uint8_t)rnd(256);
	for (unsigned i = 0; i < N_SETS; i++) {
		struct cg_set *s = &sets[i];

		s->name = i % 2 ? "named" : "__set0";
		s->flags = (i % 2 ? 0 : CG_SET_ANONYMOUS) | (i < 3 ? CG_SET_INTERVAL : 0) |
			   (i == 1 || i == 5 ? CG_SET_MAP : 0);
		s->key_type = key_types[i];
		s->key_len = key_lens[i];
		s->data_type = i == 1 ? NFT_DATA_VERDICT : 19;
		s->data_len = 4;
		if (i == 2) {
			s->n_fields = 2;
			s->field_len[0] = 4;
			s->field_len[1] = 2;
		}
		s->n_elems = N_ELEMS;
		s->elems = elems[i];
		for (unsigned j = 0; j < N_ELEMS; j++) {
			struct cg_set_elem *e = &elems[i][j];

			e->key = rnd(8) ? (struct cg_data){ (uint8_t)s->key_len, pool + rnd(1024) } : rnd_data();
			e->interval_end = rnd(3) == 0;
			e->catchall = rnd(10) == 0;
			if (i == 2 && rnd(2))
				e->key_end = (struct cg_data){ (uint8_t)s->key_len, pool + rnd(1024) };
			e->data = rnd(2) ? rnd_data() : (struct cg_data){ 0 };
			e->verdict.code = (enum cg_verdict_code)rnd(CG_VERDICT_RETURN + 1);
			e->verdict.chain_name = "x";
		}
	}
}

static void rnd_expr(struct cg_expr *e)
{
	memset(e, 0, sizeof(*e));
	e->type = (enum cg_expr_type)rnd(CG_EXPR_UNKNOWN + 1);
	switch (e->type) {
	case CG_EXPR_PAYLOAD:
		e->payload = (typeof(e->payload)){ rnd_reg(), (uint8_t)rnd(4), rnd(48), 1 + rnd(16) };
		break;
	case CG_EXPR_PAYLOAD_SET:
		e->payload_set.sreg = rnd_reg();
		e->payload_set.base = (uint8_t)rnd(4);
		e->payload_set.offset = rnd(48);
		e->payload_set.len = 1 + rnd(16);
		break;
	case CG_EXPR_META:
	case CG_EXPR_META_SET:
		e->meta.key = rnd(40);
		e->meta.reg = rnd_reg();
		break;
	case CG_EXPR_CT:
	case CG_EXPR_CT_SET:
		e->ct.key = rnd(30);
		e->ct.reg = rnd_reg();
		e->ct.dir = (int8_t)(rnd(4) - 1);
		break;
	case CG_EXPR_CMP:
		e->cmp.sreg = rnd_reg();
		e->cmp.op = rnd(7);
		e->cmp.data = rnd_data();
		break;
	case CG_EXPR_BITWISE:
		e->bitwise.sreg = rnd_reg();
		e->bitwise.dreg = rnd_reg();
		e->bitwise.op = rnd(4);
		{
			/* a ring longer than any random rule */
			static struct cg_bitwise_data ring[256];
			static unsigned next;
			struct cg_bitwise_data *d = &ring[next++ % ARRAY_SIZE(ring)];

			d->mask = rnd_data();
			d->xor = rnd_data();
			d->shift = rnd_data();
			e->bitwise.data = d;
		}
		break;
	case CG_EXPR_BYTEORDER:
		e->byteorder.sreg = rnd_reg();
		e->byteorder.dreg = rnd_reg();
		e->byteorder.op = rnd(2);
		break;
	case CG_EXPR_RANGE:
		e->range.sreg = rnd_reg();
		e->range.op = rnd(3);
		e->range.from = rnd_data();
		e->range.to = rnd_data();
		break;
	case CG_EXPR_LOOKUP:
		e->lookup.sreg = rnd_reg();
		e->lookup.dreg = rnd(2) ? 0 : rnd_reg();
		e->lookup.invert = rnd(2);
		e->lookup.set_name = "s";
		e->lookup.set = rnd(8) ? &sets[rnd(N_SETS)] : NULL;
		break;
	case CG_EXPR_IMMEDIATE:
		e->immediate.dreg = rnd(2) ? 0 : rnd_reg();
		e->immediate.data = rnd_data();
		e->immediate.verdict.code = (enum cg_verdict_code)rnd(CG_VERDICT_RETURN + 1);
		e->immediate.verdict.chain_name = rnd(2) ? "x" : NULL;
		break;
	case CG_EXPR_NAT:
		e->nat = (typeof(e->nat)){ rnd(2), (uint8_t)(rnd(2) ? 2 : 10), rnd_reg(), rnd_reg(), rnd_reg(),
					   rnd_reg(), rnd(64) };
		break;
	case CG_EXPR_MASQ:
	case CG_EXPR_REDIR:
		e->masq_redir.reg_proto_min = rnd_reg();
		e->masq_redir.reg_proto_max = rnd_reg();
		e->masq_redir.flags = rnd(64);
		break;
	case CG_EXPR_REJECT:
		e->reject.type = rnd(4);
		break;
	case CG_EXPR_LOG:
		e->log.present = rnd(128);
		e->log.prefix = rnd(2) ? "p" : NULL;
		e->log.level = rnd(10);
		e->log.logflags = rnd(64);
		break;
	case CG_EXPR_LIMIT:
		e->limit = (typeof(e->limit)){ rnd(100), rnd(2) ? 60 : rnd(100000), rnd(10), rnd(2), rnd(2),
					       rnd(2) };
		break;
	case CG_EXPR_XT_MATCH:
	case CG_EXPR_XT_TARGET:
		e->xt.name = rnd(2) ? "conntrack" : NULL;
		break;
	case CG_EXPR_UNKNOWN:
		e->unknown.name = rnd(2) ? "fib" : "thing";
		break;
	default:
		break;
	}
}

/* Every list of expressions renders (sanitizer builds see what it touches),
 * and both functions agree on the text. */
static void test_random(void)
{
	static const uint8_t families[] = { NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_INET, NFPROTO_BRIDGE,
					    NFPROTO_NETDEV, NFPROTO_ARP, 0, 99 };
	struct built b;
	bool all_ok = true;

	make_sets();
	for (unsigned i = 0; i < 20000; i++) {
		char *s, buf[64];
		int len;

		build(&b, families[rnd(ARRAY_SIZE(families))]);
		b.rule.n_exprs = rnd(MAX_EXPRS + 1);
		for (uint32_t j = 0; j < b.rule.n_exprs; j++)
			rnd_expr(&b.exprs[j]);
		s = nft_rule_to_string(&b.rule);
		len = nft_rule_format(&b.rule, buf, sizeof(buf));
		if (!s || len != (int)strlen(s) || strncmp(s, buf, sizeof(buf) - 1)) {
			fprintf(stderr, "random rule %u: '%s' (%d)\n", i, s ? s : "(null)", len);
			all_ok = false;
		}
		/* packed as the collectors keep rules, it reads the same */
		struct cg_rule packed = b.rule;
		struct arena a = { 0 };
		char *sp;

		rule_pack(&packed, &a, b.exprs, b.rule.n_exprs);
		sp = nft_rule_to_string(&packed);
		if (!s || !sp || strcmp(s, sp) != 0) {
			fprintf(stderr, "random rule %u packed: '%s' unpacked: '%s'\n", i, sp ? sp : "(null)",
				s ? s : "(null)");
			all_ok = false;
		}
		free(sp);
		arena_free(&a);
		free(s);
	}
	CHECK(all_ok);
}

int main(void)
{
	test_unknown();
	test_missing_chain();
	test_missing_set();
	test_cgnat_rule();
	test_objref_anonymous();
	test_typeof_raw();
	test_unkept_fields();
	test_contract();
	test_random();
	return test_result();
}
