/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nf_tables rules -> struct cg_rule: one function per expression kind, each
 * copying what the kernel said into the model without interpreting it. The
 * evaluator, not the collector, decides what an expression means. */
#include "config.h"

#include <netinet/in.h> /* before <linux/netfilter.h>: glibc first (xt.h needs it) */

#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_comment.h>
#include <string.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/xt.h"

#define NFT_DATA_MAX 64 /* NFT_DATA_VALUE_MAXLEN */

/* One rule's conversion: what stays goes to `a` (the ruleset's arena), what
 * the packed rule copies anyway (cmp, range and immediate data) to `tmp`. */
struct conv {
	struct arena *a, *tmp;
	struct nft_rule_ctx *ctx;
	uint8_t family;             /* the table's (NFPROTO_*) */
};

static struct cg_data data_get(const struct nftnl_expr *ne, uint16_t attr, struct arena *a)
{
	uint32_t len = 0;
	const void *p = nftnl_expr_get(ne, attr, &len);

	if (!p || !len)
		return (struct cg_data){ 0 };
	if (len > NFT_DATA_MAX)
		len = NFT_DATA_MAX;
	return (struct cg_data){ .len = (uint8_t)len, .bytes = arena_memdup(a, p, len) };
}

static const char *str_get(const struct nftnl_expr *ne, uint16_t attr, struct arena *a)
{
	const char *s = nftnl_expr_is_set(ne, attr) ? nftnl_expr_get_str(ne, attr) : NULL;

	return s ? arena_strdup(a, s) : NULL;
}

static uint8_t reg_get(const struct nftnl_expr *ne, uint16_t attr)
{
	return (uint8_t)nftnl_expr_get_u32(ne, attr);
}

/* The kernel's verdict numbers (NF_* and NFT_*) -> the model's. A drop may
 * carry an errno and a queue verdict a queue number in the upper bits. */
static enum cg_verdict_code verdict_code(int32_t v)
{
	switch (v) {
	case NFT_CONTINUE: return CG_VERDICT_CONTINUE;
	case NFT_BREAK: return CG_VERDICT_BREAK;
	case NFT_JUMP: return CG_VERDICT_JUMP;
	case NFT_GOTO: return CG_VERDICT_GOTO;
	case NFT_RETURN: return CG_VERDICT_RETURN;
	}
	switch ((uint32_t)v & NF_VERDICT_MASK) {
	case NF_DROP: return CG_VERDICT_DROP;
	case NF_ACCEPT: return CG_VERDICT_ACCEPT;
	case NF_STOLEN: return CG_VERDICT_STOLEN;
	case NF_QUEUE: return CG_VERDICT_QUEUE;
	}
	/* Not a verdict the kernel defines: treat like drop would be a guess;
	 * NONE makes the evaluator see "no verdict", which it reports. */
	return CG_VERDICT_NONE;
}

struct cg_verdict nft_verdict(int32_t code, const char *chain, struct arena *a)
{
	struct cg_verdict v = { .code = verdict_code(code) };

	if ((v.code == CG_VERDICT_JUMP || v.code == CG_VERDICT_GOTO) && chain)
		v.chain_name = arena_strdup(a, chain);
	return v;
}

/* A jump names a chain of its own table: when the table being dumped is
 * known (and indexed), the verdict shares that chain's name and points at
 * it, instead of a copy of the name per rule. */
static struct cg_verdict imm_verdict(int32_t code, const char *chain, struct conv *cv)
{
	const struct cg_table *t = cv->ctx ? cv->ctx->table : NULL;
	struct cg_verdict v = nft_verdict(code, NULL, cv->a);
	struct cg_chain *ch;

	if ((v.code != CG_VERDICT_JUMP && v.code != CG_VERDICT_GOTO) || !chain)
		return v;
	ch = t ? chain_find(t, chain) : NULL;
	if (ch) {
		v.chain = ch;
		v.chain_name = ch->name;
	} else {
		v.chain_name = arena_strdup(cv->a, chain);
	}
	return v;
}

