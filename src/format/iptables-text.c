/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Model rules -> iptables-save text (iptables 1.8.x).
 *
 * Two steps, as iptables-nft-save does it: the expression list is parsed
 * into one "command state" (the ip header part, the matches in order, the
 * target), following nft_rule_to_iptables_command_state(); then the state
 * is printed with each extension's save() format. Legacy rules, compiled
 * into the same expressions by the collector, take the same path. */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_CONNMARK.h>
#include <linux/netfilter/xt_CT.h>
#include <linux/netfilter/xt_LOG.h>
#include <linux/netfilter/xt_NFLOG.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_iprange.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_set.h>
#include <linux/netfilter/xt_state.h>
#include <linux/netfilter/xt_statistic.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <math.h>
#include <netdb.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/xt.h"

#define MAX_ITEMS 64
/* libxt_limit's default burst (the uapi header does not carry it) */
#define XT_LIMIT_BURST 5
#define MAX_SYNTH 8

/* ---- the command state ---------------------------------------------------- */

enum item_kind { ITEM_XT, ITEM_SYNTH, ITEM_UNSUPPORTED };

struct item {
	enum item_kind kind;
	const struct cg_expr *expr;     /* ITEM_XT */
	struct xt_decoded *synth;       /* ITEM_SYNTH: rebuilt from native expressions */
	const char *what;               /* ITEM_UNSUPPORTED */
};

enum target_kind { TGT_NONE, TGT_VERDICT, TGT_XT, TGT_SYNTH, TGT_UNSUPPORTED };

struct iface {
	char name[IFNAMSIZ + 2];        /* as printed: "eth0", "eth+", "+" */
	bool set, inv;
};

struct cs {
	uint8_t family;
	uint8_t src[16], smsk[16], dst[16], dmsk[16];
	bool inv_src, inv_dst, have_src, have_dst;
	struct iface in, out;
	uint16_t proto;
	bool inv_proto, frag, inv_frag;
	unsigned n_items, n_synth;
	bool items_truncated;
	bool have_comment_match;
	/* native tcp/udp translations accumulate into one match, like
	 * nft_tcp_match()/nft_udp_match() */
	struct xt_decoded *tcp, *udp;
	enum target_kind tgt;
	const struct cg_verdict *verdict;
	const struct cg_expr *tgt_expr;
	struct xt_decoded tgt_synth;
	const char *tgt_what;
	struct arena *scratch;          /* decodes the collector did not store */
	/* last: only the fields above are cleared per rule */
	struct item items[MAX_ITEMS];
	struct xt_decoded synth[MAX_SYNTH];
};

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

static struct item *item_add(struct cs *cs, enum item_kind kind)
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

static void unsupported(struct cs *cs, const char *what)
{
	struct item *it = item_add(cs, ITEM_UNSUPPORTED);

	if (it)
		it->what = what;
}

static struct xt_decoded *synth_add(struct cs *cs, enum xt_kind kind, const char *name)
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
static struct xt_decoded *tcpudp_get(struct cs *cs, bool tcp)
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

static void parse_meta_cmp(struct cs *cs, const struct reg *r, const struct cg_expr *e)
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

static void parse_addr(struct cs *cs, const struct reg *r, const struct cg_expr *e, bool src)
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

static void parse_network(struct cs *cs, const struct reg *r, const struct cg_expr *e)
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

static void th_ports(struct cs *cs, int sport, int dport, uint32_t op)
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
static void th_icmp(struct cs *cs, const struct reg *r, const struct cg_expr *e)
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
static void parse_transport(struct cs *cs, const struct reg *r, const struct cg_expr *e)
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
static void parse_range(struct cs *cs, struct reg *regs, const struct cg_expr *e)
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

static void parse_cmp(struct cs *cs, struct reg *regs, const struct cg_expr *e)
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

static void parse_bitwise(struct cs *cs, struct reg *regs, const struct cg_expr *e)
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

static void parse_immediate(struct cs *cs, struct reg *regs, const struct cg_expr *e)
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
static void parse_meta_set(struct cs *cs, struct reg *regs, const struct cg_expr *e)
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
static void parse_limit(struct cs *cs, const struct cg_expr *e)
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
static void parse_log(struct cs *cs, const struct cg_expr *e)
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

static void parse_xt(struct cs *cs, const struct cg_expr *e)
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

/* ex: the rule's expressions (rule_exprs()); cs points into them */
static void cs_parse(struct cs *cs, const struct cg_rule *rule, const struct cg_expr *ex)
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

/* ---- printing: the ip part ------------------------------------------------- */

/* mask_to_str() of xshared.c: "32", a prefix length, or a dotted mask */
static void print_v4_addr(FILE *f, char letter, const uint8_t *addr, const uint8_t *mask, bool inv)
{
	char a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];
	uint32_t hm;
	int i;

	memcpy(&hm, mask, 4);
	hm = ntohl(hm);
	if (!hm && !inv && !(addr[0] | addr[1] | addr[2] | addr[3]))
		return;
	inet_ntop(AF_INET, addr, a, sizeof(a));
	if (hm == 0xffffffffu) {
		snprintf(m, sizeof(m), "32");
	} else {
		uint32_t bits = 0xfffffffeu;

		i = 32;
		while (--i >= 0 && hm != bits)
			bits <<= 1;
		if (i >= 0)
			snprintf(m, sizeof(m), "%d", i);
		else
			inet_ntop(AF_INET, mask, m, sizeof(m));
	}
	fprintf(f, "%s -%c %s/%s", inv ? " !" : "", letter, a, m);
}

