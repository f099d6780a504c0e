/* SPDX-License-Identifier: GPL-2.0-or-later */
/* legacy_table_read(): one x_tables table, streamed, the table never
 * resident as a whole, or, when it cannot be, read whole
 * (legacy-snapshot.c). */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <stdlib.h>
#include <string.h>
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
	uint32_t last_target;       /* the chain (index) the last jump back landed in */
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
	    v[n - 1].immediate.verdict.chain_name == forward_label) {
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
		const struct snap_chain *c = legacy_snapshot_chain_at(w->s, d.target);

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
		r = legacy_chain_base(s->nfproto, w->table, legacy_verdict_label(sc->policy), c);
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
		if (!legacy_standard_verdict(&v, &verdict)) {
			label = legacy_entry_target(&v)->u.user.name;
		} else if (verdict < 0) {
			label = legacy_verdict_label(verdict);
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
			const struct snap_chain *tc = NULL;

			/* the chain the last jump landed in first: every
			 * endpoint chain of kube-proxy jumps to KUBE-MARK-MASQ */
			if (w->last_target < s->n_chains && s->chains[w->last_target].head <= (uint32_t)verdict &&
			    (uint32_t)verdict <= s->chains[w->last_target].foot)
				tc = &s->chains[w->last_target];
			else
				tc = legacy_snapshot_chain_at(s, (uint32_t)verdict);
			if (tc)
				w->last_target = (uint32_t)(tc - s->chains);

			/* a chain already made: the compiler is handed it,
			 * and its name as the label (the pointer
			 * swalk_chain() gave the chain: compile_standard()
			 * names the jump with it, reading neither) */
			label = tc ? tc->name : NULL;
			w->ctx.target = tc ? &w->t->chains[tc - s->chains] : NULL;
			/* rule_pack() reads the chain's name (does it name
			 * itself?) once the rule is compiled: a chain made
			 * long ago is in memory, not in the cache, by then
			 * unless asked for now */
			if (w->ctx.target)
				__builtin_prefetch(&w->ctx.target->name);
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
		r = legacy_snapshot_parse(s, &p, complete);
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
		/* every jump points at its chain (or, landing in none, is
		 * gone): ruleset_resolve() need not look */
		t->jumps_resolved = true;
		t->no_xt_set = w->ctx.set_matches == 0;
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
			struct swalk w = { .last_target = UINT32_MAX, .abort_test = env && !strcmp(env, "abort"),
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
