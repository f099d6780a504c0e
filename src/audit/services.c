/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Will a service offered over the overlay survive the next boot? (issue 16,
 * seeds 000 and 001). From the units as systemd will load them
 * (collect/units.c), sshd_config and the sysctls:
 *
 *  (a) a socket (or sshd's ListenAddress) that binds an overlay address with
 *      nothing making the bind wait for the address: no FreeBind=yes, no
 *      net.ipv4/ipv6.ip_nonlocal_bind=1 at boot, no ordering after a unit
 *      that waits for the address. The bind fails with "Cannot assign
 *      requested address" and nothing retries it. (After=tailscaled.service
 *      is not such an ordering: tailscaled is active long before its
 *      address exists.)
 *  (b) the overlay daemon (tailscaled, netbird, wg-quick@) without After=
 *      and Wants=network-online.target: it starts before the network is up
 *      and may never connect.
 *  (c) BindsTo= on the overlay daemon: the unit stops whenever the daemon
 *      stops or restarts and does not come back.
 *  (d) ordering cycles in the boot transaction, with systemd's default and
 *      implicit dependencies (a socket is Before=sockets.target, a service
 *      After=basic.target, basic.target After=sockets.target, BindToDevice=
 *      binds the device's unit, a target is ordered after what it wants),
 *      named edge by edge as systemd's "Found ordering cycle" names them;
 *      and the wait systemd cannot see: a socket bound to a device that
 *      appears only once a unit ordered after the socket has created it
 *      (wg-quick@wg0 after basic.target) waits for the device's job
 *      timeout (90 s) and then fails.
 *
 * Each finding comes with its remedy as files --fix would write: drop-ins
 * /etc/systemd/system/UNIT.d/cgnatcheck-*.conf, an address gate unit, and
 * where a drop-in cannot do it (a dependency cannot be removed by a drop-in,
 * systemd.unit(5)) a copy of the file that shadows it. The analysis runs
 * again with those files in place (read from memory) and says whether the
 * finding is gone. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/units.h"

#define DROPIN_DIR "/etc/systemd/system"
#define CONTROL_DIR "/etc/systemd/system.control"

static const char *const code_names[_SVC_CODE_MAX] = {
	[SVC_BIND_RACE] = "BIND_RACES_OVERLAY_ADDRESS",
	[SVC_DAEMON_EARLY] = "OVERLAY_DAEMON_BEFORE_NETWORK_ONLINE",
	[SVC_BINDS_TO_DAEMON] = "BINDS_TO_OVERLAY_DAEMON",
	[SVC_ORDERING_CYCLE] = "BOOT_ORDERING_CYCLE",
	[SVC_DEVICE_WAIT] = "BOOT_DEVICE_WAIT_CYCLE",
	[SVC_PORT_HELD_OUTSIDE_UNIT] = "PORT_HELD_OUTSIDE_UNIT",
};

const char *svc_code_to_string(enum svc_code c)
{
	return c >= 0 && c < _SVC_CODE_MAX ? code_names[c] : "?";
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("cgnatcheck: out of memory\n", stderr);
		abort();
	}
	va_end(ap);
	return s;
}

/* appends to a malloc'd string */
static void sappend(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
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

/* ---- the boot's order as a graph ---------------------------------------- */

struct edge {
	unsigned to;
	bool systemd_sees;
	char *why;                    /* the reasons, "; "-separated */
	/* the reasons one by one, for remedies */
	struct reason {
		const struct unit *decl;  /* the unit whose dependency it is */
		const struct unit_dep_item *dep;   /* NULL: a device's creator */
	} *reasons;
	size_t n_reasons;
};

struct node {
	struct edge *out;
	size_t n_out, cap_out;
};

struct graph {
	struct units *s;
	size_t n;                     /* s->n when built */
	struct node *nodes;           /* by unit index */
};

static struct edge *edge_get(struct graph *g, unsigned from, unsigned to, bool systemd_sees)
{
	struct node *n = &g->nodes[from];

	for (size_t i = 0; i < n->n_out; i++)
		if (n->out[i].to == to && n->out[i].systemd_sees == systemd_sees)
			return &n->out[i];
	grow_array((void **)&n->out, &n->cap_out, n->n_out + 1, sizeof(*n->out));
	memset(&n->out[n->n_out], 0, sizeof(n->out[0]));
	n->out[n->n_out].to = to;
	n->out[n->n_out].systemd_sees = systemd_sees;
	return &n->out[n->n_out++];
}

static char *dep_words(const struct unit *decl, const struct unit_dep_item *d)
{
	if (d->origin == UNIT_DEP_FILE)
		return xasprintf("%s: %s=%s (%s:%u)", decl->id, unit_dep_to_string(d->type), d->name, d->where.file,
				 d->where.line);
	if (d->origin == UNIT_DEP_WANTS_DIR)
		return xasprintf("%s: %s=%s (%s)", decl->id, unit_dep_to_string(d->type), d->name, d->where.file);
	return xasprintf("%s: %s=%s (%s)", decl->id, unit_dep_to_string(d->type), d->name,
			 d->why ? d->why : "implicit");
}

static void edge_add(struct graph *g, const struct unit *from, const struct unit *to, const struct unit *decl,
		     const struct unit_dep_item *d, const char *creator_why)
{
	struct edge *e;
	char *w;

	if (from == to)
		return;   /* systemd ignores a unit's order against itself */
	e = edge_get(g, from->index, to->index, d != NULL);
	e->reasons = xreallocarray(e->reasons, e->n_reasons + 1, sizeof(*e->reasons));
	e->reasons[e->n_reasons++] = (struct reason){ decl, d };
	w = d ? dep_words(decl, d) : xstrdup(creator_why);
	if (!e->why || !strstr(e->why, w))
		sappend(&e->why, "%s%s", e->why ? "; " : "", w);
	free(w);
}

static void graph_free(struct graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		for (size_t k = 0; k < g->nodes[i].n_out; k++) {
			free(g->nodes[i].out[k].why);
			free(g->nodes[i].out[k].reasons);
		}
		free(g->nodes[i].out);
	}
	free(g->nodes);
}

/* ---- what the overlay is made of ----------------------------------------- */

struct ctx {
	const struct discover_scope *scope;
	const struct svc_options *opt;
	struct units s;
	struct graph g;
	struct svc_report *r;
	struct sysctl_setting nonlocal4, nonlocal6;
	struct sshd_config sshd;
	bool sshd_read;
	/* the devices wg-quick@DEV.service units of the boot create: overlay
	 * devices as much as the policies' (a WireGuard overlay has no policy) */
	char (*wg_ifs)[IFNAMSIZ];
	size_t n_wg_ifs;
	/* per unit index */
	unsigned char *role;
	/* the plan: files to write */
	struct plan_file {
		char *path, *content, *shadows, *note;
	} *files;
	size_t n_files;
	struct plan_shadow {
		char *original;       /* the file shadowed */
		char *path;           /* the copy */
		const struct unit *unit;
		struct plan_edit {
			unsigned line, last_line;
			char *key, *name, *replace_key;
		} *edits;
		size_t n_edits;
		char *what;           /* the changes, for the header */
	} *shadows;
	size_t n_shadows;
	/* which plan paths each finding uses (parallel to r->findings) */
	struct finding_paths {
		char **v;
		size_t n;
	} *fpaths;
};

enum { ROLE_LISTENER = 1, ROLE_DAEMON = 2, ROLE_DEVICE = 4 };

static bool in_ranges(const struct ctx *c, const struct cg_addr *a)
{
	return a->family != AF_UNSPEC && discover_in_scope(c->scope, a);
}

static bool is_overlay_ifname(const struct ctx *c, const char *ifname)
{
	for (size_t i = 0; ifname && i < c->scope->n_overlay_ifnames; i++)
		if (strcmp(c->scope->overlay_ifnames[i], ifname) == 0)
			return true;
	for (size_t i = 0; ifname && i < c->n_wg_ifs; i++)
		if (strcmp(c->wg_ifs[i], ifname) == 0)
			return true;
	return false;
}

/* The devices of the wg-quick@ instances in the boot. */
static void find_wg_ifs(struct ctx *c)
{
	for (size_t i = 0; i < c->s.n; i++) {
		const struct unit *u = c->s.v[i];
		if (!u->in_boot || u->type != UNIT_SERVICE || !u->instance || strncmp(u->id, "wg-quick@", 9) != 0 ||
		    strlen(u->instance) >= IFNAMSIZ)
			continue;
		c->wg_ifs = xreallocarray(c->wg_ifs, c->n_wg_ifs + 1, sizeof(*c->wg_ifs));
		snprintf(c->wg_ifs[c->n_wg_ifs++], IFNAMSIZ, "%s", u->instance);
	}
}

