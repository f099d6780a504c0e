/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's counters of the rules a report names (rule-counters.h).
 *
 * nf_tables: one NFT_MSG_GETRULE per rule, by table, chain and handle
 * (handles are never reused while a table lives); the answer's expressions
 * must be the collected ones, kind for kind, or the rule is not the same.
 * Its counter counts the packets that reached it: that is the rule's
 * verdict's count only when nothing after it can still fail to match, so a
 * counter is taken only when every expression after it is the verdict, a
 * reject, a log, an xt target or another counter. iptables-nft puts its
 * counter after the matches and before the target: always so.
 *
 * iptables-legacy: the table's snapshot (IPT_SO_GET_ENTRIES, one read per
 * table involved; only a table /proc/net/ip_tables_names lists, since
 * asking for another would create it), each entry's own counters (bumped
 * when the whole entry matched), read before the snapshot is compiled (the
 * compiler hands its pages back); the compiled rule at the same position
 * must equal the collected one (rule_equal()), or be the only equal one in
 * its chain. */
#include "config.h"

#include <net/if.h> /* these two before the linux/ headers */
#include <netinet/in.h>
#include <endian.h>
#include <inttypes.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <string.h>

#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/nlsock.h"
#include "cgnatcheck/rule-counters.h"
#include "legacy-internal.h"

/* ---- nf_tables ------------------------------------------------------------- */

#define NFT_COUNTER_BUFSIZ (64 * 1024)

struct nft_answer {
	const struct cg_rule *rule;   /* the collected one */
	bool same;                    /* the same expressions */
	bool counted;
	struct rule_counter c;
};

/* The collected expressions' kernel names, in order. */
static const char *collected_name(const struct cg_expr *e)
{
	return e->type == CG_EXPR_UNKNOWN && e->unknown.name ? e->unknown.name : expr_type_to_string(e->type);
}

/* What may follow the counter and still leave its count the verdict's. */
static bool tail_ok(const char *name)
{
	static const char *const ok[] = { "immediate", "reject", "log", "counter", "target" };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (strcmp(name, ok[i]) == 0)
			return true;
	return false;
}

static int nft_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_answer *ans = data;
	struct nftnl_rule *r;
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	struct cg_expr_buf buf = { 0 };
	const struct cg_expr *v;
	uint32_t i = 0, n;
	bool same = true, have = false;
	uint64_t packets = 0, bytes = 0;

	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWRULE)
		return MNL_CB_OK;
	r = nftnl_rule_alloc();
	if (!r)
		return nlconn_cb_fail(-ENOMEM);
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 || !nftnl_rule_is_set(r, NFTNL_RULE_HANDLE) ||
	    nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE) != ans->rule->handle) {
		nftnl_rule_free(r);
		return MNL_CB_OK;
	}
	v = rule_exprs(ans->rule, &buf);
	n = ans->rule->n_exprs;
	it = nftnl_expr_iter_create(r);
	if (!it) {
		expr_buf_free(&buf);
		nftnl_rule_free(r);
		return nlconn_cb_fail(-ENOMEM);
	}
	while ((e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		if (!name || i >= n || strcmp(name, collected_name(&v[i])) != 0)
			same = false;
		i++;
		if (!name)
			continue;
		if (strcmp(name, "counter") == 0) {
			/* the last counter whose tail is all verdict */
			have = true;
			packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
			bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
		} else if (!tail_ok(name)) {
			have = false;
		}
	}
	nftnl_expr_iter_destroy(it);
	expr_buf_free(&buf);
	nftnl_rule_free(r);
	ans->same = same && i == n;
	ans->counted = ans->same && have;
	ans->c = (struct rule_counter){ packets, bytes };
	return MNL_CB_OK;
}

