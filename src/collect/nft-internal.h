/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the nf_tables collector's files; not an interface. */
#pragma once

#include <stdbool.h>
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
/* Runs cb on each element of one NFT_MSG_NEWSETELEM message: MNL_CB_OK, or
 * what nlconn_cb_fail() returns (-ENOMEM, -EBADMSG). */
int nft_elems_msg_foreach(const struct nlmsghdr *nlh, int (*cb)(struct nftnl_set_elem *ne, void *data), void *data);

/* What another program changes while we read (nft-events.c): the nf_tables
 * notifications (NFNLGRP_NFTABLES), each change placed in the commit, that
 * is the generation, it belongs to. */
struct mnl_socket;
struct nft_watch {
	struct mnl_socket *nl;
	char *buf;
	uint32_t gen;       /* every change up to this generation has been seen */
	bool started;       /* gen is a NEWGEN's, not the caller's start */
	bool lost;          /* notifications were lost (an overrun, a commit
	                     * skipped): what changed is unknown; sticky until
	                     * the caller clears it */
};

struct nft_change {
	uint16_t type;      /* NFT_MSG_{NEW,DEL}{TABLE,CHAIN,RULE,SET,SETELEM} */
	uint8_t family;
	uint32_t gen;       /* the commit's generation */
	const char *table;
	const char *name;   /* the chain (chains, rules) or set (sets, elements); NULL for tables */
	bool base;          /* chains: a base chain (the message has its hook) */
};
typedef void (*nft_change_cb)(const struct nft_change *ch, void *data);
/* Whether a change can matter to an audit that read what `in` describes
 * (nft-events.h: nft_interest_new()); nlh is the notification itself
 * (NULL: unknown), whose elements tell which keys a set's change is about. */
struct nft_interest;
struct nlmsghdr;
bool nft_interest_matches(const struct nft_interest *in, const struct nft_change *ch, const struct nlmsghdr *nlh);

/* Subscribes (CAP_NET_ADMIN). Returns 0 or a negative errno; w zeroed then. */
int nft_watch_open(struct nft_watch *w);
/* Call with the generation read (NFT_MSG_GETGEN) after opening: changes of
 * that generation and later ones are reported, earlier ones are not. */
void nft_watch_start(struct nft_watch *w, uint32_t gen);
void nft_watch_close(struct nft_watch *w);
/* Reads notifications, reporting each change of a generation >= the start's
 * to cb, until every change up to generation `until` has been seen (its
 * NEWGEN arrived; at once when it already has) or timeout_ms passed
 * (-ETIMEDOUT; 0: only what is queued). Changes that cannot be told (an
 * overrun, a skipped commit, a message not understood) set w->lost, and
 * then it returns once the queue is empty. Returns 0 or a negative errno. */
int nft_watch_poll(struct nft_watch *w, uint32_t until, int timeout_ms, nft_change_cb cb, void *data);
/* a >= b for generations (they wrap) */
bool nft_gen_ge(uint32_t a, uint32_t b);
/* The generation whose low 16 bits are low16 (a message's res_id) closest
 * to near (nft-msg.c). */
uint32_t nft_gen_near(uint32_t near, uint16_t low16);

/* The source of every lazy set of rs (nft-setget.c): answers lookups with
 * NFT_MSG_GETSETELEM requests per key. An answer is good while the set is
 * as it was at rs->nft_generation: with a watch (taken over; NULL: none)
 * the generation may move as long as no change touched the set, without
 * one it must not move. Opens its netlink socket now, so later lookups do
 * not depend on the process's namespace or privileges staying the same.
 * Returns NULL (logged) when the socket cannot be opened: then lookups in
 * lazy sets are unknown. */
struct cg_set_source *nft_set_source_new(const struct cg_ruleset *rs, struct nft_watch *watch);
/* Tells the source of rs's lazy sets that a commit after rs->nft_generation
 * touched s (the collector read its notification already). */
void nft_set_source_changed(struct cg_set_source *source, const struct cg_set *s);
/* Tells it of a change the collector read, of a commit after
 * rs->nft_generation: sets and chains it touched are unknown to lookups and
 * chain_read(). */
void nft_source_note(struct cg_set_source *source, const struct nft_change *ch);

/* A notification's message type, DESTROY requests as the DEL they are
 * (nft-msg.c), and whether it is one of the kinds the notifications
 * carry (anything else: a kernel newer than this reader). */
uint16_t nft_change_type(uint16_t type);
bool nft_change_type_known(uint16_t type);

/* The chain list kept between --keep's rounds (nft-chain-cache.c; the
 * public half is in nft-events.h). */
struct nft_chain_cache;
/* One notification read from its socket (anyone's drain calls it), or an
 * overrun: the list follows commit by commit, or is dropped. */
void nft_chain_cache_feed(struct nft_chain_cache *cc, const struct nlmsghdr *nlh);
void nft_chain_cache_lost(struct nft_chain_cache *cc);
/* Why there is no list kept (NULL: there is). */
const char *nft_chain_cache_why(const struct nft_chain_cache *cc);
/* Reads the notifications until the list is the kernel's at generation
 * gen (its NEWGEN read). 0, -ESTALE (the list is not kept, or is past
 * gen), -ETIMEDOUT, or a negative errno. */
int nft_chain_cache_catch_up(struct nft_chain_cache *cc, uint32_t gen, int timeout_ms);
/* Runs cb on each chain's NEWCHAIN message, in the kernel's order. */
int nft_chain_cache_foreach(struct nft_chain_cache *cc, int (*cb)(const struct nlmsghdr *nlh, void *data),
			    void *data);
/* Recording a chain dump: start, each message, stop (complete or not: an
 * incomplete recording is forgotten); commit makes a complete recording
 * the list at generation gen (the read's structure held from the dump to
 * gen). */
void nft_chain_cache_record_start(struct nft_chain_cache *cc);
void nft_chain_cache_record(struct nft_chain_cache *cc, const struct nlmsghdr *nlh);
void nft_chain_cache_record_stop(struct nft_chain_cache *cc, bool complete);
void nft_chain_cache_record_commit(struct nft_chain_cache *cc, uint32_t gen);

/* The monotonic clock in ms, and a wait until the (non-blocking) socket
 * has something to read: 0 (or a signal), -ETIMEDOUT at deadline_ms, or a
 * negative errno (nft-msg.c). */
int64_t nft_mono_ms(void);
int nft_wait_readable(struct mnl_socket *nl, int64_t deadline_ms);
