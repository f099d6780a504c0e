/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The netfilter evaluator's expressions: the register file, what the loads
 * (payload, meta, ct) put in it, and each expression's effect, as
 * nft_do_chain() runs them; nf_eval_rule() runs one rule. The chains and
 * hooks around it are nf-eval.c's. */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <arpa/inet.h>
#include <endian.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/sim-netfilter.h"
/* after the linux/ headers: <linux/netdevice.h> comes in through it */
#include <libmnl/libmnl.h>
#include "cgnatcheck/xt.h"
#include "nf-internal.h"

/* ---- registers -------------------------------------------------------- */

/* nft_parse_register(): NFT_REG_1..4 are 16-byte registers overlapping the
 * 32-bit ones; both map onto 32-bit slots. */
static int reg_slot(uint8_t reg)
{
	if (reg <= NFT_REG_4)
		return reg * (NFT_REG_SIZE / NFT_REG32_SIZE);
	if (reg >= NFT_REG32_00 && reg <= NFT_REG32_15)
		return reg + NFT_REG_SIZE / NFT_REG32_SIZE - NFT_REG32_00;
	return -1;
}

static uint32_t slots_for(uint32_t len)
{
	return (len + NFT_REG32_SIZE - 1) / NFT_REG32_SIZE;
}

static bool reg_range_ok(int slot, uint32_t len)
{
	return slot >= 0 && len > 0 && slot + slots_for(len) <= REG32_SLOTS;
}

static uint8_t *reg_bytes(struct regs *r, int slot)
{
	return (uint8_t *)&r->data[slot];
}

static uint8_t *reg_kbytes(struct regs *r, int slot)
{
	return &r->known[slot * NFT_REG32_SIZE];
}

/* Every bit of the slots len bytes take, known or not; `why` names what
 * made them unknown. */
static void reg_mark(struct regs *r, int slot, uint32_t len, bool known, const char *why)
{
	memset(reg_kbytes(r, slot), known ? 0xff : 0, slots_for(len) * NFT_REG32_SIZE);
	for (uint32_t i = 0; i < slots_for(len); i++)
		r->why[slot + i] = known ? NULL : why;
}

static bool reg_known(struct regs *r, int slot, uint32_t len)
{
	const uint8_t *k = reg_kbytes(r, slot);

	for (uint32_t i = 0; i < len; i++)
		if (k[i] != 0xff)
			return false;
	return true;
}

/* What made the first unknown bits of len bytes from slot unknown. */
static const char *reg_why(const struct regs *r, int slot, uint32_t len, const char *fallback)
{
	for (uint32_t i = 0; i < slots_for(len); i++)
		if (r->why[slot + i])
			return r->why[slot + i];
	return fallback;
}

/* Stores len bytes, `known` giving per byte the bits that are known (NULL:
 * all); like the kernel, a partial last word is zero padded. */
static void reg_store_masked(struct regs *r, uint8_t reg, const void *src, const uint8_t *known, uint32_t len,
			     const char *why)
{
	int slot = reg_slot(reg);

	if (!reg_range_ok(slot, len))
		return;
	if (len % NFT_REG32_SIZE)
		r->data[slot + len / NFT_REG32_SIZE] = 0;
	memcpy(reg_bytes(r, slot), src, len);
	reg_mark(r, slot, len, true, NULL);
	if (known) {
		memcpy(reg_kbytes(r, slot), known, len);
		if (!reg_known(r, slot, len))
			for (uint32_t i = 0; i < slots_for(len); i++)
				r->why[slot + i] = why;
	}
}

static void reg_store(struct regs *r, uint8_t reg, const void *src, uint32_t len)
{
	reg_store_masked(r, reg, src, NULL, len, NULL);
}

static void reg_store_unknown(struct regs *r, uint8_t reg, uint32_t len, const char *why)
{
	int slot = reg_slot(reg);

	if (reg_range_ok(slot, len))
		reg_mark(r, slot, len, false, why);
}

/* ---- loads ------------------------------------------------------------ */

enum load { LOAD_OK, LOAD_UNKNOWN, LOAD_BREAK };

/* A header field: its bytes in out, the bits of them the flow determines in
 * known, and in *why the field, when some are not. */
static enum load load_payload(const struct exec *x, const struct cg_expr *e, uint8_t *out, uint8_t *known,
			      const char **why)
{
	const uint8_t *base, *kbase;
	uint32_t avail;

	switch (e->payload.base) {
	case NFT_PAYLOAD_NETWORK_HEADER:
		base = x->hdr.nh;
		kbase = x->hdr.nh_known;
		avail = x->hdr.nh_len;
		break;
	case NFT_PAYLOAD_TRANSPORT_HEADER:
		base = x->hdr.th;
		kbase = x->hdr.th_known;
		avail = x->hdr.th_len;
		break;
	default:
		/* link layer and inner headers are not modelled */
		*why = "a link-layer or inner header (not simulated)";
		return LOAD_UNKNOWN;
	}
	if (e->payload.len == 0 || e->payload.len > 64) {
		*why = "payload";
		return LOAD_UNKNOWN;
	}
	if (e->payload.offset + e->payload.len > avail) {
		/* the kernel breaks when skb_copy_bits() fails; beyond our
		 * headers lies payload we do not model (options, data) */
		*why = e->payload.base == NFT_PAYLOAD_TRANSPORT_HEADER && x->pkt.l4proto == IPPROTO_TCP ?
			       "tcp options or data, which the flow does not determine" :
			       "the packet's data, which the flow does not determine";
		return LOAD_UNKNOWN;
	}
	memcpy(out, base + e->payload.offset, e->payload.len);
	memcpy(known, kbase + e->payload.offset, e->payload.len);
	*why = NULL;
	for (uint32_t i = 0; i < e->payload.len; i++)
		if (known[i] != 0xff) {
			*why = pkt_field_name(&x->pkt, e->payload.base, e->payload.offset + i);
			break;
		}
	return LOAD_OK;
}

