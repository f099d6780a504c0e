/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The print layer (print.h): text written as it comes, JSON built with
 * json-c; the root's arrays are written element by element, the rest of the
 * root at the end. */
#include "config.h"

#include <assert.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <string.h>

#include "cgnatcheck/hash.h"
#include "cgnatcheck/hindex.h"
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

/* ---- JSON in pieces --------------------------------------------------------------
 *
 * json-c serialises a document whole, from its tree. A report of 200,000
 * targets as one tree is tens of millions of objects, so the root's arrays
 * are not kept in it: in the place of each, the root holds an empty array
 * whose serialiser writes nothing and notes where it stood (a cut). When
 * such an array opens, the root is serialised as it is so far and the text
 * from the previous cut to the new one is written: the root's members
 * before the array and its key. Each element is then serialised by json-c
 * once complete, as the only element of an array in an array (which puts
 * it at the depth it has in the document; the wrappers' own text, known
 * from serialising them around an element that writes nothing, is left
 * out), written and freed. The
 * array's brackets and separators are json-c's (json_object.c's array
 * serialiser: "[", a newline when pretty, elements separated by "," and a
 * newline, each indented one level deeper than the array; then a newline
 * unless it is empty, the array's own indent and "]"; with SPACED and not
 * PRETTY, a space before each element and before "]"). At the end the text
 * after the last cut is written. */

/* The depth of the root's members (the root is at 0). */
#define STREAM_LEVEL 1

struct print_cut {
	size_t pos;                      /* where it stood in the last serialisation */
};

static int cut_serialize(struct json_object *jso, struct printbuf *pb, int level, int flags)
{
	struct print_cut *c = json_object_get_userdata(jso);

	(void)level;
	(void)flags;
	c->pos = (size_t)printbuf_length(pb);
	return 0;
}

static bool pretty(const struct printer *p)
{
	return p->json_flags & JSON_C_TO_STRING_PRETTY;
}

static bool spaced_only(const struct printer *p)
{
	return (p->json_flags & JSON_C_TO_STRING_SPACED) && !pretty(p);
}

static void indent_out(struct printer *p, int level)
{
	if (!pretty(p))
		return;
	for (int i = 0; i < level; i++)
		fputs(p->json_flags & JSON_C_TO_STRING_PRETTY_TAB ? "\t" : "  ", p->out);
}

/* The root serialised as it is (the cuts note their places); the text
 * from the last cut but one to the last (or, with to_end, from the last cut
 * to the end) is written. */
static void write_root_piece(struct printer *p, bool to_end)
{
	size_t len, from, to;
	const char *text = json_object_to_json_string_length(p->stack[0], p->json_flags, &len);

	if (!text)
		abort();
	if (to_end) {
		from = p->n_cuts ? p->cuts[p->n_cuts - 1]->pos : 0;
		to = len;
	} else {
		from = p->n_cuts > 1 ? p->cuts[p->n_cuts - 2]->pos : 0;
		to = p->cuts[p->n_cuts - 1]->pos;
	}
	fwrite(text + from, 1, to - from, p->out);
}

/* Opens the root's array `key`, streamed. */
static void stream_open(struct printer *p, const char *key)
{
	struct json_object *cut = json_object_new_array();
	struct print_cut *c = xcalloc(1, sizeof(*c));

	json_object_set_serializer(cut, cut_serialize, c, NULL);
	json_object_object_add(p->stack[0], key, cut);
	p->cuts = xreallocarray(p->cuts, p->n_cuts + 1, sizeof(*p->cuts));
	p->cuts[p->n_cuts++] = c;
	write_root_piece(p, false);
	fputc('[', p->out);
	if (pretty(p))
		fputc('\n', p->out);
	/* the elements are built in an array of their own, one at a time,
	 * inside another: the element's depth is the array's plus one */
	struct json_object *inner = json_object_new_array(), *marker = json_object_new_object();
	struct print_cut at = { 0 };
	size_t len;
	json_object_set_serializer(marker, cut_serialize, &at, NULL);
	json_object_array_add(inner, marker);
	p->wrapper = json_object_new_array();
	json_object_array_add(p->wrapper, inner);
	if (!json_object_to_json_string_length(p->wrapper, p->json_flags, &len))
		abort();
	p->wrapper_head = at.pos;
	p->wrapper_tail = len - at.pos;
	json_object_array_del_idx(inner, 0, 1);
	p->stack[p->depth++] = inner;
	p->streaming = true;
	p->streamed = 0;
}

