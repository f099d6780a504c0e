/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The print layer (print.h): text written as it comes, JSON built with
 * json-c and serialised once at the end. */
#include "config.h"

#include <assert.h>
#include <json-c/json.h>
#include <string.h>

#include "cgnatcheck/print.h"

static const char *const sgr[] = {
	[COLOR_NONE] = "", [COLOR_BOLD] = "\033[1m", [COLOR_RED] = "\033[31m",
	[COLOR_YELLOW] = "\033[33m", [COLOR_GREEN] = "\033[32m", [COLOR_DIM] = "\033[2m",
};
#define SGR_RESET "\033[0m"

static bool color_wanted(FILE *out)
{
	const char *term = getenv("TERM");

	return isatty(fileno(out)) && !getenv("NO_COLOR") && term && strcmp(term, "dumb") != 0;
}

void print_init(struct printer *p, FILE *out, enum cg_format format, int json_flags, unsigned flags)
{
	*p = (struct printer){
		.out = out,
		.json = format == CG_FORMAT_JSON,
		.json_flags = json_flags,
	};
	if (p->json) {
		p->stack[0] = json_object_new_object();
		p->depth = 1;
	} else {
		p->color = (flags & PRINT_F_COLOR) && color_wanted(out);
	}
}

int print_finish(struct printer *p)
{
	int r = 0;

	if (p->json) {
		/* an open without its close is a bug in the report */
		assert(p->depth == 1);
		if (fputs(json_object_to_json_string_ext(p->stack[0], p->json_flags), p->out) < 0 ||
		    fputc('\n', p->out) == EOF)
			r = -EIO;
		json_object_put(p->stack[0]);
		p->stack[0] = NULL;
		p->depth = 0;
	}
	return r < 0 || ferror(p->out) ? -EIO : 0;
}

/* ---- JSON ------------------------------------------------------------------- */

/* Adds v (NULL: null) to the current object under key, or to the current
 * array when key is NULL. Takes v's reference. */
static void json_add(struct printer *p, const char *key, struct json_object *v)
{
	struct json_object *cur = p->stack[p->depth - 1];

	if (json_object_is_type(cur, json_type_array)) {
		assert(!key);
		json_object_array_add(cur, v);
	} else {
		assert(key);
		json_object_object_add(cur, key, v);
	}
}

static void json_push(struct printer *p, const char *key, struct json_object *v)
{
	assert(p->depth < PRINT_MAX_DEPTH);
	json_add(p, key, v);
	p->stack[p->depth++] = v;
}

static void json_pop(struct printer *p, enum json_type type)
{
	assert(p->depth > 1 && json_object_is_type(p->stack[p->depth - 1], type));
	p->depth--;
}

void open_json_object(struct printer *p, const char *key)
{
	if (p->json)
		json_push(p, key, json_object_new_object());
}

void close_json_object(struct printer *p)
{
	if (p->json)
		json_pop(p, json_type_object);
}

void open_json_array(struct printer *p, const char *key)
{
	if (p->json)
		json_push(p, key, json_object_new_array());
}

void close_json_array(struct printer *p)
{
	if (p->json)
		json_pop(p, json_type_array);
}

/* ---- values ----------------------------------------------------------------- */

/* Whether a call of type t writes its text, or adds its JSON value. */
static bool wants_text(const struct printer *p, enum print_type t, const char *fmt)
{
	return !p->json && (t & PRINT_TEXT) && fmt;
}

static bool wants_json(const struct printer *p, enum print_type t)
{
	return p->json && (t & PRINT_JSON);
}

/* A colour's SGR sequence before a coloured text; returns whether the reset
 * is due after it. */
static bool color_begin(struct printer *p, enum print_color c)
{
	if (!p->color || c == COLOR_NONE)
		return false;
	fputs(sgr[c], p->out);
	return true;
}

static void color_end(struct printer *p, bool on)
{
	if (on)
		fputs(SGR_RESET, p->out);
}

/* The text forms: fmt is the caller's, a literal with one conversion of
 * the value's type (print.h); print_text()'s are checked by the compiler. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

void print_string(struct printer *p, enum print_type t, const char *key, const char *fmt, const char *value)
{
	print_color_string(p, t, COLOR_NONE, key, fmt, value);
}

void print_color_string(struct printer *p, enum print_type t, enum print_color c, const char *key,
			const char *fmt, const char *value)
{
	if (wants_json(p, t))
		json_add(p, key, value ? json_object_new_string(value) : NULL);
	else if (wants_text(p, t, fmt) && value) {
		bool on = color_begin(p, c);
		fprintf(p->out, fmt, value);
		color_end(p, on);
	}
}

/* The numbers: text through fmt, JSON through json-c's constructor. */
#define PRINT_NUMBER(name, type, json_new)                                                        \
	void name(struct printer *p, enum print_type t, const char *key, const char *fmt, type value) \
	{                                                                                         \
		if (wants_json(p, t))                                                             \
			json_add(p, key, json_new(value));                                        \
		else if (wants_text(p, t, fmt))                                                   \
			fprintf(p->out, fmt, value);                                              \
	}

PRINT_NUMBER(print_int, int, json_object_new_int)
PRINT_NUMBER(print_uint, unsigned, json_object_new_int64)
PRINT_NUMBER(print_int64, int64_t, json_object_new_int64)
PRINT_NUMBER(print_u64, uint64_t, json_object_new_uint64)
PRINT_NUMBER(print_double, double, json_object_new_double)

void print_bool(struct printer *p, enum print_type t, const char *key, const char *fmt, bool value)
{
	if (wants_json(p, t))
		json_add(p, key, json_object_new_boolean(value));
	else if (wants_text(p, t, fmt))
		fprintf(p->out, fmt, value ? "true" : "false");
}

static void vprint_color_text(struct printer *p, enum print_color c, const char *fmt, va_list ap)
{
	bool on;

	if (p->json)
		return;
	on = color_begin(p, c);
	vfprintf(p->out, fmt, ap);
	color_end(p, on);
}

#pragma GCC diagnostic pop

void print_null(struct printer *p, enum print_type t, const char *key, const char *fmt)
{
	if (wants_json(p, t))
		json_add(p, key, NULL);
	else if (wants_text(p, t, fmt))
		fputs(fmt, p->out);
}

void print_text(struct printer *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_color_text(p, COLOR_NONE, fmt, ap);
	va_end(ap);
}

void print_color_text(struct printer *p, enum print_color c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_color_text(p, c, fmt, ap);
	va_end(ap);
}
