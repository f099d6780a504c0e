/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nft_rule_from_nlmsg() on hand-made NFT_MSG_NEWRULE messages: a rule holding
 * an expression libnftnl does not know must still be collected whole, with
 * that expression as CG_EXPR_UNKNOWN under its own name (never dropped), and
 * comments come from rule user data or from an xt "comment" match. */
#include "config.h"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/xt_comment.h>
#include <string.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "../lib/test.h"

static struct nlmsghdr *rule_start(char *buf)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_IPV4, 0, 1);

	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "filter");
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "ts-input");
	mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(42));
	return nlh;
}

static struct nlattr *expr_start(struct nlmsghdr *nlh, const char *name, struct nlattr **data)
{
	struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);

	if (name)
		mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, name);
	*data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	return elem;
}

static void expr_end(struct nlmsghdr *nlh, struct nlattr *elem, struct nlattr *data)
{
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, elem);
}

static void put_meta_iifname(struct nlmsghdr *nlh)
{
	struct nlattr *d, *e = expr_start(nlh, "meta", &d);

	mnl_attr_put_u32(nlh, NFTA_META_KEY, htonl(NFT_META_IIFNAME));
	mnl_attr_put_u32(nlh, NFTA_META_DREG, htonl(NFT_REG_1));
	expr_end(nlh, e, d);
}

static void put_cmp_neq_tailscale0(struct nlmsghdr *nlh)
{
	struct nlattr *d, *e = expr_start(nlh, "cmp", &d), *v;

	mnl_attr_put_u32(nlh, NFTA_CMP_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_CMP_OP, htonl(NFT_CMP_NEQ));
	v = mnl_attr_nest_start(nlh, NFTA_CMP_DATA);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, 11, "tailscale0");
	mnl_attr_nest_end(nlh, v);
	expr_end(nlh, e, d);
}

static void put_jump(struct nlmsghdr *nlh, const char *chain)
{
	struct nlattr *d, *e = expr_start(nlh, "immediate", &d), *data, *verdict;

	mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
	data = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
	verdict = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
	mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)NFT_JUMP));
	mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, chain);
	mnl_attr_nest_end(nlh, verdict);
	mnl_attr_nest_end(nlh, data);
	expr_end(nlh, e, d);
}

static void put_unknown(struct nlmsghdr *nlh, const char *name)
{
	struct nlattr *d, *e = expr_start(nlh, name, &d);

	mnl_attr_put_u32(nlh, 1, htonl(7));
	expr_end(nlh, e, d);
}

static void put_xt_comment(struct nlmsghdr *nlh, const char *text)
{
	struct xt_comment_info info = { 0 };
	struct nlattr *d, *e = expr_start(nlh, "match", &d);

	snprintf(info.comment, sizeof(info.comment), "%s", text);
	mnl_attr_put_strz(nlh, NFTA_MATCH_NAME, "comment");
	mnl_attr_put_u32(nlh, NFTA_MATCH_REV, htonl(0));
	mnl_attr_put(nlh, NFTA_MATCH_INFO, sizeof(info), &info);
	expr_end(nlh, e, d);
}

static void put_comment_udata(struct nlmsghdr *nlh, const char *text)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

	nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, text);
	mnl_attr_put(nlh, NFTA_RULE_USERDATA, nftnl_udata_buf_len(u), nftnl_udata_buf_data(u));
	nftnl_udata_buf_free(u);
}

/* meta iifname, cmp != "tailscale0", [middle], jump ts-forward */
static void build_rule(char *buf, void (*middle)(struct nlmsghdr *), bool comment)
{
	struct nlmsghdr *nlh = rule_start(buf);
	struct nlattr *exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);

	put_meta_iifname(nlh);
	put_cmp_neq_tailscale0(nlh);
	if (middle)
		middle(nlh);
	put_jump(nlh, "ts-forward");
	mnl_attr_nest_end(nlh, exprs);
	if (comment)
		put_comment_udata(nlh, "cgnatcheck: test");
}

static void middle_frobnicate(struct nlmsghdr *nlh)
{
	put_unknown(nlh, "frobnicate");
}

static void middle_unnamed(struct nlmsghdr *nlh)
{
	put_unknown(nlh, NULL);
}

