/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The boot-safety analysis (audit/services.c) on the shapes of the field
 * reports, safe and unsafe (tests/data/units/, seeds 000 and 001): what it
 * finds, the cycle it names edge by edge, the remedies it writes, and that
 * with those files written into the host root the next analysis finds
 * nothing. What systemd itself did with the same shapes is recorded in
 * tests/kernel/boot-oracle.sh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/units.h"
#include "../lib/test.h"
#include "units-tree.h"

static struct cg_prefix ranges[3];
static const char *const ifnames[] = { "tailscale0", "wg0" };
static struct discover_scope scope;

struct want {
	enum svc_code code;
	const char *unit;
};

static void dump(const struct svc_report *r)
{
	for (size_t i = 0; i < r->n_findings; i++)
		fprintf(stderr, "  finding %s %s: %s\n", svc_code_to_string(r->findings[i].code), r->findings[i].unit,
			r->findings[i].message);
	for (size_t i = 0; i < r->notes.n; i++)
		fprintf(stderr, "  note: %s\n", r->notes.v[i]);
}

static const struct svc_finding *find(const struct svc_report *r, enum svc_code code, const char *unit)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (r->findings[i].code == code && !strcmp(r->findings[i].unit, unit))
			return &r->findings[i];
	return NULL;
}

static const struct svc_remedy *remedy(const struct svc_finding *f, const char *path)
{
	for (size_t i = 0; f && i < f->n_remedies; i++)
		if (!strcmp(f->remedies[i].path, path))
			return &f->remedies[i];
	fprintf(stderr, "no remedy %s\n", path);
	return NULL;
}

static bool cycle_has(const struct svc_finding *f, const char *unit, const char *next, bool systemd_sees)
{
	for (size_t i = 0; f && i < f->n_cycle; i++)
		if (!strcmp(f->cycle[i].unit, unit) && !strcmp(f->cycle[i].next, next))
			return f->cycle[i].systemd_sees == systemd_sees;
	fprintf(stderr, "no step %s -> %s\n", unit, next);
	return false;
}

/* Analyses the fixture, checks that it finds exactly `want` (each with a
 * remedy that the analysis verified), writes every remedy into the root and
 * checks that the next analysis finds nothing. The report stays in *r. */
static void run_case_opt(const char *name, const struct want *want, size_t n_want, struct svc_report *r,
			 const struct svc_options *opt)
{
	struct svc_report after;

	fprintf(stderr, "-- %s%s\n", name, opt && opt->no_device_units ? " (no device units)" : "");
	tree_fixture(UNITS_DATA_DIR, name);
	CHECK(services_analyze(&scope, opt, r) == 0);
	bool ok = r->n_findings == n_want;
	for (size_t i = 0; i < n_want; i++) {
		const struct svc_finding *f = find(r, want[i].code, want[i].unit);
		ok &= f != NULL;
		if (f) {
			CHECK(f->n_remedies > 0);
			CHECK(f->remedy_verified);
			CHECK(f->when && f->severity && f->message);
		}
	}
	if (!ok) {
		fprintf(stderr, "%s: expected %zu findings, got:\n", name, n_want);
		dump(r);
	}
	CHECK(ok);
	if (!n_want)
		return;
	/* --fix: the files written */
	for (size_t i = 0; i < r->n_findings; i++)
		for (size_t k = 0; k < r->findings[i].n_remedies; k++)
			tree_file(r->findings[i].remedies[k].path, r->findings[i].remedies[k].content);
	CHECK(services_analyze(&scope, opt, &after) == 0);
	if (after.n_findings) {
		fprintf(stderr, "%s: after the remedies:\n", name);
		dump(&after);
	}
	CHECK(after.n_findings == 0);
	/* the services still start at boot */
	for (size_t i = 0; i < after.n_listeners; i++)
		CHECK(after.listeners[i].in_boot);
	svc_report_free(&after);
}

static void run_case(const char *name, const struct want *want, size_t n_want, struct svc_report *r)
{
	run_case_opt(name, want, n_want, r, NULL);
}

static void done(struct svc_report *r)
{
	svc_report_free(r);
	tree_free();
}

