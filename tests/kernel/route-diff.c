/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Differential test of the route lookup against the kernel.
 *
 * Run inside a network namespace of its own (tests/kernel/route-diff.sh makes one):
 * it generates random routing states (links, addresses, rules with every
 * selector, routes of every type in several tables including Tailscale's 52
 * and its 5210-5270 rules, nexthop objects, sysctls), installs each with
 * `ip -batch`, dumps it with the collector, and for random packets compares
 * route_lookup() with the kernel's RTM_GETROUTE answer on every field the
 * lookup did not flag uncertain.
 *
 *   route-diff [--seed N] [--cases N] [--state K [--keep]] [--verbose]
 *   (or CG_ROUTE_DIFF_SEED / CG_ROUTE_DIFF_CASES)
 *
 * Exit: 0 no disagreement, 1 disagreements (each printed with the seed, the
 * state and the packet, and how to reproduce it), 99 setup error. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route.h"
#include <linux/rtnetlink.h>
#include "../lib/test.h"

#define PACKETS_PER_STATE 20

/* ---- randomness: test_rnd() and test_chance() of test.h, seeded per state -- */

#define PICK(arr) (arr[test_rnd(ARRAY_SIZE(arr))])

/* ---- the generated world -------------------------------------------------- */

struct world {
	/* links: veth pairs ethN/ethNp, and tailscale0 (tun) */
	int n_eth;
	bool has_ts;
	int lan[3];          /* 192.168.lan[i].0/24 on ethi */
	char addrs4[16][48]; /* local IPv4 addresses */
	int n_addrs4;
	char addrs6[16][48];
	int n_addrs6;
	char prefixes4[64][48]; /* prefixes used by routes (for packet generation) */
	int n_prefixes4;
	char prefixes6[64][48];
	int n_prefixes6;
	bool rules_changed;
	bool links_created;
};

static char *script_v4, *script_v6, *script_any;
static size_t script_v4_len, script_v6_len, script_any_len;
static FILE *b4, *b6, *bany;

static void scripts_open(void)
{
	b4 = open_memstream(&script_v4, &script_v4_len);
	b6 = open_memstream(&script_v6, &script_v6_len);
	bany = open_memstream(&script_any, &script_any_len);
}

static void scripts_close(void)
{
	fclose(b4);
	fclose(b6);
	fclose(bany);
}

static void scripts_free(void)
{
	free(script_v4);
	free(script_v6);
	free(script_any);
	script_v4 = script_v6 = script_any = NULL;
}

/* Runs `ip [-4|-6] -force -batch -` with the script on stdin. Failed lines
 * are expected (a random gateway may be unreachable): the state is read
 * back from the kernel anyway. */
static int run_batch(const char *family, const char *script)
{
	char cmd[128];
	FILE *p;

	if (!script || !*script)
		return 0;
	snprintf(cmd, sizeof(cmd), "ip %s -force -batch - >/dev/null 2>&1", family);
	p = popen(cmd, "w");
	if (!p)
		return -errno;
	fputs(script, p);
	return pclose(p) < 0 ? -errno : 0;
}

static int run(const char *fmt, ...) _printf_(1, 2);
static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == 0 ? 0 : -1;
}

static void sysctl_set(const char *path, int value)
{
	FILE *f = fopen(path, "we");
	if (f) {
		fprintf(f, "%d\n", value);
		fclose(f);
	}
}

/* Links are made once and kept: deleting a link waits for RCU grace
 * periods, which costs most of a state's time on a loaded machine. Each
 * state starts from bare links: no addresses, no routes of ours, no
 * nexthops, the default rules. */
static void world_reset(struct world *w)
{
	if (!w->links_created) {
		run("ip -batch - >/dev/null 2>&1 <<'EOF'\n"
		    "link add eth0 type veth peer name eth0p\nlink add eth1 type veth peer name eth1p\n"
		    "link add eth2 type veth peer name eth2p\ntuntap add dev tailscale0 mode tun\n"
		    "link set eth0 up\nlink set eth1 up\nlink set eth2 up\nlink set tailscale0 up\n"
		    "EOF");
		w->links_created = true;
	}
	run("ip -batch - >/dev/null 2>&1 <<'EOF'\n"
	    "nexthop flush\naddr flush dev eth0\naddr flush dev eth1\naddr flush dev eth2\n"
	    "addr flush dev tailscale0\naddr del 10.255.255.1/32 dev lo\n"
	    "link set eth0 group 0\nlink set eth1 group 0\nlink set eth2 group 0\n"
	    "link set tailscale0 group 0\n"
	    "neigh flush dev eth0 nud all\nneigh flush dev eth1 nud all\n"
	    "neigh flush dev eth2 nud all\nEOF");
	run("ip -4 route flush table all proto 99 >/dev/null 2>&1; "
	    "ip -6 route flush table all proto 99 >/dev/null 2>&1");
	if (w->rules_changed) {
		run("ip -4 rule flush; ip -6 rule flush; "
		    "ip -4 rule add pref 32766 table main; ip -4 rule add pref 32767 table default; "
		    "ip -6 rule add pref 32766 table main");
		w->rules_changed = false;
	}
}

