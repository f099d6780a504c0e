/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/socket.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/options.h"
#include "../lib/test.h"

static int parse(struct cg_options *o, int argc, char **argv)
{
	return options_parse(argc, argv, o);
}

#define ARGS(...) (char *[]){ "cgnatcheck", __VA_ARGS__, NULL }
#define NARGS(...) (int)(sizeof((char *[]){ "cgnatcheck", __VA_ARGS__ }) / sizeof(char *))

int main(void)
{
	struct cg_options o;
	struct cg_target_arg t;
	char buf[CG_ADDRSTRLEN];

	CHECK(parse(&o, NARGS("--dns", "100.100.2.136", "-d", "100.100.2.138", "--format", "json"),
		    ARGS("--dns", "100.100.2.136", "-d", "100.100.2.138", "--format", "json")) == 0);
	CHECK(o.n_targets == 2 && o.targets[0].dns && o.targets[0].port == 53);
	CHECK(o.targets[0].protos == (CG_PROTO_UDP | CG_PROTO_TCP));
	CHECK_STR(addr_to_string(&o.targets[1].addr, buf), "100.100.2.138");
	CHECK(o.format == CG_FORMAT_JSON && o.mode == CG_MODE_AUDIT);
	options_free(&o);

	CHECK(target_arg_parse("100.100.100.200:80/tcp", false, &t) == 0);
	CHECK(t.port == 80 && t.protos == CG_PROTO_TCP && !t.dns);
	CHECK(target_arg_parse("100.100.61.88:123/udp", false, &t) == 0 && t.protos == CG_PROTO_UDP);
	CHECK(target_arg_parse("[fd00::1]:443/tcp", false, &t) == 0 && t.port == 443);
	CHECK(target_arg_parse("fd00::1", false, &t) == 0 && t.addr.family == AF_INET6 && t.port == 0);
	CHECK(target_arg_parse("100.100.2.148", false, &t) == 0 && t.port == 0 && t.protos == 0);
	CHECK(target_arg_parse("100.100.2.148:0", false, &t) < 0);
	CHECK(target_arg_parse("100.100.2.148:65536", false, &t) < 0);
	CHECK(target_arg_parse("100.100.2.148:80/sctp", false, &t) < 0);
	CHECK(target_arg_parse("mirror.example:80", false, &t) < 0);
	CHECK(target_arg_parse("[fd00::1", false, &t) < 0);

	CHECK(parse(&o, NARGS("--show-route", "100.100.2.136", "--mark", "0x80000", "--iif", "eth0"),
		    ARGS("--show-route", "100.100.2.136", "--mark", "0x80000", "--iif", "eth0")) == 0);
	CHECK(o.mode == CG_MODE_SHOW_ROUTE && o.route_mark == 0x80000 && o.route_mark_set);
	CHECK_STR(o.route_iif, "eth0");
	options_free(&o);

	/* operations */
	CHECK(parse(&o, NARGS("--fix", "--wait-overlay", "--user", "nobody"),
		    ARGS("--fix", "--wait-overlay", "--user", "nobody")) == 0);
	CHECK(o.wait_overlay == CG_WAIT_OVERLAY_DEFAULT && o.fix);
	CHECK_STR(o.user, "nobody");
	options_free(&o);
	CHECK(parse(&o, NARGS("--wait-overlay=7"), ARGS("--wait-overlay=7")) == 0 && o.wait_overlay == 7);
	options_free(&o);
	CHECK(parse(&o, NARGS("--quiet"), ARGS("--quiet")) == 0 && o.wait_overlay == -1 && o.n_mail_to == 0);
	CHECK(o.mail_on == (CG_MAIL_ON_PROBLEM | CG_MAIL_ON_CHANGE));
	options_free(&o);
	CHECK(parse(&o, NARGS("--mail-to", "root", "--mail-to", "ops+x@example.com", "--mail-on", "change,always",
			      "--sendmail", "/usr/bin/msmtp"),
		    ARGS("--mail-to", "root", "--mail-to", "ops+x@example.com", "--mail-on", "change,always",
			 "--sendmail", "/usr/bin/msmtp")) == 0);
	CHECK(o.n_mail_to == 2 && o.mail_on == (CG_MAIL_ON_CHANGE | CG_MAIL_ON_ALWAYS));
	CHECK_STR(o.mail_to[1], "ops+x@example.com");
	CHECK_STR(o.sendmail, "/usr/bin/msmtp");
	options_free(&o);
	CHECK(mail_address_valid("root") && mail_address_valid("a`b`$c{d}|e&f@example.com"));
	CHECK(!mail_address_valid("-oQ") && !mail_address_valid("a b") && !mail_address_valid("a\r\nBcc: b"));
	CHECK(!mail_address_valid("") && !mail_address_valid("a,b") && !mail_address_valid("<a>"));
	CHECK(parse(&o, NARGS("--mail-to", "-f"), ARGS("--mail-to", "-f")) < 0);
	options_free(&o);
	CHECK(parse(&o, NARGS("--mail-on", "never"), ARGS("--mail-on", "never")) < 0);
	options_free(&o);
	CHECK(parse(&o, NARGS("--wait-overlay=-1"), ARGS("--wait-overlay=-1")) < 0);
	options_free(&o);
	CHECK(parse(&o, NARGS("--mail-to", "root", "--keep"), ARGS("--mail-to", "root", "--keep")) < 0);
	options_free(&o);
	CHECK(parse(&o, NARGS("--user", "-x"), ARGS("--user", "-x")) < 0);
	options_free(&o);

	/* errors */
	CHECK(parse(&o, NARGS("--format", "xml"), ARGS("--format", "xml")) < 0);
	options_free(&o);
	CHECK(parse(&o, NARGS("--dry-run"), ARGS("--dry-run")) < 0);
	options_free(&o);
	CHECK(parse(&o, NARGS("--fix", "--undo"), ARGS("--fix", "--undo")) < 0);
	options_free(&o);
	CHECK(parse(&o, NARGS("--mark", "5"), ARGS("--mark", "5")) < 0);
	options_free(&o);
	CHECK(parse(&o, NARGS("--show-route", "1.2.3.4", "--from", "::1"),
		    ARGS("--show-route", "1.2.3.4", "--from", "::1")) < 0);
	options_free(&o);
	CHECK(parse(&o, NARGS("--bogus"), ARGS("--bogus")) < 0);
	options_free(&o);
	CHECK(parse(&o, NARGS("stray"), ARGS("stray")) < 0);
	options_free(&o);
	CHECK(parse(&o, NARGS("--dns"), ARGS("--dns")) < 0);
	options_free(&o);
	return test_result();
}