static void payload_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	if (nftnl_expr_is_set(ne, NFTNL_EXPR_PAYLOAD_SREG)) {
		e->type = CG_EXPR_PAYLOAD_SET;
		e->payload_set.sreg = reg_get(ne, NFTNL_EXPR_PAYLOAD_SREG);
		e->payload_set.base = (uint8_t)nftnl_expr_get_u32(ne, NFTNL_EXPR_PAYLOAD_BASE);
		e->payload_set.offset = nftnl_expr_get_u32(ne, NFTNL_EXPR_PAYLOAD_OFFSET);
		e->payload_set.len = nftnl_expr_get_u32(ne, NFTNL_EXPR_PAYLOAD_LEN);
		e->payload_set.csum_type = nftnl_expr_get_u32(ne, NFTNL_EXPR_PAYLOAD_CSUM_TYPE);
		e->payload_set.csum_offset = nftnl_expr_get_u32(ne, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET);
		return;
	}
	e->type = CG_EXPR_PAYLOAD;
	e->payload.dreg = reg_get(ne, NFTNL_EXPR_PAYLOAD_DREG);
	e->payload.base = (uint8_t)nftnl_expr_get_u32(ne, NFTNL_EXPR_PAYLOAD_BASE);
	e->payload.offset = nftnl_expr_get_u32(ne, NFTNL_EXPR_PAYLOAD_OFFSET);
	e->payload.len = nftnl_expr_get_u32(ne, NFTNL_EXPR_PAYLOAD_LEN);
}

static void meta_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	bool set = nftnl_expr_is_set(ne, NFTNL_EXPR_META_SREG);

	e->type = set ? CG_EXPR_META_SET : CG_EXPR_META;
	e->meta.key = nftnl_expr_get_u32(ne, NFTNL_EXPR_META_KEY);
	e->meta.reg = reg_get(ne, set ? NFTNL_EXPR_META_SREG : NFTNL_EXPR_META_DREG);
}

static void fib_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	(void)cv;
	e->type = CG_EXPR_FIB;
	e->fib.dreg = reg_get(ne, NFTNL_EXPR_FIB_DREG);
	e->fib.result = nftnl_expr_get_u32(ne, NFTNL_EXPR_FIB_RESULT);
	e->fib.flags = nftnl_expr_get_u32(ne, NFTNL_EXPR_FIB_FLAGS);
}

static void ct_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	bool set = nftnl_expr_is_set(ne, NFTNL_EXPR_CT_SREG);

	e->type = set ? CG_EXPR_CT_SET : CG_EXPR_CT;
	e->ct.key = nftnl_expr_get_u32(ne, NFTNL_EXPR_CT_KEY);
	e->ct.reg = reg_get(ne, set ? NFTNL_EXPR_CT_SREG : NFTNL_EXPR_CT_DREG);
	e->ct.dir = nftnl_expr_is_set(ne, NFTNL_EXPR_CT_DIR) ?
		(int8_t)nftnl_expr_get_u8(ne, NFTNL_EXPR_CT_DIR) : -1;
}

static void cmp_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	e->type = CG_EXPR_CMP;
	e->cmp.sreg = reg_get(ne, NFTNL_EXPR_CMP_SREG);
	e->cmp.op = nftnl_expr_get_u32(ne, NFTNL_EXPR_CMP_OP);
	e->cmp.data = data_get(ne, NFTNL_EXPR_CMP_DATA, cv->tmp);
}

