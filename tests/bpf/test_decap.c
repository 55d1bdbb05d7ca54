// SPDX-License-Identifier: GPL-2.0
/*
 * The real-server decapsulator (bpf/xlvs_decap.bpf.c). Round trips: a packet the
 * director encapsulated must come out of the decapsulator as the client's
 * datagram, byte for byte. Plus what it must leave alone or reject.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "world.h"
#include "xlvs_decap.skel.h"

#define CPORT 40000

struct decap {
	struct xlvs_decap_bpf *skel;
	int fd;
};

static void decap_open(struct decap *d, uint16_t gue_port)
{
	struct bpf_map *m;

	d->skel = xlvs_decap_bpf__open();
	cr_assert(d->skel, "open xlvs_decap skeleton");
	bpf_object__for_each_map(m, d->skel->obj)
		bpf_map__set_pin_path(m, NULL);
	if (gue_port)
		d->skel->rodata->gue_port = gue_port;
	cr_assert_eq(xlvs_decap_bpf__load(d->skel), 0, "load xlvs_decap (verifier) failed");
	d->fd = bpf_program__fd(d->skel->progs.xlvs_decap);
}

static int decap_run(struct decap *d, const void *in, size_t len, void *out, size_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (uint32_t)len, .data_out = out,
		    .data_size_out = PKT_MAX, .repeat = 1);

	cr_assert_eq(bpf_prog_test_run_opts(d->fd, &opts), 0, "BPF_PROG_RUN: %s", strerror(errno));
	*out_len = opts.data_size_out;
	return (int)opts.retval;
}

static uint64_t decap_count(struct decap *d, enum xlvs_decap_counter c)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t vals[ncpus], sum = 0;
	uint32_t key = c;
	int i;

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(d->skel->maps.xlvs_decap_stats), &key, vals), 0);
	for (i = 0; i < ncpus; i++)
		sum += vals[i];
	return sum;
}

static uint64_t decap_total(struct decap *d)
{
	uint64_t sum = 0;
	int c;

	for (c = 0; c < XLVS_DECAP_MAX; c++)
		sum += decap_count(d, c);
	return sum;
}

static void decap_only_local(struct decap *d, uint8_t family, const char *addr)
{
	struct xlvs_decap_cfg cfg = { .flags = XLVS_DECAP_F_CHECK_DST };
	struct xlvs_vip_key key = { .family = family };
	uint32_t zero = 0, one = 1;

	parse_addr(family, addr, key.addr);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(d->skel->maps.xlvs_decap_addrs), &key, &one, 0), 0);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(d->skel->maps.xlvs_decap_cfg), &zero, &cfg, 0), 0);
}

struct roundtrip {
	const char *name;
	struct pkt_spec pkt;
	enum xlvs_decap_counter kind;
};

#define TCP4(d)	.family = 4, .proto = IPPROTO_TCP, .src = CLIENT4, .dst = d, .sport = CPORT, .dport = 80
#define TCP6(d)	.family = 6, .proto = IPPROTO_TCP, .src = CLIENT6, .dst = d, .sport = CPORT, .dport = 80

static struct roundtrip trips[] = {
	{ "ipip", { TCP4("198.18.0.11"), .payload = 100 }, XLVS_DECAP_IPIP },
	{ "ipip on vlan", { TCP4("198.18.0.11"), .vlan = 10, .payload = 10 }, XLVS_DECAP_IPIP },
	{ "ipip udp", { .family = 4, .proto = IPPROTO_UDP, .src = CLIENT4, .dst = "198.18.0.11",
	  .sport = CPORT, .dport = 53, .payload = 30 }, XLVS_DECAP_IPIP },
	{ "ip6ip6", { TCP6("2001:db8::11"), .payload = 200 }, XLVS_DECAP_IP6IP6 },
	{ "ip6ip6 on vlan", { TCP6("2001:db8::11"), .vlan = 11 }, XLVS_DECAP_IP6IP6 },
	{ "4in6", { TCP4("198.18.0.14"), .payload = 50 }, XLVS_DECAP_4IN6 },
	{ "6in4", { TCP6("2001:db8::13"), .payload = 50 }, XLVS_DECAP_6IN4 },
	{ "gue4", { TCP4("198.18.0.12"), .payload = 300 }, XLVS_DECAP_GUE4 },
	{ "gue4 on vlan", { TCP4("198.18.0.12"), .vlan = 12 }, XLVS_DECAP_GUE4 },
	{ "gue6", { TCP6("2001:db8::12"), .payload = 300 }, XLVS_DECAP_GUE6 },
	{ "gue 4-in-6", { TCP4("198.18.0.15"), .payload = 99 }, XLVS_DECAP_GUE6 },
};

#define NTRIPS (sizeof(trips) / sizeof(trips[0]))

static void free_params(struct criterion_test_params *p)
{
	cr_free(p->params);
}

ParameterizedTestParameters(decap, roundtrip)
{
	size_t *idx = cr_malloc(sizeof(*idx) * NTRIPS), i;

	for (i = 0; i < NTRIPS; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NTRIPS, free_params);
}

/* gue4's third real listens on 7777, which the default decapsulator must ignore. */
static bool uses_other_gue_port(const struct roundtrip *r, const uint8_t *tun)
{
	size_t l2 = r->pkt.vlan ? 18 : 14;

	return r->kind == XLVS_DECAP_GUE4 && (tun[l2 + 22] << 8 | tun[l2 + 23]) != STD_GUE_PORT;
}

