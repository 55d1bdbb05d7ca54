/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layer 2 for the director and the decapsulator alike: Ethernet with at most
 * one 802.1Q/802.1ad tag, and the rewrite that keeps it in front of the IP
 * packet when an outer header is added or removed.
 */
#ifndef XLVS_BPF_L2_H
#define XLVS_BPF_L2_H

#include "common.h"

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

#define ETH_ADDRS_LEN	(2 * ETH_ALEN)			/* destination and source MAC */
#define ETH_VLAN_HLEN	(ETH_HLEN + sizeof(struct vlan_hdr))	/* the longest L2 header parsed */

enum l2_result {
	L2_OK,
	L2_ETH_TRUNC,
	L2_VLAN_TRUNC,
};

/* *l3_off: where the IP header starts; *proto: the EtherType after the tag, if any. */
XLVS_INLINE enum l2_result parse_l2(void *data, void *end, __u32 *l3_off, __be16 *proto)
{
	struct ethhdr *eth = data;
	struct vlan_hdr *vh = (void *)(eth + 1);

	if ((void *)(eth + 1) > end)
		return L2_ETH_TRUNC;
	*proto = eth->h_proto;
	*l3_off = sizeof(*eth);
	if (*proto != bpf_htons(ETH_P_8021Q) && *proto != bpf_htons(ETH_P_8021AD))
		return L2_OK;
	if ((void *)(vh + 1) > end)
		return L2_VLAN_TRUNC;
	*proto = vh->proto;
	*l3_off += sizeof(*vh);
	return L2_OK;
}

/*
 * The L2 header of length l2 now at data, moved from old: the VLAN tag comes
 * along and the EtherType becomes proto. The caller writes the MACs and has
 * checked ETH_VLAN_HLEN bytes at both places.
 */
XLVS_INLINE void l2_move(void *data, const void *old, __u32 l2, __be16 proto)
{
	/* The tag's TPID and TCI, one 32-bit word after the MACs. */
	if (l2 == ETH_VLAN_HLEN)
		*(__be32 *)(data + ETH_ADDRS_LEN) = *(const __be32 *)(old + ETH_ADDRS_LEN);
	*(__be16 *)(data + l2 - sizeof(proto)) = proto;
}

/*
 * The L2 header's length, p->l3_off, as one of the two values parse() gives
 * it: the verifier marks packet bounds only for offsets it knows to be small,
 * and a u16 read back from the stack is not.
 */
XLVS_INLINE __u32 pkt_l2_len(const struct pkt *p)
{
	return p->l3_off == ETH_HLEN ? ETH_HLEN : ETH_VLAN_HLEN;
}

#endif /* XLVS_BPF_L2_H */