static void put_u32(uint8_t *out, uint32_t *len, uint32_t v)
{
	memcpy(out, &v, 4);
	*len = 4;
}

static enum load ifname_load(const struct cg_iface *dev, uint8_t *out, uint32_t *len)
{
	/* nft_meta_store_ifname(): no device stores an empty name */
	memset(out, 0, IFNAMSIZ);
	memcpy(out, dev->name, strnlen(dev->name, IFNAMSIZ - 1));
	*len = IFNAMSIZ;
	return LOAD_OK;
}

static enum load load_meta(const struct exec *x, uint32_t key, uint8_t *out, uint32_t *len, const char **why)
{
	const struct cg_packet *p = &x->pkt;

	*why = NULL;
	switch (key) {
	case NFT_META_LEN:
		if (p->unknown & CG_PKT_U_LEN) {
			*why = "meta length, which the flow does not determine";
			return LOAD_UNKNOWN;
		}
		put_u32(out, len, p->len);
		return LOAD_OK;
	case NFT_META_PROTOCOL: {
		uint16_t proto = htons(p->nfproto == NFPROTO_IPV6 ? 0x86dd : 0x0800);
		memcpy(out, &proto, 2);
		*len = 2;
		return LOAD_OK;
	}
	case NFT_META_MARK:
		put_u32(out, len, p->mark);
		return LOAD_OK;
	case NFT_META_IIF:
		put_u32(out, len, p->iif.index);
		return LOAD_OK;
	case NFT_META_OIF:
		put_u32(out, len, p->oif.index);
		return LOAD_OK;
	case NFT_META_IIFNAME:
		return ifname_load(&p->iif, out, len);
	case NFT_META_OIFNAME:
		return ifname_load(&p->oif, out, len);
	case NFT_META_IIFTYPE:
	case NFT_META_OIFTYPE: {
		const struct cg_iface *d = key == NFT_META_IIFTYPE ? &p->iif : &p->oif;
		if (!d->name[0])
			return LOAD_BREAK;
		memcpy(out, &d->type, 2);
		*len = 2;
		return LOAD_OK;
	}
	case NFT_META_IIFGROUP:
	case NFT_META_OIFGROUP: {
		const struct cg_iface *d = key == NFT_META_IIFGROUP ? &p->iif : &p->oif;
		if (!d->name[0])
			return LOAD_BREAK;
		put_u32(out, len, d->group);
		return LOAD_OK;
	}
	case NFT_META_SKUID:
	case NFT_META_SKGID:
		/* Incoming packets may carry an early-demuxed socket; only a
		 * locally generated packet's socket is known. */
		if (!p->locally_generated)
			return LOAD_UNKNOWN;
		put_u32(out, len, key == NFT_META_SKUID ? p->skuid : p->skgid);
		return LOAD_OK;
	case NFT_META_NFPROTO:
		out[0] = p->nfproto;
		*len = 1;
		return LOAD_OK;
	case NFT_META_L4PROTO:
		out[0] = p->l4proto;
		*len = 1;
		return LOAD_OK;
	case NFT_META_PKTTYPE:
		out[0] = p->pkttype;
		*len = 1;
		return LOAD_OK;
	case NFT_META_PRIORITY:
	case NFT_META_SECMARK:
		/* set by sockets, tc, CLASSIFY and SECMARK, none of which is simulated */
		if (p->unknown & CG_PKT_U_PRIORITY) {
			*why = key == NFT_META_PRIORITY ? "meta priority, which the flow does not determine" :
							  "meta secmark, which the flow does not determine";
			return LOAD_UNKNOWN;
		}
		put_u32(out, len, 0);
		return LOAD_OK;
	case NFT_META_SECPATH:
		out[0] = 0;
		*len = 1;
		return LOAD_OK;
	default:
		*why = "a meta key the simulator does not know";
		return LOAD_UNKNOWN;
	}
}

static uint32_t ct_state_bits(const struct exec *x)
{
	if (x->untracked)
		return CG_CT_UNTRACKED;
	if (!x->ct_visible)
		return CG_CT_INVALID;
	return x->pkt.ct.state;
}

/* A ct entry exists for the packet at this point of the path. */
bool nf_ct_present(const struct exec *x)
{
	return x->ct_visible && !x->untracked &&
	       !(x->pkt.ct.state & (CG_CT_INVALID | CG_CT_UNTRACKED));
}

