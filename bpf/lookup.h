/* SPDX-License-Identifier: GPL-2.0 */
/* Stage 2, lookup: the virtual service of a flow, the VIP of an address, a real by id. */
#ifndef XLVS_BPF_LOOKUP_H
#define XLVS_BPF_LOOKUP_H

#include "stats.h"

/* The (VIP, port, protocol, family) of a flow, as xlvs_services and the service cache key it. */
XLVS_INLINE struct xlvs_svc_key service_key(const struct xlvs_flow *f)
{
	struct xlvs_svc_key key = {
		.addr = { f->dst[0], f->dst[1], f->dst[2], f->dst[3] },
		.port = f->dport,
		.proto = f->proto,
		.family = f->family,
	};

	return key;
}

/* Exact (VIP, protocol, port) first, then the VIP's port-0 "all ports" service. */
XLVS_INLINE struct xlvs_service *service_lookup(const struct xlvs_flow *f)
{
	struct xlvs_svc_key key = service_key(f);
	struct xlvs_service *svc = bpf_map_lookup_elem(&xlvs_services, &key);

	if (svc || !key.port)
		return svc;
	key.port = 0;
	return bpf_map_lookup_elem(&xlvs_services, &key);
}

/* May the destination be a VIP? No means certainly not (see xlvs_vip_filter). */
XLVS_INLINE bool vip_filter_match(const struct xlvs_flow *f)
{
	__u32 bit = xlvs_addr_hash(f->dst, f->family) % XLVS_VIP_FILTER_BITS;
	__u32 word = bit / XLVS_VIP_FILTER_WORD_BITS;
	__u64 *w = bpf_map_lookup_elem(&xlvs_vip_filter, &word);

	return w && (*w & (1ull << (bit % XLVS_VIP_FILTER_WORD_BITS)));
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xlvs_svc_cached);
	__uint(max_entries, XLVS_SVC_CACHE_SLOTS); /* striped (abi.h): a stripe per CPU */
	__uint(pinning, LIBBPF_PIN_BY_NAME);	/* as every map, for bpftool; its copies carry svc_gen */
} xlvs_svc_cache SEC(".maps");

XLVS_INLINE bool svc_key_eq(const struct xlvs_svc_key *a, const struct xlvs_svc_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	_Static_assert(sizeof(*a) == 5 * sizeof(__u32), "five words");
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/*
 * The flow's service through this CPU's cache (abi.h struct xlvs_svc_cached):
 * a hit costs one line of this CPU's stripe and a compare, not a hash lookup. The
 * generation is read before the lookup, so a copy made while xlvsd changes
 * the service carries the old generation and is dropped at the next packet.
 * The VIP filter is asked only on a miss: a hit proves the VIP, and a
 * service's packets skip the filter's line (docs/bench.md).
 */
XLVS_INLINE struct xlvs_service *service_find(const struct xlvs_flow *f, const struct xlvs_config *cfg)
{
	struct xlvs_svc_key key = service_key(f);
	__u32 slot = xlvs_svc_cache_slot(&key);
	__u32 idx = xlvs_stripe_key(bpf_get_smp_processor_id(), XLVS_SVC_CACHE_SLOTS, slot);
	struct xlvs_svc_cached *c = bpf_map_lookup_elem(&xlvs_svc_cache, &idx);
	__u32 gen = cfg->svc_gen;
	struct xlvs_service *svc;

	if (!c)
		return vip_filter_match(f) ? service_lookup(f) : NULL;
	/* a copy never filled has family 0, which no flow has: its key matches none */
	if (c->gen == gen && c->uses < XLVS_SVC_CACHE_USES && svc_key_eq(&c->key, &key)) {
		c->uses++;
		return &c->svc;
	}
	if (!vip_filter_match(f))
		return NULL;
	svc = service_lookup(f);
	if (!svc)
		return svc;
	c->key = key;
	c->gen = gen;
	c->uses = 1;
	c->svc = *svc;
	return &c->svc;
}

XLVS_INLINE struct xlvs_vip *vip_lookup(const struct xlvs_flow *f)
{
	struct xlvs_vip_key key = {
		.addr = { f->dst[0], f->dst[1], f->dst[2], f->dst[3] },
		.family = f->family,
	};

	return bpf_map_lookup_elem(&xlvs_vips, &key);
}

/* The real a connection entry was made for, if it still serves: same id and generation, active. */
XLVS_INLINE struct xlvs_real *conn_real_lookup(__u32 id, __u32 gen)
{
	struct xlvs_real *r = bpf_map_lookup_elem(&xlvs_reals, &id);

	if (!r || !(r->flags & XLVS_REAL_F_ACTIVE) || r->gen != gen)
		return NULL;
	return r;
}

/*
 * Ring slot `slot` (abi.h xlvs_ring: a block, then its lane). Past the map (a
 * slice the planner never makes): XLVS_REAL_NONE, an empty slot, which no
 * packet can be sent to. A value, not a flag and an out-parameter: one branch
 * fewer in each inlined copy for the verifier to walk (tests/unit/test_verifier.c).
 */
XLVS_INLINE __u32 ring_slot(__u32 slot)
{
	__u32 block = slot / XLVS_RING_BLOCK;
	struct xlvs_ring_block *b = bpf_map_lookup_elem(&xlvs_ring, &block);

	return b ? b->slot[slot % XLVS_RING_BLOCK] : XLVS_REAL_NONE;
}

/* A real usable for a service: in use and still owned by it (ids may be recycled). */
XLVS_INLINE struct xlvs_real *real_lookup(__u32 id, __u32 svc_id)
{
	struct xlvs_real *r = bpf_map_lookup_elem(&xlvs_reals, &id);

	if (!r || !(r->flags & XLVS_REAL_F_ACTIVE) || r->svc_id != svc_id)
		return NULL;
	return r;
}

#endif /* XLVS_BPF_LOOKUP_H */
