// SPDX-License-Identifier: GPL-2.0
/*
 * The real-server decapsulator (bpf/xlvs_decap.bpf.c). Round trips: a packet the
 * director encapsulated must come out of the decapsulator as the client's
 * datagram, byte for byte. Plus what it must leave alone or reject.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
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
	bpf_object__for_each_map (m, d->skel->obj)
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

#define TCP4(d) .family = 4, .proto = IPPROTO_TCP, .src = CLIENT4, .dst = d, .sport = CPORT, .dport = 80
#define TCP6(d) .family = 6, .proto = IPPROTO_TCP, .src = CLIENT6, .dst = d, .sport = CPORT, .dport = 80

static struct roundtrip trips[] = {
	{ "ipip", { TCP4("198.18.0.11"), .payload = 100 }, XLVS_DECAP_IPIP },
	{ "ipip on vlan", { TCP4("198.18.0.11"), .vlan = 10, .payload = 10 }, XLVS_DECAP_IPIP },
	{ "ipip udp",
	  { .family = 4,
	    .proto = IPPROTO_UDP,
	    .src = CLIENT4,
	    .dst = "198.18.0.11",
	    .sport = CPORT,
	    .dport = 53,
	    .payload = 30 },
	  XLVS_DECAP_IPIP },
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

/*
 * What the decapsulator leaves alone or rejects, and what its load settings
 * change: one row per behaviour, in the style of the director's fixture table
 * (fixture.h). A row names the frame (a plain packet, or one the director
 * encapsulated, optionally edited), how the decapsulator is loaded, and what
 * must come out: verdict, counter, and the frame untouched or decapsulated.
 */
enum decap_out {
	DOUT_SAME,  /* frame untouched */
	DOUT_INNER, /* the client's frame: tunnel MACs, then what the client sent */
};

/* Set bits of one byte of the tunnel frame: byte = (byte & ~mask) | val. */
struct poke {
	uint16_t at;
	uint8_t mask, val;
};

#define NPOKES 2

/* The outer UDP checksum of a GUE frame, after the pokes. */
enum udp_csum_edit {
	UDP_CSUM_KEEP,
	UDP_CSUM_SET, /* a valid checksum (the director sends none over IPv4) */
	UDP_CSUM_BAD, /* a valid checksum, off by one */
};

struct decap_fixture {
	const char *name;
	struct pkt_spec pkt;
	bool encap;		  /* run pkt through the director first: the frame is its output */
	uint16_t tun_gue_port;	  /* encap: try client ports from pkt.sport until the GUE port is this */
	struct poke poke[NPOKES]; /* encap: edit the tunnel frame (at 0: none) */
	bool keep_ip_csum;	  /* after the pokes, leave the outer IPv4 header checksum as it was */
	enum udp_csum_edit udp_csum;
	uint16_t trim; /* drop this many bytes off the frame's end */
	/* Setup: how the decapsulator is loaded and configured. */
	uint16_t gue_port;	/* load-time gue_port (0 = default) */
	const char *only_local; /* check_dst with this one local IPv4 address; OUTER_DST: the frame's */
	/* Expected. */
	int verdict;
	enum decap_out out;
	int counter;	/* COUNTED(x): x counts exactly one, nothing else; 0: nothing counted */
	uint16_t strip; /* DOUT_INNER: bytes of outer headers removed */
};

#define COUNTED(c)	      .counter = XLVS_DECAP_##c + 1
#define SET_BYTE(off, v)      .poke = { { .at = (off), .mask = 0xff, .val = (v) } }
#define SET_BITS(off, b)      .poke = { { .at = (off), .mask = (b), .val = (b) } }
#define SET_NIBBLE_HI(off, v) .poke = { { .at = (off), .mask = 0xf0, .val = (v) << 4 } }
#define SET_BE16(off, v)                                                                                     \
	.poke = { { .at = (off), .mask = 0xff, .val = (v) >> 8 },                                            \
		  { .at = (off) + 1, .mask = 0xff, .val = (v)&0xff } }

/* Offsets in a tunnel frame without VLAN tag. */
#define O4		14	      /* outer IPv4 header */
#define O6		14	      /* outer IPv6 header */
#define U4		(O4 + 20)     /* outer UDP header over IPv4 */
#define U6		(O6 + 40)     /* outer UDP header over IPv6 */
#define GUE4_VIP	"198.18.0.12" /* gue4 service: GUE over IPv4 */
#define GUE6_VIP	"2001:db8::12"
#define UNTOUCHED	.verdict = XDP_PASS, .out = DOUT_SAME
#define DECAPSULATED(n) .verdict = XDP_PASS, .out = DOUT_INNER, .strip = (n)

/* .only_local = OUTER_DST: the tunnel frame's own outer destination is the local address. */
static const char OUTER_DST[] = "outer destination";