/* Director output into the decapsulator: the client's datagram comes out unchanged. */
ParameterizedTest(size_t *i, decap, roundtrip)
{
	static uint8_t in[PKT_MAX], tun[PKT_MAX], out[PKT_MAX];
	const struct roundtrip *r = &trips[*i];
	size_t in_len, tun_len, out_len;
	struct pkt_spec pkt;
	struct world w;
	struct decap d;

	world_open(&w, NULL);
	world_std(&w);
	decap_open(&d, 0);
	/* Client ports whose real listens on 7777 are the gue_port test's business: skip to the next. */
	for (pkt = r->pkt;; pkt.sport++) {
		in_len = pkt_build(&pkt, in);
		cr_assert_eq(world_run(&w, in, in_len, tun, &tun_len), XDP_TX, "%s: director did not forward",
			     r->name);
		if (!uses_other_gue_port(r, tun))
			break;
		cr_assert_lt(pkt.sport, r->pkt.sport + 100, "%s: no flow to a default-port real", r->name);
	}
	cr_assert_gt(tun_len, in_len, "%s: director did not encapsulate", r->name);

	cr_assert_eq(decap_run(&d, tun, tun_len, out, &out_len), XDP_PASS, "%s: verdict", r->name);
	cr_assert_eq(out_len, in_len, "%s: decapsulated length %zu, want %zu", r->name, out_len, in_len);
	cr_expect_eq(memcmp(out, tun, 12), 0, "%s: MACs of the tunnel frame kept", r->name);
	cr_expect_eq(memcmp(out + 12, in + 12, in_len - 12), 0,
		     "%s: VLAN, EtherType and datagram identical to what the client sent", r->name);
	cr_expect_eq(decap_count(&d, r->kind), 1, "%s: %s counted", r->name, xlvs_decap_names[r->kind]);
	cr_expect_eq(decap_total(&d), 1, "%s: nothing else counted", r->name);
	xlvs_decap_bpf__destroy(d.skel);
	world_close(&w);
}

/* Encapsulate one packet with the director (standard world) into buf. */
static size_t encap(const struct pkt_spec *s, uint8_t *buf)
{
	static uint8_t in[PKT_MAX];
	struct world w;
	size_t len;

	world_open(&w, NULL);
	world_std(&w);
	cr_assert_eq(world_run(&w, in, pkt_build(s, in), buf, &len), XDP_TX);
	world_close(&w);
	return len;
}

static void expect_untouched(struct decap *d, const uint8_t *in, size_t len, int counter)
{
	static uint8_t out[PKT_MAX];
	size_t out_len;

	cr_assert_eq(decap_run(d, in, len, out, &out_len), XDP_PASS);
	cr_expect_eq(out_len, len, "length changed");
	cr_expect_eq(memcmp(out, in, len), 0, "frame changed");
	if (counter < 0)
		cr_expect_eq(decap_total(d), 0, "a counter moved for a packet that is not ours");
	else
		cr_expect_eq(decap_count(d, counter), 1, "%s not counted", xlvs_decap_names[counter]);
}

