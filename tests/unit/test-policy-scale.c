/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A large policy (issue 15): one [Service] of 100,000 addresses and 10,000
 * services more, read from a policy directory as an audit reads it, give
 * exactly the targets expected, in order: every address once per protocol,
 * the first of duplicates kept (repeated addresses, the same address in
 * another service or spelled another way, a range's representative equal to
 * a host given too, a --dns target). The targets are compared one by one
 * with a list this test builds from the file's structure, and checked
 * distinct by sorting, apart from the index the code uses. Checks behaviour,
 * not speed: tests/bench/run.sh --scenarios policy measures the time. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cgnatcheck/audit.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/options.h"
#include "cgnatcheck/policy.h"
#include "../lib/test.h"

#define N_LARGE 100000     /* addresses of the large service */
#define N_REPEAT 1000      /* of them listed twice */
#define N_SERVICES 10000   /* services of two addresses each */

/* ---- the policy's text ---------------------------------------------------- */

struct text {
	char *s;
	size_t n, cap;
	unsigned line;     /* lines written so far */
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;

	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < t->cap - t->n) {
			for (const char *c = t->s + t->n; *c; c++)
				t->line += *c == '\n';
			t->n += (size_t)n;
			return;
		}
		t->cap = t->cap ? 2 * t->cap : 1 << 16;
		t->s = xrealloc(t->s, t->cap);
	}
}

