// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs decap: XDP for Linux real servers. Strips the outer header of IPIP,
 * IP6IP6, 4in6, 6in4 and GUE (variant 1: inner IP right after UDP) and passes
 * the inner packet up, so reals need no tunnel module. Everything else passes
 * untouched. Load with `xlvs decap attach dev IF [gue-port N]` or
 * `ip link set dev IF xdp obj xlvs_decap.bpf.o sec xdp` (GUE port 6080).
 */
#include "csum.h"
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
	__u32 tot;		/* the outer datagram's length: the inner packet lies within it */
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

/*
 * What the outer headers must pass before their payload goes up as if it had
 * arrived by itself, modelled on the kernel's receive path that this program
 * stands in for: ip_rcv_core() (version, header length, total length within
 * the frame and not below the header, header checksum), ipv6_rcv() (version,
 * payload length within the frame), and for GUE udp_queue_rcv_one_skb(),
 * which verifies the UDP checksum before handing a datagram to an
 * encapsulation socket such as fou's ("Verify checksum before giving to
 * encap"), after __udp4_lib_rcv()/__udp6_lib_rcv() checked the UDP length.
 * Stricter on one point: the UDP length must equal the IP payload (the
 * kernel trims a longer payload to it; our director never sends one). A zero
 * UDP checksum is accepted over IPv6 too: RFC 6935/6936 allow it for
 * tunnels, and the director sends it when extension headers are present.
 * Each refusal leaves the frame untouched (the kernel then drops it with its
 * own counters) and moves one rejected_* counter.
 */

/* Bytes a checksum is computed over at most: more than an XDP frame without fragments holds. */
#define CSUM_SCAN_MAX	4096

/*
 * sum plus the RFC 1071 sum of the len bytes at offset off of the frame,
 * folded and complemented (csum_fold()): 0 when the bytes, checksum field
 * included, verify. -1 when they run past the frame or CSUM_SCAN_MAX. A
 * global function, checked once by the verifier; eight bytes a step and
 * 64-bit arguments for the reasons given at xlvs_bytes_zero() (bpf/icmp.h).
 * The tail is zero-padded to eight bytes: it starts at an even offset, so
 * that is RFC 1071's padding of an odd byte.
 */
__attribute__((noinline)) int xlvs_csum_check(struct xdp_md *ctx, __u64 off, __u64 len, __u64 sum)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	union {
		__u8 b[8];
		__u64 w;
	} tail = {};
	__u32 i;

	if (off > CSUM_SCAN_MAX || len > CSUM_SCAN_MAX)
		return -1;
	sum = (__u32)sum + (sum >> 32);
	for (i = 0; i < CSUM_SCAN_MAX / 8; i++) {
		__u64 *w = data + off;

		if (len < 8)
			break;
		if ((void *)(w + 1) > end)
			return -1;
		sum += (__u32)*w;
		sum += *w >> 32;
		off += 8;
		len -= 8;
	}
	for (i = 0; i < 7; i++) {
		__u8 *b = data + off + i;

		if (i >= len)
			break;
		if ((void *)(b + 1) > end)
			return -1;
		tail.b[i] = *b;
	}
	if (len >= 8)
		return -1;
	sum += (__u32)tail.w;
	sum += tail.w >> 32;
	return csum_fold(sum);
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

/*
 * GUE: the UDP length is the IP payload's (plen), and a non-zero checksum
 * verifies over the pseudo header (pseudo: its addresses, summed) and the
 * datagram. 0 when good, else the counter.
 */
XLVS_INLINE int check_gue(struct xdp_md *ctx, __u32 udp_off, __u32 plen, __u64 pseudo)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct udphdr *uh = data + udp_off;

	if ((void *)(uh + 1) > end)
		return XLVS_DECAP_REJ_TRUNC;
	if (be16_len(uh->len) != plen)
		return XLVS_DECAP_REJ_UDP_LEN;
	if (!uh->check)
		return 0;
	pseudo += uh->len + bpf_htons(IPPROTO_UDP);
	return xlvs_csum_check(ctx, udp_off, plen, pseudo) ? XLVS_DECAP_REJ_UDP_CSUM : 0;
}

