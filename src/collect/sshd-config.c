/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sshd's ListenAddress and Port, read as OpenSSH's servconf.c reads them:
 * keywords are case-insensitive, an argument may be quoted, "#" starts a
 * comment, "Include" (several patterns, globs, relative to /etc/ssh) is read
 * where it stands, at most 16 deep. For most keywords the first value wins;
 * Port and ListenAddress accumulate, and a ListenAddress without a port
 * listens on every Port (process_queued_listen_addrs()). What makes sshd
 * refuse to start (a bad port, ListenAddress inside a Match block) is noted
 * as such. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/units.h"
#include "units-internal.h"

#define SERVCONF_MAX_DEPTH 16
#define SSHDIR "/etc/ssh"

struct sshd_pending {
	char host[128];
	struct cg_addr addr;          /* AF_UNSPEC: a host name, not resolved here */
	uint16_t port;                /* 0: every Port */
	char where[320];
};

static int parse_file(struct sshd_config *c, const char *file, const char *text, size_t len);

/* argv_split() with comments: the words of a line, quotes removed */
static size_t split_words(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *p = line, *o;

	while (n < max) {
		char quote = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			break;
		words[n++] = o = p;
		while (*p) {
			if (quote) {
				if (*p == quote) {
					quote = 0;
					p++;
					continue;
				}
			} else if (*p == '"' || *p == '\'') {
				quote = *p++;
				continue;
			} else if (*p == ' ' || *p == '\t') {
				break;
			} else if (*p == '\\' && (p[1] == '"' || p[1] == '\'' || p[1] == '\\' || p[1] == ' ')) {
				p++;
			}
			*o++ = *p++;
		}
		if (*p)
			p++;
		*o = '\0';
	}
	return n;
}

static int a2port(const char *s)
{
	char *end;
	long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 65535)
		return -1;
	return (int)v;
}

static void queue_listen(struct sshd_config *c, const char *where, const char *arg)
{
	struct sshd_pending q;
	char buf[128];
	const char *host = arg, *portstr = NULL, *colon = strchr(arg, ':');

	memset(&q, 0, sizeof(q));
	snprintf(q.where, sizeof(q.where), "%s", where);
	if (strlen(arg) >= sizeof(buf)) {
		unit_note(&c->notes, "%s: ListenAddress %.60s... is too long: not read", where, arg);
		return;
	}
	if (!strchr(arg, '[') && colon && strchr(colon + 1, ':')) {
		/* a bare IPv6 address: no port */
		snprintf(buf, sizeof(buf), "%s", arg);
	} else if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (!close || (close[1] && close[1] != ':')) {
			unit_note(&c->notes, "%s: ListenAddress %s: bad address:port usage (sshd refuses to start)",
				  where, arg);
			return;
		}
		snprintf(buf, sizeof(buf), "%.*s", (int)(close - arg - 1), arg + 1);
		portstr = close[1] ? close + 2 : NULL;
	} else {
		snprintf(buf, sizeof(buf), "%.*s", colon ? (int)(colon - arg) : (int)strlen(arg), arg);
		portstr = colon ? colon + 1 : NULL;
	}
	host = buf;
	if (portstr) {
		int p = a2port(portstr);
		if (p < 0) {
			unit_note(&c->notes, "%s: ListenAddress %s: bad port number (sshd refuses to start)", where,
				  arg);
			return;
		}
		q.port = (uint16_t)p;
	}
	snprintf(q.host, sizeof(q.host), "%s", host);
	if (addr_parse(host, &q.addr) < 0) {
		q.addr.family = AF_UNSPEC;
		unit_note(&c->notes, "%s: ListenAddress %s names a host, which sshd resolves when it starts: not resolved here",
			  where, arg);
	}
	grow_array((void **)&c->pending, &c->cap_pending, c->n_pending + 1, sizeof(*c->pending));
	c->pending[c->n_pending++] = q;
}

static void do_include(struct sshd_config *c, const char *where, const char *pattern)
{
	char full[PATH_MAX], dir[PATH_MAX], *slash, **names = NULL;
	const char *glob;
	int n;

	if (pattern[0] == '~') {
		unit_note(&c->notes, "%s: Include %s: a home directory, not read", where, pattern);
		return;
	}
	if (pattern[0] == '/')
		snprintf(full, sizeof(full), "%s", pattern);
	else
		snprintf(full, sizeof(full), "%s/%s", SSHDIR, pattern);
	slash = strrchr(full, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash == full ? 1 : (int)(slash - full), full);
	glob = slash + 1;
	if (strpbrk(dir, "*?[")) {
		unit_note(&c->notes, "%s: Include %s: a pattern in a directory's name is not followed here", where,
			  pattern);
		return;
	}
	n = host_list_dir(dir, &names);
	if (n < 0) {
		if (n != -ENOENT)
			unit_note(&c->notes, "%s: Include %s: %s: %s", where, pattern, dir, strerror(-n));
		return;
	}
	/* glob(3)'s order: sorted; no match is no error */
	for (int i = 0; i < n; i++) {
		char file[PATH_MAX], *text;
		size_t len;
		int r;

		if (fnmatch(glob, names[i], FNM_PERIOD) != 0)
			continue;
		if (snprintf(file, sizeof(file), "%s/%s", strcmp(dir, "/") ? dir : "", names[i]) >= (int)sizeof(file))
			continue;
		r = host_read_file(file, &text, &len, NULL, 0);
		if (r == -EISDIR)
			continue;
		if (r < 0) {
			unit_note(&c->notes, "%s: Include %s: cannot read %s: %s (sshd refuses to start)", where,
				  pattern, file, strerror(-r));
			continue;
		}
		parse_file(c, file, text, len);
		free(text);
	}
	host_list_free(names, n);
}

