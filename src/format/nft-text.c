/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Model rules (native nf_tables) -> `nft list ruleset` text (nftables 1.0.x).
 *
 * The same three steps nft takes when it lists a rule:
 *  1. parse: the expressions are read in order into statements, with a
 *     register file holding what each load put where (payload, meta, ct,
 *     immediates, masks), so a cmp/range/lookup becomes a relation between
 *     an expression tree and a value (netlink_delinearize.c, first half);
 *  2. postprocess: a protocol context, filled by the rule's own protocol
 *     matches, names raw payload offsets (`@th,16,16` -> `udp dport`), types
 *     the values, turns masks into prefixes or flag lists, merges `>= a` and
 *     `<= b` into `a-b`, and drops protocol matches a later header field
 *     implies (netlink_delinearize.c, second half; payload.c);
 *  3. print: statements and expressions in nft's spelling, values by their
 *     datatype (statement.c, expression.c, datatype.c).
 * Values are kept the way nft's mpz numbers hold them (struct num), so byte
 * order switches happen at the same points as in nft.
 *
 * Each step has files of its own (nft-delinearize.c, nft-postprocess.c,
 * nft-stmt.c), above those for values, protocols and sets; nft-internal.h
 * lists them in the order they call each other. Everything a rendering
 * allocates comes from one scratch arena. */
#include "config.h"

#include <limits.h>
#include <linux/netfilter.h>
#include <string.h>

#include "cgnatcheck/nft-text.h"
#include "nft-internal.h"

static uint8_t rule_family(const struct cg_rule *r)
{
	if (r->chain && r->chain->table)
		return r->chain->table->family;
	return NFPROTO_IPV4;
}

int nft_rule_format(const struct cg_rule *r, char *buf, size_t size)
{
	struct out o = { 0 };
	int len;

	if (!r || (!buf && size))
		return -EINVAL;
	nftp_rule_print(&o, r, rule_family(r), 0);
	len = o.len > INT_MAX ? INT_MAX : (int)o.len;
	if (size) {
		size_t n = o.len < size - 1 ? o.len : size - 1;

		if (n)
			memcpy(buf, o.buf, n);
		buf[n] = '\0';
	}
	free(o.buf);
	return len;
}

char *nft_rule_to_string(const struct cg_rule *r)
{
	struct out o = { 0 };

	if (!r)
		return NULL;
	nftp_rule_print(&o, r, rule_family(r), 0);
	if (!o.buf)
		return xstrdup("");
	return o.buf;
}
