// SPDX-License-Identifier: GPL-2.0
/*
 * The userspace half of the least-connection schedulers' counts
 * (xlvs_real_load, docs/architecture.md "Connection counts for
 * least-connection schedulers"): the COUNTED flag an apply sets, the resets on
 * id reuse and counting changes, the sweep's subtraction of what it deletes,
 * the reconcile's correction, and what /metrics shows. Every expected count is
 * written out from the entries the test puts in the table.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "daemon/status.h"
#include "daemon/sweep.h"
#include "helpers.h"
#include "schedtab.h"

static struct xlvs_maps M;
static struct xlvs_lb_bpf *skel;
static uint32_t hz;

/* Private maps; lifetimes 10 s; inserts from one CPU (the LRU lists are per CPU). */
static void up(void)
{
	struct xlvs_global_spec g = { .timeout_s = { 10, 10, 10, 10 } };
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	skel = unit_director_load(16384 * libbpf_num_possible_cpus(), 0, &M);
	cr_assert_eq(xlvs_maps_set_global(&M, &g), 0);
	cr_assert_eq(xlvs_hz(&hz), 0);
}

static void down(void)
{
	xlvs_maps_close(&M);
	xlvs_lb_bpf__destroy(skel);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- the maps by hand ---- */

static void put_real(uint32_t id, uint32_t gen, uint8_t flags)
{
	struct xlvs_real r = { .family = XLVS_AF_INET, .flags = flags, .weight = 1, .gen = gen };

	r.addr[0] = htonl(0xc6120100 + id);
	cr_assert_eq(bpf_map_update_elem(M.reals, &id, &r, BPF_ANY), 0);
}

static void put_load(uint32_t id, int32_t active, int32_t inactive)
{
	struct xlvs_real_load l = { active, inactive };

	cr_assert_eq(bpf_map_update_elem(M.real_load, &id, &l, BPF_ANY), 0);
}

static struct xlvs_real_load get_load(uint32_t id)
{
	struct xlvs_real_load l;

	cr_assert_eq(xlvs_real_load_read(&M, id, &l), 0);
	return l;
}

#define expect_load(id, a, i)                                                                                \
	do {                                                                                                 \
		struct xlvs_real_load l_ = get_load(id);                                                     \
		cr_expect(l_.active == (a) && l_.inactive == (i), "real %u: load %d/%d, want %d/%d",         \
			  (unsigned)(id), l_.active, l_.inactive, (a), (i));                                 \
	} while (0)

/* The key of client number i's flow to the VIP's port 80. */
static struct xlvs_flow entry_key(uint32_t i, uint8_t proto)
{
	struct xlvs_flow k = { .family = XLVS_AF_INET, .proto = proto, .dport = htons(80) };

	k.src[0] = htonl(0x0a000000 + i);
	k.dst[0] = htonl(0xc612000a);
	return k;
}

/* n entries (clients base..) of real id in generation gen, last seen age_s seconds ago. */
static void put_entries(uint32_t base, uint32_t n, uint32_t id, uint32_t gen, uint8_t proto, uint8_t state,
			uint32_t age_s)
{
	struct xlvs_flow *k = calloc(n, sizeof(*k));
	struct xlvs_conn *v = calloc(n, sizeof(*v));
	struct xlvs_jiffies j;
	__u32 cnt = n, i;

	cr_assert(k && v);
	cr_assert_eq(xlvs_jiffies_read(&j), 0);
	for (i = 0; i < n; i++) {
		k[i] = entry_key(base + i, proto);
		v[i] = (struct xlvs_conn){
			.real_id = id, .real_gen = gen, .state = state, .last_seen = j.now - age_s * hz
		};
	}
	cr_assert_eq(bpf_map_update_batch(M.conns, k, v, &cnt, NULL), 0);
	cr_assert_eq(cnt, n);
	free(k);
	free(v);
}

#define COUNTED (XLVS_REAL_F_ACTIVE | XLVS_REAL_F_COUNTED)

/* ---- the predicate ---- */

Test(load, schedulers_that_weigh_connections)
{
	static const uint8_t yes[] = { XLVS_SCHED_LC, XLVS_SCHED_WLC,  XLVS_SCHED_SED,
				       XLVS_SCHED_NQ, XLVS_SCHED_LBLC, XLVS_SCHED_LBLCR };
	static const uint8_t no[] = { XLVS_SCHED_MAGLEV, XLVS_SCHED_RR, XLVS_SCHED_WRR,
				      XLVS_SCHED_SH,	 XLVS_SCHED_DH, XLVS_SCHED_MH };
	size_t i;

	for (i = 0; i < sizeof(yes); i++)
		cr_expect(xlvs_sched_counts(yes[i]), "%s", xlvs_sched_names[yes[i]]);
	for (i = 0; i < sizeof(no); i++)
		cr_expect(!xlvs_sched_counts(no[i]), "%s", xlvs_sched_names[no[i]]);
	cr_expect(!xlvs_sched_counts(XLVS_SCHED_MAX));
}

/* ---- the sweep ---- */

/* Expired entries the sweep deletes come off their real's count, by class, for its generation only. */
Test(load, sweep_takes_its_deletions_off_the_count, .init = up, .fini = down)
{
	struct xlvs_sweep *s = xlvs_sweep_new();
	struct xlvs_sweep_stats st = { 0 };

	cr_assert_not_null(s);
	put_real(1, 5, COUNTED);
	put_real(2, 1, XLVS_REAL_F_ACTIVE); /* its scheduler does not count */
	put_load(1, 10, 10);
	put_load(2, 4, 4);
	put_entries(0, 3, 1, 5, IPPROTO_TCP, XLVS_CONN_OPEN, 20);  /* expired, active */
	put_entries(10, 2, 1, 5, IPPROTO_TCP, XLVS_CONN_SYN, 20);  /* expired, inactive */
	put_entries(20, 1, 1, 5, IPPROTO_UDP, XLVS_CONN_OPEN, 20); /* expired, UDP: inactive */
	put_entries(30, 4, 1, 5, IPPROTO_TCP, XLVS_CONN_OPEN, 1);  /* alive: stay, counted */
	put_entries(40, 2, 1, 4, IPPROTO_TCP, XLVS_CONN_OPEN, 20); /* the id's earlier real */
	put_entries(50, 2, 2, 1, IPPROTO_TCP, XLVS_CONN_OPEN, 20); /* of the uncounted real */
	cr_assert_eq(xlvs_sweep_step(&M, s, 4096, &st), 0);
	cr_expect_eq(st.passes, 1);
	cr_expect_eq(st.deleted, 10);
	cr_expect_eq(st.uncounted, 6);
	cr_expect_eq(st.reconciles, 0, "no reconcile was asked for");
	expect_load(1, 7, 7);
	expect_load(2, 4, 4);
	xlvs_sweep_free(s);
}

/* A map that cannot be mapped (here: xlvs_config in its place) costs the counts, not the sweep. */
Test(load, sweep_without_the_mapping_still_deletes, .init = up, .fini = down)
{
	struct xlvs_sweep *s = xlvs_sweep_new();
	struct xlvs_sweep_stats st = { 0 };
	struct xlvs_maps m = M;

	cr_assert_not_null(s);
	m.real_load = M.config; /* not BPF_F_MMAPABLE: mmap() fails */
	put_real(1, 5, COUNTED);
	put_load(1, 10, 10);
	put_entries(0, 3, 1, 5, IPPROTO_TCP, XLVS_CONN_OPEN, 20);
	cr_expect_lt(xlvs_sweep_step(&m, s, 4096, &st), 0, "the step says the counts were not kept");
	cr_expect_eq(st.deleted, 3);
	cr_expect_eq(st.uncounted, 0);
	expect_load(1, 10, 10);
	xlvs_sweep_free(s);
}

/* The TCP entries of clients base..base + n - 1 deleted, as the data path does when a SYN starts anew. */
static void del_entries(uint32_t base, uint32_t n)
{
	struct xlvs_flow k;
	uint32_t i;

	for (i = 0; i < n; i++) {
		k = entry_key(base + i, IPPROTO_TCP);
		cr_assert_eq(bpf_map_delete_elem(M.conns, &k), 0);
	}
}

/* ---- the reconcile ---- */

static void drifted_table(void)
{
	put_real(1, 5, COUNTED);
	put_real(2, 1, COUNTED);	     /* no entries */
	put_real(3, 1, XLVS_REAL_F_ACTIVE);  /* not counted: its load is 0 */
	put_real(4, 2, XLVS_REAL_F_COUNTED); /* removed (not ACTIVE): left alone */
	put_entries(0, 1000, 1, 5, IPPROTO_TCP, XLVS_CONN_OPEN, 1);
	put_entries(1000, 300, 1, 5, IPPROTO_TCP, XLVS_CONN_SYN, 1);
	put_entries(1300, 150, 1, 5, IPPROTO_TCP, XLVS_CONN_CLOSING, 1);
	put_entries(1450, 50, 1, 5, IPPROTO_UDP, XLVS_CONN_OPEN, 1);
	put_entries(1500, 50, 1, 5, IPPROTO_TCP, XLVS_CONN_OPEN, 20); /* expired: deleted, not counted */
	put_entries(1550, 100, 1, 4, IPPROTO_TCP, XLVS_CONN_OPEN, 1); /* another generation's */
	put_entries(1650, 20, 3, 1, IPPROTO_TCP, XLVS_CONN_OPEN, 1);
	put_load(1, 1500, -3); /* e.g. LRU evictions never subtracted; a transient negative */
	put_load(2, 5, 2);
	put_load(3, 2, 1);
	put_load(4, 9, 9);
}

/*
 * A counting pass asked for in the middle of a pass starts over from the
 * table's start, spans several steps, and leaves every ACTIVE real's count at
 * what the table holds.
 */
Test(load, reconcile_fixes_drifted_counts, .init = up, .fini = down)
{
	struct xlvs_sweep *s = xlvs_sweep_new();
	struct xlvs_sweep_stats first = { 0 }, st = { 0 };
	int steps = 0;

	cr_assert_not_null(s);
	drifted_table();
	cr_assert_eq(xlvs_sweep_step(&M, s, 256, &first), 0); /* a pass in progress */
	cr_assert_eq(first.passes, 0);
	xlvs_sweep_reconcile(s);
	cr_expect(xlvs_sweep_reconciling(s));
	while (!st.reconciles && steps++ < 100)
		cr_assert_eq(xlvs_sweep_step(&M, s, 256, &st), 0);
	cr_expect_gt(steps, 5, "1670 entries in steps of 256: the pass spans steps");
	cr_expect(!xlvs_sweep_reconciling(s));
	cr_expect_eq(st.reconciles, 1);
	cr_expect_eq(st.passes, 1);
	expect_load(1, 1000, 500);
	expect_load(2, 0, 0);
	expect_load(3, 0, 0);
	expect_load(4, 9, 9);
	/* the sweep took 50 off real 1 (1450); then 1450 -> 1000, 5 -> 0, 2 -> 0 and 1 -> 0 */
	cr_expect_eq(first.uncounted + st.uncounted, 50, "the expired entries, before and during the count");
	cr_expect_eq(st.lowered, 450 + 5 + 2 + 2 + 1);
	cr_expect_eq(st.raised, 503, "inactive -3 -> 500");
	/* a pass without a reconcile leaves the counts alone */
	put_load(1, 1234, 55);
	st = (struct xlvs_sweep_stats){ 0 };
	while (!st.passes && steps++ < 200)
		cr_assert_eq(xlvs_sweep_step(&M, s, 256, &st), 0);
	cr_expect_eq(st.reconciles, 0);
	expect_load(1, 1234, 55);
	xlvs_sweep_free(s);
}

/*
 * Connections that open, close or go while a counting pass walks the table: an
 * entry counted as the walk read it would be put back in that class by the
 * correction (a closed connection left active: 256 in wlc's overhead for up to
 * 30 s, its real out of wlc's choices; the e2e import's 76/150/74). The pass
 * counts every TCP entry it read before it closed as it is at the pass's end.
 */
Test(load, reconcile_counts_connections_as_they_are_at_its_end, .init = up, .fini = down)
{
	struct xlvs_sweep *s = xlvs_sweep_new();
	struct xlvs_sweep_stats first = { 0 }, st = { 0 };
	int steps = 0;

	cr_assert_not_null(s);
	put_real(1, 5, COUNTED);
	put_entries(0, 2000, 1, 5, IPPROTO_TCP, XLVS_CONN_OPEN, 1);
	put_entries(2000, 500, 1, 5, IPPROTO_TCP, XLVS_CONN_SYN, 1);
	put_entries(2500, 1000, 1, 5, IPPROTO_TCP, XLVS_CONN_CLOSING, 1);
	put_load(1, 2000, 1500); /* exact */
	xlvs_sweep_reconcile(s);
	cr_assert_eq(xlvs_sweep_step(&M, s, 256, &first), 0);
	cr_assert_eq(first.passes, 0, "3500 entries in steps of 256: the pass goes on");
	/* meanwhile the data path: 1900 close, 100 go (SYN anew), 500 handshakes end */
	put_entries(0, 1900, 1, 5, IPPROTO_TCP, XLVS_CONN_CLOSING, 1);
	del_entries(1900, 100);
	put_entries(2000, 500, 1, 5, IPPROTO_TCP, XLVS_CONN_OPEN, 1);
	put_load(1, 500, 1900 + 1000); /* its moves, as they leave the count */
	while (!st.reconciles && steps++ < 100)
		cr_assert_eq(xlvs_sweep_step(&M, s, 256, &st), 0);
	cr_assert_eq(st.reconciles, 1);
	expect_load(1, 500, 2900);
	cr_expect_eq(st.raised + st.lowered, 0, "the count was right: nothing to correct");
	xlvs_sweep_free(s);
}

/* xlvsd's sweep: a reconcile at its first tick, run to the end by the idle watcher, shown in /metrics. */
Test(load, daemon_reconciles_at_start_and_reports, .init = up, .fini = down, .timeout = 30)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct xlvsd_status h;
	struct xlvsd_sweep *sw;
	char *body = NULL;
	size_t len;
	int i;

	drifted_table();
	xlvsd_status_init(&h);
	sw = xlvsd_sweep_start(loop, &M);
	cr_assert_not_null(sw);
	xlvsd_sweep_report_to(sw, &h);
	for (i = 0; i < 1000 && !h.reconciles; i++)
		ev_run(loop, EVRUN_ONCE);
	cr_assert_eq(h.reconciles, 1);
	expect_load(1, 1000, 500);
	expect_load(3, 0, 0);
	cr_expect_eq(h.reconcile_lowered, 450 + 5 + 2 + 2 + 1);
	cr_expect_eq(h.reconcile_raised, 503);
	cr_assert_eq(xlvs_metrics_render(&M, &h, &body, &len), 0);
	cr_expect_not_null(strstr(body, "\nxlvs_sched_conns_reconciles_total 1\n"), "%s", body);
	cr_expect_not_null(strstr(body, "\nxlvs_sched_conns_last_correction{direction=\"raised\"} 503\n"));
	cr_expect_not_null(strstr(body, "\nxlvs_sched_conns_last_correction{direction=\"lowered\"} 460\n"));
	free(body);
	xlvsd_sweep_stop(sw);
	ev_loop_destroy(loop);
}

