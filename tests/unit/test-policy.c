/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/policy.h"
#include "../lib/test.h"

static char err[512];

static int parse(struct policy *p, const char *text)
{
	return policy_parse(p, "test.conf", text, strlen(text), err, sizeof(err));
}

/* The input must fail, and the message must name file:line and contain `what`. */
static void expect_error(const char *text, unsigned line, const char *what)
{
	struct policy p;
	char where[64];

	CHECK(parse(&p, text) < 0);
	snprintf(where, sizeof(where), "test.conf:%u: ", line);
	if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, what)) {
		fprintf(stderr, "expected '%s...%s', got '%s'\n", where, what, err);
		CHECK(!"error message");
	}
	policy_free(&p);
}

static void test_shipped(const char *dir)
{
	struct policy p;
	char path[4096];
	char buf[CG_ADDRSTRLEN];

	snprintf(path, sizeof(path), "%s/policies/alibaba.conf", dir);
	CHECK(policy_load_file(&p, path, err, sizeof(err)) == 0);
	if (err[0])
		fprintf(stderr, "%s\n", err);
	CHECK_STR(p.name, "alibaba");
	CHECK(p.is_provider);
	CHECK(policy_matches_dmi(&p, POLICY_DMI_PRODUCT_NAME, "Alibaba Cloud ECS\n"));
	CHECK(!policy_matches_dmi(&p, POLICY_DMI_PRODUCT_NAME, "Alibaba Cloud"));
	CHECK(p.n_services == 5);
	CHECK_STR(p.services[0].role, "dns");
	CHECK(p.services[0].n_addrs == 2);
	CHECK_STR(prefix_to_string(&p.services[0].addrs[0], buf), "100.100.2.136/32");
	CHECK(p.services[0].protos == (CG_PROTO_UDP | CG_PROTO_TCP) && p.services[0].port == 53);
	CHECK(p.services[1].port == 80 && p.services[1].protos == CG_PROTO_TCP);
	CHECK(p.services[4].listener && p.services[4].direction == POLICY_INBOUND);
	policy_free(&p);

	static const char *const all[] = { "alibaba", "huawei", "tencent", "tailscale", "netbird",
					   "cloudflare-warp" };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		snprintf(path, sizeof(path), "%s/policies/%s.conf", dir, all[i]);
		int r = policy_load_file(&p, path, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "%s\n", err);
		CHECK(r == 0);
		CHECK_STR(p.name, all[i]);
		policy_free(&p);
	}

	snprintf(path, sizeof(path), "%s/policies/tailscale.conf", dir);
	CHECK(policy_load_file(&p, path, err, sizeof(err)) == 0);
	CHECK(!p.is_provider && p.n_overlays == 1);
	CHECK_STR(p.overlays[0].interface, "tailscale0");
	CHECK(p.overlays[0].n_ranges == 2 && p.overlays[0].route_table == 52);
	CHECK(p.overlays[0].fwmark_mask == 0xff0000 && p.overlays[0].bypass_mark == 0x80000);
	CHECK(p.overlays[0].n_chains == 3);
	policy_free(&p);

	CHECK(policy_load_file(&p, "/nonexistent/x.conf", err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "/nonexistent/x.conf") != NULL);
	policy_free(&p);
}

int main(void)
{
	const char *top = getenv("top_srcdir");
	struct policy p;

	test_shipped(top ? top : ".");

	CHECK(parse(&p, "# c\n[Provider]\nMatchSysVendor=X Y\n\n[Service]\nName=a\n"
			"Address=100.64.0.1 100.64.1.0/24\nAddress=100.64.2.0/24\nProtocol=tcp\n"
			"Port=8080\nDirection=inbound\n") == 0);
	CHECK_STR(p.name, "test");
	CHECK(p.n_services == 1 && p.services[0].n_addrs == 3 && p.services[0].port == 8080);
	CHECK(policy_matches_dmi(&p, POLICY_DMI_SYS_VENDOR, "X Y"));
	policy_free(&p);

	static const struct {
		const char *text;
		unsigned line;
		const char *what;
	} bad[] = {
		{ "Name=x\n", 1, "outside of a section" },
		{ "[Provider]\n[Bogus]\n", 2, "unknown section [Bogus]" },
		{ "[Provider]\nName=a\nName=b\n", 3, "given twice" },
		{ "[Provider]\nColour=red\n", 2, "unknown key 'Colour'" },
		{ "[Provider]\n[Service]\nName=x\nAddress=100.64.0.300\n", 4, "'100.64.0.300'" },
		{ "[Provider]\n[Service]\nName=x\nAddress=1.2.3.4\nProtocol=sctp\n", 5, "sctp" },
		{ "[Provider]\n[Service]\nName=x\nAddress=1.2.3.4\nProtocol=udp\nPort=0\n", 6, "not a port" },
		{ "[Provider]\n[Service]\nName=x\nAddress=1.2.3.4\nProtocol=udp\nPort=65536\n", 6, "not a port" },
		{ "[Provider]\n[Service]\nName=x\nAddress=1.2.3.4\nProtocol=udp\n", 2, "without Port=" },
		{ "[Provider]\n[Service]\nName=x\nProtocol=udp\nPort=1\n[Service]\n", 2, "without Address=" },
		{ "[Provider]\n[Service]\nName=x\nAddress=1.2.3.4\nProtocol=tcp\nPort=listener\n", 2, "Direction=inbound" },
		{ "[Provider]\n[Service]\nName=x\nAddress=1.2.3.4\nProtocol=tcp\nPort=1\nDirection=up\n", 7, "Direction" },
		{ "[Provider\n", 1, "malformed section header" },
		{ "[Provider]\njust words\n", 2, "expected Key=Value" },
		{ "[Provider]\n=x\n", 2, "missing key" },
		{ "[Provider]\n[Provider]\n", 2, "more than one" },
		{ "[Overlay]\nName=x\n", 1, "[Overlay] needs" },
		{ "[Overlay]\nName=x\nInterface=wt0\nRange=100.64.0.0/10\nRouteTable=-1\n", 5, "not a number" },
		{ "# nothing\n", 1, "no [Provider] or [Overlay]" },
		{ "[Provider]\nName=\n", 2, "empty value" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i].text, bad[i].line, bad[i].what);
	{
		static const char nul[] = "[Provider]\nName=a\0b\n";
		CHECK(policy_parse(&p, "test.conf", nul, sizeof(nul) - 1, err, sizeof(err)) < 0);
		CHECK(strstr(err, "test.conf:2: NUL") != NULL);
		policy_free(&p);
	}
	return test_result();
}
