/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unit-file syntax as systemd's config_parse() reads it (conf-parser.c),
 * unit names (unit-name.c) and socket addresses (socket_address_parse()):
 * only what deciding the boot needs, but each to systemd's rules, because a
 * unit that reads differently here than in systemd is a wrong prediction. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/units.h"
#include "units-internal.h"

#define LONG_LINE_MAX (1u << 20)    /* systemd's LONG_LINE_MAX */
#define UNIT_NAME_MAX 256

static const char *const type_names[_UNIT_TYPE_MAX] = {
	[UNIT_SERVICE] = "service", [UNIT_SOCKET] = "socket",   [UNIT_TARGET] = "target",
	[UNIT_DEVICE] = "device",   [UNIT_MOUNT] = "mount",     [UNIT_AUTOMOUNT] = "automount",
	[UNIT_SWAP] = "swap",       [UNIT_TIMER] = "timer",     [UNIT_PATH] = "path",
	[UNIT_SLICE] = "slice",     [UNIT_SCOPE] = "scope",
};

const char *unit_type_to_string(enum unit_type t)
{
	return t >= 0 && t < _UNIT_TYPE_MAX ? type_names[t] : "invalid";
}

static enum unit_type type_from_suffix(const char *s, size_t n)
{
	for (int t = 0; t < _UNIT_TYPE_MAX; t++)
		if (strlen(type_names[t]) == n && memcmp(type_names[t], s, n) == 0)
			return (enum unit_type)t;
	return UNIT_TYPE_INVALID;
}

enum unit_type unit_name_type(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	if (!dot)
		return UNIT_TYPE_INVALID;
	return type_from_suffix(dot + 1, strlen(dot + 1));
}

static bool valid_char(char c)
{
	/* VALID_CHARS of unit-name.c: alphanumerics, ":-_.\" */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == ':' || c == '-' || c == '_' || c == '.' || c == '\\';
}

bool unit_name_is_valid(const char *name, unsigned kinds)
{
	const char *dot, *at;
	size_t n;

	if (!name || !*name)
		return false;
	n = strlen(name);
	if (n >= UNIT_NAME_MAX)
		return false;
	dot = strrchr(name, '.');
	if (!dot || dot == name)
		return false;
	if (type_from_suffix(dot + 1, strlen(dot + 1)) == UNIT_TYPE_INVALID)
		return false;
	at = memchr(name, '@', (size_t)(dot - name));
	for (const char *p = name; p < dot; p++)
		if (!valid_char(*p) && !(*p == '@' && p == at))
			return false;
	if (!at)
		return kinds & UNIT_NAME_PLAIN;
	if (at == name)
		return false;
	if (at + 1 == dot)
		return kinds & UNIT_NAME_TEMPLATE;
	return kinds & UNIT_NAME_INSTANCE;
}

int unit_name_template(const char *name, char *out, size_t size)
{
	const char *at, *dot;

	if (!unit_name_is_valid(name, UNIT_NAME_INSTANCE | UNIT_NAME_TEMPLATE))
		return -EINVAL;
	at = strchr(name, '@');
	dot = strrchr(name, '.');
	if ((size_t)snprintf(out, size, "%.*s@%s", (int)(at - name), name, dot) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int unit_name_instantiate(const char *template, const char *instance, char *out, size_t size)
{
	const char *at, *dot;

	if (!unit_name_is_valid(template, UNIT_NAME_TEMPLATE) || !instance || !*instance)
		return -EINVAL;
	at = strchr(template, '@');
	dot = strrchr(template, '.');
	if ((size_t)snprintf(out, size, "%.*s@%s%s", (int)(at - template), template, instance, dot) >= size)
		return -ENAMETOOLONG;
	return unit_name_is_valid(out, UNIT_NAME_INSTANCE) ? 0 : -EINVAL;
}

int unit_name_escape(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = s; *p; p++) {
		char c = *p;
		char buf[5];
		const char *w = buf;

		if (c == '/')
			buf[0] = '-', buf[1] = '\0';
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == ':' || c == '_' || (c == '.' && p != s))
			buf[0] = c, buf[1] = '\0';
		else
			snprintf(buf, sizeof(buf), "\\x%02x", (unsigned char)c);
		if (n + strlen(w) >= size)
			return -ENAMETOOLONG;
		memcpy(out + n, w, strlen(w));
		n += strlen(w);
	}
	if (n >= size)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}

int unit_name_netdev(const char *ifname, char *out, size_t size)
{
	char esc[UNIT_NAME_MAX];

	/* unit_name_from_path("/sys/subsystem/net/devices/IF", ".device") */
	if (!ifname || !*ifname || strchr(ifname, '/'))
		return -EINVAL;
	if (unit_name_escape(ifname, esc, sizeof(esc)) < 0)
		return -ENAMETOOLONG;
	if ((size_t)snprintf(out, size, "sys-subsystem-net-devices-%s.device", esc) >= size)
		return -ENAMETOOLONG;
	return unit_name_is_valid(out, UNIT_NAME_PLAIN) ? 0 : -EINVAL;
}

