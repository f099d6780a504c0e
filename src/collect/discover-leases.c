/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DHCP servers from the DHCP clients' leases, and the DNS and NTP servers
 * the leases handed out. A lease is renewed by unicast from udp/68 to the
 * server's udp/67 (DHCPv6 with the server-unicast option: 546 -> 547) and
 * the answer comes back the other way: an overlay firewall that drops the
 * server's range takes the host's address away when the lease runs out.
 *
 *   systemd-networkd  /run/systemd/netif/leases/IFINDEX       KEY=VALUE
 *   ISC dhclient      /var/lib/dhcp/dhclient*.leases,          lease { } blocks
 *                     /var/lib/dhclient/ *.lease[s]
 *   NetworkManager    /var/lib/NetworkManager/internal-*.lease KEY=VALUE
 *                     /var/lib/NetworkManager/dhclient*-*.lease lease { } blocks
 *   dhcpcd            /var/lib/dhcpcd/IFNAME.lease[6]          DHCP messages
 *                     (dhcpcd5: /var/lib/dhcpcd5/dhcpcd-IFNAME.lease)
 *
 * Every file is read below host_path(); a directory that is not there says
 * nothing; a file that cannot be read or understood is a note. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cgnatcheck/common.h"
#include "discover-leases.h"

/* a lease file is a few hundred bytes; dhclient's grows until it restarts */
#define MAX_LEASE_FILE (16u << 20)

void leases_parse(enum lease_format f, struct lease_ctx *c, const char *data, size_t size)
{
	c->n_problems = 0;
	switch (f) {
	case LEASE_NETWORKD:
		lease_parse_networkd(c, data, size);
		break;
	case LEASE_DHCLIENT:
		lease_parse_dhclient(c, data, size);
		break;
	case LEASE_DHCPCD:
		lease_parse_dhcpcd(c, (const uint8_t *)data, size);
		break;
	case LEASE_DHCPCD6:
		lease_parse_dhcpcd6(c, (const uint8_t *)data, size);
		break;
	}
	if (c->n_problems > LEASE_MAX_NOTES)
		discovered_note(c->l, "%s: %u more problems", c->path, c->n_problems - LEASE_MAX_NOTES);
}

/* ---- files ----------------------------------------------------------------- */

/* The interface a file's name gives: dhclient.eth0.leases,
 * dhclient6.eth0.leases, dhclient-UUID-eth0.lease (NetworkManager),
 * dhclient--eth0.lease (Red Hat's initscripts), internal-UUID-eth0.lease,
 * eth0.lease and eth0-SSID.lease (dhcpcd), dhcpcd-eth0.lease (dhcpcd5). */