static void world_remove(struct world *w)
{
	if (w->rules_changed)
		run("ip -4 rule flush; ip -6 rule flush; "
		    "ip -4 rule add pref 32766 table main; ip -4 rule add pref 32767 table default; "
		    "ip -6 rule add pref 32766 table main");
	run("ip -batch - >/dev/null 2>&1 <<'EOF'\n"
	    "link del eth0\nlink del eth1\nlink del eth2\nlink del tailscale0\nnexthop flush\nEOF");
	run("ip -4 route flush table all proto 99 >/dev/null 2>&1; "
	    "ip -6 route flush table all proto 99 >/dev/null 2>&1");
}

static const char *eth_name(int i, char buf[16])
{
	snprintf(buf, 16, "eth%d", i);
	return buf;
}

static void world_links(struct world *w)
{
	char n[16];

	/* ethN beyond n_eth stay bare. A peer's state is the link's carrier:
	 * a down peer gives LINKDOWN routes. */
	w->n_eth = 1 + (int)test_rnd(3);
	for (int i = 0; i < 3; i++) {
		eth_name(i, n);
		fprintf(bany, "link set %sp %s\n", n, test_chance(85) ? "up" : "down");
		if (i < w->n_eth && test_chance(15))
			fprintf(bany, "link set %s group %u\n", n, 1 + test_rnd(3));
	}
	/* A tun without a reader has no carrier, like a stopped tailscaled. */
	w->has_ts = test_chance(80);
	if (w->has_ts && test_chance(20))
		fprintf(bany, "link set tailscale0 group 2\n");
}

static void add4(struct world *w, const char *a)
{
	if (w->n_addrs4 < 16)
		snprintf(w->addrs4[w->n_addrs4++], sizeof(w->addrs4[0]), "%s", a);
}

static void add6(struct world *w, const char *a)
{
	if (w->n_addrs6 < 16)
		snprintf(w->addrs6[w->n_addrs6++], sizeof(w->addrs6[0]), "%s", a);
}

static void world_addrs(struct world *w)
{
	char a[40], n[16];

	w->n_addrs4 = w->n_addrs6 = 0;
	add4(w, "127.0.0.1");
	add6(w, "::1");
	for (int i = 0; i < w->n_eth; i++) {
		eth_name(i, n);
		w->lan[i] = (int)test_rnd(4) + i * 10;
		snprintf(a, sizeof(a), "192.168.%d.1", w->lan[i]);
		fprintf(bany, "addr add %s/24 dev %s\n", a, n);
		add4(w, a);
		if (test_chance(30)) {
			snprintf(a, sizeof(a), "192.168.%d.2", w->lan[i]);
			fprintf(bany, "addr add %s/24 dev %s\n", a, n); /* secondary */
			add4(w, a);
		}
		if (test_chance(40)) {
			snprintf(a, sizeof(a), "10.%d.%u.1", i + 1, test_rnd(3));
			fprintf(bany, "addr add %s/16 dev %s\n", a, n);
			add4(w, a);
		}
		if (test_chance(15)) {
			snprintf(a, sizeof(a), "100.100.%u.%u", test_rnd(4), 10 + test_rnd(200));
			fprintf(bany, "addr add %s/%u dev %s\n", a, PICK(((unsigned[]){ 16, 24, 32 })), n);
			add4(w, a);
		}
		snprintf(a, sizeof(a), "2001:db8:%d::1", w->lan[i]);
		fprintf(bany, "addr add %s/64 dev %s nodad\n", a, n);
		add6(w, a);
		if (test_chance(40)) {
			snprintf(a, sizeof(a), "fd00:%d::1", i + 1);
			fprintf(bany, "addr add %s/64 dev %s nodad\n", a, n);
			add6(w, a);
		}
	}
	if (w->has_ts) {
		snprintf(a, sizeof(a), "100.%u.%u.%u", 64 + test_rnd(64), test_rnd(256), 1 + test_rnd(254));
		fprintf(bany, "addr add %s/32 dev tailscale0\n", a);
		add4(w, a);
		snprintf(a, sizeof(a), "fd7a:115c:a1e0::%x", 1 + test_rnd(0xfff));
		fprintf(bany, "addr add %s/128 dev tailscale0 nodad\n", a);
		add6(w, a);
	}
	if (test_chance(20)) {
		fprintf(bany, "addr add 10.255.255.1/32 dev lo\n");
		add4(w, "10.255.255.1");
	}
}

static const char *dev_pick(const struct world *w, char buf[16], bool allow_ghost)
{
	unsigned r = test_rnd(10);

	if (w->has_ts && r < 3)
		return "tailscale0";
	if (allow_ghost && r == 3)
		return "ghost0";
	if (allow_ghost && r == 4)
		return "lo";
	if (r == 5)
		return "eth0p";
	return eth_name((int)test_rnd((uint32_t)w->n_eth), buf);
}

static void prefix4_random(const struct world *w, char out[24])
{
	static const char *const pool[] = {
		"0.0.0.0/0", "100.64.0.0/10", "100.100.0.0/16", "100.100.2.0/24", "100.100.2.136/32",
		"100.100.100.200/32", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.168.0.0/16",
		"172.16.0.0/12", "8.8.8.0/24", "100.100.2.128/25", "10.1.2.3/32",
	};
	if (test_chance(70)) {
		snprintf(out, 24, "%s", PICK(pool));
		return;
	}
	if (test_chance(30) && w->n_eth) {
		snprintf(out, 24, "192.168.%d.0/%u", w->lan[test_rnd((uint32_t)w->n_eth)], PICK(((unsigned[]){ 24, 25, 26, 28 })));
		return;
	}
	unsigned len = 8 + test_rnd(25);
	uint32_t a = (uint32_t)PICK(((uint32_t[]){ 0x64400000, 0x0a000000, 0xc0a80000, 0x64640000 })) |
		     (test_rnd(0x10000) << test_rnd(16));
	if (len < 32)
		a &= ~0u << (32 - len);
	snprintf(out, 24, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, len);
}

