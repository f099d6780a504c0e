/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Values as nft holds and prints them: numbers kept the way nft's mpz
 * numbers hold them (struct num), so byte order switches happen at the same
 * points as in nft; the growing output buffer; and the datatypes, each value
 * printed in its type's notation (datatype.c). */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <netdb.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "nft-internal.h"

/* ==== numbers ================================================================= */

bool nftp_num_bit(const struct num *n, unsigned i)
{
	return i < NUM_BITS && (n->b[NUM_BYTES - 1 - i / 8] >> (i % 8)) & 1;
}

void nftp_num_setbit(struct num *n, unsigned i)
{
	if (i < NUM_BITS)
		n->b[NUM_BYTES - 1 - i / 8] |= (uint8_t)(1u << (i % 8));
}

/* mpz_scan1(): the lowest set bit at or above `from`, NO_BIT if none */
unsigned nftp_num_scan1(const struct num *n, unsigned from)
{
	for (unsigned i = from; i < NUM_BITS; i++)
		if (nftp_num_bit(n, i))
			return i;
	return NO_BIT;
}

/* mpz_scan0(): the lowest clear bit at or above `from` */
unsigned nftp_num_scan0(const struct num *n, unsigned from)
{
	for (unsigned i = from; i < NUM_BITS; i++)
		if (!nftp_num_bit(n, i))
			return i;
	return NUM_BITS;
}

bool nftp_num_is_zero(const struct num *n)
{
	for (unsigned i = 0; i < NUM_BYTES; i++)
		if (n->b[i])
			return false;
	return true;
}

int nftp_num_cmp(const struct num *a, const struct num *b)
{
	return memcmp(a->b, b->b, NUM_BYTES);
}

unsigned nftp_num_popcount(const struct num *n)
{
	unsigned c = 0;

	for (unsigned i = 0; i < NUM_BYTES; i++)
		c += (unsigned)__builtin_popcount(n->b[i]);
	return c;
}

void nftp_num_and(struct num *r, const struct num *a, const struct num *b)
{
	for (unsigned i = 0; i < NUM_BYTES; i++)
		r->b[i] = a->b[i] & b->b[i];
}

void nftp_num_or(struct num *r, const struct num *a, const struct num *b)
{
	for (unsigned i = 0; i < NUM_BYTES; i++)
		r->b[i] = a->b[i] | b->b[i];
}

void nftp_num_xor(struct num *r, const struct num *a, const struct num *b)
{
	for (unsigned i = 0; i < NUM_BYTES; i++)
		r->b[i] = a->b[i] ^ b->b[i];
}

void nftp_num_shl(struct num *n, unsigned bits)
{
	struct num r = { 0 };

	for (unsigned i = 0; i + bits < NUM_BITS; i++)
		if (nftp_num_bit(n, i))
			nftp_num_setbit(&r, i + bits);
	*n = r;
}

void nftp_num_shr(struct num *n, unsigned bits)
{
	struct num r = { 0 };

	for (unsigned i = bits; i < NUM_BITS; i++)
		if (nftp_num_bit(n, i))
			nftp_num_setbit(&r, i - bits);
	*n = r;
}

/* (1 << bits) - 1 */
struct num nftp_num_mask(unsigned bits)
{
	struct num r = { 0 };

	for (unsigned i = 0; i < bits && i < NUM_BITS; i++)
		nftp_num_setbit(&r, i);
	return r;
}

void nftp_num_add(struct num *r, const struct num *a, const struct num *b)
{
	unsigned carry = 0;

	for (int i = NUM_BYTES - 1; i >= 0; i--) {
		unsigned s = (unsigned)a->b[i] + b->b[i] + carry;

		r->b[i] = (uint8_t)s;
		carry = s >> 8;
	}
}

