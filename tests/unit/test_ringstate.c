// SPDX-License-Identifier: GPL-2.0
/*
 * Ring state in userspace (docs/architecture.md "Ring state"): which services
 * the planner makes ring-state ones, how xlvs_apply() writes their slices
 * (flags and previous owners in xlvs_ring_prev) and how the sweep unflags
 * slots once their window is over. Real maps, loaded per test (root).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <xlvs/hash.h>

#include "daemon/metrics.h"
#include "daemon/status.h"
#include "daemon/sweep.h"
#include "helpers.h"

/* ---- the mode decision: one row per case ---- */

struct mode_row {
	const char *name;
	uint8_t sched, proto, flow_state, fwd, sorry_fwd; /* sorry_fwd XLVS_FWD_MAX: no sorry server */
	uint32_t persist_s;
	int want;	 /* XLVS_FLOW_STATE_RING / _TABLE, or -EINVAL */
	const char *why; /* in the reason */
};

#define NO_SORRY XLVS_FWD_MAX
#define TCP	 IPPROTO_TCP
#define UDP	 IPPROTO_UDP
#define AUTO	 XLVS_FLOW_STATE_AUTO
#define RING	 XLVS_FLOW_STATE_RING
#define TABLE	 XLVS_FLOW_STATE_TABLE
#define MAGLEV	 XLVS_SCHED_MAGLEV
#define MH	 XLVS_SCHED_MH
#define DR	 XLVS_FWD_DR

static const struct mode_row mode_rows[] = {
	{ "auto maglev tcp dr", MAGLEV, TCP, AUTO, DR, NO_SORRY, 0, RING, "auto: ring" },
	{ "auto mh tcp tun", MH, TCP, AUTO, XLVS_FWD_TUN, NO_SORRY, 0, RING, "auto: ring" },
	{ "auto maglev tcp gue, dr sorry server", MAGLEV, TCP, AUTO, XLVS_FWD_GUE, DR, 0, RING,
	  "auto: ring" },
	{ "auto wlc", XLVS_SCHED_WLC, TCP, AUTO, DR, NO_SORRY, 0, TABLE, "the wlc scheduler" },
	{ "auto sh", XLVS_SCHED_SH, TCP, AUTO, DR, NO_SORRY, 0, TABLE, "the sh scheduler" },
	{ "auto rr", XLVS_SCHED_RR, TCP, AUTO, DR, NO_SORRY, 0, TABLE, "the rr scheduler" },
	{ "auto udp", MAGLEV, UDP, AUTO, DR, NO_SORRY, 0, TABLE, "udp" },
	{ "auto persistent", MAGLEV, TCP, AUTO, DR, NO_SORRY, 300, TABLE, "persistence" },
	{ "auto nat real", MAGLEV, TCP, AUTO, XLVS_FWD_NAT, NO_SORRY, 0, TABLE, "198.18.1.2 is nat" },
	{ "auto fullnat real", MH, TCP, AUTO, XLVS_FWD_FULLNAT, NO_SORRY, 0, TABLE, "198.18.1.2 is fullnat" },
	{ "auto fullnat sorry server", MAGLEV, TCP, AUTO, DR, XLVS_FWD_FULLNAT, 0, TABLE,
	  "sorry server 198.18.9.9 is fullnat" },
	{ "table maglev tcp", MAGLEV, TCP, TABLE, DR, NO_SORRY, 0, TABLE, "flow_state: table" },
	{ "ring maglev tcp", MAGLEV, TCP, RING, DR, NO_SORRY, 0, RING, "flow_state: ring" },
	{ "ring udp: allowed", MAGLEV, UDP, RING, DR, NO_SORRY, 0, RING, "udp" },
	{ "ring wlc: refused", XLVS_SCHED_WLC, TCP, RING, DR, NO_SORRY, 0, -EINVAL, "the wlc scheduler" },
	{ "ring persistent: refused", MH, TCP, RING, DR, NO_SORRY, 60, -EINVAL, "persistence" },
	{ "ring nat real: refused", MAGLEV, TCP, RING, XLVS_FWD_NAT, NO_SORRY, 0, -EINVAL, "is nat" },
	{ "ring nat sorry server: refused", MAGLEV, TCP, RING, DR, XLVS_FWD_NAT, 0, -EINVAL,
	  "sorry server 198.18.9.9 is nat" },
	{ "unknown flow_state", MAGLEV, TCP, 7, DR, NO_SORRY, 0, -EINVAL, "unknown flow_state 7" },
};

