/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blind-net-dump: blind_collect_net() from the command line, for
 * tests/kernel/blind-net.sh (the report names only a blind spot that
 * decided; this shows every one that was found, PASS ones included).
 *
 *   blind-net-dump
 *       one line per blind spot: "KIND DEV DIRS | WHAT", then one
 *       "note: ..." line per note
 *   blind-net-dump egress|ingress SRC DST udp|tcp SPORT DPORT DEV
 *       the combined effect on that packet: "pass", "drop" or
 *       "unknown | WHAT" (the deciding spot)
 * Exit 0, or 2 on usage errors.
 */
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
	case BLIND_CGROUP_BPF: return "cgroup-bpf";
	case BLIND_IPVS: return "ipvs";
	case BLIND_FLOWTABLE: return "flowtable";
	case BLIND_XFRM: return "xfrm";
	case BLIND_BRIDGE_NF: return "bridge-nf";
	}
	return "?";
}

static int usage(void)
{
	fputs("usage: blind-net-dump [egress|ingress SRC DST udp|tcp SPORT DPORT DEV]\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct blind_spots b = { 0 };
	char dev[IFNAMSIZ];

	if (argc != 1 && argc != 8)
		return usage();
	blind_collect_net(&b);
	if (argc == 1) {
		for (size_t i = 0; i < b.n; i++) {
			const struct blind_spot *s = &b.v[i];
			if (!s->ifindex || !if_indextoname((unsigned)s->ifindex, dev))
				snprintf(dev, sizeof(dev), "%s", s->ifindex ? "?" : "*");
			printf("%s %s %s%s | %s\n", kind_name(s->kind), dev, s->dirs & BLIND_INGRESS ? "in" : "",
			       s->dirs & BLIND_EGRESS ? "out" : "", s->what);
		}
		for (size_t i = 0; i < b.n_notes; i++)
			printf("note: %s\n", b.notes[i]);
		blind_spots_free(&b);
		return 0;
	}
	struct blind_packet p = { 0 };
	const struct blind_spot *which;
	enum blind_effect e;

	if (strcmp(argv[1], "egress") == 0)
		p.dir = BLIND_EGRESS;
	else if (strcmp(argv[1], "ingress") == 0)
		p.dir = BLIND_INGRESS;
	else
		return usage();
	if (addr_parse(argv[2], &p.src) < 0 || addr_parse(argv[3], &p.dst) < 0)
		return usage();
	p.l4proto = strcmp(argv[4], "tcp") == 0 ? IPPROTO_TCP : IPPROTO_UDP;
	p.sport = (uint16_t)atoi(argv[5]);
	p.dport = (uint16_t)atoi(argv[6]);
	p.ifindex = (int)if_nametoindex(argv[7]);
	p.ct_new = p.dir == BLIND_EGRESS;
	e = blind_decide(&b, &p, &which);
	if (e == BLIND_PASS)
		puts("pass");
	else
		printf("%s | %s\n", e == BLIND_DROP ? "drop" : "unknown", which ? which->what : "?");
	blind_spots_free(&b);
	return 0;
}
