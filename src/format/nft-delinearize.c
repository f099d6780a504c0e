/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Step 1 of listing a rule (netlink_delinearize.c, first half): the
 * expressions are read in order into statements, with a register file
 * holding what each load put where (payload, meta, ct, immediates, masks),
 * so a cmp/range/lookup becomes a relation between an expression tree and a
 * value. */
#include "config.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nft-internal.h"

/* the register file (nft-regs.c) */
static void reg_set(struct parse *p, unsigned reg, struct node *n) { nftp_reg_set(p, reg, n); }
static struct node *reg_get(struct parse *p, unsigned reg) { return nftp_reg_get(p, reg); }
static void emit(struct parse *p, struct stmt *s) { nftp_emit(p, s); }
static struct node *concat_regs(struct parse *p, unsigned reg, unsigned len, struct node *data)
{
	return nftp_concat_regs(p, reg, len, data);
}

static void emit_unsupported(struct parse *p, const char *what)
{
	struct stmt *s = nftp_stmt_new(p->c, S_UNSUPPORTED);

	s->what = what;
	emit(p, s);
}

static void emit_expr(struct parse *p, struct node *rel)
{
	struct stmt *s = nftp_stmt_new(p->c, S_EXPR);

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
	struct node *left = reg_get(p, e->cmp.sreg), *right = nftp_data_value(p->c, &e->cmp.data);

	if (left->type != N_UNSUPPORTED && left->len > right->len &&
	    nftp_dtype_base(left->dtype) != &nftp_dt_string) {
		/* a shorter value compares the field's leading bytes: a prefix */
		unsigned plen = right->len;

		nftp_num_shl(right->value, left->len - right->len);
		right->len = left->len;
		right = nftp_prefix_new(p->c, right, plen);
	} else if (left->type != N_UNSUPPORTED && left->len > 0 && left->len < right->len) {
		/* a longer value spans several registers: a concatenation */
		struct node *l = concat_regs(p, e->cmp.sreg, right->len, NULL);
		struct node *r = l ? concat_regs(p, e->cmp.sreg, right->len, right) : NULL;

		if (!r) {
			emit_unsupported(p, "cmp (concatenation)");
			return;
		}
		left = l;
		right = r;
	}
	emit_expr(p, nftp_relational_new(p->c, cmp_op(e->cmp.op), left, right));
}

static void parse_range(struct parse *p, const struct cg_expr *e)
{
	struct node *left = reg_get(p, e->range.sreg);
	struct node *r = nftp_range_new(p->c, nftp_data_value(p->c, &e->range.from),
					 nftp_data_value(p->c, &e->range.to));
	enum op op = e->range.op == NFT_RANGE_EQ ? OP_EQ : e->range.op == NFT_RANGE_NEQ ? OP_NEQ : OP_INVALID;

	emit_expr(p, nftp_relational_new(p->c, op, left, r));
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
		left = concat_regs(p, e->lookup.sreg, set->key_len * 8, NULL);
		if (!left) {
			emit_unsupported(p, "lookup (concatenation)");
			return;
		}
	}
	right = nftp_set_ref_new(p->c, set, left);
	if (e->lookup.dreg != NFT_REG_VERDICT || nftp_set_is_vmap(set)) {
		n = nftp_node_new(p->c, N_MAP, &nftp_dt_invalid, BO_INVALID, set->data_len * 8);
		n->left = left;
		n->right = right;
		if (e->lookup.dreg != NFT_REG_VERDICT) {
			if (set->data_type != NFT_DATA_VERDICT) {
				n->dtype = nftp_dtype_by_id(set->data_type);
				n->byteorder = n->dtype->byteorder;
			}
			reg_set(p, e->lookup.dreg, n);
			return;
		}
	} else {
		n = nftp_relational_new(p->c, OP_EQ, left, right);
	}
	if (e->lookup.invert)
		n->op = OP_NEQ;
	emit_expr(p, n);
}

