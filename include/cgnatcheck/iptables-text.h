/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rules of the model in iptables-save syntax, character for character what
 * iptables-save (legacy) and iptables-nft-save print for the same rule, so a
 * report can quote the rule the way the administrator wrote it.
 *
 * The renderer reads the expression list (ruleset.h), not the legacy entry,
 * so legacy rules and iptables-nft rules share it: the ip header part is
 * recovered from payload/meta/cmp expressions the way iptables-nft parses
 * its own rules, native tcp/udp/mark/limit/log translations become the
 * matches and targets they stand for, and xt blobs are printed as the
 * extension's save() function would. Anything without an iptables spelling
 * is printed as a marked placeholder (the match or target name followed by
 * an "unsupported" C comment), never dropped. */
#pragma once

#include <stdio.h>

#include "cgnatcheck/ruleset.h"

/* "-A ts-input -s 100.64.0.0/10 ! -i tailscale0 -j DROP", no newline. */
void ipt_print_rule(FILE *f, const struct cg_rule *rule);
/* The same text, malloc()ed. */
char *ipt_rule_to_string(const struct cg_rule *rule);

/* Whether iptables-nft-save (1.8.9) lists the rule: NULL when it does, else
 * what it has no iptables spelling for ("meta set", "ct", "lookup", ...; a
 * static string). iptables-nft takes a table with such a rule for nft's: it
 * refuses an expression outside the ones it writes (nft_is_table_compatible():
 * "Table `filter' is incompatible, use 'nft' tool") and fails on one it
 * cannot parse ("Parsing nftables rule failed"). ex is rule_exprs(rule),
 * family the table's. An xt extension this program cannot decode is still
 * listed: iptables-nft-save prints it with libxtables. */
const char *ipt_rule_unlistable(const struct cg_rule *rule, const struct cg_expr *ex, uint8_t family);

/* A chain's line in iptables-save form without counters: ":INPUT ACCEPT",
 * ":ts-input -". */
void ipt_print_chain_decl(FILE *f, const struct cg_chain *chain);
/* A chain's line in `iptables -S` form: "-P INPUT DROP" or "-N ts-input". */
void ipt_print_chain_policy(FILE *f, const struct cg_chain *chain);

/* A whole table as iptables-save prints it, minus the counters and the
 * "#" comment lines: "*filter", chain lines, rules, "COMMIT". */
void ipt_print_table(FILE *f, const struct cg_table *table);
