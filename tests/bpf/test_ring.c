// SPDX-License-Identifier: GPL-2.0
/*
 * Ring state (bpf/ring.h; docs/architecture.md "Ring state") as a table, one
 * behaviour per row. Each row installs one maglev or mh DR service over
 * reals A, B, C, D whose slice names D in every slot but the one the row's
 * flow belongs to; that slot gets the row's owner (stable, flagged changed,
 * or empty) and its xlvs_ring_prev entry the row's previous owner. A row may
 * plant a connection entry, change one real (weight 0, removed, id reused,
 * moved to another service) and trip the SYN guard; then one packet is sent
 * and the row says where it went (destination MAC), which ring events were
 * counted, the service's new-flow count, and what entry the flow has after.
 * D in every other slot makes a slot computed from the wrong hash show as D.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xlvs/hash.h>
#include "world.h"
#include "xlvs_lb.skel.h"
#include "xlvsmaps.h"

#define SVC_ID	  (STD_SVC_MAX + 1)
#define OTHER_SVC (STD_SVC_MAX + 2)
#define REAL0	  4000
#define NREALS	  4
#define VIP4	  "198.18.0.202"
#define VIP6	  "2001:db8::202"
#define VPORT	  80
#define CPORT	  40000
#define TABLE	  251
#define GEN	  3   /* every real's generation (not 0: a stale 0 would match) */
#define WINDOW_S  300 /* a live previous owner's until: now + WINDOW_S s */
#define AGE_S	  2   /* a planted entry was last seen AGE_S s ago: a lookup restamps it (stamp_due) */

static const char *const real4[NREALS] = { "198.18.9.1", "198.18.9.2", "198.18.9.3", "198.18.9.4" };
static const char *const real6[NREALS] = { "2001:db8:9::1", "2001:db8:9::2", "2001:db8:9::3",
					   "2001:db8:9::4" };

/* Reals by letter; NO: none (no entry, no previous owner, an empty slot, dropped). */
enum letter {
	NO = 0,
	A,
	B,
	C,
	D
};

enum pkt_kind {
	PK_SYN = 1,
	PK_ACK,
	PK_UDP,	 /* the service is UDP (flow_state: ring, explicit) */
	PK_FRAG, /* ICMP frag needed (v6: packet too big) quoting the flow's reply */
};

enum until {
	LIVE = 0, /* now + WINDOW_S */
	PASSED,	  /* one jiffy ago */
	ZERO,	  /* 0: no previous owner, whatever real_id says */
};

enum change {
	KEEP = 0,
	WEIGHT0,   /* drained */
	INACTIVE,  /* removed: XLVS_REAL_F_ACTIVE cleared */
	GEN_BUMP,  /* the id given to another real */
	SVC_MOVED, /* the real now serves another service */
};

/* Ring events, as bits of ring_row.ev */
#define EV_UNUSABLE (1u << 0) /* ring_owner_unusable */
#define EV_HIT	    (1u << 1) /* ring_changed_conn_hit */
#define EV_PREV	    (1u << 2) /* ring_prev_owner */
#define EV_NEW	    (1u << 3) /* ring_new_owner */
#define ANY	    (-1)      /* conns: not checked (the spec does not say) */

struct ring_row {
	const char *name;
	uint8_t family; /* 4 or 6 */
	uint8_t sched;	/* XLVS_SCHED_MAGLEV or XLVS_SCHED_MH */
	bool table;	/* the service without XLVS_SVC_F_RING_STATE */
	enum pkt_kind pkt;
	int owner;    /* the flow's slot: this real; NO: XLVS_REAL_NONE */
	bool changed; /* ... flagged XLVS_SLOT_CHANGED */
	int prev;     /* xlvs_ring_prev of the slot: this real (its generation before the change) */
	enum until until;
	int entry; /* an OPEN entry for this real planted for the flow */
	int real;  /* this real is changed (after the rest is set up) ... */
	enum change change;
	bool guard; /* the SYN guard tripped on every CPU */
	/* what must happen */
	int to;	      /* the real the frame reaches; NO: dropped */
	int drop;     /* to NO: this reason, once */
	unsigned ev;  /* ring events counted once each; the others not at all */
	unsigned any; /* ring events not checked */
	int after;    /* the flow's entry names this real (and its generation) afterwards; NO: none */
	bool kept;    /* the planted entry is byte-identical afterwards: nothing looked it up */
	int conns;    /* the service's new_flows */
};