static enum load load_ct(const struct exec *x, const struct cg_expr *e, uint8_t *out, uint8_t *known,
			 uint32_t *len, const char **why)
{
	const struct cg_conntrack *ct = &x->pkt.ct;
	const struct cg_tuple *t;
	uint8_t dir;

	memset(known, 0xff, 16);
	*why = NULL;
	if (e->ct.key == NFT_CT_STATE) {
		put_u32(out, len, ct_state_bits(x));
		return LOAD_OK;
	}
	if (!nf_ct_present(x))
		return LOAD_BREAK;      /* nft_ct_get_eval(): no ct -> NFT_BREAK */
	dir = e->ct.dir >= 0 ? (uint8_t)e->ct.dir : ct->dir;
	t = dir == IP_CT_DIR_ORIGINAL ? &ct->orig : &ct->reply;
	switch (e->ct.key) {
	case NFT_CT_DIRECTION:
		out[0] = ct->dir;
		*len = 1;
		return LOAD_OK;
	case NFT_CT_STATUS: {
		/* assured, and the NAT bits, depend on what conntrack saw */
		uint32_t k = ~x->pkt.ct_status_unknown;
		put_u32(out, len, ct->status);
		memcpy(known, &k, 4);
		if (k != 0xffffffffu)
			*why = "ct status (assured, nat), which the flow does not determine";
		return LOAD_OK;
	}
	case NFT_CT_MARK:
		put_u32(out, len, ct->mark);
		return LOAD_OK;
	case NFT_CT_SECMARK:
		if (x->pkt.unknown & CG_PKT_U_PRIORITY) {
			*why = "ct secmark, which the flow does not determine";
			return LOAD_UNKNOWN;
		}
		put_u32(out, len, 0);
		return LOAD_OK;
	case NFT_CT_L3PROTOCOL:
		out[0] = x->pkt.nfproto;
		*len = 1;
		return LOAD_OK;
	case NFT_CT_PROTOCOL:
		out[0] = x->pkt.l4proto;
		*len = 1;
		return LOAD_OK;
	case NFT_CT_SRC:
	case NFT_CT_DST: {
		const struct cg_addr *a = e->ct.key == NFT_CT_SRC ? &t->src : &t->dst;
		/* nf_tables stores 16 bytes for either family */
		memset(out, 0, 16);
		memcpy(out, a->bytes, addr_family_len(a->family));
		*len = addr_family_len(a->family);
		return LOAD_OK;
	}
	case NFT_CT_SRC_IP:
	case NFT_CT_DST_IP:
	case NFT_CT_SRC_IP6:
	case NFT_CT_DST_IP6: {
		bool src = e->ct.key == NFT_CT_SRC_IP || e->ct.key == NFT_CT_SRC_IP6;
		int fam = (e->ct.key == NFT_CT_SRC_IP || e->ct.key == NFT_CT_DST_IP) ? AF_INET : AF_INET6;
		const struct cg_addr *a = src ? &t->src : &t->dst;
		if (a->family != fam)
			return LOAD_BREAK;
		memcpy(out, a->bytes, addr_family_len(fam));
		*len = addr_family_len(fam);
		return LOAD_OK;
	}
	case NFT_CT_PROTO_SRC:
	case NFT_CT_PROTO_DST: {
		uint16_t port = htons(e->ct.key == NFT_CT_PROTO_SRC ? t->sport : t->dport);
		memcpy(out, &port, 2);
		*len = 2;
		return LOAD_OK;
	}
	case NFT_CT_ZONE: {
		uint16_t zone = 0;
		memcpy(out, &zone, 2);
		*len = 2;
		return LOAD_OK;
	}
	default:
		*why = "a ct key the simulator does not know";
		return LOAD_UNKNOWN;
	}
}

/* The packet as an xt match or target sees it: before conntrack (or after
 * notrack) there is no entry, which the xt modules read as INVALID (or
 * UNTRACKED) whatever the connection's later state. */
static struct cg_packet *xt_view(struct exec *x, struct cg_packet *tmp)
{
	if (x->ct_visible && !x->untracked)
		return &x->pkt;
	*tmp = x->pkt;
	tmp->ct.state = x->untracked ? CG_CT_UNTRACKED : CG_CT_INVALID;
	return tmp;
}

/* ---- expressions ------------------------------------------------------ */


static int cmp_bytes(const uint8_t *a, const uint8_t *b, uint32_t len)
{
	return memcmp(a, b, len);
}

static bool cmp_holds(uint32_t op, int d)
{
	switch (op) {
	case NFT_CMP_EQ: return d == 0;
	case NFT_CMP_NEQ: return d != 0;
	case NFT_CMP_LT: return d < 0;
	case NFT_CMP_LTE: return d <= 0;
	case NFT_CMP_GT: return d > 0;
	case NFT_CMP_GTE: return d >= 0;
	default: return false;
	}
}

/* The smallest and the largest value len bytes from slot can hold, their
 * unknown bits all clear or all set: a big-endian comparison that holds for
 * both holds for every value in between. */
static void reg_bounds(struct regs *r, int slot, uint32_t len, uint8_t *lo, uint8_t *hi)
{
	const uint8_t *v = reg_bytes(r, slot), *k = reg_kbytes(r, slot);

	for (uint32_t i = 0; i < len; i++) {
		lo[i] = v[i] & k[i];
		hi[i] = (uint8_t)(v[i] | ~k[i]);
	}
}

static enum step eval_cmp(struct regs *r, const struct cg_expr *e, const char **what)
{
	int slot = reg_slot(e->cmp.sreg);
	uint32_t len = e->cmp.data.len;
	uint8_t lo[64], hi[64];

	if (!reg_range_ok(slot, len) || len > sizeof(lo)) {
		*what = "comparison on a register the simulator cannot read";
		return STEP_UNKNOWN;
	}
	if (reg_known(r, slot, len)) {
		int d = cmp_bytes(reg_bytes(r, slot), e->cmp.data.bytes, len);
		return cmp_holds(e->cmp.op, d) ? STEP_NEXT : STEP_BREAK;
	}
	if (e->cmp.op == NFT_CMP_EQ || e->cmp.op == NFT_CMP_NEQ) {
		/* a known bit that differs decides */
		const uint8_t *v = reg_bytes(r, slot), *k = reg_kbytes(r, slot);
		for (uint32_t i = 0; i < len; i++)
			if ((v[i] ^ e->cmp.data.bytes[i]) & k[i])
				return e->cmp.op == NFT_CMP_NEQ ? STEP_NEXT : STEP_BREAK;
	} else {
		reg_bounds(r, slot, len, lo, hi);
		bool at_lo = cmp_holds(e->cmp.op, cmp_bytes(lo, e->cmp.data.bytes, len));
		bool at_hi = cmp_holds(e->cmp.op, cmp_bytes(hi, e->cmp.data.bytes, len));
		if (at_lo == at_hi)
			return at_lo ? STEP_NEXT : STEP_BREAK;
	}
	*what = reg_why(r, slot, len, "comparison on a value the simulator cannot know");
	return STEP_UNKNOWN;
}

