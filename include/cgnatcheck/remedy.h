/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The remedy plan (audit stage): the narrowest exception that would make a
 * blocked target reachable, placed immediately before the rule that blocks
 * it, in that rule's backend (design.md, "Exceptions"). The report shows it,
 * the fix stage (fix-apply.h) applies it. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgnatcheck/audit.h"

struct remedy {
	const struct cg_rule *before;   /* inserted immediately before this rule */
	bool accept;                    /* ACCEPT in a base chain, RETURN in a jumped-to chain */
	struct cg_prefix src, dst;      /* len 0 and family 0: not matched */
	char iif[IFNAMSIZ], oif[IFNAMSIZ];
	uint8_t l4proto;
	uint16_t sport, dport;          /* 0: not matched */
	uint32_t ct_states;             /* CG_CT_* bits; 0: not matched */
	char comment[128];              /* cgnatcheck:<policy>:<service>-<addr>-<proto>-<port> */
};

/* Plans the exception for a blocked target. Returns 0, or -ENOTSUP (with
 * *why set) when no precise exception can be placed: the target is blocked
 * by a chain policy, or the blocking rule is not one cgnatcheck can insert
 * before. */
int remedy_plan(const struct audit *a, const struct audit_target *t, struct remedy *ex,
	     const char **why);

/* Whether an exception in this table is written the way iptables writes it
 * (iptables-legacy, or iptables-nft's expressions with xt conntrack and
 * comment matches) rather than nft's: by the table's backend, the one
 * decision the collector made (nft_table_owner()), so the label, the rule
 * text and the exception agree before and after --fix. */
bool remedy_table_iptables_compatible(const struct cg_table *t);

/* The exception as the exact command an operator would type (iptables-legacy,
 * iptables-nft or nft syntax, matching the blocking rule's backend).
 * malloc'd. */
char *remedy_command(const struct remedy *ex);
