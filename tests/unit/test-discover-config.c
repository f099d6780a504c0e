/* SPDX-License-Identifier: GPL-2.0-or-later */
/* discover_config() over fixture roots (a temporary directory holding
 * etc/chrony/..., etc/apt/... as a host would): what each program would
 * read becomes an entry in scope with its file and line, what it would not
 * does not, and what cannot be read or resolved is a note. Names go to a
 * resolver of the test's own; the glibc one is asked only for what needs
 * no network (an address literal). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgnatcheck/addr.h"
#include "cgnatcheck/hostfacts.h"
#include "../../src/collect/discover-config-internal.h"
#include "../lib/test.h"

static char root[PATH_MAX / 2];

static void mkdirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	mkdir(buf, 0755);
}

/* writes root/path (directories made) */
static void put(const char *path, const char *text)
{
	char full[PATH_MAX], dir[PATH_MAX];
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", root, path);
	snprintf(dir, sizeof(dir), "%s", full);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	f = fopen(full, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(full);
		exit(99);
	}
}

static void new_root(const char *name)
{
	snprintf(root, sizeof(root), "%s/cgt-discover-config-%d-%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid(), name);
	mkdirs(root);
	setenv("CGNATCHECK_HOST_ROOT", root, 1);
}

static void remove_root(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
}

/* ---- the test's resolver ----------------------------------------------------- */

static char asked[64][128];
static size_t n_asked;
static int resolver_timeout;

static void fake_resolve(const char *const *names, size_t n, int timeout_ms, struct dc_answer *out)
{
	static const struct {
		const char *name;
		int status;
		const char *addrs[3];
	} table[] = {
		{ "ntp.cloud.aliyuncs.com", 0, { "100.100.61.89", "203.0.113.5" } },
		{ "2.debian.pool.ntp.org", 0, { "203.0.113.7" } },
		{ "mirrors.nx.invalid", EAI_NONAME, { NULL } },
		{ "slow.example", DC_RESOLVE_TIMEOUT, { NULL } },
		{ "slow2.example", DC_RESOLVE_TIMEOUT, { NULL } },
		{ "v6.mirror.example", 0, { "fd7a:115c:a1e0::9", "100.100.2.160" } },
	};

	resolver_timeout = timeout_ms;
	for (size_t i = 0; i < n; i++) {
		if (n_asked < 64)
			snprintf(asked[n_asked++], sizeof(asked[0]), "%s", names[i]);
		out[i] = (struct dc_answer){ .status = EAI_NONAME };
		for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
			if (strcmp(table[k].name, names[i]) != 0)
				continue;
			out[i].status = table[k].status;
			out[i].addrs = calloc(3, sizeof(*out[i].addrs));
			for (size_t m = 0; m < 3 && table[k].addrs[m]; m++)
				if (addr_parse(table[k].addrs[m], &out[i].addrs[out[i].n]) == 0)
					out[i].n++;
		}
	}
}

static size_t times_asked(const char *name)
{
	size_t c = 0;

	for (size_t i = 0; i < n_asked; i++)
		c += strcmp(asked[i], name) == 0;
	return c;
}

/* ---- looking at the result ----------------------------------------------------- */

static const struct cg_prefix *scope_ranges(void)
{
	static struct cg_prefix r[2];

	prefix_parse("100.64.0.0/10", &r[0]);
	prefix_parse("fd7a:115c:a1e0::/48", &r[1]);
	return r;
}

static void run(struct discovered_list *l)
{
	struct discover_scope s = { .ranges = scope_ranges(), .n_ranges = 2 };

	memset(l, 0, sizeof(*l));
	n_asked = 0;
	CHECK(discover_config(&s, l) == 0);
}

/* the entry for addr proto/port, or NULL */
static const struct discovered *find(const struct discovered_list *l, const char *addr, unsigned protos,
				     uint16_t port)
{
	struct cg_addr a;

	if (addr_parse(addr, &a) < 0)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (addr_equal(&l->v[i].addr, &a) && l->v[i].protos == protos && l->v[i].port == port)
			return &l->v[i];
	return NULL;
}

static bool has_addr(const struct discovered_list *l, const char *addr)
{
	struct cg_addr a;

	addr_parse(addr, &a);
	for (size_t i = 0; i < l->n; i++)
		if (addr_equal(&l->v[i].addr, &a))
			return true;
	return false;
}

