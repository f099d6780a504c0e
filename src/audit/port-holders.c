/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who holds a port, and is it the unit that should own it? (issue 16,
 * seed 002: `linux-patch-api --enroll`, run by hand, holds 0.0.0.0:12443
 * while linux-patch-api.service restarts thousands of times, each start
 * failing with "Address already in use".)
 *
 * From the sockets and their holders (collect/port-holders.c, given in
 * struct svc_options) and the units as systemd loads them:
 *
 *  (a) a socket unit of the boot (or enabled) whose ListenStream= or
 *      ListenDatagram= names the port: a socket there whose holders are
 *      neither the service manager (init.scope, which holds every socket
 *      unit's socket) nor the socket's service is held outside the unit;
 *  (b) a service of the boot (or enabled) whose ExecStart= runs the same
 *      program as a holder (the same executable; for a script, the same
 *      script under its interpreter) while that holder is in no unit that
 *      runs the program (a session's scope, a transient scope, another
 *      service) and none of the service's own processes holds a socket: the
 *      service is not running and cannot bind what it binds;
 *  (c) the ports the operator offers: every socket and holder there, for
 *      the report (svc_report.port_uses), with the unit of (a) or (b) that
 *      should own it.
 *
 * A finding names the process to stop and the unit to restart; nothing is
 * ever ended here. The listeners of the boot-safety analysis get their
 * holders too. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/port-holders.h"
#include "cgnatcheck/units.h"

static char *xasprintf(const char *fmt, ...) _printf_(1, 2);
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static void sappend(char **s, const char *fmt, ...) _printf_(2, 3);
static void sappend(char **s, const char *fmt, ...)
{
	va_list ap;
	char *add, *n;

	va_start(ap, fmt);
	if (vasprintf(&add, fmt, ap) < 0)
		abort();
	va_end(ap);
	n = xasprintf("%s%s", *s ? *s : "", add);
	free(add);
	free(*s);
	*s = n;
}

static const char *base_name(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b ? b + 1 : path ? path : "";
}

/* ---- sockets ---------------------------------------------------------------- */

static bool is_any(const struct cg_addr *a)
{
	int len = addr_family_len(a->family);

	for (int i = 0; i < len; i++)
		if (a->bytes[i])
			return false;
	return true;
}

/* Whether binding addr (AF_UNSPEC: a port alone, which systemd binds on
 * both families) on device ifname ("" or NULL: none) clashes with socket s
 * of the same protocol and port, as the kernel's bind conflict check sees
 * it: the same address, or a wildcard on either side (an IPv6 wildcard
 * takes IPv4 too unless it is v6only); sockets bound to two different
 * devices do not clash. */
static bool clashes(const struct cg_addr *addr, const char *ifname, const struct port_socket *s)
{
	const struct cg_addr *b = &s->sock.addr;

	if (ifname && ifname[0] && s->sock.ifindex && s->ifname[0] && strcmp(ifname, s->ifname))
		return false;
	if (addr->family == AF_UNSPEC)
		return true;
	if (addr->family == b->family)
		return is_any(addr) || is_any(b) || addr_equal(addr, b);
	/* an IPv4 bind against an IPv6 socket, or the other way round */
	if (b->family == AF_INET6)
		return is_any(b) && !s->sock.v6only;
	return is_any(addr);   /* our IPv6 wildcard, dual-stack by default */
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : "udp";
}

/* ---- processes -------------------------------------------------------------- */

static bool is_manager(const struct port_process *p)
{
	return p->unit && !strcmp(p->unit, "init.scope");
}

/* pid 1218 (linux-patch-api --enroll https://..., child of 1217 sudo, in session-3.scope) */
static char *describe(const struct port_process *p)
{
	char *d = xasprintf("pid %d (%s", (int)p->pid, p->cmdline && p->cmdline[0] ? p->cmdline : p->comm);

	if (p->ppid > 0)
		sappend(&d, ", child of %d%s%s", (int)p->ppid, p->parent_comm[0] ? " " : "", p->parent_comm);
	if (p->unit)
		sappend(&d, ", in %s", p->unit);
	else if (p->cgroup)
		sappend(&d, ", in cgroup %s, no unit", p->cgroup);
	if (p->exe_deleted && p->exe)
		sappend(&d, ", running a since replaced %s", p->exe);
	sappend(&d, ")");
	return d;
}

/* interpreters: what runs is their script, not themselves */
static bool is_interpreter(const char *path)
{
	static const char *const exact[] = { "sh", "bash", "dash", "zsh", "ksh", "mksh", "busybox", "env",
					     "java", "node", "nodejs", "mono", "dotnet", "deno", "bun", "Rscript" };
	static const char *const versioned[] = { "python", "pypy", "perl", "ruby", "php", "lua", "tclsh", "wish" };
	const char *b = base_name(path);

	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (!strcmp(b, exact[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(versioned); i++) {
		size_t n = strlen(versioned[i]);
		if (!strncmp(b, versioned[i], n) && strspn(b + n, "0123456789.") == strlen(b + n))
			return true;
	}
	return false;
}

/* The script a process runs under its interpreter: its first argument
 * that is not an option, made absolute with its working directory. */
static bool process_script(const struct port_process *p, char *out, size_t size)
{
	const char *arg = NULL;

	for (size_t k = 1; k < PORT_ARGV_MAX && p->argv[k]; k++)
		if (p->argv[k][0] != '-') {
			arg = p->argv[k];
			break;
		}
	if (!arg)
		return false;
	if (arg[0] == '/' || !p->cwd)
		snprintf(out, size, "%s", arg);
	else
		snprintf(out, size, "%s%s%s", p->cwd, strcmp(p->cwd, "/") ? "/" : "",
			 !strncmp(arg, "./", 2) ? arg + 2 : arg);
	return true;
}

/* ---- what a service runs ----------------------------------------------------- */

struct program {
	char path[PATH_MAX];          /* as ExecStart= names it (a name alone: as found) */
	char chased[PATH_MAX];        /* symlinks resolved below the host root; "" when not */
	bool have_id;
	dev_t dev;
	ino_t ino;
	bool interp;
	char script[PATH_MAX];        /* interp: the script it runs, "" when none */
	char script_chased[PATH_MAX];
};

/* a program named without a directory: where systemd looks for it */
static void find_in_path(const char *name, char *out, size_t size)
{
	static const char *const dirs[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin",
					    "/sbin", "/bin" };
	char p[PATH_MAX], resolved[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dirs[i], name) >= sizeof(p))
			break;
		if (host_chase(p, resolved, sizeof(resolved)) == 0) {
			snprintf(out, size, "%s", p);
			return;
		}
	}
	snprintf(out, size, "%s", name);
}

static void chase(const char *path, char *out, size_t size)
{
	if (path[0] != '/' || host_chase(path, out, size) < 0)
		out[0] = '\0';
}

/* The program of u's ExecStart=, the interpreter's script, and what they
 * resolve to. False when u runs nothing. */
static bool program_of(const struct unit *u, struct program *pr)
{
	const char *cmd = NULL, *p;
	char first[PATH_MAX], hp[PATH_MAX];
	char *w;
	bool skip_argv0;
	struct stat st;

	memset(pr, 0, sizeof(*pr));
	if (!unit_exec_start_program(u, first, sizeof(first)))
		return false;
	for (size_t i = 0; i < u->n_exec && !cmd; i++)
		if (!strcmp(u->exec[i].key, "ExecStart"))
			cmd = u->exec[i].command;
	/* the words after the program: "@" gives argv[0] as the next word */
	p = cmd ? cmd : "";
	w = unit_next_word(&p);
	skip_argv0 = w && memchr(w, '@', strspn(w, "-@:+!")) != NULL;
	free(w);
	if (skip_argv0)
		free(unit_next_word(&p));
	if (!strcmp(base_name(first), "env")) {
		/* env NAME=VALUE... PROGRAM: the program is what runs */
		while ((w = unit_next_word(&p)) && (w[0] == '-' || strchr(w, '=')))
			free(w);
		if (!w)
			return false;
		snprintf(first, sizeof(first), "%s", w);
		free(w);
	}
	if (first[0] == '/')
		snprintf(pr->path, sizeof(pr->path), "%s", first);
	else
		find_in_path(first, pr->path, sizeof(pr->path));
	chase(pr->path, pr->chased, sizeof(pr->chased));
	if (pr->chased[0] && host_path(hp, sizeof(hp), pr->chased) && stat(hp, &st) == 0) {
		pr->have_id = true;
		pr->dev = st.st_dev;
		pr->ino = st.st_ino;
	}
	pr->interp = is_interpreter(pr->path) || (pr->chased[0] && is_interpreter(pr->chased));
	if (pr->interp) {
		while ((w = unit_next_word(&p))) {
			bool opt = w[0] == '-';
			if (!opt)
				snprintf(pr->script, sizeof(pr->script), "%s", w);
			free(w);
			if (!opt)
				break;
		}
		if (pr->script[0])
			chase(pr->script, pr->script_chased, sizeof(pr->script_chased));
	}
	return true;
}

static bool exe_is(const struct program *pr, const struct port_process *p)
{
	if (!p->exe)
		return false;
	if (!strcmp(p->exe, pr->path) || (pr->chased[0] && !strcmp(p->exe, pr->chased)))
		return true;
	if (pr->have_id && p->exe_ino && !p->exe_deleted)
		return (uint64_t)pr->dev == p->exe_dev && (uint64_t)pr->ino == p->exe_ino;
	/* a name systemd would find on its own path that is not in the root */
	return !strchr(pr->path, '/') && !strcmp(base_name(p->exe), pr->path);
}

static bool same_file(const char *a, const char *a_chased, const char *b)
{
	char bc[PATH_MAX];

	if (!strcmp(a, b) || (a_chased[0] && !strcmp(a_chased, b)))
		return true;
	chase(b, bc, sizeof(bc));
	return bc[0] && (!strcmp(bc, a) || (a_chased[0] && !strcmp(bc, a_chased)));
}

/* Whether process p runs what unit u's ExecStart= runs. */
static bool runs_program(const struct program *pr, const struct port_process *p)
{
	char script[PATH_MAX];

	if (pr->interp)
		return pr->script[0] && exe_is(pr, p) && process_script(p, script, sizeof(script)) &&
		       same_file(pr->script, pr->script_chased, script);
	if (exe_is(pr, p))
		return true;
	/* a script with a #! line: the kernel ran its interpreter with the
	 * script's path as the first argument */
	return p->exe && is_interpreter(p->exe) && process_script(p, script, sizeof(script)) &&
	       same_file(pr->path, pr->chased, script);
}

/* ---- the analysis ------------------------------------------------------------ */

struct proc_entry {
	const struct port_process *p;
	size_t *socks;                /* indexes into opt->sockets */
	size_t n_socks;
	bool claimed;                 /* a service's command line names one of its ports */
};

/* a name (an executable's or script's base name, a unit) and a holder */
struct name_ref {
	const char *name;
	size_t proc;
};

struct ctx {
	struct units *s;
	const struct svc_options *opt;
	struct svc_report *r;
	struct proc_entry *procs;     /* the holders, each once, by pointer */
	size_t n_procs;
	struct name_ref *by_program;  /* by the base name of what they run */
	size_t n_by_program;
	struct name_ref *by_unit;     /* by their unit */
	size_t n_by_unit;
	size_t *by_port;              /* socket indexes by protocol and port */
	char (*scripts)[PATH_MAX];    /* per holder: the script under its interpreter, "" */
	size_t *seen;                 /* per holder: the last check that looked at it */
	size_t generation;
	/* per socket: the unit that should own it (NULL: none known) */
	const char **owner;
	bool *outside;
};

static int cmp_ptr(const void *a, const void *b)
{
	const struct port_process *x = ((const struct proc_entry *)a)->p, *y = ((const struct proc_entry *)b)->p;

	return x < y ? -1 : x > y;
}

static struct proc_entry *entry_of(struct ctx *c, const struct port_process *p)
{
	struct proc_entry key = { .p = p };

	return bsearch(&key, c->procs, c->n_procs, sizeof(*c->procs), cmp_ptr);
}

static int port_key(const struct port_socket *s)
{
	return (int)s->sock.l4proto << 16 | s->sock.port;
}

/* socket indexes by protocol and port (qsort_r(), the sockets its argument) */
static int cmp_port(const void *a, const void *b, void *sockets)
{
	const struct port_socket *v = sockets;
	int x = port_key(&v[*(const size_t *)a]), y = port_key(&v[*(const size_t *)b]);

	return x < y ? -1 : x > y ? 1 : *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* every holder once, with the sockets it holds */
static void index_processes(struct ctx *c)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < c->opt->n_sockets; i++)
		n += c->opt->sockets[i].n_holders;
	c->procs = xcalloc(n ? n : 1, sizeof(*c->procs));
	for (size_t i = 0; i < c->opt->n_sockets; i++)
		for (size_t h = 0; h < c->opt->sockets[i].n_holders; h++)
			c->procs[k++].p = c->opt->sockets[i].holders[h].proc;
	qsort(c->procs, k, sizeof(*c->procs), cmp_ptr);
	c->n_procs = 0;
	for (size_t i = 0; i < k; i++)
		if (!c->n_procs || c->procs[c->n_procs - 1].p != c->procs[i].p)
			c->procs[c->n_procs++].p = c->procs[i].p;
	for (size_t i = 0; i < c->opt->n_sockets; i++)
		for (size_t h = 0; h < c->opt->sockets[i].n_holders; h++) {
			struct proc_entry *e = entry_of(c, c->opt->sockets[i].holders[h].proc);
			if (e->n_socks && e->socks[e->n_socks - 1] == i)
				continue;   /* one socket, two descriptors */
			e->socks = xreallocarray(e->socks, e->n_socks + 1, sizeof(*e->socks));
			e->socks[e->n_socks++] = i;
		}
	/* each holder's sockets by protocol and port: the dump's order varies */
	for (size_t i = 0; i < c->n_procs; i++)
		if (c->procs[i].n_socks > 1)
			qsort_r(c->procs[i].socks, c->procs[i].n_socks, sizeof(*c->procs[i].socks), cmp_port,
				(void *)c->opt->sockets);
}

