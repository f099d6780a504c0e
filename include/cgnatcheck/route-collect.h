/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The routing collector's parts, one per rtnetlink object (like iproute2's
 * ipaddress.c / iprule.c / iproute.c). Each rtnl_parse_*() turns one kernel
 * message into state (ignoring other message types), returns 0 or -EBADMSG
 * (logged, naming the message); each rtnl_dump_*() asks for one dump. */
#pragma once

#include <linux/netlink.h>

#include "cgnatcheck/netlink.h"
#include "cgnatcheck/route.h"

int rtnl_parse_link(const struct nlmsghdr *nlh, struct route_state *st);
int rtnl_parse_addr(const struct nlmsghdr *nlh, struct route_state *st);
int rtnl_parse_rule(const struct nlmsghdr *nlh, struct route_state *st);
int rtnl_parse_route(const struct nlmsghdr *nlh, struct route_state *st);
int rtnl_parse_nexthop(const struct nlmsghdr *nlh, struct route_state *st);
int rtnl_parse_neigh(const struct nlmsghdr *nlh, struct route_state *st);

int rtnl_dump_links(struct nl_sock *s, struct route_state *st);
int rtnl_dump_addrs(struct nl_sock *s, struct route_state *st);
int rtnl_dump_rules(struct nl_sock *s, struct route_state *st);
int rtnl_dump_routes(struct nl_sock *s, struct route_state *st);
int rtnl_dump_nexthops(struct nl_sock *s, struct route_state *st);
int rtnl_dump_neighs(struct nl_sock *s, struct route_state *st);

/* Reads the "all" sysctls of the current network namespace (best effort). */
void route_sysctl_read(struct route_sysctl *out);

/* Parses one route message (RTM_NEWROUTE) into *e and its paths (at most
 * max_paths; *n_paths gets the count). Shared by the dump and the live lookup. */
int rtnl_route_from_msg(const struct nlmsghdr *nlh, struct route_desc *e, struct route_path *paths,
			size_t max_paths, size_t *n_paths);
