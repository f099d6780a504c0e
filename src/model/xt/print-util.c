/* SPDX-License-Identifier: GPL-2.0-or-later */
/* iptables' spellings of strings, marks, addresses and masks, as
 * libxtables prints them for every extension (xtables.c), shared by the
 * extensions' printers and the rule printer (src/format/). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "cgnatcheck/xt-ext.h"

void xt_print_inv(FILE *f, bool inv)
{
	if (inv)
		fputs(" !", f);
}

/* xtables_save_string() */
void xt_print_string(FILE *f, const char *s)
{
	static const char plain[] = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t n = strspn(s, plain);

	if (n > 0 && s[n] == '\0') {
		fprintf(f, " %s", s);
		return;
	}
	fputs(" \"", f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\' || *s == '\'')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* xtables_print_mark_mask() */
void xt_print_mark_mask(FILE *f, uint32_t mark, uint32_t mask)
{
	if (mask != ~0u)
		fprintf(f, " 0x%x/0x%x", mark, mask);
	else
		fprintf(f, " 0x%x", mark);
}

/* xtables_ip6mask_to_cidr() */
int xt_ip6mask_to_cidr(const uint8_t *m)
{
	int bits = 0, i;

	for (i = 0; i < 16 && m[i] == 0xff; i++)
		bits += 8;
	if (i < 16) {
		uint8_t b = m[i];

		while (b & 0x80) {
			bits++;
			b <<= 1;
		}
		if (b)
			return -1;
		for (i++; i < 16; i++)
			if (m[i])
				return -1;
	}
	return bits;
}

/* xtables_ipmask_to_numeric() / xtables_ip6mask_to_numeric(): no "/32" */
void xt_print_addr_mask(FILE *f, const struct cg_addr *a, const struct cg_addr *m)
{
	char buf[INET6_ADDRSTRLEN], mb[INET6_ADDRSTRLEN];
	uint32_t hm;
	int cidr = -1;

	if (a->family == AF_INET6) {
		int l = xt_ip6mask_to_cidr(m->bytes);

		fprintf(f, " %s", inet_ntop(AF_INET6, a->bytes, buf, sizeof(buf)));
		if (l == -1)
			fprintf(f, "/%s", inet_ntop(AF_INET6, m->bytes, mb, sizeof(mb)));
		else if (l != 128)
			fprintf(f, "/%d", l);
		return;
	}
	fprintf(f, " %s", inet_ntop(AF_INET, a->bytes, buf, sizeof(buf)));
	memcpy(&hm, m->bytes, 4);
	hm = ntohl(hm);
	for (int i = 32; i >= 0; i--)
		if ((i == 0 ? 0u : 0xffffffffu << (32 - i)) == hm) {
			cidr = i;
			break;
		}
	if (cidr == -1)
		fprintf(f, "/%s", inet_ntop(AF_INET, m->bytes, mb, sizeof(mb)));
	else if (cidr != 32)
		fprintf(f, "/%d", cidr);
}

void xt_print_bit_names(FILE *f, uint32_t mask, const char *const *names, size_t n, const char *sep)
{
	for (size_t i = 0; i < n; i++)
		if (mask & (1u << i)) {
			fprintf(f, "%s%s", sep, names[i]);
			sep = ",";
		}
}
