/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Native nftables rules of the model in `nft list ruleset` syntax: the text
 * nft(8) 1.0.x prints for a rule inside its chain, without the
 * "# handle N" comment, so a report quotes a rule the way the administrator
 * sees it: `iifname != "tailscale0*" ip saddr 100.64.0.0/10 counter drop`.
 *
 * The renderer redoes what nft does when it lists a rule (its
 * netlink_delinearize.c and friends): registers are followed from loads to
 * their users, payload offsets become header fields in the protocol context
 * the rule's earlier matches establish, implied protocol matches are dropped
 * (`meta l4proto udp udp dport 53` prints as `udp dport 53`), masks become
 * prefixes and flag lists, `>= a` and `<= b` become `a-b`, anonymous sets
 * print their elements, values print in their type's notation. The result is
 * checked against nft itself (tests/nft-text.sh).
 *
 * Where the model does not hold what nft prints, the text says so rather
 * than guess:
 *  - counters print as a plain `counter`: the model keeps no counts;
 *  - `reject` prints its default ICMP code (`reject`, or `reject with
 *    icmp port-unreachable` where nft names the family): the model keeps
 *    the reject type, not the code;
 *  - a quota prints as the placeholder `unsupported: quota` (in a C
 *    comment): the model keeps neither its bytes nor its use;
 *  - `iif`/`oif` name the interface when if_indextoname() knows the index in
 *    the calling process's network namespace, else print the number, as nft
 *    does in its own namespace;
 *  - xt-compat expressions print as `xt match "NAME"` / `xt target "NAME"`
 *    (an nft linked with libxtables prints its translation instead);
 *  - expressions the model keeps only by name (fib, dynset, objref, numgen,
 *    connlimit, queue, ...) print in place as a C comment
 *    `unsupported: NAME`, never silently dropped; a value compared with what
 *    such an expression loaded prints in hex;
 *  - a jump or goto whose chain is not in the model prints
 *    `jump NAME` followed by a `missing chain` C comment.
 */
#pragma once

#include <stddef.h>

#include "cgnatcheck/ruleset.h"

/* Writes the rule's text into buf, NUL-terminated and truncated to size like
 * snprintf (buf may be NULL when size is 0). Returns the length of the whole
 * text, or -EINVAL for a NULL rule or a NULL buf with a size. The rule's
 * family is its table's (IPv4 when it has none). */
int nft_rule_format(const struct cg_rule *r, char *buf, size_t size);

/* The same text, malloc()ed; NULL only for a NULL rule. */
char *nft_rule_to_string(const struct cg_rule *r);
