/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A fixed-capacity hash map from byte strings to pointers, allocated in an
 * arena. The model knows its sizes before it indexes (chains of a table,
 * elements of a set), so the map never grows and never needs freeing: it
 * lives and dies with the ruleset. Keys are not copied. */
#pragma once

#include <stdint.h>

#include "cgnatcheck/arena.h"
#include "cgnatcheck/hash.h"

struct cg_hashmap_slot;

struct cg_hashmap {
	uint32_t mask;              /* capacity - 1 (a power of two) */
	uint32_t n;
	struct cg_hashmap_slot *slots;
};

/* Room for `expected` entries at a load factor of at most 1/2. */
void hashmap_init(struct cg_hashmap *m, struct arena *a, uint32_t expected);
/* Inserts key -> value unless the key is present; returns the value already
 * stored (the map is unchanged) or NULL when inserted. Aborts when full: the
 * caller promised `expected`. */
void *hashmap_put(struct cg_hashmap *m, const void *key, uint32_t len, void *value);
void *hashmap_get(const struct cg_hashmap *m, const void *key, uint32_t len);