/* a word of hay that is needle: not part of a longer name or address */
static bool mentions(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return false;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
		char before = p == hay ? ' ' : p[-1], after = p[n];
		bool b = !(before == '_' || before == '-' || before == '.' || (before >= '0' && before <= '9') ||
			   (before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z'));
		bool a = !(after == '_' || after == '-' || (after >= '0' && after <= '9') ||
			   (after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z') ||
			   (after == '.' && p[n + 1] >= '0' && p[n + 1] <= '9'));
		if (b && a)
			return true;
	}
	return false;
}

/* The overlay daemon that creates ifname, by its unit's name. */
static void daemon_names(const struct ctx *c, const char *ifname, char out[][256], size_t *n)
{
	*n = 0;
	if (!strcmp(ifname, "tailscale0"))
		snprintf(out[(*n)++], 256, "tailscaled.service");
	if (!strcmp(ifname, "wt0"))
		snprintf(out[(*n)++], 256, "netbird.service");
	if (unit_name_instantiate("wg-quick@.service", ifname, out[*n], 256) == 0)
		(*n)++;
	(void)c;
}

static bool is_daemon(struct ctx *c, const struct unit *u)
{
	if (!strcmp(u->id, "tailscaled.service") || !strcmp(u->id, "netbird.service"))
		return true;
	(void)c;
	return strncmp(u->id, "wg-quick@", 9) == 0 && u->type == UNIT_SERVICE && u->instance;
}

/* A unit whose start job ends only once the address (or an overlay
 * interface's address) exists: a oneshot that names it in its commands
 * (tailscale-wait-ready.service of seed 000, wg-quick@wg0.service, which
 * adds wg0's address before it exits). */
static bool is_gate(struct ctx *c, const struct unit *u, const struct cg_addr *a)
{
	char buf[CG_ADDRSTRLEN];

	if (u->load != UNIT_LOADED || u->type != UNIT_SERVICE || !u->service_type.value ||
	    strcmp(u->service_type.value, "oneshot") != 0)
		return false;
	addr_to_string(a, buf);
	for (size_t i = 0; i < u->n_exec; i++) {
		if (mentions(u->exec[i].command, buf))
			return true;
		for (size_t k = 0; k < c->scope->n_overlay_ifnames; k++)
			if (mentions(u->exec[i].command, c->scope->overlay_ifnames[k]))
				return true;
	}
	return false;
}

/* a service that waits for the address itself before it starts */
static bool self_gated(struct ctx *c, const struct unit *u, const struct cg_addr *a)
{
	char buf[CG_ADDRSTRLEN];

	if (u->type != UNIT_SERVICE)
		return false;
	addr_to_string(a, buf);
	for (size_t i = 0; i < u->n_exec; i++) {
		if (strcmp(u->exec[i].key, "ExecStartPre") && strcmp(u->exec[i].key, "ExecCondition"))
			continue;
		if (mentions(u->exec[i].command, buf))
			return true;
		for (size_t k = 0; k < c->scope->n_overlay_ifnames; k++)
			if (mentions(u->exec[i].command, c->scope->overlay_ifnames[k]))
				return true;
	}
	return false;
}

static void build_graph(struct ctx *c)
{
	struct units *s = &c->s;
	struct graph *g = &c->g;

	/* every dependency name resolved first: units_get() may load more */
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; s->v[i]->in_boot && k < s->v[i]->n_deps; k++)
			units_get(s, s->v[i]->deps[k].name);
	g->s = s;
	g->n = s->n;
	g->nodes = xcalloc(g->n ? g->n : 1, sizeof(*g->nodes));
	for (size_t i = 0; i < g->n; i++) {
		const struct unit *u = s->v[i];

		if (!u->in_boot)
			continue;
		for (size_t k = 0; k < u->n_deps; k++) {
			const struct unit_dep_item *d = &u->deps[k];
			const struct unit *x;

			if (d->type != UNIT_AFTER && d->type != UNIT_BEFORE)
				continue;
			x = units_get(s, d->name);
			if (!x || !x->in_boot || x->index >= g->n)
				continue;
			if (d->type == UNIT_AFTER)
				edge_add(g, u, x, u, d, NULL);
			else
				edge_add(g, x, u, u, d, NULL);
		}
	}
	/* the device of an overlay interface appears once its daemon made it */
	for (size_t k = 0; k < c->scope->n_overlay_ifnames; k++) {
		const char *ifname = c->scope->overlay_ifnames[k];
		char dev[256], names[4][256];
		const struct unit *d;
		size_t n;

		if (unit_name_netdev(ifname, dev, sizeof(dev)) < 0)
			continue;
		d = units_get(s, dev);
		if (!d || !d->in_boot || d->index >= g->n)
			continue;
		c->role[d->index] |= ROLE_DEVICE;
		daemon_names(c, ifname, names, &n);
		for (size_t i = 0; i < n; i++) {
			const struct unit *creator = units_get(s, names[i]);
			char *why;

			if (!creator || !creator->in_boot || creator->index >= g->n)
				continue;
			why = xasprintf("%s appears only once %s has created %s (no ordering systemd knows of)", dev,
					creator->id, ifname);
			edge_add(g, d, creator, d, NULL, why);
			free(why);
		}
	}
}

/* every unit u waits for at boot, through orderings systemd knows */
static void reachable(struct ctx *c, unsigned from, unsigned char *seen)
{
	unsigned *stack = xmalloc((c->g.n + 1) * sizeof(*stack));
	size_t sp = 0;

	memset(seen, 0, c->g.n);
	stack[sp++] = from;
	seen[from] = 1;
	while (sp) {
		unsigned v = stack[--sp];
		for (size_t i = 0; i < c->g.nodes[v].n_out; i++) {
			const struct edge *e = &c->g.nodes[v].out[i];
			if (e->systemd_sees && !seen[e->to]) {
				seen[e->to] = 1;
				stack[sp++] = e->to;
			}
		}
	}
	free(stack);
}

/* ---- findings ------------------------------------------------------------ */

static struct svc_finding *finding_add(struct ctx *c, enum svc_code code, const char *severity,
				       const char *when, const char *unit, char *message)
{
	struct svc_report *r = c->r;
	struct svc_finding *f;

	r->findings = xreallocarray(r->findings, r->n_findings + 1, sizeof(*r->findings));
	c->fpaths = xreallocarray(c->fpaths, r->n_findings + 1, sizeof(*c->fpaths));
	memset(&c->fpaths[r->n_findings], 0, sizeof(c->fpaths[0]));
	f = &r->findings[r->n_findings++];
	memset(f, 0, sizeof(*f));
	f->code = code;
	f->severity = severity;
	f->when = when;
	f->unit = xstrdup(unit);
	f->message = message;
	return f;
}

static void finding_uses(struct ctx *c, size_t finding, const char *path)
{
	struct finding_paths *p = &c->fpaths[finding];

	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i], path))
			return;
	p->v = xreallocarray(p->v, p->n + 1, sizeof(*p->v));
	p->v[p->n++] = xstrdup(path);
}

static void plan_file(struct ctx *c, size_t finding, const char *path, const char *content, const char *note)
{
	for (size_t i = 0; i < c->n_files; i++)
		if (!strcmp(c->files[i].path, path)) {
			finding_uses(c, finding, path);
			return;
		}
	c->files = xreallocarray(c->files, c->n_files + 1, sizeof(*c->files));
	c->files[c->n_files++] = (struct plan_file){ xstrdup(path), xstrdup(content), NULL, xstrdup(note) };
	finding_uses(c, finding, path);
}

/* The remedy for a socket that binds an overlay address: FreeBind=yes. */
static void plan_freebind(struct ctx *c, size_t fi, const struct unit *u)
{
	char *path = xasprintf(DROPIN_DIR "/%s.d/cgnatcheck-freebind.conf", u->id);
	char *content = xasprintf("# Written by cgnatcheck --fix: %s binds an overlay address that does not exist\n"
				  "# yet at boot. FreeBind=yes (IP_FREEBIND) lets the bind succeed at once; the\n"
				  "# socket receives connections as soon as the address is there, and keeps\n"
				  "# listening when the overlay daemon restarts. cgnatcheck --undo removes this file.\n"
				  "[Socket]\nFreeBind=yes\n",
				  u->id);
	plan_file(c, fi, path, content, "FreeBind=yes: the bind no longer needs the address to exist");
	free(path);
	free(content);
}

/* Where a copy of `original` (a file of unit u: its fragment, or a drop-in)
 * takes precedence over it: /etc/systemd/system when the original is below
 * it in the search path, else /etc/systemd/system.control. NULL: nowhere. */
