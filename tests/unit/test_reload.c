// SPDX-License-Identifier: GPL-2.0
/*
 * A reload is one transaction (loader/daemon.c xlvsd_apply): one the maps
 * refuse leaves every map entry and every health state as they were. The
 * daemon is put together by hand around the XDP object's maps (loaded, not
 * pinned, not attached: no interface is configured) and a health manager on
 * a loop of the test's own.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <sched.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ev.h>
#include <jansson.h>

#include "config/conf.h"
#include "config/specedit.h"
#include "daemon/daemon.h"
#include "health/hc.h"
#include "xlvsmaps.h"
#include "helpers.h"
#include "xlvs_lb.skel.h"

#define RING_DEFAULT 65537
#define MAX_MAPS     32

static struct xlvs_lb_bpf *skel;
static struct xlvsd d;

static void setup(void)
{
	skel = unit_daemon_new(&d);
}

static void teardown(void)
{
	unit_daemon_free(&d, skel);
}

static void set_real(struct xlvs_svc_spec *v, size_t i, const char *addr)
{
	v->reals[i].addr = unit_addr(addr);
	v->reals[i].port = v->port;
	v->reals[i].weight = 1;
	v->reals[i].fwd = XLVS_FWD_DR;
}

/*
 * 198.18.0.10:80 (ring 251): real .11 checked by `exec false` every
 * interval_ms (fall 1), so it goes down at its first check; real .12
 * unchecked (check: off).
 */
static void base_spec(struct xlvs_spec *s, uint32_t interval_ms)
{
	struct xlvs_svc_spec *v;
	struct xlvs_check_spec *ck;

	memset(s, 0, sizeof(*s));
	unit_add_dr_svc(s, "198.18.0.10", 251, 2);
	v = &s->services[0];
	set_real(v, 0, "198.18.1.11");
	set_real(v, 1, "198.18.1.12");
	v->health = calloc(1, sizeof(*v->health));
	ck = &v->health->check;
	ck->type = XLVS_CHECK_EXEC;
	ck->initial_up = true;
	ck->rise = ck->fall = 1;
	ck->interval_ms = interval_ms;
	ck->timeout_ms = (uint32_t)UNIT_SLOW(1000); /* a fork and exec: slow in an emulated VM */
	snprintf(ck->command, sizeof(ck->command), "false");
	v->reals[1].check = calloc(1, sizeof(*v->reals[1].check)); /* type none: off */
}

/* One map's content, whatever the order of its entries: their number and a sum of their hashes. */
struct digest {
	const char *name;
	uint64_t entries, sum;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 1099511628211ull;
	return h;
}

static bool per_cpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

#define BATCH 4096

/*
 * Summed, FNV-1a alone cancels out: its low bit is the parity of its input
 * bytes' low bits, so one value change adds +d to the entries of even keys
 * and -d to those of odd keys, and a ring slice rewritten over as many of
 * each sums to nothing. The splitmix64 finalizer spreads every bit first.
 */
