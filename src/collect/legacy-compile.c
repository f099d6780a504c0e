/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ipt_entry / ip6t_entry -> the expression list iptables-nft (1.8.x,
 * nft_ipv4_add()/nft_ipv6_add()) builds for the same rule:
 *
 *   -i/-o   meta iifname/oifname, cmp (name + NUL; "eth+" compares "eth")
 *   -p      meta l4proto, cmp
 *   -s/-d   payload (network header), [bitwise when the mask is not whole
 *           bytes of ones], cmp over the masked length
 *   -f      payload frag_off, bitwise 0x1fff, cmp != 0
 *   -m ...  one xt match per blob (decoded by xt.h)
 *   -j/-g   immediate verdict (standard targets) or one xt target
 *
 * so the evaluator and the renderer see legacy and iptables-nft rules alike. */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/xt.h"
#include "legacy-internal.h"

#define OFF_V4_FRAG 6
#define OFF_V4_SADDR 12
#define OFF_V4_DADDR 16
#define OFF_V6_SADDR 8
#define OFF_V6_DADDR 24

static struct cg_data data_dup(struct arena *a, const void *p, size_t len)
{
	return (struct cg_data){ .len = (uint8_t)len, .bytes = len ? arena_memdup(a, p, len) : NULL };
}

static void emit_meta(struct cg_expr *e, uint32_t key)
{
	memset(e, 0, sizeof(*e));
	e->type = CG_EXPR_META;
	e->meta.key = key;
	e->meta.reg = NFT_REG_1;
}

static void emit_payload(struct cg_expr *e, uint32_t offset, uint32_t len)
{
	memset(e, 0, sizeof(*e));
	e->type = CG_EXPR_PAYLOAD;
	e->payload.dreg = NFT_REG_1;
	e->payload.base = NFT_PAYLOAD_NETWORK_HEADER;
	e->payload.offset = offset;
	e->payload.len = len;
}

static void emit_bitwise(struct cg_expr *e, struct arena *a, const uint8_t *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct cg_bitwise_data *d = arena_alloc(a, sizeof(*d));

	memset(e, 0, sizeof(*e));
	e->type = CG_EXPR_BITWISE;
	e->bitwise.sreg = NFT_REG_1;
	e->bitwise.dreg = NFT_REG_1;
	e->bitwise.op = NFT_BITWISE_BOOL;
	e->bitwise.len = len;
	d->mask = data_dup(a, mask, len);
	d->xor = data_dup(a, zero, len);
	e->bitwise.data = d;
}

static void emit_cmp(struct cg_expr *e, struct arena *a, uint32_t op, const void *data, uint32_t len)
{
	memset(e, 0, sizeof(*e));
	e->type = CG_EXPR_CMP;
	e->cmp.sreg = NFT_REG_1;
	e->cmp.op = op;
	e->cmp.data = data_dup(a, data, len);
}

static uint32_t cmp_op(const struct entry_view *v, uint8_t invbit)
{
	return v->invflags & invbit ? NFT_CMP_NEQ : NFT_CMP_EQ;
}

/* add_iniface()/add_outiface(). The kernel compares the name under the
 * mask: iptables sets the mask over the name and its NUL ("eth0") or over
 * the name without the '+' ("eth+"), which is what the cmp length says. */
static struct cg_expr *compile_iface(const struct entry_view *v, struct cg_expr *e, struct compile_ctx *ctx,
				     uint32_t key, const char *name, const unsigned char *mask, uint8_t invbit)
{
	size_t n = 0;

	while (n < IFNAMSIZ && mask[n])
		n++;
	if (n == 0) {
		/* "-i +" matches everything; "! -i +" nothing, which
		 * iptables-nft spells as a name no device can have. */
		if (!(v->invflags & invbit))
			return e;
		emit_meta(e++, key);
		emit_cmp(e++, &ctx->scratch, NFT_CMP_EQ, "INVAL/D", sizeof("INVAL/D"));
		return e;
	}
	emit_meta(e++, key);
	emit_cmp(e++, &ctx->scratch, cmp_op(v, invbit), name, n);
	return e;
}

/* add_addr(): whole 0xff bytes become a shorter load, anything else a
 * bitwise AND over the full address. */
static struct cg_expr *compile_addr(const struct entry_view *v, struct cg_expr *e, struct compile_ctx *ctx,
				    uint32_t offset, const uint8_t *addr, const uint8_t *mask, uint8_t invbit)
{
	static const uint8_t zero[16];
	uint32_t len = v->addr_len, i, j;
	bool bitwise = false;

	if (!memcmp(addr, zero, len) && !memcmp(mask, zero, len) && !(v->invflags & invbit))
		return e;
	for (i = 0; i < len; i++) {
		if (mask[i] != 0xff) {
			bitwise = mask[i] != 0;
			break;
		}
	}
	for (j = i + 1; !bitwise && j < len; j++)
		bitwise = mask[j] != 0;
	if (!bitwise)
		len = i;
	emit_payload(e++, offset, len);
	if (bitwise)
		emit_bitwise(e++, ctx->arena, mask, len);
	emit_cmp(e++, &ctx->scratch, cmp_op(v, invbit), addr, len);
	return e;
}

