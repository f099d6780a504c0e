/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m set: struct xt_set_info_match_v1 (revisions 1 and 2), _v3 and _v4 of
 * xt_set.c, printed as libxt_set saves them, and evaluated as xt_set.c and
 * ip_set_core.c's ip_set_test() do against the set's contents, which
 * src/collect/ipset.c reads (struct xt_ipset): a set it could not read
 * leaves the match unknown. */
#include "config.h"

#include "xt-internal.h"

#include <errno.h>
#include <linux/netfilter/xt_set.h>

#include "cgnatcheck/hashmap.h"

/* ---- decoding ------------------------------------------------------------ */

static bool set_info_decode(struct xt_decoded *d, const struct xt_set_info *s)
{
	/* The kernel refuses dim 0 or above IPSET_DIM_MAX at checkentry. */
	if (s->dim < IPSET_DIM_ONE || s->dim > IPSET_DIM_MAX)
		return false;
	d->set.index = s->index;
	d->set.dim = s->dim;
	d->set.flags = s->flags;
	return true;
}

static bool set1_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_set_info_match_v1 m;

	XT_LOAD(m, info, size);
	return set_info_decode(d, &m.match_set);
}

/* Revisions 3 and 4 carry the same counters; 4 aligns them differently. */
static void set_counters(struct xt_set_dec *s, uint32_t flags, uint8_t packets_op, uint64_t packets,
			 uint8_t bytes_op, uint64_t bytes)
{
	s->v3_flags = flags;
	s->packets.op = packets_op;
	s->packets.value = packets;
	s->bytes.op = bytes_op;
	s->bytes.value = bytes;
}

static bool set3_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_set_info_match_v3 m;

	XT_LOAD(m, info, size);
	set_counters(&d->set, m.flags, m.packets.op, m.packets.value, m.bytes.op, m.bytes.value);
	return set_info_decode(d, &m.match_set);
}

static bool set4_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_set_info_match_v4 m;

	XT_LOAD(m, info, size);
	set_counters(&d->set, m.flags, m.packets.op, m.packets.value, m.bytes.op, m.bytes.value);
	return set_info_decode(d, &m.match_set);
}

/* ---- evaluating ---------------------------------------------------------- */

/* ip_set_get_ip_port(): the port a set's port dimension sees, and the
 * protocol: tcp, udp, sctp and udplite carry ports; ICMP and ICMPv6 are
 * type << 8 | code; any other protocol is port 0. */
static void pkt_port(const struct cg_packet *pkt, bool src, uint8_t out[3])
{
	uint16_t port = 0;

	switch (pkt->l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
		port = src ? pkt->sport : pkt->dport;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		port = (uint16_t)(pkt->icmp_type << 8 | pkt->icmp_code);
		break;
	}
	out[0] = (uint8_t)(port >> 8);
	out[1] = (uint8_t)port;
	out[2] = pkt->l4proto;
}

static void mask_bytes(uint8_t *b, unsigned len, unsigned plen)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned bits = plen > i * 8 ? plen - i * 8 : 0;
		b[i] &= bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
	}
}

/* The element key of the packet for s, the net dimension's address masked
 * to plen (when the set has one). Returns the key's length, 0 when the
 * packet cannot be in the set (kadt()'s -EINVAL). */
static uint32_t pkt_key(const struct xt_ipset *s, const struct xt_set_dec *m, const struct cg_packet *pkt,
			unsigned plen, uint8_t *key)
{
	unsigned alen = s->family == NFPROTO_IPV6 ? 16 : 4;
	uint32_t n = 0;

	for (unsigned i = 0; i < s->n_dims; i++) {
		bool src = m->flags & (1u << (i + 1));
		const struct cg_addr *a = src ? &pkt->src : &pkt->dst;
		uint32_t mark;

		switch (s->dims[i]) {
		case XT_IPSET_DIM_IP:
			memcpy(key + n, a->bytes, alen);
			for (unsigned j = 0; j < alen; j++)
				key[n + j] &= s->mask[j];
			n += alen;
			break;
		case XT_IPSET_DIM_NET:
			memcpy(key + n, a->bytes, alen);
			mask_bytes(key + n, alen, plen);
			n += alen;
			key[n++] = (uint8_t)plen;
			break;
		case XT_IPSET_DIM_PORT:
			pkt_port(pkt, src, key + n);
			n += 3;
			break;
		case XT_IPSET_DIM_MARK:
			mark = pkt->mark & s->markmask;
			key[n++] = (uint8_t)(mark >> 24);
			key[n++] = (uint8_t)(mark >> 16);
			key[n++] = (uint8_t)(mark >> 8);
			key[n++] = (uint8_t)mark;
			break;
		case XT_IPSET_DIM_TCPUDP_PORT:
			if (pkt->l4proto != IPPROTO_TCP && pkt->l4proto != IPPROTO_UDP)
				return 0;
			key[n++] = (uint8_t)((src ? pkt->sport : pkt->dport) >> 8);
			key[n++] = (uint8_t)(src ? pkt->sport : pkt->dport);
			break;
		}
	}
	return n;
}

/* The type's kadt() with IPSET_TEST: 1 for a matching entry, -ENOTEMPTY
 * for a nomatch entry, 0 for none; -EAGAIN: the answer depends on the
 * element's counters, which the simulator does not know. Net types try
 * their prefix lengths from the longest down (mtype_test_cidrs()); the
 * first that holds an entry decides. */