#define DROP(r)	   .drop = XLVS_DROP_##r + 1
#define V4	   .family = 4, .sched = XLVS_SCHED_MAGLEV
#define V6	   .family = 6, .sched = XLVS_SCHED_MAGLEV
#define MH4	   .family = 4, .sched = XLVS_SCHED_MH
#define STABLE(r)  .owner = r
#define CHANGED(r) .owner = r, .changed = true
#define PREV(r)	   .prev = r
/*
 * Conns of a ring-state service (docs/operations.md, "Ring state: what the
 * figures mean"): the SYNs on stable slots, and, as a table service counts
 * them, the flows scheduled on changed slots or on slots whose owner cannot
 * take them, whatever the packet; not the packets sent to a previous owner.
 */
#define SCHEDULED .conns = 1

static const struct ring_row rows[] = {
	/* ---- stable slot: the owner, no lookup, no entry ---- */
	{ "stable: SYN to the owner, no entry", V4, .pkt = PK_SYN, STABLE(B), .to = B, .conns = 1 },
	{ "stable: ACK to the owner, no entry", V4, .pkt = PK_ACK, STABLE(B), .to = B },
	{ "stable: UDP to the owner, no entry", V4, .pkt = PK_UDP, STABLE(B), .to = B },
	{ "stable: ICMP frag needed to the owner, not recorded, not a new flow", V4, .pkt = PK_FRAG,
	  STABLE(B), .to = B },
	{ "stable: SYN ignores an entry for another real", V4, .pkt = PK_SYN, STABLE(B), .entry = C, .to = B,
	  .after = C, .kept = true, .conns = 1 },
	{ "stable: ACK ignores an entry for another real", V4, .pkt = PK_ACK, STABLE(B), .entry = C, .to = B,
	  .after = C, .kept = true },
	{ "stable: UDP ignores an entry for another real", V4, .pkt = PK_UDP, STABLE(B), .entry = C, .to = B,
	  .after = C, .kept = true },
	{ "stable: a live previous owner is not consulted", V4, .pkt = PK_ACK, STABLE(B), PREV(A), .to = B },
	/* ---- stable slot whose owner cannot take it: the table path ---- */
	{ "stable, owner at weight 0: ring_owner_unusable, the entry is looked up and wins", V4,
	  .pkt = PK_ACK, STABLE(B), .entry = C, .real = B, .change = WEIGHT0, .to = C, .ev = EV_UNUSABLE,
	  .after = C },
	{ "stable, owner at weight 0: an ACK without entry is scheduled and recorded", V4, .pkt = PK_ACK,
	  STABLE(B), .real = B, .change = WEIGHT0, .to = B, .ev = EV_UNUSABLE, .after = B, SCHEDULED },
	{ "stable, owner removed: ring_owner_unusable, the entry wins", V4, .pkt = PK_ACK, STABLE(B),
	  .entry = C, .real = B, .change = INACTIVE, .to = C, .ev = EV_UNUSABLE, .after = C },
	/* ---- changed slot: entry, else previous owner, else new owner ---- */
	{ "changed: an entry wins over previous and new owner", V4, .pkt = PK_ACK, CHANGED(B), PREV(A),
	  .entry = C, .to = C, .ev = EV_HIT, .after = C },
	{ "changed: an entry whose real's id was reused is a miss: previous owner", V4, .pkt = PK_ACK,
	  CHANGED(B), PREV(A), .entry = C, .real = C, .change = GEN_BUMP, .to = A, .ev = EV_PREV,
	  .after = A },
	{ "changed: SYN to the new owner, recorded", V4, .pkt = PK_SYN, CHANGED(B), PREV(A), .to = B,
	  .ev = EV_NEW, .after = B, .conns = 1 },
	{ "changed: SYN recorded even with the SYN guard tripped", V4, .pkt = PK_SYN, CHANGED(B), PREV(A),
	  .guard = true, .to = B, .ev = EV_NEW, .after = B, .conns = 1 },
	{ "changed: ACK without entry to the previous owner, recorded", V4, .pkt = PK_ACK, CHANGED(B),
	  PREV(A), .to = A, .ev = EV_PREV, .after = A },
	{ "changed: ACK to a previous owner at weight 0 (drained)", V4, .pkt = PK_ACK, CHANGED(B), PREV(A),
	  .real = A, .change = WEIGHT0, .to = A, .ev = EV_PREV, .after = A },
	{ "changed: previous owner past its window: new owner", V4, .pkt = PK_ACK, CHANGED(B), PREV(A),
	  .until = PASSED, .to = B, .ev = EV_NEW, .after = B, SCHEDULED },
	{ "changed: until 0 is no previous owner: new owner", V4, .pkt = PK_ACK, CHANGED(B), PREV(A),
	  .until = ZERO, .to = B, .ev = EV_NEW, .after = B, SCHEDULED },
	{ "changed: previous owner removed: new owner", V4, .pkt = PK_ACK, CHANGED(B), PREV(A), .real = A,
	  .change = INACTIVE, .to = B, .ev = EV_NEW, .after = B, SCHEDULED },
	{ "changed: previous owner's id reused (generation differs): new owner", V4, .pkt = PK_ACK,
	  CHANGED(B), PREV(A), .real = A, .change = GEN_BUMP, .to = B, .ev = EV_NEW, .after = B, SCHEDULED },
	{ "changed: previous owner serving another service: new owner", V4, .pkt = PK_ACK, CHANGED(B),
	  PREV(A), .real = A, .change = SVC_MOVED, .to = B, .ev = EV_NEW, .after = B, SCHEDULED },
	{ "changed: previous owner == owner: the new-owner rule", V4, .pkt = PK_ACK, CHANGED(B), PREV(B),
	  .to = B, .ev = EV_NEW, .after = B, SCHEDULED },
	{ "changed: UDP without entry to the previous owner (weight > 0), recorded", V4, .pkt = PK_UDP,
	  CHANGED(B), PREV(A), .to = A, .ev = EV_PREV, .after = A },
	{ "changed: UDP never to a previous owner at weight 0: new owner", V4, .pkt = PK_UDP, CHANGED(B),
	  PREV(A), .real = A, .change = WEIGHT0, .to = B, .ev = EV_NEW, .after = B, SCHEDULED },
	{ "changed: ICMP frag needed to the previous owner, not recorded", V4, .pkt = PK_FRAG, CHANGED(B),
	  PREV(A), .to = A, .ev = EV_PREV },
	/* ---- empty slot (XLVS_REAL_NONE): changed ---- */
	{ "empty slot: ACK to a live previous owner, recorded", V4, .pkt = PK_ACK, STABLE(NO), PREV(A),
	  .to = A, .ev = EV_PREV, .after = A },
	{ "empty slot: SYN dropped (no_real), nothing recorded", V4, .pkt = PK_SYN, STABLE(NO), PREV(A),
	  .to = NO, DROP(NO_REAL), .any = EV_NEW, .conns = ANY },
	{ "empty slot: an entry wins", V4, .pkt = PK_ACK, STABLE(NO), PREV(A), .entry = C, .to = C,
	  .ev = EV_HIT, .after = C },
	/* ---- mh: the slot is the source address's ---- */
	{ "mh stable: ACK to the owner of the source's slot, no entry", MH4, .pkt = PK_ACK, STABLE(B),
	  .to = B },
	{ "mh changed: ACK to the previous owner, recorded", MH4, .pkt = PK_ACK, CHANGED(B), PREV(A), .to = A,
	  .ev = EV_PREV, .after = A },
	{ "mh changed: SYN to the new owner, recorded", MH4, .pkt = PK_SYN, CHANGED(B), PREV(A), .to = B,
	  .ev = EV_NEW, .after = B, .conns = 1 },
	/* ---- IPv6 ---- */
	{ "v6 stable: SYN to the owner, no entry", V6, .pkt = PK_SYN, STABLE(B), .to = B, .conns = 1 },
	{ "v6 stable: ACK ignores an entry for another real", V6, .pkt = PK_ACK, STABLE(B), .entry = C,
	  .to = B, .after = C, .kept = true },
	{ "v6 changed: ACK to the previous owner, recorded", V6, .pkt = PK_ACK, CHANGED(B), PREV(A), .to = A,
	  .ev = EV_PREV, .after = A },
	{ "v6 changed: SYN to the new owner, recorded", V6, .pkt = PK_SYN, CHANGED(B), PREV(A), .to = B,
	  .ev = EV_NEW, .after = B, .conns = 1 },
	{ "v6 changed: packet too big to the previous owner, not recorded", V6, .pkt = PK_FRAG, CHANGED(B),
	  PREV(A), .to = A, .ev = EV_PREV },
	/* ---- table services (flag off): as before ---- */
	{ "table: ACK without entry scheduled and recorded", V4, .table = true, .pkt = PK_ACK, STABLE(B),
	  .to = B, .after = B, .conns = 1 },
	{ "table: a flagged slot (left from ring mode) names its owner; prev ignored", V4, .table = true,
	  .pkt = PK_ACK, CHANGED(B), PREV(A), .to = B, .after = B, .conns = 1 },
	{ "table: an entry wins", V4, .table = true, .pkt = PK_ACK, STABLE(B), .entry = C, .to = C,
	  .after = C },
	{ "table: the SYN guard skips the insert (the guard rows' control)", V4, .table = true, .pkt = PK_SYN,
	  STABLE(B), .guard = true, .to = B, .conns = 1 },
};

