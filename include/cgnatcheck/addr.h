/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IPv4/IPv6 addresses and prefixes, the unit every stage speaks. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct cg_addr {
	int family; /* AF_INET, AF_INET6, or AF_UNSPEC for "unset" */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

struct cg_prefix {
	struct cg_addr addr;
	uint8_t len;
};

/* Transport protocols a target or service uses. */
enum cg_proto_mask { CG_PROTO_UDP = 1 << 0, CG_PROTO_TCP = 1 << 1 };

#define CG_ADDRSTRLEN (INET6_ADDRSTRLEN + 4)

/* Address length in bytes for a family (4 or 16), 0 for anything else. */
int addr_family_len(int family);
int addr_family_bits(int family);
/* Parses "1.2.3.4" or "2001:db8::1". Returns 0 or -EINVAL. */
int addr_parse(const char *s, struct cg_addr *out);
/* Parses "1.2.3.4/24", "2001:db8::/32" or a bare address (host prefix).
 * Host bits beyond the length are cleared. Returns 0 or -EINVAL. */
int prefix_parse(const char *s, struct cg_prefix *out);
const char *addr_to_string(const struct cg_addr *a, char buf[static CG_ADDRSTRLEN]);
const char *prefix_to_string(const struct cg_prefix *p, char buf[static CG_ADDRSTRLEN]);
bool addr_equal(const struct cg_addr *a, const struct cg_addr *b);
/* True when the first `len` bits of a and b agree (same family required). */
bool addr_prefix_match(const struct cg_addr *a, const struct cg_addr *b, unsigned len);
bool prefix_contains(const struct cg_prefix *p, const struct cg_addr *a);
/* Bit i (0 = most significant) of the address. */
static inline unsigned addr_bit(const struct cg_addr *a, unsigned i)
{
	return (a->bytes[i / 8] >> (7 - i % 8)) & 1;
}
void addr_mask(struct cg_addr *a, unsigned len);
