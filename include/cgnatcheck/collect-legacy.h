/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The iptables-legacy collector: reads the x_tables rulesets of the running
 * network namespace (IPv4 through libip4tc, IPv6 through libip6tc) into the
 * rule model (ruleset.h), each ipt_entry compiled into the expression list
 * iptables-nft would have written for the same rule. Tables are read as the
 * kernel's snapshot (the getsockopt() calls libiptc makes) and walked in
 * place; libiptc handles (the fix stage's) go through the same walk. */
#pragma once

#include <stdint.h>

#include "cgnatcheck/ruleset.h"

struct xtc_handle;

/* Appends every legacy table (filter, nat, mangle, raw, security; IPv4 and
 * IPv6) that exists in this namespace to rs (CG_BACKEND_IPTABLES_LEGACY),
 * then resolves the ruleset (ruleset_resolve()). rs may already hold
 * nf_tables tables. Each table is one getsockopt() snapshot, atomic on its
 * own; no per-rule system calls.
 *
 * Only tables listed in /proc/net/ip{,6}_tables_names are read: asking the
 * kernel for any other table instantiates it (x_tables registers a table on
 * first access: in every namespace since Linux 5.16, "netfilter: x_tables:
 * never register tables by default", in other namespaces long before), which
 * would change the host, just as `iptables-legacy -S` does. A table that
 * vanishes between the listing and the read is skipped. Needs CAP_NET_ADMIN,
 * CAP_NET_RAW for the raw socket the snapshot is read from, and uid 0 (or
 * CAP_DAC_READ_SEARCH) for the root-only table list.
 *
 * Returns 0 (also when there are no legacy tables at all: rs->have_legacy
 * stays false) or a negative errno after logging which table failed and what
 * to do. On failure rs's table list is unchanged. */
int legacy_collect(struct cg_ruleset *rs);

/* The fixed priority a legacy table's base chain runs at (NF_IP_PRI_*):
 * raw -300, mangle -150, nat -100 on PREROUTING/OUTPUT and 100 on
 * INPUT/POSTROUTING, filter 0, security 50. -EINVAL for an unknown table. */
int legacy_table_priority(const char *table, uint32_t hook, int32_t *prio);

/* Internal, shared with the tests: one table of one family, read from an
 * open libiptc/libip6tc handle, into *t (memory from a). */
int legacy_table_from_handle(struct xtc_handle *h, uint8_t nfproto, const char *table,
			     struct arena *a, struct cg_table *t);
