// SPDX-License-Identifier: GPL-2.0
/*
 * Carrying out a plan (plan.c) so that no packet sees a half-written service:
 *
 * 1. ACTIVE reals of no service (an interrupted apply's leftovers) are
 *    deactivated: nothing references them.
 * 2. Deleted services: entry first, then its VIP, then its reals. VIPs left
 *    without a service are deleted once every deletion is done; then the VIP
 *    filter gets the bits of exactly the desired VIPs (a bit set early only
 *    costs a service lookup; cleared early, it would hide a live service).
 * 3. Added or changed services, each in turn: counters of new ids zeroed,
 *    connection counts (xlvs_real_load) zeroed where they no longer apply
 *    (reset_load()), new and changed reals (ACTIVE) written, ring (re)built in its slice,
 *    VIP written, service entry written last (a resize switches it to the new
 *    slice here), then reals it no longer has deactivated, when no ring
 *    references them any more. Unchanged entries are not written.
 * 4. Any VIP still differing from the desired one is written.
 *
 * xlvs_nat_srcs and XLVS_CFG_F_NAT (the data path looks for replies only from
 * nat/fullnat reals' addresses, and only with the flag) bracket this: what the
 * desired reals need is written before step 2, what they no longer need goes
 * after step 4, so a reply of a real being added is never passed over.
 *
 * The data path checks a real's ACTIVE flag and svc_id, so a flow still
 * pinned to a removed real is rescheduled instead of misdelivered.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <xlvs/hash.h>

#include "plan.h"
#include "ringio.h"
#include "schedtab.h"

#define CHUNK XLVS_MAX_REALS /* staging room: reals, ring slots read per call */

struct writer {
	struct plan *p;
	struct xlvs_maps *m;
	struct xlvs_apply_stats *st;
	uint32_t *ids;		 /* staged keys */
	struct xlvs_real *reals; /* staged real entries */
	void *zero;		 /* zero loads for max_reals + 1 ids */
	struct xlvs_maglev_backend *mb;
	uint32_t *ring_new, *ring_old;
	/* ring state (write_ring_state()): the slice's previous owners, slots to write */
	struct xlvs_slot_prev *prev_old, *prev_put;
	uint32_t *prev_keys, *slot_keys, *slot_vals;
	uint32_t now, hz; /* the clock slots are stamped with; hz 0: not read yet */
};

static int writer_init(struct writer *w, struct plan *p)
{
	memset(w, 0, sizeof(*w));
	w->p = p;
	w->m = p->m;
	w->st = p->st;
	w->ids = malloc(CHUNK * sizeof(*w->ids));
	w->reals = malloc(CHUNK * sizeof(*w->reals));
	w->zero = calloc(p->max_reals + 1, sizeof(struct xlvs_real_load));
	w->mb = malloc((p->max_reals + 1) * sizeof(*w->mb));
	w->ring_new = malloc(((size_t)p->max_ring + 1) * sizeof(*w->ring_new));
	w->ring_old = malloc(((size_t)p->max_ring + 1) * sizeof(*w->ring_old));
	w->prev_old = malloc(((size_t)p->max_ring + 1) * sizeof(*w->prev_old));
	w->prev_put = malloc(((size_t)p->max_ring + 1) * sizeof(*w->prev_put));
	w->prev_keys = malloc(((size_t)p->max_ring + 1) * sizeof(*w->prev_keys));
	w->slot_keys = malloc(((size_t)p->max_ring + 1) * sizeof(*w->slot_keys));
	w->slot_vals = malloc(((size_t)p->max_ring + 1) * sizeof(*w->slot_vals));
	return w->ids && w->reals && w->zero && w->mb && w->ring_new && w->ring_old && w->prev_old &&
			       w->prev_put && w->prev_keys && w->slot_keys && w->slot_vals
		       ? 0
		       : -ENOMEM;
}