int unit_parse_boolean(const char *v)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	if (!v)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	return -EINVAL;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int unit_listen_parse(const char *value, struct unit_listen_addr *out)
{
	char buf[256];
	const char *colon;

	memset(out, 0, sizeof(*out));
	out->addr.family = AF_UNSPEC;
	if (!value || !*value || strlen(value) >= sizeof(buf))
		return -EINVAL;
	if (value[0] == '/' || value[0] == '@') {
		out->family = LISTEN_UNIX;
		return 0;
	}
	if (strncmp(value, "vsock:", 6) == 0) {
		out->family = LISTEN_OTHER;
		return 0;
	}
	out->family = LISTEN_INET;
	if (value[0] == '[') {
		const char *close = strchr(value, ']');
		char *pct;
		size_t n;

		if (!close || close[1] != ':')
			return -EINVAL;
		n = (size_t)(close - value - 1);
		memcpy(buf, value + 1, n);
		buf[n] = '\0';
		pct = strchr(buf, '%');
		if (pct) {
			*pct = '\0';
			if (!pct[1] || strlen(pct + 1) >= IFNAMSIZ)
				return -EINVAL;
			strcpy(out->ifname, pct + 1);
		}
		if (inet_pton(AF_INET6, buf, &out->addr.v6) != 1)
			return -EINVAL;
		out->addr.family = AF_INET6;
		return parse_port(close + 2, &out->port);
	}
	colon = strchr(value, ':');
	if (colon) {
		size_t n = (size_t)(colon - value);

		memcpy(buf, value, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET, buf, &out->addr.v4) != 1)
			return -EINVAL;
		out->addr.family = AF_INET;
		return parse_port(colon + 1, &out->port);
	}
	/* a port alone: systemd binds [::]:PORT, both families */
	return parse_port(value, &out->port);
}

/* ---- the syntax ------------------------------------------------------- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char *strip(char *s)
{
	char *e;

	while (is_ws(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_ws(e[-1]))
		*--e = '\0';
	return s;
}

struct parse_state {
	const char *file;
	char *section;
	unit_assignment_fn fn;
	void *userdata;
	struct unit_notes *notes;
};

/* parse_line() of conf-parser.c; <0 fails the whole file as systemd does */
static int parse_line(struct parse_state *st, char *l, unsigned first, unsigned last)
{
	char *eq;

	l = strip(l);
	if (!*l)
		return 0;
	if (strncmp(l, ".include ", 9) == 0) {
		unit_note(st->notes, "%s:%u: .include is not supported by systemd any more: the file does not load",
			  st->file, first);
		return -EBADMSG;
	}
	if (*l == '[') {
		size_t k = strlen(l);

		if (l[k - 1] != ']') {
			unit_note(st->notes, "%s:%u: invalid section header '%s': systemd does not load the file",
				  st->file, first, l);
			return -EBADMSG;
		}
		free(st->section);
		st->section = xstrdup(l + 1);
		st->section[k - 2] = '\0';
		return 0;
	}
	if (!st->section) {
		unit_note(st->notes, "%s:%u: assignment outside of a section, ignored", st->file, first);
		return 0;
	}
	eq = strchr(l, '=');
	if (!eq) {
		unit_note(st->notes, "%s:%u: missing '=', line ignored", st->file, first);
		return 0;
	}
	if (eq == l) {
		unit_note(st->notes, "%s:%u: missing key name before '=', line ignored", st->file, first);
		return 0;
	}
	*eq = '\0';
	struct unit_assignment a = {
		.section = st->section,
		.key = strip(l),
		.value = strip(eq + 1),
		.line = first,
		.last_line = last,
	};
	st->fn(&a, st->userdata);
	return 0;
}

int unit_text_parse(const char *file, const char *text, size_t len, unit_assignment_fn fn,
		    void *userdata, struct unit_notes *notes)
{
	struct parse_state st = { .file = file, .fn = fn, .userdata = userdata, .notes = notes };
	char *cont = NULL;          /* a continued line so far */
	size_t cont_len = 0;
	unsigned line = 0, cont_first = 0;
	size_t pos = 0;
	int r = 0;

	if (memchr(text, '\0', len)) {
		unit_note(notes, "%s: a NUL byte: not a unit file", file);
		return -EINVAL;
	}
	/* a UTF-8 byte order mark is skipped */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		size_t start = pos, end, n;
		char *buf, *l;
		bool escaped = false;

		while (pos < len && text[pos] != '\n' && text[pos] != '\r')
			pos++;
		end = pos;
		/* "\r\n", "\n" and "\r" end a line */
		if (pos < len && text[pos] == '\r') {
			pos++;
			if (pos < len && text[pos] == '\n')
				pos++;
		} else if (pos < len) {
			pos++;
		}
		line++;
		n = end - start;
		if (n > LONG_LINE_MAX || cont_len + n > LONG_LINE_MAX) {
			unit_note(notes, "%s:%u: line longer than 1 MiB: systemd does not load the file", file, line);
			r = -ENOBUFS;
			goto out;
		}
		buf = xmalloc(n + 1);
		memcpy(buf, text + start, n);
		buf[n] = '\0';
		l = buf;
		while (is_ws(*l))
			l++;
		if (*l == '#' || *l == ';') {
			/* a comment, also one inside a continued line */
			free(buf);
			continue;
		}
		if (cont) {
			cont = xrealloc(cont, cont_len + n + 1);
			memcpy(cont + cont_len, buf, n + 1);
			cont_len += n;
			free(buf);
		} else {
			cont = buf;
			cont_len = n;
			cont_first = line;
		}
		for (size_t i = 0; i < cont_len; i++) {
			if (escaped)
				escaped = false;
			else if (cont[i] == '\\')
				escaped = true;
		}
		if (escaped) {
			/* the backslash becomes a space and the next line follows */
			cont[cont_len - 1] = ' ';
			continue;
		}
		r = parse_line(&st, cont, cont_first, line);
		free(cont);
		cont = NULL;
		cont_len = 0;
		if (r < 0)
			goto out;
	}
	if (cont)
		r = parse_line(&st, cont, cont_first, line);