/* a note holding every one of the (NULL-ended) words */
static bool has_note(const struct discovered_list *l, ...)
{
	for (size_t i = 0; i < l->n_notes; i++) {
		va_list ap;
		const char *w;
		bool all = true;
		va_start(ap, l);
		while ((w = va_arg(ap, const char *)))
			if (!strstr(l->notes[i], w))
				all = false;
		va_end(ap);
		if (all)
			return true;
	}
	return false;
}

#define CHECK_ENTRY(l, addr, protos, port, role_, origin_, local)                                      \
	do {                                                                                             \
		const struct discovered *_d = find(l, addr, protos, port);                               \
		CHECK(_d != NULL);                                                                       \
		if (_d) {                                                                                \
			CHECK_STR(_d->role, role_);                                                      \
			CHECK_STR(_d->origin, origin_);                                                  \
			CHECK(_d->local_port == (local));                                                \
			CHECK(!_d->inbound);                                                             \
		} else {                                                                                 \
			fprintf(stderr, "  missing: %s %u/%u\n", addr, protos, port);                    \
		}                                                                                        \
	} while (0)

static void dump(const struct discovered_list *l)
{
	char buf[CG_ADDRSTRLEN];

	for (size_t i = 0; i < l->n; i++)
		fprintf(stderr, "  entry: %s %s %u/%s local %u (%s)\n", l->v[i].role,
			addr_to_string(&l->v[i].addr, buf), l->v[i].port,
			l->v[i].protos == CG_PROTO_UDP ? "udp" : "tcp", l->v[i].local_port, l->v[i].origin);
	for (size_t i = 0; i < l->n_notes; i++)
		fprintf(stderr, "  note: %s\n", l->notes[i]);
}

/* ---- the cases ------------------------------------------------------------------- */

/* every entry's client is c: chronyd asks chrony's servers, timesyncd
 * its own, anyone apt's mirrors */
static bool clients_are(const struct discovered_list *l, enum host_client c)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].client != c)
			return false;
	return l->n > 0;
}

