/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A rule's identity in the model: what finds the same rule again in another
 * reading of the ruleset (the fix stage re-reads a table under its lock),
 * and what tells a scheduled audit whether the rule that blocks is still the
 * same one. Its printed text would do neither well: printing is the format
 * stage's, and it may leave out what it cannot show.
 *
 * Each rule is written out as a canonical byte string (canon.h): every
 * expression's kind and fields, in order, then the comment. Pointers become
 * what they name: a jump's target chain by its name, a named set by its name
 * (an anonymous one, whose name the kernel makes up per table, by its
 * elements), a decoded xt value by its fields, which its extension writes
 * (the blob only when it was not decoded). Two rules are equal when their strings are; the hash is the
 * string's. Neither the chain, the position nor the handle is part of it:
 * the callers add what their backend has. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/canon.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/xt-ext.h"

static void put_data(struct canon *c, const struct cg_data *d)
{
	canon_u8(c, d->len);
	if (d->len)
		canon_bytes(c, d->bytes, d->len);
}

static void put_verdict(struct canon *c, const struct cg_verdict *v)
{
	canon_u8(c, (uint8_t)v->code);
	if (v->code == CG_VERDICT_JUMP || v->code == CG_VERDICT_GOTO)
		canon_str(c, v->chain ? v->chain->name : v->chain_name);
}

/* The decoded value of an xt extension, field by field: its kind, then
 * what its extension writes (xt-ext.h). */
static void put_xt_decoded(struct canon *c, const struct xt_decoded *d)
{
	/* a kind no decoder makes (a count of them, say) has no extension */
	const struct xt_ext *x = (unsigned)d->kind < XT_KIND_COUNT ? xt_registry[d->kind] : NULL;

	canon_u8(c, (uint8_t)d->kind);
	canon_u8(c, d->nfproto);
	if (x && x->ident)
		x->ident(c, d);
}

static void put_elem(struct canon *c, const struct cg_set_elem *el)
{
	put_data(c, &el->key);
	put_data(c, &el->key_end);
	canon_u8(c, el->interval_end);
	canon_u8(c, el->catchall);
	put_data(c, &el->data);
	put_verdict(c, &el->verdict);
}

static int canon_cmp(const void *pa, const void *pb)
{
	const struct canon *a = pa, *b = pb;
	int d = memcmp(a->buf, b->buf, a->len < b->len ? a->len : b->len);

	return d ? d : (a->len > b->len) - (a->len < b->len);
}

/* A set a lookup names: by its name, except an anonymous set (its name is
 * the kernel's "__set%d", given per table in creation order), which is its
 * elements, as the rule's text shows them: in no particular order (a hash
 * set dumps its elements in its hash's order), so they are sorted. */
static void put_set_ref(struct canon *c, const struct cg_expr *e)
{
	const struct cg_set *s = e->lookup.set;
	const char *name = s ? s->name : e->lookup.set_name;
	struct canon *elems;

	if (!s || !(s->flags & CG_SET_ANONYMOUS)) {
		canon_str(c, name);
		if (!name)
			canon_u32(c, s ? s->id : e->lookup.set_id);
		return;
	}
	canon_u32(c, s->flags);
	canon_u32(c, s->key_len);
	canon_u32(c, s->n_elems);
	elems = xcalloc(s->n_elems ? s->n_elems : 1, sizeof(*elems));
	for (uint32_t i = 0; i < s->n_elems; i++)
		put_elem(&elems[i], &s->elems[i]);
	qsort(elems, s->n_elems, sizeof(*elems), canon_cmp);
	for (uint32_t i = 0; i < s->n_elems; i++) {
		canon_bytes(c, elems[i].buf, elems[i].len);
		free(elems[i].buf);
	}
	free(elems);
}

