/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the host itself says it depends on (discovered targets), and what is
 * on a packet's path besides netfilter (blind spots). collect/ fills both;
 * the audit turns discovered services into targets and checks every
 * target's path against the blind spots.
 *
 *   discover-leases.c    DHCP servers (and the DNS/NTP servers they gave)
 *                        from systemd-networkd, dhclient, NetworkManager and
 *                        dhcpcd leases
 *   discover-config.c    chrony, systemd-timesyncd, cloud-init's instance
 *                        data, apt's sources, /etc/hosts
 *   discover-conntrack.c what the host talks to now (ctnetlink)
 *   discover-listen.c    listening sockets (sock_diag)
 *   blind-bpf.c          XDP, tc filters, cgroup BPF programs
 *   blind-client.c       whose sockets a target's packets are (its client's
 *                        cgroups), for the cgroup BPF programs
 *   blind-net.c          IPVS, nft flowtables, xfrm policies, bridge netfilter
 *
 * Files are read below $CGNATCHECK_HOST_ROOT when it is set (tests, and
 * audits of a mounted image); a source whose files are absent finds nothing
 * and says nothing. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/addr.h"

/* "/etc/chrony/chrony.conf" below $CGNATCHECK_HOST_ROOT, in buf. Returns
 * buf, or NULL when it does not fit. */
const char *host_path(char *buf, size_t size, const char *path);

/* The program that sends a discovered service's requests and reads its
 * replies, as the source that found it knows: a cgroup BPF program sees
 * the packets of its own cgroup's sockets only (blind_client_of()). */
enum host_client {
	HOST_CLIENT_UNKNOWN,          /* any process may be */
	HOST_CLIENT_RESOLVED,         /* systemd-resolved (its upstream servers) */
	HOST_CLIENT_NETWORKD,         /* systemd-networkd's DHCP client */
	HOST_CLIENT_DHCLIENT,         /* ISC dhclient (ifupdown's) */
	HOST_CLIENT_NM,               /* NetworkManager's internal DHCP client */
	HOST_CLIENT_NM_DHCLIENT,      /* the dhclient NetworkManager starts */
	HOST_CLIENT_DHCPCD,
	HOST_CLIENT_CHRONY,
	HOST_CLIENT_TIMESYNCD,
	HOST_CLIENT_COUNT
};

/* One service the host depends on, as a source found it. */
struct discovered {
	struct cg_addr addr;
	unsigned protos;              /* CG_PROTO_UDP and/or CG_PROTO_TCP */
	uint16_t port;                /* the service's port (inbound: the host's listener) */
	uint16_t local_port;          /* the host's own port; 0: an ephemeral one (DHCP: 68) */
	bool inbound;                 /* the peer opens the connection */
	const char *role;             /* static: "dhcp", "dns", "ntp", "metadata", "mirror",
				       * "hosts", "gateway", "peer", "health-check" */
	char origin[96];              /* "dhcp-lease:eth0", "chrony.conf:12", "conntrack" */
	char ifname[IFNAMSIZ];        /* the device the source names, or "" */
	/* the client reads the server's replies through a packet socket, ahead
	 * of netfilter (ISC dhclient's DHCPv4): a drop on the reply's way in
	 * does not reach it */
	bool reply_before_netfilter;
	enum host_client client;      /* who sends the requests */
};

/* What the sources look for: only services inside these ranges (the
 * overlays' ranges, 100.64.0.0/10 and fd7a:115c:a1e0::/48 for Tailscale)
 * become targets; the rest is not this tool's business. */
struct discover_scope {
	const struct cg_prefix *ranges;
	size_t n_ranges;
	/* the overlays' devices: traffic on them is the overlay's own */
	const char *const *overlay_ifnames;
	size_t n_overlay_ifnames;
};

bool discover_in_scope(const struct discover_scope *s, const struct cg_addr *a);

struct discovered_list {
	struct discovered *v;
	size_t n, cap;
	/* what a source could not read or understand, in words (malloc'd):
	 * the audit reports them as info findings */
	char **notes;
	size_t n_notes;
};

/* Appends d unless an entry with the same address, protocols, port and
 * direction is there (the first origin stays). */
