// SPDX-License-Identifier: GPL-2.0
/*
 * The tc egress program (bpf/xlvs_tc.bpf.c): health-check packets the director
 * sends with a real's socket mark leave as that real's client traffic would
 * (tunnelled, or with its MAC); anything else goes on untouched. One row per
 * behaviour, run through BPF_PROG_RUN on the real object, whose maps are the
 * standard world's (world.c) as xlvsd shares them by pin.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <string.h>

#include <xlvs/hash.h>
#include "world.h"
#include "xlvs_lb.skel.h"
#include "xlvs_tc.skel.h"

#define HC_MASK	 0xffff0000u
#define HC_VALUE 0x584c0000u
#define HC_MARK	 (HC_VALUE | 0x17) /* the mark rows give their real */
#define DIRECTOR 40123		   /* the check socket's port */

/* A check's packet: from the director's address to the VIP. */
#define CHK4(vip)                                                                                            \
	.family = 4, .proto = IPPROTO_TCP, .src = STD_SRC4, .dst = vip, .sport = DIRECTOR, .dport = 80,      \
	.tcp_flags = TH_SYN
#define CHK6(vip)                                                                                            \
	.family = 6, .proto = IPPROTO_TCP, .src = STD_SRC6, .dst = vip, .sport = DIRECTOR, .dport = 80,      \
	.tcp_flags = TH_SYN

enum tc_out {
	TC_SAME,      /* the frame as it was */
	TC_DR,	      /* MACs of the real's next hop, the rest as it was */
	TC_TUN,	      /* that MAC, outer headers, the frame's datagram as it was */
	TC_TUN_NEIGH, /* outer headers, MACs as they were (the kernel's neighbour code writes them) */
};

/* Row setups: data, not functions. */
enum tc_setup {
	SET_NONE,
	SET_GEN_BUMPED, /* the real's id was given to another real since the mark was written */
	SET_INACTIVE,	/* the real is gone (entry cleared) */
	SET_NO_ENTRY,	/* the mark is in the range but xlvs_hc_marks does not hold it */
	SET_NO_NEXTHOP, /* xlvsd has not resolved the real's next hop */
	SET_STEER_OFF,	/* hc_mark_mask and hc_mark_value both 0 */
	SET_NO_TUN_SRC, /* no tunnel source addresses */
};

struct tc_row {
	const char *name;
	struct pkt_spec pkt;
	uint32_t mark; /* skb->mark */
	int svc, real; /* the real HC_MARK names */
	enum tc_setup setup;
	int verdict;
	enum tc_out out;
	const char *outer_dst; /* TC_TUN: the real's address, written out */
	uint8_t outer_proto;   /* TC_TUN: IPPROTO_IPIP, IPPROTO_IPV6 or IPPROTO_UDP */
	uint16_t gue_port;     /* TC_TUN over UDP: the destination port */
	int event;	       /* EV(x): counted once, the other hc event not at all */
	int drop;	       /* DROP(x): counted once, nothing else dropped */
};

#define EV(e)	.event = XLVS_EV_##e + 1
#define DROP(r) .drop = XLVS_DROP_##r + 1