static void writer_free(struct writer *w)
{
	free(w->ids);
	free(w->reals);
	free(w->zero);
	free(w->mb);
	free(w->ring_new);
	free(w->ring_old);
	free(w->prev_old);
	free(w->prev_put);
	free(w->prev_keys);
	free(w->slot_keys);
	free(w->slot_vals);
}

static int put_reals(struct writer *w, uint32_t n)
{
	return map_update_many(w->m->reals, w->ids, w->reals, n, sizeof(*w->ids), sizeof(*w->reals));
}

/* Clear ACTIVE on the n staged reals. */
static int deactivate(struct writer *w, uint32_t n)
{
	uint32_t i;
	int err;

	for (i = 0; i < n; i++)
		w->reals[i].flags &= ~XLVS_REAL_F_ACTIVE;
	err = put_reals(w, n);
	if (!err)
		w->st->reals_removed += n;
	return err;
}

static void stage(struct writer *w, uint32_t *n, uint32_t id, const struct xlvs_real *r)
{
	w->ids[*n] = id;
	w->reals[*n] = *r;
	++*n;
}

static int drop_orphans(struct writer *w)
{
	const struct xlvs_real *r;
	uint32_t id, n = 0;

	for (id = 0; id < w->p->img.nreal; id++) { /* the others are not ACTIVE */
		r = &w->p->img.reals[id];
		if (real_active(r) && (r->svc_id >= XLVS_MAX_SERVICES || w->p->owner[r->svc_id] < 0))
			stage(w, &n, id, r);
	}
	return deactivate(w, n);
}

/* The service's reals in the maps that the plan does not keep. */
static int drop_reals(struct writer *w, const struct splan *sp)
{
	const struct real_groups *g = w->p->img.groups;
	uint32_t i, id, n = 0;

	if (!sp->own_reals)
		return 0;
	for (i = g->first[sp->cur->id]; i < g->first[sp->cur->id + 1]; i++) {
		id = g->ids[i];
		if (!w->p->kept[id])
			stage(w, &n, id, &w->p->img.reals[id]);
	}
	return deactivate(w, n);
}

static int vip_sync(struct writer *w, struct vplan *vp)
{
	int err;

	if (!vp || vp->done)
		return 0;
	vp->done = true;
	if (vp->has_want) {
		if (vp->has_cur && !memcmp(&vp->want, &vp->cur, sizeof(vp->cur)))
			return 0;
		err = bpf_map_update_elem(w->m->vips, &vp->key, &vp->want, BPF_ANY);
		if (!err)
			w->st->vips_written++;
		return err;
	}
	if (!vp->has_cur)
		return 0;
	err = bpf_map_delete_elem(w->m->vips, &vp->key);
	if (!err)
		w->st->vips_removed++;
	return err == -ENOENT ? 0 : err;
}

/* The words of xlvs_vip_filter that differ from the desired VIPs' bits. */
static int write_filter(struct writer *w)
{
	const struct plan *p = w->p;
	uint64_t *want = calloc(XLVS_VIP_FILTER_WORDS, sizeof(*want));
	uint32_t i, bit, n = 0;
	int err;

	if (!want)
		return -ENOMEM;
	for (i = 0; i < p->nvips; i++) {
		if (!p->vips[i].has_want)
			continue;
		bit = xlvs_addr_hash(p->vips[i].key.addr, p->vips[i].key.family) % XLVS_VIP_FILTER_BITS;
		want[bit / XLVS_VIP_FILTER_WORD_BITS] |= 1ull << (bit % XLVS_VIP_FILTER_WORD_BITS);
	}
	for (i = 0; i < XLVS_VIP_FILTER_WORDS; i++) {
		if (want[i] == p->img.filter[i])
			continue;
		w->ids[n] = i;
		want[n++] = want[i]; /* n <= i: compacts in place */
	}
	err = map_update_many(w->m->vip_filter, w->ids, want, n, sizeof(*w->ids), sizeof(*want));
	if (!err)
		w->st->vip_filter_written += n;
	free(want);
	return err;
}

