/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's own counters of collected rules, read when the report names a
 * rule as the one that drops a target ("dropped 137 packets"). The rule model
 * keeps no counts (a 300k-rule ruleset would carry them all for the few
 * rules a report names), so they are asked for afterwards, for those rules
 * only, and only where the kernel still holds the same rule. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/ruleset.h"

struct rule_counter {
	uint64_t packets, bytes;
};

/* Reads the counters of rules[0..n) (distinct rules of a ruleset collected
 * from this network namespace) from the kernel. ok[i] says whether out[i]
 * holds rule i's counter, which counts exactly what reached the rule's
 * verdict:
 *   nf_tables (nft, iptables-nft): the rule found again by its table, chain
 *     and handle, with the same expressions; its counter expression is
 *     followed by nothing that could still fail to match (only the verdict,
 *     a reject, a log, an xt target or another counter). A named counter
 *     object, or a counter before the rule's matches, gives no figure.
 *   iptables-legacy: the entry's own counters, the entry found at its
 *     position (or, moved, alone of its kind in its chain) and equal to the
 *     collected rule (rule_equal()). One read of each table involved.
 * At most `max_rules` (RULE_COUNTERS_MAX) nf_tables rules are asked for,
 * one request each. Returns how many were read; never fails as a whole
 * (what cannot be read has ok[i] false and a debug line). */
#define RULE_COUNTERS_MAX 64
size_t rule_counters_read(const struct cg_rule *const *rules, size_t n, struct rule_counter *out, bool *ok);
