// SPDX-License-Identifier: GPL-2.0
/* The top-level keys of the configuration file: interfaces, tunnel, metrics. */
#include <arpa/inet.h>
#include <errno.h>
#include <ctype.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlvsmaps.h"
#include "parse.h"

static int add_if(struct ctx *c, struct xlvs_global_spec *g, const char *key, yaml_node_t *n)
{
	const char *s;
	struct vbuf b;
	size_t i, len;
	int err;

	err = cf_get_str(c, key, n, &s);
	if (err)
		return err;
	len = strlen(s);
	if (!len)
		return fail(c, n, "%s: interface name is empty", key);
	if (len >= IF_NAMESIZE)
		return fail(c, n, "%s: interface name '%s' is longer than %d characters", key, cf_show(n, &b),
			    IF_NAMESIZE - 1);
	for (i = 0; i < len && s[i] != '/' && s[i] != ':' && !isspace((unsigned char)s[i]); i++)
		;
	if (i < len || !strcmp(s, ".") || !strcmp(s, ".."))
		return fail(c, n, "%s: invalid interface name '%s' (no '/', ':' or spaces)", key,
			    cf_show(n, &b));
	for (i = 0; i < g->nr_interfaces; i++)
		if (!strcmp(g->interfaces[i], s))
			return fail(c, n, "%s: duplicate interface '%s'", key, s);
	if (g->nr_interfaces == MAX_IFS)
		return fail(c, n, "%s: too many interfaces (at most %zu)", key, MAX_IFS);
	memcpy(g->interfaces[i], s, len + 1);
	memcpy(c->ifs[i].name, s, len + 1);
	c->ifs[i].line = n->start_mark.line + 1;
	c->ifs[i].column = n->start_mark.column + 1;
	g->nr_interfaces++;
	return 0;
}

/* `interface: eth1` or `interfaces: [eth1, eth2]`, not both. */
int cf_key_ifs(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	yaml_node_item_t *it;
	int err;

	if (c->have_ifs)
		return fail(c, v, "%s: use either 'interface' or 'interfaces', not both", k->name);
	c->have_ifs = true;
	if (!strcmp(k->name, "interface"))
		return add_if(c, obj, k->name, v);
	err = cf_expect(c, k->name, v, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	if (v->data.sequence.items.start == v->data.sequence.items.top)
		return fail(c, v, "%s: at least one interface is required", k->name);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		err = add_if(c, obj, k->name, node(c, *it));
		if (err)
			return err;
	}
	return 0;
}

int cf_key_mac(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_global_spec *g = obj;
	unsigned int m[6], i;
	const char *s;
	struct vbuf b;
	int err, end = 0;

	err = cf_get_str(c, k->name, v, &s);
	if (err)
		return err;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &end) != 6 ||
	    end != 17 || s[end] || strspn(s, "0123456789abcdefABCDEF:") != 17)
		return fail(c, v, "%s: '%s' is not a MAC address (expected xx:xx:xx:xx:xx:xx)", k->name,
			    cf_show(v, &b));
	if ((m[0] & 1) || !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return fail(c, v, "%s: %s is not a unicast MAC address", k->name, s);
	for (i = 0; i < 6; i++)
		g->gw_mac[i] = m[i];
	g->have_gw_mac = true;
	return 0;
}

/* 0 = no PMTU check; otherwise at least the IPv6 minimum MTU. */
static int key_mtu(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	static const char range[] = "0 or 1280..65535";
	uint32_t x;
	int err;

	err = cf_get_uint(c, k->name, v, 0, 65535, range, &x);
	if (err)
		return err;
	if (x && x < TUN_MTU_MIN)
		return cf_range_fail(c, k->name, v, range);
	((struct xlvs_global_spec *)obj)->tun_mtu = x;
	c->mtu_node = v;
	return 0;
}

static const struct key tunnel_keys[] = {
	{ .name = "source4", .fn = cf_key_addr, G(tun_src4), .min = XLVS_AF_INET },
	{ .name = "source6", .fn = cf_key_addr, G(tun_src6), .min = XLVS_AF_INET6 },
	{ .name = "mtu", .fn = key_mtu },
	{ .name = "gue_port", .fn = cf_key_uint, G(gue_port), .min = 1, .max = 65535 },
};

