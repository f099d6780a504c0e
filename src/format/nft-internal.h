/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the files of the nftables rule printer; not an interface
 * (include/cgnatcheck/nft-text.h is). The files follow the stages nft takes
 * when it lists a rule, each calling only the ones above it:
 *
 *   nft-datatype.c     numbers as nft's mpz holds them, the output buffer,
 *                      datatypes and how their values print (datatype.c)
 *   nft-expr.c         expression and statement nodes: their constructors and
 *                      typing (expression.c, statement.c)
 *   nft-proto.c        protocol headers, meta and ct keys, the protocol context
 *                      and payload fields (proto.c, meta.c, ct.c, payload.c)
 *   nft-setelem.c      anonymous sets: their elements as nft lists them
 *                      (netlink.c, segtree.c)
 *   nft-delinearize.c  step 1: expressions -> statements (netlink_parse_*)
 *   nft-postprocess.c  step 2: naming, typing and merging what step 1 read
 *                      (rule_parse_postprocess(), payload dependencies)
 *   nft-stmt.c         step 3: printing statements and expressions
 *                      (statement.c, expression.c), and a rule's whole run
 *   nft-text.c         the entry points of nft-text.h
 *
 * Everything a rendering allocates comes from one scratch arena (struct ctx). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/ruleset.h"

/* ==== numbers (nft-datatype.c) ================================================
 * A value as nft's mpz holds it: an unsigned number, most significant byte
 * first, wide enough for any register content (NFT_DATA_VALUE_MAXLEN). */

#define NUM_BYTES 64
#define NUM_BITS (NUM_BYTES * 8)
#define NO_BIT UINT_MAX

struct num {
	uint8_t b[NUM_BYTES];
};

bool nftp_num_bit(const struct num *n, unsigned i);
void nftp_num_setbit(struct num *n, unsigned i);
unsigned nftp_num_scan1(const struct num *n, unsigned from);
unsigned nftp_num_scan0(const struct num *n, unsigned from);
bool nftp_num_is_zero(const struct num *n);
int nftp_num_cmp(const struct num *a, const struct num *b);
unsigned nftp_num_popcount(const struct num *n);
void nftp_num_and(struct num *r, const struct num *a, const struct num *b);
void nftp_num_or(struct num *r, const struct num *a, const struct num *b);
void nftp_num_xor(struct num *r, const struct num *a, const struct num *b);
void nftp_num_shl(struct num *n, unsigned bits);
void nftp_num_shr(struct num *n, unsigned bits);
struct num nftp_num_mask(unsigned bits);
void nftp_num_add(struct num *r, const struct num *a, const struct num *b);
void nftp_num_sub(struct num *r, const struct num *a, const struct num *b);
struct num nftp_num_from_u64(uint64_t v);
struct num nftp_num_from_bytes(const uint8_t *p, unsigned len);
void nftp_num_to_bytes(const struct num *n, uint8_t *p, unsigned len);
void nftp_num_swap(struct num *n, unsigned len);
void nftp_bytes_reverse(uint8_t *p, unsigned len);

/* ==== output (nft-datatype.c) ================================================= */

struct out {
	char *buf;
	size_t len, cap;
};

void nftp_out_printf(struct out *o, const char *fmt, ...) _printf_(2, 3);
void nftp_out_puts(struct out *o, const char *s);

/* ==== expressions (nft-expr.c) ================================================ */

