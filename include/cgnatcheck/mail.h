/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mailing a report through sendmail(8), the interface every MTA provides.
 *
 * The message is built here, in memory, as MIME: the text report as
 * quoted-printable text/plain and the JSON report as a base64
 * application/json attachment, so no content can break a line, a header or
 * a boundary. Header values are reduced to printable ASCII.
 *
 * sendmail is run by a helper process forked before the capabilities are
 * dropped (mailer_start): an MTA's sendmail is often set-uid or set-gid
 * (exim4, postfix's postdrop) and would not work under no-new-privs or
 * without the capabilities root normally has. The helper does nothing but
 * wait on a pipe: an empty pipe (nothing to mail) makes it exit; otherwise
 * it posix_spawn()s SENDMAIL -oi -- ADDR... (no shell) with the message on
 * standard input and exits with sendmail's status. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#define CG_SENDMAIL_DEFAULT "/usr/sbin/sendmail"

struct mail_message {
	const char *from;             /* an address, validated */
	char *const *to;              /* addresses, validated */
	size_t n_to;
	const char *subject;          /* sanitised when written */
	const char *host;             /* for the Message-ID and the attachment's name */
	const char *text;             /* the body */
	const char *json;             /* the attachment, or NULL */
	time_t date;
};

/* Writes the message (headers, MIME parts) to out. Returns 0 or -EIO. */
int mail_write(FILE *out, const struct mail_message *m);

/* A header value: control characters (CR, LF, ...) become spaces, bytes
 * outside ASCII '?'; at most max bytes. malloc'd. */
char *mail_header_sanitize(const char *s, size_t max);

/* sendmail's path: --sendmail, else $CGNATCHECK_SENDMAIL, else the default. */
const char *mail_sendmail_path(const char *opt);

struct mailer {
	pid_t pid;                    /* the helper, 0 when none */
	int fd;                       /* the pipe's write end, -1 when none */
	char *path;
};
#define MAILER_INIT { .pid = 0, .fd = -1, .path = NULL }

/* Checks that `sendmail` is an executable file, then forks the helper,
 * which switches to `user` (NULL: stays) before waiting. Returns 0 or a
 * negative errno (logged, with what to do). */
int mailer_start(struct mailer *m, const char *sendmail, char *const *to, size_t n_to, const char *user);

/* Hands the message to the helper and waits for sendmail. Returns 0 when
 * sendmail accepted it, else a negative errno (logged: what failed and what
 * to do). The mailer is finished afterwards. */
int mailer_send(struct mailer *m, const char *msg, size_t len);

/* Nothing to send: lets the helper exit and reaps it. */
void mailer_finish(struct mailer *m);
