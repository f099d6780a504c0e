/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The netfilter simulator: a packet through every base chain at one hook,
 * like the kernel (nf_hook_slow + nft_do_chain + ipt_do_table). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgnatcheck/packet.h"
#include "cgnatcheck/route.h"
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
	/* NF_INET_LOCAL_OUT: a route-type chain (nft `type route`, the mangle
	 * OUTPUT chain of iptables-legacy and iptables-nft) changed the mark
	 * or the addresses and let the packet go on, so the kernel routes it
	 * again (ip_route_me_harder) with the packet as that chain left it */
	bool reroute;
	uint32_t reroute_mark;
	struct cg_addr reroute_src, reroute_dst;
};

/* Base chains of every backend, per (family, hook), sorted by priority, built
 * once per ruleset so each evaluation is a walk, not a search. */
struct sim_index;

/* A foreseen ruleset: the collected one as an event would leave it
 * (tailscaled re-creating its chains and re-inserting its jumps at position
 * 1, --netfilter-mode going from nodivert to on). A view replaces one
 * chain's rule list; its rules are the collected rules (so whatever decides
 * is named as it stands today) or rules the caller built (a jump that does
 * not exist yet). Extra base chains are added at their hook, for a base
 * chain the event creates. Nothing is copied: a view costs a pointer per
 * rule of the chains it names, and the other chains are read in place. */
struct sim_chain_view {
	const struct cg_chain *chain;
	const struct cg_rule *const *rules;
	uint32_t n_rules;
};

struct sim_variant {
	const struct sim_chain_view *views;
	size_t n_views;
	const struct cg_chain *const *extra_base;
	size_t n_extra_base;
};

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
/* The same in the ruleset `v` describes (NULL: the collected one). */
int evaluate_hook_variant(const struct sim_index *idx, const struct sim_variant *v, struct cg_packet *pkt,
			  uint32_t hook, const struct cg_addr_env *env, struct hook_result *res);
void hook_result_free(struct hook_result *res);

/* Runs pkt through one chain alone, as if a rule had jumped to it (the end
 * of a regular chain accepts). Finds rules that would drop a packet once
 * their chain is reached: latent rules (nodivert, a jump that a restart
 * moves). */
int evaluate_chain(const struct cg_chain *ch, struct cg_packet *pkt, uint32_t hook,
		   const struct cg_addr_env *env, struct hook_result *res);
/* The same from the rule at 0-based position `first` (what a rule would do
 * to the packet if the rules before it did not decide first). */
int evaluate_chain_from(const struct cg_chain *ch, uint32_t first, struct cg_packet *pkt, uint32_t hook,
			const struct cg_addr_env *env, struct hook_result *res);

const char *sim_verdict_to_string(enum sim_verdict v);

/* ---- flows: a request and its reply through every hook on their way ---- */

/* One conversation between this host and a remote endpoint. For an outbound
 * flow the host opens it (DNS query, HTTP request) from local:local_port to
 * remote:remote_port through dev; for an inbound flow the remote opens it
 * (a health check) and arrives on dev. */
struct sim_flow {
	uint8_t nfproto;
	bool inbound;
	struct cg_addr local, remote;
	uint8_t l4proto;
	uint16_t local_port, remote_port;
	struct cg_iface dev;          /* the provider-facing device */
	uint32_t mark;                /* socket mark of the local end (SO_MARK) */
	uint32_t uid, gid;            /* socket owner of the local end */
	/* The routing state, or NULL: then the flow's legs cross no route
	 * lookup between their hooks. Given, a packet the host sends is routed
	 * again after a route-type chain changed its mark (the device it
	 * leaves on, and the one the answer comes back on, may change), and a
	 * packet the host receives takes the input route lookup after
	 * PREROUTING with the mark it has then: the reverse path filter
	 * (rp_filter, src_valid_mark) may drop it. */
	const struct route_state *routes;
};

enum sim_leg {
	SIM_LEG_REQUEST,              /* first packet (ct new); TCP: SYN */
	SIM_LEG_REQUEST_EST,          /* TCP only: the opener's ACK/data (established) */
	SIM_LEG_REPLY,                /* first answer (ct established, reply); TCP: SYN-ACK */
	SIM_LEG_REPLY_DATA,           /* TCP only: the answer's data */
	_SIM_LEG_MAX,
};

struct sim_leg_result {
	bool present;                 /* the leg applies to this flow */
	struct cg_packet pkt;         /* as it entered its first hook */
	uint32_t hooks[2];            /* NF_INET_* in the order traversed */
	struct hook_result res[2];
	enum sim_verdict verdict;     /* of both hooks and the route between */
	int deciding_hook;            /* index into res of the drop/unknown, -1 */
	/* the route lookup between the hooks (sim_flow.routes given) */
	bool rerouted;                /* sent: routed again after LOCAL_OUT */
	struct cg_iface dev;          /* the device the leg leaves or arrives on */
	const char *route_why;        /* the route dropped the leg, or made it
				       * uncertain (deciding_hook -1): why */
};

struct flow_result {
	struct sim_leg_result legs[_SIM_LEG_MAX];
	enum sim_verdict request, reply;   /* combined over each direction's legs */
	enum sim_verdict verdict;          /* the whole conversation */
};

/* Simulates every packet of the conversation the kernel oracle would see.
 * Conntrack state carries from request to reply (ct mark); packet marks set
 * in one leg do not (a new skb). The first route is the caller's: the flow
 * names the device; with flow->routes the routes after it are simulated
 * (re-routing after LOCAL_OUT, the input route and its source check). */
int simulate_flow(const struct sim_index *idx, const struct cg_addr_env *env,
		  const struct sim_flow *flow, struct flow_result *res);
/* The same in the ruleset `v` describes (NULL: the collected one). */
int simulate_flow_variant(const struct sim_index *idx, const struct sim_variant *v,
			  const struct cg_addr_env *env, const struct sim_flow *flow, struct flow_result *res);
void flow_result_free(struct flow_result *res);
/* The packet of one leg of the flow as it enters its first hook, the ct mark
 * it carries from the legs before (its sim_leg_result's pkt.ct.mark). */
void sim_leg_packet(const struct sim_flow *f, enum sim_leg leg, uint32_t ct_mark, struct cg_packet *p);
const char *sim_leg_to_string(enum sim_leg leg);
