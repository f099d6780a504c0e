/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Golden tests of the nftables rule printer, in the manner of nftables'
 * tests/py: for every rule of the .golden files in tests/unit/golden/, the
 * kernel's own NFT_MSG_NEWRULE message goes through the collector's parser
 * (nft_rule_from_nlmsg()) into the model, with the chains, sets and set
 * elements of its table from their kernel messages, and nft_rule_to_string()
 * must print the text nft printed for it (or, where the model does not hold
 * all nft prints, the placeholder the golden file names). Needs no root and
 * no kernel: tests/unit/golden/gen-nft.py recorded the messages and wrote
 * the files, and says what each line holds.
 *
 *   golden-nft [FILE.golden...]     default: $top_srcdir/tests/unit/golden/
 *
 * Every case that differs is reported with its name, input and both texts.
 * Names the printer looks up come from this machine as nft's came from the
 * generator's (protocols from /etc/protocols, groups from /etc/iproute2);
 * interfaces are renamed as this namespace names their index. */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>

#include <glob.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>
#include <time.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/nft-text.h"
#include "cgnatcheck/ruleset.h"
#include "../../src/collect/nft-internal.h"     /* the collector's conversions */
#include "../lib/test.h"

struct ifname {
	unsigned index;
	const char *name;
};

struct golden_case {
	const char *name, *input, *nft, *expect;
	struct ifname ifnames[4];
	unsigned n_ifnames;
	const struct cg_rule *rule;
};

/* a rule read, waiting for its chain to be placed */
struct staged_rule {
	struct cg_rule rule;
	char chain[256];
	size_t gcase;                   /* 1 + its case's index; 0: a binding chain's rule */
};

/* the table being read */
struct staged_table {
	uint8_t family;
	const char *name;
	struct cg_chain *chains;
	size_t n_chains, cap_chains;
	struct cg_set *sets;
	size_t n_sets, cap_sets;
	struct cg_set_elem *elems;      /* of the last set */
	size_t n_elems, cap_elems;
	struct staged_rule *rules;
	size_t n_rules, cap_rules;
};

struct golden {
	const char *file;
	unsigned line;
	struct cg_ruleset rs;
	struct staged_table t;
	struct golden_case *cases;
	size_t n_cases, cap_cases;
	int errors;
};

#define PUSH(v, n, cap) (grow_array((void **)&(v), &(cap), (n) + 1, sizeof(*(v))), memset(&(v)[(n)], 0, sizeof(*(v))), &(v)[(n)++])

static void bad(struct golden *g, const char *what)
{
	fprintf(stderr, "%s:%u: %s\n", g->file, g->line, what);
	g->errors++;
}

/* the message a hex line holds; NULL (reported) if it is not one */
static struct nlmsghdr *unhex(struct golden *g, const char *hex)
{
	size_t len = strlen(hex) / 2;
	uint8_t *buf = arena_alloc(&g->rs.arena, len + 1);
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	for (size_t i = 0; i < len; i++) {
		unsigned b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1) {
			bad(g, "not hex");
			return NULL;
		}
		buf[i] = (uint8_t)b;
	}
	if (len < sizeof(*nlh) || nlh->nlmsg_len != len) {
		bad(g, "not a netlink message");
		return NULL;
	}
	return nlh;
}

/* TEXT as the generator escaped it (\\, \t, \n) */
static const char *unescape(struct golden *g, const char *s)
{
	char *out = arena_alloc(&g->rs.arena, strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s != '\\' || !s[1]) {
			*o++ = *s;
			continue;
		}
		s++;
		*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
	}
	return out;
}

static void read_chain(struct golden *g, const struct nlmsghdr *nlh)
{
	struct nftnl_chain *nc = nftnl_chain_alloc();

	if (nftnl_chain_nlmsg_parse(nlh, nc) < 0 || !nftnl_chain_is_set(nc, NFTNL_CHAIN_NAME))
		bad(g, "not a chain");
	else
		nft_chain_convert(nc, PUSH(g->t.chains, g->t.n_chains, g->t.cap_chains), &g->rs.arena);
	nftnl_chain_free(nc);
}

static void set_done(struct golden *g)
{
	struct cg_set *s = g->t.n_sets ? &g->t.sets[g->t.n_sets - 1] : NULL;

	if (s && g->t.n_elems) {
		s->elems = arena_memdup(&g->rs.arena, g->t.elems, g->t.n_elems * sizeof(*g->t.elems));
		s->n_elems = (uint32_t)g->t.n_elems;
	}
	g->t.n_elems = 0;
}

static void read_set(struct golden *g, const struct nlmsghdr *nlh)
{
	struct nftnl_set *ns = nftnl_set_alloc();

	set_done(g);
	if (nftnl_set_nlmsg_parse(nlh, ns) < 0 || !nftnl_set_is_set(ns, NFTNL_SET_NAME))
		bad(g, "not a set");
	else
		nft_set_convert(ns, PUSH(g->t.sets, g->t.n_sets, g->t.cap_sets), &g->rs.arena);
	nftnl_set_free(ns);
}

