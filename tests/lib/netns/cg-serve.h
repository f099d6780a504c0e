/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The scaffolding the test bed's responders (cg-echo, cg-services) share: the
 * command line's options, the signals, the listening sockets, UDP replies
 * from the address a request was sent to, the ready file, and the wait of
 * the serving loop. It uses nothing but libc, like the responders: they are
 * the oracle the tests judge the product by, and never link the code they
 * judge (libcgnatcheck.a).
 */
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SERVE_MAX_LISTENERS 64 /* 32 specs, two families each */
#define SERVE_MAX_CONNS     64 /* concurrent TCP connections being served */

struct serve_listener {
	int fd;
	int family;
	bool udp;
	unsigned port;
	int kind; /* the program's own: cg-services' service */
};

/* A responder: its listening sockets, and the poll set of each round (the
 * listeners first, at pfd[0..nls), then the program's connections). */
struct serve {
	const char *ready_file;
	struct serve_listener ls[SERVE_MAX_LISTENERS];
	int nls;
	struct pollfd pfd[SERVE_MAX_LISTENERS + SERVE_MAX_CONNS];
	int npfd;
};

/* The program's name in messages ("cg-echo"), from serve_start(). */
extern const char *serve_prog;

/*
 * Starts a responder: parses the common options, [--ready-file PATH]
 * [--help] [--], with usage() for --help (on stdout) and errors (on stderr),
 * then takes over the signals: SIGTERM and SIGINT end serving, and are
 * blocked except inside serve_wait(), so that
 * one arriving between the check and the wait cannot be lost; SIGPIPE is
 * ignored (a peer that resets while we write must not kill us). Returns the
 * index of the first spec; or -1 when the program is to exit with *status (0
 * after --help, 2 on a usage error or when no spec follows).
 */
int serve_start(struct serve *sv, const char *prog, int argc, char **argv, void (*usage)(FILE *),
		int *status);

/* A port, 1-65535, at the start of s; *end is what follows it. 0 on success. */
int serve_parse_port(const char *s, const char **end, unsigned *port);

/*
 * Opens the wildcard IPv4 and IPv6 (IPV6_V6ONLY, so the two never steal each
 * other's packets) sockets of one spec and appends them to ls. A namespace
 * without IPv6 serves IPv4 only. 0, or the exit status (reported).
 */
int serve_add_listeners(struct serve *sv, bool udp, unsigned port, int kind);

/*
 * Writes the ready file, if one was asked for, once every socket is bound:
 * through a temporary name and rename(), so that a waiter never reads a
 * half-written file. The content is informational: "pid N", then a line a
 * socket, "ipv4 53/udp" or, with kind_name, "ipv4 dns 53/udp". 0 on
 * success, or the exit status (1, reported).
 */
int serve_ready(const struct serve *sv, const char *(*kind_name)(int kind));

/* Writes all of buf to a socket whose writes time out; 0 on success. */
int serve_write_all(int fd, const void *buf, size_t len);

/* One UDP request as received: its sender and the address it was sent to. */
struct serve_dgram {
	struct sockaddr_storage peer;
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cin, cout;
	struct iovec iov;
	struct msghdr msg;
};

/* Receives one datagram into buf; its length, or -1 (nothing to serve). */
ssize_t serve_recv(int fd, struct serve_dgram *d, void *buf, size_t size);

/*
 * Sends reply to the sender of d, from the address d was sent to (the
 * request's pktinfo becomes the reply's). A lost reply is the test's to see
 * (a timeout), not ours to report.
 */
void serve_reply(int fd, int family, struct serve_dgram *d, const void *reply, size_t len);

/* Accepts a connection on a listener; its fd, or -1. */
int serve_accept(int fd);

/* Starts a round's poll set with the listeners, unless a signal asked to
 * stop (false); serve_poll_add() adds a connection (at pfd[nls + i] for the
 * i-th added). */
bool serve_poll_begin(struct serve *sv);
void serve_poll_add(struct serve *sv, int fd);

/* Waits for the poll set with the signals let in: 1 when there is something
 * to serve, 0 when a signal asked to stop, -1 on an error (reported, and
 * *status set to 1). */
int serve_wait(struct serve *sv, int *status);

/* Closes the listeners; after a clean run removes the ready file, which
 * would let a restarted responder look ready early. */
void serve_close(struct serve *sv, int status);
