/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_table_owner() on hand-built tables: each signal of src/collect/nft-owner.c
 * on its own and in the order they decide (what iptables-nft-save cannot
 * list, then xt expressions and iptables-nft's interface names, then what
 * only nft writes, else iptables-nft), and the tables iptables-nft does not
 * take at all. The kernel tests (tests/kernel/nft-owner.sh, nft-collect.sh)
 * check the same against what the tools really write. */
#include "config.h"

#include <net/if.h>
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "../lib/test.h"

#define MAX_EXPRS 16
#define MAX_RULES 4

struct bed {
	struct cg_table t;
	struct cg_chain c[2];
	struct cg_rule r[MAX_RULES];
	struct cg_expr v[MAX_RULES][MAX_EXPRS];
	uint8_t bytes[MAX_RULES][MAX_EXPRS][IFNAMSIZ];
	struct cg_bitwise_data bw;
	struct cg_set set;
};

/* table FAMILY NAME, base chain INPUT (filter, input, priority 0) */
static void bed_init(struct bed *b, uint8_t family, const char *name)
{
	memset(b, 0, sizeof(*b));
	b->t = (struct cg_table){ .backend = CG_BACKEND_NFTABLES, .family = family, .name = name, .n_chains = 1,
				  .chains = b->c };
	b->c[0] = (struct cg_chain){ .table = &b->t, .name = "INPUT", .type = "filter", .hook = NF_INET_LOCAL_IN,
				     .priority = 0, .base = true, .rules = b->r };
}

static struct cg_rule *rule_add(struct bed *b)
{
	uint32_t n = b->c[0].n_rules++;

	b->r[n] = (struct cg_rule){ .chain = &b->c[0], .index = n + 1, .exprs = b->v[n] };
	return &b->r[n];
}

static struct cg_expr *expr_add(struct bed *b, struct cg_rule *r, enum cg_expr_type type)
{
	struct cg_expr *e = &r->exprs[r->n_exprs++];

	(void)b;
	memset(e, 0, sizeof(*e));
	e->type = type;
	return e;
}

static void data_set(struct bed *b, struct cg_rule *r, struct cg_data *d, const void *p, uint8_t len)
{
	uint8_t *buf = b->bytes[r - b->r][r->n_exprs - 1];

	memcpy(buf, p, len);
	d->bytes = buf;
	d->len = len;
}

/* iifname compared with len bytes of name (zero padded) */
static void add_ifname(struct bed *b, struct cg_rule *r, const char *name, uint8_t len, uint32_t op)
{
	char buf[IFNAMSIZ] = { 0 };
	struct cg_expr *e = expr_add(b, r, CG_EXPR_META);

	e->meta.key = NFT_META_IIFNAME;
	e->meta.reg = NFT_REG_1;
	strncpy(buf, name, sizeof(buf) - 1);
	e = expr_add(b, r, CG_EXPR_CMP);
	e->cmp.sreg = NFT_REG_1;
	e->cmp.op = op;
	data_set(b, r, &e->cmp.data, buf, len);
}

/* ip saddr 100.64.0.0/10 */
static void add_cgnat(struct bed *b, struct cg_rule *r)
{
	static const uint8_t net[4] = { 100, 64, 0, 0 }, mask[4] = { 0xff, 0xc0, 0, 0 };
	struct cg_expr *e = expr_add(b, r, CG_EXPR_PAYLOAD);

	e->payload = (typeof(e->payload)){ .dreg = NFT_REG_1, .base = NFT_PAYLOAD_NETWORK_HEADER, .offset = 12, .len = 4 };
	e = expr_add(b, r, CG_EXPR_BITWISE);
	b->bw.mask = (struct cg_data){ 4, mask };
	b->bw.xor = (struct cg_data){ 4, (const uint8_t *)"\0\0\0\0" };
	e->bitwise = (typeof(e->bitwise)){ .sreg = NFT_REG_1, .dreg = NFT_REG_1, .op = NFT_BITWISE_BOOL, .len = 4,
					   .data = &b->bw };
	e = expr_add(b, r, CG_EXPR_CMP);
	e->cmp.sreg = NFT_REG_1;
	e->cmp.op = NFT_CMP_EQ;
	data_set(b, r, &e->cmp.data, net, 4);
}

