/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rules in packed form: what a collected rule's expressions cost.
 *
 * A struct cg_expr is 56 bytes, sized by its largest variant; the typical
 * iptables-nft rule (meta + cmp, payload + cmp, an xt match, counter, a
 * jump) is nine of them, 500 bytes, for what the kernel says in about
 * sixty. Packed, each expression is its type byte and then only its own
 * fields: small integers as LEB128 varints, registers and flags as bytes,
 * data inline (length byte, bytes), pointers (names, sets, chains, xt
 * values, bitwise operands) as 8 raw bytes; what one pointer implies is
 * not stored again (a resolved jump's chain names itself, a decoded xt
 * value its extension). The fields that resolution fills in later (a
 * jump's chain, a lookup's set) always have their slot, so rule_repack()
 * rewrites a rule in place.
 *
 * The packed string is produced and read by this file only, from values
 * the collectors built: it is not a parser of outside input. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/xt.h"

/* --- writing (bytes past cap are only counted; cap 0: only count) -------- */

struct writer {
	uint8_t *p;
	size_t n;
	size_t cap;
};

static void w_u8(struct writer *w, uint8_t v)
{
	if (w->n < w->cap)
		w->p[w->n] = v;
	w->n++;
}

static void w_uv(struct writer *w, uint64_t v)
{
	do {
		uint8_t b = v & 0x7f;

		v >>= 7;
		w_u8(w, (uint8_t)(b | (v ? 0x80 : 0)));
	} while (v);
}

static void w_ptr(struct writer *w, const void *ptr)
{
	if (w->n + sizeof(ptr) <= w->cap)
		memcpy(w->p + w->n, &ptr, sizeof(ptr));
	w->n += sizeof(ptr);
}

static void w_data(struct writer *w, const struct cg_data *d)
{
	w_u8(w, d->len);
	if (d->len && w->n + d->len <= w->cap)
		memcpy(w->p + w->n, d->bytes, d->len);
	w->n += d->len;
}

/* the forms of a jump's target and of an xt expression */
enum { VERDICT_NAME_CHAIN, VERDICT_CHAIN };
enum { XT_FULL, XT_DECODED };

static bool verdict_has_chain(enum cg_verdict_code code)
{
	return code == CG_VERDICT_JUMP || code == CG_VERDICT_GOTO;
}

