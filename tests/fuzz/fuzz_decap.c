// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: frames through the real-server decapsulator
 * (bpf/xlvs_decap.bpf.c) with BPF_PROG_RUN. An independent model of what the
 * decapsulator promises (IPIP, 6in4, GUE over IPv4; IP6IP6, 4in6, GUE over
 * IPv6; rejected: a bad outer header (version, header length, total length
 * below the header), a wrong IPv4 header checksum, fragments, truncation, a
 * GUE UDP length other than the IP payload's or a wrong non-zero UDP
 * checksum, non-local destinations, inner packets beyond the outer datagram
 * or of the wrong version) predicts the counter; on every run:
 *   - the verdict is XDP_PASS;
 *   - exactly the predicted counter moves, by one (none for non-tunnel frames);
 *   - decapsulated: the frame is the input's MACs (and VLAN tag), the inner
 *     EtherType, then the inner packet byte-identical, olen bytes shorter;
 *   - otherwise the frame is unchanged.
 * Input: option byte (FZ_DC_*, tests/fuzz/fuzz_pkt.h), then the frame.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlvs/abi.h>

#include "fuzz_pkt.h"
#include "pktgen.h"
#include "xlvs_decap.skel.h"

/* Tunnel endpoints of the standard world's reals (tests/bpf/world.c) that count as local with CHECK_DST. */
static const char *const local4[] = { "198.18.2.1", "198.18.2.2", "198.18.3.1", "198.18.3.2", "198.18.6.1" };
static const char *const local6[] = { "2001:db8:2::1", "2001:db8:2::2", "2001:db8:3::1",
				      "2001:db8:4::1", "2001:db8:4::2", "2001:db8:5::1" };

static struct dc {
	struct xlvs_decap_bpf *skel;
	int prog, cfg, stats;
	uint16_t gue_port;
} dcs[2];
static int ncpus;

/* The BPF program is not instrumented: the counter that moved (or none) is fed back as a feature. */
__attribute__((used,
	       section("__libfuzzer_extra_counters"))) static uint8_t features[2 * (XLVS_DECAP_MAX + 1)];

static void dc_open(struct dc *d, uint16_t port)
{
	struct bpf_map *m;
	uint32_t one = 1;
	size_t i;

	d->skel = xlvs_decap_bpf__open();
	FZ_ASSERT(d->skel, "open xlvs_decap");
	bpf_object__for_each_map (m, d->skel->obj)
		bpf_map__set_pin_path(m, NULL);
	d->skel->rodata->gue_port = port;
	d->gue_port = port;
	FZ_ASSERT(!xlvs_decap_bpf__load(d->skel), "load xlvs_decap: %s", strerror(errno));
	d->prog = bpf_program__fd(d->skel->progs.xlvs_decap);
	d->cfg = bpf_map__fd(d->skel->maps.xlvs_decap_cfg);
	d->stats = bpf_map__fd(d->skel->maps.xlvs_decap_stats);
	for (i = 0; i < sizeof(local4) / sizeof(local4[0]); i++) {
		struct xlvs_vip_key k = { .family = 4 };

		parse_addr(4, local4[i], k.addr);
		FZ_ASSERT(!bpf_map_update_elem(bpf_map__fd(d->skel->maps.xlvs_decap_addrs), &k, &one, 0),
			  "addr");
	}
	for (i = 0; i < sizeof(local6) / sizeof(local6[0]); i++) {
		struct xlvs_vip_key k = { .family = 6 };

		parse_addr(6, local6[i], k.addr);
		FZ_ASSERT(!bpf_map_update_elem(bpf_map__fd(d->skel->maps.xlvs_decap_addrs), &k, &one, 0),
			  "addr");
	}
}

/* XLVS_FUZZ_SUMMARY=1: at exit, how often each counter moved (for docs/reliability.md). */
static uint64_t moved_count[XLVS_DECAP_MAX + 1];

