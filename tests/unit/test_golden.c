// SPDX-License-Identifier: GPL-2.0
/*
 * Golden vectors for the flow hash, the GUE source port and the Maglev ring
 * (below): fixed values
 * written here, derived once from an independent reference implementation
 * (a short Python transcription of the definition in include/xlvs/hash.h,
 * not this code), so a change to the hash that the BPF fixtures would follow
 * silently (their oracle calls the same function) fails here.
 *
 * The data path mixes the address and port words as the host loads them
 * from network-order memory, so the values are those of a little-endian
 * host (x86_64, arm64); on a big-endian host these tests are skipped.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include <xlvs/hash.h>

#include "maglev.h"

struct golden_flow {
	uint8_t family, proto;
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t hash;
	uint16_t gue_sport;
	/* XLVS_CFG_F_HASH_MIX64's: golden_mix64.py; its slots in rings of 65537 and 251 */
	uint32_t mix64;
	uint16_t mix64_gue_sport;
	uint32_t slot65537, slot251;
};

static const struct golden_flow golden[] = {
	{ 4, 6, "198.18.0.1", "198.18.0.10", 40000, 80, 0x7510271fu, 59167, 0xb77e2b36u, 60214, 46974, 179 },
	{ 4, 17, "198.18.5.7", "198.18.0.12", 1234, 53, 0x2adaceeau, 52970, 0xa8972ff3u, 61427, 43159, 165 },
	{ 4, 6, "198.19.255.254", "198.18.0.11", 65535, 0, 0x9a999788u, 55176, 0x1ec051f3u, 53747, 7872, 30 },
	{ 4, 0, "0.0.0.0", "0.0.0.0", 0, 0, 0x1e7fcef6u, 52982, 0x3050015eu, 49502, 12368, 47 },
	{ 6, 6, "2001:db8::1", "2001:db8::12", 40000, 80, 0xb7542964u, 59748, 0x495e9775u, 55157, 18782, 71 },
	{ 6, 58, "2001:db8:ffff::5", "2001:db8::10", 77, 0, 0xe3b86cc9u, 60617, 0xd8e06ce4u, 60644, 55521,
	  212 },
	/* the flows of the GUE golden rows in tests/bpf/test_fixtures.c */
	{ 4, 6, "198.18.100.7", "198.18.0.12", 40000, 80, 0xe8d5f38eu, 62350, 0x65f95305u, 54021, 26105, 99 },
	{ 6, 6, "2001:db8:100::7", "2001:db8::12", 40000, 80, 0x102e3950u, 63824, 0xdaffa702u, 59138, 56064,
	  214 },
};

static void golden_key(const struct golden_flow *g, struct xlvs_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->family = g->family;
	f->proto = g->proto;
	cr_assert_eq(inet_pton(g->family == 4 ? AF_INET : AF_INET6, g->src, f->src), 1);
	cr_assert_eq(inet_pton(g->family == 4 ? AF_INET : AF_INET6, g->dst, f->dst), 1);
	f->sport = htons(g->sport);
	f->dport = htons(g->dport);
}

Test(golden, flow_hash)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	cr_skip_test("golden values are for little-endian hosts");
#endif
	struct xlvs_flow f;
	size_t i;

	for (i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		golden_key(&golden[i], &f);
		cr_expect_eq(xlvs_flow_hash(&f), golden[i].hash,
			     "flow %zu %s:%u -> %s:%u proto %u: hash 0x%08x, golden 0x%08x", i, golden[i].src,
			     golden[i].sport, golden[i].dst, golden[i].dport, golden[i].proto,
			     xlvs_flow_hash(&f), golden[i].hash);
	}
}

Test(golden, gue_source_port)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	cr_skip_test("golden values are for little-endian hosts");
#endif
	struct xlvs_flow f;
	size_t i;

	for (i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		golden_key(&golden[i], &f);
		cr_expect_eq(xlvs_gue_sport(xlvs_flow_hash(&f)), golden[i].gue_sport,
			     "flow %zu: GUE source port %u, golden %u", i, xlvs_gue_sport(xlvs_flow_hash(&f)),
			     golden[i].gue_sport);
	}
}

Test(golden, flow_hash_mix64)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	cr_skip_test("golden values are for little-endian hosts");
#endif
	const struct golden_flow *g;
	struct xlvs_flow f;
	uint32_t h;
	size_t i;

	for (i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		g = &golden[i];
		golden_key(g, &f);
		h = xlvs_flow_hash_mix64(&f);
		cr_expect_eq(h, g->mix64, "flow %zu %s:%u -> %s:%u: mix64 0x%08x, golden 0x%08x", i, g->src,
			     g->sport, g->dst, g->dport, h, g->mix64);
		cr_expect_eq(xlvs_flow_hash_cfg(XLVS_CFG_F_HASH_MIX64, &f), g->mix64, "flow %zu: by the flag",
			     i);
		cr_expect_eq(xlvs_flow_hash_cfg(0, &f), g->hash, "flow %zu: murmur3 without the flag", i);
		cr_expect_eq(xlvs_gue_sport(h), g->mix64_gue_sport, "flow %zu: GUE source port", i);
		cr_expect_eq(xlvs_maglev_index(XLVS_CFG_F_HASH_MIX64, h, 65537), g->slot65537,
			     "flow %zu: slot %u of 65537, golden %u", i,
			     xlvs_maglev_index(XLVS_CFG_F_HASH_MIX64, h, 65537), g->slot65537);
		cr_expect_eq(xlvs_maglev_index(XLVS_CFG_F_HASH_MIX64, h, 251), g->slot251,
			     "flow %zu: slot of 251", i);
		cr_expect_eq(xlvs_maglev_index(0, g->hash, 65537), g->hash % 65537,
			     "flow %zu: murmur3's remainder", i);
	}
}

