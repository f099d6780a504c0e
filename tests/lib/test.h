/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Minimal assertions for the C unit tests: every failed check prints where
 * and what, and the test exits 1 at the end (automake test protocol). */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

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

static inline int test_result(void)
{
	fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures);
	return test_failures ? 1 : (test_checks ? 0 : 99);
}
