/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stage 4, schedule: pick a real for a new flow (established flows never get
 * here: conntrack.h). Every scheduler reads its service's slice of xlvs_ring,
 * a table the daemon builds (maps/schedtab.c) whenever the reals or weights change:
 *   maglev   Maglev ring by the flow hash (the 5-tuple)
 *   mh       Maglev ring by the source address (+ port with mh-port)
 *   sh, dh   IPVS's weighted buckets by the source / destination address
 *   rr, wrr  IPVS's sequence, walked by a per-CPU cursor
 *   lc, wlc, sed, nq  the service's reals in order, weighed by their
 *            connection counts (load.h)
 *   lblc, lblcr  the same list, for wlc when the destination's real (or set)
 *            cannot take the flow (lblc.h)
 * A scheduler value the daemon never writes is a counted drop (sched_unsupported).
 */
#ifndef XLVS_BPF_SCHED_H
#define XLVS_BPF_SCHED_H

#include "lblc.h"

/*
 * rr/wrr position per service and CPU. Per-CPU, not one shared counter: no
 * atomic read-modify-write (the object is built for BPF ISA v1-v2, which has
 * none that returns the old value) and no cache line bouncing between CPUs.
 * Each CPU walks the exact IPVS sequence for its own new flows, starting at
 * its CPU number so CPUs do not all begin on the first real; the mix of all
 * CPUs keeps the weights' proportions but not IPVS's global order.
 * Pinned by name like every map, so a reload keeps the walk where it was.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, XLVS_MAX_SERVICES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_sched_cursor SEC(".maps");

/*
 * The real at hash in a slice of ring_size slots from ring_base, the slot found
 * as cfg_flags say (hash.h xlvs_maglev_index(): without XLVS_CFG_F_HASH_MIX64,
 * hash % ring_size); none in an empty slice, before any index is computed.
 */
XLVS_INLINE __u32 slice_at(__u32 ring_base, __u32 ring_size, __u32 cfg_flags, __u32 hash)
{
	if (!ring_size)
		return XLVS_REAL_NONE;
	return xlvs_slot_real(ring_slot(ring_base + xlvs_maglev_index(cfg_flags, hash, ring_size)));
}

/*
 * The tables' slot: hash % ring_size. A global function (its arguments any
 * scalars): the verifier checks it once, not in each of the 33 places the
 * schedulers read a table (hash_pick()'s tries).
 */
__attribute__((noinline)) __u32 ring_at(__u32 ring_base, __u32 ring_size, __u32 hash)
{
	return slice_at(ring_base, ring_size, 0, hash);
}

XLVS_INLINE __u32 table_at(const struct xlvs_service *svc, __u32 hash)
{
	return ring_at(svc->ring_base, svc->ring_size, hash);
}

/* maglev: the flow hash's slot, found as the state's flags say. */
XLVS_INLINE __u32 maglev_at(const struct xlvs_service *svc, __u32 cfg_flags, __u32 hash)
{
	return slice_at(svc->ring_base, svc->ring_size, cfg_flags, hash);
}

/* Weight 0 takes no new connections, whatever the scheduler (IPVS is_unavailable()). */
XLVS_INLINE bool real_takes_new(__u32 real_id, __u32 svc_id)
{
	struct xlvs_real *r = real_lookup(real_id, svc_id);

	return r && r->weight;
}

/*
 * sh, dh, mh. Without the fallback flag a bucket whose real has weight 0 gives
 * no real (IPVS ip_vs_sh_get()/ip_vs_mh_get()); with it, the next tries hash
 * the same key with offsets 1, 2, ... and an empty bucket ends the search
 * (ip_vs_sh_get_fallback()), here after XLVS_SCHED_FALLBACK_TRIES tries, not
 * IPVS's whole table, to keep the verifier's work bounded.
 */
/* One try: true when it decides (*real_id a real that takes new flows, or none: an empty bucket). */
XLVS_INLINE bool bucket_try(const struct xlvs_service *svc, const __be32 *addr, __u8 family, __be16 port,
			    __u32 offset, __u32 *real_id)
{
	*real_id = table_at(svc, xlvs_sched_hash(addr, family, port, offset));
	return *real_id == XLVS_REAL_NONE || real_takes_new(*real_id, svc->id);
}