static char *shadow_path(const struct unit *u, const char *original, bool fragment)
{
	const char *entry = fragment ? u->fragment_entry : original;
	const char *base = strrchr(original, '/') ? strrchr(original, '/') + 1 : original;
	int idx = -1, etc = -1;
	size_t best = 0;
	bool own_dir;
	char own[PATH_MAX];

	for (size_t i = 0; i < units_search_path_len; i++) {
		size_t n = strlen(units_search_path[i]);
		if (!strcmp(units_search_path[i], DROPIN_DIR))
			etc = (int)i;
		if (entry && !strncmp(entry, units_search_path[i], n) && entry[n] == '/' && n > best) {
			best = n;
			idx = (int)i;
		}
	}
	if (fragment) {
		if (idx < 0)
			idx = (int)units_search_path_len;   /* a linked file: its link is in /etc */
		if (idx > etc)
			return xasprintf(DROPIN_DIR "/%s", u->id);
		if (idx > 0)
			return xasprintf(CONTROL_DIR "/%s", u->id);
		return NULL;
	}
	snprintf(own, sizeof(own), "%s/%s.d/%s", idx >= 0 ? units_search_path[idx] : "", u->id, base);
	own_dir = idx >= 0 && !strcmp(own, original);
	if (idx > etc || (idx == etc && !own_dir))
		return xasprintf(DROPIN_DIR "/%s.d/%s", u->id, base);
	if (idx > 0 || (idx == 0 && !own_dir))
		return xasprintf(CONTROL_DIR "/%s.d/%s", u->id, base);
	return NULL;
}

/* Plans taking dependency d of u out of its file (and, with replace_key,
 * putting it back under that directive). Returns the copy's path, or NULL. */
static const char *plan_edit(struct ctx *c, size_t finding, const struct unit *u, const struct unit_dep_item *d,
			     const char *replace_key)
{
	struct plan_shadow *sh = NULL;
	bool fragment;
	char *path;

	if (d->origin != UNIT_DEP_FILE || !d->where.file)
		return NULL;
	fragment = u->fragment && !strcmp(u->fragment, d->where.file);
	for (size_t i = 0; i < c->n_shadows; i++)
		if (!strcmp(c->shadows[i].original, d->where.file) && c->shadows[i].unit == u)
			sh = &c->shadows[i];
	if (!sh) {
		path = shadow_path(u, d->where.file, fragment);
		if (!path)
			return NULL;
		c->shadows = xreallocarray(c->shadows, c->n_shadows + 1, sizeof(*c->shadows));
		sh = &c->shadows[c->n_shadows++];
		memset(sh, 0, sizeof(*sh));
		sh->original = xstrdup(d->where.file);
		sh->path = path;
		sh->unit = u;
	}
	for (size_t i = 0; i < sh->n_edits; i++)
		if (sh->edits[i].line == d->where.line && !strcmp(sh->edits[i].name, d->name) &&
		    !strcmp(sh->edits[i].key, unit_dep_to_string(d->type))) {
			finding_uses(c, finding, sh->path);
			return sh->path;
		}
	sh->edits = xreallocarray(sh->edits, sh->n_edits + 1, sizeof(*sh->edits));
	sh->edits[sh->n_edits++] = (struct plan_edit){
		d->where.line, d->where.last_line ? d->where.last_line : d->where.line,
		xstrdup(unit_dep_to_string(d->type)), xstrdup(d->name), replace_key ? xstrdup(replace_key) : NULL,
	};
	if (replace_key)
		sappend(&sh->what, "%s%s=%s became %s=%s (line %u)", sh->what ? "; " : "", unit_dep_to_string(d->type),
			d->name, replace_key, d->name, d->where.line);
	else
		sappend(&sh->what, "%s%s=%s taken out (line %u)", sh->what ? "; " : "", unit_dep_to_string(d->type),
			d->name, d->where.line);
	finding_uses(c, finding, sh->path);
	return sh->path;
}

/* ---- rendering the copies -------------------------------------------------- */

struct lines {
	char **v;
	size_t n;
};

static void lines_split(struct lines *l, const char *text)
{
	const char *p = text;

	l->v = NULL;
	l->n = 0;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t k = e ? (size_t)(e - p) : strlen(p);
		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n] = xmalloc(k + 1);
		memcpy(l->v[l->n], p, k);
		l->v[l->n][k] = '\0';
		l->n++;
		p += k + (e ? 1 : 0);
	}
}

static bool is_comment_line(const char *l)
{
	while (*l == ' ' || *l == '\t')
		l++;
	return *l == '#' || *l == ';';
}

/* The assignment of lines [line, last] without `name` under `key`. */
static void apply_edit(struct lines *l, const struct unit *u, const struct plan_edit *e)
{
	struct unit_spec_ctx spec = { u->id, u->prefix, u->instance };
	char *joined = NULL, *eq, *out = NULL, *kept = NULL;
	const char *p;
	char *word;

	if (e->line == 0 || e->last_line > l->n || e->line > e->last_line)
		return;
	for (unsigned i = e->line; i <= e->last_line; i++) {
		char *t = l->v[i - 1];
		size_t n = strlen(t);

		if (i > e->line && is_comment_line(t))
			continue;
		sappend(&joined, "%s", t);
		n = strlen(joined);
		if (i < e->last_line && n && joined[n - 1] == '\\')
			joined[n - 1] = ' ';
	}
	if (!joined)
		return;
	eq = strchr(joined, '=');
	if (!eq) {
		free(joined);
		return;
	}
	p = eq + 1;
	while ((word = unit_next_word(&p))) {
		char *x = NULL;
		int r = unit_expand_specifiers(&spec, word, &x);
		if (r == -EBADMSG || !x || strcmp(x, e->name) != 0)
			sappend(&kept, "%s%s", kept ? " " : "", word);
		free(x);
		free(word);
	}
	if (kept)
		sappend(&out, "%s=%s", e->key, kept);
	if (e->replace_key)
		sappend(&out, "%s%s=%s", out ? "\n" : "", e->replace_key, e->name);
	free(l->v[e->line - 1]);
	l->v[e->line - 1] = out ? out : xasprintf("# (%s=%s taken out by cgnatcheck)", e->key, e->name);
	for (unsigned i = e->line + 1; i <= e->last_line; i++) {
		free(l->v[i - 1]);
		l->v[i - 1] = xstrdup("");
	}
	free(kept);
	free(joined);
}

static int cmp_edit_desc(const void *a, const void *b)
{
	const struct plan_edit *x = a, *y = b;
	return x->line < y->line ? 1 : x->line > y->line ? -1 : 0;
}

static char *render_shadow(struct ctx *c, struct plan_shadow *sh)
{
	char *text = NULL, *out = NULL;
	size_t len;
	struct lines l;

	for (size_t i = 0; i < c->opt->n_overlay; i++)
		if (!strcmp(c->opt->overlay[i].path, sh->original))
			text = xstrdup(c->opt->overlay[i].content);
	if (!text && host_read_file(sh->original, &text, &len, NULL, 0) < 0)
		return NULL;
	lines_split(&l, text);
	free(text);
	qsort(sh->edits, sh->n_edits, sizeof(*sh->edits), cmp_edit_desc);
	for (size_t i = 0; i < sh->n_edits; i++)
		apply_edit(&l, sh->unit, &sh->edits[i]);
	sappend(&out,
		"# Written by cgnatcheck --fix: a copy of %s that takes its place\n"
		"# (%s). A drop-in can empty a list setting (ListenStream=, ExecStart=,\n"
		"# Condition...=) with an empty assignment, but not a dependency\n"
		"# (systemd.unit(5): \"Dependencies (After=, etc.) cannot be reset to an\n"
		"# empty list\"), so the file that says it is replaced by this copy.\n"
		"# Changed: %s. cgnatcheck --undo removes this copy.\n",
		sh->original, sh->path, sh->what ? sh->what : "nothing");
	for (size_t i = 0; i < l.n; i++) {
		sappend(&out, "%s\n", l.v[i]);
		free(l.v[i]);
	}
	free(l.v);
	return out;
}

/* ---- (a) binds before the address exists ------------------------------------ */

static const char *family_sysctl(int family)
{
	return family == AF_INET6 ? "net.ipv6.ip_nonlocal_bind" : "net.ipv4.ip_nonlocal_bind";
}

static const struct sysctl_setting *nonlocal(struct ctx *c, int family)
{
	return family == AF_INET6 ? &c->nonlocal6 : &c->nonlocal4;
}

