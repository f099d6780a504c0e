/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Model rules (native nf_tables) -> `nft list ruleset` text (nftables 1.0.x).
 *
 * The same three steps nft takes when it lists a rule:
 *  1. parse: the expressions are read in order into statements, with a
 *     register file holding what each load put where (payload, meta, ct,
 *     immediates, masks), so a cmp/range/lookup becomes a relation between
 *     an expression tree and a value (netlink_delinearize.c, first half);
 *  2. postprocess: a protocol context, filled by the rule's own protocol
 *     matches, names raw payload offsets (`@th,16,16` -> `udp dport`), types
 *     the values, turns masks into prefixes or flag lists, merges `>= a` and
 *     `<= b` into `a-b`, and drops protocol matches a later header field
 *     implies (netlink_delinearize.c, second half; payload.c);
 *  3. print: statements and expressions in nft's spelling, values by their
 *     datatype (statement.c, expression.c, datatype.c).
 * Values are kept the way nft's mpz numbers hold them (struct num), so byte
 * order switches happen at the same points as in nft.
 *
 * Everything a rendering allocates comes from one scratch arena. */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>

#include <arpa/inet.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_log.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <netdb.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/nft-text.h"

/* ==== numbers ================================================================
 * A value as nft's mpz holds it: an unsigned number, most significant byte
 * first, wide enough for any register content (NFT_DATA_VALUE_MAXLEN). */

#define NUM_BYTES 64
#define NUM_BITS (NUM_BYTES * 8)
#define NO_BIT UINT_MAX

struct num {
	uint8_t b[NUM_BYTES];
};

static bool num_bit(const struct num *n, unsigned i)
{
	return i < NUM_BITS && (n->b[NUM_BYTES - 1 - i / 8] >> (i % 8)) & 1;
}

static void num_setbit(struct num *n, unsigned i)
{
	if (i < NUM_BITS)
		n->b[NUM_BYTES - 1 - i / 8] |= (uint8_t)(1u << (i % 8));
}

/* mpz_scan1(): the lowest set bit at or above `from`, NO_BIT if none */
static unsigned num_scan1(const struct num *n, unsigned from)
{
	for (unsigned i = from; i < NUM_BITS; i++)
		if (num_bit(n, i))
			return i;
	return NO_BIT;
}

/* mpz_scan0(): the lowest clear bit at or above `from` */
static unsigned num_scan0(const struct num *n, unsigned from)
{
	for (unsigned i = from; i < NUM_BITS; i++)
		if (!num_bit(n, i))
			return i;
	return NUM_BITS;
}

static bool num_is_zero(const struct num *n)
{
	for (unsigned i = 0; i < NUM_BYTES; i++)
		if (n->b[i])
			return false;
	return true;
}

static int num_cmp(const struct num *a, const struct num *b)
{
	return memcmp(a->b, b->b, NUM_BYTES);
}

static unsigned num_popcount(const struct num *n)
{
	unsigned c = 0;

	for (unsigned i = 0; i < NUM_BYTES; i++)
		c += (unsigned)__builtin_popcount(n->b[i]);
	return c;
}

static void num_and(struct num *r, const struct num *a, const struct num *b)
{
	for (unsigned i = 0; i < NUM_BYTES; i++)
		r->b[i] = a->b[i] & b->b[i];
}

static void num_or(struct num *r, const struct num *a, const struct num *b)
{
	for (unsigned i = 0; i < NUM_BYTES; i++)
		r->b[i] = a->b[i] | b->b[i];
}

static void num_xor(struct num *r, const struct num *a, const struct num *b)
{
	for (unsigned i = 0; i < NUM_BYTES; i++)
		r->b[i] = a->b[i] ^ b->b[i];
}

static void num_shl(struct num *n, unsigned bits)
{
	struct num r = { 0 };

	for (unsigned i = 0; i + bits < NUM_BITS; i++)
		if (num_bit(n, i))
			num_setbit(&r, i + bits);
	*n = r;
}

static void num_shr(struct num *n, unsigned bits)
{
	struct num r = { 0 };

	for (unsigned i = bits; i < NUM_BITS; i++)
		if (num_bit(n, i))
			num_setbit(&r, i - bits);
	*n = r;
}

/* (1 << bits) - 1 */
static struct num num_mask(unsigned bits)
{
	struct num r = { 0 };

	for (unsigned i = 0; i < bits && i < NUM_BITS; i++)
		num_setbit(&r, i);
	return r;
}

static void num_add(struct num *r, const struct num *a, const struct num *b)
{
	unsigned carry = 0;

	for (int i = NUM_BYTES - 1; i >= 0; i--) {
		unsigned s = (unsigned)a->b[i] + b->b[i] + carry;

		r->b[i] = (uint8_t)s;
		carry = s >> 8;
	}
}

/* a - b for a >= b (callers guarantee it, as nft's mpz would not care) */
static void num_sub(struct num *r, const struct num *a, const struct num *b)
{
	int borrow = 0;

	for (int i = NUM_BYTES - 1; i >= 0; i--) {
		int d = (int)a->b[i] - b->b[i] - borrow;

		borrow = d < 0;
		r->b[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

static struct num num_from_u64(uint64_t v)
{
	struct num r = { 0 };

	for (unsigned i = 0; i < 8; i++)
		r.b[NUM_BYTES - 1 - i] = (uint8_t)(v >> (8 * i));
	return r;
}

static uint64_t num_u64(const struct num *n)
{
	uint64_t v = 0;

	for (unsigned i = NUM_BYTES - 8; i < NUM_BYTES; i++)
		v = v << 8 | n->b[i];
	return v;
}

/* mpz_import, most significant byte first */
static struct num num_from_bytes(const uint8_t *p, unsigned len)
{
	struct num r = { 0 };

	if (len > NUM_BYTES)
		len = NUM_BYTES;
	if (len)
		memcpy(r.b + NUM_BYTES - len, p, len);
	return r;
}

/* mpz_export of the low `len` bytes, most significant first */
static void num_to_bytes(const struct num *n, uint8_t *p, unsigned len)
{
	if (len > NUM_BYTES)
		len = NUM_BYTES;
	memcpy(p, n->b + NUM_BYTES - len, len);
}

/* mpz_switch_byteorder(): the low `len` bytes reversed */
static void num_swap(struct num *n, unsigned len)
{
	uint8_t *p;

	if (len > NUM_BYTES)
		len = NUM_BYTES;
	p = n->b + NUM_BYTES - len;
	for (unsigned i = 0, j = len - 1; len && i < j; i++, j--) {
		uint8_t t = p[i];

		p[i] = p[j];
		p[j] = t;
	}
}

/* ==== output ================================================================ */

struct out {
	char *buf;
	size_t len, cap;
};

static void out_printf(struct out *o, const char *fmt, ...) _printf_(2, 3);

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->buf ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (!o->buf || o->len + (size_t)n >= o->cap) {
		grow_array((void **)&o->buf, &o->cap, o->len + (size_t)n + 1, 1);
		va_start(ap, fmt);
		vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
	}
	o->len += (size_t)n;
}

static void out_puts(struct out *o, const char *s)
{
	out_printf(o, "%s", s);
}

/* ==== expressions ============================================================ */

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
		const struct proto_desc *desc;  /* proto_unknown: raw */
		const struct hdr_tmpl *tmpl;
	} payload;
	uint32_t key;                   /* meta, ct */
	int8_t dir;                     /* ct: -1 none */
	enum base kbase;                /* meta/ct: the protocol base a key selects */
	const struct cg_set *set;       /* N_SET_REF */
	struct node *set_init;          /* N_SET_REF of an anonymous set: its elements */
	const struct cg_verdict *verdict;
	const char *what;               /* N_UNSUPPORTED */
};

struct ctx {
	struct arena *a;
	uint8_t family;                 /* the table's NFPROTO_* */
};

static struct node *node_new(struct ctx *c, enum node_type type, const struct dtype *dt,
			     enum byteorder bo, unsigned len)
{
	struct node *n = arena_alloc(c->a, sizeof(*n));

	n->type = type;
	n->dtype = dt;
	n->byteorder = bo;
	n->len = len;
	n->dir = -1;
	return n;
}

static struct node *node_clone(struct ctx *c, const struct node *n)
{
	struct node *r;

	if (!n)
		return NULL;
	r = arena_memdup(c->a, n, sizeof(*n));
	if (n->value)
		r->value = arena_memdup(c->a, n->value, sizeof(*n->value));
	r->left = node_clone(c, n->left);
	r->right = node_clone(c, n->right);
	r->items = NULL;
	r->cap_items = n->n_items;
	if (n->n_items) {
		r->items = arena_alloc(c->a, n->n_items * sizeof(*r->items));
		for (unsigned i = 0; i < n->n_items; i++)
			r->items[i] = node_clone(c, n->items[i]);
	}
	/* an anonymous set's elements are shared: postprocessing edits them in
	 * place once, like nft's refcounted set */
	return r;
}

static void node_add_item(struct ctx *c, struct node *list, struct node *item)
{
	if (list->n_items == list->cap_items) {
		/* doubling: an anonymous set of thousands of elements stays linear */
		unsigned cap = list->cap_items ? 2 * list->cap_items : 4;
		struct node **items = arena_alloc(c->a, cap * sizeof(*items));

		if (list->n_items)
			memcpy(items, list->items, list->n_items * sizeof(*items));
		list->items = items;
		list->cap_items = cap;
	}
	list->items[list->n_items++] = item;
}

static struct node *value_new(struct ctx *c, const struct dtype *dt, enum byteorder bo,
			      unsigned len, const struct num *v)
{
	struct node *n = node_new(c, N_VALUE, dt, bo, len);

	n->value = arena_alloc(c->a, sizeof(*n->value));
	if (v)
		*n->value = *v;
	return n;
}

/* ==== datatypes ===============================================================
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

static const struct dtype dt_integer, dt_bitmask, dt_string;

/* expr_basetype(): the root of the type chain */
static const struct dtype *dtype_base(const struct dtype *dt)
{
	while (dt && dt->basetype)
		dt = dt->basetype;
	return dt;
}

static bool dtype_is_bitmask(const struct dtype *dt)
{
	return dt && dt->basetype && dt->basetype->type == TYPE_BITMASK;
}

/* decimal of a number of any width */
static void print_decimal(struct out *o, const struct num *v)
{
	char digits[NUM_BITS / 3 + 2];
	struct num n = *v;
	int i = (int)sizeof(digits) - 1;

	digits[i] = '\0';
	do {
		unsigned rem = 0;

		for (unsigned b = 0; b < NUM_BYTES; b++) {
			unsigned cur = rem << 8 | n.b[b];

			n.b[b] = (uint8_t)(cur / 10);
			rem = cur % 10;
		}
		digits[--i] = (char)('0' + rem);
	} while (!num_is_zero(&n));
	out_puts(o, digits + i);
}

static void print_hex(struct out *o, const struct num *v, int width)
{
	char digits[NUM_BYTES * 2 + 1];
	unsigned n = 0, first = NUM_BYTES * 2;

	for (unsigned b = 0; b < NUM_BYTES; b++)
		n += (unsigned)snprintf(digits + n, sizeof(digits) - n, "%02x", v->b[b]);
	for (unsigned i = 0; i < NUM_BYTES * 2; i++)
		if (digits[i] != '0') {
			first = i;
			break;
		}
	if (first == NUM_BYTES * 2)
		first = NUM_BYTES * 2 - 1;
	if (width > 0 && NUM_BYTES * 2 - first < (unsigned)width)
		first = NUM_BYTES * 2 - (unsigned)width;
	out_printf(o, "0x%s", digits + first);
}

/* integer_type_print(): the first format along the type chain */
static void print_integer(struct out *o, const struct node *v)
{
	const struct dtype *dt;

	for (dt = v->dtype; dt; dt = dt->basetype)
		if (dt->has_fmt)
			break;
	if (dt && dt->hexw >= 0)
		print_hex(o, v->value, dt->hexw);
	else
		print_decimal(o, v->value);
}

/* The value the way nft's symbolic_constant_print() compares it with a
 * symbol: big-endian multi-byte values are compared with symbols that are
 * themselves given in network order, so the plain number serves. */
static uint64_t value_u64(const struct node *v)
{
	return v->type == N_VALUE && v->value ? num_u64(v->value) : 0;
}

/* rt_symbol_table_init(): "value name" lines of an iproute2 table */
static bool rt_file_name(const char *file, uint64_t value, char *name, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	char line[512], nb[256];
	unsigned v;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " \t");

		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (sscanf(p, "0x%x %255s", &v, nb) != 2 && sscanf(p, "%u %255s", &v, nb) != 2)
			break;
		if (v == value) {
			snprintf(name, size, "%s", nb);
			return true;
		}
	}
	return false;
}

/* datatype_print(): the first print function or symbol table of the chain */
static void print_by_type(struct out *o, const struct node *v, const struct dtype *dt)
{
	for (; dt; dt = dt->basetype) {
		if (dt->print) {
			dt->print(o, v);
			return;
		}
		if (dt->syms || dt->sym_file) {
			uint64_t val = value_u64(v);
			char name[256];

			for (const struct symbol *s = dt->syms; s && s->name; s++)
				if (s->value == val) {
					out_printf(o, dt->quote_syms ? "\"%s\"" : "%s", s->name);
					return;
				}
			if (dt->sym_file && rt_file_name(dt->sym_file, val, name, sizeof(name))) {
				out_printf(o, "\"%s\"", name);
				return;
			}
			/* no symbol: the basetype's print */
			print_by_type(o, v, dtype_base(dt));
			return;
		}
	}
	print_integer(o, v);
}

static void print_string_value(struct out *o, const struct node *v)
{
	unsigned len = (v->len + 7) / 8;
	char s[NUM_BYTES + 1];

	if (len > NUM_BYTES)
		len = NUM_BYTES;
	/* host-endian export: the bytes in memory order */
	for (unsigned i = 0; i < len; i++)
		s[i] = (char)v->value->b[NUM_BYTES - 1 - i];
	s[len] = '\0';
	out_printf(o, "\"%s\"", s);
}

static void print_ipaddr(struct out *o, const struct node *v)
{
	uint8_t b[4];
	char s[INET_ADDRSTRLEN];

	num_to_bytes(v->value, b, 4);
	out_puts(o, inet_ntop(AF_INET, b, s, sizeof(s)));
}

static void print_ip6addr(struct out *o, const struct node *v)
{
	uint8_t b[16];
	char s[INET6_ADDRSTRLEN];

	num_to_bytes(v->value, b, 16);
	out_puts(o, inet_ntop(AF_INET6, b, s, sizeof(s)));
}

static void print_lladdr(struct out *o, const struct node *v)
{
	unsigned len = (v->len + 7) / 8;
	uint8_t b[NUM_BYTES];

	if (len > NUM_BYTES)
		len = NUM_BYTES;
	num_to_bytes(v->value, b, len);
	for (unsigned i = 0; i < len; i++)
		out_printf(o, "%s%02x", i ? ":" : "", b[i]);
}

static void print_inet_protocol(struct out *o, const struct node *v)
{
	struct protoent *p = getprotobynumber((int)(value_u64(v) & 0xff));

	if (p)
		out_puts(o, p->p_name);
	else
		print_integer(o, v);
}

/* ifindex_type_print(): resolved in the caller's network namespace */
static void print_ifindex(struct out *o, const struct node *v)
{
	uint32_t idx = (uint32_t)value_u64(v);
	char name[IF_NAMESIZE];

	if (idx && if_indextoname(idx, name))
		out_printf(o, "\"%s\"", name);
	else
		out_printf(o, "%d", (int)idx);
}

static void print_classid(struct out *o, const struct node *v)
{
	uint32_t h = (uint32_t)value_u64(v);

	if (h == 0xffffffffu)
		out_puts(o, "root");
	else if (h == 0)
		out_puts(o, "none");
	else
		out_printf(o, "%x:%x", h >> 16, h & 0xffff);
}

/* time_print(): milliseconds as 1d2h3m4s5ms, nothing for zero */
static void print_time(struct out *o, const struct node *v)
{
	uint64_t ms = value_u64(v);
	static const struct { uint64_t ms; const char *unit; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		uint64_t n = ms / units[i].ms;

		ms %= units[i].ms;
		if (n)
			out_printf(o, "%llu%s", (unsigned long long)n, units[i].unit);
	}
}

/* date_type_print(): nanoseconds since the epoch, in local time */
static void print_date(struct out *o, const struct node *v)
{
	time_t t = (time_t)(value_u64(v) / 1000000000ull);
	struct tm tmb, *tm = localtime_r(&t, &tmb);
	char s[32];

	if (tm)
		t += tm->tm_gmtoff;
	tm = gmtime_r(&t, &tmb);
	if (tm && strftime(s, sizeof(s), "%Y-%m-%d %T", tm))
		out_printf(o, "\"%s\"", s);
	else
		out_puts(o, "Error converting timestamp to printed time");
}

/* hour_type_print(): seconds since midnight UTC, in local time */
static void print_hour(struct out *o, const struct node *v)
{
	uint32_t sec = (uint32_t)value_u64(v);
	time_t now = time(NULL);
	struct tm tmb, *tm = localtime_r(&now, &tmb);

	if (tm)
		sec = (uint32_t)((sec + tm->tm_gmtoff) % 86400);
	out_printf(o, "\"%02u:%02u", sec / 3600, sec / 60 % 60);
	if (sec % 60)
		out_printf(o, ":%02u", sec % 60);
	out_puts(o, "\"");
}

/* ct_label_type_print(): the label's bit, by its connlabel.conf name if any */
static void print_ct_label(struct out *o, const struct node *v)
{
	unsigned bit = num_scan1(v->value, 0);
	char name[256];

	if (bit != NO_BIT && rt_file_name("/etc/connlabel.conf", bit, name, sizeof(name)))
		out_printf(o, "\"%s\"", name);
	else
		out_printf(o, "%lu", bit == NO_BIT ? (unsigned long)-1 : (unsigned long)bit);
}

static void print_invalid(struct out *o, const struct node *v)
{
	print_hex(o, v->value, 0);
	out_puts(o, " [invalid type]");
}

#define SYMS(...) (const struct symbol[]){ __VA_ARGS__, { NULL, 0 } }

