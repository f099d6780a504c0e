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

void audit_services_read(struct audit *a, const struct discover_scope *scope)
{
	struct svc_options opt = { .no_device_units = boots_in_container() };

	if (a->services_read)
		return;
	services_analyze(scope, &opt, &a->services);
	a->services_read = true;
}
