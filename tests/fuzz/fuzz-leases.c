/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the DHCP lease parsers (src/collect/discover-leases-
 * text.c, discover-leases-dhcpcd.c): systemd-networkd's KEY=VALUE files,
 * dhclient's lease blocks, dhcpcd's DHCP and DHCPv6 messages.
 * Input: one byte choosing the format (its low two bits: networkd,
 * dhclient, dhcpcd, dhcpcd6; bit 2: an mtime, so that lifetimes count;
 * bit 3: through a lease set, as discover_dhcp_leases() reads files),
 * then the file. Without libFuzzer, fuzz-main.c runs it over the corpus and
 * mutations of it. Every note must name the file. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cgnatcheck/hostfacts.h"
#include "../../src/collect/discover-leases.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum lease_format formats[] = { LEASE_NETWORKD, LEASE_DHCLIENT, LEASE_DHCPCD, LEASE_DHCPCD6 };
	struct cg_prefix ranges[2];
	struct discover_scope scope = { .ranges = ranges, .n_ranges = 2 };
	struct discovered_list l = { 0 };
	struct lease_set set = { 0 };

	if (size < 1)
		return 0;
	if (prefix_parse("0.0.0.0/0", &ranges[0]) < 0 || prefix_parse("::/0", &ranges[1]) < 0)
		__builtin_trap();
	struct lease_ctx c = {
		.path = "fuzz.lease", .ifname = "eth0", .now = 1700000000, .mtime = data[0] & 4 ? 1699990000 : 0,
		.scope = &scope, .l = &l, .set = data[0] & 8 ? &set : NULL, .written = 1699990000,
	};
	leases_parse(formats[data[0] & 3], &c, (const char *)data + 1, size - 1);
	/* the file's notes, then what its leases add (two notes each at most) */
	size_t parse_notes = l.n_notes, n_leases = set.n;
	leases_flush(&set, &scope, &l);
	if (parse_notes > LEASE_MAX_NOTES + 1 || (c.set && l.n_notes - parse_notes > 2 * n_leases))
		__builtin_trap();
	for (size_t i = 0; i < l.n_notes; i++)
		if (strncmp(l.notes[i], "fuzz.lease", 10) != 0)
			__builtin_trap();
	for (size_t i = 0; i < l.n; i++)
		if (!l.v[i].role || !l.v[i].port || strncmp(l.v[i].origin, "dhcp-lease:", 11) != 0)
			__builtin_trap();
	discovered_free(&l);
	return 0;
}