/* nftables' datatype numbers (datatype.h): set key and data types name them */
enum {
	TYPE_INVALID, TYPE_VERDICT, TYPE_NFPROTO, TYPE_BITMASK, TYPE_INTEGER, TYPE_STRING,
	TYPE_LLADDR, TYPE_IPADDR, TYPE_IP6ADDR, TYPE_ETHERADDR, TYPE_ETHERTYPE, TYPE_ARPOP,
	TYPE_INET_PROTOCOL, TYPE_INET_SERVICE, TYPE_ICMP_TYPE, TYPE_TCP_FLAG, TYPE_DCCP_PKTTYPE,
	TYPE_MH_TYPE, TYPE_TIME, TYPE_MARK, TYPE_IFINDEX, TYPE_ARPHRD, TYPE_REALM, TYPE_CLASSID,
	TYPE_UID, TYPE_GID, TYPE_CT_STATE, TYPE_CT_DIR, TYPE_CT_STATUS, TYPE_ICMP6_TYPE,
	TYPE_CT_LABEL, TYPE_PKTTYPE, TYPE_ICMP_CODE, TYPE_ICMPV6_CODE, TYPE_ICMPX_CODE,
	TYPE_DEVGROUP, TYPE_DSCP, TYPE_ECN, TYPE_FIB_ADDR, TYPE_BOOLEAN, TYPE_CT_EVENTBIT,
	TYPE_IFNAME, TYPE_IGMP_TYPE, TYPE_TIME_DATE, TYPE_TIME_HOUR, TYPE_TIME_DAY, TYPE_CGROUPV2,
	TYPE_MAX,
};
#define TYPE_BITS 6
#define TYPE_MASK ((1u << TYPE_BITS) - 1)

enum byteorder { BO_INVALID, BO_HOST, BO_BIG };

/* payload bases as nft numbers them: the kernel's NFT_PAYLOAD_* plus one */
enum base { BASE_INVALID, BASE_LL, BASE_NH, BASE_TH, BASE_IH, BASE_MAX = BASE_IH };

enum op {
	OP_INVALID, OP_IMPLICIT, OP_HTON, OP_NTOH, OP_LSHIFT, OP_RSHIFT, OP_AND, OP_XOR, OP_OR,
	OP_EQ, OP_NEQ, OP_LT, OP_GT, OP_LTE, OP_GTE, OP_NEG,
};

enum node_type {
	N_VALUE, N_PAYLOAD, N_META, N_CT, N_BINOP, N_UNARY, N_RELATIONAL, N_PREFIX, N_RANGE,
	N_CONCAT, N_LIST, N_SET, N_SET_REF, N_MAP, N_MAPPING, N_VERDICT, N_CATCHALL,
	N_FLAGCMP,      /* left: the expression, right: the mask, items[0]: the value */
	N_FIB,          /* key: the result (NFT_FIB_RESULT_*), fib_flags: NFTA_FIB_F_* */
	N_TEXT,         /* a load printed as fixed words (what), an optional
			 * argument (left) and words after it (suffix):
			 * rt, socket, osf, numgen, hash, exthdr, xfrm */
	N_UNSUPPORTED,
};

enum { F_PROTOCOL = 1 << 0, F_INTERVAL_END = 1 << 1 };

struct dtype;
struct proto_desc;
struct hdr_tmpl;

struct node {
	enum node_type type;
	const struct dtype *dtype;
	enum byteorder byteorder;
	unsigned len;                   /* bits */
	unsigned flags;                 /* F_* */
	enum op op;                     /* binop, unary, relational */
	struct node *left, *right;      /* binop/relational/range/mapping, prefix: left */
	unsigned prefix_len;
	struct node **items;            /* concat, list, set */
	unsigned n_items, cap_items;
	struct num *value;              /* N_VALUE */
	struct {
		enum base base;
		unsigned offset;        /* bits */
		const struct proto_desc *desc;  /* nftp_proto_unknown: raw */
		const struct hdr_tmpl *tmpl;
	} payload;
	uint32_t key;                   /* meta, ct; fib: the result */
	uint32_t fib_flags;             /* fib */
	int8_t dir;                     /* ct: -1 none */
	enum base kbase;                /* meta/ct: the protocol base a key selects */
	const struct cg_set *set;       /* N_SET_REF */
	struct node *set_init;          /* N_SET_REF of an anonymous set: its elements */
	const struct cg_verdict *verdict;
	const char *what;               /* N_UNSUPPORTED, N_TEXT */
	const char *suffix;             /* N_TEXT */
	unsigned shift;                 /* N_TEXT: a field's bits right of it in the load */
	const void *fields;             /* N_TEXT: exthdr templates a mask may narrow it to */
};

struct ctx {
	struct arena *a;
	uint8_t family;                 /* the table's NFPROTO_* */
	const struct cg_table *table;   /* the rule's, NULL if not known */
};

