/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the BPF blind-spot reader's parsers: the input is a
 * run of RTM_NEWTFILTER messages (a filter dump, as the kernel sends it)
 * read into one tc block and judged on a few packets, and also a mount
 * table whose cgroup2 line is looked for, and a /proc/PID/cgroup text
 * whose cgroup2 path is read (and judged as a client's). Without libFuzzer, fuzz-main.c
 * runs it over the corpus (dumps of real filters) and mutations of it. */
#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/hostfacts.h"
#include "../../src/collect/blind-bpf-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t root_fn(void *ctx, uint32_t prio, uint16_t protocol)
{
	(void)ctx;
	/* the first table, or the second (what a get would answer) */
	return (prio ^ protocol) & 1 ? 0x80100000 : 0x80000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* netlink messages are read in place: aligned, as the kernel's are */
	uint32_t *buf = malloc(size + 4);
	const struct nlmsghdr *nlh;
	struct blind_spots b = { 0 };
	struct bpf_devs devs = { 0 };
	struct tc_block *tb;
	char mnt[256], root[256];

	if (!buf)
		abort();
	memcpy(buf, data, size);
	(void)mountinfo_find_cgroup2((const char *)buf, size, mnt, sizeof(mnt), root, sizeof(root));
	if (proc_cgroup2_path((const char *)buf, size, mnt, sizeof(mnt)) == 1) {
		static const char *const units[] = { "chrony.service", "dhcpcd@*.service", NULL };
		char *cgroups[] = { mnt };
		struct blind_client c = { .cgroups = cgroups, .n_cgroups = 1, .units = units };
		if (strlen(mnt) >= sizeof(mnt) || mnt[0] != '/')
			__builtin_trap();
		(void)cgroup_prog_sees("/system.slice/chrony.service", false, false, &c);
		(void)cgroup_prog_sees(mnt, false, size & 2, &c);
	}
	tb = tc_block_new(2, "eth0", BLIND_INGRESS, size & 1, "ingress");
	/* framed here (mnl_nlmsg_ok() trusts a length above INT_MAX, which
	 * the kernel never sends) */
	for (size_t off = 0; size - off >= sizeof(*nlh);) {
		nlh = (const struct nlmsghdr *)((const char *)buf + off);
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > size - off)
			break;
		(void)tc_block_add(tb, nlh, &devs);
		off += MNL_ALIGN(nlh->nlmsg_len) < size - off ? MNL_ALIGN(nlh->nlmsg_len) : size - off;
	}
	tc_block_finish(tb, &b, root_fn, NULL);
	static const char *const addrs[][2] = {
		{ "100.100.2.136", "172.24.4.100" }, { "192.0.2.1", "10.0.0.1" }, { "fd00::1", "fd7a:115c:a1e0::1" },
	};
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct blind_packet p = { .l4proto = i ? 6 : 17, .sport = 53, .dport = 40000, .ifindex = 2,
					  .dir = BLIND_INGRESS };
		const struct blind_spot *w;
		if (addr_parse(addrs[i][0], &p.src) < 0 || addr_parse(addrs[i][1], &p.dst) < 0)
			abort();
		enum blind_effect e = blind_decide(&b, &p, &w);
		if ((e == BLIND_PASS) != (w == NULL) || (w && !memchr(w->what, '\0', sizeof(w->what))))
			__builtin_trap();
	}
	blind_spots_free(&b);
	free(buf);
	return 0;
}
