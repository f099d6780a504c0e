/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --keep's chain list (nft-chain-cache.c) against the kernel's, in the
 * current network namespace. Subscribes to the nf_tables notifications as
 * --keep does, then reads commands on stdin, one per line, answering each
 * with one line on stdout:
 *
 *   check    reads the queued notifications into the kept list (as --keep's
 *            drains do), collects the ruleset with it and again with a
 *            fresh dump, and compares every table's chains, in order (name,
 *            handle, hook, priority, type, policy, devices):
 *              same cache|dumped gen=G chains=N
 *              DIFF gen=G/G2: <the first difference>
 *            "cache": the list came from the notifications; "dumped": it
 *            was dumped (and recorded), as in --keep's first round.
 *   shrink   makes the notification socket's receive buffer small, so that
 *            a large commit overruns it (ENOBUFS), which must drop the list
 *   stats    prints the list's counters
 *
 * Exit 0 at the end of input, 1 on a collection failure. */
#include "config.h"

#include <libmnl/libmnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/nft-events.h"

struct lines {
	char **v;
	size_t n, cap;
};

static void lines_add(struct lines *l, const char *s)
{
	grow_array((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct lines){ 0 };
}

static void chains_of(const struct cg_ruleset *rs, struct lines *out)
{
	char buf[4096];

	for (uint32_t i = 0; i < rs->n_tables; i++) {
		const struct cg_table *t = &rs->tables[i];

		for (uint32_t j = 0; j < t->n_chains; j++) {
			const struct cg_chain *c = &t->chains[j];
			int n = snprintf(buf, sizeof(buf), "%s %s: %s handle=%llu flags=%u", family_to_string(t->family),
					 t->name, c->name, (unsigned long long)c->handle, c->flags);

			if (c->base) {
				n += snprintf(buf + n, sizeof(buf) - (size_t)n, " hook=%u prio=%d type=%s policy=%d",
					      c->hook, c->priority, c->type ? c->type : "-", (int)c->policy);
				for (uint32_t k = 0; k < c->n_devs; k++)
					n += snprintf(buf + n, sizeof(buf) - (size_t)n, " dev=%s", c->devs[k]);
			}
			lines_add(out, buf);
		}
	}
}

static int check(struct mnl_socket *nl, struct nft_chain_cache *cc)
{
	struct cg_ruleset kept = { 0 }, fresh = { 0 };
	struct nft_collect_opts o = { .chain_cache = cc };
	struct nft_chain_cache_stats before, after;
	struct lines a = { 0 }, b = { 0 };
	int r;

	nft_events_drain(nl, cc);
	nft_chain_cache_get_stats(cc, &before);
	r = nft_collect_opts(&kept, &o);
	if (r < 0)
		return r;
	nft_chain_cache_get_stats(cc, &after);
	r = nft_collect(&fresh);
	if (r < 0) {
		ruleset_free(&kept);
		return r;
	}
	chains_of(&kept, &a);
	chains_of(&fresh, &b);
	if (kept.nft_generation != fresh.nft_generation) {
		printf("DIFF gen=%u/%u: the generation moved between the two reads\n", kept.nft_generation,
		       fresh.nft_generation);
	} else if (a.n != b.n) {
		printf("DIFF gen=%u/%u: %zu chains kept, %zu dumped\n", kept.nft_generation, fresh.nft_generation,
		       a.n, b.n);
	} else {
		size_t i;

		for (i = 0; i < a.n && strcmp(a.v[i], b.v[i]) == 0; i++)
			;
		if (i < a.n)
			printf("DIFF gen=%u/%u: chain %zu: kept '%s', dumped '%s'\n", kept.nft_generation,
			       fresh.nft_generation, i, a.v[i], b.v[i]);
		else
			printf("same %s gen=%u chains=%zu\n", after.uses > before.uses ? "cache" : "dumped",
			       kept.nft_generation, a.n);
	}
	lines_free(&a);
	lines_free(&b);
	ruleset_free(&kept);
	ruleset_free(&fresh);
	return 0;
}

int main(void)
{
	struct mnl_socket *nl = nft_events_open();
	struct nft_chain_cache *cc;
	char line[256];
	int status = 0;

	if (!nl) {
		perror("nft-chain-cache-run: nft_events_open");
		return 1;
	}
	cc = nft_chain_cache_new(nl);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "check") == 0) {
			if (check(nl, cc) < 0) {
				printf("FAILED to collect\n");
				status = 1;
				break;
			}
		} else if (strcmp(line, "shrink") == 0) {
			int size = 4096;

			setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
			printf("shrunk\n");
		} else if (strcmp(line, "stats") == 0) {
			struct nft_chain_cache_stats st;

			nft_chain_cache_get_stats(cc, &st);
			printf("stats valid=%d gen=%u chains=%llu dumps=%llu uses=%llu commits=%llu\n", st.valid, st.gen,
			       (unsigned long long)st.chains, (unsigned long long)st.dumps,
			       (unsigned long long)st.uses, (unsigned long long)st.commits);
		} else if (*line) {
			printf("unknown command '%s'\n", line);
		}
	}
	nft_chain_cache_free(cc);
	mnl_socket_close(nl);
	return status;
}
