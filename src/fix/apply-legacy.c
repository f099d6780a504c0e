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

static const struct cg_chain *chain_by_name(const struct cg_table *t, const char *name)
{
	for (uint32_t i = 0; i < t->n_chains; i++)
		if (strcmp(t->chains[i].name, name) == 0)
			return &t->chains[i];
	return NULL;
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

int fix_apply_legacy(const struct remedy *ex)
{
	const struct cg_chain *ch = ex->before->chain, *live;
	const struct cg_table *t = ch->table;
	struct locked l;
	void *entry = NULL;
	int r, pos;

	r = locked_open(&l, t->family, t->name);
	if (r < 0)
		return r;
	live = chain_by_name(&l.t, ch->name);
	pos = live ? find_before(live, ex->before) : -ESTALE;
	if (pos < 0) {
		r = pos;
		log_error("The rule to insert before (%s table %s, chain %s, rule %u) is no longer there; "
			  "re-run the audit.", l.ops->label, t->name, ch->name, ex->before->index);
		goto out;
	}
	if (pos > 0 && live->rules[pos - 1].comment && strcmp(live->rules[pos - 1].comment, ex->comment) == 0) {
		log_info("The exception \"%s\" is already in place in %s table %s, chain %s; nothing changed.",
			 ex->comment, l.ops->label, t->name, ch->name);
		r = FIX_UNCHANGED;
		goto out;
	}
	entry = build_entry(ex, t->family);
	if (!entry) {
		r = -ENOMEM;
		goto out;
	}
	if (!(t->family == NFPROTO_IPV6 ? ip6_insert : ip4_insert)(ch->name, entry, (unsigned)pos, l.h)) {
		r = errno ? -errno : -EIO;
		log_error("Failed to insert the exception \"%s\" into %s table %s, chain %s: %s", ex->comment,
			  l.ops->label, t->name, ch->name, l.ops->strerror(errno));
		goto out;
	}
	r = commit(&l);
	if (r >= 0)
		r = FIX_APPLIED;
out:
	free(entry);
	locked_close(&l);
	return r;
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
