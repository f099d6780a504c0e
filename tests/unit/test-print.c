/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The print layer (print.h): one sequence of calls, run in text mode and in
 * JSON mode, gives the expected text and the expected JSON. */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/print.h"
#include "../lib/test.h"

/* A report in miniature: every kind of value, nesting, nulls, escaping,
 * and parts that exist in one output only. */
static void report(struct printer *p)
{
	print_string(p, PRINT_ANY, "name", "name %s", "a \"quoted\" back\\slash/slash\ttab\x01");
	print_text(p, "\n");
	print_int(p, PRINT_ANY, "int", " int %d", -7);
	print_uint(p, PRINT_ANY, "uint", " uint %u", 4000000000u);
	print_int64(p, PRINT_ANY, "int64", " int64 %lld", (long long)-5000000000);
	print_u64(p, PRINT_ANY, "u64", " u64 %llu", 18446744073709551615ull);
	print_double(p, PRINT_ANY, "ms", " %.0f ms", 12.5);
	print_bool(p, PRINT_ANY, "ok", " ok=%s", true);
	print_bool(p, PRINT_JSON, "bad", NULL, false);
	print_text(p, "\n");
	/* NULL: nothing in text, null in JSON */
	print_string(p, PRINT_ANY, "missing", " never %s", NULL);
	print_null(p, PRINT_ANY, "none", "none\n");
	print_string(p, PRINT_TEXT, "text_only", "text only %s\n", "here");
	print_string(p, PRINT_JSON, "json_only", "never %s", "there");
	print_string(p, PRINT_ANY, "no_format", NULL, "json");

	open_json_object(p, "route");
	print_string(p, PRINT_ANY, "dev", "dev %s", "eth0");
	open_json_array(p, "hops");
	for (int i = 0; i < 2; i++) {
		open_json_object(p, NULL);
		print_int(p, PRINT_ANY, "weight", " weight %d", i + 1);
		print_null(p, PRINT_JSON, "gateway", NULL);
		close_json_object(p);
	}
	close_json_array(p);
	open_json_array(p, "empty");
	close_json_array(p);
	open_json_array(p, "names");
	print_string(p, PRINT_ANY, NULL, " [%s]", "x");
	print_string(p, PRINT_ANY, NULL, "[%s]", NULL);
	open_json_array(p, NULL);
	print_int(p, PRINT_JSON, NULL, NULL, 1);
	close_json_array(p);
	close_json_array(p);
	print_text(p, "\n");
	close_json_object(p);

	print_color_string(p, PRINT_ANY, COLOR_RED, "verdict", "%-8s|", "blocked");
	print_color_text(p, COLOR_BOLD, "%s", "bold");
	print_text(p, "|%d\n", 42);
}

static char *run(enum cg_format format, int json_flags, bool color)
{
	struct printer p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	print_init(&p, f, format, json_flags, PRINT_F_COLOR);
	/* a memstream is no terminal: colour only when forced */
	CHECK(!p.color);
	p.color = color;
	report(&p);
	CHECK(print_finish(&p) == 0);
	fclose(f);
	return buf;
}

#define TEXT_HEAD \
	"name a \"quoted\" back\\slash/slash\ttab\x01\n" \
	" int -7 uint 4000000000 int64 -5000000000 u64 18446744073709551615 12 ms ok=true\n" \
	"none\n" \
	"text only here\n" \
	"dev eth0 weight 1 weight 2 [x]\n"
static const char expected_text[] = TEXT_HEAD "blocked |bold|42\n";
/* the colour wraps the formatted value, and only the coloured parts */
static const char expected_color[] = TEXT_HEAD "\033[31mblocked |\033[0m\033[1mbold\033[0m|42\n";

static const char expected_json[] =
	"{\"name\":\"a \\\"quoted\\\" back\\\\slash/slash\\ttab\\u0001\",\"int\":-7,\"uint\":4000000000,"
	"\"int64\":-5000000000,\"u64\":18446744073709551615,\"ms\":12.5,\"ok\":true,\"bad\":false,"
	"\"missing\":null,\"none\":null,\"json_only\":\"there\",\"no_format\":\"json\","
	"\"route\":{\"dev\":\"eth0\",\"hops\":[{\"weight\":1,\"gateway\":null},{\"weight\":2,\"gateway\":null}],"
	"\"empty\":[],\"names\":[\"x\",null,[1]]},\"verdict\":\"blocked\"}\n";