static int elem_cb(struct nftnl_set_elem *ne, void *data)
{
	struct golden *g = data;

	nft_elem_convert(ne, PUSH(g->t.elems, g->t.n_elems, g->t.cap_elems), &g->rs.arena);
	return 0;
}

static void read_elems(struct golden *g, const struct nlmsghdr *nlh)
{
	struct nftnl_set *ns = nftnl_set_alloc();

	if (!g->t.n_sets || nftnl_set_elems_nlmsg_parse(nlh, ns) < 0)
		bad(g, "not the elements of a set");
	else
		nftnl_set_elem_foreach(ns, elem_cb, g);
	nftnl_set_free(ns);
}

static void read_rule(struct golden *g, const struct nlmsghdr *nlh, size_t gcase)
{
	struct staged_rule *sr = PUSH(g->t.rules, g->t.n_rules, g->t.cap_rules);
	struct nft_rule_id id;

	if (nft_rule_from_nlmsg(nlh, &g->rs.arena, &sr->rule, &id) < 0) {
		bad(g, "not a rule");
		g->t.n_rules--;
		return;
	}
	snprintf(sr->chain, sizeof(sr->chain), "%s", id.chain);
	sr->gcase = gcase;
}

/* The table read so far goes into the ruleset: its chains and sets, and
 * each chain's rules in the order the kernel listed them. */
static void table_done(struct golden *g)
{
	struct staged_table *st = &g->t;
	struct arena *a = &g->rs.arena;
	struct cg_table *t;

	set_done(g);
	if (!st->name)
		return;
	t = ruleset_add_tables(&g->rs, 1);
	t->backend = CG_BACKEND_NFTABLES;
	t->family = st->family;
	t->name = st->name;
	t->chains = arena_alloc(a, (st->n_chains ? st->n_chains : 1) * sizeof(*t->chains));
	if (st->n_chains)
		memcpy(t->chains, st->chains, st->n_chains * sizeof(*t->chains));
	t->n_chains = (uint32_t)st->n_chains;
	t->sets = arena_alloc(a, (st->n_sets ? st->n_sets : 1) * sizeof(*t->sets));
	if (st->n_sets)
		memcpy(t->sets, st->sets, st->n_sets * sizeof(*t->sets));
	t->n_sets = (uint32_t)st->n_sets;
	for (uint32_t i = 0; i < t->n_sets; i++)
		t->sets[i].table = t;
	for (uint32_t i = 0; i < t->n_chains; i++) {
		struct cg_chain *ch = &t->chains[i];

		ch->table = t;
		for (size_t r = 0; r < st->n_rules; r++)
			ch->n_rules += !strcmp(st->rules[r].chain, ch->name);
		ch->rules = arena_alloc(a, (ch->n_rules ? ch->n_rules : 1) * sizeof(*ch->rules));
		ch->n_rules = 0;
		for (size_t r = 0; r < st->n_rules; r++) {
			struct cg_rule *rule = &ch->rules[ch->n_rules];

			if (strcmp(st->rules[r].chain, ch->name))
				continue;
			*rule = st->rules[r].rule;
			rule->chain = ch;
			rule->index = ++ch->n_rules;
			if (st->rules[r].gcase)
				g->cases[st->rules[r].gcase - 1].rule = rule;
		}
	}
	free(st->chains);
	free(st->sets);
	free(st->elems);
	free(st->rules);
	memset(st, 0, sizeof(*st));
}

static uint8_t family_from_string(const char *s)
{
	static const uint8_t families[] = {
		NFPROTO_INET, NFPROTO_IPV4, NFPROTO_ARP, NFPROTO_NETDEV, NFPROTO_BRIDGE, NFPROTO_IPV6,
	};

	for (size_t i = 0; i < ARRAY_SIZE(families); i++)
		if (!strcmp(family_to_string(families[i]), s))
			return families[i];
	return NFPROTO_UNSPEC;
}

