/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pieces of nf_tables messages that more than one reader converts: a chain
 * and a set (the dumps in nft.c, the printers' golden test), a set element
 * (the element dump in nft.c, the per-key answers in nft-setget.c) and the
 * ruleset generation (those two and the fix stage). Below them. */
#include "config.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/nlsock.h"
#include "nft-internal.h"

static void chain_devices(const struct nftnl_chain *nc, struct cg_chain *ch, struct arena *a)
{
	const char *one[1] = { NULL };
	const char *const *devs = one;
	uint32_t n = 0;

	/* The kernel sends one device as NFTA_HOOK_DEV, several as a list. */
	if (nftnl_chain_is_set(nc, NFTNL_CHAIN_DEVICES)) {
		devs = nftnl_chain_get_array(nc, NFTNL_CHAIN_DEVICES);
		while (devs && devs[n])
			n++;
	} else if (nftnl_chain_is_set(nc, NFTNL_CHAIN_DEV)) {
		one[0] = nftnl_chain_get_str(nc, NFTNL_CHAIN_DEV);
		n = one[0] ? 1 : 0;
	}
	if (!n)
		return;
	ch->devs = arena_alloc(a, n * sizeof(*ch->devs));
	for (uint32_t i = 0; i < n; i++)
		ch->devs[i] = arena_strdup(a, devs[i]);
	ch->n_devs = n;
	ch->dev = ch->devs[0];
}

void nft_chain_convert(const struct nftnl_chain *nc, struct cg_chain *ch, struct arena *a)
{
	ch->name = arena_strdup(a, nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME));
	ch->handle = nftnl_chain_get_u64(nc, NFTNL_CHAIN_HANDLE);
	ch->flags = nftnl_chain_get_u32(nc, NFTNL_CHAIN_FLAGS);
	if (!nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM))
		return;
	ch->base = true;
	ch->hook = nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM);
	ch->priority = (int32_t)nftnl_chain_get_u32(nc, NFTNL_CHAIN_PRIO);
	if (nftnl_chain_is_set(nc, NFTNL_CHAIN_TYPE))
		ch->type = arena_strdup(a, nftnl_chain_get_str(nc, NFTNL_CHAIN_TYPE));
	/* Base chains without a policy attribute accept (the kernel default). */
	ch->policy = nftnl_chain_is_set(nc, NFTNL_CHAIN_POLICY) &&
		nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY) == NF_DROP ?
		CG_VERDICT_DROP : CG_VERDICT_ACCEPT;
	chain_devices(nc, ch, a);
}

static uint32_t set_flags(uint32_t nft)
{
	static const struct { uint32_t nft, cg; } map[] = {
		{ NFT_SET_INTERVAL, CG_SET_INTERVAL },
		{ NFT_SET_MAP, CG_SET_MAP },
		{ NFT_SET_CONCAT, CG_SET_CONCAT },
		{ NFT_SET_TIMEOUT, CG_SET_TIMEOUT },
		{ NFT_SET_ANONYMOUS, CG_SET_ANONYMOUS },
		{ NFT_SET_CONSTANT, CG_SET_CONSTANT },
		{ NFT_SET_EVAL, CG_SET_EVAL },
	};
	uint32_t cg = 0;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (nft & map[i].nft)
			cg |= map[i].cg;
	return cg;
}

void nft_set_convert(const struct nftnl_set *ns, struct cg_set *s, struct arena *a)
{
	uint32_t n_fields = 0;
	const uint8_t *fields;

	s->name = arena_strdup(a, nftnl_set_get_str(ns, NFTNL_SET_NAME));
	s->handle = nftnl_set_get_u64(ns, NFTNL_SET_HANDLE);
	s->id = nftnl_set_get_u32(ns, NFTNL_SET_ID);
	s->flags = set_flags(nftnl_set_get_u32(ns, NFTNL_SET_FLAGS));
	s->key_type = nftnl_set_get_u32(ns, NFTNL_SET_KEY_TYPE);
	s->key_len = nftnl_set_get_u32(ns, NFTNL_SET_KEY_LEN);
	s->data_type = nftnl_set_get_u32(ns, NFTNL_SET_DATA_TYPE);
	s->data_len = nftnl_set_get_u32(ns, NFTNL_SET_DATA_LEN);
	if (nftnl_set_is_set(ns, NFTNL_SET_DESC_SIZE))
		s->size = nftnl_set_get_u32(ns, NFTNL_SET_DESC_SIZE);
	if (nftnl_set_is_set(ns, NFTNL_SET_OBJ_TYPE))
		s->obj_type = nftnl_set_get_u32(ns, NFTNL_SET_OBJ_TYPE);
	if (nftnl_set_is_set(ns, NFTNL_SET_USERDATA)) {
		uint32_t ulen = 0;
		const void *u = nftnl_set_get_data(ns, NFTNL_SET_USERDATA, &ulen);

		if (u && ulen) {
			s->udata = arena_memdup(a, u, ulen);
			s->udata_len = ulen;
		}
	}
	/* libnftnl hands the field lengths back as a byte array. */
	fields = nftnl_set_get_data(ns, NFTNL_SET_DESC_CONCAT, &n_fields);
	if (fields && n_fields > 1) {
		if (n_fields > ARRAY_SIZE(s->field_len))
			n_fields = ARRAY_SIZE(s->field_len);
		memcpy(s->field_len, fields, n_fields);
		s->n_fields = (uint8_t)n_fields;
		s->flags |= CG_SET_CONCAT;
	}
}


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
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_OBJREF))
		e->obj = arena_strdup(a, nftnl_set_elem_get_str(ne, NFTNL_SET_ELEM_OBJREF));
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_VERDICT)) {
		const char *chain = nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_CHAIN) ?
			nftnl_set_elem_get_str(ne, NFTNL_SET_ELEM_CHAIN) : NULL;

		e->verdict = nft_verdict((int32_t)nftnl_set_elem_get_u32(ne, NFTNL_SET_ELEM_VERDICT), chain, a);
	}
}

