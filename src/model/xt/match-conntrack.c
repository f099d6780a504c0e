/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m conntrack (and -m state, which iptables writes as conntrack with the
 * alias flag): struct xt_conntrack_mtinfo1..3 of xt_conntrack.c, printed as
 * libxt_conntrack's conntrack_dump() does. */
#include "config.h"

#include "xt-internal.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/xt_conntrack.h>

/* ---- decoding ------------------------------------------------------------ */

/* Revisions 1 and 2 are revision 3 without the ports' high ends; their
 * ports are big endian and compared for equality only. Revision 1 has
 * one-byte state and status masks where the others have two. */
_Static_assert(offsetof(struct xt_conntrack_mtinfo1, invert_flags) ==
		       offsetof(struct xt_conntrack_mtinfo3, invert_flags) &&
	       offsetof(struct xt_conntrack_mtinfo2, status_mask) ==
		       offsetof(struct xt_conntrack_mtinfo3, status_mask),
	       "xt_conntrack_mtinfo1/2 are not the prefix of mtinfo3");

static uint16_t be_port(uint16_t p)
{
	return ntohs(p);
}

static bool conntrack_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_conntrack_dec *ct = &d->conntrack;
	struct xt_conntrack_mtinfo3 m;
	uint8_t nfproto = d->nfproto;

	XT_LOAD(m, info, size);
	if (d->revision == 1) {
		struct xt_conntrack_mtinfo1 m1;

		XT_LOAD(m1, info, size);
		m.state_mask = m1.state_mask;
		m.status_mask = m1.status_mask;
	}
	xt_addr_from_inet(&ct->origsrc, &m.origsrc_addr, nfproto);
	xt_addr_from_inet(&ct->origsrc_mask, &m.origsrc_mask, nfproto);
	xt_addr_from_inet(&ct->origdst, &m.origdst_addr, nfproto);
	xt_addr_from_inet(&ct->origdst_mask, &m.origdst_mask, nfproto);
	xt_addr_from_inet(&ct->replsrc, &m.replsrc_addr, nfproto);
	xt_addr_from_inet(&ct->replsrc_mask, &m.replsrc_mask, nfproto);
	xt_addr_from_inet(&ct->repldst, &m.repldst_addr, nfproto);
	xt_addr_from_inet(&ct->repldst_mask, &m.repldst_mask, nfproto);
	ct->expires_min = m.expires_min;
	ct->expires_max = m.expires_max;
	ct->l4proto = m.l4proto;
	ct->match_flags = m.match_flags;
	ct->invert_flags = m.invert_flags;
	ct->state_mask = m.state_mask;
	ct->status_mask = m.status_mask;
	if (d->revision >= 3) {
		ct->origsrc_port = xt_port_range(m.origsrc_port, m.origsrc_port_high);
		ct->origdst_port = xt_port_range(m.origdst_port, m.origdst_port_high);
		ct->replsrc_port = xt_port_range(m.replsrc_port, m.replsrc_port_high);
		ct->repldst_port = xt_port_range(m.repldst_port, m.repldst_port_high);
	} else {
		ct->origsrc_port = xt_port_range(be_port(m.origsrc_port), be_port(m.origsrc_port));
		ct->origdst_port = xt_port_range(be_port(m.origdst_port), be_port(m.origdst_port));
		ct->replsrc_port = xt_port_range(be_port(m.replsrc_port), be_port(m.replsrc_port));
		ct->repldst_port = xt_port_range(be_port(m.repldst_port), be_port(m.repldst_port));
	}
	return true;
}

/* ---- evaluating ---------------------------------------------------------- */

static enum tri addr_masked_eq(const struct cg_addr *k, const struct cg_addr *u,
			       const struct cg_addr *mask, uint8_t nfproto)
{
	int len = nfproto == NFPROTO_IPV6 ? 16 : 4;
	int fam = nfproto == NFPROTO_IPV6 ? AF_INET6 : AF_INET;

	if (k->family == AF_UNSPEC)
		return TRI_UNKNOWN;     /* the simulated entry has no such tuple */
	if (k->family != fam)
		return TRI_FALSE;
	for (int i = 0; i < len; i++)
		if ((k->bytes[i] ^ u->bytes[i]) & mask->bytes[i])
			return TRI_FALSE;
	return TRI_TRUE;
}

