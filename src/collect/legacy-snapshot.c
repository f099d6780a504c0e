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
 * Better still (legacy_table_read(), at the end of this file): the snapshot
 * is read while the kernel copies it out (legacy-stream.c, a userfaultfd),
 * each chain compiled as its entries arrive, so it is never resident whole.
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
#include <signal.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/xt.h"
#include "legacy-internal.h"

/* The kernel's getinfo structs of both families share one layout. */
struct getinfo {
	char name[XT_TABLE_MAXNAMELEN];
	unsigned int valid_hooks;
	unsigned int hook_entry[NF_INET_NUMHOOKS];
	unsigned int underflow[NF_INET_NUMHOOKS];
	unsigned int num_entries;
	unsigned int size;
};
_Static_assert(sizeof(struct getinfo) == sizeof(struct ipt_getinfo), "ipt_getinfo layout");
_Static_assert(sizeof(struct getinfo) == sizeof(struct ip6t_getinfo), "ip6t_getinfo layout");
_Static_assert(sizeof(struct ipt_get_entries) == sizeof(struct ip6t_get_entries), "get_entries layout");

struct snap_chain {
	const char *name;           /* the label (a copy: the snapshot's pages are released) */
	uint32_t head, foot;        /* first and last entry offset of the chain */
	uint32_t first, end;        /* its rules: entries [first, end) */
	bool builtin;
	uint32_t hook;
	int policy;                 /* built-in chains: the policy entry's verdict */
};

struct legacy_snapshot {
	uint8_t nfproto;
	void *buf;                  /* struct ipt_get_entries / ip6t_get_entries */
	size_t buf_len;             /* mapped length; 0: buf is malloc()ed */
	uint32_t released;          /* entries below this offset are handed back */
	struct arena names;         /* the user chains' names */
	struct arena *names_into;   /* or the model's arena (the stream: one copy) */
	bool *compiled;             /* per chain (snapshot order): walked through */
	uint32_t n_compiled;        /* leading chains (snapshot order) all walked */
	const uint8_t *base;        /* its entry table */
	uint32_t size;
	void (*view)(const void *e, struct entry_view *v);
	struct snap_chain *chains;  /* in snapshot order (by head offset) */
	uint32_t n_chains;
	uint32_t *order;            /* iteration order: libiptc's */
	uint32_t iter;              /* first_chain()/next_chain() position */
	uint32_t rule_iter;         /* first_rule() is asked in the same order */
	const struct snap_chain *cur; /* the chain first_rule() opened */
	struct getinfo info;        /* the hook layout, the size */
};

static const char *const hook_names[NF_INET_NUMHOOKS] = {
	[NF_INET_PRE_ROUTING] = "PREROUTING", [NF_INET_LOCAL_IN] = "INPUT",
	[NF_INET_FORWARD] = "FORWARD", [NF_INET_LOCAL_OUT] = "OUTPUT",
	[NF_INET_POST_ROUTING] = "POSTROUTING",
};

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

static const struct xt_entry_target *entry_target(const struct entry_view *v)
{
	return (const void *)((const uint8_t *)v->entry + v->target_offset);
}

/* A standard target's verdict; false for any other target. */
static bool standard_verdict(const struct entry_view *v, int *verdict)
{
	const struct xt_entry_target *t = entry_target(v);

	if (t->u.user.name[0] != '\0')
		return false;
	*verdict = ((const struct xt_standard_target *)t)->verdict;
	return true;
}

static bool is_error_target(const struct entry_view *v)
{
	const char *name = entry_target(v)->u.user.name;

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
	t = entry_target(v);
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

static const struct snap_chain *chain_at(const struct legacy_snapshot *s, uint32_t off)
{
	uint32_t lo = 0, hi = s->n_chains;

	/* the last chain whose head is at or before off */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->chains[mid].head <= off)
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

/* The walk over the entries that finds the chain boundaries, one entry at
 * a time: the whole table at once, or (streamed) as the kernel's copy
 * completes entries. It appends each chain to s->chains as it ends, and
 * tells closed() (streamed: the chain is compiled there). */
struct parse {
	uint32_t off, prev;                 /* the next entry, the one before */
	struct snap_chain open;             /* the chain being read */
	bool is_open, ended;
	size_t cap;
	int (*closed)(void *arg, uint32_t chain);
	void *arg;
};

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
	s->chains[s->n_chains++] = p->open;
	return p->closed ? p->closed(p->arg, s->n_chains - 1) : 0;
}

