/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nf_tables change notifications (the NFNLGRP_NFTABLES multicast group): what
 * --keep and --wait-overlay wake up on instead of polling nf_tables. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct mnl_socket;

/* A non-blocking netlink socket subscribed to nf_tables notifications, or
 * NULL (errno set) when it cannot be opened. Close with mnl_socket_close(). */
struct mnl_socket *nft_events_open(void);

/* Reads every queued notification; true when there was any. An overrun
 * (ENOBUFS) counts as a change: something happened. */
bool nft_events_drain(struct mnl_socket *nl);

/* The nf_tables ruleset generation now (NFT_MSG_GETGEN; every commit bumps
 * it): --keep compares it with the one its own change left, so a change made
 * while it was applying is never mistaken for its own. 0 or a negative
 * errno. */
int nft_events_generation(uint32_t *gen);
