/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the discovery sources and the blind-spot readers share: where host
 * files are, the lists they fill, and how blind spots combine. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blind-bpf-internal.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hostfacts.h"

const char *host_path(char *buf, size_t size, const char *path)
{
	const char *root = getenv("CGNATCHECK_HOST_ROOT");
	int n;

	if (!root)
		root = "";
	/* "/" as the root is the host itself */
	if (root[0] == '/' && root[1] == '\0')
		root = "";
	n = snprintf(buf, size, "%s%s", root, path);
	return n < 0 || (size_t)n >= size ? NULL : buf;
}

bool discover_in_scope(const struct discover_scope *s, const struct cg_addr *a)
{
	for (size_t i = 0; i < s->n_ranges; i++)
		if (prefix_contains(&s->ranges[i], a))
			return true;
	return false;
}

static bool same_service(const struct discovered *a, const struct discovered *b)
{
	return addr_equal(&a->addr, &b->addr) && a->protos == b->protos && a->port == b->port &&
	       a->inbound == b->inbound && a->local_port == b->local_port;
}

void discovered_add(struct discovered_list *l, const struct discovered *d)
{
	/* a host has a handful of these; conntrack's are deduplicated by the
	 * source before they get here */
	for (size_t i = 0; i < l->n; i++)
		if (same_service(&l->v[i], d))
			return;
	grow_array((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = *d;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("cgnatcheck: out of memory\n", stderr);
		abort();
	}
	return s;
}

void discovered_note(struct discovered_list *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	l->notes = xreallocarray(l->notes, l->n_notes + 1, sizeof(*l->notes));
	l->notes[l->n_notes++] = vformat(fmt, ap);
	va_end(ap);
}

void discovered_free(struct discovered_list *l)
{
	for (size_t i = 0; i < l->n_notes; i++)
		free(l->notes[i]);
	free(l->notes);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct blind_spot *blind_add(struct blind_spots *b)
{
	grow_array((void **)&b->v, &b->cap, b->n + 1, sizeof(*b->v));
	memset(&b->v[b->n], 0, sizeof(b->v[b->n]));
	return &b->v[b->n++];
}

void blind_note(struct blind_spots *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	b->notes = xreallocarray(b->notes, b->n_notes + 1, sizeof(*b->notes));
	b->notes[b->n_notes++] = vformat(fmt, ap);
	va_end(ap);
}

void blind_info(struct blind_spots *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	b->infos = xreallocarray(b->infos, b->n_infos + 1, sizeof(*b->infos));
	b->infos[b->n_infos++] = vformat(fmt, ap);
	va_end(ap);
}

void blind_spots_free(struct blind_spots *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].free_data)
			b->v[i].free_data(b->v[i].data);
	for (size_t i = 0; i < b->n_notes; i++)
		free(b->notes[i]);
	free(b->notes);
	for (size_t i = 0; i < b->n_infos; i++)
		free(b->infos[i]);
	free(b->infos);
	blind_cgroups_free(b->cgroups);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

enum blind_effect blind_decide(const struct blind_spots *b, const struct blind_packet *p,
			       const struct blind_spot **which)
{
	enum blind_effect best = BLIND_PASS;

	*which = NULL;
	for (size_t i = 0; i < b->n; i++) {
		const struct blind_spot *s = &b->v[i];
		enum blind_effect e;

		if (!(s->dirs & p->dir) || (s->ifindex && s->ifindex != p->ifindex))
			continue;
		e = s->decide ? s->decide(s, p) : BLIND_UNKNOWN;
		if (e == BLIND_DROP) {
			*which = s;
			return BLIND_DROP;
		}
		if (e == BLIND_UNKNOWN && best == BLIND_PASS) {
			best = BLIND_UNKNOWN;
			*which = s;
		}
	}
	return best;
}
