/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the legacy collector's files; not an interface. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/ruleset.h"

/* An ipt_entry or ip6t_entry seen through one family-neutral window. The
 * IPT_INV_* and IP6T_INV_* bits share their values, so invflags is one. */
struct entry_view {
	uint8_t nfproto;
	const void *entry;          /* the whole entry, next_offset bytes */
	uint16_t size;              /* next_offset */
	uint16_t header_size;       /* sizeof(struct ipt_entry / ip6t_entry) */
	uint16_t target_offset;
	uint8_t addr_len;           /* 4 or 16 */
	const uint8_t *src, *dst, *smsk, *dmsk;
	const char *iniface, *outiface;
	const unsigned char *iniface_mask, *outiface_mask;
	uint16_t proto;             /* 0: any (IPv6: only with IP6T_F_PROTO) */
	bool frag, go_to;
	uint8_t invflags;
	const char *target_label;   /* libiptc's name for a standard target */
};

/* What compiling the rules of one table shares. */
struct compile_ctx {
	struct arena *arena;            /* the ruleset's */
	/* libiptc's label pointer (const char *) -> struct cg_chain */
	const struct cg_hashmap *chains;
	struct cg_expr *tmp;            /* scratch, grown as needed */
	size_t tmp_cap;
	struct arena scratch;           /* a rule's data until it is packed */
	struct xt_intern *xt;           /* decoded xt values, shared (made on first use) */
};

/* Fills rule (packed expressions, comment) from v; the xt blobs are
 * decoded (or copied) into the arena, the entry itself is not kept. Jumps and
 * gotos point at the chain (and its name) found in ctx->chains. Returns 0 or
 * -EINVAL for a malformed entry. */
int legacy_rule_compile(const struct entry_view *v, struct compile_ctx *ctx, struct cg_rule *rule);

/* How the table walk reads a table: through libiptc (the writer's handle,
 * src/fix/apply-legacy.c) or straight from the kernel's snapshot
 * (legacy-snapshot.c). Chain labels are the source's own strings: a jump's
 * target label is the very pointer its chain is listed under. */
struct legacy_source_ops {
	const char *(*first_chain)(void *h);
	const char *(*next_chain)(void *h);
	const void *(*first_rule)(const char *chain, void *h);
	const void *(*next_rule)(const void *prev, void *h);
	const char *(*get_target)(const void *e, void *h);
	int (*builtin)(const char *chain, void *h);
	const char *(*get_policy)(const char *chain, void *h);
};

/* The family's entry view (ipt_entry or ip6t_entry). */
void (*legacy_entry_view(uint8_t nfproto))(const void *e, struct entry_view *v);

extern const struct legacy_source_ops legacy_snapshot_ops;

/* Compiles one table from a source into *t (memory from a). */
int legacy_table_from_source(const struct legacy_source_ops *ops, void *h, uint8_t nfproto,
			     const char *table, struct arena *a, struct cg_table *t);