static void bitwise_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	e->type = CG_EXPR_BITWISE;
	e->bitwise.sreg = reg_get(ne, NFTNL_EXPR_BITWISE_SREG);
	e->bitwise.dreg = reg_get(ne, NFTNL_EXPR_BITWISE_DREG);
	/* Kernels before 5.6 know only the boolean form and send no op. */
	e->bitwise.op = nftnl_expr_is_set(ne, NFTNL_EXPR_BITWISE_OP) ?
		nftnl_expr_get_u32(ne, NFTNL_EXPR_BITWISE_OP) : NFT_BITWISE_BOOL;
	e->bitwise.len = nftnl_expr_get_u32(ne, NFTNL_EXPR_BITWISE_LEN);
	struct cg_bitwise_data *d = arena_alloc(cv->a, sizeof(*d));
	d->mask = data_get(ne, NFTNL_EXPR_BITWISE_MASK, cv->a);
	d->xor = data_get(ne, NFTNL_EXPR_BITWISE_XOR, cv->a);
	d->shift = data_get(ne, NFTNL_EXPR_BITWISE_DATA, cv->a);
	e->bitwise.data = d;
}

static void byteorder_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	e->type = CG_EXPR_BYTEORDER;
	e->byteorder.sreg = reg_get(ne, NFTNL_EXPR_BYTEORDER_SREG);
	e->byteorder.dreg = reg_get(ne, NFTNL_EXPR_BYTEORDER_DREG);
	e->byteorder.op = nftnl_expr_get_u32(ne, NFTNL_EXPR_BYTEORDER_OP);
	e->byteorder.len = nftnl_expr_get_u32(ne, NFTNL_EXPR_BYTEORDER_LEN);
	e->byteorder.size = nftnl_expr_get_u32(ne, NFTNL_EXPR_BYTEORDER_SIZE);
}

static void range_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	e->type = CG_EXPR_RANGE;
	e->range.sreg = reg_get(ne, NFTNL_EXPR_RANGE_SREG);
	e->range.op = nftnl_expr_get_u32(ne, NFTNL_EXPR_RANGE_OP);
	e->range.from = data_get(ne, NFTNL_EXPR_RANGE_FROM_DATA, cv->tmp);
	e->range.to = data_get(ne, NFTNL_EXPR_RANGE_TO_DATA, cv->tmp);
}

static void lookup_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	e->type = CG_EXPR_LOOKUP;
	e->lookup.sreg = reg_get(ne, NFTNL_EXPR_LOOKUP_SREG);
	e->lookup.dreg = reg_get(ne, NFTNL_EXPR_LOOKUP_DREG);
	e->lookup.invert = nftnl_expr_get_u32(ne, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV;
	e->lookup.set_name = str_get(ne, NFTNL_EXPR_LOOKUP_SET, cv->a);
	e->lookup.set_id = nftnl_expr_get_u32(ne, NFTNL_EXPR_LOOKUP_SET_ID);
}

static void immediate_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	e->type = CG_EXPR_IMMEDIATE;
	e->immediate.dreg = reg_get(ne, NFTNL_EXPR_IMM_DREG);
	if (nftnl_expr_is_set(ne, NFTNL_EXPR_IMM_VERDICT)) {
		const char *chain = nftnl_expr_is_set(ne, NFTNL_EXPR_IMM_CHAIN) ?
			nftnl_expr_get_str(ne, NFTNL_EXPR_IMM_CHAIN) : NULL;

		e->immediate.verdict = imm_verdict((int32_t)nftnl_expr_get_u32(ne, NFTNL_EXPR_IMM_VERDICT),
						   chain, cv);
	} else {
		e->immediate.data = data_get(ne, NFTNL_EXPR_IMM_DATA, cv->tmp);
	}
}

/* The attributes iptables-nft's "-m limit" and "-j LOG/NFLOG" turn into,
 * kept so those rules can be printed back in iptables syntax. */
static void limit_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	e->type = CG_EXPR_LIMIT;
	e->limit.rate = nftnl_expr_get_u64(ne, NFTNL_EXPR_LIMIT_RATE);
	e->limit.unit = nftnl_expr_get_u64(ne, NFTNL_EXPR_LIMIT_UNIT);
	e->limit.burst = nftnl_expr_get_u32(ne, NFTNL_EXPR_LIMIT_BURST);
	e->limit.type = nftnl_expr_get_u32(ne, NFTNL_EXPR_LIMIT_TYPE);
	e->limit.flags = nftnl_expr_get_u32(ne, NFTNL_EXPR_LIMIT_FLAGS);
	e->limit.set = true;
}

