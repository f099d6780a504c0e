/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs nft_collect() in the current network namespace and prints what it
 * collected in a canonical, line-oriented form the tests compare with
 * `nft -j list ruleset`:
 *
 *   generation N
 *   table FAMILY NAME backend=B handle=H flags=F
 *   set NAME handle=H flags=a,b keytype=T keylen=L datatype=T datalen=L fields=4,2 elems=N ranges=M
 *   chain NAME handle=H [flags=F] hook=HOOK prio=P policy=V type=T dev=D  (base chains)
 *   chain NAME handle=H [flags=F]                                        (regular chains)
 *   rule CHAIN #INDEX handle=H exprs=E,E,... comment="..."
 *
 * In exprs, references carry their target (jump:NAME, lookup:@SET) and a
 * trailing '?' when it did not resolve. Options:
 *   -e            also print every set element and every range
 *   -s            print only a summary line (counts) and the collection time
 *   -l TABLE SET HEXKEY   look KEY up in the set (family-less table name) and
 *                 print "match" with the element, or "nomatch"
 * CG_DEBUG=1 in the environment logs the collector's debug messages (retries).
 * Exit 0, or 1 when nft_collect() failed. */
#include "config.h"

#include <getopt.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "../lib/nft-dump-util.h"

/* A JSON string, so any comment survives the round trip to python. */
static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* Text inside a token: what is not plainly safe becomes %XX, so a token
 * never holds a space or a comma. */
static void print_token(const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '_' || ch == '-' || ch == '.')
			putchar(ch);
		else
			printf("%%%02X", ch);
	}
}

static void print_verdict(const struct cg_verdict *v)
{
	printf("%s", verdict_to_string(v->code));
	if (v->code == CG_VERDICT_JUMP || v->code == CG_VERDICT_GOTO)
		printf(":%s%s", v->chain_name ? v->chain_name : "", v->chain ? "" : "?");
}

static void print_expr(const struct cg_expr *e)
{
	switch (e->type) {
	case CG_EXPR_IMMEDIATE:
		if (e->immediate.dreg == 0) {
			print_verdict(&e->immediate.verdict);
			return;
		}
		break;
	case CG_EXPR_LOOKUP:
		printf("lookup:%s@%s%s", e->lookup.invert ? "!" : "",
		       e->lookup.set_name ? e->lookup.set_name : "", e->lookup.set ? "" : "?");
		return;
	case CG_EXPR_XT_MATCH:
	case CG_EXPR_XT_TARGET:
		printf("%s:%s", expr_type_to_string(e->type), e->xt.name);
		return;
	case CG_EXPR_UNKNOWN:
		printf("unknown:%s", e->unknown.name);
		return;
	case CG_EXPR_LIMIT:
		printf("limit:%llu/%llu", (unsigned long long)e->limit.rate, (unsigned long long)e->limit.unit);
		if (e->limit.burst)
			printf("+%u", e->limit.burst);
		return;
	case CG_EXPR_LOG:
		printf("log");
		if (e->log.present & (1u << NFTA_LOG_GROUP))
			printf(":group=%u", e->log.group);
		if (e->log.prefix) {
			printf(":prefix=");
			print_token(e->log.prefix);
		}
		return;
	case CG_EXPR_PAYLOAD_SET:
	case CG_EXPR_META_SET:
	case CG_EXPR_CT_SET:
		printf("%s_set", expr_type_to_string(e->type));
		return;
	default:
		break;
	}
	printf("%s", expr_type_to_string(e->type));
}

static void print_rule(const struct cg_rule *r)
{
	printf("rule %s #%u handle=%llu exprs=", r->chain->name, r->index, (unsigned long long)r->handle);
	struct cg_expr_buf eb;
	const struct cg_expr *ex = rule_exprs(r, &eb);

	for (uint32_t i = 0; i < r->n_exprs; i++) {
		if (i)
			putchar(',');
		print_expr(&ex[i]);
	}
	expr_buf_free(&eb);
	if (r->comment) {
		printf(" comment=");
		print_json_string(r->comment);
	}
	putchar('\n');
}

static void print_chain(const struct cg_chain *c)
{
	printf("chain %s handle=%llu", c->name, (unsigned long long)c->handle);
	/* NFT_CHAIN_BASE is what hook= already says */
	if (c->flags & ~(uint32_t)NFT_CHAIN_BASE)
		printf(" flags=%u", c->flags & ~(uint32_t)NFT_CHAIN_BASE);
	if (c->base) {
		const char *hook = hook_to_string(c->table->family, c->hook);

		if (hook)
			printf(" hook=%s", hook);
		else
			printf(" hook=%u", c->hook);
		printf(" prio=%d policy=%s type=%s", c->priority, verdict_to_string(c->policy),
		       c->type ? c->type : "-");
		for (uint32_t i = 0; i < c->n_devs; i++)
			printf("%s%s", i ? "," : " dev=", c->devs[i]);
	}
	putchar('\n');
	for (uint32_t i = 0; i < c->n_rules; i++)
		print_rule(&c->rules[i]);
}

