/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Step 3 of listing a rule: statements and expressions in nft's spelling
 * (statement.c, expression.c), values by their datatype; and the whole run
 * for one rule, steps 1 to 3, which a binding chain's rules take again
 * nested inside the jump that names it. */
#include "config.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_log.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nft-internal.h"

struct printer {
	struct out *o;
	bool numeric;                   /* inside a range: symbols and protocols as numbers */
};

static void print_node(struct printer *pr, const struct node *n);

static void print_value_node(struct printer *pr, const struct node *v)
{
	const struct dtype *dt;

	if (!v->value) {
		nftp_out_puts(pr->o, "?");
		return;
	}
	if (pr->numeric && v->dtype == &nftp_dt_time) {
		/* time_print() with numeric output: whole seconds */
		nftp_out_printf(pr->o, "%llus", (unsigned long long)(nftp_value_u64(v) / 1000));
		return;
	}
	if (pr->numeric) {
		for (dt = v->dtype; dt; dt = dt->basetype) {
			if (dt->print && dt != &nftp_dt_inet_protocol)
				break;
			if (dt->syms || dt->sym_file || dt == &nftp_dt_inet_protocol) {
				nftp_print_integer(pr->o, v);
				return;
			}
		}
	}
	nftp_print_by_type(pr->o, v, v->dtype);
}

static const char *const base_tokens[] = {
	[BASE_INVALID] = "invalid", [BASE_LL] = "ll", [BASE_NH] = "nh", [BASE_TH] = "th", [BASE_IH] = "ih",
};

static void print_payload(struct printer *pr, const struct node *n)
{
	if (nftp_payload_known(n))
		nftp_out_printf(pr->o, "%s %s", n->payload.desc->name, n->payload.tmpl->token);
	else
		nftp_out_printf(pr->o, "@%s,%u,%u", n->payload.base <= BASE_MAX ? base_tokens[n->payload.base] : "invalid",
			   n->payload.offset, n->len);
}

static bool meta_key_unqualified(uint32_t key)
{
	switch (key) {
	case NFT_META_IIF:
	case NFT_META_OIF:
	case NFT_META_IIFNAME:
	case NFT_META_OIFNAME:
	case NFT_META_IIFGROUP:
	case NFT_META_OIFGROUP:
		return true;
	default:
		return false;
	}
}

static void print_meta_key(struct out *o, uint32_t key)
{
	const struct key_tmpl *t = nftp_meta_tmpl(key);

	if (!t)
		nftp_out_printf(o, "meta /* unsupported: key %u */", key);
	else if (meta_key_unqualified(key))
		nftp_out_puts(o, t->token);
	else
		nftp_out_printf(o, "meta %s", t->token);
}

/* ct_print(): "ct [original|reply] [ip|ip6] key" */
static void print_ct_key(struct out *o, uint32_t key, int8_t dir, const struct dtype *dt)
{
	const struct key_tmpl *t = nftp_ct_tmpl(key);

	nftp_out_puts(o, "ct ");
	if (dir >= 0) {
		if (dir == IP_CT_DIR_ORIGINAL)
			nftp_out_puts(o, "original ");
		else if (dir == IP_CT_DIR_REPLY)
			nftp_out_puts(o, "reply ");
		if ((key == NFT_CT_SRC || key == NFT_CT_DST) && (dt == &nftp_dt_ipaddr || dt == &nftp_dt_ip6addr))
			nftp_out_puts(o, dt == &nftp_dt_ipaddr ? "ip " : "ip6 ");
	}
	if (t)
		nftp_out_puts(o, t->token);
	else
		nftp_out_printf(o, "/* unsupported: key %u */", key);
}

static const char *op_symbol(enum op op)
{
	switch (op) {
	case OP_AND: return "&";
	case OP_OR: return "|";
	case OP_XOR: return "^";
	case OP_LSHIFT: return "<<";
	case OP_RSHIFT: return ">>";
	case OP_EQ: return "==";
	case OP_NEQ: return "!=";
	case OP_LT: return "<";
	case OP_GT: return ">";
	case OP_LTE: return "<=";
	case OP_GTE: return ">=";
	case OP_NEG: return "!";
	case OP_HTON: return "hton";
	case OP_NTOH: return "ntoh";
	case OP_INVALID: return "invalid";
	default: return NULL;       /* OP_IMPLICIT */
	}
}

