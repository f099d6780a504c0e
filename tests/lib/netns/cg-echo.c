/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cg-echo: the UDP and TCP echo responder the test bed runs in the provider
 * namespace (and, for inbound tests, in the host namespace).
 *
 *   cg-echo [--ready-file PATH] PORT/udp|PORT/tcp ...
 *
 * Every PORT/PROTO gets a wildcard IPv4 socket and a wildcard IPv6 socket
 * (IPV6_V6ONLY, so the two never steal each other's packets). UDP datagrams
 * are sent straight back; TCP connections are accepted, everything read is
 * written back, and the connection is closed at end of file. The program
 * serves with ppoll() until SIGTERM or SIGINT.
 *
 * The ready file is written (atomically, through a rename) only once every
 * socket is bound and listening, so a test waits for the file instead of
 * sleeping and guessing.
 *
 * Why UDP replies use IP_PKTINFO: the provider namespace owns many addresses
 * (172.24.63.253 on the veth, 100.100.2.136 and friends on a dummy). A reply
 * sent from a wildcard socket with plain sendto() would take the source
 * address chosen by the route (172.24.63.253), the prober's connected socket
 * would discard it, and every test would see a timeout. Replying from the
 * exact address the request was sent to is what a real resolver does.
 */
/* config.h (forced in by AM_CPPFLAGS) defines it; standalone builds need it too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* in6_pktinfo, ppoll(), accept4() */
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_LISTENERS 64   /* 32 PORT/PROTO arguments, two families each */
#define MAX_CONNS     64   /* concurrent TCP connections being echoed */
#define BUF_SIZE      65536

enum proto { P_UDP, P_TCP };

struct listener {
	int fd;
	int family;
	enum proto proto;
	unsigned port;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cg-echo [--ready-file PATH] PORT/udp|PORT/tcp ...\n");
}

/* Parses "53/udp" into port and protocol; 0 on success. */
static int parse_spec(const char *s, unsigned *port, enum proto *proto)
{
	char *end;
	unsigned long p;

	if (*s < '0' || *s > '9') /* strtoul would skip blanks and take a sign */
		return -1;
	errno = 0;
	p = strtoul(s, &end, 10);
	if (errno || end == s || p == 0 || p > 65535 || *end != '/')
		return -1;
	if (strcmp(end + 1, "udp") == 0)
		*proto = P_UDP;
	else if (strcmp(end + 1, "tcp") == 0)
		*proto = P_TCP;
	else
		return -1;
	*port = (unsigned)p;
	return 0;
}

/*
 * Opens one bound (and for TCP listening) non-blocking socket. Returns the fd,
 * -2 when the address family is not available in this namespace (IPv6
 * disabled), -1 on any other error (already reported).
 */
static int open_listener(int family, enum proto proto, unsigned port)
{
	int type = (proto == P_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
	int one = 1;
	int fd = socket(family, type, 0);
	struct sockaddr_storage ss;
	socklen_t len;

	if (fd < 0) {
		if (errno == EAFNOSUPPORT)
			return -2;
		perror("cg-echo: socket");
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
		if (proto == P_UDP && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
			goto fail;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
			goto fail;
		if (proto == P_UDP &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0)
			goto fail;
	}
	/* A restarted responder must not wait for TIME_WAIT of its predecessor. */
	if (proto == P_TCP && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		if (family == AF_INET6 && errno == EADDRNOTAVAIL) {
			/* IPv6 present but disabled on every interface. */
			close(fd);
			return -2;
		}
		fprintf(stderr, "cg-echo: bind %s port %u/%s: %s\n",
			family == AF_INET ? "0.0.0.0" : "[::]", port,
			proto == P_UDP ? "udp" : "tcp", strerror(errno));
		close(fd);
		return -1;
	}
	if (proto == P_TCP && listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	perror("cg-echo: socket setup");
	close(fd);
	return -1;
}

/*
 * Echoes one datagram back to its sender, from the address it was sent to.
 * The control message received (in_pktinfo / in6_pktinfo) is turned into the
 * one sent: ipi_spec_dst selects the source address, the interface index is
 * cleared so the routing table picks the way back.
 */
static void serve_udp(int fd, int family)
{
	static char buf[BUF_SIZE];
	struct sockaddr_storage peer;
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cin, cout;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = {
		.msg_name = &peer, .msg_namelen = sizeof(peer),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cin.buf, .msg_controllen = sizeof(cin.buf),
	};
	struct cmsghdr *c;
	ssize_t n;
	bool have_pktinfo = false;

	n = recvmsg(fd, &msg, 0);
	if (n < 0)
		return; /* EAGAIN, or an ICMP error queued for an earlier reply */

	memset(&cout, 0, sizeof(cout));
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (family == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo in, out;
			struct cmsghdr *o = (struct cmsghdr *)cout.buf;

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
			struct cmsghdr *o = (struct cmsghdr *)cout.buf;

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

	iov.iov_len = (size_t)n;
	msg.msg_flags = 0;
	if (have_pktinfo) {
		msg.msg_control = cout.buf;
		msg.msg_controllen = ((struct cmsghdr *)cout.buf)->cmsg_len;
	} else {
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
	}
	/* A failed reply is the test's business (it sees a timeout), not ours. */
	(void)sendmsg(fd, &msg, MSG_DONTWAIT);
}

/* Writes all of buf to a blocking-with-timeout socket; 0 on success. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads what is available and echoes it; returns false when the connection
 * is finished (end of file or error) and must be closed. */
static bool serve_tcp_conn(int fd)
{
	static char buf[BUF_SIZE];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	if (n == 0)
		return false;
	return write_all(fd, buf, (size_t)n) == 0;
}

/* Writes the ready file through a temporary name and rename(), so a waiter
 * never reads a half-written file. The content is informational. */
static int write_ready_file(const char *path, const struct listener *ls, int nls)
{
	size_t n = strlen(path) + 8;
	char *tmp = malloc(n);
	FILE *f;
	int i;

	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		perror("cg-echo: ready file");
		free(tmp);
		return -1;
	}
	fprintf(f, "pid %ld\n", (long)getpid());
	for (i = 0; i < nls; i++)
		fprintf(f, "%s %u/%s\n", ls[i].family == AF_INET ? "ipv4" : "ipv6", ls[i].port,
			ls[i].proto == P_UDP ? "udp" : "tcp");
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		perror("cg-echo: ready file");
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int main(int argc, char **argv)
{
	struct listener ls[MAX_LISTENERS];
	int conns[MAX_CONNS];
	struct pollfd pfd[MAX_LISTENERS + MAX_CONNS];
	const char *ready_file = NULL;
	struct sigaction sa;
	sigset_t block, empty;
	int nls = 0, nconns = 0, i, argi = 1, status = 0;

	for (; argi < argc && strncmp(argv[argi], "--", 2) == 0; argi++) {
		if (strcmp(argv[argi], "--") == 0) {
			argi++;
			break;
		} else if (strcmp(argv[argi], "--ready-file") == 0 && argi + 1 < argc) {
			ready_file = argv[++argi];
		} else if (strcmp(argv[argi], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (argi >= argc) {
		usage(stderr);
		return 2;
	}

	/*
	 * Signals are blocked except inside ppoll(), so a SIGTERM arriving
	 * between the flag check and the wait cannot be lost.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);
	/* A peer that resets while we echo must not kill us. */
	signal(SIGPIPE, SIG_IGN);

	for (; argi < argc; argi++) {
		static const int families[] = { AF_INET, AF_INET6 };
		unsigned port;
		enum proto proto;
		size_t f;

		if (parse_spec(argv[argi], &port, &proto) < 0) {
			fprintf(stderr, "cg-echo: bad socket spec '%s' (want PORT/udp or PORT/tcp)\n",
				argv[argi]);
			usage(stderr);
			status = 2;
			goto out;
		}
		for (f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
			int fd;

			if (nls >= MAX_LISTENERS) {
				fprintf(stderr, "cg-echo: too many sockets\n");
				status = 2;
				goto out;
			}
			fd = open_listener(families[f], proto, port);
			if (fd == -2) {
				fprintf(stderr, "cg-echo: no IPv6 here, %u serves IPv4 only\n", port);
				continue;
			}
			if (fd < 0) {
				status = 1;
				goto out;
			}
			ls[nls++] = (struct listener){ fd, families[f], proto, port };
		}
	}

	if (ready_file && write_ready_file(ready_file, ls, nls) < 0) {
		status = 1;
		goto out;
	}

	while (!stop_requested) {
		int n = 0;

		for (i = 0; i < nls; i++)
			pfd[n++] = (struct pollfd){ .fd = ls[i].fd, .events = POLLIN };
		for (i = 0; i < nconns; i++)
			pfd[n++] = (struct pollfd){ .fd = conns[i], .events = POLLIN };
		if (ppoll(pfd, (nfds_t)n, NULL, &empty) < 0) {
			if (errno == EINTR)
				continue;
			perror("cg-echo: ppoll");
			status = 1;
			break;
		}
		for (i = 0; i < nls; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLERR)))
				continue;
			if (ls[i].proto == P_UDP) {
				serve_udp(ls[i].fd, ls[i].family);
			} else {
				int c = accept4(ls[i].fd, NULL, NULL, SOCK_CLOEXEC);
				struct timeval tv = { .tv_sec = 1 };

				if (c < 0)
					continue;
				if (nconns >= MAX_CONNS) {
					close(c); /* overloaded: the prober sees a reset */
					continue;
				}
				/* Writes block at most a second: a stuck prober
				 * cannot stall every other test's replies. */
				setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
				conns[nconns++] = c;
			}
		}
		/* Connections are polled at pfd[nls + i]; walk backwards so
		 * removing one (swap with the last) keeps indexes valid. */
		for (i = n - nls - 1; i >= 0; i--) {
			if (!pfd[nls + i].revents)
				continue;
			if (!serve_tcp_conn(conns[i])) {
				close(conns[i]);
				conns[i] = conns[--nconns];
			}
		}
	}

out:
	for (i = 0; i < nconns; i++)
		close(conns[i]);
	for (i = 0; i < nls; i++)
		close(ls[i].fd);
	/* A stale ready file would let a restarted responder look ready early. */
	if (ready_file && status == 0)
		unlink(ready_file);
	return status;
}
