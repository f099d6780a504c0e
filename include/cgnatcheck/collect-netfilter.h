/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every netfilter backend of the running network namespace into one model. */
#pragma once

#include "cgnatcheck/ruleset.h"

/* nf_tables (native nft and iptables-nft), then iptables-legacy, then the xt
 * blobs of iptables-nft's compat expressions are decoded. Returns 0 or a
 * negative errno after logging what failed. */
int netfilter_collect(struct cg_ruleset *rs);
/* The same, reading nf_tables as far as `nft` says (collect-nft.h: large
 * tables only as far as packets reach; NULL: everything). */
struct nft_collect_opts;
int netfilter_collect_opts(struct cg_ruleset *rs, const struct nft_collect_opts *nft);

/* The contents of the ipsets that the ruleset's `-m set` matches name, read
 * over nfnetlink into the ruleset (each match's xt_set_dec.ipset), so the
 * simulator evaluates them; a set it cannot read stays unknown (logged).
 * Nothing is asked when no rule matches a set. Returns 0. */
int ipset_collect(struct cg_ruleset *rs);
