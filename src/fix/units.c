/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writes the unit files of the services' remedies and removes them again
 * (fix-units.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgnatcheck/audit-state.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/fix-units.h"
#include "cgnatcheck/hostfacts.h"

extern char **environ;

/* The whole file, or NULL with errno set (ENOENT: there is none). */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 8192;
			if (cap > (16u << 20)) {
				free(buf);
				fclose(f);
				errno = EFBIG;
				return NULL;
			}
			buf = xrealloc(buf, cap);
		}
		size_t k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno ? errno : EIO;
		free(buf);
		fclose(f);
		errno = e;
		return NULL;
	}
	fclose(f);
	if (!buf)
		buf = xcalloc(1, 1);
	buf[n] = 0;
	*len = n;
	return buf;
}

static bool is_ours(const char *text)
{
	return strncmp(text, UNIT_FIX_TAG, strlen(UNIT_FIX_TAG)) == 0;
}

size_t unit_fix_plan(const struct svc_report *r, struct unit_fix **out)
{
	size_t n = 0, cap = 0;
	char where[PATH_MAX];

	*out = NULL;
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct svc_finding *f = &r->findings[i];
		for (size_t k = 0; k < f->n_remedies; k++) {
			const struct svc_remedy *rm = &f->remedies[k];
			struct unit_fix *u;
			bool seen = false;

			for (size_t j = 0; j < n && !seen; j++) {
				if (strcmp((*out)[j].remedy->path, rm->path) != 0)
					continue;
				seen = true;
				/* two findings want different files in one place */
				if (strcmp((*out)[j].remedy->content, rm->content) != 0 &&
				    (*out)[j].result != UNIT_FIX_REFUSED) {
					(*out)[j].result = UNIT_FIX_REFUSED;
					snprintf((*out)[j].why, sizeof((*out)[j].why),
						 "%s and %s need different contents in this file", (*out)[j].finding->unit,
						 f->unit);
				}
			}
			if (seen)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 8;
				*out = xreallocarray(*out, cap, sizeof(**out));
			}
			u = &(*out)[n++];
			memset(u, 0, sizeof(*u));
			u->finding = f;
			u->remedy = rm;
			u->result = UNIT_FIX_WRITE;
			if (!f->remedy_verified) {
				u->result = UNIT_FIX_REFUSED;
				snprintf(u->why, sizeof(u->why), "the analysis run again with this remedy in place did "
					 "not clear %s; nothing is written for it", f->unit);
				continue;
			}
			if (rm->path[0] != '/' || strstr(rm->path, "/../") || !host_path(where, sizeof(where), rm->path)) {
				u->result = UNIT_FIX_REFUSED;
				snprintf(u->why, sizeof(u->why), "not a path cgnatcheck writes: %.200s", rm->path);
				continue;
			}
			size_t len;
			_cleanup_free_ char *old = read_all(where, &len);
			if (!old && errno == ENOENT)
				continue;
			if (!old) {
				u->result = UNIT_FIX_REFUSED;
				snprintf(u->why, sizeof(u->why), "%s cannot be read (%s)", rm->path, strerror(errno));
			} else if (!strcmp(old, rm->content)) {
				u->result = UNIT_FIX_UNCHANGED;
			} else if (!is_ours(old)) {
				u->result = UNIT_FIX_REFUSED;
				snprintf(u->why, sizeof(u->why), "%s is there and is not cgnatcheck's: cgnatcheck does not "
					 "overwrite it; add the setting to it yourself", rm->path);
			}
		}
	}
	/* all or none: a file refused, and the run writes none of the others */
	const struct unit_fix *first = NULL;
	for (size_t j = 0; j < n && !first; j++)
		if ((*out)[j].result == UNIT_FIX_REFUSED)
			first = &(*out)[j];
	for (size_t j = 0; first && j < n; j++) {
		struct unit_fix *u = &(*out)[j];
		if (u->result != UNIT_FIX_WRITE)
			continue;
		u->result = UNIT_FIX_REFUSED;
		snprintf(u->why, sizeof(u->why), "%.160s is refused (see above), and a run writes all its files or none",
			 first->remedy->path);
	}
	return n;
}

/* The directories a run created, for --undo to remove once empty. */
static int dirs_record(char *const *dirs, size_t n)
{
	char path[PATH_MAX];
	FILE *f;
	int r;

	if (!n)
		return 0;
	r = cg_state_dir_prepare("the list of unit directories cgnatcheck created (unit-dirs)");
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/unit-dirs", cg_state_dir());
	f = fopen(path, "ae");
	if (!f)
		return -errno;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", dirs[i]);
	r = fflush(f) != 0 || fsync(fileno(f)) < 0 ? -errno : 0;
	fclose(f);
	return r;
}

/* mkdir -p of the file's directory (host paths); the ones made are
 * appended to made[] (host paths, deepest last). */
static int make_parents(const char *file, char ***made, size_t *n_made)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", file);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = 0;
		char where[PATH_MAX];
		if (!host_path(where, sizeof(where), dir))
			return -ENAMETOOLONG;
		if (mkdir(where, 0755) == 0) {
			*made = xreallocarray(*made, *n_made + 1, sizeof(**made));
			(*made)[(*n_made)++] = xstrdup(dir);
		} else if (errno != EEXIST) {
			return -errno;
		}
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

