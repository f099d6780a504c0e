/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exceptions in iptables-legacy tables through libiptc: the entry iptables
 * would build for `-s A -i DEV -p udp -m udp --sport P -m conntrack
 * --ctstate ... -m comment --comment TAG -j RETURN`, inserted and committed
 * (one table replace) while holding the xtables lock, so it cannot interleave
 * with `iptables -w` or another libiptc writer. The rule to insert before is
 * found again in the table read under the lock, by its model (rule_equal()),
 * and the tagged rules to remove by their comment. */
#include "config.h"

#include <net/if.h> /* before the libiptc headers */
#include <errno.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/arena.h"
#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/fix-apply.h"

#define XTABLES_LOCK_TIMEOUT_MS 10000

struct ops {
	const char *label;
	struct xtc_handle *(*init)(const char *table);
	void (*free)(struct xtc_handle *h);
	int (*delete_num)(const char *chain, unsigned int num, struct xtc_handle *h);
	int (*commit)(struct xtc_handle *h);
	const char *(*strerror)(int err);
	size_t header;
};

static int ip4_insert(const char *chain, const void *e, unsigned num, struct xtc_handle *h)
{
	return iptc_insert_entry(chain, e, num, h);
}

static int ip6_insert(const char *chain, const void *e, unsigned num, struct xtc_handle *h)
{
	return ip6tc_insert_entry(chain, e, num, h);
}

static const struct ops ops4 = {
	"IPv4", iptc_init, iptc_free, iptc_delete_num_entry, iptc_commit, iptc_strerror, sizeof(struct ipt_entry),
};
static const struct ops ops6 = {
	"IPv6", ip6tc_init, ip6tc_free, ip6tc_delete_num_entry, ip6tc_commit, ip6tc_strerror,
	sizeof(struct ip6t_entry),
};

static const struct ops *ops_get(uint8_t nfproto)
{
	return nfproto == NFPROTO_IPV6 ? &ops6 : &ops4;
}

/* --- the entry -------------------------------------------------------------- */

static void *put_match(uint8_t *p, size_t *off, const char *name, uint8_t rev, const void *info, size_t len)
{
	struct xt_entry_match *m = (void *)(p + *off);
	size_t size = XT_ALIGN(sizeof(*m) + len);

	m->u.user.match_size = (uint16_t)size;
	snprintf(m->u.user.name, sizeof(m->u.user.name), "%s", name);
	m->u.user.revision = rev;
	memcpy(m->data, info, len);
	*off += size;
	return m;
}

static void iface(const char *name, char out[IFNAMSIZ], unsigned char mask[IFNAMSIZ])
{
	size_t n = strlen(name);

	snprintf(out, IFNAMSIZ, "%s", name);
	/* xtables_parse_interface(): the name and its NUL; "eth+" a prefix */
	if (n > 0 && name[n - 1] == '+') {
		out[n - 1] = 0;
		memset(mask, 0xff, n - 1);
	} else {
		memset(mask, 0xff, n + 1 < IFNAMSIZ ? n + 1 : IFNAMSIZ);
	}
}

