/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by every stage: cleanup attributes, logging that
 * returns negative errno values (systemd style), array sizes. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

static inline void freep(void *p) { free(*(void **)p); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_ _cleanup_(closep)

/* Exit status contract (design.md): */
enum {
	CG_EXIT_OK = 0,        /* every target reachable, no findings */
	CG_EXIT_WARNING = 1,   /* warnings only */
	CG_EXIT_BLOCKED = 2,   /* a target is blocked or unroutable */
	CG_EXIT_FAILURE = 3,   /* the audit could not be completed */
};

enum cg_log_level { CG_LOG_ERR, CG_LOG_WARNING, CG_LOG_INFO, CG_LOG_DEBUG };

void cg_log_set_level(enum cg_log_level level);
/* Logs "cgnatcheck: <message>" to stderr. When err != 0, ": <strerror(-err)>"
 * is appended. Returns -abs(err) (or -EINVAL when err == 0) so callers can
 * write `return log_error_errno(r, "...")`. */
int cg_log(enum cg_log_level level, int err, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) cg_log(CG_LOG_ERR, 0, __VA_ARGS__)
#define log_error_errno(e, ...) cg_log(CG_LOG_ERR, (e), __VA_ARGS__)
#define log_warning(...) cg_log(CG_LOG_WARNING, 0, __VA_ARGS__)
#define log_info(...) cg_log(CG_LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) cg_log(CG_LOG_DEBUG, 0, __VA_ARGS__)

/* Allocation failure is not a condition we can report usefully; abort. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
/* asprintf(), and appending a formatted string to a malloc'd one (*s NULL:
 * a new one); both abort when memory runs out. */
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
void xappendf(char **s, const char *fmt, ...) _printf_(2, 3);
/* Grows *array (of *cap elements of size `size`) to hold at least `need`. */
void grow_array(void **array, size_t *cap, size_t need, size_t size);