static void log_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	static const struct { uint16_t attr; int nfta; } present[] = {
		{ NFTNL_EXPR_LOG_GROUP, NFTA_LOG_GROUP },
		{ NFTNL_EXPR_LOG_PREFIX, NFTA_LOG_PREFIX },
		{ NFTNL_EXPR_LOG_SNAPLEN, NFTA_LOG_SNAPLEN },
		{ NFTNL_EXPR_LOG_QTHRESHOLD, NFTA_LOG_QTHRESHOLD },
		{ NFTNL_EXPR_LOG_LEVEL, NFTA_LOG_LEVEL },
		{ NFTNL_EXPR_LOG_FLAGS, NFTA_LOG_FLAGS },
	};

	e->type = CG_EXPR_LOG;
	e->log.prefix = str_get(ne, NFTNL_EXPR_LOG_PREFIX, cv->a);
	e->log.group = nftnl_expr_get_u16(ne, NFTNL_EXPR_LOG_GROUP);
	e->log.qthreshold = nftnl_expr_get_u16(ne, NFTNL_EXPR_LOG_QTHRESHOLD);
	e->log.snaplen = nftnl_expr_get_u32(ne, NFTNL_EXPR_LOG_SNAPLEN);
	e->log.level = nftnl_expr_get_u32(ne, NFTNL_EXPR_LOG_LEVEL);
	e->log.logflags = nftnl_expr_get_u32(ne, NFTNL_EXPR_LOG_FLAGS);
	e->log.present = 1;
	for (size_t i = 0; i < ARRAY_SIZE(present); i++)
		if (nftnl_expr_is_set(ne, present[i].attr))
			e->log.present |= 1u << present[i].nfta;
}

static void reject_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	e->type = CG_EXPR_REJECT;
	e->reject.type = nftnl_expr_get_u32(ne, NFTNL_EXPR_REJECT_TYPE);
	if (nftnl_expr_is_set(ne, NFTNL_EXPR_REJECT_CODE)) {
		e->reject.code = nftnl_expr_get_u8(ne, NFTNL_EXPR_REJECT_CODE);
		e->reject.code_set = true;
	}
}

static void nat_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	e->type = CG_EXPR_NAT;
	e->nat.type = nftnl_expr_get_u32(ne, NFTNL_EXPR_NAT_TYPE);
	e->nat.family = (uint8_t)nftnl_expr_get_u32(ne, NFTNL_EXPR_NAT_FAMILY);
	e->nat.reg_addr_min = reg_get(ne, NFTNL_EXPR_NAT_REG_ADDR_MIN);
	e->nat.reg_addr_max = reg_get(ne, NFTNL_EXPR_NAT_REG_ADDR_MAX);
	e->nat.reg_proto_min = reg_get(ne, NFTNL_EXPR_NAT_REG_PROTO_MIN);
	e->nat.reg_proto_max = reg_get(ne, NFTNL_EXPR_NAT_REG_PROTO_MAX);
	e->nat.flags = nftnl_expr_get_u32(ne, NFTNL_EXPR_NAT_FLAGS);
}

static void masq_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	e->type = CG_EXPR_MASQ;
	e->masq_redir.reg_proto_min = reg_get(ne, NFTNL_EXPR_MASQ_REG_PROTO_MIN);
	e->masq_redir.reg_proto_max = reg_get(ne, NFTNL_EXPR_MASQ_REG_PROTO_MAX);
	e->masq_redir.flags = nftnl_expr_get_u32(ne, NFTNL_EXPR_MASQ_FLAGS);
}