int cf_key_tunnel(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct seen s;
	int err = cf_expect(c, k->name, v, YAML_MAPPING_NODE);

	if (err)
		return err;
	return cf_walk(c, v, "in tunnel", tunnel_keys, sizeof(tunnel_keys) / sizeof(tunnel_keys[0]), NULL,
		       obj, &s);
}

/* ---- fullnat: the pool of source addresses and ports ---- */

/* `pool: [198.18.0.201, "2001:db8::201"]`: distinct usable addresses, at most XLVS_SNAT_POOL_MAX. */
static int key_pool(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_global_spec *g = obj;
	const struct key one = { .name = k->name };
	yaml_node_item_t *it;
	struct xlvs_addr a;
	char text[INET6_ADDRSTRLEN];
	size_t i;
	int err = cf_expect(c, k->name, v, YAML_SEQUENCE_NODE);

	if (!err && v->data.sequence.items.start == v->data.sequence.items.top)
		return fail(c, v, "%s: at least one address is required", k->name);
	for (it = v->data.sequence.items.start; !err && it < v->data.sequence.items.top; it++) {
		if (g->nr_snat_pool == XLVS_SNAT_POOL_MAX)
			return fail(c, node(c, *it), "%s: too many addresses (at most %u)", k->name,
				    XLVS_SNAT_POOL_MAX);
		err = cf_key_addr(c, &one, node(c, *it), &a);
		for (i = 0; !err && i < g->nr_snat_pool; i++)
			if (g->snat_pool[i].family == a.family && !memcmp(g->snat_pool[i].be, a.be, 16))
				return fail(c, node(c, *it), "%s: duplicate address %s", k->name,
					    cf_addr_str(&a, text));
		if (!err)
			g->snat_pool[g->nr_snat_pool++] = a;
	}
	return err;
}

enum {
	F_POOL,
	F_PORT_MIN,
	F_PORT_MAX,
	F_NR
};

static const struct key fullnat_keys[F_NR] = {
	[F_POOL] = { .name = "pool", .fn = key_pool },
	[F_PORT_MIN] = { .name = "port_min", .fn = cf_key_uint, G(snat_port_lo), .min = 1, .max = 65535 },
	[F_PORT_MAX] = { .name = "port_max", .fn = cf_key_uint, G(snat_port_hi), .min = 1, .max = 65535 },
};

/* `fullnat: { pool: [ADDRESS, ...], port_min: 1024, port_max: 65535 }` */
int cf_key_fullnat(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_global_spec *g = obj;
	struct seen s;
	int err = cf_expect(c, k->name, v, YAML_MAPPING_NODE);

	if (!err)
		err = cf_walk(c, v, "in fullnat", fullnat_keys, F_NR, NULL, obj, &s);
	if (!err && !HAS(&s, F_POOL))
		return fail(c, v, "missing required key 'pool' in fullnat");
	if (!err && g->snat_port_lo > g->snat_port_hi)
		return fail(c, s.val[HAS(&s, F_PORT_MAX) ? F_PORT_MAX : F_PORT_MIN],
			    "port_max: %u is below port_min %u", g->snat_port_hi, g->snat_port_lo);
	return err;
}

/* ---- timeouts: connection lifetimes (the top level's and a service's) ---- */

struct lifetimes_ms {
	uint32_t ms[XLVS_TO_MAX];
};

