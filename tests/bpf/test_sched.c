// SPDX-License-Identifier: GPL-2.0
/*
 * Schedulers other than Maglev (bpf/sched.h) on new flows: each row installs
 * one service with its reals and table (maps/schedtab.c, as the daemon
 * writes it), sends new flows and compares the reals they got (read from the
 * connection entries) with what the row expects, written out here.
 * The test pins itself to one CPU: rr/wrr cursors are per CPU.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedtab.h"
#include "world.h"
#include "xlvsmaps.h"
#include "xlvs_lb.skel.h"

#define SVC_ID	   (STD_SVC_MAX + 1)
#define REAL0	   4000 /* first real id of the row's service, above the standard ones */
#define NREALS	   4
#define VIP	   "198.18.0.200"
#define RING_SLOTS (1u << 20)
#define TABLE	   251 /* the row's slice: a prime, like every ring_size */
#define SPREAD_N   1000

static struct world w;
static uint32_t base;

static const char *const real_addrs[NREALS] = { "198.18.9.1", "198.18.9.2", "198.18.9.3", "198.18.9.4" };

static void setup(void)
{
	struct world_opts o = { .ring_slots = RING_SLOTS };
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0, "pin to CPU 0");
	world_open(&w, &o);
	world_std(&w);
	base = w.ring_base[STD_SVC_MAX - 1] + std_svcs[STD_SVC_MAX - 1].ring_size;
}

static void teardown(void)
{
	world_close(&w);
}

TestSuite(sched, .init = setup, .fini = teardown);

static void install_persist(uint8_t sched, uint32_t flags, const uint32_t *weights, int n,
			    uint32_t persist_s);

/* The service: sched with flags over reals of these weights (n of them), its table built. */
static void install(uint8_t sched, uint32_t flags, const uint32_t *weights, int n)
{
	install_persist(sched, flags, weights, n, 0);
}