static void prefix6_random(const struct world *w, char out[48])
{
	static const char *const pool[] = {
		"::/0", "2001:db8::/32", "2001:db8:1::/48", "2001:db8:1:2::/64", "fd7a:115c:a1e0::/48",
		"fd7a:115c:a1e0::53/128", "2001:db8:1:2::136/128", "64:ff9b::/96", "fd00::/8",
		"2001:db8:10::/44",
	};
	(void)w;
	if (test_chance(75) || !w->n_eth) {
		snprintf(out, 48, "%s", PICK(pool));
		return;
	}
	snprintf(out, 48, "2001:db8:%d::/%u", w->lan[test_rnd((uint32_t)w->n_eth)], PICK(((unsigned[]){ 48, 56, 64, 80 })));
}

static void gateway4(const struct world *w, char out[24])
{
	if (!w->n_eth || test_chance(10)) {
		snprintf(out, 24, "10.%u.0.%u", 1 + test_rnd(3), 2 + test_rnd(250)); /* maybe unreachable */
		return;
	}
	snprintf(out, 24, "192.168.%d.%u", w->lan[test_rnd((uint32_t)w->n_eth)], 250 + test_rnd(5));
}

static void gateway6(const struct world *w, char out[48])
{
	if (!w->n_eth) {
		snprintf(out, 48, "2001:db8:ff::1");
		return;
	}
	snprintf(out, 48, "2001:db8:%d::%x", w->lan[test_rnd((uint32_t)w->n_eth)], 0xf0 + test_rnd(8));
}

static const char *table_pick(void)
{
	static const char *const tables[] = { "main", "main", "main", "52", "52", "100", "200", "default" };
	return PICK(tables);
}

static void world_nexthops(struct world *w, FILE *b, int family)
{
	char gw[48], dev[16];
	int base = family == 4 ? 10 : 60;

	if (!test_chance(30))
		return;
	for (int i = 0; i < 3; i++) {
		if (family == 4)
			gateway4(w, gw);
		else
			gateway6(w, gw);
		if (test_chance(70))
			fprintf(b, "nexthop add id %d via %s dev %s\n", base + i, gw, dev_pick(w, dev, false));
		else
			fprintf(b, "nexthop add id %d dev %s\n", base + i, dev_pick(w, dev, false));
	}
	fprintf(b, "nexthop add id %d group %d/%d\n", base + 5, base, base + 1);
	if (test_chance(30))
		fprintf(b, "nexthop add id %d blackhole\n", base + 6);
}

static void route_head(FILE *b, int family, const char *table, unsigned metric)
{
	fprintf(b, " table %s proto 99", table);
	if (metric != UINT32_MAX)
		fprintf(b, " metric %u", metric);
	if (family == 4 && test_chance(3))
		fprintf(b, " tos 0x10"); /* never matches our packets (tos 0) */
	if (family == 4 && test_chance(3))
		fprintf(b, " realm 5"); /* realms change the source check's shortcut */
	if (family == 6 && test_chance(15))
		fprintf(b, " pref %s", PICK(((const char *[]){ "low", "medium", "high" })));
}

static void world_route(struct world *w, int family)
{
	FILE *b = family == 4 ? b4 : b6;
	char p[48], gw[48], gw2[48], dev[16], dev2[16];
	const char *table = table_pick();
	unsigned metric = test_chance(40) ? UINT32_MAX : PICK(((unsigned[]){ 0, 10, 100, 1024 }));
	const char *verb = test_chance(15) ? "append" : test_chance(10) ? "replace" : "add";
	unsigned kind = test_rnd(100);

	if (family == 4) {
		prefix4_random(w, p);
		if (w->n_prefixes4 < 64)
			snprintf(w->prefixes4[w->n_prefixes4++], sizeof(w->prefixes4[0]), "%s", p);
	} else {
		prefix6_random(w, p);
		if (w->n_prefixes6 < 64)
			snprintf(w->prefixes6[w->n_prefixes6++], 48, "%s", p);
	}
	if (family == 4)
		gateway4(w, gw), gateway4(w, gw2);
	else
		gateway6(w, gw), gateway6(w, gw2);

	/* Table, protocol and metric first: iproute2 wants nexthops last, and
	 * a syntax error would end the whole batch. */
	if (kind >= 86 && kind < 90 && family == 4)
		table = test_chance(70) ? "local" : table;
	if (kind < 25) {
		fprintf(b, "route %s %s", verb, p);
		route_head(b, family, table, metric);
		fprintf(b, " dev %s", dev_pick(w, dev, false));
	} else if (kind < 45) {
		fprintf(b, "route %s %s", verb, p);
		route_head(b, family, table, metric);
		fprintf(b, " via %s", gw);
		if (test_chance(30))
			fprintf(b, " dev %s", dev_pick(w, dev, false));
	} else if (kind < 50) {
		fprintf(b, "route %s %s", verb, p);
		route_head(b, family, table, metric);
		fprintf(b, " via %s dev %s onlink", gw, dev_pick(w, dev, false));
	} else if (kind < 58) {
		fprintf(b, "route %s %s", verb, p);
		route_head(b, family, table, metric);
		fprintf(b, " nexthop via %s dev %s weight %u nexthop via %s dev %s", gw, dev_pick(w, dev, false),
			1 + test_rnd(3), gw2, dev_pick(w, dev2, false));
	} else if (kind < 86) {
		const char *type = kind < 66 ? "throw" : kind < 72 ? "blackhole" : kind < 78 ? "unreachable" :
				   kind < 82 ? "prohibit" : NULL;
		if (type) {
			fprintf(b, "route %s %s %s", verb, type, p);
			route_head(b, family, table, metric);
		} else {
			fprintf(b, "route %s %s", verb, p);
			route_head(b, family, table, metric);
			fprintf(b, " nhid %d", PICK(((int[]){ 0, 1, 2, 5, 6 })) + (family == 4 ? 10 : 60));
		}
	} else if (kind < 90 && family == 4) {
		fprintf(b, "route %s local %s", verb, p);
		route_head(b, family, table, metric);
		fprintf(b, " dev %s", test_chance(50) ? "lo" : dev_pick(w, dev, false));
	} else {
		fprintf(b, "route %s %s", verb, p);
		route_head(b, family, table, metric);
		fprintf(b, " dev %s", dev_pick(w, dev, false));
		if (family == 4 ? w->n_addrs4 : w->n_addrs6)
			fprintf(b, " src %s", family == 4 ? w->addrs4[test_rnd((uint32_t)w->n_addrs4)] :
							   w->addrs6[test_rnd((uint32_t)w->n_addrs6)]);
	}
	fputc('\n', b);
}

