/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd units, read from their files the way systemd loads them.
 *
 * The approach: we parse the unit files ourselves and do not ask systemd
 * (no D-Bus, no systemctl, no systemd-analyze). An audit must work where
 * systemd does not run (CI, a container, a mounted image below
 * CGNATCHECK_HOST_ROOT), and what matters is the *next* boot, which is
 * decided by the files on disk, not by the manager's state from the last
 * daemon-reload. The cost is fidelity: what follows mirrors systemd 252's
 * loader (src/shared/unit-file.c, src/core/load-fragment.c, load-dropin.c,
 * the *_add_extras() of each unit type), and only as much of it as deciding
 * the boot's order needs:
 *
 *   - the system search path, first entry of a name wins
 *     (unit_file_build_name_map());
 *   - aliases: a symlink in the search path to a file in the search path
 *     names another unit; one to a file outside is a linked unit file; a
 *     symlink to /dev/null or an empty file is a mask; chains of aliases
 *     end after 32 steps ("alias loop");
 *   - templates: foo@bar.socket reads foo@bar.socket, else foo@.socket;
 *     %i, %I, %n, %N, %p, %P, %j, %J, %f are expanded;
 *   - drop-ins (unit_file_find_dropin_paths()): NAME.d/ of the unit, its
 *     template, its dash prefixes (foo-bar-.service.d, foo-.service.d) and
 *     its aliases in every search directory, then the type's (service.d/);
 *     a file name's first occurrence wins, all applied in file-name order;
 *   - .wants/ and .requires/ the same way;
 *   - the syntax of config_parse(): comments, continuation lines, empty
 *     assignments resetting lists (ListenStream=, ExecStart=, WantedBy=) but
 *     not dependencies (systemd.unit(5): "Dependencies (After=, etc.) cannot
 *     be reset to an empty list");
 *   - the default and implicit dependencies of services, sockets, targets,
 *     timers and paths (systemd.service(5), systemd.socket(5),
 *     systemd.target(5)); device units exist without a file.
 *
 * Not read: generators' output beyond what they left in /run (they run at
 * boot), mount units' implicit dependencies, slices, conditions (a job
 * whose condition fails is still ordered). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgnatcheck/arena.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/units.h"
#include "units-internal.h"

#define UNIT_NAME_MAX 256
#define ALIAS_HOPS_MAX 32
#define LOAD_DEPTH_MAX 64

const char *const units_search_path[] = {
	"/etc/systemd/system.control",
	"/run/systemd/system.control",
	"/run/systemd/transient",
	"/run/systemd/generator.early",
	"/etc/systemd/system",
	"/etc/systemd/system.attached",
	"/run/systemd/system",
	"/run/systemd/system.attached",
	"/run/systemd/generator",
	"/usr/local/lib/systemd/system",
	"/lib/systemd/system",
	"/usr/lib/systemd/system",
	"/run/systemd/generator.late",
};
const size_t units_search_path_len = ARRAY_SIZE(units_search_path);

enum entry_kind { ENTRY_FILE, ENTRY_MASK, ENTRY_ALIAS, ENTRY_BAD };

/* One name of the search path, from the first directory that has it. */
struct file_entry {
	const char *name;
	const char *dir;              /* the search directory, as listed above */
	const char *path;             /* dir/name */
	enum entry_kind kind;
	const char *file;             /* ENTRY_FILE: what to read */
	const char *content;          /* ENTRY_FILE of the overlay: its text */
	const char *target;           /* ENTRY_ALIAS: the name it leads to */
	const char *error;            /* ENTRY_BAD: why, in words */
};

struct dir_listing {
	bool exists;
	const char **names;           /* sorted */
	int n;
};

struct alias_list {
	const char **v;
	size_t n, cap;
};

struct units_private {
	struct arena arena;
	struct units_map names;       /* name -> struct unit */
	struct units_map files;       /* name -> struct file_entry */
	struct units_map dirs;        /* directory -> struct dir_listing */
	struct units_map aliases;     /* target name -> struct alias_list */
	const char *resolved[ARRAY_SIZE(units_search_path)];   /* NULL: absent */
	bool live[ARRAY_SIZE(units_search_path)];   /* on disk, or the overlay has files below it */
	bool no_device_units;
	bool scanned;
	unsigned depth;
	const struct unit_overlay_file *overlay;
	size_t n_overlay;
};

static const char *const dep_names[_UNIT_DEP_MAX] = {
	[UNIT_REQUIRES] = "Requires", [UNIT_REQUISITE] = "Requisite", [UNIT_WANTS] = "Wants",
	[UNIT_BINDS_TO] = "BindsTo",  [UNIT_PART_OF] = "PartOf",       [UNIT_UPHOLDS] = "Upholds",
	[UNIT_CONFLICTS] = "Conflicts", [UNIT_BEFORE] = "Before",      [UNIT_AFTER] = "After",
};

const char *unit_dep_to_string(enum unit_dep d)
{
	return d >= 0 && d < _UNIT_DEP_MAX ? dep_names[d] : "?";
}

const char *unit_load_state_to_string(enum unit_load_state s)
{
	switch (s) {
	case UNIT_LOADED: return "loaded";
	case UNIT_NOT_FOUND: return "not-found";
	case UNIT_MASKED: return "masked";
	case UNIT_ERROR: return "error";
	}
	return "?";
}

static char *astr(struct units *s, const char *str)
{
	return str ? arena_strdup(&s->p->arena, str) : NULL;
}

