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
#include <sys/mman.h>

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

/* The class an entry counts in (ipvsadm's ActiveConn, else InActConn), for the walks and xlvs_real_load. */
static bool conn_active(const struct xlvs_flow *f, const struct xlvs_conn *c)
{
	return f->proto == IPPROTO_TCP && c->state == XLVS_CONN_OPEN;
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
	if (conn_active(flow, conn))
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

/* ---- the connection counts of the least-connection schedulers (xlvs_real_load) ---- */

int xlvs_real_load_read(struct xlvs_maps *m, uint32_t real_id, struct xlvs_real_load *l)
{
	return bpf_map_lookup_elem(m->real_load, &real_id, l);
}

/*
 * xlvs_real_load mapped (it is BPF_F_MMAPABLE): userspace's changes are atomic
 * adds on the same words as the data path's, so none of its adds is lost, as
 * a map update (read, change, write back) would lose those in between.
 */
#define LOAD_BYTES ((size_t)XLVS_MAX_REALS * sizeof(struct xlvs_real_load))

struct load_map {
	int fd; /* the map fd it was mapped from */
	struct xlvs_real_load *v;
};

static void load_unmap(struct load_map *l)
{
	if (l->v)
		munmap(l->v, LOAD_BYTES);
	l->v = NULL;
}

/* Maps fd unless it is mapped already; on failure l->v is NULL. */
static int load_map(struct load_map *l, int fd)
{
	void *v;

	if (l->v && l->fd == fd)
		return 0;
	load_unmap(l);
	v = mmap(NULL, LOAD_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (v == MAP_FAILED)
		return -errno;
	l->v = v;
	l->fd = fd;
	return 0;
}

static void load_add(struct load_map *l, uint32_t id, bool active, int32_t delta)
{
	__s32 *c = active ? &l->v[id].active : &l->v[id].inactive;

	__atomic_fetch_add(c, delta, __ATOMIC_RELAXED);
}

/* Make *c read want (adding the difference, so concurrent adds stay); returns the difference. */
static int64_t load_fix(__s32 *c, int32_t want)
{
	int64_t d = (int64_t)want - __atomic_load_n(c, __ATOMIC_RELAXED);

	if (d)
		__atomic_fetch_add(c, (__s32)d, __ATOMIC_RELAXED);
	return d;
}

static bool counted(const struct xlvs_real *r)
{
	return r && (r->flags & XLVS_REAL_F_COUNTED);
}

/* ---- the sweep ---- */

/* What a counting pass found of one real id. */
struct tally {
	int32_t active, inactive;
	uint32_t gen; /* of the real the entries were counted for */
	bool seen;
};

/*
 * An entry a counting pass counted while its class could still change (TCP,
 * not closing), to be read again at the pass's end: counted as it was when
 * read, a connection that opens or closes before the pass ends would be put
 * back in its old class by the correction and stay there until the next
 * reconcile (one active too many weighs 256 in lc/wlc: its real gets no new
 * connection for up to 30 s). At most SWEEP_LIVE_MAX per pass, beyond them as
 * read: the re-reads are single lookups at the pass's last step, 8192 of them
 * ~40 ms on the loaded development machine (tests/unit/test_load.c).
 */
struct live {
	struct xlvs_flow key;
	uint32_t real_id, gen;
	bool active;
};

#define SWEEP_LIVE_MAX 8192u

struct xlvs_sweep {
	struct map_iter it;
	bool running;	   /* it holds a pass in progress */
	bool count_wanted; /* the next step starts a counting pass */
	bool counting;	   /* the pass in progress counts */
	struct conn_clock clock;
	struct load_map load;
	struct tally *tally; /* by real id */
	struct live *live;   /* a counting pass's entries to read again at its end */
	uint32_t nlive, live_cap;
	struct ring_sweep *ring; /* ring-state slots the pass in progress may unflag */
	struct xlvs_flow keys[SWEEP_CHUNK];
	struct xlvs_conn vals[SWEEP_CHUNK];
	struct xlvs_flow doomed[SWEEP_CHUNK];
	struct xlvs_conn doomed_vals[SWEEP_CHUNK];
	bool went[SWEEP_CHUNK]; /* doomed[i] deleted by this sweep */
};

struct xlvs_sweep *xlvs_sweep_new(void)
{
	struct xlvs_sweep *s = calloc(1, sizeof(struct xlvs_sweep));

	if (s && (clock_init(&s->clock) || !(s->tally = calloc(XLVS_MAX_REALS, sizeof(*s->tally))) ||
		  !(s->ring = ring_sweep_new()))) {
		xlvs_sweep_free(s);
		return NULL;
	}
	return s;
}

void xlvs_sweep_free(struct xlvs_sweep *s)
{
	if (s) {
		clock_free(&s->clock);
		load_unmap(&s->load);
		free(s->tally);
		free(s->live);
		ring_sweep_free(s->ring);
	}
	free(s);
}

void xlvs_sweep_reconcile(struct xlvs_sweep *s)
{
	s->count_wanted = true;
}

bool xlvs_sweep_reconciling(const struct xlvs_sweep *s)
{
	return s->count_wanted || s->counting;
}

/*
 * Delete n keys, batched where the kernel can; a key gone meanwhile is
 * skipped. went[i]: keys[i] was deleted here (the data path counts those it
 * deletes itself). Returns how many went.
 */
static int delete_keys(int fd, const struct xlvs_flow *keys, uint32_t n, bool *went)
{
	uint32_t done = 0, gone = 0;
	__u32 cnt;
	int err;

	memset(went, 0, n * sizeof(*went));
	while (done < n) {
		cnt = n - done;
		err = bpf_map_delete_batch(fd, keys + done, &cnt, NULL);
		if (err == -EINVAL || err == -ENOTSUP || err == -524 /* ENOTSUPP */) {
			/* no batch deletes: one at a time */
			err = bpf_map_delete_elem(fd, keys + done);
			if (err && err != -ENOENT)
				return err;
			went[done++] = !err;
			gone += !err;
			continue;
		}
		/* a batch delete stops at its first failure: the cnt before it went */
		memset(went + done, 1, cnt * sizeof(*went));
		gone += cnt;
		done += cnt;
		if (err == -ENOENT) /* the data path or the LRU took it first: skip it */
			done++;
		else if (err)
			return err;
	}
	return (int)gone;
}

/* Take the entries this sweep deleted off their real's count, if it keeps one for them. */
static uint32_t uncount(struct xlvs_sweep *s, uint32_t nd)
{
	const struct xlvs_real *r;
	uint32_t i, n = 0;

	for (i = 0; s->load.v && i < nd; i++) {
		if (!s->went[i])
			continue;
		r = entry_real(&s->clock, &s->doomed_vals[i]);
		if (!counted(r))
			continue;
		load_add(&s->load, s->doomed_vals[i].real_id, conn_active(&s->doomed[i], &s->doomed_vals[i]),
			 -1);
		n++;
	}
	return n;
}

/* Room for one more live entry (doubling up to SWEEP_LIVE_MAX); false: count it as read. */
static bool live_room(struct xlvs_sweep *s)
{
	uint32_t cap = s->live_cap ? s->live_cap * 2 : 256;
	struct live *v;

	if (s->nlive < s->live_cap)
		return true;
	if (cap > SWEEP_LIVE_MAX || !(v = realloc(s->live, cap * sizeof(*v))))
		return false;
	s->live = v;
	s->live_cap = cap;
	return true;
}

/* A counting pass: an entry left in place counts for its real; one that may change class is noted (live). */
static void tally_one(struct xlvs_sweep *s, const struct xlvs_flow *f, const struct xlvs_conn *c, bool note)
{
	const struct xlvs_real *r = entry_real(&s->clock, c);
	struct tally *t;

	if (!counted(r))
		return;
	t = &s->tally[c->real_id];
	if (t->seen && t->gen != r->gen) /* the id went to another real during the pass */
		memset(t, 0, sizeof(*t));
	t->seen = true;
	t->gen = r->gen;
	if (conn_active(f, c))
		t->active++;
	else
		t->inactive++;
	if (note && f->proto == IPPROTO_TCP && c->state != XLVS_CONN_CLOSING && live_room(s))
		s->live[s->nlive++] = (struct live){
			.key = *f, .real_id = c->real_id, .gen = r->gen, .active = conn_active(f, c)
		};
}

/* At a counting pass's end: each live entry counted as it is now (gone or expired: not at all). */
static void tally_live_again(struct xlvs_maps *m, struct xlvs_sweep *s)
{
	struct xlvs_conn c;
	struct tally *t;
	uint32_t i;

	for (i = 0; i < s->nlive; i++) {
		t = &s->tally[s->live[i].real_id];
		if (t->seen && t->gen == s->live[i].gen) {
			if (s->live[i].active)
				t->active--;
			else
				t->inactive--;
		}
		if (!bpf_map_lookup_elem(m->conns, &s->live[i].key, &c) &&
		    !expired(&s->clock, &s->live[i].key, &c))
			tally_one(s, &s->live[i].key, &c, false);
	}
	s->nlive = 0;
}

static int sweep_chunk(struct xlvs_maps *m, struct xlvs_sweep *s, uint32_t n, struct xlvs_sweep_stats *st)
{
	uint32_t i, nd = 0;
	int rc;

	st->scanned += n;
	for (i = 0; i < n; i++) {
		if (expired(&s->clock, &s->keys[i], &s->vals[i])) {
			s->doomed_vals[nd] = s->vals[i];
			s->doomed[nd++] = s->keys[i];
		} else {
			if (s->counting)
				tally_one(s, &s->keys[i], &s->vals[i], true);
			ring_sweep_note(s->ring, &s->keys[i], &s->vals[i],
					entry_real(&s->clock, &s->vals[i]));
		}
	}
	st->expired += nd;
	rc = delete_keys(m->conns, s->doomed, nd, s->went);
	if (rc < 0)
		return rc;
	st->deleted += (uint32_t)rc;
	st->uncounted += uncount(s, nd);
	return 0;
}

/* The end of a counting pass: every ACTIVE real's load made what the pass counted (0: not COUNTED). */
static int reconcile(struct xlvs_maps *m, struct xlvs_sweep *s, struct xlvs_sweep_stats *st)
{
	struct xlvs_real *reals = NULL;
	const struct tally *t;
	int64_t d[2];
	uint32_t id;
	int err = s->load.v ? dump_array(m->reals, sizeof(*reals), XLVS_MAX_REALS, (void **)&reals) : -ENXIO;

	for (id = 0; !err && id < XLVS_MAX_REALS; id++) {
		t = &s->tally[id];
		/* an id given to another real since its entries were counted: the apply zeroed it */
		if (!real_active(&reals[id]) || (t->seen && t->gen != reals[id].gen))
			continue;
		d[0] = load_fix(&s->load.v[id].active, counted(&reals[id]) ? t->active : 0);
		d[1] = load_fix(&s->load.v[id].inactive, counted(&reals[id]) ? t->inactive : 0);
		st->raised += (uint64_t)(d[0] > 0 ? d[0] : 0) + (uint64_t)(d[1] > 0 ? d[1] : 0);
		st->lowered += (uint64_t)(d[0] < 0 ? -d[0] : 0) + (uint64_t)(d[1] < 0 ? -d[1] : 0);
	}
	free(reals);
	st->reconciles += !err;
	return err;
}

/* Before a step: start the counting pass asked for, from the table's start. */
static void count_start(struct xlvs_sweep *s)
{
	if (!s->count_wanted)
		return;
	s->count_wanted = false;
	s->counting = true;
	s->running = false;
	s->nlive = 0;
	memset(s->tally, 0, XLVS_MAX_REALS * sizeof(*s->tally));
}

/* The end of the table (n 0: a pass done) or a read error (n < 0: start over next time). */
static int pass_end(struct xlvs_maps *m, struct xlvs_sweep *s, int n, struct xlvs_sweep_stats *st)
{
	bool counting = s->counting;
	int err = ring_sweep_end(m, s->ring, !n, st);

	s->running = false;
	s->counting = false;
	st->passes += !n;
	if (counting && n < 0)
		s->count_wanted = true; /* counted part of the table only: count again */
	if (n < 0)
		return n;
	if (counting)
		tally_live_again(m, s);
	return (counting ? reconcile(m, s, st) : 0) ?: err;
}

int xlvs_sweep_step(struct xlvs_maps *m, struct xlvs_sweep *s, uint32_t budget, struct xlvs_sweep_stats *st)
{
	uint32_t want, left = budget;
	int n, err = clock_read(m, &s->clock);
	/* without the mapping the sweep still deletes, but counts nothing: said as the step's error */
	int map_err = load_map(&s->load, m->real_load);
	int ring_err = 0; /* likewise: without its candidates the pass unflags no ring slot */

	count_start(s);
	/* Reads of fewer than SWEEP_MIN_READ only as a step's first. */
	while (!err && left && (left == budget || left >= SWEEP_MIN_READ)) {
		if (!s->running) {
			map_iter_init(&s->it, m->conns, sizeof(struct xlvs_flow), sizeof(struct xlvs_conn));
			s->running = true;
			ring_err = ring_sweep_begin(m, s->ring, s->clock.now);
		}
		want = left < SWEEP_MIN_READ ? SWEEP_MIN_READ : left;
		n = map_iter_read(&s->it, s->keys, s->vals, want < SWEEP_CHUNK ? want : SWEEP_CHUNK);
		if (n <= 0) {
			err = pass_end(m, s, n, st);
			break;
		}
		left -= (uint32_t)n < left ? (uint32_t)n : left;
		err = sweep_chunk(m, s, (uint32_t)n, st);
	}
	return err ?: map_err ?: ring_err;
}

/* ---- xlvs_nat: reply entries whose connection is gone ---- */

struct xlvs_nat_sweep {
	struct map_iter it;
	bool running;
	struct conn_clock clock;
	struct xlvs_flow keys[SWEEP_CHUNK];
	struct xlvs_nat_rev vals[SWEEP_CHUNK];
	struct xlvs_flow doomed[SWEEP_CHUNK];
	bool went[SWEEP_CHUNK];
};

struct xlvs_nat_sweep *xlvs_nat_sweep_new(void)
{
	struct xlvs_nat_sweep *s = calloc(1, sizeof(struct xlvs_nat_sweep));

	if (s && clock_init(&s->clock)) {
		xlvs_nat_sweep_free(s);
		return NULL;
	}
	return s;
}

void xlvs_nat_sweep_free(struct xlvs_nat_sweep *s)
{
	if (s)
		clock_free(&s->clock);
	free(s);
}

/*
 * Whether a reply entry is still its connection's: the forward entry exists,
 * has not expired, names the same real generation, and (fullnat) the same
 * source port towards the real, or (nat) the client's port. Otherwise the
 * entry would keep a fullnat source port from reuse until the LRU evicts it.
 */
static bool nat_live(struct xlvs_maps *m, struct conn_clock *cc, const struct xlvs_flow *reply,
		     const struct xlvs_nat_rev *rev)
{
	struct xlvs_flow f;
	struct xlvs_conn c;

	xlvs_nat_fwd_key(reply, rev, &f);
	if (bpf_map_lookup_elem(m->conns, &f, &c))
		return false;
	if (c.real_id != rev->real_id || c.real_gen != rev->real_gen || expired(cc, &f, &c))
		return false;
	return reply->dport == (c.snat_port ? c.snat_port : rev->cport);
}

int xlvs_nat_sweep_step(struct xlvs_maps *m, struct xlvs_nat_sweep *s, uint32_t budget,
			struct xlvs_sweep_stats *st)
{
	uint32_t want, left = budget, i, nd;
	int n, rc, err = clock_read(m, &s->clock);

	while (!err && left && (left == budget || left >= SWEEP_MIN_READ)) {
		if (!s->running) {
			map_iter_init(&s->it, m->nat, sizeof(struct xlvs_flow), sizeof(struct xlvs_nat_rev));
			s->running = true;
		}
		want = left < SWEEP_MIN_READ ? SWEEP_MIN_READ : left;
		n = map_iter_read(&s->it, s->keys, s->vals, want < SWEEP_CHUNK ? want : SWEEP_CHUNK);
		if (n <= 0) {
			s->running = false;
			st->passes += !n;
			err = n;
			break;
		}
		left -= (uint32_t)n < left ? (uint32_t)n : left;
		st->scanned += (uint32_t)n;
		for (i = 0, nd = 0; i < (uint32_t)n; i++)
			if (!nat_live(m, &s->clock, &s->keys[i], &s->vals[i]))
				s->doomed[nd++] = s->keys[i];
		st->expired += nd;
		rc = delete_keys(m->nat, s->doomed, nd, s->went);
		if (rc < 0)
			err = rc;
		else
			st->deleted += (uint32_t)rc;
	}
	return err;
}