/* What tailscaled installs in table 52, sometimes with an exit node. */
static void world_tailscale_table(struct world *w)
{
	fprintf(b4, "route add 100.100.100.100/32 dev tailscale0 table 52 proto 99\n");
	for (unsigned i = 0, n = test_rnd(4); i < n; i++)
		fprintf(b4, "route add 100.%u.%u.%u/32 dev tailscale0 table 52 proto 99\n", 64 + test_rnd(64),
			test_rnd(256), 1 + test_rnd(254));
	if (test_chance(30))
		fprintf(b4, "route add 100.100.0.0/16 dev tailscale0 table 52 proto 99\n"); /* subnet route */
	if (test_chance(40)) {
		fprintf(b4, "route add default dev tailscale0 table 52 proto 99\n"); /* exit node */
		if (w->n_eth && test_chance(60))
			fprintf(b4, "route add throw 192.168.%d.0/24 table 52 proto 99\n", w->lan[0]);
		if (test_chance(40))
			fprintf(b4, "route add throw 100.100.0.0/16 table 52 proto 99\n");
		fprintf(b6, "route add default dev tailscale0 table 52 proto 99\n");
	}
	fprintf(b6, "route add fd7a:115c:a1e0::/48 dev tailscale0 table 52 proto 99\n");
}

static void world_tailscale_rules(struct world *w, FILE *b)
{
	fprintf(b, "rule add pref 5210 fwmark 0x80000/0xff0000 table main\n"
		   "rule add pref 5230 fwmark 0x80000/0xff0000 table default\n"
		   "rule add pref 5250 fwmark 0x80000/0xff0000 unreachable\n"
		   "rule add pref 5270 table 52\n");
	w->rules_changed = true;
}

static void world_rule(struct world *w, int family)
{
	FILE *b = family == 4 ? b4 : b6;
	static const unsigned prefs[] = { 50, 100, 100, 200, 1000, 5000, 5260, 5270, 6000, 30000 };
	unsigned pref = PICK(prefs);
	char p[48], dev[16];
	unsigned action = test_rnd(100);

	fprintf(b, "rule add pref %u", pref);
	if (test_chance(12))
		fprintf(b, " not");
	if (test_chance(30)) {
		if (family == 4) {
			if (test_chance(50) && w->n_addrs4)
				fprintf(b, " from %s/32", w->addrs4[test_rnd((uint32_t)w->n_addrs4)]);
			else
				prefix4_random(w, p), fprintf(b, " from %s", p);
		} else {
			if (test_chance(50) && w->n_addrs6)
				fprintf(b, " from %s/128", w->addrs6[test_rnd((uint32_t)w->n_addrs6)]);
			else
				prefix6_random(w, p), fprintf(b, " from %s", p);
		}
	}
	if (test_chance(30)) {
		if (family == 4)
			prefix4_random(w, p);
		else
			prefix6_random(w, p);
		fprintf(b, " to %s", p);
	}
	if (test_chance(20))
		fprintf(b, " iif %s", dev_pick(w, dev, true));
	if (test_chance(12))
		fprintf(b, " oif %s", dev_pick(w, dev, true));
	if (test_chance(25))
		fprintf(b, " fwmark %s", PICK(((const char *[]){ "0x80000/0xff0000", "0x1", "0x40000/0xff0000",
								 "0x100/0x100", "0x0/0xff0000" })));
	if (test_chance(10))
		fprintf(b, " uidrange %s", PICK(((const char *[]){ "0-999", "1000-2000", "0-0" })));
	if (test_chance(12)) {
		const char *proto = PICK(((const char *[]){ "tcp", "udp", "icmp" }));
		fprintf(b, " ipproto %s", family == 6 && strcmp(proto, "icmp") == 0 ? "ipv6-icmp" : proto);
		if (strcmp(proto, "icmp") && test_chance(50))
			fprintf(b, " %s %s", test_chance(50) ? "sport" : "dport", PICK(((const char *[]){ "53", "1000-2000", "443" })));
	}
	if (test_chance(5) && family == 4)
		fprintf(b, " tos 0x10");
	if (action < 55) {
		fprintf(b, " table %s", PICK(((const char *[]){ "main", "52", "100", "200", "default", "local", "999" })));
		if (test_chance(25))
			fprintf(b, " suppress_prefixlength %u", PICK(((unsigned[]){ 0, 0, 8, 16, 24, 32 })));
		if (test_chance(8))
			fprintf(b, " suppress_ifgroup %u", 1 + test_rnd(3));
	} else if (action < 68) {
		/* Mostly to priorities that exist (or will), sometimes nowhere. */
		static const unsigned targets[] = { 100, 200, 1000, 5000, 5210, 5260, 5270, 6000, 30000, 32766, 32767 };
		unsigned t = pref + 1 + test_rnd(50);
		for (int tries = 0; tries < 8 && test_chance(85); tries++) {
			unsigned c = PICK(targets);
			if (c > pref) {
				t = c;
				break;
			}
		}
		fprintf(b, " goto %u", t);
	} else if (action < 74) {
		fprintf(b, " nop");
	} else if (action < 82) {
		fprintf(b, " unreachable");
	} else if (action < 90) {
		fprintf(b, " blackhole");
	} else {
		fprintf(b, " prohibit");
	}
	fputc('\n', b);
	w->rules_changed = true;
}

