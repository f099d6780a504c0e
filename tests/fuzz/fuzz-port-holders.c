/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for what the port-holder scan parses of a process
 * (collect/port-holders.c): /proc/PID/cmdline (whatever a process writes
 * into its own arguments), stat (a comm of any bytes) and cgroup (names any
 * delegated user may choose), the input read as each, and the unit of a
 * cgroup path. Without libFuzzer, fuzz-main.c runs it over the corpus and
 * mutations of it under the sanitizers (make check). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/port-holders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct port_process p;
	char unit[256], *text;

	memset(&p, 0, sizeof(p));
	port_process_parse(&p, (const char *)data, size, (const char *)data, size, (const char *)data, size);
	/* the command line: bounded, printable */
	if (!p.cmdline || strlen(p.cmdline) > PORT_CMDLINE_MAX + 3)
		__builtin_trap();
	for (const char *c = p.cmdline; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			__builtin_trap();
	if (p.ppid < 0)
		__builtin_trap();
	/* a unit is a component of the cgroup, with a unit's suffix */
	if (p.unit && (!p.cgroup || !strstr(p.cgroup, p.unit) || strchr(p.unit, '/') ||
		       !(ends_with(p.unit, ".service") || ends_with(p.unit, ".scope") || ends_with(p.unit, ".socket"))))
		__builtin_trap();
	port_process_clear(&p);

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (port_cgroup_unit(text, unit, sizeof(unit)) && (strchr(unit, '/') || strlen(unit) >= sizeof(unit)))
		__builtin_trap();
	free(text);
	return 0;
}