static bool nft_counter(struct nlconn *c, const struct cg_rule *rule, struct rule_counter *out)
{
	const struct cg_chain *ch = rule->chain;
	struct nft_answer ans = { .rule = rule };
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	int err;

	if (!r || !rule->handle)
		goto fail;
	/* answered by the rule, then the ACK that ends the exchange */
	nlh = nftnl_nlmsg_build_hdr(c->buf, NFT_MSG_GETRULE, ch->table->family, NLM_F_ACK, ++c->seq);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, ch->table->name);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, ch->name);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, rule->handle);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	r = NULL;
	err = nlconn_talk(c, nlh, nft_rule_cb, &ans);
	if (err < 0) {
		log_debug("nftables: counter of rule %" PRIu64 " in %s %s: %s", rule->handle, ch->table->name, ch->name,
			  strerror(-err));
		return false;
	}
	if (!ans.same)
		log_debug("nftables: counter of rule %" PRIu64 " in %s %s: the rule changed since it was read", rule->handle,
			  ch->table->name, ch->name);
	if (!ans.counted)
		return false;
	*out = ans.c;
	return true;
fail:
	if (r)
		nftnl_rule_free(r);
	return false;
}

/* ---- iptables-legacy ------------------------------------------------------- */

static bool table_listed(uint8_t nfproto, const char *table)
{
	_cleanup_fclose_ FILE *f = fopen(nfproto == NFPROTO_IPV6 ? "/proc/net/ip6_tables_names" :
					 "/proc/net/ip_tables_names", "re");
	char line[64];

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, table) == 0)
			return true;
	}
	return false;
}

static struct rule_counter entry_counter(uint8_t nfproto, const void *e)
{
	const struct xt_counters *c = nfproto == NFPROTO_IPV6 ? &((const struct ip6t_entry *)e)->counters :
				      &((const struct ipt_entry *)e)->counters;

	return (struct rule_counter){ c->pcnt, c->bcnt };
}

/* One chain's entries' counters, in rule order. */
struct chain_counts {
	const char *name;             /* the collected chain's */
	struct rule_counter *v;
	uint32_t n;
};

static void chain_counts_read(const struct legacy_snapshot *s, struct chain_counts *cc)
{
	for (uint32_t i = 0; i < s->n_chains; i++) {
		const struct snap_chain *ch = &s->chains[i];
		struct entry_view v;
		size_t cap = 0;

		if (!ch->name || strcmp(ch->name, cc->name) != 0)
			continue;
		for (uint32_t off = ch->first; off < ch->end; off += v.size) {
			s->view(s->base + off, &v);
			if (!v.size)
				break; /* checked when parsed; never so */
			grow_array((void **)&cc->v, &cap, cc->n + 1, sizeof(*cc->v));
			cc->v[cc->n++] = entry_counter(s->nfproto, s->base + off);
		}
		return;
	}
}

static const struct cg_chain *table_chain(const struct cg_table *t, const char *name)
{
	for (uint32_t i = 0; i < t->n_chains; i++)
		if (strcmp(t->chains[i].name, name) == 0)
			return &t->chains[i];
	return NULL;
}

/* The counters of the legacy rules of one table (family and name of
 * rules[first]'s) among rules[first..n); done[] marks those handled. */
static size_t legacy_table_counters(const struct cg_rule *const *rules, size_t n, size_t first,
				    struct rule_counter *out, bool *ok, bool *done)
{
	const struct cg_table *want = rules[first]->chain->table;
	struct legacy_snapshot *s = NULL;
	struct chain_counts *cc = NULL;
	size_t n_cc = 0, cap_cc = 0, got = 0;
	struct arena a = { 0 };
	struct cg_table t = { 0 };
	int r;