static void world_sysctls(const struct world *w)
{
	char path[128], n[16];

	sysctl_set("/proc/sys/net/ipv4/ip_forward", test_chance(60));
	sysctl_set("/proc/sys/net/ipv4/conf/all/rp_filter", test_chance(75) ? 0 : (int)test_rnd(3));
	sysctl_set("/proc/sys/net/ipv4/conf/all/accept_local", test_chance(10));
	sysctl_set("/proc/sys/net/ipv4/conf/all/src_valid_mark", test_chance(20));
	sysctl_set("/proc/sys/net/ipv6/conf/all/forwarding", test_chance(50));
	for (int i = 0; i < w->n_eth; i++) {
		eth_name(i, n);
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", n);
		sysctl_set(path, test_chance(60) ? 0 : (int)test_rnd(3));
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/ignore_routes_with_linkdown", n);
		sysctl_set(path, test_chance(15));
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/ignore_routes_with_linkdown", n);
		sysctl_set(path, test_chance(15));
	}
}

/* Carrier and operstate changes reach routing through linkwatch, up to a
 * second later. Routes added before that, or a dump taken before it, would
 * race with it; wait until every link's operstate agrees with its carrier. */
static void links_settle(void)
{
	for (int i = 0; i < 60; i++) {
		_cleanup_route_state_ struct route_state st;
		bool settled = true;

		route_state_init(&st);
		if (route_state_collect(&st) < 0)
			return;
		for (size_t k = 0; k < st.n_links; k++) {
			const struct route_link *l = &st.links[k];
			if (!(l->flags & 0x1 /* IFF_UP */) || strcmp(l->kind, "veth"))
				continue;
			/* IF_OPER_UP is 6, IF_OPER_LOWERLAYERDOWN 3, IF_OPER_DOWN 2 */
			if (l->carrier ? l->operstate != 6 : l->operstate != 3 && l->operstate != 2) {
				settled = false;
				if (getenv("CG_ROUTE_DIFF_DEBUG"))
					fprintf(stderr, "settle: %s carrier %d operstate %u\n", l->name, l->carrier, l->operstate);
			}
		}
		if (settled)
			return;
		usleep(50 * 1000);
	}
}

/* The local route of a new IPv6 address is inserted by addrconf's work
 * queue, a moment after `ip addr add` returns; a dump taken before would
 * miss it. Wait until every usable IPv6 address has its local route. */
static void addrs_settle(void)
{
	for (int i = 0; i < 100; i++) {
		_cleanup_route_state_ struct route_state st;
		bool settled = true;

		route_state_init(&st);
		if (route_state_collect(&st) < 0)
			return;
		for (size_t a = 0; a < st.n_addrs && settled; a++) {
			const struct route_addr *x = &st.addrs[a];
			bool found = false;
			if (x->family != AF_INET6 || (x->flags & 0x40 /* IFA_F_TENTATIVE */))
				continue;
			for (size_t r = 0; r < st.n_routes && !found; r++) {
				const struct route_entry *e = &st.routes[r];
				struct cg_prefix dst = route_entry_dst(e);
				found = e->family == AF_INET6 && e->table == 255 && e->type == RTN_LOCAL &&
					e->dst_len == 128 && addr_equal(&dst.addr, &x->local);
			}
			settled = found;
		}
		if (settled)
			return;
		usleep(20 * 1000);
	}
}

/* Phases: the first states never add a rule (the kernel's shortcut with
 * local+main merged), the next ones also use table default, then anything. */