static int delete_service(struct writer *w, const struct splan *sp)
{
	struct vplan *vp;
	int err;

	err = bpf_map_delete_elem(w->m->services, &sp->key);
	if (!err)
		err = xlvs_maps_svc_changed(w->m);
	if (!err)
		w->st->services_removed++;
	else if (err != -ENOENT)
		return err;
	/* An address still in use is refreshed now; an unused one goes after all deletions. */
	vp = plan_vip(w->p, &sp->key);
	err = vp && vp->has_want ? vip_sync(w, vp) : 0;
	return err ? err : drop_reals(w, sp);
}

/* An id given to a new service or real starts with zero counters, forward and reply alike. */
static int reset_counters(struct writer *w, const struct splan *sp)
{
	uint32_t i, n = 0;
	int err = sp->fresh_id ? svc_counters_zero(w->m, &sp->entry.id, 1) : 0;

	for (i = 0; i < sp->nreals; i++)
		if (sp->reals[i].fresh)
			w->ids[n++] = sp->reals[i].id;
	return err ? err : real_counters_zero(w->m, w->ids, n);
}

/* The entry a desired real gets; the resolver's next hop stays while the
 * address does. A real new to its id gets the id's next generation, so
 * connection entries made for the id's earlier real are never honoured for it. */
static void real_entry(const struct splan *sp, const struct rplan *rp, const struct xlvs_real *cur,
		       struct xlvs_real *r)
{
	memset(r, 0, sizeof(*r));
	r->family = rp->key[0];
	memcpy(r->addr, rp->key + 1, sizeof(r->addr));
	r->fwd = rp->spec->fwd;
	r->flags = XLVS_REAL_F_ACTIVE | (xlvs_sched_counts(sp->want->sched) ? XLVS_REAL_F_COUNTED : 0);
	r->svc_id = sp->entry.id;
	r->gue_port = htons(rp->spec->gue_port);
	r->port = xlvs_fwd_is_nat(r->fwd) ? htons(rp->spec->port) : 0;
	r->weight = rp->spec->weight;
	r->gen = rp->fresh ? cur->gen + 1 : cur->gen;
	memcpy(r->timeout, sp->entry.timeout, sizeof(r->timeout));
	if (sp->entry.persist_timeout) /* its flows refresh their templates (bpf/persist.h) */
		r->flags |= XLVS_REAL_F_PERSIST;
	if (cur->family != r->family || memcmp(cur->addr, r->addr, sizeof(r->addr)))
		return;
	r->flags |= cur->flags & XLVS_REAL_F_NH_VALID;
	memcpy(r->nh_mac, cur->nh_mac, sizeof(r->nh_mac));
	memcpy(r->nh_smac, cur->nh_smac, sizeof(r->nh_smac));
	r->nh_ifindex = cur->nh_ifindex;
}

static bool counted(const struct xlvs_real *r)
{
	return real_active(r) && (r->flags & XLVS_REAL_F_COUNTED);
}

/*
 * xlvs_real_load of the service's reals set to 0 where the count no longer
 * describes the real the entry will hold. Before the reals are written (before
 * true): a real new to its id, whose count is its predecessor's, and a real
 * that starts being counted, whose count is left from another time. After
 * (before false): a real that stops being counted, once the data path no
 * longer adds to it. A count that starts is not complete (the connections the
 * real has now were never counted): the daemon reconciles it from the table
 * (stats reals_counted_on; docs/architecture.md).
 */
static int reset_load(struct writer *w, const struct splan *sp, bool before)
{
	const struct xlvs_real *cur;
	struct xlvs_real r;
	uint32_t i, n = 0;
	bool was, is, zero;

	for (i = 0; i < sp->nreals; i++) {
		cur = &w->p->img.reals[sp->reals[i].id];
		real_entry(sp, &sp->reals[i], cur, &r);
		was = counted(cur) && !sp->reals[i].fresh;
		is = counted(&r);
		zero = before ? sp->reals[i].fresh || (is && !was) : was && !is;
		if (zero)
			w->ids[n++] = sp->reals[i].id;
		if (before && is && !was && !sp->reals[i].fresh)
			w->st->reals_counted_on++;
	}
	/* w->zero has room for max_reals + 1 loads: n or more */
	return map_update_many(w->m->real_load, w->ids, w->zero, n, sizeof(*w->ids),
			       sizeof(struct xlvs_real_load));
}

