/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cg-services: the provider's services as test doubles, for the live probe's
 * tests. Where cg-echo only returns what it gets (enough for the kernel
 * oracle, and exactly what a probe must not take for an answer), these speak
 * the protocols a probe checks.
 *
 *   cg-services [--ready-file PATH] SERVICE:PORT ...
 *
 *   dns:PORT          DNS over UDP and TCP (2-byte length prefix). Every
 *                     query is answered with its question, QR=1, RA=1: an A
 *                     query of class IN gets NOERROR and one A record
 *                     192.0.2.1, anything else NXDOMAIN. A malformed query
 *                     gets FORMERR when it has a header, nothing otherwise.
 *   dns-refused:PORT  the same, but every answer is REFUSED
 *   dns-empty:PORT    the same, but every answer is NOERROR without records,
 *                     RA or AA: a reply glibc's res_nsend does not return
 *   http:PORT         HTTP/1.0 over TCP: after the request's header, replies
 *                     "HTTP/1.0 200 OK" with a short body and closes
 *   ntp:PORT          NTP over UDP: a client (mode 3) packet gets a stratum 2
 *                     server (mode 4) packet carrying its transmit timestamp
 *                     as the origin timestamp; anything else is ignored
 *   banner:PORT       TCP: sends "SSH-2.0-cg-services\r\n" on accept, then
 *                     discards input until the peer closes
 *   silent:PORT       TCP: accepts and discards input, never says anything
 *   echo:PORT/udp|tcp cg-echo's echo
 *
 * Sockets: wildcard IPv4 and IPv6 (IPV6_V6ONLY) for each service; UDP
 * replies leave from the address the request was sent to (IP_PKTINFO, see
 * cg-echo.c for why). The ready file is written, through a rename, once
 * every socket is bound. Serves until SIGTERM or SIGINT.
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
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS 64
#define MAX_CONNS     64
#define CONN_BUF      4096   /* a request bigger than this is closed on */
#define DNS_HEADER    12
#define NTP_SIZE      48

enum service { S_DNS, S_DNS_REFUSED, S_DNS_EMPTY, S_HTTP, S_NTP, S_BANNER, S_SILENT, S_ECHO };

static const struct {
	const char *name;
	enum service svc;
} service_names[] = {
	{ "dns", S_DNS },       { "dns-refused", S_DNS_REFUSED }, { "dns-empty", S_DNS_EMPTY },
	{ "http", S_HTTP },     { "ntp", S_NTP },                 { "banner", S_BANNER },
	{ "silent", S_SILENT }, { "echo", S_ECHO },
};

struct listener {
	int fd;
	int family;
	bool udp;
	enum service svc;
	unsigned port;
};

struct conn {
	int fd;
	enum service svc;
	size_t len;
	uint8_t buf[CONN_BUF];
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cg-services [--ready-file PATH] SERVICE:PORT ...\n"
		   "services: dns dns-refused dns-empty http ntp banner silent (TCP/UDP as the protocol "
		   "needs), echo:PORT/udp|tcp\n");
}

/* --- command line -------------------------------------------------------- */

static int parse_port(const char *s, const char **end, unsigned *port)
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

/*
 * "dns:53" -> S_DNS, 53, with UDP and TCP; "echo:7/udp" -> S_ECHO, 7, UDP.
 * *udp and *tcp say which sockets the service needs. 0 on success.
 */
static int parse_spec(const char *s, enum service *svc, unsigned *port, bool *udp, bool *tcp)
{
	const char *colon = strchr(s, ':'), *end;
	size_t i, n;

	if (!colon)
		return -1;
	n = (size_t)(colon - s);
	for (i = 0; i < sizeof(service_names) / sizeof(service_names[0]); i++)
		if (strlen(service_names[i].name) == n && strncmp(s, service_names[i].name, n) == 0)
			break;
	if (i == sizeof(service_names) / sizeof(service_names[0]))
		return -1;
	*svc = service_names[i].svc;
	if (parse_port(colon + 1, &end, port) < 0)
		return -1;
	if (*svc == S_ECHO) {
		*udp = strcmp(end, "/udp") == 0;
		*tcp = strcmp(end, "/tcp") == 0;
		return *udp || *tcp ? 0 : -1;
	}
	if (*end)
		return -1;
	*udp = *svc == S_DNS || *svc == S_DNS_REFUSED || *svc == S_DNS_EMPTY || *svc == S_NTP;
	*tcp = *svc != S_NTP;
	return 0;
}

