/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The live probe: one exchange with a target in the protocol it serves, so
 * that "answered" means the service's reply came back through this host's
 * firewall. A completed TCP handshake is not enough (seed 003: a forwarder
 * accepted, nobody was behind it), nor is "some bytes came back" (an echo
 * responder returns the request): each protocol checks that the bytes are a
 * reply to what was sent.
 *
 *   DNS   glibc's resolver (res_nmkquery, res_nsend) on a private res_state
 *         with the target as its only server; answered when the response
 *         parses, has QR set and the query's id. Any rcode counts.
 *   HTTP  GET / HTTP/1.0; answered on an "HTTP/1.x NNN" status line.
 *   NTP   an NTPv4 client packet; answered on a server (mode 4) packet that
 *         carries our transmit timestamp as its origin timestamp.
 *   SSH   a fresh connection reads the server's identification string
 *         (RFC 4253 4.2); answered on SSH-2.0 or SSH-1.99 only. A forwarder
 *         that accepts and closes, or says nothing, is connected-silent;
 *         anything else said is a bad answer.
 *   TCP   any other port: answered when the service sends a banner.
 *
 * Errors are classified the way the test bed's kernel oracle (cg-probe)
 * words them, so a probe and a simulated verdict can be compared.
 *
 * The resolver needs help to stay inside the deadline. glibc (2.36, and every
 * version since at least 2.26) connects its TCP socket blocking and reads it
 * without any timeout: a dropped SYN-ACK stalls res_nsend for the kernel's
 * two minutes of SYN retries, a silent server for ever. So the probe makes
 * the connection itself (non-blocking, bounded by the deadline, with errors
 * it can classify) and hands the connected socket to the resolver, with
 * SO_RCVTIMEO and SO_SNDTIMEO bounding each read and write (each: a server
 * that trickles its answer a byte at a time can stretch the deadline, and
 * after a reset glibc reconnects on a socket of its own, unbounded again).
 * For UDP the resolver's own timer is used, in whole seconds, but the socket
 * is still ours: connecting it finds routing errors without sending
 * anything, after a failure its pending error says what the resolver folds
 * into ECONNREFUSED, and the replies res_nsend will not return (REFUSED,
 * SERVFAIL, an empty non-authoritative answer, an echo) are read on it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/probe.h"

/* glibc's resolv/resolv-internal.h: res_state._vcsock is a connected TCP
 * socket to the current server. Not in the public headers. */
#ifndef RES_F_VC
#define RES_F_VC 0x00000001
#endif

#define NTP_PACKET_SIZE 48

enum probe_kind { KIND_DNS, KIND_HTTP, KIND_NTP, KIND_SSH, KIND_BANNER, KIND_NONE };

struct probe_ctx {
	const struct cg_addr *addr;
	uint8_t l4proto;
	uint16_t port;
	int timeout_ms;
	long long start_ns;    /* CLOCK_MONOTONIC */
	long long deadline_ns;
	int dns_udp_seconds;   /* glibc's own timer for DNS over UDP */
	struct sockaddr_storage sa;
	socklen_t salen;
	char host[CG_ADDRSTRLEN];
	struct probe_result *out;
};

const char *probe_status_to_string(enum probe_status s)
{
	static const char *const names[] = {
		[PROBE_ANSWERED] = "answered",
		[PROBE_CONNECTED_SILENT] = "connected-silent",
		[PROBE_TIMEOUT] = "timeout",
		[PROBE_REFUSED] = "refused",
		[PROBE_UNREACHABLE] = "unreachable",
		[PROBE_BAD_ANSWER] = "bad-answer",
		[PROBE_UNSUPPORTED] = "unsupported",
		[PROBE_ERROR] = "error",
	};

	if ((unsigned)s >= ARRAY_SIZE(names))
		return "invalid";
	return names[s];
}

bool probe_reached(const struct probe_result *r)
{
	return r && r->status == PROBE_ANSWERED;
}

/* --- small helpers ------------------------------------------------------- */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Milliseconds left, rounded up so a wait never ends just before the
 * deadline and spins; 0 once it has passed. */
static int remaining_ms(const struct probe_ctx *c)
{
	long long left = c->deadline_ns - now_ns();

	if (left <= 0)
		return 0;
	return (int)((left + 999999) / 1000000);
}

/* Sets the verdict; returns 0 so that verdict paths read `return set(...)`. */
_printf_(3, 4) static int set_result(struct probe_ctx *c, enum probe_status s, const char *fmt, ...)
{
	va_list ap;

	c->out->status = s;
	va_start(ap, fmt);
	vsnprintf(c->out->detail, sizeof(c->out->detail), fmt, ap);
	va_end(ap);
	return 0;
}

/* A local failure: PROBE_ERROR and a negative errno for the caller. */
static int set_failure(struct probe_ctx *c, int err, const char *what)
{
	set_result(c, PROBE_ERROR, "%s: %s", what, strerror(err));
	return -err;
}