/* The multiply's edges: the top of the hash range is the ring's last slot, never past it. */
Test(golden, hash_range_edges)
{
	cr_expect_eq(xlvs_hash_range(0, 65537), 0);
	cr_expect_eq(xlvs_hash_range(0xffffffffu, 65537), 65536);
	cr_expect_eq(xlvs_hash_range(0x80000000u, 65537), 32768);
	cr_expect_eq(xlvs_hash_range(0xffffffffu, 1), 0);
	cr_expect_eq(xlvs_hash_range(0x12345678u, 251), 17);
}

/*
 * Golden Maglev rings. The tables were computed once by
 * tests/unit/golden_maglev.py, an independent reference written from the
 * definitions and not from maps/maglev.c: the Maglev paper's population
 * (Eisenbud et al., NSDI'16, section 3.4: each backend walks (offset + j *
 * skip) mod M and claims its next free slot on each turn), the permutation
 * inputs of maps/maglev.h (a 19-byte key: family, 16 address bytes, service
 * port in network order; the seeded splitmix64 hash) and the weighting rules
 * stated at the top of maps/maglev.c (turn k of weight w in round
 * floor((2k+1) * wmax / 2w), ties in the order of the previous turns). The
 * reference walks every permutation plainly; rings this small are built by
 * maps/maglev.c's endgame search alone, so these rows also pin that the two
 * agree. Byte order plays no part: keys are packed little-endian by hand.
 */
#define GOLDEN_RING 31

struct golden_real {
	uint32_t id;
	const char *addr;
	uint32_t weight;
};

static const struct golden_real golden_reals[] = {
	{ 10, "198.18.1.11", 3 }, /* offset 16, skip 18 */
	{ 11, "198.18.1.12", 2 }, /* offset 6, skip 18 */
	{ 12, "198.18.1.13", 1 }, /* offset 17, skip 12 */
};

/* Weights 3/2/1: 15, 11 and 5 slots of 31. */
static const uint32_t golden_ring_all[GOLDEN_RING] = { 10, 10, 11, 10, 10, 10, 11, 10, 10, 10, 12,
						       11, 10, 11, 11, 10, 10, 12, 11, 11, 10, 10,
						       12, 10, 11, 11, 10, 12, 11, 12, 11 };
/* Real 11 removed: only its 11 slots and one other (slot 1, 10 -> 12) change. */
static const uint32_t golden_ring_without_11[GOLDEN_RING] = { 10, 12, 10, 10, 10, 10, 12, 10, 10, 10, 12,
							      12, 10, 10, 10, 10, 10, 12, 10, 10, 10, 10,
							      12, 10, 10, 10, 10, 12, 10, 12, 10 };
static const uint32_t golden_changed[] = { 1, 2, 6, 11, 13, 14, 18, 19, 24, 25, 28, 30 };

/* The key of maps/plan.c's real_key(): family, address (16 bytes), service port (network order). */
static void golden_real_key(const struct golden_real *r, uint16_t port, uint8_t key[19])
{
	uint16_t be = htons(port);

	memset(key, 0, 19);
	key[0] = XLVS_AF_INET;
	cr_assert_eq(inet_pton(AF_INET, r->addr, key + 1), 1);
	memcpy(key + 17, &be, 2);
}

/* maps/maglev.c's ring of golden_reals without the one at index `skip` (-1: all of them). */
static void golden_build(uint32_t *ring, int skip)
{
	struct xlvs_maglev_backend b[3];
	uint8_t keys[3][19];
	size_t i, n = 0;

	for (i = 0; i < 3; i++) {
		if ((int)i == skip)
			continue;
		golden_real_key(&golden_reals[i], 80, keys[n]);
		b[n] = (struct xlvs_maglev_backend){ .real_id = golden_reals[i].id,
						     .weight = golden_reals[i].weight,
						     .key = keys[n],
						     .key_len = 19 };
		n++;
	}
	cr_assert_eq(xlvs_maglev_build(ring, GOLDEN_RING, b, n), 0);
}

static void expect_ring(const uint32_t *got, const uint32_t *want, const char *what)
{
	uint32_t i;

	for (i = 0; i < GOLDEN_RING; i++)
		cr_expect_eq(got[i], want[i], "%s: slot %u holds real %u, golden %u", what, i, got[i],
			     want[i]);
}

Test(golden, maglev_ring)
{
	uint32_t ring[GOLDEN_RING];

	golden_build(ring, -1);
	expect_ring(ring, golden_ring_all, "weights 3/2/1");
}

Test(golden, maglev_ring_after_removing_a_real)
{
	uint32_t all[GOLDEN_RING], less[GOLDEN_RING], idx[GOLDEN_RING], n, i;

	golden_build(all, -1);
	golden_build(less, 1);
	expect_ring(less, golden_ring_without_11, "real 11 removed");
	n = xlvs_ring_diff(all, less, GOLDEN_RING, idx);
	cr_assert_eq(n, sizeof(golden_changed) / sizeof(golden_changed[0]), "%u slots changed, golden %zu", n,
		     sizeof(golden_changed) / sizeof(golden_changed[0]));
	for (i = 0; i < n; i++)
		cr_expect_eq(idx[i], golden_changed[i], "changed slot %u: %u, golden %u", i, idx[i],
			     golden_changed[i]);
}
