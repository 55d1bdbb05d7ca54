/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stage 5, forward: the LVS forwarding methods.
 *   DR   rewrite the MACs, send the frame to the real unchanged.
 *   TUN  prepend an outer IPv4 or IPv6 header (IPIP, IP6IP6, 4in6, 6in4).
 *   GUE  prepend outer IP + UDP; the inner packet follows the UDP header
 *        directly (GUE variant 1), as Linux fou/gue and other stacks accept.
 *   NAT, FULLNAT  addresses and ports rewritten (nat.h), then routed like a
 *        tunnel's outer packet; their replies back to the client likewise.
 *   local  the director is the real: XDP_PASS to its own stack, unchanged.
 * The next hop is what userspace resolved (XLVS_REAL_F_NH_VALID) or else
 * bpf_fib_lookup(); an unresolved neighbour sends the encapsulated packet to
 * the kernel, which forwards it and resolves the neighbour on the way.
 */
#ifndef XLVS_BPF_FORWARD_H
#define XLVS_BPF_FORWARD_H

#include "nat.h"
#include "csum.h"
#include "icmp.h"
#include "l2.h"

#ifndef AF_INET
#define AF_INET		2
#define AF_INET6	10
#endif

/*
 * Our side of the wire: count the packet for its service and real (none for
 * a nat reply, t NULL: those are nat_reply()'s out counters), then send it.
 */
XLVS_INLINE int xmit(struct xdp_md *ctx, const struct pkt *p, const struct target *t, __u32 ifindex)
{
	if (t) {
		count_forwarded(t->svc_id, t->real_id, p->pkt_len, t->new_flow);
		if (p->flags & PKT_F_ICMP_ERR)
			count_event(XLVS_EV_ICMP_ERR_FWD);
	}
	if (!ifindex || ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(ifindex, 0);
}

XLVS_INLINE void set_macs(struct ethhdr *eth, const __u8 *dst, const __u8 *src)
{
	__builtin_memcpy(eth->h_dest, dst, ETH_ALEN);
	__builtin_memcpy(eth->h_source, src, ETH_ALEN);
}

/* bpf_fib_lookup towards addr (family = the real's) from the ingress interface. */
XLVS_INLINE int fib_lookup(struct xdp_md *ctx, struct bpf_fib_lookup *fib, __u8 family,
			   const __be32 *src, const __be32 *dst)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = ctx->ingress_ifindex;
	if (family == XLVS_AF_INET) {
		fib->family = AF_INET;
		fib->ipv4_src = src[0];
		fib->ipv4_dst = dst[0];
	} else {
		fib->family = AF_INET6;
		__builtin_memcpy(fib->ipv6_src, src, IP6_ADDR_LEN);
		__builtin_memcpy(fib->ipv6_dst, dst, IP6_ADDR_LEN);
	}
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

XLVS_INLINE int fwd_dr(struct xdp_md *ctx, const struct pkt *p, const struct target *t)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct xlvs_real *r = t->real;
	struct ethhdr *eth = data;
	struct bpf_fib_lookup fib;

	if ((void *)(eth + 1) > end)
		return drop(XLVS_DROP_ETH_TRUNC);
	if (r->flags & XLVS_REAL_F_NH_VALID) {
		set_macs(eth, r->nh_mac, r->nh_smac);
		return xmit(ctx, p, t, r->nh_ifindex);
	}
	/* DR reals share our link and hold the VIP: only their own MAC will do. */
	if (r->family != p->flow.family)
		return drop(XLVS_DROP_FWD_UNSUPPORTED);
	if (fib_lookup(ctx, &fib, r->family, p->flow.src, r->addr) != BPF_FIB_LKUP_RET_SUCCESS)
		return drop(XLVS_DROP_NO_NEXTHOP);
	set_macs(eth, fib.dmac, fib.smac);
	return xmit(ctx, p, t, fib.ifindex);
}

/*
 * Sum of the inner packet's bytes, for the outer UDP checksum of GUE over IPv6
 * (which may not be zero). The transport checksum already makes the inner L4
 * segment sum to the complement of its pseudo header, so only the IP header is
 * summed: no loop over the payload. Returns false when that shortcut does not
 * hold (IPv6 extension headers, IPv4 UDP without checksum).
 */
