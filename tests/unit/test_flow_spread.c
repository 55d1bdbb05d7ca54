// SPDX-License-Identifier: GPL-2.0
/*
 * How the flow hashes (include/xlvs/hash.h) spread flows over a Maglev ring's
 * slots, as clients really come: many clients of one VIP, each with ports in
 * sequence. A ring slot's share is its real's share, so an uneven spread is an
 * uneven load. The bounds are written here: about 4.5 standard deviations of a
 * uniform spread, which a hash that leaves part of the key out (the source
 * address, IPv6's further words) misses by far: slots at 0 and at five times
 * their share. A change to the mixing itself is for the golden vectors
 * (test_golden.c) to catch: SplitMix64's finalizer spreads these flows evenly
 * even with a step dropped.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include <xlvs/hash.h>

#define CLIENTS 4096u
#define PORTS	256u  /* per client, from 32768 on */
#define SLOTS	251u  /* a prime ring, as Maglev's; 1M flows: 4,177.6 per slot */
#define LOW	3890u /* expected - 4.5 sd (64.6) */
#define HIGH	4470u /* expected + 4.5 sd */

static void client_flow(uint32_t c, uint32_t port, struct xlvs_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->family = XLVS_AF_INET;
	f->proto = IPPROTO_TCP;
	f->src[0] = htonl(0xc6120000u + 0x100u + c); /* 198.18.1.0 on */
	f->dst[0] = htonl(0xc612000au);		     /* 198.18.0.10 */
	f->sport = htons((uint16_t)(32768 + port));
	f->dport = htons(80);
}

static void client_flow6(uint32_t c, uint32_t port, struct xlvs_flow *f)
{
	client_flow(c, port, f);
	f->family = XLVS_AF_INET6;
	f->src[0] = htonl(0x20010db8u);
	f->src[3] = htonl(0x100u + c);
	f->dst[0] = htonl(0x20010db8u);
	f->dst[3] = htonl(0x10u);
}

static void check_spread(uint32_t cfg_flags, void (*flow)(uint32_t, uint32_t, struct xlvs_flow *),
			 const char *what)
{
	static uint32_t count[SLOTS];
	uint32_t c, p, i, lo = UINT32_MAX, hi = 0;
	struct xlvs_flow f;

	memset(count, 0, sizeof(count));
	for (c = 0; c < CLIENTS; c++)
		for (p = 0; p < PORTS; p++) {
			flow(c, p, &f);
			count[xlvs_maglev_index(cfg_flags, xlvs_flow_hash_cfg(cfg_flags, &f), SLOTS)]++;
		}
	for (i = 0; i < SLOTS; i++) {
		lo = count[i] < lo ? count[i] : lo;
		hi = count[i] > hi ? count[i] : hi;
	}
	cr_expect(lo >= LOW && hi <= HIGH, "%s: slots hold %u to %u of %u flows, want %u..%u", what, lo, hi,
		  CLIENTS * PORTS, LOW, HIGH);
}

Test(flow_spread, mix64_ipv4_clients_with_ports_in_sequence)
{
	check_spread(XLVS_CFG_F_HASH_MIX64, client_flow, "mix64 IPv4");
}

Test(flow_spread, mix64_ipv6_clients_with_ports_in_sequence)
{
	check_spread(XLVS_CFG_F_HASH_MIX64, client_flow6, "mix64 IPv6");
}

Test(flow_spread, murmur3_ipv4_clients_with_ports_in_sequence)
{
	check_spread(0, client_flow, "murmur3 IPv4");
}

/* One client's 65,535 ports over a ring of 65,537: as many distinct slots as random picks give. */
Test(flow_spread, mix64_one_client_ports_reach_distinct_slots)
{
	static uint8_t seen[65537];
	uint32_t p, distinct = 0, s;
	struct xlvs_flow f;

	memset(seen, 0, sizeof(seen));
	for (p = 1; p <= 65535; p++) {
		client_flow(0, 0, &f);
		f.sport = htons((uint16_t)p);
		s = xlvs_maglev_index(XLVS_CFG_F_HASH_MIX64, xlvs_flow_hash_mix64(&f), 65537);
		distinct += !seen[s];
		seen[s] = 1;
	}
	/* random picks: 65537 * (1 - e^-1) = 41,427 expected, sd ~123 */
	cr_expect(distinct >= 40900 && distinct <= 41950, "%u distinct slots of 65,535 ports", distinct);
}
