/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Golden cases of the x_tables extension printers: for every extension and
 * revision the decoder knows, kernel blobs in and the iptables-save text out
 * (tests/unit/golden/xt-*.txt). Each blob goes through the whole renderer
 * undecoded, as a hand-built rule carries it, so the decoder's reading of the
 * struct is checked along with the printer. Any change of a printer's text
 * fails here.
 *
 * The data files hold cases of three lines, separated by empty lines; lines
 * starting with "#" are comments:
 *
 *   FAMILY KIND NAME REVISION LENGTH   ipv4|ipv6, match|target, the kernel's
 *                                      name ("" for the standard target),
 *                                      the revision, the blob's length
 *   blob HEX                           the blob's bytes; the ones left out at
 *                                      the end are zero
 *   save TEXT                          the extension's part of the rule as
 *                                      iptables-save prints it:
 *                                      "-m NAME OPTIONS" or "-j NAME OPTIONS"
 *
 * Every (name, revision, family) the registry accepts must have a case.
 * The same cases, decoded, check each extension's identity of its values
 * (what rule_equal() and rule_hash() compare). */
#include "config.h"

#include <netinet/in.h>    /* before <linux/netfilter.h>: glibc first */
#include <linux/netfilter.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/xt-ext.h"
#include "../lib/test.h"

#define MAX_BLOB 1024
#define MAX_CASES 512

struct golden {
	char where[64];                 /* file:line of the case */
	uint8_t family;
	bool target;
	char name[32];
	uint8_t revision;
	uint32_t len;
	uint8_t blob[MAX_BLOB];
	char save[512];
};

static struct golden cases[MAX_CASES];
static unsigned n_cases;

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

static bool parse_header(struct golden *g, const char *line)
{
	char fam[8], kind[8], name[32];
	unsigned rev, len;

	if (sscanf(line, "%7s %7s %31s %u %u", fam, kind, name, &rev, &len) != 5 || len > MAX_BLOB || rev > 255)
		return false;
	if (strcmp(fam, "ipv4") && strcmp(fam, "ipv6"))
		return false;
	if (strcmp(kind, "match") && strcmp(kind, "target"))
		return false;
	g->family = strcmp(fam, "ipv6") ? NFPROTO_IPV4 : NFPROTO_IPV6;
	g->target = !strcmp(kind, "target");
	snprintf(g->name, sizeof(g->name), "%s", strcmp(name, "\"\"") ? name : "");
	g->revision = (uint8_t)rev;
	g->len = len;
	return true;
}

static bool parse_blob(struct golden *g, const char *hex)
{
	uint32_t n = 0;

	memset(g->blob, 0, sizeof(g->blob));
	for (const char *p = hex; *p; p += 2) {
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || n >= g->len)
			return false;
		g->blob[n++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
	}
	return true;
}

static void load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	unsigned lineno = 0, step = 0;
	struct golden *g = NULL;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(99);
	}
	while (fgets(line, sizeof(line), f)) {
		bool ok = true;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || (line[0] == '\0' && step == 0))
			continue;
		switch (step) {
		case 0:
			if (n_cases >= MAX_CASES) {
				fprintf(stderr, "%s: more than %d cases\n", path, MAX_CASES);
				exit(99);
			}
			g = &cases[n_cases++];
			snprintf(g->where, sizeof(g->where), "%s:%u", strrchr(path, '/') ? strrchr(path, '/') + 1 : path,
				 lineno);
			ok = parse_header(g, line);
			break;
		case 1:
			ok = !strncmp(line, "blob", 4) && (line[4] == '\0' || line[4] == ' ') &&
			     parse_blob(g, line[4] ? line + 5 : "");
			break;
		case 2:
			ok = !strncmp(line, "save ", 5) && strlen(line + 5) < sizeof(g->save);
			if (ok)
				snprintf(g->save, sizeof(g->save), "%s", line + 5);
			break;
		}
		if (!ok) {
			fprintf(stderr, "%s:%u: not a case's line: '%s'\n", path, lineno, line);
			exit(99);
		}
		step = (step + 1) % 3;
	}
	fclose(f);
	if (step != 0) {
		fprintf(stderr, "%s: the last case is cut short\n", path);
		exit(99);
	}
}

/* The case's match or target as a rule holds it: its blob, and its decoded
 * value d when not NULL. */
static struct cg_expr xt_expr(const struct golden *g, const struct xt_decoded *d)
{
	return (struct cg_expr){
		.type = g->target ? CG_EXPR_XT_TARGET : CG_EXPR_XT_MATCH,
		.xt = { .name = g->name, .revision = g->revision, .info_len = g->len,
			.info = g->len ? g->blob : NULL, .decoded = d },
	};
}

