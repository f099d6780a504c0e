/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the nf_tables test programs (tests/kernel/nft-collect-dump.c,
 * nft-lazy-lookup.c) share: keys as hex on the command line and in the
 * output. */
#pragma once

#include <stdint.h>

/* Prints len bytes as lowercase hex, no separators. */
void print_hex(const uint8_t *p, uint32_t len);

/* Parses hex digits (two per byte) into out (max bytes at most). Returns the
 * number of bytes, or -1 for anything else. */
int parse_hex(const char *s, uint8_t *out, uint32_t max);