/* ---- what an apply writes ---- */

static struct xlvs_real_spec RS[3];
static struct xlvs_svc_spec SV[2];

/* Service 0: 198.18.0.20:80 with the reals RS[0..n0); service 1: 198.18.0.21:80 with RS[2]. */
static void apply(uint8_t sched0, size_t n0, uint8_t sched1, struct xlvs_apply_stats *st)
{
	static const char *const addrs[] = { "198.18.1.1", "198.18.1.2", "198.18.1.3" };
	struct xlvs_spec spec = { .nr_services = 2, .services = SV };
	size_t i;
	int err;

	for (i = 0; i < 3; i++)
		RS[i] = (struct xlvs_real_spec){ .addr = unit_addr(addrs[i]), .port = 80, .weight = 1 };
	SV[0] = (struct xlvs_svc_spec){ .vip = unit_addr("198.18.0.20"),
					.proto = IPPROTO_TCP,
					.port = 80,
					.sched = sched0,
					.ring_size = 251,
					.nr_reals = n0,
					.reals = RS };
	SV[1] = (struct xlvs_svc_spec){ .vip = unit_addr("198.18.0.21"),
					.proto = IPPROTO_TCP,
					.port = 80,
					.sched = sched1,
					.ring_size = 251,
					.nr_reals = 1,
					.reals = &RS[2] };
	err = xlvs_apply(&M, &spec, st);
	cr_assert_eq(err, 0, "xlvs_apply %s/%s: %s", xlvs_sched_names[sched0], xlvs_sched_names[sched1],
		     strerror(-err));
}