/* The same document built with json-c directly. */
static struct json_object *expected_tree(void)
{
	struct json_object *o = json_object_new_object(), *route = json_object_new_object();
	struct json_object *hops = json_object_new_array(), *names = json_object_new_array();
	struct json_object *inner = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string("a \"quoted\" back\\slash/slash\ttab\x01"));
	json_object_object_add(o, "int", json_object_new_int(-7));
	json_object_object_add(o, "uint", json_object_new_int64(4000000000));
	json_object_object_add(o, "int64", json_object_new_int64(-5000000000));
	json_object_object_add(o, "u64", json_object_new_uint64(18446744073709551615ull));
	json_object_object_add(o, "ms", json_object_new_double(12.5));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "bad", json_object_new_boolean(0));
	json_object_object_add(o, "missing", NULL);
	json_object_object_add(o, "none", NULL);
	json_object_object_add(o, "json_only", json_object_new_string("there"));
	json_object_object_add(o, "no_format", json_object_new_string("json"));
	json_object_object_add(route, "dev", json_object_new_string("eth0"));
	for (int i = 0; i < 2; i++) {
		struct json_object *h = json_object_new_object();
		json_object_object_add(h, "weight", json_object_new_int(i + 1));
		json_object_object_add(h, "gateway", NULL);
		json_object_array_add(hops, h);
	}
	json_object_object_add(route, "hops", hops);
	json_object_object_add(route, "empty", json_object_new_array());
	json_object_array_add(names, json_object_new_string("x"));
	json_object_array_add(names, NULL);
	json_object_array_add(inner, json_object_new_int(1));
	json_object_array_add(names, inner);
	json_object_object_add(route, "names", names);
	json_object_object_add(o, "route", route);
	json_object_object_add(o, "verdict", json_object_new_string("blocked"));
	return o;
}

/* The layer's JSON is json-c's own serialisation with the flags given. */
static void check_flags(int flags)
{
	struct json_object *tree = expected_tree();
	_cleanup_free_ char *got = run(CG_FORMAT_JSON, flags, false);
	_cleanup_free_ char *want = NULL;

	if (asprintf(&want, "%s\n", json_object_to_json_string_ext(tree, flags)) < 0)
		abort();
	CHECK_STR(got, want);
	json_object_put(tree);
}

/* Arrays of the root are written element by element (print.c), and kept
 * values are shared: the bytes must be json-c's serialisation of the whole
 * tree. Two root arrays around scalars, an empty one, elements of every
 * kind, and a kept object reused at three depths. */
static void streamed(struct printer *p)
{
	static const int rule_id = 1, list_id = 2;

	print_int(p, PRINT_JSON, "schema", NULL, 1);
	open_json_array(p, "targets");
	for (int i = 0; i < 3; i++) {
		open_json_object(p, NULL);
		print_int(p, PRINT_JSON, "n", NULL, i);
		if (!print_reuse(p, "rule", &rule_id, sizeof(rule_id))) {
			open_json_object(p, "rule");
			print_string(p, PRINT_JSON, "text", NULL, "-A x -j DROP");
			open_json_array(p, "list");
			print_int(p, PRINT_JSON, NULL, NULL, 7);
			close_json_array(p);
			close_json_object(p);
			print_keep(p, &rule_id, sizeof(rule_id));
		}
		open_json_object(p, "deeper");
		print_reuse(p, "again", &rule_id, sizeof(rule_id));
		close_json_object(p);
		close_json_object(p);
	}
	print_string(p, PRINT_JSON, NULL, NULL, "a string");
	print_null(p, PRINT_JSON, NULL, NULL);
	if (!print_reuse(p, NULL, &list_id, sizeof(list_id))) {
		open_json_array(p, NULL);
		close_json_array(p);
		print_keep(p, &list_id, sizeof(list_id));
	}
	print_reuse(p, NULL, &list_id, sizeof(list_id));
	print_reuse(p, NULL, &rule_id, sizeof(rule_id));
	close_json_array(p);
	open_json_array(p, "empty");
	close_json_array(p);
	print_string(p, PRINT_JSON, "between", NULL, "x");
	open_json_array(p, "findings");
	print_int(p, PRINT_JSON, NULL, NULL, 5);
	close_json_array(p);
	print_int(p, PRINT_JSON, "exit_status", NULL, 2);
}

