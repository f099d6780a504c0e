/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup/skb (ingress): drops IPv4 packets from 100.64.0.0/10 on their way
 * to the cgroup's sockets, passes everything else. */
#include <linux/if_ether.h>
#include <linux/ip.h>

#include "bpf-mini.h"

SEC("cgroup_skb/ingress")
int cg_drop_cgnat(struct __sk_buff *skb)
{
	struct iphdr ip;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 1;
	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0)
		return 1;
	if ((ip.saddr & bpf_htonl(0xffc00000)) == bpf_htonl(0x64400000))
		return 0;
	return 1;
}

char _license[] SEC("license") = "GPL";
