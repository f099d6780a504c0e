/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The netfilter evaluator: one packet through the base chains of one hook.
 *
 * Rules are nf_tables expression lists (legacy rules are compiled into the
 * same form by the collector), run on a register file like nft_do_chain()
 * does (the expressions: nf-expr.c). Matches the simulator cannot evaluate
 * are unknown; at such a point the evaluation forks (match true / match
 * false) and the results are merged: when both branches end in the same
 * verdict with the same packet, the verdict is certain, otherwise it is
 * uncertain and names the rule. This file walks the chains (jumps, gotos,
 * returns, policies, the forks) and the hook's base chains in order. */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <linux/netfilter.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/sim-netfilter.h"
#include "nf-internal.h"

#define MAX_FORKS 64            /* per base chain; beyond that: uncertain */
#define MAX_TRACE_STEPS 4096

/* ---- trace ------------------------------------------------------------ */

static void trace_add(struct sim_trace *t, const struct sim_step *s)
{
	if (t->n >= MAX_TRACE_STEPS) {
		t->truncated = true;
		return;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->steps = xreallocarray(t->steps, t->cap, sizeof(*t->steps));
	}
	t->steps[t->n++] = *s;
}

static void trace_copy(struct sim_trace *dst, const struct sim_trace *src)
{
	*dst = *src;
	if (src->n) {
		dst->steps = xreallocarray(NULL, src->cap, sizeof(*src->steps));
		memcpy(dst->steps, src->steps, src->n * sizeof(*src->steps));
	} else {
		dst->steps = NULL;
		dst->cap = 0;
	}
}

static void trace_free(struct sim_trace *t)
{
	free(t->steps);
	*t = (struct sim_trace){ 0 };
}

/* ---- chains ----------------------------------------------------------- */

/* A chain's rules as the variant (if any) has them. */
static const struct sim_chain_view *chain_view(const struct ctx *c, const struct cg_chain *ch)
{
	if (!c->variant)
		return NULL;
	for (size_t i = 0; i < c->variant->n_views; i++)
		if (c->variant->views[i].chain == ch)
			return &c->variant->views[i];
	return NULL;
}

static uint32_t chain_len(const struct ctx *c, const struct cg_chain *ch)
{
	const struct sim_chain_view *v = chain_view(c, ch);

	return v ? v->n_rules : ch->n_rules;
}

static const struct cg_rule *chain_rule(const struct ctx *c, const struct cg_chain *ch, uint32_t i)
{
	const struct sim_chain_view *v = chain_view(c, ch);

	return v ? v->rules[i] : &ch->rules[i];
}

static void outcome_uncertain(struct chain_outcome *o, const struct cg_rule *rule, const char *what)
{
	*o = (struct chain_outcome){ .verdict = SIM_UNCERTAIN, .decided_by = rule, .unknown_what = what };
}

static void add_step(struct exec *x, enum sim_step_kind kind, const struct cg_rule *rule,
		     enum cg_verdict_code v, bool unknown, const char *what)
{
	struct sim_step s = {
		.kind = kind, .chain = rule ? rule->chain : x->chain, .rule = rule,
		.verdict = v, .unknown = unknown, .unknown_what = what,
	};
	trace_add(&x->trace, &s);
}

static bool same_packet_effects(const struct exec *a, const struct exec *b,
				const struct chain_outcome *oa, const struct chain_outcome *ob)
{
	return a->pkt.mark == b->pkt.mark && a->pkt.ct.mark == b->pkt.ct.mark &&
	       oa->dnat == ob->dnat && oa->snat == ob->snat &&
	       addr_equal(&oa->nat_addr, &ob->nat_addr) && oa->nat_port == ob->nat_port &&
	       a->untracked == b->untracked;
}

static void run_chain(struct exec *x, struct ctx *c, const struct cg_rule *resume_rule,
		      uint32_t resume_expr, struct regs *resume_regs, struct chain_outcome *out);

/* Forks at an unknown match: one branch assumes it true, the other false. */
static void fork_unknown(struct exec *x, struct ctx *c, const struct cg_rule *rule,
			 uint32_t expr, struct regs *r, const char *what,
			 struct chain_outcome *pending, struct chain_outcome *out)
{
	add_step(x, SIM_STEP_RULE, rule, CG_VERDICT_NONE, true, what);
	if (c->forks_left <= 0) {
		outcome_uncertain(out, rule, what);
		return;
	}
	c->forks_left--;

	struct exec *t = xmalloc(sizeof(*t));
	struct chain_outcome ot = *pending, of;
	*t = *x;
	trace_copy(&t->trace, &x->trace);
	run_chain(t, c, rule, expr + 1, r, &ot);

