// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs director: the XDP program that load-balances traffic to virtual services.
 *
 *   parse.h      Ethernet/VLAN, IPv4/IPv6 (+ext headers), TCP/UDP/ICMP
 *   lookup.h     virtual service (exact port, then port 0), VIP, real
 *   conntrack.h  established flows, SYN-flood guard
 *   ring.h       ring-state services: per-flow state only on changed slots
 *   sched.h      Maglev ring
 *   persist.h    persistence templates (ipvsadm -p/-M)
 *   nat.h        VS-NAT and FULLNAT: reply entries, pool sources, rewrites
 *   forward.h    DR, IPIP/IP6IP6/4in6/6in4, GUE, NAT; next hop; NAT replies
 *   icmp.h       echo replies, frag-needed / packet too big
 *   stats.h      per-CPU counters, drop reasons, events
 */
#include "parse.h"
#include "forward.h"
#include "ring.h"

/* Fragments carry no ports after the first: policy, not balancing (docs/architecture.md). */
XLVS_INLINE int handle_fragment(const struct pkt *p, const struct xlvs_config *cfg)
{
	if (!vip_lookup(&p->flow))
		return pass(XLVS_EV_PASS_NO_SERVICE);
	if (cfg->flags & XLVS_CFG_F_FRAG_DROP)
		return drop(XLVS_DROP_FRAGMENT);
	return pass(XLVS_EV_PASS_FRAGMENT);
}

/* ICMP that is not an error about a VIP flow: echo to a VIP, or the kernel's business. */
XLVS_INLINE int handle_icmp_local(struct xdp_md *ctx, const struct pkt *p)
{
	bool echo = p->flow.family == XLVS_AF_INET ? p->icmp_type == ICMP_ECHO
						   : p->icmp_type == ICMPV6_ECHO_REQUEST;
	struct xlvs_vip *vip;

	if (!echo)
		return pass(XLVS_EV_PASS_NO_SERVICE);
	vip = vip_lookup(&p->flow);
	if (!vip || !(vip->flags & XLVS_VIP_F_ECHO))
		return pass(XLVS_EV_PASS_NO_SERVICE);
	return echo_reply(ctx, p);
}

XLVS_INLINE bool is_icmp(const struct pkt *p)
{
	return p->flow.proto == IPPROTO_ICMP || p->flow.proto == IPPROTO_ICMPV6;
}

/* IPv4 options policy, once the packet is known to be a service's. */
XLVS_INLINE int check_options(const struct pkt *p, const struct xlvs_config *cfg)
{
	if (!(p->flags & PKT_F_IP4_OPT))
		return XLVS_CONT;
	if (cfg->flags & XLVS_CFG_F_IP4_OPT_DROP)
		return drop(XLVS_DROP_IP4_OPTIONS);
	count_event(XLVS_EV_IP4_OPTIONS);
	return XLVS_CONT;
}

/*
 * Not to a service: the kernel's, unless nat reals are configured and it is
 * one's reply. The flag keeps every other setup's cost as it was.
 */
XLVS_INLINE int not_a_service(struct xdp_md *ctx, const struct pkt *p, const struct xlvs_config *cfg)
{
	if (cfg->flags & XLVS_CFG_F_NAT)
		return nat_reply(ctx, p, cfg);
	return pass(XLVS_EV_PASS_NO_SERVICE);
}

/*
 * The service first (a small table every flow shares, so it stays in
 * cache), then its flow state: a ring-state service's packet on a stable
 * slot needs no per-flow lookup (ring.h); a table service's established
 * flow is its entry. The VIP filter keeps traffic that is not ours from
 * paying for either: service_find() asks it on a cache miss, and with nat
 * reals before the cache, so replies (as many packets as requests) do not
 * pay for a cache probe.
 */
XLVS_INLINE int balance(struct xdp_md *ctx, const struct pkt *p)
{
	__u32 zero = 0;
	struct xlvs_config *cfg = bpf_map_lookup_elem(&xlvs_config, &zero);
	struct ring_pos pos = {};
	struct xlvs_service *svc;
	struct target t = {};
	int rc;

	if (!cfg)
		return drop(XLVS_DROP_NO_CONFIG);
	if (p->flags & PKT_F_FRAG)
		return handle_fragment(p, cfg);
	if (is_icmp(p))
		return handle_icmp_local(ctx, p);
	if ((cfg->flags & XLVS_CFG_F_NAT) && !vip_filter_match(&p->flow))
		return nat_reply(ctx, p, cfg);
	svc = service_find(&p->flow, cfg);
	if (!svc)
		return not_a_service(ctx, p, cfg);
	rc = check_options(p, cfg);
	if (rc != XLVS_CONT)
		return rc;
	rc = svc->flags & XLVS_SVC_F_RING_STATE ? ring_lookup(p, svc, cfg, &t, &pos) : RING_TABLE;
	if (rc == RING_CHANGED || rc == RING_TABLE)
		rc = flow_select(p, svc, cfg, &t, &pos, rc == RING_CHANGED);
	if (rc == XLVS_CONT && t.new_flow && real_is_nat(t.real))
		rc = nat_new(p, &t, cfg);
	return rc == XLVS_CONT ? forward(ctx, p, &t, cfg) : rc;
}

SEC("xdp")
int xlvs_lb(struct xdp_md *ctx)
{
	struct pkt p = {};
	int rc = parse(ctx, &p);

	if (rc != XLVS_CONT)
		return rc;
	return balance(ctx, &p);
}

char LICENSE[] SEC("license") = "GPL";
