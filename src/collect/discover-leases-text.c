/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text lease files: systemd-networkd's (and NetworkManager's internal
 * client's) KEY=VALUE lines, and ISC dhclient's lease blocks
 * (dhclient.leases(5)): `lease { interface "eth0"; option
 * dhcp-server-identifier 100.100.128.1; ... expire 4 2024/01/18 12:00:00; }`,
 * appended one after another; the last unexpired one of an interface is the
 * current one. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cgnatcheck/common.h"
#include "discover-leases.h"

/* ---- shared ---------------------------------------------------------------- */

static bool parse_addr_n(const char *s, size_t n, struct cg_addr *a)
{
	char buf[CG_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(buf) || memchr(s, '\0', n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return addr_parse(buf, a) == 0;
}

static bool is_sep(char ch)
{
	return ch == ',' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* "1.2.3.4 5.6.7.8" or "1.2.3.4,5.6.7.8" into list; a word that is not an
 * address is noted (what: the field's name) and left out. */
static void parse_list(struct lease_ctx *c, unsigned line, const char *what, const char *s, size_t n,
		       struct cg_addr *list, size_t *count, bool *more)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && is_sep(s[i]))
			i++;
		size_t start = i;
		while (i < n && !is_sep(s[i]))
			i++;
		if (i == start)
			break;
		struct cg_addr a;
		if (parse_addr_n(s + start, i - start, &a))
			lease_list_add(list, count, more, &a);
		else
			lease_note(c, line, "%s: '%.*s' is not an address", what, (int)(i - start > 64 ? 64 : i - start),
				   s + start);
	}
}

static bool parse_one(struct lease_ctx *c, unsigned line, const char *what, const char *s, size_t n,
		      struct cg_addr *out)
{
	while (n && is_sep(s[n - 1]))
		n--;
	while (n && is_sep(*s))
		s++, n--;
	if (parse_addr_n(s, n, out))
		return true;
	lease_note(c, line, "%s: '%.*s' is not an address", what, (int)(n > 64 ? 64 : n), s);
	return false;
}

static bool parse_i64(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool ifname_ok(const char *s, size_t n)
{
	if (n == 0 || n >= IFNAMSIZ)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == '\0' || isspace((unsigned char)s[i]) || s[i] == ':')
			return false;
	return true;
}

/* ---- systemd-networkd ------------------------------------------------------ */

static bool key_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(k, want, n) == 0;
}

void lease_parse_networkd(struct lease_ctx *c, const char *data, size_t size)
{
	struct lease le = { 0 };
	int64_t lifetime = -1;
	unsigned line = 0;
	const char *p = data, *end = data + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		const char *k = p;

		line++;
		p = nl ? nl + 1 : end;
		while (k < e && (*k == ' ' || *k == '\t'))
			k++;
		while (e > k && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (k == e || *k == '#' || *k == ';')
			continue;
		const char *eq = memchr(k, '=', (size_t)(e - k));
		if (!eq || eq == k) {
			lease_note(c, line, "not KEY=VALUE: '%.*s'", (int)(e - k > 64 ? 64 : e - k), k);
			continue;
		}
		size_t kn = (size_t)(eq - k);
		const char *v = eq + 1;
		size_t vn = (size_t)(e - v);
		/* systemd's env files may quote a value */
		if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0])
			v++, vn -= 2;
		if (key_is(k, kn, "SERVER_ADDRESS"))
			parse_one(c, line, "SERVER_ADDRESS", v, vn, &le.server);
		else if (key_is(k, kn, "ADDRESS"))
			parse_one(c, line, "ADDRESS", v, vn, &le.address);
		else if (key_is(k, kn, "DNS"))
			parse_list(c, line, "DNS", v, vn, le.dns, &le.n_dns, &le.more_dns);
		else if (key_is(k, kn, "NTP"))
			parse_list(c, line, "NTP", v, vn, le.ntp, &le.n_ntp, &le.more_ntp);
		else if (key_is(k, kn, "LIFETIME") && !parse_i64(v, vn, &lifetime))
			lease_note(c, line, "LIFETIME: '%.*s' is not a number of seconds", (int)(vn > 32 ? 32 : vn), v);
	}
	/* a lease NetworkManager kept from an earlier connection */
	if (c->mtime && lifetime > 0 && c->mtime + lifetime < c->now)
		return;
	lease_add(c, &le);
}

/* ---- ISC dhclient ---------------------------------------------------------- */

enum tok_kind { T_EOF, T_WORD, T_STRING, T_SEMI, T_LBRACE, T_RBRACE, T_ERROR };

