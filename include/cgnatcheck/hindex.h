/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A growable hash index over the items of an array, by position: a slot
 * keeps an item's position and hash, the items stay where they are (an
 * array that is reallocated as it grows keeps its index valid), and the
 * caller says what makes two items the same. For the audit's per-target
 * passes (groups of targets, a finding's addresses, shared outcomes), each
 * of which was a scan of everything before. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cgnatcheck/common.h"

struct hindex_slot {
	uint32_t item;                /* position + 1, or 0: empty */
	uint32_t hash;
};

struct hindex {
	struct hindex_slot *slots;
	size_t mask;                  /* number of slots - 1 (a power of two), when slots */
	size_t n;
};

#define HINDEX_NONE SIZE_MAX

/* Whether the item at position `item` is the one the caller looks for. */
typedef bool (*hindex_eq_fn)(const void *ctx, size_t item);

/* The position of an item with hash h that eq() accepts, or HINDEX_NONE. */
static inline size_t hindex_find(const struct hindex *x, uint32_t h, hindex_eq_fn eq, const void *ctx)
{
	if (!x->slots)
		return HINDEX_NONE;
	/* linear probing; the table is at most half full, so this ends */
	for (size_t i = h & x->mask;; i = (i + 1) & x->mask) {
		const struct hindex_slot *s = &x->slots[i];
		if (!s->item)
			return HINDEX_NONE;
		if (s->hash == h && eq(ctx, s->item - 1))
			return s->item - 1;
	}
}

/* Indexes the item at position `item` under hash h (the caller found no
 * equal one); doubles the table when it would be more than half full. */
static inline void hindex_add(struct hindex *x, uint32_t h, size_t item)
{
	if (item >= UINT32_MAX - 1) {
		fputs("cgnatcheck: too many items to index\n", stderr);
		abort();
	}
	if (!x->slots || 2 * (x->n + 1) > x->mask + 1) {
		struct hindex_slot *old = x->slots;
		size_t n_old = old ? x->mask + 1 : 0;

		x->mask = old ? 2 * x->mask + 1 : 63;
		x->slots = xcalloc(x->mask + 1, sizeof(*x->slots));
		for (size_t i = 0; i < n_old; i++) {
			if (!old[i].item)
				continue;
			size_t j = old[i].hash & x->mask;
			while (x->slots[j].item)
				j = (j + 1) & x->mask;
			x->slots[j] = old[i];
		}
		free(old);
	}
	size_t j = h & x->mask;
	while (x->slots[j].item)
		j = (j + 1) & x->mask;
	x->slots[j] = (struct hindex_slot){ (uint32_t)item + 1, h };
	x->n++;
}

static inline void hindex_free(struct hindex *x)
{
	free(x->slots);
	*x = (struct hindex){ 0 };
}