static unsigned op_precedence(enum op op)
{
	switch (op) {
	case OP_LSHIFT:
	case OP_RSHIFT: return 1;
	case OP_AND: return 2;
	case OP_XOR: return 3;
	case OP_OR: return 4;
	default: return 0;
	}
}

/* binop_arg_print(): parentheses where precedence needs them */
static void print_binop_arg(struct printer *pr, const struct node *op, const struct node *arg)
{
	bool paren = arg->type == N_BINOP && op_precedence(op->op) && op_precedence(op->op) < op_precedence(arg->op);

	if (paren)
		nftp_out_puts(pr->o, "(");
	print_node(pr, arg);
	if (paren)
		nftp_out_puts(pr->o, ")");
}

/* must_print_eq_op() */
static bool must_print_eq(const struct node *n)
{
	if (n->right->type == N_VALUE && nftp_dtype_is_bitmask(n->right->dtype))
		return true;
	return n->left->type == N_BINOP;
}

static void print_binop(struct printer *pr, const struct node *n)
{
	const char *sym = op_symbol(n->op);

	print_binop_arg(pr, n, n->left);
	if (sym && (n->op != OP_EQ || must_print_eq(n)))
		nftp_out_printf(pr->o, " %s ", sym);
	else
		nftp_out_puts(pr->o, " ");
	print_binop_arg(pr, n, n->right);
}

static void print_items(struct printer *pr, const struct node *n, const char *sep)
{
	for (unsigned i = 0; i < n->n_items; i++) {
		if (i)
			nftp_out_puts(pr->o, sep);
		print_node(pr, n->items[i]);
	}
}

static void print_chain_name(struct out *o, const struct cg_verdict *v, const char *word)
{
	if (!v->chain_name)
		nftp_out_printf(o, "%s /* missing chain */", word);
	else if (!v->chain)
		nftp_out_printf(o, "%s %s /* missing chain */", word, v->chain_name);
	else
		nftp_out_printf(o, "%s %s", word, v->chain_name);
}

/* chain_stmt_print(): a jump to an anonymous (binding) chain shows its rules */
static void print_binding(struct out *o, const struct cg_chain *ch, const char *word, uint8_t family,
			  unsigned depth)
{
	nftp_out_printf(o, "%s {\n", word);
	for (uint32_t i = 0; i < ch->n_rules; i++) {
		nftp_out_puts(o, "\t\t\t");
		nftp_rule_print(o, &ch->rules[i], family, depth + 1);
		nftp_out_puts(o, "\n");
	}
	nftp_out_puts(o, "\t\t}");
}

static void print_verdict(struct printer *pr, const struct cg_verdict *v, unsigned depth)
{
	const char *word = v->code == CG_VERDICT_GOTO ? "goto" : "jump";

	switch (v->code) {
	case CG_VERDICT_ACCEPT: nftp_out_puts(pr->o, "accept"); break;
	case CG_VERDICT_DROP: nftp_out_puts(pr->o, "drop"); break;
	case CG_VERDICT_QUEUE: nftp_out_puts(pr->o, "queue"); break;
	case CG_VERDICT_STOLEN: nftp_out_puts(pr->o, "stolen"); break;
	case CG_VERDICT_CONTINUE: nftp_out_puts(pr->o, "continue"); break;
	case CG_VERDICT_BREAK: nftp_out_puts(pr->o, "break"); break;
	case CG_VERDICT_RETURN: nftp_out_puts(pr->o, "return"); break;
	case CG_VERDICT_JUMP:
	case CG_VERDICT_GOTO:
		if (v->chain && (v->chain->flags & NFT_CHAIN_BINDING) && depth < 8 && v->chain->table)
			print_binding(pr->o, v->chain, word, v->chain->table->family, depth);
		else
			print_chain_name(pr->o, v, word);
		break;
	default:
		nftp_out_puts(pr->o, "/* unsupported: verdict */");
		break;
	}
}

