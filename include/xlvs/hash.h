/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flow hashes, shared by the XDP program and userspace (tests, tools) so both
 * agree on which ring slot and GUE source port a flow gets. Two, chosen per state
 * (xlvs_config XLVS_CFG_F_HASH_MIX64): mix64, a 64-bit fold and SplitMix64's
 * finalizer, the default; and murmur3, the 32-bit multiply-rotate mix in the style
 * of MurmurHash3 of earlier xlvs, kept for the state it made. Both without loops or
 * tables, and good enough to spread flows over a Maglev ring.
 */
#ifndef XLVS_HASH_H
#define XLVS_HASH_H

#include <linux/types.h>
#include "abi.h"

#ifndef XLVS_INLINE
#define XLVS_INLINE static inline __attribute__((always_inline))
#endif

#define XLVS_HASH_SEED	0x5851f42du

XLVS_INLINE __u32 xlvs_rol32(__u32 v, int s)
{
	return (v << s) | (v >> (32 - s));
}

XLVS_INLINE __u32 xlvs_hash_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51u;
	k = xlvs_rol32(k, 15);
	k *= 0x1b873593u;
	h ^= k;
	h = xlvs_rol32(h, 13);
	return h * 5 + 0xe6546b64u;
}

XLVS_INLINE __u32 xlvs_hash_final(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

/* Hash of a flow key; IPv4 keys only mix the words that can be non-zero. */
XLVS_INLINE __u32 xlvs_flow_hash(const struct xlvs_flow *f)
{
	__u32 h = XLVS_HASH_SEED;

	h = xlvs_hash_mix(h, f->src[0]);
	h = xlvs_hash_mix(h, f->dst[0]);
	if (f->family == XLVS_AF_INET6) {
		h = xlvs_hash_mix(h, f->src[1]);
		h = xlvs_hash_mix(h, f->src[2]);
		h = xlvs_hash_mix(h, f->src[3]);
		h = xlvs_hash_mix(h, f->dst[1]);
		h = xlvs_hash_mix(h, f->dst[2]);
		h = xlvs_hash_mix(h, f->dst[3]);
	}
	h = xlvs_hash_mix(h, ((__u32)f->sport << 16) | f->dport);
	h = xlvs_hash_mix(h, ((__u32)f->family << 8) | f->proto);
	return xlvs_hash_final(h);
}

/*
 * The flow hash of state made with XLVS_CFG_F_HASH_MIX64 (abi.h): the key folded into 64 bits
 * (the ports and protocol by a multiply, IPv6's further words by multiplies that run side by
 * side), then SplitMix64's finalizer (Steele, Lea and Flood, 2014), its top 32 bits. Two
 * dependent multiplies where xlvs_flow_hash() has ten: a stable ring slot's packet pays for
 * it (docs/bench.md). Never changed: ring-state flows without an entry are where it says.
 */
#define XLVS_MIX64_SEED	 0x9e3779b97f4a7c15ull
#define XLVS_MIX64_PORTS 0xd6e8feb86659fd93ull
#define XLVS_MIX64_W1	 0xa0761d6478bd642full
#define XLVS_MIX64_W2	 0xe7037ed1a0b428dbull
#define XLVS_MIX64_W3	 0x8ebc6af09c88c6e3ull

XLVS_INLINE __u64 xlvs_addr_pair(const struct xlvs_flow *f, int i)
{
	return (__u64)f->src[i] << 32 | f->dst[i];
}

XLVS_INLINE __u32 xlvs_flow_hash_mix64(const struct xlvs_flow *f)
{
	__u64 ports = ((__u64)f->family << 8 | f->proto) << 32 | (__u32)f->sport << 16 | f->dport;
	__u64 x = xlvs_addr_pair(f, 0) ^ ports * XLVS_MIX64_PORTS ^ XLVS_MIX64_SEED;

	if (f->family == XLVS_AF_INET6)
		x ^= xlvs_addr_pair(f, 1) * XLVS_MIX64_W1 ^ xlvs_addr_pair(f, 2) * XLVS_MIX64_W2 ^
		     xlvs_addr_pair(f, 3) * XLVS_MIX64_W3;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return (__u32)(x >> 32);
}

/* A hash's place in n slots by a multiply (Lemire's fastrange), not a division. */
XLVS_INLINE __u32 xlvs_hash_range(__u32 h, __u32 n)
{
	return (__u32)(((__u64)h * n) >> 32);
}

/* Hash of an address (IPv4 in a[0]), for the VIP filter. */
XLVS_INLINE __u32 xlvs_addr_hash(const __be32 *a, __u8 family)
{
	__u32 h = xlvs_hash_mix(XLVS_HASH_SEED, a[0]);

	if (family == XLVS_AF_INET6) {
		h = xlvs_hash_mix(h, a[1]);
		h = xlvs_hash_mix(h, a[2]);
		h = xlvs_hash_mix(h, a[3]);
	}
	return xlvs_hash_final(h ^ family);
}

/*
 * sh, dh, mh: hash of one address (and a port, 0 when not used) for try
 * number `offset` of a fallback, as IPVS's ip_vs_sh_hashkey() and
 * ip_vs_mh_hashkey() take an offset so each try lands on another bucket.
 */
XLVS_INLINE __u32 xlvs_sched_hash(const __be32 *a, __u8 family, __be16 port, __u32 offset)
{
	__u32 h = xlvs_hash_mix(XLVS_HASH_SEED, a[0]);

	if (family == XLVS_AF_INET6) {
		h = xlvs_hash_mix(h, a[1]);
		h = xlvs_hash_mix(h, a[2]);
		h = xlvs_hash_mix(h, a[3]);
	}
	h = xlvs_hash_mix(h, ((__u32)port << 16) | family);
	return xlvs_hash_final(h ^ offset * 0x9e3779b9u);
}

/* The flow hash of the state: xlvs_config.flags says which (XLVS_CFG_F_HASH_MIX64). */
XLVS_INLINE __u32 xlvs_flow_hash_cfg(__u32 cfg_flags, const struct xlvs_flow *f)
{
	return cfg_flags & XLVS_CFG_F_HASH_MIX64 ? xlvs_flow_hash_mix64(f) : xlvs_flow_hash(f);
}

/* A Maglev ring's slot (0 .. size - 1, size > 0) for a flow hash, as the state's flags say. */
XLVS_INLINE __u32 xlvs_maglev_index(__u32 cfg_flags, __u32 hash, __u32 size)
{
	return cfg_flags & XLVS_CFG_F_HASH_MIX64 ? xlvs_hash_range(hash, size) : hash % size;
}

/*
 * The slot (0 .. size - 1) in its ring of a ring-state service's flow: by the flow hash for
 * maglev, by the source (and port with mh-port) for mh, as the scheduler's first bucket. The
 * data path and xlvsd's sweep (which clears changed slots) must agree, hence one function.
 */
XLVS_INLINE __u32 xlvs_ring_index(__u32 cfg_flags, __u8 sched, __u32 svc_flags, const struct xlvs_flow *f,
				  __u32 flow_hash, __u32 size)
{
	if (sched != XLVS_SCHED_MH)
		return xlvs_maglev_index(cfg_flags, flow_hash, size);
	return xlvs_sched_hash(f->src, f->family, svc_flags & XLVS_SVC_F_SCHED_PORT ? f->sport : 0, 0) % size;
}

/*
 * Slot of a service key in a CPU's service cache (bpf/lookup.h): the key's words folded into one
 * and Fibonacci-hashed (a multiply, the top bits), not the flow hash's five mixing rounds: every
 * packet pays for it, and a cache needs spread, not strength (two keys in one slot cost a
 * lookup, never a wrong service: the copy's key is compared). VIPs that differ in one octet
 * spread evenly (tests/unit/test_maps.c).
 */
XLVS_INLINE __u32 xlvs_svc_cache_slot(const struct xlvs_svc_key *k)
{
	__u32 x = k->addr[0] ^ k->addr[1] ^ k->addr[2] ^ k->addr[3] ^
		  (((__u32)k->port << 16) | ((__u32)k->proto << 8) | k->family);

	return (x * 0x9e3779b1u) >> (32 - XLVS_SVC_CACHE_BITS);
}

/* GUE outer source port: from the flow hash, in 49152..65535 so reals spread flows over RX queues. */
XLVS_INLINE __u16 xlvs_gue_sport(__u32 hash)
{
	return (__u16)(0xc000u | (hash & 0x3fffu));
}

#endif /* XLVS_HASH_H */
