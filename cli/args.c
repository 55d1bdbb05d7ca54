// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing of command-line words and the names printed for map values.
 * Everything is bounded and checked: junk gets a message naming the word.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"

#define HOST_MAX	128	/* longer than any address text */

static bool has_alpha_beyond_hex(const char *s)
{
	for (; *s; s++)
		if (isalpha((unsigned char)*s) && !isxdigit((unsigned char)*s))
			return true;
	return false;
}

static int parse_host(const char *host, const char *text, bool v6_only, struct xlvs_addr *a,
		      char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (!*host) {
		snprintf(err, errlen, "missing address in '%s'", text);
		return -1;
	}
	if (!v6_only && inet_pton(AF_INET, host, &a->be[0]) == 1) {
		a->family = XLVS_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, host, a->be) == 1) {
		a->family = XLVS_AF_INET6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	if (strchr(host, '%'))
		snprintf(err, errlen, "'%s': IPv6 zone indexes are not supported", host);
	else if (v6_only && inet_pton(AF_INET, host, &a->be[0]) == 1)
		snprintf(err, errlen, "'%s': brackets are for IPv6 addresses only", text);
	else if (has_alpha_beyond_hex(host))
		snprintf(err, errlen, "'%s' is not an IP address (xlvs does not resolve names)", host);
	else
		snprintf(err, errlen, "invalid address '%s'", host);
	return -1;
}

static int parse_port(const char *port, const char *text, struct xlvs_endpoint *ep,
		      char *err, size_t errlen)
{
	uint32_t v;

	if (!*port) {
		snprintf(err, errlen, "missing port after ':' in '%s'", text);
		return -1;
	}
	if (xlvs_parse_u32(port, 0, 65535, &v)) {
		snprintf(err, errlen, "invalid port '%s' in '%s' (0-65535)", port, text);
		return -1;
	}
	ep->port = (uint16_t)v;
	ep->have_port = true;
	return 0;
}

/* Split off "/proto" into ep->proto; buf is modified. */
static int split_proto(char *buf, const char *text, bool allow_proto, struct xlvs_endpoint *ep,
		       char *err, size_t errlen)
{
	char *slash = strrchr(buf, '/');
	int proto;

	if (!slash)
		return 0;
	if (!allow_proto) {
		snprintf(err, errlen, "'%s': a real server takes no /protocol", text);
		return -1;
	}
	*slash = '\0';
	proto = xlvs_parse_proto(slash + 1);
	if (proto < 0) {
		snprintf(err, errlen, "unknown protocol '%s' in '%s' (tcp or udp)", slash + 1, text);
		return -1;
	}
	ep->proto = (uint8_t)proto;
	return 0;
}

static int parse_bracketed(char *buf, const char *text, struct xlvs_endpoint *ep,
			   char *err, size_t errlen)
{
	char *close = strchr(buf, ']');

	if (!close) {
		snprintf(err, errlen, "missing ']' in '%s'", text);
		return -1;
	}
	*close = '\0';
	if (parse_host(buf + 1, text, true, &ep->addr, err, errlen))
		return -1;
	if (close[1] == '\0')
		return 0;
	if (close[1] != ':') {
		snprintf(err, errlen, "unexpected '%s' after ']' in '%s'", close + 1, text);
		return -1;
	}
	return parse_port(close + 2, text, ep, err, errlen);
}

int xlvs_parse_endpoint(const char *text, bool allow_proto, struct xlvs_endpoint *ep,
			char *err, size_t errlen)
{
	char buf[HOST_MAX + 1], *colon;

	memset(ep, 0, sizeof(*ep));
	if (!text || !*text) {
		snprintf(err, errlen, "empty address");
		return -1;
	}
	if (strlen(text) > HOST_MAX) {
		snprintf(err, errlen, "address too long: '%.40s...'", text);
		return -1;
	}
	strcpy(buf, text);
	if (split_proto(buf, text, allow_proto, ep, err, errlen))
		return -1;
	if (buf[0] == '[')
		return parse_bracketed(buf, text, ep, err, errlen);
	colon = strchr(buf, ':');
	/* Two or more colons: an IPv6 address without a port ([V6]:PORT for one). */
	if (colon && strchr(colon + 1, ':'))
		return parse_host(buf, text, false, &ep->addr, err, errlen);
	if (colon)
		*colon = '\0';
	if (parse_host(buf, text, false, &ep->addr, err, errlen))
		return -1;
	return colon ? parse_port(colon + 1, text, ep, err, errlen) : 0;
}

