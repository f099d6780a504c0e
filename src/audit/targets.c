/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What to check: the command line's targets, else the host's resolvers, plus
 * the services of the provider policy in use. */
#include "config.h"

#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/audit.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLVED_UPSTREAM_CONF "/run/systemd/resolve/resolv.conf"

static const char *resolved_conf(void)
{
	const char *e = getenv("CGNATCHECK_RESOLVED_CONF");

	return e && *e ? e : RESOLVED_UPSTREAM_CONF;
}

/* The targets being collected, and an index of them for dedup: an open
 * addressing table keyed by what makes a target the same one (address,
 * protocol, port, direction), so a policy of 100,000 addresses is collected
 * in linear time. A slot keeps its target's hash: a probe compares targets
 * (5 KB apart in memory) only when the hashes agree, and growing the table
 * does not read them at all. */
struct target_slot {
	uint32_t target;     /* target number + 1, or 0: empty */
	uint32_t hash;
};

struct target_list {
	struct audit *a;
	size_t cap;          /* room in a->targets */
	struct target_slot *slots;
	size_t mask;         /* number of slots - 1 (a power of two) */
};

static uint32_t target_hash(const struct cg_addr *addr, uint8_t proto, uint16_t port, bool inbound)
{
	uint64_t h = hash_fnv1a_u64(HASH_FNV1A_INIT, (uint64_t)(unsigned)addr->family);

	/* the bytes addr_equal() compares, and no others */
	h = hash_fnv1a(h, addr->bytes, addr_family_len(addr->family));
	h = hash_fnv1a_u64(h, (uint64_t)proto << 32 | (uint64_t)port << 8 | inbound);
	return (uint32_t)hash_mix64(h);
}

static bool target_is(const struct audit_target *t, const struct cg_addr *addr, uint8_t proto,
		      uint16_t port, bool inbound)
{
	return addr_equal(&t->addr, addr) && t->l4proto == proto && t->port == port && t->inbound == inbound;
}

/* The slot of that target, or the empty slot where it would go. */
static struct target_slot *slot_find(const struct target_list *l, uint32_t h, const struct cg_addr *addr,
				     uint8_t proto, uint16_t port, bool inbound)
{
	/* linear probing; the table is at most half full, so this ends */
	for (size_t i = h & l->mask;; i = (i + 1) & l->mask) {
		struct target_slot *s = &l->slots[i];
		if (!s->target ||
		    (s->hash == h && target_is(&l->a->targets[s->target - 1], addr, proto, port, inbound)))
			return s;
	}
}

/* Makes room for one more target in the index: doubles it when it would
 * be more than half full. */
static void index_reserve(struct target_list *l)
{
	struct target_slot *old = l->slots;
	size_t n_old = old ? l->mask + 1 : 0, need = 2 * (l->a->n_targets + 1);

	if (old && need <= n_old)
		return;
	if (l->a->n_targets >= UINT32_MAX - 1) {
		fputs("cgnatcheck: too many targets\n", stderr);
		abort();
	}
	l->mask = old ? 2 * l->mask + 1 : 63;
	while (need > l->mask + 1)
		l->mask = 2 * l->mask + 1;
	l->slots = xcalloc(l->mask + 1, sizeof(*l->slots));
	/* the targets already indexed are distinct: each takes the first free slot */
	for (size_t i = 0; i < n_old; i++) {
		if (!old[i].target)
			continue;
		size_t j = old[i].hash & l->mask;
		while (l->slots[j].target)
			j = (j + 1) & l->mask;
		l->slots[j] = old[i];
	}
	free(old);
	/* targets there before the index (none today) */
	for (size_t i = 0; !n_old && i < l->a->n_targets; i++) {
		const struct audit_target *t = &l->a->targets[i];
		uint32_t h = target_hash(&t->addr, t->l4proto, t->port, t->inbound);
		struct target_slot *s = slot_find(l, h, &t->addr, t->l4proto, t->port, t->inbound);
		if (!s->target)
			*s = (struct target_slot){ (uint32_t)i + 1, h };
	}
}

/* Adds the target unless one with the same address, protocol, port and
 * direction is there already (then returns NULL): the first one stays, in
 * its place. */
