/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What to check: the command line's targets, else the host's resolvers, plus
 * the services of the provider policy in use. */
#include "config.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/audit.h"
#include "cgnatcheck/common.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLVED_UPSTREAM_CONF "/run/systemd/resolve/resolv.conf"

static const char *resolved_conf(void)
{
	const char *e = getenv("CGNATCHECK_RESOLVED_CONF");

	return e && *e ? e : RESOLVED_UPSTREAM_CONF;
}

static bool target_exists(const struct audit *a, const struct cg_addr *addr, uint8_t proto,
			  uint16_t port, bool inbound)
{
	for (size_t i = 0; i < a->n_targets; i++) {
		const struct audit_target *t = &a->targets[i];
		if (addr_equal(&t->addr, addr) && t->l4proto == proto && t->port == port && t->inbound == inbound)
			return true;
	}
	return false;
}

static struct audit_target *add_target(struct audit *a, const struct cg_addr *addr, uint8_t proto,
				       uint16_t port, bool inbound, const char *role, const char *origin)
{
	struct audit_target *t;

	if (target_exists(a, addr, proto, port, inbound))
		return NULL;
	a->targets = xreallocarray(a->targets, a->n_targets + 1, sizeof(*a->targets));
	t = &a->targets[a->n_targets++];
	memset(t, 0, sizeof(*t));
	t->addr = *addr;
	t->l4proto = proto;
	t->port = port;
	t->inbound = inbound;
	t->role = role;
	snprintf(t->origin, sizeof(t->origin), "%s", origin);
	return t;
}

static void add_protos(struct audit *a, const struct cg_addr *addr, unsigned protos, uint16_t port,
		       bool inbound, const char *role, const char *origin, const char *service,
		       const struct cg_prefix *range)
{
	static const struct { unsigned bit; uint8_t proto; } protocols[] = {
		{ CG_PROTO_UDP, IPPROTO_UDP }, { CG_PROTO_TCP, IPPROTO_TCP },
	};

	for (size_t i = 0; i < ARRAY_SIZE(protocols); i++) {
		if (!(protos & protocols[i].bit))
			continue;
		struct audit_target *t = add_target(a, addr, protocols[i].proto, port, inbound, role, origin);
		if (!t)
			continue;
		t->service = service;
		if (range)
			t->range = *range;
	}
}

/* A --service without a port takes the port from a policy service at that
 * address, or fails: there is nothing to simulate without one. */
static int service_from_policy(const struct audit *a, const struct cg_target_arg *arg,
			       const struct policy_service **out)
{
	for (size_t i = 0; i < a->n_policies; i++)
		for (size_t j = 0; j < a->policies[i].n_services; j++) {
			const struct policy_service *s = &a->policies[i].services[j];
			for (size_t k = 0; k < s->n_addrs; k++)
				if (s->port && prefix_contains(&s->addrs[k], &arg->addr)) {
					*out = s;
					return 0;
				}
		}
	return -ENOENT;
}

static int cli_targets(struct audit *a)
{
	char buf[CG_ADDRSTRLEN];

	for (size_t i = 0; i < a->opts->n_targets; i++) {
		const struct cg_target_arg *arg = &a->opts->targets[i];
		unsigned protos = arg->protos;
		uint16_t port = arg->port;
		const char *role = arg->dns ? "dns" : "service";

		if (!arg->dns && !port) {
			const struct policy_service *s;
			if (service_from_policy(a, arg, &s) < 0)
				return log_error("--service %s: no port given and no policy service at that "
						 "address; give one, e.g. --service %s:80/tcp",
						 addr_to_string(&arg->addr, buf), buf);
			port = s->port;
			protos = protos ? protos : s->protos;
			role = s->role ? s->role : role;
		}
		if (!protos)
			protos = CG_PROTO_TCP;
		add_protos(a, &arg->addr, protos, port, false, role, "cli", NULL, NULL);
	}
	return 0;
}

/* "nameserver ADDR" lines; returns how many were read, or -errno. */
static int read_nameservers(const char *path, struct cg_addr *out, int max)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[512];
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < max) {
		char word[64], addr[128];
		if (sscanf(line, " %63s %127s", word, addr) != 2 || strcmp(word, "nameserver") != 0)
			continue;
		/* a scoped IPv6 address (fe80::1%eth0) keeps its scope out */
		addr[strcspn(addr, "%")] = '\0';
		if (addr_parse(addr, &out[n]) == 0)
			n++;
	}
	return n;
}

static bool is_loopback(const struct cg_addr *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return a->bytes[0] == 127;
	return memcmp(a->bytes, v6lo, 16) == 0;
}