XLVS_INLINE bool inner_csum(void *data, void *end, const struct pkt *p, __u32 l2, __u64 *sum)
{
	__u32 hlen = p->l4_off - p->l3_off;
	__u32 l4len = p->l3_len - hlen;
	__u64 pseudo = bpf_htons(l4len) + bpf_htons(p->ip_proto);

	if (p->flow.family == XLVS_AF_INET) {
		struct iphdr *ip = data + l2;

		if ((void *)(ip + 1) > end || (p->flags & PKT_F_UDP_NOCSUM))
			return false;
		/* A valid IPv4 header sums to zero; ICMPv4 has no pseudo header. */
		*sum = p->ip_proto == IPPROTO_ICMP ? 0 : (__u16)csum_fold(pseudo + ip->saddr + ip->daddr);
		return true;
	} else {
		struct ipv6hdr *ip6 = data + l2;

		if ((void *)(ip6 + 1) > end || hlen != sizeof(*ip6))
			return false;
		*sum = csum_words((__be32 *)ip6, IP6_HDR_WORDS);
		*sum += (__u16)csum_fold(pseudo + csum_ip6_addrs(ip6));
		return true;
	}
}

XLVS_INLINE void write_outer_ip4(struct iphdr *o, const struct pkt *p, const struct xlvs_real *r,
				 const struct xlvs_config *cfg, __u8 proto, __u16 len, __u32 hash)
{
	o->version = IP4_VERSION;
	o->ihl = IP4_IHL_MIN;
	o->tos = p->tos;
	o->tot_len = bpf_htons(len);
	/* DF follows the inner packet so PMTU discovery keeps working end to end. */
	o->id = (p->flags & PKT_F_DF) ? 0 : bpf_htons((__u16)hash);
	o->frag_off = (p->flags & PKT_F_DF) ? bpf_htons(IP4_DF) : 0;
	o->ttl = XLVS_TUN_TTL;
	o->protocol = proto;
	o->saddr = cfg->src4;
	o->daddr = r->addr[0];
	ip4_csum_set(o);
}

XLVS_INLINE void write_outer_ip6(struct ipv6hdr *o, const struct pkt *p, const struct xlvs_real *r,
				 const struct xlvs_config *cfg, __u8 proto, __u16 payload, __u32 hash)
{
	/* Traffic class copied, flow label from the flow hash for ECMP. */
	*(__be32 *)o = ip6_word0(p->tos, hash);
	o->payload_len = bpf_htons(payload);
	o->nexthdr = proto;
	o->hop_limit = XLVS_TUN_TTL;
	__builtin_memcpy(&o->saddr, cfg->src6, IP6_ADDR_LEN);
	__builtin_memcpy(&o->daddr, r->addr, IP6_ADDR_LEN);
}

XLVS_INLINE void write_outer_udp(struct udphdr *uh, const struct pkt *p, const struct target *t,
				 const struct xlvs_config *cfg)
{
	uh->source = bpf_htons(xlvs_gue_sport(t->hash));
	uh->dest = t->real->gue_port ? t->real->gue_port : cfg->gue_port;
	uh->len = bpf_htons(sizeof(*uh) + p->l3_len);
	uh->check = 0;	/* IPv4: zero is allowed for tunnels */
}

XLVS_INLINE __u16 gue_udp_csum6(const struct ipv6hdr *o, const struct udphdr *uh, __u64 inner)
{
	__u64 s = inner + csum_ip6_addrs(o);
	__u16 c;

	s += uh->len + bpf_htons(IPPROTO_UDP);	/* pseudo header */
	s += uh->source + uh->dest + uh->len;	/* UDP header, check = 0 */
	c = csum_fold(s);
	return c ? c : CSUM_MANGLED_0;
}

/*
 * The packet is ready for dst (family fam): pick L2 addresses and send it.
 * Towards a real (t) whose next hop userspace resolved, that one; otherwise
 * bpf_fib_lookup() from src. t NULL: a nat reply, towards a client.
 */
XLVS_INLINE int route_xmit(struct xdp_md *ctx, const struct pkt *p, const struct target *t,
			   const struct xlvs_config *cfg, __u8 fam, const __be32 *src, const __be32 *dst,
			   enum xlvs_drop_reason fail)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bpf_fib_lookup fib;
	__u8 smac[ETH_ALEN];
	int rc;

	if ((void *)(eth + 1) > end)
		return drop(fail);
	if (t && (t->real->flags & XLVS_REAL_F_NH_VALID)) {
		set_macs(eth, t->real->nh_mac, t->real->nh_smac);
		return xmit(ctx, p, t, t->real->nh_ifindex);
	}
	rc = fib_lookup(ctx, &fib, fam, src, dst);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		set_macs(eth, fib.dmac, fib.smac);
		return xmit(ctx, p, t, fib.ifindex);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* The frame still carries the original MACs, so the kernel takes it as ours. */
		if (t)
			count_forwarded(t->svc_id, t->real_id, p->pkt_len, t->new_flow);
		return pass(XLVS_EV_PASS_NEIGH);
	}
	if (!(cfg->flags & XLVS_CFG_F_GW_FALLBACK))
		return drop(XLVS_DROP_NO_NEXTHOP);
	count_event(XLVS_EV_FIB_GW_FALLBACK);
	__builtin_memcpy(smac, eth->h_dest, ETH_ALEN);	/* the frame was sent to us */
	set_macs(eth, cfg->gw_mac, smac);
	return xmit(ctx, p, t, 0);
}

