/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared decoded values (xt_decode_interned(), xt.h).
 *
 * A kube-proxy table says the same things over and over, close together:
 * a service's rules carry its comment blob (256 bytes), its endpoint
 * chains the same few statistic matches. Identical blobs decode to
 * identical values, so a bounded cache of the blobs decoded last gives
 * repeats the value already made. Bounded: most blobs of a large table
 * are distinct (an endpoint's comment and DNAT range), and remembering
 * every one would cost more than it saves. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/xt.h"

/* a power of two. Small enough to stay in the core's own cache (64 KiB of
 * slots): its lookup is made for every blob of the table, and at 4096 slots
 * most of them waited for memory. Bigger tables hardly hit more often
 * (kube-proxy's 300k rules: 45% of the blobs found at 1024 slots, 48% at
 * 4096): the blobs that repeat do so close together. */
#define XT_INTERN_SLOTS 1024

struct intern_entry {
	uint64_t hash;
	const struct xt_decoded *d;     /* NULL: an empty slot */
	const char *name;               /* the decoder's copy */
	uint8_t target, revision, nfproto;
	uint32_t len;
	uint32_t keep;                  /* the blob's bytes up to its last non-zero one */
	void *info;                     /* a copy of those (owned): a comment blob is 256
					 * bytes, mostly the zeros after the text */
	uint32_t cap;
};

/* A word at a time from the end: a comment blob is 256 bytes, mostly the
 * zeros after its text, and this runs for every blob of the table. */
static uint32_t nonzero_len(const uint8_t *p, uint32_t len)
{
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, p + len - 8, 8);
		if (w)
			break;
		len -= 8;
	}
	while (len && !p[len - 1])
		len--;
	return len;
}

/* The slot's hash: the blob's first (up to) 64 bytes a word at a time and
 * the name's bytes (a handful), each step a multiply and a shift. Only the
 * slot and a quick refusal depend on it: the comparisons decide. */
static uint64_t intern_hash(const char *name, const uint8_t *p, uint32_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return hash_mix64(hash_words(h, p, len < 64 ? len : 64));
}

struct xt_intern {
	struct intern_entry slots[XT_INTERN_SLOTS];
};

struct xt_intern *xt_intern_new(void)
{
	return xcalloc(1, sizeof(struct xt_intern));
}

void xt_intern_free(struct xt_intern *xi)
{
	if (!xi)
		return;
	for (size_t i = 0; i < XT_INTERN_SLOTS; i++)
		free(xi->slots[i].info);
	free(xi);
}

const struct xt_decoded *xt_decode_interned(struct xt_intern *xi, struct arena *a, bool target,
					    const char *name, uint8_t revision, uint8_t nfproto,
					    const void *info, uint32_t len)
{
	const struct xt_decoded *d;
	struct intern_entry *s;
	uint32_t keep;
	uint64_t h;

	if (!xi || !name || (len && !info))
		return xt_decode_owned(a, target, name, revision, nfproto, info, len);
	/* the first bytes tell blobs apart (a comment's text, a range's
	 * addresses); a collision only costs a cache miss: memcmp decides */
	h = intern_hash(name, info, len) ^
	    ((uint64_t)target << 8 | (uint64_t)revision << 16 | (uint64_t)nfproto << 24);
	s = &xi->slots[h & (XT_INTERN_SLOTS - 1)];
	keep = len ? nonzero_len(info, len) : 0;
	/* the name is mostly the decoder's own string (legacy-compile.c
	 * looks it up first): then it is the very pointer */
	if (s->d && s->hash == h && s->target == target && s->revision == revision && s->nfproto == nfproto &&
	    s->len == len && s->keep == keep && (s->name == name || strcmp(s->name, name) == 0) &&
	    (!keep || memcmp(s->info, info, keep) == 0))
		return s->d;
	d = xt_decode_owned(a, target, name, revision, nfproto, info, len);
	if (!d)
		return NULL;    /* not remembered: the caller keeps the blob */
	if (keep > s->cap) {
		free(s->info);
		s->info = xmalloc(keep);
		s->cap = keep;
	}
	if (keep)
		memcpy(s->info, info, keep);
	s->keep = keep;
	s->hash = h;
	s->d = d;
	s->name = d->name;
	s->target = target;
	s->revision = revision;
	s->nfproto = nfproto;
	s->len = len;
	return d;
}