/* --- sockets ------------------------------------------------------------- */

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
		perror("cg-services: socket");
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
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
			close(fd);
			return -2;
		}
		fprintf(stderr, "cg-services: bind %s port %u/%s: %s\n",
			family == AF_INET ? "0.0.0.0" : "[::]", port, udp ? "udp" : "tcp",
			strerror(errno));
		close(fd);
		return -1;
	}
	if (!udp && listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	perror("cg-services: socket setup");
	close(fd);
	return -1;
}

static int write_all(int fd, const void *buf, size_t len)
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

/* --- DNS ----------------------------------------------------------------- */

/* Length of the uncompressed name at q[off], 0 if malformed. */
static size_t dns_name_len(const uint8_t *q, size_t n, size_t off)
{
	size_t start = off;

	while (off < n) {
		uint8_t l = q[off];

		if (l == 0)
			return off + 1 - start;
		if (l & 0xc0) /* compression (or a reserved label type) in a question */
			return 0;
		off += 1 + (size_t)l;
	}
	return 0;
}

/*
 * Builds svc's answer to query q (n bytes) in r (at least n + 16 bytes).
 * Returns its length, 0 when the message deserves no answer at all.
 */
static size_t dns_answer(const uint8_t *q, size_t n, uint8_t *r, enum service svc)
{
	static const uint8_t a_record[] = {
		0xc0, 0x0c,             /* the question's name */
		0x00, 0x01, 0x00, 0x01, /* A, IN */
		0x00, 0x00, 0x00, 0x3c, /* TTL 60 */
		0x00, 0x04, 192, 0, 2, 1,
	};
	size_t name, qend;
	unsigned qtype, qclass, rcode;

	if (n < DNS_HEADER || (q[2] & 0x80)) /* no header, or not a query */
		return 0;
	memcpy(r, q, DNS_HEADER);
	r[2] = (uint8_t)(0x80 | (q[2] & 0x79)); /* QR, opcode, RD kept; AA and TC clear */
	r[3] = svc == S_DNS_EMPTY ? 0 : 0x80;    /* RA, rcode filled in below */
	memset(r + 4, 0, 8);
	name = (q[2] & 0x78) == 0 && q[4] == 0 && q[5] == 1 ? dns_name_len(q, n, DNS_HEADER) : 0;
	qend = DNS_HEADER + name + 4;
	if (name == 0 || qend > n) {
		r[3] |= 1; /* FORMERR: a standard query with one question is all we read */
		return DNS_HEADER;
	}
	memcpy(r + DNS_HEADER, q + DNS_HEADER, qend - DNS_HEADER);
	r[5] = 1; /* qdcount */
	qtype = (unsigned)q[qend - 4] << 8 | q[qend - 3];
	qclass = (unsigned)q[qend - 2] << 8 | q[qend - 1];
	if (svc == S_DNS_REFUSED)
		rcode = 5;
	else if (svc == S_DNS_EMPTY)
		return qend; /* NOERROR, nothing but the question */
	else if (qtype == 1 && qclass == 1)
		rcode = 0;
	else
		rcode = 3; /* NXDOMAIN */
	r[3] |= (uint8_t)rcode;
	if (rcode != 0)
		return qend;
	r[7] = 1; /* ancount */
	memcpy(r + qend, a_record, sizeof(a_record));
	return qend + sizeof(a_record);
}

/* --- NTP ----------------------------------------------------------------- */

static void ntp_now(uint8_t ts[8])
{
	struct timespec now;
	uint64_t v;
	int i;

	clock_gettime(CLOCK_REALTIME, &now);
	v = ((uint64_t)now.tv_sec + 2208988800ULL) << 32;
	v |= ((uint64_t)now.tv_nsec << 32) / 1000000000ULL;
	for (i = 7; i >= 0; i--, v >>= 8)
		ts[i] = (uint8_t)v;
}

/* A server packet answering client packet q; 0 when q is not one. */
static size_t ntp_answer(const uint8_t *q, size_t n, uint8_t *r)
{
	unsigned version;

	if (n < NTP_SIZE || (q[0] & 7) != 3)
		return 0;
	version = (q[0] >> 3) & 7;
	memset(r, 0, NTP_SIZE);
	r[0] = (uint8_t)((version ? version : 4) << 3 | 4); /* no leap warning, server */
	r[1] = 2;                                           /* stratum */
	r[2] = q[2];                                        /* poll */
	r[3] = (uint8_t)-20;                                /* precision, about 1 us */
	r[12] = 192, r[13] = 0, r[14] = 2, r[15] = 123;     /* reference id: the upstream */
	ntp_now(r + 16);                                    /* reference */
	memcpy(r + 24, q + 40, 8);                          /* origin: the client's transmit */
	ntp_now(r + 32);                                    /* receive */
	ntp_now(r + 40);                                    /* transmit */
	return NTP_SIZE;
}

