/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line, parsed once; the only mutable state shared across stages. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cgnatcheck/addr.h"

enum cg_format { CG_FORMAT_TEXT, CG_FORMAT_JSON };

/* One --dns or --service argument. */
struct cg_target_arg {
	struct cg_addr addr;
	uint16_t port;     /* 0 when not given */
	unsigned protos;   /* CG_PROTO_* bits; 0 when not given */
	bool dns;
};

/* --mail-on: when the scheduled audit mails its report */
enum {
	CG_MAIL_ON_PROBLEM = 1 << 0,  /* the audit found something (exit 1, 2 or 3) */
	CG_MAIL_ON_CHANGE = 1 << 1,   /* the result differs from the last run's */
	CG_MAIL_ON_ALWAYS = 1 << 2,   /* every run */
};

/* Default for --wait-overlay without a value. */
#define CG_WAIT_OVERLAY_DEFAULT 60

enum cg_mode {
	CG_MODE_AUDIT,       /* the default */
	CG_MODE_SHOW_ROUTE,  /* --show-route ADDR */
	CG_MODE_UNDO,        /* --undo */
	CG_MODE_HELP,
	CG_MODE_VERSION,
};

struct cg_options {
	enum cg_mode mode;
	enum cg_format format;
	bool quiet;
	bool fix;
	bool dry_run;
	bool probe;              /* --probe: confirm verdicts with real traffic */
	bool only_named;         /* --only-named: no resolvers, detected policy or discovery */
	bool keep;               /* --keep: --fix, and again whenever the ruleset changes */
	/* not an option: --keep's nf_tables chain list, kept between its
	 * rounds (nft-events.h; NULL: each audit dumps it) */
	struct nft_chain_cache *nft_chains;
	int verbosity;

	/* operations (first-boot hook, scheduled audit) */
	char *user;              /* --user NAME: run as NAME keeping CAP_NET_ADMIN, or NULL */
	int wait_overlay;        /* --wait-overlay[=SECONDS]: seconds, or -1 not asked */
	char **mail_to;          /* --mail-to ADDR (repeatable): the scheduled audit mode */
	size_t n_mail_to;
	unsigned mail_on;        /* CG_MAIL_ON_* bits */
	char *mail_from;         /* --mail-from ADDR, or NULL: USER@HOSTNAME */
	char *sendmail;          /* --sendmail PATH, or NULL: $CGNATCHECK_SENDMAIL, /usr/sbin/sendmail */
	char *metrics_file;      /* --metrics-file PATH: the Prometheus textfile, or NULL */

	/* offline audits */
	char *save_file;         /* --save FILE: what the audit read, for --replay elsewhere */
	char *replay_file;       /* --replay FILE: audit a saved file in a private namespace */
	char *offline_host;      /* set by --replay: the saved host's name and the time it */
	char *offline_time;      /* was saved at (the report marks itself offline) */

	struct cg_target_arg *targets;
	size_t n_targets;
	/* --offer PROTO/PORT: a service this host offers over the overlays */
	struct cg_offer {
		uint8_t l4proto;
		uint16_t port;
	} *offers;
	size_t n_offers;
	char **policies;
	size_t n_policies;

	/* --show-route and its packet selectors */
	struct cg_addr route_dst;
	struct cg_addr route_src;    /* AF_UNSPEC when not given */
	uint32_t route_mark;
	bool route_mark_set;
	char *route_iif;             /* NULL: locally generated */
	char *route_oif;
	uint32_t route_uid;
	bool route_uid_set;
	uint8_t route_ipproto;       /* 0: any */
	uint16_t route_sport, route_dport;
	bool route_offline;          /* user-space lookup only, do not ask the kernel */
};

/* Parses argv into *opts. Returns 0, or a negative errno after printing a
 * message that names the offending argument (exit status 3). */
int options_parse(int argc, char *argv[], struct cg_options *opts);
void options_free(struct cg_options *opts);
void options_print_help(FILE *out);
/* Parses "ADDR[:PORT][/udp|/tcp]" ("[v6]:PORT" for IPv6 with a port). */
int target_arg_parse(const char *s, bool dns, struct cg_target_arg *out);
/* One mail address, safe as a sendmail argument and in a header. */
bool mail_address_valid(const char *s);