static void prefix_mask(const struct cg_prefix *p, uint8_t *addr, uint8_t *mask)
{
	uint32_t alen = (uint32_t)addr_family_len(p->addr.family);

	memset(mask, 0, alen);
	for (uint32_t i = 0; i < p->len; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	memcpy(addr, &p->addr.v6, alen);
	for (uint32_t i = 0; i < alen; i++)
		addr[i] &= mask[i];
}

static void fill_ip4(struct ipt_entry *e, const struct remedy *ex)
{
	struct ipt_ip *ip = &e->ip;

	if (ex->src.addr.family)
		prefix_mask(&ex->src, (uint8_t *)&ip->src, (uint8_t *)&ip->smsk);
	if (ex->dst.addr.family)
		prefix_mask(&ex->dst, (uint8_t *)&ip->dst, (uint8_t *)&ip->dmsk);
	if (ex->iif[0])
		iface(ex->iif, ip->iniface, ip->iniface_mask);
	if (ex->oif[0])
		iface(ex->oif, ip->outiface, ip->outiface_mask);
	ip->proto = ex->l4proto;
}

static void fill_ip6(struct ip6t_entry *e, const struct remedy *ex)
{
	struct ip6t_ip6 *ip = &e->ipv6;

	if (ex->src.addr.family)
		prefix_mask(&ex->src, ip->src.s6_addr, ip->smsk.s6_addr);
	if (ex->dst.addr.family)
		prefix_mask(&ex->dst, ip->dst.s6_addr, ip->dmsk.s6_addr);
	if (ex->iif[0])
		iface(ex->iif, ip->iniface, ip->iniface_mask);
	if (ex->oif[0])
		iface(ex->oif, ip->outiface, ip->outiface_mask);
	if (ex->l4proto) {
		ip->proto = ex->l4proto;
		ip->flags |= IP6T_F_PROTO;
	}
}

/* The entry, malloc'd: header, matches (udp/tcp, conntrack, comment), the
 * standard target by name (libiptc maps "ACCEPT"/"RETURN" to verdicts). */
static void *build_entry(const struct remedy *ex, uint8_t nfproto)
{
	size_t header = ops_get(nfproto)->header;
	size_t size = header + 3 * XT_ALIGN(sizeof(struct xt_entry_match) + sizeof(struct xt_comment_info)) +
		      XT_ALIGN(sizeof(struct xt_standard_target));
	uint8_t *p = calloc(1, size);
	struct xt_standard_target *t;
	size_t off = header;

	if (!p)
		return NULL;
	if (nfproto == NFPROTO_IPV6)
		fill_ip6((void *)p, ex);
	else
		fill_ip4((void *)p, ex);
	if (ex->l4proto == IPPROTO_UDP || ex->l4proto == IPPROTO_TCP) {
		uint16_t spts[2] = { ex->sport, ex->sport ? ex->sport : 0xffff };
		uint16_t dpts[2] = { ex->dport, ex->dport ? ex->dport : 0xffff };
		if (ex->l4proto == IPPROTO_UDP) {
			struct xt_udp u = { .spts = { spts[0], spts[1] }, .dpts = { dpts[0], dpts[1] } };
			put_match(p, &off, "udp", 0, &u, sizeof(u));
		} else {
			struct xt_tcp tc = { .spts = { spts[0], spts[1] }, .dpts = { dpts[0], dpts[1] } };
			put_match(p, &off, "tcp", 0, &tc, sizeof(tc));
		}
	}
	if (ex->ct_states) {
		struct xt_conntrack_mtinfo3 ct = {
			.match_flags = XT_CONNTRACK_STATE,
			.state_mask = fix_xt_ctstate(ex->ct_states),
		};
		put_match(p, &off, "conntrack", 3, &ct, sizeof(ct));
	}
	{
		struct xt_comment_info cm = { 0 };
		snprintf((char *)cm.comment, sizeof(cm.comment), "%s", ex->comment);
		put_match(p, &off, "comment", 0, &cm, sizeof(cm));
	}
	t = (void *)(p + off);
	t->target.u.user.target_size = XT_ALIGN(sizeof(*t));
	snprintf(t->target.u.user.name, sizeof(t->target.u.user.name), "%s", ex->accept ? "ACCEPT" : "RETURN");
	/* both entry types start with the same fields' offsets at the end */
	if (nfproto == NFPROTO_IPV6) {
		struct ip6t_entry *e = (void *)p;
		e->target_offset = (uint16_t)off;
		e->next_offset = (uint16_t)(off + XT_ALIGN(sizeof(*t)));
	} else {
		struct ipt_entry *e = (void *)p;
		e->target_offset = (uint16_t)off;
		e->next_offset = (uint16_t)(off + XT_ALIGN(sizeof(*t)));
	}
	return p;
}

/* --- the table under the lock ----------------------------------------------- */

struct locked {
	const struct ops *ops;
	int lock_fd;
	struct xtc_handle *h;
	struct arena a;
	struct cg_table t;      /* the table as read under the lock */
};

static void locked_close(struct locked *l)
{
	if (l->h)
		l->ops->free(l->h);
	arena_free(&l->a);
	fix_xtables_unlock(l->lock_fd);
	memset(l, 0, sizeof(*l));
	l->lock_fd = -1;
}

static int locked_open(struct locked *l, uint8_t nfproto, const char *table)
{
	int r;

	memset(l, 0, sizeof(*l));
	l->ops = ops_get(nfproto);
	l->lock_fd = fix_xtables_lock(XTABLES_LOCK_TIMEOUT_MS);
	if (l->lock_fd < 0)
		return l->lock_fd;
	l->h = l->ops->init(table);
	if (!l->h) {
		r = errno ? -errno : -EIO;
		log_error("Failed to read the %s iptables-legacy table %s: %s", l->ops->label, table,
			  l->ops->strerror(errno));
		goto fail;
	}
	r = legacy_table_from_handle(l->h, nfproto, table, &l->a, &l->t);
	if (r < 0) {
		log_error_errno(r, "Failed to read the %s iptables-legacy table %s: %s", l->ops->label, table,
				strerror(-r));
		goto fail;
	}
	return 0;
fail:
	locked_close(l);
	return r;
}

static int commit(struct locked *l)
{
	if (!l->ops->commit(l->h)) {
		int r = errno ? -errno : -EIO;
		log_error("Failed to commit the %s iptables-legacy table %s: %s", l->ops->label, l->t.name,
			  l->ops->strerror(errno));
		return r;
	}
	return 0;
}

/* The live rule that is ex->before: the one at its position if it is the
 * same rule (rule_equal(): the same expressions and comment, compiled from
 * the table read under the lock), else the only one in the chain that is.
 * 0-based position, or -ESTALE. */
static int find_before(const struct cg_chain *live, const struct cg_rule *before)
{
	int found = -ESTALE, n = 0;

	if (before->index >= 1 && before->index <= live->n_rules &&
	    rule_equal(&live->rules[before->index - 1], before))
		return (int)before->index - 1;
	for (uint32_t i = 0; i < live->n_rules; i++)
		if (rule_equal(&live->rules[i], before)) {
			found = (int)i;
			n++;
		}
	return n == 1 ? found : -ESTALE;
}

/* --- a run's exceptions, all or none ----------------------------------------- */

/* One exception to insert into a table read under the lock. */
struct txn_ins {
	struct fix_item *item;
	char chain[XT_EXTENSION_MAXNAMELEN + 2]; /* the chain's name (the tables are read again to roll back) */
	unsigned pos;           /* 0-based, before the live rule at pos */
	unsigned final;         /* where it sits once every insert of the table is in */
	void *entry;
};

struct txn_table {
	uint8_t family;
	const char *name;
	const struct ops *ops;
	struct xtc_handle *h;
	struct arena a;
	struct cg_table t;      /* as read under the lock */
	struct txn_ins *ins;
	size_t n_ins;
	bool committed;
};

struct fix_legacy_txn {
	int lock_fd;
	struct txn_table *tables;
	size_t n_tables;
};

static bool is_legacy(const struct fix_item *it)
{
	return it->ex->before->chain->table->backend == CG_BACKEND_IPTABLES_LEGACY;
}

static void txn_table_release(struct txn_table *tt)
{
	if (tt->h)
		tt->ops->free(tt->h);
	tt->h = NULL;
	arena_free(&tt->a);
	memset(&tt->t, 0, sizeof(tt->t));
}

void fix_legacy_close(struct fix_legacy_txn *tx)
{
	if (!tx)
		return;
	for (size_t i = 0; i < tx->n_tables; i++) {
		struct txn_table *tt = &tx->tables[i];
		for (size_t k = 0; k < tt->n_ins; k++)
			free(tt->ins[k].entry);
		free(tt->ins);
		txn_table_release(tt);
	}
	free(tx->tables);
	fix_xtables_unlock(tx->lock_fd);
	free(tx);
}

/* Reads (or re-reads) one table under the lock, with its chain index. */
static int txn_table_read(struct txn_table *tt)
{
	int r;

	txn_table_release(tt);
	tt->h = tt->ops->init(tt->name);
	if (!tt->h) {
		r = errno ? -errno : -EIO;
		log_error("Failed to read the %s iptables-legacy table %s: %s", tt->ops->label, tt->name,
			  tt->ops->strerror(errno));
		return r;
	}
	r = legacy_table_from_handle(tt->h, tt->family, tt->name, &tt->a, &tt->t);
	if (r < 0)
		return log_error_errno(r, "Failed to read the %s iptables-legacy table %s: %s", tt->ops->label,
				       tt->name, strerror(-r));
	if (!tt->t.index)
		table_index_build(&tt->t, &tt->a);
	return 0;
}

static struct txn_table *txn_table_get(struct fix_legacy_txn *tx, const struct cg_table *t, int *r)
{
	struct txn_table *tt;

	for (size_t i = 0; i < tx->n_tables; i++)
		if (tx->tables[i].family == t->family && strcmp(tx->tables[i].name, t->name) == 0)
			return &tx->tables[i];
	tt = realloc(tx->tables, (tx->n_tables + 1) * sizeof(*tx->tables));
	if (!tt) {
		*r = -ENOMEM;
		return NULL;
	}
	tx->tables = tt;
	tt = &tx->tables[tx->n_tables++];
	memset(tt, 0, sizeof(*tt));
	tt->family = t->family;
	tt->name = t->name;
	tt->ops = ops_get(t->family);
	*r = txn_table_read(tt);
	return *r < 0 ? NULL : tt;
}

/* Whether an insert of the same tag at the same place is already queued. */
static bool txn_queued(const struct txn_table *tt, const char *chain, unsigned pos, const char *tag)
{
	for (size_t k = 0; k < tt->n_ins; k++)
		if (tt->ins[k].pos == pos && strcmp(tt->ins[k].chain, chain) == 0 &&
		    strcmp(tt->ins[k].item->ex->comment, tag) == 0)
			return true;
	return false;
}

static int txn_add(struct fix_legacy_txn *tx, struct fix_item *it)
{
	const struct remedy *ex = it->ex;
	const struct cg_chain *ch = ex->before->chain, *live;
	struct txn_table *tt;
	struct txn_ins *ins;
	int r = 0, pos;

	tt = txn_table_get(tx, ch->table, &r);
	if (!tt)
		return r;
	live = chain_find(&tt->t, ch->name);
	pos = live ? find_before(live, ex->before) : -ESTALE;
	if (pos < 0) {
		log_info("The rule to insert \"%s\" before (%s table %s, chain %s, rule %u) is no longer there.",
			 ex->comment, tt->ops->label, tt->name, ch->name, ex->before->index);
		return pos;
	}
	if ((pos > 0 && live->rules[pos - 1].comment && strcmp(live->rules[pos - 1].comment, ex->comment) == 0) ||
	    txn_queued(tt, live->name, (unsigned)pos, ex->comment)) {
		log_info("The exception \"%s\" is already in place in %s table %s, chain %s; nothing changed.",
			 ex->comment, tt->ops->label, tt->name, ch->name);
		it->result = FIX_UNCHANGED;
		return 0;
	}
	ins = realloc(tt->ins, (tt->n_ins + 1) * sizeof(*tt->ins));
	if (!ins)
		return -ENOMEM;
	tt->ins = ins;
	ins = &tt->ins[tt->n_ins];
	*ins = (struct txn_ins){ .item = it, .pos = (unsigned)pos };
	snprintf(ins->chain, sizeof(ins->chain), "%s", live->name);
	ins->entry = build_entry(ex, tt->family);
	if (!ins->entry)
		return -ENOMEM;
	tt->n_ins++;
	return 0;
}

static int ins_cmp(const void *x, const void *y)
{
	const struct txn_ins *a = x, *b = y;
	int c = strcmp(a->chain, b->chain);

	if (c)
		return c;
	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return a->item < b->item ? -1 : a->item > b->item; /* the plan's order */
}

/* Inserts a table's exceptions into its handle: in each chain by position,
 * each k-th one at pos + k, so every one lands right before its rule and its
 * final place is known for a roll-back. */
static int txn_insert(struct txn_table *tt)
{
	unsigned k = 0;

	if (tt->n_ins) /* every exception of this table may already be in place */
		qsort(tt->ins, tt->n_ins, sizeof(*tt->ins), ins_cmp);
	for (size_t i = 0; i < tt->n_ins; i++) {
		struct txn_ins *in = &tt->ins[i];

		if (i > 0 && strcmp(in->chain, tt->ins[i - 1].chain) != 0)
			k = 0;
		in->final = in->pos + k++;
		if (!(tt->family == NFPROTO_IPV6 ? ip6_insert : ip4_insert)(in->chain, in->entry, in->final, tt->h)) {
			int r = errno ? -errno : -EIO;
			log_error("Failed to insert the exception \"%s\" into %s table %s, chain %s: %s",
				  in->item->ex->comment, tt->ops->label, tt->name, in->chain, tt->ops->strerror(errno));
			return r;
		}
	}
	return 0;
}

int fix_legacy_prepare(struct fix_item *items, size_t n, struct fix_sync *sync, struct fix_legacy_txn **txp)
{
	struct fix_legacy_txn *tx;
	bool any = false;
	int r = 0;

	*txp = NULL;
	for (size_t i = 0; i < n && !any; i++)
		any = is_legacy(&items[i]);
	if (!any)
		return 0;
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return -ENOMEM;
	tx->lock_fd = fix_xtables_lock(XTABLES_LOCK_TIMEOUT_MS);
	if (tx->lock_fd < 0) {
		r = tx->lock_fd;
		free(tx);
		return r;
	}
	if (sync && legacy_fingerprint() != sync->legacy_fp)
		sync->changed_since_plan = true;
	for (size_t i = 0; i < n && r >= 0; i++)
		if (is_legacy(&items[i]))
			r = txn_add(tx, &items[i]);
	for (size_t i = 0; i < tx->n_tables && r >= 0; i++)
		r = txn_insert(&tx->tables[i]);
	if (r < 0) {
		fix_legacy_close(tx);
		return r;
	}
	*txp = tx;
	return 0;
}

static int commit_table(struct txn_table *tt)
{
	if (!tt->ops->commit(tt->h)) {
		int r = errno ? -errno : -EIO;
		log_error("Failed to commit the %s iptables-legacy table %s: %s", tt->ops->label, tt->name,
			  tt->ops->strerror(errno));
		return r;
	}
	/* libiptc frees nothing on commit; the handle is spent */
	return 0;
}

int fix_legacy_commit(struct fix_legacy_txn *tx, struct fix_sync *sync)
{
	int r = 0;

	if (!tx)
		return 0;
	for (size_t i = 0; i < tx->n_tables && r >= 0; i++) {
		struct txn_table *tt = &tx->tables[i];
		if (tt->n_ins == 0)
			continue;
		r = commit_table(tt);
		if (r >= 0)
			tt->committed = true;
	}
	if (r < 0) {
		int rr = fix_legacy_rollback(tx);
		return rr < 0 ? rr : r;
	}
	if (sync) {
		sync->legacy_committed = true;
		sync->legacy_fp_after = legacy_fingerprint();
	}
	return 0;
}

/* Deletes, in each committed table read again (still under the lock, so
 * nothing else moved), the rules this run inserted, from the last place
 * down; each must still carry its tag. */
int fix_legacy_rollback(struct fix_legacy_txn *tx)
{
	int r = 0;

	for (size_t i = 0; tx && i < tx->n_tables; i++) {
		struct txn_table *tt = &tx->tables[i];

		if (!tt->committed)
			continue;
		r = txn_table_read(tt);
		for (size_t k = tt->n_ins; r >= 0 && k-- > 0;) {
			const struct txn_ins *in = &tt->ins[k];
			const struct cg_chain *ch = chain_find(&tt->t, in->chain);
			const struct cg_rule *rule = ch && in->final < ch->n_rules ? &ch->rules[in->final] : NULL;

			if (!rule || !rule->comment || strcmp(rule->comment, in->item->ex->comment) != 0) {
				log_error("Rolling back: %s table %s, chain %s has no rule \"%s\" at %u any more",
					  tt->ops->label, tt->name, in->chain, in->item->ex->comment, in->final + 1);
				r = -ENOTRECOVERABLE;
			} else if (!tt->ops->delete_num(in->chain, in->final, tt->h)) {
				r = errno ? -errno : -EIO;
				log_error("Rolling back: failed to delete rule %u of %s table %s, chain %s: %s",
					  in->final + 1, tt->ops->label, tt->name, in->chain, tt->ops->strerror(errno));
			}
		}
		if (r >= 0)
			r = commit_table(tt);
		if (r < 0) {
			log_error("The exceptions this run added to the %s iptables-legacy table %s could not be taken "
				  "out again; `cgnatcheck --undo` removes every rule tagged %s", tt->ops->label,
				  tt->name, FIX_TAG_PREFIX);
			return -ENOTRECOVERABLE;
		}
		tt->committed = false;
	}
	return 0;
}

int fix_remove_legacy(const struct cg_table *t, unsigned *n_removed)
{
	struct locked l;
	unsigned n = 0;
	int r;

	r = locked_open(&l, t->family, t->name);
	if (r < 0)
		return r;
	for (uint32_t c = 0; c < l.t.n_chains; c++) {
		const struct cg_chain *ch = &l.t.chains[c];
		/* from the end, so the numbers of the rest stay valid */
		for (uint32_t i = ch->n_rules; i-- > 0;) {
			if (!fix_is_tag(ch->rules[i].comment))
				continue;
			if (!l.ops->delete_num(ch->name, i, l.h)) {
				r = errno ? -errno : -EIO;
				log_error("Failed to delete rule %u of %s table %s, chain %s: %s", i + 1, l.ops->label,
					  t->name, ch->name, l.ops->strerror(errno));
				goto out;
			}
			n++;
		}
	}
	if (n > 0)
		r = commit(&l);
	if (r >= 0)
		*n_removed += n;
out:
	locked_close(&l);
	return r;
}