static uint64_t mix(uint64_t h)
{
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static void add_entry(struct digest *dg, const void *key, size_t ks, const void *val, size_t vs)
{
	dg->sum += mix(fnv(fnv(1469598103934665603ull, key, ks), val, vs));
	dg->entries++;
}

/* Entry by entry, for maps without batch lookups. */
static void map_digest_slow(int fd, size_t ks, size_t vs, struct digest *dg)
{
	unsigned char *key = malloc(ks), *next = malloc(ks), *val = malloc(vs);
	void *prev = NULL;

	cr_assert(key && next && val);
	while (!bpf_map_get_next_key(fd, prev, next)) {
		cr_assert_eq(bpf_map_lookup_elem(fd, next, val), 0, "%s: lookup: %s", dg->name,
			     strerror(errno));
		add_entry(dg, next, ks, val, vs);
		memcpy(key, next, ks);
		prev = key;
	}
	free(key);
	free(next);
	free(val);
}

static void map_digest(const struct bpf_map *map, struct digest *dg)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t ks = bpf_map__key_size(map), vs = bpf_map__value_size(map), i;
	unsigned char *keys, *vals;
	int fd = bpf_map__fd(map), err;
	__u32 batch, count;
	void *in = NULL;

	if (per_cpu(bpf_map__type(map)))
		vs = ((vs + 7) & ~(size_t)7) * libbpf_num_possible_cpus();
	memset(dg, 0, sizeof(*dg));
	dg->name = bpf_map__name(map);
	keys = malloc(ks * BATCH);
	vals = malloc(vs * BATCH);
	cr_assert(keys && vals);
	do {
		count = BATCH;
		err = bpf_map_lookup_batch(fd, in, &batch, keys, vals, &count, &opts);
		if (err && errno != ENOENT) {
			cr_assert(!in, "%s: batch lookup: %s", dg->name, strerror(errno));
			map_digest_slow(fd, ks, vs, dg);
			break;
		}
		for (i = 0; i < count; i++)
			add_entry(dg, keys + i * ks, ks, vals + i * vs, vs);
		in = &batch;
	} while (!err);
	free(keys);
	free(vals);
}

static size_t maps_digest(struct digest *dg)
{
	struct bpf_map *map;
	size_t n = 0;

	bpf_object__for_each_map (map, skel->obj) {
		cr_assert_lt(n, MAX_MAPS);
		map_digest(map, &dg[n++]);
	}
	return n;
}

/* The health reply without its ages: in-state seconds, ms since the last change, result, to the next check (the clock moves). */
static char *health_text(void)
{
	static const char *const ages[] = { "since_s", "last_change_ago_ms", "last_check_ago_ms",
					    "next_check_in_ms" };
	json_t *svcs = xlvsd_hc_json(d.hc, &d.spec), *svc, *real;
	size_t i, j, k;
	char *text;

	cr_assert(json_is_array(svcs));
	json_array_foreach (svcs, i, svc)
		json_array_foreach (json_object_get(svc, "reals"), j, real)
			for (k = 0; k < sizeof(ages) / sizeof(ages[0]); k++)
				json_object_del(json_object_get(real, "health"), ages[k]);
	text = json_dumps(svcs, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(svcs);
	return text;
}

/* Effective weight and health state of real j of service 0, from the health reply. */
static void real_is(size_t j, json_int_t weight, const char *state)
{
	json_t *svcs = xlvsd_hc_json(d.hc, &d.spec), *r;

	r = json_array_get(json_object_get(json_array_get(svcs, 0), "reals"), j);
	cr_expect_eq(json_integer_value(json_object_get(r, "effective_weight")), weight,
		     "real %zu: effective weight %lld, want %lld", j,
		     json_integer_value(json_object_get(r, "effective_weight")), weight);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(r, "health"), "state")), state,
			 "real %zu", j);
	json_decref(svcs);
}

/*
 * Real .11 went down; then a reload changes its check (every 60 ms instead
 * of 50: a new instance) and asks for more ring slots than xlvs_ring has,
 * so the maps refuse it. .11 must stay down at weight 0, and the maps and
 * the health reply must be exactly what they were before the reload.
 */