/* Two reals: the first dr, the second (198.18.1.2) with the row's method. */
static void mode_spec(const struct mode_row *r, struct xlvs_svc_spec *s, struct xlvs_real_spec *reals,
		      struct xlvs_svc_health *h)
{
	memset(s, 0, sizeof(*s));
	memset(reals, 0, 2 * sizeof(*reals));
	memset(h, 0, sizeof(*h));
	s->vip = unit_addr("198.18.0.10");
	s->proto = r->proto;
	s->port = 80;
	s->sched = r->sched;
	s->fwd = DR;
	s->persist_s = r->persist_s;
	s->flow_state = r->flow_state;
	s->ring_size = 251;
	reals[0] = (struct xlvs_real_spec){ .addr = unit_addr("198.18.1.1"), .fwd = DR, .weight = 1 };
	reals[1] = (struct xlvs_real_spec){ .addr = unit_addr("198.18.1.2"), .fwd = r->fwd, .weight = 1 };
	s->reals = reals;
	s->nr_reals = 2;
	if (r->sorry_fwd != NO_SORRY) {
		h->have_sorry = true;
		h->sorry = (struct xlvs_real_spec){ .addr = unit_addr("198.18.9.9"), .fwd = r->sorry_fwd };
		s->health = h;
	}
}

Test(flow_state, decision_table)
{
	struct xlvs_real_spec reals[2];
	struct xlvs_svc_health h;
	struct xlvs_svc_spec s;
	char why[256];
	size_t i;
	int got;

	for (i = 0; i < sizeof(mode_rows) / sizeof(mode_rows[0]); i++) {
		mode_spec(&mode_rows[i], &s, reals, &h);
		got = xlvs_svc_flow_state(&s, why, sizeof(why));
		cr_expect_eq(got, mode_rows[i].want, "%s: got %d (%s), want %d", mode_rows[i].name, got, why,
			     mode_rows[i].want);
		cr_expect_not_null(strstr(why, mode_rows[i].why), "%s: reason '%s' lacks '%s'",
				   mode_rows[i].name, why, mode_rows[i].why);
	}
}

/* What --check and the control socket run: the planner refuses, naming the service and why. */
Test(flow_state, planner_refuses_ring_where_it_cannot_be)
{
	struct xlvs_real_spec reals[2];
	struct xlvs_svc_health h;
	struct xlvs_svc_spec s;
	struct xlvs_spec spec = { .nr_services = 1, .services = &s };
	char msg[512];

	mode_spec(&mode_rows[14], &s, reals, &h); /* ring wlc */
	cr_expect_eq(xlvs_plan_check(NULL, 0, &spec, msg, sizeof(msg)), -EINVAL);
	cr_expect_str_eq(
		msg, "service tcp 198.18.0.10:80: flow_state: ring is not possible: the wlc scheduler is not "
		     "a function of the flow (ring needs maglev or mh)");
	mode_spec(&mode_rows[13], &s, reals, &h); /* ring udp */
	cr_expect_eq(xlvs_plan_check(NULL, 0, &spec, msg, sizeof(msg)), 0, "%s", msg);
	mode_spec(&mode_rows[0], &s, reals, &h);
	s.ring_window_s = 7 * 24 * 3600 + 1;
	cr_expect_eq(xlvs_plan_check(NULL, 0, &spec, msg, sizeof(msg)), -EINVAL);
	cr_expect_str_eq(msg,
			 "service tcp 198.18.0.10:80: ring_window 604801 s is more than 604800 s (a week)");
}

/* ---- write_ring on real maps ---- */

#define RSIZE	 251	     /* the service's ring */
#define SLOTS	 (4 * 65537) /* room for two default rings */
#define WINDOW_S 100

static struct xlvs_maps M;
static struct xlvs_lb_bpf *skel;
static struct xlvs_real_spec R[4];
static struct xlvs_svc_spec S;
static struct xlvs_spec SPEC = { .nr_services = 1, .services = &S };
static struct xlvs_sweep *SW; /* sweep_pass()'s */

static const char *const addrs[] = { "198.18.1.1", "198.18.1.2", "198.18.1.3", "198.18.1.4" };

