/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ICMP the director answers itself: echo to a VIP (per-VIP flag) and
 * "fragmentation needed" / "packet too big" when encapsulation would push a
 * packet over xlvs_config.tun_mtu. Replies leave by the way the packet came.
 */
#ifndef XLVS_BPF_ICMP_H
#define XLVS_BPF_ICMP_H

#include "csum.h"
#include "l2.h"
#include "stats.h"

/* Bytes of the offending packet quoted: RFC 1812 (576 total) and RFC 4443 (1280 total). */
#define ICMP4_ERR_MAX	576
#define TOO_BIG_QUOTE4	(ICMP4_ERR_MAX - sizeof(struct iphdr) - sizeof(struct icmphdr))
#define TOO_BIG_QUOTE6	(IP6_MIN_MTU - sizeof(struct ipv6hdr) - sizeof(struct icmp6hdr))
/* The quote's bytes summed in the first bpf_csum_diff() call, the one with the ICMP header. */
#define QUOTE_SUM0	(CSUM_DIFF_MAX - sizeof(struct icmphdr))
_Static_assert(sizeof(struct icmphdr) == sizeof(struct icmp6hdr), "one QUOTE_SUM0 for both");

/* The 16-bit word whose first byte is b (TTL, ICMP type), for checksum updates. */
XLVS_INLINE __be16 word_hi(__u8 b)
{
	return bpf_htons((__u16)b << 8);
}

XLVS_INLINE void swap_macs(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/*
 * Is an ICMP error addressed to the source of the datagram it quotes? A
 * genuine one always is: RFC 792 (IP fields of every error message:
 * "Destination Address: The source network and address from the original
 * datagram's data") and RFC 4443 section 3 ("Copied from the Source Address
 * field of the invoking packet"). Without this, anyone could steer an error
 * into another client's flow (a lowered PMTU, a connection reset by the
 * real's stack) just by quoting it, whatever address the error is sent to.
 * IPVS gets part of this from where it hooks: ip_vs_in_icmp() runs at
 * LOCAL_IN, so the error was at least addressed to the director, and it then
 * needs a connection entry; Katran's parse_icmp() keys by the quote alone.
 * The outer source is not compared: any router on the path may send one.
 * p->flow still holds the outer addresses; quoted_src is the quote's source.
 */
XLVS_INLINE bool icmp_err_to_quoted_src(const struct pkt *p, const __be32 *quoted_src)
{
	if (p->flow.family == XLVS_AF_INET)
		return p->flow.dst[0] == quoted_src[0];
	return !((p->flow.dst[0] ^ quoted_src[0]) | (p->flow.dst[1] ^ quoted_src[1]) |
		 (p->flow.dst[2] ^ quoted_src[2]) | (p->flow.dst[3] ^ quoted_src[3]));
}

/* Bytes an all-zero echo reply is scanned over: more than an XDP frame without fragments holds. */
#define ECHO_ZERO_SCAN_MAX	4096

/*
 * 1 when the len bytes at offset off of the frame are all zero (0 when they
 * run past the frame or past ECHO_ZERO_SCAN_MAX). A global function: the
 * verifier checks it once, not once per path that reaches it (inlined, the
 * program went over the 1M instruction limit). Eight bytes a step: a loop of
 * 4096 one-byte steps with an unknown bound is "too complex" for the verifier
 * (8192 pending branches). 64-bit arguments: with __u32 ones clang zero-extends
 * a fresh copy for each use and the verifier loses the bound checked first.
 * Reached for about 1 in 65536 echo requests.
 */
__attribute__((noinline)) int xlvs_bytes_zero(struct xdp_md *ctx, __u64 off, __u64 len)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 i;

	if (off > ECHO_ZERO_SCAN_MAX || len > ECHO_ZERO_SCAN_MAX)
		return 0;
	for (i = 0; i < ECHO_ZERO_SCAN_MAX / 8; i++) {
		__u64 *w = data + off;

		if (len < 8)
			break;
		if ((void *)(w + 1) > end || *w)
			return 0;
		off += 8;
		len -= 8;
	}
	for (i = 0; i < 7; i++) {
		__u8 *b = data + off + i;

		if (i >= len)
			return 1;
		if ((void *)(b + 1) > end || *b)
			return 0;
	}
	return len == 7;
}

/*
 * ICMPv4 has no pseudo header, so an echo reply with identifier 0, sequence 0
 * and no (or all-zero) data is all zero but for its checksum, whose only
 * correct value is then 0xffff (RFC 1071: the one's complement of a +0 sum),
 * which the incremental update cannot produce (see csum_replace2()). A
 * result of 0x0000 otherwise means the reply sums to -0 and is right as is.
 * The data ends at tot_len, not at the frame's end (Ethernet padding).
 */
