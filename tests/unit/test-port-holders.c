/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who holds a port, and is it the unit that should own it (issue 16, seed
 * 002): the analysis (audit/port-holders.c, run by services_analyze()) on
 * fabricated sockets and holders against the units of
 * tests/data/units/seed002-agent; and the scan of /proc
 * (collect/port-holders.c) on a /proc tree made here. What the kernel and
 * systemd do with the same shapes is in tests/kernel/port-holders.sh and
 * boot-holders.sh. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/port-holders.h"
#include "cgnatcheck/units.h"
#include "../lib/test.h"
#include "units-tree.h"

static struct discover_scope scope;

/* ---- fabricated sockets ---------------------------------------------------- */

#define MAXP 16
#define MAXS 16

static struct port_process procs[MAXP];
static size_t n_procs;
static struct port_socket socks[MAXS];
static size_t n_socks;
static struct port_holder holders[MAXS][4];

static void fab_reset(void)
{
	memset(procs, 0, sizeof(procs));
	memset(socks, 0, sizeof(socks));
	n_procs = n_socks = 0;
}

/* a process: argv as one string, split at blanks */
static struct port_process *fab_proc(int pid, const char *exe, const char *cmdline, const char *cgroup)
{
	struct port_process *p = &procs[n_procs++];
	static char argbuf[MAXP][256];
	char *save = NULL;
	size_t k = 0;

	p->pid = pid;
	p->exe = (char *)exe;
	p->cmdline = (char *)cmdline;
	p->cgroup = (char *)cgroup;
	p->cwd = (char *)"/";
	snprintf(argbuf[n_procs - 1], sizeof(argbuf[0]), "%s", cmdline);
	for (char *w = strtok_r(argbuf[n_procs - 1], " ", &save); w && k < PORT_ARGV_MAX; w = strtok_r(NULL, " ", &save))
		p->argv[k++] = w;
	snprintf(p->comm, sizeof(p->comm), "%.15s", exe ? strrchr(exe, '/') + 1 : "?");
	static char units[MAXP][256];
	if (cgroup && port_cgroup_unit(cgroup, units[n_procs - 1], sizeof(units[0])))
		p->unit = units[n_procs - 1];
	return p;
}

static struct port_socket *fab_sock(uint8_t proto, const char *addr, uint16_t port, const char *ifname)
{
	struct port_socket *s = &socks[n_socks];

	s->sock.l4proto = proto;
	CHECK(addr_parse(addr, &s->sock.addr) == 0);
	s->sock.port = port;
	s->sock.inode = 1000 + (uint32_t)n_socks;
	if (ifname) {
		snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
		s->sock.ifindex = 7;
	}
	s->holders = holders[n_socks++];
	return s;
}

static void fab_hold(struct port_socket *s, const struct port_process *p, int fd)
{
	s->holders[s->n_holders++] = (struct port_holder){ p, fd };
}

static void analyze(struct svc_report *r, const struct svc_offer *offers, size_t n_offers)
{
	struct svc_options o = { .sockets = socks, .n_sockets = n_socks, .offers = offers, .n_offers = n_offers };

	CHECK(services_analyze(&scope, &o, r) == 0);
}

static size_t count(const struct svc_report *r, enum svc_code code)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_findings; i++)
		n += r->findings[i].code == code;
	return n;
}

static const struct svc_finding *held(const struct svc_report *r, const char *unit)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (r->findings[i].code == SVC_PORT_HELD_OUTSIDE_UNIT && !strcmp(r->findings[i].unit, unit))
			return &r->findings[i];
	return NULL;
}

static bool noted(const struct svc_report *r, const char *a, const char *b)
{
	for (size_t i = 0; i < r->notes.n; i++)
		if (strstr(r->notes.v[i], a) && (!b || strstr(r->notes.v[i], b)))
			return true;
	return false;
}

static void dump(const struct svc_report *r)
{
	for (size_t i = 0; i < r->n_findings; i++)
		fprintf(stderr, "  finding %s %s: %s\n", svc_code_to_string(r->findings[i].code), r->findings[i].unit,
			r->findings[i].message);
	for (size_t i = 0; i < r->notes.n; i++)
		fprintf(stderr, "  note: %s\n", r->notes.v[i]);
}