/* After encapsulation: the outer destination is the real, the outer source ours. */
XLVS_INLINE int tunnel_xmit(struct xdp_md *ctx, const struct pkt *p, const struct target *t,
			    const struct xlvs_config *cfg)
{
	const struct xlvs_real *r = t->real;

	return route_xmit(ctx, p, t, cfg, r->family, r->family == XLVS_AF_INET ? &cfg->src4 : cfg->src6,
			  r->addr, XLVS_DROP_ENCAP_FAIL);
}

/* Is there an outer source address for real r's tunnel? */
XLVS_INLINE bool tun_src_set(const struct xlvs_real *r, const struct xlvs_config *cfg)
{
	return r->family == XLVS_AF_INET6 ? cfg->src6[0] | cfg->src6[1] | cfg->src6[2] | cfg->src6[3]
					  : cfg->src4;
}

/* Can the packet be encapsulated for real r, olen bytes more? XLVS_CONT or the verdict. */
XLVS_INLINE int encap_check(struct xdp_md *ctx, const struct pkt *p, const struct xlvs_real *r,
			    const struct xlvs_config *cfg, __u32 olen)
{
	if (cfg->tun_mtu && p->l3_len + olen > cfg->tun_mtu)
		return too_big(ctx, p, cfg->tun_mtu - olen);
	if (!tun_src_set(r, cfg))
		return drop(XLVS_DROP_NO_TUN_SRC);
	if (r->family != XLVS_AF_INET && r->family != XLVS_AF_INET6)
		return drop(XLVS_DROP_BAD_REAL);
	return XLVS_CONT;
}

/*
 * Room for olen bytes of outer headers between the L2 header and the packet.
 * The MACs stay (so XDP_PASS still reaches us) and so does the VLAN tag; the
 * EtherType becomes the outer header's. 0 or -1.
 */
XLVS_INLINE int encap_push(struct xdp_md *ctx, __u32 l2, __u32 olen, __be16 proto)
{
	void *data, *end;

	if (bpf_xdp_adjust_head(ctx, -(int)olen))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + l2 + olen > end || data + olen + ETH_VLAN_HLEN > end)
		return -1;
	__builtin_memcpy(data, data + olen, ETH_ADDRS_LEN);
	l2_move(data, data + olen, l2, proto);
	return 0;
}

/* Outer header bytes for real r: IPv4 or IPv6, plus UDP for GUE. */
XLVS_INLINE __u32 outer_len(const struct xlvs_real *r)
{
	return ip_hdr_len(r->family) + (r->fwd == XLVS_FWD_GUE ? sizeof(struct udphdr) : 0);
}

/*
 * The outer headers for real r at data + l2, where encap room of outer_len()
 * bytes was made; the XDP and the tc program share them. lco: inner is the
 * inner packet's sum (inner_csum()), for GUE over IPv6. false if out of bounds.
 */
XLVS_INLINE bool write_outer(void *data, void *end, __u32 l2, const struct pkt *p, const struct target *t,
			     const struct xlvs_config *cfg, bool lco, __u64 inner)
{
	const struct xlvs_real *r = t->real;
	bool v6 = r->family == XLVS_AF_INET6;
	__u32 iplen = v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u32 olen = outer_len(r);
	__u8 proto = p->flow.family == XLVS_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	struct udphdr *uh = NULL;

	if (r->fwd == XLVS_FWD_GUE) {
		uh = data + l2 + iplen;
		if ((void *)(uh + 1) > end)
			return false;
		write_outer_udp(uh, p, t, cfg);
		proto = IPPROTO_UDP;
	}
	if (v6) {
		struct ipv6hdr *o = data + l2;

		if ((void *)(o + 1) > end)
			return false;
		write_outer_ip6(o, p, r, cfg, proto, olen - iplen + p->l3_len, t->hash);
		/* Without the shortcut: zero, as RFC 6935 allows for tunnels. */
		if (uh && lco)
			uh->check = gue_udp_csum6(o, uh, inner);
	} else {
		struct iphdr *o = data + l2;

		if ((void *)(o + 1) > end)
			return false;
		write_outer_ip4(o, p, r, cfg, proto, olen + p->l3_len, t->hash);
	}
	return true;
}

/*
 * TUN and GUE: one outer IPv4 or IPv6 header (then UDP for GUE) in front of
 * the packet. GUE over IPv6 needs a UDP checksum: inner_csum() sums the inner
 * packet before the headers move.
 */
