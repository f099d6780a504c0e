/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reads iptables-legacy (x_tables) rulesets.
 *
 * Each table is one kernel snapshot (legacy-snapshot.c: the two getsockopt()
 * calls libiptc's iptc_init() makes, GET_INFO and GET_ENTRIES), walked in
 * place and compiled into the ruleset's arena (streamed where a userfaultfd
 * can be had: legacy_table_read()); the snapshot is freed before the next
 * table is read. libiptc handles (the writer's, src/fix/) are
 * walked by the same code (legacy-walk.c) through libiptc's accessors. */
#include "config.h"

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>

#include <errno.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter.h>
#include <string.h>

#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/xt.h"
#include "legacy-internal.h"

/* The tables x_tables offers, in the order iptables-save lists them on a
 * host that loaded them in the usual order. */
static const char *const legacy_tables[] = { "filter", "nat", "mangle", "raw", "security" };

struct legacy_family {
	uint8_t nfproto;
	const char *names_path;
	const struct legacy_source_ops *iptc;  /* libiptc / libip6tc */
};

/* libiptc and libip6tc: the same accessors under two prefixes, each taking
 * the family's handle where the walk passes a void pointer. */
#define IPTC_SOURCE(fam, lib)								\
	static const char *fam##_first_chain(void *h) { return lib##_first_chain(h); }	\
	static const char *fam##_next_chain(void *h) { return lib##_next_chain(h); }	\
	static const void *fam##_first_rule(const char *chain, void *h)		\
	{ return lib##_first_rule(chain, h); }						\
	static const void *fam##_next_rule(const void *prev, void *h)			\
	{ return lib##_next_rule(prev, h); }						\
	static const char *fam##_get_target(const void *e, void *h)			\
	{ return lib##_get_target(e, h); }						\
	static int fam##_builtin(const char *chain, void *h) { return lib##_builtin(chain, h); } \
	static const char *fam##_get_policy(const char *chain, void *h)		\
	{										\
		struct xt_counters counters;						\
		return lib##_get_policy(chain, &counters, h);				\
	}										\
	static const struct legacy_source_ops fam##_iptc = {				\
		.first_chain = fam##_first_chain, .next_chain = fam##_next_chain,	\
		.first_rule = fam##_first_rule, .next_rule = fam##_next_rule,		\
		.get_target = fam##_get_target, .builtin = fam##_builtin,		\
		.get_policy = fam##_get_policy,						\
	}

IPTC_SOURCE(ip4, iptc);
IPTC_SOURCE(ip6, ip6tc);

static const struct legacy_family families[] = {
	{
		.nfproto = NFPROTO_IPV4,
		.names_path = "/proc/net/ip_tables_names",
		.iptc = &ip4_iptc,
	},
	{
		.nfproto = NFPROTO_IPV6,
		.names_path = "/proc/net/ip6_tables_names",
		.iptc = &ip6_iptc,
	},
};

static const struct legacy_family *family_get(uint8_t nfproto)
{
	return nfproto == NFPROTO_IPV6 ? &families[1] : &families[0];
}

int legacy_table_from_handle(struct xtc_handle *h, uint8_t nfproto, const char *table,
			     struct arena *a, struct cg_table *t)
{
	return legacy_table_from_source(family_get(nfproto)->iptc, h, nfproto, table, a, t);
}

/* ---- tables ----------------------------------------------------------- */

struct table_names {
	char names[16][XT_TABLE_MAXNAMELEN];
	unsigned n;
};

/* /proc/net/ip_tables_names lists the tables this namespace has; it is what
 * iptables-save reads too. Missing entirely: x_tables is not there. */
static int table_names_read(const struct legacy_family *f, struct table_names *tn)
{
	const char *label = legacy_family_label(f->nfproto);
	_cleanup_fclose_ FILE *fp = NULL;
	char line[64];

	memset(tn, 0, sizeof(*tn));
	fp = fopen(f->names_path, "re");
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		if (errno == EACCES || errno == EPERM)
			/* Root's 0440 file. Probing the tables instead would
			 * create every one that is missing (see the header). */
			return log_error_errno(-errno, "Cannot list the iptables-legacy %s tables (%s): "
					       "run as root (uid 0) with CAP_NET_ADMIN and CAP_NET_RAW",
					       label, f->names_path);
		return log_error_errno(-errno, "Cannot read %s (the list of iptables-legacy %s tables)",
				       f->names_path, label);
	}
	while (fgets(line, sizeof(line), fp) && tn->n < ARRAY_SIZE(tn->names)) {
		size_t len = strcspn(line, "\n");

		if (len == 0 || len >= XT_TABLE_MAXNAMELEN)
			continue;       /* not a table we could ask for anyway */
		memcpy(tn->names[tn->n], line, len);
		tn->names[tn->n++][len] = '\0';
	}
	return 0;
}

static bool table_listed(const struct table_names *tn, const char *table)
{
	for (unsigned i = 0; i < tn->n; i++)
		if (!strcmp(tn->names[i], table))
			return true;
	return false;
}

/* Returns 1 when the table was read, 0 when it does not exist. */
static int table_collect(const struct legacy_family *f, const char *table, struct arena *a,
			 struct cg_table *t)
{
	const char *label = legacy_family_label(f->nfproto);
	struct legacy_read_info ri;
	int r;

	r = legacy_table_read(f->nfproto, table, a, t, &ri);
	if (r < 0 && ri.logged)
		return r;
	if (r == -ENOENT) {
		log_debug("iptables-legacy %s table '%s' is gone; skipped", label, table);
		return 0;
	}
	if (r == -EPERM || r == -EACCES)
		return log_error_errno(r, "Cannot read iptables-legacy %s table '%s': "
				       "run as root or grant CAP_NET_ADMIN and CAP_NET_RAW (a raw socket reads the table)",
				       label, table);
	if (r == -EBADMSG)
		return log_error_errno(r, "iptables-legacy %s table '%s': the kernel's snapshot does not parse "
				       "(an entry, a chain boundary or a jump is out of place)", label, table);
	if (r < 0)
		return log_error_errno(r, "Cannot read iptables-legacy %s table '%s'", label, table);
	return 1;
}

int legacy_collect(struct cg_ruleset *rs)
{
	struct cg_table found[ARRAY_SIZE(families) * ARRAY_SIZE(legacy_tables)];
	struct cg_table *dst;
	unsigned n = 0;
	int r;

	for (size_t fi = 0; fi < ARRAY_SIZE(families); fi++) {
		const struct legacy_family *f = &families[fi];
		struct table_names tn;

		r = table_names_read(f, &tn);
		if (r < 0)
			return r;
		for (size_t ti = 0; ti < ARRAY_SIZE(legacy_tables); ti++) {
			if (!table_listed(&tn, legacy_tables[ti]))
				continue;
			r = table_collect(f, legacy_tables[ti], &rs->arena, &found[n]);
			if (r < 0)
				return r;
			n += r;
		}
	}
	if (!n)
		return 0;

	/* Tables move into the ruleset's array: chains point back to them. */
	dst = ruleset_add_tables(rs, n);
	for (unsigned i = 0; i < n; i++) {
		dst[i] = found[i];
		for (uint32_t c = 0; c < dst[i].n_chains; c++)
			dst[i].chains[c].table = &dst[i];
	}
	rs->have_legacy = true;
	return ruleset_resolve(rs);
}