static void setup(void)
{
	size_t i;

	skel = unit_director_load(4096, SLOTS, &M);
	cr_assert_eq(M.ring_slots, 262160, "SLOTS in whole blocks of 16");
	cr_assert_eq(M.ring_prev_slots, M.ring_slots, "xlvs_ring_prev sized as xlvs_ring");
	cr_assert_eq(xlvs_maps_set_global(&M, &(struct xlvs_global_spec){ 0 }), 0);
	memset(&S, 0, sizeof(S));
	S.vip = unit_addr("198.18.0.10");
	S.proto = IPPROTO_TCP;
	S.port = 80;
	S.sched = XLVS_SCHED_MAGLEV;
	S.fwd = XLVS_FWD_DR;
	S.ring_size = RSIZE;
	S.ring_window_s = WINDOW_S;
	S.reals = R;
	for (i = 0; i < 4; i++)
		R[i] = (struct xlvs_real_spec){ .addr = unit_addr(addrs[i]),
						.fwd = XLVS_FWD_DR,
						.weight = 1 };
}

static void teardown(void)
{
	xlvs_sweep_free(SW);
	SW = NULL;
	xlvs_maps_close(&M);
	xlvs_lb_bpf__destroy(skel);
}

TestSuite(ring_write, .init = setup, .fini = teardown);

static void apply_reals(size_t n)
{
	struct xlvs_apply_stats st;
	int err;

	S.nr_reals = n;
	err = xlvs_apply(&M, &SPEC, &st);
	cr_assert_eq(err, 0, "apply: %s", strerror(-err));
}

static struct xlvs_service entry_in(struct xlvs_maps *m)
{
	struct xlvs_svc_key k = { .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct xlvs_service e;