static struct world w;
static uint32_t base, hz;

/* The world with the rows' slice at ring_base, the ring ending with it. */
static void open_world(uint32_t ring_base)
{
	struct world_opts o = { .ring_slots = ring_base + TABLE };

	base = ring_base;
	cr_assert_eq(xlvs_hz(&hz), 0, "cannot tell the kernel's HZ");
	world_open(&w, &o);
	world_std(&w);
	world_set_clock(&w, hz); /* the default lifetimes: planted entries stay unexpired */
}

static void setup(void)
{
	open_world(world_std_slots());
}

static void teardown(void)
{
	world_close(&w);
}

TestSuite(ring, .init = setup, .fini = teardown);

static uint32_t id_of(int letter)
{
	return letter == NO ? XLVS_REAL_NONE : REAL0 + (uint32_t)(letter - A);
}

static const char *vip_of(const struct ring_row *r)
{
	return r->family == 4 ? VIP4 : VIP6;
}

static uint8_t proto_of(const struct ring_row *r)
{
	return r->pkt == PK_UDP ? IPPROTO_UDP : IPPROTO_TCP;
}

static uint32_t now_jiffies(void)
{
	struct xlvs_jiffies j;

	cr_assert_eq(xlvs_jiffies_read(&j), 0, "cannot read jiffies");
	return j.now;
}