static const struct dtype dt_invalid = { .type = TYPE_INVALID, .print = print_invalid };
static const struct dtype dt_integer = { .type = TYPE_INTEGER, .hexw = -1, .has_fmt = true };
/* raw payloads print in hex */
static const struct dtype dt_xinteger = {
	.type = TYPE_INTEGER, .basetype = &dt_integer, .hexw = 0, .has_fmt = true,
};
static const struct dtype dt_bitmask = {
	.type = TYPE_BITMASK, .basetype = &dt_integer, .hexw = 0, .has_fmt = true,
};
static const struct dtype dt_string = {
	.type = TYPE_STRING, .byteorder = BO_HOST, .print = print_string_value,
};
static const struct dtype dt_ifname = {
	.type = TYPE_IFNAME, .byteorder = BO_HOST, .size = IFNAMSIZ * 8, .basetype = &dt_string,
};
static const struct dtype dt_lladdr = {
	.type = TYPE_LLADDR, .byteorder = BO_BIG, .basetype = &dt_integer, .print = print_lladdr,
};
static const struct dtype dt_etheraddr = {
	.type = TYPE_ETHERADDR, .byteorder = BO_BIG, .size = 48, .basetype = &dt_lladdr,
};
static const struct dtype dt_ipaddr = {
	.type = TYPE_IPADDR, .byteorder = BO_BIG, .size = 32, .basetype = &dt_integer,
	.print = print_ipaddr, .prefix = true,
};
static const struct dtype dt_ip6addr = {
	.type = TYPE_IP6ADDR, .byteorder = BO_BIG, .size = 128, .basetype = &dt_integer,
	.print = print_ip6addr, .prefix = true,
};
static const struct dtype dt_nfproto = {
	.type = TYPE_NFPROTO, .size = 8, .basetype = &dt_integer,
	.syms = SYMS({ "ipv4", NFPROTO_IPV4 }, { "ipv6", NFPROTO_IPV6 }),
};
static const struct dtype dt_ethertype = {
	.type = TYPE_ETHERTYPE, .byteorder = BO_BIG, .size = 16, .basetype = &dt_integer,
	.hexw = 4, .has_fmt = true,
	.syms = SYMS({ "ip", 0x0800 }, { "arp", 0x0806 }, { "ip6", 0x86dd }, { "8021q", 0x8100 },
		     { "8021ad", 0x88a8 }),
};
static const struct dtype dt_arpop = {
	.type = TYPE_ARPOP, .byteorder = BO_BIG, .size = 16, .basetype = &dt_integer,
	.syms = SYMS({ "request", 1 }, { "reply", 2 }, { "rrequest", 3 }, { "rreply", 4 },
		     { "inrequest", 8 }, { "inreply", 9 }, { "nak", 10 }),
};
static const struct dtype dt_inet_protocol = {
	.type = TYPE_INET_PROTOCOL, .size = 8, .basetype = &dt_integer,
	.print = print_inet_protocol,
};
/* ports print as numbers: nft's -S (service names) is off by default */
static const struct dtype dt_inet_service = {
	.type = TYPE_INET_SERVICE, .byteorder = BO_BIG, .size = 16, .basetype = &dt_integer,
};
static const struct dtype dt_icmp_type = {
	.type = TYPE_ICMP_TYPE, .byteorder = BO_BIG, .size = 8, .basetype = &dt_integer,
	.syms = SYMS({ "echo-reply", 0 }, { "destination-unreachable", 3 }, { "source-quench", 4 },
		     { "redirect", 5 }, { "echo-request", 8 }, { "router-advertisement", 9 },
		     { "router-solicitation", 10 }, { "time-exceeded", 11 },
		     { "parameter-problem", 12 }, { "timestamp-request", 13 },
		     { "timestamp-reply", 14 }, { "info-request", 15 }, { "info-reply", 16 },
		     { "address-mask-request", 17 }, { "address-mask-reply", 18 }),
};
static const struct dtype dt_icmp6_type = {
	.type = TYPE_ICMP6_TYPE, .byteorder = BO_BIG, .size = 8, .basetype = &dt_integer,
	.syms = SYMS({ "destination-unreachable", 1 }, { "packet-too-big", 2 },
		     { "time-exceeded", 3 }, { "parameter-problem", 4 }, { "echo-request", 128 },
		     { "echo-reply", 129 }, { "mld-listener-query", 130 },
		     { "mld-listener-report", 131 }, { "mld-listener-done", 132 },
		     { "nd-router-solicit", 133 }, { "nd-router-advert", 134 },
		     { "nd-neighbor-solicit", 135 }, { "nd-neighbor-advert", 136 },
		     { "nd-redirect", 137 }, { "router-renumbering", 138 },
		     { "ind-neighbor-solicit", 141 }, { "ind-neighbor-advert", 142 },
		     { "mld2-listener-report", 143 }),
};
static const struct dtype dt_icmp_code = {
	.type = TYPE_ICMP_CODE, .byteorder = BO_BIG, .size = 8, .basetype = &dt_integer,
	.syms = SYMS({ "net-unreachable", 0 }, { "host-unreachable", 1 }, { "prot-unreachable", 2 },
		     { "port-unreachable", 3 }, { "net-prohibited", 9 }, { "host-prohibited", 10 },
		     { "admin-prohibited", 13 }, { "frag-needed", 4 }),
};
static const struct dtype dt_icmpv6_code = {
	.type = TYPE_ICMPV6_CODE, .byteorder = BO_BIG, .size = 8, .basetype = &dt_integer,
	.syms = SYMS({ "no-route", 0 }, { "admin-prohibited", 1 }, { "addr-unreachable", 3 },
		     { "port-unreachable", 4 }, { "policy-fail", 5 }, { "reject-route", 6 }),
};
static const struct dtype dt_icmpx_code = {
	.type = TYPE_ICMPX_CODE, .byteorder = BO_BIG, .size = 8, .basetype = &dt_integer,
	.syms = SYMS({ "port-unreachable", NFT_REJECT_ICMPX_PORT_UNREACH },
		     { "admin-prohibited", NFT_REJECT_ICMPX_ADMIN_PROHIBITED },
		     { "no-route", NFT_REJECT_ICMPX_NO_ROUTE },
		     { "host-unreachable", NFT_REJECT_ICMPX_HOST_UNREACH }),
};
static const struct dtype dt_igmp_type = {
	.type = TYPE_IGMP_TYPE, .byteorder = BO_BIG, .size = 8, .basetype = &dt_integer,
	.syms = SYMS({ "membership-query", 0x11 }, { "membership-report-v1", 0x12 },
		     { "membership-report-v2", 0x16 }, { "membership-report-v3", 0x22 },
		     { "leave-group", 0x17 }),
};
static const struct dtype dt_tcp_flag = {
	.type = TYPE_TCP_FLAG, .byteorder = BO_BIG, .size = 8, .basetype = &dt_bitmask,
	.syms = SYMS({ "fin", 0x01 }, { "syn", 0x02 }, { "rst", 0x04 }, { "psh", 0x08 },
		     { "ack", 0x10 }, { "urg", 0x20 }, { "ecn", 0x40 }, { "cwr", 0x80 }),
};
static const struct dtype dt_dccp_pkttype = {
	.type = TYPE_DCCP_PKTTYPE, .size = 4, .basetype = &dt_integer,
	.syms = SYMS({ "request", 0 }, { "response", 1 }, { "data", 2 }, { "ack", 3 },
		     { "dataack", 4 }, { "closereq", 5 }, { "close", 6 }, { "reset", 7 },
		     { "sync", 8 }, { "syncack", 9 }),
};
static const struct dtype dt_dscp = {
	.type = TYPE_DSCP, .byteorder = BO_BIG, .size = 6, .basetype = &dt_integer,
	.hexw = 2, .has_fmt = true,
	.syms = SYMS({ "cs0", 0x00 }, { "cs1", 0x08 }, { "cs2", 0x10 }, { "cs3", 0x18 },
		     { "cs4", 0x20 }, { "cs5", 0x28 }, { "cs6", 0x30 }, { "cs7", 0x38 },
		     { "df", 0x00 }, { "be", 0x00 }, { "lephb", 0x01 }, { "af11", 0x0a },
		     { "af12", 0x0c }, { "af13", 0x0e }, { "af21", 0x12 }, { "af22", 0x14 },
		     { "af23", 0x16 }, { "af31", 0x1a }, { "af32", 0x1c }, { "af33", 0x1e },
		     { "af41", 0x22 }, { "af42", 0x24 }, { "af43", 0x26 }, { "va", 0x2c },
		     { "ef", 0x2e }),
};
static const struct dtype dt_ecn = {
	.type = TYPE_ECN, .byteorder = BO_BIG, .size = 2, .basetype = &dt_integer,
	.hexw = 1, .has_fmt = true,
	.syms = SYMS({ "not-ect", 0 }, { "ect1", 1 }, { "ect0", 2 }, { "ce", 3 }),
};
/* a mark prints by name when /etc/iproute2/rt_marks names it */
static const struct dtype dt_mark = {
	.type = TYPE_MARK, .byteorder = BO_HOST, .size = 32, .basetype = &dt_integer,
	.hexw = 8, .has_fmt = true, .prefix = true, .sym_file = "/etc/iproute2/rt_marks",
};
static const struct dtype dt_ifindex = {
	.type = TYPE_IFINDEX, .byteorder = BO_HOST, .size = 32, .basetype = &dt_integer,
	.print = print_ifindex,
};
static const struct dtype dt_arphrd = {
	.type = TYPE_ARPHRD, .byteorder = BO_HOST, .size = 16, .basetype = &dt_integer,
	.syms = SYMS({ "ether", 1 }, { "ppp", 512 }, { "ipip", 768 }, { "ipip6", 769 },
		     { "loopback", 772 }, { "sit", 776 }, { "ipgre", 778 }),
};
static const struct dtype dt_realm = {
	.type = TYPE_REALM, .byteorder = BO_HOST, .size = 32, .basetype = &dt_integer,
	.sym_file = "/etc/iproute2/rt_realms",
};
static const struct dtype dt_classid = {
	.type = TYPE_CLASSID, .byteorder = BO_HOST, .size = 32, .basetype = &dt_integer,
	.print = print_classid,
};
/* user and group names print only with nft -u */
static const struct dtype dt_uid = {
	.type = TYPE_UID, .byteorder = BO_HOST, .size = 32, .basetype = &dt_integer,
};
static const struct dtype dt_gid = {
	.type = TYPE_GID, .byteorder = BO_HOST, .size = 32, .basetype = &dt_integer,
};
static const struct dtype dt_ct_state = {
	.type = TYPE_CT_STATE, .byteorder = BO_HOST, .size = 32, .basetype = &dt_bitmask,
	.syms = SYMS({ "invalid", NF_CT_STATE_INVALID_BIT },
		     { "new", NF_CT_STATE_BIT(IP_CT_NEW) },
		     { "established", NF_CT_STATE_BIT(IP_CT_ESTABLISHED) },
		     { "related", NF_CT_STATE_BIT(IP_CT_RELATED) },
		     { "untracked", NF_CT_STATE_UNTRACKED_BIT }),
};
static const struct dtype dt_ct_dir = {
	.type = TYPE_CT_DIR, .size = 8, .basetype = &dt_integer,
	.syms = SYMS({ "original", IP_CT_DIR_ORIGINAL }, { "reply", IP_CT_DIR_REPLY }),
};
static const struct dtype dt_ct_status = {
	.type = TYPE_CT_STATUS, .byteorder = BO_HOST, .size = 32, .basetype = &dt_bitmask,
	.syms = SYMS({ "expected", IPS_EXPECTED }, { "seen-reply", IPS_SEEN_REPLY },
		     { "assured", IPS_ASSURED }, { "confirmed", IPS_CONFIRMED },
		     { "snat", IPS_SRC_NAT }, { "dnat", IPS_DST_NAT }, { "dying", IPS_DYING }),
};
static const struct dtype dt_ct_event = {
	.type = TYPE_CT_EVENTBIT, .byteorder = BO_HOST, .size = 32, .basetype = &dt_bitmask,
	.syms = SYMS({ "new", 1 << 0 }, { "related", 1 << 1 }, { "destroy", 1 << 2 },
		     { "reply", 1 << 3 }, { "assured", 1 << 4 }, { "protoinfo", 1 << 5 },
		     { "helper", 1 << 6 }, { "mark", 1 << 7 }, { "seqadj", 1 << 8 },
		     { "secmark", 1 << 9 }, { "label", 1 << 10 }),
};
static const struct dtype dt_ct_label = {
	.type = TYPE_CT_LABEL, .byteorder = BO_HOST, .size = 128, .basetype = &dt_bitmask,
	.print = print_ct_label,
};
static const struct dtype dt_pkttype = {
	.type = TYPE_PKTTYPE, .byteorder = BO_HOST, .size = 8, .basetype = &dt_integer,
	.syms = SYMS({ "host", 0 }, { "broadcast", 1 }, { "multicast", 2 }, { "other", 3 }),
};
static const struct dtype dt_devgroup = {
	.type = TYPE_DEVGROUP, .byteorder = BO_HOST, .size = 32, .basetype = &dt_integer,
	.prefix = true, .sym_file = "/etc/iproute2/group",
};
static const struct dtype dt_boolean = {
	.type = TYPE_BOOLEAN, .byteorder = BO_HOST, .size = 1, .basetype = &dt_integer,
	.syms = SYMS({ "exists", 1 }, { "missing", 0 }),
};
static const struct dtype dt_time = {
	.type = TYPE_TIME, .byteorder = BO_HOST, .size = 32, .basetype = &dt_integer,
	.print = print_time,
};
static const struct dtype dt_date = {
	.type = TYPE_TIME_DATE, .byteorder = BO_HOST, .size = 64, .basetype = &dt_integer,
	.print = print_date,
};
static const struct dtype dt_hour = {
	.type = TYPE_TIME_HOUR, .byteorder = BO_HOST, .size = 32, .basetype = &dt_integer,
	.print = print_hour,
};
static const struct dtype dt_day = {
	.type = TYPE_TIME_DAY, .byteorder = BO_HOST, .size = 8, .basetype = &dt_integer,
	.quote_syms = true,
	.syms = SYMS({ "Sunday", 0 }, { "Monday", 1 }, { "Tuesday", 2 }, { "Wednesday", 3 },
		     { "Thursday", 4 }, { "Friday", 5 }, { "Saturday", 6 }),
};
static const struct dtype dt_verdict = { .type = TYPE_VERDICT };

/* datatype_lookup() for the types a set key or data can carry */
static const struct dtype *dtype_by_id(unsigned type)
{
	static const struct dtype *const types[TYPE_MAX] = {
		[TYPE_INVALID] = &dt_invalid, [TYPE_VERDICT] = &dt_verdict,
		[TYPE_NFPROTO] = &dt_nfproto, [TYPE_BITMASK] = &dt_bitmask,
		[TYPE_INTEGER] = &dt_integer, [TYPE_STRING] = &dt_string,
		[TYPE_LLADDR] = &dt_lladdr, [TYPE_IPADDR] = &dt_ipaddr,
		[TYPE_IP6ADDR] = &dt_ip6addr, [TYPE_ETHERADDR] = &dt_etheraddr,
		[TYPE_ETHERTYPE] = &dt_ethertype, [TYPE_ARPOP] = &dt_arpop,
		[TYPE_INET_PROTOCOL] = &dt_inet_protocol, [TYPE_INET_SERVICE] = &dt_inet_service,
		[TYPE_ICMP_TYPE] = &dt_icmp_type, [TYPE_TCP_FLAG] = &dt_tcp_flag,
		[TYPE_DCCP_PKTTYPE] = &dt_dccp_pkttype, [TYPE_TIME] = &dt_time,
		[TYPE_MARK] = &dt_mark, [TYPE_IFINDEX] = &dt_ifindex, [TYPE_ARPHRD] = &dt_arphrd,
		[TYPE_REALM] = &dt_realm, [TYPE_CLASSID] = &dt_classid, [TYPE_UID] = &dt_uid,
		[TYPE_GID] = &dt_gid, [TYPE_CT_STATE] = &dt_ct_state, [TYPE_CT_DIR] = &dt_ct_dir,
		[TYPE_CT_STATUS] = &dt_ct_status, [TYPE_ICMP6_TYPE] = &dt_icmp6_type,
		[TYPE_CT_LABEL] = &dt_ct_label, [TYPE_PKTTYPE] = &dt_pkttype,
		[TYPE_ICMP_CODE] = &dt_icmp_code, [TYPE_ICMPV6_CODE] = &dt_icmpv6_code,
		[TYPE_ICMPX_CODE] = &dt_icmpx_code, [TYPE_DEVGROUP] = &dt_devgroup,
		[TYPE_DSCP] = &dt_dscp, [TYPE_ECN] = &dt_ecn, [TYPE_BOOLEAN] = &dt_boolean,
		[TYPE_CT_EVENTBIT] = &dt_ct_event, [TYPE_IFNAME] = &dt_ifname,
		[TYPE_IGMP_TYPE] = &dt_igmp_type, [TYPE_TIME_DATE] = &dt_date,
		[TYPE_TIME_HOUR] = &dt_hour, [TYPE_TIME_DAY] = &dt_day,
	};

	if (type == NFT_DATA_VERDICT)
		return &dt_verdict;
	return type < TYPE_MAX && types[type] ? types[type] : &dt_integer;
}

/* ==== protocol headers ==========================================================
 * proto.c's descriptions: fields in ascending offset order (payload_expr_expand()
 * splits merged loads walking them in that order), the field that names the
 * upper protocol, and the protocol numbers linking the layers. */

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

#define FIELD(tok, dt, off, ln) { .token = tok, .dtype = dt, .offset = off, .len = ln, .byteorder = BO_BIG }
#define INT_FIELD(tok, off, ln) FIELD(tok, &dt_integer, off, ln)
#define ICMP_FIELD(tok, off, ln, dep) \
	{ .token = tok, .dtype = &dt_integer, .offset = off, .len = ln, .byteorder = BO_BIG, .icmp_dep = dep }
#define META_TMPL(tok, dt, k, ln) { .token = tok, .dtype = dt, .meta_key = k, .len = ln }

static const struct proto_desc proto_ip, proto_ip6, proto_tcp, proto_udp, proto_udplite,
	proto_dccp, proto_sctp, proto_icmp, proto_icmp6, proto_igmp, proto_esp, proto_ah,
	proto_comp, proto_arp, proto_vlan, proto_unknown;

#define L4_LINKS \
	{ IPPROTO_ESP, &proto_esp }, { IPPROTO_AH, &proto_ah }, { IPPROTO_COMP, &proto_comp }, \
	{ IPPROTO_UDP, &proto_udp }, { IPPROTO_UDPLITE, &proto_udplite }, \
	{ IPPROTO_TCP, &proto_tcp }, { IPPROTO_DCCP, &proto_dccp }, { IPPROTO_SCTP, &proto_sctp }

