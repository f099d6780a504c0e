/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The DHCP lease parsers and discover_dhcp_leases() over a host root of
 * lease files: what each client's file yields (DHCP server, DNS, NTP), in
 * scope only; expired leases left out; malformed files a note naming the
 * file and line, never a crash. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgnatcheck/addr.h"
#include "cgnatcheck/hostfacts.h"
#include "../../src/collect/discover-leases.h"
#include "../lib/test.h"

#define NOW 1700000000

static struct cg_prefix ranges[2];
static struct discover_scope scope = { .ranges = ranges, .n_ranges = 2 };

/* "role addr proto/port<-local origin" for every entry, "; "-separated */
static const char *dump(const struct discovered_list *l)
{
	static char out[4096];
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < l->n && o < sizeof(out); i++) {
		const struct discovered *d = &l->v[i];
		char buf[CG_ADDRSTRLEN];
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s %s %s%s/%u", i ? "; " : "", d->role,
				      addr_to_string(&d->addr, buf),
				      d->protos == (CG_PROTO_UDP | CG_PROTO_TCP) ? "udp+tcp" :
				      d->protos == CG_PROTO_UDP ? "udp" : "tcp",
				      "", d->port);
		if (d->local_port && o < sizeof(out))
			o += (size_t)snprintf(out + o, sizeof(out) - o, "<-%u", d->local_port);
		if (o < sizeof(out))
			o += (size_t)snprintf(out + o, sizeof(out) - o, " %s", d->origin);
	}
	return out;
}

static const char *notes(const struct discovered_list *l)
{
	static char out[4096];
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < l->n_notes && o < sizeof(out); i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? " | " : "", l->notes[i]);
	return out;
}

static void parse(enum lease_format f, const char *path, const char *ifname, int64_t mtime, const void *data,
		  size_t size, struct discovered_list *l)
{
	struct lease_ctx c = { .path = path, .ifname = ifname, .now = NOW, .mtime = mtime, .scope = &scope, .l = l };
	leases_parse(f, &c, data, size);
}

static void parse_text(enum lease_format f, const char *path, const char *ifname, const char *text,
		       struct discovered_list *l)
{
	parse(f, path, ifname, 0, text, strlen(text), l);
}