static int write_temp(const char *where, const char *content, char *tmp, size_t size)
{
	size_t len = strlen(content);
	int fd, r = 0;

	snprintf(tmp, size, "%s.cgnatcheck-new", where);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, content + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (!r && fchmod(fd, 0644) < 0)
		r = -errno;
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int unit_fix_apply(struct unit_fix *v, size_t n)
{
	char **made = NULL, **tmps = xcalloc(n + 1, sizeof(*tmps));
	size_t n_made = 0;
	int r = 0;
	size_t failed_at = n;

	/* every file beside its place first */
	for (size_t i = 0; i < n && !r; i++) {
		char where[PATH_MAX], tmp[PATH_MAX + 32];
		if (v[i].result != UNIT_FIX_WRITE)
			continue;
		host_path(where, sizeof(where), v[i].remedy->path);
		r = make_parents(v[i].remedy->path, &made, &n_made);
		if (!r)
			r = write_temp(where, v[i].remedy->content, tmp, sizeof(tmp));
		if (r)
			failed_at = i;
		else
			tmps[i] = xstrdup(tmp);
	}
	/* then each into place */
	for (size_t i = 0; i < n && !r; i++) {
		char where[PATH_MAX];
		if (!tmps[i])
			continue;
		host_path(where, sizeof(where), v[i].remedy->path);
		if (rename(tmps[i], where) < 0) {
			r = -errno;
			failed_at = i;
			/* the ones renamed already go again */
			for (size_t k = 0; k < i; k++)
				if (tmps[k]) {
					char w[PATH_MAX];
					host_path(w, sizeof(w), v[k].remedy->path);
					unlink(w);
				}
			break;
		}
		free(tmps[i]);
		tmps[i] = NULL;
	}
	if (!r)
		r = dirs_record(made, n_made);
	for (size_t i = 0; i < n; i++) {
		if (tmps[i])
			unlink(tmps[i]);
		free(tmps[i]);
		if (v[i].result != UNIT_FIX_WRITE)
			continue;
		if (r) {
			v[i].result = UNIT_FIX_FAILED;
			if (i == failed_at)
				snprintf(v[i].why, sizeof(v[i].why), "%s cannot be written (%s)", v[i].remedy->path,
					 strerror(-r));
			else
				snprintf(v[i].why, sizeof(v[i].why), "not written: another file of this run could not be "
					 "(%s)", strerror(-r));
		} else {
			v[i].result = UNIT_FIX_WRITTEN;
		}
	}
	/* a failed run leaves no directory of its own either */
	for (size_t i = n_made; r && i-- > 0;) {
		char where[PATH_MAX];
		if (host_path(where, sizeof(where), made[i]))
			rmdir(where);
	}
	unit_fix_strv_free(made, n_made);
	free(tmps);
	return r;
}

void unit_fix_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void add_removed(char ***removed, size_t *n, const char *path)
{
	*removed = xreallocarray(*removed, *n + 2, sizeof(**removed));
	(*removed)[(*n)++] = xstrdup(path);
	(*removed)[*n] = NULL;
}

/* Removes cgnatcheck's regular files in dir (a host path), and with depth,
 * those of its *.d subdirectories. */
static int undo_dir(const char *dir, bool depth, char ***removed, size_t *n_removed)
{
	char where[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (!host_path(where, sizeof(where), dir))
		return -ENAMETOOLONG;
	d = opendir(where);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char path[PATH_MAX], hp[PATH_MAX];
		struct stat st;
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
		    !host_path(hp, sizeof(hp), path) || lstat(hp, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth && len > 2 && !strcmp(e->d_name + len - 2, ".d")) {
				int k = undo_dir(path, false, removed, n_removed);
				if (k < 0 && !r)
					r = k;
			}
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		size_t n;
		_cleanup_free_ char *text = read_all(hp, &n);
		if (!text || !is_ours(text))
			continue;
		if (unlink(hp) < 0) {
			if (!r)
				r = -errno;
			continue;
		}
		add_removed(removed, n_removed, path);
	}
	closedir(d);
	return r;
}

int unit_fix_undo(char ***removed, size_t *n_removed)
{
	static const char *const dirs[] = { "/etc/systemd/system", "/etc/systemd/system.control" };
	char path[PATH_MAX];
	int r = 0;

	*removed = NULL;
	*n_removed = 0;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		int k = undo_dir(dirs[i], true, removed, n_removed);
		if (k < 0 && !r)
			r = k;
	}
	if (r < 0)
		return r;
	/* the directories runs created, deepest first (each line was
	 * written after its parent's) */
	snprintf(path, sizeof(path), "%s/unit-dirs", cg_state_dir());
	size_t len;
	_cleanup_free_ char *list = read_all(path, &len);
	if (!list)
		return errno == ENOENT ? 0 : -errno;
	char **lines = NULL;
	size_t n = 0;
	for (char *save = NULL, *l = strtok_r(list, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lines = xreallocarray(lines, n + 1, sizeof(*lines));
		lines[n++] = l;
	}
	/* one that is not empty holds someone's files now: it stays */
	for (size_t i = n; i-- > 0;) {
		char where[PATH_MAX];
		if (lines[i][0] == '/' && host_path(where, sizeof(where), lines[i]))
			(void)rmdir(where);
	}
	free(lines);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int unit_fix_reload(char *why, size_t size)
{
	const char *root = getenv("CGNATCHECK_HOST_ROOT");
	char *const argv[] = { (char *)"systemctl", (char *)"daemon-reload", NULL };
	pid_t pid;
	int status, r;

	why[0] = 0;
	if ((root && *root && strcmp(root, "/") != 0) || access("/run/systemd/system", F_OK) < 0)
		return 0;
	r = posix_spawnp(&pid, "systemctl", NULL, NULL, argv, environ);
	if (r) {
		snprintf(why, size, "systemctl daemon-reload could not be run (%s)", strerror(r));
		return -r;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, size, "systemctl daemon-reload: %s", strerror(errno));
			return -errno;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(why, size, "systemctl daemon-reload failed (status %d)",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -EIO;
	}
	return 1;
}