/* --- UDP ----------------------------------------------------------------- */

/*
 * Answers one datagram from the address it was sent to: the received
 * in_pktinfo / in6_pktinfo becomes the sent one (see cg-echo.c).
 */
static void serve_udp(const struct listener *l)
{
	static uint8_t buf[65536], reply[65536 + 16];
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
	struct cmsghdr *c, *o = (struct cmsghdr *)cout.buf;
	bool have_pktinfo = false;
	ssize_t n;
	size_t rlen;

	n = recvmsg(l->fd, &msg, 0);
	if (n < 0)
		return;
	switch (l->svc) {
	case S_DNS:
	case S_DNS_REFUSED:
	case S_DNS_EMPTY:
		rlen = dns_answer(buf, (size_t)n, reply, l->svc);
		break;
	case S_NTP:
		rlen = ntp_answer(buf, (size_t)n, reply);
		break;
	default:
		memcpy(reply, buf, (size_t)n);
		rlen = (size_t)n;
		break;
	}
	if (rlen == 0)
		return;

	memset(&cout, 0, sizeof(cout));
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (l->family == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo in, out;

			memcpy(&in, CMSG_DATA(c), sizeof(in));
			memset(&out, 0, sizeof(out));
			out.ipi_spec_dst = in.ipi_addr;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(out));
			memcpy(CMSG_DATA(o), &out, sizeof(out));
			have_pktinfo = true;
		} else if (l->family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo in6;

			memcpy(&in6, CMSG_DATA(c), sizeof(in6));
			if (!IN6_IS_ADDR_LINKLOCAL(&in6.ipi6_addr))
				in6.ipi6_ifindex = 0;
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(in6));
			memcpy(CMSG_DATA(o), &in6, sizeof(in6));
			have_pktinfo = true;
		}
	}
	iov.iov_base = reply;
	iov.iov_len = rlen;
	msg.msg_flags = 0;
	msg.msg_control = have_pktinfo ? cout.buf : NULL;
	msg.msg_controllen = have_pktinfo ? o->cmsg_len : 0;
	/* A lost reply is the test's to see (a timeout), not ours to report. */
	(void)sendmsg(l->fd, &msg, MSG_DONTWAIT);
}

/* --- TCP ----------------------------------------------------------------- */

static const char http_reply[] = "HTTP/1.0 200 OK\r\n"
				 "Content-Type: text/plain\r\n"
				 "Content-Length: 12\r\n"
				 "Connection: close\r\n"
				 "\r\n"
				 "cg-services\n";

static bool http_request_complete(const struct conn *c)
{
	size_t i;

	/* The end of the header: an empty line, CRLF or bare LF. */
	for (i = 1; i < c->len; i++)
		if (c->buf[i] == '\n' &&
		    (c->buf[i - 1] == '\n' || (i >= 2 && c->buf[i - 1] == '\r' && c->buf[i - 2] == '\n')))
			return true;
	return false;
}

/* Answers every complete length-prefixed query in the buffer; false when
 * the connection must be closed. */
static bool dns_tcp_drain(struct conn *c)
{
	static uint8_t reply[2 + CONN_BUF + 16];

	while (c->len >= 2) {
		size_t qlen = (size_t)c->buf[0] << 8 | c->buf[1], rlen;

		if (qlen + 2 > sizeof(c->buf))
			return false; /* longer than we buffer: not from our tests */
		if (c->len < qlen + 2)
			return true;
		rlen = dns_answer(c->buf + 2, qlen, reply + 2, c->svc);
		if (rlen > 0) {
			reply[0] = (uint8_t)(rlen >> 8);
			reply[1] = (uint8_t)rlen;
			if (write_all(c->fd, reply, rlen + 2) < 0)
				return false;
		}
		memmove(c->buf, c->buf + qlen + 2, c->len - qlen - 2);
		c->len -= qlen + 2;
	}
	return true;
}

/* Reads what is there and serves it; false when the connection is done. */
static bool serve_conn(struct conn *c)
{
	ssize_t n;

	if (c->svc == S_ECHO || c->svc == S_SILENT || c->svc == S_BANNER) {
		static uint8_t buf[65536];

		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return false;
		return c->svc != S_ECHO || write_all(c->fd, buf, (size_t)n) == 0;
	}
	if (c->len == sizeof(c->buf))
		return false;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	c->len += (size_t)n;
	if (c->svc == S_HTTP) {
		if (!http_request_complete(c))
			return c->len < sizeof(c->buf);
		(void)write_all(c->fd, http_reply, sizeof(http_reply) - 1);
		return false; /* HTTP/1.0: the close ends the body */
	}
	return dns_tcp_drain(c);
}

