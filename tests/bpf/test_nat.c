// SPDX-License-Identifier: GPL-2.0
/*
 * VS-NAT and FULLNAT (bpf/nat.h) as a fixture table: one behaviour per row.
 * A forwarded or translated frame is compared byte for byte with the frame
 * pktgen builds for the addresses and ports it must carry, checksums computed
 * from scratch (RFC 1071), so every incremental update is checked against a
 * recomputation. The NAT services are standard ones turned nat or fullnat,
 * their ring on the first real only, so the real is known. Replies are routed
 * by bpf_fib_lookup in a private namespace whose neighbour is the client.
 */
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "netns.h"
#include "xlvs_lb.skel.h"
#include "xlvsmaps.h"

#define CPORT	    40000
#define VIP4	    "198.18.0.10" /* SVC_DR4 (tcp 80), SVC_DR4_UDP (udp 53) */
#define VIP6	    "2001:db8::10"
#define VIP_ANY4    "198.18.0.13" /* SVC_DR4_ANY: port 0 */
#define REAL4	    "198.18.1.1"  /* the first real of each */
#define REAL6	    "2001:db8:1::1"
#define REAL_ANY4   "198.18.1.4"
#define RPORT	    8080 /* the tcp services' real port */
#define POOL4	    "198.18.50.1"
#define POOL4B	    "198.18.50.2"
#define POOL6	    "2001:db8:50::1"
#define PPORT	    5555	    /* the standard pool's one port */
#define OTHER4	    "198.18.100.99" /* a client holding a pool port */
#define OTHER_PORT  1111
#define ROUTER4	    "198.18.200.1" /* a router on the path: sends ICMP errors */
#define ROUTER6	    "2001:db8:200::1"
#define MAC_V0	    "02:00:00:00:aa:00" /* veth0: replies come in and leave there */
#define MAC_V1	    "02:00:00:00:aa:01"
#define MAC_CLIENTS "02:00:00:00:cc:01" /* the neighbour entry of the clients */

#define TCP_(f, s, sp, d, dp) .family = f, .proto = IPPROTO_TCP, .src = s, .sport = sp, .dst = d, .dport = dp
#define UDP_(f, s, sp, d, dp) .family = f, .proto = IPPROTO_UDP, .src = s, .sport = sp, .dst = d, .dport = dp

enum nat_to {
	TO_REAL,   /* MACs: the real's resolved next hop */
	TO_CLIENT, /* MACs: the client's neighbour, from veth0 */
};

struct stamp_want;

struct nat_row {
	struct fixture f;
	struct pkt_spec want; /* the frame that must leave (rows checked by check_nat) */
	enum nat_to to;
	/* fullnat rows whose port is not fixed: the frame is checked with the port it carries */
	bool any_pool_port;
	/* replies: what becomes of the stamps planted by a setup_*_stamps_* (nat_refresh()) */
	const struct stamp_want *stamp;
};

/* The services turned nat or fullnat, and their first real's port. */
static const struct {
	int svc;
	uint16_t port;
} nat_svcs[] = {
	{ SVC_DR4, RPORT }, { SVC_DR4_UDP, 0 }, { SVC_DR6, RPORT }, { SVC_DR6_UDP, 0 }, { SVC_DR4_ANY, 0 },
};
#define NSVCS (sizeof(nat_svcs) / sizeof(nat_svcs[0]))

static void nat_srcs_add(struct world *w, const struct xlvs_real *r)
{
	struct xlvs_vip_key k = { .family = r->family };
	uint32_t n = 0;

	memcpy(k.addr, r->addr, sizeof(k.addr));
	bpf_map_lookup_elem(MAP_FD(w, xlvs_nat_srcs), &k, &n);
	n++;
	cr_assert_eq(bpf_map_update_elem(MAP_FD(w, xlvs_nat_srcs), &k, &n, 0), 0);
}

static void pool_put(struct world *w, uint32_t idx, const char *addr)
{
	struct xlvs_vip_key a = { .family = strchr(addr, ':') ? 6 : 4 };

	parse_addr(a.family, addr, a.addr);
	cr_assert_eq(bpf_map_update_elem(MAP_FD(w, xlvs_snat_pool), &idx, &a, 0), 0);
}

/* IPv4 pool [0, n4) from POOL4 on, IPv6 pool [8, 9), ports lo..hi. */
static void pool_set(struct world *w, int n4, uint16_t lo, uint16_t hi)
{
	struct xlvs_config c;

	pool_put(w, 0, POOL4);
	pool_put(w, 1, POOL4B);
	pool_put(w, 8, POOL6);
	world_get_config(w, &c);
	c.snat4_first = 0;
	c.snat4_count = (uint8_t)n4;
	c.snat6_first = 8;
	c.snat6_count = 1;
	c.snat_port_lo = lo;
	c.snat_port_hi = hi;
	world_set_config(w, &c);
}

static void nat_services(struct world *w, uint8_t fwd)
{
	static const uint32_t first_only[STD_REALS_MAX] = { 1, 0, 0, 0 };
	struct xlvs_config c;
	struct xlvs_real r;
	uint32_t id;
	size_t i;

	for (i = 0; i < NSVCS; i++) {
		world_set_weights(w, nat_svcs[i].svc, first_only);
		id = std_real_id(nat_svcs[i].svc, 0);
		world_get_real(w, id, &r);
		r.fwd = fwd;
		r.port = htons(nat_svcs[i].port);
		world_set_real(w, id, &r);
		nat_srcs_add(w, &r);
	}
	world_get_config(w, &c);
	c.flags |= XLVS_CFG_F_NAT;
	world_set_config(w, &c);
	pool_set(w, 1, PPORT, PPORT);
}

static void setup_nat(struct world *w)
{
	nat_services(w, XLVS_FWD_NAT);
}

static void setup_fullnat(struct world *w)
{
	nat_services(w, XLVS_FWD_FULLNAT);
}

/* ---- replies: reverse entries written as the forward path would have, a namespace for the FIB ---- */

struct rev_def {
	int svc;
	uint8_t family, proto;
	const char *real, *dst, *vip, *client;
	uint16_t rport, dport, vport, cport;
};

static const struct rev_def nat_revs[] = {
	{ SVC_DR4, 4, IPPROTO_TCP, REAL4, CLIENT4, VIP4, CLIENT4, RPORT, CPORT, 80, CPORT },
	{ SVC_DR4_UDP, 4, IPPROTO_UDP, REAL4, CLIENT4, VIP4, CLIENT4, 53, CPORT, 53, CPORT },
	{ SVC_DR6, 6, IPPROTO_TCP, REAL6, CLIENT6, VIP6, CLIENT6, RPORT, CPORT, 80, CPORT },
	{ SVC_DR6_UDP, 6, IPPROTO_UDP, REAL6, CLIENT6, VIP6, CLIENT6, 53, CPORT, 53, CPORT },
	{ SVC_DR4_ANY, 4, IPPROTO_TCP, REAL_ANY4, CLIENT4, VIP_ANY4, CLIENT4, 8443, CPORT, 8443, CPORT },
};

static const struct rev_def fullnat_revs[] = {
	{ SVC_DR4, 4, IPPROTO_TCP, REAL4, POOL4, VIP4, CLIENT4, RPORT, PPORT, 80, CPORT },
	{ SVC_DR4_UDP, 4, IPPROTO_UDP, REAL4, POOL4, VIP4, CLIENT4, 53, PPORT, 53, CPORT },
	{ SVC_DR6, 6, IPPROTO_TCP, REAL6, POOL6, VIP6, CLIENT6, RPORT, PPORT, 80, CPORT },
	{ SVC_DR6_UDP, 6, IPPROTO_UDP, REAL6, POOL6, VIP6, CLIENT6, 53, PPORT, 53, CPORT },
};