static void test_networkd(void)
{
	struct discovered_list l = { 0 };

	parse_text(LEASE_NETWORKD, "/run/systemd/netif/leases/2", "eth0",
		   "# This is private data. Do not parse.\n"
		   "ADDRESS=100.100.128.50\n"
		   "NETMASK=255.255.192.0\n"
		   "ROUTER=100.100.128.1\n"
		   "SERVER_ADDRESS=100.100.128.1\n"
		   "DNS=100.100.2.136 8.8.8.8 100.100.2.138\n"
		   "NTP=100.100.61.88\n"
		   "LIFETIME=3600\n"
		   "CLIENTID=ffb6220feb00020000ab116d8f4a66ac2b65b0\n",
		   &l);
	CHECK_STR(dump(&l), "dhcp 100.100.128.1 udp/67<-68 dhcp-lease:eth0; "
			    "dns 100.100.2.136 udp+tcp/53 dhcp-lease:eth0; dns 100.100.2.138 udp+tcp/53 dhcp-lease:eth0; "
			    "ntp 100.100.61.88 udp/123 dhcp-lease:eth0");
	CHECK(l.n_notes == 0);
	CHECK_STR(l.v[0].ifname, "eth0");
	discovered_free(&l);

	/* a server outside the range: nothing; malformed lines noted with their line */
	parse_text(LEASE_NETWORKD, "lease", "eth1",
		   "SERVER_ADDRESS=192.168.1.1\n"
		   "garbage line\n"
		   "DNS=100.100.2.136 not-an-address\n"
		   "SERVER_ADDRESS=\"100.100.2\"\n",
		   &l);
	CHECK_STR(dump(&l), "dns 100.100.2.136 udp+tcp/53 dhcp-lease:eth1");
	CHECK_STR(notes(&l), "lease:2: not KEY=VALUE: 'garbage line' | "
			     "lease:3: DNS: 'not-an-address' is not an address | "
			     "lease:4: SERVER_ADDRESS: '100.100.2' is not an address");
	discovered_free(&l);

	/* NetworkManager's internal client keeps only the address: said when it is in range */
	parse_text(LEASE_NETWORKD, "internal-x-eth0.lease", "eth0",
		   "# This is private data. Do not parse.\nADDRESS=100.100.128.50\n", &l);
	CHECK_STR(dump(&l), "");
	CHECK_STR(notes(&l), "internal-x-eth0.lease: the lease of eth0 (100.100.128.50) does not name its DHCP "
			     "server: its renewals are not checked");
	discovered_free(&l);

	/* expired by its file's age (NetworkManager's kept lease) */
	const char *old = "SERVER_ADDRESS=100.100.128.1\nLIFETIME=600\n";
	parse(LEASE_NETWORKD, "nm.lease", "eth0", NOW - 601, old, strlen(old), &l);
	CHECK(l.n == 0 && l.n_notes == 0);
	parse(LEASE_NETWORKD, "nm.lease", "eth0", NOW - 599, old, strlen(old), &l);
	CHECK(l.n == 1);
	discovered_free(&l);

	/* a flood of bad lines: five notes and a count */
	char many[2000] = "";
	for (int i = 0; i < 50; i++)
		strcat(many, "x\n");
	parse_text(LEASE_NETWORKD, "many", "eth0", many, &l);
	CHECK(l.n_notes == LEASE_MAX_NOTES + 1);
	CHECK_STR(l.notes[LEASE_MAX_NOTES], "many: 45 more problems");
	discovered_free(&l);
}

static const char DHCLIENT[] =
	"default-duid \"\\000\\001\\000\\001-\\342\\023\\000\\021\\\"3DU\";\n"
	"lease {\n"                                          /* 2: expired */
	"  interface \"eth0\";\n"
	"  fixed-address 100.100.128.40;\n"
	"  option dhcp-server-identifier 100.100.128.9;\n"
	"  expire 2 2023/11/14 22:00:00;\n"                  /* < NOW (22:13:20) */
	"}\n"
	"lease {\n"                                          /* 8: current */
	"  interface \"eth0\";\n"
	"  fixed-address 100.100.128.50;\n"
	"  option subnet-mask 255.255.192.0;\n"
	"  option routers 100.100.128.1;\n"
	"  option dhcp-lease-time 3600;\n"
	"  option dhcp-message-type 5;\n"
	"  option domain-name-servers 100.100.128.1,100.100.2.136;\n"
	"  option dhcp-server-identifier 100.100.128.1;\n"
	"  option ntp-servers 100.100.61.88;\n"
	"  option domain-name \"a;b{c}\";  # a string with the syntax in it\n"
	"  renew 2 2023/11/14 22:30:00;\n"
	"  rebind 2 2023/11/14 22:50:00;\n"
	"  expire 2 2023/11/14 23:00:00;\n"
	"}\n"
	"lease {\n"                                          /* 24: another interface, expire epoch */
	"  interface \"eth1\";\n"
	"  option dhcp-server-identifier 100.99.0.1;\n"
	"  expire epoch 1700003600; # Tue Nov 14 23:13:20 2023\n"
	"}\n"
	"lease {\n"                                          /* 29: eth1 again, later, never expires */
	"  interface \"eth1\";\n"
	"  option dhcp-server-identifier 100.99.0.2;\n"
	"  expire never;\n"
	"}\n";