static void test_chrony(void)
{
	struct discovered_list l;

	new_root("chrony");
	put("/etc/chrony/chrony.conf",
	    "# Debian's, and Alibaba's servers\n"                          /* 1 */
	    "! a comment too\n"                                            /* 2 */
	    "pool 2.debian.pool.ntp.org iburst\n"                          /* 3 */
	    "\n"                                                           /* 4 */
	    "server 100.100.61.88 iburst minpoll 4 maxpoll 10\n"           /* 5 */
	    "server ntp.cloud.aliyuncs.com iburst\n"                       /* 6 */
	    "SERVER 100.100.61.90 port 1123 key 5\n"                       /* 7 */
	    "peer 100.100.61.91\n"                                         /* 8 */
	    "server 100.100.61.92 nts\n"                                   /* 9 */
	    "confdir /etc/chrony/conf.d\n"                                 /* 10 */
	    "sourcedir /run/chrony-dhcp /etc/chrony/sources.d\n"           /* 11 */
	    "include /etc/chrony/extra/*.conf\n"                           /* 12 */
	    "acquisitionport 1024\n"                                       /* 13 */
	    "server 192.0.2.1\n"                                           /* 14 */
	    "server bad!host\n"                                            /* 15 */
	    "server\n"                                                     /* 16 */
	    "   server 100.100.61.98 port 70000\n"                         /* 17 */
	    "server [fd7a:115c:a1e0::7b]\n");                              /* 18 */
	put("/etc/chrony/conf.d/10-a.conf", "server 100.100.61.93\n");
	put("/etc/chrony/conf.d/notes.txt", "server 100.100.61.99\n");
	put("/etc/chrony/sources.d/a.sources", "server 100.100.61.94 iburst\nallow all\nserver 100.100.61.95");
	put("/run/chrony-dhcp/eth0.sources", "server 100.100.61.96 iburst\n");
	/* a file of the same name in a later sourcedir is not read */
	put("/etc/chrony/sources.d/eth0.sources", "server 100.100.61.99\n");
	/* includes itself: chronyd stops at 10 levels */
	put("/etc/chrony/extra/x.conf", "server 100.100.61.97\ninclude /etc/chrony/extra/*.conf\n");
	/* the other distributions' place: chronyd reads one of them */
	put("/etc/chrony.conf", "server 100.100.61.100\n");
	discover_config_set_resolver(fake_resolve);
	run(&l);
	dump(&l);
	CHECK_ENTRY(&l, "100.100.61.88", CG_PROTO_UDP, 123, "ntp", "chrony.conf:5", 1024);
	CHECK_ENTRY(&l, "100.100.61.89", CG_PROTO_UDP, 123, "ntp", "chrony.conf:6", 1024);
	CHECK_ENTRY(&l, "100.100.61.90", CG_PROTO_UDP, 1123, "ntp", "chrony.conf:7", 1024);
	CHECK_ENTRY(&l, "100.100.61.91", CG_PROTO_UDP, 123, "ntp", "chrony.conf:8", 123);
	CHECK_ENTRY(&l, "100.100.61.92", CG_PROTO_UDP, 123, "ntp", "chrony.conf:9", 1024);
	CHECK_ENTRY(&l, "100.100.61.92", CG_PROTO_TCP, 4460, "ntp", "chrony.conf:9", 0);
	CHECK_ENTRY(&l, "100.100.61.93", CG_PROTO_UDP, 123, "ntp", "conf.d/10-a.conf:1", 1024);
	CHECK_ENTRY(&l, "100.100.61.94", CG_PROTO_UDP, 123, "ntp", "sources.d/a.sources:1", 1024);
	CHECK_ENTRY(&l, "100.100.61.96", CG_PROTO_UDP, 123, "ntp", "/run/chrony-dhcp/eth0.sources:1", 1024);
	CHECK_ENTRY(&l, "100.100.61.97", CG_PROTO_UDP, 123, "ntp", "extra/x.conf:1", 1024);
	CHECK_ENTRY(&l, "fd7a:115c:a1e0::7b", CG_PROTO_UDP, 123, "ntp", "chrony.conf:18", 1024);
	/* an unterminated last line of a sources file, a .txt, a hidden file
	 * of a later directory, an invalid port, outside the range: none */
	CHECK(!has_addr(&l, "100.100.61.95"));
	CHECK(!has_addr(&l, "100.100.61.98"));
	CHECK(!has_addr(&l, "100.100.61.99"));
	CHECK(!has_addr(&l, "192.0.2.1"));
	CHECK(!has_addr(&l, "100.100.61.100"));
	CHECK(has_note(&l, "both /etc/chrony/chrony.conf and /etc/chrony.conf", NULL));
	CHECK(!has_addr(&l, "203.0.113.5"));
	CHECK(l.n == 11);
	CHECK(has_note(&l, "chrony.conf:15", "bad!host", NULL));
	CHECK(has_note(&l, "chrony.conf:16", "without a host", NULL));
	CHECK(has_note(&l, "chrony.conf:17", "port", NULL));
	CHECK(has_note(&l, "/etc/chrony/extra/x.conf", "levels", NULL));
	CHECK(times_asked("ntp.cloud.aliyuncs.com") == 1);
	CHECK(times_asked("2.debian.pool.ntp.org") == 1);
	CHECK(n_asked == 2);
	CHECK(resolver_timeout == DC_RESOLVE_TIMEOUT_MS);
	CHECK(clients_are(&l, HOST_CLIENT_CHRONY));
	discovered_free(&l);
	remove_root();
}

