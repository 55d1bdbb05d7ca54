// SPDX-License-Identifier: GPL-2.0
/*
 * A health change written for the services it touches (loader/daemon/daemon.c
 * xlvsd_health_apply): the daemon put together by hand around the XDP
 * object's maps, real 0 of service 0 checked by an exec check that a file
 * turns down and up.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "daemon/daemon.h"
#include "health/hc.h"
#include "xlvsmaps.h"
#include "helpers.h"
#include "xlvs_lb.skel.h"

static struct xlvs_lb_bpf *skel, *skel2;
static struct xlvsd d;
static struct xlvs_maps twin; /* the same history through the full path */
static char flag[64];	      /* exists: the checked real fails its check */

/* The file whose presence makes real j of service i fail its check. */
static const char *flag_of(unsigned int i, size_t j)
{
	static char f[96];

	snprintf(f, sizeof(f), "%s-%u-%zu", flag, i, j);
	return f;
}

static void add_svc(struct xlvs_spec *s, unsigned int i, uint32_t ring, size_t nr_reals)
{
	struct xlvs_svc_spec *v;
	char a[32];
	size_t j;

	snprintf(a, sizeof(a), "198.18.%u.%u", 2 + i / 200, 10 + i % 200);
	v = unit_add_dr_svc(s, a, ring, nr_reals);
	for (j = 0; j < nr_reals; j++) {
		snprintf(a, sizeof(a), "198.19.%u.%zu", i / 12, (i % 12) * 20 + j + 1); /* up to 20 reals */
		v->reals[j].addr = unit_addr(a);
		v->reals[j].port = 80;
		v->reals[j].weight = 1 + (uint32_t)(j % 3);
		v->reals[j].fwd = XLVS_FWD_DR;
	}
}

/* Reals [0, nchecked) of v checked (exec, fall = rise = 1), the others unchecked. */
static void check_reals(struct xlvs_svc_spec *v, unsigned int i, size_t nchecked)
{
	struct xlvs_check_spec *ck;
	size_t j;

	v->health = calloc(1, sizeof(*v->health));
	cr_assert_not_null(v->health);
	ck = &v->health->check;
	ck->type = XLVS_CHECK_EXEC;
	ck->initial_up = true;
	ck->rise = ck->fall = 1;
	ck->interval_ms = 30;
	ck->timeout_ms = (uint32_t)UNIT_SLOW(1000);
	for (j = 0; j < v->nr_reals; j++) {
		v->reals[j].check = calloc(1, sizeof(*v->reals[j].check)); /* type none: off */
		cr_assert_not_null(v->reals[j].check);
		if (j >= nchecked)
			continue;
		*v->reals[j].check = *ck;
		snprintf(v->reals[j].check->command, sizeof(ck->command), "test ! -e %s", flag_of(i, j));
	}
}

static void setup_spec(struct xlvs_spec *want, uint32_t ring_slots)
{
	struct xlvs_apply_stats st;
	char msg[1024];

	skel = unit_daemon_new_sized(&d, ring_slots);
	cr_assert_eq(xlvsd_apply(&d, want, &st, msg, sizeof(msg)), 0, "%s", msg);
}

static void set_down(unsigned int i, size_t j, bool down)
{
	FILE *f;

	if (!down) {
		unlink(flag_of(i, j));
		return;
	}
	f = fopen(flag_of(i, j), "w");
	cr_assert_not_null(f);
	fclose(f);
}

static void teardown(void)
{
	unsigned int i;
	size_t j;

	for (i = 0; i < 8; i++)
		for (j = 0; j < 8; j++)
			unlink(flag_of(i, j));
	unit_daemon_free(&d, skel);
}

/* ---- the fast path against the full one ---- */

#define EQ_RING	 1021
#define EQ_SVCS	 4
#define EQ_REALS 6
#define EQ_IDS	 64 /* every id these services may take */

/*
 * Service 0: reals 0 and 1 checked (on_down: quiesce); 1: real 0 checked,
 * on_down: remove; 2: reals 0 and 1 of 2 checked, with a sorry server; 3
 * unchecked.
 */