static void world_generate(struct world *w, int state, int n_states)
{
	bool plain = state < n_states / 30 + 1;
	bool plain_default = !plain && state < 2 * (n_states / 30 + 1);

	w->n_prefixes4 = w->n_prefixes6 = 0;
	scripts_open();
	world_links(w);
	world_addrs(w);
	world_nexthops(w, b4, 4);
	world_nexthops(w, b6, 6);
	if (w->has_ts)
		world_tailscale_table(w);
	for (unsigned i = 0, n = 3 + test_rnd(25); i < n; i++)
		world_route(w, 4);
	for (unsigned i = 0, n = 2 + test_rnd(15); i < n; i++)
		world_route(w, 6);
	/* Neighbour entries of IPv6 gateways: a FAILED one is passed over
	 * while forwarding is off. */
	for (int i = 0; i < w->n_eth; i++)
		for (unsigned g = 0xf0; g < 0xf8; g++)
			if (test_chance(25)) {
				char n[16];
				unsigned kind = test_rnd(3);
				fprintf(b6, "neigh replace 2001:db8:%d::%x dev %s nud %s%s\n", w->lan[i], g,
					eth_name(i, n), kind == 0 ? "stale" : kind == 1 ? "reachable" : "failed",
					kind < 2 ? " lladdr 02:00:00:00:00:01" : "");
			}
	if (!plain && !plain_default) {
		/* At least one rule: a later state with only the default rules
		 * cannot tell the kernel's shortcut apart (flagged uncertain). */
		world_rule(w, 4);
		if (w->has_ts && test_chance(70)) {
			world_tailscale_rules(w, b4);
			if (test_chance(50))
				world_tailscale_rules(w, b6);
		}
		for (unsigned i = 0, n = test_rnd(10); i < n; i++)
			world_rule(w, 4);
		for (unsigned i = 0, n = test_rnd(6); i < n; i++)
			world_rule(w, 6);
	}
	scripts_close();
	if (plain || plain_default) {
		/* No table default in the first phase (it would come to exist). */
		if (plain) {
			char *p;
			while ((p = strstr(script_v4, "table default")))
				memcpy(p, "table main   ", 13);
		}
	}
}

/* ---- packets -------------------------------------------------------------- */