void discovered_add(struct discovered_list *l, const struct discovered *d);
void discovered_note(struct discovered_list *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void discovered_free(struct discovered_list *l);

/* The sources. Each appends what it finds in scope and returns 0; a source
 * that cannot run at all (no netlink socket) returns -errno after adding a
 * note. None of them changes anything. */
int discover_dhcp_leases(const struct discover_scope *s, struct discovered_list *l);
int discover_config(const struct discover_scope *s, struct discovered_list *l);
int discover_conntrack(const struct discover_scope *s, struct discovered_list *l);

/* ---- blind spots ---------------------------------------------------------- */

enum blind_kind {
	BLIND_XDP,
	BLIND_TC,
	BLIND_CGROUP_BPF,
	BLIND_IPVS,
	BLIND_FLOWTABLE,
	BLIND_XFRM,
	BLIND_BRIDGE_NF,
};

enum { BLIND_INGRESS = 1 << 0, BLIND_EGRESS = 1 << 1 };

/* One packet of a target's flow where it crosses the host's edge: the
 * request leaving (egress on the device, locally generated) or the reply
 * arriving (ingress, delivered locally); inbound targets the other way. */
struct blind_packet {
	struct cg_addr src, dst;
	uint8_t l4proto;
	uint16_t sport, dport;
	int ifindex;                  /* the device it leaves or arrives on */
	unsigned dir;                 /* BLIND_INGRESS or BLIND_EGRESS */
	bool ct_new;                  /* the flow's first packet (else: established/reply) */
	const struct blind_client *client; /* whose sockets; NULL: any process's */
};

enum blind_effect { BLIND_PASS, BLIND_DROP, BLIND_UNKNOWN };

/* Whose sockets a flow's packets are: the processes that send a target's
 * request and read the reply (outbound), or that hold the socket listening
 * for it (inbound). A cgroup BPF program sees the sockets of its cgroup and
 * the cgroups below it only. blind_client_of() and
 * blind_client_of_sockets() make them; the blind spots own them. */
struct blind_client {
	/* the cgroups the processes or sockets are in (cgroup2 paths as
	 * /proc/PID/cgroup shows them) */
	char **cgroups;
	size_t n_cgroups;
	/* none of its processes runs in this namespace: the units that would
	 * run it (fnmatch(3) patterns of a path's component: "chrony.service"),
	 * their cgroups and everything below them; NULL when none */
	const char *const *units;
};

struct blind_spot {
	enum blind_kind kind;
	int ifindex;                  /* the device it is attached to; 0: every device */
	unsigned dirs;                /* BLIND_INGRESS and/or BLIND_EGRESS */
	char what[224];               /* in words, with where it is attached:
				       * "XDP program xdp_drop (id 42, driver mode) on eth0" */
	/* Decides a packet that crosses it: PASS when it provably leaves the
	 * packet alone, DROP when it provably drops it, UNKNOWN otherwise. NULL:
	 * UNKNOWN for every packet of its device and direction. */
	enum blind_effect (*decide)(const struct blind_spot *b, const struct blind_packet *p);
	void *data;                   /* decide()'s, freed with free_data */
	void (*free_data)(void *data);
};

struct blind_cgroups;

struct blind_spots {
	struct blind_spot *v;
	size_t n, cap;
	char **notes;                 /* what could not be read (malloc'd) */
	size_t n_notes;
	/* what is there and leaves the audit's flows alone as far as the
	 * audit knows (the audit reports them as info findings) */
	char **infos;
	size_t n_infos;
	/* the cgroup tree the cgroup BPF programs were read from, and the
	 * clients made from it (blind-bpf-cgroup.c, blind-client.c) */
	struct blind_cgroups *cgroups;
};

struct blind_spot *blind_add(struct blind_spots *b);
void blind_note(struct blind_spots *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void blind_info(struct blind_spots *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void blind_spots_free(struct blind_spots *b);
/* The combined effect of every blind spot on p: DROP if one drops it,
 * else UNKNOWN if one may touch it, else PASS; *which is the deciding one. */
enum blind_effect blind_decide(const struct blind_spots *b, const struct blind_packet *p,
			       const struct blind_spot **which);

/* XDP programs, tc filters (clsact/ingress qdiscs), cgroup BPF programs. */
int blind_collect_bpf(struct blind_spots *b);
/* IPVS services, nft flowtables, xfrm policies, bridge netfilter. */
int blind_collect_net(struct blind_spots *b);

/* Reads the names of the host's BPF programs while the process may still
 * hold CAP_SYS_ADMIN (the kernel gives a program's name to nobody else):
 * called before the capabilities are dropped, it lets the blind spots name
 * the programs loaded by then. Without CAP_SYS_ADMIN it reads nothing, and
 * a blind spot names its program by its id and says so. */
void blind_bpf_names_load(void);

/* Does a cgroup BPF program below the root cgroup see this namespace's
 * packets? Only then does a flow's client matter. */
bool blind_cgroup_programs(const struct blind_spots *b);
/* The client a source names, as this host runs it now: its processes'
 * cgroups in this network namespace (one pass over /proc for all
 * clients), else the units that would run it. NULL for
 * HOST_CLIENT_UNKNOWN, or when nothing says where it would run. */
const struct blind_client *blind_client_of(struct blind_spots *b, enum host_client c);
/* The client that holds these sockets (sock_diag's cgroup ids, as
 * struct listener has them). NULL when there are none, or a cgroup is not
 * known (0: the kernel did not say): then any process may be. */
const struct blind_client *blind_client_of_sockets(struct blind_spots *b, const uint64_t *cgroup_ids, size_t n);

/* ---- listening sockets (discover-listen.c) ---------------------------------- */

/* One socket that waits for others to connect: TCP in LISTEN, or UDP bound
 * and not connected; as sock_diag (NETLINK_SOCK_DIAG) shows it. */
struct listener {
	struct cg_addr addr;          /* bound address: the family's any address for a wildcard */
	uint8_t l4proto;              /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t port;
	int ifindex;                  /* the device it is bound to (SO_BINDTODEVICE); 0: none */
	bool v6only;                  /* AF_INET6: IPV6_V6ONLY (else a wildcard takes IPv4 too) */
	uint32_t inode;               /* the socket's inode (who holds it: /proc/PID/fd) */
	uint32_t uid;
	uint64_t cgroup_id;           /* the cgroup it was made in (INET_DIAG_CGROUP_ID); 0: not said */
};

struct listener_list {
	struct listener *v;
	size_t n, cap;
	char why[160];                /* discover_listeners() failed: why, in words */
};

/* Every listening TCP socket and unconnected UDP socket of this network
 * namespace, IPv4 and IPv6. Returns 0, or -errno with l->why set (what is
 * listed so far stays). */
int discover_listeners(struct listener_list *l);
void listener_list_free(struct listener_list *l);