	k.addr[0] = S.vip.be[0];
	cr_assert_eq(bpf_map_lookup_elem(m->services, &k, &e), 0);
	return e;
}

static struct xlvs_service entry(void)
{
	return entry_in(&M);
}

/* The slice as the maps hold it: raw values and previous owners. */
struct slice {
	uint32_t v[RSIZE];
	struct xlvs_slot_prev p[RSIZE];
};

static void read_slice_in(struct xlvs_maps *m, const struct xlvs_service *e, struct slice *s)
{
	uint32_t i, slot;

	cr_assert_eq(e->ring_size, RSIZE);
	cr_assert_eq(xlvs_ring_read(m->ring, e->ring_base, RSIZE, s->v), 0);
	for (i = 0; i < RSIZE; i++) {
		slot = e->ring_base + i;
		cr_assert_eq(bpf_map_lookup_elem(m->ring_prev, &slot, &s->p[i]), 0);
	}
}

static void read_slice(const struct xlvs_service *e, struct slice *s)
{
	read_slice_in(&M, e, s);
}

static uint32_t real_id_of(const char *addr)
{
	struct xlvs_addr a = unit_addr(addr);
	struct xlvs_real r;
	uint32_t id;

	for (id = 0; id < 64; id++)
		if (!bpf_map_lookup_elem(M.reals, &id, &r) && (r.flags & XLVS_REAL_F_ACTIVE) &&
		    r.addr[0] == a.be[0])
			return id;
	cr_assert_fail("no real %s", addr);
	return XLVS_REAL_NONE;
}

static uint32_t jiffies(void)
{
	struct xlvs_jiffies j;

	cr_assert_eq(xlvs_jiffies_read(&j), 0);
	return j.now;
}

static uint32_t hz(void)
{
	uint32_t v;

	cr_assert_eq(xlvs_hz(&v), 0);
	return v;
}

/* until was stamped between jiffies t0 and t1 with the window of WINDOW_S. */
static void expect_until(uint32_t until, uint32_t t0, uint32_t t1, uint32_t slot)
{
	uint32_t lo = t0 + WINDOW_S * hz(), hi = t1 + WINDOW_S * hz();

	cr_expect(until - lo <= hi - lo, "slot %u: until %u not in [%u, %u]", slot, until, lo, hi);
}

Test(ring_write, fresh_slice_is_unflagged_with_no_previous_owner)
{
	struct slice s;
	struct xlvs_service e;
	uint32_t i;

	apply_reals(2);
	e = entry();
	cr_expect_eq(e.flags, XLVS_SVC_F_RING_STATE, "maglev tcp dr: ring state");
	read_slice(&e, &s);
	for (i = 0; i < RSIZE; i++) {
		cr_expect(s.v[i] == real_id_of(addrs[0]) || s.v[i] == real_id_of(addrs[1]), "slot %u: %#x", i,
			  s.v[i]);
		cr_expect_eq(s.p[i].until, 0, "slot %u", i);
	}
}

Test(ring_write, add_real_flags_changed_slots_with_the_old_owner)
{
	struct slice a, b;
	struct xlvs_service e;
	uint32_t i, t0, t1, c, changed = 0, taken = 0;

	apply_reals(2);
	e = entry();
	read_slice(&e, &a);
	t0 = jiffies();
	apply_reals(3);
	t1 = jiffies();
	read_slice(&e, &b);
	c = real_id_of(addrs[2]);
	for (i = 0; i < RSIZE; i++) {
		if (b.v[i] == a.v[i]) { /* unchanged: no flag, no previous owner */
			cr_expect_eq(b.p[i].until, 0, "slot %u", i);
			continue;
		}
		changed++;
		taken += b.v[i] == (c | XLVS_SLOT_CHANGED);
		/* flagged; it keeps whom it had, of generation 1 (new ids) */
		cr_expect(b.v[i] & XLVS_SLOT_CHANGED, "slot %u: %#x", i, b.v[i]);
		cr_expect_neq(xlvs_slot_real(b.v[i]), a.v[i], "slot %u", i);
		cr_expect_eq(b.p[i].real_id, a.v[i], "slot %u", i);
		cr_expect_eq(b.p[i].real_gen, 1, "slot %u", i);
		expect_until(b.p[i].until, t0, t1, i);
	}
	/* .3 takes a third of 251 slots, give or take Maglev's spread (which moves a few more) */
	cr_expect(taken >= 70 && taken <= 98, "%u slots taken by the new real", taken);
	cr_expect(changed >= taken && changed <= taken + 20, "%u slots changed", changed);
}

/*
 * Several directors, nothing shared: a second director given the same reals in another order
 * builds the same ring, slot by slot, and after the same change the same flags and previous
 * owners (compared by address, not id). A flow moving between them finds the same real.
 */
static uint32_t addr_of(struct xlvs_maps *m, uint32_t id)
{
	struct xlvs_real r;

	if (id == XLVS_REAL_NONE)
		return 0;
	cr_assert_eq(bpf_map_lookup_elem(m->reals, &id, &r), 0, "real %u", id);
	return r.addr[0];
}

static void expect_same_slices(struct xlvs_maps *b, const struct slice *sa, const struct slice *sb,
			       const char *when)
{
	uint32_t i;

	for (i = 0; i < RSIZE; i++) {
		cr_expect_eq(addr_of(&M, xlvs_slot_real(sa->v[i])), addr_of(b, xlvs_slot_real(sb->v[i])),
			     "%s: slot %u owned by another address", when, i);
		cr_expect_eq(sa->v[i] & XLVS_SLOT_CHANGED, sb->v[i] & XLVS_SLOT_CHANGED, "%s: slot %u's flag",
			     when, i);
		cr_expect_eq(!sa->p[i].until, !sb->p[i].until, "%s: slot %u's window", when, i);
		if (sa->p[i].until && sb->p[i].until)
			cr_expect_eq(addr_of(&M, sa->p[i].real_id), addr_of(b, sb->p[i].real_id),
				     "%s: slot %u's previous owner", when, i);
	}
}

Test(ring_write, two_directors_build_the_same_ring_and_previous_owners)
{
	struct xlvs_real_spec rb[3] = { R[2], R[1], R[0] }; /* director B lists them backwards */
	struct xlvs_svc_spec sb = S;
	struct xlvs_spec spec_b = { .nr_services = 1, .services = &sb };
	struct xlvs_apply_stats st;
	struct xlvs_lb_bpf *skel_b;
	struct slice *a = calloc(2, sizeof(*a)), *b = a + 1;
	struct xlvs_service ea, eb;
	struct xlvs_maps mb;
	uint32_t i, flagged = 0;

	cr_assert_not_null(a);
	skel_b = unit_director_load(4096, SLOTS, &mb);
	cr_assert_eq(xlvs_maps_set_global(&mb, &(struct xlvs_global_spec){ 0 }), 0);
	sb.reals = rb + 1; /* .2, .1 */
	sb.nr_reals = 2;
	apply_reals(2);
	cr_assert_eq(xlvs_apply(&mb, &spec_b, &st), 0);
	ea = entry();
	eb = entry_in(&mb);
	read_slice(&ea, a);
	read_slice_in(&mb, &eb, b);
	expect_same_slices(&mb, a, b, "two reals");
	/* the same change on both: .3 added (first in B's list) */
	sb.reals = rb;
	sb.nr_reals = 3;
	apply_reals(3);
	cr_assert_eq(xlvs_apply(&mb, &spec_b, &st), 0);
	ea = entry();
	eb = entry_in(&mb);
	read_slice(&ea, a);
	read_slice_in(&mb, &eb, b);
	expect_same_slices(&mb, a, b, ".3 added");
	for (i = 0; i < RSIZE; i++)
		flagged += !!(a->v[i] & XLVS_SLOT_CHANGED);
	cr_expect(flagged >= 70, "only %u slots changed: the test would prove little", flagged);
	free(a);
	xlvs_maps_close(&mb);
	xlvs_lb_bpf__destroy(skel_b);
}

Test(ring_write, second_change_keeps_the_oldest_previous_owner)
{
	struct slice a, b, c;
	struct xlvs_service e;
	uint32_t i, t1, t2, id[4], both = 0, first_only = 0, second_only = 0;

	apply_reals(2);
	e = entry();
	read_slice(&e, &a);
	apply_reals(3);
	read_slice(&e, &b);
	t1 = jiffies();
	apply_reals(4);
	t2 = jiffies();
	read_slice(&e, &c);
	for (i = 0; i < 4; i++)
		id[i] = real_id_of(addrs[i]);
	for (i = 0; i < RSIZE; i++) {
		bool first = xlvs_slot_real(b.v[i]) != a.v[i];
		bool second = xlvs_slot_real(c.v[i]) != xlvs_slot_real(b.v[i]);

		if (first && second) { /* e.g. .3's slot went to .4: .1 or .2 is still the previous owner */
			both++;
			cr_expect(c.v[i] & XLVS_SLOT_CHANGED, "slot %u", i);
			cr_expect_eq(c.p[i].real_id, a.v[i], "slot %u: the oldest", i);
			cr_expect(a.v[i] == id[0] || a.v[i] == id[1], "slot %u", i);
			expect_until(c.p[i].until, t1, t2, i);
		} else if (first) { /* unchanged since: flag and previous owner stay as they were */
			first_only++;
			cr_expect_eq(c.v[i], b.v[i], "slot %u", i);
			cr_expect(c.v[i] & XLVS_SLOT_CHANGED, "slot %u", i);
			cr_expect_eq(memcmp(&c.p[i], &b.p[i], sizeof(c.p[i])), 0, "slot %u", i);
		} else if (second) {
			second_only++;
			cr_expect(c.v[i] & XLVS_SLOT_CHANGED, "slot %u", i);
			cr_expect_eq(c.p[i].real_id, a.v[i], "slot %u", i);
			expect_until(c.p[i].until, t1, t2, i);
		} else {
			cr_expect_eq(c.v[i], a.v[i], "slot %u", i);
			cr_expect_eq(c.p[i].until, 0, "slot %u", i);
		}
	}
	cr_expect_gt(both, 0);
	cr_expect_gt(first_only, 0);
	cr_expect_gt(second_only, 0);
}

/* Every real drained (weight 0): the slots empty, each remembering its owner; back within the window,
 * the owner is flagged with itself as previous owner (the data path ignores a previous owner that owns). */
Test(ring_write, empty_slots_keep_their_previous_owner)
{
	struct slice a, b, c;
	struct xlvs_service e;
	uint32_t i;

	apply_reals(2);
	e = entry();
	read_slice(&e, &a);
	R[0].weight = R[1].weight = 0;
	apply_reals(2);
	read_slice(&e, &b);
	R[0].weight = R[1].weight = 1;
	apply_reals(2);
	read_slice(&e, &c);
	for (i = 0; i < RSIZE; i++) {
		cr_expect_eq(b.v[i], XLVS_REAL_NONE, "slot %u", i);
		cr_expect_eq(b.p[i].real_id, a.v[i], "slot %u", i);
		cr_expect_eq(c.v[i], a.v[i] | XLVS_SLOT_CHANGED, "slot %u", i);
		cr_expect_eq(c.p[i].real_id, a.v[i], "slot %u: kept", i);
		cr_expect_neq(c.p[i].until, 0, "slot %u", i);
	}
}

Test(ring_write, table_to_ring_flags_every_slot_without_previous_owner)
{
	struct xlvs_apply_stats st;
	struct slice a, b;
	struct xlvs_service e;
	uint32_t i;

	S.flow_state = XLVS_FLOW_STATE_TABLE;
	apply_reals(2);
	e = entry();
	cr_expect_eq(e.flags, 0);
	read_slice(&e, &a);
	S.flow_state = XLVS_FLOW_STATE_AUTO;
	cr_assert_eq(xlvs_apply(&M, &SPEC, &st), 0);
	cr_expect_eq(st.ring_slots_written, RSIZE);
	cr_expect_eq(st.services_updated, 1);
	e = entry();
	cr_expect_eq(e.flags, XLVS_SVC_F_RING_STATE);
	read_slice(&e, &b);
	for (i = 0; i < RSIZE; i++) {
		cr_expect_eq(b.v[i], a.v[i] | XLVS_SLOT_CHANGED, "slot %u", i);
		cr_expect_eq(b.p[i].until, 0, "slot %u", i);
	}
	/* ring -> table: nothing is written, the flags stay (the data path masks them) */
	S.flow_state = XLVS_FLOW_STATE_TABLE;
	cr_assert_eq(xlvs_apply(&M, &SPEC, &st), 0);
	cr_expect_eq(st.ring_slots_written, 0);
	cr_expect_eq(entry().flags, 0);
}

Test(ring_write, resize_flags_every_slot_of_the_new_slice)
{
	struct xlvs_service e;
	uint32_t i, slot, v;
	struct xlvs_slot_prev p;

	apply_reals(2);
	S.ring_size = 257;
	apply_reals(2);
	e = entry();
	cr_assert_eq(e.ring_size, 257);
	for (i = 0; i < 257; i++) {
		slot = e.ring_base + i;
		cr_assert_eq(xlvs_ring_get(M.ring, slot, &v), 0);
		cr_assert_eq(bpf_map_lookup_elem(M.ring_prev, &slot, &p), 0);
		cr_expect(v & XLVS_SLOT_CHANGED, "slot %u: %#x", i, v);
		cr_expect_eq(p.until, 0, "slot %u", i);
	}
}

Test(ring_write, udp_service_stays_table_and_unflagged)
{
	struct slice a, b;
	struct xlvs_service e;
	uint32_t i;

	S.proto = IPPROTO_UDP;
	apply_reals(2);
	e = (struct xlvs_service){ 0 };
	{
		struct xlvs_svc_key k = { .port = htons(80), .proto = IPPROTO_UDP, .family = XLVS_AF_INET };

		k.addr[0] = S.vip.be[0];
		cr_assert_eq(bpf_map_lookup_elem(M.services, &k, &e), 0);
	}
	cr_expect_eq(e.flags, 0);
	read_slice(&e, &a);
	apply_reals(3);
	read_slice(&e, &b);
	for (i = 0; i < RSIZE; i++) {
		cr_expect_eq(b.v[i] & XLVS_SLOT_CHANGED, 0, "slot %u", i);
		cr_expect_eq(b.p[i].until, 0, "slot %u", i);
	}
}

/* ---- the sweep ---- */

/* A TCP flow of client 198.19.x.y:port to the VIP whose maglev slot is `want` (of the slice). */
static struct xlvs_flow flow_to(uint32_t want)
{
	struct xlvs_flow f;
	uint32_t n;

