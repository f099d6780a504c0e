/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit: can this host reach its resolvers, metadata service, mirror,
 * and do the provider's health checks reach it; if not, which route or
 * which rule is to blame. Consumes the collected routing state and ruleset
 * (collect/), runs the route lookup and the flow simulation (sim/), and
 * produces targets and findings for the report. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/arena.h"
#include "cgnatcheck/hostfacts.h"
#include "cgnatcheck/options.h"
#include "cgnatcheck/policy.h"
#include "cgnatcheck/probe.h"
#include "cgnatcheck/route.h"
#include "cgnatcheck/ruleset.h"
#include "cgnatcheck/sim-netfilter.h"
#include "cgnatcheck/units.h"

enum target_verdict {
	TARGET_REACHABLE,
	TARGET_BLOCKED,
	TARGET_UNROUTABLE,
	TARGET_UNCERTAIN,
};

/* The kernel's route for a target, as the verdict and the report use it
 * (the whole struct route_result of both lookups took 2.3 KB a target). */
struct target_route {
	int error;                    /* 0, or the kernel's negative errno for the lookup */
	uint8_t type;                 /* RTN_*; on error the cause */
	bool no_route;                /* ENETUNREACH: no rule/table had a route */
	const char *reason;           /* an error's explanation, or NULL */
	uint32_t table;               /* 0: none/unknown */
	int ifindex;                  /* output device; 0 if none */
	struct cg_addr gateway;       /* AF_UNSPEC: directly connected */
	struct cg_addr source;        /* AF_UNSPEC: none */
	/* the user-space lookup's deciding ip rule (it agrees with the kernel,
	 * which does not say which rule decided), or rule_known false */
	bool rule_known;
	uint32_t rule_priority;
};

struct audit_target {
	struct cg_addr addr;
	uint8_t l4proto;              /* IPPROTO_UDP / IPPROTO_TCP */
	uint16_t port;                /* the service's port (inbound: the host's listener) */
	uint16_t local_port;          /* the host's own port (DHCP: 68); 0: an ephemeral one */
	bool reply_before_netfilter;  /* the client reads replies ahead of netfilter (dhclient) */
	bool inbound;                 /* the provider opens the connection (health check) */
	const char *role;             /* "dns", "metadata", "mirror", "ntp", "health-check", "service" */
	const char *origin;           /* "cli", "resolv.conf", "systemd-resolved", "policy:NAME",
				       * or a discovery source's ("dhcp-lease:eth0", "chrony.conf:12") */
	const char *service;          /* the policy service's name, or NULL */
	struct cg_prefix range;       /* inbound from a policy range: the whole range (len 0: none) */
	enum host_client client_kind; /* who sends the requests, as its source says */
	/* whose sockets the flow's packets are (the client's cgroups): known
	 * where a cgroup BPF program below the root makes it matter; NULL:
	 * any process's */
	const struct blind_client *client;

	/* results */
	bool routed;                  /* a route lookup was made (kernel answer in route) */
	bool route_agrees;            /* the user-space lookup agrees with the kernel */
	bool simulated;
	bool probed;                  /* --probe ran for this target (result in probe) */
	struct target_route route;    /* the kernel's answer */
	char *route_disagreement;     /* !route_agrees: how they differ (malloc'd) */
	const char *unroutable_why;   /* TARGET_UNROUTABLE: why, in words */
	struct sim_flow flow;
	/* the simulation's outcome: shared by every target whose packets took
	 * the same path to the same verdicts (the audit's, read-only); the
	 * packets in it are the first such target's: sim_leg_packet() gives a
	 * target's own */
	const struct flow_result *sim;
	enum target_verdict verdict;
	const struct cg_rule *blocked_by;      /* blocked or uncertain: the rule */
	const struct cg_chain *blocked_policy; /* blocked by a chain's policy */
	enum sim_leg blocked_leg;
	const char *uncertain_what;
	/* blocked or uncertain because of something outside netfilter on the
	 * path (XDP, tc, an xfrm policy, ...): what it is; NULL otherwise */
	const struct blind_spot *blind;
	/* reply_before_netfilter: the netfilter rule that drops the reply's
	 * copy the client does not read (the target is reachable), or NULL */
	const struct cg_rule *reply_drop_unread;
	struct probe_result *probe;   /* probed: malloc'd */
	/* a service this host offers over an overlay: the overlay's device
	 * the peer's connection arrives on (replies must leave there too) */
	const char *overlay_dev;
};

enum finding_severity { FINDING_INFO, FINDING_WARNING, FINDING_CRITICAL };