/* a - b for a >= b (callers guarantee it, as nft's mpz would not care) */
void nftp_num_sub(struct num *r, const struct num *a, const struct num *b)
{
	int borrow = 0;

	for (int i = NUM_BYTES - 1; i >= 0; i--) {
		int d = (int)a->b[i] - b->b[i] - borrow;

		borrow = d < 0;
		r->b[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

struct num nftp_num_from_u64(uint64_t v)
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
struct num nftp_num_from_bytes(const uint8_t *p, unsigned len)
{
	struct num r = { 0 };

	if (len > NUM_BYTES)
		len = NUM_BYTES;
	if (len)
		memcpy(r.b + NUM_BYTES - len, p, len);
	return r;
}

/* mpz_export of the low `len` bytes, most significant first */
void nftp_num_to_bytes(const struct num *n, uint8_t *p, unsigned len)
{
	if (len > NUM_BYTES)
		len = NUM_BYTES;
	memcpy(p, n->b + NUM_BYTES - len, len);
}

/* mpz_switch_byteorder(): the low `len` bytes reversed */
void nftp_num_swap(struct num *n, unsigned len)
{
	if (len > NUM_BYTES)
		len = NUM_BYTES;
	nftp_bytes_reverse(n->b + NUM_BYTES - len, len);
}

void nftp_bytes_reverse(uint8_t *p, unsigned len)
{
	for (unsigned i = 0, j = len - 1; len && i < j; i++, j--) {
		uint8_t t = p[i];

		p[i] = p[j];
		p[j] = t;
	}
}

/* ==== output ================================================================== */

void nftp_out_printf(struct out *o, const char *fmt, ...)
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

void nftp_out_puts(struct out *o, const char *s)
{
	nftp_out_printf(o, "%s", s);
}

/* ==== datatypes =============================================================== */

/* expr_basetype(): the root of the type chain */
const struct dtype *nftp_dtype_base(const struct dtype *dt)
{
	while (dt && dt->basetype)
		dt = dt->basetype;
	return dt;
}

bool nftp_dtype_is_bitmask(const struct dtype *dt)
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
	} while (!nftp_num_is_zero(&n));
	nftp_out_puts(o, digits + i);
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
	nftp_out_printf(o, "0x%s", digits + first);
}

/* integer_type_print(): the first format along the type chain */
void nftp_print_integer(struct out *o, const struct node *v)
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
uint64_t nftp_value_u64(const struct node *v)
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
void nftp_print_by_type(struct out *o, const struct node *v, const struct dtype *dt)
{
	for (; dt; dt = dt->basetype) {
		if (dt->print) {
			dt->print(o, v);
			return;
		}
		if (dt->syms || dt->sym_file) {
			uint64_t val = nftp_value_u64(v);
			char name[256];

			for (const struct symbol *s = dt->syms; s && s->name; s++)
				if (s->value == val) {
					nftp_out_printf(o, dt->quote_syms ? "\"%s\"" : "%s", s->name);
					return;
				}
			if (dt->sym_file && rt_file_name(dt->sym_file, val, name, sizeof(name))) {
				nftp_out_printf(o, "\"%s\"", name);
				return;
			}
			/* no symbol: the basetype's print */
			nftp_print_by_type(o, v, nftp_dtype_base(dt));
			return;
		}
	}
	nftp_print_integer(o, v);
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
	nftp_out_printf(o, "\"%s\"", s);
}

static void print_ipaddr(struct out *o, const struct node *v)
{
	uint8_t b[4];
	char s[INET_ADDRSTRLEN];

	nftp_num_to_bytes(v->value, b, 4);
	nftp_out_puts(o, inet_ntop(AF_INET, b, s, sizeof(s)));
}

static void print_ip6addr(struct out *o, const struct node *v)
{
	uint8_t b[16];
	char s[INET6_ADDRSTRLEN];

	nftp_num_to_bytes(v->value, b, 16);
	nftp_out_puts(o, inet_ntop(AF_INET6, b, s, sizeof(s)));
}

static void print_lladdr(struct out *o, const struct node *v)
{
	unsigned len = (v->len + 7) / 8;
	uint8_t b[NUM_BYTES];

	if (len > NUM_BYTES)
		len = NUM_BYTES;
	nftp_num_to_bytes(v->value, b, len);
	for (unsigned i = 0; i < len; i++)
		nftp_out_printf(o, "%s%02x", i ? ":" : "", b[i]);
}

static void print_inet_protocol(struct out *o, const struct node *v)
{
	struct protoent *p = getprotobynumber((int)(nftp_value_u64(v) & 0xff));

	if (p)
		nftp_out_puts(o, p->p_name);
	else
		nftp_print_integer(o, v);
}

/* ifindex_type_print(): resolved in the caller's network namespace */
static void print_ifindex(struct out *o, const struct node *v)
{
	uint32_t idx = (uint32_t)nftp_value_u64(v);
	char name[IF_NAMESIZE];

	if (idx && if_indextoname(idx, name))
		nftp_out_printf(o, "\"%s\"", name);
	else
		nftp_out_printf(o, "%d", (int)idx);
}

static void print_classid(struct out *o, const struct node *v)
{
	uint32_t h = (uint32_t)nftp_value_u64(v);

	if (h == 0xffffffffu)
		nftp_out_puts(o, "root");
	else if (h == 0)
		nftp_out_puts(o, "none");
	else
		nftp_out_printf(o, "%x:%x", h >> 16, h & 0xffff);
}

/* time_print(): milliseconds as 1d2h3m4s5ms, nothing for zero */
static void print_time(struct out *o, const struct node *v)
{
	uint64_t ms = nftp_value_u64(v);
	static const struct { uint64_t ms; const char *unit; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		uint64_t n = ms / units[i].ms;

		ms %= units[i].ms;
		if (n)
			nftp_out_printf(o, "%llu%s", (unsigned long long)n, units[i].unit);
	}
}

/* date_type_print(): nanoseconds since the epoch, in local time */
static void print_date(struct out *o, const struct node *v)
{
	time_t t = (time_t)(nftp_value_u64(v) / 1000000000ull);
	struct tm tmb, *tm = localtime_r(&t, &tmb);
	char s[32];

	if (tm)
		t += tm->tm_gmtoff;
	tm = gmtime_r(&t, &tmb);
	if (tm && strftime(s, sizeof(s), "%Y-%m-%d %T", tm))
		nftp_out_printf(o, "\"%s\"", s);
	else
		nftp_out_puts(o, "Error converting timestamp to printed time");
}

/* hour_type_print(): seconds since midnight UTC, in local time */
static void print_hour(struct out *o, const struct node *v)
{
	uint32_t sec = (uint32_t)nftp_value_u64(v);
	time_t now = time(NULL);
	struct tm tmb, *tm = localtime_r(&now, &tmb);

	if (tm)
		sec = (uint32_t)((sec + tm->tm_gmtoff) % 86400);
	nftp_out_printf(o, "\"%02u:%02u", sec / 3600, sec / 60 % 60);
	if (sec % 60)
		nftp_out_printf(o, ":%02u", sec % 60);
	nftp_out_puts(o, "\"");
}

/* ct_label_type_print(): the label's bit, by its connlabel.conf name if any */
static void print_ct_label(struct out *o, const struct node *v)
{
	unsigned bit = nftp_num_scan1(v->value, 0);
	char name[256];

	if (bit != NO_BIT && rt_file_name("/etc/connlabel.conf", bit, name, sizeof(name)))
		nftp_out_printf(o, "\"%s\"", name);
	else
		nftp_out_printf(o, "%lu", bit == NO_BIT ? (unsigned long)-1 : (unsigned long)bit);
}

static void print_invalid(struct out *o, const struct node *v)
{
	print_hex(o, v->value, 0);
	nftp_out_puts(o, " [invalid type]");
}

#define SYMS(...) (const struct symbol[]){ __VA_ARGS__, { NULL, 0 } }

const struct dtype nftp_dt_invalid = { .type = TYPE_INVALID, .print = print_invalid };
const struct dtype nftp_dt_integer = { .type = TYPE_INTEGER, .hexw = -1, .has_fmt = true };
/* raw payloads print in hex */
const struct dtype nftp_dt_xinteger = {
	.type = TYPE_INTEGER, .basetype = &nftp_dt_integer, .hexw = 0, .has_fmt = true,
};
const struct dtype nftp_dt_bitmask = {
	.type = TYPE_BITMASK, .basetype = &nftp_dt_integer, .hexw = 0, .has_fmt = true,
};
const struct dtype nftp_dt_string = {
	.type = TYPE_STRING, .byteorder = BO_HOST, .print = print_string_value,
};
const struct dtype nftp_dt_ifname = {
	.type = TYPE_IFNAME, .byteorder = BO_HOST, .size = IFNAMSIZ * 8, .basetype = &nftp_dt_string,
};
static const struct dtype dt_lladdr = {
	.type = TYPE_LLADDR, .byteorder = BO_BIG, .basetype = &nftp_dt_integer, .print = print_lladdr,
};
const struct dtype nftp_dt_etheraddr = {
	.type = TYPE_ETHERADDR, .byteorder = BO_BIG, .size = 48, .basetype = &dt_lladdr,
};
const struct dtype nftp_dt_ipaddr = {
	.type = TYPE_IPADDR, .byteorder = BO_BIG, .size = 32, .basetype = &nftp_dt_integer,
	.print = print_ipaddr, .prefix = true,
};
const struct dtype nftp_dt_ip6addr = {
	.type = TYPE_IP6ADDR, .byteorder = BO_BIG, .size = 128, .basetype = &nftp_dt_integer,
	.print = print_ip6addr, .prefix = true,
};
const struct dtype nftp_dt_nfproto = {
	.type = TYPE_NFPROTO, .size = 8, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "ipv4", NFPROTO_IPV4 }, { "ipv6", NFPROTO_IPV6 }),
};
const struct dtype nftp_dt_ethertype = {
	.type = TYPE_ETHERTYPE, .byteorder = BO_BIG, .size = 16, .basetype = &nftp_dt_integer,
	.hexw = 4, .has_fmt = true,
	.syms = SYMS({ "ip", 0x0800 }, { "arp", 0x0806 }, { "ip6", 0x86dd }, { "8021q", 0x8100 },
		     { "8021ad", 0x88a8 }),
};
const struct dtype nftp_dt_arpop = {
	.type = TYPE_ARPOP, .byteorder = BO_BIG, .size = 16, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "request", 1 }, { "reply", 2 }, { "rrequest", 3 }, { "rreply", 4 },
		     { "inrequest", 8 }, { "inreply", 9 }, { "nak", 10 }),
};
const struct dtype nftp_dt_inet_protocol = {
	.type = TYPE_INET_PROTOCOL, .size = 8, .basetype = &nftp_dt_integer,
	.print = print_inet_protocol,
};
/* ports print as numbers: nft's -S (service names) is off by default */
const struct dtype nftp_dt_inet_service = {
	.type = TYPE_INET_SERVICE, .byteorder = BO_BIG, .size = 16, .basetype = &nftp_dt_integer,
};
const struct dtype nftp_dt_icmp_type = {
	.type = TYPE_ICMP_TYPE, .byteorder = BO_BIG, .size = 8, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "echo-reply", 0 }, { "destination-unreachable", 3 }, { "source-quench", 4 },
		     { "redirect", 5 }, { "echo-request", 8 }, { "router-advertisement", 9 },
		     { "router-solicitation", 10 }, { "time-exceeded", 11 },
		     { "parameter-problem", 12 }, { "timestamp-request", 13 },
		     { "timestamp-reply", 14 }, { "info-request", 15 }, { "info-reply", 16 },
		     { "address-mask-request", 17 }, { "address-mask-reply", 18 }),
};
const struct dtype nftp_dt_icmp6_type = {
	.type = TYPE_ICMP6_TYPE, .byteorder = BO_BIG, .size = 8, .basetype = &nftp_dt_integer,
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
const struct dtype nftp_dt_icmp_code = {
	.type = TYPE_ICMP_CODE, .byteorder = BO_BIG, .size = 8, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "net-unreachable", 0 }, { "host-unreachable", 1 }, { "prot-unreachable", 2 },
		     { "port-unreachable", 3 }, { "net-prohibited", 9 }, { "host-prohibited", 10 },
		     { "admin-prohibited", 13 }, { "frag-needed", 4 }),
};
const struct dtype nftp_dt_icmpv6_code = {
	.type = TYPE_ICMPV6_CODE, .byteorder = BO_BIG, .size = 8, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "no-route", 0 }, { "admin-prohibited", 1 }, { "addr-unreachable", 3 },
		     { "port-unreachable", 4 }, { "policy-fail", 5 }, { "reject-route", 6 }),
};
const struct dtype nftp_dt_icmpx_code = {
	.type = TYPE_ICMPX_CODE, .byteorder = BO_BIG, .size = 8, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "port-unreachable", NFT_REJECT_ICMPX_PORT_UNREACH },
		     { "admin-prohibited", NFT_REJECT_ICMPX_ADMIN_PROHIBITED },
		     { "no-route", NFT_REJECT_ICMPX_NO_ROUTE },
		     { "host-unreachable", NFT_REJECT_ICMPX_HOST_UNREACH }),
};
const struct dtype nftp_dt_igmp_type = {
	.type = TYPE_IGMP_TYPE, .byteorder = BO_BIG, .size = 8, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "membership-query", 0x11 }, { "membership-report-v1", 0x12 },
		     { "membership-report-v2", 0x16 }, { "membership-report-v3", 0x22 },
		     { "leave-group", 0x17 }),
};
const struct dtype nftp_dt_tcp_flag = {
	.type = TYPE_TCP_FLAG, .byteorder = BO_BIG, .size = 8, .basetype = &nftp_dt_bitmask,
	.syms = SYMS({ "fin", 0x01 }, { "syn", 0x02 }, { "rst", 0x04 }, { "psh", 0x08 },
		     { "ack", 0x10 }, { "urg", 0x20 }, { "ecn", 0x40 }, { "cwr", 0x80 }),
};
const struct dtype nftp_dt_mh_type = {
	.type = TYPE_MH_TYPE, .byteorder = BO_BIG, .size = 8, .basetype = &nftp_dt_integer,
	.syms = (const struct symbol[]){
		{ "binding-refresh-request", 0 }, { "home-test-init", 1 }, { "careof-test-init", 2 },
		{ "home-test", 3 }, { "careof-test", 4 }, { "binding-update", 5 },
		{ "binding-acknowledgement", 6 }, { "binding-error", 7 }, { "fast-binding-update", 8 },
		{ "fast-binding-acknowledgement", 9 }, { "fast-binding-advertisement", 10 },
		{ "experimental-mobility-header", 11 }, { "home-agent-switch-message", 12 }, { NULL, 0 } },
};
const struct dtype nftp_dt_dccp_pkttype = {
	.type = TYPE_DCCP_PKTTYPE, .size = 4, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "request", 0 }, { "response", 1 }, { "data", 2 }, { "ack", 3 },
		     { "dataack", 4 }, { "closereq", 5 }, { "close", 6 }, { "reset", 7 },
		     { "sync", 8 }, { "syncack", 9 }),
};
const struct dtype nftp_dt_dscp = {
	.type = TYPE_DSCP, .byteorder = BO_BIG, .size = 6, .basetype = &nftp_dt_integer,
	.hexw = 2, .has_fmt = true,
	.syms = SYMS({ "cs0", 0x00 }, { "cs1", 0x08 }, { "cs2", 0x10 }, { "cs3", 0x18 },
		     { "cs4", 0x20 }, { "cs5", 0x28 }, { "cs6", 0x30 }, { "cs7", 0x38 },
		     { "df", 0x00 }, { "be", 0x00 }, { "lephb", 0x01 }, { "af11", 0x0a },
		     { "af12", 0x0c }, { "af13", 0x0e }, { "af21", 0x12 }, { "af22", 0x14 },
		     { "af23", 0x16 }, { "af31", 0x1a }, { "af32", 0x1c }, { "af33", 0x1e },
		     { "af41", 0x22 }, { "af42", 0x24 }, { "af43", 0x26 }, { "va", 0x2c },
		     { "ef", 0x2e }),
};
const struct dtype nftp_dt_ecn = {
	.type = TYPE_ECN, .byteorder = BO_BIG, .size = 2, .basetype = &nftp_dt_integer,
	.hexw = 1, .has_fmt = true,
	.syms = SYMS({ "not-ect", 0 }, { "ect1", 1 }, { "ect0", 2 }, { "ce", 3 }),
};
/* a mark prints by name when /etc/iproute2/rt_marks names it */
const struct dtype nftp_dt_mark = {
	.type = TYPE_MARK, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_integer,
	.hexw = 8, .has_fmt = true, .prefix = true, .sym_file = "/etc/iproute2/rt_marks",
};
const struct dtype nftp_dt_ifindex = {
	.type = TYPE_IFINDEX, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_integer,
	.print = print_ifindex,
};
const struct dtype nftp_dt_arphrd = {
	.type = TYPE_ARPHRD, .byteorder = BO_HOST, .size = 16, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "ether", 1 }, { "ppp", 512 }, { "ipip", 768 }, { "ipip6", 769 },
		     { "loopback", 772 }, { "sit", 776 }, { "ipgre", 778 }),
};
const struct dtype nftp_dt_realm = {
	.type = TYPE_REALM, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_integer,
	.sym_file = "/etc/iproute2/rt_realms",
};
const struct dtype nftp_dt_classid = {
	.type = TYPE_CLASSID, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_integer,
	.print = print_classid,
};
/* user and group names print only with nft -u */
const struct dtype nftp_dt_uid = {
	.type = TYPE_UID, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_integer,
};
const struct dtype nftp_dt_gid = {
	.type = TYPE_GID, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_integer,
};
const struct dtype nftp_dt_ct_state = {
	.type = TYPE_CT_STATE, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_bitmask,
	.syms = SYMS({ "invalid", NF_CT_STATE_INVALID_BIT },
		     { "new", NF_CT_STATE_BIT(IP_CT_NEW) },
		     { "established", NF_CT_STATE_BIT(IP_CT_ESTABLISHED) },
		     { "related", NF_CT_STATE_BIT(IP_CT_RELATED) },
		     { "untracked", NF_CT_STATE_UNTRACKED_BIT }),
};
const struct dtype nftp_dt_ct_dir = {
	.type = TYPE_CT_DIR, .size = 8, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "original", IP_CT_DIR_ORIGINAL }, { "reply", IP_CT_DIR_REPLY }),
};
const struct dtype nftp_dt_ct_status = {
	.type = TYPE_CT_STATUS, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_bitmask,
	.syms = SYMS({ "expected", IPS_EXPECTED }, { "seen-reply", IPS_SEEN_REPLY },
		     { "assured", IPS_ASSURED }, { "confirmed", IPS_CONFIRMED },
		     { "snat", IPS_SRC_NAT }, { "dnat", IPS_DST_NAT }, { "dying", IPS_DYING }),
};
const struct dtype nftp_dt_ct_event = {
	.type = TYPE_CT_EVENTBIT, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_bitmask,
	.syms = SYMS({ "new", 1 << 0 }, { "related", 1 << 1 }, { "destroy", 1 << 2 },
		     { "reply", 1 << 3 }, { "assured", 1 << 4 }, { "protoinfo", 1 << 5 },
		     { "helper", 1 << 6 }, { "mark", 1 << 7 }, { "seqadj", 1 << 8 },
		     { "secmark", 1 << 9 }, { "label", 1 << 10 }),
};
const struct dtype nftp_dt_ct_label = {
	.type = TYPE_CT_LABEL, .byteorder = BO_HOST, .size = 128, .basetype = &nftp_dt_bitmask,
	.print = print_ct_label,
};
const struct dtype nftp_dt_pkttype = {
	.type = TYPE_PKTTYPE, .byteorder = BO_HOST, .size = 8, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "host", 0 }, { "broadcast", 1 }, { "multicast", 2 }, { "other", 3 }),
};
const struct dtype nftp_dt_devgroup = {
	.type = TYPE_DEVGROUP, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_integer,
	.prefix = true, .sym_file = "/etc/iproute2/group",
};
const struct dtype nftp_dt_boolean = {
	.type = TYPE_BOOLEAN, .byteorder = BO_HOST, .size = 1, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "exists", 1 }, { "missing", 0 }),
};
const struct dtype nftp_dt_time = {
	.type = TYPE_TIME, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_integer,
	.print = print_time,
};
const struct dtype nftp_dt_date = {
	.type = TYPE_TIME_DATE, .byteorder = BO_HOST, .size = 64, .basetype = &nftp_dt_integer,
	.print = print_date,
};
const struct dtype nftp_dt_hour = {
	.type = TYPE_TIME_HOUR, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_integer,
	.print = print_hour,
};
const struct dtype nftp_dt_day = {
	.type = TYPE_TIME_DAY, .byteorder = BO_HOST, .size = 8, .basetype = &nftp_dt_integer,
	.quote_syms = true,
	.syms = SYMS({ "Sunday", 0 }, { "Monday", 1 }, { "Tuesday", 2 }, { "Wednesday", 3 },
		     { "Thursday", 4 }, { "Friday", 5 }, { "Saturday", 6 }),
};
/* fib.c's fib_addr_type: a route type (RTN_*) */
const struct dtype nftp_dt_fib_addr = {
	.type = TYPE_FIB_ADDR, .byteorder = BO_HOST, .size = 32, .basetype = &nftp_dt_integer,
	.syms = SYMS({ "unspec", 0 }, { "unicast", 1 }, { "local", 2 }, { "broadcast", 3 },
		     { "anycast", 4 }, { "multicast", 5 }, { "blackhole", 6 }, { "unreachable", 7 },
		     { "prohibit", 8 }),
};
const struct dtype nftp_dt_verdict = { .type = TYPE_VERDICT };