/* install(), persistent for persist_s seconds (0: not persistent). */
static void install_persist(uint8_t sched, uint32_t flags, const uint32_t *weights, int n, uint32_t persist_s)
{
	uint8_t rflags = XLVS_REAL_F_ACTIVE | XLVS_REAL_F_NH_VALID |
			 (xlvs_sched_counts(sched) ? XLVS_REAL_F_COUNTED : 0);
	struct xlvs_maglev_backend b[NREALS];
	struct xlvs_svc_key k = { .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct xlvs_service s = { .id = SVC_ID,
				  .ring_base = base,
				  .ring_size = TABLE,
				  .flags = flags,
				  .sched = sched,
				  .persist_timeout = persist_s,
				  .persist_plen = 32 };
	uint32_t *table = calloc(TABLE, sizeof(*table));
	struct xlvs_real r;
	int i;

	cr_assert(table);
	for (i = 0; i < n; i++) {
		r = (struct xlvs_real){ .family = XLVS_AF_INET,
					.fwd = XLVS_FWD_DR,
					.flags = rflags,
					.svc_id = SVC_ID,
					.weight = weights[i] };
		parse_addr(4, real_addrs[i], r.addr);
		real_mac(REAL0 + (uint32_t)i, r.nh_mac);
		world_set_real(&w, REAL0 + (uint32_t)i, &r);
		b[i] = (struct xlvs_maglev_backend){ REAL0 + (uint32_t)i, weights[i], real_addrs[i],
						     strlen(real_addrs[i]) };
	}
	cr_assert_eq(xlvs_sched_build(sched, table, TABLE, b, (size_t)n), 0);
	s.sched_len = (uint32_t)xlvs_sched_period(sched, b, (size_t)n);
	cr_assert_geq(xlvs_ring_write(MAP_FD(&w, xlvs_ring), base, NULL, table, TABLE), 0);
	free(table);
	parse_addr(4, VIP, k.addr);
	world_vip_filter_add(&w, XLVS_AF_INET, k.addr);
	world_service_put(&w, &k, &s);
}

/* A TCP packet from src:sport to the VIP's port 80; returns its flow. */
static struct xlvs_flow send_from(const char *src, uint16_t sport, uint8_t flags, uint32_t seq)
{
	struct pkt_spec p = { .family = 4,
			      .proto = IPPROTO_TCP,
			      .src = src,
			      .dst = VIP,
			      .sport = sport,
			      .dport = 80,
			      .tcp_flags = flags,
			      .seq = seq };
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct xlvs_flow f;
	size_t out_len;

	world_run(&w, in, pkt_build(&p, in), out, &out_len);
	spec_flow(&p, &f);
	return f;
}

/* A SYN from src:sport to dst; the index (0..3) of the real its entry names, -1: none. */
static int new_flow(const char *src, uint16_t sport)
{
	struct xlvs_flow f = send_from(src, sport, TH_SYN, 0);
	struct xlvs_conn c;

	if (!world_get_conn(&w, &f, &c))
		return -1;
	return (int)(c.real_id - REAL0);
}

/* Reals of n new flows from one client, ports sport0.., as letters: "ABCA". */
static void sequence(uint16_t sport0, int n, char *out)
{
	int i, r;

	for (i = 0; i < n; i++) {
		r = new_flow(CLIENT4, (uint16_t)(sport0 + i));
		out[i] = r < 0 ? '-' : (char)('A' + r);
	}
	out[n] = '\0';
}

static const char *client(int i, char *buf)
{
	snprintf(buf, 32, "198.18.%d.%d", 100 + i / 250, 1 + i % 250);
	return buf;
}

/* ---- rr, wrr ---------------------------------------------------------------- */

struct seq_row {
	const char *name;
	uint8_t sched;
	uint32_t weights[NREALS];
	int nreals;
	const char *want; /* the reals of consecutive new flows */
};

static const struct seq_row seq_rows[] = {
	{ "rr: each real in turn", XLVS_SCHED_RR, { 1, 1, 1 }, 3, "ABCABCABC" },
	{ "rr: weights do not matter", XLVS_SCHED_RR, { 5, 1, 2 }, 3, "ABCABC" },
	{ "rr: weight 0 gets nothing", XLVS_SCHED_RR, { 1, 0, 1 }, 3, "ACACAC" },
	/* ip_vs_wrr.c for 4,3,2: cw 4: A; 3: A B; 2: A B C; 1: A B C */
	{ "wrr 4,3,2 as IPVS", XLVS_SCHED_WRR, { 4, 3, 2 }, 3, "AABABCABCAABABCABC" },
	/* gcd 2: cw 3: A; 1: A B */
	{ "wrr 4,2: by the gcd", XLVS_SCHED_WRR, { 4, 2 }, 2, "AABAAB" },
	{ "wrr: weight 0 gets nothing", XLVS_SCHED_WRR, { 2, 0, 1 }, 3, "AACAAC" },
	{ "wrr: all weight 0: no real", XLVS_SCHED_WRR, { 0, 0 }, 2, "--" },
};

Test(sched, rr_wrr_sequences)
{
	char got[32];
	size_t i;

	for (i = 0; i < sizeof(seq_rows) / sizeof(seq_rows[0]); i++) {
		const struct seq_row *r = &seq_rows[i];
		uint32_t key = SVC_ID;
		uint64_t zero[256] = { 0 };

		/* each row starts the walk at the sequence's start */
		cr_assert_eq(bpf_map_update_elem(bpf_map__fd(w.skel->maps.xlvs_sched_cursor), &key, zero, 0),
			     0);
		install(r->sched, 0, r->weights, r->nreals);
		sequence((uint16_t)(1000 + 100 * i), (int)strlen(r->want), got);
		cr_expect_str_eq(got, r->want, "%s: got %s", r->name, got);
	}
}

/* ---- sh, dh, mh -------------------------------------------------------------- */

/* Same client, other ports: one real (sh, mh without the port flag). */
static void expect_sticky(uint8_t sched, uint32_t flags, const char *what)
{
	static const uint32_t weights[NREALS] = { 1, 1, 1, 1 };
	char buf[32];
	int c, i, first;

	install(sched, flags, weights, NREALS);
	for (c = 0; c < 20; c++) {
		first = new_flow(client(c, buf), 1000);
		cr_assert_geq(first, 0, "%s: client %d got no real", what, c);
		for (i = 1; i < 8; i++)
			cr_expect_eq(new_flow(buf, (uint16_t)(1000 + i)), first, "%s: client %d port %d",
				     what, c, 1000 + i);
	}
}

Test(sched, sh_same_source_same_real)
{
	expect_sticky(XLVS_SCHED_SH, 0, "sh");
}

Test(sched, mh_same_source_same_real)
{
	expect_sticky(XLVS_SCHED_MH, 0, "mh");
}

Test(sched, sh_fallback_flags_keep_the_source)
{
	expect_sticky(XLVS_SCHED_SH, XLVS_SVC_F_SCHED_FALLBACK, "sh-fallback");
}

/* Counts of SPREAD_N clients' first flows per real. */
static void spread(uint16_t sport0, int *count)
{
	char buf[32];
	int i, r;

	memset(count, 0, NREALS * sizeof(*count));
	for (i = 0; i < SPREAD_N; i++) {
		r = new_flow(client(i, buf), (uint16_t)(sport0 + i));
		cr_assert(r >= 0 && r < NREALS, "client %d: real %d", i, r);
		count[r]++;
	}
}

struct spread_row {
	const char *name;
	uint8_t sched;
	uint32_t flags;
	uint32_t weights[NREALS];
	int want[NREALS]; /* of SPREAD_N flows, each within +-TOLERANCE */
};

/* 1000 clients over 4 equal reals: 250 each; +-70 is over 4 standard deviations (13.7). */
#define TOLERANCE 70

static const struct spread_row spread_rows[] = {
	{ "sh equal weights", XLVS_SCHED_SH, 0, { 1, 1, 1, 1 }, { 250, 250, 250, 250 } },
	{ "sh weights 3,1,0 (+fallback)",
	  XLVS_SCHED_SH,
	  XLVS_SVC_F_SCHED_FALLBACK,
	  { 3, 1, 0, 0 },
	  { 750, 250, 0, 0 } },
	{ "mh equal weights", XLVS_SCHED_MH, 0, { 1, 1, 1, 1 }, { 250, 250, 250, 250 } },
	{ "mh weight 0 gets nothing", XLVS_SCHED_MH, 0, { 1, 1, 0, 1 }, { 333, 333, 0, 333 } },
	{ "sh-port equal weights",
	  XLVS_SCHED_SH,
	  XLVS_SVC_F_SCHED_PORT,
	  { 1, 1, 1, 1 },
	  { 250, 250, 250, 250 } },
};

Test(sched, sh_mh_spread)
{
	int count[NREALS], j;
	size_t i;

	for (i = 0; i < sizeof(spread_rows) / sizeof(spread_rows[0]); i++) {
		const struct spread_row *r = &spread_rows[i];

		install(r->sched, r->flags, r->weights, NREALS);
		spread((uint16_t)(2000 + i * SPREAD_N), count);
		for (j = 0; j < NREALS; j++)
			cr_expect(count[j] >= r->want[j] - TOLERANCE && count[j] <= r->want[j] + TOLERANCE,
				  "%s: real %c got %d of %d, want %d +- %d", r->name, 'A' + j, count[j],
				  SPREAD_N, r->want[j], TOLERANCE);
	}
}

/*
 * Weight 0 in sh's and dh's buckets: without fallback its clients get no real
 * (IPVS: no destination available), with it they go elsewhere and nobody
 * reaches it.
 */
struct zero_row {
	const char *name;
	uint8_t sched;
	uint32_t flags;
	int want_dropped; /* of SPREAD_N clients: exactly 0, or some */
};

static const struct zero_row zero_rows[] = {
	{ "sh without fallback: weight 0's clients dropped", XLVS_SCHED_SH, 0, 1 },
	{ "sh-fallback: weight 0 skipped", XLVS_SCHED_SH, XLVS_SVC_F_SCHED_FALLBACK, 0 },
	{ "dh-fallback: weight 0 skipped", XLVS_SCHED_DH, XLVS_SVC_F_SCHED_FALLBACK, 0 },
};

Test(sched, weight0_fallback)
{
	static const uint32_t weights[NREALS] = { 1, 0, 1, 1 };
	char buf[32];
	size_t i;
	int c, r, dropped, to_zero;

	for (i = 0; i < sizeof(zero_rows) / sizeof(zero_rows[0]); i++) {
		install(zero_rows[i].sched, zero_rows[i].flags, weights, NREALS);
		dropped = to_zero = 0;
		for (c = 0; c < SPREAD_N; c++) {
			r = new_flow(client(c, buf), (uint16_t)(5000 + i * SPREAD_N + c));
			dropped += r < 0;
			to_zero += r == 1;
		}
		cr_expect_eq(to_zero, 0, "%s: the weight-0 real got %d flows", zero_rows[i].name, to_zero);
		if (zero_rows[i].want_dropped)
			cr_expect_gt(dropped, 0, "%s", zero_rows[i].name);
		else
			cr_expect_eq(dropped, 0, "%s: %d dropped", zero_rows[i].name, dropped);
	}
}

/* dh hashes the destination: every client of the one VIP gets one real. */
Test(sched, dh_same_destination_same_real)
{
	static const uint32_t weights[NREALS] = { 1, 1, 1, 1 };
	char buf[32];
	int c, first;

	install(XLVS_SCHED_DH, 0, weights, NREALS);
	first = new_flow(client(0, buf), 1000);
	cr_assert_geq(first, 0);
	for (c = 1; c < 50; c++)
		cr_expect_eq(new_flow(client(c, buf), (uint16_t)(1000 + c)), first, "client %d", c);
}

/*
 * A service entry whose slice is empty (ring_size 0: xlvsd never writes one; a corrupt or
 * foreign writer might): no real under any scheduler that reads the slice, and no slot read
 * (bpf/sched.h slice_at(): maglev's ring by either flow hash, the sh/dh/mh buckets, rr's
 * sequence). Without that check, mix64's multiply-shift gives slot 0 of the slice: a real.
 */
Test(sched, empty_slice_gives_no_real)
{
	static const struct {
		uint8_t sched;
		bool mix64;
	} rows[] = {
		{ XLVS_SCHED_MAGLEV, false }, { XLVS_SCHED_MAGLEV, true }, { XLVS_SCHED_SH, false },
		{ XLVS_SCHED_DH, false },     { XLVS_SCHED_MH, true },	   { XLVS_SCHED_RR, false },
	};
	static const uint32_t weights[NREALS] = { 1, 1, 1, 1 };
	struct xlvs_svc_key k = { .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct xlvs_config cfg;
	struct xlvs_service s;
	uint64_t drops;
	size_t i;

	parse_addr(4, VIP, k.addr);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		world_get_config(&w, &cfg);
		cfg.flags = rows[i].mix64 ? cfg.flags | XLVS_CFG_F_HASH_MIX64
					  : cfg.flags & ~XLVS_CFG_F_HASH_MIX64;
		world_set_config(&w, &cfg);
		install(rows[i].sched, 0, weights, NREALS);
		cr_assert_geq(new_flow(CLIENT4, (uint16_t)(2000 + 2 * i)), 0, "row %zu: the full slice", i);
		cr_assert_eq(bpf_map_lookup_elem(MAP_FD(&w, xlvs_services), &k, &s), 0);
		s.ring_size = 0;
		world_service_put(&w, &k, &s);
		drops = world_drop(&w, XLVS_DROP_NO_REAL);
		cr_expect_eq(new_flow(CLIENT4, (uint16_t)(2001 + 2 * i)), -1, "row %zu: sched %u mix64 %d", i,
			     rows[i].sched, rows[i].mix64);
		cr_expect_eq(world_drop(&w, XLVS_DROP_NO_REAL), drops + 1, "row %zu: counted as no_real", i);
	}
}

/* mh is Maglev: a real's removal moves only its own clients (the fallback is for weight 0 before a rebuild). */
Test(sched, mh_stable_when_a_real_goes)
{
	static const uint32_t before[NREALS] = { 1, 1, 1, 1 }, after[NREALS] = { 1, 1, 0, 1 };
	int was[200], c, now, moved = 0;
	char buf[32];

	install(XLVS_SCHED_MH, 0, before, NREALS);
	for (c = 0; c < 200; c++)
		was[c] = new_flow(client(c, buf), 1000);
	install(XLVS_SCHED_MH, 0, after, NREALS);
	for (c = 0; c < 200; c++) {
		now = new_flow(client(c, buf), 1100);
		cr_expect_neq(now, 2, "client %d still on the removed real", c);
		if (was[c] != 2)
			moved += now != was[c];
	}
	/* Maglev's ring of 251 slots moves a few slots beyond the removed real's */
	cr_expect_leq(moved, 20, "%d clients of the other reals moved", moved);
}

/* mh-fallback: a ring still naming a weight-0 real (not rebuilt yet) sends its clients elsewhere. */
Test(sched, mh_fallback_skips_weight0)
{
	static const uint32_t weights[NREALS] = { 1, 1, 1, 1 };
	struct xlvs_real r;
	char buf[32];
	int c, got, dropped = 0;

	install(XLVS_SCHED_MH, XLVS_SVC_F_SCHED_FALLBACK, weights, NREALS);
	world_get_real(&w, REAL0 + 2, &r);
	r.weight = 0;
	world_set_real(&w, REAL0 + 2, &r);
	for (c = 0; c < 300; c++) {
		got = new_flow(client(c, buf), 1000);
		dropped += got < 0;
		cr_expect_neq(got, 2, "client %d", c);
	}
	cr_expect_eq(dropped, 0);
}

/* ---- lc, wlc, sed, nq ---------------------------------------------------------- */

struct load {
	int32_t active, inactive;
};

static void set_load(int idx, struct load l)
{
	uint32_t id = REAL0 + (uint32_t)idx;
	struct xlvs_real_load v = { l.active, l.inactive };

	cr_assert_eq(bpf_map_update_elem(MAP_FD(&w, xlvs_real_load), &id, &v, 0), 0);
}

static struct load get_load(int idx)
{
	uint32_t id = REAL0 + (uint32_t)idx;
	struct xlvs_real_load v;

	cr_assert_eq(bpf_map_lookup_elem(MAP_FD(&w, xlvs_real_load), &id, &v), 0);
	return (struct load){ v.active, v.inactive };
}

/* ---- TCP packets that are not SYNs, of flows without an entry ----------------------- */

struct stray_row {
	const char *name;
	uint8_t sched;
	uint32_t persist_s;
	uint8_t tcp_flags;
	int verdict; /* XDP_PASS: left to the kernel (pass_tcp_not_syn); XDP_TX: scheduled */
	bool entry;  /* an entry made for the flow */
};

/*
 * As IPVS with sloppy_tcp off: a scheduler that picks anew (rr ... lblcr) starts a connection only
 * on a SYN; one that is a function of the flow, or a persistent service, sends the packet to the
 * real its flow had and records it. Each row its own client port: no entry before.
 */
static const struct stray_row stray_rows[] = {
	{ "rr: an ACK", XLVS_SCHED_RR, 0, TH_ACK, XDP_PASS, false },
	{ "wrr: an ACK", XLVS_SCHED_WRR, 0, TH_ACK, XDP_PASS, false },
	{ "lc: a FIN", XLVS_SCHED_LC, 0, TH_FIN | TH_ACK, XDP_PASS, false },
	{ "wlc: a RST", XLVS_SCHED_WLC, 0, TH_RST, XDP_PASS, false },
	{ "sed: an ACK", XLVS_SCHED_SED, 0, TH_ACK, XDP_PASS, false },
	{ "nq: an ACK", XLVS_SCHED_NQ, 0, TH_ACK, XDP_PASS, false },
	{ "lblc: an ACK", XLVS_SCHED_LBLC, 0, TH_ACK, XDP_PASS, false },
	{ "lblcr: an ACK", XLVS_SCHED_LBLCR, 0, TH_ACK, XDP_PASS, false },
	{ "wlc: a SYN is scheduled", XLVS_SCHED_WLC, 0, TH_SYN, XDP_TX, true },
	{ "rr persistent: an ACK follows the template", XLVS_SCHED_RR, 300, TH_ACK, XDP_TX, true },
	{ "maglev: an ACK gets its ring's real", XLVS_SCHED_MAGLEV, 0, TH_ACK, XDP_TX, true },
	{ "sh: an ACK", XLVS_SCHED_SH, 0, TH_ACK, XDP_TX, true },
	{ "dh: an ACK", XLVS_SCHED_DH, 0, TH_ACK, XDP_TX, true },
	{ "mh: an ACK", XLVS_SCHED_MH, 0, TH_ACK, XDP_TX, true },
};

Test(sched, tcp_without_syn_starts_no_connection_where_the_scheduler_picks_anew)
{
	static const uint32_t weights[NREALS] = { 1, 1, 1, 1 };
	struct pkt_spec p = { .family = 4, .proto = IPPROTO_TCP, .src = CLIENT4, .dst = VIP, .dport = 80 };
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct xlvs_conn c;
	struct xlvs_flow f;
	size_t i, out_len;
	uint64_t ev0;
	int j, v;

	for (i = 0; i < sizeof(stray_rows) / sizeof(stray_rows[0]); i++) {
		const struct stray_row *r = &stray_rows[i];

		install_persist(r->sched, 0, weights, NREALS, r->persist_s);
		for (j = 0; j < NREALS; j++)
			set_load(j, (struct load){ 0, 0 });
		p.sport = (uint16_t)(4000 + i);
		p.tcp_flags = r->tcp_flags;
		p.seq = 1000;
		ev0 = world_event(&w, XLVS_EV_PASS_TCP_NOT_SYN);
		v = world_run(&w, in, pkt_build(&p, in), out, &out_len);
		spec_flow(&p, &f);
		cr_expect_eq(v, r->verdict, "%s: verdict %d", r->name, v);
		cr_expect_eq(world_event(&w, XLVS_EV_PASS_TCP_NOT_SYN) - ev0, r->verdict == XDP_PASS,
			     "%s: pass_tcp_not_syn", r->name);
		cr_expect_eq(world_get_conn(&w, &f, &c), r->entry, "%s: entry", r->name);
		for (j = 0; !r->entry && j < NREALS; j++)
			cr_expect_eq(get_load(j).active + get_load(j).inactive, 0, "%s: real %c counted",
				     r->name, 'A' + j);
	}
}

struct least_row {
	const char *name;
	uint8_t sched;
	uint32_t weights[NREALS];
	struct load load[NREALS];
	int nreals;
	char want; /* the real a new flow gets, '-' none */
};

/* Overheads: lc/wlc active * 256 + inactive, sed/nq active + 1 (IPVS); per weight but for lc. */
static const struct least_row least_rows[] = {
	{ "lc: least overhead", XLVS_SCHED_LC, { 1, 1, 1 }, { { 2, 0 }, { 1, 5 }, { 1, 0 } }, 3, 'C' },
	{ "lc: a tie goes to the first", XLVS_SCHED_LC, { 1, 1, 1 }, { { 1, 0 }, { 1, 0 }, { 1, 0 } }, 3, 'A' },
	{ "lc: weights do not matter (wlc: A)",
	  XLVS_SCHED_LC,
	  { 10, 1, 1 },
	  { { 2, 0 }, { 1, 0 }, { 1, 0 } },
	  3,
	  'B' },
	{ "lc: inactive counts 1/256", XLVS_SCHED_LC, { 1, 1 }, { { 0, 10 }, { 0, 3 } }, 2, 'B' },
	{ "lc: weight 0 gets nothing", XLVS_SCHED_LC, { 0, 1 }, { { 0, 0 }, { 5, 0 } }, 2, 'B' },
	{ "lc: all weight 0: no real", XLVS_SCHED_LC, { 0, 0 }, { { 0, 0 }, { 0, 0 } }, 2, '-' },
	{ "lc: a count below 0 reads 0", XLVS_SCHED_LC, { 1, 1 }, { { -1, 0 }, { 0, 5 } }, 2, 'A' },
	/* 512/3 = 170 < 256/1 */
	{ "wlc: per weight", XLVS_SCHED_WLC, { 3, 1, 1 }, { { 2, 0 }, { 1, 0 }, { 1, 0 } }, 3, 'A' },
	{ "wlc: 4 x 256 / 2 > 1 x 256 / 1", XLVS_SCHED_WLC, { 2, 1 }, { { 4, 0 }, { 1, 0 } }, 2, 'B' },
	{ "wlc: weight 0 gets nothing", XLVS_SCHED_WLC, { 1, 0, 1 }, { { 3, 0 }, { 0, 0 }, { 4, 0 } }, 3, 'A' },
	/* (3 + 1) / 3 > (0 + 1) / 1 */
	{ "sed: (active + 1) / weight", XLVS_SCHED_SED, { 3, 1 }, { { 3, 0 }, { 0, 0 } }, 2, 'B' },
	{ "sed: inactive ignored", XLVS_SCHED_SED, { 1, 1 }, { { 1, 0 }, { 2, 900 } }, 2, 'A' },
	/* sed: 1/1 > 2/10 takes B; nq takes the idle A */
	{ "sed: the faster real though busy", XLVS_SCHED_SED, { 1, 10 }, { { 0, 0 }, { 1, 0 } }, 2, 'B' },
	{ "nq: an idle real first", XLVS_SCHED_NQ, { 1, 10 }, { { 0, 0 }, { 1, 0 } }, 2, 'A' },
	{ "nq: no idle real: as sed", XLVS_SCHED_NQ, { 1, 10 }, { { 1, 0 }, { 2, 0 } }, 2, 'B' },
	{ "nq: an idle real at weight 0 is not taken",
	  XLVS_SCHED_NQ,
	  { 0, 1 },
	  { { 0, 0 }, { 7, 0 } },
	  2,
	  'B' },
};

Test(sched, least_connection_choices)
{
	size_t i;
	int j, got;

	for (i = 0; i < sizeof(least_rows) / sizeof(least_rows[0]); i++) {
		const struct least_row *r = &least_rows[i];

		install(r->sched, 0, r->weights, r->nreals);
		for (j = 0; j < r->nreals; j++)
			set_load(j, r->load[j]);
		got = new_flow(CLIENT4, (uint16_t)(3000 + i));
		cr_expect_eq(got < 0 ? '-' : 'A' + got, r->want, "%s: got %c", r->name,
			     got < 0 ? '-' : 'A' + got);
	}
}

/* The scan covers every real up to XLVS_LEAST_MAX_REALS: the least loaded is the last one. */
Test(sched, least_scan_reaches_the_last_real)
{
	static const uint32_t weights[NREALS] = { 1, 1, 1, 1 };

	install(XLVS_SCHED_LC, 0, weights, NREALS);
	set_load(0, (struct load){ 3, 0 });
	set_load(1, (struct load){ 3, 0 });
	set_load(2, (struct load){ 3, 0 });
	set_load(3, (struct load){ 2, 9 });
	cr_expect_eq(new_flow(CLIENT4, 3500), 3);
}

/* One flow's packets and the counts of its real after each. */
static void send_tcp(uint16_t sport, uint8_t flags, uint32_t seq)
{
	send_from(CLIENT4, sport, flags, seq);
}

struct count_step {
	uint8_t tcp_flags;
	uint32_t seq;
	struct load want; /* real A's counts after the packet */
};

struct count_row {
	const char *name;
	uint8_t sched;
	struct count_step steps[5];
	int nsteps;
};

static const struct count_row count_rows[] = {
	{ "SYN inactive, ACK active, FIN inactive",
	  XLVS_SCHED_WLC,
	  { { TH_SYN, 1, { 0, 1 } },
	    { TH_ACK, 2, { 1, 0 } },
	    { TH_ACK, 3, { 1, 0 } },
	    { TH_FIN | TH_ACK, 4, { 0, 1 } } },
	  4 },
	{ "RST ends it too",
	  XLVS_SCHED_LC,
	  { { TH_SYN, 1, { 0, 1 } }, { TH_ACK, 2, { 1, 0 } }, { TH_RST, 3, { 0, 1 } } },
	  3 },
	{ "a retransmitted SYN counts once",
	  XLVS_SCHED_LC,
	  { { TH_SYN, 7, { 0, 1 } }, { TH_SYN, 7, { 0, 1 } } },
	  2 },
	{ "a new SYN on a closed entry: the old one goes",
	  XLVS_SCHED_LC,
	  { { TH_SYN, 1, { 0, 1 } },
	    { TH_ACK, 2, { 1, 0 } },
	    { TH_FIN, 3, { 0, 1 } },
	    { TH_SYN, 900, { 0, 1 } },
	    { TH_ACK, 901, { 1, 0 } } },
	  5 },
	{ "a SYN with a new ISN replaces the half-open entry",
	  XLVS_SCHED_LC,
	  { { TH_SYN, 1, { 0, 1 } }, { TH_SYN, 50, { 0, 1 } } },
	  2 },
	{ "maglev services are not counted",
	  XLVS_SCHED_MAGLEV,
	  { { TH_SYN, 1, { 0, 0 } }, { TH_ACK, 2, { 0, 0 } } },
	  2 },
};

Test(sched, data_path_keeps_counts)
{
	static const uint32_t one[1] = { 1 };
	size_t i;
	int j;

	for (i = 0; i < sizeof(count_rows) / sizeof(count_rows[0]); i++) {
		const struct count_row *r = &count_rows[i];

		install(r->sched, 0, one, 1);
		set_load(0, (struct load){ 0, 0 });
		for (j = 0; j < r->nsteps; j++) {
			struct load got;

			send_tcp((uint16_t)(4000 + i), r->steps[j].tcp_flags, r->steps[j].seq);
			got = get_load(0);
			cr_expect(got.active == r->steps[j].want.active &&
					  got.inactive == r->steps[j].want.inactive,
				  "%s: after packet %d: active %d inactive %d, want %d %d", r->name, j + 1,
				  got.active, got.inactive, r->steps[j].want.active,
				  r->steps[j].want.inactive);
		}
	}
}

/* UDP entries are inactive (IPVS counts them in InActConn), one per flow. */
Test(sched, udp_counts_inactive)
{
	static const uint32_t one[1] = { 1 };
	struct xlvs_svc_key k = { .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct pkt_spec p = {
		.family = 4, .proto = IPPROTO_UDP, .src = CLIENT4, .dst = VIP, .sport = 4500, .dport = 80
	};
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct xlvs_service s;
	size_t out_len;
	struct load got;

	install(XLVS_SCHED_LC, 0, one, 1);
	parse_addr(4, VIP, k.addr);
	cr_assert_eq(bpf_map_lookup_elem(MAP_FD(&w, xlvs_services), &k, &s), 0);
	k.proto = IPPROTO_UDP; /* the same service, for UDP */
	world_service_put(&w, &k, &s);
	set_load(0, (struct load){ 0, 0 });
	world_run(&w, in, pkt_build(&p, in), out, &out_len);
	world_run(&w, in, pkt_build(&p, in), out, &out_len);
	got = get_load(0);
	cr_expect(got.active == 0 && got.inactive == 1, "active %d inactive %d, want 0 1", got.active,
		  got.inactive);
}

/* Flows that complete their handshake spread as wlc says; the real whose flow ended is next. */
Test(sched, wlc_follows_its_own_counts)
{
	static const uint32_t weights[NREALS] = { 1, 1, 1 };
	char got[8];
	int i, r;

	install(XLVS_SCHED_WLC, 0, weights, 3);
	for (i = 0; i < 3; i++)
		set_load(i, (struct load){ 0, 0 });
	for (i = 0; i < 6; i++) {
		r = new_flow(CLIENT4, (uint16_t)(4100 + i));
		send_tcp((uint16_t)(4100 + i), TH_ACK, 2);
		got[i] = r < 0 ? '-' : (char)('A' + r);
	}
	got[6] = '\0';
	cr_expect_str_eq(got, "ABCABC");
	send_tcp(4101, TH_FIN | TH_ACK, 3); /* B's flow ends: B 1 active -> 0 active, 1 inactive */
	cr_expect_eq(new_flow(CLIENT4, 4200), 1, "B, whose flow ended, is least loaded");
}

/*
 * The SYN guard skips entries only where the scheduler is a function of the
 * flow: rr and wlc would send the handshake's ACK elsewhere without one.
 */
struct guard_row {
	const char *name;
	uint8_t sched;
	int want_entries; /* of 4 SYNs over the guard's rate of 1 */
};

static const struct guard_row guard_rows[] = {
	{ "maglev: the guard skips entries", XLVS_SCHED_MAGLEV, 1 },
	{ "sh: the guard skips entries", XLVS_SCHED_SH, 1 },
	{ "rr: every SYN inserted", XLVS_SCHED_RR, 4 },
	{ "wlc: every SYN inserted", XLVS_SCHED_WLC, 4 },
};

Test(sched, syn_guard_only_for_stateless_schedulers)
{
	static const uint32_t weights[NREALS] = { 1, 1, 1, 1 };
	struct xlvs_config cfg;
	size_t i;
	int j, entries;

	world_get_config(&w, &cfg);
	cfg.syn_guard_rate = 1;
	world_set_config(&w, &cfg);
	for (i = 0; i < sizeof(guard_rows) / sizeof(guard_rows[0]); i++) {
		struct xlvs_syn_window fresh[256] = { 0 }; /* each row begins a window */
		uint32_t zero = 0;

		cr_assert_eq(bpf_map_update_elem(MAP_FD(&w, xlvs_syn_guard), &zero, fresh, 0), 0);
		install(guard_rows[i].sched, 0, weights, NREALS);
		entries = 0;
		for (j = 0; j < 4; j++)
			entries += new_flow(CLIENT4, (uint16_t)(6000 + 10 * i + j)) >= 0;
		cr_expect_eq(entries, guard_rows[i].want_entries, "%s: %d entries", guard_rows[i].name,
			     entries);
	}
}

/* ---- lblc, lblcr ------------------------------------------------------------------- */

#define NO_ENTRY  ""
#define EXPIRE_S  60 /* the rows' sched_expire */
#define FRESH	  0  /* an entry's age, s */
#define OLD	  61 /* past EXPIRE_S */
#define GEN_STALE 1  /* the entry's generation is the real's + 1: its id was given to another real */

struct locality_row {
	const char *name;
	uint8_t sched;
	uint32_t weights[NREALS];
	struct load load[NREALS];
	int nreals;
	const char *entry; /* the destination's real (lblc) or set (lblcr) before the flow: "BC" */
	uint32_t used_age; /* s since the entry was used */
	uint32_t mod_age;  /* lblcr: s since its set changed */
	uint32_t gen_skew; /* added to the entry's generations */
	char want;	   /* the flow's real */
	const char *after; /* the entry after the flow */
};

/* IPVS is_overloaded(): active > weight while another real has active * 2 < weight. */
static const struct locality_row locality_rows[] = {
	{ "lblc: no entry: wlc picks, the destination keeps it",
	  XLVS_SCHED_LBLC,
	  { 1, 1, 1 },
	  { { 2, 0 }, { 1, 0 }, { 3, 0 } },
	  3,
	  NO_ENTRY,
	  FRESH,
	  FRESH,
	  0,
	  'B',
	  "B" },
	{ "lblc: the destination keeps its real though another is less loaded",
	  XLVS_SCHED_LBLC,
	  { 4, 4, 4 },
	  { { 0, 0 }, { 3, 0 }, { 0, 0 } },
	  3,
	  "B",
	  FRESH,
	  FRESH,
	  0,
	  'B',
	  "B" },
	{ "lblc: over its weight with a real below half: wlc's pick",
	  XLVS_SCHED_LBLC,
	  { 4, 4, 4 },
	  { { 2, 0 }, { 5, 0 }, { 1, 0 } },
	  3,
	  "B",
	  FRESH,
	  FRESH,
	  0,
	  'C',
	  "C" },
	{ "lblc: over its weight, no real below half (2 * 2 = 4): kept",
	  XLVS_SCHED_LBLC,
	  { 4, 4, 4 },
	  { { 2, 0 }, { 5, 0 }, { 2, 0 } },
	  3,
	  "B",
	  FRESH,
	  FRESH,
	  0,
	  'B',
	  "B" },
	{ "lblc: active equal to its weight is not overloaded",
	  XLVS_SCHED_LBLC,
	  { 4, 4, 4 },
	  { { 0, 0 }, { 4, 0 }, { 0, 0 } },
	  3,
	  "B",
	  FRESH,
	  FRESH,
	  0,
	  'B',
	  "B" },
	{ "lblc: idle past sched_expire: rescheduled",
	  XLVS_SCHED_LBLC,
	  { 1, 1, 1 },
	  { { 0, 0 }, { 1, 0 }, { 0, 0 } },
	  3,
	  "B",
	  OLD,
	  FRESH,
	  0,
	  'A',
	  "A" },
	{ "lblc: its real at weight 0: rescheduled",
	  XLVS_SCHED_LBLC,
	  { 1, 0, 1 },
	  { { 1, 0 }, { 0, 0 }, { 0, 0 } },
	  3,
	  "B",
	  FRESH,
	  FRESH,
	  0,
	  'C',
	  "C" },
	{ "lblc: its real's id given to another real: rescheduled",
	  XLVS_SCHED_LBLC,
	  { 1, 1, 1 },
	  { { 1, 0 }, { 0, 0 }, { 0, 0 } },
	  3,
	  "B",
	  FRESH,
	  FRESH,
	  GEN_STALE,
	  'B',
	  "B" },
	{ "lblcr: no set: wlc picks, the set holds it",
	  XLVS_SCHED_LBLCR,
	  { 1, 1, 1 },
	  { { 2, 0 }, { 1, 0 }, { 3, 0 } },
	  3,
	  NO_ENTRY,
	  FRESH,
	  FRESH,
	  0,
	  'B',
	  "B" },
	{ "lblcr: the set's least loaded member",
	  XLVS_SCHED_LBLCR,
	  { 4, 4, 4 },
	  { { 0, 0 }, { 3, 0 }, { 1, 0 } },
	  3,
	  "BC",
	  FRESH,
	  FRESH,
	  0,
	  'C',
	  "BC" },
	{ "lblcr: least loaded per weight (3/4 < 2/1)",
	  XLVS_SCHED_LBLCR,
	  { 1, 4, 1 },
	  { { 0, 0 }, { 3, 0 }, { 2, 0 } },
	  3,
	  "BC",
	  FRESH,
	  FRESH,
	  0,
	  'B',
	  "BC" },
	{ "lblcr: its least loaded overloaded: wlc's pick joins the set",
	  XLVS_SCHED_LBLCR,
	  { 4, 4, 4 },
	  { { 1, 0 }, { 5, 0 }, { 3, 0 } },
	  3,
	  "B",
	  FRESH,
	  FRESH,
	  0,
	  'A',
	  "BA" },
	{ "lblcr: over its weight, no real below half: kept",
	  XLVS_SCHED_LBLCR,
	  { 4, 4, 4 },
	  { { 2, 0 }, { 5, 0 }, { 3, 0 } },
	  3,
	  "B",
	  FRESH,
	  FRESH,
	  0,
	  'B',
	  "B" },
	{ "lblcr: weight-0 member skipped",
	  XLVS_SCHED_LBLCR,
	  { 1, 0, 1 },
	  { { 0, 0 }, { 0, 0 }, { 1, 0 } },
	  3,
	  "BC",
	  FRESH,
	  FRESH,
	  0,
	  'C',
	  "BC" },
	{ "lblcr: a weight-0 member's slot goes to wlc's pick",
	  XLVS_SCHED_LBLCR,
	  { 1, 0, 1 },
	  { { 0, 0 }, { 0, 0 }, { 2, 0 } },
	  3,
	  "BC",
	  FRESH,
	  FRESH,
	  0,
	  'A',
	  "AC" },
	{ "lblcr: no member serves: wlc's pick takes the stale slot",
	  XLVS_SCHED_LBLCR,
	  { 1, 1, 1 },
	  { { 0, 0 }, { 1, 0 }, { 2, 0 } },
	  3,
	  "C",
	  FRESH,
	  FRESH,
	  GEN_STALE,
	  'A',
	  "A" },
	{ "lblcr: unchanged past sched_expire: the most loaded member leaves",
	  XLVS_SCHED_LBLCR,
	  { 4, 4, 4 },
	  { { 0, 0 }, { 3, 0 }, { 1, 0 } },
	  3,
	  "BC",
	  FRESH,
	  OLD,
	  0,
	  'C',
	  "C" },
	{ "lblcr: idle past sched_expire: a new set",
	  XLVS_SCHED_LBLCR,
	  { 4, 4, 4 },
	  { { 0, 0 }, { 3, 0 }, { 1, 0 } },
	  3,
	  "BC",
	  OLD,
	  OLD,
	  0,
	  'A',
	  "A" },
};

static struct xlvs_svc_addr_key locality_key(void)
{
	struct xlvs_svc_addr_key k = { .svc_id = SVC_ID, .family = XLVS_AF_INET };

	parse_addr(4, VIP, k.addr);
	return k;
}

static uint32_t real_gen(int idx)
{
	struct xlvs_real r;

	world_get_real(&w, REAL0 + (uint32_t)idx, &r);
	return r.gen;
}

static void put_entry(const struct locality_row *row, uint32_t now, uint32_t hz)
{
	struct xlvs_svc_addr_key k = locality_key();
	int fd_c = MAP_FD(&w, xlvs_lblc), fd_r = MAP_FD(&w, xlvs_lblcr);
	struct xlvs_lblcr_set s = { .last_used = now - row->used_age * hz,
				    .last_modified = now - row->mod_age * hz };
	struct xlvs_lblc_dest d = { .last_used = s.last_used };
	size_t i;

	bpf_map_delete_elem(fd_c, &k);
	bpf_map_delete_elem(fd_r, &k);
	if (!row->entry[0])
		return;
	for (i = 0; row->entry[i]; i++) {
		s.m[i].real_id = REAL0 + (uint32_t)(row->entry[i] - 'A');
		s.m[i].real_gen = real_gen(row->entry[i] - 'A') + row->gen_skew;
	}
	s.n = (uint32_t)i;
	d.real_id = s.m[0].real_id;
	d.real_gen = s.m[0].real_gen;
	if (row->sched == XLVS_SCHED_LBLC)
		cr_assert_eq(bpf_map_update_elem(fd_c, &k, &d, 0), 0);
	else
		cr_assert_eq(bpf_map_update_elem(fd_r, &k, &s, 0), 0);
}

/* The destination's real or set as letters, "" when it has none. */
static void get_entry(uint8_t sched, char *out)
{
	struct xlvs_svc_addr_key k = locality_key();
	struct xlvs_lblcr_set s;
	struct xlvs_lblc_dest d;
	uint32_t i;

	out[0] = '\0';
	if (sched == XLVS_SCHED_LBLC) {
		if (!bpf_map_lookup_elem(MAP_FD(&w, xlvs_lblc), &k, &d))
			snprintf(out, 2, "%c", 'A' + (int)(d.real_id - REAL0));
		return;
	}
	if (bpf_map_lookup_elem(MAP_FD(&w, xlvs_lblcr), &k, &s))
		return;
	for (i = 0; i < s.n && i < XLVS_LBLCR_SET_MAX; i++)
		out[i] = (char)('A' + (int)(s.m[i].real_id - REAL0));
	out[i] = '\0';
}

static void set_expire(uint32_t expire_s, uint32_t hz)
{
	struct xlvs_svc_key k = { .port = htons(80), .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	struct xlvs_service s;
	struct xlvs_config cfg;

	parse_addr(4, VIP, k.addr);
	cr_assert_eq(bpf_map_lookup_elem(MAP_FD(&w, xlvs_services), &k, &s), 0);
	s.sched_expire = expire_s;
	world_service_put(&w, &k, &s);
	world_get_config(&w, &cfg);
	cfg.hz = hz;
	world_set_config(&w, &cfg);
}

Test(sched, locality_choices)
{
	struct xlvs_jiffies j;
	char after[XLVS_LBLCR_SET_MAX + 1];
	uint32_t hz;
	size_t i;
	int k, got;

	cr_assert_eq(xlvs_hz(&hz), 0, "cannot tell the kernel's HZ");
	for (i = 0; i < sizeof(locality_rows) / sizeof(locality_rows[0]); i++) {
		const struct locality_row *r = &locality_rows[i];

		install(r->sched, 0, r->weights, r->nreals);
		set_expire(EXPIRE_S, hz);
		for (k = 0; k < r->nreals; k++)
			set_load(k, r->load[k]);
		cr_assert_eq(xlvs_jiffies_read(&j), 0, "cannot read jiffies");
		put_entry(r, (uint32_t)j.now, hz);
		got = new_flow(CLIENT4, (uint16_t)(6000 + i));
		cr_expect_eq(got < 0 ? '-' : 'A' + got, r->want, "%s: got %c", r->name,
			     got < 0 ? '-' : 'A' + got);
		get_entry(r->sched, after);
		cr_expect_str_eq(after, r->after, "%s: entry %s, want %s", r->name, after, r->after);
	}
}

/* sched_expire 0 is IPVS's default, 24 hours: a day-old assignment is gone, an hour-old one kept. */
Test(sched, locality_default_expiry)
{
	static const uint32_t weights[] = { 1, 1, 1 };
	struct locality_row r = { .sched = XLVS_SCHED_LBLC, .entry = "B" };
	struct xlvs_jiffies j;
	uint32_t hz;

	cr_assert_eq(xlvs_hz(&hz), 0, "cannot tell the kernel's HZ");
	install(XLVS_SCHED_LBLC, 0, weights, 3);
	set_expire(0, hz);
	cr_assert_eq(xlvs_jiffies_read(&j), 0, "cannot read jiffies");
	r.used_age = 3600;
	put_entry(&r, (uint32_t)j.now, hz);
	cr_expect_eq(new_flow(CLIENT4, 6100), 1, "an hour idle: kept");
	r.used_age = 24 * 3600 + 1;
	put_entry(&r, (uint32_t)j.now, hz);
	cr_expect_eq(new_flow(CLIENT4, 6101), 0, "a day idle: wlc's A");
}

/*
 * Schedulers pick before the forwarding method matters: with nat reals wlc
 * still goes by the counts, the flow is counted for its real and remembered
 * with its reply entry (bpf/nat.h), and the packet leaves for that real's
 * address and own port.
 */
Test(sched, wlc_with_nat_reals)
{
	static const uint32_t weights[NREALS] = { 1, 1, 1 };
	struct pkt_spec p = { .family = 4,
			      .proto = IPPROTO_TCP,
			      .src = CLIENT4,
			      .dst = VIP,
			      .sport = 40100,
			      .dport = 80,
			      .tcp_flags = TH_SYN,
			      .seq = 7 };
	struct xlvs_flow rev = { .proto = IPPROTO_TCP, .family = XLVS_AF_INET };
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct xlvs_nat_rev v;
	struct xlvs_real r;
	uint32_t dst;
	size_t out_len;
	int i;

	install(XLVS_SCHED_WLC, 0, weights, 3);
	for (i = 0; i < 3; i++) {
		world_get_real(&w, REAL0 + (uint32_t)i, &r);
		r.fwd = XLVS_FWD_NAT;
		r.port = htons(8080);
		world_set_real(&w, REAL0 + (uint32_t)i, &r);
	}
	set_load(0, (struct load){ 2, 0 });
	set_load(1, (struct load){ 1, 0 });
	set_load(2, (struct load){ 3, 0 });
	cr_assert_eq(world_run(&w, in, pkt_build(&p, in), out, &out_len), XDP_TX);
	memcpy(&dst, out + 14 + 16, 4); /* the IPv4 destination */
	parse_addr(4, real_addrs[1], rev.src);
	cr_expect_eq(dst, rev.src[0], "the packet goes to real B, the least loaded");
	cr_expect_eq(get_load(1).inactive, 1, "the SYN counted for real B");
	parse_addr(4, CLIENT4, rev.dst);
	rev.sport = htons(8080);
	rev.dport = htons(40100);
	cr_assert_eq(bpf_map_lookup_elem(MAP_FD(&w, xlvs_nat), &rev, &v), 0, "no reply entry for real B");
	cr_expect_eq(v.real_id, REAL0 + 1);
}
