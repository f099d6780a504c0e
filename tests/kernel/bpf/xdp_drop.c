/* SPDX-License-Identifier: GPL-2.0-or-later */
/* XDP: drops IPv4 packets from 100.64.0.0/10, passes everything else
 * (tests/kernel/blind-bpf.sh attaches it to the test host's veth). */
#include <linux/if_ether.h>
#include <linux/ip.h>

#include "bpf-mini.h"

SEC("xdp")
int xdp_drop_cgnat(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((ip->saddr & bpf_htonl(0xffc00000)) == bpf_htonl(0x64400000))
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
