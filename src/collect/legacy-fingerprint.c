/* SPDX-License-Identifier: GPL-2.0-or-later */
/* legacy_fingerprint(): a cheap change detector for the x_tables tables. */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"

uint64_t legacy_fingerprint(void)
{
	static const struct { int family, level, opt; const char *names; } fams[] = {
		{ AF_INET, IPPROTO_IP, IPT_SO_GET_INFO, "/proc/net/ip_tables_names" },
		{ AF_INET6, IPPROTO_IPV6, IP6T_SO_GET_INFO, "/proc/net/ip6_tables_names" },
	};
	uint64_t h = HASH_FNV1A_INIT;

	for (size_t f = 0; f < ARRAY_SIZE(fams); f++) {
		_cleanup_fclose_ FILE *names = fopen(fams[f].names, "re");
		_cleanup_close_ int fd = -1;
		char table[XT_TABLE_MAXNAMELEN + 2];

		if (!names)
			continue;
		fd = socket(fams[f].family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (fd < 0)
			continue;
		while (fgets(table, sizeof(table), names)) {
			struct ipt_getinfo info = { 0 };
			socklen_t len = sizeof(info);

			table[strcspn(table, "\n")] = '\0';
			if (strlen(table) >= sizeof(info.name))
				continue;
			memcpy(info.name, table, strlen(table) + 1);
			if (getsockopt(fd, fams[f].level, fams[f].opt, &info, &len) < 0)
				continue;
			uint64_t v[2] = { info.size, info.num_entries };
			for (size_t k = 0; k < 2; k++)
				h = hash_fnv1a_u64(h, v[k] + (uint64_t)f * 31 + (uint64_t)strlen(table));
		}
	}
	return h;
}
