/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --keep: the long-running mode. tailscaled deletes and re-creates its
 * chains at every start and on down/up, and takes cgnatcheck's exceptions
 * with them. This mode applies the fix, then waits for the ruleset to
 * change (nf_tables notifications for nftables and iptables-nft; a cheap
 * poll of the x_tables table sizes for iptables-legacy) and applies it
 * again, logging every re-application. */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cgnatcheck/cmd.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/nft-events.h"

/* How often the legacy tables are looked at, and how long a burst of
 * changes (tailscaled writes its rules one by one) is waited out. */
#define LEGACY_POLL_MS 500
#define SETTLE_MS 150

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A fingerprint of the legacy tables: for each table, its size and number
 * of entries (IPT_SO_GET_INFO: one getsockopt per table, no rule copied).
 * Losing or gaining a rule changes it. */
static uint64_t legacy_fingerprint(void)
{
	static const struct { int family, level, opt; const char *names; } fams[] = {
		{ AF_INET, IPPROTO_IP, IPT_SO_GET_INFO, "/proc/net/ip_tables_names" },
		{ AF_INET6, IPPROTO_IPV6, IP6T_SO_GET_INFO, "/proc/net/ip6_tables_names" },
	};
	uint64_t h = HASH_FNV1A_INIT;

	for (size_t f = 0; f < ARRAY_SIZE(fams); f++) {
		_cleanup_fclose_ FILE *names = fopen(fams[f].names, "re");
		_cleanup_close_ int fd = -1;
		char table[XT_TABLE_MAXNAMELEN + 2];

		if (!names)
			continue;
		fd = socket(fams[f].family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (fd < 0)
			continue;
		while (fgets(table, sizeof(table), names)) {
			struct ipt_getinfo info = { 0 };
			socklen_t len = sizeof(info);

			table[strcspn(table, "\n")] = '\0';
			if (strlen(table) >= sizeof(info.name))
				continue;
			memcpy(info.name, table, strlen(table) + 1);
			if (getsockopt(fd, fams[f].level, fams[f].opt, &info, &len) < 0)
				continue;
			uint64_t v[2] = { info.size, info.num_entries };
			for (size_t k = 0; k < 2; k++)
				h = hash_fnv1a_u64(h, v[k] + (uint64_t)f * 31 + (uint64_t)strlen(table));
		}
	}
	return h;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Waits until the ruleset changed (true) or a stop was asked (false). */
static bool wait_for_change(struct mnl_socket *nl, uint64_t *legacy)
{
	while (!stop) {
		struct pollfd p = { .fd = nl ? mnl_socket_get_fd(nl) : -1, .events = POLLIN };
		int r = poll(&p, nl ? 1 : 0, LEGACY_POLL_MS);

		if (r < 0 && errno != EINTR)
			return false;
		bool changed = r > 0 && nft_events_drain(nl);
		uint64_t fp = legacy_fingerprint();
		if (fp != *legacy) {
			*legacy = fp;
			changed = true;
		}
		if (!changed)
			continue;
		/* let the burst settle: tailscaled writes rule after rule */
		double until = now_ms() + SETTLE_MS;
		while (!stop && now_ms() < until) {
			struct pollfd q = p;
			if (poll(&q, nl ? 1 : 0, SETTLE_MS) > 0 && nl)
				nft_events_drain(nl);
		}
		*legacy = legacy_fingerprint();
		return !stop;
	}
	return false;
}

int cmd_keep(const struct cg_options *opts)
{
	struct mnl_socket *nl;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t legacy;
	unsigned rounds = 0;
	int status;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	nl = nft_events_open();
	if (!nl)
		log_warning("cannot subscribe to nf_tables notifications (%s): polling every %d ms instead",
			    strerror(errno), LEGACY_POLL_MS);
	legacy = legacy_fingerprint();
	fprintf(stderr, "cgnatcheck: keeping exceptions in place (nf_tables events%s, legacy tables polled "
		"every %d ms)\n", nl ? "" : " unavailable", LEGACY_POLL_MS);
	do {
		rounds++;
		status = cmd_fix_once(opts, rounds > 1);
		fflush(stdout);
		/* our own changes notify too: start watching after them */
		if (nl)
			nft_events_drain(nl);
		legacy = legacy_fingerprint();
	} while (wait_for_change(nl, &legacy));
	if (nl)
		mnl_socket_close(nl);
	fprintf(stderr, "cgnatcheck: stopped after %u rounds\n", rounds);
	return status == CG_EXIT_FAILURE ? CG_EXIT_FAILURE : CG_EXIT_OK;
}