static enum step eval_range(struct regs *r, const struct cg_expr *e, const char **what)
{
	int slot = reg_slot(e->range.sreg);
	uint32_t len = e->range.from.len;
	bool eq = e->range.op == NFT_RANGE_EQ;
	uint8_t lo[64], hi[64];

	if (len != e->range.to.len || !reg_range_ok(slot, len) || len > sizeof(lo)) {
		*what = "range on a register the simulator cannot read";
		return STEP_UNKNOWN;
	}
	reg_bounds(r, slot, len, lo, hi);
	/* every value in [lo, hi] is inside the range, or every one outside */
	if (cmp_bytes(lo, e->range.from.bytes, len) >= 0 && cmp_bytes(hi, e->range.to.bytes, len) <= 0)
		return eq ? STEP_NEXT : STEP_BREAK;
	if (cmp_bytes(hi, e->range.from.bytes, len) < 0 || cmp_bytes(lo, e->range.to.bytes, len) > 0)
		return eq ? STEP_BREAK : STEP_NEXT;
	*what = reg_why(r, slot, len, "range on a value the simulator cannot know");
	return STEP_UNKNOWN;
}

/* nft_bitwise_eval_[lr]shift(): host-order 32-bit words; `fill` is what
 * the vacated bits become (0 for the value, all ones for its known mask:
 * a bit shifted in is a known zero) */
static void shift_words(uint32_t *w, uint32_t words, uint32_t shift, bool left, uint32_t fill)
{
	uint32_t carry;

	if (!shift)
		return;
	if (left) {
		carry = fill & ((1u << shift) - 1);
		for (int i = (int)words - 1; i >= 0; i--) {
			uint32_t v = w[i];
			w[i] = (v << shift) | carry;
			carry = v >> (32 - shift);
		}
	} else {
		carry = fill & ~(~0u >> shift);
		for (uint32_t i = 0; i < words; i++) {
			uint32_t v = w[i];
			w[i] = carry | (v >> shift);
			carry = v << (32 - shift);
		}
	}
}

static void eval_bitwise(struct regs *r, const struct cg_expr *e)
{
	int s = reg_slot(e->bitwise.sreg), d = reg_slot(e->bitwise.dreg);
	uint32_t len = e->bitwise.len;
	uint8_t buf[64], kbuf[64];
	const char *why;

	if (!reg_range_ok(s, len) || !reg_range_ok(d, len) || len > sizeof(buf))
		return;
	why = reg_why(r, s, len, "bitwise operation on a value the simulator cannot know");
	memcpy(buf, reg_bytes(r, s), len);
	memcpy(kbuf, reg_kbytes(r, s), len);
	if (e->bitwise.op == NFT_BITWISE_BOOL) {
		if (e->bitwise.data->mask.len < len || e->bitwise.data->xor.len < len) {
			reg_mark(r, d, len, false, "bitwise operation the simulator cannot read");
			return;
		}
		for (uint32_t i = 0; i < len; i++) {
			buf[i] = (buf[i] & e->bitwise.data->mask.bytes[i]) ^ e->bitwise.data->xor.bytes[i];
			/* a bit the mask clears is known: zero, then the xor's */
			kbuf[i] |= (uint8_t)~e->bitwise.data->mask.bytes[i];
		}
	} else {
		uint32_t shift = 0, words = slots_for(len), w[16], kw[16];
		bool left = e->bitwise.op == NFT_BITWISE_LSHIFT;
		if (e->bitwise.data->shift.len >= 4)
			memcpy(&shift, e->bitwise.data->shift.bytes, 4);
		if (shift >= 32) {
			reg_mark(r, d, len, false, "bitwise shift the simulator cannot read");
			return;
		}
		memcpy(w, reg_bytes(r, s), words * 4);
		memcpy(kw, reg_kbytes(r, s), words * 4);
		shift_words(w, words, shift, left, 0);
		shift_words(kw, words, shift, left, ~0u);
		memcpy(buf, w, len);
		memcpy(kbuf, kw, len);
	}
	reg_store_masked(r, e->bitwise.dreg, buf, kbuf, len, why);
}

static void eval_byteorder(struct regs *r, const struct cg_expr *e)
{
	int s = reg_slot(e->byteorder.sreg), d = reg_slot(e->byteorder.dreg);
	uint32_t len = e->byteorder.len, size = e->byteorder.size;
	uint8_t buf[64], kbuf[64];

	if (!reg_range_ok(s, len) || !reg_range_ok(d, len) || len > sizeof(buf) ||
	    (size != 2 && size != 4 && size != 8) || len % size) {
		if (reg_range_ok(d, len))
			reg_mark(r, d, len, false, "byteorder the simulator cannot read");
		return;
	}
	const char *why = reg_why(r, s, len, "byteorder on a value the simulator cannot know");
	memcpy(buf, reg_bytes(r, s), len);
	memcpy(kbuf, reg_kbytes(r, s), len);
	/* on a little-endian host both directions are a byte swap per element */
	for (uint32_t i = 0; i < len; i += size) {
		for (uint32_t k = 0; k < size / 2; k++) {
			uint8_t t = buf[i + k];
			buf[i + k] = buf[i + size - 1 - k];
			buf[i + size - 1 - k] = t;
			t = kbuf[i + k];
			kbuf[i + k] = kbuf[i + size - 1 - k];
			kbuf[i + size - 1 - k] = t;
		}
	}
#if __BYTE_ORDER == __BIG_ENDIAN
	memcpy(buf, reg_bytes(r, s), len);
	memcpy(kbuf, reg_kbytes(r, s), len);
#endif
	reg_store_masked(r, e->byteorder.dreg, buf, kbuf, len, why);
}