static void listener_add(struct ctx *c, const struct unit *u, const char *source, unsigned protos,
			 const struct cg_addr *a, uint16_t port, const char *ifname, const char *where)
{
	struct svc_report *r = c->r;
	struct svc_listener *l;

	r->listeners = xreallocarray(r->listeners, r->n_listeners + 1, sizeof(*r->listeners));
	l = &r->listeners[r->n_listeners++];
	memset(l, 0, sizeof(*l));
	snprintf(l->unit, sizeof(l->unit), "%s", u->id);
	snprintf(l->source, sizeof(l->source), "%s", source);
	l->protos = protos;
	if (a)
		l->addr = *a;
	else
		l->addr.family = AF_UNSPEC;
	l->port = port;
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname ? ifname : "");
	snprintf(l->where, sizeof(l->where), "%s", where);
	l->overlay_address = a && in_ranges(c, a);
	l->overlay_device = ifname && is_overlay_ifname(c, ifname);
	l->in_boot = u->in_boot;
}

/* The gate u waits for at boot, for address a, or NULL. */
static const struct unit *find_gate(struct ctx *c, const struct unit *u, const struct cg_addr *a)
{
	unsigned char *seen = xmalloc(c->g.n ? c->g.n : 1);
	const struct unit *gate = NULL;

	reachable(c, u->index, seen);
	for (size_t i = 0; i < c->g.n && !gate; i++)
		if (seen[i] && i != u->index && is_gate(c, c->s.v[i], a))
			gate = c->s.v[i];
	free(seen);
	return gate;
}

/* a unit's name that says it waits for the overlay (a gate that is missing
 * says nothing else about itself) */
static bool looks_like_gate(const struct ctx *c, const char *id)
{
	static const char *const words[] = { "wait", "ready", "online", "tailscale", "netbird", "wg-quick" };

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strstr(id, words[i]))
			return true;
	for (size_t i = 0; i < c->scope->n_overlay_ifnames; i++)
		if (strstr(id, c->scope->overlay_ifnames[i]))
			return true;
	return false;
}

/* What an operator would have expected to make u wait, and why it does not. */
static void explain_orderings(struct ctx *c, const struct unit *u, const struct cg_addr *a, char **msg)
{
	for (size_t i = 0; i < u->n_deps; i++) {
		const struct unit_dep_item *d = &u->deps[i];
		const struct unit *x;

		if (d->type != UNIT_AFTER || d->origin != UNIT_DEP_FILE)
			continue;
		x = units_get(&c->s, d->name);
		if (!x)
			continue;
		if (is_daemon(c, x))
			sappend(msg, " After=%s (%s:%u) does not help: %s is active long before its address exists.",
				d->name, d->where.file, d->where.line, x->id);
		else if (x->load != UNIT_LOADED && looks_like_gate(c, x->id))
			sappend(msg, " After=%s (%s:%u) orders it after a unit that is %s: no wait at all.", d->name,
				d->where.file, d->where.line, unit_load_state_to_string(x->load));
		else if (!x->in_boot && is_gate(c, x, a))
			sappend(msg, " After=%s (%s:%u) would wait for the address, but nothing starts %s at boot.",
				d->name, d->where.file, d->where.line, x->id);
	}
}

static char *addr_port(const struct cg_addr *a, uint16_t port)
{
	char buf[CG_ADDRSTRLEN];

	addr_to_string(a, buf);
	return a->family == AF_INET6 ? xasprintf("[%s]:%u", buf, port) : xasprintf("%s:%u", buf, port);
}

static void check_socket_race(struct ctx *c, const struct unit *u)
{
	char *racing = NULL, *msg;
	const struct cg_addr *first = NULL;
	/* IP_FREEBIND, or IP_TRANSPARENT, which allows the same */
	bool free_bind = (u->free_bind.value && unit_parse_boolean(u->free_bind.value) == 1) ||
			 (u->transparent.value && unit_parse_boolean(u->transparent.value) == 1);
	struct svc_finding *f;
	size_t fi;

	for (size_t i = 0; i < u->n_listen; i++) {
		const struct unit_listen *l = &u->listen[i];
		const struct cg_addr *a = &l->parsed.addr;
		const struct unit *gate;

		if (l->parsed.family != LISTEN_INET)
			continue;
		if (in_ranges(c, a) || (u->bind_to_device.value && is_overlay_ifname(c, u->bind_to_device.value))) {
			char *w = xasprintf("%s:%u", l->where.file, l->where.line);
			listener_add(c, u, l->key,
				     !strcmp(l->key, "ListenStream") ? CG_PROTO_TCP
				     : !strcmp(l->key, "ListenDatagram") ? CG_PROTO_UDP : 0,
				     a, l->parsed.port, u->bind_to_device.value, w);
			free(w);
		}
		if (!in_ranges(c, a) || free_bind || nonlocal(c, a->family)->boot == 1)
			continue;
		gate = find_gate(c, u, a);
		if (gate) {
			snprintf(c->r->listeners[c->r->n_listeners - 1].gated_by,
				 sizeof(c->r->listeners[0].gated_by), "%s", gate->id);
			continue;
		}
		char *ap = addr_port(a, l->parsed.port);
		sappend(&racing, "%s%s (%s=, %s:%u)", racing ? ", " : "", ap, l->key, l->where.file, l->where.line);
		free(ap);
		if (!first)
			first = a;
	}
	if (!racing)
		return;
	msg = xasprintf("%s binds %s at boot, before the overlay has the address: the bind fails with "
			"\"Cannot assign requested address\", the socket stays failed and nothing retries it. "
			"Nothing makes it wait: no FreeBind=yes, %s is not 1 at boot, and it is not ordered "
			"after a unit that waits for the address.",
			u->id, racing, family_sysctl(first->family));
	if (nonlocal(c, first->family)->now == 1)
		sappend(&msg, " (%s is 1 now, but no sysctl.d file sets it: it is 0 again after the next boot.)",
			family_sysctl(first->family));
	explain_orderings(c, u, first, &msg);
	fi = c->r->n_findings;
	f = finding_add(c, SVC_BIND_RACE, "critical", "at the next boot", u->id, msg);
	(void)f;
	free(racing);
	plan_freebind(c, fi, u);
}

static void check_sshd_race(struct ctx *c, const struct unit *u)
{
	char prog[PATH_MAX], *racing = NULL, *msg;
	const char *base, *cmd = NULL, *cfg;
	const struct cg_addr *first = NULL;
	const struct unit *gate = NULL;
	char cfgbuf[PATH_MAX];
	size_t fi;

	if (!unit_exec_start_program(u, prog, sizeof(prog)))
		return;
	base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	if (strcmp(base, "sshd") != 0)
		return;
	for (size_t i = 0; i < u->n_exec; i++)
		if (!strcmp(u->exec[i].key, "ExecStart"))
			cmd = u->exec[i].command;
	if (cmd && mentions(cmd, "-i"))
		return;   /* inetd mode: the socket binds, not sshd */
	cfg = c->opt->sshd_config;
	if (cmd && strstr(cmd, " -f ")) {
		const char *p = strstr(cmd, " -f ") + 4;
		char *w = unit_next_word(&p);
		if (w) {
			snprintf(cfgbuf, sizeof(cfgbuf), "%s", w);
			cfg = cfgbuf;
			free(w);
		}
	}
	if (!c->sshd_read) {
		sshd_config_read(cfg, &c->sshd);
		c->sshd_read = true;
		for (size_t i = 0; i < c->sshd.notes.n; i++)
			unit_note(&c->r->notes, "%s", c->sshd.notes.v[i]);
	}
	for (size_t i = 0; i < c->sshd.n_listen; i++) {
		const struct sshd_listen *l = &c->sshd.listen[i];

		if (!in_ranges(c, &l->addr))
			continue;
		listener_add(c, u, "sshd_config ListenAddress", CG_PROTO_TCP, &l->addr, l->port, NULL, l->where);
		c->role[u->index] |= ROLE_LISTENER;
		if (nonlocal(c, l->addr.family)->boot == 1 || self_gated(c, u, &l->addr))
			continue;
		gate = find_gate(c, u, &l->addr);
		if (gate) {
			snprintf(c->r->listeners[c->r->n_listeners - 1].gated_by,
				 sizeof(c->r->listeners[0].gated_by), "%s", gate->id);
			continue;
		}
		char *ap = addr_port(&l->addr, l->port);
		sappend(&racing, "%s%s (ListenAddress %s, %s)", racing ? ", " : "", ap, l->text, l->where);
		free(ap);
		if (!first)
			first = &l->addr;
	}
	if (!racing)
		return;
	msg = xasprintf("%s runs sshd, which binds %s at boot, before the overlay has the address: "
			"\"Bind to port ... failed: Cannot assign requested address\", and sshd does not listen there. "
			"Nothing makes it wait: %s is not 1 at boot, and %s is not ordered after a unit that waits "
			"for the address.",
			u->id, racing, family_sysctl(first->family), u->id);
	if (nonlocal(c, first->family)->now == 1)
		sappend(&msg, " (%s is 1 now, but no sysctl.d file sets it: it is 0 again after the next boot.)",
			family_sysctl(first->family));
	explain_orderings(c, u, first, &msg);
	fi = c->r->n_findings;
	finding_add(c, SVC_BIND_RACE, "critical", "at the next boot", u->id, msg);
	free(racing);

	/* sshd has no FreeBind=: order it after a gate that waits for the address */
	char abuf[CG_ADDRSTRLEN], esc[256];
	addr_to_string(first, abuf);
	if (unit_name_escape(abuf, esc, sizeof(esc)) < 0)
		return;
	char *gate_name = xasprintf("cgnatcheck-wait-%s.service", esc);
	char *gpath = xasprintf(DROPIN_DIR "/%s", gate_name);
	char *gcontent = xasprintf(
		"# Written by cgnatcheck --fix: waits (up to 2 minutes) until %s is on this host,\n"
		"# so that %s, ordered after it, binds the address once it exists.\n"
		"# cgnatcheck --undo removes this file.\n"
		"[Unit]\nDescription=Wait until the overlay address %s exists (cgnatcheck)\n\n"
		"[Service]\nType=oneshot\nRemainAfterExit=yes\nTimeoutStartSec=120\n"
		"ExecStart=/bin/sh -c 'until ip -o addr show to %s | grep -q .; do sleep 1; done'\n",
		abuf, u->id, abuf, abuf);
	plan_file(c, fi, gpath, gcontent, "an address gate: a oneshot that ends once the address exists");
	char *dpath = xasprintf(DROPIN_DIR "/%s.d/cgnatcheck-address-gate.conf", u->id);
	char *dcontent = xasprintf("# Written by cgnatcheck --fix: %s starts once %s exists\n"
				   "# (%s). cgnatcheck --undo removes this file.\n"
				   "[Unit]\nWants=%s\nAfter=%s\n",
				   u->id, abuf, gate_name, gate_name, gate_name);
	plan_file(c, fi, dpath, dcontent, "orders the sshd unit after the address gate");
	free(gate_name);
	free(gpath);
	free(gcontent);
	free(dpath);
	free(dcontent);
}

