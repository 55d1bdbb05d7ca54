// SPDX-License-Identifier: GPL-2.0
/*
 * The service cache's slot function (include/xlvs/hash.h xlvs_svc_cache_slot()): its values for
 * known keys, and its spread over the keys operators configure (VIPs one octet apart, ports).
 * The expected values were computed apart from this code, for a little-endian host (the key's
 * words are read as the host stores them, as the BPF program on that host reads them).
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <xlvs/hash.h>

static struct xlvs_svc_key key4(const char *vip, uint16_t port, uint8_t proto)
{
	struct xlvs_svc_key k = { .port = htons(port), .proto = proto, .family = XLVS_AF_INET };

	cr_assert_eq(inet_pton(AF_INET, vip, &k.addr[0]), 1, "%s", vip);
	return k;
}

static struct xlvs_svc_key key6(const char *vip, uint16_t port, uint8_t proto)
{
	struct xlvs_svc_key k = { .port = htons(port), .proto = proto, .family = XLVS_AF_INET6 };

	cr_assert_eq(inet_pton(AF_INET6, vip, k.addr), 1, "%s", vip);
	return k;
}

Test(svc_cache_slot, known_keys)
{
	struct xlvs_svc_key a = key4("198.18.0.10", 80, IPPROTO_TCP),
			    b = key4("198.18.0.10", 443, IPPROTO_TCP),
			    c = key4("198.18.0.10", 80, IPPROTO_UDP),
			    d = key6("2001:db8::10", 80, IPPROTO_TCP);

	cr_expect_eq(xlvs_svc_cache_slot(&a), 29);
	cr_expect_eq(xlvs_svc_cache_slot(&b), 5);
	cr_expect_eq(xlvs_svc_cache_slot(&c), 49);
	cr_expect_eq(xlvs_svc_cache_slot(&d), 41);
}

/* How many keys fell in each slot: every slot used, none by more than `most`. */
static void expect_spread(const unsigned *per_slot, unsigned least, unsigned most)
{
	unsigned i;

	for (i = 0; i < XLVS_SVC_CACHE_SLOTS; i++)
		cr_expect(per_slot[i] >= least && per_slot[i] <= most,
			  "slot %u holds %u keys, expected %u..%u", i, per_slot[i], least, most);
}

/* 256 VIPs one octet apart (IPv4's last octet, IPv6's last byte): 4 in every slot. */
Test(svc_cache_slot, vips_one_octet_apart_fill_every_slot_evenly)
{
	unsigned v4[XLVS_SVC_CACHE_SLOTS] = { 0 }, v6[XLVS_SVC_CACHE_SLOTS] = { 0 };
	struct xlvs_svc_key k;
	char vip[64];
	unsigned i;

	cr_assert_eq(XLVS_SVC_CACHE_SLOTS, 64);
	for (i = 0; i < 256; i++) {
		snprintf(vip, sizeof(vip), "198.18.1.%u", i);
		k = key4(vip, 80, IPPROTO_TCP);
		v4[xlvs_svc_cache_slot(&k)]++;
		snprintf(vip, sizeof(vip), "2001:db8::%x", i);
		k = key6(vip, 443, IPPROTO_TCP);
		v6[xlvs_svc_cache_slot(&k)]++;
	}
	expect_spread(v4, 4, 4);
	expect_spread(v6, 4, 4);
}

/* One VIP's 256 consecutive ports: every slot used, at most 5 in one. */
Test(svc_cache_slot, ports_of_one_vip_fill_every_slot)
{
	unsigned n[XLVS_SVC_CACHE_SLOTS] = { 0 };
	struct xlvs_svc_key k;
	unsigned p;

	for (p = 1000; p < 1256; p++) {
		k = key4("198.18.0.10", (uint16_t)p, IPPROTO_TCP);
		n[xlvs_svc_cache_slot(&k)]++;
	}
	expect_spread(n, 2, 5);
}
