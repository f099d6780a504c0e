/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A canonical byte string: what a rule's identity (rule-identity.c) is
 * written as, the x_tables extensions writing their decoded values into it
 * (xt-ext.h, struct xt_ext's ident). Two things are the same when their
 * strings are; the hash of one is its string's.
 *
 * Integers go in host byte order at their width, so the string (and the
 * hash) is stable across runs of one program, not across machines. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/addr.h"

struct canon {
	uint8_t *buf;               /* free() when done */
	size_t len, cap;
};

void canon_bytes(struct canon *c, const void *p, size_t n);
void canon_u8(struct canon *c, uint8_t v);
void canon_u16(struct canon *c, uint16_t v);
void canon_u32(struct canon *c, uint32_t v);
void canon_u64(struct canon *c, uint64_t v);
/* A string with its NUL; NULL differs from "" (a 0xff marker). */
void canon_str(struct canon *c, const char *s);
/* The family, then the address's bytes for that family. */
void canon_addr(struct canon *c, const struct cg_addr *a);
