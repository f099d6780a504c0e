/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which base chains run at a hook, and in what order (nf_hook_entries are
 * sorted by priority; legacy tables register at their fixed priorities). */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/sim-netfilter.h"
#include "nf-internal.h"

#define N_INET_HOOKS (NF_INET_POST_ROUTING + 1)

struct chain_list {
	const struct cg_chain **v;
	size_t n, cap;
};

struct sim_index {
	struct chain_list hooks[2][N_INET_HOOKS];  /* [ipv4, ipv6][hook] */
	struct chain_list ingress;                 /* netdev and inet ingress */
};

static void list_add(struct chain_list *l, const struct cg_chain *ch)
{
	grow_array((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = ch;
}

static int by_priority(const void *a, const void *b)
{
	const struct cg_chain *x = *(const struct cg_chain *const *)a;
	const struct cg_chain *y = *(const struct cg_chain *const *)b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	/* Equal priority: nf_hook_entries_grow() inserts a new hook before
	 * the existing ones of the same priority, so the chain registered
	 * last runs first. Registration order is not in any dump; tables and
	 * their chains are dumped in creation order, so run them in reverse
	 * dump order. (Only side effects such as a mark set by one chain and
	 * matched by the other can tell the difference.) */
	return x > y ? -1 : x < y;
}

static bool chain_is_ingress_hook(const struct cg_chain *ch)
{
	return ch->table && (ch->table->family == NFPROTO_NETDEV ||
			     (ch->table->family == NFPROTO_INET && ch->hook == NF_INET_INGRESS));
}

static void list_sort(struct chain_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), by_priority);
}

int sim_index_build(const struct cg_ruleset *rs, struct sim_index **out)
{
	struct sim_index *idx = xcalloc(1, sizeof(*idx));

	for (uint32_t t = 0; t < rs->n_tables; t++) {
		const struct cg_table *tb = &rs->tables[t];
		for (uint32_t c = 0; c < tb->n_chains; c++) {
			const struct cg_chain *ch = &tb->chains[c];
			if (!ch->base)
				continue;
			if (tb->family == NFPROTO_NETDEV ||
			    (tb->family == NFPROTO_INET && ch->hook == NF_INET_INGRESS)) {
				if (ch->hook == 0 || tb->family == NFPROTO_INET)
					list_add(&idx->ingress, ch);  /* NF_NETDEV_INGRESS */
				continue;
			}
			if (ch->hook >= N_INET_HOOKS)
				continue;
			if (tb->family == NFPROTO_IPV4 || tb->family == NFPROTO_INET)
				list_add(&idx->hooks[0][ch->hook], ch);
			if (tb->family == NFPROTO_IPV6 || tb->family == NFPROTO_INET)
				list_add(&idx->hooks[1][ch->hook], ch);
		}
	}
	for (int f = 0; f < 2; f++)
		for (int h = 0; h < N_INET_HOOKS; h++)
			list_sort(&idx->hooks[f][h]);
	list_sort(&idx->ingress);
	*out = idx;
	return 0;
}

void sim_index_free(struct sim_index *idx)
{
	if (!idx)
		return;
	for (int f = 0; f < 2; f++)
		for (int h = 0; h < N_INET_HOOKS; h++)
			free(idx->hooks[f][h].v);
	free(idx->ingress.v);
	free(idx);
}

size_t sim_index_chains(const struct sim_index *idx, uint8_t nfproto, uint32_t hook,
			const char *dev, const struct cg_chain ***out)
{
	const struct chain_list *l;
	size_t n = 0;

	*out = NULL;
	if (hook >= N_INET_HOOKS || (nfproto != NFPROTO_IPV4 && nfproto != NFPROTO_IPV6))
		return 0;
	l = &idx->hooks[nfproto == NFPROTO_IPV6][hook];
	*out = xreallocarray(NULL, l->n + idx->ingress.n + 1, sizeof(**out));
	if (hook == NF_INET_PRE_ROUTING && dev && *dev)
		for (size_t i = 0; i < idx->ingress.n; i++) {
			const struct cg_chain *ch = idx->ingress.v[i];
			if (ch->dev && strcmp(ch->dev, dev) == 0)
				(*out)[n++] = ch;
		}
	for (size_t i = 0; i < l->n; i++)
		(*out)[n++] = l->v[i];
	return n;
}

size_t sim_index_chains_variant(const struct sim_index *idx, const struct sim_variant *v, uint8_t nfproto,
				uint32_t hook, const char *dev, const struct cg_chain ***out)
{
	size_t n = sim_index_chains(idx, nfproto, hook, dev, out);

	if (!v || !v->n_extra_base || !*out)
		return n;
	for (size_t e = 0; e < v->n_extra_base; e++) {
		const struct cg_chain *x = v->extra_base[e];
		uint8_t fam = x->table ? x->table->family : 0;
		size_t at = 0;

		if (!x->base || x->hook != hook || (fam != nfproto && fam != NFPROTO_INET))
			continue;
		*out = xreallocarray(*out, n + 1, sizeof(**out));
		/* after the ingress chains and the chains of lower priority; an
		 * equal priority runs the newer chain first (by_priority) */
		while (at < n && (chain_is_ingress_hook((*out)[at]) || (*out)[at]->priority < x->priority))
			at++;
		memmove(&(*out)[at + 1], &(*out)[at], (n - at) * sizeof(**out));
		(*out)[at] = x;
		n++;
	}
	return n;
}
