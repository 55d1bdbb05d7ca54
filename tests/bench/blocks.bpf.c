// SPDX-License-Identifier: GPL-2.0
/*
 * Building blocks of the director's packet paths, one XDP program each, for
 * `make bench` (docs/bench.md, "Building blocks"): each does the floor's
 * XDP_TX plus exactly one operation, with the director's own key, value and
 * map types, so a path's cost can be set beside the sum of the blocks it uses.
 * Every program returns XDP_TX only when its operation succeeded (XDP_PASS
 * otherwise), so the bench's verdict check catches a lookup that missed.
 * Frames are IPv4 TCP without options (the bench builds them).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <xlvs/abi.h>
#include <xlvs/hash.h>

/* A plain array, as xlvs_config, xlvs_reals and xlvs_ring are. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_real);
	__uint(max_entries, 1);
} blk_array SEC(".maps");

/* Per-CPU counters, as xlvs_svc_stats and xlvs_real_stats are. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_counters);
	__uint(max_entries, 1);
} blk_percpu SEC(".maps");

/* A plain hash of flows; the bench sizes it before loading. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlvs_flow);
	__type(value, struct xlvs_conn);
	__uint(max_entries, 4096);
} blk_hash SEC(".maps");

/* The type, key, value and flags of xlvs_conns (bpf/maps.h); sized by the bench. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlvs_flow);
	__type(value, struct xlvs_conn);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} blk_lru SEC(".maps");

#define BLK_INLINE static __always_inline

/* The IPv4 TCP flow key of the frame, as the director's parser fills it. */
BLK_INLINE int frame_flow(struct xdp_md *ctx, struct xlvs_flow *f)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *th = (void *)(ip + 1);

	if ((void *)(th + 1) > end)
		return -1;
	f->src[0] = ip->saddr;
	f->dst[0] = ip->daddr;
	f->sport = th->source;
	f->dport = th->dest;
	f->proto = IPPROTO_TCP;
	f->family = XLVS_AF_INET;
	return 0;
}

SEC("xdp")
int blk_array_lookup(struct xdp_md *ctx)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&blk_array, &zero) ? XDP_TX : XDP_PASS;
}

SEC("xdp")
int blk_percpu_count(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct xlvs_counters *c = bpf_map_lookup_elem(&blk_percpu, &zero);

	if (!c)
		return XDP_PASS;
	c->packets++;
	c->bytes += ctx->data_end - ctx->data;
	return XDP_TX;
}

/* The director's clock for last-seen stamps (bpf/conntrack.h). */
SEC("xdp")
int blk_clock(struct xdp_md *ctx)
{
	return bpf_jiffies64() ? XDP_TX : XDP_PASS;
}

/* Parse to the flow key and hash it (the ring slot of a new flow). */
SEC("xdp")
int blk_flow_hash(struct xdp_md *ctx)
{
	struct xlvs_flow f = {};

	if (frame_flow(ctx, &f))
		return XDP_PASS;
	return xlvs_flow_hash(&f) != 1 ? XDP_TX : XDP_PASS;
}

SEC("xdp")
int blk_hash_lookup(struct xdp_md *ctx)
{
	struct xlvs_flow f = {};

	if (frame_flow(ctx, &f))
		return XDP_PASS;
	return bpf_map_lookup_elem(&blk_hash, &f) ? XDP_TX : XDP_PASS;
}

SEC("xdp")
int blk_lru_lookup(struct xdp_md *ctx)
{
	struct xlvs_flow f = {};

	if (frame_flow(ctx, &f))
		return XDP_PASS;
	return bpf_map_lookup_elem(&blk_lru, &f) ? XDP_TX : XDP_PASS;
}

/* A new flow's entry, as conn_insert() writes it (BPF_ANY). */
SEC("xdp")
int blk_lru_insert(struct xdp_md *ctx)
{
	struct xlvs_flow f = {};
	struct xlvs_conn c = { .real_id = 1, .state = XLVS_CONN_SYN };

	if (frame_flow(ctx, &f))
		return XDP_PASS;
	return bpf_map_update_elem(&blk_lru, &f, &c, BPF_ANY) ? XDP_PASS : XDP_TX;
}

/* Room for an outer IPv4 header, as an IPIP packet needs (bpf/forward.h encap_push). */
SEC("xdp")
int blk_adjust_head(struct xdp_md *ctx)
{
	return bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)) ? XDP_PASS : XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
