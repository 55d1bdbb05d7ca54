/* SPDX-License-Identifier: GPL-2.0 */
/* Includes, helpers and the parsed-packet state every stage of the director shares. */
#ifndef XLVS_BPF_COMMON_H
#define XLVS_BPF_COMMON_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define XLVS_INLINE static __always_inline
#include <xlvs/abi.h>
#include <xlvs/hash.h>

#ifndef ETH_P_8021Q
#define ETH_P_8021Q	0x8100
#endif
#ifndef ETH_P_8021AD
#define ETH_P_8021AD	0x88A8
#endif

/* <linux/icmp.h> drags in libc socket headers that do not build for BPF. */
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	union {
		struct {
			__be16 id;
			__be16 sequence;
		} echo;
		struct {
			__be16 __unused;
			__be16 mtu;
		} frag;
	} un;
};

#define ICMP_ECHOREPLY		0
#define ICMP_DEST_UNREACH	3
#define ICMP_ECHO		8
#define ICMP_TIME_EXCEEDED	11
#define ICMP_FRAG_NEEDED	4

#define IP4_VERSION	4
#define IP4_DF		0x4000
#define IP4_MF		0x2000
#define IP4_OFFMASK	0x1fff
#define IP4_IHL_UNIT	4	/* ihl counts 32-bit words */
#define IP4_IHL_MIN	(sizeof(struct iphdr) / IP4_IHL_UNIT)
#define IP4_ADDR_LEN	4

#define IP6_VERSION	6
#define IP6_FRAG_OFFMASK 0xfff8	/* fragment header: offset << 3 | M */
#define IP6_FRAG_MF	0x0001
#define IP6_EXT_UNIT	8	/* extension header lengths: 8-byte units after the first 8 */
#define IP6_AH_UNIT	4	/* AH's length: 4-byte units ... */
#define IP6_AH_LEN_BIAS	2	/* ... minus 2 (RFC 4302) */
#define IP6_ADDR_LEN	sizeof(struct in6_addr)
#define IP6_ADDR_WORDS	(IP6_ADDR_LEN / sizeof(__be32))
#define IP6_HDR_WORDS	(sizeof(struct ipv6hdr) / sizeof(__be32))
#define IP6_VERSION_SHIFT 28	/* first word: version 4 bits, traffic class 8, flow label 20 */
#define IP6_TCLASS_SHIFT 20
#define IP6_FLOWLABEL_MASK 0xfffff
#define IP6_MIN_MTU	1280

#define IP_VERSION_SHIFT 4	/* the version is the first byte's high nibble */
#define IP_DEFAULT_TTL	64	/* of packets the director answers itself, as Linux's default */

/* Continue with the next stage; any other value is the XDP verdict. */
#define XLVS_CONT	(-1)

/* struct pkt.flags */
#define PKT_F_FRAG	(1u << 0)	/* IPv4 fragment or IPv6 fragment header */
#define PKT_F_IP4_OPT	(1u << 1)	/* IPv4 header longer than 20 bytes */
#define PKT_F_DF	(1u << 2)	/* IPv4 don't-fragment (always set for IPv6) */
#define PKT_F_SYN	(1u << 3)	/* TCP SYN without ACK: a connection attempt */
#define PKT_F_ICMP_ERR	(1u << 4)	/* ICMP error: flow is the reversed inner flow */
#define PKT_F_UDP_NOCSUM (1u << 5)	/* UDP over IPv4 without checksum */
#define PKT_F_FIN	(1u << 6)	/* TCP FIN or RST: the client ends the connection */

/* What the parser learnt; offsets are from ctx->data. */
struct pkt {
	struct xlvs_flow flow;	/* the key in xlvs_conns: client -> VIP */
	__u32 pkt_len;		/* whole frame, for byte counters */
	__u16 l3_off;		/* the L2 header's length: ETH_HLEN or ETH_VLAN_HLEN */
	__u16 l4_off;		/* first byte after IP and extension headers */
	__u16 l3_len;		/* IP datagram length (header included) */
	__u8 tos;		/* IPv4 TOS or IPv6 traffic class */
	__u8 flags;		/* PKT_F_* */
	__u8 icmp_type;
	__u8 ip_proto;		/* the packet's own L4 protocol (ICMP for errors) */
	__u8 pad[2];
	__be32 tcp_seq;		/* TCP: the sequence number (a SYN's is the connection's ISN) */
};

/*
 * A 16-bit big-endian length field in host order, for pointer arithmetic on the packet. The
 * verifier of Debian 12's kernel (6.1) gives the result of a byte swap (BPF_END) no bounds at
 * all, so `data + bpf_ntohs(len)` fails to load there with "math between pkt pointer and
 * register with unbounded min value is not allowed" (6.18 keeps the 16-bit bound). The mask
 * restores the bound; the barrier keeps clang from dropping it as redundant.
 */
XLVS_INLINE __u32 be16_len(__be16 v)
{
	__u32 x = bpf_ntohs(v);

	barrier_var(x);
	return x & 0xffff;
}

/* The minimal IP header of a family (no options, no extension headers). */
XLVS_INLINE __u32 ip_hdr_len(__u8 family)
{
	return family == XLVS_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
}

XLVS_INLINE __u32 ip_addr_len(__u8 family)
{
	return family == XLVS_AF_INET ? IP4_ADDR_LEN : IP6_ADDR_LEN;
}

/* The IPv6 header's first word: version, traffic class, flow label. */
XLVS_INLINE __be32 ip6_word0(__u8 tclass, __u32 label)
{
	return bpf_htonl((__u32)IP6_VERSION << IP6_VERSION_SHIFT | (__u32)tclass << IP6_TCLASS_SHIFT |
			 (label & IP6_FLOWLABEL_MASK));
}

XLVS_INLINE __u8 ip6_tclass(const struct ipv6hdr *ip6)
{
	return bpf_ntohl(*(const __be32 *)ip6) >> IP6_TCLASS_SHIFT;
}

#endif /* XLVS_BPF_COMMON_H */