/* ---- seed 002 ----------------------------------------------------------------- */

static void test_seed002(void)
{
	struct svc_report r;
	const struct svc_finding *f;
	struct port_process *stray, *mgr;
	struct port_socket *s;

	tree_fixture(UNITS_DATA_DIR, "seed002-agent");

	/* the field: `sudo linux-patch-api --enroll URL` from an SSH session
	 * holds 0.0.0.0:12443; the service restarts, holding nothing */
	fab_reset();
	mgr = fab_proc(1, "/usr/lib/systemd/systemd", "/sbin/init", "/init.scope");
	stray = fab_proc(1218, "/usr/bin/linux-patch-api",
			 "linux-patch-api --enroll https://linux-patch-manager-dev.moon-dragon.us",
			 "/user.slice/user-0.slice/session-3.scope");
	stray->ppid = 1217;
	snprintf(stray->parent_comm, sizeof(stray->parent_comm), "sudo");
	s = fab_sock(IPPROTO_TCP, "0.0.0.0", 12443, NULL);
	fab_hold(s, stray, 16);
	s = fab_sock(IPPROTO_TCP, "::", 22, NULL);
	fab_hold(s, mgr, 40);
	analyze(&r, (struct svc_offer[]){ { IPPROTO_TCP, 12443 }, { IPPROTO_UDP, 12443 } }, 2);
	f = held(&r, "linux-patch-api.service");
	CHECK(f != NULL);

	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 1);
	if (f) {
		CHECK_STR(svc_code_to_string(f->code), "PORT_HELD_OUTSIDE_UNIT");
		CHECK_STR(f->severity, "critical");
		CHECK_STR(f->when, "now");
		CHECK(f->n_remedies == 0 && !f->remedy_verified);
		CHECK(f->holder_pid == 1218);
		CHECK_STR(f->holder_comm, "linux-patch-api");
		CHECK_STR(f->holder_unit, "session-3.scope");
		CHECK(strstr(f->message, "pid 1218 (linux-patch-api --enroll https://linux-patch-manager-dev.moon-dragon.us, "
					 "child of 1217 sudo, in session-3.scope) holds tcp 0.0.0.0:12443"));
		CHECK(strstr(f->message, "ExecStart=, /lib/systemd/system/linux-patch-api.service:9"));
		CHECK(strstr(f->message, "stop pid 1218 (it was started outside systemd's units, in session-3.scope: "
					 "end it where it was started, or `kill 1218`)"));
		CHECK(strstr(f->message, "then `systemctl restart linux-patch-api.service`"));
	}
	/* the offered port: who holds it, and the unit that should */
	CHECK(r.n_port_uses == 2);
	if (r.n_port_uses == 2) {
		CHECK(r.port_uses[0].bound && r.port_uses[0].pid == 1218 && r.port_uses[0].outside);
		CHECK_STR(r.port_uses[0].owner, "linux-patch-api.service");
		CHECK_STR(r.port_uses[0].unit, "session-3.scope");
		CHECK_STR(r.port_uses[0].cgroup, "/user.slice/user-0.slice/session-3.scope");
		CHECK(strstr(r.port_uses[0].cmdline, "--enroll"));
		CHECK(!r.port_uses[1].bound && r.port_uses[1].proto == IPPROTO_UDP && r.port_uses[1].pid == 0);
	}
	CHECK(noted(&r, "udp/12443 (offered): nothing listens there", NULL));
	/* ssh.socket's own socket, held by the service manager: nothing */
	CHECK(!held(&r, "ssh.socket"));
	if (count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) != 1)
		dump(&r);
	svc_report_free(&r);

	/* the same binary after an upgrade replaced it: still the same program */
	stray->exe_deleted = true;
	analyze(&r, NULL, 0);
	f = held(&r, "linux-patch-api.service");
	CHECK(f && strstr(f->message, "running a since replaced /usr/bin/linux-patch-api"));
	svc_report_free(&r);
	stray->exe_deleted = false;

	/* healthy: the service holds its port itself; the offered port's owner
	 * is the holder's own unit */
	stray->cgroup = (char *)"/system.slice/linux-patch-api.service";
	stray->unit = (char *)"linux-patch-api.service";
	analyze(&r, (struct svc_offer[]){ { IPPROTO_TCP, 12443 } }, 1);
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 0);
	CHECK(r.n_port_uses == 1 && !r.port_uses[0].outside);
	CHECK(r.n_port_uses == 1 && !strcmp(r.port_uses[0].owner, "linux-patch-api.service"));
	svc_report_free(&r);

	/* a second copy by hand on another port while the service runs: a
	 * note, not a conflict */
	struct port_process *copy = fab_proc(2000, "/usr/bin/linux-patch-api", "linux-patch-api --port 12444",
					     "/user.slice/user-0.slice/session-4.scope");
	s = fab_sock(IPPROTO_TCP, "0.0.0.0", 12444, NULL);
	fab_hold(s, copy, 3);
	analyze(&r, NULL, 0);
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 0);
	CHECK(noted(&r, "pid 2000", "taken for a second copy"));
	svc_report_free(&r);

	/* another program on the port: not the agent's (its port is unknown to
	 * the units), no finding */
	fab_reset();
	stray = fab_proc(1218, "/usr/bin/nc", "nc -l 12443", "/user.slice/user-0.slice/session-3.scope");
	fab_hold(fab_sock(IPPROTO_TCP, "0.0.0.0", 12443, NULL), stray, 3);
	analyze(&r, (struct svc_offer[]){ { IPPROTO_TCP, 12443 } }, 1);
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 0);
	CHECK(r.n_port_uses == 1 && !r.port_uses[0].owner[0] && !r.port_uses[0].outside && r.port_uses[0].pid == 1218);
	svc_report_free(&r);

	tree_free();
}

