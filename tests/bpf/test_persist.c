// SPDX-License-Identifier: GPL-2.0
/*
 * Persistence (bpf/persist.h) as a table: each row installs one persistent
 * service (its scheduler, port, netmask, timeout) over four DR reals A..D,
 * then runs steps: packets, each with the real it must reach (read from the
 * output frame's destination MAC, so a packet the SYN guard does not insert
 * is judged too), and changes between them (a template aged, a real at weight
 * 0 or given to another, a template seeded). The schedulers are rr (its
 * order from a reset cursor on one CPU is A, B, C, D, so a client moved off
 * its template shows as the next letter) or, with a seeded template, any
 * other: the template's real is one the scheduler would not pick.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "schedtab.h"
#include "world.h"
#include "xlvs_lb.skel.h"
#include "xlvsmaps.h"

#define SVC_ID	   (STD_SVC_MAX + 1)
#define REAL0	   4000
#define NREALS	   4
#define VIP4	   "198.18.0.201"
#define VIP6	   "2001:db8::201"
#define TABLE	   251
#define RING_SLOTS (1u << 20)
#define TIMEOUT	   300 /* s, every row's persist_timeout */
#define MAX_STEPS  6

static const char *const real4[NREALS] = { "198.18.9.1", "198.18.9.2", "198.18.9.3", "198.18.9.4" };
static const char *const real6[NREALS] = { "2001:db8:9::1", "2001:db8:9::2", "2001:db8:9::3",
					   "2001:db8:9::4" };

enum step_kind {
	END = 0,
	PKT,	    /* a packet src:sport -> VIP:dport with flags; want: the real (index) or DROPPED */
	AGE_PAST,   /* every template one jiffy past the timeout */
	AGE_INSIDE, /* every template 1 s short of the timeout */
	WEIGHT0,    /* real `real` to weight 0 (quiesced; the rr table not rebuilt) */
	GEN_BUMP,   /* real `real`'s id given to another real (generation + 1) */
	SEED,	    /* a template for src (a whole address) naming real `real` */
	CONN_AGED,  /* the entry of src:sport -> dport last seen 1 s ago, its template past the timeout */
	GUARD,	    /* the SYN guard at 1 SYN per second */
};

struct step {
	enum step_kind kind;
	const char *src;
	uint16_t sport, dport;
	uint8_t flags;
	int real; /* PKT: the real it must reach; WEIGHT0, GEN_BUMP, SEED: the real changed */
};

struct persist_row {
	const char *name;
	uint8_t family;
	uint8_t sched;
	uint16_t port; /* the service's; 0: all ports */
	uint8_t plen;
	struct step steps[MAX_STEPS];
	uint64_t hits, misses; /* persist_hit / persist_miss events of the whole row */
};

#define A    0
#define B    1
#define C    2
#define D    3
#define C1   "198.18.100.7"
#define C1B  "198.18.100.9" /* C1's /24 */
#define C2   "198.18.101.7" /* another /24 */
#define C61  "2001:db8:100::7"
#define C61B "2001:db8:100::9" /* C61's /64 */
#define C62  "2001:db8:101::7"
#define SYN(src, sp, dp, r)                                                                                  \
	{                                                                                                    \
		PKT, src, sp, dp, TH_SYN, r                                                                  \
	}
#define ACK(src, sp, dp, r)                                                                                  \
	{                                                                                                    \
		PKT, src, sp, dp, TH_ACK, r                                                                  \
	}
#define DO(kind, r)                                                                                          \
	{                                                                                                    \
		kind, NULL, 0, 0, 0, r                                                                       \
	}

