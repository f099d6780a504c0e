/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evaluator on hand-built rulesets: hook ordering, jump/goto/return,
 * policies, conntrack visibility, nat chains, three-valued matches. The
 * kernel-differential tests cover the same ground on random rulesets. */
#include <netinet/in.h> /* before the linux/ headers */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/sim-netfilter.h"
#include "../lib/test.h"

static struct cg_ruleset rs;
static struct cg_table *tb;

static struct cg_data data(const void *p, uint8_t len)
{
	return (struct cg_data){ .len = len, .bytes = arena_memdup(&rs.arena, p, len) };
}

static struct cg_data u32data(uint32_t v)
{
	return data(&v, 4);
}

static struct cg_data ifname(const char *name)
{
	char buf[IFNAMSIZ] = { 0 };
	memcpy(buf, name, strnlen(name, IFNAMSIZ - 1));
	return data(buf, IFNAMSIZ);
}

static struct cg_data ip4(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return data(&a, 4);
}

static struct cg_table *table(uint8_t family, const char *name, uint32_t n_chains)
{
	struct cg_table *t = &rs.tables[rs.n_tables++];
	t->backend = CG_BACKEND_NFTABLES;
	t->family = family;
	t->name = name;
	t->chains = arena_alloc(&rs.arena, n_chains * sizeof(*t->chains));
	return t;
}

static struct cg_chain *chain(struct cg_table *t, const char *name, const char *type, int hook,
			      int32_t prio, enum cg_verdict_code policy, uint32_t n_rules)
{
	struct cg_chain *c = &t->chains[t->n_chains++];
	c->table = t;
	c->name = name;
	c->base = hook >= 0;
	c->type = type;
	c->hook = hook >= 0 ? (uint32_t)hook : 0;
	c->priority = prio;
	c->policy = policy;
	c->rules = arena_alloc(&rs.arena, (n_rules ? n_rules : 1) * sizeof(*c->rules));
	return c;
}

static struct cg_rule *rule(struct cg_chain *c, uint32_t n, const struct cg_expr *exprs)
{
	struct cg_rule *r = &c->rules[c->n_rules++];
	r->chain = c;
	r->index = c->n_rules;
	r->handle = c->n_rules + 100;
	r->n_exprs = n;
	r->exprs = arena_memdup(&rs.arena, exprs, n * sizeof(*exprs));
	return r;
}

#define RULE(c, ...) rule((c), sizeof((struct cg_expr[]){ __VA_ARGS__ }) / sizeof(struct cg_expr), \
			  (struct cg_expr[]){ __VA_ARGS__ })

static struct cg_expr meta(uint32_t key) { return (struct cg_expr){ .type = CG_EXPR_META, .meta = { key, NFT_REG32_00 } }; }
static struct cg_expr cmp(uint32_t op, struct cg_data d) { return (struct cg_expr){ .type = CG_EXPR_CMP, .cmp = { NFT_REG32_00, op, d } }; }
static struct cg_expr saddr(void) { return (struct cg_expr){ .type = CG_EXPR_PAYLOAD, .payload = { NFT_REG32_00, NFT_PAYLOAD_NETWORK_HEADER, 12, 4 } }; }
static struct cg_expr ct_state(void) { return (struct cg_expr){ .type = CG_EXPR_CT, .ct = { NFT_CT_STATE, NFT_REG32_00, -1 } }; }
static struct cg_expr mask(struct cg_data m)
{
	uint32_t zero = 0;
	struct cg_bitwise_data *d = arena_alloc(&rs.arena, sizeof(*d));