Test(reload, refused_reload_keeps_maps_and_health, .init = setup, .fini = teardown, .timeout = 60)
{
	struct digest before[MAX_MAPS], after[MAX_MAPS];
	struct xlvs_apply_stats st;
	struct xlvs_spec want;
	char msg[1024], vip[32], *h0, *h1;
	size_t i, n, m;

	base_spec(&want, 50);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	unit_wait_down(&d, 1);
	/* a reload of the same file writes what the checks found */
	base_spec(&want, 50);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	real_is(0, 0, "down");
	real_is(1, 1, "unchecked");
	n = maps_digest(before);
	h0 = health_text();

	base_spec(&want, 60);
	for (i = 0; i <= d.maps.ring_slots / RING_DEFAULT; i++) {
		snprintf(vip, sizeof(vip), "198.18.0.%zu", 20 + i);
		unit_add_dr_svc(&want, vip, RING_DEFAULT, 1);
		set_real(&want.services[want.nr_services - 1], 0, "198.18.1.20");
	}
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), -ENOSPC, "%s", msg);
	xlvs_spec_free(&want);

	real_is(0, 0, "down");
	m = maps_digest(after);
	cr_assert_eq(m, n);
	for (i = 0; i < n; i++)
		cr_expect(before[i].entries == after[i].entries && before[i].sum == after[i].sum,
			  "map %s changed: %llu entries (hash %016llx) before, %llu (%016llx) after",
			  before[i].name, (unsigned long long)before[i].entries,
			  (unsigned long long)before[i].sum, (unsigned long long)after[i].entries,
			  (unsigned long long)after[i].sum);
	h1 = health_text();
	cr_expect_str_eq(h1, h0, "health before the refused reload:\n%s\nafter:\n%s", h0, h1);
	free(h0);
	free(h1);
}

/* The same reload without the extra services is taken: the new check starts in its initial state. */
Test(reload, accepted_reload_commits_the_new_checks, .init = setup, .fini = teardown, .timeout = 60)
{
	struct digest before[MAX_MAPS], after[MAX_MAPS];
	struct xlvs_apply_stats st;
	struct xlvs_spec want;
	size_t i, n, changed = 0;
	char msg[1024];

	base_spec(&want, 50);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	unit_wait_down(&d, 1);
	base_spec(&want, 50);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	real_is(0, 0, "down");
	n = maps_digest(before);
	base_spec(&want, 60);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	real_is(0, 1, "up");
	/* the digest sees it: .11's weight in xlvs_reals, its share of xlvs_ring, and (a ring-state
	 * service) the previous owners of the slots it takes back in xlvs_ring_prev */
	cr_assert_eq(maps_digest(after), n);
	for (i = 0; i < n; i++)
		changed += before[i].sum != after[i].sum;
	cr_expect_eq(changed, 3, "%zu maps changed, want 3 (reals, ring, ring_prev)", changed);
	cr_assert_eq(d.spec.services[0].health->check.interval_ms, 60);
	unit_wait_down(&d, 1);
}

/* ---- restart after kill -9 (issue 10, defect 9) ---------------------------------------- */

/*
 * 198.18.0.10:80 (ring 251), reals .11, .12, .13 checked by `command` every
 * interval_ms (rise 2, fall 1, initial up), .14 unchecked; with sorry, the
 * sorry server 198.18.1.99 and a quorum of 1. 198.18.0.20:80 the same
 * reals with on_down: remove.
 */
static void restart_spec(struct xlvs_spec *s, const char *command, uint32_t interval_ms, bool sorry)
{
	static const char *const vips[] = { "198.18.0.10", "198.18.0.20" };
	struct xlvs_svc_spec *v;
	struct xlvs_check_spec *ck;
	char a[32];
	size_t i, j, nr = sorry ? 3 : 4;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 2; i++) {
		unit_add_dr_svc(s, vips[i], 251, nr);
		v = &s->services[i];
		for (j = 0; j < nr; j++) {
			snprintf(a, sizeof(a), "198.18.1.%zu", 11 + j);
			set_real(v, j, a);
		}
		v->health = calloc(1, sizeof(*v->health));
		ck = &v->health->check;
		ck->type = XLVS_CHECK_EXEC;
		ck->initial_up = true;
		ck->rise = 2;
		ck->fall = 1;
		ck->interval_ms = interval_ms;
		ck->timeout_ms = (uint32_t)UNIT_SLOW(1000);
		snprintf(ck->command, sizeof(ck->command), "%s", command);
		if (!sorry)
			v->reals[3].check = calloc(1, sizeof(*v->reals[3].check)); /* off */
		v->health->on_down = i ? XLVS_ON_DOWN_REMOVE : XLVS_ON_DOWN_QUIESCE;
		if (sorry) {
			v->health->have_sorry = true;
			v->health->sorry.addr = unit_addr("198.18.1.99");
			v->health->sorry.port = 80;
			v->health->sorry.weight = 1;
			v->health->sorry.fwd = XLVS_FWD_DR;
			v->health->quorum = 1;
			v->health->quorum_action = XLVS_QUORUM_SORRY;
		}
	}
}

