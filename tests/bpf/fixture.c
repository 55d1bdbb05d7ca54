// SPDX-License-Identifier: GPL-2.0
/* Runs one fixture row and checks everything it promises. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlvs/hash.h>
#include "fixture.h"
#include "../fuzz/fuzz_pkt.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The client -> VIP flow of a row; for ICMP errors that of the quoted packet, reversed. */
void fixture_flow(const struct fixture *f, struct xlvs_flow *flow)
{
	const struct pkt_spec *q = f->pkt.quote;

	if (!q) {
		spec_flow(&f->pkt, flow);
		if (f->pkt.proto == IPPROTO_ICMP || f->pkt.proto == IPPROTO_ICMPV6)
			flow->dport = 0;
		return;
	}
	memset(flow, 0, sizeof(*flow));
	flow->family = q->family;
	parse_addr(q->family, q->dst, flow->src);
	parse_addr(q->family, q->src, flow->dst);
	flow->sport = htons(q->dport);
	flow->dport = htons(q->sport);
	flow->proto = q->proto;
}

static size_t l2_len(const struct fixture *f)
{
	return f->pkt.vlan ? 18 : 14;
}

/*
 * Every checksum the data path writes is compared with the value a sender
 * computes from scratch (RFC 1071): the covered bytes copied with the field
 * zeroed, summed, complemented. Equality, not just "verifies": for data
 * that is all zero the only correct value is 0xffff (the sum is +0), for
 * nonzero data summing to -0 it is 0x0000.
 */
static uint16_t scratch_csum(const uint8_t *start, size_t len, size_t field, uint32_t seed)
{
	static uint8_t copy[PKT_MAX];

	cr_assert_leq(len, sizeof(copy));
	memcpy(copy, start, len);
	copy[field] = copy[field + 1] = 0;
	return csum_finish(csum_partial(copy, len, seed));
}

static void expect_ip4_csum(const struct fixture *f, const char *what, const uint8_t *ip)
{
	size_t hl = (size_t)(ip[0] & 0xf) * 4;
	uint16_t want = scratch_csum(ip, hl, 10, 0);

	cr_expect_eq(get16(ip + 10), want, "%s: %s IPv4 header checksum 0x%04x, recomputed 0x%04x", f->name,
		     what, get16(ip + 10), want);
}

static void expect_icmp4_csum(const struct fixture *f, const char *what, const uint8_t *ic, size_t len)
{
	uint16_t want = scratch_csum(ic, len, 2, 0);

	cr_expect_eq(get16(ic + 2), want, "%s: %s ICMP checksum 0x%04x, recomputed 0x%04x over %zu bytes",
		     f->name, what, get16(ic + 2), want, len);
}

/* ICMPv6 or UDP over IPv6 (field at 2 or 6): pseudo header summed too. UDP sends a zero result as 0xffff. */
static void expect_l4_csum6(const struct fixture *f, const char *what, const uint8_t *ip6, const uint8_t *l4,
			    size_t len, uint8_t proto, size_t field)
{
	static uint8_t copy[PKT_MAX];
	uint16_t want;

	cr_assert_leq(len, sizeof(copy));
	memcpy(copy, l4, len);
	copy[field] = copy[field + 1] = 0;
	want = l4_csum6(ip6, copy, len, proto);
	if (proto == IPPROTO_UDP && !want)
		want = 0xffff;
	cr_expect_eq(get16(l4 + field), want, "%s: %s checksum 0x%04x, recomputed 0x%04x over %zu bytes",
		     f->name, what, get16(l4 + field), want, len);
}

static void check_outer_ip4(const struct fixture *f, const uint8_t *ip, const struct xlvs_real *r,
			    uint8_t proto, size_t inner_len, size_t olen)
{
	uint32_t src;

	parse_addr(4, STD_SRC4, &src);
	cr_expect_eq(ip[0], 0x45, "%s: outer version/ihl", f->name);
	cr_expect_eq(ip[1], f->pkt.tos, "%s: TOS copied", f->name);
	cr_expect_eq(get16(ip + 2), inner_len + olen, "%s: outer tot_len", f->name);
	cr_expect_eq(get16(ip + 6) & 0x4000, f->pkt.no_df && f->pkt.family == 4 ? 0 : 0x4000,
		     "%s: outer DF follows inner", f->name);
	cr_expect_eq(ip[8], XLVS_TUN_TTL, "%s: outer TTL", f->name);
	cr_expect_eq(ip[9], proto, "%s: outer protocol", f->name);
	expect_ip4_csum(f, "outer", ip);
	cr_expect_eq(memcmp(ip + 12, &src, 4), 0, "%s: outer source", f->name);
	cr_expect_eq(memcmp(ip + 16, r->addr, 4), 0, "%s: outer destination = real", f->name);
}