static void summary(void)
{
	int i;

	fprintf(stderr, "summary: none (not a tunnel) %lu\n", (unsigned long)moved_count[0]);
	for (i = 0; i < XLVS_DECAP_MAX; i++)
		fprintf(stderr, "summary: %-26s %lu\n", xlvs_decap_names[i],
			(unsigned long)moved_count[i + 1]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (getenv("XLVS_FUZZ_SUMMARY"))
		atexit(summary);
	ncpus = libbpf_num_possible_cpus();
	dc_open(&dcs[0], XLVS_GUE_PORT_DEFAULT);
	dc_open(&dcs[1], 7777);
	return 0;
}

static void counters(const struct dc *d, uint64_t *out)
{
	uint64_t vals[XLVS_DECAP_MAX * ncpus];
	uint32_t keys[XLVS_DECAP_MAX], n = XLVS_DECAP_MAX, next;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int i, c;

	if (bpf_map_lookup_batch(d->stats, NULL, &next, keys, vals, &n, &opts) && errno != ENOENT)
		FZ_ASSERT(0, "lookup_batch: %s", strerror(errno));
	FZ_ASSERT(n == XLVS_DECAP_MAX, "lookup_batch gave %u", n);
	for (i = 0; i < XLVS_DECAP_MAX; i++)
		for (out[i] = 0, c = 0; c < ncpus; c++)
			out[i] += vals[i * ncpus + c];
}

static bool is_local(uint8_t family, const uint8_t *addr)
{
	const char *const *list = family == 4 ? local4 : local6;
	size_t n = family == 4 ? sizeof(local4) / sizeof(local4[0]) : sizeof(local6) / sizeof(local6[0]), i;
	uint8_t a[16];

	for (i = 0; i < n; i++) {
		parse_addr(family, list[i], a);
		if (!memcmp(a, addr, family == 4 ? 4 : 16))
			return true;
	}
	return false;
}

/* GUE's UDP header: its length is the IP payload's, a non-zero checksum verifies. */
static int model_gue(const uint8_t *ip, uint8_t family, const uint8_t *uh, size_t plen)
{
	if (fz_get16(uh + 4) != plen)
		return XLVS_DECAP_REJ_UDP_LEN;
	if (fz_get16(uh + 6) && fz_csum(uh, plen, fz_pseudo(ip, family, IPPROTO_UDP, plen)))
		return XLVS_DECAP_REJ_UDP_CSUM;
	return -1;
}

/* IPv4 outer: the counter of a refusal, -1 when it passes; *tot: the datagram's length. */
static int model_outer4(const uint8_t *ip, size_t avail, int kind, size_t olen, size_t *tot)
{
	size_t hlen = (size_t)(ip[0] & 0xf) * 4;

	*tot = fz_get16(ip + 2);
	if (ip[0] >> 4 != 4 || hlen < 20 || *tot < hlen)
		return XLVS_DECAP_REJ_BAD_HDR;
	if (*tot > avail)
		return XLVS_DECAP_REJ_TRUNC;
	if (fz_csum(ip, hlen, 0))
		return XLVS_DECAP_REJ_IP4_CSUM;
	if (fz_get16(ip + 6) & 0x3fff)
		return XLVS_DECAP_REJ_FRAGMENT;
	if (*tot < olen)
		return XLVS_DECAP_REJ_TRUNC;
	return kind == XLVS_DECAP_GUE4 ? model_gue(ip, 4, ip + hlen, *tot - hlen) : -1;
}

static int model_outer6(const uint8_t *ip, size_t avail, int kind, size_t olen, size_t *tot)
{
	size_t plen = fz_get16(ip + 4);

	*tot = 40 + plen;
	if (ip[0] >> 4 != 6)
		return XLVS_DECAP_REJ_BAD_HDR;
	if (*tot > avail || *tot < olen)
		return XLVS_DECAP_REJ_TRUNC;
	return kind == XLVS_DECAP_GUE6 ? model_gue(ip, 6, ip + 40, plen) : -1;
}

/*
 * The model: -1 for "not a tunnel packet" (no counter), else the counter that
 * must move; *olen: the outer bytes stripped, *inner: the inner version. The
 * outer checks follow the kernel's receive path (ip_rcv_core(), ipv6_rcv(),
 * the UDP checks before fou), as bpf/xlvs_decap.bpf.c documents them.
 */
static int model(const uint8_t *f, size_t len, uint16_t gue_port, bool check_dst, size_t *olenp, int *innerp)
{
	uint16_t et;
	size_t l2 = fz_l2(f, len, &et), olen, tot;
	const uint8_t *ip = f + l2;
	int kind, want, ver, rej;

	if (!l2 || (et != 0x0800 && et != 0x86dd))
		return -1;
	if (et == 0x0800) {
		if (l2 + 20 > len)
			return -1;
		olen = (size_t)(ip[0] & 0xf) * 4;
		if (ip[9] == IPPROTO_IPIP)
			kind = XLVS_DECAP_IPIP, want = 4;
		else if (ip[9] == IPPROTO_IPV6)
			kind = XLVS_DECAP_6IN4, want = 6;
		else if (ip[9] == IPPROTO_UDP && olen >= 20 && l2 + olen + 8 <= len &&
			 fz_get16(ip + olen + 2) == gue_port)
			kind = XLVS_DECAP_GUE4, want = 0, olen += 8;
		else
			return -1;
		rej = model_outer4(ip, len - l2, kind, olen, &tot);
	} else {
		if (l2 + 40 > len)
			return -1;
		olen = 40;
		if (ip[6] == IPPROTO_IPV6)
			kind = XLVS_DECAP_IP6IP6, want = 6;
		else if (ip[6] == IPPROTO_IPIP)
			kind = XLVS_DECAP_4IN6, want = 4;
		else if (ip[6] == IPPROTO_UDP && l2 + 48 <= len && fz_get16(ip + 42) == gue_port)
			kind = XLVS_DECAP_GUE6, want = 0, olen += 8;
		else
			return -1;
		rej = model_outer6(ip, len - l2, kind, olen, &tot);
	}
	if (rej >= 0)
		return rej;
	if (check_dst && !is_local(et == 0x0800 ? 4 : 6, ip + (et == 0x0800 ? 16 : 24)))
		return XLVS_DECAP_REJ_NOT_LOCAL;
	if (olen + 20 > tot)
		return XLVS_DECAP_REJ_BAD_INNER;
	ver = f[l2 + olen] >> 4;
	if ((want && ver != want) || (ver != 4 && ver != 6))
		return XLVS_DECAP_REJ_BAD_INNER;
	if (len < 18 || olen + 18 > len)
		return XLVS_DECAP_REJ_TRUNC;
	*olenp = olen;
	*innerp = ver;
	return kind;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t in[FZ_FRAME_MAX], out[PKT_MAX];
	uint64_t a[XLVS_DECAP_MAX], b[XLVS_DECAP_MAX];
	struct xlvs_decap_cfg cfg = { 0 };
	uint32_t zero = 0;
	size_t len, l2, out_len, olen = 0;
	uint16_t et = 0;
	int kind, inner = 0, moved = -1, i;
	struct dc *d;
	uint8_t opt;

	if (size < 1 + FZ_FRAME_MIN || size > 1 + FZ_FRAME_MAX)
		return 0;
	opt = data[0];
	len = size - 1;
	memcpy(in, data + 1, len);
	d = &dcs[!!(opt & FZ_DC_GUE7777)];
	l2 = fz_l2(in, len, &et);
	if ((opt & FZ_DC_FIXUP) && l2 && (et == 0x0800 || et == 0x86dd))
		fz_fixup(in, len, l2, d->gue_port, 0);
	if (opt & FZ_DC_CHECK_DST)
		cfg.flags = XLVS_DECAP_F_CHECK_DST;
	FZ_ASSERT(!bpf_map_update_elem(d->cfg, &zero, &cfg, 0), "cfg");

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (uint32_t)len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	counters(d, a);
	FZ_ASSERT(!bpf_prog_test_run_opts(d->prog, &opts), "BPF_PROG_RUN: %s", strerror(errno));
	counters(d, b);
	out_len = opts.data_size_out;

	FZ_ASSERT(opts.retval == XDP_PASS, "verdict %u", opts.retval);
	for (i = 0; i < XLVS_DECAP_MAX; i++) {
		uint64_t dv = b[i] - a[i];

		FZ_ASSERT(dv <= 1, "counter %s moved by %lu", xlvs_decap_names[i], (unsigned long)dv);
		if (dv) {
			FZ_ASSERT(moved < 0, "counters %s and %s both moved", xlvs_decap_names[moved],
				  xlvs_decap_names[i]);
			moved = i;
		}
	}
	features[(moved + 1) * 2 + !!(opt & FZ_DC_CHECK_DST)]++;
	moved_count[moved + 1]++;
	kind = model(in, len, d->gue_port, cfg.flags & XLVS_DECAP_F_CHECK_DST, &olen, &inner);
	FZ_ASSERT(moved == kind, "counter moved: %s, model: %s", moved < 0 ? "none" : xlvs_decap_names[moved],
		  kind < 0 ? "none" : xlvs_decap_names[kind]);
	if (kind < 0 || kind >= XLVS_DECAP_REJ_NOT_LOCAL) {
		FZ_ASSERT(out_len == len && !memcmp(out, in, len), "frame changed without decapsulation (%s)",
			  kind < 0 ? "not a tunnel" : xlvs_decap_names[kind]);
		return 0;
	}
	FZ_ASSERT(out_len == len - olen, "decapsulated length %zu, want %zu", out_len, len - olen);
	FZ_ASSERT(!memcmp(out, in, l2 - 2), "MACs and VLAN tag kept");
	FZ_ASSERT(fz_get16(out + l2 - 2) == (inner == 4 ? 0x0800 : 0x86dd), "inner EtherType");
	FZ_ASSERT(!memcmp(out + l2, in + l2 + olen, len - l2 - olen), "inner packet byte-identical");
	return 0;
}
