/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dhcpcd's lease files: the server's last answer as it came, a BOOTP/DHCP
 * message (RFC 2131, options RFC 2132) in IFNAME.lease and a DHCPv6 REPLY
 * (RFC 8415) in IFNAME.lease6. dhcpcd counts the lease's lifetime from the
 * file's modification time, and so do we. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "discover-leases.h"

/* struct bootp: op htype hlen hops xid(4) secs(2) flags(2) ciaddr yiaddr
 * siaddr giaddr chaddr(16) sname(64) file(128), then the vendor area */
enum {
	BOOTP_YIADDR = 16,
	BOOTP_SNAME = 44,
	BOOTP_SNAME_LEN = 64,
	BOOTP_FILE = 108,
	BOOTP_FILE_LEN = 128,
	BOOTP_VEND = 236,
};

enum {
	DHO_PAD = 0,
	DHO_DNS = 6,
	DHO_NTP = 42,
	DHO_LEASETIME = 51,
	DHO_OVERLOAD = 52,
	DHO_SERVERID = 54,
	DHO_END = 255,
};

static const uint8_t MAGIC_COOKIE[4] = { 99, 130, 83, 99 };

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void addr4(struct cg_addr *a, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	memcpy(a->bytes, p, 4);
}

static void addr6(struct cg_addr *a, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	memcpy(a->bytes, p, 16);
}

struct v4 {
	struct lease le;
	int64_t leasetime;                /* -1: not given */
	unsigned overload;
};

/* One options area (the vendor area, or file/sname when overloaded).
 * base: its offset in the file, for notes. Returns false after a note. */
static bool v4_options(struct lease_ctx *c, struct v4 *v, const uint8_t *p, size_t n, size_t base, bool vend)
{
	size_t i = 0;

	while (i < n) {
		uint8_t code = p[i];
		if (code == DHO_PAD) {
			i++;
			continue;
		}
		if (code == DHO_END)
			return true;
		if (i + 2 > n || i + 2 + p[i + 1] > n) {
			lease_note(c, 0, "option %u at offset %zu runs past the end", code, base + i);
			return false;
		}
		const uint8_t *d = p + i + 2;
		uint8_t len = p[i + 1];
		switch (code) {
		case DHO_SERVERID:
			if (len == 4)
				addr4(&v->le.server, d);
			else
				lease_note(c, 0, "option 54 (server identifier) at offset %zu: %u bytes, not an IPv4 address",
					   base + i, len);
			break;
		case DHO_DNS:
		case DHO_NTP:
			if (len % 4) {
				lease_note(c, 0, "option %u (%s servers) at offset %zu: %u bytes, not IPv4 addresses", code,
					   code == DHO_DNS ? "DNS" : "NTP", base + i, len);
				break;
			}
			for (size_t k = 0; k < len; k += 4) {
				struct cg_addr a;
				addr4(&a, d + k);
				if (code == DHO_DNS)
					lease_list_add(v->le.dns, &v->le.n_dns, &v->le.more_dns, &a);
				else
					lease_list_add(v->le.ntp, &v->le.n_ntp, &v->le.more_ntp, &a);
			}
			break;
		case DHO_LEASETIME:
			if (len == 4)
				v->leasetime = be32(d);
			break;
		case DHO_OVERLOAD:
			/* only the vendor area may say so (RFC 2131 4.1) */
			if (len == 1 && vend)
				v->overload = d[0];
			break;
		}
		i += 2 + (size_t)len;
	}
	return true;
}

void lease_parse_dhcpcd(struct lease_ctx *c, const uint8_t *data, size_t size)
{
	struct v4 v = { .leasetime = -1 };

	if (size < BOOTP_VEND + sizeof(MAGIC_COOKIE)) {
		lease_note(c, 0, "%zu bytes, too short for a DHCP message (%zu)", size,
			   (size_t)BOOTP_VEND + sizeof(MAGIC_COOKIE));
		return;
	}
	if (memcmp(data + BOOTP_VEND, MAGIC_COOKIE, sizeof(MAGIC_COOKIE)) != 0) {
		lease_note(c, 0, "no DHCP magic cookie at offset %d", BOOTP_VEND);
		return;
	}
	if (be32(data + BOOTP_YIADDR))
		addr4(&v.le.address, data + BOOTP_YIADDR);
	if (!v4_options(c, &v, data + BOOTP_VEND + 4, size - BOOTP_VEND - 4, BOOTP_VEND + 4, true))
		return;
	if ((v.overload & 1) && !v4_options(c, &v, data + BOOTP_FILE, BOOTP_FILE_LEN, BOOTP_FILE, false))
		return;
	if ((v.overload & 2) && !v4_options(c, &v, data + BOOTP_SNAME, BOOTP_SNAME_LEN, BOOTP_SNAME, false))
		return;
	if (c->mtime && v.leasetime >= 0 && v.leasetime != 0xffffffffLL && c->mtime + v.leasetime < c->now)
		return; /* expired */
	lease_add(c, &v.le);
}