static void read_line(struct golden *g, char *line)
{
	char *arg = strchr(line, ' ');
	struct golden_case *gc = g->n_cases ? &g->cases[g->n_cases - 1] : NULL;
	struct nlmsghdr *nlh;
	char name[256];
	unsigned idx;

	if (!*line || *line == '#')
		return;
	if (!arg) {
		bad(g, "a keyword without its argument");
		return;
	}
	*arg++ = '\0';
	if (!strcmp(line, "table")) {
		table_done(g);
		if (sscanf(arg, "%*s %255s", name) != 1 || !(g->t.family = family_from_string(strtok(arg, " ")))) {
			bad(g, "not FAMILY NAME");
			return;
		}
		g->t.name = arena_strdup(&g->rs.arena, name);
	} else if (!strcmp(line, "case")) {
		gc = PUSH(g->cases, g->n_cases, g->cap_cases);
		gc->name = arena_strdup(&g->rs.arena, arg);
	} else if (!gc && (!strcmp(line, "input") || !strcmp(line, "nft") || !strcmp(line, "expect") ||
			   !strcmp(line, "ifname") || !strcmp(line, "rule"))) {
		bad(g, "outside a case");
	} else if (!strcmp(line, "input")) {
		gc->input = unescape(g, arg);
	} else if (!strcmp(line, "nft")) {
		gc->nft = unescape(g, arg);
	} else if (!strcmp(line, "expect")) {
		gc->expect = unescape(g, arg);
	} else if (!strcmp(line, "ifname")) {
		if (gc->n_ifnames == ARRAY_SIZE(gc->ifnames) || sscanf(arg, "%u %255s", &idx, name) != 2)
			bad(g, "not INDEX NAME");
		else
			gc->ifnames[gc->n_ifnames++] = (struct ifname){ idx, arena_strdup(&g->rs.arena, name) };
	} else if (!(nlh = unhex(g, arg))) {
		return;
	} else if (!strcmp(line, "chain")) {
		read_chain(g, nlh);
	} else if (!strcmp(line, "set")) {
		read_set(g, nlh);
	} else if (!strcmp(line, "elems")) {
		read_elems(g, nlh);
	} else if (!strcmp(line, "bound")) {
		read_rule(g, nlh, 0);
	} else if (!strcmp(line, "rule")) {
		read_rule(g, nlh, g->n_cases);
	} else {
		bad(g, "unknown keyword");
	}
}

/* The expected text with the interfaces nft named (in the generator's
 * namespace) named as this namespace names their index, as the printer does:
 * by name if one has it, else by number. */
static char *expected(const struct golden_case *gc)
{
	char *want = xstrdup(gc->expect);

	for (unsigned i = 0; i < gc->n_ifnames; i++) {
		char quoted[IF_NAMESIZE + 3], local[IF_NAMESIZE + 3], ifn[IF_NAMESIZE], *p, *w;
		size_t len;

		snprintf(quoted, sizeof(quoted), "\"%s\"", gc->ifnames[i].name);
		if (if_indextoname(gc->ifnames[i].index, ifn))
			snprintf(local, sizeof(local), "\"%s\"", ifn);
		else
			snprintf(local, sizeof(local), "%u", gc->ifnames[i].index);
		len = strlen(want) + 1;
		for (p = want; (p = strstr(p, quoted)); p += strlen(quoted))
			len += strlen(local);
		w = xmalloc(len);
		w[0] = '\0';
		for (p = want; ; ) {
			char *q = strstr(p, quoted);

			if (!q) {
				strcat(w, p);
				break;
			}
			strncat(w, p, (size_t)(q - p));
			strcat(w, local);
			p = q + strlen(quoted);
		}
		free(want);
		want = w;
	}
	return want;
}

static void check_cases(struct golden *g)
{
	for (size_t i = 0; i < g->n_cases; i++) {
		const struct golden_case *gc = &g->cases[i];
		_cleanup_free_ char *got = NULL, *want = NULL;

		test_checks++;
		if (!gc->rule || !gc->expect) {
			fprintf(stderr, "%s: %s: no %s\n", g->file, gc->name, gc->rule ? "expect line" : "rule");
			test_failures++;
			continue;
		}
		got = nft_rule_to_string(gc->rule);
		want = expected(gc);
		if (got && !strcmp(got, want))
			continue;
		fprintf(stderr, "%s: %s: differs\n  input:  %s\n", g->file, gc->name, gc->input ? gc->input : "?");
		if (gc->nft)
			fprintf(stderr, "  nft:    %s\n", gc->nft);
		fprintf(stderr, "  expect: %s\n  got:    %s\n", want, got ? got : "(null)");
		test_failures++;
	}
}

static void run_file(const char *file)
{
	struct golden g = { .file = file };
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	size_t before = (size_t)test_failures;

	if (!f) {
		fprintf(stderr, "%s: %m\n", file);
		test_failures++;
		return;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		g.line++;
		if (n && line[n - 1] == '\n')
			line[n - 1] = '\0';
		read_line(&g, line);
	}
	table_done(&g);
	if (ruleset_resolve(&g.rs) < 0)
		bad(&g, "ruleset_resolve failed");
	test_checks++;
	test_failures += g.errors;
	check_cases(&g);
	fprintf(stderr, "%s: %zu cases, %zu failed\n", file, g.n_cases, (size_t)test_failures - before);
	free(g.cases);
	ruleset_free(&g.rs);
}

int main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	_cleanup_free_ char *pattern = NULL;
	glob_t gl = { 0 };

	/* the generator's nft printed times in UTC */
	setenv("TZ", "UTC", 1);
	tzset();
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run_file(argv[i]);
		return test_result();
	}
	if (asprintf(&pattern, "%s/tests/unit/golden/*.golden", top ? top : ".") < 0)
		return 99;
	if (glob(pattern, 0, NULL, &gl) != 0) {
		fprintf(stderr, "no golden files: %s\n", pattern);
		return 99;
	}
	for (size_t i = 0; i < gl.gl_pathc; i++)
		run_file(gl.gl_pathv[i]);
	globfree(&gl);
	return test_result();
}