static bool ifname_from_file(const char *name, bool dhcpcd, char out[IFNAMSIZ])
{
	char buf[256];
	char *s = buf, *dot;

	snprintf(buf, sizeof(buf), "%s", name);
	dot = strrchr(buf, '.');
	if (dot)
		*dot = '\0';
	if (dhcpcd) {
		if (strncmp(s, "dhcpcd-", 7) == 0)
			s += 7;
		/* IFNAME-SSID: the interface here by the whole name or a part
		 * before a '-', else the part before the first '-' (an
		 * interface name seldom has one) */
		char *cut = NULL;
		if (!if_nametoindex(s)) {
			for (char *dash = strchr(s, '-'); dash && !cut; dash = strchr(dash + 1, '-')) {
				*dash = '\0';
				if (if_nametoindex(s))
					cut = dash;
				*dash = '-';
			}
			if (!cut)
				cut = strchr(s, '-');
		}
		if (cut)
			*cut = '\0';
	} else {
		static const char *const prefixes[] = { "dhclient6", "dhclient", "internal6", "internal" };
		size_t k;
		for (k = 0; k < ARRAY_SIZE(prefixes); k++)
			if (strncmp(s, prefixes[k], strlen(prefixes[k])) == 0)
				break;
		if (k == ARRAY_SIZE(prefixes))
			return false;
		s += strlen(prefixes[k]);
		if (*s != '.' && *s != '-')
			return false;
		s++;
		if (*s == '-') /* dhclient--eth0 */
			s++;
		/* a connection's UUID: 8-4-4-4-12 */
		if (strlen(s) > 37 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' && s[36] == '-')
			s += 37;
	}
	if (!*s || strlen(s) >= IFNAMSIZ || strchr(s, '/'))
		return false;
	snprintf(out, IFNAMSIZ, "%s", s);
	return true;
}

static int64_t now_seconds(void)
{
	return (int64_t)time(NULL);
}

/* Reads path (a host path) whole; NULL after a note when it cannot. */
static char *read_lease_file(struct discovered_list *l, const char *path, size_t *size, int64_t *mtime)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	char *buf;
	size_t got = 0;

	if (fd < 0) {
		if (errno != ENOENT) /* gone since the directory was read */
			discovered_note(l, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		discovered_note(l, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		discovered_note(l, "%s: not a regular file", path);
		return NULL;
	}
	if ((uint64_t)st.st_size > MAX_LEASE_FILE) {
		discovered_note(l, "%s: %lld bytes, more than a lease file holds (%u): not read", path,
				(long long)st.st_size, MAX_LEASE_FILE);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	for (;;) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			discovered_note(l, "%s: cannot read: %s", path, strerror(errno));
			free(buf);
			return NULL;
		}
		got += (size_t)n;
		if (n == 0 || got == (size_t)st.st_size)
			break;
	}
	buf[got] = '\0';
	*size = got;
	*mtime = (int64_t)st.st_mtime;
	return buf;
}

struct source {
	const char *dir;
	const char *pattern;            /* fnmatch(3) */
	enum lease_format format;
	bool networkd;                  /* the name is an ifindex */
	bool expires;                   /* the lifetime counts from the file's mtime */
	enum host_client client;        /* who writes them (and renews the lease) */
};

static const struct source SOURCES[] = {
	{ "/run/systemd/netif/leases", "[0-9]*", LEASE_NETWORKD, true, false, HOST_CLIENT_NETWORKD },
	{ "/var/lib/dhcp", "dhclient*.leases", LEASE_DHCLIENT, false, false, HOST_CLIENT_DHCLIENT },
	{ "/var/lib/dhclient", "*.lease", LEASE_DHCLIENT, false, false, HOST_CLIENT_DHCLIENT },
	{ "/var/lib/dhclient", "*.leases", LEASE_DHCLIENT, false, false, HOST_CLIENT_DHCLIENT },
	{ "/var/lib/NetworkManager", "internal-*.lease", LEASE_NETWORKD, false, true, HOST_CLIENT_NM },
	{ "/var/lib/NetworkManager", "dhclient-*.lease", LEASE_DHCLIENT, false, false, HOST_CLIENT_NM_DHCLIENT },
	{ "/var/lib/NetworkManager", "dhclient6-*.lease", LEASE_DHCLIENT, false, false, HOST_CLIENT_NM_DHCLIENT },
	{ "/var/lib/dhcpcd", "*.lease", LEASE_DHCPCD, false, true, HOST_CLIENT_DHCPCD },
	{ "/var/lib/dhcpcd", "*.lease6", LEASE_DHCPCD6, false, true, HOST_CLIENT_DHCPCD },
	{ "/var/lib/dhcpcd5", "*.lease", LEASE_DHCPCD, false, true, HOST_CLIENT_DHCPCD },
	{ "/var/lib/dhcpcd5", "*.lease6", LEASE_DHCPCD6, false, true, HOST_CLIENT_DHCPCD },
};

static void read_source(const struct discover_scope *s, struct discovered_list *l, struct lease_set *set,
			const struct source *src, int64_t now)
{
	char dir[4096];
	struct dirent **ents = NULL;
	int n;

	if (!host_path(dir, sizeof(dir), src->dir)) {
		discovered_note(l, "%s below CGNATCHECK_HOST_ROOT: the path is too long", src->dir);
		return;
	}
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			discovered_note(l, "%s: cannot read the directory: %s", dir, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char path[4096 + 256], ifname[32] = "";
		struct lease_ctx c = { .path = path, .now = now, .scope = s, .l = l, .set = set,
				       .client = src->client };
		size_t size;
		int64_t mtime;

		if (name[0] == '.' || fnmatch(src->pattern, name, FNM_PERIOD) != 0)
			continue;
		if (src->networkd) {
			char *end;
			unsigned long idx = strtoul(name, &end, 10);
			if (*end || idx == 0 || idx > INT32_MAX)
				continue;
			if (!if_indextoname((unsigned)idx, ifname))
				snprintf(ifname, sizeof(ifname), "ifindex %lu", idx);
			c.ifname = ifname;
		} else if (ifname_from_file(name, src->format == LEASE_DHCPCD || src->format == LEASE_DHCPCD6, ifname)) {
			c.ifname = ifname;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		_cleanup_free_ char *data = read_lease_file(l, path, &size, &mtime);
		if (!data)
			continue;
		if (src->expires)
			c.mtime = mtime;
		c.written = mtime;
		leases_parse(src->format, &c, data, size);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
}

int discover_dhcp_leases(const struct discover_scope *s, struct discovered_list *l)
{
	struct lease_set set = { 0 };
	int64_t now = now_seconds();

	for (size_t i = 0; i < ARRAY_SIZE(SOURCES); i++)
		read_source(s, l, &set, &SOURCES[i], now);
	leases_flush(&set, s, l);
	return 0;
}