/* Where systemd makes no device units (a container), a socket bound to an
 * overlay device waits for nothing: unless it is ordered after the unit that
 * creates the interface, it binds before the interface exists and fails
 * with "No such device" (the boot test bed's 2c). */
static void check_socket_device(struct ctx *c, const struct unit *u)
{
	char names[4][256], *msg, *content;
	const struct unit *creator = NULL;
	unsigned char *seen;
	bool waits = false;
	size_t n, fi;

	if (!c->opt->no_device_units || !u->bind_to_device.value || !is_overlay_ifname(c, u->bind_to_device.value))
		return;
	daemon_names(c, u->bind_to_device.value, names, &n);
	seen = xmalloc(c->g.n ? c->g.n : 1);
	reachable(c, u->index, seen);
	for (size_t i = 0; i < n; i++) {
		const struct unit *x = units_get(&c->s, names[i]);
		if (!x || !x->in_boot || x->index >= c->g.n)
			continue;
		creator = creator ? creator : x;
		waits |= seen[x->index] != 0;
	}
	free(seen);
	if (!creator || waits)
		return;
	msg = xasprintf("%s binds to %s (BindToDevice=%s, %s:%u) at boot, and nothing orders it after %s, which "
			"creates %s: where systemd makes no device units (a container, whose /sys is read-only) "
			"BindToDevice= waits for nothing, the socket starts before %s exists and fails with \"No "
			"such device\", and nothing retries it.",
			u->id, u->bind_to_device.value, u->bind_to_device.value, u->bind_to_device.where.file,
			u->bind_to_device.where.line, creator->id, u->bind_to_device.value, u->bind_to_device.value);
	fi = c->r->n_findings;
	finding_add(c, SVC_BIND_RACE, "critical", "at the next boot", u->id, msg);
	content = xasprintf("# Written by cgnatcheck --fix: %s starts once %s has created %s; without\n"
			    "# default dependencies, so that this ordering closes no cycle through\n"
			    "# sockets.target (seed 001). cgnatcheck --undo removes this file.\n"
			    "[Unit]\nDefaultDependencies=no\nRequires=sysinit.target\nAfter=sysinit.target\n"
			    "Conflicts=shutdown.target\nBefore=shutdown.target\nAfter=%s\n",
			    u->id, creator->id, u->bind_to_device.value, creator->id);
	char *path = xasprintf(DROPIN_DIR "/%s.d/cgnatcheck-boot-order.conf", u->id);
	plan_file(c, fi, path, content, "ordered after the unit that creates the device, without default dependencies");
	free(path);
	free(content);
}

/* ---- (b) the overlay daemon and the network ---------------------------------- */

static void check_daemon(struct ctx *c, const struct unit *u)
{
	const struct unit *online = units_get(&c->s, "network-online.target");
	bool after, wants;
	char *msg;
	size_t fi;

	if (!online)
		return;
	after = unit_find_dep(&c->s, u, UNIT_AFTER, online) != NULL;
	wants = unit_find_dep(&c->s, u, UNIT_WANTS, online) || unit_find_dep(&c->s, u, UNIT_REQUIRES, online) ||
		unit_find_dep(&c->s, u, UNIT_BINDS_TO, online);
	if (after && wants)
		return;
	msg = xasprintf("%s starts at boot without waiting for the network to be online (%s%s%s): on a host "
			"whose interface comes up slowly it finds no network, cannot reach its coordination "
			"server or relays, and may never connect; everything reached over the overlay is then "
			"unreachable.",
			u->id, after ? "" : "no After=network-online.target", !after && !wants ? ", " : "",
			wants ? "" : "no Wants=network-online.target");
	fi = c->r->n_findings;
	finding_add(c, SVC_DAEMON_EARLY, "warning", "at the next boot", u->id, msg);
	char *path = xasprintf(DROPIN_DIR "/%s.d/cgnatcheck-network-online.conf", u->id);
	char *content = xasprintf("# Written by cgnatcheck --fix: %s starts once the network is online.\n"
				  "# cgnatcheck --undo removes this file.\n"
				  "[Unit]\nWants=network-online.target\nAfter=network-online.target\n",
				  u->id);
	plan_file(c, fi, path, content, "After= and Wants=network-online.target for the overlay daemon");
	free(path);
	free(content);
}

/* ---- (c) BindsTo= on the overlay daemon -------------------------------------- */

static void check_binds_to(struct ctx *c, const struct unit *u)
{
	for (size_t i = 0; i < u->n_deps; i++) {
		const struct unit_dep_item *d = &u->deps[i];
		const struct unit *x;
		const char *path;
		char *msg;
		size_t fi;

		if (d->type != UNIT_BINDS_TO || d->origin != UNIT_DEP_FILE)
			continue;
		x = units_get(&c->s, d->name);
		if (!x || !is_daemon(c, x))
			continue;
		msg = xasprintf("%s: BindsTo=%s (%s:%u): %s is stopped whenever %s stops or restarts (an upgrade, a "
				"crash, systemctl restart) and does not come back by itself. Requires= keeps the "
				"start-up dependency without that coupling. A drop-in cannot take BindsTo= back "
				"(dependencies cannot be reset, systemd.unit(5)): the remedy is a copy of the file "
				"that says it.",
				u->id, d->name, d->where.file, d->where.line, u->id, x->id);
		fi = c->r->n_findings;
		finding_add(c, SVC_BINDS_TO_DAEMON, "warning",
			    "when the overlay daemon next stops or restarts", u->id, msg);
		path = plan_edit(c, fi, u, d, "Requires");
		if (!path)
			unit_note(&c->r->notes, "%s: no file can take the place of %s (it is in the highest directory "
				  "of the search path): edit it, BindsTo= -> Requires=", u->id, d->where.file);
	}
}

/* ---- (d) cycles ----------------------------------------------------------------- */

/* Tarjan's strongly connected components, iteratively; comp[v] is v's
 * component (or -1 when v is not in the boot) */
