/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the SSH identification parser of the live probe
 * (ssh_ident_feed, RFC 4253 section 4.2): the input is what a server sent.
 * It is parsed whole, then again in pieces whose sizes the input's own bytes
 * choose (a server may send its identification in any pieces): both must
 * reach the same verdict at the same byte with the same words. Every result
 * keeps the parser's promises: SSH 2 only on "SSH-2.0-" or "SSH-1.99-" with
 * a software version, a reason for every refusal, nothing read past the
 * verdict, no line longer than 255 bytes accepted. Without libFuzzer,
 * fuzz-main.c runs it over the corpus and mutations of it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cgnatcheck/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct ssh_ident *s, size_t size)
{
	if (s->used > size || s->lines >= SSH_IDENT_PREAMBLE_MAX)
		__builtin_trap();
	if (strnlen(s->why, sizeof(s->why)) == sizeof(s->why) ||
	    strnlen(s->ident, sizeof(s->ident)) == sizeof(s->ident) ||
	    strnlen(s->first, sizeof(s->first)) == sizeof(s->first))
		__builtin_trap();
	switch (s->state) {
	case SSH_IDENT_SSH2:
		if (strncmp(s->ident, "SSH-", 4) != 0 || !s->softwareversion[0] ||
		    strlen(s->ident) > SSH_IDENT_LINE_MAX - 1)
			__builtin_trap();
		if (s->compat ? strcmp(s->protoversion, "1.99") != 0 : strcmp(s->protoversion, "2.0") != 0)
			__builtin_trap();
		if (s->why[0])
			__builtin_trap();
		break;
	case SSH_IDENT_BAD:
		if (!s->why[0])
			__builtin_trap();
		break;
	case SSH_IDENT_MORE:
		if (s->used != size || s->why[0])
			__builtin_trap();
		break;
	default:
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ssh_ident whole, parts;
	size_t off = 0, k = 0;

	ssh_ident_parse(data, size, &whole);
	check(&whole, size);

	ssh_ident_init(&parts);
	while (off < size) {
		size_t n = 1 + (size > 0 ? data[k++ % size] % 17 : 0);

		if (n > size - off)
			n = size - off;
		ssh_ident_feed(&parts, data + off, n);
		off += n;
	}
	check(&parts, size);
	if (parts.state != whole.state || parts.used != whole.used || parts.lines != whole.lines ||
	    parts.compat != whole.compat || strcmp(parts.why, whole.why) != 0 ||
	    strcmp(parts.ident, whole.ident) != 0 || strcmp(parts.first, whole.first) != 0 ||
	    strcmp(parts.softwareversion, whole.softwareversion) != 0 ||
	    strcmp(parts.comments, whole.comments) != 0)
		__builtin_trap();
	return 0;
}
