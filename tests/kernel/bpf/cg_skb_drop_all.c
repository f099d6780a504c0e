/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup/skb (egress): drops every packet the cgroup's sockets send, as
 * systemd's IPAddressDeny=any does for a unit (its sd_fw_egress). */
#include "bpf-mini.h"

SEC("cgroup_skb/egress")
int cg_deny_all(struct __sk_buff *skb)
{
	(void)skb;
	return 0;
}

char _license[] SEC("license") = "GPL";
