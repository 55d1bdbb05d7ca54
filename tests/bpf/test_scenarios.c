// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario tests: behaviours a single fixture row cannot show. Connection
 * tracking across ring changes, the SYN-flood guard and counters need many
 * packets; bpf_fib_lookup and loading with ip(8), xdp-loader and bpftool need
 * real interfaces, so those tests build them in private namespaces owned by the
 * test process (netns.c). One behaviour per test.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns.h"
#include "world.h"
#include "xlvs_lb.skel.h"
#include "xlvsmaps.h"

#define VIP_DR4	 "198.18.0.10"
#define VIP_IPIP "198.18.0.11"
#define ROUTER4	 "198.18.50.1" /* sends ICMP errors about VIP flows */
#define PORT0	 20000	       /* first client port of a test's flows */
#define BPF_OBJ	 "build/bpf/xlvs_lb.bpf.o"

static uint8_t in[PKT_MAX], out[PKT_MAX];
static size_t in_len, out_len;

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void open_std(struct world *w)
{
	world_open(w, NULL);
	world_std(w);
}

static struct pkt_spec tcp4(const char *vip, uint16_t sport, uint8_t flags)
{
	struct pkt_spec s = { .family = 4,
			      .proto = IPPROTO_TCP,
			      .src = CLIENT4,
			      .dst = vip,
			      .sport = sport,
			      .dport = 80,
			      .tcp_flags = flags,
			      .payload = 100 };

	return s;
}

/* One packet through the director: in/in_len, out/out_len; returns the verdict. */
static int send_pkt(struct world *w, const struct pkt_spec *s)
{
	in_len = pkt_build(s, in);
	return world_run(w, in, in_len, out, &out_len);
}

/* The standard real a frame was sent to, from the MAC world_std gives it. */
static uint32_t frame_real(const uint8_t *frame)
{
	uint32_t id = (uint32_t)frame[4] << 8 | frame[5];
	uint8_t mac[6];

	real_mac(id, mac);
	return memcmp(frame, mac, 6) ? XLVS_REAL_NONE : id;
}

static uint32_t ring_pick(struct world *w, int svc, const struct pkt_spec *s)
{
	struct xlvs_flow f;

	spec_flow(s, &f);
	return world_ring_pick(w, svc, &f);
}

/* Send a packet that must be XDP_TX'd (DR); returns the real it went to. */
static uint32_t forward_to(struct world *w, const struct pkt_spec *s)
{
	int verdict = send_pkt(w, s);

	cr_assert_eq(verdict, XDP_TX, "port %u: verdict %d, want XDP_TX", s->sport, verdict);
	return frame_real(out);
}

/* First client port from 'from' whose DR4 flow the current ring gives to real idx. */
static uint16_t port_to(struct world *w, int idx, uint16_t from)
{
	uint32_t want = std_real_id(SVC_DR4, idx);
	uint16_t port;

	for (port = from; port < from + 1000; port++) {
		struct pkt_spec s = tcp4(VIP_DR4, port, TH_SYN);

		if (ring_pick(w, SVC_DR4, &s) == want)
			return port;
	}
	cr_assert_fail("no port in %u..%u maps to real %u", from, from + 999, want);
	return 0;
}

static uint32_t conn_real(struct world *w, const struct pkt_spec *s)
{
	struct xlvs_flow f;
	struct xlvs_conn c;

	spec_flow(s, &f);
	cr_assert(world_get_conn(w, &f, &c), "flow from port %u has no conn entry", s->sport);
	return c.real_id;
}

/* Weights that drain dr4's third real. */
static const uint32_t drain_third[] = { 1, 1, 0 };

/* A SYN from the first client port Maglev gives dr4's third real, forwarded there. */
static struct pkt_spec syn_to_third(struct world *w)
{
	struct pkt_spec s = tcp4(VIP_DR4, port_to(w, 2, PORT0), TH_SYN);

	cr_assert_eq(forward_to(w, &s), std_real_id(SVC_DR4, 2), "the SYN did not reach the third real");
	return s;
}

/* ---- connection tracking across ring changes ---------------------------- */

#define NFLOWS 64

Test(scenarios, established_flows_stick_across_ring_change)
{
	const uint32_t heavier[] = { 1, 1, 3 };
	uint32_t before[NFLOWS], moved = 0, i, got;
	struct world w;

	open_std(&w);
	for (i = 0; i < NFLOWS; i++) {
		struct pkt_spec s = tcp4(VIP_DR4, PORT0 + i, TH_SYN);

		before[i] = forward_to(&w, &s);
		cr_assert_eq(before[i], ring_pick(&w, SVC_DR4, &s), "port %u: not the ring's real", s.sport);
	}
	world_set_weights(&w, SVC_DR4, heavier);
	for (i = 0; i < NFLOWS; i++) {
		struct pkt_spec s = tcp4(VIP_DR4, PORT0 + i, TH_ACK);

		moved += ring_pick(&w, SVC_DR4, &s) != before[i];
		got = forward_to(&w, &s);
		cr_assert_eq(got, before[i], "port %u moved from real %u to %u", s.sport, before[i], got);
	}
	cr_assert_gt(moved, 0, "the new ring moved none of %d flows: nothing was tested", NFLOWS);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_HIT), NFLOWS, "every second packet is a conn hit");
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_NEW), NFLOWS, "no flow inserted twice");
	cr_expect_eq(world_conn_count(&w), NFLOWS);
	world_close(&w);
}

Test(scenarios, new_flow_follows_changed_ring)
{
	const uint32_t heavier[] = { 1, 1, 3 };
	uint32_t before[1000], port, now;
	struct pkt_spec s;
	struct world w;

	open_std(&w);
	for (port = 0; port < 1000; port++) {
		s = tcp4(VIP_DR4, (uint16_t)(PORT0 + port), TH_SYN);
		before[port] = ring_pick(&w, SVC_DR4, &s);
	}
	world_set_weights(&w, SVC_DR4, heavier);
	for (port = 0; port < 1000; port++) {
		s = tcp4(VIP_DR4, (uint16_t)(PORT0 + port), TH_SYN);
		if (ring_pick(&w, SVC_DR4, &s) != before[port])
			break;
	}
	cr_assert_lt(port, 1000, "no slot moved: nothing to test");
	now = ring_pick(&w, SVC_DR4, &s);
	cr_assert_eq(forward_to(&w, &s), now, "new flow went to the old ring's real %u", before[port]);
	cr_expect_eq(conn_real(&w, &s), now, "conn entry records the new ring's real");
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_NEW), 1);
	world_close(&w);
}

/*
 * The state's flow hash (xlvs_config XLVS_CFG_F_HASH_MIX64) picks the ring slot, in ring
 * state and for a table service's new flow alike. The flow is golden flow 0 of
 * tests/unit/test_golden.c: murmur3 0x7510271f, slot 45584 of 65537 by the remainder;
 * mix64 0xb77e2b36, slot 46974 by the multiply. dr4's ring gives every other slot to its
 * first real, those two to the second and the third.
 */
#define SLOT_MURMUR3 45584
#define SLOT_MIX64   46974

struct hash_row {
	const char *name;
	uint32_t cfg_flags;
	bool ring_state;
	uint8_t tcp_flags;
	int real; /* dr4's real the packet goes to */
};

static const struct hash_row hash_rows[] = {
	{ "mix64, table service: a SYN to the mix64 slot's real", XLVS_CFG_F_HASH_MIX64, false, TH_SYN, 2 },
	{ "murmur3, table service: a SYN to the remainder's slot's real", 0, false, TH_SYN, 1 },
	{ "mix64, ring state: an ACK without entry to the mix64 slot's owner", XLVS_CFG_F_HASH_MIX64, true,
	  TH_ACK, 2 },
	{ "murmur3, ring state: an ACK without entry to the remainder's slot's owner", 0, true, TH_ACK, 1 },
};