struct tok {
	enum tok_kind kind;
	const char *s;
	size_t n;
	unsigned line;
};

struct lexer {
	const char *p, *end;
	unsigned line;
	struct lease_ctx *c;
};

static struct tok next_token(struct lexer *lx)
{
	struct tok t = { .kind = T_EOF };

	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p < lx->end && *lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		break;
	}
	t.line = lx->line;
	if (lx->p >= lx->end)
		return t;
	switch (*lx->p) {
	case ';':
		t.kind = T_SEMI;
		lx->p++;
		return t;
	case '{':
		t.kind = T_LBRACE;
		lx->p++;
		return t;
	case '}':
		t.kind = T_RBRACE;
		lx->p++;
		return t;
	case '"':
		t.s = ++lx->p;
		while (lx->p < lx->end && *lx->p != '"') {
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p >= lx->end) {
			lease_note(lx->c, t.line, "a string that does not end");
			t.kind = T_ERROR;
			return t;
		}
		t.kind = T_STRING;
		t.n = (size_t)(lx->p - t.s);
		lx->p++;
		return t;
	default:
		t.kind = T_WORD;
		t.s = lx->p;
		while (lx->p < lx->end && !isspace((unsigned char)*lx->p) && !strchr(";{}\"", *lx->p))
			lx->p++;
		t.n = (size_t)(lx->p - t.s);
		/* a NUL byte in the middle of a word */
		if (t.n == 0) {
			lx->p++;
			t.n = 1;
		}
		return t;
	}
}

/* the words of one statement, up to its ';' or '{' */
#define STMT_MAX 64
struct stmt {
	struct tok w[STMT_MAX];
	size_t n;
	bool truncated;
};

static bool word_is(const struct tok *t, const char *want)
{
	return t->kind == T_WORD && strlen(want) == t->n && memcmp(t->s, want, t->n) == 0;
}

enum block_kind { B_TOP, B_OTHER, B_LEASE, B_LEASE6, B_IA, B_IAADDR };

/* at most this deep: lease6 { ia-na { iaaddr { } } } is three */
#define MAX_DEPTH 8
/* interfaces one file tracks; more are noted */
#define MAX_IFACES 32

struct current {
	struct lease le;
	bool v6;
};

struct dhclient {
	struct lexer lx;
	struct lease_ctx *c;
	struct current *cur;              /* the last unexpired lease of each interface */
	size_t n_cur;
	bool too_many;
	/* the lease being read */
	struct lease le;
	int64_t expire;                   /* INT64_MAX: never, or not said */
	int64_t starts, max_life;         /* of the iaaddr/iaprefix being read */
	int64_t expire6;                  /* lease6: its longest-lived address's end, -1: none */
	bool forever6;                    /* lease6: an address that never expires */
	bool stop;                        /* a fatal error: the rest is not read */
};

/* up to max digits at *p, then the separator sep (or the end when sep is 0) */
static bool date_field(const char **p, const char *end, int max, char sep, int *out)
{
	int v = 0, n = 0;

	while (*p < end && **p >= '0' && **p <= '9' && n < max) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (n == 0)
		return false;
	if (sep) {
		if (*p >= end || **p != sep)
			return false;
		(*p)++;
	} else if (*p != end) {
		return false;
	}
	*out = v;
	return true;
}

/* "expire 4 2024/01/18 12:34:56" (UTC), "expire epoch 1705581296" (db-time-format
 * local), "expire never" */
static bool parse_date(const struct stmt *st, int64_t *out)
{
	int y, mo, d, h, mi, s;

	if (st->n == 2 && word_is(&st->w[1], "never")) {
		*out = INT64_MAX;
		return true;
	}
	if (st->n == 3 && word_is(&st->w[1], "epoch"))
		return parse_i64(st->w[2].s, st->w[2].n, out);
	if (st->n != 4 || st->w[2].kind != T_WORD || st->w[3].kind != T_WORD)
		return false;
	const char *p = st->w[2].s, *e = p + st->w[2].n;
	if (!date_field(&p, e, 4, '/', &y) || !date_field(&p, e, 2, '/', &mo) || !date_field(&p, e, 2, 0, &d))
		return false;
	p = st->w[3].s, e = p + st->w[3].n;
	if (!date_field(&p, e, 2, ':', &h) || !date_field(&p, e, 2, ':', &mi) || !date_field(&p, e, 2, 0, &s))
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return false;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };
	*out = (int64_t)timegm(&tm);
	return true;
}

