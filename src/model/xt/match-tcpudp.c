/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m tcp, -m udp (and udplite): struct xt_tcp / xt_udp of xt_tcpudp.c,
 * printed as libxt_tcp / libxt_udp save them. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_tcpudp.h>

/* ---- decoding ------------------------------------------------------------ */

static bool tcp_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_tcp t;

	XT_LOAD(t, info, size);
	d->tcpudp.sport = xt_port_range(t.spts[0], t.spts[1]);
	d->tcpudp.dport = xt_port_range(t.dpts[0], t.dpts[1]);
	d->tcpudp.option = t.option;
	d->tcpudp.flg_mask = t.flg_mask;
	d->tcpudp.flg_cmp = t.flg_cmp;
	d->tcpudp.invflags = t.invflags;
	return true;
}

static bool udp_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_udp u;

	XT_LOAD(u, info, size);
	d->tcpudp.sport = xt_port_range(u.spts[0], u.spts[1]);
	d->tcpudp.dport = xt_port_range(u.dpts[0], u.dpts[1]);
	d->tcpudp.invflags = u.invflags;
	return true;
}

/* ---- evaluating ---------------------------------------------------------- */

/* The rule's "-p tcp" (mandatory with -m tcp, xt_check_proto()) already
 * failed for other protocols; a compat expression is guarded the same way. */
static enum tri tcp_match(const struct xt_tcpudp_dec *t, const struct cg_packet *pkt)
{
	if (pkt->l4proto != IPPROTO_TCP)
		return TRI_FALSE;
	if (xt_port_in(t->sport, pkt->sport) == !!(t->invflags & XT_TCP_INV_SRCPT))
		return TRI_FALSE;
	if (xt_port_in(t->dport, pkt->dport) == !!(t->invflags & XT_TCP_INV_DSTPT))
		return TRI_FALSE;
	/* tcp_mt() checks the flags even with an empty mask (0 == 0); of the
	 * flags a flow determines some (ECN's, PSH), a known one that differs
	 * decides */
	uint8_t unknown = t->flg_mask & pkt->tcp_flags_unknown;
	enum tri flags = ((pkt->tcp_flags ^ t->flg_cmp) & t->flg_mask & ~unknown) ? TRI_FALSE :
			 unknown ? TRI_UNKNOWN : TRI_TRUE;
	flags = xt_crit(flags, t->invflags & XT_TCP_INV_FLAGS);
	if (flags == TRI_FALSE)
		return TRI_FALSE;
	/* The simulated segment has no option list (a real SYN carries MSS,
	 * SACK, timestamps...), so an option match cannot be answered. */
	if (t->option)
		return TRI_UNKNOWN;
	return flags;
}

static enum tri udp_match(const struct xt_decoded *m, const struct cg_packet *pkt)
{
	const struct xt_tcpudp_dec *u = &m->tcpudp;
	uint8_t want = strcmp(m->name, "udplite") == 0 ? IPPROTO_UDPLITE : IPPROTO_UDP;

	if (pkt->l4proto != want)
		return TRI_FALSE;
	if (xt_port_in(u->sport, pkt->sport) == !!(u->invflags & XT_UDP_INV_SRCPT))
		return TRI_FALSE;
	if (xt_port_in(u->dport, pkt->dport) == !!(u->invflags & XT_UDP_INV_DSTPT))
		return TRI_FALSE;
	return TRI_TRUE;
}

static enum tri tcpudp_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			     const struct cg_addr_env *env)
{
	return m->kind == XT_MATCH_TCP ? tcp_match(&m->tcpudp, pkt) : udp_match(m, pkt);
}

/* ---- printing ------------------------------------------------------------ */

static void print_ports(FILE *f, const char *opt, struct xt_port_range r, bool inv)
{
	if (r.lo == 0 && r.hi == 0xffff)
		return;
	xt_print_inv(f, inv);
	if (r.lo != r.hi)
		fprintf(f, " %s %u:%u", opt, r.lo, r.hi);
	else
		fprintf(f, " %s %u", opt, r.lo);
}

/* print_tcpf(): names in table order, "NONE" for none */
static void print_tcp_flags(FILE *f, uint8_t flags)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };

	xt_print_bit_names(f, flags, names, ARRAY_SIZE(names), "");
	if (!flags)
		fputs("NONE", f);
}

static void tcpudp_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_tcpudp_dec *t = &d->tcpudp;

	/* XT_TCP_INV_SRCPT/DSTPT are XT_UDP_INV_SRCPT/DSTPT */
	print_ports(f, "--sport", t->sport, t->invflags & XT_TCP_INV_SRCPT);
	print_ports(f, "--dport", t->dport, t->invflags & XT_TCP_INV_DSTPT);
	if (d->kind != XT_MATCH_TCP)
		return;
	if (t->option || (t->invflags & XT_TCP_INV_OPTION)) {
		xt_print_inv(f, t->invflags & XT_TCP_INV_OPTION);
		fprintf(f, " --tcp-option %u", t->option);
	}
	if (t->flg_mask || (t->invflags & XT_TCP_INV_FLAGS)) {
		xt_print_inv(f, t->invflags & XT_TCP_INV_FLAGS);
		fputs(" --tcp-flags ", f);
		print_tcp_flags(f, t->flg_mask);
		fputc(' ', f);
		print_tcp_flags(f, t->flg_cmp);
	}
}

_Static_assert(XT_TCP_INV_SRCPT == XT_UDP_INV_SRCPT && XT_TCP_INV_DSTPT == XT_UDP_INV_DSTPT,
	       "tcp and udp share their port inversion bits");

static void tcpudp_ident(struct canon *c, const struct xt_decoded *d)
{
	xt_ident_ports(c, &d->tcpudp.sport);
	xt_ident_ports(c, &d->tcpudp.dport);
	canon_u8(c, d->tcpudp.invflags);
	canon_u8(c, d->tcpudp.option);
	canon_u8(c, d->tcpudp.flg_mask);
	canon_u8(c, d->tcpudp.flg_cmp);
}

static const struct xt_ext_form forms[] = {
	{ "tcp",     XT_MATCH_TCP, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_tcp), tcp_decode },
	{ "udp",     XT_MATCH_UDP, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_udp), udp_decode },
	{ "udplite", XT_MATCH_UDP, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_udp), udp_decode },
};

const struct xt_ext xt_match_tcpudp = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(tcpudp),
	.match = tcpudp_match,
	.print = tcpudp_print,
	.ident = tcpudp_ident,
};
