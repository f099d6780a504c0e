/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whose an nf_tables table is: iptables-nft's or nft's (native nftables).
 *
 * Nothing in the kernel says. iptables-nft 1.8.9 marks neither its tables
 * (no NFTA_TABLE_USERDATA, no NFT_TABLE_F_OWNER) nor its chains, and its
 * rules carry user data only for ebtables' policy rule; the per-rule
 * NFTA_RULE_COMPAT attribute (protocol and inversion, add_compat()) is read
 * by the kernel's nft_compat when an xt expression is set up and is not
 * kept, so a dump never shows it. (A compat-extension user data record,
 * UDATA_TYPE_COMPAT_EXT, was added during iptables 1.8.12 development and
 * reverted before that release.) So each stock tool decides for itself:
 *
 *  - nft 1.0.6 prints "# Warning: table ip filter is managed by
 *    iptables-nft, do not touch!" (on stderr, before the table) exactly when
 *    a rule of the table holds an xt-compat expression, match or target
 *    (src/xt.c sets table->has_xt_stmts while it delinearizes; nftables
 *    commit "Warn for tables with compat expressions in rules", v1.0.6);
 *  - iptables-nft 1.8.9 takes every table of its family whose name is one
 *    of its built-in tables (filter, nat, mangle, raw, security in ip and
 *    ip6) as its own: whoever wrote it, iptables-nft-save lists it, and
 *    `iptables-nft -A/-I/-D` change it. It lists it only when every
 *    expression is one it writes itself (nft_is_table_compatible():
 *    match, target, payload, meta, cmp, bitwise, counter, immediate,
 *    lookup, range, a packet limit without flags, a log with a group);
 *    otherwise it prints "# Table `filter' is incompatible, use 'nft'
 *    tool." and stops. A rule of those expressions that its parser still
 *    cannot turn into an iptables rule (`meta mark set ...`: "meta sreg key
 *    not supported") makes iptables-nft-save fail with "Parsing nftables
 *    rule failed". A base chain other than its built-in one for that hook
 *    (name, type, priority) "taints" the table: listed, with a note, without
 *    that chain. Debian 12's iptables-nft writes -s/-d, -i/-o, -p and the
 *    tcp/udp ports, -m mark, -m limit, -j NFLOG and the standard targets
 *    natively; only other matches and targets (and -m comment) as xt.
 *
 * Native nftables users may name a table `ip filter` with base chains INPUT,
 * FORWARD, OUTPUT at priority filter (Tailscale's nftables mode does, so as
 * to sit where iptables-nft would), and iptables-nft writes tables without a
 * single xt expression. So the decision reads what each tool writes, for
 * tables iptables-nft takes as its own (ip/ip6 with a built-in name; every
 * other table is nft's):
 *
 *  1. A rule iptables-nft-save cannot list (an expression outside its list,
 *     or one its parser has no iptables rule for, see ipt_rule_unlistable();
 *     a set lookup too, which iptables-nft 1.8.9 lets through in ip and ip6
 *     and then prints the rule without: nft_parse_lookup() has nothing to
 *     parse it with outside ebtables): nftables. Only nft lists such a table, so only nft's text is the stock
 *     tool's, and only nft can be asked to change it. This holds for a mixed
 *     table too (iptables-nft rules, xt ones included, next to a native
 *     `ct state` rule): nft warns about it, iptables-nft refuses it; each
 *     rule is named in nft's syntax.
 *  2. An xt-compat expression, or an interface name compared the way
 *     iptables-nft writes it (the name and its NUL, fewer than IFNAMSIZ
 *     bytes: add_iniface(); nft compares the whole IFNAMSIZ buffer, or only
 *     the prefix for `eth*`): iptables-nft. nft cannot write either.
 *  3. Something only nft writes: a rule without a counter (iptables-nft puts
 *     one in every rule, just before the target), a rule comment in user
 *     data (iptables-nft 1.8.9 writes -m comment as an xt match), an
 *     interface name padded to IFNAMSIZ, a set, table flags (dormant,
 *     owner), a base chain that is not iptables-nft's built-in one:
 *     nftables.
 *  4. Nothing either way: iptables-nft. Both tools then list every rule as
 *     it is, and the table has iptables' names; an exception written the
 *     way iptables-nft writes it keeps both tools able to read the table,
 *     where a native one (`ct state`) would make iptables-nft refuse it.
 *
 * A table is one unit: all its rules are named in one syntax, and an
 * exception is written the way its owner writes. An exception keeps the
 * decision: iptables-nft's form carries xt matches (conntrack, comment),
 * nft's form a `ct state` iptables-nft cannot list. */
#include "config.h"

#include <net/if.h>
#include <netinet/in.h> /* before <linux/netfilter.h> */

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/iptables-text.h"

/* iptables-nft 1.8.9's built-in tables of the ip and ip6 families and their
 * base chains (xtables_ipv4[] in iptables/nft.c; ip6 uses the same). */
struct builtin_chain {
	const char *name, *type;
	uint32_t hook;
	int32_t prio;
};

static const struct builtin_table {
	const char *name;
	struct builtin_chain chains[5];
} builtin_tables[] = {
	{ "raw", { { "PREROUTING", "filter", NF_INET_PRE_ROUTING, -300 },
		   { "OUTPUT", "filter", NF_INET_LOCAL_OUT, -300 } } },
	{ "mangle", { { "PREROUTING", "filter", NF_INET_PRE_ROUTING, -150 },
		      { "INPUT", "filter", NF_INET_LOCAL_IN, -150 },
		      { "FORWARD", "filter", NF_INET_FORWARD, -150 },
		      { "OUTPUT", "route", NF_INET_LOCAL_OUT, -150 },
		      { "POSTROUTING", "filter", NF_INET_POST_ROUTING, -150 } } },
	{ "filter", { { "INPUT", "filter", NF_INET_LOCAL_IN, 0 },
		      { "FORWARD", "filter", NF_INET_FORWARD, 0 },
		      { "OUTPUT", "filter", NF_INET_LOCAL_OUT, 0 } } },
	{ "security", { { "INPUT", "filter", NF_INET_LOCAL_IN, 150 },
			{ "FORWARD", "filter", NF_INET_FORWARD, 150 },
			{ "OUTPUT", "filter", NF_INET_LOCAL_OUT, 150 } } },
	{ "nat", { { "PREROUTING", "nat", NF_INET_PRE_ROUTING, -100 },
		   { "INPUT", "nat", NF_INET_LOCAL_IN, 100 },
		   { "POSTROUTING", "nat", NF_INET_POST_ROUTING, 100 },
		   { "OUTPUT", "nat", NF_INET_LOCAL_OUT, -100 } } },
};

static const struct builtin_table *builtin_table(uint8_t family, const char *name)
{
	if ((family != NFPROTO_IPV4 && family != NFPROTO_IPV6) || !name)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(builtin_tables); i++)
		if (strcmp(builtin_tables[i].name, name) == 0)
			return &builtin_tables[i];
	return NULL;
}

bool nft_owner_iptables_table(uint8_t family, const char *name)
{
	return builtin_table(family, name) != NULL;
}

/* nft_cache_add_base_chain(): the base chain iptables-nft has for this hook,
 * with this name, type and priority. */
static bool builtin_chain(const struct builtin_table *bt, const struct cg_chain *ch)
{
	for (size_t i = 0; i < ARRAY_SIZE(bt->chains) && bt->chains[i].name; i++) {
		const struct builtin_chain *b = &bt->chains[i];

		if (b->hook == ch->hook)
			return b->prio == ch->priority && ch->name && strcmp(b->name, ch->name) == 0 && ch->type &&
			       strcmp(b->type, ch->type) == 0;
	}
	return false;
}

/* An interface name's comparison: iptables-nft's form (the name and its NUL,
 * shorter than IFNAMSIZ) or nft's (the name padded to IFNAMSIZ, more than
 * one NUL). A prefix (`eth+`, `eth*`) and a 15-character name look the same
 * from both. */
static unsigned ifname_signs(const struct cg_data *d)
{
	size_t n;

	if (d->len == 0 || d->len > IFNAMSIZ || d->bytes[d->len - 1] != '\0')
		return 0;
	n = strnlen((const char *)d->bytes, d->len);
	if (d->len < IFNAMSIZ && n == d->len - 1u)
		return NFT_OWNER_IPT_IFNAME;
	if (d->len == IFNAMSIZ && n + 1 < IFNAMSIZ)
		return NFT_OWNER_NFT_IFNAME;
	return 0;
}

unsigned nft_owner_rule_signs(const struct cg_rule *rule, uint8_t family, const char **what)
{
	struct cg_expr_buf eb;
	const struct cg_expr *ex = rule_exprs(rule, &eb);
	unsigned signs = 0;
	bool counter = false, xt_comment = false;
	int ifreg = -1;
	const char *why;

	for (uint32_t i = 0; i < rule->n_exprs; i++) {
		const struct cg_expr *e = &ex[i];

		switch (e->type) {
		case CG_EXPR_META:
			ifreg = e->meta.key == NFT_META_IIFNAME || e->meta.key == NFT_META_OIFNAME ? e->meta.reg : -1;
			break;
		case CG_EXPR_CMP:
			if (ifreg >= 0 && e->cmp.sreg == ifreg &&
			    (e->cmp.op == NFT_CMP_EQ || e->cmp.op == NFT_CMP_NEQ))
				signs |= ifname_signs(&e->cmp.data);
			ifreg = -1;
			break;
		case CG_EXPR_COUNTER:
			counter = true;
			break;
		case CG_EXPR_XT_MATCH:
			if (e->xt.name && strcmp(e->xt.name, "comment") == 0)
				xt_comment = true;
			/* fall through */
		case CG_EXPR_XT_TARGET:
			signs |= NFT_OWNER_XT;
			break;
		default:
			ifreg = -1;
			break;
		}
	}
	if (!counter)
		signs |= NFT_OWNER_NO_COUNTER;
	/* the collector takes the comment from user data first, then from an
	 * xt comment match: without such a match, it came from user data */
	if (rule->comment && !xt_comment)
		signs |= NFT_OWNER_UDATA;
	why = ipt_rule_unlistable(rule, ex, family);
	if (why) {
		signs |= NFT_OWNER_UNLISTABLE;
		if (what)
			*what = why;
	}
	expr_buf_free(&eb);
	return signs;
}

void nft_table_owner(const struct cg_table *t, struct nft_owner *out)
{
	/* in the order they decide */
	static const struct { unsigned sign; enum cg_backend backend; const char *why; } rule_signs[] = {
		{ NFT_OWNER_UNLISTABLE, CG_BACKEND_NFTABLES, "a rule iptables-nft cannot list" },
		{ NFT_OWNER_XT, CG_BACKEND_IPTABLES_NFT, "xt-compat expressions" },
		{ NFT_OWNER_IPT_IFNAME, CG_BACKEND_IPTABLES_NFT, "an interface name compared as iptables-nft writes it" },
		{ NFT_OWNER_NO_COUNTER, CG_BACKEND_NFTABLES, "a rule without a counter" },
		{ NFT_OWNER_UDATA, CG_BACKEND_NFTABLES, "a rule comment in user data" },
		{ NFT_OWNER_NFT_IFNAME, CG_BACKEND_NFTABLES, "an interface name padded as nft writes it" },
	};
	const struct cg_rule *first[ARRAY_SIZE(rule_signs)] = { 0 };
	const char *what = NULL;
	const struct builtin_table *bt = builtin_table(t->family, t->name);
	unsigned signs = 0;

	*out = (struct nft_owner){ .backend = CG_BACKEND_NFTABLES, .why = "not a table iptables-nft uses" };
	if (!bt)
		return;
	for (uint32_t c = 0; c < t->n_chains; c++)
		for (uint32_t r = 0; r < t->chains[c].n_rules; r++) {
			const struct cg_rule *rule = &t->chains[c].rules[r];
			const char *w = NULL;
			unsigned s = nft_owner_rule_signs(rule, t->family, &w);

			for (size_t i = 0; i < ARRAY_SIZE(rule_signs); i++)
				if ((s & rule_signs[i].sign) && !first[i]) {
					first[i] = rule;
					if (rule_signs[i].sign == NFT_OWNER_UNLISTABLE)
						what = w;
				}
			signs |= s;
		}
	for (size_t i = 0; i < ARRAY_SIZE(rule_signs); i++)
		if (signs & rule_signs[i].sign) {
			*out = (struct nft_owner){ rule_signs[i].backend, rule_signs[i].why, first[i],
						   rule_signs[i].sign == NFT_OWNER_UNLISTABLE ? what : NULL };
			return;
		}
	if (t->n_sets) {
		out->why = "a set";
		return;
	}
	if (t->flags) {
		out->why = "table flags";
		return;
	}
	for (uint32_t c = 0; c < t->n_chains; c++)
		if (t->chains[c].base && !builtin_chain(bt, &t->chains[c])) {
			out->why = "a base chain iptables-nft does not make";
			return;
		}
	out->backend = CG_BACKEND_IPTABLES_NFT;
	out->why = "nothing only nft writes";
}