	/* false branch: the rule does not match; go on with the next one */
	x->rule++;
	of = *pending;
	run_chain(x, c, NULL, 0, NULL, &of);

	if (ot.verdict != SIM_UNCERTAIN && ot.verdict == of.verdict && same_packet_effects(t, x, &ot, &of)) {
		*out = of;
		/* when the branches differ in who decided, the unknown rule may
		 * have: keep the false branch's rule, it is the one that decides
		 * when the match does not apply */
	} else {
		outcome_uncertain(out, rule, what);
		/* prefer the deeper explanation when one branch was uncertain */
		if (ot.verdict == SIM_UNCERTAIN && ot.decided_by && ot.decided_by != rule)
			*out = ot;
		else if (of.verdict == SIM_UNCERTAIN && of.decided_by && of.decided_by != rule)
			*out = of;
	}
	trace_free(&t->trace);
	free(t);
}

/* Walks the current base chain from x->chain/x->rule (or resumes inside
 * resume_rule at expression resume_expr with its registers) to its end. */
static void run_chain(struct exec *x, struct ctx *c, const struct cg_rule *resume_rule,
		      uint32_t resume_expr, struct regs *resume_regs, struct chain_outcome *out)
{
	struct chain_outcome nat = *out;

	for (;;) {
		const struct cg_chain *ch = x->chain;

		if (!resume_rule && x->rule >= chain_len(c, ch)) {
			if (x->depth == 0) {
				/* nothing to return to (the end of the base chain, or
				 * of a chain reached by goto from it): the base
				 * chain's policy */
				const struct cg_chain *b = x->base;
				enum cg_verdict_code pol = b->policy == CG_VERDICT_DROP ? CG_VERDICT_DROP : CG_VERDICT_ACCEPT;
				x->chain = b;
				add_step(x, SIM_STEP_POLICY, NULL, pol, false, NULL);
				*out = nat;
				out->verdict = pol == CG_VERDICT_DROP ? SIM_DROP : SIM_ACCEPT;
				out->decided_by = NULL;
				out->policy_chain = b;
				return;
			}
			add_step(x, SIM_STEP_RETURN, NULL, CG_VERDICT_RETURN, false, NULL);
			x->depth--;
			x->chain = x->stack[x->depth].chain;
			x->rule = x->stack[x->depth].next_rule;
			continue;
		}

		const struct cg_rule *rule = resume_rule ? resume_rule : chain_rule(c, ch, x->rule);
		struct regs r;
		uint32_t from = 0, unknown_at = 0;
		const char *what = NULL;
		bool reject = false;

		if (resume_rule) {
			r = *resume_regs;
			from = resume_expr;
			resume_rule = NULL;
		} else {
			memset(&r, 0, sizeof(r));
		}

		enum step st = nf_eval_rule(x, rule, from, &r, &nat, &reject, c, &unknown_at, &what);
		if (st == STEP_UNKNOWN) {
			fork_unknown(x, c, rule, unknown_at, &r, what, &nat, out);
			return;
		}
		if (st == STEP_FAIL) {
			add_step(x, SIM_STEP_RULE, rule, CG_VERDICT_NONE, true, what);
			outcome_uncertain(out, rule, what);
			return;
		}
		if (st == STEP_BREAK || !r.verdict_set) {
			if (st == STEP_NEXT)
				add_step(x, SIM_STEP_RULE, rule, CG_VERDICT_NONE, false, NULL);
			x->rule++;
			continue;
		}

		enum cg_verdict_code v = r.verdict.code;
		add_step(x, SIM_STEP_RULE, rule, v, false, NULL);
		switch (v) {
		case CG_VERDICT_ACCEPT:
			*out = nat;
			out->verdict = SIM_ACCEPT;
			out->decided_by = rule;
			return;
		case CG_VERDICT_DROP:
			*out = nat;
			out->verdict = SIM_DROP;
			out->decided_by = rule;
			out->reject = reject;
			return;
		case CG_VERDICT_CONTINUE:
		case CG_VERDICT_BREAK:
		case CG_VERDICT_NONE:
			x->rule++;
			continue;
		case CG_VERDICT_JUMP:
		case CG_VERDICT_GOTO:
			if (!r.verdict.chain) {
				outcome_uncertain(out, rule, "jump to a chain that was not found");
				return;
			}
			/* a chain of a very large table, read when first reached */
			if (chain_read(r.verdict.chain, &what) < 0) {
				outcome_uncertain(out, rule, what);
				return;
			}
			if (v == CG_VERDICT_JUMP) {
				if (x->depth >= MAX_JUMP_DEPTH) {
					outcome_uncertain(out, rule, "jump stack deeper than the kernel allows");
					return;
				}
				x->stack[x->depth++] = (struct frame){ ch, x->rule + 1 };
			}
			x->chain = r.verdict.chain;
			x->rule = 0;
			continue;
		case CG_VERDICT_RETURN:
			if (x->depth == 0) {
				/* return with nothing on the stack: the policy decides */
				x->chain = x->base;
				x->rule = chain_len(c, x->base);
				continue;
			}
			x->depth--;
			x->chain = x->stack[x->depth].chain;
			x->rule = x->stack[x->depth].next_rule;
			continue;
		case CG_VERDICT_QUEUE:
		case CG_VERDICT_STOLEN:
		default:
			outcome_uncertain(out, rule, "packet queued to user space");
			return;
		}
	}
}

