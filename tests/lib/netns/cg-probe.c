/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cg-probe: the kernel oracle of the test bed. It asks the real kernel
 * whether a service answers, so the tests can compare cgnatcheck's verdicts
 * with what actually happens to packets.
 *
 *   cg-probe [--timeout MS] [--from ADDR] [--mark N] [--dev IFNAME] ADDR PORT udp|tcp
 *
 * It sends a unique random payload to ADDR PORT and waits until the identical
 * bytes come back (cg-echo on the other side). Exactly one word goes to
 * stdout:
 *
 *   reply        the identical echo arrived                       (exit 0)
 *   timeout      nothing (or only foreign data) before the deadline (exit 1)
 *   refused      ICMP port unreachable / TCP reset                 (exit 1)
 *   unreachable  no route, an unreachable/prohibit/blackhole route, ICMP
 *                host or network unreachable, or a UDP request dropped
 *                by local netfilter (EPERM from the output path)    (exit 1)
 *   error        anything else: an unusable --from or --dev, a failed
 *                setsockopt, a mangled echo...                    (exit 1)
 *
 * Usage errors (an unknown option, a bad number, port or protocol, an address
 * that is not numeric IPv4/IPv6) print the usage on stderr and exit 2 without
 * a word; a well-formed --from that cannot be used (not local, not the
 * target's family) is an `error`. Details (errno text) always go to stderr,
 * so a test log says why.
 *
 * Kernel behaviour the words inherit: a TCP SYN dropped in OUTPUT is not
 * reported to a non-blocking connect() (tcp_connect() ignores the transmit
 * error and retransmits), so it shows as `timeout`, while the same drop of a
 * UDP datagram fails send() with EPERM, `unreachable`. A route into a tun
 * device nobody reads also swallows packets silently: `timeout`.
 *
 * The deadline (--timeout, default 300 ms) covers the whole exchange: the TCP
 * handshake, the send and the echo. Inside a namespace pair the round trip
 * takes microseconds, so a short timeout keeps the tests fast. A drop can only
 * ever be observed as a timeout, never proven, which is why the tests pair a
 * "timeout" expectation with a "reply" one on the same path (and retry an
 * expected reply once with a long deadline, for loaded machines).
 */
/* config.h (forced in by AM_CPPFLAGS) defines it; standalone builds need it too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getrandom(), SO_MARK, SO_BINDTODEVICE */
#endif
#include <errno.h>
#include <netdb.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum verdict { V_REPLY, V_TIMEOUT, V_REFUSED, V_UNREACHABLE, V_ERROR };

static const char *const verdict_word[] = {
	[V_REPLY] = "reply",
	[V_TIMEOUT] = "timeout",
	[V_REFUSED] = "refused",
	[V_UNREACHABLE] = "unreachable",
	[V_ERROR] = "error",
};

struct opts {
	long timeout_ms;
	const char *from;
	const char *dev;
	bool have_mark;
	unsigned mark;
	const char *addr;
	const char *port;
	bool tcp;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cg-probe [--timeout MS] [--from ADDR] [--mark N] [--dev IFNAME] "
		   "ADDR PORT udp|tcp\n"
		   "prints one of: reply timeout refused unreachable error\n");
}

