/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one hash of the code base: FNV-1a over bytes, then MurmurHash3's
 * 64-bit finaliser (fmix64) so that the low bits a table uses depend on every
 * input bit (set keys and route prefixes often differ in their last byte). */
#pragma once

#include <stdint.h>

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