static void test_timesyncd(void)
{
	struct discovered_list l;

	new_root("timesyncd");
	put("/etc/systemd/timesyncd.conf",
	    "[Time]\n"
	    "NTP=100.100.5.1 100.100.5.2\n"
	    "FallbackNTP=100.100.5.9\n"
	    "#NTP=100.100.5.3\n");
	/* the main file is the first found: /usr/lib's is not read */
	put("/usr/lib/systemd/timesyncd.conf", "[Time]\nNTP=100.100.5.10\n");
	put("/usr/lib/systemd/timesyncd.conf.d/20-vendor.conf", "[Time]\nNTP=100.100.5.4\n");
	put("/etc/systemd/timesyncd.conf.d/10-reset.conf",
	    "[Time]\n"
	    "NTP=\n"
	    "NTP=100.100.5.5 \\\n"
	    "  100.100.5.6\n"
	    "[Other]\n"
	    "NTP=100.100.5.7\n");
	/* /run's 20-vendor.conf hides /usr/lib's */
	put("/run/systemd/timesyncd.conf.d/20-vendor.conf", "[Time]\n  NTP = 100.100.5.8\n");
	put("/run/systemd/timesyncd.conf.d/30-off.conf.disabled", "[Time]\nNTP=100.100.5.11\n");
	discover_config_set_resolver(fake_resolve);
	run(&l);
	dump(&l);
	CHECK_ENTRY(&l, "100.100.5.5", CG_PROTO_UDP, 123, "ntp", "timesyncd.conf.d/10-reset.conf:3", 0);
	CHECK_ENTRY(&l, "100.100.5.6", CG_PROTO_UDP, 123, "ntp", "timesyncd.conf.d/10-reset.conf:3", 0);
	CHECK_ENTRY(&l, "100.100.5.8", CG_PROTO_UDP, 123, "ntp", "/run/systemd/timesyncd.conf.d/20-vendor.conf:2", 0);
	CHECK_ENTRY(&l, "100.100.5.9", CG_PROTO_UDP, 123, "ntp", "timesyncd.conf:3", 0);
	CHECK(l.n == 4);
	CHECK(l.n_notes == 0);
	CHECK(clients_are(&l, HOST_CLIENT_TIMESYNCD));
	discovered_free(&l);

	/* a drop-in masked in /etc (a symlink to /dev/null) hides /run's and
	 * /usr/lib's of that name; an empty FallbackNTP= forgets the list */
	char link[PATH_MAX];
	snprintf(link, sizeof(link), "%s/etc/systemd/timesyncd.conf.d/20-vendor.conf", root);
	CHECK(symlink("/dev/null", link) == 0);
	put("/etc/systemd/timesyncd.conf.d/40-nofallback.conf", "[Time]\nFallbackNTP=\n");
	run(&l);
	CHECK(has_addr(&l, "100.100.5.5") && has_addr(&l, "100.100.5.6"));
	CHECK(!has_addr(&l, "100.100.5.8") && !has_addr(&l, "100.100.5.4") && !has_addr(&l, "100.100.5.9"));
	CHECK(l.n == 2);
	discovered_free(&l);
	remove_root();
}

