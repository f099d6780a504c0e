/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the BPF blind-spot reader's files share (blind-bpf.c: XDP and the
 * entry point; blind-bpf-tc.c: the qdiscs' and classes' filter dumps;
 * blind-bpf-filter.c: one tc filter read and modelled; blind-bpf-cgroup.c:
 * the cgroup tree; blind-bpf-util.c: bpf(), names). The fuzz target and the
 * unit test use the parsers. */
#pragma once

#include <linux/netlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/hostfacts.h"

struct nl_sock;

/* Appends printf output to the string in buf (of size), cutting it short
 * when it does not fit: a blind spot's words are for reading. */
void bpf_append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- devices ------------------------------------------------------------- */

/* The namespace's devices by index (from the RTM_GETLINK dump), for names. */
struct bpf_devs {
	struct bpf_dev {
		int ifindex;
		char name[IFNAMSIZ];
	} *v;
	size_t n, cap;
};

/* The device's name, or "if<N>" (in buf) when the dump did not have it. */
const char *bpf_dev_name(const struct bpf_devs *d, int ifindex, char buf[static IFNAMSIZ + 8]);

/* ---- programs ------------------------------------------------------------ */

/* A program's name by its id (bpf(BPF_PROG_GET_FD_BY_ID) and
 * BPF_OBJ_GET_INFO_BY_FD). Returns 0 with the name in buf ("" when the
 * program has none), -EPERM without CAP_SYS_ADMIN, -ENOENT when the program
 * is gone, another -errno otherwise. */
int bpf_prog_name(uint32_t id, char *buf, size_t size);
/* "xdp_drop (id 42, driver mode)", or "id 42 (driver mode)" when the name
 * cannot be read (detail: "driver mode"); true when it was refused (no
 * CAP_SYS_ADMIN). */
bool bpf_prog_label(uint32_t id, const char *detail, char *buf, size_t size);
union bpf_attr;
/* The bpf() system call; -1 with errno set on failure. */
long sys_bpf(int cmd, union bpf_attr *attr);

/* ---- tc filters ------------------------------------------------------------ */

/* The filters of one block (a device's ingress or egress hook, or a qdisc's
 * or class's filters on the way out), in the order the kernel runs them.
 * Shared by the blind spots made from it (reference counted). */
struct tc_block;

/* sure: a packet on this device and direction always meets the block (the
 * clsact and ingress hooks, the root qdisc); a class's or inner qdisc's
 * filters see only what classification sends there, so their drops are
 * unknown, not certain. where: "ingress", "egress", "egress qdisc htb 1:". */
struct tc_block *tc_block_new(int ifindex, const char *dev, unsigned dir, bool sure, const char *where);
/* One RTM_NEWTFILTER message of the block's dump. Returns 0, or -EBADMSG
 * (logged) when it is malformed. */
int tc_block_add(struct tc_block *tb, const struct nlmsghdr *nlh, const struct bpf_devs *devs);
/* The handle of the root hash table of the block's u32 classifier of
 * priority prio (the kernel's answer to a get of handle fff:), 0 when
 * unknown. */
typedef uint32_t (*tc_u32_root_fn)(void *ctx, uint32_t prio, uint16_t protocol);
/* Orders the block, adds a blind spot for every filter that may drop or
 * that the model cannot read, and drops the caller's reference. Returns the
 * number of blind spots added. */
size_t tc_block_finish(struct tc_block *tb, struct blind_spots *b, tc_u32_root_fn root_fn, void *ctx);
void tc_block_unref(struct tc_block *tb);
/* Forgets the filters read so far (a dump that is asked again). */
void tc_block_reset(struct tc_block *tb);
/* The block's effect on p, and the filter that decides it (index into the
 * block's filters, or the count when none does). */
enum blind_effect tc_block_walk(struct tc_block *tb, const struct blind_packet *p, size_t *at);

/* Reads every device's qdiscs, classes and filters into blind spots. */
int blind_collect_tc(struct nl_sock *s, const struct bpf_devs *devs, struct blind_spots *b);

/* ---- cgroups --------------------------------------------------------------- */

/* The first cgroup2 mount in a /proc/self/mountinfo text: its mount point
 * and the cgroup it shows as its root (both unescaped). Returns 1 when found,
 * 0 when there is none, -EINVAL when a cgroup2 line is malformed or its paths
 * do not fit. */
int mountinfo_find_cgroup2(const char *text, size_t len, char *mnt, size_t mnt_size, char *root,
			   size_t root_size);

/* cgroup BPF programs of the packet and socket attach types, on the cgroup2
 * root and every cgroup below it. */
int blind_collect_cgroup(struct blind_spots *b);

/* ---- the cgroup tree and the clients (blind-client.c) ------------------------ */

/* One cgroup of the tree the programs were read from. */
struct blind_cgroup {
	uint64_t id;                  /* its inode number: the kernel's cgroup id */
	char *path;                   /* as /proc/PID/cgroup shows it */
};

struct blind_cgroups {
	struct blind_cgroup *v;       /* sorted by id */
	size_t n;
	/* programs below the root whose cgroups hold a process of this
	 * namespace: only then does a flow's client matter */
	size_t n_below_root;
	struct blind_client **clients; /* made so far (owned) */
	size_t n_clients;
	const struct blind_client *of[HOST_CLIENT_COUNT];
	bool procs_read;              /* of[] filled from /proc */
};

void blind_cgroups_free(struct blind_cgroups *c);
/* qsort(3)/bsearch(3) order of struct blind_cgroup: by id */
int cgroup_cmp_id(const void *a, const void *b);
/* Does a program on cgroup path (everyone: the root in sight; shared: a
 * cgroup that holds arbitrary processes) see the packets of client c's
 * sockets (NULL: any process's)? */
bool cgroup_prog_sees(const char *path, bool everyone, bool shared, const struct blind_client *c);
/* Is path the cgroup anc, or one below it? */
bool cgroup_within(const char *path, const char *anc);
/* Does a component of path match one of the patterns (NULL-terminated)? */
bool cgroup_in_units(const char *path, const char *const *units);
/* The cgroup2 line of a /proc/PID/cgroup text ("0::/system.slice/x.service"):
 * its path into out. Returns 1 when found, 0 when there is none (a cgroup
 * v1 only host), -EINVAL when it does not fit or is not a path. */
int proc_cgroup2_path(const char *text, size_t len, char *out, size_t size);
