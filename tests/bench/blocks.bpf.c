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
#include <bpf/bpf_endian.h>
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

/* A per-CPU array of the service cache's copies, as xlvs_svc_cache was before its stripes. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_svc_cached);
	__uint(max_entries, XLVS_SVC_CACHE_SLOTS);
} blk_svc_cache SEC(".maps");

/* The same in a stripe per CPU, as xlvs_svc_cache is (abi.h; the bench sizes it per CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_svc_cached);
	__uint(max_entries, XLVS_SVC_CACHE_SLOTS);
} blk_stripe_cache SEC(".maps");

/* Counters in a stripe per CPU, as xlvs_real_stats (the bench sizes it per CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_counters);
	__uint(max_entries, XLVS_REAL_STATS_STRIDE);
} blk_stripe_counters SEC(".maps");

/* A ring the size of the DR service's (XLVS_RING_DEFAULT slots in blocks; the bench checks the size). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_ring_block);
	__uint(max_entries, (XLVS_RING_DEFAULT + XLVS_RING_BLOCK - 1) / XLVS_RING_BLOCK);
} blk_ring SEC(".maps");

/* Its slots' previous owners, as xlvs_ring_prev beside xlvs_ring. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_slot_prev);
	__uint(max_entries, XLVS_RING_DEFAULT);
} blk_ring_prev SEC(".maps");

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

/*
 * The ring slot a spread block reads: the bench writes slot + 1 into each
 * frame's TCP sequence number (pktgen takes 0 for its default), so the
 * block reads where the row's flow does without hashing the flow itself.
 */
BLK_INLINE int frame_slot(struct xdp_md *ctx, __u32 *slot)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct tcphdr *th = data + sizeof(struct ethhdr) + sizeof(struct iphdr);

	if ((void *)(th + 1) > end)
		return -1;
	*slot = bpf_ntohl(th->seq) - 1;
	return 0;
}

/* Lookup only: the value is not read (what the director does with it is another block). */
SEC("xdp")
int blk_array_lookup(struct xdp_md *ctx)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&blk_array, &zero) ? XDP_TX : XDP_PASS;
}

/* One value read, hot: as xlvs_config, xlvs_vip_filter and xlvs_reals are read on every packet. */
SEC("xdp")
int blk_array_read(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct xlvs_real *r = bpf_map_lookup_elem(&blk_array, &zero);

	return r && (r->flags & XLVS_REAL_F_ACTIVE) ? XDP_TX : XDP_PASS;
}

/* A per-CPU value read, as service_find() reads its cached copy's key (family set by the bench). */
SEC("xdp")
int blk_percpu_read(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct xlvs_svc_cached *c = bpf_map_lookup_elem(&blk_svc_cache, &zero);

	return c && c->key.family == XLVS_AF_INET ? XDP_TX : XDP_PASS;
}

/* A ring slot's value at the frame's slot, as ring_lookup() reads xlvs_ring (slots filled by the bench). */
SEC("xdp")
int blk_ring_read(struct xdp_md *ctx)
{
	struct xlvs_ring_block *b;
	__u32 slot, block;

	if (frame_slot(ctx, &slot))
		return XDP_PASS;
	block = slot / XLVS_RING_BLOCK;
	b = bpf_map_lookup_elem(&blk_ring, &block);
	return b && b->slot[slot % XLVS_RING_BLOCK] != XLVS_REAL_NONE ? XDP_TX : XDP_PASS;
}

/* The slot's previous owner, as prev_owner() reads xlvs_ring_prev (every until set by the bench). */
SEC("xdp")
int blk_ring_prev_read(struct xdp_md *ctx)
{
	struct xlvs_slot_prev *p;
	__u32 slot;

	if (frame_slot(ctx, &slot))
		return XDP_PASS;
	p = bpf_map_lookup_elem(&blk_ring_prev, &slot);
	return p && p->until ? XDP_TX : XDP_PASS;
}

/* This CPU's copy in a striped array, as service_find() reads xlvs_svc_cache. */
SEC("xdp")
int blk_stripe_read(struct xdp_md *ctx)
{
	__u32 key = xlvs_stripe_key(bpf_get_smp_processor_id(), XLVS_SVC_CACHE_SLOTS, 0);
	struct xlvs_svc_cached *c = bpf_map_lookup_elem(&blk_stripe_cache, &key);

	return c && c->key.family == XLVS_AF_INET ? XDP_TX : XDP_PASS;
}