static int write_reals(struct writer *w, const struct splan *sp)
{
	const struct xlvs_real *cur;
	struct xlvs_real r;
	uint32_t i, n = 0;
	int err;

	for (i = 0; i < sp->nreals; i++) {
		cur = &w->p->img.reals[sp->reals[i].id];
		real_entry(sp, &sp->reals[i], cur, &r);
		if (memcmp(&r, cur, sizeof(r)))
			stage(w, &n, sp->reals[i].id, &r);
	}
	err = put_reals(w, n);
	if (!err)
		w->st->reals_written += n;
	return err;
}

/* The clock changed slots are stamped with: read once per apply. */
static int ring_clock(struct writer *w)
{
	struct xlvs_jiffies j;
	int err;

	if (w->hz)
		return 0;
	err = xlvs_jiffies_read(&j);
	if (!err)
		err = xlvs_hz(&w->hz);
	w->now = j.now;
	return err;
}

/* Until when a slot changing now keeps its previous owner: the service's ring_window, else its
 * tcp timeout, else the global one (as xlvs_maps_set_global() writes it). Never 0 (= none). */
static uint32_t ring_until(const struct writer *w, const struct xlvs_svc_spec *s)
{
	uint32_t win = s->ring_window_s ?: s->timeout_s[XLVS_TO_TCP] ?: w->p->want->global.timeout_s[XLVS_TO_TCP]
									    ?: xlvs_timeout_defaults[XLVS_TO_TCP];
	uint32_t until = w->now + win * w->hz;

	return until ? until : 1;
}

static bool prev_live(const struct xlvs_slot_prev *v, uint32_t now)
{
	return v->until && (int32_t)(v->until - now) > 0;
}

/*
 * Slot i of a ring-state slice: its value and previous owner to have, false
 * if it stays as it is. An owner change (ids compared without the flag, so a
 * flagged slot keeping its owner keeps its flag) keeps a live previous owner
 * (the oldest) or makes the old owner, as the maps had it before this apply,
 * the previous one; a new slice is unflagged, a whole-slice flag has none.
 */
static bool ring_state_slot(const struct writer *w, const struct splan *sp, uint32_t i, uint32_t until,
			    uint32_t *val, struct xlvs_slot_prev *pv)
{
	const struct xlvs_slot_prev *old = &w->prev_old[i];
	uint32_t was, now = w->ring_new[i];
	bool flag = sp->ring_flag_all;

	memset(pv, 0, sizeof(*pv));
	if (!sp->fresh_slice && !flag) {
		was = xlvs_slot_real(w->ring_old[i]);
		if (was == now)
			return false;
		if (prev_live(old, w->now))
			*pv = (struct xlvs_slot_prev){ .real_id = old->real_id, .real_gen = old->real_gen };
		else if (was < XLVS_MAX_REALS) /* NONE (or a foreign value): no previous owner */
			*pv = (struct xlvs_slot_prev){ .real_id = was, .real_gen = w->p->img.reals[was].gen };
		flag = prev_live(old, w->now) || was < XLVS_MAX_REALS;
		pv->until = flag ? until : 0;
	}
	*val = flag && now != XLVS_REAL_NONE ? now | XLVS_SLOT_CHANGED : now;
	return true;
}

/*
 * Whether ring_state_slot() needs slot i's previous owner: only when the
 * slot changes owner and may have a live one. A slot the maps hold unflagged
 * with a real has none: every write that leaves a live previous owner flags
 * the slot (ring_state_slot()), and the sweep unflags a slot only once its
 * window is over (ringsweep.c); the window is then taken from its old owner.
 */
