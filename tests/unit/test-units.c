/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unit-file reader (collect/units*.c), sshd_config and the sysctls, on
 * host roots built file by file: each case is one rule of systemd's loader
 * (systemd.unit(5)) or of sshd's (sshd_config(5)). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cgnatcheck/units.h"
#include "../lib/test.h"
#include "units-tree.h"

/* ---- the syntax ---------------------------------------------------------- */

struct seen {
	char text[4096];
	int n;
};

static void collect(const struct unit_assignment *a, void *ud)
{
	struct seen *s = ud;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "[%s]%s=%s@%u-%u|", a->section, a->key, a->value, a->line,
		 a->last_line);
	s->n++;
}

static int parse(const char *text, struct seen *s, struct unit_notes *notes)
{
	memset(s, 0, sizeof(*s));
	return unit_text_parse("t.unit", text, strlen(text), collect, s, notes);
}

static bool notes_have(const struct unit_notes *n, const char *what)
{
	for (size_t i = 0; i < n->n; i++)
		if (strstr(n->v[i], what))
			return true;
	fprintf(stderr, "no note with '%s' among %zu:\n", what, n->n);
	for (size_t i = 0; i < n->n; i++)
		fprintf(stderr, "  %s\n", n->v[i]);
	return false;
}

static void test_syntax(void)
{
	struct unit_notes notes = { 0 };
	struct seen s;

	CHECK(parse("# c\n; c\n[Unit]\n  After = a.service  b.service \n\n[Socket]\nListenStream=\n", &s, &notes) == 0);
	CHECK_STR(s.text, "[Unit]After=a.service  b.service@4-4|[Socket]ListenStream=@7-7|");
	/* a continued line, with a comment inside it; "\\\\" at the end is
	 * an escaped backslash, not a continuation */
	CHECK(parse("[Service]\nExecStart=/bin/a \\\n# inside\n  b \\\n c\nX=y\\\\\nZ=1", &s, &notes) == 0);
	CHECK_STR(s.text, "[Service]ExecStart=/bin/a    b   c@2-5|[Service]X=y\\\\@6-6|[Service]Z=1@7-7|");
	/* CRLF, a byte-order mark, a continuation at the end of the file */
	CHECK(parse("\xef\xbb\xbf[Unit]\r\nWants=x.service\r\nAfter=y.service \\", &s, &notes) == 0);
	CHECK_STR(s.text, "[Unit]Wants=x.service@2-2|[Unit]After=y.service@3-3|");
	/* what systemd warns about and ignores */
	unit_notes_free(&notes);
	CHECK(parse("Before=a.service\n[Unit]\nno equals sign\n=x\nAfter=b.service\n", &s, &notes) == 0);
	CHECK(s.n == 1);
	CHECK(notes_have(&notes, "t.unit:1: assignment outside of a section"));
	CHECK(notes_have(&notes, "t.unit:3: missing '='"));
	CHECK(notes_have(&notes, "t.unit:4: missing key name"));
	unit_notes_free(&notes);
	/* what makes systemd refuse the file */
	CHECK(parse("[Unit\nAfter=a.service\n", &s, &notes) == -EBADMSG);
	CHECK(notes_have(&notes, "t.unit:1: invalid section header"));
	CHECK(parse("[Unit]\n.include /etc/x\n", &s, &notes) == -EBADMSG);
	CHECK(notes_have(&notes, ".include"));
	{
		static const char nul[] = "[Unit]\nAfter=a\0b\n";
		memset(&s, 0, sizeof(s));
		CHECK(unit_text_parse("t.unit", nul, sizeof(nul) - 1, collect, &s, &notes) == -EINVAL);
		CHECK(notes_have(&notes, "NUL"));
	}
	unit_notes_free(&notes);
}