static void index_ports(struct ctx *c)
{
	c->by_port = xcalloc(c->opt->n_sockets + 1, sizeof(*c->by_port));
	for (size_t i = 0; i < c->opt->n_sockets; i++)
		c->by_port[i] = i;
	if (c->opt->n_sockets > 1)
		qsort_r(c->by_port, c->opt->n_sockets, sizeof(*c->by_port), cmp_port, (void *)c->opt->sockets);
}

/* the sockets of proto/port: c->by_port[*first .. *end) */
static void port_range(const struct ctx *c, uint8_t proto, uint16_t port, size_t *first, size_t *end)
{
	int key = (int)proto << 16 | port;
	size_t lo = 0, hi = c->opt->n_sockets;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (port_key(&c->opt->sockets[c->by_port[mid]]) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo < c->opt->n_sockets && port_key(&c->opt->sockets[c->by_port[lo]]) == key)
		lo++;
	*end = lo;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct name_ref *)a)->name, ((const struct name_ref *)b)->name);
}

static void names_add(struct name_ref **v, size_t *n, const char *name, size_t proc)
{
	if (!name || !name[0])
		return;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = (struct name_ref){ name, proc };
}

/* the holders under `name`: [*first, *end) of v */
static void names_find(const struct name_ref *v, size_t n, const char *name, size_t *first, size_t *end)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo < n && !strcmp(v[lo].name, name))
		lo++;
	*end = lo;
}