static void add_counter(struct bed *b, struct cg_rule *r)
{
	expr_add(b, r, CG_EXPR_COUNTER);
}

static void add_verdict(struct bed *b, struct cg_rule *r, enum cg_verdict_code code)
{
	struct cg_expr *e = expr_add(b, r, CG_EXPR_IMMEDIATE);

	e->immediate.dreg = NFT_REG_VERDICT;
	e->immediate.verdict.code = code;
}

static void add_xt(struct bed *b, struct cg_rule *r, const char *name, bool target)
{
	struct cg_expr *e = expr_add(b, r, target ? CG_EXPR_XT_TARGET : CG_EXPR_XT_MATCH);

	e->xt.name = name;
}

/* the CGNAT drop: ! -i tailscale0 (len bytes compared) -s 100.64.0.0/10 */
static struct cg_rule *cgnat_drop(struct bed *b, uint8_t iflen, bool counter)
{
	struct cg_rule *r = rule_add(b);

	add_ifname(b, r, "tailscale0", iflen, NFT_CMP_NEQ);
	add_cgnat(b, r);
	if (counter)
		add_counter(b, r);
	add_verdict(b, r, CG_VERDICT_DROP);
	return r;
}

static const char *owner(const struct bed *b, enum cg_backend *be)
{
	struct nft_owner o;

	nft_table_owner(&b->t, &o);
	*be = o.backend;
	return o.why;
}

#define CHECK_OWNER(b, want_backend, want_why)                 \
	do {                                                   \
		enum cg_backend _be;                           \
		const char *_why = owner(b, &_be);             \
		CHECK_STR(backend_to_string(_be), backend_to_string(want_backend)); \
		CHECK_STR(_why, want_why);                     \
	} while (0)

static const char *IPT_IF = "an interface name compared as iptables-nft writes it";

static void test_names(void)
{
	struct bed b;

	CHECK(nft_owner_iptables_table(NFPROTO_IPV4, "filter"));
	CHECK(nft_owner_iptables_table(NFPROTO_IPV6, "security"));
	CHECK(!nft_owner_iptables_table(NFPROTO_INET, "filter"));
	CHECK(!nft_owner_iptables_table(NFPROTO_BRIDGE, "filter"));
	CHECK(!nft_owner_iptables_table(NFPROTO_IPV4, "ts-filter"));
	CHECK(!nft_owner_iptables_table(NFPROTO_IPV4, "Filter"));

	/* iptables-nft's own rule, in a table it does not use: nft's */
	bed_init(&b, NFPROTO_INET, "filter");
	cgnat_drop(&b, 11, true);
	CHECK_OWNER(&b, CG_BACKEND_NFTABLES, "not a table iptables-nft uses");
	bed_init(&b, NFPROTO_IPV4, "firewall");
	cgnat_drop(&b, 11, true);
	CHECK_OWNER(&b, CG_BACKEND_NFTABLES, "not a table iptables-nft uses");
}

static void test_ifnames(void)
{
	struct bed b;
	const char *what = NULL;

	/* "tailscale0" and its NUL: iptables-nft's ! -i tailscale0 */
	bed_init(&b, NFPROTO_IPV4, "filter");
	CHECK(nft_owner_rule_signs(cgnat_drop(&b, 11, true), NFPROTO_IPV4, &what) == NFT_OWNER_IPT_IFNAME);
	CHECK(what == NULL);
	CHECK_OWNER(&b, CG_BACKEND_IPTABLES_NFT, IPT_IF);
	/* padded to IFNAMSIZ: nft's iifname != "tailscale0" */
	bed_init(&b, NFPROTO_IPV4, "filter");
	CHECK(nft_owner_rule_signs(cgnat_drop(&b, IFNAMSIZ, true), NFPROTO_IPV4, NULL) == NFT_OWNER_NFT_IFNAME);
	CHECK_OWNER(&b, CG_BACKEND_NFTABLES, "an interface name padded as nft writes it");
	/* a prefix (tailscale0+ / "tailscale0*", Tailscale's nftables mode):
	 * either's; nothing else in the table: iptables-nft's */
	bed_init(&b, NFPROTO_IPV4, "filter");
	CHECK(nft_owner_rule_signs(cgnat_drop(&b, 10, true), NFPROTO_IPV4, NULL) == 0);
	CHECK_OWNER(&b, CG_BACKEND_IPTABLES_NFT, "nothing only nft writes");
	/* a 15-character name with its NUL fills IFNAMSIZ either way */
	bed_init(&b, NFPROTO_IPV6, "filter");
	{
		struct cg_rule *r = rule_add(&b);

		add_ifname(&b, r, "abcdefghijklmno", IFNAMSIZ, NFT_CMP_EQ);
		add_counter(&b, r);
		add_verdict(&b, r, CG_VERDICT_ACCEPT);
		CHECK(nft_owner_rule_signs(r, NFPROTO_IPV6, NULL) == 0);
	}
	/* both tools in one table: iptables-nft's, which lists it all */
	bed_init(&b, NFPROTO_IPV4, "filter");
	cgnat_drop(&b, IFNAMSIZ, false);
	cgnat_drop(&b, 11, true);
	CHECK_OWNER(&b, CG_BACKEND_IPTABLES_NFT, IPT_IF);
}