static void check_outer_ip6(const struct fixture *f, const uint8_t *ip6, const struct xlvs_real *r,
			    uint8_t proto, size_t payload, uint32_t hash)
{
	uint32_t src[4], vtcfl = (uint32_t)get16(ip6) << 16 | get16(ip6 + 2);

	parse_addr(6, STD_SRC6, src);
	cr_expect_eq(vtcfl >> 28, 6, "%s: outer version", f->name);
	cr_expect_eq((vtcfl >> 20) & 0xff, f->pkt.tos, "%s: traffic class copied", f->name);
	cr_expect_eq(vtcfl & 0xfffff, hash & 0xfffff, "%s: flow label from flow hash", f->name);
	cr_expect_eq(get16(ip6 + 4), payload, "%s: outer payload length", f->name);
	cr_expect_eq(ip6[6], proto, "%s: outer next header", f->name);
	cr_expect_eq(ip6[7], XLVS_TUN_TTL, "%s: outer hop limit", f->name);
	cr_expect_eq(memcmp(ip6 + 8, src, 16), 0, "%s: outer source", f->name);
	cr_expect_eq(memcmp(ip6 + 24, r->addr, 16), 0, "%s: outer destination = real", f->name);
}

static void check_tunnel(const struct fixture *f, const struct xlvs_real *r, uint32_t hash, const uint8_t *in,
			 size_t in_len, const uint8_t *out, size_t out_len)
{
	size_t l2 = l2_len(f), inner_len = in_len - l2;
	bool gue = f->out == OUT_GUE || (f->out == OUT_PASS_ENCAP && r->fwd == XLVS_FWD_GUE);
	size_t iplen = r->family == 4 ? 20 : 40, olen = iplen + (gue ? 8 : 0);
	uint8_t proto = gue ? IPPROTO_UDP : (f->pkt.family == 4 ? IPPROTO_IPIP : IPPROTO_IPV6);
	const uint8_t *ip = out + l2, *inner = out + l2 + olen;

	cr_assert_eq(out_len, in_len + olen, "%s: encapsulated length %zu, want %zu", f->name, out_len,
		     in_len + olen);
	if (f->pkt.vlan)
		cr_expect_eq(memcmp(out + 12, in + 12, 4), 0, "%s: VLAN tag kept", f->name);
	cr_expect_eq(get16(out + l2 - 2), r->family == 4 ? ETH_P_IP : ETH_P_IPV6, "%s: outer EtherType",
		     f->name);
	if (r->family == 4)
		check_outer_ip4(f, ip, r, proto, inner_len, olen);
	else
		check_outer_ip6(f, ip, r, proto, inner_len + olen - iplen, hash);
	cr_expect_eq(memcmp(inner, in + l2, inner_len), 0, "%s: inner packet byte-identical", f->name);
	if (!gue)
		return;

	const uint8_t *uh = ip + iplen;
	uint16_t want_port = r->gue_port ? ntohs(r->gue_port) : STD_GUE_PORT;

	cr_expect_eq(get16(uh), xlvs_gue_sport(hash), "%s: GUE source port from flow hash", f->name);
	cr_expect_eq(get16(uh + 2), want_port, "%s: GUE destination port", f->name);
	cr_expect_eq(get16(uh + 4), inner_len + 8, "%s: UDP length", f->name);
	if (r->family == 4)
		cr_expect_eq(get16(uh + 6), 0, "%s: IPv4 GUE sends no UDP checksum", f->name);
	else
		expect_l4_csum6(f, "IPv6 GUE outer UDP", ip, uh, inner_len + 8, IPPROTO_UDP, 6);
}

