/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whose sockets a flow's packets are (struct blind_client), for the cgroup
 * BPF programs: a program sees its own cgroup's sockets and those below it.
 *
 * A client a source names (systemd-resolved, a DHCP client, chronyd) is
 * found by its process: one pass over /proc reads every process's name
 * (/proc/PID/comm, readable by anyone), and for the clients' processes
 * that live in this network namespace their cgroup (/proc/PID/cgroup).
 * When none runs, the units that would run it stand in (their cgroups and
 * everything below them). A listening socket's cgroup is sock_diag's
 * (INET_DIAG_CGROUP_ID): the cgroup the socket was made in, which is the
 * one its programs run for; the tree the programs were read from turns the
 * id into a path. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blind-bpf-internal.h"
#include "cgnatcheck/common.h"

struct known_client {
	const char *comm;             /* /proc/PID/comm: the name cut to 15 bytes */
	const char *const *units;     /* NULL-terminated, or NULL */
};

static const char *const U_RESOLVED[] = { "systemd-resolved.service", NULL };
static const char *const U_NETWORKD[] = { "systemd-networkd.service", NULL };
/* Debian's ifupdown starts dhclient from networking.service or ifup@IF.service */
static const char *const U_DHCLIENT[] = { "networking.service", "ifup@*.service", NULL };
static const char *const U_NM[] = { "NetworkManager.service", NULL };
static const char *const U_DHCPCD[] = { "dhcpcd.service", "dhcpcd@*.service", NULL };
static const char *const U_CHRONY[] = { "chrony.service", "chronyd.service", NULL };
static const char *const U_TIMESYNCD[] = { "systemd-timesyncd.service", NULL };

static const struct known_client KNOWN[HOST_CLIENT_COUNT] = {
	[HOST_CLIENT_RESOLVED] = { "systemd-resolve", U_RESOLVED },
	[HOST_CLIENT_NETWORKD] = { "systemd-network", U_NETWORKD },
	[HOST_CLIENT_DHCLIENT] = { "dhclient", U_DHCLIENT },
	[HOST_CLIENT_NM] = { "NetworkManager", U_NM },
	[HOST_CLIENT_NM_DHCLIENT] = { "dhclient", U_NM },
	[HOST_CLIENT_DHCPCD] = { "dhcpcd", U_DHCPCD },
	[HOST_CLIENT_CHRONY] = { "chronyd", U_CHRONY },
	[HOST_CLIENT_TIMESYNCD] = { "systemd-timesyn", U_TIMESYNCD },
};

