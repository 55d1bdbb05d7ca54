// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs decap: XDP for Linux real servers. Strips the outer header of IPIP,
 * IP6IP6, 4in6, 6in4 and GUE (variant 1: inner IP right after UDP) and passes
 * the inner packet up, so reals need no tunnel module. Everything else passes
 * untouched. Load with `xlvs decap attach dev IF [gue-port N]` or
 * `ip link set dev IF xdp obj xlvs_decap.bpf.o sec xdp` (GUE port 6080).
 */
#include "l2.h"

/* Bounds the bytes stripped for the verifier: outer headers are at most 60 (IPv4) + 8 (UDP). */
#define OUTER_LEN_MASK	0xff

/* Per-load setting: the GUE port this real listens on (host order). */
const volatile __u16 gue_port = XLVS_GUE_PORT_DEFAULT;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xlvs_vip_key);
	__type(value, __u32);
	__uint(max_entries, XLVS_DECAP_MAX_ADDRS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_decap_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_decap_cfg);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_decap_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLVS_DECAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_decap_stats SEC(".maps");

/* What the outer headers say. */
struct outer {
	__u32 l2;		/* the L2 header's length, kept */
	__u32 olen;		/* bytes to strip after the L2 header */
	__u8 inner;		/* the inner IP version the outer header announces (0: either) */
	enum xlvs_decap_counter kind;
};

XLVS_INLINE int count(enum xlvs_decap_counter c, int verdict)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&xlvs_decap_stats, &key);

	if (v)
		*v += 1;
	return verdict;
}

XLVS_INLINE bool dst_is_local(__u8 family, const void *addr)
{
	struct xlvs_vip_key key = { .family = family };
	struct xlvs_decap_cfg *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&xlvs_decap_cfg, &zero);
	if (!cfg || !(cfg->flags & XLVS_DECAP_F_CHECK_DST))
		return true;
	__builtin_memcpy(key.addr, addr, ip_addr_len(family));
	return bpf_map_lookup_elem(&xlvs_decap_addrs, &key) != NULL;
}

/* Outer UDP to our GUE port? Returns true with o->olen grown by the UDP header. */
XLVS_INLINE bool is_gue(void *data, void *end, __u32 off, struct outer *o)
{
	struct udphdr *uh = data + off;

	if ((void *)(uh + 1) > end || uh->dest != bpf_htons(gue_port))
		return false;
	o->olen += sizeof(*uh);
	return true;
}

/* 1: a tunnel packet for us (o filled), 0: not a tunnel packet, <0: rejected (counter). */
XLVS_INLINE int outer4(void *data, void *end, struct outer *o)
{
	struct iphdr *ip = data + o->l2;

	if ((void *)(ip + 1) > end || ip->ihl < IP4_IHL_MIN)
		return 0;
	o->olen = ip->ihl * IP4_IHL_UNIT;
	if (ip->protocol == IPPROTO_IPIP)
		o->inner = IP4_VERSION, o->kind = XLVS_DECAP_IPIP;
	else if (ip->protocol == IPPROTO_IPV6)
		o->inner = IP6_VERSION, o->kind = XLVS_DECAP_6IN4;
	else if (ip->protocol == IPPROTO_UDP && is_gue(data, end, o->l2 + o->olen, o))
		o->inner = 0, o->kind = XLVS_DECAP_GUE4;
	else
		return 0;
	if (ip->frag_off & bpf_htons(IP4_MF | IP4_OFFMASK))
		return -XLVS_DECAP_REJ_FRAGMENT;
	if ((void *)ip + be16_len(ip->tot_len) > end || be16_len(ip->tot_len) < o->olen)
		return -XLVS_DECAP_REJ_TRUNC;
	return dst_is_local(XLVS_AF_INET, &ip->daddr) ? 1 : -XLVS_DECAP_REJ_NOT_LOCAL;
}

XLVS_INLINE int outer6(void *data, void *end, struct outer *o)
{
	struct ipv6hdr *ip6 = data + o->l2;

	if ((void *)(ip6 + 1) > end)
		return 0;
	o->olen = sizeof(*ip6);
	if (ip6->nexthdr == IPPROTO_IPV6)
		o->inner = IP6_VERSION, o->kind = XLVS_DECAP_IP6IP6;
	else if (ip6->nexthdr == IPPROTO_IPIP)
		o->inner = IP4_VERSION, o->kind = XLVS_DECAP_4IN6;
	else if (ip6->nexthdr == IPPROTO_UDP && is_gue(data, end, o->l2 + o->olen, o))
		o->inner = 0, o->kind = XLVS_DECAP_GUE6;
	else
		return 0;
	if ((void *)(ip6 + 1) + be16_len(ip6->payload_len) > end)
		return -XLVS_DECAP_REJ_TRUNC;
	return dst_is_local(XLVS_AF_INET6, &ip6->daddr) ? 1 : -XLVS_DECAP_REJ_NOT_LOCAL;
}

/* The inner packet must be whole IPv4/IPv6 of the announced version. Returns its EtherType or 0. */
XLVS_INLINE __be16 inner_proto(void *data, void *end, const struct outer *o)
{
	__u8 *v = data + o->l2 + o->olen;
	__u8 ver;

	/* At least the shorter of the two headers. */
	if ((void *)v + sizeof(struct iphdr) > end)
		return 0;
	ver = *v >> IP_VERSION_SHIFT;
	if (o->inner && ver != o->inner)
		return 0;
	if (ver == IP4_VERSION)
		return bpf_htons(ETH_P_IP);
	return ver == IP6_VERSION ? bpf_htons(ETH_P_IPV6) : 0;
}

XLVS_INLINE int strip(struct xdp_md *ctx, const struct outer *o, __be16 proto)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 shift = o->olen & OUTER_LEN_MASK;

	if (data + ETH_VLAN_HLEN > end || data + shift + ETH_VLAN_HLEN > end)
		return count(XLVS_DECAP_REJ_TRUNC, XDP_PASS);
	/* MACs (and VLAN tag) move forward over the outer header. */
	l2_move(data + shift, data, o->l2, proto);
	__builtin_memmove(data + shift, data, ETH_ADDRS_LEN);
	if (bpf_xdp_adjust_head(ctx, (int)shift))
		return count(XLVS_DECAP_REJ_TRUNC, XDP_PASS);
	return count(o->kind, XDP_PASS);
}

SEC("xdp")
int xlvs_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct outer o = {};
	__be16 proto, inner;
	int rc;

	if (parse_l2(data, end, &o.l2, &proto) != L2_OK)
		return XDP_PASS;
	if (proto == bpf_htons(ETH_P_IP))
		rc = outer4(data, end, &o);
	else if (proto == bpf_htons(ETH_P_IPV6))
		rc = outer6(data, end, &o);
	else
		return XDP_PASS;
	if (rc <= 0)
		return rc ? count(-rc, XDP_PASS) : XDP_PASS;
	inner = inner_proto(data, end, &o);
	if (!inner)
		return count(XLVS_DECAP_REJ_BAD_INNER, XDP_PASS);
	return strip(ctx, &o, inner);
}

char LICENSE[] SEC("license") = "GPL";
