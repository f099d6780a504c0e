/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every part of the route lookup uses: the uncertainty a result
 * carries, and the sysctls as the kernel combines a device's value with
 * "all". Below the lookup (route-lookup.c) and source selection
 * (route-source.c). */
#include "config.h"

#include <string.h>

#include "cgnatcheck/route.h"
#include "route-internal.h"

void route_mark_uncertain(struct route_lookup_ctx *lk, unsigned what, const char *why)
{
	if (!lk->res)
		return;
	if (!lk->res->uncertain_why)
		lk->res->uncertain_why = why;
	lk->res->uncertain |= what;
}

static int32_t conf_val(const struct route_link *l, size_t offset)
{
	int32_t v;

	memcpy(&v, (const char *)&l->conf + offset, sizeof(v));
	return v;
}

/* IN_DEV_ORCONF: "all" or the device. Unknown counts as 0. */
int route_conf_or(const struct route_lookup_ctx *lk, const struct route_link *l, size_t offset)
{
	int32_t a = 0, d = 0;

	memcpy(&a, (const char *)&lk->st->sysctl.all + offset, sizeof(a));
	if (l)
		d = conf_val(l, offset);
	return a > 0 || d > 0;
}

/* IN_DEV_MAXCONF: the larger of "all" and the device (rp_filter). */
int route_conf_max(const struct route_lookup_ctx *lk, const struct route_link *l, size_t offset)
{
	int32_t a = 0, d = 0;

	memcpy(&a, (const char *)&lk->st->sysctl.all + offset, sizeof(a));
	if (l)
		d = conf_val(l, offset);
	if (a < 0)
		a = 0;
	if (d < 0)
		d = 0;
	return a > d ? a : d;
}
