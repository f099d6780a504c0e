/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every netfilter backend of the running network namespace into one model. */
#pragma once

#include "cgnatcheck/ruleset.h"

/* nf_tables (native nft and iptables-nft), then iptables-legacy, then the xt
 * blobs of iptables-nft's compat expressions are decoded. Returns 0 or a
 * negative errno after logging what failed. */
int netfilter_collect(struct cg_ruleset *rs);