/* What a socket error says about the path, in cg-probe's words. */
static enum probe_status status_from_errno(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
		return PROBE_REFUSED;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ENONET:
	case ENETDOWN:
	case EACCES: /* a `prohibit` route, ICMP administratively prohibited */
	case EPERM:  /* dropped or rejected by netfilter on the way out */
		return PROBE_UNREACHABLE;
	case ETIMEDOUT:
		return PROBE_TIMEOUT;
	default:
		return PROBE_ERROR;
	}
}

static int set_errno_result(struct probe_ctx *c, int err, const char *what)
{
	return set_result(c, status_from_errno(err), "%s: %s", what, strerror(err));
}

/* Copies up to n bytes of untrusted data as one printable line: stops at the
 * first CR or LF, shows other control bytes as '.'. */
static void printable(char *dst, size_t size, const uint8_t *src, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < size; i++) {
		if (src[i] == '\r' || src[i] == '\n')
			break;
		dst[o++] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '.';
	}
	dst[o] = '\0';
}

static int make_sockaddr(struct probe_ctx *c)
{
	memset(&c->sa, 0, sizeof(c->sa));
	if (c->addr->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&c->sa;

		sin->sin_family = AF_INET;
		sin->sin_addr = c->addr->v4;
		sin->sin_port = htons(c->port);
		c->salen = sizeof(*sin);
	} else if (c->addr->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c->sa;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = c->addr->v6;
		sin6->sin6_port = htons(c->port);
		c->salen = sizeof(*sin6);
	} else {
		return -EAFNOSUPPORT;
	}
	addr_to_string(c->addr, c->host);
	return 0;
}

/* Waits until fd reports one of events; returns revents, 0 at the deadline,
 * or a negative errno. */
static int wait_fd(const struct probe_ctx *c, int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int r = poll(&p, 1, remaining_ms(c));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		return r == 0 ? 0 : p.revents;
	}
}

static int socket_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

/*
 * A non-blocking socket connected to the target; for TCP the handshake is
 * waited for, up to the deadline. Returns the fd, or -1 with the verdict in
 * c->out and in *r what the probe returns: 0, or -errno for a local failure.
 */