/* The value completed last, for print_keep(); a streamed element is held
 * (it has left the tree) until the next one. */
static void last_set(struct printer *p, struct json_object *v, bool hold)
{
	if (p->last_held)
		json_object_put(p->last);
	p->last = hold ? json_object_get(v) : v;
	p->last_held = hold && v;
}

/* Writes the streamed array's element, now complete, and frees it. */
static void stream_element(struct printer *p)
{
	size_t len;
	const char *text = json_object_to_json_string_length(p->wrapper, p->json_flags, &len);

	if (!text || len < p->wrapper_head + p->wrapper_tail)
		abort();
	if (p->streamed++) {
		fputc(',', p->out);
		if (pretty(p))
			fputc('\n', p->out);
	}
	if (spaced_only(p))
		fputc(' ', p->out);
	indent_out(p, STREAM_LEVEL + 1);
	fwrite(text + p->wrapper_head, 1, len - p->wrapper_head - p->wrapper_tail, p->out);
	last_set(p, json_object_array_get_idx(p->stack[1], 0), true);
	json_object_array_del_idx(p->stack[1], 0, 1);
}

static void stream_close(struct printer *p)
{
	if (pretty(p)) {
		if (p->streamed)
			fputc('\n', p->out);
		indent_out(p, STREAM_LEVEL);
	}
	if (spaced_only(p))
		fputc(' ', p->out);
	fputc(']', p->out);
	last_set(p, NULL, false);
	json_object_put(p->wrapper);
	p->wrapper = NULL;
	p->depth = 1;
	p->streaming = false;
}

/* ---- JSON: shared values ----------------------------------------------------------
 *
 * A kept value is added again by reference (json-c counts them), and is
 * serialised once: its text at level 0 is kept and written indented to
 * wherever it is added. */

struct memo_entry {
	void *id;
	size_t len;
	struct json_object *v;
};

struct print_memo {
	struct memo_entry *v;
	size_t n, cap;
	struct hindex index;
};

struct memo_probe {
	const struct print_memo *m;
	const void *id;
	size_t len;
};

static bool memo_eq(const void *ctx, size_t item)
{
	const struct memo_probe *q = ctx;
	const struct memo_entry *e = &q->m->v[item];

	return e->len == q->len && memcmp(e->id, q->id, q->len) == 0;
}

static size_t memo_find(const struct print_memo *m, const void *id, size_t len, uint32_t *h)
{
	struct memo_probe q = { m, id, len };

	*h = (uint32_t)hash_bytes(id, (uint32_t)len);
	return hindex_find(&m->index, *h, memo_eq, &q);
}

/* A kept value's text: at level 0 (json-c's), and indented for each level
 * it was written at (json-c writes no raw newline inside a string, so
 * indenting after each newline is exact). */
#define MEMO_LEVELS 16

struct memo_text {
	char *at[MEMO_LEVELS];
	size_t len[MEMO_LEVELS];
};

static void memo_text_free(struct json_object *jso, void *userdata)
{
	struct memo_text *m = userdata;

	(void)jso;
	for (int i = 0; i < MEMO_LEVELS; i++)
		free(m->at[i]);
	free(m);
}

static char *indented(const char *text, size_t len, int level, int flags, size_t *out_len)
{
	const char *unit = flags & JSON_C_TO_STRING_PRETTY_TAB ? "\t" : "  ";
	size_t ulen = strlen(unit), lines = 0, n = 0;
	char *buf;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (!(flags & JSON_C_TO_STRING_PRETTY))
		lines = 0;
	buf = xmalloc(len + lines * (size_t)level * ulen + 1);
	for (size_t i = 0; i < len; i++) {
		buf[n++] = text[i];
		if (text[i] == '\n' && lines)
			for (int k = 0; k < level; k++, n += ulen)
				memcpy(buf + n, unit, ulen);
	}
	buf[n] = '\0';
	*out_len = n;
	return buf;
}

