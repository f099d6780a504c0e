/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Expression and statement nodes as the printer builds them: constructors
 * (nft's expression.c and statement.c), typing (expr_set_type()), and the
 * register widths values are cut by. All memory from the context's arena. */
#include "config.h"

#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nft-internal.h"

/* ==== expressions ============================================================= */

struct node *nftp_node_new(struct ctx *c, enum node_type type, const struct dtype *dt,
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

struct node *nftp_node_clone(struct ctx *c, const struct node *n)
{
	struct node *r;

	if (!n)
		return NULL;
	r = arena_memdup(c->a, n, sizeof(*n));
	if (n->value)
		r->value = arena_memdup(c->a, n->value, sizeof(*n->value));
	r->left = nftp_node_clone(c, n->left);
	r->right = nftp_node_clone(c, n->right);
	r->items = NULL;
	r->cap_items = n->n_items;
	if (n->n_items) {
		r->items = arena_alloc(c->a, n->n_items * sizeof(*r->items));
		for (unsigned i = 0; i < n->n_items; i++)
			r->items[i] = nftp_node_clone(c, n->items[i]);
	}
	/* an anonymous set's elements are shared: postprocessing edits them in
	 * place once, like nft's refcounted set */
	return r;
}

void nftp_node_add_item(struct ctx *c, struct node *list, struct node *item)
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

struct node *nftp_value_new(struct ctx *c, const struct dtype *dt, enum byteorder bo,
		       unsigned len, const struct num *v)
{
	struct node *n = nftp_node_new(c, N_VALUE, dt, bo, len);

	n->value = arena_alloc(c->a, sizeof(*n->value));
	if (v)
		*n->value = *v;
	return n;
}

struct node *nftp_data_value(struct ctx *c, const struct cg_data *d)
{
	struct num v = nftp_num_from_bytes(d->bytes, d->len);

	return nftp_value_new(c, &nftp_dt_invalid, BO_INVALID, d->len * 8u, &v);
}

unsigned nftp_register_space(unsigned bits)
{
	return (bits + NFT_REG32_SIZE * 8 - 1) / (NFT_REG32_SIZE * 8);
}

unsigned nftp_padded_len(unsigned bits)
{
	return nftp_register_space(bits) * NFT_REG32_SIZE * 8;
}

/* constant_expr_splice(): the top `len` bits of v, which keeps the rest */
struct node *nftp_value_splice(struct ctx *c, struct node *v, unsigned len)
{
	struct num mask, slice = *v->value;

	if (len > v->len)
		len = v->len;
	mask = nftp_num_mask(len);
	nftp_num_shl(&mask, v->len - len);
	nftp_num_and(&slice, &slice, &mask);
	nftp_num_shr(&slice, v->len - len);
	v->len -= len;
	return nftp_value_new(c, &nftp_dt_invalid, BO_INVALID, len, &slice);
}

struct node *nftp_relational_new(struct ctx *c, enum op op, struct node *l, struct node *r)
{
	struct node *n = nftp_node_new(c, N_RELATIONAL, &nftp_dt_verdict, BO_INVALID, 0);

	n->op = op;
	n->left = l;
	n->right = r;
	return n;
}

struct node *nftp_binop_new(struct ctx *c, enum op op, struct node *l, struct node *r)
{
	struct node *n = nftp_node_new(c, N_BINOP, l->dtype, l->byteorder, l->len);

	n->op = op;
	n->left = l;
	n->right = r;
	return n;
}

struct node *nftp_prefix_new(struct ctx *c, struct node *v, unsigned plen)
{
	struct node *n = nftp_node_new(c, N_PREFIX, &nftp_dt_invalid, BO_INVALID, v->len);

	n->left = v;
	n->prefix_len = plen;
	return n;
}

struct node *nftp_range_new(struct ctx *c, struct node *lo, struct node *hi)
{
	struct node *n = nftp_node_new(c, N_RANGE, lo->dtype, lo->byteorder, lo->len);

	n->left = lo;
	n->right = hi;
	return n;
}

void nftp_node_set_type(struct node *n, const struct dtype *dt, enum byteorder bo)
{
	switch (n->type) {
	case N_PREFIX:
		nftp_node_set_type(n->left, dt, bo);
		return;
	case N_RANGE:
		nftp_node_set_type(n->left, dt, bo);
		nftp_node_set_type(n->right, dt, bo);
		return;
	case N_SET:
		for (unsigned i = 0; i < n->n_items; i++)
			nftp_node_set_type(n->items[i], dt, bo);
		return;
	case N_MAPPING:
		nftp_node_set_type(n->left, dt, bo);
		return;
	default:
		n->dtype = dt;
		n->byteorder = bo;
	}
}

/* flag_expr_alloc() + bitmask_expr_to_binops(): several flags become an OR
 * of single flags, printed "a | b" */
struct node *nftp_bitmask_to_binops(struct ctx *c, struct node *v)
{
	struct node *binop = NULL;

	if (nftp_num_popcount(v->value) <= 1)
		return v;
	for (unsigned bit = nftp_num_scan1(v->value, 0); bit != NO_BIT; bit = nftp_num_scan1(v->value, bit + 1)) {
		struct num one = { 0 };
		struct node *flag;

		nftp_num_setbit(&one, bit);
		flag = nftp_value_new(c, v->dtype, v->byteorder, v->len, &one);
		binop = binop ? nftp_binop_new(c, OP_OR, binop, flag) : flag;
	}
	return binop;
}

/* ==== statements ============================================================== */

struct stmt *nftp_stmt_new(struct ctx *c, enum stmt_type type)
{
	struct stmt *s = arena_alloc(c->a, sizeof(*s));

	s->type = type;
	s->dir = -1;
	return s;
}

void nftp_stmt_append(struct stmt_list *l, struct stmt *s)
{
	s->prev = l->tail;
	s->next = NULL;
	if (l->tail)
		l->tail->next = s;
	else
		l->head = s;
	l->tail = s;
}

void nftp_stmt_insert_before(struct stmt_list *l, struct stmt *pos, struct stmt *s)
{
	s->next = pos;
	s->prev = pos->prev;
	if (pos->prev)
		pos->prev->next = s;
	else
		l->head = s;
	pos->prev = s;
}

void nftp_stmt_unlink(struct stmt_list *l, struct stmt *s)
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
