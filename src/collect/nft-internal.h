/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the nf_tables collector's files; not an interface. */
#pragma once

#include <stdint.h>

#include "cgnatcheck/ruleset.h"

struct nftnl_chain;
struct nftnl_set;
struct nftnl_set_elem;

/* A chain or a set as libnftnl parsed it (name, handle, flags; a base
 * chain's hook, priority, type, policy and devices; a set's key and data
 * types and lengths, its concatenation's fields), with memory from a
 * (nft-msg.c). Neither is placed in its table. */
void nft_chain_convert(const struct nftnl_chain *nc, struct cg_chain *ch, struct arena *a);
void nft_set_convert(const struct nftnl_set *ns, struct cg_set *s, struct arena *a);

/* One element as libnftnl parsed it (key, key_end, data, verdict, flags),
 * with memory from a (nft-msg.c). The verdict's chain stays unresolved (chain NULL). */
void nft_elem_convert(struct nftnl_set_elem *ne, struct cg_set_elem *e, struct arena *a);

/* The source of every lazy set of rs (nft-setget.c): answers lookups with
 * NFT_MSG_GETSETELEM requests per key, valid while the ruleset generation is
 * still rs->nft_generation. Opens its netlink socket now, so later lookups
 * do not depend on the process's namespace or privileges staying the same.
 * Returns NULL (logged) when the socket cannot be opened: then lookups in
 * lazy sets are unknown. */
struct cg_set_source *nft_set_source_new(const struct cg_ruleset *rs);
