// SPDX-License-Identifier: GPL-2.0
/*
 * A full connection table: an insert the map refuses is counted
 * (conn_insert_failed) and the packet is still forwarded to the real the ring
 * gives its flow. xlvs_conns is an LRU, which makes room by evicting, so the
 * test loads it as a plain hash of CONNS entries: full, it refuses inserts
 * (-E2BIG) as an LRU only does in corner cases (docs/reliability.md).
 */
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "world.h"

#define VIP    "198.18.0.10" /* std_svcs[SVC_DR4] */
#define CONNS  2	     /* the table's size */
#define FILLER 30000	     /* client ports of the flows that fill it */
#define PORT   40000	     /* the row's packet */

struct full_row {
	const char *name;
	int filled;	   /* flows inserted first, from FILLER on */
	uint8_t proto;	   /* of the row's packet */
	uint16_t sport;	   /* its client port */
	uint8_t tcp_flags; /* TCP only */
	uint64_t new, hit; /* conn_new and conn_hit it counts */
	uint64_t failed;   /* conn_insert_failed it counts */
	bool entry_after;  /* its flow has an entry afterwards */
};

static const struct full_row rows[] = {
	{ "room: a new TCP flow is inserted", 0, IPPROTO_TCP, PORT, TH_SYN, 1, 0, 0, true },
	{ "one left: a new TCP flow is inserted", CONNS - 1, IPPROTO_TCP, PORT, TH_SYN, 1, 0, 0, true },
	{ "full: a new TCP flow is forwarded and counted, not inserted", CONNS, IPPROTO_TCP, PORT, TH_SYN, 0,
	  0, 1, false },
	{ "full: a later packet of a refused flow is counted again", CONNS, IPPROTO_TCP, PORT, TH_ACK, 0, 0,
	  1, false },
	{ "full: a new UDP flow is forwarded and counted, not inserted", CONNS, IPPROTO_UDP, PORT, 0, 0, 0, 1,
	  false },
	{ "full: a known flow is a hit, nothing fails", CONNS, IPPROTO_TCP, FILLER, TH_ACK, 0, 1, 0, true },
};

static struct pkt_spec spec(uint8_t proto, uint16_t sport, uint8_t flags)
{
	struct pkt_spec s = { .family = 4,
			      .proto = proto,
			      .src = CLIENT4,
			      .dst = VIP,
			      .sport = sport,
			      .dport = proto == IPPROTO_TCP ? 80 : std_svcs[SVC_DR4_UDP].port,
			      .tcp_flags = flags,
			      .payload = 100 };

	return s;
}

/* Send s; it must leave (XDP_TX) for the real the ring gives its flow. */
static void forwarded(struct world *w, const struct pkt_spec *s, const char *name)
{
	static uint8_t in[PKT_MAX], out[PKT_MAX];
	int svc = s->proto == IPPROTO_TCP ? SVC_DR4 : SVC_DR4_UDP;
	size_t len = pkt_build(s, in), out_len;
	struct xlvs_flow f;
	uint8_t mac[6];
	int verdict;

	verdict = world_run(w, in, len, out, &out_len);
	cr_assert_eq(verdict, XDP_TX, "%s: port %u: verdict %d, want XDP_TX", name, s->sport, verdict);
	spec_flow(s, &f);
	real_mac(world_ring_pick(w, svc, &f), mac);
	cr_assert_arr_eq(out, mac, 6, "%s: port %u not sent to its ring's real", name, s->sport);
}

static void run_row(const struct full_row *r)
{
	struct world_opts o = { .conn_entries = CONNS, .conns_no_lru = true };
	struct pkt_spec s = spec(r->proto, r->sport, r->tcp_flags);
	uint64_t new0, hit0, failed0;
	struct xlvs_flow f;
	struct xlvs_conn c;
	struct world w;
	int i;

	world_open(&w, &o);
	world_std(&w);
	for (i = 0; i < r->filled; i++) {
		struct pkt_spec fill = spec(IPPROTO_TCP, (uint16_t)(FILLER + i), TH_SYN);

		forwarded(&w, &fill, r->name);
	}
	cr_assert_eq(world_event(&w, XLVS_EV_CONN_INSERT_FAILED), 0, "%s: filling failed", r->name);
	new0 = world_event(&w, XLVS_EV_CONN_NEW);
	hit0 = world_event(&w, XLVS_EV_CONN_HIT);
	failed0 = world_event(&w, XLVS_EV_CONN_INSERT_FAILED);
	forwarded(&w, &s, r->name);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_NEW) - new0, r->new, "%s: conn_new", r->name);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_HIT) - hit0, r->hit, "%s: conn_hit", r->name);
	cr_expect_eq(world_event(&w, XLVS_EV_CONN_INSERT_FAILED) - failed0, r->failed,
		     "%s: conn_insert_failed", r->name);
	spec_flow(&s, &f);
	cr_expect_eq(world_get_conn(&w, &f, &c), r->entry_after, "%s: entry afterwards", r->name);
	cr_expect_eq(world_drops_total(&w), 0, "%s: something was dropped", r->name);
	world_close(&w);
}

Test(mapfull, conn_table_full_table)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
}