static const struct tc_row rows[] = {
	{ "ipip: marked check to a tun real is IPIP to that real",
	  { CHK4("198.18.0.11") },
	  HC_MARK,
	  SVC_IPIP,
	  1,
	  SET_NONE,
	  TC_ACT_OK,
	  TC_TUN,
	  "198.18.2.2",
	  IPPROTO_IPIP,
	  0,
	  EV(HC_STEERED) },
	{ "gue4: GUE to the real's own port",
	  { CHK4("198.18.0.12") },
	  HC_MARK,
	  SVC_GUE4,
	  2,
	  SET_NONE,
	  TC_ACT_OK,
	  TC_TUN,
	  "198.18.3.3",
	  IPPROTO_UDP,
	  7777,
	  EV(HC_STEERED) },
	{ "gue4: GUE to the global port",
	  { CHK4("198.18.0.12") },
	  HC_MARK,
	  SVC_GUE4,
	  0,
	  SET_NONE,
	  TC_ACT_OK,
	  TC_TUN,
	  "198.18.3.1",
	  IPPROTO_UDP,
	  6080,
	  EV(HC_STEERED) },
	{ "ip6ip6",
	  { CHK6("2001:db8::11") },
	  HC_MARK,
	  SVC_IP6IP6,
	  0,
	  SET_NONE,
	  TC_ACT_OK,
	  TC_TUN,
	  "2001:db8:2::1",
	  IPPROTO_IPV6,
	  0,
	  EV(HC_STEERED) },
	{ "6in4: IPv6 check to an IPv4 tunnel",
	  { CHK6("2001:db8::13") },
	  HC_MARK,
	  SVC_6IN4,
	  1,
	  SET_NONE,
	  TC_ACT_OK,
	  TC_TUN,
	  "198.18.6.2",
	  IPPROTO_IPV6,
	  0,
	  EV(HC_STEERED) },
	{ "4in6: IPv4 check to an IPv6 tunnel",
	  { CHK4("198.18.0.14") },
	  HC_MARK,
	  SVC_4IN6,
	  2,
	  SET_NONE,
	  TC_ACT_OK,
	  TC_TUN,
	  "2001:db8:3::3",
	  IPPROTO_IPIP,
	  0,
	  EV(HC_STEERED) },
	{ "gue6: GUE over IPv6, zero UDP checksum (inner may be partial)",
	  { CHK6("2001:db8::12") },
	  HC_MARK,
	  SVC_GUE6,
	  0,
	  SET_NONE,
	  TC_ACT_OK,
	  TC_TUN,
	  "2001:db8:4::1",
	  IPPROTO_UDP,
	  6080,
	  EV(HC_STEERED) },
	{ "gue 4in6",
	  { CHK4("198.18.0.15") },
	  HC_MARK,
	  SVC_GUE_4IN6,
	  1,
	  SET_NONE,
	  TC_ACT_OK,
	  TC_TUN,
	  "2001:db8:5::2",
	  IPPROTO_UDP,
	  6080,
	  EV(HC_STEERED) },
	{ "udp check over ipip",
	  { .family = 4,
	    .proto = IPPROTO_UDP,
	    .src = STD_SRC4,
	    .dst = "198.18.0.11",
	    .sport = DIRECTOR,
	    .dport = 53,
	    .payload = 30 },
	  HC_MARK,
	  SVC_IPIP_UDP,
	  0,
	  SET_NONE,
	  TC_ACT_OK,
	  TC_TUN,
	  "198.18.2.1",
	  IPPROTO_IPIP,
	  0,
	  EV(HC_STEERED) },
	{ "dr4: the real's MAC, nothing else changed",
	  { CHK4("198.18.0.10"), .payload = 100 },
	  HC_MARK,
	  SVC_DR4,
	  2,
	  SET_NONE,
	  TC_ACT_OK,
	  TC_DR,
	  NULL,
	  0,
	  0,
	  EV(HC_STEERED) },
	{ "dr6",
	  { CHK6("2001:db8::10") },
	  HC_MARK,
	  SVC_DR6,
	  1,
	  SET_NONE,
	  TC_ACT_OK,
	  TC_DR,
	  NULL,
	  0,
	  0,
	  EV(HC_STEERED) },
	{ "dr4 next hop unresolved: the kernel's neighbour (bpf_redirect_neigh)",
	  { CHK4("198.18.0.10") },
	  HC_MARK,
	  SVC_DR4,
	  0,
	  SET_NO_NEXTHOP,
	  TC_ACT_REDIRECT,
	  TC_SAME,
	  NULL,
	  0,
	  0,
	  EV(HC_STEERED) },
	{ "ipip next hop unresolved: encapsulated, redirect by route (bpf_redirect_neigh)",
	  { CHK4("198.18.0.11") },
	  HC_MARK,
	  SVC_IPIP,
	  0,
	  SET_NO_NEXTHOP,
	  TC_ACT_REDIRECT,
	  TC_TUN_NEIGH,
	  "198.18.2.1",
	  IPPROTO_IPIP,
	  0,
	  EV(HC_STEERED) },
	{ "stale: the real's id now has another generation -> dropped",
	  { CHK4("198.18.0.11") },
	  HC_MARK,
	  SVC_IPIP,
	  1,
	  SET_GEN_BUMPED,
	  TC_ACT_SHOT,
	  TC_SAME,
	  NULL,
	  0,
	  0,
	  EV(HC_MARK_STALE) },
	{ "stale: the real is gone -> dropped",
	  { CHK4("198.18.0.11") },
	  HC_MARK,
	  SVC_IPIP,
	  1,
	  SET_INACTIVE,
	  TC_ACT_SHOT,
	  TC_SAME,
	  NULL,
	  0,
	  0,
	  EV(HC_MARK_STALE) },
	{ "stale: a mark of the range xlvs_hc_marks does not hold -> dropped",
	  { CHK4("198.18.0.11") },
	  HC_MARK,
	  SVC_IPIP,
	  1,
	  SET_NO_ENTRY,
	  TC_ACT_SHOT,
	  TC_SAME,
	  NULL,
	  0,
	  0,
	  EV(HC_MARK_STALE) },
	{ "stale: a mark naming a nat real (never steered) -> dropped",
	  { CHK4("198.18.0.18") },
	  HC_MARK,
	  SVC_NAT,
	  0,
	  SET_NONE,
	  TC_ACT_SHOT,
	  TC_SAME,
	  NULL,
	  0,
	  0,
	  EV(HC_MARK_STALE) },
	{ "no tunnel source: counted drop",
	  { CHK4("198.18.0.11") },
	  HC_MARK,
	  SVC_IPIP,
	  1,
	  SET_NO_TUN_SRC,
	  TC_ACT_SHOT,
	  TC_SAME,
	  NULL,
	  0,
	  0,
	  DROP(NO_TUN_SRC) },
	{ "unmarked packet to a VIP: untouched, next program",
	  { CHK4("198.18.0.11") },
	  0,
	  SVC_IPIP,
	  1,
	  SET_NONE,
	  TC_ACT_UNSPEC,
	  TC_SAME,
	  NULL,
	  0,
	  0,
	  0,
	  0 },
	{ "mark outside the mask: untouched",
	  { CHK4("198.18.0.11") },
	  0x12340017,
	  SVC_IPIP,
	  1,
	  SET_NONE,
	  TC_ACT_UNSPEC,
	  TC_SAME,
	  NULL,
	  0,
	  0,
	  0,
	  0 },
	{ "steering off (mask and value 0): a marked packet is untouched",
	  { CHK4("198.18.0.11") },
	  HC_MARK,
	  SVC_IPIP,
	  1,
	  SET_STEER_OFF,
	  TC_ACT_UNSPEC,
	  TC_SAME,
	  NULL,
	  0,
	  0,
	  0,
	  0 },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

struct tc_world {
	struct world w;
	struct xlvs_tc_bpf *tc;
};

/* The tc object on the world's maps, as xlvsd loads it on the pinned ones. */
static void tc_open(struct tc_world *t)
{
	struct bpf_map *m;

	world_open(&t->w, NULL);
	world_std(&t->w);
	t->tc = xlvs_tc_bpf__open();
	cr_assert(t->tc, "open xlvs_tc skeleton");
	bpf_object__for_each_map (m, t->tc->obj) {
		struct bpf_map *lb = bpf_object__find_map_by_name(t->w.skel->obj, bpf_map__name(m));

		bpf_map__set_pin_path(m, NULL);
		if (lb)
			cr_assert_eq(bpf_map__reuse_fd(m, bpf_map__fd(lb)), 0, "reuse %s", bpf_map__name(m));
	}
	cr_assert_eq(xlvs_tc_bpf__load(t->tc), 0, "load xlvs_tc (verifier) failed: %s", strerror(errno));
}

static void row_setup(struct tc_world *t, const struct tc_row *r)
{
	uint32_t id = std_real_id(r->svc, r->real), mark = HC_MARK;
	struct xlvs_hc_target tgt = { .real_id = id };
	struct xlvs_config cfg;
	struct xlvs_real real;

	world_get_real(&t->w, id, &real);
	tgt.real_gen = real.gen;
	if (r->setup != SET_NO_ENTRY)
		cr_assert_eq(bpf_map_update_elem(bpf_map__fd(t->tc->maps.xlvs_hc_marks), &mark, &tgt, 0), 0);
	world_get_config(&t->w, &cfg);
	if (r->setup != SET_STEER_OFF) {
		cfg.hc_mark_mask = HC_MASK;
		cfg.hc_mark_value = HC_VALUE;
	}
	if (r->setup == SET_NO_TUN_SRC) {
		cfg.src4 = 0;
		memset(cfg.src6, 0, sizeof(cfg.src6));
	}
	world_set_config(&t->w, &cfg);
	if (r->setup == SET_GEN_BUMPED)
		real.gen++;
	if (r->setup == SET_INACTIVE)
		real.flags &= (uint8_t)~XLVS_REAL_F_ACTIVE;
	if (r->setup == SET_NO_NEXTHOP)
		real.flags &= (uint8_t)~XLVS_REAL_F_NH_VALID;
	world_set_real(&t->w, id, &real);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void check_tun(const struct tc_row *r, const uint8_t *in, size_t in_len, const uint8_t *out,
		      size_t out_len)
{
	bool v6 = strchr(r->outer_dst, ':'), gue = r->outer_proto == IPPROTO_UDP;
	size_t iplen = v6 ? 40 : 20, olen = iplen + (gue ? 8 : 0), inner_len = in_len - ETH_HLEN;
	const uint8_t *ip = out + ETH_HLEN, *uh = ip + iplen;
	uint8_t dst[16], src[16];
	struct xlvs_flow flow = { 0 };

	cr_assert_eq(out_len, in_len + olen, "%s: length %zu, want %zu", r->name, out_len, in_len + olen);
	cr_expect_eq(get16(out + 12), v6 ? ETH_P_IPV6 : ETH_P_IP, "%s: outer EtherType", r->name);
	parse_addr(v6 ? 6 : 4, r->outer_dst, dst);
	parse_addr(v6 ? 6 : 4, v6 ? STD_SRC6 : STD_SRC4, src);
	if (v6) {
		cr_expect_eq(ip[0] >> 4, 6, "%s: outer version", r->name);
		cr_expect_eq(get16(ip + 4), inner_len + olen - 40, "%s: outer payload length", r->name);
		cr_expect_eq(ip[6], r->outer_proto, "%s: outer next header", r->name);
		cr_expect_eq(ip[7], XLVS_TUN_TTL, "%s: outer hop limit", r->name);
		cr_expect_eq(memcmp(ip + 8, src, 16), 0, "%s: outer source = src6", r->name);
		cr_expect_eq(memcmp(ip + 24, dst, 16), 0, "%s: outer destination = the real", r->name);
	} else {
		cr_expect_eq(ip[0], 0x45, "%s: outer version/ihl", r->name);
		cr_expect_eq(get16(ip + 2), inner_len + olen, "%s: outer tot_len", r->name);
		cr_expect_eq(ip[8], XLVS_TUN_TTL, "%s: outer TTL", r->name);
		cr_expect_eq(ip[9], r->outer_proto, "%s: outer protocol", r->name);
		cr_expect_eq(csum_finish(csum_partial(ip, 20, 0)), 0, "%s: outer header checksum", r->name);
		cr_expect_eq(memcmp(ip + 12, src, 4), 0, "%s: outer source = src4", r->name);
		cr_expect_eq(memcmp(ip + 16, dst, 4), 0, "%s: outer destination = the real", r->name);
	}
	if (gue) {
		spec_flow(&r->pkt, &flow);
		cr_expect_eq(get16(uh), xlvs_gue_sport(xlvs_flow_hash_mix64(&flow)) /* world_std's hash */,
			     "%s: GUE source port", r->name);
		cr_expect_eq(get16(uh + 2), r->gue_port, "%s: GUE destination port", r->name);
		cr_expect_eq(get16(uh + 4), inner_len + 8, "%s: UDP length", r->name);
		cr_expect_eq(get16(uh + 6), 0, "%s: UDP checksum 0", r->name);
	}
	cr_expect_eq(memcmp(out + ETH_HLEN + olen, in + ETH_HLEN, inner_len), 0,
		     "%s: inner datagram unchanged", r->name);
}

static void check_out(const struct tc_row *r, const uint8_t *in, size_t in_len, const uint8_t *out,
		      size_t out_len)
{
	uint8_t mac[6];

	if (r->out == TC_SAME) {
		cr_assert_eq(out_len, in_len, "%s: length", r->name);
		cr_expect_eq(memcmp(out, in, in_len), 0, "%s: frame untouched", r->name);
		return;
	}
	real_mac(std_real_id(r->svc, r->real), mac);
	if (r->out == TC_TUN_NEIGH) {
		cr_expect_eq(memcmp(out, in, 12), 0, "%s: MACs left to the kernel", r->name);
		check_tun(r, in, in_len, out, out_len);
		return;
	}
	cr_expect_eq(memcmp(out, mac, 6), 0, "%s: destination MAC = the real's next hop", r->name);
	cr_expect_eq(memcmp(out + 6, MAC_LB, 6), 0, "%s: source MAC = ours", r->name);
	if (r->out == TC_DR) {
		cr_assert_eq(out_len, in_len, "%s: DR keeps the length", r->name);
		cr_expect_eq(memcmp(out + 12, in + 12, in_len - 12), 0, "%s: DR changes only MACs", r->name);
		return;
	}
	check_tun(r, in, in_len, out, out_len);
}

static void check_counters(struct world *w, const struct tc_row *r)
{
	uint64_t steered = world_event(w, XLVS_EV_HC_STEERED), stale = world_event(w, XLVS_EV_HC_MARK_STALE);

	cr_expect_eq(steered, r->event == XLVS_EV_HC_STEERED + 1, "%s: hc_steered %lu", r->name, steered);
	cr_expect_eq(stale, r->event == XLVS_EV_HC_MARK_STALE + 1, "%s: hc_mark_stale %lu", r->name, stale);
	cr_expect_eq(world_drops_total(w), r->drop ? 1 : 0, "%s: drops", r->name);
	if (r->drop)
		cr_expect_eq(world_drop(w, r->drop - 1), 1, "%s: %s", r->name, xlvs_drop_names[r->drop - 1]);
}

static void run_row(const struct tc_row *r)
{
	struct tc_world t;
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct __sk_buff ctx = { .mark = r->mark }, ctx_out = { 0 };
	size_t in_len;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_out = out, .data_size_out = PKT_MAX,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out), .repeat = 1);

	tc_open(&t);
	row_setup(&t, r);
	in_len = pkt_build(&r->pkt, in);
	opts.data_size_in = (uint32_t)in_len;
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(t.tc->progs.xlvs_tc), &opts), 0,
		     "BPF_PROG_RUN: %s", strerror(errno));
	cr_expect_eq((int)opts.retval, r->verdict, "%s: verdict %d, want %d", r->name, (int)opts.retval,
		     r->verdict);
	check_out(r, in, in_len, out, opts.data_size_out);
	/* A steered packet leaves unmarked: a redirect meets this hook again and must pass. */
	cr_expect_eq(ctx_out.mark, r->event == XLVS_EV_HC_STEERED + 1 ? 0 : r->mark, "%s: mark after",
		     r->name);
	check_counters(&t.w, r);
	xlvs_tc_bpf__destroy(t.tc);
	world_close(&t.w);
}

