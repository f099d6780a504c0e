/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A rule's identity in the model: what finds the same rule again in another
 * reading of the ruleset (the fix stage re-reads a table under its lock),
 * and what tells a scheduled audit whether the rule that blocks is still the
 * same one. Its printed text would do neither well: printing is the format
 * stage's, and it may leave out what it cannot show.
 *
 * Each rule is written out as a canonical byte string: every expression's
 * kind and fields, in order, then the comment. Pointers become what they
 * name: a jump's target chain by its name, a named set by its name (an
 * anonymous one, whose name the kernel makes up per table, by its
 * elements), a decoded xt value by its fields (the blob only when it was not
 * decoded). Two rules are equal when their strings are; the hash is the
 * string's. Neither the chain, the position nor the handle is part of it:
 * the callers add what their backend has. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/xt.h"

struct canon {
	uint8_t *buf;
	size_t len, cap;
};

static void put(struct canon *c, const void *p, size_t n)
{
	grow_array((void **)&c->buf, &c->cap, c->len + n, 1);
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static void put_u8(struct canon *c, uint8_t v)
{
	put(c, &v, 1);
}

static void put_u16(struct canon *c, uint16_t v)
{
	put(c, &v, sizeof(v));
}

static void put_u32(struct canon *c, uint32_t v)
{
	put(c, &v, sizeof(v));
}

static void put_u64(struct canon *c, uint64_t v)
{
	put(c, &v, sizeof(v));
}

/* A string with its NUL; NULL differs from "" (a 0xff marker). */
static void put_str(struct canon *c, const char *s)
{
	if (s)
		put(c, s, strlen(s) + 1);
	else
		put_u8(c, 0xff);
}

static void put_data(struct canon *c, const struct cg_data *d)
{
	put_u8(c, d->len);
	if (d->len)
		put(c, d->bytes, d->len);
}

static void put_addr(struct canon *c, const struct cg_addr *a)
{
	put_u8(c, (uint8_t)a->family);
	put(c, a->bytes, (size_t)addr_family_len(a->family));
}

static void put_ports(struct canon *c, const struct xt_port_range *r)
{
	put_u16(c, r->lo);
	put_u16(c, r->hi);
}

static void put_verdict(struct canon *c, const struct cg_verdict *v)
{
	put_u8(c, (uint8_t)v->code);
	if (v->code == CG_VERDICT_JUMP || v->code == CG_VERDICT_GOTO)
		put_str(c, v->chain ? v->chain->name : v->chain_name);
}

/* The decoded value of an xt extension, field by field (the union member
 * of its kind only: the value is allocated that long). */
static void put_xt_decoded(struct canon *c, const struct xt_decoded *d)
{
	put_u8(c, (uint8_t)d->kind);
	put_u8(c, d->nfproto);
	switch (d->kind) {
	case XT_MATCH_TCP:
	case XT_MATCH_UDP:
		put_ports(c, &d->tcpudp.sport);
		put_ports(c, &d->tcpudp.dport);
		put_u8(c, d->tcpudp.invflags);
		put_u8(c, d->tcpudp.option);
		put_u8(c, d->tcpudp.flg_mask);
		put_u8(c, d->tcpudp.flg_cmp);
		break;
	case XT_MATCH_ICMP:
	case XT_MATCH_ICMP6:
		put_u8(c, d->icmp.type);
		put_u8(c, d->icmp.code_min);
		put_u8(c, d->icmp.code_max);
		put_u8(c, d->icmp.invert);
		break;
	case XT_MATCH_MULTIPORT: {
		uint8_t n = d->multiport.count < XT_DEC_MULTI_PORTS ? d->multiport.count : XT_DEC_MULTI_PORTS;

		put_u8(c, d->multiport.flags);
		put_u8(c, n);
		put(c, d->multiport.ports, n * sizeof(d->multiport.ports[0]));
		put(c, d->multiport.pflags, n);
		put_u8(c, d->multiport.invert);
		break;
	}
	case XT_MATCH_CONNTRACK: {
		const struct xt_conntrack_dec *ct = &d->conntrack;

		put_u16(c, ct->match_flags);
		put_u16(c, ct->invert_flags);
		put_u16(c, ct->state_mask);
		put_u16(c, ct->status_mask);
		put_u16(c, ct->l4proto);
		put_addr(c, &ct->origsrc);
		put_addr(c, &ct->origsrc_mask);
		put_addr(c, &ct->origdst);
		put_addr(c, &ct->origdst_mask);
		put_addr(c, &ct->replsrc);
		put_addr(c, &ct->replsrc_mask);
		put_addr(c, &ct->repldst);
		put_addr(c, &ct->repldst_mask);
		put_ports(c, &ct->origsrc_port);
		put_ports(c, &ct->origdst_port);
		put_ports(c, &ct->replsrc_port);
		put_ports(c, &ct->repldst_port);
		put_u32(c, ct->expires_min);
		put_u32(c, ct->expires_max);
		break;
	}
	case XT_MATCH_STATE:
		put_u32(c, d->state.statemask);
		break;
	case XT_MATCH_MARK:
	case XT_MATCH_CONNMARK:
		put_u32(c, d->mark.mark);
		put_u32(c, d->mark.mask);
		put_u8(c, d->mark.invert);
		break;
	case XT_MATCH_COMMENT:
		put_str(c, d->comment);
		break;
	case XT_MATCH_ADDRTYPE:
		put_u16(c, d->addrtype.source);
		put_u16(c, d->addrtype.dest);
		put_u8(c, d->addrtype.invert_source);
		put_u8(c, d->addrtype.invert_dest);
		put_u8(c, d->addrtype.limit_iface_in);
		put_u8(c, d->addrtype.limit_iface_out);
		break;
	case XT_MATCH_IPRANGE:
		put_u8(c, d->iprange.flags);
		put_addr(c, &d->iprange.src_min);
		put_addr(c, &d->iprange.src_max);
		put_addr(c, &d->iprange.dst_min);
		put_addr(c, &d->iprange.dst_max);
		break;
	case XT_MATCH_PKTTYPE:
		put_u32(c, (uint32_t)d->pkttype.pkttype);
		put_u8(c, d->pkttype.invert);
		break;
	case XT_MATCH_SET:
		put_u16(c, d->set.index);
		put_u8(c, d->set.dim);
		put_u8(c, d->set.flags);
		put_u32(c, d->set.v3_flags);
		put_u8(c, d->set.packets.op);
		put_u64(c, d->set.packets.value);
		put_u8(c, d->set.bytes.op);
		put_u64(c, d->set.bytes.value);
		break;
	case XT_MATCH_STATISTIC:
		put_u16(c, d->statistic.mode);
		put_u16(c, d->statistic.flags);
		put_u32(c, d->statistic.probability);
		put_u32(c, d->statistic.every);
		put_u32(c, d->statistic.packet);
		break;
	case XT_MATCH_LIMIT:
		put_u32(c, d->limit.avg);
		put_u32(c, d->limit.burst);
		break;
	case XT_TARGET_STANDARD:
		put_u32(c, (uint32_t)d->standard.verdict);
		break;
	case XT_TARGET_REJECT:
		put_u32(c, d->reject.with);
		break;
	case XT_TARGET_MARK:
		put_u32(c, d->mark_tg.mark);
		put_u32(c, d->mark_tg.mask);
		break;
	case XT_TARGET_CONNMARK:
		put_u8(c, d->connmark_tg.mode);
		put_u32(c, d->connmark_tg.ctmark);
		put_u32(c, d->connmark_tg.ctmask);
		put_u32(c, d->connmark_tg.nfmask);
		put_u8(c, d->connmark_tg.shift_dir);
		put_u8(c, d->connmark_tg.shift_bits);
		break;
	case XT_TARGET_DNAT:
	case XT_TARGET_SNAT:
	case XT_TARGET_MASQUERADE:
	case XT_TARGET_REDIRECT:
		put_u32(c, d->nat.flags);
		put_addr(c, &d->nat.min_addr);
		put_addr(c, &d->nat.max_addr);
		put_u16(c, d->nat.min_port);
		put_u16(c, d->nat.max_port);
		put_u16(c, d->nat.base_port);
		break;
	case XT_TARGET_LOG:
		put_u8(c, d->log.level);
		put_u8(c, d->log.logflags);
		put_str(c, d->log.prefix);
		break;
	case XT_TARGET_NFLOG:
		put_u32(c, d->nflog.len);
		put_u16(c, d->nflog.group);
		put_u16(c, d->nflog.threshold);
		put_u16(c, d->nflog.flags);
		put_str(c, d->nflog.prefix);
		break;
	case XT_TARGET_TRACE:
		break;
	case XT_TARGET_CT:
		put_u16(c, d->ct.flags);
		put_u16(c, d->ct.zone);
		put_u32(c, d->ct.ct_events);
		put_u32(c, d->ct.exp_events);
		put_str(c, d->ct.helper);
		put_str(c, d->ct.timeout);
		break;
	default:
		/* not a kind a decoder makes (a count of them, say) */
		break;
	}
}

static void put_elem(struct canon *c, const struct cg_set_elem *el)
{
	put_data(c, &el->key);
	put_data(c, &el->key_end);
	put_u8(c, el->interval_end);
	put_u8(c, el->catchall);
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
		put_str(c, name);
		if (!name)
			put_u32(c, s ? s->id : e->lookup.set_id);
		return;
	}
	put_u32(c, s->flags);
	put_u32(c, s->key_len);
	put_u32(c, s->n_elems);
	elems = xcalloc(s->n_elems ? s->n_elems : 1, sizeof(*elems));
	for (uint32_t i = 0; i < s->n_elems; i++)
		put_elem(&elems[i], &s->elems[i]);
	qsort(elems, s->n_elems, sizeof(*elems), canon_cmp);
	for (uint32_t i = 0; i < s->n_elems; i++) {
		put(c, elems[i].buf, elems[i].len);
		free(elems[i].buf);
	}
	free(elems);
}

