/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the iptables-legacy snapshot parser and the entry
 * compiler behind it (src/collect/legacy-snapshot.c, legacy-walk.c,
 * legacy-compile.c).
 * Input: one byte choosing the family (bit 0: IPv6), then a snapshot as
 * legacy_snapshot_export() writes it (`legacy-dump --export`). Without
 * libFuzzer, fuzz-main.c runs it over the corpus and mutations of it. */
#include <netinet/in.h>    /* before <linux/netfilter.h>: glibc first */
#include <linux/netfilter.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/arena.h"
#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct legacy_snapshot *s = NULL;
	struct arena a = { 0 };
	struct cg_table t;
	uint8_t nfproto;

	if (size < 1)
		return 0;
	cg_log_set_level(CG_LOG_ERR);
	nfproto = data[0] & 1 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	if (legacy_snapshot_from_buffer(nfproto, data + 1, size - 1, &s) == 0) {
		(void)legacy_table_from_snapshot(s, "filter", &a, &t);
		legacy_snapshot_free(s);
	}
	arena_free(&a);
	return 0;
}