/* The kept value's serialiser: its text, indented for its level. */
static int memo_serialize(struct json_object *jso, struct printbuf *pb, int level, int flags)
{
	struct memo_text *m = json_object_get_userdata(jso);
	_cleanup_free_ char *tmp = NULL;
	const char *text;
	size_t len;

	if (level < MEMO_LEVELS) {
		if (!m->at[level])
			m->at[level] = indented(m->at[0], m->len[0], level, flags, &m->len[level]);
		text = m->at[level];
		len = m->len[level];
	} else {
		text = tmp = indented(m->at[0], m->len[0], level, flags, &len);
	}
	printbuf_memappend(pb, text, (int)len);
	return 0;
}

static void memo_free(struct print_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].id);
		json_object_put(m->v[i].v);
	}
	free(m->v);
	hindex_free(&m->index);
	free(m);
}

/* ---- JSON: the document --------------------------------------------------------- */

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
		assert(p->depth == 1 && !p->streaming);
		last_set(p, NULL, false);
		write_root_piece(p, true);
		if (fputc('\n', p->out) == EOF)
			r = -EIO;
		json_object_put(p->stack[0]);
		p->stack[0] = NULL;
		p->depth = 0;
		for (size_t i = 0; i < p->n_cuts; i++)
			free(p->cuts[i]);
		free(p->cuts);
		p->cuts = NULL;
		p->n_cuts = 0;
		memo_free(p->memo);
		p->memo = NULL;
	}
	return r < 0 || ferror(p->out) ? -EIO : 0;
}

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

/* A value complete: a scalar added, a container closed. */
static void json_done(struct printer *p, struct json_object *v)
{
	last_set(p, v, false);
	if (p->streaming && p->depth == 2)
		stream_element(p);
}

static void json_value(struct printer *p, const char *key, struct json_object *v)
{
	json_add(p, key, v);
	json_done(p, v);
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
	if (p->streaming && p->depth == 2) {
		stream_close(p);
		return;
	}
	p->depth--;
	json_done(p, p->stack[p->depth]);
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
	if (!p->json)
		return;
	if (p->depth == 1)
		stream_open(p, key);
	else
		json_push(p, key, json_object_new_array());
}

void close_json_array(struct printer *p)
{
	if (p->json)
		json_pop(p, json_type_array);
}

bool print_reuse(struct printer *p, const char *key, const void *id, size_t len)
{
	uint32_t h;
	size_t i;

	if (!p->json || !p->memo)
		return false;
	i = memo_find(p->memo, id, len, &h);
	if (i == HINDEX_NONE)
		return false;
	json_value(p, key, json_object_get(p->memo->v[i].v));
	return true;
}

void print_keep(struct printer *p, const void *id, size_t len)
{
	struct print_memo *m;
	struct json_object *v = p->last;
	const char *text;
	uint32_t h;

	/* null needs no keeping */
	if (!p->json || !v)
		return;
	m = p->memo ? p->memo : (p->memo = xcalloc(1, sizeof(*p->memo)));
	if (memo_find(m, id, len, &h) != HINDEX_NONE)
		return;
	size_t len0;
	text = json_object_to_json_string_length(v, p->json_flags, &len0);
	if (!text)
		abort();
	struct memo_text *mt = xcalloc(1, sizeof(*mt));
	mt->at[0] = xstrdup(text);
	mt->len[0] = len0;
	json_object_set_serializer(v, memo_serialize, mt, memo_text_free);
	grow_array((void **)&m->v, &m->cap, m->n + 1, sizeof(*m->v));
	m->v[m->n] = (struct memo_entry){ xmalloc(len), len, json_object_get(v) };
	memcpy(m->v[m->n].id, id, len);
	hindex_add(&m->index, h, m->n++);
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
		json_value(p, key, value ? json_object_new_string(value) : NULL);
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
			json_value(p, key, json_new(value));                                      \
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
		json_value(p, key, json_object_new_boolean(value));
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
		json_value(p, key, NULL);
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