/* The row's flow: client:CPORT -> VIP:VPORT (an ICMP error's is the quoted reply's, reversed: the same). */
static struct pkt_spec flow_spec(const struct ring_row *r)
{
	return (struct pkt_spec){ .family = r->family,
				  .proto = proto_of(r),
				  .src = r->family == 4 ? CLIENT4 : CLIENT6,
				  .dst = vip_of(r),
				  .sport = CPORT,
				  .dport = VPORT,
				  .tcp_flags = r->pkt == PK_SYN ? TH_SYN : TH_ACK,
				  .seq = 0x0c000001u };
}

/*
 * The slot of the row's flow, written out rather than taken from
 * xlvs_ring_index(): maglev by the flow hash (world_std's mix64) and a multiply, mh by the
 * source address (hashed as its scheduler's first bucket, no port: the row's mh has no
 * mh-port) and the remainder.
 */
static uint32_t flow_slot(const struct ring_row *r, const struct xlvs_flow *f)
{
	if (r->sched == XLVS_SCHED_MH)
		return base + xlvs_sched_hash(f->src, f->family, 0, 0) % TABLE;
	return base + (uint32_t)(((uint64_t)xlvs_flow_hash_mix64(f) * TABLE) >> 32);
}

static void put_reals(const struct ring_row *row)
{
	const char *const *addrs = row->family == 4 ? real4 : real6;
	struct xlvs_real r;
	int i;

	for (i = 0; i < NREALS; i++) {
		r = (struct xlvs_real){ .family = row->family,
					.fwd = XLVS_FWD_DR,
					.flags = XLVS_REAL_F_ACTIVE | XLVS_REAL_F_NH_VALID,
					.svc_id = SVC_ID,
					.weight = 1,
					.gen = GEN };
		parse_addr(row->family, addrs[i], r.addr);
		real_mac(REAL0 + (uint32_t)i, r.nh_mac);
		memcpy(r.nh_smac, MAC_LB, 6);
		world_set_real(&w, REAL0 + (uint32_t)i, &r);
	}
}