struct node *nftp_node_new(struct ctx *c, enum node_type type, const struct dtype *dt,
		      enum byteorder bo, unsigned len);
struct node *nftp_node_clone(struct ctx *c, const struct node *n);
void nftp_node_add_item(struct ctx *c, struct node *list, struct node *item);
struct node *nftp_value_new(struct ctx *c, const struct dtype *dt, enum byteorder bo,
		       unsigned len, const struct num *v);
/* the data of an expression (cmp, range, immediate, a set element), untyped */
struct node *nftp_data_value(struct ctx *c, const struct cg_data *d);
struct node *nftp_value_splice(struct ctx *c, struct node *v, unsigned len);
struct node *nftp_relational_new(struct ctx *c, enum op op, struct node *l, struct node *r);
struct node *nftp_binop_new(struct ctx *c, enum op op, struct node *l, struct node *r);
struct node *nftp_prefix_new(struct ctx *c, struct node *v, unsigned plen);
struct node *nftp_range_new(struct ctx *c, struct node *lo, struct node *hi);
/* expr_set_type() */
void nftp_node_set_type(struct node *n, const struct dtype *dt, enum byteorder bo);
struct node *nftp_bitmask_to_binops(struct ctx *c, struct node *v);

/* the 32-bit registers a value of `bits` takes, and their bits */
unsigned nftp_register_space(unsigned bits);
unsigned nftp_padded_len(unsigned bits);

/* ==== datatypes (nft-datatype.c) ==============================================
 * What nft's datatype.c, meta.c, ct.c and proto.c define, as far as values
 * print differently; a type without its own print falls back to its base. */

struct symbol {
	const char *name;
	uint64_t value;
};

typedef void print_fn(struct out *o, const struct node *v);

struct dtype {
	unsigned type;                  /* TYPE_* */
	enum byteorder byteorder;
	unsigned size;                  /* bits */
	const struct dtype *basetype;
	int hexw;                       /* integer format: -1 decimal, else hex, n digits */
	bool has_fmt;                   /* hexw is this type's own format */
	bool prefix;                    /* DTYPE_F_PREFIX: masks print as /len */
	print_fn *print;
	const struct symbol *syms;      /* NULL-name terminated */
	bool quote_syms;                /* symbols print in double quotes */
	const char *sym_file;           /* /etc/iproute2 table giving names */
};

extern const struct dtype nftp_dt_invalid, nftp_dt_integer, nftp_dt_xinteger, nftp_dt_bitmask, nftp_dt_string,
	nftp_dt_ifname, nftp_dt_etheraddr, nftp_dt_ipaddr, nftp_dt_ip6addr, nftp_dt_nfproto, nftp_dt_ethertype, nftp_dt_arpop,
	nftp_dt_inet_protocol, nftp_dt_inet_service, nftp_dt_icmp_type, nftp_dt_icmp6_type, nftp_dt_icmp_code, nftp_dt_icmpv6_code,
	nftp_dt_icmpx_code, nftp_dt_igmp_type, nftp_dt_tcp_flag, nftp_dt_dccp_pkttype, nftp_dt_dscp, nftp_dt_ecn, nftp_dt_mark,
	nftp_dt_ifindex, nftp_dt_arphrd, nftp_dt_realm, nftp_dt_classid, nftp_dt_uid, nftp_dt_gid, nftp_dt_ct_state, nftp_dt_ct_dir,
	nftp_dt_ct_status, nftp_dt_ct_event, nftp_dt_ct_label, nftp_dt_pkttype, nftp_dt_devgroup, nftp_dt_boolean, nftp_dt_time,
	nftp_dt_date, nftp_dt_hour, nftp_dt_day, nftp_dt_fib_addr, nftp_dt_verdict, nftp_dt_mh_type;

const struct dtype *nftp_dtype_base(const struct dtype *dt);
bool nftp_dtype_is_bitmask(const struct dtype *dt);
void nftp_print_integer(struct out *o, const struct node *v);
uint64_t nftp_value_u64(const struct node *v);
void nftp_print_by_type(struct out *o, const struct node *v, const struct dtype *dt);
const struct dtype *nftp_dtype_by_id(unsigned type);

