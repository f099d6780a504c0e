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
 * UDP replies leave from the address the request was sent to (see
 * cg-serve.c for why).
 */

/* config.h (forced in by AM_CPPFLAGS) defines it; standalone builds need it too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* in6_pktinfo, ppoll(), accept4() */
#endif
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cg-serve.h"

#define BUF_SIZE 65536

static void usage(FILE *f)
{
	fprintf(f, "usage: cg-echo [--ready-file PATH] PORT/udp|PORT/tcp ...\n");
}

/* Parses "53/udp" into port and protocol; 0 on success. */
static int parse_spec(const char *s, unsigned *port, bool *udp)
{
	const char *end;

	if (serve_parse_port(s, &end, port) < 0 || *end != '/')
		return -1;
	if (strcmp(end + 1, "udp") == 0)
		*udp = true;
	else if (strcmp(end + 1, "tcp") == 0)
		*udp = false;
	else
		return -1;
	return 0;
}

/* Echoes one datagram back to its sender, from the address it was sent to. */
static void serve_udp(int fd, int family)
{
	static char buf[BUF_SIZE];
	struct serve_dgram d;
	ssize_t n = serve_recv(fd, &d, buf, sizeof(buf));

	if (n >= 0)
		serve_reply(fd, family, &d, buf, (size_t)n);
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
	return serve_write_all(fd, buf, (size_t)n) == 0;
}

int main(int argc, char **argv)
{
	static struct serve sv;
	int conns[SERVE_MAX_CONNS];
	int nconns = 0, i, argi, status = 0;

	argi = serve_start(&sv, "cg-echo", argc, argv, usage, &status);
	if (argi < 0)
		return status;

	for (; argi < argc; argi++) {
		unsigned port;
		bool udp;

		if (parse_spec(argv[argi], &port, &udp) < 0) {
			fprintf(stderr, "cg-echo: bad socket spec '%s' (want PORT/udp or PORT/tcp)\n",
				argv[argi]);
			usage(stderr);
			status = 2;
			goto out;
		}
		status = serve_add_listeners(&sv, udp, port, 0);
		if (status != 0)
			goto out;
	}

	status = serve_ready(&sv, NULL);
	if (status != 0)
		goto out;

	while (serve_poll_begin(&sv)) {
		for (i = 0; i < nconns; i++)
			serve_poll_add(&sv, conns[i]);
		if (serve_wait(&sv, &status) <= 0)
			break;
		for (i = 0; i < sv.nls; i++) {
			const struct serve_listener *l = &sv.ls[i];
			int c;

			if (!(sv.pfd[i].revents & (POLLIN | POLLERR)))
				continue;
			if (l->udp) {
				serve_udp(l->fd, l->family);
				continue;
			}
			c = serve_accept(l->fd);
			if (c < 0)
				continue;
			if (nconns >= SERVE_MAX_CONNS) {
				close(c); /* overloaded: the prober sees a reset */
				continue;
			}
			conns[nconns++] = c;
		}
		/* Connections are polled at pfd[nls + i]; walk backwards so
		 * removing one (swap with the last) keeps indexes valid, and
		 * those accepted above are not in pfd yet. */
		for (i = sv.npfd - sv.nls - 1; i >= 0; i--) {
			if (!sv.pfd[sv.nls + i].revents)
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
	serve_close(&sv, status);
	return status;
}