static void free_params(struct criterion_test_params *p)
{
	cr_free(p->params);
}

ParameterizedTestParameters(tc, table)
{
	size_t *idx = cr_malloc(sizeof(*idx) * NROWS), i;

	for (i = 0; i < NROWS; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NROWS, free_params);
}

ParameterizedTest(size_t *i, tc, table)
{
	cr_log_info("row %zu: %s", *i, rows[*i].name);
	run_row(&rows[*i]);
}

/*
 * The replies: a real answers a steered check from the VIP to the director's own address.
 * xlvs_lb must hand them to the kernel untouched (the check's socket takes them), not balance
 * or drop them: their destination is no VIP.
 */
static void reply_passes(const struct pkt_spec *spec)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t in_len = pkt_build(spec, in), out_len;
	struct world w;
	int verdict;

	world_open(&w, NULL);
	world_std(&w);
	verdict = world_run(&w, in, in_len, out, &out_len);
	cr_expect_eq(verdict, XDP_PASS, "reply from %s: verdict %d", spec->src, verdict);
	cr_expect_eq(out_len, in_len);
	cr_expect_eq(memcmp(out, in, in_len), 0, "reply from %s changed", spec->src);
	cr_expect_eq(world_event(&w, XLVS_EV_PASS_NO_SERVICE), 1, "reply from %s: pass_no_service",
		     spec->src);
	cr_expect_eq(world_drops_total(&w), 0);
	world_close(&w);
}

Test(tc, check_replies_from_the_vip_pass_to_the_director)
{
	struct pkt_spec v4 = { .family = 4,
			       .proto = IPPROTO_TCP,
			       .src = "198.18.0.11",
			       .dst = STD_SRC4,
			       .sport = 80,
			       .dport = DIRECTOR,
			       .tcp_flags = TH_SYN | TH_ACK };
	struct pkt_spec v6 = { .family = 6,
			       .proto = IPPROTO_TCP,
			       .src = "2001:db8::11",
			       .dst = STD_SRC6,
			       .sport = 80,
			       .dport = DIRECTOR,
			       .tcp_flags = TH_SYN | TH_ACK };

	reply_passes(&v4);
	reply_passes(&v6);
}
