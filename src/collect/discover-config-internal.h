/* SPDX-License-Identifier: GPL-2.0-or-later */
/* discover_config()'s parts: the parsers of chrony's, systemd-timesyncd's,
 * cloud-init's, apt's and /etc/hosts' formats (discover-config-parse.c,
 * pure functions over text, fuzzed), the bounded glibc resolver
 * (discover-config-resolve.c) and the walk over the host's files
 * (discover-config.c). The parsers know no files: what a file points to
 * (chrony's include, confdir and sourcedir) is queued for the walker. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/hostfacts.h"

/* chrony's sources: the local port is known only once the whole
 * configuration is read (acquisitionport, port); apt's mirrors: whether
 * apt reaches them directly is known only once its proxies are read */
enum dc_kind { DC_PLAIN, DC_CHRONY_SERVER, DC_CHRONY_PEER, DC_APT_HTTP, DC_APT_HTTPS };

/* One service a file names: by address or by name. */
struct dc_want {
	char *host;                   /* an address literal or a host name */
	const char *role;             /* static */
	unsigned protos;
	uint16_t port, local_port;
	uint8_t kind;                 /* enum dc_kind */
	char origin[96];              /* "chrony.conf:12" */
	enum host_client client;      /* who asks it (chronyd, timesyncd) */
};

struct dc_wants {
	struct dc_want *v;
	size_t n, cap;
};

enum dc_chrony_directive { DC_CHRONY_INCLUDE, DC_CHRONY_CONFDIR, DC_CHRONY_SOURCEDIR };

struct dc_chrony_dir {
	enum dc_chrony_directive type;
	char *arg;                    /* the rest of the line */
	char origin[96];
	unsigned depth;               /* include depth of the file that named it */
};

/* a metadata URL from cloud-init's YAML: a later file's list for the
 * same key replaces an earlier one (cloud-init merges its files so) */
struct dc_cloud_url {
	char *path;                   /* "datasource/AliYun/metadata_urls" */
	unsigned file_seq;
	size_t order;                 /* its place among them */
	struct dc_want want;
};

/* Acquire::http::Proxy "VALUE"; (or https, or ::HOST for one host) */
struct dc_apt_proxy {
	bool https;
	char *host;                   /* NULL: every host of the scheme */
	char *value;                  /* "DIRECT", "false", a URL */
	bool noted;
	char origin[96];
};

struct dc_hosts_entry {
	struct cg_addr addr;
	char *names;                  /* the entry's names, space-separated */
	char origin[96];
};

struct dc_state {
	const struct discover_scope *scope;
	struct discovered_list *l;    /* the entries and notes go here */
	struct dc_wants wants;
	enum host_client client;      /* the client of what the file being read names */
	size_t n_notes;               /* notes made, for the cap */
	bool wants_capped;

	/* chrony: what its files point to, for the walker; its global ports */
	struct dc_chrony_dir *chrony_dirs;
	size_t n_chrony_dirs, cap_chrony_dirs;
	uint16_t chrony_port;         /* "port": the server port, peers' local port */
	uint16_t chrony_acqport;      /* "acquisitionport": servers' local port (0: random) */

	/* systemd-timesyncd's two lists (an empty assignment resets one) */
	struct dc_wants timesyncd_ntp, timesyncd_fallback;

	/* cloud-init's configuration files */
	struct dc_cloud_url *cloud;
	size_t n_cloud, cap_cloud;
	unsigned cloud_seq;

	/* apt's proxies, in the order set (the last one of a key wins) */
	struct dc_apt_proxy *apt_proxies;
	size_t n_apt_proxies, cap_apt_proxies;

	/* /etc/hosts entries inside the scope */
	struct dc_hosts_entry *hosts;
	size_t n_hosts, cap_hosts;
};

/* The most notes the config sources make in one audit (a broken file
 * must not flood the report); the last one says more were left out. */
#define DC_MAX_NOTES 40
/* The most services and names they collect. */
#define DC_MAX_WANTS 1024
#define DC_MAX_NAMES 128
/* How long every name together may take to resolve. */
#define DC_RESOLVE_TIMEOUT_MS 2000

void dc_state_init(struct dc_state *st, const struct discover_scope *scope, struct discovered_list *l);
void dc_state_free(struct dc_state *st);
void dc_note(struct dc_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "name:line" into out (the tail kept when it does not fit); line 0: name */
void dc_origin(char out[96], const char *name, unsigned line);

/* http(s)://[user@]host[:port]/...: the host (brackets taken off an IPv6
 * literal) and the port (the scheme's by default). Returns 0, -ENOENT for
 * another scheme (file:, cdrom:, ...), -EINVAL for a malformed URL. */
int dc_url_parse(const char *url, char *host, size_t host_size, uint16_t *port);

/* The parsers. name is the file as origins name it ("chrony.conf",
 * "sources.list.d/aliyun.list"); text need not end in a NUL. */
void dc_parse_chrony(struct dc_state *st, const char *name, const char *text, size_t len, unsigned depth);
/* a sourcedir's *.sources file: server, pool and peer lines only */
void dc_parse_chrony_sources(struct dc_state *st, const char *name, const char *text, size_t len);
void dc_parse_timesyncd(struct dc_state *st, const char *name, const char *text, size_t len);
void dc_parse_cloud_instance_data(struct dc_state *st, const char *name, const char *text, size_t len);
void dc_parse_cloud_cfg(struct dc_state *st, const char *name, const char *text, size_t len);
void dc_parse_apt_list(struct dc_state *st, const char *name, const char *text, size_t len);
void dc_parse_apt_sources(struct dc_state *st, const char *name, const char *text, size_t len);
/* apt.conf and apt.conf.d: the proxies (one-line settings) */
void dc_parse_apt_conf(struct dc_state *st, const char *name, const char *text, size_t len);
void dc_parse_hosts(struct dc_state *st, const char *name, const char *text, size_t len);

/* ---- resolving names ------------------------------------------------------ */

enum { DC_RESOLVE_TIMEOUT = 1 };

struct dc_answer {
	int status;                   /* 0, an EAI_* code (negative), or DC_RESOLVE_TIMEOUT */
	struct cg_addr *addrs;        /* malloc'd */
	size_t n;
};

/* Resolves every name at once, all of them within timeout_ms; out[i] is
 * names[i]'s answer. */
typedef void (*dc_resolver)(const char *const *names, size_t n, int timeout_ms, struct dc_answer *out);

/* glibc's getaddrinfo_a(): every name at once, one deadline for them all;
 * a lookup still running then is abandoned (its memory kept until glibc
 * is done with it). */
void dc_resolve_glibc(const char *const *names, size_t n, int timeout_ms, struct dc_answer *out);

/* Puts what a source's files together name (timesyncd's lists, cloud-init's
 * keys, apt's mirrors or the proxy in their place) among the services,
 * once the source's last file is read: the sources' order stays the order
 * of the entries. */
void dc_flush(struct dc_state *st);

/* Turns what the parsers collected into entries in scope (names resolved
 * with resolve, NULL: names are not resolved) and notes. */
void dc_finish(struct dc_state *st, dc_resolver resolve);

/* Tests: resolve with fn instead of glibc (NULL: glibc again). */
void discover_config_set_resolver(dc_resolver fn);