static enum tri ct_port_crit(const struct xt_decoded *m, uint16_t flag, struct xt_port_range r,
			     uint16_t port)
{
	const struct xt_conntrack_dec *c = &m->conntrack;

	if (!(c->match_flags & flag))
		return TRI_TRUE;
	/* rev 1/2: port equality (lo == hi); rev 3: a range */
	return xt_crit(tri_of(xt_port_in(r, port)), c->invert_flags & flag);
}

static enum tri ct_addr_crit(const struct xt_decoded *m, uint16_t flag, const struct cg_addr *k,
			     const struct cg_addr *u, const struct cg_addr *mask)
{
	const struct xt_conntrack_dec *c = &m->conntrack;

	if (!(c->match_flags & flag))
		return TRI_TRUE;
	return xt_crit(addr_masked_eq(k, u, mask, m->nfproto), c->invert_flags & flag);
}

/* conntrack_mt() */
static enum tri conntrack_match(const struct xt_decoded *m, const struct cg_packet *pkt,
				const struct cg_addr_env *env)
{
	const struct xt_conntrack_dec *c = &m->conntrack;
	const struct cg_conntrack *ct = &pkt->ct;
	bool have_ct = xt_pkt_has_ct(pkt);
	uint32_t statebit = xt_ct_statebit(pkt, XT_CONNTRACK_STATE_UNTRACKED);
	enum tri r = TRI_TRUE;

	if (c->match_flags & XT_CONNTRACK_STATE) {
		/* the SNAT and DNAT pseudo-states are status bits, which the
		 * flow may not determine */
		uint32_t unknown = 0;
		if (have_ct) {
			if (ct->status & IPS_SRC_NAT)
				statebit |= XT_CONNTRACK_STATE_SNAT;
			if (ct->status & IPS_DST_NAT)
				statebit |= XT_CONNTRACK_STATE_DNAT;
			if (pkt->ct_status_unknown & IPS_SRC_NAT)
				unknown |= XT_CONNTRACK_STATE_SNAT;
			if (pkt->ct_status_unknown & IPS_DST_NAT)
				unknown |= XT_CONNTRACK_STATE_DNAT;
		}
		if (c->state_mask & statebit & ~unknown)
			r = TRI_TRUE;
		else
			r = c->state_mask & unknown ? TRI_UNKNOWN : TRI_FALSE;
		r = xt_crit(r, c->invert_flags & XT_CONNTRACK_STATE);
		if (r == TRI_FALSE)
			return TRI_FALSE;
	}
	/* No entry (invalid, untracked): only a state criterion can match;
	 * everything else is false whatever its "!" says. */
	if (!have_ct)
		return c->match_flags & XT_CONNTRACK_STATE ? r : TRI_FALSE;

	if (c->match_flags & XT_CONNTRACK_DIRECTION) {
		/* --ctdir ORIGINAL clears the invert bit, REPLY sets it */
		bool want_orig = !(c->invert_flags & XT_CONNTRACK_DIRECTION);
		if ((ct->dir == IP_CT_DIR_ORIGINAL) != want_orig)
			return TRI_FALSE;
	}
	r = tri_and(r, ct_addr_crit(m, XT_CONNTRACK_ORIGSRC, &ct->orig.src, &c->origsrc, &c->origsrc_mask));
	r = tri_and(r, ct_addr_crit(m, XT_CONNTRACK_ORIGDST, &ct->orig.dst, &c->origdst, &c->origdst_mask));
	r = tri_and(r, ct_addr_crit(m, XT_CONNTRACK_REPLSRC, &ct->reply.src, &c->replsrc, &c->replsrc_mask));
	r = tri_and(r, ct_addr_crit(m, XT_CONNTRACK_REPLDST, &ct->reply.dst, &c->repldst, &c->repldst_mask));
	if (c->match_flags & XT_CONNTRACK_PROTO)
		/* nf_ct_protonum(): the entry's protocol is the packet's */
		r = tri_and(r, xt_crit(tri_of(pkt->l4proto == c->l4proto),
				       c->invert_flags & XT_CONNTRACK_PROTO));
	r = tri_and(r, ct_port_crit(m, XT_CONNTRACK_ORIGSRC_PORT, c->origsrc_port, ct->orig.sport));
	r = tri_and(r, ct_port_crit(m, XT_CONNTRACK_ORIGDST_PORT, c->origdst_port, ct->orig.dport));
	r = tri_and(r, ct_port_crit(m, XT_CONNTRACK_REPLSRC_PORT, c->replsrc_port, ct->reply.sport));
	r = tri_and(r, ct_port_crit(m, XT_CONNTRACK_REPLDST_PORT, c->repldst_port, ct->reply.dport));
	if (c->match_flags & XT_CONNTRACK_STATUS) {
		/* assured and the NAT bits depend on what conntrack saw */
		uint32_t known = ~pkt->ct_status_unknown;
		enum tri st = c->status_mask & ct->status & known ? TRI_TRUE :
			      c->status_mask & ~known ? TRI_UNKNOWN : TRI_FALSE;
		r = tri_and(r, xt_crit(st, c->invert_flags & XT_CONNTRACK_STATUS));
	}
	if (c->match_flags & XT_CONNTRACK_EXPIRES)
		r = tri_and(r, TRI_UNKNOWN);    /* timers are not simulated */
	return r;
}

