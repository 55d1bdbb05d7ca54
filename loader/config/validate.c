// SPDX-License-Identifier: GPL-2.0
/* The rules of services and reals for the file and the control commands, see validate.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "health/checker.h"
#include "maglev.h"
#include "xlvsmaps.h"
#include "validate.h"
#include "schedtab.h"

static int __attribute__((format(printf, 3, 4))) refuse(char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (msg && size) {
		va_start(ap, fmt);
		vsnprintf(msg, size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int refuse_at(const char **key, const char *name, char *msg, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int refuse_at(const char **key, const char *name, char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (key)
		*key = name;
	if (msg && size) {
		va_start(ap, fmt);
		vsnprintf(msg, size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *xlvs_v_show(const char *s, size_t len, struct xlvs_v_show *b)
{
	const unsigned char *v = (const unsigned char *)s;
	size_t i, o = 0;

	for (i = 0; i < len && o < 40; i++)
		b->s[o++] = v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
	strcpy(b->s + o, i < len ? "..." : "");
	return b->s;
}

const char *xlvs_v_addr_str(const struct xlvs_addr *a, char *buf)
{
	return inet_ntop(a->family == XLVS_AF_INET6 ? AF_INET6 : AF_INET, a->be, buf, INET6_ADDRSTRLEN);
}

const char *xlvs_v_svc_str(const struct xlvs_svc_spec *s, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	xlvs_v_addr_str(&s->vip, a);
	snprintf(buf, size, s->vip.family == XLVS_AF_INET6 ? "%s [%s]:%u" : "%s %s:%u",
		 xlvs_svc_proto_name(s->proto), a, s->port);
	return buf;
}

int xlvs_v_range(const char *name, const char *text, const char *range, char *msg, size_t size)
{
	struct xlvs_v_show b;

	return refuse(msg, size, "%s: %s out of range (%s)", name, xlvs_v_show(text, strlen(text), &b),
		      range);
}

int xlvs_v_uint(const char *name, long long x, uint32_t min, uint32_t max, char *msg, size_t size)
{
	char text[32], range[32];

	if (x >= min && x <= max)
		return 0;
	snprintf(text, sizeof(text), "%lld", x);
	snprintf(range, sizeof(range), "%u..%u", min, max);
	return xlvs_v_range(name, text, range, msg, size);
}

bool xlvs_v_addr_usable(const struct xlvs_addr *a)
{
	static const uint8_t zero[16], loop6[16] = { [15] = 1 };
	uint32_t x = ntohl(a->be[0]);

	if (a->family == XLVS_AF_INET) /* 0/8, 127/8, multicast, class E and broadcast */
		return x >> 24 && x >> 24 != 127 && x < 0xe0000000u;
	if (a->family != XLVS_AF_INET6)
		return false;
	return memcmp(a->be, zero, 16) && memcmp(a->be, loop6, 16) && x >> 24 != 0xff;
}

int xlvs_v_addr(const char *name, const char *text, uint8_t family, struct xlvs_addr *out, char *msg,
		size_t size)
{
	static const char *const fam[] = { "an IPv4 or IPv6", [4] = "an IPv4", [6] = "an IPv6" };
	struct xlvs_v_show b;
	struct xlvs_addr a;

	memset(&a, 0, sizeof(a));
	if (xlvs_addr_parse(text, &a) || (family && a.family != family))
		return refuse(msg, size, "%s: '%s' is not %s address", name,
			      xlvs_v_show(text, strlen(text), &b),
			      fam[family == 4 || family == 6 ? family : 0]);
	if (!xlvs_v_addr_usable(&a))
		return refuse(msg, size, "%s: '%s' is not a usable unicast address", name,
			      xlvs_v_show(text, strlen(text), &b));
	memset(a.pad, 0, sizeof(a.pad));
	*out = a;
	return 0;
}

static bool has_upper(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return true;
	return false;
}

/* names[i] == text (lowercase only): i, or -1. */
static int lookup(const char *text, const char *const *names, int n)
{
	int i;

	if (has_upper(text))
		return -1;
	for (i = 0; i < n; i++)
		if (names[i] && !strcmp(text, names[i]))
			return i;
	return -1;
}

