/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup BPF programs: the cgroup2 file system (found in the mount table),
 * its root and every cgroup below it, one bpf(BPF_PROG_QUERY) per cgroup
 * and attach type, for the types that see packets or connections only
 * (systemd's device-controller programs and the like are never asked about).
 *
 * A program sees the packets of the sockets of its cgroup and the cgroups
 * below it, no others. The root's effective programs see every process's
 * packets: unknown for every packet. A program further down is unknown for
 * the packets of a flow whose client (blind_packet.client: the process
 * that sends the request, or holds the listening socket) is in its
 * subtree, and leaves every other flow alone. Where the client is not
 * known (any process may send it), a program on a cgroup that holds
 * arbitrary processes is unknown: a slice (system.slice, user-1000.slice),
 * a cgroup outside any unit, a unit with slices below it (user@1000.service);
 * a program on a unit's own cgroup (systemd's IPAddressDeny= programs on
 * systemd-journald.service) filters that unit's traffic only, and one info
 * says which units have them. Cgroups none of whose processes live in this
 * network namespace (a container's, another test's) are left out: those
 * cannot send or receive this namespace's packets.
 *
 * The mount table is read below $CGNATCHECK_HOST_ROOT like the host's
 * files (a test's empty host root leaves the machine's own cgroups out); the
 * mount point it names is the live one. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blind-bpf-internal.h"
#include "cgnatcheck/common.h"

/* ---- the mount table -------------------------------------------------------- */

/* Copies a mountinfo field, undoing its octal escapes (\040 for a space). */
static int unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (c == '\0' || o + 1 >= size)
			return -EINVAL;
		out[o++] = c;
	}
	if (size == 0)
		return -EINVAL;
	out[o] = '\0';
	return 0;
}

int mountinfo_find_cgroup2(const char *text, size_t len, char *mnt, size_t mnt_size, char *root,
			   size_t root_size)
{
	size_t pos = 0;

	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		const char *f[64];
		size_t fl[64], nf = 0, i = 0;

		pos += n + 1;
		while (i < n && nf < ARRAY_SIZE(f)) {
			while (i < n && line[i] == ' ')
				i++;
			if (i >= n)
				break;
			f[nf] = line + i;
			while (i < n && line[i] != ' ')
				i++;
			fl[nf] = (size_t)(line + i - f[nf]);
			nf++;
		}
		size_t sep = 6;
		while (sep < nf && !(fl[sep] == 1 && f[sep][0] == '-'))
			sep++;
		if (sep + 1 >= nf || nf < 7)
			continue;
		if (fl[sep + 1] != 7 || memcmp(f[sep + 1], "cgroup2", 7) != 0)
			continue;
		if (unescape(f[4], fl[4], mnt, mnt_size) < 0 || unescape(f[3], fl[3], root, root_size) < 0)
			return -EINVAL;
		if (mnt[0] != '/' || root[0] != '/')
			return -EINVAL;
		return 1;
	}
	return 0;
}

