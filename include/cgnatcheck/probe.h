/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The live probe (--probe): real traffic to a target, to confirm what the
 * simulation concluded. A TCP handshake that completes proves little (a
 * local proxy, a conntrack quirk or a half-dead forwarder accepts too), so a
 * probe counts as evidence only when the service itself spoke: a DNS
 * response, an HTTP status line, an NTP server packet, a TCP banner. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgnatcheck/addr.h"

enum probe_status {
	PROBE_ANSWERED,         /* the service answered in its own protocol */
	PROBE_CONNECTED_SILENT, /* TCP connected, but nothing (or only a close) came back */
	PROBE_TIMEOUT,          /* nothing came back before the deadline */
	PROBE_REFUSED,          /* ICMP port unreachable, TCP reset */
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
 * protocol role hints ("dns", "metadata", "mirror", "http", "ntp"; NULL or
 * any other role: chosen by the port, 53 DNS, 80 HTTP, 123 NTP; otherwise a
 * TCP banner read, and UDP is unsupported).
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

/* "answered", "connected-silent", "timeout", "refused", "unreachable",
 * "bad-answer", "unsupported", "error"; "invalid" for anything else. */
const char *probe_status_to_string(enum probe_status s);

/* True only for PROBE_ANSWERED: the one status that proves the reply came
 * back through the host's firewall. */
bool probe_reached(const struct probe_result *r);