static void w_expr(struct writer *w, const struct cg_expr *e)
{
	w_u8(w, (uint8_t)e->type);
	switch (e->type) {
	case CG_EXPR_PAYLOAD:
		w_u8(w, e->payload.dreg);
		w_u8(w, e->payload.base);
		w_uv(w, e->payload.offset);
		w_uv(w, e->payload.len);
		break;
	case CG_EXPR_PAYLOAD_SET:
		w_u8(w, e->payload_set.sreg);
		w_u8(w, e->payload_set.base);
		w_uv(w, e->payload_set.offset);
		w_uv(w, e->payload_set.len);
		w_uv(w, e->payload_set.csum_type);
		w_uv(w, e->payload_set.csum_offset);
		break;
	case CG_EXPR_META:
	case CG_EXPR_META_SET:
		w_uv(w, e->meta.key);
		w_u8(w, e->meta.reg);
		break;
	case CG_EXPR_CT:
	case CG_EXPR_CT_SET:
		w_uv(w, e->ct.key);
		w_u8(w, e->ct.reg);
		w_u8(w, (uint8_t)e->ct.dir);
		break;
	case CG_EXPR_CMP:
		w_u8(w, e->cmp.sreg);
		w_uv(w, e->cmp.op);
		w_data(w, &e->cmp.data);
		break;
	case CG_EXPR_BITWISE:
		w_u8(w, e->bitwise.sreg);
		w_u8(w, e->bitwise.dreg);
		w_uv(w, e->bitwise.op);
		w_uv(w, e->bitwise.len);
		w_ptr(w, e->bitwise.data);
		break;
	case CG_EXPR_BYTEORDER:
		w_u8(w, e->byteorder.sreg);
		w_u8(w, e->byteorder.dreg);
		w_uv(w, e->byteorder.op);
		w_uv(w, e->byteorder.len);
		w_uv(w, e->byteorder.size);
		break;
	case CG_EXPR_RANGE:
		w_u8(w, e->range.sreg);
		w_uv(w, e->range.op);
		w_data(w, &e->range.from);
		w_data(w, &e->range.to);
		break;
	case CG_EXPR_LOOKUP:
		w_u8(w, e->lookup.sreg);
		w_u8(w, e->lookup.dreg);
		w_u8(w, e->lookup.invert);
		w_ptr(w, e->lookup.set_name);
		w_uv(w, e->lookup.set_id);
		w_ptr(w, e->lookup.set);
		break;
	case CG_EXPR_IMMEDIATE:
		w_u8(w, e->immediate.dreg);
		w_data(w, &e->immediate.data);
		w_u8(w, (uint8_t)e->immediate.verdict.code);
		if (verdict_has_chain(e->immediate.verdict.code)) {
			const struct cg_verdict *v = &e->immediate.verdict;

			/* resolved, the chain names itself */
			if (v->chain && v->chain_name == v->chain->name) {
				w_u8(w, VERDICT_CHAIN);
				w_ptr(w, v->chain);
			} else {
				w_u8(w, VERDICT_NAME_CHAIN);
				w_ptr(w, v->chain_name);
				w_ptr(w, v->chain);
			}
		}
		break;
	case CG_EXPR_REJECT:
		w_uv(w, e->reject.type);
		w_u8(w, e->reject.code);
		w_u8(w, e->reject.code_set);
		break;
	case CG_EXPR_NAT:
		w_uv(w, e->nat.type);
		w_u8(w, e->nat.family);
		w_u8(w, e->nat.reg_addr_min);
		w_u8(w, e->nat.reg_addr_max);
		w_u8(w, e->nat.reg_proto_min);
		w_u8(w, e->nat.reg_proto_max);
		w_uv(w, e->nat.flags);
		break;
	case CG_EXPR_MASQ:
	case CG_EXPR_REDIR:
		w_u8(w, e->masq_redir.reg_proto_min);
		w_u8(w, e->masq_redir.reg_proto_max);
		w_uv(w, e->masq_redir.flags);
		break;
	case CG_EXPR_LIMIT:
		w_uv(w, e->limit.rate);
		w_uv(w, e->limit.unit);
		w_uv(w, e->limit.burst);
		w_uv(w, e->limit.type);
		w_uv(w, e->limit.flags);
		w_u8(w, e->limit.set);
		break;
	case CG_EXPR_LOG:
		w_ptr(w, e->log.prefix);
		w_uv(w, e->log.group);
		w_uv(w, e->log.qthreshold);
		w_uv(w, e->log.snaplen);
		w_uv(w, e->log.level);
		w_uv(w, e->log.logflags);
		w_uv(w, e->log.present);
		break;
	case CG_EXPR_XT_MATCH:
	case CG_EXPR_XT_TARGET:
		/* decoded, the value names the extension and revision */
		if (e->xt.decoded && !e->xt.info && e->xt.name &&
		    (e->xt.name == e->xt.decoded->name || !strcmp(e->xt.name, e->xt.decoded->name)) &&
		    e->xt.revision == e->xt.decoded->revision) {
			w_u8(w, XT_DECODED);
			w_uv(w, e->xt.info_len);
			w_ptr(w, e->xt.decoded);
		} else {
			w_u8(w, XT_FULL);
			w_ptr(w, e->xt.name);
			w_u8(w, e->xt.revision);
			w_uv(w, e->xt.info_len);
			w_ptr(w, e->xt.info);
			w_ptr(w, e->xt.decoded);
		}
		break;
	case CG_EXPR_FIB:
		w_u8(w, e->fib.dreg);
		w_uv(w, e->fib.result);
		w_uv(w, e->fib.flags);
		break;
	case CG_EXPR_UNKNOWN:
	case CG_EXPR_QUOTA:
		w_ptr(w, e->unknown.name);
		w_uv(w, e->unknown.attrs_len);
		if (e->unknown.attrs_len)
			w_ptr(w, e->unknown.attrs);
		break;
	case CG_EXPR_COUNTER:
	case CG_EXPR_NOTRACK:
		break;
	}
}

/* --- reading ------------------------------------------------------------- */

struct reader {
	const uint8_t *p;
};

static uint8_t r_u8(struct reader *r)
{
	return *r->p++;
}

static uint64_t r_uv(struct reader *r)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	return v;
}

static const void *r_ptr(struct reader *r)
{
	const void *ptr;

	memcpy(&ptr, r->p, sizeof(ptr));
	r->p += sizeof(ptr);
	return ptr;
}

static struct cg_data r_data(struct reader *r)
{
	struct cg_data d = { .len = r_u8(r) };

	d.bytes = d.len ? r->p : NULL;
	r->p += d.len;
	return d;
}

