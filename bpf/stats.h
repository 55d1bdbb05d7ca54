/* SPDX-License-Identifier: GPL-2.0 */
/* Counters: per CPU (per-CPU maps, or a CPU's stripe of a striped array: abi.h), so no packet
 * ever contends on a shared cache line. */
#ifndef XLVS_BPF_STATS_H
#define XLVS_BPF_STATS_H

#include "maps.h"

XLVS_INLINE int drop(enum xlvs_drop_reason reason)
{
	__u32 key = xlvs_stripe_key(bpf_get_smp_processor_id(), XLVS_DROP_SLOTS, reason);
	__u64 *cnt = bpf_map_lookup_elem(&xlvs_drops, &key);

	if (cnt)
		*cnt += 1;
	return XDP_DROP;
}

XLVS_INLINE void count_event(enum xlvs_event ev)
{
	__u32 key = xlvs_stripe_key(bpf_get_smp_processor_id(), XLVS_EV_SLOTS, ev);
	__u64 *cnt = bpf_map_lookup_elem(&xlvs_events, &key);

	if (cnt)
		*cnt += 1;
}

/* Count an event and hand the packet to the kernel. */
XLVS_INLINE int pass(enum xlvs_event ev)
{
	count_event(ev);
	return XDP_PASS;
}

/* Into this CPU's stripe (abi.h): an id past the stride would land in another CPU's. */
XLVS_INLINE void count_traffic(void *map, __u32 stride, __u32 cpu, __u32 id, __u32 bytes, bool new_flow)
{
	__u32 key = xlvs_stripe_key(cpu, stride, id);
	struct xlvs_counters *c;

	if (id >= stride)
		return;
	c = bpf_map_lookup_elem(map, &key);
	if (!c)
		return;
	c->packets += 1;
	c->bytes += bytes;
	c->new_flows += new_flow;
}

XLVS_INLINE void count_forwarded(__u32 svc_id, __u32 real_id, __u32 bytes, bool new_flow)
{
	__u32 cpu = bpf_get_smp_processor_id();

	count_traffic(&xlvs_svc_stats, XLVS_SVC_STATS_STRIDE, cpu, svc_id, bytes, new_flow);
	count_traffic(&xlvs_real_stats, XLVS_REAL_STATS_STRIDE, cpu, real_id, bytes, new_flow);
}

/* A translated NAT reply (or ICMP error on the reply's way): its real's and service's out counters. */
XLVS_INLINE void count_reply(__u32 svc_id, __u32 real_id, __u32 bytes)
{
	__u32 cpu = bpf_get_smp_processor_id();

	count_traffic(&xlvs_svc_out, XLVS_SVC_STATS_STRIDE, cpu, svc_id, bytes, false);
	count_traffic(&xlvs_real_out, XLVS_REAL_STATS_STRIDE, cpu, real_id, bytes, false);
}

#endif /* XLVS_BPF_STATS_H */