static void parse_line(struct sshd_config *c, const char *file, unsigned ln, char *line)
{
	char *words[64], where[320];
	size_t n;
	char *kw;

	/* "Keyword=value" as well as "Keyword value": one "=" after the
	 * keyword, with optional whitespace, separates */
	{
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		while (*p && *p != ' ' && *p != '\t' && *p != '=')
			p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '=')
			*p = ' ';
	}
	n = split_words(line, words, ARRAY_SIZE(words));
	if (!n)
		return;
	kw = words[0];
	snprintf(where, sizeof(where), "%s:%u", file, ln);
	if (strcasecmp(kw, "Match") == 0) {
		c->in_match = true;
	} else if (strcasecmp(kw, "Include") == 0) {
		bool in_match = c->in_match;

		if (n < 2)
			unit_note(&c->notes, "%s: Include without a file (sshd refuses to start)", where);
		if (c->depth >= SERVCONF_MAX_DEPTH) {
			unit_note(&c->notes, "%s: includes nested deeper than %d (a loop?): sshd refuses to start", where,
				  SERVCONF_MAX_DEPTH);
			return;
		}
		c->depth++;
		for (size_t i = 1; i < n; i++)
			do_include(c, where, words[i]);
		c->depth--;
		c->in_match = in_match;
	} else if (strcasecmp(kw, "Port") == 0) {
		int p;

		if (c->in_match) {
			unit_note(&c->notes, "%s: Port is not allowed within a Match block (sshd refuses to start)", where);
			return;
		}
		if (n < 2 || (p = a2port(words[1])) < 0) {
			unit_note(&c->notes, "%s: Port %s: badly formatted port number (sshd refuses to start)", where,
				  n < 2 ? "" : words[1]);
			return;
		}
		if (c->n_ports >= ARRAY_SIZE(c->ports)) {
			unit_note(&c->notes, "%s: too many ports (sshd refuses to start)", where);
			return;
		}
		c->ports[c->n_ports++] = (uint16_t)p;
	} else if (strcasecmp(kw, "ListenAddress") == 0) {
		if (c->in_match) {
			unit_note(&c->notes, "%s: ListenAddress is not allowed within a Match block (sshd refuses to start)",
				  where);
			return;
		}
		if (n < 2 || !*words[1]) {
			unit_note(&c->notes, "%s: ListenAddress without an address (sshd refuses to start)", where);
			return;
		}
		if (n > 2 && (strcmp(words[2], "rdomain") != 0 || n < 4))
			unit_note(&c->notes, "%s: bad ListenAddress syntax (sshd refuses to start)", where);
		queue_listen(c, where, words[1]);
	}
}

static int parse_file(struct sshd_config *c, const char *file, const char *text, size_t len)
{
	unsigned ln = 0;
	size_t pos = 0;

	if (memchr(text, '\0', len)) {
		unit_note(&c->notes, "%s: a NUL byte: not an sshd_config, not read", file);
		return -EINVAL;
	}
	while (pos < len) {
		size_t start = pos, n;
		char *buf;

		while (pos < len && text[pos] != '\n')
			pos++;
		n = pos - start;
		if (pos < len)
			pos++;
		ln++;
		buf = xmalloc(n + 1);
		memcpy(buf, text + start, n);
		buf[n] = '\0';
		while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\f'))
			buf[--n] = '\0';
		parse_line(c, file, ln, buf);
		free(buf);
	}
	return 0;
}

int sshd_config_parse(struct sshd_config *c, const char *file, const char *text, size_t len)
{
	return parse_file(c, file, text, len);
}

static void add_listen(struct sshd_config *c, const struct cg_addr *a, uint16_t port, const char *where,
		       const char *text)
{
	struct sshd_listen *l;

	grow_array((void **)&c->listen, &c->cap_listen, c->n_listen + 1, sizeof(*c->listen));
	l = &c->listen[c->n_listen++];
	memset(l, 0, sizeof(*l));
	if (a)
		l->addr = *a;
	else
		l->addr.family = AF_UNSPEC;
	l->port = port;
	snprintf(l->where, sizeof(l->where), "%s", where);
	snprintf(l->text, sizeof(l->text), "%s", text);
}

void sshd_config_finish(struct sshd_config *c)
{
	uint16_t deflt = 22;
	const uint16_t *ports = c->n_ports ? c->ports : &deflt;
	size_t n_ports = c->n_ports ? c->n_ports : 1;

	c->n_listen = 0;
	for (size_t i = 0; i < c->n_pending; i++) {
		const struct sshd_pending *q = &c->pending[i];
		if (q->addr.family == AF_UNSPEC)
			continue;   /* a host name: noted */
		if (q->port)
			add_listen(c, &q->addr, q->port, q->where, q->host);
		else
			for (size_t k = 0; k < n_ports; k++)
				add_listen(c, &q->addr, ports[k], q->where, q->host);
	}
	if (!c->n_pending)
		for (size_t k = 0; k < n_ports; k++)
			add_listen(c, NULL, ports[k], c->path, "");
}

int sshd_config_read(const char *path, struct sshd_config *c)
{
	char *text;
	size_t len;
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path ? path : SSHDIR "/sshd_config");
	r = host_read_file(c->path, &text, &len, NULL, 0);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		unit_note(&c->notes, "%s: cannot read: %s", c->path, strerror(-r));
		return r;
	}
	c->found = true;
	parse_file(c, c->path, text, len);
	free(text);
	sshd_config_finish(c);
	return 0;
}

void sshd_config_free(struct sshd_config *c)
{
	free(c->listen);
	free(c->pending);
	unit_notes_free(&c->notes);
	memset(c, 0, sizeof(*c));
}