static void random_in_prefix(const char *prefix, int family, struct cg_addr *out)
{
	struct cg_prefix p;
	unsigned bits = (unsigned)addr_family_bits(family);

	if (prefix_parse(prefix, &p) < 0)
		return;
	*out = p.addr;
	for (unsigned i = p.len; i < bits; i++)
		if (test_chance(i + 8 >= bits || i > p.len + 8u ? 50 : 10))
			out->bytes[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

static void packet_generate(const struct world *w, const struct route_state *st, int family,
			    struct route_packet *p)
{
	static const char *const dst4[] = {
		"100.100.2.136", "100.100.2.138", "100.100.100.200", "100.100.3.1", "100.64.1.1", "100.127.0.1",
		"10.1.2.3", "10.1.9.9", "10.2.0.1", "8.8.8.8", "1.1.1.1", "172.16.5.5", "127.0.0.1", "127.1.2.3",
		"192.168.0.255", "10.255.255.1", "100.101.102.103",
	};
	static const char *const dst6[] = {
		"2001:db8:1:2::136", "2001:db8::1", "2001:db8:1::5", "fd7a:115c:a1e0::53", "fd7a:115c:a1e0::1",
		"2606:4700::1111", "64:ff9b::808:808", "fd00:1::5", "::1", "2001:db8:10::1",
		"fe80::1", "fe80::99",
	};
	char n[16];

	*p = (struct route_packet){ 0 };
	if (family == 4) {
		if (test_chance(40) && w->n_prefixes4)
			random_in_prefix(w->prefixes4[test_rnd((uint32_t)w->n_prefixes4)], AF_INET, &p->dst);
		else if (test_chance(25) && w->n_eth) {
			char a[24];
			snprintf(a, sizeof(a), "192.168.%d.%u", w->lan[test_rnd((uint32_t)w->n_eth)],
				 PICK(((unsigned[]){ 77, 250, 255, 1 })));
			addr_parse(a, &p->dst);
		}
		else if (test_chance(15) && w->n_addrs4)
			addr_parse(w->addrs4[test_rnd((uint32_t)w->n_addrs4)], &p->dst);
		else
			addr_parse(PICK(dst4), &p->dst);
	} else {
		if (test_chance(40) && w->n_prefixes6)
			random_in_prefix(w->prefixes6[test_rnd((uint32_t)w->n_prefixes6)], AF_INET6, &p->dst);
		else if (test_chance(15) && w->n_addrs6)
			addr_parse(w->addrs6[test_rnd((uint32_t)w->n_addrs6)], &p->dst);
		else
			addr_parse(PICK(dst6), &p->dst);
	}
	if (!p->dst.family)
		addr_parse(family == 4 ? "8.8.8.8" : "2001:db8::99", &p->dst);

	if (test_chance(25)) {
		/* An arriving packet: from outside, on one of the devices. */
		const char *dev = test_chance(10) && w->has_ts ? "tailscale0" :
				  test_chance(15) ? "eth0p" : eth_name((int)test_rnd((uint32_t)w->n_eth), n);
		const struct route_link *l = route_state_link_by_name(st, dev);
		if (l)
			p->iif = l->ifindex;
		if (family == 4)
			addr_parse(PICK(((const char *[]){ "100.100.2.136", "8.8.4.4", "192.168.0.254",
							   "10.1.2.3", "100.64.5.5", "172.16.0.9" })), &p->src);
		else
			addr_parse(PICK(((const char *[]){ "2001:db8::fe", "2001:db8:1:2::9", "fd7a:115c:a1e0::9",
							   "2606:4700::1" })), &p->src);
		if (test_chance(15) && (family == 4 ? w->n_addrs4 : w->n_addrs6))
			addr_parse(family == 4 ? w->addrs4[test_rnd((uint32_t)w->n_addrs4)] :
						 w->addrs6[test_rnd((uint32_t)w->n_addrs6)], &p->src);
		if (test_chance(10))
			p->src = (struct cg_addr){ 0 };
	} else {
		if (test_chance(30) && (family == 4 ? w->n_addrs4 : w->n_addrs6))
			addr_parse(family == 4 ? w->addrs4[test_rnd((uint32_t)w->n_addrs4)] :
						 w->addrs6[test_rnd((uint32_t)w->n_addrs6)], &p->src);
		else if (test_chance(5))
			addr_parse(family == 4 ? "203.0.113.9" : "2001:db8:77::9", &p->src);
		if (test_chance(12)) {
			const struct route_link *l = route_state_link_by_name(st, test_chance(30) && w->has_ts ?
									      "tailscale0" : eth_name((int)test_rnd((uint32_t)w->n_eth), n));
			if (l)
				p->oif = l->ifindex;
		}
	}
	if (test_chance(50))
		p->mark = PICK(((uint32_t[]){ 0x80000, 0x80000, 0x40000, 0x1, 0x100, 0x80001, 0xff0000 }));
	if (test_chance(30)) {
		p->uid_set = true;
		p->uid = PICK(((uint32_t[]){ 0, 500, 1000, 1500, 65534 }));
	}
	if (test_chance(35)) {
		p->ipproto = PICK(((uint8_t[]){ 6, 17, 1 }));
		if (family == 6 && p->ipproto == 1)
			p->ipproto = 58;
		if (p->ipproto == 6 || p->ipproto == 17) {
			p->sport = PICK(((uint16_t[]){ 53, 1500, 40000, 443 }));
			p->dport = PICK(((uint16_t[]){ 53, 1500, 443, 80 }));
		}
	}
}

static void packet_print(FILE *f, const struct route_state *st, const struct route_packet *p)
{
	char a[CG_ADDRSTRLEN], n[IFNAMSIZ + 8];

	fprintf(f, "ip route get %s", addr_to_string(&p->dst, a));
	if (p->src.family)
		fprintf(f, " from %s", addr_to_string(&p->src, a));
	if (p->iif)
		fprintf(f, " iif %s", route_ifname(st, p->iif, n));
	if (p->oif)
		fprintf(f, " oif %s", route_ifname(st, p->oif, n));
	if (p->mark)
		fprintf(f, " mark 0x%x", p->mark);
	if (p->uid_set)
		fprintf(f, " uid %u", p->uid);
	if (p->ipproto)
		fprintf(f, " ipproto %u", p->ipproto);
	if (p->sport)
		fprintf(f, " sport %u", p->sport);
	if (p->dport)
		fprintf(f, " dport %u", p->dport);
	fputc('\n', f);
}

static void result_print(FILE *f, const char *who, const struct route_state *st, const struct route_result *r)
{
	char a[CG_ADDRSTRLEN], g[CG_ADDRSTRLEN], s[CG_ADDRSTRLEN], n[IFNAMSIZ + 8], pf[CG_ADDRSTRLEN];

	fprintf(f, "  %-7s error=%d(%s) type=%s table=%u prefix=%s dev=%s gw=%s src=%s rule=%d uncertain=0x%x %s%s\n",
		who, r->error, r->error ? strerror(-r->error) : "-", route_type_to_string(r->type), r->table,
		r->have_prefix ? prefix_to_string(&r->prefix, pf) : "-", r->ifindex ? route_ifname(st, r->ifindex, n) : "-",
		addr_to_string(&r->gateway, g), addr_to_string(&r->source, s),
		r->rule >= 0 ? (int)st->rules[r->rule].priority : -1, r->uncertain, r->reason ? r->reason : "",
		r->uncertain_why ? r->uncertain_why : "");
	(void)a;
}

/* ---- main ------------------------------------------------------------------- */

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 0) : def;
}

