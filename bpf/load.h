/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-real connection counts (abi.h struct xlvs_real_load) and the schedulers
 * that weigh them: lc, wlc, sed, nq. Counts are kept only for reals flagged
 * XLVS_REAL_F_COUNTED, so services on other schedulers pay nothing; an entry
 * counts as active when it is TCP in OPEN, inactive otherwise, as ipvsadm's
 * ActiveConn/InActConn.
 */
#ifndef XLVS_BPF_LOAD_H
#define XLVS_BPF_LOAD_H

#include "lookup.h"

/*
 * Reals a least-connection scan visits: the whole service, as IPVS, up to
 * this bound (the verifier walks every iteration; xlvsd refuses a counted
 * service with more reals: maps/plan.c).
 */
#define LEAST_SCAN_MAX XLVS_LEAST_MAX_REALS

XLVS_INLINE bool conn_class_active(__u8 proto, __u8 state)
{
	return proto == IPPROTO_TCP && state == XLVS_CONN_OPEN;
}

/* Atomic add (BPF_XADD: its result unused, so ISA v1 has it): every CPU updates one count. */
XLVS_INLINE void load_add(const struct xlvs_real *r, __u32 real_id, bool active, int delta)
{
	struct xlvs_real_load *l;

	if (!(r->flags & XLVS_REAL_F_COUNTED))
		return;
	l = bpf_map_lookup_elem(&xlvs_real_load, &real_id);
	if (!l)
		return;
	if (active)
		__sync_fetch_and_add(&l->active, delta);
	else
		__sync_fetch_and_add(&l->inactive, delta);
}

/* One unit moves between the classes when an entry's state changes class. */
XLVS_INLINE void load_move(const struct xlvs_real *r, __u32 real_id, __u8 proto, __u8 from, __u8 to)
{
	bool was = conn_class_active(proto, from), now = conn_class_active(proto, to);

	if (was == now)
		return;
	load_add(r, real_id, was, -1);
	load_add(r, real_id, now, 1);
}

/*
 * IPVS's overheads (ip_vs_lc.c, ip_vs_wlc.c: ip_vs_dest_conn_overhead(),
 * active * 256 + inactive; ip_vs_sed.c, ip_vs_nq.c: active + 1). lc takes the
 * least overhead; wlc, sed and nq the least overhead per weight, compared as
 * oh1 * w2 > oh2 * w1; nq takes any real with no active connection at once.
 * The first real in the service's order wins ties, as IPVS's list walk does.
 */
struct least_scan {
	__u32 svc_id;
	__u8 sched;
	__u32 best;	/* XLVS_REAL_NONE until a real qualifies */
	__u64 best_oh;
	__u64 best_w;
};

XLVS_INLINE __u64 load_overhead(__u8 sched, const struct xlvs_real_load *l)
{
	__u64 act = l->active > 0 ? l->active : 0, inact = l->inactive > 0 ? l->inactive : 0;

	if (sched == XLVS_SCHED_LC || sched == XLVS_SCHED_WLC)
		return act * 256 + inact;
	return act + 1;
}

/* Visit one real; true once nq found an idle one (the scan stops there). */
XLVS_INLINE bool least_visit(struct least_scan *s, __u32 real_id)
{
	struct xlvs_real *r = real_lookup(real_id, s->svc_id);
	struct xlvs_real_load *l;
	bool better;
	__u64 oh;

	if (!r || !r->weight)
		return false;
	l = bpf_map_lookup_elem(&xlvs_real_load, &real_id);
	if (!l)
		return false;
	oh = load_overhead(s->sched, l);
	if (s->sched == XLVS_SCHED_NQ && l->active <= 0) {
		s->best = real_id;
		return true;
	}
	if (s->best == XLVS_REAL_NONE)
		better = true;
	else if (s->sched == XLVS_SCHED_LC)
		better = oh < s->best_oh;
	else
		better = s->best_oh * r->weight > oh * s->best_w;
	if (better) {
		s->best = real_id;
		s->best_oh = oh;
		s->best_w = r->weight;
	}
	return false;
}

/*
 * A global function: the verifier checks it once on its own (its arguments are
 * any scalars), not once per path into it, which the loop would multiply past
 * the verifier's limit.
 */
__attribute__((noinline)) __u32 least_scan(__u32 base, __u32 len, __u32 svc_id, __u32 sched)
{
	struct least_scan s = { .svc_id = svc_id, .sched = sched, .best = XLVS_REAL_NONE };
	__u32 i, real_id;

	for (i = 0; i < LEAST_SCAN_MAX && i < len; i++) {
		real_id = ring_slot(base + i); /* XLVS_REAL_NONE: no real, skipped */
		if (least_visit(&s, real_id))
			break;
	}
	return s.best;
}

XLVS_INLINE __u32 least_pick(const struct xlvs_service *svc)
{
	return least_scan(svc->ring_base, svc->sched_len, svc->id, svc->sched);
}

#endif /* XLVS_BPF_LOAD_H */
