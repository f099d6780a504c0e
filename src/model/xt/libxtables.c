/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The printer of last resort for the x_tables extensions cgnatcheck does
 * not model: libxtables' own, the save() function of the extension's shared
 * object in the xtables directory (libxt_NAME.so, libipt_/libip6t_NAME.so),
 * which is exactly what iptables-save and iptables-nft-save print with.
 *
 * libxtables is a process-wide singleton made for a command-line tool:
 *  - one current family (afinfo), set with xtables_set_nfproto() before
 *    each lookup; extensions register for every family (1.8.x keeps them
 *    all pending and filters by family at lookup), so one process prints
 *    both IPv4 and IPv6 rules;
 *  - save() writes with printf() to stdout: stdout is pointed at a memory
 *    stream for the call (glibc's stdout is an ordinary variable), so no
 *    fork, no file descriptor games and no syscall per rule;
 *  - errors end in xt_params->exit_err(), which must not return: ours
 *    longjmp()s back here, and the match prints as unsupported;
 *  - revisions are checked against the kernel with a raw socket: our
 *    compat_rev says every revision is fine (we print what the kernel
 *    already holds, never load anything into it).
 * All of this runs under one mutex. While a save() runs, stdout is not the
 * real one: nothing else in cgnatcheck writes to stdout while rules are
 * printed (the report is written after the collectors and the simulator).
 *
 * The blob is copied into a zeroed buffer with a long zero tail, so a
 * save() that trusts a count or a string's terminator more than it should
 * stays inside our memory; the few extensions whose save() walks an array
 * by a count in the blob have that count checked as the kernel's
 * checkentry does. The set match and SET target ask the kernel for a set's
 * name by its index (a getsockopt per rule, in whatever namespace we are
 * in, and exit() when that fails): they are never printed this way. */
#include "config.h"

#include "cgnatcheck/xt.h"

#include <linux/netfilter/xt_bpf.h>
#include <linux/netfilter/xt_policy.h>
#include <linux/netfilter/xt_string.h>
#include <linux/netfilter/xt_u32.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <linux/netfilter_ipv6/ip6t_opts.h>
#include <linux/netfilter_ipv6/ip6t_rt.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xtables.h>

#include "cgnatcheck/common.h"

static pthread_mutex_t xtl_lock = PTHREAD_MUTEX_INITIALIZER;
static bool xtl_ready, xtl_failed;
static jmp_buf xtl_jmp;
static bool xtl_in_call;

static int xtl_compat_rev(const char *name, uint8_t rev, int opt)
{
	return 1;
}

static void __attribute__((noreturn, format(printf, 2, 3))) xtl_exit_err(enum xtables_exittype status,
									 const char *msg, ...)
{
	va_list ap;
	char buf[256];

	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	log_debug("libxtables: %s", buf);
	/* every libxtables call is made under xtl_lock with xtl_jmp set */
	if (xtl_in_call)
		longjmp(xtl_jmp, 1);
	abort();
}

static struct xtables_globals xtl_globals = {
	.option_offset = 0,
	.program_name = "cgnatcheck",
	.program_version = PACKAGE_VERSION,
	.exit_err = xtl_exit_err,
	.compat_rev = xtl_compat_rev,
};

/* The blob goes after the entry header; the zero tail catches a save()
 * that reads past the struct (an unterminated string, a count). */
#define XTL_HDR 32u      /* sizeof(struct xt_entry_match) == sizeof(struct xt_entry_target) */
#define XTL_TAIL 65536u
static union {
	struct xt_entry_match m;
	struct xt_entry_target t;
	unsigned char bytes[XTL_HDR + 65536u + XTL_TAIL];
} xtl_buf;

static bool xtl_init(void)
{
	if (!xtl_ready && !xtl_failed) {
		xtl_in_call = true;
		if (setjmp(xtl_jmp) == 0 && xtables_init_all(&xtl_globals, NFPROTO_IPV4) >= 0)
			xtl_ready = true;
		else
			xtl_failed = true;
		xtl_in_call = false;
		if (xtl_failed)
			log_debug("libxtables did not initialise: extensions cgnatcheck does not model print as unsupported");
	}
	return xtl_ready;
}

/* Counts save() loops over, checked as the kernel's checkentry does; true
 * when the blob can go to save(). d holds at least the struct. */
static bool xtl_blob_sane(bool target, const char *name, const void *d)
{
	if (target)
		return strcmp(name, "SET") != 0;
	if (!strcmp(name, "set"))
		return false;
	if (!strcmp(name, "u32")) {
		const struct xt_u32 *u = d;

		if (u->ntests > XT_U32_MAXSIZE)
			return false;
		for (unsigned i = 0; i < u->ntests; i++)
			if (u->tests[i].nnums > XT_U32_MAXSIZE || u->tests[i].nvalues > XT_U32_MAXSIZE)
				return false;
		return true;
	}
	if (!strcmp(name, "string"))
		return ((const struct xt_string_info *)d)->patlen <= XT_STRING_MAX_PATTERN_SIZE;
	if (!strcmp(name, "hbh") || !strcmp(name, "dst"))
		return ((const struct ip6t_opts *)d)->optsnr <= IP6T_OPTS_OPTSNR;
	if (!strcmp(name, "rt"))
		return ((const struct ip6t_rt *)d)->addrnr <= IP6T_RT_HOPS;
	if (!strcmp(name, "policy"))
		return ((const struct xt_policy_info *)d)->len <= XT_POLICY_MAX_ELEM;
	if (!strcmp(name, "bpf"))
		return ((const struct xt_bpf_info *)d)->bpf_program_num_elem <= XT_BPF_MAX_NUM_INSTR;
	return true;
}

bool xt_print_by_libxtables(FILE *f, bool target, const char *name, uint8_t revision, uint8_t nfproto,
			    uint16_t l4proto, bool inv_proto, const void *info, uint32_t len)
{
	static struct ipt_entry ip4;
	static struct ip6t_entry ip6;
	volatile bool ok = false;
	char *buf = NULL;
	size_t size = 0;
	FILE *ms, *saved_stdout;

	if (!name || !name[0] || strlen(name) >= XT_EXTENSION_MAXNAMELEN || len > 65536u || (len && !info) ||
	    (nfproto != NFPROTO_IPV4 && nfproto != NFPROTO_IPV6))
		return false;
	pthread_mutex_lock(&xtl_lock);
	if (!xtl_init())
		goto out;
	ms = open_memstream(&buf, &size);
	if (!ms)
		goto out;
	saved_stdout = stdout;
	xtl_in_call = true;
	if (setjmp(xtl_jmp) == 0) {
		const void *ip;
		uint32_t size_of;

		xtables_set_nfproto(nfproto);
		memset(&ip4, 0, sizeof(ip4));
		memset(&ip6, 0, sizeof(ip6));
		if (nfproto == NFPROTO_IPV6) {
			ip6.ipv6.proto = l4proto;
			if (l4proto)
				ip6.ipv6.flags |= IP6T_F_PROTO;
			if (inv_proto)
				ip6.ipv6.invflags |= IP6T_INV_PROTO;
			ip = &ip6.ipv6;
		} else {
			ip4.ip.proto = l4proto;
			if (inv_proto)
				ip4.ip.invflags |= IPT_INV_PROTO;
			ip = &ip4.ip;
		}
		if (target) {
			struct xtables_target *tg = xtables_find_target(name, XTF_TRY_LOAD);

			tg = tg ? xtables_find_target_revision(name, XTF_TRY_LOAD, tg, revision) : NULL;
			if (!tg || !tg->save)
				goto done;
			size_of = tg->size;
		} else {
			struct xtables_match *mt = xtables_find_match(name, XTF_TRY_LOAD, NULL);

			mt = mt ? xtables_find_match_revision(name, XTF_TRY_LOAD, mt, revision) : NULL;
			if (!mt)
				goto done;
			size_of = mt->size;
		}
		if (XT_ALIGN(len) != XT_ALIGN(size_of))
			goto done;
		memset(xtl_buf.bytes, 0, XTL_HDR);
		memcpy(xtl_buf.bytes + XTL_HDR, info, len);
		if (!xtl_blob_sane(target, name, xtl_buf.bytes + XTL_HDR))
			goto done;
		if (target) {
			struct xtables_target *tg = xtables_find_target_revision(
				name, XTF_DONT_LOAD, xtables_find_target(name, XTF_DONT_LOAD), revision);

			xtl_buf.t.u.target_size = XTL_HDR + XT_ALIGN(size_of);
			snprintf(xtl_buf.t.u.user.name, sizeof(xtl_buf.t.u.user.name), "%s", name);
			xtl_buf.t.u.user.revision = revision;
			stdout = ms;
			printf(" -j %s", tg->alias ? tg->alias(&xtl_buf.t) : name);
			tg->save(ip, &xtl_buf.t);
		} else {
			struct xtables_match *mt = xtables_find_match_revision(
				name, XTF_DONT_LOAD, xtables_find_match(name, XTF_DONT_LOAD, NULL), revision);

			xtl_buf.m.u.match_size = XTL_HDR + XT_ALIGN(size_of);
			snprintf(xtl_buf.m.u.user.name, sizeof(xtl_buf.m.u.user.name), "%s", name);
			xtl_buf.m.u.user.revision = revision;
			stdout = ms;
			printf(" -m %s", mt->alias ? mt->alias(&xtl_buf.m) : name);
			if (mt->save)
				mt->save(ip, &xtl_buf.m);
		}
		ok = true;
	}
done:
	stdout = saved_stdout;
	xtl_in_call = false;
	/* the tail stays zero for the next call */
	memset(xtl_buf.bytes + XTL_HDR, 0, len > 0 ? XT_ALIGN(len) : 0);
	if (fclose(ms) != 0)
		ok = false;
	if (ok && buf) {
		/* a save() may end its text with a space: iptables-save's does too */
		fputs(buf, f);
	}
	free(buf);
out:
	pthread_mutex_unlock(&xtl_lock);
	return ok;
}
