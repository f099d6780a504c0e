/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One output path for the reports, in the spirit of iproute2's json_print.h:
 * a report is written once, as a sequence of print calls, and each call
 * either prints its text form (a printf format and one value) or adds a
 * member to the JSON document, by the printer's mode. Text and JSON cannot
 * drift apart where they say the same thing; what exists in one output only
 * is marked with PRINT_TEXT or PRINT_JSON at the call.
 *
 *	print_string(p, PRINT_ANY, "dev", " dev %s", name);
 *
 * prints " dev eth0" in text mode and adds "dev": "eth0" in JSON mode. A
 * NULL string prints nothing in text and null in JSON, so an optional part
 * is one call. In JSON mode the document is built with json-c (members keep
 * their insertion order) and serialised by print_finish() with the flags
 * the report gave print_init(); in text mode every call writes at once and
 * the open/close calls do nothing.
 *
 * Keys: a member of the current object needs one; an element of the current
 * array takes NULL. The root is an object, created by print_init(). A NULL
 * format prints nothing in text mode (a JSON-only value can also be given
 * as PRINT_ANY with no format).
 *
 * Size: an array of the root (an audit's targets, its findings) is written
 * element by element, each serialised by json-c as soon as it is complete
 * and then freed, so a report of 200,000 targets never holds more than one
 * of them; the output is byte for byte what serialising the whole document
 * at once gives. A value that repeats (a rule, one direction of a trace
 * that many targets share) is built once and shared: print_reuse() and
 * print_keep(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/options.h"

enum print_type {
	PRINT_TEXT = 1 << 0,
	PRINT_JSON = 1 << 1,
	PRINT_ANY = PRINT_TEXT | PRINT_JSON,
};

/* Text colours: SGR sequences on a terminal (PRINT_F_COLOR), else nothing. */
enum print_color { COLOR_NONE, COLOR_BOLD, COLOR_RED, COLOR_YELLOW, COLOR_GREEN, COLOR_DIM };

enum {
	/* colour the text when out is a terminal, $NO_COLOR is unset and
	 * $TERM is set and not "dumb" */
	PRINT_F_COLOR = 1 << 0,
};

#define PRINT_MAX_DEPTH 16

struct json_object;

struct print_memo;
struct print_cut;

/* Set up by print_init(), then the layer's own (a test may force color). */
struct printer {
	FILE *out;
	bool json;
	bool color;
	int json_flags;                  /* json_object_to_json_string_ext()'s */
	struct json_object *stack[PRINT_MAX_DEPTH]; /* [0]: the root */
	unsigned depth;                  /* entries in stack */
	struct json_object *last;        /* the value completed last */
	bool last_held;                  /* last is a reference of the printer's */
	/* the root's arrays written as they go (print.c) */
	bool streaming;                  /* stack[1] is such an array */
	struct json_object *wrapper;     /* [stack[1]]: puts its element at its depth */
	size_t wrapper_head, wrapper_tail;  /* the wrappers' text around the element */
	size_t streamed;                 /* its elements written */
	struct print_cut **cuts;         /* one per such array, in the root's order */
	size_t n_cuts;
	struct print_memo *memo;         /* shared values */
};

/* Starts a report on out; json_flags are used by print_finish() in JSON
 * mode (JSON_C_TO_STRING_*), flags are PRINT_F_*. */
void print_init(struct printer *p, FILE *out, enum cg_format format, int json_flags, unsigned flags);

/* JSON mode: writes the document and a newline. Both modes: frees what
 * the printer holds. Returns 0 or -EIO (output error). */
int print_finish(struct printer *p);

static inline bool print_is_json(const struct printer *p) { return p->json; }

/* Opening and closing a nested object or array (JSON mode only): key names
 * it in the current object, NULL adds it to the current array. */
void open_json_object(struct printer *p, const char *key);
void close_json_object(struct printer *p);
void open_json_array(struct printer *p, const char *key);
void close_json_array(struct printer *p);

/* One value each. In text mode fmt is printf'd with the value (nothing when
 * fmt is NULL), so it holds exactly one conversion of the value's type
 * (print_u64: PRIu64); in JSON mode the value is added under key. */
void print_string(struct printer *p, enum print_type t, const char *key, const char *fmt, const char *value);
void print_int(struct printer *p, enum print_type t, const char *key, const char *fmt, int value);
void print_uint(struct printer *p, enum print_type t, const char *key, const char *fmt, unsigned value);
void print_int64(struct printer *p, enum print_type t, const char *key, const char *fmt, int64_t value);
void print_u64(struct printer *p, enum print_type t, const char *key, const char *fmt, uint64_t value);
void print_double(struct printer *p, enum print_type t, const char *key, const char *fmt, double value);
/* text: fmt with "true" or "false" */
void print_bool(struct printer *p, enum print_type t, const char *key, const char *fmt, bool value);
/* JSON null; text: fmt as it is (no value) */
void print_null(struct printer *p, enum print_type t, const char *key, const char *fmt);

/* print_string() with the text in a colour. */
void print_color_string(struct printer *p, enum print_type t, enum print_color c, const char *key,
			const char *fmt, const char *value);

/* JSON mode: when a value was kept under id (len bytes, compared as bytes),
 * adds it again under key and returns true; the caller prints nothing.
 * Otherwise (and in text mode) returns false: the caller prints the value,
 * then calls print_keep() with the same id. The value must not depend on
 * anything but what id says. */
bool print_reuse(struct printer *p, const char *key, const void *id, size_t len);
/* JSON mode: keeps the value just printed (a scalar, or the object or array
 * just closed) under id. */
void print_keep(struct printer *p, const void *id, size_t len);

/* Text only: printf-style, for the words around the values. */
void print_text(struct printer *p, const char *fmt, ...) _printf_(2, 3);
void print_color_text(struct printer *p, enum print_color c, const char *fmt, ...) _printf_(3, 4);