void check_forwarded(struct world *w, const struct fixture *f, const uint8_t *in, size_t in_len,
		     const uint8_t *out, size_t out_len)
{
	struct xlvs_flow flow;
	struct xlvs_real r;
	uint32_t id, hash;
	uint8_t mac[6];

	fixture_flow(f, &flow);
	hash = world_flow_hash(w, &flow);
	id = world_ring_pick(w, f->svc, &flow);
	cr_assert_neq(id, XLVS_REAL_NONE, "%s: ring slot empty", f->name);
	world_get_real(w, id, &r);
	cr_assert_eq(std_svc_of_real(id), f->svc, "%s: ring of service %d gave real %u", f->name, f->svc, id);

	real_mac(id, mac);
	if (f->out == OUT_PASS_ENCAP) {
		cr_expect_eq(memcmp(out, in, 12), 0, "%s: MACs kept for the kernel", f->name);
	} else {
		cr_expect_eq(memcmp(out, mac, 6), 0, "%s: destination MAC = next hop of real %u", f->name,
			     id);
		cr_expect_eq(memcmp(out + 6, MAC_LB, 6), 0, "%s: source MAC = ours", f->name);
	}
	if (f->out == OUT_DR) {
		cr_assert_eq(out_len, in_len, "%s: DR keeps the length", f->name);
		cr_expect_eq(memcmp(out + 12, in + 12, in_len - 12), 0, "%s: DR changes only MACs", f->name);
	} else {
		check_tunnel(f, &r, hash, in, in_len, out, out_len);
	}

	struct xlvs_counters sc = world_svc_stats(w, (uint32_t)f->svc), rc = world_real_stats(w, id);
	bool new_flow = !f->pkt.quote;

	cr_expect_eq(sc.packets, 1, "%s: service packets", f->name);
	cr_expect_eq(sc.bytes, in_len, "%s: service bytes", f->name);
	cr_expect_eq(sc.new_flows, new_flow, "%s: service new flows", f->name);
	cr_expect_eq(rc.packets, 1, "%s: real packets", f->name);
	cr_expect_eq(rc.new_flows, new_flow, "%s: real new flows", f->name);
}

static void check_echo(const struct fixture *f, const uint8_t *in, size_t in_len, const uint8_t *out,
		       size_t out_len)
{
	size_t l2 = l2_len(f);
	const uint8_t *ip = out + l2, *iin = in + l2;

	cr_assert_eq(out_len, in_len, "%s: echo reply length", f->name);
	cr_expect_eq(memcmp(out, in + 6, 6), 0, "%s: reply to the sender's MAC", f->name);
	cr_expect_eq(memcmp(out + 6, in, 6), 0, "%s: reply from our MAC", f->name);
	if (f->pkt.family == 4) {
		cr_expect_eq(memcmp(ip + 12, iin + 16, 4), 0, "%s: src = VIP", f->name);
		cr_expect_eq(memcmp(ip + 16, iin + 12, 4), 0, "%s: dst = client", f->name);
		cr_assert_leq(get16(ip + 2), out_len - l2, "%s: echo reply tot_len", f->name);
		expect_ip4_csum(f, "echo reply", ip);
		cr_expect_eq(ip[20], 0, "%s: echo reply type", f->name);
		expect_icmp4_csum(f, "echo reply", ip + 20, get16(ip + 2) - 20u);
	} else {
		cr_expect_eq(memcmp(ip + 8, iin + 24, 16), 0, "%s: src = VIP", f->name);
		cr_expect_eq(memcmp(ip + 24, iin + 8, 16), 0, "%s: dst = client", f->name);
		cr_expect_eq(ip[40], 129, "%s: echo reply type", f->name);
		cr_assert_leq(get16(ip + 4) + 40u, out_len - l2, "%s: echo reply payload length", f->name);
		expect_l4_csum6(f, "echo reply ICMPv6", ip, ip + 40, get16(ip + 4), IPPROTO_ICMPV6, 2);
	}
	cr_expect_eq(memcmp(ip + (f->pkt.family == 4 ? 24 : 44), iin + (f->pkt.family == 4 ? 24 : 44), 4), 0,
		     "%s: echo identifier and sequence kept", f->name);
	cr_expect_eq(memcmp(ip + (f->pkt.family == 4 ? 28 : 48), iin + (f->pkt.family == 4 ? 28 : 48),
			    in_len - l2 - (f->pkt.family == 4 ? 28 : 48)),
		     0, "%s: echo data kept", f->name);
}