/* the indexes by name, once the holders are known */
static void index_names(struct ctx *c)
{
	char script[PATH_MAX];

	c->scripts = xcalloc(c->n_procs + 1, sizeof(*c->scripts));
	c->seen = xcalloc(c->n_procs + 1, sizeof(*c->seen));
	for (size_t i = 0; i < c->n_procs; i++) {
		const struct port_process *p = c->procs[i].p;
		if (p->exe) {
			names_add(&c->by_program, &c->n_by_program, base_name(p->exe), i);
			if (is_interpreter(p->exe) && process_script(p, script, sizeof(script))) {
				snprintf(c->scripts[i], sizeof(c->scripts[i]), "%s", script);
				names_add(&c->by_program, &c->n_by_program, base_name(c->scripts[i]), i);
			}
		}
		if (p->unit)
			names_add(&c->by_unit, &c->n_by_unit, p->unit, i);
	}
	if (c->n_by_program)
		qsort(c->by_program, c->n_by_program, sizeof(*c->by_program), cmp_name);
	if (c->n_by_unit)
		qsort(c->by_unit, c->n_by_unit, sizeof(*c->by_unit), cmp_name);
}

static char *socket_words(const struct port_socket *s)
{
	char buf[96];

	return xstrdup(port_socket_to_string(s, buf, sizeof(buf)));
}