static void test_dhclient(void)
{
	struct discovered_list l = { 0 };

	parse_text(LEASE_DHCLIENT, "dhclient.leases", NULL, DHCLIENT, &l);
	CHECK_STR(dump(&l), "dhcp 100.100.128.1 udp/67<-68 dhcp-lease:eth0; "
			    "dns 100.100.128.1 udp+tcp/53 dhcp-lease:eth0; dns 100.100.2.136 udp+tcp/53 dhcp-lease:eth0; "
			    "ntp 100.100.61.88 udp/123 dhcp-lease:eth0; "
			    "dhcp 100.99.0.2 udp/67<-68 dhcp-lease:eth1");
	CHECK_STR(notes(&l), "");
	discovered_free(&l);

	/* every lease expired: nothing */
	parse_text(LEASE_DHCLIENT, "f", "eth0",
		   "lease { option dhcp-server-identifier 100.100.128.1; expire 1 2023/11/13 00:00:00; }", &l);
	CHECK(l.n == 0 && l.n_notes == 0);
	discovered_free(&l);

	/* no interface statement: the file's name gives it */
	parse_text(LEASE_DHCLIENT, "dhclient.eth7.leases", "eth7",
		   "lease { option dhcp-server-identifier 100.100.128.1; }", &l);
	CHECK_STR(dump(&l), "dhcp 100.100.128.1 udp/67<-68 dhcp-lease:eth7");
	discovered_free(&l);
	/* and nothing gives it: the file */
	parse_text(LEASE_DHCLIENT, "/x/dhclient.leases", NULL, "lease { option dhcp-server-identifier 100.100.128.1; }",
		   &l);
	CHECK_STR(dump(&l), "dhcp 100.100.128.1 udp/67<-68 dhcp-lease:dhclient.leases");
	CHECK_STR(l.v[0].ifname, "");
	discovered_free(&l);

	/* malformed: bad address, bad date, a block that does not end */
	parse_text(LEASE_DHCLIENT, "bad.leases", "eth0",
		   "lease {\n"
		   "  interface \"eth0\";\n"
		   "  option dhcp-server-identifier 100.100.128;\n"
		   "  option domain-name-servers 100.100.2.136, 100.100.2.138;\n"
		   "  expire 2 2023/13/14 23:00:00;\n"
		   "}\n"
		   "lease {\n"
		   "  interface \"eth1\";\n"
		   "  option dhcp-server-identifier 100.100.128.7;\n",
		   &l);
	CHECK_STR(dump(&l), "dns 100.100.2.136 udp+tcp/53 dhcp-lease:eth0; dns 100.100.2.138 udp+tcp/53 dhcp-lease:eth0");
	CHECK_STR(notes(&l), "bad.leases:3: dhcp-server-identifier: '100.100.128' is not an address | "
			     "bad.leases:5: expire: not a date (the lease is taken as current) | "
			     "bad.leases:7: a block that does not end (the file ends first)");
	discovered_free(&l);

	/* a string that does not end; a stray '}'; nesting too deep */
	parse_text(LEASE_DHCLIENT, "s", "eth0", "lease {\n interface \"eth0;\n}\n", &l);
	CHECK_STR(notes(&l), "s:2: a string that does not end | s:4: the rest of the file is not read");
	discovered_free(&l);
	parse_text(LEASE_DHCLIENT, "s", "eth0", "}\nlease { option dhcp-server-identifier 100.100.128.1; }\n", &l);
	CHECK_STR(notes(&l), "s:1: a '}' that closes nothing");
	CHECK(l.n == 1);
	discovered_free(&l);
	parse_text(LEASE_DHCLIENT, "s", "eth0", "a{b{c{d{e{f{g{h{i{j{k{}}}}}}}}}}}", &l);
	CHECK_STR(notes(&l), "s:1: blocks nested more than 8 deep: the rest is not read | "
			     "s:1: the rest of the file is not read");
	discovered_free(&l);

	/* dhclient -6: the unicast option, name and SNTP servers, expiry from
	 * the longest-lived address */
	const char *six =
		"lease6 {\n"
		"  interface \"eth0\";\n"
		"  ia-na 1e:00:00:00 {\n"
		"    starts 1699990000;\n"
		"    renew 1800;\n"
		"    rebind 2880;\n"
		"    iaaddr fd7a:115c:a1e0::100 {\n"
		"      starts 1699999000;\n"
		"      preferred-life 4500;\n"
		"      max-life 7200;\n"
		"    }\n"
		"  }\n"
		"  option dhcp6.client-id 0:1:0:1:2d:5e:b0:3c:2:0:0:0:0:1;\n"
		"  option dhcp6.server-id 0:1:0:1:2d:5e:b0:3c:2:0:0:0:0:2;\n"
		"  option dhcp6.unicast fd7a:115c:a1e0::1;\n"
		"  option dhcp6.name-servers fd7a:115c:a1e0::53, 2001:db8::53;\n"
		"  option dhcp6.sntp-servers fd7a:115c:a1e0::123;\n"
		"}\n";
	parse_text(LEASE_DHCLIENT, "dhclient6.eth0.leases", "eth0", six, &l);
	CHECK_STR(dump(&l), "dhcp fd7a:115c:a1e0::1 udp/547<-546 dhcp-lease:eth0; "
			    "dns fd7a:115c:a1e0::53 udp+tcp/53 dhcp-lease:eth0; ntp fd7a:115c:a1e0::123 udp/123 dhcp-lease:eth0");
	CHECK_STR(notes(&l), "");
	discovered_free(&l);
	char expired6[2048];
	snprintf(expired6, sizeof(expired6), "%s", six);
	memcpy(strstr(expired6, "max-life 7200"), "max-life 0100", 13);
	parse_text(LEASE_DHCLIENT, "dhclient6.eth0.leases", "eth0", expired6, &l);
	CHECK(l.n == 0 && l.n_notes == 0);
	discovered_free(&l);

	/* more servers than a lease keeps: noted */
	char big[4096] = "lease { interface \"eth0\"; option domain-name-servers ";
	for (int i = 0; i < 20; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "%s100.100.2.%d", i ? "," : "", i + 1);
	strcat(big, "; }");
	parse_text(LEASE_DHCLIENT, "big", "eth0", big, &l);
	CHECK(l.n == LEASE_MAX_SERVERS);
	CHECK_STR(notes(&l), "big:1: the lease of eth0 names more than 16 DNS servers: only the first 16 are checked");
	discovered_free(&l);
}