/* ---- scripts and templates --------------------------------------------------- */

static void test_scripts(void)
{
	struct svc_report r;
	const struct svc_finding *f;
	struct port_process *p;

	tree_fixture(UNITS_DATA_DIR, "seed002-agent");

	/* port-service@8080 holds its port; port-service@12443 crash-loops
	 * while the same script, run by hand, holds 12443: the kernel ran the
	 * script's interpreter with the script as its first argument */
	fab_reset();
	p = fab_proc(300, "/usr/bin/python3.11", "/usr/bin/python3 /opt/svc/port-service 8080",
		     "/system.slice/system-port\\x2dservice.slice/port-service@8080.service");
	fab_hold(fab_sock(IPPROTO_TCP, "0.0.0.0", 8080, NULL), p, 3);
	p = fab_proc(400, "/usr/bin/python3.11", "/usr/bin/python3 /opt/svc/port-service 12443 enrollment",
		     "/system.slice/run-u42.scope");
	fab_hold(fab_sock(IPPROTO_TCP, "0.0.0.0", 12443, NULL), p, 3);
	analyze(&r, NULL, 0);
	f = held(&r, "port-service@12443.service");
	CHECK(f && f->holder_pid == 400 && !strcmp(f->holder_unit, "run-u42.scope"));
	CHECK(f && strstr(f->message, "same program (/opt/svc/port-service"));
	/* the instance on 8080 holds its own: the stray is a second copy to
	 * it; its own process is inside a unit that runs the program */
	CHECK(!held(&r, "port-service@8080.service"));
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 1);
	if (count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) != 1)
		dump(&r);
	svc_report_free(&r);

	/* port-service@8080 down too: the stray's port is the one
	 * port-service@12443's command line names, so it is 12443's, not 8080's */
	socks[0].n_holders = 0;
	analyze(&r, NULL, 0);
	CHECK(held(&r, "port-service@12443.service") != NULL && !held(&r, "port-service@8080.service"));
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 1);
	svc_report_free(&r);
	socks[0].n_holders = 1;

	/* a leftover run of the same program as a unit of its own (the boot
	 * oracle's patch-api-enroll.service): the instance on 12443 names its
	 * port on its command line, so the holder has the instance's port */
	p->cgroup = (char *)"/system.slice/port-service@enroll.service";
	p->unit = (char *)"port-service@enroll.service";
	analyze(&r, NULL, 0);
	f = held(&r, "port-service@12443.service");
	CHECK(f && f->holder_pid == 400 && !strcmp(f->holder_unit, "port-service@enroll.service"));
	CHECK(f && strstr(f->message, "with port 12443 on its command line: port-service@enroll.service runs it too"));
	CHECK(f && strstr(f->message, "`systemctl stop port-service@enroll.service`"));
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 1);
	svc_report_free(&r);
	p->cgroup = (char *)"/system.slice/run-u42.scope";
	p->unit = (char *)"run-u42.scope";

	/* relative to its working directory */
	p->argv[1] = (char *)"./port-service";
	p->cwd = (char *)"/opt/svc";
	analyze(&r, NULL, 0);
	CHECK(held(&r, "port-service@12443.service") != NULL);
	svc_report_free(&r);

	/* an interpreter's unit: the script decides. Another script under the
	 * same python is not webapp; the same script is */
	fab_reset();
	p = fab_proc(500, "/usr/bin/python3.11", "python3 /opt/app/other.py", "/user.slice/user-0.slice/session-9.scope");
	fab_hold(fab_sock(IPPROTO_TCP, "0.0.0.0", 8000, NULL), p, 5);
	analyze(&r, NULL, 0);
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 0);
	svc_report_free(&r);
	p = fab_proc(501, "/usr/bin/python3.11", "python3 -u /opt/app/serve.py --port 8000",
		     "/user.slice/user-0.slice/session-9.scope");
	fab_hold(fab_sock(IPPROTO_TCP, "0.0.0.0", 8001, NULL), p, 5);
	analyze(&r, NULL, 0);
	f = held(&r, "webapp.service");
	CHECK(f && f->holder_pid == 501);
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 1);
	svc_report_free(&r);

	/* unreadable: no exe, no arguments: nothing to match, nothing found */
	fab_reset();
	p = fab_proc(600, NULL, "", "/user.slice/user-0.slice/session-9.scope");
	fab_hold(fab_sock(IPPROTO_TCP, "0.0.0.0", 12443, NULL), p, 5);
	analyze(&r, NULL, 0);
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 0);
	svc_report_free(&r);

	tree_free();
}

