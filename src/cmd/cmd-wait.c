/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --wait-overlay: at boot, `After=tailscaled.service` only orders against
 * tailscaled being active, not against its firewall rules being written
 * (seed 000: ordering is not readiness). This waits for the thing itself:
 * the chains an overlay policy lists (Chains=, e.g. ts-input ts-forward
 * ts-postrouting) present in some backend, and the ruleset settled (two
 * collections in a row alike: tailscaled creates its chains first and
 * fills them rule by rule). It wakes on nf_tables notifications
 * (nftables, iptables-nft) and otherwise collects every 500 ms
 * (iptables-legacy has no notifications). When the time is up it says so
 * and the audit goes on: a host without the overlay is audited too. */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "cgnatcheck/audit.h"
#include "cgnatcheck/cmd.h"
#include "cgnatcheck/collect-netfilter.h"
#include "cgnatcheck/collect-nft.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/nft-events.h"

#define POLL_MS 500      /* at most this long between two collections */
#define SETTLE_MS 200    /* after a notification: let the burst finish */
#define PROGRESS_MS 5000 /* how often "still waiting" is logged */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Sleeps up to ms, returning early on a notification (then drained after
 * the burst settled). */
static void wait_events(struct mnl_socket *nl, int ms)
{
	struct pollfd p = { .fd = nl ? mnl_socket_get_fd(nl) : -1, .events = POLLIN };

	if (ms <= 0)
		return;
	if (poll(&p, nl ? 1 : 0, ms) > 0 && nl) {
		nft_events_drain(nl, NULL);
		double until = now_ms() + SETTLE_MS;
		for (double left; (left = until - now_ms()) > 0;) {
			struct pollfd q = p;
			if (poll(&q, 1, (int)left + 1) > 0)
				nft_events_drain(nl, NULL);
		}
	}
}

static bool chain_exists(const struct cg_ruleset *rs, const char *name, const struct cg_table **where)
{
	for (uint32_t t = 0; t < rs->n_tables; t++)
		for (uint32_t c = 0; c < rs->tables[t].n_chains; c++)
			if (strcmp(rs->tables[t].chains[c].name, name) == 0) {
				*where = &rs->tables[t];
				return true;
			}
	return false;
}

/* A fingerprint of the ruleset's shape: tables, chains, rule counts. */
static uint64_t fingerprint(const struct cg_ruleset *rs)
{
	uint64_t h = HASH_FNV1A_INIT;

	for (uint32_t t = 0; t < rs->n_tables; t++) {
		const struct cg_table *tb = &rs->tables[t];

		h = hash_fnv1a_u64(h, tb->backend);
		h = hash_fnv1a_u64(h, tb->family);
		h = hash_fnv1a(h, tb->name, strlen(tb->name));
		for (uint32_t c = 0; c < tb->n_chains; c++) {
			/* kube-proxy's per-service chains come and go: only what
			 * was read (a very large table's base chains and the
			 * overlays' chains) is the shape that has to settle */
			if (tb->chains[c].unread)
				continue;
			h = hash_fnv1a(h, tb->chains[c].name, strlen(tb->chains[c].name));
			h = hash_fnv1a_u64(h, tb->chains[c].n_rules);
		}
	}
	return h;
}

/* The overlay whose listed chains all exist, or NULL. */
static const struct policy_overlay *overlay_present(const struct audit *a, const struct cg_ruleset *rs,
						    const struct cg_table **where)
{
	for (size_t i = 0; i < a->n_policies; i++)
		for (size_t j = 0; j < a->policies[i].n_overlays; j++) {
			const struct policy_overlay *o = &a->policies[i].overlays[j];
			bool all = o->n_chains > 0;
			for (size_t c = 0; all && c < o->n_chains; c++)
				all = chain_exists(rs, o->chains[c], where);
			if (all)
				return o;
		}
	return NULL;
}