/* xtables_ip6mask_to_cidr() */
static int v6_cidr(const uint8_t *m)
{
	int bits = 0, i;

	for (i = 0; i < 16 && m[i] == 0xff; i++)
		bits += 8;
	if (i < 16) {
		uint8_t b = m[i];

		while (b & 0x80) {
			bits++;
			b <<= 1;
		}
		if (b)
			return -1;
		for (i++; i < 16; i++)
			if (m[i])
				return -1;
	}
	return bits;
}

static void print_v6_addr(FILE *f, char letter, const uint8_t *addr, const uint8_t *mask, bool inv)
{
	char a[INET6_ADDRSTRLEN], m[INET6_ADDRSTRLEN];
	int l = v6_cidr(mask);

	if (!inv && l == 0)
		return;
	inet_ntop(AF_INET6, addr, a, sizeof(a));
	fprintf(f, "%s -%c %s", inv ? " !" : "", letter, a);
	if (l == -1)
		fprintf(f, "/%s", inet_ntop(AF_INET6, mask, m, sizeof(m)));
	else
		fprintf(f, "/%d", l);
}

/* proto_to_name(): iptables' own table first, then /etc/protocols */
static const char *proto_name(uint16_t proto)
{
	static const struct { const char *name; uint8_t num; } protos[] = {
		{ "tcp", IPPROTO_TCP }, { "sctp", IPPROTO_SCTP }, { "udp", IPPROTO_UDP },
		{ "udplite", IPPROTO_UDPLITE }, { "icmp", IPPROTO_ICMP }, { "ipv6-icmp", IPPROTO_ICMPV6 },
		{ "esp", IPPROTO_ESP }, { "ah", IPPROTO_AH }, { "mobility-header", IPPROTO_MH },
	};
	const struct protoent *pe;

	for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i].num == proto)
			return protos[i].name;
	pe = getprotobynumber(proto);
	return pe ? pe->p_name : NULL;
}

static void print_ip_part(FILE *f, const struct cs *cs)
{
	if (cs->family == NFPROTO_IPV6) {
		if (cs->have_src)
			print_v6_addr(f, 's', cs->src, cs->smsk, cs->inv_src);
		if (cs->have_dst)
			print_v6_addr(f, 'd', cs->dst, cs->dmsk, cs->inv_dst);
	} else {
		if (cs->have_src)
			print_v4_addr(f, 's', cs->src, cs->smsk, cs->inv_src);
		if (cs->have_dst)
			print_v4_addr(f, 'd', cs->dst, cs->dmsk, cs->inv_dst);
	}
	if (cs->in.set && cs->in.name[0])
		fprintf(f, "%s -i %s", cs->in.inv ? " !" : "", cs->in.name);
	if (cs->out.set && cs->out.name[0])
		fprintf(f, "%s -o %s", cs->out.inv ? " !" : "", cs->out.name);
	if (cs->proto) {
		const char *pn = proto_name(cs->proto);

		if (cs->inv_proto)
			fputs(" !", f);
		if (pn)
			fprintf(f, " -p %s", pn);
		else
			fprintf(f, " -p %u", cs->proto);
	}
	if (cs->frag)
		fprintf(f, "%s -f", cs->inv_frag ? " !" : "");
}

/* ---- printing: extensions (each extension's save()) ------------------------- */

/* xtables_save_string() */
static void print_string(FILE *f, const char *s)
{
	static const char plain[] = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t n = strspn(s, plain);

	if (n > 0 && s[n] == '\0') {
		fprintf(f, " %s", s);
		return;
	}
	fputs(" \"", f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\' || *s == '\'')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* xtables_print_mark_mask() */
static void print_mark_mask(FILE *f, uint32_t mark, uint32_t mask)
{
	if (mask != ~0u)
		fprintf(f, " 0x%x/0x%x", mark, mask);
	else
		fprintf(f, " 0x%x", mark);
}

static void print_ports(FILE *f, const char *opt, struct xt_port_range r, bool inv)
{
	if (r.lo == 0 && r.hi == 0xffff)
		return;
	if (inv)
		fputs(" !", f);
	if (r.lo != r.hi)
		fprintf(f, " %s %u:%u", opt, r.lo, r.hi);
	else
		fprintf(f, " %s %u", opt, r.lo);
}

/* print_tcpf(): names in table order, "NONE" for none */
static void print_tcp_flags(FILE *f, uint8_t flags)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
	bool any = false;

	for (unsigned i = 0; i < 8; i++)
		if (flags & (1u << i)) {
			fprintf(f, "%s%s", any ? "," : "", names[i]);
			any = true;
		}
	if (!any)
		fputs("NONE", f);
}

static void save_tcp(FILE *f, const struct xt_tcpudp_dec *t)
{
	print_ports(f, "--sport", t->sport, t->invflags & XT_TCP_INV_SRCPT);
	print_ports(f, "--dport", t->dport, t->invflags & XT_TCP_INV_DSTPT);
	if (t->option || (t->invflags & XT_TCP_INV_OPTION))
		fprintf(f, "%s --tcp-option %u", t->invflags & XT_TCP_INV_OPTION ? " !" : "", t->option);
	if (t->flg_mask || (t->invflags & XT_TCP_INV_FLAGS)) {
		fprintf(f, "%s --tcp-flags ", t->invflags & XT_TCP_INV_FLAGS ? " !" : "");
		print_tcp_flags(f, t->flg_mask);
		fputc(' ', f);
		print_tcp_flags(f, t->flg_cmp);
	}
}