/* Run the loop until the checked reals of the running spec are up/down as want says (at most 5 s,
 * UNIT_SLOW). */
static void wait_counts(unsigned int want_up, unsigned int want_down)
{
	unsigned int inst, up = 0, down = 0;
	time_t end = time(NULL) + (time_t)UNIT_SLOW(5);

	while (time(NULL) < end) {
		xlvsd_hc_counts(d.hc, &inst, &up, &down);
		if (up == want_up && down == want_down)
			return;
		ev_run(d.loop, EVRUN_ONCE);
	}
	cr_assert_fail("%u up, %u down after %g s, want %u up, %u down", up, down, UNIT_SLOW(5.0), want_up,
		       want_down);
}

/* The weight of real addr in service vip as the maps hold it; -1: not in the maps. */
static long long map_weight(const char *vip, const char *addr)
{
	struct xlvs_addr v = unit_addr(vip), r = unit_addr(addr), x;
	struct xlvs_state st;
	long long w = -1;
	size_t i, j;

	cr_assert_eq(xlvs_state_read(&d.maps, &st), 0);
	for (i = 0; i < st.nr_services; i++) {
		xlvs_addr_from_be(&x, st.services[i].key.family, st.services[i].key.addr);
		if (memcmp(&x, &v, sizeof(x)))
			continue;
		for (j = 0; j < st.services[i].nr_reals; j++) {
			const struct xlvs_real *rr = &st.services[i].reals[j].real;

			xlvs_addr_from_be(&x, rr->family, rr->addr);
			if (!memcmp(&x, &r, sizeof(x)))
				w = rr->weight;
		}
	}
	xlvs_state_free(&st);
	return w;
}

/*
 * kill -9: the health manager and the configured state are gone with the
 * process, the pinned maps stay. A new daemon on the same maps (its first
 * apply, nothing of the old one but the maps).
 */
static void kill9_and_restart(void)
{
	xlvsd_hc_free(d.hc);
	d.hc = NULL;
	xlvs_spec_free(&d.spec);
	xlvs_maps_close(&d.maps);
	d.applied = false;
	memset(&d.last_apply, 0, sizeof(d.last_apply));
	cr_assert_eq(xlvs_maps_from_obj(&d.maps, skel->obj), 0);
	cr_assert_eq(xlvsd_hc_new(&d.hc, d.loop, 4, NULL, NULL), 0);
}

static void expect_same_maps(const struct digest *before, size_t n, const char *when)
{
	struct digest after[MAX_MAPS];
	size_t i;

	cr_assert_eq(maps_digest(after), n);
	for (i = 0; i < n; i++)
		cr_expect(before[i].entries == after[i].entries && before[i].sum == after[i].sum,
			  "%s: map %s changed: %llu entries (hash %016llx) before, %llu (%016llx) "
			  "after",
			  when, before[i].name, (unsigned long long)before[i].entries,
			  (unsigned long long)before[i].sum, (unsigned long long)after[i].entries,
			  (unsigned long long)after[i].sum);
}

/*
 * Real .11 is down (weight 0 in 198.18.0.10, left out of 198.18.0.20), .12
 * and .13 up. After kill -9 and a restart whose checks now all pass, .11
 * starts down (the maps are written as they were, not with .11 back at
 * weight 1) and needs its two rise checks to come back; .12 and .13 start up.
 */