/* D in every slot, the row's owner in the flow's, with its previous owner; then the service. */
static void install(const struct ring_row *row, const struct xlvs_flow *f)
{
	uint8_t af = row->family == 4 ? XLVS_AF_INET : XLVS_AF_INET6;
	struct xlvs_svc_key k = { .port = htons(VPORT), .proto = proto_of(row), .family = af };
	struct xlvs_service s = { .id = SVC_ID,
				  .ring_base = base,
				  .ring_size = TABLE,
				  .sched = row->sched,
				  .flags = row->table ? 0 : XLVS_SVC_F_RING_STATE };
	uint32_t table[TABLE], slot = flow_slot(row, f), i;
	struct xlvs_slot_prev prev = { 0 };

	put_reals(row);
	for (i = 0; i < TABLE; i++)
		table[i] = id_of(D);
	table[slot - base] = id_of(row->owner) | (row->changed ? XLVS_SLOT_CHANGED : 0);
	cr_assert_geq(xlvs_ring_write(MAP_FD(&w, xlvs_ring), base, NULL, table, TABLE), 0);
	if (row->prev != NO) {
		prev.real_id = id_of(row->prev);
		prev.real_gen = GEN;
		prev.until = row->until == LIVE	    ? now_jiffies() + WINDOW_S * hz
			     : row->until == PASSED ? now_jiffies() - 1
						    : 0;
		cr_assert_eq(bpf_map_update_elem(MAP_FD(&w, xlvs_ring_prev), &slot, &prev, 0), 0,
			     "%s: xlvs_ring_prev[%u]", row->name, slot);
	}
	parse_addr(row->family, vip_of(row), k.addr);
	world_vip_filter_add(&w, af, k.addr);
	world_service_put(&w, &k, &s);
}

static void plant_entry(const struct ring_row *row, const struct xlvs_flow *f, struct xlvs_conn *c)
{
	*c = (struct xlvs_conn){ .real_id = id_of(row->entry),
				 .real_gen = GEN,
				 .hash = xlvs_flow_hash_mix64(f),
				 .last_seen = now_jiffies() - AGE_S * hz,
				 .state = XLVS_CONN_OPEN };
	world_put_conn(&w, f, c);
}

static void change_real(const struct ring_row *row)
{
	struct xlvs_real r;

	if (row->change == KEEP)
		return;
	world_get_real(&w, id_of(row->real), &r);
	switch (row->change) {
	case WEIGHT0:
		r.weight = 0;
		break;
	case INACTIVE:
		r.flags &= (uint8_t)~XLVS_REAL_F_ACTIVE;
		break;
	case GEN_BUMP:
		r.gen++;
		break;
	case SVC_MOVED:
		r.svc_id = OTHER_SVC;
		break;
	case KEEP:
		return;
	}
	world_set_real(&w, id_of(row->real), &r);
}

