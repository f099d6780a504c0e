/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Set and map lookups as the kernel performs them.
 *
 * nf_tables compares set keys as byte strings (memcmp), and everything that
 * loads a register for a range lookup stores it big-endian, so byte order is
 * numeric order here too.
 *
 * Three kinds of index:
 *  - exact sets (hash, bitmap backends): a hash of the key bytes;
 *  - single-field interval sets (rbtree backend): the kernel keeps a start
 *    element for every range and an end element (NFT_SET_ELEM_INTERVAL_END)
 *    holding the first key after it; a key matches the range of the greatest
 *    element <= key if that element is a start. We turn this into sorted,
 *    disjoint, inclusive [lo, hi] ranges and binary-search them;
 *  - concatenated ranges (pipapo backend): each element carries key and
 *    key_end and matches when *every field* lies within its own [start, end],
 *    which is not a lexicographic range ("10.0.0.0/8 . 80-90" must not match
 *    10.0.0.1 . 22). Ranges are sorted by their first field; a lookup
 *    binary-searches the first field and walks back while a running maximum
 *    of first-field ends says an earlier range could still contain the key.
 * Any miss falls back to the catch-all element, as the kernel does.
 *
 * Lazy sets (CG_SET_LAZY, too large to dump) have no index: each lookup asks
 * their source, which asks the kernel (and may fail to: then the lookup's
 * outcome is unknown, never a miss). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hashmap.h"
#include "cgnatcheck/ruleset.h"

struct set_index {
	struct cg_hashmap exact;            /* exact sets: key -> element */
	const struct cg_set_elem *catchall;
	uint32_t key_len;
	bool ranges;                        /* s->intervals holds the ranges */
	/* concatenated ranges only: */
	uint8_t n_fields;
	uint8_t field_off[16], field_len[16];
	const uint8_t **max_hi;             /* max first-field hi of intervals[0..i] */
};

static void field_layout(struct set_index *ix, const struct cg_set *s)
{
	uint32_t off = 0;

	ix->n_fields = s->n_fields > 16 ? 16 : s->n_fields;
	for (uint8_t i = 0; i < ix->n_fields; i++) {
		ix->field_off[i] = (uint8_t)off;
		ix->field_len[i] = s->field_len[i];
		off += (s->field_len[i] + 3u) & ~3u;
	}
	/* A layout that does not fit the key is not one we can trust. */
	if (ix->n_fields < 2 || off > ix->key_len)
		ix->n_fields = 0;
}

/* --- start/end markers -> ranges ----------------------------------------- */

struct marker {
	const struct cg_set_elem *elem;
};

static int marker_cmp(const void *a, const void *b, void *arg)
{
	const struct cg_set_elem *x = ((const struct marker *)a)->elem;
	const struct cg_set_elem *y = ((const struct marker *)b)->elem;
	int d = memcmp(x->key.bytes, y->key.bytes, *(const uint32_t *)arg);

	if (d)
		return d;
	/* An end and a start on the same key: the range ending there is over
	 * before the next begins, so the end sorts first and the start wins
	 * the "greatest element <= key" search, as in the kernel. */
	return (int)y->interval_end - (int)x->interval_end;
}

static bool markers_sorted(const struct marker *m, size_t n, uint32_t key_len, int dir)
{
	for (size_t i = 1; i < n; i++) {
		int d = marker_cmp(&m[i - 1], &m[i], &key_len);
		if (dir > 0 ? d > 0 : d < 0)
			return false;
	}
	return true;
}

/* The kernel dumps its rbtree in descending key order: check the cheap
 * cases before paying for a sort of millions of elements. */
static void markers_sort(struct marker *m, size_t n, uint32_t key_len)
{
	if (markers_sorted(m, n, key_len, +1))
		return;
	if (markers_sorted(m, n, key_len, -1)) {
		for (size_t i = 0, j = n - 1; i < j; i++, j--) {
			struct marker t = m[i];
			m[i] = m[j];
			m[j] = t;
		}
		return;
	}
	qsort_r(m, n, sizeof(*m), marker_cmp, &key_len);
}