static enum step eval_lookup(struct regs *r, const struct cg_expr *e, const char **what)
{
	const struct cg_set *set = e->lookup.set;
	int s = reg_slot(e->lookup.sreg);

	if (!set) {
		*what = "lookup in a set that was not found";
		return STEP_UNKNOWN;
	}
	if (!reg_range_ok(s, set->key_len)) {
		*what = "set lookup on a register the simulator cannot read";
		return STEP_UNKNOWN;
	}
	bool unknown = !reg_known(r, s, set->key_len);

	if (unknown)
		*what = reg_why(r, s, set->key_len, "set lookup on an unknown key");
	else if (set->flags & CG_SET_EVAL) {
		/* rules add and remove its elements (dynset): what the dump
		 * holds is not what the flow's packets will meet */
		*what = "lookup in a dynamic set (its elements come and go with traffic)";
		unknown = true;
	}
	if (unknown) {
		/* A fork is a match or none. A verdict map gives one of its
		 * verdicts, which a fork does not follow: the outcome is not
		 * the simulator's to give. A data map's match leaves data
		 * no one knows in its register. */
		if ((set->flags & CG_SET_MAP) && e->lookup.dreg == NFT_REG_VERDICT && !e->lookup.invert)
			return STEP_FAIL;
		if ((set->flags & CG_SET_MAP) && e->lookup.dreg)
			reg_store_unknown(r, e->lookup.dreg, set->data_len, *what);
		return STEP_UNKNOWN;
	}
	const struct cg_set_elem *el;
	const char *why = NULL;
	int q = set_lookup(set, reg_bytes(r, s), set->key_len, &el, &why);
	if (q < 0) {
		/* a lazy set the kernel could not be asked about */
		*what = why ? why : "lookup in a set whose elements could not be read";
		return STEP_UNKNOWN;
	}
	bool found = q > 0;
	if (found == e->lookup.invert)
		return STEP_BREAK;
	if (found && e->lookup.dreg == NFT_REG_VERDICT && (set->flags & CG_SET_MAP)) {
		r->verdict = el->verdict;
		r->verdict_set = true;
	} else if (found && e->lookup.dreg && (set->flags & CG_SET_MAP)) {
		reg_store(r, e->lookup.dreg, el->data.bytes, el->data.len);
	}
	return STEP_NEXT;
}

static void set_verdict(struct regs *r, enum cg_verdict_code code)
{
	r->verdict = (struct cg_verdict){ .code = code };
	r->verdict_set = true;
}

static bool load_nat_addr(struct regs *r, uint8_t reg, int family, struct cg_addr *out)
{
	int slot = reg_slot(reg);
	uint32_t len = (uint32_t)addr_family_len(family);

	if (!reg || !len || !reg_range_ok(slot, len) || !reg_known(r, slot, len))
		return false;
	*out = (struct cg_addr){ .family = family };
	memcpy(out->bytes, reg_bytes(r, slot), len);
	return true;
}

/* nat/masq/redir statements: accept, and record the new tuple for DNAT. */
static enum step eval_nat(struct exec *x, struct regs *r, const struct cg_expr *e,
			  struct chain_outcome *nat, const char **what)
{
	if (e->type == CG_EXPR_NAT) {
		int fam = e->nat.family == NFPROTO_IPV6 ? AF_INET6 : AF_INET;
		bool dnat = e->nat.type == NFT_NAT_DNAT;
		if (e->nat.reg_addr_min) {
			struct cg_addr a;
			if (!load_nat_addr(r, e->nat.reg_addr_min, fam, &a)) {
				*what = "nat to an address from an unknown register";
				return STEP_FAIL;
			}
			nat->nat_addr = a;
		}
		if (e->nat.reg_proto_min) {
			int slot = reg_slot(e->nat.reg_proto_min);
			if (!reg_range_ok(slot, 2) || !reg_known(r, slot, 2)) {
				*what = "nat to a port from an unknown register";
				return STEP_FAIL;
			}
			uint16_t port;
			memcpy(&port, reg_bytes(r, slot), 2);
			nat->nat_port = ntohs(port);
		}
		if (dnat)
			nat->dnat = true;
		else
			nat->snat = true;
	} else if (e->type == CG_EXPR_REDIR) {
		nat->dnat = true;
	} else {
		nat->snat = true;
	}
	(void)x;
	set_verdict(r, CG_VERDICT_ACCEPT);
	return STEP_NEXT;
}

static enum step eval_xt_target(struct exec *x, struct regs *r, const struct cg_expr *e,
				struct chain_outcome *nat, bool *reject, const char **what)
{
	struct xt_target_result res;

	if (!e->xt.decoded) {
		*what = e->xt.name;
		return STEP_FAIL;
	}
	struct cg_packet view;
	struct cg_packet *p = xt_view(x, &view);
	int v = xt_target_apply(e->xt.decoded, p, &res);
	if (p == &view) {
		/* before conntrack only the packet itself can change */
		x->pkt.mark = view.mark;
	}
	if (v < 0) {
		*what = e->xt.name;
		return STEP_FAIL;
	}
	if (res.dnat || res.snat) {
		nat->dnat |= res.dnat;
		nat->snat |= res.snat;
		if (res.nat_addr.family)
			nat->nat_addr = res.nat_addr;
		if (res.nat_port)
			nat->nat_port = res.nat_port;
	}
	if (res.notrack && !x->ct_visible)
		x->untracked = true;
	if (res.terminal) {
		set_verdict(r, res.verdict == XT_RESULT_ACCEPT ? CG_VERDICT_ACCEPT : CG_VERDICT_DROP);
		*reject = res.reject;
	}
	return STEP_NEXT;
}

