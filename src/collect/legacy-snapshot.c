/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One x_tables table as the kernel hands it out: two getsockopt() calls
 * (IPT_SO_GET_INFO for the size and the hook offsets, IPT_SO_GET_ENTRIES for
 * the entries), the very calls libiptc's iptc_init() makes. libiptc then
 * copies every entry into a rule cache of its own, which doubles the memory
 * (a 300k-rule kube-proxy nat table: a 181 MB snapshot, 358 MB for
 * iptables-legacy-save); the collector only walks the entries once to compile
 * them, so it reads the snapshot in place and hands its pages back to the
 * kernel as the compiled chains pass them (the model grows while the
 * snapshot shrinks: the peak is about the larger of the two, not their sum).
 * Better still (legacy_table_read(), legacy-read.c): the snapshot is read
 * while the kernel copies it out (legacy-stream.c, a userfaultfd), each
 * chain compiled as its entries arrive, so it is never resident whole.
 * libiptc stays the writer (src/fix/apply-legacy.c).
 *
 * The layout (net/ipv4/netfilter/ip_tables.c, libiptc's parse_table()):
 * built-in chains start at hook_entry[hook] and end with their policy entry
 * at underflow[hook]; a user chain starts with an ERROR target entry that
 * carries its name, holds its rules, and ends with a RETURN entry (the
 * implicit return); the last entry of the table is an ERROR entry named
 * "ERROR". A standard target's verdict is negative for ACCEPT (-2), DROP
 * (-1), QUEUE (-4) and RETURN (-5), otherwise the offset of the entry to
 * continue at: the next entry (a rule without a target) or a place inside
 * the jumped-to chain (libiptc's iptcc_find_chain_by_offset()). */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/xt.h"
#include "legacy-internal.h"

void legacy_snapshot_free(struct legacy_snapshot *s)
{
	if (!s)
		return;
	if (s->buf_len)
		munmap(s->buf, s->buf_len);
	else
		free(s->buf);
	arena_free(&s->names);
	free(s->compiled);
	free(s->chains);
	free(s->heads);
	free(s->order);
	free(s);
}

static int snapshot_fetch(struct legacy_snapshot *s, const char *table)
{
	struct getinfo *info = &s->info;
	bool v6 = s->nfproto == NFPROTO_IPV6;
	int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int opt_info = v6 ? IP6T_SO_GET_INFO : IPT_SO_GET_INFO;
	int opt_entries = v6 ? IP6T_SO_GET_ENTRIES : IPT_SO_GET_ENTRIES;
	_cleanup_close_ int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0)
		return -errno;
	/* the table may change between the two calls: the kernel then
	 * answers EAGAIN (the size no longer matches) */
	for (int attempt = 0; attempt < 10; attempt++) {
		struct ipt_get_entries *ge;
		socklen_t len = sizeof(*info);

		memset(info, 0, sizeof(*info));
		snprintf(info->name, sizeof(info->name), "%s", table);
		if (getsockopt(fd, level, opt_info, info, &len) < 0)
			return -errno;
		if (s->buf_len)
			munmap(s->buf, s->buf_len);
		s->buf = NULL;
		s->buf_len = sizeof(*ge) + info->size;
		/* mapped, so its pages can be handed back one by one */
		ge = mmap(NULL, s->buf_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ge == MAP_FAILED) {
			s->buf_len = 0;
			return -ENOMEM;
		}
		s->buf = ge;
		memset(ge, 0, sizeof(*ge));
		snprintf(ge->name, sizeof(ge->name), "%s", table);
		ge->size = info->size;
		len = (socklen_t)(sizeof(*ge) + info->size);
		if (getsockopt(fd, level, opt_entries, ge, &len) == 0) {
			s->base = (const uint8_t *)ge->entrytable;
			s->size = info->size;
			return 0;
		}
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

static bool is_error_target(const struct entry_view *v)
{
	const char *name = legacy_entry_target(v)->u.user.name;

	return name[0] == 'E' && strcmp(name, XT_ERROR_TARGET) == 0;
}

static int entry_check(const struct legacy_snapshot *s, uint32_t off, struct entry_view *v)
{
	const struct xt_entry_target *t;

	if (s->size - off < (s->nfproto == NFPROTO_IPV6 ? sizeof(struct ip6t_entry) : sizeof(struct ipt_entry)))
		return -EBADMSG;
	/* the kernel keeps every entry, match and target aligned
	 * (check_entry_size_and_hooks(), xt_check_entry_offsets()) */
	if (off % __alignof__(struct ipt_entry) != 0)
		return -EBADMSG;
	s->view(s->base + off, v);
	if (v->size % __alignof__(struct ipt_entry) != 0 ||
	    v->target_offset % __alignof__(struct xt_entry_target) != 0)
		return -EBADMSG;
	if (v->size < v->header_size || v->size > s->size - off || v->target_offset < v->header_size ||
	    v->target_offset > v->size || (size_t)(v->size - v->target_offset) < sizeof(struct xt_entry_target))
		return -EBADMSG;
	t = legacy_entry_target(v);
	if (t->u.target_size < sizeof(*t) || t->u.target_size > (size_t)(v->size - v->target_offset) ||
	    memchr(t->u.user.name, '\0', sizeof(t->u.user.name)) == NULL)
		return -EBADMSG;
	if (t->u.user.name[0] == '\0' && t->u.target_size < sizeof(struct xt_standard_target))
		return -EBADMSG;
	if (is_error_target(v) &&
	    (t->u.target_size < sizeof(struct xt_error_target) ||
	     memchr(((const struct xt_error_target *)t)->errorname, '\0', XT_FUNCTION_MAXNAMELEN) == NULL))
		return -EBADMSG;
	return 0;
}

const struct snap_chain *legacy_snapshot_chain_at(const struct legacy_snapshot *s, uint32_t off)
{
	uint32_t lo = 0, hi = s->n_chains;

	/* the last chain whose head is at or before off (over the packed
	 * heads: 100k chains' heads stay in the cache, their records do not) */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->heads[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || off > s->chains[lo - 1].foot)
		return NULL;
	return &s->chains[lo - 1];
}

static int user_chain_cmp(const void *a, const void *b, void *ctx)
{
	const struct legacy_snapshot *s = ctx;

	return strcmp(s->chains[*(const uint32_t *)a].name, s->chains[*(const uint32_t *)b].name);
}

static void chain_begin(struct legacy_snapshot *s, struct parse *p, struct snap_chain c, const char *user_name)
{
	if (user_name)
		c.name = arena_strdup(s->names_into ? s->names_into : &s->names, user_name);
	p->open = c;
	p->is_open = true;
}

static int chain_end(struct legacy_snapshot *s, struct parse *p, uint32_t end, uint32_t foot)
{
	p->open.end = end;
	p->open.foot = foot;
	p->is_open = false;
	grow_array((void **)&s->chains, &p->cap, s->n_chains + 1, sizeof(*s->chains));
	grow_array((void **)&s->heads, &s->heads_cap, s->n_chains + 1, sizeof(*s->heads));
	s->heads[s->n_chains] = p->open.head;
	s->chains[s->n_chains++] = p->open;
	return p->closed ? p->closed(p->arg, s->n_chains - 1) : 0;
}

/* The entries that end at or below `upto` (s->size: all of them). */
int legacy_snapshot_parse(struct legacy_snapshot *s, struct parse *p, uint32_t upto)
{
	const struct getinfo *info = &s->info;
	uint32_t hdr = s->nfproto == NFPROTO_IPV6 ? sizeof(struct ip6t_entry) : sizeof(struct ipt_entry);
	struct entry_view v;
	int r;

	for (; p->off < s->size && !p->ended; p->prev = p->off, p->off += v.size) {
		uint32_t off = p->off;

		if (upto < s->size) {
			/* an entry is complete once the copy is past its end */
			if (upto < off || upto - off < hdr)
				return 0;
			s->view(s->base + off, &v);
			if (v.size >= hdr && v.size > upto - off)
				return 0;
		}
		r = entry_check(s, off, &v);
		if (r < 0)
			return r;
		if (is_error_target(&v)) {
			const char *name = ((const struct xt_error_target *)legacy_entry_target(&v))->errorname;

			if (p->is_open && !p->open.builtin) {
				/* the entry before this head is the
				 * previous chain's RETURN tail */
				r = chain_end(s, p, p->prev > p->open.first ? p->prev : p->open.first, p->prev);
				if (r < 0)
					return r;
			}
			if (off + v.size == s->size) {
				p->ended = true;   /* the table's closing entry */
				continue;
			}
			if (p->is_open)
				return -EBADMSG; /* a built-in chain without its policy */
			chain_begin(s, p, (struct snap_chain){ .head = off, .first = off + v.size }, name);
			continue;
		}
		for (uint32_t h = 0; h < NF_INET_NUMHOOKS; h++) {
			if (!(info->valid_hooks & (1u << h)) || info->hook_entry[h] != off)
				continue;
			if (p->is_open && !p->open.builtin) {
				r = chain_end(s, p, p->prev > p->open.first ? p->prev : p->open.first, p->prev);
				if (r < 0)
					return r;
			} else if (p->is_open) {
				return -EBADMSG;
			}
			chain_begin(s, p, (struct snap_chain){ .name = legacy_builtin_name(h), .head = off,
							       .first = off, .builtin = true, .hook = h }, NULL);
		}
		if (p->is_open && p->open.builtin && info->underflow[p->open.hook] == off) {
			if (!legacy_standard_verdict(&v, &p->open.policy))
				return -EBADMSG;
			r = chain_end(s, p, off, off);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Every entry was parsed: the order the walk asks for the chains in. */
static int parse_finish(struct legacy_snapshot *s, struct parse *p)
{
	uint32_t n_builtin = 0, n_user = 0;

	if (!p->ended || p->is_open)
		return -EBADMSG;

	/* a jump that lands outside every chain (libiptc refuses the
	 * table) is caught where the rule is compiled: get_target() has no
	 * label for it */

	/* libiptc's order: built-in chains as they come, then the user
	 * chains sorted by name (libiptc keeps them sorted) */
	for (uint32_t i = 0; i < s->n_chains; i++)
		s->chains[i].builtin ? n_builtin++ : n_user++;
	s->order = xcalloc(s->n_chains ? s->n_chains : 1, sizeof(*s->order));
	uint32_t nb = 0, nu = n_builtin;
	for (uint32_t i = 0; i < s->n_chains; i++)
		s->order[s->chains[i].builtin ? nb++ : nu++] = i;
	qsort_r(s->order + n_builtin, n_user, sizeof(*s->order), user_chain_cmp, s);
	s->compiled = xcalloc(s->n_chains ? s->n_chains : 1, sizeof(*s->compiled));
	return 0;
}

/* One pass over the entries: their sizes and the chain boundaries. */
static int snapshot_parse(struct legacy_snapshot *s)
{
	struct parse p = { 0 };
	int r;

	r = legacy_snapshot_parse(s, &p, s->size);
	return r < 0 ? r : parse_finish(s, &p);
}

/* The serialized form (tests, the fuzz target): the hook layout, then the
 * entries. */
struct snapshot_header {
	uint32_t valid_hooks;
	uint32_t hook_entry[NF_INET_NUMHOOKS];
	uint32_t underflow[NF_INET_NUMHOOKS];
};

int legacy_snapshot_from_buffer(uint8_t nfproto, const void *data, size_t size, struct legacy_snapshot **out)
{
	struct legacy_snapshot *s;
	struct snapshot_header hdr;
	int r;

	if (size < sizeof(hdr) || size - sizeof(hdr) > UINT32_MAX)
		return -EBADMSG;
	memcpy(&hdr, data, sizeof(hdr));
	s = xcalloc(1, sizeof(*s));
	s->info.valid_hooks = hdr.valid_hooks;
	for (int h = 0; h < NF_INET_NUMHOOKS; h++) {
		s->info.hook_entry[h] = hdr.hook_entry[h];
		s->info.underflow[h] = hdr.underflow[h];
	}
	s->info.size = (unsigned)(size - sizeof(hdr));
	s->nfproto = nfproto;
	s->view = legacy_entry_view(nfproto);
	/* entries are read in place: keep them aligned as the kernel's are */
	s->buf = xmalloc(s->info.size ? s->info.size : 1);
	memcpy(s->buf, (const uint8_t *)data + sizeof(hdr), s->info.size);
	s->base = s->buf;
	s->size = s->info.size;
	r = snapshot_parse(s);
	if (r < 0) {
		legacy_snapshot_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int legacy_snapshot_export(uint8_t nfproto, const char *table, FILE *out)
{
	struct legacy_snapshot s = { .nfproto = nfproto };
	struct snapshot_header hdr = { 0 };
	const struct getinfo *info = &s.info;
	int r;

	r = snapshot_fetch(&s, table);
	if (r == 0) {
		hdr.valid_hooks = info->valid_hooks;
		for (int h = 0; h < NF_INET_NUMHOOKS; h++) {
			hdr.hook_entry[h] = info->hook_entry[h];
			hdr.underflow[h] = info->underflow[h];
		}
		if (fwrite(&hdr, sizeof(hdr), 1, out) != 1 || fwrite(s.base, 1, s.size, out) != s.size)
			r = -EIO;
	}
	if (s.buf_len)
		munmap(s.buf, s.buf_len);
	return r;
}

int legacy_snapshot_read(uint8_t nfproto, const char *table, struct legacy_snapshot **out)
{
	struct legacy_snapshot *s = xcalloc(1, sizeof(*s));
	int r;

	s->nfproto = nfproto;
	s->view = legacy_entry_view(nfproto);
	r = snapshot_fetch(s, table);
	if (r == 0)
		r = snapshot_parse(s);
	if (r < 0) {
		legacy_snapshot_free(s);
		return r;
	}
	*out = s;
	return 0;
}

/* ---- the walk the compiler drives (legacy_source_ops) ------------------ */

static const char *snap_first_chain(void *h)
{
	struct legacy_snapshot *s = h;

	s->iter = 0;
	s->rule_iter = 0;
	return s->n_chains ? s->chains[s->order[0]].name : NULL;
}

static const char *snap_next_chain(void *h)
{
	struct legacy_snapshot *s = h;

	if (s->iter + 1 >= s->n_chains)
		return NULL;
	return s->chains[s->order[++s->iter]].name;
}

static const struct snap_chain *chain_by_label(const struct legacy_snapshot *s, const char *label)
{
	for (uint32_t i = 0; i < s->n_chains; i++)
		if (s->chains[i].name == label)
			return &s->chains[i];
	for (uint32_t i = 0; i < s->n_chains; i++)
		if (!strcmp(s->chains[i].name, label))
			return &s->chains[i];
	return NULL;
}

#define RELEASE_STEP (1u << 20)

/* Hands the pages of entries below `upto` back to the kernel (reading them
 * again would see zeros: only entries of chains already walked go). */
static void snapshot_release(struct legacy_snapshot *s, uint32_t upto)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t from = ((uintptr_t)(s->base + s->released) + page - 1) & ~(page - 1);
	uintptr_t to = (uintptr_t)(s->base + upto) & ~(page - 1);

	/* in steps of a megabyte: a call per chain would cost more than it saves */
	if (!s->buf_len || to <= from || (to - from < RELEASE_STEP && upto < s->size))
		return;
	if (madvise((void *)from, to - from, MADV_DONTNEED) < 0)
		return;         /* keep them: only memory is at stake */
	s->released = (uint32_t)(to - (uintptr_t)s->base);
}

/* The walk is through with chain c: release what no chain still needs
 * (the compiler asks for chains in libiptc's order, which is the
 * snapshot's for tables libiptc wrote; any other order releases less). */
static void chain_walked(struct legacy_snapshot *s, const struct snap_chain *c)
{
	s->compiled[c - s->chains] = true;
	while (s->n_compiled < s->n_chains && s->compiled[s->n_compiled])
		s->n_compiled++;
	snapshot_release(s, s->n_compiled < s->n_chains ? s->chains[s->n_compiled].head : s->size);
}

static const void *snap_first_rule(const char *label, void *h)
{
	struct legacy_snapshot *s = h;

	if (s->cur)
		chain_walked(s, s->cur);
	/* the compiler asks in iteration order: try the chain at the cursor */
	if (s->rule_iter < s->n_chains && s->chains[s->order[s->rule_iter]].name == label)
		s->cur = &s->chains[s->order[s->rule_iter++]];
	else
		s->cur = chain_by_label(s, label);
	if (!s->cur || s->cur->first >= s->cur->end)
		return NULL;
	return s->base + s->cur->first;
}

static const void *snap_next_rule(const void *prev, void *h)
{
	struct legacy_snapshot *s = h;
	struct entry_view v;
	uint32_t off = (uint32_t)((const uint8_t *)prev - s->base);

	s->view(prev, &v);
	off += v.size;
	return s->cur && off < s->cur->end ? s->base + off : NULL;
}

static const char *snap_get_target(const void *e, void *h)
{
	struct legacy_snapshot *s = h;
	struct entry_view v;
	uint32_t off = (uint32_t)((const uint8_t *)e - s->base);
	int verdict;

	s->view(e, &v);
	if (!legacy_standard_verdict(&v, &verdict))
		return legacy_entry_target(&v)->u.user.name;
	if (verdict < 0)
		return legacy_verdict_label(verdict);
	if ((uint32_t)verdict == off + v.size)
		return "";              /* a rule without a target */
	const struct snap_chain *c = legacy_snapshot_chain_at(s, (uint32_t)verdict);
	return c ? c->name : NULL;
}

static int snap_builtin(const char *label, void *h)
{
	const struct snap_chain *c = chain_by_label(h, label);

	return c && c->builtin;
}

static const char *snap_get_policy(const char *label, void *h)
{
	const struct snap_chain *c = chain_by_label(h, label);

	return c && c->builtin ? legacy_verdict_label(c->policy) : NULL;
}

const struct legacy_source_ops legacy_snapshot_ops = {
	.first_chain = snap_first_chain,
	.next_chain = snap_next_chain,
	.first_rule = snap_first_rule,
	.next_rule = snap_next_rule,
	.get_target = snap_get_target,
	.builtin = snap_builtin,
	.get_policy = snap_get_policy,
};

int legacy_table_from_snapshot(struct legacy_snapshot *s, const char *table, struct arena *a,
			       struct cg_table *t)
{
	return legacy_table_from_source(&legacy_snapshot_ops, s, s->nfproto, table, a, t);
}