XLVS_INLINE void echo4_fix_zero(struct xdp_md *ctx, const struct iphdr *ip, struct icmphdr *ic, __u32 l2)
{
	__u32 tot = bpf_ntohs(ip->tot_len), hdrs = sizeof(*ip) + sizeof(*ic);

	if (ic->checksum || ic->type || ic->code || ic->un.echo.id || ic->un.echo.sequence || tot < hdrs)
		return;
	if (xlvs_bytes_zero(ctx, l2 + hdrs, tot - hdrs))
		ic->checksum = 0xffff;
}

/* Echo reply in place: swap addresses, fresh TTL, type 8->0 / 128->129. */
XLVS_INLINE int echo_reply(struct xdp_md *ctx, const struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 l2 = pkt_l2_len(p);
	struct ethhdr *eth = data;

	/* Options or extension headers would be echoed back: leave those to the kernel. */
	if (p->l4_off != l2 + ip_hdr_len(p->flow.family))
		return pass(XLVS_EV_PASS_NO_SERVICE);

	if (p->flow.family == XLVS_AF_INET) {
		struct iphdr *ip = data + l2;
		struct icmphdr *ic = (void *)(ip + 1);
		__be32 a;

		if ((void *)(ic + 1) > end)
			return drop(XLVS_DROP_ICMP_TRUNC);
		a = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = a;
		csum_replace2(&ip->check, word_hi(ip->ttl), word_hi(IP_DEFAULT_TTL));
		ip->ttl = IP_DEFAULT_TTL;
		csum_replace2(&ic->checksum, word_hi(ICMP_ECHO), word_hi(ICMP_ECHOREPLY));
		ic->type = ICMP_ECHOREPLY;
		echo4_fix_zero(ctx, ip, ic, l2);
	} else {
		struct ipv6hdr *ip6 = data + l2;
		struct icmp6hdr *ic = (void *)(ip6 + 1);
		struct in6_addr a;

		if ((void *)(ic + 1) > end)
			return drop(XLVS_DROP_ICMP_TRUNC);
		a = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
		ip6->hop_limit = IP_DEFAULT_TTL;
		csum_replace2(&ic->icmp6_cksum, word_hi(ICMPV6_ECHO_REQUEST), word_hi(ICMPV6_ECHO_REPLY));
		ic->icmp6_type = ICMPV6_ECHO_REPLY;
	}
	if ((void *)(eth + 1) > end)
		return drop(XLVS_DROP_ETH_TRUNC);
	swap_macs(eth);
	count_event(XLVS_EV_ECHO_REPLY);
	return XDP_TX;
}

/* L2 header of a reply: back to the sender, VLAN tag kept. */
XLVS_INLINE int reply_l2(void *data, void *end, __u32 l2, __u32 shift, __u16 proto)
{
	struct ethhdr *eth = data, *old = data + shift;

	if ((void *)(old + 1) > end || data + shift + ETH_VLAN_HLEN > end)
		return -1;
	__builtin_memcpy(eth->h_dest, old->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, old->h_dest, ETH_ALEN);
	l2_move(data, old, l2, bpf_htons(proto));
	return 0;
}

/*
 * Cut the frame to l2 + quote bytes of the original datagram, make room for
 * the new IP + ICMP headers (hdrs bytes) in front of it and address the reply.
 * Returns where the new IP header goes, hdrs + quote bytes checked, or NULL.
 */
XLVS_INLINE void *too_big_frame(struct xdp_md *ctx, const struct pkt *p, __u32 l2, __u32 quote,
				__u32 hdrs, __u16 proto)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	int tail = (int)(l2 + quote) - (int)(end - data);

	if (p->l3_len < quote || tail > 0)
		return NULL;
	if (tail && bpf_xdp_adjust_tail(ctx, tail))
		return NULL;
	if (bpf_xdp_adjust_head(ctx, -(int)hdrs))
		return NULL;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + l2 + hdrs + quote > end || reply_l2(data, end, l2, hdrs, proto))
		return NULL;
	return data + l2;
}