static void test_names(void)
{
	char buf[300];
	struct unit_listen_addr l;
	char a[CG_ADDRSTRLEN];

	CHECK(unit_name_is_valid("ssh.socket", UNIT_NAME_PLAIN));
	CHECK(!unit_name_is_valid("ssh.socket", UNIT_NAME_TEMPLATE));
	CHECK(unit_name_is_valid("wg-quick@.service", UNIT_NAME_TEMPLATE));
	CHECK(unit_name_is_valid("wg-quick@wg0.service", UNIT_NAME_INSTANCE));
	CHECK(!unit_name_is_valid("@wg0.service", UNIT_NAME_ANY));
	CHECK(!unit_name_is_valid("a@b@c.service", UNIT_NAME_ANY));
	CHECK(!unit_name_is_valid("ssh.sock", UNIT_NAME_ANY));
	CHECK(!unit_name_is_valid("ssh socket.socket", UNIT_NAME_ANY));
	CHECK(!unit_name_is_valid(".service", UNIT_NAME_ANY));
	memset(buf, 'a', 260);
	strcpy(buf + 260, ".service");
	CHECK(!unit_name_is_valid(buf, UNIT_NAME_ANY));
	CHECK(unit_name_type("x.device") == UNIT_DEVICE && unit_name_type("x") == UNIT_TYPE_INVALID);
	CHECK(unit_name_template("foo@bar.socket", buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "foo@.socket");
	CHECK(unit_name_instantiate("foo@.socket", "wg0", buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "foo@wg0.socket");
	CHECK(unit_name_netdev("wg0", buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "sys-subsystem-net-devices-wg0.device");
	CHECK(unit_name_netdev("wg-x.1", buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "sys-subsystem-net-devices-wg\\x2dx.1.device");
	CHECK(unit_name_escape(".a/b c", buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "\\x2ea-b\\x20c");
	CHECK(unit_parse_boolean("YES") == 1 && unit_parse_boolean("off") == 0 && unit_parse_boolean("2") < 0);

	CHECK(unit_listen_parse("100.101.102.103:22", &l) == 0 && l.family == LISTEN_INET && l.port == 22);
	CHECK_STR(addr_to_string(&l.addr, a), "100.101.102.103");
	CHECK(unit_listen_parse("22", &l) == 0 && l.addr.family == AF_UNSPEC && l.port == 22);
	CHECK(unit_listen_parse("[fd7a:115c:a1e0::1]:22", &l) == 0 && l.addr.family == AF_INET6);
	CHECK(unit_listen_parse("[fe80::1%wg0]:22", &l) == 0 && !strcmp(l.ifname, "wg0"));
	CHECK(unit_listen_parse("/run/x.sock", &l) == 0 && l.family == LISTEN_UNIX);
	CHECK(unit_listen_parse("@abstract", &l) == 0 && l.family == LISTEN_UNIX);
	CHECK(unit_listen_parse("vsock:2:22", &l) == 0 && l.family == LISTEN_OTHER);
	CHECK(unit_listen_parse("100.1.2.3", &l) < 0);
	CHECK(unit_listen_parse("100.1.2.3:0", &l) < 0);
	CHECK(unit_listen_parse("100.1.2.3:65536", &l) < 0);
	CHECK(unit_listen_parse("[::1]", &l) < 0);
	CHECK(unit_listen_parse("::1:22", &l) < 0);
	CHECK(unit_listen_parse("", &l) < 0);

	struct unit_spec_ctx spec = { "wg-quick@wg\\x2d1.service", "wg-quick", "wg\\x2d1" };
	char *out;
	CHECK(unit_expand_specifiers(&spec, "%n %N %p %i %I %j %f %%", &out) == 0);
	CHECK_STR(out, "wg-quick@wg\\x2d1.service wg-quick@wg\\x2d1 wg-quick wg\\x2d1 wg-1 quick /wg-1 %");
	free(out);
	CHECK(unit_expand_specifiers(&spec, "%H", &out) == -EOPNOTSUPP);
	CHECK_STR(out, "%H");
	free(out);
	CHECK(unit_expand_specifiers(&spec, "%z", &out) == -EBADMSG && !out);

	const char *p = "a.service  b\\ c.service\t";
	char *w1 = unit_next_word(&p), *w2 = unit_next_word(&p), *w3 = unit_next_word(&p);
	CHECK_STR(w1, "a.service");
	CHECK_STR(w2, "b\\ c.service");
	CHECK(w3 == NULL);
	free(w1);
	free(w2);
}

/* ---- the loader -------------------------------------------------------------- */

#define USR "/usr/lib/systemd/system/"
#define ETC "/etc/systemd/system/"

static const struct unit_dep_item *dep(struct units *s, const struct unit *u, enum unit_dep t, const char *name)
{
	return unit_find_dep(s, u, t, units_get(s, name));
}

static bool has_name(const struct unit *u, const char *name)
{
	for (size_t i = 0; i < u->n_names; i++)
		if (!strcmp(u->names[i], name))
			return true;
	return false;
}

static void test_search_path(void)
{
	struct units s;
	struct unit *u;

	tree_new();
	/* the first directory that has a name wins */
	tree_file(USR "a.service", "[Unit]\nAfter=from-usr.service\n");
	tree_file(ETC "a.service", "[Unit]\nAfter=from-etc.service\n");
	tree_file("/run/systemd/system/a.service", "[Unit]\nAfter=from-run.service\n");
	tree_file("/usr/local/lib/systemd/system/b.service", "[Unit]\nAfter=local.service\n");
	tree_file(USR "b.service", "[Unit]\nAfter=usr.service\n");
	/* /lib -> usr/lib: the same directory, read once */
	tree_link("/lib", "usr/lib");
	tree_file(USR "c.service", "[Unit]\nDescription=c\n");
	units_init(&s, NULL, 0);
	u = units_get(&s, "a.service");
	CHECK(u && u->load == UNIT_LOADED);
	CHECK_STR(u->fragment, ETC "a.service");
	CHECK(dep(&s, u, UNIT_AFTER, "from-etc.service") && !dep(&s, u, UNIT_AFTER, "from-run.service"));
	u = units_get(&s, "b.service");
	CHECK_STR(u->fragment, "/usr/local/lib/systemd/system/b.service");
	u = units_get(&s, "c.service");
	CHECK_STR(u->fragment, "/lib/systemd/system/c.service");
	u = units_get(&s, "nothere.service");
	CHECK(u && u->load == UNIT_NOT_FOUND && !u->fragment);
	/* a device unit needs no file */
	u = units_get(&s, "sys-subsystem-net-devices-wg0.device");
	CHECK(u && u->load == UNIT_LOADED && u->type == UNIT_DEVICE);
	CHECK(units_get(&s, "no name") == NULL && notes_have(&s.notes, "'no name' is not the name of a unit"));
	CHECK(units_get(&s, "tmpl@.service") == NULL);
	units_free(&s);
	tree_free();
}

static void test_aliases_masks(void)
{
	struct units s;
	struct unit *u, *v;

	tree_new();
	tree_file(USR "ssh.service", "[Unit]\nDescription=sshd\n[Service]\nExecStart=/usr/sbin/sshd -D\n");
	/* an alias in /etc, and drop-ins for both names */
	tree_link(ETC "sshd.service", "/usr/lib/systemd/system/ssh.service");
	tree_file(ETC "sshd.service.d/a.conf", "[Unit]\nAfter=via-alias.service\n");
	tree_file(ETC "ssh.service.d/b.conf", "[Unit]\nAfter=via-id.service\n");
	/* masks */
	tree_link(ETC "masked.service", "/dev/null");
	tree_file(USR "masked.service", "[Unit]\nDescription=hidden\n");
	tree_file(ETC "empty.service", "");
	/* a loop of aliases, and a chain through names */
	tree_link(ETC "loop1.service", "loop2.service");
	tree_link(ETC "loop2.service", "loop1.service");
	tree_link(ETC "n1.service", USR "n2.service");
	tree_link(USR "n2.service", "/etc/systemd/system/n1.service");
	/* an alias of another type */
	tree_link(ETC "odd.service", USR "ssh.socket");
	tree_file(USR "ssh.socket", "[Socket]\nListenStream=22\n");
	/* a linked unit file outside the search path */
	tree_file("/opt/vendor/linked.service", "[Unit]\nAfter=linked-dep.service\n");
	tree_link(ETC "linked.service", "/opt/vendor/linked.service");
	/* an absolute link that would leave the root */
	tree_link(ETC "escape.service", "/etc/passwd");
	/* a dangling link; a directory where a file should be */
	tree_link(ETC "dangling.service", "/nowhere/dangling.service");
	tree_dir(ETC "dir.service");

	units_init(&s, NULL, 0);
	u = units_get(&s, "sshd.service");
	v = units_get(&s, "ssh.service");
	CHECK(u == v && u && !strcmp(u->id, "ssh.service"));
	CHECK(has_name(u, "sshd.service"));
	CHECK(dep(&s, u, UNIT_AFTER, "via-alias.service") && dep(&s, u, UNIT_AFTER, "via-id.service"));
	CHECK(u->n_dropins == 2);
	u = units_get(&s, "masked.service");
	CHECK(u->load == UNIT_MASKED);
	CHECK(units_get(&s, "empty.service")->load == UNIT_MASKED);
	u = units_get(&s, "loop1.service");
	CHECK(u->load == UNIT_ERROR && strstr(u->load_error, "loop"));
	u = units_get(&s, "n1.service");
	CHECK(u->load == UNIT_ERROR && strstr(u->load_error, "a loop of aliases"));
	CHECK(units_get(&s, "odd.service")->load == UNIT_ERROR);
	u = units_get(&s, "linked.service");
	CHECK(u->load == UNIT_LOADED && !strcmp(u->fragment, "/opt/vendor/linked.service"));
	CHECK_STR(u->fragment_entry, ETC "linked.service");
	CHECK(dep(&s, u, UNIT_AFTER, "linked-dep.service"));
	u = units_get(&s, "escape.service");
	CHECK(u->load == UNIT_ERROR);   /* /etc/passwd of the root, which has none */
	CHECK(units_get(&s, "dangling.service")->load == UNIT_ERROR);
	CHECK(units_get(&s, "dir.service")->load == UNIT_ERROR);
	CHECK(notes_have(&s.notes, "dangling.service"));
	units_free(&s);
	tree_free();
}

static void test_templates_dropins(void)
{
	struct units s;
	struct unit *u;

	tree_new();
	tree_file(USR "foo@.socket", "[Socket]\nListenStream=100.64.0.1:%i\nBindToDevice=wg-%i\n"
				     "[Unit]\nDescription=%I\n");
	tree_file(USR "foo@.socket.d/10-tmpl.conf", "[Unit]\nAfter=tmpl.service\n");
	tree_file(ETC "foo@22.socket.d/20-inst.conf", "[Unit]\nAfter=inst-%i.service\n");
	/* a template's alias applies to its instances */
	tree_link(ETC "bar@.socket", USR "foo@.socket");
	/* dash prefixes, the type's directory, precedence by file name */
	tree_file(USR "a-b-c.service", "[Unit]\nDescription=abc\n");
	tree_file(USR "a-.service.d/10-x.conf", "[Unit]\nAfter=from-a-prefix.service\n");
	tree_file(USR "a-b-.service.d/10-x.conf", "[Unit]\nAfter=from-ab-prefix.service\n");
	tree_file(USR "service.d/05-all.conf", "[Unit]\nAfter=every-service.service\n");
	tree_file(USR "service.d/30-all.conf", "[Unit]\nAfter=masked-away.service\n");
	tree_link(ETC "a-b-c.service.d/30-all.conf", "/dev/null");
	tree_file(USR "a-b-c.service.d/40-z.conf", "[Unit]\nAfter=usr-z.service\n");
	tree_file(ETC "a-b-c.service.d/40-z.conf", "[Unit]\nAfter=etc-z.service\n");
	tree_file(ETC "a-b-c.service.d/readme.txt", "[Unit]\nAfter=not-a-conf.service\n");

	units_init(&s, NULL, 0);
	u = units_get(&s, "foo@22.socket");
	CHECK(u && u->load == UNIT_LOADED && !strcmp(u->instance, "22"));
	CHECK_STR(u->fragment, USR "foo@.socket");
	CHECK(u->n_listen == 1 && u->listen[0].parsed.port == 22);
	CHECK_STR(u->bind_to_device.value, "wg-22");
	CHECK(dep(&s, u, UNIT_AFTER, "tmpl.service") && dep(&s, u, UNIT_AFTER, "inst-22.service"));
	CHECK(dep(&s, u, UNIT_BINDS_TO, "sys-subsystem-net-devices-wg\\x2d22.device"));
	CHECK(dep(&s, u, UNIT_AFTER, "sys-subsystem-net-devices-wg\\x2d22.device"));
	/* the instance's service, implicitly after the socket */
	CHECK(dep(&s, u, UNIT_BEFORE, "foo@22.service"));
	u = units_get(&s, "bar@7.socket");
	CHECK(u && !strcmp(u->id, "foo@7.socket") && has_name(u, "bar@7.socket"));

	u = units_get(&s, "a-b-c.service");
	CHECK(dep(&s, u, UNIT_AFTER, "from-ab-prefix.service"));
	CHECK(!dep(&s, u, UNIT_AFTER, "from-a-prefix.service"));   /* same file name, the longer prefix wins */
	CHECK(dep(&s, u, UNIT_AFTER, "every-service.service"));
	CHECK(!dep(&s, u, UNIT_AFTER, "masked-away.service"));
	CHECK(dep(&s, u, UNIT_AFTER, "etc-z.service") && !dep(&s, u, UNIT_AFTER, "usr-z.service"));
	CHECK(!dep(&s, u, UNIT_AFTER, "not-a-conf.service"));
	CHECK(u->n_dropins == 3);
	CHECK_STR(u->dropins[0], USR "service.d/05-all.conf");
	CHECK_STR(u->dropins[1], USR "a-b-.service.d/10-x.conf");
	CHECK_STR(u->dropins[2], ETC "a-b-c.service.d/40-z.conf");
	units_free(&s);
	tree_free();
}

static void test_settings(void)
{
	struct units s;
	struct unit *u;
	char prog[256];
	const char *where = NULL;

	tree_new();
	tree_file(USR "s.socket", "[Socket]\nListenStream=22\nListenDatagram=100.64.0.1:53\n"
				  "FreeBind=yes\nAccept=yes\nService=other.service\nBindToDevice=eth0\n"
				  "[Install]\nWantedBy=sockets.target\n");
	/* an empty assignment removes every port of every kind, and resets
	 * BindToDevice=; a bad boolean is ignored; an empty After= resets nothing */
	tree_file(ETC "s.socket.d/o.conf", "[Unit]\nAfter=\n[Socket]\nListenStream=\nListenStream=100.101.102.103:22\n"
					   "FreeBind=maybe\nAccept=no\nBindToDevice=\nListenStream=not an address\n");
	tree_link(ETC "sockets.target.wants/s.socket", USR "s.socket");
	tree_file(USR "sockets.target", "[Unit]\nDescription=Sockets\n");
	tree_file(USR "t.service", "[Service]\nType=oneshot\nExecStart=-/bin/true one\nExecStart=/bin/two\n"
				   "ExecStartPre=/bin/pre\nSockets=s.socket\n");
	tree_file(ETC "t.service.d/r.conf", "[Service]\nExecStart=\nExecStart=@/usr/bin/real argv0 x\n");
	tree_file(USR "d.service", "[Unit]\nDefaultDependencies=no\nBindsTo=x.service\n");
	tree_file(USR "bus.service", "[Service]\nType=dbus\nExecStart=/bin/bus\n");

	units_init(&s, NULL, 0);
	u = units_get(&s, "s.socket");
	CHECK(u->n_listen == 1 && !strcmp(u->listen[0].value, "100.101.102.103:22"));
	CHECK_STR(u->free_bind.value, "yes");
	CHECK_STR(u->accept.value, "no");
	CHECK(u->bind_to_device.value == NULL);
	CHECK(notes_have(&s.notes, "FreeBind=maybe is not a boolean"));
	CHECK(notes_have(&s.notes, "an empty After= does not remove dependencies"));
	CHECK(notes_have(&s.notes, "not an address"));
	/* Accept=no: the service it activates, named by Service= */
	CHECK(dep(&s, u, UNIT_BEFORE, "other.service"));
	/* default dependencies of a socket */
	CHECK(dep(&s, u, UNIT_BEFORE, "sockets.target") && dep(&s, u, UNIT_REQUIRES, "sysinit.target"));
	CHECK(dep(&s, u, UNIT_BEFORE, "shutdown.target") && dep(&s, u, UNIT_CONFLICTS, "shutdown.target"));
	CHECK(unit_is_enabled(&s, u, &where) && where && strstr(where, "sockets.target.wants/s.socket"));

	u = units_get(&s, "t.service");
	CHECK(u->n_exec == 2);
	CHECK_STR(unit_exec_start_program(u, prog, sizeof(prog)), "/usr/bin/real");
	CHECK_STR(u->service_type.value, "oneshot");
	CHECK(dep(&s, u, UNIT_WANTS, "s.socket") && dep(&s, u, UNIT_AFTER, "s.socket"));
	CHECK(dep(&s, u, UNIT_AFTER, "basic.target") && dep(&s, u, UNIT_REQUIRES, "sysinit.target"));
	CHECK(!unit_is_enabled(&s, u, NULL));
	u = units_get(&s, "d.service");
	CHECK(!u->default_dependencies && !dep(&s, u, UNIT_AFTER, "basic.target"));
	CHECK(dep(&s, u, UNIT_BINDS_TO, "x.service"));
	u = units_get(&s, "bus.service");
	CHECK(dep(&s, u, UNIT_REQUIRES, "dbus.socket") && dep(&s, u, UNIT_AFTER, "dbus.socket"));
	units_free(&s);
	tree_free();
}

static void test_boot(void)
{
	struct units s;
	struct unit *u;

	tree_new();
	tree_file(USR "multi-user.target", "[Unit]\nRequires=basic.target\nAfter=basic.target\n");
	tree_file(USR "basic.target", "[Unit]\nRequires=sysinit.target\nWants=sockets.target\n"
				      "After=sysinit.target sockets.target\n");
	tree_file(USR "sysinit.target", "[Unit]\nDescription=sysinit\n");
	tree_file(USR "sockets.target", "[Unit]\nDescription=sockets\n");
	tree_link(USR "default.target", "multi-user.target");
	tree_file(USR "app.service", "[Service]\nExecStart=/bin/app\n");
	tree_link(ETC "multi-user.target.wants/app.service", USR "app.service");
	tree_file(USR "early.service", "[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/e\n");
	tree_link(ETC "sysinit.target.wants/early.service", USR "early.service");
	/* a default-dependency service wanted by sysinit.target: sysinit is
	 * not ordered after it (it is Before= it already) */
	tree_file(USR "late.service", "[Service]\nExecStart=/bin/l\n");
	tree_link(ETC "sysinit.target.wants/late.service", USR "late.service");
	/* a template wants its instance's partner */
	tree_file(USR "getty@.service", "[Service]\nExecStart=/bin/getty %i\n");
	tree_file(USR "log@.service", "[Service]\nExecStart=/bin/log %i\n");
	tree_link(USR "getty@.service.wants/log@.service", USR "log@.service");
	tree_link(ETC "multi-user.target.wants/getty@tty1.service", USR "getty@.service");
	/* masked and missing: not started, pull nothing in */
	tree_link(ETC "masked.service", "/dev/null");
	tree_link(ETC "multi-user.target.wants/masked.service", "/dev/null");
	tree_link(ETC "multi-user.target.wants/gone.service", USR "gone.service");
	tree_file(USR "idle.service", "[Service]\nExecStart=/bin/idle\n");

	units_init(&s, NULL, 0);
	CHECK(units_boot(&s, NULL) == 9);
	CHECK(units_get(&s, "multi-user.target")->in_boot);
	CHECK(has_name(units_get(&s, "multi-user.target"), "default.target"));
	CHECK(units_get(&s, "app.service")->in_boot && units_get(&s, "early.service")->in_boot);
	CHECK(units_get(&s, "getty@tty1.service")->in_boot && units_get(&s, "log@tty1.service")->in_boot);
	CHECK(!units_get(&s, "gone.service")->in_boot && !units_get(&s, "idle.service")->in_boot);
	CHECK(!units_get(&s, "masked.service")->in_boot);
	u = units_get(&s, "multi-user.target");
	CHECK(dep(&s, u, UNIT_AFTER, "app.service"));
	u = units_get(&s, "sysinit.target");
	CHECK(dep(&s, u, UNIT_AFTER, "early.service") == NULL);   /* DefaultDependencies=no */
	CHECK(unit_find_dep(&s, u, UNIT_AFTER, units_get(&s, "late.service")) == NULL);
	CHECK(unit_find_dep(&s, u, UNIT_BEFORE, units_get(&s, "late.service")) != NULL);
	CHECK_STR(units_get(&s, "app.service")->pulled_by, "multi-user.target");
	units_free(&s);

	/* from memory: an overlay file is read before the disk */
	struct unit_overlay_file ov[] = {
		{ ETC "app.service.d/x.conf", "[Unit]\nAfter=overlay.service\n" },
		{ ETC "new.service", "[Unit]\nDescription=from memory\n" },
		{ ETC "app.service", "[Unit]\nAfter=shadow.service\n" },
	};
	units_init(&s, ov, 3);
	u = units_get(&s, "app.service");
	CHECK(dep(&s, u, UNIT_AFTER, "overlay.service") && dep(&s, u, UNIT_AFTER, "shadow.service"));
	CHECK_STR(u->fragment, ETC "app.service");
	CHECK(units_get(&s, "new.service")->load == UNIT_LOADED);
	units_free(&s);

	/* no default.target at all */
	tree_free();
	tree_new();
	units_init(&s, NULL, 0);
	CHECK(units_boot(&s, NULL) == 0);
	CHECK(notes_have(&s.notes, "default.target is not-found"));
	units_free(&s);
	tree_free();
}

static void test_malformed(void)
{
	struct units s;
	struct unit *u;

	tree_new();
	tree_file(ETC "bad.service", "[Unit\nAfter=x.service\n");
	tree_file(ETC "dropbad.service", "[Unit]\nDescription=ok\n");
	tree_file(ETC "dropbad.service.d/x.conf", "[Unit]\n.include /x\n");
	tree_dir(ETC "dirdrop.service.d/y.conf");
	tree_file(ETC "dirdrop.service", "[Unit]\nDescription=ok\n");
	tree_file(ETC "specs.service", "[Unit]\nAfter=%z.service not/a/name.service %H.service\n");
	tree_file(ETC "tmpldep.service", "[Unit]\nWants=tmpl@.service\n");
	tree_link(ETC "tmpldep.service.wants/log@.service", "/dev/null2");
	tree_file(ETC "nul.service", "[Unit]\nAfter=a");
	{
		char full[PATH_MAX + 64];
		FILE *f;
		snprintf(full, sizeof(full), "%s" ETC "nul.service", tree_root);
		f = fopen(full, "ab");
		fputc(0, f);
		fclose(f);
	}
	units_init(&s, NULL, 0);
	u = units_get(&s, "bad.service");
	CHECK(u->load == UNIT_ERROR && strstr(u->load_error, "does not parse"));
	CHECK(units_get(&s, "dropbad.service")->load == UNIT_ERROR);
	u = units_get(&s, "dirdrop.service");
	CHECK(u->load == UNIT_ERROR && strstr(u->load_error, "Is a directory"));
	u = units_get(&s, "specs.service");
	CHECK(u->load == UNIT_LOADED);
	CHECK(notes_have(&s.notes, "unknown specifier"));
	CHECK(notes_have(&s.notes, "'not/a/name.service' is not a unit name"));
	CHECK(notes_have(&s.notes, "a specifier of the host"));
	u = units_get(&s, "tmpldep.service");
	CHECK(notes_have(&s.notes, "(a template)"));
	CHECK(notes_have(&s.notes, "a template, and tmpldep.service is not an instance"));
	CHECK(units_get(&s, "nul.service")->load == UNIT_ERROR);
	CHECK(units_boot(&s, "bad.service") == 0);
	units_free(&s);
	tree_free();
}

static void test_chase(void)
{
	char out[PATH_MAX], *text;
	size_t len;

	tree_new();
	tree_file("/usr/lib/x/file", "hello");
	tree_link("/lib", "usr/lib");
	tree_link("/etc/abs", "/lib/x/file");
	tree_link("/etc/rel", "../lib/x/../x/file");
	tree_link("/etc/up", "../../../../../../usr/lib/x/file");
	tree_link("/etc/null", "/dev/null");
	tree_link("/etc/l1", "l2");
	tree_link("/etc/l2", "l1");
	CHECK(host_chase("/etc/abs", out, sizeof(out)) == 0);
	CHECK_STR(out, "/usr/lib/x/file");
	CHECK(host_chase("/etc/rel", out, sizeof(out)) == 0);
	CHECK_STR(out, "/usr/lib/x/file");
	CHECK(host_chase("/etc/up", out, sizeof(out)) == 0);   /* ".." never above the root */
	CHECK_STR(out, "/usr/lib/x/file");
	CHECK(host_chase("/etc/null", out, sizeof(out)) == -ENOENT);
	CHECK_STR(out, "/dev/null");
	CHECK(host_chase("/etc/l1", out, sizeof(out)) == -ELOOP);
	CHECK(host_chase("/usr/lib/x/file/more", out, sizeof(out)) == -ENOTDIR);
	CHECK(host_chase("relative", out, sizeof(out)) == -EINVAL);
	CHECK(host_read_file("/etc/abs", &text, &len, out, sizeof(out)) == 0 && len == 5);
	CHECK_STR(text, "hello");
	free(text);
	CHECK(host_read_file("/usr/lib", &text, &len, NULL, 0) == -EISDIR);
	tree_free();
}

/* ---- sshd_config ------------------------------------------------------------ */

static size_t listens(const struct sshd_config *c, const char *addr, uint16_t port)
{
	char buf[CG_ADDRSTRLEN];
	size_t n = 0;

	for (size_t i = 0; i < c->n_listen; i++) {
		const char *a = c->listen[i].addr.family == AF_UNSPEC ? "*" : addr_to_string(&c->listen[i].addr, buf);
		if (!strcmp(a, addr) && c->listen[i].port == port)
			n++;
	}
	return n;
}

static void test_sshd(void)
{
	struct sshd_config c;

	tree_new();
	CHECK(sshd_config_read(NULL, &c) == 0 && !c.found && c.n_listen == 0);
	sshd_config_free(&c);

	tree_file("/etc/ssh/sshd_config", "# comment\nInclude /etc/ssh/sshd_config.d/*.conf\n"
					  "port 22 # trailing comment\nPort=2222\nListenAddress 10.0.0.1\n"
					  "Match User bob\n  ListenAddress 100.64.0.9\n  Port 1\n");
	tree_file("/etc/ssh/sshd_config.d/20-b.conf", "LISTENADDRESS \"100.101.102.103\"\n");
	tree_file("/etc/ssh/sshd_config.d/10-a.conf", "ListenAddress [fd7a:115c:a1e0::1]:2200\nListenAddress fd7a::2\n"
						    "Include rel.d/*\n");
	tree_file("/etc/ssh/rel.d/x", "ListenAddress 100.100.100.100:77 rdomain blue\nListenAddress myhost\n");
	tree_file("/etc/ssh/sshd_config.d/.hidden.conf", "ListenAddress 1.1.1.1\n");
	tree_file("/etc/ssh/sshd_config.d/skip.txt", "ListenAddress 2.2.2.2\n");
	CHECK(sshd_config_read(NULL, &c) == 0 && c.found);
	CHECK(c.n_ports == 2 && c.ports[0] == 22 && c.ports[1] == 2222);
	CHECK(listens(&c, "10.0.0.1", 22) == 1 && listens(&c, "10.0.0.1", 2222) == 1);
	CHECK(listens(&c, "100.101.102.103", 22) == 1 && listens(&c, "100.101.102.103", 2222) == 1);
	CHECK(listens(&c, "fd7a:115c:a1e0::1", 2200) == 1);
	CHECK(listens(&c, "fd7a::2", 22) == 1);
	CHECK(listens(&c, "100.100.100.100", 77) == 1);
	CHECK(listens(&c, "1.1.1.1", 22) == 0 && listens(&c, "2.2.2.2", 22) == 0);
	CHECK(listens(&c, "100.64.0.9", 22) == 0);
	CHECK(c.n_listen == 8 && listens(&c, "fd7a::2", 2222) == 1);
	CHECK(notes_have(&c.notes, "ListenAddress is not allowed within a Match block"));
	CHECK(notes_have(&c.notes, "Port is not allowed within a Match block"));
	CHECK(notes_have(&c.notes, "names a host"));
	/* the first ListenAddress's origin, for the report */
	for (size_t i = 0; i < c.n_listen; i++)
		if (listens(&c, "100.101.102.103", 22) && !strcmp(c.listen[i].text, "100.101.102.103"))
			CHECK(strstr(c.listen[i].where, "/etc/ssh/sshd_config.d/20-b.conf:1") != NULL);
	sshd_config_free(&c);

	/* no ListenAddress: the wildcard on every port; bad input noted */
	tree_file("/etc/ssh/sshd_config", "Port 0\nPort 2022\nListenAddress\nListenAddress 1.2.3.4:99999\n"
					  "ListenAddress [::1\nListenAddress 1.2.3.4 table x\nInclude\n"
					  "Include /etc/ssh/loop.conf\n");
	tree_file("/etc/ssh/loop.conf", "Include /etc/ssh/loop.conf\n");
	CHECK(sshd_config_read(NULL, &c) == 0);
	CHECK(notes_have(&c.notes, "Port 0: badly formatted"));
	CHECK(notes_have(&c.notes, "ListenAddress without an address"));
	CHECK(notes_have(&c.notes, "bad port number"));
	CHECK(notes_have(&c.notes, "bad address:port usage"));
	CHECK(notes_have(&c.notes, "bad ListenAddress syntax"));
	CHECK(notes_have(&c.notes, "Include without a file"));
	CHECK(notes_have(&c.notes, "nested deeper than 16"));
	CHECK(listens(&c, "1.2.3.4", 2022) == 1);
	sshd_config_free(&c);

	tree_file("/etc/ssh/sshd_config", "Port 2022\n");
	CHECK(sshd_config_read(NULL, &c) == 0 && c.n_listen == 1 && listens(&c, "*", 2022) == 1);
	sshd_config_free(&c);
	tree_dir("/etc/ssh/other");
	CHECK(sshd_config_read("/etc/ssh/other", &c) < 0 && notes_have(&c.notes, "Is a directory"));
	sshd_config_free(&c);
	tree_free();
}

/* ---- sysctls ------------------------------------------------------------------ */

static void test_sysctl(void)
{
	struct unit_notes notes = { 0 };
	struct sysctl_setting st;
	int v = -7;
	unsigned line = 0;
	static const char text[] = "# c\n; c\n net/ipv4/ip_nonlocal_bind=0\n-net.ipv4.ip_nonlocal_bind = 1\n"
				   "net.ipv4.ip_nonlocal_bind = x\nnet.ipv6.ip_nonlocal_bind=1\nbroken line\n";

	CHECK(sysctl_text_find("f.conf", text, strlen(text), "net.ipv4.ip_nonlocal_bind", &v, &line, &notes) == 1);
	CHECK(v == 1 && line == 4);
	CHECK(notes_have(&notes, "f.conf:5:") && notes_have(&notes, "f.conf:7: a line without '='"));
	CHECK(sysctl_text_find("f.conf", "a=1\n", 4, "net.ipv4.ip_nonlocal_bind", &v, &line, &notes) == 0);
	unit_notes_free(&notes);

	tree_new();
	sysctl_read_setting("net.ipv4.ip_nonlocal_bind", &st, &notes);
	CHECK(st.now == -1 && st.boot == -1);
	tree_file("/proc/sys/net/ipv4/ip_nonlocal_bind", "1\n");
	tree_file("/usr/lib/sysctl.d/50-default.conf", "net.ipv4.ip_nonlocal_bind = 1\n");
	tree_file("/usr/lib/sysctl.d/60-off.conf", "net.ipv4.ip_nonlocal_bind = 1\n");
	/* the same name in /etc wins; a later name wins over an earlier one */
	tree_file("/etc/sysctl.d/60-off.conf", "net.ipv4.ip_nonlocal_bind = 0\n");
	tree_link("/etc/sysctl.d/50-default.conf", "/dev/null");
	sysctl_read_setting("net.ipv4.ip_nonlocal_bind", &st, &notes);
	CHECK(st.now == 1 && st.boot == 0 && strstr(st.boot_where, "/etc/sysctl.d/60-off.conf:1"));
	tree_file("/run/sysctl.d/70-on.conf", "net/ipv4/ip_nonlocal_bind = 1\n");
	sysctl_read_setting("net.ipv4.ip_nonlocal_bind", &st, &notes);
	CHECK(st.boot == 1 && strstr(st.boot_where, "/run/sysctl.d/70-on.conf:1"));
	CHECK(notes.n == 0);
	unit_notes_free(&notes);
	tree_free();
}

int main(void)
{
	test_syntax();
	test_names();
	test_search_path();
	test_aliases_masks();
	test_templates_dropins();
	test_settings();
	test_boot();
	test_malformed();
	test_chase();
	test_sshd();
	test_sysctl();
	return test_result();
}