XLVS_INLINE int fwd_tunnel(struct xdp_md *ctx, const struct pkt *p, const struct target *t,
			   const struct xlvs_config *cfg)
{
	const struct xlvs_real *r = t->real;
	bool v6 = r->family == XLVS_AF_INET6;
	__u32 olen = outer_len(r), l2 = pkt_l2_len(p);
	__u64 inner = 0;
	bool lco = false;
	int rc;

	rc = encap_check(ctx, p, r, cfg, olen);
	if (rc != XLVS_CONT)
		return rc;
	if (r->fwd == XLVS_FWD_GUE && v6)
		lco = inner_csum((void *)(long)ctx->data, (void *)(long)ctx->data_end, p, l2, &inner);
	if (encap_push(ctx, l2, olen, bpf_htons(v6 ? ETH_P_IPV6 : ETH_P_IP)))
		return drop(XLVS_DROP_ENCAP_FAIL);
	if (!write_outer((void *)(long)ctx->data, (void *)(long)ctx->data_end, l2, p, t, cfg, lco, inner))
		return drop(XLVS_DROP_ENCAP_FAIL);
	return tunnel_xmit(ctx, p, t, cfg);
}

/* The director serves the flow itself: counted for its real like any forwarded packet. */
XLVS_INLINE int to_local(const struct pkt *p, const struct target *t)
{
	count_forwarded(t->svc_id, t->real_id, p->pkt_len, t->new_flow);
	return pass(XLVS_EV_PASS_LOCAL_REAL);
}

/* NAT and FULLNAT: the real's address and port (and a pool source), then routed to the real. */
XLVS_INLINE int fwd_nat(struct xdp_md *ctx, const struct pkt *p, const struct target *t,
			const struct xlvs_config *cfg)
{
	struct nat_tuple nt;
	int rc = nat_fwd_tuple(p, t, &nt);

	if (rc != XLVS_CONT)
		return rc;
	if (p->flags & PKT_F_ICMP_ERR) {
		if (nat_rewrite_icmp(ctx, p, &nt, t->real->fwd == XLVS_FWD_FULLNAT))
			return drop(XLVS_DROP_NAT_FAIL);
		count_event(XLVS_EV_ICMP_ERR_NAT);
	} else if (nat_rewrite(ctx, p, &nt)) {
		return drop(XLVS_DROP_NAT_FAIL);
	}
	return route_xmit(ctx, p, t, cfg, p->flow.family, nt.src, nt.dst, XLVS_DROP_NAT_FAIL);
}

/*
 * Traffic that is no service's, with nat reals configured: a reply from one
 * of them goes back to its client from the VIP; anything else is the kernel's.
 * A reply sent (or given to the kernel for its neighbour, as xmit() counts a
 * forwarded packet) counts for its real's and service's out counters; so does
 * an ICMP error translated on the reply's way, as IPVS's handle_response_icmp()
 * counts it (ip_vs_out_stats()).
 */
XLVS_INLINE int nat_reply(struct xdp_md *ctx, const struct pkt *p, const struct xlvs_config *cfg)
{
	struct nat_owner own;
	struct nat_tuple nt;
	int rc = nat_reply_tuple(p, cfg, &nt, &own);

	if (rc != XLVS_CONT)
		return rc;
	if (p->flags & PKT_F_ICMP_ERR) {
		/* about a packet of the client's (its flow reversed is the reply's) */
		if (nat_rewrite_icmp(ctx, p, &nt, true))
			return drop(XLVS_DROP_NAT_FAIL);
		count_event(XLVS_EV_ICMP_ERR_NAT);
	} else if (nat_rewrite(ctx, p, &nt)) {
		return drop(XLVS_DROP_NAT_FAIL);
	} else {
		count_event(XLVS_EV_NAT_REPLY);
	}
	rc = route_xmit(ctx, p, NULL, cfg, p->flow.family, nt.src, nt.dst, XLVS_DROP_NAT_FAIL);
	if (rc != XDP_DROP)
		count_reply(own.svc_id, own.real_id, p->pkt_len);
	return rc;
}

XLVS_INLINE int forward(struct xdp_md *ctx, const struct pkt *p, const struct target *t,
			const struct xlvs_config *cfg)
{
	switch (t->real->fwd) {
	case XLVS_FWD_DR:
		return fwd_dr(ctx, p, t);
	case XLVS_FWD_TUN:
	case XLVS_FWD_GUE:
		return fwd_tunnel(ctx, p, t, cfg);
	case XLVS_FWD_NAT:
	case XLVS_FWD_FULLNAT:
		return fwd_nat(ctx, p, t, cfg);
	case XLVS_FWD_LOCAL:
		return to_local(p, t);
	}
	return drop(XLVS_DROP_FWD_UNSUPPORTED);
}

#endif /* XLVS_BPF_FORWARD_H */