/* datatype_lookup() for the types a set key or data can carry */
const struct dtype *nftp_dtype_by_id(unsigned type)
{
	static const struct dtype *const types[TYPE_MAX] = {
		[TYPE_INVALID] = &nftp_dt_invalid, [TYPE_VERDICT] = &nftp_dt_verdict,
		[TYPE_NFPROTO] = &nftp_dt_nfproto, [TYPE_BITMASK] = &nftp_dt_bitmask,
		[TYPE_INTEGER] = &nftp_dt_integer, [TYPE_STRING] = &nftp_dt_string,
		[TYPE_LLADDR] = &dt_lladdr, [TYPE_IPADDR] = &nftp_dt_ipaddr,
		[TYPE_IP6ADDR] = &nftp_dt_ip6addr, [TYPE_ETHERADDR] = &nftp_dt_etheraddr,
		[TYPE_ETHERTYPE] = &nftp_dt_ethertype, [TYPE_ARPOP] = &nftp_dt_arpop,
		[TYPE_INET_PROTOCOL] = &nftp_dt_inet_protocol, [TYPE_INET_SERVICE] = &nftp_dt_inet_service,
		[TYPE_ICMP_TYPE] = &nftp_dt_icmp_type, [TYPE_TCP_FLAG] = &nftp_dt_tcp_flag,
		[TYPE_DCCP_PKTTYPE] = &nftp_dt_dccp_pkttype, [TYPE_MH_TYPE] = &nftp_dt_mh_type, [TYPE_TIME] = &nftp_dt_time,
		[TYPE_MARK] = &nftp_dt_mark, [TYPE_IFINDEX] = &nftp_dt_ifindex, [TYPE_ARPHRD] = &nftp_dt_arphrd,
		[TYPE_REALM] = &nftp_dt_realm, [TYPE_CLASSID] = &nftp_dt_classid, [TYPE_UID] = &nftp_dt_uid,
		[TYPE_GID] = &nftp_dt_gid, [TYPE_CT_STATE] = &nftp_dt_ct_state, [TYPE_CT_DIR] = &nftp_dt_ct_dir,
		[TYPE_CT_STATUS] = &nftp_dt_ct_status, [TYPE_ICMP6_TYPE] = &nftp_dt_icmp6_type,
		[TYPE_CT_LABEL] = &nftp_dt_ct_label, [TYPE_PKTTYPE] = &nftp_dt_pkttype,
		[TYPE_ICMP_CODE] = &nftp_dt_icmp_code, [TYPE_ICMPV6_CODE] = &nftp_dt_icmpv6_code,
		[TYPE_ICMPX_CODE] = &nftp_dt_icmpx_code, [TYPE_DEVGROUP] = &nftp_dt_devgroup,
		[TYPE_DSCP] = &nftp_dt_dscp, [TYPE_ECN] = &nftp_dt_ecn, [TYPE_BOOLEAN] = &nftp_dt_boolean,
		[TYPE_CT_EVENTBIT] = &nftp_dt_ct_event, [TYPE_IFNAME] = &nftp_dt_ifname,
		[TYPE_IGMP_TYPE] = &nftp_dt_igmp_type, [TYPE_TIME_DATE] = &nftp_dt_date,
		[TYPE_TIME_HOUR] = &nftp_dt_hour, [TYPE_TIME_DAY] = &nftp_dt_day,
		[TYPE_FIB_ADDR] = &nftp_dt_fib_addr,
	};

	if (type == NFT_DATA_VERDICT)
		return &nftp_dt_verdict;
	return type < TYPE_MAX && types[type] ? types[type] : &nftp_dt_integer;
}
