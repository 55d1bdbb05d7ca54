// SPDX-License-Identifier: GPL-2.0
/* Addresses and names as the configuration and the CLI spell them. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "xlvsmaps.h"

int xlvs_addr_parse(const char *text, struct xlvs_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!text)
		return -EINVAL;
	if (inet_pton(AF_INET, text, a->be) == 1)
		a->family = XLVS_AF_INET;
	else if (inet_pton(AF_INET6, text, a->be) == 1)
		a->family = XLVS_AF_INET6;
	return a->family ? 0 : -EINVAL;
}

const char *xlvs_addr_str(const struct xlvs_addr *a, char *buf, size_t size)
{
	int af = a->family == XLVS_AF_INET ? AF_INET : a->family == XLVS_AF_INET6 ? AF_INET6 : -1;

	return af < 0 ? NULL : inet_ntop(af, a->be, buf, size);
}

const char *xlvs_svc_proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

void xlvs_addr_from_be(struct xlvs_addr *a, uint8_t family, const __be32 *be)
{
	size_t words = family == XLVS_AF_INET6 ? 4 : family == XLVS_AF_INET ? 1 : 0;

	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->be, be, words * sizeof(*be));
}

static int name_index(const char *name, const char *const *names, int n)
{
	int i;

	for (i = 0; name && i < n; i++)
		if (!strcasecmp(name, names[i]))
			return i;
	return -EINVAL;
}

int xlvs_sched_from_name(const char *name)
{
	return name_index(name, xlvs_sched_names, XLVS_SCHED_MAX);
}

int xlvs_fwd_from_name(const char *name)
{
	if (name && !strcasecmp(name, "ipip"))
		return XLVS_FWD_TUN;
	return name_index(name, xlvs_fwd_names, XLVS_FWD_MAX);
}
