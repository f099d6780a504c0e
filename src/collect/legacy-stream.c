/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IPT_SO_GET_ENTRIES (IP6T_*) into a buffer that is never resident as a
 * whole. The kernel insists on a buffer of the table's full size and copies
 * the entries into it in order, entry by entry (copy_entries_to_user(): the
 * header, the counters into it, each match, the target; every byte of an
 * entry is written, padding included). The buffer is registered with a
 * userfaultfd (missing pages): the kernel's copy_to_user() then stops at
 * the first page that is not there yet, and the caller of
 * xt_stream_wait() learns that every entry ending below that page is
 * complete and will not be written again. The copy goes on at once (UFFDIO_COPY
 * of a zeroed chunk of pages at the faulting address) while the caller reads
 * those entries and hands their pages back (xt_stream_release(),
 * MADV_DONTNEED): the kernel's copy and the caller's reading run side by
 * side, on two cores where there are two, and the kernel waits only when it
 * is STREAM_AHEAD past what the caller has handed back. The table passes
 * through a window of a few megabytes.
 *
 * getsockopt() runs in a thread of its own (it sleeps in the kernel, in
 * the page fault, while its pages are missing); the caller's thread handles
 * the faults itself, so it never waits for anything but the userfaultfd or
 * the thread's end (poll(), with a timeout). Every way out lets the kernel
 * go: the rest of the buffer becomes PROT_NONE (the copy fails with EFAULT
 * instead of faulting the rest of the table in) and closing the
 * userfaultfd wakes the sleeping fault; the thread is joined.
 *
 * Where the kernel has UFFDIO_MOVE (6.8), the pages handed back are not
 * freed but moved to where the copy goes on (at most STREAM_POOL of them
 * wait there): a move re-points page table entries, where a copy of zeros
 * allocates, charges and clears each page and the release frees it again
 * (at 300k rules some 30,000 pages each way, tens of milliseconds of the
 * reading thread). Their old bytes do not matter: the kernel writes every
 * byte of every entry, and nothing is read past what it has written.
 *
 * The kernel holds x_tables' per-family mutex during the copy: while the
 * caller reads, other iptables-legacy commands of that family (in every
 * namespace) wait, as they do for any snapshot being copied. */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgnatcheck/common.h"
#include "legacy-internal.h"

#define STREAM_CHUNK (1u << 20)        /* pages resolved per fault */
#define STREAM_AHEAD (4u << 20)        /* resolved ahead of what is released */
#define STREAM_RELEASE_STEP (512u << 10) /* handed back at least this much at once */
#define STREAM_TIMEOUT_MS 10000        /* no progress at all for this long: give up */
#define STREAM_POOL (2u * STREAM_CHUNK)  /* handed back pages kept for moving */

/* UFFDIO_MOVE (Linux 6.8), which older headers do not name */
#ifndef _UFFDIO_MOVE
#define _UFFDIO_MOVE (0x05)
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
#define UFFDIO_MOVE_MODE_DONTWAKE ((__u64)1 << 0)
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ((__u64)1 << 1)
	__u64 mode;
	__s64 move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif

struct xt_stream {
	int uffd, efd, sock, level, opt;
	pthread_t thread;
	bool started, done;
	bool move;                  /* UFFDIO_MOVE works: handed back pages are moved */
	int result;                 /* getsockopt(): 0 or -errno */
	uint8_t *map;               /* struct ipt_get_entries + the entries */
	size_t map_len, page;
	const uint8_t *entries;     /* map + offsetof(entrytable) */
	uint32_t size;              /* the entries' bytes */
	size_t resolved;            /* map offset: the pages below are there */
	size_t released;            /* map offset: the pages below are handed back */
	size_t pool;                /* map offset: [pool, released) is still there,
				     * for moving (pool == released without moves) */
	bool pending;               /* a fault (at pending_at) waits for us */
	size_t pending_at;          /* map offset of the faulting page */
	uint32_t complete;          /* entry offset: the entries ending below are final */
	void *zeros;                /* STREAM_CHUNK readable zero bytes */
	struct xt_stream_stats stats;
};

/* ---- the userfaultfd ---------------------------------------------------- */

static const char *unavailable;      /* why not (cached: asked once a process) */

