/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Holding the user-space lookup against the kernel's answer: one definition
 * shared by --show-route and the differential test. */
#include "config.h"

#include <stdio.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/route.h"

static bool differ(char *why, size_t size, const char *what, const char *a, const char *b)
{
	if (why && size)
		snprintf(why, size, "%s: lookup says %s, kernel says %s", what, a, b);
	return false;
}

bool route_result_agrees(const struct route_result *sim, const struct route_result *k, char *why,
			 size_t size)
{
	char a[CG_ADDRSTRLEN + 16], b[CG_ADDRSTRLEN + 16];

	if (why && size)
		why[0] = '\0';
	if (sim->uncertain & ROUTE_UNCERTAIN_RESULT)
		return true;
	if (sim->error || k->error) {
		if (sim->error == k->error)
			return true;
		snprintf(a, sizeof(a), "%s", sim->error ? strerror(-sim->error) : "a route");
		snprintf(b, sizeof(b), "%s", k->error ? strerror(-k->error) : "a route");
		return differ(why, size, "outcome", a, b);
	}
	if (!(sim->uncertain & ROUTE_UNCERTAIN_TYPE) && sim->type != k->type)
		return differ(why, size, "type", route_type_to_string(sim->type), route_type_to_string(k->type));
	if (!(sim->uncertain & ROUTE_UNCERTAIN_TABLE) && sim->table != k->table &&
	    !(sim->tables_merged && sim->table == RT_TABLE_LOCAL && k->table == RT_TABLE_MAIN)) {
		snprintf(a, sizeof(a), "%u", sim->table);
		snprintf(b, sizeof(b), "%u", k->table);
		return differ(why, size, "table", a, b);
	}
	if (sim->have_prefix && k->have_prefix && !(sim->uncertain & ROUTE_UNCERTAIN_TABLE) &&
	    (sim->prefix.len != k->prefix.len || !addr_equal(&sim->prefix.addr, &k->prefix.addr)))
		return differ(why, size, "matched prefix", prefix_to_string(&sim->prefix, a),
			      prefix_to_string(&k->prefix, b));
	if (!(sim->uncertain & ROUTE_UNCERTAIN_DEV)) {
		if (sim->ifindex != k->ifindex) {
			snprintf(a, sizeof(a), "ifindex %d", sim->ifindex);
			snprintf(b, sizeof(b), "ifindex %d", k->ifindex);
			return differ(why, size, "device", a, b);
		}
		if (!addr_equal(&sim->gateway, &k->gateway) &&
		    (sim->gateway.family || k->gateway.family))
			return differ(why, size, "gateway", addr_to_string(&sim->gateway, a),
				      addr_to_string(&k->gateway, b));
	}
	if (!(sim->uncertain & ROUTE_UNCERTAIN_SOURCE) && !sim->input &&
	    !addr_equal(&sim->source, &k->source) && (sim->source.family || k->source.family))
		return differ(why, size, "source", addr_to_string(&sim->source, a),
			      addr_to_string(&k->source, b));
	return true;
}
