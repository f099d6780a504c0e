/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The formats discover_config() reads, as the programs that own them read
 * them: chrony's configuration (chrony's conf.c), systemd-timesyncd's
 * (systemd's conf-parser: later assignments add, an empty one resets),
 * cloud-init's instance data (JSON, json-c) and the metadata URLs of its
 * YAML configuration (only as far as metadata_urls lists need: anything
 * else is a note), apt's one-line and deb822 sources, /etc/hosts. Pure
 * functions over text: what a file points to is queued for the walker
 * (discover-config.c). Then dc_finish() turns what they collected into
 * entries in scope, resolving names with the resolver it is given. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cgnatcheck/common.h"
#include "discover-config-internal.h"

/* a longer line is skipped with a note (chrony's own limit is 2048) */
#define DC_LINE_MAX 4096

/* ---- the state ------------------------------------------------------------ */

void dc_state_init(struct dc_state *st, const struct discover_scope *scope, struct discovered_list *l)
{
	memset(st, 0, sizeof(*st));
	st->scope = scope;
	st->l = l;
	st->chrony_port = 123;
}

static void wants_free(struct dc_wants *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].host);
	free(w->v);
	memset(w, 0, sizeof(*w));
}

void dc_state_free(struct dc_state *st)
{
	wants_free(&st->wants);
	wants_free(&st->timesyncd_ntp);
	wants_free(&st->timesyncd_fallback);
	for (size_t i = 0; i < st->n_chrony_dirs; i++)
		free(st->chrony_dirs[i].arg);
	free(st->chrony_dirs);
	for (size_t i = 0; i < st->n_cloud; i++) {
		free(st->cloud[i].path);
		free(st->cloud[i].want.host);
	}
	free(st->cloud);
	for (size_t i = 0; i < st->n_hosts; i++)
		free(st->hosts[i].names);
	free(st->hosts);
	for (size_t i = 0; i < st->n_apt_proxies; i++) {
		free(st->apt_proxies[i].host);
		free(st->apt_proxies[i].value);
	}
	free(st->apt_proxies);
	memset(st, 0, sizeof(*st));
}