static void save_udp(FILE *f, const struct xt_tcpudp_dec *u)
{
	print_ports(f, "--sport", u->sport, u->invflags & XT_UDP_INV_SRCPT);
	print_ports(f, "--dport", u->dport, u->invflags & XT_UDP_INV_DSTPT);
}

static void save_icmp(FILE *f, const struct xt_decoded *d)
{
	const struct xt_icmp_dec *i = &d->icmp;

	if (i->invert)
		fputs(" !", f);
	if (d->kind == XT_MATCH_ICMP && i->type == 0xff) {
		fputs(" --icmp-type any", f);
		return;
	}
	fprintf(f, d->kind == XT_MATCH_ICMP ? " --icmp-type %u" : " --icmpv6-type %u", i->type);
	if (i->code_min != 0 || i->code_max != 0xff)
		fprintf(f, "/%u", i->code_min);
}

static void save_multiport(FILE *f, const struct xt_decoded *d)
{
	const struct xt_multiport_dec *m = &d->multiport;
	static const char *const opt[] = { " --sports ", " --dports ", " --ports " };

	if (d->revision >= 1 && m->invert)
		fputs(" !", f);
	if (m->flags <= XT_MULTIPORT_EITHER)
		fputs(opt[m->flags], f);
	for (unsigned i = 0; i < m->count && i < XT_DEC_MULTI_PORTS; i++) {
		fprintf(f, "%s%u", i ? "," : "", m->ports[i]);
		if (d->revision >= 1 && m->pflags[i] && i + 1 < XT_DEC_MULTI_PORTS)
			fprintf(f, ":%u", m->ports[++i]);
	}
}

/* print_state() of libxt_conntrack: leading space, then comma separated */
static void print_ct_states(FILE *f, uint32_t mask, const char *sep)
{
	static const struct { uint32_t bit; const char *name; } st[] = {
		{ XT_CONNTRACK_STATE_INVALID, "INVALID" },
		{ XT_CONNTRACK_STATE_BIT(IP_CT_NEW), "NEW" },
		{ XT_CONNTRACK_STATE_BIT(IP_CT_RELATED), "RELATED" },
		{ XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED), "ESTABLISHED" },
		{ XT_CONNTRACK_STATE_UNTRACKED, "UNTRACKED" },
		{ XT_CONNTRACK_STATE_SNAT, "SNAT" },
		{ XT_CONNTRACK_STATE_DNAT, "DNAT" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(st); i++)
		if (mask & st[i].bit) {
			fprintf(f, "%s%s", sep, st[i].name);
			sep = ",";
		}
}

static void print_ct_status(FILE *f, uint32_t mask)
{
	static const struct { uint32_t bit; const char *name; } st[] = {
		{ IPS_EXPECTED, "EXPECTED" }, { IPS_SEEN_REPLY, "SEEN_REPLY" },
		{ IPS_ASSURED, "ASSURED" }, { IPS_CONFIRMED, "CONFIRMED" },
	};
	const char *sep = " ";

	for (size_t i = 0; i < ARRAY_SIZE(st); i++)
		if (mask & st[i].bit) {
			fprintf(f, "%s%s", sep, st[i].name);
			sep = ",";
		}
	if (mask == 0)
		fprintf(f, "%sNONE", sep);
}

/* xtables_ipmask_to_numeric() / xtables_ip6mask_to_numeric(): no "/32" */
static void print_addr_mask(FILE *f, const struct cg_addr *a, const struct cg_addr *m)
{
	char buf[INET6_ADDRSTRLEN], mb[INET6_ADDRSTRLEN];

	if (a->family == AF_INET6) {
		int l = v6_cidr(m->bytes);

		fprintf(f, " %s", inet_ntop(AF_INET6, a->bytes, buf, sizeof(buf)));
		if (l == -1)
			fprintf(f, "/%s", inet_ntop(AF_INET6, m->bytes, mb, sizeof(mb)));
		else if (l != 128)
			fprintf(f, "/%d", l);
		return;
	}
	fprintf(f, " %s", inet_ntop(AF_INET, a->bytes, buf, sizeof(buf)));
	uint32_t hm;
	int cidr = -1;

	memcpy(&hm, m->bytes, 4);
	hm = ntohl(hm);
	for (int i = 32; i >= 0; i--)
		if ((i == 0 ? 0u : 0xffffffffu << (32 - i)) == hm) {
			cidr = i;
			break;
		}
	if (cidr == -1)
		fprintf(f, "/%s", inet_ntop(AF_INET, m->bytes, mb, sizeof(mb)));
	else if (cidr != 32)
		fprintf(f, "/%d", cidr);
}

static void ct_ports(FILE *f, const struct xt_conntrack_dec *c, uint16_t flag, const char *opt,
		     struct xt_port_range r, bool v3)
{
	uint16_t lo = r.lo, hi = v3 ? r.hi : 0;

	if (!(c->match_flags & flag))
		return;
	if (c->invert_flags & flag)
		fputs(" !", f);
	if (hi == 0 || lo == hi)
		fprintf(f, " --%s %u", opt, lo);
	else
		fprintf(f, " --%s %u:%u", opt, lo, hi);
}