int xlvs_v_proto(const char *name, const char *text, uint8_t *out, char *msg, size_t size)
{
	static const char *const names[] = { "tcp", "udp" };
	struct xlvs_v_show b;
	int i = lookup(text, names, 2);

	if (i < 0)
		return refuse(msg, size, "%s: unknown protocol '%s' (expected tcp or udp)", name,
			      xlvs_v_show(text, strlen(text), &b));
	*out = i ? IPPROTO_UDP : IPPROTO_TCP;
	return 0;
}

int xlvs_v_sched_flag(const char *name, const char *text, uint8_t sched, uint32_t *flags, char *msg,
		      size_t size)
{
	struct xlvs_v_show b;
	uint8_t owner;
	uint32_t flag = xlvs_sched_flag_parse(text, &owner);

	if (flag && owner != sched)
		return refuse(msg, size, "%s: '%s' is a flag of the %s scheduler, not of %s", name, text,
			      xlvs_sched_names[owner],
			      sched < XLVS_SCHED_MAX ? xlvs_sched_names[sched] : "?");
	if (flag) {
		*flags |= flag;
		return 0;
	}
	return refuse(msg, size,
		      "%s: unknown scheduler flag '%s' (expected sh-fallback, sh-port, mh-fallback, "
		      "mh-port or dh-fallback)",
		      name, xlvs_v_show(text, strlen(text), &b));
}

int xlvs_v_sched(const char *name, const char *text, uint8_t *out, char *msg, size_t size)
{
	char list[160] = "";
	struct xlvs_v_show b;
	size_t n;
	int i = lookup(text, xlvs_sched_names, XLVS_SCHED_MAX);

	if (i < 0) {
		for (i = 0; i < XLVS_SCHED_MAX; i++) {
			n = strlen(list);
			snprintf(list + n, sizeof(list) - n, "%s%s",
				 !i			   ? ""
				 : i == XLVS_SCHED_MAX - 1 ? " or "
							   : ", ",
				 xlvs_sched_names[i]);
		}
		return refuse(msg, size, "%s: unknown scheduler '%s' (expected %s)", name,
			      xlvs_v_show(text, strlen(text), &b), list);
	}
	*out = i;
	return 0;
}

int xlvs_v_fwd(const char *name, const char *text, uint8_t *out, char *msg, size_t size)
{
	struct xlvs_v_show b;
	int i = has_upper(text) ? -1 : xlvs_fwd_from_name(text);

	if (i < 0 || i >= XLVS_FWD_MAX)
		return refuse(msg, size,
			      "%s: unknown method '%s' (expected dr, tun, ipip, gue, nat, fullnat or local)",
			      name, xlvs_v_show(text, strlen(text), &b));
	*out = i;
	return 0;
}

const char *const xlvs_v_flow_states[XLVS_V_FLOW_STATES] = {
	[XLVS_FLOW_STATE_AUTO] = "auto",
	[XLVS_FLOW_STATE_RING] = "ring",
	[XLVS_FLOW_STATE_TABLE] = "table",
};

int xlvs_v_flow_state(const char *name, const char *text, uint8_t *out, char *msg, size_t size)
{
	struct xlvs_v_show b;
	int i = lookup(text, xlvs_v_flow_states, XLVS_V_FLOW_STATES);

	if (i < 0)
		return refuse(msg, size, "%s: unknown mode '%s' (expected auto, ring or table)", name,
			      xlvs_v_show(text, strlen(text), &b));
	*out = i;
	return 0;
}

int xlvs_v_ring(const char *name, uint32_t ring, char *msg, size_t size)
{
	if (xlvs_v_uint(name, ring, XLVS_V_RING_MIN, XLVS_V_RING_MAX, msg, size))
		return -EINVAL;
	if (!xlvs_is_prime(ring))
		return refuse(msg, size, "%s: %u is not a prime", name, ring);
	return 0;
}

static bool addr_eq(const struct xlvs_addr *a, const struct xlvs_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == XLVS_AF_INET)
		return a->be[0] == b->be[0];
	return !memcmp(a->be, b->be, sizeof(a->be));
}

