/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One rule model for nftables, iptables-nft and iptables-legacy.
 *
 * nf_tables expressions are the lingua franca: native nft rules are stored as
 * the kernel holds them; iptables-nft rules are the same expression lists
 * (native translations plus xt-compat match/target expressions); legacy
 * ipt_entry rules are compiled into the form iptables-nft would have written
 * (ipt_ip header -> payload/meta + bitwise + cmp, match/target blobs ->
 * CG_EXPR_XT_MATCH/CG_EXPR_XT_TARGET). So one evaluator and one xt decoder
 * serve all three backends.
 *
 * Everything a ruleset points to lives in its arena and is freed with it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgnatcheck/arena.h"

enum cg_backend {
	CG_BACKEND_NFTABLES,        /* native nft */
	CG_BACKEND_IPTABLES_NFT,    /* nf_tables rules written by iptables-nft */
	CG_BACKEND_IPTABLES_LEGACY, /* x_tables via libiptc */
};

/* Families are the kernel's NFPROTO_* values (NFPROTO_IPV4 == 2, "ip"). */
const char *backend_to_string(enum cg_backend b);
const char *family_to_string(uint8_t nfproto);   /* "ip", "ip6", "inet", ... */
/* Hook names as nft prints them ("input", "ingress", ...); NULL if unknown. */
const char *hook_to_string(uint8_t nfproto, uint32_t hook);

/* Raw data as nf_tables carries it (network byte order where the kernel
 * keeps it so). Bytes live in the ruleset's arena. */
struct cg_data {
	uint8_t len;                /* <= 64 (NFT_DATA_VALUE_MAXLEN) */
	const uint8_t *bytes;
};

enum cg_verdict_code {
	CG_VERDICT_NONE = 0,        /* no verdict: continue with the next rule */
	CG_VERDICT_ACCEPT,
	CG_VERDICT_DROP,
	CG_VERDICT_QUEUE,
	CG_VERDICT_STOLEN,
	CG_VERDICT_CONTINUE,        /* NFT_CONTINUE */
	CG_VERDICT_BREAK,           /* NFT_BREAK: the rest of this rule is skipped */
	CG_VERDICT_JUMP,
	CG_VERDICT_GOTO,
	CG_VERDICT_RETURN,
};

const char *verdict_to_string(enum cg_verdict_code code); /* "accept", "jump", ... */

struct cg_chain;

struct cg_verdict {
	enum cg_verdict_code code;
	const char *chain_name;     /* JUMP/GOTO target as named in the rule */
	struct cg_chain *chain;     /* resolved after collection; NULL if missing */
};

enum cg_expr_type {
	CG_EXPR_PAYLOAD,            /* load header bytes into a register */
	CG_EXPR_PAYLOAD_SET,        /* write header bytes (mangle) */
	CG_EXPR_META,               /* load meta key (iif, oifname, mark, l4proto...) */
	CG_EXPR_META_SET,           /* meta mark set ... */
	CG_EXPR_CT,                 /* load ct key (state, direction, status, mark) */
	CG_EXPR_CT_SET,
	CG_EXPR_CMP,
	CG_EXPR_BITWISE,
	CG_EXPR_BYTEORDER,
	CG_EXPR_RANGE,
	CG_EXPR_LOOKUP,             /* set/map lookup, verdict maps */
	CG_EXPR_IMMEDIATE,          /* load data or a verdict */
	CG_EXPR_COUNTER,
	CG_EXPR_LOG,
	CG_EXPR_LIMIT,              /* rate dependent: evaluates to unknown */
	CG_EXPR_QUOTA,              /* state dependent: evaluates to unknown */
	CG_EXPR_NAT,                /* snat/dnat */
	CG_EXPR_MASQ,
	CG_EXPR_REDIR,
	CG_EXPR_REJECT,
	CG_EXPR_NOTRACK,
	CG_EXPR_XT_MATCH,           /* xt match (compat or legacy), decoded by xt.h */
	CG_EXPR_XT_TARGET,          /* xt target (compat or legacy) */
	CG_EXPR_FIB,                /* fib: a route lookup's oif, oifname or type */
	CG_EXPR_UNKNOWN,            /* anything else: always unknown in evaluation */
};

/* The nf_tables expression name ("payload", "lookup", "match", ...); for
 * CG_EXPR_UNKNOWN the caller prints expr->unknown.name instead. */
const char *expr_type_to_string(enum cg_expr_type type);

