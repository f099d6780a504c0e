/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Printing a route lookup for people (ip route get style, plus the rule and
 * table that decided) and for programs (JSON, design.md's "route" object). */
#pragma once

#include <stdio.h>

#include "cgnatcheck/options.h"
#include "cgnatcheck/route.h"

struct route_report {
	const struct route_state *st;
	const struct route_packet *packet;
	const struct route_result *sim;
	const struct route_result *kernel;   /* NULL: offline */
	int verbosity;                       /* > 0: print the rule trace */
};

/* The warnings a lookup deserves (provider range routed into an overlay,
 * lookup and kernel disagreeing); returns how many, up to max. */
size_t route_report_warnings(const struct route_report *rep, char warnings[][512], size_t max);

/* Returns 0 or a negative errno (output error). */
int route_report_print(FILE *out, enum cg_format format, const struct route_report *rep);