/* A userfaultfd that handles the kernel's own faults (no
 * UFFD_USER_MODE_ONLY): /dev/userfaultfd grants that to whoever may open it
 * (root's 0600 node: uid 0 without any capability); the system call needs
 * CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1. */
static int uffd_open(void)
{
	int dev, fd, e1, e2;

	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		e1 = errno;
		close(dev);
		if (fd >= 0)
			return fd;
	} else {
		e1 = errno;
	}
#ifdef SYS_userfaultfd
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	e2 = errno;
#else
	e2 = ENOSYS;
#endif
	if (e1 == ENOENT || e1 == ENOTTY)
		unavailable = e2 == EPERM ? "no /dev/userfaultfd, and the userfaultfd() system call is refused "
			"(it needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1)" : "userfaultfd is not available";
	else if (e1 == EACCES || e1 == EPERM)
		unavailable = e2 == EPERM ? "/dev/userfaultfd is not ours to open (root's), and the userfaultfd() "
			"system call is refused (it needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1)" :
			"/dev/userfaultfd is not ours to open, and the userfaultfd() system call failed";
	else
		unavailable = "neither /dev/userfaultfd nor the userfaultfd() system call works here";
	return -(e2 ? e2 : e1);
}

/* ---- the thread in the kernel ----------------------------------------- */

