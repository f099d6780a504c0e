/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who holds the ports: the sockets as discover_listeners() lists them
 * (sock_diag), and their holders from one pass over /proc/PID/fd. Each
 * descriptor that reads "socket:[INODE]" is looked up in a hash of the
 * sockets' inodes; only the processes that hold one are read further
 * (comm, cmdline, exe, cwd, cgroup), right after their descriptors, while
 * they are most likely still there. Socket inodes are unique across network
 * namespaces, so a process of another namespace never matches by mistake. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/port-holders.h"

/* the processes named in the note on unreadable descriptors */
#define NOTE_PIDS 6

static void ps_note(struct port_sockets *ps, const char *fmt, ...) _printf_(2, 3);
static void ps_note(struct port_sockets *ps, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	ps->notes = xreallocarray(ps->notes, ps->n_notes + 1, sizeof(*ps->notes));
	ps->notes[ps->n_notes++] = s;
}

bool port_cgroup_unit(const char *cgroup, char *out, size_t size)
{
	static const char *const suffixes[] = { ".service", ".scope", ".socket" };
	const char *end, *start;

	if (!cgroup || !size)
		return false;
	end = cgroup + strlen(cgroup);
	/* components from the innermost outwards */
	while (end > cgroup) {
		start = end;
		while (start > cgroup && start[-1] != '/')
			start--;
		size_t len = (size_t)(end - start);
		for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
			size_t sl = strlen(suffixes[i]);
			if (len > sl && !memcmp(start + len - sl, suffixes[i], sl)) {
				if (len >= size)
					return false;
				memcpy(out, start, len);
				out[len] = '\0';
				return true;
			}
		}
		end = start > cgroup ? start - 1 : cgroup;
	}
	return false;
}

const char *port_socket_to_string(const struct port_socket *s, char *buf, size_t size)
{
	char a[CG_ADDRSTRLEN];

	addr_to_string(&s->sock.addr, a);
	snprintf(buf, size, "%s %s%s%s:%u%s%s", s->sock.l4proto == IPPROTO_TCP ? "tcp" : "udp",
		 s->sock.addr.family == AF_INET6 ? "[" : "", a, s->sock.addr.family == AF_INET6 ? "]" : "",
		 s->sock.port, s->ifname[0] ? "%" : "", s->ifname);
	return buf;
}

/* ---- the inode hash ------------------------------------------------------ */

struct inode_hash {
	size_t mask;
	size_t *slot;                 /* socket index + 1; 0: empty */
};

static void hash_build(struct inode_hash *h, const struct port_sockets *ps)
{
	size_t cap = 16;

	while (cap < 2 * ps->n)
		cap *= 2;
	h->mask = cap - 1;
	h->slot = xcalloc(cap, sizeof(*h->slot));
	for (size_t i = 0; i < ps->n; i++) {
		size_t k = (size_t)hash_mix64(ps->v[i].sock.inode) & h->mask;
		while (h->slot[k] && ps->v[h->slot[k] - 1].sock.inode != ps->v[i].sock.inode)
			k = (k + 1) & h->mask;
		if (!h->slot[k])
			h->slot[k] = i + 1;
	}
}

/* the index of the socket with this inode, or SIZE_MAX */
static size_t hash_find(const struct inode_hash *h, const struct port_sockets *ps, uint32_t inode)
{
	for (size_t k = (size_t)hash_mix64(inode) & h->mask; h->slot[k]; k = (k + 1) & h->mask)
		if (ps->v[h->slot[k] - 1].sock.inode == inode)
			return h->slot[k] - 1;
	return SIZE_MAX;
}

/* ---- one process ------------------------------------------------------- */

/* Reads a small file of /proc (at most size - 1 bytes) relative to dirfd.
 * Returns the length, or -errno. */
