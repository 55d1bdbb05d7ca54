// SPDX-License-Identifier: GPL-2.0
/* For the switch side of the director's veth: native XDP_TX on veth needs a program on the peer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