static void print_set_flags(uint32_t flags)
{
	static const struct { uint32_t flag; const char *name; } names[] = {
		{ CG_SET_INTERVAL, "interval" }, { CG_SET_MAP, "map" },
		{ CG_SET_CONCAT, "concat" }, { CG_SET_TIMEOUT, "timeout" },
		{ CG_SET_ANONYMOUS, "anonymous" }, { CG_SET_CONSTANT, "constant" },
		{ CG_SET_EVAL, "eval" }, { CG_SET_LAZY, "lazy" },
	};
	bool first = true;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (flags & names[i].flag) {
			printf("%s%s", first ? "" : ",", names[i].name);
			first = false;
		}
	}
	if (first)
		printf("-");
}

static void print_elem(const struct cg_set_elem *e)
{
	printf("  elem ");
	if (e->catchall)
		printf("*");
	print_hex(e->key.bytes, e->key.len);
	if (e->key_end.len) {
		putchar('-');
		print_hex(e->key_end.bytes, e->key_end.len);
	}
	if (e->interval_end)
		printf(" end");
	if (e->data.len) {
		printf(" data=");
		print_hex(e->data.bytes, e->data.len);
	}
	if (e->verdict.code != CG_VERDICT_NONE) {
		printf(" verdict=");
		print_verdict(&e->verdict);
	}
	putchar('\n');
}

static void print_set(const struct cg_set *s, bool elems)
{
	printf("set %s handle=%llu flags=", s->name, (unsigned long long)s->handle);
	print_set_flags(s->flags);
	printf(" keytype=%u keylen=%u datatype=%u datalen=%u", s->key_type, s->key_len, s->data_type,
	       s->data_len);
	for (uint8_t i = 0; i < s->n_fields; i++)
		printf("%s%u", i ? "," : " fields=", s->field_len[i]);
	printf(" elems=%u ranges=%u\n", s->n_elems, s->n_intervals);
	if (!elems)
		return;
	for (uint32_t i = 0; i < s->n_elems; i++)
		print_elem(&s->elems[i]);
	for (uint32_t i = 0; i < s->n_intervals; i++) {
		printf("  range ");
		print_hex(s->intervals[i].lo, s->key_len);
		putchar('-');
		print_hex(s->intervals[i].hi, s->key_len);
		putchar('\n');
	}
}

static void print_ruleset(const struct cg_ruleset *rs, bool elems)
{
	printf("generation %u\n", rs->nft_generation);
	for (uint32_t i = 0; i < rs->n_tables; i++) {
		const struct cg_table *t = &rs->tables[i];

		printf("table %s %s backend=%s handle=%llu flags=%u\n", family_to_string(t->family), t->name,
		       backend_to_string(t->backend), (unsigned long long)t->handle, t->flags);
		for (uint32_t j = 0; j < t->n_sets; j++)
			print_set(&t->sets[j], elems);
		for (uint32_t j = 0; j < t->n_chains; j++)
			print_chain(&t->chains[j]);
	}
}

static void print_summary(const struct cg_ruleset *rs, double seconds)
{
	struct ruleset_counts n;

	ruleset_count(rs, &n);
	printf("tables=%u chains=%llu rules=%llu sets=%llu elems=%llu ranges=%llu seconds=%.3f\n",
	       rs->n_tables, (unsigned long long)n.chains, (unsigned long long)n.rules,
	       (unsigned long long)n.sets, (unsigned long long)n.elems, (unsigned long long)n.ranges, seconds);
}

static int do_lookup(const struct cg_ruleset *rs, const char *table, const char *set, const char *hex)
{
	uint8_t key[64];
	int len = parse_hex(hex, key, sizeof(key));

	if (len < 0) {
		fprintf(stderr, "bad hex key '%s'\n", hex);
		return 2;
	}
	for (uint32_t i = 0; i < rs->n_tables; i++) {
		const struct cg_set *s;

		if (strcmp(rs->tables[i].name, table) != 0 || !(s = set_find(&rs->tables[i], set)))
			continue;
		const struct cg_set_elem *e;
		const char *why = NULL;
		int q = set_lookup(s, key, (uint32_t)len, &e, &why);
		if (q < 0) {
			printf("unknown %s\n", why ? why : strerror(-q));
			return 0;
		}
		if (q == 0) {
			printf("nomatch\n");
			return 0;
		}
		printf("match");
		print_elem(e);
		return 0;
	}
	fprintf(stderr, "no set %s in a table %s\n", set, table);
	return 2;
}

int main(int argc, char **argv)
{
	struct cg_ruleset rs = { 0 };
	struct timespec t0, t1;
	bool elems = false, summary = false;
	int opt, r;

	/* CG_DEBUG=1: log retries of the dump (the concurrency test counts them) */
	if (getenv("CG_DEBUG"))
		cg_log_set_level(CG_LOG_DEBUG);
	while ((opt = getopt(argc, argv, "esl")) != -1) {
		switch (opt) {
		case 'e': elems = true; break;
		case 's': summary = true; break;
		case 'l':
			if (argc - optind != 3) {
				fprintf(stderr, "usage: %s -l TABLE SET HEXKEY\n", argv[0]);
				return 2;
			}
			if (nft_collect(&rs) < 0)
				return 1;
			r = do_lookup(&rs, argv[optind], argv[optind + 1], argv[optind + 2]);
			ruleset_free(&rs);
			return r;
		default:
			fprintf(stderr, "usage: %s [-e] [-s] | -l TABLE SET HEXKEY\n", argv[0]);
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = nft_collect(&rs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r < 0)
		return 1;
	if (summary)
		print_summary(&rs, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	else
		print_ruleset(&rs, elems);
	ruleset_free(&rs);
	return 0;
}