/* The i-th address: 100.64.0.1 upwards. */
static const char *addr_n(uint32_t i, char buf[16])
{
	uint32_t v = (100u << 24 | 64u << 16) + 1 + i;

	snprintf(buf, 16, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
	return buf;
}

/* Where each service's section starts, for the check of policy_service.line. */
static unsigned svc_line[N_SERVICES];

static void policy_text(struct text *t)
{
	char a[16], b[16];

	put(t, "# tests/unit/test-policy-scale.c\n[Provider]\nName=scale\nMatchSysVendor=nobody here\n");
	/* the large service: 16 addresses a line, a key given twice appends;
	 * the first N_REPEAT once more at the end */
	put(t, "\n[Service]\nName=large\nRole=mirror\n");
	for (uint32_t i = 0; i < N_LARGE + N_REPEAT; i++)
		put(t, "%s%s%s", i % 16 ? "" : "Address=", addr_n(i % N_LARGE, a),
		    i % 16 == 15 || i == N_LARGE + N_REPEAT - 1 ? "\n" : " ");
	put(t, "Protocol=tcp\nPort=443\nDirection=outbound\n");
	/* service i: the large service's i-th address (tcp/443 is there
	 * already, udp/443 is new) and an address of its own */
	for (uint32_t i = 0; i < N_SERVICES; i++) {
		put(t, "\n");
		svc_line[i] = t->line + 1;
		put(t, "[Service]\nName=svc%u\nAddress=%s %s\nProtocol=udp tcp\nPort=443\n", i, addr_n(i, a),
		    addr_n(N_LARGE + i, b));
	}
	/* one IPv6 address written two ways */
	put(t, "\n[Service]\nName=v6\nRole=dns\nAddress=fd7a:115c:a1e0::1 fd7a:115c:a1e0:0::1 fd7a:115c:a1e0::2\n"
	       "Protocol=udp\nPort=53\n");
	/* inbound from ranges: a range's representative (.1) and the same host */
	put(t, "\n[Service]\nName=hc\nRole=health-check\nAddress=100.127.0.0/24 100.127.0.1 100.127.1.0/24\n"
	       "Protocol=tcp\nPort=8080\nDirection=inbound\n");
	/* outbound: a range is skipped (the policy names the hosts), the host
	 * differs from the inbound one by direction */
	put(t, "\n[Service]\nName=hc-out\nAddress=100.126.0.0/24 100.127.0.1\nProtocol=tcp\nPort=8080\n");
	/* no targets: a listener port nobody gave, and an absent interface */
	put(t, "\n[Service]\nName=listen\nAddress=100.125.0.0/16\nProtocol=tcp\nPort=listener\nDirection=inbound\n");
	put(t, "\n[Service]\nName=elsewhere\nInterface=cg-absent0\nAddress=100.124.0.1\nProtocol=udp\nPort=9\n");
}

/* ---- the expected targets -------------------------------------------------- */

struct want {
	struct cg_addr addr;
	uint8_t proto;
	uint16_t port;
	bool inbound;
	const char *origin, *service;
	const char *range;   /* the range of an inbound target from a range, or NULL */
};

static struct want *wants;
static size_t n_wants;

static void want(const char *addr, uint8_t proto, uint16_t port, bool inbound, const char *origin,
		 const char *service, const char *range)
{
	struct want *w = &wants[n_wants++];

	CHECK(addr_parse(addr, &w->addr) == 0);
	w->proto = proto;
	w->port = port;
	w->inbound = inbound;
	w->origin = origin;
	w->service = service;
	w->range = range;
}

static void expected_targets(void)
{
	static char names[N_SERVICES][16];
	char a[16];

	wants = xcalloc(2 + N_LARGE + 3 * N_SERVICES + 16, sizeof(*wants));
	/* --dns first, udp then tcp */
	want("100.64.0.6", IPPROTO_UDP, 53, false, "cli", NULL, NULL);
	want("100.64.0.6", IPPROTO_TCP, 53, false, "cli", NULL, NULL);
	for (uint32_t i = 0; i < N_LARGE; i++)
		want(addr_n(i, a), IPPROTO_TCP, 443, false, "policy:scale", "large", NULL);
	for (uint32_t i = 0; i < N_SERVICES; i++) {
		snprintf(names[i], sizeof(names[i]), "svc%u", i);
		want(addr_n(i, a), IPPROTO_UDP, 443, false, "policy:scale", names[i], NULL);
		want(addr_n(N_LARGE + i, a), IPPROTO_UDP, 443, false, "policy:scale", names[i], NULL);
		want(addr_n(N_LARGE + i, a), IPPROTO_TCP, 443, false, "policy:scale", names[i], NULL);
	}
	want("fd7a:115c:a1e0::1", IPPROTO_UDP, 53, false, "policy:scale", "v6", NULL);
	want("fd7a:115c:a1e0::2", IPPROTO_UDP, 53, false, "policy:scale", "v6", NULL);
	want("100.127.0.1", IPPROTO_TCP, 8080, true, "policy:scale", "hc", "100.127.0.0/24");
	want("100.127.1.1", IPPROTO_TCP, 8080, true, "policy:scale", "hc", "100.127.1.0/24");
	want("100.127.0.1", IPPROTO_TCP, 8080, false, "policy:scale", "hc-out", NULL);
}

/* ---- checks ------------------------------------------------------------- */

static void check_policy(const struct policy *p)
{
	char a[16], buf[CG_ADDRSTRLEN];

	CHECK_STR(p->name, "scale");
	CHECK(p->is_provider);
	CHECK(p->n_services == 1 + N_SERVICES + 5);
	if (p->n_services != 1 + N_SERVICES + 5)
		return;
	/* the repeats stay in the policy: dedup is the targets' business */
	CHECK(p->services[0].n_addrs == N_LARGE + N_REPEAT);
	CHECK_STR(prefix_to_string(&p->services[0].addrs[0], buf), "100.64.0.1/32");
	CHECK_STR(prefix_to_string(&p->services[0].addrs[65535], buf), "100.65.0.0/32");
	CHECK_STR(prefix_to_string(&p->services[0].addrs[N_LARGE - 1], buf), "100.65.134.160/32");
	CHECK_STR(prefix_to_string(&p->services[0].addrs[N_LARGE], buf), "100.64.0.1/32");
	CHECK_STR(prefix_to_string(&p->services[0].addrs[N_LARGE + N_REPEAT - 1], buf), "100.64.3.232/32");
	CHECK(p->services[0].protos == CG_PROTO_TCP && p->services[0].port == 443);
	for (uint32_t i = 0; i < N_SERVICES; i++) {
		const struct policy_service *s = &p->services[1 + i];
		char name[16], own[32];
		snprintf(name, sizeof(name), "svc%u", i);
		snprintf(own, sizeof(own), "%s/32", addr_n(N_LARGE + i, a));
		if (strcmp(s->name, name) != 0 || s->n_addrs != 2 || s->line != svc_line[i] ||
		    s->port != 443 || s->protos != (CG_PROTO_UDP | CG_PROTO_TCP) ||
		    strcmp(prefix_to_string(&s->addrs[1], buf), own) != 0) {
			fprintf(stderr, "service %u: %s, %zu addresses, line %u (want %u)\n", i, s->name,
				s->n_addrs, s->line, svc_line[i]);
			CHECK(!"service as written");
			break;
		}
	}
	CHECK_STR(p->services[N_SERVICES].name, "svc9999");
	CHECK(p->services[1 + N_SERVICES + 3].listener);
	CHECK_STR(p->services[1 + N_SERVICES + 4].interface, "cg-absent0");
}

/* What makes a target the same one. */
struct key {
	struct cg_addr addr;
	uint16_t port;
	uint8_t proto;
	bool inbound;
};

static int by_key(const void *x, const void *y)
{
	const struct key *a = x, *b = y;

	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	int c = memcmp(a->addr.bytes, b->addr.bytes, addr_family_len(a->addr.family));
	if (c)
		return c;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return (int)a->inbound - (int)b->inbound;
}

static void check_targets(const struct audit *a)
{
	char buf[CG_ADDRSTRLEN], rng[CG_ADDRSTRLEN];
	size_t bad = 0;

	fprintf(stderr, "%zu targets, %zu expected\n", a->n_targets, n_wants);
	CHECK(a->n_targets == n_wants);
	for (size_t i = 0; i < a->n_targets && i < n_wants; i++) {
		const struct audit_target *t = &a->targets[i];
		const struct want *w = &wants[i];
		bool ok = addr_equal(&t->addr, &w->addr) && t->l4proto == w->proto && t->port == w->port &&
			  t->inbound == w->inbound && strcmp(t->origin, w->origin) == 0 &&
			  (t->service && w->service ? strcmp(t->service, w->service) == 0 : t->service == w->service) &&
			  (w->range ? t->range.len && strcmp(prefix_to_string(&t->range, rng), w->range) == 0
				    : t->range.len == 0);
		if (!ok && bad++ < 5)
			fprintf(stderr, "target %zu: %s %u/%u%s %s %s, expected %s %u/%u%s %s %s\n", i,
				addr_to_string(&t->addr, buf), t->l4proto, t->port, t->inbound ? " inbound" : "",
				t->origin, t->service ? t->service : "-", addr_to_string(&w->addr, rng), w->proto,
				w->port, w->inbound ? " inbound" : "", w->origin, w->service ? w->service : "-");
	}
	CHECK(bad == 0);
	/* a few by hand, whatever the list above says */
	CHECK_STR(addr_to_string(&a->targets[2].addr, buf), "100.64.0.1");
	CHECK_STR(addr_to_string(&a->targets[1 + N_LARGE].addr, buf), "100.65.134.160");
	CHECK_STR(addr_to_string(&a->targets[2 + N_LARGE].addr, buf), "100.64.0.1");
	CHECK(a->targets[2 + N_LARGE].l4proto == IPPROTO_UDP);
	CHECK_STR(a->targets[2 + N_LARGE].service, "svc0");
	CHECK_STR(a->targets[2 + N_LARGE].role, "service");
	CHECK_STR(a->targets[2].role, "mirror");
	CHECK_STR(addr_to_string(&a->targets[a->n_targets - 1].addr, buf), "100.127.0.1");

	/* distinct: sorted, no two neighbours alike */
	struct key *s = xcalloc(a->n_targets, sizeof(*s));
	size_t dup = 0;
	for (size_t i = 0; i < a->n_targets; i++)
		s[i] = (struct key){ .addr = a->targets[i].addr, .port = a->targets[i].port,
				     .proto = a->targets[i].l4proto, .inbound = a->targets[i].inbound };
	qsort(s, a->n_targets, sizeof(*s), by_key);
	for (size_t i = 1; i < a->n_targets; i++)
		dup += by_key(&s[i - 1], &s[i]) == 0;
	CHECK(dup == 0);
	free(s);

	/* the listener port nobody gave is said, once */
	size_t listeners = 0;
	for (size_t i = 0; i < a->n_findings; i++)
		listeners += strcmp(a->findings[i].code, "LISTENER_PORT_UNKNOWN") == 0;
	CHECK(listeners == 1);
}

/* ---- files ---------------------------------------------------------------- */

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "we");

	CHECK(f != NULL);
	if (!f)
		exit(1);
	CHECK(fwrite(text, 1, len, f) == len);
	CHECK(fclose(f) == 0);
}

