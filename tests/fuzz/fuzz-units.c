/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the parsers of issue 16 (configure --enable-fuzzing,
 * clang): one input is read as a unit file (the syntax, then as the main
 * file, a drop-in and a socket of a boot read from memory, through the whole
 * boot-safety analysis), as an sshd_config, as a sysctl.d file and as a
 * Listen*= value. Without libFuzzer, fuzz-main.c runs it over the corpus and
 * mutations of it, so `make check` exercises the same entry point under the
 * sanitizers. The host root points nowhere: nothing but the input is read. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgnatcheck/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(const struct unit_assignment *a, void *ud)
{
	/* every assignment is inside a section and has a key */
	if (!a->section || !a->key || !*a->key || !a->value || a->line == 0 || a->last_line < a->line)
		__builtin_trap();
	(*(size_t *)ud)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unit_notes notes = { 0 };
	struct sshd_config c;
	struct unit_listen_addr l;
	struct svc_report r;
	size_t n = 0;
	unsigned line;
	int v;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	setenv("CGNATCHECK_HOST_ROOT", "/nonexistent/cgnatcheck-fuzz", 1);

	unit_text_parse("fuzz.unit", text, size, count, &n, &notes);
	for (size_t i = 0; i < notes.n; i++)
		if (strncmp(notes.v[i], "fuzz.unit", 9) != 0)   /* every note names the input */
			__builtin_trap();
	unit_notes_free(&notes);

	memset(&c, 0, sizeof(c));
	snprintf(c.path, sizeof(c.path), "fuzz_config");
	sshd_config_parse(&c, "fuzz_config", text, size);
	sshd_config_finish(&c);
	sshd_config_free(&c);

	sysctl_text_find("fuzz.conf", text, size, "net.ipv4.ip_nonlocal_bind", &v, &line, &notes);
	unit_notes_free(&notes);

	if (!memchr(text, '\0', size)) {
		unit_listen_parse(text, &l);
		struct unit_spec_ctx spec = { "fuzz@x.socket", "fuzz", "x" };
		char *out = NULL;
		unit_expand_specifiers(&spec, text, &out);
		free(out);
	}

	/* the input as the units of a boot, from memory */
	if (!memchr(text, '\0', size)) {
		struct unit_overlay_file ov[] = {
			{ "/etc/systemd/system/default.target", "[Unit]\nWants=fuzz.socket fuzz@wg0.service\n" },
			{ "/usr/lib/systemd/system/sockets.target", "[Unit]\nDescription=s\n" },
			{ "/usr/lib/systemd/system/basic.target", "[Unit]\nWants=sockets.target\nAfter=sockets.target\n" },
			{ "/etc/systemd/system/fuzz.socket", text },
			{ "/etc/systemd/system/fuzz@.service", text },
			{ "/etc/systemd/system/fuzz.socket.d/x.conf", text },
		};
		struct cg_prefix range;
		static const char *const ifs[] = { "wg0", "tailscale0" };
		struct discover_scope scope = { &range, 1, ifs, 2 };
		/* the analysis run again with its remedies, for one input in four
		 * (it doubles the time of a run) */
		struct svc_options o = { .overlay = ov, .n_overlay = sizeof(ov) / sizeof(ov[0]),
					 .no_verify = size % 4 != 0 };

		prefix_parse("0.0.0.0/0", &range);
		services_analyze(&scope, &o, &r);
		svc_report_free(&r);
	}
	free(text);
	return 0;
}