static void redir_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	e->type = CG_EXPR_REDIR;
	e->masq_redir.reg_proto_min = reg_get(ne, NFTNL_EXPR_REDIR_REG_PROTO_MIN);
	e->masq_redir.reg_proto_max = reg_get(ne, NFTNL_EXPR_REDIR_REG_PROTO_MAX);
	e->masq_redir.flags = nftnl_expr_get_u32(ne, NFTNL_EXPR_REDIR_FLAGS);
}

/* The extension's own struct (xt_conntrack_mtinfo3, xt_mark_tginfo2, ...)
 * is decoded by xt_keep() once the table's family is known; info points
 * into libnftnl's expression until then. */
static void xt_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv, bool target)
{
	uint16_t a_name = target ? NFTNL_EXPR_TG_NAME : NFTNL_EXPR_MT_NAME;
	uint16_t a_rev = target ? NFTNL_EXPR_TG_REV : NFTNL_EXPR_MT_REV;
	uint16_t a_info = target ? NFTNL_EXPR_TG_INFO : NFTNL_EXPR_MT_INFO;
	uint32_t len = 0;
	const void *info = nftnl_expr_get(ne, a_info, &len);

	e->type = target ? CG_EXPR_XT_TARGET : CG_EXPR_XT_MATCH;
	const char *name = nftnl_expr_is_set(ne, a_name) ? nftnl_expr_get_str(ne, a_name) : NULL;

	/* the decoder's copy of a known name: no copy per rule */
	e->xt.name = name ? xt_known_name(target, name) : NULL;
	if (name && !e->xt.name)
		e->xt.name = arena_strdup(cv->a, name);
	if (!e->xt.name)
		e->xt.name = "";
	e->xt.revision = (uint8_t)nftnl_expr_get_u32(ne, a_rev);
	e->xt.info_len = info ? len : 0;
	e->xt.info = info && len ? info : NULL;
}

/* An ip/ip6 table's xt blob is decoded now and not kept when the decoder
 * knows it (the decoded value says it all, as for legacy rules; a 256-byte
 * comment blob per kube-proxy rule otherwise); anything else keeps a copy
 * of the blob (the renderers print what they can of it). */
static void xt_keep(struct cg_expr *e, struct conv *cv)
{
	struct arena *a = cv->a;

	if (cv->family == NFPROTO_IPV4 || cv->family == NFPROTO_IPV6) {
		e->xt.decoded = xt_decode_interned(cv->ctx ? cv->ctx->xt : NULL, a, e->type == CG_EXPR_XT_TARGET,
						   e->xt.name, e->xt.revision, cv->family, e->xt.info,
						   e->xt.info_len);
		if (e->xt.decoded) {
			e->xt.info = NULL;
			return;
		}
	}
	e->xt.info = e->xt.info ? arena_memdup(a, e->xt.info, e->xt.info_len) : NULL;
}

static void match_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	xt_convert(ne, e, cv, false);
}

static void target_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	xt_convert(ne, e, cv, true);
}

static void quota_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	(void)ne;
	(void)cv;
	e->type = CG_EXPR_QUOTA;
	e->unknown.name = "quota";
}

static const struct {
	const char *name;
	enum cg_expr_type type;     /* for the kinds that carry no fields */
	void (*convert)(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv);
} expr_kinds[] = {
	/* most frequent first: this is scanned for every expression */
	{ "payload", 0, payload_convert },
	{ "cmp", 0, cmp_convert },
	{ "meta", 0, meta_convert },
	{ "immediate", 0, immediate_convert },
	{ "counter", CG_EXPR_COUNTER, NULL },
	{ "bitwise", 0, bitwise_convert },
	{ "lookup", 0, lookup_convert },
	{ "ct", 0, ct_convert },
	{ "match", 0, match_convert },
	{ "target", 0, target_convert },
	{ "range", 0, range_convert },
	{ "byteorder", 0, byteorder_convert },
	{ "log", 0, log_convert },
	{ "limit", 0, limit_convert },
	{ "quota", 0, quota_convert },
	{ "nat", 0, nat_convert },
	{ "masq", 0, masq_convert },
	{ "redir", 0, redir_convert },
	{ "reject", 0, reject_convert },
	{ "notrack", CG_EXPR_NOTRACK, NULL },
	{ "fib", 0, fib_convert },
};

