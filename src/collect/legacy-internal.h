/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the legacy collector's files; not an interface. */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
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
	/* or, when the caller knows it (the stream), the next rule's jump
	 * target itself; the rule's target_label is then that chain's name
	 * (the same pointer) */
	struct cg_chain *target;
	struct cg_expr *tmp;            /* scratch, grown as needed */
	size_t tmp_cap;
	struct arena scratch;           /* a rule's data until it is packed */
	struct xt_intern *xt;           /* decoded xt values, shared (made on first use) */
	uint64_t unresolved;            /* jumps whose chain ctx->chains did not have */
	uint64_t set_matches;           /* xt "set" matches and SET targets (ipset_collect() reads those) */
	/* the extension names met last (a table uses a handful), each with
	 * the name the model holds: a name field is looked up once, not for
	 * every match of every rule */
	struct ext_name_slot {
		char field[XT_EXTENSION_MAXNAMELEN];
		uint8_t len;            /* 0: empty */
		bool target;
		const char *name;
	} ext_names[16];
};

/* Fills rule (packed expressions, comment) from v; the xt blobs are
 * decoded (or copied) into the arena, the entry itself is not kept. Jumps and
 * gotos point at the chain (and its name) found in ctx->chains. Returns 0 or
 * -EINVAL for a malformed entry. */
int legacy_rule_compile(const struct entry_view *v, struct compile_ctx *ctx, struct cg_rule *rule);

/* The walk's pieces (legacy-walk.c), for the streamed read
 * (legacy-read.c), which walks the chains as the kernel's copy completes
 * them: */
/* 0 and *hook for a built-in chain's name, else -EINVAL; and the name of
 * a hook's built-in chain ("PREROUTING", ...; NULL for none). */
int legacy_builtin_hook(const char *chain, uint32_t *hook);
const char *legacy_builtin_name(uint32_t hook);
/* A built-in chain's hook, priority, type and policy (libiptc's name of
 * it: "ACCEPT", "DROP"); logs what is wrong. */
int legacy_chain_base(uint8_t nfproto, const char *table, const char *policy, struct cg_chain *c);
/* Rule i of c (c->rules allocated) from v, v->target_label set (NULL: the
 * jump lands in no chain); logs what is wrong. */
int legacy_rule_fill(uint8_t nfproto, const char *table, struct cg_chain *c, uint32_t i,
		     const struct entry_view *v, struct compile_ctx *ctx);

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
/* An entry's target, and a standard target's verdict (false for any other
 * target). */
const struct xt_entry_target *legacy_entry_target(const struct entry_view *v);
bool legacy_standard_verdict(const struct entry_view *v, int *verdict);
/* libiptc's name of a negative standard verdict ("ACCEPT", "DROP", "QUEUE",
 * "RETURN"), NULL for anything else. */
const char *legacy_verdict_label(int verdict);
/* "IPv4" or "IPv6", as the messages name the family. */
const char *legacy_family_label(uint8_t nfproto);

extern const struct legacy_source_ops legacy_snapshot_ops;

/* The kernel's snapshot of one table (legacy-snapshot.c), as read whole
 * there or streamed (legacy-read.c). */
/* The kernel's getinfo structs of both families share one layout. */
struct getinfo {
	char name[XT_TABLE_MAXNAMELEN];
	unsigned int valid_hooks;
	unsigned int hook_entry[NF_INET_NUMHOOKS];
	unsigned int underflow[NF_INET_NUMHOOKS];
	unsigned int num_entries;
	unsigned int size;
};
_Static_assert(sizeof(struct getinfo) == sizeof(struct ipt_getinfo), "ipt_getinfo layout");
_Static_assert(sizeof(struct getinfo) == sizeof(struct ip6t_getinfo), "ip6t_getinfo layout");
_Static_assert(sizeof(struct ipt_get_entries) == sizeof(struct ip6t_get_entries), "get_entries layout");

struct snap_chain {
	const char *name;           /* the label (a copy: the snapshot's pages are released) */
	uint32_t head, foot;        /* first and last entry offset of the chain */
	uint32_t first, end;        /* its rules: entries [first, end) */
	bool builtin;
	uint32_t hook;
	int policy;                 /* built-in chains: the policy entry's verdict */
};