static void test_cloud_init(void)
{
	struct discovered_list l;

	new_root("cloud");
	/* as cloud-init writes it (sources/__init__.py), cut down */
	put("/run/cloud-init/instance-data.json",
	    "{\n \"_beta_keys\": [\"subplatform\"],\n \"ds\": {\"_doc\": \"EXPERIMENTAL\", \"meta-data\": "
	    "{\"instance-id\": \"i-x\"}},\n \"merged_cfg\": \"redacted for non-root user\",\n"
	    " \"merged_system_cfg\": \"redacted for non-root user\",\n"
	    " \"v1\": {\"cloud_name\": \"aliyun\", \"platform\": \"aliyun\",\n"
	    "  \"subplatform\": \"metadata (http://100.100.100.200)\"}\n}\n");
	put("/etc/cloud/cloud.cfg",
	    "#cloud-config\n"                                                         /* 1 */
	    "datasource_list: [ AliYun, None ]\n"                                     /* 2 */
	    "datasource:\n"                                                           /* 3 */
	    "  AliYun:\n"                                                             /* 4 */
	    "    metadata_urls: [\"http://100.100.100.201\", 'http://100.100.100.202:8080']\n" /* 5 */
	    "  Ec2:\n"                                                                /* 6 */
	    "    metadata_urls:\n"                                                    /* 7 */
	    "      - http://169.254.169.254\n"                                        /* 8 */
	    "      - \"http://100.100.100.203\"   # a comment\n"                      /* 9 */
	    "    timeout: 5\n"                                                        /* 10 */
	    "  OpenStack: {metadata_urls: [http://100.100.100.204,\n"                 /* 11 */
	    "      \"https://100.100.100.205\"]}\n"                                   /* 12 */
	    "  Other:\n"                                                              /* 13 */
	    "    metadata_url: *alias\n"                                              /* 14 */
	    "  Exoscale:\n"                                                           /* 15 */
	    "    metadata_url: http://100.100.100.206:8000/latest  # one\n"           /* 16 */
	    "  Bad:\n"                                                                /* 17 */
	    "    metadata_urls: [\"http://[100.100.100.207\"]\n");                   /* 18 */
	/* a later file's list for the same key replaces the earlier one */
	put("/etc/cloud/cloud.cfg.d/90-override.cfg", "datasource:\n  Ec2:\n    metadata_urls: []\n");
	put("/etc/cloud/cloud.cfg.d/README", "datasource: {Ec2: {metadata_urls: [http://100.100.100.208]}}\n");
	put("/etc/cloud/cloud.cfg.d/50-json.cfg",
	    "{\"datasource\": {\"Scaleway\": {\"metadata_urls\": [\"http://100.100.100.209\"]}}}\n");
	discover_config_set_resolver(fake_resolve);
	run(&l);
	dump(&l);
	CHECK_ENTRY(&l, "100.100.100.200", CG_PROTO_TCP, 80, "metadata", "instance-data.json", 0);
	CHECK_ENTRY(&l, "100.100.100.201", CG_PROTO_TCP, 80, "metadata", "cloud.cfg:5", 0);
	CHECK_ENTRY(&l, "100.100.100.202", CG_PROTO_TCP, 8080, "metadata", "cloud.cfg:5", 0);
	CHECK_ENTRY(&l, "100.100.100.204", CG_PROTO_TCP, 80, "metadata", "cloud.cfg:11", 0);
	CHECK_ENTRY(&l, "100.100.100.205", CG_PROTO_TCP, 443, "metadata", "cloud.cfg:12", 0);
	CHECK_ENTRY(&l, "100.100.100.206", CG_PROTO_TCP, 8000, "metadata", "cloud.cfg:16", 0);
	CHECK_ENTRY(&l, "100.100.100.209", CG_PROTO_TCP, 80, "metadata", "cloud.cfg.d/50-json.cfg:1", 0);
	CHECK(!has_addr(&l, "100.100.100.203"));
	CHECK(!has_addr(&l, "100.100.100.208"));
	CHECK(l.n == 7);
	CHECK(has_note(&l, "cloud.cfg:14", "*alias", NULL));
	CHECK(has_note(&l, "cloud.cfg:18", "URL", NULL));
	discovered_free(&l);

	/* instance data that is not JSON: a note, the rest still read */
	put("/run/cloud-init/instance-data.json", "{\"v1\": {\"subplatform\": \"metadata (http://100.100.100.200)\"");
	run(&l);
	CHECK(!has_addr(&l, "100.100.100.200") && has_addr(&l, "100.100.100.201"));
	CHECK(has_note(&l, "instance-data.json", "not valid JSON", NULL));
	discovered_free(&l);
	/* an older cloud-init's unredacted merged configuration */
	put("/run/cloud-init/instance-data.json",
	    "{\"merged_cfg\": {\"datasource\": {\"AliYun\": {\"metadata_urls\": [\"http://100.100.100.210\"]}}},"
	    " \"v1\": {\"subplatform\": \"config-disk (/dev/sr0)\"}}");
	run(&l);
	CHECK_ENTRY(&l, "100.100.100.210", CG_PROTO_TCP, 80, "metadata", "instance-data.json", 0);
	discovered_free(&l);
	remove_root();
}