/* The guard's window this second already full on every CPU: the next guarded SYN is not inserted. */
static void trip_guard(void)
{
	struct xlvs_syn_window win[w.ncpus];
	struct xlvs_config cfg;
	struct timespec ts;
	uint32_t zero = 0;
	int i;

	cr_assert_eq(clock_gettime(CLOCK_MONOTONIC_COARSE, &ts), 0); /* bpf_ktime_get_coarse_ns() */
	for (i = 0; i < w.ncpus; i++)
		win[i] = (struct xlvs_syn_window){ (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
						   1000000 };
	cr_assert_eq(bpf_map_update_elem(MAP_FD(&w, xlvs_syn_guard), &zero, win, 0), 0);
	world_get_config(&w, &cfg);
	cfg.syn_guard_rate = 1;
	world_set_config(&w, &cfg);
}

static size_t build_packet(const struct ring_row *row, uint8_t *buf)
{
	struct pkt_spec p = flow_spec(row), reply = p, icmp;

	if (row->pkt != PK_FRAG)
		return pkt_build(&p, buf);
	/* what the real sent (VIP -> client), quoted by a router's error to the VIP */
	reply.src = p.dst;
	reply.dst = p.src;
	reply.sport = p.dport;
	reply.dport = p.sport;
	reply.payload = 64;
	icmp = (struct pkt_spec){ .family = row->family,
				  .proto = row->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
				  .src = p.src,
				  .dst = p.dst,
				  .sport = 77,
				  .icmp_type = row->family == 4 ? 3 : 2,
				  .icmp_code = row->family == 4 ? 4 : 0,
				  .quote = &reply };
	return pkt_build(&icmp, buf);
}

static char name_of(int letter)
{
	return letter == NO ? '-' : (char)('A' + letter - A);
}

static void check_events(const struct ring_row *row)
{
	static const struct {
		unsigned bit;
		enum xlvs_event ev;
	} ring_evs[] = { { EV_UNUSABLE, XLVS_EV_RING_STABLE_SLOW },
			 { EV_HIT, XLVS_EV_RING_CHANGED_HIT },
			 { EV_PREV, XLVS_EV_RING_PREV_OWNER },
			 { EV_NEW, XLVS_EV_RING_NEW_OWNER } };
	uint64_t got;
	size_t i;

	for (i = 0; i < sizeof(ring_evs) / sizeof(ring_evs[0]); i++) {
		if (row->any & ring_evs[i].bit)
			continue;
		got = world_event(&w, ring_evs[i].ev);
		cr_expect_eq(got, row->ev & ring_evs[i].bit ? 1 : 0,
			     "%s: event %s counted %llu times, want %d", row->name,
			     xlvs_event_names[ring_evs[i].ev], (unsigned long long)got,
			     row->ev & ring_evs[i].bit ? 1 : 0);
	}
}

static void check_drops(const struct ring_row *row, int verdict)
{
	uint64_t total = world_drops_total(&w);

	if (row->to != NO) {
		cr_expect_eq(total, 0, "%s: %llu drops counted", row->name, (unsigned long long)total);
		return;
	}
	cr_expect_eq(verdict, XDP_DROP, "%s: verdict %d, want XDP_DROP", row->name, verdict);
	cr_expect_eq(world_drop(&w, row->drop - 1), 1, "%s: drop %s not counted once", row->name,
		     xlvs_drop_names[row->drop - 1]);
	cr_expect_eq(total, 1, "%s: %llu drops counted, want 1", row->name, (unsigned long long)total);
}

static void check_entry(const struct ring_row *row, const struct xlvs_flow *f,
			const struct xlvs_conn *planted)
{
	struct xlvs_conn c;
	struct xlvs_real r;
	bool has = world_get_conn(&w, f, &c);

	if (row->after == NO) {
		cr_expect(!has, "%s: the flow has an entry (real %u), want none", row->name, c.real_id);
		return;
	}
	if (!has) {
		cr_expect_fail("%s: the flow has no entry, want one for %c", row->name, name_of(row->after));
		return;
	}
	world_get_real(&w, id_of(row->after), &r);
	cr_expect_eq(c.real_id, id_of(row->after), "%s: entry for real %u, want %u (%c)", row->name,
		     c.real_id, id_of(row->after), name_of(row->after));
	cr_expect_eq(c.real_gen, r.gen, "%s: entry's generation %u, want %u", row->name, c.real_gen, r.gen);
	if (row->kept)
		cr_expect_eq(memcmp(&c, planted, sizeof(c)), 0,
			     "%s: the planted entry changed (last_seen %u -> %u): it was looked up",
			     row->name, planted->last_seen, c.last_seen);
}

static void run_row(const struct ring_row *row)
{
	static uint8_t in[PKT_MAX], out[PKT_MAX];
	struct pkt_spec fs = flow_spec(row);
	struct xlvs_conn planted = { 0 };
	struct xlvs_flow f;
	size_t in_len, out_len;
	int verdict, got;
	int64_t conns;

	spec_flow(&fs, &f);
	install(row, &f);
	if (row->entry != NO)
		plant_entry(row, &f, &planted);
	change_real(row);
	if (row->guard)
		trip_guard();
	in_len = build_packet(row, in);
	verdict = world_run(&w, in, in_len, out, &out_len);
	got = world_frame_real(verdict, out, REAL0, NREALS);
	got = got < 0 ? NO : A + got; /* the letter */
	cr_expect_eq(got, row->to, "%s: reached %c, want %c (verdict %d)", row->name, name_of(got),
		     name_of(row->to), verdict);
	check_drops(row, verdict);
	check_events(row);
	check_entry(row, &f, &planted);
	conns = (int64_t)world_svc_stats(&w, SVC_ID).new_flows;
	if (row->conns != ANY)
		cr_expect_eq(conns, row->conns, "%s: new_flows %lld, want %d", row->name, (long long)conns,
			     row->conns);
}

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void free_params(struct criterion_test_params *p)
{
	cr_free(p->params);
}

/* Each row in a fresh process with a fresh world (the suite's init); rows passed by index. */
ParameterizedTestParameters(ring, table)
{
	size_t *idx = cr_malloc(sizeof(*idx) * NROWS), i;

	for (i = 0; i < NROWS; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NROWS, free_params);
}

ParameterizedTest(size_t *i, ring, table)
{
	cr_log_info("row %zu: %s", *i, rows[*i].name);
	run_row(&rows[*i]);
}

/*
 * xlvs_ring_prev is sized as xlvs_ring (the loader's rule, loader/dataplane/
 * attach.c size_ring_prev(); world_open() follows it): a slice past the
 * maps' built-in size has previous owners too.
 */
Test(ring, previous_owner_honoured_past_the_default_ring_size)
{
	static const struct ring_row row = { "past the default size: ACK to the previous owner, recorded",
					     V4,
					     .pkt = PK_ACK,
					     CHANGED(B),
					     PREV(A),
					     .to = A,
					     .ev = EV_PREV,
					     .after = A };

	world_close(&w);
	open_world(XLVS_RING_SLOTS_DEFAULT);
	run_row(&row);
}

Test(ring, world_sizes_ring_prev_as_ring)
{
	uint32_t blocks = bpf_map__max_entries(w.skel->maps.xlvs_ring);
	uint32_t prev = bpf_map__max_entries(w.skel->maps.xlvs_ring_prev);

	/* the rows' slice ends the ring, in its last block of 16 slots */
	cr_expect_eq(blocks, (base + TABLE + 15) / 16, "xlvs_ring has %u blocks for %u slots", blocks,
		     base + TABLE);
	cr_expect_eq(prev, blocks * 16,
		     "xlvs_ring_prev has %u entries, xlvs_ring %u slots: they must be alike", prev,
		     blocks * 16);
}
