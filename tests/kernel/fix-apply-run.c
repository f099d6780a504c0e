/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Applies a test exception (or removes every tagged rule) in the current
 * network namespace, for tests/kernel/fix-apply.sh:
 *
 *   fix-apply-run [--table T] [--family 4|6] --chain C (--match-drop | --index N)
 *   fix-apply-run --remove
 *   --src PREFIX     the exception's source instead of 100.100.2.136/32
 *   --race-once CMD  runs CMD after the nf_tables ruleset was read and
 *                    before the first batch (the generation check must
 *                    refuse that batch; "retried: attempt 2" on stderr)
 *
 * The exception is what cgnatcheck plans for DNS at 100.100.2.136 behind
 * eth0: -s 100.100.2.136/32 -i eth0 -p udp --sport 53 --ctstate
 * ESTABLISHED,RELATED, RETURN, tag cgnatcheck:test:dns. Prints "applied",
 * "unchanged" or "removed N". */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h> /* before the linux/ headers */
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/collect-netfilter.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/fix-apply.h"
#include "cgnatcheck/packet.h"

static const char *race_cmd;

/* --race-once CMD: runs CMD between the first read and the first batch */
static void race(unsigned attempt)
{
	if (attempt == 1 && race_cmd && system(race_cmd) != 0)
		fprintf(stderr, "--race-once command failed: %s\n", race_cmd);
	if (attempt > 1)
		fprintf(stderr, "retried: attempt %u\n", attempt);
}

static bool is_drop(const struct cg_rule *r)
{
	struct cg_expr_buf eb;
	const struct cg_expr *ex = rule_exprs(r, &eb);
	bool drop = false;

	for (uint32_t i = 0; i < r->n_exprs && !drop; i++) {
		const struct cg_expr *e = &ex[i];
		drop = e->type == CG_EXPR_IMMEDIATE && e->immediate.dreg == 0 &&
		       e->immediate.verdict.code == CG_VERDICT_DROP;
	}
	expr_buf_free(&eb);
	return drop;
}

static const struct cg_rule *find_rule(const struct cg_ruleset *rs, const char *table, uint8_t family,
				       const char *chain, bool match_drop, uint32_t index)
{
	for (uint32_t t = 0; t < rs->n_tables; t++) {
		const struct cg_table *tb = &rs->tables[t];
		if (tb->family != family || strcmp(tb->name, table) != 0)
			continue;
		for (uint32_t c = 0; c < tb->n_chains; c++) {
			const struct cg_chain *ch = &tb->chains[c];
			if (strcmp(ch->name, chain) != 0)
				continue;
			for (uint32_t i = 0; i < ch->n_rules; i++)
				if (match_drop ? is_drop(&ch->rules[i]) : ch->rules[i].index == index)
					return &ch->rules[i];
		}
	}
	return NULL;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "table", required_argument, NULL, 't' }, { "family", required_argument, NULL, 'f' },
		{ "chain", required_argument, NULL, 'c' }, { "match-drop", no_argument, NULL, 'd' },
		{ "index", required_argument, NULL, 'i' }, { "remove", no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' }, { "race-once", required_argument, NULL, 'R' },
		{ "src", required_argument, NULL, 's' }, {},
	};
	const char *table = "filter", *chain = NULL, *src = "100.100.2.136/32";
	bool match_drop = false, remove = false;
	uint8_t family = NFPROTO_IPV4;
	uint32_t index = 0;
	struct cg_ruleset rs = { 0 };
	struct remedy ex = { 0 };
	int o, r;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		switch (o) {
		case 't': table = optarg; break;
		case 'f': family = strcmp(optarg, "6") == 0 ? NFPROTO_IPV6 : NFPROTO_IPV4; break;
		case 'c': chain = optarg; break;
		case 'd': match_drop = true; break;
		case 'i': index = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'r': remove = true; break;
		case 'v': cg_log_set_level(CG_LOG_DEBUG); break;
		case 's': src = optarg; break;
		case 'R': race_cmd = optarg; fix_nft_test_hook = race; break;
		default: return 2;
		}
	}
	if (!remove && (!chain || (!match_drop && !index))) {
		fprintf(stderr, "usage: %s [--table T] [--family 4|6] --chain C (--match-drop|--index N) | --remove\n",
			argv[0]);
		return 2;
	}
	r = netfilter_collect(&rs);
	if (r < 0)
		return 1;
	if (remove) {
		unsigned n = 0;
		r = fix_remove_tagged(&rs, &n);
		if (r >= 0)
			printf("removed %u\n", n);
		goto out;
	}
	ex.before = find_rule(&rs, table, family, chain, match_drop, index);
	if (!ex.before) {
		fprintf(stderr, "no such rule in %s %s\n", table, chain);
		r = -ENOENT;
		goto out;
	}
	ex.accept = false;
	r = prefix_parse(src, &ex.src);
	if (r < 0) {
		fprintf(stderr, "bad --src %s\n", src);
		goto out;
	}
	snprintf(ex.iif, sizeof(ex.iif), "eth0");
	ex.l4proto = IPPROTO_UDP;
	ex.sport = 53;
	ex.ct_states = CG_CT_ESTABLISHED | CG_CT_RELATED;
	snprintf(ex.comment, sizeof(ex.comment), "cgnatcheck:test:dns");
	r = fix_apply(&ex);
	if (r >= 0)
		puts(r == FIX_UNCHANGED ? "unchanged" : "applied");
out:
	ruleset_free(&rs);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	return run(argc, argv);
}
