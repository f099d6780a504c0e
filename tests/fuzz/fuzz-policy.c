/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the policy parser (configure --enable-fuzzing, clang).
 * Without libFuzzer, fuzz-main.c runs it over the corpus so `make check`
 * exercises the same entry point under the sanitizers. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cgnatcheck/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy p;
	char err[256];

	if (policy_parse(&p, "fuzz.conf", (const char *)data, size, err, sizeof(err)) < 0) {
		/* every error names the input */
		if (strncmp(err, "fuzz.conf:", 10) != 0)
			__builtin_trap();
	}
	policy_free(&p);
	return 0;
}
