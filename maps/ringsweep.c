// SPDX-License-Identifier: GPL-2.0
/*
 * Unflagging the changed slots of ring-state services (docs/architecture.md
 * "Ring state"), alongside the connection sweep (conns.c), which drives it
 * with its pass over xlvs_conns:
 * - as a pass begins, the flagged slots (not XLVS_REAL_NONE) whose previous
 *   owner's window is over (until passed, or 0) are the candidates, among
 *   RING_PASS_SLOTS slots of the ring-state slices from where the last pass
 *   stopped (bounded work per pass; the slices are covered in turn);
 * - every unexpired entry the pass reads whose real is of a ring-state service
 *   holds the candidate its flow maps to (xlvs_ring_index(), as the data
 *   path, from the entry's key and hash) if it names another real than the
 *   slot's owner: that flow still needs the lookup a changed slot makes;
 * - at the pass's end, a candidate not held whose slot and previous owner
 *   are still as they were is written back as its bare owner.
 * A slot whose window ends during a pass waits for the next pass: an entry
 * for its previous owner may be made until then.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xlvs/hash.h>

#include "internal.h"
#include "ringio.h"

#define RING_CHUNK	4096u  /* slots read per batch */
#define RING_PASS_SLOTS 65536u /* slots a pass looks at (~30 ms of reading: docs/architecture.md) */

struct ring_svc { /* a ring-state service as the pass began: where its flows' slots are */
	uint32_t base, size, flags;
	uint8_t sched;
	bool ring;
};

struct ring_cand { /* a flagged slot whose window was over as the pass began */
	uint32_t slot, val, until;
	bool held; /* an unexpired entry names another real than its owner */
};

struct ring_sweep {
	struct ring_svc *svcs;	/* by service id */
	struct ring_cand *cand; /* by slot */
	uint32_t ncand, cap;
	uint32_t cursor;    /* ring slot the next pass looks on from */
	uint32_t cfg_flags; /* xlvs_config's at the pass's start: which flow hash and slot */
	uint32_t keys[RING_CHUNK], vals[RING_CHUNK];
	struct xlvs_slot_prev prevs[RING_CHUNK];
	uint32_t put_keys[RING_CHUNK], put_vals[RING_CHUNK];
};

struct ring_sweep *ring_sweep_new(void)
{
	struct ring_sweep *r = calloc(1, sizeof(*r));

	if (r && !(r->svcs = calloc(XLVS_MAX_SERVICES, sizeof(*r->svcs)))) {
		free(r);
		return NULL;
	}
	return r;
}

void ring_sweep_free(struct ring_sweep *r)
{
	if (r) {
		free(r->svcs);
		free(r->cand);
	}
	free(r);
}

static int cand_cmp(const void *a, const void *b)
{
	const struct ring_cand *x = a, *y = b;

	return (x->slot > y->slot) - (x->slot < y->slot);
}