int xlvs_v_real(const struct xlvs_global_spec *g, const struct xlvs_svc_spec *svc,
		const struct xlvs_real_spec *r, const char **key, char *msg, size_t size)
{
	char a[INET6_ADDRSTRLEN], vip[INET6_ADDRSTRLEN], name[80];
	int err;

	if (key)
		*key = "";
	if (!xlvs_v_addr_usable(&r->addr))
		return refuse_at(key, "address", msg, size, "address: '%s' is not a usable unicast address",
				 r->addr.family ? xlvs_v_addr_str(&r->addr, a) : "");
	if (addr_eq(&r->addr, &svc->vip))
		return refuse_at(key, "address", msg, size, "address: %s is the VIP of service %s",
				 xlvs_v_addr_str(&r->addr, a), xlvs_v_svc_str(svc, name, sizeof(name)));
	if (r->weight > XLVS_V_WEIGHT_MAX) {
		if (key)
			*key = "weight";
		return xlvs_v_uint("weight", r->weight, 0, XLVS_V_WEIGHT_MAX, msg, size);
	}
	if (r->fwd >= XLVS_FWD_MAX)
		return refuse_at(
			key, "forward", msg, size,
			"forward: unknown method %u (expected dr, tun, ipip, gue, nat, fullnat or local)",
			r->fwd);
	if (r->port != svc->port && !xlvs_fwd_is_nat(r->fwd))
		return refuse_at(key, "port", msg, size,
				 "port: %u differs from the service port %u (dr, tun, gue and local keep the "
				 "destination port; nat and fullnat may change it)",
				 r->port, svc->port);
	if ((r->fwd == XLVS_FWD_DR || xlvs_fwd_is_nat(r->fwd)) && r->addr.family != svc->vip.family)
		return refuse_at(key, "address", msg, size,
				 "address: %s is IPv%d but the VIP %s is IPv%d (%s needs the same family%s)",
				 xlvs_v_addr_str(&r->addr, a), r->addr.family,
				 xlvs_v_addr_str(&svc->vip, vip), svc->vip.family, xlvs_fwd_names[r->fwd],
				 r->fwd == XLVS_FWD_DR ? "; use tun or gue" : "");
	if (r->gue_port && r->fwd != XLVS_FWD_GUE)
		return refuse_at(key, "gue_port", msg, size, "gue_port: set but this real forwards with %s",
				 xlvs_fwd_names[r->fwd]);
	if (g) {
		err = xlvs_v_tunnel(g, svc, r, msg, size);
		if (err && key)
			*key = "address";
		return err;
	}
	return 0;
}

int xlvs_v_tunnel(const struct xlvs_global_spec *g, const struct xlvs_svc_spec *svc,
		  const struct xlvs_real_spec *r, char *msg, size_t size)
{
	bool v6 = r->addr.family == XLVS_AF_INET6;
	char name[80];

	if (r->fwd == XLVS_FWD_FULLNAT && !xlvs_snat_pool_has(g, r->addr.family))
		return refuse(msg, size,
			      "service %s has IPv%d fullnat reals but fullnat.pool has no IPv%d address",
			      xlvs_v_svc_str(svc, name, sizeof(name)), v6 ? 6 : 4, v6 ? 6 : 4);

	if (r->fwd == XLVS_FWD_DR || r->fwd == XLVS_FWD_LOCAL || xlvs_fwd_is_nat(r->fwd) ||
	    (v6 ? g->tun_src6.family : g->tun_src4.family))
		return 0;
	return refuse(msg, size, "service %s has IPv%d tunnel reals but tunnel.source%d is not set",
		      xlvs_v_svc_str(svc, name, sizeof(name)), v6 ? 6 : 4, v6 ? 6 : 4);
}

/* Every scheduler flag set is one that the service's scheduler has. */
static bool sched_flags_fit(const struct xlvs_svc_spec *svc)
{
	uint32_t bit;

	for (bit = XLVS_SVC_F_SCHED_FALLBACK; bit & XLVS_SVC_F_SCHED_MASK; bit <<= 1)
		if ((svc->flags & bit) && !xlvs_sched_flag_name(svc->sched, bit))
			return false;
	return true;
}