static char *afmt(struct units *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *afmt(struct units *s, const char *fmt, ...)
{
	char buf[PATH_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return astr(s, buf);
}

void units_init(struct units *u, const struct unit_overlay_file *overlay, size_t n_overlay)
{
	memset(u, 0, sizeof(*u));
	u->p = xcalloc(1, sizeof(*u->p));
	u->p->overlay = overlay;
	u->p->n_overlay = n_overlay;
}

void units_set_device_units(struct units *u, bool supported)
{
	u->p->no_device_units = !supported;
}

static void free_alias_list(const char *key, void *value, void *ud)
{
	struct alias_list *l = value;

	(void)key;
	(void)ud;
	free(l->v);
}

void units_free(struct units *u)
{
	if (!u->p)
		return;
	for (size_t i = 0; i < u->n; i++) {
		struct unit *x = u->v[i];
		free(x->names);
		free(x->dropins);
		free(x->deps);
		free(x->listen);
		free(x->exec);
		free(x->wanted_by);
		free(x->required_by);
	}
	free(u->v);
	units_map_each(&u->p->aliases, free_alias_list, NULL);
	units_map_free(&u->p->names);
	units_map_free(&u->p->files);
	units_map_free(&u->p->dirs);
	units_map_free(&u->p->aliases);
	arena_free(&u->p->arena);
	free(u->p);
	unit_notes_free(&u->notes);
	memset(u, 0, sizeof(*u));
}

/* ---- paths ------------------------------------------------------------ */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* "/a/b/../c/./d" -> "/a/c/d", lexically (CHASE_NOFOLLOW) */
static void normalize_path(const char *in, char *out, size_t size)
{
	size_t n = 0;
	const char *p = in;

	out[0] = '\0';
	while (*p) {
		const char *e;
		size_t k;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		k = e ? (size_t)(e - p) : strlen(p);
		if (k == 1 && p[0] == '.') {
			/* nothing */
		} else if (k == 2 && p[0] == '.' && p[1] == '.') {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
			out[n] = '\0';
		} else if (n + 1 + k < size) {
			out[n++] = '/';
			memcpy(out + n, p, k);
			n += k;
			out[n] = '\0';
		}
		p += k;
	}
	if (n == 0 && size > 1)
		strcpy(out, "/");
}

static int search_dir_index_resolved(struct units *s, const char *resolved_dir)
{
	for (size_t i = 0; i < units_search_path_len; i++)
		if (s->p->resolved[i] && strcmp(s->p->resolved[i], resolved_dir) == 0)
			return (int)i;
	return -1;
}

static bool overlay_in_dir(struct units *s, const char *dir, size_t i)
{
	const char *path = s->p->overlay[i].path;
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/' && !strchr(path + n + 1, '/');
}

static const struct unit_overlay_file *overlay_find(struct units *s, const char *path)
{
	for (size_t i = 0; i < s->p->n_overlay; i++)
		if (strcmp(s->p->overlay[i].path, path) == 0)
			return &s->p->overlay[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A directory's entries (the disk's and the overlay's), cached. */
static const struct dir_listing *get_dir(struct units *s, const char *dir)
{
	struct dir_listing *d = units_map_get(&s->p->dirs, dir);
	char **names = NULL;
	size_t n_over = 0;
	int n;

	if (d)
		return d;
	d = arena_alloc(&s->p->arena, sizeof(*d));
	units_map_put(&s->p->dirs, astr(s, dir), d);
	n = host_list_dir(dir, &names);
	if (n < 0 && n != -ENOENT && n != -ENOTDIR)
		unit_note(&s->notes, "%s: cannot read the directory: %s", dir, strerror(-n));
	for (size_t i = 0; i < s->p->n_overlay; i++)
		if (overlay_in_dir(s, dir, i))
			n_over++;
	if (n < 0 && !n_over)
		return d;
	d->exists = true;
	d->names = arena_alloc(&s->p->arena, ((size_t)(n > 0 ? n : 0) + n_over + 1) * sizeof(*d->names));
	for (int i = 0; i < n; i++)
		d->names[d->n++] = astr(s, names[i]);
	host_list_free(names, n > 0 ? n : 0);
	for (size_t i = 0; i < s->p->n_overlay; i++)
		if (overlay_in_dir(s, dir, i)) {
			const char *b = base_name(s->p->overlay[i].path);
			bool dup = false;
			for (int k = 0; k < d->n; k++)
				dup |= strcmp(d->names[k], b) == 0;
			if (!dup)
				d->names[d->n++] = astr(s, b);
		}
	if (d->n > 1)
		qsort(d->names, (size_t)d->n, sizeof(*d->names), cmp_str);
	return d;
}

/* ---- the name map (unit_file_build_name_map()) ------------------------- */

static void alias_add(struct units *s, const char *target, const char *name)
{
	struct alias_list *l = units_map_get(&s->p->aliases, target);

	if (!l) {
		l = arena_alloc(&s->p->arena, sizeof(*l));
		units_map_put(&s->p->aliases, astr(s, target), l);
	}
	grow_array((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = name;
}

static void instance_of(const char *name, char *out, size_t size)
{
	const char *at = strchr(name, '@'), *dot = strrchr(name, '.');

	out[0] = '\0';
	if (at && dot && dot > at + 1)
		snprintf(out, size, "%.*s", (int)(dot - at - 1), at + 1);
}

static void classify(struct units *s, struct file_entry *e, const char *resolved_dir)
{
	char full[PATH_MAX], link[PATH_MAX], abs[PATH_MAX * 2], norm[PATH_MAX], parent[PATH_MAX];
	char res[PATH_MAX];
	unsigned mode;
	long long size;
	int r;

	snprintf(full, sizeof(full), "%s/%s", resolved_dir, e->name);
	r = host_stat_resolved(full, &mode, &size);
	if (r < 0) {
		e->kind = ENTRY_BAD;
		e->error = afmt(s, "%s: %s", e->path, strerror(-r));
		return;
	}
	if (mode == S_IFREG) {
		e->kind = size == 0 ? ENTRY_MASK : ENTRY_FILE;
		e->file = e->path;
		return;
	}
	if (mode != S_IFLNK) {
		e->kind = ENTRY_BAD;
		e->error = afmt(s, "%s is not a file", e->path);
		return;
	}
	r = host_readlink(full, link, sizeof(link));
	if (r < 0) {
		e->kind = ENTRY_BAD;
		e->error = afmt(s, "%s: %s", e->path, strerror(-r));
		return;
	}
	if (strcmp(link, "/dev/null") == 0) {
		e->kind = ENTRY_MASK;
		return;
	}
	if (link[0] == '/')
		snprintf(abs, sizeof(abs), "%s", link);
	else
		snprintf(abs, sizeof(abs), "%s/%s", resolved_dir, link);
	normalize_path(abs, norm, sizeof(norm));
	snprintf(parent, sizeof(parent), "%s", norm);
	*strrchr(parent, '/') = '\0';
	if (!parent[0])
		strcpy(parent, "/");
	/* Inside the search path: an alias (its target's name is what counts).
	 * Outside: a linked unit file, read through the link. */
	if (host_chase(parent, res, sizeof(res)) == 0 && search_dir_index_resolved(s, res) >= 0) {
		const char *tname = base_name(norm);
		char inst[UNIT_NAME_MAX], target[UNIT_NAME_MAX];

		if (strlen(tname) >= sizeof(target)) {
			e->kind = ENTRY_BAD;
			e->error = afmt(s, "%s is a symlink to %s: not a unit name", e->path, link);
			return;
		}
		strcpy(target, tname);
		instance_of(e->name, inst, sizeof(inst));
		if (inst[0] && unit_name_is_valid(tname, UNIT_NAME_TEMPLATE) &&
		    unit_name_instantiate(tname, inst, target, sizeof(target)) < 0)
			strcpy(target, tname);
		if (strcmp(target, e->name) != 0) {
			if (!unit_name_is_valid(target, UNIT_NAME_PLAIN | UNIT_NAME_INSTANCE | UNIT_NAME_TEMPLATE) ||
			    unit_name_type(target) != unit_name_type(e->name)) {
				e->kind = ENTRY_BAD;
				e->error = afmt(s, "%s is a symlink to %s, which is not a unit of the same type",
						e->path, link);
				return;
			}
			e->kind = ENTRY_ALIAS;
			e->target = astr(s, target);
			return;
		}
	}
	r = host_chase(e->path, res, sizeof(res));
	if (strcmp(res, "/dev/null") == 0 && (r == 0 || r == -ENOENT)) {
		e->kind = ENTRY_MASK;
		return;
	}
	if (r < 0) {
		e->kind = ENTRY_BAD;
		e->error = r == -ELOOP ? afmt(s, "%s: a loop of symlinks", e->path)
				       : afmt(s, "%s is a symlink to %s: %s", e->path, link, strerror(-r));
		return;
	}
	if (host_stat_resolved(res, &mode, &size) == 0 && mode == S_IFREG && size == 0) {
		e->kind = ENTRY_MASK;
		return;
	}
	e->kind = ENTRY_FILE;
	e->file = astr(s, res);
}

static void scan(struct units *s)
{
	char res[PATH_MAX];

	if (s->p->scanned)
		return;
	s->p->scanned = true;
	for (size_t i = 0; i < units_search_path_len; i++) {
		size_t n = strlen(units_search_path[i]);

		if (host_chase(units_search_path[i], res, sizeof(res)) == 0) {
			/* a directory listed twice (/lib -> usr/lib) is read once */
			if (search_dir_index_resolved(s, res) < 0)
				s->p->resolved[i] = astr(s, res);
		}
		s->p->live[i] = s->p->resolved[i] != NULL;
		for (size_t k = 0; k < s->p->n_overlay; k++)
			s->p->live[i] |= !strncmp(s->p->overlay[k].path, units_search_path[i], n) &&
					 s->p->overlay[k].path[n] == '/';
	}
	for (size_t i = 0; i < units_search_path_len; i++) {
		const char *dir = units_search_path[i];
		const struct dir_listing *d;

		if (!s->p->resolved[i]) {
			bool any = false;
			for (size_t k = 0; k < s->p->n_overlay; k++)
				any |= overlay_in_dir(s, dir, k);
			if (!any)
				continue;
		}
		d = get_dir(s, dir);
		for (int k = 0; k < d->n; k++) {
			const char *name = d->names[k];
			const struct unit_overlay_file *o;
			struct file_entry *e;

			if (!unit_name_is_valid(name, UNIT_NAME_ANY) || units_map_get(&s->p->files, name))
				continue;
			e = arena_alloc(&s->p->arena, sizeof(*e));
			e->name = name;
			e->dir = dir;
			e->path = afmt(s, "%s/%s", dir, name);
			o = overlay_find(s, e->path);
			if (o) {
				e->kind = o->content[0] ? ENTRY_FILE : ENTRY_MASK;
				e->file = e->path;
				e->content = o->content;
			} else {
				classify(s, e, s->p->resolved[i]);
			}
			units_map_put(&s->p->files, name, e);
			if (e->kind == ENTRY_ALIAS)
				alias_add(s, e->target, name);
		}
	}
}

/* The name a name leads to after aliases (and a template's alias), and the
 * entry that holds its file (NULL: none). *error: an alias loop. */
static const char *resolve(struct units *s, const char *name, const struct file_entry **entry,
			   const char **error)
{
	char cur[UNIT_NAME_MAX], chain[1024];
	unsigned hops = 0;

	*entry = NULL;
	*error = NULL;
	snprintf(cur, sizeof(cur), "%s", name);
	snprintf(chain, sizeof(chain), "%s", name);
	for (;;) {
		const struct file_entry *e = units_map_get(&s->p->files, cur);
		char next[UNIT_NAME_MAX];

		if (!e && unit_name_is_valid(cur, UNIT_NAME_INSTANCE)) {
			char tmpl[UNIT_NAME_MAX], inst[UNIT_NAME_MAX];
			const struct file_entry *te;

			unit_name_template(cur, tmpl, sizeof(tmpl));
			instance_of(cur, inst, sizeof(inst));
			te = units_map_get(&s->p->files, tmpl);
			if (te && te->kind == ENTRY_ALIAS) {
				/* a template's alias applies to all its instances */
				if (unit_name_instantiate(te->target, inst, next, sizeof(next)) < 0) {
					*error = afmt(s, "%s is an alias of %s, which is not a template", tmpl,
						      te->target);
					return astr(s, cur);
				}
				goto hop;
			}
			e = te;
		}
		if (!e || e->kind != ENTRY_ALIAS) {
			*entry = e;
			return astr(s, cur);
		}
		snprintf(next, sizeof(next), "%s", e->target);
	hop:
		if (strlen(chain) + strlen(next) + 8 < sizeof(chain)) {
			strcat(chain, " -> ");
			strcat(chain, next);
		}
		if (++hops > ALIAS_HOPS_MAX) {
			*error = afmt(s, "a loop of aliases: %s", chain);
			return astr(s, name);
		}
		snprintf(cur, sizeof(cur), "%s", next);
	}
}

/* ---- loading one unit ------------------------------------------------- */

struct load_ctx {
	struct units *s;
	struct unit *u;
	const char *file;
	struct unit_spec_ctx spec;
};

static void add_dep(struct units *s, struct unit *u, enum unit_dep type, const char *name,
		    enum unit_dep_origin origin, struct unit_where where, const char *why)
{
	struct unit_dep_item *d;

	grow_array((void **)&u->deps, &u->cap_deps, u->n_deps + 1, sizeof(*u->deps));
	d = &u->deps[u->n_deps++];
	d->type = type;
	d->name = astr(s, name);
	d->origin = origin;
	d->where = where;
	d->why = why;
}

static void push_str(const char ***v, size_t *n, const char *str)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = str;
}

/* specifiers expanded, or NULL (noted) when systemd would ignore the line */
static char *expand(struct load_ctx *c, const struct unit_assignment *a, const char *in, bool lenient)
{
	char *out;
	int r = unit_expand_specifiers(&c->spec, in, &out);

	if (r == -EBADMSG) {
		unit_note(&c->s->notes, "%s:%u: %s=%s: an unknown specifier, ignored", c->file, a->line,
			  a->key, in);
		return NULL;
	}
	if (r == -EOPNOTSUPP && !lenient) {
		unit_note(&c->s->notes, "%s:%u: %s=%s: a specifier of the host (%%H, %%m, ...) left as written",
			  c->file, a->line, a->key, in);
	}
	return out;
}

static void parse_deps(struct load_ctx *c, const struct unit_assignment *a, enum unit_dep type,
		       enum unit_dep also)
{
	struct unit_where w = { c->file, a->line, a->last_line };
	const char *p = a->value;
	char *word;

	if (!*p) {
		unit_note(&c->s->notes,
			  "%s:%u: an empty %s= does not remove dependencies (systemd.unit(5): dependencies cannot be reset)",
			  c->file, a->line, a->key);
		return;
	}
	while ((word = unit_next_word(&p))) {
		char *name = expand(c, a, word, false);

		if (name && !unit_name_is_valid(name, UNIT_NAME_PLAIN | UNIT_NAME_INSTANCE)) {
			unit_note(&c->s->notes, "%s:%u: %s=%s: '%s' is not a unit name%s, ignored", c->file,
				  a->line, a->key, a->value, name,
				  unit_name_is_valid(name, UNIT_NAME_TEMPLATE) ? " (a template)" : "");
		} else if (name) {
			add_dep(c->s, c->u, type, name, UNIT_DEP_FILE, w, NULL);
			if (also != _UNIT_DEP_MAX)
				add_dep(c->s, c->u, also, name, UNIT_DEP_FILE, w, NULL);
		}
		free(name);
		free(word);
	}
}

static void set_setting(struct load_ctx *c, const struct unit_assignment *a, struct unit_setting *set,
			const char *value)
{
	set->value = value ? astr(c->s, value) : NULL;
	set->where = (struct unit_where){ c->file, a->line, a->last_line };
}

static void set_bool(struct load_ctx *c, const struct unit_assignment *a, struct unit_setting *set)
{
	int b = unit_parse_boolean(a->value);

	if (b < 0) {
		unit_note(&c->s->notes, "%s:%u: %s=%s is not a boolean, ignored", c->file, a->line, a->key,
			  a->value);
		return;
	}
	set_setting(c, a, set, b ? "yes" : "no");
}

static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || (unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

static void on_socket(struct load_ctx *c, const struct unit_assignment *a)
{
	struct unit *u = c->u;
	static const char *const listen_keys[] = { "ListenStream", "ListenDatagram", "ListenSequentialPacket",
						   "ListenFIFO", "ListenSpecial", "ListenNetlink",
						   "ListenMessageQueue", "ListenUSBFunction" };

	for (size_t i = 0; i < ARRAY_SIZE(listen_keys); i++) {
		struct unit_listen *l;
		char *v;

		if (strcmp(a->key, listen_keys[i]) != 0)
			continue;
		if (!*a->value) {
			/* "An empty assignment removes all ports", of every kind */
			u->n_listen = 0;
			return;
		}
		v = expand(c, a, a->value, false);
		if (!v)
			return;
		grow_array((void **)&u->listen, &u->cap_listen, u->n_listen + 1, sizeof(*u->listen));
		l = &u->listen[u->n_listen++];
		memset(l, 0, sizeof(*l));
		l->key = listen_keys[i];
		l->value = astr(c->s, v);
		l->where = (struct unit_where){ c->file, a->line, a->last_line };
		if (i < 3) {
			l->valid = unit_listen_parse(v, &l->parsed) == 0;
			if (!l->valid)
				unit_note(&c->s->notes, "%s:%u: %s=%s is not an address systemd can listen on, ignored",
					  c->file, a->line, a->key, v);
		} else {
			l->parsed.family = LISTEN_OTHER;
			l->valid = true;
		}
		if (!l->valid)
			u->n_listen--;
		free(v);
		return;
	}
	if (strcmp(a->key, "BindToDevice") == 0) {
		char *v;

		if (!*a->value) {
			set_setting(c, a, &u->bind_to_device, NULL);
			return;
		}
		v = expand(c, a, a->value, false);
		if (v && !ifname_valid(v))
			unit_note(&c->s->notes, "%s:%u: BindToDevice=%s is not an interface name, ignored", c->file,
				  a->line, v);
		else if (v)
			set_setting(c, a, &u->bind_to_device, v);
		free(v);
	} else if (strcmp(a->key, "FreeBind") == 0) {
		set_bool(c, a, &u->free_bind);
	} else if (strcmp(a->key, "Transparent") == 0) {
		set_bool(c, a, &u->transparent);
	} else if (strcmp(a->key, "Accept") == 0) {
		set_bool(c, a, &u->accept);
	} else if (strcmp(a->key, "Service") == 0) {
		char *v = expand(c, a, a->value, false);

		if (v && (!unit_name_is_valid(v, UNIT_NAME_PLAIN | UNIT_NAME_INSTANCE) ||
			  unit_name_type(v) != UNIT_SERVICE))
			unit_note(&c->s->notes, "%s:%u: Service=%s is not a service's name, ignored", c->file,
				  a->line, v);
		else if (v)
			set_setting(c, a, &u->service, v);
		free(v);
	}
}

static void on_service(struct load_ctx *c, const struct unit_assignment *a)
{
	struct unit *u = c->u;
	static const char *const exec_keys[] = { "ExecStart", "ExecStartPre", "ExecStartPost", "ExecCondition" };

	for (size_t i = 0; i < ARRAY_SIZE(exec_keys); i++) {
		char *v;

		if (strcmp(a->key, exec_keys[i]) != 0)
			continue;
		if (!*a->value) {
			size_t k = 0;
			for (size_t j = 0; j < u->n_exec; j++)
				if (strcmp(u->exec[j].key, exec_keys[i]) != 0)
					u->exec[k++] = u->exec[j];
			u->n_exec = k;
			return;
		}
		v = expand(c, a, a->value, true);
		if (!v)
			return;
		grow_array((void **)&u->exec, &u->cap_exec, u->n_exec + 1, sizeof(*u->exec));
		u->exec[u->n_exec++] = (struct unit_exec){
			.key = exec_keys[i],
			.command = astr(c->s, v),
			.where = { c->file, a->line, a->last_line },
		};
		free(v);
		return;
	}
	if (strcmp(a->key, "Type") == 0)
		set_setting(c, a, &u->service_type, *a->value ? a->value : NULL);
	else if (strcmp(a->key, "Sockets") == 0)
		parse_deps(c, a, UNIT_WANTS, UNIT_AFTER);
}

static void on_install(struct load_ctx *c, const struct unit_assignment *a)
{
	const char ***v;
	size_t *n;
	const char *p = a->value;
	char *word;

	if (strcmp(a->key, "WantedBy") == 0)
		v = &c->u->wanted_by, n = &c->u->n_wanted_by;
	else if (strcmp(a->key, "RequiredBy") == 0)
		v = &c->u->required_by, n = &c->u->n_required_by;
	else
		return;
	if (!*p) {
		*n = 0;
		return;
	}
	while ((word = unit_next_word(&p))) {
		char *name = expand(c, a, word, false);
		if (name && unit_name_is_valid(name, UNIT_NAME_ANY))
			push_str(v, n, astr(c->s, name));
		else if (name)
			unit_note(&c->s->notes, "%s:%u: %s=%s: '%s' is not a unit name, ignored", c->file, a->line,
				  a->key, a->value, name);
		free(name);
		free(word);
	}
}

static void on_assignment(const struct unit_assignment *a, void *userdata)
{
	struct load_ctx *c = userdata;

	if (strcmp(a->section, "Unit") == 0) {
		for (int d = 0; d < _UNIT_DEP_MAX; d++)
			if (strcmp(a->key, dep_names[d]) == 0) {
				parse_deps(c, a, (enum unit_dep)d, _UNIT_DEP_MAX);
				return;
			}
		if (strcmp(a->key, "BindTo") == 0)   /* BindsTo='s old name */
			parse_deps(c, a, UNIT_BINDS_TO, _UNIT_DEP_MAX);
		else if (strcmp(a->key, "DefaultDependencies") == 0)
			set_bool(c, a, &c->u->default_dependencies_set);
	} else if (strcmp(a->section, "Socket") == 0 && c->u->type == UNIT_SOCKET) {
		on_socket(c, a);
	} else if (strcmp(a->section, "Service") == 0 && c->u->type == UNIT_SERVICE) {
		on_service(c, a);
	} else if (strcmp(a->section, "Install") == 0) {
		on_install(c, a);
	}
}

/* Reads one file into u; <0 when systemd would not load the unit. */
static int load_file(struct units *s, struct unit *u, const char *path, const char *overlay_text)
{
	struct load_ctx c = { .s = s, .u = u, .file = path,
			      .spec = { .id = u->id, .prefix = u->prefix, .instance = u->instance } };
	const struct unit_overlay_file *o = overlay_text ? NULL : overlay_find(s, path);
	char *text = NULL;
	size_t len;
	int r;

	if (overlay_text || o) {
		const char *t = overlay_text ? overlay_text : o->content;
		return unit_text_parse(path, t, strlen(t), on_assignment, &c, &s->notes);
	}
	r = host_read_file(path, &text, &len, NULL, 0);
	if (r < 0) {
		u->load_error = afmt(s, "cannot read %s: %s", path, strerror(-r));
		unit_note(&s->notes, "%s: %s", u->id, u->load_error);
		return r;
	}
	r = unit_text_parse(path, text, len, on_assignment, &c, &s->notes);
	free(text);
	if (r < 0)
		u->load_error = afmt(s, "%s does not parse", path);
	return r;
}

/* unit_file_find_dirs(): NAME+suffix in one search directory, then its
 * template's, then its dash prefixes' */
static void find_dirs(struct units *s, const char *dir, const char *name, const char *suffix,
		      const char ***dirs, size_t *n, unsigned depth)
{
	char path[PATH_MAX], prefix[UNIT_NAME_MAX], built[UNIT_NAME_MAX], inst[UNIT_NAME_MAX];
	const char *at, *dot;
	enum unit_type type;
	bool chopped = false;

	if (depth > 64)
		return;
	snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffix);
	if (get_dir(s, path)->exists) {
		bool dup = false;
		for (size_t i = 0; i < *n; i++)
			dup |= strcmp((*dirs)[i], path) == 0;
		if (!dup)
			push_str(dirs, n, astr(s, path));
	}
	if (unit_name_is_valid(name, UNIT_NAME_INSTANCE)) {
		char tmpl[UNIT_NAME_MAX];
		if (unit_name_template(name, tmpl, sizeof(tmpl)) == 0)
			find_dirs(s, dir, tmpl, suffix, dirs, n, depth + 1);
	}
	if (!strchr(name, '.'))
		return;   /* the type's own directory ("service.d") */
	at = strchr(name, '@');
	dot = strrchr(name, '.');
	type = unit_name_type(name);
	snprintf(prefix, sizeof(prefix), "%.*s", (int)((at ? at : dot) - name), name);
	for (;;) {
		char *dash = strrchr(prefix, '-');
		size_t k;

		if (!dash)
			return;
		k = (size_t)(dash - prefix);
		if (k == 0)
			return;
		if (prefix[k + 1] != '\0' || chopped) {
			prefix[k + 1] = '\0';
			break;
		}
		prefix[k] = '\0';
		chopped = true;
	}
	instance_of(name, inst, sizeof(inst));
	if ((at && inst[0] ? snprintf(built, sizeof(built), "%s@%s.%s", prefix, inst, unit_type_to_string(type))
			   : snprintf(built, sizeof(built), "%s.%s", prefix, unit_type_to_string(type))) >=
	    (int)sizeof(built))
		return;
	find_dirs(s, dir, built, suffix, dirs, n, depth + 1);
}

/* The directories of one kind (".d", ".wants", ".requires") for u, in
 * precedence order (unit_file_find_dropin_paths()). */
static size_t dropin_dirs(struct units *s, struct unit *u, const char *suffix, const char ***dirs)
{
	size_t n = 0;

	/* a directory neither on disk nor in the overlay has nothing below it */
	*dirs = NULL;
	for (size_t i = 0; i < units_search_path_len; i++)
		if (s->p->live[i])
			find_dirs(s, units_search_path[i], u->id, suffix, dirs, &n, 0);
	for (size_t k = 1; k < u->n_names; k++)
		for (size_t i = 0; i < units_search_path_len; i++)
			if (s->p->live[i])
				find_dirs(s, units_search_path[i], u->names[k], suffix, dirs, &n, 0);
	for (size_t i = 0; i < units_search_path_len; i++)
		if (s->p->live[i])
			find_dirs(s, units_search_path[i], unit_type_to_string(u->type), suffix, dirs, &n, 0);
	return n;
}

struct dropin_file {
	const char *name, *path;
};

static int cmp_dropin(const void *a, const void *b)
{
	return strcmp(((const struct dropin_file *)a)->name, ((const struct dropin_file *)b)->name);
}

/* conf_files_list_strv(): each file name's first occurrence, sorted */
static size_t dropin_files(struct units *s, const char **dirs, size_t n_dirs, bool conf_only,
			   struct dropin_file **out)
{
	struct dropin_file *v = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < n_dirs; i++) {
		const struct dir_listing *d = get_dir(s, dirs[i]);
		for (int k = 0; k < d->n; k++) {
			const char *name = d->names[k];
			size_t len = strlen(name);
			bool seen = false;

			if (conf_only && (len < 6 || strcmp(name + len - 5, ".conf") != 0))
				continue;
			for (size_t j = 0; j < n; j++)
				seen |= strcmp(v[j].name, name) == 0;
			if (seen)
				continue;
			grow_array((void **)&v, &cap, n + 1, sizeof(*v));
			v[n].name = name;
			v[n].path = afmt(s, "%s/%s", dirs[i], name);
			n++;
		}
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_dropin);
	*out = v;
	return n;
}

/* a drop-in or .wants/ entry that is a symlink to /dev/null: masked */
static bool entry_masked(struct units *s, const char *path)
{
	char res[PATH_MAX];
	int r;

	if (overlay_find(s, path))
		return !overlay_find(s, path)->content[0];
	r = host_chase(path, res, sizeof(res));
	return (r == 0 || r == -ENOENT) && strcmp(res, "/dev/null") == 0;
}

static void load_dropins(struct units *s, struct unit *u)
{
	const char **dirs;
	struct dropin_file *files;
	size_t n_dirs = dropin_dirs(s, u, ".d", &dirs);
	size_t n = dropin_files(s, dirs, n_dirs, true, &files);

	for (size_t i = 0; i < n; i++) {
		if (entry_masked(s, files[i].path))
			continue;
		push_str(&u->dropins, &u->n_dropins, files[i].path);
		if (load_file(s, u, files[i].path, NULL) < 0 && u->load != UNIT_ERROR) {
			u->load = UNIT_ERROR;
			if (!u->load_error)
				u->load_error = afmt(s, "%s does not parse", files[i].path);
		}
	}
	free(files);
	free(dirs);
}

static void load_wants(struct units *s, struct unit *u, const char *suffix, enum unit_dep type)
{
	const char **dirs;
	struct dropin_file *files;
	size_t n_dirs = dropin_dirs(s, u, suffix, &dirs);
	size_t n = dropin_files(s, dirs, n_dirs, false, &files);

	for (size_t i = 0; i < n; i++) {
		const char *name = files[i].name;
		char inst[UNIT_NAME_MAX];

		if (!unit_name_is_valid(name, UNIT_NAME_ANY)) {
			unit_note(&s->notes, "%s: not a unit name, ignored", files[i].path);
			continue;
		}
		if (entry_masked(s, files[i].path))
			continue;
		if (unit_name_is_valid(name, UNIT_NAME_TEMPLATE)) {
			/* a template's instance is handed on to a template entry */
			if (!u->instance || unit_name_instantiate(name, u->instance, inst, sizeof(inst)) < 0) {
				unit_note(&s->notes, "%s: a template, and %s is not an instance: ignored",
					  files[i].path, u->id);
				continue;
			}
			name = inst;
		}
		add_dep(s, u, type, name, UNIT_DEP_WANTS_DIR, (struct unit_where){ files[i].path, 0, 0 }, NULL);
	}
	free(files);
	free(dirs);
}

static const char *const WHY_SERVICE = "default dependency of a service";
static const char *const WHY_SOCKET = "default dependency of a socket";
static const char *const WHY_TARGET = "default dependency of a target";
static const char *const WHY_TIMER = "default dependency of a timer";
static const char *const WHY_PATH = "default dependency of a path unit";

static void add_default(struct units *s, struct unit *u, enum unit_dep t, const char *name, const char *why)
{
	add_dep(s, u, t, name, UNIT_DEP_DEFAULT, (struct unit_where){ 0 }, why);
}

/* u has a dependency of type t on other, from any origin (systemd keeps
 * them both ways: A After=B is B Before=A) */
static bool has_dep(struct units *s, const struct unit *u, enum unit_dep t, const struct unit *other)
{
	for (size_t i = 0; i < u->n_deps; i++)
		if (u->deps[i].type == t && units_get(s, u->deps[i].name) == other)
			return true;
	return false;
}

/* the *_add_extras() of each unit type */
static void add_extras(struct units *s, struct unit *u)
{
	struct unit_where none = { 0 };

	switch (u->type) {
	case UNIT_SOCKET: {
		int accept = u->accept.value ? unit_parse_boolean(u->accept.value) : 0;
		char svc[UNIT_NAME_MAX];

		if (accept <= 0 && u->n_listen) {
			if (u->service.value)
				snprintf(svc, sizeof(svc), "%s", u->service.value);
			else
				snprintf(svc, sizeof(svc), "%.*s.service",
					 (int)(strrchr(u->id, '.') - u->id), u->id);
			add_dep(s, u, UNIT_BEFORE, svc, UNIT_DEP_IMPLICIT, none,
				"a socket is ordered before the service it activates");
		}
		if (u->bind_to_device.value && strcmp(u->bind_to_device.value, "lo") != 0 && !s->p->no_device_units) {
			char dev[UNIT_NAME_MAX];
			if (unit_name_netdev(u->bind_to_device.value, dev, sizeof(dev)) == 0) {
				const char *why = afmt(s, "BindToDevice=%s (%s:%u)", u->bind_to_device.value,
						       u->bind_to_device.where.file, u->bind_to_device.where.line);
				add_dep(s, u, UNIT_BINDS_TO, dev, UNIT_DEP_IMPLICIT, u->bind_to_device.where, why);
				add_dep(s, u, UNIT_AFTER, dev, UNIT_DEP_IMPLICIT, u->bind_to_device.where, why);
			}
		}
		if (u->default_dependencies) {
			add_default(s, u, UNIT_BEFORE, "sockets.target", WHY_SOCKET);
			add_default(s, u, UNIT_REQUIRES, "sysinit.target", WHY_SOCKET);
			add_default(s, u, UNIT_AFTER, "sysinit.target", WHY_SOCKET);
			add_default(s, u, UNIT_CONFLICTS, "shutdown.target", WHY_SOCKET);
			add_default(s, u, UNIT_BEFORE, "shutdown.target", WHY_SOCKET);
		}
		break;
	}
	case UNIT_SERVICE:
		if (u->service_type.value && strcmp(u->service_type.value, "dbus") == 0) {
			add_dep(s, u, UNIT_REQUIRES, "dbus.socket", UNIT_DEP_IMPLICIT, none, "Type=dbus");
			add_dep(s, u, UNIT_AFTER, "dbus.socket", UNIT_DEP_IMPLICIT, none, "Type=dbus");
		}
		if (u->default_dependencies) {
			add_default(s, u, UNIT_REQUIRES, "sysinit.target", WHY_SERVICE);
			add_default(s, u, UNIT_AFTER, "sysinit.target", WHY_SERVICE);
			add_default(s, u, UNIT_AFTER, "basic.target", WHY_SERVICE);
			add_default(s, u, UNIT_CONFLICTS, "shutdown.target", WHY_SERVICE);
			add_default(s, u, UNIT_BEFORE, "shutdown.target", WHY_SERVICE);
		}
		break;
	case UNIT_TARGET: {
		size_t n = u->n_deps;

		if (!u->default_dependencies)
			break;
		/* "Target units will automatically complement all configured
		 * dependencies of type Wants= or Requires= with dependencies of
		 * type After= unless DefaultDependencies=no is set in the
		 * specified units", and not where the target is already
		 * Before= the unit ("Don't create loops" in
		 * unit_add_default_target_dependency(): a service's default
		 * After=sysinit.target keeps sysinit.target from being ordered
		 * after it) */
		for (size_t i = 0; i < n; i++) {
			const struct unit_dep_item *d = &u->deps[i];
			struct unit *x;

			if (d->type != UNIT_REQUIRES && d->type != UNIT_REQUISITE && d->type != UNIT_WANTS &&
			    d->type != UNIT_BINDS_TO)
				continue;
			x = units_get(s, d->name);
			if (!x || x == u || x->load != UNIT_LOADED || !x->default_dependencies)
				continue;
			if (has_dep(s, u, UNIT_BEFORE, x) || has_dep(s, x, UNIT_AFTER, u))
				continue;
			const char *why = d->origin == UNIT_DEP_WANTS_DIR
				? afmt(s, "a target is ordered after what it wants: %s", d->where.file)
				: afmt(s, "a target is ordered after what it wants: %s=%s (%s:%u)",
				       unit_dep_to_string(d->type), d->name, d->where.file, d->where.line);
			add_dep(s, u, UNIT_AFTER, d->name, UNIT_DEP_DEFAULT, d->where, why);
		}
		if (strcmp(u->id, "shutdown.target") != 0) {
			add_default(s, u, UNIT_CONFLICTS, "shutdown.target", WHY_TARGET);
			add_default(s, u, UNIT_BEFORE, "shutdown.target", WHY_TARGET);
		}
		break;
	}
	case UNIT_TIMER:
	case UNIT_PATH:
		if (u->default_dependencies) {
			const char *why = u->type == UNIT_TIMER ? WHY_TIMER : WHY_PATH;
			add_default(s, u, UNIT_BEFORE, u->type == UNIT_TIMER ? "timers.target" : "paths.target", why);
			add_default(s, u, UNIT_REQUIRES, "sysinit.target", why);
			add_default(s, u, UNIT_AFTER, "sysinit.target", why);
			add_default(s, u, UNIT_CONFLICTS, "shutdown.target", why);
			add_default(s, u, UNIT_BEFORE, "shutdown.target", why);
		}
		break;
	default:
		break;
	}
}

static void add_name(struct units *s, struct unit *u, const char *name)
{
	for (size_t i = 0; i < u->n_names; i++)
		if (strcmp(u->names[i], name) == 0)
			return;
	push_str(&u->names, &u->n_names, astr(s, name));
	if (!units_map_get(&s->p->names, name))
		units_map_put(&s->p->names, u->names[u->n_names - 1], u);
}

/* every name that leads to id: its aliases, and for an instance the
 * instances of its template's aliases */
static void collect_aliases(struct units *s, struct unit *u)
{
	for (size_t i = 0; i < u->n_names && i < 64; i++) {
		struct alias_list *l = units_map_get(&s->p->aliases, u->names[i]);
		for (size_t k = 0; l && k < l->n; k++)
			add_name(s, u, l->v[k]);
	}
	if (u->instance) {
		char tmpl[UNIT_NAME_MAX], inst[UNIT_NAME_MAX];
		struct alias_list *l;

		unit_name_template(u->id, tmpl, sizeof(tmpl));
		l = units_map_get(&s->p->aliases, tmpl);
		for (size_t k = 0; l && k < l->n; k++)
			if (unit_name_instantiate(l->v[k], u->instance, inst, sizeof(inst)) == 0)
				add_name(s, u, inst);
	}
}

static struct unit *new_unit(struct units *s, const char *id)
{
	struct unit *u = arena_alloc(&s->p->arena, sizeof(*u));
	const char *at = strchr(id, '@'), *dot = strrchr(id, '.');
	char inst[UNIT_NAME_MAX];

	u->id = astr(s, id);
	u->type = unit_name_type(id);
	u->prefix = arena_strndup(&s->p->arena, id, (size_t)((at ? at : dot) - id));
	instance_of(id, inst, sizeof(inst));
	u->instance = inst[0] ? astr(s, inst) : NULL;
	u->default_dependencies = true;
	u->index = (unsigned)s->n;
	grow_array((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = u;
	push_str(&u->names, &u->n_names, u->id);
	units_map_put(&s->p->names, u->id, u);
	return u;
}

struct unit *units_get(struct units *s, const char *name)
{
	const struct file_entry *e;
	const char *id, *error;
	struct unit *u;

	if (!name)
		return NULL;
	u = units_map_get(&s->p->names, name);
	if (u)
		return u;
	if (!unit_name_is_valid(name, UNIT_NAME_PLAIN | UNIT_NAME_INSTANCE)) {
		unit_note(&s->notes, "'%s' is not the name of a unit", name);
		return NULL;
	}
	scan(s);
	id = resolve(s, name, &e, &error);
	if (!error && strcmp(id, name) != 0) {
		if (s->p->depth >= LOAD_DEPTH_MAX)
			error = afmt(s, "%s: aliases nested too deep", name);
		else {
			s->p->depth++;
			u = units_get(s, id);
			s->p->depth--;
			if (u) {
				add_name(s, u, name);
				return u;
			}
			return NULL;
		}
	}
	u = new_unit(s, error ? name : id);
	if (error) {
		u->load = UNIT_ERROR;
		u->load_error = error;
		unit_note(&s->notes, "%s: %s", u->id, error);
		return u;
	}
	collect_aliases(s, u);
	if (!e) {
		/* a device unit has no file; it comes with the device */
		u->load = u->type == UNIT_DEVICE ? UNIT_LOADED : UNIT_NOT_FOUND;
	} else if (e->kind == ENTRY_MASK) {
		u->load = UNIT_MASKED;
		u->fragment_entry = e->path;
		u->fragment_dir = e->dir;
	} else if (e->kind == ENTRY_BAD) {
		u->load = UNIT_ERROR;
		u->load_error = e->error;
		unit_note(&s->notes, "%s: %s", u->id, e->error);
	} else {
		u->fragment = e->file;
		u->fragment_entry = e->path;
		u->fragment_dir = e->dir;
		u->load = load_file(s, u, e->file, e->content) < 0 ? UNIT_ERROR : UNIT_LOADED;
		if (u->load == UNIT_ERROR && !u->load_error)
			u->load_error = afmt(s, "%s does not parse", e->file);
	}
	if (u->load == UNIT_LOADED) {
		if (s->p->depth >= LOAD_DEPTH_MAX) {
			unit_note(&s->notes, "%s: units nested too deep, its drop-ins and dependencies not read", u->id);
			return u;
		}
		s->p->depth++;
		load_dropins(s, u);
		if (u->load == UNIT_LOADED) {
			load_wants(s, u, ".wants", UNIT_WANTS);
			load_wants(s, u, ".requires", UNIT_REQUIRES);
			if (u->default_dependencies_set.value)
				u->default_dependencies = unit_parse_boolean(u->default_dependencies_set.value) != 0;
			add_extras(s, u);
		}
		s->p->depth--;
	}
	return u;
}

/* ---- queries ---------------------------------------------------------- */

size_t units_boot(struct units *s, const char *start)
{
	struct unit *first = units_get(s, start ? start : "default.target");
	struct unit **queue;
	size_t head = 0, tail = 0, cap = 64, n = 0;

	if (!first)
		return 0;
	if (first->load != UNIT_LOADED) {
		unit_note(&s->notes, "%s is %s: nothing starts at boot as far as the files say", first->id,
			  unit_load_state_to_string(first->load));
		return 0;
	}
	queue = xmalloc(cap * sizeof(*queue));
	first->in_boot = true;
	first->pulled_by = NULL;
	queue[tail++] = first;
	n++;
	while (head < tail) {
		struct unit *u = queue[head++];

		for (size_t i = 0; i < u->n_deps; i++) {
			const struct unit_dep_item *d = &u->deps[i];
			struct unit *x;

			if (d->type != UNIT_REQUIRES && d->type != UNIT_WANTS && d->type != UNIT_BINDS_TO &&
			    d->type != UNIT_UPHOLDS)
				continue;
			x = units_get(s, d->name);
			/* units_get() may have grown s->v; u stays valid (arena) */
			if (!x || x->in_boot || x->load != UNIT_LOADED)
				continue;
			x->in_boot = true;
			x->pulled_by = u->id;
			x->pulled_how = d->type;
			if (tail == cap) {
				cap *= 2;
				queue = xrealloc(queue, cap * sizeof(*queue));
			}
			queue[tail++] = x;
			n++;
		}
	}
	free(queue);
	return n;
}

const struct unit_dep_item *unit_find_dep(struct units *s, const struct unit *from, enum unit_dep type,
					  const struct unit *to)
{
	for (size_t i = 0; i < from->n_deps; i++)
		if (from->deps[i].type == type && units_get(s, from->deps[i].name) == to)
			return &from->deps[i];
	if (type == UNIT_AFTER || type == UNIT_BEFORE) {
		enum unit_dep rev = type == UNIT_AFTER ? UNIT_BEFORE : UNIT_AFTER;
		for (size_t i = 0; i < to->n_deps; i++)
			if (to->deps[i].type == rev && units_get(s, to->deps[i].name) == from)
				return &to->deps[i];
	}
	return NULL;
}

bool unit_is_enabled(struct units *s, const struct unit *unit, const char **where)
{
	for (int pass = 0; pass < 2; pass++) {
		const char *const *v = pass ? unit->required_by : unit->wanted_by;
		size_t n = pass ? unit->n_required_by : unit->n_wanted_by;

		for (size_t i = 0; i < n; i++) {
			struct unit *t = units_get(s, v[i]);
			for (size_t k = 0; t && k < t->n_deps; k++)
				if (t->deps[k].origin == UNIT_DEP_WANTS_DIR && units_get(s, t->deps[k].name) == unit) {
					if (where)
						*where = t->deps[k].where.file;
					return true;
				}
		}
	}
	return false;
}

const char *unit_exec_start_program(const struct unit *unit, char *buf, size_t size)
{
	for (size_t i = 0; i < unit->n_exec; i++) {
		const char *p = unit->exec[i].command;
		size_t n = 0;
		char quote = 0;

		if (strcmp(unit->exec[i].key, "ExecStart") != 0)
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		while (*p == '-' || *p == '@' || *p == ':' || *p == '+' || *p == '!')
			p++;
		if (*p == '"' || *p == '\'')
			quote = *p++;
		while (*p && n + 1 < size && (quote ? *p != quote : (*p != ' ' && *p != '\t')))
			buf[n++] = *p++;
		buf[n] = '\0';
		return n ? buf : NULL;
	}
	return NULL;
}