struct xt_decoded;              /* see xt.h */

/* A bitwise expression's operands (never NULL in a collected rule). */
struct cg_bitwise_data {
	struct cg_data mask, xor, shift;
};

struct cg_expr {
	enum cg_expr_type type;
	union {
		struct { uint8_t dreg, base; uint32_t offset, len; } payload;
		struct { uint8_t sreg, base; uint32_t offset, len, csum_type, csum_offset; } payload_set;
		struct { uint32_t key; uint8_t reg; } meta;          /* dreg (load) or sreg (set) */
		struct { uint32_t key; uint8_t reg; int8_t dir; } ct; /* dir -1: none */
		struct { uint8_t sreg; uint32_t op; struct cg_data data; } cmp;
		struct {
			uint8_t sreg, dreg;
			uint32_t op, len;       /* NFT_BITWISE_BOOL/LSHIFT/RSHIFT */
			/* out of line: three data items would make every
			 * expression of the model 16 bytes larger */
			const struct cg_bitwise_data *data;
		} bitwise;
		struct { uint8_t sreg, dreg; uint32_t op, len, size; } byteorder;
		struct { uint8_t sreg; uint32_t op; struct cg_data from, to; } range;
		struct {
			uint8_t sreg, dreg;     /* dreg 0: plain membership test */
			bool invert;
			const char *set_name;
			uint32_t set_id;
			struct cg_set *set;     /* resolved after collection */
		} lookup;
		struct {
			uint8_t dreg;           /* 0 (NFT_REG_VERDICT): a verdict */
			struct cg_data data;
			struct cg_verdict verdict;
		} immediate;
		struct { uint32_t type; uint8_t code; bool code_set; } reject; /* NFT_REJECT_*, ICMP code */
		struct {
			uint32_t type;          /* NFT_NAT_SNAT / NFT_NAT_DNAT */
			uint8_t family;
			uint8_t reg_addr_min, reg_addr_max, reg_proto_min, reg_proto_max;
			uint32_t flags;
		} nat;
		struct { uint8_t reg_proto_min, reg_proto_max; uint32_t flags; } masq_redir;
		/* limit and log carry what iptables-nft writes for "-m limit"
		 * and "-j NFLOG", so they can be printed back (iptables-text.h);
		 * all zero when the collector did not fill them. */
		struct {
			uint64_t rate, unit;    /* rate per unit seconds */
			uint32_t burst;
			uint32_t type;          /* NFT_LIMIT_PKTS / NFT_LIMIT_PKT_BYTES */
			uint32_t flags;         /* NFT_LIMIT_F_INV */
			bool set;               /* the fields above were filled */
		} limit;
		struct {
			const char *prefix;     /* NULL: none */
			uint16_t group, qthreshold;
			uint32_t snaplen, level, logflags;
			/* bit 0: filled; 1 << NFTA_LOG_GROUP etc.: attribute given */
			uint32_t present;
		} log;
		struct {
			const char *name;
			uint8_t revision;
			uint32_t info_len;
			/* the kernel blob (xt_*_info); legacy rules keep it only
			 * when decoded is NULL: the decoded value says it all */
			const void *info;
			const struct xt_decoded *decoded; /* NULL when unsupported */
		} xt;
		struct {
			uint8_t dreg;
			uint32_t result;        /* NFT_FIB_RESULT_* */
			uint32_t flags;         /* NFTA_FIB_F_* */
		} fib;
		/* CG_EXPR_UNKNOWN and CG_EXPR_QUOTA: the expression's kind and
		 * its kernel attributes as the dump carried them (the nested
		 * NFTA_EXPR_DATA payload: netlink attributes, kernel byte
		 * order), NULL/0 if none; the printer and the evaluator read
		 * what they know of them */
		struct {
			const char *name;
			const uint8_t *attrs;
			uint32_t attrs_len;
		} unknown;
	};
};

struct cg_rule {
	struct cg_chain *chain;
	uint32_t index;             /* 1-based position in its chain */
	uint16_t n_exprs;           /* the kernel allows 128 (NFT_RULE_MAXEXPRS) */
	/* The expressions are held one of two ways; read them with
	 * rule_exprs(), never through the fields below:
	 *  - packed (the collectors): a compact byte string, rule_pack();
	 *    a 300k-rule ruleset is mostly expressions, and a struct cg_expr
	 *    is 56 bytes where its packed form averages about a dozen;
	 *  - exprs (rules built by hand: the unit tests). */
	bool packed;
	uint64_t handle;            /* nft handle; 0 for legacy */
	union {
		const uint8_t *code;    /* packed */
		struct cg_expr *exprs;  /* not packed */
	};
	const char *comment;        /* nft rule comment or -m comment; NULL if none */
};

