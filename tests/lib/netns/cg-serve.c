/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The responders' shared scaffolding (cg-serve.h). libc only.
 *
 * Why UDP replies use IP_PKTINFO: the provider namespace owns many addresses
 * (172.24.63.253 on the veth, 100.100.2.136 and friends on its loopback). A
 * reply sent from a wildcard socket with plain sendto() would take the source
 * address chosen by the route (172.24.63.253), the prober's connected socket
 * would discard it, and every test would see a timeout. Replying from the
 * exact address the request was sent to is what a real resolver does.
 */
/* config.h (forced in by AM_CPPFLAGS) defines it; standalone builds need it too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* in6_pktinfo, ppoll(), accept4() */
#endif
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cg-serve.h"

const char *serve_prog = "cg-serve";

static volatile sig_atomic_t stop_requested;
static sigset_t unblocked; /* the mask inside serve_wait() */

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void take_signals(void)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&unblocked);
	signal(SIGPIPE, SIG_IGN);
}

int serve_start(struct serve *sv, const char *prog, int argc, char **argv, void (*usage)(FILE *),
		int *status)
{
	int argi = 1;

	serve_prog = prog;
	memset(sv, 0, sizeof(*sv));
	for (; argi < argc && strncmp(argv[argi], "--", 2) == 0; argi++) {
		if (strcmp(argv[argi], "--") == 0) {
			argi++;
			break;
		} else if (strcmp(argv[argi], "--ready-file") == 0 && argi + 1 < argc) {
			sv->ready_file = argv[++argi];
		} else if (strcmp(argv[argi], "--help") == 0) {
			usage(stdout);
			*status = 0;
			return -1;
		} else {
			usage(stderr);
			*status = 2;
			return -1;
		}
	}
	if (argi >= argc) {
		usage(stderr);
		*status = 2;
		return -1;
	}
	take_signals();
	return argi;
}

int serve_parse_port(const char *s, const char **end, unsigned *port)
{
	char *e;
	unsigned long p;

	if (*s < '0' || *s > '9') /* strtoul would skip blanks and take a sign */
		return -1;
	errno = 0;
	p = strtoul(s, &e, 10);
	if (errno || p == 0 || p > 65535)
		return -1;
	*port = (unsigned)p;
	*end = e;
	return 0;
}

/* A bound (TCP: listening) non-blocking socket; -2 when this namespace has
 * no IPv6, -1 on any other error (reported). */
static int open_listener(int family, bool udp, unsigned port)
{
	int one = 1;
	int fd = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_storage ss;
	socklen_t len;

	if (fd < 0) {
		if (errno == EAFNOSUPPORT)
			return -2;
		fprintf(stderr, "%s: socket: %s\n", serve_prog, strerror(errno));
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
		/* Needed to learn the request's destination address (see top). */
		if (udp && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
			goto fail;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
			goto fail;
		if (udp && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0)
			goto fail;
	}
	/* A restarted responder must not wait for its predecessor's TIME_WAIT. */
	if (!udp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		if (family == AF_INET6 && errno == EADDRNOTAVAIL) {
			/* IPv6 present but disabled on every interface. */
			close(fd);
			return -2;
		}
		fprintf(stderr, "%s: bind %s port %u/%s: %s\n", serve_prog,
			family == AF_INET ? "0.0.0.0" : "[::]", port, udp ? "udp" : "tcp", strerror(errno));
		close(fd);
		return -1;
	}
	if (!udp && listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	fprintf(stderr, "%s: socket setup: %s\n", serve_prog, strerror(errno));
	close(fd);
	return -1;
}

int serve_add_listeners(struct serve *sv, bool udp, unsigned port, int kind)
{
	static const int families[] = { AF_INET, AF_INET6 };
	size_t f;

	for (f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		int fd;

		if (sv->nls >= SERVE_MAX_LISTENERS) {
			fprintf(stderr, "%s: too many sockets\n", serve_prog);
			return 2;
		}
		fd = open_listener(families[f], udp, port);
		if (fd == -2) {
			fprintf(stderr, "%s: no IPv6 here, %u serves IPv4 only\n", serve_prog, port);
			continue;
		}
		if (fd < 0)
			return 1;
		sv->ls[sv->nls++] = (struct serve_listener){ fd, families[f], udp, port, kind };
	}
	return 0;
}

int serve_ready(const struct serve *sv, const char *(*kind_name)(int kind))
{
	const char *path = sv->ready_file;
	const struct serve_listener *ls = sv->ls;
	size_t n;
	char *tmp;
	FILE *f;
	int i;

	if (!path)
		return 0;
	n = strlen(path) + 8;
	tmp = malloc(n);
	if (!tmp)
		return 1;
	snprintf(tmp, n, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "%s: ready file: %s\n", serve_prog, strerror(errno));
		free(tmp);
		return 1;
	}
	fprintf(f, "pid %ld\n", (long)getpid());
	for (i = 0; i < sv->nls; i++)
		fprintf(f, "%s %s%s%u/%s\n", ls[i].family == AF_INET ? "ipv4" : "ipv6",
			kind_name ? kind_name(ls[i].kind) : "", kind_name ? " " : "", ls[i].port,
			ls[i].udp ? "udp" : "tcp");
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "%s: ready file: %s\n", serve_prog, strerror(errno));
		unlink(tmp);
		free(tmp);
		return 1;
	}
	free(tmp);
	return 0;
}