/* ---- socket units ------------------------------------------------------------- */

static void test_socket_units(void)
{
	struct svc_report r;
	const struct svc_finding *f;
	struct port_process *mgr, *sshd, *conn, *dnsd;
	struct port_socket *s;

	tree_fixture(UNITS_DATA_DIR, "seed002-agent");

	/* ssh.socket (ListenStream=22, Accept=yes): the manager holds [::]:22,
	 * a connection's instance of ssh@.service shares it: both the unit's */
	fab_reset();
	mgr = fab_proc(1, "/usr/lib/systemd/systemd", "/sbin/init", "/init.scope");
	conn = fab_proc(700, "/usr/sbin/sshd", "sshd: root [priv]",
			"/system.slice/system-ssh.slice/ssh@3-10.0.0.1:22-10.0.0.2:51000.service");
	s = fab_sock(IPPROTO_TCP, "::", 22, NULL);
	fab_hold(s, mgr, 50);
	fab_hold(s, conn, 3);
	analyze(&r, NULL, 0);
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 0);
	svc_report_free(&r);

	/* an sshd started by hand holds 0.0.0.0:22: ssh.socket cannot bind */
	fab_reset();
	sshd = fab_proc(800, "/usr/sbin/sshd", "/usr/sbin/sshd -D", "/user.slice/user-0.slice/session-2.scope");
	fab_hold(fab_sock(IPPROTO_TCP, "0.0.0.0", 22, NULL), sshd, 3);
	/* and nothing else: the other ports are not ssh.socket's */
	fab_hold(fab_sock(IPPROTO_TCP, "0.0.0.0", 2222, NULL), sshd, 4);
	analyze(&r, NULL, 0);
	f = held(&r, "ssh.socket");
	CHECK(f && f->holder_pid == 800);
	CHECK(f && strstr(f->message, "ssh.socket listens on tcp 0.0.0.0:22 (ListenStream=22, "
				      "/lib/systemd/system/ssh.socket:8)"));
	CHECK(f && strstr(f->message, "neither the service manager nor ssh.socket or its service"));
	CHECK(f && strstr(f->message, "`systemctl restart ssh.socket`"));
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 1);
	svc_report_free(&r);

	/* a socket on another address: 100.64.0.1:853 and 10.0.0.1:853 do not
	 * clash; a wildcard does. Bound to another device than wg0: no clash */
	fab_reset();
	dnsd = fab_proc(900, "/usr/sbin/unbound", "unbound -d", "/system.slice/unbound.service");
	fab_hold(fab_sock(IPPROTO_TCP, "10.0.0.1", 853, NULL), dnsd, 3);
	fab_hold(fab_sock(IPPROTO_UDP, "0.0.0.0", 53, "eth0"), dnsd, 4);
	analyze(&r, NULL, 0);
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 0);
	svc_report_free(&r);
	fab_hold(fab_sock(IPPROTO_UDP, "0.0.0.0", 53, NULL), dnsd, 5);
	analyze(&r, NULL, 0);
	f = held(&r, "wg-dns.socket");
	CHECK(f && f->holder_pid == 900 && strstr(f->message, "udp 0.0.0.0:53"));
	CHECK(f && strstr(f->message, "stop pid 900 (`systemctl stop unbound.service`, and `systemctl disable "
				      "unbound.service` unless it is meant to run)"));
	svc_report_free(&r);
	/* an IPv6 wildcard takes IPv4 too, unless it is v6only */
	fab_reset();
	dnsd = fab_proc(900, "/usr/sbin/unbound", "unbound -d", "/system.slice/unbound.service");
	s = fab_sock(IPPROTO_TCP, "::", 853, NULL);
	s->sock.v6only = true;
	fab_hold(s, dnsd, 3);
	analyze(&r, NULL, 0);
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 0);
	svc_report_free(&r);
	s->sock.v6only = false;
	analyze(&r, NULL, 0);
	CHECK(held(&r, "wg-dns.socket") != NULL);
	svc_report_free(&r);

	/* a socket whose holder could not be read: a note, no finding */
	fab_reset();
	fab_sock(IPPROTO_TCP, "0.0.0.0", 22, NULL);
	analyze(&r, NULL, 0);
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 0);
	CHECK(noted(&r, "ssh.socket: a socket on a port it listens on has no holder", NULL));
	svc_report_free(&r);

	/* not collected: nothing at all, and an offer says so */
	struct svc_options o = { .offers = (struct svc_offer[]){ { IPPROTO_TCP, 22 } }, .n_offers = 1 };
	CHECK(services_analyze(&scope, &o, &r) == 0);
	CHECK(r.n_port_uses == 0 && count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 0);
	CHECK(noted(&r, "the holders of the offered ports were not collected", NULL));
	svc_report_free(&r);

	tree_free();
}

