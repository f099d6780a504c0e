/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Blind spots (placeholder: finds nothing yet). */
#include "config.h"

#include "cgnatcheck/hostfacts.h"

int blind_collect_net(struct blind_spots *b)
{
	(void)b;
	return 0;
}
