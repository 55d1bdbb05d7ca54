/* SPDX-License-Identifier: GPL-2.0 */
/* Internet checksum helpers (RFC 1071 sums, RFC 1624 incremental updates). */
#ifndef XLVS_BPF_CSUM_H
#define XLVS_BPF_CSUM_H

#include "common.h"

#define CSUM_DIFF_MAX	512	/* bytes bpf_csum_diff() sums in one call */
#define CSUM_MANGLED_0	0xffff	/* a UDP checksum computed as zero is sent as all ones (RFC 768) */

/* Fold a 64-bit one's-complement accumulator to the 16-bit checksum field value. */
XLVS_INLINE __u16 csum_fold(__u64 sum)
{
	sum = (__u32)sum + (sum >> 32);
	sum = (__u32)sum + (sum >> 32);
	sum = (__u16)sum + (sum >> 16);
	sum = (__u16)sum + (sum >> 16);
	return (__u16)~sum;
}

/*
 * Sum of n 32-bit words, n a constant (works for either byte order when used
 * consistently): fewer instructions than a bpf_csum_diff() call.
 */
XLVS_INLINE __u64 csum_words(const __be32 *a, const int n)
{
	__u64 s = 0;
	int i;

#pragma unroll
	for (i = 0; i < n; i++)
		s += a[i];
	return s;
}

XLVS_INLINE __u64 csum_ip6_addrs(const struct ipv6hdr *ip6)
{
	return csum_words((const __be32 *)&ip6->saddr, IP6_ADDR_WORDS) +
	       csum_words((const __be32 *)&ip6->daddr, IP6_ADDR_WORDS);
}

/*
 * RFC 1624: HC' = ~(~HC + ~m + m') (eqn. 3). With csum_fold() it gives
 * exactly the from-scratch RFC 1071 value whenever the data the checksum
 * covers is not all zero: a nonzero sum folds to 1..0xffff, so a sum of -0
 * gives 0x0000, as from scratch. It cannot give 0xffff for data that is all
 * zero (sum +0), where from scratch gives 0xffff, the only value that
 * verifies: RFC 1624 section 3 relies on "at least one non-zero field in the
 * IP header" for its claim that a checksum field is never -0. Callers whose
 * data can be all zero (an ICMPv4 echo reply) must handle that case; the IPv4
 * header (version) and anything with a pseudo header never are.
 */
XLVS_INLINE void csum_replace2(__sum16 *sum, __be16 from, __be16 to)
{
	__u64 s = (__u16)~*sum;

	s += (__u16)~from;
	s += to;
	*sum = csum_fold(s);
}

/*
 * What a one's-complement sum over n words changes by when they go from
 * `from` to `to`: sum of ~from + to (RFC 1624 eqn. 3, a word at a time; a
 * 32-bit ~x is -x modulo 0xffff as well). Apply with csum_apply(). Both in
 * the same (any) byte order, as csum_words().
 */
XLVS_INLINE __u64 csum_delta(const __be32 *from, const __be32 *to, const int n)
{
	__u64 s = 0;
	int i;

#pragma unroll
	for (i = 0; i < n; i++)
		s += (__u32)~from[i] + (__u64)to[i];
	return s;
}

/* A checksum field after the data it covers changed by delta (csum_delta()); see csum_replace2(). */
XLVS_INLINE void csum_apply(__sum16 *sum, __u64 delta)
{
	*sum = csum_fold((__u16)~*sum + delta);
}

XLVS_INLINE void ip4_csum_set(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u64 s = 0;
	int i;

	ip->check = 0;
#pragma unroll
	for (i = 0; i < (int)(sizeof(*ip) / 2); i++)
		s += w[i];
	ip->check = csum_fold(s);
}

#endif /* XLVS_BPF_CSUM_H */
