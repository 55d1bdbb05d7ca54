/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libxlvsmaps internals shared by its files (not API): bulk map I/O and the
 * image of the maps that xlvs_state_read() and xlvs_apply() start from.
 */
#ifndef XLVS_MAPS_INTERNAL_H
#define XLVS_MAPS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "xlvsmaps.h"

/* ---- bulk map I/O (mapio.c) ---- */

/* Reads a map in key order, batched where the kernel can (Linux >= 5.6). */
struct map_iter {
	int fd;
	uint32_t ksz, vsz;
	bool started; /* pos holds a resume point */
	bool batched; /* a batch lookup worked: errors are real errors */
	bool single;  /* no batch lookups: get_next_key + lookup_elem */
	bool done;
	uint64_t pos[8]; /* batch token, or the last key read */
};

void map_iter_init(struct map_iter *it, int fd, uint32_t ksz, uint32_t vsz);
/* Arrays only: start at index first (an array's batch token is its last key). */
void map_iter_init_at(struct map_iter *it, int fd, uint32_t vsz, uint32_t first);
/* Up to cap entries into keys/vals; returns how many (0: end) or -errno. */
int map_iter_read(struct map_iter *it, void *keys, void *vals, uint32_t cap);
/*
 * Arrays only: entries [first, first + n) into vals (n x vsz), batches of at most chunk entries
 * (keys: room for chunk); -EPROTO if the map ends before first + n.
 */
int array_read(int fd, uint32_t vsz, uint32_t first, uint32_t n, void *vals, uint32_t *keys, uint32_t chunk);
/* Every entry into new arrays *keys / *vals (at most max). */
int map_dump(int fd, uint32_t ksz, uint32_t vsz, uint32_t max, void **keys, void **vals, uint32_t *n);
/* n entries, batched where the kernel can. */
int map_update_many(int fd, const void *keys, const void *vals, uint32_t n, uint32_t ksz, uint32_t vsz);
/* Zero the n service (real) ids' counters, forwarded and NAT replies, on every CPU's stripe (abi.h). */
int svc_counters_zero(struct xlvs_maps *m, const uint32_t *ids, uint32_t n);
int real_counters_zero(struct xlvs_maps *m, const uint32_t *ids, uint32_t n);

/* ---- the maps as read at one moment (state.c): struct map_image ---- */

/* Ids of the ACTIVE reals of service s: ids[first[s] .. first[s + 1]), ascending. */
struct real_groups {
	uint32_t first[XLVS_MAX_SERVICES + 1];
	uint32_t ids[XLVS_MAX_REALS];
};

/*
 * The raw entries of the service, VIP and real maps as read at one moment:
 * what a plan diffs the spec against, and what struct xlvs_state is grouped from.
 */
struct map_image {
	uint32_t nsvc;
	struct xlvs_svc_key *svc_keys;
	struct xlvs_service *svcs;
	uint32_t nvip;
	struct xlvs_vip_key *vip_keys;
	struct xlvs_vip *vips;
	struct xlvs_real *reals; /* all XLVS_MAX_REALS entries, by id; those from nreal on zero */
	uint32_t nreal;		 /* ids [0, nreal) read from the map: the others are not ACTIVE */
	uint64_t *filter;	 /* xlvs_vip_filter words (with the VIPs) */
	struct real_groups *groups;
};

/* Every value of an array map of n entries, in index order (malloc'd). */
int dump_array(int fd, uint32_t vsz, uint32_t n, void **vals);
/* Reals: ids [0, nreals) (XLVS_MAX_REALS: all), the caller knowing that the others are not ACTIVE. */
int map_image_read(struct xlvs_maps *m, struct map_image *s, bool with_vips, uint32_t nreals);
void map_image_free(struct map_image *s);

/* ---- ring state: the sweep's unflagging of changed slots (ringsweep.c), driven by conns.c ---- */
struct ring_sweep;
struct ring_sweep *ring_sweep_new(void);
void ring_sweep_free(struct ring_sweep *r);
/* A pass over xlvs_conns begins at jiffies now: the slots it may unflag. */
int ring_sweep_begin(struct xlvs_maps *m, struct ring_sweep *r, uint32_t now);
/* An unexpired entry of the pass, real its current real (NULL: none). */
void ring_sweep_note(struct ring_sweep *r, const struct xlvs_flow *f, const struct xlvs_conn *c,
		     const struct xlvs_real *real);
/* The pass ended (complete: it read the whole table); st: ring_cleared, ring_held. */
int ring_sweep_end(struct xlvs_maps *m, struct ring_sweep *r, bool complete, struct xlvs_sweep_stats *st);

static inline bool real_active(const struct xlvs_real *r)
{
	return r->flags & XLVS_REAL_F_ACTIVE;
}

#endif /* XLVS_MAPS_INTERNAL_H */