static int open_connected(struct probe_ctx *c, int type, int *r)
{
	int fd, ev, err;

	*r = 0;
	fd = socket(c->sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*r = set_failure(c, errno, "socket");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&c->sa, c->salen) == 0)
		return fd; /* UDP: only the route lookup happened */
	if (errno != EINPROGRESS) {
		/* At connect(), EINVAL is a `blackhole` route: the address was
		 * built for this very family, so nothing else can cause it. */
		if (errno == EINVAL)
			set_result(c, PROBE_UNREACHABLE, "connect: EINVAL (a blackhole route)");
		else
			set_errno_result(c, errno, "connect");
		close(fd);
		return -1;
	}
	ev = wait_fd(c, fd, POLLOUT);
	if (ev == 0) {
		set_result(c, PROBE_TIMEOUT, "no TCP handshake within %d ms", c->timeout_ms);
		close(fd);
		return -1;
	}
	if (ev < 0) {
		*r = set_failure(c, -ev, "poll");
		close(fd);
		return -1;
	}
	err = socket_error(fd);
	if (err == ECONNRESET) {
		/* A reset to the SYN is ECONNREFUSED: this one came after the
		 * handshake (tcp_reset), from a listener that accepted and
		 * reset before the wait for the handshake ended. */
		set_result(c, PROBE_CONNECTED_SILENT, "accepted, then reset before anything was said");
		close(fd);
		return -1;
	}
	if (err != 0) {
		set_errno_result(c, err, "connect");
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(struct probe_ctx *c, int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int ev = wait_fd(c, fd, POLLOUT);

			if (ev <= 0)
				return ev == 0 ? -ETIMEDOUT : ev;
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Reads from a connected TCP socket until `enough` says so, the peer closes,
 * or the deadline passes. Returns the bytes read (0: nothing), or a negative
 * errno when the connection failed before anything came.
 */
static ssize_t recv_until(struct probe_ctx *c, int fd, uint8_t *buf, size_t size,
			  bool (*enough)(const uint8_t *buf, size_t n))
{
	size_t got = 0;

	while (got < size && !(got > 0 && enough(buf, got))) {
		int ev = wait_fd(c, fd, POLLIN);
		ssize_t n;

		if (ev < 0)
			return got > 0 ? (ssize_t)got : ev;
		if (ev == 0)
			break;
		n = recv(fd, buf + got, size - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return got > 0 ? (ssize_t)got : -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* The verdict when a TCP connection opened and gave nothing usable; what:
 * the answer that did not come ("banner", "HTTP answer"). */
static int set_silent(struct probe_ctx *c, ssize_t r, const char *what)
{
	if (r < 0)
		return set_result(c, PROBE_CONNECTED_SILENT, "connected, no %s: %s", what,
				  strerror((int)-r));
	if (remaining_ms(c) > 0)
		return set_result(c, PROBE_CONNECTED_SILENT, "connected, closed by the peer, no %s",
				  what);
	return set_result(c, PROBE_CONNECTED_SILENT, "connected, no %s within %d ms", what,
			  c->timeout_ms);
}

/* --- HTTP ---------------------------------------------------------------- */

static bool have_line(const uint8_t *buf, size_t n)
{
	return memchr(buf, '\n', n) != NULL;
}

/* "HTTP/1.x NNN", the start of every HTTP/1 status line. */
static bool is_status_line(const uint8_t *b, size_t n)
{
	return n >= 12 && memcmp(b, "HTTP/1.", 7) == 0 && b[7] >= '0' && b[7] <= '9' &&
	       b[8] == ' ' && b[9] >= '1' && b[9] <= '5' && b[10] >= '0' && b[10] <= '9' &&
	       b[11] >= '0' && b[11] <= '9';
}

static int probe_http(struct probe_ctx *c)
{
	_cleanup_close_ int fd = -1;
	char req[128];
	uint8_t buf[512];
	char line[sizeof(buf) + 1];
	ssize_t n;
	int r, len;

	fd = open_connected(c, SOCK_STREAM, &r);
	if (fd < 0)
		return r;
	if (c->port == 80)
		len = snprintf(req, sizeof(req), "GET / HTTP/1.0\r\nHost: %s%s%s\r\n\r\n",
			       c->addr->family == AF_INET6 ? "[" : "", c->host,
			       c->addr->family == AF_INET6 ? "]" : "");
	else
		len = snprintf(req, sizeof(req), "GET / HTTP/1.0\r\nHost: %s%s%s:%u\r\n\r\n",
			       c->addr->family == AF_INET6 ? "[" : "", c->host,
			       c->addr->family == AF_INET6 ? "]" : "", c->port);
	r = send_all(c, fd, req, (size_t)len);
	if (r < 0)
		return set_silent(c, r, "HTTP answer");

	n = recv_until(c, fd, buf, sizeof(buf), have_line);
	if (n <= 0)
		return set_silent(c, n, "HTTP answer");
	printable(line, sizeof(line), buf, (size_t)n);
	if (is_status_line(buf, (size_t)n))
		return set_result(c, PROBE_ANSWERED, "%s", line);
	return set_result(c, PROBE_BAD_ANSWER, "not an HTTP status line: \"%.100s\"", line);
}

/* --- SSH identification (RFC 4253 4.2) ------------------------------------ */

void ssh_ident_init(struct ssh_ident *s)
{
	memset(s, 0, sizeof(*s));
}

_printf_(2, 3) static enum ssh_ident_state ident_bad(struct ssh_ident *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return s->state = SSH_IDENT_BAD;
}

/* The line being read, printable, for the messages. */
static void ident_cur(const struct ssh_ident *s, char *dst, size_t size)
{
	printable(dst, size, s->cur, s->cur_len);
}

/* The line so far and the NUL that ended it, as hex bytes ("15 03 03 00"),
 * the first 8 of them: binary (a TLS alert) says more so than as dots. */
static void ident_hex(const struct ssh_ident *s, char *dst, size_t size)
{
	size_t o = 0, n = s->cur_len < 7 ? s->cur_len : 7;

	dst[0] = '\0';
	for (size_t i = 0; i < n && o + 4 <= size; i++)
		o += (size_t)snprintf(dst + o, size - o, "%02x ", s->cur[i]);
	if (s->cur_len > n && o + 5 <= size)
		o += (size_t)snprintf(dst + o, size - o, "... ");
	if (o + 3 <= size)
		snprintf(dst + o, size - o, "00");
}

/* The line in cur starts with "SSH-": SSH-protoversion-softwareversion[ SP comments]. */
static enum ssh_ident_state ident_check(struct ssh_ident *s)
{
	const char *line = s->ident, *proto, *sw, *end;
	size_t plen, swlen;

	ident_cur(s, s->ident, sizeof(s->ident));
	proto = line + 4;
	plen = strcspn(proto, "- ");
	snprintf(s->protoversion, sizeof(s->protoversion), "%.*s", (int)plen, proto);
	if (plen == 0)
		return ident_bad(s, "an SSH identification without a protocol version: \"%.100s\"", line);
	if (proto[plen] != '-')
		return ident_bad(s, "an SSH identification without a software version: \"%.100s\"", line);
	sw = proto + plen + 1;
	swlen = strcspn(sw, " ");
	if (swlen == 0)
		return ident_bad(s, "an SSH identification with an empty software version: \"%.100s\"",
				 line);
	snprintf(s->softwareversion, sizeof(s->softwareversion), "%.*s", (int)swlen, sw);
	end = sw + swlen;
	snprintf(s->comments, sizeof(s->comments), "%s", *end == ' ' ? end + 1 : "");
	if (plen == 3 && memcmp(proto, "2.0", 3) == 0)
		return s->state = SSH_IDENT_SSH2;
	if (plen == 4 && memcmp(proto, "1.99", 4) == 0) {
		s->compat = true;
		return s->state = SSH_IDENT_SSH2;
	}
	if (proto[0] == '1' && proto[1] == '.')
		return ident_bad(s, "an SSH 1 server, not SSH 2: \"%.100s\"", line);
	return ident_bad(s, "SSH protocol version \"%.20s\", neither 2.0 nor 1.99: \"%.100s\"",
			 s->protoversion, line);
}

/* A line ended (its LF came). */
static enum ssh_ident_state ident_line(struct ssh_ident *s)
{
	if (s->lines == 0)
		ident_cur(s, s->first, sizeof(s->first));
	if (s->cur_len >= 4 && memcmp(s->cur, "SSH-", 4) == 0)
		return ident_check(s);
	if (++s->lines >= SSH_IDENT_PREAMBLE_MAX)
		return ident_bad(s, "%u lines and no SSH identification; the first: \"%.80s\"",
				 s->lines, s->first);
	s->cur_len = 0;
	s->raw = 0;
	s->cr = false;
	return SSH_IDENT_MORE;
}

enum ssh_ident_state ssh_ident_feed(struct ssh_ident *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	char shown[64];

	for (size_t i = 0; i < len && s->state == SSH_IDENT_MORE; i++) {
		uint8_t b = p[i];

		s->used++;
		if (++s->raw > SSH_IDENT_LINE_MAX) {
			ident_cur(s, shown, sizeof(shown));
			ident_bad(s, "line %u is longer than %d bytes: \"%.60s...\"", s->lines + 1,
				  SSH_IDENT_LINE_MAX, shown);
		} else if (b == '\n') {
			ident_line(s);
		} else if (s->cr) {
			ident_cur(s, shown, sizeof(shown));
			ident_bad(s, "a CR not followed by LF in line %u: \"%.60s\"", s->lines + 1, shown);
		} else if (b == '\r') {
			s->cr = true;
		} else if (b == '\0') {
			ident_hex(s, shown, sizeof(shown));
			ident_bad(s, "a NUL byte at byte %zu of line %u, not text (%s)", s->raw,
				  s->lines + 1, shown);
		} else {
			s->cur[s->cur_len++] = b;
		}
	}
	/* What a service that is not SSH said, even without its LF yet. */
	if (s->lines == 0)
		ident_cur(s, s->first, sizeof(s->first));
	return s->state;
}

enum ssh_ident_state ssh_ident_parse(const void *buf, size_t len, struct ssh_ident *out)
{
	ssh_ident_init(out);
	return ssh_ident_feed(out, buf, len);
}

/* The connection ended (err: 0 for a close, else the recv error) or the
 * deadline passed (timed_out) before an identification line. */
static int ssh_unfinished(struct probe_ctx *c, const struct ssh_ident *id, bool timed_out, int err)
{
	char how[96];

	if (timed_out)
		snprintf(how, sizeof(how), "within %d ms", c->timeout_ms);
	else if (err)
		snprintf(how, sizeof(how), "before the connection failed (%s)", strerror(err));
	else
		snprintf(how, sizeof(how), "before the close");
	if (id->used == 0) {
		if (timed_out)
			return set_result(c, PROBE_CONNECTED_SILENT, "accepted, nothing within %d ms",
					  c->timeout_ms);
		if (err)
			return set_result(c, PROBE_CONNECTED_SILENT,
					  "accepted, then %s before an SSH identification",
					  err == ECONNRESET ? "reset" : strerror(err));
		return set_result(c, PROBE_CONNECTED_SILENT,
				  "accepted, then closed before an SSH identification");
	}
	if (id->lines == 0)
		return set_result(c, PROBE_BAD_ANSWER, "an unfinished line and no SSH identification "
				  "%s: \"%.80s\"", how, id->first);
	return set_result(c, PROBE_BAD_ANSWER, "no SSH identification %s, %u line%s: \"%.80s\"", how,
			  id->lines, id->lines == 1 ? "" : "s", id->first);
}

static int probe_ssh(struct probe_ctx *c)
{
	_cleanup_close_ int fd = -1;
	struct ssh_ident id;
	uint8_t buf[512];
	char after[32] = "";
	int r;

	ssh_ident_init(&id);
	fd = open_connected(c, SOCK_STREAM, &r);
	if (fd < 0 && c->out->status == PROBE_CONNECTED_SILENT)
		return ssh_unfinished(c, &id, false, ECONNRESET); /* in the same words */
	if (fd < 0)
		return r;
	/* Until the identification line, the close or the deadline: a server
	 * may send it in pieces, after other lines. */
	while (id.state == SSH_IDENT_MORE) {
		int ev = wait_fd(c, fd, POLLIN);
		ssize_t n;

		if (ev < 0)
			return set_failure(c, -ev, "poll");
		if (ev == 0)
			return ssh_unfinished(c, &id, true, 0);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return ssh_unfinished(c, &id, false, errno);
		if (n == 0)
			return ssh_unfinished(c, &id, false, 0);
		ssh_ident_feed(&id, buf, (size_t)n);
	}
	if (id.state == SSH_IDENT_BAD)
		return set_result(c, PROBE_BAD_ANSWER, "%s", id.why);
	if (id.lines)
		snprintf(after, sizeof(after), ", after %u other line%s", id.lines,
			 id.lines == 1 ? "" : "s");
	return set_result(c, PROBE_ANSWERED, "SSH identification \"%.110s\"%s%s", id.ident,
			  id.compat ? " (SSH 2, 1.99 compatibility form)" : "", after);
}

/* --- TCP banner ---------------------------------------------------------- */

static bool any_bytes(const uint8_t *buf, size_t n)
{
	return n > 0;
}

static int probe_banner(struct probe_ctx *c)
{
	_cleanup_close_ int fd = -1;
	uint8_t buf[256];
	char line[sizeof(buf) + 1];
	ssize_t n;
	int r;

	fd = open_connected(c, SOCK_STREAM, &r);
	if (fd < 0)
		return r;
	n = recv_until(c, fd, buf, sizeof(buf), any_bytes);
	if (n <= 0)
		return set_silent(c, n, "banner");
	printable(line, sizeof(line), buf, (size_t)n);
	return set_result(c, PROBE_ANSWERED, "banner: \"%.120s\"", line);
}

/* --- NTP ----------------------------------------------------------------- */

/* The current time as an NTP timestamp (seconds since 1900, 32.32 fixed
 * point), big-endian. The server copies it into its origin timestamp: it is
 * how a reply is told from an echo of the request. */
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

static int check_ntp_reply(struct probe_ctx *c, const uint8_t *req, const uint8_t *rep, size_t n)
{
	unsigned mode, version, stratum;

	if (n < NTP_PACKET_SIZE)
		return set_result(c, PROBE_BAD_ANSWER, "a %zu-byte reply, shorter than an NTP packet", n);
	mode = rep[0] & 7;
	version = (rep[0] >> 3) & 7;
	stratum = rep[1];
	if (mode != 4)
		return set_result(c, PROBE_BAD_ANSWER, "NTP mode %u, not a server reply (4)%s", mode,
				  mode == 3 ? ": the request came back (an echo?)" : "");
	/* RFC 5905's "bogus packet" test: the origin timestamp must be ours. */
	if (memcmp(rep + 24, req + 40, 8) != 0)
		return set_result(c, PROBE_BAD_ANSWER, "NTP server reply to another request "
				  "(origin timestamp is not ours)");
	if (stratum == 0) {
		char code[5];

		printable(code, sizeof(code), rep + 12, 4);
		return set_result(c, PROBE_ANSWERED, "NTPv%u server, kiss-o'-death \"%s\"", version,
				  code);
	}
	return set_result(c, PROBE_ANSWERED, "NTPv%u server, stratum %u", version, stratum);
}

static int probe_ntp(struct probe_ctx *c)
{
	_cleanup_close_ int fd = -1;
	uint8_t req[NTP_PACKET_SIZE] = { 0 }, rep[512];
	ssize_t n;
	int r, ev;

	fd = open_connected(c, SOCK_DGRAM, &r);
	if (fd < 0)
		return r;
	req[0] = (0 << 6) | (4 << 3) | 3; /* no leap warning, version 4, client */
	ntp_now(req + 40);                /* transmit timestamp */
	if (send(fd, req, sizeof(req), MSG_NOSIGNAL) < 0)
		return set_errno_result(c, errno, "send");
	for (;;) {
		ev = wait_fd(c, fd, POLLIN);
		if (ev == 0)
			return set_result(c, PROBE_TIMEOUT, "no NTP reply within %d ms", c->timeout_ms);
		if (ev < 0)
			return set_failure(c, -ev, "poll");
		/* Connected: ICMP errors for this peer come back as recv() errors. */
		n = recv(fd, rep, sizeof(rep), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return set_errno_result(c, errno, "recv");
		return check_ntp_reply(c, req, rep, (size_t)n);
	}
}

/* --- DNS ----------------------------------------------------------------- */

static const char *rcode_name(unsigned rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
	};

	return rcode < ARRAY_SIZE(names) ? names[rcode] : NULL;
}

/*
 * Makes the target the resolver's only server. IPv6 servers live outside
 * nsaddr_list, in _u._ext.nsaddrs (malloc'd, freed by res_nclose), as
 * res_ninit stores them; slots beyond nscount are freed here, since
 * res_nclose only looks at the first nscount.
 */
static int dns_set_server(struct probe_ctx *c, struct __res_state *st)
{
	struct sockaddr_in6 *copy;
	int i;

	for (i = 0; i < MAXNS; i++) {
		free(st->_u._ext.nsaddrs[i]);
		st->_u._ext.nsaddrs[i] = NULL;
		st->_u._ext.nssocks[i] = -1;
	}
	/* glibc's copy of the server, the one it checks a handed-over socket
	 * against (sockaddr_in6-sized, as glibc allocates it). */
	copy = calloc(1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, &c->sa, c->salen);
	st->_u._ext.nsaddrs[0] = copy;
	if (c->sa.ss_family == AF_INET) {
		memcpy(&st->nsaddr_list[0], &c->sa, sizeof(struct sockaddr_in));
	} else {
		memset(&st->nsaddr_list[0], 0, sizeof(st->nsaddr_list[0]));
		st->nsaddr_list[0].sin_family = 0; /* "the address is in _ext" */
	}
	st->nscount = 1;
	return 0;
}

static int set_blocking_timeouts(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	int flags = fcntl(fd, F_GETFL);

	/* glibc reads and writes the TCP socket blocking: a non-blocking one
	 * would fail its first read with EAGAIN. */
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/* The UDP socket glibc would have made itself reports ICMP errors in full
 * (__res_enable_icmp); ours does the same. */
static int enable_icmp_errors(int fd, int family)
{
	int one = 1;

	if (family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) < 0 ? -errno : 0;
	return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one)) < 0 ? -errno : 0;
}

/*
 * Hands the connected socket fd to the resolver; the resolver owns it from
 * here and closes it (res_nsend on failure or, without RES_STAYOPEN, after
 * the answer; res_nclose otherwise).
 *
 * TCP: _vcsock with RES_F_VC is the connection send_vc() reuses after
 * checking its peer. UDP: _u._ext.nssocks[0] is the socket reopen() keeps,
 * provided _u._ext.nscount says the server list was already copied (it is,
 * by dns_set_server; with 0 res_nsend would reset nssocks and leak it).
 */
static void dns_hand_over(struct __res_state *st, int fd, bool tcp)
{
	if (tcp) {
		st->_vcsock = fd;
		st->_flags |= RES_F_VC;
	} else {
		st->_u._ext.nssocks[0] = fd;
		st->_u._ext.nscount = 1;
	}
}

/* After res_nclose: fd was the resolver's to close. Should a glibc ignore
 * the hand-over, fd would still be our socket (twin is its duplicate):
 * close it then. The inode check keeps us from closing a reused number. */
static void close_unless_closed(int fd, int twin)
{
	struct stat a, b;

	if (fstat(fd, &a) == 0 && fstat(twin, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		close(fd);
}

/*
 * glibc's res_nsend over UDP returns no reply whose rcode is SERVFAIL,
 * NOTIMP or REFUSED, nor a NOERROR reply without answers, AA, RA or
 * additional records (an echo of the query is one); it fails at once instead.
 * Its way out, a non-zero pfcode ("called from dig"), loops for ever on the
 * second kind (send_dg's goto next_ns, still in glibc master), so it cannot
 * be used. Instead the same query goes out again on the same socket (twin,
 * still connected; glibc only closed its descriptor) and the reply is read
 * here, to be judged like any other.
 */
static int dns_udp_reread(struct probe_ctx *c, const uint8_t *q, int qlen, int twin,
			  uint8_t *ans, size_t size)
{
	ssize_t n;
	int ev;

	if (send(twin, q, (size_t)qlen, MSG_NOSIGNAL) < 0)
		return set_errno_result(c, errno, "send (again)");
	for (;;) {
		ev = wait_fd(c, twin, POLLIN);
		if (ev == 0)
			return set_result(c, PROBE_BAD_ANSWER, "the resolver rejected a reply, and "
					  "the query sent again got none");
		if (ev < 0)
			return set_failure(c, -ev, "poll");
		n = recv(twin, ans, size, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return set_errno_result(c, errno, "recv (again)");
		if (n == 0)
			return set_result(c, PROBE_BAD_ANSWER, "an empty datagram");
		return (int)n;
	}
}

/*
 * res_nsend failed over UDP. glibc says only "nothing reached"
 * (ECONNREFUSED) or "no usable answer" (ETIMEDOUT). The socket's pending
 * error says which ICMP error it was; the time says whether glibc waited for
 * its timer or gave up on a reply it would not return. Returns the length
 * of a reply read again into ans (to be checked), or 0 with the verdict set.
 */
static int dns_udp_failure(struct probe_ctx *c, int err, const uint8_t *q, int qlen, int twin,
			   uint8_t *ans, size_t size)
{
	int sockerr = socket_error(twin);

	if (sockerr != 0)
		return set_errno_result(c, sockerr, "DNS query");
	if (err == ETIMEDOUT && remaining_ms(c) > 0)
		return dns_udp_reread(c, q, qlen, twin, ans, size);
	if (err == ETIMEDOUT)
		return set_result(c, PROBE_TIMEOUT, "no DNS answer within %d s (glibc times UDP "
				  "queries in whole seconds)", c->dns_udp_seconds);
	if (err != ECONNREFUSED)
		return set_errno_result(c, err, "res_nsend");
	/* No ICMP error: the send itself failed (EPERM from a netfilter drop,
	 * typically), and glibc keeps that errno to itself. */
	return set_result(c, PROBE_UNREACHABLE,
			  "the DNS query could not be sent (a local firewall drop looks like this)");
}

static int dns_tcp_failure(struct probe_ctx *c, int err)
{
	switch (err) {
	case 0: /* read() returned 0: glibc passes on whatever errno was */
		return set_result(c, PROBE_CONNECTED_SILENT,
				  "connected, closed by the peer, no DNS answer");
	case EAGAIN:
		return set_result(c, PROBE_CONNECTED_SILENT, "connected, no DNS answer within %d ms",
				  c->timeout_ms);
	case ECONNRESET:
		return set_result(c, PROBE_CONNECTED_SILENT,
				  "connected, no DNS answer: %s", strerror(ECONNRESET));
	case EMSGSIZE:
		return set_result(c, PROBE_BAD_ANSWER, "a reply shorter than a DNS header");
	default:
		return set_errno_result(c, err, "res_nsend");
	}
}

/* res_nsend returned a message: is it an answer to our query? */
static int dns_check_answer(struct probe_ctx *c, const uint8_t *q, const uint8_t *ans, int n,
			    bool tcp, bool reread)
{
	const char *how = tcp ? "TCP" : reread ? "UDP (read past glibc)" : "UDP";
	ns_msg msg;
	unsigned rcode, an;
	const char *name;

	if (ns_initparse(ans, n, &msg) < 0)
		return set_result(c, PROBE_BAD_ANSWER, "a %d-byte reply that is not a DNS message", n);
	if (ns_msg_id(msg) != (unsigned)(q[0] << 8 | q[1]))
		return set_result(c, PROBE_BAD_ANSWER, "a DNS message with another id");
	if (!ns_msg_getflag(msg, ns_f_qr))
		return set_result(c, PROBE_BAD_ANSWER,
				  "our query came back with QR clear: an echo, not a resolver");
	rcode = (unsigned)ns_msg_getflag(msg, ns_f_rcode);
	an = ns_msg_count(msg, ns_s_an);
	name = rcode_name(rcode);
	/* Any rcode proves the path: even REFUSED came from the resolver. */
	if (name)
		return set_result(c, PROBE_ANSWERED, "DNS over %s: rcode %s, %u answer%s", how,
				  name, an, an == 1 ? "" : "s");
	return set_result(c, PROBE_ANSWERED, "DNS over %s: rcode %u, %u answer%s", how, rcode,
			  an, an == 1 ? "" : "s");
}

static int probe_dns(struct probe_ctx *c, bool tcp)
{
	struct __res_state st;
	uint8_t q[NS_PACKETSZ], ans[4096];
	int fd, twin, qlen, n, err, r;
	bool reread = false;

	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) < 0)
		return set_failure(c, errno ? errno : EIO, "res_ninit");
	r = dns_set_server(c, &st);
	if (r < 0) {
		res_nclose(&st);
		return set_failure(c, -r, "resolver setup");
	}
	/* One try, one server; UDP: a truncated answer is proof enough, no
	 * retry over TCP. (Not pfcode: see dns_udp_reread.) */
	st.retry = 1;
	st.retrans = c->dns_udp_seconds = c->timeout_ms / 1000 + (c->timeout_ms % 1000 != 0);
	if (!tcp) /* glibc's poll() is the deadline now, not ours */
		c->deadline_ns = c->start_ns + (long long)st.retrans * 1000000000LL;
	st.options = RES_INIT | RES_RECURSE | (tcp ? RES_USEVC : RES_IGNTC);

	/* "." NS: every recursive resolver answers it from its priming cache,
	 * without having to reach anything beyond itself. */
	qlen = res_nmkquery(&st, ns_o_query, ".", ns_c_in, ns_t_ns, NULL, 0, NULL, q, sizeof(q));
	if (qlen < NS_HFIXEDSZ) {
		res_nclose(&st);
		return set_failure(c, EINVAL, "res_nmkquery");
	}

	fd = open_connected(c, tcp ? SOCK_STREAM : SOCK_DGRAM, &r);
	if (fd < 0) {
		res_nclose(&st);
		return r;
	}
	twin = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	r = twin < 0 ? -errno : 0;
	if (r == 0)
		r = tcp ? set_blocking_timeouts(fd, remaining_ms(c) > 0 ? remaining_ms(c) : 1)
			: enable_icmp_errors(fd, c->sa.ss_family);
	if (r < 0) {
		if (twin >= 0)
			close(twin);
		close(fd);
		res_nclose(&st);
		return set_failure(c, -r, "socket setup");
	}
	dns_hand_over(&st, fd, tcp);

	errno = 0; /* glibc reports a TCP end of file with whatever errno was */
	n = res_nsend(&st, q, qlen, ans, sizeof(ans));
	err = errno;
	if (n < 0 && tcp) {
		r = dns_tcp_failure(c, err);
	} else if (n < 0) {
		/* > 0: the length of a reply read again, to be judged below */
		n = r = dns_udp_failure(c, err, q, qlen, twin, ans, sizeof(ans));
		reread = n > 0;
	}
	if (n > 0)
		/* Over TCP, n is the full length even when glibc had to cut it. */
		r = dns_check_answer(c, q, ans, n < (int)sizeof(ans) ? n : (int)sizeof(ans), tcp,
				     reread);
	res_nclose(&st);
	close_unless_closed(fd, twin);
	close(twin);
	return r;
}

/* --- dispatch ------------------------------------------------------------ */

static enum probe_kind kind_for(const char *role, uint16_t port, uint8_t l4proto)
{
	if (role) {
		if (strcmp(role, "dns") == 0)
			return KIND_DNS;
		if (strcmp(role, "metadata") == 0 || strcmp(role, "mirror") == 0 ||
		    strcmp(role, "http") == 0)
			return KIND_HTTP;
		if (strcmp(role, "ntp") == 0)
			return KIND_NTP;
		if (strcmp(role, "ssh") == 0)
			return KIND_SSH;
		/* "overlay-service" (a service this host offers over the
		 * overlay), "service" and the rest: by the port below. */
	}
	switch (port) {
	case 22:
		return KIND_SSH;
	case 53:
		return KIND_DNS;
	case 80:
		return KIND_HTTP;
	case 123:
		return KIND_NTP;
	default:
		return l4proto == IPPROTO_TCP ? KIND_BANNER : KIND_NONE;
	}
}

bool probe_knows_protocol(uint8_t l4proto, uint16_t port, const char *role)
{
	enum probe_kind k = kind_for(role, port, l4proto);

	return k != KIND_BANNER && k != KIND_NONE;
}

static int run_probe(struct probe_ctx *c, const char *role)
{
	bool tcp = c->l4proto == IPPROTO_TCP;

	switch (kind_for(role, c->port, c->l4proto)) {
	case KIND_DNS:
		return probe_dns(c, tcp);
	case KIND_HTTP:
		if (!tcp)
			return set_result(c, PROBE_UNSUPPORTED, "HTTP is spoken over TCP, not UDP");
		return probe_http(c);
	case KIND_NTP:
		if (tcp)
			return set_result(c, PROBE_UNSUPPORTED, "NTP is spoken over UDP, not TCP");
		return probe_ntp(c);
	case KIND_SSH:
		if (!tcp)
			return set_result(c, PROBE_UNSUPPORTED, "SSH is spoken over TCP, not UDP");
		return probe_ssh(c);
	case KIND_BANNER:
		return probe_banner(c);
	case KIND_NONE:
	default:
		/* A datagram that gets no answer proves nothing either way. */
		return set_result(c, PROBE_UNSUPPORTED,
				  "no protocol known for UDP port %u (role %s): silence would prove "
				  "nothing", c->port, role ? role : "none");
	}
}

int probe_target(const struct cg_addr *addr, uint8_t l4proto, uint16_t port, const char *role,
		 int timeout_ms, struct probe_result *out)
{
	struct probe_ctx c = { .addr = addr, .l4proto = l4proto, .port = port,
			       .timeout_ms = timeout_ms, .out = out, .start_ns = now_ns() };
	int r;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!addr || (addr->family != AF_INET && addr->family != AF_INET6))
		r = set_failure(&c, EAFNOSUPPORT, "target address");
	else if (port == 0)
		r = set_failure(&c, EINVAL, "port 0");
	else if (timeout_ms <= 0)
		r = set_failure(&c, EINVAL, "timeout");
	else if (addr->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&addr->v6))
		/* struct cg_addr has no scope: connect() would fail with EINVAL. */
		r = set_result(&c, PROBE_UNSUPPORTED, "a link-local target needs an interface");
	else if (l4proto != IPPROTO_UDP && l4proto != IPPROTO_TCP)
		r = set_result(&c, PROBE_UNSUPPORTED, "only UDP and TCP are probed (protocol %u)",
			       l4proto);
	else {
		c.deadline_ns = c.start_ns + (long long)timeout_ms * 1000000LL;
		r = make_sockaddr(&c);
		if (r < 0)
			r = set_failure(&c, -r, "target address");
		else
			r = run_probe(&c, role);
	}
	out->ms = (double)(now_ns() - c.start_ns) / 1e6;
	return r;
}