	for (n = 1; n < 1u << 20; n++) {
		memset(&f, 0, sizeof(f));
		f.family = XLVS_AF_INET;
		f.proto = IPPROTO_TCP;
		f.src[0] = htonl(0xc6130000 + (n >> 8));
		f.dst[0] = S.vip.be[0];
		f.sport = htons(1024 + (n & 0xff));
		f.dport = htons(80);
		/* xlvs_maps_set_global() made the state with mix64: its slot by a multiply */
		if ((uint32_t)(((uint64_t)xlvs_flow_hash_mix64(&f) * RSIZE) >> 32) == want)
			return f;
	}
	cr_assert_fail("no flow maps to slot %u", want);
	return f;
}

static void put_conn(uint32_t slot, uint32_t real_id, uint32_t last_seen)
{
	struct xlvs_flow f = flow_to(slot);
	struct xlvs_conn c = {
		.real_id = real_id, .real_gen = 1, .hash = xlvs_flow_hash_mix64(&f), .last_seen = last_seen
	};

	cr_assert_eq(bpf_map_update_elem(M.conns, &f, &c, BPF_ANY), 0);
}

static void put_until(const struct xlvs_service *e, uint32_t i, uint32_t until)
{
	uint32_t slot = e->ring_base + i;
	struct xlvs_slot_prev p;

	cr_assert_eq(bpf_map_lookup_elem(M.ring_prev, &slot, &p), 0);
	p.until = until;
	cr_assert_eq(bpf_map_update_elem(M.ring_prev, &slot, &p, BPF_ANY), 0);
}

/* One pass of the test's sweep (its passes go on from one another, as xlvsd's). */
static struct xlvs_sweep_stats sweep_pass(void)
{
	struct xlvs_sweep_stats st = { 0 };
	struct xlvs_sweep *s = SW ? SW : (SW = xlvs_sweep_new());
	int i;