static void ct_addr(FILE *f, const struct xt_conntrack_dec *c, uint16_t flag, const char *opt,
		    const struct cg_addr *a, const struct cg_addr *m)
{
	if (!(c->match_flags & flag))
		return;
	if (c->invert_flags & flag)
		fputs(" !", f);
	fprintf(f, " --%s", opt);
	print_addr_mask(f, a, m);
}

/* conntrack_dump() with prefix "--" */
static void save_conntrack(FILE *f, const struct xt_decoded *d)
{
	const struct xt_conntrack_dec *c = &d->conntrack;
	bool v3 = d->revision >= 3;

	if (c->match_flags & XT_CONNTRACK_STATE) {
		if (c->invert_flags & XT_CONNTRACK_STATE)
			fputs(" !", f);
		fprintf(f, " --%s", c->match_flags & XT_CONNTRACK_STATE_ALIAS ? "state" : "ctstate");
		print_ct_states(f, c->state_mask, " ");
	}
	if (c->match_flags & XT_CONNTRACK_PROTO)
		fprintf(f, "%s --ctproto %u", c->invert_flags & XT_CONNTRACK_PROTO ? " !" : "", c->l4proto);
	ct_addr(f, c, XT_CONNTRACK_ORIGSRC, "ctorigsrc", &c->origsrc, &c->origsrc_mask);
	ct_addr(f, c, XT_CONNTRACK_ORIGDST, "ctorigdst", &c->origdst, &c->origdst_mask);
	ct_addr(f, c, XT_CONNTRACK_REPLSRC, "ctreplsrc", &c->replsrc, &c->replsrc_mask);
	ct_addr(f, c, XT_CONNTRACK_REPLDST, "ctrepldst", &c->repldst, &c->repldst_mask);
	ct_ports(f, c, XT_CONNTRACK_ORIGSRC_PORT, "ctorigsrcport", c->origsrc_port, v3);
	ct_ports(f, c, XT_CONNTRACK_ORIGDST_PORT, "ctorigdstport", c->origdst_port, v3);
	ct_ports(f, c, XT_CONNTRACK_REPLSRC_PORT, "ctreplsrcport", c->replsrc_port, v3);
	ct_ports(f, c, XT_CONNTRACK_REPLDST_PORT, "ctrepldstport", c->repldst_port, v3);
	if (c->match_flags & XT_CONNTRACK_STATUS) {
		if (c->invert_flags & XT_CONNTRACK_STATUS)
			fputs(" !", f);
		fputs(" --ctstatus", f);
		print_ct_status(f, c->status_mask);
	}
	if (c->match_flags & XT_CONNTRACK_EXPIRES) {
		if (c->invert_flags & XT_CONNTRACK_EXPIRES)
			fputs(" !", f);
		fputs(" --ctexpire ", f);
		if (c->expires_max == c->expires_min)
			fprintf(f, "%u", c->expires_min);
		else
			fprintf(f, "%u:%u", c->expires_min, c->expires_max);
	}
	if (c->match_flags & XT_CONNTRACK_DIRECTION)
		fprintf(f, " --ctdir %s", c->invert_flags & XT_CONNTRACK_DIRECTION ? "REPLY" : "ORIGINAL");
}

/* state_save(): the old match prints no separator before the first state */
/* state_save(): no separator before the first state. It names UNTRACKED
 * by the conntrack match's bit (8), not xt_state's (6): iptables does. */
static void save_state(FILE *f, const struct xt_state_dec *s)
{
	fputs(" --state ", f);
	print_ct_states(f, s->statemask & ~(uint32_t)(XT_CONNTRACK_STATE_SNAT | XT_CONNTRACK_STATE_DNAT), "");
}

static void print_rtn_types(FILE *f, uint16_t mask)
{
	static const char *const names[] = {
		"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
		"BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE",
	};
	const char *sep = "";

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (mask & (1u << i)) {
			fprintf(f, "%s%s", sep, names[i]);
			sep = ",";
		}
}

static void save_addrtype(FILE *f, const struct xt_decoded *d)
{
	const struct xt_addrtype_dec *a = &d->addrtype;

	if (a->source) {
		fprintf(f, "%s --src-type ", a->invert_source ? " !" : "");
		print_rtn_types(f, a->source);
	}
	if (a->dest) {
		fprintf(f, "%s --dst-type ", a->invert_dest ? " !" : "");
		print_rtn_types(f, a->dest);
	}
	if (d->revision >= 1) {
		if (a->limit_iface_in)
			fputs(" --limit-iface-in", f);
		if (a->limit_iface_out)
			fputs(" --limit-iface-out", f);
	}
}

static void save_iprange(FILE *f, const struct xt_iprange_dec *r)
{
	char lo[INET6_ADDRSTRLEN], hi[INET6_ADDRSTRLEN];
	int fam = r->src_min.family == AF_INET6 ? AF_INET6 : AF_INET;

	if (r->flags & IPRANGE_SRC)
		fprintf(f, "%s --src-range %s-%s", r->flags & IPRANGE_SRC_INV ? " !" : "",
			inet_ntop(fam, r->src_min.bytes, lo, sizeof(lo)),
			inet_ntop(fam, r->src_max.bytes, hi, sizeof(hi)));
	if (r->flags & IPRANGE_DST)
		fprintf(f, "%s --dst-range %s-%s", r->flags & IPRANGE_DST_INV ? " !" : "",
			inet_ntop(fam, r->dst_min.bytes, lo, sizeof(lo)),
			inet_ntop(fam, r->dst_max.bytes, hi, sizeof(hi)));
}