/* the words after "option NAME" as one span */
static void option_list(struct dhclient *dc, const struct stmt *st, const char *what, struct cg_addr *list,
			size_t *count, bool *more)
{
	for (size_t i = 2; i < st->n; i++)
		parse_list(dc->c, st->w[i].line, what, st->w[i].s, st->w[i].n, list, count, more);
	if (st->truncated)
		*more = true;
}

static void lease_statement(struct dhclient *dc, enum block_kind kind, const struct stmt *st)
{
	const struct tok *w = st->w;

	if (st->n == 0)
		return;
	if (kind == B_IAADDR) {
		if (st->n == 2 && word_is(&w[0], "starts") && !parse_i64(w[1].s, w[1].n, &dc->starts))
			lease_note(dc->c, w[0].line, "starts: '%.*s' is not a time", (int)(w[1].n > 32 ? 32 : w[1].n), w[1].s);
		if (st->n == 2 && word_is(&w[0], "max-life") && !parse_i64(w[1].s, w[1].n, &dc->max_life))
			lease_note(dc->c, w[0].line, "max-life: '%.*s' is not a number of seconds",
				   (int)(w[1].n > 32 ? 32 : w[1].n), w[1].s);
		return;
	}
	if (kind != B_LEASE && kind != B_LEASE6)
		return;
	if (word_is(&w[0], "interface")) {
		if (st->n == 2 && w[1].kind == T_STRING && ifname_ok(w[1].s, w[1].n)) {
			memcpy(dc->le.ifname, w[1].s, w[1].n);
			dc->le.ifname[w[1].n] = '\0';
		} else {
			lease_note(dc->c, w[0].line, "interface: not an interface name in quotes");
		}
	} else if (kind == B_LEASE && word_is(&w[0], "fixed-address") && st->n == 2) {
		parse_one(dc->c, w[0].line, "fixed-address", w[1].s, w[1].n, &dc->le.address);
	} else if (kind == B_LEASE && word_is(&w[0], "expire")) {
		if (!parse_date(st, &dc->expire)) {
			lease_note(dc->c, w[0].line, "expire: not a date (the lease is taken as current)");
			dc->expire = INT64_MAX;
		}
	} else if (word_is(&w[0], "option") && st->n >= 3) {
		const struct tok *name = &w[1];
		if (kind == B_LEASE && word_is(name, "dhcp-server-identifier")) {
			if (st->n == 3)
				parse_one(dc->c, w[2].line, "dhcp-server-identifier", w[2].s, w[2].n, &dc->le.server);
			else
				lease_note(dc->c, w[0].line, "dhcp-server-identifier: not one address");
		} else if (kind == B_LEASE && word_is(name, "domain-name-servers")) {
			option_list(dc, st, "domain-name-servers", dc->le.dns, &dc->le.n_dns, &dc->le.more_dns);
		} else if (kind == B_LEASE && word_is(name, "ntp-servers")) {
			option_list(dc, st, "ntp-servers", dc->le.ntp, &dc->le.n_ntp, &dc->le.more_ntp);
		} else if (kind == B_LEASE6 && word_is(name, "dhcp6.unicast")) {
			if (st->n == 3)
				parse_one(dc->c, w[2].line, "dhcp6.unicast", w[2].s, w[2].n, &dc->le.server);
			else
				lease_note(dc->c, w[0].line, "dhcp6.unicast: not one address");
		} else if (kind == B_LEASE6 && word_is(name, "dhcp6.name-servers")) {
			option_list(dc, st, "dhcp6.name-servers", dc->le.dns, &dc->le.n_dns, &dc->le.more_dns);
		} else if (kind == B_LEASE6 && word_is(name, "dhcp6.sntp-servers")) {
			option_list(dc, st, "dhcp6.sntp-servers", dc->le.ntp, &dc->le.n_ntp, &dc->le.more_ntp);
		}
	}
}

/* A lease block ended: it becomes its interface's current lease unless it
 * has expired. */
static void lease_done(struct dhclient *dc, bool v6)
{
	struct current *slot = NULL;

	if (dc->expire < dc->c->now)
		return;
	if (!dc->le.ifname[0] && dc->c->ifname)
		snprintf(dc->le.ifname, sizeof(dc->le.ifname), "%s", dc->c->ifname);
	dc->le.v6 = v6;
	for (size_t i = 0; i < dc->n_cur; i++)
		if (dc->cur[i].v6 == v6 && strcmp(dc->cur[i].le.ifname, dc->le.ifname) == 0)
			slot = &dc->cur[i];
	if (!slot) {
		if (dc->n_cur == MAX_IFACES) {
			if (!dc->too_many)
				lease_note(dc->c, dc->le.line, "leases of more than %d interfaces: the rest are not read",
					   MAX_IFACES);
			dc->too_many = true;
			return;
		}
		slot = &dc->cur[dc->n_cur++];
	}
	slot->le = dc->le;
	slot->v6 = v6;
}

