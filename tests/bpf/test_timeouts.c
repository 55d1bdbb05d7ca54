// SPDX-License-Identifier: GPL-2.0
/*
 * Connection lifetimes as a table (bpf/conntrack.h conn_expired()): an entry
 * in a given state, aged just inside or just past the lifetime that applies,
 * meets one packet. Kept: the packet goes to the entry's real, a real the
 * ring would not pick. Expired: conn_expired is counted and the packet goes
 * by the ring, as a new connection. The lifetimes are the table's, written
 * into xlvs_config (global) and, as the planner does, into the service's
 * reals (per-service overrides).
 */
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <netinet/in.h>

#include <xlvs/hash.h>

#include "world.h"
#include "xlvsmaps.h"

#define VIP   "198.18.0.10" /* std dr4 (tcp 80) and dr4-udp (udp 53) */
#define PORT  31000
#define ISN   0x0c000001u
#define NEVER 0 /* hz 0: timeouts off */

/* Global lifetimes of every row: tcp 40 s, tcp_fin 20 s, tcp_syn 10 s, udp 30 s. */
static const uint32_t global_s[XLVS_TO_MAX] = { 40, 20, 10, 30 };

enum age {
	INSIDE,	 /* 200 ms short of the lifetime */
	PAST,	 /* one jiffy past it */
	AGE_LONG /* 1000 s */
};

struct to_row {
	const char *name;
	int svc;		     /* SVC_DR4 or SVC_DR4_UDP */
	uint8_t state;		     /* of the entry */
	uint8_t flags;		     /* of the packet (TCP) */
	uint32_t svc_s[XLVS_TO_MAX]; /* the service's overrides; 0 = the global one */
	uint32_t life_s;	     /* the lifetime that applies */
	enum age age;
	bool off;	    /* hz 0 in xlvs_config */
	bool expired;	    /* want: rescheduled */
	uint8_t want_state; /* of the entry after the packet */
};

#define OPEN	XLVS_CONN_OPEN
#define CLOSING XLVS_CONN_CLOSING
#define SYN	XLVS_CONN_SYN

static const struct to_row rows[] = {
	{ "open, inside tcp: kept", SVC_DR4, OPEN, TH_ACK, { 0 }, 40, INSIDE, false, false, OPEN },
	{ "open, past tcp: rescheduled", SVC_DR4, OPEN, TH_ACK, { 0 }, 40, PAST, false, true, OPEN },
	{ "open, fin inside tcp: closes",
	  SVC_DR4,
	  OPEN,
	  TH_FIN | TH_ACK,
	  { 0 },
	  40,
	  INSIDE,
	  false,
	  false,
	  CLOSING },
	{ "syn, retransmission inside tcp_syn: kept",
	  SVC_DR4,
	  SYN,
	  TH_SYN,
	  { 0 },
	  10,
	  INSIDE,
	  false,
	  false,
	  SYN },
	{ "syn, retransmission past tcp_syn: rescheduled",
	  SVC_DR4,
	  SYN,
	  TH_SYN,
	  { 0 },
	  10,
	  PAST,
	  false,
	  true,
	  SYN },
	{ "syn, ack inside tcp_syn: opens", SVC_DR4, SYN, TH_ACK, { 0 }, 10, INSIDE, false, false, OPEN },
	{ "syn, ack past tcp_syn (not tcp's): rescheduled",
	  SVC_DR4,
	  SYN,
	  TH_ACK,
	  { 0 },
	  10,
	  PAST,
	  false,
	  true,
	  OPEN },
	{ "closing, inside tcp_fin: kept", SVC_DR4, CLOSING, TH_ACK, { 0 }, 20, INSIDE, false, false, CLOSING },
	{ "closing, past tcp_fin: rescheduled", SVC_DR4, CLOSING, TH_ACK, { 0 }, 20, PAST, false, true, OPEN },
	{ "udp, inside udp: kept", SVC_DR4_UDP, OPEN, 0, { 0 }, 30, INSIDE, false, false, OPEN },
	{ "udp, past udp (not tcp's 40): rescheduled",
	  SVC_DR4_UDP,
	  OPEN,
	  0,
	  { 0 },
	  30,
	  PAST,
	  false,
	  true,
	  OPEN },
	{ "service tcp 100 beats global 40: kept",
	  SVC_DR4,
	  OPEN,
	  TH_ACK,
	  { 100, 0, 0, 0 },
	  100,
	  INSIDE,
	  false,
	  false,
	  OPEN },
	{ "service tcp 100, past it: rescheduled",
	  SVC_DR4,
	  OPEN,
	  TH_ACK,
	  { 100, 0, 0, 0 },
	  100,
	  PAST,
	  false,
	  true,
	  OPEN },
	{ "service tcp_fin 5 beats global 20: rescheduled",
	  SVC_DR4,
	  CLOSING,
	  TH_ACK,
	  { 0, 5, 0, 0 },
	  5,
	  PAST,
	  false,
	  true,
	  OPEN },
	{ "service udp 60 beats global 30: kept",
	  SVC_DR4_UDP,
	  OPEN,
	  0,
	  { 0, 0, 0, 60 },
	  60,
	  INSIDE,
	  false,
	  false,
	  OPEN },
	{ "service overrides another state only: global applies",
	  SVC_DR4,
	  OPEN,
	  TH_ACK,
	  { 0, 5, 5, 5 },
	  40,
	  PAST,
	  false,
	  true,
	  OPEN },
	{ "hz 0: never expires", SVC_DR4, OPEN, TH_ACK, { 0 }, 40, AGE_LONG, true, false, OPEN },
};