static void test_apt_and_hosts(void)
{
	struct discovered_list l;

	new_root("apt");
	put("/etc/apt/sources.list",
	    "deb http://mirrors.cloud.aliyuncs.com/debian/ bookworm main\n"                      /* 1 */
	    "deb [arch=amd64 signed-by=/x.gpg] https://100.100.2.149/debian bookworm main\n"   /* 2 */
	    "# deb http://100.100.2.150/debian bookworm main\n"                                 /* 3 */
	    "deb-src http://user:pw@[fd7a:115c:a1e0::5]:8080/debian bookworm main\n"           /* 4 */
	    "deb cdrom:[Debian GNU/Linux]/ bookworm main\n"                                     /* 5 */
	    "rpm http://100.100.2.156/ x\n"                                                     /* 6 */
	    "deb http://mirrors.nx.invalid/debian bookworm main\n"                              /* 7 */
	    "deb http://slow.example/debian bookworm main # slow\n"                             /* 8 */
	    "deb http://v6.mirror.example/debian bookworm main\n"                               /* 9 */
	    "deb http://:80/debian bookworm main\n"                                             /* 10 */
	    "deb https://slow2.example/debian bookworm main\n");                                /* 11 */
	put("/etc/apt/sources.list.d/aliyun.sources",
	    "# Alibaba's mirror\n"                                  /* 1 */
	    "Types: deb\n"                                          /* 2 */
	    "URIs: http://100.100.2.151/debian\n"                   /* 3 */
	    " https://100.100.2.152/debian\n"                       /* 4 */
	    "Suites: bookworm\n"                                    /* 5 */
	    "Signed-By:\n"                                          /* 6 */
	    " -----BEGIN PGP PUBLIC KEY BLOCK-----\n"               /* 7 */
	    " .\n"                                                  /* 8 */
	    " mQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD9K7d\n" /* 9 */
	    " -----END PGP PUBLIC KEY BLOCK-----\n"                 /* 10 */
	    "\n"                                                    /* 11 */
	    "Types: deb\n"                                          /* 12 */
	    "URIs: http://100.100.2.153/\n"                         /* 13 */
	    "Enabled: no\n"                                         /* 14 */
	    "\n"                                                    /* 15 */
	    "URIs: http://100.100.2.154/\n"                         /* 16 */
	    "Suites: x\n");                                         /* 17 */
	put("/etc/apt/sources.list.d/bad name.list", "deb http://100.100.2.155/ x y\n");
	put("/etc/apt/sources.list.d/old.list.save", "deb http://100.100.2.157/ x y\n");
	put("/etc/apt/sources.list.d/mirror.list", "deb mirror+http://100.100.2.158/mirrors.txt bookworm main\n");
	put("/etc/hosts",
	    "127.0.0.1 localhost\n"
	    "100.100.2.148 mirrors.cloud.aliyuncs.com # Alibaba's mirror, named for apt\n"
	    "100.100.9.9 unused.internal other\n"
	    "::1 localhost ip6-localhost\n");
	discover_config_set_resolver(fake_resolve);
	run(&l);
	dump(&l);
	/* the name from /etc/hosts (the test's resolver does not know it) */
	CHECK_ENTRY(&l, "100.100.2.148", CG_PROTO_TCP, 80, "mirror", "sources.list:1", 0);
	CHECK_ENTRY(&l, "100.100.2.149", CG_PROTO_TCP, 443, "mirror", "sources.list:2", 0);
	CHECK_ENTRY(&l, "fd7a:115c:a1e0::5", CG_PROTO_TCP, 8080, "mirror", "sources.list:4", 0);
	CHECK_ENTRY(&l, "fd7a:115c:a1e0::9", CG_PROTO_TCP, 80, "mirror", "sources.list:9", 0);
	CHECK_ENTRY(&l, "100.100.2.160", CG_PROTO_TCP, 80, "mirror", "sources.list:9", 0);
	CHECK_ENTRY(&l, "100.100.2.151", CG_PROTO_TCP, 80, "mirror", "sources.list.d/aliyun.sources:3", 0);
	CHECK_ENTRY(&l, "100.100.2.152", CG_PROTO_TCP, 443, "mirror", "sources.list.d/aliyun.sources:4", 0);
	CHECK_ENTRY(&l, "100.100.2.158", CG_PROTO_TCP, 80, "mirror", "sources.list.d/mirror.list:1", 0);
	CHECK(l.n == 8);
	for (const char *const *a = (const char *const[]){ "100.100.2.150", "100.100.2.153", "100.100.2.154",
							   "100.100.2.155", "100.100.2.156", "100.100.2.157",
							   "100.100.9.9", NULL };
	     *a; a++)
		CHECK(!has_addr(&l, *a));
	CHECK(has_note(&l, "sources.list:6", "rpm", NULL));
	CHECK(has_note(&l, "sources.list:7", "mirrors.nx.invalid", "does not resolve", NULL));
	/* the names the resolver did not answer: one note */
	CHECK(has_note(&l, "not resolved within 2 s", "these names", "slow.example (mirror, sources.list:8), "
		       "slow2.example (mirror, sources.list:11)", NULL));
	CHECK(has_note(&l, "sources.list:10", "URL", NULL));
	CHECK(has_note(&l, "aliyun.sources:16", "deb", NULL));
	CHECK(has_note(&l, "mirror.list:1", "mirror list", NULL));
	CHECK(has_note(&l, "hosts:3", "100.100.9.9", "unused.internal other", "--service 100.100.9.9:PORT", NULL));
	CHECK(!has_note(&l, "mirrors.cloud.aliyuncs.com", NULL));
	/* each name asked once, /etc/hosts' one too (glibc has the last word) */
	CHECK(times_asked("mirrors.cloud.aliyuncs.com") == 1);
	CHECK(n_asked == 5);
	CHECK(clients_are(&l, HOST_CLIENT_UNKNOWN));
	discovered_free(&l);
	remove_root();
}