int serve_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t serve_recv(int fd, struct serve_dgram *d, void *buf, size_t size)
{
	d->iov = (struct iovec){ .iov_base = buf, .iov_len = size };
	d->msg = (struct msghdr){
		.msg_name = &d->peer, .msg_namelen = sizeof(d->peer),
		.msg_iov = &d->iov, .msg_iovlen = 1,
		.msg_control = d->cin.buf, .msg_controllen = sizeof(d->cin.buf),
	};
	/* EAGAIN, or an ICMP error queued for an earlier reply: nothing to serve */
	return recvmsg(fd, &d->msg, 0);
}

/*
 * The control message received (in_pktinfo / in6_pktinfo) is turned into the
 * one sent: ipi_spec_dst selects the source address, the interface index is
 * cleared so that the routing table picks the way back.
 */
void serve_reply(int fd, int family, struct serve_dgram *d, const void *reply, size_t len)
{
	struct cmsghdr *c, *o = (struct cmsghdr *)d->cout.buf;
	bool have_pktinfo = false;

	memset(&d->cout, 0, sizeof(d->cout));
	for (c = CMSG_FIRSTHDR(&d->msg); c; c = CMSG_NXTHDR(&d->msg, c)) {
		if (family == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo in, out;

			memcpy(&in, CMSG_DATA(c), sizeof(in));
			memset(&out, 0, sizeof(out));
			out.ipi_spec_dst = in.ipi_addr;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(out));
			memcpy(CMSG_DATA(o), &out, sizeof(out));
			have_pktinfo = true;
		} else if (family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo in6;

			memcpy(&in6, CMSG_DATA(c), sizeof(in6));
			/* Keep the interface only for link-local destinations,
			 * whose scope needs it. */
			if (!IN6_IS_ADDR_LINKLOCAL(&in6.ipi6_addr))
				in6.ipi6_ifindex = 0;
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(in6));
			memcpy(CMSG_DATA(o), &in6, sizeof(in6));
			have_pktinfo = true;
		}
	}
	d->iov.iov_base = (void *)reply;
	d->iov.iov_len = len;
	d->msg.msg_flags = 0;
	d->msg.msg_control = have_pktinfo ? d->cout.buf : NULL;
	d->msg.msg_controllen = have_pktinfo ? o->cmsg_len : 0;
	(void)sendmsg(fd, &d->msg, MSG_DONTWAIT);
}

int serve_accept(int fd)
{
	struct timeval tv = { .tv_sec = 1 };
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	/* Writes block at most a second: a stuck prober cannot stall every
	 * other test's replies. */
	if (c >= 0)
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return c;
}

bool serve_poll_begin(struct serve *sv)
{
	for (sv->npfd = 0; sv->npfd < sv->nls; sv->npfd++)
		sv->pfd[sv->npfd] = (struct pollfd){ .fd = sv->ls[sv->npfd].fd, .events = POLLIN };
	return !stop_requested;
}

void serve_poll_add(struct serve *sv, int fd)
{
	sv->pfd[sv->npfd++] = (struct pollfd){ .fd = fd, .events = POLLIN };
}

int serve_wait(struct serve *sv, int *status)
{
	while (ppoll(sv->pfd, (nfds_t)sv->npfd, NULL, &unblocked) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: ppoll: %s\n", serve_prog, strerror(errno));
			*status = 1;
			return -1;
		}
		if (stop_requested)
			return 0;
	}
	return 1;
}

void serve_close(struct serve *sv, int status)
{
	int i;

	for (i = 0; i < sv->nls; i++)
		close(sv->ls[i].fd);
	if (sv->ready_file && status == 0)
		unlink(sv->ready_file);
}
