/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Step 1 for the expressions the model keeps by name with their kernel
 * attributes (struct cg_expr.unknown): exthdr (TCP options, IPv6 extension
 * headers, IP options), rt, socket, osf, numgen, hash, xfrm read as register
 * loads nft prints by name (N_TEXT); connlimit, objref, quota, dynset,
 * tproxy, synproxy, dup, fwd, queue, flow_offload and secmark as statements
 * (S_TEXT), the words nft's *_print() functions write. */
#include "config.h"

#include <endian.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_synproxy.h>
#include <linux/netfilter/nf_tables.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nft-internal.h"
/* after: <linux/netdevice.h>, which libmnl.h includes, defines a MAX_LINKS too */
#undef MAX_LINKS
#include <libmnl/libmnl.h>

#define MAX_ATTR 16

/* ==== attributes ============================================================== */

struct attrs {
	const struct nlattr *tb[MAX_ATTR + 1];
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *at = data;
	unsigned type = mnl_attr_get_type(a);

	if (type <= MAX_ATTR)
		at->tb[type] = a;
	return MNL_CB_OK;
}

static bool attrs_parse(const struct cg_expr *e, struct attrs *at)
{
	memset(at, 0, sizeof(*at));
	if (!e->unknown.attrs || !e->unknown.attrs_len)
		return false;
	return mnl_attr_parse_payload(e->unknown.attrs, e->unknown.attrs_len, attr_cb, at) >= 0;
}

static bool has(const struct attrs *at, unsigned type, size_t len)
{
	return at->tb[type] && mnl_attr_get_payload_len(at->tb[type]) >= len;
}

static uint32_t u32(const struct attrs *at, unsigned type)
{
	return has(at, type, 4) ? be32toh(mnl_attr_get_u32(at->tb[type])) : 0;
}

static uint64_t u64(const struct attrs *at, unsigned type)
{
	return has(at, type, 8) ? be64toh(mnl_attr_get_u64(at->tb[type])) : 0;
}

static uint16_t u16(const struct attrs *at, unsigned type)
{
	return has(at, type, 2) ? be16toh(mnl_attr_get_u16(at->tb[type])) : 0;
}

static uint8_t u8(const struct attrs *at, unsigned type)
{
	return has(at, type, 1) ? mnl_attr_get_u8(at->tb[type]) : 0;
}