static void sccs(struct ctx *c, bool with_creators, int *comp)
{
	size_t n = c->g.n;
	int *index = xmalloc((n + 1) * sizeof(int)), *low = xmalloc((n + 1) * sizeof(int));
	unsigned *stack = xmalloc((n + 1) * sizeof(unsigned));
	bool *on = xcalloc(n + 1, sizeof(bool));
	struct frame { unsigned v; size_t next; } *work = xmalloc((n + 1) * sizeof(*work));
	int counter = 0, ncomp = 0;
	size_t sp = 0;

	for (size_t i = 0; i < n; i++)
		index[i] = -1, comp[i] = -1;
	for (size_t start = 0; start < n; start++) {
		size_t wp = 0;

		if (!c->s.v[start]->in_boot || index[start] >= 0)
			continue;
		work[wp++] = (struct frame){ (unsigned)start, 0 };
		index[start] = low[start] = counter++;
		stack[sp++] = (unsigned)start;
		on[start] = true;
		while (wp) {
			struct frame *f = &work[wp - 1];
			const struct node *nd = &c->g.nodes[f->v];
			bool pushed = false;

			while (f->next < nd->n_out) {
				const struct edge *e = &nd->out[f->next++];
				unsigned w = e->to;

				if (!e->systemd_sees && !with_creators)
					continue;
				if (index[w] < 0) {
					index[w] = low[w] = counter++;
					stack[sp++] = w;
					on[w] = true;
					work[wp++] = (struct frame){ w, 0 };
					pushed = true;
					break;
				}
				if (on[w] && index[w] < low[f->v])
					low[f->v] = index[w];
			}
			if (pushed)
				continue;
			unsigned v = f->v;
			wp--;
			if (wp && low[v] < low[work[wp - 1].v])
				low[work[wp - 1].v] = low[v];
			if (low[v] == index[v]) {
				unsigned w;
				do {
					w = stack[--sp];
					on[w] = false;
					comp[w] = ncomp;
				} while (w != v);
				ncomp++;
			}
		}
	}
	free(index);
	free(low);
	free(stack);
	free(on);
	free(work);
}

/* The shortest path from `from` to `to` (which may be `from` itself) inside
 * component k, through the edges allowed: writes the nodes, `from` first and
 * `to` last, and returns how many (0: none). */
static size_t shortest(struct ctx *c, const int *comp, int k, unsigned from, unsigned to, bool with_creators,
		       unsigned *path)
{
	size_t n = c->g.n, head = 0, tail = 0, len = 0;
	unsigned *queue = xmalloc((n + 1) * sizeof(unsigned)), *rev;
	int *prev = xmalloc((n + 1) * sizeof(int));
	int last = -1;

	for (size_t i = 0; i < n; i++)
		prev[i] = -2;
	queue[tail++] = from;
	prev[from] = -1;
	while (head < tail && last < 0) {
		unsigned v = queue[head++];
		for (size_t i = 0; i < c->g.nodes[v].n_out; i++) {
			const struct edge *e = &c->g.nodes[v].out[i];
			if ((!e->systemd_sees && !with_creators) || comp[e->to] != k)
				continue;
			if (e->to == to) {
				last = (int)v;
				break;
			}
			if (prev[e->to] == -2) {
				prev[e->to] = (int)v;
				queue[tail++] = e->to;
			}
		}
	}
	if (last >= 0) {
		rev = xmalloc((n + 2) * sizeof(unsigned));
		rev[len++] = to;
		for (int v = last; v != -1 && len <= n; v = prev[v])
			rev[len++] = (unsigned)v;
		for (size_t i = 0; i < len; i++)
			path[i] = rev[len - 1 - i];
		free(rev);
	}
	free(queue);
	free(prev);
	return len;
}

static const struct edge *edge_between(struct ctx *c, unsigned a, unsigned b, bool prefer_systemd)
{
	const struct edge *found = NULL;

	for (size_t i = 0; i < c->g.nodes[a].n_out; i++)
		if (c->g.nodes[a].out[i].to == b) {
			if (c->g.nodes[a].out[i].systemd_sees == prefer_systemd)
				return &c->g.nodes[a].out[i];
			found = &c->g.nodes[a].out[i];
		}
	return found;
}

static void cycle_steps(struct ctx *c, struct svc_finding *f, const unsigned *cyc, size_t n)
{
	f->cycle = xcalloc(n, sizeof(*f->cycle));
	f->n_cycle = n;
	for (size_t i = 0; i < n; i++) {
		unsigned a = cyc[i], b = cyc[(i + 1) % n];
		const struct edge *e = edge_between(c, a, b, true);
		f->cycle[i].unit = xstrdup(c->s.v[a]->id);
		f->cycle[i].next = xstrdup(c->s.v[b]->id);
		f->cycle[i].why = xstrdup(e && e->why ? e->why : "?");
		f->cycle[i].systemd_sees = e && e->systemd_sees;
	}
}

/* the chain "a -> b -> a", and (when systemd sees the cycle) the cycle as
 * systemd's transaction_verify_order_one() logs it: the last unit names the
 * first, then the others in order */
static char *cycle_text(struct ctx *c, const unsigned *cyc, size_t n, const char *verb, bool systemd_words)
{
	char *t = NULL;
	const char *last = c->s.v[cyc[n - 1]]->id;

	for (size_t i = 0; i <= n; i++)
		sappend(&t, "%s%s", i ? " -> " : "", c->s.v[cyc[i % n]]->id);
	if (!systemd_words)
		return t;
	sappend(&t, ". In systemd's words: \"%s: Found ordering cycle on %s/%s\"", last, c->s.v[cyc[0]]->id, verb);
	for (size_t i = 1; i < n; i++)
		sappend(&t, ", \"%s: Found dependency on %s/%s\"", last, c->s.v[cyc[i]]->id, verb);
	return t;
}

/* (d)'s remedy for a socket or service u in the cycle: DefaultDependencies=no
 * with the default dependencies it still needs, written out; the cut edge's
 * explicit reasons taken out of their files. */
static bool plan_default_deps(struct ctx *c, size_t fi, const struct unit *u, const unsigned *cyc, size_t n,
			      size_t pos)
{
	const struct edge *in = edge_between(c, cyc[(pos + n - 1) % n], u->index, true);
	const struct edge *out = edge_between(c, u->index, cyc[(pos + 1) % n], true);
	const struct edge *cut = NULL;
	char *content = NULL, *path;
	const char *creator = NULL;

	if (!u->default_dependencies || (u->type != UNIT_SOCKET && u->type != UNIT_SERVICE))
		return false;
	for (int k = 0; k < 2 && !cut; k++) {
		const struct edge *e = k ? out : in;
		for (size_t i = 0; e && i < e->n_reasons && !cut; i++) {
			const struct reason *r = &e->reasons[i];
			if (r->dep && r->dep->origin == UNIT_DEP_DEFAULT &&
			    (r->decl == u || (r->decl->type == UNIT_TARGET && units_get(&c->s, r->dep->name) == u)))
				cut = e;
		}
	}
	if (!cut)
		return false;
	/* the device's creator, when u binds to one */
	if (u->bind_to_device.value && is_overlay_ifname(c, u->bind_to_device.value)) {
		char names[4][256];
		size_t k;
		daemon_names(c, u->bind_to_device.value, names, &k);
		for (size_t i = 0; i < k && !creator; i++) {
			const struct unit *x = units_get(&c->s, names[i]);
			if (x && x->in_boot)
				creator = x->id;
		}
	}
	sappend(&content,
		"# Written by cgnatcheck --fix: %s's default dependencies close an ordering\n"
		"# cycle at boot; without them, the ones it needs are written out here and it\n"
		"# is no longer ordered %s. cgnatcheck --undo removes this file.\n"
		"[Unit]\nDefaultDependencies=no\nRequires=sysinit.target\nAfter=sysinit.target\n"
		"Conflicts=shutdown.target\nBefore=shutdown.target\n",
		u->id, u->type == UNIT_SOCKET ? "before sockets.target" : "after basic.target");
	if (creator)
		sappend(&content, "After=%s\n", creator);
	path = xasprintf(DROPIN_DIR "/%s.d/cgnatcheck-boot-order.conf", u->id);
	plan_file(c, fi, path, content,
		  u->type == UNIT_SOCKET ? "DefaultDependencies=no: no longer Before=sockets.target"
					 : "DefaultDependencies=no: no longer After=basic.target");
	free(path);
	free(content);
	/* what the files say on the same edge stays: take it out of them */
	for (size_t i = 0; i < cut->n_reasons; i++) {
		const struct reason *r = &cut->reasons[i];
		if (r->dep && r->dep->origin == UNIT_DEP_FILE && !plan_edit(c, fi, r->decl, r->dep, NULL))
			unit_note(&c->r->notes, "%s: %s=%s in %s cannot be taken out by a file of cgnatcheck: edit it",
				  r->decl->id, unit_dep_to_string(r->dep->type), r->dep->name, r->dep->where.file);
	}
	return true;
}

