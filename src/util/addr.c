/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/addr.h"

int addr_family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int addr_family_bits(int family)
{
	return addr_family_len(family) * 8;
}

int addr_parse(const char *s, struct cg_addr *out)
{
	struct cg_addr a = { 0 };

	if (inet_pton(AF_INET, s, &a.v4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.v6) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*out = a;
	return 0;
}

int prefix_parse(const char *s, struct cg_prefix *out)
{
	char buf[CG_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct cg_prefix p = { 0 };

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (addr_parse(buf, &p.addr) < 0)
		return -EINVAL;
	unsigned bits = addr_family_bits(p.addr.family);
	if (slash) {
		char *end;
		errno = 0;
		unsigned long len = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len > bits)
			return -EINVAL;
		p.len = (uint8_t)len;
	} else {
		p.len = (uint8_t)bits;
	}
	addr_mask(&p.addr, p.len);
	*out = p;
	return 0;
}

const char *addr_to_string(const struct cg_addr *a, char buf[static CG_ADDRSTRLEN])
{
	if (a->family != AF_INET && a->family != AF_INET6)
		snprintf(buf, CG_ADDRSTRLEN, "(none)");
	else if (!inet_ntop(a->family, a->bytes, buf, CG_ADDRSTRLEN))
		snprintf(buf, CG_ADDRSTRLEN, "(invalid)");
	return buf;
}

const char *prefix_to_string(const struct cg_prefix *p, char buf[static CG_ADDRSTRLEN])
{
	char a[CG_ADDRSTRLEN];

	snprintf(buf, CG_ADDRSTRLEN, "%s/%u", addr_to_string(&p->addr, a), p->len);
	return buf;
}

bool addr_equal(const struct cg_addr *a, const struct cg_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, addr_family_len(a->family)) == 0;
}

bool addr_prefix_match(const struct cg_addr *a, const struct cg_addr *b, unsigned len)
{
	if (a->family != b->family)
		return false;
	unsigned full = len / 8, rest = len % 8;
	if (memcmp(a->bytes, b->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return (a->bytes[full] & m) == (b->bytes[full] & m);
}

bool prefix_contains(const struct cg_prefix *p, const struct cg_addr *a)
{
	return addr_prefix_match(&p->addr, a, p->len);
}

void addr_mask(struct cg_addr *a, unsigned len)
{
	unsigned n = addr_family_len(a->family);

	for (unsigned i = 0; i < n; i++) {
		unsigned lo = i * 8;
		if (len >= lo + 8)
			continue;
		a->bytes[i] = len <= lo ? 0 : (uint8_t)(a->bytes[i] & (0xff << (8 - (len - lo))));
	}
}
