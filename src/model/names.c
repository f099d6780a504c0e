/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule model's names for its enums (backends, families, hooks, verdicts,
 * expression kinds), as nft and the reports print them. Below everything
 * else in the model: the set index (set.c) names a family in its warnings,
 * the ruleset's bookkeeping (ruleset.c) builds on the set index. */
#include "config.h"

#include <linux/netfilter.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/ruleset.h"

const char *backend_to_string(enum cg_backend b)
{
	switch (b) {
	case CG_BACKEND_NFTABLES: return "nftables";
	case CG_BACKEND_IPTABLES_NFT: return "iptables-nft";
	case CG_BACKEND_IPTABLES_LEGACY: return "iptables-legacy";
	}
	return "unknown";
}

const char *family_to_string(uint8_t nfproto)
{
	switch (nfproto) {
	case NFPROTO_UNSPEC: return "unspec";
	case NFPROTO_INET: return "inet";
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_ARP: return "arp";
	case NFPROTO_NETDEV: return "netdev";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_IPV6: return "ip6";
	}
	return "unknown";
}

const char *hook_to_string(uint8_t nfproto, uint32_t hook)
{
	static const char *const inet[] = {
		"prerouting", "input", "forward", "output", "postrouting", "ingress",
	};
	static const char *const arp[] = { "input", "output", "forward" };
	static const char *const netdev[] = { "ingress", "egress" };

	switch (nfproto) {
	case NFPROTO_ARP:
		return hook < ARRAY_SIZE(arp) ? arp[hook] : NULL;
	case NFPROTO_NETDEV:
		return hook < ARRAY_SIZE(netdev) ? netdev[hook] : NULL;
	case NFPROTO_INET:
		return hook < ARRAY_SIZE(inet) ? inet[hook] : NULL;
	case NFPROTO_IPV4:
	case NFPROTO_IPV6:
	case NFPROTO_BRIDGE:
		/* ingress (5) is an inet-family hook only */
		return hook < ARRAY_SIZE(inet) - 1 ? inet[hook] : NULL;
	}
	return NULL;
}

const char *verdict_to_string(enum cg_verdict_code code)
{
	switch (code) {
	case CG_VERDICT_NONE: return "none";
	case CG_VERDICT_ACCEPT: return "accept";
	case CG_VERDICT_DROP: return "drop";
	case CG_VERDICT_QUEUE: return "queue";
	case CG_VERDICT_STOLEN: return "stolen";
	case CG_VERDICT_CONTINUE: return "continue";
	case CG_VERDICT_BREAK: return "break";
	case CG_VERDICT_JUMP: return "jump";
	case CG_VERDICT_GOTO: return "goto";
	case CG_VERDICT_RETURN: return "return";
	}
	return "unknown";
}

const char *expr_type_to_string(enum cg_expr_type type)
{
	static const char *const names[] = {
		[CG_EXPR_PAYLOAD] = "payload",
		[CG_EXPR_PAYLOAD_SET] = "payload",
		[CG_EXPR_META] = "meta",
		[CG_EXPR_META_SET] = "meta",
		[CG_EXPR_CT] = "ct",
		[CG_EXPR_CT_SET] = "ct",
		[CG_EXPR_CMP] = "cmp",
		[CG_EXPR_BITWISE] = "bitwise",
		[CG_EXPR_BYTEORDER] = "byteorder",
		[CG_EXPR_RANGE] = "range",
		[CG_EXPR_LOOKUP] = "lookup",
		[CG_EXPR_IMMEDIATE] = "immediate",
		[CG_EXPR_COUNTER] = "counter",
		[CG_EXPR_LOG] = "log",
		[CG_EXPR_LIMIT] = "limit",
		[CG_EXPR_QUOTA] = "quota",
		[CG_EXPR_NAT] = "nat",
		[CG_EXPR_MASQ] = "masq",
		[CG_EXPR_REDIR] = "redir",
		[CG_EXPR_REJECT] = "reject",
		[CG_EXPR_NOTRACK] = "notrack",
		[CG_EXPR_XT_MATCH] = "match",
		[CG_EXPR_XT_TARGET] = "target",
		[CG_EXPR_FIB] = "fib",
		[CG_EXPR_UNKNOWN] = "unknown",
	};

	if ((unsigned)type < ARRAY_SIZE(names) && names[type])
		return names[type];
	return "unknown";
}