/* The id and entry of the real at addr (ACTIVE), or fails. */
static uint32_t real_at(const char *addr, struct xlvs_real *out)
{
	struct xlvs_addr a = unit_addr(addr);
	struct xlvs_real r;
	uint32_t id;

	for (id = 0; id < 64; id++)
		if (!bpf_map_lookup_elem(M.reals, &id, &r) && (r.flags & XLVS_REAL_F_ACTIVE) &&
		    r.addr[0] == a.be[0]) {
			if (out)
				*out = r;
			return id;
		}
	cr_assert_fail("no ACTIVE real %s", addr);
	return 0;
}

static bool is_counted(const char *addr)
{
	struct xlvs_real r;

	real_at(addr, &r);
	return r.flags & XLVS_REAL_F_COUNTED;
}

Test(load, apply_flags_the_reals_of_counting_schedulers, .init = up, .fini = down)
{
	struct xlvs_apply_stats st;

	apply(XLVS_SCHED_WLC, 2, XLVS_SCHED_MAGLEV, &st);
	cr_expect(is_counted("198.18.1.1"));
	cr_expect(is_counted("198.18.1.2"));
	cr_expect(!is_counted("198.18.1.3"));
	cr_expect_eq(st.reals_counted_on, 0, "new reals: nothing to reconcile");
	put_load(real_at("198.18.1.1", NULL), 3, 1);
	put_load(real_at("198.18.1.3", NULL), 6, 6);

	/* wlc -> rr stops counting (its load zeroed); maglev -> lc starts (zeroed, to reconcile) */
	apply(XLVS_SCHED_RR, 2, XLVS_SCHED_LC, &st);
	cr_expect(!is_counted("198.18.1.1"));
	cr_expect(!is_counted("198.18.1.2"));
	cr_expect(is_counted("198.18.1.3"));
	cr_expect_eq(st.reals_counted_on, 1);
	expect_load(real_at("198.18.1.1", NULL), 0, 0);
	expect_load(real_at("198.18.1.3", NULL), 0, 0);

	/* unchanged: nothing written, counts kept */
	put_load(real_at("198.18.1.3", NULL), 2, 7);
	apply(XLVS_SCHED_RR, 2, XLVS_SCHED_LC, &st);
	cr_expect_eq(st.reals_written, 0);
	cr_expect_eq(st.reals_counted_on, 0);
	expect_load(real_at("198.18.1.3", NULL), 2, 7);
}