/* ---- the listeners' holders (seed 000's ssh.socket on the tailnet address) ---- */

static void test_listeners(void)
{
	struct svc_report r;
	struct port_process *mgr, *conn;
	struct port_socket *s;
	struct cg_prefix range;
	const char *const ifn[] = { "tailscale0" };
	struct discover_scope ts = { &range, 1, ifn, 1 };
	struct svc_options o;

	CHECK(prefix_parse("100.64.0.0/10", &range) == 0);
	tree_fixture(UNITS_DATA_DIR, "seed000-race");
	fab_reset();
	mgr = fab_proc(1, "/usr/lib/systemd/systemd", "/sbin/init", "/init.scope");
	s = fab_sock(IPPROTO_TCP, "100.101.102.103", 22, NULL);
	fab_hold(s, mgr, 50);
	o = (struct svc_options){ .sockets = socks, .n_sockets = n_socks };
	CHECK(services_analyze(&ts, &o, &r) == 0);
	CHECK(r.n_listeners == 1 && r.listeners[0].holder_pid == 1 && !strcmp(r.listeners[0].holder_unit, "init.scope"));
	svc_report_free(&r);
	/* a connection's sshd shares it: the service is named first */
	conn = fab_proc(700, "/usr/sbin/sshd", "sshd: root [priv]",
			"/system.slice/system-ssh.slice/ssh@3-100.101.102.103:22-100.64.9.9:51000.service");
	fab_hold(s, conn, 3);
	CHECK(services_analyze(&ts, &o, &r) == 0);
	CHECK(r.n_listeners == 1 && r.listeners[0].holder_pid == 700);
	CHECK(r.n_listeners == 1 && !strcmp(r.listeners[0].holder_comm, "sshd"));
	/* the boot-safety findings are the same as without sockets */
	CHECK(count(&r, SVC_PORT_HELD_OUTSIDE_UNIT) == 0 && count(&r, SVC_BIND_RACE) == 1);
	svc_report_free(&r);
	tree_free();
}

