/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stage 1, parse: Ethernet (+ one VLAN tag), IPv4 or IPv6 (+ extension headers),
 * then TCP, UDP, ICMP or ICMPv6. Every bounds failure is a counted drop; a frame
 * that is not IP is left to the kernel untouched.
 */
#ifndef XLVS_BPF_PARSE_H
#define XLVS_BPF_PARSE_H

#include "icmp.h"
#include "l2.h"
#include "stats.h"

#define IP6_EXT_MAX	6	/* extension headers walked before giving up */

/* The first four bytes of TCP and UDP alike. */
struct l4_ports {
	__be16 source;
	__be16 dest;
};

struct ip6_ext {
	__u8 nexthdr;
	__u8 len;
};

struct ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset << 3 | M */
	__be32 id;
};

XLVS_INLINE bool icmp_is_error(__u8 family, __u8 type)
{
	if (family == XLVS_AF_INET)
		return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED;
	return type == ICMPV6_DEST_UNREACH || type == ICMPV6_PKT_TOOBIG ||
	       type == ICMPV6_TIME_EXCEED;
}

/*
 * Does [off, off + len) lie inside the IP datagram? The frame may be longer
 * (Ethernet padding), so the frame bound alone is not enough.
 */
XLVS_INLINE bool in_datagram(const struct pkt *p, __u32 off, __u32 len)
{
	return off + len <= (__u32)p->l3_off + p->l3_len;
}

/* Ports of the quoted transport header: only TCP and UDP errors can belong to a service. */
XLVS_INLINE int parse_inner_ports(void *data, void *end, __u32 off, struct pkt *p)
{
	struct l4_ports *ports = data + off;

	if (p->flow.proto != IPPROTO_TCP && p->flow.proto != IPPROTO_UDP)
		return pass(XLVS_EV_PASS_NO_SERVICE);
	if ((void *)(ports + 1) > end || !in_datagram(p, off, sizeof(*ports)))
		return drop(XLVS_DROP_ICMP_INNER_TRUNC);
	/* The quoted packet went VIP -> client: reverse it into the client -> VIP flow. */
	p->flow.sport = ports->dest;
	p->flow.dport = ports->source;
	p->flags |= PKT_F_ICMP_ERR;
	return XLVS_CONT;
}

XLVS_INLINE int parse_icmp4_inner(void *data, void *end, __u32 off, struct pkt *p)
{
	struct iphdr *in = data + off;

	if ((void *)(in + 1) > end || !in_datagram(p, off, sizeof(*in)))
		return drop(XLVS_DROP_ICMP_INNER_TRUNC);
	if (in->version != IP4_VERSION || in->ihl < IP4_IHL_MIN)
		return drop(XLVS_DROP_ICMP_INNER_TRUNC);
	if (!icmp_err_to_quoted_src(p, &in->saddr))
		return pass(XLVS_EV_PASS_ICMP_MISADDR);
	p->flow.src[0] = in->daddr;
	p->flow.dst[0] = in->saddr;
	p->flow.proto = in->protocol;
	return parse_inner_ports(data, end, off + in->ihl * IP4_IHL_UNIT, p);
}

XLVS_INLINE int parse_icmp6_inner(void *data, void *end, __u32 off, struct pkt *p)
{
	struct ipv6hdr *in = data + off;

	if ((void *)(in + 1) > end || !in_datagram(p, off, sizeof(*in)))
		return drop(XLVS_DROP_ICMP_INNER_TRUNC);
	if (!icmp_err_to_quoted_src(p, in->saddr.in6_u.u6_addr32))
		return pass(XLVS_EV_PASS_ICMP_MISADDR);
	__builtin_memcpy(p->flow.src, &in->daddr, IP6_ADDR_LEN);
	__builtin_memcpy(p->flow.dst, &in->saddr, IP6_ADDR_LEN);
	p->flow.proto = in->nexthdr;
	return parse_inner_ports(data, end, off + sizeof(*in), p);
}

