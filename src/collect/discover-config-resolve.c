/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names through glibc (nsswitch: /etc/hosts, DNS, ...), all at once with
 * getaddrinfo_a() and one deadline for them all: a resolver that does not
 * answer (perhaps the very DNS problem the audit reports) costs the audit
 * that deadline and no more. glibc cannot take back a lookup its helper
 * thread is running; such a request's memory is kept (reachable, for
 * LeakSanitizer) until a later call finds it done, or the process ends. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cgnatcheck/common.h"
#include "discover-config-internal.h"

/* one call's requests */
struct batch {
	struct gaicb *cbs;
	struct gaicb **list;
	struct addrinfo hints;
	size_t n;
	struct batch *next;   /* abandoned batches */
};

static struct batch *abandoned;
static pthread_mutex_t abandoned_lock = PTHREAD_MUTEX_INITIALIZER;

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free((char *)b->cbs[i].ar_name);
	free(b->cbs);
	free(b->list);
	free(b);
}

/* whether glibc is done with every request of b (results freed) */
static bool batch_done(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (!b->list[i])
			continue;
		if (gai_error(b->list[i]) == EAI_INPROGRESS)
			return false;
		if (b->list[i]->ar_result)
			freeaddrinfo(b->list[i]->ar_result);
		b->list[i]->ar_result = NULL;
		b->list[i] = NULL;
	}
	return true;
}

static void sweep_abandoned(void)
{
	pthread_mutex_lock(&abandoned_lock);
	for (struct batch **p = &abandoned; *p;) {
		struct batch *b = *p;
		if (batch_done(b)) {
			*p = b->next;
			batch_free(b);
		} else {
			p = &b->next;
		}
	}
	pthread_mutex_unlock(&abandoned_lock);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void take_answer(struct batch *b, size_t i, int status, struct dc_answer *out)
{
	struct gaicb *cb = b->list[i];

	out->status = status;
	if (status == 0) {
		size_t n = 0;
		for (struct addrinfo *ai = cb->ar_result; ai; ai = ai->ai_next)
			n++;
		out->addrs = xcalloc(n + 1, sizeof(*out->addrs));
		for (struct addrinfo *ai = cb->ar_result; ai; ai = ai->ai_next) {
			struct cg_addr *a = &out->addrs[out->n];
			if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
				a->family = AF_INET;
				a->v4 = ((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
			} else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
				a->family = AF_INET6;
				a->v6 = ((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
			} else {
				continue;
			}
			out->n++;
		}
	}
	if (cb->ar_result)
		freeaddrinfo(cb->ar_result);
	cb->ar_result = NULL;
	b->list[i] = NULL;
}

void dc_resolve_glibc(const char *const *names, size_t n, int timeout_ms, struct dc_answer *out)
{
	struct batch *b;
	int64_t deadline = now_ms() + timeout_ms;
	size_t pending;
	int64_t poll_ms = 1;
	int r;

	sweep_abandoned();
	memset(out, 0, n * sizeof(*out));
	if (!n)
		return;
	b = xcalloc(1, sizeof(*b));
	b->n = n;
	b->cbs = xcalloc(n, sizeof(*b->cbs));
	b->list = xcalloc(n, sizeof(*b->list));
	/* one answer an address: SOCK_STREAM keeps getaddrinfo() from listing
	 * each address once per socket type */
	b->hints.ai_family = AF_UNSPEC;
	b->hints.ai_socktype = SOCK_STREAM;
	for (size_t i = 0; i < n; i++) {
		b->cbs[i].ar_name = xstrdup(names[i]);
		b->cbs[i].ar_request = &b->hints;
		b->list[i] = &b->cbs[i];
	}
	r = getaddrinfo_a(GAI_NOWAIT, b->list, (int)n, NULL);
	if (r != 0) {
		/* EAI_AGAIN: glibc could not start its threads; EAI_MEMORY */
		for (size_t i = 0; i < n; i++)
			out[i].status = r;
		/* a request glibc did queue before failing may be running */
		if (!batch_done(b)) {
			pthread_mutex_lock(&abandoned_lock);
			b->next = abandoned;
			abandoned = b;
			pthread_mutex_unlock(&abandoned_lock);
		} else {
			batch_free(b);
		}
		return;
	}
	for (;;) {
		pending = 0;
		for (size_t i = 0; i < n; i++) {
			if (!b->list[i])
				continue;
			r = gai_error(b->list[i]);
			if (r == EAI_INPROGRESS)
				pending++;
			else
				take_answer(b, i, r, &out[i]);
		}
		int64_t left = deadline - now_ms();
		if (!pending || left <= 0)
			break;
		/* Not gai_suspend(): it hangs a wait entry on its own stack
		 * onto each request, and glibc's helper thread can still
		 * follow it after gai_suspend() returned (seen here: a
		 * SIGSEGV in __gai_notify() in a few percent of runs of
		 * tests/unit/test-discover-config). A request nobody waits
		 * for has no such entry; its status is looked at every few
		 * milliseconds instead. */
		if (left > poll_ms)
			left = poll_ms;
		struct timespec ts = { .tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000 };
		nanosleep(&ts, NULL);
		if (poll_ms < 16)
			poll_ms *= 2;
	}
	/* what is still running: cancelled if glibc has not started it, else
	 * abandoned */
	for (size_t i = 0; i < n; i++) {
		if (!b->list[i])
			continue;
		r = gai_cancel(b->list[i]);
		if (r == EAI_ALLDONE) {
			take_answer(b, i, gai_error(b->list[i]), &out[i]);
			continue;
		}
		out[i].status = DC_RESOLVE_TIMEOUT;
		if (r == EAI_CANCELED)
			b->list[i] = NULL;
	}
	if (batch_done(b)) {
		batch_free(b);
		return;
	}
	pthread_mutex_lock(&abandoned_lock);
	b->next = abandoned;
	abandoned = b;
	pthread_mutex_unlock(&abandoned_lock);
}
