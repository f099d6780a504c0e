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
};

/* Fills rule (exprs, comment) from v; the xt blobs are copied into the
 * arena, the entry itself is not kept (legacy_entry stays NULL). Jumps and
 * gotos point at the chain (and its name) found in ctx->chains. Returns 0 or
 * -EINVAL for a malformed entry. */
int legacy_rule_compile(const struct entry_view *v, struct compile_ctx *ctx, struct cg_rule *rule);