/* 1: a tunnel packet for us (o filled), 0: not a tunnel packet, <0: rejected (counter). */
XLVS_INLINE int outer4(struct xdp_md *ctx, struct outer *o)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + o->l2;
	__u32 tot;
	int rc;

	if ((void *)(ip + 1) > end)
		return 0;
	o->olen = ip->ihl * IP4_IHL_UNIT;
	if (ip->protocol == IPPROTO_IPIP)
		o->inner = IP4_VERSION, o->kind = XLVS_DECAP_IPIP;
	else if (ip->protocol == IPPROTO_IPV6)
		o->inner = IP6_VERSION, o->kind = XLVS_DECAP_6IN4;
	else if (ip->protocol == IPPROTO_UDP && ip->ihl >= IP4_IHL_MIN &&
		 is_gue(data, end, o->l2 + o->olen, o))
		o->inner = 0, o->kind = XLVS_DECAP_GUE4;
	else
		return 0;
	tot = be16_len(ip->tot_len);
	if (ip->version != IP4_VERSION || ip->ihl < IP4_IHL_MIN || tot < ip->ihl * IP4_IHL_UNIT)
		return -XLVS_DECAP_REJ_BAD_HDR;
	if ((void *)ip + tot > end)
		return -XLVS_DECAP_REJ_TRUNC;
	if (xlvs_csum_check(ctx, o->l2, ip->ihl * IP4_IHL_UNIT, 0))
		return -XLVS_DECAP_REJ_IP4_CSUM;
	if (ip->frag_off & bpf_htons(IP4_MF | IP4_OFFMASK))
		return -XLVS_DECAP_REJ_FRAGMENT;
	if (tot < o->olen)
		return -XLVS_DECAP_REJ_TRUNC;
	if (o->kind == XLVS_DECAP_GUE4) {
		rc = check_gue(ctx, o->l2 + ip->ihl * IP4_IHL_UNIT, tot - ip->ihl * IP4_IHL_UNIT,
			       (__u64)ip->saddr + ip->daddr);
		if (rc)
			return -rc;
	}
	o->tot = tot;
	return dst_is_local(XLVS_AF_INET, &ip->daddr) ? 1 : -XLVS_DECAP_REJ_NOT_LOCAL;
}

XLVS_INLINE int outer6(struct xdp_md *ctx, struct outer *o)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = data + o->l2;
	__u32 plen;
	int rc;

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
	if (ip6->version != IP6_VERSION)
		return -XLVS_DECAP_REJ_BAD_HDR;
	plen = be16_len(ip6->payload_len);
	if ((void *)(ip6 + 1) + plen > end || sizeof(*ip6) + plen < o->olen)
		return -XLVS_DECAP_REJ_TRUNC;
	if (o->kind == XLVS_DECAP_GUE6) {
		rc = check_gue(ctx, o->l2 + sizeof(*ip6), plen, csum_ip6_addrs(ip6));
		if (rc)
			return -rc;
	}
	o->tot = sizeof(*ip6) + plen;
	return dst_is_local(XLVS_AF_INET6, &ip6->daddr) ? 1 : -XLVS_DECAP_REJ_NOT_LOCAL;
}

/* The inner packet must be whole IPv4/IPv6 of the announced version. Returns its EtherType or 0. */
XLVS_INLINE __be16 inner_proto(void *data, void *end, const struct outer *o)
{
	__u8 *v = data + o->l2 + o->olen;
	__u8 ver;

	/* At least the shorter of the two headers, inside the outer datagram. */
	if ((void *)v + sizeof(struct iphdr) > end || o->olen + sizeof(struct iphdr) > o->tot)
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
		rc = outer4(ctx, &o);
	else if (proto == bpf_htons(ETH_P_IPV6))
		rc = outer6(ctx, &o);
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
