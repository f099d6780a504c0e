/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/hashmap.h"

struct cg_hashmap_slot {
	const void *key;            /* NULL: empty */
	void *value;
	uint32_t hash;              /* low bits of the hash, to skip most memcmp()s */
	uint32_t len;
};

uint64_t hash_bytes(const void *key, uint32_t len)
{
	return hash_mix64(hash_fnv1a(HASH_FNV1A_INIT, key, len));
}

void hashmap_init(struct cg_hashmap *m, struct arena *a, uint32_t expected)
{
	uint64_t cap = 8;

	while (cap < 2 * (uint64_t)expected)
		cap *= 2;
	if (cap > UINT32_MAX) {
		fputs("cgnatcheck: hash map too large\n", stderr);
		abort();
	}
	m->mask = (uint32_t)(cap - 1);
	m->n = 0;
	m->slots = arena_alloc(a, cap * sizeof(*m->slots));
}

static struct cg_hashmap_slot *slot_find(const struct cg_hashmap *m, const void *key,
					 uint32_t len, uint64_t h)
{
	uint32_t i = (uint32_t)h & m->mask;

	/* Linear probing; the map is at most half full, so this ends. */
	for (;;) {
		struct cg_hashmap_slot *s = &m->slots[i];

		if (!s->key)
			return s;
		if (s->hash == (uint32_t)h && s->len == len && memcmp(s->key, key, len) == 0)
			return s;
		i = (i + 1) & m->mask;
	}
}

void *hashmap_put(struct cg_hashmap *m, const void *key, uint32_t len, void *value)
{
	uint64_t h = hash_bytes(key, len);
	struct cg_hashmap_slot *s;

	/* An empty key still needs a non-NULL pointer: it marks the slot used. */
	if (!key)
		key = "";
	if (!m->slots || (uint64_t)(m->n + 1) * 2 > (uint64_t)m->mask + 1) {
		fputs("cgnatcheck: hash map overfilled (internal error)\n", stderr);
		abort();
	}
	s = slot_find(m, key, len, h);
	if (s->key)
		return s->value;
	s->key = key;
	s->len = len;
	s->hash = (uint32_t)h;
	s->value = value;
	m->n++;
	return NULL;
}

void *hashmap_get(const struct cg_hashmap *m, const void *key, uint32_t len)
{
	if (!m->slots)
		return NULL;
	struct cg_hashmap_slot *s = slot_find(m, key ? key : "", len, hash_bytes(key, len));
	return s->key ? s->value : NULL;
}
