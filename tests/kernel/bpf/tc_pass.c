/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tc classifier (direct-action): passes every packet. The audit does not
 * read programs, so it is uncertain all the same. */
#include <linux/pkt_cls.h>

#include "bpf-mini.h"

SEC("classifier")
int tc_pass(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