	d->mask = m;
	d->xor = data(&zero, 4);
	return (struct cg_expr){ .type = CG_EXPR_BITWISE,
				 .bitwise = { .sreg = NFT_REG32_00, .dreg = NFT_REG32_00, .op = NFT_BITWISE_BOOL,
					      .len = m.len, .data = d } };
}
static struct cg_expr verdict(enum cg_verdict_code v, struct cg_chain *target)
{
	return (struct cg_expr){ .type = CG_EXPR_IMMEDIATE,
				 .immediate = { .dreg = NFT_REG_VERDICT,
						.verdict = { v, target ? target->name : NULL, target } } };
}
static struct cg_expr unknown(const char *name) { return (struct cg_expr){ .type = CG_EXPR_UNKNOWN, .unknown = { name } }; }

static void reset(void)
{
	arena_free(&rs.arena);
	memset(&rs, 0, sizeof(rs));
	rs.tables = arena_alloc(&rs.arena, 8 * sizeof(*rs.tables));
}

/* The DNS reply from the provider's resolver arriving on eth0. */
static struct cg_packet dns_reply(void)
{
	struct cg_packet p = { .nfproto = NFPROTO_IPV4, .l4proto = IPPROTO_UDP, .sport = 53, .dport = 40000 };
	addr_parse("100.100.2.136", &p.src);
	addr_parse("172.24.4.100", &p.dst);
	strcpy(p.iif.name, "eth0");
	p.iif.index = 2;
	p.ct.state = CG_CT_ESTABLISHED;
	p.ct.dir = 1;
	return p;
}

static enum sim_verdict run(uint32_t hook, struct cg_packet *p, const struct cg_rule **by)
{
	struct sim_index *idx;
	struct hook_result res;

	CHECK(sim_index_build(&rs, &idx) == 0);
	CHECK(evaluate_hook(idx, p, hook, NULL, &res) == 0);
	if (by)
		*by = res.decided_by;
	enum sim_verdict v = res.verdict;
	hook_result_free(&res);
	sim_index_free(idx);
	return v;
}

/* A fresh table with one input chain of policy `policy`. */
static struct cg_chain *field_chain(enum cg_verdict_code policy)
{
	reset();
	tb = table(NFPROTO_IPV4, "t", 1);
	return chain(tb, "in", "filter", NF_INET_LOCAL_IN, 0, policy, 1);
}

/* The DNS reply through the one-rule chain of field_chain(): a hand-built
 * packet (every field known) is decided; the same packet as a flow makes it
 * (cg_packet.unknown) gives `want`, and an uncertain verdict names `what`. */
static bool field_case(const struct cg_rule *r, enum sim_verdict want, const char *what)
{
	struct sim_index *idx;
	struct hook_result res;
	struct cg_packet pk = dns_reply();
	bool ok;

	(void)r;
	if (sim_index_build(&rs, &idx) < 0)
		return false;
	ok = evaluate_hook(idx, &pk, NF_INET_LOCAL_IN, NULL, &res) == 0 && res.verdict != SIM_UNCERTAIN;
	hook_result_free(&res);
	pk = dns_reply();
	pk.unknown = CG_PKT_U_UNDETERMINED;
	ok = ok && evaluate_hook(idx, &pk, NF_INET_LOCAL_IN, NULL, &res) == 0 && res.verdict == want &&
	     (!what || (res.unknown_what && strstr(res.unknown_what, what)));
	hook_result_free(&res);
	sim_index_free(idx);
	return ok;
}

/* Tailscale's ts-input: a jump from INPUT, the CGNAT drop on !tailscale0. */
static struct cg_rule *tailscale(struct cg_chain **ts_out, uint32_t extra)
{
	tb = table(NFPROTO_IPV4, "filter", 4);
	struct cg_chain *input = chain(tb, "INPUT", "filter", NF_INET_LOCAL_IN, 0, CG_VERDICT_ACCEPT, 4);
	struct cg_chain *ts = chain(tb, "ts-input", NULL, -1, 0, CG_VERDICT_NONE, 4 + extra);
	RULE(input, verdict(CG_VERDICT_JUMP, ts));
	RULE(ts, meta(NFT_META_IIFNAME), cmp(NFT_CMP_EQ, ifname("tailscale0")), verdict(CG_VERDICT_ACCEPT, NULL));
	*ts_out = ts;
	return NULL;
}

