/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pieces of nf_tables messages that more than one reader converts: a set
 * element (the element dump in nft.c, the per-key answers in
 * nft-setget.c) and the ruleset generation (those two and the fix stage).
 * Below them. */
#include "config.h"

#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/nlsock.h"
#include "nft-internal.h"

static struct cg_data elem_data(struct nftnl_set_elem *ne, uint16_t attr, struct arena *a)
{
	uint32_t len = 0;
	const void *p;

	if (!nftnl_set_elem_is_set(ne, attr))
		return (struct cg_data){ 0 };
	p = nftnl_set_elem_get(ne, attr, &len);
	if (!p || !len)
		return (struct cg_data){ 0 };
	if (len > 64)
		len = 64;
	return (struct cg_data){ .len = (uint8_t)len, .bytes = arena_memdup(a, p, len) };
}

void nft_elem_convert(struct nftnl_set_elem *ne, struct cg_set_elem *e, struct arena *a)
{
	uint32_t flags = nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_FLAGS) ?
		nftnl_set_elem_get_u32(ne, NFTNL_SET_ELEM_FLAGS) : 0;

	e->key = elem_data(ne, NFTNL_SET_ELEM_KEY, a);
	e->key_end = elem_data(ne, NFTNL_SET_ELEM_KEY_END, a);
	e->interval_end = flags & NFT_SET_ELEM_INTERVAL_END;
	e->catchall = flags & NFT_SET_ELEM_CATCHALL;
	e->data = elem_data(ne, NFTNL_SET_ELEM_DATA, a);
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_VERDICT)) {
		const char *chain = nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_CHAIN) ?
			nftnl_set_elem_get_str(ne, NFTNL_SET_ELEM_CHAIN) : NULL;

		e->verdict = nft_verdict((int32_t)nftnl_set_elem_get_u32(ne, NFTNL_SET_ELEM_VERDICT), chain, a);
	}
}

struct nlmsghdr *nft_gen_request(struct nlconn *c)
{
	return nftnl_nlmsg_build_hdr(c->buf, NFT_MSG_GETGEN, NFPROTO_UNSPEC, NLM_F_ACK, ++c->seq);
}

int nft_gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *g = nftnl_gen_alloc();
	int r = MNL_CB_OK;

	if (!g)
		return nlconn_cb_fail(-ENOMEM);
	if (nftnl_gen_nlmsg_parse(nlh, g) < 0 || !nftnl_gen_is_set(g, NFTNL_GEN_ID))
		r = nlconn_cb_fail(-EBADMSG);
	else
		*(uint32_t *)data = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
	nftnl_gen_free(g);
	return r;
}
