// SPDX-License-Identifier: GPL-2.0
/*
 * Persistence templates (xlvs_persist, bpf/persist.h) in userspace: their
 * lifetime as the data path judges it, a walk for listings, and the bounded
 * sweep of expired ones that xlvsd runs with the connection sweep.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "internal.h"

#define TPL_CHUNK 4096u /* entries per batch lookup */
#define TPL_MIN	  256u	/* a hash batch needs room for a whole bucket */

int64_t xlvs_persist_left(const struct xlvs_config *cfg, uint32_t timeout_s, const struct xlvs_persist *t,
			  uint32_t now)
{
	uint32_t idle = now - t->last_seen;

	if (!cfg->hz)
		return INT64_MAX;
	if (idle > INT32_MAX) /* stamped after now was read */
		idle = 0;
	return (int64_t)timeout_s * cfg->hz - idle;
}

int xlvs_persist_foreach(struct xlvs_maps *m, xlvs_persist_cb cb, void *ctx)
{
	struct xlvs_svc_addr_key *keys = malloc(TPL_CHUNK * sizeof(*keys));
	struct xlvs_persist *vals = malloc(TPL_CHUNK * sizeof(*vals));
	struct map_iter it;
	int i, n, ret = -ENOMEM;

	if (!keys || !vals)
		goto out;
	ret = 0;
	map_iter_init(&it, m->persist, sizeof(*keys), sizeof(*vals));
	while (!ret && (n = map_iter_read(&it, keys, vals, TPL_CHUNK)) > 0)
		for (i = 0; i < n && !ret; i++)
			ret = cb(&keys[i], &vals[i], ctx);
	if (!ret && n < 0)
		ret = n;
out:
	free(keys);
	free(vals);
	return ret;
}

/* ---- the sweep ---- */

struct xlvs_persist_sweep {
	struct map_iter it;
	bool running;
	struct xlvs_config cfg;
	uint32_t now;
	uint32_t timeout_s[XLVS_MAX_SERVICES]; /* by service id; 0: no such service, or not persistent */
	struct xlvs_svc_addr_key keys[TPL_CHUNK];
	struct xlvs_persist vals[TPL_CHUNK];
	struct xlvs_svc_addr_key doomed[TPL_CHUNK];
};

struct xlvs_persist_sweep *xlvs_persist_sweep_new(void)
{
	return calloc(1, sizeof(struct xlvs_persist_sweep));
}

void xlvs_persist_sweep_free(struct xlvs_persist_sweep *s)
{
	free(s);
}

/* The clock, the config and every service's persistence timeout, read once per step. */
static int read_services(struct xlvs_maps *m, struct xlvs_persist_sweep *s)
{
	struct xlvs_svc_key keys[256];
	struct xlvs_service vals[256];
	struct xlvs_jiffies j;
	struct map_iter it;
	int i, n, err = xlvs_maps_get_config(m, &s->cfg);

	if (!err)
		err = xlvs_jiffies_read(&j);
	if (err)
		return err;
	s->now = j.now;
	memset(s->timeout_s, 0, sizeof(s->timeout_s));
	map_iter_init(&it, m->services, sizeof(*keys), sizeof(*vals));
	while ((n = map_iter_read(&it, keys, vals, 256)) > 0)
		for (i = 0; i < n; i++)
			if (vals[i].id < XLVS_MAX_SERVICES)
				s->timeout_s[vals[i].id] = vals[i].persist_timeout;
	return n;
}

/* Expired, or of a service that is gone or no longer persistent: the data path would not follow it. */
static bool tpl_dead(const struct xlvs_persist_sweep *s, const struct xlvs_svc_addr_key *k,
		     const struct xlvs_persist *t)
{
	uint32_t timeout = k->svc_id < XLVS_MAX_SERVICES ? s->timeout_s[k->svc_id] : 0;

	return !timeout || xlvs_persist_left(&s->cfg, timeout, t, s->now) < 0;
}

static int delete_templates(struct xlvs_maps *m, const struct xlvs_svc_addr_key *keys, uint32_t n)
{
	uint32_t i, gone = 0;
	int err;

	/* One at a time: a packet may have refreshed one since it was read; rare, and then it goes too. */
	for (i = 0; i < n; i++) {
		err = bpf_map_delete_elem(m->persist, &keys[i]);
		if (err && err != -ENOENT)
			return err;
		gone += !err;
	}
	return (int)gone;
}

int xlvs_persist_sweep_step(struct xlvs_maps *m, struct xlvs_persist_sweep *s, uint32_t budget,
			    struct xlvs_sweep_stats *st)
{
	uint32_t want, left = budget, i, nd;
	int n, err = read_services(m, s);

	while (!err && left && (left == budget || left >= TPL_MIN)) {
		if (!s->running) {
			map_iter_init(&s->it, m->persist, sizeof(*s->keys), sizeof(*s->vals));
			s->running = true;
		}
		want = left < TPL_MIN ? TPL_MIN : left;
		n = map_iter_read(&s->it, s->keys, s->vals, want < TPL_CHUNK ? want : TPL_CHUNK);
		if (n <= 0) { /* a pass done, or an error: start over next time */
			s->running = false;
			st->passes += !n;
			err = n;
			break;
		}
		left -= (uint32_t)n < left ? (uint32_t)n : left;
		st->scanned += (uint32_t)n;
		for (i = 0, nd = 0; i < (uint32_t)n; i++)
			if (tpl_dead(s, &s->keys[i], &s->vals[i]))
				s->doomed[nd++] = s->keys[i];
		st->expired += nd;
		n = delete_templates(m, s->doomed, nd);
		if (n < 0)
			return n;
		st->deleted += (uint32_t)n;
	}
	return err;
}
