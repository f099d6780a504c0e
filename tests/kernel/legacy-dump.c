/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Collects the running namespace's iptables rulesets and prints them as
 * iptables-save would (without counters and comment lines), for the netns
 * tests to diff against iptables-legacy-save / iptables-nft-save.
 *
 *   legacy-dump [--nft] [-4|-6] [-t TABLE] [--stats] [--check] [--no-print]
 *   legacy-dump [-4|-6] --export TABLE > file    (a fuzz corpus input)
 *
 * Default: the legacy tables (legacy_collect()); --nft: the iptables-nft
 * tables (nft_collect()). --stats prints the collection's wall and CPU time,
 * the rule count and the arena's size on stderr. --check counts jumps whose chain did not
 * resolve and xt expressions the decoder did not understand ("unresolved=N
 * undecoded=M" on stderr) and fails on an unresolved jump. The sets -m set
 * matches name are read as the audit reads them (ipset_collect()). Exit 0, or 1
 * when collection (or --check) failed. */
#include "config.h"

#include <netinet/in.h>    /* before <linux/netfilter.h>: glibc first */
#include <linux/netfilter.h>
#include <string.h>
#include <time.h>

#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/collect-netfilter.h"
#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/xt.h"

static double now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct cg_ruleset rs = { 0 };
	bool nft = false, stats = false, print = true, check = false;
	uint64_t unresolved = 0, undecoded = 0;
	uint8_t family = NFPROTO_UNSPEC;
	const char *table = NULL;
	uint64_t n_rules = 0;
	double t0, t1, c0, c1;
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--export") && i + 1 < argc) {
			/* the fuzz target's input: a family byte, then the snapshot */
			uint8_t f = family == NFPROTO_IPV6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
			fputc(f == NFPROTO_IPV6, stdout);
			r = legacy_snapshot_export(f, argv[i + 1], stdout);
			if (r < 0)
				fprintf(stderr, "export %s: %s\n", argv[i + 1], strerror(-r));
			return r < 0 ? 1 : 0;
		}
		if (!strcmp(argv[i], "--nft"))
			nft = true;
		else if (!strcmp(argv[i], "-4"))
			family = NFPROTO_IPV4;
		else if (!strcmp(argv[i], "-6"))
			family = NFPROTO_IPV6;
		else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			table = argv[++i];
		else if (!strcmp(argv[i], "--stats"))
			stats = true;
		else if (!strcmp(argv[i], "--check"))
			check = true;
		else if (!strcmp(argv[i], "--no-print"))
			print = false;
		else if (!strcmp(argv[i], "-v"))
			cg_log_set_level(CG_LOG_DEBUG);
		else {
			fprintf(stderr, "usage: %s [--nft] [-4|-6] [-t TABLE] [--stats] [--check] [--no-print] [-v]\n", argv[0]);
			return 2;
		}
	}

	c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
	t0 = now_ms(CLOCK_MONOTONIC);
	r = nft ? nft_collect(&rs) : legacy_collect(&rs);
	t1 = now_ms(CLOCK_MONOTONIC);
	c1 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
	/* the names of the sets -m set matches look up, as the audit reads
	 * them (src/collect/netfilter.c); outside the timing above */
	if (r >= 0)
		r = ipset_collect(&rs);
	if (r < 0) {
		ruleset_free(&rs);
		return 1;
	}

	for (uint32_t i = 0; i < rs.n_tables; i++) {
		const struct cg_table *t = &rs.tables[i];
		enum cg_backend want = nft ? CG_BACKEND_IPTABLES_NFT : CG_BACKEND_IPTABLES_LEGACY;

		if (t->backend != want)
			continue;
		if (family != NFPROTO_UNSPEC && t->family != family)
			continue;
		if (table && strcmp(t->name, table) != 0)
			continue;
		for (uint32_t c = 0; c < t->n_chains; c++) {
			n_rules += t->chains[c].n_rules;
			for (uint32_t k = 0; k < t->chains[c].n_rules; k++) {
				const struct cg_rule *rule = &t->chains[c].rules[k];
				struct cg_expr_buf eb;
				const struct cg_expr *ex = rule_exprs(rule, &eb);

				for (uint32_t e = 0; e < rule->n_exprs; e++) {
					const struct cg_expr *x = &ex[e];

					if (x->type == CG_EXPR_IMMEDIATE &&
					    (x->immediate.verdict.code == CG_VERDICT_JUMP ||
					     x->immediate.verdict.code == CG_VERDICT_GOTO) &&
					    !x->immediate.verdict.chain)
						unresolved++;
					if ((x->type == CG_EXPR_XT_MATCH || x->type == CG_EXPR_XT_TARGET) &&
					    !x->xt.decoded)
						undecoded++;
				}
				expr_buf_free(&eb);
			}
		}
		if (print)
			ipt_print_table(stdout, t);
	}
	if (stats)
		fprintf(stderr, "collect_ms=%.1f collect_cpu_ms=%.1f rules=%llu arena_bytes=%zu\n", t1 - t0,
			c1 - c0, (unsigned long long)n_rules, rs.arena.used);
	if (check)
		fprintf(stderr, "unresolved=%llu undecoded=%llu\n", (unsigned long long)unresolved,
			(unsigned long long)undecoded);
	ruleset_free(&rs);
	return check && unresolved ? 1 : 0;
}
