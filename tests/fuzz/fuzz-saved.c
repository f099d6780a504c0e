/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the saved-audit reader (--replay's file, saved.h).
 * Without libFuzzer, fuzz-main.c runs it over the corpus and mutations of it
 * so `make check` exercises it under the sanitizers. Every section the
 * reader accepts must be whole: its bytes readable up to len, and
 * NUL-terminated for the text users. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cgnatcheck/saved.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct saved_file f;
	volatile uint8_t sink = 0;

	if (saved_parse("fuzz.cgsave", (const char *)data, size, &f) == 0) {
		for (size_t i = 0; i < f.n; i++) {
			const struct saved_section *s = &f.s[i];
			if (!s->name || !s->arg || !s->data || s->data[s->len] != '\0' || (s->absent && s->len))
				__builtin_trap();
			for (size_t k = 0; k < s->len; k++)
				sink ^= s->data[k];
		}
		if (f.n && !saved_find(&f, f.s[0].name, f.s[0].arg))
			__builtin_trap();
	}
	saved_free(&f);
	(void)sink;
	return 0;
}
