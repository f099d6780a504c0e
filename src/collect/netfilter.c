/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "cgnatcheck/collect-legacy.h"
#include "cgnatcheck/collect-netfilter.h"
#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"

int netfilter_collect(struct cg_ruleset *rs)
{
	return netfilter_collect_opts(rs, NULL);
}

int netfilter_collect_opts(struct cg_ruleset *rs, const struct nft_collect_opts *nft)
{
	int r;

	r = nft_collect_opts(rs, nft);
	if (r < 0)
		return r;
	r = legacy_collect(rs);
	if (r < 0)
		return r;
	/* what -m set matches look up (src/collect/ipset.c) */
	return ipset_collect(rs);
}
