/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Model rules -> iptables-save text (iptables 1.8.x).
 *
 * Two steps, as iptables-nft-save does it: the expression list is parsed
 * into one "command state" (iptables-parse.c); then the state is printed:
 * the ip header part here, each match and target with its extension's
 * save() format (src/model/xt/). */
#include "config.h"

#include "iptables-internal.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_set.h>
#include <netdb.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/xt-ext.h"

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

static void print_v6_addr(FILE *f, char letter, const uint8_t *addr, const uint8_t *mask, bool inv)
{
	char a[INET6_ADDRSTRLEN], m[INET6_ADDRSTRLEN];
	int l = xt_ip6mask_to_cidr(mask);

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

static void print_ip_part(FILE *f, const struct ipt_cs *cs)
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

/* ---- printing: the matches and the target ------------------------------------ */

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
static const struct xt_decoded *xt_of(const struct ipt_cs *cs, const struct cg_expr *e)
{
	if (e->xt.decoded)
		return e->xt.decoded;
	if (!e->xt.name || (e->xt.info_len && !e->xt.info))
		return NULL;
	return xt_decode(cs->scratch, e->type == CG_EXPR_XT_TARGET, e->xt.name, e->xt.revision,
			 cs->family, e->xt.info, e->xt.info_len);
}

/* An extension cgnatcheck does not decode, or decodes without a printer
 * of its own: its own save() prints it, from the rule's blob or, when the
 * collector kept only the decoded value, from the copy that value keeps. */
static bool xt_print_fallback(FILE *f, const struct ipt_cs *cs, const struct cg_expr *e,
			      const struct xt_decoded *d)
{
	const void *info = e->xt.info;
	uint32_t len = e->xt.info_len;

	if ((!info || !len) && d)
		info = xt_kept_blob(d, &len);
	return e->xt.name && xt_print_by_libxtables(f, e->type == CG_EXPR_XT_TARGET, e->xt.name, e->xt.revision,
						    cs->family, cs->proto, cs->inv_proto, info, len);
}

/* ---- -j SET, as libxt_SET saves it ---------------------------------------- */

static const char *ipset_name(const struct ipt_cs *cs, uint16_t index)
{
	const struct cg_table *t = cs->table;
	uint32_t lo = 0, hi = t ? t->n_ipset_names : 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (t->ipset_names[mid].index == index)
			return t->ipset_names[mid].name;
		if (t->ipset_names[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The option and the set's name; false for no set (IPSET_INVALID_ID). */
static bool set_target_name(FILE *f, const struct ipt_cs *cs, const char *opt, ip_set_id_t index)
{
	const char *name;

	if (index == IPSET_INVALID_ID)
		return false;
	name = ipset_name(cs, index);
	if (name)
		fprintf(f, " %s %s", opt, name);
	else
		fprintf(f, " %s /* ipset index %u */", opt, index);
	return true;
}

/* print_target(): the option, the set's name and a direction per dimension */
static void set_target_set(FILE *f, const struct ipt_cs *cs, const char *opt, const struct xt_set_info *s)
{
	if (!set_target_name(f, cs, opt, s->index))
		return;
	for (unsigned i = 1; i <= s->dim && i <= IPSET_DIM_MAX; i++)
		fprintf(f, "%s%s", i == 1 ? " " : ",", s->flags & (1u << i) ? "src" : "dst");
}

/* revision 0: a zero-ended list of directions per set */
static void set_target_set_v0(FILE *f, const struct ipt_cs *cs, const char *opt, const struct xt_set_info_v0 *s)
{
	if (!set_target_name(f, cs, opt, s->index))
		return;
	for (unsigned i = 0; i < IPSET_DIM_MAX && s->u.flags[i]; i++)
		fprintf(f, "%s%s", i == 0 ? " " : ",", s->u.flags[i] & IPSET_SRC ? "src" : "dst");
}

/* set_target_save_v0..v3() of libxt_SET, the blob read as the kernel's
 * struct of its revision; false when the blob is not that struct */
static bool print_set_target(FILE *f, const struct ipt_cs *cs, const struct cg_expr *e)
{
	union {
		struct xt_set_info_target_v0 v0;
		struct xt_set_info_target_v1 v1;
		struct xt_set_info_target_v2 v2;
		struct xt_set_info_target_v3 v3;
	} u;
	static const size_t sizes[] = { sizeof(u.v0), sizeof(u.v1), sizeof(u.v2), sizeof(u.v3) };
	uint8_t rev = e->xt.revision;

	if (rev >= ARRAY_SIZE(sizes) || !e->xt.info || e->xt.info_len < sizes[rev])
		return false;
	memcpy(&u, e->xt.info, sizes[rev]);
	fputs(" -j SET", f);
	switch (rev) {
	case 0:
		set_target_set_v0(f, cs, "--add-set", &u.v0.add_set);
		set_target_set_v0(f, cs, "--del-set", &u.v0.del_set);
		break;
	case 1:
		set_target_set(f, cs, "--add-set", &u.v1.add_set);
		set_target_set(f, cs, "--del-set", &u.v1.del_set);
		break;
	case 2:
		set_target_set(f, cs, "--add-set", &u.v2.add_set);
		if (u.v2.flags & IPSET_FLAG_EXIST)
			fputs(" --exist", f);
		if (u.v2.timeout != UINT32_MAX)
			fprintf(f, " --timeout %u", u.v2.timeout);
		set_target_set(f, cs, "--del-set", &u.v2.del_set);
		break;
	case 3:
		set_target_set(f, cs, "--add-set", &u.v3.add_set);
		if (u.v3.flags & IPSET_FLAG_EXIST)
			fputs(" --exist", f);
		if (u.v3.timeout != UINT32_MAX)
			fprintf(f, " --timeout %u", u.v3.timeout);
		set_target_set(f, cs, "--del-set", &u.v3.del_set);
		set_target_set(f, cs, "--map-set", &u.v3.map_set);
		if (u.v3.flags & IPSET_FLAG_MAP_SKBMARK)
			fputs(" --map-mark", f);
		if (u.v3.flags & IPSET_FLAG_MAP_SKBPRIO)
			fputs(" --map-prio", f);
		if (u.v3.flags & IPSET_FLAG_MAP_SKBQUEUE)
			fputs(" --map-queue", f);
		break;
	}
	return true;
}

static void print_target(FILE *f, const struct ipt_cs *cs)
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
		if (!d || !xt_has_printer(d)) {
			/* libxt_SET's save() asks ipset for the names: printed
			 * here from the names the collector read */
			if (e->xt.name && !strcmp(e->xt.name, "SET") && print_set_target(f, cs, e))
				break;
			if (!xt_print_fallback(f, cs, e, d))
				fprintf(f, " -j %s /* unsupported */", e->xt.name ? e->xt.name : "?");
			break;
		}
		xt_print(f, d);
		break;
	case TGT_SYNTH:
		xt_print(f, &cs->tgt_synth);
		break;
	case TGT_UNSUPPORTED:
		fprintf(f, " -j %s /* unsupported */", cs->tgt_what);
		break;
	}
}

static void print_items(FILE *f, const struct ipt_cs *cs)
{
	for (unsigned i = 0; i < cs->n_items; i++) {
		const struct item *it = &cs->items[i];
		const struct xt_decoded *d = NULL;

		switch (it->kind) {
		case ITEM_XT:
			d = xt_of(cs, it->expr);
			if (!d || !xt_has_printer(d)) {
				if (!xt_print_fallback(f, cs, it->expr, d))
					fprintf(f, " -m %s /* unsupported */",
						it->expr->xt.name ? it->expr->xt.name : "?");
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
		xt_print(f, d);
	}
	if (cs->items_truncated)
		fputs(" /* unsupported: more matches than shown */", f);
}

void ipt_print_rule(FILE *f, const struct cg_rule *rule)
{
	struct ipt_cs state, *cs = &state;
	const struct cg_chain *c = rule->chain;
	struct arena scratch = { 0 };
	struct cg_expr_buf eb;

	memset(cs, 0, offsetof(struct ipt_cs, items));
	cs->scratch = &scratch;
	cs->family = c && c->table ? c->table->family : NFPROTO_IPV4;
	cs->table = c ? c->table : NULL;
	ipt_cs_parse(cs, rule, rule_exprs(rule, &eb));
	fprintf(f, "-A %s", c && c->name ? c->name : "?");
	print_ip_part(f, cs);
	print_items(f, cs);
	/* an nft rule comment (udata) shows up as a last comment match */
	if (rule->comment && !cs->have_comment_match) {
		fputs(" -m comment --comment", f);
		xt_print_string(f, rule->comment);
	}
	print_target(f, cs);
	arena_free(&scratch);
	expr_buf_free(&eb);
}

const char *ipt_rule_unlistable(const struct cg_rule *rule, const struct cg_expr *ex, uint8_t family)
{
	struct ipt_cs state, *cs = &state;

	/* nft_is_expr_compatible(): a log only with a group (NFLOG) */
	for (uint32_t i = 0; i < rule->n_exprs; i++)
		if (ex[i].type == CG_EXPR_LOG && !(ex[i].log.present & (1u << NFTA_LOG_GROUP)))
			return "log";
	memset(cs, 0, offsetof(struct ipt_cs, items));
	cs->family = family;
	ipt_cs_parse(cs, rule, ex);
	for (unsigned i = 0; i < cs->n_items; i++)
		if (cs->items[i].kind == ITEM_UNSUPPORTED)
			return cs->items[i].what;
	if (cs->tgt == TGT_UNSUPPORTED)
		return cs->tgt_what;
	return NULL;
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