static struct pkt_spec flow_pkt(const struct to_row *row)
{
	struct pkt_spec s = { .family = 4, .src = CLIENT4, .dst = VIP, .sport = PORT, .payload = 20 };

	s.proto = std_svcs[row->svc].proto;
	s.dport = std_svcs[row->svc].port;
	s.tcp_flags = row->flags;
	s.seq = ISN;
	return s;
}

/* Lifetimes into the config, the service's overrides into its reals (what xlvs_apply writes). */
static void set_lifetimes(struct world *w, const struct to_row *row, uint32_t hz)
{
	struct xlvs_config cfg;
	struct xlvs_real r;
	uint32_t id;
	int i;

	world_get_config(w, &cfg);
	cfg.hz = row->off ? NEVER : hz;
	memcpy(cfg.timeout, global_s, sizeof(cfg.timeout));
	world_set_config(w, &cfg);
	for (i = 0; i < STD_REALS_MAX && std_svcs[row->svc].reals[i].addr; i++) {
		id = std_real_id(row->svc, i);
		world_get_real(w, id, &r);
		memcpy(r.timeout, row->svc_s, sizeof(r.timeout));
		world_set_real(w, id, &r);
	}
}

/* A real of the service other than the one the ring gives the flow. */
static uint32_t other_real(const struct to_row *row, uint32_t pick)
{
	uint32_t id = std_real_id(row->svc, 0);

	return id == pick ? std_real_id(row->svc, 1) : id;
}

static uint32_t age_jiffies(const struct to_row *row, uint32_t hz)
{
	switch (row->age) {
	case INSIDE:
		return row->life_s * hz - hz / 5;
	case PAST:
		return row->life_s * hz + 1;
	default:
		return 1000 * hz;
	}
}

static void run_row(const struct to_row *row, uint32_t hz)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct pkt_spec s = flow_pkt(row);
	struct xlvs_jiffies j;
	struct xlvs_flow f;
	struct xlvs_conn c;
	struct xlvs_real r;
	uint32_t pick, old;
	size_t len, out_len;
	struct world w;
	int verdict;

	world_open(&w, NULL);
	world_std(&w);
	set_lifetimes(&w, row, hz);
	spec_flow(&s, &f);
	pick = world_ring_pick(&w, row->svc, &f);
	old = other_real(row, pick);
	world_get_real(&w, old, &r);
	len = pkt_build(&s, in);
	cr_assert_eq(xlvs_jiffies_read(&j), 0, "cannot read jiffies");
	c = (struct xlvs_conn){ .real_id = old,
				.real_gen = r.gen,
				.hash = world_flow_hash(&w, &f),
				.last_seen = j.now - age_jiffies(row, hz),
				.isn = htonl(ISN),
				.state = row->state };
	world_put_conn(&w, &f, &c);
	verdict = world_run(&w, in, len, out, &out_len);
	cr_expect_eq(verdict, XDP_TX, "%s: verdict %d", row->name, verdict);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_EXPIRED), row->expired, "%s: conn_expired events",
		     row->name);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_HIT), !row->expired, "%s: conn_hit events", row->name);
	cr_assert(world_get_conn(&w, &f, &c), "%s: no entry after the packet", row->name);
	cr_expect_eq(c.real_id, row->expired ? pick : old,
		     "%s: the flow is with real %u (entry's %u, ring's %u)", row->name, c.real_id, old, pick);
	cr_expect_eq(c.state, row->want_state, "%s: state %u, want %u", row->name, c.state, row->want_state);
	cr_expect_geq((int32_t)(c.last_seen - j.now), 0, "%s: last_seen not refreshed", row->name);
	world_close(&w);
}

Test(timeouts, lifetime_table)
{
	uint32_t hz;
	size_t i;

	cr_assert_eq(xlvs_hz(&hz), 0, "cannot tell the kernel's HZ");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i], hz);
}