static enum block_kind child_kind(enum block_kind parent, const struct stmt *st)
{
	if (st->n == 0)
		return B_OTHER;
	if (parent == B_TOP && st->n == 1 && word_is(&st->w[0], "lease"))
		return B_LEASE;
	if (parent == B_TOP && st->n == 1 && word_is(&st->w[0], "lease6"))
		return B_LEASE6;
	if (parent == B_LEASE6 && (word_is(&st->w[0], "ia-na") || word_is(&st->w[0], "ia-pd") ||
				   word_is(&st->w[0], "ia-ta")))
		return B_IA;
	if (parent == B_IA && (word_is(&st->w[0], "iaaddr") || word_is(&st->w[0], "iaprefix")))
		return B_IAADDR;
	return B_OTHER;
}

/* Reads statements up to the block's '}' (the file's end at the top).
 * Returns false when the file's end came first inside a block. */
static bool read_block(struct dhclient *dc, enum block_kind kind, int depth, unsigned opened)
{
	struct stmt st = { 0 };

	for (;;) {
		struct tok t = next_token(&dc->lx);

		switch (t.kind) {
		case T_ERROR:
			dc->stop = true;
			return false;
		case T_EOF:
			if (kind != B_TOP) {
				lease_note(dc->c, opened, "a block that does not end (the file ends first)");
				return false;
			}
			if (st.n)
				lease_note(dc->c, st.w[0].line, "a statement without its ';' at the end of the file");
			return true;
		case T_WORD:
		case T_STRING:
			if (st.n < STMT_MAX)
				st.w[st.n++] = t;
			else
				st.truncated = true;
			break;
		case T_SEMI:
			lease_statement(dc, kind, &st);
			st.n = 0;
			st.truncated = false;
			break;
		case T_RBRACE:
			if (st.n)
				lease_note(dc->c, st.w[0].line, "a statement without its ';' before '}'");
			if (kind == B_TOP) {
				lease_note(dc->c, t.line, "a '}' that closes nothing");
				st.n = 0;
				break;
			}
			return true;
		case T_LBRACE: {
			enum block_kind ck = child_kind(kind, &st);
			if (depth + 1 >= MAX_DEPTH) {
				lease_note(dc->c, t.line, "blocks nested more than %d deep: the rest is not read", MAX_DEPTH);
				dc->stop = true;
				return false;
			}
			if (ck == B_LEASE || ck == B_LEASE6) {
				memset(&dc->le, 0, sizeof(dc->le));
				dc->le.line = t.line;
				dc->expire = INT64_MAX;
				dc->expire6 = -1;
				dc->forever6 = false;
			}
			if (ck == B_IAADDR)
				dc->starts = dc->max_life = -1;
			st.n = 0;
			st.truncated = false;
			if (!read_block(dc, ck, depth + 1, t.line))
				return false;
			/* a lease6 lasts as long as its longest-lived address */
			if (ck == B_IAADDR && dc->max_life == 0xffffffffLL)
				dc->forever6 = true;
			else if (ck == B_IAADDR && dc->starts >= 0 && dc->max_life >= 0 &&
				 dc->starts + dc->max_life > dc->expire6)
				dc->expire6 = dc->starts + dc->max_life;
			if (ck == B_LEASE6)
				dc->expire = dc->forever6 || dc->expire6 < 0 ? INT64_MAX : dc->expire6;
			if (ck == B_LEASE || ck == B_LEASE6)
				lease_done(dc, ck == B_LEASE6);
			break;
		}
		}
	}
}

void lease_parse_dhclient(struct lease_ctx *c, const char *data, size_t size)
{
	struct dhclient dc = { .lx = { .p = data, .end = data + size, .line = 1, .c = c }, .c = c };

	dc.cur = xcalloc(MAX_IFACES, sizeof(*dc.cur));
	(void)read_block(&dc, B_TOP, 0, 1);
	if (dc.stop)
		lease_note(c, dc.lx.line, "the rest of the file is not read");
	for (size_t i = 0; i < dc.n_cur; i++) {
		/* ISC dhclient reads DHCPv4 replies through its packet socket
		 * (LPF), ahead of netfilter; its DHCPv6 goes through UDP */
		dc.cur[i].le.reply_before_netfilter = !dc.cur[i].le.v6;
		lease_add(c, &dc.cur[i].le);
	}
	free(dc.cur);
}