/* Maps a socket errno to the verdict a test can assert on. */
static enum verdict classify_errno(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
		return V_REFUSED;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ENONET:
	case EACCES: /* a `prohibit` route, ICMP administratively prohibited */
	case EPERM:  /* the request was dropped by netfilter on the way out */
		return V_UNREACHABLE;
	case ETIMEDOUT:
		return V_TIMEOUT;
	default:
		return V_ERROR;
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before the deadline, never negative. */
static int remaining(long long deadline)
{
	long long left = deadline - now_ms();

	return left > 0 ? (int)left : 0;
}

/* Parses a non-negative number in base (0: decimal, or hex with 0x, as marks
 * are written); nothing but digits accepted. 0 on success. */
static int parse_ulong(const char *s, int base, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9') /* strtoul would take "-1", " 1" and "+1" */
		return -1;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Resolves a numeric address (IPv6 scope ids like fe80::1%eth0 included). */
static int numeric_addr(const char *host, const char *port, int family, struct sockaddr_storage *ss,
			socklen_t *len)
{
	struct addrinfo hints = { 0 }, *res;
	int rc;

	hints.ai_family = family;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM; /* any; only the address is used */
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	unsigned long v;
	int i;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 300;
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *opt = argv[i];

		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "cg-probe: %s needs an argument\n", opt);
			return -1;
		}
		if (strcmp(opt, "--timeout") == 0) {
			if (parse_ulong(argv[++i], 10, 600000, &v) < 0 || v == 0) {
				fprintf(stderr, "cg-probe: bad --timeout '%s'\n", argv[i]);
				return -1;
			}
			o->timeout_ms = (long)v;
		} else if (strcmp(opt, "--from") == 0) {
			o->from = argv[++i];
		} else if (strcmp(opt, "--mark") == 0) {
			if (parse_ulong(argv[++i], 0, 0xffffffffUL, &v) < 0) {
				fprintf(stderr, "cg-probe: bad --mark '%s'\n", argv[i]);
				return -1;
			}
			o->have_mark = true;
			o->mark = (unsigned)v;
		} else if (strcmp(opt, "--dev") == 0) {
			o->dev = argv[++i];
			if (!*o->dev || strlen(o->dev) >= IFNAMSIZ) {
				fprintf(stderr, "cg-probe: bad --dev '%s'\n", o->dev);
				return -1;
			}
		} else {
			fprintf(stderr, "cg-probe: unknown option %s\n", opt);
			return -1;
		}
	}
	if (argc - i != 3) {
		fprintf(stderr, "cg-probe: want ADDR PORT udp|tcp\n");
		return -1;
	}
	o->addr = argv[i];
	o->port = argv[i + 1];
	if (parse_ulong(o->port, 10, 65535, &v) < 0 || v == 0) {
		fprintf(stderr, "cg-probe: bad port '%s'\n", o->port);
		return -1;
	}
	/* Malformed addresses are usage errors; whether a well-formed one can
	 * be used (is local, has the target's family) is for run() to find. */
	{
		struct sockaddr_storage ss;
		socklen_t len;

		if (numeric_addr(o->addr, o->port, AF_UNSPEC, &ss, &len) < 0) {
			fprintf(stderr, "cg-probe: '%s' is not a numeric IPv4 or IPv6 address\n", o->addr);
			return -1;
		}
		if (o->from && numeric_addr(o->from, "0", AF_UNSPEC, &ss, &len) < 0) {
			fprintf(stderr, "cg-probe: --from '%s' is not a numeric address\n", o->from);
			return -1;
		}
	}
	if (strcmp(argv[i + 2], "tcp") == 0)
		o->tcp = true;
	else if (strcmp(argv[i + 2], "udp") != 0) {
		fprintf(stderr, "cg-probe: bad protocol '%s' (udp or tcp)\n", argv[i + 2]);
		return -1;
	}
	return 0;
}

/* A payload no earlier probe or stray packet can match. */
static int make_payload(char *buf, size_t size)
{
	unsigned char rnd[16];
	size_t i, off;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	off = (size_t)snprintf(buf, size, "cg-probe ");
	for (i = 0; i < sizeof(rnd) && off + 3 < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%02x", rnd[i]);
	return (int)off;
}

/*
 * connect() is where the route lookup happens. There EINVAL means the route
 * is a `blackhole`: a deliberate routing discard, so unreachable too. (A bad
 * argument cannot cause it: the address was parsed for this very family.)
 */
static enum verdict classify_connect_errno(int err)
{
	return err == EINVAL ? V_UNREACHABLE : classify_errno(err);
}

/* Waits for fd to become ready for events; returns poll's revents, 0 on
 * timeout, -1 on error. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int rc = poll(&p, 1, remaining(deadline));

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return rc;
		return p.revents;
	}
}

static enum verdict sock_error(int fd, const char *what)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0)
		return V_TIMEOUT; /* readiness without an error or data: treat as silence */
	fprintf(stderr, "cg-probe: %s: %s\n", what, strerror(err));
	return classify_errno(err);
}

static enum verdict probe_udp(int fd, const char *payload, size_t plen, long long deadline)
{
	char buf[256];

	if (send(fd, payload, plen, 0) < 0) {
		fprintf(stderr, "cg-probe: send: %s\n", strerror(errno));
		return classify_errno(errno);
	}
	for (;;) {
		int ev = wait_fd(fd, POLLIN, deadline);
		ssize_t n;

		if (ev < 0)
			return V_ERROR;
		if (ev == 0)
			return V_TIMEOUT;
		/* The socket is connected, so the kernel reports ICMP errors
		 * for this peer as recv() errors. */
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "cg-probe: recv: %s\n", strerror(errno));
			return classify_errno(errno);
		}
		if ((size_t)n == plen && memcmp(buf, payload, plen) == 0)
			return V_REPLY;
		/* Someone else's datagram (an older probe's late echo): keep waiting. */
		fprintf(stderr, "cg-probe: ignoring a %zd-byte datagram that is not our payload\n", n);
	}
}

