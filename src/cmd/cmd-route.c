/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --show-route ADDR: dump the routing state, resolve the packet in user
 * space (which names the rule and table that decide), ask the kernel the
 * same question unless --offline, and report both. */
#include "config.h"

#include <string.h>

#include "cgnatcheck/cmd.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/route-report.h"
#include "cgnatcheck/route.h"

static int device_index(const struct route_state *st, const char *name, const char *option, int *out)
{
	const struct route_link *l;

	*out = 0;
	if (!name)
		return 0;
	l = route_state_link_by_name(st, name);
	if (!l)
		return log_error("no such network device '%s' for %s (see `ip link`)", name, option);
	*out = l->ifindex;
	return 0;
}

static int packet_from_options(const struct route_state *st, const struct cg_options *o,
			       struct route_packet *p)
{
	int r;

	*p = (struct route_packet){
		.dst = o->route_dst,
		.src = o->route_src,
		.mark = o->route_mark,
		.uid_set = o->route_uid_set,
		.uid = o->route_uid,
		.ipproto = o->route_ipproto,
		.sport = o->route_sport,
		.dport = o->route_dport,
	};
	if ((r = device_index(st, o->route_iif, "--iif", &p->iif)) < 0 ||
	    (r = device_index(st, o->route_oif, "--oif", &p->oif)) < 0)
		return r;
	/* "iif lo" is how the kernel sees a locally generated packet. */
	if (p->iif && o->route_iif && strcmp(o->route_iif, "lo") == 0)
		p->iif = 0;
	return 0;
}

int cmd_show_route(const struct cg_options *o)
{
	_cleanup_route_state_ struct route_state st;
	struct route_result sim, kernel;
	struct route_packet p;
	struct route_report rep;
	char a[CG_ADDRSTRLEN];
	int r;

	route_state_init(&st);
	r = route_state_collect(&st);
	if (r < 0) {
		log_error("cannot show the route: reading the routing state failed");
		return CG_EXIT_FAILURE;
	}
	if (packet_from_options(&st, o, &p) < 0)
		return CG_EXIT_FAILURE;
	r = route_lookup(&st, &p, &sim);
	if (r < 0) {
		log_error_errno(r, "Failed to look up the route to %s", addr_to_string(&p.dst, a));
		return CG_EXIT_FAILURE;
	}
	if (!o->route_offline && route_lookup_kernel(&st, &p, &kernel) < 0)
		return CG_EXIT_FAILURE;

	rep = (struct route_report){ &st, &p, &sim, o->route_offline ? NULL : &kernel, o->verbosity };
	r = route_report_print(stdout, o->format, &rep);
	if (r < 0) {
		log_error_errno(r, "Failed to write the report");
		return CG_EXIT_FAILURE;
	}
	return (o->route_offline ? sim.error : kernel.error) ? CG_EXIT_BLOCKED : CG_EXIT_OK;
}
