/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host roots for the unit tests of units.c and services.c: a temporary
 * directory that CGNATCHECK_HOST_ROOT points at, filled file by file or from
 * a fixture tree of tests/data/units/ (whose "symlinks" file lists the links
 * to make: "LINK TARGET", LINK relative to the root; a distribution tarball
 * does not keep symlinks). */
#pragma once

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>

static char tree_root[PATH_MAX];

/* snprintf() that fails the test when the path does not fit */
static __attribute__((unused, format(printf, 3, 4))) void tree_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "units-tree: a path too long: %s\n", buf);
		exit(99);
	}
}

static __attribute__((unused)) void tree_die(const char *what, const char *path)
{
	fprintf(stderr, "units-tree: %s %s: %s\n", what, path, strerror(errno));
	exit(99);
}

static __attribute__((unused)) void tree_mkdirs(const char *path)
{
	char buf[PATH_MAX];

	tree_fmt(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				tree_die("mkdir", buf);
			*p = '/';
		}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		tree_die("mkdir", buf);
}

static __attribute__((unused)) void tree_parent(const char *full)
{
	char dir[PATH_MAX];

	tree_fmt(dir, sizeof(dir), "%s", full);
	*strrchr(dir, '/') = '\0';
	tree_mkdirs(dir);
}

static __attribute__((unused)) void tree_new(void)
{
	const char *tmp = getenv("TMPDIR");

	tree_fmt(tree_root, sizeof(tree_root), "%s/cgt-units-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tree_root))
		tree_die("mkdtemp", tree_root);
	setenv("CGNATCHECK_HOST_ROOT", tree_root, 1);
}

static __attribute__((unused)) void tree_file(const char *path, const char *content)
{
	char full[PATH_MAX];
	FILE *f;

	tree_fmt(full, sizeof(full), "%s%s", tree_root, path);
	tree_parent(full);
	f = fopen(full, "w");
	if (!f)
		tree_die("create", full);
	fputs(content, f);
	fclose(f);
}

static __attribute__((unused)) void tree_link(const char *path, const char *target)
{
	char full[PATH_MAX];

	tree_fmt(full, sizeof(full), "%s%s", tree_root, path);
	tree_parent(full);
	unlink(full);
	if (symlink(target, full) < 0)
		tree_die("symlink", full);
}

static __attribute__((unused)) void tree_dir(const char *path)
{
	char full[PATH_MAX];

	tree_fmt(full, sizeof(full), "%s%s", tree_root, path);
	tree_mkdirs(full);
}

static __attribute__((unused)) void tree_copy_dir(const char *src, const char *dst_rel, int top)
{
	DIR *d = opendir(src);
	struct dirent *de;

	if (!d)
		tree_die("opendir", src);
	while ((de = readdir(d))) {
		char s[PATH_MAX], rel[PATH_MAX];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (top && (!strcmp(de->d_name, "symlinks") || !strcmp(de->d_name, "README")))
			continue;
		tree_fmt(s, sizeof(s), "%s/%s", src, de->d_name);
		tree_fmt(rel, sizeof(rel), "%s/%s", dst_rel, de->d_name);
		if (lstat(s, &st) < 0)
			tree_die("lstat", s);
		if (S_ISDIR(st.st_mode)) {
			tree_dir(rel);
			tree_copy_dir(s, rel, 0);
		} else if (S_ISREG(st.st_mode)) {
			FILE *f = fopen(s, "r");
			char *buf = malloc((size_t)st.st_size + 1);
			size_t n;
			if (!f || !buf)
				tree_die("read", s);
			n = fread(buf, 1, (size_t)st.st_size, f);
			buf[n] = '\0';
			fclose(f);
			tree_file(rel, buf);
			free(buf);
		}
	}
	closedir(d);
}

static __attribute__((unused)) void tree_links_from(const char *file)
{
	FILE *f = fopen(file, "r");
	char line[PATH_MAX];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char link[PATH_MAX], target[PATH_MAX], rel[PATH_MAX + 1];
		if (line[0] == '#' || sscanf(line, "%4095s %4095s", link, target) != 2)
			continue;
		tree_fmt(rel, sizeof(rel), "/%s", link);
		tree_link(rel, target);
	}
	fclose(f);
}

/* The fixture `name` of dir (its base first): base, then the case. */
static __attribute__((unused)) void tree_fixture(const char *dir, const char *name)
{
	char src[PATH_MAX];

	tree_new();
	tree_fmt(src, sizeof(src), "%s/base", dir);
	tree_copy_dir(src, "", 1);
	tree_fmt(src, sizeof(src), "%s/%s", dir, name);
	tree_copy_dir(src, "", 1);
	tree_fmt(src, sizeof(src), "%s/base/symlinks", dir);
	tree_links_from(src);
	tree_fmt(src, sizeof(src), "%s/%s/symlinks", dir, name);
	tree_links_from(src);
}

static __attribute__((unused)) int tree_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static __attribute__((unused)) void tree_free(void)
{
	if (tree_root[0])
		nftw(tree_root, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tree_root[0] = '\0';
	unsetenv("CGNATCHECK_HOST_ROOT");
}