/* hi = key - 1 (big-endian); the caller guarantees key > some lo >= 0. */
static uint8_t *key_before(struct arena *a, const uint8_t *key, uint32_t len)
{
	uint8_t *hi = arena_memdup(a, key, len);

	for (uint32_t i = len; i-- > 0;) {
		if (hi[i]--)
			break;
	}
	return hi;
}

static int ranges_from_markers(struct cg_set *s, struct set_index *ix, struct arena *a)
{
	_cleanup_free_ struct marker *m = xcalloc(s->n_elems, sizeof(*m));
	size_t n = 0, n_ranges = 0;
	uint8_t *top = arena_alloc(a, ix->key_len);
	int r = 0;

	memset(top, 0xff, ix->key_len);
	for (uint32_t i = 0; i < s->n_elems; i++) {
		const struct cg_set_elem *e = &s->elems[i];

		if (e->catchall)
			continue;
		if (e->key.len != ix->key_len) {
			r = -EINVAL;
			continue;
		}
		m[n++].elem = e;
	}
	markers_sort(m, n, ix->key_len);

	s->intervals = arena_alloc(a, (n ? n : 1) * sizeof(*s->intervals));
	for (size_t i = 0; i < n; i++) {
		const struct cg_set_elem *e = m[i].elem;
		struct cg_interval *iv;

		if (e->interval_end)
			continue;
		/* A duplicate start adds nothing. */
		if (i + 1 < n && !m[i + 1].elem->interval_end &&
		    memcmp(m[i + 1].elem->key.bytes, e->key.bytes, ix->key_len) == 0)
			continue;
		iv = &s->intervals[n_ranges++];
		iv->lo = e->key.bytes;
		iv->elem = e;
		/* No end marker after the last start: the range runs to the top
		 * of the key space (nft omits the end of e.g. 255.255.255.0/24). */
		iv->hi = i + 1 < n ? key_before(a, m[i + 1].elem->key.bytes, ix->key_len) : top;
	}
	s->n_intervals = (uint32_t)n_ranges;
	return r;
}

/* --- key/key_end ranges (concatenations) --------------------------------- */

static int interval_cmp(const void *a, const void *b, void *arg)
{
	const struct cg_interval *x = a, *y = b;

	return memcmp(x->lo, y->lo, *(const uint32_t *)arg);
}

static int field_cmp(const struct set_index *ix, uint8_t f, const uint8_t *a, const uint8_t *b)
{
	return memcmp(a + ix->field_off[f], b + ix->field_off[f], ix->field_len[f]);
}

static int ranges_from_key_end(struct cg_set *s, struct set_index *ix, struct arena *a)
{
	size_t n = 0;
	int r = 0;

	s->intervals = arena_alloc(a, (s->n_elems ? s->n_elems : 1) * sizeof(*s->intervals));
	for (uint32_t i = 0; i < s->n_elems; i++) {
		const struct cg_set_elem *e = &s->elems[i];
		struct cg_interval *iv;

		if (e->catchall || e->interval_end)
			continue;
		if (e->key.len != ix->key_len || (e->key_end.len && e->key_end.len != ix->key_len)) {
			r = -EINVAL;
			continue;
		}
		iv = &s->intervals[n++];
		iv->lo = e->key.bytes;
		iv->hi = e->key_end.len ? e->key_end.bytes : e->key.bytes;
		iv->elem = e;
	}
	qsort_r(s->intervals, n, sizeof(*s->intervals), interval_cmp, &ix->key_len);
	s->n_intervals = (uint32_t)n;

	if (ix->n_fields) {
		ix->max_hi = arena_alloc(a, (n ? n : 1) * sizeof(*ix->max_hi));
		for (size_t i = 0; i < n; i++) {
			const uint8_t *hi = s->intervals[i].hi;

			if (i && field_cmp(ix, 0, ix->max_hi[i - 1], hi) > 0)
				hi = ix->max_hi[i - 1];
			ix->max_hi[i] = hi;
		}
	}
	return r;
}