/* "tailscale (ts-input ts-forward ts-postrouting)", for each overlay that lists chains. */
static char *wanted(const struct audit *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	bool first = true;

	if (!m)
		abort();
	for (size_t i = 0; i < a->n_policies; i++)
		for (size_t j = 0; j < a->policies[i].n_overlays; j++) {
			const struct policy_overlay *o = &a->policies[i].overlays[j];
			if (!o->n_chains)
				continue;
			fprintf(m, "%s%s (", first ? "" : " or ", o->name);
			for (size_t c = 0; c < o->n_chains; c++)
				fprintf(m, "%s%s", c ? " " : "", o->chains[c]);
			fputc(')', m);
			first = false;
		}
	fclose(m);
	if (first) {
		free(buf);
		return NULL;
	}
	return buf;
}

int overlay_wait(const struct cg_options *opts)
{
	struct audit a;
	struct mnl_socket *nl;
	double start = now_ms(), deadline = start + opts->wait_overlay * 1e3, next_progress = start + PROGRESS_MS;
	uint64_t last_fp = 0;
	bool seen = false, had_last = false;
	int r;

	audit_init(&a, opts);
	r = audit_load_policies(&a);
	if (r < 0) {
		audit_free(&a);
		return r;
	}
	_cleanup_free_ char *want = wanted(&a);
	if (!want) {
		log_info("--wait-overlay: no overlay policy lists its chains (Chains=): nothing to wait for");
		audit_free(&a);
		return 0;
	}
	/* read as the audit reads: a very large table (kube-proxy's) as far as
	 * its base chains and the overlays' chains */
	size_t n_names;
	const char **names = audit_overlay_chains(&a, &n_names);
	struct nft_collect_opts nft = { .lazy = true, .lazy_min_chains = NFT_LAZY_MIN_CHAINS,
					.chains = names, .n_chains = n_names };
	nl = nft_events_open();
	log_info("waiting up to %d s for the chains of %s", opts->wait_overlay, want);
	for (;;) {
		struct cg_ruleset rs = { 0 };
		const struct cg_table *where = NULL;
		const struct policy_overlay *o = NULL;

		r = netfilter_collect_opts(&rs, &nft);
		if (r < 0) {
			/* the audit will say what is wrong, with its own message */
			log_warning("--wait-overlay: cannot read the firewall rules: not waiting");
			ruleset_free(&rs);
			break;
		}
		o = overlay_present(&a, &rs, &where);
		uint64_t fp = fingerprint(&rs);
		if (o && !seen) {
			log_info("%s's chains are there (%s %s), %.1f s after start; waiting for its rules to settle",
				 o->name, backend_to_string(where->backend), family_to_string(where->family),
				 (now_ms() - start) / 1e3);
			seen = true;
		}
		if (o && ((had_last && fp == last_fp) || opts->wait_overlay == 0)) {
			log_info("%s's chains and rules are in place after %.1f s: auditing", o->name,
				 (now_ms() - start) / 1e3);
			ruleset_free(&rs);
			break;
		}
		ruleset_free(&rs);
		last_fp = fp;
		had_last = true;

		double left = deadline - now_ms();
		if (left <= 0) {
			if (seen)
				log_warning("the overlay's rules were still changing when --wait-overlay=%d ran out: "
					    "auditing what is there now", opts->wait_overlay);
			else
				log_warning("none of the chains of %s appeared within %d s: the overlay has not "
					    "installed its firewall rules (not running, not installed, or its "
					    "netfilter mode is off); auditing without them. If it starts later, "
					    "its rules may block what this audit finds reachable: run cgnatcheck "
					    "--keep (cgnatcheck-keep.service) to follow it", want, opts->wait_overlay);
			break;
		}
		if (now_ms() >= next_progress) {
			log_info("still waiting for the chains of %s (%.0f s left)", want, left / 1e3);
			next_progress += PROGRESS_MS;
		}
		wait_events(nl, (int)(left < POLL_MS ? left : POLL_MS) + 1);
	}
	if (nl)
		mnl_socket_close(nl);
	free(names);
	audit_free(&a);
	return 0;
}