struct legacy_snapshot {
	uint8_t nfproto;
	void *buf;                  /* struct ipt_get_entries / ip6t_get_entries */
	size_t buf_len;             /* mapped length; 0: buf is malloc()ed */
	uint32_t released;          /* entries below this offset are handed back */
	struct arena names;         /* the user chains' names */
	struct arena *names_into;   /* or the model's arena (the stream: one copy) */
	bool *compiled;             /* per chain (snapshot order): walked through */
	uint32_t n_compiled;        /* leading chains (snapshot order) all walked */
	const uint8_t *base;        /* its entry table */
	uint32_t size;
	void (*view)(const void *e, struct entry_view *v);
	struct snap_chain *chains;  /* in snapshot order (by head offset) */
	uint32_t *heads;            /* chains[i].head, packed: searched per jump */
	size_t heads_cap;
	uint32_t n_chains;
	uint32_t *order;            /* iteration order: libiptc's */
	uint32_t iter;              /* first_chain()/next_chain() position */
	uint32_t rule_iter;         /* first_rule() is asked in the same order */
	const struct snap_chain *cur; /* the chain first_rule() opened */
	struct getinfo info;        /* the hook layout, the size */
};

/* The walk over the entries that finds the chain boundaries, one entry at
 * a time: the whole table at once, or (streamed) as the kernel's copy
 * completes entries. It appends each chain to s->chains as it ends, and
 * tells closed() (streamed: the chain is compiled there). */
struct parse {
	uint32_t off, prev;                 /* the next entry, the one before */
	struct snap_chain open;             /* the chain being read */
	bool is_open, ended;
	size_t cap;
	int (*closed)(void *arg, uint32_t chain);
	void *arg;
};
/* Parses the entries that end at or below `upto` (s->size: all of them),
 * from where p stopped. 0 or -EBADMSG. */
int legacy_snapshot_parse(struct legacy_snapshot *s, struct parse *p, uint32_t upto);
/* The chain the entry at offset off lies in, or NULL. */
const struct snap_chain *legacy_snapshot_chain_at(const struct legacy_snapshot *s, uint32_t off);

/* Compiles one table from a source into *t (memory from a): the walk
 * (legacy-walk.c). */
int legacy_table_from_source(const struct legacy_source_ops *ops, void *h, uint8_t nfproto,
			     const char *table, struct arena *a, struct cg_table *t);

/* IPT_SO_GET_ENTRIES / IP6T_SO_GET_ENTRIES through a userfaultfd
 * (legacy-stream.c): the entries are read while the kernel copies them, a
 * window of pages at a time. */
struct xt_stream;
struct xt_stream_stats {
	unsigned faults;            /* faults resolved */
	size_t window;              /* most bytes resolved and not yet handed back */
};
/* Starts the copy of a table of `size` bytes (the size GET_INFO gave) on
 * socket sock (getsockopt(sock, level, opt)). Fails (*why says why, for a
 * debug line) when no userfaultfd can be had: the caller reads the table
 * whole instead. */
int xt_stream_open(int sock, int level, int opt, const char *table, uint32_t size, struct xt_stream **out,
		   const char **why);
/* The entry table; read only the complete entries, and none handed back. */
const uint8_t *xt_stream_entries(const struct xt_stream *st);
/* Lets the kernel go on and waits until it has written more: *complete is
 * the entry offset below which every entry that ends there is final (the
 * whole size once the kernel is through). 0, 1 when the kernel is through,
 * or a negative errno: the
 * kernel's (EAGAIN: the table changed size), -ETIMEDOUT, -EFAULT. */
int xt_stream_wait(struct xt_stream *st, uint32_t *complete);
/* The entries below `upto` are read: their pages are handed back. */
void xt_stream_release(struct xt_stream *st, uint32_t upto);
const struct xt_stream_stats *xt_stream_stats(const struct xt_stream *st);
/* Lets the kernel go (whatever its copy has got to), joins the thread and
 * frees everything; the entries are gone. */
void xt_stream_close(struct xt_stream *st);