Test(reload, restart_starts_from_the_health_in_the_maps, .init = setup, .fini = teardown, .timeout = 60)
{
	struct digest before[MAX_MAPS];
	struct xlvs_apply_stats st;
	struct xlvs_spec want;
	char msg[1024];
	json_t *svcs, *h;
	size_t n;

	restart_spec(&want, "test \"$XLVS_REAL\" != 198.18.1.11", 50, false);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	wait_counts(4, 2);
	restart_spec(&want, "test \"$XLVS_REAL\" != 198.18.1.11", 50, false);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(map_weight("198.18.0.10", "198.18.1.11"), 0);
	cr_assert_eq(map_weight("198.18.0.20", "198.18.1.11"), -1, "on_down: remove");
	cr_assert_eq(map_weight("198.18.0.10", "198.18.1.12"), 1);
	n = maps_digest(before);

	kill9_and_restart();
	restart_spec(&want, "true", 50, false);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	/* before any check ran */
	real_is(0, 0, "down");
	real_is(1, 1, "up");
	real_is(2, 1, "up");
	real_is(3, 1, "unchecked");
	cr_expect_eq(map_weight("198.18.0.10", "198.18.1.11"), 0,
		     "the restart wrote .11 back at weight %lld before its checks ran",
		     map_weight("198.18.0.10", "198.18.1.11"));
	cr_expect_eq(map_weight("198.18.0.20", "198.18.1.11"), -1,
		     "the restart put .11 back in the on_down: remove service");
	expect_same_maps(before, n, "restart");

	/* rise 2: two passing checks bring .11 back in both services */
	wait_counts(6, 0);
	svcs = xlvsd_hc_json(d.hc, &d.spec);
	h = json_object_get(json_object_get(json_array_get(json_object_get(json_array_get(svcs, 0), "reals"),
							   0),
					    "health"),
			    "checks");
	cr_expect_geq(json_integer_value(h), 2, "up after its rise checks");
	json_decref(svcs);
	restart_spec(&want, "true", 50, false);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(map_weight("198.18.0.10", "198.18.1.11"), 1);
	cr_assert_eq(map_weight("198.18.0.20", "198.18.1.11"), 1);
}

/*
 * Every real down: the sorry server is in the maps, the quorum lost. The
 * restart keeps it so (reals at weight 0, the sorry server in) until the
 * checks say otherwise, and tells no quorum change.
 */
Test(reload, restart_keeps_the_sorry_server_of_the_maps, .init = setup, .fini = teardown, .timeout = 60)
{
	struct digest before[MAX_MAPS];
	struct xlvs_apply_stats st;
	struct xlvs_spec want;
	char msg[1024];
	json_t *svcs, *q;
	size_t n;

	restart_spec(&want, "false", 50, true);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	wait_counts(0, 6);
	restart_spec(&want, "false", 50, true);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(map_weight("198.18.0.10", "198.18.1.99"), 1, "the sorry server is in");
	cr_assert_eq(map_weight("198.18.0.10", "198.18.1.11"), 0);
	n = maps_digest(before);

	kill9_and_restart();
	restart_spec(&want, "true", 50, true);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	real_is(0, 0, "down");
	cr_expect_eq(map_weight("198.18.0.10", "198.18.1.99"), 1,
		     "the restart took the sorry server out before any check ran");
	expect_same_maps(before, n, "restart");
	svcs = xlvsd_hc_json(d.hc, &d.spec);
	q = json_object_get(json_array_get(svcs, 0), "quorum");
	cr_expect(json_is_true(json_object_get(q, "lost")), "the quorum is still lost");
	cr_expect(json_is_true(json_object_get(json_object_get(json_array_get(svcs, 0), "sorry"), "active")),
		  "the sorry server is still active");
	json_decref(svcs);
}

/* ---- reloads parsed off the loop (xlvsd_reload_start) ---------------------------- */