static const struct proto_desc proto_ah = {
	.name = "ah", .base = BASE_TH, .protocol_key = 1,
	.links = { L4_LINKS },
	.tmpl = { [1] = FIELD("nexthdr", &dt_inet_protocol, 0, 8), [2] = INT_FIELD("hdrlength", 8, 8),
		  [3] = INT_FIELD("reserved", 16, 16), [4] = INT_FIELD("spi", 32, 32),
		  [5] = INT_FIELD("sequence", 64, 32) },
};
static const struct proto_desc proto_esp = {
	.name = "esp", .base = BASE_TH,
	.tmpl = { [1] = INT_FIELD("spi", 0, 32), [2] = INT_FIELD("sequence", 32, 32) },
};
static const struct proto_desc proto_comp = {
	.name = "comp", .base = BASE_TH, .protocol_key = 1,
	.links = { L4_LINKS },
	.tmpl = { [1] = FIELD("nexthdr", &dt_inet_protocol, 0, 8),
		  [2] = FIELD("flags", &dt_bitmask, 8, 8), [3] = INT_FIELD("cpi", 16, 16) },
};
static const struct proto_desc proto_icmp = {
	.name = "icmp", .base = BASE_TH, .protocol_key = 1,
	.tmpl = { [1] = FIELD("type", &dt_icmp_type, 0, 8), [2] = FIELD("code", &dt_icmp_code, 8, 8),
		  [3] = ICMP_FIELD("checksum", 16, 16, ICMP_DEP_ANY),
		  [4] = ICMP_FIELD("id", 32, 16, ICMP_DEP_ECHO),
		  [5] = ICMP_FIELD("sequence", 48, 16, ICMP_DEP_ECHO),
		  [6] = ICMP_FIELD("gateway", 32, 32, ICMP_DEP_ADDRESS),
		  [7] = ICMP_FIELD("mtu", 48, 16, ICMP_DEP_MTU) },
};
static const struct proto_desc proto_igmp = {
	.name = "igmp", .base = BASE_TH,
	.tmpl = { [1] = FIELD("type", &dt_igmp_type, 0, 8), [2] = INT_FIELD("checksum", 16, 16),
		  [3] = INT_FIELD("mrt", 8, 8), [4] = INT_FIELD("group", 32, 32) },
};
static const struct proto_desc proto_udp = {
	.name = "udp", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &dt_inet_service, 16, 16),
		  [3] = INT_FIELD("length", 32, 16), [4] = INT_FIELD("checksum", 48, 16) },
};
static const struct proto_desc proto_udplite = {
	.name = "udplite", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &dt_inet_service, 16, 16),
		  [3] = INT_FIELD("csumcov", 32, 16), [4] = INT_FIELD("checksum", 48, 16) },
};
static const struct proto_desc proto_tcp = {
	.name = "tcp", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &dt_inet_service, 16, 16),
		  [3] = INT_FIELD("sequence", 32, 32), [4] = INT_FIELD("ackseq", 64, 32),
		  [5] = INT_FIELD("doff", 96, 4), [6] = INT_FIELD("reserved", 100, 4),
		  [7] = FIELD("flags", &dt_tcp_flag, 104, 8), [8] = INT_FIELD("window", 112, 16),
		  [9] = INT_FIELD("checksum", 128, 16), [10] = INT_FIELD("urgptr", 144, 16) },
};
static const struct proto_desc proto_dccp = {
	.name = "dccp", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &dt_inet_service, 16, 16),
		  [3] = FIELD("type", &dt_dccp_pkttype, 67, 4) },
};
static const struct proto_desc proto_sctp = {
	.name = "sctp", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &dt_inet_service, 16, 16),
		  [3] = INT_FIELD("vtag", 32, 32), [4] = INT_FIELD("checksum", 64, 32) },
};
/* the transport header when only the port layout is known */
static const struct proto_desc proto_th = {
	.name = "th", .base = BASE_TH,
	.tmpl = { [1] = FIELD("sport", &dt_inet_service, 0, 16),
		  [2] = FIELD("dport", &dt_inet_service, 16, 16) },
};
static const struct proto_desc proto_ip = {
	.name = "ip", .base = BASE_NH,
	.links = { { IPPROTO_ICMP, &proto_icmp }, { IPPROTO_IGMP, &proto_igmp },
		   { IPPROTO_ICMPV6, &proto_icmp6 }, L4_LINKS },
	.tmpl = { [0] = META_TMPL("l4proto", &dt_inet_protocol, NFT_META_L4PROTO, 8),
		  [1] = INT_FIELD("version", 0, 4), [2] = INT_FIELD("hdrlength", 4, 4),
		  [3] = FIELD("dscp", &dt_dscp, 8, 6), [4] = FIELD("ecn", &dt_ecn, 14, 2),
		  [5] = INT_FIELD("length", 16, 16), [6] = INT_FIELD("id", 32, 16),
		  [7] = INT_FIELD("frag-off", 48, 16), [8] = INT_FIELD("ttl", 64, 8),
		  [9] = FIELD("protocol", &dt_inet_protocol, 72, 8),
		  [10] = INT_FIELD("checksum", 80, 16), [11] = FIELD("saddr", &dt_ipaddr, 96, 32),
		  [12] = FIELD("daddr", &dt_ipaddr, 128, 32) },
};
#define IPHDR_PROTOCOL 9
static const struct proto_desc proto_icmp6 = {
	.name = "icmpv6", .base = BASE_TH, .protocol_key = 1,
	.tmpl = { [1] = FIELD("type", &dt_icmp6_type, 0, 8),
		  [2] = FIELD("code", &dt_icmpv6_code, 8, 8),
		  [3] = ICMP_FIELD("checksum", 16, 16, ICMP_DEP_ANY),
		  [4] = ICMP_FIELD("parameter-problem", 32, 32, ICMP6_DEP_PPTR),
		  [5] = ICMP_FIELD("mtu", 32, 32, ICMP6_DEP_MTU),
		  [6] = ICMP_FIELD("id", 32, 16, ICMP6_DEP_ECHO),
		  [7] = ICMP_FIELD("sequence", 48, 16, ICMP6_DEP_ECHO),
		  [8] = ICMP_FIELD("max-delay", 32, 16, ICMP6_DEP_MGMQ) },
};
static const struct proto_desc proto_ip6 = {
	.name = "ip6", .base = BASE_NH,
	.links = { L4_LINKS, { IPPROTO_ICMP, &proto_icmp }, { IPPROTO_IGMP, &proto_igmp },
		   { IPPROTO_ICMPV6, &proto_icmp6 } },
	.tmpl = { [0] = META_TMPL("l4proto", &dt_inet_protocol, NFT_META_L4PROTO, 8),
		  [1] = INT_FIELD("version", 0, 4), [2] = FIELD("dscp", &dt_dscp, 4, 6),
		  [3] = FIELD("ecn", &dt_ecn, 10, 2), [4] = INT_FIELD("flowlabel", 12, 20),
		  [5] = INT_FIELD("length", 32, 16), [6] = FIELD("nexthdr", &dt_inet_protocol, 48, 8),
		  [7] = INT_FIELD("hoplimit", 56, 8), [8] = FIELD("saddr", &dt_ip6addr, 64, 128),
		  [9] = FIELD("daddr", &dt_ip6addr, 192, 128) },
};
#define IP6HDR_NEXTHDR 6
/* inet tables: the link layer is "which of IPv4 and IPv6" */
static const struct proto_desc proto_inet = {
	.name = "inet", .base = BASE_LL,
	.links = { { NFPROTO_IPV4, &proto_ip }, { NFPROTO_IPV6, &proto_ip6 } },
	.tmpl = { [0] = META_TMPL("nfproto", &dt_nfproto, NFT_META_NFPROTO, 8) },
};
/* the transport protocols of both IP versions, for meta l4proto */
static const struct proto_desc proto_inet_service = {
	.name = "inet-service", .base = BASE_TH,
	.links = { L4_LINKS, { IPPROTO_ICMP, &proto_icmp }, { IPPROTO_IGMP, &proto_igmp },
		   { IPPROTO_ICMPV6, &proto_icmp6 } },
	.tmpl = { [0] = META_TMPL("l4proto", &dt_inet_protocol, NFT_META_L4PROTO, 8) },
};
static const struct proto_desc proto_arp = {
	.name = "arp", .base = BASE_NH,
	.tmpl = { [1] = INT_FIELD("htype", 0, 16), [2] = FIELD("ptype", &dt_ethertype, 16, 16),
		  [3] = INT_FIELD("hlen", 32, 8), [4] = INT_FIELD("plen", 40, 8),
		  [5] = FIELD("operation", &dt_arpop, 48, 16),
		  [6] = FIELD("saddr ether", &dt_etheraddr, 64, 48),
		  [7] = FIELD("saddr ip", &dt_ipaddr, 112, 32),
		  [8] = FIELD("daddr ether", &dt_etheraddr, 144, 48),
		  [9] = FIELD("daddr ip", &dt_ipaddr, 192, 32) },
};
#define LL_LINKS \
	{ 0x0800, &proto_ip }, { 0x0806, &proto_arp }, { 0x86dd, &proto_ip6 }, \
	{ 0x8100, &proto_vlan }, { 0x88a8, &proto_vlan }
static const struct proto_desc proto_vlan = {
	.name = "vlan", .base = BASE_LL, .protocol_key = 5, .length = 32,
	.links = { LL_LINKS },
	.tmpl = { [1] = INT_FIELD("pcp", 0, 3), [2] = INT_FIELD("dei", 3, 1),
		  [3] = INT_FIELD("cfi", 3, 1), [4] = INT_FIELD("id", 4, 12),
		  [5] = FIELD("type", &dt_ethertype, 16, 16) },
};
static const struct proto_desc proto_eth = {
	.name = "ether", .base = BASE_LL, .protocol_key = 3, .length = 112,
	.links = { LL_LINKS },
	.tmpl = { [1] = FIELD("daddr", &dt_etheraddr, 0, 48), [2] = FIELD("saddr", &dt_etheraddr, 48, 48),
		  [3] = FIELD("type", &dt_ethertype, 96, 16) },
};
/* netdev tables: the link layer is known by meta protocol only */
static const struct proto_desc proto_netdev = {
	.name = "netdev", .base = BASE_LL,
	.links = { LL_LINKS },
	.tmpl = { [0] = META_TMPL("protocol", &dt_ethertype, NFT_META_PROTOCOL, 16) },
};

/* proto_find_upper() */
static const struct proto_desc *proto_upper(const struct proto_desc *base, unsigned num)
{
	for (unsigned i = 0; base && i < MAX_LINKS && base->links[i].desc; i++)
		if (base->links[i].num == num)
			return base->links[i].desc;
	return NULL;
}

/* proto_find_num() */
static int proto_num(const struct proto_desc *base, const struct proto_desc *desc)
{
	for (unsigned i = 0; base && i < MAX_LINKS && base->links[i].desc; i++)
		if (base->links[i].desc == desc)
			return (int)base->links[i].num;
	return -1;
}

/* payload_expr_alloc()'s EXPR_F_PROTOCOL: the field names the next layer */
static bool tmpl_is_protocol(const struct proto_desc *desc, unsigned i)
{
	if (desc->protocol_key && i == desc->protocol_key)
		return true;
	return (desc == &proto_ip && i == IPHDR_PROTOCOL) || (desc == &proto_ip6 && i == IP6HDR_NEXTHDR);
}

/* ==== statements ================================================================ */

enum stmt_type {
	S_EXPR, S_VERDICT, S_COUNTER, S_META, S_CT, S_PAYLOAD, S_LOG, S_LIMIT, S_QUOTA,
	S_REJECT, S_NAT, S_NOTRACK, S_XT, S_UNSUPPORTED,
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
	const char *what;               /* S_UNSUPPORTED */
	bool loads;                     /* S_UNSUPPORTED: the expression loaded a register */
	bool consumed;                  /* ... which a later expression used */
};

struct stmt_list {
	struct stmt *head, *tail;
};

static struct stmt *stmt_new(struct ctx *c, enum stmt_type type)
{
	struct stmt *s = arena_alloc(c->a, sizeof(*s));

	s->type = type;
	s->dir = -1;
	return s;
}

static void stmt_append(struct stmt_list *l, struct stmt *s)
{
	s->prev = l->tail;
	s->next = NULL;
	if (l->tail)
		l->tail->next = s;
	else
		l->head = s;
	l->tail = s;
}

static void stmt_insert_before(struct stmt_list *l, struct stmt *pos, struct stmt *s)
{
	s->next = pos;
	s->prev = pos->prev;
	if (pos->prev)
		pos->prev->next = s;
	else
		l->head = s;
	pos->prev = s;
}

static void stmt_unlink(struct stmt_list *l, struct stmt *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		l->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		l->tail = s->prev;
	s->prev = s->next = NULL;
}

/* ==== step 1: expressions -> statements (netlink_parse_*) ======================== */

#define MAX_REGS 16

struct parse {
	struct ctx *c;
	struct stmt_list *list;
	struct node *regs[MAX_REGS + 1];
	struct stmt *loader;            /* the last unknown expression that may load a register */
};

/* netlink_parse_register(): 128-bit register numbers -> 32-bit ones */
static unsigned reg_index(unsigned reg)
{
	if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
		return 1 + (reg - NFT_REG_1) * (NFT_REG_SIZE / NFT_REG32_SIZE);
	if (reg >= NFT_REG32_00)
		return 1 + reg - NFT_REG32_00;
	return reg;
}

static void reg_set(struct parse *p, unsigned reg, struct node *n)
{
	unsigned i = reg_index(reg);

	if (i == NFT_REG_VERDICT || i > MAX_REGS)
		return;
	p->regs[i] = n;
}

/* What a register (by nft's 32-bit index) holds, as a copy the caller may
 * change. An empty register is the product of an expression we could not
 * read: its placeholder. */
static struct node *reg_get_index(struct parse *p, unsigned i)
{
	struct node *n;

	if (i != NFT_REG_VERDICT && i <= MAX_REGS && p->regs[i])
		return node_clone(p->c, p->regs[i]);
	n = node_new(p->c, N_UNSUPPORTED, &dt_invalid, BO_INVALID, 0);
	if (p->loader) {
		p->loader->consumed = true;
		n->what = p->loader->what;
	} else {
		n->what = "empty register";
	}
	return n;
}

static struct node *reg_get(struct parse *p, unsigned reg)
{
	return reg_get_index(p, reg_index(reg));
}

static void emit(struct parse *p, struct stmt *s)
{
	stmt_append(p->list, s);
}

static void emit_unsupported(struct parse *p, const char *what)
{
	struct stmt *s = stmt_new(p->c, S_UNSUPPORTED);

	s->what = what;
	emit(p, s);
}

static struct node *data_value(struct ctx *c, const struct cg_data *d)
{
	struct num v = num_from_bytes(d->bytes, d->len);

	return value_new(c, &dt_invalid, BO_INVALID, d->len * 8u, &v);
}

static unsigned register_space(unsigned bits)
{
	return (bits + NFT_REG32_SIZE * 8 - 1) / (NFT_REG32_SIZE * 8);
}

static unsigned padded_len(unsigned bits)
{
	return register_space(bits) * NFT_REG32_SIZE * 8;
}

/* constant_expr_splice(): the top `len` bits of v, which keeps the rest */
static struct node *value_splice(struct ctx *c, struct node *v, unsigned len)
{
	struct num mask, slice = *v->value;

	if (len > v->len)
		len = v->len;
	mask = num_mask(len);
	num_shl(&mask, v->len - len);
	num_and(&slice, &slice, &mask);
	num_shr(&slice, v->len - len);
	v->len -= len;
	return value_new(c, &dt_invalid, BO_INVALID, len, &slice);
}

/* netlink_parse_concat_expr(): the registers from reg on, len bits of them */
static struct node *concat_from_regs(struct parse *p, unsigned reg, unsigned len)
{
	struct node *concat = node_new(p->c, N_CONCAT, &dt_invalid, BO_INVALID, 0);

	reg = reg_index(reg);
	while (len > 0) {
		struct node *n = reg_get_index(p, reg);

		if (n->type == N_UNSUPPORTED || n->len == 0 || padded_len(n->len) > len)
			return NULL;
		node_add_item(p->c, concat, n);
		len -= padded_len(n->len);
		reg += register_space(n->len);
		concat->len += n->len;
	}
	return concat;
}

/* netlink_parse_concat_data(): the value cut like the registers it is compared with */
static struct node *concat_data(struct parse *p, unsigned reg, unsigned len, struct node *data)
{
	struct node *concat = node_new(p->c, N_CONCAT, &dt_invalid, BO_INVALID, 0);

	reg = reg_index(reg);
	while (len > 0) {
		struct node *n = reg_get_index(p, reg);

		if (n->type == N_UNSUPPORTED || n->len == 0 || padded_len(n->len) > len)
			return NULL;
		node_add_item(p->c, concat, value_splice(p->c, data, n->len));
		data->len -= padded_len(n->len) - n->len;
		len -= padded_len(n->len);
		reg += register_space(n->len);
	}
	return concat;
}

static struct node *relational_new(struct ctx *c, enum op op, struct node *l, struct node *r)
{
	struct node *n = node_new(c, N_RELATIONAL, &dt_verdict, BO_INVALID, 0);

	n->op = op;
	n->left = l;
	n->right = r;
	return n;
}

static struct node *binop_new(struct ctx *c, enum op op, struct node *l, struct node *r)
{
	struct node *n = node_new(c, N_BINOP, l->dtype, l->byteorder, l->len);

	n->op = op;
	n->left = l;
	n->right = r;
	return n;
}

static struct node *prefix_new(struct ctx *c, struct node *v, unsigned plen)
{
	struct node *n = node_new(c, N_PREFIX, &dt_invalid, BO_INVALID, v->len);

	n->left = v;
	n->prefix_len = plen;
	return n;
}

static struct node *range_new(struct ctx *c, struct node *lo, struct node *hi)
{
	struct node *n = node_new(c, N_RANGE, lo->dtype, lo->byteorder, lo->len);

	n->left = lo;
	n->right = hi;
	return n;
}

static void emit_expr(struct parse *p, struct node *rel)
{
	struct stmt *s = stmt_new(p->c, S_EXPR);

	s->expr = rel;
	emit(p, s);
}

static enum op cmp_op(uint32_t op)
{
	switch (op) {
	case NFT_CMP_EQ: return OP_EQ;
	case NFT_CMP_NEQ: return OP_NEQ;
	case NFT_CMP_LT: return OP_LT;
	case NFT_CMP_LTE: return OP_LTE;
	case NFT_CMP_GT: return OP_GT;
	case NFT_CMP_GTE: return OP_GTE;
	default: return OP_INVALID;
	}
}

static void parse_cmp(struct parse *p, const struct cg_expr *e)
{
	struct node *left = reg_get(p, e->cmp.sreg), *right = data_value(p->c, &e->cmp.data);

	if (left->type != N_UNSUPPORTED && left->len > right->len &&
	    dtype_base(left->dtype) != &dt_string) {
		/* a shorter value compares the field's leading bytes: a prefix */
		unsigned plen = right->len;

		num_shl(right->value, left->len - right->len);
		right->len = left->len;
		right = prefix_new(p->c, right, plen);
	} else if (left->type != N_UNSUPPORTED && left->len > 0 && left->len < right->len) {
		/* a longer value spans several registers: a concatenation */
		struct node *l = concat_from_regs(p, e->cmp.sreg, right->len);
		struct node *r = l ? concat_data(p, e->cmp.sreg, right->len, right) : NULL;

		if (!r) {
			emit_unsupported(p, "cmp (concatenation)");
			return;
		}
		left = l;
		right = r;
	}
	emit_expr(p, relational_new(p->c, cmp_op(e->cmp.op), left, right));
}

static void parse_range(struct parse *p, const struct cg_expr *e)
{
	struct node *left = reg_get(p, e->range.sreg);
	struct node *r = range_new(p->c, data_value(p->c, &e->range.from), data_value(p->c, &e->range.to));
	enum op op = e->range.op == NFT_RANGE_EQ ? OP_EQ : e->range.op == NFT_RANGE_NEQ ? OP_NEQ : OP_INVALID;

	emit_expr(p, relational_new(p->c, op, left, r));
}

static struct node *set_ref_new(struct ctx *c, const struct cg_set *set, const struct node *lhs);

static bool set_is_vmap(const struct cg_set *s)
{
	return (s->flags & CG_SET_MAP) && s->data_type == NFT_DATA_VERDICT;
}

static void parse_lookup(struct parse *p, const struct cg_expr *e)
{
	const struct cg_set *set = e->lookup.set;
	struct node *left, *right, *n;

	if (!set) {
		/* the model could not resolve it: name what was looked up */
		const char *name = e->lookup.set_name ? e->lookup.set_name : "?";
		size_t len = strlen(name) + 32;
		char *what = arena_alloc(p->c->a, len);

		snprintf(what, len, "lookup in missing set %s", name);
		emit_unsupported(p, what);
		return;
	}
	left = reg_get(p, e->lookup.sreg);
	if (left->type != N_UNSUPPORTED && left->len < set->key_len * 8) {
		left = concat_from_regs(p, e->lookup.sreg, set->key_len * 8);
		if (!left) {
			emit_unsupported(p, "lookup (concatenation)");
			return;
		}
	}
	right = set_ref_new(p->c, set, left);
	if (e->lookup.dreg != NFT_REG_VERDICT || set_is_vmap(set)) {
		n = node_new(p->c, N_MAP, &dt_invalid, BO_INVALID, set->data_len * 8);
		n->left = left;
		n->right = right;
		if (e->lookup.dreg != NFT_REG_VERDICT) {
			if (set->data_type != NFT_DATA_VERDICT) {
				n->dtype = dtype_by_id(set->data_type);
				n->byteorder = n->dtype->byteorder;
			}
			reg_set(p, e->lookup.dreg, n);
			return;
		}
	} else {
		n = relational_new(p->c, OP_EQ, left, right);
	}
	if (e->lookup.invert)
		n->op = OP_NEQ;
	emit_expr(p, n);
}