static void put_expr(struct canon *c, const struct cg_expr *e)
{
	put_u8(c, (uint8_t)e->type);
	switch (e->type) {
	case CG_EXPR_PAYLOAD:
		put_u8(c, e->payload.dreg);
		put_u8(c, e->payload.base);
		put_u32(c, e->payload.offset);
		put_u32(c, e->payload.len);
		break;
	case CG_EXPR_PAYLOAD_SET:
		put_u8(c, e->payload_set.sreg);
		put_u8(c, e->payload_set.base);
		put_u32(c, e->payload_set.offset);
		put_u32(c, e->payload_set.len);
		put_u32(c, e->payload_set.csum_type);
		put_u32(c, e->payload_set.csum_offset);
		break;
	case CG_EXPR_META:
	case CG_EXPR_META_SET:
		put_u32(c, e->meta.key);
		put_u8(c, e->meta.reg);
		break;
	case CG_EXPR_CT:
	case CG_EXPR_CT_SET:
		put_u32(c, e->ct.key);
		put_u8(c, e->ct.reg);
		put_u8(c, (uint8_t)e->ct.dir);
		break;
	case CG_EXPR_CMP:
		put_u8(c, e->cmp.sreg);
		put_u32(c, e->cmp.op);
		put_data(c, &e->cmp.data);
		break;
	case CG_EXPR_BITWISE:
		put_u8(c, e->bitwise.sreg);
		put_u8(c, e->bitwise.dreg);
		put_u32(c, e->bitwise.op);
		put_u32(c, e->bitwise.len);
		put_u8(c, e->bitwise.data != NULL);
		if (e->bitwise.data) {
			put_data(c, &e->bitwise.data->mask);
			put_data(c, &e->bitwise.data->xor);
			put_data(c, &e->bitwise.data->shift);
		}
		break;
	case CG_EXPR_BYTEORDER:
		put_u8(c, e->byteorder.sreg);
		put_u8(c, e->byteorder.dreg);
		put_u32(c, e->byteorder.op);
		put_u32(c, e->byteorder.len);
		put_u32(c, e->byteorder.size);
		break;
	case CG_EXPR_RANGE:
		put_u8(c, e->range.sreg);
		put_u32(c, e->range.op);
		put_data(c, &e->range.from);
		put_data(c, &e->range.to);
		break;
	case CG_EXPR_LOOKUP:
		put_u8(c, e->lookup.sreg);
		put_u8(c, e->lookup.dreg);
		put_u8(c, e->lookup.invert);
		put_set_ref(c, e);
		break;
	case CG_EXPR_IMMEDIATE:
		put_u8(c, e->immediate.dreg);
		put_data(c, &e->immediate.data);
		put_verdict(c, &e->immediate.verdict);
		break;
	case CG_EXPR_REJECT:
		put_u32(c, e->reject.type);
		put_u8(c, e->reject.code);
		put_u8(c, e->reject.code_set);
		break;
	case CG_EXPR_NAT:
		put_u32(c, e->nat.type);
		put_u8(c, e->nat.family);
		put_u8(c, e->nat.reg_addr_min);
		put_u8(c, e->nat.reg_addr_max);
		put_u8(c, e->nat.reg_proto_min);
		put_u8(c, e->nat.reg_proto_max);
		put_u32(c, e->nat.flags);
		break;
	case CG_EXPR_MASQ:
	case CG_EXPR_REDIR:
		put_u8(c, e->masq_redir.reg_proto_min);
		put_u8(c, e->masq_redir.reg_proto_max);
		put_u32(c, e->masq_redir.flags);
		break;
	case CG_EXPR_LIMIT:
		put_u64(c, e->limit.rate);
		put_u64(c, e->limit.unit);
		put_u32(c, e->limit.burst);
		put_u32(c, e->limit.type);
		put_u32(c, e->limit.flags);
		put_u8(c, e->limit.set);
		break;
	case CG_EXPR_LOG:
		put_str(c, e->log.prefix);
		put_u16(c, e->log.group);
		put_u16(c, e->log.qthreshold);
		put_u32(c, e->log.snaplen);
		put_u32(c, e->log.level);
		put_u32(c, e->log.logflags);
		put_u32(c, e->log.present);
		break;
	case CG_EXPR_XT_MATCH:
	case CG_EXPR_XT_TARGET:
		put_str(c, e->xt.name);
		put_u8(c, e->xt.revision);
		/* a decoded value says it all (legacy rules keep no blob then) */
		put_u8(c, e->xt.decoded != NULL);
		if (e->xt.decoded) {
			put_xt_decoded(c, e->xt.decoded);
		} else {
			put_u32(c, e->xt.info_len);
			if (e->xt.info && e->xt.info_len)
				put(c, e->xt.info, e->xt.info_len);
		}
		break;
	case CG_EXPR_UNKNOWN:
		put_str(c, e->unknown.name);
		break;
	case CG_EXPR_COUNTER:
	case CG_EXPR_QUOTA:
	case CG_EXPR_NOTRACK:
		break;
	}
}

static void canon_rule(struct canon *c, const struct cg_rule *r)
{
	struct cg_expr_buf eb;
	const struct cg_expr *v = rule_exprs(r, &eb);

	put_u16(c, r->n_exprs);
	for (uint32_t i = 0; i < r->n_exprs; i++)
		put_expr(c, &v[i]);
	expr_buf_free(&eb);
	put_str(c, r->comment);
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
