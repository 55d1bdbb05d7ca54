// SPDX-License-Identifier: GPL-2.0
/*
 * Connection lifetimes in userspace: the same rule as the data path's
 * conn_expired() (bpf/conntrack.h), for the counts ipvsadm shows, the CLI's
 * listing and xlvsd's sweep, which deletes expired entries a bounded number
 * at a time.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <bpf/bpf.h>

#include "internal.h"

#define SWEEP_CHUNK    4096u /* entries per batch lookup */
#define SWEEP_MIN_READ 256u  /* a hash batch needs room for a whole bucket */

uint32_t xlvs_conn_lifetime_s(const struct xlvs_config *cfg, const struct xlvs_real *real, uint8_t proto,
			      uint8_t state)
{
	uint32_t i = proto == IPPROTO_UDP ? XLVS_TO_UDP : state & (XLVS_TO_MAX - 1);

	return real && real->timeout[i] ? real->timeout[i] : cfg->timeout[i];
}

int64_t xlvs_conn_left(const struct xlvs_config *cfg, const struct xlvs_real *real, uint8_t proto,
		       const struct xlvs_conn *c, uint32_t now)
{
	uint32_t idle = now - c->last_seen;

	if (!cfg->hz)
		return INT64_MAX;
	/* A "negative" age: the entry was refreshed after now was read. */
	if (idle > INT32_MAX)
		idle = 0;
	return (int64_t)xlvs_conn_lifetime_s(cfg, real, proto, c->state) * cfg->hz - idle;
}

/* What deciding an entry's expiry needs: read once per walk, reals as entries name them. */
struct conn_clock {
	struct xlvs_config cfg;
	uint32_t now;
	int reals_fd;
	struct xlvs_real *reals; /* by id: a cache of xlvs_reals, XLVS_MAX_REALS of them */
	uint32_t *read_in;	 /* by id: the walk that last read reals[id] */
	uint32_t walk;
};

static int clock_init(struct conn_clock *cc)
{
	cc->reals = calloc(XLVS_MAX_REALS, sizeof(*cc->reals));
	cc->read_in = calloc(XLVS_MAX_REALS, sizeof(*cc->read_in));
	return cc->reals && cc->read_in ? 0 : -ENOMEM;
}

static void clock_free(struct conn_clock *cc)
{
	free(cc->reals);
	free(cc->read_in);
}

/* A new walk: the config and the time now; reals are read again as entries name them. */
static int clock_read(struct xlvs_maps *m, struct conn_clock *cc)
{
	struct xlvs_jiffies j;
	int err = xlvs_maps_get_config(m, &cc->cfg);

	if (!err)
		err = xlvs_jiffies_read(&j);
	cc->now = j.now;
	cc->reals_fd = m->reals;
	cc->walk++;
	return err;
}

/* The real an entry belongs to as the data path sees it, or NULL (removed, id reused). */
static const struct xlvs_real *entry_real(struct conn_clock *cc, const struct xlvs_conn *c)
{
	struct xlvs_real *r;

	if (c->real_id >= XLVS_MAX_REALS)
		return NULL;
	r = &cc->reals[c->real_id];
	if (cc->read_in[c->real_id] != cc->walk) {
		if (bpf_map_lookup_elem(cc->reals_fd, &c->real_id, r))
			memset(r, 0, sizeof(*r)); /* unreadable: as if removed */
		cc->read_in[c->real_id] = cc->walk;
	}
	return xlvs_conn_is_current(c, r) ? r : NULL;
}

static bool expired(struct conn_clock *cc, const struct xlvs_flow *f, const struct xlvs_conn *c)
{
	return xlvs_conn_left(&cc->cfg, entry_real(cc, c), f->proto, c, cc->now) < 0;
}

/* ---- counts ---- */

struct count_ctx {
	struct conn_clock clock;
	struct xlvs_conn_counts *per_real;
	size_t nr;
	uint64_t entries;
};

static int count_one(const struct xlvs_flow *flow, const struct xlvs_conn *conn, void *arg)
{
	struct count_ctx *c = arg;

	c->entries++;
	if (conn->real_id >= c->nr || !entry_real(&c->clock, conn) || expired(&c->clock, flow, conn))
		return 0;
	if (flow->proto == IPPROTO_TCP && conn->state == XLVS_CONN_OPEN)
		c->per_real[conn->real_id].active++;
	else
		c->per_real[conn->real_id].inactive++;
	return 0;
}