int xlvs_parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!text || !isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int xlvs_parse_secs(const char *text, double *out)
{
	double v;
	char *end;

	if (!text || !(isdigit((unsigned char)text[0]) || text[0] == '.'))
		return -1;
	errno = 0;
	v = strtod(text, &end);
	if (errno || *end || v <= 0 || v > 86400)
		return -1;
	*out = v;
	return 0;
}

int xlvs_parse_proto(const char *text)
{
	if (!text)
		return -1;
	if (!strcasecmp(text, "tcp"))
		return IPPROTO_TCP;
	if (!strcasecmp(text, "udp"))
		return IPPROTO_UDP;
	return -1;
}

int xlvs_parse_sched(const char *text)
{
	int i;

	for (i = 0; text && i < XLVS_SCHED_MAX; i++)
		if (!strcasecmp(text, xlvs_sched_names[i]))
			return i;
	return -1;
}

int xlvs_parse_fwd(const char *text)
{
	static const struct { const char *word; int fwd; } words[] = {
		{ "dr", XLVS_FWD_DR }, { "route", XLVS_FWD_DR }, { "gatewaying", XLVS_FWD_DR },
		{ "tun", XLVS_FWD_TUN }, { "tunnel", XLVS_FWD_TUN }, { "ipip", XLVS_FWD_TUN },
		{ "gue", XLVS_FWD_GUE },
		{ "nat", XLVS_FWD_NAT }, { "masq", XLVS_FWD_NAT }, { "masquerading", XLVS_FWD_NAT },
		{ "fullnat", XLVS_FWD_FULLNAT },
	};
	size_t i;

	for (i = 0; text && i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(text, words[i].word))
			return words[i].fwd;
	return -1;
}

const char *xlvs_proto_name(uint8_t proto, char *buf, size_t size)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	}
	snprintf(buf, size, "%u", proto);
	return buf;
}

const char *xlvs_proto_text(uint8_t proto, char *buf, size_t size)
{
	switch (proto) {
	case IPPROTO_TCP: return "TCP";
	case IPPROTO_UDP: return "UDP";
	case IPPROTO_ICMP: return "ICMP";
	case IPPROTO_ICMPV6: return "ICMP6";
	}
	snprintf(buf, size, "%u", proto);
	return buf;
}

const char *xlvs_sched_name(uint8_t sched, char *buf, size_t size)
{
	if (sched < XLVS_SCHED_MAX)
		return xlvs_sched_names[sched];
	snprintf(buf, size, "sched%u", sched);
	return buf;
}

const char *xlvs_fwd_name(uint8_t fwd, char *buf, size_t size)
{
	if (fwd < XLVS_FWD_MAX)
		return xlvs_fwd_names[fwd];
	snprintf(buf, size, "fwd%u", fwd);
	return buf;
}

const char *xlvs_fwd_text(uint8_t fwd, char *buf, size_t size)
{
	static const char *const text[XLVS_FWD_MAX] = {
		[XLVS_FWD_DR] = "Route", [XLVS_FWD_TUN] = "Tunnel", [XLVS_FWD_GUE] = "GUE",
		[XLVS_FWD_NAT] = "Masq", [XLVS_FWD_FULLNAT] = "FullNAT",
	};

	if (fwd < XLVS_FWD_MAX && text[fwd])
		return text[fwd];
	snprintf(buf, size, "fwd%u", fwd);
	return buf;
}

const char *xlvs_addr_text(const struct xlvs_addr *a, char *buf, size_t size)
{
	int af = a->family == XLVS_AF_INET6 ? AF_INET6 : AF_INET;

	if ((a->family != XLVS_AF_INET && a->family != XLVS_AF_INET6) ||
	    !inet_ntop(af, a->be, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

const char *xlvs_ep_text(const struct xlvs_addr *a, uint16_t port, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	xlvs_addr_text(a, host, sizeof(host));
	if (a->family == XLVS_AF_INET6)
		snprintf(buf, size, "[%s]:%u", host, port);
	else
		snprintf(buf, size, "%s:%u", host, port);
	return buf;
}

void xlvs_addr_of(struct xlvs_addr *a, uint8_t family, const uint32_t be[4])
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	if (family == XLVS_AF_INET)
		a->be[0] = be[0];
	else
		memcpy(a->be, be, sizeof(a->be));
}
