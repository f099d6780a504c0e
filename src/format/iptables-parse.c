/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A model rule's expression list -> the iptables command state
 * (iptables-internal.h), as iptables-nft-save parses its own rules:
 * registers tracked the way nft_xt_ctx_reg does, the ip header part from
 * payload/meta comparisons, native tcp/udp/icmp/mark/pkttype/limit/log
 * translations rebuilt as the matches and targets they stand for, xt
 * expressions kept in order. Legacy rules, compiled into the same
 * expressions by the collector, take the same path. */
#include "config.h"

#include "iptables-internal.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFLOG.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <string.h>

#include "cgnatcheck/common.h"

/* What a register holds, as nft_xt_ctx_reg tracks it. */
enum reg_kind { REG_UNDEF, REG_META, REG_PAYLOAD, REG_IMMEDIATE };

struct reg {
	enum reg_kind kind;
	uint32_t key;                   /* meta key */
	uint32_t base, offset, len;     /* payload */
	uint8_t data[16];               /* immediate */
	uint32_t data_len;
	bool bitwise;
	uint8_t mask[16];
};

#define N_REGS (1 + NFT_REG32_15 + 1)

static struct reg *reg_get(struct reg *regs, uint32_t r)
{
	return r < N_REGS ? &regs[r] : NULL;
}

static struct item *item_add(struct ipt_cs *cs, enum item_kind kind)
{
	struct item *it;

	if (cs->n_items >= MAX_ITEMS) {
		cs->items_truncated = true;
		return NULL;
	}
	it = &cs->items[cs->n_items++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	return it;
}

static void unsupported(struct ipt_cs *cs, const char *what)
{
	struct item *it = item_add(cs, ITEM_UNSUPPORTED);

	if (it)
		it->what = what;
}

static struct xt_decoded *synth_add(struct ipt_cs *cs, enum xt_kind kind, const char *name)
{
	struct item *it;

	if (cs->n_synth >= MAX_SYNTH) {
		unsupported(cs, name);
		return NULL;
	}
	it = item_add(cs, ITEM_SYNTH);
	if (!it)
		return NULL;
	it->synth = &cs->synth[cs->n_synth++];
	memset(it->synth, 0, sizeof(*it->synth));
	it->synth->kind = kind;
	it->synth->name = name;
	it->synth->nfproto = cs->family;
	return it->synth;
}

/* xs_init_match() of libxt_tcp/libxt_udp: all ports */
static struct xt_decoded *tcpudp_get(struct ipt_cs *cs, bool tcp)
{
	struct xt_decoded **slot = tcp ? &cs->tcp : &cs->udp;