/* a DHCPACK as dhcpcd stores it */
static size_t bootp(uint8_t *m, const uint8_t *opts, size_t n)
{
	memset(m, 0, 240);
	m[0] = 2, m[1] = 1, m[2] = 6;
	m[16] = 100, m[17] = 100, m[18] = 128, m[19] = 50; /* yiaddr */
	m[236] = 99, m[237] = 130, m[238] = 83, m[239] = 99;
	memcpy(m + 240, opts, n);
	return 240 + n;
}

static void test_dhcpcd(void)
{
	struct discovered_list l = { 0 };
	uint8_t m[600];
	static const uint8_t opts[] = {
		53, 1, 5,                            /* ACK */
		54, 4, 100, 100, 128, 1,             /* server identifier */
		51, 4, 0, 0, 0x0e, 0x10,             /* 3600 s */
		6, 8, 100, 100, 2, 136, 1, 1, 1, 1,  /* DNS */
		0, 0,                                /* pads */
		42, 4, 100, 100, 61, 88,             /* NTP */
		255,
	};
	size_t n = bootp(m, opts, sizeof(opts));

	parse(LEASE_DHCPCD, "eth0.lease", "eth0", NOW - 100, m, n, &l);
	CHECK_STR(dump(&l), "dhcp 100.100.128.1 udp/67<-68 dhcp-lease:eth0; dns 100.100.2.136 udp+tcp/53 dhcp-lease:eth0; "
			    "ntp 100.100.61.88 udp/123 dhcp-lease:eth0");
	CHECK_STR(notes(&l), "");
	discovered_free(&l);
	/* older than its lease time: expired */
	parse(LEASE_DHCPCD, "eth0.lease", "eth0", NOW - 3601, m, n, &l);
	CHECK(l.n == 0 && l.n_notes == 0);
	discovered_free(&l);
	/* cut short: the option that runs past the end is named */
	parse(LEASE_DHCPCD, "eth0.lease", "eth0", 0, m, 240 + 20, &l);
	CHECK_STR(notes(&l), "eth0.lease: option 6 at offset 255 runs past the end");
	CHECK(l.n == 0);
	discovered_free(&l);
	parse(LEASE_DHCPCD, "eth0.lease", "eth0", 0, m, 100, &l);
	CHECK_STR(notes(&l), "eth0.lease: 100 bytes, too short for a DHCP message (240)");
	discovered_free(&l);
	m[236] = 0;
	parse(LEASE_DHCPCD, "eth0.lease", "eth0", 0, m, n, &l);
	CHECK_STR(notes(&l), "eth0.lease: no DHCP magic cookie at offset 236");
	discovered_free(&l);

	/* option overload: the server identifier in the file field */
	static const uint8_t ov[] = { 52, 1, 1, 255 };
	n = bootp(m, ov, sizeof(ov));
	static const uint8_t in_file[] = { 54, 4, 100, 100, 128, 2, 255 };
	memcpy(m + 108, in_file, sizeof(in_file));
	parse(LEASE_DHCPCD, "eth0.lease", "eth0", 0, m, n, &l);
	CHECK_STR(dump(&l), "dhcp 100.100.128.2 udp/67<-68 dhcp-lease:eth0");
	discovered_free(&l);

	/* DHCPv6: REPLY with IA_NA, server unicast, DNS, NTP (suboption) */
	uint8_t r[256];
	size_t k = 0;
#define PUT16(v) (r[k++] = (uint8_t)((v) >> 8), r[k++] = (uint8_t)(v))
#define PUT32(v) (PUT16((v) >> 16), PUT16((v)&0xffff))
#define PUTA6(last) (memcpy(r + k, "\xfd\x7a\x11\x5c\xa1\xe0\0\0\0\0\0\0\0\0\0", 15), r[k + 15] = (last), k += 16)
	r[k++] = 7, r[k++] = 1, r[k++] = 2, r[k++] = 3;
	PUT16(3), PUT16(12 + 4 + 24), PUT32(1), PUT32(1800), PUT32(2880);
	PUT16(5), PUT16(24), PUTA6(0x64), PUT32(4500), PUT32(7200);
	PUT16(12), PUT16(16), PUTA6(1);
	PUT16(23), PUT16(32), PUTA6(0x53), memcpy(r + k, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x53", 16), k += 16;
	PUT16(56), PUT16(20), PUT16(1), PUT16(16), PUTA6(0x7b);
	parse(LEASE_DHCPCD6, "eth0.lease6", "eth0", NOW - 100, r, k, &l);
	CHECK_STR(dump(&l), "dhcp fd7a:115c:a1e0::1 udp/547<-546 dhcp-lease:eth0; dns fd7a:115c:a1e0::53 udp+tcp/53 "
			    "dhcp-lease:eth0; ntp fd7a:115c:a1e0::7b udp/123 dhcp-lease:eth0");
	CHECK_STR(notes(&l), "");
	discovered_free(&l);
	parse(LEASE_DHCPCD6, "eth0.lease6", "eth0", NOW - 7201, r, k, &l);
	CHECK(l.n == 0 && l.n_notes == 0);
	parse(LEASE_DHCPCD6, "eth0.lease6", "eth0", NOW - 7201, r, k - 3, &l);
	CHECK_STR(notes(&l), "eth0.lease6: option 56 at offset 104 runs past the end");
	discovered_free(&l);
}

/* ---- discover_dhcp_leases() over a host root ------------------------------- */

static char root[256];

static void put(const char *path, const void *data, size_t n)
{
	char full[512];

	snprintf(full, sizeof(full), "%s%s", root, path);
	/* its directories, one by one below the root */
	for (char *p = full + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(full, 0755) < 0 && errno != EEXIST)
			abort();
		*p = '/';
	}
	FILE *f = fopen(full, "wb");
	if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0)
		abort();
}

