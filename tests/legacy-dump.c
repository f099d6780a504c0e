/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Collects the running namespace's iptables rulesets and prints them as
 * iptables-save would (without counters and comment lines), for the netns
 * tests to diff against iptables-legacy-save / iptables-nft-save.
 *
 *   legacy-dump [--nft] [-4|-6] [-t TABLE] [--stats] [--no-print]
 *
 * Default: the legacy tables (legacy_collect()); --nft: the iptables-nft
 * tables (nft_collect()). --stats prints the collection time, the rule count
 * and the arena's size on stderr. Exit 0, or 1 when collection failed. */
#include "config.h"

#include <netinet/in.h>    /* before <linux/netfilter.h>: glibc first */
#include <linux/netfilter.h>
#include <string.h>
#include <time.h>

#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/xt.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct cg_ruleset rs = { 0 };
	bool nft = false, stats = false, print = true;
	uint8_t family = NFPROTO_UNSPEC;
	const char *table = NULL;
	uint64_t n_rules = 0;
	double t0, t1;
	int r;

	for (int i = 1; i < argc; i++) {
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
		else if (!strcmp(argv[i], "--no-print"))
			print = false;
		else if (!strcmp(argv[i], "-v"))
			cg_log_set_level(CG_LOG_DEBUG);
		else {
			fprintf(stderr, "usage: %s [--nft] [-4|-6] [-t TABLE] [--stats] [--no-print] [-v]\n", argv[0]);
			return 2;
		}
	}

	t0 = now_ms();
	r = nft ? nft_collect(&rs) : legacy_collect(&rs);
	t1 = now_ms();
	if (r < 0) {
		ruleset_free(&rs);
		return 1;
	}
	if (nft)
		xt_ruleset_decode(&rs);

	for (uint32_t i = 0; i < rs.n_tables; i++) {
		const struct cg_table *t = &rs.tables[i];
		enum cg_backend want = nft ? CG_BACKEND_IPTABLES_NFT : CG_BACKEND_IPTABLES_LEGACY;

		if (t->backend != want)
			continue;
		if (family != NFPROTO_UNSPEC && t->family != family)
			continue;
		if (table && strcmp(t->name, table) != 0)
			continue;
		for (uint32_t c = 0; c < t->n_chains; c++)
			n_rules += t->chains[c].n_rules;
		if (print)
			ipt_print_table(stdout, t);
	}
	if (stats)
		fprintf(stderr, "collect_ms=%.1f rules=%llu arena_bytes=%zu\n", t1 - t0,
			(unsigned long long)n_rules, rs.arena.used);
	ruleset_free(&rs);
	return 0;
}
