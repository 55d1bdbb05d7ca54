/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stage 3/4 for ring-state services (XLVS_SVC_F_RING_STATE: maglev and mh,
 * chosen by xlvsd's planner): the ring already names every packet's real, so
 * a flow needs an entry only when its ring slot changed owner after it
 * began. A packet on a stable slot goes to the owner with no connection-table
 * lookup: the service and ring lines are shared by all flows and stay in
 * cache, while per-flow entries do not. On a changed slot (XLVS_SLOT_CHANGED,
 * written by xlvsd with the previous owner in xlvs_ring_prev):
 *   an entry wins;
 *   a packet that starts a flow (a TCP SYN; any packet once the previous
 *   owner is gone or its window has passed) goes to the current owner and
 *   is recorded;
 *   any other packet is a flow that began before the change: it goes to the
 *   previous owner (whatever its weight, so drains stay graceful) and is
 *   recorded. Not TCP, a packet cannot say it is not new: it goes to the
 *   previous owner only while that one takes new flows (docs/operations.md).
 * xlvsd unflags a slot once its window has passed and no entry of it names
 * another real (maps/, the ring sweep). docs/architecture.md, "Ring state".
 */
#ifndef XLVS_BPF_RING_H
#define XLVS_BPF_RING_H

#include "conntrack.h"

/* The owner of a stable slot, if it can take this packet without any state. */
XLVS_INLINE struct xlvs_real *stable_owner(const struct xlvs_service *svc, __u32 owner)
{
	struct xlvs_real *r = real_lookup(owner, svc->id);

	return r && r->weight && !real_is_nat(r) ? r : NULL;
}

XLVS_INLINE bool starts_flow(const struct pkt *p)
{
	return (p->flags & PKT_F_SYN) && !(p->flags & PKT_F_ICMP_ERR);
}

/* The previous owner, if this packet without an entry belongs to it (rules above). */
XLVS_INLINE struct xlvs_real *prev_owner(const struct pkt *p, const struct xlvs_service *svc, __u32 slot,
					 __u32 owner, __u32 *prev_id)
{
	struct xlvs_slot_prev *prev = bpf_map_lookup_elem(&xlvs_ring_prev, &slot);
	struct xlvs_real *r;

	if (!prev || !prev->until || (__s32)(prev->until - (__u32)bpf_jiffies64()) <= 0 ||
	    prev->real_id == owner)
		return NULL;
	r = conn_real_lookup(prev->real_id, prev->real_gen);
	if (!r || r->svc_id != svc->id || real_is_nat(r))
		return NULL;
	if (p->flow.proto == IPPROTO_TCP ? starts_flow(p) : !r->weight)
		return NULL;
	*prev_id = prev->real_id;
	return r;
}

/* ring_lookup()'s outcomes besides XLVS_CONT (t filled: a stable slot's owner) and verdicts. */
#define RING_CHANGED	(-2)	/* a changed slot: flow_select(), changed */
#define RING_TABLE	(-3)	/* owner unusable: flow_select() as a table service */

/* Where a ring-state flow's slot is, and who owns it now. */
struct ring_pos {
	__u32 slot;
	__u32 owner;
};

XLVS_INLINE int ring_lookup(const struct pkt *p, const struct xlvs_service *svc, const struct xlvs_config *cfg,
			    struct target *t, struct ring_pos *pos)
{
	__u32 v;

	if (!svc->ring_size)
		return drop(XLVS_DROP_NO_REAL);
	t->hash = xlvs_flow_hash_cfg(cfg->flags, &p->flow);
	pos->slot = svc->ring_base +
		    xlvs_ring_index(cfg->flags, svc->sched, svc->flags, &p->flow, t->hash, svc->ring_size);
	v = ring_slot(pos->slot);
	pos->owner = xlvs_slot_real(v);
	if (v & XLVS_SLOT_CHANGED)	/* XLVS_REAL_NONE included */
		return RING_CHANGED;
	t->real = stable_owner(svc, pos->owner);
	if (!t->real) {
		/* removed, or at weight 0 while xlvsd rewrites the ring */
		count_event(XLVS_EV_RING_STABLE_SLOW);
		return RING_TABLE;
	}
	t->real_id = pos->owner;
	t->svc_id = svc->id;
	t->new_flow = starts_flow(p);
	return XLVS_CONT;
}

/*
 * The flows that need state: every flow of a table service, and on a
 * changed slot of a ring-state service (changed) the entry, else the
 * previous owner, else the scheduler. The SYN guard never skips a changed
 * slot's insert: without the entry the handshake's next packet would go to
 * the previous owner. One copy of the table path for both, so the program
 * stays within the verifier's jump range.
 */
XLVS_INLINE int flow_select(const struct pkt *p, const struct xlvs_service *svc, const struct xlvs_config *cfg,
			    struct target *t, const struct ring_pos *pos, bool changed)
{
	if (conn_established(p, cfg, t)) {
		if (changed)
			count_event(XLVS_EV_RING_CHANGED_HIT);
		return XLVS_CONT;
	}
	if (changed) {
		t->real = prev_owner(p, svc, pos->slot, pos->owner, &t->real_id);
		if (t->real) {
			count_event(XLVS_EV_RING_PREV_OWNER);
			t->svc_id = svc->id;
			if (!(p->flags & PKT_F_ICMP_ERR))
				conn_insert(p, t, cfg, false);
			return XLVS_CONT;
		}
		count_event(XLVS_EV_RING_NEW_OWNER);
	}
	return conn_new(p, svc, cfg, t, !changed && table_guard_ok(svc));
}

#endif /* XLVS_BPF_RING_H */