/* The first candidate at or after slot. */
static uint32_t cand_from(const struct ring_sweep *r, uint32_t slot)
{
	uint32_t lo = 0, hi = r->ncand, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->cand[mid].slot < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Slots [first, first + n) with their values and previous owners, RING_CHUNK
 * at a time, into r->vals / r->prevs; fn sees each chunk.
 */
static int slice_walk(struct xlvs_maps *m, struct ring_sweep *r, uint32_t first, uint32_t n,
		      int (*fn)(struct xlvs_maps *m, struct ring_sweep *r, uint32_t first, uint32_t n,
				void *ctx),
		      void *ctx)
{
	struct map_iter prev;
	uint32_t done = 0, want;
	int got, err = 0;

	map_iter_init_at(&prev, m->ring_prev, sizeof(*r->prevs), first);
	while (!err && done < n) {
		want = n - done < RING_CHUNK ? n - done : RING_CHUNK;
		got = map_iter_read(&prev, r->keys, r->prevs, want);
		if (got <= 0)
			return got < 0 ? got : -EPROTO; /* the map ended before the slice */
		err = xlvs_ring_read(m->ring, first + done, (uint32_t)got, r->vals);
		if (!err)
			err = fn(m, r, first + done, (uint32_t)got, ctx);
		done += (uint32_t)got;
	}
	return err;
}

static int collect(struct xlvs_maps *m, struct ring_sweep *r, uint32_t first, uint32_t n, void *ctx)
{
	uint32_t now = *(const uint32_t *)ctx, i;
	struct ring_cand *c;

	(void)m;
	for (i = 0; i < n; i++) {
		/* XLVS_REAL_NONE has the flag's bit: an empty slot stays a changed one */
		if (!(r->vals[i] & XLVS_SLOT_CHANGED) || r->vals[i] == XLVS_REAL_NONE)
			continue;
		if (r->prevs[i].until && (int32_t)(r->prevs[i].until - now) > 0)
			continue;
		if (r->ncand == r->cap) {
			c = realloc(r->cand, (r->cap * 2 + 64) * sizeof(*c));
			if (!c)
				return -ENOMEM;
			r->cand = c;
			r->cap = r->cap * 2 + 64;
		}
		r->cand[r->ncand++] = (struct ring_cand){ .slot = first + i,
							  .val = r->vals[i],
							  .until = r->prevs[i].until };
	}
	return 0;
}

static int base_cmp(const void *a, const void *b)
{
	const struct xlvs_service *x = *(const struct xlvs_service *const *)a;
	const struct xlvs_service *y = *(const struct xlvs_service *const *)b;

	return (x->ring_base > y->ring_base) - (x->ring_base < y->ring_base);
}

/*
 * The candidates among RING_PASS_SLOTS slots of the ring-state slices (by[],
 * in ring order), from where the last pass stopped: a pass's cost is bounded
 * whatever the rings total, and every slot is looked at within
 * total / RING_PASS_SLOTS passes.
 */
static int collect_window(struct xlvs_maps *m, struct ring_sweep *r, const struct xlvs_service **by,
			  uint32_t n, uint32_t now)
{
	uint32_t left = RING_PASS_SLOTS, j, k = 0, from, len;
	const struct xlvs_service *e;
	int err = 0;

	while (k < n && by[k]->ring_base + by[k]->ring_size <= r->cursor)
		k++;
	if (k == n) /* past the last slice: from the first again */
		k = r->cursor = 0;
	for (j = 0; !err && left && j < n; j++) {
		e = by[(k + j) % n];
		from = j == 0 && r->cursor > e->ring_base ? r->cursor : e->ring_base; /* resumed inside */
		len = e->ring_base + e->ring_size - from;
		len = len < left ? len : left;
		err = slice_walk(m, r, from, len, collect, &now);
		left -= len;
		r->cursor = from + len;
	}
	return err;
}

/* Where ring-state services' flows map to, and the candidates, as a pass begins at now. */
int ring_sweep_begin(struct xlvs_maps *m, struct ring_sweep *r, uint32_t now)
{
	uint32_t slots = m->ring_slots < m->ring_prev_slots ? m->ring_slots : m->ring_prev_slots;
	const struct xlvs_service **by = NULL;
	struct xlvs_service *svcs = NULL;
	struct xlvs_svc_key *keys = NULL;
	const struct xlvs_service *e;
	struct xlvs_config cfg;
	uint32_t i, n, nring = 0;
	int err;

	r->ncand = 0;
	memset(r->svcs, 0, XLVS_MAX_SERVICES * sizeof(*r->svcs));
	err = xlvs_maps_get_config(m, &cfg);
	if (err)
		return err;
	r->cfg_flags = cfg.flags;
	err = map_dump(m->services, sizeof(*keys), sizeof(*svcs), XLVS_MAX_SERVICES, (void **)&keys,
		       (void **)&svcs, &n);
	by = err ? NULL : calloc(n + 1, sizeof(*by));
	if (!err && !by)
		err = -ENOMEM;
	for (i = 0; !err && i < n; i++) {
		e = &svcs[i];
		if (!(e->flags & XLVS_SVC_F_RING_STATE) || e->id >= XLVS_MAX_SERVICES || !e->ring_size ||
		    e->ring_size > slots || e->ring_base > slots - e->ring_size)
			continue;
		r->svcs[e->id] = (struct ring_svc){ .base = e->ring_base,
						    .size = e->ring_size,
						    .flags = e->flags,
						    .sched = e->sched,
						    .ring = true };
		by[nring++] = e;
	}
	if (!err) {
		qsort(by, nring, sizeof(*by), base_cmp);
		err = collect_window(m, r, by, nring, now);
	}
	free(by);
	free(keys);
	free(svcs);
	if (err)
		r->ncand = 0;
	else if (r->ncand) /* no candidate: r->cand may be NULL, which qsort() must not get */
		qsort(r->cand, r->ncand, sizeof(*r->cand), cand_cmp);
	return err;
}

void ring_sweep_note(struct ring_sweep *r, const struct xlvs_flow *f, const struct xlvs_conn *c,
		     const struct xlvs_real *real)
{
	const struct ring_svc *sv;
	uint32_t slot, k;

	if (!r->ncand || !real || real->svc_id >= XLVS_MAX_SERVICES || !r->svcs[real->svc_id].ring)
		return;
	sv = &r->svcs[real->svc_id];
	slot = sv->base + xlvs_ring_index(r->cfg_flags, sv->sched, sv->flags, f, c->hash, sv->size);
	k = cand_from(r, slot);
	/* real is the entry's current one: its id tells it from the owner */
	if (k < r->ncand && r->cand[k].slot == slot && xlvs_slot_real(r->cand[k].val) != c->real_id)
		r->cand[k].held = true;
}

struct clear_ctx {
	uint32_t next; /* candidate */
	uint64_t cleared;
};

/* The candidates of slots [first, first + n) not held and unchanged since the pass began: unflagged. */
static int clear_chunk(struct xlvs_maps *m, struct ring_sweep *r, uint32_t first, uint32_t n, void *ctx)
{
	struct clear_ctx *cc = ctx;
	const struct ring_cand *k;
	uint32_t i, np = 0;
	int err;

	for (; cc->next < r->ncand && r->cand[cc->next].slot < first + n; cc->next++) {
		k = &r->cand[cc->next];
		i = k->slot - first;
		if (k->held || r->vals[i] != k->val || r->prevs[i].until != k->until)
			continue;
		r->put_keys[np] = k->slot;
		r->put_vals[np++] = xlvs_slot_real(k->val);
	}
	err = xlvs_ring_put(m->ring, r->put_keys, r->put_vals, np);
	if (!err)
		cc->cleared += np;
	return err;
}

/* The pass is over: complete, its free candidates are unflagged; else they wait for the next. */
int ring_sweep_end(struct xlvs_maps *m, struct ring_sweep *r, bool complete, struct xlvs_sweep_stats *st)
{
	struct clear_ctx cc = { 0 };
	uint32_t i, last, held = 0;
	int err = 0;

	for (i = 0; complete && i < r->ncand; i++)
		held += r->cand[i].held;
	/* runs of candidates (a slice's) read from their first slot to their last */
	while (complete && !err && cc.next < r->ncand) {
		for (last = cc.next;
		     last + 1 < r->ncand && r->cand[last + 1].slot - r->cand[last].slot < RING_CHUNK; last++)
			;
		err = slice_walk(m, r, r->cand[cc.next].slot, r->cand[last].slot - r->cand[cc.next].slot + 1,
				 clear_chunk, &cc);
	}
	if (complete) {
		st->ring_cleared += cc.cleared;
		st->ring_held += held;
	}
	r->ncand = 0;
	return err;
}