static struct audit_target *add_target(struct target_list *l, const struct cg_addr *addr, uint8_t proto,
				       uint16_t port, bool inbound, const char *role, const char *origin)
{
	struct audit *a = l->a;
	uint32_t h = target_hash(addr, proto, port, inbound);
	struct audit_target *t;
	struct target_slot *slot;

	index_reserve(l);
	slot = slot_find(l, h, addr, proto, port, inbound);
	if (slot->target)
		return NULL;
	grow_array((void **)&a->targets, &l->cap, a->n_targets + 1, sizeof(*a->targets));
	*slot = (struct target_slot){ (uint32_t)a->n_targets + 1, h };
	t = &a->targets[a->n_targets++];
	memset(t, 0, sizeof(*t));
	t->addr = *addr;
	t->l4proto = proto;
	t->port = port;
	t->inbound = inbound;
	t->role = role;
	t->origin = origin;
	return t;
}

static void add_protos(struct target_list *l, const struct cg_addr *addr, unsigned protos, uint16_t port,
		       bool inbound, const char *role, const char *origin, const char *service,
		       const struct cg_prefix *range)
{
	static const struct { unsigned bit; uint8_t proto; } protocols[] = {
		{ CG_PROTO_UDP, IPPROTO_UDP }, { CG_PROTO_TCP, IPPROTO_TCP },
	};

	for (size_t i = 0; i < ARRAY_SIZE(protocols); i++) {
		if (!(protos & protocols[i].bit))
			continue;
		struct audit_target *t = add_target(l, addr, protocols[i].proto, port, inbound, role, origin);
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

static int cli_targets(struct target_list *l)
{
	const struct audit *a = l->a;
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
		add_protos(l, &arg->addr, protos, port, false, role, "cli", NULL, NULL);
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

static void add_resolver(struct target_list *l, const struct cg_addr *addr, const char *origin,
			 enum host_client client)
{
	size_t first = l->a->n_targets;

	add_protos(l, addr, CG_PROTO_UDP | CG_PROTO_TCP, 53, false, "dns", origin, NULL, NULL);
	for (size_t i = first; i < l->a->n_targets; i++)
		l->a->targets[i].client_kind = client;
}

static int resolver_targets(struct target_list *l)
{
	struct audit *a = l->a;
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
		add_resolver(l, &ns[i], "resolv.conf", HOST_CLIENT_UNKNOWN);
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
			add_resolver(l, &up[i], "systemd-resolved", HOST_CLIENT_RESOLVED);
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

/* A Port=listener service (a load balancer's health checks): every socket
 * that listens where its connections arrive is a target, inbound from the
 * service's range to that port, origin "listening:tcp/8080". Where they
 * arrive: on the provider-facing device, the one the route to the range
 * takes (the audit routes the target's reply the same way). A socket takes
 * them when it is bound to a wildcard address, or to an address of that
 * device, and to no other device; an IPv6 wildcard takes IPv4 too unless
 * it is v6only. When the route is unknown or leads into an overlay's
 * device, any address of a device that is neither loopback nor an
 * overlay's stands in. Only the audit's own host: a replayed audit's
 * sockets would be this machine's, and --only-named discovers nothing.
 * Returns how many sockets qualified (0: the port stays unknown). */
static size_t listener_targets(struct target_list *l, const struct policy_service *s)
{
	struct audit *a = l->a;
	struct listener_list ls = { 0 };
	size_t found = 0;
	char buf[96];

	if (a->opts->offline_host || a->opts->only_named)
		return 0;
	if (discover_listeners(&ls) < 0)
		audit_add_finding(a, FINDING_INFO, "DISCOVERY_NOTE", NULL, "listening sockets: %s", ls.why);
	for (size_t k = 0; k < s->n_addrs; k++) {
		const struct cg_prefix *range = &s->addrs[k];
		struct cg_addr from = range_representative(range);
		struct route_packet pkt = { .dst = from, .uid_set = true };
		struct route_result res;
		int dev = 0;

		if (route_lookup(&a->routes, &pkt, &res) == 0 && !res.error && res.ifindex > 0) {
			const struct route_link *link = route_state_link(&a->routes, res.ifindex);
			if (link && !route_link_is_overlay(link) && !(link->flags & IFF_LOOPBACK))
				dev = res.ifindex;
		}
		for (size_t i = 0; i < ls.n; i++) {
			const struct listener *li = &ls.v[i];
			unsigned bit = li->l4proto == IPPROTO_TCP ? CG_PROTO_TCP : CG_PROTO_UDP;
			static const struct cg_addr none;
			bool wildcard = memcmp(li->addr.bytes, none.bytes, sizeof(none.bytes)) == 0;
			const struct route_link *bound = li->ifindex ? route_state_link(&a->routes, li->ifindex) : NULL;
			bool takes = false;

			if (!(s->protos & bit))
				continue;
			if (li->addr.family != from.family &&
			    !(from.family == AF_INET && li->addr.family == AF_INET6 && wildcard && !li->v6only))
				continue;
			/* bound to another device (or one that is gone) */
			if (li->ifindex && (dev ? li->ifindex != dev : !bound || route_link_is_overlay(bound)))
				continue;
			for (size_t j = 0; !wildcard && !takes && j < a->routes.n_addrs; j++) {
				const struct route_addr *ra = &a->routes.addrs[j];
				const struct route_link *on = route_state_link(&a->routes, ra->ifindex);
				if (!addr_equal(&ra->local, &li->addr))
					continue;
				takes = dev ? ra->ifindex == dev :
					on && !route_link_is_overlay(on) && !(on->flags & IFF_LOOPBACK);
			}
			if (!wildcard && !takes)
				continue;
			found++;
			snprintf(buf, sizeof(buf), "listening:%s/%u", l4proto_to_string(li->l4proto), li->port);
			struct audit_target *t = add_target(l, &from, li->l4proto, li->port, true,
							    s->role ? s->role : "service",
							    arena_strdup(&a->strings, buf));
			if (!t)
				continue;
			t->service = s->name;
			if (range->len < addr_family_bits(range->addr.family))
				t->range = *range;
		}
	}
	listener_list_free(&ls);
	return found;
}

static void policy_targets(struct target_list *l, const struct policy *p)
{
	struct audit *a = l->a;
	char buf[96];

	/* the audit's own copy, which its targets share */
	snprintf(buf, sizeof(buf), "policy:%s", p->name);
	const char *origin = arena_strdup(&a->strings, buf);
	for (size_t i = 0; i < p->n_services; i++) {
		const struct policy_service *s = &p->services[i];

		/* an overlay's own service matters only where the overlay is */
		if (s->interface && !link_exists(a, s->interface))
			continue;
		if (s->listener) {
			if (listener_targets(l, s))
				continue;
			audit_add_finding(a, FINDING_INFO, "LISTENER_PORT_UNKNOWN", NULL,
					  "%s: %s (%s connections to this host) not checked: %sthe listener "
					  "port is yours to give, in %s/%s.conf (Port=)", p->name, s->name,
					  s->direction == POLICY_INBOUND ? "inbound" : "outbound",
					  a->opts->offline_host || a->opts->only_named ? "" :
					  "no socket listens where they arrive; ",
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
			add_protos(l, &addr, s->protos, s->port, s->direction == POLICY_INBOUND,
				   s->role ? s->role : "service", origin, s->name, host ? NULL : &s->addrs[k]);
		}
	}
}

/* ---- what the host itself says it depends on ------------------------------ */

/* Tailscale's IPv6 range: an overlay policy may not say it */
static const char *const DEFAULT_SCOPES[] = { "100.64.0.0/10", "fd7a:115c:a1e0::/48" };

/* The ranges the overlays claim (every overlay policy's, else the shared
 * range itself) and the overlays' devices. */
static void discovery_scope(const struct audit *a, struct discover_scope *s, struct cg_prefix **ranges,
			    const char ***ifnames)
{
	size_t n = 0, cap = 0, ni = 0;

	*ranges = NULL;
	*ifnames = NULL;
	for (size_t i = 0; i < a->n_policies; i++)
		for (size_t j = 0; j < a->policies[i].n_overlays; j++) {
			const struct policy_overlay *ov = &a->policies[i].overlays[j];
			for (size_t k = 0; k < ov->n_ranges; k++) {
				grow_array((void **)ranges, &cap, n + 1, sizeof(**ranges));
				(*ranges)[n++] = ov->ranges[k];
			}
			if (ov->interface) {
				*ifnames = xreallocarray(*ifnames, ni + 1, sizeof(**ifnames));
				(*ifnames)[ni++] = ov->interface;
			}
		}
	for (size_t i = 0; i < ARRAY_SIZE(DEFAULT_SCOPES); i++) {
		struct cg_prefix p;
		if (prefix_parse(DEFAULT_SCOPES[i], &p) < 0)
			continue;
		grow_array((void **)ranges, &cap, n + 1, sizeof(**ranges));
		(*ranges)[n++] = p;
	}
	*s = (struct discover_scope){ .ranges = *ranges, .n_ranges = n,
				      .overlay_ifnames = *ifnames, .n_overlay_ifnames = ni };
}

static bool on_overlay_device(const struct discover_scope *s, const char *ifname)
{
	for (size_t i = 0; i < s->n_overlay_ifnames; i++)
		if (ifname[0] && strcmp(s->overlay_ifnames[i], ifname) == 0)
			return true;
	return false;
}

static void add_discovered(struct target_list *l, const struct discover_scope *scope)
{
	struct audit *a = l->a;

	for (size_t i = 0; i < a->discovered.n; i++) {
		const struct discovered *d = &a->discovered.v[i];
		/* the overlay's own peers are the overlay's business */
		if (on_overlay_device(scope, d->ifname))
			continue;
		const char *origin = arena_strdup(&a->strings, d->origin);
		static const struct { unsigned bit; uint8_t proto; } protocols[] = {
			{ CG_PROTO_UDP, IPPROTO_UDP }, { CG_PROTO_TCP, IPPROTO_TCP },
		};
		for (size_t k = 0; k < ARRAY_SIZE(protocols); k++) {
			if (!(d->protos & protocols[k].bit))
				continue;
			struct audit_target *t = add_target(l, &d->addr, protocols[k].proto, d->port, d->inbound,
							    d->role, origin);
			if (t) {
				t->local_port = d->local_port;
				t->reply_before_netfilter = d->reply_before_netfilter;
				t->client_kind = d->client;
			}
		}
	}
	for (size_t i = 0; i < a->discovered.n_notes; i++)
		audit_add_finding(a, FINDING_INFO, "DISCOVERY_NOTE", NULL, "%s", a->discovered.notes[i]);
}

/* Connected subnets and default gateways inside an overlay's range, on a
 * device that is not the overlay's: the overlay's "not from my device"
 * drop takes every packet from them. The gateway joins as a target (its
 * own replies: DNS where it serves it, ICMP errors); the subnet's
 * neighbours as an inbound one (SSH to this host). */
static void prefix_mask_host_bits(struct cg_prefix *p)
{
	int len = addr_family_len(p->addr.family);

	for (int i = 0; i < len; i++) {
		int keep = (int)p->len - 8 * i;
		if (keep >= 8)
			continue;
		p->addr.bytes[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

static void lan_in_range(struct target_list *l, const struct discover_scope *scope)
{
	struct audit *a = l->a;
	char buf[CG_ADDRSTRLEN], netbuf[CG_ADDRSTRLEN + 8], origin[96];

	for (size_t i = 0; i < a->routes.n_addrs; i++) {
		const struct route_addr *ra = &a->routes.addrs[i];
		const struct route_link *dev = route_state_link(&a->routes, ra->ifindex);
		struct cg_prefix net = { .addr = ra->peer.family ? ra->peer : ra->local, .len = ra->prefixlen };

		if (!dev || on_overlay_device(scope, dev->name) || ra->scope >= RT_SCOPE_LINK)
			continue;
		if (!discover_in_scope(scope, &ra->local) || ra->prefixlen >= addr_family_bits(ra->family) - 1)
			continue;
		prefix_mask_host_bits(&net);
		/* the overlay's own address range on a device policies do not
		 * name (a second overlay): its own business */
		if (strncmp(dev->name, "tailscale", 9) == 0 || strncmp(dev->name, "wt", 2) == 0 ||
		    strncmp(dev->kind, "wireguard", 9) == 0 || strcmp(dev->kind, "tun") == 0)
			continue;
		snprintf(netbuf, sizeof(netbuf), "%s/%u", addr_to_string(&net.addr, buf), net.len);
		snprintf(origin, sizeof(origin), "connected:%s %s", dev->name, netbuf);
		const char *o = arena_strdup(&a->strings, origin);
		struct cg_addr rep = range_representative(&net);
		if (addr_equal(&rep, &ra->local))
			rep.bytes[addr_family_len(rep.family) - 1] ^= 3;
		struct audit_target *t = add_target(l, &rep, IPPROTO_TCP, 22, true, "lan", o);
		struct audit_finding *f;
		if (t)
			t->range = net;
		/* info: a problem only where a firewall drops the range, and then
		 * the target's verdict says so */
		f = audit_add_finding(a, FINDING_INFO, "LAN_IN_OVERLAY_RANGE", NULL,
				  "%s is numbered inside an overlay's range (%s on %s): an overlay firewall "
				  "that drops that range unless it arrives on the overlay's device cuts this "
				  "host off from its neighbours (their connections, e.g. SSH, and their "
				  "replies) and from a gateway in it",
				  netbuf, addr_to_string(&ra->local, buf), dev->name);
		if (t)
			finding_add_target(f, (size_t)(t - a->targets));
	}
	for (size_t i = 0; i < a->routes.n_routes; i++) {
		const struct route_entry *re = &a->routes.routes[i];
		if (re->dst_len != 0 || re->type != RTN_UNICAST || re->n_paths != 1 || !re->path.gateway.family)
			continue;
		const struct route_link *dev = route_state_link(&a->routes, re->path.ifindex);
		if (!dev || on_overlay_device(scope, dev->name) || !discover_in_scope(scope, &re->path.gateway))
			continue;
		snprintf(origin, sizeof(origin), "default-gateway:%s", dev->name);
		const char *o = arena_strdup(&a->strings, origin);
		size_t first = a->n_targets;
		static const uint8_t protos[] = { IPPROTO_UDP, IPPROTO_TCP };
		for (size_t k = 0; k < ARRAY_SIZE(protos); k++)
			add_target(l, &re->path.gateway, protos[k], 53, false, "gateway", o);
		if (a->n_targets == first)
			continue;
		struct audit_finding *f =
			audit_add_finding(a, FINDING_INFO, "GATEWAY_IN_OVERLAY_RANGE", NULL,
					  "the default gateway %s (via %s, table %u) is inside an overlay's "
					  "range: its own answers (DNS, and ICMP errors such as \"fragmentation "
					  "needed\") come from an address the overlay's firewall drops unless it "
					  "arrives on the overlay's device; checked as DNS to the gateway",
					  addr_to_string(&re->path.gateway, buf), dev->name, re->table);
		for (size_t k = first; k < a->n_targets; k++)
			finding_add_target(f, k);
	}
}

static void discovery_targets(struct target_list *l, const struct discover_scope *scope)
{
	struct audit *a = l->a;

	/* each source is optional and quiet when absent; one that fails says
	 * so in a note and the others go on */
	(void)discover_dhcp_leases(scope, &a->discovered);
	(void)discover_config(scope, &a->discovered);
	(void)discover_conntrack(scope, &a->discovered);
	add_discovered(l, scope);
	lan_in_range(l, scope);
}

/* ---- the services this host offers over an overlay -------------------------
 *
 * Each is an inbound target: a peer of the overlay opens a connection to
 * the port, arriving on the overlay's device. The peer is one the host
 * routes through that device (a route of any table whose destination lies
 * in the overlay's ranges, the most specific first: Tailscale's /32 per
 * peer in table 52); with no such route there is no peer to come from and
 * the path is not simulated (a note says so). */

struct overlay_dev {
	const struct route_link *link;
	struct cg_addr peer[2];       /* [v6]: AF_UNSPEC when the device routes none */
};

/* The overlay's own service there (Tailscale's 100.100.100.100 on
 * tailscale0), or this host's own address (IPv6 gives a /128 its own
 * route): routed through the device, but no peer. */
static bool overlay_own_service(const struct audit *a, const char *ifname, const struct cg_addr *addr)
{
	for (size_t i = 0; i < a->routes.n_addrs; i++)
		if (addr_equal(&a->routes.addrs[i].local, addr))
			return true;
	for (size_t i = 0; i < a->n_policies; i++)
		for (size_t j = 0; j < a->policies[i].n_services; j++) {
			const struct policy_service *s = &a->policies[i].services[j];
			if (!s->interface || strcmp(s->interface, ifname) != 0)
				continue;
			for (size_t k = 0; k < s->n_addrs; k++)
				if (prefix_contains(&s->addrs[k], addr))
					return true;
		}
	return false;
}

static void overlay_peers(const struct audit *a, const struct discover_scope *scope, struct overlay_dev *d)
{
	uint8_t best[2] = { 0, 0 };

	for (size_t i = 0; i < a->routes.n_routes; i++) {
		const struct route_entry *re = &a->routes.routes[i];
		int v6 = re->family == AF_INET6;
		struct cg_addr dst = { .family = re->family };

		if (re->n_paths != 1 || re->path.ifindex != d->link->ifindex || re->type != RTN_UNICAST ||
		    (re->family != AF_INET && re->family != AF_INET6) || re->dst_len == ROUTE_DST_LEN_BAD)
			continue;
		memcpy(dst.bytes, re->dst, (size_t)addr_family_len(re->family));
		if (re->dst_len < addr_family_bits(re->family)) {
			struct cg_prefix p = { .addr = dst, .len = re->dst_len };
			dst = range_representative(&p);
		}
		if (!discover_in_scope(scope, &dst) || (d->peer[v6].family && re->dst_len <= best[v6]) ||
		    overlay_own_service(a, d->link->name, &dst))
			continue;
		d->peer[v6] = dst;
		best[v6] = re->dst_len;
	}
}

/* The overlay devices that exist, with a peer each where one is routed. */
static size_t overlay_devs(const struct audit *a, const struct discover_scope *scope, struct overlay_dev **out)
{
	size_t n = 0;

	*out = xcalloc(a->routes.n_links + 1, sizeof(**out));
	for (size_t i = 0; i < a->routes.n_links; i++) {
		const struct route_link *l = &a->routes.links[i];
		bool ours = route_link_is_overlay(l);
		for (size_t k = 0; !ours && k < scope->n_overlay_ifnames; k++)
			ours = strcmp(scope->overlay_ifnames[k], l->name) == 0;
		if (!ours)
			continue;
		(*out)[n].link = l;
		overlay_peers(a, scope, &(*out)[n]);
		n++;
	}
	return n;
}

static const char *offered_role(uint8_t proto, uint16_t port, const char *unit)
{
	if (unit && (!strcmp(unit, "ssh.socket") || !strcmp(unit, "ssh.service") || !strcmp(unit, "sshd.service") ||
		     !strncmp(unit, "ssh@", 4)))
		return "ssh";
	return proto == IPPROTO_TCP && port == 22 ? "ssh" : "overlay-service";
}

/* One service on one overlay device: its target, unless the device has no
 * peer of that family (then *unpeered names the device). */
static void offer_on(struct target_list *l, const struct overlay_dev *d, int family, uint8_t proto, uint16_t port,
		     const char *role, const char *origin, const char **unpeered)
{
	struct audit *a = l->a;
	const struct cg_addr *peer = &d->peer[family == AF_INET6];

	if (!peer->family) {
		*unpeered = d->link->name;
		return;
	}
	struct audit_target *t = add_target(l, peer, proto, port, true, role, origin);
	if (t)
		t->overlay_dev = d->link->name;
	(void)a;
}

static void offer_everywhere(struct target_list *l, const struct overlay_dev *devs, size_t n_devs,
			     const struct cg_addr *bound, const char *ifname, uint8_t proto, uint16_t port,
			     const char *role, const char *origin, bool wildcard)
{
	struct audit *a = l->a;
	const char *unpeered = NULL;
	bool any = false;

	for (size_t i = 0; i < n_devs; i++) {
		const struct overlay_dev *d = &devs[i];
		if (ifname && ifname[0] && strcmp(ifname, d->link->name) != 0)
			continue;
		any = true;
		if (bound && bound->family) {
			offer_on(l, d, bound->family, proto, port, role, origin, &unpeered);
			continue;
		}
		offer_on(l, d, AF_INET, proto, port, role, origin, &unpeered);
		if (d->peer[1].family)
			offer_on(l, d, AF_INET6, proto, port, role, origin, &unpeered);
	}
	/* a socket on every address: what the overlay has no peer of is no
	 * news */
	if (wildcard)
		unpeered = NULL;
	/* one note a port (a unit's socket and the process holding it now
	 * are one service) */
	char key[32];
	snprintf(key, sizeof(key), "%s/%u (", l4proto_to_string(proto), port);
	for (size_t i = 0; (!any || unpeered) && i < a->n_findings; i++)
		if (!strcmp(a->findings[i].code, "OVERLAY_SERVICE_NOT_CHECKED") &&
		    !strncmp(a->findings[i].message, key, strlen(key)))
			return;
	if (!any)
		audit_add_finding(a, FINDING_INFO, "OVERLAY_SERVICE_NOT_CHECKED", NULL,
				  "%s/%u (%s): the path from an overlay peer was not simulated: %s%s%s exist now",
				  l4proto_to_string(proto), port, origin, ifname && ifname[0] ? "" : "no overlay device",
				  ifname && ifname[0] ? ifname : "", ifname && ifname[0] ? " does not" : " does");
	else if (unpeered)
		audit_add_finding(a, FINDING_INFO, "OVERLAY_SERVICE_NOT_CHECKED", NULL,
				  "%s/%u (%s): the path from an overlay peer was not simulated on %s: no route "
				  "through it leads to an address in the overlay's range (no peer yet)",
				  l4proto_to_string(proto), port, origin, unpeered);
}

static bool bound_to_overlay(const struct audit *a, const struct discover_scope *scope, const struct listener *li,
			     const char **ifname)
{
	const struct route_link *dev = li->ifindex ? route_state_link(&a->routes, li->ifindex) : NULL;

	*ifname = NULL;
	if (dev) {
		for (size_t k = 0; k < scope->n_overlay_ifnames; k++)
			if (!strcmp(scope->overlay_ifnames[k], dev->name))
				*ifname = dev->name;
		if (!*ifname && route_link_is_overlay(dev))
			*ifname = dev->name;
		return *ifname != NULL;
	}
	return discover_in_scope(scope, &li->addr);
}

static void overlay_service_targets(struct target_list *l, const struct discover_scope *scope)
{
	struct audit *a = l->a;
	struct overlay_dev *devs;
	size_t n_devs = overlay_devs(a, scope, &devs);
	char buf[sizeof(a->services.listeners->unit) + sizeof(a->services.listeners->source) + 2];

	/* what the units and sshd_config say */
	for (size_t i = 0; i < a->services.n_listeners; i++) {
		const struct svc_listener *s = &a->services.listeners[i];
		if (!s->overlay_address && !s->overlay_device)
			continue;
		snprintf(buf, sizeof(buf), "%s %s", s->unit, s->source);
		const char *origin = arena_strdup(&a->strings, buf);
		for (unsigned bit = CG_PROTO_UDP; bit <= CG_PROTO_TCP; bit <<= 1)
			if (s->protos & bit)
				offer_everywhere(l, devs, n_devs, &s->addr, s->ifname,
						 bit == CG_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP, s->port,
						 offered_role(bit == CG_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP, s->port,
							      s->unit), origin, false);
	}
	/* what the operator names */
	for (size_t i = 0; i < a->opts->n_offers; i++) {
		const struct cg_offer *o = &a->opts->offers[i];
		snprintf(buf, sizeof(buf), "offer:%s/%u", l4proto_to_string(o->l4proto), o->port);
		offer_everywhere(l, devs, n_devs, NULL, NULL, o->l4proto, o->port,
				 offered_role(o->l4proto, o->port, NULL), arena_strdup(&a->strings, buf), false);
	}
	/* sockets listening on an overlay address or device now, and TCP
	 * sockets listening on a wildcard address of no device (they take
	 * the overlay's connections too: sshd's 0.0.0.0:22); a wildcard UDP
	 * socket is as often a client's (chronyd, dhclient) and is left out */
	if (!a->opts->only_named && n_devs) {
		struct listener_list ls = { 0 };
		if (discover_listeners(&ls) < 0)
			audit_add_finding(a, FINDING_INFO, "DISCOVERY_NOTE", NULL, "listening sockets: %s", ls.why);
		for (size_t i = 0; i < ls.n; i++) {
			const struct listener *li = &ls.v[i];
			static const struct cg_addr any;
			const struct cg_addr *bound = &li->addr;
			const char *ifname = NULL;
			bool wildcard = !li->ifindex && memcmp(li->addr.bytes, any.bytes, sizeof(any.bytes)) == 0;
			if (wildcard) {
				if (li->l4proto != IPPROTO_TCP)
					continue;
				/* an IPv6 wildcard takes IPv4 too unless v6only */
				if (li->addr.family == AF_INET6 && !li->v6only)
					bound = NULL;
			} else if (!bound_to_overlay(a, scope, li, &ifname)) {
				continue;
			}
			snprintf(buf, sizeof(buf), "listening:%s/%u", l4proto_to_string(li->l4proto), li->port);
			offer_everywhere(l, devs, n_devs, ifname ? NULL : bound, ifname, li->l4proto, li->port,
					 offered_role(li->l4proto, li->port, NULL), arena_strdup(&a->strings, buf), wildcard);
		}
		listener_list_free(&ls);
	}
	free(devs);
}

/* ---- whose sockets ---------------------------------------------------------- */

struct port_key {
	uint8_t l4proto;
	uint16_t port;
	size_t listener;
};

static int port_key_cmp(const void *x, const void *y)
{
	const struct port_key *a = x, *b = y;

	if (a->l4proto != b->l4proto)
		return a->l4proto < b->l4proto ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return a->listener < b->listener ? -1 : a->listener > b->listener;
}

/* The sockets an inbound target's connections would reach: those listening
 * on its protocol and port for its family (an IPv6 wildcard takes IPv4 too
 * unless it is v6only), found in keys (sorted). */
static const struct blind_client *listener_client(struct audit *a, const struct audit_target *t,
						  const struct listener_list *ls, const struct port_key *keys)
{
	struct port_key k = { .l4proto = t->l4proto, .port = t->port, .listener = 0 };
	size_t lo = 0, hi = ls->n, n = 0;
	uint64_t *ids;

	/* the first key of that protocol and port */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (port_key_cmp(&keys[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (hi = lo; hi < ls->n && keys[hi].l4proto == t->l4proto && keys[hi].port == t->port; hi++)
		;
	ids = xcalloc(hi > lo ? hi - lo : 1, sizeof(*ids));
	for (size_t i = lo; i < hi; i++) {
		const struct listener *li = &ls->v[keys[i].listener];
		static const struct cg_addr none;
		bool wildcard = memcmp(li->addr.bytes, none.bytes, sizeof(none.bytes)) == 0;
		if (li->addr.family == t->addr.family ||
		    (t->addr.family == AF_INET && li->addr.family == AF_INET6 && wildcard && !li->v6only))
			ids[n++] = li->cgroup_id;
	}
	const struct blind_client *c = blind_client_of_sockets(&a->blind, ids, n);
	free(ids);
	return c;
}

/* Who sends each target's requests, or holds the socket its connections
 * reach, where a cgroup BPF program below the root cgroup makes that
 * matter (such a program sees its own cgroup's sockets only). Unknown: any
 * process may (the command line's targets, resolv.conf's, a policy's). */
static void target_clients(struct audit *a)
{
	struct listener_list ls = { 0 };
	struct port_key *keys = NULL;
	bool listed = false;

	if (!blind_cgroup_programs(&a->blind))
		return;
	for (size_t i = 0; i < a->n_targets; i++) {
		struct audit_target *t = &a->targets[i];
		if (!t->inbound) {
			t->client = blind_client_of(&a->blind, t->client_kind);
			continue;
		}
		if (!listed) {
			listed = true;
			if (discover_listeners(&ls) < 0)
				listener_list_free(&ls); /* a part: every socket's or none */
			keys = xcalloc(ls.n ? ls.n : 1, sizeof(*keys));
			for (size_t k = 0; k < ls.n; k++)
				keys[k] = (struct port_key){ ls.v[k].l4proto, ls.v[k].port, k };
			if (ls.n)
				qsort(keys, ls.n, sizeof(*keys), port_key_cmp);
		}
		t->client = listener_client(a, t, &ls, keys);
	}
	free(keys);
	listener_list_free(&ls);
}

int audit_collect_targets(struct audit *a)
{
	/* targets already there (none today) are indexed on the first add */
	struct target_list l = { .a = a, .cap = a->n_targets };
	bool named = a->opts->n_targets || a->opts->only_named;
	int r;

	if (a->opts->n_targets) {
		r = cli_targets(&l);
		if (r < 0)
			goto out;
	} else if (!a->opts->only_named) {
		r = resolver_targets(&l);
		if (r < 0)
			goto out;
	}
	/* a policy's services: by default, or when a policy was asked for */
	if (!named || a->opts->n_policies)
		for (size_t i = 0; i < a->n_policies; i++)
			policy_targets(&l, &a->policies[i]);
	/* the host's own files and state: not for a replayed audit (they
	 * would be this machine's) */
	if (!a->opts->offline_host && (!a->opts->only_named || a->opts->n_offers)) {
		struct discover_scope scope;
		struct cg_prefix *ranges;
		const char **ifnames;

		discovery_scope(a, &scope, &ranges, &ifnames);
		if (!a->opts->only_named)
			discovery_targets(&l, &scope);
		audit_services_read(a, &scope);
		overlay_service_targets(&l, &scope);
		free(ranges);
		free(ifnames);
	}
	target_clients(a);
	if (!a->n_targets)
		audit_add_finding(a, FINDING_INFO, "NO_TARGETS", NULL,
				  "nothing to check: no resolvers found and no provider detected; "
				  "give targets with --dns/--service or a provider with --policy");
	r = 0;
out:
	free(l.slots);
	return r;
}