	if (!*slot) {
		*slot = synth_add(cs, tcp ? XT_MATCH_TCP : XT_MATCH_UDP, tcp ? "tcp" : "udp");
		if (*slot) {
			(*slot)->tcpudp.sport = (struct xt_port_range){ 0, 0xffff };
			(*slot)->tcpudp.dport = (struct xt_port_range){ 0, 0xffff };
		}
	}
	return *slot;
}

/* ---- parsing: meta ---------------------------------------------------------- */

/* parse_ifname() + parse_invalid_iface() */
static void parse_ifname(struct iface *ifc, const struct cg_data *d, bool inv)
{
	size_t len = d->len;

	memset(ifc, 0, sizeof(*ifc));
	ifc->set = true;
	ifc->inv = inv;
	if (len == 0)
		return;
	if (len > IFNAMSIZ)
		len = IFNAMSIZ;
	if (d->bytes[len - 1] == '\0') {
		memcpy(ifc->name, d->bytes, len);
		if (!inv && !strcmp(ifc->name, "INVAL/D")) {
			/* nft's spelling of "! -i +" */
			strcpy(ifc->name, "+");
			ifc->inv = true;
		}
		return;
	}
	memcpy(ifc->name, d->bytes, len);
	ifc->name[len] = '+';
}

static void parse_meta_cmp(struct ipt_cs *cs, const struct reg *r, const struct cg_expr *e)
{
	bool neq = e->cmp.op == NFT_CMP_NEQ;
	const struct cg_data *d = &e->cmp.data;
	struct xt_decoded *m;

	if (e->cmp.op != NFT_CMP_EQ && !neq) {
		unsupported(cs, "meta comparison");
		return;
	}
	switch (r->key) {
	case NFT_META_L4PROTO:
		if (d->len < 1)
			break;
		cs->proto = d->bytes[0];
		cs->inv_proto = neq;
		return;
	case NFT_META_IIFNAME:
		parse_ifname(&cs->in, d, neq);
		return;
	case NFT_META_OIFNAME:
		parse_ifname(&cs->out, d, neq);
		return;
	case NFT_META_MARK:
		if (d->len != 4)
			break;
		m = synth_add(cs, XT_MATCH_MARK, "mark");
		if (!m)
			return;
		memcpy(&m->mark.mark, d->bytes, 4);
		if (r->bitwise)
			memcpy(&m->mark.mask, r->mask, 4);
		else
			m->mark.mask = ~0u;
		m->mark.invert = neq;
		m->revision = 1;
		return;
	case NFT_META_PKTTYPE:
		if (d->len != 1)
			break;
		m = synth_add(cs, XT_MATCH_PKTTYPE, "pkttype");
		if (!m)
			return;
		m->pkttype.pkttype = d->bytes[0];
		m->pkttype.invert = neq;
		return;
	default:
		break;
	}
	unsupported(cs, "meta");
}

/* ---- parsing: payload ------------------------------------------------------- */

static void parse_addr(struct ipt_cs *cs, const struct reg *r, const struct cg_expr *e, bool src)
{
	size_t alen = cs->family == NFPROTO_IPV6 ? 16 : 4;
	uint8_t *addr = src ? cs->src : cs->dst, *mask = src ? cs->smsk : cs->dmsk;
	size_t n = e->cmp.data.len < alen ? e->cmp.data.len : alen;

	memset(addr, 0, 16);
	memset(mask, 0, 16);
	if (n)
		memcpy(addr, e->cmp.data.bytes, n);
	if (r->bitwise)
		memcpy(mask, r->mask, alen);
	else
		memset(mask, 0xff, r->len < alen ? r->len : alen);
	if (src) {
		cs->have_src = true;
		cs->inv_src = e->cmp.op == NFT_CMP_NEQ;
	} else {
		cs->have_dst = true;
		cs->inv_dst = e->cmp.op == NFT_CMP_NEQ;
	}
}

static void parse_network(struct ipt_cs *cs, const struct reg *r, const struct cg_expr *e)
{
	bool v6 = cs->family == NFPROTO_IPV6;
	bool neq = e->cmp.op == NFT_CMP_NEQ;

	if (e->cmp.op != NFT_CMP_EQ && !neq)
		goto bad;
	if (r->offset == (v6 ? 8u : 12u)) {
		parse_addr(cs, r, e, true);
		return;
	}
	if (r->offset == (v6 ? 24u : 16u)) {
		parse_addr(cs, r, e, false);
		return;
	}
	if (r->offset == (v6 ? 6u : 9u) && e->cmp.data.len == 1) {
		cs->proto = e->cmp.data.bytes[0];
		cs->inv_proto = neq;
		return;
	}
	if (!v6 && r->offset == 6 && r->bitwise) {
		/* get_frag(): "-f" is "offset != 0", "! -f" is "== 0" */
		cs->frag = true;
		cs->inv_frag = !neq;
		return;
	}
bad:
	unsupported(cs, "payload (network header)");
}

/* port_match_single_to_range() */
static void port_single(struct xt_port_range *pr, uint8_t *invflags, uint32_t op, int port, uint8_t invbit)
{
	if (port < 0)
		return;
	switch (op) {
	case NFT_CMP_NEQ:
		*invflags |= invbit;
		/* fall through */
	case NFT_CMP_EQ:
		pr->lo = pr->hi = (uint16_t)port;
		break;
	case NFT_CMP_LT:
		pr->hi = (uint16_t)(port - 1 > 1 ? port - 1 : 1);
		break;
	case NFT_CMP_LTE:
		pr->hi = (uint16_t)port;
		break;
	case NFT_CMP_GT:
		pr->lo = (uint16_t)(port + 1 < 0xffff ? port + 1 : 0xffff);
		break;
	case NFT_CMP_GTE:
		pr->lo = (uint16_t)port;
		break;
	}
}

static void th_ports(struct ipt_cs *cs, int sport, int dport, uint32_t op)
{
	bool tcp = cs->proto == IPPROTO_TCP;
	struct xt_decoded *m = tcpudp_get(cs, tcp);

	if (!m)
		return;
	port_single(&m->tcpudp.sport, &m->tcpudp.invflags, op, sport,
		    tcp ? XT_TCP_INV_SRCPT : XT_UDP_INV_SRCPT);
	port_single(&m->tcpudp.dport, &m->tcpudp.invflags, op, dport,
		    tcp ? XT_TCP_INV_DSTPT : XT_UDP_INV_DSTPT);
}

static uint16_t be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* nft_parse_icmp() */
static void th_icmp(struct ipt_cs *cs, const struct reg *r, const struct cg_expr *e)
{
	const struct cg_data *d = &e->cmp.data;
	struct xt_decoded *m;
	uint8_t type = 0xff, code = 0, code_max = 0xff;
	size_t len = d->len;
	const uint8_t *p = d->bytes;

	if (len < 1)
		goto bad;
	switch (r->offset) {
	case 0:
		type = p[0];
		if (len == 1)
			break;
		len--;
		p++;
		/* fall through */
	case 1:
		if (len > 1)
			goto bad;
		code = code_max = p[0];
		break;
	default:
		goto bad;
	}
	if (cs->family == NFPROTO_IPV6 && type == 0xff)
		goto bad;
	m = synth_add(cs, cs->family == NFPROTO_IPV6 ? XT_MATCH_ICMP6 : XT_MATCH_ICMP,
		      cs->family == NFPROTO_IPV6 ? "icmp6" : "icmp");
	if (!m)
		return;
	m->icmp.type = type;
	m->icmp.code_min = code;
	m->icmp.code_max = code_max;
	return;
bad:
	unsupported(cs, "payload (icmp header)");
}

/* nft_parse_transport() */
static void parse_transport(struct ipt_cs *cs, const struct reg *r, const struct cg_expr *e)
{
	const struct cg_data *d = &e->cmp.data;

	switch (cs->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		th_icmp(cs, r, e);
		return;
	default:
		unsupported(cs, "payload (transport header)");
		return;
	}
	if (r->offset == 0 && d->len == 2) {
		th_ports(cs, be16_at(d->bytes), -1, e->cmp.op);
		return;
	}
	if (r->offset == 0 && d->len == 4) {
		th_ports(cs, be16_at(d->bytes), be16_at(d->bytes + 2), e->cmp.op);
		return;
	}
	if (r->offset == 2 && d->len == 2) {
		th_ports(cs, -1, be16_at(d->bytes), e->cmp.op);
		return;
	}
	if (r->offset == 13 && d->len == 1 && cs->proto == IPPROTO_TCP) {
		struct xt_decoded *m = tcpudp_get(cs, true);

		if (!m)
			return;
		if (e->cmp.op == NFT_CMP_NEQ)
			m->tcpudp.invflags |= XT_TCP_INV_FLAGS;
		m->tcpudp.flg_cmp = d->bytes[0];
		m->tcpudp.flg_mask = r->bitwise ? r->mask[0] : 0xff;
		return;
	}
	unsupported(cs, "payload (transport header)");
}

/* nft_parse_transport_range() */
static void parse_range(struct ipt_cs *cs, struct reg *regs, const struct cg_expr *e)
{
	const struct reg *r = reg_get(regs, e->range.sreg);
	bool tcp = cs->proto == IPPROTO_TCP;
	struct xt_decoded *m;
	struct xt_port_range pr;
	bool neq = e->range.op == NFT_RANGE_NEQ;

	if (!r || r->kind != REG_PAYLOAD || r->base != NFT_PAYLOAD_TRANSPORT_HEADER ||
	    e->range.from.len != 2 || e->range.to.len != 2 ||
	    (cs->proto != IPPROTO_TCP && cs->proto != IPPROTO_UDP) ||
	    (r->offset != 0 && r->offset != 2)) {
		unsupported(cs, "range");
		return;
	}
	m = tcpudp_get(cs, tcp);
	if (!m)
		return;
	pr.lo = be16_at(e->range.from.bytes);
	pr.hi = be16_at(e->range.to.bytes);
	if (r->offset == 0) {
		m->tcpudp.sport = pr;
		if (neq)
			m->tcpudp.invflags |= tcp ? XT_TCP_INV_SRCPT : XT_UDP_INV_SRCPT;
	} else {
		m->tcpudp.dport = pr;
		if (neq)
			m->tcpudp.invflags |= tcp ? XT_TCP_INV_DSTPT : XT_UDP_INV_DSTPT;
	}
}

static void parse_cmp(struct ipt_cs *cs, struct reg *regs, const struct cg_expr *e)
{
	const struct reg *r = reg_get(regs, e->cmp.sreg);

	if (!r || r->kind == REG_UNDEF) {
		unsupported(cs, "cmp");
		return;
	}
	if (r->kind == REG_META) {
		parse_meta_cmp(cs, r, e);
		return;
	}
	if (r->kind == REG_PAYLOAD && r->base == NFT_PAYLOAD_NETWORK_HEADER) {
		parse_network(cs, r, e);
		return;
	}
	if (r->kind == REG_PAYLOAD && r->base == NFT_PAYLOAD_TRANSPORT_HEADER) {
		if (e->cmp.op != NFT_CMP_EQ && e->cmp.op != NFT_CMP_NEQ && r->offset == 13)
			unsupported(cs, "payload (tcp flags)");
		else
			parse_transport(cs, r, e);
		return;
	}
	unsupported(cs, "cmp");
}

/* ---- parsing: the rest ---------------------------------------------------- */

static void parse_bitwise(struct ipt_cs *cs, struct reg *regs, const struct cg_expr *e)
{
	struct reg *s = reg_get(regs, e->bitwise.sreg), *d = reg_get(regs, e->bitwise.dreg);

	if (!s || !d || e->bitwise.op != NFT_BITWISE_BOOL || e->bitwise.data->mask.len > 16) {
		unsupported(cs, "bitwise");
		return;
	}
	if (d != s)
		*d = *s;
	memset(d->mask, 0, sizeof(d->mask));
	if (e->bitwise.data->mask.len)
		memcpy(d->mask, e->bitwise.data->mask.bytes, e->bitwise.data->mask.len);
	d->bitwise = true;
}

static void parse_immediate(struct ipt_cs *cs, struct reg *regs, const struct cg_expr *e)
{
	struct reg *r;

	if (e->immediate.dreg == NFT_REG_VERDICT) {
		cs->tgt = TGT_VERDICT;
		cs->verdict = &e->immediate.verdict;
		return;
	}
	r = reg_get(regs, e->immediate.dreg);
	if (!r)
		return;
	memset(r, 0, sizeof(*r));
	r->kind = REG_IMMEDIATE;
	r->data_len = e->immediate.data.len < 16 ? e->immediate.data.len : 16;
	if (r->data_len)
		memcpy(r->data, e->immediate.data.bytes, r->data_len);
}

/* nft_meta_set_to_target(): "meta nftrace set 1" is -j TRACE */
static void parse_meta_set(struct ipt_cs *cs, struct reg *regs, const struct cg_expr *e)
{
	const struct reg *r = reg_get(regs, e->meta.reg);

	if (e->meta.key == NFT_META_NFTRACE && r && r->kind == REG_IMMEDIATE && r->data_len &&
	    r->data[0]) {
		cs->tgt = TGT_SYNTH;
		memset(&cs->tgt_synth, 0, sizeof(cs->tgt_synth));
		cs->tgt_synth.kind = XT_TARGET_TRACE;
		cs->tgt_synth.target = true;
		cs->tgt_synth.name = "TRACE";
		return;
	}
	cs->tgt = TGT_UNSUPPORTED;
	cs->tgt_what = "meta set";
}

/* nft_parse_limit(): iptables-nft writes "-m limit" as a packet limit */
static void parse_limit(struct ipt_cs *cs, const struct cg_expr *e)
{
	struct xt_decoded *m;

	if (!e->limit.set || e->limit.type != NFT_LIMIT_PKTS || e->limit.rate == 0 ||
	    (e->limit.flags & NFT_LIMIT_F_INV)) {
		unsupported(cs, "limit");
		return;
	}
	m = synth_add(cs, XT_MATCH_LIMIT, "limit");
	if (!m)
		return;
	m->limit.avg = (uint32_t)(XT_LIMIT_SCALE * e->limit.unit / e->limit.rate);
	m->limit.burst = e->limit.burst;
}

/* nft_parse_log(): any log statement is printed as -j NFLOG */
static void parse_log(struct ipt_cs *cs, const struct cg_expr *e)
{
	struct xt_nflog_dec *n = &cs->tgt_synth.nflog;

	if (!(e->log.present & 1)) {
		cs->tgt = TGT_UNSUPPORTED;
		cs->tgt_what = "log";
		return;
	}
	cs->tgt = TGT_SYNTH;
	memset(&cs->tgt_synth, 0, sizeof(cs->tgt_synth));
	cs->tgt_synth.kind = XT_TARGET_NFLOG;
	cs->tgt_synth.target = true;
	cs->tgt_synth.name = "NFLOG";
	cs->tgt_synth.nfproto = cs->family;
	n->group = e->log.group;
	n->threshold = e->log.qthreshold;
	if (e->log.present & (1u << NFTA_LOG_SNAPLEN)) {
		n->len = e->log.snaplen;
		n->flags = XT_NFLOG_F_COPY_LEN;
	}
	n->prefix = e->log.prefix ? e->log.prefix : "";
}

static void parse_xt(struct ipt_cs *cs, const struct cg_expr *e)
{
	struct item *it;

	if (e->type == CG_EXPR_XT_TARGET) {
		cs->tgt = TGT_XT;
		cs->tgt_expr = e;
		return;
	}
	it = item_add(cs, ITEM_XT);
	if (!it)
		return;
	it->expr = e;
	if (e->xt.name && !strcmp(e->xt.name, "comment"))
		cs->have_comment_match = true;
}

void ipt_cs_parse(struct ipt_cs *cs, const struct cg_rule *rule, const struct cg_expr *ex)
{
	struct reg regs[N_REGS];

	memset(regs, 0, sizeof(regs));
	for (uint32_t i = 0; i < rule->n_exprs; i++) {
		const struct cg_expr *e = &ex[i];
		struct reg *r;

		switch (e->type) {
		case CG_EXPR_META:
			r = reg_get(regs, e->meta.reg);
			if (r) {
				memset(r, 0, sizeof(*r));
				r->kind = REG_META;
				r->key = e->meta.key;
			}
			break;
		case CG_EXPR_PAYLOAD:
			r = reg_get(regs, e->payload.dreg);
			if (r) {
				memset(r, 0, sizeof(*r));
				r->kind = REG_PAYLOAD;
				r->base = e->payload.base;
				r->offset = e->payload.offset;
				r->len = e->payload.len;
			}
			break;
		case CG_EXPR_BITWISE:
			parse_bitwise(cs, regs, e);
			break;
		case CG_EXPR_CMP:
			parse_cmp(cs, regs, e);
			break;
		case CG_EXPR_RANGE:
			parse_range(cs, regs, e);
			break;
		case CG_EXPR_IMMEDIATE:
			parse_immediate(cs, regs, e);
			break;
		case CG_EXPR_META_SET:
			parse_meta_set(cs, regs, e);
			break;
		case CG_EXPR_COUNTER:
			break;
		case CG_EXPR_LIMIT:
			parse_limit(cs, e);
			break;
		case CG_EXPR_LOG:
			parse_log(cs, e);
			break;
		case CG_EXPR_XT_MATCH:
		case CG_EXPR_XT_TARGET:
			parse_xt(cs, e);
			break;
		case CG_EXPR_UNKNOWN:
			unsupported(cs, e->unknown.name ? e->unknown.name : "unknown expression");
			break;
		default:
			unsupported(cs, expr_type_to_string(e->type));
			break;
		}
	}
}