/* The entries that end at or below `upto` (s->size: all of them). */
static int parse_entries(struct legacy_snapshot *s, struct parse *p, uint32_t upto)
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
			const char *name = ((const struct xt_error_target *)entry_target(&v))->errorname;

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
			chain_begin(s, p, (struct snap_chain){ .name = hook_names[h], .head = off, .first = off,
							       .builtin = true, .hook = h }, NULL);
		}
		if (p->is_open && p->open.builtin && info->underflow[p->open.hook] == off) {
			if (!standard_verdict(&v, &p->open.policy))
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

	r = parse_entries(s, &p, s->size);
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

static const char *verdict_label(int verdict)
{
	switch (verdict) {
	case -NF_ACCEPT - 1:
		return "ACCEPT";
	case -NF_DROP - 1:
		return "DROP";
	case -NF_QUEUE - 1:
		return "QUEUE";
	case XT_RETURN:
		return "RETURN";
	default:
		return NULL;
	}
}

static const char *snap_get_target(const void *e, void *h)
{
	struct legacy_snapshot *s = h;
	struct entry_view v;
	uint32_t off = (uint32_t)((const uint8_t *)e - s->base);
	int verdict;

	s->view(e, &v);
	if (!standard_verdict(&v, &verdict))
		return entry_target(&v)->u.user.name;
	if (verdict < 0)
		return verdict_label(verdict);
	if ((uint32_t)verdict == off + v.size)
		return "";              /* a rule without a target */
	const struct snap_chain *c = chain_at(s, (uint32_t)verdict);
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

	return c && c->builtin ? verdict_label(c->policy) : NULL;
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


/* ---- streamed: the table never resident as a whole --------------------- */

/* One pass over the kernel's copy (legacy-stream.c): the entries are parsed
 * as the copy completes them, each chain is compiled when its last entry
 * is there, and the pages behind the chain being read are handed back, so
 * a few megabytes of the table are resident at a time.
 *
 * The result is the walk's (legacy_table_from_source() over the whole
 * snapshot), chain for chain: the chains come in the snapshot's order,
 * which is libiptc's (built-in chains, then the user chains sorted by name)
 * for every table libiptc wrote; a table in any other order is read whole.
 * A jump to a chain further on names a chain not seen yet: such a rule is
 * compiled at once with a placeholder target, and pointed at its chain
 * (rule_repack()) when the chain it lands in ends. */

enum { STREAM_ATTEMPTS = 3 };

struct deferred {
	uint32_t target;            /* the verdict: an offset past the chain */
	uint32_t chain, rule;       /* t->chains[chain].rules[rule] */
};

/* the target of a jump whose chain is still to come */
static const char forward_label[] = "(forward)";

struct swalk {
	struct legacy_snapshot *s;  /* the stream's entries, the layout so far */
	struct xt_stream *st;
	const char *table;
	struct arena *a;
	struct cg_table *t;
	uint32_t cap;               /* room in t->chains */
	struct compile_ctx ctx;
	const char *last_user;      /* libiptc's order: names ascending */
	bool user_seen;
	struct deferred *heap;      /* by target, smallest first */
	size_t n_heap, cap_heap;
	size_t deferred_bytes, deferred_peak;
	bool logged;                /* the error is the table's, and logged */
	const char *why;
	bool abort_test;            /* give up after the first chain */
	bool pause_test;            /* wait 2 s after it (once), the kernel in its copy */
};

static void heap_push(struct swalk *w, struct deferred d)
{
	size_t i;

	grow_array((void **)&w->heap, &w->cap_heap, w->n_heap + 1, sizeof(*w->heap));
	for (i = w->n_heap++; i > 0 && w->heap[(i - 1) / 2].target > d.target; i = (i - 1) / 2)
		w->heap[i] = w->heap[(i - 1) / 2];
	w->heap[i] = d;
}

static struct deferred heap_pop(struct swalk *w)
{
	struct deferred top = w->heap[0], last = w->heap[--w->n_heap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= w->n_heap)
			break;
		if (c + 1 < w->n_heap && w->heap[c + 1].target < w->heap[c].target)
			c++;
		if (w->heap[c].target >= last.target)
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (w->n_heap)
		w->heap[i] = last;
	return top;
}

/* Compiles rule `rule` of chain `chain` from entry e; label as
 * get_target() gives it. */
static int swalk_rule(struct swalk *w, uint32_t chain, uint32_t rule, const void *e, const char *label)
{
	struct entry_view v = { 0 };
	int r;

	w->s->view(e, &v);
	v.target_label = label;
	r = legacy_rule_fill(w->s->nfproto, w->table, &w->t->chains[chain], rule, &v, &w->ctx);
	if (r < 0)
		w->logged = true;
	return r;
}

/* Points the jump of a rule compiled with forward_label at chain c, or,
 * for an offset in no chain, drops it: a rule without a target, as the
 * whole-buffer walk compiles it (snap_get_target()). */
static void jump_land(struct swalk *w, struct cg_rule *rule, struct cg_chain *c)
{
	struct cg_expr_buf eb;
	struct cg_expr *v = (struct cg_expr *)(uintptr_t)rule_exprs(rule, &eb);
	uint32_t n = rule->n_exprs;

	/* compile_standard() puts the verdict last */
	if (n && v[n - 1].type == CG_EXPR_IMMEDIATE && !v[n - 1].immediate.verdict.chain &&
	    v[n - 1].immediate.verdict.chain_name &&
	    strcmp(v[n - 1].immediate.verdict.chain_name, forward_label) == 0) {
		if (c) {
			v[n - 1].immediate.verdict.chain = c;
			v[n - 1].immediate.verdict.chain_name = c->name;
			if (rule_repack(rule, v) < 0)
				rule_pack(rule, w->a, v, n); /* cannot happen: it only shrinks */
		} else {
			rule_pack(rule, w->a, v, n - 1);
		}
	}
	expr_buf_free(&eb);
}

/* The jumps deferred to a place at or below `upto` (the end of the chain
 * that just ended, or the table's end), now that it is known which chain
 * they land in. */
static int swalk_resolve(struct swalk *w, uint32_t upto)
{
	while (w->n_heap && w->heap[0].target <= upto) {
		struct deferred d = heap_pop(w);
		const struct snap_chain *c = chain_at(w->s, d.target);

		w->deferred_bytes -= sizeof(d);
		jump_land(w, &w->t->chains[d.chain].rules[d.rule], c ? &w->t->chains[c - w->s->chains] : NULL);
	}
	return 0;
}

/* The parse's closed(): chain i of the snapshot is complete. */
static int swalk_chain(void *arg, uint32_t i)
{
	struct swalk *w = arg;
	struct legacy_snapshot *s = w->s;
	const struct snap_chain *sc = &s->chains[i];
	struct cg_chain *c;
	uint32_t n = 0, off;
	int r;

	if (i >= w->cap) {
		w->why = "more chains than its entries allow";
		return -EBADMSG;
	}
	if (sc->builtin ? w->user_seen : w->last_user && strcmp(w->last_user, sc->name) >= 0) {
		w->why = "its chains are not in libiptc's order";
		return -EOPNOTSUPP;
	}
	if (!sc->builtin) {
		w->user_seen = true;
		w->last_user = sc->name;
	}
	c = &w->t->chains[i];
	c->table = w->t;
	/* the parse put it in the model's arena (or it is a hook's name) */
	c->name = sc->name;
	w->t->n_chains = i + 1;
	if (sc->builtin) {
		r = legacy_chain_base(s->nfproto, w->table, verdict_label(sc->policy), c);
		if (r < 0) {
			w->logged = true;
			return r;
		}
	}
	r = swalk_resolve(w, sc->foot);
	if (r < 0)
		return r;

	for (off = sc->first; off < sc->end; n++) {
		struct entry_view v;

		s->view(s->base + off, &v);
		off += v.size;
	}
	c->n_rules = n;
	c->rules = n ? arena_alloc(w->a, n * sizeof(*c->rules)) : NULL;
	n = 0;
	for (off = sc->first; off < sc->end; n++) {
		const void *e = s->base + off;
		struct entry_view v;
		const char *label;
		int verdict;

		s->view(e, &v);
		if (!standard_verdict(&v, &verdict)) {
			label = entry_target(&v)->u.user.name;
		} else if (verdict < 0) {
			label = verdict_label(verdict);
		} else if ((uint32_t)verdict == off + v.size) {
			label = "";     /* a rule without a target */
		} else if ((uint32_t)verdict > sc->foot) {
			/* a chain further on: pointed at it when that one ends */
			heap_push(w, (struct deferred){ .target = (uint32_t)verdict, .chain = i, .rule = n });
			w->deferred_bytes += sizeof(struct deferred);
			if (w->deferred_bytes > w->deferred_peak)
				w->deferred_peak = w->deferred_bytes;
			label = forward_label;
		} else {
			const struct snap_chain *tc = chain_at(s, (uint32_t)verdict);

			/* a chain already made: the compiler is handed it */
			label = tc ? tc->name : NULL;
			w->ctx.target = tc ? &w->t->chains[tc - s->chains] : NULL;
		}
		r = swalk_rule(w, i, n, e, label);
		w->ctx.target = NULL;
		if (r < 0)
			return r;
		off += v.size;
	}
	return 0;
}

static void swalk_free(struct swalk *w)
{
	free(w->heap);
	free(w->ctx.tmp);
	arena_free(&w->ctx.scratch);
	xt_intern_free(w->ctx.xt);
}

/* One attempt: 0 and *t, or an error: w->logged when it is the table's
 * (a rule the walk cannot compile either), else why the stream failed. */
static int stream_attempt(uint8_t nfproto, const char *table, struct arena *a, struct cg_table *t,
			  struct swalk *w, struct legacy_read_info *ri)
{
	bool v6 = nfproto == NFPROTO_IPV6;
	int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	_cleanup_(legacy_snapshot_freep) struct legacy_snapshot *s = NULL;
	_cleanup_close_ int fd = -1;
	struct parse p = { .closed = swalk_chain, .arg = w };
	socklen_t len;
	int r = 0, done = 0;

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0) {
		w->why = "no raw socket";
		return -errno;
	}
	s = xcalloc(1, sizeof(*s));
	s->nfproto = nfproto;
	s->view = legacy_entry_view(nfproto);
	s->names_into = a;
	len = sizeof(s->info);
	snprintf(s->info.name, sizeof(s->info.name), "%s", table);
	if (getsockopt(fd, level, v6 ? IP6T_SO_GET_INFO : IPT_SO_GET_INFO, &s->info, &len) < 0) {
		w->why = "GET_INFO failed";
		return -errno;
	}
	r = xt_stream_open(fd, level, v6 ? IP6T_SO_GET_ENTRIES : IPT_SO_GET_ENTRIES, table, s->info.size,
			   &w->st, &w->why);
	if (r < 0)
		return r;
	s->base = xt_stream_entries(w->st);
	s->size = s->info.size;
	w->s = s;
	w->table = table;
	w->a = a;
	w->t = t;
	/* every user chain has two entries at least (its head and its
	 * return), a built-in one its policy; the table ends with one */
	w->cap = s->info.num_entries / 2 + NF_INET_NUMHOOKS;
	memset(t, 0, sizeof(*t));
	t->backend = CG_BACKEND_IPTABLES_LEGACY;
	t->family = nfproto;
	t->name = arena_strdup(a, table);
	/* arena memory is fresh from mmap(): the room never used stays
	 * untouched, so it costs no memory */
	t->chains = arena_alloc(a, w->cap * sizeof(*t->chains));
	w->ctx.arena = a;

	while (done != 1) {
		uint32_t complete;

		done = xt_stream_wait(w->st, &complete);
		if (done < 0) {
			r = done;
			w->why = r == -EAGAIN ? "the table changed size" : r == -ETIMEDOUT ?
				 "the kernel's copy made no progress" : "the kernel's copy failed";
			break;
		}
		r = parse_entries(s, &p, complete);
		if (r < 0)
			break;
		if (w->pause_test && done == 0 && s->n_chains > 0) {
			/* tests: a stop asked for now must wait for the copy */
			struct timespec ts = { .tv_sec = 2 };

			w->pause_test = false;
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		if (w->abort_test && done == 0 && s->n_chains > 0) {
			/* tests: the way out of a copy the kernel is in */
			w->why = "CGNATCHECK_LEGACY_STREAM=abort (a test)";
			r = -ECANCELED;
			break;
		}
		/* everything before the chain being read is compiled (or
		 * copied, a jump waiting for its chain) */
		xt_stream_release(w->st, p.is_open ? p.open.head : p.off);
	}
	ri->faults += xt_stream_stats(w->st)->faults;
	if (xt_stream_stats(w->st)->window > ri->window)
		ri->window = xt_stream_stats(w->st)->window;
	xt_stream_close(w->st);
	w->st = NULL;
	s->base = NULL;
	w->s = NULL;
	if (r == 0 && (!p.ended || p.is_open))
		r = -EBADMSG;
	if (r == 0) {
		/* the jumps still waiting land past the last chain */
		w->s = s;
		r = swalk_resolve(w, UINT32_MAX);
		w->s = NULL;
	}
	if (r < 0 && !w->logged && !w->why)
		w->why = r == -EBADMSG ? "the snapshot does not parse" : "the stream failed";
	if (w->deferred_peak > ri->deferred)
		ri->deferred = w->deferred_peak;
	return r;
}

/* Job control must not stop the process in the middle of a stream: the
 * copying thread would stay in the kernel, in its page fault, holding
 * x_tables' lock, and every iptables-legacy command of the family, in every
 * namespace, would wait until the process is continued. A stop asked for
 * meanwhile (Ctrl-Z, SIGTTIN/SIGTTOU) is kept and honoured once the table
 * is read. A deliberate SIGSTOP, a debugger or a cgroup freeze cannot be
 * held off: the man page says so. */
static const int jobctl_signals[] = { SIGTSTP, SIGTTIN, SIGTTOU };
static volatile sig_atomic_t stop_deferred;

static void defer_stop(int sig)
{
	stop_deferred = sig;
}

struct jobctl {
	struct sigaction old[3];
	bool held[3];
};

static void jobctl_hold(struct jobctl *j)
{
	struct sigaction sa = { .sa_handler = defer_stop, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(jobctl_signals); i++) {
		j->held[i] = false;
		/* only the default (stop) is held: an ignored or handled
		 * signal is left as the program has it */
		if (sigaction(jobctl_signals[i], NULL, &j->old[i]) == 0 && j->old[i].sa_handler == SIG_DFL)
			j->held[i] = sigaction(jobctl_signals[i], &sa, NULL) == 0;
	}
}

static void jobctl_release(struct jobctl *j)
{
	int sig;

	for (size_t i = 0; i < ARRAY_SIZE(jobctl_signals); i++)
		if (j->held[i])
			sigaction(jobctl_signals[i], &j->old[i], NULL);
	sig = stop_deferred;
	stop_deferred = 0;
	if (sig)
		raise(sig);     /* the stop that was asked for, now */
}

/* Valgrind runs one thread at a time and does not let go of it while the
 * copying thread sits in getsockopt(): the fault could never be answered. */
static bool running_on_valgrind(void)
{
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
	if (RUNNING_ON_VALGRIND)
		return true;
#endif
#endif
	/* without the header: valgrind's preload library gives it away */
	const char *pre = getenv("LD_PRELOAD");

	return pre && strstr(pre, "vgpreload");
}

int legacy_table_read(uint8_t nfproto, const char *table, struct arena *a, struct cg_table *t,
		      struct legacy_read_info *ri)
{
	_cleanup_(legacy_snapshot_freep) struct legacy_snapshot *snap = NULL;
	const char *env = getenv("CGNATCHECK_LEGACY_STREAM");
	const char *family = legacy_family_label(nfproto);
	const char *why = "CGNATCHECK_LEGACY_STREAM=0";
	struct legacy_read_info info;
	int r = 0;

	if (!ri)
		ri = &info;
	memset(ri, 0, sizeof(*ri));
	if (running_on_valgrind()) {
		env = "0";
		why = "running under valgrind, which serializes threads: the copying thread would "
		      "wait for the fault handler forever, holding x_tables' lock";
	}
	if (!env || strcmp(env, "0") != 0) {
		struct jobctl jc;

		jobctl_hold(&jc);
		for (unsigned attempt = 0; attempt < STREAM_ATTEMPTS; attempt++) {
			struct swalk w = { .abort_test = env && !strcmp(env, "abort"),
					   .pause_test = env && !strcmp(env, "pause") && attempt == 0 };

			ri->attempts++;
			r = stream_attempt(nfproto, table, a, t, &w, ri);
			why = w.why;
			ri->logged = w.logged;
			swalk_free(&w);
			if (r == 0 || ri->logged || r != -EAGAIN)
				break;
		}
		jobctl_release(&jc);
		if (r == 0) {
			ri->streamed = true;
			log_debug("iptables-legacy %s table '%s': streamed through a userfaultfd "
				  "(%u attempt(s), %u faults, window %zu KiB, jumps ahead %zu KiB)", family,
				  table, ri->attempts, ri->faults, ri->window >> 10, ri->deferred >> 10);
			return 0;
		}
		if (ri->logged)
			return r;
	}
	log_debug("iptables-legacy %s table '%s': read whole, not streamed: %s%s%s", family, table,
		  why ? why : "it kept changing size", r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
	r = legacy_snapshot_read(nfproto, table, &snap);
	if (r < 0)
		return r;
	r = legacy_table_from_snapshot(snap, table, a, t);
	ri->logged = r < 0;
	return r;
}
