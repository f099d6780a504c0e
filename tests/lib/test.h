/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Minimal assertions for the C unit tests: every failed check prints where
 * and what, and the test exits 1 at the end (automake test protocol). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* (unused in a program that only takes the helpers below) */
static int test_failures __attribute__((unused));
static int test_checks __attribute__((unused));

#define CHECK(cond)                                                                    \
	do {                                                                           \
		test_checks++;                                                         \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			test_failures++;                                               \
		}                                                                      \
	} while (0)

#define CHECK_STR(a, b)                                                                \
	do {                                                                           \
		const char *_a = (a), *_b = (b);                                       \
		test_checks++;                                                         \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                               \
			fprintf(stderr, "%s:%d: '%s' != '%s'\n", __FILE__, __LINE__,   \
				_a ? _a : "(null)", _b ? _b : "(null)");               \
			test_failures++;                                               \
		}                                                                      \
	} while (0)

/* A value and the name a *_to_string() function gives it. */
struct test_name {
	int value;
	const char *name;
};

/* CHECK_NAMES(fn, { VALUE, "name" }, ...): one CHECK_STR(fn(VALUE), "name")
 * a pair, in order. */
#define CHECK_NAMES(fn, ...)                                                           \
	do {                                                                           \
		static const struct test_name _names[] = { __VA_ARGS__ };              \
		for (size_t _i = 0; _i < sizeof(_names) / sizeof(_names[0]); _i++)    \
			CHECK_STR(fn(_names[_i].value), _names[_i].name);              \
	} while (0)

/* The monotonic clock in seconds, for the timings the tests print. */
static inline double test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A kernel test program changes the routes and rules of the namespace it
 * runs in: it must be one of its own. The script tells it the machine's own
 * namespace (CG_TEST_HOST_NETNS, its inode); a program that is not told, or
 * finds itself there or in init's, refuses to run.
 */
static inline bool test_in_own_netns(void)
{
	const char *host = getenv("CG_TEST_HOST_NETNS");
	struct stat self, init;

	if (!host || !*host || stat("/proc/self/ns/net", &self) < 0)
		return false;
	if ((uint64_t)self.st_ino == strtoull(host, NULL, 10))
		return false;
	if (stat("/proc/1/ns/net", &init) == 0 && init.st_ino == self.st_ino)
		return false;
	return true;
}

/* A seeded generator for randomised tests (SplitMix64): the same seed gives
 * the same cases on every machine, so a failure can be replayed. */
static uint64_t test_rng_state;

static inline uint64_t test_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* [0, n) */
static inline uint32_t test_rnd(uint32_t n)
{
	return n ? (uint32_t)(test_splitmix(&test_rng_state) % n) : 0;
}

static inline bool test_chance(unsigned percent)
{
	return test_rnd(100) < percent;
}

static inline int test_result(void)
{
	fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures);
	return test_failures ? 1 : (test_checks ? 0 : 99);
}