static ssize_t read_small(int dirfd, const char *path, char *buf, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return -errno;
	while (n < size - 1) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

/* a link of /proc/PID (malloc'd), or NULL with errno */
static char *read_link(int dirfd, const char *path)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(dirfd, path, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/* a string into a fixed buffer, cut to fit */
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool gone(int err)
{
	return err == ENOENT || err == ESRCH;
}

/* /proc/PID/cmdline: NUL-separated arguments (any bytes: a process sets
 * its own); cut: the file was longer than what was read */
static void parse_cmdline(struct port_process *p, const char *buf, size_t n, bool cut)
{
	char out[PORT_CMDLINE_MAX + 4];
	size_t o = 0, argc = 0;

	/* a kernel thread, a zombie: no arguments */
	for (size_t i = 0; i < n;) {
		const char *arg = buf + i;
		size_t len = strnlen(arg, n - i);

		if (argc < PORT_ARGV_MAX) {
			p->argv[argc] = xmalloc(len + 1);
			memcpy(p->argv[argc], arg, len);
			p->argv[argc][len] = '\0';
		}
		if (argc++ && o < PORT_CMDLINE_MAX)
			out[o++] = ' ';
		for (size_t k = 0; k < len && o < PORT_CMDLINE_MAX; k++)
			out[o++] = (unsigned char)arg[k] < 0x20 || arg[k] == 0x7f ? '?' : arg[k];
		i += len + 1;
		if (o >= PORT_CMDLINE_MAX && (i < n || cut)) {
			memcpy(out + PORT_CMDLINE_MAX, "...", 3);
			o = PORT_CMDLINE_MAX + 3;
			cut = false;
			break;
		}
	}
	if (cut && o <= PORT_CMDLINE_MAX) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	free(p->cmdline);
	p->cmdline = xstrdup(out);
}

/* /proc/PID/cgroup (buf NUL-terminated, changed): the cgroup v2 path
 * ("0::/system.slice/x.service"); on a legacy or hybrid host whose unified
 * hierarchy is unused ("0::/"), name=systemd's. */
static void parse_cgroup(struct port_process *p, char *buf)
{
	char *unified = NULL, *named = NULL;

	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "0::", 3))
			unified = line + 3;
		else if (strstr(line, ":name=systemd:"))
			named = strstr(line, ":name=systemd:") + strlen(":name=systemd:");
	}
	if (unified && !strcmp(unified, "/") && named)
		unified = NULL;
	free(p->cgroup);
	free(p->unit);
	p->cgroup = p->unit = NULL;
	if (unified || named)
		p->cgroup = xstrdup(unified ? unified : named);
	if (p->cgroup) {
		char unit[256];
		if (port_cgroup_unit(p->cgroup, unit, sizeof(unit)))
			p->unit = xstrdup(unit);
	}
}

/* /proc/PID/stat: "PID (COMM) STATE PPID ...", COMM may hold anything (") "
 * too): the parent, or 0 */
static pid_t parse_stat(const char *buf, unsigned long long *start_time)
{
	const char *end = strrchr(buf, ')');
	long ppid = 0;

	*start_time = 0;
	/* STATE PPID PGRP SESSION TTY TPGID FLAGS MINFLT CMINFLT MAJFLT CMAJFLT
	 * UTIME STIME CUTIME CSTIME PRIORITY NICE THREADS ITREAL STARTTIME */
	if (!end || sscanf(end + 1, " %*c %ld %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
			   &ppid, start_time) < 1 || ppid < 0 || ppid > INT32_MAX)
		return 0;
	return (pid_t)ppid;
}

void port_process_parse(struct port_process *p, const char *cmdline, size_t n_cmdline, const char *stat,
			size_t n_stat, const char *cgroup, size_t n_cgroup)
{
	char *t;

	if (cmdline)
		parse_cmdline(p, cmdline, n_cmdline, false);
	if (stat) {
		t = xmalloc(n_stat + 1);
		memcpy(t, stat, n_stat);
		t[n_stat] = '\0';
		p->ppid = parse_stat(t, &p->start_time);
		free(t);
	}
	if (cgroup) {
		t = xmalloc(n_cgroup + 1);
		memcpy(t, cgroup, n_cgroup);
		t[n_cgroup] = '\0';
		parse_cgroup(p, t);
		free(t);
	}
}