	cr_assert_not_null(s);
	for (i = 0; i < 4 && !st.passes; i++)
		cr_assert_eq(xlvs_sweep_step(&M, s, 1u << 16, &st), 0);
	cr_assert_eq(st.passes, 1);
	return st;
}

/*
 * Changed slots after .3 joins; the test ends the window of some (until in
 * the past) and puts entries on them:
 *   k[0] window over, no entry                              -> unflagged
 *   k[1] window over, entry for the previous owner           -> kept
 *   k[2] window still open (as the apply wrote it)            -> kept
 *   k[3] window over, entry for the owner itself              -> unflagged
 *   k[4] window over, expired entry for the previous owner    -> unflagged (entry deleted)
 *   k[5] until 0 (no previous owner), no entry                -> unflagged
 *   an unflagged slot made XLVS_REAL_NONE, window over        -> stays NONE
 */
Test(ring_write, sweep_unflags_only_free_slots_whose_window_is_over)
{
	struct xlvs_sweep_stats st;
	struct slice a, b, c;
	struct xlvs_service e;
	uint32_t i, n = 0, k[6], none = RSIZE, now, past, slot;
	const uint32_t none_v = XLVS_REAL_NONE;

	apply_reals(2);
	e = entry();
	read_slice(&e, &a);
	apply_reals(3);
	read_slice(&e, &b);
	for (i = 0; i < RSIZE; i++) {
		if (b.v[i] != a.v[i] && n < 6)
			k[n++] = i;
		else if (b.v[i] == a.v[i] && none == RSIZE)
			none = i;
	}
	cr_assert_eq(n, 6);
	now = jiffies();
	past = now - 10 * hz();
	put_until(&e, k[0], past);
	put_until(&e, k[1], past);
	put_until(&e, k[3], past);
	put_until(&e, k[4], past);
	put_until(&e, k[5], 0);
	put_until(&e, none, past);
	slot = e.ring_base + none;
	cr_assert_eq(xlvs_ring_set(M.ring, slot, none_v), 0);
	put_conn(k[1], b.p[k[1]].real_id, now);
	put_conn(k[3], xlvs_slot_real(b.v[k[3]]), now);
	put_conn(k[4], b.p[k[4]].real_id, now - 2000 * hz()); /* tcp lifetime 900 s */

	st = sweep_pass();
	cr_expect_eq(st.ring_cleared, 4);
	cr_expect_eq(st.ring_held, 1);
	cr_expect_eq(st.deleted, 1);
	read_slice(&e, &c);
	cr_expect_eq(c.v[k[0]], xlvs_slot_real(b.v[k[0]]));
	cr_expect_eq(c.v[k[1]], b.v[k[1]], "held by its entry");
	cr_expect_eq(c.v[k[2]], b.v[k[2]], "window open");
	cr_expect_eq(c.v[k[3]], xlvs_slot_real(b.v[k[3]]));
	cr_expect_eq(c.v[k[4]], xlvs_slot_real(b.v[k[4]]));
	cr_expect_eq(c.v[k[5]], xlvs_slot_real(b.v[k[5]]));
	cr_expect_eq(c.v[none], XLVS_REAL_NONE);
	for (i = 0; i < 6; i++)
		cr_expect_neq(b.v[k[i]], xlvs_slot_real(b.v[k[i]]), "k[%u] was flagged", i);
	/* the entry gone (its connection ended), the next pass frees k[1] too */
	{
		struct xlvs_flow f = flow_to(k[1]);

		cr_assert_eq(bpf_map_delete_elem(M.conns, &f), 0);
	}
	st = sweep_pass();
	cr_expect_eq(st.ring_cleared, 1);
	cr_expect_eq(st.ring_held, 0);
	read_slice(&e, &c);
	cr_expect_eq(c.v[k[1]], xlvs_slot_real(b.v[k[1]]));
}

/*
 * xlvsd's sweep (loader/daemon/sweep.c) hands its passes' ring figures to
 * /metrics: of the changed slots after .3 joins, three have their window over,
 * one of them held by an entry for its previous owner; the rest stay open.
 */
Test(ring_write, daemon_sweep_shows_its_ring_figures_in_metrics, .timeout = 30)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct xlvs_service e;
	struct xlvsd_status h;
	struct xlvsd_sweep *sw;
	struct slice a, b;
	uint32_t i, n = 0, k[3], past;
	char *body = NULL;
	size_t len;