static bool prev_needed(const struct writer *w, uint32_t i)
{
	uint32_t was = xlvs_slot_real(w->ring_old[i]);

	return was != w->ring_new[i] && ((w->ring_old[i] & XLVS_SLOT_CHANGED) || was >= XLVS_MAX_REALS);
}

/*
 * The slice's previous owners that ring_state_slot() reads: those it needs
 * (prev_needed(); the others read as none), unless every slot is written
 * anyway, or verified (then each as the maps have it). A batch read costs
 * ~120 ns a slot (xlvs_ring_prev has one entry per slot: 8 ms for 65537
 * slots on the development VM), one lookup several times that, so they are
 * looked up one by one when they are few: a real going down after a quiet
 * while needs none.
 */
#define PREV_SPARSE 8 /* one by one below 1/PREV_SPARSE of the slice */

static int read_prev(struct writer *w, const struct splan *sp)
{
	const struct xlvs_service *e = &sp->entry;
	uint32_t i, key, n = 0;

	if (!(w->p->flags & XLVS_APPLY_F_VERIFY_RINGS) && !sp->fresh_slice && !sp->ring_flag_all) {
		for (i = 0; i < e->ring_size; i++)
			n += prev_needed(w, i);
		if (n * PREV_SPARSE < e->ring_size) {
			memset(w->prev_old, 0, (size_t)e->ring_size * sizeof(*w->prev_old));
			for (i = 0; i < e->ring_size; i++) {
				if (!prev_needed(w, i))
					continue;
				key = e->ring_base + i;
				if (bpf_map_lookup_elem(w->m->ring_prev, &key, &w->prev_old[i]))
					return -errno;
			}
			return 0;
		}
	}
	return array_read(w->m->ring_prev, sizeof(*w->prev_old), e->ring_base, e->ring_size, w->prev_old,
			  w->ids, CHUNK);
}

/*
 * A ring-state service's slice (docs/architecture.md "Ring state"). The
 * previous owners are written before the slots, so a packet that finds a
 * slot newly flagged finds its previous owner too.
 */
static int write_ring_state(struct writer *w, const struct splan *sp)
{
	const struct xlvs_service *e = &sp->entry;
	uint32_t i, np = 0, ns = 0, until, val;
	struct xlvs_slot_prev pv;
	int err = ring_clock(w);

	if (!err && !sp->fresh_slice)
		err = xlvs_ring_read(w->m->ring, e->ring_base, e->ring_size, w->ring_old);
	if (!err)
		err = read_prev(w, sp);
	if (err)
		return err;
	until = ring_until(w, sp->want);
	for (i = 0; i < e->ring_size; i++) {
		if (!ring_state_slot(w, sp, i, until, &val, &pv))
			continue;
		if (memcmp(&pv, &w->prev_old[i], sizeof(pv))) {
			w->prev_keys[np] = e->ring_base + i;
			w->prev_put[np++] = pv;
		}
		if (sp->fresh_slice || val != w->ring_old[i]) {
			w->slot_keys[ns] = e->ring_base + i;
			w->slot_vals[ns++] = val;
		}
	}
	err = map_update_many(w->m->ring_prev, w->prev_keys, w->prev_put, np, sizeof(*w->prev_keys),
			      sizeof(*w->prev_put));
	if (!err)
		err = xlvs_ring_put(w->m->ring, w->slot_keys, w->slot_vals, ns);
	if (!err)
		w->st->ring_slots_written += ns;
	return err;
}