static char *process_sockets(struct ctx *c, const struct proc_entry *e)
{
	char *out = NULL;

	for (size_t i = 0; i < e->n_socks; i++) {
		char *w = socket_words(&c->opt->sockets[e->socks[i]]);
		sappend(&out, "%s%s", out ? ", " : "", w);
		free(w);
	}
	return out ? out : xstrdup("");
}

/* a finding for unit and holder p already made */
static bool reported(const struct ctx *c, const char *unit, const struct port_process *p)
{
	for (size_t i = 0; i < c->r->n_findings; i++)
		if (c->r->findings[i].code == SVC_PORT_HELD_OUTSIDE_UNIT && c->r->findings[i].holder_pid == (int)p->pid &&
		    !strcmp(c->r->findings[i].unit, unit))
			return true;
	return false;
}

static void add_finding(struct ctx *c, const char *unit, const struct port_process *p, char *msg)
{
	struct svc_report *r = c->r;
	struct svc_finding *f;

	r->findings = xreallocarray(r->findings, r->n_findings + 1, sizeof(*r->findings));
	f = &r->findings[r->n_findings++];
	memset(f, 0, sizeof(*f));
	f->code = SVC_PORT_HELD_OUTSIDE_UNIT;
	f->severity = "critical";
	f->when = "now";
	f->unit = xstrdup(unit);
	f->message = msg;
	f->holder_pid = (int)p->pid;
	snprintf(f->holder_comm, sizeof(f->holder_comm), "%s", p->comm);
	snprintf(f->holder_unit, sizeof(f->holder_unit), "%s", p->unit ? p->unit : "");
}