/* --- exact sets ----------------------------------------------------------- */

static int exact_build(struct cg_set *s, struct set_index *ix, struct arena *a)
{
	hashmap_init(&ix->exact, a, s->n_elems);
	for (uint32_t i = 0; i < s->n_elems; i++) {
		struct cg_set_elem *e = &s->elems[i];

		if (e->catchall || e->interval_end)
			continue;
		hashmap_put(&ix->exact, e->key.bytes, e->key.len, e);
	}
	return 0;
}

int set_index_build(struct cg_set *s, struct arena *a)
{
	struct set_index *ix;
	bool key_end = false;

	if (s->hash)
		return 0;
	ix = arena_alloc(a, sizeof(*ix));
	ix->key_len = s->key_len;
	for (uint32_t i = 0; i < s->n_elems; i++) {
		const struct cg_set_elem *e = &s->elems[i];

		if (e->catchall)
			ix->catchall = e;
		else if (!ix->key_len)
			ix->key_len = e->key.len;
		key_end |= e->key_end.len > 0;
	}
	s->hash = ix;
	s->n_intervals = 0;
	s->intervals = NULL;

	if (key_end) {
		ix->ranges = true;
		field_layout(ix, s);
		return ranges_from_key_end(s, ix, a);
	}
	if (s->flags & CG_SET_INTERVAL) {
		ix->ranges = true;
		return ranges_from_markers(s, ix, a);
	}
	return exact_build(s, ix, a);
}

int model_index_sets(struct cg_ruleset *rs)
{
	for (uint32_t t = 0; t < rs->n_tables; t++) {
		struct cg_table *tb = &rs->tables[t];

		for (uint32_t i = 0; i < tb->n_sets; i++) {
			struct cg_set *s = &tb->sets[i];

			if (s->hash)
				continue;
			if (set_index_build(s, &rs->arena) < 0)
				/* The other elements still work; lookups that would
				 * have hit a malformed one miss instead. */
				log_warning("Set %s %s %s holds elements whose key length is not %u bytes; "
					    "they are ignored in lookups",
					    family_to_string(tb->family), tb->name, s->name, s->key_len);
		}
	}
	return 0;
}

/* --- lookups ------------------------------------------------------------- */