static int write_ring(struct writer *w, const struct splan *sp)
{
	const struct xlvs_service *e = &sp->entry;
	uint32_t i;
	int n;

	if (!sp->ring_dirty)
		return 0;
	for (i = 0; i < sp->nreals; i++)
		w->mb[i] = (struct xlvs_maglev_backend){
			.real_id = sp->reals[i].id,
			.weight = sp->reals[i].spec->weight,
			.key = sp->reals[i].key,
			.key_len = REAL_KEY_LEN,
		};
	n = xlvs_sched_build(sp->want->sched, w->ring_new, e->ring_size, w->mb, sp->nreals);
	if (!n && (e->flags & XLVS_SVC_F_RING_STATE))
		return write_ring_state(w, sp);
	/* A fresh slice is written whole: reading it back would cost as much. */
	if (!n && !sp->fresh_slice)
		n = xlvs_ring_read(w->m->ring, e->ring_base, e->ring_size, w->ring_old);
	if (!n)
		n = xlvs_ring_write(w->m->ring, e->ring_base, sp->fresh_slice ? NULL : w->ring_old,
				    w->ring_new, e->ring_size);
	if (n < 0)
		return n;
	w->st->ring_slots_written += n;
	return 0;
}

static int write_entry(struct writer *w, const struct splan *sp)
{
	int err;

	if (sp->cur && !memcmp(sp->cur, &sp->entry, sizeof(sp->entry)))
		return 0;
	err = bpf_map_update_elem(w->m->services, &sp->key, &sp->entry, BPF_ANY);
	if (!err)
		err = xlvs_maps_svc_changed(w->m);
	if (err)
		return err;
	if (sp->cur)
		w->st->services_updated++;
	else
		w->st->services_added++;
	return 0;
}

static int write_service(struct writer *w, const struct splan *sp)
{
	int err = reset_counters(w, sp);

	if (!err)
		err = reset_load(w, sp, true);
	if (!err)
		err = write_reals(w, sp);
	if (!err)
		err = reset_load(w, sp, false);
	if (!err)
		err = write_ring(w, sp);
	if (!err)
		err = vip_sync(w, plan_vip(w->p, &sp->key));
	if (!err)
		err = write_entry(w, sp);
	return err ? err : drop_reals(w, sp);
}

/* ---- xlvs_nat_srcs and XLVS_CFG_F_NAT ---- */

struct nat_src {
	struct xlvs_vip_key key;
	__u32 n;
};

static int nat_src_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xlvs_vip_key));
}

/* The desired nat/fullnat reals' addresses with how many reals have each, sorted; *n of them. */
static struct nat_src *nat_srcs_want(const struct plan *p, uint32_t *n)
{
	struct nat_src *v = calloc(XLVS_NAT_SRCS_MAX + 1, sizeof(*v));
	const struct splan *sp;
	uint32_t i, j, k = 0;

	*n = 0;
	for (i = 0; v && i < p->nsvcs; i++) {
		sp = &p->svcs[i];
		for (j = 0; sp->want && j < sp->nreals && k < XLVS_NAT_SRCS_MAX; j++) {
			if (!xlvs_fwd_is_nat(sp->reals[j].spec->fwd))
				continue;
			v[k].key.family = sp->reals[j].key[0];
			memcpy(v[k].key.addr, sp->reals[j].key + 1, sizeof(v[k].key.addr));
			v[k++].n = 1;
		}
	}
	if (!v)
		return NULL;
	qsort(v, k, sizeof(*v), nat_src_cmp);
	for (i = 0; i < k; i++) { /* fold equal addresses into one with their count */
		if (*n && !nat_src_cmp(&v[*n - 1], &v[i]))
			v[*n - 1].n++;
		else
			v[(*n)++] = v[i];
	}
	return v;
}

static int nat_flag(struct xlvs_maps *m, bool on)
{
	struct xlvs_config c;
	__u32 key = 0;
	int err = xlvs_maps_get_config(m, &c);

	if (err || !!(c.flags & XLVS_CFG_F_NAT) == on)
		return err;
	c.flags = on ? c.flags | XLVS_CFG_F_NAT : c.flags & ~XLVS_CFG_F_NAT;
	return bpf_map_update_elem(m->config, &key, &c, BPF_ANY);
}

/* xlvs_nat_srcs as it is now, sorted. */
struct nat_srcs {
	struct nat_src *want, *cur;
	uint32_t nwant, ncur;
};