/* ==== protocol headers, keys, the protocol context (nft-proto.c) ============== */

enum icmp_dep {
	ICMP_DEP_ANY, ICMP_DEP_ECHO, ICMP_DEP_MTU, ICMP_DEP_ADDRESS, ICMP6_DEP_MTU,
	ICMP6_DEP_PPTR, ICMP6_DEP_ECHO, ICMP6_DEP_MGMQ,
};

struct hdr_tmpl {
	const char *token;
	const struct dtype *dtype;
	unsigned offset, len;           /* bits */
	enum byteorder byteorder;
	uint32_t meta_key;              /* index 0: the meta key standing for the protocol field */
	enum icmp_dep icmp_dep;
};

struct proto_link {
	unsigned num;
	const struct proto_desc *desc;
};

#define MAX_TMPL 16
#define MAX_LINKS 12

struct proto_desc {
	const char *name;
	enum base base;
	unsigned protocol_key;          /* index of the field naming the upper protocol */
	unsigned length;                /* bits; link layer headers that stack */
	struct proto_link links[MAX_LINKS];
	struct hdr_tmpl tmpl[MAX_TMPL];
};

extern const struct proto_desc nftp_proto_ip, nftp_proto_ip6, nftp_proto_icmp, nftp_proto_icmp6, nftp_proto_eth, nftp_proto_vlan,
	nftp_proto_unknown;

int nftp_proto_num(const struct proto_desc *base, const struct proto_desc *desc);
unsigned nftp_icmp_dep_type(enum icmp_dep d);

/* a meta or ct key: its name, and the value it loads */
struct key_tmpl {
	const char *token;
	const struct dtype *dtype;
	unsigned len;
	enum byteorder byteorder;
};

const struct key_tmpl *nftp_meta_tmpl(uint32_t key);
const struct key_tmpl *nftp_ct_tmpl(uint32_t key);
struct node *nftp_meta_new(struct ctx *c, uint32_t key);
struct node *nftp_ct_new(struct ctx *c, uint32_t key, int8_t dir);

struct proto_ctx {
	uint8_t family;
	const struct proto_desc *desc[BASE_MAX + 1];
	const struct proto_desc *stacked_ll[16];
	unsigned n_stacked;
	unsigned icmp_type;             /* th_dep: the icmp type a match established */
};

void nftp_proto_ctx_init(struct proto_ctx *pc, uint8_t family);
void nftp_relational_pctx_update(struct proto_ctx *pc, const struct node *rel);

struct node *nftp_payload_raw(struct ctx *c, unsigned base, unsigned offset, unsigned len);
void nftp_payload_complete(struct node *e, const struct proto_ctx *pc);
bool nftp_payload_known(const struct node *e);
unsigned nftp_payload_expand(struct ctx *c, const struct node *e, const struct proto_ctx *pc,
			struct node **out, unsigned max);
bool nftp_payload_trim(struct node *e, const struct node *mask, const struct proto_ctx *pc,
		  unsigned *shift);
bool nftp_payload_stacked(const struct proto_desc *desc, const struct node *rel);

/* ==== statements (nft-expr.c) ================================================= */

enum stmt_type {
	S_EXPR, S_VERDICT, S_COUNTER, S_META, S_CT, S_PAYLOAD, S_LOG, S_LIMIT, S_QUOTA,
	S_REJECT, S_NAT, S_NOTRACK, S_XT,
	S_TEXT,         /* what, then args[i] and texts[i] in turn (either may be NULL) */
	S_UNSUPPORTED,
};

/* nft's NAT statement kinds (the kernel has separate masq/redir expressions) */
enum nat_kind { NAT_SNAT, NAT_DNAT, NAT_MASQ, NAT_REDIR };

enum { NAT_F_PREFIX = 1 << 0 };