static void expr_unknown(struct cg_expr *e, const char *name, struct arena *a)
{
	e->type = CG_EXPR_UNKNOWN;
	e->unknown.name = arena_strdup(a, name && *name ? name : "(unnamed)");
}

static void expr_convert(const struct nftnl_expr *ne, struct cg_expr *e, struct conv *cv)
{
	const char *name = nftnl_expr_get_str(ne, NFTNL_EXPR_NAME);

	memset(e, 0, sizeof(*e));
	for (size_t i = 0; name && i < ARRAY_SIZE(expr_kinds); i++) {
		if (strcmp(name, expr_kinds[i].name) != 0)
			continue;
		if (expr_kinds[i].convert)
			expr_kinds[i].convert(ne, e, cv);
		else
			e->type = expr_kinds[i].type;
		if (e->type == CG_EXPR_XT_MATCH || e->type == CG_EXPR_XT_TARGET)
			xt_keep(e, cv);
		return;
	}
	/* socket, osf, numgen, hash, rt, exthdr, dynset, objref, ...:
	 * kept, by name, so the evaluator can say which match it cannot judge. */
	expr_unknown(e, name, cv->a);
}

/* --- rule ---------------------------------------------------------------- */

struct expr_vec {
	struct cg_expr *v;
	size_t n, cap;
	struct conv cv;
};

static struct cg_expr *expr_vec_add(struct expr_vec *ev)
{
	grow_array((void **)&ev->v, &ev->cap, ev->n + 1, sizeof(*ev->v));
	return &ev->v[ev->n++];
}

static int expr_cb(struct nftnl_expr *ne, void *data)
{
	struct expr_vec *ev = data;

	expr_convert(ne, expr_vec_add(ev), &ev->cv);
	return 0;
}

static int udata_cb(const struct nftnl_udata *attr, void *data)
{
	const char **comment = data;
	const char *value = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	/* Only a NUL-terminated string is a comment; other user data (e.g.
	 * tags that programs write for themselves) is not ours to read. */
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 && value[len - 1] == '\0' &&
	    !*comment)
		*comment = value;
	return 0;
}

static const char *udata_comment(const void *udata, uint32_t len, struct arena *a)
{
	const char *comment = NULL;

	if (!udata || !len)
		return NULL;
	if (nftnl_udata_parse(udata, len, udata_cb, &comment) < 0 || !comment)
		return NULL;
	return arena_strdup(a, comment);
}

/* iptables-nft (up to at least 1.8.9) keeps "-m comment" as an xt match
 * whose blob is struct xt_comment_info: the text the user gave. */
static const char *xt_comment(const struct cg_expr *v, size_t n, struct arena *a)
{
	for (size_t i = 0; i < n; i++) {
		const struct cg_expr *e = &v[i];

		if (e->type == CG_EXPR_XT_MATCH && e->xt.decoded && e->xt.decoded->kind == XT_MATCH_COMMENT)
			return e->xt.decoded->comment;
		if (e->type == CG_EXPR_XT_MATCH && strcmp(e->xt.name, "comment") == 0 && e->xt.info) {
			uint32_t max = e->xt.info_len < XT_MAX_COMMENT_LEN ? e->xt.info_len : XT_MAX_COMMENT_LEN;
			return arena_strndup(a, e->xt.info, strnlen(e->xt.info, max));
		}
	}
	return NULL;
}

bool nft_rule_has_xt(const struct cg_rule *rule)
{
	struct cg_expr_buf eb;
	const struct cg_expr *v = rule_exprs(rule, &eb);
	bool xt = false;

	for (uint32_t i = 0; i < rule->n_exprs && !xt; i++)
		xt = v[i].type == CG_EXPR_XT_MATCH || v[i].type == CG_EXPR_XT_TARGET;
	expr_buf_free(&eb);
	return xt;
}