/* A prefix length as digits only, within 1..max; -1 if text is not one. */
static int prefix_len(const char *text, unsigned int max)
{
	unsigned int x = 0;
	const char *s;

	for (s = text; *s >= '0' && *s <= '9' && x <= max; s++)
		x = x * 10 + (unsigned int)(*s - '0');
	return s == text || *s ? -1 : (int)x;
}

int xlvs_v_persist_netmask(const char *name, const char *text, uint8_t family, uint8_t *plen, char *msg,
			   size_t size)
{
	unsigned int max = family == XLVS_AF_INET6 ? 128 : 32;
	int n = prefix_len(text, max);
	struct xlvs_v_show b;
	char range[32];
	uint32_t mask;
	struct in_addr a;

	if (n >= 0) {
		snprintf(range, sizeof(range), "1..%u", max);
		if (n < 1 || (unsigned int)n > max)
			return xlvs_v_range(name, text, range, msg, size);
		*plen = (uint8_t)n;
		return 0;
	}
	if (family == XLVS_AF_INET6 || inet_pton(AF_INET, text, &a) != 1)
		return refuse(msg, size, "%s: '%s' is not %s", name, xlvs_v_show(text, strlen(text), &b),
			      family == XLVS_AF_INET6
				      ? "a prefix length (1..128) for an IPv6 service"
				      : "a netmask (e.g. 255.255.255.0) or a prefix length (1..32)");
	mask = ntohl(a.s_addr);
	if (!mask)
		return xlvs_v_range(name, text, "1..32", msg, size);
	/* contiguous: the ones end where the zeros begin (IPVS takes any mask; a hole is a typo here) */
	if (~mask & (~mask + 1))
		return refuse(msg, size, "%s: '%s' is not a contiguous netmask (e.g. 255.255.255.0)", name,
			      xlvs_v_show(text, strlen(text), &b));
	*plen = (uint8_t)__builtin_popcount(mask);
	return 0;
}

int xlvs_v_persistence(const struct xlvs_svc_spec *svc, const char **key, char *msg, size_t size)
{
	unsigned int max = svc->vip.family == XLVS_AF_INET6 ? 128 : 32;

	if (svc->persist_s > XLVS_TIMEOUT_MAX_S)
		return refuse_at(key, "persistence", msg, size, "persistence: %us out of range (0s..%us)",
				 svc->persist_s, XLVS_TIMEOUT_MAX_S);
	if (svc->persist_plen > max)
		return refuse_at(key, "persistence_netmask", msg, size,
				 "persistence_netmask: /%u out of range (1..%u)", svc->persist_plen, max);
	if (svc->persist_plen && !svc->persist_s)
		return refuse_at(
			key, "persistence_netmask", msg, size,
			"persistence_netmask: set but the service is not persistent (no 'persistence')");
	return 0;
}

int xlvs_v_service(const struct xlvs_svc_spec *svc, const char **key, char *msg, size_t size)
{
	uint32_t ring = svc->ring_size ? svc->ring_size : XLVS_RING_DEFAULT;
	char a[INET6_ADDRSTRLEN];

	if (key)
		*key = "";
	if (!xlvs_v_addr_usable(&svc->vip))
		return refuse_at(key, "vip", msg, size, "vip: '%s' is not a usable unicast address",
				 svc->vip.family ? xlvs_v_addr_str(&svc->vip, a) : "");
	if (svc->proto != IPPROTO_TCP && svc->proto != IPPROTO_UDP)
		return refuse_at(key, "protocol", msg, size,
				 "protocol: unknown protocol %u (expected tcp or udp)", svc->proto);
	if (svc->sched >= XLVS_SCHED_MAX)
		return refuse_at(key, "scheduler", msg, size, "scheduler: unknown scheduler %u", svc->sched);
	if (!sched_flags_fit(svc))
		return refuse_at(key, "scheduler_flags", msg, size,
				 "scheduler_flags: the %s scheduler takes none of these flags",
				 xlvs_sched_names[svc->sched]);
	if (svc->sched_expire_s && svc->sched != XLVS_SCHED_LBLC && svc->sched != XLVS_SCHED_LBLCR)
		return refuse_at(key, "scheduler_expire", msg, size,
				 "scheduler_expire: only lblc and lblcr keep assignments, not %s",
				 xlvs_sched_names[svc->sched]);
	if (svc->sched_expire_s > XLVS_TIMEOUT_MAX_S)
		return refuse_at(key, "scheduler_expire", msg, size,
				 "scheduler_expire: %us is longer than a week (%us)", svc->sched_expire_s,
				 XLVS_TIMEOUT_MAX_S);
	if (svc->fwd >= XLVS_FWD_MAX)
		return refuse_at(
			key, "forward", msg, size,
			"forward: unknown method %u (expected dr, tun, ipip, gue, nat, fullnat or local)",
			svc->fwd);
	if (xlvs_v_ring("ring_size", ring, msg, size)) {
		if (key)
			*key = "ring_size";
		return -EINVAL;
	}
	if (svc->nr_reals > ring)
		return refuse_at(key, "ring_size", msg, size,
				 "ring_size: %u is smaller than the number of reals (%zu)", ring,
				 svc->nr_reals);
	if (xlvs_v_persistence(svc, key, msg, size))
		return -EINVAL;
	if (xlvs_v_ring_state(svc, key, msg, size))
		return -EINVAL;
	return xlvs_v_timeouts(svc, key, msg, size);
}

