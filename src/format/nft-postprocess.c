/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Step 2 of listing a rule (rule_parse_postprocess(), netlink_delinearize.c's
 * second half): a protocol context, filled by the rule's own protocol
 * matches, names raw payload offsets (`@th,16,16` -> `udp dport`), types the
 * values, turns masks into prefixes or flag lists, merges `>= a` and `<= b`
 * into `a-b`, and drops protocol matches a later header field implies
 * (payload.c's dependencies). */
#include "config.h"

#include <netinet/in.h> /* before <linux/...>: glibc first */

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nft-internal.h"

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

/* ==== payload dependencies (payload.c) ======================================== */

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
	nftp_stmt_unlink(rp->list, rp->pdeps[i]);
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
		unsigned type = (unsigned)nftp_value_u64(r);

		if (l->payload.desc == &nftp_proto_icmp) {
			if (type == 0)
				type = 8;
			rp->dep_icmp_type = type;
			if (type == 8)
				return;
		} else if (l->payload.desc == &nftp_proto_icmp6) {
			rp->dep_icmp_type = type;
			if (type == 128 || type == 129)
				return;
		}
	}
	rp->pdeps[base + 1] = s;
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
		    (ddesc == &nftp_proto_ip || ddesc == &nftp_proto_ip6) && expr->payload.base == BASE_TH)
			return false;
		if (dep->left->type == N_PAYLOAD && dep->op == OP_EQ &&
		    expr->payload.base == dep->left->payload.base) {
			if (expr->flags & F_PROTOCOL)
				return false;
			if (expr->payload.base == BASE_LL) {
				if (ddesc == &nftp_proto_vlan)
					return false;
				if (ddesc == &nftp_proto_eth && dep->right->type == N_VALUE && dep->right->len == 16)
					return nftp_value_u64(dep->right) == 0x8100;
				return true;
			}
		}
		break;
	}
	if (expr->payload.base != BASE_TH || dep_payload_base(dep->left) != BASE_TH)
		return true;
	if (ddesc == &nftp_proto_icmp || ddesc == &nftp_proto_icmp6) {
		enum icmp_dep d = expr->payload.tmpl ? expr->payload.tmpl->icmp_dep : ICMP_DEP_ANY;

		if (d == ICMP_DEP_ANY || ddesc != expr->payload.desc)
			return false;
		return rp->dep_icmp_type == nftp_icmp_dep_type(d);
	}
	return true;
}

/* payload_dependency_kill() */
static void dep_kill(struct pp *rp, const struct node *expr)
{
	if (expr->payload.desc != &nftp_proto_unknown && dep_exists(rp, expr->payload.base) &&
	    dep_may_kill(rp, expr))
		dep_release(rp, expr->payload.base);
}

/* ==== expressions ============================================================= */

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
	return nftp_value_new(c, v->dtype, BO_HOST, len * 8, &n);
}

static void pp_expr(struct pp *rp, struct node **np);

/* binop_adjust_one(): a value under a mask that is really a field shifts down */
static void adjust_one(const struct node *binop, struct node *v, unsigned shift)
{
	if (v->type != N_VALUE)
		return;
	nftp_num_shr(v->value, shift);
	if (binop->left->type == N_PAYLOAD || binop->left->type == N_TEXT)
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

			/* an element: a value or a range */
			binop_adjust(binop, k->type == N_MAPPING ? k->left : k, shift);
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
	struct node *binop = *binopp, *field;

	if (left->type == N_TEXT && left->fields && (field = nftp_extra_trim(rp->c, left, mask))) {
		/* an extension header's field within the bytes loaded */
		binop->left = field;
		if (expr->type == N_BINOP || expr->type == N_RELATIONAL || expr->type == N_MAP)
			binop_adjust(binop, expr->right, field->shift);
		*binopp = field;
		if (expr->right)
			nftp_node_set_type(expr->right, field->dtype, field->byteorder);
		return;
	}
	if (left->type != N_PAYLOAD || !nftp_payload_trim(left, mask, &rp->pctx, &shift))
		return;
	if (expr->type == N_BINOP || expr->type == N_RELATIONAL || expr->type == N_MAP)
		binop_adjust(binop, expr->right, shift);
	*binopp = left;
	payload_match_postprocess(rp, expr, left);
}

static bool mask_is_prefix(const struct node *mask)
{
	unsigned n1 = nftp_num_scan1(mask->value, 0), n2;

	if (n1 == NO_BIT)
		return true;
	n2 = nftp_num_scan0(mask->value, n1 + 1);
	return n2 >= mask->len;
}