static void test_nft_signs(void)
{
	struct bed b;
	struct cg_rule *r;

	/* no counter: iptables-nft puts one in every rule */
	bed_init(&b, NFPROTO_IPV4, "filter");
	r = rule_add(&b);
	add_cgnat(&b, r);
	add_verdict(&b, r, CG_VERDICT_DROP);
	CHECK(nft_owner_rule_signs(r, NFPROTO_IPV4, NULL) == NFT_OWNER_NO_COUNTER);
	CHECK_OWNER(&b, CG_BACKEND_NFTABLES, "a rule without a counter");

	/* a comment from user data: nft's; with an xt comment match: iptables-nft's */
	bed_init(&b, NFPROTO_IPV4, "filter");
	r = rule_add(&b);
	add_cgnat(&b, r);
	add_counter(&b, r);
	add_verdict(&b, r, CG_VERDICT_DROP);
	r->comment = "shared space";
	CHECK(nft_owner_rule_signs(r, NFPROTO_IPV4, NULL) == NFT_OWNER_UDATA);
	CHECK_OWNER(&b, CG_BACKEND_NFTABLES, "a rule comment in user data");
	bed_init(&b, NFPROTO_IPV4, "filter");
	r = rule_add(&b);
	add_cgnat(&b, r);
	add_xt(&b, r, "comment", false);
	add_counter(&b, r);
	add_verdict(&b, r, CG_VERDICT_DROP);
	r->comment = "shared space";
	CHECK(nft_owner_rule_signs(r, NFPROTO_IPV4, NULL) == NFT_OWNER_XT);
	CHECK_OWNER(&b, CG_BACKEND_IPTABLES_NFT, "xt-compat expressions");

	/* a set, table flags, a base chain iptables-nft does not make */
	bed_init(&b, NFPROTO_IPV4, "filter");
	cgnat_drop(&b, 10, true);
	b.t.n_sets = 1;
	b.t.sets = &b.set;
	CHECK_OWNER(&b, CG_BACKEND_NFTABLES, "a set");
	bed_init(&b, NFPROTO_IPV4, "filter");
	cgnat_drop(&b, 10, true);
	b.t.flags = NFT_TABLE_F_DORMANT;
	CHECK_OWNER(&b, CG_BACKEND_NFTABLES, "table flags");
	bed_init(&b, NFPROTO_IPV4, "filter");
	cgnat_drop(&b, 10, true);
	b.c[0].name = "input";
	CHECK_OWNER(&b, CG_BACKEND_NFTABLES, "a base chain iptables-nft does not make");
	b.c[0].name = "INPUT";
	b.c[0].priority = 10;
	CHECK_OWNER(&b, CG_BACKEND_NFTABLES, "a base chain iptables-nft does not make");
	b.c[0].priority = 0;
	b.c[0].type = "route";
	CHECK_OWNER(&b, CG_BACKEND_NFTABLES, "a base chain iptables-nft does not make");
	/* mangle OUTPUT is iptables-nft's route chain; a regular chain is anyone's */
	bed_init(&b, NFPROTO_IPV4, "mangle");
	cgnat_drop(&b, 10, true);
	b.c[0].name = "OUTPUT";
	b.c[0].hook = NF_INET_LOCAL_OUT;
	b.c[0].priority = -150;
	b.c[0].type = "route";
	CHECK_OWNER(&b, CG_BACKEND_IPTABLES_NFT, "nothing only nft writes");
	b.c[0].base = false;
	b.c[0].priority = 77;
	CHECK_OWNER(&b, CG_BACKEND_IPTABLES_NFT, "nothing only nft writes");
	/* an xt expression outweighs all of those */
	bed_init(&b, NFPROTO_IPV4, "filter");
	r = cgnat_drop(&b, IFNAMSIZ, false);
	r = rule_add(&b);
	add_xt(&b, r, "MARK", true);
	b.c[0].priority = 10;
	CHECK_OWNER(&b, CG_BACKEND_IPTABLES_NFT, "xt-compat expressions");
}

