/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Policy files: sections in brackets, Key=Value lines, '#' or ';' comments,
 * as in systemd unit files. Lists are whitespace-separated; a key given twice
 * appends. Every error names the file and line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/policy.h"

/* Room for a [Service] of 100,000 IPv4 addresses (1.3 MB) or half as many
 * IPv6 ones; beyond, it is not a policy but some other file. */
#define POLICY_MAX_SIZE (4 * 1024 * 1024)

enum section { SEC_NONE, SEC_PROVIDER, SEC_OVERLAY, SEC_SERVICE };

struct parser {
	struct policy *p;
	const char *path;
	unsigned line;
	unsigned section_line;   /* where the current section started */
	enum section section;
	char *err;
	size_t errlen;
};

static int parse_error(struct parser *ps, const char *fmt, ...) _printf_(2, 3);
static int parse_error(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->path, ps->line);

	if (n >= 0 && (size_t)n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static char *strip(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Calls fn for each whitespace-separated word of value. */
static int for_each_word(struct parser *ps, char *value,
			 int (*fn)(struct parser *ps, const char *word, void *data), void *data)
{
	char *save = NULL;
	int r, n = 0;

	for (char *w = strtok_r(value, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		r = fn(ps, w, data);
		if (r < 0)
			return r;
		n++;
	}
	return n ? 0 : parse_error(ps, "empty value");
}

/* Appends one zeroed element to an array in the arena and returns the array
 * (moved or not). The capacity follows from the count: a power of two, so
 * an array of n elements is copied to a new place only when n reaches one
 * (1, 2, 4, ...): n appends copy fewer than 2n elements in all, and the
 * arrays left behind in the arena add up to less than the last one (a
 * [Service] of 100,000 addresses, or 10,000 services, in linear time and
 * memory). */
static void *append(struct arena *a, void *array, size_t *n, size_t size)
{
	if ((*n & (*n - 1)) == 0) {
		/* *n is 0 or a power of two: the array is full */
		size_t cap = *n ? 2 * *n : 1;
		void *na = arena_alloc(a, cap * size);
		if (*n)
			memcpy(na, array, *n * size);
		array = na;
	} else {
		/* zero already (arena_alloc()), as the old copy-on-append gave it */
		memset((char *)array + *n * size, 0, size);
	}
	(*n)++;
	return array;
}

static int add_prefix(struct parser *ps, const char *w, void *data)
{
	struct { struct cg_prefix **v; size_t *n; } *dst = data;
	struct cg_prefix pfx;

	if (prefix_parse(w, &pfx) < 0)
		return parse_error(ps, "'%s' is not an IP address or prefix", w);
	*dst->v = append(&ps->p->arena, *dst->v, dst->n, sizeof(pfx));
	(*dst->v)[*dst->n - 1] = pfx;
	return 0;
}

static int add_string(struct parser *ps, const char *w, void *data)
{
	struct { const char ***v; size_t *n; } *dst = data;

	*dst->v = append(&ps->p->arena, *dst->v, dst->n, sizeof(char *));
	(*dst->v)[*dst->n - 1] = arena_strdup(&ps->p->arena, w);
	return 0;
}

static int add_proto(struct parser *ps, const char *w, void *data)
{
	unsigned *protos = data;

	if (strcmp(w, "udp") == 0)
		*protos |= CG_PROTO_UDP;
	else if (strcmp(w, "tcp") == 0)
		*protos |= CG_PROTO_TCP;
	else
		return parse_error(ps, "unknown protocol '%s' (expected udp or tcp)", w);
	return 0;
}

static int parse_u32_value(struct parser *ps, const char *key, const char *v, uint32_t *out)
{
	char *end;

	if (!*v || *v == '-')
		return parse_error(ps, "%s: '%s' is not a number", key, v);
	errno = 0;
	unsigned long long n = strtoull(v, &end, 0);
	if (errno || *end || n > UINT32_MAX)
		return parse_error(ps, "%s: '%s' is not a 32-bit number", key, v);
	*out = (uint32_t)n;
	return 0;
}

static const char *single(struct parser *ps, const char *key, const char *old, char *value, int *r)
{
	if (old) {
		*r = parse_error(ps, "%s given twice in one section", key);
		return NULL;
	}
	if (!*value) {
		*r = parse_error(ps, "%s: empty value", key);
		return NULL;
	}
	*r = 0;
	return arena_strdup(&ps->p->arena, value);
}

#define SET_SINGLE(field)                                              \
	do {                                                           \
		int _r;                                                \
		const char *_v = single(ps, key, (field), value, &_r); \
		if (_r < 0)                                            \
			return _r;                                     \
		(field) = _v;                                          \
	} while (0)

static int provider_key(struct parser *ps, const char *key, char *value)
{
	static const char *const dmi_keys[_POLICY_DMI_MAX] = {
		[POLICY_DMI_SYS_VENDOR] = "MatchSysVendor",
		[POLICY_DMI_PRODUCT_NAME] = "MatchProductName",
		[POLICY_DMI_CHASSIS_ASSET_TAG] = "MatchChassisAssetTag",
	};
	struct policy *p = ps->p;

	if (strcmp(key, "Name") == 0) {
		SET_SINGLE(p->name);
		return 0;
	}
	if (strcmp(key, "Description") == 0) {
		SET_SINGLE(p->description);
		return 0;
	}
	for (int f = 0; f < _POLICY_DMI_MAX; f++)
		if (strcmp(key, dmi_keys[f]) == 0) {
			/* DMI strings contain spaces: one value per line. */
			if (!*value)
				return parse_error(ps, "%s: empty value", key);
			p->dmi_match[f] = append(&p->arena, p->dmi_match[f], &p->n_dmi_match[f],
						 sizeof(char *));
			p->dmi_match[f][p->n_dmi_match[f] - 1] = arena_strdup(&p->arena, value);
			return 0;
		}
	return parse_error(ps, "unknown key '%s' in [Provider]", key);
}

static int overlay_key(struct parser *ps, const char *key, char *value)
{
	struct policy_overlay *o = &ps->p->overlays[ps->p->n_overlays - 1];

	if (strcmp(key, "Name") == 0)
		SET_SINGLE(o->name);
	else if (strcmp(key, "Description") == 0)
		SET_SINGLE(o->description);
	else if (strcmp(key, "Interface") == 0)
		SET_SINGLE(o->interface);
	else if (strcmp(key, "Range") == 0) {
		struct { struct cg_prefix **v; size_t *n; } dst = { &o->ranges, &o->n_ranges };
		return for_each_word(ps, value, add_prefix, &dst);
	} else if (strcmp(key, "Chains") == 0) {
		struct { const char ***v; size_t *n; } dst = { &o->chains, &o->n_chains };
		return for_each_word(ps, value, add_string, &dst);
	} else if (strcmp(key, "RouteTable") == 0)
		return parse_u32_value(ps, key, value, &o->route_table);
	else if (strcmp(key, "FwmarkMask") == 0)
		return parse_u32_value(ps, key, value, &o->fwmark_mask);
	else if (strcmp(key, "BypassMark") == 0)
		return parse_u32_value(ps, key, value, &o->bypass_mark);
	else
		return parse_error(ps, "unknown key '%s' in [Overlay]", key);
	return 0;
}

static int service_key(struct parser *ps, const char *key, char *value)
{
	struct policy_service *s = &ps->p->services[ps->p->n_services - 1];

	if (strcmp(key, "Name") == 0)
		SET_SINGLE(s->name);
	else if (strcmp(key, "Description") == 0)
		SET_SINGLE(s->description);
	else if (strcmp(key, "Role") == 0)
		SET_SINGLE(s->role);
	else if (strcmp(key, "Interface") == 0)
		SET_SINGLE(s->interface);
	else if (strcmp(key, "Address") == 0) {
		struct { struct cg_prefix **v; size_t *n; } dst = { &s->addrs, &s->n_addrs };
		return for_each_word(ps, value, add_prefix, &dst);
	} else if (strcmp(key, "Protocol") == 0)
		return for_each_word(ps, value, add_proto, &s->protos);
	else if (strcmp(key, "Port") == 0) {
		uint32_t port;
		if (s->port || s->listener)
			return parse_error(ps, "Port given twice in one section");
		if (strcmp(value, "listener") == 0) {
			s->listener = true;
			return 0;
		}
		int r = parse_u32_value(ps, key, value, &port);
		if (r < 0)
			return r;
		if (port == 0 || port > 65535)
			return parse_error(ps, "Port: %u is not a port number (1-65535 or 'listener')", port);
		s->port = (uint16_t)port;
	} else if (strcmp(key, "Direction") == 0) {
		if (strcmp(value, "outbound") == 0)
			s->direction = POLICY_OUTBOUND;
		else if (strcmp(value, "inbound") == 0)
			s->direction = POLICY_INBOUND;
		else
			return parse_error(ps, "Direction: '%s' (expected outbound or inbound)", value);
	} else
		return parse_error(ps, "unknown key '%s' in [Service]", key);
	return 0;
}

/* Checks the section that just ended is complete. */
static int end_section(struct parser *ps)
{
	struct policy *p = ps->p;

	if (ps->section == SEC_SERVICE) {
		struct policy_service *s = &p->services[p->n_services - 1];
		unsigned saved = ps->line;
		ps->line = ps->section_line;
		int r = 0;
		if (!s->name)
			r = parse_error(ps, "[Service] without Name=");
		else if (!s->n_addrs)
			r = parse_error(ps, "[Service] %s without Address=", s->name);
		else if (!s->protos)
			r = parse_error(ps, "[Service] %s without Protocol=", s->name);
		else if (!s->port && !s->listener)
			r = parse_error(ps, "[Service] %s without Port=", s->name);
		else if (s->listener && s->direction != POLICY_INBOUND)
			r = parse_error(ps, "[Service] %s: Port=listener needs Direction=inbound", s->name);
		ps->line = saved;
		return r;
	}
	if (ps->section == SEC_OVERLAY) {
		struct policy_overlay *o = &p->overlays[p->n_overlays - 1];
		if (!o->name || !o->interface || !o->n_ranges) {
			ps->line = ps->section_line;
			return parse_error(ps, "[Overlay] needs Name=, Interface= and Range=");
		}
	}
	return 0;
}

static int start_section(struct parser *ps, const char *name)
{
	struct policy *p = ps->p;
	int r = end_section(ps);

	if (r < 0)
		return r;
	ps->section_line = ps->line;
	if (strcmp(name, "Provider") == 0) {
		if (p->is_provider)
			return parse_error(ps, "more than one [Provider] section");
		p->is_provider = true;
		ps->section = SEC_PROVIDER;
	} else if (strcmp(name, "Overlay") == 0) {
		p->overlays = append(&p->arena, p->overlays, &p->n_overlays, sizeof(*p->overlays));
		ps->section = SEC_OVERLAY;
	} else if (strcmp(name, "Service") == 0) {
		p->services = append(&p->arena, p->services, &p->n_services, sizeof(*p->services));
		p->services[p->n_services - 1].line = ps->line;
		ps->section = SEC_SERVICE;
	} else {
		return parse_error(ps, "unknown section [%s] (expected Provider, Overlay or Service)", name);
	}
	return 0;
}

static int parse_line(struct parser *ps, char *line)
{
	char *s = strip(line);

	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (!close || strip(close + 1)[0] != '\0')
			return parse_error(ps, "malformed section header '%s'", s);
		*close = '\0';
		return start_section(ps, s + 1);
	}
	char *eq = strchr(s, '=');
	if (!eq)
		return parse_error(ps, "expected Key=Value or [Section], got '%s'", s);
	*eq = '\0';
	char *key = strip(s), *value = strip(eq + 1);
	if (!*key)
		return parse_error(ps, "missing key before '='");
	switch (ps->section) {
	case SEC_PROVIDER:
		return provider_key(ps, key, value);
	case SEC_OVERLAY:
		return overlay_key(ps, key, value);
	case SEC_SERVICE:
		return service_key(ps, key, value);
	case SEC_NONE:
	default:
		return parse_error(ps, "'%s=' outside of a section", key);
	}
}

static const char *path_stem(struct arena *a, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	return arena_strndup(a, base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

int policy_parse(struct policy *p, const char *path, const char *text, size_t len,
		 char *err, size_t errlen)
{
	struct parser ps = { .p = p, .path = path, .err = err, .errlen = errlen };
	int r;

	*p = (struct policy){ 0 };
	if (errlen)
		err[0] = '\0';
	p->path = arena_strdup(&p->arena, path);
	if (memchr(text, '\0', len)) {
		ps.line = 1;
		for (const char *c = text; *c; c++)
			ps.line += *c == '\n';
		return parse_error(&ps, "NUL byte in policy file");
	}
	_cleanup_free_ char *buf = xmalloc(len + 1);
	memcpy(buf, text, len);
	buf[len] = '\0';

	char *save = buf;
	for (char *line = buf; line; line = save) {
		char *nl = strchr(line, '\n');
		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		else if (!*line)
			break; /* the empty remainder after a final newline is no line */
		ps.line++;
		r = parse_line(&ps, line);
		if (r < 0)
			return r;
	}
	r = end_section(&ps);
	if (r < 0)
		return r;
	if (!p->is_provider && !p->n_overlays)
		return parse_error(&ps, "no [Provider] or [Overlay] section");
	if (!p->name)
		p->name = p->n_overlays && !p->is_provider ? p->overlays[0].name : path_stem(&p->arena, path);
	return 0;
}

int policy_load_file(struct policy *p, const char *path, char *err, size_t errlen)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap;
	struct stat st;

	*p = (struct policy){ 0 };
	f = fopen(path, "re");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	/* A buffer of the file's size (one byte more, to see it end), grown
	 * as the reads go when the size is not known or was wrong, never
	 * beyond one byte over the limit: memory follows the file. */
	cap = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 ?
		(st.st_size < POLICY_MAX_SIZE ? (size_t)st.st_size : POLICY_MAX_SIZE) + 1 : 64 * 1024;
	buf = xmalloc(cap);
	for (;;) {
		n += fread(buf + n, 1, cap - n, f);
		if (ferror(f)) {
			snprintf(err, errlen, "%s: read error", path);
			return -EIO;
		}
		if (n < cap || cap == POLICY_MAX_SIZE + 1)
			break;
		cap = cap < (POLICY_MAX_SIZE + 1) / 2 ? 2 * cap : POLICY_MAX_SIZE + 1;
		buf = xrealloc(buf, cap);
	}
	if (n > POLICY_MAX_SIZE) {
		snprintf(err, errlen, "%s: larger than %d bytes, not a policy file", path, POLICY_MAX_SIZE);
		return -EFBIG;
	}
	return policy_parse(p, path, buf, n, err, errlen);
}

void policy_free(struct policy *p)
{
	arena_free(&p->arena);
	*p = (struct policy){ 0 };
}

bool policy_matches_dmi(const struct policy *p, enum policy_dmi_field f, const char *value)
{
	size_t n = strlen(value);

	while (n && isspace((unsigned char)value[n - 1]))
		n--;
	for (size_t i = 0; i < p->n_dmi_match[f]; i++)
		if (strlen(p->dmi_match[f][i]) == n && strncmp(p->dmi_match[f][i], value, n) == 0)
			return true;
	return false;
}
