/* SPDX-License-Identifier: GPL-2.0 */
/* Test packet builder and checkers: frames described by a struct, built with valid checksums. */
#ifndef XLVS_TEST_PKTGEN_H
#define XLVS_TEST_PKTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX		2048
#define TH_FIN		0x01
#define TH_SYN		0x02
#define TH_RST		0x04
#define TH_ACK		0x10
#define TCP_SEQ_DEFAULT 0x12000000u

/* IPv6 extension headers a spec can insert before the transport header. */
enum ext6 {
	EXT_END = 0,
	EXT_HOP,
	EXT_ROUTING,
	EXT_DSTOPTS,
	EXT_FRAG,
	EXT_AH
};

struct pkt_spec {
	uint8_t family;	       /* 4 or 6 */
	uint8_t proto;	       /* IPPROTO_* (ICMP echo/errors see icmp_*) */
	const char *src, *dst; /* textual addresses */
	uint16_t sport, dport; /* host order; ICMP echo: sport is the identifier */
	uint8_t tcp_flags;     /* default (0): ACK */
	uint32_t seq;	       /* TCP sequence number; 0 = TCP_SEQ_DEFAULT */
	uint16_t vlan;	       /* 802.1Q VID; 0 = untagged */
	uint16_t payload;      /* transport payload bytes (pattern filled) */
	bool zero_fill;	       /* the payload is all zero bytes instead of the pattern */
	bool echo_seq0;	       /* ICMP echo: sequence 0 (default 1) */
	uint8_t tos;
	bool no_df;	   /* IPv4: clear DF (set by default) */
	uint8_t ip4_opt;   /* IPv4 option bytes (multiple of 4) */
	uint16_t frag_off; /* fragment offset in 8-byte units */
	bool more_frags;
	bool frag6;	/* IPv6: add a fragment header with frag_off/more_frags */
	uint8_t ext[8]; /* IPv6: extension headers in order, EXT_END-terminated */
	uint8_t icmp_type, icmp_code;
	const struct pkt_spec *quote; /* ICMP error: the quoted packet (VIP -> client) */
	uint16_t ethertype;	      /* override for non-IP frames (e.g. ARP) */
	int truncate;		      /* cut the frame to this many bytes (0 = keep) */
	int cut;     /* cut the datagram to this many bytes, length fields to match (0 = keep) */
	uint8_t ihl; /* IPv4: header length field override (0 = computed) */
	int pad_to;  /* zero-pad the frame to this length, as Ethernet pads short frames */
	bool bad_ip_version;
	bool udp_nocsum; /* UDP: checksum field 0 ("none" over IPv4) */
};

/* Build the frame into buf; returns its length. Aborts the test on a bad spec. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf);
/* Build only the IP datagram (no Ethernet header). */
size_t pkt_build_l3(const struct pkt_spec *s, uint8_t *buf);

/* Writes 4 (IPv4) or 16 (IPv6) bytes. */
void parse_addr(uint8_t family, const char *text, void *out);

/* RFC 1071 sum helpers for checkers. */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);
uint16_t csum_finish(uint32_t sum);
/* Transport checksum of an L4 segment, with its pseudo header; 0 when valid. */
uint16_t l4_csum4(const uint8_t *ip4, const uint8_t *l4, size_t len, uint8_t proto);
uint16_t l4_csum6(const uint8_t *ip6, const uint8_t *l4, size_t len, uint8_t proto);

extern const uint8_t MAC_CLIENT[6]; /* the router that sent us the frame */
extern const uint8_t MAC_LB[6];	    /* the director */

#endif
