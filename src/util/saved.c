/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The offline audit's file (saved.h): sections written and read, and the
 * stock tools run with their input and output in memory files. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/saved.h"

/* ---- base64 (RFC 4648) ------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 76 characters a line, as MIME has it */
static char *base64_encode(const uint8_t *p, size_t n, size_t *out_len)
{
	size_t groups = (n + 2) / 3, len = groups * 4 + groups / 19 + 1;
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0, g = 0; i < n; i += 3, g++) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		if (g && g % 19 == 0)
			*o++ = '\n';
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
	*out_len = (size_t)(o - out);
	return out;
}

/* Returns the decoded length, or -1 on a character outside the alphabet. */
static ssize_t base64_decode(const char *s, size_t n, uint8_t *out)
{
	uint32_t v = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		const char *c;
		if (s[i] == '\n' || s[i] == '=')
			continue;
		c = s[i] ? strchr(b64, s[i]) : NULL;
		if (!c)
			return -1;
		v = v << 6 | (uint32_t)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(v >> bits);
		}
	}
	return (ssize_t)o;
}

/* ---- writing --------------------------------------------------------------------- */

int saved_writer_init(struct saved_writer *w)
{
	*w = (struct saved_writer){ 0 };
	w->m = open_memstream(&w->buf, &w->len);
	if (!w->m)
		return -errno;
	fputs(SAVED_MAGIC "\n", w->m);
	return 0;
}

static bool word_ok(const char *s)
{
	return *s && !strpbrk(s, " \t\n");
}

void saved_add(struct saved_writer *w, const char *name, const char *arg, const void *data, size_t len, bool binary)
{
	if (!word_ok(name) || (arg && !word_ok(arg)))
		abort(); /* the callers' names, never input */
	if (binary) {
		size_t n;
		_cleanup_free_ char *e = base64_encode(data, len, &n);
		fprintf(w->m, "@@ %s %s base64 %zu\n", name, arg ? arg : "-", n);
		fwrite(e, 1, n, w->m);
	} else {
		fprintf(w->m, "@@ %s %s text %zu\n", name, arg ? arg : "-", len);
		fwrite(data, 1, len, w->m);
	}
	fputc('\n', w->m);
	w->n++;
}

void saved_add_absent(struct saved_writer *w, const char *name, const char *arg)
{
	fprintf(w->m, "@@ %s %s absent 0\n\n", name, arg ? arg : "-");
	w->n++;
}

int saved_finish(struct saved_writer *w, const char *path)
{
	_cleanup_free_ char *tmp = NULL;
	int fd, r = 0;

	fflush(w->m);
	fprintf(w->m, "@@ end - %zu %016llx\n", w->n,
		(unsigned long long)hash_fnv1a(HASH_FNV1A_INIT, w->buf, w->len));
	if (fclose(w->m) != 0) {
		free(w->buf);
		return log_error_errno(-ENOMEM, "cannot write %s", path);
	}
	if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
		abort();
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = log_error_errno(-errno, "cannot write the saved audit to %s (creating %s)", path, tmp);
		free(w->buf);
		return r;
	}
	for (size_t off = 0; off < w->len && r == 0;) {
		ssize_t n = write(fd, w->buf + off, w->len - off);
		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	free(w->buf);
	w->buf = NULL;
	if (r < 0) {
		unlink(tmp);
		return log_error_errno(r, "cannot write the saved audit to %s", path);
	}
	return 0;
}

/* ---- reading ----------------------------------------------------------------------- */

void saved_free(struct saved_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->s[i].name);
		free(f->s[i].arg);
		free(f->s[i].data);
	}
	free(f->s);
	*f = (struct saved_file){ 0 };
}

const struct saved_section *saved_find(const struct saved_file *f, const char *name, const char *arg)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->s[i].name, name) == 0 && (!arg || strcmp(f->s[i].arg, arg) == 0))
			return &f->s[i];
	return NULL;
}

static int bad_file(const char *path, const char *what, size_t off)
{
	log_error("%s is not a usable saved audit: %s (at byte %zu); write it again with cgnatcheck --save", path,
		  what, off);
	return -EINVAL;
}

