/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --keep: the long-running mode. tailscaled deletes and re-creates its
 * chains at every start and on down/up, and takes cgnatcheck's exceptions
 * with them. This mode applies the fix, then waits for the ruleset to
 * change (nf_tables notifications for nftables and iptables-nft; a cheap
 * poll of the x_tables table sizes for iptables-legacy) and applies it
 * again, logging every re-application. */
#include "config.h"

#include <net/if.h> /* before the linux/ headers */
#include <netinet/in.h>
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
#include "cgnatcheck/fix-apply.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/collect-legacy.h"
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

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* nf_tables changes that could not matter (kube-proxy rewriting chains no
 * audited packet reaches), for the log */
static uint64_t ignored;

/* Waits until the ruleset changed in a way that can matter to the last
 * round's audit (true; `in` says what it read of nf_tables, NULL: any
 * change) or a stop was asked (false). */
static bool wait_for_change(struct mnl_socket *nl, struct nft_chain_cache *chains, uint64_t *legacy,
			    const struct nft_interest *in)
{
	while (!stop) {
		struct pollfd p = { .fd = nl ? mnl_socket_get_fd(nl) : -1, .events = POLLIN };
		int r = poll(&p, nl ? 1 : 0, LEGACY_POLL_MS);

		if (r < 0 && errno != EINTR)
			return false;
		bool changed = r > 0 && nft_events_drain_interest(nl, chains, in, &ignored);
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
				nft_events_drain(nl, chains);
		}
		*legacy = legacy_fingerprint();
		return !stop;
	}
	return false;
}

/* Whether anyone else changed the ruleset since the round's plan: our own
 * commits moved it to what sync says they left; anything else means a change
 * this round did not see (its notifications are drained with ours), so the
 * next round must start now, not at the next notification. Also sets the
 * legacy baseline the wait compares with. */
static bool changed_behind_us(const struct fix_sync *sync, uint64_t *legacy, int nft_others)
{
	uint32_t gen;

	*legacy = sync->legacy_committed ? sync->legacy_fp_after : sync->legacy_fp;
	if (sync->changed_since_plan)
		return true;
	if (legacy_fingerprint() != *legacy)
		return true;
	if (!sync->have_nft)
		return false;
	/* without notifications, any commit since: the generation says */
	if (nft_others < 0)
		return nft_events_generation(&gen) >= 0 &&
		       gen != (sync->nft_committed ? sync->nft_gen_after : sync->nft_gen);
	return nft_others;
}

int cmd_keep(const struct cg_options *keep_opts)
{
	struct cg_options round_opts = *keep_opts, *opts = &round_opts;
	struct nft_chain_cache *chains = NULL;
	struct mnl_socket *nl;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t legacy;
	unsigned rounds = 0, again = 0;
	int status;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	nl = nft_events_open();
	if (!nl)
		log_warning("cannot subscribe to nf_tables notifications (%s): polling every %d ms instead",
			    strerror(errno), LEGACY_POLL_MS);
	else
		chains = opts->nft_chains = nft_chain_cache_new(nl);
	legacy = legacy_fingerprint();
	fprintf(stderr, "cgnatcheck: keeping exceptions in place (nf_tables events%s, legacy tables polled "
		"every %d ms)\n", nl ? "" : " unavailable", LEGACY_POLL_MS);
	for (;;) {
		struct fix_sync sync = { 0 };

		rounds++;
		status = cmd_fix_once(opts, rounds > 1, &sync);
		fflush(stdout);
		/* the notifications of this round, ours and anyone's: whether
		 * anyone else's that can matter are among them (commits after
		 * the ruleset the audit read, other than ours) */
		int others = -1;
		if (nl && sync.have_nft)
			others = nft_events_drain_after(nl, chains, sync.interest, &sync.nft_gen,
							sync.nft_committed ? &sync.nft_gen_after : NULL, &ignored);
		else if (nl)
			nft_events_drain(nl, chains);
		if (stop) {
			nft_interest_free(sync.interest);
			break;
		}
		if (status != CG_EXIT_FAILURE && changed_behind_us(&sync, &legacy, others)) {
			nft_interest_free(sync.interest);
			/* at once, but not in a tight loop against a writer
			 * that never rests */
			again++;
			log_info("the ruleset changed while cgnatcheck was applying; auditing again");
			nanosleep(&(struct timespec){ .tv_nsec = (again > 5 ? 500 : 20) * 1000000L }, NULL);
			continue;
		}
		if (status == CG_EXIT_FAILURE)
			legacy = legacy_fingerprint();
		again = 0;
		bool go_on = wait_for_change(nl, chains, &legacy, sync.interest);
		nft_interest_free(sync.interest);
		if (!go_on)
			break;
	}
	if (chains) {
		struct nft_chain_cache_stats st;

		nft_chain_cache_get_stats(chains, &st);
		log_debug("nftables: the chain list was dumped in %llu rounds and kept from the notifications "
			  "in %llu reads (%llu commits followed)", (unsigned long long)st.dumps,
			  (unsigned long long)st.uses, (unsigned long long)st.commits);
		nft_chain_cache_free(chains);
	}
	if (nl)
		mnl_socket_close(nl);
	fprintf(stderr, "cgnatcheck: stopped after %u rounds (%llu nf_tables changes to chains and sets no "
		"audited packet reaches were let pass)\n", rounds, (unsigned long long)ignored);
	return status == CG_EXIT_FAILURE ? CG_EXIT_FAILURE : CG_EXIT_OK;
}
