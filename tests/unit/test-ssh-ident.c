/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SSH identification parser (ssh_ident_feed, RFC 4253 section 4.2) that
 * the live probe's readiness check rests on: lines before the
 * identification, CR LF and LF alone, 2.0 and 1.99, comments, SSH 1, lines
 * too long, NUL bytes, a CR alone, what is not SSH at all, and the same
 * bytes split every way a server could send them. */
#include "config.h"

#include <string.h>

#include "cgnatcheck/probe.h"
#include "../lib/test.h"

#define S(lit) lit, sizeof(lit) - 1

static struct ssh_ident id;

/* Parses the literal whole, then a byte at a time, then at every split in
 * two, then in 3-byte pieces: every way must end in the same state, at the
 * same byte, with the same words. Returns the whole parse's state (id holds
 * its result). */
static enum ssh_ident_state parse_all_ways(const char *buf, size_t len)
{
	static struct ssh_ident whole, part;
	enum ssh_ident_state st = ssh_ident_parse(buf, len, &whole);

	ssh_ident_init(&part);
	for (size_t i = 0; i < len; i++)
		ssh_ident_feed(&part, buf + i, 1);
	CHECK(part.state == st && part.used == whole.used && strcmp(part.why, whole.why) == 0 &&
	      strcmp(part.ident, whole.ident) == 0 && strcmp(part.first, whole.first) == 0 &&
	      part.lines == whole.lines);

	for (size_t cut = 0; cut <= len; cut++) {
		ssh_ident_init(&part);
		ssh_ident_feed(&part, buf, cut);
		ssh_ident_feed(&part, buf + cut, len - cut);
		CHECK(part.state == st && part.used == whole.used &&
		      strcmp(part.why, whole.why) == 0 && strcmp(part.ident, whole.ident) == 0 &&
		      strcmp(part.softwareversion, whole.softwareversion) == 0 &&
		      strcmp(part.comments, whole.comments) == 0 && part.compat == whole.compat);
	}

	ssh_ident_init(&part);
	for (size_t i = 0; i < len; i += 3)
		ssh_ident_feed(&part, buf + i, len - i < 3 ? len - i : 3);
	CHECK(part.state == st && part.used == whole.used && strcmp(part.why, whole.why) == 0);

	id = whole;
	return st;
}