/* fib_expr_print(): the lookup's inputs joined by " . ", flags it has no
 * word for in hex, then the result */
static void print_fib(struct out *o, const struct node *n)
{
	static const struct { uint32_t flag; const char *word; } words[] = {
		{ NFTA_FIB_F_SADDR, "saddr" }, { NFTA_FIB_F_DADDR, "daddr" }, { NFTA_FIB_F_MARK, "mark" },
		{ NFTA_FIB_F_IIF, "iif" }, { NFTA_FIB_F_OIF, "oif" },
	};
	static const char *const results[] = {
		[NFT_FIB_RESULT_OIF] = "oif", [NFT_FIB_RESULT_OIFNAME] = "oifname",
		[NFT_FIB_RESULT_ADDRTYPE] = "type",
	};
	uint32_t flags = n->fib_flags & ~(uint32_t)NFTA_FIB_F_PRESENT;

	nftp_out_puts(o, "fib ");
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		if (!(flags & words[i].flag))
			continue;
		nftp_out_puts(o, words[i].word);
		flags &= ~words[i].flag;
		if (flags)
			nftp_out_puts(o, " . ");
	}
	if (flags)
		nftp_out_printf(o, "0x%x", flags);
	nftp_out_printf(o, " %s", n->key < ARRAY_SIZE(results) && results[n->key] ? results[n->key] : "unknown");
}

static bool set_anonymous(const struct cg_set *s)
{
	return s->flags & CG_SET_ANONYMOUS;
}

static void print_node(struct printer *pr, const struct node *n)
{
	struct out *o = pr->o;
	bool saved;

	switch (n->type) {
	case N_VALUE:
		print_value_node(pr, n);
		break;
	case N_PAYLOAD:
		print_payload(pr, n);
		break;
	case N_META:
		print_meta_key(o, n->key);
		break;
	case N_CT:
		print_ct_key(o, n->key, n->dir, n->dtype);
		break;
	case N_BINOP:
	case N_RELATIONAL:
		print_binop(pr, n);
		break;
	case N_UNARY:
		print_node(pr, n->left);
		break;
	case N_PREFIX:
		print_node(pr, n->left);
		nftp_out_printf(o, "/%u", n->prefix_len);
		break;
	case N_RANGE:
		saved = pr->numeric;
		pr->numeric = true;
		print_node(pr, n->left);
		nftp_out_puts(o, "-");
		print_node(pr, n->right);
		pr->numeric = saved;
		break;
	case N_CONCAT:
		print_items(pr, n, " . ");
		break;
	case N_LIST:
		print_items(pr, n, ",");
		break;
	case N_SET:
		nftp_out_puts(o, "{ ");
		print_items(pr, n, ", ");
		nftp_out_puts(o, " }");
		break;
	case N_SET_REF:
		if (set_anonymous(n->set) && (n->set->flags & CG_SET_LAZY)) {
			if (n->set->n_elems_seen)
				nftp_out_printf(o, "{ /* %u+ elements not listed */ }", n->set->n_elems_seen);
			else
				nftp_out_puts(o, "{ /* elements not listed */ }");
		} else if (set_anonymous(n->set) && n->set_init)
			print_node(pr, n->set_init);
		else
			nftp_out_printf(o, "@%s", n->set->name ? n->set->name : "?");
		break;
	case N_MAP:
		print_node(pr, n->left);
		nftp_out_puts(o, n->right->type == N_SET_REF && nftp_set_is_vmap(n->right->set) ? " vmap " : " map ");
		print_node(pr, n->right);
		break;
	case N_MAPPING:
		print_node(pr, n->left);
		nftp_out_puts(o, " : ");
		print_node(pr, n->right);
		break;
	case N_VERDICT:
		print_verdict(pr, n->verdict, 0);
		break;
	case N_CATCHALL:
		nftp_out_puts(o, "*");
		break;
	case N_FLAGCMP:
		print_node(pr, n->left);
		nftp_out_puts(o, n->op == OP_NEQ ? " != " : " ");
		print_node(pr, n->items[0]);
		nftp_out_puts(o, " / ");
		print_node(pr, n->right);
		break;
	case N_FIB:
		print_fib(o, n);
		break;
	case N_TEXT:
		nftp_out_puts(o, n->what);
		if (n->left) {
			nftp_out_puts(o, " ");
			print_node(pr, n->left);
		}
		if (n->suffix)
			nftp_out_puts(o, n->suffix);
		break;
	case N_UNSUPPORTED:
		nftp_out_printf(o, "/* unsupported: %s */", n->what ? n->what : "?");
		break;
	}
}