static enum step eval_set_stmt(struct exec *x, struct regs *r, const struct cg_expr *e,
			       const char **what)
{
	bool meta = e->type == CG_EXPR_META_SET;
	uint32_t key = meta ? e->meta.key : e->ct.key;
	uint8_t reg = meta ? e->meta.reg : e->ct.reg;
	int slot = reg_slot(reg);

	if ((meta && key == NFT_META_MARK) || (!meta && key == NFT_CT_MARK)) {
		if (!reg_range_ok(slot, 4) || !reg_known(r, slot, 4)) {
			*what = meta ? "meta mark set from an unknown value" : "ct mark set from an unknown value";
			return STEP_FAIL;
		}
		uint32_t v;
		memcpy(&v, reg_bytes(r, slot), 4);
		if (meta)
			x->pkt.mark = v;
		else if (nf_ct_present(x))
			x->pkt.ct.mark = v;
		return STEP_NEXT;
	}
	/* priority, nftrace, secmark and the like do not change a verdict */
	if (meta && (key == NFT_META_PRIORITY || key == NFT_META_NFTRACE || key == NFT_META_SECMARK))
		return STEP_NEXT;
	*what = meta ? "meta set statement" : "ct set statement";
	return STEP_FAIL;
}

/* ---- expressions the model keeps by their kernel attributes ------------ */

#define KEPT_MAX_ATTR 16

struct kept {
	const struct nlattr *tb[KEPT_MAX_ATTR + 1];
};

