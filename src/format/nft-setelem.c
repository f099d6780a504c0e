/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Anonymous sets: their elements as nft lists them. The key is cut and typed
 * like the expression it is matched with, concatenations into their fields;
 * interval sets' start/end markers become the values, prefixes, wildcards
 * and ranges that were written (segtree.c); plain sets are sorted as nft's
 * list sort does. */
#include "config.h"

#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nft-internal.h"

/* a verdict map: a lookup in it is the rule's verdict */
bool nftp_set_is_vmap(const struct cg_set *s)
{
	return (s->flags & CG_SET_MAP) && s->data_type == NFT_DATA_VERDICT;
}

static const struct dtype *concat_subtype(uint32_t type, unsigned n)
{
	return nftp_dtype_by_id((type >> (TYPE_BITS * n)) & TYPE_MASK);
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

static struct node *elem_concat(struct ctx *c, const struct cg_set *s, uint32_t type, const struct node *lhs,
				bool key, struct node *data);

/* netlink_parse_concat_elem_key(): a concatenated key cut into its fields */
static struct node *elem_concat_key(struct ctx *c, const struct cg_set *s, const struct node *lhs,
				    struct node *data)
{
	return elem_concat(c, s, s->key_type, lhs, true, data);
}

/* A field nft 1.0.6 lists as 0 without reading it: an integer field of an
 * anonymous data map's concatenated key (`meta mark set ip saddr . ip ttl
 * map { 1.2.3.4 . 64 : 0x1 }` lists as `{ 1.2.3.4 . 0 : 0x00000001 }`, the
 * fields after it read from where it should have started). A type of its
 * own, so the raw payload's hex (nft-postprocess.c) leaves it alone. */
static const struct dtype dt_unread_integer = {
	.type = TYPE_INTEGER, .basetype = &nftp_dt_integer, .hexw = -1, .has_fmt = true,
};

static bool unread_field(const struct cg_set *s, bool key, const struct dtype *sub)
{
	return key && (s->flags & CG_SET_ANONYMOUS) && (s->flags & CG_SET_MAP) &&
	       s->data_type != NFT_DATA_VERDICT && sub == &nftp_dt_integer;
}

static struct node *elem_concat(struct ctx *c, const struct cg_set *s, uint32_t type, const struct node *lhs,
				bool key, struct node *data)
{
	const struct node *item;
	struct node *concat = nftp_node_new(c, N_CONCAT, &nftp_dt_invalid, BO_INVALID, data->len);
	unsigned off = concat_subtypes(type), field = 0;

	while (off > 0) {
		const struct dtype *sub = concat_subtype(type, --off);
		unsigned bits = sub->size ? (sub->size + 7) / 8 * 8 :
			key && field < s->n_fields ? s->field_len[field] * 8u : 32;
		struct node *v;

		if (unread_field(s, key, sub)) {
			static const struct num zero;

			nftp_node_add_item(c, concat, nftp_value_new(c, &dt_unread_integer, BO_HOST, 8, &zero));
			field++;
			continue;
		}

		/* the matched expression's field, when there is one, tells
		 * the length of a field whose type has none */
		item = lhs && lhs->type == N_CONCAT && field < lhs->n_items ? lhs->items[field] : NULL;
		if (item && !sub->size && !(key && field < s->n_fields) && item->len && item->len <= 32)
			bits = (item->len + 7) / 8 * 8;

		if (bits > data->len)
			break;
		v = nftp_value_splice(c, data, bits);
		v->dtype = sub;
		v->byteorder = sub->byteorder;
		if (nftp_dtype_base(sub) == &nftp_dt_string || (!(s->flags & CG_SET_INTERVAL) && v->byteorder == BO_HOST))
			nftp_num_swap(v->value, v->len / 8);
		if (nftp_dtype_is_bitmask(sub))
			v = nftp_bitmask_to_binops(c, v);
		nftp_node_add_item(c, concat, v);
		if (data->len >= nftp_padded_len(bits) - bits)
			data->len -= nftp_padded_len(bits) - bits;
		field++;
	}
	return concat;
}

static struct node *elem_key(struct ctx *c, const struct cg_set *s, const struct cg_data *d,
			     const struct node *lhs)
{
	const struct dtype *dt = set_is_concat(s) ? &nftp_dt_invalid : nftp_dtype_by_id(s->key_type);
	struct node *v = nftp_data_value(c, d);

	v->dtype = dt;
	/* the key's byte order is the matched expression's (nft keeps it in
	 * the set's user data, which the model does not carry) */
	v->byteorder = dt->byteorder;
	if (lhs && lhs->byteorder == BO_HOST)
		v->byteorder = BO_HOST;
	if (set_is_concat(s))
		return elem_concat_key(c, s, lhs, v);
	if (!(s->flags & CG_SET_INTERVAL) && v->byteorder == BO_HOST)
		nftp_num_swap(v->value, v->len / 8);
	if (nftp_dtype_is_bitmask(dt))
		v = nftp_bitmask_to_binops(c, v);
	return v;
}

/* a map to ranges (nat prefix maps): start and end, printed as a prefix
 * when they make one (netlink_parse_interval_elem, range_expr_to_prefix) */
static struct node *range_or_prefix(struct ctx *c, struct node *lo, struct node *hi)
{
	unsigned len = lo->len, n1, n2;
	struct num x;

	if (!lo->dtype->prefix)
		return nftp_range_new(c, lo, hi);
	nftp_num_xor(&x, lo->value, hi->value);
	n1 = nftp_num_scan0(&x, 0);
	n2 = nftp_num_scan1(&x, n1 + 1);
	if (n2 >= len && nftp_num_scan1(lo->value, 0) >= n1)
		return nftp_prefix_new(c, lo, len - n1);
	return nftp_range_new(c, lo, hi);
}

static struct node *elem_data_range(struct ctx *c, const struct dtype *dt, struct node *v)
{
	struct node *lo = nftp_value_splice(c, v, dt->size), *hi = nftp_value_splice(c, v, dt->size);

	lo->dtype = hi->dtype = dt;
	lo->byteorder = hi->byteorder = dt->byteorder;
	return range_or_prefix(c, lo, hi);
}

static struct node *elem_data(struct ctx *c, const struct cg_set *s, const struct cg_set_elem *e)
{
	const struct dtype *dt;
	struct node *v;

	if (s->data_type == NFT_DATA_VERDICT) {
		v = nftp_node_new(c, N_VERDICT, &nftp_dt_verdict, BO_INVALID, 0);
		v->verdict = &e->verdict;
		return v;
	}
	if (s->data_type & ~TYPE_MASK) {
		/* netlink_parse_concat_elem(): a concatenated value (nat maps) */
		unsigned padded = 0, n = concat_subtypes(s->data_type);

		for (unsigned i = 0; i < n; i++)
			padded += nftp_padded_len(concat_subtype(s->data_type, i)->size);
		v = nftp_data_value(c, &e->data);
		if (padded && v->len == 2 * padded) {
			/* ranges (nat maps to "prefix . port-range"): the
			 * fields' starts, then their ends */
			struct node *lo = elem_concat(c, s, s->data_type, NULL, false, nftp_value_splice(c, v, padded));
			struct node *hi = elem_concat(c, s, s->data_type, NULL, false, v);

			for (unsigned i = 0; i < lo->n_items && i < hi->n_items; i++) {
				struct node *a = lo->items[i], *b = hi->items[i];

				if (a->type != N_VALUE || b->type != N_VALUE || !nftp_num_cmp(a->value, b->value))
					continue;
				lo->items[i] = range_or_prefix(c, a, b);
			}
			return lo;
		}
		return elem_concat(c, s, s->data_type, NULL, false, v);
	}
	dt = nftp_dtype_by_id(s->data_type);
	v = nftp_data_value(c, &e->data);
	if (dt->size && v->len == 2 * dt->size && dt->byteorder == BO_BIG)
		return elem_data_range(c, dt, v);
	v->dtype = dt;
	v->byteorder = dt->byteorder;
	if (v->byteorder == BO_HOST)
		nftp_num_swap(v->value, v->len / 8);
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
			nftp_num_to_bytes(it->value, data + len, ilen);
			if (it->byteorder == BO_HOST)
				nftp_bytes_reverse(data + len, ilen);
			len += ilen;
		}
		for (unsigned i = 0; i < len; i++)
			v->b[NUM_BYTES - 1 - i] = data[i];
		return;
	}
	case N_CATCHALL:
		*v = nftp_num_mask(n->len);
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
	return nftp_num_cmp(&va, &vb);
}

