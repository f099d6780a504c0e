/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "cgnatcheck/arena.h"
#include "cgnatcheck/common.h"

#define ARENA_BLOCK_SIZE (256 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	_Alignas(max_align_t) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_block *b = a->head;

	size = (size + 7) & ~(size_t)7;
	if (!b || b->size - b->used < size) {
		/* Large requests get a block of their own, so a big set key
		 * does not waste the rest of a shared block. */
		size_t cap = size > ARENA_BLOCK_SIZE / 4 ? size : ARENA_BLOCK_SIZE;
		/* zeroed by calloc(): blocks this large come fresh from
		 * mmap(), already zero, so nothing is written twice */
		struct arena_block *nb = xcalloc(1, sizeof(*nb) + cap);
		nb->size = cap;
		nb->used = 0;
		if (b && cap != ARENA_BLOCK_SIZE) {
			/* keep filling the current block */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	void *p = b->data + b->used;
	b->used += size;
	a->used += size;
	return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t size)
{
	void *q = arena_alloc(a, size);
	if (size)
		memcpy(q, p, size);
	return q;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *q = arena_alloc(a, n + 1);
	memcpy(q, s, n);
	q[n] = '\0';
	return q;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;

	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used = 0;
}

void arena_reset(struct arena *a)
{
	struct arena_block *keep = a->head, *b;

	if (!keep)
		return;
	b = keep->next;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	keep->next = NULL;
	memset(keep->data, 0, keep->used); /* arena_alloc() promises zeroes */
	keep->used = 0;
	a->used = 0;
}