/* ---- DHCPv6 ---------------------------------------------------------------- */

enum {
	D6_IA_NA = 3,
	D6_IA_TA = 4,
	D6_IAADDR = 5,
	D6_UNICAST = 12,
	D6_DNS = 23,
	D6_IA_PD = 25,
	D6_IAPREFIX = 26,
	D6_SNTP = 31,
	D6_NTP = 56,
	D6_NTP_SRV_ADDR = 1,
};

struct v6 {
	struct lease le;
	int64_t valid;                    /* the longest valid lifetime, -1: none */
	bool forever;
};

static void v6_lifetime(struct v6 *v, uint32_t valid)
{
	if (valid == 0xffffffffu)
		v->forever = true;
	else if ((int64_t)valid > v->valid)
		v->valid = valid;
}

/* Options in p[0..n) (a message's, an IA's or the NTP option's); what: the
 * level (0: message, D6_IA_*: an IA's, D6_NTP: NTP suboptions). */
static bool v6_options(struct lease_ctx *c, struct v6 *v, const uint8_t *p, size_t n, size_t base, unsigned what)
{
	size_t i = 0;

	while (i < n) {
		if (i + 4 > n || i + 4 + be16(p + i + 2) > n) {
			lease_note(c, 0, "option %u at offset %zu runs past the end", i + 2 <= n ? be16(p + i) : 0,
				   base + i);
			return false;
		}
		uint16_t code = be16(p + i), len = be16(p + i + 2);
		const uint8_t *d = p + i + 4;
		size_t off = base + i;

		if (what == 0 && code == D6_UNICAST) {
			if (len == 16)
				addr6(&v->le.server, d);
			else
				lease_note(c, 0, "option 12 (server unicast) at offset %zu: %u bytes, not an address", off,
					   len);
		} else if (what == 0 && (code == D6_DNS || code == D6_SNTP)) {
			if (len % 16) {
				lease_note(c, 0, "option %u at offset %zu: %u bytes, not IPv6 addresses", code, off, len);
			} else {
				for (size_t k = 0; k < len; k += 16) {
					struct cg_addr a;
					addr6(&a, d + k);
					if (code == D6_DNS)
						lease_list_add(v->le.dns, &v->le.n_dns, &v->le.more_dns, &a);
					else
						lease_list_add(v->le.ntp, &v->le.n_ntp, &v->le.more_ntp, &a);
				}
			}
		} else if (what == 0 && code == D6_NTP) {
			if (!v6_options(c, v, d, len, off + 4, D6_NTP))
				return false;
		} else if (what == D6_NTP && code == D6_NTP_SRV_ADDR) {
			struct cg_addr a;
			if (len == 16) {
				addr6(&a, d);
				lease_list_add(v->le.ntp, &v->le.n_ntp, &v->le.more_ntp, &a);
			} else {
				lease_note(c, 0, "NTP server address at offset %zu: %u bytes", off, len);
			}
		} else if (what == 0 && (code == D6_IA_NA || code == D6_IA_PD || code == D6_IA_TA)) {
			/* IAID, T1, T2 (IA_TA: only the IAID), then its options */
			size_t head = code == D6_IA_TA ? 4 : 12;
			if (len >= head && !v6_options(c, v, d + head, len - head, off + 4 + head, code))
				return false;
		} else if (what != 0 && what != D6_NTP && code == D6_IAADDR && len >= 24) {
			v6_lifetime(v, be32(d + 20)); /* address, preferred, valid */
		} else if (what == D6_IA_PD && code == D6_IAPREFIX && len >= 25) {
			v6_lifetime(v, be32(d + 4)); /* preferred, valid, length, prefix */
		}
		i += 4 + (size_t)len;
	}
	return true;
}

void lease_parse_dhcpcd6(struct lease_ctx *c, const uint8_t *data, size_t size)
{
	struct v6 v = { .valid = -1, .le.v6 = true };

	/* message type and transaction id, then the options */
	if (size < 4) {
		lease_note(c, 0, "%zu bytes, too short for a DHCPv6 message", size);
		return;
	}
	if (!v6_options(c, &v, data + 4, size - 4, 4, 0))
		return;
	if (c->mtime && !v.forever && v.valid >= 0 && c->mtime + v.valid < c->now)
		return; /* expired */
	lease_add(c, &v.le);
}