/* (d)'s other remedy: u's own ordering out of the cycle, when an
 * administrator wrote it (a file below /etc or /run) and it is not what makes
 * u wait for its address; a socket on an overlay address gets FreeBind=yes. */
static bool plan_drop_ordering(struct ctx *c, size_t fi, const struct unit *u, const unsigned *cyc, size_t n,
			       size_t pos)
{
	const struct unit *next = c->s.v[cyc[(pos + 1) % n]];
	const struct edge *out = edge_between(c, u->index, next->index, true);

	if (!out)
		return false;
	for (size_t i = 0; i < out->n_reasons; i++) {
		const struct reason *r = &out->reasons[i];
		if (!r->dep || r->dep->origin != UNIT_DEP_FILE || r->decl != u || !r->dep->where.file ||
		    (strncmp(r->dep->where.file, "/etc/", 5) && strncmp(r->dep->where.file, "/run/", 5)))
			return false;
	}
	for (size_t k = 0; k < u->n_listen; k++)
		if (u->listen[k].parsed.family == LISTEN_INET && in_ranges(c, &u->listen[k].parsed.addr) &&
		    is_gate(c, next, &u->listen[k].parsed.addr))
			return false;   /* that ordering is the wait for the address */
	for (size_t i = 0; i < out->n_reasons; i++) {
		const struct unit_dep_item *d = out->reasons[i].dep;
		char *p = shadow_path(u, d->where.file, u->fragment && !strcmp(u->fragment, d->where.file));
		if (!p)
			return false;
		free(p);
	}
	for (size_t i = 0; i < out->n_reasons; i++)
		plan_edit(c, fi, u, out->reasons[i].dep, NULL);
	bool overlay_socket = false;
	for (size_t k = 0; k < u->n_listen; k++)
		overlay_socket |= u->listen[k].parsed.family == LISTEN_INET && in_ranges(c, &u->listen[k].parsed.addr);
	if (overlay_socket && u->type == UNIT_SOCKET &&
	    !(u->free_bind.value && unit_parse_boolean(u->free_bind.value) == 1)) {
		plan_freebind(c, fi, u);
	}
	return true;
}

static size_t pick_unit(struct ctx *c, const unsigned *cyc, size_t n)
{
	for (int want = ROLE_LISTENER; want; want = want == ROLE_LISTENER ? ROLE_DAEMON : 0)
		for (size_t i = 0; i < n; i++)
			if (c->role[cyc[i]] & want)
				return i;
	return SIZE_MAX;
}

static int role_rank(unsigned char role)
{
	return role & ROLE_LISTENER ? 2 : role & ROLE_DAEMON ? 1 : 0;
}

/* the component's unit to start the cycle from: a listener, a daemon, else
 * the first in load order */
static unsigned component_start(struct ctx *c, const int *comp, int k)
{
	int best = -1;

	for (size_t i = 0; i < c->g.n; i++) {
		if (comp[i] != k)
			continue;
		if (best < 0 || role_rank(c->role[i]) > role_rank(c->role[best]))
			best = (int)i;
	}
	return (unsigned)best;
}

static void check_cycles(struct ctx *c)
{
	size_t n = c->g.n;
	int *comp = xmalloc((n + 1) * sizeof(int)), *size;
	int ncomp = 0;
	unsigned *path = xmalloc((n + 2) * sizeof(unsigned));
	unsigned char *in_cycle_unit = xcalloc(n + 1, 1);

	for (int pass = 0; pass < 2; pass++) {
		bool with_creators = pass == 1;

		sccs(c, with_creators, comp);
		ncomp = 0;
		for (size_t i = 0; i < n; i++)
			if (comp[i] >= ncomp)
				ncomp = comp[i] + 1;
		size = xcalloc((size_t)ncomp + 1, sizeof(int));
		for (size_t i = 0; i < n; i++)
			if (comp[i] >= 0)
				size[comp[i]]++;
		for (int k = 0; k < ncomp; k++) {
			unsigned start;
			size_t len = 0, pos, fi;
			const struct edge *creator_edge = NULL;
			struct svc_finding *f;
			char *msg, *chain;
			const struct unit *u;

			if (size[k] < 2)
				continue;
			if (!with_creators) {
				start = component_start(c, comp, k);
				len = shortest(c, comp, k, start, start, false, path);
				if (len > 1)
					len--;   /* the path ends where it starts */
			} else {
				/* only the cycles through a device's creator are new here */
				for (size_t i = 0; i < n && !creator_edge; i++)
					for (size_t e = 0; comp[i] == k && e < c->g.nodes[i].n_out; e++)
						if (!c->g.nodes[i].out[e].systemd_sees &&
						    comp[c->g.nodes[i].out[e].to] == k)
							creator_edge = &c->g.nodes[i].out[e];
				if (!creator_edge)
					continue;
				/* device -> creator, then the way back to the device */
				unsigned dev = 0;
				for (size_t i = 0; i < n; i++)
					for (size_t e = 0; e < c->g.nodes[i].n_out; e++)
						if (&c->g.nodes[i].out[e] == creator_edge)
							dev = (unsigned)i;
				/* path: dev, then creator .. dev; the second dev is dropped */
				path[0] = dev;
				len = shortest(c, comp, k, creator_edge->to, dev, true, path + 1);
				if (len < 2)
					continue;
			}
			if (len < 2)
				continue;
			pos = pick_unit(c, path, len);
			/* start the cycle at the unit at fault */
			if (pos != SIZE_MAX && pos) {
				unsigned tmp[4096];
				size_t m = len < ARRAY_SIZE(tmp) ? len : ARRAY_SIZE(tmp);
				for (size_t i = 0; i < m; i++)
					tmp[i] = path[(pos + i) % len];
				memcpy(path, tmp, m * sizeof(*path));
				pos = 0;
			}
			u = c->s.v[path[pos == SIZE_MAX ? 0 : pos]];
			if (with_creators) {
				/* a cycle systemd sees through the same unit was reported */
				if (in_cycle_unit[u->index])
					continue;
			} else {
				for (size_t i = 0; i < len; i++)
					in_cycle_unit[path[i]] = 1;
			}
			chain = cycle_text(c, path, len, "start", !with_creators);
			if (!with_creators) {
				msg = xasprintf("ordering cycle in the boot transaction: %s. systemd breaks it by deleting "
						"one of these start jobs (which one varies from boot to boot: \"Job "
						"X/start deleted to break ordering cycle\"); the unit whose job is "
						"deleted does not start, and the cycle comes back at shutdown between "
						"the stop jobs.",
						chain);
			} else {
				const char *dev = "the device", *creator = "the unit that creates it";
				for (size_t i = 0; i < len; i++)
					if (c->role[path[i]] & ROLE_DEVICE) {
						dev = c->s.v[path[i]]->id;
						creator = c->s.v[path[(i + 1) % len]]->id;
					}
				msg = xasprintf("a wait that cannot end at boot: %s. systemd sees no ordering cycle here "
						"(%s is not ordered after %s, which creates the interface): %s's "
						"start job waits for %s, whose job times out after 90 s "
						"(DefaultDeviceTimeoutSec=); then %s fails (\"Dependency failed for "
						"%s\"), the boot goes on, %s creates the interface, and nothing starts "
						"%s again. (Where there is no udev, as in a container, there is no "
						"device unit to wait for: the socket starts at once and fails with "
						"\"No such device\".)",
						chain, dev, creator, u->id, dev, u->id, u->id, creator, u->id);
			}
			free(chain);
			fi = c->r->n_findings;
			bool ours = pos != SIZE_MAX;
			f = finding_add(c, with_creators ? SVC_DEVICE_WAIT : SVC_ORDERING_CYCLE,
					ours ? "critical" : "warning", "at the next boot (and at shutdown)", u->id, msg);
			cycle_steps(c, f, path, len);
			if (!ours) {
				unit_note(&c->r->notes, "%s: the cycle does not go through a service offered over the "
					  "overlay: no remedy planned", u->id);
				continue;
			}
			/* the remedy: u's own ordering if an administrator added it
			 * in vain, else its default dependencies */
			/* a socket bound to an overlay device: without default
			 * dependencies, as seed 001 found; else the administrator's
			 * ordering out of the cycle first */
			bool on_device = u->bind_to_device.value && is_overlay_ifname(c, u->bind_to_device.value);
			bool done = on_device ? plan_default_deps(c, fi, u, path, len, 0)
					      : plan_drop_ordering(c, fi, u, path, len, 0);
			if (!done)
				done = on_device ? plan_drop_ordering(c, fi, u, path, len, 0)
						 : plan_default_deps(c, fi, u, path, len, 0);
			if (!done)
				unit_note(&c->r->notes, "%s: no remedy found for the cycle through it", u->id);
		}
		free(size);
	}
	free(comp);
	free(path);
	free(in_cycle_unit);
}