static void save_pkttype(FILE *f, const struct xt_pkttype_dec *p)
{
	static const struct { const char *name; int type; } types[] = {
		{ "unicast", PACKET_HOST }, { "broadcast", PACKET_BROADCAST },
		{ "multicast", PACKET_MULTICAST }, { "otherhost", PACKET_OTHERHOST },
	};

	fprintf(f, "%s --pkt-type ", p->invert ? " !" : "");
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i].type == p->pkttype) {
			fputs(types[i].name, f);
			return;
		}
	fprintf(f, "%d", p->pkttype);
}

static void set_counter(FILE *f, uint8_t op, uint64_t value, const char *name)
{
	switch (op) {
	case IPSET_COUNTER_EQ: fprintf(f, " --%s-eq %llu", name, (unsigned long long)value); break;
	case IPSET_COUNTER_NE: fprintf(f, " ! --%s-eq %llu", name, (unsigned long long)value); break;
	case IPSET_COUNTER_LT: fprintf(f, " --%s-lt %llu", name, (unsigned long long)value); break;
	case IPSET_COUNTER_GT: fprintf(f, " --%s-gt %llu", name, (unsigned long long)value); break;
	}
}

/* The blob carries the set's kernel index, not its name, which iptables-save
 * asks ipset for; the index is printed in a marked comment instead. */
static void save_set(FILE *f, const struct xt_decoded *d)
{
	const struct xt_set_dec *s = &d->set;

	fprintf(f, "%s --match-set /* ipset index %u */", s->flags & IPSET_INV_MATCH ? " !" : "", s->index);
	for (unsigned i = 1; i <= s->dim; i++)
		fprintf(f, "%s%s", i == 1 ? " " : ",", s->flags & (1u << i) ? "src" : "dst");
	if (d->revision == 2 && (s->flags & IPSET_RETURN_NOMATCH))
		fputs(" --return-nomatch", f);
	if (d->revision >= 3) {
		if (s->v3_flags & IPSET_FLAG_RETURN_NOMATCH)
			fputs(" --return-nomatch", f);
		if (s->v3_flags & IPSET_FLAG_SKIP_COUNTER_UPDATE)
			fputs(" ! --update-counters", f);
		if (s->v3_flags & IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE)
			fputs(" ! --update-subcounters", f);
		set_counter(f, s->packets.op, s->packets.value, "packets");
		set_counter(f, s->bytes.op, s->bytes.value, "bytes");
	}
}

static void save_statistic(FILE *f, const struct xt_statistic_dec *s)
{
	const char *inv = s->flags & XT_STATISTIC_INVERT ? " !" : "";

	if (s->mode == XT_STATISTIC_MODE_RANDOM)
		fprintf(f, " --mode random%s --probability %.11f", inv, 1.0 * s->probability / 0x80000000);
	else
		fprintf(f, " --mode nth%s --every %u --packet %u", inv, s->every + 1, s->packet);
}

/* print_rate() of libxt_limit: the largest unit with an exact-ish count */
static void save_limit(FILE *f, const struct xt_limit_dec *l)
{
	static const struct { const char *name; uint32_t mult; } rates[] = {
		{ "day", XT_LIMIT_SCALE * 24 * 60 * 60 }, { "hour", XT_LIMIT_SCALE * 60 * 60 },
		{ "min", XT_LIMIT_SCALE * 60 }, { "sec", XT_LIMIT_SCALE },
	};
	unsigned i;

	fputs(" --limit", f);
	if (l->avg == 0) {
		fprintf(f, " %f", INFINITY);
	} else {
		for (i = 1; i < ARRAY_SIZE(rates); i++)
			if (l->avg > rates[i].mult || rates[i].mult / l->avg < rates[i].mult % l->avg)
				break;
		fprintf(f, " %u/%s", rates[i - 1].mult / l->avg, rates[i - 1].name);
	}
	if (l->burst != XT_LIMIT_BURST)
		fprintf(f, " --limit-burst %u", l->burst);
}

static const char *match_print_name(const struct xt_decoded *d)
{
	/* conntrack_print_name_alias(): "-m state" is conntrack with a flag */
	if (d->kind == XT_MATCH_CONNTRACK && (d->conntrack.match_flags & XT_CONNTRACK_STATE_ALIAS))
		return "state";
	return d->name;
}

static void save_match(FILE *f, const struct xt_decoded *d)
{
	switch (d->kind) {
	case XT_MATCH_TCP: save_tcp(f, &d->tcpudp); break;
	case XT_MATCH_UDP: save_udp(f, &d->tcpudp); break;
	case XT_MATCH_ICMP:
	case XT_MATCH_ICMP6: save_icmp(f, d); break;
	case XT_MATCH_MULTIPORT: save_multiport(f, d); break;
	case XT_MATCH_CONNTRACK: save_conntrack(f, d); break;
	case XT_MATCH_STATE: save_state(f, &d->state); break;
	case XT_MATCH_MARK:
	case XT_MATCH_CONNMARK:
		fprintf(f, "%s --mark", d->mark.invert ? " !" : "");
		print_mark_mask(f, d->mark.mark, d->mark.mask);
		break;
	case XT_MATCH_COMMENT:
		fputs(" --comment", f);
		print_string(f, d->comment);
		break;
	case XT_MATCH_ADDRTYPE: save_addrtype(f, d); break;
	case XT_MATCH_IPRANGE: save_iprange(f, &d->iprange); break;
	case XT_MATCH_PKTTYPE: save_pkttype(f, &d->pkttype); break;
	case XT_MATCH_SET: save_set(f, d); break;
	case XT_MATCH_STATISTIC: save_statistic(f, &d->statistic); break;
	case XT_MATCH_LIMIT: save_limit(f, &d->limit); break;
	default:
		fputs(" /* unsupported */", f);
		break;
	}
}

