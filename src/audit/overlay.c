/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The services this host offers over an overlay (issue 16), in the audit:
 * the boot-safety analysis of their units (audit/services.c) becomes
 * findings beside the targets' (same report, JSON, exit status, mail and
 * metrics), each with the unit at fault, when it bites, the ordering cycle
 * and the files --fix writes (src/fix/units.c). The services themselves
 * become inbound targets from an overlay peer (audit/targets.c). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgnatcheck/audit.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hostfacts.h"
#include "cgnatcheck/port-holders.h"
#include "cgnatcheck/units.h"

/* Will the next boot be a container's? systemd makes no device units there
 * (/sys is read-only), so BindToDevice= waits for nothing (the analysis
 * then predicts "No such device" instead of a device job's timeout). PID 1
 * of a container writes /run/systemd/container; a root prepared for one
 * says so with the same file. */
static bool boots_in_container(void)
{
	char buf[4096];

	return host_path(buf, sizeof(buf), "/run/systemd/container") && access(buf, F_OK) == 0;
}

/* Does the host keep systemd units at all? A host without (a container
 * image, another init, the tests' empty root) has no boot to analyse, and
 * what the analysis would say of it ("default.target is not-found") is no
 * news: quiet, as every absent source is. */
static bool has_units(void)
{
	static const char *const dirs[] = { "/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system" };
	char buf[4096];

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (host_path(buf, sizeof(buf), dirs[i]) && access(buf, F_OK) == 0)
			return true;
	return false;
}

void audit_services_read(struct audit *a, const struct discover_scope *scope)
{
	struct svc_options opt = { .no_device_units = boots_in_container() };
	struct svc_offer *offers;
	struct port_sockets ps;

	if (a->services_read)
		return;
	/* the offered ports and who holds every port (port-holders.h: from
	 * the snapshot taken before the capabilities were dropped) */
	offers = xcalloc(a->opts->n_offers + 1, sizeof(*offers));
	for (size_t i = 0; i < a->opts->n_offers; i++)
		offers[i] = (struct svc_offer){ a->opts->offers[i].l4proto, a->opts->offers[i].port };
	port_sockets_collect(&ps);
	opt.sockets = ps.v;
	opt.n_sockets = ps.n;
	opt.offers = offers;
	opt.n_offers = a->opts->n_offers;
	services_analyze(scope, &opt, &a->services);
	a->services_read = true;
	a->services_quiet = !has_units();
	/* what could not be read of the holders */
	for (size_t i = 0; i < ps.n_notes; i++)
		audit_add_finding(a, FINDING_INFO, "UNITS_NOTE", NULL, "%s", ps.notes[i]);
	port_sockets_free(&ps);
	free(offers);
}