/* The rule "-A G <the case's match or target>", with the blob undecoded. */
static char *render(const struct golden *g)
{
	struct cg_table t = { .family = g->family, .name = "filter" };
	struct cg_chain c = { .table = &t, .name = "G" };
	struct cg_expr e = xt_expr(g, NULL);
	struct cg_rule rule = { .chain = &c, .exprs = &e, .n_exprs = 1 };

	return ipt_rule_to_string(&rule);
}

/* The same rule as a collector may hold it: the decoded value alone, no
 * blob (NULL when the case does not decode). */
static char *render_decoded(const struct golden *g, struct arena *a)
{
	struct cg_table t = { .family = g->family, .name = "filter" };
	struct cg_chain c = { .table = &t, .name = "G" };
	const struct xt_decoded *d = xt_decode_owned(a, g->target, g->name, g->revision, g->family,
						     g->len ? g->blob : NULL, g->len);
	struct cg_expr e = xt_expr(g, d);
	struct cg_rule rule = { .chain = &c, .exprs = &e, .n_exprs = 1 };

	if (!d)
		return NULL;
	e.xt.info = NULL;
	e.xt.info_len = 0;
	return ipt_rule_to_string(&rule);
}

static void check_text(const struct golden *g, char *text, const char *how)
{
	const char *got = !strncmp(text, "-A G ", 5) ? text + 5 : text;

	test_checks++;
	if (strcmp(got, g->save)) {
		fprintf(stderr, "%s: %s %s '%s' revision %u (%s):\n  want: %s\n  got:  %s\n", g->where,
			g->family == NFPROTO_IPV6 ? "ipv6" : "ipv4", g->target ? "target" : "match",
			g->name, g->revision, how, g->save, got);
		test_failures++;
	}
	free(text);
}

static void test_cases(void)
{
	struct arena a = { 0 };

	for (unsigned i = 0; i < n_cases; i++) {
		const struct golden *g = &cases[i];
		char *text = render_decoded(g, &a);

		check_text(g, render(g), "from the blob");
		if (text)
			check_text(g, text, "from the decoded value alone");
	}
	arena_free(&a);
}

static bool covered(const struct xt_ext_form *fm, bool target, uint8_t revision, uint8_t family)
{
	for (unsigned i = 0; i < n_cases; i++)
		if (cases[i].target == target && cases[i].revision == revision && cases[i].family == family &&
		    !strcmp(cases[i].name, fm->name))
			return true;
	return false;
}

/* Each form the registry accepts, each revision and family of it, has a
 * case; each kind has its extension, which lists the forms of that kind. */
static void test_coverage(void)
{
	static const uint8_t families[] = { NFPROTO_IPV4, NFPROTO_IPV6 };

	for (unsigned kind = 0; kind < XT_KIND_COUNT; kind++) {
		const struct xt_ext *x = xt_registry[kind];

		CHECK(x != NULL);
		if (!x)
			continue;
		for (size_t k = 0; k < x->n_forms; k++) {
			const struct xt_ext_form *fm = &x->forms[k];

			CHECK(fm->kind < XT_KIND_COUNT && xt_registry[fm->kind] == x);
			if (fm->kind != kind)
				continue;
			for (unsigned rev = fm->rev_min; rev <= fm->rev_max; rev++) {
				bool any = false;

				for (size_t f = 0; f < ARRAY_SIZE(families); f++)
					if (fm->family == NFPROTO_UNSPEC || fm->family == families[f])
						any |= covered(fm, x->target, (uint8_t)rev, families[f]);
				test_checks++;
				if (!any) {
					fprintf(stderr, "no golden case for %s '%s' revision %u\n",
						x->target ? "target" : "match", fm->name, rev);
					test_failures++;
				}
			}
		}
	}
}

/* Whether the decoded values a (of case ga) and b (of gb) have the same
 * identity, as `same` says: the bytes their extension's ident writes, and
 * rule_equal() and rule_hash() of rules holding them. */