/* ---- the scan of /proc ------------------------------------------------------- */

/* a file with NUL bytes (tree_file() writes a string) */
static void tree_bytes(const char *path, const char *data, size_t len)
{
	char full[PATH_MAX];
	FILE *f;

	tree_fmt(full, sizeof(full), "%s%s", tree_root, path);
	tree_parent(full);
	f = fopen(full, "w");
	if (!f)
		tree_die("create", full);
	fwrite(data, 1, len, f);
	fclose(f);
}

static void test_scan(void)
{
	struct port_sockets ps = { 0 };
	char proc[PATH_MAX];

	/* a /proc of five processes: 10 holds socket 5001 twice (fd 3 and 7)
	 * and 5002; 20 holds 5002 too; 30 holds other sockets and files; 40
	 * ended (no fd directory any more); "self" and a file are skipped */
	tree_new();
	tree_file("/proc/10/comm", "agent\n");
	tree_bytes("/proc/10/cmdline", "/usr/bin/agent\0--enroll\0https://x\0", 34);
	tree_file("/proc/10/stat", "10 (agent) x) S 9 10 10 0 -1\n");
	tree_file("/proc/9/comm", "sudo\n");
	tree_file("/proc/10/cgroup", "12:pids:/\n1:name=systemd:/user.slice/session-3.scope\n"
				     "0::/user.slice/session-3.scope\n");
	tree_link("/proc/10/exe", "/usr/bin/agent (deleted)");
	tree_link("/proc/10/cwd", "/root");
	tree_link("/proc/10/fd/3", "socket:[5001]");
	tree_link("/proc/10/fd/4", "/dev/null");
	tree_link("/proc/10/fd/5", "socket:[5002]");
	tree_link("/proc/10/fd/7", "socket:[5001]");
	tree_file("/proc/20/comm", "worker\n");
	tree_file("/proc/20/cmdline", "worker");
	tree_file("/proc/20/stat", "20 (worker) S 1 20 20 0 -1\n");
	tree_file("/proc/20/cgroup", "0::/\n1:name=systemd:/system.slice/agent.service/sub\n");
	tree_link("/proc/20/fd/0", "socket:[5002]");
	tree_file("/proc/30/comm", "other\n");
	tree_link("/proc/30/fd/0", "socket:[9999]");
	tree_link("/proc/30/fd/1", "pipe:[5001]");
	tree_dir("/proc/40");
	/* 50 ended after its descriptors were read: no stat, no comm */
	tree_link("/proc/50/fd/9", "socket:[5003]");
	tree_file("/proc/uptime", "1 1\n");
	tree_link("/proc/self", "10");
	tree_fmt(proc, sizeof(proc), "%s/proc", tree_root);

	ps.n = 3;
	ps.v = calloc(3, sizeof(*ps.v));
	ps.v[0].sock.inode = 5001;
	ps.v[1].sock.inode = 5002;
	ps.v[2].sock.inode = 5003;
	CHECK(port_holders_find(&ps, proc) == 0);
	CHECK(ps.n_procs == 3);
	CHECK(ps.v[0].n_holders == 2 && ps.v[1].n_holders == 2 && ps.v[2].n_holders == 1);
	CHECK(ps.v[2].n_holders == 1 && ps.v[2].holders[0].proc->pid == 50 && ps.v[2].holders[0].proc->ended);
	if (ps.v[0].n_holders == 2) {
		const struct port_process *p = ps.v[0].holders[0].proc;
		CHECK(p->pid == 10 && ps.v[0].holders[0].fd + ps.v[0].holders[1].fd == 10);
		CHECK_STR(p->comm, "agent");
		CHECK_STR(p->cmdline, "/usr/bin/agent --enroll https://x");
		CHECK_STR(p->argv[1], "--enroll");
		CHECK(p->argv[3] == NULL);
		CHECK_STR(p->exe, "/usr/bin/agent");
		CHECK(p->exe_deleted);
		CHECK_STR(p->cwd, "/root");
		CHECK_STR(p->cgroup, "/user.slice/session-3.scope");
		CHECK_STR(p->unit, "session-3.scope");
		CHECK(p->ppid == 9);
		CHECK_STR(p->parent_comm, "sudo");
	}
	for (size_t h = 0; h < ps.v[1].n_holders; h++) {
		const struct port_process *p = ps.v[1].holders[h].proc;
		if (p->pid != 20)
			continue;
		/* the unified hierarchy unused: name=systemd's path */
		CHECK_STR(p->cgroup, "/system.slice/agent.service/sub");
		CHECK_STR(p->unit, "agent.service");
		CHECK(p->exe == NULL && p->cwd == NULL);
	}
	CHECK(ps.n_notes == 1 && strstr(ps.notes[0], "1 process holding a listening socket ended while it was read"));
	for (size_t i = 0; ps.n_notes != 1 && i < ps.n_notes; i++)
		fprintf(stderr, "note: %s\n", ps.notes[i]);
	port_sockets_free(&ps);
	tree_free();

	/* no /proc at all: a note and an error, never a crash */
	memset(&ps, 0, sizeof(ps));
	ps.n = 1;
	ps.v = calloc(1, sizeof(*ps.v));
	CHECK(port_holders_find(&ps, "/nonexistent-proc") == -ENOENT);
	CHECK(ps.n_notes == 1 && strstr(ps.notes[0], "/nonexistent-proc"));
	port_sockets_free(&ps);
}