/* expr_value_cmp() of interval_map_decompose(): an end marker sorts first */
static int interval_cmp(const struct node *a, const struct node *b)
{
	const struct node *va = elem_value(a), *vb = elem_value(b);
	int r;

	if (va->type != N_VALUE || vb->type != N_VALUE)
		return va->type == N_VALUE ? 1 : -1;
	r = nftp_num_cmp(va->value, vb->value);
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
	m = nftp_node_new(c, N_MAPPING, key->dtype, key->byteorder, key->len);
	m->left = key;
	m->right = nftp_node_clone(c, low->right);
	return m;
}

static bool range_is_prefix(const struct num *range)
{
	struct num t = *range, one = nftp_num_from_u64(1);

	nftp_num_add(&t, &t, &one);
	nftp_num_and(&t, &t, range);
	return nftp_num_is_zero(&t);
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
	nftp_num_to_bytes(key->value, data, len);
	slen = (unsigned)strnlen((const char *)data, len);
	if (slen >= len || slen == 0)
		return NULL;
	data[slen] = '*';
	for (unsigned i = 0; i <= slen; i++)
		n.b[NUM_BYTES - 1 - i] = data[i];
	return elem_with_key(c, low, nftp_value_new(c, key->dtype, BO_HOST, (slen + 1) * 8, &n));
}

