/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit's result as a Prometheus textfile, for node_exporter's textfile
 * collector (--metrics-file): per-target verdicts, findings by severity,
 * cgnatcheck's exceptions in place, when the audit ran and how it ended. */
#pragma once

#include <stdio.h>

#include "cgnatcheck/audit.h"

/* Writes the metrics in Prometheus' text exposition format (0.0.4) to out.
 * a is NULL when the audit could not be completed: then only the time, the
 * exit status and cgnatcheck_audit_success 0 are written. Returns 0 or -EIO. */
int metrics_print(FILE *out, const struct audit *a, int exit_status);

/* Writes the metrics to path atomically: to PATH.tmp-XXXXXX in the same
 * directory, fsync'd, then renamed over path, so the collector never reads
 * a half-written file. Returns 0 or -errno after saying what failed. */
int metrics_write(const char *path, const struct audit *a, int exit_status);