/* ---- hooks ------------------------------------------------------------ */

/* Applies the packet's pending NAT steps of `hook` whose priority is below
 * `before` (all: every one left of the hook). */
static void nat_steps_apply(struct exec *x, uint32_t hook, int32_t before, bool all)
{
	struct cg_packet *p = &x->pkt;
	bool changed = false;

	for (uint8_t i = 0; i < p->n_nat_steps;) {
		const struct cg_nat_step *s = &p->nat_steps[i];

		if (s->hook != hook || (!all && s->priority >= before)) {
			i++;
			continue;
		}
		if (s->src) {
			p->src = s->addr;
			if (s->port)
				p->sport = s->port;
		} else {
			p->dst = s->addr;
			if (s->port)
				p->dport = s->port;
		}
		changed = true;
		memmove(&p->nat_steps[i], &p->nat_steps[i + 1], (size_t)(p->n_nat_steps - i - 1) * sizeof(*s));
		p->n_nat_steps--;
	}
	if (changed)
		pkt_headers_build(p, &x->hdr);
}

static bool chain_runs(const struct cg_chain *ch, const struct exec *x)
{
	/* nat chains see only the first packet of a connection */
	if (ch->type && strcmp(ch->type, "nat") == 0)
		return nf_ct_present(x) && (x->pkt.ct.state & CG_CT_NEW);
	return true;
}

/* Ingress runs in the device's receive path, before the IP stack and
 * conntrack, whatever its priority. */
static bool chain_is_ingress(const struct cg_chain *ch)
{
	return ch->table->family == NFPROTO_NETDEV ||
	       (ch->table->family == NFPROTO_INET && ch->hook == NF_INET_INGRESS);
}

static void apply_nat(struct exec *x, const struct chain_outcome *o)
{
	if (o->dnat && o->nat_addr.family) {
		x->pkt.dst = o->nat_addr;
		if (o->nat_port)
			x->pkt.dport = o->nat_port;
	} else if (o->snat && o->nat_addr.family) {
		x->pkt.src = o->nat_addr;
		if (o->nat_port)
			x->pkt.sport = o->nat_port;
	}
	pkt_headers_build(&x->pkt, &x->hdr);
}

int evaluate_hook(const struct sim_index *idx, struct cg_packet *pkt, uint32_t hook,
		  const struct cg_addr_env *env, struct hook_result *res)
{
	return evaluate_hook_variant(idx, NULL, pkt, hook, env, res);
}