struct stmt {
	enum stmt_type type;
	struct stmt *prev, *next;
	struct node *expr;              /* S_EXPR, S_VERDICT; the value of S_META/S_CT/S_PAYLOAD */
	struct node *target;            /* S_PAYLOAD: the field written */
	uint32_t key;                   /* S_META, S_CT */
	int8_t dir;                     /* S_CT */
	const struct cg_expr *src;      /* log, limit, reject, xt */
	struct {
		enum nat_kind kind;
		uint8_t family;         /* printed as "ip"/"ip6" in inet tables */
		uint32_t flags;         /* NF_NAT_RANGE_* */
		unsigned type_flags;    /* NAT_F_* */
		struct node *addr, *proto;
	} nat;
	struct {
		uint8_t family;
		bool verbose;
	} reject;
	const char *what;               /* S_UNSUPPORTED, S_TEXT */
	struct node *args[3];           /* S_TEXT */
	const char *texts[3];           /* S_TEXT */
	bool loads;                     /* S_UNSUPPORTED: the expression loaded a register */
	bool consumed;                  /* ... which a later expression used */
};

struct stmt_list {
	struct stmt *head, *tail;
};

struct stmt *nftp_stmt_new(struct ctx *c, enum stmt_type type);
void nftp_stmt_append(struct stmt_list *l, struct stmt *s);
void nftp_stmt_insert_before(struct stmt_list *l, struct stmt *pos, struct stmt *s);
void nftp_stmt_unlink(struct stmt_list *l, struct stmt *s);

/* ==== anonymous sets (nft-setelem.c) ========================================== */

bool nftp_set_is_vmap(const struct cg_set *s);
/* a reference to the set a lookup names; an anonymous one carries its
 * elements, typed by lhs, what the lookup matches */
struct node *nftp_set_ref_new(struct ctx *c, const struct cg_set *set, const struct node *lhs);

/* ==== step 1's register file (nft-delinearize.c) ============================== */

#define MAX_REGS 16

struct parse {
	struct ctx *c;
	struct stmt_list *list;
	struct node *regs[MAX_REGS + 1];
	struct stmt *loader;            /* the last unknown expression that may load a register */
};

/* the register file (nft-regs.c): nft's 32-bit index of a register number;
 * what a register holds (a copy), a placeholder if nothing */
unsigned nftp_reg_index(unsigned reg);
struct node *nftp_reg_get_index(struct parse *p, unsigned i);
/* netlink_parse_concat_expr()/_data(): the registers from reg on, len bits
 * of them (with data: that value cut like them); NULL if they do not */
struct node *nftp_concat_regs(struct parse *p, unsigned reg, unsigned len, struct node *data);
struct node *nftp_reg_get(struct parse *p, unsigned reg);
void nftp_reg_set(struct parse *p, unsigned reg, struct node *n);
void nftp_emit(struct parse *p, struct stmt *s);
/* len bits of registers from reg on, as one expression (a concatenation if
 * they hold several); NULL if they do not */
struct node *nftp_reg_get_len(struct parse *p, unsigned reg, unsigned len);

/* ==== expressions the model keeps as kernel attributes (nft-extra.c) ========== */

/* exthdr, rt, socket, osf, numgen, hash, xfrm, connlimit, objref, quota,
 * dynset, tproxy, synproxy, dup, fwd, queue, flow_offload, last, secmark:
 * read from e->unknown.attrs into registers or statements as nft's
 * netlink_parse_*() do; false when e is none of them or its attributes do
 * not say enough (the caller prints its placeholder) */
bool nftp_parse_extra(struct parse *p, const struct cg_expr *e);
/* a bitwise mask over an exthdr load: the field it selects, or NULL */
struct node *nftp_extra_trim(struct ctx *c, const struct node *load, const struct node *mask);

/* ==== the stages (nft-delinearize.c, nft-postprocess.c, nft-stmt.c) =========== */

/* netlink_delinearize_rule(): the rule's expressions as statements */
void nftp_rule_delinearize(struct ctx *c, const struct cg_expr *ex, uint32_t n, struct stmt_list *list);
/* rule_parse_postprocess() */
void nftp_rule_postprocess(struct ctx *c, struct stmt_list *list);
/* the rule's statements (and comment) as nft lists them, a binding chain's
 * rules nested inside (depth counts the nesting) */
void nftp_rule_print(struct out *o, const struct cg_rule *r, uint8_t family, unsigned depth);
