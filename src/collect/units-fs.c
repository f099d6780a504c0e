/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host files below CGNATCHECK_HOST_ROOT with their symlinks resolved inside
 * that root (systemd's chase() with CHASE_PREFIX_ROOT): a unit search path
 * is full of symlinks (aliases, masks, .wants/ entries, /lib -> usr/lib),
 * and an absolute one must not lead out of an audited image into this
 * machine's own /etc. Also the notes and the string map the readers share. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/hostfacts.h"
#include "cgnatcheck/units.h"
#include "units-internal.h"

#define CHASE_MAX_LINKS 40
#define HOST_FILE_MAX (4u << 20)

void unit_note(struct unit_notes *n, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("cgnatcheck: out of memory\n", stderr);
		abort();
	}
	va_end(ap);
	n->v = xreallocarray(n->v, n->n + 1, sizeof(*n->v));
	n->v[n->n++] = s;
}

void unit_notes_free(struct unit_notes *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	n->v = NULL;
	n->n = 0;
}

static const char *host_root(char *buf, size_t size)
{
	return host_path(buf, size, "");
}

int host_chase(const char *path, char *out, size_t size)
{
	char root[PATH_MAX], full[PATH_MAX * 2], done[PATH_MAX];
	char todo[PATH_MAX * 2], next[PATH_MAX * 2], target[PATH_MAX];
	size_t dlen = 0;
	unsigned links = 0;
	const char *p;

	if (!path || path[0] != '/')
		return -EINVAL;
	if (!host_root(root, sizeof(root)))
		return -ENAMETOOLONG;
	if (strlen(path) >= sizeof(todo))
		return -ENAMETOOLONG;
	strcpy(todo, path);
	done[0] = '\0';
	p = todo;
	for (;;) {
		const char *e;
		size_t clen, save;
		struct stat st;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		clen = (size_t)(e - p);
		if (clen == 1 && p[0] == '.') {
			p = e;
			continue;
		}
		if (clen == 2 && p[0] == '.' && p[1] == '.') {
			/* never above the root */
			while (dlen > 0 && done[dlen - 1] != '/')
				dlen--;
			if (dlen > 0)
				dlen--;
			done[dlen] = '\0';
			p = e;
			continue;
		}
		if (dlen + 1 + clen >= sizeof(done))
			return -ENAMETOOLONG;
		save = dlen;
		done[dlen++] = '/';
		memcpy(done + dlen, p, clen);
		dlen += clen;
		done[dlen] = '\0';
		p = e;
		if ((size_t)snprintf(full, sizeof(full), "%s%s", root, done) >= sizeof(full))
			return -ENAMETOOLONG;
		if (lstat(full, &st) < 0) {
			int r = -errno;
			if ((size_t)snprintf(out, size, "%s%s", done, p) >= size)
				return -ENAMETOOLONG;
			return r;
		}
		if (S_ISLNK(st.st_mode)) {
			ssize_t n;

			if (++links > CHASE_MAX_LINKS)
				return -ELOOP;
			n = readlink(full, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = '\0';
			if ((size_t)snprintf(next, sizeof(next), "%s%s", target, p) >= sizeof(next))
				return -ENAMETOOLONG;
			strcpy(todo, next);
			p = todo;
			dlen = target[0] == '/' ? 0 : save;
			done[dlen] = '\0';
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			const char *q = p;
			while (*q == '/')
				q++;
			if (*q)
				return -ENOTDIR;
		}
	}
	if (dlen == 0)
		strcpy(done, "/");
	if (strlen(done) >= size)
		return -ENAMETOOLONG;
	strcpy(out, done);
	return 0;
}

static int host_full(const char *resolved, char *out, size_t size)
{
	return host_path(out, size, resolved) ? 0 : -ENAMETOOLONG;
}

int host_stat_resolved(const char *resolved, unsigned *mode, long long *size)
{
	char full[PATH_MAX * 2];
	struct stat st;

	if (host_full(resolved, full, sizeof(full)) < 0)
		return -ENAMETOOLONG;
	if (lstat(full, &st) < 0)
		return -errno;
	*mode = st.st_mode & S_IFMT;
	*size = (long long)st.st_size;
	return 0;
}

int host_readlink(const char *path, char *out, size_t size)
{
	char full[PATH_MAX * 2];
	ssize_t n;

	if (host_full(path, full, sizeof(full)) < 0)
		return -ENAMETOOLONG;
	n = readlink(full, out, size - 1);
	if (n < 0)
		return -errno;
	out[n] = '\0';
	return 0;
}

int host_read_file(const char *path, char **text, size_t *len, char *resolved, size_t rsize)
{
	char res[PATH_MAX], full[PATH_MAX * 2];
	_cleanup_close_ int fd = -1;
	struct stat st;
	char *buf;
	size_t n = 0, cap = 4096;
	int r;

	*text = NULL;
	*len = 0;
	r = host_chase(path, res, sizeof(res));
	if (resolved && rsize)
		snprintf(resolved, rsize, "%s", r == 0 || r == -ENOENT ? res : path);
	if (r < 0)
		return r;
	if (host_full(res, full, sizeof(full)) < 0)
		return -ENAMETOOLONG;
	/* O_NONBLOCK: a FIFO where a file should be must not hang the audit */
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return -EBADF;
	buf = xmalloc(cap);
	for (;;) {
		ssize_t k;

		if (n + 1 >= cap) {
			if (cap > HOST_FILE_MAX) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			free(buf);
			return r;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > HOST_FILE_MAX) {
			free(buf);
			return -EFBIG;
		}
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int host_list_dir(const char *dir, char ***names)
{
	char res[PATH_MAX], full[PATH_MAX * 2];
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r;

	*names = NULL;
	r = host_chase(dir, res, sizeof(res));
	if (r < 0)
		return r;
	if (host_full(res, full, sizeof(full)) < 0)
		return -ENAMETOOLONG;
	d = opendir(full);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		grow_array((void **)&v, &cap, n + 1, sizeof(*v));
		v[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*names = v;
	return (int)n;
}

void host_list_free(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---- the string map --------------------------------------------------- */

struct units_map_slot {
	const char *key;
	void *value;
};

static size_t slot_of(const struct units_map *m, const char *key)
{
	return (size_t)hash_mix64(hash_fnv1a(HASH_FNV1A_INIT, key, strlen(key))) & (m->cap - 1);
}

void *units_map_get(const struct units_map *m, const char *key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slots[i].key)
			return NULL;
		if (strcmp(m->slots[i].key, key) == 0)
			return m->slots[i].value;
	}
}

static void map_insert(struct units_map *m, const char *key, void *value)
{
	for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slots[i].key) {
			m->slots[i].key = key;
			m->slots[i].value = value;
			m->n++;
			return;
		}
		if (strcmp(m->slots[i].key, key) == 0) {
			m->slots[i].value = value;
			return;
		}
	}
}

void units_map_put(struct units_map *m, const char *key, void *value)
{
	if (2 * (m->n + 1) > m->cap) {
		struct units_map old = *m;

		m->cap = old.cap ? old.cap * 2 : 64;
		m->slots = xcalloc(m->cap, sizeof(*m->slots));
		m->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.slots[i].key)
				map_insert(m, old.slots[i].key, old.slots[i].value);
		free(old.slots);
	}
	map_insert(m, key, value);
}

void units_map_each(const struct units_map *m, void (*fn)(const char *key, void *value, void *ud), void *ud)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			fn(m->slots[i].key, m->slots[i].value, ud);
}

void units_map_free(struct units_map *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}