static const struct svc_listener *listener(const struct svc_report *r, const char *unit)
{
	for (size_t i = 0; i < r->n_listeners; i++)
		if (!strcmp(r->listeners[i].unit, unit))
			return &r->listeners[i];
	return NULL;
}

static void test_seed000(void)
{
	struct svc_report r;
	const struct svc_finding *f;
	const struct svc_remedy *m;
	const struct svc_listener *l;
	char buf[CG_ADDRSTRLEN];

	/* 1a: ssh.socket's override binds the tailnet address; tailscaled as shipped */
	run_case("seed000-race",
		 (struct want[]){ { SVC_BIND_RACE, "ssh.socket" }, { SVC_DAEMON_EARLY, "tailscaled.service" } }, 2, &r);
	f = find(&r, SVC_BIND_RACE, "ssh.socket");
	CHECK(f && strstr(f->message, "100.101.102.103:22") && strstr(f->message, "override.conf:3"));
	CHECK(f && !strcmp(f->severity, "critical") && !strcmp(f->when, "at the next boot"));
	m = remedy(f, "/etc/systemd/system/ssh.socket.d/cgnatcheck-freebind.conf");
	CHECK(m && strstr(m->content, "[Socket]\nFreeBind=yes\n") && !m->shadows);
	f = find(&r, SVC_DAEMON_EARLY, "tailscaled.service");
	m = remedy(f, "/etc/systemd/system/tailscaled.service.d/cgnatcheck-network-online.conf");
	CHECK(m && strstr(m->content, "Wants=network-online.target\nAfter=network-online.target\n"));
	l = listener(&r, "ssh.socket");
	CHECK(l && l->overlay_address && l->port == 22 && l->protos == CG_PROTO_TCP && l->in_boot);
	CHECK(l && !strcmp(addr_to_string(&l->addr, buf), "100.101.102.103") && !l->gated_by[0]);
	done(&r);

	run_case("seed000-race-fixed-daemon", (struct want[]){ { SVC_BIND_RACE, "ssh.socket" } }, 1, &r);
	done(&r);

	/* 1b: FreeBind=yes: safe */
	run_case("seed000-freebind", NULL, 0, &r);
	CHECK(listener(&r, "ssh.socket") != NULL);
	done(&r);

	/* a value set by hand does not survive the boot */
	run_case("seed000-nonlocal-now-only", (struct want[]){ { SVC_BIND_RACE, "ssh.socket" } }, 1, &r);
	f = find(&r, SVC_BIND_RACE, "ssh.socket");
	CHECK(f && strstr(f->message, "net.ipv4.ip_nonlocal_bind is 1 now, but no sysctl.d file sets it"));
	done(&r);

	/* 1c: the gate on the vendor socket: no race, a cycle systemd breaks */
	run_case("seed000-gate-cycle", (struct want[]){ { SVC_ORDERING_CYCLE, "ssh.socket" } }, 1, &r);
	f = find(&r, SVC_ORDERING_CYCLE, "ssh.socket");
	CHECK(f && f->n_cycle == 4);
	CHECK(cycle_has(f, "ssh.socket", "tailscale-wait-ready.service", true));
	CHECK(cycle_has(f, "tailscale-wait-ready.service", "basic.target", true));
	CHECK(cycle_has(f, "basic.target", "sockets.target", true));
	CHECK(cycle_has(f, "sockets.target", "ssh.socket", true));
	CHECK(f && strstr(f->cycle[0].why, "ssh.socket: After=tailscale-wait-ready.service (/etc/systemd/system/ssh.socket.d/override.conf:2)"));
	CHECK(f && strstr(f->cycle[1].why, "default dependency of a service"));
	CHECK(f && strstr(f->cycle[3].why, "ssh.socket: Before=sockets.target (/lib/systemd/system/ssh.socket:4)"));
	CHECK(f && strstr(f->message, "\"sockets.target: Found ordering cycle on ssh.socket/start\""));
	m = remedy(f, "/etc/systemd/system/ssh.socket.d/cgnatcheck-boot-order.conf");
	CHECK(m && strstr(m->content, "DefaultDependencies=no\n"));
	/* the vendor's own Before=sockets.target: only a copy can take it out */
	m = remedy(f, "/etc/systemd/system/ssh.socket");
	CHECK(m && m->shadows && !strcmp(m->shadows, "/lib/systemd/system/ssh.socket"));
	CHECK(m && !strstr(m->content, "\nBefore=sockets.target") && strstr(m->content, "ListenStream=22\n"));
	CHECK(m && strstr(m->content, "cannot be reset to an") && strstr(m->content, "ListenStream=, ExecStart="));
	l = listener(&r, "ssh.socket");
	CHECK(l && !strcmp(l->gated_by, "tailscale-wait-ready.service"));
	done(&r);

	/* 1d: a socket of its own behind the gate: safe */
	run_case("seed000-gate-safe", NULL, 0, &r);
	l = listener(&r, "ts-ssh.socket");
	CHECK(l && !strcmp(l->gated_by, "tailscale-wait-ready.service") && l->in_boot);
	done(&r);

	/* v1: After= and BindsTo=tailscaled.service */
	run_case("seed000-bindsto",
		 (struct want[]){ { SVC_BIND_RACE, "ssh.socket" }, { SVC_BINDS_TO_DAEMON, "ssh.socket" },
				  { SVC_ORDERING_CYCLE, "ssh.socket" } },
		 3, &r);
	f = find(&r, SVC_BIND_RACE, "ssh.socket");
	CHECK(f && strstr(f->message, "After=tailscaled.service (/etc/systemd/system/ssh.socket.d/override.conf:2) does not help"));
	f = find(&r, SVC_BINDS_TO_DAEMON, "ssh.socket");
	CHECK(f && strstr(f->message, "override.conf:3"));
	m = remedy(f, "/etc/systemd/system.control/ssh.socket.d/override.conf");
	CHECK(m && m->shadows && !strcmp(m->shadows, "/etc/systemd/system/ssh.socket.d/override.conf"));
	CHECK(m && strstr(m->content, "\nRequires=tailscaled.service\n") && !strstr(m->content, "\nBindsTo="));
	CHECK(m && !strstr(m->content, "\nAfter=tailscaled.service") &&
	      strstr(m->content, "ListenStream=\nListenStream=100.101.102.103:22\n"));
	f = find(&r, SVC_ORDERING_CYCLE, "ssh.socket");
	CHECK(f && f->n_cycle == 4 && cycle_has(f, "ssh.socket", "tailscaled.service", true));
	CHECK(remedy(f, "/etc/systemd/system.control/ssh.socket.d/override.conf") != NULL);
	done(&r);

	/* v2: After= and Requires=: the same cycle, no BindsTo= */
	run_case("seed000-requires",
		 (struct want[]){ { SVC_BIND_RACE, "ssh.socket" }, { SVC_ORDERING_CYCLE, "ssh.socket" } }, 2, &r);
	done(&r);

	/* the leftover ListenAddress drop-in: sshd races too */
	run_case("seed000-sshd-race", (struct want[]){ { SVC_BIND_RACE, "ssh.service" } }, 1, &r);
	f = find(&r, SVC_BIND_RACE, "ssh.service");
	CHECK(f && strstr(f->message, "/etc/ssh/sshd_config.d/tailscale-only.conf:2"));
	m = remedy(f, "/etc/systemd/system/cgnatcheck-wait-100.101.102.103.service");
	CHECK(m && strstr(m->content, "Type=oneshot") && strstr(m->content, "ip -o addr show to 100.101.102.103"));
	m = remedy(f, "/etc/systemd/system/ssh.service.d/cgnatcheck-address-gate.conf");
	CHECK(m && strstr(m->content, "After=cgnatcheck-wait-100.101.102.103.service"));
	l = listener(&r, "ssh.service");
	CHECK(l && !strcmp(l->source, "sshd_config ListenAddress") && l->port == 22);
	done(&r);

	run_case("seed000-sshd-wildcard", NULL, 0, &r);
	CHECK(r.n_listeners == 0);
	done(&r);
	run_case("seed000-sshd-nonlocal", NULL, 0, &r);
	CHECK(listener(&r, "ssh.service") != NULL);
	done(&r);
}