static void r_expr(struct reader *r, struct cg_expr *e)
{
	memset(e, 0, sizeof(*e));
	e->type = (enum cg_expr_type)r_u8(r);
	switch (e->type) {
	case CG_EXPR_PAYLOAD:
		e->payload.dreg = r_u8(r);
		e->payload.base = r_u8(r);
		e->payload.offset = (uint32_t)r_uv(r);
		e->payload.len = (uint32_t)r_uv(r);
		break;
	case CG_EXPR_PAYLOAD_SET:
		e->payload_set.sreg = r_u8(r);
		e->payload_set.base = r_u8(r);
		e->payload_set.offset = (uint32_t)r_uv(r);
		e->payload_set.len = (uint32_t)r_uv(r);
		e->payload_set.csum_type = (uint32_t)r_uv(r);
		e->payload_set.csum_offset = (uint32_t)r_uv(r);
		break;
	case CG_EXPR_META:
	case CG_EXPR_META_SET:
		e->meta.key = (uint32_t)r_uv(r);
		e->meta.reg = r_u8(r);
		break;
	case CG_EXPR_CT:
	case CG_EXPR_CT_SET:
		e->ct.key = (uint32_t)r_uv(r);
		e->ct.reg = r_u8(r);
		e->ct.dir = (int8_t)r_u8(r);
		break;
	case CG_EXPR_CMP:
		e->cmp.sreg = r_u8(r);
		e->cmp.op = (uint32_t)r_uv(r);
		e->cmp.data = r_data(r);
		break;
	case CG_EXPR_BITWISE:
		e->bitwise.sreg = r_u8(r);
		e->bitwise.dreg = r_u8(r);
		e->bitwise.op = (uint32_t)r_uv(r);
		e->bitwise.len = (uint32_t)r_uv(r);
		e->bitwise.data = r_ptr(r);
		break;
	case CG_EXPR_BYTEORDER:
		e->byteorder.sreg = r_u8(r);
		e->byteorder.dreg = r_u8(r);
		e->byteorder.op = (uint32_t)r_uv(r);
		e->byteorder.len = (uint32_t)r_uv(r);
		e->byteorder.size = (uint32_t)r_uv(r);
		break;
	case CG_EXPR_RANGE:
		e->range.sreg = r_u8(r);
		e->range.op = (uint32_t)r_uv(r);
		e->range.from = r_data(r);
		e->range.to = r_data(r);
		break;
	case CG_EXPR_LOOKUP:
		e->lookup.sreg = r_u8(r);
		e->lookup.dreg = r_u8(r);
		e->lookup.invert = r_u8(r);
		e->lookup.set_name = r_ptr(r);
		e->lookup.set_id = (uint32_t)r_uv(r);
		e->lookup.set = (struct cg_set *)r_ptr(r);
		break;
	case CG_EXPR_IMMEDIATE:
		e->immediate.dreg = r_u8(r);
		e->immediate.data = r_data(r);
		e->immediate.verdict.code = (enum cg_verdict_code)r_u8(r);
		if (verdict_has_chain(e->immediate.verdict.code)) {
			struct cg_verdict *v = &e->immediate.verdict;

			if (r_u8(r) == VERDICT_CHAIN) {
				v->chain = (struct cg_chain *)r_ptr(r);
				v->chain_name = v->chain->name;
			} else {
				v->chain_name = r_ptr(r);
				v->chain = (struct cg_chain *)r_ptr(r);
			}
		}
		break;
	case CG_EXPR_REJECT:
		e->reject.type = (uint32_t)r_uv(r);
		e->reject.code = r_u8(r);
		e->reject.code_set = r_u8(r);
		break;
	case CG_EXPR_NAT:
		e->nat.type = (uint32_t)r_uv(r);
		e->nat.family = r_u8(r);
		e->nat.reg_addr_min = r_u8(r);
		e->nat.reg_addr_max = r_u8(r);
		e->nat.reg_proto_min = r_u8(r);
		e->nat.reg_proto_max = r_u8(r);
		e->nat.flags = (uint32_t)r_uv(r);
		break;
	case CG_EXPR_MASQ:
	case CG_EXPR_REDIR:
		e->masq_redir.reg_proto_min = r_u8(r);
		e->masq_redir.reg_proto_max = r_u8(r);
		e->masq_redir.flags = (uint32_t)r_uv(r);
		break;
	case CG_EXPR_LIMIT:
		e->limit.rate = r_uv(r);
		e->limit.unit = r_uv(r);
		e->limit.burst = (uint32_t)r_uv(r);
		e->limit.type = (uint32_t)r_uv(r);
		e->limit.flags = (uint32_t)r_uv(r);
		e->limit.set = r_u8(r);
		break;
	case CG_EXPR_LOG:
		e->log.prefix = r_ptr(r);
		e->log.group = (uint16_t)r_uv(r);
		e->log.qthreshold = (uint16_t)r_uv(r);
		e->log.snaplen = (uint32_t)r_uv(r);
		e->log.level = (uint32_t)r_uv(r);
		e->log.logflags = (uint32_t)r_uv(r);
		e->log.present = (uint32_t)r_uv(r);
		break;
	case CG_EXPR_XT_MATCH:
	case CG_EXPR_XT_TARGET:
		if (r_u8(r) == XT_DECODED) {
			e->xt.info_len = (uint32_t)r_uv(r);
			e->xt.decoded = r_ptr(r);
			e->xt.name = e->xt.decoded->name;
			e->xt.revision = e->xt.decoded->revision;
		} else {
			e->xt.name = r_ptr(r);
			e->xt.revision = r_u8(r);
			e->xt.info_len = (uint32_t)r_uv(r);
			e->xt.info = r_ptr(r);
			e->xt.decoded = r_ptr(r);
		}
		break;
	case CG_EXPR_FIB:
		e->fib.dreg = r_u8(r);
		e->fib.result = (uint32_t)r_uv(r);
		e->fib.flags = (uint32_t)r_uv(r);
		break;
	case CG_EXPR_UNKNOWN:
	case CG_EXPR_QUOTA:
		e->unknown.name = r_ptr(r);
		e->unknown.attrs_len = (uint32_t)r_uv(r);
		if (e->unknown.attrs_len)
			e->unknown.attrs = r_ptr(r);
		break;
	case CG_EXPR_COUNTER:
	case CG_EXPR_NOTRACK:
		break;
	}
}

