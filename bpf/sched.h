/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stage 4, schedule: pick a real for a new flow. Maglev: the ring (built in
 * userspace by maps/maglev.c) maps hash % ring_size to a real id. The other LVS
 * schedulers are a counted drop (sched_unsupported).
 */
#ifndef XLVS_BPF_SCHED_H
#define XLVS_BPF_SCHED_H

#include "lookup.h"

XLVS_INLINE __u32 maglev_pick(const struct xlvs_service *svc, __u32 hash)
{
	__u32 slot, *real_id;

	if (!svc->ring_size)
		return XLVS_REAL_NONE;
	slot = svc->ring_base + hash % svc->ring_size;
	real_id = bpf_map_lookup_elem(&xlvs_ring, &slot);
	return real_id ? *real_id : XLVS_REAL_NONE;
}

/* Returns XLVS_CONT with *real_id set, or a drop verdict. */
XLVS_INLINE int schedule(const struct xlvs_service *svc, __u32 hash, __u32 *real_id)
{
	switch (svc->sched) {
	case XLVS_SCHED_MAGLEV:
		*real_id = maglev_pick(svc, hash);
		break;
	default:
		return drop(XLVS_DROP_SCHED_UNSUPPORTED);
	}
	if (*real_id == XLVS_REAL_NONE)
		return drop(XLVS_DROP_NO_REAL);
	return XLVS_CONT;
}

#endif /* XLVS_BPF_SCHED_H */