/* ---- the whole analysis ----------------------------------------------------- */

static void mark_roles(struct ctx *c)
{
	for (size_t i = 0; i < c->g.n; i++) {
		const struct unit *u = c->s.v[i];

		if (!u->in_boot || u->load != UNIT_LOADED)
			continue;
		if (is_daemon(c, u))
			c->role[i] |= ROLE_DAEMON;
		if (u->type == UNIT_SOCKET) {
			if (u->bind_to_device.value && is_overlay_ifname(c, u->bind_to_device.value))
				c->role[i] |= ROLE_LISTENER;
			for (size_t k = 0; k < u->n_listen; k++)
				if (u->listen[k].parsed.family == LISTEN_INET && in_ranges(c, &u->listen[k].parsed.addr))
					c->role[i] |= ROLE_LISTENER;
		}
	}
}

static void finish_remedies(struct ctx *c)
{
	/* the copies, rendered once all their edits are known */
	for (size_t i = 0; i < c->n_shadows; i++) {
		struct plan_shadow *sh = &c->shadows[i];
		char *content = render_shadow(c, sh);

		if (!content) {
			unit_note(&c->r->notes, "%s: cannot read it again to write its copy", sh->original);
			continue;
		}
		c->files = xreallocarray(c->files, c->n_files + 1, sizeof(*c->files));
		c->files[c->n_files++] = (struct plan_file){
			xstrdup(sh->path), content, xstrdup(sh->original),
			xasprintf("a copy of %s that takes its place: %s", sh->original, sh->what ? sh->what : ""),
		};
	}
	for (size_t f = 0; f < c->r->n_findings; f++) {
		struct svc_finding *fd = &c->r->findings[f];
		const struct finding_paths *p = &c->fpaths[f];

		for (size_t k = 0; k < p->n; k++)
			for (size_t i = 0; i < c->n_files; i++) {
				if (strcmp(c->files[i].path, p->v[k]))
					continue;
				fd->remedies = xreallocarray(fd->remedies, fd->n_remedies + 1, sizeof(*fd->remedies));
				fd->remedies[fd->n_remedies++] = (struct svc_remedy){
					xstrdup(c->files[i].path), xstrdup(c->files[i].content),
					c->files[i].shadows ? xstrdup(c->files[i].shadows) : NULL,
					xstrdup(c->files[i].note),
				};
			}
	}
}

static void verify(struct ctx *c)
{
	struct unit_overlay_file *ov;
	size_t n = c->opt->n_overlay + c->n_files;
	struct svc_options o = *c->opt;
	struct svc_report again = { 0 };

	if (!c->n_files)
		return;
	ov = xcalloc(n, sizeof(*ov));
	for (size_t i = 0; i < c->opt->n_overlay; i++)
		ov[i] = c->opt->overlay[i];
	for (size_t i = 0; i < c->n_files; i++)
		ov[c->opt->n_overlay + i] = (struct unit_overlay_file){ c->files[i].path, c->files[i].content };
	o.overlay = ov;
	o.n_overlay = n;
	o.no_verify = true;
	services_analyze(c->scope, &o, &again);
	for (size_t i = 0; i < c->r->n_findings; i++) {
		struct svc_finding *f = &c->r->findings[i];
		bool still = false;

		for (size_t k = 0; k < again.n_findings; k++) {
			bool known = false;
			if (strcmp(again.findings[k].unit, f->unit))
				continue;
			/* the same finding, or a new one on the same unit */
			for (size_t j = 0; j < c->r->n_findings; j++)
				known |= again.findings[k].code == c->r->findings[j].code &&
					 !strcmp(c->r->findings[j].unit, f->unit) && again.findings[k].code != f->code;
			still |= !known;
		}
		f->remedy_verified = f->n_remedies && !still;
	}
	for (size_t k = 0; k < again.n_findings; k++) {
		bool known = false;
		for (size_t i = 0; i < c->r->n_findings; i++)
			known |= again.findings[k].code == c->r->findings[i].code &&
				 !strcmp(again.findings[k].unit, c->r->findings[i].unit);
		if (!known)
			unit_note(&c->r->notes, "with the remedies in place: %s: %s", again.findings[k].unit,
				  again.findings[k].message);
	}
	svc_report_free(&again);
	free(ov);
}

int services_analyze(const struct discover_scope *scope, const struct svc_options *opt, struct svc_report *r)
{
	static const struct svc_options none;
	struct ctx c = { .scope = scope, .opt = opt ? opt : &none, .r = r };

	memset(r, 0, sizeof(*r));
	units_init(&c.s, c.opt->overlay, c.opt->n_overlay);
	units_set_device_units(&c.s, !c.opt->no_device_units);
	units_boot(&c.s, c.opt->start);
	find_wg_ifs(&c);
	sysctl_read_setting("net.ipv4.ip_nonlocal_bind", &c.nonlocal4, &r->notes);
	sysctl_read_setting("net.ipv6.ip_nonlocal_bind", &c.nonlocal6, &r->notes);
	/* the graph covers every unit loaded so far; later lookups of names
	 * already loaded do not grow it */
	for (size_t i = 0; i < c.s.n; i++)
		for (size_t k = 0; c.s.v[i]->in_boot && k < c.s.v[i]->n_deps; k++)
			units_get(&c.s, c.s.v[i]->deps[k].name);
	units_get(&c.s, "network-online.target");
	c.role = xcalloc(c.s.n + 1, 1);
	build_graph(&c);
	mark_roles(&c);

	for (size_t i = 0; i < c.g.n; i++) {
		const struct unit *u = c.s.v[i];

		if (!u->in_boot || u->load != UNIT_LOADED)
			continue;
		if (u->type == UNIT_SOCKET) {
			check_socket_race(&c, u);
			check_socket_device(&c, u);
		}
		else if (u->type == UNIT_SERVICE)
			check_sshd_race(&c, u);
	}
	for (size_t i = 0; i < c.g.n; i++) {
		const struct unit *u = c.s.v[i];

		if (u->in_boot && u->load == UNIT_LOADED && is_daemon(&c, u))
			check_daemon(&c, u);
	}
	for (size_t i = 0; i < c.g.n; i++) {
		const struct unit *u = c.s.v[i];

		if (u->in_boot && u->load == UNIT_LOADED)
			check_binds_to(&c, u);
	}
	check_cycles(&c);
	finish_remedies(&c);
	if (!c.opt->no_verify)
		verify(&c);

	for (size_t i = 0; i < c.s.notes.n; i++)
		unit_note(&r->notes, "%s", c.s.notes.v[i]);
	graph_free(&c.g);
	free(c.role);
	free(c.wg_ifs);
	for (size_t i = 0; i < c.n_files; i++) {
		free(c.files[i].path);
		free(c.files[i].content);
		free(c.files[i].shadows);
		free(c.files[i].note);
	}
	free(c.files);
	for (size_t i = 0; i < c.n_shadows; i++) {
		for (size_t k = 0; k < c.shadows[i].n_edits; k++) {
			free(c.shadows[i].edits[k].key);
			free(c.shadows[i].edits[k].name);
			free(c.shadows[i].edits[k].replace_key);
		}
		free(c.shadows[i].edits);
		free(c.shadows[i].original);
		free(c.shadows[i].path);
		free(c.shadows[i].what);
	}
	free(c.shadows);
	for (size_t i = 0; i < r->n_findings; i++) {
		for (size_t k = 0; k < c.fpaths[i].n; k++)
			free(c.fpaths[i].v[k]);
		free(c.fpaths[i].v);
	}
	free(c.fpaths);
	svc_port_holders(&c.s, c.opt, r);
	if (c.sshd_read)
		sshd_config_free(&c.sshd);
	units_free(&c.s);
	return 0;
}

void svc_report_free(struct svc_report *r)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		struct svc_finding *f = &r->findings[i];
		free(f->unit);
		free(f->message);
		for (size_t k = 0; k < f->n_cycle; k++) {
			free(f->cycle[k].unit);
			free(f->cycle[k].next);
			free(f->cycle[k].why);
		}
		free(f->cycle);
		for (size_t k = 0; k < f->n_remedies; k++) {
			free(f->remedies[k].path);
			free(f->remedies[k].content);
			free(f->remedies[k].shadows);
			free(f->remedies[k].note);
		}
		free(f->remedies);
	}
	free(r->findings);
	free(r->listeners);
	free(r->port_uses);
	unit_notes_free(&r->notes);
	memset(r, 0, sizeof(*r));
}