static void test_ssh2(void)
{
	/* what Debian's sshd sends, and the KEXINIT right behind it */
	static const char openssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6\r\n\0\0\x05\xdc\x07\x14";

	CHECK(parse_all_ways(openssh, sizeof(openssh) - 1) == SSH_IDENT_SSH2);
	CHECK_STR(id.ident, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6");
	CHECK_STR(id.protoversion, "2.0");
	CHECK_STR(id.softwareversion, "OpenSSH_9.2p1");
	CHECK_STR(id.comments, "Debian-2+deb12u6");
	CHECK(!id.compat && id.lines == 0);
	/* it stops at the LF: the binary packet after it is not read */
	CHECK(id.used == strlen("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6\r\n"));

	/* LF alone, as OpenSSH's client accepts it */
	CHECK(parse_all_ways(S("SSH-2.0-dropbear_2022.83\n")) == SSH_IDENT_SSH2);
	CHECK_STR(id.softwareversion, "dropbear_2022.83");
	CHECK_STR(id.comments, "");

	/* a comment with spaces in it */
	CHECK(parse_all_ways(S("SSH-2.0-srv_1.0 built by someone, with care\r\n")) == SSH_IDENT_SSH2);
	CHECK_STR(id.softwareversion, "srv_1.0");
	CHECK_STR(id.comments, "built by someone, with care");

	/* the minus sign the RFC forbids in softwareversion: real servers send it */
	CHECK(parse_all_ways(S("SSH-2.0-Cisco-1.25\r\n")) == SSH_IDENT_SSH2);
	CHECK_STR(id.softwareversion, "Cisco-1.25");

	/* 1.99: SSH 2, compatible with 1 */
	CHECK(parse_all_ways(S("SSH-1.99-OpenSSH_3.9p1\r\n")) == SSH_IDENT_SSH2);
	CHECK(id.compat);
	CHECK_STR(id.protoversion, "1.99");
}

static void test_preamble(void)
{
	static const char two[] = "Welcome to the jump host\r\n"
				  "\r\n"
				  "SSH-2.0-OpenSSH_9.6\r\n";

	CHECK(parse_all_ways(S(two)) == SSH_IDENT_SSH2);
	CHECK(id.lines == 2);
	CHECK_STR(id.first, "Welcome to the jump host");
	CHECK_STR(id.ident, "SSH-2.0-OpenSSH_9.6");
	CHECK(id.used == strlen(two));

	/* LF-only lines, mixed with CR LF */
	CHECK(parse_all_ways(S("one\ntwo\r\nSSH-2.0-x\n")) == SSH_IDENT_SSH2);
	CHECK(id.lines == 2);

	/* "SSH-" must begin a line: in the middle it is just text */
	CHECK(parse_all_ways(S("try SSH-2.0-x\r\n")) == SSH_IDENT_MORE);
	CHECK(id.lines == 1);

	/* an HTTP answer: lines, no identification (the probe judges it at
	 * the close or the deadline) */
	CHECK(parse_all_ways(S("HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")) ==
	      SSH_IDENT_MORE);
	CHECK(id.lines == 3);
	CHECK_STR(id.first, "HTTP/1.0 400 Bad Request");

	/* an unfinished first line is still shown */
	CHECK(parse_all_ways(S("HTTP/1.1 40")) == SSH_IDENT_MORE);
	CHECK_STR(id.first, "HTTP/1.1 40");
	CHECK(id.lines == 0);

	/* nothing at all */
	CHECK(ssh_ident_parse("", 0, &id) == SSH_IDENT_MORE);
	CHECK(id.used == 0 && id.first[0] == '\0');

	/* 1023 other lines are allowed, the 1024th is one too many */
	{
		static char many[SSH_IDENT_PREAMBLE_MAX * 2 + 16];
		size_t n = 0;

		for (int i = 0; i < SSH_IDENT_PREAMBLE_MAX - 1; i++) {
			many[n++] = 'x';
			many[n++] = '\n';
		}
		memcpy(many + n, "SSH-2.0-y\n", 10);
		CHECK(ssh_ident_parse(many, n + 10, &id) == SSH_IDENT_SSH2);
		CHECK(id.lines == SSH_IDENT_PREAMBLE_MAX - 1);
		many[n] = 'x';
		many[n + 1] = '\n';
		CHECK(ssh_ident_parse(many, n + 2, &id) == SSH_IDENT_BAD);
		CHECK(strstr(id.why, "1024 lines and no SSH identification") != NULL);
	}
}

static void test_bad(void)
{
	CHECK(parse_all_ways(S("SSH-1.5-OpenSSH_1.2.3\r\n")) == SSH_IDENT_BAD);
	CHECK(strstr(id.why, "SSH 1 server") && strstr(id.why, "\"SSH-1.5-OpenSSH_1.2.3\""));
	CHECK(parse_all_ways(S("SSH-2.1-future\r\n")) == SSH_IDENT_BAD);
	CHECK(strstr(id.why, "\"2.1\", neither 2.0 nor 1.99"));
	CHECK(parse_all_ways(S("SSH-2.0\r\n")) == SSH_IDENT_BAD);
	CHECK(strstr(id.why, "without a software version"));
	CHECK(parse_all_ways(S("SSH-2.0 OpenSSH\r\n")) == SSH_IDENT_BAD);
	CHECK(strstr(id.why, "without a software version"));
	CHECK(parse_all_ways(S("SSH-2.0- comment\r\n")) == SSH_IDENT_BAD);
	CHECK(strstr(id.why, "empty software version"));
	CHECK(parse_all_ways(S("SSH--x\r\n")) == SSH_IDENT_BAD);
	CHECK(strstr(id.why, "without a protocol version"));
	CHECK(parse_all_ways(S("SSH-\r\n")) == SSH_IDENT_BAD);
	CHECK(parse_all_ways(S("SSH-20-x\r\n")) == SSH_IDENT_BAD);
	CHECK(parse_all_ways(S("SSH-2.00-x\r\n")) == SSH_IDENT_BAD);
	CHECK(parse_all_ways(S("SSH-1.99x-x\r\n")) == SSH_IDENT_BAD);

	/* NUL bytes: a TLS alert (15 03 03 00 02 02 28), and one in a line */
	CHECK(parse_all_ways(S("\x15\x03\x03\x00\x02\x02\x28")) == SSH_IDENT_BAD);
	CHECK_STR(id.why, "a NUL byte at byte 4 of line 1, not text (15 03 03 00)");
	CHECK(id.used == 4);
	CHECK(parse_all_ways(S("SSH-2.0-Open\0SSH\r\n")) == SSH_IDENT_BAD);
	CHECK_STR(id.why, "a NUL byte at byte 13 of line 1, not text (53 53 48 2d 32 2e 30 ... 00)");
	CHECK(parse_all_ways(S("\0")) == SSH_IDENT_BAD);
	CHECK_STR(id.why, "a NUL byte at byte 1 of line 1, not text (00)");
	CHECK(parse_all_ways(S("hello\r\nwor\0ld\r\nSSH-2.0-x\r\n")) == SSH_IDENT_BAD);
	CHECK(strstr(id.why, "line 2"));

	/* a CR not followed by LF, as OpenSSH's client refuses it */
	CHECK(parse_all_ways(S("SSH-2.0-x\ry\r\n")) == SSH_IDENT_BAD);
	CHECK(strstr(id.why, "a CR not followed by LF in line 1"));
	CHECK(parse_all_ways(S("SSH-2.0-x\r\r\n")) == SSH_IDENT_BAD);

	/* control bytes are shown as dots */
	CHECK(parse_all_ways(S("SSH-9.9-\x1b[31mred\r\n")) == SSH_IDENT_BAD);
	CHECK(strstr(id.why, "SSH-9.9-.[31mred") != NULL);
}

static void test_lengths(void)
{
	char line[600];
	size_t n;

	/* 253 bytes and CR LF: 255, the most the RFC allows */
	memset(line, 'a', sizeof(line));
	memcpy(line, "SSH-2.0-", 8);
	n = 253;
	memcpy(line + n, "\r\n", 2);
	CHECK(ssh_ident_parse(line, n + 2, &id) == SSH_IDENT_SSH2);
	CHECK(strlen(id.ident) == 253 && strlen(id.softwareversion) == 245);
	/* 254 and LF alone: 255 as well */
	line[254] = '\n';
	CHECK(ssh_ident_parse(line, 255, &id) == SSH_IDENT_SSH2);
	/* 254 and CR LF: one too many */
	memset(line, 'a', sizeof(line));
	memcpy(line, "SSH-2.0-", 8);
	memcpy(line + 254, "\r\n", 2);
	CHECK(parse_all_ways(line, 256) == SSH_IDENT_BAD);
	CHECK(strstr(id.why, "line 1 is longer than 255 bytes"));
	CHECK(id.used == 256);
	/* a long line without an end: refused at byte 256, not read on */
	CHECK(parse_all_ways(line, sizeof(line)) == SSH_IDENT_BAD);
	CHECK(id.used == 256);
	/* a long line before the identification */
	memset(line, 'b', sizeof(line));
	memcpy(line + 300, "\r\nSSH-2.0-x\r\n", 13);
	CHECK(parse_all_ways(line, 313) == SSH_IDENT_BAD);
	CHECK(strstr(id.why, "line 1 is longer"));
	/* the first line is cut for the report, not for the parse */
	memset(line, 'c', 200);
	memcpy(line + 200, "\nSSH-2.0-x\n", 11);
	CHECK(parse_all_ways(line, 211) == SSH_IDENT_SSH2);
	CHECK(strlen(id.first) == sizeof(id.first) - 1);
}

static void test_sticky(void)
{
	/* after the verdict, more bytes change nothing */
	CHECK(ssh_ident_parse(S("SSH-2.0-a\r\n"), &id) == SSH_IDENT_SSH2);
	CHECK(ssh_ident_feed(&id, S("SSH-1.5-b\r\n")) == SSH_IDENT_SSH2);
	CHECK_STR(id.softwareversion, "a");
	CHECK(id.used == 11);
	CHECK(ssh_ident_parse(S("\0"), &id) == SSH_IDENT_BAD);
	CHECK(ssh_ident_feed(&id, S("SSH-2.0-a\r\n")) == SSH_IDENT_BAD);
	CHECK(id.used == 1);
}

int main(void)
{
	test_ssh2();
	test_preamble();
	test_bad();
	test_lengths();
	test_sticky();
	return test_result();
}
