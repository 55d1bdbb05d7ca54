// SPDX-License-Identifier: GPL-2.0
/* The packet targets' oracle parser and repair: written from the RFCs, not from bpf/. */
#include <string.h>

#include "fuzz_pkt.h"

#define P_HOP	0
#define P_ICMP	1
#define P_IPIP	4
#define P_TCP	6
#define P_UDP	17
#define P_IPV6	41
#define P_ROUT	43
#define P_FRAG	44
#define P_AH	51
#define P_ICMP6 58
#define P_DST	60

uint16_t fz_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t fz_csum(const uint8_t *buf, size_t len, uint32_t sum)
{
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	if (len & 1)
		s += (uint32_t)buf[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

size_t fz_l2(const uint8_t *f, size_t len, uint16_t *ethertype)
{
	if (len < 14)
		return 0;
	*ethertype = fz_get16(f + 12);
	if (*ethertype != 0x8100 && *ethertype != 0x88a8)
		return 14;
	if (len < 18)
		return 0;
	*ethertype = fz_get16(f + 16);
	return 18;
}

uint32_t fz_pseudo(const uint8_t *ip, uint8_t family, uint8_t proto, size_t l4len)
{
	uint32_t s = 0;
	size_t i, a = family == 4 ? 12 : 8, n = family == 4 ? 8 : 32;

	for (i = 0; i < n; i += 2)
		s += fz_get16(ip + a + i);
	return s + proto + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
}

static bool is_ext(uint8_t nh)
{
	return nh == P_HOP || nh == P_ROUT || nh == P_DST || nh == P_FRAG || nh == P_AH;
}

/* Walks IPv6 extension headers within [off, off+len); returns the header length, proto in *nh. */
static size_t ip6_walk(const uint8_t *buf, size_t off, size_t len, uint8_t *nh, bool *frag)
{
	size_t p = 40;
	int i;

	*nh = buf[off + 6];
	for (i = 0; i < 8 && is_ext(*nh); i++) {
		uint8_t cur = *nh;

		if (p + 8 > len)
			return (size_t)-1;
		*nh = buf[off + p];
		if (cur == P_FRAG) {
			if (fz_get16(buf + off + p + 2) & 0xfff9)
				*frag = true;
			p += 8;
		} else if (cur == P_AH) {
			p += ((size_t)buf[off + p + 1] + 2) * 4;
		} else {
			p += ((size_t)buf[off + p + 1] + 1) * 8;
		}
	}
	return is_ext(*nh) || p > len ? (size_t)-1 : p;
}

void fz_ip_parse(const uint8_t *buf, size_t buflen, size_t off, uint8_t want, struct fz_ip *ip)
{
	const uint8_t *h = buf + off;
	size_t avail = buflen > off ? buflen - off : 0, l4len;
	const uint8_t *l4;

	memset(ip, 0, sizeof(*ip));
	ip->off = off;
	if (!avail)
		return;
	ip->family = want ? want : (uint8_t)(h[0] >> 4);
	if ((h[0] >> 4) != ip->family)
		return;
	if (ip->family == 4) {
		if (avail < 20 || (h[0] & 0xf) < 5)
			return;
		ip->hlen = (size_t)(h[0] & 0xf) * 4;
		ip->len = fz_get16(h + 2);
		if (ip->len < ip->hlen || ip->len > avail)
			return;
		ip->frag = fz_get16(h + 6) & 0x3fff;
		ip->hdr_csum_ok = fz_csum(h, ip->hlen, 0) == 0;
		ip->proto = h[9];
	} else if (ip->family == 6) {
		if (avail < 40)
			return;
		ip->len = 40 + (size_t)fz_get16(h + 4);
		if (ip->len > avail)
			return;
		ip->hdr_csum_ok = true;
		ip->hlen = ip6_walk(buf, off, ip->len, &ip->proto, &ip->frag);
		if (ip->hlen == (size_t)-1) {
			ip->hlen = 0;
			return;
		}
	} else {
		return;
	}
	ip->ok = true;
	if (ip->frag)
		return;
	l4 = h + ip->hlen;
	l4len = ip->len - ip->hlen;
	switch (ip->proto) {
	case P_TCP:
		ip->l4_csum_ok = l4len >= 20 &&
				 fz_csum(l4, l4len, fz_pseudo(h, ip->family, P_TCP, l4len)) == 0;
		break;
	case P_UDP:
		if (l4len < 8)
			break;
		if (ip->family == 4 && !fz_get16(l4 + 6)) {
			ip->udp4_nocsum = true;
			ip->l4_csum_ok = true;
			break;
		}
		ip->l4_csum_ok = fz_csum(l4, l4len, fz_pseudo(h, ip->family, P_UDP, l4len)) == 0;
		break;
	case P_ICMP:
		ip->l4_csum_ok = ip->family == 4 && l4len >= 8 && fz_csum(l4, l4len, 0) == 0;
		break;
	case P_ICMP6:
		ip->l4_csum_ok = ip->family == 6 && l4len >= 8 &&
				 fz_csum(l4, l4len, fz_pseudo(h, 6, P_ICMP6, l4len)) == 0;
		break;
	}
}

static void fix_l4(uint8_t *h, uint8_t family, uint8_t proto, uint8_t *l4, size_t l4len, uint16_t gue_port,
		   size_t buflen_from_l4, int depth)
{
	uint16_t c;

	switch (proto) {
	case P_TCP:
		if (l4len < 20)
			return;
		put16(l4 + 16, 0);
		put16(l4 + 16, fz_csum(l4, l4len, fz_pseudo(h, family, P_TCP, l4len)));
		return;
	case P_UDP:
		if (l4len < 8)
			return;
		put16(l4 + 4, (uint16_t)l4len);
		if (gue_port && fz_get16(l4 + 2) == gue_port && depth < 2)
			fz_fixup(l4 + 8, buflen_from_l4 - 8, 0, gue_port, depth + 1);
		if (family == 4 && !fz_get16(l4 + 6))
			return; /* no checksum stays none */
		put16(l4 + 6, 0);
		c = fz_csum(l4, l4len, fz_pseudo(h, family, P_UDP, l4len));
		put16(l4 + 6, c ? c : 0xffff);
		return;
	case P_ICMP:
		if (family != 4 || l4len < 4)
			return;
		put16(l4 + 2, 0);
		put16(l4 + 2, fz_csum(l4, l4len, 0));
		return;
	case P_ICMP6:
		if (family != 6 || l4len < 4)
			return;
		put16(l4 + 2, 0);
		put16(l4 + 2, fz_csum(l4, l4len, fz_pseudo(h, 6, P_ICMP6, l4len)));
		return;
	case P_IPIP:
	case P_IPV6:
		if (depth < 2)
			fz_fixup(l4, buflen_from_l4, 0, gue_port, depth + 1);
		return;
	}
}

void fz_fixup(uint8_t *buf, size_t buflen, size_t off, uint16_t gue_port, int depth)
{
	uint8_t *h = buf + off;
	size_t avail = buflen > off ? buflen - off : 0, hlen, len;
	uint8_t proto;
	bool frag = false;

	if (!avail)
		return;
	if ((h[0] >> 4) == 4) {
		if (avail < 20)
			return;
		if ((h[0] & 0xf) < 5)
			h[0] = 0x45;
		hlen = (size_t)(h[0] & 0xf) * 4;
		if (hlen > avail)
			return;
		len = avail > 0xffff ? 0xffff : avail;
		put16(h + 2, (uint16_t)len);
		put16(h + 10, 0);
		put16(h + 10, fz_csum(h, hlen, 0));
		if (fz_get16(h + 6) & 0x3fff)
			return;
		proto = h[9];
		fix_l4(h, 4, proto, h + hlen, len - hlen, gue_port, avail - hlen, depth);
	} else if ((h[0] >> 4) == 6) {
		if (avail < 40)
			return;
		len = avail > 0xffff + 40 ? 0xffff + 40 : avail;
		put16(h + 4, (uint16_t)(len - 40));
		hlen = ip6_walk(buf, off, len, &proto, &frag);
		if (hlen == (size_t)-1 || frag)
			return;
		fix_l4(h, 6, proto, h + hlen, len - hlen, gue_port, avail - hlen, depth);
	}
}
