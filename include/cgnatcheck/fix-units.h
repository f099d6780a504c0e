/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fix stage for the services offered over the overlays (issue 16): the
 * files the boot-safety analysis found to work (struct svc_remedy: drop-ins
 * /etc/systemd/system/UNIT.d/cgnatcheck-*.conf, an address gate unit, a
 * copy that shadows a vendor unit), written below the host root, all or
 * none; and --undo, which removes every file cgnatcheck wrote there.
 *
 * A file is cgnatcheck's when its first line starts with UNIT_FIX_TAG.
 * Nobody else's file is ever overwritten or removed: a remedy whose path
 * holds someone else's file is refused. The directories a run creates are
 * listed in STATE_DIR/unit-dirs, and --undo removes them once empty, so
 * --fix then --undo leaves the unit directories exactly as they were. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cgnatcheck/units.h"

#define UNIT_FIX_TAG "# Written by cgnatcheck --fix"

enum unit_fix_result {
	UNIT_FIX_WRITE,         /* planned: to be written */
	UNIT_FIX_UNCHANGED,     /* the same file is there already */
	UNIT_FIX_REFUSED,       /* not written: why says why */
	UNIT_FIX_WRITTEN,       /* applied */
	UNIT_FIX_FAILED,        /* not written: the run's other files were not either */
};

struct unit_fix {
	const struct svc_finding *finding;
	const struct svc_remedy *remedy;
	enum unit_fix_result result;
	char why[256];
};

/* One entry per file of the findings' remedies (a path two findings share
 * once). All or none: when one entry is refused, every entry that was to be
 * written is refused too (why names the first refused file). Returns the
 * number of entries (*out malloc'd). */
size_t unit_fix_plan(const struct svc_report *r, struct unit_fix **out);

/* Writes every UNIT_FIX_WRITE entry, all or none: each to a temporary file
 * beside its place first, then each renamed into place. Returns 0, or
 * -errno (each entry UNIT_FIX_FAILED with why, nothing left behind). */
int unit_fix_apply(struct unit_fix *v, size_t n);

/* Removes every file of cgnatcheck's below /etc/systemd/system and
 * /etc/systemd/system.control (their *.d directories too), then the
 * directories its runs created once they are empty. *removed lists the
 * paths removed (malloc'd, NULL-terminated). Returns 0 or -errno (what
 * was removed so far stays listed). */
int unit_fix_undo(char ***removed, size_t *n_removed);
void unit_fix_strv_free(char **v, size_t n);

/* When the files are this running system's (no other host root) and
 * systemd runs it: systemctl daemon-reload. Returns 1 when reloaded, 0
 * when there is no systemd to tell, -errno when the reload failed (why
 * says so). */
int unit_fix_reload(char *why, size_t size);