/* netlink_parse_bitwise_bool(): (x & mask) ^ xor, printed as &, ^ and | */
static struct node *bitwise_bool(struct parse *p, const struct cg_expr *e, struct node *left)
{
	struct node *mask = data_value(p->c, &e->bitwise.data->mask), *xor = data_value(p->c, &e->bitwise.data->xor);
	struct num m = *mask->value, x = *xor->value, o = { 0 };
	struct node *n = left;

	if (num_scan0(&m, 0) != mask->len || !num_is_zero(&x)) {
		/* o = (m & x) ^ x; x &= m; m |= o: bits set by xor where the
		 * mask clears them are an OR */
		num_and(&o, &m, &x);
		num_xor(&o, &o, &x);
		num_and(&x, &x, &m);
		num_or(&m, &m, &o);
	}
	if (!(left->len > 0 && num_scan0(&m, 0) == left->len)) {
		*mask->value = m;
		n = binop_new(p->c, OP_AND, n, mask);
		n->len = left->len;
	}
	if (!num_is_zero(&x)) {
		*xor->value = x;
		n = binop_new(p->c, OP_XOR, n, xor);
		n->len = left->len;
	}
	if (!num_is_zero(&o)) {
		struct node *or = data_value(p->c, &e->bitwise.data->xor);

		*or->value = o;
		n = binop_new(p->c, OP_OR, n, or);
		n->len = left->len;
	}
	return n;
}

static void parse_bitwise(struct parse *p, const struct cg_expr *e)
{
	struct node *left = reg_get(p, e->bitwise.sreg), *n;

	switch (e->bitwise.op) {
	case NFT_BITWISE_BOOL:
		n = bitwise_bool(p, e, left);
		break;
	case NFT_BITWISE_LSHIFT:
	case NFT_BITWISE_RSHIFT: {
		struct node *sh = data_value(p->c, &e->bitwise.data->shift);

		sh->byteorder = BO_HOST;
		n = binop_new(p->c, e->bitwise.op == NFT_BITWISE_LSHIFT ? OP_LSHIFT : OP_RSHIFT, left, sh);
		n->len = left->len;
		break;
	}
	default:
		n = node_new(p->c, N_UNSUPPORTED, &dt_invalid, BO_INVALID, left->len);
		n->what = "bitwise";
		break;
	}
	reg_set(p, e->bitwise.dreg, n);
}

static void parse_byteorder(struct parse *p, const struct cg_expr *e)
{
	struct node *arg = reg_get(p, e->byteorder.sreg);
	struct node *n = node_new(p->c, N_UNARY, arg->dtype, arg->byteorder, arg->len);

	n->op = e->byteorder.op == NFT_BYTEORDER_NTOH ? OP_NTOH : OP_HTON;
	n->left = arg;
	reg_set(p, e->byteorder.dreg, n);
}

/* payload_init_raw(): a transport header's first two 16-bit words are ports
 * whatever the protocol */
static struct node *payload_raw(struct ctx *c, unsigned base, unsigned offset, unsigned len)
{
	struct node *n = node_new(c, N_PAYLOAD, &dt_xinteger, BO_INVALID, len);

	n->payload.base = (enum base)base;
	n->payload.offset = offset;
	n->payload.desc = &proto_unknown;
	if (base == BASE_TH && len == 16 && (offset == 0 || offset == 16)) {
		n->payload.desc = &proto_th;
		n->payload.tmpl = &proto_th.tmpl[offset == 0 ? 1 : 2];
		n->dtype = &dt_inet_service;
	}
	return n;
}

static void parse_payload(struct parse *p, const struct cg_expr *e)
{
	struct node *n = payload_raw(p->c, e->payload.base + 1u, e->payload.offset * 8, e->payload.len * 8);

	reg_set(p, e->payload.dreg, n);
}

static void parse_payload_set(struct parse *p, const struct cg_expr *e)
{
	struct stmt *s = stmt_new(p->c, S_PAYLOAD);

	s->expr = reg_get(p, e->payload_set.sreg);
	s->target = payload_raw(p->c, e->payload_set.base + 1u, e->payload_set.offset * 8,
				e->payload_set.len * 8);
	emit(p, s);
}

struct meta_tmpl {
	const char *token;
	const struct dtype *dtype;
	unsigned len;
	enum byteorder byteorder;
};

static const struct meta_tmpl *meta_tmpl(uint32_t key)
{
	static const struct meta_tmpl tmpls[] = {
		[NFT_META_LEN] = { "length", &dt_integer, 32, BO_HOST },
		[NFT_META_PROTOCOL] = { "protocol", &dt_ethertype, 16, BO_BIG },
		[NFT_META_PRIORITY] = { "priority", &dt_classid, 32, BO_HOST },
		[NFT_META_MARK] = { "mark", &dt_mark, 32, BO_HOST },
		[NFT_META_IIF] = { "iif", &dt_ifindex, 32, BO_HOST },
		[NFT_META_OIF] = { "oif", &dt_ifindex, 32, BO_HOST },
		[NFT_META_IIFNAME] = { "iifname", &dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_OIFNAME] = { "oifname", &dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_IIFTYPE] = { "iiftype", &dt_arphrd, 16, BO_HOST },
		[NFT_META_OIFTYPE] = { "oiftype", &dt_arphrd, 16, BO_HOST },
		[NFT_META_SKUID] = { "skuid", &dt_uid, 32, BO_HOST },
		[NFT_META_SKGID] = { "skgid", &dt_gid, 32, BO_HOST },
		[NFT_META_NFTRACE] = { "nftrace", &dt_integer, 1, BO_HOST },
		[NFT_META_RTCLASSID] = { "rtclassid", &dt_realm, 32, BO_HOST },
		[NFT_META_SECMARK] = { "secmark", &dt_integer, 32, BO_HOST },
		[NFT_META_NFPROTO] = { "nfproto", &dt_nfproto, 8, BO_HOST },
		[NFT_META_L4PROTO] = { "l4proto", &dt_inet_protocol, 8, BO_HOST },
		[NFT_META_BRI_IIFNAME] = { "ibrname", &dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_BRI_OIFNAME] = { "obrname", &dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_PKTTYPE] = { "pkttype", &dt_pkttype, 8, BO_HOST },
		[NFT_META_CPU] = { "cpu", &dt_integer, 32, BO_HOST },
		[NFT_META_IIFGROUP] = { "iifgroup", &dt_devgroup, 32, BO_HOST },
		[NFT_META_OIFGROUP] = { "oifgroup", &dt_devgroup, 32, BO_HOST },
		[NFT_META_CGROUP] = { "cgroup", &dt_integer, 32, BO_HOST },
		[NFT_META_PRANDOM] = { "random", &dt_integer, 32, BO_BIG },
		[NFT_META_SECPATH] = { "ipsec", &dt_boolean, 8, BO_HOST },
		[NFT_META_IIFKIND] = { "iifkind", &dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_OIFKIND] = { "oifkind", &dt_ifname, IFNAMSIZ * 8, BO_HOST },
		[NFT_META_BRI_IIFPVID] = { "ibrpvid", &dt_integer, 16, BO_HOST },
		[NFT_META_BRI_IIFVPROTO] = { "ibrvproto", &dt_ethertype, 16, BO_BIG },
		[NFT_META_TIME_NS] = { "time", &dt_date, 64, BO_HOST },
		[NFT_META_TIME_DAY] = { "day", &dt_day, 8, BO_HOST },
		[NFT_META_TIME_HOUR] = { "hour", &dt_hour, 32, BO_HOST },
		[NFT_META_SDIF] = { "sdif", &dt_ifindex, 32, BO_HOST },
		[NFT_META_SDIFNAME] = { "sdifname", &dt_ifname, IFNAMSIZ * 8, BO_HOST },
	};

	return key < ARRAY_SIZE(tmpls) && tmpls[key].token ? &tmpls[key] : NULL;
}

static struct node *meta_new(struct ctx *c, uint32_t key)
{
	const struct meta_tmpl *t = meta_tmpl(key);
	struct node *n;

	if (!t) {
		n = node_new(c, N_UNSUPPORTED, &dt_invalid, BO_INVALID, 32);
		n->what = "meta key";
		return n;
	}
	n = node_new(c, N_META, t->dtype, t->byteorder, t->len);
	n->key = key;
	switch (key) {
	case NFT_META_IIFTYPE:
		n->flags |= F_PROTOCOL;
		break;
	case NFT_META_NFPROTO:
	case NFT_META_PROTOCOL:
		n->flags |= F_PROTOCOL;
		n->kbase = BASE_LL;
		break;
	case NFT_META_L4PROTO:
		n->flags |= F_PROTOCOL;
		n->kbase = BASE_NH;
		break;
	}
	return n;
}

struct ct_tmpl {
	const char *token;
	const struct dtype *dtype;
	unsigned len;
	enum byteorder byteorder;
};

static const struct ct_tmpl *ct_tmpl(uint32_t key)
{
	static const struct ct_tmpl tmpls[] = {
		[NFT_CT_STATE] = { "state", &dt_ct_state, 32, BO_HOST },
		[NFT_CT_DIRECTION] = { "direction", &dt_ct_dir, 8, BO_HOST },
		[NFT_CT_STATUS] = { "status", &dt_ct_status, 32, BO_HOST },
		[NFT_CT_MARK] = { "mark", &dt_mark, 32, BO_HOST },
		[NFT_CT_EXPIRATION] = { "expiration", &dt_time, 32, BO_HOST },
		[NFT_CT_HELPER] = { "helper", &dt_string, 16 * 8, BO_HOST },
		[NFT_CT_L3PROTOCOL] = { "l3proto", &dt_nfproto, 8, BO_HOST },
		[NFT_CT_SRC] = { "saddr", &dt_invalid, 0, BO_BIG },
		[NFT_CT_DST] = { "daddr", &dt_invalid, 0, BO_BIG },
		[NFT_CT_PROTOCOL] = { "protocol", &dt_inet_protocol, 8, BO_BIG },
		[NFT_CT_PROTO_SRC] = { "proto-src", &dt_invalid, 16, BO_BIG },
		[NFT_CT_PROTO_DST] = { "proto-dst", &dt_invalid, 16, BO_BIG },
		[NFT_CT_LABELS] = { "label", &dt_ct_label, 128, BO_HOST },
		[NFT_CT_PKTS] = { "packets", &dt_integer, 64, BO_HOST },
		[NFT_CT_BYTES] = { "bytes", &dt_integer, 64, BO_HOST },
		[NFT_CT_AVGPKT] = { "avgpkt", &dt_integer, 64, BO_HOST },
		[NFT_CT_ZONE] = { "zone", &dt_integer, 16, BO_HOST },
		[NFT_CT_EVENTMASK] = { "event", &dt_ct_event, 32, BO_HOST },
		[NFT_CT_SRC_IP] = { "ip saddr", &dt_ipaddr, 32, BO_BIG },
		[NFT_CT_DST_IP] = { "ip daddr", &dt_ipaddr, 32, BO_BIG },
		[NFT_CT_SRC_IP6] = { "ip6 saddr", &dt_ip6addr, 128, BO_BIG },
		[NFT_CT_DST_IP6] = { "ip6 daddr", &dt_ip6addr, 128, BO_BIG },
		[NFT_CT_SECMARK] = { "secmark", &dt_integer, 32, BO_HOST },
		[NFT_CT_ID] = { "id", &dt_integer, 32, BO_BIG },
	};

	return key < ARRAY_SIZE(tmpls) && tmpls[key].token ? &tmpls[key] : NULL;
}

static struct node *ct_new(struct ctx *c, uint32_t key, int8_t dir)
{
	const struct ct_tmpl *t = ct_tmpl(key);
	struct node *n;

	if (!t) {
		n = node_new(c, N_UNSUPPORTED, &dt_invalid, BO_INVALID, 32);
		n->what = "ct key";
		return n;
	}
	n = node_new(c, N_CT, t->dtype, t->byteorder, t->len);
	n->key = key;
	n->dir = dir;
	switch (key) {
	case NFT_CT_SRC:
	case NFT_CT_DST:
		n->kbase = BASE_NH;
		break;
	case NFT_CT_PROTO_SRC:
	case NFT_CT_PROTO_DST:
		n->kbase = BASE_TH;
		break;
	case NFT_CT_PROTOCOL:
		n->flags = F_PROTOCOL;
		n->kbase = BASE_NH;
		break;
	case NFT_CT_L3PROTOCOL:
		n->flags = F_PROTOCOL;
		n->kbase = BASE_LL;
		break;
	}
	return n;
}

/* expr_set_type() */
static void node_set_type(struct node *n, const struct dtype *dt, enum byteorder bo);

static void parse_meta(struct parse *p, const struct cg_expr *e, bool set)
{
	struct stmt *s;
	const struct meta_tmpl *t;

	if (!set) {
		reg_set(p, e->meta.reg, meta_new(p->c, e->meta.key));
		return;
	}
	s = stmt_new(p->c, S_META);
	s->key = e->meta.key;
	s->expr = reg_get(p, e->meta.reg);
	t = meta_tmpl(e->meta.key);
	if (t)
		node_set_type(s->expr, t->dtype, t->byteorder);
	emit(p, s);
}

static void parse_ct(struct parse *p, const struct cg_expr *e, bool set)
{
	struct stmt *s;
	const struct ct_tmpl *t;

	if (!set) {
		reg_set(p, e->ct.reg, ct_new(p->c, e->ct.key, e->ct.dir));
		return;
	}
	s = stmt_new(p->c, S_CT);
	s->key = e->ct.key;
	s->dir = e->ct.dir;
	s->expr = reg_get(p, e->ct.reg);
	t = ct_tmpl(e->ct.key);
	if (t)
		node_set_type(s->expr, t->dtype, t->byteorder);
	emit(p, s);
}

static void parse_immediate(struct parse *p, const struct cg_expr *e)
{
	struct stmt *s;

	if (e->immediate.dreg != NFT_REG_VERDICT) {
		reg_set(p, e->immediate.dreg, data_value(p->c, &e->immediate.data));
		return;
	}
	s = stmt_new(p->c, S_VERDICT);
	s->expr = node_new(p->c, N_VERDICT, &dt_verdict, BO_INVALID, 0);
	s->expr->verdict = &e->immediate.verdict;
	emit(p, s);
}

/* an address register, typed for its family, and an optional second one
 * making a range */
static struct node *nat_operand(struct parse *p, uint8_t reg_min, uint8_t reg_max,
				const struct dtype *dt)
{
	struct node *n = NULL, *hi;

	if (reg_min) {
		n = reg_get(p, reg_min);
		node_set_type(n, dt, BO_BIG);
	}
	if (reg_max && reg_max != reg_min) {
		hi = reg_get(p, reg_max);
		node_set_type(hi, dt, BO_BIG);
		n = n ? range_new(p->c, n, hi) : hi;
	}
	return n;
}

/* range_expr_to_prefix(): lo-hi covering exactly a prefix prints as one */
static struct node *range_to_prefix(struct ctx *c, struct node *range)
{
	const struct node *lo = range->left, *hi = range->right;
	struct num x;
	unsigned n1, n2, plen, len = lo->len;

	if (lo->type != N_VALUE || hi->type != N_VALUE)
		return range;
	num_xor(&x, lo->value, hi->value);
	n1 = num_scan0(&x, 0);
	n2 = num_scan1(&x, n1 + 1);
	if (n2 < len)
		return range;
	plen = len - n1;
	if (num_scan1(lo->value, 0) < len - plen)
		return range;
	return prefix_new(c, range->left, plen);
}

static void parse_nat(struct parse *p, const struct cg_expr *e)
{
	struct stmt *s = stmt_new(p->c, S_NAT);
	const struct dtype *adt = e->nat.family == NFPROTO_IPV6 ? &dt_ip6addr : &dt_ipaddr;

	s->nat.kind = e->nat.type == NFT_NAT_DNAT ? NAT_DNAT : NAT_SNAT;
	if (p->c->family == NFPROTO_INET)
		s->nat.family = e->nat.family;
	s->nat.flags = e->nat.flags;
	if (s->nat.flags & NF_NAT_RANGE_NETMAP)
		s->nat.type_flags |= NAT_F_PREFIX;
	s->nat.addr = nat_operand(p, e->nat.reg_addr_min, e->nat.reg_addr_max, adt);
	if (s->nat.addr && s->nat.addr->type == N_RANGE)
		s->nat.addr = range_to_prefix(p->c, s->nat.addr);
	s->nat.proto = nat_operand(p, e->nat.reg_proto_min, e->nat.reg_proto_max, &dt_inet_service);
	emit(p, s);
}

static void parse_masq_redir(struct parse *p, const struct cg_expr *e)
{
	struct stmt *s = stmt_new(p->c, S_NAT);

	s->nat.kind = e->type == CG_EXPR_MASQ ? NAT_MASQ : NAT_REDIR;
	s->nat.flags = e->masq_redir.flags;
	s->nat.proto = nat_operand(p, e->masq_redir.reg_proto_min, e->masq_redir.reg_proto_max,
				   &dt_inet_service);
	emit(p, s);
}

/* Unknown kinds nft reads as register loads; their users show the placeholder */
static bool unknown_loads_register(const char *name)
{
	static const char *const loaders[] = {
		"exthdr", "socket", "osf", "rt", "numgen", "hash", "fib", "xfrm", "tcpopt",
	};

	for (size_t i = 0; i < ARRAY_SIZE(loaders); i++)
		if (!strcmp(name, loaders[i]))
			return true;
	return false;
}

static void parse_unknown(struct parse *p, const char *name)
{
	struct stmt *s = stmt_new(p->c, S_UNSUPPORTED);

	s->what = name && *name ? name : "unknown expression";
	if (unknown_loads_register(s->what)) {
		s->loads = true;
		p->loader = s;
	}
	emit(p, s);
}

static void parse_simple(struct parse *p, const struct cg_expr *e, enum stmt_type type)
{
	struct stmt *s = stmt_new(p->c, type);

	s->src = e;
	emit(p, s);
}

static void parse_expr(struct parse *p, const struct cg_expr *e)
{
	switch (e->type) {
	case CG_EXPR_PAYLOAD: parse_payload(p, e); break;
	case CG_EXPR_PAYLOAD_SET: parse_payload_set(p, e); break;
	case CG_EXPR_META: parse_meta(p, e, false); break;
	case CG_EXPR_META_SET: parse_meta(p, e, true); break;
	case CG_EXPR_CT: parse_ct(p, e, false); break;
	case CG_EXPR_CT_SET: parse_ct(p, e, true); break;
	case CG_EXPR_CMP: parse_cmp(p, e); break;
	case CG_EXPR_BITWISE: parse_bitwise(p, e); break;
	case CG_EXPR_BYTEORDER: parse_byteorder(p, e); break;
	case CG_EXPR_RANGE: parse_range(p, e); break;
	case CG_EXPR_LOOKUP: parse_lookup(p, e); break;
	case CG_EXPR_IMMEDIATE: parse_immediate(p, e); break;
	case CG_EXPR_COUNTER: parse_simple(p, e, S_COUNTER); break;
	case CG_EXPR_LOG: parse_simple(p, e, S_LOG); break;
	case CG_EXPR_LIMIT: parse_simple(p, e, S_LIMIT); break;
	case CG_EXPR_QUOTA: parse_simple(p, e, S_QUOTA); break;
	case CG_EXPR_REJECT: parse_simple(p, e, S_REJECT); break;
	case CG_EXPR_NOTRACK: parse_simple(p, e, S_NOTRACK); break;
	case CG_EXPR_XT_MATCH:
	case CG_EXPR_XT_TARGET: parse_simple(p, e, S_XT); break;
	case CG_EXPR_NAT: parse_nat(p, e); break;
	case CG_EXPR_MASQ:
	case CG_EXPR_REDIR: parse_masq_redir(p, e); break;
	case CG_EXPR_UNKNOWN: parse_unknown(p, e->unknown.name); break;
	default: parse_unknown(p, expr_type_to_string(e->type)); break;
	}
}