int xlvs_conn_usage(struct xlvs_maps *m, struct xlvs_conn_table *table, struct xlvs_conn_counts *per_real,
		    size_t nr_real_ids)
{
	struct count_ctx c = { .per_real = per_real, .nr = per_real ? nr_real_ids : 0 };
	int err = clock_init(&c.clock);

	if (!err)
		err = clock_read(m, &c.clock);
	if (!err) {
		if (c.nr > XLVS_MAX_REALS)
			c.nr = XLVS_MAX_REALS;
		if (per_real)
			memset(per_real, 0, nr_real_ids * sizeof(*per_real));
		err = xlvs_conns_foreach(m, count_one, &c);
	}
	clock_free(&c.clock);
	if (!err && table)
		*table = (struct xlvs_conn_table){ .entries = c.entries, .capacity = m->conn_entries };
	return err;
}

int xlvs_conn_counts(struct xlvs_maps *m, struct xlvs_conn_counts *per_real, size_t nr_real_ids)
{
	return xlvs_conn_usage(m, NULL, per_real, nr_real_ids);
}

/* ---- the sweep ---- */

struct xlvs_sweep {
	struct map_iter it;
	bool running; /* it holds a pass in progress */
	struct conn_clock clock;
	struct xlvs_flow keys[SWEEP_CHUNK];
	struct xlvs_conn vals[SWEEP_CHUNK];
	struct xlvs_flow doomed[SWEEP_CHUNK];
};

struct xlvs_sweep *xlvs_sweep_new(void)
{
	struct xlvs_sweep *s = calloc(1, sizeof(struct xlvs_sweep));

	if (s && clock_init(&s->clock)) {
		xlvs_sweep_free(s);
		return NULL;
	}
	return s;
}

void xlvs_sweep_free(struct xlvs_sweep *s)
{
	if (s)
		clock_free(&s->clock);
	free(s);
}

/* Delete n keys, batched where the kernel can; a key gone meanwhile is skipped. Returns how many went. */
static int delete_keys(struct xlvs_maps *m, const struct xlvs_flow *keys, uint32_t n)
{
	uint32_t done = 0, gone = 0;
	__u32 cnt;
	int err;

	while (done < n) {
		cnt = n - done;
		err = bpf_map_delete_batch(m->conns, keys + done, &cnt, NULL);
		if (err == -EINVAL || err == -ENOTSUP || err == -524 /* ENOTSUPP */) {
			err = bpf_map_delete_elem(m->conns,
						  keys + done++); /* no batch deletes: one at a time */
			if (err && err != -ENOENT)
				return err;
			gone += !err;
			continue;
		}
		gone += cnt;
		done += cnt;
		if (err == -ENOENT) /* the data path or the LRU took it first: skip it */
			done++;
		else if (err)
			return err;
	}
	return (int)gone;
}

static int sweep_chunk(struct xlvs_maps *m, struct xlvs_sweep *s, uint32_t n, struct xlvs_sweep_stats *st)
{
	uint32_t i, nd = 0;
	int rc;

	st->scanned += n;
	for (i = 0; i < n; i++)
		if (expired(&s->clock, &s->keys[i], &s->vals[i]))
			s->doomed[nd++] = s->keys[i];
	st->expired += nd;
	rc = delete_keys(m, s->doomed, nd);
	if (rc < 0)
		return rc;
	st->deleted += (uint32_t)rc;
	return 0;
}

int xlvs_sweep_step(struct xlvs_maps *m, struct xlvs_sweep *s, uint32_t budget, struct xlvs_sweep_stats *st)
{
	uint32_t want, left = budget;
	int n, err = clock_read(m, &s->clock);

	/* Reads of fewer than SWEEP_MIN_READ only as a step's first. */
	while (!err && left && (left == budget || left >= SWEEP_MIN_READ)) {
		if (!s->running) {
			map_iter_init(&s->it, m->conns, sizeof(struct xlvs_flow), sizeof(struct xlvs_conn));
			s->running = true;
		}
		want = left < SWEEP_MIN_READ ? SWEEP_MIN_READ : left;
		n = map_iter_read(&s->it, s->keys, s->vals, want < SWEEP_CHUNK ? want : SWEEP_CHUNK);
		if (n <= 0) { /* the end of the table (a pass done), or an error: start over next time */
			s->running = false;
			st->passes += !n;
			err = n;
			break;
		}
		left -= (uint32_t)n < left ? (uint32_t)n : left;
		err = sweep_chunk(m, s, (uint32_t)n, st);
	}
	return err;
}