/* ---- printing ------------------------------------------------------------ */

/* print_state() of libxt_conntrack: leading space, then comma separated */
void xt_print_ct_states(FILE *f, uint32_t mask, const char *sep)
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

/* print_status(): IPS_EXPECTED .. IPS_CONFIRMED are bits 0 to 3 */
static void print_ct_status(FILE *f, uint32_t mask)
{
	static const char *const names[] = { "EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED" };

	_Static_assert(IPS_EXPECTED == 1 && IPS_SEEN_REPLY == 2 && IPS_ASSURED == 4 && IPS_CONFIRMED == 8,
		       "conntrack status bits moved");
	xt_print_bit_names(f, mask, names, ARRAY_SIZE(names), " ");
	if (mask == 0)
		fputs(" NONE", f);
}

static void ct_ports(FILE *f, const struct xt_conntrack_dec *c, uint16_t flag, const char *opt,
		     struct xt_port_range r, bool v3)
{
	uint16_t lo = r.lo, hi = v3 ? r.hi : 0;

	if (!(c->match_flags & flag))
		return;
	xt_print_inv(f, c->invert_flags & flag);
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
	xt_print_inv(f, c->invert_flags & flag);
	fprintf(f, " --%s", opt);
	xt_print_addr_mask(f, a, m);
}

