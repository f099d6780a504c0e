/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hash of the code base: FNV-1a over bytes (or a word at a time, for
 * the hottest short keys), then MurmurHash3's 64-bit finaliser (fmix64) so
 * that the low bits a table uses depend on every input bit (set keys and
 * route prefixes often differ in their last byte). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_INIT 0xcbf29ce484222325ULL

/* FNV-1a: h (HASH_FNV1A_INIT to start) continued over n bytes at p. */
static inline uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The same step over one whole value at once: for fingerprints of numbers,
 * where every byte need not be folded in on its own. */
static inline uint64_t hash_fnv1a_u64(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ULL;
}

/* h continued over n bytes at p a word at a time (the tail zero-padded),
 * each word a multiply and a shift: for short keys hashed for every rule
 * or chain, where FNV-1a's byte steps show. Finalise with hash_mix64(). */
static inline uint64_t hash_words(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t w;

	for (; n >= 8; n -= 8, b += 8) {
		__builtin_memcpy(&w, b, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (n) {
		w = 0;
		__builtin_memcpy(&w, b, n);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
	}
	return h;
}

static inline uint64_t hash_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* FNV-1a over len bytes of key, finalised with hash_mix64(). */
uint64_t hash_bytes(const void *key, uint32_t len);
