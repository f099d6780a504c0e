/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The netfilter simulator: a packet through every base chain at one hook,
 * like the kernel (nf_hook_slow + nft_do_chain + ipt_do_table). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgnatcheck/packet.h"
#include "cgnatcheck/ruleset.h"

/* Conntrack sits at NF_IP_PRI_CONNTRACK (-200) on PREROUTING and OUTPUT:
 * chains before it see no conntrack entry yet. */
#define SIM_PRIO_CONNTRACK (-200)

enum sim_verdict {
	SIM_ACCEPT,
	SIM_DROP,       /* drop or reject: final */
	SIM_UNCERTAIN,  /* depends on a match the simulator cannot evaluate */
};

enum sim_step_kind {
	SIM_STEP_RULE,     /* a rule matched (or matched as far as known) */
	SIM_STEP_POLICY,   /* a base chain ended and its policy applied */
	SIM_STEP_RETURN,   /* the end of a regular chain: back to the caller */
};

struct sim_step {
	enum sim_step_kind kind;
	const struct cg_chain *chain;
	const struct cg_rule *rule;     /* SIM_STEP_RULE only */
	enum cg_verdict_code verdict;   /* what this step decided (NONE: went on) */
	bool unknown;                   /* the rule's match could not be evaluated */
	const char *unknown_what;       /* which match, e.g. "xt match 'set'" */
};

struct sim_trace {
	struct sim_step *steps;
	uint32_t n, cap;
	bool truncated;
};

struct hook_result {
	enum sim_verdict verdict;
	/* The rule that dropped (SIM_DROP), the last accepting rule of the last
	 * base chain (SIM_ACCEPT, NULL when a policy accepted), or the rule with
	 * the unknown match (SIM_UNCERTAIN). */
	const struct cg_rule *decided_by;
	const struct cg_chain *policy_chain; /* set when a chain policy decided */
	bool reject;                         /* dropped by a reject */
	const char *unknown_what;            /* SIM_UNCERTAIN: the match */
	struct sim_trace trace;
	/* DNAT/SNAT seen (first packet of a connection): the new tuple. */
	bool dnat, snat;
	struct cg_addr nat_addr;
	uint16_t nat_port;
};

/* Base chains of every backend, per (family, hook), sorted by priority, built
 * once per ruleset so each evaluation is a walk, not a search. */
struct sim_index;

int sim_index_build(const struct cg_ruleset *rs, struct sim_index **out);
void sim_index_free(struct sim_index *idx);

/* Runs pkt through every base chain registered at `hook` (NF_INET_*) for the
 * packet's family and inet (netdev ingress chains on the input device when
 * hook is NF_INET_PRE_ROUTING and include_ingress is set), in priority order.
 * pkt is updated by statements that change it (meta mark set, MARK,
 * CONNMARK). res must be released with hook_result_free(). Returns 0 or a
 * negative errno on internal errors (never for unknown rules). */
int evaluate_hook(const struct sim_index *idx, struct cg_packet *pkt, uint32_t hook,
		  const struct cg_addr_env *env, struct hook_result *res);
void hook_result_free(struct hook_result *res);

const char *sim_verdict_to_string(enum sim_verdict v);
