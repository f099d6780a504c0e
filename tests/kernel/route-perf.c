/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A large routing state: ROUTES routes in three tables (installed with
 * `ip -batch` in the test namespace, not timed), then RUNS timed passes of
 * dump + index + LOOKUPS lookups. Every installed route must be collected
 * (exit 1 otherwise). With a BUDGET_MS above 0 the best pass must also fit
 * in it (exit 1 otherwise): tests/bench/collect-speed.sh judges the speed,
 * tests/kernel/route-perf.sh (make check) only what is collected.
 *
 *   route-perf [ROUTES [LOOKUPS [BUDGET_MS [RUNS]]]]
 *
 * Run it inside a network namespace of its own (it refuses to run in the
 * machine's). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route.h"
#include "../lib/test.h"

static uint64_t rng = 0x5eed;

static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static double now_ms(void)
{
	return test_now() * 1e3;
}

static int install(long n)
{
	static const int tables[] = { 254, 52, 100 };
	FILE *p = popen("ip -force -batch - >/dev/null 2>&1", "w");

	if (!p)
		return -1;
	fprintf(p, "link add eth0 type veth peer name eth0p\nlink set eth0 up\nlink set eth0p up\n"
		   "addr add 10.0.0.1/8 dev eth0\nroute add default via 10.0.0.254 table 52\n"
		   "rule add pref 5270 table 52\nrule add pref 100 from 192.168.0.0/16 table 100\n");
	/* Distinct prefixes, so that every line adds a route. */
	size_t cap = 1;
	while (cap < (size_t)n * 2)
		cap <<= 1;
	uint64_t *seen = xcalloc(cap, sizeof(uint64_t));
	for (long i = 0; i < n;) {
		unsigned len = 16 + rnd32() % 17;
		uint32_t a = rnd32() & (len == 32 ? ~0u : ~0u << (32 - len));
		uint64_t key = ((uint64_t)a << 8 | len) + 1;
		size_t h = (size_t)(key * 0x9e3779b97f4a7c15ULL) & (cap - 1);
		while (seen[h] && seen[h] != key)
			h = (h + 1) & (cap - 1);
		if (seen[h])
			continue;
		seen[h] = key;
		fprintf(p, "route add %u.%u.%u.%u/%u via 10.0.0.%u table %d\n", a >> 24, (a >> 16) & 255,
			(a >> 8) & 255, a & 255, len, 2 + rnd32() % 250, tables[i % 3]);
		i++;
	}
	free(seen);
	return pclose(p) < 0 ? -1 : 0;
}

int main(int argc, char *argv[])
{
	long routes = argc > 1 ? atol(argv[1]) : 100000;
	long lookups = argc > 2 ? atol(argv[2]) : 1000;
	double budget = argc > 3 ? atof(argv[3]) : 0.0;
	long runs = argc > 4 ? atol(argv[4]) : 1;
	double best = -1;

	if (!test_in_own_netns()) {
		fprintf(stderr, "route-perf: refusing to run outside a test network namespace "
				"(run tests/kernel/route-perf.sh)\n");
		return 99;
	}
	if (install(routes) < 0) {
		fprintf(stderr, "route-perf: cannot run ip -batch\n");
		return 99;
	}
	for (long run = 0; run < (runs > 0 ? runs : 1); run++) {
		_cleanup_route_state_ struct route_state st;
		double t0, t1, t2;
		long routed = 0;

		route_state_init(&st);
		t0 = now_ms();
		if (route_state_collect(&st) < 0)
			return 99;
		t1 = now_ms();
		for (long i = 0; i < lookups; i++) {
			struct route_packet p = { .dst = { .family = AF_INET } };
			struct route_result r;
			p.dst.v4.s_addr = htonl(rnd32());
			if (i % 4 == 0)
				addr_parse("10.0.0.1", &p.src);
			if (route_lookup(&st, &p, &r) < 0)
				return 99;
			routed += r.error == 0;
		}
		t2 = now_ms();

		printf("route-perf: %zu routes dumped and indexed in %.1f ms; %ld lookups in %.1f ms "
		       "(%.2f us each, %ld routed); total %.1f ms\n",
		       st.n_routes, t1 - t0, lookups, t2 - t1,
		       (t2 - t1) * 1000.0 / (double)(lookups ? lookups : 1), routed, t2 - t0);
		if ((long)st.n_routes < routes) {
			fprintf(stderr, "route-perf: only %zu of %ld routes were collected\n", st.n_routes, routes);
			return 1;
		}
		if (best < 0 || t2 - t0 < best)
			best = t2 - t0;
	}
	if (budget > 0) {
		printf("route-perf: best %.1f ms (budget %.0f ms)\n", best, budget);
		return best <= budget ? 0 : 1;
	}
	return 0;
}
