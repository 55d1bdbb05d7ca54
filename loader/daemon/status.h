/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What xlvsd knows about its own health, shared with the metrics exporter.
 * The daemon writes it from its event loop; libmicrohttpd reads it from its
 * own thread, hence the lock. Readers take a snapshot and format from that.
 */
#ifndef XLVS_HEALTH_H
#define XLVS_HEALTH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct xlvs_health {
	pthread_mutex_t lock;
	time_t start_time;		/* when xlvsd started (wall clock) */
	uint64_t reloads_ok;		/* SIGHUP / control reloads applied */
	uint64_t reloads_failed;	/* reloads refused (bad file) or failed to apply */
	time_t last_reload_time;	/* 0 = never reloaded */
	bool last_reload_ok;
	uint32_t services;		/* services in the applied desired state */
	uint32_t reals;			/* reals in the applied desired state */
	/* More families, rendered by their owner (health checks); set before the exporter starts. */
	void (*extra_metrics)(FILE *f, void *arg);
	void *extra_arg;
};

#define XLVS_HEALTH_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

static inline void xlvs_health_init(struct xlvs_health *h)
{
	*h = (struct xlvs_health){ 0 };
	pthread_mutex_init(&h->lock, NULL);
	h->start_time = time(NULL);
}

static inline void health_lock(struct xlvs_health *h)
{
	pthread_mutex_lock(&h->lock);
}

static inline void health_unlock(struct xlvs_health *h)
{
	pthread_mutex_unlock(&h->lock);
}

/* Copy the fields (not the lock) under the lock; out's lock is left untouched. */
static inline void xlvs_health_snapshot(struct xlvs_health *h, struct xlvs_health *out)
{
	health_lock(h);
	out->start_time = h->start_time;
	out->reloads_ok = h->reloads_ok;
	out->reloads_failed = h->reloads_failed;
	out->last_reload_time = h->last_reload_time;
	out->last_reload_ok = h->last_reload_ok;
	out->services = h->services;
	out->reals = h->reals;
	health_unlock(h);
}

#endif /* XLVS_HEALTH_H */