static unsigned mask_to_prefix(const struct node *mask)
{
	unsigned n = nftp_num_scan1(mask->value, 0);

	if (n == NO_BIT)
		return 0;
	return nftp_num_scan0(mask->value, n + 1) - n;
}

/* binop_tree_to_list(): an OR of flags as a comma list */
static struct node *binop_to_list(struct ctx *c, struct node *list, struct node *e)
{
	if (e->type == N_BINOP && e->op == OP_OR) {
		if (!list)
			list = nftp_node_new(c, N_LIST, e->dtype, e->byteorder, e->len);
		list = binop_to_list(c, list, e->left);
		return binop_to_list(c, list, e->right);
	}
	if (!list)
		return e;
	nftp_node_add_item(c, list, e);
	return list;
}

/* relational_binop_postprocess() */
static void relational_binop_postprocess(struct pp *rp, struct node **np)
{
	struct node *expr = *np, *binop = expr->left, *right = expr->right;

	if (binop->op == OP_AND && (expr->op == OP_NEQ || expr->op == OP_EQ) &&
	    nftp_dtype_is_bitmask(right->dtype)) {
		if (right->type == N_VALUE && nftp_num_is_zero(right->value)) {
			/* (x & flags) != 0: "x flags"; == 0: "x ! flags" */
			expr->left = binop->left;
			expr->right = binop_to_list(rp->c, NULL, binop->right);
			expr->op = expr->op == OP_NEQ ? OP_IMPLICIT : OP_NEG;
		} else if (right->type == N_VALUE && binop->right->type == N_VALUE &&
			   !nftp_num_cmp(right->value, binop->right->value)) {
			/* x & flag == flag stays as it is */
		} else if (right->type == N_VALUE || right->type == N_BINOP) {
			/* flagcmp: "x value / mask" */
			struct node *fc = nftp_node_new(rp->c, N_FLAGCMP, binop->left->dtype, BO_INVALID, 0);

			fc->op = expr->op;
			fc->left = binop->left;
			fc->right = binop_to_list(rp->c, NULL, binop->right);
			nftp_node_add_item(rp->c, fc, right->type == N_BINOP ? binop_to_list(rp->c, NULL, right) : right);
			*np = fc;
		}
	} else if (binop->left->dtype && binop->left->dtype->prefix && binop->op == OP_AND &&
		   right->type == N_VALUE && binop->right->type == N_VALUE && mask_is_prefix(binop->right)) {
		expr->left = binop->left;
		expr->right = nftp_prefix_new(rp->c, right, mask_to_prefix(binop->right));
	} else if (binop->op == OP_AND && binop->right->type == N_VALUE) {
		binop_postprocess(rp, expr, binop->left, binop->right, &expr->left);
	} else if (binop->op == OP_RSHIFT && binop->left->type == N_BINOP && binop->left->op == OP_AND &&
		   binop->right->type == N_VALUE && binop->left->right->type == N_VALUE) {
		binop_postprocess(rp, binop, binop->left->left, binop->left->right, &binop->left);
		if (nftp_num_is_zero(binop->right->value))
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
		nfproto = (unsigned)nftp_value_u64(dep->right) & 0xff;
	} else if ((dep->left->type == N_META && dep->left->key == NFT_META_PROTOCOL) ||
		   (dep->left->type == N_PAYLOAD && dep->left->payload.base == BASE_LL &&
		    dep->left->dtype == &nftp_dt_ethertype)) {
		/* an ethertype */
		unsigned l3 = (unsigned)nftp_value_u64(dep->right) & 0xffff;

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
	l4 = (unsigned)nftp_value_u64(expr->right) & 0xff;
	if (l4 != IPPROTO_ICMP && l4 != IPPROTO_ICMPV6)
		return false;
	return !((nfproto == NFPROTO_IPV4 && l4 == IPPROTO_ICMPV6) || (nfproto == NFPROTO_IPV6 && l4 == IPPROTO_ICMP));
}

static void ct_meta_postprocess(struct pp *rp, struct node *expr, enum base base)
{
	const struct node *left = expr->left;
	struct node *right = expr->right;

	if (right->type == N_SET || right->type == N_SET_REF)
		nftp_node_set_type(right, left->dtype, left->byteorder);
	if (expr->op != OP_EQ || right->type == N_RANGE || right->type == N_SET || right->type == N_SET_REF)
		return;
	nftp_relational_pctx_update(&rp->pctx, expr);
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
	if (desc != &nftp_proto_icmp && desc != &nftp_proto_icmp6)
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
		rp->pctx.icmp_type = (unsigned)nftp_value_u64(value);
		return;
	}
}