static void run_hash_row(const struct hash_row *row)
{
	struct pkt_spec s = tcp4(VIP_DR4, 40000, row->tcp_flags);
	static uint32_t ring[XLVS_RING_DEFAULT];
	struct xlvs_svc_key k = { .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct xlvs_config cfg;
	struct xlvs_service v;
	struct world w;
	uint32_t i;

	open_std(&w);
	cr_assert_eq(std_svcs[SVC_DR4].ring_size, XLVS_RING_DEFAULT);
	for (i = 0; i < XLVS_RING_DEFAULT; i++)
		ring[i] = std_real_id(SVC_DR4, 0);
	ring[SLOT_MURMUR3] = std_real_id(SVC_DR4, 1);
	ring[SLOT_MIX64] = std_real_id(SVC_DR4, 2);
	cr_assert_geq(xlvs_ring_write(MAP_FD(&w, xlvs_ring), w.ring_base[SVC_DR4], NULL, ring,
				      XLVS_RING_DEFAULT),
		      0);
	parse_addr(4, VIP_DR4, k.addr);
	cr_assert_eq(bpf_map_lookup_elem(MAP_FD(&w, xlvs_services), &k, &v), 0);
	v.flags = row->ring_state ? v.flags | XLVS_SVC_F_RING_STATE : v.flags & ~XLVS_SVC_F_RING_STATE;
	world_service_put(&w, &k, &v);
	world_get_config(&w, &cfg);
	cfg.flags = (cfg.flags & ~XLVS_CFG_F_HASH_MIX64) | row->cfg_flags;
	world_set_config(&w, &cfg);
	s.src = "198.18.0.1";
	cr_expect_eq(forward_to(&w, &s), std_real_id(SVC_DR4, row->real), "%s", row->name);
	world_close(&w);
}

Test(scenarios, the_states_flow_hash_picks_the_slot)
{
	size_t i;

	for (i = 0; i < sizeof(hash_rows) / sizeof(hash_rows[0]); i++)
		run_hash_row(&hash_rows[i]);
}

/*
 * A flow whose entry names a real that no longer serves it is rescheduled by
 * the ring, never delivered to whatever holds that id now. Rows: what the
 * daemon did to the flow's real (id std_real_id(SVC_DR4, 0)).
 */
struct real_change {
	const char *name;
	bool deactivate;   /* the real was removed: ACTIVE cleared */
	int move_to;	   /* >= 0: its id now belongs to this service */
	bool bump_gen;	   /* its id was given to another real (the planner's generation) */
	bool ring_without; /* the ring no longer names the id */
};

static const struct real_change real_changes[] = {
	{ "removed real", true, -1, false, true },
	{ "id recycled into another service", false, SVC_DR4_ANY, true, true },
	/* The defect a review found: a service deleted and another created on the same
	 * service and real id numbers; only the generation tells them apart. */
	{ "id reused by a new real of the same-numbered service", false, -1, true, false },
};

static void run_real_change(const struct real_change *row)
{
	const uint32_t without_first[] = { 0, 1, 1 };
	uint32_t id = std_real_id(SVC_DR4, 0), now;
	struct xlvs_real r;
	struct pkt_spec s;
	struct world w;

	open_std(&w);
	s = tcp4(VIP_DR4, port_to(&w, 0, PORT0), TH_SYN);
	cr_assert_eq(forward_to(&w, &s), id, "%s: the SYN missed its real", row->name);
	if (row->ring_without)
		world_set_weights(&w, SVC_DR4, without_first);
	world_get_real(&w, id, &r);
	if (row->deactivate)
		r.flags &= (uint8_t)~XLVS_REAL_F_ACTIVE;
	if (row->move_to >= 0)
		r.svc_id = (uint32_t)row->move_to;
	r.gen += row->bump_gen;
	world_set_real(&w, id, &r);

	s.tcp_flags = TH_ACK;
	now = forward_to(&w, &s);
	if (row->ring_without)
		cr_expect_neq(now, id, "%s: the flow followed the id", row->name);
	cr_expect_eq(now, ring_pick(&w, SVC_DR4, &s), "%s: not the ring's real", row->name);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_RESCHED), 1, "%s: the old entry was honoured", row->name);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_HIT), 0, "%s", row->name);
	cr_expect_eq(conn_real(&w, &s), now, "%s: the entry does not name the new real", row->name);
	cr_expect_eq(world_conn_count(&w), 1, "%s", row->name);
	world_close(&w);
}

Test(scenarios, flows_of_a_real_that_no_longer_serves_are_rescheduled)
{
	size_t i;

	for (i = 0; i < sizeof(real_changes) / sizeof(real_changes[0]); i++)
		run_real_change(&real_changes[i]);
}

/* The entry a rescheduled flow gets carries the generation of the real it now names. */
Test(scenarios, new_entries_carry_the_reals_generation)
{
	uint32_t id = std_real_id(SVC_DR4, 0);
	struct xlvs_real r;
	struct pkt_spec s;
	struct xlvs_flow f;
	struct xlvs_conn c;
	struct world w;

	open_std(&w);
	world_get_real(&w, id, &r);
	r.gen = 7;
	world_set_real(&w, id, &r);
	s = tcp4(VIP_DR4, port_to(&w, 0, PORT0), TH_SYN);
	cr_assert_eq(forward_to(&w, &s), id);
	spec_flow(&s, &f);
	cr_assert(world_get_conn(&w, &f, &c));
	cr_expect_eq(c.real_gen, 7);
	world_close(&w);
}

Test(scenarios, drained_real_keeps_established_flow)
{
	uint32_t drained = std_real_id(SVC_DR4, 2);
	struct pkt_spec s;
	struct world w;

	open_std(&w);
	s = syn_to_third(&w);
	world_set_weights(&w, SVC_DR4, drain_third);
	cr_assert_neq(ring_pick(&w, SVC_DR4, &s), drained, "weight 0 left the real in the ring");

	s.tcp_flags = TH_ACK;
	cr_assert_eq(forward_to(&w, &s), drained, "established flow left its drained real");
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_HIT), 1);
	cr_expect_eq(world_real_stats(&w, drained).packets, 2);
	world_close(&w);
}

#define NEW_FLOWS 200

Test(scenarios, drained_real_gets_no_new_flows)
{
	uint32_t drained = std_real_id(SVC_DR4, 2), i, got;
	struct world w;

	open_std(&w);
	world_set_weights(&w, SVC_DR4, drain_third);
	for (i = 0; i < NEW_FLOWS; i++) {
		struct pkt_spec s = tcp4(VIP_DR4, PORT0 + i, TH_SYN);

		got = forward_to(&w, &s);
		cr_assert_neq(got, drained, "new flow from port %u sent to the drained real", s.sport);
		cr_assert_eq(got, ring_pick(&w, SVC_DR4, &s), "port %u: not the ring's real", s.sport);
	}
	cr_expect_eq(world_real_stats(&w, drained).new_flows, 0);
	cr_expect_eq(world_conn_count(&w), NEW_FLOWS);
	world_close(&w);
}

/* ---- counters and the service cache in stripes (abi.h) ------------------ */

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0, "pin to CPU %d: %m", cpu);
}

/* Entry key of a striped map, read alone (not summed): which CPU's stripe a packet wrote. */
static struct xlvs_counters stripe_entry(int fd, uint32_t key)
{
	struct xlvs_counters c;

	cr_assert_eq(bpf_map_lookup_elem(fd, &key, &c), 0, "stripe entry %u: %m", key);
	return c;
}

static uint64_t stripe_u64(int fd, uint32_t key)
{
	uint64_t v;

	cr_assert_eq(bpf_map_lookup_elem(fd, &key, &v), 0, "stripe entry %u: %m", key);
	return v;
}

/* A packet on CPU 1 counts into CPU 1's stripes (XLVS_MAX_SERVICES, XLVS_MAX_REALS and 64 events
 * on), and caches its service there; CPU 0's stay empty. */
Test(scenarios, a_cpu_counts_and_caches_in_its_own_stripe)
{
	struct pkt_spec s = tcp4(VIP_DR4, PORT0, TH_SYN);
	struct xlvs_svc_cached cached;
	uint32_t real, svc = SVC_DR4, key, slot, hits = 0;
	struct world w;

	cr_assert_geq(libbpf_num_possible_cpus(), 2, "needs two possible CPUs");
	open_std(&w);
	pin_cpu(1);
	real = ring_pick(&w, SVC_DR4, &s);
	cr_assert_eq(send_pkt(&w, &s), XDP_TX);
	cr_expect_eq(stripe_entry(MAP_FD(&w, xlvs_svc_stats), 16384 + svc).packets, 1,
		     "CPU 1's service entry");
	cr_expect_eq(stripe_entry(MAP_FD(&w, xlvs_svc_stats), svc).packets, 0, "CPU 0's service entry");
	cr_expect_eq(stripe_entry(MAP_FD(&w, xlvs_real_stats), 65536 + real).packets, 1,
		     "CPU 1's real entry");
	cr_expect_eq(stripe_entry(MAP_FD(&w, xlvs_real_stats), real).packets, 0, "CPU 0's real entry");
	cr_expect_eq(stripe_u64(MAP_FD(&w, xlvs_events), 64 + XLVS_EV_CONN_NEW), 1, "CPU 1's conn_new");
	cr_expect_eq(stripe_u64(MAP_FD(&w, xlvs_events), XLVS_EV_CONN_NEW), 0, "CPU 0's conn_new");
	for (slot = 0; slot < 2 * 64; slot++) {
		key = slot;
		cr_assert_eq(bpf_map_lookup_elem(MAP_FD(&w, xlvs_svc_cache), &key, &cached), 0);
		if (cached.key.family) {
			cr_expect_geq(slot, 64, "service cached in CPU 0's stripe (slot %u)", slot);
			hits++;
		}
	}
	cr_expect_eq(hits, 1, "one copy of the service cached");
	pin_cpu(0);
	world_close(&w);
}