static void rev_key(const struct rev_def *d, struct xlvs_flow *k)
{
	memset(k, 0, sizeof(*k));
	k->family = d->family;
	k->proto = d->proto;
	parse_addr(d->family, d->real, k->src);
	parse_addr(d->family, d->dst, k->dst);
	k->sport = htons(d->rport);
	k->dport = htons(d->dport);
}

static void rev_value(struct world *w, const struct rev_def *d, struct xlvs_nat_rev *v)
{
	struct xlvs_real r;

	memset(v, 0, sizeof(*v));
	parse_addr(d->family, d->vip, v->vaddr);
	parse_addr(d->family, d->client, v->caddr);
	v->vport = htons(d->vport);
	v->cport = htons(d->cport);
	v->real_id = std_real_id(d->svc, 0);
	world_get_real(w, v->real_id, &r);
	v->real_gen = r.gen;
}

static void rev_put(struct world *w, const struct rev_def *d)
{
	struct xlvs_nat_rev v;
	struct xlvs_flow k;

	rev_key(d, &k);
	rev_value(w, d, &v);
	cr_assert_eq(bpf_map_update_elem(MAP_FD(w, xlvs_nat), &k, &v, 0), 0);
}

/* veth0 faces both the reals and the clients; the clients' neighbour entry is permanent. */
static void fib_namespace(struct world *w)
{
	netns_enter();
	netns_veth("veth0", MAC_V0, "veth1", MAC_V1);
	netns_forwarding("veth0");
	netns_run("ip addr add 198.18.100.254/24 dev veth0");
	netns_run("ip -6 addr add 2001:db8:100::fe/64 dev veth0 nodad");
	netns_run("ip neigh replace " CLIENT4 " lladdr " MAC_CLIENTS " nud permanent dev veth0");
	netns_run("ip -6 neigh replace " CLIENT6 " lladdr " MAC_CLIENTS " nud permanent dev veth0");
	w->ifindex = netns_ifindex("veth0");
}

static void setup_nat_replies(struct world *w)
{
	size_t i;

	setup_nat(w);
	for (i = 0; i < sizeof(nat_revs) / sizeof(nat_revs[0]); i++)
		rev_put(w, &nat_revs[i]);
	fib_namespace(w);
}

static void setup_fullnat_replies(struct world *w)
{
	size_t i;

	setup_fullnat(w);
	for (i = 0; i < sizeof(fullnat_revs) / sizeof(fullnat_revs[0]); i++)
		rev_put(w, &fullnat_revs[i]);
	fib_namespace(w);
}

/* The tcp4 reply's real given to another real since (its generation bumped). */
static void setup_nat_replies_stale(struct world *w)
{
	struct xlvs_real r;

	setup_nat_replies(w);
	world_get_real(w, std_real_id(SVC_DR4, 0), &r);
	r.gen++;
	world_set_real(w, std_real_id(SVC_DR4, 0), &r);
}

static void setup_nat_replies_flag_off(struct world *w)
{
	struct xlvs_config c;

	setup_nat_replies(w);
	world_get_config(w, &c);
	c.flags &= ~XLVS_CFG_F_NAT;
	world_set_config(w, &c);
}

/* ---- replies keep their forward entry alive: stamps planted for every reply entry ---- */

#define STAMP_AGE 2 /* s: a stamp this old is due (stamp_due(): one second), far from any lifetime */

/* What a setup planted: the stamps' ages (s) and the forward entries (none, or another connection's). */
struct plant {
	uint32_t rev_age, fwd_age;
	bool no_forward;
	uint32_t gen_skew;  /* the forward entry names the real's generation + this */
	uint16_t port_skew; /* fullnat: the forward entry's pool port is the reply's + this */
	uint32_t udp_s;	    /* not 0: the UDP lifetime (s) */
};

static const struct plant plant_due = { .rev_age = STAMP_AGE, .fwd_age = STAMP_AGE };
static const struct plant plant_fresh = { .rev_age = 0, .fwd_age = STAMP_AGE };
static const struct plant plant_no_forward = { .rev_age = STAMP_AGE, .no_forward = true };
static const struct plant plant_other_gen = { .rev_age = STAMP_AGE, .fwd_age = STAMP_AGE, .gen_skew = 1 };
static const struct plant plant_other_port = { .rev_age = STAMP_AGE, .fwd_age = STAMP_AGE, .port_skew = 1 };
static const struct plant plant_expired = { .rev_age = STAMP_AGE, .fwd_age = STAMP_AGE, .udp_s = 1 };

static const struct plant *planted;
static uint32_t hz, t0; /* the kernel's HZ; jiffies when the entries were planted */

static uint32_t jiffies_now(void)
{
	struct xlvs_jiffies j;

	cr_assert_eq(xlvs_jiffies_read(&j), 0, "cannot read jiffies");
	return j.now;
}

/* d's forward entry as the flow's client packets would have left it (TCP: still in SYN, a reply must not move it). */
static void fwd_entry(struct world *w, const struct rev_def *d, struct xlvs_flow *f, struct xlvs_conn *c)
{
	bool fullnat = strcmp(d->dst, d->client) != 0;
	struct xlvs_real r;

	memset(f, 0, sizeof(*f));
	f->family = d->family;
	f->proto = d->proto;
	parse_addr(d->family, d->client, f->src);
	parse_addr(d->family, d->vip, f->dst);
	f->sport = htons(d->cport);
	f->dport = htons(d->vport);
	memset(c, 0, sizeof(*c));
	c->real_id = std_real_id(d->svc, 0);
	world_get_real(w, c->real_id, &r);
	c->real_gen = r.gen + planted->gen_skew;
	c->last_seen = t0 - planted->fwd_age * hz;
	c->state = d->proto == IPPROTO_TCP ? XLVS_CONN_SYN : XLVS_CONN_OPEN;
	c->snat_idx = fullnat && d->family == 6 ? 8 : 0;
	c->snat_port = fullnat ? htons((uint16_t)(d->dport + planted->port_skew)) : 0;
}

/* The clock on (the kernel's HZ, default lifetimes), every reply entry of revs stamped, its forward entry planted. */
static void plant_stamps(struct world *w, const struct rev_def *revs, size_t n, const struct plant *pl)
{
	struct xlvs_nat_rev v;
	struct xlvs_flow k, f;
	struct xlvs_conn c;
	struct xlvs_config cfg;
	size_t i;

	planted = pl;
	cr_assert_eq(xlvs_hz(&hz), 0, "cannot tell the kernel's HZ");
	world_set_clock(w, hz);
	if (pl->udp_s) {
		world_get_config(w, &cfg);
		cfg.timeout[XLVS_TO_UDP] = pl->udp_s;
		world_set_config(w, &cfg);
	}
	t0 = jiffies_now();
	for (i = 0; i < n; i++) {
		rev_key(&revs[i], &k);
		rev_value(w, &revs[i], &v);
		v.last_seen = t0 - pl->rev_age * hz;
		cr_assert_eq(bpf_map_update_elem(MAP_FD(w, xlvs_nat), &k, &v, 0), 0);
		if (pl->no_forward)
			continue;
		fwd_entry(w, &revs[i], &f, &c);
		world_put_conn(w, &f, &c);
	}
}

