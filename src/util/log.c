/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "cgnatcheck/common.h"

static enum cg_log_level max_level = CG_LOG_WARNING;

void cg_log_set_level(enum cg_log_level level)
{
	max_level = level;
}

int cg_log(enum cg_log_level level, int err, const char *fmt, ...)
{
	int r = err < 0 ? err : (err > 0 ? -err : -EINVAL);

	if (level > max_level)
		return r;
	va_list ap;
	fputs("cgnatcheck: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err != 0)
		fprintf(stderr, ": %s", strerror(-r));
	fputc('\n', stderr);
	return r;
}

static void *check_alloc(void *p)
{
	if (!p) {
		fputs("cgnatcheck: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xmalloc(size_t n) { return check_alloc(malloc(n ? n : 1)); }
void *xcalloc(size_t n, size_t size) { return check_alloc(calloc(n ? n : 1, size ? size : 1)); }
void *xrealloc(void *p, size_t n) { return check_alloc(realloc(p, n ? n : 1)); }
void *xreallocarray(void *p, size_t n, size_t size)
{
	return check_alloc(reallocarray(p, n ? n : 1, size ? size : 1));
}
char *xstrdup(const char *s) { return check_alloc(strdup(s)); }

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return check_alloc(r < 0 ? NULL : s);
}

void xappendf(char **s, const char *fmt, ...)
{
	va_list ap;
	char *add, *n;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&add, fmt, ap);
	va_end(ap);
	check_alloc(r < 0 ? NULL : add);
	n = xasprintf("%s%s", *s ? *s : "", add);
	free(add);
	free(*s);
	*s = n;
}

void grow_array(void **array, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	*array = xreallocarray(*array, n, size);
	*cap = n;
}