/* One id's counters in this CPU's stripe and two increments, as count_forwarded() does per map. */
SEC("xdp")
int blk_stripe_count(struct xdp_md *ctx)
{
	__u32 key = xlvs_stripe_key(bpf_get_smp_processor_id(), XLVS_REAL_STATS_STRIDE, 0);
	struct xlvs_counters *c = bpf_map_lookup_elem(&blk_stripe_counters, &key);

	if (!c)
		return XDP_PASS;
	c->packets++;
	c->bytes += ctx->data_end - ctx->data;
	return XDP_TX;
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

/* As a ring-state packet finds its slot: the flow hash, then its place in the ring. */
const volatile __u32 blk_ring_size = 65537;

SEC("xdp")
int blk_flow_slot(struct xdp_md *ctx)
{
	struct xlvs_flow f = {};

	if (frame_flow(ctx, &f))
		return XDP_PASS;
	return xlvs_flow_hash(&f) % blk_ring_size != 65537 ? XDP_TX : XDP_PASS;
}

SEC("xdp")
int blk_flow_slot_mix64(struct xdp_md *ctx)
{
	struct xlvs_flow f = {};

	if (frame_flow(ctx, &f))
		return XDP_PASS;
	return xlvs_hash_range(xlvs_flow_hash_mix64(&f), blk_ring_size) != 65537 ? XDP_TX : XDP_PASS;
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

/* SVC_DR4's reals by id, as xlvs_reals (the bench fills those its ring names). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_real);
	__uint(max_entries, XLVS_MAX_REALS);
} blk_reals SEC(".maps");

/* One id's counters in this CPU's stripe: packets and bytes (an established flow is not new). 0 or -1. */
BLK_INLINE int blk_count(__u32 cpu, __u32 id, __u32 bytes)
{
	__u32 key = xlvs_stripe_key(cpu, XLVS_REAL_STATS_STRIDE, id);
	struct xlvs_counters *c = bpf_map_lookup_elem(&blk_stripe_counters, &key);

	if (!c)
		return -1;
	c->packets++;
	c->bytes += bytes;
	return 0;
}

/*
 * The design's limit for an established DR packet of a ring-state service:
 * only what the design cannot do without, in one program. IPv4 TCP without
 * options or VLAN; the service's copy in this CPU's cache (the key compared,
 * not refreshed); the mix64 slot; the ring's word (a changed slot is not
 * handled); the real checked as stable_owner() does (active, this service's,
 * weight); the MACs; the service's and the real's counters. Everything the
 * director adds to this (fragments, ICMP, NAT, options, VLANs, IPv6, the
 * cache's generation, changed slots, events) is the distance to it
 * (docs/bench.md, "The design's limit").
 */
SEC("xdp")
int blk_dr_path(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);
	struct xlvs_flow f = { .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct xlvs_svc_key key = { .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	__u32 cpu = bpf_get_smp_processor_id(), idx, slot, owner;
	struct xlvs_ring_block *rb;
	struct xlvs_svc_cached *c;
	struct xlvs_real *r;

	if ((void *)(th + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	f.src[0] = ip->saddr;
	f.dst[0] = key.addr[0] = ip->daddr;
	f.sport = th->source;
	f.dport = key.port = th->dest;
	idx = xlvs_stripe_key(cpu, XLVS_SVC_CACHE_SLOTS, xlvs_svc_cache_slot(&key));
	c = bpf_map_lookup_elem(&blk_stripe_cache, &idx);
	if (!c || c->key.addr[0] != key.addr[0] || c->key.port != key.port || c->key.proto != key.proto ||
	    c->key.family != key.family || !c->svc.ring_size)
		return XDP_PASS;
	slot = c->svc.ring_base + xlvs_hash_range(xlvs_flow_hash_mix64(&f), c->svc.ring_size);
	idx = slot / XLVS_RING_BLOCK;
	rb = bpf_map_lookup_elem(&blk_ring, &idx);
	if (!rb)
		return XDP_PASS;
	owner = rb->slot[slot % XLVS_RING_BLOCK];
	if (owner & XLVS_SLOT_CHANGED)
		return XDP_PASS;
	r = bpf_map_lookup_elem(&blk_reals, &owner);
	if (!r || !(r->flags & XLVS_REAL_F_ACTIVE) || r->svc_id != c->svc.id || !r->weight)
		return XDP_PASS;
	__builtin_memcpy(eth->h_dest, r->nh_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, r->nh_smac, ETH_ALEN);
	if (blk_count(cpu, c->svc.id, end - data) || blk_count(cpu, owner, end - data))
		return XDP_PASS;
	return XDP_TX;
}