/* A rule's expressions, unpacked for reading. The array lives in buf (its
 * own room for a few expressions, the heap beyond), and its data bytes in
 * the rule's packed string: valid while both are; expr_buf_free() after
 * use. Pointers in the expressions (names, sets, chains, xt values) point
 * into the ruleset as usual. */
#define CG_EXPR_BUF_LOCAL 16
struct cg_expr_buf {
	struct cg_expr *heap;
	uint32_t cap;
	struct cg_expr local[CG_EXPR_BUF_LOCAL];
};

const struct cg_expr *rule_exprs(const struct cg_rule *r, struct cg_expr_buf *buf);
void expr_buf_free(struct cg_expr_buf *buf);

/* Packs n (at most UINT16_MAX) expressions into r (r->code, r->n_exprs,
 * r->packed), memory from a. Data bytes (cmp, immediate, range) are copied into the
 * packed string; every other pointer (names, xt values, bitwise operands,
 * sets, chains) is stored as is and must outlive the ruleset. */
void rule_pack(struct cg_rule *r, struct arena *a, const struct cg_expr *v, uint32_t n);

/* Writes v (r->n_exprs expressions, as rule_exprs() gave them, with only
 * pointer fields changed: a resolved chain or set) back into r, in place.
 * Returns 0, or -EINVAL if that would need more room (nothing written). */
int rule_repack(struct cg_rule *r, const struct cg_expr *v);

/* A rule's identity in the model (rule-identity.c), to find a rule again in
 * another reading of the ruleset: its expressions compared structurally
 * (jump targets and named sets by name, an anonymous set by its elements,
 * xt extensions by their decoded values) and its comment. Not its chain,
 * position or handle: callers add what their backend has. rule_hash() is
 * the same identity as a number (equal rules hash alike), stable across
 * readings and runs of the same program. */
bool rule_equal(const struct cg_rule *a, const struct cg_rule *b);
uint64_t rule_hash(const struct cg_rule *r);

struct cg_table;

struct cg_chain {
	/* ordered for size: a kube-proxy table has 100k of them */
	struct cg_table *table;
	const char *name;
	uint64_t handle;
	const char *type;           /* "filter", "nat", "route" (base chains) */
	const char *dev;            /* netdev chains; NULL otherwise */
	const char **devs;
	struct cg_rule *rules;
	uint32_t hook;              /* NF_INET_* / NF_NETDEV_* */
	int32_t priority;
	enum cg_verdict_code policy;/* ACCEPT or DROP for base chains */
	uint32_t n_devs;            /* all hook devices (dev is devs[0]) */
	uint32_t flags;             /* NFT_CHAIN_* (BINDING: an anonymous chain) */
	uint32_t n_rules;
	bool base;                  /* has a hook */
	/* Its rules are not read yet (n_rules 0): the collector reads only
	 * what packets can reach of a very large table (src/collect/nft.c);
	 * chain_read() reads them when a packet gets here. */
	bool unread;
};

enum {
	CG_SET_INTERVAL = 1 << 0,
	CG_SET_MAP = 1 << 1,
	CG_SET_CONCAT = 1 << 2,
	CG_SET_TIMEOUT = 1 << 3,
	CG_SET_ANONYMOUS = 1 << 4,
	CG_SET_CONSTANT = 1 << 5,
	CG_SET_EVAL = 1 << 6,       /* dynamic set */
	/* Too large to dump (src/collect/nft.c): the model holds none of its
	 * elements (n_elems 0) and set_lookup() asks `source`, the kernel,
	 * per key. */
	CG_SET_LAZY = 1 << 7,
	/* Not read yet (n_elems 0): an anonymous set of a chain not read yet
	 * (cg_chain.unread); read with its chain. */
	CG_SET_UNREAD = 1 << 8,
};

