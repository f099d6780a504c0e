/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nf_tables collector: reads the running network namespace's whole
 * nf_tables ruleset (every family: ip, ip6, inet, arp, bridge, netdev) over
 * netlink and fills the rule model (ruleset.h), resolved and indexed. */
#pragma once

#include "cgnatcheck/ruleset.h"

/* Fills rs, which must be empty (zeroed), with every nf_tables table, chain,
 * rule, set and element, exactly as they were at one ruleset generation
 * (rs->nft_generation): what another program changes while we read is read
 * again, object by object, until it holds still; after several seconds of
 * changes (CGNATCHECK_NFT_RETRY_MS) it fails (-EAGAIN) naming what kept
 * changing, never a mix of two rulesets (see nft.c).
 * Each table's backend is nft_table_owner()'s: CG_BACKEND_IPTABLES_NFT for
 * the tables iptables-nft wrote and lists, CG_BACKEND_NFTABLES otherwise. A namespace without tables
 * yields an empty model. Needs CAP_NET_ADMIN. Returns 0 or a negative errno
 * after logging what failed. On failure rs stays empty. */
int nft_collect(struct cg_ruleset *rs);

/* How much to read. With `lazy`, a table of more than lazy_min_chains
 * chains (CGNATCHECK_NFT_LAZY_CHAINS overrides it; 0: every table) is read
 * as far as packets reach: its base chains, the chains named in `chains`
 * (in any table), its named sets and the anonymous sets of those chains'
 * rules. Every other chain is in the model with its name and attributes
 * but no rules (cg_chain.unread), and so are the other anonymous sets
 * (CG_SET_UNREAD); chain_read() reads them when a packet gets there, as
 * they were at the model's generation or not at all (-ESTALE: a commit
 * since touched them), through the ruleset's source (rs->set_source,
 * nft-setget.c), which keeps the change notifications for that. A
 * kube-proxy table (110k chains, 10k anonymous maps) thus costs its chain
 * list, not its 220k rules. Without opts (nft_collect()) everything is
 * read: what lists or changes the whole ruleset needs it. */
struct nft_chain_cache;
struct nft_collect_opts {
	bool lazy;
	uint32_t lazy_min_chains;
	const char *const *chains;
	size_t n_chains;
	/* --keep: the chain list kept between rounds (nft-events.h), read
	 * from there when it is the kernel's at the read's generation, else
	 * dumped and recorded there; NULL: always dumped */
	struct nft_chain_cache *chain_cache;
};
int nft_collect_opts(struct cg_ruleset *rs, const struct nft_collect_opts *opts);
/* The default lazy_min_chains. */
#define NFT_LAZY_MIN_CHAINS 2000u

/* Internal, shared by the collector's files and exposed for tests. */
struct nlmsghdr;

struct nft_rule_id {            /* where a dumped rule belongs */
	uint8_t family;
	char table[256];            /* NFT_TABLE_MAXNAMELEN */
	char chain[256];            /* NFT_CHAIN_MAXNAMELEN */
};

/* Converts one NFT_MSG_NEWRULE message into `rule` (handle, expressions,
 * comment) with memory from `a`, and says where it belongs. Expressions
 * libnftnl cannot parse become CG_EXPR_UNKNOWN with their name rather than
 * failing the rule. Returns 0, or -EINVAL for a message that is not a rule. */
int nft_rule_from_nlmsg(const struct nlmsghdr *nlh, struct arena *a, struct cg_rule *rule,
			struct nft_rule_id *id);
/* What a run of conversions shares (zeroed to start; nft_rule_ctx_free()
 * after): scratch memory reused per rule, decoded xt values shared between
 * rules with identical blobs (xt NULL: each decoded on its own; see
 * xt_decode_interned()), and the table whose rules are read, which must be
 * indexed (table_index_build()): jumps then point at its chains and share
 * their names (NULL: names copied, resolved later by ruleset_resolve()). */
struct xt_intern;
struct nft_rule_ctx {
	struct arena scratch;
	struct xt_intern *xt;
	const struct cg_table *table;
};
int nft_rule_from_nlmsg_ctx(const struct nlmsghdr *nlh, struct arena *a, struct nft_rule_ctx *ctx,
			    struct cg_rule *rule, struct nft_rule_id *id);
void nft_rule_ctx_free(struct nft_rule_ctx *ctx);
/* A kernel verdict (NF_ACCEPT, NFT_JUMP, ...) and its chain name. */
struct cg_verdict nft_verdict(int32_t code, const char *chain, struct arena *a);
/* True when the rule holds xt-compat expressions (match/target). */
bool nft_rule_has_xt(const struct cg_rule *rule);

/* Whose a table is, iptables-nft's or nft's (nft-owner.c says how the stock
 * tools tell and what we read). One decision for every later step: the
 * rules' text (iptables-save or nft syntax), the backend in reports and
 * findings, the form of an exception --fix writes. */
struct nft_owner {
	enum cg_backend backend;    /* CG_BACKEND_IPTABLES_NFT or CG_BACKEND_NFTABLES */
	const char *why;            /* what decided, a static phrase */
	const struct cg_rule *rule; /* the first rule showing it; NULL when no rule did */
	const char *what;           /* "a rule iptables-nft cannot list": what in it (static) */
};
void nft_table_owner(const struct cg_table *t, struct nft_owner *out);
/* A table iptables-nft takes as its own: ip or ip6, and one of its
 * built-in names (filter, nat, mangle, raw, security). */
bool nft_owner_iptables_table(uint8_t family, const char *name);
/* What one rule of such a table shows (NFT_OWNER_*); *what (when not NULL)
 * is set for NFT_OWNER_UNLISTABLE. */
enum {
	NFT_OWNER_XT = 1 << 0,          /* an xt-compat match or target */
	NFT_OWNER_IPT_IFNAME = 1 << 1,  /* an interface name with its NUL, under IFNAMSIZ */
	NFT_OWNER_NFT_IFNAME = 1 << 2,  /* an interface name padded to IFNAMSIZ */
	NFT_OWNER_NO_COUNTER = 1 << 3,  /* no counter expression */
	NFT_OWNER_UDATA = 1 << 4,       /* a comment in user data, no xt comment */
	NFT_OWNER_UNLISTABLE = 1 << 5,  /* iptables-nft-save cannot list it */
};
unsigned nft_owner_rule_signs(const struct cg_rule *rule, uint8_t family, const char **what);

/* The ruleset generation (nft-msg.c): a GETGEN request built in c's
 * buffer, and the callback that reads the answer into a uint32_t. */
struct nlconn;
struct nlmsghdr *nft_gen_request(struct nlconn *c);
int nft_gen_cb(const struct nlmsghdr *nlh, void *data);