/*
 * A service entry written by hand, without moving svc_gen on (as xlvsd would), is taken up once
 * the CPU's copy has served XLVS_SVC_CACHE_USES (65536) packets: here the entry turns the
 * table-state service to ring state, so a packet read from the new entry no longer looks up its
 * flow's entry (conn_hit).
 */
Test(scenarios, a_service_written_by_hand_is_taken_up_after_65536_packets)
{
	struct pkt_spec s = tcp4(VIP_DR4, PORT0, TH_ACK);
	struct xlvs_svc_key k;
	struct xlvs_service v;
	uint8_t frame[PKT_MAX];
	struct world w;
	LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = 65535);

	open_std(&w);
	pin_cpu(0);
	o.data_in = frame;
	o.data_size_in = pkt_build(&s, frame);
	cr_assert_eq(send_pkt(&w, &s), XDP_TX); /* the copy is made (1 use), the flow recorded */
	cr_assert_eq(world_event(&w, XLVS_EV_CONN_NEW), 1);
	world_std_entry(&w, SVC_DR4, &k, &v);
	cr_assert_eq(bpf_map_lookup_elem(MAP_FD(&w, xlvs_services), &k, &v), 0, "%m");
	cr_assert(!(v.flags & XLVS_SVC_F_RING_STATE), "the standard DR service is in table state");
	v.flags |= XLVS_SVC_F_RING_STATE;
	cr_assert_eq(bpf_map_update_elem(MAP_FD(&w, xlvs_services), &k, &v, BPF_EXIST), 0, "%m");
	cr_assert_eq(bpf_prog_test_run_opts(w.prog_fd, &o), 0, "%m");
	cr_assert_eq(o.retval, XDP_TX);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_HIT), 65535, "the copy (table state) served 65536 packets");
	cr_assert_eq(send_pkt(&w, &s), XDP_TX);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_HIT), 65535, "the 65537th packet read the entry again");
	cr_expect_eq(world_svc_stats(&w, v.id).packets, 65537);
	world_close(&w);
}

/* ---- SYN-flood guard ---------------------------------------------------- */

#define GUARD_RATE  5
#define GUARD_FLOWS 12

/* The guard's window is per CPU: keep every run on one. */
static void pin_cpu0(void)
{
	pin_cpu(0);
}

static void set_guard(struct world *w, uint32_t rate)
{
	struct xlvs_config c;

	world_get_config(w, &c);
	c.syn_guard_rate = rate;
	world_set_config(w, &c);
}

/* n new flows (TCP SYNs to dr4 or UDP to dr4-udp) from ports PORT0 + first on; all must be forwarded. */
static void new_flows(struct world *w, uint8_t proto, uint16_t first, int n)
{
	int svc = proto == IPPROTO_TCP ? SVC_DR4 : SVC_DR4_UDP;
	int i;

	for (i = 0; i < n; i++) {
		struct pkt_spec s = tcp4(VIP_DR4, (uint16_t)(PORT0 + first + i), TH_SYN);

		if (proto == IPPROTO_UDP) {
			s.proto = IPPROTO_UDP;
			s.dport = std_svcs[SVC_DR4_UDP].port;
		}
		cr_assert_eq(forward_to(w, &s), ring_pick(w, svc, &s),
			     "flow %d not forwarded to its Maglev real", first + i);
	}
}

static bool has_conn(struct world *w, uint16_t sport)
{
	struct pkt_spec s = tcp4(VIP_DR4, sport, TH_SYN);
	struct xlvs_flow f;
	struct xlvs_conn c;

	spec_flow(&s, &f);
	return world_get_conn(w, &f, &c);
}

Test(scenarios, syn_guard_stops_inserting_above_rate)
{
	struct world w;
	int i;

	pin_cpu0();
	open_std(&w);
	set_guard(&w, GUARD_RATE);
	new_flows(&w, IPPROTO_TCP, 0, GUARD_FLOWS);
	cr_expect_eq(world_conn_count(&w), GUARD_RATE);
	cr_expect_eq(world_event(&w, XLVS_EV_SYN_GUARD), GUARD_FLOWS - GUARD_RATE);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_NEW), GUARD_RATE);
	for (i = 0; i < GUARD_FLOWS; i++)
		cr_expect_eq(has_conn(&w, PORT0 + i), i < GUARD_RATE, "flow %d: conn entry %s", i,
			     i < GUARD_RATE ? "missing" : "inserted above the rate");
	cr_expect_eq(world_drops_total(&w), 0);
	world_close(&w);
}

/* Only SYNs are held back: the first ACK of a completed handshake takes its place in the table. */
Test(scenarios, syn_guard_lets_completed_handshake_in)
{
	uint16_t late = PORT0 + GUARD_FLOWS - 1;
	struct pkt_spec ack = tcp4(VIP_DR4, late, TH_ACK);
	struct world w;

	pin_cpu0();
	open_std(&w);
	set_guard(&w, GUARD_RATE);
	new_flows(&w, IPPROTO_TCP, 0, GUARD_FLOWS);
	cr_assert(!has_conn(&w, late), "SYN above the rate was inserted");
	cr_assert_eq(forward_to(&w, &ack), ring_pick(&w, SVC_DR4, &ack),
		     "ACK not forwarded to its Maglev real");
	cr_expect(has_conn(&w, late), "ACK of a held-back flow was not inserted");
	cr_expect_eq(world_event(&w, XLVS_EV_SYN_GUARD), GUARD_FLOWS - GUARD_RATE,
		     "ACK counted by the guard");
	world_close(&w);
}

Test(scenarios, syn_guard_ignores_udp)
{
	struct world w;

	pin_cpu0();
	open_std(&w);
	set_guard(&w, GUARD_RATE);
	new_flows(&w, IPPROTO_UDP, 0, GUARD_FLOWS);
	cr_expect_eq(world_conn_count(&w), GUARD_FLOWS);
	cr_expect_eq(world_event(&w, XLVS_EV_SYN_GUARD), 0);
	world_close(&w);
}

Test(scenarios, syn_guard_off_at_rate_0)
{
	struct world w;

	pin_cpu0();
	open_std(&w);
	set_guard(&w, 0);
	new_flows(&w, IPPROTO_TCP, 0, GUARD_FLOWS);
	cr_expect_eq(world_conn_count(&w), GUARD_FLOWS);
	cr_expect_eq(world_event(&w, XLVS_EV_SYN_GUARD), 0);
	world_close(&w);
}

Test(scenarios, syn_guard_window_reopens_after_a_second)
{
	struct world w;

	pin_cpu0();
	open_std(&w);
	set_guard(&w, GUARD_RATE);
	new_flows(&w, IPPROTO_TCP, 0, GUARD_RATE + 1);
	cr_assert_eq(world_conn_count(&w), GUARD_RATE, "window not full: nothing to test");
	usleep(1100 * 1000); /* the window is 1 s of bpf_ktime_get_coarse_ns */
	new_flows(&w, IPPROTO_TCP, GUARD_RATE + 1, 1);
	cr_expect(has_conn(&w, PORT0 + GUARD_RATE + 1), "flow after the window not inserted");
	cr_expect_eq(world_event(&w, XLVS_EV_SYN_GUARD), 1);
	world_close(&w);
}

/* ---- connection state: FIN/RST close, SYN opens --------------------------- */

static struct pkt_spec frag_needed(struct pkt_spec *quote, uint16_t sport);

static uint8_t conn_state(struct world *w, const struct pkt_spec *s)
{
	struct xlvs_flow f;
	struct xlvs_conn c;

	spec_flow(s, &f);
	cr_assert(world_get_conn(w, &f, &c), "flow from port %u has no conn entry", s->sport);
	return c.state;
}

