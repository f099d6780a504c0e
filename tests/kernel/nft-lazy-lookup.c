/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs nft_collect() in the current network namespace, then set_lookup() for
 * every line "FAMILY TABLE SET HEXKEY" read from stdin, printing one line per
 * key:
 *
 *   FAMILY TABLE SET HEXKEY match KEY [data=HEX] [verdict=CODE[:CHAIN|:CHAIN?]]
 *   FAMILY TABLE SET HEXKEY nomatch
 *   FAMILY TABLE SET HEXKEY unknown WHY
 *
 * (KEY is the element's key: an interval set's range start, "*" for the
 * catch-all; a jump target ends in '?' when it did not resolve). The output
 * does not say whether a set was dumped or is lazy, so a run with
 * CGNATCHECK_SET_DUMP_MAX=0 must print exactly what a run that dumps prints.
 *
 *   -x CMD   run CMD (sh -c) after collecting and before the lookups
 *   -s       print "sets=N lazy=L elems=E seconds=S" (the collection) to stderr
 * Exit 0, 1 when nft_collect() failed, 2 on bad input. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "../lib/nft-dump-util.h"

static const struct cg_set *find(const struct cg_ruleset *rs, const char *family, const char *table,
				  const char *set)
{
	for (uint32_t i = 0; i < rs->n_tables; i++) {
		const struct cg_table *t = &rs->tables[i];

		if (strcmp(family_to_string(t->family), family) == 0 && strcmp(t->name, table) == 0)
			return set_find(t, set);
	}
	return NULL;
}

static void print_answer(int q, const struct cg_set_elem *e, const char *why)
{
	if (q < 0) {
		printf(" unknown %s\n", why ? why : strerror(-q));
		return;
	}
	if (q == 0) {
		printf(" nomatch\n");
		return;
	}
	printf(" match ");
	if (e->catchall)
		putchar('*');
	else
		print_hex(e->key.bytes, e->key.len);
	if (e->data.len) {
		printf(" data=");
		print_hex(e->data.bytes, e->data.len);
	}
	if (e->verdict.code != CG_VERDICT_NONE) {
		printf(" verdict=%s", verdict_to_string(e->verdict.code));
		if (e->verdict.chain_name)
			printf(":%s%s", e->verdict.chain_name, e->verdict.chain ? "" : "?");
	}
	putchar('\n');
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct cg_ruleset rs = { 0 };
	const char *cmd = NULL;
	bool summary = false;
	char line[1024];
	double t0, t1;
	int opt, r = 0;

	if (getenv("CG_DEBUG"))
		cg_log_set_level(CG_LOG_DEBUG);
	while ((opt = getopt(argc, argv, "x:s")) != -1) {
		switch (opt) {
		case 'x': cmd = optarg; break;
		case 's': summary = true; break;
		default:
			fprintf(stderr, "usage: %s [-x CMD] [-s] <keys\n", argv[0]);
			return 2;
		}
	}
	t0 = now();
	if (nft_collect(&rs) < 0)
		return 1;
	t1 = now();
	if (summary) {
		struct ruleset_counts n;

		ruleset_count(&rs, &n);
		fprintf(stderr, "sets=%llu lazy=%llu elems=%llu seconds=%.3f\n", (unsigned long long)n.sets,
			(unsigned long long)n.lazy_sets, (unsigned long long)n.elems, t1 - t0);
	}
	if (cmd && system(cmd) != 0) {
		fprintf(stderr, "-x %s failed\n", cmd);
		ruleset_free(&rs);
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		char family[16], table[257], set[257], hex[257];
		const struct cg_set_elem *e = NULL;
		const struct cg_set *s;
		const char *why = NULL;
		uint8_t key[64];
		int len, q;

		if (sscanf(line, "%15s %256s %256s %256s", family, table, set, hex) != 4)
			continue;
		len = parse_hex(hex, key, sizeof(key));
		s = find(&rs, family, table, set);
		if (len < 0 || !s) {
			fprintf(stderr, "bad line (no such set, or a bad key): %s", line);
			r = 2;
			break;
		}
		q = set_lookup(s, key, (uint32_t)len, &e, &why);
		printf("%s %s %s %s", family, table, set, hex);
		print_answer(q, e, why);
	}
	ruleset_free(&rs);
	return r;
}