static void test_seed001(void)
{
	struct svc_report r;
	const struct svc_finding *f;
	const struct svc_remedy *m;
	const struct svc_listener *l;

	/* BindToDevice=wg0 alone: the device's wait systemd cannot see */
	run_case("seed001-device-wait", (struct want[]){ { SVC_DEVICE_WAIT, "wgsvc.socket" } }, 1, &r);
	f = find(&r, SVC_DEVICE_WAIT, "wgsvc.socket");
	CHECK(f && f->n_cycle == 5);
	CHECK(cycle_has(f, "wgsvc.socket", "sys-subsystem-net-devices-wg0.device", true));
	CHECK(cycle_has(f, "sys-subsystem-net-devices-wg0.device", "wg-quick@wg0.service", false));
	CHECK(cycle_has(f, "wg-quick@wg0.service", "basic.target", true));
	CHECK(f && strstr(f->cycle[0].why, "BindToDevice=wg0 (/etc/systemd/system/wgsvc.socket:9)"));
	CHECK(f && strstr(f->message, "times out after 90 s") && !strstr(f->message, "Found ordering cycle"));
	m = remedy(f, "/etc/systemd/system/wgsvc.socket.d/cgnatcheck-boot-order.conf");
	CHECK(m && strstr(m->content, "DefaultDependencies=no\n") && strstr(m->content, "After=wg-quick@wg0.service\n"));
	l = listener(&r, "wgsvc.socket");
	CHECK(l && l->overlay_device && !strcmp(l->ifname, "wg0") && l->addr.family == AF_UNSPEC && l->port == 444);
	done(&r);

	/* ordered after the unit that creates wg0: the cycle systemd breaks */
	run_case("seed001-cycle", (struct want[]){ { SVC_ORDERING_CYCLE, "wgsvc.socket" } }, 1, &r);
	f = find(&r, SVC_ORDERING_CYCLE, "wgsvc.socket");
	CHECK(f && f->n_cycle == 4);
	CHECK(cycle_has(f, "wgsvc.socket", "wg-quick@wg0.service", true));
	CHECK(cycle_has(f, "sockets.target", "wgsvc.socket", true));
	CHECK(remedy(f, "/etc/systemd/system/wgsvc.socket.d/cgnatcheck-boot-order.conf") != NULL);
	CHECK(f && f->n_remedies == 1);
	done(&r);

	/* the cure: DefaultDependencies=no with explicit ordering */
	run_case("seed001-safe", NULL, 0, &r);
	CHECK(listener(&r, "wgsvc.socket") != NULL);
	done(&r);

	/* in a container systemd makes no device units: BindToDevice=wg0
	 * alone starts the socket before wg0 exists ("No such device") */
	struct svc_options container = { .no_device_units = true };
	run_case_opt("seed001-device-wait", (struct want[]){ { SVC_BIND_RACE, "wgsvc.socket" } }, 1, &r, &container);
	f = find(&r, SVC_BIND_RACE, "wgsvc.socket");
	CHECK(f && strstr(f->message, "No such device") && strstr(f->message, "wg-quick@wg0.service"));
	m = remedy(f, "/etc/systemd/system/wgsvc.socket.d/cgnatcheck-boot-order.conf");
	CHECK(m && strstr(m->content, "DefaultDependencies=no\n") && strstr(m->content, "After=wg-quick@wg0.service\n"));
	done(&r);
	run_case_opt("seed001-cycle", (struct want[]){ { SVC_ORDERING_CYCLE, "wgsvc.socket" } }, 1, &r, &container);
	done(&r);
	run_case_opt("seed001-safe", NULL, 0, &r, &container);
	done(&r);
}