static struct cg_expr *compile_ip(const struct entry_view *v, struct cg_expr *e, struct compile_ctx *ctx)
{
	bool v6 = v->nfproto == NFPROTO_IPV6;

	e = compile_iface(v, e, ctx, NFT_META_IIFNAME, v->iniface, v->iniface_mask, IPT_INV_VIA_IN);
	e = compile_iface(v, e, ctx, NFT_META_OIFNAME, v->outiface, v->outiface_mask, IPT_INV_VIA_OUT);
	if (v->proto) {
		uint8_t p = (uint8_t)v->proto;

		emit_meta(e++, NFT_META_L4PROTO);
		emit_cmp(e++, &ctx->scratch, cmp_op(v, XT_INV_PROTO), &p, 1);
	}
	e = compile_addr(v, e, ctx, v6 ? OFF_V6_SADDR : OFF_V4_SADDR, v->src, v->smsk, IPT_INV_SRCIP);
	e = compile_addr(v, e, ctx, v6 ? OFF_V6_DADDR : OFF_V4_DADDR, v->dst, v->dmsk, IPT_INV_DSTIP);
	if (v->frag && !v6) {
		/* ip_packet_match(): a fragment has a non-zero offset */
		uint16_t mask = htons(0x1fff), zero = 0;

		emit_payload(e++, OFF_V4_FRAG, 2);
		emit_bitwise(e++, ctx->arena, (const uint8_t *)&mask, 2);
		emit_cmp(e++, &ctx->scratch, v->invflags & IPT_INV_FRAG ? NFT_CMP_EQ : NFT_CMP_NEQ, &zero, 2);
	}
	return e;
}

/* Extension names are NUL-padded in a fixed field; known ones share the
 * decoder's string instead of one copy per rule. */
static const char *ext_name(struct compile_ctx *ctx, bool target, const char *field)
{
	size_t n = strnlen(field, XT_EXTENSION_MAXNAMELEN);
	char buf[XT_EXTENSION_MAXNAMELEN + 1];
	struct ext_name_slot *slot;
	const char *known;

	if (n == 0 || n >= XT_EXTENSION_MAXNAMELEN)
		slot = NULL;
	else
		slot = &ctx->ext_names[((unsigned char)field[0] ^ (unsigned char)field[n - 1] * 3u ^ (unsigned)n ^
					(target ? 8u : 0u)) % ARRAY_SIZE(ctx->ext_names)];
	if (slot && slot->len == n && slot->target == target && memcmp(slot->field, field, n) == 0)
		return slot->name;
	memcpy(buf, field, n);
	buf[n] = '\0';
	known = xt_known_name(target, buf);
	known = known ? known : arena_strndup(ctx->arena, buf, n);
	if (slot) {
		memcpy(slot->field, field, n);
		slot->len = (uint8_t)n;
		slot->target = target;
		slot->name = known;
	}
	return known;
}

/* The blob is decoded straight from libiptc's snapshot. Its copy is kept
 * only when the decoder did not understand it: a decoded value says all the
 * blob did (strings included), and at 300k rules the copies (a comment is
 * 256 bytes) would be a third of the model. info_len stays the blob's. */
static void emit_xt(struct cg_expr *e, struct compile_ctx *ctx, bool target, uint8_t nfproto,
		    const char *name_field, uint8_t revision, const void *blob, uint32_t len)
{
	struct arena *a = ctx->arena;

	memset(e, 0, sizeof(*e));
	e->type = target ? CG_EXPR_XT_TARGET : CG_EXPR_XT_MATCH;
	e->xt.name = ext_name(ctx, target, name_field);
	e->xt.revision = revision;
	e->xt.info_len = len;
	/* identical blobs (a service's comment on its twenty rules) share one value */
	if (!ctx->xt)
		ctx->xt = xt_intern_new();
	e->xt.decoded = xt_decode_interned(ctx->xt, a, target, e->xt.name, revision, nfproto, blob, len);
	e->xt.info = e->xt.decoded || !len ? NULL : arena_memdup(a, blob, len);
}

static void emit_verdict(struct cg_expr *e, enum cg_verdict_code code, const char *chain)
{
	memset(e, 0, sizeof(*e));
	e->type = CG_EXPR_IMMEDIATE;
	e->immediate.dreg = NFT_REG_VERDICT;
	e->immediate.verdict.code = code;
	e->immediate.verdict.chain_name = chain;
}

/* libiptc names standard verdicts ("ACCEPT", ...) and resolves jump
 * offsets to chain names; "" is a rule without a target. A jump shares its
 * chain's name and points at it already (ruleset_resolve() agrees). */
static struct cg_expr *compile_standard(const struct entry_view *v, struct cg_expr *e,
					struct compile_ctx *ctx)
{
	const char *l;
	struct cg_chain *c;