/* A real given a freed id gets the id's next generation and a count from zero; a kept one keeps its count. */
Test(load, an_id_given_to_another_real_starts_from_zero, .init = up, .fini = down)
{
	struct xlvs_spec spec = { .nr_services = 2, .services = SV };
	struct xlvs_real before, after;
	struct xlvs_apply_stats st;
	uint32_t id1, id2;

	apply(XLVS_SCHED_WLC, 2, XLVS_SCHED_WLC, NULL);
	id1 = real_at("198.18.1.1", &before);
	id2 = real_at("198.18.1.2", NULL);
	put_load(id1, 7, 3);
	put_load(id2, 2, 2);
	RS[0].weight = 5; /* rewritten, kept */
	cr_assert_eq(xlvs_apply(&M, &spec, &st), 0);
	cr_expect_eq(st.reals_written, 1);
	expect_load(id1, 7, 3);
	SV[0].reals = &RS[1]; /* 198.18.1.1 removed */
	SV[0].nr_reals = 1;
	cr_assert_eq(xlvs_apply(&M, &spec, NULL), 0);
	RS[0] = (struct xlvs_real_spec){ .addr = unit_addr("198.18.1.9"), .port = 80, .weight = 1 };
	SV[0].reals = RS; /* a new real: the lowest free id, 198.18.1.1's */
	SV[0].nr_reals = 2;
	cr_assert_eq(xlvs_apply(&M, &spec, NULL), 0);
	cr_assert_eq(real_at("198.18.1.9", &after), id1);
	cr_expect_eq(after.gen, before.gen + 1);
	expect_load(id1, 0, 0);
	expect_load(id2, 2, 2);
}