static bool considered(struct units *s, const struct unit *u)
{
	return u->load == UNIT_LOADED && (u->in_boot || unit_is_enabled(s, u, NULL));
}

/* What to do, the same for every finding. */
static void what_to_do(char **msg, const struct port_process *p, const char *others, const char *unit)
{
	char how[600];

	if (p->unit && unit_name_type(p->unit) == UNIT_SCOPE)
		snprintf(how, sizeof(how), "it was started outside systemd's units, in %s: end it where it was started, "
			 "or `kill %d`", p->unit, (int)p->pid);
	else if (p->unit && unit_name_type(p->unit) == UNIT_SERVICE)
		snprintf(how, sizeof(how), "`systemctl stop %s`, and `systemctl disable %s` unless it is meant to run",
			 p->unit, p->unit);
	else if (p->unit)
		snprintf(how, sizeof(how), "`systemctl stop %s`, or `kill %d`", p->unit, (int)p->pid);
	else
		snprintf(how, sizeof(how), "`kill %d`", (int)p->pid);
	sappend(msg, " What to do: stop pid %d%s%s (%s), then `systemctl restart %s`.", (int)p->pid,
		others ? " and the processes that share its socket, " : "", others ? others : "", how, unit);
}

/* the other holders of socket s than p, "pid 7 (x), pid 8 (y)"; NULL when none */
static char *other_holders(const struct port_socket *s, const struct port_process *p)
{
	char *out = NULL;

	for (size_t h = 0; h < s->n_holders; h++) {
		const struct port_process *q = s->holders[h].proc;
		bool seen = q == p;
		for (size_t k = 0; k < h && !seen; k++)
			seen = s->holders[k].proc == q;
		if (!seen)
			sappend(&out, "%s%d (%s)", out ? ", " : "", (int)q->pid, q->comm);
	}
	return out;
}

/* (a) socket units */

static bool holder_in_socket_unit(const struct unit *u, const struct port_process *p)
{
	char base[256], svc[300], prefix[300];
	size_t n = strlen(u->id) - strlen(".socket");

	if (!p->unit)
		return false;
	if (is_manager(p) || !strcmp(p->unit, u->id))
		return true;
	snprintf(base, sizeof(base), "%.*s", (int)n, u->id);
	if (u->service.value)
		snprintf(svc, sizeof(svc), "%s", u->service.value);
	else
		snprintf(svc, sizeof(svc), "%s.service", base);
	if (!strcmp(p->unit, svc))
		return true;
	/* Accept=yes: an instance of the template per connection */
	snprintf(prefix, sizeof(prefix), "%s@", base);
	return !strchr(base, '@') && !strncmp(p->unit, prefix, strlen(prefix)) &&
	       strlen(p->unit) > strlen(".service") && !strcmp(p->unit + strlen(p->unit) - 8, ".service");
}

static void check_socket_unit(struct ctx *c, const struct unit *u)
{
	const char *dev = u->bind_to_device.value;
	bool unknown = false;

	for (size_t i = 0; i < u->n_listen; i++) {
		const struct unit_listen *l = &u->listen[i];
		uint8_t proto = !strcmp(l->key, "ListenStream") ? IPPROTO_TCP :
				!strcmp(l->key, "ListenDatagram") ? IPPROTO_UDP : 0;

		size_t first, end;

		if (!proto || !l->valid || l->parsed.family != LISTEN_INET)
			continue;
		port_range(c, proto, l->parsed.port, &first, &end);
		for (size_t j = first; j < end; j++) {
			size_t k = c->by_port[j];
			const struct port_socket *s = &c->opt->sockets[k];
			const struct port_process *stray = NULL;
			bool ours = false;

			if (!clashes(&l->parsed.addr, l->parsed.ifname[0] ? l->parsed.ifname : dev, s))
				continue;
			if (!s->n_holders) {
				unknown = true;
				continue;
			}
			for (size_t h = 0; h < s->n_holders; h++) {
				if (holder_in_socket_unit(u, s->holders[h].proc))
					ours = true;
				else if (!stray)
					stray = s->holders[h].proc;
			}
			if (!c->owner[k] || ours) {
				c->owner[k] = u->id;
				c->outside[k] = !ours;
			}
			if (ours)
				continue;
			if (reported(c, u->id, stray))
				continue;
			char *who = describe(stray), *sw = socket_words(s), *others = other_holders(s, stray);
			char *msg = xasprintf("%s listens on %s (%s=%s, %s:%u), and %s is held by %s, which is neither "
					      "the service manager nor %s or its service: the socket cannot bind "
					      "(\"Address already in use\"), and fails whenever it is started.",
					      u->id, sw, l->key, l->value, l->where.file ? l->where.file : "?",
					      l->where.line, sw, who, u->id);
			what_to_do(&msg, stray, others, u->id);
			add_finding(c, u->id, stray, msg);
			free(who);
			free(sw);
			free(others);
		}
	}
	if (unknown)
		unit_note(&c->r->notes, "%s: a socket on a port it listens on has no holder this audit could read: "
			  "whether it is %s's own is unknown", u->id, u->id);
}