static const struct decap_fixture drows[] = {
	/* ---- not a tunnel packet: untouched, nothing counted ---- */
	{ "plain tcp passes untouched", { TCP4("198.18.0.11"), .payload = 10 }, UNTOUCHED },
	{ "arp passes untouched", { .ethertype = ETH_P_ARP }, UNTOUCHED },
	{ "udp to 6081 (not gue_port) passes untouched",
	  { .family = 4,
	    .proto = IPPROTO_UDP,
	    .src = CLIENT4,
	    .dst = "198.18.3.1",
	    .sport = 5000,
	    .dport = 6081,
	    .payload = 40 },
	  UNTOUCHED },

	/* ---- gue_port is a load setting ---- */
	{ "gue to port 7777 passes the default decapsulator untouched",
	  { TCP4("198.18.0.12"), .sport = 1000 },
	  .encap = true,
	  .tun_gue_port = 7777,
	  UNTOUCHED },
	{ "gue to port 7777 decapsulated when loaded with gue_port 7777",
	  { TCP4("198.18.0.12"), .sport = 1000 },
	  .encap = true,
	  .tun_gue_port = 7777,
	  .gue_port = 7777,
	  DECAPSULATED(20 + 8),
	  COUNTED(GUE4) },

	/* ---- only local destinations when configured ---- */
	{ "tunnel to a non-local address rejected",
	  { TCP4("198.18.0.11") },
	  .encap = true,
	  .only_local = "198.18.250.250",
	  UNTOUCHED,
	  COUNTED(REJ_NOT_LOCAL) },
	{ "tunnel to a local address decapsulated under the local check",
	  { TCP4("198.18.0.11") },
	  .encap = true,
	  .only_local = OUTER_DST,
	  DECAPSULATED(20),
	  COUNTED(IPIP) },

	/* ---- malformed tunnel packets: untouched, rejection counted ---- */
	{ "inner version must match the outer protocol (6in4 carrying ipv4)",
	  { TCP4("198.18.0.11") },
	  .encap = true,
	  SET_BYTE(14 + 9, IPPROTO_IPV6),
	  UNTOUCHED,
	  COUNTED(REJ_BAD_INNER) },
	{ "truncated outer rejected",
	  { TCP4("198.18.0.11"), .payload = 100 },
	  .encap = true,
	  .trim = 50,
	  UNTOUCHED,
	  COUNTED(REJ_TRUNC) },
	{ "fragmented outer rejected",
	  { TCP4("198.18.0.11") },
	  .encap = true,
	  SET_BITS(14 + 6, 0x20),
	  UNTOUCHED,
	  COUNTED(REJ_FRAGMENT) },

	/* ---- the outer IPv4 header, as ip_rcv_core() checks it ---- */
	{ "ipip outer version 6 rejected",
	  { TCP4("198.18.0.11") },
	  .encap = true,
	  SET_NIBBLE_HI(O4, 6),
	  UNTOUCHED,
	  COUNTED(REJ_BAD_HDR) },
	{ "ipip outer header length 4 rejected",
	  { TCP4("198.18.0.11") },
	  .encap = true,
	  SET_BYTE(O4, 0x44),
	  UNTOUCHED,
	  COUNTED(REJ_BAD_HDR) },
	{ "gue4 outer header length 4 is not taken for gue",
	  { TCP4(GUE4_VIP) },
	  .encap = true,
	  .tun_gue_port = STD_GUE_PORT,
	  SET_BYTE(O4, 0x44),
	  UNTOUCHED },
	{ "ipip outer total length below its header rejected",
	  { TCP4("198.18.0.11") },
	  .encap = true,
	  SET_BE16(O4 + 2, 19),
	  UNTOUCHED,
	  COUNTED(REJ_BAD_HDR) },
	{ "ipip outer header checksum wrong rejected (ttl changed, checksum kept)",
	  { TCP4("198.18.0.11") },
	  .encap = true,
	  SET_BYTE(O4 + 8, 63),
	  .keep_ip_csum = true,
	  UNTOUCHED,
	  COUNTED(REJ_IP4_CSUM) },
	{ "gue4 outer header checksum wrong rejected",
	  { TCP4(GUE4_VIP) },
	  .encap = true,
	  .tun_gue_port = STD_GUE_PORT,
	  SET_BYTE(O4 + 8, 63),
	  .keep_ip_csum = true,
	  UNTOUCHED,
	  COUNTED(REJ_IP4_CSUM) },
	{ "ipip outer ttl changed with its checksum decapsulated",
	  { TCP4("198.18.0.11") },
	  .encap = true,
	  SET_BYTE(O4 + 8, 63),
	  DECAPSULATED(20),
	  COUNTED(IPIP) },
	{ "inner packet beyond the outer total length rejected",
	  { TCP4("198.18.0.11"), .payload = 40 },
	  .encap = true,
	  SET_BE16(O4 + 2, 20 + 19),
	  UNTOUCHED,
	  COUNTED(REJ_BAD_INNER) },

	/* ---- the outer IPv6 header, as ipv6_rcv() checks it ---- */
	{ "ip6ip6 outer version 4 rejected",
	  { TCP6("2001:db8::11") },
	  .encap = true,
	  SET_NIBBLE_HI(O6, 4),
	  UNTOUCHED,
	  COUNTED(REJ_BAD_HDR) },
	{ "truncated ip6ip6 outer rejected",
	  { TCP6("2001:db8::11"), .payload = 100 },
	  .encap = true,
	  .trim = 50,
	  UNTOUCHED,
	  COUNTED(REJ_TRUNC) },

	/* ---- GUE's UDP header, as udp_queue_rcv_one_skb() checks it before fou ---- */
	{ "gue4 with a valid udp checksum decapsulated",
	  { TCP4(GUE4_VIP), .payload = 33 },
	  .encap = true,
	  .tun_gue_port = STD_GUE_PORT,
	  .udp_csum = UDP_CSUM_SET,
	  DECAPSULATED(20 + 8),
	  COUNTED(GUE4) },
	{ "gue4 with a wrong udp checksum rejected",
	  { TCP4(GUE4_VIP), .payload = 33 },
	  .encap = true,
	  .tun_gue_port = STD_GUE_PORT,
	  .udp_csum = UDP_CSUM_BAD,
	  UNTOUCHED,
	  COUNTED(REJ_UDP_CSUM) },
	{ "gue4 udp length short of the payload rejected",
	  { TCP4(GUE4_VIP) },
	  .encap = true,
	  .tun_gue_port = STD_GUE_PORT,
	  SET_BE16(U4 + 4, 8 + 20),
	  UNTOUCHED,
	  COUNTED(REJ_UDP_LEN) },
	{ "gue4 udp length below the udp header rejected",
	  { TCP4(GUE4_VIP) },
	  .encap = true,
	  .tun_gue_port = STD_GUE_PORT,
	  SET_BE16(U4 + 4, 7),
	  UNTOUCHED,
	  COUNTED(REJ_UDP_LEN) },
	{ "gue6 with the director's udp checksum decapsulated",
	  { TCP6(GUE6_VIP), .payload = 33 },
	  .encap = true,
	  DECAPSULATED(40 + 8),
	  COUNTED(GUE6) },
	{ "gue6 with a zero udp checksum decapsulated (RFC 6935)",
	  { TCP6(GUE6_VIP), .payload = 33 },
	  .encap = true,
	  SET_BE16(U6 + 6, 0),
	  DECAPSULATED(40 + 8),
	  COUNTED(GUE6) },
	{ "gue6 with an inner byte changed rejected by its udp checksum",
	  { TCP6(GUE6_VIP), .payload = 33 },
	  .encap = true,
	  SET_BYTE(U6 + 8 + 7, 1),
	  UNTOUCHED,
	  COUNTED(REJ_UDP_CSUM) },
	{ "gue6 with a wrong udp checksum rejected",
	  { TCP6(GUE6_VIP), .payload = 33 },
	  .encap = true,
	  .udp_csum = UDP_CSUM_BAD,
	  UNTOUCHED,
	  COUNTED(REJ_UDP_CSUM) },
	{ "gue6 udp length beyond the payload rejected",
	  { TCP6(GUE6_VIP) },
	  .encap = true,
	  SET_BE16(U6 + 4, 1000),
	  UNTOUCHED,
	  COUNTED(REJ_UDP_LEN) },
};