/* ---- printing: targets ---------------------------------------------------- */

static void save_reject(FILE *f, const struct xt_decoded *d)
{
	static const char *const v4[] = {
		[IPT_ICMP_NET_UNREACHABLE] = "icmp-net-unreachable",
		[IPT_ICMP_HOST_UNREACHABLE] = "icmp-host-unreachable",
		[IPT_ICMP_PROT_UNREACHABLE] = "icmp-proto-unreachable",
		[IPT_ICMP_PORT_UNREACHABLE] = "icmp-port-unreachable",
		[IPT_ICMP_NET_PROHIBITED] = "icmp-net-prohibited",
		[IPT_ICMP_HOST_PROHIBITED] = "icmp-host-prohibited",
		[IPT_TCP_RESET] = "tcp-reset",
		[IPT_ICMP_ADMIN_PROHIBITED] = "icmp-admin-prohibited",
	};
	static const char *const v6[] = {
		[IP6T_ICMP6_NO_ROUTE] = "icmp6-no-route",
		[IP6T_ICMP6_ADM_PROHIBITED] = "icmp6-adm-prohibited",
		[IP6T_ICMP6_ADDR_UNREACH] = "icmp6-addr-unreachable",
		[IP6T_ICMP6_PORT_UNREACH] = "icmp6-port-unreachable",
		[IP6T_TCP_RESET] = "tcp-reset",
		[IP6T_ICMP6_POLICY_FAIL] = "icmp6-policy-fail",
		[IP6T_ICMP6_REJECT_ROUTE] = "icmp6-reject-route",
	};
	const char *name = NULL;

	if (d->nfproto == NFPROTO_IPV6 && d->reject.with < ARRAY_SIZE(v6))
		name = v6[d->reject.with];
	else if (d->nfproto != NFPROTO_IPV6 && d->reject.with < ARRAY_SIZE(v4))
		name = v4[d->reject.with];
	if (name)
		fprintf(f, " --reject-with %s", name);
	else
		fprintf(f, " --reject-with /* unsupported: type %u */", d->reject.with);
}

static void save_connmark_tg(FILE *f, const struct xt_decoded *d)
{
	const struct xt_connmark_tg_dec *c = &d->connmark_tg;

	switch (c->mode) {
	case XT_CONNMARK_SET:
		fprintf(f, " --set-xmark 0x%x/0x%x", c->ctmark, c->ctmask);
		break;
	case XT_CONNMARK_SAVE:
		fprintf(f, " --save-mark --nfmask 0x%x --ctmask 0x%x", c->nfmask, c->ctmask);
		break;
	case XT_CONNMARK_RESTORE:
		fprintf(f, " --restore-mark --nfmask 0x%x --ctmask 0x%x", c->nfmask, c->ctmask);
		break;
	}
	if (d->revision >= 2 && c->shift_bits)
		fprintf(f, " --%s %u", c->shift_dir == D_SHIFT_RIGHT ? "right-shift-mark" : "left-shift-mark",
			c->shift_bits);
}

/* sprint_range() + __NAT_print() of libxt_NAT */
static void save_nat(FILE *f, const struct xt_decoded *d)
{
	const struct xt_nat_dec *n = &d->nat;
	bool v6 = d->nfproto == NFPROTO_IPV6;
	bool ports_only = d->kind == XT_TARGET_MASQUERADE || d->kind == XT_TARGET_REDIRECT;
	bool brackets = v6 && (n->flags & NF_NAT_RANGE_PROTO_SPECIFIED);
	char buf[2 * INET6_ADDRSTRLEN + 32], a[INET6_ADDRSTRLEN];
	size_t len = 0;
	const char *p;

	buf[0] = '\0';
	if (n->flags & NF_NAT_RANGE_MAP_IPS) {
		int fam = v6 ? AF_INET6 : AF_INET;

		len += snprintf(buf + len, sizeof(buf) - len, "%s%s", brackets ? "[" : "",
				inet_ntop(fam, n->min_addr.bytes, a, sizeof(a)));
		if (memcmp(n->min_addr.bytes, n->max_addr.bytes, 16))
			len += snprintf(buf + len, sizeof(buf) - len, "-%s",
					inet_ntop(fam, n->max_addr.bytes, a, sizeof(a)));
		if (brackets)
			len += snprintf(buf + len, sizeof(buf) - len, "]");
	}
	if (n->flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
		len += snprintf(buf + len, sizeof(buf) - len, ":%hu", n->min_port);
		if (n->max_port != n->min_port)
			len += snprintf(buf + len, sizeof(buf) - len, "-%hu", n->max_port);
		if (n->flags & NF_NAT_RANGE_PROTO_OFFSET)
			snprintf(buf + len, sizeof(buf) - len, "/%hu", n->base_port);
	}
	p = buf;
	if (*p) {
		if (*p == ':' && ports_only)
			p++;
		fprintf(f, " %s%s", ports_only ? "--to-ports "
				     : d->kind == XT_TARGET_DNAT ? "--to-destination " : "--to-source ", p);
	}
	if (n->flags & NF_NAT_RANGE_PROTO_RANDOM)
		fputs(" --random", f);
	if (n->flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY)
		fputs(" --random-fully", f);
	if (n->flags & NF_NAT_RANGE_PERSISTENT)
		fputs(" --persistent", f);
}