/* (b) services: the same program, outside the unit */

/* p is in a service that runs the same program (another instance of a
 * template, a second service of the same binary): inside a unit of its own */
static bool in_own_service(struct ctx *c, const struct port_process *p, const struct program *pr)
{
	const struct unit *x;
	struct program xp;

	if (!p->unit || unit_name_type(p->unit) != UNIT_SERVICE)
		return false;
	x = units_get(c->s, p->unit);
	if (!x || x->load != UNIT_LOADED || !program_of(x, &xp))
		return false;
	return !strcmp(xp.path, pr->path) && !strcmp(xp.script, pr->script);
}

/* Whether u's ExecStart= names port (a run of digits in a word: "12443",
 * "--port=12443", "0.0.0.0:12443"): u wants that port. */
static bool names_port(const struct unit *u, uint16_t port)
{
	for (size_t i = 0; i < u->n_exec; i++) {
		const char *cmd = u->exec[i].command;
		if (strcmp(u->exec[i].key, "ExecStart"))
			continue;
		for (const char *q = cmd; *q;) {
			if (*q < '0' || *q > '9') {
				q++;
				continue;
			}
			unsigned long v = 0;
			size_t n = 0;
			for (; q[n] >= '0' && q[n] <= '9'; n++)
				v = v < 100000 ? v * 10 + (unsigned long)(q[n] - '0') : v;
			if (n <= 5 && v == port)
				return true;
			q += n;
		}
	}
	return false;
}

/* A holder that runs what a service runs, found in the first pass; judged
 * in the second, once every service that names one of its ports is known. */
struct pairing {
	const struct unit *u;
	const struct program *pr;     /* u's, in c->programs */
	bool own;                     /* u's own processes hold a socket */
	size_t proc;
	bool other_service;           /* the holder is in a unit that runs the program too */
	const struct port_socket *named;  /* a socket of the holder's whose port u's
					   * command line names; NULL: none */
};

static void pair_candidate(struct ctx *c, const struct unit *u, const struct program *pr, bool own, size_t i,
			   struct pairing **v, size_t *n)
{
	struct proc_entry *e = &c->procs[i];
	const struct port_process *p = e->p;
	const struct port_socket *named = NULL;
	bool other_service;

	if (c->seen[i] == c->generation)
		return;
	c->seen[i] = c->generation;
	if (is_manager(p) || (p->unit && !strcmp(p->unit, u->id)) || !runs_program(pr, p))
		return;
	other_service = in_own_service(c, p, pr);
	for (size_t k = 0; k < e->n_socks && !named; k++)
		if (names_port(u, c->opt->sockets[e->socks[k]].sock.port))
			named = &c->opt->sockets[e->socks[k]];
	/* in a unit of its own that runs the program too (another instance of a
	 * template): u's, only when u's command line names a port it holds */
	if (other_service && !named)
		return;
	if (named)
		e->claimed = true;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = (struct pairing){ u, pr, own, i, other_service, named };
}

