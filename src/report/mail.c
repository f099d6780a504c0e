/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The report as a MIME message, and sendmail(8) run without a shell by a
 * helper process that kept the invoking user's privileges (mail.h). */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/mail.h"

extern char **environ;

/* ---- the message ------------------------------------------------------------ */

char *mail_header_sanitize(const char *s, size_t max)
{
	size_t n = strlen(s);
	char *out;

	if (n > max)
		n = max;
	out = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = c < 0x20 || c == 0x7f ? ' ' : c >= 0x80 ? '?' : (char)c;
	}
	out[n] = '\0';
	return out;
}

/* For a file name: letters, digits, '.', '-', '_'. */
static void name_sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '-' || *s == '_'))
			*s = '_';
}

static void random_hex(char *buf, size_t bytes)
{
	uint8_t r[32];

	if (bytes > sizeof(r))
		bytes = sizeof(r);
	if (getrandom(r, bytes, GRND_NONBLOCK) != (ssize_t)bytes) {
		/* early boot before the pool is ready: unique is enough here */
		uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)buf;
		for (size_t i = 0; i < bytes; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			r[i] = (uint8_t)(x >> 56);
		}
	}
	for (size_t i = 0; i < bytes; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
}

/* Quoted-printable (RFC 2045 6.7): any byte, any line length, safe. */
static void write_qp(FILE *out, const char *text)
{
	size_t col = 0;

	for (const char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char tok[4];
		size_t len;

		if (c == '\n') {
			fputc('\n', out);
			col = 0;
			continue;
		}
		bool eol = p[1] == '\n' || p[1] == '\0';
		if ((c == ' ' || c == '\t') && !eol)
			tok[0] = (char)c, tok[1] = '\0';
		else if (c >= 33 && c <= 126 && c != '=')
			tok[0] = (char)c, tok[1] = '\0';
		else
			snprintf(tok, sizeof(tok), "=%02X", c);
		len = strlen(tok);
		if (col + len > 75) {
			fputs("=\n", out);
			col = 0;
		}
		fputs(tok, out);
		col += len;
	}
	if (col)
		fputc('\n', out);
}

static void write_base64(FILE *out, const char *data, size_t len)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *d = (const unsigned char *)data;
	size_t col = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;
		if (n > 1)
			v |= (uint32_t)d[i + 1] << 8;
		if (n > 2)
			v |= d[i + 2];
		char q[5] = { tbl[(v >> 18) & 63], tbl[(v >> 12) & 63], n > 1 ? tbl[(v >> 6) & 63] : '=',
			      n > 2 ? tbl[v & 63] : '=', '\0' };
		fputs(q, out);
		col += 4;
		if (col >= 76) {
			fputc('\n', out);
			col = 0;
		}
	}
	if (col)
		fputc('\n', out);
}