/* --- the interface ------------------------------------------------------- */

static size_t packed_len(const struct cg_expr *v, uint32_t n)
{
	struct writer w = { 0 };

	for (uint32_t i = 0; i < n; i++)
		w_expr(&w, &v[i]);
	return w.n;
}

void rule_pack(struct cg_rule *r, struct arena *a, const struct cg_expr *v, uint32_t n)
{
	uint8_t buf[1024];
	struct writer w = { .p = buf, .cap = sizeof(buf) };
	size_t len;

	if (n > UINT16_MAX)
		abort(); /* no kernel rule has that many (NFT_RULE_MAXEXPRS: 128) */
	r->n_exprs = (uint16_t)n;
	r->packed = true;
	r->code = NULL;
	if (!n)
		return;
	/* one pass into buf (a rule is some sixty bytes), copied out; one
	 * that does not fit is counted by it and written again */
	for (uint32_t i = 0; i < n; i++)
		w_expr(&w, &v[i]);
	len = w.n;
	if (len <= sizeof(buf)) {
		r->code = arena_memdup(a, buf, len);
		return;
	}
	w = (struct writer){ .p = arena_alloc(a, len), .cap = len };
	for (uint32_t i = 0; i < n; i++)
		w_expr(&w, &v[i]);
	r->code = w.p;
}

int rule_repack(struct cg_rule *r, const struct cg_expr *v)
{
	struct reader rd = { r->code };
	struct writer w;

	if (!r->packed)
		return -EINVAL;
	for (uint32_t i = 0; i < r->n_exprs; i++) {
		struct cg_expr old;

		r_expr(&rd, &old);
	}
	/* resolving a jump can only shorten it (the chain then names itself) */
	if (packed_len(v, r->n_exprs) > (size_t)(rd.p - r->code))
		return -EINVAL;
	/* the packed string is the ruleset's own, from its arena */
	w.p = (uint8_t *)(uintptr_t)r->code;
	w.n = 0;
	w.cap = (size_t)(rd.p - r->code);
	for (uint32_t i = 0; i < r->n_exprs; i++)
		w_expr(&w, &v[i]);
	return 0;
}

const struct cg_expr *rule_exprs(const struct cg_rule *r, struct cg_expr_buf *buf)
{
	struct cg_expr *out = buf->local;
	struct reader rd = { r->code };

	buf->heap = NULL;
	buf->cap = 0;
	if (!r->packed)
		return r->exprs;
	if (r->n_exprs > CG_EXPR_BUF_LOCAL) {
		buf->heap = xreallocarray(NULL, r->n_exprs, sizeof(*buf->heap));
		buf->cap = r->n_exprs;
		out = buf->heap;
	}
	for (uint32_t i = 0; i < r->n_exprs; i++)
		r_expr(&rd, &out[i]);
	return out;
}

void expr_buf_free(struct cg_expr_buf *buf)
{
	free(buf->heap);
	buf->heap = NULL;
	buf->cap = 0;
}