/* One service 198.18.0.20:80 of scheduler sched with the real 198.18.1.1, on the heap (xlvsd_apply takes it). */
static void heap_spec(struct xlvs_spec *spec, uint8_t sched)
{
	struct xlvs_svc_spec *v = calloc(1, sizeof(*v));

	cr_assert_not_null(v);
	*v = (struct xlvs_svc_spec){ .vip = unit_addr("198.18.0.20"),
				     .proto = IPPROTO_TCP,
				     .port = 80,
				     .sched = sched,
				     .ring_size = 251,
				     .nr_reals = 1 };
	v->reals = calloc(1, sizeof(*v->reals));
	cr_assert_not_null(v->reals);
	v->reals[0] = (struct xlvs_real_spec){ .addr = unit_addr("198.18.1.1"), .port = 80, .weight = 1 };
	*spec = (struct xlvs_spec){ .nr_services = 1, .services = v };
}

/* Run d's loop until it has done n reconciles, for at most max_s seconds (UNIT_SLOW). */
static void run_until(struct xlvsd *d, uint64_t n, double max_s)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (d->status.reconciles < n && ms_since(&t0) < UNIT_SLOW(max_s * 1000))
		ev_run(d->loop, EVRUN_ONCE);
}

/*
 * maglev -> wlc by a reload: the real's connections were never counted, so
 * xlvsd reconciles at once, without waiting for the 30 s period.
 */