int mail_write(FILE *out, const struct mail_message *m)
{
	char boundary[64], rnd[33], date[64], stamp[32];
	struct tm tm;
	_cleanup_free_ char *subject = mail_header_sanitize(m->subject, 200);
	_cleanup_free_ char *host = mail_header_sanitize(m->host, 64);
	_cleanup_free_ char *fname = NULL;

	localtime_r(&m->date, &tm);
	/* RFC 5322 date; the program never calls setlocale, so the C locale's
	 * English day and month names */
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	random_hex(rnd, 12);
	/* "=_" cannot occur in quoted-printable or base64 text */
	snprintf(boundary, sizeof(boundary), "=_cgnatcheck_%s", rnd);
	name_sanitize(host);

	fprintf(out, "From: cgnatcheck <%s>\n", m->from);
	fputs("To: ", out);
	for (size_t i = 0; i < m->n_to; i++)
		fprintf(out, "%s%s", i ? ", " : "", m->to[i]);
	fputc('\n', out);
	fprintf(out, "Subject: %s\n", subject);
	fprintf(out, "Date: %s\n", date);
	random_hex(rnd, 8);
	fprintf(out, "Message-ID: <cgnatcheck.%lld.%d.%s@%s>\n", (long long)m->date, (int)getpid(), rnd,
		*host ? host : "localhost");
	fputs("Auto-Submitted: auto-generated\n", out);
	fputs("MIME-Version: 1.0\n", out);
	fprintf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\n", boundary);
	fputs("\nThis is a MIME message: the report as text, the JSON report attached.\n", out);

	fprintf(out, "\n--%s\n", boundary);
	fputs("Content-Type: text/plain; charset=utf-8\n"
	      "Content-Transfer-Encoding: quoted-printable\n"
	      "Content-Disposition: inline\n\n", out);
	write_qp(out, m->text);

	if (m->json) {
		gmtime_r(&m->date, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		if (asprintf(&fname, "cgnatcheck-%s-%s.json", *host ? host : "host", stamp) < 0)
			abort();
		fprintf(out, "\n--%s\n", boundary);
		fprintf(out, "Content-Type: application/json; name=\"%s\"\n"
			     "Content-Transfer-Encoding: base64\n"
			     "Content-Disposition: attachment; filename=\"%s\"\n\n", fname, fname);
		write_base64(out, m->json, strlen(m->json));
	}
	fprintf(out, "\n--%s--\n", boundary);
	return ferror(out) ? -EIO : 0;
}

const char *mail_sendmail_path(const char *opt)
{
	const char *e = getenv("CGNATCHECK_SENDMAIL");

	if (opt)
		return opt;
	return e && *e ? e : CG_SENDMAIL_DEFAULT;
}

/* ---- the helper ------------------------------------------------------------- */

static int helper_switch_user(const char *user)
{
	struct passwd *pw = getpwnam(user);
	uid_t uid;
	gid_t gid;

	if (pw) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else {
		char *end;
		unsigned long v = strtoul(user, &end, 10);
		if (!*user || *end)
			return -ENOENT;
		uid = (uid_t)v;
		gid = (gid_t)v;
	}
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	return 0;
}

/* The helper: waits for 'M' and the message, or for EOF (nothing to send). */
_Noreturn static void helper_main(int rfd, const char *path, char *const *to, size_t n_to, const char *user)
{
	char cmd;
	ssize_t n;
	pid_t pid;
	int status, r;
	posix_spawn_file_actions_t fa;
	char **argv = xcalloc(n_to + 4, sizeof(char *));

	signal(SIGPIPE, SIG_DFL);
	if (user && (r = helper_switch_user(user)) < 0) {
		fprintf(stderr, "cgnatcheck: the mail helper cannot switch to user %s: %s\n", user, strerror(-r));
		_exit(126);
	}
	do
		n = read(rfd, &cmd, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || cmd != 'M')
		_exit(0);

	argv[0] = (char *)path;
	argv[1] = (char *)"-oi";
	argv[2] = (char *)"--";
	for (size_t i = 0; i < n_to; i++)
		argv[3 + i] = to[i];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, rfd, STDIN_FILENO);
	r = posix_spawn(&pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		fprintf(stderr, "cgnatcheck: cannot run %s: %s\n", path, strerror(r));
		_exit(127);
	}
	close(rfd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	fprintf(stderr, "cgnatcheck: %s was killed by signal %d\n", path, WTERMSIG(status));
	_exit(128 + WTERMSIG(status));
}

int mailer_start(struct mailer *m, const char *sendmail, char *const *to, size_t n_to, const char *user)
{
	struct stat st;
	int p[2];
	pid_t pid;

	*m = (struct mailer)MAILER_INIT;
	if (stat(sendmail, &st) < 0)
		return log_error("cannot mail the report: %s: %s; install a mail transfer agent that provides "
				 "sendmail(8) (e.g. apt-get install msmtp-mta, postfix or exim4-daemon-light), or give "
				 "its path with --sendmail", sendmail, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(sendmail, X_OK) < 0)
		return log_error("cannot mail the report: %s is not an executable file; give the MTA's sendmail "
				 "with --sendmail PATH", sendmail);
	if (pipe2(p, O_CLOEXEC) < 0)
		return log_error_errno(-errno, "cannot create a pipe for the mail helper");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(p[0]);
		close(p[1]);
		return log_error_errno(r, "cannot start the mail helper");
	}
	if (pid == 0) {
		close(p[1]);
		helper_main(p[0], sendmail, to, n_to, user);
	}
	close(p[0]);
	m->pid = pid;
	m->fd = p[1];
	m->path = xstrdup(sendmail);
	return 0;
}

static int mailer_wait(struct mailer *m, int *status)
{
	if (m->fd >= 0) {
		close(m->fd);
		m->fd = -1;
	}
	if (m->pid <= 0)
		return -ECHILD;
	while (waitpid(m->pid, status, 0) < 0)
		if (errno != EINTR) {
			m->pid = 0;
			return -errno;
		}
	m->pid = 0;
	return 0;
}

int mailer_send(struct mailer *m, const char *msg, size_t len)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int status = 0, r = 0, w;

	if (m->pid <= 0 || m->fd < 0) {
		mailer_finish(m);
		return log_error("cannot mail the report: the mail helper is not running");
	}
	/* sendmail may exit without reading: EPIPE, not death by SIGPIPE */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	if (write(m->fd, "M", 1) != 1)
		r = -errno;
	for (size_t off = 0; r == 0 && off < len;) {
		ssize_t n = write(m->fd, msg + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		else
			off += (size_t)n;
	}
	w = mailer_wait(m, &status);
	sigaction(SIGPIPE, &old, NULL);
	_cleanup_free_ char *path = m->path;
	m->path = NULL;
	if (w < 0)
		return log_error_errno(w, "cannot mail the report: lost the mail helper");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (r < 0)
			return log_error_errno(r, "cannot mail the report: %s exited successfully without reading "
					       "the whole message", path);
		return 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return log_error("cannot mail the report: %s could not be run (see above); install an MTA or "
				 "give its sendmail with --sendmail", path);
	if (WIFEXITED(status))
		return log_error("cannot mail the report: %s exited with status %d%s; the report was not sent "
				 "(check the MTA: its log, mailq)", path, WEXITSTATUS(status),
				 WEXITSTATUS(status) == 75 ? " (EX_TEMPFAIL: try again later)" : "");
	return log_error("cannot mail the report: %s was killed by signal %d; the report was not sent", path,
			 WTERMSIG(status));
}

void mailer_finish(struct mailer *m)
{
	int status;

	if (m->pid > 0 || m->fd >= 0)
		(void)mailer_wait(m, &status);
	free(m->path);
	m->path = NULL;
}