/* BindsTo= in a vendor's file and in a template: a copy in /etc of the
 * whole unit, the instance's own for an instance */
static void test_vendor_binds_to(void)
{
	struct svc_report r, after;
	const struct svc_finding *f;
	const struct svc_remedy *m;

	tree_fixture(UNITS_DATA_DIR, "seed000-race-fixed-daemon");
	tree_file("/usr/lib/systemd/system/ts-proxy.service",
		  "[Unit]\nDescription=proxy\nAfter=tailscaled.service\nBindsTo=tailscaled.service \\\n  other.service\n"
		  "[Service]\nExecStart=/usr/bin/proxy\n[Install]\nWantedBy=multi-user.target\n");
	tree_link("/etc/systemd/system/multi-user.target.wants/ts-proxy.service", "/lib/systemd/system/ts-proxy.service");
	tree_file("/usr/lib/systemd/system/tun@.service", "[Unit]\nBindsTo=tailscaled.service\n[Service]\nExecStart=/bin/t %i\n");
	tree_link("/etc/systemd/system/multi-user.target.wants/tun@a.service", "/lib/systemd/system/tun@.service");
	tree_file("/etc/systemd/system/ssh.socket.d/freebind.conf", "[Socket]\nTransparent=yes\n");
	CHECK(services_analyze(&scope, NULL, &r) == 0);
	if (r.n_findings != 2)
		dump(&r);
	CHECK(r.n_findings == 2);
	f = find(&r, SVC_BINDS_TO_DAEMON, "ts-proxy.service");
	m = remedy(f, "/etc/systemd/system/ts-proxy.service");
	CHECK(f && f->remedy_verified && m && !strcmp(m->shadows, "/lib/systemd/system/ts-proxy.service"));
	CHECK(m && strstr(m->content, "\nBindsTo=other.service\nRequires=tailscaled.service\n\n[Service]"));
	f = find(&r, SVC_BINDS_TO_DAEMON, "tun@a.service");
	m = remedy(f, "/etc/systemd/system/tun@a.service");
	CHECK(f && f->remedy_verified && m && strstr(m->content, "\nRequires=tailscaled.service\n"));
	for (size_t i = 0; i < r.n_findings; i++)
		for (size_t k = 0; k < r.findings[i].n_remedies; k++)
			tree_file(r.findings[i].remedies[k].path, r.findings[i].remedies[k].content);
	CHECK(services_analyze(&scope, NULL, &after) == 0 && after.n_findings == 0);
	svc_report_free(&after);
	svc_report_free(&r);
	tree_free();
}

