/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who holds the ports (issue 16, seed 002): every listening TCP socket and
 * bound, unconnected UDP socket of this network namespace (sock_diag, as
 * discover_listeners() reads them) with the processes that hold it: pid,
 * comm, command line, executable, and the systemd unit from
 * /proc/PID/cgroup.
 *
 *   collect/port-holders.c  the sockets and their holders (one pass over
 *                           /proc/PID/fd for all of them)
 *   audit/port-holders.c    whether the holder is the unit that should own
 *                           the port (called by services_analyze(), through
 *                           struct svc_options.sockets)
 *
 * Reading another process's descriptors (/proc/PID/fd, /proc/PID/exe) takes
 * what ptrace's read mode takes: the same user and no capability the reader
 * lacks, or CAP_SYS_PTRACE (and CAP_DAC_READ_SEARCH for the directory of a
 * process of another user). What cannot be read is a note, and the sockets
 * involved have no holder then. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgnatcheck/hostfacts.h"

/* a command line is cut after this many bytes ("..." appended) */
#define PORT_CMDLINE_MAX 256
/* the arguments kept one by one (argv[0] included) */
#define PORT_ARGV_MAX 8

/* One process that holds at least one of the sockets. */
struct port_process {
	pid_t pid;
	uid_t uid;                    /* the owner of /proc/PID */
	char comm[16];                /* /proc/PID/comm */
	pid_t ppid;                   /* its parent (0: unknown) */
	unsigned long long start_time;   /* since boot, in clock ticks (/proc/PID/stat) */
	char parent_comm[16];         /* the parent's comm ("sudo"), "" when unknown */
	char *cmdline;                /* the arguments, space-separated, at most PORT_CMDLINE_MAX
				       * bytes ("..." at the end when cut); NULL: unreadable */
	char *argv[PORT_ARGV_MAX];    /* the first arguments (NULL after the last) */
	char *exe;                    /* /proc/PID/exe's target, without " (deleted)"; NULL:
				       * unreadable */
	bool exe_deleted;             /* the file was replaced or removed since (an upgrade) */
	uint64_t exe_dev, exe_ino;    /* the executable's identity; 0/0: unknown */
	char *cwd;                    /* /proc/PID/cwd; NULL: unreadable */
	char *cgroup;                 /* its cgroup ("/system.slice/ssh.service"): the unified
				       * hierarchy's, else name=systemd's; NULL: unreadable */
	char *unit;                   /* the innermost *.service, *.scope or *.socket component
				       * of cgroup ("ssh.service", "session-4.scope",
				       * "init.scope" for the service manager); NULL: none */
	bool ended;                   /* ended while it was read: what is missing is missing */
};

/* A process and the descriptor by which it holds a socket. */
struct port_holder {
	const struct port_process *proc;
	int fd;
};

/* One socket: what sock_diag says of it, and who holds it. */
struct port_socket {
	struct listener sock;         /* address, protocol, port, device, v6only, inode, uid */
	char ifname[IFNAMSIZ];        /* sock.ifindex's name; "" for none (or gone) */
	struct port_holder *holders;
	size_t n_holders;
};

struct port_sockets {
	struct port_socket *v;
	size_t n;
	struct port_process *procs;   /* the holders' processes, by pid */
	size_t n_procs;
	/* processes whose descriptors could not be read (their sockets have no
	 * holder here): how many; 0 when every process was read */
	size_t n_unreadable;
	char **notes;                 /* what could not be read, in words (malloc'd) */
	size_t n_notes;
};

/* Lists this network namespace's listening TCP and bound UDP sockets (four
 * sock_diag dumps, discover_listeners()) and finds their holders
 * (port_holders_find() on /proc). After port_holders_snapshot(), a socket
 * the snapshot saw takes its holders from it (those that still run: the
 * same pid and start time), and only the others are looked up now. Returns
 * 0, or -errno when the sockets cannot be listed at all (a note says why;
 * ps holds what was found). */
int port_sockets_collect(struct port_sockets *ps);
/* Takes the sockets and their holders now, for the port_sockets_collect()
 * calls that come later in this process: call it while the process may
 * still read every process's descriptors (root with CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH, before caps_drop()); the sockets of the network
 * namespace it runs in. Returns what port_sockets_collect() would. */
int port_holders_snapshot(void);
void port_holders_snapshot_free(void);
/* Finds the holders of ps->v[] (ps->v[i].sock.inode) in one pass over the
 * descriptors of every process below proc (NULL: "/proc"), the inodes
 * hashed: each PID/fd/N that reads "socket:[INODE]". Fills ps->procs, each
 * socket's holders, n_unreadable and the notes: a process that ends
 * meanwhile, or whose descriptors cannot be read, is a note, never an
 * error. Returns 0, or -errno when proc cannot be read at all. */
int port_holders_find(struct port_sockets *ps, const char *proc);
void port_sockets_free(struct port_sockets *ps);

/* The contents of /proc/PID/cmdline, stat and cgroup (each NULL: not read),
 * as the scan reads them, into p: cmdline and argv, ppid, cgroup and unit
 * (for tests and fuzzing; what a process writes into its arguments is
 * anyone's). */
void port_process_parse(struct port_process *p, const char *cmdline, size_t n_cmdline, const char *stat,
			size_t n_stat, const char *cgroup, size_t n_cgroup);
/* Frees p's strings and zeroes it. */
void port_process_clear(struct port_process *p);

/* The unit of a cgroup path: its innermost component that names a
 * service, scope or socket unit ("/system.slice/foo.service/sub" ->
 * "foo.service"), in out (size bytes). Returns false when there is none. */
bool port_cgroup_unit(const char *cgroup, char *out, size_t size);

/* "tcp 0.0.0.0:22", "udp [::]:53%wg0" for a socket, in buf. */
const char *port_socket_to_string(const struct port_socket *s, char *buf, size_t size);