int main(int argc, char *argv[])
{
	uint64_t seed = env_u64("CG_ROUTE_DIFF_SEED", (uint64_t)time(NULL) ^ (uint64_t)getpid());
	long cases = (long)env_u64("CG_ROUTE_DIFF_CASES", 2000);
	long only_state = -1;
	bool verbose = false, keep = false; /* keep: leave the last state installed (debugging) */
	long done = 0, disagree = 0, uncertain = 0, errors = 0, states = 0, input = 0, v6 = 0;
	long step_count[ROUTE_STEP_DECIDED + 1] = { 0 }, outcome_count[4] = { 0 }, custom_rule_decided = 0;
	struct world w = { 0 }; /* a fresh namespace has the default rules */
	struct timespec t0, t1;
	int c;

	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' }, { "cases", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 'k' }, { "verbose", no_argument, NULL, 'v' },
		{ "keep", no_argument, NULL, 'K' }, { 0 },
	};
	while ((c = getopt_long(argc, argv, "s:c:k:v", opts, NULL)) != -1) {
		switch (c) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'c': cases = strtol(optarg, NULL, 0); break;
		case 'k': only_state = strtol(optarg, NULL, 0); break;
		case 'v': verbose = true; break;
		case 'K': keep = true; break;
		default: return 99;
		}
	}
	/* Never touch the machine's own network namespace. */
	if (!test_in_own_netns()) {
		fprintf(stderr, "route-diff: refusing to run outside a test network namespace "
				"(run tests/kernel/route-diff.sh)\n");
		return 99;
	}
	cg_log_set_level(CG_LOG_ERR);
	printf("route-diff: seed %" PRIu64 ", %ld cases\n", seed, cases);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	int n_states = (int)((cases + PACKETS_PER_STATE - 1) / PACKETS_PER_STATE);
	for (int state = 0; state < n_states; state++) {
		_cleanup_route_state_ struct route_state st;
		uint64_t state_seed = seed ^ ((uint64_t)state * 0x100000001b3ULL);

		route_state_init(&st);
		/* Each state draws from its own stream: --state K reproduces it. */
		test_rng_state = state_seed;
		test_splitmix(&test_rng_state);
		if (only_state >= 0 && state != only_state) {
			/* Keep the phase (rules never added) of earlier states honest. */
			if (state < only_state)
				continue;
			break;
		}
		world_reset(&w);
		world_generate(&w, state, n_states);
		world_sysctls(&w);
		if (run_batch("", script_any) < 0) {
			fprintf(stderr, "route-diff: cannot run ip -batch\n");
			return 99;
		}
		links_settle();
		if (run_batch("-4", script_v4) < 0 || run_batch("-6", script_v6) < 0) {
			fprintf(stderr, "route-diff: cannot run ip -batch\n");
			return 99;
		}
		addrs_settle();
		if (verbose || only_state >= 0)
			printf("--- state %d script:\n%s%s-6:\n%s", state, script_any, script_v4, script_v6);
		if (route_state_collect(&st) < 0) {
			fprintf(stderr, "route-diff: collecting state %d failed\n", state);
			return 99;
		}
		states++;
		if (verbose || only_state >= 0)
			printf("--- state %d: %zu links, %zu addresses, %zu rules, %zu routes\n", state, st.n_links,
			       st.n_addrs, st.n_rules, st.n_routes);
		for (int k = 0; k < PACKETS_PER_STATE && done < cases; k++) {
			struct route_packet p;
			struct route_result sim, kern;
			char why[256];
			int family = test_chance(60) ? 4 : 6;

			packet_generate(&w, &st, family, &p);
			if (route_lookup(&st, &p, &sim) < 0 || route_lookup_kernel(&st, &p, &kern) < 0) {
				fprintf(stderr, "route-diff: lookup failed (state %d case %d)\n", state, k);
				errors++;
				continue;
			}
			done++;
			for (unsigned i = 0; i < sim.n_steps; i++)
				step_count[sim.steps[i].kind]++;
			outcome_count[sim.error ? 0 : sim.type == RTN_LOCAL ? 2 : sim.type == RTN_BROADCAST ? 3 : 1]++;
			if (sim.rule >= 0 && st.rules[sim.rule].priority != 0 && st.rules[sim.rule].priority < 32766)
				custom_rule_decided++;
			input += p.iif != 0;
			v6 += family == 6;
			if (sim.uncertain)
				uncertain++;
			if (verbose) {
				packet_print(stdout, &st, &p);
				result_print(stdout, "lookup", &st, &sim);
				result_print(stdout, "kernel", &st, &kern);
			}
			if (route_result_agrees(&sim, &kern, why, sizeof(why)))
				continue;
			disagree++;
			printf("DISAGREE seed=%" PRIu64 " state=%d case=%d: %s\n  ", seed, state, k, why);
			packet_print(stdout, &st, &p);
			result_print(stdout, "lookup", &st, &sim);
			result_print(stdout, "kernel", &st, &kern);
			if (disagree <= 10) {
				printf("  state script:\n%s%s-6:\n%s", script_any, script_v4, script_v6);
				fflush(stdout);
				run("ip -d rule; ip -6 rule; ip route show table all; ip -6 route show table all; ip nexthop");
			}
			printf("  reproduce: tests/kernel/route-diff.sh with CG_ROUTE_DIFF_SEED=%" PRIu64
			       " CG_ROUTE_DIFF_CASES=%ld (state %d: route-diff --seed %" PRIu64 " --state %d -v)\n",
			       seed, cases, state, seed, state);
		}
		scripts_free();
		if (getenv("CG_ROUTE_DIFF_UNTIL") && state == atoi(getenv("CG_ROUTE_DIFF_UNTIL"))) {
			keep = true; /* debugging: stop here with the state installed */
			break;
		}
	}
	if (!keep)
		world_remove(&w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("route-diff: seed %" PRIu64 ": %ld cases (%ld IPv6, %ld arriving) over %ld states in %.1f s: "
	       "%ld disagreements, %ld uncertain (%.1f%%), %ld lookup errors\n",
	       seed, done, v6, input, states, secs, disagree, uncertain, done ? 100.0 * (double)uncertain / (double)done : 0.0,
	       errors);
	printf("route-diff: outcomes: %ld routed, %ld local, %ld broadcast, %ld errors; %ld decided by a "
	       "custom rule; rule steps: %ld no-match, %ld goto, %ld nop, %ld no-route, %ld throw, "
	       "%ld suppressed\n", outcome_count[1], outcome_count[2], outcome_count[3], outcome_count[0],
	       custom_rule_decided, step_count[ROUTE_STEP_NO_MATCH], step_count[ROUTE_STEP_GOTO],
	       step_count[ROUTE_STEP_NOP], step_count[ROUTE_STEP_MISS], step_count[ROUTE_STEP_THROW],
	       step_count[ROUTE_STEP_SUPPRESSED]);
	if (errors && !done)
		return 99;
	return disagree || errors ? 1 : 0;
}
