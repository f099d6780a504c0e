/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -m mac: struct xt_mac_info of xt_mac.c; printed by libxtables.
 *
 * mac_mt() never matches a packet whose device is not Ethernet (a tunnel,
 * WireGuard, a PPP link), "!" or not. On an Ethernet device the sender's
 * MAC address (a gateway's, a peer's) is not part of the flow: unknown. */
#include "config.h"

#include "xt-internal.h"

#include <linux/if_arp.h>
#include <linux/netfilter/xt_mac.h>

static bool mac_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	xt_keep_raw(d, info, size, c);
	return true;
}

static enum tri mac_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			  const struct cg_addr_env *env)
{
	(void)m;
	(void)env;
	/* skb->dev: the in device (the match is refused in the output hooks) */
	if (pkt->locally_generated || !pkt->iif.name[0] || !pkt->iif.type)
		return TRI_UNKNOWN;
	return pkt->iif.type != ARPHRD_ETHER ? TRI_FALSE : TRI_UNKNOWN;
}

static const struct xt_ext_form forms[] = {
	{ "mac", XT_MATCH_MAC, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_mac_info), mac_decode },
};

const struct xt_ext xt_match_mac = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(fields),
	.match = mac_match,
	.ident = xt_ident_raw,
};
