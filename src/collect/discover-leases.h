/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The DHCP clients' lease files, parsed (discover-leases-text.c: systemd-
 * networkd's key=value files and ISC dhclient's lease blocks;
 * discover-leases-dhcpcd.c: dhcpcd's raw DHCP messages), and what a lease
 * turns into (discover-leases-add.c); discover-leases.c finds the files.
 * Internal to collect/, and to the unit test and the fuzz target. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/addr.h"
#include "cgnatcheck/hostfacts.h"

enum lease_format {
	LEASE_NETWORKD,  /* systemd-networkd, NetworkManager's internal-*.lease */
	LEASE_DHCLIENT,  /* ISC dhclient, NetworkManager's dhclient-*.lease */
	LEASE_DHCPCD,    /* dhcpcd's *.lease: a BOOTP/DHCP message */
	LEASE_DHCPCD6,   /* dhcpcd's *.lease6: a DHCPv6 message */
};

/* servers of one kind a lease may name; more are noted */
#define LEASE_MAX_SERVERS 16

struct lease {
	char ifname[IFNAMSIZ];            /* "" when nothing says */
	unsigned line;                    /* where it starts (text formats), 0 else */
	struct cg_addr address;           /* the host's own leased address, if given */
	struct cg_addr server;            /* the DHCP server the renewal goes to (v4:
					   * option 54; v6: the server-unicast option) */
	struct cg_addr dns[LEASE_MAX_SERVERS];
	struct cg_addr ntp[LEASE_MAX_SERVERS];
	size_t n_dns, n_ntp;
	bool more_dns, more_ntp;          /* some did not fit */
	bool v6;                          /* a DHCPv6 lease (ports 546/547) */
	bool reply_before_netfilter;      /* the client reads the server's replies
					   * through a packet socket (ISC dhclient) */
};

struct lease_ctx {
	const char *path;                 /* the file, as notes name it */
	const char *ifname;               /* the interface the file's name or place
					   * gives, or NULL */
	int64_t now;                      /* seconds since the epoch */
	int64_t mtime;                    /* when the file was written (dhcpcd's and
					   * NetworkManager's lifetimes count from it);
					   * 0: not known, no expiry check */
	const struct discover_scope *scope;
	struct discovered_list *l;
	unsigned n_problems;              /* notes for this file so far */
	/* NULL: lease_add() adds at once; else it keeps the lease there, and
	 * leases_flush() adds the newest of each interface */
	struct lease_set *set;
	int64_t written;                  /* the file's mtime, for the set */
	enum host_client client;          /* the DHCP client that wrote it */
};

/* Leases of several files: a client leaves its files behind when the host
 * moves (dhcpcd's wlan0-SSID.lease, NetworkManager's per-connection
 * dhclient-UUID-IF.lease, dhclient's file after a switch to networkd),
 * unexpired when the lease was long. The current lease of an interface is
 * in the file written last: clients rewrite it at every renewal. */
struct lease_found {
	struct lease le;
	char label[32];                   /* the interface, or "ifindex N", or "" */
	char *path;
	int64_t written;
	size_t seq;                       /* the order they were found in */
	enum host_client client;
};

struct lease_set {
	struct lease_found *v;
	size_t n, cap;
};

/* Adds the newest lease of every interface (all of a file that names
 * none) to l, and empties the set. */
void leases_flush(struct lease_set *set, const struct discover_scope *scope, struct discovered_list *l);

/* the notes one file gets; the rest are counted in one more */
#define LEASE_MAX_NOTES 5

/* Parses one file's contents and adds its current leases' services (in
 * scope) to c->l; what it cannot understand becomes a note naming the file
 * and the line (or offset). Never fails otherwise. */
void leases_parse(enum lease_format f, struct lease_ctx *c, const char *data, size_t size);

/* The formats, each calling lease_add() for a current lease. */
void lease_parse_networkd(struct lease_ctx *c, const char *data, size_t size);
void lease_parse_dhclient(struct lease_ctx *c, const char *data, size_t size);
void lease_parse_dhcpcd(struct lease_ctx *c, const uint8_t *data, size_t size);
void lease_parse_dhcpcd6(struct lease_ctx *c, const uint8_t *data, size_t size);

/* "PATH:LINE: what" (line 0: "PATH: what") as a note, at most
 * LEASE_MAX_NOTES a file. */
void lease_note(struct lease_ctx *c, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A current lease's DHCP server, DNS and NTP servers, in scope, as
 * discovered targets (origin "dhcp-lease:IFNAME"). */
void lease_add(struct lease_ctx *c, const struct lease *le);

/* Adds a to list (of *n, at most LEASE_MAX_SERVERS) unless there; sets
 * *more when it is full. */
void lease_list_add(struct cg_addr *list, size_t *n, bool *more, const struct cg_addr *a);