static void check_too_big(const struct fixture *f, const uint8_t *in, size_t in_len, const uint8_t *out,
			  size_t out_len)
{
	size_t l2 = l2_len(f), hdrs = f->pkt.family == 4 ? 28 : 48, quote = f->pkt.family == 4 ? 548 : 1232;
	const uint8_t *ip = out + l2, *iin = in + l2;

	cr_assert_eq(out_len, l2 + hdrs + quote, "%s: ICMP reply length %zu", f->name, out_len);
	cr_expect_eq(memcmp(out, in + 6, 6), 0, "%s: reply to the sender's MAC", f->name);
	cr_expect_eq(memcmp(out + 6, in, 6), 0, "%s: reply from our MAC", f->name);
	if (f->pkt.vlan)
		cr_expect_eq(memcmp(out + 12, in + 12, 4), 0, "%s: VLAN tag kept", f->name);
	cr_expect_eq(memcmp(ip + hdrs, iin, quote), 0, "%s: quotes the original datagram", f->name);
	if (f->pkt.family == 4) {
		cr_expect_eq(get16(out + l2 - 2), ETH_P_IP);
		expect_ip4_csum(f, "frag needed", ip);
		cr_expect_eq(get16(ip + 2), hdrs + quote, "%s: tot_len", f->name);
		cr_expect_eq(ip[9], IPPROTO_ICMP);
		cr_expect_eq(memcmp(ip + 12, iin + 16, 4), 0, "%s: src = VIP", f->name);
		cr_expect_eq(memcmp(ip + 16, iin + 12, 4), 0, "%s: dst = client", f->name);
		cr_expect_eq(ip[20], 3, "%s: type dest unreachable", f->name);
		cr_expect_eq(ip[21], 4, "%s: code frag needed", f->name);
		cr_expect_eq(get16(ip + 26), f->mtu, "%s: next-hop MTU", f->name);
		expect_icmp4_csum(f, "frag needed", ip + 20, 8 + quote);
	} else {
		cr_expect_eq(get16(out + l2 - 2), ETH_P_IPV6);
		cr_expect_eq(get16(ip + 4), 8 + quote, "%s: payload length", f->name);
		cr_expect_eq(ip[6], IPPROTO_ICMPV6);
		cr_expect_eq(memcmp(ip + 8, iin + 24, 16), 0, "%s: src = VIP", f->name);
		cr_expect_eq(memcmp(ip + 24, iin + 8, 16), 0, "%s: dst = client", f->name);
		cr_expect_eq(ip[40], 2, "%s: type packet too big", f->name);
		cr_expect_eq((uint32_t)get16(ip + 44) << 16 | get16(ip + 46), f->mtu, "%s: MTU", f->name);
		expect_l4_csum6(f, "packet too big ICMPv6", ip, ip + 40, 8 + quote, IPPROTO_ICMPV6, 2);
	}
}

static void check_counters(struct world *w, const struct fixture *f)
{
	uint64_t total = world_drops_total(w);

	if (f->drop) {
		cr_expect_eq(world_drop(w, f->drop - 1), 1, "%s: drop reason %s counted once", f->name,
			     xlvs_drop_names[f->drop - 1]);
		cr_expect_eq(total, 1, "%s: no other drop counted", f->name);
	} else {
		cr_expect_eq(total, 0, "%s: no drop counted", f->name);
	}
	if (f->event)
		cr_expect_geq(world_event(w, f->event - 1), 1, "%s: event %s counted", f->name,
			      xlvs_event_names[f->event - 1]);
}

void apply_cfg_change(struct world *w, const struct cfg_change *c)
{
	struct xlvs_config cfg;

	if (!c->set_flags && !c->set_tun_mtu && !c->no_tun_src)
		return;
	world_get_config(w, &cfg);
	cfg.flags |= c->set_flags;
	if (c->set_tun_mtu)
		cfg.tun_mtu = c->tun_mtu;
	if (c->no_tun_src) {
		cfg.src4 = 0;
		memset(cfg.src6, 0, sizeof(cfg.src6));
	}
	world_set_config(w, &cfg);
}