#define NDROWS (sizeof(drows) / sizeof(drows[0]))

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t tun_udp_dport4(const uint8_t *tun)
{
	return (uint16_t)(tun[14 + 20 + 2] << 8 | tun[14 + 20 + 3]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The row's pokes, then the checksums it asks for (edited by the test, computed by pktgen.c). */
static void edit_tunnel_frame(const struct decap_fixture *f, uint8_t *frame, size_t len)
{
	uint8_t *ip = frame + 14, *uh = NULL;
	size_t ulen = 0;
	int i;

	for (i = 0; i < NPOKES; i++)
		if (f->poke[i].at)
			frame[f->poke[i].at] = (uint8_t)((frame[f->poke[i].at] & ~f->poke[i].mask) |
							 f->poke[i].val);
	if (get16(frame + 12) == ETH_P_IP && !f->keep_ip_csum) {
		put_be16(ip + 10, 0);
		put_be16(ip + 10, csum_finish(csum_partial(ip, (ip[0] & 0xf) * 4u, 0)));
	}
	if (f->udp_csum == UDP_CSUM_KEEP)
		return;
	cr_assert(f->pkt.vlan == 0, "%s: udp_csum edits frames without a VLAN tag", f->name);
	uh = frame + (get16(frame + 12) == ETH_P_IP ? U4 : U6);
	ulen = len - (size_t)(uh - frame);
	put_be16(uh + 6, 0);
	if (get16(frame + 12) == ETH_P_IP)
		put_be16(uh + 6, l4_csum4(ip, uh, ulen, IPPROTO_UDP));
	else
		put_be16(uh + 6, l4_csum6(ip, uh, ulen, IPPROTO_UDP));
	/* 0xffff + 1 would be 0, "no checksum", which is accepted (and 0xffff is 0x0000's equal) */
	if (f->udp_csum == UDP_CSUM_BAD) {
		cr_assert_neq(get16(uh + 6), 0xffff, "%s: pick another payload", f->name);
		put_be16(uh + 6, (uint16_t)(get16(uh + 6) + 1));
	}
}

/*
 * The frame a row feeds the decapsulator, into frame; the client's own frame
 * (what the director encapsulated) into client.
 */
static size_t decap_row_frame(const struct decap_fixture *f, uint8_t *frame, uint8_t *client,
			      size_t *client_len)
{
	struct pkt_spec pkt = f->pkt;
	struct world w;
	size_t len;

	if (!f->encap) {
		len = pkt_build(&pkt, frame);
		memcpy(client, frame, len);
		*client_len = len;
		return len - f->trim;
	}
	world_open(&w, NULL);
	world_std(&w);
	for (;; pkt.sport++) {
		*client_len = pkt_build(&pkt, client);
		cr_assert_eq(world_run(&w, client, *client_len, frame, &len), XDP_TX,
			     "%s: director did not forward", f->name);
		if (!f->tun_gue_port || tun_udp_dport4(frame) == f->tun_gue_port)
			break;
		cr_assert_lt(pkt.sport, f->pkt.sport + 1000, "%s: no flow goes to a real on GUE port %u",
			     f->name, f->tun_gue_port);
	}
	world_close(&w);
	edit_tunnel_frame(f, frame, len);
	return len - f->trim;
}

static void decap_row_setup(const struct decap_fixture *f, struct decap *d, const uint8_t *frame)
{
	char dst[INET_ADDRSTRLEN];

	decap_open(d, f->gue_port);
	if (!f->only_local)
		return;
	if (f->only_local == OUTER_DST) {
		inet_ntop(AF_INET, frame + 14 + 16, dst, sizeof(dst));
		decap_only_local(d, 4, dst);
	} else {
		decap_only_local(d, 4, f->only_local);
	}
}

static void run_decap_fixture(const struct decap_fixture *f)
{
	static uint8_t in[PKT_MAX], client[PKT_MAX], out[PKT_MAX];
	size_t len, client_len, out_len;
	struct decap d;
	int verdict;

	len = decap_row_frame(f, in, client, &client_len);
	decap_row_setup(f, &d, in);
	verdict = decap_run(&d, in, len, out, &out_len);
	cr_assert_eq(verdict, f->verdict, "%s: verdict %d, want %d", f->name, verdict, f->verdict);

	if (f->counter) {
		cr_expect_eq(decap_count(&d, f->counter - 1), 1, "%s: %s counted once", f->name,
			     xlvs_decap_names[f->counter - 1]);
		cr_expect_eq(decap_total(&d), 1, "%s: no other counter moved", f->name);
	} else {
		cr_expect_eq(decap_total(&d), 0, "%s: a counter moved for a packet that is not ours",
			     f->name);
	}

	switch (f->out) {
	case DOUT_SAME:
		cr_expect_eq(out_len, len, "%s: length changed", f->name);
		cr_expect_eq(memcmp(out, in, len), 0, "%s: frame changed", f->name);
		break;
	case DOUT_INNER:
		cr_assert_eq(out_len, len - f->strip, "%s: decapsulated length %zu, want %zu", f->name,
			     out_len, len - f->strip);
		cr_assert_eq(out_len, client_len, "%s: not the client's frame length", f->name);
		cr_expect_eq(memcmp(out, in, 12), 0, "%s: MACs of the tunnel frame kept", f->name);
		cr_expect_eq(memcmp(out + 12, client + 12, client_len - 12), 0,
			     "%s: datagram identical to what the client sent", f->name);
		break;
	}
	xlvs_decap_bpf__destroy(d.skel);
}

ParameterizedTestParameters(decap, rows)
{
	size_t *idx = cr_malloc(sizeof(*idx) * NDROWS), i;

	for (i = 0; i < NDROWS; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NDROWS, free_params);
}

ParameterizedTest(size_t *i, decap, rows)
{
	cr_log_info("row %zu: %s", *i, drows[*i].name);
	run_decap_fixture(&drows[*i]);
}