struct told {
	struct xlvsd_reload_waiter w;
	bool told;
	int err;
	char msg[1024];
	double at;	    /* when it was told */
	double apply_gap;   /* since the last tick: the apply's own iteration */
	double max_gap;	    /* the ticker's longest gap until then: while the worker parsed */
	unsigned int ticks; /* the ticker's ticks until then */
};

struct ticker {
	ev_timer t;
	double last, max_gap; /* longest time between two ticks */
	unsigned int ticks;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct ticker tk;

static void on_told(struct xlvsd_reload_waiter *w, int err, const struct xlvs_apply_stats *st,
		    const char *msg)
{
	struct told *t = (struct told *)w;

	t->told = true;
	t->err = err;
	t->at = mono_s();
	t->apply_gap = t->at - tk.last;
	t->max_gap = tk.max_gap;
	t->ticks = tk.ticks;
	snprintf(t->msg, sizeof(t->msg), "%s", msg ? msg : "");
}

/* 10 ms: stands for the watchdog and the health checks' timers. */
static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	double now = mono_s();

	if (tk.last && now - tk.last > tk.max_gap)
		tk.max_gap = now - tk.last;
	tk.last = now;
	tk.ticks++;
}

/* Run the loop until t is told (at most 60 s). */
static void wait_told(struct told *t)
{
	double end = mono_s() + 60;

	while (!t->told && mono_s() < end)
		ev_run(d.loop, EVRUN_ONCE);
	cr_assert(t->told, "no outcome 60 s after the reload request");
}