/* ==== step 2: postprocessing (rule_parse_postprocess) ============================ */

struct proto_ctx {
	uint8_t family;
	const struct proto_desc *desc[BASE_MAX + 1];
	const struct proto_desc *stacked_ll[16];
	unsigned n_stacked;
	unsigned icmp_type;             /* th_dep: the icmp type a match established */
};

enum { PP_IN_CONCAT = 1 << 0, PP_IN_SET_ELEM = 1 << 1, PP_REMOVE_OP_AND = PP_IN_CONCAT | PP_IN_SET_ELEM };

struct pp {
	struct ctx *c;
	struct stmt_list *list;
	struct proto_ctx pctx;
	struct stmt *pdeps[BASE_MAX + 2];       /* protocol matches a later field may imply */
	unsigned dep_icmp_type;
	struct stmt *prev;              /* the statement before, for range merging */
	struct stmt *stmt;              /* being processed; NULL once replaced */
	unsigned flags;                 /* PP_* */
};

/* hook_proto_desc[]: what a table family knows before any match */
static void proto_ctx_init(struct proto_ctx *pc, uint8_t family)
{
	memset(pc, 0, sizeof(*pc));
	pc->family = family;
	switch (family) {
	case NFPROTO_BRIDGE: pc->desc[BASE_LL] = &proto_eth; break;
	case NFPROTO_NETDEV: pc->desc[BASE_LL] = &proto_netdev; break;
	case NFPROTO_INET: pc->desc[BASE_LL] = &proto_inet; break;
	case NFPROTO_IPV4: pc->desc[BASE_NH] = &proto_ip; break;
	case NFPROTO_IPV6: pc->desc[BASE_NH] = &proto_ip6; break;
	case NFPROTO_ARP: pc->desc[BASE_NH] = &proto_arp; break;
	}
}

/* the link layer description of the family's hook, as proto_ctx_init() set it */
static const struct proto_desc *hook_desc(uint8_t family, enum base *base)
{
	*base = BASE_LL;
	switch (family) {
	case NFPROTO_BRIDGE: return &proto_eth;
	case NFPROTO_NETDEV: return &proto_netdev;
	case NFPROTO_INET: return &proto_inet;
	case NFPROTO_IPV4: *base = BASE_NH; return &proto_ip;
	case NFPROTO_IPV6: *base = BASE_NH; return &proto_ip6;
	case NFPROTO_ARP: *base = BASE_NH; return &proto_arp;
	}
	*base = BASE_INVALID;
	return NULL;
}

static const struct proto_desc proto_unknown = { .name = "unknown", .base = BASE_INVALID };

static void pctx_update(struct proto_ctx *pc, enum base base, const struct proto_desc *desc)
{
	if (base <= BASE_MAX)
		pc->desc[base] = desc;
}

/* payload_expr_pctx_update() */
static void payload_pctx_update(struct proto_ctx *pc, const struct node *left, const struct node *right)
{
	const struct proto_desc *base = pc->desc[left->payload.base], *desc;
	unsigned proto = (unsigned)value_u64(right);

	desc = proto_upper(base, proto);
	if (!desc) {
		if (base == &proto_icmp)
			pc->icmp_type = proto ? proto : 8;     /* echo reply counts as echo */
		else if (base == &proto_icmp6)
			pc->icmp_type = proto == 129 ? 128 : proto;
		return;
	}
	if (base && desc->base == base->base && desc->base == BASE_LL && pc->n_stacked < ARRAY_SIZE(pc->stacked_ll))
		pc->stacked_ll[pc->n_stacked++] = base;
	pctx_update(pc, desc->base, desc);
}

/* meta_expr_pctx_update() */
static void meta_pctx_update(struct proto_ctx *pc, const struct node *left, const struct node *right)
{
	enum base hbase;
	const struct proto_desc *h = hook_desc(pc->family, &hbase), *desc;
	unsigned v = (unsigned)value_u64(right);

	switch (left->key) {
	case NFT_META_IIFTYPE:
		if (hbase < BASE_NH && pc->family != NFPROTO_INET && pc->family != NFPROTO_NETDEV)
			return;
		pctx_update(pc, BASE_LL, v == 1 ? &proto_eth : &proto_unknown);
		break;
	case NFT_META_NFPROTO:
		desc = proto_upper(h, v);
		if (!desc)
			desc = v == pc->family && hbase == BASE_NH ? h : &proto_unknown;
		pctx_update(pc, BASE_NH, desc);
		break;
	case NFT_META_L4PROTO:
		desc = proto_upper(&proto_inet_service, v);
		pctx_update(pc, BASE_TH, desc ? desc : &proto_unknown);
		break;
	case NFT_META_PROTOCOL:
		if (hbase != BASE_LL || (pc->family != NFPROTO_NETDEV && pc->family != NFPROTO_BRIDGE))
			return;
		desc = proto_upper(h, v);
		pctx_update(pc, BASE_NH, desc ? desc : &proto_unknown);
		break;
	}
}

/* ct_expr_pctx_update() */
static void ct_pctx_update(struct proto_ctx *pc, const struct node *left, const struct node *right)
{
	const struct proto_desc *base = pc->desc[left->kbase], *desc;

	if (!base)
		return;
	desc = proto_upper(base, (unsigned)value_u64(right));
	if (desc)
		pctx_update(pc, left->kbase + 1, desc);
}

/* relational_expr_pctx_update(): a protocol match tells what the next layer is */
static void relational_pctx_update(struct proto_ctx *pc, const struct node *rel)
{
	const struct node *left = rel->left, *right = rel->right;

	if (!(left->flags & F_PROTOCOL) || right->type != N_VALUE)
		return;
	switch (left->type) {
	case N_PAYLOAD: payload_pctx_update(pc, left, right); break;
	case N_META: meta_pctx_update(pc, left, right); break;
	case N_CT: ct_pctx_update(pc, left, right); break;
	default: break;
	}
}

/* ---- payload dependencies (payload.c) ---- */

static struct node *dep_get(struct pp *rp, enum base base)
{
	if (rp->pdeps[base])
		return rp->pdeps[base]->expr;
	if (base == BASE_TH && rp->pdeps[BASE_IH])
		return rp->pdeps[BASE_IH]->expr;
	return NULL;
}

static bool dep_exists(const struct pp *rp, enum base base)
{
	return rp->pdeps[base] || (base == BASE_TH && rp->pdeps[BASE_IH]);
}

static void dep_release_at(struct pp *rp, unsigned i)
{
	stmt_unlink(rp->list, rp->pdeps[i]);
	if (rp->pdeps[i] == rp->prev)
		rp->prev = NULL;
	rp->pdeps[i] = NULL;
}

static void dep_release(struct pp *rp, enum base base)
{
	if (rp->pdeps[base])
		dep_release_at(rp, base);
	else if (base == BASE_TH && rp->pdeps[BASE_IH])
		dep_release_at(rp, BASE_IH);
}

static void dep_reset(struct pp *rp)
{
	memset(rp->pdeps, 0, sizeof(rp->pdeps));
	rp->dep_icmp_type = 0;
	rp->prev = NULL;
}

/* payload_dependency_store(): remember a protocol match a later field may
 * make redundant; an icmp echo type stays, the fields after it need it */
static void dep_store(struct pp *rp, struct stmt *s, enum base base)
{
	const struct node *dep = s->expr, *l = dep->left, *r = dep->right;

	if (l->type == N_PAYLOAD && r->type == N_VALUE && r->len == 8) {
		unsigned type = (unsigned)value_u64(r);

		if (l->payload.desc == &proto_icmp) {
			if (type == 0)
				type = 8;
			rp->dep_icmp_type = type;
			if (type == 8)
				return;
		} else if (l->payload.desc == &proto_icmp6) {
			rp->dep_icmp_type = type;
			if (type == 128 || type == 129)
				return;
		}
	}
	rp->pdeps[base + 1] = s;
}

static unsigned icmp_dep_type(enum icmp_dep d)
{
	switch (d) {
	case ICMP_DEP_ECHO: return 8;
	case ICMP6_DEP_ECHO: return 128;
	case ICMP_DEP_MTU: return 3;
	case ICMP_DEP_ADDRESS: return 5;
	case ICMP6_DEP_MTU: return 2;
	case ICMP6_DEP_MGMQ: return 130;
	case ICMP6_DEP_PPTR: return 4;
	default: return 0;
	}
}

/* the payload fields of a dependency expression; a meta or ct one has none */
static const struct proto_desc *dep_payload_desc(const struct node *n)
{
	return n->type == N_PAYLOAD ? n->payload.desc : NULL;
}

static enum base dep_payload_base(const struct node *n)
{
	return n->type == N_PAYLOAD ? n->payload.base : BASE_INVALID;
}

static bool dep_may_kill(struct pp *rp, const struct node *expr)
{
	const struct node *dep = dep_get(rp, expr->payload.base);
	const struct proto_desc *ddesc = dep_payload_desc(dep->left);

	switch (rp->pctx.family) {
	case NFPROTO_BRIDGE:
	case NFPROTO_NETDEV:
	case NFPROTO_INET:
		/* ip/ip6 protocol matches restrict the family there: they stay */
		if (dep->left->type == N_PAYLOAD && dep->left->payload.base == BASE_NH &&
		    (ddesc == &proto_ip || ddesc == &proto_ip6) && expr->payload.base == BASE_TH)
			return false;
		if (dep->left->type == N_PAYLOAD && dep->op == OP_EQ &&
		    expr->payload.base == dep->left->payload.base) {
			if (expr->flags & F_PROTOCOL)
				return false;
			if (expr->payload.base == BASE_LL) {
				if (ddesc == &proto_vlan)
					return false;
				if (ddesc == &proto_eth && dep->right->type == N_VALUE && dep->right->len == 16)
					return value_u64(dep->right) == 0x8100;
				return true;
			}
		}
		break;
	}
	if (expr->payload.base != BASE_TH || dep_payload_base(dep->left) != BASE_TH)
		return true;
	if (ddesc == &proto_icmp || ddesc == &proto_icmp6) {
		enum icmp_dep d = expr->payload.tmpl ? expr->payload.tmpl->icmp_dep : ICMP_DEP_ANY;

		if (d == ICMP_DEP_ANY || ddesc != expr->payload.desc)
			return false;
		return rp->dep_icmp_type == icmp_dep_type(d);
	}
	return true;
}

/* payload_dependency_kill() */
static void dep_kill(struct pp *rp, const struct node *expr)
{
	if (expr->payload.desc != &proto_unknown && dep_exists(rp, expr->payload.base) &&
	    dep_may_kill(rp, expr))
		dep_release(rp, expr->payload.base);
}

/* ---- payload fields (payload.c) ---- */

/* get_stacked_desc(): a link layer offset past the first header is in a stacked one */
static const struct proto_desc *stacked_desc(const struct proto_ctx *pc, const struct proto_desc *top,
					     const struct node *e, unsigned *skip)
{
	unsigned off = e->payload.offset, total = 0;

	*skip = 0;
	if (e->payload.base != BASE_LL || off < top->length)
		return top;
	for (unsigned i = 0; i < pc->n_stacked; i++) {
		const struct proto_desc *s = pc->stacked_ll[i];

		if (off < s->length) {
			*skip = total;
			return s;
		}
		off -= s->length;
		total += s->length;
	}
	*skip = total;
	return top;
}

static const struct proto_desc *payload_base_desc(const struct proto_ctx *pc, const struct node *e,
						  unsigned *skip)
{
	const struct proto_desc *desc = e->payload.base <= BASE_MAX ? pc->desc[e->payload.base] : NULL;

	*skip = 0;
	if (!desc || desc == &proto_unknown || desc->base != e->payload.base)
		return NULL;
	return stacked_desc(pc, desc, e, skip);
}

/* payload_expr_complete(): name the field a raw load covers exactly */
static void payload_complete(struct node *e, const struct proto_ctx *pc)
{
	unsigned skip, off;
	const struct proto_desc *desc = payload_base_desc(pc, e, &skip);

	if (!desc || desc == &proto_inet)
		return;
	off = e->payload.offset - skip;
	for (unsigned i = 0; i < MAX_TMPL; i++) {
		const struct hdr_tmpl *t = &desc->tmpl[i];

		if (!t->len || t->offset != off || t->len != e->len)
			continue;
		if (t->meta_key && i == 0)
			continue;
		if (t->icmp_dep && pc->icmp_type && pc->icmp_type != icmp_dep_type(t->icmp_dep))
			continue;
		e->dtype = t->dtype;
		e->payload.desc = desc;
		e->payload.tmpl = t;
		return;
	}
}

static bool payload_known(const struct node *e)
{
	return e->payload.desc && e->payload.tmpl && e->payload.desc != &proto_unknown;
}

/* a known field, as payload_expr_alloc() makes it */
static struct node *payload_field(struct ctx *c, const struct proto_desc *desc, unsigned i)
{
	const struct hdr_tmpl *t = &desc->tmpl[i];
	struct node *n = node_new(c, N_PAYLOAD, t->dtype, t->byteorder, t->len);

	n->payload.desc = desc;
	n->payload.tmpl = t;
	n->payload.base = desc->base;
	n->payload.offset = t->offset;
	if (tmpl_is_protocol(desc, i))
		n->flags |= F_PROTOCOL;
	return n;
}

/* payload_expr_expand(): a load spanning several fields, split into them */
static unsigned payload_expand(struct ctx *c, const struct node *e, const struct proto_ctx *pc,
			       struct node **out, unsigned max)
{
	unsigned skip, off, len = e->len, n = 0;
	const struct proto_desc *desc = payload_base_desc(pc, e, &skip);

	off = e->payload.offset - skip;
	if (!desc)
		goto raw;
	for (unsigned i = 1; i < MAX_TMPL && n < max; i++) {
		const struct hdr_tmpl *t = &desc->tmpl[i];

		if (!t->len)
			break;
		if (t->offset != off)
			continue;
		if (t->icmp_dep && pc->icmp_type && pc->icmp_type != icmp_dep_type(t->icmp_dep))
			continue;
		if (t->len <= len) {
			out[n++] = payload_field(c, desc, i);
			len -= t->len;
			off += t->len;
			if (len == 0)
				return n;
		} else {
			struct node *f = payload_field(c, desc, i);

			f->len = len;
			out[n++] = f;
			return n;
		}
	}
raw:
	if (n < max) {
		out[n++] = payload_raw(c, e->payload.base, off, len);
	}
	return n;
}

/* payload_expr_trim(): whether a mask only selects whole fields; then the
 * load shrinks to them and the value shifts by *shift */
static bool payload_trim(struct node *e, const struct node *mask, const struct proto_ctx *pc,
			 unsigned *shift)
{
	unsigned skip, off, plen = e->len, len = 0;
	const struct proto_desc *desc = payload_base_desc(pc, e, &skip);
	unsigned moff, mlen, adj;

	if (!desc)
		return false;
	moff = num_scan1(mask->value, 0);
	if (moff == NO_BIT)
		moff = 0;
	mlen = num_scan0(mask->value, moff + 1);
	off = e->payload.offset - skip;
	adj = (mask->len + 7) / 8 * 8 - mlen;
	off += adj;
	for (unsigned i = 1; i < MAX_TMPL; i++) {
		const struct hdr_tmpl *t = &desc->tmpl[i];

		if (!t->len || t->offset != off)
			continue;
		if (t->len > plen)
			return false;
		plen -= t->len;
		off += t->len;
		len += t->len;
		if (plen == 0)
			return false;
		if (moff + len == mlen) {
			e->payload.offset += adj;
			e->len = len;
			*shift = moff;
			return true;
		}
	}
	return false;
}

/* payload_is_stacked(): a protocol match naming a protocol of the same layer */
static bool payload_stacked(const struct proto_desc *desc, const struct node *rel)
{
	const struct proto_desc *next;

	if (rel->left->type != N_PAYLOAD || !(rel->left->flags & F_PROTOCOL) || rel->op != OP_EQ ||
	    rel->right->type != N_VALUE)
		return false;
	next = proto_upper(desc, (unsigned)(value_u64(rel->right) & 0xffff));
	return next && desc && next->base == desc->base;
}

/* ---- typing values ---- */

static void node_set_type(struct node *n, const struct dtype *dt, enum byteorder bo)
{
	switch (n->type) {
	case N_PREFIX:
		node_set_type(n->left, dt, bo);
		return;
	case N_RANGE:
		node_set_type(n->left, dt, bo);
		node_set_type(n->right, dt, bo);
		return;
	case N_SET:
		for (unsigned i = 0; i < n->n_items; i++)
			node_set_type(n->items[i], dt, bo);
		return;
	case N_MAPPING:
		node_set_type(n->left, dt, bo);
		return;
	default:
		n->dtype = dt;
		n->byteorder = bo;
	}
}

/* flag_expr_alloc() + bitmask_expr_to_binops(): several flags become an OR
 * of single flags, printed "a | b" */
static struct node *bitmask_to_binops(struct ctx *c, struct node *v)
{
	struct node *binop = NULL;

	if (num_popcount(v->value) <= 1)
		return v;
	for (unsigned bit = num_scan1(v->value, 0); bit != NO_BIT; bit = num_scan1(v->value, bit + 1)) {
		struct num one = { 0 };
		struct node *flag;

		num_setbit(&one, bit);
		flag = value_new(c, v->dtype, v->byteorder, v->len, &one);
		binop = binop ? binop_new(c, OP_OR, binop, flag) : flag;
	}
	return binop;
}

/* expr_postprocess_string(): a name compared without its NUL is a prefix
 * ("eth*"); a real trailing '*' is escaped */
static struct node *postprocess_string(struct ctx *c, struct node *v)
{
	unsigned len = (v->len + 7) / 8;
	uint8_t data[NUM_BYTES + 2] = { 0 };
	struct num n = { 0 };
	size_t slen;

	if (len == 0 || len > NUM_BYTES)
		return v;
	for (unsigned i = 0; i < len; i++)
		data[i] = v->value->b[NUM_BYTES - 1 - i];
	if (data[len - 1] != '\0') {
		data[len] = '*';
		len++;
	} else {
		slen = strlen((const char *)data);
		if (!slen || data[slen - 1] != '*' || slen + 2 > NUM_BYTES)
			return v;
		data[slen - 1] = '\\';
		data[slen] = '*';
		data[slen + 1] = '\0';
		len = (unsigned)slen + 2;
	}
	for (unsigned i = 0; i < len && i < NUM_BYTES; i++)
		n.b[NUM_BYTES - 1 - i] = data[i];
	return value_new(c, v->dtype, BO_HOST, len * 8, &n);
}

/* ---- expressions ---- */

static void pp_expr(struct pp *rp, struct node **np);

/* binop_adjust_one(): a value under a mask that is really a field shifts down */
static void adjust_one(const struct node *binop, struct node *v, unsigned shift)
{
	if (v->type != N_VALUE)
		return;
	num_shr(v->value, shift);
	if (binop->left->type == N_PAYLOAD)
		v->len = binop->left->len;
}

static void binop_adjust(const struct node *binop, struct node *right, unsigned shift)
{
	switch (right->type) {
	case N_VALUE:
		adjust_one(binop, right, shift);
		break;
	case N_SET_REF:
		if (!right->set_init)
			break;
		for (unsigned i = 0; i < right->set_init->n_items; i++) {
			struct node *k = right->set_init->items[i];

			if (k->type == N_MAPPING)
				k = k->left;
			if (k->type == N_RANGE) {
				adjust_one(binop, k->left, shift);
				adjust_one(binop, k->right, shift);
			} else {
				adjust_one(binop, k, shift);
			}
		}
		break;
	case N_RANGE:
		adjust_one(binop, right->left, shift);
		adjust_one(binop, right->right, shift);
		break;
	default:
		break;
	}
}

static void payload_match_postprocess(struct pp *rp, struct node *rel, struct node *payload);

