/* SPDX-License-Identifier: GPL-2.0 */
/* Internet checksum helpers (RFC 1071 sums, RFC 1624 incremental updates). */
#ifndef XLVS_BPF_CSUM_H
#define XLVS_BPF_CSUM_H

#include "common.h"

/* Fold a 64-bit one's-complement accumulator to the 16-bit checksum field value. */
XLVS_INLINE __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Sum of an address as 16-bit words (works for either byte order when used consistently). */
XLVS_INLINE __u64 csum_words(const __be32 *a, int words)
{
	__u64 s = 0;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		if (i < words)
			s += a[i];
	return s;
}

/* RFC 1624: HC' = ~(~HC + ~m + m'). */
XLVS_INLINE void csum_replace2(__sum16 *sum, __be16 from, __be16 to)
{
	__u64 s = (__u16)~*sum;

	s += (__u16)~from;
	s += to;
	*sum = csum_fold(s);
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