/* payload_match_expand(): one comparison per field the load covers */
static void payload_match_expand(struct pp *rp, struct node *expr, struct node *payload)
{
	struct node *fields[32], *right = expr->right;
	unsigned n = nftp_payload_expand(rp->c, payload, &rp->pctx, fields, ARRAY_SIZE(fields));
	enum base base = payload->payload.base;

	for (unsigned i = 0; i < n; i++) {
		struct node *left = fields[i], *v, *rel;
		struct stmt *ns;

		/* nft types the slice but does not postprocess it */
		v = nftp_value_splice(rp->c, right, left->len < right->len ? left->len : right->len);
		nftp_node_set_type(v, left->dtype, left->byteorder);
		if (left->payload.tmpl && left->payload.desc != &nftp_proto_unknown &&
		    left->len < left->payload.tmpl->len) {
			unsigned plen = left->len;

			nftp_num_shl(v->value, left->payload.tmpl->len - left->len);
			v->len = left->payload.tmpl->len;
			v = nftp_prefix_new(rp->c, v, plen);
		}
		rel = nftp_relational_new(rp->c, expr->op, left, v);
		if (expr->op == OP_EQ)
			nftp_relational_pctx_update(&rp->pctx, rel);
		ns = nftp_stmt_new(rp->c, S_EXPR);
		ns->expr = rel;
		nftp_stmt_insert_before(rp->list, rp->stmt, ns);
		if (nftp_payload_stacked(rp->pctx.desc[base], rel))
			base--;
		/* a protocol match of a lower layer is implied by this field */
		dep_kill(rp, left);
		if (expr->op == OP_EQ && (left->flags & F_PROTOCOL))
			dep_store(rp, ns, base);
	}
	nftp_stmt_unlink(rp->list, rp->stmt);
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
	nftp_payload_complete(payload, &rp->pctx);
	if (expr->right)
		nftp_node_set_type(expr->right, payload->dtype, payload->byteorder);
	dep_kill(rp, payload);
}

static void map_binop_postprocess(struct pp *rp, struct node *expr)
{
	struct node *binop = expr->left;

	if (binop->op == OP_AND && (binop->left->type == N_PAYLOAD || binop->left->type == N_TEXT) &&
	    binop->right->type == N_VALUE)
		binop_postprocess(rp, expr, binop->left, binop->right, &expr->left);
}

/* ct_expr_update_type(): addresses take the network protocol's type */
static void ct_update_type(struct pp *rp, struct node *e)
{
	const struct proto_desc *desc = e->kbase <= BASE_MAX ? rp->pctx.desc[e->kbase] : NULL;

	switch (e->key) {
	case NFT_CT_SRC:
	case NFT_CT_DST:
		if (desc == &nftp_proto_ip)
			e->dtype = &nftp_dt_ipaddr;
		else if (desc == &nftp_proto_ip6)
			e->dtype = &nftp_dt_ip6addr;
		e->len = e->dtype->size;
		break;
	case NFT_CT_PROTO_SRC:
	case NFT_CT_PROTO_DST:
		if (desc)
			e->dtype = &nftp_dt_inet_service;
		break;
	}
}

/* Set elements matched against raw payload print in hex, as the raw
 * payload's type does. nft reads that type from the set's user data, which
 * the model does not keep; a field no header names says it, and so does a
 * named field of a type of its own under an integer key. A raw load of an
 * integer field (@nh,64,8 for ip ttl) cannot be told: it prints in decimal. */
static void raw_elem_field(const struct node *lhs, struct node *elem)
{
	if (elem->type == N_MAPPING)
		elem = elem->left;
	if (lhs->type == N_CONCAT && elem->type == N_CONCAT) {
		for (unsigned i = 0; i < lhs->n_items && i < elem->n_items; i++)
			raw_elem_field(lhs->items[i], elem->items[i]);
		return;
	}
	/* a plain integer key where the field has a type of its own
	 * (an address, a port) was written as raw payload too */
	if (lhs->type == N_PAYLOAD && elem->type == N_VALUE && elem->dtype == &nftp_dt_integer &&
	    (!nftp_payload_known(lhs) || (lhs->dtype != &nftp_dt_integer && lhs->dtype != &nftp_dt_xinteger)))
		elem->dtype = &nftp_dt_xinteger;
}

/* nft's user data of a set (libnftnl udata: a type byte, a length byte,
 * the value; nested values the same): the TLV of type `type` in buf, or
 * NULL. Numbers in it are in host order. */