struct audit_finding {
	enum finding_severity severity;
	char code[48];
	char *message;                /* malloc'd */
	const struct cg_rule *rule;   /* may be NULL */
	/* the event that makes it bite ("overlay-start", "netfilter-mode-on"),
	 * or NULL: it is about the ruleset as it is */
	const char *event;
	size_t *targets;              /* indices into audit.targets, malloc'd */
	size_t n_targets;
	/* a finding about the units of a service offered over the overlay:
	 * the unit, when it bites, the cycle, the files --fix writes */
	const struct svc_finding *svc;
};

/* What --fix did (or, with --dry-run, would do), or what --undo removed. */
struct audit_change {
	char *command;                /* the exception as a command (malloc'd), or NULL */
	char *message;                /* what happened, in words (malloc'd) */
	const char *result;           /* "applied", "unchanged", "dry-run", "refused", "failed", "removed" */
	char target[64];              /* "100.100.2.136 udp/53", or "" */
	const char *before, *after;   /* the target's verdict before and after, or NULL */
	char *file;                   /* a unit file written or removed (malloc'd), or NULL */
};

struct audit {
	const struct cg_options *opts;
	/* policies: every overlay policy, and the provider policies in use */
	struct policy *policies;
	size_t n_policies;
	const char *provider;         /* the detected or selected provider, or NULL */

	struct route_state routes;
	struct cg_ruleset ruleset;
	struct sim_index *index;
	struct cg_addr_env env;
	uint16_t local_port;          /* the ephemeral port used for simulated requests */

	struct audit_target *targets;
	size_t n_targets;
	struct audit_finding *findings;
	size_t n_findings;
	struct audit_change *changes;
	size_t n_changes;

	/* what the host says it depends on, and what is on the path besides
	 * netfilter (not read for --replay: they would be this machine's) */
	struct discovered_list discovered;
	struct blind_spots blind;
	/* the services offered over the overlays: what the units, sshd_config
	 * and the sysctls say of the next boot (not for --replay) */
	struct svc_report services;
	bool services_read;
	bool services_quiet;          /* no unit directory: the analysis's notes are no news */

	/* the run's exit status when it is not the audit's (--fix that failed
	 * or refused: 3), so that the report's "exit_status" says it too */
	bool status_forced;
	int forced_status;

	/* what the targets share: origins' strings, simulation outcomes */
	struct arena strings;
	struct sim_outcomes *outcomes;
};

struct audit_change *audit_add_change(struct audit *a, const char *result, const char *target,
				      char *command, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Where policies and host facts come from; overridable for tests and for
 * hosts with unusual layouts (CGNATCHECK_POLICY_DIR, CGNATCHECK_POLICY_LOCAL_DIR,
 * CGNATCHECK_DMI_DIR, CGNATCHECK_RESOLVED_CONF in the environment). */
const char *audit_policy_dir(void);
const char *audit_policy_local_dir(void);
const char *audit_dmi_dir(void);

void audit_init(struct audit *a, const struct cg_options *opts);
void audit_free(struct audit *a);

/* Loads the policies: every shipped or local file (a local file overrides a
 * shipped one of the same name), --policy NAME|FILE, and detection from DMI.
 * Errors (malformed file, unknown --policy) are logged; returns -errno. */
int audit_load_policies(struct audit *a);

/* The targets: --dns/--service, else the resolvers of /etc/resolv.conf (and
 * systemd-resolved's upstream servers behind its stub), plus the provider
 * policy's services. Returns 0 or -errno (logged). */
int audit_collect_targets(struct audit *a);

/* The services this host offers over an overlay (audit/overlay.c): reads
 * the units, sshd_config and the sysctls below the host root and analyses
 * the next boot (services_analyze()); not for --replay. Called by
 * audit_collect_targets(), whose overlay-service targets come from it. */
void audit_services_read(struct audit *a, const struct discover_scope *scope);

/* Reads the routing state and every netfilter backend. */
/* The chains the policies' overlays name (Chains=, e.g. ts-input), which the
 * audit reads in any table however large (malloc'd array of n, pointing
 * into the policies). */
const char **audit_overlay_chains(const struct audit *a, size_t *n);
int audit_collect_state(struct audit *a);

/* Route lookup, flow simulation and verdict per target, then the findings. */
int audit_run(struct audit *a);

/* The exit status of the contract for the audit's outcome. */
int audit_exit_status(const struct audit *a);

const char *target_verdict_to_string(enum target_verdict v);
const char *finding_severity_to_string(enum finding_severity s);
const char *l4proto_to_string(uint8_t proto);

/* Adds a finding; message is formatted. Returns it for adding targets. */
struct audit_finding *audit_add_finding(struct audit *a, enum finding_severity sev, const char *code,
					const struct cg_rule *rule, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void finding_add_target(struct audit_finding *f, size_t target);