XLVS_INLINE int parse_icmp(void *data, void *end, __u32 off, struct pkt *p)
{
	struct icmphdr *ic = data + off;	/* same first 8 bytes as struct icmp6hdr */

	if ((void *)(ic + 1) > end || !in_datagram(p, off, sizeof(*ic)))
		return drop(XLVS_DROP_ICMP_TRUNC);
	p->icmp_type = ic->type;
	if (!icmp_is_error(p->flow.family, ic->type)) {
		/* Echo is keyed by identifier, so each ping session is one flow. */
		p->flow.sport = ic->un.echo.id;
		return XLVS_CONT;
	}
	off += sizeof(*ic);
	if (p->flow.family == XLVS_AF_INET)
		return parse_icmp4_inner(data, end, off, p);
	return parse_icmp6_inner(data, end, off, p);
}

XLVS_INLINE int parse_l4(void *data, void *end, __u32 off, struct pkt *p)
{
	p->l4_off = off;
	if (p->flags & PKT_F_FRAG)
		return XLVS_CONT;	/* ports may be absent: handled by policy */

	switch (p->flow.proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = data + off;

		if ((void *)(th + 1) > end || !in_datagram(p, off, sizeof(*th)))
			return drop(XLVS_DROP_TCP_TRUNC);
		p->flow.sport = th->source;
		p->flow.dport = th->dest;
		p->tcp_seq = th->seq;
		if (th->syn && !th->ack)
			p->flags |= PKT_F_SYN;
		if (th->fin || th->rst)
			p->flags |= PKT_F_FIN;
		return XLVS_CONT;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = data + off;

		if ((void *)(uh + 1) > end || !in_datagram(p, off, sizeof(*uh)))
			return drop(XLVS_DROP_UDP_TRUNC);
		p->flow.sport = uh->source;
		p->flow.dport = uh->dest;
		if (!uh->check)
			p->flags |= PKT_F_UDP_NOCSUM;
		return XLVS_CONT;
	}
	case IPPROTO_ICMP:
		if (p->flow.family != XLVS_AF_INET)
			return XLVS_CONT;
		return parse_icmp(data, end, off, p);
	case IPPROTO_ICMPV6:
		if (p->flow.family != XLVS_AF_INET6)
			return XLVS_CONT;
		return parse_icmp(data, end, off, p);
	}
	return XLVS_CONT;	/* other protocols can only match port-0 services */
}

XLVS_INLINE int parse_ip4(void *data, void *end, __u32 off, struct pkt *p)
{
	struct iphdr *ip = data + off;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > end)
		return drop(XLVS_DROP_IP4_TRUNC);
	if (ip->version != IP4_VERSION || ip->ihl < IP4_IHL_MIN)
		return drop(XLVS_DROP_IP4_BAD_HDR);
	hlen = ip->ihl * IP4_IHL_UNIT;
	tot = be16_len(ip->tot_len);
	if (tot < hlen)
		return drop(XLVS_DROP_IP4_BAD_HDR);
	if ((void *)ip + tot > end)
		return drop(XLVS_DROP_IP4_TRUNC);

	if (hlen > sizeof(*ip))
		p->flags |= PKT_F_IP4_OPT;
	if (ip->frag_off & bpf_htons(IP4_MF | IP4_OFFMASK))
		p->flags |= PKT_F_FRAG;
	if (ip->frag_off & bpf_htons(IP4_DF))
		p->flags |= PKT_F_DF;
	p->l3_len = tot;
	p->tos = ip->tos;
	p->flow.family = XLVS_AF_INET;
	p->flow.proto = ip->protocol;
	p->ip_proto = ip->protocol;
	p->flow.src[0] = ip->saddr;
	p->flow.dst[0] = ip->daddr;
	return parse_l4(data, end, off + hlen, p);
}