	/* this table's rules, and their chains' counters */
	r = table_listed(want->family, want->name) ? legacy_snapshot_read(want->family, want->name, &s) : -ENOENT;
	for (size_t i = first; i < n; i++) {
		const struct cg_table *ti = rules[i]->chain->table;
		if (done[i] || ti->backend != CG_BACKEND_IPTABLES_LEGACY || ti->family != want->family ||
		    strcmp(ti->name, want->name) != 0)
			continue;
		done[i] = true;
		if (r < 0)
			continue;
		bool have = false;
		for (size_t k = 0; k < n_cc && !have; k++)
			have = strcmp(cc[k].name, rules[i]->chain->name) == 0;
		if (have)
			continue;
		grow_array((void **)&cc, &cap_cc, n_cc + 1, sizeof(*cc));
		cc[n_cc] = (struct chain_counts){ .name = rules[i]->chain->name };
		chain_counts_read(s, &cc[n_cc++]);
	}
	if (r < 0) {
		log_debug("iptables-legacy: counters of table %s: %s", want->name, strerror(-r));
		goto out;
	}
	/* the rules as the kernel holds them now */
	r = legacy_table_from_snapshot(s, want->name, &a, &t);
	if (r < 0) {
		log_debug("iptables-legacy: counters of table %s: it does not compile (%s)", want->name, strerror(-r));
		goto out;
	}
	for (size_t i = first; i < n; i++) {
		const struct cg_rule *rule = rules[i];
		const struct cg_table *ti = rule->chain->table;
		if (ti->backend != CG_BACKEND_IPTABLES_LEGACY || ti->family != want->family ||
		    strcmp(ti->name, want->name) != 0)
			continue;
		const struct cg_chain *live = table_chain(&t, rule->chain->name);
		const struct chain_counts *counts = NULL;
		for (size_t k = 0; k < n_cc && !counts; k++)
			if (strcmp(cc[k].name, rule->chain->name) == 0)
				counts = &cc[k];
		if (!live || !counts || counts->n != live->n_rules)
			continue;
		uint32_t at = UINT32_MAX, matches = 0;
		if (rule->index >= 1 && rule->index <= live->n_rules && rule_equal(&live->rules[rule->index - 1], rule)) {
			at = rule->index - 1;
		} else {
			/* moved: found again only where it is alone of its kind */
			for (uint32_t k = 0; k < live->n_rules; k++)
				if (rule_equal(&live->rules[k], rule)) {
					at = k;
					matches++;
				}
			if (matches != 1)
				at = UINT32_MAX;
		}
		if (at == UINT32_MAX) {
			log_debug("iptables-legacy: counter of rule %u in %s %s: the rule is gone or changed", rule->index, want->name,
				  rule->chain->name);
			continue;
		}
		out[i] = counts->v[at];
		ok[i] = true;
		got++;
	}
out:
	for (size_t k = 0; k < n_cc; k++)
		free(cc[k].v);
	free(cc);
	arena_free(&a);
	legacy_snapshot_free(s);
	return got;
}

/* ---- both -------------------------------------------------------------------- */

size_t rule_counters_read(const struct cg_rule *const *rules, size_t n, struct rule_counter *out, bool *ok)
{
	struct nlconn c = { 0 };
	bool *done = xcalloc(n ? n : 1, sizeof(*done));
	size_t got = 0, asked = 0;
	bool conn = false;

	for (size_t i = 0; i < n; i++) {
		ok[i] = false;
		out[i] = (struct rule_counter){ 0, 0 };
	}
	for (size_t i = 0; i < n; i++) {
		const struct cg_rule *rule = rules[i];
		if (done[i] || !rule || !rule->chain || !rule->chain->table) {
			done[i] = true;
			continue;
		}
		if (rule->chain->table->backend == CG_BACKEND_IPTABLES_LEGACY) {
			got += legacy_table_counters(rules, n, i, out, ok, done);
			continue;
		}
		done[i] = true;
		if (asked++ >= RULE_COUNTERS_MAX)
			continue;
		if (!conn) {
			int r = nlconn_open(&c, NETLINK_NETFILTER, NFT_COUNTER_BUFSIZ);
			if (r < 0) {
				log_debug("nftables: rule counters: no netfilter netlink socket (%s)", strerror(-r));
				asked = RULE_COUNTERS_MAX;
				continue;
			}
			conn = true;
		}
		if (nft_counter(&c, rule, &out[i])) {
			ok[i] = true;
			got++;
		}
	}
	if (conn)
		nlconn_close(&c);
	free(done);
	return got;
}
