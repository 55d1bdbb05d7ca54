// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs director, tc egress: what XDP cannot see. XDP runs on received frames
 * only, so packets the director sends itself never meet xlvs_lb. xlvsd's
 * health checks of a tun/gue/dr real connect to the VIP with a socket mark of
 * that real (xlvs_hc_marks); here such a packet is sent the way the real's
 * clients' packets go (forward.h's outer headers, the real's MAC or next hop),
 * so a check proves the tunnel, not just the real's own address. Anything
 * else goes on untouched (TC_ACT_UNSPEC: later tc programs still run).
 */
#include <linux/pkt_cls.h>
#include "parse.h"
#include "forward.h"

#define TC_NEXT TC_ACT_UNSPEC

XLVS_INLINE int tc_drop(enum xlvs_drop_reason reason)
{
	drop(reason);
	return TC_ACT_SHOT;
}

/* Sent on: a redirect passes this hook again, where the unmarked packet goes through. */
XLVS_INLINE void steered(struct __sk_buff *skb)
{
	skb->mark = 0;
	count_event(XLVS_EV_HC_STEERED);
}

/* Out of ifindex (0: this interface) with the MACs as they are now. */
XLVS_INLINE int tc_xmit(struct __sk_buff *skb, __u32 ifindex)
{
	steered(skb);
	if (!ifindex || ifindex == skb->ifindex)
		return TC_ACT_OK;
	return bpf_redirect(ifindex, 0);
}

/*
 * Next hop unknown to xlvsd (XLVS_REAL_F_NH_VALID clear): the kernel resolves
 * it. nh: the real itself (DR), or NULL for a route lookup of the outer
 * destination (a tunnel's real may be behind a router).
 */
XLVS_INLINE int tc_xmit_neigh(struct __sk_buff *skb, struct bpf_redir_neigh *nh)
{
	steered(skb);
	return bpf_redirect_neigh(skb->ifindex, nh, nh ? sizeof(*nh) : 0, 0);
}

XLVS_INLINE int tc_dr(struct __sk_buff *skb, const struct pkt *p, const struct xlvs_real *r)
{
	struct ethhdr *eth = (void *)(long)skb->data;
	struct bpf_redir_neigh nh = {};

	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return tc_drop(XLVS_DROP_ETH_TRUNC);
	if (r->family != p->flow.family)
		return tc_drop(XLVS_DROP_FWD_UNSUPPORTED);
	if (r->flags & XLVS_REAL_F_NH_VALID) {
		set_macs(eth, r->nh_mac, r->nh_smac);
		return tc_xmit(skb, r->nh_ifindex);
	}
	nh.nh_family = r->family == XLVS_AF_INET ? AF_INET : AF_INET6;
	__builtin_memcpy(nh.ipv6_nh, r->addr, IP6_ADDR_LEN);	/* IPv4: ipv4_nh is the first word */
	return tc_xmit_neigh(skb, &nh);
}

/*
 * TUN and GUE with forward.h's headers. The inner checksum may still be
 * partial here (checksum offload of a local socket), so GUE over IPv6 gets
 * the zero UDP checksum RFC 6935 allows rather than inner_csum()'s shortcut.
 * bpf_skb_adjust_room's ENCAP flags set the inner offsets for offloads and
 * skb->protocol to the outer family (4in6, 6in4).
 */
XLVS_INLINE int tc_tunnel(struct __sk_buff *skb, const struct pkt *p, const struct target *t,
			  const struct xlvs_config *cfg)
{
	const struct xlvs_real *r = t->real;
	bool v6 = r->family == XLVS_AF_INET6;
	__u64 flags = v6 ? BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 : BPF_F_ADJ_ROOM_ENCAP_L3_IPV4;
	__u32 olen = outer_len(r);
	struct ethhdr *eth;
	void *data, *end;

	if (!tun_src_set(r, cfg))
		return tc_drop(XLVS_DROP_NO_TUN_SRC);
	/* A VLAN tag is out of band at egress; one in the frame would sit where the room goes. */
	if (p->l3_off != ETH_HLEN)
		return tc_drop(XLVS_DROP_ENCAP_FAIL);
	if (r->fwd == XLVS_FWD_GUE)
		flags |= BPF_F_ADJ_ROOM_ENCAP_L4_UDP;
	if (bpf_skb_adjust_room(skb, olen, BPF_ADJ_ROOM_MAC, flags))
		return tc_drop(XLVS_DROP_ENCAP_FAIL);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > end)
		return tc_drop(XLVS_DROP_ENCAP_FAIL);
	eth->h_proto = bpf_htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
	if (!write_outer(data, end, ETH_HLEN, p, t, cfg, false, 0))
		return tc_drop(XLVS_DROP_ENCAP_FAIL);
	if (r->flags & XLVS_REAL_F_NH_VALID) {
		set_macs(eth, r->nh_mac, r->nh_smac);
		return tc_xmit(skb, r->nh_ifindex);
	}
	return tc_xmit_neigh(skb, NULL);
}

/* A marked packet: to the real its mark names, if that real is still the one it was given to. */
XLVS_INLINE int hc_steer(struct __sk_buff *skb, const struct xlvs_config *cfg, const struct xlvs_hc_target *h)
{
	struct target t = { .real_id = h->real_id };
	struct pkt p = {};
	int rc;

	t.real = conn_real_lookup(h->real_id, h->real_gen);
	if (!t.real || (t.real->fwd != XLVS_FWD_DR && t.real->fwd != XLVS_FWD_TUN && t.real->fwd != XLVS_FWD_GUE)) {
		count_event(XLVS_EV_HC_MARK_STALE);
		return TC_ACT_SHOT;
	}
	/* The parser wants the whole datagram in the linear part: a check's packets are small. */
	if (bpf_skb_pull_data(skb, skb->len))
		return tc_drop(XLVS_DROP_ENCAP_FAIL);
	rc = parse_frame((void *)(long)skb->data, (void *)(long)skb->data_end, &p);
	if (rc != XLVS_CONT)
		return rc == XDP_PASS ? TC_NEXT : TC_ACT_SHOT;
	t.hash = xlvs_flow_hash_cfg(cfg->flags, &p.flow);
	if (t.real->fwd == XLVS_FWD_DR)
		return tc_dr(skb, &p, t.real);
	return tc_tunnel(skb, &p, &t, cfg);
}

SEC("tc")
int xlvs_tc(struct __sk_buff *skb)
{
	__u32 zero = 0, mark = skb->mark;
	struct xlvs_config *cfg;
	struct xlvs_hc_target *h;

	/* Most packets: no mark at all (xlvsd's marks are never 0). */
	if (!mark)
		return TC_NEXT;
	cfg = bpf_map_lookup_elem(&xlvs_config, &zero);
	if (!cfg || !cfg->hc_mark_mask || (mark & cfg->hc_mark_mask) != cfg->hc_mark_value)
		return TC_NEXT;
	h = bpf_map_lookup_elem(&xlvs_hc_marks, &mark);
	if (!h) {
		count_event(XLVS_EV_HC_MARK_STALE);
		return TC_ACT_SHOT;
	}
	return hc_steer(skb, cfg, h);
}

char LICENSE[] SEC("license") = "GPL";