	if (ctx->target) {
		/* the stream found the chain, and its label is the chain's
		 * name (the very pointer; never a verdict's): neither the
		 * chain nor its name is read, a cache miss each per jump at
		 * 100k chains */
		emit_verdict(e, v->go_to ? CG_VERDICT_GOTO : CG_VERDICT_JUMP, v->target_label);
		e->immediate.verdict.chain = ctx->target;
		return e + 1;
	}
	l = v->target_label ? v->target_label : "";
	if (!*l)
		return e;
	/* chains are never named like verdicts: iptables refuses it */
	if (l[0] == 'A' && !strcmp(l, "ACCEPT"))
		emit_verdict(e++, CG_VERDICT_ACCEPT, NULL);
	else if (l[0] == 'D' && !strcmp(l, "DROP"))
		emit_verdict(e++, CG_VERDICT_DROP, NULL);
	else if (l[0] == 'R' && !strcmp(l, "RETURN"))
		emit_verdict(e++, CG_VERDICT_RETURN, NULL);
	else if (l[0] == 'Q' && !strcmp(l, "QUEUE"))
		emit_verdict(e++, CG_VERDICT_QUEUE, NULL);
	else {
		/* keyed on libiptc's label pointer (see legacy-walk.c); a miss
		 * leaves the jump to ruleset_resolve() */
		c = ctx->chains ? hashmap_get(ctx->chains, &l, sizeof(l)) : NULL;
		/* without an index (the stream) the label is the caller's
		 * placeholder, which outlives the rule until it is pointed at
		 * its chain */
		emit_verdict(e, v->go_to ? CG_VERDICT_GOTO : CG_VERDICT_JUMP,
			     c ? c->name : ctx->chains ? arena_strdup(ctx->arena, l) : l);
		e->immediate.verdict.chain = c;
		if (!c && ctx->chains)
			ctx->unresolved++;
		e++;
	}
	return e;
}

/* Matches sit between the header and target_offset, each with its own
 * size; a size that runs past the target means a corrupt entry. */
static int count_matches(const struct entry_view *v, const uint8_t *base)
{
	uint32_t off = v->header_size;
	int n = 0;

	while (off < v->target_offset) {
		const struct xt_entry_match *m = (const void *)(base + off);

		if (off % __alignof__(struct xt_entry_match) != 0 || v->target_offset - off < sizeof(*m) ||
		    m->u.match_size < sizeof(*m) || m->u.match_size > v->target_offset - off)
			return -EINVAL;
		off += m->u.match_size;
		n++;
	}
	return n;
}

int legacy_rule_compile(const struct entry_view *v, struct compile_ctx *ctx, struct cg_rule *rule)
{
	struct arena *a = ctx->arena;
	struct cg_expr **tmp = &ctx->tmp;
	size_t *tmp_cap = &ctx->tmp_cap;
	const uint8_t *entry = v->entry;
	const struct xt_entry_target *t;
	struct cg_expr *e;
	uint32_t off;
	int n_matches;

	if (v->target_offset < v->header_size || v->size < v->target_offset ||
	    (size_t)(v->size - v->target_offset) < sizeof(struct xt_entry_target))
		return -EINVAL;
	n_matches = count_matches(v, entry);
	if (n_matches < 0)
		return n_matches;
	t = (const void *)(entry + v->target_offset);
	if (t->u.target_size < sizeof(*t) || t->u.target_size > (size_t)(v->size - v->target_offset))
		return -EINVAL;

	/* 15: the most the ip header part can produce (2+2+2+3+3+3) */
	/* every emit_*() clears the expression it writes */
	grow_array((void **)tmp, tmp_cap, 15 + (size_t)n_matches + 1, sizeof(**tmp));
	e = compile_ip(v, *tmp, ctx);

	for (off = v->header_size; off < v->target_offset;) {
		const struct xt_entry_match *m = (const void *)(entry + off);

		emit_xt(e, ctx, false, v->nfproto, m->u.user.name, m->u.user.revision, m->data,
			m->u.match_size - sizeof(*m));
		if (e->xt.decoded && e->xt.decoded->kind == XT_MATCH_COMMENT && !rule->comment)
			rule->comment = e->xt.decoded->comment;
		if (e->xt.decoded && e->xt.decoded->kind == XT_MATCH_SET)
			ctx->set_matches++;
		e++;
		off += m->u.match_size;
	}

	if (t->u.user.name[0] == '\0') {
		e = compile_standard(v, e, ctx);
	} else {
		emit_xt(e, ctx, true, v->nfproto, t->u.user.name, t->u.user.revision, t->data,
			t->u.target_size - sizeof(*t));
		/* a SET target names ipsets too (ipset_collect() reads their names) */
		if (e->xt.name[0] == 'S' && strcmp(e->xt.name, "SET") == 0)
			ctx->set_matches++;
		e++;
	}

	/* The entry itself is not kept: the expressions say everything it did
	 * (the renderer prints from them), packed (ruleset.h). */
	rule_pack(rule, a, *tmp, (uint32_t)(e - *tmp));
	arena_reset(&ctx->scratch);
	return 0;
}
