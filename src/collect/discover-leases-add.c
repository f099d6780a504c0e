/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a lease file's parser hands on: the notes it makes, and a current
 * lease's services in scope as discovered targets (origin
 * "dhcp-lease:IFNAME"), at once or through a lease set that keeps the
 * newest lease of each interface (discover-leases.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "discover-leases.h"

void lease_note(struct lease_ctx *c, unsigned line, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (++c->n_problems > LEASE_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (line)
		discovered_note(c->l, "%s:%u: %s", c->path, line, buf);
	else
		discovered_note(c->l, "%s: %s", c->path, buf);
}

void lease_list_add(struct cg_addr *list, size_t *n, bool *more, const struct cg_addr *a)
{
	for (size_t i = 0; i < *n; i++)
		if (addr_equal(&list[i], a))
			return;
	if (*n == LEASE_MAX_SERVERS) {
		*more = true;
		return;
	}
	list[(*n)++] = *a;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void add_service(struct lease_ctx *c, const struct discovered *tmpl, const struct cg_addr *a,
			const char *role, unsigned protos, uint16_t port, uint16_t local_port)
{
	struct discovered d = *tmpl;

	if (!discover_in_scope(c->scope, a))
		return;
	d.addr = *a;
	d.role = role;
	d.protos = protos;
	d.port = port;
	d.local_port = local_port;
	discovered_add(c->l, &d);
}

static void lease_keep(struct lease_ctx *c, const struct lease *le)
{
	struct lease_set *set = c->set;

	grow_array((void **)&set->v, &set->cap, set->n + 1, sizeof(*set->v));
	struct lease_found *f = &set->v[set->n];
	memset(f, 0, sizeof(*f));
	f->le = *le;
	snprintf(f->label, sizeof(f->label), "%s", le->ifname[0] ? le->ifname : c->ifname ? c->ifname : "");
	f->path = xstrdup(c->path);
	f->written = c->written;
	f->client = c->client;
	f->seq = set->n++;
}

static int found_cmp(const void *a, const void *b)
{
	const struct lease_found *x = a, *y = b;
	int r = strcmp(x->label, y->label);

	if (r)
		return r;
	if (x->le.v6 != y->le.v6)
		return x->le.v6 ? 1 : -1;
	if (x->written != y->written)
		return x->written > y->written ? -1 : 1; /* newest first */
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void leases_flush(struct lease_set *set, const struct discover_scope *scope, struct discovered_list *l)
{
	if (set->n)
		qsort(set->v, set->n, sizeof(*set->v), found_cmp);
	const struct lease_found *first = NULL; /* the newest of the group */
	for (size_t i = 0; i < set->n; i++) {
		const struct lease_found *f = &set->v[i];
		if (!first || strcmp(first->label, f->label) != 0 || first->le.v6 != f->le.v6)
			first = f;
		if (!f->label[0] || f->written == first->written) {
			struct lease_ctx c = { .path = f->path, .ifname = f->label[0] ? f->label : NULL,
					       .scope = scope, .l = l, .client = f->client };
			lease_add(&c, &f->le);
		}
	}
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i].path);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

void lease_add(struct lease_ctx *c, const struct lease *le)
{
	struct discovered d = { 0 };

	if (c->set) {
		lease_keep(c, le);
		return;
	}
	const char *ifname = le->ifname[0] ? le->ifname : c->ifname ? c->ifname : "";
	char buf[CG_ADDRSTRLEN];

	/* "ifindex 7": a networkd lease of a device this namespace does not have */
	if (strncmp(ifname, "ifindex ", 8) != 0)
		snprintf(d.ifname, sizeof(d.ifname), "%s", ifname);
	/* no interface: the file names it */
	snprintf(d.origin, sizeof(d.origin), "dhcp-lease:%s", ifname[0] ? ifname : base_name(c->path));
	if (le->server.family) {
		struct discovered s = d;
		s.reply_before_netfilter = le->reply_before_netfilter;
		/* the renewal is the DHCP client's own (the DNS and NTP servers
		 * it was given serve whoever asks them) */
		s.client = c->client;
		add_service(c, &s, &le->server, "dhcp", CG_PROTO_UDP, le->v6 ? 547 : 67, le->v6 ? 546 : 68);
	}
	else if (!le->v6 && le->address.family && discover_in_scope(c->scope, &le->address))
		lease_note(c, le->line, "the lease of %s (%s) does not name its DHCP server: its renewals are not checked",
			   ifname[0] ? ifname : "an unnamed interface", addr_to_string(&le->address, buf));
	for (size_t i = 0; i < le->n_dns; i++)
		add_service(c, &d, &le->dns[i], "dns", CG_PROTO_UDP | CG_PROTO_TCP, 53, 0);
	for (size_t i = 0; i < le->n_ntp; i++)
		add_service(c, &d, &le->ntp[i], "ntp", CG_PROTO_UDP, 123, 0);
	if (le->more_dns || le->more_ntp)
		lease_note(c, le->line, "the lease of %s names more than %d %s servers: only the first %d are checked",
			   ifname[0] ? ifname : "an unnamed interface", LEASE_MAX_SERVERS,
			   le->more_dns ? "DNS" : "NTP", LEASE_MAX_SERVERS);
}