/*
 * Connection state as a table: the packets of one flow (TCP flags and
 * sequence number), then the state its entry must be in and whether the
 * last packet still went to the first packet's real.
 */
#define ISN_A 0x0a000001u
#define ISN_B 0x0b000001u

struct conn_step {
	uint8_t flags;
	uint32_t seq; /* 0 = ISN_A */
};

struct conn_row {
	const char *name;
	struct conn_step steps[6]; /* ends at flags 0 */
	uint8_t want_state;
	uint64_t want_new_isn; /* conn_resched_new_syn events */
	uint64_t want_reused;  /* conn_reused events */
};

#define P(f)                                                                                                 \
	{                                                                                                    \
		(f), 0                                                                                       \
	}
#define S(f, seq)                                                                                            \
	{                                                                                                    \
		(f), (seq)                                                                                   \
	}

static const struct conn_row conn_rows[] = {
	{ "syn only: half-open", { P(TH_SYN) }, XLVS_CONN_SYN, 0, 0 },
	{ "retransmitted syn stays half-open", { P(TH_SYN), P(TH_SYN) }, XLVS_CONN_SYN, 0, 0 },
	{ "handshake ack opens", { P(TH_SYN), P(TH_ACK) }, XLVS_CONN_OPEN, 0, 0 },
	{ "open while data flows", { P(TH_SYN), P(TH_ACK), P(TH_ACK | 0x08) }, XLVS_CONN_OPEN, 0, 0 },
	{ "fin closes", { P(TH_SYN), P(TH_ACK), P(TH_FIN | TH_ACK) }, XLVS_CONN_CLOSING, 0, 0 },
	{ "rst closes", { P(TH_SYN), P(TH_RST) }, XLVS_CONN_CLOSING, 0, 0 },
	{ "closing stays closing on acks",
	  { P(TH_SYN), P(TH_FIN | TH_ACK), P(TH_ACK) },
	  XLVS_CONN_CLOSING,
	  0,
	  0 },
	{ "syn on a closed flow starts over",
	  { P(TH_SYN), P(TH_FIN | TH_ACK), P(TH_ACK), S(TH_SYN, ISN_B) },
	  XLVS_CONN_SYN,
	  0,
	  1 },
	{ "reused flow opens on its ack",
	  { P(TH_SYN), P(TH_RST), S(TH_SYN, ISN_B), P(TH_ACK) },
	  XLVS_CONN_OPEN,
	  0,
	  1 },
	{ "new isn on half-open starts over", { P(TH_SYN), S(TH_SYN, ISN_B) }, XLVS_CONN_SYN, 1, 0 },
	{ "first packet fin inserts closing", { P(TH_FIN | TH_ACK) }, XLVS_CONN_CLOSING, 0, 0 },
	{ "first packet ack inserts open", { P(TH_ACK) }, XLVS_CONN_OPEN, 0, 0 },
	{ "syn on an open flow keeps it open",
	  { P(TH_SYN), P(TH_ACK), S(TH_SYN, ISN_B) },
	  XLVS_CONN_OPEN,
	  0,
	  0 },
};

static void run_conn_row(const struct conn_row *row)
{
	struct pkt_spec s;
	struct world w;
	int i;

	open_std(&w);
	for (i = 0; row->steps[i].flags; i++) {
		s = tcp4(VIP_DR4, PORT0, row->steps[i].flags);
		s.seq = row->steps[i].seq ? row->steps[i].seq : ISN_A;
		cr_assert_eq(send_pkt(&w, &s), XDP_TX, "%s: packet %d not forwarded", row->name, i);
	}
	cr_expect_eq(conn_state(&w, &s), row->want_state, "%s: state %u, want %u", row->name,
		     conn_state(&w, &s), row->want_state);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_SYN_NEW_ISN), row->want_new_isn, "%s: new-isn events",
		     row->name);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_REUSED), row->want_reused, "%s: reuse events", row->name);
	cr_expect_eq(world_conn_count(&w), 1, "%s: one entry per flow", row->name);
	world_close(&w);
}

Test(scenarios, conn_state_table)
{
	size_t i;

	for (i = 0; i < sizeof(conn_rows) / sizeof(conn_rows[0]); i++)
		run_conn_row(&conn_rows[i]);
}

/* A new connection on the ports of a closed one to a drained real goes by the ring, not the old entry. */
Test(scenarios, syn_on_a_closed_flow_is_scheduled_afresh)
{
	uint32_t drained = std_real_id(SVC_DR4, 2), got;
	struct pkt_spec s;
	struct world w;

	open_std(&w);
	s = syn_to_third(&w);
	s.tcp_flags = TH_FIN | TH_ACK;
	cr_assert_eq(forward_to(&w, &s), drained, "the FIN left its real");
	world_set_weights(&w, SVC_DR4, drain_third);

	s.tcp_flags = TH_SYN;
	got = forward_to(&w, &s);
	cr_expect_neq(got, drained, "a new connection on reused ports went to the drained real");
	cr_expect_eq(got, ring_pick(&w, SVC_DR4, &s), "not the ring's real");
	cr_expect_eq(conn_real(&w, &s), got, "the entry does not name the new real");
	cr_expect_eq(conn_state(&w, &s), XLVS_CONN_SYN);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_REUSED), 1);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_NEW), 2);
	world_close(&w);
}

/* ---- new connections on reused ports: weight 0 and half-open entries ---- */

/* Every TCP service of the standard world: each forwarding method, v4 and v6. */
static const int tcp_svcs[] = {
	SVC_DR4, SVC_IPIP, SVC_GUE4, SVC_DR6, SVC_IP6IP6, SVC_4IN6, SVC_GUE6, SVC_6IN4, SVC_GUE_4IN6,
};

static struct pkt_spec tcp_to(int svc, uint16_t sport, uint8_t flags, uint32_t seq)
{
	const char *vip = std_svcs[svc].vip;
	bool v6 = strchr(vip, ':') != NULL;
	struct pkt_spec s = { .family = v6 ? 6 : 4,
			      .proto = IPPROTO_TCP,
			      .src = v6 ? CLIENT6 : CLIENT4,
			      .dst = vip,
			      .sport = sport,
			      .dport = std_svcs[svc].port,
			      .tcp_flags = flags,
			      .seq = seq,
			      .payload = 100 };

	return s;
}

static int nr_reals(int svc)
{
	int n = 0;

	while (n < STD_REALS_MAX && std_svcs[svc].reals[n].addr)
		n++;
	return n;
}

/* First client port from 'from' whose flow the ring gives the service's last real. */
static uint16_t port_to_last(struct world *w, int svc, uint16_t from)
{
	uint32_t want = std_real_id(svc, nr_reals(svc) - 1);
	uint16_t port;

	for (port = from; port < from + 1000; port++) {
		struct pkt_spec s = tcp_to(svc, port, TH_SYN, ISN_A);

		if (ring_pick(w, svc, &s) == want)
			return port;
	}
	cr_assert_fail("%s: no port maps to its last real", std_svcs[svc].name);
	return 0;
}

/* Weights with the service's last real at 0 and the others at 1. */
static void drain_last(struct world *w, int svc)
{
	uint32_t weights[STD_REALS_MAX] = { 1, 1, 1, 1 };

	weights[nr_reals(svc) - 1] = 0;
	world_set_weights(w, svc, weights);
}

/*
 * An open flow whose real went to weight 0 (quiesced by a failed check, or
 * drained): a SYN on its ports is a new connection and goes by the ring; the
 * entry is replaced. The real refused or lost the old one without a client
 * FIN/RST through us, so nothing else would ever move these ports.
 */
static void syn_to_weight0_real(int svc)
{
	uint32_t drained = std_real_id(svc, nr_reals(svc) - 1), got;
	struct pkt_spec s;
	struct world w;

	open_std(&w);
	s = tcp_to(svc, port_to_last(&w, svc, PORT0), TH_SYN, ISN_A);
	cr_assert_eq(forward_to(&w, &s), drained, "%s: the SYN missed its real", std_svcs[svc].name);
	s.tcp_flags = TH_ACK;
	cr_assert_eq(forward_to(&w, &s), drained);
	drain_last(&w, svc);

	s.tcp_flags = TH_SYN;
	s.seq = ISN_B;
	got = forward_to(&w, &s);
	cr_expect_neq(got, drained, "%s: a new connection reached the weight-0 real", std_svcs[svc].name);
	cr_expect_eq(got, ring_pick(&w, svc, &s), "%s: not the ring's real", std_svcs[svc].name);
	cr_expect_eq(conn_real(&w, &s), got, "%s: the entry still names the old real", std_svcs[svc].name);
	cr_expect_eq(conn_state(&w, &s), XLVS_CONN_SYN);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_NODEST), 1, "%s: event not counted", std_svcs[svc].name);
	s.tcp_flags = TH_ACK;
	cr_expect_eq(forward_to(&w, &s), got, "%s: the handshake's ACK left the new real",
		     std_svcs[svc].name);
	world_close(&w);
}