static void middle_comment_match(struct nlmsghdr *nlh)
{
	put_xt_comment(nlh, "from iptables");
}

static void check_common(const struct cg_rule *r, const struct nft_rule_id *id, uint32_t n_exprs)
{
	CHECK(id->family == NFPROTO_IPV4);
	CHECK_STR(id->table, "filter");
	CHECK_STR(id->chain, "ts-input");
	CHECK(r->handle == 42);
	CHECK(r->n_exprs == n_exprs);
	if (r->n_exprs != n_exprs)
		return;
	struct cg_expr_buf eb;
	const struct cg_expr *ex = rule_exprs(r, &eb);
	CHECK(ex[0].type == CG_EXPR_META && ex[0].meta.key == NFT_META_IIFNAME &&
	      ex[0].meta.reg == NFT_REG_1);
	CHECK(ex[1].type == CG_EXPR_CMP && ex[1].cmp.op == NFT_CMP_NEQ &&
	      ex[1].cmp.data.len == 11 && memcmp(ex[1].cmp.data.bytes, "tailscale0", 11) == 0);
	const struct cg_expr *last = &ex[n_exprs - 1];
	CHECK(last->type == CG_EXPR_IMMEDIATE && last->immediate.dreg == 0 &&
	      last->immediate.verdict.code == CG_VERDICT_JUMP);
	CHECK_STR(last->immediate.verdict.chain_name, "ts-forward");
	expr_buf_free(&eb);
}

int main(void)
{
	_cleanup_free_ char *buf = xcalloc(1, 16384);
	struct arena a = { 0 };
	struct nft_rule_id id;
	struct cg_rule r;
	struct cg_expr_buf eb;
	const struct cg_expr *ex;

	/* libnftnl parses the whole rule */
	build_rule(buf, NULL, true);
	CHECK(nft_rule_from_nlmsg((struct nlmsghdr *)buf, &a, &r, &id) == 0);
	ex = rule_exprs(&r, &eb);
	check_common(&r, &id, 3);
	CHECK_STR(r.comment, "cgnatcheck: test");
	CHECK(!nft_rule_has_xt(&r));

	/* an expression libnftnl does not know: the rest still decodes */
	build_rule(buf, middle_frobnicate, true);
	CHECK(nft_rule_from_nlmsg((struct nlmsghdr *)buf, &a, &r, &id) == 0);
	ex = rule_exprs(&r, &eb);
	check_common(&r, &id, 4);
	CHECK(r.n_exprs == 4 && ex[2].type == CG_EXPR_UNKNOWN);
	if (r.n_exprs == 4 && ex[2].type == CG_EXPR_UNKNOWN)
		CHECK_STR(ex[2].unknown.name, "frobnicate");
	CHECK_STR(r.comment, "cgnatcheck: test");

	/* and one without a name at all */
	build_rule(buf, middle_unnamed, false);
	CHECK(nft_rule_from_nlmsg((struct nlmsghdr *)buf, &a, &r, &id) == 0);
	ex = rule_exprs(&r, &eb);
	check_common(&r, &id, 4);
	if (r.n_exprs == 4 && ex[2].type == CG_EXPR_UNKNOWN)
		CHECK_STR(ex[2].unknown.name, "(unnamed)");
	CHECK(r.comment == NULL);

	/* iptables-nft's -m comment: an xt match carrying the text */
	build_rule(buf, middle_comment_match, false);
	CHECK(nft_rule_from_nlmsg((struct nlmsghdr *)buf, &a, &r, &id) == 0);
	ex = rule_exprs(&r, &eb);
	check_common(&r, &id, 4);
	CHECK(nft_rule_has_xt(&r));
	if (r.n_exprs == 4 && ex[2].type == CG_EXPR_XT_MATCH) {
		CHECK_STR(ex[2].xt.name, "comment");
		CHECK(ex[2].xt.info_len == XT_MAX_COMMENT_LEN);
	}
	CHECK_STR(r.comment, "from iptables");

	/* not a rule message */
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN, NFPROTO_IPV4, 0, 1);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, "filter");
	CHECK(nft_rule_from_nlmsg(nlh, &a, &r, &id) == -EINVAL);

	arena_free(&a);
	return test_result();
}
