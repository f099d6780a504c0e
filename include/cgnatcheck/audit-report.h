/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit's report, in text or JSON (schema 1, design.md). */
#pragma once

#include <stdio.h>

#include "cgnatcheck/audit.h"
#include "cgnatcheck/options.h"

/* Writes the report; --quiet prints only problems. Returns 0 or -EIO. */
int audit_report_print(FILE *out, enum cg_format format, const struct audit *a);

/* The report as a string (malloc'd), for the mail: its text body and its
 * JSON attachment (cmd-scheduled.c, mail.h). */
char *audit_report_to_string(enum cg_format format, const struct audit *a);