Test(decap, plain_tcp_passes_untouched)
{
	struct pkt_spec s = { TCP4("198.18.0.11"), .payload = 10 };
	uint8_t buf[PKT_MAX];
	struct decap d;

	decap_open(&d, 0);
	expect_untouched(&d, buf, pkt_build(&s, buf), -1);
}

Test(decap, arp_passes_untouched)
{
	struct pkt_spec s = { .ethertype = ETH_P_ARP };
	uint8_t buf[PKT_MAX];
	struct decap d;

	decap_open(&d, 0);
	expect_untouched(&d, buf, pkt_build(&s, buf), -1);
}

Test(decap, udp_to_other_port_passes_untouched)
{
	struct pkt_spec s = { .family = 4, .proto = IPPROTO_UDP, .src = CLIENT4, .dst = "198.18.3.1",
			      .sport = 5000, .dport = 6081, .payload = 40 };
	uint8_t buf[PKT_MAX];
	struct decap d;

	decap_open(&d, 0);
	expect_untouched(&d, buf, pkt_build(&s, buf), -1);
}

Test(decap, gue_port_is_a_load_setting)
{
	/* Real 3 of the gue4 service listens on 7777; find a client port Maglev sends there. */
	struct pkt_spec s = { TCP4("198.18.0.12") };
	uint8_t tun[PKT_MAX], out[PKT_MAX];
	size_t len, out_len;
	struct decap d, d7;

	for (s.sport = 1000;; s.sport++) {
		len = encap(&s, tun);
		if (tun[14 + 20 + 2] == 7777 >> 8 && tun[14 + 20 + 3] == (7777 & 0xff))
			break;
		cr_assert_lt(s.sport, 2000, "no flow of gue4 maps to the real on port 7777");
	}
	decap_open(&d, 0);
	expect_untouched(&d, tun, len, -1);
	decap_open(&d7, 7777);
	cr_assert_eq(decap_run(&d7, tun, len, out, &out_len), XDP_PASS);
	cr_expect_eq(out_len, len - 28, "not decapsulated on its configured port");
	cr_expect_eq(decap_count(&d7, XLVS_DECAP_GUE4), 1);
}

Test(decap, only_local_destinations_when_configured)
{
	struct pkt_spec s = { TCP4("198.18.0.11") };
	uint8_t tun[PKT_MAX], out[PKT_MAX];
	size_t len = encap(&s, tun), out_len;
	char dst[16];
	struct decap d;

	decap_open(&d, 0);
	decap_only_local(&d, 4, "198.18.250.250");
	expect_untouched(&d, tun, len, XLVS_DECAP_REJ_NOT_LOCAL);

	decap_open(&d, 0);
	snprintf(dst, sizeof(dst), "%u.%u.%u.%u", tun[30], tun[31], tun[32], tun[33]);
	decap_only_local(&d, 4, dst);
	cr_assert_eq(decap_run(&d, tun, len, out, &out_len), XDP_PASS);
	cr_expect_eq(out_len, len - 20, "a tunnel packet to a local address was not decapsulated");
}

Test(decap, inner_version_must_match)
{
	struct pkt_spec s = { TCP4("198.18.0.11") };
	uint8_t tun[PKT_MAX];
	size_t len = encap(&s, tun);
	struct decap d;

	tun[14 + 9] = IPPROTO_IPV6;	/* outer says 6in4, inner is IPv4 */
	decap_open(&d, 0);
	expect_untouched(&d, tun, len, XLVS_DECAP_REJ_BAD_INNER);
}

Test(decap, truncated_outer_rejected)
{
	struct pkt_spec s = { TCP4("198.18.0.11"), .payload = 100 };
	uint8_t tun[PKT_MAX];
	size_t len = encap(&s, tun);
	struct decap d;

	decap_open(&d, 0);
	expect_untouched(&d, tun, len - 50, XLVS_DECAP_REJ_TRUNC);
}

Test(decap, fragmented_outer_rejected)
{
	struct pkt_spec s = { TCP4("198.18.0.11") };
	uint8_t tun[PKT_MAX];
	size_t len = encap(&s, tun);
	struct decap d;

	tun[14 + 6] |= 0x20;	/* MF; the checksum no longer matters: XDP never checks it */
	decap_open(&d, 0);
	expect_untouched(&d, tun, len, XLVS_DECAP_REJ_FRAGMENT);
}