static bool is_resolved_stub(const struct cg_addr *a)
{
	/* 127.0.0.53 (stub) and 127.0.0.54 (proxy) */
	return a->family == AF_INET && a->bytes[0] == 127 && a->bytes[1] == 0 && a->bytes[2] == 0 &&
	       (a->bytes[3] == 53 || a->bytes[3] == 54);
}

static void add_resolver(struct audit *a, const struct cg_addr *addr, const char *origin)
{
	add_protos(a, addr, CG_PROTO_UDP | CG_PROTO_TCP, 53, false, "dns", origin, NULL, NULL);
}

static int resolver_targets(struct audit *a)
{
	struct cg_addr ns[16], up[32];
	char buf[CG_ADDRSTRLEN];
	int n, m;
	bool stub = false;

	n = read_nameservers(RESOLV_CONF, ns, (int)ARRAY_SIZE(ns));
	if (n < 0) {
		audit_add_finding(a, FINDING_INFO, "NO_RESOLV_CONF", NULL,
				  "cannot read %s (%s): no resolvers to check; give them with --dns",
				  RESOLV_CONF, strerror(-n));
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (is_resolved_stub(&ns[i])) {
			stub = true;
			continue;
		}
		if (is_loopback(&ns[i])) {
			audit_add_finding(a, FINDING_INFO, "LOCAL_RESOLVER", NULL,
					  "%s uses a local resolver at %s; its upstream servers are not "
					  "known here: give them with --dns", RESOLV_CONF,
					  addr_to_string(&ns[i], buf));
			continue;
		}
		add_resolver(a, &ns[i], "resolv.conf");
	}
	if (!stub)
		return 0;
	m = read_nameservers(resolved_conf(), up, (int)ARRAY_SIZE(up));
	if (m < 0) {
		audit_add_finding(a, FINDING_INFO, "RESOLVED_UPSTREAMS_UNKNOWN", NULL,
				  "%s points at systemd-resolved's stub, but %s cannot be read (%s): "
				  "give its upstream servers with --dns", RESOLV_CONF, resolved_conf(),
				  strerror(-m));
		return 0;
	}
	for (int i = 0; i < m; i++)
		if (!is_loopback(&up[i]))
			add_resolver(a, &up[i], "systemd-resolved");
	return 0;
}

/* The first usable host address of a range, to stand for the whole range
 * (a health check may come from anywhere in it). */
static struct cg_addr range_representative(const struct cg_prefix *p)
{
	struct cg_addr a = p->addr;
	int bits = addr_family_bits(a.family);

	if (p->len < bits)
		a.bytes[addr_family_len(a.family) - 1] |= 1;
	return a;
}

static bool link_exists(const struct audit *a, const char *name)
{
	return route_state_link_by_name(&a->routes, name) != NULL;
}

static void policy_targets(struct audit *a, const struct policy *p)
{
	char origin[96];

	snprintf(origin, sizeof(origin), "policy:%s", p->name);
	for (size_t i = 0; i < p->n_services; i++) {
		const struct policy_service *s = &p->services[i];

		/* an overlay's own service matters only where the overlay is */
		if (s->interface && !link_exists(a, s->interface))
			continue;
		if (s->listener) {
			audit_add_finding(a, FINDING_INFO, "LISTENER_PORT_UNKNOWN", NULL,
					  "%s: %s (%s connections to this host) not checked: the listener "
					  "port is yours to give, in %s/%s.conf (Port=)", p->name, s->name,
					  s->direction == POLICY_INBOUND ? "inbound" : "outbound",
					  audit_policy_local_dir(), p->name);
			continue;
		}
		for (size_t k = 0; k < s->n_addrs; k++) {
			bool host = s->addrs[k].len == addr_family_bits(s->addrs[k].addr.family);
			struct cg_addr addr = s->addrs[k].addr;

			if (s->direction == POLICY_OUTBOUND && !host)
				continue; /* a range of servers: the policy names the hosts */
			if (!host)
				addr = range_representative(&s->addrs[k]);
			add_protos(a, &addr, s->protos, s->port, s->direction == POLICY_INBOUND,
				   s->role ? s->role : "service", origin, s->name, host ? NULL : &s->addrs[k]);
		}
	}
}

int audit_collect_targets(struct audit *a)
{
	int r;

	if (a->opts->n_targets) {
		r = cli_targets(a);
		if (r < 0)
			return r;
	} else {
		r = resolver_targets(a);
		if (r < 0)
			return r;
	}
	/* a policy's services: by default, or when a policy was asked for */
	if (!a->opts->n_targets || a->opts->n_policies)
		for (size_t i = 0; i < a->n_policies; i++)
			policy_targets(a, &a->policies[i]);
	if (!a->n_targets)
		audit_add_finding(a, FINDING_INFO, "NO_TARGETS", NULL,
				  "nothing to check: no resolvers found and no provider detected; "
				  "give targets with --dns/--service or a provider with --policy");
	return 0;
}