/* netlink_parse_bitwise_bool(): (x & mask) ^ xor, printed as &, ^ and | */
static struct node *bitwise_bool(struct parse *p, const struct cg_expr *e, struct node *left)
{
	struct node *mask = nftp_data_value(p->c, &e->bitwise.data->mask);
	struct node *xor = nftp_data_value(p->c, &e->bitwise.data->xor);
	struct num m = *mask->value, x = *xor->value, o = { 0 };
	struct node *n = left;

	if (nftp_num_scan0(&m, 0) != mask->len || !nftp_num_is_zero(&x)) {
		/* o = (m & x) ^ x; x &= m; m |= o: bits set by xor where the
		 * mask clears them are an OR */
		nftp_num_and(&o, &m, &x);
		nftp_num_xor(&o, &o, &x);
		nftp_num_and(&x, &x, &m);
		nftp_num_or(&m, &m, &o);
	}
	if (!(left->len > 0 && nftp_num_scan0(&m, 0) == left->len)) {
		*mask->value = m;
		n = nftp_binop_new(p->c, OP_AND, n, mask);
		n->len = left->len;
	}
	if (!nftp_num_is_zero(&x)) {
		*xor->value = x;
		n = nftp_binop_new(p->c, OP_XOR, n, xor);
		n->len = left->len;
	}
	if (!nftp_num_is_zero(&o)) {
		struct node *or = nftp_data_value(p->c, &e->bitwise.data->xor);

		*or->value = o;
		n = nftp_binop_new(p->c, OP_OR, n, or);
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
		struct node *sh = nftp_data_value(p->c, &e->bitwise.data->shift);

		sh->byteorder = BO_HOST;
		n = nftp_binop_new(p->c, e->bitwise.op == NFT_BITWISE_LSHIFT ? OP_LSHIFT : OP_RSHIFT, left, sh);
		n->len = left->len;
		break;
	}
	default:
		n = nftp_node_new(p->c, N_UNSUPPORTED, &nftp_dt_invalid, BO_INVALID, left->len);
		n->what = "bitwise";
		break;
	}
	reg_set(p, e->bitwise.dreg, n);
}

static void parse_byteorder(struct parse *p, const struct cg_expr *e)
{
	struct node *arg = reg_get(p, e->byteorder.sreg);
	struct node *n = nftp_node_new(p->c, N_UNARY, arg->dtype, arg->byteorder, arg->len);

	n->op = e->byteorder.op == NFT_BYTEORDER_NTOH ? OP_NTOH : OP_HTON;
	n->left = arg;
	reg_set(p, e->byteorder.dreg, n);
}

static void parse_payload(struct parse *p, const struct cg_expr *e)
{
	struct node *n = nftp_payload_raw(p->c, e->payload.base + 1u, e->payload.offset * 8, e->payload.len * 8);

	reg_set(p, e->payload.dreg, n);
}

static void parse_payload_set(struct parse *p, const struct cg_expr *e)
{
	struct stmt *s = nftp_stmt_new(p->c, S_PAYLOAD);

	s->expr = reg_get(p, e->payload_set.sreg);
	s->target = nftp_payload_raw(p->c, e->payload_set.base + 1u, e->payload_set.offset * 8,
				e->payload_set.len * 8);
	emit(p, s);
}

