/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the packet fuzz targets (fuzz_lb.c, fuzz_decap.c) and the fixture
 * table's seed writer (tests/bpf/fixture.c): the input format, an independent
 * packet parser used as the oracle, and the length/checksum repair that keeps
 * mutated frames deep enough to reach forwarding.
 *
 * An input is one option byte (the director: two, three with FZ_LB2_RING) followed by an
 * Ethernet frame.
 */
#ifndef XLVS_FUZZ_PKT_H
#define XLVS_FUZZ_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Director option byte (fuzz_lb). */
#define FZ_LB_FRAG_DROP	 0x01 /* xlvs_config.flags |= XLVS_CFG_F_FRAG_DROP */
#define FZ_LB_OPT_DROP	 0x02 /* |= XLVS_CFG_F_IP4_OPT_DROP */
#define FZ_LB_MTU_SHIFT	 2    /* 2 bits: tun_mtu 1500, 0 (no check), 1400, 400 */
#define FZ_LB_MTU_MASK	 (3u << FZ_LB_MTU_SHIFT)
#define FZ_LB_NO_TUN_SRC 0x10 /* src4 = src6 = 0 */
#define FZ_LB_TWICE	 0x20 /* run the frame twice: the second run meets the first's conn entry */
#define FZ_LB_FIXUP	 0x40 /* repair lengths and checksums before running */
#define FZ_LB_SYN_GUARD	 0x80 /* syn_guard_rate = 1 */

static inline uint8_t fz_lb_mtu_bits(uint16_t mtu)
{
	switch (mtu) {
	case 0:
		return 1u << FZ_LB_MTU_SHIFT;
	case 1400:
		return 2u << FZ_LB_MTU_SHIFT;
	case 400:
		return 3u << FZ_LB_MTU_SHIFT;
	}
	return 0; /* 1500, the standard world's */
}

/* Director's second option byte: the reals' state and the second run. */
#define FZ_LB2_WEIGHT0	   0x01 /* every real at weight 0 (ring unchanged): drained */
#define FZ_LB2_NO_NH	   0x02 /* no real has a resolved next hop: bpf_fib_lookup() decides */
#define FZ_LB2_GW_FALLBACK 0x04 /* XLVS_CFG_F_GW_FALLBACK with a gateway MAC */
#define FZ_LB2_INACTIVE	   0x08 /* every real inactive (ring unchanged) */
#define FZ_LB2_GEN_BUMP	   0x10 /* between the two runs every real's generation changes */
#define FZ_LB2_NEW_ISN	   0x20 /* the second run's TCP sequence number is one higher */
#define FZ_LB2_RING	   0x40 /* ring state (bpf/ring.h): a ring byte follows the two option bytes */
#define FZ_LB2_MURMUR3	   0x80 /* the state's flow hash is murmur3 (XLVS_CFG_F_HASH_MIX64 clear) */

/*
 * Ring byte (fuzz_lb, with FZ_LB2_RING): every maglev service of the standard
 * world is flagged XLVS_SVC_F_RING_STATE and reads a ring slice whose slots are
 * all of one kind (below), or of every kind in turn (FZ_LB_RING_MIXED). The
 * owners are world_std's; the previous owners as the kind says.
 */
#define FZ_LB_RING_KIND	 0x07 /* enum fz_ring_kind */
#define FZ_LB_RING_MIXED 0x08 /* slot i of a slice: kind i % FZ_RING_KINDS */

enum fz_ring_kind {
	FZ_RING_STABLE,	     /* the owner, not flagged; a live previous owner beside it (never consulted) */
	FZ_RING_PREV_LIVE,   /* flagged; previous owner another real of the service, in its window */
	FZ_RING_PREV_PASSED, /* ... its window passed */
	FZ_RING_PREV_NONE,   /* ... until 0: none */
	FZ_RING_PREV_OTHER_SVC, /* ... a real of another service, in its window */
	FZ_RING_PREV_STALE_GEN, /* ... with a generation one above its real's (equal after FZ_LB2_GEN_BUMP) */
	FZ_RING_PREV_SELF,	/* ... the owner itself */
	FZ_RING_EMPTY,		/* XLVS_REAL_NONE; a live previous owner */
	FZ_RING_KINDS,
};

/* Decapsulator option byte (fuzz_decap). */
#define FZ_DC_CHECK_DST 0x01 /* XLVS_DECAP_F_CHECK_DST with the standard reals' addresses */
#define FZ_DC_GUE7777	0x02 /* the program loaded with gue_port 7777 instead of 6080 */
#define FZ_DC_FIXUP	0x04 /* repair outer and inner lengths and checksums */

#define FZ_FRAME_MIN 14	  /* BPF_PROG_RUN refuses shorter XDP frames */
#define FZ_FRAME_MAX 1800 /* + 48 bytes of encapsulation still fits PKT_MAX */

/* What the oracle parser learnt of an IP datagram. */
struct fz_ip {
	bool ok;	  /* a whole IP header in the frame, lengths within it */
	uint8_t family;	  /* 4 or 6 */
	size_t off;	  /* datagram start in the buffer */
	size_t len;	  /* datagram length from its header (<= what the buffer holds) */
	size_t hlen;	  /* IP header + extension headers */
	uint8_t proto;	  /* transport protocol after extension headers */
	bool frag;	  /* a real fragment (offset or MF) */
	bool hdr_csum_ok; /* IPv4 header checksum */
	bool l4_csum_ok;  /* TCP/UDP/ICMP/ICMPv6 checksum over the datagram (UDPv4 zero counts as ok) */
	bool udp4_nocsum;
};

/* L2: returns the L2 header length and the EtherType after at most one VLAN tag, 0 if cut. */
size_t fz_l2(const uint8_t *f, size_t len, uint16_t *ethertype);
/* Parse the datagram at off (family from its version nibble or want: 4/6/0). */
void fz_ip_parse(const uint8_t *buf, size_t buflen, size_t off, uint8_t want, struct fz_ip *ip);
/* Repair lengths and checksums of the datagram at off and, for IPIP/IPv6/GUE(port), the inner one. */
void fz_fixup(uint8_t *buf, size_t buflen, size_t off, uint16_t gue_port, int depth);

uint16_t fz_get16(const uint8_t *p);
/* Internet checksum over buf with an initial sum; 0 when the data (checksum included) is valid. */
uint16_t fz_csum(const uint8_t *buf, size_t len, uint32_t sum);
/* The pseudo header's sum (RFC 768, RFC 8200 8.1) of the datagram whose IP header is at ip. */
uint32_t fz_pseudo(const uint8_t *ip, uint8_t family, uint8_t proto, size_t l4len);

/* Failure: print and abort (libFuzzer records the input as a crash). */
#define FZ_ASSERT(cond, ...)                                                                                 \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "\nINVARIANT FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
			fprintf(stderr, __VA_ARGS__);                                                        \
			fputc('\n', stderr);                                                                 \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

#endif
