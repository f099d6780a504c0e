/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * probe-run: probe_target() from the command line, for tests/kernel/probe.sh.
 *
 *   probe-run ADDR PORT udp|tcp ROLE [TIMEOUT_MS]   (ROLE "-": none)
 *       prints one line, "STATUS MS DETAIL" (MS: the probe's own clock);
 *       exit 0 when answered, 1 otherwise, 2 on usage errors, 3 when the
 *       probe left a descriptor open (every path must close its sockets)
 *   probe-run --unit
 *       the argument checks and the names, without sending anything
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/probe.h"
#include "../lib/test.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: probe-run ADDR PORT udp|tcp ROLE|- [TIMEOUT_MS]\n"
		   "       probe-run --unit\n");
}

/* Everything here is decided before a socket is made: no traffic (and the
 * test runs it in an empty namespace all the same). */
static int unit(void)
{
	struct cg_addr a4, none = { .family = AF_UNSPEC };
	struct probe_result r;

	CHECK(addr_parse("192.0.2.1", &a4) == 0);

	CHECK(probe_target(&a4, IPPROTO_TCP, 80, "http", 100, NULL) == -EINVAL);
	CHECK(probe_target(NULL, IPPROTO_TCP, 80, "http", 100, &r) == -EAFNOSUPPORT);
	CHECK(r.status == PROBE_ERROR && r.detail[0] != '\0');
	CHECK(probe_target(&none, IPPROTO_TCP, 80, "http", 100, &r) == -EAFNOSUPPORT);
	CHECK(r.status == PROBE_ERROR);
	CHECK(probe_target(&a4, IPPROTO_TCP, 0, "http", 100, &r) == -EINVAL);
	CHECK(r.status == PROBE_ERROR);
	CHECK(probe_target(&a4, IPPROTO_TCP, 80, "http", 0, &r) == -EINVAL);
	CHECK(probe_target(&a4, IPPROTO_TCP, 80, "http", -5, &r) == -EINVAL);
	CHECK(r.status == PROBE_ERROR);

	/* Nothing to speak: unsupported, and said why. */
	CHECK(probe_target(&a4, IPPROTO_ICMP, 80, NULL, 100, &r) == 0);
	CHECK(r.status == PROBE_UNSUPPORTED);
	CHECK(probe_target(&a4, IPPROTO_UDP, 5000, NULL, 100, &r) == 0);
	CHECK(r.status == PROBE_UNSUPPORTED && strstr(r.detail, "UDP port 5000"));
	CHECK(probe_target(&a4, IPPROTO_UDP, 5000, "health-check", 100, &r) == 0);
	CHECK(r.status == PROBE_UNSUPPORTED && strstr(r.detail, "health-check"));
	CHECK(probe_target(&a4, IPPROTO_UDP, 80, "metadata", 100, &r) == 0);
	CHECK(r.status == PROBE_UNSUPPORTED && strstr(r.detail, "HTTP"));
	CHECK(probe_target(&a4, IPPROTO_TCP, 123, "ntp", 100, &r) == 0);
	CHECK(r.status == PROBE_UNSUPPORTED && strstr(r.detail, "NTP"));
	/* SSH: by its role or by port 22, over TCP only */
	CHECK(probe_target(&a4, IPPROTO_UDP, 2222, "ssh", 100, &r) == 0);
	CHECK(r.status == PROBE_UNSUPPORTED && strstr(r.detail, "SSH is spoken over TCP"));
	CHECK(probe_target(&a4, IPPROTO_UDP, 22, "overlay-service", 100, &r) == 0);
	CHECK(r.status == PROBE_UNSUPPORTED && strstr(r.detail, "SSH is spoken over TCP"));
	CHECK(probe_target(&a4, IPPROTO_UDP, 5000, "overlay-service", 100, &r) == 0);
	CHECK(r.status == PROBE_UNSUPPORTED && strstr(r.detail, "overlay-service"));
	CHECK(r.ms >= 0 && r.ms < 50);
	{
		struct cg_addr ll;

		CHECK(addr_parse("fe80::1", &ll) == 0);
		CHECK(probe_target(&ll, IPPROTO_TCP, 80, "metadata", 100, &r) == 0);
		CHECK(r.status == PROBE_UNSUPPORTED && strstr(r.detail, "link-local"));
	}

	CHECK_NAMES(probe_status_to_string, { PROBE_ANSWERED, "answered" },
		    { PROBE_CONNECTED_SILENT, "connected-silent" }, { PROBE_TIMEOUT, "timeout" },
		    { PROBE_REFUSED, "refused" }, { PROBE_UNREACHABLE, "unreachable" },
		    { PROBE_BAD_ANSWER, "bad-answer" }, { PROBE_UNSUPPORTED, "unsupported" },
		    { PROBE_ERROR, "error" }, { 99, "invalid" }, { -1, "invalid" });

	r.status = PROBE_ANSWERED;
	CHECK(probe_reached(&r));
	r.status = PROBE_CONNECTED_SILENT;
	CHECK(!probe_reached(&r));
	CHECK(!probe_reached(NULL));
	return test_result();
}

/* Open descriptors, -1 if /proc is not there. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct cg_addr addr;
	struct probe_result r;
	long port, timeout = 1000;
	uint8_t proto;
	const char *role;
	int rc, fds;

	if (argc == 2 && strcmp(argv[1], "--unit") == 0)
		return unit();
	if (argc < 5 || argc > 6 || addr_parse(argv[1], &addr) < 0 ||
	    parse_int(argv[2], 1, 65535, &port) < 0 ||
	    (argc == 6 && parse_int(argv[5], 1, 600000, &timeout) < 0)) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[3], "udp") == 0)
		proto = IPPROTO_UDP;
	else if (strcmp(argv[3], "tcp") == 0)
		proto = IPPROTO_TCP;
	else {
		usage(stderr);
		return 2;
	}
	role = strcmp(argv[4], "-") == 0 ? NULL : argv[4];

	fds = count_fds();
	rc = probe_target(&addr, proto, (uint16_t)port, role, (int)timeout, &r);
	printf("%s %.1f %s\n", probe_status_to_string(r.status), r.ms, r.detail);
	if (rc < 0)
		fprintf(stderr, "probe-run: the probe could not be made: %s\n", strerror(-rc));
	if (count_fds() != fds) {
		fprintf(stderr, "probe-run: %d descriptors open before the probe, %d after\n", fds,
			count_fds());
		return 3;
	}
	return probe_reached(&r) ? 0 : 1;
}