static void read_cmdline(int dirfd, const char *pid, struct port_process *p)
{
	char path[320], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cmdline", pid);
	n = read_small(dirfd, path, buf, sizeof(buf));
	if (n < 0) {
		p->ended |= gone((int)-n);
		return;
	}
	/* a longer one than the buffer holds is cut */
	parse_cmdline(p, buf, (size_t)n, n == (ssize_t)sizeof(buf) - 1);
}

static void read_cgroup(int dirfd, const char *pid, struct port_process *p)
{
	char path[320], buf[8192];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cgroup", pid);
	n = read_small(dirfd, path, buf, sizeof(buf));
	if (n < 0) {
		p->ended |= gone((int)-n);
		return;
	}
	parse_cgroup(p, buf);
}

static void read_process(int procfd, const char *pid, struct port_process *p)
{
	char path[320], buf[64];
	struct stat st;
	ssize_t n;

	p->pid = (pid_t)strtol(pid, NULL, 10);
	if (fstatat(procfd, pid, &st, 0) == 0)
		p->uid = st.st_uid;
	snprintf(path, sizeof(path), "%s/comm", pid);
	n = read_small(procfd, path, buf, sizeof(buf));
	if (n >= 0) {
		buf[strcspn(buf, "\n")] = '\0';
		copy(p->comm, sizeof(p->comm), buf);
	} else {
		p->ended |= gone((int)-n);
	}
	snprintf(path, sizeof(path), "%s/stat", pid);
	char stat[512];
	n = read_small(procfd, path, stat, sizeof(stat));
	if (n < 0)
		p->ended |= gone((int)-n);
	else
		p->ppid = parse_stat(stat, &p->start_time);
	if (p->ppid > 0) {
		snprintf(path, sizeof(path), "%ld/comm", (long)p->ppid);
		if (read_small(procfd, path, buf, sizeof(buf)) >= 0) {
			buf[strcspn(buf, "\n")] = '\0';
			copy(p->parent_comm, sizeof(p->parent_comm), buf);
		}
	}
	read_cmdline(procfd, pid, p);
	snprintf(path, sizeof(path), "%s/exe", pid);
	p->exe = read_link(procfd, path);
	if (p->exe) {
		size_t l = strlen(p->exe);
		static const char deleted[] = " (deleted)";
		if (l > sizeof(deleted) - 1 && !strcmp(p->exe + l - (sizeof(deleted) - 1), deleted)) {
			p->exe[l - (sizeof(deleted) - 1)] = '\0';
			p->exe_deleted = true;
		}
		if (fstatat(procfd, path, &st, 0) == 0) {
			p->exe_dev = st.st_dev;
			p->exe_ino = st.st_ino;
		}
	}
	/* exe and cwd are missing for a zombie too: whether it ended, its stat says */
	snprintf(path, sizeof(path), "%s/cwd", pid);
	p->cwd = read_link(procfd, path);
	read_cgroup(procfd, pid, p);
}

/* ---- the pass over /proc ------------------------------------------------- */

struct hit {
	size_t sock, proc;
	int fd;
};

struct scan {
	struct port_sockets *ps;
	struct inode_hash h;
	struct hit *hits;
	size_t n_hits, cap_hits;
	size_t cap_procs;
	/* the unreadable ones named in the note */
	char named[NOTE_PIDS][48];
	size_t n_named;
	int unreadable_err;
	size_t n_ended;
};

static void unreadable(struct scan *s, int procfd, const char *pid, int err)
{
	char path[320], comm[32];

	s->ps->n_unreadable++;
	if (!s->unreadable_err)
		s->unreadable_err = err;
	if (s->n_named >= NOTE_PIDS)
		return;
	snprintf(path, sizeof(path), "%s/comm", pid);
	if (read_small(procfd, path, comm, sizeof(comm)) < 0)
		comm[0] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	snprintf(s->named[s->n_named++], sizeof(s->named[0]), "%s%s%s%s", pid, comm[0] ? " (" : "", comm,
		 comm[0] ? ")" : "");
}

