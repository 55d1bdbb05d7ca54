/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The plan of one xlvs_apply(): everything decided before the first write
 * (plan.c), then carried out in a safe order (apply.c). Not API.
 */
#ifndef XLVS_MAPS_PLAN_H
#define XLVS_MAPS_PLAN_H

#include "internal.h"

/* Maglev key of a real: family, address (16 bytes), port (network order). */
#define REAL_KEY_LEN 19

struct rplan { /* a desired real */
	uint8_t key[REAL_KEY_LEN];
	const struct xlvs_real_spec *spec;
	uint32_t id;
	bool fresh; /* id allocated by this apply */
};

struct splan { /* a service key that is desired, in the maps, or both */
	struct xlvs_svc_key key;
	const struct xlvs_svc_spec *want; /* NULL: delete it */
	const struct xlvs_service *cur;	  /* its entry in the maps; NULL: none */
	bool own_reals; /* cur->id is valid and unique: reals with that svc_id are its own */
	bool slice_ok;	/* cur's ring slice is valid and overlaps no other */
	bool fresh_id;
	bool fresh_slice;	   /* the ring goes where this service had no ring */
	bool ring_dirty;	   /* (re)build the ring */
	bool ring_flag_all;	   /* ring state: every slot of the slice written XLVS_SLOT_CHANGED */
	struct xlvs_service entry; /* the entry to have (want only) */
	uint32_t nreals;
	struct rplan *reals; /* want's reals, by key */
};

struct vplan { /* a VIP address that is desired, in the maps, or both */
	struct xlvs_vip_key key;
	struct xlvs_vip want, cur;
	bool has_want, has_cur;
	bool done; /* synced by this apply */
};

/* Service id owners while planning, besides map image indexes. */
#define OWNER_NONE  (-1)
#define OWNER_FRESH (-2) /* allocated by this apply */

/* What an apply wrote, by service (xlvs_apply_with()): its id and its reals' keys and ids. */
struct memo_svc {
	struct xlvs_svc_key key;
	uint32_t id, nreals;
	struct rplan *reals; /* by key; spec NULL */
};

struct xlvs_apply_memo {
	uint32_t nsvcs;
	struct memo_svc *svcs; /* by key */
	struct rplan *rmem;
};

struct plan {
	struct xlvs_maps *m;
	unsigned int flags; /* XLVS_APPLY_F_* */
	struct xlvs_apply_stats *st;
	struct map_image img;
	int32_t owner[XLVS_MAX_SERVICES]; /* image index of the service owning an id */
	uint8_t kept[XLVS_MAX_REALS];	  /* ACTIVE reals that stay */
	uint32_t nsvcs;
	struct splan *svcs; /* by key */
	struct rplan *rmem;
	uint32_t nvips;
	struct vplan *vips;	      /* by key */
	uint32_t max_ring, max_reals; /* sizes the scratch below */
	uint32_t ring_slots;	      /* of xlvs_ring (m's, or the planned maps') */
	const struct xlvs_spec *want;
	uint32_t reals_end;		    /* xlvs_reals ids read: xlvs_apply_with(); 0: all */
	const struct xlvs_apply_memo *memo; /* with scope: the services' reals */
	const uint8_t *scope;		    /* want's services planned; NULL: all (xlvs_apply_with()) */
	char *msg;			    /* why the plan failed; NULL: not asked */
	size_t msg_size;
};

/* p->m NULL: plan against empty maps of p->ring_slots slots. */
int plan_make(struct plan *p, const struct xlvs_spec *want);
/* The same for p->scope's services only (p->memo, p->m required); -ESTALE: not possible, plan them all. */
int plan_make_scoped(struct plan *p, const struct xlvs_spec *want);
void plan_free(struct plan *p);
/* The rings' sum within XLVS_RING_SLOTS_MAX: 0, or -ENOSPC with msg (may be NULL). */
int plan_ring_sum(const struct xlvs_spec *want, char *msg, size_t size);
struct vplan *plan_vip(struct plan *p, const struct xlvs_svc_key *k);

#endif /* XLVS_MAPS_PLAN_H */
