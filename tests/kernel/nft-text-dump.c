/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Collects the current network namespace's nf_tables ruleset with
 * nft_collect() and prints every native nftables rule rendered by
 * nft_rule_format(), one line each, for tests/kernel/nft-text-compare.py:
 *
 *   table TAB FAMILY TAB TABLE                         (each native table)
 *   FAMILY TAB TABLE TAB CHAIN TAB HANDLE TAB TEXT      (each of its rules)
 *
 * TEXT has backslash, tab and newline escaped (\\, \t, \n): a jump to an
 * anonymous chain spans lines, as nft prints it. Rules of iptables-nft
 * tables and of anonymous (binding) chains, which nft prints inside the
 * rule that jumps to them, are left out. Exit 0, 1 when collecting failed. */
#include "config.h"

#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/nft-text.h"

static void print_escaped(const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\': fputs("\\\\", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		default: putchar(*s); break;
		}
	}
}

static int print_rule(const struct cg_table *t, const struct cg_chain *c, const struct cg_rule *r)
{
	char small[256];
	int len = nft_rule_format(r, small, sizeof(small));
	_cleanup_free_ char *text = NULL;

	if (len < 0) {
		fprintf(stderr, "nft_rule_format: %d\n", len);
		return -1;
	}
	/* the snprintf contract: a second call with room for everything */
	if ((size_t)len >= sizeof(small)) {
		text = xmalloc((size_t)len + 1);
		if (nft_rule_format(r, text, (size_t)len + 1) != len) {
			fprintf(stderr, "nft_rule_format: length changed\n");
			return -1;
		}
	}
	printf("%s\t%s\t%s\t%llu\t", family_to_string(t->family), t->name, c->name,
	       (unsigned long long)r->handle);
	print_escaped(text ? text : small);
	putchar('\n');
	return 0;
}

int main(void)
{
	struct cg_ruleset rs = { 0 };
	int ret = 0;

	if (nft_collect(&rs) < 0)
		return 1;
	for (uint32_t i = 0; i < rs.n_tables; i++) {
		const struct cg_table *t = &rs.tables[i];

		if (t->backend != CG_BACKEND_NFTABLES)
			continue;
		printf("table\t%s\t%s\n", family_to_string(t->family), t->name);
		for (uint32_t j = 0; j < t->n_chains; j++) {
			const struct cg_chain *c = &t->chains[j];

			if (c->flags & NFT_CHAIN_BINDING)
				continue;
			for (uint32_t k = 0; k < c->n_rules; k++)
				if (print_rule(t, c, &c->rules[k]) < 0)
					ret = 1;
		}
	}
	ruleset_free(&rs);
	return ret;
}