static void test_apt_proxy(void)
{
	struct discovered_list l;

	new_root("aptproxy");
	put("/etc/apt/sources.list",
	    "deb http://100.100.2.169/debian bookworm main\n"
	    "deb http://100.100.2.170/debian bookworm main\n"
	    "deb https://100.100.2.171/debian bookworm main\n"
	    "deb http://mirror.socks/debian bookworm main\n");
	put("/etc/apt/apt.conf.d/01proxy",
	    "Acquire::http::Proxy \"http://100.100.3.3:3128\";\n"
	    "Acquire::http::Proxy::100.100.2.170 \"DIRECT\";\n"
	    "acquire::HTTPS::proxy \"false\";\n");
	put("/etc/apt/apt.conf.d/02nested", "Acquire { http { Proxy \"http://100.100.3.8\"; }; };\n");
	put("/etc/apt/apt.conf.d/old.dpkg-old", "Acquire::https::Proxy \"http://100.100.3.9:1\";\n");
	put("/etc/apt/apt.conf", "// the last word\nAcquire::http::Proxy::mirror.socks \"socks5h://100.100.3.4:1080\";\n");
	discover_config_set_resolver(fake_resolve);
	run(&l);
	dump(&l);
	CHECK_ENTRY(&l, "100.100.2.170", CG_PROTO_TCP, 80, "mirror", "sources.list:2", 0);
	CHECK_ENTRY(&l, "100.100.2.171", CG_PROTO_TCP, 443, "mirror", "sources.list:3", 0);
	CHECK_ENTRY(&l, "100.100.3.3", CG_PROTO_TCP, 3128, "mirror", "apt.conf.d/01proxy:1", 0);
	CHECK(!has_addr(&l, "100.100.2.169") && !has_addr(&l, "100.100.3.8") && !has_addr(&l, "100.100.3.9"));
	CHECK(l.n == 3);
	CHECK(has_note(&l, "apt.conf.d/01proxy:1", "through the proxy 100.100.3.3", NULL));
	CHECK(has_note(&l, "apt.conf.d/02nested:1", "does not follow", NULL));
	CHECK(has_note(&l, "apt.conf:2", "socks5h://100.100.3.4:1080", NULL));
	CHECK(has_note(&l, "sources.list:4", "mirror.socks", "does not resolve", NULL));
	discovered_free(&l);
	remove_root();
}

static void test_odd_files(void)
{
	struct discovered_list l;
	char path[PATH_MAX];

	/* nothing there: nothing found, nothing said, nobody asked */
	new_root("empty");
	discover_config_set_resolver(fake_resolve);
	run(&l);
	CHECK(l.n == 0 && l.n_notes == 0 && n_asked == 0);
	discovered_free(&l);

	/* a FIFO does not stall the audit; a directory where a file belongs
	 * is not a file */
	snprintf(path, sizeof(path), "%s/etc/apt", root);
	mkdirs(path);
	snprintf(path, sizeof(path), "%s/etc/apt/sources.list", root);
	CHECK(mkfifo(path, 0600) == 0);
	snprintf(path, sizeof(path), "%s/etc/hosts", root);
	mkdirs(path);
	put("/etc/chrony/chrony.conf", "confdir /etc/chrony/conf.d /etc/chrony/more\n"
					"sourcedir a b c d e f g h i j k\nsourcedir relative\n");
	put("/relative/x.sources", "server 100.100.61.101\n");
	snprintf(path, sizeof(path), "%s/etc/chrony/conf.d/dir.conf", root);
	mkdirs(path);
	run(&l);
	dump(&l);
	CHECK(l.n == 1);
	CHECK_ENTRY(&l, "100.100.61.101", CG_PROTO_UDP, 123, "ntp", "/relative/x.sources:1", 0);
	CHECK(has_note(&l, "/etc/apt/sources.list", "not a regular file", NULL));
	CHECK(has_note(&l, "chrony.conf:2", "more than 10 sourcedir", NULL));
	CHECK(l.n_notes == 2);
	discovered_free(&l);
	remove_root();

	/* a flood of bad lines: the notes stop */
	new_root("flood");
	char *text = malloc(200 * 32 + 1);
	text[0] = '\0';
	for (int i = 0; i < 200; i++)
		strcat(text, "server bad!host\n");
	put("/etc/chrony/chrony.conf", text);
	free(text);
	run(&l);
	CHECK(l.n_notes == DC_MAX_NOTES + 1);
	CHECK(has_note(&l, "left out", NULL));
	discovered_free(&l);
	remove_root();
}

