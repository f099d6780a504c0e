/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NTP servers (chrony, systemd-timesyncd), the metadata service
 * (cloud-init), package mirrors (apt) and /etc/hosts entries inside the
 * overlays' ranges: the files each program reads, found where it finds
 * them, below host_path(); a file that is not there says nothing. The
 * formats are read in discover-config-parse.c; names are resolved through
 * glibc in discover-config-resolve.c, all at once, with one deadline. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgnatcheck/common.h"
#include "discover-config-internal.h"

#define FILE_MAX (1u << 20)           /* a configuration file: 1 MiB is plenty */
#define INSTANCE_DATA_MAX (8u << 20)  /* cloud-init's instance data */
#define DIR_FILES_MAX 256             /* files read from one set of directories */
#define CHRONY_INCLUDE_MAX 10         /* chrony's MAX_INCLUDE_LEVEL */
#define CHRONY_CONF_DIRS_MAX 10       /* chrony's MAX_CONF_DIRS */

static dc_resolver resolver_override;

void discover_config_set_resolver(dc_resolver fn)
{
	resolver_override = fn;
}

/* how origins name a file: below its program's directory, else whole */
static const char *origin_name(const char *path)
{
	static const char *const bases[] = {
		"/etc/chrony/", "/etc/apt/", "/etc/systemd/", "/etc/cloud/", "/run/cloud-init/", "/etc/",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		size_t n = strlen(bases[i]);
		if (strncmp(path, bases[i], n) == 0 && path[n])
			return path + n;
	}
	return path;
}

/* A host file's contents (NUL-terminated, *len without it), or NULL:
 * quietly when it is not there, with a note when it cannot be read. A
 * symlink to /dev/null (a masked drop-in) is empty. */