/* From abi.h's X-macro list, so the names are literals a static table may hold. */
#define LIFETIME(id, word, secs)                                                                             \
	[XLVS_TO_##id] = { .name = word,                                                                     \
			   .fn = cf_key_duration,                                                            \
			   FIELD(struct lifetimes_ms, ms[XLVS_TO_##id]),                                     \
			   .min = 1000,                                                                      \
			   .max = XLVS_TIMEOUT_MAX_S * 1000u },

/*
 * `timeouts: {tcp: 15m, tcp_fin: 2m, tcp_syn: 1m, udp: 5m}`, any subset, into
 * the uint32_t[XLVS_TO_MAX] at k->off: whole seconds, 1 s to a week (abi.h).
 */
static const struct key timeout_keys[XLVS_TO_MAX] = { XLVS_TIMEOUTS(LIFETIME) };

int cf_key_timeouts(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	uint32_t *out = (uint32_t *)((char *)obj + k->off);
	struct lifetimes_ms t = { { 0 } };
	struct seen s;
	unsigned int i;
	int err = cf_expect(c, k->name, v, YAML_MAPPING_NODE);

	if (!err)
		err = cf_walk(c, v, "in timeouts", timeout_keys, XLVS_TO_MAX, NULL, &t, &s);
	for (i = 0; !err && i < XLVS_TO_MAX; i++) {
		if (!HAS(&s, i))
			continue;
		if (t.ms[i] % 1000)
			return fail(c, s.val[i], "%s: whole seconds expected (e.g. 90s, 15m), got %ums",
				    xlvs_timeout_names[i], t.ms[i]);
		out[i] = t.ms[i] / 1000;
	}
	return err;
}

/* ADDRESS:PORT, IPv6 in brackets; the address may be unspecified (all addresses). */
static bool listen_ok(const char *s)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':'), *p;
	unsigned char addr[16];
	unsigned long port = 0;
	size_t hlen;

	if (!colon || !colon[1] || colon[1] == '0' || strlen(colon + 1) > 5)
		return false;
	for (p = colon + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		port = port * 10 + (*p - '0');
	}
	hlen = colon - s;
	if (port > 65535 || hlen < 3 || hlen >= sizeof(host))
		return false;
	if (s[0] == '[') {
		if (s[hlen - 1] != ']')
			return false;
		memcpy(host, s + 1, hlen - 2);
		host[hlen - 2] = '\0';
		return inet_pton(AF_INET6, host, addr) == 1;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	return inet_pton(AF_INET, host, addr) == 1;
}

static int key_listen(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_global_spec *g = obj;
	const char *s;
	struct vbuf b;
	int err;

	err = cf_get_str(c, k->name, v, &s);
	if (err)
		return err;
	if (!listen_ok(s))
		return fail(c, v, "%s: '%s' is not ADDRESS:PORT (e.g. 127.0.0.1:9105 or [::1]:9105)", k->name,
			    cf_show(v, &b));
	snprintf(g->metrics_listen, sizeof(g->metrics_listen), "%s", s);
	return 0;
}

static const struct key metrics_keys[] = {
	{ .name = "listen", .fn = key_listen },
};

/* `metrics: off` (or false), or `metrics: { listen: ADDRESS:PORT }`. */
int cf_key_metrics(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct vbuf b;
	struct seen s;
	int err;

	if (cf_is_off(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, "%s: mapping or 'off' expected, got %s", k->name, cf_what(v, &b));
	err = cf_walk(c, v, "in metrics", metrics_keys, 1, NULL, obj, &s);
	if (!err && !HAS(&s, 0))
		err = fail(c, v, "missing required key 'listen' in metrics");
	return err;
}

/* ---- health checks through the forwarding path (docs/health.md) ---- */

int cf_key_health_fwd(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_global_spec *g = obj;
	bool on;
	int err = cf_get_bool(c, k->name, v, &on);

	if (!err)
		g->health_direct = !on;
	return err;
}

static bool mark_word(const char *s, char **end, uint32_t *out)
{
	unsigned long x;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	x = strtoul(s, end, 0);
	if (errno || x > UINT32_MAX)
		return false;
	*out = (uint32_t)x;
	return true;
}

/* `health_mark: VALUE/MASK`, e.g. 0x584c0000/0xffff0000 (hexadecimal or decimal). */
int cf_key_health_mark(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_global_spec *g = obj;
	uint32_t value, mask;
	char why[160], *end;
	const char *s;
	struct vbuf b;
	int err;

	err = cf_get_str(c, k->name, v, &s);
	if (err)
		return err;
	if (!mark_word(s, &end, &value) || *end != '/' || !mark_word(end + 1, &end, &mask) || *end)
		return fail(c, v, "%s: '%s' is not VALUE/MASK (e.g. 0x584c0000/0xffff0000)", k->name,
			    cf_show(v, &b));
	if (!xlvs_hc_mark_range_ok(value, mask, why, sizeof(why)))
		return fail(c, v, "%s: %s", k->name, why);
	g->hc_mark_value = value;
	g->hc_mark_mask = mask;
	return 0;
}

void cf_global_keys(xlvs_conf_key_fn fn, void *arg)
{
	cf_visit_keys("in tunnel", tunnel_keys, sizeof(tunnel_keys) / sizeof(tunnel_keys[0]), fn, arg);
	cf_visit_keys("in fullnat", fullnat_keys, F_NR, fn, arg);
	cf_visit_keys("in metrics", metrics_keys, sizeof(metrics_keys) / sizeof(metrics_keys[0]), fn, arg);
	cf_visit_keys("in timeouts", timeout_keys, XLVS_TO_MAX, fn, arg);
}