static int nat_srcs_read(struct writer *w, struct nat_srcs *ns)
{
	struct xlvs_vip_key *keys = NULL;
	__u32 *vals = NULL;
	uint32_t i;
	int err;

	ns->want = nat_srcs_want(w->p, &ns->nwant);
	ns->cur = calloc(XLVS_NAT_SRCS_MAX + 1, sizeof(*ns->cur));
	if (!ns->want || !ns->cur)
		return -ENOMEM;
	err = map_dump(w->m->nat_srcs, sizeof(*keys), sizeof(*vals), XLVS_NAT_SRCS_MAX, (void **)&keys,
		       (void **)&vals, &ns->ncur);
	for (i = 0; !err && i < ns->ncur; i++)
		ns->cur[i] = (struct nat_src){ .key = keys[i], .n = vals[i] };
	free(keys);
	free(vals);
	qsort(ns->cur, ns->ncur, sizeof(*ns->cur), nat_src_cmp);
	return err;
}

/* Before the services: the addresses whose count differs, and the flag if any real is nat. */
static int nat_srcs_add(struct writer *w, const struct nat_srcs *ns)
{
	const struct nat_src *c;
	uint32_t i;
	int err = 0;

	for (i = 0; !err && i < ns->nwant; i++) {
		c = bsearch(&ns->want[i], ns->cur, ns->ncur, sizeof(*c), nat_src_cmp);
		if (c && c->n == ns->want[i].n)
			continue;
		err = bpf_map_update_elem(w->m->nat_srcs, &ns->want[i].key, &ns->want[i].n, BPF_ANY);
		w->st->nat_srcs_written += !err;
	}
	return err ? err : ns->nwant ? nat_flag(w->m, true) : 0;
}

/* After the services: the addresses no desired real has, and the flag if none is left. */
static int nat_srcs_prune(struct writer *w, const struct nat_srcs *ns)
{
	uint32_t i;
	int err = 0;

	for (i = 0; !err && i < ns->ncur; i++) {
		if (bsearch(&ns->cur[i], ns->want, ns->nwant, sizeof(*ns->want), nat_src_cmp))
			continue;
		err = bpf_map_delete_elem(w->m->nat_srcs, &ns->cur[i].key);
		w->st->nat_srcs_removed += !err;
		err = err == -ENOENT ? 0 : err;
	}
	return err ? err : ns->nwant ? 0 : nat_flag(w->m, false);
}

static int run(struct writer *w)
{
	struct plan *p = w->p;
	struct nat_srcs ns = { 0 };
	uint32_t i;
	int err = drop_orphans(w);

	if (!err)
		err = nat_srcs_read(w, &ns);
	if (!err)
		err = nat_srcs_add(w, &ns);

	for (i = 0; !err && i < p->nsvcs; i++)
		if (!p->svcs[i].want)
			err = delete_service(w, &p->svcs[i]);
	for (i = 0; !err && i < p->nvips; i++)
		if (!p->vips[i].has_want)
			err = vip_sync(w, &p->vips[i]);
	if (!err)
		err = write_filter(w);
	for (i = 0; !err && i < p->nsvcs; i++)
		if (p->svcs[i].want)
			err = write_service(w, &p->svcs[i]);
	for (i = 0; !err && i < p->nvips; i++)
		err = vip_sync(w, &p->vips[i]);
	if (!err)
		err = nat_srcs_prune(w, &ns);
	free(ns.want);
	free(ns.cur);
	return err;
}

/* A scope's services only: nothing else changes (no real comes or goes, no VIP). */
static int run_scoped(struct writer *w)
{
	uint32_t i;
	int err = 0;

	for (i = 0; !err && i < w->p->nsvcs; i++)
		err = write_service(w, &w->p->svcs[i]);
	return err;
}

void xlvs_apply_memo_free(struct xlvs_apply_memo *mm)
{
	if (!mm)
		return;
	free(mm->svcs);
	free(mm->rmem);
	free(mm);
}