static const struct persist_row rows[] = {
	{ "rr: a client's second connection keeps its real (rr alone gives B)",
	  4,
	  XLVS_SCHED_RR,
	  80,
	  32,
	  { SYN(C1, 1000, 80, A), SYN(C1, 1001, 80, A), SYN(C2, 1000, 80, B) },
	  1,
	  2 },
	{ "port 0: the client's connection to another port goes to its real (passive FTP)",
	  4,
	  XLVS_SCHED_RR,
	  0,
	  32,
	  { SYN(C1, 1000, 21, A), SYN(C1, 1001, 40000, A), SYN(C2, 1000, 21, B) },
	  1,
	  2 },
	{ "netmask /24: a neighbour shares the template, another network does not",
	  4,
	  XLVS_SCHED_RR,
	  80,
	  24,
	  { SYN(C1, 1000, 80, A), SYN(C1B, 1000, 80, A), SYN(C2, 1000, 80, B) },
	  1,
	  2 },
	{ "netmask /32 (default): a neighbour is scheduled",
	  4,
	  XLVS_SCHED_RR,
	  80,
	  32,
	  { SYN(C1, 1000, 80, A), SYN(C1B, 1000, 80, B) },
	  0,
	  2 },
	{ "IPv6 /64: a neighbour shares the template, another /64 does not",
	  6,
	  XLVS_SCHED_RR,
	  80,
	  64,
	  { SYN(C61, 1000, 80, A), SYN(C61B, 1000, 80, A), SYN(C62, 1000, 80, B) },
	  1,
	  2 },
	{ "IPv6 /128: a neighbour is scheduled",
	  6,
	  XLVS_SCHED_RR,
	  80,
	  128,
	  { SYN(C61, 1000, 80, A), SYN(C61B, 1000, 80, B) },
	  0,
	  2 },
	{ "expiry: a template past the timeout is replaced",
	  4,
	  XLVS_SCHED_RR,
	  80,
	  32,
	  { SYN(C1, 1000, 80, A), DO(AGE_PAST, 0), SYN(C1, 1001, 80, B), SYN(C1, 1002, 80, B) },
	  1,
	  2 },
	{ "expiry: a template inside the timeout holds",
	  4,
	  XLVS_SCHED_RR,
	  80,
	  32,
	  { SYN(C1, 1000, 80, A), DO(AGE_INSIDE, 0), SYN(C1, 1001, 80, A) },
	  1,
	  1 },
	{ "weight 0: the template's real takes no new connection, the client moves",
	  4,
	  XLVS_SCHED_RR,
	  80,
	  32,
	  { SYN(C1, 1000, 80, A), DO(WEIGHT0, A), SYN(C1, 1001, 80, B), ACK(C1, 1000, 80, A) },
	  0,
	  2 },
	{ "removed real (generation bumped): the client is scheduled afresh",
	  4,
	  XLVS_SCHED_RR,
	  80,
	  32,
	  { SYN(C1, 1000, 80, A), DO(GEN_BUMP, A), SYN(C1, 1001, 80, B) },
	  0,
	  2 },
	{ "established traffic keeps an idle template alive",
	  4,
	  XLVS_SCHED_RR,
	  80,
	  32,
	  { SYN(C1, 1000, 80, A),
	    { CONN_AGED, C1, 1000, 80, 0, 0 },
	    ACK(C1, 1000, 80, A),
	    SYN(C1, 1001, 80, A) },
	  1,
	  1 },
	{ "SYN guard: a SYN not inserted and its ACK follow the template",
	  4,
	  XLVS_SCHED_RR,
	  80,
	  32,
	  { DO(GUARD, 0), SYN(C1, 1000, 80, A), SYN(C1, 1001, 80, A), ACK(C1, 1001, 80, A),
	    SYN(C2, 1000, 80, B) },
	  2,
	  2 },
	{ "maglev: a seeded template wins",
	  4,
	  XLVS_SCHED_MAGLEV,
	  80,
	  32,
	  { { SEED, C1, 0, 0, 0, D }, SYN(C1, 1000, 80, D), SYN(C1, 1001, 80, D) },
	  2,
	  0 },
	{ "sh: a seeded template wins",
	  4,
	  XLVS_SCHED_SH,
	  80,
	  32,
	  { { SEED, C1, 0, 0, 0, C }, SYN(C1, 1000, 80, C), SYN(C1, 1001, 80, C) },
	  2,
	  0 },
	{ "dh: a seeded template wins",
	  4,
	  XLVS_SCHED_DH,
	  80,
	  32,
	  { { SEED, C1, 0, 0, 0, B }, SYN(C1, 1000, 80, B) },
	  1,
	  0 },
	{ "mh: a seeded template wins",
	  4,
	  XLVS_SCHED_MH,
	  0,
	  32,
	  { { SEED, C1, 0, 0, 0, D }, SYN(C1, 1000, 443, D), SYN(C1, 1001, 8443, D) },
	  2,
	  0 },
	{ "wrr: a seeded template wins",
	  4,
	  XLVS_SCHED_WRR,
	  80,
	  32,
	  { { SEED, C1, 0, 0, 0, C }, SYN(C1, 1000, 80, C) },
	  1,
	  0 },
	/* lc, wlc with no connections counted pick A, the first real (ip_vs_wlc.c: the first wins ties) */
	{ "wlc: a seeded template wins",
	  4,
	  XLVS_SCHED_WLC,
	  80,
	  32,
	  { { SEED, C1, 0, 0, 0, D }, SYN(C1, 1000, 80, D), SYN(C2, 1000, 80, A) },
	  1,
	  1 },
	{ "lc: a seeded template wins on every port",
	  4,
	  XLVS_SCHED_LC,
	  0,
	  32,
	  { { SEED, C1, 0, 0, 0, B }, SYN(C1, 1000, 21, B), SYN(C1, 1001, 30000, B) },
	  2,
	  0 },
};