static struct json_object *streamed_tree(void)
{
	struct json_object *o = json_object_new_object(), *targets = json_object_new_array();
	struct json_object *rule = json_object_new_object(), *list = json_object_new_array();
	struct json_object *empty_list = json_object_new_array(), *findings = json_object_new_array();

	json_object_object_add(o, "schema", json_object_new_int(1));
	json_object_object_add(rule, "text", json_object_new_string("-A x -j DROP"));
	json_object_array_add(list, json_object_new_int(7));
	json_object_object_add(rule, "list", list);
	for (int i = 0; i < 3; i++) {
		struct json_object *t = json_object_new_object(), *deeper = json_object_new_object();
		json_object_object_add(t, "n", json_object_new_int(i));
		json_object_object_add(t, "rule", json_object_get(rule));
		json_object_object_add(deeper, "again", json_object_get(rule));
		json_object_object_add(t, "deeper", deeper);
		json_object_array_add(targets, t);
	}
	json_object_array_add(targets, json_object_new_string("a string"));
	json_object_array_add(targets, NULL);
	json_object_array_add(targets, json_object_get(empty_list));
	json_object_array_add(targets, json_object_get(empty_list));
	json_object_array_add(targets, json_object_get(rule));
	json_object_object_add(o, "targets", targets);
	json_object_object_add(o, "empty", json_object_new_array());
	json_object_object_add(o, "between", json_object_new_string("x"));
	json_object_array_add(findings, json_object_new_int(5));
	json_object_object_add(o, "findings", findings);
	json_object_object_add(o, "exit_status", json_object_new_int(2));
	json_object_put(rule);
	json_object_put(empty_list);
	return o;
}

static void check_streamed(int flags)
{
	struct json_object *tree = streamed_tree();
	struct printer p;
	char *got = NULL, *want = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&got, &len);

	if (!f)
		abort();
	print_init(&p, f, CG_FORMAT_JSON, flags, 0);
	streamed(&p);
	CHECK(print_finish(&p) == 0);
	fclose(f);
	if (asprintf(&want, "%s\n", json_object_to_json_string_ext(tree, flags)) < 0)
		abort();
	CHECK_STR(got, want);
	free(got);
	free(want);
	json_object_put(tree);
}

int main(void)
{
	_cleanup_free_ char *text = run(CG_FORMAT_TEXT, 0, false);
	_cleanup_free_ char *color = run(CG_FORMAT_TEXT, 0, true);
	_cleanup_free_ char *json = run(CG_FORMAT_JSON, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, false);
	_cleanup_free_ char *slash = run(CG_FORMAT_JSON, JSON_C_TO_STRING_PLAIN, false);

	CHECK_STR(text, expected_text);
	CHECK_STR(color, expected_color);
	CHECK_STR(json, expected_json);
	/* without NOSLASHESCAPE json-c escapes '/' */
	CHECK(strstr(slash, "back\\\\slash\\/slash") != NULL);

	/* the reports' flags: the audit's and the route's */
	check_flags(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	check_flags(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);

	/* root arrays written in pieces, shared values: json-c's bytes */
	check_streamed(JSON_C_TO_STRING_PLAIN);
	check_streamed(JSON_C_TO_STRING_SPACED);
	check_streamed(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	check_streamed(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	check_streamed(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB);

	/* a report that printed nothing: text nothing, JSON an empty object */
	{
		struct printer p;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		print_init(&p, f, CG_FORMAT_JSON, JSON_C_TO_STRING_PLAIN, 0);
		CHECK(print_is_json(&p));
		CHECK(print_finish(&p) == 0);
		fclose(f);
		CHECK_STR(buf, "{}\n");
		free(buf);
	}
	return test_result();
}