/* The whole file (mountinfo is generated: its size says nothing). */
static int read_all(const char *path, char **out, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 16384, n = 0;
	char *buf;

	if (fd < 0)
		return -errno;
	buf = xmalloc(cap);
	for (;;) {
		ssize_t r;
		if (n + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -errno;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* ---- attach types ----------------------------------------------------------- */

struct cg_type {
	enum bpf_attach_type type;
	const char *name;
	unsigned dirs;
	int family;      /* AF_INET: IPv4 only; 0: both (an IPv6 socket sends IPv4-mapped too) */
	unsigned protos; /* CG_PROTO_*, 0 for any */
	bool new_only;   /* the flow's first packet, sent by the host (connect) */
};

static const struct cg_type cg_types[] = {
	{ BPF_CGROUP_INET_INGRESS, "cgroup_skb ingress", BLIND_INGRESS, 0, 0, false },
	{ BPF_CGROUP_INET_EGRESS, "cgroup_skb egress", BLIND_EGRESS, 0, 0, false },
	{ BPF_CGROUP_INET_SOCK_CREATE, "cgroup sock_create", BLIND_INGRESS | BLIND_EGRESS, 0, 0, false },
	{ BPF_CGROUP_SOCK_OPS, "sock_ops", BLIND_INGRESS | BLIND_EGRESS, 0, CG_PROTO_TCP, false },
	{ BPF_CGROUP_INET4_CONNECT, "connect4", BLIND_EGRESS, AF_INET, 0, true },
	{ BPF_CGROUP_INET6_CONNECT, "connect6", BLIND_EGRESS, 0, 0, true },
	{ BPF_CGROUP_UDP4_SENDMSG, "sendmsg4", BLIND_EGRESS, AF_INET, CG_PROTO_UDP, false },
	{ BPF_CGROUP_UDP6_SENDMSG, "sendmsg6", BLIND_EGRESS, 0, CG_PROTO_UDP, false },
	{ BPF_CGROUP_UDP4_RECVMSG, "recvmsg4", BLIND_INGRESS, AF_INET, CG_PROTO_UDP, false },
	{ BPF_CGROUP_UDP6_RECVMSG, "recvmsg6", BLIND_INGRESS, 0, CG_PROTO_UDP, false },
};

/* One program's (or one attach type's programs') blind spot. */
struct cg_prog {
	const struct cg_type *t;
	char *path;      /* its cgroup, as /proc/PID/cgroup shows it */
	bool everyone;   /* the root of the tree in sight */
	bool shared;     /* a cgroup that holds arbitrary processes */
};

static void cg_prog_free(void *data)
{
	struct cg_prog *d = data;

	free(d->path);
	free(d);
}

bool cgroup_prog_sees(const char *path, bool everyone, bool shared, const struct blind_client *c)
{
	if (everyone)
		return true;
	/* any process may be the client: one of a shared cgroup's */
	if (!c)
		return shared;
	for (size_t i = 0; i < c->n_cgroups; i++)
		if (cgroup_within(c->cgroups[i], path))
			return true;
	/* not running: where its unit would run it, or a slice above that */
	return c->units && (shared || cgroup_in_units(path, c->units));
}

static enum blind_effect cg_decide(const struct blind_spot *b, const struct blind_packet *p)
{
	const struct cg_prog *d = b->data;
	const struct cg_type *t = d->t;
	unsigned proto = p->l4proto == IPPROTO_UDP ? CG_PROTO_UDP : p->l4proto == IPPROTO_TCP ? CG_PROTO_TCP : 0;

	if (t->family && p->src.family != t->family)
		return BLIND_PASS;
	if (t->protos && !(t->protos & proto))
		return BLIND_PASS;
	/* connect(): the host's own request, not an inbound flow's reply */
	if (t->new_only && !p->ct_new)
		return BLIND_PASS;
	return cgroup_prog_sees(d->path, d->everyone, d->shared, p->client) ? BLIND_UNKNOWN : BLIND_PASS;
}

/* ---- the walk ------------------------------------------------------------- */

#define CG_QUERY_IDS 8
#define CG_MAX_DEPTH 128

struct cg_node {
	char *path;         /* below the mount point: "" for its root, "/a/b" */
	size_t parent, end; /* its subtree is nodes [index, end) */
	uint64_t id;        /* the directory's inode number: the cgroup's id */
	bool has_progs;
	bool in_unit;       /* it or a cgroup above it is a unit (.service, .scope) */
	bool slice;         /* a slice, or a slice is below it */
};

struct cg_hit {
	size_t node;
	const struct cg_type *t;
	uint32_t ids[CG_QUERY_IDS];
	uint32_t count;
};

struct cg_walk {
	struct cg_node *nodes;
	size_t n, cap;
	struct cg_hit *hits;
	size_t n_hits, cap_hits;
	unsigned unsupported;   /* attach types this kernel does not know (bit per cg_types[]) */
	size_t unreadable;      /* cgroups that could not be opened */
	char first_unreadable[128];
	int unreadable_err;
};

/* One query per attach type. Returns 0, or the -errno that ends the walk. */
static int cg_query(struct cg_walk *w, int fd, size_t node, bool effective)
{
	for (size_t i = 0; i < ARRAY_SIZE(cg_types); i++) {
		uint32_t ids[CG_QUERY_IDS];
		union bpf_attr attr;

		if (w->unsupported & (1u << i))
			continue;
		memset(&attr, 0, sizeof(attr));
		attr.query.target_fd = (uint32_t)fd;
		attr.query.attach_type = cg_types[i].type;
		attr.query.query_flags = effective ? BPF_F_QUERY_EFFECTIVE : 0;
		attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
		attr.query.prog_cnt = CG_QUERY_IDS;
		if (sys_bpf(BPF_PROG_QUERY, &attr) < 0 && errno != ENOSPC) {
			/* an attach type newer than this kernel: nothing
			 * can be attached with it */
			if (errno == EINVAL) {
				w->unsupported |= 1u << i;
				continue;
			}
			return -errno;
		}
		if (!attr.query.prog_cnt)
			continue;
		grow_array((void **)&w->hits, &w->cap_hits, w->n_hits + 1, sizeof(*w->hits));
		struct cg_hit *h = &w->hits[w->n_hits++];
		h->node = node;
		h->t = &cg_types[i];
		h->count = attr.query.prog_cnt;
		memcpy(h->ids, ids, sizeof(ids));
		w->nodes[node].has_progs = true;
	}
	return 0;
}

static bool name_ends(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && strcmp(name + n - k, suffix) == 0;
}

static size_t cg_add_node(struct cg_walk *w, size_t parent, const char *name, uint64_t id)
{
	struct cg_node *n;

	grow_array((void **)&w->nodes, &w->cap, w->n + 1, sizeof(*w->nodes));
	n = &w->nodes[w->n];
	if (parent == SIZE_MAX) {
		n->path = xstrdup("");
	} else if (asprintf(&n->path, "%s/%s", w->nodes[parent].path, name) < 0) {
		fputs("cgnatcheck: out of memory\n", stderr);
		abort();
	}
	n->parent = parent;
	n->end = w->n + 1;
	n->id = id;
	n->has_progs = false;
	n->in_unit = name && ((parent != SIZE_MAX && w->nodes[parent].in_unit) || name_ends(name, ".service") ||
			      name_ends(name, ".scope"));
	n->slice = name && name_ends(name, ".slice");
	return w->n++;
}

static void cg_unreadable(struct cg_walk *w, const char *path, int err)
{
	if (!w->unreadable++) {
		snprintf(w->first_unreadable, sizeof(w->first_unreadable), "%s", path);
		w->unreadable_err = err;
	}
}

/* Depth first, in preorder: a cgroup's subtree is a run of nodes. */
static int cg_walk_tree(struct cg_walk *w, const char *mnt)
{
	struct { DIR *dir; size_t node; } stack[CG_MAX_DEPTH];
	size_t depth = 0;
	struct stat st;
	int fd, r;

	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	cg_add_node(w, SIZE_MAX, NULL, fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0);
	r = cg_query(w, fd, 0, true);
	if (r < 0) {
		close(fd);
		return r;
	}
	stack[0].dir = fdopendir(fd);
	if (!stack[0].dir) {
		r = -errno;
		close(fd);
		return r;
	}
	stack[0].node = 0;
	depth = 1;
	while (depth) {
		struct dirent *e;
		errno = 0;
		e = readdir(stack[depth - 1].dir);
		if (!e) {
			if (errno)
				cg_unreadable(w, w->nodes[stack[depth - 1].node].path, errno);
			w->nodes[stack[depth - 1].node].end = w->n;
			closedir(stack[depth - 1].dir);
			depth--;
			continue;
		}
		if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
			continue;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		fd = openat(dirfd(stack[depth - 1].dir), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			if (errno != ENOTDIR && errno != ENOENT) {
				char p[128] = "";
				bpf_append(p, sizeof(p), "%s/%s", w->nodes[stack[depth - 1].node].path, e->d_name);
				cg_unreadable(w, p, errno);
			}
			continue;
		}
		size_t node = cg_add_node(w, stack[depth - 1].node, e->d_name, (uint64_t)e->d_ino);
		r = cg_query(w, fd, node, false);
		if (r < 0) {
			close(fd);
			while (depth)
				closedir(stack[--depth].dir);
			return r;
		}
		if (depth == CG_MAX_DEPTH) {
			cg_unreadable(w, w->nodes[node].path, ELOOP);
			close(fd);
			continue;
		}
		stack[depth].dir = fdopendir(fd);
		if (!stack[depth].dir) {
			cg_unreadable(w, w->nodes[node].path, errno);
			close(fd);
			continue;
		}
		stack[depth].node = node;
		depth++;
	}
	/* a slice below: the cgroup holds what its slices hold */
	for (size_t k = w->n; k-- > 1;)
		if (w->nodes[k].slice)
			w->nodes[w->nodes[k].parent].slice = true;
	return 0;
}

/* ---- which cgroups matter ------------------------------------------------------ */

/* Reads the pids of f: 1 when one lives in this network namespace (or
 * cannot be told apart), 0 when none does, -1 when the file cannot be read
 * (a threaded cgroup refuses cgroup.procs at the first read). */
static int pids_here(FILE *f, const struct stat *self)
{
	long pid;

	while (fscanf(f, "%ld", &pid) == 1) {
		struct stat st;
		char ns[64];
		/* 0: outside this process's pid namespace */
		if (pid <= 0)
			return 1;
		snprintf(ns, sizeof(ns), "/proc/%ld/ns/net", pid);
		if (stat(ns, &st) < 0) {
			if (errno == ENOENT || errno == ESRCH)
				continue; /* gone since */
			return 1;
		}
		if (st.st_dev == self->st_dev && st.st_ino == self->st_ino)
			return 1;
	}
	return ferror(f) ? -1 : 0;
}

/* Does a process of the cgroup (the cgroup's own, not its children's) live
 * in this network namespace? When that cannot be told, it may. */
static bool cg_procs_here(int mnt_fd, const char *path, const struct stat *self)
{
	static const char *const files[] = { "cgroup.procs", "cgroup.threads" };

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char name[PATH_MAX];
		FILE *f;
		int fd, r;

		snprintf(name, sizeof(name), "%s%s%s", path[0] ? path + 1 : "", path[0] ? "/" : "", files[i]);
		fd = openat(mnt_fd, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		f = fdopen(fd, "re");
		if (!f) {
			close(fd);
			continue;
		}
		r = pids_here(f, self);
		fclose(f);
		if (r >= 0)
			return r == 1;
	}
	return true;
}

/* here[i]: a process of cgroup i's subtree is in this namespace (computed
 * for the subtrees of cgroups with programs only; each cgroup's processes
 * read at most once, children before their parent). */
static void cg_locality(const struct cg_walk *w, const char *mnt, bool *here)
{
	_cleanup_close_ int mnt_fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ int *cover = xcalloc(w->n + 1, sizeof(*cover));
	struct stat self;
	int c = 0;

	if (mnt_fd < 0 || stat("/proc/self/ns/net", &self) < 0) {
		for (size_t i = 0; i < w->n; i++)
			here[i] = true;
		return;
	}
	for (size_t i = 1; i < w->n; i++)
		if (w->nodes[i].has_progs) {
			cover[i]++;
			cover[w->nodes[i].end]--;
		}
	/* covered: the node is in the subtree of a cgroup with programs */
	bool *covered = xcalloc(w->n, sizeof(*covered));
	for (size_t i = 0; i < w->n; i++) {
		c += cover[i];
		covered[i] = c > 0;
	}
	for (size_t i = w->n; i-- > 1;) {
		if (!covered[i])
			continue;
		if (!here[i])
			here[i] = cg_procs_here(mnt_fd, w->nodes[i].path, &self);
		if (here[i])
			here[w->nodes[i].parent] = true;
	}
	free(covered);
}

/* ---- blind spots --------------------------------------------------------------- */

/* The cgroup's path as /proc/PID/cgroup shows it (malloc'd). */
static char *cg_full_path(const struct cg_walk *w, size_t node, const char *root)
{
	const char *path = w->nodes[node].path;
	bool top = strcmp(root, "/") == 0;
	char *s;

	if (asprintf(&s, "%s%s", top && path[0] ? "" : root, path) < 0) {
		fputs("cgnatcheck: out of memory\n", stderr);
		abort();
	}
	return s;
}

/* "sd_fw_egress (id 12, cgroup_skb egress), ..." for a hit's programs
 * (three named, the rest counted) appended to buf; true when a name was
 * refused. */
static bool cg_labels(const struct cg_hit *h, char *buf, size_t size)
{
	char label[BPF_OBJ_NAME_LEN + 64];
	uint32_t shown = h->count < CG_QUERY_IDS ? h->count : CG_QUERY_IDS;
	bool refused = false;

	if (shown > 3)
		shown = 3;
	for (uint32_t i = 0; i < shown; i++) {
		refused |= bpf_prog_label(h->ids[i], h->t->name, label, sizeof(label));
		bpf_append(buf, size, "%s%s", i ? ", " : "", label);
	}
	if (h->count > shown)
		bpf_append(buf, size, " and %u more", h->count - shown);
	return refused;
}

static void cg_spot(struct blind_spots *b, const struct cg_walk *w, const struct cg_hit *h, const char *root)
{
	struct blind_spot *s = blind_add(b);
	const struct cg_node *n = &w->nodes[h->node];
	struct cg_prog *d = xcalloc(1, sizeof(*d));
	bool refused;

	d->t = h->t;
	d->path = cg_full_path(w, h->node, root);
	d->everyone = h->node == 0;
	d->shared = !n->in_unit || n->slice;
	s->kind = BLIND_CGROUP_BPF;
	s->ifindex = 0;
	s->dirs = h->t->dirs;
	s->decide = cg_decide;
	s->data = d;
	s->free_data = cg_prog_free;
	snprintf(s->what, sizeof(s->what), "cgroup BPF program%s ", h->count > 1 ? "s" : "");
	refused = cg_labels(h, s->what, sizeof(s->what));
	if (h->node == 0 && strcmp(root, "/") == 0)
		bpf_append(s->what, sizeof(s->what), " on the root cgroup (every process)");
	else if (h->node == 0)
		bpf_append(s->what, sizeof(s->what), " on cgroup %s (every process in sight)", root);
	else
		bpf_append(s->what, sizeof(s->what), " on cgroup %s", d->path);
	if (refused)
		bpf_append(s->what, sizeof(s->what), h->count > 1 ? " (their names need CAP_SYS_ADMIN)" :
			   " (its name needs CAP_SYS_ADMIN)");
}

/* The units' own programs, in one info: "/system.slice/systemd-journald.service
 * (sd_fw_egress (id 12, cgroup_skb egress), ...), ..." (the first few). */
#define CG_INFO_UNITS 8

struct cg_info {
	char text[2048];
	size_t units;
	size_t last;
	bool refused;
};

static void cg_info_add(struct cg_info *in, const struct cg_walk *w, const struct cg_hit *h, const char *root)
{
	if (!in->units || in->last != h->node) {
		in->last = h->node;
		if (++in->units > CG_INFO_UNITS)
			return;
		_cleanup_free_ char *path = cg_full_path(w, h->node, root);
		bpf_append(in->text, sizeof(in->text), "%s%s (", in->units > 1 ? "), " : "", path);
	} else if (in->units > CG_INFO_UNITS) {
		return;
	} else {
		bpf_append(in->text, sizeof(in->text), ", ");
	}
	in->refused |= cg_labels(h, in->text, sizeof(in->text));
}

static void cg_info_finish(struct blind_spots *b, struct cg_info *in)
{
	char more[48] = "";

	if (!in->units)
		return;
	bpf_append(in->text, sizeof(in->text), ")");
	if (in->units > CG_INFO_UNITS)
		snprintf(more, sizeof(more), " and %zu more units", in->units - CG_INFO_UNITS);
	blind_info(b, "cgroup BPF programs on %s%s filter those units' own traffic: they count for a target "
		   "whose client is known to run there (systemd-resolved's upstream servers, DHCP and NTP servers, "
		   "listening sockets); another client in them is not modelled%s", in->text, more,
		   in->refused ? " (the programs' names need CAP_SYS_ADMIN, which cgnatcheck did not have at "
				 "its start: they are named by id)" : "");
}

/* Keeps the tree's ids and paths for the clients. */
static void cg_keep_tree(struct blind_spots *b, const struct cg_walk *w, const char *root, size_t below_root)
{
	struct blind_cgroups *c = xcalloc(1, sizeof(*c));

	c->v = xcalloc(w->n ? w->n : 1, sizeof(*c->v));
	for (size_t i = 0; i < w->n; i++) {
		if (!w->nodes[i].id)
			continue;
		c->v[c->n].id = w->nodes[i].id;
		c->v[c->n++].path = cg_full_path(w, i, root);
	}
	qsort(c->v, c->n, sizeof(*c->v), cgroup_cmp_id);
	c->n_below_root = below_root;
	blind_cgroups_free(b->cgroups);
	b->cgroups = c;
}

int blind_collect_cgroup(struct blind_spots *b)
{
	char path[PATH_MAX], mnt[PATH_MAX], root[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	struct cg_walk w = { 0 };
	size_t len = 0, below_root = 0;
	int r;

	if (!host_path(path, sizeof(path), "/proc/self/mountinfo"))
		return 0;
	r = read_all(path, &text, &len);
	if (r == -ENOENT)
		return 0; /* a host root without /proc: nothing to say */
	if (r < 0) {
		blind_note(b, "cgroup BPF programs were not read: %s could not be read (%s)", path, strerror(-r));
		return r;
	}
	r = mountinfo_find_cgroup2(text, len, mnt, sizeof(mnt), root, sizeof(root));
	if (r <= 0) {
		blind_note(b, r < 0 ? "cgroup BPF programs were not read: the cgroup2 line of %s is malformed" :
				      "cgroup BPF programs were not read: no cgroup2 file system is mounted (%s)",
			   path);
		return r < 0 ? r : -ENOENT;
	}
	r = cg_walk_tree(&w, mnt);
	if (r == -ENOSYS) {
		r = 0; /* no bpf() at all: nothing can be attached */
	} else if (r == -EPERM || r == -EACCES) {
		blind_note(b, "cgroup BPF programs were not read: the kernel refused bpf(BPF_PROG_QUERY) on %s (%s; it "
			   "needs CAP_NET_ADMIN, and kernels before 5.19 with kernel.unprivileged_bpf_disabled set "
			   "want CAP_BPF or CAP_SYS_ADMIN)", mnt, strerror(-r));
	} else if (r < 0) {
		blind_note(b, "cgroup BPF programs were not read: %s (%s)", mnt, strerror(-r));
	}
	if (w.unreadable)
		blind_note(b, "the cgroup BPF programs of %zu cgroup%s below %s were not read (%s%s: %s)", w.unreadable,
			   w.unreadable > 1 ? "s" : "", mnt, w.unreadable > 1 ? "the first: " : "",
			   w.first_unreadable[0] ? w.first_unreadable : "/", strerror(w.unreadable_err));
	if (w.n_hits) {
		bool *here = xcalloc(w.n, sizeof(*here));
		struct cg_info info = { .text = "" };
		cg_locality(&w, mnt, here);
		for (size_t i = 0; i < w.n_hits; i++) {
			const struct cg_hit *h = &w.hits[i];
			const struct cg_node *n = &w.nodes[h->node];
			if (h->node != 0 && !here[h->node])
				continue;
			cg_spot(b, &w, h, root);
			if (h->node == 0)
				continue;
			below_root++;
			/* a unit's own: it filters that unit's traffic only */
			if (n->in_unit && !n->slice)
				cg_info_add(&info, &w, h, root);
		}
		cg_info_finish(b, &info);
		free(here);
	}
	if (below_root)
		cg_keep_tree(b, &w, root, below_root);
	for (size_t i = 0; i < w.n; i++)
		free(w.nodes[i].path);
	free(w.nodes);
	free(w.hits);
	return r;
}
