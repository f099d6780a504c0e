/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/socket.h>

#include "cgnatcheck/addr.h"
#include "../lib/test.h"

int main(void)
{
	struct cg_addr a, b;
	struct cg_prefix p;
	char buf[CG_ADDRSTRLEN];

	CHECK(addr_parse("100.100.2.136", &a) == 0 && a.family == AF_INET);
	CHECK_STR(addr_to_string(&a, buf), "100.100.2.136");
	CHECK(addr_parse("fd7a:115c:a1e0::1", &b) == 0 && b.family == AF_INET6);
	CHECK_STR(addr_to_string(&b, buf), "fd7a:115c:a1e0::1");
	CHECK(addr_parse("100.100.2", &a) < 0);
	CHECK(addr_parse("", &a) < 0);
	CHECK(addr_parse("1.2.3.4 ", &a) < 0);

	CHECK(prefix_parse("100.64.0.0/10", &p) == 0 && p.len == 10);
	CHECK(addr_parse("100.100.2.136", &a) == 0);
	CHECK(prefix_contains(&p, &a));
	CHECK(addr_parse("100.128.0.1", &a) == 0);
	CHECK(!prefix_contains(&p, &a));
	CHECK(addr_parse("100.127.255.255", &a) == 0);
	CHECK(prefix_contains(&p, &a));
	/* host bits are cleared */
	CHECK(prefix_parse("100.100.2.136/16", &p) == 0);
	CHECK_STR(prefix_to_string(&p, buf), "100.100.0.0/16");
	CHECK(prefix_parse("10.0.0.1", &p) == 0 && p.len == 32);
	CHECK(prefix_parse("10.0.0.0/33", &p) < 0);
	CHECK(prefix_parse("10.0.0.0/", &p) < 0);
	CHECK(prefix_parse("10.0.0.0/8x", &p) < 0);
	CHECK(prefix_parse("/8", &p) < 0);
	CHECK(prefix_parse("2001:db8::1/32", &p) == 0 && p.len == 32);
	CHECK_STR(prefix_to_string(&p, buf), "2001:db8::/32");
	CHECK(prefix_parse("::/0", &p) == 0 && p.len == 0);
	CHECK(addr_parse("1.2.3.4", &a) == 0);
	CHECK(!prefix_contains(&p, &a)); /* family mismatch never matches */
	CHECK(prefix_parse("0.0.0.0/0", &p) == 0 && prefix_contains(&p, &a));

	CHECK(addr_parse("192.168.1.1", &a) == 0 && addr_parse("192.168.1.254", &b) == 0);
	CHECK(addr_prefix_match(&a, &b, 24));
	CHECK(!addr_prefix_match(&a, &b, 25));
	CHECK(!addr_equal(&a, &b));
	CHECK(addr_bit(&a, 0) == 1 && addr_bit(&a, 1) == 1 && addr_bit(&a, 2) == 0);
	return test_result();
}