void dc_note(struct dc_state *st, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (st->n_notes > DC_MAX_NOTES)
		return;
	if (st->n_notes++ == DC_MAX_NOTES) {
		discovered_note(st->l, "further notes about the host's configuration files were left out "
				       "(more than %d)", DC_MAX_NOTES);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	discovered_note(st->l, "%s", buf);
}

/* s for a report: control characters and bytes beyond ASCII as '?', cut
 * at size - 1 */
static const char *printable(char *buf, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	if (s[i] && size > 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}

void dc_origin(char out[96], const char *name, unsigned line)
{
	char lb[16] = "", nb[512];
	size_t nl, ll;

	if (line)
		snprintf(lb, sizeof(lb), ":%u", line);
	printable(nb, sizeof(nb), name);
	nl = strlen(nb);
	ll = strlen(lb);
	if (nl + ll < 96) {
		memcpy(out, nb, nl);
		memcpy(out + nl, lb, ll + 1);
		return;
	}
	/* the file's own name and the line matter most: keep the tail */
	size_t keep = 95 - 3 - ll;
	memcpy(out, "...", 3);
	memcpy(out + 3, nb + nl - keep, keep);
	memcpy(out + 3 + keep, lb, ll + 1);
}

/* ---- lines and words ------------------------------------------------------- */

struct lines {
	const char *p, *end;
	unsigned no;
};

static void lines_init(struct lines *it, const char *text, size_t len)
{
	it->p = text;
	it->end = text + len;
	it->no = 0;
}

/* The next line, without its newline (and a CR before it); *terminated
 * when a newline ended it. */
static bool next_line(struct lines *it, const char **s, size_t *n, bool *terminated)
{
	const char *nl;

	if (it->p >= it->end)
		return false;
	nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	*s = it->p;
	*n = nl ? (size_t)(nl - it->p) : (size_t)(it->end - it->p);
	it->p = nl ? nl + 1 : it->end;
	if (terminated)
		*terminated = nl != NULL;
	it->no++;
	if (*n && (*s)[*n - 1] == '\r')
		(*n)--;
	return true;
}

/* the line NUL-terminated in buf (an embedded NUL ends it early); false
 * (after a note) when it is too long */
static bool line_copy(struct dc_state *st, char *buf, const char *s, size_t n, const char *name, unsigned no)
{
	char origin[96];

	if (n >= DC_LINE_MAX) {
		dc_origin(origin, name, no);
		dc_note(st, "%s: a line longer than %d characters, not read", origin, DC_LINE_MAX);
		return false;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

static char *skip_space(char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* the next whitespace-separated word of *p (NUL-terminated in place), or NULL */
static char *next_word(char **p)
{
	char *s = skip_space(*p), *e;

	if (!*s) {
		*p = s;
		return NULL;
	}
	for (e = s; *e && !isspace((unsigned char)*e); e++)
		;
	if (*e)
		*e++ = '\0';
	*p = e;
	return s;
}

static bool parse_port(const char *s, unsigned min, uint16_t *out)
{
	char *end;
	unsigned long v;

	if (!*s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* ---- what the files name ----------------------------------------------------- */

/* an address literal (brackets allowed around IPv6) */
static bool host_addr(const char *host, struct cg_addr *a)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		return addr_parse(buf, a) == 0;
	}
	return addr_parse(host, a) == 0;
}

/* what getaddrinfo() may be asked: letters, digits, '-', '_' and dots,
 * no empty label but a trailing dot */
static bool host_name_ok(const char *h)
{
	size_t n = strlen(h);

	if (!n || n > 253 || h[0] == '.' || h[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return false;
		if (c == '.' && h[i + 1] == '.')
			return false;
	}
	return true;
}

static size_t total_wants(const struct dc_state *st)
{
	return st->wants.n + st->timesyncd_ntp.n + st->timesyncd_fallback.n + st->n_cloud;
}

static bool want_fill(struct dc_state *st, struct dc_want *w, const char *host, const char *role,
		      unsigned protos, uint16_t port, uint8_t kind, const char *origin)
{
	struct cg_addr a;
	char pb[80];

	if (!host_addr(host, &a) && !host_name_ok(host)) {
		dc_note(st, "%s: \"%s\" is neither an address nor a host name: left out", origin,
			printable(pb, sizeof(pb), host));
		return false;
	}
	if (total_wants(st) >= DC_MAX_WANTS) {
		if (!st->wants_capped)
			dc_note(st, "%s: more than %d services named in the host's configuration files: the rest "
				    "are left out", origin, DC_MAX_WANTS);
		st->wants_capped = true;
		return false;
	}
	*w = (struct dc_want){ .host = xstrdup(host), .role = role, .protos = protos, .port = port, .kind = kind,
			       .client = st->client };
	snprintf(w->origin, sizeof(w->origin), "%s", origin);
	return true;
}

static void add_want(struct dc_state *st, struct dc_wants *list, const char *host, const char *role,
		     unsigned protos, uint16_t port, uint8_t kind, const char *origin)
{
	struct dc_want w;

	if (!want_fill(st, &w, host, role, protos, port, kind, origin))
		return;
	grow_array((void **)&list->v, &list->cap, list->n + 1, sizeof(*list->v));
	list->v[list->n++] = w;
}

int dc_url_parse(const char *url, char *host, size_t host_size, uint16_t *port)
{
	const char *p, *auth, *end, *at, *h, *he, *colon = NULL;
	size_t n;

	if (strncasecmp(url, "http://", 7) == 0) {
		*port = 80;
		p = url + 7;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		*port = 443;
		p = url + 8;
	} else {
		return -ENOENT;
	}
	auth = p;
	end = auth + strcspn(auth, "/?#");
	/* user information, if any, ends at the last '@' */
	at = NULL;
	for (const char *q = auth; q < end; q++)
		if (*q == '@')
			at = q;
	h = at ? at + 1 : auth;
	if (h < end && *h == '[') {
		he = memchr(h, ']', (size_t)(end - h));
		if (!he)
			return -EINVAL;
		if (he + 1 < end) {
			if (he[1] != ':')
				return -EINVAL;
			colon = he + 1;
		}
		h++;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		he = colon ? colon : end;
	}
	n = (size_t)(he - h);
	if (!n || n >= host_size)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	if (colon && colon + 1 < end) {
		char pb[8];
		size_t pn = (size_t)(end - colon - 1);
		if (pn >= sizeof(pb))
			return -EINVAL;
		memcpy(pb, colon + 1, pn);
		pb[pn] = '\0';
		if (!parse_port(pb, 1, port))
			return -EINVAL;
	}
	return 0;
}

/* a URL's service (metadata, mirror); other schemes (file:, cdrom:) are
 * not network services and say nothing */
static void add_url(struct dc_state *st, struct dc_wants *list, const char *url, const char *role,
		    uint8_t kind, const char *origin)
{
	char host[256], pb[96];
	uint16_t port;
	int r = dc_url_parse(url, host, sizeof(host), &port);

	if (r == -EINVAL)
		dc_note(st, "%s: cannot read the URL \"%s\": left out", origin, printable(pb, sizeof(pb), url));
	if (r < 0)
		return;
	if (kind == DC_APT_HTTP && strncasecmp(url, "https", 5) == 0)
		kind = DC_APT_HTTPS;
	add_want(st, list, host, role, CG_PROTO_TCP, port, kind, origin);
}

/* ---- chrony ----------------------------------------------------------------- */

/* chrony's source options that take a value (cmdparse.c), to step over it */
static bool chrony_option_has_value(const char *o)
{
	static const char *const with_value[] = {
		"asymmetry", "certset", "extfield", "filter", "key", "maxdelay", "maxdelaydevratio",
		"maxdelayquant", "maxdelayratio", "maxpoll", "maxsamples", "maxsources", "maxunreach",
		"mindelay", "minpoll", "minsamples", "minstratum", "ntsport", "offset", "polltarget",
		"port", "presend", "version",
	};
	for (size_t i = 0; i < ARRAY_SIZE(with_value); i++)
		if (strcasecmp(o, with_value[i]) == 0)
			return true;
	return false;
}

/* server/pool/peer HOST [OPTIONS] (p: after the directive) */
static void chrony_source(struct dc_state *st, const char *cmd, char *p, const char *origin, bool quiet)
{
	bool peer = strcasecmp(cmd, "peer") == 0, nts = false;
	char *host = next_word(&p), *o;
	uint16_t port = 123, ntsport = 4460;
	char ob[64];

	if (!host) {
		if (!quiet)
			dc_note(st, "%s: %s without a host: chronyd refuses this line", origin, cmd);
		return;
	}
	while ((o = next_word(&p))) {
		if (strcasecmp(o, "nts") == 0) {
			nts = true;
		} else if (chrony_option_has_value(o)) {
			char *v = next_word(&p);
			uint16_t *dst = strcasecmp(o, "port") == 0 ? &port : strcasecmp(o, "ntsport") == 0 ? &ntsport : NULL;
			if (!v || (dst && !parse_port(v, 0, dst))) {
				if (!quiet)
					dc_note(st, "%s: %s without a valid value: chronyd refuses this line", origin,
						printable(ob, sizeof(ob), o));
				return;
			}
		}
		/* flags (iburst, prefer, ...) and options chronyd does not know
		 * (it refuses those: the audit still checks the server) */
	}
	if (port)
		add_want(st, &st->wants, host, "ntp", CG_PROTO_UDP, port,
			 peer ? DC_CHRONY_PEER : DC_CHRONY_SERVER, origin);
	/* NTS: the key exchange first (TLS over tcp), then NTP to the server
	 * it names (usually the same) */
	if (nts && ntsport)
		add_want(st, &st->wants, host, "ntp", CG_PROTO_TCP, ntsport, DC_PLAIN, origin);
}

static bool chrony_is_source(const char *cmd)
{
	return strcasecmp(cmd, "server") == 0 || strcasecmp(cmd, "pool") == 0 || strcasecmp(cmd, "peer") == 0;
}

static void chrony_file(struct dc_state *st, const char *name, const char *text, size_t len, unsigned depth,
			bool sources_only)
{
	struct lines it;
	const char *s;
	size_t n;
	bool terminated;
	char buf[DC_LINE_MAX], origin[96];

	lines_init(&it, text, len);
	while (next_line(&it, &s, &n, &terminated)) {
		/* chronyd reads a sources file's terminated lines only */
		if (sources_only && !terminated)
			break;
		if (!line_copy(st, buf, s, n, name, it.no))
			continue;
		char *p = buf, *cmd = next_word(&p);
		if (!cmd || strchr("!;#%", cmd[0]))
			continue;
		dc_origin(origin, name, it.no);
		if (chrony_is_source(cmd)) {
			chrony_source(st, cmd, p, origin, sources_only);
			continue;
		}
		if (sources_only)
			continue;
		if (strcasecmp(cmd, "include") == 0 || strcasecmp(cmd, "confdir") == 0 ||
		    strcasecmp(cmd, "sourcedir") == 0) {
			p = skip_space(p);
			rstrip(p);
			if (!*p) {
				dc_note(st, "%s: %s without an argument", origin, cmd);
				continue;
			}
			grow_array((void **)&st->chrony_dirs, &st->cap_chrony_dirs, st->n_chrony_dirs + 1,
				   sizeof(*st->chrony_dirs));
			struct dc_chrony_dir *d = &st->chrony_dirs[st->n_chrony_dirs++];
			d->type = strcasecmp(cmd, "include") == 0   ? DC_CHRONY_INCLUDE
				  : strcasecmp(cmd, "confdir") == 0 ? DC_CHRONY_CONFDIR
								    : DC_CHRONY_SOURCEDIR;
			d->arg = xstrdup(p);
			d->depth = depth;
			snprintf(d->origin, sizeof(d->origin), "%s", origin);
		} else if (strcasecmp(cmd, "port") == 0 || strcasecmp(cmd, "acquisitionport") == 0) {
			char *v = next_word(&p);
			uint16_t port;
			if (!v || !parse_port(v, 0, &port)) {
				dc_note(st, "%s: %s without a valid port", origin, cmd);
				continue;
			}
			*(strcasecmp(cmd, "port") == 0 ? &st->chrony_port : &st->chrony_acqport) = port;
		} else if (strcasecmp(cmd, "initstepslew") == 0) {
			/* initstepslew THRESHOLD HOST...: asked once at start */
			char *h;
			(void)next_word(&p);
			while ((h = next_word(&p)))
				add_want(st, &st->wants, h, "ntp", CG_PROTO_UDP, 123, DC_CHRONY_SERVER, origin);
		}
	}
}

/* chronyd asks them (what add_want() records while chrony's and
 * timesyncd's files are read) */
void dc_parse_chrony(struct dc_state *st, const char *name, const char *text, size_t len, unsigned depth)
{
	st->client = HOST_CLIENT_CHRONY;
	chrony_file(st, name, text, len, depth, false);
	st->client = HOST_CLIENT_UNKNOWN;
}

void dc_parse_chrony_sources(struct dc_state *st, const char *name, const char *text, size_t len)
{
	st->client = HOST_CLIENT_CHRONY;
	chrony_file(st, name, text, len, 0, true);
	st->client = HOST_CLIENT_UNKNOWN;
}

/* ---- systemd-timesyncd ----------------------------------------------------------- */

static void timesyncd_assign(struct dc_state *st, struct dc_wants *list, char *value, const char *origin)
{
	char *w;

	/* an empty assignment forgets what came before */
	if (!*value) {
		wants_free(list);
		return;
	}
	while ((w = next_word(&value)))
		add_want(st, list, w, "ntp", CG_PROTO_UDP, 123, DC_PLAIN, origin);
}

static void timesyncd_file(struct dc_state *st, const char *name, const char *text, size_t len);

void dc_parse_timesyncd(struct dc_state *st, const char *name, const char *text, size_t len)
{
	st->client = HOST_CLIENT_TIMESYNCD;
	timesyncd_file(st, name, text, len);
	st->client = HOST_CLIENT_UNKNOWN;
}

static void timesyncd_file(struct dc_state *st, const char *name, const char *text, size_t len)
{
	struct lines it;
	const char *s;
	size_t n;
	char buf[DC_LINE_MAX], origin[96];
	bool in_time = false;
	size_t used = 0;          /* a continued line's length so far */
	unsigned first = 0;       /* its first line */

	lines_init(&it, text, len);
	while (next_line(&it, &s, &n, NULL)) {
		if (!used) {
			first = it.no;
			/* a comment does not continue */
			size_t k = 0;
			while (k < n && isspace((unsigned char)s[k]))
				k++;
			if (k < n && (s[k] == '#' || s[k] == ';'))
				continue;
		}
		if (used + n >= sizeof(buf)) {
			dc_origin(origin, name, first);
			dc_note(st, "%s: a line longer than %d characters, not read", origin, DC_LINE_MAX);
			used = 0;
			continue;
		}
		memcpy(buf + used, s, n);
		used += n;
		buf[used] = '\0';
		/* a trailing backslash continues the line (as a space) */
		if (used && buf[used - 1] == '\\') {
			buf[used - 1] = ' ';
			continue;
		}
		used = 0;
		char *l = skip_space(buf);
		rstrip(l);
		if (!*l)
			continue;
		dc_origin(origin, name, first);
		if (*l == '[') {
			size_t ln = strlen(l);
			in_time = ln >= 2 && l[ln - 1] == ']' && strcmp(l, "[Time]") == 0;
			continue;
		}
		char *eq = strchr(l, '=');
		if (!eq)
			continue;
		*eq = '\0';
		rstrip(l);
		char *value = skip_space(eq + 1);
		if (!in_time)
			continue;
		if (strcmp(l, "NTP") == 0)
			timesyncd_assign(st, &st->timesyncd_ntp, value, origin);
		else if (strcmp(l, "FallbackNTP") == 0)
			timesyncd_assign(st, &st->timesyncd_fallback, value, origin);
	}
}

/* ---- cloud-init ---------------------------------------------------------------- */

static void cloud_add(struct dc_state *st, const char *path, const char *url, const char *origin)
{
	struct dc_want w;
	char host[256], pb[96];
	uint16_t port;
	int r;

	/* the key was set here, even to nothing: a marker without a host */
	if (!url) {
		memset(&w, 0, sizeof(w));
	} else {
		r = dc_url_parse(url, host, sizeof(host), &port);
		if (r == -EINVAL)
			dc_note(st, "%s: cannot read the metadata URL \"%s\": left out", origin,
				printable(pb, sizeof(pb), url));
		if (r < 0 || !want_fill(st, &w, host, "metadata", CG_PROTO_TCP, port, DC_PLAIN, origin))
			return;
	}
	grow_array((void **)&st->cloud, &st->cap_cloud, st->n_cloud + 1, sizeof(*st->cloud));
	st->cloud[st->n_cloud] = (struct dc_cloud_url){ .path = xstrdup(path), .file_seq = st->cloud_seq,
							.order = st->n_cloud, .want = w };
	st->n_cloud++;
}

/* "metadata (http://100.100.100.200)": the URLs between the parentheses */
static void cloud_subplatform(struct dc_state *st, const char *sub, const char *origin)
{
	const char *open = strchr(sub, '('), *close = strrchr(sub, ')');
	char *inner, *p, *w;

	if (!open || !close || close < open)
		return;
	inner = strndup(open + 1, (size_t)(close - open - 1));
	if (!inner)
		abort();
	for (p = inner; (w = strsep(&p, ", \t"));)
		if (strncasecmp(w, "http://", 7) == 0 || strncasecmp(w, "https://", 8) == 0)
			add_url(st, &st->wants, w, "metadata", DC_PLAIN, origin);
	free(inner);
}

/* merged_system_cfg.datasource.*.metadata_url(s), where the file has them
 * (the world-readable instance data redacts it since cloud-init 22) */
static void cloud_merged_cfg(struct dc_state *st, struct json_object *cfg, const char *origin)
{
	struct json_object *ds, *v;

	if (!json_object_is_type(cfg, json_type_object) || !json_object_object_get_ex(cfg, "datasource", &ds) ||
	    !json_object_is_type(ds, json_type_object))
		return;
	json_object_object_foreach(ds, dsname, dscfg) {
		(void)dsname;
		if (!json_object_is_type(dscfg, json_type_object))
			continue;
		if (json_object_object_get_ex(dscfg, "metadata_urls", &v)) {
			if (json_object_is_type(v, json_type_array)) {
				size_t n = json_object_array_length(v);
				for (size_t i = 0; i < n; i++) {
					struct json_object *u = json_object_array_get_idx(v, i);
					if (json_object_is_type(u, json_type_string))
						add_url(st, &st->wants, json_object_get_string(u), "metadata", DC_PLAIN, origin);
				}
			} else if (json_object_is_type(v, json_type_string)) {
				add_url(st, &st->wants, json_object_get_string(v), "metadata", DC_PLAIN, origin);
			}
		}
		if (json_object_object_get_ex(dscfg, "metadata_url", &v) && json_object_is_type(v, json_type_string))
			add_url(st, &st->wants, json_object_get_string(v), "metadata", DC_PLAIN, origin);
	}
}

void dc_parse_cloud_instance_data(struct dc_state *st, const char *name, const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *v1, *v;
	char origin[96];

	if (!tok)
		abort();
	dc_origin(origin, name, 0);
	root = len > (size_t)INT32_MAX ? NULL : json_tokener_parse_ex(tok, text, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);
		dc_note(st, "%s: not valid JSON (%s): cloud-init's metadata service is not read from it", origin,
			e == json_tokener_continue ? "it ends early" : json_tokener_error_desc(e));
		json_object_put(root);
		json_tokener_free(tok);
		return;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(root, json_type_object)) {
		dc_note(st, "%s: not a JSON object: cloud-init's metadata service is not read from it", origin);
		json_object_put(root);
		return;
	}
	/* v1.subplatform: where cloud-init read its metadata from */
	if (json_object_object_get_ex(root, "v1", &v1) && json_object_is_type(v1, json_type_object) &&
	    json_object_object_get_ex(v1, "subplatform", &v) && json_object_is_type(v, json_type_string))
		cloud_subplatform(st, json_object_get_string(v), origin);
	if (json_object_object_get_ex(root, "merged_system_cfg", &v))
		cloud_merged_cfg(st, v, origin);
	if (json_object_object_get_ex(root, "merged_cfg", &v))
		cloud_merged_cfg(st, v, origin);
	json_object_put(root);
}

/* The YAML reader: block mappings by indentation (for the key's path),
 * metadata_urls/metadata_url as a flow sequence ([a, "b"], over several
 * lines too), a block sequence (- a) or a plain or quoted scalar, also
 * inside a flow mapping ({AliYun: {metadata_urls: [...]}}). Aliases,
 * block scalars and tags it does not follow: a note says so. */

#define YAML_DEPTH 16
#define YAML_PATH 256

struct yaml {
	struct dc_state *st;
	const char *name;
	unsigned no;                        /* the current line */
	unsigned indent[YAML_DEPTH];        /* the block mapping keys above */
	char key[YAML_DEPTH][64];
	size_t depth;
	/* a block sequence being read: the key's indentation, path */
	bool block;
	unsigned block_indent;
	char path[YAML_PATH];
	/* a flow sequence being read (possibly over several lines) */
	bool flow;
	char quote;                         /* inside '...' or "..." */
	bool quoted;                        /* the item was quoted */
	bool escape;
	char item[512];
	size_t item_len;
	unsigned item_line;
};

static void yaml_path(struct yaml *y, const char *extra, char *out)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < y->depth && n < YAML_PATH; i++)
		n += (size_t)snprintf(out + n, YAML_PATH - n, "%s/", y->key[i]);
	if (n < YAML_PATH)
		snprintf(out + n, YAML_PATH - n, "%s", extra);
}

static void yaml_url(struct yaml *y, const char *url, unsigned line)
{
	char origin[96];

	dc_origin(origin, y->name, line);
	if (!*url)
		return;
	cloud_add(y->st, y->path, url, origin);
}

/* a scalar (plain, '...' or "..."), in place; false when it is something
 * this reader does not follow (alias, block scalar, tag) */
static bool yaml_scalar(struct yaml *y, char *s, char **out)
{
	char origin[96], pb[64];
	size_t n;

	s = skip_space(s);
	rstrip(s);
	dc_origin(origin, y->name, y->no);
	/* an anchor names the value; the value follows */
	if (*s == '&') {
		while (*s && !isspace((unsigned char)*s))
			s++;
		s = skip_space(s);
	}
	if (*s == '*' || *s == '|' || *s == '>' || *s == '!') {
		dc_note(y->st, "%s: a metadata URL given as YAML this reader does not follow (\"%s\"): check that "
			       "file by hand", origin, printable(pb, sizeof(pb), s));
		return false;
	}
	n = strlen(s);
	if (n && (*s == '\'' || *s == '"')) {
		char q = *s, *r = s + 1, *w = s;
		for (; *r; r++) {
			if (q == '\'' && r[0] == '\'' && r[1] == '\'') {
				*w++ = '\'';
				r++;
			} else if (q == '"' && r[0] == '\\' && r[1]) {
				*w++ = *++r;
			} else if (*r == q) {
				break;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		*out = s;
		return true;
	}
	/* a plain scalar ends at a comment */
	for (char *c = s; *c; c++)
		if (*c == '#' && c > s && isspace((unsigned char)c[-1])) {
			*c = '\0';
			rstrip(s);
			break;
		}
	*out = s;
	return true;
}

static void yaml_flow_item_end(struct yaml *y)
{
	char *s = y->item, *v;

	y->item[y->item_len] = '\0';
	if (y->quoted) {
		yaml_url(y, s, y->item_line);
	} else {
		s = skip_space(s);
		rstrip(s);
		if (*s && yaml_scalar(y, s, &v))
			yaml_url(y, v, y->item_line);
	}
	y->item_len = 0;
	y->quoted = false;
	y->item_line = 0;
}

/* reads a flow sequence's characters from s (after the '['); the
 * sequence may go on on the next line */
static void yaml_flow(struct yaml *y, const char *s)
{
	const char *start = s;

	for (; *s; s++) {
		char c = *s;
		if (y->quote) {
			if (y->escape) {
				y->escape = false;
			} else if (y->quote == '"' && c == '\\') {
				y->escape = true;
				continue;
			} else if (c == y->quote) {
				/* '' inside single quotes is a quote */
				if (c == '\'' && s[1] == '\'') {
					s++;
				} else {
					y->quote = 0;
					continue;
				}
			}
			if (y->item_len + 1 < sizeof(y->item))
				y->item[y->item_len++] = c;
			continue;
		}
		if (c == '#' && (s == start || isspace((unsigned char)s[-1]) || y->item_len == 0))
			return; /* a comment: the rest of the line */
		if (c == ',' || c == ']') {
			yaml_flow_item_end(y);
			if (c == ']') {
				y->flow = false;
				return;
			}
			continue;
		}
		if ((c == '\'' || c == '"') && y->item_len == 0) {
			y->quote = c;
			y->quoted = true;
			y->item_line = y->no;
			continue;
		}
		if (c == '[' || c == '{') {
			char origin[96];
			dc_origin(origin, y->name, y->no);
			dc_note(y->st, "%s: metadata URLs in a nested YAML collection this reader does not follow: check "
				       "that file by hand", origin);
			y->flow = false;
			return;
		}
		if (y->quoted)
			continue; /* after the closing quote */
		if (y->item_len == 0) {
			if (isspace((unsigned char)c))
				continue;
			y->item_line = y->no;
		}
		if (y->item_len + 1 < sizeof(y->item))
			y->item[y->item_len++] = c;
	}
	/* a line break inside an item is a space */
	if (y->item_len && !y->quote && y->item_len + 1 < sizeof(y->item))
		y->item[y->item_len++] = ' ';
}

static void yaml_flow_start(struct yaml *y, const char *s)
{
	y->flow = true;
	y->quote = 0;
	y->quoted = false;
	y->escape = false;
	y->item_len = 0;
	y->item_line = 0;
	/* the key is set here, even to an empty list */
	cloud_add(y->st, y->path, NULL, "");
	yaml_flow(y, s);
}

/* the value after "metadata_urls:" / "metadata_url:" */
static void yaml_value(struct yaml *y, char *v, unsigned key_indent)
{
	char *s;

	v = skip_space(v);
	if (*v == '#' || !*v) {
		/* a block sequence follows (or nothing) */
		y->block = true;
		y->block_indent = key_indent;
		cloud_add(y->st, y->path, NULL, "");
		return;
	}
	if (*v == '&') {
		while (*v && !isspace((unsigned char)*v))
			v++;
		yaml_value(y, v, key_indent);
		return;
	}
	if (*v == '[') {
		yaml_flow_start(y, v + 1);
		return;
	}
	/* one URL (inside a flow mapping it ends at ',' or '}') */
	cloud_add(y->st, y->path, NULL, "");
	if (*v != '\'' && *v != '"')
		v[strcspn(v, ",}")] = '\0';
	if (yaml_scalar(y, v, &s))
		yaml_url(y, s, y->no);
}

/* where "metadata_url" or "metadata_urls" stands as a key in s: the value
 * after its ':', else NULL */
static char *yaml_find_key(char *s, char **key_start)
{
	for (char *p = strstr(s, "metadata_url"); p; p = strstr(p + 1, "metadata_url")) {
		char *e = p + 12;
		if (p > s && !strchr(" \t{,'\"", p[-1]))
			continue;
		if (*e == 's')
			e++;
		if (*e == '\'' || *e == '"')
			e++;
		e = skip_space(e);
		if (*e != ':' || (e[1] && !isspace((unsigned char)e[1]) && e[1] != '[' && e[1] != '"' && e[1] != '\''))
			continue;
		*key_start = p;
		return e + 1;
	}
	return NULL;
}

static void yaml_line(struct yaml *y, char *line)
{
	unsigned indent = 0;
	char *s = line, *k, *colon, *key_start;

	while (*s == ' ' || *s == '\t') {
		s++;
		indent++;
	}
	rstrip(s);
	if (y->flow) {
		yaml_flow(y, s);
		return;
	}
	if (!*s || *s == '#')
		return;
	if (y->block) {
		if (indent >= y->block_indent && s[0] == '-' && (!s[1] || isspace((unsigned char)s[1]))) {
			char *v;
			if (yaml_scalar(y, s + 1, &v))
				yaml_url(y, v, y->no);
			return;
		}
		y->block = false;
	}
	if (strncmp(s, "---", 3) == 0 || strncmp(s, "...", 3) == 0) {
		y->depth = 0;
		return;
	}
	/* leave the keys this line is not below */
	while (y->depth && y->indent[y->depth - 1] >= indent)
		y->depth--;
	/* a block mapping key: a plain or quoted word, then ':' */
	k = s;
	if (*k == '"' || *k == '\'') {
		char *q = strchr(k + 1, *k);
		colon = q && q[1] == ':' ? q + 1 : NULL;
	} else if (*k != '-' && *k != '[' && *k != '{') {
		colon = k;
		while ((colon = strchr(colon, ':')) && colon[1] && !isspace((unsigned char)colon[1]))
			colon++;
	} else {
		colon = NULL;
	}
	if (colon) {
		char key[64];
		size_t kn = (size_t)(colon - k);
		if (*k == '"' || *k == '\'') {
			k++;
			kn -= 2;
		}
		snprintf(key, sizeof(key), "%.*s", (int)kn, k);
		if (strcmp(key, "metadata_urls") == 0 || strcmp(key, "metadata_url") == 0) {
			yaml_path(y, key, y->path);
			yaml_value(y, colon + 1, indent);
			return;
		}
		if (y->depth < YAML_DEPTH) {
			y->indent[y->depth] = indent;
			snprintf(y->key[y->depth], sizeof(y->key[0]), "%s", key);
			y->depth++;
		}
		s = colon + 1;
	}
	/* inside a flow mapping: {AliYun: {metadata_urls: [...]}} */
	char *v = yaml_find_key(s, &key_start);
	if (v) {
		char flow[YAML_PATH];
		size_t fn = 0;
		/* the flow keys before it, spaces and braces left out */
		for (char *p = s; p < key_start && fn + 1 < sizeof(flow); p++)
			if (!isspace((unsigned char)*p) && *p != '{' && *p != '"' && *p != '\'')
				flow[fn++] = *p == ':' ? '/' : *p;
		flow[fn] = '\0';
		char extra[YAML_PATH + 16];
		snprintf(extra, sizeof(extra), "%s%s", flow, key_start[12] == 's' ? "metadata_urls" : "metadata_url");
		yaml_path(y, extra, y->path);
		yaml_value(y, v, indent);
		/* a flow value's end on this line is read; a block one cannot
		 * follow a flow mapping */
		y->block = false;
	}
}

void dc_parse_cloud_cfg(struct dc_state *st, const char *name, const char *text, size_t len)
{
	struct yaml *y = xcalloc(1, sizeof(*y));
	struct lines it;
	const char *s;
	size_t n;
	char buf[DC_LINE_MAX];

	y->st = st;
	y->name = name;
	st->cloud_seq++;
	lines_init(&it, text, len);
	while (next_line(&it, &s, &n, NULL)) {
		y->no = it.no;
		if (!line_copy(st, buf, s, n, name, it.no))
			continue;
		yaml_line(y, buf);
	}
	if (y->flow) {
		char origin[96];
		dc_origin(origin, name, it.no);
		dc_note(st, "%s: a list of metadata URLs that does not end (no ']')", origin);
	}
	free(y);
}

/* ---- apt --------------------------------------------------------------------- */

static void apt_uri(struct dc_state *st, const char *uri, const char *origin)
{
	char pb[96];

	if (strncasecmp(uri, "mirror+", 7) == 0) {
		/* apt's mirror method: the list's host, then mirrors it names */
		if (strncasecmp(uri + 7, "http", 4) == 0)
			add_url(st, &st->wants, uri + 7, "mirror", DC_APT_HTTP, origin);
		dc_note(st, "%s: \"%s\" is a mirror list: the mirrors it names are not checked", origin,
			printable(pb, sizeof(pb), uri));
		return;
	}
	if (strncasecmp(uri, "tor+", 4) == 0)
		return; /* through Tor: not a direct connection */
	add_url(st, &st->wants, uri, "mirror", DC_APT_HTTP, origin);
}

void dc_parse_apt_list(struct dc_state *st, const char *name, const char *text, size_t len)
{
	struct lines it;
	const char *s;
	size_t n;
	char buf[DC_LINE_MAX], origin[96], pb[64];

	lines_init(&it, text, len);
	while (next_line(&it, &s, &n, NULL)) {
		if (!line_copy(st, buf, s, n, name, it.no))
			continue;
		buf[strcspn(buf, "#")] = '\0';
		char *p = buf, *type = next_word(&p), *uri;
		if (!type)
			continue;
		dc_origin(origin, name, it.no);
		if (strcmp(type, "deb") != 0 && strcmp(type, "deb-src") != 0) {
			dc_note(st, "%s: \"%s\" is not an apt source type (deb, deb-src): apt refuses this line",
				origin, printable(pb, sizeof(pb), type));
			continue;
		}
		p = skip_space(p);
		/* [ option=value ... ] */
		if (*p == '[') {
			char *close = strchr(p, ']');
			if (!close) {
				dc_note(st, "%s: options without their closing ']': apt refuses this line", origin);
				continue;
			}
			p = close + 1;
		}
		uri = next_word(&p);
		if (!uri) {
			dc_note(st, "%s: a source without a URI: apt refuses this line", origin);
			continue;
		}
		apt_uri(st, uri, origin);
	}
}

/* apt's StringToBool() false words: the paragraph is off */
static bool apt_false(const char *v)
{
	static const char *const no[] = { "no", "false", "without", "off", "disable", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (strcasecmp(v, no[i]) == 0)
			return true;
	return false;
}

struct deb822_uri {
	char *uri;
	unsigned line;
};

struct deb822_para {
	unsigned first;
	bool types_seen, deb, disabled, uris_seen;
	struct deb822_uri *uris;
	size_t n_uris, cap_uris;
};

static void deb822_end(struct dc_state *st, const char *name, struct deb822_para *para)
{
	char origin[96];

	if (para->uris_seen && !para->disabled) {
		if (!para->types_seen || !para->deb) {
			dc_origin(origin, name, para->first);
			dc_note(st, "%s: a source without a deb or deb-src type: apt %s it", origin,
				para->types_seen ? "skips" : "refuses");
		} else {
			for (size_t i = 0; i < para->n_uris; i++) {
				dc_origin(origin, name, para->uris[i].line);
				apt_uri(st, para->uris[i].uri, origin);
			}
		}
	}
	for (size_t i = 0; i < para->n_uris; i++)
		free(para->uris[i].uri);
	free(para->uris);
	memset(para, 0, sizeof(*para));
}

enum deb822_field { F_OTHER, F_TYPES, F_URIS, F_ENABLED };

static void deb822_value(struct deb822_para *para, enum deb822_field f, char *v, unsigned line)
{
	char *w;

	switch (f) {
	case F_TYPES:
		para->types_seen = true;
		while ((w = next_word(&v)))
			if (strcmp(w, "deb") == 0 || strcmp(w, "deb-src") == 0)
				para->deb = true;
		break;
	case F_URIS:
		para->uris_seen = true;
		while ((w = next_word(&v))) {
			if (para->n_uris >= 64)
				break;
			grow_array((void **)&para->uris, &para->cap_uris, para->n_uris + 1, sizeof(*para->uris));
			para->uris[para->n_uris++] = (struct deb822_uri){ .uri = xstrdup(w), .line = line };
		}
		break;
	case F_ENABLED:
		v = skip_space(v);
		rstrip(v);
		if (apt_false(v))
			para->disabled = true;
		break;
	case F_OTHER:
		break;
	}
}

void dc_parse_apt_sources(struct dc_state *st, const char *name, const char *text, size_t len)
{
	struct lines it;
	const char *s;
	size_t n;
	char buf[DC_LINE_MAX];
	struct deb822_para para = { 0 };
	enum deb822_field field = F_OTHER;

	lines_init(&it, text, len);
	while (next_line(&it, &s, &n, NULL)) {
		if (!line_copy(st, buf, s, n, name, it.no))
			continue;
		if (buf[0] == '#')
			continue;
		char *l = skip_space(buf);
		if (!*l) {
			/* a blank line ends the paragraph */
			deb822_end(st, name, &para);
			field = F_OTHER;
			continue;
		}
		if (l != buf) {
			/* a continuation of the field above */
			deb822_value(&para, field, l, it.no);
			continue;
		}
		char *colon = strchr(buf, ':');
		if (!colon) {
			char origin[96];
			dc_origin(origin, name, it.no);
			dc_note(st, "%s: neither a field nor its continuation: apt refuses this file", origin);
			field = F_OTHER;
			continue;
		}
		*colon = '\0';
		rstrip(buf);
		if (!para.first)
			para.first = it.no;
		field = strcasecmp(buf, "Types") == 0     ? F_TYPES
			: strcasecmp(buf, "URIs") == 0    ? F_URIS
			: strcasecmp(buf, "Enabled") == 0 ? F_ENABLED
							  : F_OTHER;
		deb822_value(&para, field, colon + 1, it.no);
	}
	deb822_end(st, name, &para);
}

/* apt.conf: the one-line form of the proxy settings, Acquire::http::Proxy
 * "URL"; (https, and ::HOST for one host). The nested form, the proxy
 * auto-detection and the like are a note. */
void dc_parse_apt_conf(struct dc_state *st, const char *name, const char *text, size_t len)
{
	struct lines it;
	const char *s;
	size_t n;
	char buf[DC_LINE_MAX], origin[96];

	lines_init(&it, text, len);
	while (next_line(&it, &s, &n, NULL)) {
		if (!line_copy(st, buf, s, n, name, it.no))
			continue;
		char *l = skip_space(buf), *key, *value, *end;
		if (l[0] == '#' || (l[0] == '/' && l[1] == '/') || !strcasestr(l, "proxy"))
			continue;
		dc_origin(origin, name, it.no);
		key = l;
		l += strcspn(l, " \t\"");
		end = l;
		l = skip_space(l);
		value = l + 1;
		char *close = *l == '"' ? strchr(value, '"') : NULL;
		bool https = strncasecmp(key, "Acquire::https::Proxy", 21) == 0;
		size_t kl = https ? 21 : 20;
		if (!close || (!https && strncasecmp(key, "Acquire::http::Proxy", 20) != 0) ||
		    (end != key + kl && (end < key + kl + 3 || strncmp(key + kl, "::", 2) != 0))) {
			dc_note(st, "%s: an apt proxy setting this reader does not follow: apt may reach its mirrors "
				    "through a proxy, and they are checked as if it did not", origin);
			continue;
		}
		*close = '\0';
		*end = '\0';
		if (st->n_apt_proxies >= 64)
			continue;
		grow_array((void **)&st->apt_proxies, &st->cap_apt_proxies, st->n_apt_proxies + 1,
			   sizeof(*st->apt_proxies));
		struct dc_apt_proxy *p = &st->apt_proxies[st->n_apt_proxies++];
		*p = (struct dc_apt_proxy){ .https = https, .host = end > key + kl ? xstrdup(key + kl + 2) : NULL,
					    .value = xstrdup(value) };
		snprintf(p->origin, sizeof(p->origin), "%s", origin);
	}
}

/* ---- /etc/hosts ------------------------------------------------------------------ */

void dc_parse_hosts(struct dc_state *st, const char *name, const char *text, size_t len)
{
	struct lines it;
	const char *s;
	size_t n;
	char buf[DC_LINE_MAX];

	lines_init(&it, text, len);
	while (next_line(&it, &s, &n, NULL)) {
		if (!line_copy(st, buf, s, n, name, it.no))
			continue;
		buf[strcspn(buf, "#")] = '\0';
		char *p = buf, *addr = next_word(&p), *w;
		struct cg_addr a;
		if (!addr || addr_parse(addr, &a) < 0 || !discover_in_scope(st->scope, &a))
			continue;
		if (st->n_hosts >= DC_MAX_WANTS)
			break;
		char names[512];
		size_t nn = 0;
		names[0] = '\0';
		while ((w = next_word(&p)) && nn + strlen(w) + 2 < sizeof(names))
			nn += (size_t)snprintf(names + nn, sizeof(names) - nn, "%s%s", nn ? " " : "", w);
		if (!nn)
			continue;
		grow_array((void **)&st->hosts, &st->cap_hosts, st->n_hosts + 1, sizeof(*st->hosts));
		struct dc_hosts_entry *e = &st->hosts[st->n_hosts++];
		e->addr = a;
		e->names = xstrdup(names);
		dc_origin(e->origin, name, it.no);
	}
}

/* ---- from what the files name to entries ------------------------------------------- */

static int cloud_cmp(const void *a, const void *b)
{
	const struct dc_cloud_url *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	/* the later file first; within a file, in the order written */
	if (x->file_seq != y->file_seq)
		return x->file_seq > y->file_seq ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* cloud-init's files: a key's list in a later file replaces an earlier one */
static void cloud_finish(struct dc_state *st)
{
	if (st->n_cloud > 1)
		qsort(st->cloud, st->n_cloud, sizeof(*st->cloud), cloud_cmp);
	for (size_t i = 0; i < st->n_cloud;) {
		size_t j = i;
		while (j < st->n_cloud && strcmp(st->cloud[j].path, st->cloud[i].path) == 0)
			j++;
		for (size_t k = i; k < j; k++) {
			struct dc_cloud_url *c = &st->cloud[k];
			if (c->file_seq != st->cloud[i].file_seq || !c->want.host)
				continue;
			grow_array((void **)&st->wants.v, &st->wants.cap, st->wants.n + 1, sizeof(*st->wants.v));
			st->wants.v[st->wants.n++] = c->want;
			c->want.host = NULL;
		}
		i = j;
	}
}

static void move_wants(struct dc_wants *to, struct dc_wants *from)
{
	for (size_t i = 0; i < from->n; i++) {
		grow_array((void **)&to->v, &to->cap, to->n + 1, sizeof(*to->v));
		to->v[to->n++] = from->v[i];
	}
	free(from->v);
	memset(from, 0, sizeof(*from));
}

/* the proxy apt uses for host (the host's own setting first) */
static struct dc_apt_proxy *apt_proxy_for(struct dc_state *st, const char *host, bool https)
{
	struct dc_apt_proxy *scheme = NULL;

	for (size_t i = st->n_apt_proxies; i-- > 0;) {
		struct dc_apt_proxy *p = &st->apt_proxies[i];
		if (p->https != https)
			continue;
		if (p->host && strcasecmp(p->host, host) == 0)
			return p;
		if (!p->host && !scheme)
			scheme = p;
	}
	return scheme;
}

/* apt's mirrors: through a proxy, the proxy is what the host reaches */
static void apt_proxies_apply(struct dc_state *st)
{
	size_t n = st->wants.n, kept = 0;
	char pb[96];

	for (size_t i = 0; i < n; i++) {
		struct dc_want *w = &st->wants.v[i];
		if (w->kind != DC_APT_HTTP && w->kind != DC_APT_HTTPS)
			continue;
		bool https = w->kind == DC_APT_HTTPS;
		struct dc_apt_proxy *p = apt_proxy_for(st, w->host, https);
		char host[256];
		uint16_t port;
		w->kind = DC_PLAIN;
		if (!p || !*p->value || strcasecmp(p->value, "DIRECT") == 0 || strcasecmp(p->value, "false") == 0)
			continue;
		char what[160], hb[96];
		if (p->host)
			snprintf(what, sizeof(what), "the %s mirror %s", https ? "https" : "http",
				 printable(hb, sizeof(hb), p->host));
		else
			snprintf(what, sizeof(what), "its %s mirrors", https ? "https" : "http");
		if (dc_url_parse(p->value, host, sizeof(host), &port) < 0) {
			if (!p->noted)
				dc_note(st, "%s: apt reaches %s through the proxy \"%s\", which this audit does not "
					    "follow: checked as if apt reached %s directly", p->origin, what,
					printable(pb, sizeof(pb), p->value), p->host ? "it" : "them");
			p->noted = true;
			continue;
		}
		if (!p->noted)
			dc_note(st, "%s: apt reaches %s through the proxy %s: the proxy is checked, not %s", p->origin,
				what, printable(pb, sizeof(pb), host), p->host ? "the mirror" : "the mirrors");
		p->noted = true;
		/* the mirror makes way for the proxy (the array may move) */
		free(w->host);
		w->host = NULL;
		struct dc_want pw;
		if (want_fill(st, &pw, host, "mirror", CG_PROTO_TCP, port, DC_PLAIN, p->origin)) {
			grow_array((void **)&st->wants.v, &st->wants.cap, st->wants.n + 1, sizeof(*st->wants.v));
			st->wants.v[st->wants.n++] = pw;
		}
	}
	for (size_t i = 0; i < st->wants.n; i++)
		if (st->wants.v[i].host)
			st->wants.v[kept++] = st->wants.v[i];
	st->wants.n = kept;
}

void dc_flush(struct dc_state *st)
{
	apt_proxies_apply(st);
	move_wants(&st->wants, &st->timesyncd_ntp);
	move_wants(&st->wants, &st->timesyncd_fallback);
	cloud_finish(st);
	for (size_t i = 0; i < st->n_cloud; i++) {
		free(st->cloud[i].path);
		free(st->cloud[i].want.host);
	}
	st->n_cloud = 0;
}

static void add_entry(struct dc_state *st, const struct dc_want *w, const struct cg_addr *a)
{
	struct discovered d = {
		.addr = *a, .protos = w->protos, .port = w->port, .local_port = w->local_port, .role = w->role,
		.client = w->client,
	};

	if (!discover_in_scope(st->scope, a))
		return;
	snprintf(d.origin, sizeof(d.origin), "%s", w->origin);
	discovered_add(st->l, &d);
}

/* a name and the wants that name it (wants sorted by name) */
struct dc_name {
	const char *name;
	size_t first, n;              /* in the sorted want pointers */
	bool from_hosts;              /* the hosts file gave it an address in scope */
};

struct name_ref {
	const char *name;             /* malloc'd */
	size_t entry;
};

static int want_ptr_cmp(const void *a, const void *b)
{
	const struct dc_want *x = *(const struct dc_want *const *)a, *y = *(const struct dc_want *const *)b;
	int c = strcasecmp(x->host, y->host);

	/* equal names in the order the files named them */
	return c ? c : (x < y ? -1 : x > y);
}

static int name_ref_cmp(const void *a, const void *b)
{
	return strcasecmp(((const struct name_ref *)a)->name, ((const struct name_ref *)b)->name);
}

static const char *answer_why(const struct dc_answer *a)
{
	return a->status ? gai_strerror(a->status) : "no address";
}

void dc_finish(struct dc_state *st, dc_resolver resolve)
{
	struct dc_want **byname = NULL;
	struct dc_name *names = NULL;
	struct name_ref *refs = NULL;
	size_t n_byname = 0, n_names = 0, n_refs = 0;
	bool *hosts_used = NULL;
	char pb[96], ab[CG_ADDRSTRLEN];

	/* the local ports chrony uses, now that its whole configuration is read */
	for (size_t i = 0; i < st->wants.n; i++) {
		struct dc_want *w = &st->wants.v[i];
		if (w->kind == DC_CHRONY_SERVER)
			w->local_port = st->chrony_acqport;
		else if (w->kind == DC_CHRONY_PEER)
			w->local_port = st->chrony_port;
	}
	dc_flush(st);

	/* addresses as they are; names sorted, each asked once */
	byname = xcalloc(st->wants.n + 1, sizeof(*byname));
	for (size_t i = 0; i < st->wants.n; i++) {
		struct dc_want *w = &st->wants.v[i];
		struct cg_addr a;
		if (host_addr(w->host, &a))
			add_entry(st, w, &a);
		else
			byname[n_byname++] = w;
	}
	if (n_byname > 1)
		qsort(byname, n_byname, sizeof(*byname), want_ptr_cmp);
	names = xcalloc(n_byname + 1, sizeof(*names));
	for (size_t i = 0; i < n_byname;) {
		size_t j = i + 1;
		while (j < n_byname && strcasecmp(byname[j]->host, byname[i]->host) == 0)
			j++;
		if (n_names == DC_MAX_NAMES) {
			dc_note(st, "%s: more than %d host names in the host's configuration files: the rest are not "
				    "resolved", byname[i]->origin, DC_MAX_NAMES);
			break;
		}
		names[n_names++] = (struct dc_name){ .name = byname[i]->host, .first = i, .n = j - i };
		i = j;
	}

	/* /etc/hosts: a name a source uses gets the entry's address (as
	 * glibc's "files" gives it; the resolver is asked too) */
	hosts_used = xcalloc(st->n_hosts + 1, sizeof(*hosts_used));
	for (size_t i = 0; i < st->n_hosts; i++) {
		char *copy = xstrdup(st->hosts[i].names), *p = copy, *w;
		while ((w = next_word(&p))) {
			refs = xreallocarray(refs, n_refs + 1, sizeof(*refs));
			refs[n_refs++] = (struct name_ref){ .name = xstrdup(w), .entry = i };
		}
		free(copy);
	}
	if (n_refs > 1)
		qsort(refs, n_refs, sizeof(*refs), name_ref_cmp);
	for (size_t i = 0; i < n_names; i++) {
		struct name_ref key = { .name = names[i].name };
		struct name_ref *r = n_refs ? bsearch(&key, refs, n_refs, sizeof(*refs), name_ref_cmp) : NULL;
		if (!r)
			continue;
		/* the first entry for a name is the one glibc takes */
		while (r > refs && strcasecmp(r[-1].name, key.name) == 0)
			r--;
		const struct dc_hosts_entry *e = &st->hosts[r->entry];
		hosts_used[r->entry] = true;
		names[i].from_hosts = true;
		for (size_t k = 0; k < names[i].n; k++)
			add_entry(st, byname[names[i].first + k], &e->addr);
	}

	/* everything else through the resolver, all names at once */
	if (resolve && n_names) {
		const char **list = xcalloc(n_names, sizeof(*list));
		struct dc_answer *answers = xcalloc(n_names, sizeof(*answers));
		for (size_t i = 0; i < n_names; i++)
			list[i] = names[i].name;
		resolve(list, n_names, DC_RESOLVE_TIMEOUT_MS, answers);
		/* the names the resolver did not answer in time: one note */
		char late[600];
		size_t n_late = 0, late_len = 0, late_more = 0;
		for (size_t i = 0; i < n_names; i++) {
			const struct dc_want *w0 = byname[names[i].first];
			struct dc_answer *a = &answers[i];
			for (size_t k = 0; k < a->n; k++)
				for (size_t m = 0; m < names[i].n; m++)
					add_entry(st, byname[names[i].first + m], &a->addrs[k]);
			free(a->addrs);
			if ((!a->status && a->n) || names[i].from_hosts)
				continue;
			if (a->status != DC_RESOLVE_TIMEOUT) {
				dc_note(st, "%s: the %s name %s does not resolve (%s): what it stands for is not checked",
					w0->origin, w0->role, printable(pb, sizeof(pb), w0->host), answer_why(a));
				continue;
			}
			char item[256];
			int il = snprintf(item, sizeof(item), "%s%s (%s, %s)", n_late ? ", " : "",
					  printable(pb, sizeof(pb), w0->host), w0->role, w0->origin);
			if (il > 0 && late_len + (size_t)il < sizeof(late) - 16) {
				memcpy(late + late_len, item, (size_t)il + 1);
				late_len += (size_t)il;
				n_late++;
			} else {
				late_more++;
			}
		}
		if (n_late) {
			char more[32] = "";
			if (late_more)
				snprintf(more, sizeof(more), " and %zu more", late_more);
			dc_note(st, "not resolved within %d s (no answer from the resolver: it may be the DNS problem this "
				    "audit reports), so what %s for is not checked: %s%s",
				DC_RESOLVE_TIMEOUT_MS / 1000, n_late + late_more > 1 ? "these names stand" : "this name stands",
				late, more);
		}
		free(answers);
		free(list);
	}

	/* an entry in the range that nothing names: no port to check it on */
	for (size_t i = 0; i < st->n_hosts; i++) {
		const struct dc_hosts_entry *e = &st->hosts[i];
		if (hosts_used[i])
			continue;
		addr_to_string(&e->addr, ab);
		dc_note(st, "%s: %s (%s) is inside an overlay's range, but nothing this audit reads says which "
			    "service of it the host uses, so it is not checked: name it with --service %s:PORT",
			e->origin, ab, printable(pb, sizeof(pb), e->names), ab);
	}
	free(hosts_used);
	for (size_t i = 0; i < n_refs; i++)
		free((char *)refs[i].name);
	free(refs);
	free(names);
	free(byname);
}