/* Accepts one connection on l; the new conn, or NULL. */
static struct conn *accept_conn(const struct listener *l)
{
	static const char banner[] = "SSH-2.0-cg-services\r\n";
	struct timeval tv = { .tv_sec = 1 };
	struct conn *c;
	int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return NULL;
	c = malloc(sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	/* Writes block at most a second: a stuck prober cannot stall the rest. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	c->svc = l->svc;
	c->len = 0;
	if (l->svc == S_BANNER && write_all(fd, banner, sizeof(banner) - 1) < 0) {
		close(fd);
		free(c);
		return NULL;
	}
	return c;
}

/* --- main ---------------------------------------------------------------- */

static const char *service_name(enum service svc)
{
	size_t i;

	for (i = 0; i < sizeof(service_names) / sizeof(service_names[0]); i++)
		if (service_names[i].svc == svc)
			return service_names[i].name;
	return "?";
}

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
		perror("cg-services: ready file");
		free(tmp);
		return -1;
	}
	fprintf(f, "pid %ld\n", (long)getpid());
	for (i = 0; i < nls; i++)
		fprintf(f, "%s %s %u/%s\n", ls[i].family == AF_INET ? "ipv4" : "ipv6",
			service_name(ls[i].svc), ls[i].port, ls[i].udp ? "udp" : "tcp");
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		perror("cg-services: ready file");
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* Opens the IPv4 and IPv6 sockets of one spec; 0, or the exit status. */
static int add_listeners(struct listener *ls, int *nls, enum service svc, unsigned port, bool udp)
{
	static const int families[] = { AF_INET, AF_INET6 };
	size_t f;

	for (f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		int fd;

		if (*nls >= MAX_LISTENERS) {
			fprintf(stderr, "cg-services: too many sockets\n");
			return 2;
		}
		fd = open_listener(families[f], udp, port);
		if (fd == -2) {
			fprintf(stderr, "cg-services: no IPv6 here, %u serves IPv4 only\n", port);
			continue;
		}
		if (fd < 0)
			return 1;
		ls[(*nls)++] = (struct listener){ fd, families[f], udp, svc, port };
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct listener ls[MAX_LISTENERS];
	struct conn *conns[MAX_CONNS];
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

	/* Signals are blocked except inside ppoll(): a SIGTERM between the
	 * flag check and the wait cannot be lost. */
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
	signal(SIGPIPE, SIG_IGN);

	/* Every spec is checked before the first socket is bound. */
	for (i = argi; i < argc; i++) {
		enum service svc;
		unsigned port;
		bool udp, tcp;

		if (parse_spec(argv[i], &svc, &port, &udp, &tcp) < 0) {
			fprintf(stderr, "cg-services: bad service '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	for (; argi < argc; argi++) {
		enum service svc;
		unsigned port;
		bool udp, tcp;

		parse_spec(argv[argi], &svc, &port, &udp, &tcp);
		if (udp && (status = add_listeners(ls, &nls, svc, port, true)) != 0)
			goto out;
		if (tcp && (status = add_listeners(ls, &nls, svc, port, false)) != 0)
			goto out;
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
			pfd[n++] = (struct pollfd){ .fd = conns[i]->fd, .events = POLLIN };
		if (ppoll(pfd, (nfds_t)n, NULL, &empty) < 0) {
			if (errno == EINTR)
				continue;
			perror("cg-services: ppoll");
			status = 1;
			break;
		}
		/* Connections first, walking backwards: removing one (swap with
		 * the last) keeps the indexes of those still to visit valid,
		 * and connections accepted below are not in pfd yet. */
		for (i = n - nls - 1; i >= 0; i--) {
			if (!pfd[nls + i].revents || serve_conn(conns[i]))
				continue;
			close(conns[i]->fd);
			free(conns[i]);
			conns[i] = conns[--nconns];
		}
		for (i = 0; i < nls; i++) {
			struct conn *c;

			if (!(pfd[i].revents & (POLLIN | POLLERR)))
				continue;
			if (ls[i].udp) {
				serve_udp(&ls[i]);
				continue;
			}
			c = accept_conn(&ls[i]);
			if (!c)
				continue;
			if (nconns >= MAX_CONNS) { /* overloaded: the prober sees a close */
				close(c->fd);
				free(c);
				continue;
			}
			conns[nconns++] = c;
		}
	}

out:
	for (i = 0; i < nconns; i++) {
		close(conns[i]->fd);
		free(conns[i]);
	}
	for (i = 0; i < nls; i++)
		close(ls[i].fd);
	/* A stale ready file would let a restarted responder look ready early. */
	if (ready_file && status == 0)
		unlink(ready_file);
	return status;
}