/* What the plan wrote, by service, for a later scope (reals by key, as planned). */
static struct xlvs_apply_memo *memo_of(const struct plan *p)
{
	struct xlvs_apply_memo *mm = calloc(1, sizeof(*mm));
	const struct splan *sp;
	struct memo_svc *ms;
	uint32_t i, j, n = 0;

	for (i = 0; i < p->nsvcs; i++)
		n += p->svcs[i].want ? p->svcs[i].nreals : 0;
	if (!mm || !(mm->svcs = calloc(p->nsvcs + 1, sizeof(*mm->svcs))) ||
	    !(mm->rmem = calloc(n + 1, sizeof(*mm->rmem)))) {
		xlvs_apply_memo_free(mm);
		return NULL;
	}
	for (i = 0, n = 0; i < p->nsvcs; i++) {
		sp = &p->svcs[i];
		if (!sp->want)
			continue;
		ms = &mm->svcs[mm->nsvcs++];
		ms->key = sp->key;
		ms->id = sp->entry.id;
		ms->nreals = sp->nreals;
		ms->reals = mm->rmem + n;
		for (j = 0; j < sp->nreals; j++) {
			ms->reals[j] = sp->reals[j];
			ms->reals[j].spec = NULL; /* the caller's spec goes */
		}
		n += sp->nreals;
	}
	return mm;
}

/* After a successful apply the ACTIVE reals are exactly the desired ones. */
static uint32_t reals_end(const struct plan *p)
{
	uint32_t i, j, end = 0;

	for (i = 0; i < p->nsvcs; i++)
		for (j = 0; p->svcs[i].want && j < p->svcs[i].nreals; j++)
			if (p->svcs[i].reals[j].id >= end)
				end = p->svcs[i].reals[j].id + 1;
	return end;
}

/* A whole apply's outcome for the next one: the ids in use, the memo. */
static void memo_update(struct xlvs_apply_opts *o, const struct plan *p)
{
	o->reals_end = reals_end(p);
	if (!o->memo)
		return;
	xlvs_apply_memo_free(*o->memo);
	*o->memo = memo_of(p); /* NULL (no memory) only costs the next scope */
}

int xlvs_apply_with(struct xlvs_maps *m, const struct xlvs_spec *want, struct xlvs_apply_opts *o,
		    struct xlvs_apply_stats *st)
{
	struct xlvs_apply_stats ignored;
	struct writer w = { 0 };
	struct plan *p;
	int err;

	st = st ? st : &ignored;
	memset(st, 0, sizeof(*st));
	if (o->msg && o->msg_size)
		o->msg[0] = '\0';
	if (!m || !want || (o->flags & ~XLVS_APPLY_F_VERIFY_RINGS) || o->reals_end > XLVS_MAX_REALS)
		return -EINVAL;
	if (o->scope && !(o->memo && *o->memo))
		return -ESTALE;
	/* a scope keeps every slice (and size) where it is */
	err = o->scope ? 0 : plan_ring_sum(want, o->msg, o->msg_size);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->m = m;
	p->flags = o->flags;
	p->st = st;
	p->reals_end = o->reals_end;
	p->msg = o->msg;
	p->msg_size = o->msg_size;
	p->scope = o->scope;
	p->memo = o->memo ? *o->memo : NULL;
	err = p->scope ? plan_make_scoped(p, want) : plan_make(p, want);
	if (!err)
		err = writer_init(&w, p);
	if (!err)
		err = p->scope ? run_scoped(&w) : run(&w);
	if (!err && !p->scope)
		memo_update(o, p);
	writer_free(&w);
	plan_free(p);
	free(p);
	return err;
}

int xlvs_apply_ex(struct xlvs_maps *m, const struct xlvs_spec *want, unsigned int flags,
		  struct xlvs_apply_stats *st)
{
	struct xlvs_apply_opts o = { .flags = flags };

	return xlvs_apply_with(m, want, &o, st);
}

int xlvs_apply(struct xlvs_maps *m, const struct xlvs_spec *want, struct xlvs_apply_stats *st)
{
	return xlvs_apply_ex(m, want, 0, st);
}