static void judge(struct ctx *c, const struct pairing *pg)
{
	const struct unit *u = pg->u;
	const struct program *pr = pg->pr;
	struct proc_entry *e = &c->procs[pg->proc];
	const struct port_process *p = e->p;
	const struct unit_exec *x = NULL;

	/* a service whose command line names one of its ports claims it: the
	 * other services of the same program do not */
	if (!pg->named && e->claimed)
		return;
	char *socks = process_sockets(c, e), *who = describe(p);
	for (size_t k = 0; k < u->n_exec && !x; k++)
		if (!strcmp(u->exec[k].key, "ExecStart"))
			x = &u->exec[k];
	if (pg->own) {
		if (!pg->other_service)
			unit_note(&c->r->notes, "%s runs %s as %s does, outside it, and holds %s; %s holds sockets of its "
				  "own, so this is taken for a second copy, not for a conflict",
				  who, pr->script[0] ? pr->script : pr->path, u->id, socks, u->id);
	} else if (!reported(c, u->id, p)) {
		for (size_t k = 0; k < e->n_socks; k++)
			if (!c->owner[e->socks[k]] &&
			    (!pg->named || c->opt->sockets[e->socks[k]].sock.port == pg->named->sock.port)) {
				c->owner[e->socks[k]] = u->id;
				c->outside[e->socks[k]] = true;
			}
		char *others = e->n_socks ? other_holders(pg->named ? pg->named : &c->opt->sockets[e->socks[0]], p) : NULL;
		char *msg = xasprintf("%s holds %s outside %s, which runs the same program (%s%s%s: ExecStart=, %s:%u)",
				      who, socks, u->id, pr->path, pr->script[0] ? " " : "", pr->script,
				      x && x->where.file ? x->where.file : "?", x ? x->where.line : 0);
		if (pg->named)
			sappend(&msg, " with port %u on its command line", pg->named->sock.port);
		if (pg->other_service)
			sappend(&msg, ": %s runs it too, and has the port", p->unit);
		sappend(&msg, ". None of %s's processes holds a socket: it is not running, and each time it starts it "
			"cannot bind its port (\"Address already in use\"); with Restart= that is a restart loop "
			"(NRestarts grows, MainPID is 0 in between).",
			u->id);
		what_to_do(&msg, p, others, u->id);
		add_finding(c, u->id, p, msg);
		free(others);
	}
	free(socks);
	free(who);
}

/* (b) every service of the boot: its program, and the holders that run it */
static void check_services(struct ctx *c, size_t n_units)
{
	struct program **programs = NULL;
	struct pairing *pairs = NULL;
	size_t n_programs = 0, n_pairs = 0;

	for (size_t i = 0; i < n_units; i++) {
		const struct unit *u = c->s->v[i];
		const char *names[3];
		size_t first, end, before = n_pairs;
		struct program *pr;
		bool own;

		if (u->type != UNIT_SERVICE || !considered(c->s, u))
			continue;
		pr = xmalloc(sizeof(*pr));
		if (!program_of(u, pr)) {
			free(pr);
			continue;
		}
		names_find(c->by_unit, c->n_by_unit, u->id, &first, &end);
		own = first < end;
		/* the holders that may run it: by the name of the program, of
		 * what it resolves to, or of the interpreter's script */
		names[0] = base_name(pr->path);
		names[1] = pr->chased[0] ? base_name(pr->chased) : NULL;
		names[2] = pr->interp && pr->script[0] ? base_name(pr->script) : NULL;
		c->generation++;
		for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
			if (!names[k])
				continue;
			names_find(c->by_program, c->n_by_program, names[k], &first, &end);
			for (size_t j = first; j < end; j++)
				pair_candidate(c, u, pr, own, c->by_program[j].proc, &pairs, &n_pairs);
		}
		if (n_pairs == before) {
			free(pr);
			continue;
		}
		programs = xreallocarray(programs, n_programs + 1, sizeof(*programs));
		programs[n_programs++] = pr;
	}
	for (size_t i = 0; i < n_pairs; i++)
		judge(c, &pairs[i]);
	for (size_t i = 0; i < n_programs; i++)
		free(programs[i]);
	free(programs);
	free(pairs);
}

/* the listeners of the boot-safety analysis: who serves them now */

static bool holder_of_unit(struct units *s, const char *unit_id, const struct port_process *p)
{
	const struct unit *u;

	if (!p->unit)
		return false;
	if (!strcmp(p->unit, unit_id))
		return true;
	u = unit_name_type(unit_id) == UNIT_SOCKET ? units_get(s, unit_id) : NULL;
	return u && !is_manager(p) && holder_in_socket_unit(u, p);
}

/* the best holder of the sockets on proto/port that listener l takes: a
 * process of its unit, else any other, else the service manager */
static void best_holder(struct ctx *c, const struct svc_listener *l, uint8_t proto,
			const struct port_process **best, int *best_rank)
{
	size_t first, end;

	port_range(c, proto, l->port, &first, &end);
	for (size_t q = first; q < end; q++) {
		const struct port_socket *s = &c->opt->sockets[c->by_port[q]];

		if (!clashes(&l->addr, l->ifname, s))
			continue;
		for (size_t h = 0; h < s->n_holders; h++) {
			const struct port_process *p = s->holders[h].proc;
			int rank = is_manager(p) ? 1 : holder_of_unit(c->s, l->unit, p) ? 3 : 2;
			if (rank > *best_rank) {
				*best = p;
				*best_rank = rank;
			}
		}
	}
}