static enum verdict probe_tcp(int fd, const struct sockaddr *sa, socklen_t salen, const char *payload,
			      size_t plen, long long deadline)
{
	char buf[256];
	size_t got = 0;
	int ev;

	if (connect(fd, sa, salen) < 0 && errno != EINPROGRESS) {
		fprintf(stderr, "cg-probe: connect: %s\n", strerror(errno));
		return classify_connect_errno(errno);
	}
	ev = wait_fd(fd, POLLOUT, deadline);
	if (ev < 0)
		return V_ERROR;
	if (ev == 0)
		return V_TIMEOUT; /* the SYN or the SYN-ACK went missing */
	if (ev & (POLLERR | POLLHUP))
		return sock_error(fd, "connect");
	if (send(fd, payload, plen, MSG_NOSIGNAL) != (ssize_t)plen) {
		fprintf(stderr, "cg-probe: send: %s\n", strerror(errno));
		return classify_errno(errno);
	}
	/* Tell cg-echo we are done so it closes after echoing. */
	shutdown(fd, SHUT_WR);
	while (got < plen) {
		ssize_t n;

		ev = wait_fd(fd, POLLIN, deadline);
		if (ev < 0)
			return V_ERROR;
		if (ev == 0)
			return V_TIMEOUT;
		n = recv(fd, buf + got, sizeof(buf) - got, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "cg-probe: recv: %s\n", strerror(errno));
			return classify_errno(errno);
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == plen && memcmp(buf, payload, plen) == 0)
		return V_REPLY;
	fprintf(stderr, "cg-probe: echo mismatch (%zu bytes back, %zu sent)\n", got, plen);
	return V_ERROR;
}

static enum verdict run(const struct opts *o)
{
	struct sockaddr_storage dst, src;
	socklen_t dstlen, srclen;
	char payload[64];
	long long deadline = now_ms() + o->timeout_ms;
	int plen, fd;
	enum verdict v;

	if (numeric_addr(o->addr, o->port, AF_UNSPEC, &dst, &dstlen) < 0) {
		fprintf(stderr, "cg-probe: '%s' is not a numeric IPv4 or IPv6 address\n", o->addr);
		return V_ERROR;
	}
	plen = make_payload(payload, sizeof(payload));
	if (plen < 0) {
		perror("cg-probe: getrandom");
		return V_ERROR;
	}
	fd = socket(dst.ss_family, (o->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("cg-probe: socket");
		return V_ERROR;
	}
	if (o->have_mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &o->mark, sizeof(o->mark)) < 0) {
		perror("cg-probe: SO_MARK");
		v = V_ERROR;
		goto out;
	}
	if (o->dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->dev, (socklen_t)strlen(o->dev)) < 0) {
		fprintf(stderr, "cg-probe: SO_BINDTODEVICE %s: %s\n", o->dev, strerror(errno));
		v = V_ERROR;
		goto out;
	}
	if (o->from) {
		if (numeric_addr(o->from, "0", dst.ss_family, &src, &srclen) < 0) {
			fprintf(stderr, "cg-probe: --from '%s' is not an address of the target's family\n",
				o->from);
			v = V_ERROR;
			goto out;
		}
		if (bind(fd, (struct sockaddr *)&src, srclen) < 0) {
			fprintf(stderr, "cg-probe: bind %s: %s\n", o->from, strerror(errno));
			v = V_ERROR;
			goto out;
		}
	}
	if (o->tcp) {
		v = probe_tcp(fd, (struct sockaddr *)&dst, dstlen, payload, (size_t)plen, deadline);
	} else {
		/* Connected UDP: the route is chosen once, and ICMP errors
		 * come back to this socket. */
		if (connect(fd, (struct sockaddr *)&dst, dstlen) < 0) {
			fprintf(stderr, "cg-probe: connect: %s\n", strerror(errno));
			v = classify_connect_errno(errno);
			goto out;
		}
		v = probe_udp(fd, payload, (size_t)plen, deadline);
	}
out:
	close(fd);
	return v;
}

int main(int argc, char **argv)
{
	struct opts o;
	enum verdict v;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	v = run(&o);
	printf("%s\n", verdict_word[v]);
	return v == V_REPLY ? 0 : 1;
}