static void eq_spec(struct xlvs_spec *s)
{
	struct xlvs_svc_spec *v;

	snprintf(flag, sizeof(flag), "/tmp/xlvs-hcfast-%d", getpid());
	memset(s, 0, sizeof(*s));
	add_svc(s, 0, EQ_RING, EQ_REALS);
	add_svc(s, 1, EQ_RING, EQ_REALS);
	add_svc(s, 2, EQ_RING, 2);
	add_svc(s, 3, EQ_RING, EQ_REALS);
	check_reals(&s->services[0], 0, 2);
	check_reals(&s->services[1], 1, 1);
	s->services[1].health->on_down = XLVS_ON_DOWN_REMOVE;
	v = &s->services[2];
	check_reals(v, 2, 2);
	v->health->have_sorry = true;
	v->health->sorry.addr = unit_addr("198.19.9.1");
	v->health->sorry.port = 80;
	v->health->sorry.weight = 1;
	v->health->sorry.fwd = XLVS_FWD_DR;
}

/*
 * The twin applies what the daemon's maps should hold with the full plan:
 * every service, every id read, every ring rebuilt and checked slot by slot,
 * every previous owner of its slices read.
 */
static void twin_apply(void)
{
	struct xlvs_spec eff;
	int err;

	cr_assert_eq(xlvsd_hc_build(d.hc, &d.spec, &eff), 0);
	err = xlvs_apply_ex(&twin, &eff, XLVS_APPLY_F_VERIFY_RINGS, NULL);
	cr_assert_eq(err, 0, "the full path: %s", strerror(-err));
	xlvs_spec_free(&eff);
}

static void ring_of(struct xlvs_maps *m, const struct xlvs_service *e, uint32_t *slots)
{
	cr_assert_eq(xlvs_ring_read(m->ring, e->ring_base, e->ring_size, slots), 0);
}

/* The slice's previous owners alike: the same real and generation, a window or none (its end is
 * the clock's at each write). */
static void same_prev(const char *step, size_t svc, const struct xlvs_service *a,
		      const struct xlvs_service *b)
{
	struct xlvs_slot_prev pa, pb;
	uint32_t i, ka, kb;

	for (i = 0; i < a->ring_size; i++) {
		ka = a->ring_base + i;
		kb = b->ring_base + i;
		cr_assert_eq(bpf_map_lookup_elem(d.maps.ring_prev, &ka, &pa), 0);
		cr_assert_eq(bpf_map_lookup_elem(twin.ring_prev, &kb, &pb), 0);
		if (pa.real_id != pb.real_id || pa.real_gen != pb.real_gen || !pa.until != !pb.until) {
			cr_expect_fail("%s: service %zu slot %u: previous owner %u gen %u until %u, the full "
				       "plan's %u gen %u until %u",
				       step, svc, i, pa.real_id, pa.real_gen, pa.until, pb.real_id,
				       pb.real_gen, pb.until);
			return;
		}
	}
}