/* Skip hop-by-hop, routing, destination options, fragment and AH headers. */
XLVS_INLINE int parse_ip6_ext(void *data, void *end, __u32 *offp, __u8 *nhp, struct pkt *p)
{
	__u32 off = *offp;
	__u8 nh = *nhp;
	int i;

#pragma unroll
	for (i = 0; i < IP6_EXT_MAX; i++) {
		struct ip6_ext *e = data + off;

		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS &&
		    nh != IPPROTO_FRAGMENT && nh != IPPROTO_AH)
			break;
		if ((void *)(e + 1) > end)
			return drop(XLVS_DROP_IP6_EXT_TRUNC);
		if (nh == IPPROTO_FRAGMENT) {
			struct ip6_frag *fh = data + off;

			if ((void *)(fh + 1) > end)
				return drop(XLVS_DROP_IP6_EXT_TRUNC);
			/* An atomic fragment (offset 0, no M bit) is a whole packet. */
			if (fh->frag_off & bpf_htons(IP6_FRAG_OFFMASK | IP6_FRAG_MF))
				p->flags |= PKT_F_FRAG;
			off += sizeof(*fh);
		} else if (nh == IPPROTO_AH) {
			off += (e->len + IP6_AH_LEN_BIAS) * IP6_AH_UNIT;
		} else {
			off += (e->len + 1) * IP6_EXT_UNIT;
		}
		nh = e->nexthdr;
	}
	if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	    nh == IPPROTO_FRAGMENT || nh == IPPROTO_AH)
		return drop(XLVS_DROP_IP6_EXT_LIMIT);
	*offp = off;
	*nhp = nh;
	return XLVS_CONT;
}

XLVS_INLINE int parse_ip6(void *data, void *end, __u32 off, struct pkt *p)
{
	struct ipv6hdr *ip6 = data + off;
	__u32 l4off = off + sizeof(*ip6);
	__u8 nh;
	int rc;

	if ((void *)(ip6 + 1) > end)
		return drop(XLVS_DROP_IP6_TRUNC);
	if (ip6->version != IP6_VERSION)
		return drop(XLVS_DROP_IP6_BAD_HDR);
	p->l3_len = sizeof(*ip6) + be16_len(ip6->payload_len);
	if ((void *)ip6 + p->l3_len > end)
		return drop(XLVS_DROP_IP6_TRUNC);

	p->flags |= PKT_F_DF;	/* routers never fragment IPv6 */
	p->tos = ip6_tclass(ip6);
	p->flow.family = XLVS_AF_INET6;
	__builtin_memcpy(p->flow.src, &ip6->saddr, IP6_ADDR_LEN);
	__builtin_memcpy(p->flow.dst, &ip6->daddr, IP6_ADDR_LEN);

	nh = ip6->nexthdr;
	rc = parse_ip6_ext(data, end, &l4off, &nh, p);
	if (rc != XLVS_CONT)
		return rc;
	if (l4off > off + p->l3_len)
		return drop(XLVS_DROP_IP6_EXT_TRUNC);
	p->flow.proto = nh;
	p->ip_proto = nh;
	return parse_l4(data, end, l4off, p);
}

/* A whole frame in [data, end): the director's (XDP) and the tc program's. */
XLVS_INLINE int parse_frame(void *data, void *end, struct pkt *p)
{
	enum l2_result l2;
	__be16 proto;
	__u32 off;

	l2 = parse_l2(data, end, &off, &proto);
	if (l2 != L2_OK)
		return drop(l2 == L2_ETH_TRUNC ? XLVS_DROP_ETH_TRUNC : XLVS_DROP_VLAN_TRUNC);
	p->pkt_len = end - data;
	p->l3_off = off;
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ip4(data, end, off, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ip6(data, end, off, p);
	return pass(XLVS_EV_PASS_NOT_IP);
}

XLVS_INLINE int parse(struct xdp_md *ctx, struct pkt *p)
{
	return parse_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end, p);
}

#endif /* XLVS_BPF_PARSE_H */
