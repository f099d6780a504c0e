/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The iptables-legacy collector: reads the x_tables rulesets of the running
 * network namespace (IPv4 through libip4tc, IPv6 through libip6tc) into the
 * rule model (ruleset.h), each ipt_entry compiled into the expression list
 * iptables-nft would have written for the same rule. Tables are read as the
 * kernel's snapshot (the getsockopt() calls libiptc makes) and walked in
 * place; libiptc handles (the fix stage's) go through the same walk. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* A fingerprint of the legacy tables of this namespace: for each table its
 * size and number of entries (IPT_SO_GET_INFO: one getsockopt() per table,
 * no rule copied). Losing or gaining a rule changes it. --keep polls it;
 * --fix compares it with the audit's to see a change made in between. */
uint64_t legacy_fingerprint(void);

/* The fixed priority a legacy table's base chain runs at (NF_IP_PRI_*):
 * raw -300, mangle -150, nat -100 on PREROUTING/OUTPUT and 100 on
 * INPUT/POSTROUTING, filter 0, security 50. -EINVAL for an unknown table. */
int legacy_table_priority(const char *table, uint32_t hook, int32_t *prio);

/* Internal, shared with the tests: one table of one family, read from an
 * open libiptc/libip6tc handle, into *t (memory from a). */
int legacy_table_from_handle(struct xtc_handle *h, uint8_t nfproto, const char *table,
			     struct arena *a, struct cg_table *t);

/* One table as the kernel hands it out (IPT_SO_GET_INFO + GET_ENTRIES;
 * IPv6: IP6T_*), checked: every entry's sizes and alignment, the chain
 * boundaries (a jump that lands in no chain fails when the table is
 * compiled). legacy_snapshot_read() returns 0, or a negative errno
 * from the kernel (ENOENT: no such table; EPERM) or -EBADMSG for a snapshot
 * that does not parse. */
struct legacy_snapshot;
int legacy_snapshot_read(uint8_t nfproto, const char *table, struct legacy_snapshot **out);
void legacy_snapshot_free(struct legacy_snapshot *s);
static inline void legacy_snapshot_freep(struct legacy_snapshot **s)
{
	legacy_snapshot_free(*s);
}
/* Compiles a snapshot into *t (memory from a), as legacy_collect() does. */
int legacy_table_from_snapshot(struct legacy_snapshot *s, const char *table, struct arena *a,
			       struct cg_table *t);

/* legacy_snapshot_read() + legacy_table_from_snapshot() without the whole
 * snapshot in memory: the kernel's copy is read through a userfaultfd as it
 * is made and each chain compiled as its entries are there, a few megabytes
 * of the table resident at a time; the same table as the whole read gives.
 * Falls back to the whole read (a debug line says why) when no userfaultfd
 * can be had (/dev/userfaultfd is root's; the system call needs
 * CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1), when the chains are not
 * in libiptc's order, when the table keeps changing size, or with
 * CGNATCHECK_LEGACY_STREAM=0. Errors as legacy_snapshot_read()'s, or the
 * walk's (logged: ri->logged). ri (may be NULL): how it went. */
struct legacy_read_info {
	bool streamed;
	bool logged;                /* the error is the walk's, and logged */
	unsigned attempts, faults;
	size_t window;              /* most snapshot bytes resident at once */
	size_t deferred;            /* most bytes of entries kept for jumps ahead */
};
int legacy_table_read(uint8_t nfproto, const char *table, struct arena *a, struct cg_table *t,
		      struct legacy_read_info *ri);

/* Tests and the fuzz target: a snapshot serialized as its hook layout
 * (valid_hooks, hook_entry[5], underflow[5]: 11 host-order u32) followed by
 * the entries; _export() writes the named table of this namespace so,
 * _from_buffer() parses such bytes (-EBADMSG when they do not parse). */
int legacy_snapshot_export(uint8_t nfproto, const char *table, FILE *out);
int legacy_snapshot_from_buffer(uint8_t nfproto, const void *data, size_t size,
				struct legacy_snapshot **out);