static void write_seed(const char *dir, const char *target, const char *name, const uint8_t *opt, size_t nopt,
		       const uint8_t *frame, size_t len)
{
	char path[512], *c;
	FILE *fp;
	int n;

	n = snprintf(path, sizeof(path), "%s/%s/", dir, target);
	snprintf(path + n, sizeof(path) - (size_t)n, "%s", name);
	for (c = path + n; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			*c = '-';
	fp = fopen(path, "wb");
	cr_assert(fp, "%s: %s", path, strerror(errno));
	cr_assert(fwrite(opt, 1, nopt, fp) == nopt && fwrite(frame, 1, len, fp) == len && !fclose(fp), "%s",
		  path);
}

/*
 * XLVS_FUZZ_SEEDS=DIR (make fuzz-seeds): the row's frame becomes a seed of the
 * director's fuzz target, with the row's config as its option bytes, and a
 * tunnel it produced one of the decapsulator's (tests/fuzz/fuzz_pkt.h).
 */
static void fuzz_seeds(const struct fixture *f, const uint8_t *in, size_t in_len, int verdict,
		       const uint8_t *out, size_t out_len)
{
	const char *dir = getenv("XLVS_FUZZ_SEEDS");
	const struct pkt_spec *s = &f->pkt;
	uint8_t opt[2] = { 0, 0 };
	size_t l2 = s->vlan ? 18 : 14;

	if (!dir)
		return;
	if (f->cfg.set_flags & XLVS_CFG_F_FRAG_DROP)
		opt[0] |= FZ_LB_FRAG_DROP;
	if (f->cfg.set_flags & XLVS_CFG_F_IP4_OPT_DROP)
		opt[0] |= FZ_LB_OPT_DROP;
	if (f->cfg.set_tun_mtu)
		opt[0] |= fz_lb_mtu_bits(f->cfg.tun_mtu);
	if (f->cfg.no_tun_src)
		opt[0] |= FZ_LB_NO_TUN_SRC;
	/* Well-formed rows keep their lengths and checksums repaired under mutation. */
	if (!s->truncate && !s->cut && !s->pad_to && !s->ihl && !s->bad_ip_version)
		opt[0] |= FZ_LB_FIXUP;
	write_seed(dir, "lb", f->name, opt, 2, in, in_len);
	if (verdict != XDP_TX || (f->out != OUT_TUN && f->out != OUT_GUE && f->out != OUT_CUSTOM) ||
	    out_len < l2 + 48)
		return;
	opt[0] = FZ_DC_FIXUP;
	/* GUE to the real that listens on 7777 (world.c): UDP destination port after IPv4 or IPv6. */
	if ((out[l2 - 1] == 0x00 && out[l2 + 9] == IPPROTO_UDP && get16(out + l2 + 22) == 7777) ||
	    (out[l2 - 1] == 0xdd && out[l2 + 6] == IPPROTO_UDP && get16(out + l2 + 42) == 7777))
		opt[0] |= FZ_DC_GUE7777;
	write_seed(dir, "decap", f->name, opt, 1, out, out_len);
}

void run_fixture(const struct fixture *f)
{
	static uint8_t in[PKT_MAX], out[PKT_MAX];
	struct world w;
	size_t in_len, out_len;
	int verdict;

	world_open(&w, NULL);
	world_std(&w);
	apply_cfg_change(&w, &f->cfg);
	if (f->setup)
		f->setup(&w);
	in_len = pkt_build(&f->pkt, in);
	verdict = world_run(&w, in, in_len, out, &out_len);
	cr_assert_eq(verdict, f->verdict, "%s: verdict %d, want %d", f->name, verdict, f->verdict);
	check_counters(&w, f);

	switch (f->out) {
	case OUT_SAME:
		cr_expect_eq(out_len, in_len, "%s: length unchanged", f->name);
		cr_expect_eq(memcmp(out, in, in_len), 0, "%s: frame untouched", f->name);
		break;
	case OUT_DR:
	case OUT_TUN:
	case OUT_GUE:
	case OUT_PASS_ENCAP:
		check_forwarded(&w, f, in, in_len, out, out_len);
		break;
	case OUT_ECHO:
		check_echo(f, in, in_len, out, out_len);
		break;
	case OUT_TOO_BIG:
		check_too_big(f, in, in_len, out, out_len);
		break;
	case OUT_CUSTOM:
		break;
	}
	if (f->check)
		f->check(&w, f, in, in_len, out, out_len);
	fuzz_seeds(f, in, in_len, verdict, out, out_len);
	world_close(&w);
}