static int parse(const char *path, const char *buf, size_t len, struct saved_file *out)
{
	size_t off = strlen(SAVED_MAGIC "\n");
	char name[128], arg[512], enc[16];

	if (len < off || memcmp(buf, SAVED_MAGIC "\n", off) != 0)
		return bad_file(path, "it does not start with \"" SAVED_MAGIC "\"", 0);
	for (;;) {
		const char *nl = off < len ? memchr(buf + off, '\n', len - off) : NULL;
		char line[768], digest[32];
		unsigned long long size;
		size_t count;

		if (!nl || (size_t)(nl - (buf + off)) >= sizeof(line))
			return bad_file(path, "a section header is cut off or too long (truncated?)", off);
		memcpy(line, buf + off, (size_t)(nl - (buf + off)));
		line[nl - (buf + off)] = '\0';
		if (sscanf(line, "@@ end - %zu %31s", &count, digest) == 2) {
			char want[32];
			snprintf(want, sizeof(want), "%016llx", (unsigned long long)hash_fnv1a(HASH_FNV1A_INIT, buf, off));
			if (count != out->n)
				return bad_file(path, "the trailer counts other sections than the file holds", off);
			if (strcmp(want, digest) != 0)
				return bad_file(path, "its digest does not match its content (corrupted or edited)", off);
			if ((size_t)(nl - buf) + 1 != len)
				return bad_file(path, "there is data after the trailer", off);
			return 0;
		}
		if (sscanf(line, "@@ %127s %511s %15s %llu", name, arg, enc, &size) != 4)
			return bad_file(path, "expected a section header (\"@@ NAME ARG ENCODING LENGTH\")", off);
		off = (size_t)(nl - buf) + 1;
		if (size > len - off || len - off - size < 1 || buf[off + size] != '\n')
			return bad_file(path, "a section is shorter than its header says (truncated?)", off);
		struct saved_section s = { .name = xstrdup(name), .arg = xstrdup(arg) };
		if (strcmp(enc, "text") == 0) {
			s.data = xmalloc(size + 1);
			memcpy(s.data, buf + off, size);
			s.len = size;
		} else if (strcmp(enc, "base64") == 0) {
			s.data = xmalloc(size + 1);
			ssize_t n = base64_decode(buf + off, size, s.data);
			if (n < 0) {
				free(s.name), free(s.arg), free(s.data);
				return bad_file(path, "a base64 section holds other characters", off);
			}
			s.len = (size_t)n;
		} else if (strcmp(enc, "absent") == 0 && size == 0) {
			s.absent = true;
			s.data = xmalloc(1);
		} else {
			free(s.name), free(s.arg);
			return bad_file(path, "unknown section encoding", off);
		}
		s.data[s.len] = '\0';
		out->s = xreallocarray(out->s, out->n + 1, sizeof(*out->s));
		out->s[out->n++] = s;
		off += size + 1;
	}
}

int saved_read(const char *path, struct saved_file *out)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	*out = (struct saved_file){ 0 };
	if (!f)
		return log_error_errno(-errno, "cannot read the saved audit %s", path);
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 1 << 16;
			buf = xrealloc(buf, cap);
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f))
		return log_error_errno(-EIO, "cannot read the saved audit %s", path);
	return saved_parse(path, buf, len, out);
}

int saved_parse(const char *path, const char *buf, size_t len, struct saved_file *out)
{
	int r;

	*out = (struct saved_file){ 0 };
	r = parse(path, buf, len, out);
	if (r < 0)
		saved_free(out);
	return r;
}

/* ---- the stock tools ------------------------------------------------------------ */

static int memfd_with(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;
			close(fd);
			return r;
		}
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static char *slurp(int fd, size_t *len)
{
	struct stat st;
	char *out;
	ssize_t n = 0;

	if (fstat(fd, &st) < 0)
		st.st_size = 0;
	out = xmalloc((size_t)st.st_size + 1);
	if (st.st_size > 0)
		n = pread(fd, out, (size_t)st.st_size, 0);
	if (n < 0)
		n = 0;
	out[n] = '\0';
	if (len)
		*len = (size_t)n;
	return out;
}

const char *saved_first_line(char *err)
{
	if (!err)
		return "";
	err[strcspn(err, "\n")] = '\0';
	return err;
}

int saved_run(char *const argv[], const void *in, size_t in_len, uint8_t **out, size_t *out_len, char **err)
{
	static const char *const dirs[] = { "/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/" };
	int fin, fout, ferr, status;
	pid_t pid;

	fin = memfd_with("stdin", in ? in : "", in ? in_len : 0);
	if (fin < 0)
		return fin;
	fout = memfd_with("stdout", "", 0);
	ferr = memfd_with("stderr", "", 0);
	if (fout < 0 || ferr < 0) {
		close(fin);
		if (fout >= 0)
			close(fout);
		if (ferr >= 0)
			close(ferr);
		return -EMFILE;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(fin), close(fout), close(ferr);
		return r;
	}
	if (pid == 0) {
		char path[512];
		if (dup2(fin, 0) < 0 || dup2(fout, 1) < 0 || dup2(ferr, 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		for (size_t i = 0; i < ARRAY_SIZE(dirs) && !strchr(argv[0], '/'); i++) {
			snprintf(path, sizeof(path), "%s%s", dirs[i], argv[0]);
			execv(path, argv);
		}
		_exit(127);
	}
	close(fin);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -errno;
			close(fout), close(ferr);
			return status;
		}
	if (out)
		*out = (uint8_t *)slurp(fout, out_len);
	if (err)
		*err = slurp(ferr, NULL);
	close(fout), close(ferr);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