struct cg_set_elem {
	struct cg_data key;         /* interval sets: the range's start */
	struct cg_data key_end;     /* NFTNL_SET_ELEM_KEY_END (concat ranges), else len 0 */
	bool interval_end;          /* NFT_SET_ELEM_INTERVAL_END marker */
	struct cg_data data;        /* maps */
	struct cg_verdict verdict;  /* verdict maps */
	bool catchall;              /* NFT_SET_ELEM_CATCHALL: matches what nothing else does */
	/* object maps (cg_set.obj_type): the name of the object the element
	 * maps to (NFTA_SET_ELEM_OBJREF); NULL when the collector did not
	 * read it (an anonymous object map then prints as a placeholder) */
	const char *obj;
};

struct cg_set;

/* Where a lazy set's elements come from. The collector provides it and the
 * ruleset owns it (ruleset_free() calls free), so the model calls through
 * these pointers and holds no netlink code. */
struct cg_set_source_ops {
	/* The element of s that a lookup of key (len bytes) finds among the
	 * set's keys and ranges, or with key NULL the set's catch-all
	 * element: 1 with *out set, 0 when there is none (*out NULL), or a
	 * negative errno when the kernel could not tell (-ESTALE: the ruleset
	 * changed since the dump) with *why a sentence naming the set and the
	 * reason, valid as long as the source. Each answer is asked once. */
	int (*get)(void *ctx, const struct cg_set *s, const uint8_t *key, uint32_t len,
		   const struct cg_set_elem **out, const char **why);
	/* Reads the rules of ch (cg_chain.unread) as they were at the
	 * ruleset's generation, and the elements of the unread sets they
	 * use, resolved and indexed: 0, or a negative errno (-ESTALE: the
	 * chain or one of its sets changed since) with *why a sentence naming
	 * the chain and the reason, valid as long as the source. NULL: the
	 * source reads no chains. */
	int (*load_chain)(void *ctx, struct cg_chain *ch, const char **why);
	void (*free)(void *ctx);
};

struct cg_set_source {
	const struct cg_set_source_ops *ops;
	void *ctx;
};

/* Interval sets are stored as sorted, non-overlapping [lo, hi] ranges
 * (big-endian byte strings compare as numbers) for binary search. */
struct cg_interval {
	const uint8_t *lo, *hi;     /* key_len bytes each, inclusive */
	const struct cg_set_elem *elem;
};

struct cg_set {
	struct cg_table *table;
	const char *name;
	uint64_t handle;
	uint32_t id;
	uint32_t flags;             /* CG_SET_* */
	uint32_t key_type, key_len;
	uint32_t data_type, data_len;
	uint32_t size;              /* NFTA_SET_DESC_SIZE; 0 if none */
	uint32_t obj_type;          /* object maps: NFT_OBJECT_*; else 0 */
	/* NFTA_SET_USERDATA as nft wrote it (libnftnl's udata TLVs: the key's
	 * byte order and typeof, which says a field was raw payload); NULL
	 * when the collector did not keep it */
	const uint8_t *udata;
	uint32_t udata_len;
	/* Concatenations: each field's length in bytes; in a key every field
	 * starts on a 4-byte register boundary. n_fields 0: one field. */
	uint8_t n_fields;
	uint8_t field_len[16];
	uint32_t n_elems;
	struct cg_set_elem *elems;
	/* CG_SET_LAZY only: the kernel's elements counted before the dump
	 * stopped (0: not dumped at all), and who answers lookups. */
	uint32_t n_elems_seen;
	struct cg_set_source *source;
	/* built by model_index_sets(): */
	uint32_t n_intervals;
	struct cg_interval *intervals;
	void *hash;                 /* exact-match index and catch-all, model-private */
	/* The keys set_lookup() was asked (key_len bytes each; malloc'd,
	 * ruleset_free() frees them), for telling which later changes of
	 * its elements can matter to the audit (--keep); n_lookups
	 * CG_SET_LOOKUPS_MANY: more than CG_SET_LOOKUPS_MAX, or a set of no
	 * table (no ruleset frees them): not kept. */
	uint8_t *lookups;
	uint32_t n_lookups;
};
#define CG_SET_LOOKUPS_MAX 64u
#define CG_SET_LOOKUPS_MANY UINT32_MAX

/* An ipset's name by the kernel's index: an x_tables SET target's blob
 * holds the index, and iptables-save asks ipset for the name. */
struct cg_ipset_name {
	uint16_t index;
	const char *name;
};