	apply_reals(2);
	e = entry();
	read_slice(&e, &a);
	apply_reals(3);
	read_slice(&e, &b);
	for (i = 0; i < RSIZE && n < 3; i++)
		if (b.v[i] != a.v[i])
			k[n++] = i;
	cr_assert_eq(n, 3);
	past = jiffies() - 10 * hz();
	for (i = 0; i < 3; i++)
		put_until(&e, k[i], past);
	put_conn(k[1], b.p[k[1]].real_id, jiffies());
	xlvsd_status_init(&h);
	sw = xlvsd_sweep_start(loop, &M);
	cr_assert_not_null(sw);
	xlvsd_sweep_report_to(sw, &h);
	for (i = 0; i < 100 && !h.ring_cleared; i++) /* the first tick's pass, a second from now */
		ev_run(loop, EVRUN_ONCE);
	cr_expect_eq(h.ring_cleared, 2);
	cr_expect_eq(h.ring_held, 1);
	cr_assert_eq(xlvs_metrics_render(&M, &h, &body, &len), 0);
	cr_expect_not_null(strstr(body, "\nxlvs_ring_slots_cleared_total 2\n"), "%s", body);
	cr_expect_not_null(strstr(body, "\nxlvs_ring_slots_held_total 1\n"), "%s", body);
	free(body);
	xlvsd_sweep_stop(sw);
	ev_loop_destroy(loop);
}