static struct world w;
static uint32_t base, hz;

static void setup(void)
{
	struct world_opts o = { .ring_slots = RING_SLOTS };
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0, "pin to CPU 0");
	cr_assert_eq(xlvs_hz(&hz), 0, "cannot tell the kernel's HZ");
	world_open(&w, &o);
	world_std(&w);
	world_set_clock(&w, hz); /* the default lifetimes: entries outlive every row */
	base = w.ring_base[STD_SVC_MAX - 1] + std_svcs[STD_SVC_MAX - 1].ring_size;
}

static void teardown(void)
{
	world_close(&w);
}

TestSuite(persist, .init = setup, .fini = teardown);

static const char *vip_of(const struct persist_row *r)
{
	return r->family == 4 ? VIP4 : VIP6;
}

/* The row's service over A..D (weight 1 each), its table built as the daemon does. */
static void install(const struct persist_row *row)
{
	const char *const *addrs = row->family == 4 ? real4 : real6;
	uint8_t af = row->family == 4 ? XLVS_AF_INET : XLVS_AF_INET6;
	struct xlvs_svc_key k = { .port = htons(row->port), .proto = IPPROTO_TCP, .family = af };
	struct xlvs_service s = { .id = SVC_ID,
				  .ring_base = base,
				  .ring_size = TABLE,
				  .sched = row->sched,
				  .persist_timeout = TIMEOUT,
				  .persist_plen = row->plen };
	struct xlvs_maglev_backend b[NREALS];
	uint32_t *table = calloc(TABLE, sizeof(*table)), key = SVC_ID;
	uint64_t zero[256] = { 0 };
	struct xlvs_real r;
	int i;

	cr_assert(table);
	for (i = 0; i < NREALS; i++) {
		r = (struct xlvs_real){ .family = af,
					.fwd = XLVS_FWD_DR,
					.flags = XLVS_REAL_F_ACTIVE | XLVS_REAL_F_NH_VALID |
						 XLVS_REAL_F_PERSIST,
					.svc_id = SVC_ID,
					.weight = 1 };
		parse_addr(row->family, addrs[i], r.addr);
		real_mac(REAL0 + (uint32_t)i, r.nh_mac);
		world_set_real(&w, REAL0 + (uint32_t)i, &r);
		b[i] = (struct xlvs_maglev_backend){ REAL0 + (uint32_t)i, 1, addrs[i], strlen(addrs[i]) };
	}
	cr_assert_eq(xlvs_sched_build(row->sched, table, TABLE, b, NREALS), 0);
	s.sched_len = (uint32_t)xlvs_sched_period(row->sched, b, NREALS);
	cr_assert_geq(xlvs_ring_write(MAP_FD(&w, xlvs_ring), base, NULL, table, TABLE), 0);
	free(table);
	parse_addr(row->family, vip_of(row), k.addr);
	world_vip_filter_add(&w, af, k.addr);
	world_service_put(&w, &k, &s);
	cr_assert_eq(bpf_map_update_elem(MAP_FD(&w, xlvs_sched_cursor), &key, zero, 0), 0);
}

static struct pkt_spec packet(const struct persist_row *row, const struct step *st)
{
	return (struct pkt_spec){ .family = row->family,
				  .proto = IPPROTO_TCP,
				  .src = st->src,
				  .dst = vip_of(row),
				  .sport = st->sport,
				  .dport = st->dport,
				  .tcp_flags = st->flags,
				  .seq = 0x0c000001u };
}

static uint32_t now_jiffies(void)
{
	struct xlvs_jiffies j;

	cr_assert_eq(xlvs_jiffies_read(&j), 0, "cannot read jiffies");
	return j.now;
}

/* Every template's last_seen to now - age. */
static void age_templates(uint32_t age)
{
	int fd = MAP_FD(&w, xlvs_persist);
	struct xlvs_svc_addr_key k, next, *prev = NULL;
	struct xlvs_persist v;
	uint32_t now = now_jiffies();
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		cr_assert_eq(bpf_map_lookup_elem(fd, &k, &v), 0);
		v.last_seen = now - age;
		cr_assert_eq(bpf_map_update_elem(fd, &k, &v, BPF_EXIST), 0);
		n++;
	}
	cr_assert_gt(n, 0, "no template to age");
}

static void seed(const struct persist_row *row, const struct step *st)
{
	struct xlvs_svc_addr_key k = { .svc_id = SVC_ID,
				       .family = row->family == 4 ? XLVS_AF_INET : XLVS_AF_INET6 };
	struct xlvs_persist v = { .real_id = REAL0 + (uint32_t)st->real, .last_seen = now_jiffies() };

	if (!st->src)
		return;
	parse_addr(row->family, st->src, k.addr);
	cr_assert_eq(bpf_map_update_elem(MAP_FD(&w, xlvs_persist), &k, &v, 0), 0);
}