/* bad input: a note, never a crash */
static void test_bad_input(void)
{
	struct svc_report r;
	struct svc_options o = { .start = "nothing.target" };

	tree_new();
	CHECK(services_analyze(&scope, NULL, &r) == 0 && r.n_findings == 0);
	svc_report_free(&r);
	tree_file("/etc/systemd/system/default.target", "[Unit]\nWants=a.socket loop.service\n");
	tree_file("/etc/systemd/system/a.socket", "[Socket]\nListenStream=100.64.1.1:22\nFreeBind=perhaps\n");
	tree_link("/etc/systemd/system/loop.service", "loop2.service");
	tree_link("/etc/systemd/system/loop2.service", "loop.service");
	tree_file("/etc/systemd/system/sockets.target", "[Unit\n");
	CHECK(services_analyze(&scope, NULL, &r) == 0);
	CHECK(find(&r, SVC_BIND_RACE, "a.socket") != NULL);
	bool loop = false, boolean = false;
	for (size_t i = 0; i < r.notes.n; i++) {
		loop |= strstr(r.notes.v[i], "loop") != NULL;
		boolean |= strstr(r.notes.v[i], "FreeBind=perhaps is not a boolean") != NULL;
	}
	CHECK(loop && boolean);
	svc_report_free(&r);
	CHECK(services_analyze(&scope, &o, &r) == 0 && r.n_findings == 0);
	svc_report_free(&r);
	tree_free();
}

int main(void)
{
	prefix_parse("100.64.0.0/10", &ranges[0]);
	prefix_parse("fd7a:115c:a1e0::/48", &ranges[1]);
	prefix_parse("10.77.0.0/24", &ranges[2]);
	scope = (struct discover_scope){ ranges, 3, ifnames, 2 };
	test_seed000();
	test_seed001();
	test_vendor_binds_to();
	test_bad_input();
	return test_result();
}