struct cg_table {
	enum cg_backend backend;
	uint8_t family;             /* NFPROTO_* */
	const char *name;
	uint64_t handle;
	uint32_t flags;
	uint32_t n_chains;
	struct cg_chain *chains;
	uint32_t n_sets;
	struct cg_set *sets;
	void *index;                /* chain and set names, model-private */
	/* Where its unread chains come from (NULL: every chain is read). */
	struct cg_set_source *source;
	/* the names of the ipsets the table's SET targets name, sorted by
	 * index; NULL when the collector did not read them (the target then
	 * names the index in a comment) */
	const struct cg_ipset_name *ipset_names;
	uint32_t n_ipset_names;
	/* Set by a collector whose every jump and goto already points at
	 * its chain (and names it by the chain's own name), with no set
	 * lookups: ruleset_resolve() then leaves the rules alone (the
	 * iptables-legacy collector: 300k rules would each be unpacked and
	 * looked up again for nothing). */
	bool jumps_resolved;
	/* Set by a collector that knows no rule of the table has an xt "set"
	 * match or SET target: ipset_collect() need not unpack its rules to
	 * look. */
	bool no_xt_set;
};

struct cg_ruleset {
	struct arena arena;
	uint32_t n_tables;
	struct cg_table *tables;
	uint32_t nft_generation;    /* nf_tables ruleset generation at dump time */
	bool have_nftables, have_legacy;
	struct cg_set_source *set_source; /* lazy sets' lookups; NULL if none */
};

/* Frees everything the ruleset holds (the arena) and zeroes it. */
void ruleset_free(struct cg_ruleset *rs);

/* What a ruleset holds, counted over its tables (the collectors' debug
 * lines, the tests' summaries). Ranges are the set indexes' intervals. */
struct ruleset_counts {
	uint64_t chains, rules, sets, elems, lazy_sets, ranges;
};
void ruleset_count(const struct cg_ruleset *rs, struct ruleset_counts *out);

/* Appends n zeroed tables, moving the existing ones (their chains and sets
 * follow); returns the first new table. Collectors call this, then
 * ruleset_resolve(). */
struct cg_table *ruleset_add_tables(struct cg_ruleset *rs, uint32_t n);

/* Indexes every table not indexed yet (chain and set names), resolves
 * jump/goto targets (rules and verdict-map elements) and lookups, and builds
 * the set indexes (model_index_sets()). Targets that do not exist stay NULL.
 * Returns 0 or a negative errno. */
int ruleset_resolve(struct cg_ruleset *rs);

/* Builds the name index of one table (after its chains and sets are final). */
void table_index_build(struct cg_table *t, struct arena *a);
/* O(1) name lookups within a table (which must be indexed); NULL if absent. */
struct cg_chain *chain_find(const struct cg_table *t, const char *name);
/* Makes sure ch's rules are in the model: nothing to do for a chain that
 * was read (0); an unread one is read through its table's source (0), or
 * cannot be (a negative errno, *why saying why: the simulator's verdict is
 * then uncertain). The model is logically unchanged: the rules were the
 * chain's all along, so ch is const. */
int chain_read(const struct cg_chain *ch, const char **why);
/* For a source that just read ch's rules (or s's elements): resolves their
 * jumps, gotos and lookups like ruleset_resolve() (the sets they use must
 * be read first), and indexes s in arena a. */
void chain_rules_resolve(const struct cg_table *t, struct cg_chain *ch);
int set_read_resolve(const struct cg_table *t, struct cg_set *s, struct arena *a);
struct cg_set *set_find(const struct cg_table *t, const char *name);

/* Builds the lookup index of every set of the ruleset not indexed yet. */
int model_index_sets(struct cg_ruleset *rs);
/* Builds one set's index: interval sets become sorted [lo, hi] ranges (from
 * the kernel's start/end-marker elements, or key/key_end ranges), the other
 * sets a hash. For hand-built sets too. Returns 0 or -EINVAL (bad keys). */
int set_index_build(struct cg_set *s, struct arena *a);
/* The element a lookup of `key` (the register contents, key_len bytes) finds,
 * as the kernel would: the matching range or exact key, else the catch-all
 * element. Returns 1 with *ret set, 0 when nothing matches (*ret NULL), or,
 * for a lazy set (CG_SET_LAZY) whose source could not answer, a negative
 * errno: the outcome is unknown, and *why (when why is not NULL) says which
 * set and why, in a string that lives as long as the ruleset. */
int set_lookup(const struct cg_set *s, const uint8_t *key, uint32_t len, const struct cg_set_elem **ret,
	       const char **why);
