/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The file of an offline audit (--save, --replay): what an audit read, as
 * the stock tools dump it, in one text file of sections.
 *
 *   cgnatcheck-save 1
 *   @@ NAME ARG ENCODING LENGTH
 *   <LENGTH bytes>
 *   @@ ...
 *   @@ end - COUNT DIGEST
 *
 * NAME and ARG are words without blanks (ARG "-" when there is none);
 * ENCODING is "text" (the bytes as they are), "base64" (binary dumps such
 * as `ip route save`'s, so the file stays text that mail, terminals and
 * diff handle) or "absent" (LENGTH 0: the thing did not exist, which the
 * replay must reproduce); each section's bytes are followed by one newline.
 * The trailer counts the sections and holds the FNV-1a digest of every
 * byte before it: a truncated or corrupted file is refused as a whole.
 * Text rather than a tar archive: `less` shows it, diff compares two hosts,
 * and no archive library or tool is needed to read or write it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SAVED_MAGIC "cgnatcheck-save 1"

struct saved_section {
	char *name, *arg;
	bool absent;
	uint8_t *data;  /* decoded; NUL-terminated beyond len for text use */
	size_t len;
};

struct saved_file {
	struct saved_section *s;
	size_t n;
};

/* Writing: sections appended to a memory stream, then saved_finish(). */
struct saved_writer {
	FILE *m;
	char *buf;
	size_t len;
	size_t n;
};
int saved_writer_init(struct saved_writer *w);
void saved_add(struct saved_writer *w, const char *name, const char *arg, const void *data, size_t len, bool binary);
void saved_add_absent(struct saved_writer *w, const char *name, const char *arg);
/* Adds the trailer and writes everything to path atomically (a temporary
 * file beside it, then rename), mode 0600. Returns 0 or -errno (logged). */
int saved_finish(struct saved_writer *w, const char *path);

/* Reads and checks the whole file. Returns 0, or -EINVAL/-errno after a
 * message naming the file and what is wrong with it. */
int saved_read(const char *path, struct saved_file *out);
/* The same from memory (path names it in the errors; the fuzz target). */
int saved_parse(const char *path, const char *buf, size_t len, struct saved_file *out);
void saved_free(struct saved_file *f);
/* The section NAME ARG (arg NULL: any), or NULL. */
const struct saved_section *saved_find(const struct saved_file *f, const char *name, const char *arg);

/* Runs argv (argv[0] looked up in PATH, then /usr/sbin, /sbin, /usr/bin)
 * with in (may be NULL) as its standard input; its standard output in *out
 * (malloc'd, NUL-terminated; out may be NULL) and its standard error in
 * *err (likewise). Returns the exit status (0-255), 127 when it could not
 * be started, or a negative errno for a local failure. Messages quote the
 * first line of *err (saved_first_line()). */
const char *saved_first_line(char *err);
int saved_run(char *const argv[], const void *in, size_t in_len, uint8_t **out, size_t *out_len, char **err);