static void *stream_thread(void *arg)
{
	struct xt_stream *st = arg;
	socklen_t len = (socklen_t)(offsetof(struct ipt_get_entries, entrytable) + st->size);
	uint64_t one = 1;

	st->result = getsockopt(st->sock, st->level, st->opt, st->map, &len) < 0 ? -errno : 0;
	/* the caller polls this; it reads result only after joining */
	while (write(st->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Lets the kernel write [resolved, to) (map offsets, page aligned). */
static int stream_resolve(struct xt_stream *st, size_t to)
{
	size_t from = st->resolved;

	if (to > st->map_len)
		to = st->map_len;
	while (st->resolved < to) {
		size_t n = to - st->resolved;
		struct uffdio_copy c = {
			.dst = (uintptr_t)(st->map + st->resolved),
			.src = (uintptr_t)st->zeros,
			.len = n < STREAM_CHUNK ? n : STREAM_CHUNK,
		};

		if (st->move && st->pool < st->released) {
			struct uffdio_move m = {
				.dst = (uintptr_t)(st->map + st->resolved),
				.src = (uintptr_t)(st->map + st->pool),
				.len = c.len < st->released - st->pool ? c.len : st->released - st->pool,
				.mode = UFFDIO_MOVE_MODE_DONTWAKE,
			};

			if (ioctl(st->uffd, UFFDIO_MOVE, &m) == 0 || m.move > 0) {
				size_t moved = m.move > 0 ? (size_t)m.move : m.len;

				st->resolved += moved;
				st->pool += moved;
				continue;
			}
			if (errno == EAGAIN || errno == EINTR)
				continue;
			/* anything else (a page shared since a fork: EBUSY):
			 * no more moves, the pool is freed and zeros are
			 * copied from now on */
			st->move = false;
			if (madvise(st->map + st->pool, st->released - st->pool, MADV_DONTNEED) == 0)
				st->pool = st->released;
		}
		if (ioctl(st->uffd, UFFDIO_COPY, &c) == 0 || c.copy > 0) {
			st->resolved += c.copy > 0 ? (size_t)c.copy : c.len;
			continue;
		}
		if (c.copy == -EEXIST || errno == EEXIST) {
			st->resolved += st->page;   /* there already: leave it */
			continue;
		}
		if (errno == EAGAIN || errno == EINTR)
			continue;
		return -errno;
	}
	if (to > from) {
		/* a fault on a page that was there already sleeps too */
		struct uffdio_range w = { .start = (uintptr_t)(st->map + from), .len = to - from };
		(void)ioctl(st->uffd, UFFDIO_WAKE, &w);
	}
	st->pending = false;
	return 0;
}

static int stream_resolve_pending(struct xt_stream *st)
{
	size_t to = st->resolved + STREAM_CHUNK;

	if (!st->pending)
		return 0;
	if (st->pending_at + st->page > to)
		to = st->pending_at + st->page;
	return stream_resolve(st, to);
}

/* Whether the pending fault may be resolved now: the pages resolved and
 * not yet handed back stay within STREAM_AHEAD. */
static bool stream_ahead_ok(const struct xt_stream *st)
{
	return st->pending && st->resolved + STREAM_CHUNK <= st->released + STREAM_AHEAD;
}

/* The kernel is through: the entries are all there (or it failed). */
static int stream_done(struct xt_stream *st)
{
	if (st->started) {
		pthread_join(st->thread, NULL);
		st->started = false;
	}
	st->done = true;
	st->pending = false;
	/* no faults any more: the userfaultfd goes (a stray read of a handed
	 * back page would see a zero page instead of sleeping forever) */
	if (st->uffd >= 0) {
		close(st->uffd);
		st->uffd = -1;
	}
	st->complete = st->size;
	return st->result < 0 ? st->result : 1;
}

int xt_stream_open(int sock, int level, int opt, const char *table, uint32_t size, struct xt_stream **out,
		   const char **why)
{
	struct xt_stream *st;
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct ipt_get_entries *ge;
	sigset_t all, old;
	int r;

	*why = NULL;
	if (unavailable) {
		*why = unavailable;
		return -EPERM;
	}
	st = xcalloc(1, sizeof(*st));
	st->uffd = st->efd = -1;
	st->sock = sock;
	st->level = level;
	st->opt = opt;
	st->size = size;
	st->page = (size_t)sysconf(_SC_PAGESIZE);
	st->map_len = (offsetof(struct ipt_get_entries, entrytable) + size + st->page - 1) & ~(st->page - 1);
	st->uffd = r = uffd_open();
	if (r < 0) {
		*why = unavailable;
		goto fail;
	}
	/* moves asked for; a kernel without them refuses the feature, and
	 * a userfaultfd takes one handshake: a new one without */
	api.features = UFFD_FEATURE_MOVE;
	if (ioctl(st->uffd, UFFDIO_API, &api) == 0) {
		st->move = true;
	} else if (errno == EINVAL) {
		close(st->uffd);
		st->uffd = r = uffd_open();
		if (r < 0) {
			*why = unavailable;
			goto fail;
		}
		api = (struct uffdio_api){ .api = UFFD_API };
		if (ioctl(st->uffd, UFFDIO_API, &api) < 0) {
			r = -errno;
			*why = unavailable = "the userfaultfd API handshake (UFFDIO_API) failed";
			goto fail;
		}
	} else {
		r = -errno;
		*why = unavailable = "the userfaultfd API handshake (UFFDIO_API) failed";
		goto fail;
	}
	st->map = mmap(NULL, st->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	st->zeros = mmap(NULL, STREAM_CHUNK, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st->map == MAP_FAILED || st->zeros == MAP_FAILED) {
		if (st->map == MAP_FAILED)
			st->map = NULL;
		if (st->zeros == MAP_FAILED)
			st->zeros = NULL;
		r = -ENOMEM;
		*why = "no memory for the mapping";
		goto fail;
	}
	/* the request (table name, size) on the first page, which is there */
	ge = (struct ipt_get_entries *)st->map;
	snprintf(ge->name, sizeof(ge->name), "%s", table);
	ge->size = size;
	st->entries = (const uint8_t *)ge->entrytable;
	st->resolved = st->released = st->pool = st->page;
	reg.range.start = (uintptr_t)st->map;
	reg.range.len = st->map_len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(st->uffd, UFFDIO_REGISTER, &reg) < 0 || !(reg.ioctls & (1ull << _UFFDIO_COPY))) {
		r = reg.ioctls ? -EOPNOTSUPP : -errno;
		*why = "the buffer cannot be registered with the userfaultfd (UFFDIO_REGISTER)";
		goto fail;
	}
	st->move = st->move && (reg.ioctls & (1ull << _UFFDIO_MOVE));
	st->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (st->efd < 0) {
		r = -errno;
		*why = "no eventfd";
		goto fail;
	}
	/* the thread takes no signal: it only sleeps in getsockopt() */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&st->thread, NULL, stream_thread, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		*why = "no thread for the copy";
		goto fail;
	}
	st->started = true;
	*out = st;
	return 0;
fail:
	xt_stream_close(st);
	return r;
}

const uint8_t *xt_stream_entries(const struct xt_stream *st)
{
	return st->entries;
}

const struct xt_stream_stats *xt_stream_stats(const struct xt_stream *st)
{
	return &st->stats;
}

int xt_stream_wait(struct xt_stream *st, uint32_t *complete)
{
	struct pollfd pfd[2] = { { .fd = st->uffd, .events = POLLIN }, { .fd = st->efd, .events = POLLIN } };

	if (st->done) {
		*complete = st->complete;
		return st->result < 0 ? st->result : 1;
	}
	/* the caller wants more: let the kernel go on */
	if (stream_resolve_pending(st) < 0)
		return -EFAULT;
	for (;;) {
		struct uffd_msg msg;
		ssize_t n;
		int r = poll(pfd, 2, STREAM_TIMEOUT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		if (pfd[0].revents & POLLIN) {
			n = read(st->uffd, &msg, sizeof(msg));
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n != sizeof(msg))
				return n < 0 ? -errno : -EIO;
			if (msg.event != UFFD_EVENT_PAGEFAULT)
				continue;
			uintptr_t at = (uintptr_t)msg.arg.pagefault.address & ~(uintptr_t)(st->page - 1);
			if (at < (uintptr_t)st->map + st->resolved || at >= (uintptr_t)st->map + st->map_len)
				/* a page that was handed back, or not ours:
				 * nobody should touch those */
				return -EFAULT;
			st->stats.faults++;
			st->pending = true;
			st->pending_at = at - (uintptr_t)st->map;
			/* the entries ending below the faulting page are
			 * written; the one it is in is not */
			size_t below = at - (uintptr_t)st->entries;
			if (below > st->size)
				below = st->size;
			if (below > st->complete)
				st->complete = (uint32_t)below;
			*complete = st->complete;
			/* the kernel copies the next chunk while the caller
			 * reads this one (the two run side by side), as long
			 * as the window allows */
			if (stream_ahead_ok(st) && stream_resolve_pending(st) < 0)
				return -EFAULT;
			return 0;
		}
		if (pfd[1].revents & (POLLIN | POLLERR | POLLHUP)) {
			r = stream_done(st);
			*complete = st->complete;
			return r;
		}
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			return -EIO;
	}
}

void xt_stream_release(struct xt_stream *st, uint32_t upto)
{
	size_t to = ((size_t)(st->entries - st->map) + upto) & ~(st->page - 1);

	if (to > st->resolved)
		to = st->resolved;
	/* in steps: a call per chain would cost more than it saves */
	if (to > st->released && (to - st->released >= STREAM_RELEASE_STEP || upto >= st->size)) {
		if (st->move && !st->done) {
			/* kept for the next moves, up to STREAM_POOL */
			st->released = to;
			if (st->released - st->pool > STREAM_POOL) {
				size_t keep = st->released - STREAM_POOL;

				if (madvise(st->map + st->pool, keep - st->pool, MADV_DONTNEED) == 0)
					st->pool = keep;
			}
		} else if (madvise(st->map + st->pool, to - st->pool, MADV_DONTNEED) == 0) {
			st->released = st->pool = to;
		}
	}
	if (st->resolved - st->released > st->stats.window)
		st->stats.window = st->resolved - st->released;
	/* read ahead: the kernel copies the next chunk while the caller
	 * compiles this one */
	if (stream_ahead_ok(st))
		(void)stream_resolve_pending(st);
}

void xt_stream_close(struct xt_stream *st)
{
	if (!st)
		return;
	if (st->started && !st->done && st->map) {
		/* the kernel is still copying (or waits for us): the rest of
		 * the buffer becomes inaccessible, so the copy fails (EFAULT)
		 * rather than faulting the rest of the table in */
		if (st->resolved < st->map_len)
			(void)mmap(st->map + st->resolved, st->map_len - st->resolved, PROT_NONE,
				   MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	/* closing the userfaultfd wakes a fault that sleeps in it */
	if (st->uffd >= 0)
		close(st->uffd);
	st->uffd = -1;
	if (st->started)
		pthread_join(st->thread, NULL);
	if (st->efd >= 0)
		close(st->efd);
	if (st->map)
		munmap(st->map, st->map_len);
	if (st->zeros)
		munmap(st->zeros, STREAM_CHUNK);
	free(st);
}