#define SETUP_STAMPS(fwd, revs, pl)                                                                          \
	static void setup_##fwd##_stamps_##pl(struct world *w)                                               \
	{                                                                                                    \
		setup_##fwd##_replies(w);                                                                    \
		plant_stamps(w, revs, sizeof(revs) / sizeof(revs[0]), &plant_##pl);                          \
	}
SETUP_STAMPS(nat, nat_revs, due)
SETUP_STAMPS(nat, nat_revs, fresh)
SETUP_STAMPS(nat, nat_revs, no_forward)
SETUP_STAMPS(nat, nat_revs, other_gen)
SETUP_STAMPS(nat, nat_revs, expired)
SETUP_STAMPS(fullnat, fullnat_revs, due)
SETUP_STAMPS(fullnat, fullnat_revs, other_port)

/* ---- fullnat allocation: a pool port held by another client's connection ---- */

/* OTHER4:OTHER_PORT's connection through SVC_DR4 on POOL4:port: both entries. */
static void hold_pool_port(struct world *w, uint16_t port, bool with_forward, uint32_t gen_skew)
{
	const struct rev_def d = { SVC_DR4, 4,	   IPPROTO_TCP, REAL4, POOL4,	  VIP4,
				   OTHER4,  RPORT, port,	80,    OTHER_PORT };
	struct xlvs_conn c = { .real_id = std_real_id(SVC_DR4, 0), .snat_port = htons(port) };
	struct xlvs_flow f = { .family = 4, .proto = IPPROTO_TCP };
	struct xlvs_real r;

	rev_put(w, &d);
	if (!with_forward)
		return;
	world_get_real(w, c.real_id, &r);
	c.real_gen = r.gen + gen_skew;
	parse_addr(4, OTHER4, f.src);
	parse_addr(4, VIP4, f.dst);
	f.sport = htons(OTHER_PORT);
	f.dport = htons(80);
	world_put_conn(w, &f, &c);
}

static void setup_fullnat_held(struct world *w)
{
	setup_fullnat(w);
	hold_pool_port(w, PPORT, true, 0);
}

static void setup_fullnat_held_stale_gen(struct world *w)
{
	setup_fullnat(w);
	hold_pool_port(w, PPORT, true, 1);
}

static void setup_fullnat_held_no_forward(struct world *w)
{
	setup_fullnat(w);
	hold_pool_port(w, PPORT, false, 0);
}

/* Its forward entry idle past its lifetime (hz 100, tcp 1 s, last seen at jiffies 0). */
static void setup_fullnat_held_expired(struct world *w)
{
	struct xlvs_config c;

	setup_fullnat_held(w);
	world_get_config(w, &c);
	c.hz = 100;
	c.timeout[XLVS_TO_TCP] = 1;
	world_set_config(w, &c);
}

/* Ports 5555..5556; try 0 of the row's flow lands on 5555 (see the row), held live. */
static void setup_fullnat_two_ports_first_held(struct world *w)
{
	setup_fullnat(w);
	pool_set(w, 1, PPORT, PPORT + 1);
	hold_pool_port(w, PPORT, true, 0);
}

static void setup_fullnat_wide(struct world *w)
{
	setup_fullnat(w);
	pool_set(w, 2, 20000, 20099);
}

static void setup_fullnat_no_pool6(struct world *w)
{
	struct xlvs_config c;

	setup_fullnat(w);
	world_get_config(w, &c);
	c.snat6_count = 0;
	world_set_config(w, &c);
}

static void setup_nat_real6_for_v4(struct world *w)
{
	struct xlvs_real r;

	setup_nat(w);
	world_get_real(w, std_real_id(SVC_DR4, 0), &r);
	r.family = 6;
	parse_addr(6, REAL6, r.addr);
	world_set_real(w, std_real_id(SVC_DR4, 0), &r);
}

/* The client's fullnat flows through SVC_DR4 and SVC_DR6, on the pool's address and port. */
static void setup_fullnat_flows(struct world *w)
{
	static const struct {
		int svc;
		uint8_t family;
		const char *client, *vip;
	} flows[] = { { SVC_DR4, 4, CLIENT4, VIP4 }, { SVC_DR6, 6, CLIENT6, VIP6 } };
	struct xlvs_real r;
	size_t i;

	setup_fullnat(w);
	for (i = 0; i < 2; i++) {
		struct xlvs_flow f = { .family = flows[i].family,
				       .proto = IPPROTO_TCP,
				       .sport = htons(CPORT),
				       .dport = htons(80) };
		struct xlvs_conn c = { .real_id = std_real_id(flows[i].svc, 0),
				       .snat_idx = flows[i].family == 4 ? 0 : 8,
				       .snat_port = htons(PPORT) };

		world_get_real(w, c.real_id, &r);
		c.real_gen = r.gen;
		parse_addr(f.family, flows[i].client, f.src);
		parse_addr(f.family, flows[i].vip, f.dst);
		world_put_conn(w, &f, &c);
	}
}

/* ---- checks ---- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The frame must be the one pktgen builds for want (checksums from scratch), MACs as the row says. */
static void expect_frame(const struct nat_row *r, const struct pkt_spec *want, const uint8_t *out,
			 size_t out_len)
{
	static uint8_t exp[PKT_MAX];
	size_t len = pkt_build(want, exp), i;

	if (r->to == TO_REAL) {
		real_mac(std_real_id(r->f.svc, 0), exp);
		memcpy(exp + 6, MAC_LB, 6);
	} else {
		parse_mac(MAC_CLIENTS, exp);
		parse_mac(MAC_V0, exp + 6);
	}
	cr_assert_eq(out_len, len, "%s: length %zu, want %zu", r->f.name, out_len, len);
	for (i = 0; i < len && out[i] == exp[i]; i++)
		;
	cr_expect_eq(i, len, "%s: byte %zu is 0x%02x, want 0x%02x", r->f.name, i, i < len ? out[i] : 0,
		     i < len ? exp[i] : 0);
}

/* A new flow's entries: forward (with its fullnat source) and reverse, naming the first real. */
static void expect_entries(struct world *w, const struct nat_row *r, const struct pkt_spec *want)
{
	struct xlvs_flow fwd, out, rev;
	struct xlvs_nat_rev v;
	struct xlvs_conn c;
	struct xlvs_real real;
	uint32_t id = std_real_id(r->f.svc, 0);

	spec_flow(&r->f.pkt, &fwd);
	cr_assert(world_get_conn(w, &fwd, &c), "%s: no forward entry", r->f.name);
	world_get_real(w, id, &real);
	cr_expect(c.real_id == id && c.real_gen == real.gen, "%s: forward entry's real", r->f.name);
	if (real.fwd == XLVS_FWD_FULLNAT)
		cr_expect_eq(ntohs(c.snat_port), want->sport, "%s: forward entry's pool port", r->f.name);
	else
		cr_expect(c.snat_port == 0 && c.snat_idx == 0, "%s: nat entry without pool source",
			  r->f.name);

	/* keyed by the reply the real will send: want reversed */
	spec_flow(want, &out);
	memset(&rev, 0, sizeof(rev));
	rev.family = out.family;
	rev.proto = out.proto;
	memcpy(rev.src, out.dst, sizeof(rev.src));
	memcpy(rev.dst, out.src, sizeof(rev.dst));
	rev.sport = out.dport;
	rev.dport = out.sport;
	cr_assert_eq(bpf_map_lookup_elem(MAP_FD(w, xlvs_nat), &rev, &v), 0, "%s: no reverse entry",
		     r->f.name);
	cr_expect_eq(memcmp(v.vaddr, fwd.dst, 16), 0, "%s: reverse entry's VIP", r->f.name);
	cr_expect_eq(memcmp(v.caddr, fwd.src, 16), 0, "%s: reverse entry's client", r->f.name);
	cr_expect(v.vport == fwd.dport && v.cport == fwd.sport, "%s: reverse entry's ports", r->f.name);
	cr_expect(v.real_id == id && v.real_gen == real.gen, "%s: reverse entry's real", r->f.name);
	/* stamped when written, a tick at most before the forward entry (nat_new() writes it first) */
	cr_expect(c.last_seen - v.last_seen <= 1, "%s: reverse entry stamped %u, forward entry %u", r->f.name,
		  v.last_seen, c.last_seen);
}

static struct xlvs_counters svc_out(struct world *w, uint32_t id)
{
	return world_stripes(w, MAP_FD(w, xlvs_svc_out), XLVS_SVC_STATS_STRIDE, id);
}

static struct xlvs_counters real_out(struct world *w, uint32_t id)
{
	return world_stripes(w, MAP_FD(w, xlvs_real_out), XLVS_REAL_STATS_STRIDE, id);
}

/* Out packets counted for every standard service, and for every id their reals may have. */
static void out_totals(struct world *w, uint64_t *svc, uint64_t *real)
{
	uint32_t id;

	*svc = *real = 0;
	for (id = 0; id < STD_SVC_MAX; id++)
		*svc += svc_out(w, id).packets;
	for (id = 0; id < STD_SVC_MAX * STD_REALS_MAX; id++)
		*real += real_out(w, id).packets;
}

static void expect_no_out(struct world *w, const char *name)
{
	uint64_t svc, real;

	out_totals(w, &svc, &real);
	cr_expect(svc == 0 && real == 0, "%s: %lu service and %lu real out packets counted, want none", name,
		  (unsigned long)svc, (unsigned long)real);
}

/* A translated reply (or error on its way): one out packet of its frame's length, its real's and service's only. */
static void expect_reply_counted(struct world *w, const struct fixture *f, size_t in_len)
{
	struct xlvs_counters sc = svc_out(w, (uint32_t)f->svc);
	struct xlvs_counters rc = real_out(w, std_real_id(f->svc, 0));
	uint64_t svc, real;

	cr_expect(sc.packets == 1 && sc.bytes == in_len && sc.new_flows == 0,
		  "%s: service out counters %lu packets %lu bytes %lu flows, want 1 %zu 0", f->name,
		  (unsigned long)sc.packets, (unsigned long)sc.bytes, (unsigned long)sc.new_flows, in_len);
	cr_expect(rc.packets == 1 && rc.bytes == in_len && rc.new_flows == 0,
		  "%s: real out counters %lu packets %lu bytes %lu flows, want 1 %zu 0", f->name,
		  (unsigned long)rc.packets, (unsigned long)rc.bytes, (unsigned long)rc.new_flows, in_len);
	out_totals(w, &svc, &real);
	cr_expect(svc == 1 && real == 1, "%s: %lu service and %lu real out packets in all, want 1 and 1",
		  f->name, (unsigned long)svc, (unsigned long)real);
	/* the service's and real's forward counters are the clients' packets: a reply is not one */
	cr_expect_eq(world_svc_stats(w, (uint32_t)f->svc).packets, 0, "%s: reply counted forward", f->name);
	cr_expect_eq(world_real_stats(w, std_real_id(f->svc, 0)).packets, 0, "%s: reply counted forward",
		     f->name);
}

static void check_no_out(struct world *w, const struct fixture *f, const uint8_t *in, size_t in_len,
			 const uint8_t *out, size_t out_len)
{
	(void)in, (void)in_len, (void)out, (void)out_len;
	expect_no_out(w, f->name);
}

/* A stamp after the reply: as planted, or the reply's time. */
enum stamp_after {
	STAMP_KEPT,
	STAMP_NOW,
	STAMP_NO_ENTRY, /* the forward entry: none (none was planted, none was made) */
};

struct stamp_want {
	const struct rev_def *def; /* the reply's entry */
	enum stamp_after fwd, rev;
};

static void expect_stamp(const char *name, const char *what, uint32_t got, enum stamp_after want,
			 uint32_t age, uint32_t t1)
{
	if (want == STAMP_KEPT)
		cr_expect_eq(got, t0 - age * hz, "%s: %s stamp %u, want %u as planted (%u s before %u)", name,
			     what, got, t0 - age * hz, age, t0);
	else
		cr_expect(got - t0 <= t1 - t0, "%s: %s stamp %u, want the reply's time, %u..%u", name, what,
			  got, t0, t1);
}

/* The reply's forward and reverse entries after it: stamps as the row says, nothing else changed. */
static void check_stamps(struct world *w, const struct nat_row *r)
{
	const struct stamp_want *s = r->stamp;
	uint32_t t1 = jiffies_now();
	struct xlvs_conn c, planted_c;
	struct xlvs_flow f, k;
	struct xlvs_nat_rev v, planted_v;

	fwd_entry(w, s->def, &f, &planted_c);
	if (s->fwd == STAMP_NO_ENTRY) {
		cr_expect(!world_get_conn(w, &f, &c), "%s: a forward entry was made", r->f.name);
	} else {
		cr_assert(world_get_conn(w, &f, &c), "%s: the forward entry is gone", r->f.name);
		expect_stamp(r->f.name, "forward entry's", c.last_seen, s->fwd, planted->fwd_age, t1);
		c.last_seen = planted_c.last_seen;
		cr_expect_eq(memcmp(&c, &planted_c, sizeof(c)), 0,
			     "%s: the forward entry changed (state %u, was %u)", r->f.name, c.state,
			     planted_c.state);
	}
	rev_key(s->def, &k);
	rev_value(w, s->def, &planted_v);
	cr_assert_eq(bpf_map_lookup_elem(MAP_FD(w, xlvs_nat), &k, &v), 0, "%s: no reverse entry", r->f.name);
	expect_stamp(r->f.name, "reverse entry's", v.last_seen, s->rev, planted->rev_age, t1);
	planted_v.last_seen = v.last_seen;
	cr_expect_eq(memcmp(&v, &planted_v, sizeof(v)), 0, "%s: the reverse entry changed", r->f.name);
}

static void check_nat(struct world *w, const struct fixture *f, const uint8_t *in, size_t in_len,
		      const uint8_t *out, size_t out_len)
{
	const struct nat_row *r = (const struct nat_row *)((const char *)f - offsetof(struct nat_row, f));
	struct pkt_spec want = r->want;
	struct xlvs_counters sc, rc;

	if (r->any_pool_port) {
		uint32_t a, b, src;

		cr_assert_geq(out_len, 14 + 20 + 4, "%s: short frame", f->name);
		memcpy(&src, out + 14 + 12, 4);
		parse_addr(4, POOL4, &a);
		parse_addr(4, POOL4B, &b);
		cr_expect(src == a || src == b, "%s: source not from the pool", f->name);
		want.src = src == b ? POOL4B : POOL4;
		want.sport = get16(out + 34);
		cr_expect(want.sport >= 20000 && want.sport <= 20099, "%s: pool port %u out of range",
			  f->name, want.sport);
	}
	expect_frame(r, &want, out, out_len);
	if (r->to != TO_REAL) {
		expect_reply_counted(w, f, in_len);
		if (r->stamp)
			check_stamps(w, r);
		return;
	}
	expect_no_out(w, f->name);
	if (!f->pkt.quote) /* an ICMP error creates no flow */
		expect_entries(w, r, &want);
	sc = world_svc_stats(w, (uint32_t)f->svc);
	rc = world_real_stats(w, std_real_id(f->svc, 0));
	cr_expect(sc.packets == 1 && sc.bytes == in_len && sc.new_flows == !f->pkt.quote,
		  "%s: service counters", f->name);
	cr_expect(rc.packets == 1 && rc.new_flows == !f->pkt.quote, "%s: real counters", f->name);
	(void)in;
}

/* Nothing written for a refused flow, and the holder's entry kept. */
static void check_nothing_written(struct world *w, const struct fixture *f, const uint8_t *in, size_t in_len,
				  const uint8_t *out, size_t out_len)
{
	struct xlvs_flow fwd;
	struct xlvs_conn c;

	(void)in, (void)in_len, (void)out, (void)out_len;
	spec_flow(&f->pkt, &fwd);
	cr_expect(!world_get_conn(w, &fwd, &c), "%s: a forward entry was written", f->name);
}

/* Quoted packets: what the error is about, before and after the translation. */
static const struct pkt_spec q_vip4 = { TCP_(4, VIP4, 80, CLIENT4, CPORT), .payload = 64 };
static const struct pkt_spec q_real4 = { TCP_(4, REAL4, RPORT, CLIENT4, CPORT), .payload = 64 };
static const struct pkt_spec q_real4_pool = { TCP_(4, REAL4, RPORT, POOL4, PPORT), .payload = 64 };
static const struct pkt_spec q_vip6 = { TCP_(6, VIP6, 80, CLIENT6, CPORT), .payload = 64 };
static const struct pkt_spec q_real6 = { TCP_(6, REAL6, RPORT, CLIENT6, CPORT), .payload = 64 };
static const struct pkt_spec q_real6_pool = { TCP_(6, REAL6, RPORT, POOL6, PPORT), .payload = 64 };
static const struct pkt_spec q_to_real4_udp = { UDP_(4, CLIENT4, CPORT, REAL4, 53), .payload = 20 };
static const struct pkt_spec q_to_vip4_udp = { UDP_(4, CLIENT4, CPORT, VIP4, 53), .payload = 20 };
static const struct pkt_spec q_to_real4_udp0 = { UDP_(4, CLIENT4, CPORT, REAL4, 53), .udp_nocsum = true };
static const struct pkt_spec q_to_vip4_udp0 = { UDP_(4, CLIENT4, CPORT, VIP4, 53), .udp_nocsum = true };
static const struct pkt_spec q_pool4_to_real = { TCP_(4, POOL4, PPORT, REAL4, RPORT), .payload = 64 };
static const struct pkt_spec q_to_vip4 = { TCP_(4, CLIENT4, CPORT, VIP4, 80), .payload = 64 };
static const struct pkt_spec q_to_real6_udp = { UDP_(6, CLIENT6, CPORT, REAL6, 53), .payload = 20 };
static const struct pkt_spec q_to_vip6_udp = { UDP_(6, CLIENT6, CPORT, VIP6, 53), .payload = 20 };
static const struct pkt_spec q_pool6_to_real = { TCP_(6, POOL6, PPORT, REAL6, RPORT), .payload = 64 };
static const struct pkt_spec q_to_vip6 = { TCP_(6, CLIENT6, CPORT, VIP6, 80), .payload = 64 };
static const struct pkt_spec q_unknown4 = { TCP_(4, CLIENT4, CPORT + 1, REAL4, RPORT), .payload = 64 };

/* type, code as one argument (FRAG_NEEDED): expanded before the inner macro splits it */
#define ICMP_SPEC(f, pr, s, d, t, c, q)                                                                      \
	.family = f, .proto = pr, .src = s, .dst = d, .icmp_type = t, .icmp_code = c, .quote = q
#define ICMP_SPEC_(...)	    ICMP_SPEC(__VA_ARGS__)
#define ICMP4_(s, d, tc, q) ICMP_SPEC_(4, IPPROTO_ICMP, s, d, tc, q)
#define ICMP6_(s, d, tc, q) ICMP_SPEC_(6, IPPROTO_ICMPV6, s, d, tc, q)
#define FRAG_NEEDED	    3, 4 /* ICMP destination unreachable, fragmentation needed */
#define PORT_UNREACH	    3, 3
#define PKT_TOO_BIG	    2, 0 /* ICMPv6 */
#define PORT_UNREACH6	    1, 4
#define NAT_ICMP_FWD(s)                                                                                      \
	.svc = s, .verdict = XDP_TX, .out = OUT_CUSTOM, .check = check_nat, EVENT(ICMP_ERR_NAT)
/* s: the service whose reply it is (its out counters) */
#define NAT_ICMP_REPLY(s)                                                                                    \
	.svc = s, .verdict = XDP_TX, .out = OUT_CUSTOM, .check = check_nat, EVENT(ICMP_ERR_NAT)

#define NAT_FWD(s)   .svc = s, .verdict = XDP_TX, .out = OUT_CUSTOM, .check = check_nat, EVENT(CONN_NEW)
#define NAT_REPLY(s) .svc = s, .verdict = XDP_TX, .out = OUT_CUSTOM, .check = check_nat, EVENT(NAT_REPLY)
#define PASSED(ev)   .verdict = XDP_PASS, .out = OUT_SAME, EVENT(ev)
#define DROPPED(r)   .verdict = XDP_DROP, .out = OUT_SAME, DROP(r)
#define SYN	     .tcp_flags = TH_SYN
#define TO(...)	     .want = { __VA_ARGS__ }
/* def: the reply's entry, nat_revs[i] or fullnat_revs[i] */
#define STAMPS(def, fwd, rev)                                                                                \
	.stamp = &(const struct stamp_want)                                                                  \
	{                                                                                                    \
		&def, STAMP_##fwd, STAMP_##rev                                                               \
	}

static const struct nat_row rows[] = {
	/* ---- nat forward: destination the real (and its port), checksums updated ---- */
	{ .f = { "nat4 tcp syn: real address and port",
		 { TCP_(4, CLIENT4, CPORT, VIP4, 80), SYN },
		 NAT_FWD(SVC_DR4),
		 .setup = setup_nat },
	  TO(TCP_(4, CLIENT4, CPORT, REAL4, RPORT), SYN) },
	{ .f = { "nat4 tcp data",
		 { TCP_(4, CLIENT4, CPORT, VIP4, 80), .payload = 999 },
		 NAT_FWD(SVC_DR4),
		 .setup = setup_nat },
	  TO(TCP_(4, CLIENT4, CPORT, REAL4, RPORT), .payload = 999) },
	{ .f = { "nat4 tcp on vlan with options",
		 { TCP_(4, CLIENT4, CPORT, VIP4, 80), .vlan = 7, .ip4_opt = 8, .payload = 10 },
		 NAT_FWD(SVC_DR4),
		 .setup = setup_nat },
	  TO(TCP_(4, CLIENT4, CPORT, REAL4, RPORT), .vlan = 7, .ip4_opt = 8, .payload = 10) },
	{ .f = { "nat4 udp keeps its port (real port 0)",
		 { UDP_(4, CLIENT4, CPORT, VIP4, 53), .payload = 33 },
		 NAT_FWD(SVC_DR4_UDP),
		 .setup = setup_nat },
	  TO(UDP_(4, CLIENT4, CPORT, REAL4, 53), .payload = 33) },
	{ .f = { "nat4 udp without checksum stays without",
		 { UDP_(4, CLIENT4, CPORT, VIP4, 53), .payload = 33, .udp_nocsum = true },
		 NAT_FWD(SVC_DR4_UDP),
		 .setup = setup_nat },
	  TO(UDP_(4, CLIENT4, CPORT, REAL4, 53), .payload = 33, .udp_nocsum = true) },
	{ .f = { "nat4 udp zero data",
		 { UDP_(4, CLIENT4, CPORT, VIP4, 53), .payload = 7, .zero_fill = true },
		 NAT_FWD(SVC_DR4_UDP),
		 .setup = setup_nat },
	  TO(UDP_(4, CLIENT4, CPORT, REAL4, 53), .payload = 7, .zero_fill = true) },
	{ .f = { "nat4 port-0 service keeps the port",
		 { TCP_(4, CLIENT4, CPORT, VIP_ANY4, 8443), SYN },
		 NAT_FWD(SVC_DR4_ANY),
		 .setup = setup_nat },
	  TO(TCP_(4, CLIENT4, CPORT, REAL_ANY4, 8443), SYN) },
	{ .f = { "nat6 tcp syn: real address and port",
		 { TCP_(6, CLIENT6, CPORT, VIP6, 80), SYN },
		 NAT_FWD(SVC_DR6),
		 .setup = setup_nat },
	  TO(TCP_(6, CLIENT6, CPORT, REAL6, RPORT), SYN) },
	{ .f = { "nat6 tcp with extension headers",
		 { TCP_(6, CLIENT6, CPORT, VIP6, 80), .ext = { EXT_HOP, EXT_DSTOPTS }, .payload = 301 },
		 NAT_FWD(SVC_DR6),
		 .setup = setup_nat },
	  TO(TCP_(6, CLIENT6, CPORT, REAL6, RPORT), .ext = { EXT_HOP, EXT_DSTOPTS }, .payload = 301) },
	{ .f = { "nat6 udp",
		 { UDP_(6, CLIENT6, CPORT, VIP6, 53), .payload = 100 },
		 NAT_FWD(SVC_DR6_UDP),
		 .setup = setup_nat },
	  TO(UDP_(6, CLIENT6, CPORT, REAL6, 53), .payload = 100) },
	{ .f = { "nat6 udp zero data odd length",
		 { UDP_(6, CLIENT6, CPORT, VIP6, 53), .payload = 1, .zero_fill = true },
		 NAT_FWD(SVC_DR6_UDP),
		 .setup = setup_nat },
	  TO(UDP_(6, CLIENT6, CPORT, REAL6, 53), .payload = 1, .zero_fill = true) },

	/* ---- fullnat forward: the source from the pool as well ---- */
	{ .f = { "fullnat4 tcp syn: pool source",
		 { TCP_(4, CLIENT4, CPORT, VIP4, 80), SYN },
		 NAT_FWD(SVC_DR4),
		 .setup = setup_fullnat },
	  TO(TCP_(4, POOL4, PPORT, REAL4, RPORT), SYN) },
	{ .f = { "fullnat4 udp",
		 { UDP_(4, CLIENT4, CPORT, VIP4, 53), .payload = 20 },
		 NAT_FWD(SVC_DR4_UDP),
		 .setup = setup_fullnat },
	  TO(UDP_(4, POOL4, PPORT, REAL4, 53), .payload = 20) },
	{ .f = { "fullnat4 udp without checksum",
		 { UDP_(4, CLIENT4, CPORT, VIP4, 53), .udp_nocsum = true },
		 NAT_FWD(SVC_DR4_UDP),
		 .setup = setup_fullnat },
	  TO(UDP_(4, POOL4, PPORT, REAL4, 53), .udp_nocsum = true) },
	{ .f = { "fullnat6 tcp",
		 { TCP_(6, CLIENT6, CPORT, VIP6, 80), .payload = 64 },
		 NAT_FWD(SVC_DR6),
		 .setup = setup_fullnat },
	  TO(TCP_(6, POOL6, PPORT, REAL6, RPORT), .payload = 64) },
	{ .f = { "fullnat6 udp",
		 { UDP_(6, CLIENT6, CPORT, VIP6, 53), .payload = 3 },
		 NAT_FWD(SVC_DR6_UDP),
		 .setup = setup_fullnat },
	  TO(UDP_(6, POOL6, PPORT, REAL6, 53), .payload = 3) },
	{ .f = { "fullnat4 allocation within the pool and its ports",
		 { TCP_(4, CLIENT4, 33333, VIP4, 80), SYN },
		 NAT_FWD(SVC_DR4),
		 .setup = setup_fullnat_wide },
	  TO(TCP_(4, POOL4, 0, REAL4, RPORT), SYN),
	  .any_pool_port = true },
	{ .f = { "fullnat4 port held by a live connection: the next try",
		 { TCP_(4, CLIENT4, CPORT, VIP4, 80), SYN },
		 NAT_FWD(SVC_DR4),
		 EVENT(SNAT_RETRY),
		 .setup = setup_fullnat_two_ports_first_held },
	  TO(TCP_(4, POOL4, PPORT + 1, REAL4, RPORT), SYN) },
	{ .f = { "fullnat4 port of an ended connection (no forward entry) taken over",
		 { TCP_(4, CLIENT4, CPORT, VIP4, 80), SYN },
		 NAT_FWD(SVC_DR4),
		 EVENT(SNAT_REUSED),
		 .setup = setup_fullnat_held_no_forward },
	  TO(TCP_(4, POOL4, PPORT, REAL4, RPORT), SYN) },
	{ .f = { "fullnat4 port of a connection to a stale real generation taken over",
		 { TCP_(4, CLIENT4, CPORT, VIP4, 80), SYN },
		 NAT_FWD(SVC_DR4),
		 EVENT(SNAT_REUSED),
		 .setup = setup_fullnat_held_stale_gen },
	  TO(TCP_(4, POOL4, PPORT, REAL4, RPORT), SYN) },
	{ .f = { "fullnat4 port of an expired connection taken over",
		 { TCP_(4, CLIENT4, CPORT, VIP4, 80), SYN },
		 NAT_FWD(SVC_DR4),
		 EVENT(SNAT_REUSED),
		 .setup = setup_fullnat_held_expired },
	  TO(TCP_(4, POOL4, PPORT, REAL4, RPORT), SYN) },
	{ .f = { "fullnat4 every try held: exhausted, nothing written",
		 { TCP_(4, CLIENT4, CPORT, VIP4, 80), SYN },
		 DROPPED(SNAT_EXHAUSTED),
		 .setup = setup_fullnat_held,
		 .check = check_nothing_written } },
	{ .f = { "fullnat6 without an IPv6 pool dropped",
		 { TCP_(6, CLIENT6, CPORT, VIP6, 80), SYN },
		 DROPPED(NO_SNAT_POOL),
		 .setup = setup_fullnat_no_pool6,
		 .check = check_nothing_written } },
	{ .f = { "nat real of another family dropped",
		 { TCP_(4, CLIENT4, CPORT, VIP4, 80), SYN },
		 DROPPED(FWD_UNSUPPORTED),
		 .setup = setup_nat_real6_for_v4,
		 .check = check_nothing_written } },

	/* ---- replies: source back to the VIP (fullnat: destination back to the client) ---- */
	{ .f = { "nat4 tcp reply from the VIP",
		 { TCP_(4, REAL4, RPORT, CLIENT4, CPORT), .payload = 500 },
		 NAT_REPLY(SVC_DR4),
		 .setup = setup_nat_replies },
	  TO(TCP_(4, VIP4, 80, CLIENT4, CPORT), .payload = 500),
	  .to = TO_CLIENT },
	{ .f = { "nat4 udp reply",
		 { UDP_(4, REAL4, 53, CLIENT4, CPORT), .payload = 41 },
		 NAT_REPLY(SVC_DR4_UDP),
		 .setup = setup_nat_replies },
	  TO(UDP_(4, VIP4, 53, CLIENT4, CPORT), .payload = 41),
	  .to = TO_CLIENT },
	{ .f = { "nat4 udp reply without checksum",
		 { UDP_(4, REAL4, 53, CLIENT4, CPORT), .udp_nocsum = true },
		 NAT_REPLY(SVC_DR4_UDP),
		 .setup = setup_nat_replies },
	  TO(UDP_(4, VIP4, 53, CLIENT4, CPORT), .udp_nocsum = true),
	  .to = TO_CLIENT },
	{ .f = { "nat4 port-0 service reply",
		 { TCP_(4, REAL_ANY4, 8443, CLIENT4, CPORT) },
		 NAT_REPLY(SVC_DR4_ANY),
		 .setup = setup_nat_replies },
	  TO(TCP_(4, VIP_ANY4, 8443, CLIENT4, CPORT)),
	  .to = TO_CLIENT },
	{ .f = { "nat6 tcp reply",
		 { TCP_(6, REAL6, RPORT, CLIENT6, CPORT), .payload = 77 },
		 NAT_REPLY(SVC_DR6),
		 .setup = setup_nat_replies },
	  TO(TCP_(6, VIP6, 80, CLIENT6, CPORT), .payload = 77),
	  .to = TO_CLIENT },
	{ .f = { "nat6 udp reply",
		 { UDP_(6, REAL6, 53, CLIENT6, CPORT), .payload = 9 },
		 NAT_REPLY(SVC_DR6_UDP),
		 .setup = setup_nat_replies },
	  TO(UDP_(6, VIP6, 53, CLIENT6, CPORT), .payload = 9),
	  .to = TO_CLIENT },
	{ .f = { "fullnat4 tcp reply to the client",
		 { TCP_(4, REAL4, RPORT, POOL4, PPORT), .payload = 10 },
		 NAT_REPLY(SVC_DR4),
		 .setup = setup_fullnat_replies },
	  TO(TCP_(4, VIP4, 80, CLIENT4, CPORT), .payload = 10),
	  .to = TO_CLIENT },
	{ .f = { "fullnat4 udp reply",
		 { UDP_(4, REAL4, 53, POOL4, PPORT), .payload = 10 },
		 NAT_REPLY(SVC_DR4_UDP),
		 .setup = setup_fullnat_replies },
	  TO(UDP_(4, VIP4, 53, CLIENT4, CPORT), .payload = 10),
	  .to = TO_CLIENT },
	{ .f = { "fullnat6 tcp reply",
		 { TCP_(6, REAL6, RPORT, POOL6, PPORT), .payload = 10 },
		 NAT_REPLY(SVC_DR6),
		 .setup = setup_fullnat_replies },
	  TO(TCP_(6, VIP6, 80, CLIENT6, CPORT), .payload = 10),
	  .to = TO_CLIENT },
	{ .f = { "fullnat6 udp reply",
		 { UDP_(6, REAL6, 53, POOL6, PPORT), .payload = 10 },
		 NAT_REPLY(SVC_DR6_UDP),
		 .setup = setup_fullnat_replies },
	  TO(UDP_(6, VIP6, 53, CLIENT6, CPORT), .payload = 10),
	  .to = TO_CLIENT },

	/* ---- replies keep their forward entry alive, once a second (stamps planted STAMP_AGE s ago) ---- */
	{ .f = { "nat4 udp reply due: forward entry and reply stamp refreshed",
		 { UDP_(4, REAL4, 53, CLIENT4, CPORT), .payload = 41 },
		 NAT_REPLY(SVC_DR4_UDP),
		 .setup = setup_nat_stamps_due },
	  TO(UDP_(4, VIP4, 53, CLIENT4, CPORT), .payload = 41),
	  .to = TO_CLIENT,
	  STAMPS(nat_revs[1], NOW, NOW) },
	{ .f = { "nat4 tcp reply due: refreshed, the handshake's state left to the client",
		 { TCP_(4, REAL4, RPORT, CLIENT4, CPORT), .payload = 5 },
		 NAT_REPLY(SVC_DR4),
		 .setup = setup_nat_stamps_due },
	  TO(TCP_(4, VIP4, 80, CLIENT4, CPORT), .payload = 5),
	  .to = TO_CLIENT,
	  STAMPS(nat_revs[0], NOW, NOW) },
	{ .f = { "nat6 udp reply due: refreshed",
		 { UDP_(6, REAL6, 53, CLIENT6, CPORT), .payload = 9 },
		 NAT_REPLY(SVC_DR6_UDP),
		 .setup = setup_nat_stamps_due },
	  TO(UDP_(6, VIP6, 53, CLIENT6, CPORT), .payload = 9),
	  .to = TO_CLIENT,
	  STAMPS(nat_revs[3], NOW, NOW) },
	{ .f = { "fullnat4 udp reply due: the client's forward entry refreshed",
		 { UDP_(4, REAL4, 53, POOL4, PPORT), .payload = 10 },
		 NAT_REPLY(SVC_DR4_UDP),
		 .setup = setup_fullnat_stamps_due },
	  TO(UDP_(4, VIP4, 53, CLIENT4, CPORT), .payload = 10),
	  .to = TO_CLIENT,
	  STAMPS(fullnat_revs[1], NOW, NOW) },
	{ .f = { "fullnat6 udp reply due: refreshed",
		 { UDP_(6, REAL6, 53, POOL6, PPORT), .payload = 10 },
		 NAT_REPLY(SVC_DR6_UDP),
		 .setup = setup_fullnat_stamps_due },
	  TO(UDP_(6, VIP6, 53, CLIENT6, CPORT), .payload = 10),
	  .to = TO_CLIENT,
	  STAMPS(fullnat_revs[3], NOW, NOW) },
	{ .f = { "fullnat6 tcp reply due: refreshed",
		 { TCP_(6, REAL6, RPORT, POOL6, PPORT), .payload = 10 },
		 NAT_REPLY(SVC_DR6),
		 .setup = setup_fullnat_stamps_due },
	  TO(TCP_(6, VIP6, 80, CLIENT6, CPORT), .payload = 10),
	  .to = TO_CLIENT,
	  STAMPS(fullnat_revs[2], NOW, NOW) },
	{ .f = { "nat4 udp reply within the step: no lookup, nothing refreshed",
		 { UDP_(4, REAL4, 53, CLIENT4, CPORT), .payload = 41 },
		 NAT_REPLY(SVC_DR4_UDP),
		 .setup = setup_nat_stamps_fresh },
	  TO(UDP_(4, VIP4, 53, CLIENT4, CPORT), .payload = 41),
	  .to = TO_CLIENT,
	  STAMPS(nat_revs[1], KEPT, KEPT) },
	{ .f = { "nat4 udp reply without forward entry: translated, none made",
		 { UDP_(4, REAL4, 53, CLIENT4, CPORT), .payload = 41 },
		 NAT_REPLY(SVC_DR4_UDP),
		 .setup = setup_nat_stamps_no_forward },
	  TO(UDP_(4, VIP4, 53, CLIENT4, CPORT), .payload = 41),
	  .to = TO_CLIENT,
	  STAMPS(nat_revs[1], NO_ENTRY, NOW) },
	{ .f = { "nat4 udp reply: a forward entry of another real generation not refreshed",
		 { UDP_(4, REAL4, 53, CLIENT4, CPORT), .payload = 41 },
		 NAT_REPLY(SVC_DR4_UDP),
		 .setup = setup_nat_stamps_other_gen },
	  TO(UDP_(4, VIP4, 53, CLIENT4, CPORT), .payload = 41),
	  .to = TO_CLIENT,
	  STAMPS(nat_revs[1], KEPT, NOW) },
	{ .f = { "nat4 udp reply: an expired forward entry not revived",
		 { UDP_(4, REAL4, 53, CLIENT4, CPORT), .payload = 41 },
		 NAT_REPLY(SVC_DR4_UDP),
		 .setup = setup_nat_stamps_expired },
	  TO(UDP_(4, VIP4, 53, CLIENT4, CPORT), .payload = 41),
	  .to = TO_CLIENT,
	  STAMPS(nat_revs[1], KEPT, NOW) },
	{ .f = { "fullnat4 udp reply: a forward entry with another pool port not refreshed",
		 { UDP_(4, REAL4, 53, POOL4, PPORT), .payload = 10 },
		 NAT_REPLY(SVC_DR4_UDP),
		 .setup = setup_fullnat_stamps_other_port },
	  TO(UDP_(4, VIP4, 53, CLIENT4, CPORT), .payload = 10),
	  .to = TO_CLIENT,
	  STAMPS(fullnat_revs[1], KEPT, NOW) },
	{ .f = { "nat4 port unreachable from the real refreshes nothing",
		 { ICMP4_(REAL4, CLIENT4, PORT_UNREACH, &q_to_real4_udp) },
		 NAT_ICMP_REPLY(SVC_DR4_UDP),
		 .setup = setup_nat_stamps_due },
	  TO(ICMP4_(VIP4, CLIENT4, PORT_UNREACH, &q_to_vip4_udp)),
	  .to = TO_CLIENT,
	  STAMPS(nat_revs[1], KEPT, KEPT) },

	/* ---- ICMP errors from the client's side: outer destination and quoted source become the real's ---- */
	{ .f = { "nat4 frag needed about a reply",
		 { ICMP4_(ROUTER4, VIP4, FRAG_NEEDED, &q_vip4) },
		 NAT_ICMP_FWD(SVC_DR4),
		 .setup = setup_nat },
	  TO(ICMP4_(ROUTER4, REAL4, FRAG_NEEDED, &q_real4)) },
	{ .f = { "fullnat4 frag needed about a reply: from the pool address",
		 { ICMP4_(ROUTER4, VIP4, FRAG_NEEDED, &q_vip4) },
		 NAT_ICMP_FWD(SVC_DR4),
		 .setup = setup_fullnat_flows },
	  TO(ICMP4_(POOL4, REAL4, FRAG_NEEDED, &q_real4_pool)) },
	{ .f = { "nat6 packet too big about a reply",
		 { ICMP6_(ROUTER6, VIP6, PKT_TOO_BIG, &q_vip6) },
		 NAT_ICMP_FWD(SVC_DR6),
		 .setup = setup_nat },
	  TO(ICMP6_(ROUTER6, REAL6, PKT_TOO_BIG, &q_real6)) },
	{ .f = { "fullnat6 packet too big about a reply",
		 { ICMP6_(ROUTER6, VIP6, PKT_TOO_BIG, &q_vip6) },
		 NAT_ICMP_FWD(SVC_DR6),
		 .setup = setup_fullnat_flows },
	  TO(ICMP6_(POOL6, REAL6, PKT_TOO_BIG, &q_real6_pool)) },
	{ .f = { "fullnat4 error about a flow without its entry dropped",
		 { ICMP4_(ROUTER4, VIP4, FRAG_NEEDED, &q_vip4) },
		 DROPPED(NAT_FAIL),
		 .setup = setup_fullnat } },

	/* ---- ICMP errors from the real's side: outer source and quoted destination become the VIP ---- */
	{ .f = { "nat4 port unreachable from the real",
		 { ICMP4_(REAL4, CLIENT4, PORT_UNREACH, &q_to_real4_udp) },
		 NAT_ICMP_REPLY(SVC_DR4_UDP),
		 .setup = setup_nat_replies },
	  TO(ICMP4_(VIP4, CLIENT4, PORT_UNREACH, &q_to_vip4_udp)),
	  .to = TO_CLIENT },
	{ .f = { "nat4 port unreachable quoting udp without checksum",
		 { ICMP4_(REAL4, CLIENT4, PORT_UNREACH, &q_to_real4_udp0) },
		 NAT_ICMP_REPLY(SVC_DR4_UDP),
		 .setup = setup_nat_replies },
	  TO(ICMP4_(VIP4, CLIENT4, PORT_UNREACH, &q_to_vip4_udp0)),
	  .to = TO_CLIENT },
	{ .f = { "fullnat4 frag needed from a router behind the director",
		 { ICMP4_(ROUTER4, POOL4, FRAG_NEEDED, &q_pool4_to_real) },
		 NAT_ICMP_REPLY(SVC_DR4),
		 .setup = setup_fullnat_replies },
	  TO(ICMP4_(VIP4, CLIENT4, FRAG_NEEDED, &q_to_vip4)),
	  .to = TO_CLIENT },
	{ .f = { "nat6 port unreachable from the real",
		 { ICMP6_(REAL6, CLIENT6, PORT_UNREACH6, &q_to_real6_udp) },
		 NAT_ICMP_REPLY(SVC_DR6_UDP),
		 .setup = setup_nat_replies },
	  TO(ICMP6_(VIP6, CLIENT6, PORT_UNREACH6, &q_to_vip6_udp)),
	  .to = TO_CLIENT },
	{ .f = { "fullnat6 packet too big from a router behind the director",
		 { ICMP6_(ROUTER6, POOL6, PKT_TOO_BIG, &q_pool6_to_real) },
		 NAT_ICMP_REPLY(SVC_DR6),
		 .setup = setup_fullnat_replies },
	  TO(ICMP6_(VIP6, CLIENT6, PKT_TOO_BIG, &q_to_vip6)),
	  .to = TO_CLIENT },
	{ .f = { "error about an unknown flow passes",
		 { ICMP4_(REAL4, CLIENT4, FRAG_NEEDED, &q_unknown4) },
		 PASSED(PASS_NAT_UNKNOWN),
		 .setup = setup_nat_replies } },

	/* ---- replies not translated ---- */
	{ .f = { "reply without an entry passes, counted",
		 { TCP_(4, REAL4, RPORT, CLIENT4, CPORT + 1) },
		 PASSED(PASS_NAT_UNKNOWN),
		 .setup = setup_nat_replies } },
	{ .f = { "reply of a stale real generation passes, no out packet counted",
		 { TCP_(4, REAL4, RPORT, CLIENT4, CPORT) },
		 PASSED(PASS_NAT_UNKNOWN),
		 .setup = setup_nat_replies_stale,
		 .check = check_no_out } },
	{ .f = { "traffic from a non-nat address passes as before",
		 { TCP_(4, "198.18.1.2", RPORT, CLIENT4, CPORT) },
		 PASSED(PASS_NO_SERVICE),
		 .setup = setup_nat_replies } },
	{ .f = { "without the nat flag nothing is looked up",
		 { TCP_(4, REAL4, RPORT, CLIENT4, CPORT) },
		 PASSED(PASS_NO_SERVICE),
		 .setup = setup_nat_replies_flag_off } },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void free_params(struct criterion_test_params *p)
{
	cr_free(p->params);
}

ParameterizedTestParameters(nat, table)
{
	size_t *idx = cr_malloc(sizeof(*idx) * NROWS), i;

	for (i = 0; i < NROWS; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NROWS, free_params);
}

ParameterizedTest(size_t *i, nat, table)
{
	cr_log_info("row %zu: %s", *i, rows[*i].f.name);
	run_fixture(&rows[*i].f);
}

/* Two nat SYNs above the guard's rate: both inserted (their replies need the entries). */
Test(nat, syns_inserted_under_syn_guard)
{
	static uint8_t in[PKT_MAX], out[PKT_MAX];
	struct xlvs_config c;
	struct xlvs_flow f;
	struct xlvs_conn conn;
	struct world w;
	size_t len, out_len;
	int port;

	world_open(&w, NULL);
	world_std(&w);
	setup_nat(&w);
	world_get_config(&w, &c);
	c.syn_guard_rate = 1;
	world_set_config(&w, &c);
	for (port = 7000; port < 7003; port++) {
		struct pkt_spec s = { TCP_(4, CLIENT4, (uint16_t)port, VIP4, 80), SYN };

		len = pkt_build(&s, in);
		cr_assert_eq(world_run(&w, in, len, out, &out_len), XDP_TX);
		spec_flow(&s, &f);
		cr_expect(world_get_conn(&w, &f, &conn), "nat SYN from port %d not inserted", port);
	}
	cr_expect_eq(world_event(&w, XLVS_EV_SYN_GUARD), 0, "the guard skipped a nat SYN");
	world_close(&w);
}