Test(scenarios, syn_to_weight0_real_is_rescheduled_for_every_method)
{
	size_t i;

	for (i = 0; i < sizeof(tcp_svcs) / sizeof(tcp_svcs[0]); i++)
		syn_to_weight0_real(tcp_svcs[i]);
}

/* A retransmitted SYN to a weight-0 real is rescheduled too (IPVS: any SYN); the client has no SYN-ACK yet. */
Test(scenarios, retransmitted_syn_to_weight0_real_is_rescheduled)
{
	uint32_t drained = std_real_id(SVC_DR4, 2);
	struct pkt_spec s;
	struct world w;

	open_std(&w);
	s = syn_to_third(&w);
	world_set_weights(&w, SVC_DR4, drain_third);
	cr_expect_neq(forward_to(&w, &s), drained, "a SYN went to the drained real");
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_NODEST), 1);
	world_close(&w);
}

/* Weights that move some of dr4's slots without draining anyone. */
static const uint32_t reshape[] = { 4, 4, 1 };

/* A half-open flow to the third real whose ring slot now belongs to another real. */
static struct pkt_spec half_open_moved(struct world *w)
{
	uint16_t port = PORT0;
	struct pkt_spec s;
	uint32_t third = std_real_id(SVC_DR4, 2);
	const uint32_t even[] = { 1, 1, 1 };

	for (;; port++) {
		s = tcp4(VIP_DR4, port_to(w, 2, port), TH_SYN);
		port = s.sport;
		world_set_weights(w, SVC_DR4, reshape);
		if (ring_pick(w, SVC_DR4, &s) != third)
			break;
		world_set_weights(w, SVC_DR4, even);
		cr_assert_lt(port, PORT0 + 5000, "no flow of the third real moves with the new weights");
	}
	world_set_weights(w, SVC_DR4, even);
	s.seq = ISN_A;
	cr_assert_eq(forward_to(w, &s), third);
	world_set_weights(w, SVC_DR4, reshape);
	return s;
}

Test(scenarios, retransmitted_syn_on_half_open_keeps_its_real)
{
	struct pkt_spec s;
	struct world w;

	open_std(&w);
	s = half_open_moved(&w);
	cr_expect_eq(forward_to(&w, &s), std_real_id(SVC_DR4, 2), "the retransmission left its real");
	cr_expect_eq(conn_state(&w, &s), XLVS_CONN_SYN);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_SYN_NEW_ISN), 0);
	world_close(&w);
}

Test(scenarios, new_syn_on_half_open_is_rescheduled)
{
	uint32_t got;
	struct pkt_spec s;
	struct xlvs_flow f;
	struct xlvs_conn c;
	struct world w;

	open_std(&w);
	s = half_open_moved(&w);
	s.seq = ISN_B;
	got = forward_to(&w, &s);
	cr_expect_neq(got, std_real_id(SVC_DR4, 2), "a new attempt stayed on the real of the old one");
	cr_expect_eq(got, ring_pick(&w, SVC_DR4, &s));
	spec_flow(&s, &f);
	cr_assert(world_get_conn(&w, &f, &c));
	cr_expect_eq(c.real_id, got);
	cr_expect_eq(ntohl(c.isn), ISN_B, "the entry keeps the old attempt's ISN");
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_SYN_NEW_ISN), 1);
	world_close(&w);
}

/* Established packets (no SYN) still reach the weight-0 real: drains stay graceful. */
Test(scenarios, ack_on_open_flow_to_weight0_real_stays)
{
	uint32_t drained = std_real_id(SVC_DR6, 2);
	struct pkt_spec s;
	struct world w;

	open_std(&w);
	s = tcp_to(SVC_DR6, port_to_last(&w, SVC_DR6, PORT0), TH_SYN, ISN_A);
	cr_assert_eq(forward_to(&w, &s), drained);
	s.tcp_flags = TH_ACK;
	cr_assert_eq(forward_to(&w, &s), drained);
	drain_last(&w, SVC_DR6);
	cr_expect_eq(forward_to(&w, &s), drained, "an established packet left the drained real");
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_NODEST), 0);
	world_close(&w);
}

/* Under the SYN guard the reused SYN is not inserted, and the old entry is gone: the ACK follows the ring too. */
Test(scenarios, reused_flow_under_syn_guard_follows_the_ring)
{
	uint32_t drained = std_real_id(SVC_DR4, 2), got;
	struct pkt_spec s, other;
	struct xlvs_flow f;
	struct xlvs_conn c;
	struct world w;

	pin_cpu0();
	open_std(&w);
	s = syn_to_third(&w);
	s.tcp_flags = TH_RST;
	cr_assert_eq(forward_to(&w, &s), drained);
	world_set_weights(&w, SVC_DR4, drain_third);
	set_guard(&w, 1);
	other = tcp4(VIP_DR4, (uint16_t)(s.sport + 1000), TH_SYN);
	forward_to(&w, &other); /* this second's one tracked SYN: the guard trips for the next */

	s.tcp_flags = TH_SYN;
	cr_assert_eq(forward_to(&w, &s), ring_pick(&w, SVC_DR4, &s));
	cr_expect_eq(world_event(&w, XLVS_EV_SYN_GUARD), 1, "the reused SYN was inserted: nothing tested");
	spec_flow(&s, &f);
	cr_expect(!world_get_conn(&w, &f, &c), "the closed entry is still there");
	s.tcp_flags = TH_ACK;
	got = forward_to(&w, &s);
	cr_expect_neq(got, drained, "the handshake's ACK went to the old real");
	cr_expect_eq(got, ring_pick(&w, SVC_DR4, &s));
	world_close(&w);
}

/*
 * Under the SYN guard a rescheduled SYN is not inserted; the old entry must be
 * gone so the handshake's ACK follows the ring too. IPv6, weight 0.
 */
Test(scenarios, syn_to_weight0_real_under_syn_guard_follows_the_ring)
{
	uint32_t drained = std_real_id(SVC_IP6IP6, 2), got;
	struct pkt_spec s, other;
	struct xlvs_flow f;
	struct xlvs_conn c;
	struct world w;

	pin_cpu0();
	open_std(&w);
	s = tcp_to(SVC_IP6IP6, port_to_last(&w, SVC_IP6IP6, PORT0), TH_SYN, ISN_A);
	cr_assert_eq(forward_to(&w, &s), drained);
	s.tcp_flags = TH_ACK;
	cr_assert_eq(forward_to(&w, &s), drained);
	drain_last(&w, SVC_IP6IP6);
	set_guard(&w, 1);
	other = tcp_to(SVC_IP6IP6, (uint16_t)(s.sport + 1000), TH_SYN, ISN_A);
	forward_to(&w, &other); /* this second's one tracked SYN: the guard trips for the next */

	s.tcp_flags = TH_SYN;
	s.seq = ISN_B;
	got = forward_to(&w, &s);
	cr_expect_neq(got, drained, "the SYN went to the weight-0 real");
	cr_expect_eq(world_event(&w, XLVS_EV_SYN_GUARD), 1, "the SYN was inserted: nothing tested");
	spec_flow(&s, &f);
	cr_expect(!world_get_conn(&w, &f, &c), "the old entry is still there");
	s.tcp_flags = TH_ACK;
	cr_expect_eq(forward_to(&w, &s), got, "the handshake's ACK went elsewhere");
	world_close(&w);
}