static void fill_listeners(struct ctx *c)
{
	for (size_t i = 0; i < c->r->n_listeners; i++) {
		struct svc_listener *l = &c->r->listeners[i];
		const struct port_process *best = NULL;
		int rank = 0;

		if (l->protos & CG_PROTO_TCP)
			best_holder(c, l, IPPROTO_TCP, &best, &rank);
		if (l->protos & CG_PROTO_UDP)
			best_holder(c, l, IPPROTO_UDP, &best, &rank);
		if (!best)
			continue;
		l->holder_pid = (int)best->pid;
		snprintf(l->holder_comm, sizeof(l->holder_comm), "%s", best->comm);
		snprintf(l->holder_unit, sizeof(l->holder_unit), "%s", best->unit ? best->unit : "");
	}
}

/* (c) the offered ports */

static struct svc_port_use *use_add(struct ctx *c, const struct svc_offer *o)
{
	struct svc_report *r = c->r;
	struct svc_port_use *pu;

	r->port_uses = xreallocarray(r->port_uses, r->n_port_uses + 1, sizeof(*r->port_uses));
	pu = &r->port_uses[r->n_port_uses++];
	memset(pu, 0, sizeof(*pu));
	pu->proto = o->proto;
	pu->port = o->port;
	return pu;
}

static void list_offers(struct ctx *c)
{
	for (size_t i = 0; i < c->opt->n_offers; i++) {
		const struct svc_offer *o = &c->opt->offers[i];
		size_t first, end;
		bool any = false;

		port_range(c, o->proto, o->port, &first, &end);
		for (size_t j = first; j < end; j++) {
			size_t k = c->by_port[j];
			const struct port_socket *s = &c->opt->sockets[k];

			any = true;
			for (size_t h = 0; h < (s->n_holders ? s->n_holders : 1); h++) {
				const struct port_process *p = s->n_holders ? s->holders[h].proc : NULL;
				struct svc_port_use *pu = use_add(c, o);
				bool dup = false;

				for (size_t q = 0; q < h && !dup; q++)
					dup = s->holders[q].proc == p;
				if (dup) {
					c->r->n_port_uses--;
					continue;
				}
				pu->bound = true;
				pu->addr = s->sock.addr;
				snprintf(pu->ifname, sizeof(pu->ifname), "%s", s->ifname);
				snprintf(pu->owner, sizeof(pu->owner), "%s", c->owner[k] ? c->owner[k] : "");
				pu->outside = c->outside[k] && p && !is_manager(p);
				if (!p)
					continue;
				pu->pid = (int)p->pid;
				snprintf(pu->comm, sizeof(pu->comm), "%s", p->comm);
				snprintf(pu->cmdline, sizeof(pu->cmdline), "%s", p->cmdline ? p->cmdline : "");
				snprintf(pu->exe, sizeof(pu->exe), "%s", p->exe ? p->exe : "");
				snprintf(pu->unit, sizeof(pu->unit), "%s", p->unit ? p->unit : "");
				snprintf(pu->cgroup, sizeof(pu->cgroup), "%s", p->cgroup ? p->cgroup : "");
				/* in a unit of its own that is not known to claim it */
				if (!pu->owner[0] && p->unit && !is_manager(p) &&
				    (unit_name_type(p->unit) == UNIT_SERVICE || unit_name_type(p->unit) == UNIT_SOCKET))
					snprintf(pu->owner, sizeof(pu->owner), "%s", p->unit);
			}
		}
		if (!any)
			use_add(c, o);
		if (!any)
			unit_note(&c->r->notes, "%s/%u (offered): nothing listens there", proto_name(o->proto), o->port);
	}
}

void svc_port_holders(struct units *s, const struct svc_options *opt, struct svc_report *r)
{
	struct ctx c = { .s = s, .opt = opt, .r = r };
	size_t n;

	if (!opt || !opt->sockets) {
		if (opt && opt->n_offers)
			unit_note(&r->notes, "the holders of the offered ports were not collected");
		return;
	}
	index_processes(&c);
	index_names(&c);
	index_ports(&c);
	c.owner = xcalloc(opt->n_sockets + 1, sizeof(*c.owner));
	c.outside = xcalloc(opt->n_sockets + 1, sizeof(*c.outside));
	/* units_get() may load more units while this runs: the ones there now */
	n = s->n;
	for (size_t i = 0; i < n; i++) {
		const struct unit *u = s->v[i];
		if (u->type == UNIT_SOCKET && considered(s, u))
			check_socket_unit(&c, u);
	}
	if (c.n_procs)
		check_services(&c, n);
	fill_listeners(&c);
	list_offers(&c);
	for (size_t i = 0; i < c.n_procs; i++)
		free(c.procs[i].socks);
	free(c.procs);
	free(c.by_program);
	free(c.by_unit);
	free(c.by_port);
	free(c.scripts);
	free(c.seen);
	free(c.owner);
	free(c.outside);
}