int main(void)
{
	struct text t = { 0 };
	struct policy p;
	const char *tmp = getenv("TMPDIR");
	char err[512], dir[4000], path[4096], none[4096];
	double t0 = test_now();

	policy_text(&t);
	fprintf(stderr, "policy of %zu bytes, %u lines\n", t.n, t.line);

	/* in memory */
	CHECK(policy_parse(&p, "scale.conf", t.s, t.n, err, sizeof(err)) == 0);
	if (err[0])
		fprintf(stderr, "%s\n", err);
	check_policy(&p);
	policy_free(&p);

	/* a bad address at the end of the large service names its line */
	{
		char *bad = xstrdup(t.s);
		char *at = strstr(bad, "100.65.134.160");
		CHECK(at != NULL);
		if (at) {
			memcpy(at, "100.65.134.260", 14);
			unsigned line = 1;
			for (const char *c = bad; c < at; c++)
				line += *c == '\n';
			char want[128];
			snprintf(want, sizeof(want), "scale.conf:%u: '100.65.134.260' is not an IP address or prefix",
				 line);
			CHECK(policy_parse(&p, "scale.conf", bad, t.n, err, sizeof(err)) == -EINVAL);
			CHECK_STR(err, want);
			policy_free(&p);
		}
		free(bad);
	}

	/* from a policy directory, as the audit reads it: --dns 100.64.0.6 --policy scale;
	 * --only-named: nothing of this machine's own (its connections, its
	 * listening sockets) joins the targets */
	snprintf(dir, sizeof(dir), "%s/cgnatcheck-policy-scale.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror(dir);
		return 99;
	}
	snprintf(path, sizeof(path), "%s/scale.conf", dir);
	snprintf(none, sizeof(none), "%s/none", dir);
	write_file(path, t.s, t.n);
	setenv("CGNATCHECK_POLICY_DIR", dir, 1);
	setenv("CGNATCHECK_POLICY_LOCAL_DIR", none, 1);
	setenv("CGNATCHECK_DMI_DIR", none, 1);
	char *argv[] = { "cgnatcheck", "--dns", "100.64.0.6", "--policy", "scale", "--only-named", NULL };
	struct cg_options opts;
	struct audit a;
	CHECK(options_parse(6, argv, &opts) == 0);
	audit_init(&a, &opts);
	CHECK(audit_load_policies(&a) == 0);
	CHECK(a.n_policies == 1);
	if (a.n_policies == 1)
		check_policy(&a.policies[0]);
	CHECK(audit_collect_targets(&a) == 0);
	expected_targets();
	check_targets(&a);
	audit_free(&a);
	options_free(&opts);
	free(wants);

	/* the size limit: 4 MiB of policy loads, a byte more does not */
	size_t big = 4 * 1024 * 1024;
	t.s = xrealloc(t.s, big + 2);
	memset(t.s + t.n, '#', big + 1 - t.n);
	t.s[t.n] = '\n';
	t.s[big - 1] = '\n';
	write_file(path, t.s, big);
	CHECK(policy_load_file(&p, path, err, sizeof(err)) == 0);
	CHECK(p.n_services == 1 + N_SERVICES + 5);
	policy_free(&p);
	t.s[big] = '\n';
	write_file(path, t.s, big + 1);
	CHECK(policy_load_file(&p, path, err, sizeof(err)) == -EFBIG);
	CHECK(strstr(err, "larger than 4194304 bytes, not a policy file") != NULL);
	policy_free(&p);
	/* not a regular file: read as it comes, up to the limit */
	CHECK(policy_load_file(&p, "/dev/zero", err, sizeof(err)) == -EFBIG);
	policy_free(&p);

	unlink(path);
	rmdir(dir);
	free(t.s);
	fprintf(stderr, "%.2f s\n", test_now() - t0);
	return test_result();
}