/* Under the guard, a new attempt on a half-open entry: rescheduled, entry gone, ACK follows. */
Test(scenarios, new_syn_on_half_open_under_syn_guard_follows_the_ring)
{
	uint32_t got;
	struct pkt_spec s, other;
	struct xlvs_flow f;
	struct xlvs_conn c;
	struct world w;

	pin_cpu0();
	open_std(&w);
	s = half_open_moved(&w);
	set_guard(&w, 1);
	other = tcp4(VIP_DR4, (uint16_t)(s.sport + 1000), TH_SYN);
	forward_to(&w, &other);

	s.seq = ISN_B;
	got = forward_to(&w, &s);
	cr_expect_eq(got, ring_pick(&w, SVC_DR4, &s));
	cr_expect_neq(got, std_real_id(SVC_DR4, 2));
	cr_expect_eq(world_event(&w, XLVS_EV_SYN_GUARD), 1, "the SYN was inserted: nothing tested");
	spec_flow(&s, &f);
	cr_expect(!world_get_conn(&w, &f, &c), "the half-open entry is still there");
	s.tcp_flags = TH_ACK;
	cr_expect_eq(forward_to(&w, &s), got);
	world_close(&w);
}

Test(scenarios, conn_state_icmp_error_leaves_it)
{
	struct pkt_spec s, err, quote;
	struct world w;

	open_std(&w);
	s = tcp4(VIP_DR4, PORT0, TH_SYN);
	cr_assert_eq(send_pkt(&w, &s), XDP_TX);
	s.tcp_flags = TH_FIN | TH_ACK;
	cr_assert_eq(send_pkt(&w, &s), XDP_TX);
	err = frag_needed(&quote, PORT0);
	cr_assert_eq(send_pkt(&w, &err), XDP_TX);
	cr_expect_eq(world_event(&w, XLVS_EV_ICMP_ERR_FWD), 1, "the ICMP error was not forwarded");
	cr_expect_eq(conn_state(&w, &s), XLVS_CONN_CLOSING);
	world_close(&w);
}

/* ---- counters ------------------------------------------------------------ */

#define COUNT_PKTS 10

Test(scenarios, counters_of_one_flow)
{
	uint32_t real = XLVS_REAL_NONE, i;
	struct xlvs_counters sc, rc;
	struct world w;

	open_std(&w);
	for (i = 0; i < COUNT_PKTS; i++) {
		struct pkt_spec s = tcp4(VIP_DR4, PORT0, i ? TH_ACK : TH_SYN);

		real = forward_to(&w, &s);
	}
	sc = world_svc_stats(&w, SVC_DR4);
	rc = world_real_stats(&w, real);
	cr_expect_eq(sc.packets, COUNT_PKTS);
	cr_expect_eq(sc.bytes, COUNT_PKTS * in_len, "service bytes %lu, want %zu", (unsigned long)sc.bytes,
		     COUNT_PKTS * in_len);
	cr_expect_eq(sc.new_flows, 1);
	cr_expect_eq(rc.packets, COUNT_PKTS);
	cr_expect_eq(rc.bytes, COUNT_PKTS * in_len);
	cr_expect_eq(rc.new_flows, 1);
	for (i = 0; i < 3; i++)
		if (std_real_id(SVC_DR4, (int)i) != real)
			cr_expect_eq(world_real_stats(&w, std_real_id(SVC_DR4, (int)i)).packets, 0,
				     "another real counted the flow");
	world_close(&w);
}

/* Every counter index has a distinct, non-empty name for operators and exporters. */
static void check_names(const char *const *names, int n, const char *what)
{
	int i, j;

	for (i = 0; i < n; i++) {
		cr_assert(names[i] && names[i][0], "%s %d has no name", what, i);
		for (j = 0; j < i; j++)
			cr_expect_str_neq(names[i], names[j], "%s %d and %d share the name %s", what, j, i,
					  names[i]);
	}
}

Test(scenarios, drop_reasons_have_unique_names)
{
	check_names(xlvs_drop_names, XLVS_DROP_MAX, "drop reason");
}

Test(scenarios, events_have_unique_names)
{
	check_names(xlvs_event_names, XLVS_EV_MAX, "event");
}

/* ---- ICMP errors about established flows -------------------------------- */

/* Frag needed about the VIP -> client packets of the flow from sport. */
static struct pkt_spec frag_needed(struct pkt_spec *quote, uint16_t sport)
{
	struct pkt_spec q = { .family = 4,
			      .proto = IPPROTO_TCP,
			      .src = VIP_DR4,
			      .dst = CLIENT4,
			      .sport = 80,
			      .dport = sport,
			      .payload = 64 };
	struct pkt_spec s = { .family = 4,
			      .proto = IPPROTO_ICMP,
			      .src = ROUTER4,
			      .dst = VIP_DR4,
			      .icmp_type = 3,
			      .icmp_code = 4,
			      .quote = quote };

	*quote = q;
	return s;
}

Test(scenarios, icmp_error_follows_conn_after_ring_change)
{
	uint32_t real = std_real_id(SVC_DR4, 2);
	struct pkt_spec s, err, quote;
	struct world w;

	open_std(&w);
	s = syn_to_third(&w);
	world_set_weights(&w, SVC_DR4, drain_third);
	cr_assert_neq(ring_pick(&w, SVC_DR4, &s), real, "ring still owns the flow: nothing to test");

	err = frag_needed(&quote, s.sport);
	cr_assert_eq(forward_to(&w, &err), real, "ICMP error not sent to the flow's real");
	cr_expect_eq(out_len, in_len, "DR changes no length");
	cr_expect_eq(memcmp(out + 12, in + 12, in_len - 12), 0, "DR changes only MACs");
	cr_expect_eq(world_event(&w, XLVS_EV_ICMP_ERR_FWD), 1);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_HIT), 1);
	world_close(&w);
}

Test(scenarios, icmp_error_creates_no_conn)
{
	struct pkt_spec err, quote, s;
	struct world w;

	open_std(&w);
	err = frag_needed(&quote, PORT0);
	s = tcp4(VIP_DR4, PORT0, TH_SYN);
	cr_assert_eq(forward_to(&w, &err), ring_pick(&w, SVC_DR4, &s),
		     "ICMP error not sent to the ring's real");
	cr_expect_eq(world_conn_count(&w), 0, "an ICMP error created a conn entry");
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_NEW), 0);
	cr_expect_eq(world_svc_stats(&w, SVC_DR4).new_flows, 0, "an ICMP error counted as a new flow");
	world_close(&w);
}

/* ---- bpf_fib_lookup, in a private network namespace --------------------- */

#define MAC_V0	  "02:00:00:00:aa:00" /* veth0: where packets come in */
#define MAC_V1	  "02:00:00:00:aa:01"
#define MAC_V2	  "02:00:00:00:bb:00" /* veth2: a second port of the director */
#define MAC_V3	  "02:00:00:00:bb:01"
#define MAC_GW	  "02:00:00:00:99:99"
#define NEIGH_MAC "02:00:00:00:cc:%02x" /* neighbour entry of real idx */

/* Packets enter on veth0 (forwarding on, as bpf_fib_lookup requires). */
static void fib_world(struct world *w, const char *v0_mac)
{
	netns_enter();
	netns_veth("veth0", v0_mac, "veth1", MAC_V1);
	netns_forwarding("veth0");
	open_std(w);
	w->ifindex = netns_ifindex("veth0");
}

/* Clear what userspace would have resolved, so the program must call bpf_fib_lookup. */
static void reals_unresolved(struct world *w, int svc)
{
	struct xlvs_real r;
	uint32_t id;
	int i;

	for (i = 0; i < STD_REALS_MAX && std_svcs[svc].reals[i].addr; i++) {
		id = std_real_id(svc, i);
		world_get_real(w, id, &r);
		r.flags &= (uint8_t)~XLVS_REAL_F_NH_VALID;
		memset(r.nh_mac, 0, sizeof(r.nh_mac));
		memset(r.nh_smac, 0, sizeof(r.nh_smac));
		r.nh_ifindex = 0;
		world_set_real(w, id, &r);
	}
}

static void neigh_mac(int idx, uint8_t mac[6])
{
	char text[32];

	snprintf(text, sizeof(text), NEIGH_MAC, idx);
	parse_mac(text, mac);
}

/* Permanent neighbour entries on dev for every real of svc. */
static void neigh_reals(int svc, const char *dev)
{
	int i;

	for (i = 0; i < STD_REALS_MAX && std_svcs[svc].reals[i].addr; i++)
		netns_run("ip neigh replace %s lladdr " NEIGH_MAC " nud permanent dev %s",
			  std_svcs[svc].reals[i].addr, i, dev);
}