static int kept_attr_cb(const struct nlattr *a, void *data)
{
	struct kept *k = data;

	if (mnl_attr_get_type(a) <= KEPT_MAX_ATTR)
		k->tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static bool kept_parse(const struct cg_expr *e, struct kept *k)
{
	memset(k, 0, sizeof(*k));
	return e->unknown.attrs && e->unknown.attrs_len &&
	       mnl_attr_parse_payload(e->unknown.attrs, e->unknown.attrs_len, kept_attr_cb, k) >= 0;
}

static bool kept_has(const struct kept *k, unsigned type)
{
	return k->tb[type] && mnl_attr_get_payload_len(k->tb[type]) >= 4;
}

static uint32_t kept_u32(const struct kept *k, unsigned type)
{
	return kept_has(k, type) ? be32toh(mnl_attr_get_u32(k->tb[type])) : 0;
}

/* a register an attribute names, as the 8-bit number the helpers take */
static uint8_t kept_reg(const struct kept *k, unsigned type)
{
	uint32_t reg = kept_u32(k, type);

	return reg <= NFT_REG32_15 ? (uint8_t)reg : 0xff;
}

/* A load the flow does not determine: its register becomes unknown, so
 * what reads it (a cmp, a lookup, a set statement) is unknown too, named. */
static enum step kept_load_unknown(struct regs *r, const struct kept *k, unsigned dreg, uint32_t len,
				   const char *why, const char **what)
{
	uint8_t reg = kept_reg(k, dreg);

	if (!kept_has(k, dreg) || !reg_range_ok(reg_slot(reg), len)) {
		*what = why;
		return STEP_UNKNOWN;
	}
	reg_store_unknown(r, reg, len, why);
	return STEP_NEXT;
}

/* numgen and hash modulo 1: always the offset */
static enum step kept_mod_one(struct regs *r, const struct kept *k, unsigned dreg, unsigned mod,
			      unsigned offset, const char *why, const char **what)
{
	if (kept_has(k, mod) && kept_u32(k, mod) == 1 && kept_has(k, dreg) &&
	    reg_range_ok(reg_slot(kept_reg(k, dreg)), 4)) {
		uint32_t v = kept_u32(k, offset);

		reg_store(r, kept_reg(k, dreg), &v, 4);
		return STEP_NEXT;
	}
	return kept_load_unknown(r, k, dreg, 4, why, what);
}

/* the expressions a dynset runs on its element: counters and "last" only
 * count; anything else (limit, quota, ct count) may end the rule */
static const char *dynset_nested_unknown(const struct kept *k)
{
	const struct nlattr *list[2] = { k->tb[NFTA_DYNSET_EXPR], NULL };
	const struct nlattr *elem, *a;

	if (k->tb[NFTA_DYNSET_EXPRESSIONS]) {
		mnl_attr_for_each_nested(elem, k->tb[NFTA_DYNSET_EXPRESSIONS]) {
			mnl_attr_for_each_nested(a, elem) {
				if (mnl_attr_get_type(a) == NFTA_EXPR_NAME &&
				    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
				    strcmp(mnl_attr_get_str(a), "counter") && strcmp(mnl_attr_get_str(a), "last"))
					return "a dynamic set's per-element limit, quota or ct count (depends on traffic already seen)";
			}
		}
	}
	for (const struct nlattr *const *l = list; *l; l++) {
		mnl_attr_for_each_nested(a, *l) {
			if (mnl_attr_get_type(a) == NFTA_EXPR_NAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
			    strcmp(mnl_attr_get_str(a), "counter") && strcmp(mnl_attr_get_str(a), "last"))
				return "a dynamic set's per-element limit, quota or ct count (depends on traffic already seen)";
		}
	}
	return NULL;
}

/* What the kernel's expression does with the flow's packet, for the kinds the
 * model keeps by name: loads the packet does not determine make their
 * register unknown; statements that only record (dynset add/update/delete,
 * named counters, ct helper/timeout/expectation set, dup, flow add, last) let
 * the rule go on; stateful matches (ct count, named quota and limit) and
 * what takes the packet elsewhere (tproxy, synproxy, fwd, queue) are unknown. */
static enum step eval_kept(struct regs *r, const struct cg_expr *e, const char **what)
{
	const char *name = e->unknown.name ? e->unknown.name : "";
	struct kept k;

	*what = name;
	if (!kept_parse(e, &k))
		return STEP_UNKNOWN;
	if (!strcmp(name, "exthdr")) {
		static const char *const whys[] = {
			[NFT_EXTHDR_OP_IPV6] = "an IPv6 extension header (the flow's packets are not modelled to that depth)",
			[NFT_EXTHDR_OP_TCPOPT] = "a TCP option (the flow's packets carry options the simulator does not model)",
			[NFT_EXTHDR_OP_IPV4] = "an IP option (the flow's packets are not modelled to that depth)",
		};
		uint32_t op = kept_u32(&k, NFTA_EXTHDR_OP);
		const char *why = op < ARRAY_SIZE(whys) && whys[op] ? whys[op] : "an extension header";

		if (!kept_has(&k, NFTA_EXTHDR_DREG)) {
			/* writing or resetting an option: the verdict stays */
			return STEP_NEXT;
		}
		/* a presence test writes a whole register */
		return kept_load_unknown(r, &k, NFTA_EXTHDR_DREG,
					 kept_u32(&k, NFTA_EXTHDR_LEN) < 4 ? 4 : kept_u32(&k, NFTA_EXTHDR_LEN), why, what);
	}
	if (!strcmp(name, "rt")) {
		uint32_t key = kept_u32(&k, NFTA_RT_KEY);

		return kept_load_unknown(r, &k, NFTA_RT_DREG, key == NFT_RT_NEXTHOP6 ? 16 : 4,
					 "rt (the route the packet takes: its next hop, mtu, realm or ipsec)", what);
	}
	if (!strcmp(name, "socket"))
		return kept_load_unknown(r, &k, NFTA_SOCKET_DREG,
					 kept_u32(&k, NFTA_SOCKET_KEY) == NFT_SOCKET_CGROUPV2 ? 8 : 4,
					 "socket (the local socket a packet would find)", what);
	if (!strcmp(name, "osf"))
		return kept_load_unknown(r, &k, NFTA_OSF_DREG, NFT_OSF_MAXGENRELEN,
					 "osf (the peer's operating system, from its SYN)", what);
	if (!strcmp(name, "xfrm"))
		return kept_load_unknown(r, &k, NFTA_XFRM_DREG,
					 kept_u32(&k, NFTA_XFRM_KEY) == NFT_XFRM_KEY_DADDR_IP6 ||
							 kept_u32(&k, NFTA_XFRM_KEY) == NFT_XFRM_KEY_SADDR_IP6 ? 16 : 4,
					 "ipsec (the packet's IPsec state)", what);
	if (!strcmp(name, "numgen"))
		return kept_mod_one(r, &k, NFTA_NG_DREG, NFTA_NG_MODULUS, NFTA_NG_OFFSET,
				    "numgen (a counter or random number per packet)", what);
	if (!strcmp(name, "hash"))
		return kept_mod_one(r, &k, NFTA_HASH_DREG, NFTA_HASH_MODULUS, NFTA_HASH_OFFSET,
				    "jhash/symhash (a hash with a per-boot seed)", what);
	if (!strcmp(name, "connlimit")) {
		*what = "ct count (depends on the connections already open)";
		return STEP_UNKNOWN;
	}
	if (!strcmp(name, "objref")) {
		if (k.tb[NFTA_OBJREF_SET_SREG]) {
			*what = "an object chosen by a map (a key not in it ends the rule)";
			return STEP_UNKNOWN;
		}
		switch (kept_u32(&k, NFTA_OBJREF_IMM_TYPE)) {
		case NFT_OBJECT_COUNTER:
		case NFT_OBJECT_CT_HELPER:
		case NFT_OBJECT_CT_TIMEOUT:
		case NFT_OBJECT_CT_EXPECT:
		case NFT_OBJECT_SECMARK:
		case NFT_OBJECT_TUNNEL:
			return STEP_NEXT;
		case NFT_OBJECT_QUOTA:
			*what = "named quota (depends on traffic already seen)";
			return STEP_UNKNOWN;
		case NFT_OBJECT_LIMIT:
			*what = "named limit (depends on the packet rate)";
			return STEP_UNKNOWN;
		case NFT_OBJECT_CONNLIMIT:
			*what = "named ct count (depends on the connections already open)";
			return STEP_UNKNOWN;
		default:
			*what = "a named object";
			return STEP_UNKNOWN;
		}
	}
	if (!strcmp(name, "dynset")) {
		const char *why = dynset_nested_unknown(&k);

		if (why) {
			*what = why;
			return STEP_UNKNOWN;
		}
		/* adding, refreshing or deleting an element: the rule goes on
		 * (a full set would end it; sets are sized for their traffic) */
		return STEP_NEXT;
	}
	if (!strcmp(name, "dup") || !strcmp(name, "flow_offload") || !strcmp(name, "last"))
		return STEP_NEXT;   /* a copy sent, a flow offloaded, a time noted */
	/* what takes the packet elsewhere: not a match, an outcome the
	 * simulator cannot give (tproxy: no socket ends the rule, a socket
	 * diverts the packet to it) */
	if (!strcmp(name, "tproxy"))
		*what = "tproxy (the local socket a packet would find)";
	else if (!strcmp(name, "synproxy"))
		*what = "synproxy (answers SYNs itself)";
	else if (!strcmp(name, "fwd"))
		*what = "fwd (the packet leaves through another device)";
	else if (!strcmp(name, "queue"))
		*what = "queue (a userspace program decides)";
	else
		return STEP_UNKNOWN;
	return STEP_FAIL;
}

/* Runs expressions [from, n) of a rule. *unknown_at receives the index of an
 * unknown match (STEP_UNKNOWN) so the caller can fork there. */
static enum step eval_exprs_from(struct exec *x, const struct cg_rule *rule, const struct cg_expr *exprs,
				 uint32_t from, struct regs *r, struct chain_outcome *nat, bool *reject,
				 const struct ctx *c, uint32_t *unknown_at, const char **what)
{
	uint8_t buf[64], kbuf[64];
	uint32_t len = 0;
	const char *why;

	for (uint32_t i = from; i < rule->n_exprs; i++) {
		const struct cg_expr *e = &exprs[i];
		enum load l;
		enum step st = STEP_NEXT;

		switch (e->type) {
		case CG_EXPR_PAYLOAD:
			l = load_payload(x, e, buf, kbuf, &why);
			if (l == LOAD_OK)
				reg_store_masked(r, e->payload.dreg, buf, kbuf, e->payload.len, why);
			else
				reg_store_unknown(r, e->payload.dreg, e->payload.len, why);
			break;
		case CG_EXPR_META:
			l = load_meta(x, e->meta.key, buf, &len, &why);
			if (l == LOAD_BREAK)
				return STEP_BREAK;
			if (l == LOAD_OK)
				reg_store(r, e->meta.reg, buf, len);
			else
				reg_store_unknown(r, e->meta.reg, 16, why);
			break;
		case CG_EXPR_CT:
			l = load_ct(x, e, buf, kbuf, &len, &why);
			if (l == LOAD_BREAK)
				return STEP_BREAK;
			if (l == LOAD_OK)
				reg_store_masked(r, e->ct.reg, buf, kbuf, len, why);
			else
				reg_store_unknown(r, e->ct.reg, 16, why);
			break;
		case CG_EXPR_FIB: {
			int f = nf_fib_eval(x, c, e, buf, &len, &why);
			if (f < 0)
				return STEP_BREAK;
			if (f > 0)
				reg_store(r, e->fib.dreg, buf, len);
			else
				reg_store_unknown(r, e->fib.dreg,
						  e->fib.result == NFT_FIB_RESULT_OIFNAME &&
								  !(e->fib.flags & NFTA_FIB_F_PRESENT) ? 16 : 4,
						  why);
			break;
		}
		case CG_EXPR_CMP:
			st = eval_cmp(r, e, what);
			break;
		case CG_EXPR_RANGE:
			st = eval_range(r, e, what);
			break;
		case CG_EXPR_BITWISE:
			eval_bitwise(r, e);
			break;
		case CG_EXPR_BYTEORDER:
			eval_byteorder(r, e);
			break;
		case CG_EXPR_LOOKUP:
			st = eval_lookup(r, e, what);
			break;
		case CG_EXPR_IMMEDIATE:
			if (e->immediate.dreg == NFT_REG_VERDICT) {
				r->verdict = e->immediate.verdict;
				r->verdict_set = true;
			} else {
				reg_store(r, e->immediate.dreg, e->immediate.data.bytes, e->immediate.data.len);
			}
			break;
		case CG_EXPR_COUNTER:
		case CG_EXPR_LOG:
			break;
		case CG_EXPR_NOTRACK:
			if (!x->ct_visible)
				x->untracked = true;
			break;
		case CG_EXPR_LIMIT:
			*what = "limit (depends on the packet rate)";
			st = STEP_UNKNOWN;
			break;
		case CG_EXPR_QUOTA:
			*what = "quota (depends on traffic already seen)";
			st = STEP_UNKNOWN;
			break;
		case CG_EXPR_REJECT:
			set_verdict(r, CG_VERDICT_DROP);
			*reject = true;
			break;
		case CG_EXPR_NAT:
		case CG_EXPR_MASQ:
		case CG_EXPR_REDIR:
			st = eval_nat(x, r, e, nat, what);
			break;
		case CG_EXPR_META_SET:
		case CG_EXPR_CT_SET:
			st = eval_set_stmt(x, r, e, what);
			break;
		case CG_EXPR_XT_MATCH: {
			struct cg_packet view;
			enum tri t = e->xt.decoded ? xt_match(e->xt.decoded, xt_view(x, &view), c->env) : TRI_UNKNOWN;
			if (t == TRI_FALSE)
				st = STEP_BREAK;
			else if (t == TRI_UNKNOWN) {
				*what = e->xt.name;
				st = STEP_UNKNOWN;
			}
			break;
		}
		case CG_EXPR_XT_TARGET:
			st = eval_xt_target(x, r, e, nat, reject, what);
			break;
		case CG_EXPR_PAYLOAD_SET:
			*what = "payload mangling";
			st = STEP_FAIL;
			break;
		case CG_EXPR_UNKNOWN:
			st = eval_kept(r, e, what);
			break;
		default:
			*what = "expression";
			st = STEP_UNKNOWN;
			break;
		}
		if (st == STEP_UNKNOWN) {
			*unknown_at = i;
			return st;
		}
		if (st != STEP_NEXT)
			return st;
		/* a verdict ends the rule (nft_do_chain breaks out on verdict) */
		if (r->verdict_set && r->verdict.code != CG_VERDICT_CONTINUE)
			return STEP_NEXT;
	}
	return STEP_NEXT;
}

enum step nf_eval_rule(struct exec *x, const struct cg_rule *rule, uint32_t from, struct regs *r,
		       struct chain_outcome *nat, bool *reject, const struct ctx *c, uint32_t *unknown_at,
		       const char **what)
{
	struct cg_expr_buf eb;
	enum step st = eval_exprs_from(x, rule, rule_exprs(rule, &eb), from, r, nat, reject, c,
				       unknown_at, what);

	expr_buf_free(&eb);
	return st;
}
