/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The port-holder collector and analysis made visible (tests/kernel/
 * port-holders.sh, boot-holders.sh): lists this network namespace's
 * listening sockets with their holders, one line each, and with --analyze
 * runs the boot-safety analysis on the units below CGNATCHECK_HOST_ROOT
 * with those sockets, printing its port-holder findings, the offered
 * ports' holders and the notes.
 *
 *   port-holders-run [--analyze] [--no-device-units] [--range PREFIX]...
 *                    [--ifname DEV]... [--offer tcp|udp/PORT]...
 *                    [--snapshot] [--drop-caps] [--pause READY GO]
 *
 * --snapshot takes port_holders_snapshot() first; --drop-caps then drops
 * the capabilities as the audit does (caps_drop(): CAP_NET_ADMIN and
 * CAP_NET_RAW only); --pause then creates READY and waits (60 s at most)
 * until GO exists, before the sockets are collected.
 *
 * Lines (fields separated by a tab, for the shell's cut and awk):
 *   socket  PROTO ADDR PORT IFNAME INODE
 *   holder  PROTO PORT PID FD COMM UNIT CGROUP EXE PPID PARENT CMDLINE
 *   finding CODE UNIT PID COMM HOLDER-UNIT MESSAGE
 *   use     PROTO PORT BOUND PID COMM UNIT OWNER OUTSIDE
 *   listener UNIT PORT HOLDER-PID HOLDER-COMM HOLDER-UNIT
 *   note    TEXT
 * ("-" for an empty field). Exit status 0, 1 on bad usage, 2 when the
 * sockets could not be listed. */
#include "config.h"

#include <netinet/in.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/caps.h"
#include "cgnatcheck/port-holders.h"
#include "cgnatcheck/units.h"

static const char *f(const char *s)
{
	return s && *s ? s : "-";
}

static const char *proto(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : "udp";
}

int main(int argc, char **argv)
{
	struct cg_prefix ranges[16];
	const char *ifnames[16];
	struct svc_offer offers[16];
	size_t n_ranges = 0, n_ifnames = 0, n_offers = 0;
	bool analyze = false, no_dev = false, snapshot = false, drop = false;
	const char *ready = NULL, *go = NULL;
	struct port_sockets ps;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--analyze"))
			analyze = true;
		else if (!strcmp(a, "--no-device-units"))
			no_dev = true;
		else if (!strcmp(a, "--snapshot"))
			snapshot = true;
		else if (!strcmp(a, "--drop-caps"))
			drop = true;
		else if (!strcmp(a, "--pause") && i + 2 < argc) {
			ready = argv[++i];
			go = argv[++i];
		}
		else if (!strcmp(a, "--range") && i + 1 < argc && n_ranges < 16) {
			if (prefix_parse(argv[++i], &ranges[n_ranges++]) < 0)
				return fprintf(stderr, "bad range %s\n", argv[i]), 1;
		} else if (!strcmp(a, "--ifname") && i + 1 < argc && n_ifnames < 16)
			ifnames[n_ifnames++] = argv[++i];
		else if (!strcmp(a, "--offer") && i + 1 < argc && n_offers < 16) {
			const char *v = argv[++i];
			unsigned port;
			char p[8];
			if (sscanf(v, "%3[a-z]/%u", p, &port) != 2 || port == 0 || port > 65535 ||
			    (strcmp(p, "tcp") && strcmp(p, "udp")))
				return fprintf(stderr, "bad offer %s\n", v), 1;
			offers[n_offers++] = (struct svc_offer){ strcmp(p, "tcp") ? IPPROTO_UDP : IPPROTO_TCP,
								 (uint16_t)port };
		} else {
			fprintf(stderr, "usage: %s [--analyze] [--no-device-units] [--range PREFIX]... "
					"[--ifname DEV]... [--offer tcp|udp/PORT]...\n", argv[0]);
			return 1;
		}
	}

	if (snapshot)
		port_holders_snapshot();
	if (drop && caps_drop(false, NULL) < 0)
		return 1;
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (!f)
			return fprintf(stderr, "cannot create %s\n", ready), 1;
		fclose(f);
		for (int i = 0; i < 1200 && access(go, F_OK) < 0; i++)
			nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	r = port_sockets_collect(&ps);
	for (size_t i = 0; i < ps.n; i++) {
		const struct port_socket *s = &ps.v[i];
		char a[CG_ADDRSTRLEN];

		printf("socket\t%s\t%s\t%u\t%s\t%u\n", proto(s->sock.l4proto), addr_to_string(&s->sock.addr, a),
		       s->sock.port, f(s->ifname), s->sock.inode);
		for (size_t h = 0; h < s->n_holders; h++) {
			const struct port_process *p = s->holders[h].proc;
			printf("holder\t%s\t%u\t%d\t%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", proto(s->sock.l4proto), s->sock.port,
			       (int)p->pid, s->holders[h].fd, f(p->comm), f(p->unit), f(p->cgroup), f(p->exe),
			       (int)p->ppid, f(p->parent_comm), f(p->cmdline));
		}
	}
	for (size_t i = 0; i < ps.n_notes; i++)
		printf("note\t%s\n", ps.notes[i]);

	if (analyze) {
		struct discover_scope scope = { ranges, n_ranges, ifnames, n_ifnames };
		struct svc_options o = { .no_device_units = no_dev, .sockets = ps.v, .n_sockets = ps.n,
					 .offers = offers, .n_offers = n_offers };
		struct svc_report rep;

		services_analyze(&scope, &o, &rep);
		for (size_t i = 0; i < rep.n_findings; i++) {
			const struct svc_finding *x = &rep.findings[i];
			printf("finding\t%s\t%s\t%d\t%s\t%s\t%s\n", svc_code_to_string(x->code), x->unit, x->holder_pid,
			       f(x->holder_comm), f(x->holder_unit), x->message);
		}
		for (size_t i = 0; i < rep.n_port_uses; i++) {
			const struct svc_port_use *u = &rep.port_uses[i];
			printf("use\t%s\t%u\t%d\t%d\t%s\t%s\t%s\t%d\n", proto(u->proto), u->port, u->bound, u->pid,
			       f(u->comm), f(u->unit), f(u->owner), u->outside);
		}
		for (size_t i = 0; i < rep.n_listeners; i++) {
			const struct svc_listener *l = &rep.listeners[i];
			printf("listener\t%s\t%u\t%d\t%s\t%s\n", l->unit, l->port, l->holder_pid, f(l->holder_comm),
			       f(l->holder_unit));
		}
		for (size_t i = 0; i < rep.notes.n; i++)
			printf("note\t%s\n", rep.notes.v[i]);
		svc_report_free(&rep);
	}
	port_sockets_free(&ps);
	port_holders_snapshot_free();
	return r < 0 ? 2 : 0;
}
