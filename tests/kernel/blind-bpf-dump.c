/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prints what blind_collect_bpf() finds in the namespace it runs in, and
 * what its blind spots decide for given packets (tests/kernel/blind-bpf.sh
 * compares that with what the kernel does to them).
 *
 *   blind-bpf-dump [--packet in|out DEV SRC DST udp|tcp SPORT DPORT new|est]...
 *
 * Output, one a line:
 *   spot xdp|tc|cgroup DEV|* in|out|both WHAT
 *   note TEXT
 *   info TEXT
 *   packet N pass|drop|unknown [WHAT of the deciding blind spot]
 * Exit 0, or 2 on bad arguments. */
#include "config.h"

#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/hostfacts.h"

static const char *kind_name(enum blind_kind k)
{
	switch (k) {
	case BLIND_XDP: return "xdp";
	case BLIND_TC: return "tc";
	case BLIND_CGROUP_BPF: return "cgroup";
	default: return "other";
	}
}

static const char *dirs_name(unsigned d)
{
	return d == (BLIND_INGRESS | BLIND_EGRESS) ? "both" : d == BLIND_INGRESS ? "in" : "out";
}

static int usage(void)
{
	fputs("usage: blind-bpf-dump [--packet in|out DEV SRC DST udp|tcp SPORT DPORT new|est]...\n", stderr);
	return 2;
}

static int parse_packet(char **a, struct blind_packet *p)
{
	memset(p, 0, sizeof(*p));
	if (strcmp(a[0], "in") != 0 && strcmp(a[0], "out") != 0)
		return -1;
	p->dir = strcmp(a[0], "in") == 0 ? BLIND_INGRESS : BLIND_EGRESS;
	p->ifindex = (int)if_nametoindex(a[1]);
	if (!p->ifindex || addr_parse(a[2], &p->src) < 0 || addr_parse(a[3], &p->dst) < 0 ||
	    p->src.family != p->dst.family)
		return -1;
	if (strcmp(a[4], "udp") == 0)
		p->l4proto = IPPROTO_UDP;
	else if (strcmp(a[4], "tcp") == 0)
		p->l4proto = IPPROTO_TCP;
	else
		return -1;
	p->sport = (uint16_t)atoi(a[5]);
	p->dport = (uint16_t)atoi(a[6]);
	if (strcmp(a[7], "new") != 0 && strcmp(a[7], "est") != 0)
		return -1;
	p->ct_new = strcmp(a[7], "new") == 0;
	return 0;
}

int main(int argc, char *argv[])
{
	struct blind_spots b = { 0 };
	int r, n = 0;

	for (int i = 1; i < argc; i += 9)
		if (strcmp(argv[i], "--packet") != 0 || i + 8 >= argc)
			return usage();
	r = blind_collect_bpf(&b);
	for (size_t i = 0; i < b.n; i++) {
		char dev[IF_NAMESIZE] = "*";
		if (b.v[i].ifindex && !if_indextoname((unsigned)b.v[i].ifindex, dev))
			snprintf(dev, sizeof(dev), "if%d", b.v[i].ifindex);
		printf("spot %s %s %s %s\n", kind_name(b.v[i].kind), dev, dirs_name(b.v[i].dirs), b.v[i].what);
	}
	for (size_t i = 0; i < b.n_notes; i++)
		printf("note %s\n", b.notes[i]);
	for (size_t i = 0; i < b.n_infos; i++)
		printf("info %s\n", b.infos[i]);
	for (int i = 1; i < argc; i += 9) {
		struct blind_packet p;
		const struct blind_spot *which;
		if (parse_packet(argv + i + 1, &p) < 0) {
			blind_spots_free(&b);
			return usage();
		}
		enum blind_effect e = blind_decide(&b, &p, &which);
		printf("packet %d %s%s%s\n", ++n, e == BLIND_PASS ? "pass" : e == BLIND_DROP ? "drop" : "unknown",
		       which ? " " : "", which ? which->what : "");
	}
	blind_spots_free(&b);
	fprintf(stderr, "blind_collect_bpf: %d\n", r);
	return 0;
}