/* A pass looks at 65536 ring-state slots, on from where the last one stopped: two rings of 65537
 * flagged whole (table -> ring) are unflagged in three passes, 65536 + 65536 + 2; then the passes
 * go round again from the first ring. */
Test(ring_write, sweep_passes_take_the_slices_in_turn, .timeout = 120)
{
	struct xlvs_svc_spec two[2];
	struct xlvs_spec spec = { .nr_services = 2, .services = two };
	struct xlvs_sweep_stats st;
	struct xlvs_sweep *s = xlvs_sweep_new();
	/*
	 * pass 1: ring A 0..65535; 2: A 65536, B 0..65534; 3: B 65535..65536 and round to A 0..65533
	 * (2 left); the test then flags A's slot 7 again: pass 4 (A 65534.., B ..65532) does not see
	 * it, pass 5 (B 65533.., A 0..65531) does.
	 */
	const uint64_t want[5] = { 65536, 65536, 2, 0, 1 };
	uint32_t slot, v;
	int i, k;

	cr_assert_not_null(s);
	S.nr_reals = 2;
	S.ring_size = 65537;
	S.flow_state = XLVS_FLOW_STATE_TABLE;
	two[0] = two[1] = S;
	two[1].port = 81;
	cr_assert_eq(xlvs_apply(&M, &spec, NULL), 0);
	two[0].flow_state = two[1].flow_state = XLVS_FLOW_STATE_AUTO;
	cr_assert_eq(xlvs_apply(&M, &spec, NULL), 0);
	for (k = 0; k < 5; k++) {
		if (k == 3) {
			slot = entry().ring_base + 7; /* A: port 80, the lower slice */
			cr_assert_eq(xlvs_ring_get(M.ring, slot, &v), 0);
			v |= XLVS_SLOT_CHANGED;
			cr_assert_eq(xlvs_ring_set(M.ring, slot, v), 0);
		}
		memset(&st, 0, sizeof(st));
		for (i = 0; i < 4 && !st.passes; i++)
			cr_assert_eq(xlvs_sweep_step(&M, s, 1u << 16, &st), 0);
		cr_expect_eq(st.ring_cleared, want[k], "pass %d: %llu cleared", k,
			     (unsigned long long)st.ring_cleared);
	}
	xlvs_sweep_free(s);
}