int cgroup_cmp_id(const void *a, const void *b)
{
	const struct blind_cgroup *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

bool cgroup_within(const char *path, const char *anc)
{
	size_t n = strlen(anc);

	if (strcmp(anc, "/") == 0)
		return path[0] == '/';
	return strncmp(path, anc, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool cgroup_in_units(const char *path, const char *const *units)
{
	char part[256];

	while (*path) {
		size_t n;
		path += strspn(path, "/");
		n = strcspn(path, "/");
		if (n && n < sizeof(part)) {
			memcpy(part, path, n);
			part[n] = '\0';
			for (size_t i = 0; units[i]; i++)
				if (fnmatch(units[i], part, 0) == 0)
					return true;
		}
		path += n;
	}
	return false;
}

int proc_cgroup2_path(const char *text, size_t len, char *out, size_t size)
{
	size_t pos = 0;

	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + 1;
		/* "0::PATH": hierarchy 0, no controllers */
		if (n < 4 || memcmp(line, "0::", 3) != 0)
			continue;
		if (line[3] != '/' || n - 3 >= size || memchr(line + 3, '\0', n - 3))
			return -EINVAL;
		memcpy(out, line + 3, n - 3);
		out[n - 3] = '\0';
		return 1;
	}
	return 0;
}

bool blind_cgroup_programs(const struct blind_spots *b)
{
	return b->cgroups && b->cgroups->n_below_root;
}

void blind_cgroups_free(struct blind_cgroups *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	for (size_t i = 0; i < c->n_clients; i++) {
		for (size_t k = 0; k < c->clients[i]->n_cgroups; k++)
			free(c->clients[i]->cgroups[k]);
		free(c->clients[i]->cgroups);
		free(c->clients[i]);
	}
	free(c->clients);
	free(c);
}

static struct blind_client *client_new(struct blind_cgroups *c)
{
	struct blind_client *cl = xcalloc(1, sizeof(*cl));

	c->clients = xreallocarray(c->clients, c->n_clients + 1, sizeof(*c->clients));
	c->clients[c->n_clients++] = cl;
	return cl;
}

/* Adds the path unless the client has it already (a client has a few). */
static void client_add_cgroup(struct blind_client *cl, const char *path)
{
	for (size_t i = 0; i < cl->n_cgroups; i++)
		if (strcmp(cl->cgroups[i], path) == 0)
			return;
	cl->cgroups = xreallocarray(cl->cgroups, cl->n_cgroups + 1, sizeof(*cl->cgroups));
	cl->cgroups[cl->n_cgroups++] = xstrdup(path);
}

/* A small /proc file's text (NUL-terminated) in buf; its length, or -1. */
static ssize_t read_small(int dir, const char *name, char *buf, size_t size)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Does the process live in this network namespace? When that cannot be
 * told (no access to its namespace), it may. */
static bool proc_net_here(int dir, const struct stat *self)
{
	struct stat st;

	if (!self || fstatat(dir, "ns/net", &st, 0) < 0)
		return true;
	return st.st_dev == self->st_dev && st.st_ino == self->st_ino;
}

/* One pass over /proc: the known clients' processes in this namespace. */
static void clients_from_proc(struct blind_cgroups *c)
{
	struct blind_client *found[HOST_CLIENT_COUNT] = { 0 };
	struct stat self_st, *self = stat("/proc/self/ns/net", &self_st) == 0 ? &self_st : NULL;
	DIR *proc = opendir("/proc");
	struct dirent *e;

	c->procs_read = true;
	while (proc && (e = readdir(proc))) {
		char comm[32], text[4096], path[4096];
		bool want = false;
		int dir;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		dir = openat(dirfd(proc), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			continue;
		if (read_small(dir, "comm", comm, sizeof(comm)) > 0) {
			comm[strcspn(comm, "\n")] = '\0';
			for (size_t k = 1; k < HOST_CLIENT_COUNT; k++)
				want |= strcmp(comm, KNOWN[k].comm) == 0;
		}
		ssize_t n = want && proc_net_here(dir, self) ? read_small(dir, "cgroup", text, sizeof(text)) : -1;
		close(dir);
		if (n <= 0 || proc_cgroup2_path(text, (size_t)n, path, sizeof(path)) != 1)
			continue;
		for (size_t k = 1; k < HOST_CLIENT_COUNT; k++) {
			if (strcmp(comm, KNOWN[k].comm) != 0)
				continue;
			if (!found[k])
				found[k] = client_new(c);
			client_add_cgroup(found[k], path);
		}
	}
	if (proc)
		closedir(proc);
	/* NetworkManager's dhclient runs in NetworkManager's cgroup: a
	 * dhclient elsewhere is another one's */
	if (found[HOST_CLIENT_NM_DHCLIENT]) {
		struct blind_client *cl = found[HOST_CLIENT_NM_DHCLIENT];
		size_t kept = 0;
		for (size_t i = 0; i < cl->n_cgroups; i++) {
			if (cgroup_in_units(cl->cgroups[i], U_NM))
				cl->cgroups[kept++] = cl->cgroups[i];
			else
				free(cl->cgroups[i]);
		}
		cl->n_cgroups = kept;
	}
	for (size_t k = 1; k < HOST_CLIENT_COUNT; k++) {
		if (found[k] && found[k]->n_cgroups) {
			c->of[k] = found[k];
		} else if (KNOWN[k].units) {
			struct blind_client *cl = found[k] ? found[k] : client_new(c);
			cl->units = KNOWN[k].units;
			c->of[k] = cl;
		}
	}
}

const struct blind_client *blind_client_of(struct blind_spots *b, enum host_client k)
{
	struct blind_cgroups *c = b->cgroups;

	if (!c || k <= HOST_CLIENT_UNKNOWN || k >= HOST_CLIENT_COUNT)
		return NULL;
	if (!c->procs_read)
		clients_from_proc(c);
	return c->of[k];
}

const struct blind_client *blind_client_of_sockets(struct blind_spots *b, const uint64_t *ids, size_t n)
{
	struct blind_cgroups *c = b->cgroups;
	struct blind_client *cl;

	if (!c || !n)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct blind_cgroup key = { .id = ids[i] };
		if (!ids[i] || !bsearch(&key, c->v, c->n, sizeof(*c->v), cgroup_cmp_id))
			return NULL;
	}
	cl = client_new(c);
	for (size_t i = 0; i < n; i++) {
		struct blind_cgroup key = { .id = ids[i] };
		const struct blind_cgroup *g = bsearch(&key, c->v, c->n, sizeof(*c->v), cgroup_cmp_id);
		client_add_cgroup(cl, g->path);
	}
	return cl;
}
