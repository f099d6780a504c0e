/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for discover_config()'s parsers (chrony, timesyncd,
 * cloud-init's JSON and YAML, apt's two formats and its proxies, /etc/hosts): every input
 * goes through each of them and then through dc_finish(), with a resolver
 * that gives every name an address in the range and one outside it. What
 * comes out must be in scope, with an origin; the notes stay capped.
 * Without libFuzzer, fuzz-main.c runs it over the corpus. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/addr.h"
#include "cgnatcheck/hostfacts.h"
#include "../../src/collect/discover-config-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void every_name_resolves(const char *const *names, size_t n, int timeout_ms, struct dc_answer *out)
{
	(void)names;
	(void)timeout_ms;
	for (size_t i = 0; i < n; i++) {
		out[i] = (struct dc_answer){ .status = i % 3 == 2 ? DC_RESOLVE_TIMEOUT : 0 };
		if (out[i].status)
			continue;
		out[i].addrs = calloc(2, sizeof(*out[i].addrs));
		if (!out[i].addrs)
			abort();
		addr_parse("100.100.2.148", &out[i].addrs[0]);
		addr_parse("192.0.2.1", &out[i].addrs[1]);
		out[i].n = 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"chrony.conf", "x.sources", "timesyncd.conf", "instance-data.json", "cloud.cfg",
		"sources.list", "x.sources", "hosts", "apt.conf",
	};
	struct cg_prefix ranges[2];
	struct discover_scope scope = { .ranges = ranges, .n_ranges = 2 };
	struct discovered_list l = { 0 };
	struct dc_state st;
	const char *text = (const char *)data;

	prefix_parse("100.64.0.0/10", &ranges[0]);
	prefix_parse("fd7a:115c:a1e0::/48", &ranges[1]);
	dc_state_init(&st, &scope, &l);
	dc_parse_chrony(&st, names[0], text, size, 1);
	dc_parse_chrony_sources(&st, names[1], text, size);
	dc_parse_timesyncd(&st, names[2], text, size);
	dc_parse_cloud_instance_data(&st, names[3], text, size);
	dc_parse_cloud_cfg(&st, names[4], text, size);
	dc_parse_apt_list(&st, names[5], text, size);
	dc_parse_apt_sources(&st, names[6], text, size);
	dc_parse_hosts(&st, names[7], text, size);
	dc_parse_apt_conf(&st, names[8], text, size);
	dc_finish(&st, every_name_resolves);
	dc_state_free(&st);

	for (size_t i = 0; i < l.n; i++) {
		const struct discovered *d = &l.v[i];
		if (!discover_in_scope(&scope, &d->addr) || !d->role || !d->origin[0] || !d->port ||
		    memchr(d->origin, '\0', sizeof(d->origin)) == NULL || (d->protos & ~3u) || !d->protos)
			__builtin_trap();
	}
	if (l.n_notes > DC_MAX_NOTES + 1)
		__builtin_trap();
	for (size_t i = 0; i < l.n_notes; i++)
		if (!l.notes[i][0])
			__builtin_trap();
	discovered_free(&l);
	return 0;
}