/* --- parsing a rule message -----------------------------------------------
 * libnftnl fails a whole rule when one expression is of a kind it does not
 * know (a kernel newer than the library). Rather than lose the rule, we then
 * hand each expression to libnftnl on its own, wrapped in a one-expression
 * rule message; the ones it still refuses become CG_EXPR_UNKNOWN under their
 * own name. */

static int rule_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NFTA_RULE_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case NFTA_RULE_TABLE:
	case NFTA_RULE_CHAIN:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;
		break;
	case NFTA_RULE_HANDLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			return MNL_CB_ERROR;
		break;
	case NFTA_RULE_EXPRESSIONS:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		break;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

static const char *expr_attr_name(const struct nlattr *elem)
{
	const struct nlattr *attr;

	mnl_attr_for_each_nested(attr, elem) {
		if (mnl_attr_get_type(attr) == NFTA_EXPR_NAME &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(attr);
	}
	return NULL;
}

static int expr_parse_alone(const struct nlattr *elem, struct cg_expr *e, struct conv *cv)
{
	size_t size = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)) + 2 * MNL_ATTR_HDRLEN +
		      mnl_attr_get_payload_len(elem) + MNL_ALIGNTO;
	_cleanup_free_ void *buf = xcalloc(1, size);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nftnl_rule *r;
	struct nftnl_expr_iter *it;
	struct nftnl_expr *ne;
	struct nlattr *nest;
	int ret = -EINVAL;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	nest = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	mnl_attr_put(nlh, NFTA_LIST_ELEM, mnl_attr_get_payload_len(elem), mnl_attr_get_payload(elem));
	mnl_attr_nest_end(nlh, nest);

	r = nftnl_rule_alloc();
	if (!r)
		return -ENOMEM;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 && (it = nftnl_expr_iter_create(r))) {
		ne = nftnl_expr_iter_next(it);
		if (ne) {
			expr_convert(ne, e, cv);
			ret = 0;
		}
		nftnl_expr_iter_destroy(it);
	}
	nftnl_rule_free(r);
	return ret;
}

/* Every expression must be a list element with a name: libnftnl trusts the
 * kernel on that and would crash on a nameless one. */
static bool exprs_well_formed(const struct nlattr *exprs)
{
	const struct nlattr *elem;

	if (!exprs)
		return true;
	mnl_attr_for_each_nested(elem, exprs) {
		if (mnl_attr_get_type(elem) != NFTA_LIST_ELEM || !expr_attr_name(elem))
			return false;
	}
	return true;
}

/* An expression the model keeps by name (and quota) keeps its kernel
 * attributes too: the printer and the evaluator read what they know. */
static void keep_attrs(const struct nlattr *elem, struct cg_expr *e, struct arena *a)
{
	const struct nlattr *attr;

	if (e->type != CG_EXPR_UNKNOWN && e->type != CG_EXPR_QUOTA)
		return;
	mnl_attr_for_each_nested(attr, elem) {
		if (mnl_attr_get_type(attr) != NFTA_EXPR_DATA || !mnl_attr_get_payload_len(attr))
			continue;
		e->unknown.attrs = arena_memdup(a, mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr));
		e->unknown.attrs_len = mnl_attr_get_payload_len(attr);
		return;
	}
}

/* the expressions libnftnl read, n from first on, against the dump's */
static void keep_all_attrs(const struct nlattr *exprs, struct expr_vec *ev, size_t first)
{
	const struct nlattr *elem;
	size_t i = first;

	mnl_attr_for_each_nested(elem, exprs) {
		if (i >= ev->n)
			return;
		keep_attrs(elem, &ev->v[i++], ev->cv.a);
	}
}