/*
 * The mode's value, whether the service can be in ring state (the planner's
 * own rule, xlvs_svc_flow_state(), so the file's line is named; the planner
 * asks again at every apply) and the window's range.
 */
int xlvs_v_ring_state(const struct xlvs_svc_spec *svc, const char **key, char *msg, size_t size)
{
	char why[160];

	if (svc->flow_state >= XLVS_V_FLOW_STATES)
		return refuse_at(key, "flow_state", msg, size, "flow_state: unknown mode %u",
				 svc->flow_state);
	if (svc->flow_state == XLVS_FLOW_STATE_RING && xlvs_svc_flow_state(svc, why, sizeof(why)) < 0)
		return refuse_at(key, "flow_state", msg, size, "%s", why);
	if (svc->ring_window_s > XLVS_TIMEOUT_MAX_S)
		return refuse_at(key, "ring_window", msg, size, "ring_window: %us out of range (0s..%us)",
				 svc->ring_window_s, XLVS_TIMEOUT_MAX_S);
	return 0;
}

/* A service's lifetimes: those of its protocol only, each 1 s to a week (0: the global one). */
int xlvs_v_timeouts(const struct xlvs_svc_spec *svc, const char **key, char *msg, size_t size)
{
	bool udp = svc->proto == IPPROTO_UDP;
	unsigned int i;

	for (i = 0; i < XLVS_TO_MAX; i++) {
		if (!svc->timeout_s[i])
			continue;
		if (svc->timeout_s[i] > XLVS_TIMEOUT_MAX_S)
			return refuse_at(key, "timeouts", msg, size,
					 "timeouts: %s: %us is longer than a week (%us)",
					 xlvs_timeout_names[i], svc->timeout_s[i], XLVS_TIMEOUT_MAX_S);
		if (udp != (i == XLVS_TO_UDP))
			return refuse_at(key, "timeouts", msg, size,
					 "timeouts: %s does not apply to a %s service (its key is %s)",
					 xlvs_timeout_names[i], udp ? "udp" : "tcp",
					 udp ? "udp" : "tcp, tcp_fin or tcp_syn");
	}
	return 0;
}

int xlvs_v_check_port(const struct xlvs_svc_spec *svc, const struct xlvs_check_spec *ck, char *msg,
		      size_t size)
{
	char name[80];

	if (svc->port || ck->port)
		return 0;
	if (ck->type != XLVS_CHECK_TCP && ck->type != XLVS_CHECK_HTTP && ck->type != XLVS_CHECK_HTTPS &&
	    ck->type != XLVS_CHECK_UDP)
		return 0;
	return refuse(msg, size,
		      "check: a %s check of service %s (every port) needs a 'port': "
		      "it would probe port 0 and mark every real down",
		      xlvs_check_type_name(ck->type), xlvs_v_svc_str(svc, name, sizeof(name)));
}