/* The flow's entry last seen in the previous second of jiffies, and (at a second's start, so the
 * packet that follows is not in that second too) its template past the timeout. */
static void conn_aged(const struct persist_row *row, const struct step *st)
{
	struct pkt_spec s = packet(row, st);
	struct xlvs_flow f;
	struct xlvs_conn c;
	uint32_t now;

	while ((now = now_jiffies()) % hz > hz / 2)
		;
	age_templates(TIMEOUT * hz + 1);
	spec_flow(&s, &f);
	cr_assert(world_get_conn(&w, &f, &c), "no entry to age");
	c.last_seen = now - hz;
	world_put_conn(&w, &f, &c);
}

static void change_real(const struct step *st, bool weight0)
{
	struct xlvs_real r;

	world_get_real(&w, REAL0 + (uint32_t)st->real, &r);
	if (weight0)
		r.weight = 0;
	else
		r.gen++;
	world_set_real(&w, REAL0 + (uint32_t)st->real, &r);
}

static void guard(void)
{
	struct xlvs_config cfg;

	world_get_config(&w, &cfg);
	cfg.syn_guard_rate = 1;
	world_set_config(&w, &cfg);
}

static void run_packet(const struct persist_row *row, const struct step *st, int i)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct pkt_spec s = packet(row, st);
	size_t len = pkt_build(&s, in), out_len;
	int got = world_frame_real(world_run(&w, in, len, out, &out_len), out, REAL0, NREALS);

	cr_expect_eq(got, st->real, "%s: step %d (%s:%u -> %u): real %c, want %c", row->name, i, st->src,
		     st->sport, st->dport, got < 0 ? '-' : 'A' + got, 'A' + st->real);
}

static void run_row(const struct persist_row *row)
{
	const struct step *st;
	struct xlvs_config cfg;
	int i;

	world_close(&w);
	setup();
	install(row);
	for (i = 0; i < MAX_STEPS && row->steps[i].kind != END; i++) {
		st = &row->steps[i];
		switch (st->kind) {
		case PKT:
			run_packet(row, st, i);
			break;
		case AGE_PAST:
			age_templates(TIMEOUT * hz + 1);
			break;
		case AGE_INSIDE:
			age_templates(TIMEOUT * hz - hz);
			break;
		case WEIGHT0:
		case GEN_BUMP:
			change_real(st, st->kind == WEIGHT0);
			break;
		case SEED:
			seed(row, st);
			break;
		case CONN_AGED:
			conn_aged(row, st);
			break;
		case GUARD:
			guard();
			break;
		default:
			break;
		}
	}
	cr_expect_eq(world_event(&w, XLVS_EV_PERSIST_HIT), row->hits, "%s: persist_hit %llu, want %llu",
		     row->name, (unsigned long long)world_event(&w, XLVS_EV_PERSIST_HIT),
		     (unsigned long long)row->hits);
	cr_expect_eq(world_event(&w, XLVS_EV_PERSIST_MISS), row->misses, "%s: persist_miss %llu, want %llu",
		     row->name, (unsigned long long)world_event(&w, XLVS_EV_PERSIST_MISS),
		     (unsigned long long)row->misses);
	world_get_config(&w, &cfg);
	cr_assert_eq(cfg.hz, hz);
}

Test(persist, table)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
}

/* A template carries the real's generation and is stamped now; an ICMP error never writes one. */
Test(persist, template_written_for_the_pick)
{
	static const struct persist_row row = { "template", 4, XLVS_SCHED_RR, 80, 24, { { END } }, 0, 0 };
	struct step syn = SYN(C1, 1000, 80, A);
	struct xlvs_svc_addr_key k = { .svc_id = SVC_ID, .family = XLVS_AF_INET };
	struct xlvs_persist v;
	struct xlvs_real r;
	uint32_t before;

	install(&row);
	world_get_real(&w, REAL0, &r);
	r.gen = 7;
	world_set_real(&w, REAL0, &r);
	before = now_jiffies();
	run_packet(&row, &syn, 0);
	parse_addr(4, "198.18.100.0", k.addr); /* C1 masked to /24 */
	cr_assert_eq(bpf_map_lookup_elem(MAP_FD(&w, xlvs_persist), &k, &v), 0,
		     "no template for 198.18.100.0/24");
	cr_expect_eq(v.real_id, REAL0);
	cr_expect_eq(v.real_gen, 7);
	cr_expect_geq((int32_t)(v.last_seen - before), 0, "last_seen %u before the packet (%u)", v.last_seen,
		      before);
}