static void put_expr(struct canon *c, const struct cg_expr *e)
{
	canon_u8(c, (uint8_t)e->type);
	switch (e->type) {
	case CG_EXPR_PAYLOAD:
		canon_u8(c, e->payload.dreg);
		canon_u8(c, e->payload.base);
		canon_u32(c, e->payload.offset);
		canon_u32(c, e->payload.len);
		break;
	case CG_EXPR_PAYLOAD_SET:
		canon_u8(c, e->payload_set.sreg);
		canon_u8(c, e->payload_set.base);
		canon_u32(c, e->payload_set.offset);
		canon_u32(c, e->payload_set.len);
		canon_u32(c, e->payload_set.csum_type);
		canon_u32(c, e->payload_set.csum_offset);
		break;
	case CG_EXPR_META:
	case CG_EXPR_META_SET:
		canon_u32(c, e->meta.key);
		canon_u8(c, e->meta.reg);
		break;
	case CG_EXPR_CT:
	case CG_EXPR_CT_SET:
		canon_u32(c, e->ct.key);
		canon_u8(c, e->ct.reg);
		canon_u8(c, (uint8_t)e->ct.dir);
		break;
	case CG_EXPR_CMP:
		canon_u8(c, e->cmp.sreg);
		canon_u32(c, e->cmp.op);
		put_data(c, &e->cmp.data);
		break;
	case CG_EXPR_BITWISE:
		canon_u8(c, e->bitwise.sreg);
		canon_u8(c, e->bitwise.dreg);
		canon_u32(c, e->bitwise.op);
		canon_u32(c, e->bitwise.len);
		canon_u8(c, e->bitwise.data != NULL);
		if (e->bitwise.data) {
			put_data(c, &e->bitwise.data->mask);
			put_data(c, &e->bitwise.data->xor);
			put_data(c, &e->bitwise.data->shift);
		}
		break;
	case CG_EXPR_BYTEORDER:
		canon_u8(c, e->byteorder.sreg);
		canon_u8(c, e->byteorder.dreg);
		canon_u32(c, e->byteorder.op);
		canon_u32(c, e->byteorder.len);
		canon_u32(c, e->byteorder.size);
		break;
	case CG_EXPR_RANGE:
		canon_u8(c, e->range.sreg);
		canon_u32(c, e->range.op);
		put_data(c, &e->range.from);
		put_data(c, &e->range.to);
		break;
	case CG_EXPR_LOOKUP:
		canon_u8(c, e->lookup.sreg);
		canon_u8(c, e->lookup.dreg);
		canon_u8(c, e->lookup.invert);
		put_set_ref(c, e);
		break;
	case CG_EXPR_IMMEDIATE:
		canon_u8(c, e->immediate.dreg);
		put_data(c, &e->immediate.data);
		put_verdict(c, &e->immediate.verdict);
		break;
	case CG_EXPR_REJECT:
		canon_u32(c, e->reject.type);
		canon_u8(c, e->reject.code);
		canon_u8(c, e->reject.code_set);
		break;
	case CG_EXPR_NAT:
		canon_u32(c, e->nat.type);
		canon_u8(c, e->nat.family);
		canon_u8(c, e->nat.reg_addr_min);
		canon_u8(c, e->nat.reg_addr_max);
		canon_u8(c, e->nat.reg_proto_min);
		canon_u8(c, e->nat.reg_proto_max);
		canon_u32(c, e->nat.flags);
		break;
	case CG_EXPR_MASQ:
	case CG_EXPR_REDIR:
		canon_u8(c, e->masq_redir.reg_proto_min);
		canon_u8(c, e->masq_redir.reg_proto_max);
		canon_u32(c, e->masq_redir.flags);
		break;
	case CG_EXPR_LIMIT:
		canon_u64(c, e->limit.rate);
		canon_u64(c, e->limit.unit);
		canon_u32(c, e->limit.burst);
		canon_u32(c, e->limit.type);
		canon_u32(c, e->limit.flags);
		canon_u8(c, e->limit.set);
		break;
	case CG_EXPR_LOG:
		canon_str(c, e->log.prefix);
		canon_u16(c, e->log.group);
		canon_u16(c, e->log.qthreshold);
		canon_u32(c, e->log.snaplen);
		canon_u32(c, e->log.level);
		canon_u32(c, e->log.logflags);
		canon_u32(c, e->log.present);
		break;
	case CG_EXPR_XT_MATCH:
	case CG_EXPR_XT_TARGET:
		canon_str(c, e->xt.name);
		canon_u8(c, e->xt.revision);
		/* a decoded value says it all (legacy rules keep no blob then) */
		canon_u8(c, e->xt.decoded != NULL);
		if (e->xt.decoded) {
			put_xt_decoded(c, e->xt.decoded);
		} else {
			canon_u32(c, e->xt.info_len);
			if (e->xt.info && e->xt.info_len)
				canon_bytes(c, e->xt.info, e->xt.info_len);
		}
		break;
	case CG_EXPR_FIB:
		canon_u8(c, e->fib.dreg);
		canon_u32(c, e->fib.result);
		canon_u32(c, e->fib.flags);
		break;
	case CG_EXPR_UNKNOWN:
		canon_str(c, e->unknown.name);
		/* "last" holds when it last matched: not the rule's identity */
		if (e->unknown.name && !strcmp(e->unknown.name, "last"))
			break;
		canon_u32(c, e->unknown.attrs_len);
		if (e->unknown.attrs_len)
			canon_bytes(c, e->unknown.attrs, e->unknown.attrs_len);
		break;
	case CG_EXPR_QUOTA:
		/* its attributes hold the bytes used so far, which change from
		 * one reading to the next: the kind alone */
		canon_str(c, e->unknown.name);
		break;
	case CG_EXPR_COUNTER:
	case CG_EXPR_NOTRACK:
		break;
	}
}

static void canon_rule(struct canon *c, const struct cg_rule *r)
{
	struct cg_expr_buf eb;
	const struct cg_expr *v = rule_exprs(r, &eb);

	canon_u16(c, r->n_exprs);
	for (uint32_t i = 0; i < r->n_exprs; i++)
		put_expr(c, &v[i]);
	expr_buf_free(&eb);
	canon_str(c, r->comment);
}

bool rule_equal(const struct cg_rule *a, const struct cg_rule *b)
{
	struct canon ca = { 0 }, cb = { 0 };
	bool same;

	if (a->n_exprs != b->n_exprs)
		return false;
	canon_rule(&ca, a);
	canon_rule(&cb, b);
	same = ca.len == cb.len && memcmp(ca.buf, cb.buf, ca.len) == 0;
	free(ca.buf);
	free(cb.buf);
	return same;
}

uint64_t rule_hash(const struct cg_rule *r)
{
	struct canon c = { 0 };
	uint64_t h;

	canon_rule(&c, r);
	h = hash_bytes(c.buf, (uint32_t)c.len);
	free(c.buf);
	return h;
}