int nft_elems_msg_foreach(const struct nlmsghdr *nlh, int (*cb)(struct nftnl_set_elem *ne, void *data), void *data)
{
	struct nftnl_set *ns = nftnl_set_alloc();
	int r = MNL_CB_OK;

	if (!ns)
		return nlconn_cb_fail(-ENOMEM);
	if (nftnl_set_elems_nlmsg_parse(nlh, ns) < 0)
		r = nlconn_cb_fail(-EBADMSG);
	else
		nftnl_set_elem_foreach(ns, cb, data);
	nftnl_set_free(ns);
	return r;
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

bool nft_gen_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* The kernel puts the generation's low 16 bits in every nf_tables
 * message's res_id (nfnl_msg_put(.., nft_base_seq())); the commit under way
 * is at most a few generations from the last one seen. (32768 commits left
 * unread would overrun a notification socket long before the 16 bits are
 * ambiguous: every commit queues an skb or two of a page or more.) */
uint32_t nft_gen_near(uint32_t near, uint16_t low16)
{
	return near + (uint32_t)(int32_t)(int16_t)(uint16_t)(low16 - (uint16_t)near);
}

/* Linux 6.3 added DESTROY requests (a DEL that does not fail on a missing
 * object), and newer kernels notify them under their own type; so are the
 * newer resets of rules' and elements' counters. Older headers do not have
 * them: the kernel's enum nf_tables_msg_types from NFT_MSG_GETRULE_RESET
 * (25) on. */
enum {
	MSG_GETRULE_RESET = 25,
	MSG_DESTROYTABLE,
	MSG_DESTROYCHAIN,
	MSG_DESTROYRULE,
	MSG_DESTROYSET,
	MSG_DESTROYSETELEM,
	MSG_DESTROYOBJ,
	MSG_DESTROYFLOWTABLE,
	MSG_GETSETELEM_RESET,
};

uint16_t nft_change_type(uint16_t type)
{
	switch (type) {
	case MSG_DESTROYTABLE: return NFT_MSG_DELTABLE;
	case MSG_DESTROYCHAIN: return NFT_MSG_DELCHAIN;
	case MSG_DESTROYRULE: return NFT_MSG_DELRULE;
	case MSG_DESTROYSET: return NFT_MSG_DELSET;
	case MSG_DESTROYSETELEM: return NFT_MSG_DELSETELEM;
	case MSG_DESTROYOBJ: return NFT_MSG_DELOBJ;
	case MSG_DESTROYFLOWTABLE: return NFT_MSG_DELFLOWTABLE;
	default: return type;
	}
}

bool nft_change_type_known(uint16_t type)
{
	switch (nft_change_type(type)) {
	case NFT_MSG_NEWGEN:
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
	case NFT_MSG_NEWOBJ:
	case NFT_MSG_DELOBJ:
	case NFT_MSG_NEWFLOWTABLE:
	case NFT_MSG_DELFLOWTABLE:
	case NFT_MSG_GETOBJ_RESET:
	case MSG_GETRULE_RESET:
	case MSG_GETSETELEM_RESET:
		return true;
	default:
		return false;
	}
}

int64_t nft_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nft_wait_readable(struct mnl_socket *nl, int64_t deadline_ms)
{
	struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
	int64_t wait = deadline_ms - nft_mono_ms();

	if (wait <= 0)
		return -ETIMEDOUT;
	if (poll(&p, 1, (int)wait) < 0 && errno != EINTR)
		return -errno;
	return 0;
}