static void exprs_one_by_one(const struct nlattr *exprs, struct expr_vec *ev)
{
	const struct nlattr *elem;

	mnl_attr_for_each_nested(elem, exprs) {
		struct cg_expr *e = expr_vec_add(ev);
		const char *name = mnl_attr_get_type(elem) == NFTA_LIST_ELEM ? expr_attr_name(elem) : NULL;

		if (!name || expr_parse_alone(elem, e, &ev->cv) < 0)
			expr_unknown(e, name, ev->cv.a);
		keep_attrs(elem, e, ev->cv.a);
	}
}

/* The rule's own attributes are read here (validated, in one place); the
 * expressions go to libnftnl, whole when it can, else one by one. */
static int rule_parse(const struct nlmsghdr *nlh, struct cg_rule *rule, struct nft_rule_id *id,
		      struct expr_vec *ev)
{
	const struct nlattr *tb[NFTA_RULE_MAX + 1] = { 0 };
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *exprs;
	struct nftnl_rule *r;

	if (mnl_attr_parse(nlh, sizeof(*nfg), rule_attr_cb, tb) < 0 || !tb[NFTA_RULE_TABLE] ||
	    !tb[NFTA_RULE_CHAIN])
		return -EINVAL;
	id->family = nfg->nfgen_family;
	ev->cv.family = nfg->nfgen_family;
	snprintf(id->table, sizeof(id->table), "%s", mnl_attr_get_str(tb[NFTA_RULE_TABLE]));
	snprintf(id->chain, sizeof(id->chain), "%s", mnl_attr_get_str(tb[NFTA_RULE_CHAIN]));
	if (tb[NFTA_RULE_HANDLE])
		rule->handle = be64toh(mnl_attr_get_u64(tb[NFTA_RULE_HANDLE]));
	if (tb[NFTA_RULE_USERDATA])
		rule->comment = udata_comment(mnl_attr_get_payload(tb[NFTA_RULE_USERDATA]),
					      mnl_attr_get_payload_len(tb[NFTA_RULE_USERDATA]), ev->cv.a);
	exprs = tb[NFTA_RULE_EXPRESSIONS];
	if (!exprs)
		return 0;
	if (exprs_well_formed(exprs)) {
		r = nftnl_rule_alloc();
		if (!r)
			return -ENOMEM;
		if (nftnl_rule_nlmsg_parse(nlh, r) == 0) {
			size_t first = ev->n;

			nftnl_expr_foreach(r, expr_cb, ev);
			keep_all_attrs(exprs, ev, first);
			nftnl_rule_free(r);
			return 0;
		}
		nftnl_rule_free(r);
	}
	exprs_one_by_one(exprs, ev);
	return 0;
}

int nft_rule_from_nlmsg_ctx(const struct nlmsghdr *nlh, struct arena *a, struct nft_rule_ctx *ctx,
			    struct cg_rule *rule, struct nft_rule_id *id)
{
	struct expr_vec ev = { .cv = { .a = a, .tmp = &ctx->scratch, .ctx = ctx } };
	int r;

	memset(rule, 0, sizeof(*rule));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct nfgenmsg) ||
	    (nlh->nlmsg_type & 0xff) != NFT_MSG_NEWRULE)
		return -EINVAL;
	r = rule_parse(nlh, rule, id, &ev);
	if (r >= 0) {
		if (!rule->comment)
			rule->comment = xt_comment(ev.v, ev.n, a);
		rule_pack(rule, a, ev.v, (uint32_t)ev.n);
	}
	free(ev.v);
	arena_reset(&ctx->scratch);
	return r;
}

int nft_rule_from_nlmsg(const struct nlmsghdr *nlh, struct arena *a, struct cg_rule *rule,
			struct nft_rule_id *id)
{
	struct nft_rule_ctx ctx = { 0 };
	int r = nft_rule_from_nlmsg_ctx(nlh, a, &ctx, rule, id);

	nft_rule_ctx_free(&ctx);
	return r;
}

void nft_rule_ctx_free(struct nft_rule_ctx *ctx)
{
	arena_free(&ctx->scratch);
	xt_intern_free(ctx->xt);
	ctx->xt = NULL;
}
