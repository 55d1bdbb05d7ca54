// SPDX-License-Identifier: GPL-2.0
/*
 * Golden vectors for the flow hash and the GUE source port: fixed values
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

struct golden_flow {
	uint8_t family, proto;
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t hash;
	uint16_t gue_sport;
};

static const struct golden_flow golden[] = {
	{ 4, 6, "198.18.0.1", "198.18.0.10", 40000, 80, 0x7510271fu, 59167 },
	{ 4, 17, "198.18.5.7", "198.18.0.12", 1234, 53, 0x2adaceeau, 52970 },
	{ 4, 6, "198.19.255.254", "198.18.0.11", 65535, 0, 0x9a999788u, 55176 },
	{ 4, 0, "0.0.0.0", "0.0.0.0", 0, 0, 0x1e7fcef6u, 52982 },
	{ 6, 6, "2001:db8::1", "2001:db8::12", 40000, 80, 0xb7542964u, 59748 },
	{ 6, 58, "2001:db8:ffff::5", "2001:db8::10", 77, 0, 0xe3b86cc9u, 60617 },
	/* the flows of the GUE golden rows in tests/bpf/test_fixtures.c */
	{ 4, 6, "198.18.100.7", "198.18.0.12", 40000, 80, 0xe8d5f38eu, 62350 },
	{ 6, 6, "2001:db8:100::7", "2001:db8::12", 40000, 80, 0x102e3950u, 63824 },
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
