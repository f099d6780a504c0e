/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the netfilter simulator's files; not an interface. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/packet.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/sim-netfilter.h"

/* The packet's headers as bytes, so payload expressions load exactly what the
 * kernel would: network header then transport header. Beside each byte, the
 * bits of it that the flow determines (the rest is a value of ours). */
struct pkt_headers {
	uint8_t nh[40];
	uint8_t th[20];
	uint8_t nh_known[40];
	uint8_t th_known[20];
	uint32_t nh_len, th_len;
};

struct sim_index;

void pkt_headers_build(const struct cg_packet *pkt, struct pkt_headers *h);
/* The name of the header field at offset of base (NFT_PAYLOAD_*), to say
 * which field a match could not know ("ip ttl"). */
const char *pkt_field_name(const struct cg_packet *pkt, uint32_t base, uint32_t offset);

/* The base chains a packet meets at a hook, in order: ingress chains (netdev
 * and inet families) on dev first when hook is NF_INET_PRE_ROUTING, then the
 * family's and inet's chains by priority. *out is allocated; free() it. */
size_t sim_index_chains(const struct sim_index *idx, uint8_t nfproto, uint32_t hook,
			const char *dev, const struct cg_chain ***out);
/* The same with a variant's extra base chains merged in priority order. */
size_t sim_index_chains_variant(const struct sim_index *idx, const struct sim_variant *v, uint8_t nfproto,
				uint32_t hook, const char *dev, const struct cg_chain ***out);

/* ---- the evaluation's state (nf-eval.c walks chains, nf-expr.c runs the
 * expressions of one rule) ---- */

#define REG32_SLOTS 20          /* verdict (4 slots) + 16 32-bit registers */
#define MAX_JUMP_DEPTH 64

struct regs {
	uint32_t data[REG32_SLOTS];
	/* per byte of data: the bits that hold a known value */
	uint8_t known[REG32_SLOTS * 4];
	/* per slot with unknown bits: what loaded them ("ip ttl") */
	const char *why[REG32_SLOTS];
	struct cg_verdict verdict;
	bool verdict_set;
};

struct frame {
	const struct cg_chain *chain;
	uint32_t next_rule;
};

/* Everything one branch of the evaluation owns; copied at a fork. */
struct exec {
	struct cg_packet pkt;
	struct pkt_headers hdr;
	bool ct_visible;            /* the chain runs after conntrack */
	bool untracked;             /* notrack ran before conntrack */
	struct frame stack[MAX_JUMP_DEPTH];
	uint32_t depth;
	const struct cg_chain *base;  /* the base chain being traversed */
	const struct cg_chain *chain;
	uint32_t rule;
	struct sim_trace trace;
};

struct ctx {
	const struct cg_addr_env *env;
	const struct sim_variant *variant;  /* NULL: the collected ruleset */
	uint32_t hook;
	int forks_left;
};

/* How one base chain ended. */
struct chain_outcome {
	enum sim_verdict verdict;
	const struct cg_rule *decided_by;
	const struct cg_chain *policy_chain;
	bool reject;
	const char *unknown_what;
	bool dnat, snat;
	struct cg_addr nat_addr;
	uint16_t nat_port;
};

/* The result of one expression on the rule's progress. */
enum step {
	STEP_NEXT,      /* go on with the next expression */
	STEP_BREAK,     /* the rule does not match */
	STEP_UNKNOWN,   /* a match whose outcome is unknown: fork */
	STEP_FAIL,      /* an effect we cannot model: the outcome is uncertain */
};

/* Runs rule from expression `from` on registers r (nf-expr.c). NAT
 * statements record their mapping in nat, REJECT sets *reject; an unknown
 * match returns STEP_UNKNOWN with its index in *unknown_at, and *what says
 * what could not be evaluated. */
enum step nf_eval_rule(struct exec *x, const struct cg_rule *rule, uint32_t from, struct regs *r,
		       struct chain_outcome *nat, bool *reject, const struct ctx *c, uint32_t *unknown_at,
		       const char **what);
/* Whether the packet has a conntrack entry where the chain runs. */
bool nf_ct_present(const struct exec *x);

/* nft's fib expression (nf-fib.c): what it stores in its destination
 * register for the packet where the chain runs, as nft_fib4_eval() /
 * nft_fib6_eval() (and their _type variants) would. Returns 1 with *len
 * bytes in out, 0 when the answer is unknown (*what says why), or -1 when
 * the kernel would end the rule (NFT_BREAK). */
int nf_fib_eval(const struct exec *x, const struct ctx *c, const struct cg_expr *e, uint8_t out[16],
		uint32_t *len, const char **what);
