/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nf_tables change notifications (the NFNLGRP_NFTABLES multicast group): what
 * --keep and --wait-overlay wake up on instead of polling nf_tables. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct mnl_socket;

/* A non-blocking netlink socket subscribed to nf_tables notifications, or
 * NULL (errno set) when it cannot be opened. Close with mnl_socket_close(). */
struct mnl_socket *nft_events_open(void);

/* Reads every queued notification; true when there was any. An overrun
 * (ENOBUFS) counts as a change: something happened. Each is applied to cc
 * (may be NULL; see nft_chain_cache_new() below), as in the drains below. */
struct nft_chain_cache;
bool nft_events_drain(struct mnl_socket *nl, struct nft_chain_cache *cc);

/* The nf_tables ruleset generation now (NFT_MSG_GETGEN; every commit bumps
 * it): --keep compares it with the one its own change left, so a change made
 * while it was applying is never mistaken for its own. 0 or a negative
 * errno. */
int nft_events_generation(uint32_t *gen);

/* What of nf_tables an audit read (its ruleset, after every chain its
 * packets reached was read), for telling which later changes can change
 * its outcome: any change to a table it read whole, to a table it did not
 * see, or to a chain, base chain or set it read of a table it read in part
 * (collect-nft.h). A change to a chain no packet reached cannot: the
 * jump that would reach it is a change of its own. Legacy tables are not
 * in it (they are not notified). */
struct cg_ruleset;
struct nft_interest;
struct nft_interest *nft_interest_new(const struct cg_ruleset *rs);
void nft_interest_free(struct nft_interest *in);
/* nft_events_drain(), true only when a notification is of interest to in
 * (NULL: every one is), or cannot be told (an overrun, a message not
 * understood). *ignored (may be NULL) counts the changes of no interest. */
bool nft_events_drain_interest(struct mnl_socket *nl, struct nft_chain_cache *cc, const struct nft_interest *in,
			       uint64_t *ignored);
/* The same, counting only the commits after generation *after_gen (the
 * ruleset an audit read) other than *own_gen (the one its fix made); NULL:
 * every commit. */
bool nft_events_drain_after(struct mnl_socket *nl, struct nft_chain_cache *cc, const struct nft_interest *in,
			    const uint32_t *after_gen, const uint32_t *own_gen, uint64_t *ignored);

/* The chain list of every nf_tables table, kept for --keep between its
 * rounds (nft-chain-cache.c): the first round records its dump, every
 * notification read from nl after it (by the drains above, which take it)
 * is applied, and later rounds read the list from it instead of asking the
 * kernel (on a kube-proxy node, 110k chains: 0.5 s of kernel time). Used
 * only when it is exactly the kernel's at the generation a round starts
 * from; dropped (the next round dumps it again) when a notification was
 * lost or cannot be followed. Set it as cg_options.nft_chains. */
struct nft_chain_cache *nft_chain_cache_new(struct mnl_socket *nl);
void nft_chain_cache_free(struct nft_chain_cache *cc);
struct nft_chain_cache_stats {
	bool valid;
	uint32_t gen;               /* the generation the list is the kernel's at */
	uint64_t chains;
	uint64_t dumps;             /* rounds that dumped (and recorded) the list */
	uint64_t uses;              /* rounds that read it from here */
	uint64_t commits;           /* commits applied from their notifications */
};
void nft_chain_cache_get_stats(const struct nft_chain_cache *cc, struct nft_chain_cache_stats *st);