/* ==== statements ============================================================== */

static const char *log_level_name(uint32_t level)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit",
	};

	return level < ARRAY_SIZE(names) ? names[level] : "unknown";
}

static void print_log(struct out *o, const struct cg_expr *e)
{
	uint32_t f = e->log.logflags;

	nftp_out_puts(o, "log");
	if (e->log.prefix)
		nftp_out_printf(o, " prefix \"%s\"", e->log.prefix);
	if (e->log.present & (1u << NFTA_LOG_GROUP))
		nftp_out_printf(o, " group %u", e->log.group);
	if (e->log.present & (1u << NFTA_LOG_SNAPLEN))
		nftp_out_printf(o, " snaplen %u", e->log.snaplen);
	if (e->log.present & (1u << NFTA_LOG_QTHRESHOLD))
		nftp_out_printf(o, " queue-threshold %u", e->log.qthreshold);
	if ((e->log.present & (1u << NFTA_LOG_LEVEL)) && e->log.level != 4)
		nftp_out_printf(o, " level %s", log_level_name(e->log.level));
	if ((f & NF_LOG_MASK) == NF_LOG_MASK) {
		nftp_out_puts(o, " flags all");
		return;
	}
	if (f & (NF_LOG_TCPSEQ | NF_LOG_TCPOPT)) {
		nftp_out_puts(o, " flags tcp");
		if (f & NF_LOG_TCPSEQ)
			nftp_out_puts(o, " sequence");
		if (f & NF_LOG_TCPOPT)
			nftp_out_puts(o, f & NF_LOG_TCPSEQ ? ",options" : " options");
	}
	if (f & NF_LOG_IPOPT)
		nftp_out_puts(o, " flags ip options");
	if (f & NF_LOG_UID)
		nftp_out_puts(o, " flags skuid");
	if (f & NF_LOG_MACDECODE)
		nftp_out_puts(o, " flags ether");
}

static const char *time_unit(uint64_t u)
{
	switch (u) {
	case 1: return "second";
	case 60: return "minute";
	case 60 * 60: return "hour";
	case 60 * 60 * 24: return "day";
	case 60 * 60 * 24 * 7: return "week";
	}
	return "error";
}

/* get_rate(): the largest of bytes, kbytes, mbytes that divides exactly */
static const char *data_unit(uint64_t bytes, uint64_t *rate)
{
	static const char *const units[] = { "bytes", "kbytes", "mbytes" };
	unsigned i = 0;

	if (bytes)
		for (; i + 1 < ARRAY_SIZE(units) && bytes % 1024 == 0; i++)
			bytes /= 1024;
	*rate = bytes;
	return units[i];
}

static void print_limit(struct out *o, const struct cg_expr *e)
{
	const char *over = e->limit.flags & NFT_LIMIT_F_INV ? "over " : "";
	uint64_t rate, burst;
	const char *unit;

	if (!e->limit.set) {
		nftp_out_puts(o, "limit /* unsupported: rate not collected */");
		return;
	}
	if (e->limit.type == NFT_LIMIT_PKT_BYTES) {
		unit = data_unit(e->limit.rate, &rate);
		nftp_out_printf(o, "limit rate %s%llu %s/%s", over, (unsigned long long)rate, unit,
			   time_unit(e->limit.unit));
		if (e->limit.burst) {
			unit = data_unit(e->limit.burst, &burst);
			nftp_out_printf(o, " burst %llu %s", (unsigned long long)burst, unit);
		}
		return;
	}
	nftp_out_printf(o, "limit rate %s%llu/%s", over, (unsigned long long)e->limit.rate,
			time_unit(e->limit.unit));
	if (e->limit.burst && e->limit.burst != 5)
		nftp_out_printf(o, " burst %u packets", e->limit.burst);
}

