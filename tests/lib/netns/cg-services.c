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
 * cg-serve.c for why). The ready file is written, through a rename, once
 * every socket is bound. Serves until SIGTERM or SIGINT.
 */
/* config.h (forced in by AM_CPPFLAGS) defines it; standalone builds need it too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* in6_pktinfo, ppoll(), accept4() */
#endif
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cg-serve.h"

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

struct conn {
	int fd;
	enum service svc;
	size_t len;
	uint8_t buf[CONN_BUF];
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cg-services [--ready-file PATH] SERVICE:PORT ...\n"
		   "services: dns dns-refused dns-empty http ntp banner silent (TCP/UDP as the protocol "
		   "needs), echo:PORT/udp|tcp\n");
}

/* --- command line -------------------------------------------------------- */

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
	if (serve_parse_port(colon + 1, &end, port) < 0)
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

#define NTP_UNIX_EPOCH 2208988800u /* 1970-01-01 in NTP's seconds since 1900 */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * A server packet answering client packet q; 0 when q is not one. A probe
 * judges the mode, version and stratum, and the origin timestamp: its own
 * transmit timestamp, copied back. The server's clock is only filled in:
 * reference, receive and transmit are one reading of gettimeofday(), in
 * seconds since 1900 and 2^-32 fractions of a second.
 */
static size_t ntp_answer(const uint8_t *q, size_t n, uint8_t *r)
{
	struct timeval tv;
	uint8_t clock[8];
	unsigned version;

	if (n < NTP_SIZE || (q[0] & 7) != 3)
		return 0;
	version = (q[0] >> 3) & 7;
	gettimeofday(&tv, NULL);
	put_be32(clock, (uint32_t)tv.tv_sec + NTP_UNIX_EPOCH);
	put_be32(clock + 4, (uint32_t)(((uint64_t)tv.tv_usec << 32) / 1000000));
	memset(r, 0, NTP_SIZE);
	r[0] = (uint8_t)((version ? version : 4) << 3 | 4); /* no leap warning, server */
	r[1] = 2;                                           /* stratum */
	r[2] = q[2];                                        /* poll */
	r[3] = (uint8_t)-20;                                /* precision, about 1 us */
	r[12] = 192, r[13] = 0, r[14] = 2, r[15] = 123;     /* reference id: the upstream */
	memcpy(r + 16, clock, 8);                           /* reference */
	memcpy(r + 24, q + 40, 8);                          /* origin: the client's transmit */
	memcpy(r + 32, clock, 8);                           /* receive */
	memcpy(r + 40, clock, 8);                           /* transmit */
	return NTP_SIZE;
}

/* --- UDP ----------------------------------------------------------------- */

/* Answers one datagram, from the address it was sent to. */
static void serve_udp(const struct serve_listener *l)
{
	static uint8_t buf[65536], reply[65536 + 16];
	struct serve_dgram d;
	ssize_t n = serve_recv(l->fd, &d, buf, sizeof(buf));
	size_t rlen;

	if (n < 0)
		return;
	switch (l->kind) {
	case S_DNS:
	case S_DNS_REFUSED:
	case S_DNS_EMPTY:
		rlen = dns_answer(buf, (size_t)n, reply, (enum service)l->kind);
		break;
	case S_NTP:
		rlen = ntp_answer(buf, (size_t)n, reply);
		break;
	default:
		memcpy(reply, buf, (size_t)n);
		rlen = (size_t)n;
		break;
	}
	if (rlen > 0)
		serve_reply(l->fd, l->family, &d, reply, rlen);
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
			if (serve_write_all(c->fd, reply, rlen + 2) < 0)
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
		return c->svc != S_ECHO || serve_write_all(c->fd, buf, (size_t)n) == 0;
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
		(void)serve_write_all(c->fd, http_reply, sizeof(http_reply) - 1);
		return false; /* HTTP/1.0: the close ends the body */
	}
	return dns_tcp_drain(c);
}

/* Accepts one connection on l; the new conn, or NULL. */
static struct conn *accept_conn(const struct serve_listener *l)
{
	static const char banner[] = "SSH-2.0-cg-services\r\n";
	struct conn *c;
	int fd = serve_accept(l->fd);

	if (fd < 0)
		return NULL;
	c = malloc(sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->svc = (enum service)l->kind;
	c->len = 0;
	if (c->svc == S_BANNER && serve_write_all(fd, banner, sizeof(banner) - 1) < 0) {
		close(fd);
		free(c);
		return NULL;
	}
	return c;
}

/* --- main ---------------------------------------------------------------- */

static const char *service_name(int svc)
{
	size_t i;

	for (i = 0; i < sizeof(service_names) / sizeof(service_names[0]); i++)
		if ((int)service_names[i].svc == svc)
			return service_names[i].name;
	return "?";
}

int main(int argc, char **argv)
{
	static struct serve sv;
	struct conn *conns[SERVE_MAX_CONNS];
	int nconns = 0, i, argi, status = 0;

	argi = serve_start(&sv, "cg-services", argc, argv, usage, &status);
	if (argi < 0)
		return status;

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
		if (udp && (status = serve_add_listeners(&sv, true, port, svc)) != 0)
			goto out;
		if (tcp && (status = serve_add_listeners(&sv, false, port, svc)) != 0)
			goto out;
	}

	status = serve_ready(&sv, service_name);
	if (status != 0)
		goto out;

	while (serve_poll_begin(&sv)) {
		for (i = 0; i < nconns; i++)
			serve_poll_add(&sv, conns[i]->fd);
		if (serve_wait(&sv, &status) <= 0)
			break;
		/* Connections first, walking backwards: removing one (swap with
		 * the last) keeps the indexes of those still to visit valid,
		 * and connections accepted below are not in pfd yet. */
		for (i = sv.npfd - sv.nls - 1; i >= 0; i--) {
			if (!sv.pfd[sv.nls + i].revents || serve_conn(conns[i]))
				continue;
			close(conns[i]->fd);
			free(conns[i]);
			conns[i] = conns[--nconns];
		}
		for (i = 0; i < sv.nls; i++) {
			struct conn *c;

			if (!(sv.pfd[i].revents & (POLLIN | POLLERR)))
				continue;
			if (sv.ls[i].udp) {
				serve_udp(&sv.ls[i]);
				continue;
			}
			c = accept_conn(&sv.ls[i]);
			if (!c)
				continue;
			if (nconns >= SERVE_MAX_CONNS) { /* overloaded: the prober sees a close */
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
	serve_close(&sv, status);
	return status;
}