static const uint8_t *udata_find(const uint8_t *buf, uint32_t len, uint8_t type, uint8_t *vlen)
{
	for (uint32_t i = 0; buf && i + 2 <= len && i + 2 + buf[i + 1] <= len; i += 2 + buf[i + 1]) {
		if (buf[i] == type) {
			*vlen = buf[i + 1];
			return buf + i + 2;
		}
	}
	return NULL;
}

static bool udata_u32(const uint8_t *buf, uint32_t len, uint8_t type, uint32_t *out)
{
	uint8_t n;
	const uint8_t *v = udata_find(buf, len, type, &n);

	if (!v || n != 4)
		return false;
	memcpy(out, v, 4);
	return true;
}

/* nftables' NFTNL_UDATA_SET_KEY_TYPEOF, NFTNL_UDATA_SET_TYPEOF_EXPR/_DATA,
 * its expression types (EXPR_PAYLOAD, EXPR_CONCAT) and the payload's
 * NFTNL_UDATA_SET_KEY_PAYLOAD_DESC (0: no protocol, raw payload) */
enum { UD_KEY_TYPEOF = 3, UD_TYPEOF_EXPR = 0, UD_TYPEOF_DATA = 1, UD_EXPR_PAYLOAD = 7, UD_EXPR_CONCAT = 13,
       UD_PAYLOAD_DESC = 0 };

/* Whether field `field` of the set's key (-1: the key, not a
 * concatenation) was typed as raw payload when nft made the set: 1 raw, 0
 * a typed expression, -1 not recorded (no user data, or no typeof). */
static int typeof_raw(const struct cg_set *s, int field)
{
	uint8_t n, dn;
	const uint8_t *t = s ? udata_find(s->udata, s->udata_len, UD_KEY_TYPEOF, &n) : NULL, *d;
	uint32_t expr, desc;

	if (!t || !udata_u32(t, n, UD_TYPEOF_EXPR, &expr) || !(d = udata_find(t, n, UD_TYPEOF_DATA, &dn)))
		return -1;
	if (field >= 0) {
		/* a concatenation: field i is the nested TLV of type i */
		if (expr != UD_EXPR_CONCAT || field > 255 || !(t = udata_find(d, dn, (uint8_t)field, &n)) ||
		    !udata_u32(t, n, UD_TYPEOF_EXPR, &expr) || !(d = udata_find(t, n, UD_TYPEOF_DATA, &dn)))
			return -1;
	}
	if (expr != UD_EXPR_PAYLOAD)
		return 0;
	return udata_u32(d, dn, UD_PAYLOAD_DESC, &desc) ? desc == 0 : -1;
}

/* a field nft typed as raw payload lists in hex; one it typed by name, by
 * its type */
static void typeof_elem_field(struct node *elem, int raw)
{
	if (raw == 1 && elem->type == N_VALUE && elem->dtype == &nftp_dt_integer)
		elem->dtype = &nftp_dt_xinteger;
}