/* The ICMP code a reject sends: the collected one, or for a hand-built rule
 * the code a plain "reject" of the type writes (which nft prints as nothing). */
static unsigned reject_code(const struct stmt *s)
{
	if (s->src->reject.code_set)
		return s->src->reject.code;
	switch (s->src->reject.type) {
	case NFT_REJECT_ICMPX_UNREACH:
		return NFT_REJECT_ICMPX_PORT_UNREACH;
	case NFT_REJECT_ICMP_UNREACH:
		return s->reject.family == NFPROTO_IPV6 ? 4 /* ICMP6_DST_UNREACH_NOPORT */
							: 3 /* ICMP_PORT_UNREACH */;
	default:
		return 0;
	}
}

static void print_reject_code(struct out *o, const char *kind, const struct dtype *dt, unsigned code)
{
	struct num v = nftp_num_from_u64(code);
	struct node n = { .type = N_VALUE, .dtype = dt, .byteorder = BO_BIG, .len = 8, .value = &v };

	nftp_out_printf(o, " with %s ", kind);
	nftp_print_by_type(o, &n, dt);
}

/* reject_stmt_print() */
static void print_reject(struct out *o, const struct stmt *s)
{
	unsigned code = reject_code(s);

	nftp_out_puts(o, "reject");
	switch (s->src->reject.type) {
	case NFT_REJECT_TCP_RST:
		nftp_out_puts(o, " with tcp reset");
		break;
	case NFT_REJECT_ICMPX_UNREACH:
		if (code != NFT_REJECT_ICMPX_PORT_UNREACH)
			print_reject_code(o, "icmpx", &nftp_dt_icmpx_code, code);
		break;
	case NFT_REJECT_ICMP_UNREACH:
		if (s->reject.family == NFPROTO_IPV4 && (s->reject.verbose || code != 3))
			print_reject_code(o, "icmp", &nftp_dt_icmp_code, code);
		else if (s->reject.family == NFPROTO_IPV6 && (s->reject.verbose || code != 4))
			print_reject_code(o, "icmpv6", &nftp_dt_icmpv6_code, code);
		break;
	default:
		nftp_out_printf(o, " /* unsupported: type %u */", s->src->reject.type);
		break;
	}
}

static void print_nat(struct printer *pr, const struct stmt *s)
{
	static const char *const kinds[] = {
		[NAT_SNAT] = "snat", [NAT_DNAT] = "dnat", [NAT_MASQ] = "masquerade", [NAT_REDIR] = "redirect",
	};
	struct out *o = pr->o;
	const struct node *a = s->nat.addr;
	uint32_t f = s->nat.flags;
	const char *delim = " ";

	nftp_out_puts(o, kinds[s->nat.kind]);
	if (a || s->nat.proto) {
		if (s->nat.family == NFPROTO_IPV4)
			nftp_out_puts(o, " ip");
		else if (s->nat.family == NFPROTO_IPV6)
			nftp_out_puts(o, " ip6");
		if (s->nat.type_flags & NAT_F_PREFIX)
			nftp_out_puts(o, " prefix");
		nftp_out_puts(o, " to");
	}
	if (a) {
		nftp_out_puts(o, " ");
		if (s->nat.proto && a->type == N_VALUE && a->dtype == &nftp_dt_ip6addr) {
			nftp_out_puts(o, "[");
			print_node(pr, a);
			nftp_out_puts(o, "]");
		} else if (s->nat.proto && a->type == N_RANGE && a->left->dtype == &nftp_dt_ip6addr) {
			nftp_out_puts(o, "[");
			print_node(pr, a->left);
			nftp_out_puts(o, "]-[");
			print_node(pr, a->right);
			nftp_out_puts(o, "]");
		} else {
			print_node(pr, a);
		}
	}
	if (s->nat.proto) {
		if (!a)
			nftp_out_puts(o, " ");
		nftp_out_puts(o, ":");
		print_node(pr, s->nat.proto);
	}
	if (f & NF_NAT_RANGE_PROTO_RANDOM) {
		nftp_out_printf(o, "%srandom", delim);
		delim = ",";
	}
	if (f & NF_NAT_RANGE_PROTO_RANDOM_FULLY) {
		nftp_out_printf(o, "%sfully-random", delim);
		delim = ",";
	}
	if (f & NF_NAT_RANGE_PERSISTENT)
		nftp_out_printf(o, "%spersistent", delim);
}