/* Services, reals and every ring slice of the daemon's maps are byte for byte the twin's. */
static void same_as_twin(const char *step)
{
	struct xlvs_real a, b;
	struct xlvs_service sa, sb;
	struct xlvs_svc_key k;
	uint32_t *ra = malloc(EQ_RING * sizeof(*ra)), *rb = malloc(EQ_RING * sizeof(*rb));
	size_t i;
	uint32_t id;

	cr_assert(ra && rb);
	for (id = 0; id < EQ_IDS; id++) {
		cr_assert_eq(bpf_map_lookup_elem(d.maps.reals, &id, &a), 0);
		cr_assert_eq(bpf_map_lookup_elem(twin.reals, &id, &b), 0);
		cr_expect_eq(memcmp(&a, &b, sizeof(a)), 0,
			     "%s: real id %u: flags %#x gen %u weight %u svc %u, the full plan's: "
			     "flags %#x gen %u weight %u svc %u",
			     step, id, a.flags, a.gen, a.weight, a.svc_id, b.flags, b.gen, b.weight,
			     b.svc_id);
	}
	for (i = 0; i < d.spec.nr_services; i++) {
		memset(&k, 0, sizeof(k));
		k.family = d.spec.services[i].vip.family;
		memcpy(k.addr, d.spec.services[i].vip.be, sizeof(k.addr[0]));
		k.port = htons(d.spec.services[i].port);
		k.proto = d.spec.services[i].proto;
		cr_assert_eq(bpf_map_lookup_elem(d.maps.services, &k, &sa), 0, "%s: service %zu", step, i);
		cr_assert_eq(bpf_map_lookup_elem(twin.services, &k, &sb), 0, "%s: service %zu", step, i);
		cr_expect_eq(memcmp(&sa, &sb, sizeof(sa)), 0, "%s: service %zu's entry differs", step, i);
		ring_of(&d.maps, &sa, ra);
		ring_of(&twin, &sb, rb);
		cr_expect_eq(memcmp(ra, rb, EQ_RING * sizeof(*ra)), 0, "%s: service %zu's ring differs", step,
			     i);
		same_prev(step, i, &sa, &sb);
	}
	free(ra);
	free(rb);
}

/*
 * One health change: the daemon writes it, planning `planned` services (1:
 * the one whose weights changed; all: reals came or went, every service
 * planned reading only the ids in use); the twin writes the full plan.
 */
static void step(const char *what, unsigned int ndown, size_t planned, uint32_t *slots)
{
	uint32_t end = d.reals_end;

	unit_wait_down(&d, ndown);
	cr_assert_gt(end, 0, "%s: the daemon does not know which ids are in use", what);
	xlvsd_health_apply(&d);
	cr_assert_eq(d.health_err, 0, "%s: the health apply failed", what);
	cr_expect_eq(d.health_planned, planned, "%s: %zu services planned, want %zu", what, d.health_planned,
		     planned);
	cr_assert_gt(d.reals_end, 0);
	twin_apply();
	same_as_twin(what);
	*slots += d.last_apply.ring_slots_written;
}

static void eq_setup(void)
{
	struct xlvs_spec want;

	eq_spec(&want);
	setup_spec(&want, 2 * EQ_SVCS * EQ_RING);
	skel2 = unit_director_load(0, 2 * EQ_SVCS * EQ_RING, &twin);
	twin_apply(); /* the daemon's first apply verifies too */
	same_as_twin("start");
}

static void eq_teardown(void)
{
	xlvs_maps_close(&twin);
	xlvs_lb_bpf__destroy(skel2);
	teardown();
}

/*
 * Health changes of every kind (quiesce, remove and back with a new id,
 * every real down and the sorry server in, out, and in again, a new id
 * above the ones in use that had a real before): after each, the maps the
 * daemon wrote, planning only the service whose weights changed or reading
 * only the ids in use, are those a full plan writes from the same history.
 */
Test(hcfast, health_writes_what_the_full_plan_writes, .init = eq_setup, .fini = eq_teardown, .timeout = 60)
{
	uint32_t slots = 0, end;
	struct xlvs_real r;

	set_down(0, 0, true);
	step("service 0 real 0 down (quiesce)", 1, 1, &slots);
	set_down(1, 0, true);
	step("service 1 real 0 down (remove)", 2, EQ_SVCS, &slots);
	set_down(2, 0, true);
	set_down(2, 1, true);
	step("service 2 all down: sorry server in", 4, EQ_SVCS, &slots);
	set_down(1, 0, false);
	step("service 1 real 0 back: a new id", 3, EQ_SVCS, &slots);
	set_down(2, 0, false);
	step("service 2 real 0 back: sorry server out", 2, EQ_SVCS, &slots);
	set_down(2, 0, true);
	step("service 2 all down again: sorry server in again", 3, EQ_SVCS, &slots);
	set_down(0, 0, false);
	step("service 0 real 0 back", 2, 1, &slots);
	set_down(0, 1, true);
	step("service 0 real 1 down", 3, 1, &slots);
	/* an id above those in use, given before: read for its generation */
	set_down(1, 0, true);
	step("service 1 real 0 down again", 4, EQ_SVCS, &slots);
	end = d.reals_end;
	set_down(1, 0, false);
	step("service 1 real 0 back above the ids in use", 3, EQ_SVCS, &slots);
	cr_assert_eq(bpf_map_lookup_elem(d.maps.reals, &end, &r), 0);
	cr_expect(r.gen == 2 && (r.flags & XLVS_REAL_F_ACTIVE) && d.reals_end == end + 1,
		  "real id %u: gen %u flags %#x, ids in use end at %u", end, r.gen, r.flags, d.reals_end);
	cr_expect_gt(slots, 0, "no ring slot moved: nothing was compared");
}

