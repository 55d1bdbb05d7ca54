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

#define IP4_DF		0x4000
#define IP4_MF		0x2000
#define IP4_OFFMASK	0x1fff

/* Continue with the next stage; any other value is the XDP verdict. */
#define XLVS_CONT	(-1)

/* struct pkt.flags */
#define PKT_F_VLAN	(1u << 0)	/* one 802.1Q/802.1ad tag after the MACs */
#define PKT_F_FRAG	(1u << 1)	/* IPv4 fragment or IPv6 fragment header */
#define PKT_F_IP4_OPT	(1u << 2)	/* IPv4 header longer than 20 bytes */
#define PKT_F_DF	(1u << 3)	/* IPv4 don't-fragment (always set for IPv6) */
#define PKT_F_SYN	(1u << 4)	/* TCP SYN without ACK: a connection attempt */
#define PKT_F_ICMP_ERR	(1u << 5)	/* ICMP error: flow is the reversed inner flow */
#define PKT_F_UDP_NOCSUM (1u << 6)	/* UDP over IPv4 without checksum */
#define PKT_F_FIN	(1u << 7)	/* TCP FIN or RST: the client ends the connection */

/* What the parser learnt; offsets are from ctx->data. */
struct pkt {
	struct xlvs_flow flow;	/* the key in xlvs_conns: client -> VIP */
	__u32 pkt_len;		/* whole frame, for byte counters */
	__u16 l3_off;		/* 14 or 18 */
	__u16 l4_off;		/* first byte after IP and extension headers */
	__u16 l3_len;		/* IP datagram length (header included) */
	__u8 tos;		/* IPv4 TOS or IPv6 traffic class */
	__u8 flags;		/* PKT_F_* */
	__u8 icmp_type;
	__u8 ip_proto;		/* the packet's own L4 protocol (ICMP for errors) */
	__u8 pad[2];
	__be32 tcp_seq;		/* TCP: the sequence number (a SYN's is the connection's ISN) */
};

#endif /* XLVS_BPF_COMMON_H */