static void put_text(const char *path, const char *text)
{
	put(path, text, strlen(text));
}

/* makes path (below the root) secs older */
static void age(const char *path, int secs)
{
	char full[512];
	struct timespec t[2];

	snprintf(full, sizeof(full), "%s%s", root, path);
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= secs;
	t[1] = t[0];
	if (utimensat(AT_FDCWD, full, t, 0) < 0)
		abort();
}

static void test_host_root(void)
{
	struct discovered_list l = { 0 };
	char cmd[512], fifo[512];
	uint8_t m[600];
	static const uint8_t opts[] = { 54, 4, 100, 100, 128, 4, 51, 4, 0xff, 0xff, 0xff, 0xff, 255 };

	snprintf(root, sizeof(root), "%s/test-leases.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		abort();
	setenv("CGNATCHECK_HOST_ROOT", root, 1);

	/* nothing there: nothing found, nothing said */
	CHECK(discover_dhcp_leases(&scope, &l) == 0);
	CHECK(l.n == 0 && l.n_notes == 0);

	/* ifindex 1 is lo in every namespace */
	put_text("/run/systemd/netif/leases/1", "SERVER_ADDRESS=100.100.128.11\nDNS=100.100.2.137\n");
	put_text("/run/systemd/netif/leases/999999", "SERVER_ADDRESS=100.100.128.9\n");
	/* the real clock now: the year 2999 */
	char dhclient[sizeof(DHCLIENT)];
	memcpy(dhclient, DHCLIENT, sizeof(DHCLIENT));
	for (char *p = dhclient; (p = strstr(p, "2023/11/14 23:00:00"));)
		memcpy(p, "2999", 4);
	put_text("/var/lib/dhcp/dhclient.eth0.leases", dhclient);
	put_text("/var/lib/dhcp/other.leases", "lease { option dhcp-server-identifier 100.100.128.66; }");
	put_text("/var/lib/dhclient/dhclient--eth3.lease", "lease { option dhcp-server-identifier 100.100.128.3; }");
	put_text("/var/lib/NetworkManager/internal-0b9e8b2b-6a49-4c2a-a8b3-9c0c7ea1b6b5-wlan0.lease",
		 "ADDRESS=100.100.128.51\n");
	put_text("/var/lib/NetworkManager/dhclient-0b9e8b2b-6a49-4c2a-a8b3-9c0c7ea1b6b5-eth5.lease",
		 "lease { option dhcp-server-identifier 100.100.128.5; }");
	put("/var/lib/dhcpcd/eth6.lease", m, bootp(m, opts, sizeof(opts)));
	put_text("/var/lib/dhcpcd/eth6.lease6", "\x07");
	put_text("/var/lib/dhcpcd/duid", "00:01");
	snprintf(fifo, sizeof(fifo), "%s/var/lib/dhcpcd/fifo.lease", root);
	CHECK(mkfifo(fifo, 0600) == 0);
	/* leases left behind: an interface's current one is in the file
	 * written last (dhcpcd's per-SSID files, NetworkManager's per
	 * connection) */
	static const uint8_t cafe[] = { 54, 4, 100, 100, 128, 20, 51, 4, 0xff, 0xff, 0xff, 0xff, 255 };
	static const uint8_t home[] = { 54, 4, 100, 100, 128, 21, 51, 4, 0xff, 0xff, 0xff, 0xff, 255 };
	put("/var/lib/dhcpcd/wlan1-cafe.lease", m, bootp(m, cafe, sizeof(cafe)));
	put("/var/lib/dhcpcd/wlan1-home.lease", m, bootp(m, home, sizeof(home)));
	put_text("/var/lib/NetworkManager/dhclient-11111111-1111-1111-1111-111111111111-eth8.lease",
		 "lease { option dhcp-server-identifier 100.100.128.30; expire never; }");
	put_text("/var/lib/NetworkManager/dhclient-22222222-2222-2222-2222-222222222222-eth8.lease",
		 "lease { option dhcp-server-identifier 100.100.128.31; expire never; }");
	age("/var/lib/dhcpcd/wlan1-cafe.lease", 86400);
	age("/var/lib/NetworkManager/dhclient-11111111-1111-1111-1111-111111111111-eth8.lease", 3600);

	CHECK(discover_dhcp_leases(&scope, &l) == 0);
	CHECK_STR(dump(&l), "dhcp 100.100.128.1 udp/67<-68 dhcp-lease:eth0; dns 100.100.128.1 udp+tcp/53 dhcp-lease:eth0; "
			    "dns 100.100.2.136 udp+tcp/53 dhcp-lease:eth0; ntp 100.100.61.88 udp/123 dhcp-lease:eth0; "
			    "dhcp 100.99.0.2 udp/67<-68 dhcp-lease:eth1; "
			    "dhcp 100.100.128.3 udp/67<-68 dhcp-lease:eth3; "
			    "dhcp 100.100.128.5 udp/67<-68 dhcp-lease:eth5; "
			    "dhcp 100.100.128.4 udp/67<-68 dhcp-lease:eth6; "
			    "dhcp 100.100.128.31 udp/67<-68 dhcp-lease:eth8; "
			    "dhcp 100.100.128.9 udp/67<-68 dhcp-lease:ifindex 999999; "
			    "dhcp 100.100.128.11 udp/67<-68 dhcp-lease:lo; dns 100.100.2.137 udp+tcp/53 dhcp-lease:lo; "
			    "dhcp 100.100.128.21 udp/67<-68 dhcp-lease:wlan1");
	/* the renewal's client: the one that wrote the file (the DNS and NTP
	 * servers it was given serve anyone) */
	static const enum host_client clients[] = {
		HOST_CLIENT_DHCLIENT, HOST_CLIENT_UNKNOWN, HOST_CLIENT_UNKNOWN, HOST_CLIENT_UNKNOWN,
		HOST_CLIENT_DHCLIENT, HOST_CLIENT_DHCLIENT, HOST_CLIENT_NM_DHCLIENT, HOST_CLIENT_DHCPCD,
		HOST_CLIENT_NM_DHCLIENT, HOST_CLIENT_NETWORKD, HOST_CLIENT_NETWORKD, HOST_CLIENT_UNKNOWN,
		HOST_CLIENT_DHCPCD,
	};
	CHECK(l.n == sizeof(clients) / sizeof(clients[0]));
	for (size_t i = 0; i < l.n && i < sizeof(clients) / sizeof(clients[0]); i++)
		CHECK(l.v[i].client == clients[i]);
	/* a networkd lease of a device not here: no device name */
	CHECK_STR(l.v[9].ifname, "");
	CHECK_STR(l.v[10].ifname, "lo");
	char want[2048];
	snprintf(want, sizeof(want),
		 "%s/var/lib/dhcpcd/fifo.lease: not a regular file | "
		 "%s/var/lib/dhcpcd/eth6.lease6: 1 bytes, too short for a DHCPv6 message | "
		 "%s/var/lib/NetworkManager/internal-0b9e8b2b-6a49-4c2a-a8b3-9c0c7ea1b6b5-wlan0.lease: the lease of "
		 "wlan0 (100.100.128.51) does not name its DHCP server: its renewals are not checked",
		 root, root, root);
	CHECK_STR(notes(&l), want);
	discovered_free(&l);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	if (prefix_parse("100.64.0.0/10", &ranges[0]) < 0 || prefix_parse("fd7a:115c:a1e0::/48", &ranges[1]) < 0)
		return 99;
	test_networkd();
	test_dhclient();
	test_dhcpcd();
	test_host_root();
	return test_result();
}