out:
	free(cont);
	free(st.section);
	return r;
}

/* ---- words and specifiers ------------------------------------------------ */

char *unit_next_word(const char **pp)
{
	const char *p = *pp;
	char *w;
	size_t n = 0;

	while (is_ws(*p))
		p++;
	if (!*p) {
		*pp = p;
		return NULL;
	}
	w = xmalloc(strlen(p) + 1);
	while (*p && !is_ws(*p)) {
		/* EXTRACT_RETAIN_ESCAPE: the backslash stays, the next
		 * character (a space too) belongs to the word */
		if (*p == '\\' && p[1]) {
			w[n++] = *p++;
		}
		w[n++] = *p++;
	}
	w[n] = '\0';
	*pp = p;
	return w;
}

/* unit_name_unescape(): "\xNN" back to the byte, "-" back to "/" */
static void unescape_into(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 1 < size; s++) {
		if (*s == '-') {
			out[n++] = '/';
		} else if (s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
			   isxdigit((unsigned char)s[3])) {
			char hex[3] = { s[2], s[3], 0 };
			out[n++] = (char)strtol(hex, NULL, 16);
			s += 3;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

int unit_expand_specifiers(const struct unit_spec_ctx *c, const char *in, char **out)
{
	size_t cap = strlen(in) + 64, n = 0;
	char *o = xmalloc(cap);
	int r = 0;

	for (const char *p = in; *p; p++) {
		char tmp[UNIT_NAME_MAX * 2];
		const char *add;
		const char *dot = strrchr(c->id, '.');

		if (*p != '%') {
			tmp[0] = *p;
			tmp[1] = '\0';
			add = tmp;
		} else {
			p++;
			tmp[0] = '\0';
			add = tmp;
			switch (*p) {
			case '%':
				add = "%";
				break;
			case 'n':
				add = c->id;
				break;
			case 'N':
				snprintf(tmp, sizeof(tmp), "%.*s", dot ? (int)(dot - c->id) : (int)strlen(c->id), c->id);
				break;
			case 'p':
				add = c->prefix;
				break;
			case 'P':
				unescape_into(c->prefix, tmp, sizeof(tmp));
				break;
			case 'i':
				add = c->instance ? c->instance : "";
				break;
			case 'I':
				unescape_into(c->instance ? c->instance : "", tmp, sizeof(tmp));
				break;
			case 'j':
			case 'J': {
				const char *dash = strrchr(c->prefix, '-');
				const char *j = dash ? dash + 1 : c->prefix;
				if (*p == 'J')
					unescape_into(j, tmp, sizeof(tmp));
				else
					add = j;
				break;
			}
			case 'f':
				tmp[0] = '/';
				unescape_into(c->instance ? c->instance : c->prefix, tmp + 1, sizeof(tmp) - 1);
				break;
			/* the fixed directories of the system manager */
			case 't': add = "/run"; break;
			case 'T': add = "/tmp"; break;
			case 'V': add = "/var/tmp"; break;
			case 'S': add = "/var/lib"; break;
			case 'C': add = "/var/cache"; break;
			case 'L': add = "/var/log"; break;
			case 'E': add = "/etc"; break;
			case 'h': add = "/root"; break;
			case 's': add = "/bin/sh"; break;
			case 'u': case 'g': add = "root"; break;
			case 'U': case 'G': add = "0"; break;
			case 'a': case 'A': case 'b': case 'B': case 'd': case 'H': case 'l': case 'm':
			case 'M': case 'o': case 'q': case 'v': case 'w': case 'W': case 'y': case 'Y':
				/* the host's names and ids: unknown here, kept as written */
				snprintf(tmp, sizeof(tmp), "%%%c", *p);
				r = r ? r : -EOPNOTSUPP;
				break;
			default:
				free(o);
				*out = NULL;
				return -EBADMSG;
			}
		}
		size_t k = strlen(add);
		if (n + k + 1 > cap) {
			cap = (n + k + 1) * 2;
			o = xrealloc(o, cap);
		}
		memcpy(o + n, add, k);
		n += k;
	}
	o[n] = '\0';
	*out = o;
	return r;
}