/*
 * Written out, not a loop: Debian 6.1's verifier refused the loop's back-edge
 * ("back-edge from insn"), and clang did not unroll it. 16 tries.
 */
#define BUCKET_TRY(i)                                                          \
	if ((i) < tries && bucket_try(svc, addr, family, port, (i), &real_id)) \
		return real_id;
#define BUCKET_TRY4(i) BUCKET_TRY(i) BUCKET_TRY((i) + 1) BUCKET_TRY((i) + 2) BUCKET_TRY((i) + 3)

XLVS_INLINE __u32 hash_pick(const struct xlvs_service *svc, const __be32 *addr, __u8 family, __be16 port)
{
	__u32 tries = svc->flags & XLVS_SVC_F_SCHED_FALLBACK ? XLVS_SCHED_FALLBACK_TRIES : 1;
	__u32 real_id;

	_Static_assert(XLVS_SCHED_FALLBACK_TRIES == 16, "BUCKET_TRY4 x 4 below");
	BUCKET_TRY4(0) BUCKET_TRY4(4) BUCKET_TRY4(8) BUCKET_TRY4(12)
	return XLVS_REAL_NONE;
}

/* sh and mh hash the client's address, and its port with sh-port/mh-port. */
XLVS_INLINE __u32 source_pick(const struct xlvs_service *svc, const struct xlvs_flow *f)
{
	__be16 port = svc->flags & XLVS_SVC_F_SCHED_PORT ? f->sport : 0;

	return hash_pick(svc, f->src, f->family, port);
}

/* rr, wrr: the sequence's next entry for this CPU (its weight-0 reals are not in it). */
XLVS_INLINE __u32 seq_pick(const struct xlvs_service *svc)
{
	__u32 key = svc->id;
	__u64 *cursor = bpf_map_lookup_elem(&xlvs_sched_cursor, &key);
	__u64 pos;

	if (!cursor || !svc->sched_len)
		return XLVS_REAL_NONE;
	pos = (*cursor)++ + bpf_get_smp_processor_id();
	return table_at(svc, (__u32)(pos % svc->sched_len));
}

/*
 * Whether the scheduler is a function of the flow and the tables alone: a
 * flow's later packets get the same real without an entry (the SYN guard may
 * skip inserting). rr, wrr and the counting schedulers need the entry.
 */
XLVS_INLINE bool sched_is_stateless(__u8 sched)
{
	return sched == XLVS_SCHED_MAGLEV || sched == XLVS_SCHED_MH || sched == XLVS_SCHED_SH ||
	       sched == XLVS_SCHED_DH;
}

/* Returns XLVS_CONT with *real_id set, or a drop verdict. */
XLVS_INLINE int schedule(const struct xlvs_service *svc, const struct xlvs_config *cfg, const struct xlvs_flow *f,
			 __u32 hash, __u32 *real_id)
{
	switch (svc->sched) {
	case XLVS_SCHED_MAGLEV:
		*real_id = maglev_at(svc, cfg->flags, hash);
		break;
	case XLVS_SCHED_SH:
	case XLVS_SCHED_MH:
		*real_id = source_pick(svc, f);
		break;
	case XLVS_SCHED_DH:
		*real_id = hash_pick(svc, f->dst, f->family, 0);
		break;
	case XLVS_SCHED_RR:
	case XLVS_SCHED_WRR:
		*real_id = seq_pick(svc);
		break;
	case XLVS_SCHED_LC:
	case XLVS_SCHED_WLC:
	case XLVS_SCHED_SED:
	case XLVS_SCHED_NQ:
		*real_id = least_pick(svc);
		break;
	case XLVS_SCHED_LBLC:
	case XLVS_SCHED_LBLCR:
		*real_id = locality_pick(svc, f);
		break;
	default:
		return drop(XLVS_DROP_SCHED_UNSUPPORTED);
	}
	if (*real_id == XLVS_REAL_NONE)
		return drop(XLVS_DROP_NO_REAL);
	return XLVS_CONT;
}

#endif /* XLVS_BPF_SCHED_H */