Test(load, a_reload_that_starts_counting_reconciles_at_once, .timeout = 30)
{
	struct xlvs_apply_stats st;
	struct xlvs_spec want;
	struct xlvs_real r;
	struct xlvsd d;
	char msg[512];
	uint32_t id;

	skel = unit_daemon_new(&d);
	M = d.maps; /* the helpers' maps: d's (closed by unit_daemon_free) */
	cr_assert_eq(xlvs_hz(&hz), 0);
	d.sweep = xlvsd_sweep_start(d.loop, &d.maps);
	cr_assert_not_null(d.sweep);
	xlvsd_sweep_report_to(d.sweep, &d.status);
	heap_spec(&want, XLVS_SCHED_MAGLEV);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	run_until(&d, 1, 5); /* the one at start, at the first tick */
	cr_assert_eq(d.status.reconciles, 1);
	id = real_at("198.18.1.1", &r);
	put_entries(0, 5, id, r.gen, IPPROTO_TCP, XLVS_CONN_OPEN, 0);
	put_entries(100, 2, id, r.gen, IPPROTO_TCP, XLVS_CONN_SYN, 0);
	heap_spec(&want, XLVS_SCHED_WLC);
	cr_assert_eq(xlvsd_apply(&d, &want, &st, msg, sizeof(msg)), 0, "%s", msg);
	cr_expect_eq(st.reals_counted_on, 1);
	/* the next periodic one is 30 s away: a second reconcile now is the reload's */
	run_until(&d, 2, 3);
	cr_assert_eq(d.status.reconciles, 2);
	expect_load(id, 5, 2);
	xlvsd_sweep_stop(d.sweep);
	unit_daemon_free(&d, skel);
}