XLVS_INLINE int too_big4(struct xdp_md *ctx, const struct pkt *p, __u32 l2, __u16 mtu)
{
	const __u32 hdrs = sizeof(struct iphdr) + sizeof(struct icmphdr);
	struct iphdr *ip, *orig;
	struct icmphdr *ic;
	__u64 sum;

	if (!(p->flags & PKT_F_DF))
		return drop(XLVS_DROP_TOO_BIG_NO_DF);	/* we cannot fragment in XDP */
	ip = too_big_frame(ctx, p, l2, TOO_BIG_QUOTE4, hdrs, ETH_P_IP);
	if (!ip)
		return drop(XLVS_DROP_TOO_BIG_FAIL);
	ic = (void *)(ip + 1);
	orig = (void *)(ic + 1);

	ip->version = IP4_VERSION;
	ip->ihl = IP4_IHL_MIN;
	ip->tos = 0;
	ip->tot_len = bpf_htons(hdrs + TOO_BIG_QUOTE4);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = IP_DEFAULT_TTL;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = orig->daddr;
	ip->daddr = orig->saddr;
	ip4_csum_set(ip);

	ic->type = ICMP_DEST_UNREACH;
	ic->code = ICMP_FRAG_NEEDED;
	ic->checksum = 0;
	ic->un.frag.__unused = 0;
	ic->un.frag.mtu = bpf_htons(mtu);
	sum = (__u32)bpf_csum_diff(NULL, 0, (__be32 *)ic, sizeof(*ic) + QUOTE_SUM0, 0);
	sum = (__u32)bpf_csum_diff(NULL, 0, (__be32 *)((void *)orig + QUOTE_SUM0),
				   TOO_BIG_QUOTE4 - QUOTE_SUM0, sum);
	ic->checksum = csum_fold(sum);
	count_event(XLVS_EV_TOO_BIG_SENT);
	return XDP_TX;
}

XLVS_INLINE int too_big6(struct xdp_md *ctx, const struct pkt *p, __u32 l2, __u32 mtu)
{
	const __u32 hdrs = sizeof(struct ipv6hdr) + sizeof(struct icmp6hdr);
	struct ipv6hdr *ip6, *orig;
	struct icmp6hdr *ic;
	__u64 sum;

	ip6 = too_big_frame(ctx, p, l2, TOO_BIG_QUOTE6, hdrs, ETH_P_IPV6);
	if (!ip6)
		return drop(XLVS_DROP_TOO_BIG_FAIL);
	ic = (void *)(ip6 + 1);
	orig = (void *)(ic + 1);

	*(__be32 *)ip6 = ip6_word0(0, 0);
	ip6->payload_len = bpf_htons(sizeof(*ic) + TOO_BIG_QUOTE6);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = IP_DEFAULT_TTL;
	ip6->saddr = orig->daddr;
	ip6->daddr = orig->saddr;

	ic->icmp6_type = ICMPV6_PKT_TOOBIG;
	ic->icmp6_code = 0;
	ic->icmp6_cksum = 0;
	ic->icmp6_mtu = bpf_htonl(mtu < IP6_MIN_MTU ? IP6_MIN_MTU : mtu);
	sum = ip6->payload_len + bpf_htons(IPPROTO_ICMPV6) + csum_ip6_addrs(ip6);
	sum = (__u16)~csum_fold(sum);	/* the pseudo header, folded to seed bpf_csum_diff() */
	sum = (__u32)bpf_csum_diff(NULL, 0, (__be32 *)ic, sizeof(*ic) + QUOTE_SUM0, sum);
	sum = (__u32)bpf_csum_diff(NULL, 0, (__be32 *)((void *)orig + QUOTE_SUM0), CSUM_DIFF_MAX, sum);
	sum = (__u32)bpf_csum_diff(NULL, 0, (__be32 *)((void *)orig + QUOTE_SUM0 + CSUM_DIFF_MAX),
				   TOO_BIG_QUOTE6 - QUOTE_SUM0 - CSUM_DIFF_MAX, sum);
	ic->icmp6_cksum = csum_fold(sum);
	count_event(XLVS_EV_TOO_BIG_SENT);
	return XDP_TX;
}

/* The packet cannot be encapsulated within the MTU: tell the client (never about an ICMP error). */
XLVS_INLINE int too_big(struct xdp_md *ctx, const struct pkt *p, __u32 mtu)
{
	__u32 l2 = pkt_l2_len(p);

	if (p->flags & PKT_F_ICMP_ERR)
		return drop(XLVS_DROP_TOO_BIG_FAIL);
	if (p->flow.family == XLVS_AF_INET)
		return too_big4(ctx, p, l2, mtu);
	return too_big6(ctx, p, l2, mtu);
}

#endif /* XLVS_BPF_ICMP_H */
