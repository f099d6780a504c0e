/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A sysctl as it is now (/proc/sys) and as the next boot sets it
 * (sysctl.d(5), applied by systemd-sysctl before sysinit.target, so before
 * any unit with default dependencies binds). A value set by hand is gone at
 * the next boot; only the files count for "at the next boot". */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/units.h"
#include "units-internal.h"

static const char *const sysctl_dirs[] = {
	"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d",
};

/* sysctl_normalize(): "net/ipv4/x" and "net.ipv4.x" name the same key;
 * with "/" as the first separator, a "." is part of a name */
static void normalize_key(const char *in, char *out, size_t size)
{
	const char *slash = strchr(in, '/'), *dot = strchr(in, '.');
	bool swap = slash && (!dot || slash < dot);
	size_t n = 0;

	for (; *in && n + 1 < size; in++)
		out[n++] = swap && *in == '/' ? '.' : swap && *in == '.' ? '/' : *in;
	out[n] = '\0';
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int sysctl_text_find(const char *file, const char *text, size_t len, const char *key, int *value,
		     unsigned *line, struct unit_notes *notes)
{
	char want[256];
	unsigned ln = 0;
	int found = 0;
	size_t pos = 0;

	if (memchr(text, '\0', len)) {
		unit_note(notes, "%s: a NUL byte: not a sysctl.d file, not read", file);
		return -EINVAL;
	}
	normalize_key(key, want, sizeof(want));
	while (pos < len) {
		size_t start = pos, n;
		char *buf, *l, *eq, *k, *v, norm[256];

		while (pos < len && text[pos] != '\n')
			pos++;
		n = pos - start;
		if (pos < len)
			pos++;
		ln++;
		buf = xmalloc(n + 1);
		memcpy(buf, text + start, n);
		buf[n] = '\0';
		l = trim(buf);
		if (!*l || *l == '#' || *l == ';') {
			free(buf);
			continue;
		}
		eq = strchr(l, '=');
		if (!eq) {
			unit_note(notes, "%s:%u: a line without '=', ignored", file, ln);
			free(buf);
			continue;
		}
		*eq = '\0';
		k = trim(l);
		v = trim(eq + 1);
		if (*k == '-')    /* "-key": errors setting it are ignored */
			k = trim(k + 1);
		normalize_key(k, norm, sizeof(norm));
		if (strcmp(norm, want) == 0) {
			char *end;
			long x;

			errno = 0;
			x = strtol(v, &end, 10);
			if (errno || end == v || *trim(end) || x < INT_MIN || x > INT_MAX) {
				unit_note(notes, "%s:%u: %s = %s is not a number, ignored", file, ln, k, v);
			} else {
				*value = (int)x;
				*line = ln;
				found = 1;
			}
		}
		free(buf);
	}
	return found;
}

void sysctl_read_setting(const char *key, struct sysctl_setting *out, struct unit_notes *notes)
{
	char path[PATH_MAX], *text;
	size_t len;
	const char *names[512];
	const char *paths[512];
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	out->now = -1;
	out->boot = -1;

	/* now */
	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	if (host_read_file(path, &text, &len, NULL, 0) == 0) {
		char *end;
		long v = strtol(text, &end, 10);
		if (end != text)
			out->now = (int)v;
		free(text);
	}

	/* at boot: each file name's first directory wins, names in order */
	char **dirent_names[ARRAY_SIZE(sysctl_dirs)] = { 0 };
	int counts[ARRAY_SIZE(sysctl_dirs)] = { 0 };
	for (size_t d = 0; d < ARRAY_SIZE(sysctl_dirs); d++) {
		int k = host_list_dir(sysctl_dirs[d], &dirent_names[d]);
		if (k < 0) {
			if (k != -ENOENT && k != -ENOTDIR)
				unit_note(notes, "%s: cannot read the directory: %s", sysctl_dirs[d], strerror(-k));
			continue;
		}
		counts[d] = k;
		for (int i = 0; i < k && n < ARRAY_SIZE(names); i++) {
			const char *nm = dirent_names[d][i];
			size_t l = strlen(nm);
			bool seen = false;

			if (l < 6 || strcmp(nm + l - 5, ".conf") != 0)
				continue;
			for (size_t j = 0; j < n; j++)
				seen |= strcmp(names[j], nm) == 0;
			if (seen)
				continue;
			names[n] = nm;
			paths[n] = sysctl_dirs[d];
			n++;
		}
	}
	/* insertion sort by file name: a handful of files */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];
			names[j] = names[j - 1], names[j - 1] = t;
			t = paths[j];
			paths[j] = paths[j - 1], paths[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		char file[PATH_MAX];
		int value, r;
		unsigned line;

		snprintf(file, sizeof(file), "%s/%s", paths[i], names[i]);
		r = host_read_file(file, &text, &len, NULL, 0);
		if (r < 0) {
			char res[PATH_MAX];
			/* a file masked by a symlink to /dev/null sets nothing */
			if (!(host_chase(file, res, sizeof(res)) <= 0 && strcmp(res, "/dev/null") == 0))
				unit_note(notes, "%s: cannot read: %s", file, strerror(-r));
			continue;
		}
		if (sysctl_text_find(file, text, len, key, &value, &line, notes) > 0) {
			out->boot = value;
			if (snprintf(out->boot_where, sizeof(out->boot_where), "%s:%u", file, line) >=
			    (int)sizeof(out->boot_where))
				out->boot_where[sizeof(out->boot_where) - 1] = '\0';
		}
		free(text);
	}
	for (size_t d = 0; d < ARRAY_SIZE(sysctl_dirs); d++)
		host_list_free(dirent_names[d], counts[d]);
}