static void check_ident(const struct golden *ga, const struct xt_decoded *a, const struct golden *gb,
			const struct xt_decoded *b, bool same)
{
	const struct xt_ext *x = xt_registry[a->kind];
	struct canon ca = { 0 }, cb = { 0 };
	struct cg_expr ea = xt_expr(ga, a), eb = xt_expr(gb, b);
	struct cg_rule ra = { .exprs = &ea, .n_exprs = 1 }, rb = { .exprs = &eb, .n_exprs = 1 };
	bool bytes_same;

	x->ident(&ca, a);
	x->ident(&cb, b);
	bytes_same = ca.len == cb.len && (!ca.len || !memcmp(ca.buf, cb.buf, ca.len));
	test_checks++;
	if (bytes_same != same || rule_equal(&ra, &rb) != same || (rule_hash(&ra) == rule_hash(&rb)) != same) {
		fprintf(stderr, "%s and %s: %s '%s' revision %u: expected %s identity\n", ga->where, gb->where,
			ga->target ? "target" : "match", ga->name, ga->revision, same ? "the same" : "another");
		test_failures++;
	}
	free(ca.buf);
	free(cb.buf);
}

/* The standard target has a single golden case (it prints as unsupported,
 * whatever its verdict): its pair is ACCEPT and DROP. */
static void pair_standard(struct arena *a, bool *paired)
{
	static struct golden g[2] = {
		{ .where = "standard ACCEPT", .family = NFPROTO_IPV4, .target = true, .len = sizeof(int32_t) },
		{ .where = "standard DROP", .family = NFPROTO_IPV4, .target = true, .len = sizeof(int32_t) },
	};
	const int32_t verdicts[2] = { -NF_ACCEPT - 1, -NF_DROP - 1 };
	const struct xt_decoded *d[2];

	for (int i = 0; i < 2; i++) {
		memcpy(g[i].blob, &verdicts[i], sizeof(verdicts[i]));
		d[i] = xt_decode(a, true, "", 0, NFPROTO_IPV4, g[i].blob, g[i].len);
		CHECK(d[i] && d[i]->kind == XT_TARGET_STANDARD);
	}
	if (d[0] && d[1]) {
		check_ident(&g[0], d[0], &g[1], d[1], false);
		paired[XT_TARGET_STANDARD] = true;
	}
}

/* Each extension identifies its values (xt-ext.h's ident), for rule_equal()
 * and rule_hash(): a blob decoded twice (once owning its strings) is the
 * same value; two blobs of one form (name, revision, family) that print
 * differently are different values, and every extension with a value has
 * such a pair. */
static void test_identity(void)
{
	const struct xt_decoded **dec = xcalloc(n_cases, sizeof(*dec));
	bool paired[XT_KIND_COUNT] = { false };
	struct arena a = { 0 };

	for (unsigned kind = 0; kind < XT_KIND_COUNT; kind++)
		CHECK(xt_registry[kind] && xt_registry[kind]->ident);
	for (unsigned i = 0; i < n_cases; i++) {
		const struct golden *g = &cases[i];
		const void *info = g->len ? g->blob : NULL;
		const struct xt_decoded *again;

		dec[i] = xt_decode(&a, g->target, g->name, g->revision, g->family, info, g->len);
		again = xt_decode_owned(&a, g->target, g->name, g->revision, g->family, info, g->len);
		CHECK(dec[i] && again && xt_registry[dec[i]->kind] && xt_registry[dec[i]->kind]->ident);
		if (!dec[i] || !again || !xt_registry[dec[i]->kind] || !xt_registry[dec[i]->kind]->ident) {
			dec[i] = NULL;
			continue;
		}
		check_ident(g, dec[i], g, again, true);
	}
	for (unsigned i = 0; i < n_cases; i++)
		for (unsigned j = i + 1; j < n_cases && dec[i]; j++) {
			const struct golden *gi = &cases[i], *gj = &cases[j];

			if (!dec[j] || gi->target != gj->target || gi->family != gj->family ||
			    strcmp(gi->name, gj->name) || !strcmp(gi->save, gj->save))
				continue;
			check_ident(gi, dec[i], gj, dec[j], false);
			paired[dec[i]->kind] = true;
		}
	pair_standard(&a, paired);
	for (unsigned kind = 0; kind < XT_KIND_COUNT; kind++) {
		const struct xt_ext *x = xt_registry[kind];
		bool any = false;

		if (!x || !x->value_size)
			continue;
		for (unsigned k = 0; k < XT_KIND_COUNT; k++)
			any |= paired[k] && xt_registry[k] == x;
		test_checks++;
		if (!any) {
			fprintf(stderr, "no two golden cases of %s '%s' that differ\n",
				x->target ? "target" : "match", x->forms[0].name);
			test_failures++;
		}
	}
	free(dec);
	arena_free(&a);
}

int main(void)
{
	load(GOLDEN_DIR "/xt-iptables.txt");
	load(GOLDEN_DIR "/xt-structs.txt");
	CHECK(n_cases > 150);
	test_cases();
	test_coverage();
	test_identity();
	return test_result();
}