static void test_unlistable(void)
{
	struct bed b;
	struct cg_rule *r;
	struct cg_expr *e;
	const char *what = NULL;
	struct nft_owner o;

	/* ct state: iptables-nft-save calls the table incompatible, even with
	 * iptables-nft's xt rules in it (nft warns, iptables-nft refuses) */
	bed_init(&b, NFPROTO_IPV4, "filter");
	r = rule_add(&b);
	add_xt(&b, r, "conntrack", false);
	add_counter(&b, r);
	add_verdict(&b, r, CG_VERDICT_ACCEPT);
	cgnat_drop(&b, 11, true);
	r = rule_add(&b);
	e = expr_add(&b, r, CG_EXPR_CT);
	e->ct.key = NFT_CT_STATE;
	e->ct.reg = NFT_REG_1;
	e->ct.dir = -1;
	add_counter(&b, r);
	add_verdict(&b, r, CG_VERDICT_ACCEPT);
	CHECK(nft_owner_rule_signs(r, NFPROTO_IPV4, &what) == NFT_OWNER_UNLISTABLE);
	CHECK_STR(what, "ct");
	nft_table_owner(&b.t, &o);
	CHECK(o.backend == CG_BACKEND_NFTABLES);
	CHECK_STR(o.why, "a rule iptables-nft cannot list");
	CHECK_STR(o.what, "ct");
	CHECK(o.rule == r);

	/* meta mark set (Tailscale's nftables mode): parsed, not listable */
	bed_init(&b, NFPROTO_IPV6, "filter");
	r = rule_add(&b);
	e = expr_add(&b, r, CG_EXPR_IMMEDIATE);
	e->immediate.dreg = NFT_REG_1;
	data_set(&b, r, &e->immediate.data, "\0\4\0\0", 4);
	e = expr_add(&b, r, CG_EXPR_META_SET);
	e->meta.key = NFT_META_MARK;
	e->meta.reg = NFT_REG_1;
	add_counter(&b, r);
	what = NULL;
	CHECK(nft_owner_rule_signs(r, NFPROTO_IPV6, &what) == NFT_OWNER_UNLISTABLE);
	CHECK_STR(what, "meta set");

	/* a log: only with a group (-j NFLOG) */
	bed_init(&b, NFPROTO_IPV4, "raw");
	b.c[0].name = "PREROUTING";
	b.c[0].hook = NF_INET_PRE_ROUTING;
	b.c[0].priority = -300;
	r = rule_add(&b);
	add_counter(&b, r);
	e = expr_add(&b, r, CG_EXPR_LOG);
	e->log.present = 1 | 1u << NFTA_LOG_GROUP;
	e->log.group = 3;
	CHECK(nft_owner_rule_signs(r, NFPROTO_IPV4, NULL) == 0);
	CHECK_OWNER(&b, CG_BACKEND_IPTABLES_NFT, "nothing only nft writes");
	e->log.present = 1 | 1u << NFTA_LOG_PREFIX;
	e->log.prefix = "x";
	what = NULL;
	CHECK(nft_owner_rule_signs(r, NFPROTO_IPV4, &what) == NFT_OWNER_UNLISTABLE);
	CHECK_STR(what, "log");
}

int main(void)
{
	test_names();
	test_ifnames();
	test_nft_signs();
	test_unlistable();
	return test_result();
}
