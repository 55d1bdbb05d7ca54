/* SPDX-License-Identifier: GPL-2.0 */
/* Stage 2, lookup: the virtual service of a flow, the VIP of an address, a real by id. */
#ifndef XLVS_BPF_LOOKUP_H
#define XLVS_BPF_LOOKUP_H

#include "stats.h"

/* Exact (VIP, protocol, port) first, then the VIP's port-0 "all ports" service. */
XLVS_INLINE struct xlvs_service *service_lookup(const struct xlvs_flow *f)
{
	struct xlvs_svc_key key = {
		.addr = { f->dst[0], f->dst[1], f->dst[2], f->dst[3] },
		.port = f->dport,
		.proto = f->proto,
		.family = f->family,
	};
	struct xlvs_service *svc = bpf_map_lookup_elem(&xlvs_services, &key);

	if (svc || !key.port)
		return svc;
	key.port = 0;
	return bpf_map_lookup_elem(&xlvs_services, &key);
}

XLVS_INLINE struct xlvs_vip *vip_lookup(const struct xlvs_flow *f)
{
	struct xlvs_vip_key key = {
		.addr = { f->dst[0], f->dst[1], f->dst[2], f->dst[3] },
		.family = f->family,
	};

	return bpf_map_lookup_elem(&xlvs_vips, &key);
}

/* May the destination be a VIP? No means certainly not (see xlvs_vip_filter). */
XLVS_INLINE bool vip_filter_match(const struct xlvs_flow *f)
{
	__u32 bit = xlvs_addr_hash(f->dst, f->family) % XLVS_VIP_FILTER_BITS;
	__u32 word = bit / XLVS_VIP_FILTER_WORD_BITS;
	__u64 *w = bpf_map_lookup_elem(&xlvs_vip_filter, &word);

	return w && (*w & (1ull << (bit % XLVS_VIP_FILTER_WORD_BITS)));
}

/* A real usable for a service: in use and still owned by it (ids may be recycled). */
/* The real a connection entry was made for, if it still serves: same id and generation, active. */
XLVS_INLINE struct xlvs_real *conn_real_lookup(__u32 id, __u32 gen)
{
	struct xlvs_real *r = bpf_map_lookup_elem(&xlvs_reals, &id);

	if (!r || !(r->flags & XLVS_REAL_F_ACTIVE) || r->gen != gen)
		return NULL;
	return r;
}

XLVS_INLINE struct xlvs_real *real_lookup(__u32 id, __u32 svc_id)
{
	struct xlvs_real *r = bpf_map_lookup_elem(&xlvs_reals, &id);

	if (!r || !(r->flags & XLVS_REAL_F_ACTIVE) || r->svc_id != svc_id)
		return NULL;
	return r;
}

#endif /* XLVS_BPF_LOOKUP_H */