static const char *mac_text(const uint8_t *m, char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static void expect_macs(const uint8_t dst[6], const char *src_text)
{
	char got[18], want[18];
	uint8_t src[6];

	parse_mac(src_text, src);
	cr_expect_eq(memcmp(out, dst, 6), 0, "destination MAC %s, want %s", mac_text(out, got),
		     mac_text(dst, want));
	cr_expect_eq(memcmp(out + 6, src, 6), 0, "source MAC %s, want %s", mac_text(out + 6, got), src_text);
}

/* out is in, encapsulated in IPIP towards real id: outer header right, inner datagram byte-identical. */
static void expect_ipip(struct world *w, uint32_t id)
{
	struct xlvs_real r;
	uint32_t src;

	world_get_real(w, id, &r);
	parse_addr(4, STD_SRC4, &src);
	cr_assert_eq(out_len, in_len + 20, "IPIP length %zu, want %zu", out_len, in_len + 20);
	cr_expect_eq(get16(out + 12), ETH_P_IP, "outer EtherType");
	cr_expect_eq(out[14 + 9], IPPROTO_IPIP, "outer protocol");
	cr_expect_eq(memcmp(out + 14 + 12, &src, 4), 0, "outer source = tunnel source");
	cr_expect_eq(memcmp(out + 14 + 16, r.addr, 4), 0, "outer destination = real %u", id);
	cr_expect_eq(memcmp(out + 34, in + 14, in_len - 14), 0, "inner datagram byte-identical");
}

Test(scenarios, fib_dr_real_uses_neighbour_mac)
{
	uint8_t mac[6];
	uint32_t real;
	struct pkt_spec s = tcp4(VIP_DR4, PORT0, TH_SYN);
	struct world w;

	fib_world(&w, MAC_V0);
	netns_run("ip addr add 198.18.1.254/24 dev veth0");
	neigh_reals(SVC_DR4, "veth0");
	reals_unresolved(&w, SVC_DR4);
	real = ring_pick(&w, SVC_DR4, &s);
	neigh_mac((int)(real - std_real_id(SVC_DR4, 0)), mac);

	cr_assert_eq(send_pkt(&w, &s), XDP_TX);
	expect_macs(mac, MAC_V0);
	cr_expect_eq(out_len, in_len);
	cr_expect_eq(memcmp(out + 12, in + 12, in_len - 12), 0, "DR changes only MACs");
	cr_expect_eq(world_real_stats(&w, real).packets, 1);
	cr_expect_eq(world_drops_total(&w), 0);
	world_close(&w);
}

Test(scenarios, fib_tunnel_without_neighbour_passes_encapsulated)
{
	struct pkt_spec s = tcp4(VIP_IPIP, PORT0, TH_SYN);
	uint32_t real;
	struct world w;

	fib_world(&w, MAC_V0);
	netns_run("ip addr add 198.18.2.254/24 dev veth0"); /* a route, no neighbours */
	reals_unresolved(&w, SVC_IPIP);
	real = ring_pick(&w, SVC_IPIP, &s);

	cr_assert_eq(send_pkt(&w, &s), XDP_PASS);
	cr_expect_eq(memcmp(out, in, 12), 0, "MACs kept, so the kernel takes the frame as its own");
	expect_ipip(&w, real);
	cr_expect_eq(world_event(&w, XLVS_EV_PASS_NEIGH), 1);
	cr_expect_eq(world_real_stats(&w, real).packets, 1);
	cr_expect_eq(world_drops_total(&w), 0);
	world_close(&w);
}

Test(scenarios, fib_tunnel_without_route_dropped)
{
	struct pkt_spec s = tcp4(VIP_IPIP, PORT0, TH_SYN);
	struct world w;

	fib_world(&w, MAC_V0);
	netns_run("ip addr add 198.18.200.254/24 dev veth0"); /* no route to 198.18.2.0/24 */
	reals_unresolved(&w, SVC_IPIP);

	cr_assert_eq(send_pkt(&w, &s), XDP_DROP);
	cr_expect_eq(world_drop(&w, XLVS_DROP_NO_NEXTHOP), 1);
	cr_expect_eq(world_drops_total(&w), 1);
	cr_expect_eq(world_event(&w, XLVS_EV_FIB_GW_FALLBACK), 0);
	world_close(&w);
}

Test(scenarios, fib_tunnel_without_route_uses_gateway_fallback)
{
	struct pkt_spec s = tcp4(VIP_IPIP, PORT0, TH_SYN);
	struct xlvs_config c;
	uint8_t gw[6];
	struct world w;

	fib_world(&w, MAC_V0);
	netns_run("ip addr add 198.18.200.254/24 dev veth0");
	reals_unresolved(&w, SVC_IPIP);
	parse_mac(MAC_GW, gw);
	world_get_config(&w, &c);
	c.flags |= XLVS_CFG_F_GW_FALLBACK;
	memcpy(c.gw_mac, gw, 6);
	world_set_config(&w, &c);

	cr_assert_eq(send_pkt(&w, &s), XDP_TX);
	expect_macs(gw, "02:00:00:00:00:1b"); /* MAC_LB: the frame was sent to us */
	expect_ipip(&w, ring_pick(&w, SVC_IPIP, &s));
	cr_expect_eq(world_event(&w, XLVS_EV_FIB_GW_FALLBACK), 1);
	cr_expect_eq(world_drops_total(&w), 0);
	world_close(&w);
}

Test(scenarios, fib_other_egress_interface_redirects)
{
	struct pkt_spec s = tcp4(VIP_IPIP, PORT0, TH_SYN);
	uint32_t real;
	uint8_t mac[6];
	struct world w;

	fib_world(&w, MAC_V0);
	netns_run("ip addr add 198.18.200.254/24 dev veth0");
	netns_veth("veth2", MAC_V2, "veth3", MAC_V3);
	netns_run("ip addr add 198.18.2.254/24 dev veth2");
	neigh_reals(SVC_IPIP, "veth2");
	reals_unresolved(&w, SVC_IPIP);
	real = ring_pick(&w, SVC_IPIP, &s);
	neigh_mac((int)(real - std_real_id(SVC_IPIP, 0)), mac);

	cr_assert_eq(send_pkt(&w, &s), XDP_REDIRECT);
	expect_macs(mac, MAC_V2);
	expect_ipip(&w, real);
	cr_expect_eq(world_real_stats(&w, real).packets, 1);
	world_close(&w);
}

Test(scenarios, fib_ip6ip6_real_uses_neighbour_mac)
{
	struct pkt_spec s = tcp_to(SVC_IP6IP6, PORT0, TH_SYN, 0);
	struct xlvs_real r;
	uint32_t real;
	uint8_t mac[6];
	struct world w;

	fib_world(&w, MAC_V0);
	netns_run("ip -6 addr add 2001:db8:2::fe/64 dev veth0 nodad");
	neigh_reals(SVC_IP6IP6, "veth0");
	reals_unresolved(&w, SVC_IP6IP6);
	real = ring_pick(&w, SVC_IP6IP6, &s);
	neigh_mac((int)(real - std_real_id(SVC_IP6IP6, 0)), mac);
	world_get_real(&w, real, &r);

	cr_assert_eq(send_pkt(&w, &s), XDP_TX);
	expect_macs(mac, MAC_V0);
	cr_assert_eq(out_len, in_len + 40, "IP6IP6 length");
	cr_expect_eq(get16(out + 12), ETH_P_IPV6, "outer EtherType");
	cr_expect_eq(out[14 + 6], IPPROTO_IPV6, "outer next header");
	cr_expect_eq(memcmp(out + 14 + 24, r.addr, 16), 0, "outer destination = real");
	cr_expect_eq(memcmp(out + 54, in + 14, in_len - 14), 0, "inner datagram byte-identical");
	world_close(&w);
}

/* IPv4 counter of this namespace's stack from /proc/net/snmp, by name (e.g. "ForwDatagrams"). */
static long ip_mib(const char *name)
{
	char o[4096];

	netns_sh(o, sizeof(o),
		 "awk '/^Ip: [A-Z]/ { for (i = 2; i <= NF; i++) if ($i == \"%s\") c = i }"
		 " /^Ip: [0-9]/ { print $c }' /proc/net/snmp",
		 name);
	return strtol(o, NULL, 10);
}

/*
 * The promise behind PASS_NEIGH (bpf/forward.h): the kernel forwards the passed
 * frame and resolves the neighbour on the way. Live frames make the XDP_PASS
 * really enter veth0's stack; the director holds its tunnel source address,
 * as a deployed director does. IPv4 input drops a frame whose source is local
 * as a martian unless accept_local=1, which the director's interfaces need
 * (docs/architecture.md, "Next hop").
 */
Test(scenarios, fib_passed_ip4_frame_makes_kernel_resolve_neighbour)
{
	struct pkt_spec s = tcp4(VIP_IPIP, PORT0, TH_SYN);
	const char *addr;
	char o[4096];
	struct world w;

	fib_world(&w, "02:00:00:00:00:1b"); /* MAC_LB: frames are addressed to veth0 */
	netns_run("ip addr add 198.18.200.254/24 dev veth0");
	netns_run("ip addr add " STD_SRC4 "/32 dev lo");
	netns_write("/proc/sys/net/ipv4/conf/veth0/accept_local", "1");
	netns_veth("veth2", MAC_V2, "veth3", MAC_V3);
	netns_run("ip addr add 198.18.2.254/24 dev veth2");
	reals_unresolved(&w, SVC_IPIP);
	addr = std_svcs[SVC_IPIP].reals[ring_pick(&w, SVC_IPIP, &s) - std_real_id(SVC_IPIP, 0)].addr;

	in_len = pkt_build(&s, in);
	world_run_live(&w, in, in_len);
	cr_assert_eq(world_event(&w, XLVS_EV_PASS_NEIGH), 1, "frame not passed for an unresolved neighbour");
	cr_assert_eq(ip_mib("InReceives"), 1, "the passed frame did not reach IPv4 input");
	netns_sh(o, sizeof(o), "ip neigh show to %s dev veth2", addr);
	cr_expect(strstr(o, addr), "no neighbour resolution for real %s: the kernel forwarded %ld packets",
		  addr, ip_mib("ForwDatagrams"));
	world_close(&w);
}

/* The same for IP6IP6: the director holds its IPv6 tunnel source too. */
Test(scenarios, fib_passed_ip6_frame_makes_kernel_resolve_neighbour)
{
	struct pkt_spec s = tcp_to(SVC_IP6IP6, PORT0, TH_SYN, 0);
	const char *addr;
	char o[4096];
	struct world w;

	fib_world(&w, "02:00:00:00:00:1b");
	netns_run("ip -6 addr add 2001:db8:200::fe/64 dev veth0 nodad");
	netns_run("ip -6 addr add " STD_SRC6 "/128 dev lo nodad");
	netns_veth("veth2", MAC_V2, "veth3", MAC_V3);
	netns_run("ip -6 addr add 2001:db8:2::fe/64 dev veth2 nodad");
	reals_unresolved(&w, SVC_IP6IP6);
	addr = std_svcs[SVC_IP6IP6].reals[ring_pick(&w, SVC_IP6IP6, &s) - std_real_id(SVC_IP6IP6, 0)].addr;

	in_len = pkt_build(&s, in);
	world_run_live(&w, in, in_len);
	cr_assert_eq(world_event(&w, XLVS_EV_PASS_NEIGH), 1, "frame not passed for an unresolved neighbour");
	netns_sh(o, sizeof(o), "ip -6 neigh show to %s dev veth2", addr);
	cr_expect(strstr(o, addr), "kernel started no neighbour resolution for real %s on veth2", addr);
	world_close(&w);
}

/* ---- the object with standard tools, in private net and mount namespaces ---- */

static void tool_world(void)
{
	struct stat st;
	char cwd[512];

	cr_assert(stat(BPF_OBJ, &st) == 0, "%s not found in %s: run make and the tests from the repo root",
		  BPF_OBJ, getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	netns_enter_bpffs();
	netns_veth("veth0", MAC_V0, "veth1", MAC_V1);
}

/* Every map of the object (its data sections aside) is pinned by name under dir. */
static void expect_pinned(const char *dir)
{
	struct bpf_object *obj = bpf_object__open_file(BPF_OBJ, NULL);
	struct bpf_map *m;
	char path[512];
	struct stat st;
	int n = 0;

	cr_assert(obj, "open %s: %m", BPF_OBJ);
	bpf_object__for_each_map (m, obj) {
		if (bpf_map__is_internal(m))
			continue;
		cr_expect(bpf_map__pin_path(m), "map %s is not pinned by name", bpf_map__name(m));
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m));
		cr_expect(stat(path, &st) == 0, "map %s not pinned at %s", bpf_map__name(m), path);
		n++;
	}
	bpf_object__close(obj);
	cr_assert_gt(n, 0, "%s has no maps", BPF_OBJ);
}

