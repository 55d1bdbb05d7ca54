// SPDX-License-Identifier: GPL-2.0
/* Benchmark floor: the cheapest possible XDP_TX, measured beside every row of `make bench`. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xlvs_floor(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
