/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The canonical byte string of canon.h: the writer rule-identity.c and the
 * x_tables extensions' ident callbacks share. */
#include "config.h"

#include <string.h>

#include "cgnatcheck/canon.h"
#include "cgnatcheck/common.h"

void canon_bytes(struct canon *c, const void *p, size_t n)
{
	grow_array((void **)&c->buf, &c->cap, c->len + n, 1);
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

void canon_u8(struct canon *c, uint8_t v)
{
	canon_bytes(c, &v, 1);
}

void canon_u16(struct canon *c, uint16_t v)
{
	canon_bytes(c, &v, sizeof(v));
}

void canon_u32(struct canon *c, uint32_t v)
{
	canon_bytes(c, &v, sizeof(v));
}

void canon_u64(struct canon *c, uint64_t v)
{
	canon_bytes(c, &v, sizeof(v));
}

void canon_str(struct canon *c, const char *s)
{
	if (s)
		canon_bytes(c, s, strlen(s) + 1);
	else
		canon_u8(c, 0xff);
}

void canon_addr(struct canon *c, const struct cg_addr *a)
{
	canon_u8(c, (uint8_t)a->family);
	canon_bytes(c, a->bytes, (size_t)addr_family_len(a->family));
}