/* whether a statement prints; false for register loads shown by their user */
static bool stmt_prints(const struct stmt *s)
{
	return !(s->type == S_UNSUPPORTED && s->loads && s->consumed);
}

static void print_stmt(struct printer *pr, const struct stmt *s, unsigned depth)
{
	struct out *o = pr->o;

	switch (s->type) {
	case S_EXPR:
		print_node(pr, s->expr);
		break;
	case S_VERDICT:
		print_verdict(pr, s->expr->verdict, depth);
		break;
	case S_COUNTER:
		/* the model keeps no packet or byte counts */
		nftp_out_puts(o, "counter");
		break;
	case S_META:
		print_meta_key(o, s->key);
		nftp_out_puts(o, " set ");
		print_node(pr, s->expr);
		break;
	case S_CT:
		print_ct_key(o, s->key, s->dir, NULL);
		nftp_out_puts(o, " set ");
		print_node(pr, s->expr);
		break;
	case S_PAYLOAD:
		print_node(pr, s->target);
		nftp_out_puts(o, " set ");
		print_node(pr, s->expr);
		break;
	case S_LOG:
		print_log(o, s->src);
		break;
	case S_LIMIT:
		print_limit(o, s->src);
		break;
	case S_QUOTA:
		/* the model keeps neither the quota nor its use */
		nftp_out_puts(o, "/* unsupported: quota */");
		break;
	case S_REJECT:
		print_reject(o, s);
		break;
	case S_NAT:
		print_nat(pr, s);
		break;
	case S_NOTRACK:
		nftp_out_puts(o, "notrack");
		break;
	case S_XT:
		nftp_out_printf(o, "xt %s \"%s\"", s->src->type == CG_EXPR_XT_TARGET ? "target" : "match",
			   s->src->xt.name ? s->src->xt.name : "?");
		break;
	case S_TEXT:
		if (s->what)
			nftp_out_puts(o, s->what);
		for (size_t i = 0; i < ARRAY_SIZE(s->args); i++) {
			if (s->args[i])
				print_node(pr, s->args[i]);
			if (s->texts[i])
				nftp_out_puts(o, s->texts[i]);
		}
		break;
	case S_UNSUPPORTED:
		nftp_out_printf(o, "/* unsupported: %s */", s->what);
		break;
	}
}

/* ==== a rule ================================================================== */

/* netlink_delinearize_rule() + nftp_rule_print() */
void nftp_rule_print(struct out *o, const struct cg_rule *r, uint8_t family, unsigned depth)
{
	struct arena scratch = { 0 };
	struct ctx c = { .a = &scratch, .family = family, .table = r->chain ? r->chain->table : NULL };
	struct stmt_list list = { 0 };
	struct printer pr = { .o = o };
	bool first = true;
	/* the statements point into it: it stays until the rule is printed */
	struct cg_expr_buf eb;
	const struct cg_expr *ex = rule_exprs(r, &eb);

	nftp_rule_delinearize(&c, ex, r->n_exprs, &list);
	nftp_rule_postprocess(&c, &list);
	for (struct stmt *s = list.head; s; s = s->next) {
		if (!stmt_prints(s))
			continue;
		if (!first)
			nftp_out_puts(o, " ");
		print_stmt(&pr, s, depth);
		first = false;
	}
	if (r->comment)
		nftp_out_printf(o, "%scomment \"%s\"", first ? "" : " ", r->comment);
	arena_free(&scratch);
	expr_buf_free(&eb);
}
