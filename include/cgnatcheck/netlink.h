/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rtnetlink plumbing shared by the collectors: a socket with a big receive
 * buffer, dump requests that survive NLM_F_DUMP_INTR, and attribute parsing
 * through one validating callback, so a malformed kernel message is rejected
 * in one place and named in the error. */
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stdint.h>

#include "cgnatcheck/addr.h"

/* What an attribute must look like. Attributes without a policy entry
 * (NL_A_NONE), or with a type above the table, are ignored. */
enum nl_attr_kind {
	NL_A_NONE = 0,
	NL_A_U8,
	NL_A_U16,
	NL_A_U32,
	NL_A_U64,
	NL_A_STRING,    /* NUL-terminated within its length */
	NL_A_ADDR,      /* 4 bytes for AF_INET, 16 for AF_INET6 (the message's family) */
	NL_A_NESTED,
	NL_A_BINARY,    /* at least .len bytes */
	NL_A_FLAG,
};

struct nl_policy {
	uint8_t kind;        /* enum nl_attr_kind */
	uint16_t len;        /* NL_A_BINARY: minimum length */
	const char *name;    /* for error messages ("RTA_GATEWAY") */
};

/* Parses the attributes that follow a family header of `hdrlen` bytes in
 * nlh. tb[] (max + 1 entries) receives the last attribute of each known type.
 * Returns 0, or -EBADMSG after logging "malformed <MSG> message: ..." when the
 * header is short, an attribute is badly framed, or a known attribute fails
 * its policy. */
int nl_parse(const struct nlmsghdr *nlh, size_t hdrlen, int family,
	     const struct nl_policy *policy, unsigned max, const struct nlattr **tb);
/* The same for the attributes nested in `nest`; msg names the message. */
int nl_parse_nested(const struct nlattr *nest, uint16_t msg_type, int family,
		    const struct nl_policy *policy, unsigned max, const struct nlattr **tb);

/* The same for a run of attributes in buf (e.g. after a struct rtnexthop). */
int nl_parse_payload(const void *buf, size_t len, uint16_t msg_type, int family,
		     const struct nl_policy *policy, unsigned max, const struct nlattr **tb);

/* "RTM_NEWROUTE", ... or "message type N" (static or thread-unsafe buffer). */
const char *nl_msg_type_name(uint16_t type);

/* Copies an NL_A_ADDR attribute of `family` into *out. */
void nl_attr_get_addr(const struct nlattr *a, int family, struct cg_addr *out);

struct nl_sock;

typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *data);

/* Opens a NETLINK_ROUTE socket bound to the current network namespace with
 * strict checking and a large receive buffer. */
int nl_open(struct nl_sock **ret);
void nl_close(struct nl_sock *s);
static inline void nl_closep(struct nl_sock **s) { if (*s) nl_close(*s); }
#define _cleanup_nl_sock_ __attribute__((cleanup(nl_closep)))

/* Starts a request in the socket's send buffer. */
struct nlmsghdr *nl_msg_start(struct nl_sock *s, uint16_t type, uint16_t flags);

/* Sends `req` (a dump request) and feeds every reply message to cb. When
 * the kernel flags the dump as interrupted (NLM_F_DUMP_INTR: the table
 * changed under it), calls reset(data) and asks again, a few times.
 * Returns 0, the kernel's negative errno, or cb's negative return. */
int nl_dump(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void (*reset)(void *data),
	    void *data);
/* Sends a non-dump request and feeds the reply (if any) to cb; returns 0 or
 * the kernel's negative errno (e.g. -ENETUNREACH for RTM_GETROUTE). */
int nl_call(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void *data);
/* The kernel's extended-ack text for the last error, "" if none. */
const char *nl_ext_msg(const struct nl_sock *s);