/* a meta or ct statement: the key set to a register's value, typed as the key */
static struct stmt *key_set_stmt(struct parse *p, enum stmt_type type, uint32_t key, uint32_t reg,
				 const struct key_tmpl *t)
{
	struct stmt *s = nftp_stmt_new(p->c, type);

	s->key = key;
	s->expr = reg_get(p, reg);
	if (t)
		nftp_node_set_type(s->expr, t->dtype, t->byteorder);
	if (t && t->byteorder == BO_HOST && s->expr->type == N_MAP && s->expr->right->type == N_SET_REF &&
	    s->expr->right->set_init) {
		/* a map's values are the key's register contents: host-endian
		 * where the key is ("ct zone set ... map { 0x1 : 1 }") */
		struct node *init = s->expr->right->set_init;

		for (unsigned i = 0; i < init->n_items; i++) {
			struct node *v = init->items[i]->type == N_MAPPING ? init->items[i]->right : NULL;

			if (!v || v->type != N_VALUE || v->byteorder == BO_HOST)
				continue;
			nftp_num_swap(v->value, v->len / 8);
			v->byteorder = BO_HOST;
			v->dtype = t->dtype;
		}
	}
	return s;
}

static void parse_meta(struct parse *p, const struct cg_expr *e, bool set)
{
	if (!set) {
		reg_set(p, e->meta.reg, nftp_meta_new(p->c, e->meta.key));
		return;
	}
	emit(p, key_set_stmt(p, S_META, e->meta.key, e->meta.reg, nftp_meta_tmpl(e->meta.key)));
}

static void parse_ct(struct parse *p, const struct cg_expr *e, bool set)
{
	struct stmt *s;

	if (!set) {
		reg_set(p, e->ct.reg, nftp_ct_new(p->c, e->ct.key, e->ct.dir));
		return;
	}
	s = key_set_stmt(p, S_CT, e->ct.key, e->ct.reg, nftp_ct_tmpl(e->ct.key));
	s->dir = e->ct.dir;
	emit(p, s);
}

static void parse_immediate(struct parse *p, const struct cg_expr *e)
{
	struct stmt *s;

	if (e->immediate.dreg != NFT_REG_VERDICT) {
		reg_set(p, e->immediate.dreg, nftp_data_value(p->c, &e->immediate.data));
		return;
	}
	s = nftp_stmt_new(p->c, S_VERDICT);
	s->expr = nftp_node_new(p->c, N_VERDICT, &nftp_dt_verdict, BO_INVALID, 0);
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
		nftp_node_set_type(n, dt, BO_BIG);
	}
	if (reg_max && reg_max != reg_min) {
		hi = reg_get(p, reg_max);
		nftp_node_set_type(hi, dt, BO_BIG);
		n = n ? nftp_range_new(p->c, n, hi) : hi;
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
	nftp_num_xor(&x, lo->value, hi->value);
	n1 = nftp_num_scan0(&x, 0);
	n2 = nftp_num_scan1(&x, n1 + 1);
	if (n2 < len)
		return range;
	plen = len - n1;
	if (nftp_num_scan1(lo->value, 0) < len - plen)
		return range;
	return nftp_prefix_new(c, range->left, plen);
}

static void parse_nat(struct parse *p, const struct cg_expr *e)
{
	struct stmt *s = nftp_stmt_new(p->c, S_NAT);
	const struct dtype *adt = e->nat.family == NFPROTO_IPV6 ? &nftp_dt_ip6addr : &nftp_dt_ipaddr;

	s->nat.kind = e->nat.type == NFT_NAT_DNAT ? NAT_DNAT : NAT_SNAT;
	if (p->c->family == NFPROTO_INET)
		s->nat.family = e->nat.family;
	s->nat.flags = e->nat.flags;
	if (s->nat.flags & NF_NAT_RANGE_NETMAP)
		s->nat.type_flags |= NAT_F_PREFIX;
	if (e->nat.reg_addr_min) {
		struct node *a = reg_get(p, e->nat.reg_addr_min);

		if (a->type == N_MAP && a->len > (e->nat.family == NFPROTO_IPV6 ? 128u : 32u)) {
			/* is_nat_proto_map(): a map to address . port (or to a
			 * prefix, start and end) gives both; nft names the family */
			s->nat.family = e->nat.family;
			s->nat.addr = a;
			emit(p, s);
			return;
		}
	}
	s->nat.addr = nat_operand(p, e->nat.reg_addr_min, e->nat.reg_addr_max, adt);
	if (s->nat.addr && s->nat.addr->type == N_RANGE)
		s->nat.addr = range_to_prefix(p->c, s->nat.addr);
	s->nat.proto = nat_operand(p, e->nat.reg_proto_min, e->nat.reg_proto_max, &nftp_dt_inet_service);
	emit(p, s);
}

