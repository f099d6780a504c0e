/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd units, sshd's configuration and the sysctls that decide whether a
 * service offered over an overlay starts safely at boot (issue 16).
 *
 *   collect/units-fs.c      host files below CGNATCHECK_HOST_ROOT, symlinks
 *                           resolved inside that root
 *   collect/units-parse.c   the unit-file syntax (systemd's config_parse()),
 *                           specifiers, unit names, Listen*= addresses
 *   collect/units.c         units read the way systemd loads them: the search
 *                           path, aliases, masks, templates, drop-ins,
 *                           .wants/.requires, default and implicit
 *                           dependencies, the boot transaction
 *   collect/units-sysctl.c  a sysctl now (/proc/sys) and at boot (sysctl.d)
 *   collect/sshd-config.c   sshd_config's ListenAddress and Port
 *   audit/services.c        the boot-safety analysis and its remedies
 *
 * Nothing here asks systemd: the host (or the image) need not run it. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/addr.h"
#include "cgnatcheck/hostfacts.h"

/* What a reader could not read or understand, in words (malloc'd), naming
 * the file and line: the audit reports them as info findings. */
struct unit_notes {
	char **v;
	size_t n;
};

void unit_note(struct unit_notes *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void unit_notes_free(struct unit_notes *n);

/* ---- host files (units-fs.c) ---------------------------------------------- */

/* Resolves `path` (absolute, as the host names it) below CGNATCHECK_HOST_ROOT
 * the way the host would: every symlink on the way is followed, an absolute
 * link target starts again at the root, ".." never leaves it. `out` gets the
 * resolved path as the host names it ("/usr/lib/systemd/system/ssh.service").
 * Returns 0; -ENOENT when something is missing (out holds what the path
 * resolved to so far: "/dev/null" for a mask whose root has no /dev);
 * -ELOOP after 40 links; -ENAMETOOLONG; -ENOTDIR. */
int host_chase(const char *path, char *out, size_t size);

/* Reads a whole host file (resolved with host_chase()) into *text (malloc'd,
 * NUL-terminated; *len its length). `resolved`, when not NULL, gets the
 * resolved path. Files over 4 MiB are refused (-EFBIG). Returns 0 or
 * -errno. */
int host_read_file(const char *path, char **text, size_t *len, char *resolved, size_t rsize);

/* ---- the unit-file syntax (units-parse.c) -------------------------------- */

/* One assignment of a unit file, as systemd's config_parse() reads it:
 * comments (# and ; at a line's start, also inside a continued line) are
 * skipped, a trailing unescaped backslash continues the line, whitespace
 * around the key and the value is stripped. */
struct unit_assignment {
	const char *section;      /* "Unit", "Socket", ... without brackets */
	const char *key;
	const char *value;        /* "" for an empty assignment (a reset) */
	unsigned line;            /* where the assignment starts */
	unsigned last_line;       /* where it ends (a continued line) */
};

/* Calls fn for every assignment of text (len bytes, NUL not required) and
 * notes what systemd would warn about and ignore ("file:line: ...").
 * Returns 0, or -EINVAL for input systemd refuses as a whole (a NUL byte,
 * a line over 1 MiB). */
typedef void (*unit_assignment_fn)(const struct unit_assignment *a, void *userdata);
int unit_text_parse(const char *file, const char *text, size_t len, unit_assignment_fn fn,
		    void *userdata, struct unit_notes *notes);

/* The next whitespace-separated word of *p (a backslash keeps the next
 * character, as systemd's EXTRACT_RETAIN_ESCAPE); malloc'd, NULL at the end. */
char *unit_next_word(const char **p);

/* What the specifiers of a unit expand to. */
struct unit_spec_ctx {
	const char *id;           /* %n */
	const char *prefix;       /* %p: the name before "@" or the type suffix */
	const char *instance;     /* %i, NULL for a plain unit */
};

/* Expands %n %N %p %P %i %I %j %J %f %% and the manager's fixed directories
 * into *out (malloc'd). Returns 0; -EOPNOTSUPP when a host-specific one (%H,
 * %m, ...) was kept as written; -EBADMSG (and *out NULL) for an unknown one,
 * which systemd refuses. */
int unit_expand_specifiers(const struct unit_spec_ctx *c, const char *in, char **out);

enum unit_type {
	UNIT_SERVICE,
	UNIT_SOCKET,
	UNIT_TARGET,
	UNIT_DEVICE,
	UNIT_MOUNT,
	UNIT_AUTOMOUNT,
	UNIT_SWAP,
	UNIT_TIMER,
	UNIT_PATH,
	UNIT_SLICE,
	UNIT_SCOPE,
	_UNIT_TYPE_MAX,
	UNIT_TYPE_INVALID = -1,
};

const char *unit_type_to_string(enum unit_type t);
/* The type of "foo.service"; UNIT_TYPE_INVALID for anything else. */
enum unit_type unit_name_type(const char *name);

enum unit_name_kind { UNIT_NAME_PLAIN = 1, UNIT_NAME_TEMPLATE = 2, UNIT_NAME_INSTANCE = 4 };
#define UNIT_NAME_ANY (UNIT_NAME_PLAIN | UNIT_NAME_TEMPLATE | UNIT_NAME_INSTANCE)
/* systemd's unit_name_is_valid(): the characters, one type suffix, at most
 * 255 bytes, "@" rules for templates and instances. */
bool unit_name_is_valid(const char *name, unsigned kinds);
/* "foo@.service" for "foo@bar.service" (out of size bytes); -EINVAL. */
int unit_name_template(const char *name, char *out, size_t size);
/* "foo@bar.service" from a template and an instance. */
int unit_name_instantiate(const char *template, const char *instance, char *out, size_t size);
/* The device unit of a network interface, as BindToDevice= names it:
 * "sys-subsystem-net-devices-wg0.device" ("-" in a name escaped "\x2d"). */
int unit_name_netdev(const char *ifname, char *out, size_t size);
/* systemd-escape without --path: "/" becomes "-", other characters than
 * [A-Za-z0-9:_.] (and a leading ".") become "\xNN". */
int unit_name_escape(const char *s, char *out, size_t size);

/* A boolean as systemd's parse_boolean() takes it: 1, 0, or -EINVAL. */
int unit_parse_boolean(const char *v);

/* ListenStream=, ListenDatagram=, ListenSequentialPacket= values. */
enum unit_listen_family {
	LISTEN_INET,        /* an IP address and port (or only a port: every address) */
	LISTEN_UNIX,        /* a path or an abstract ("@") socket */
	LISTEN_OTHER,       /* vsock:, netlink, ... */
};

struct unit_listen_addr {
	enum unit_listen_family family;
	struct cg_addr addr;          /* AF_UNSPEC: every address (a port alone) */
	uint16_t port;
	char ifname[IFNAMSIZ];        /* an IPv6 zone: "[fe80::1%eth0]:22" */
};

/* Parses a Listen*= value as systemd's socket_address_parse() does.
 * Returns 0 or -EINVAL. */
int unit_listen_parse(const char *value, struct unit_listen_addr *out);

/* ---- units (units.c) -------------------------------------------------- */

enum unit_load_state {
	UNIT_LOADED,
	UNIT_NOT_FOUND,     /* no file anywhere in the search path */
	UNIT_MASKED,        /* a symlink to /dev/null, or an empty file */
	UNIT_ERROR,         /* unreadable, an alias loop, a bad name: load_error says */
};

const char *unit_load_state_to_string(enum unit_load_state s);

enum unit_dep {
	UNIT_REQUIRES,
	UNIT_REQUISITE,
	UNIT_WANTS,
	UNIT_BINDS_TO,
	UNIT_PART_OF,
	UNIT_UPHOLDS,
	UNIT_CONFLICTS,
	UNIT_BEFORE,
	UNIT_AFTER,
	_UNIT_DEP_MAX,
};

/* "Requires", "After", ... (the directive's name without "=") */
const char *unit_dep_to_string(enum unit_dep d);

enum unit_dep_origin {
	UNIT_DEP_FILE,       /* a line of a unit file or drop-in */
	UNIT_DEP_WANTS_DIR,  /* a symlink in a .wants/ or .requires/ directory */
	UNIT_DEP_DEFAULT,    /* DefaultDependencies=yes */
	UNIT_DEP_IMPLICIT,   /* always there (BindToDevice=, a socket's service, ...) */
};

/* Where a setting comes from: a file and line (line 0: the file itself, a
 * .wants/ symlink). file is NULL for what systemd adds by itself. */
struct unit_where {
	const char *file;
	unsigned line, last_line;
};

struct unit_dep_item {
	enum unit_dep type;
	const char *name;             /* the other unit as named (specifiers expanded) */
	enum unit_dep_origin origin;
	struct unit_where where;
	const char *why;              /* UNIT_DEP_DEFAULT/IMPLICIT: the rule, in words */
};

struct unit_listen {
	const char *key;              /* "ListenStream", "ListenDatagram", ... */
	const char *value;            /* specifiers expanded */
	struct unit_listen_addr parsed;
	bool valid;                   /* parsed */
	struct unit_where where;
};

/* A scalar setting: the last assignment wins; value NULL when unset (or
 * reset by an empty assignment). */
struct unit_setting {
	const char *value;
	struct unit_where where;
};

struct unit_exec {
	const char *key;              /* "ExecStart", "ExecStartPre", ... */
	const char *command;          /* the command line, specifiers expanded */
	struct unit_where where;
};

struct unit {
	const char *id;               /* the name systemd knows it by */
	const char **names;           /* id, then the aliases that lead to it */
	size_t n_names;
	enum unit_type type;
	enum unit_load_state load;
	const char *load_error;       /* UNIT_ERROR: why, in words */
	const char *fragment;         /* the unit file as the host names it; NULL: none */
	const char *fragment_entry;   /* the search path's entry that led to it (a
				       * symlink to a linked file, or the file itself) */
	const char *fragment_dir;     /* the search directory of that entry */
	const char *prefix;           /* "wg-quick" for wg-quick@wg0.service */
	const char *instance;         /* "wg0" for wg-quick@wg0.service */
	const char **dropins;         /* the drop-ins read, in the order applied */
	size_t n_dropins;

	bool default_dependencies;
	struct unit_setting default_dependencies_set;  /* where it was set, if it was */

	struct unit_dep_item *deps;
	size_t n_deps, cap_deps;

	/* [Socket] */
	struct unit_listen *listen;
	size_t n_listen, cap_listen;
	struct unit_setting bind_to_device, free_bind, transparent, accept, service;
	/* [Service] */
	struct unit_setting service_type;
	struct unit_exec *exec;       /* ExecStart, ExecStartPre, ExecStartPost, ExecCondition */
	size_t n_exec, cap_exec;
	/* [Install] */
	const char **wanted_by, **required_by;
	size_t n_wanted_by, n_required_by;

	/* the boot transaction (units_boot()) */
	bool in_boot;
	const char *pulled_by;        /* the unit that pulled it in, NULL for the start */
	enum unit_dep pulled_how;
	unsigned index;               /* its position in units.v */
};

/* One file that is not on disk but read as if it were (a remedy not yet
 * written): `path` as the host names it, in a search directory. */
struct unit_overlay_file {
	const char *path;
	const char *content;
};

struct units_private;

struct units {
	struct unit **v;              /* every unit loaded so far, in load order */
	size_t n, cap;
	struct unit_notes notes;
	struct units_private *p;
};

/* The system search path, highest priority first (systemd.unit(5),
 * "UNIT FILE LOAD PATH", as systemd 252 on Debian builds it). */
extern const char *const units_search_path[];
extern const size_t units_search_path_len;

/* Prepares an empty set; nothing is read until a unit is asked for.
 * overlay (n_overlay files, kept by reference) is read before the disk. */
void units_init(struct units *u, const struct unit_overlay_file *overlay, size_t n_overlay);
/* Whether systemd makes device units (by default it does; not in a
 * container with a read-only /sys, where BindToDevice= then adds no
 * dependency: unit_add_node_dependency() asks unit_type_supported()).
 * Call before the first units_get(). */
void units_set_device_units(struct units *u, bool supported);
void units_free(struct units *u);

/* The unit named `name` (an alias leads to the unit it names; an instance
 * to its template's file), loaded with its drop-ins and dependencies.
 * Never NULL for a valid name: a unit without a file is UNIT_NOT_FOUND (a
 * device unit, which has none, is UNIT_LOADED). NULL for an invalid name
 * (a note says so). */
struct unit *units_get(struct units *u, const char *name);

/* Every unit the boot pulls in from `start` ("default.target" when NULL)
 * through Requires=, Wants=, BindsTo=, Upholds=, .wants/ and .requires/,
 * and the implicit and default dependencies that pull; marks them in_boot.
 * Masked and missing units are not started and pull nothing in. Returns
 * how many. */
size_t units_boot(struct units *u, const char *start);

/* Whether a unit is enabled: pulled in by a .wants/ or .requires/ symlink
 * of a unit its [Install] section names (where, when not NULL, gets that
 * symlink's path). */
bool unit_is_enabled(struct units *u, const struct unit *unit, const char **where);

/* The dependency of `from` on `to` of this type (after resolving aliases),
 * or NULL. Both directions count for ordering: A Before=B is B After=A. */
const struct unit_dep_item *unit_find_dep(struct units *u, const struct unit *from,
					  enum unit_dep type, const struct unit *to);

/* The first word of ExecStart= (without systemd's "-@:+!" prefixes), or
 * NULL. */
const char *unit_exec_start_program(const struct unit *unit, char *buf, size_t size);

/* ---- sysctls (units-sysctl.c) ------------------------------------------- */

struct sysctl_setting {
	int now;                      /* /proc/sys; -1 when unreadable */
	int boot;                     /* what sysctl.d sets at boot; -1 when nothing does */
	char boot_where[320];         /* the file and line that sets it */
};

/* `key` in dotted form ("net.ipv4.ip_nonlocal_bind"), read below the host
 * root: /proc/sys, and the sysctl.d directories (/etc, /run, /usr/local/lib,
 * /usr/lib, /lib; the same file name in an earlier one wins, files in
 * file-name order, the last assignment wins) as systemd-sysctl applies them. */
void sysctl_read_setting(const char *key, struct sysctl_setting *out, struct unit_notes *notes);
/* One sysctl.d file's last assignment to key, from memory: 1 and *value,
 * *line set; 0 when it does not assign key. */
int sysctl_text_find(const char *file, const char *text, size_t len, const char *key, int *value,
		     unsigned *line, struct unit_notes *notes);

/* ---- sshd_config (sshd-config.c) ---------------------------------------- */

struct sshd_listen {
	struct cg_addr addr;          /* AF_UNSPEC: every address */
	uint16_t port;
	char where[320];              /* "file:line" of its ListenAddress (or Port) */
	char text[128];               /* the ListenAddress argument as written */
};

struct sshd_config {
	bool found;                   /* the main file was there */
	char path[256];               /* the main file */
	/* what sshd binds: every ListenAddress with its port, or with every
	 * Port; with no ListenAddress, the wildcard on every Port */
	struct sshd_listen *listen;
	size_t n_listen, cap_listen;
	uint16_t ports[256];
	size_t n_ports;
	struct unit_notes notes;
	/* private, while reading */
	unsigned depth;
	bool in_match;
	struct sshd_pending *pending;
	size_t n_pending, cap_pending;
};

/* Reads sshd's configuration as sshd does (sshd_config(5)): keywords are
 * case-insensitive, "Include" (globs, relative to /etc/ssh) is read where
 * it stands, Port and ListenAddress accumulate, ListenAddress inside a
 * Match block is an error sshd refuses to start with. path NULL:
 * /etc/ssh/sshd_config. Returns 0 (also when the file is absent: found is
 * false) or -errno when it cannot be read. */
int sshd_config_read(const char *path, struct sshd_config *c);
/* The same from memory (fuzzing): Include is followed below the host root. */
int sshd_config_parse(struct sshd_config *c, const char *file, const char *text, size_t len);
/* Expands what was read into c->listen (sshd_config_read() does it). */
void sshd_config_finish(struct sshd_config *c);
void sshd_config_free(struct sshd_config *c);

/* ---- the analysis (audit/services.c) ------------------------------------ */

enum svc_code {
	SVC_BIND_RACE,          /* (a) binds an overlay address before it exists */
	SVC_DAEMON_EARLY,       /* (b) the overlay daemon not after network-online.target */
	SVC_BINDS_TO_DAEMON,    /* (c) BindsTo= on the overlay daemon */
	SVC_ORDERING_CYCLE,     /* (d) an ordering cycle systemd breaks by deleting a job */
	SVC_DEVICE_WAIT,        /* (d) a wait for a device that appears only after the waiter */
	SVC_PORT_HELD_OUTSIDE_UNIT, /* a process outside the unit holds the unit's port (seed 002) */
	_SVC_CODE_MAX,
};

/* "BIND_RACES_OVERLAY_ADDRESS", ... (the finding's code in the report) */
const char *svc_code_to_string(enum svc_code c);

/* One edge of a cycle: `unit` waits for `next` because of `why`
 * ("After=tailscaled.service (/etc/systemd/system/ssh.socket.d/override.conf:2)"). */
struct svc_step {
	char *unit, *next;
	char *why;
	bool systemd_sees;            /* an ordering systemd knows; false: a device that
				       * appears only once a unit created it */
};

/* A file the fix writes: a new drop-in, or a copy that shadows a file a
 * drop-in cannot change (`shadows`). */
struct svc_remedy {
	char *path;                   /* "/etc/systemd/system/ssh.socket.d/cgnatcheck-freebind.conf" */
	char *content;
	char *shadows;                /* NULL, or the file it replaces in effect */
	char *note;                   /* why this file, in words */
};

struct svc_finding {
	enum svc_code code;
	const char *severity;         /* "critical", "warning" */
	const char *when;             /* "at the next boot", ... */
	char *unit;                   /* the unit at fault */
	char *message;
	struct svc_step *cycle;       /* SVC_ORDERING_CYCLE, SVC_DEVICE_WAIT */
	size_t n_cycle;
	struct svc_remedy *remedies;
	size_t n_remedies;
	bool remedy_verified;         /* the analysis run again with the remedies in
				       * place raised nothing for this unit */
	/* SVC_PORT_HELD_OUTSIDE_UNIT: the process that holds the port (the
	 * first, when several share the socket); 0 for the other codes */
	int holder_pid;
	char holder_comm[16];
	char holder_unit[256];        /* its unit ("session-4.scope"), "" when in none */
};

/* A service offered over the overlay, as the units and sshd_config say. */
struct svc_listener {
	char unit[256];
	char source[64];              /* "ListenStream", "sshd_config ListenAddress" */
	unsigned protos;              /* CG_PROTO_TCP / CG_PROTO_UDP */
	struct cg_addr addr;          /* AF_UNSPEC: every address */
	uint16_t port;
	char ifname[IFNAMSIZ];        /* BindToDevice=, "" if none */
	char where[320];
	bool overlay_address;         /* inside the overlay's ranges */
	bool overlay_device;          /* bound to an overlay interface */
	bool in_boot;                 /* its unit starts at boot */
	char gated_by[256];           /* a unit it is ordered after that waits for the address */
	/* who holds it now (svc_options.sockets): a process of the unit (or of
	 * its service) first, else another, else the service manager;
	 * holder_pid 0: no socket there, its holder unreadable, or not collected */
	int holder_pid;
	char holder_comm[16];
	char holder_unit[256];        /* "" when in no unit */
};

/* A port the operator offers (svc_options.offers), and who holds it: one
 * entry a socket and holder (bound false: nothing listens there). */
struct svc_port_use {
	uint8_t proto;                /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t port;
	bool bound;                   /* a socket is bound to the port */
	struct cg_addr addr;          /* its address (the family's any address: a wildcard) */
	char ifname[IFNAMSIZ];        /* its device (SO_BINDTODEVICE), "" if none */
	int pid;                      /* 0: the holder could not be read */
	char comm[16];
	char cmdline[264];
	char exe[256];
	char unit[256];               /* the holder's unit, "" when in none */
	char cgroup[512];
	char owner[256];              /* the unit that should own the port (a socket unit that
				       * names it, a service that runs the same program), "" when
				       * none is known */
	bool outside;                 /* held outside owner: a SVC_PORT_HELD_OUTSIDE_UNIT finding */
};

struct svc_report {
	struct svc_finding *findings;
	size_t n_findings;
	struct svc_listener *listeners;
	size_t n_listeners;
	struct svc_port_use *port_uses;   /* the offered ports (svc_options.offers) */
	size_t n_port_uses;
	struct unit_notes notes;
};

struct port_socket;   /* cgnatcheck/port-holders.h */

/* A port the operator names (--offer PROTO/PORT). */
struct svc_offer {
	uint8_t proto;                /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t port;
};

struct svc_options {
	const char *start;            /* the boot's target; NULL: default.target */
	const char *sshd_config;      /* NULL: /etc/ssh/sshd_config */
	bool no_verify;               /* do not run the analysis again with the remedies */
	bool no_device_units;         /* the boot of a container: systemd makes no device
				       * units (read-only /sys), so BindToDevice= waits for
				       * nothing and fails with "No such device" when the
				       * interface is not there yet */
	const struct unit_overlay_file *overlay;   /* files read as if written */
	size_t n_overlay;
	/* this host's listening sockets and their holders (port_sockets_collect());
	 * NULL: not collected, no port-holder analysis */
	const struct port_socket *sockets;
	size_t n_sockets;
	const struct svc_offer *offers;   /* the ports the operator offers: listed in port_uses */
	size_t n_offers;
};

/* The boot-safety analysis of the services offered over the overlays in
 * scope (their ranges and interface names): reads the units, sshd_config
 * and the sysctls below the host root and fills r. Returns 0. */
int services_analyze(const struct discover_scope *scope, const struct svc_options *opt,
		     struct svc_report *r);
void svc_report_free(struct svc_report *r);

/* (audit/port-holders.c) Who holds the ports, and whether that is the unit
 * that should own them: fills the listeners' holders and port_uses, and adds
 * SVC_PORT_HELD_OUTSIDE_UNIT findings (critical, "now", no remedy: the
 * message names the process to stop and the unit to restart). services_analyze()
 * calls it last, with its units (loaded, the boot marked). Never ends a
 * process. */
void svc_port_holders(struct units *s, const struct svc_options *opt, struct svc_report *r);