/* conntrack_dump() with prefix "--" */
static void conntrack_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_conntrack_dec *c = &d->conntrack;
	bool v3 = d->revision >= 3;

	if (c->match_flags & XT_CONNTRACK_STATE) {
		xt_print_inv(f, c->invert_flags & XT_CONNTRACK_STATE);
		fprintf(f, " --%s", c->match_flags & XT_CONNTRACK_STATE_ALIAS ? "state" : "ctstate");
		xt_print_ct_states(f, c->state_mask, " ");
	}
	if (c->match_flags & XT_CONNTRACK_PROTO) {
		xt_print_inv(f, c->invert_flags & XT_CONNTRACK_PROTO);
		fprintf(f, " --ctproto %u", c->l4proto);
	}
	ct_addr(f, c, XT_CONNTRACK_ORIGSRC, "ctorigsrc", &c->origsrc, &c->origsrc_mask);
	ct_addr(f, c, XT_CONNTRACK_ORIGDST, "ctorigdst", &c->origdst, &c->origdst_mask);
	ct_addr(f, c, XT_CONNTRACK_REPLSRC, "ctreplsrc", &c->replsrc, &c->replsrc_mask);
	ct_addr(f, c, XT_CONNTRACK_REPLDST, "ctrepldst", &c->repldst, &c->repldst_mask);
	ct_ports(f, c, XT_CONNTRACK_ORIGSRC_PORT, "ctorigsrcport", c->origsrc_port, v3);
	ct_ports(f, c, XT_CONNTRACK_ORIGDST_PORT, "ctorigdstport", c->origdst_port, v3);
	ct_ports(f, c, XT_CONNTRACK_REPLSRC_PORT, "ctreplsrcport", c->replsrc_port, v3);
	ct_ports(f, c, XT_CONNTRACK_REPLDST_PORT, "ctrepldstport", c->repldst_port, v3);
	if (c->match_flags & XT_CONNTRACK_STATUS) {
		xt_print_inv(f, c->invert_flags & XT_CONNTRACK_STATUS);
		fputs(" --ctstatus", f);
		print_ct_status(f, c->status_mask);
	}
	if (c->match_flags & XT_CONNTRACK_EXPIRES) {
		xt_print_inv(f, c->invert_flags & XT_CONNTRACK_EXPIRES);
		fputs(" --ctexpire ", f);
		if (c->expires_max == c->expires_min)
			fprintf(f, "%u", c->expires_min);
		else
			fprintf(f, "%u:%u", c->expires_min, c->expires_max);
	}
	if (c->match_flags & XT_CONNTRACK_DIRECTION)
		fprintf(f, " --ctdir %s", c->invert_flags & XT_CONNTRACK_DIRECTION ? "REPLY" : "ORIGINAL");
}

/* conntrack_print_name_alias(): "-m state" is conntrack with a flag */
static const char *conntrack_print_name(const struct xt_decoded *d)
{
	return d->conntrack.match_flags & XT_CONNTRACK_STATE_ALIAS ? "state" : d->name;
}

static void conntrack_ident(struct canon *c, const struct xt_decoded *d)
{
	const struct xt_conntrack_dec *ct = &d->conntrack;

	canon_u16(c, ct->match_flags);
	canon_u16(c, ct->invert_flags);
	canon_u16(c, ct->state_mask);
	canon_u16(c, ct->status_mask);
	canon_u16(c, ct->l4proto);
	canon_addr(c, &ct->origsrc);
	canon_addr(c, &ct->origsrc_mask);
	canon_addr(c, &ct->origdst);
	canon_addr(c, &ct->origdst_mask);
	canon_addr(c, &ct->replsrc);
	canon_addr(c, &ct->replsrc_mask);
	canon_addr(c, &ct->repldst);
	canon_addr(c, &ct->repldst_mask);
	xt_ident_ports(c, &ct->origsrc_port);
	xt_ident_ports(c, &ct->origdst_port);
	xt_ident_ports(c, &ct->replsrc_port);
	xt_ident_ports(c, &ct->repldst_port);
	canon_u32(c, ct->expires_min);
	canon_u32(c, ct->expires_max);
}

static const struct xt_ext_form forms[] = {
	{ "conntrack", XT_MATCH_CONNTRACK, 1, 1, NFPROTO_UNSPEC, sizeof(struct xt_conntrack_mtinfo1), conntrack_decode },
	{ "conntrack", XT_MATCH_CONNTRACK, 2, 2, NFPROTO_UNSPEC, sizeof(struct xt_conntrack_mtinfo2), conntrack_decode },
	{ "conntrack", XT_MATCH_CONNTRACK, 3, 3, NFPROTO_UNSPEC, sizeof(struct xt_conntrack_mtinfo3), conntrack_decode },
};

const struct xt_ext xt_match_conntrack = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(conntrack),
	.match = conntrack_match,
	.print = conntrack_print,
	.print_name = conntrack_print_name,
	.ident = conntrack_ident,
};
