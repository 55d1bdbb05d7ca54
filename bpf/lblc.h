/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lblc and lblcr, locality-based least-connection (IPVS ip_vs_lblc.c,
 * ip_vs_lblcr.c): a destination address keeps its real (lblc) or a set of
 * reals (lblcr) while they serve and are not overloaded, so a cache behind
 * the director sees the same destinations again. A new destination, or one
 * whose real cannot take it, is scheduled by wlc over the whole service.
 * Counts come from xlvs_real_load (load.h); an assignment idle longer than
 * the service's sched_expire is treated as absent (IPVS deletes it in its
 * periodic full check instead); the LRU evicts assignments when the table is
 * full, there is no sweep. All flows of an xlvs service share one
 * destination, the VIP: the table holds one assignment per service.
 */
#ifndef XLVS_BPF_LBLC_H
#define XLVS_BPF_LBLC_H

#include "load.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlvs_svc_addr_key);
	__type(value, struct xlvs_lblc_dest);
	__uint(max_entries, XLVS_LBLC_MAX_DESTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_lblc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xlvs_svc_addr_key);
	__type(value, struct xlvs_lblcr_set);
	__uint(max_entries, XLVS_LBLC_MAX_DESTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlvs_lblcr SEC(".maps");

XLVS_INLINE __u64 pack2(__u32 hi, __u32 lo)
{
	return (__u64)hi << 32 | lo;
}

/* The global functions below take five scalars at most: the key travels packed. */
XLVS_INLINE struct xlvs_svc_addr_key locality_key(__u64 a01, __u64 a23, __u64 fam_svc)
{
	return (struct xlvs_svc_addr_key){
		.addr = { (__be32)(a01 >> 32), (__be32)a01, (__be32)(a23 >> 32), (__be32)a23 },
		.svc_id = (__u32)fam_svc,
		.family = (__u8)(fam_svc >> 32),
	};
}

/* sched_expire in jiffies (0: IPVS's 24 h); 0 when xlvsd has not set hz: never expires. */
XLVS_INLINE __u64 expire_jiffies(__u32 expire_s)
{
	__u32 zero = 0;
	struct xlvs_config *cfg = bpf_map_lookup_elem(&xlvs_config, &zero);

	if (!cfg)
		return 0;
	return (__u64)(expire_s ? expire_s : XLVS_SCHED_EXPIRE_DEFAULT) * cfg->hz;
}

XLVS_INLINE bool idle_past(__u32 last, __u32 now, __u64 ttl)
{
	return ttl && (__u32)(now - last) > ttl;
}

/* The real id/gen names, if it still serves svc_id with a weight: its wlc overhead and weight. */
XLVS_INLINE bool member_weigh(__u32 real_id, __u32 gen, __u32 svc_id, __u64 *oh, __u64 *w)
{
	struct xlvs_real *r = conn_real_lookup(real_id, gen);
	struct xlvs_real_load *l;

	if (!r || r->svc_id != svc_id || !r->weight)
		return false;
	l = bpf_map_lookup_elem(&xlvs_real_load, &real_id);
	if (!l)
		return false;
	*oh = load_overhead(XLVS_SCHED_WLC, l);
	*w = r->weight;
	return true;
}

/*
 * Whether some real of the service runs below half its weight (active * 2 <
 * weight): the second half of IPVS's is_overloaded(), a walk over the whole
 * service, bounded as least_scan.
 */
__attribute__((noinline)) int lblc_some_real_idle(__u32 base, __u32 len, __u32 svc_id)
{
	struct xlvs_real_load *l;
	struct xlvs_real *r;
	__u32 i, real_id;
	__s64 act;

	for (i = 0; i < LEAST_SCAN_MAX && i < len; i++) {
		real_id = ring_slot(base + i); /* XLVS_REAL_NONE: no real, skipped */
		r = real_lookup(real_id, svc_id);
		l = bpf_map_lookup_elem(&xlvs_real_load, &real_id);
		if (!r || !l)
			continue;
		act = l->active > 0 ? l->active : 0;
		if (act * 2 < r->weight)
			return 1;
	}
	return 0;
}

/*
 * IPVS is_overloaded() (lblc and lblcr alike): the real has more active
 * connections than its weight while another real of the service runs below
 * half its weight. The walk happens only when the first half holds.
 */
XLVS_INLINE bool overloaded(__u32 real_id, __u32 svc_id, __u64 slice)
{
	struct xlvs_real *r = real_lookup(real_id, svc_id);
	struct xlvs_real_load *l = bpf_map_lookup_elem(&xlvs_real_load, &real_id);

	if (!r || !l || l->active <= 0 || (__u32)l->active <= r->weight)
		return false;
	return lblc_some_real_idle((__u32)(slice >> 32), (__u32)slice, svc_id);
}

XLVS_INLINE __u32 wlc_pick(__u64 slice, __u32 svc_id)
{
	return least_scan((__u32)(slice >> 32), (__u32)slice, svc_id, XLVS_SCHED_WLC);
}

/*
 * lblc (IPVS ip_vs_lblc_schedule()): the destination's real if it serves with
 * a weight and is not overloaded, its use time refreshed; else wlc's pick,
 * which becomes the destination's real.
 */
__attribute__((noinline)) __u32 lblc_pick(__u64 a01, __u64 a23, __u64 fam_svc, __u64 slice, __u32 expire_s)
{
	struct xlvs_svc_addr_key key = locality_key(a01, a23, fam_svc);
	struct xlvs_lblc_dest *e = bpf_map_lookup_elem(&xlvs_lblc, &key), d = {};
	__u32 now = bpf_jiffies64(), svc_id = key.svc_id;
	struct xlvs_real *r;
	__u64 oh, w;

	if (e && !idle_past(e->last_used, now, expire_jiffies(expire_s)) &&
	    member_weigh(e->real_id, e->real_gen, svc_id, &oh, &w) && !overloaded(e->real_id, svc_id, slice)) {
		e->last_used = now;
		return e->real_id;
	}
	d.real_id = wlc_pick(slice, svc_id);
	r = real_lookup(d.real_id, svc_id);
	if (!r)
		return XLVS_REAL_NONE;
	d.real_gen = r->gen;
	d.last_used = now;
	bpf_map_update_elem(&xlvs_lblc, &key, &d, BPF_ANY);
	return d.real_id;
}

/*
 * The member wlc weighs least (most: most loaded), among those that serve
 * with a weight (IPVS ip_vs_dest_set_min()/_max()); the first wins ties.
 * XLVS_LBLCR_SET_MAX: none.
 */
XLVS_INLINE __u32 set_extreme(const struct xlvs_lblcr_set *s, __u32 svc_id, bool most)
{
	__u64 oh, w, best_oh = 0, best_w = 0;
	__u32 i, best = XLVS_LBLCR_SET_MAX;
	bool better;

	for (i = 0; i < XLVS_LBLCR_SET_MAX && i < s->n; i++) {
		if (!member_weigh(s->m[i].real_id, s->m[i].real_gen, svc_id, &oh, &w))
			continue;
		better = most ? oh * best_w > best_oh * w : best_oh * w > oh * best_w;
		if (best == XLVS_LBLCR_SET_MAX || better) {
			best = i;
			best_oh = oh;
			best_w = w;
		}
	}
	return best;
}

/*
 * A set index the verifier can bound: checked by the caller, masked here, and
 * the barrier keeps clang from dropping the mask as redundant (it bounded one
 * copy of the index and indexed with another).
 */
XLVS_INLINE __u32 set_idx(__u32 i)
{
	barrier_var(i);
	return i & (XLVS_LBLCR_SET_MAX - 1);
}
_Static_assert((XLVS_LBLCR_SET_MAX & (XLVS_LBLCR_SET_MAX - 1)) == 0, "set_idx() masks");

XLVS_INLINE void set_remove(struct xlvs_lblcr_set *s, __u32 i)
{
	__u32 n = s->n;

	if (!n || n > XLVS_LBLCR_SET_MAX || i >= n)
		return;
	s->m[set_idx(i)] = s->m[set_idx(n - 1)];
	s->n = n - 1;
}

/*
 * Add a real to the set unless it is a member (IPVS ip_vs_dest_set_insert()
 * then changes nothing, not even the modification time). It takes the slot
 * of a member that no longer serves with a weight, else a new one; a full
 * set (IPVS's has no bound) replaces its most loaded member.
 */
XLVS_INLINE void set_add(struct xlvs_lblcr_set *s, __u32 real_id, __u32 gen, __u32 svc_id, __u32 now)
{
	__u32 i, slot = XLVS_LBLCR_SET_MAX;
	__u64 oh, w;

	for (i = 0; i < XLVS_LBLCR_SET_MAX && i < s->n; i++) {
		if (s->m[i].real_id == real_id && s->m[i].real_gen == gen)
			return;
		if (slot == XLVS_LBLCR_SET_MAX && !member_weigh(s->m[i].real_id, s->m[i].real_gen, svc_id, &oh, &w))
			slot = i;
	}
	if (slot == XLVS_LBLCR_SET_MAX)
		slot = s->n < XLVS_LBLCR_SET_MAX ? s->n : set_extreme(s, svc_id, true);
	if (slot >= XLVS_LBLCR_SET_MAX)
		return;
	s->m[set_idx(slot)].real_id = real_id;
	s->m[set_idx(slot)].real_gen = gen;
	if (slot >= s->n)
		s->n = slot + 1;
	s->last_modified = now;
}

/* A destination's new set: the one real wlc picked (id and generation packed). */
__attribute__((noinline)) int lblcr_start(__u64 a01, __u64 a23, __u64 fam_svc, __u64 id_gen)
{
	struct xlvs_svc_addr_key key = locality_key(a01, a23, fam_svc);
	struct xlvs_lblcr_set s = { .n = 1 };

	s.m[0].real_id = (__u32)(id_gen >> 32);
	s.m[0].real_gen = (__u32)id_gen;
	s.last_used = s.last_modified = bpf_jiffies64();
	return bpf_map_update_elem(&xlvs_lblcr, &key, &s, BPF_ANY);
}

/*
 * lblcr (IPVS ip_vs_lblcr_schedule()): the set's least loaded member; when a
 * set of several was not modified for sched_expire its most loaded member
 * leaves it; when no member serves, or the least loaded is overloaded, wlc
 * picks over the service and its pick joins the set. Sets change in place:
 * CPUs racing on one set may lose one change, never name a wrong real (a
 * torn member fails its generation check and counts as not serving).
 * Returns the real, with LBLCR_START set when the destination has no set
 * yet: locality_pick() creates it (here it would take the stack past 512 B).
 */
#define LBLCR_START (1ull << 32)

__attribute__((noinline)) __u64 lblcr_pick(__u64 a01, __u64 a23, __u64 fam_svc, __u64 slice, __u32 expire_s)
{
	struct xlvs_svc_addr_key key = locality_key(a01, a23, fam_svc);
	struct xlvs_lblcr_set *s = bpf_map_lookup_elem(&xlvs_lblcr, &key);
	__u32 now = bpf_jiffies64(), svc_id = key.svc_id, i, pick = XLVS_REAL_NONE;
	__u64 ttl = expire_jiffies(expire_s);
	bool live = s && !idle_past(s->last_used, now, ttl);
	struct xlvs_real *r;

	if (live) {
		s->last_used = now;
		i = set_extreme(s, svc_id, false);
		if (i < XLVS_LBLCR_SET_MAX)
			pick = s->m[set_idx(i)].real_id;
		if (s->n > 1 && idle_past(s->last_modified, now, ttl)) {
			set_remove(s, set_extreme(s, svc_id, true));
			s->last_modified = now;
		}
		if (pick != XLVS_REAL_NONE && !overloaded(pick, svc_id, slice))
			return pick;
	}
	pick = wlc_pick(slice, svc_id);
	r = real_lookup(pick, svc_id);
	if (!r)
		return XLVS_REAL_NONE;
	if (!live)
		return LBLCR_START | pick;
	set_add(s, pick, r->gen, svc_id, now);
	return pick;
}

/* lblc, lblcr: the flow's destination address within the service. */
XLVS_INLINE __u32 locality_pick(const struct xlvs_service *svc, const struct xlvs_flow *f)
{
	__u64 a01 = pack2(f->dst[0], f->dst[1]), a23 = pack2(f->dst[2], f->dst[3]);
	__u64 fam_svc = pack2(f->family, svc->id), slice = pack2(svc->ring_base, svc->sched_len);

	struct xlvs_real *r;
	__u64 got;

	if (svc->sched == XLVS_SCHED_LBLC)
		return lblc_pick(a01, a23, fam_svc, slice, svc->sched_expire);
	got = lblcr_pick(a01, a23, fam_svc, slice, svc->sched_expire);
	if (got & LBLCR_START) {
		r = real_lookup((__u32)got, svc->id);
		if (r)
			lblcr_start(a01, a23, fam_svc, pack2((__u32)got, r->gen));
	}
	return (__u32)got;
}

#endif /* XLVS_BPF_LBLC_H */