static void save_log(FILE *f, const struct xt_log_dec *l)
{
	if (l->prefix[0]) {
		fputs(" --log-prefix", f);
		print_string(f, l->prefix);
	}
	if (l->level != 4)      /* LOG_WARNING, the default */
		fprintf(f, " --log-level %d", l->level);
	if (l->logflags & XT_LOG_TCPSEQ)
		fputs(" --log-tcp-sequence", f);
	if (l->logflags & XT_LOG_TCPOPT)
		fputs(" --log-tcp-options", f);
	if (l->logflags & XT_LOG_IPOPT)
		fputs(" --log-ip-options", f);
	if (l->logflags & XT_LOG_UID)
		fputs(" --log-uid", f);
	if (l->logflags & XT_LOG_MACDECODE)
		fputs(" --log-macdecode", f);
}

static void save_nflog(FILE *f, const struct xt_nflog_dec *n)
{
	if (n->prefix[0]) {
		fputs(" --nflog-prefix", f);
		print_string(f, n->prefix);
	}
	if (n->group)
		fprintf(f, " --nflog-group %u", n->group);
	if (n->flags & XT_NFLOG_F_COPY_LEN)
		fprintf(f, " --nflog-size %u", n->len);
	else if (n->len)
		fprintf(f, " --nflog-range %u", n->len);
	if (n->threshold != XT_NFLOG_DEFAULT_THRESHOLD)
		fprintf(f, " --nflog-threshold %u", n->threshold);
}

static void ct_events(FILE *f, const char *opt, uint32_t mask, bool exp)
{
	static const char *const ct[] = {
		"new", "related", "destroy", "reply", "assured", "protoinfo",
		"helper", "mark", "natseqinfo", "secmark",
	};
	const char *sep = "";

	fprintf(f, " %s ", opt);
	for (unsigned i = 0; i < (exp ? 1u : ARRAY_SIZE(ct)); i++)
		if (mask & (1u << i)) {
			fprintf(f, "%s%s", sep, ct[i]);
			sep = ",";
		}
}

static void save_ct(FILE *f, const struct xt_decoded *d)
{
	const struct xt_ct_dec *c = &d->ct;

	if (c->flags & XT_CT_NOTRACK_ALIAS)
		return;
	if (c->flags & XT_CT_NOTRACK)
		fputs(" --notrack", f);
	if (c->helper[0])
		fprintf(f, " --helper %s", c->helper);
	if (c->timeout[0])
		fprintf(f, " --timeout %s", c->timeout);
	if (c->ct_events)
		ct_events(f, "--ctevents", c->ct_events, false);
	if (c->exp_events)
		ct_events(f, "--expevents", c->exp_events, true);
	if ((c->flags & XT_CT_ZONE_MARK) || c->zone) {
		uint16_t dir = c->flags & (XT_CT_ZONE_DIR_ORIG | XT_CT_ZONE_DIR_REPL);

		fputs(" --zone", f);
		if (dir == XT_CT_ZONE_DIR_ORIG)
			fputs("-orig", f);
		if (dir == XT_CT_ZONE_DIR_REPL)
			fputs("-reply", f);
		if (c->flags & XT_CT_ZONE_MARK)
			fputs(" mark", f);
		else
			fprintf(f, " %u", c->zone);
	}
}

static const char *target_print_name(const struct xt_decoded *d)
{
	/* ct_print_name_alias() (CT revision 2 only) */
	if (d->kind == XT_TARGET_CT && d->revision == 2 && (d->ct.flags & XT_CT_NOTRACK_ALIAS))
		return "NOTRACK";
	return d->name;
}

static void save_target(FILE *f, const struct xt_decoded *d)
{
	switch (d->kind) {
	case XT_TARGET_REJECT: save_reject(f, d); break;
	case XT_TARGET_MARK: fprintf(f, " --set-xmark 0x%x/0x%x", d->mark_tg.mark, d->mark_tg.mask); break;
	case XT_TARGET_CONNMARK: save_connmark_tg(f, d); break;
	case XT_TARGET_DNAT:
	case XT_TARGET_SNAT:
	case XT_TARGET_MASQUERADE:
	case XT_TARGET_REDIRECT: save_nat(f, d); break;
	case XT_TARGET_LOG: save_log(f, &d->log); break;
	case XT_TARGET_NFLOG: save_nflog(f, &d->nflog); break;
	case XT_TARGET_TRACE: break;
	case XT_TARGET_CT: save_ct(f, d); break;
	default: fputs(" /* unsupported */", f); break;
	}
}

