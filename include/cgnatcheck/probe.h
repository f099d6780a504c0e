/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The live probe (--probe): real traffic to a target, to confirm what the
 * simulation concluded. A TCP handshake that completes proves little (a
 * local proxy, a conntrack quirk or a half-dead forwarder accepts too), so a
 * probe counts as evidence only when the service itself spoke: a DNS
 * response, an HTTP status line, an NTP server packet, a TCP banner. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/addr.h"

enum probe_status {
	PROBE_ANSWERED,         /* the service answered in its own protocol */
	PROBE_CONNECTED_SILENT, /* TCP connected, but nothing (or only a close or a reset) came back */
	PROBE_TIMEOUT,          /* nothing came back before the deadline */
	PROBE_REFUSED,          /* ICMP port unreachable, a TCP reset to the SYN */
	PROBE_UNREACHABLE,      /* no route, ICMP unreachable/prohibited, dropped on the way out */
	PROBE_BAD_ANSWER,       /* something answered, but not the protocol spoken (an echo...) */
	PROBE_UNSUPPORTED,      /* no protocol to speak to this target */
	PROBE_ERROR,            /* a local failure: bad argument, no socket */
};

struct probe_result {
	enum probe_status status;
	char detail[160];       /* what was seen, in words: rcode, status line, errno text */
	double ms;              /* wall-clock time the probe took */
};

/*
 * Probes addr:port over l4proto (IPPROTO_UDP or IPPROTO_TCP), speaking the
 * protocol role hints ("dns", "metadata", "mirror", "http", "ntp", "ssh";
 * NULL, "overlay-service" or any other role: chosen by the port, 22 SSH,
 * 53 DNS, 80 HTTP, 123 NTP; otherwise a TCP banner read, and UDP is
 * unsupported).
 *
 * SSH ("ssh", or port 22): a fresh connection that must read the server's
 * identification string (RFC 4253 section 4.2, parsed by ssh_ident_feed):
 * answered on "SSH-2.0-..." or "SSH-1.99-..." (the detail quotes it);
 * bad-answer on any other identification, on lines that break the RFC's
 * rules, or on lines that are not an identification followed by the close
 * or the deadline (an HTTP response, "Not allowed at this time"); a
 * connection accepted and then closed or reset with nothing sent, or silent
 * until the deadline, is connected-silent (seed 003: a forwarder that
 * accepts with nothing behind it is not ready). Nothing is sent.
 *
 * timeout_ms bounds the whole probe, with one exception: DNS over UDP is
 * timed by glibc's resolver, in whole seconds, so its deadline is timeout_ms
 * rounded up to the next second.
 *
 * Returns 0 when *out holds a verdict, a negative errno when the probe could
 * not be made (bad argument, no socket); *out then says PROBE_ERROR and why.
 * Sends nothing to anyone else than addr:port.
 */
int probe_target(const struct cg_addr *addr, uint8_t l4proto, uint16_t port, const char *role,
		 int timeout_ms, struct probe_result *out);

/* Does the probe speak the protocol of that target (DNS, HTTP, NTP, SSH),
 * so that silence means the service is not there? False where it only
 * reads a banner that the protocol may never send first. */
bool probe_knows_protocol(uint8_t l4proto, uint16_t port, const char *role);

/* "answered", "connected-silent", "timeout", "refused", "unreachable",
 * "bad-answer", "unsupported", "error"; "invalid" for anything else. */
const char *probe_status_to_string(enum probe_status s);

/* True only for PROBE_ANSWERED: the one status that proves the reply came
 * back through the host's firewall. */
bool probe_reached(const struct probe_result *r);

/* --- the SSH identification string (RFC 4253 section 4.2) ---------------
 *
 * The server may send other lines before its identification line; a line
 * ends with CR LF (LF alone accepted, as OpenSSH's client does) and has at
 * most SSH_IDENT_LINE_MAX bytes with its end; a CR not followed by LF, or a
 * NUL byte, ends the exchange (OpenSSH's client refuses both). The first
 * line that starts "SSH-" is the identification:
 *
 *     SSH-protoversion-softwareversion[ SP comments] CR LF
 *
 * protoversion "2.0" is SSH 2, "1.99" a server that speaks 2 and 1 (the
 * compatibility form of section 5.1); any other (SSH-1.5, a hypothetical
 * 2.1) is not an SSH 2 identification. softwareversion must not be empty;
 * its characters are not checked further (Cisco's "Cisco-1.25" has the
 * minus sign the RFC forbids, and every client accepts it).
 */

#define SSH_IDENT_LINE_MAX 255      /* bytes of one line, CR LF included */
#define SSH_IDENT_PREAMBLE_MAX 1024 /* other lines before it (OpenSSH's client's limit) */

enum ssh_ident_state {
	SSH_IDENT_MORE = 0, /* no identification line yet: feed more */
	SSH_IDENT_SSH2,     /* an SSH 2 identification ("SSH-2.0-", "SSH-1.99-") */
	SSH_IDENT_BAD,      /* not one: why says what was read */
};

struct ssh_ident {
	enum ssh_ident_state state;
	unsigned lines;            /* complete lines before the identification */
	size_t used;               /* bytes taken, up to the identification's LF (or the byte that was bad) */
	char first[81];            /* the first line, printable, cut, even unfinished: what a
				    * service that is not SSH said ("HTTP/1.0 400 Bad Request") */
	/* SSH_IDENT_SSH2 (and SSH_IDENT_BAD with a line starting "SSH-"): */
	char ident[SSH_IDENT_LINE_MAX + 1];    /* the line without CR LF, printable */
	char protoversion[16];                 /* "2.0", "1.99" (cut: for the message) */
	char softwareversion[SSH_IDENT_LINE_MAX + 1];
	char comments[SSH_IDENT_LINE_MAX + 1]; /* "" when there are none */
	bool compat;                           /* "1.99" */
	char why[160];                         /* SSH_IDENT_BAD: in words, quoting what was read */
	/* the line being read */
	uint8_t cur[SSH_IDENT_LINE_MAX];
	size_t cur_len;                        /* bytes in cur (a CR is not stored) */
	size_t raw;                            /* bytes of the line so far, CR included */
	bool cr;                               /* the last byte was a CR */
};

/* Starts reading an identification. */
void ssh_ident_init(struct ssh_ident *s);

/* Takes the next len bytes the server sent (any split: a byte at a time
 * reads the same as all at once); stops at the end of the identification
 * line or at the first byte that is wrong (s->used says where). Returns the
 * state, which does not change once it is SSH_IDENT_SSH2 or SSH_IDENT_BAD. */
enum ssh_ident_state ssh_ident_feed(struct ssh_ident *s, const void *buf, size_t len);

/* ssh_ident_init and one ssh_ident_feed of buf: the state after len bytes
 * (SSH_IDENT_MORE: they hold no whole identification line yet). */
enum ssh_ident_state ssh_ident_parse(const void *buf, size_t len, struct ssh_ident *out);
