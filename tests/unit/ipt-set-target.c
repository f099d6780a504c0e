/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -j SET as iptables-save prints it (libxt_SET's save functions, revisions
 * 0 to 3): the target's blob holds the sets' kernel indices, and the names
 * come from the table (cg_table.ipset_names, what the collector read); an
 * index without a name is named in a comment, a blob too short for its
 * revision is not read. */
#include "config.h"

#include <netinet/in.h> /* before <linux/netfilter.h>: glibc first */
#include <linux/netfilter.h>
#include <linux/netfilter/xt_set.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/iptables-text.h"
#include "cgnatcheck/ruleset.h"
#include "../lib/test.h"

static const struct cg_ipset_name names[] = { { 1, "xts" }, { 4, "xtp" }, { 9, "xtm" } };

static void check(uint8_t revision, const void *blob, uint32_t len, bool with_names, const char *want)
{
	struct cg_table t = { .family = NFPROTO_IPV4, .name = "filter" };
	struct cg_chain c = { .table = &t, .name = "INPUT" };
	struct cg_expr e = { .type = CG_EXPR_XT_TARGET,
			     .xt = { .name = "SET", .revision = revision, .info_len = len, .info = blob } };
	struct cg_rule rule = { .chain = &c, .exprs = &e, .n_exprs = 1 };
	char *text;

	if (with_names) {
		t.ipset_names = names;
		t.n_ipset_names = ARRAY_SIZE(names);
	}
	text = ipt_rule_to_string(&rule);
	CHECK_STR(text, want);
	free(text);
}

static struct xt_set_info set(ip_set_id_t index, uint8_t dim, uint8_t src_dims)
{
	return (struct xt_set_info){ .index = index, .dim = dim, .flags = (uint8_t)(src_dims << 1) };
}

int main(void)
{
	struct xt_set_info_target_v0 v0 = { 0 };
	struct xt_set_info_target_v1 v1;
	struct xt_set_info_target_v2 v2;
	struct xt_set_info_target_v3 v3;

	/* revision 0: directions as a zero-ended list */
	v0.add_set.index = 1;
	v0.add_set.u.flags[0] = IPSET_SRC;
	v0.del_set.index = 4;
	v0.del_set.u.flags[0] = IPSET_SRC;
	v0.del_set.u.flags[1] = IPSET_DST;
	check(0, &v0, sizeof(v0), true, "-A INPUT -j SET --add-set xts src --del-set xtp src,dst");

	/* revision 1: no del set */
	v1 = (struct xt_set_info_target_v1){ .add_set = set(4, 2, 1), .del_set = set(IPSET_INVALID_ID, 0, 0) };
	check(1, &v1, sizeof(v1), true, "-A INPUT -j SET --add-set xtp src,dst");

	/* revision 2: --exist and --timeout after the add set */
	v2 = (struct xt_set_info_target_v2){ .add_set = set(4, 2, 1), .del_set = set(1, 1, 0),
					     .flags = IPSET_FLAG_EXIST, .timeout = 10 };
	check(2, &v2, sizeof(v2), true, "-A INPUT -j SET --add-set xtp src,dst --exist --timeout 10 --del-set xts dst");
	v2.timeout = UINT32_MAX;
	v2.flags = 0;
	check(2, &v2, sizeof(v2), true, "-A INPUT -j SET --add-set xtp src,dst --del-set xts dst");

	/* revision 3: the map set and its options last */
	v3 = (struct xt_set_info_target_v3){ .add_set = set(IPSET_INVALID_ID, 0, 0),
					     .del_set = set(IPSET_INVALID_ID, 0, 0), .map_set = set(9, 1, 0),
					     .flags = IPSET_FLAG_MAP_SKBMARK | IPSET_FLAG_MAP_SKBPRIO |
						      IPSET_FLAG_MAP_SKBQUEUE,
					     .timeout = UINT32_MAX };
	check(3, &v3, sizeof(v3), true, "-A INPUT -j SET --map-set xtm dst --map-mark --map-prio --map-queue");
	v3.add_set = set(1, 1, 1);
	v3.flags = IPSET_FLAG_EXIST | IPSET_FLAG_MAP_SKBMARK;
	check(3, &v3, sizeof(v3), true, "-A INPUT -j SET --add-set xts src --exist --map-set xtm dst --map-mark");

	/* names the collector did not read: the index, in a comment */
	check(1, &v1, sizeof(v1), false, "-A INPUT -j SET --add-set /* ipset index 4 */ src,dst");
	/* a blob shorter than its revision's struct, a revision not known */
	check(3, &v3, sizeof(v3) - 1, true, "-A INPUT -j SET /* unsupported */");
	check(4, &v3, sizeof(v3), true, "-A INPUT -j SET /* unsupported */");
	return test_result();
}
