/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The register file of step 1 of listing a rule (nft-delinearize.c): what
 * each load put where, read back by the relations and statements that use
 * it; shared by nft-delinearize.c and nft-extra.c. */
#include "config.h"

#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nft-internal.h"

/* netlink_parse_register(): 128-bit register numbers -> 32-bit ones */
unsigned nftp_reg_index(unsigned reg)
{
	if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
		return 1 + (reg - NFT_REG_1) * (NFT_REG_SIZE / NFT_REG32_SIZE);
	if (reg >= NFT_REG32_00)
		return 1 + reg - NFT_REG32_00;
	return reg;
}

static void reg_set(struct parse *p, unsigned reg, struct node *n)
{
	unsigned i = nftp_reg_index(reg);

	if (i == NFT_REG_VERDICT || i > MAX_REGS)
		return;
	p->regs[i] = n;
}

/* What a register (by nft's 32-bit index) holds, as a copy the caller may
 * change. An empty register is the product of an expression we could not
 * read: its placeholder. */
struct node *nftp_reg_get_index(struct parse *p, unsigned i)
{
	struct node *n;

	if (i != NFT_REG_VERDICT && i <= MAX_REGS && p->regs[i])
		return nftp_node_clone(p->c, p->regs[i]);
	n = nftp_node_new(p->c, N_UNSUPPORTED, &nftp_dt_invalid, BO_INVALID, 0);
	if (p->loader) {
		p->loader->consumed = true;
		n->what = p->loader->what;
	} else {
		n->what = "empty register";
	}
	return n;
}

static struct node *reg_get(struct parse *p, unsigned reg)
{
	return nftp_reg_get_index(p, nftp_reg_index(reg));
}

static void emit(struct parse *p, struct stmt *s)
{
	nftp_stmt_append(p->list, s);
}

struct node *nftp_reg_get(struct parse *p, unsigned reg)
{
	return reg_get(p, reg);
}

void nftp_reg_set(struct parse *p, unsigned reg, struct node *n)
{
	reg_set(p, reg, n);
}

void nftp_emit(struct parse *p, struct stmt *s)
{
	emit(p, s);
}

/* netlink_parse_concat_expr(): the registers from reg on, len bits of them;
 * with data, netlink_parse_concat_data(): that value cut like those registers */
struct node *nftp_concat_regs(struct parse *p, unsigned reg, unsigned len, struct node *data)
{
	struct node *concat = nftp_node_new(p->c, N_CONCAT, &nftp_dt_invalid, BO_INVALID, 0);

	reg = nftp_reg_index(reg);
	while (len > 0) {
		struct node *n = nftp_reg_get_index(p, reg);

		if (n->type == N_UNSUPPORTED || n->len == 0 || nftp_padded_len(n->len) > len)
			return NULL;
		if (data) {
			nftp_node_add_item(p->c, concat, nftp_value_splice(p->c, data, n->len));
			data->len -= nftp_padded_len(n->len) - n->len;
		} else {
			nftp_node_add_item(p->c, concat, n);
			concat->len += n->len;
		}
		len -= nftp_padded_len(n->len);
		reg += nftp_register_space(n->len);
	}
	return concat;
}

struct node *nftp_reg_get_len(struct parse *p, unsigned reg, unsigned len)
{
	struct node *n = reg_get(p, reg);

	if (n->type == N_UNSUPPORTED || n->len >= len)
		return n;
	return nftp_concat_regs(p, reg, len, NULL);
}