static void print_verdict(FILE *f, const struct cg_verdict *v)
{
	switch (v->code) {
	case CG_VERDICT_ACCEPT: fputs(" -j ACCEPT", f); break;
	case CG_VERDICT_DROP: fputs(" -j DROP", f); break;
	case CG_VERDICT_RETURN: fputs(" -j RETURN", f); break;
	case CG_VERDICT_QUEUE: fputs(" -j QUEUE", f); break;
	case CG_VERDICT_JUMP: fprintf(f, " -j %s", v->chain_name ? v->chain_name : "?"); break;
	case CG_VERDICT_GOTO: fprintf(f, " -g %s", v->chain_name ? v->chain_name : "?"); break;
	case CG_VERDICT_NONE:
	case CG_VERDICT_CONTINUE: break;
	default: fprintf(f, " -j %s /* unsupported */", verdict_to_string(v->code)); break;
	}
}

/* The collectors decode every blob the decoder knows; a hand-built rule may
 * carry only the blob: the text must not depend on which. */
static const struct xt_decoded *xt_of(const struct cs *cs, const struct cg_expr *e)
{
	if (e->xt.decoded)
		return e->xt.decoded;
	if (!e->xt.name || (e->xt.info_len && !e->xt.info))
		return NULL;
	return xt_decode(cs->scratch, e->type == CG_EXPR_XT_TARGET, e->xt.name, e->xt.revision,
			 cs->family, e->xt.info, e->xt.info_len);
}

static void print_target(FILE *f, const struct cs *cs)
{
	const struct cg_expr *e = cs->tgt_expr;
	const struct xt_decoded *d;

	switch (cs->tgt) {
	case TGT_NONE:
		break;
	case TGT_VERDICT:
		print_verdict(f, cs->verdict);
		break;
	case TGT_XT:
		d = xt_of(cs, e);
		if (!d) {
			fprintf(f, " -j %s /* unsupported */", e->xt.name ? e->xt.name : "?");
			break;
		}
		fprintf(f, " -j %s", target_print_name(d));
		save_target(f, d);
		break;
	case TGT_SYNTH:
		fprintf(f, " -j %s", target_print_name(&cs->tgt_synth));
		save_target(f, &cs->tgt_synth);
		break;
	case TGT_UNSUPPORTED:
		fprintf(f, " -j %s /* unsupported */", cs->tgt_what);
		break;
	}
}

static void print_items(FILE *f, const struct cs *cs)
{
	for (unsigned i = 0; i < cs->n_items; i++) {
		const struct item *it = &cs->items[i];
		const struct xt_decoded *d = NULL;

		switch (it->kind) {
		case ITEM_XT:
			d = xt_of(cs, it->expr);
			if (!d) {
				fprintf(f, " -m %s /* unsupported */", it->expr->xt.name ? it->expr->xt.name : "?");
				continue;
			}
			break;
		case ITEM_SYNTH:
			d = it->synth;
			break;
		case ITEM_UNSUPPORTED:
			fprintf(f, " /* unsupported: %s */", it->what);
			continue;
		}
		fprintf(f, " -m %s", match_print_name(d));
		save_match(f, d);
	}
	if (cs->items_truncated)
		fputs(" /* unsupported: more matches than shown */", f);
}

void ipt_print_rule(FILE *f, const struct cg_rule *rule)
{
	struct cs state, *cs = &state;
	const struct cg_chain *c = rule->chain;
	struct arena scratch = { 0 };
	struct cg_expr_buf eb;

	memset(cs, 0, offsetof(struct cs, items));
	cs->scratch = &scratch;
	cs->family = c && c->table ? c->table->family : NFPROTO_IPV4;
	cs_parse(cs, rule, rule_exprs(rule, &eb));
	fprintf(f, "-A %s", c && c->name ? c->name : "?");
	print_ip_part(f, cs);
	print_items(f, cs);
	/* an nft rule comment (udata) shows up as a last comment match */
	if (rule->comment && !cs->have_comment_match) {
		fputs(" -m comment --comment", f);
		print_string(f, rule->comment);
	}
	print_target(f, cs);
	arena_free(&scratch);
	expr_buf_free(&eb);
}

char *ipt_rule_to_string(const struct cg_rule *rule)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return xstrdup("?");
	ipt_print_rule(f, rule);
	if (fclose(f) != 0 || !buf)
		return xstrdup("?");
	return buf;
}

void ipt_print_chain_decl(FILE *f, const struct cg_chain *chain)
{
	if (chain->base)
		fprintf(f, ":%s %s", chain->name, chain->policy == CG_VERDICT_DROP ? "DROP" : "ACCEPT");
	else
		fprintf(f, ":%s -", chain->name);
}

void ipt_print_chain_policy(FILE *f, const struct cg_chain *chain)
{
	if (chain->base)
		fprintf(f, "-P %s %s", chain->name, chain->policy == CG_VERDICT_DROP ? "DROP" : "ACCEPT");
	else
		fprintf(f, "-N %s", chain->name);
}

void ipt_print_table(FILE *f, const struct cg_table *table)
{
	fprintf(f, "*%s\n", table->name);
	for (uint32_t i = 0; i < table->n_chains; i++) {
		ipt_print_chain_decl(f, &table->chains[i]);
		fputc('\n', f);
	}
	for (uint32_t i = 0; i < table->n_chains; i++)
		for (uint32_t r = 0; r < table->chains[i].n_rules; r++) {
			ipt_print_rule(f, &table->chains[i].rules[r]);
			fputc('\n', f);
		}
	fputs("COMMIT\n", f);
}