static int ipset_kadt(const struct xt_ipset *s, const struct xt_set_dec *m, const struct cg_packet *pkt,
		      bool match_counters)
{
	uint8_t key[64];
	bool has_net = false;

	for (unsigned i = 0; i < s->n_dims; i++)
		has_net |= s->dims[i] == XT_IPSET_DIM_NET;
	for (int plen = has_net ? (s->family == NFPROTO_IPV6 ? 128 : 32) : 0; plen >= 0; plen--) {
		if (has_net && !(s->cidrs[plen / 64] >> (plen % 64) & 1))
			continue;
		uint32_t len = pkt_key(s, m, pkt, (unsigned)plen, key);
		if (!len)
			return 0;
		const uint8_t *flag = s->elems ? hashmap_get(s->elems, key, len) : NULL;
		if (!flag)
			continue;
		/* ip_set_match_extensions(): an element's counters decide
		 * whether it matches when the rule tests them */
		if (match_counters && s->counters)
			return -EAGAIN;
		return *flag ? -ENOTEMPTY : 1;
	}
	return 0;
}

/* ip_set_test(): whether the packet is in the set as the rule asks (its
 * dimensions' directions, --return-nomatch); TRI_UNKNOWN when the set was
 * not read or the answer depends on counters. */
static enum tri ipset_test(const struct xt_ipset *s, const struct xt_set_dec *m, uint8_t revision,
			   const struct cg_packet *pkt)
{
	bool return_nomatch = revision >= 3 ? m->v3_flags & IPSET_FLAG_RETURN_NOMATCH :
			      (m->flags & IPSET_RETURN_NOMATCH);
	bool match_counters = revision >= 3 && (m->packets.op || m->bytes.op);
	int r;

	if (!s || s->unknown)
		return TRI_UNKNOWN;
	/* a rule with fewer dimensions than the set, or another family, never
	 * matches */
	if (m->dim < s->n_dims || (s->family != pkt->nfproto && s->family != NFPROTO_UNSPEC))
		return TRI_FALSE;
	if (s->list) {
		/* list_set_ktest(): the first member the packet is in; the
		 * members' counters are not matched */
		enum tri any = TRI_FALSE;
		struct xt_set_dec sub = *m;

		sub.packets.op = sub.bytes.op = 0;
		for (uint32_t i = 0; i < s->n_members && any != TRI_TRUE; i++)
			any = tri_or(any, ipset_test(s->members[i], &sub, revision, pkt));
		if (any == TRI_TRUE && match_counters && s->counters)
			return TRI_UNKNOWN;
		return any;
	}
	r = ipset_kadt(s, m, pkt, match_counters);
	if (r == -EAGAIN)
		return TRI_UNKNOWN;
	if (return_nomatch && s->nomatch && (r > 0 || r == -ENOTEMPTY))
		r = -r;
	return tri_of(r > 0);
}

static enum tri set_match(const struct xt_decoded *d, const struct cg_packet *pkt, const struct cg_addr_env *env)
{
	const struct xt_set_dec *m = &d->set;

	(void)env;
	return xt_crit(ipset_test(m->ipset, m, d->revision, pkt), m->flags & IPSET_INV_MATCH);
}

/* ---- printing ------------------------------------------------------------ */

static void print_counter(FILE *f, uint8_t op, uint64_t value, const char *name)
{
	switch (op) {
	case IPSET_COUNTER_EQ: fprintf(f, " --%s-eq %llu", name, (unsigned long long)value); break;
	case IPSET_COUNTER_NE: fprintf(f, " ! --%s-eq %llu", name, (unsigned long long)value); break;
	case IPSET_COUNTER_LT: fprintf(f, " --%s-lt %llu", name, (unsigned long long)value); break;
	case IPSET_COUNTER_GT: fprintf(f, " --%s-gt %llu", name, (unsigned long long)value); break;
	}
}

/* The blob carries the set's kernel index, not its name, which iptables-save
 * asks ipset for: the name the collector found, else the index in a marked
 * comment. */
static void set_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_set_dec *s = &d->set;

	xt_print_inv(f, s->flags & IPSET_INV_MATCH);
	if (s->ipset && s->ipset->name)
		fprintf(f, " --match-set %s", s->ipset->name);
	else
		fprintf(f, " --match-set /* ipset index %u */", s->index);
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
		print_counter(f, s->packets.op, s->packets.value, "packets");
		print_counter(f, s->bytes.op, s->bytes.value, "bytes");
	}
}

static void set_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u16(c, d->set.index);
	canon_u8(c, d->set.dim);
	canon_u8(c, d->set.flags);
	canon_u32(c, d->set.v3_flags);
	canon_u8(c, d->set.packets.op);
	canon_u64(c, d->set.packets.value);
	canon_u8(c, d->set.bytes.op);
	canon_u64(c, d->set.bytes.value);
}

static const struct xt_ext_form forms[] = {
	{ "set", XT_MATCH_SET, 1, 2, NFPROTO_UNSPEC, sizeof(struct xt_set_info_match_v1), set1_decode },
	{ "set", XT_MATCH_SET, 3, 3, NFPROTO_UNSPEC, sizeof(struct xt_set_info_match_v3), set3_decode },
	{ "set", XT_MATCH_SET, 4, 4, NFPROTO_UNSPEC, sizeof(struct xt_set_info_match_v4), set4_decode },
};

const struct xt_ext xt_match_set = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(set),
	.match = set_match,
	.print = set_print,
	.ident = set_ident,
};