/* The last interval whose lo is <= key (compared over cmp_len bytes), or -1. */
static ssize_t interval_floor(const struct cg_set *s, const uint8_t *key, uint32_t cmp_len)
{
	ssize_t lo = 0, hi = (ssize_t)s->n_intervals - 1, found = -1;

	while (lo <= hi) {
		ssize_t mid = lo + (hi - lo) / 2;

		if (memcmp(s->intervals[mid].lo, key, cmp_len) <= 0) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

static bool fields_contain(const struct set_index *ix, const struct cg_interval *iv, const uint8_t *key)
{
	for (uint8_t f = 0; f < ix->n_fields; f++)
		if (field_cmp(ix, f, iv->lo, key) > 0 || field_cmp(ix, f, key, iv->hi) > 0)
			return false;
	return true;
}

static const struct cg_set_elem *ranges_lookup(const struct cg_set *s, const struct set_index *ix,
					       const uint8_t *key)
{
	ssize_t i;

	if (!ix->n_fields) {
		i = interval_floor(s, key, ix->key_len);
		if (i >= 0 && memcmp(key, s->intervals[i].hi, ix->key_len) <= 0)
			return s->intervals[i].elem;
		return NULL;
	}
	for (i = interval_floor(s, key, ix->field_len[0]); i >= 0; i--) {
		if (field_cmp(ix, 0, ix->max_hi[i], key) < 0)
			break;
		if (fields_contain(ix, &s->intervals[i], key))
			return s->intervals[i].elem;
	}
	return NULL;
}

/* Sets that were never indexed: correct for exact sets, slow, and a miss for
 * ranges (we do not guess their representation). */
static const struct cg_set_elem *linear_lookup(const struct cg_set *s, const uint8_t *key, uint32_t len)
{
	for (uint32_t i = 0; i < s->n_elems; i++) {
		const struct cg_set_elem *e = &s->elems[i];

		if (!e->catchall && !e->interval_end && e->key.len == len &&
		    memcmp(e->key.bytes, key, len) == 0)
			return e;
	}
	for (uint32_t i = 0; i < s->n_elems; i++)
		if (s->elems[i].catchall)
			return &s->elems[i];
	return NULL;
}

/* Lazy sets: the kernel answers, through the collector's source; a miss
 * falls back to the catch-all element as for the others. */
static int lazy_lookup(const struct cg_set *s, const uint8_t *key, uint32_t len,
		       const struct cg_set_elem **ret, const char **why)
{
	const struct cg_set_source *src = s->source;
	int r = 0;

	if (!src || !src->ops || !src->ops->get) {
		*why = "a set too large to dump whose elements cannot be asked for";
		return -ENXIO;
	}
	if (len == s->key_len)
		r = src->ops->get(src->ctx, s, key, len, ret, why);
	if (r == 0)
		r = src->ops->get(src->ctx, s, NULL, 0, ret, why);
	if (r <= 0)
		*ret = NULL;
	return r;
}

/* Notes a key asked of s (logically const: what the audit asked, kept
 * for --keep's filter; see cg_set.lookups). */
static void note_lookup(const struct cg_set *cs, const uint8_t *key, uint32_t len)
{
	struct cg_set *s = (struct cg_set *)(uintptr_t)cs;

	if (s->n_lookups == CG_SET_LOOKUPS_MANY)
		return;
	/* a set outside a table is outside a ruleset, which frees them */
	if (!s->table || !len || len != s->key_len) {
		free(s->lookups);
		s->lookups = NULL;
		s->n_lookups = CG_SET_LOOKUPS_MANY;
		return;
	}
	for (uint32_t i = 0; i < s->n_lookups; i++)
		if (memcmp(s->lookups + (size_t)i * len, key, len) == 0)
			return;
	if (s->n_lookups == CG_SET_LOOKUPS_MAX) {
		free(s->lookups);
		s->lookups = NULL;
		s->n_lookups = CG_SET_LOOKUPS_MANY;
		return;
	}
	s->lookups = xreallocarray(s->lookups, (size_t)s->n_lookups + 1, len);
	memcpy(s->lookups + (size_t)s->n_lookups * len, key, len);
	s->n_lookups++;
}

int set_lookup(const struct cg_set *s, const uint8_t *key, uint32_t len, const struct cg_set_elem **ret,
	       const char **why)
{
	note_lookup(s, key, len);
	const struct set_index *ix = s->hash;
	const struct cg_set_elem *e = NULL;
	const char *dummy;

	if (s->flags & CG_SET_LAZY)
		return lazy_lookup(s, key, len, ret, why ? why : &dummy);
	if (s->flags & CG_SET_UNREAD) {
		/* its chain's source reads it before the rules using it */
		*(why ? why : &dummy) = "a set whose elements were not read";
		*ret = NULL;
		return -ENXIO;
	}
	if (!ix)
		e = (s->flags & CG_SET_INTERVAL) ? NULL : linear_lookup(s, key, len);
	else {
		if (len == ix->key_len) {
			if (ix->ranges)
				e = ranges_lookup(s, ix, key);
			else
				e = hashmap_get(&ix->exact, key, len);
		}
		if (!e)
			e = ix->catchall;
	}
	*ret = e;
	return e != NULL;
}
