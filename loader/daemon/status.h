/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What xlvsd knows about itself (start time, reloads, what it applied), shared
 * with the metrics exporter. Not the health checks of reals: loader/health/.
 * The daemon writes it from its event loop; libmicrohttpd reads it from its
 * own thread, hence the lock. Readers take a snapshot and format from that.
 */
#ifndef XLVSD_STATUS_H
#define XLVSD_STATUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct xlvsd_status {
	pthread_mutex_t lock;
	time_t start_time;	 /* when xlvsd started (wall clock) */
	uint64_t reloads_ok;	 /* SIGHUP / control reloads applied */
	uint64_t reloads_failed; /* reloads refused (bad file) or failed to apply */
	time_t last_reload_time; /* 0 = never reloaded */
	bool last_reload_ok;
	uint32_t services; /* services in the applied desired state */
	uint32_t reals;	   /* reals in the applied desired state */
	/* Faults survived (watch.c, docs/reliability.md) */
	uint64_t pins_restored;	    /* pins put back after someone removed or replaced them */
	uint64_t ifaces_lost;	    /* configured interfaces deleted under xlvsd */
	uint64_t ifaces_reattached; /* ... and attached again when they came back */
	uint64_t map_full;	    /* map writes refused for lack of room */
	/* The schedulers' connection counts (sweep.h) */
	uint64_t reconciles;	    /* counting passes done */
	uint64_t reconcile_raised;  /* units the last one added to counts found too low */
	uint64_t reconcile_lowered; /* units it took off counts found too high */
	/* Ring state: the sweep's passes over changed slots since xlvsd started (xlvs_sweep_stats) */
	uint64_t ring_cleared; /* slots unflagged */
	uint64_t ring_held;    /* slots kept flagged past their window, once per pass */
	/* More families, rendered by their owner (health checks); set before the exporter starts. */
	void (*extra_metrics)(FILE *f, void *arg);
	void *extra_arg;
};

static inline void xlvsd_status_init(struct xlvsd_status *h)
{
	*h = (struct xlvsd_status){ 0 };
	pthread_mutex_init(&h->lock, NULL);
	h->start_time = time(NULL);
}

static inline void status_lock(struct xlvsd_status *h)
{
	pthread_mutex_lock(&h->lock);
}

static inline void status_unlock(struct xlvsd_status *h)
{
	pthread_mutex_unlock(&h->lock);
}

/* Copy the fields (not the lock) under the lock; out's lock is left untouched. */
static inline void xlvsd_status_snapshot(struct xlvsd_status *h, struct xlvsd_status *out)
{
	status_lock(h);
	out->start_time = h->start_time;
	out->reloads_ok = h->reloads_ok;
	out->reloads_failed = h->reloads_failed;
	out->last_reload_time = h->last_reload_time;
	out->last_reload_ok = h->last_reload_ok;
	out->services = h->services;
	out->reals = h->reals;
	out->pins_restored = h->pins_restored;
	out->ifaces_lost = h->ifaces_lost;
	out->ifaces_reattached = h->ifaces_reattached;
	out->map_full = h->map_full;
	out->reconciles = h->reconciles;
	out->reconcile_raised = h->reconcile_raised;
	out->reconcile_lowered = h->reconcile_lowered;
	out->ring_cleared = h->ring_cleared;
	out->ring_held = h->ring_held;
	status_unlock(h);
}

#endif /* XLVSD_STATUS_H */
