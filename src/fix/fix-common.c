/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the fix stage's backends share: the tag that marks cgnatcheck's
 * rules, the conntrack state bits, and the xtables lock. Below the
 * backends (apply-legacy.c, apply-nft.c) and apply.c, which calls them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h> /* before the linux/ headers */
#include <linux/netfilter/xt_conntrack.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/fix-apply.h"
#include "cgnatcheck/packet.h"

#define XTABLES_LOCK_PATH "/run/xtables.lock"
#define XTABLES_LOCK_STEP_MS 20

bool fix_is_tag(const char *comment)
{
	return comment && strncmp(comment, FIX_TAG_PREFIX, strlen(FIX_TAG_PREFIX)) == 0;
}

uint16_t fix_xt_ctstate(uint32_t s)
{
	uint16_t m = 0;

	if (s & CG_CT_INVALID)
		m |= XT_CONNTRACK_STATE_INVALID;
	if (s & CG_CT_ESTABLISHED)
		m |= XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED);
	if (s & CG_CT_RELATED)
		m |= XT_CONNTRACK_STATE_BIT(IP_CT_RELATED);
	if (s & CG_CT_NEW)
		m |= XT_CONNTRACK_STATE_BIT(IP_CT_NEW);
	return m;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int fix_xtables_lock(unsigned timeout_ms)
{
	int fd = open(XTABLES_LOCK_PATH, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	uint64_t deadline = now_ms() + timeout_ms;

	if (fd < 0) {
		int r = -errno;
		log_error_errno(r, "Failed to open the xtables lock %s: %s (is /run writable? run as root)",
				XTABLES_LOCK_PATH, strerror(-r));
		return r;
	}
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int r = -errno;
			log_error_errno(r, "Failed to lock %s: %s", XTABLES_LOCK_PATH, strerror(-r));
			close(fd);
			return r;
		}
		if (now_ms() >= deadline)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = XTABLES_LOCK_STEP_MS * 1000000L }, NULL);
	}
	log_error("Another program has held the xtables lock %s for %u ms; nothing was changed. "
		  "Find it with `fuser -v %s` and try again when it is done.",
		  XTABLES_LOCK_PATH, timeout_ms, XTABLES_LOCK_PATH);
	close(fd);
	return -ETIMEDOUT;
}

void fix_xtables_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}
