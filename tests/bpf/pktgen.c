// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <string.h>

#include "check.h"

#include "pktgen.h"

const uint8_t MAC_CLIENT[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xc1 };
const uint8_t MAC_LB[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x1b };

void parse_addr(uint8_t family, const char *text, void *out)
{
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, text, out) != 1)
		CHECK(0, "bad address %s in a test spec", text);
}

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t csum_finish(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t pseudo_sum(const uint8_t *src, const uint8_t *dst, size_t alen, size_t len, uint8_t proto)
{
	uint32_t sum = csum_partial(src, alen, 0);

	sum = csum_partial(dst, alen, sum);
	return sum + proto + (uint32_t)(len & 0xffff) + (uint32_t)(len >> 16);
}

uint16_t l4_csum4(const uint8_t *ip4, const uint8_t *l4, size_t len, uint8_t proto)
{
	uint32_t sum = proto == IPPROTO_ICMP ? 0 : pseudo_sum(ip4 + 12, ip4 + 16, 4, len, proto);

	return csum_finish(csum_partial(l4, len, sum));
}

uint16_t l4_csum6(const uint8_t *ip6, const uint8_t *l4, size_t len, uint8_t proto)
{
	return csum_finish(csum_partial(l4, len, pseudo_sum(ip6 + 8, ip6 + 24, 16, len, proto)));
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Transport header + payload; returns its length. Checksum filled later. */
static size_t build_l4(const struct pkt_spec *s, uint8_t *p, uint8_t *quote_buf)
{
	size_t hl, i;

	switch (s->proto) {
	case IPPROTO_TCP:
		hl = 20;
		memset(p, 0, hl);
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put32(p + 4, s->seq ? s->seq : TCP_SEQ_DEFAULT);
		p[12] = 5 << 4;
		p[13] = s->tcp_flags ? s->tcp_flags : TH_ACK;
		put16(p + 14, 65535);
		break;
	case IPPROTO_UDP:
		hl = 8;
		memset(p, 0, hl);
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put16(p + 4, (uint16_t)(hl + s->payload));
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hl = 8;
		memset(p, 0, hl);
		p[0] = s->icmp_type;
		p[1] = s->icmp_code;
		if (s->quote) {
			size_t ql = pkt_build_l3(s->quote, quote_buf);

			if (s->icmp_type == 3 && s->icmp_code == 4)
				put16(p + 6, 1400); /* frag needed: next-hop MTU */
			if (s->proto == IPPROTO_ICMPV6 && s->icmp_type == 2)
				put16(p + 6, 1400); /* packet too big: MTU */
			memcpy(p + hl, quote_buf, ql);
			return hl + ql;
		}
		put16(p + 4, s->sport);		    /* echo identifier */
		put16(p + 6, s->echo_seq0 ? 0 : 1); /* echo sequence */
		break;
	default:
		hl = 0;
	}
	for (i = 0; i < s->payload; i++)
		p[hl + i] = s->zero_fill ? 0 : (uint8_t)(i * 7 + 1);
	return hl + s->payload;
}

static void fill_l4_csum(const struct pkt_spec *s, uint8_t *ip, uint8_t *l4, size_t len)
{
	size_t off;
	uint16_t c;

	if (s->frag_off || s->more_frags)
		return; /* fragments keep whatever the first one had */
	switch (s->proto) {
	case IPPROTO_TCP:
		off = 16;
		break;
	case IPPROTO_UDP:
		off = 6;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		off = 2;
		break;
	default:
		return;
	}
	if (len < off + 2)
		return;
	l4[off] = l4[off + 1] = 0;
	if (s->proto == IPPROTO_UDP && s->udp_nocsum)
		return;
	c = s->family == 4 ? l4_csum4(ip, l4, len, s->proto) : l4_csum6(ip, l4, len, s->proto);
	if (s->proto == IPPROTO_UDP && !c)
		c = 0xffff;
	put16(l4 + off, c);
}

static size_t build_ip4(const struct pkt_spec *s, uint8_t *p)
{
	uint8_t qbuf[PKT_MAX];
	uint32_t a[4];
	size_t hl = 20 + s->ip4_opt, l4len;
	uint16_t frag = s->frag_off & 0x1fff;

	CHECK(s->ip4_opt % 4 == 0 && hl <= 60, "bad ip4_opt in spec");
	memset(p, 0, hl);
	p[0] = (s->bad_ip_version ? 0x50 : 0x40) | (uint8_t)(hl / 4);
	p[1] = s->tos;
	put16(p + 4, 0x1234);
	if (!s->no_df)
		frag |= 0x4000;
	if (s->more_frags)
		frag |= 0x2000;
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = s->proto;
	parse_addr(4, s->src, a);
	memcpy(p + 12, a, 4);
	parse_addr(4, s->dst, a);
	memcpy(p + 16, a, 4);
	memset(p + 20, 1, s->ip4_opt); /* NOP options */
	l4len = build_l4(s, p + hl, qbuf);
	put16(p + 2, (uint16_t)(hl + l4len));
	put16(p + 10, csum_finish(csum_partial(p, hl, 0)));
	fill_l4_csum(s, p, p + hl, l4len);
	return hl + l4len;
}

static const uint8_t ext_proto[] = {
	[EXT_HOP] = IPPROTO_HOPOPTS,   [EXT_ROUTING] = IPPROTO_ROUTING, [EXT_DSTOPTS] = IPPROTO_DSTOPTS,
	[EXT_FRAG] = IPPROTO_FRAGMENT, [EXT_AH] = IPPROTO_AH,
};

static size_t build_ip6(const struct pkt_spec *s, uint8_t *p)
{
	uint8_t qbuf[PKT_MAX], *nh = p + 6, *q = p + 40;
	uint32_t a[4];
	size_t i, l4len;

	memset(p, 0, 40);
	p[0] = (s->bad_ip_version ? 0x40 : 0x60) | (s->tos >> 4);
	p[1] = (uint8_t)(s->tos << 4) | 0x0a; /* flow label 0xa1234 */
	p[2] = 0x12;
	p[3] = 0x34;
	p[7] = 64;
	parse_addr(6, s->src, a);
	memcpy(p + 8, a, 16);
	parse_addr(6, s->dst, a);
	memcpy(p + 24, a, 16);
	for (i = 0; i < sizeof(s->ext) && s->ext[i] != EXT_END; i++) {
		size_t len = s->ext[i] == EXT_AH ? 16 : 8;

		*nh = ext_proto[s->ext[i]];
		memset(q, 0, len);
		if (s->ext[i] == EXT_AH)
			q[1] = 2; /* (2 + 2) * 4 = 16 bytes */
		else if (s->ext[i] == EXT_FRAG)
			put16(q + 2, (uint16_t)(s->frag_off << 3 | s->more_frags));
		else
			q[2] = 1, q[3] = 4; /* PadN filling the header */
		nh = q;
		q += len;
	}
	if (s->frag6) {
		*nh = IPPROTO_FRAGMENT;
		memset(q, 0, 8);
		put16(q + 2, (uint16_t)(s->frag_off << 3 | s->more_frags));
		nh = q;
		q += 8;
	}
	*nh = s->proto;
	l4len = build_l4(s, q, qbuf);
	put16(p + 4, (uint16_t)(q - p - 40 + l4len));
	fill_l4_csum(s, p, q, l4len);
	return (size_t)(q - p) + l4len;
}

/* A datagram cut short with consistent length fields: truncation by the sender, not the wire. */
static size_t cut_datagram(const struct pkt_spec *s, uint8_t *p, size_t len)
{
	size_t cut = (size_t)s->cut;

	CHECK(cut <= len, "cut %zu beyond datagram %zu", cut, len);
	if (s->family == 4) {
		put16(p + 2, (uint16_t)cut);
		p[10] = p[11] = 0;
		put16(p + 10, csum_finish(csum_partial(p, (size_t)(p[0] & 0xf) * 4, 0)));
	} else {
		CHECK(cut >= 40, "an IPv6 cut keeps the fixed header");
		put16(p + 4, (uint16_t)(cut - 40));
	}
	return cut;
}

size_t pkt_build_l3(const struct pkt_spec *s, uint8_t *buf)
{
	size_t len;

	CHECK(s->family == 4 || s->family == 6, "spec needs family 4 or 6");
	len = s->family == 4 ? build_ip4(s, buf) : build_ip6(s, buf);
	if (s->ihl) {
		buf[0] = (uint8_t)((buf[0] & 0xf0) | (s->ihl & 0xf));
		buf[10] = buf[11] = 0;
		put16(buf + 10, csum_finish(csum_partial(buf, 20, 0)));
	}
	return s->cut ? cut_datagram(s, buf, len) : len;
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf)
{
	size_t l2 = 14, len;
	uint16_t type = s->ethertype ? s->ethertype : (s->family == 6 ? ETH_P_IPV6 : ETH_P_IP);

	memcpy(buf, MAC_LB, 6);
	memcpy(buf + 6, MAC_CLIENT, 6);
	if (s->vlan) {
		put16(buf + 12, ETH_P_8021Q);
		put16(buf + 14, s->vlan);
		l2 = 18;
	}
	put16(buf + l2 - 2, type);
	if (s->ethertype && s->ethertype != ETH_P_IP && s->ethertype != ETH_P_IPV6) {
		memset(buf + l2, 0xab, 28); /* e.g. an ARP body */
		len = l2 + 28;
	} else {
		len = l2 + pkt_build_l3(s, buf + l2);
	}
	if (s->pad_to && (size_t)s->pad_to > len) {
		memset(buf + len, 0, (size_t)s->pad_to - len);
		len = (size_t)s->pad_to;
	}
	if (s->truncate) {
		CHECK((size_t)s->truncate <= len, "truncate %d beyond frame %zu", s->truncate, len);
		len = (size_t)s->truncate;
	}
	return len;
}