/* __binop_postprocess(): a mask that selects exactly a field is dropped */
static void binop_postprocess(struct pp *rp, struct node *expr, struct node *left, struct node *mask,
			      struct node **binopp)
{
	unsigned shift;
	struct node *binop = *binopp;

	if (left->type != N_PAYLOAD || !payload_trim(left, mask, &rp->pctx, &shift))
		return;
	switch (expr->type) {
	case N_BINOP:
	case N_RELATIONAL:
		binop_adjust(binop, expr->right, shift);
		break;
	case N_MAP:
		binop_adjust(binop, expr->right, shift);
		break;
	default:
		break;
	}
	*binopp = left;
	payload_match_postprocess(rp, expr, left);
}

static bool mask_is_prefix(const struct node *mask)
{
	unsigned n1 = num_scan1(mask->value, 0), n2;

	if (n1 == NO_BIT)
		return true;
	n2 = num_scan0(mask->value, n1 + 1);
	return n2 >= mask->len;
}

static unsigned mask_to_prefix(const struct node *mask)
{
	unsigned n = num_scan1(mask->value, 0);

	if (n == NO_BIT)
		return 0;
	return num_scan0(mask->value, n + 1) - n;
}

/* binop_tree_to_list(): an OR of flags as a comma list */
static struct node *binop_to_list(struct ctx *c, struct node *list, struct node *e)
{
	if (e->type == N_BINOP && e->op == OP_OR) {
		if (!list)
			list = node_new(c, N_LIST, e->dtype, e->byteorder, e->len);
		list = binop_to_list(c, list, e->left);
		return binop_to_list(c, list, e->right);
	}
	if (!list)
		return e;
	node_add_item(c, list, e);
	return list;
}

/* relational_binop_postprocess() */
static void relational_binop_postprocess(struct pp *rp, struct node **np)
{
	struct node *expr = *np, *binop = expr->left, *right = expr->right;

	if (binop->op == OP_AND && (expr->op == OP_NEQ || expr->op == OP_EQ) && dtype_is_bitmask(right->dtype)) {
		if (right->type == N_VALUE && num_is_zero(right->value)) {
			/* (x & flags) != 0: "x flags"; == 0: "x ! flags" */
			expr->left = binop->left;
			expr->right = binop_to_list(rp->c, NULL, binop->right);
			expr->op = expr->op == OP_NEQ ? OP_IMPLICIT : OP_NEG;
		} else if (right->type == N_VALUE && binop->right->type == N_VALUE &&
			   !num_cmp(right->value, binop->right->value)) {
			/* x & flag == flag stays as it is */
		} else if (right->type == N_VALUE || right->type == N_BINOP) {
			/* flagcmp: "x value / mask" */
			struct node *fc = node_new(rp->c, N_FLAGCMP, binop->left->dtype, BO_INVALID, 0);

			fc->op = expr->op;
			fc->left = binop->left;
			fc->right = binop_to_list(rp->c, NULL, binop->right);
			node_add_item(rp->c, fc, right->type == N_BINOP ? binop_to_list(rp->c, NULL, right) : right);
			*np = fc;
		}
	} else if (binop->left->dtype && binop->left->dtype->prefix && binop->op == OP_AND &&
		   right->type == N_VALUE && binop->right->type == N_VALUE && mask_is_prefix(binop->right)) {
		expr->left = binop->left;
		expr->right = prefix_new(rp->c, right, mask_to_prefix(binop->right));
	} else if (binop->op == OP_AND && binop->right->type == N_VALUE) {
		binop_postprocess(rp, expr, binop->left, binop->right, &expr->left);
	} else if (binop->op == OP_RSHIFT && binop->left->type == N_BINOP && binop->left->op == OP_AND &&
		   binop->right->type == N_VALUE && binop->left->right->type == N_VALUE) {
		binop_postprocess(rp, binop, binop->left->left, binop->left->right, &binop->left);
		if (num_is_zero(binop->right->value))
			expr->left = binop->left;
	}
}

/* ct_meta_common_postprocess() */
static bool meta_may_kill(struct pp *rp, const struct node *expr)
{
	const struct node *dep = dep_get(rp, BASE_NH);
	unsigned nfproto = 0, l4;

	if (!dep)
		return true;
	if (dep->left->type == N_META && dep->left->key == NFT_META_NFPROTO) {
		nfproto = (unsigned)value_u64(dep->right) & 0xff;
	} else if (dep->left->type == N_META && dep->left->key == NFT_META_PROTOCOL) {
		unsigned l3 = (unsigned)value_u64(dep->right) & 0xffff;

		nfproto = l3 == 0x0800 ? NFPROTO_IPV4 : l3 == 0x86dd ? NFPROTO_IPV6 : 0;
	} else if (dep->left->type == N_PAYLOAD && dep->left->payload.base == BASE_LL &&
		   dep->left->dtype == &dt_ethertype) {
		unsigned l3 = (unsigned)value_u64(dep->right) & 0xffff;

		nfproto = l3 == 0x0800 ? NFPROTO_IPV4 : l3 == 0x86dd ? NFPROTO_IPV6 : 0;
	} else {
		return true;
	}
	switch (rp->pctx.family) {
	case NFPROTO_INET:
	case NFPROTO_NETDEV:
	case NFPROTO_BRIDGE:
		break;
	case NFPROTO_IPV4:
	case NFPROTO_IPV6:
		return rp->pctx.family == nfproto;
	default:
		return true;
	}
	if (expr->left->key != NFT_META_L4PROTO)
		return true;
	l4 = (unsigned)value_u64(expr->right) & 0xff;
	if (l4 != IPPROTO_ICMP && l4 != IPPROTO_ICMPV6)
		return false;
	return !((nfproto == NFPROTO_IPV4 && l4 == IPPROTO_ICMPV6) || (nfproto == NFPROTO_IPV6 && l4 == IPPROTO_ICMP));
}

static void ct_meta_postprocess(struct pp *rp, struct node *expr, enum base base)
{
	const struct node *left = expr->left;
	struct node *right = expr->right;

	if (right->type == N_SET || right->type == N_SET_REF)
		node_set_type(right, left->dtype, left->byteorder);
	if (expr->op != OP_EQ || right->type == N_RANGE || right->type == N_SET || right->type == N_SET_REF)
		return;
	relational_pctx_update(&rp->pctx, expr);
	if (base < BASE_TH) {
		if (dep_exists(rp, base) && meta_may_kill(rp, expr))
			dep_release(rp, base);
		if (left->flags & F_PROTOCOL)
			dep_store(rp, rp->stmt, base);
	}
}

/* payload_icmp_check(): the first element of an anonymous icmp type set
 * stands for the type the later fields depend on */
static void payload_icmp_check(struct pp *rp, struct node *expr, const struct node *value)
{
	const struct proto_desc *desc = rp->pctx.desc[BASE_TH];

	if (expr->payload.base != BASE_TH || expr->len != 8 || value->len != 8 || rp->pctx.icmp_type)
		return;
	if (desc != &proto_icmp && desc != &proto_icmp6)
		return;
	for (unsigned i = 1; i < MAX_TMPL; i++) {
		const struct hdr_tmpl *t = &desc->tmpl[i];

		if (!t->len)
			return;
		if (t->offset != expr->payload.offset || t->len != expr->len)
			continue;
		if (desc->protocol_key != i)
			return;
		expr->payload.desc = desc;
		expr->payload.tmpl = t;
		rp->pctx.icmp_type = (unsigned)value_u64(value);
		return;
	}
}

/* payload_match_expand(): one comparison per field the load covers */
static void payload_match_expand(struct pp *rp, struct node *expr, struct node *payload)
{
	struct node *fields[32], *right = expr->right;
	unsigned n = payload_expand(rp->c, payload, &rp->pctx, fields, ARRAY_SIZE(fields));
	enum base base = payload->payload.base;

	for (unsigned i = 0; i < n; i++) {
		struct node *left = fields[i], *v, *rel;
		struct stmt *ns;

		/* nft types the slice but does not postprocess it */
		v = value_splice(rp->c, right, left->len < right->len ? left->len : right->len);
		node_set_type(v, left->dtype, left->byteorder);
		if (left->payload.tmpl && left->payload.desc != &proto_unknown && left->len < left->payload.tmpl->len) {
			unsigned plen = left->len;

			num_shl(v->value, left->payload.tmpl->len - left->len);
			v->len = left->payload.tmpl->len;
			v = prefix_new(rp->c, v, plen);
		}
		rel = relational_new(rp->c, expr->op, left, v);
		if (expr->op == OP_EQ)
			relational_pctx_update(&rp->pctx, rel);
		ns = stmt_new(rp->c, S_EXPR);
		ns->expr = rel;
		stmt_insert_before(rp->list, rp->stmt, ns);
		if (payload_stacked(rp->pctx.desc[base], rel))
			base--;
		/* a protocol match of a lower layer is implied by this field */
		dep_kill(rp, left);
		if (expr->op == OP_EQ && (left->flags & F_PROTOCOL))
			dep_store(rp, ns, base);
	}
	stmt_unlink(rp->list, rp->stmt);
	rp->stmt = NULL;
}

/* payload_match_postprocess() */
static void payload_match_postprocess(struct pp *rp, struct node *expr, struct node *payload)
{
	if ((expr->op == OP_EQ || expr->op == OP_NEQ) && expr->type == N_RELATIONAL) {
		if (expr->right->type == N_VALUE && rp->stmt && rp->stmt->expr == expr) {
			payload_match_expand(rp, expr, payload);
			return;
		}
		if (expr->right->type == N_SET_REF && expr->right->set_init &&
		    expr->right->set_init->n_items) {
			struct node *first = expr->right->set_init->items[0];

			if (first->type == N_VALUE)
				payload_icmp_check(rp, payload, first);
		}
	}
	payload_complete(payload, &rp->pctx);
	if (expr->right)
		node_set_type(expr->right, payload->dtype, payload->byteorder);
	dep_kill(rp, payload);
}

static void map_binop_postprocess(struct pp *rp, struct node *expr)
{
	struct node *binop = expr->left;

	if (binop->op == OP_AND && binop->left->type == N_PAYLOAD && binop->right->type == N_VALUE)
		binop_postprocess(rp, expr, binop->left, binop->right, &expr->left);
}

/* ct_expr_update_type(): addresses take the network protocol's type */
static void ct_update_type(struct pp *rp, struct node *e)
{
	const struct proto_desc *desc = e->kbase <= BASE_MAX ? rp->pctx.desc[e->kbase] : NULL;

	switch (e->key) {
	case NFT_CT_SRC:
	case NFT_CT_DST:
		if (desc == &proto_ip)
			e->dtype = &dt_ipaddr;
		else if (desc == &proto_ip6)
			e->dtype = &dt_ip6addr;
		e->len = e->dtype->size;
		break;
	case NFT_CT_PROTO_SRC:
	case NFT_CT_PROTO_DST:
		if (desc)
			e->dtype = &dt_inet_service;
		break;
	}
}

static void pp_expr(struct pp *rp, struct node **np)
{
	struct node *e = *np;

	switch (e->type) {
	case N_MAP:
		if (e->left->type == N_BINOP)
			map_binop_postprocess(rp, e);
		pp_expr(rp, &e->left);
		pp_expr(rp, &e->right);
		break;
	case N_MAPPING:
		pp_expr(rp, &e->left);
		pp_expr(rp, &e->right);
		break;
	case N_SET:
		for (unsigned i = 0; i < e->n_items; i++)
			pp_expr(rp, &e->items[i]);
		break;
	case N_CONCAT:
		rp->flags |= PP_IN_CONCAT;
		for (unsigned i = 0; i < e->n_items; i++)
			pp_expr(rp, &e->items[i]);
		rp->flags &= ~(unsigned)PP_IN_CONCAT;
		break;
	case N_UNARY:
		pp_expr(rp, &e->left);
		node_set_type(e, e->left->dtype, e->left->byteorder == BO_INVALID ? BO_HOST : BO_INVALID);
		break;
	case N_BINOP:
		pp_expr(rp, &e->left);
		if (e->op == OP_LSHIFT || e->op == OP_RSHIFT) {
			node_set_type(e->right, &dt_integer, BO_HOST);
		} else {
			node_set_type(e->right, e->left->dtype, e->left->byteorder);
			if (e->op == OP_AND && (rp->flags & PP_REMOVE_OP_AND) &&
			    e->left->type == N_PAYLOAD && e->right->type == N_VALUE) {
				binop_postprocess(rp, e, e->left, e->right, np);
				return;
			}
		}
		pp_expr(rp, &e->right);
		node_set_type(e, e->left->dtype, e->left->byteorder);
		break;
	case N_RELATIONAL:
		if (e->left->type == N_PAYLOAD) {
			/* values of header fields are typed, not postprocessed */
			payload_match_postprocess(rp, e, e->left);
			return;
		}
		pp_expr(rp, &e->left);
		if (e->left->type == N_UNSUPPORTED)
			/* nothing tells the value's type: its bytes in hex */
			node_set_type(e->right, &dt_xinteger, BO_INVALID);
		else
			node_set_type(e->right, e->left->dtype, e->left->byteorder);
		pp_expr(rp, &e->right);
		switch (e->left->type) {
		case N_CT:
			ct_meta_postprocess(rp, e, e->left->kbase);
			break;
		case N_META:
			ct_meta_postprocess(rp, e, e->left->kbase);
			break;
		case N_BINOP:
			relational_binop_postprocess(rp, np);
			break;
		default:
			break;
		}
		break;
	case N_PAYLOAD:
		payload_complete(e, &rp->pctx);
		dep_kill(rp, e);
		break;
	case N_VALUE:
		if (e->byteorder == BO_HOST)
			num_swap(e->value, e->len / 8);
		if (dtype_base(e->dtype) == &dt_string)
			*np = e = postprocess_string(rp->c, e);
		if (dtype_is_bitmask(e->dtype))
			*np = bitmask_to_binops(rp->c, e);
		break;
	case N_RANGE:
		pp_expr(rp, &e->left);
		pp_expr(rp, &e->right);
		break;
	case N_PREFIX:
		pp_expr(rp, &e->left);
		break;
	case N_CT:
		ct_update_type(rp, e);
		break;
	default:
		break;
	}
}

/* ---- statements ---- */

/* expr_may_merge_range(): "x >= a" followed by "x <= b" is "x a-b" */
static bool may_merge_range(const struct node *e, const struct node *prev, enum op *op)
{
	const struct node *l, *pl;

	if (!e || !prev || e->type != N_RELATIONAL || prev->type != N_RELATIONAL)
		return false;
	l = e->left->type == N_UNARY ? e->left->left : e->left;
	pl = prev->left->type == N_UNARY ? prev->left->left : prev->left;
	if (l->type != pl->type)
		return false;
	if (e->op == OP_LTE && prev->op == OP_GTE) {
		*op = OP_EQ;
		return true;
	}
	if (e->op == OP_GT && prev->op == OP_LT) {
		*op = OP_NEQ;
		return true;
	}
	return false;
}

static void merge_range(struct pp *rp, enum op op)
{
	struct stmt *s = rp->stmt, *prev = rp->prev, *ns = stmt_new(rp->c, S_EXPR);
	struct node *r = range_new(rp->c, node_clone(rp->c, prev->expr->right), node_clone(rp->c, s->expr->right));

	node_set_type(r, s->expr->right->dtype, s->expr->right->byteorder);
	ns->expr = relational_new(rp->c, op, node_clone(rp->c, s->expr->left), r);
	stmt_insert_before(rp->list, s, ns);
	stmt_unlink(rp->list, prev);
	stmt_unlink(rp->list, s);
	rp->stmt = ns;
}

static void stmt_expr_postprocess(struct pp *rp)
{
	enum op op;

	pp_expr(rp, &rp->stmt->expr);
	if (rp->prev && rp->stmt && rp->prev->type == S_EXPR &&
	    may_merge_range(rp->stmt->expr, rp->prev->expr, &op))
		merge_range(rp, op);
}

/* stmt_reject_postprocess(): the family names the icmp flavour; a protocol
 * match only there to allow the reject goes */
static void stmt_reject_postprocess(struct pp *rp)
{
	struct stmt *s = rp->stmt;
	const struct proto_desc *base, *desc;

	switch (rp->pctx.family) {
	case NFPROTO_IPV4:
	case NFPROTO_IPV6:
		s->reject.family = rp->pctx.family;
		if (s->src->reject.type == NFT_REJECT_TCP_RST && dep_exists(rp, BASE_TH))
			dep_release(rp, BASE_TH);
		break;
	case NFPROTO_INET:
	case NFPROTO_BRIDGE:
	case NFPROTO_NETDEV:
		if (s->src->reject.type == NFT_REJECT_ICMPX_UNREACH)
			break;
		s->reject.verbose = true;
		base = rp->pctx.desc[BASE_LL];
		desc = rp->pctx.desc[BASE_NH];
		switch (proto_num(base, desc)) {
		case NFPROTO_IPV4:
		case 0x0800:
			s->reject.family = NFPROTO_IPV4;
			break;
		case NFPROTO_IPV6:
		case 0x86dd:
			s->reject.family = NFPROTO_IPV6;
			break;
		}
		if (dep_exists(rp, BASE_NH))
			dep_release(rp, BASE_NH);
		break;
	}
}

static bool payload_same(const struct node *a, const struct node *b)
{
	return a->payload.desc == b->payload.desc && a->payload.tmpl == b->payload.tmpl &&
	       a->payload.base == b->payload.base && a->payload.offset == b->payload.offset;
}

/* stmt_payload_binop_postprocess(): writing a field smaller than the bytes
 * written is "(x & ~field) | value" over those bytes; the mask tells the
 * field, the value shifts into it */
static void stmt_payload_binop_postprocess(struct pp *rp)
{
	struct stmt *s = rp->stmt;
	struct node *expr = s->expr, *value, *binop, *payload, *mask;
	struct num saved, bits;
	unsigned shift;

	if (expr->type != N_BINOP)
		return;
	if (expr->left->type == N_BINOP) {
		/* (payload & mask) | value */
		value = expr->right;
		binop = expr->left;
		if (expr->op != OP_OR || value->type != N_VALUE || binop->op != OP_AND)
			return;
		payload = binop->left;
		mask = binop->right;
		if (payload->type != N_PAYLOAD || !payload_same(s->target, payload) || mask->type != N_VALUE)
			return;
		saved = *mask->value;
		bits = num_mask(payload->len);
		num_xor(&bits, &bits, mask->value);
		num_xor(&bits, &bits, value->value);
		*mask->value = bits;
		binop_postprocess(rp, expr, payload, mask, &expr->left);
		if (!payload_known(payload)) {
			*mask->value = saved;
			return;
		}
		s->target = payload;
		s->expr = expr->right;
		return;
	}
	if (expr->left->type != N_PAYLOAD || expr->right->type != N_VALUE)
		return;
	/* payload & mask: a zero written; payload | value: all bits set */
	payload = expr->left;
	value = expr->right;
	if (expr->op == OP_AND) {
		bits = num_mask(payload->len);
		num_xor(value->value, &bits, value->value);
	} else if (expr->op != OP_OR) {
		return;
	}
	if (payload_trim(payload, value, &rp->pctx, &shift)) {
		binop_adjust(expr, value, shift);
		payload_complete(payload, &rp->pctx);
		node_set_type(value, payload->dtype, payload->byteorder);
	}
	if (!payload_known(payload))
		return;
	if (expr->op == OP_AND)
		memset(value->value, 0, sizeof(*value->value));
	s->target = payload;
	s->expr = value;
}

static void stmt_payload_postprocess(struct pp *rp)
{
	struct stmt *s = rp->stmt;

	payload_complete(s->target, &rp->pctx);
	if (!payload_known(s->target))
		stmt_payload_binop_postprocess(rp);
	pp_expr(rp, &s->target);
	node_set_type(s->expr, s->target->dtype, s->target->byteorder);
	pp_expr(rp, &s->expr);
}