static void raw_elems(const struct node *lhs, struct node *set)
{
	if (set->type != N_SET_REF || !set->set_init || (lhs->type != N_CONCAT && lhs->type != N_PAYLOAD))
		return;
	/* what nft recorded of the key decides, where it recorded it */
	if (typeof_raw(set->set, lhs->type == N_CONCAT ? 0 : -1) >= 0) {
		for (unsigned i = 0; i < set->set_init->n_items; i++) {
			struct node *elem = set->set_init->items[i];

			if (elem->type == N_MAPPING)
				elem = elem->left;
			if (lhs->type != N_CONCAT) {
				typeof_elem_field(elem, typeof_raw(set->set, -1));
				continue;
			}
			for (unsigned f = 0; elem->type == N_CONCAT && f < elem->n_items; f++)
				typeof_elem_field(elem->items[f], typeof_raw(set->set, (int)f));
		}
		return;
	}
	for (unsigned i = 0; i < set->set_init->n_items; i++)
		raw_elem_field(lhs, set->set_init->items[i]);
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
		/* nft 1.0.6 keeps the raw type of a map's key only for a
		 * concatenation (the set's key typeof): a single raw key
		 * prints by the key's type, an integer in decimal */
		if (e->left->type == N_CONCAT)
			raw_elems(e->left, e->right);
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
		nftp_node_set_type(e, e->left->dtype, e->left->byteorder == BO_INVALID ? BO_HOST : BO_INVALID);
		break;
	case N_BINOP:
		pp_expr(rp, &e->left);
		if (e->op == OP_LSHIFT || e->op == OP_RSHIFT) {
			nftp_node_set_type(e->right, &nftp_dt_integer, BO_HOST);
		} else {
			nftp_node_set_type(e->right, e->left->dtype, e->left->byteorder);
			if (e->op == OP_AND && (rp->flags & PP_REMOVE_OP_AND) &&
			    e->left->type == N_PAYLOAD && e->right->type == N_VALUE) {
				binop_postprocess(rp, e, e->left, e->right, np);
				return;
			}
		}
		pp_expr(rp, &e->right);
		nftp_node_set_type(e, e->left->dtype, e->left->byteorder);
		break;
	case N_RELATIONAL:
		if (e->left->type == N_PAYLOAD) {
			/* values of header fields are typed, not postprocessed */
			payload_match_postprocess(rp, e, e->left);
			raw_elems(e->left, e->right);
			return;
		}
		pp_expr(rp, &e->left);
		if (e->left->type == N_UNSUPPORTED)
			/* nothing tells the value's type: its bytes in hex */
			nftp_node_set_type(e->right, &nftp_dt_xinteger, BO_INVALID);
		else
			nftp_node_set_type(e->right, e->left->dtype, e->left->byteorder);
		pp_expr(rp, &e->right);
		raw_elems(e->left, e->right);
		switch (e->left->type) {
		case N_CT:
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
		nftp_payload_complete(e, &rp->pctx);
		dep_kill(rp, e);
		break;
	case N_VALUE:
		if (e->byteorder == BO_HOST)
			nftp_num_swap(e->value, e->len / 8);
		if (nftp_dtype_base(e->dtype) == &nftp_dt_string)
			*np = e = postprocess_string(rp->c, e);
		if (nftp_dtype_is_bitmask(e->dtype))
			*np = nftp_bitmask_to_binops(rp->c, e);
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
	case N_TEXT:
		if (e->left)
			pp_expr(rp, &e->left);
		/* exthdr_dependency_kill(): "meta nfproto ipv6" before an
		 * extension header goes */
		if (e->kbase != BASE_INVALID && dep_exists(rp, e->kbase))
			dep_release(rp, e->kbase);
		break;
	default:
		break;
	}
}

/* ==== statements ============================================================== */

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
	struct stmt *s = rp->stmt, *prev = rp->prev, *ns = nftp_stmt_new(rp->c, S_EXPR);
	struct node *r = nftp_range_new(rp->c, nftp_node_clone(rp->c, prev->expr->right),
					 nftp_node_clone(rp->c, s->expr->right));

	nftp_node_set_type(r, s->expr->right->dtype, s->expr->right->byteorder);
	ns->expr = nftp_relational_new(rp->c, op, nftp_node_clone(rp->c, s->expr->left), r);
	nftp_stmt_insert_before(rp->list, s, ns);
	nftp_stmt_unlink(rp->list, prev);
	nftp_stmt_unlink(rp->list, s);
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
		switch (nftp_proto_num(base, desc)) {
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
		bits = nftp_num_mask(payload->len);
		nftp_num_xor(&bits, &bits, mask->value);
		nftp_num_xor(&bits, &bits, value->value);
		*mask->value = bits;
		binop_postprocess(rp, expr, payload, mask, &expr->left);
		if (!nftp_payload_known(payload)) {
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
		bits = nftp_num_mask(payload->len);
		nftp_num_xor(value->value, &bits, value->value);
	} else if (expr->op != OP_OR) {
		return;
	}
	if (nftp_payload_trim(payload, value, &rp->pctx, &shift)) {
		binop_adjust(expr, value, shift);
		nftp_payload_complete(payload, &rp->pctx);
		nftp_node_set_type(value, payload->dtype, payload->byteorder);
	}
	if (!nftp_payload_known(payload))
		return;
	if (expr->op == OP_AND)
		memset(value->value, 0, sizeof(*value->value));
	s->target = payload;
	s->expr = value;
}

static void stmt_payload_postprocess(struct pp *rp)
{
	struct stmt *s = rp->stmt;

	nftp_payload_complete(s->target, &rp->pctx);
	if (!nftp_payload_known(s->target))
		stmt_payload_binop_postprocess(rp);
	pp_expr(rp, &s->target);
	nftp_node_set_type(s->expr, s->target->dtype, s->target->byteorder);
	pp_expr(rp, &s->expr);
}

void nftp_rule_postprocess(struct ctx *c, struct stmt_list *list)
{
	struct pp rp = { .c = c, .list = list };
	struct stmt *s, *next;

	nftp_proto_ctx_init(&rp.pctx, c->family);
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
		case S_TEXT:
			for (size_t i = 0; i < ARRAY_SIZE(s->args); i++)
				if (s->args[i])
					pp_expr(&rp, &s->args[i]);
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