/* The descriptors of one process. */
static void scan_process(struct scan *s, int procfd, const char *pid)
{
	char path[320], link[64];
	size_t proc = SIZE_MAX;
	struct dirent *de;
	DIR *d;
	int fd;

	snprintf(path, sizeof(path), "%s/fd", pid);
	fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (!gone(errno))
			unreadable(s, procfd, pid, errno);
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((errno = 0, de = readdir(d))) {
		unsigned long ino;
		char *end;
		ssize_t n;
		size_t k;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(fd, de->d_name, link, sizeof(link) - 1);
		if (n < 0) {
			if (errno == EACCES || errno == EPERM) {
				unreadable(s, procfd, pid, errno);
				break;
			}
			continue;   /* closed meanwhile */
		}
		link[n] = '\0';
		if (strncmp(link, "socket:[", 8) != 0)
			continue;
		errno = 0;
		ino = strtoul(link + 8, &end, 10);
		if (errno || *end != ']' || ino > UINT32_MAX)
			continue;
		k = hash_find(&s->h, s->ps, (uint32_t)ino);
		if (k == SIZE_MAX)
			continue;
		if (proc == SIZE_MAX) {
			grow_array((void **)&s->ps->procs, &s->cap_procs, s->ps->n_procs + 1, sizeof(*s->ps->procs));
			proc = s->ps->n_procs++;
			memset(&s->ps->procs[proc], 0, sizeof(s->ps->procs[0]));
		}
		grow_array((void **)&s->hits, &s->cap_hits, s->n_hits + 1, sizeof(*s->hits));
		s->hits[s->n_hits++] = (struct hit){ k, proc, (int)strtol(de->d_name, NULL, 10) };
	}
	closedir(d);
	if (proc == SIZE_MAX)
		return;
	read_process(procfd, pid, &s->ps->procs[proc]);
	if (s->ps->procs[proc].ended)
		s->n_ended++;
}