/* add_interval(): [low, end) as a value, a prefix, a wildcard or a range */
static void add_interval(struct ctx *c, struct node *set, struct node *low, const struct node *end,
			 bool end_is_value)
{
	struct node *key = nftp_node_clone(c, elem_value(low)), *out = NULL;
	const struct node *ev = elem_value(end);
	struct num range, p, one = nftp_num_from_u64(1);

	nftp_num_sub(&range, ev->value, key->value);
	if (!end_is_value)
		nftp_num_sub(&range, &range, &one);
	nftp_num_and(&p, key->value, &range);
	if (nftp_num_is_zero(&range)) {
		if (nftp_dtype_base(key->dtype) == &nftp_dt_string)
			nftp_num_swap(key->value, key->len / 8);
		out = elem_with_key(c, low, key);
	} else if (range_is_prefix(&range) && nftp_num_is_zero(&p)) {
		unsigned plen = ev->len - nftp_num_scan0(&range, 0);

		if (ev->dtype && ev->dtype->prefix) {
			out = elem_with_key(c, low, nftp_prefix_new(c, key, plen));
		} else if (nftp_dtype_base(ev->dtype) == &nftp_dt_string) {
			out = interval_to_string(c, low, key, plen);
			if (!out)
				out = elem_with_key(c, low, nftp_prefix_new(c, key, plen));
		}
	}
	if (!out) {
		struct node *hi = nftp_value_new(c, key->dtype, key->byteorder, key->len, NULL);

		nftp_num_add(hi->value, key->value, &range);
		out = elem_with_key(c, low, nftp_range_new(c, key, hi));
	}
	nftp_node_add_item(c, set, out);
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
			struct node *end = nftp_node_clone(c, it);

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
		struct num max = nftp_num_mask(lv->len);

		if (!nftp_num_cmp(&max, lv->value)) {
			nftp_node_add_item(c, set, low);
		} else {
			struct node *top = nftp_value_new(c, lv->dtype, lv->byteorder, lv->len, &max);

			add_interval(c, set, low, top, true);
		}
	}
	if (catchall)
		nftp_node_add_item(c, set, catchall);
}