static void parse_masq_redir(struct parse *p, const struct cg_expr *e)
{
	struct stmt *s = nftp_stmt_new(p->c, S_NAT);

	s->nat.kind = e->type == CG_EXPR_MASQ ? NAT_MASQ : NAT_REDIR;
	s->nat.flags = e->masq_redir.flags;
	s->nat.proto = nat_operand(p, e->masq_redir.reg_proto_min, e->masq_redir.reg_proto_max,
				   &nftp_dt_inet_service);
	emit(p, s);
}

/* netlink_parse_fib(), fib_expr_alloc(): the result typed as what it holds,
 * a boolean when the expression only says whether there is one */
static void parse_fib(struct parse *p, const struct cg_expr *e)
{
	const struct dtype *dt;
	unsigned len = 32;
	struct node *n;

	switch (e->fib.result) {
	case NFT_FIB_RESULT_OIF:
		dt = &nftp_dt_ifindex;
		break;
	case NFT_FIB_RESULT_OIFNAME:
		dt = &nftp_dt_ifname;
		len = 16 * 8;
		break;
	case NFT_FIB_RESULT_ADDRTYPE:
		dt = &nftp_dt_fib_addr;
		break;
	default:
		/* nft itself refuses to list it (BUG() in fib_expr_alloc) */
		dt = &nftp_dt_integer;
		break;
	}
	if (e->fib.flags & NFTA_FIB_F_PRESENT)
		dt = &nftp_dt_boolean;
	n = nftp_node_new(p->c, N_FIB, dt, BO_HOST, len);
	n->key = e->fib.result;
	n->fib_flags = e->fib.flags;
	reg_set(p, e->fib.dreg, n);
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
	struct stmt *s = nftp_stmt_new(p->c, S_UNSUPPORTED);

	s->what = name && *name ? name : "unknown expression";
	if (unknown_loads_register(s->what)) {
		s->loads = true;
		p->loader = s;
	}
	emit(p, s);
}

static void parse_simple(struct parse *p, const struct cg_expr *e, enum stmt_type type)
{
	struct stmt *s = nftp_stmt_new(p->c, type);

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
	case CG_EXPR_QUOTA:
		if (!nftp_parse_extra(p, e))
			parse_simple(p, e, S_QUOTA);
		break;
	case CG_EXPR_REJECT: parse_simple(p, e, S_REJECT); break;
	case CG_EXPR_NOTRACK: parse_simple(p, e, S_NOTRACK); break;
	case CG_EXPR_XT_MATCH:
	case CG_EXPR_XT_TARGET: parse_simple(p, e, S_XT); break;
	case CG_EXPR_NAT: parse_nat(p, e); break;
	case CG_EXPR_MASQ:
	case CG_EXPR_REDIR: parse_masq_redir(p, e); break;
	case CG_EXPR_FIB: parse_fib(p, e); break;
	case CG_EXPR_UNKNOWN:
		if (nftp_parse_extra(p, e))
			break;
		if (unknown_loads_register(e->unknown.name ? e->unknown.name : ""))
			/* its destination is unknown: no register still holds what it held */
			memset(p->regs, 0, sizeof(p->regs));
		parse_unknown(p, e->unknown.name);
		break;
	default: parse_unknown(p, expr_type_to_string(e->type)); break;
	}
}

void nftp_rule_delinearize(struct ctx *c, const struct cg_expr *ex, uint32_t n, struct stmt_list *list)
{
	struct parse p = { .c = c, .list = list };

	for (uint32_t i = 0; i < n; i++)
		parse_expr(&p, &ex[i]);
}