int port_holders_find(struct port_sockets *ps, const char *proc)
{
	struct scan s = { .ps = ps };
	struct dirent *de;
	size_t *count;
	DIR *d;
	int r = 0;

	if (!proc)
		proc = "/proc";
	d = opendir(proc);
	if (!d) {
		r = -errno;
		ps_note(ps, "the holders of the listening sockets cannot be looked up: %s: %s", proc, strerror(-r));
		return r;
	}
	hash_build(&s.h, ps);
	while ((de = readdir(d))) {
		const char *c = de->d_name;
		bool digits = *c != '\0';

		for (; *c && digits; c++)
			digits = *c >= '0' && *c <= '9';
		if (digits && ps->n)
			scan_process(&s, dirfd(d), de->d_name);
	}
	closedir(d);

	/* the holders, socket by socket (procs no longer moves) */
	count = xcalloc(ps->n + 1, sizeof(*count));
	for (size_t i = 0; i < s.n_hits; i++)
		count[s.hits[i].sock]++;
	for (size_t i = 0; i < ps->n; i++) {
		ps->v[i].holders = count[i] ? xcalloc(count[i], sizeof(*ps->v[i].holders)) : NULL;
		ps->v[i].n_holders = 0;
	}
	for (size_t i = 0; i < s.n_hits; i++) {
		struct port_socket *so = &ps->v[s.hits[i].sock];
		so->holders[so->n_holders++] = (struct port_holder){ &ps->procs[s.hits[i].proc], s.hits[i].fd };
	}
	free(count);
	free(s.hits);
	free(s.h.slot);

	/* what could not be read matters where a socket shows no holder */
	size_t orphans = 0;
	char first_orphan[96] = "";
	for (size_t i = 0; i < ps->n; i++)
		if (!ps->v[i].n_holders && !orphans++)
			port_socket_to_string(&ps->v[i], first_orphan, sizeof(first_orphan));
	if (ps->n_unreadable && orphans) {
		char list[NOTE_PIDS * 50] = "";
		size_t o = 0;
		for (size_t i = 0; i < s.n_named; i++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", s.named[i]);
		if (ps->n_unreadable > s.n_named)
			snprintf(list + o, sizeof(list) - o, " and %zu more", ps->n_unreadable - s.n_named);
		ps_note(ps, "%zu listening socket%s (%s%s) show%s no holder: the open files of %zu process%s could "
			"not be read (%s: %s). Reading them takes root with CAP_SYS_PTRACE (and "
			"CAP_DAC_READ_SEARCH for other users' processes)",
			orphans, orphans == 1 ? "" : "s", first_orphan, orphans > 1 ? ", ..." : "",
			orphans == 1 ? "s" : "", ps->n_unreadable, ps->n_unreadable == 1 ? "" : "es", list,
			strerror(s.unreadable_err));
	}
	if (s.n_ended)
		ps_note(ps, "%zu process%s holding a listening socket ended while %s read: what was not read "
			"yet is missing",
			s.n_ended, s.n_ended == 1 ? "" : "es", s.n_ended == 1 ? "it was" : "they were");
	return 0;
}

/* the sockets, without holders */
static int list_sockets(struct port_sockets *ps)
{
	struct listener_list l = { 0 };
	int r;

	memset(ps, 0, sizeof(*ps));
	r = discover_listeners(&l);
	if (r < 0)
		ps_note(ps, "listening sockets: %s", l.why);
	ps->v = xcalloc(l.n ? l.n : 1, sizeof(*ps->v));
	for (size_t i = 0; i < l.n; i++) {
		ps->v[i].sock = l.v[i];
		if (l.v[i].ifindex > 0 && !if_indextoname((unsigned)l.v[i].ifindex, ps->v[i].ifname))
			ps->v[i].ifname[0] = '\0';
	}
	ps->n = l.n;
	listener_list_free(&l);
	return r;
}

/* ---- the snapshot taken while the descriptors could still be read ---------- */

static struct port_sockets snap;
static bool have_snap;

int port_holders_snapshot(void)
{
	int r;

	port_holders_snapshot_free();
	r = list_sockets(&snap);
	port_holders_find(&snap, NULL);
	have_snap = true;
	return r;
}

void port_holders_snapshot_free(void)
{
	port_sockets_free(&snap);
	have_snap = false;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void copy_process(struct port_process *d, const struct port_process *p)
{
	*d = *p;
	d->cmdline = dup_or_null(p->cmdline);
	for (size_t k = 0; k < PORT_ARGV_MAX; k++)
		d->argv[k] = dup_or_null(p->argv[k]);
	d->exe = dup_or_null(p->exe);
	d->cwd = dup_or_null(p->cwd);
	d->cgroup = dup_or_null(p->cgroup);
	d->unit = dup_or_null(p->unit);
}

/* the same process as when the snapshot was taken (not a reused pid) */
static bool still_runs(const struct port_process *p)
{
	char path[64], buf[512];
	unsigned long long start;
	int fd = AT_FDCWD;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	if (read_small(fd, path, buf, sizeof(buf)) < 0)
		return false;
	parse_stat(buf, &start);
	return start == p->start_time;
}

/* ps's sockets that the snapshot knows take their holders from it (those
 * still running); the others are looked up now, with what this process may
 * read. */
static void holders_from_snapshot(struct port_sockets *ps)
{
	struct inode_hash h;
	struct port_sockets rest = { 0 };
	size_t *from = xcalloc(ps->n + 1, sizeof(*from));      /* snapshot socket + 1, or 0 */
	size_t *rest_of = xcalloc(ps->n + 1, sizeof(*rest_of)); /* ps index of rest.v[i] */
	size_t *newidx = xcalloc(snap.n_procs + 1, sizeof(*newidx)); /* snapshot proc -> ps proc + 1 */
	unsigned char *state = xcalloc(snap.n_procs + 1, 1);    /* 0 unknown, 1 runs, 2 gone */
	size_t n = 0, cap = 0;

	hash_build(&h, &snap);
	rest.v = xcalloc(ps->n + 1, sizeof(*rest.v));
	for (size_t i = 0; i < ps->n; i++) {
		size_t k = hash_find(&h, &snap, ps->v[i].sock.inode);
		if (k != SIZE_MAX) {
			from[i] = k + 1;
			continue;
		}
		rest_of[rest.n] = i;
		rest.v[rest.n++].sock = ps->v[i].sock;
	}
	free(h.slot);
	if (rest.n)
		port_holders_find(&rest, NULL);

	/* the processes: the snapshot's that still run, then the new scan's */
	for (size_t i = 0; i < ps->n; i++) {
		const struct port_socket *o = from[i] ? &snap.v[from[i] - 1] : NULL;
		for (size_t hh = 0; o && hh < o->n_holders; hh++) {
			size_t k = (size_t)(o->holders[hh].proc - snap.procs);
			if (!state[k])
				state[k] = still_runs(&snap.procs[k]) ? 1 : 2;
			if (state[k] != 1 || newidx[k])
				continue;
			grow_array((void **)&ps->procs, &cap, n + 1, sizeof(*ps->procs));
			copy_process(&ps->procs[n], &snap.procs[k]);
			newidx[k] = ++n;
		}
	}
	size_t base = n;
	grow_array((void **)&ps->procs, &cap, n + rest.n_procs + 1, sizeof(*ps->procs));
	for (size_t k = 0; k < rest.n_procs; k++)
		ps->procs[n++] = rest.procs[k];   /* moved: its strings are ps's now */
	ps->n_procs = n;

	/* the holders, pointing into ps->procs */
	for (size_t i = 0; i < ps->n; i++) {
		const struct port_socket *o = from[i] ? &snap.v[from[i] - 1] : NULL;
		ps->v[i].holders = NULL;
		ps->v[i].n_holders = 0;
		if (!o)
			continue;
		ps->v[i].holders = xcalloc(o->n_holders + 1, sizeof(*ps->v[i].holders));
		for (size_t hh = 0; hh < o->n_holders; hh++) {
			size_t k = (size_t)(o->holders[hh].proc - snap.procs);
			if (newidx[k])
				ps->v[i].holders[ps->v[i].n_holders++] =
					(struct port_holder){ &ps->procs[newidx[k] - 1], o->holders[hh].fd };
		}
	}
	for (size_t j = 0; j < rest.n; j++) {
		struct port_socket *d = &ps->v[rest_of[j]];
		d->holders = rest.v[j].holders;
		d->n_holders = rest.v[j].n_holders;
		for (size_t hh = 0; hh < d->n_holders; hh++)
			d->holders[hh].proc = &ps->procs[base + (size_t)(d->holders[hh].proc - rest.procs)];
		rest.v[j].holders = NULL;
		rest.v[j].n_holders = 0;
	}
	ps->n_unreadable = rest.n_unreadable;
	for (size_t k = 0; k < rest.n_notes; k++)
		ps_note(ps, "%s", rest.notes[k]);
	/* rest's processes were moved, not copied */
	free(rest.procs);
	rest.procs = NULL;
	rest.n_procs = 0;
	port_sockets_free(&rest);
	free(from);
	free(rest_of);
	free(newidx);
	free(state);
}

int port_sockets_collect(struct port_sockets *ps)
{
	int r = list_sockets(ps);

	if (have_snap)
		holders_from_snapshot(ps);
	else
		port_holders_find(ps, NULL);
	return r;
}

void port_process_clear(struct port_process *p)
{
	free(p->cmdline);
	for (size_t k = 0; k < PORT_ARGV_MAX; k++)
		free(p->argv[k]);
	free(p->exe);
	free(p->cwd);
	free(p->cgroup);
	free(p->unit);
	memset(p, 0, sizeof(*p));
}

void port_sockets_free(struct port_sockets *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->v[i].holders);
	free(ps->v);
	for (size_t i = 0; i < ps->n_procs; i++)
		port_process_clear(&ps->procs[i]);
	free(ps->procs);
	for (size_t i = 0; i < ps->n_notes; i++)
		free(ps->notes[i]);
	free(ps->notes);
	memset(ps, 0, sizeof(*ps));
}