static void ip_attach(const char *mode, const char *flag_word)
{
	char o[4096];
	int rc;

	tool_world();
	rc = netns_sh(o, sizeof(o), "ip link set dev veth0 %s obj %s sec xdp", mode, BPF_OBJ);
	cr_assert_eq(rc, 0, "ip link set dev veth0 %s obj %s sec xdp: exit %d: %s", mode, BPF_OBJ, rc, o);
	rc = netns_sh(o, sizeof(o), "ip -d link show dev veth0");
	cr_assert_eq(rc, 0, "ip -d link show: %s", o);
	cr_expect(strstr(o, flag_word), "ip link shows no '%s' on veth0: %s", flag_word, o);
	cr_expect(strstr(o, "prog/xdp id") && strstr(o, "name xlvs_lb"), "xlvs_lb not attached: %s", o);
	expect_pinned("/sys/fs/bpf/tc/globals");
}

Test(scenarios, ip_loads_object_generic)
{
	ip_attach("xdpgeneric", " xdpgeneric ");
}

Test(scenarios, ip_loads_object_native)
{
	ip_attach("xdpdrv", " xdp ");
}

Test(scenarios, xdp_loader_loads_object)
{
	char o[4096];
	int rc;

	netns_need("xdp-loader", "xdp-tools");
	tool_world();
	rc = netns_sh(o, sizeof(o), "xdp-loader load -m skb veth0 %s", BPF_OBJ);
	cr_assert_eq(rc, 0, "xdp-loader load -m skb veth0 %s: exit %d: %s", BPF_OBJ, rc, o);
	rc = netns_sh(o, sizeof(o), "xdp-loader status veth0");
	cr_assert_eq(rc, 0, "xdp-loader status veth0: exit %d: %s", rc, o);
	cr_expect(strstr(o, "xlvs_lb") && strstr(o, "skb"), "status shows no xlvs_lb in skb mode: %s", o);
}

#define PIN_DIR	 "/sys/fs/bpf/xlvs"
#define JSON_MAX (256 * 1024)

/* bpftool -j output of a pinned map of the standard world, whitespace removed. */
static char *bpftool_json(const char *args)
{
	static char o[JSON_MAX];
	struct world w;
	char *r, *p;
	int rc;

	netns_need("bpftool", "bpftool");
	tool_world();
	cr_assert(mkdir(PIN_DIR, 0700) == 0, "mkdir " PIN_DIR ": %m");
	open_std(&w);
	world_pin(&w, PIN_DIR);
	rc = netns_sh(o, sizeof(o), "bpftool -j map %s", args);
	cr_assert_eq(rc, 0, "bpftool -j map %s: exit %d: %s", args, rc, o);
	for (r = p = o; *r; r++)
		if (*r != ' ' && *r != '\n')
			*p++ = *r;
	*p = '\0';
	world_close(&w);
	return o;
}

static void expect_fields(const char *json, const char *const *fields)
{
	char quoted[64];

	cr_expect(strstr(json, "\"formatted\":{"), "no BTF-formatted values: %.300s", json);
	for (; *fields; fields++) {
		snprintf(quoted, sizeof(quoted), "\"%s\":", *fields);
		cr_expect(strstr(json, quoted), "no field %s in %.300s", *fields, json);
	}
}

Test(scenarios, bpftool_shows_typed_services)
{
	static const char *const fields[] = { "addr", "port", "proto", "family", "ring_size", "sched", NULL };
	const char *json = bpftool_json("dump pinned " PIN_DIR "/xlvs_services");

	expect_fields(json, fields);
	cr_expect(strstr(json, "\"ring_size\":65537"), "the dr4 service's ring size is not shown");
}

Test(scenarios, bpftool_shows_typed_reals)
{
	static const char *const fields[] = { "addr",	"family",  "fwd",	 "flags",  "svc_id",
					      "nh_mac", "nh_smac", "nh_ifindex", "weight", NULL };
	const char *json = bpftool_json("lookup pinned " PIN_DIR "/xlvs_reals key 0 0 0 0");

	expect_fields(json, fields);
	/* real 0 of world_std: next hop 02:ee:00:00:00:00 (real_mac), active with a resolved next hop */
	cr_expect(strstr(json, "\"nh_mac\":[2,238,0,0,0,0]"), "nh_mac of real 0 not shown: %.600s", json);
}