static void test_cgroup_unit(void)
{
	char u[256];

	CHECK(port_cgroup_unit("/system.slice/ssh.service", u, sizeof(u)) && !strcmp(u, "ssh.service"));
	CHECK(port_cgroup_unit("/system.slice/docker.service/payload", u, sizeof(u)) && !strcmp(u, "docker.service"));
	/* a container's tree inside the host's: the innermost */
	CHECK(port_cgroup_unit("/machine.slice/machine-x.scope/payload/system.slice/agent.service", u, sizeof(u)) &&
	      !strcmp(u, "agent.service"));
	CHECK(port_cgroup_unit("/init.scope", u, sizeof(u)) && !strcmp(u, "init.scope"));
	CHECK(port_cgroup_unit("/system.slice/ssh.socket", u, sizeof(u)) && !strcmp(u, "ssh.socket"));
	CHECK(!port_cgroup_unit("/", u, sizeof(u)));
	CHECK(!port_cgroup_unit("/user.slice", u, sizeof(u)));
	CHECK(!port_cgroup_unit("/a/.service", u, sizeof(u)));
	CHECK(!port_cgroup_unit("", u, sizeof(u)));
	CHECK(!port_cgroup_unit(NULL, u, sizeof(u)));
	CHECK(!port_cgroup_unit("/system.slice/ssh.service", u, 5));
}

int main(void)
{
	test_cgroup_unit();
	test_scan();
	test_seed002();
	test_scripts();
	test_socket_units();
	test_listeners();
	return test_result();
}