/* ---- /metrics ---- */

/* A wlc service by hand (the maps as an apply leaves them), one COUNTED real with a count. */
Test(load, metrics_show_the_schedulers_view, .init = up, .fini = down)
{
	struct xlvs_svc_key k = { .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct xlvs_service svc = { .id = 0, .ring_size = 251, .sched = XLVS_SCHED_WLC };
	const char *lbl = "vip=\"198.18.0.10\",port=\"80\",protocol=\"tcp\",real=\"198.18.1.1\"";
	char *body = NULL, want[256];
	size_t len;

	k.addr[0] = htonl(0xc612000a);
	cr_assert_eq(bpf_map_update_elem(M.services, &k, &svc, BPF_ANY), 0);
	put_real(1, 1, COUNTED);	    /* 198.18.1.1 */
	put_real(2, 1, XLVS_REAL_F_ACTIVE); /* 198.18.1.2, not counted: no series */
	put_load(1, 12, -1);
	cr_assert_eq(xlvs_metrics_render(&M, NULL, &body, &len), 0);
	snprintf(want, sizeof(want), "\nxlvs_real_sched_connections{%s,class=\"active\"} 12\n", lbl);
	cr_expect_not_null(strstr(body, want), "%s\n---\n%s", want, body);
	snprintf(want, sizeof(want), "\nxlvs_real_sched_connections{%s,class=\"inactive\"} -1\n", lbl);
	cr_expect_not_null(strstr(body, want), "%s\n---\n%s", want, body);
	cr_expect_null(strstr(body, "xlvs_real_sched_connections{vip=\"198.18.0.10\",port=\"80\",protocol="
				    "\"tcp\",real=\"198.18.1.2\""));
	cr_expect_not_null(strstr(body, "\n# TYPE xlvs_real_sched_connections gauge\n"));
	free(body);
}

/* ---- cost ---- */

/*
 * A counting pass over a full default table (262,144 entries of one COUNTED
 * real) in xlvsd's steps: each step leaves the loop well within the sweep's
 * period, and the count comes out exact.
 */
Test(load, a_counting_pass_of_a_default_table_is_bounded, .timeout = 120)
{
	uint32_t n = XLVS_CONNS_DEFAULT, budget = xlvsd_sweep_budget(n), i, chunk = 65536;
	struct xlvs_sweep_stats st = { 0 };
	struct xlvs_sweep *s;
	struct timespec t0, ts;
	double step, worst = 0, total;
	int steps = 0;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	skel = unit_director_load(n * libbpf_num_possible_cpus(), 0, &M);
	cr_assert_eq(xlvs_hz(&hz), 0);
	{
		struct xlvs_global_spec g = { .timeout_s = { 10, 10, 10, 10 } };

		cr_assert_eq(xlvs_maps_set_global(&M, &g), 0);
	}
	put_real(1, 1, COUNTED);
	for (i = 0; i < n; i += chunk)
		put_entries(i, chunk, 1, 1, IPPROTO_TCP, XLVS_CONN_OPEN, 1);
	s = xlvs_sweep_new();
	cr_assert_not_null(s);
	xlvs_sweep_reconcile(s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!st.reconciles && steps++ < 100) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		cr_assert_eq(xlvs_sweep_step(&M, s, budget, &st), 0);
		step = ms_since(&ts);
		worst = step > worst ? step : worst;
	}
	total = ms_since(&t0);
	expect_load(1, (int32_t)n, 0);
	cr_expect_eq(st.scanned, n);
	fprintf(stderr, "counting pass of %u entries: %d steps of %u, %.1f ms in all, worst step %.1f ms\n",
		n, steps, budget, total, worst);
	cr_expect_lt(worst, XLVSD_SWEEP_PERIOD_S * 1000);
	xlvs_sweep_free(s);
	down();
}