int evaluate_hook_variant(const struct sim_index *idx, const struct sim_variant *v, struct cg_packet *pkt,
			  uint32_t hook, const struct cg_addr_env *env, struct hook_result *res)
{
	_cleanup_free_ const struct cg_chain **chains = NULL;
	size_t n;
	struct exec *x;
	struct ctx c = { .env = env, .variant = v, .hook = hook };
	bool uncertain = false;

	*res = (struct hook_result){ .verdict = SIM_ACCEPT };
	n = sim_index_chains_variant(idx, v, pkt->nfproto, hook, pkt->iif.name, &chains);
	x = xcalloc(1, sizeof(*x));
	x->pkt = *pkt;
	pkt_headers_build(&x->pkt, &x->hdr);

	for (size_t i = 0; i < n; i++) {
		const struct cg_chain *ch = chains[i];
		struct chain_outcome o = { 0 };

		/* conntrack's NAT of a later packet, at its hook's priority */
		nat_steps_apply(x, hook, ch->priority, false);
		x->ct_visible = !chain_is_ingress(ch) &&
				!((hook == NF_INET_PRE_ROUTING || hook == NF_INET_LOCAL_OUT) &&
				  ch->priority < SIM_PRIO_CONNTRACK);
		if (!chain_runs(ch, x))
			continue;
		uint32_t mark_before = x->pkt.mark;
		struct cg_addr src_before = x->pkt.src, dst_before = x->pkt.dst;
		x->base = ch;
		x->chain = ch;
		x->rule = 0;
		x->depth = 0;
		c.forks_left = MAX_FORKS;
		run_chain(x, &c, NULL, 0, NULL, &o);
		/* iptable_mangle's ipt_mangle_out() and nft_chain_route's hooks:
		 * a packet the chain let go on with another mark or address is
		 * routed again, with the packet as the chain left it */
		if (hook == NF_INET_LOCAL_OUT && ch->type && strcmp(ch->type, "route") == 0 &&
		    o.verdict != SIM_DROP &&
		    (x->pkt.mark != mark_before || !addr_equal(&x->pkt.src, &src_before) ||
		     !addr_equal(&x->pkt.dst, &dst_before))) {
			res->reroute = true;
			res->reroute_mark = x->pkt.mark;
			res->reroute_src = x->pkt.src;
			res->reroute_dst = x->pkt.dst;
		}

		if (o.dnat || o.snat) {
			res->dnat |= o.dnat;
			res->snat |= o.snat;
			res->nat_addr = o.nat_addr;
			res->nat_port = o.nat_port;
			apply_nat(x, &o);
			/* nf_nat_ipv4_local_fn(), nf_nat_ipv6_local_fn(): a
			 * packet the host sends whose destination the nat
			 * chain changed is routed again */
			if (hook == NF_INET_LOCAL_OUT && o.dnat && !addr_equal(&x->pkt.dst, &dst_before)) {
				res->reroute = true;
				res->reroute_mark = x->pkt.mark;
				res->reroute_src = x->pkt.src;
				res->reroute_dst = x->pkt.dst;
			}
		}
		if (o.verdict == SIM_DROP) {
			/* a drop anywhere is final, even after an uncertain chain */
			res->verdict = SIM_DROP;
			res->decided_by = o.decided_by;
			res->policy_chain = o.policy_chain;
			res->reject = o.reject;
			res->unknown_what = NULL;
			uncertain = false;
			break;
		}
		if (o.verdict == SIM_UNCERTAIN) {
			if (!uncertain) {
				res->decided_by = o.decided_by;
				res->unknown_what = o.unknown_what;
				res->policy_chain = NULL;
			}
			uncertain = true;
			continue;
		}
		if (!uncertain) {
			res->decided_by = o.decided_by;
			res->policy_chain = o.policy_chain;
		}
	}
	if (uncertain)
		res->verdict = SIM_UNCERTAIN;
	if (res->verdict != SIM_DROP)
		nat_steps_apply(x, hook, 0, true);
	res->trace = x->trace;
	*pkt = x->pkt;
	free(x);
	return 0;
}

int evaluate_chain(const struct cg_chain *ch, struct cg_packet *pkt, uint32_t hook,
		   const struct cg_addr_env *env, struct hook_result *res)
{
	return evaluate_chain_from(ch, 0, pkt, hook, env, res);
}

int evaluate_chain_from(const struct cg_chain *ch, uint32_t first, struct cg_packet *pkt, uint32_t hook,
			const struct cg_addr_env *env, struct hook_result *res)
{
	struct ctx c = { .env = env, .hook = hook, .forks_left = MAX_FORKS };
	struct chain_outcome o = { 0 };
	const char *why = NULL;
	struct exec *x;

	if (chain_read(ch, &why) < 0) {
		*res = (struct hook_result){ .verdict = SIM_UNCERTAIN, .unknown_what = why };
		return 0;
	}
	x = xcalloc(1, sizeof(*x));
	*res = (struct hook_result){ .verdict = SIM_ACCEPT };
	x->pkt = *pkt;
	pkt_headers_build(&x->pkt, &x->hdr);
	x->ct_visible = !(ch->base && (hook == NF_INET_PRE_ROUTING || hook == NF_INET_LOCAL_OUT) &&
			  ch->priority < SIM_PRIO_CONNTRACK);
	x->base = x->chain = ch;
	x->rule = first;
	run_chain(x, &c, NULL, 0, NULL, &o);
	res->verdict = o.verdict;
	res->decided_by = o.decided_by;
	res->policy_chain = o.policy_chain;
	res->reject = o.reject;
	res->unknown_what = o.unknown_what;
	res->trace = x->trace;
	*pkt = x->pkt;
	free(x);
	return 0;
}

void hook_result_free(struct hook_result *res)
{
	trace_free(&res->trace);
}

const char *sim_verdict_to_string(enum sim_verdict v)
{
	switch (v) {
	case SIM_ACCEPT: return "accept";
	case SIM_DROP: return "drop";
	case SIM_UNCERTAIN: return "uncertain";
	}
	return "?";
}