static void test_helpers(void)
{
	char host[256], origin[96];
	uint16_t port;

	CHECK(dc_url_parse("http://100.100.100.200", host, sizeof(host), &port) == 0 && port == 80);
	CHECK_STR(host, "100.100.100.200");
	CHECK(dc_url_parse("HTTPS://Mirrors.Example:8443/x?y#z", host, sizeof(host), &port) == 0 && port == 8443);
	CHECK_STR(host, "Mirrors.Example");
	CHECK(dc_url_parse("http://u:p@[fd7a::1]:81/", host, sizeof(host), &port) == 0 && port == 81);
	CHECK_STR(host, "fd7a::1");
	CHECK(dc_url_parse("http://[fd7a::1]/", host, sizeof(host), &port) == 0 && port == 80);
	CHECK(dc_url_parse("http://host:/", host, sizeof(host), &port) == 0 && port == 80);
	CHECK(dc_url_parse("file:/srv/mirror", host, sizeof(host), &port) == -ENOENT);
	CHECK(dc_url_parse("http://", host, sizeof(host), &port) == -EINVAL);
	CHECK(dc_url_parse("http://h:0/", host, sizeof(host), &port) == -EINVAL);
	CHECK(dc_url_parse("http://h:65536/", host, sizeof(host), &port) == -EINVAL);
	CHECK(dc_url_parse("http://[fd7a::1/", host, sizeof(host), &port) == -EINVAL);
	CHECK(dc_url_parse("http://[fd7a::1]x/", host, sizeof(host), &port) == -EINVAL);

	dc_origin(origin, "chrony.conf", 12);
	CHECK_STR(origin, "chrony.conf:12");
	dc_origin(origin, "instance-data.json", 0);
	CHECK_STR(origin, "instance-data.json");
	dc_origin(origin,
		  "/run/a/very/long/directory/name/that/goes/on/and/on/and/on/and/on/and/on/and/on/and/on/eth0.sources",
		  3);
	CHECK(strlen(origin) == 95 && strncmp(origin, "...", 3) == 0);
	CHECK(strcmp(origin + 95 - 15, "eth0.sources:3") == 0 || strstr(origin, "/eth0.sources:3"));
	dc_origin(origin, "bad\nname", 1);
	CHECK_STR(origin, "bad?name:1");

	/* glibc's resolver, asked what needs no network: an address */
	struct dc_answer a[2];
	const char *names[] = { "100.100.1.1", "fd7a:115c:a1e0::1" };
	double t0 = test_now();
	dc_resolve_glibc(names, 2, 2000, a);
	CHECK(a[0].status == 0 && a[0].n == 1);
	CHECK(a[1].status == 0 && a[1].n == 1);
	if (a[0].n)
		CHECK(a[0].addrs[0].family == AF_INET);
	if (a[1].n)
		CHECK(a[1].addrs[0].family == AF_INET6);
	CHECK(test_now() - t0 < 2.5);
	free(a[0].addrs);
	free(a[1].addrs);
	dc_resolve_glibc(names, 0, 2000, a);
}

int main(void)
{
	test_helpers();
	test_chrony();
	test_timesyncd();
	test_cloud_init();
	test_apt_and_hosts();
	test_apt_proxy();
	test_odd_files();
	discover_config_set_resolver(NULL);
	return test_result();
}