/* services services of reals reals each, on lo; returns the file's name (static). */
static const char *write_config(size_t services, size_t reals)
{
	static char path[] = "/tmp/xlvs-reload-test.XXXXXX";
	FILE *f;
	size_t s, i;
	int fd;

	strcpy(path + strlen(path) - 6, "XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fprintf(f, "interfaces: [lo]\nservices:\n");
	for (s = 0; s < services; s++) {
		fprintf(f, "  - vip: 198.18.%zu.10\n    port: 80\n    protocol: tcp\n    reals:\n", s);
		for (i = 0; i < reals; i++)
			fprintf(f, "      - { address: 10.%zu.%zu.%zu, weight: %zu }\n", s, i >> 8, i & 255,
				1 + i % 3);
	}
	cr_assert_eq(fclose(f), 0);
	return path;
}

/*
 * lo, in a network namespace of the test's own (the reload sets its sysctls),
 * counted as attached through libxdp, which the daemon trusts without asking
 * the kernel: the harness has no program to attach. After the first apply
 * (which detaches what its configuration does not name).
 */
static void private_lo(void)
{
	snprintf(d.dp.ifaces[0].name, sizeof(d.dp.ifaces[0].name), "lo");
	d.dp.ifaces[0].ifindex = 1;
	d.dp.ifaces[0].mode = XLVS_XDP_GENERIC;
	d.dp.ifaces[0].method = XLVS_ATTACH_LIBXDP;
	d.dp.nr_ifaces = 1;
}

/*
 * A reload of 60,000 reals (2.6 MB of YAML: seconds to parse on this machine)
 * keeps the loop's timers on time while the worker parses, then applies in
 * one go; a second request made meanwhile is queued and served by one more
 * parse. A synchronous parse would hold the loop for the whole parse.
 */
Test(reload, a_long_parse_leaves_the_loop_running, .init = setup, .fini = teardown, .timeout = 180)
{
	struct xlvsd_opts opts = { .pin_dir = "/nonexistent" };
	struct told first = { .w.done = on_told }, second = { .w.done = on_told };
	struct xlvs_conf_error ce;
	struct xlvs_apply_stats st;
	struct xlvs_spec want;
	double parse_s, t0, start_s, stall, parsing_s, bound;
	char msg[1024];

	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	opts.config = write_config(2, 30000);
	d.opts = &opts;
	/* the running state: one service, its real .11 going down */
	base_spec(&want, 50);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	private_lo();
	/* how long the parse takes here, for the bound */
	t0 = mono_s();
	cr_assert_eq(xlvs_conf_load(opts.config, &want, &ce), 0, "%s", ce.msg);
	parse_s = mono_s() - t0;
	xlvs_spec_free(&want);
	memset(&tk, 0, sizeof(tk));
	ev_timer_init(&tk.t, on_tick, 0.01, 0.01);
	ev_timer_start(d.loop, &tk.t);

	/* the requests are made on the loop in the daemon: their own time is a stall too */
	t0 = mono_s();
	cr_assert_eq(xlvsd_reload_start(&d, &first.w), 0);
	cr_assert_eq(xlvsd_reload_start(&d, &second.w), 0);
	start_s = mono_s() - t0;
	tk.last = mono_s();
	wait_told(&first);
	cr_assert_eq(first.err, 0, "%s", first.msg);
	cr_assert(!second.told, "the second request was answered by the first parse");
	fprintf(stderr,
		"reload: parse alone %.3f s; reload of 60000 reals told after %.3f s; requests %.3f s, "
		"then %u ticks of 10 ms, longest gap %.3f s before the apply; apply %.3f s\n",
		parse_s, first.at - t0, start_s, first.ticks, first.max_gap, first.apply_gap);
	cr_assert_eq(d.spec.nr_services, 2);
	cr_assert_eq(xlvsd_spec_nr_reals(&d.spec), 60000);
	/*
	 * The timers came back within half the parse time (and 0.5 s at most on
	 * a loaded machine); a parse on the loop holds them for all of it.
	 */
	bound = parse_s / 2 < 0.5 ? parse_s / 2 : 0.5;
	stall = start_s > first.max_gap ? start_s : first.max_gap;
	cr_expect_lt(stall, bound, "the loop stalled %.3f s while a %.3f s parse ran", stall, parse_s);
	/* and the timer did run all along: at least a tenth of its ticks (280 of 500 on a loaded VM) */
	parsing_s = first.at - first.apply_gap - t0;
	cr_expect_geq(first.ticks, (unsigned int)(parsing_s / 0.01 / 10), "%u ticks of 10 ms in %.3f s",
		      first.ticks, parsing_s);
	wait_told(&second);
	cr_assert_eq(second.err, 0, "%s", second.msg);
	ev_timer_stop(d.loop, &tk.t);
	xlvsd_reload_stop(&d);
	unlink(opts.config);
}

/* A file the parser refuses, parsed off the loop: refused with its position, nothing changes. */
Test(reload, a_refused_parse_keeps_the_running_state, .init = setup, .fini = teardown, .timeout = 60)
{
	struct xlvsd_opts opts = { .pin_dir = "/nonexistent" };
	struct told t = { .w.done = on_told };
	struct xlvs_apply_stats st;
	struct xlvs_spec want;
	char msg[1024];
	FILE *f;

	opts.config = write_config(1, 1);
	f = fopen(opts.config, "a");
	cr_assert_not_null(f);
	fprintf(f, "bogus_key: 1\n");
	fclose(f);
	d.opts = &opts;
	base_spec(&want, 50);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(xlvsd_reload_start(&d, &t.w), 0);
	wait_told(&t);
	cr_assert_eq(t.err, -EINVAL, "%d: %s", t.err, t.msg);
	cr_expect_not_null(strstr(t.msg, "reload refused, running state kept: "), "%s", t.msg);
	cr_expect_not_null(strstr(t.msg, ":8:1: unknown key 'bogus_key'"), "no position in '%s'", t.msg);
	cr_assert_eq(d.spec.nr_services, 1);
	cr_assert_eq(d.spec.services[0].nr_reals, 2, "not the running state (base_spec)");
	cr_assert_eq(d.status.reloads_failed, 1);
	xlvsd_reload_stop(&d);
	unlink(opts.config);
}
