/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdio.h>

#include "nft-dump-util.h"

void print_hex(const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		printf("%02x", p[i]);
}

int parse_hex(const char *s, uint8_t *out, uint32_t max)
{
	uint32_t n = 0;

	for (; s[0] && s[1] && n < max; s += 2) {
		unsigned v;
		if (sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = (uint8_t)v;
	}
	return *s ? -1 : (int)n;
}