/*
 * A real ACTIVE above the ids the daemon said were in use (no one else
 * writes xlvs_reals while xlvsd runs; here the test does, in both maps): the
 * new id a health change needs (the sorry server's) is found in use, and the
 * apply reads every id instead, as the full plan does, which deactivates the
 * stray real and takes the next id.
 */
Test(hcfast, an_unexpected_real_makes_it_read_every_id, .init = eq_setup, .fini = eq_teardown, .timeout = 60)
{
	struct xlvs_real r = { .family = XLVS_AF_INET, .flags = XLVS_REAL_F_ACTIVE, .svc_id = 999, .gen = 7 };
	uint32_t slots = 0, stray = d.reals_end;

	cr_assert_gt(stray, 0);
	cr_assert_eq(bpf_map_update_elem(d.maps.reals, &stray, &r, BPF_ANY), 0);
	cr_assert_eq(bpf_map_update_elem(twin.reals, &stray, &r, BPF_ANY), 0);
	set_down(2, 0, true);
	set_down(2, 1, true);
	step("service 2 all down: the sorry server's id is the stray real's", 2, EQ_SVCS, &slots);
	cr_assert_eq(bpf_map_lookup_elem(d.maps.reals, &stray, &r), 0);
	cr_expect(!(r.flags & XLVS_REAL_F_ACTIVE) && r.gen == 7, "stray real id %u: flags %#x gen %u", stray,
		  r.flags, r.gen);
	cr_expect_eq(d.reals_end, stray + 2,
		     "ids in use end at %u, want %u (the sorry server after the stray)", d.reals_end,
		     stray + 2);
}

/*
 * A real of service 0 deactivated behind the daemon's back (in both maps):
 * its next weight change finds the real not as it was written, so every
 * service is planned, which writes the real back, as the full plan does.
 */
Test(hcfast, a_service_not_as_written_is_planned_with_all, .init = eq_setup, .fini = eq_teardown,
     .timeout = 60)
{
	struct xlvs_real r;
	uint32_t slots = 0, id;
	int i;

	set_down(0, 0, true);
	step("service 0 real 0 down", 1, 1, &slots);
	for (id = 0; id < EQ_IDS; id++) {
		cr_assert_eq(bpf_map_lookup_elem(d.maps.reals, &id, &r), 0);
		if ((r.flags & XLVS_REAL_F_ACTIVE) && r.svc_id == 0 && r.weight)
			break;
	}
	cr_assert_lt(id, EQ_IDS, "no real of service 0 with a weight");
	r.flags &= ~XLVS_REAL_F_ACTIVE;
	for (i = 0; i < 2; i++)
		cr_assert_eq(bpf_map_update_elem(i ? twin.reals : d.maps.reals, &id, &r, BPF_ANY), 0);
	set_down(0, 0, false);
	step("service 0 real 0 back, another real of it gone from the maps", 0, EQ_SVCS, &slots);
	cr_assert_eq(bpf_map_lookup_elem(d.maps.reals, &id, &r), 0);
	cr_expect(r.flags & XLVS_REAL_F_ACTIVE, "real id %u not written back", id);
}