/* range_mask_len(): the prefix length when [start, end] is one, else -1 */
static int range_mask_len(const struct num *start, const struct num *end, unsigned len)
{
	struct num s = *start, e = *end;

	while (nftp_num_cmp(&s, &e) <= 0 && !nftp_num_bit(&s, 0) && nftp_num_bit(&e, 0) && len--) {
		nftp_num_shr(&s, 1);
		nftp_num_shr(&e, 1);
	}
	return !nftp_num_cmp(&s, &e) ? (int)len : -1;
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
			nftp_node_add_item(c, set, start);
			continue;
		}
		key = nftp_node_new(c, N_CONCAT, &nftp_dt_invalid, BO_INVALID, sk->len);
		for (unsigned f = 0; f < sk->n_items; f++) {
			struct node *r1 = nftp_node_clone(c, sk->items[f]), *r2 = nftp_node_clone(c, ek->items[f]);
			bool str = nftp_dtype_base(r1->dtype) == &nftp_dt_string;
			int plen;

			if (r1->type != N_VALUE || r2->type != N_VALUE || !nftp_num_cmp(r1->value, r2->value)) {
				nftp_node_add_item(c, key, r2);
				continue;
			}
			if (str) {
				nftp_num_swap(r1->value, r1->len / 8);
				nftp_num_swap(r2->value, r2->len / 8);
			}
			plen = range_mask_len(r1->value, r2->value, r1->len);
			if (str) {
				nftp_num_swap(r1->value, r1->len / 8);
				nftp_num_swap(r2->value, r2->len / 8);
			}
			if (plen >= 0 && plen % 8 == 0 && str) {
				unsigned sl = (unsigned)plen / 8;
				struct num w = { 0 };

				for (unsigned b = 0; b < sl && b < NUM_BYTES; b++)
					w.b[NUM_BYTES - 1 - b] = r1->value->b[NUM_BYTES - 1 - b];
				w.b[NUM_BYTES - 1 - sl] = '*';
				nftp_node_add_item(c, key, nftp_value_new(c, r1->dtype, BO_HOST, r2->len, &w));
			} else if (plen < 0 || !r1->dtype->prefix) {
				nftp_node_add_item(c, key, nftp_range_new(c, r1, r2));
			} else {
				nftp_node_add_item(c, key, nftp_prefix_new(c, r1, (unsigned)plen));
			}
		}
		nftp_node_add_item(c, set, elem_with_key(c, start, key));
	}
}

static struct node *set_elements(struct ctx *c, const struct cg_set *s, const struct node *lhs)
{
	struct node *set = nftp_node_new(c, N_SET, nftp_dtype_by_id(s->key_type), BO_INVALID, s->key_len * 8);

	for (uint32_t i = 0; i < s->n_elems; i++) {
		const struct cg_set_elem *e = &s->elems[i];
		struct node *key, *item;

		if (e->catchall) {
			key = nftp_node_new(c, N_CATCHALL, set->dtype, BO_INVALID, s->key_len * 8);
		} else if (e->key.len) {
			key = elem_key(c, s, &e->key, lhs);
		} else {
			continue;
		}
		if (e->interval_end)
			key->flags |= F_INTERVAL_END;
		item = key;
		if ((s->flags & CG_SET_MAP) && (e->data.len || e->verdict.code != CG_VERDICT_NONE)) {
			item = nftp_node_new(c, N_MAPPING, key->dtype, key->byteorder, key->len);
			item->left = key;
			item->right = elem_data(c, s, e);
		} else if (s->obj_type && e->obj) {
			/* an object map's element: the object's name, quoted */
			size_t len = strlen(e->obj) + 3;
			char *name = arena_alloc(c->a, len);

			snprintf(name, len, "\"%s\"", e->obj);
			item = nftp_node_new(c, N_MAPPING, key->dtype, key->byteorder, key->len);
			item->left = key;
			item->right = nftp_node_new(c, N_TEXT, &nftp_dt_string, BO_HOST, 0);
			item->right->what = name;
		}
		nftp_node_add_item(c, set, item);
		if (!e->interval_end && e->key_end.len) {
			key = elem_key(c, s, &e->key_end, lhs);
			key->flags |= F_INTERVAL_END;
			nftp_node_add_item(c, set, key);
		}
	}
	if ((s->flags & CG_SET_INTERVAL) && s->n_fields > 1)
		concat_range_aggregate(c, set);
	else if (s->flags & CG_SET_INTERVAL)
		interval_decompose(c, set);
	else {
		/* nft puts each element it reads at the head of the list, then
		 * sorts it stably: equal keys ("syn" and "syn | ack" both sort
		 * by syn) come in the reverse of the kernel's order */
		for (unsigned i = 0; i < set->n_items / 2; i++) {
			struct node *t = set->items[i];

			set->items[i] = set->items[set->n_items - 1 - i];
			set->items[set->n_items - 1 - i] = t;
		}
		sort_nodes(c, set->items, set->n_items, msort_cmp);
	}
	return set;
}

struct node *nftp_set_ref_new(struct ctx *c, const struct cg_set *set, const struct node *lhs)
{
	const struct dtype *dt = set_is_concat(set) ? &nftp_dt_invalid : nftp_dtype_by_id(set->key_type);
	struct node *n = nftp_node_new(c, N_SET_REF, dt, BO_INVALID, set->key_len * 8);

	n->set = set;
	/* a lazy set's elements were never dumped (print_node() says so) */
	if ((set->flags & CG_SET_ANONYMOUS) && !(set->flags & CG_SET_LAZY))
		n->set_init = set_elements(c, set, lhs);
	return n;
}