static struct cg_rule *cgnat_drop(struct cg_chain *ts)
{
	return RULE(ts, meta(NFT_META_IIFNAME), cmp(NFT_CMP_NEQ, ifname("tailscale0")),
		    saddr(), mask(ip4("255.192.0.0")), cmp(NFT_CMP_EQ, ip4("100.64.0.0")),
		    verdict(CG_VERDICT_DROP, NULL));
}

int main(void)
{
	struct cg_chain *ts;
	const struct cg_rule *by, *drop;
	struct cg_packet p;

	/* 1. the seed case: the reply is dropped by the CGNAT rule */
	reset();
	tailscale(&ts, 0);
	drop = cgnat_drop(ts);
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_DROP && by == drop);
	/* the same packet on tailscale0 is accepted by ts-input's first rule */
	p = dns_reply();
	strcpy(p.iif.name, "tailscale0");
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_ACCEPT && by == &ts->rules[0]);
	/* from outside the range: falls through to the policy */
	p = dns_reply();
	addr_parse("8.8.8.8", &p.src);
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_ACCEPT && by == NULL);
	/* OUTPUT is not affected (no chain at that hook) */
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_OUT, &p, &by) == SIM_ACCEPT);

	/* 2. an exception before the drop: established replies from the
	 * resolver on eth0 return to INPUT, whose policy accepts */
	reset();
	tailscale(&ts, 1);
	uint32_t est = CG_CT_ESTABLISHED;
	RULE(ts, meta(NFT_META_IIFNAME), cmp(NFT_CMP_EQ, ifname("eth0")), saddr(),
	     cmp(NFT_CMP_EQ, ip4("100.100.2.136")), ct_state(), mask(data(&est, 4)),
	     cmp(NFT_CMP_NEQ, u32data(0)), verdict(CG_VERDICT_RETURN, NULL));
	drop = cgnat_drop(ts);
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_ACCEPT && by == NULL);
	/* a NEW packet from the same address is still dropped */
	p = dns_reply();
	p.ct.state = CG_CT_NEW;
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_DROP && by == drop);
	/* and so is another address of the range */
	p = dns_reply();
	addr_parse("100.100.2.138", &p.src);
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_DROP && by == drop);

	/* 3. unknown matches: one that would accept before the drop makes
	 * the verdict uncertain and names the rule ... */
	reset();
	tailscale(&ts, 1);
	struct cg_rule *unk = RULE(ts, unknown("osf"), verdict(CG_VERDICT_ACCEPT, NULL));
	cgnat_drop(ts);
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_UNCERTAIN && by == unk);
	/* ... one without a verdict (a log rate limit, say) does not */
	reset();
	tailscale(&ts, 1);
	RULE(ts, (struct cg_expr){ .type = CG_EXPR_LIMIT }, (struct cg_expr){ .type = CG_EXPR_LOG });
	drop = cgnat_drop(ts);
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_DROP && by == drop);
	/* ... nor one whose both outcomes drop */
	reset();
	tailscale(&ts, 1);
	RULE(ts, unknown("osf"), verdict(CG_VERDICT_DROP, NULL));
	cgnat_drop(ts);
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_IN, &p, NULL) == SIM_DROP);

	/* 4. every base chain runs: an accept in another table does not
	 * override a drop; order is by priority */
	reset();
	tailscale(&ts, 0);
	drop = cgnat_drop(ts);
	struct cg_table *other = table(NFPROTO_INET, "mine", 1);
	struct cg_chain *early = chain(other, "input", "filter", NF_INET_LOCAL_IN, -10, CG_VERDICT_ACCEPT, 1);
	RULE(early, verdict(CG_VERDICT_ACCEPT, NULL));
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_DROP && by == drop);

	/* 5. jump returns, goto does not; a return in a base chain means policy */
	reset();
	tb = table(NFPROTO_IPV4, "t", 3);
	struct cg_chain *in = chain(tb, "in", "filter", NF_INET_LOCAL_IN, 0, CG_VERDICT_ACCEPT, 2);
	struct cg_chain *empty = chain(tb, "empty", NULL, -1, 0, CG_VERDICT_NONE, 0);
	RULE(in, verdict(CG_VERDICT_JUMP, empty));
	drop = RULE(in, verdict(CG_VERDICT_DROP, NULL));
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_DROP && by == drop);
	in->rules[0].exprs[0].immediate.verdict.code = CG_VERDICT_GOTO;
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_ACCEPT && by == NULL);
	/* a goto'd chain that ends returns to nobody: the base chain's policy */
	in->policy = CG_VERDICT_DROP;
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_DROP && by == NULL);
	in->rules[0].exprs[0].immediate.verdict.code = CG_VERDICT_RETURN;
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_DROP && by == NULL);
	/* a jump to a chain that does not exist is uncertain, not a pass */
	in->rules[0].exprs[0].immediate.verdict = (struct cg_verdict){ CG_VERDICT_JUMP, "gone", NULL };
	p = dns_reply();
	CHECK(run(NF_INET_LOCAL_IN, &p, &by) == SIM_UNCERTAIN && by == &in->rules[0]);

	/* 6. before conntrack (priority < -200) a reply has no ct: state invalid */
	reset();
	tb = table(NFPROTO_IPV4, "raw", 1);
	struct cg_chain *raw = chain(tb, "pre", "filter", NF_INET_PRE_ROUTING, -300, CG_VERDICT_ACCEPT, 1);
	uint32_t inv = CG_CT_INVALID;
	drop = RULE(raw, ct_state(), mask(data(&inv, 4)), cmp(NFT_CMP_NEQ, u32data(0)), verdict(CG_VERDICT_DROP, NULL));
	p = dns_reply();
	CHECK(run(NF_INET_PRE_ROUTING, &p, &by) == SIM_DROP && by == drop);
	raw->priority = -150;
	p = dns_reply();
	CHECK(run(NF_INET_PRE_ROUTING, &p, &by) == SIM_ACCEPT);

	/* 7. nat chains only see the first packet of a connection */
	reset();
	tb = table(NFPROTO_IPV4, "nat", 1);
	struct cg_chain *nat = chain(tb, "pre", "nat", NF_INET_PRE_ROUTING, -100, CG_VERDICT_ACCEPT, 1);
	drop = RULE(nat, verdict(CG_VERDICT_DROP, NULL));
	p = dns_reply();
	CHECK(run(NF_INET_PRE_ROUTING, &p, NULL) == SIM_ACCEPT);
	p = dns_reply();
	p.ct.state = CG_CT_NEW;
	CHECK(run(NF_INET_PRE_ROUTING, &p, &by) == SIM_DROP && by == drop);

	/* 8. marks set by one rule are seen by the next */
	reset();
	tb = table(NFPROTO_IPV4, "mangle", 1);
	struct cg_chain *out = chain(tb, "out", "route", NF_INET_LOCAL_OUT, -150, CG_VERDICT_ACCEPT, 2);
	RULE(out, (struct cg_expr){ .type = CG_EXPR_IMMEDIATE, .immediate = { .dreg = NFT_REG32_01, .data = u32data(0x80000) } },
	     (struct cg_expr){ .type = CG_EXPR_META_SET, .meta = { NFT_META_MARK, NFT_REG32_01 } });
	drop = RULE(out, meta(NFT_META_MARK), cmp(NFT_CMP_EQ, u32data(0x80000)), verdict(CG_VERDICT_DROP, NULL));
	p = dns_reply();
	p.iif = (struct cg_iface){ 0 };
	CHECK(run(NF_INET_LOCAL_OUT, &p, &by) == SIM_DROP && by == drop && p.mark == 0x80000);

	/* 9. iifname on OUTPUT is "" (no input device): != "tailscale0" holds */
	reset();
	tb = table(NFPROTO_IPV4, "f", 1);
	out = chain(tb, "out", "filter", NF_INET_LOCAL_OUT, 0, CG_VERDICT_ACCEPT, 1);
	drop = RULE(out, meta(NFT_META_IIFNAME), cmp(NFT_CMP_NEQ, ifname("tailscale0")), verdict(CG_VERDICT_DROP, NULL));
	p = dns_reply();
	p.iif = (struct cg_iface){ 0 };
	CHECK(run(NF_INET_LOCAL_OUT, &p, &by) == SIM_DROP && by == drop);

	/* 10. a variant (what an event leaves): the collected chains' rules in
	 * another order, a chain's rules left out, a base chain added; the
	 * collected ruleset itself is untouched */
	{
		struct sim_index *idx;
		struct hook_result res;
		struct cg_chain *input, *user_ts;
		const struct cg_rule *accept, *jump, *exc;
		uint32_t est2 = CG_CT_ESTABLISHED;

		reset();
		tb = table(NFPROTO_IPV4, "filter", 2);
		input = chain(tb, "INPUT", "filter", NF_INET_LOCAL_IN, 0, CG_VERDICT_ACCEPT, 2);
		user_ts = chain(tb, "ts-input", NULL, -1, 0, CG_VERDICT_NONE, 2);
		accept = RULE(input, ct_state(), mask(data(&est2, 4)), cmp(NFT_CMP_NEQ, u32data(0)),
			      verdict(CG_VERDICT_ACCEPT, NULL));
		jump = RULE(input, verdict(CG_VERDICT_JUMP, user_ts));
		exc = RULE(user_ts, saddr(), cmp(NFT_CMP_EQ, ip4("100.100.2.136")), verdict(CG_VERDICT_RETURN, NULL));
		drop = cgnat_drop(user_ts);
		CHECK(sim_index_build(&rs, &idx) == 0);
		/* today: the accept above the jump decides */
		p = dns_reply();
		CHECK(evaluate_hook_variant(idx, NULL, &p, NF_INET_LOCAL_IN, NULL, &res) == 0);
		CHECK(res.verdict == SIM_ACCEPT && res.decided_by == accept);
		hook_result_free(&res);
		/* the jump moved to the top: the exception in ts-input returns */
		const struct cg_rule *moved[] = { jump, accept };
		struct sim_chain_view views[2] = { { input, moved, 2 } };
		struct sim_variant v = { .views = views, .n_views = 1 };
		p = dns_reply();
		CHECK(evaluate_hook_variant(idx, &v, &p, NF_INET_LOCAL_IN, NULL, &res) == 0);
		CHECK(res.verdict == SIM_ACCEPT && res.decided_by == accept);
		hook_result_free(&res);
		/* and ts-input without the exception: the CGNAT drop decides */
		const struct cg_rule *own[] = { drop };
		views[1] = (struct sim_chain_view){ user_ts, own, 1 };
		v.n_views = 2;
		p = dns_reply();
		CHECK(evaluate_hook_variant(idx, &v, &p, NF_INET_LOCAL_IN, NULL, &res) == 0);
		CHECK(res.verdict == SIM_DROP && res.decided_by == drop);
		hook_result_free(&res);
		/* the collected ruleset is as it was */
		CHECK(input->rules[0].index == 1 && input->n_rules == 2 && user_ts->n_rules == 2 && exc->index == 1);
		p = dns_reply();
		CHECK(evaluate_hook(idx, &p, NF_INET_LOCAL_IN, NULL, &res) == 0);
		CHECK(res.verdict == SIM_ACCEPT && res.decided_by == accept);
		hook_result_free(&res);
		/* a base chain the event creates, in another table, with a jump
		 * that does not exist yet: it runs too, and its drop is final */
		struct cg_table *t2 = table(NFPROTO_IPV4, "filter2", 1);
		struct cg_chain added = { .table = t2, .name = "INPUT", .type = "filter", .hook = NF_INET_LOCAL_IN,
					  .priority = 10, .policy = CG_VERDICT_ACCEPT, .base = true };
		struct cg_expr jx = verdict(CG_VERDICT_JUMP, user_ts);
		struct cg_rule synth = { .chain = &added, .index = 1, .n_exprs = 1, .exprs = &jx };
		const struct cg_rule *added_rules[] = { &synth };
		const struct cg_chain *extra[] = { &added };
		struct sim_chain_view only[2] = { { &added, added_rules, 1 }, { user_ts, own, 1 } };
		struct sim_variant v2 = { .views = only, .n_views = 2, .extra_base = extra, .n_extra_base = 1 };
		p = dns_reply();
		CHECK(evaluate_hook_variant(idx, &v2, &p, NF_INET_LOCAL_IN, NULL, &res) == 0);
		CHECK(res.verdict == SIM_DROP && res.decided_by == drop);
		hook_result_free(&res);
		/* ... and not at another hook */
		p = dns_reply();
		CHECK(evaluate_hook_variant(idx, &v2, &p, NF_INET_FORWARD, NULL, &res) == 0);
		CHECK(res.verdict == SIM_ACCEPT);
		hook_result_free(&res);
		sim_index_free(idx);
	}

	/* Fields the flow does not determine: a load of them is unknown, bit
	 * by bit (the fragment offset of a reassembled packet is known, its
	 * DF bit and TTL are not), and the uncertainty names the field. */
	{
		uint8_t fo[2] = { 0x1f, 0xff }, df[2] = { 0x40, 0x00 }, zero2[2] = { 0 }, ttl = 64;
		uint32_t len = 60;
		struct cg_expr frag = { .type = CG_EXPR_PAYLOAD,
					.payload = { NFT_REG32_00, NFT_PAYLOAD_NETWORK_HEADER, 6, 2 } };
		struct cg_expr ttl_load = { .type = CG_EXPR_PAYLOAD,
					    .payload = { NFT_REG32_00, NFT_PAYLOAD_NETWORK_HEADER, 8, 1 } };

		struct cg_chain *c;

		/* the offset decides: no fragment, no drop (the chain first:
		 * it resets the arena the data lives in) */
		c = field_chain(CG_VERDICT_ACCEPT);
		CHECK(field_case(RULE(c, frag, mask(data(fo, 2)), cmp(NFT_CMP_NEQ, data(zero2, 2)),
				      verdict(CG_VERDICT_DROP, NULL)), SIM_ACCEPT, NULL));
		/* DF does not (a hand-built packet knows it, a flow's does not) */
		c = field_chain(CG_VERDICT_DROP);
		CHECK(field_case(RULE(c, frag, mask(data(df, 2)), cmp(NFT_CMP_EQ, data(df, 2)),
				      verdict(CG_VERDICT_ACCEPT, NULL)), SIM_UNCERTAIN, "frag-off"));
		c = field_chain(CG_VERDICT_DROP);
		CHECK(field_case(RULE(c, ttl_load, cmp(NFT_CMP_EQ, data(&ttl, 1)), verdict(CG_VERDICT_ACCEPT, NULL)),
				 SIM_UNCERTAIN, "ip ttl"));
		c = field_chain(CG_VERDICT_DROP);
		CHECK(field_case(RULE(c, meta(NFT_META_LEN), cmp(NFT_CMP_EQ, u32data(len)), verdict(CG_VERDICT_ACCEPT, NULL)),
				 SIM_UNCERTAIN, "meta length"));
	}

	reset();
	arena_free(&rs.arena);
	return test_result();
}