static char *read_host_file(struct dc_state *st, const char *path, size_t max, size_t *len)
{
	char full[PATH_MAX];
	struct stat sb;
	char *buf;
	size_t n = 0;
	int fd;

	*len = 0;
	if (!host_path(full, sizeof(full), path)) {
		dc_note(st, "%s: the path below CGNATCHECK_HOST_ROOT is too long: not read", path);
		return NULL;
	}
	/* O_NONBLOCK: a FIFO in its place must not stall the audit */
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
			dc_note(st, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) < 0) {
		dc_note(st, "cannot read %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (S_ISCHR(sb.st_mode) && major(sb.st_rdev) == 1 && minor(sb.st_rdev) == 3) {
		close(fd);
		return xcalloc(1, 1);
	}
	if (!S_ISREG(sb.st_mode)) {
		if (!S_ISDIR(sb.st_mode))
			dc_note(st, "%s is not a regular file: not read", path);
		close(fd);
		return NULL;
	}
	size_t want = (size_t)sb.st_size < max ? (size_t)sb.st_size : max;
	buf = xmalloc(want + 1);
	while (n < want) {
		ssize_t r = read(fd, buf + n, want - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			dc_note(st, "cannot read %s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if ((size_t)sb.st_size > max)
		dc_note(st, "%s is larger than %zu KiB: only its beginning is read", path, max / 1024);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ---- directories of drop-ins ----------------------------------------------------- */

struct dir_file {
	char *path;          /* host path */
	const char *base;    /* in path */
	size_t rank;         /* the directory's place in the list */
};

static int dir_file_cmp(const void *a, const void *b)
{
	const struct dir_file *x = a, *y = b;
	int c = strcmp(x->base, y->base);

	return c ? c : (x->rank < y->rank ? -1 : x->rank > y->rank);
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && strcmp(name + n - s, suffix) == 0;
}

static bool accept_conf(const char *name)
{
	return has_suffix(name, ".conf");
}

static bool accept_sources(const char *name)
{
	return has_suffix(name, ".sources");
}

static bool accept_cfg(const char *name)
{
	return has_suffix(name, ".cfg");
}

/* apt reads only names of letters, digits, '_', '-' and '.' */
static bool apt_name_ok(const char *name)
{
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == strlen(name);
}

static bool accept_apt_sources(const char *name)
{
	return apt_name_ok(name) && (has_suffix(name, ".list") || has_suffix(name, ".sources"));
}

/* apt.conf.d: no extension, or ".conf" */
static bool accept_apt_conf(const char *name)
{
	return apt_name_ok(name) && (!strchr(name, '.') || has_suffix(name, ".conf"));
}

/* The files in dirs (host paths) that accept() takes,
 * sorted by name; of equal names the earlier directory's. Hidden files
 * and directories are left out (as glob's "*" and systemd do). */
static size_t list_dirs(struct dc_state *st, const char *const *dirs, size_t n_dirs,
			bool (*accept)(const char *name), struct dir_file **out)
{
	struct dir_file *v = NULL;
	size_t n = 0, cap = 0, kept = 0;
	bool capped = false;
	char full[PATH_MAX];

	for (size_t d = 0; d < n_dirs; d++) {
		DIR *dir;
		struct dirent *de;

		if (!host_path(full, sizeof(full), dirs[d])) {
			dc_note(st, "%s: the path below CGNATCHECK_HOST_ROOT is too long: not read", dirs[d]);
			continue;
		}
		dir = opendir(full);
		if (!dir) {
			if (errno != ENOENT && errno != ENOTDIR)
				dc_note(st, "cannot read the directory %s: %s", dirs[d], strerror(errno));
			continue;
		}
		while ((de = readdir(dir))) {
			struct stat sb;
			char *path;
			if (de->d_name[0] == '.' || !accept(de->d_name))
				continue;
			if (fstatat(dirfd(dir), de->d_name, &sb, 0) == 0 && S_ISDIR(sb.st_mode))
				continue;
			if (n >= DIR_FILES_MAX) {
				capped = true;
				break;
			}
			if (asprintf(&path, "%s/%s", dirs[d], de->d_name) < 0)
				abort();
			grow_array((void **)&v, &cap, n + 1, sizeof(*v));
			v[n++] = (struct dir_file){ .path = path, .base = path + strlen(dirs[d]) + 1, .rank = d };
		}
		closedir(dir);
	}
	if (capped)
		dc_note(st, "more than %d files in %s%s: the rest are not read", DIR_FILES_MAX, dirs[0],
			n_dirs > 1 ? " and the directories beside it" : "");
	if (n > 1)
		qsort(v, n, sizeof(*v), dir_file_cmp);
	for (size_t i = 0; i < n; i++) {
		if (kept && strcmp(v[kept - 1].base, v[i].base) == 0) {
			free(v[i].path);
			continue;
		}
		v[kept++] = v[i];
	}
	*out = v;
	return kept;
}

static void dir_files_free(struct dir_file *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* ---- chrony -------------------------------------------------------------------- */

static void chrony_read(struct dc_state *st, const char *path, unsigned depth, bool sources);

/* "confdir DIR..." or "sourcedir DIR...": the directories in the line */
static void chrony_dirs(struct dc_state *st, const char *arg, const char *origin, unsigned depth, bool sources)
{
	const char *dirs[CHRONY_CONF_DIRS_MAX];
	char *copy = xstrdup(arg), *p = copy, *w;
	size_t n = 0;
	struct dir_file *files;

	while ((w = strsep(&p, " \t"))) {
		if (!*w)
			continue;
		if (n == CHRONY_CONF_DIRS_MAX) {
			dc_note(st, "%s: more than %d %s directories: chronyd refuses this line", origin,
				CHRONY_CONF_DIRS_MAX, sources ? "sourcedir" : "confdir");
			for (size_t i = 0; i < n; i++)
				free((char *)dirs[i]);
			free(copy);
			return;
		}
		/* chronyd runs in / */
		if (asprintf((char **)&dirs[n], "%s%s", w[0] == '/' ? "" : "/", w) < 0)
			abort();
		n++;
	}
	size_t nf = list_dirs(st, dirs, n, sources ? accept_sources : accept_conf, &files);
	for (size_t i = 0; i < nf; i++)
		chrony_read(st, files[i].path, depth + 1, sources);
	dir_files_free(files, nf);
	for (size_t i = 0; i < n; i++)
		free((char *)dirs[i]);
	free(copy);
}

/* "include PATTERN": the files the pattern matches below the host root */
static void chrony_include(struct dc_state *st, const char *pattern, const char *origin, unsigned depth)
{
	char root[PATH_MAX], full[PATH_MAX * 2];
	size_t rn, n = 0;
	glob_t gl;

	if (strpbrk(pattern, " \t")) {
		dc_note(st, "%s: include takes one pattern: chronyd refuses this line", origin);
		return;
	}
	if (!host_path(root, sizeof(root), "")) {
		dc_note(st, "%s: CGNATCHECK_HOST_ROOT is too long", origin);
		return;
	}
	rn = strlen(root);
	/* the root itself is no pattern */
	for (size_t i = 0; i < rn && n + 2 < sizeof(full); i++) {
		if (strchr("*?[\\", root[i]))
			full[n++] = '\\';
		full[n++] = root[i];
	}
	if (n + strlen(pattern) + 2 >= sizeof(full))
		return;
	snprintf(full + n, sizeof(full) - n, "%s%s", pattern[0] == '/' ? "" : "/", pattern);
	if (glob(full, 0, NULL, &gl) != 0)
		return; /* nothing matches: chronyd goes on too */
	for (size_t i = 0; i < gl.gl_pathc; i++)
		if (strncmp(gl.gl_pathv[i], root, rn) == 0)
			chrony_read(st, gl.gl_pathv[i] + rn, depth + 1, false);
	globfree(&gl);
}

static void chrony_read(struct dc_state *st, const char *path, unsigned depth, bool sources)
{
	size_t len, first, last;
	char *text;

	if (depth > CHRONY_INCLUDE_MAX) {
		dc_note(st, "%s: included more than %d levels deep: chronyd refuses it", path, CHRONY_INCLUDE_MAX);
		return;
	}
	text = read_host_file(st, path, FILE_MAX, &len);
	if (!text)
		return;
	first = st->n_chrony_dirs;
	if (sources)
		dc_parse_chrony_sources(st, origin_name(path), text, len);
	else
		dc_parse_chrony(st, origin_name(path), text, len, depth);
	free(text);
	/* what this file points to (the array may move and grow while they
	 * are read: the files they name queue their own) */
	last = st->n_chrony_dirs;
	for (size_t i = first; i < last; i++) {
		struct dc_chrony_dir d = st->chrony_dirs[i];
		char *arg = xstrdup(d.arg);
		switch (d.type) {
		case DC_CHRONY_INCLUDE:
			chrony_include(st, arg, d.origin, depth);
			break;
		case DC_CHRONY_CONFDIR:
			chrony_dirs(st, arg, d.origin, depth, false);
			break;
		case DC_CHRONY_SOURCEDIR:
			/* sources files do not nest */
			chrony_dirs(st, arg, d.origin, depth, true);
			break;
		}
		free(arg);
	}
}

static void discover_chrony(struct dc_state *st)
{
	char a[PATH_MAX], b[PATH_MAX];
	struct stat sb;

	/* chronyd reads one file, its compiled-in default: Debian's, else
	 * the other distributions' */
	if (host_path(a, sizeof(a), "/etc/chrony/chrony.conf") && stat(a, &sb) == 0) {
		if (host_path(b, sizeof(b), "/etc/chrony.conf") && stat(b, &sb) == 0)
			dc_note(st, "both /etc/chrony/chrony.conf and /etc/chrony.conf exist: the first is read (Debian's "
				    "chronyd reads it), not the second");
		chrony_read(st, "/etc/chrony/chrony.conf", 1, false);
		return;
	}
	chrony_read(st, "/etc/chrony.conf", 1, false);
}

/* ---- systemd-timesyncd ----------------------------------------------------------- */

static void discover_timesyncd(struct dc_state *st)
{
	static const char *const mains[] = {
		"/etc/systemd/timesyncd.conf", "/run/systemd/timesyncd.conf",
		"/usr/local/lib/systemd/timesyncd.conf", "/usr/lib/systemd/timesyncd.conf",
	};
	static const char *const dropins[] = {
		"/etc/systemd/timesyncd.conf.d", "/run/systemd/timesyncd.conf.d",
		"/usr/local/lib/systemd/timesyncd.conf.d", "/usr/lib/systemd/timesyncd.conf.d",
	};
	struct dir_file *files;
	size_t len, n;
	char *text;

	/* the main file: the first one found (systemd 254 and later look in
	 * all four places; earlier ones only in /etc) */
	for (size_t i = 0; i < ARRAY_SIZE(mains); i++) {
		text = read_host_file(st, mains[i], FILE_MAX, &len);
		if (!text)
			continue;
		dc_parse_timesyncd(st, origin_name(mains[i]), text, len);
		free(text);
		break;
	}
	/* then the drop-ins by name, whatever their directory; /etc's
	 * file of a name hides the others of that name */
	n = list_dirs(st, dropins, ARRAY_SIZE(dropins), accept_conf, &files);
	for (size_t i = 0; i < n; i++) {
		text = read_host_file(st, files[i].path, FILE_MAX, &len);
		if (!text)
			continue;
		dc_parse_timesyncd(st, origin_name(files[i].path), text, len);
		free(text);
	}
	dir_files_free(files, n);
}

/* ---- cloud-init ---------------------------------------------------------------- */

static void discover_cloud_init(struct dc_state *st)
{
	static const char *const dirs[] = { "/etc/cloud/cloud.cfg.d" };
	struct dir_file *files;
	size_t len, n;
	char *text;

	/* what cloud-init used: v1.subplatform names the metadata URL */
	text = read_host_file(st, "/run/cloud-init/instance-data.json", INSTANCE_DATA_MAX, &len);
	if (text) {
		dc_parse_cloud_instance_data(st, "instance-data.json", text, len);
		free(text);
	}
	/* what it is configured to try (the datasources' metadata_urls) */
	text = read_host_file(st, "/etc/cloud/cloud.cfg", FILE_MAX, &len);
	if (text) {
		dc_parse_cloud_cfg(st, "cloud.cfg", text, len);
		free(text);
	}
	n = list_dirs(st, dirs, 1, accept_cfg, &files);
	for (size_t i = 0; i < n; i++) {
		text = read_host_file(st, files[i].path, FILE_MAX, &len);
		if (!text)
			continue;
		dc_parse_cloud_cfg(st, origin_name(files[i].path), text, len);
		free(text);
	}
	dir_files_free(files, n);
}

/* ---- apt -------------------------------------------------------------------------- */

static void discover_apt(struct dc_state *st)
{
	static const char *const dirs[] = { "/etc/apt/sources.list.d" }, *const confdirs[] = { "/etc/apt/apt.conf.d" };
	struct dir_file *files;
	size_t len, n;
	char *text;

	text = read_host_file(st, "/etc/apt/sources.list", FILE_MAX, &len);
	if (text) {
		dc_parse_apt_list(st, "sources.list", text, len);
		free(text);
	}
	n = list_dirs(st, dirs, 1, accept_apt_sources, &files);
	for (size_t i = 0; i < n; i++) {
		text = read_host_file(st, files[i].path, FILE_MAX, &len);
		if (!text)
			continue;
		if (has_suffix(files[i].path, ".list"))
			dc_parse_apt_list(st, origin_name(files[i].path), text, len);
		else
			dc_parse_apt_sources(st, origin_name(files[i].path), text, len);
		free(text);
	}
	dir_files_free(files, n);
	/* its proxies: apt.conf.d's files by name, then apt.conf (the last
	 * setting wins) */
	n = list_dirs(st, confdirs, 1, accept_apt_conf, &files);
	for (size_t i = 0; i < n; i++) {
		text = read_host_file(st, files[i].path, FILE_MAX, &len);
		if (!text)
			continue;
		dc_parse_apt_conf(st, origin_name(files[i].path), text, len);
		free(text);
	}
	dir_files_free(files, n);
	text = read_host_file(st, "/etc/apt/apt.conf", FILE_MAX, &len);
	if (text) {
		dc_parse_apt_conf(st, "apt.conf", text, len);
		free(text);
	}
}

int discover_config(const struct discover_scope *s, struct discovered_list *l)
{
	struct dc_state st;
	size_t len;
	char *text;

	dc_state_init(&st, s, l);
	/* in this order: the first origin of an address stays */
	discover_chrony(&st);
	discover_timesyncd(&st);
	dc_flush(&st);
	discover_cloud_init(&st);
	dc_flush(&st);
	discover_apt(&st);
	dc_flush(&st);
	text = read_host_file(&st, "/etc/hosts", FILE_MAX, &len);
	if (text) {
		dc_parse_hosts(&st, "hosts", text, len);
		free(text);
	}
	dc_finish(&st, resolver_override ? resolver_override : dc_resolve_glibc);
	dc_state_free(&st);
	return 0;
}
