/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The iptables-save renderer's command state, as iptables-nft keeps one
 * rule (struct iptables_command_state): the ip header part, the matches in
 * order, the target. iptables-parse.c fills it from the model's expression
 * list, iptables-text.c prints it. Private to src/format/. */
#pragma once

/* before any <linux/...> header: glibc and the kernel both define ifreq */
#include <net/if.h>

#include <stdbool.h>
#include <stdint.h>

#include "cgnatcheck/arena.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/xt.h"

#define MAX_ITEMS 64
#define MAX_SYNTH 8

enum item_kind { ITEM_XT, ITEM_SYNTH, ITEM_UNSUPPORTED };

struct item {
	enum item_kind kind;
	const struct cg_expr *expr;     /* ITEM_XT */
	struct xt_decoded *synth;       /* ITEM_SYNTH: rebuilt from native expressions */
	const char *what;               /* ITEM_UNSUPPORTED */
};

enum target_kind { TGT_NONE, TGT_VERDICT, TGT_XT, TGT_SYNTH, TGT_UNSUPPORTED };

struct iface {
	char name[IFNAMSIZ + 2];        /* as printed: "eth0", "eth+", "+" */
	bool set, inv;
};

struct ipt_cs {
	uint8_t family;
	const struct cg_table *table;   /* the rule's, NULL if not known */
	uint8_t src[16], smsk[16], dst[16], dmsk[16];
	bool inv_src, inv_dst, have_src, have_dst;
	struct iface in, out;
	uint16_t proto;
	bool inv_proto, frag, inv_frag;
	unsigned n_items, n_synth;
	bool items_truncated;
	bool have_comment_match;
	/* native tcp/udp translations accumulate into one match, like
	 * nft_tcp_match()/nft_udp_match() */
	struct xt_decoded *tcp, *udp;
	enum target_kind tgt;
	const struct cg_verdict *verdict;
	const struct cg_expr *tgt_expr;
	struct xt_decoded tgt_synth;
	const char *tgt_what;
	struct arena *scratch;          /* decodes the collector did not store */
	/* last: only the fields above are cleared per rule */
	struct item items[MAX_ITEMS];
	struct xt_decoded synth[MAX_SYNTH];
};

/* Parses a rule's expressions ex (rule_exprs()) into cs, following
 * nft_rule_to_iptables_command_state(). cs's fields before items must be
 * cleared and its family and scratch set; cs points into ex afterwards. */
void ipt_cs_parse(struct ipt_cs *cs, const struct cg_rule *rule, const struct cg_expr *ex);
