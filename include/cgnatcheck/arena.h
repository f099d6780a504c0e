/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A bump allocator: a ruleset of 300k rules is millions of small objects
 * (expressions, strings, set keys) that live exactly as long as the ruleset,
 * so they come from large blocks freed all at once. */
#pragma once

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	size_t used;   /* bytes handed out, for memory accounting */
};

void *arena_alloc(struct arena *a, size_t size);  /* zeroed, 8-byte aligned */
void *arena_memdup(struct arena *a, const void *p, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_free(struct arena *a);
/* Forgets everything handed out but keeps one block for what comes next:
 * a scratch arena reused per item costs no allocation. */
void arena_reset(struct arena *a);