static void rule_postprocess(struct ctx *c, struct stmt_list *list)
{
	struct pp rp = { .c = c, .list = list };
	struct stmt *s, *next;

	proto_ctx_init(&rp.pctx, c->family);
	for (s = list->head; s; s = next) {
		enum stmt_type type = s->type;

		next = s->next;
		rp.stmt = s;
		switch (type) {
		case S_EXPR:
			stmt_expr_postprocess(&rp);
			break;
		case S_PAYLOAD:
			stmt_payload_postprocess(&rp);
			break;
		case S_META:
			pp_expr(&rp, &s->expr);
			break;
		case S_CT:
			pp_expr(&rp, &s->expr);
			if (s->expr->type == N_BINOP && s->key == NFT_CT_EVENTMASK)
				s->expr = binop_to_list(c, NULL, s->expr);
			break;
		case S_NAT:
			if (s->nat.addr)
				pp_expr(&rp, &s->nat.addr);
			if (s->nat.proto) {
				dep_reset(&rp);
				pp_expr(&rp, &s->nat.proto);
			}
			break;
		case S_REJECT:
			stmt_reject_postprocess(&rp);
			break;
		case S_UNSUPPORTED:
			/* a register load nft would have kept as an expression */
			if (s->loads)
				continue;
			break;
		default:
			break;
		}
		rp.prev = rp.stmt;
		/* dependencies hold only across plain matches: "ip protocol tcp
		 * counter tcp dport 22" keeps its protocol match */
		if (type != S_EXPR)
			dep_reset(&rp);
	}
}

/* ==== anonymous sets: their elements as nft lists them =========================== */

static const struct dtype *concat_subtype(uint32_t type, unsigned n)
{
	return dtype_by_id((type >> (TYPE_BITS * n)) & TYPE_MASK);
}

static unsigned concat_subtypes(uint32_t type)
{
	unsigned bits = 0;

	while (type >> bits)
		bits++;
	return (bits + TYPE_BITS - 1) / TYPE_BITS;
}

static bool set_is_concat(const struct cg_set *s)
{
	return s->key_type & ~TYPE_MASK;
}

/* netlink_parse_concat_elem_key(): a concatenated key cut into its fields */
static struct node *elem_concat_key(struct ctx *c, const struct cg_set *s, struct node *data)
{
	struct node *concat = node_new(c, N_CONCAT, &dt_invalid, BO_INVALID, data->len);
	unsigned off = concat_subtypes(s->key_type), field = 0;

	while (off > 0) {
		const struct dtype *sub = concat_subtype(s->key_type, --off);
		unsigned bits = sub->size ? (sub->size + 7) / 8 * 8 :
			field < s->n_fields ? s->field_len[field] * 8u : 32;
		struct node *v;

		if (bits > data->len)
			break;
		v = value_splice(c, data, bits);
		v->dtype = sub;
		v->byteorder = sub->byteorder;
		if (dtype_base(sub) == &dt_string || (!(s->flags & CG_SET_INTERVAL) && v->byteorder == BO_HOST))
			num_swap(v->value, v->len / 8);
		if (dtype_is_bitmask(sub))
			v = bitmask_to_binops(c, v);
		node_add_item(c, concat, v);
		if (data->len >= padded_len(bits) - bits)
			data->len -= padded_len(bits) - bits;
		field++;
	}
	return concat;
}

static struct node *elem_key(struct ctx *c, const struct cg_set *s, const struct cg_data *d,
			     const struct node *lhs)
{
	const struct dtype *dt = set_is_concat(s) ? &dt_invalid : dtype_by_id(s->key_type);
	struct node *v = data_value(c, d);

	v->dtype = dt;
	/* the key's byte order is the matched expression's (nft keeps it in
	 * the set's user data, which the model does not carry) */
	v->byteorder = dt->byteorder;
	if (lhs && lhs->byteorder == BO_HOST)
		v->byteorder = BO_HOST;
	if (set_is_concat(s))
		return elem_concat_key(c, s, v);
	if (!(s->flags & CG_SET_INTERVAL) && v->byteorder == BO_HOST)
		num_swap(v->value, v->len / 8);
	if (dtype_is_bitmask(dt))
		v = bitmask_to_binops(c, v);
	return v;
}

static struct node *elem_data(struct ctx *c, const struct cg_set *s, const struct cg_set_elem *e)
{
	const struct dtype *dt;
	struct node *v;

	if (s->data_type == NFT_DATA_VERDICT) {
		v = node_new(c, N_VERDICT, &dt_verdict, BO_INVALID, 0);
		v->verdict = &e->verdict;
		return v;
	}
	dt = dtype_by_id(s->data_type);
	v = data_value(c, &e->data);
	v->dtype = dt;
	v->byteorder = dt->byteorder;
	if (v->byteorder == BO_HOST)
		num_swap(v->value, v->len / 8);
	return v;
}

static const struct node *elem_value(const struct node *n)
{
	return n->type == N_MAPPING ? n->left : n;
}

/* the number list_expr_sort() orders elements by */
static void msort_value(const struct node *n, struct num *v)
{
	switch (n->type) {
	case N_MAPPING:
	case N_BINOP:
	case N_RANGE:
	case N_PREFIX:
		msort_value(n->left, v);
		return;
	case N_VALUE:
		*v = *n->value;
		return;
	case N_CONCAT: {
		/* each field exported in its byte order, the whole read back
		 * as a host-endian number */
		uint8_t data[NUM_BYTES];
		unsigned len = 0;

		memset(v, 0, sizeof(*v));
		for (unsigned i = 0; i < n->n_items; i++) {
			const struct node *it = n->items[i];
			unsigned ilen = (it->len + 7) / 8;

			while (it->type != N_VALUE && it->left)
				it = it->left;
			if (it->type != N_VALUE || len + ilen > NUM_BYTES)
				break;
			num_to_bytes(it->value, data + len, ilen);
			if (it->byteorder == BO_HOST) {
				for (unsigned a = len, b = len + ilen - 1; a < b; a++, b--) {
					uint8_t t = data[a];

					data[a] = data[b];
					data[b] = t;
				}
			}
			len += ilen;
		}
		for (unsigned i = 0; i < len; i++)
			v->b[NUM_BYTES - 1 - i] = data[i];
		return;
	}
	case N_CATCHALL:
		*v = num_mask(n->len);
		return;
	default:
		memset(v, 0, sizeof(*v));
		return;
	}
}

static int msort_cmp(const struct node *a, const struct node *b)
{
	struct num va, vb;

	msort_value(a, &va);
	msort_value(b, &vb);
	return num_cmp(&va, &vb);
}

/* expr_value_cmp() of interval_map_decompose(): an end marker sorts first */
static int interval_cmp(const struct node *a, const struct node *b)
{
	const struct node *va = elem_value(a), *vb = elem_value(b);
	int r;

	if (va->type != N_VALUE || vb->type != N_VALUE)
		return va->type == N_VALUE ? 1 : -1;
	r = num_cmp(va->value, vb->value);
	if (r == 0) {
		if (a->flags & F_INTERVAL_END)
			return -1;
		if (b->flags & F_INTERVAL_END)
			return 1;
	}
	return r;
}

/* a stable merge sort, as nft's list sort is */
static void sort_nodes(struct ctx *c, struct node **v, unsigned n,
		       int (*cmp)(const struct node *, const struct node *))
{
	struct node **tmp;

	if (n < 2)
		return;
	tmp = arena_alloc(c->a, n * sizeof(*tmp));
	for (unsigned width = 1; width < n; width *= 2) {
		for (unsigned lo = 0; lo < n; lo += 2 * width) {
			unsigned mid = lo + width < n ? lo + width : n;
			unsigned hi = lo + 2 * width < n ? lo + 2 * width : n;
			unsigned i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				tmp[k++] = cmp(v[j], v[i]) < 0 ? v[j++] : v[i++];
			while (i < mid)
				tmp[k++] = v[i++];
			while (j < hi)
				tmp[k++] = v[j++];
		}
		memcpy(v, tmp, n * sizeof(*v));
	}
}

/* the element with its key replaced, its data kept (__expr_to_set_elem()) */
static struct node *elem_with_key(struct ctx *c, const struct node *low, struct node *key)
{
	struct node *m;

	if (low->type != N_MAPPING)
		return key;
	m = node_new(c, N_MAPPING, key->dtype, key->byteorder, key->len);
	m->left = key;
	m->right = node_clone(c, low->right);
	return m;
}

static bool range_is_prefix(const struct num *range)
{
	struct num t = *range, one = num_from_u64(1);

	num_add(&t, &t, &one);
	num_and(&t, &t, range);
	return num_is_zero(&t);
}

/* interval_to_string(): a name range covering whole trailing bytes, "eth*" */
static struct node *interval_to_string(struct ctx *c, const struct node *low, const struct node *key,
				       unsigned plen)
{
	unsigned len = (key->len + 7) / 8, slen;
	uint8_t data[NUM_BYTES + 1] = { 0 };
	struct num n = { 0 };

	if (plen > key->len || plen % 8 || len > NUM_BYTES)
		return NULL;
	num_to_bytes(key->value, data, len);
	slen = (unsigned)strnlen((const char *)data, len);
	if (slen >= len || slen == 0)
		return NULL;
	data[slen] = '*';
	for (unsigned i = 0; i <= slen; i++)
		n.b[NUM_BYTES - 1 - i] = data[i];
	return elem_with_key(c, low, value_new(c, key->dtype, BO_HOST, (slen + 1) * 8, &n));
}

/* add_interval(): [low, end) as a value, a prefix, a wildcard or a range */
static void add_interval(struct ctx *c, struct node *set, struct node *low, const struct node *end,
			 bool end_is_value)
{
	struct node *key = node_clone(c, elem_value(low)), *out = NULL;
	const struct node *ev = elem_value(end);
	struct num range, p, one = num_from_u64(1);

	num_sub(&range, ev->value, key->value);
	if (!end_is_value)
		num_sub(&range, &range, &one);
	num_and(&p, key->value, &range);
	if (num_is_zero(&range)) {
		if (dtype_base(key->dtype) == &dt_string)
			num_swap(key->value, key->len / 8);
		out = elem_with_key(c, low, key);
	} else if (range_is_prefix(&range) && num_is_zero(&p)) {
		unsigned plen = ev->len - num_scan0(&range, 0);

		if (ev->dtype && ev->dtype->prefix) {
			out = elem_with_key(c, low, prefix_new(c, key, plen));
		} else if (dtype_base(ev->dtype) == &dt_string) {
			out = interval_to_string(c, low, key, plen);
			if (!out)
				out = elem_with_key(c, low, prefix_new(c, key, plen));
		}
	}
	if (!out) {
		struct node *hi = value_new(c, key->dtype, key->byteorder, key->len, NULL);

		num_add(hi->value, key->value, &range);
		out = elem_with_key(c, low, range_new(c, key, hi));
	}
	node_add_item(c, set, out);
}

/* interval_map_decompose(): start/end markers back into what was written */
static void interval_decompose(struct ctx *c, struct node *set)
{
	unsigned n = set->n_items, m = 0;
	struct node **elems = arena_alloc(c->a, (n ? n : 1) * sizeof(*elems));
	struct node **ranges = arena_alloc(c->a, (2 * n + 1) * sizeof(*ranges));
	struct node *catchall = NULL, *low = NULL;
	bool interval = false;
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		struct node *it = set->items[i];

		if (elem_value(it)->type == N_CATCHALL)
			catchall = it;
		else if (elem_value(it)->type != N_VALUE)
			return;         /* not a plain interval set: left as listed */
		else
			elems[m++] = it;
	}
	sort_nodes(c, elems, m, interval_cmp);
	for (unsigned i = 0; i < m; i++) {
		struct node *it = elems[i];

		if (it->flags & F_INTERVAL_END) {
			interval = false;
		} else if (interval) {
			struct node *end = node_clone(c, it);

			end->flags |= F_INTERVAL_END;
			ranges[k++] = end;
		} else {
			interval = true;
		}
		ranges[k++] = it;
	}
	set->n_items = set->cap_items = 0;
	set->items = NULL;
	for (unsigned i = 0; i < k; i++) {
		struct node *it = ranges[i];

		if (!low) {
			if (!(it->flags & F_INTERVAL_END))
				low = it;
			continue;
		}
		add_interval(c, set, low, it, false);
		if (it->flags & F_INTERVAL_END)
			low = NULL;
	}
	if (low) {
		const struct node *lv = elem_value(low);
		struct num max = num_mask(lv->len);

		if (!num_cmp(&max, lv->value)) {
			node_add_item(c, set, low);
		} else {
			struct node *top = value_new(c, lv->dtype, lv->byteorder, lv->len, &max);

			add_interval(c, set, low, top, true);
		}
	}
	if (catchall)
		node_add_item(c, set, catchall);
}

/* range_mask_len(): the prefix length when [start, end] is one, else -1 */
static int range_mask_len(const struct num *start, const struct num *end, unsigned len)
{
	struct num s = *start, e = *end;

	while (num_cmp(&s, &e) <= 0 && !num_bit(&s, 0) && num_bit(&e, 0) && len--) {
		num_shr(&s, 1);
		num_shr(&e, 1);
	}
	return !num_cmp(&s, &e) ? (int)len : -1;
}

/* concat_range_aggregate(): each start/end pair of a concatenated range set
 * becomes one key with a value, prefix, wildcard or range per field */
static void concat_range_aggregate(struct ctx *c, struct node *set)
{
	unsigned n = set->n_items;
	struct node **items = set->items;

	set->n_items = set->cap_items = 0;
	set->items = NULL;
	for (unsigned i = 0; i + 1 < n; i += 2) {
		struct node *start = items[i], *end = items[i + 1];
		const struct node *sk = elem_value(start), *ek = elem_value(end);
		struct node *key;

		if (sk->type != N_CONCAT || ek->type != N_CONCAT || sk->n_items != ek->n_items) {
			node_add_item(c, set, start);
			continue;
		}
		key = node_new(c, N_CONCAT, &dt_invalid, BO_INVALID, sk->len);
		for (unsigned f = 0; f < sk->n_items; f++) {
			struct node *r1 = node_clone(c, sk->items[f]), *r2 = node_clone(c, ek->items[f]);
			bool str = dtype_base(r1->dtype) == &dt_string;
			int plen;

			if (r1->type != N_VALUE || r2->type != N_VALUE || !num_cmp(r1->value, r2->value)) {
				node_add_item(c, key, r2);
				continue;
			}
			if (str) {
				num_swap(r1->value, r1->len / 8);
				num_swap(r2->value, r2->len / 8);
			}
			plen = range_mask_len(r1->value, r2->value, r1->len);
			if (str) {
				num_swap(r1->value, r1->len / 8);
				num_swap(r2->value, r2->len / 8);
			}
			if (plen >= 0 && plen % 8 == 0 && str) {
				unsigned sl = (unsigned)plen / 8;
				struct num w = { 0 };

				for (unsigned b = 0; b < sl && b < NUM_BYTES; b++)
					w.b[NUM_BYTES - 1 - b] = r1->value->b[NUM_BYTES - 1 - b];
				w.b[NUM_BYTES - 1 - sl] = '*';
				node_add_item(c, key, value_new(c, r1->dtype, BO_HOST, r2->len, &w));
			} else if (plen < 0 || !r1->dtype->prefix) {
				node_add_item(c, key, range_new(c, r1, r2));
			} else {
				node_add_item(c, key, prefix_new(c, r1, (unsigned)plen));
			}
		}
		node_add_item(c, set, elem_with_key(c, start, key));
	}
}

static struct node *set_elements(struct ctx *c, const struct cg_set *s, const struct node *lhs)
{
	struct node *set = node_new(c, N_SET, dtype_by_id(s->key_type), BO_INVALID, s->key_len * 8);

	for (uint32_t i = 0; i < s->n_elems; i++) {
		const struct cg_set_elem *e = &s->elems[i];
		struct node *key, *item;

		if (e->catchall) {
			key = node_new(c, N_CATCHALL, set->dtype, BO_INVALID, s->key_len * 8);
		} else if (e->key.len) {
			key = elem_key(c, s, &e->key, lhs);
		} else {
			continue;
		}
		if (e->interval_end)
			key->flags |= F_INTERVAL_END;
		item = key;
		if ((s->flags & CG_SET_MAP) && (e->data.len || e->verdict.code != CG_VERDICT_NONE)) {
			item = node_new(c, N_MAPPING, key->dtype, key->byteorder, key->len);
			item->left = key;
			item->right = elem_data(c, s, e);
		}
		node_add_item(c, set, item);
		if (!e->interval_end && e->key_end.len) {
			key = elem_key(c, s, &e->key_end, lhs);
			key->flags |= F_INTERVAL_END;
			node_add_item(c, set, key);
		}
	}
	if ((s->flags & CG_SET_INTERVAL) && s->n_fields > 1)
		concat_range_aggregate(c, set);
	else if (s->flags & CG_SET_INTERVAL)
		interval_decompose(c, set);
	else
		sort_nodes(c, set->items, set->n_items, msort_cmp);
	return set;
}

static struct node *set_ref_new(struct ctx *c, const struct cg_set *set, const struct node *lhs)
{
	const struct dtype *dt = set_is_concat(set) ? &dt_invalid : dtype_by_id(set->key_type);
	struct node *n = node_new(c, N_SET_REF, dt, BO_INVALID, set->key_len * 8);

	n->set = set;
	/* a lazy set's elements were never dumped (print_node() says so) */
	if ((set->flags & CG_SET_ANONYMOUS) && !(set->flags & CG_SET_LAZY))
		n->set_init = set_elements(c, set, lhs);
	return n;
}

/* ==== step 3: printing (statement.c, expression.c) ================================ */

struct printer {
	struct out *o;
	bool numeric;                   /* inside a range: symbols and protocols as numbers */
};

static void print_node(struct printer *pr, const struct node *n);

static void print_value_node(struct printer *pr, const struct node *v)
{
	const struct dtype *dt;

	if (!v->value) {
		out_puts(pr->o, "?");
		return;
	}
	if (pr->numeric) {
		for (dt = v->dtype; dt; dt = dt->basetype) {
			if (dt->print && dt != &dt_inet_protocol)
				break;
			if (dt->syms || dt->sym_file || dt == &dt_inet_protocol) {
				print_integer(pr->o, v);
				return;
			}
		}
	}
	print_by_type(pr->o, v, v->dtype);
}

static const char *const base_tokens[] = {
	[BASE_INVALID] = "invalid", [BASE_LL] = "ll", [BASE_NH] = "nh", [BASE_TH] = "th", [BASE_IH] = "ih",
};

static void print_payload(struct printer *pr, const struct node *n)
{
	if (payload_known(n))
		out_printf(pr->o, "%s %s", n->payload.desc->name, n->payload.tmpl->token);
	else
		out_printf(pr->o, "@%s,%u,%u", n->payload.base <= BASE_MAX ? base_tokens[n->payload.base] : "invalid",
			   n->payload.offset, n->len);
}

static bool meta_key_unqualified(uint32_t key)
{
	switch (key) {
	case NFT_META_IIF:
	case NFT_META_OIF:
	case NFT_META_IIFNAME:
	case NFT_META_OIFNAME:
	case NFT_META_IIFGROUP:
	case NFT_META_OIFGROUP:
		return true;
	default:
		return false;
	}
}

static void print_meta_key(struct out *o, uint32_t key)
{
	const struct meta_tmpl *t = meta_tmpl(key);

	if (!t)
		out_printf(o, "meta /* unsupported: key %u */", key);
	else if (meta_key_unqualified(key))
		out_puts(o, t->token);
	else
		out_printf(o, "meta %s", t->token);
}