/* a NUL-terminated string attribute, NULL if none */
static const char *str(const struct attrs *at, unsigned type)
{
	const struct nlattr *a = at->tb[type];

	if (!a || mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
		return NULL;
	return mnl_attr_get_str(a);
}

static const char *fmt(struct ctx *c, const char *f, ...) _printf_(2, 3);
static const char *fmt(struct ctx *c, const char *f, ...)
{
	va_list ap;
	char *buf;
	int n;

	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	buf = arena_alloc(c->a, (size_t)(n < 0 ? 0 : n) + 1);
	va_start(ap, f);
	vsnprintf(buf, (size_t)(n < 0 ? 0 : n) + 1, f, ap);
	va_end(ap);
	return buf;
}

static struct node *text_node(struct parse *p, const char *what, const struct dtype *dt,
			      enum byteorder bo, unsigned len)
{
	struct node *n = nftp_node_new(p->c, N_TEXT, dt, bo, len);

	n->what = what;
	return n;
}

static struct stmt *text_stmt(struct parse *p, const char *what)
{
	struct stmt *s = nftp_stmt_new(p->c, S_TEXT);

	s->what = what;
	return s;
}

static struct node *reg_typed(struct parse *p, uint32_t reg, const struct dtype *dt, enum byteorder bo)
{
	struct node *n = nftp_reg_get(p, reg);

	nftp_node_set_type(n, dt, bo);
	return n;
}

/* ==== exthdr ================================================================== */

struct field {
	const char *token;
	const struct dtype *dtype;
	unsigned offset, len;           /* bits */
};

struct hdr {
	const char *name;
	unsigned type;                  /* option kind / next header number */
	struct field fields[10];
};

#define I (&nftp_dt_integer)
#define KL { "kind", I, 0, 8 }, { "length", I, 8, 8 }

/* tcpopt.c: the options, their fields (sack blocks 1-3 print as sackN) */
static const struct hdr tcp_opts[] = {
	{ "eol", 0, { { "kind", I, 0, 8 } } },
	{ "nop", 1, { { "kind", I, 0, 8 } } },
	{ "maxseg", 2, { KL, { "size", I, 16, 16 } } },
	{ "window", 3, { KL, { "count", I, 16, 8 } } },
	{ "sack-perm", 4, { KL } },
	{ "sack", 5, { KL, { "left", I, 16, 32 }, { "right", I, 48, 32 } } },
	{ "sack1", 5, { { "left", I, 80, 32 }, { "right", I, 112, 32 } } },
	{ "sack2", 5, { { "left", I, 144, 32 }, { "right", I, 176, 32 } } },
	{ "sack3", 5, { { "left", I, 208, 32 }, { "right", I, 240, 32 } } },
	{ "timestamp", 8, { KL, { "tsval", I, 16, 32 }, { "tsecr", I, 48, 32 } } },
	{ "md5sig", 19, { KL } },
	{ "mptcp", 30, { KL, { "subtype", I, 16, 4 } } },
	{ "fastopen", 34, { KL } },
};

#define NH { "nexthdr", &nftp_dt_inet_protocol, 0, 8 }, { "hdrlength", I, 8, 8 }

/* exthdr.c: IPv6 extension headers */
static const struct hdr ip6_hdrs[] = {
	{ "hbh", 0, { NH } },
	{ "rt", 43, { NH, { "type", I, 16, 8 }, { "seg-left", I, 24, 8 } } },
	{ "rt0", 43, { { "reserved", I, 32, 32 }, { "addr[1]", &nftp_dt_ip6addr, 64, 128 },
		       { "addr[2]", &nftp_dt_ip6addr, 192, 128 } } },
	{ "rt2", 43, { { "reserved", I, 32, 32 }, { "addr", &nftp_dt_ip6addr, 64, 128 } } },
	{ "srh", 43, { { "last-entry", I, 32, 8 }, { "flags", I, 40, 8 }, { "tag", I, 48, 16 },
		       { "sid[1]", &nftp_dt_ip6addr, 64, 128 }, { "sid[2]", &nftp_dt_ip6addr, 192, 128 } } },
	{ "frag", 44, { { "nexthdr", &nftp_dt_inet_protocol, 0, 8 }, { "reserved", I, 8, 8 },
			{ "frag-off", I, 16, 13 }, { "reserved2", I, 29, 2 },
			{ "more-fragments", I, 31, 1 }, { "id", I, 32, 32 } } },
	{ "dst", 60, { NH } },
	{ "mh", 135, { NH, { "type", &nftp_dt_mh_type, 16, 8 }, { "reserved", I, 24, 8 },
		       { "checksum", I, 32, 16 } } },
};

#define IPOPT_ADDR { "type", I, 0, 8 }, { "length", I, 8, 8 }, { "ptr", I, 16, 8 }, { "addr", &nftp_dt_ipaddr, 24, 32 }

/* ipopt.c */
static const struct hdr ip_opts[] = {
	{ "lsrr", 131, { IPOPT_ADDR } },
	{ "rr", 7, { IPOPT_ADDR } },
	{ "ssrr", 137, { IPOPT_ADDR } },
	{ "ra", 148, { { "type", I, 0, 8 }, { "length", I, 8, 8 }, { "value", I, 16, 16 } } },
};

#define TFL { "type", I, 0, 8 }, { "flags", I, 8, 8 }, { "length", I, 16, 16 }
#define INIT { "init-tag", I, 32, 32 }, { "a-rwnd", I, 64, 32 }, { "num-outbound-streams", I, 96, 16 }, \
	{ "num-inbound-streams", I, 112, 16 }, { "initial-tsn", I, 128, 32 }

/* sctp_chunk.c: the chunk types, their common and own fields */
static const struct hdr sctp_chunks[] = {
	{ "data", 0, { TFL, { "tsn", I, 32, 32 }, { "stream", I, 64, 16 }, { "ssn", I, 80, 16 },
		       { "ppid", I, 96, 32 } } },
	{ "init", 1, { TFL, INIT } },
	{ "init-ack", 2, { TFL, INIT } },
	{ "sack", 3, { TFL, { "cum-tsn-ack", I, 32, 32 }, { "a-rwnd", I, 64, 32 },
		       { "num-gap-ack-blocks", I, 96, 16 }, { "num-dup-tsns", I, 112, 16 } } },
	{ "heartbeat", 4, { TFL } },
	{ "heartbeat-ack", 5, { TFL } },
	{ "abort", 6, { TFL } },
	{ "shutdown", 7, { TFL, { "cum-tsn-ack", I, 32, 32 } } },
	{ "shutdown-ack", 8, { TFL } },
	{ "error", 9, { TFL } },
	{ "cookie-echo", 10, { TFL } },
	{ "cookie-ack", 11, { TFL } },
	{ "ecne", 12, { TFL, { "lowest-tsn", I, 32, 32 } } },
	{ "cwr", 13, { TFL, { "lowest-tsn", I, 32, 32 } } },
	{ "shutdown-complete", 14, { TFL } },
	{ "asconf-ack", 128, { TFL, { "seqno", I, 32, 32 } } },
	{ "forward-tsn", 192, { TFL, { "new-cum-tsn", I, 32, 32 } } },
	{ "asconf", 193, { TFL, { "seqno", I, 32, 32 } } },
};

#undef I
#undef KL
#undef NH
#undef IPOPT_ADDR
#undef TFL
#undef INIT

struct hdr_set {
	const struct hdr *hdrs;
	size_t n;
	const char *prefix;             /* "tcp option", "ip option", "" */
	enum base base;                 /* the header whose protocol match it makes redundant */
};

static const struct hdr_set *hdr_set(uint32_t op)
{
	static const struct hdr_set sets[] = {
		[NFT_EXTHDR_OP_IPV6] = { ip6_hdrs, ARRAY_SIZE(ip6_hdrs), "", BASE_NH },
		[NFT_EXTHDR_OP_TCPOPT] = { tcp_opts, ARRAY_SIZE(tcp_opts), "tcp option", BASE_TH },
		[NFT_EXTHDR_OP_IPV4] = { ip_opts, ARRAY_SIZE(ip_opts), "ip option", BASE_NH },
		/* nft keeps a protocol match before a chunk */
		[NFT_EXTHDR_OP_SCTP] = { sctp_chunks, ARRAY_SIZE(sctp_chunks), "sctp chunk", BASE_INVALID },
	};

	if (op >= ARRAY_SIZE(sets) || !sets[op].hdrs)
		return NULL;
	return &sets[op];
}

/* the first header of type whose field is at offset, len bits */
static bool field_find(const struct hdr_set *hs, unsigned type, unsigned offset, unsigned len,
		       const struct hdr **hp, const struct field **fp)
{
	*hp = NULL;
	/* the last header defining such a field names it, as nft's lookup does
	 * ("srh sid[1]" where rt0 and rt2 have addresses there too) */
	for (size_t i = hs->n; i-- > 0;) {
		const struct hdr *h = &hs->hdrs[i];

		if (h->type != type)
			continue;
		if (!*hp)
			*hp = h;
		for (size_t j = 0; j < ARRAY_SIZE(h->fields) && h->fields[j].token; j++) {
			if (h->fields[j].offset == offset && h->fields[j].len == len) {
				*hp = h;
				*fp = &h->fields[j];
				return true;
			}
		}
	}
	return false;
}

/* what nft calls the header of type: its name, or the number */
static const char *hdr_name(struct ctx *c, const struct hdr_set *hs, unsigned type)
{
	for (size_t i = 0; i < hs->n; i++)
		if (hs->hdrs[i].type == type)
			return hs->hdrs[i].name;
	return fmt(c, "%u", type);
}

/* exthdr_expr_print() for a field: "tcp option maxseg size", "frag id",
 * "ip option ra value" */
static const char *field_text(struct ctx *c, const struct hdr_set *hs, const struct hdr *h,
			      const struct field *f)
{
	if (*hs->prefix)
		return fmt(c, "%s %s %s", hs->prefix, h->name, f->token);
	return fmt(c, "%s %s", h->name, f->token);
}

/* the load as nft would name it: a field, the header's presence, or raw */
static struct node *exthdr_node(struct parse *p, const struct hdr_set *hs, unsigned type, unsigned offset,
				unsigned len, uint32_t flags)
{
	const struct hdr *h;
	const struct field *f = NULL;
	struct node *n;

	if (flags & NFT_EXTHDR_F_PRESENT) {
		const char *name = hdr_name(p->c, hs, type);

		n = text_node(p, *hs->prefix ? fmt(p->c, "%s %s", hs->prefix, name) : fmt(p->c, "exthdr %s", name),
			      &nftp_dt_boolean, BO_HOST, len);
		n->kbase = hs->base;
		return n;
	}
	if (field_find(hs, type, offset, len, &h, &f)) {
		n = text_node(p, field_text(p->c, hs, h, f), f->dtype, BO_BIG, len);
		n->kbase = hs->base;
		return n;
	}
	if (*hs->prefix)
		n = text_node(p, fmt(p->c, "%s @%u,%u,%u", hs->prefix, type, offset, len), &nftp_dt_integer, BO_BIG,
			      len);
	else
		n = text_node(p, fmt(p->c, "exthdr @%u,%u,%u", type, offset, len), &nftp_dt_integer, BO_BIG, len);
	/* a mask may select a field within it (nftp_extra_trim) */
	n->kbase = hs->base;
	n->fields = hs;
	n->key = type;
	n->prefix_len = offset;
	return n;
}

struct node *nftp_extra_trim(struct ctx *c, const struct node *load, const struct node *mask)
{
	const struct hdr_set *hs = load->fields;
	const struct hdr *h;
	const struct field *f;
	unsigned lo, hi, len = load->len;
	struct node *n;

	if (mask->len != len || nftp_num_is_zero(mask->value))
		return NULL;
	lo = nftp_num_scan1(mask->value, 0);
	hi = nftp_num_scan0(mask->value, lo);
	if (hi > len || (hi < len && nftp_num_scan1(mask->value, hi) < len))
		return NULL;    /* not one run of bits */
	/* bit 0 of the number is the load's last bit */
	if (!field_find(hs, load->key, load->prefix_len + (len - hi), hi - lo, &h, &f))
		return NULL;
	n = nftp_node_new(c, N_TEXT, f->dtype, BO_BIG, hi - lo);
	n->what = field_text(c, hs, h, f);
	n->fields = hs;
	n->kbase = hs->base;
	n->shift = lo;
	return n;
}

static bool parse_exthdr(struct parse *p, const struct attrs *at)
{
	uint32_t op = has(at, NFTA_EXTHDR_OP, 4) ? u32(at, NFTA_EXTHDR_OP) : NFT_EXTHDR_OP_IPV6;
	const struct hdr_set *hs = hdr_set(op);
	unsigned type = u8(at, NFTA_EXTHDR_TYPE), offset = u32(at, NFTA_EXTHDR_OFFSET) * 8,
		 len = u32(at, NFTA_EXTHDR_LEN) * 8;
	uint32_t flags = u32(at, NFTA_EXTHDR_FLAGS);
	struct node *n;
	struct stmt *s;

	if (!hs || !at->tb[NFTA_EXTHDR_TYPE])
		return false;
	if (at->tb[NFTA_EXTHDR_DREG]) {
		n = exthdr_node(p, hs, type, offset, len, flags);
		nftp_reg_set(p, u32(at, NFTA_EXTHDR_DREG), n);
		return true;
	}
	n = exthdr_node(p, hs, type, offset, len, flags);
	if (at->tb[NFTA_EXTHDR_SREG]) {
		/* exthdr_stmt_print(): "tcp option maxseg size set 1360" */
		s = text_stmt(p, fmt(p->c, "%s set ", n->what));
		s->args[0] = reg_typed(p, u32(at, NFTA_EXTHDR_SREG), n->dtype, BO_BIG);
	} else {
		/* neither: the option is reset (NOPs written over it) */
		s = text_stmt(p, fmt(p->c, "reset %s %s", hs->prefix, hdr_name(p->c, hs, type)));
	}
	nftp_emit(p, s);
	return true;
}

/* ==== other loads ============================================================= */

static bool parse_rt(struct parse *p, const struct attrs *at)
{
	static const struct {
		const char *text;
		const struct dtype *dt;
		unsigned len;
		enum byteorder bo;
	} keys[] = {
		[NFT_RT_CLASSID] = { "rt classid", &nftp_dt_realm, 32, BO_HOST },
		[NFT_RT_NEXTHOP4] = { "rt ip nexthop", &nftp_dt_ipaddr, 32, BO_BIG },
		[NFT_RT_NEXTHOP6] = { "rt ip6 nexthop", &nftp_dt_ip6addr, 128, BO_BIG },
		[NFT_RT_TCPMSS] = { "rt mtu", &nftp_dt_integer, 16, BO_HOST },
		[NFT_RT_XFRM] = { "rt ipsec", &nftp_dt_boolean, 8, BO_HOST },
	};
	uint32_t key = u32(at, NFTA_RT_KEY);

	if (!at->tb[NFTA_RT_DREG] || !at->tb[NFTA_RT_KEY] || key >= ARRAY_SIZE(keys))
		return false;
	nftp_reg_set(p, u32(at, NFTA_RT_DREG),
		     text_node(p, keys[key].text, keys[key].dt, keys[key].bo, keys[key].len));
	return true;
}

static const struct dtype dt_cgroupv2 = {
	.type = TYPE_CGROUPV2, .byteorder = BO_HOST, .size = 64, .basetype = &nftp_dt_integer,
};

static bool parse_socket(struct parse *p, const struct attrs *at)
{
	uint32_t key = u32(at, NFTA_SOCKET_KEY);
	const char *text;
	const struct dtype *dt = &nftp_dt_integer;
	unsigned len = 8;

	if (!at->tb[NFTA_SOCKET_DREG] || !at->tb[NFTA_SOCKET_KEY])
		return false;
	switch (key) {
	case NFT_SOCKET_TRANSPARENT: text = "socket transparent"; break;
	case NFT_SOCKET_WILDCARD: text = "socket wildcard"; break;
	case NFT_SOCKET_MARK: text = "socket mark"; dt = &nftp_dt_mark; len = 32; break;
	case NFT_SOCKET_CGROUPV2:
		text = fmt(p->c, "socket cgroupv2 level %u", u32(at, NFTA_SOCKET_LEVEL));
		dt = &dt_cgroupv2;
		len = 64;
		break;
	default: return false;
	}
	nftp_reg_set(p, u32(at, NFTA_SOCKET_DREG), text_node(p, text, dt, BO_HOST, len));
	return true;
}

static bool parse_osf(struct parse *p, const struct attrs *at)
{
	static const char *const ttls[] = { "", "ttl loose ", "ttl skip " };
	uint8_t ttl = u8(at, NFTA_OSF_TTL);
	bool version = u32(at, NFTA_OSF_FLAGS) & NFT_OSF_F_VERSION;

	if (!at->tb[NFTA_OSF_DREG])
		return false;
	nftp_reg_set(p, u32(at, NFTA_OSF_DREG),
		     text_node(p, fmt(p->c, "osf %s%s", ttl < ARRAY_SIZE(ttls) ? ttls[ttl] : "",
				      version ? "version" : "name"),
			       &nftp_dt_string, BO_HOST, NFT_OSF_MAXGENRELEN * 8));
	return true;
}

static bool parse_numgen(struct parse *p, const struct attrs *at)
{
	uint32_t type = u32(at, NFTA_NG_TYPE), offset = u32(at, NFTA_NG_OFFSET);
	const char *text;

	if (!at->tb[NFTA_NG_DREG] || type > NFT_NG_RANDOM)
		return false;
	text = fmt(p->c, "numgen %s mod %u", type == NFT_NG_INCREMENTAL ? "inc" : "random",
		   u32(at, NFTA_NG_MODULUS));
	if (offset)
		text = fmt(p->c, "%s offset %u", text, offset);
	nftp_reg_set(p, u32(at, NFTA_NG_DREG), text_node(p, text, &nftp_dt_integer, BO_HOST, 32));
	return true;
}

static bool parse_hash(struct parse *p, const struct attrs *at)
{
	uint32_t type = has(at, NFTA_HASH_TYPE, 4) ? u32(at, NFTA_HASH_TYPE) : NFT_HASH_JENKINS;
	uint32_t seed = u32(at, NFTA_HASH_SEED), offset = u32(at, NFTA_HASH_OFFSET);
	const char *suffix;
	struct node *n;

	if (!at->tb[NFTA_HASH_DREG])
		return false;
	suffix = fmt(p->c, " mod %u", u32(at, NFTA_HASH_MODULUS));
	if (type == NFT_HASH_JENKINS) {
		if (!at->tb[NFTA_HASH_SREG])
			return false;
		/* the kernel dumps the seed only when one was given */
		if (at->tb[NFTA_HASH_SEED])
			suffix = fmt(p->c, "%s seed 0x%x", suffix, seed);
	} else if (type != NFT_HASH_SYM) {
		return false;
	}
	if (offset)
		suffix = fmt(p->c, "%s offset %u", suffix, offset);
	n = text_node(p, type == NFT_HASH_SYM ? "symhash" : "jhash", &nftp_dt_integer, BO_HOST, 32);
	n->suffix = suffix;
	if (type == NFT_HASH_JENKINS) {
		n->left = nftp_reg_get_len(p, u32(at, NFTA_HASH_SREG), u32(at, NFTA_HASH_LEN) * 8);
		if (!n->left)
			return false;
	}
	nftp_reg_set(p, u32(at, NFTA_HASH_DREG), n);
	return true;
}

static bool parse_xfrm(struct parse *p, const struct attrs *at)
{
	static const struct {
		const char *text;
		const struct dtype *dt;
		unsigned len;
		enum byteorder bo;
	} keys[] = {
		[NFT_XFRM_KEY_DADDR_IP4] = { "ip daddr", &nftp_dt_ipaddr, 32, BO_BIG },
		[NFT_XFRM_KEY_DADDR_IP6] = { "ip6 daddr", &nftp_dt_ip6addr, 128, BO_BIG },
		[NFT_XFRM_KEY_SADDR_IP4] = { "ip saddr", &nftp_dt_ipaddr, 32, BO_BIG },
		[NFT_XFRM_KEY_SADDR_IP6] = { "ip6 saddr", &nftp_dt_ip6addr, 128, BO_BIG },
		[NFT_XFRM_KEY_REQID] = { "reqid", &nftp_dt_integer, 32, BO_HOST },
		[NFT_XFRM_KEY_SPI] = { "spi", &nftp_dt_integer, 32, BO_BIG },
	};
	uint32_t key = u32(at, NFTA_XFRM_KEY), spnum = u32(at, NFTA_XFRM_SPNUM);
	const char *text;

	if (!at->tb[NFTA_XFRM_DREG] || key >= ARRAY_SIZE(keys) || !keys[key].text)
		return false;
	/* XFRM_POLICY_IN 0, XFRM_POLICY_OUT 1 */
	text = fmt(p->c, "ipsec %s", u8(at, NFTA_XFRM_DIR) ? "out" : "in");
	if (spnum)
		text = fmt(p->c, "%s spnum %u", text, spnum);
	text = fmt(p->c, "%s %s", text, keys[key].text);
	nftp_reg_set(p, u32(at, NFTA_XFRM_DREG), text_node(p, text, keys[key].dt, keys[key].bo, keys[key].len));
	return true;
}

/* ==== statements ============================================================== */

/* get_rate(): the largest of bytes, kbytes, mbytes that divides exactly */
static const char *bytes_text(struct ctx *c, uint64_t bytes)
{
	static const char *const units[] = { "bytes", "kbytes", "mbytes" };
	unsigned i = 0;

	if (bytes)
		for (; i + 1 < ARRAY_SIZE(units) && bytes % 1024 == 0; i++)
			bytes /= 1024;
	return fmt(c, "%llu %s", (unsigned long long)bytes, units[i]);
}

static const char *quota_text(struct ctx *c, const struct attrs *at)
{
	uint64_t used = u64(at, NFTA_QUOTA_CONSUMED);
	const char *t = fmt(c, "quota %s%s", u32(at, NFTA_QUOTA_FLAGS) & NFT_QUOTA_F_INV ? "over " : "",
			    bytes_text(c, u64(at, NFTA_QUOTA_BYTES)));

	if (used)
		t = fmt(c, "%s used %s", t, bytes_text(c, used));
	return t;
}

static const char *time_unit_word(uint64_t u)
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

static const char *limit_text(struct ctx *c, const struct attrs *at)
{
	uint64_t rate = u64(at, NFTA_LIMIT_RATE), unit = u64(at, NFTA_LIMIT_UNIT);
	uint32_t burst = u32(at, NFTA_LIMIT_BURST);
	const char *over = u32(at, NFTA_LIMIT_FLAGS) & NFT_LIMIT_F_INV ? "over " : "";
	const char *t;

	if (u32(at, NFTA_LIMIT_TYPE) == NFT_LIMIT_PKT_BYTES) {
		t = fmt(c, "limit rate %s%s/%s", over, bytes_text(c, rate), time_unit_word(unit));
		if (burst)
			t = fmt(c, "%s burst %s", t, bytes_text(c, burst));
		return t;
	}
	t = fmt(c, "limit rate %s%llu/%s", over, (unsigned long long)rate, time_unit_word(unit));
	if (burst && burst != 5)
		t = fmt(c, "%s burst %u packets", t, burst);
	return t;
}

static const char *connlimit_text(struct ctx *c, const struct attrs *at)
{
	return fmt(c, "ct count %s%u", u32(at, NFTA_CONNLIMIT_FLAGS) & NFT_CONNLIMIT_F_INV ? "over " : "",
		   u32(at, NFTA_CONNLIMIT_COUNT));
}

static bool parse_quota(struct parse *p, const struct attrs *at)
{
	if (!at->tb[NFTA_QUOTA_BYTES])
		return false;
	nftp_emit(p, text_stmt(p, quota_text(p->c, at)));
	return true;
}

static bool parse_connlimit(struct parse *p, const struct attrs *at)
{
	if (!at->tb[NFTA_CONNLIMIT_COUNT])
		return false;
	nftp_emit(p, text_stmt(p, connlimit_text(p->c, at)));
	return true;
}

/* objref_stmt_print() */
static bool parse_objref(struct parse *p, const struct attrs *at)
{
	static const char *const words[] = {
		[NFT_OBJECT_COUNTER] = "counter name", [NFT_OBJECT_QUOTA] = "quota name",
		[NFT_OBJECT_CT_HELPER] = "ct helper set", [NFT_OBJECT_LIMIT] = "limit name",
		[NFT_OBJECT_CONNLIMIT] = "ct count name", [NFT_OBJECT_TUNNEL] = "tunnel name",
		[NFT_OBJECT_CT_TIMEOUT] = "ct timeout set", [NFT_OBJECT_SECMARK] = "meta secmark set",
		[NFT_OBJECT_CT_EXPECT] = "ct expectation set", [NFT_OBJECT_SYNPROXY] = "synproxy name",
	};
	uint32_t type = u32(at, NFTA_OBJREF_IMM_TYPE);
	const char *name = str(at, NFTA_OBJREF_IMM_NAME), *set = str(at, NFTA_OBJREF_SET_NAME);
	struct stmt *s;

	if (name) {
		if (type >= ARRAY_SIZE(words) || !words[type])
			return false;
		nftp_emit(p, text_stmt(p, fmt(p->c, "%s \"%s\"", words[type], name)));
		return true;
	}
	/* "counter name ip saddr map @m": the map's object type names the
	 * statement; an anonymous map ("map { 1.1.1.1 : \"c1\" }") prints its
	 * elements, when the model has every element's object */
	{
		const struct cg_set *m = p->c->table && set ? set_find(p->c->table, set) : NULL;
		struct node *key, *map;

		if (!m || !at->tb[NFTA_OBJREF_SET_SREG] || m->obj_type >= ARRAY_SIZE(words) || !words[m->obj_type])
			return false;
		s = text_stmt(p, fmt(p->c, "%s ", words[m->obj_type]));
		if (!(m->flags & CG_SET_ANONYMOUS)) {
			s->args[0] = nftp_reg_get(p, u32(at, NFTA_OBJREF_SET_SREG));
			s->texts[0] = fmt(p->c, " map @%s", set);
			nftp_emit(p, s);
			return true;
		}
		if (m->flags & CG_SET_LAZY)
			return false;
		for (uint32_t i = 0; i < m->n_elems; i++)
			if (!m->elems[i].obj && !m->elems[i].interval_end &&
			    (m->elems[i].key.len || m->elems[i].catchall))
				return false;
		key = nftp_reg_get_len(p, u32(at, NFTA_OBJREF_SET_SREG), m->key_len * 8);
		if (!key)
			return false;
		map = nftp_node_new(p->c, N_MAP, &nftp_dt_invalid, BO_INVALID, 0);
		map->left = key;
		map->right = nftp_set_ref_new(p->c, m, key);
		s->args[0] = map;
		nftp_emit(p, s);
		return true;
	}
}

/* a nested expression of a dynset, as the statement nft prints for it */
static const char *nested_text(struct ctx *c, const struct nlattr *elem)
{
	const struct nlattr *a;
	const char *name = NULL;
	struct cg_expr e = { .type = CG_EXPR_UNKNOWN };
	struct attrs at;

	mnl_attr_for_each_nested(a, elem) {
		if (mnl_attr_get_type(a) == NFTA_EXPR_NAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			name = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == NFTA_EXPR_DATA) {
			e.unknown.attrs = mnl_attr_get_payload(a);
			e.unknown.attrs_len = mnl_attr_get_payload_len(a);
		}
	}
	if (!name)
		return NULL;
	if (!strcmp(name, "counter"))
		return "counter";
	attrs_parse(&e, &at);
	if (!strcmp(name, "limit"))
		return limit_text(c, &at);
	if (!strcmp(name, "quota"))
		return quota_text(c, &at);
	if (!strcmp(name, "connlimit"))
		return connlimit_text(c, &at);
	if (!strcmp(name, "last"))
		return u32(&at, NFTA_LAST_SET) ? "last used" : "last used never";
	return fmt(c, "/* unsupported: %s */", name);
}

static const struct cg_set *table_set(const struct ctx *c, const char *name)
{
	return c->table ? set_find(c->table, name) : NULL;
}

/* set_stmt_print(), map_stmt_print(), meter_stmt_print() */
static bool parse_dynset(struct parse *p, const struct attrs *at)
{
	static const char *const ops[] = { [NFT_DYNSET_OP_ADD] = "add", [NFT_DYNSET_OP_UPDATE] = "update",
					   [NFT_DYNSET_OP_DELETE] = "delete" };
	const char *name = str(at, NFTA_DYNSET_SET_NAME), *after = "", *stmts;
	uint32_t op = u32(at, NFTA_DYNSET_OP);
	uint64_t timeout = u64(at, NFTA_DYNSET_TIMEOUT);
	const struct cg_set *set = table_set(p->c, name);
	struct node *key, *data = NULL;
	struct stmt *s;

	if (!name || op >= ARRAY_SIZE(ops) || !at->tb[NFTA_DYNSET_SREG_KEY])
		return false;
	key = nftp_reg_get_len(p, u32(at, NFTA_DYNSET_SREG_KEY), set ? set->key_len * 8 : 0);
	if (!key)
		return false;
	if (at->tb[NFTA_DYNSET_SREG_DATA]) {
		data = nftp_reg_get_len(p, u32(at, NFTA_DYNSET_SREG_DATA), set ? set->data_len * 8 : 0);
		if (!data)
			return false;
		if (set && !(set->data_type & ~TYPE_MASK) && set->data_type != NFT_DATA_VERDICT) {
			const struct dtype *dt = nftp_dtype_by_id(set->data_type);

			nftp_node_set_type(data, dt, dt->byteorder);
		}
	}
	if (timeout) {
		/* time_print(): 1d2h3m4s5ms */
		static const struct { uint64_t ms; const char *u; } parts[] = {
			{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" },
		};
		const char *t = " timeout ";

		for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
			if (timeout / parts[i].ms)
				t = fmt(p->c, "%s%llu%s", t, (unsigned long long)(timeout / parts[i].ms), parts[i].u);
			timeout %= parts[i].ms;
		}
		after = t;
	}
	stmts = "";
	if (at->tb[NFTA_DYNSET_EXPR])
		stmts = fmt(p->c, "%s %s", stmts, nested_text(p->c, at->tb[NFTA_DYNSET_EXPR]));
	if (at->tb[NFTA_DYNSET_EXPRESSIONS]) {
		const struct nlattr *elem;

		mnl_attr_for_each_nested(elem, at->tb[NFTA_DYNSET_EXPRESSIONS])
			stmts = fmt(p->c, "%s %s", stmts, nested_text(p->c, elem));
	}
	if (set && (set->flags & CG_SET_ANONYMOUS) && *stmts)
		/* meter_stmt_print(): a set the statement made for itself */
		s = text_stmt(p, fmt(p->c, "meter %s size %u { ", name, set->size));
	else
		s = text_stmt(p, fmt(p->c, "%s @%s { ", ops[op], name));
	s->args[0] = key;
	/* the element's timeout, then its data, then its statements */
	if (data) {
		s->texts[0] = fmt(p->c, "%s : ", after);
		s->args[1] = data;
		s->texts[1] = fmt(p->c, "%s }", stmts);
	} else {
		s->texts[0] = fmt(p->c, "%s%s }", after, stmts);
	}
	nftp_emit(p, s);
	return true;
}

static bool parse_tproxy(struct parse *p, const struct attrs *at)
{
	uint32_t family = u32(at, NFTA_TPROXY_FAMILY);
	const struct dtype *adt = family == NFPROTO_IPV6 ? &nftp_dt_ip6addr : &nftp_dt_ipaddr;
	struct stmt *s;

	s = text_stmt(p, fmt(p->c, "tproxy%s to", p->c->family == NFPROTO_INET && family == NFPROTO_IPV4 ? " ip" :
				   p->c->family == NFPROTO_INET && family == NFPROTO_IPV6 ? " ip6" : ""));
	if (at->tb[NFTA_TPROXY_REG_ADDR]) {
		s->texts[0] = family == NFPROTO_IPV6 ? " [" : " ";
		s->args[1] = reg_typed(p, u32(at, NFTA_TPROXY_REG_ADDR), adt, BO_BIG);
		s->texts[1] = family == NFPROTO_IPV6 ? "]" : "";
	}
	if (at->tb[NFTA_TPROXY_REG_PORT]) {
		s->texts[1] = fmt(p->c, "%s%s:", s->texts[1] ? s->texts[1] : "", s->args[1] ? "" : " ");
		s->args[2] = reg_typed(p, u32(at, NFTA_TPROXY_REG_PORT), &nftp_dt_inet_service, BO_BIG);
	}
	nftp_emit(p, s);
	return true;
}

static bool parse_synproxy(struct parse *p, const struct attrs *at)
{
	uint32_t f = u32(at, NFTA_SYNPROXY_FLAGS);
	const char *t = "synproxy";

	/* nft lists both when either was given */
	if (f & (NF_SYNPROXY_OPT_MSS | NF_SYNPROXY_OPT_WSCALE))
		t = fmt(p->c, "%s mss %u wscale %u", t, u16(at, NFTA_SYNPROXY_MSS), u8(at, NFTA_SYNPROXY_WSCALE));
	if (f & NF_SYNPROXY_OPT_TIMESTAMP)
		t = fmt(p->c, "%s timestamp", t);
	if (f & NF_SYNPROXY_OPT_SACK_PERM)
		t = fmt(p->c, "%s sack-perm", t);
	nftp_emit(p, text_stmt(p, t));
	return true;
}

static const struct dtype *family_addr(uint8_t family)
{
	return family == NFPROTO_IPV6 ? &nftp_dt_ip6addr : &nftp_dt_ipaddr;
}

static bool parse_dup(struct parse *p, const struct attrs *at)
{
	struct stmt *s = text_stmt(p, "dup");

	if (at->tb[NFTA_DUP_SREG_ADDR]) {
		s->texts[0] = " to ";
		s->args[1] = reg_typed(p, u32(at, NFTA_DUP_SREG_ADDR), family_addr(p->c->family), BO_BIG);
		if (at->tb[NFTA_DUP_SREG_DEV]) {
			s->texts[1] = " device ";
			s->args[2] = reg_typed(p, u32(at, NFTA_DUP_SREG_DEV), &nftp_dt_ifindex, BO_HOST);
		}
	} else if (at->tb[NFTA_DUP_SREG_DEV]) {
		s->texts[0] = " to ";
		s->args[1] = reg_typed(p, u32(at, NFTA_DUP_SREG_DEV), &nftp_dt_ifindex, BO_HOST);
	}
	nftp_emit(p, s);
	return true;
}

static bool parse_fwd(struct parse *p, const struct attrs *at)
{
	uint32_t family = u32(at, NFTA_FWD_NFPROTO);
	struct stmt *s;

	if (!at->tb[NFTA_FWD_SREG_DEV])
		return false;
	if (at->tb[NFTA_FWD_SREG_ADDR]) {
		s = text_stmt(p, family == NFPROTO_IPV6 ? "fwd ip6 to " : "fwd ip to ");
		s->args[0] = reg_typed(p, u32(at, NFTA_FWD_SREG_ADDR), family_addr((uint8_t)family), BO_BIG);
		s->texts[0] = " device ";
		s->args[1] = reg_typed(p, u32(at, NFTA_FWD_SREG_DEV), &nftp_dt_ifindex, BO_HOST);
	} else {
		s = text_stmt(p, "fwd to ");
		s->args[0] = reg_typed(p, u32(at, NFTA_FWD_SREG_DEV), &nftp_dt_ifindex, BO_HOST);
	}
	nftp_emit(p, s);
	return true;
}

/* queue_stmt_print() */
static bool parse_queue(struct parse *p, const struct attrs *at)
{
	uint16_t num = u16(at, NFTA_QUEUE_NUM), total = u16(at, NFTA_QUEUE_TOTAL),
		 flags = u16(at, NFTA_QUEUE_FLAGS);
	const char *t = "queue";
	struct stmt *s;

	if (flags & (NFT_QUEUE_FLAG_BYPASS | NFT_QUEUE_FLAG_CPU_FANOUT)) {
		t = fmt(p->c, "%s flags %s%s%s", t, flags & NFT_QUEUE_FLAG_BYPASS ? "bypass" : "",
			(flags & NFT_QUEUE_FLAG_BYPASS) && (flags & NFT_QUEUE_FLAG_CPU_FANOUT) ? "," : "",
			flags & NFT_QUEUE_FLAG_CPU_FANOUT ? "fanout" : "");
	}
	s = text_stmt(p, t);
	if (at->tb[NFTA_QUEUE_SREG_QNUM]) {
		s->texts[0] = " to ";
		s->args[1] = reg_typed(p, u32(at, NFTA_QUEUE_SREG_QNUM), &nftp_dt_integer, BO_HOST);
	} else if (total > 1) {
		s->what = fmt(p->c, "%s to %u-%u", t, num, num + total - 1);
	} else {
		s->what = fmt(p->c, "%s to %u", t, num);
	}
	nftp_emit(p, s);
	return true;
}

static bool parse_flow_offload(struct parse *p, const struct attrs *at)
{
	const char *name = str(at, NFTA_FLOW_TABLE_NAME);

	if (!name)
		return false;
	nftp_emit(p, text_stmt(p, fmt(p->c, "flow add @%s", name)));
	return true;
}

static bool parse_last(struct parse *p, const struct attrs *at)
{
	nftp_emit(p, text_stmt(p, u32(at, NFTA_LAST_SET) ? "last used" : "last used never"));
	return true;
}

bool nftp_parse_extra(struct parse *p, const struct cg_expr *e)
{
	static const struct {
		const char *name;
		bool (*parse)(struct parse *p, const struct attrs *at);
	} kinds[] = {
		{ "exthdr", parse_exthdr }, { "rt", parse_rt }, { "socket", parse_socket },
		{ "osf", parse_osf }, { "numgen", parse_numgen }, { "hash", parse_hash },
		{ "xfrm", parse_xfrm }, { "quota", parse_quota }, { "connlimit", parse_connlimit },
		{ "objref", parse_objref }, { "dynset", parse_dynset }, { "tproxy", parse_tproxy },
		{ "synproxy", parse_synproxy }, { "dup", parse_dup }, { "fwd", parse_fwd },
		{ "queue", parse_queue }, { "flow_offload", parse_flow_offload }, { "last", parse_last },
	};
	const char *name = e->type == CG_EXPR_QUOTA ? "quota" : e->unknown.name;
	struct attrs at;

	if (!name || !attrs_parse(e, &at))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(name, kinds[i].name))
			return kinds[i].parse(p, &at);
	return false;
}