/* ct_print(): "ct [original|reply] [ip|ip6] key" */
static void print_ct_key(struct out *o, uint32_t key, int8_t dir, const struct dtype *dt)
{
	const struct ct_tmpl *t = ct_tmpl(key);

	out_puts(o, "ct ");
	if (dir >= 0) {
		if (dir == IP_CT_DIR_ORIGINAL)
			out_puts(o, "original ");
		else if (dir == IP_CT_DIR_REPLY)
			out_puts(o, "reply ");
		if ((key == NFT_CT_SRC || key == NFT_CT_DST) && (dt == &dt_ipaddr || dt == &dt_ip6addr))
			out_puts(o, dt == &dt_ipaddr ? "ip " : "ip6 ");
	}
	if (t)
		out_puts(o, t->token);
	else
		out_printf(o, "/* unsupported: key %u */", key);
}

static const char *op_symbol(enum op op)
{
	switch (op) {
	case OP_AND: return "&";
	case OP_OR: return "|";
	case OP_XOR: return "^";
	case OP_LSHIFT: return "<<";
	case OP_RSHIFT: return ">>";
	case OP_EQ: return "==";
	case OP_NEQ: return "!=";
	case OP_LT: return "<";
	case OP_GT: return ">";
	case OP_LTE: return "<=";
	case OP_GTE: return ">=";
	case OP_NEG: return "!";
	case OP_HTON: return "hton";
	case OP_NTOH: return "ntoh";
	case OP_INVALID: return "invalid";
	default: return NULL;       /* OP_IMPLICIT */
	}
}

static unsigned op_precedence(enum op op)
{
	switch (op) {
	case OP_LSHIFT:
	case OP_RSHIFT: return 1;
	case OP_AND: return 2;
	case OP_XOR: return 3;
	case OP_OR: return 4;
	default: return 0;
	}
}

/* binop_arg_print(): parentheses where precedence needs them */
static void print_binop_arg(struct printer *pr, const struct node *op, const struct node *arg)
{
	bool paren = arg->type == N_BINOP && op_precedence(op->op) && op_precedence(op->op) < op_precedence(arg->op);

	if (paren)
		out_puts(pr->o, "(");
	print_node(pr, arg);
	if (paren)
		out_puts(pr->o, ")");
}

/* must_print_eq_op() */
static bool must_print_eq(const struct node *n)
{
	if (n->right->type == N_VALUE && dtype_is_bitmask(n->right->dtype))
		return true;
	return n->left->type == N_BINOP;
}

static void print_binop(struct printer *pr, const struct node *n)
{
	const char *sym = op_symbol(n->op);

	print_binop_arg(pr, n, n->left);
	if (sym && (n->op != OP_EQ || must_print_eq(n)))
		out_printf(pr->o, " %s ", sym);
	else
		out_puts(pr->o, " ");
	print_binop_arg(pr, n, n->right);
}

static void print_items(struct printer *pr, const struct node *n, const char *sep)
{
	for (unsigned i = 0; i < n->n_items; i++) {
		if (i)
			out_puts(pr->o, sep);
		print_node(pr, n->items[i]);
	}
}

static void print_chain_name(struct out *o, const struct cg_verdict *v, const char *word)
{
	if (!v->chain_name)
		out_printf(o, "%s /* missing chain */", word);
	else if (!v->chain)
		out_printf(o, "%s %s /* missing chain */", word, v->chain_name);
	else
		out_printf(o, "%s %s", word, v->chain_name);
}

static void print_rule_body(struct out *o, const struct cg_rule *r, uint8_t family, unsigned depth);

/* chain_stmt_print(): a jump to an anonymous (binding) chain shows its rules */
static void print_binding(struct out *o, const struct cg_chain *ch, const char *word, uint8_t family,
			  unsigned depth)
{
	out_printf(o, "%s {\n", word);
	for (uint32_t i = 0; i < ch->n_rules; i++) {
		out_puts(o, "\t\t\t");
		print_rule_body(o, &ch->rules[i], family, depth + 1);
		out_puts(o, "\n");
	}
	out_puts(o, "\t\t}");
}

static void print_verdict(struct printer *pr, const struct cg_verdict *v, unsigned depth)
{
	const char *word = v->code == CG_VERDICT_GOTO ? "goto" : "jump";

	switch (v->code) {
	case CG_VERDICT_ACCEPT: out_puts(pr->o, "accept"); break;
	case CG_VERDICT_DROP: out_puts(pr->o, "drop"); break;
	case CG_VERDICT_QUEUE: out_puts(pr->o, "queue"); break;
	case CG_VERDICT_STOLEN: out_puts(pr->o, "stolen"); break;
	case CG_VERDICT_CONTINUE: out_puts(pr->o, "continue"); break;
	case CG_VERDICT_BREAK: out_puts(pr->o, "break"); break;
	case CG_VERDICT_RETURN: out_puts(pr->o, "return"); break;
	case CG_VERDICT_JUMP:
	case CG_VERDICT_GOTO:
		if (v->chain && (v->chain->flags & NFT_CHAIN_BINDING) && depth < 8 && v->chain->table)
			print_binding(pr->o, v->chain, word, v->chain->table->family, depth);
		else
			print_chain_name(pr->o, v, word);
		break;
	default:
		out_puts(pr->o, "/* unsupported: verdict */");
		break;
	}
}

static bool set_anonymous(const struct cg_set *s)
{
	return s->flags & CG_SET_ANONYMOUS;
}

static void print_node(struct printer *pr, const struct node *n)
{
	struct out *o = pr->o;
	bool saved;

	switch (n->type) {
	case N_VALUE:
		print_value_node(pr, n);
		break;
	case N_PAYLOAD:
		print_payload(pr, n);
		break;
	case N_META:
		print_meta_key(o, n->key);
		break;
	case N_CT:
		print_ct_key(o, n->key, n->dir, n->dtype);
		break;
	case N_BINOP:
	case N_RELATIONAL:
		print_binop(pr, n);
		break;
	case N_UNARY:
		print_node(pr, n->left);
		break;
	case N_PREFIX:
		print_node(pr, n->left);
		out_printf(o, "/%u", n->prefix_len);
		break;
	case N_RANGE:
		saved = pr->numeric;
		pr->numeric = true;
		print_node(pr, n->left);
		out_puts(o, "-");
		print_node(pr, n->right);
		pr->numeric = saved;
		break;
	case N_CONCAT:
		print_items(pr, n, " . ");
		break;
	case N_LIST:
		print_items(pr, n, ",");
		break;
	case N_SET:
		out_puts(o, "{ ");
		print_items(pr, n, ", ");
		out_puts(o, " }");
		break;
	case N_SET_REF:
		if (set_anonymous(n->set) && (n->set->flags & CG_SET_LAZY)) {
			if (n->set->n_elems_seen)
				out_printf(o, "{ /* %u+ elements not listed */ }", n->set->n_elems_seen);
			else
				out_puts(o, "{ /* elements not listed */ }");
		} else if (set_anonymous(n->set) && n->set_init)
			print_node(pr, n->set_init);
		else
			out_printf(o, "@%s", n->set->name ? n->set->name : "?");
		break;
	case N_MAP:
		print_node(pr, n->left);
		out_puts(o, n->right->type == N_SET_REF && set_is_vmap(n->right->set) ? " vmap " : " map ");
		print_node(pr, n->right);
		break;
	case N_MAPPING:
		print_node(pr, n->left);
		out_puts(o, " : ");
		print_node(pr, n->right);
		break;
	case N_VERDICT:
		print_verdict(pr, n->verdict, 0);
		break;
	case N_CATCHALL:
		out_puts(o, "*");
		break;
	case N_FLAGCMP:
		print_node(pr, n->left);
		out_puts(o, n->op == OP_NEQ ? " != " : " ");
		print_node(pr, n->items[0]);
		out_puts(o, " / ");
		print_node(pr, n->right);
		break;
	case N_UNSUPPORTED:
		out_printf(o, "/* unsupported: %s */", n->what ? n->what : "?");
		break;
	}
}

static const char *log_level_name(uint32_t level)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit",
	};

	return level < ARRAY_SIZE(names) ? names[level] : "unknown";
}

static void print_log(struct out *o, const struct cg_expr *e)
{
	uint32_t f = e->log.logflags;

	out_puts(o, "log");
	if (e->log.prefix)
		out_printf(o, " prefix \"%s\"", e->log.prefix);
	if (e->log.present & (1u << NFTA_LOG_GROUP))
		out_printf(o, " group %u", e->log.group);
	if (e->log.present & (1u << NFTA_LOG_SNAPLEN))
		out_printf(o, " snaplen %u", e->log.snaplen);
	if (e->log.present & (1u << NFTA_LOG_QTHRESHOLD))
		out_printf(o, " queue-threshold %u", e->log.qthreshold);
	if ((e->log.present & (1u << NFTA_LOG_LEVEL)) && e->log.level != 4)
		out_printf(o, " level %s", log_level_name(e->log.level));
	if ((f & NF_LOG_MASK) == NF_LOG_MASK) {
		out_puts(o, " flags all");
		return;
	}
	if (f & (NF_LOG_TCPSEQ | NF_LOG_TCPOPT)) {
		out_puts(o, " flags tcp");
		if (f & NF_LOG_TCPSEQ)
			out_puts(o, " sequence");
		if (f & NF_LOG_TCPOPT)
			out_puts(o, f & NF_LOG_TCPSEQ ? ",options" : " options");
	}
	if (f & NF_LOG_IPOPT)
		out_puts(o, " flags ip options");
	if (f & NF_LOG_UID)
		out_puts(o, " flags skuid");
	if (f & NF_LOG_MACDECODE)
		out_puts(o, " flags ether");
}

static const char *time_unit(uint64_t u)
{
	switch (u) {
	case 1: return "second";
	case 60: return "minute";
	case 60 * 60: return "hour";
	case 60 * 60 * 24: return "day";
	case 60 * 60 * 24 * 7: return "week";
	}
	return "error";
}

/* get_rate(): the largest of bytes, kbytes, mbytes that divides exactly */
static const char *data_unit(uint64_t bytes, uint64_t *rate)
{
	static const char *const units[] = { "bytes", "kbytes", "mbytes" };
	unsigned i = 0;

	if (bytes)
		for (; i + 1 < ARRAY_SIZE(units) && bytes % 1024 == 0; i++)
			bytes /= 1024;
	*rate = bytes;
	return units[i];
}

static void print_limit(struct out *o, const struct cg_expr *e)
{
	const char *over = e->limit.flags & NFT_LIMIT_F_INV ? "over " : "";
	uint64_t rate, burst;
	const char *unit;

	if (!e->limit.set) {
		out_puts(o, "limit /* unsupported: rate not collected */");
		return;
	}
	if (e->limit.type == NFT_LIMIT_PKT_BYTES) {
		unit = data_unit(e->limit.rate, &rate);
		out_printf(o, "limit rate %s%llu %s/%s", over, (unsigned long long)rate, unit,
			   time_unit(e->limit.unit));
		if (e->limit.burst) {
			unit = data_unit(e->limit.burst, &burst);
			out_printf(o, " burst %llu %s", (unsigned long long)burst, unit);
		}
		return;
	}
	out_printf(o, "limit rate %s%llu/%s", over, (unsigned long long)e->limit.rate, time_unit(e->limit.unit));
	if (e->limit.burst && e->limit.burst != 5)
		out_printf(o, " burst %u packets", e->limit.burst);
}

/* The ICMP code a reject sends: the collected one, or for a hand-built rule
 * the code a plain "reject" of the type writes (which nft prints as nothing). */
static unsigned reject_code(const struct stmt *s)
{
	if (s->src->reject.code_set)
		return s->src->reject.code;
	switch (s->src->reject.type) {
	case NFT_REJECT_ICMPX_UNREACH:
		return NFT_REJECT_ICMPX_PORT_UNREACH;
	case NFT_REJECT_ICMP_UNREACH:
		return s->reject.family == NFPROTO_IPV6 ? 4 /* ICMP6_DST_UNREACH_NOPORT */
							: 3 /* ICMP_PORT_UNREACH */;
	default:
		return 0;
	}
}

static void print_reject_code(struct out *o, const char *kind, const struct dtype *dt, unsigned code)
{
	struct num v = num_from_u64(code);
	struct node n = { .type = N_VALUE, .dtype = dt, .byteorder = BO_BIG, .len = 8, .value = &v };

	out_printf(o, " with %s ", kind);
	print_by_type(o, &n, dt);
}

/* reject_stmt_print() */
static void print_reject(struct out *o, const struct stmt *s)
{
	unsigned code = reject_code(s);

	out_puts(o, "reject");
	switch (s->src->reject.type) {
	case NFT_REJECT_TCP_RST:
		out_puts(o, " with tcp reset");
		break;
	case NFT_REJECT_ICMPX_UNREACH:
		if (code != NFT_REJECT_ICMPX_PORT_UNREACH)
			print_reject_code(o, "icmpx", &dt_icmpx_code, code);
		break;
	case NFT_REJECT_ICMP_UNREACH:
		if (s->reject.family == NFPROTO_IPV4 && (s->reject.verbose || code != 3))
			print_reject_code(o, "icmp", &dt_icmp_code, code);
		else if (s->reject.family == NFPROTO_IPV6 && (s->reject.verbose || code != 4))
			print_reject_code(o, "icmpv6", &dt_icmpv6_code, code);
		break;
	default:
		out_printf(o, " /* unsupported: type %u */", s->src->reject.type);
		break;
	}
}

static void print_nat(struct printer *pr, const struct stmt *s)
{
	static const char *const kinds[] = {
		[NAT_SNAT] = "snat", [NAT_DNAT] = "dnat", [NAT_MASQ] = "masquerade", [NAT_REDIR] = "redirect",
	};
	struct out *o = pr->o;
	const struct node *a = s->nat.addr;
	uint32_t f = s->nat.flags;
	const char *delim = " ";

	out_puts(o, kinds[s->nat.kind]);
	if (a || s->nat.proto) {
		if (s->nat.family == NFPROTO_IPV4)
			out_puts(o, " ip");
		else if (s->nat.family == NFPROTO_IPV6)
			out_puts(o, " ip6");
		if (s->nat.type_flags & NAT_F_PREFIX)
			out_puts(o, " prefix");
		out_puts(o, " to");
	}
	if (a) {
		out_puts(o, " ");
		if (s->nat.proto && a->type == N_VALUE && a->dtype == &dt_ip6addr) {
			out_puts(o, "[");
			print_node(pr, a);
			out_puts(o, "]");
		} else if (s->nat.proto && a->type == N_RANGE && a->left->dtype == &dt_ip6addr) {
			out_puts(o, "[");
			print_node(pr, a->left);
			out_puts(o, "]-[");
			print_node(pr, a->right);
			out_puts(o, "]");
		} else {
			print_node(pr, a);
		}
	}
	if (s->nat.proto) {
		if (!a)
			out_puts(o, " ");
		out_puts(o, ":");
		print_node(pr, s->nat.proto);
	}
	if (f & NF_NAT_RANGE_PROTO_RANDOM) {
		out_printf(o, "%srandom", delim);
		delim = ",";
	}
	if (f & NF_NAT_RANGE_PROTO_RANDOM_FULLY) {
		out_printf(o, "%sfully-random", delim);
		delim = ",";
	}
	if (f & NF_NAT_RANGE_PERSISTENT)
		out_printf(o, "%spersistent", delim);
}

/* whether a statement prints; false for register loads shown by their user */
static bool stmt_prints(const struct stmt *s)
{
	return !(s->type == S_UNSUPPORTED && s->loads && s->consumed);
}

static void print_stmt(struct printer *pr, const struct stmt *s, unsigned depth)
{
	struct out *o = pr->o;

	switch (s->type) {
	case S_EXPR:
		print_node(pr, s->expr);
		break;
	case S_VERDICT:
		print_verdict(pr, s->expr->verdict, depth);
		break;
	case S_COUNTER:
		/* the model keeps no packet or byte counts */
		out_puts(o, "counter");
		break;
	case S_META:
		if (meta_key_unqualified(s->key) && meta_tmpl(s->key))
			out_printf(o, "%s set ", meta_tmpl(s->key)->token);
		else if (meta_tmpl(s->key))
			out_printf(o, "meta %s set ", meta_tmpl(s->key)->token);
		else
			out_printf(o, "meta /* unsupported: key %u */ set ", s->key);
		print_node(pr, s->expr);
		break;
	case S_CT:
		print_ct_key(o, s->key, s->dir, NULL);
		out_puts(o, " set ");
		print_node(pr, s->expr);
		break;
	case S_PAYLOAD:
		print_node(pr, s->target);
		out_puts(o, " set ");
		print_node(pr, s->expr);
		break;
	case S_LOG:
		print_log(o, s->src);
		break;
	case S_LIMIT:
		print_limit(o, s->src);
		break;
	case S_QUOTA:
		/* the model keeps neither the quota nor its use */
		out_puts(o, "/* unsupported: quota */");
		break;
	case S_REJECT:
		print_reject(o, s);
		break;
	case S_NAT:
		print_nat(pr, s);
		break;
	case S_NOTRACK:
		out_puts(o, "notrack");
		break;
	case S_XT:
		out_printf(o, "xt %s \"%s\"", s->src->type == CG_EXPR_XT_TARGET ? "target" : "match",
			   s->src->xt.name ? s->src->xt.name : "?");
		break;
	case S_UNSUPPORTED:
		out_printf(o, "/* unsupported: %s */", s->what);
		break;
	}
}

/* netlink_delinearize_rule() + rule_print() */
static void print_rule_body(struct out *o, const struct cg_rule *r, uint8_t family, unsigned depth)
{
	struct arena scratch = { 0 };
	struct ctx c = { .a = &scratch, .family = family };
	struct stmt_list list = { 0 };
	struct parse p = { .c = &c, .list = &list };
	struct printer pr = { .o = o };
	bool first = true;
	/* the statements point into it: it stays until the rule is printed */
	struct cg_expr_buf eb;
	const struct cg_expr *ex = rule_exprs(r, &eb);

	for (uint32_t i = 0; i < r->n_exprs; i++) {
		if (ex[i].type == CG_EXPR_UNKNOWN && unknown_loads_register(ex[i].unknown.name ?
									     ex[i].unknown.name : ""))
			/* its destination is unknown: no register still holds what it held */
			memset(p.regs, 0, sizeof(p.regs));
		parse_expr(&p, &ex[i]);
	}
	rule_postprocess(&c, &list);
	for (struct stmt *s = list.head; s; s = s->next) {
		if (!stmt_prints(s))
			continue;
		if (!first)
			out_puts(o, " ");
		print_stmt(&pr, s, depth);
		first = false;
	}
	if (r->comment)
		out_printf(o, "%scomment \"%s\"", first ? "" : " ", r->comment);
	arena_free(&scratch);
	expr_buf_free(&eb);
}

static uint8_t rule_family(const struct cg_rule *r)
{
	if (r->chain && r->chain->table)
		return r->chain->table->family;
	return NFPROTO_IPV4;
}

int nft_rule_format(const struct cg_rule *r, char *buf, size_t size)
{
	struct out o = { 0 };
	int len;

	if (!r || (!buf && size))
		return -EINVAL;
	print_rule_body(&o, r, rule_family(r), 0);
	len = o.len > INT_MAX ? INT_MAX : (int)o.len;
	if (size) {
		size_t n = o.len < size - 1 ? o.len : size - 1;

		if (n)
			memcpy(buf, o.buf, n);
		buf[n] = '\0';
	}
	free(o.buf);
	return len;
}

char *nft_rule_to_string(const struct cg_rule *r)
{
	struct out o = { 0 };

	if (!r)
		return NULL;
	print_rule_body(&o, r, rule_family(r), 0);
	if (!o.buf)
		return xstrdup("");
	return o.buf;
}
