// SPDX-License-Identifier: GPL-2.0
/*
 * xlvsd configuration: YAML -> struct xlvs_spec, validated as a whole before
 * anything is applied. libyaml's document API gives every node its position;
 * keys are handled through per-section tables (name, handler, field, range).
 * Parsing stops at the first error, which names file:line:column.
 * The reference for every key is docs/configuration.md.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"
#include "xlvsmaps.h"

#define MAX_IFS		(sizeof(((struct xlvs_global_spec *)0)->interfaces) / IF_NAMESIZE)
#define MAX_FILE	(64u << 20)	/* far above 16384 services / 65536 reals */
#define TUN_MTU_DEFAULT	1500
#define TUN_MTU_MIN	1280		/* IPv6 minimum link MTU */
#define CONNS_MIN	1024u
#define CONNS_MAX	(1u << 28)
#define RING_MIN	3u
#define RING_MAX	16777213u	/* largest prime <= XLVS_MAGLEV_MAX_SIZE */
#define MAX_SEEN	32		/* keys per section: bits of struct seen.mask */

/* What the cross-checks after the walk need to know about a service. */
struct svc_note {
	yaml_mark_t mark;		/* the service mapping */
	yaml_mark_t tun_mark[2];	/* first real needing tunnel.source4 / source6 */
	bool tun_need[2];
	unsigned int v6_overhead;	/* IPv6 VIP: largest encapsulation overhead */
};

struct svc_parse;

struct if_note {
	char name[IF_NAMESIZE];
	unsigned int line, column;
};

struct ctx {
	const char *text;
	size_t len;
	yaml_document_t *doc;
	struct xlvs_config_error *err;
	struct xlvs_spec *spec;
	struct svc_note *notes;		/* one per service */
	size_t nr_reals;		/* reals in all services so far */
	bool have_ifs;
	struct if_note ifs[MAX_IFS];
	yaml_node_t *mtu_node;		/* tunnel.mtu, for the IPv6 check */
	const struct svc_parse *cur_svc;	/* the service whose reals are parsed */
};

/* Marks of the last successful parse, for xlvs_config_check_interfaces(). */
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char file[256];
	size_t n;
	struct if_note ifs[MAX_IFS];
} last;

/* ---- errors --------------------------------------------------------------- */

static int __attribute__((format(printf, 3, 4)))
fail_at(struct ctx *c, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	c->err->line = m.line + 1;
	c->err->column = m.column + 1;
	return -EINVAL;
}

#define fail(c, node, ...) fail_at(c, (node)->start_mark, __VA_ARGS__)

static int oom(struct ctx *c)
{
	snprintf(c->err->msg, sizeof(c->err->msg), "out of memory");
	c->err->line = c->err->column = 0;
	return -ENOMEM;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* libyaml's own error. Reader errors (bad UTF-8) carry a byte offset, not a mark. */
static int yaml_fail(struct ctx *c, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	yaml_mark_t m = p->problem_mark;
	size_t i;

	if (p->error == YAML_MEMORY_ERROR)
		return oom(c);
	if (p->error == YAML_READER_ERROR) {
		m.line = m.column = 0;
		for (i = 0; i < p->problem_offset && i < c->len; i++) {
			m.column++;
			if (c->text[i] == '\n')
				m.line++, m.column = 0;
		}
	}
	if (p->context)
		return fail_at(c, m, "YAML syntax error: %s (%s at line %zu)", problem, p->context,
			       p->context_mark.line + 1);
	return fail_at(c, m, "YAML syntax error: %s", problem);
}

/* ---- nodes ---------------------------------------------------------------- */

struct vbuf {
	char s[48];
};

static yaml_node_t *node(struct ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A scalar's text for a message: at most 40 bytes, control characters as '?'. */
static const char *show(const yaml_node_t *n, struct vbuf *b)
{
	const unsigned char *v = n->data.scalar.value;
	size_t len = n->data.scalar.length, i, o = 0;

	for (i = 0; i < len && o < 40; i++)
		b->s[o++] = v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
	strcpy(b->s + o, i < len ? "..." : "");
	return b->s;
}

/* What a node is, for "X expected, got ..." messages. */
static const char *what(const yaml_node_t *n, struct vbuf *b)
{
	char v[sizeof(b->s)];

	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	if (plain(n) && !n->data.scalar.length)
		return "an empty value";
	show(n, b);
	memcpy(v, b->s, sizeof(v));
	snprintf(b->s, sizeof(b->s), plain(n) ? "'%.43s'" : "\"%.43s\"", v);
	return b->s;
}

static int expect(struct ctx *c, const char *name, yaml_node_t *n, yaml_node_type_t type)
{
	static const char *const names[] = {
		[YAML_SCALAR_NODE] = "scalar",
		[YAML_SEQUENCE_NODE] = "sequence",
		[YAML_MAPPING_NODE] = "mapping",
	};
	struct vbuf b;

	if (n->type == type)
		return 0;
	return fail(c, n, "%s: %s expected, got %s", name, names[type], what(n, &b));
}

/* A scalar string of any style; an empty plain value (`key:`) is missing. */
static int get_str(struct ctx *c, const char *name, yaml_node_t *n, const char **out)
{
	int err = expect(c, name, n, YAML_SCALAR_NODE);

	if (err)
		return err;
	if (plain(n) && !n->data.scalar.length)
		return fail(c, n, "%s: missing value", name);
	if (strlen(sval(n)) != n->data.scalar.length)
		return fail(c, n, "%s: value contains a NUL character", name);
	*out = sval(n);
	return 0;
}

static int range_fail(struct ctx *c, const char *name, yaml_node_t *n, const char *range)
{
	struct vbuf b;

	return fail(c, n, "%s: %s out of range (%s)", name, show(n, &b), range);
}

/*
 * Unquoted decimal without leading zeros (YAML 1.1 reads 010 as octal, so
 * refuse to guess). A sign or a huge value still parses, so that the message
 * says "out of range" rather than "not an integer".
 */
static int get_uint(struct ctx *c, const char *name, yaml_node_t *n, uint32_t min, uint32_t max,
		    const char *range, uint32_t *out)
{
	const char *s = n->type == YAML_SCALAR_NODE ? sval(n) : "";
	size_t len = n->type == YAML_SCALAR_NODE ? n->data.scalar.length : 0;
	bool neg = len && s[0] == '-';
	uint64_t x = 0;
	char def[32];
	struct vbuf b;
	size_t i;

	if (n->type != YAML_SCALAR_NODE || !plain(n) || len == neg)
		return fail(c, n, "%s: integer expected, got %s", name, what(n, &b));
	for (i = neg; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return fail(c, n, "%s: integer expected, got %s", name, what(n, &b));
		x = x > (UINT64_MAX - 9) / 10 ? UINT64_MAX : x * 10 + (s[i] - '0');
	}
	if (s[neg] == '0' && len > neg + 1u)
		return fail(c, n, "%s: %s has a leading zero (YAML 1.1 would read it as octal)",
			    name, show(n, &b));
	if (neg || x < min || x > max) {
		snprintf(def, sizeof(def), "%u..%u", min, max);
		return range_fail(c, name, n, range ? range : def);
	}
	*out = x;
	return 0;
}

static int get_bool(struct ctx *c, const char *name, yaml_node_t *n, bool *out)
{
	struct vbuf b;

	if (n->type == YAML_SCALAR_NODE && plain(n)) {
		if (!strcmp(sval(n), "true") || !strcmp(sval(n), "false")) {
			*out = sval(n)[0] == 't';
			return 0;
		}
	}
	return fail(c, n, "%s: boolean expected (true or false), got %s", name, what(n, &b));
}

/* Names are lowercase, like ipvsadm's and the names tables in abi.h. */
static bool has_upper(const char *s)
{
	for (; *s; s++)
		if (isupper((unsigned char)*s))
			return true;
	return false;
}

/* "a, b or c" */
static void join(char *buf, size_t size, const char *const *names, size_t n)
{
	const char *sep;
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o < size; i++) {
		sep = !i ? "" : i + 1 == n ? " or " : ", ";
		o += snprintf(buf + o, size - o, "%s%s", sep, names[i]);
	}
}

/* ---- keys ----------------------------------------------------------------- */

struct key;
typedef int (*key_fn)(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);

/* One key of a section: handler, and for the generic handlers the field and range. */
struct key {
	const char *name;
	key_fn fn;
	size_t off, size;
	uint32_t min, max;
	const void *arg;
};

/* The keys a walk found: bit i of mask is keys[i]. */
struct seen {
	uint32_t mask;
	yaml_node_t *key[MAX_SEEN], *val[MAX_SEEN];
};

#define HAS(s, i)	((s)->mask & (1u << (i)))

static void store(void *obj, const struct key *k, uint32_t v)
{
	char *p = (char *)obj + k->off;
	uint16_t v16 = v;
	uint8_t v8 = v;

	if (k->size == 1)
		memcpy(p, &v8, 1);
	else if (k->size == 2)
		memcpy(p, &v16, 2);
	else
		memcpy(p, &v, 4);
}

static unsigned int edits(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned int row[33], diag, t, best;

	if (la > 32 || lb > 32)
		return UINT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			t = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = t;
		}
	}
	return row[lb];
}

/* Unknown key, with the nearest known (or planned) key as a hint. */
static int unknown_key(struct ctx *c, yaml_node_t *k, const char *where, const struct key *keys,
		       size_t n, const char *const *future)
{
	const char *name = sval(k), *hint = NULL;
	unsigned int d, best = 3;
	struct vbuf b;
	size_t i;

	for (i = 0; future && future[i]; i++) {
		if (!strcmp(name, future[i]))
			return fail(c, k, "key '%s' %s is not supported yet", name, where);
		d = edits(name, future[i]);
		if (d < best && d < strlen(future[i]))
			best = d, hint = future[i];
	}
	for (i = 0; i < n; i++) {
		d = edits(name, keys[i].name);
		if (d < best && d < strlen(keys[i].name))
			best = d, hint = keys[i].name;
	}
	if (hint)
		return fail(c, k, "unknown key '%s' %s (did you mean '%s'?)", show(k, &b), where,
			    hint);
	return fail(c, k, "unknown key '%s' %s", show(k, &b), where);
}

static size_t key_index(const struct key *keys, size_t n, const yaml_node_t *k)
{
	size_t i;

	for (i = 0; i < n; i++)	/* the length too: a key may hide a NUL ("port\0x") */
		if (strlen(keys[i].name) == k->data.scalar.length && !strcmp(sval(k), keys[i].name))
			break;
	return i;
}

/* Hand every pair of a mapping to its key's handler; unknown and duplicate keys are errors. */
static int walk(struct ctx *c, yaml_node_t *map, const char *where, const struct key *keys,
		size_t nkeys, const char *const *future, void *obj, struct seen *s)
{
	yaml_node_pair_t *p;
	struct vbuf b;
	size_t i;
	int err;

	memset(s, 0, sizeof(*s));
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);

		if (k->type != YAML_SCALAR_NODE)
			return fail(c, k, "keys must be scalars, got %s", what(k, &b));
		i = key_index(keys, nkeys, k);
		if (i == nkeys)
			return unknown_key(c, k, where, keys, nkeys, future);
		if (HAS(s, i))
			return fail(c, k, "duplicate key '%s' (first at line %zu)", keys[i].name,
				    s->key[i]->start_mark.line + 1);
		s->mask |= 1u << i;
		s->key[i] = k;
		s->val[i] = v;
		err = keys[i].fn(c, &keys[i], v, obj);
		if (err)
			return err;
	}
	return 0;
}

/* ---- generic handlers ------------------------------------------------------ */

static int key_uint(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	uint32_t x;
	int err = get_uint(c, k->name, v, k->min, k->max, NULL, &x);

	if (!err)
		store(obj, k, x);
	return err;
}

/* A name from a list; the value stored is vals[i] or, without vals, the index. */
struct choice {
	const char *noun;
	const char *const *names;
	size_t n;
	const int *vals;
};

static int key_choice(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	const struct choice *ch = k->arg;
	char list[128];
	const char *s;
	struct vbuf b;
	size_t i;
	int err;

	err = get_str(c, k->name, v, &s);
	if (err)
		return err;
	for (i = 0; i < ch->n; i++) {
		if (!strcmp(s, ch->names[i])) {
			store(obj, k, ch->vals ? (uint32_t)ch->vals[i] : i);
			return 0;
		}
	}
	join(list, sizeof(list), ch->names, ch->n);
	return fail(c, v, "%s: unknown %s '%s' (expected %s)", k->name, ch->noun, show(v, &b),
		    list);
}

static bool usable(const struct xlvs_addr *a)
{
	static const uint8_t zero[16], loop6[16] = { [15] = 1 };
	uint32_t x = ntohl(a->be[0]);

	if (a->family == XLVS_AF_INET)	/* 0/8, 127/8, multicast, class E and broadcast */
		return x >> 24 && x >> 24 != 127 && x < 0xe0000000u;
	return memcmp(a->be, zero, 16) && memcmp(a->be, loop6, 16) && x >> 24 != 0xff;
}

/* An address; k->min restricts the family (XLVS_AF_INET / XLVS_AF_INET6, 0 = either). */
static int key_addr(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	static const char *const fam[] = { "an IPv4 or IPv6", [4] = "an IPv4", [6] = "an IPv6" };
	struct xlvs_addr a;
	const char *s;
	struct vbuf b;
	int err;

	err = get_str(c, k->name, v, &s);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	if (xlvs_addr_parse(s, &a) || (k->min && a.family != k->min))
		return fail(c, v, "%s: '%s' is not %s address", k->name, show(v, &b), fam[k->min]);
	if (!usable(&a))
		return fail(c, v, "%s: '%s' is not a usable unicast address", k->name, show(v, &b));
	memset(a.pad, 0, sizeof(a.pad));
	memcpy((char *)obj + k->off, &a, sizeof(a));
	return 0;
}

static const char *addr_str(const struct xlvs_addr *a, char *buf)
{
	return inet_ntop(a->family == XLVS_AF_INET6 ? AF_INET6 : AF_INET, a->be, buf,
			 INET6_ADDRSTRLEN);
}

/* "tcp 198.18.0.10:80", "udp [2001:db8::10]:53" */
static const char *svc_str(const struct xlvs_svc_spec *s, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	addr_str(&s->vip, a);
	snprintf(buf, size, s->vip.family == XLVS_AF_INET6 ? "%s [%s]:%u" : "%s %s:%u",
		 s->proto == IPPROTO_UDP ? "udp" : "tcp", a, s->port);
	return buf;
}

/* ---- top-level handlers ------------------------------------------------------ */

static int add_if(struct ctx *c, struct xlvs_global_spec *g, const char *key, yaml_node_t *n)
{
	const char *s;
	struct vbuf b;
	size_t i, len;
	int err;

	err = get_str(c, key, n, &s);
	if (err)
		return err;
	len = strlen(s);
	if (!len)
		return fail(c, n, "%s: interface name is empty", key);
	if (len >= IF_NAMESIZE)
		return fail(c, n, "%s: interface name '%s' is longer than %d characters", key,
			    show(n, &b), IF_NAMESIZE - 1);
	for (i = 0; i < len && s[i] != '/' && s[i] != ':' && !isspace((unsigned char)s[i]); i++)
		;
	if (i < len || !strcmp(s, ".") || !strcmp(s, ".."))
		return fail(c, n, "%s: invalid interface name '%s' (no '/', ':' or spaces)", key,
			    show(n, &b));
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
static int key_ifs(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	yaml_node_item_t *it;
	int err;

	if (c->have_ifs)
		return fail(c, v, "%s: use either 'interface' or 'interfaces', not both", k->name);
	c->have_ifs = true;
	if (!strcmp(k->name, "interface"))
		return add_if(c, obj, k->name, v);
	err = expect(c, k->name, v, YAML_SEQUENCE_NODE);
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

static int key_mac(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_global_spec *g = obj;
	unsigned int m[6], i;
	const char *s;
	struct vbuf b;
	int err, end = 0;

	err = get_str(c, k->name, v, &s);
	if (err)
		return err;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
		   &end) != 6 || end != 17 || s[end] || strspn(s, "0123456789abcdefABCDEF:") != 17)
		return fail(c, v, "%s: '%s' is not a MAC address (expected xx:xx:xx:xx:xx:xx)",
			    k->name, show(v, &b));
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

	err = get_uint(c, k->name, v, 0, 65535, range, &x);
	if (err)
		return err;
	if (x && x < TUN_MTU_MIN)
		return range_fail(c, k->name, v, range);
	((struct xlvs_global_spec *)obj)->tun_mtu = x;
	c->mtu_node = v;
	return 0;
}

#define FIELD(t, f)	.off = offsetof(t, f), .size = sizeof(((t *)0)->f)
#define G(f)		FIELD(struct xlvs_global_spec, f)

static const struct key tunnel_keys[] = {
	{ .name = "source4", .fn = key_addr, G(tun_src4), .min = XLVS_AF_INET },
	{ .name = "source6", .fn = key_addr, G(tun_src6), .min = XLVS_AF_INET6 },
	{ .name = "mtu", .fn = key_mtu },
	{ .name = "gue_port", .fn = key_uint, G(gue_port), .min = 1, .max = 65535 },
};

static int key_tunnel(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct seen s;
	int err = expect(c, k->name, v, YAML_MAPPING_NODE);

	if (err)
		return err;
	return walk(c, v, "in tunnel", tunnel_keys, sizeof(tunnel_keys) / sizeof(tunnel_keys[0]),
		    NULL, obj, &s);
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

	err = get_str(c, k->name, v, &s);
	if (err)
		return err;
	if (!listen_ok(s))
		return fail(c, v,
			    "%s: '%s' is not ADDRESS:PORT (e.g. 127.0.0.1:9105 or [::1]:9105)",
			    k->name, show(v, &b));
	snprintf(g->metrics_listen, sizeof(g->metrics_listen), "%s", s);
	return 0;
}

static const struct key metrics_keys[] = {
	{ .name = "listen", .fn = key_listen },
};

/* `metrics: off` (or false), or `metrics: { listen: ADDRESS:PORT }`. */
static int key_metrics(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct vbuf b;
	struct seen s;
	int err;

	if (v->type == YAML_SCALAR_NODE && plain(v) &&
	    (!strcmp(sval(v), "off") || !strcmp(sval(v), "false")))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, "%s: mapping or 'off' expected, got %s", k->name, what(v, &b));
	err = walk(c, v, "in metrics", metrics_keys, 1, NULL, obj, &s);
	if (!err && !HAS(&s, 0))
		err = fail(c, v, "missing required key 'listen' in metrics");
	return err;
}

/* ---- services and reals ------------------------------------------------------ */

/* A service while its mapping is walked: the spec plus service-only defaults. */
struct svc_parse {
	struct xlvs_svc_spec s;
	uint16_t gue_port;		/* default for its gue reals; 0 = tunnel.gue_port */
	struct xlvs_svc_health h;	/* becomes s.health if any health key is set */
};

static int key_sched(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	char list[160];
	const char *s;
	struct vbuf b;
	int err, x;

	err = get_str(c, k->name, v, &s);
	if (err)
		return err;
	x = has_upper(s) ? -EINVAL : xlvs_sched_from_name(s);
	if (x < 0 || x >= XLVS_SCHED_MAX) {
		join(list, sizeof(list), xlvs_sched_names, XLVS_SCHED_MAX);
		return fail(c, v, "%s: unknown scheduler '%s' (expected %s)", k->name, show(v, &b),
			    list);
	}
	/* The data path drops flows of other schedulers (sched_unsupported) until they land. */
	if (x != XLVS_SCHED_MAGLEV)
		return fail(c, v, "%s: '%s' is not supported yet (use maglev)", k->name, s);
	store(obj, k, x);
	return 0;
}

static int key_fwd(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	const char *s;
	struct vbuf b;
	int err, x;

	err = get_str(c, k->name, v, &s);
	if (err)
		return err;
	x = has_upper(s) ? -EINVAL : xlvs_fwd_from_name(s);
	if (x < 0 || x >= XLVS_FWD_MAX)
		return fail(c, v, "%s: unknown method '%s' (expected dr, tun, ipip or gue)",
			    k->name, show(v, &b));
	if (x == XLVS_FWD_NAT || x == XLVS_FWD_FULLNAT)
		return fail(c, v, "%s: '%s' is not supported yet (use dr, tun or gue)", k->name, s);
	store(obj, k, x);
	return 0;
}

static int key_ring(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	int err = key_uint(c, k, v, obj);

	if (!err && !xlvs_is_prime(((struct svc_parse *)obj)->s.ring_size))
		err = fail(c, v, "%s: %s is not a prime", k->name, sval(v));
	return err;
}

static int key_echo(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct svc_parse *p = obj;
	bool on = false;
	int err = get_bool(c, k->name, v, &on);

	if (!err && on)
		p->s.flags |= XLVS_SVC_F_ECHO;
	return err;
}

/* ---- health checks ------------------------------------------------------------ */

#define CHECK_INTERVAL_DEFAULT	2000u	/* ms */
#define CHECK_TIMEOUT_DEFAULT	1000u
#define CHECK_INTERVAL_MIN	100u
#define CHECK_TIMEOUT_MIN	10u
#define CHECK_TIME_MAX		3600000u	/* one hour */
#define CHECK_COUNT_MAX		1000u
#define NOTIFY_TIMEOUT_DEFAULT	10000u

static const char *const check_type_names[XLVS_CHECK_MAX] = {
	[XLVS_CHECK_NONE] = "none", [XLVS_CHECK_TCP] = "tcp", [XLVS_CHECK_HTTP] = "http",
	[XLVS_CHECK_HTTPS] = "https", [XLVS_CHECK_UDP] = "udp", [XLVS_CHECK_DNS] = "dns",
	[XLVS_CHECK_ICMP] = "icmp", [XLVS_CHECK_EXEC] = "exec",
};

/* The defaults a check starts from when nothing (no service check) is above it. */
static void check_defaults(struct xlvs_check_spec *ck)
{
	memset(ck, 0, sizeof(*ck));
	ck->initial_up = true;
	ck->rise = 2;
	ck->fall = 3;
	ck->interval_ms = CHECK_INTERVAL_DEFAULT;
	ck->timeout_ms = CHECK_TIMEOUT_DEFAULT;
	strcpy(ck->path, "/");
	ck->qtype = 1;
}

/*
 * "2s", "500ms", "1m", "1h", or a plain integer (seconds), into milliseconds
 * within min..max.
 */
static int get_duration(struct ctx *c, const char *name, yaml_node_t *n, uint32_t min, uint32_t max,
			uint32_t *out)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "", 1000 },
	};
	const char *s, *end;
	char range[64];
	uint64_t x = 0;
	struct vbuf b;
	size_t i;

	if (n->type != YAML_SCALAR_NODE || !plain(n) || !n->data.scalar.length)
		return fail(c, n, "%s: duration expected (e.g. 2s, 500ms), got %s", name, what(n, &b));
	s = sval(n);
	for (end = s; isdigit((unsigned char)*end); end++)
		x = x > UINT32_MAX ? x : x * 10 + (*end - '0');
	for (i = 0; end > s && i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit))
			break;
	if (end == s || i == sizeof(units) / sizeof(units[0]))
		return fail(c, n, "%s: '%s' is not a duration (e.g. 2s, 500ms, 1m)", name,
			    show(n, &b));
	x *= units[i].ms;
	if (x < min || x > max) {
		snprintf(range, sizeof(range), "%ums..%us", min, max / 1000);
		return range_fail(c, name, n, range);
	}
	*out = x;
	return 0;
}

static int copy_text(struct ctx *c, const char *name, yaml_node_t *n, char *dst, size_t size)
{
	const char *s;
	int err = get_str(c, name, n, &s);

	if (err)
		return err;
	if (strlen(s) >= size)
		return fail(c, n, "%s: longer than %zu bytes", name, size - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

struct check_parse {
	struct xlvs_check_spec ck;
	bool have_type;
};

#define CK(f)	FIELD(struct check_parse, f)

static int key_check_type(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	static const struct choice types = {
		.noun = "check type", .names = check_type_names + 1, .n = XLVS_CHECK_MAX - 1,
	};
	struct check_parse *cp = obj;
	int err = key_choice(c, &(struct key){ .name = k->name, .off = k->off, .size = k->size,
					       .arg = &types }, v, obj);

	if (!err) {
		cp->ck.type++;	/* names start at tcp */
		cp->have_type = true;
	}
	return err;
}

static int key_duration(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	uint32_t ms = 0;
	int err = get_duration(c, k->name, v, k->min, k->max, &ms);

	if (!err)
		store(obj, k, ms);
	return err;
}

static int key_initial(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	static const char *const names[] = { "down", "up" };
	static const struct choice states = { .noun = "state", .names = names, .n = 2 };

	return key_choice(c, &(struct key){ .name = k->name, .off = k->off, .size = k->size,
					    .arg = &states }, v, obj);
}

static int key_text(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return copy_text(c, k->name, v, (char *)obj + k->off, k->size);
}

static int key_path(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	int err = key_text(c, k, v, obj);
	const char *p = (char *)obj + k->off;
	struct vbuf b;

	if (!err && (p[0] != '/' || strpbrk(p, " \t\r\n")))
		return fail(c, v, "%s: '%s' must start with '/' and contain no spaces", k->name,
			    show(v, &b));
	return err;
}

static int key_host(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	int err = key_text(c, k, v, obj);
	const char *p = (char *)obj + k->off;
	struct vbuf b;

	if (!err && strpbrk(p, " \t\r\n/"))
		return fail(c, v, "%s: '%s' is not a host name", k->name, show(v, &b));
	return err;
}

static int key_tls(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return get_bool(c, k->name, v, &((struct check_parse *)obj)->ck.tls_verify);
}

/* One expected status: "200" or "200-299" (a plain integer too). */
static int add_code(struct ctx *c, const char *name, yaml_node_t *n, struct xlvs_check_spec *ck)
{
	unsigned int lo, hi;
	const char *s;
	struct vbuf b;
	int end = 0;

	if (n->type != YAML_SCALAR_NODE)
		return fail(c, n, "%s: status code or range expected, got %s", name, what(n, &b));
	s = sval(n);
	if (sscanf(s, "%3u%n", &lo, &end) == 1 && !s[end] && end == 3)
		hi = lo;
	else if (sscanf(s, "%3u-%3u%n", &lo, &hi, &end) != 2 || s[end] || end != 7)
		return fail(c, n, "%s: '%s' is not a status code or range (e.g. 200, 200-399)", name,
			    show(n, &b));
	if (lo < 100 || hi > 599 || lo > hi)
		return range_fail(c, name, n, "100..599, low-high");
	if (ck->nr_codes == XLVS_CHECK_MAX_CODES)
		return fail(c, n, "%s: too many status codes (at most %d)", name,
			    XLVS_CHECK_MAX_CODES);
	ck->code_lo[ck->nr_codes] = lo;
	ck->code_hi[ck->nr_codes++] = hi;
	return 0;
}

static int key_codes(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_check_spec *ck = &((struct check_parse *)obj)->ck;
	yaml_node_item_t *it;
	int err;

	ck->nr_codes = 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return add_code(c, k->name, v, ck);
	if (v->data.sequence.items.start == v->data.sequence.items.top)
		return fail(c, v, "%s: at least one status code is required", k->name);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		err = add_code(c, k->name, node(c, *it), ck);
		if (err)
			return err;
	}
	return 0;
}

/* digest: "md5:<32 hex digits>" or "sha256:<64 hex digits>" (any case), as genhash prints it. */
static int key_digest(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	static const struct { const char *name; uint8_t alg; size_t len; } algs[] = {
		{ "md5", XLVS_DIGEST_MD5, 16 }, { "sha256", XLVS_DIGEST_SHA256, 32 },
	};
	struct xlvs_check_spec *ck = &((struct check_parse *)obj)->ck;
	const char *s, *colon, *hex;
	struct vbuf b;
	size_t i, j, n;
	int err = get_str(c, k->name, v, &s);

	if (err)
		return err;
	colon = strchr(s, ':');
	if (!colon)
		return fail(c, v, "%s: '%s' is not ALGORITHM:HEX (md5:<32 hex digits> or "
			    "sha256:<64 hex digits>)", k->name, show(v, &b));
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strlen(algs[i].name) == (size_t)(colon - s) &&
		    !strncasecmp(s, algs[i].name, colon - s))
			break;
	if (i == sizeof(algs) / sizeof(algs[0]))
		return fail(c, v, "%s: unknown algorithm '%.*s' (md5 or sha256)", k->name,
			    (int)(colon - s > 32 ? 32 : colon - s), s);
	hex = colon + 1;
	n = strlen(hex);
	if (n != 2 * algs[i].len)
		return fail(c, v, "%s: %s takes %zu hex digits, got %zu", k->name, algs[i].name,
			    2 * algs[i].len, n);
	for (j = 0; j < n; j++)
		if (!isxdigit((unsigned char)hex[j]))
			return fail(c, v, "%s: '%s' is not hexadecimal (0-9, a-f)", k->name, show(v, &b));
	for (j = 0; j < algs[i].len; j++) {
		unsigned int x;

		sscanf(hex + 2 * j, "%2x", &x);
		ck->digest[j] = (uint8_t)x;
	}
	memset(ck->digest + algs[i].len, 0, sizeof(ck->digest) - algs[i].len);
	ck->digest_alg = algs[i].alg;
	return 0;
}

static int key_qtype(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	static const struct { const char *name; uint16_t type; } types[] = {
		{ "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 }, { "PTR", 12 }, { "MX", 15 },
		{ "TXT", 16 }, { "AAAA", 28 }, { "SRV", 33 }, { "ANY", 255 },
	};
	struct check_parse *cp = obj;
	const char *s;
	struct vbuf b;
	size_t i;
	int err = get_str(c, k->name, v, &s);

	if (err)
		return err;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (!strcasecmp(s, types[i].name)) {
			cp->ck.qtype = types[i].type;
			return 0;
		}
	}
	return fail(c, v, "%s: unknown record type '%s' (A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT or ANY)",
		    k->name, show(v, &b));
}

static int key_qname(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	int err = key_text(c, k, v, obj);
	const char *p = (char *)obj + k->off;
	struct vbuf b;
	size_t len = strlen(p);

	if (!err && (len > 253 || strpbrk(p, " \t\r\n") || strstr(p, "..") ||
		     (p[0] == '.' && len > 1)))
		return fail(c, v, "%s: '%s' is not a domain name", k->name, show(v, &b));
	return err;
}

enum { CK_TYPE, CK_INTERVAL, CK_TIMEOUT, CK_RISE, CK_FALL, CK_INITIAL, CK_ADDRESS, CK_PORT,
       CK_PATH, CK_HOST, CK_EXPECT, CK_BODY, CK_TLS_VERIFY, CK_PAYLOAD, CK_REPLY, CK_NAME,
       CK_QUERY_TYPE, CK_COMMAND, CK_DIGEST, CK_NR };

static const struct key check_keys[CK_NR] = {
	[CK_TYPE] = { .name = "type", .fn = key_check_type, CK(ck.type) },
	[CK_INTERVAL] = { .name = "interval", .fn = key_duration, CK(ck.interval_ms),
			  .min = CHECK_INTERVAL_MIN, .max = CHECK_TIME_MAX },
	[CK_TIMEOUT] = { .name = "timeout", .fn = key_duration, CK(ck.timeout_ms),
			 .min = CHECK_TIMEOUT_MIN, .max = CHECK_TIME_MAX },
	[CK_RISE] = { .name = "rise", .fn = key_uint, CK(ck.rise), .min = 1, .max = CHECK_COUNT_MAX },
	[CK_FALL] = { .name = "fall", .fn = key_uint, CK(ck.fall), .min = 1, .max = CHECK_COUNT_MAX },
	[CK_INITIAL] = { .name = "initial", .fn = key_initial, CK(ck.initial_up) },
	[CK_ADDRESS] = { .name = "address", .fn = key_addr, CK(ck.addr) },
	[CK_PORT] = { .name = "port", .fn = key_uint, CK(ck.port), .min = 1, .max = 65535 },
	[CK_PATH] = { .name = "path", .fn = key_path, CK(ck.path) },
	[CK_HOST] = { .name = "host", .fn = key_host, CK(ck.host) },
	[CK_EXPECT] = { .name = "expect", .fn = key_codes },
	[CK_BODY] = { .name = "body", .fn = key_text, CK(ck.match) },
	[CK_TLS_VERIFY] = { .name = "tls_verify", .fn = key_tls },
	[CK_PAYLOAD] = { .name = "payload", .fn = key_text, CK(ck.payload) },
	[CK_REPLY] = { .name = "reply", .fn = key_text, CK(ck.match) },
	[CK_NAME] = { .name = "name", .fn = key_qname, CK(ck.qname) },
	[CK_QUERY_TYPE] = { .name = "query_type", .fn = key_qtype },
	[CK_COMMAND] = { .name = "command", .fn = key_text, CK(ck.command) },
	[CK_DIGEST] = { .name = "digest", .fn = key_digest },
};

/* Keys that only some check types take: the bit mask of those types. */
#define T(x)	(1u << XLVS_CHECK_##x)
static const uint32_t check_key_types[CK_NR] = {
	[CK_PORT] = ~(T(ICMP) | T(EXEC)),
	[CK_PATH] = T(HTTP) | T(HTTPS), [CK_HOST] = T(HTTP) | T(HTTPS),
	[CK_EXPECT] = T(HTTP) | T(HTTPS), [CK_BODY] = T(HTTP) | T(HTTPS),
	[CK_DIGEST] = T(HTTP) | T(HTTPS),
	[CK_TLS_VERIFY] = T(HTTPS),
	[CK_PAYLOAD] = T(UDP), [CK_REPLY] = T(UDP),
	[CK_NAME] = T(DNS), [CK_QUERY_TYPE] = T(DNS),
	[CK_COMMAND] = T(EXEC),
};
#undef T

static void type_list(char *buf, size_t size, uint32_t mask)
{
	const char *names[XLVS_CHECK_MAX];
	size_t n = 0, i;

	for (i = 1; i < XLVS_CHECK_MAX; i++)
		if (mask & (1u << i))
			names[n++] = check_type_names[i];
	join(buf, size, names, n);
}

/*
 * A `check:` mapping over base (the defaults, or the service's check for a
 * real). `check: off` (or false) is type none: never checked, always up.
 */
static int parse_check(struct ctx *c, yaml_node_t *v, const struct xlvs_check_spec *base,
		       struct xlvs_check_spec *out)
{
	struct check_parse cp = { .ck = *base, .have_type = base->type != XLVS_CHECK_NONE };
	char list[96];
	struct vbuf b;
	struct seen s;
	size_t i;
	int err;

	if (v->type == YAML_SCALAR_NODE && plain(v) &&
	    (!strcmp(sval(v), "off") || !strcmp(sval(v), "false"))) {
		*out = *base;
		out->type = XLVS_CHECK_NONE;
		return 0;
	}
	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, "check: mapping or 'off' expected, got %s", what(v, &b));
	err = walk(c, v, "in check", check_keys, CK_NR, NULL, &cp, &s);
	if (err)
		return err;
	if (!cp.have_type)
		return fail(c, v, "missing required key 'type' in check (%s)",
			    "tcp, http, https, udp, dns, icmp or exec");
	if (base->type != XLVS_CHECK_NONE && cp.ck.type != base->type) {
		/*
		 * Another type than the service's: only timing, initial state and
		 * target carry over, not what belonged to the other type (an http
		 * body is no udp reply). Parse again over that.
		 */
		check_defaults(&cp.ck);
		cp.ck.initial_up = base->initial_up;
		cp.ck.rise = base->rise;
		cp.ck.fall = base->fall;
		cp.ck.interval_ms = base->interval_ms;
		cp.ck.timeout_ms = base->timeout_ms;
		cp.ck.addr = base->addr;
		cp.ck.port = base->port;
		err = walk(c, v, "in check", check_keys, CK_NR, NULL, &cp, &s);
		if (err)
			return err;
	}
	for (i = 0; i < CK_NR; i++) {
		if (!HAS(&s, i) || !check_key_types[i] || (check_key_types[i] & (1u << cp.ck.type)))
			continue;
		type_list(list, sizeof(list), check_key_types[i]);
		return fail(c, s.key[i], "%s: not used by %s checks (only %s)", check_keys[i].name,
			    check_type_names[cp.ck.type], list);
	}
	/*
	 * A digest fixes the whole body, so a body substring with it is redundant or
	 * never matches: one or the other. A real's body replaces its service's
	 * digest and its digest the service's body.
	 */
	if (HAS(&s, CK_DIGEST) && HAS(&s, CK_BODY))
		return fail(c, s.key[CK_DIGEST], "digest: give body or digest, not both "
			    "(the digest fixes the whole body)");
	if (HAS(&s, CK_DIGEST))
		cp.ck.match[0] = '\0';
	if (HAS(&s, CK_BODY))
		cp.ck.digest_alg = XLVS_DIGEST_NONE;
	if (cp.ck.timeout_ms > cp.ck.interval_ms)
		return fail(c, HAS(&s, CK_TIMEOUT) ? s.val[CK_TIMEOUT] : s.val[CK_INTERVAL],
			    "timeout: %ums is longer than the interval (%ums)", cp.ck.timeout_ms,
			    cp.ck.interval_ms);
	if (cp.ck.type == XLVS_CHECK_DNS && !cp.ck.qname[0])
		return fail(c, v, "missing required key 'name' in dns check");
	if (cp.ck.type == XLVS_CHECK_EXEC && !cp.ck.command[0])
		return fail(c, v, "missing required key 'command' in exec check");
	*out = cp.ck;
	return 0;
}

/* quorum: N, or { weight: N, action: sorry|withdraw, hysteresis: N } */
static int key_quorum(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	static const char *const actions[] = { "sorry", "withdraw" };
	static const struct choice quorum_actions = { .noun = "action", .names = actions, .n = 2 };
	struct xlvs_svc_health *h = obj;
	const struct key keys[] = {
		{ .name = "weight", .fn = key_uint, FIELD(struct xlvs_svc_health, quorum), .min = 1,
		  .max = UINT32_MAX },
		{ .name = "action", .fn = key_choice, FIELD(struct xlvs_svc_health, quorum_action),
		  .arg = &quorum_actions },
		{ .name = "hysteresis", .fn = key_uint,
		  FIELD(struct xlvs_svc_health, quorum_hysteresis), .max = UINT32_MAX },
	};
	struct seen s;
	int err;

	if (v->type != YAML_MAPPING_NODE)
		return get_uint(c, k->name, v, 1, UINT32_MAX, NULL, &h->quorum);
	err = walk(c, v, "in quorum", keys, 3, NULL, h, &s);
	if (!err && !HAS(&s, 0))
		return fail(c, v, "missing required key 'weight' in quorum");
	if (!err && h->quorum_hysteresis >= h->quorum)
		return fail(c, s.val[2], "hysteresis: %u must be smaller than the quorum weight (%u)",
			    h->quorum_hysteresis, h->quorum);
	return err;
}

static int key_notify(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	const struct key keys[] = {
		{ .name = "up", .fn = key_text, FIELD(struct xlvs_svc_health, notify_up) },
		{ .name = "down", .fn = key_text, FIELD(struct xlvs_svc_health, notify_down) },
		{ .name = "quorum", .fn = key_text, FIELD(struct xlvs_svc_health, notify_quorum) },
		{ .name = "timeout", .fn = key_duration,
		  FIELD(struct xlvs_svc_health, notify_timeout_ms), .min = CHECK_TIMEOUT_MIN,
		  .max = CHECK_TIME_MAX },
	};
	struct seen s;
	int err = expect(c, k->name, v, YAML_MAPPING_NODE);

	if (err)
		return err;
	return walk(c, v, "in notify", keys, 4, NULL, obj, &s);
}

static const char *const proto_names[] = { "tcp", "udp" };
static const int proto_vals[] = { IPPROTO_TCP, IPPROTO_UDP };
static const struct choice protocols = {
	.noun = "protocol", .names = proto_names, .n = 2, .vals = proto_vals,
};

/* A real's `check:` goes over its service's check (or the defaults). */
static int key_real_check(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_real_spec *r = obj;
	struct xlvs_check_spec base;
	int err;

	if (c->cur_svc->h.check.type != XLVS_CHECK_NONE)
		base = c->cur_svc->h.check;
	else
		check_defaults(&base);
	r->check = malloc(sizeof(*r->check));
	if (!r->check)
		return oom(c);
	err = parse_check(c, v, &base, r->check);
	if (err) {
		free(r->check);
		r->check = NULL;
	}
	return err;
}

enum { R_ADDRESS, R_PORT, R_WEIGHT, R_FORWARD, R_GUE_PORT, R_CHECK, R_NR };

#define R(f)	FIELD(struct xlvs_real_spec, f)

static const struct key real_keys[R_NR] = {
	[R_ADDRESS] = { .name = "address", .fn = key_addr, R(addr) },
	[R_PORT] = { .name = "port", .fn = key_uint, R(port), .min = 1, .max = 65535 },
	[R_WEIGHT] = { .name = "weight", .fn = key_uint, R(weight), .max = XLVS_MAGLEV_MAX_WEIGHT },
	[R_FORWARD] = { .name = "forward", .fn = key_fwd, R(fwd) },
	[R_GUE_PORT] = { .name = "gue_port", .fn = key_uint, R(gue_port), .min = 1, .max = 65535 },
	[R_CHECK] = { .name = "check", .fn = key_real_check },
};

/* Rules that need the whole real (and its service): port, family, GUE port, tunnel needs. */
static int check_real(struct ctx *c, const struct svc_parse *p, struct xlvs_real_spec *r,
		      struct seen *s, struct svc_note *note)
{
	char a[INET6_ADDRSTRLEN], vip[INET6_ADDRSTRLEN];
	bool v6 = r->addr.family == XLVS_AF_INET6;

	if (HAS(s, R_PORT) && r->port != p->s.port)
		return fail(c, s->val[R_PORT],
			    "port: %u differs from the service port %u (dr, tun and gue keep the destination port)",
			    r->port, p->s.port);
	if (r->fwd == XLVS_FWD_DR && r->addr.family != p->s.vip.family)
		return fail(c, s->val[R_ADDRESS],
			    "address: %s is IPv%d but the VIP %s is IPv%d (dr needs the same family; use tun or gue)",
			    addr_str(&r->addr, a), r->addr.family, addr_str(&p->s.vip, vip),
			    p->s.vip.family);
	if (HAS(s, R_GUE_PORT) && r->fwd != XLVS_FWD_GUE)
		return fail(c, s->val[R_GUE_PORT], "gue_port: set but this real forwards with %s",
			    xlvs_fwd_names[r->fwd]);
	if (r->fwd == XLVS_FWD_DR)
		return 0;
	if (r->fwd == XLVS_FWD_GUE && !HAS(s, R_GUE_PORT))
		r->gue_port = p->gue_port;
	if (!note->tun_need[v6]) {
		note->tun_need[v6] = true;
		note->tun_mark[v6] = s->val[R_ADDRESS]->start_mark;
	}
	if (p->s.vip.family == XLVS_AF_INET6) {	/* outer IP (+ UDP for GUE) */
		unsigned int o = (v6 ? 40 : 20) + (r->fwd == XLVS_FWD_GUE ? 8 : 0);

		if (o > note->v6_overhead)
			note->v6_overhead = o;
	}
	return 0;
}

static int parse_real(struct ctx *c, yaml_node_t *n, const struct svc_parse *p,
		      struct xlvs_real_spec *out, struct svc_note *note, yaml_mark_t *mark)
{
	struct xlvs_real_spec r = { .port = p->s.port, .weight = 1, .fwd = p->s.fwd };
	struct vbuf b;
	struct seen s;
	int err;

	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, "reals: each real must be a mapping, got %s", what(n, &b));
	err = walk(c, n, "in real", real_keys, R_NR, NULL, &r, &s);
	if (!err && !HAS(&s, R_ADDRESS))
		err = fail(c, n, "missing required key 'address' in real");
	if (!err) {
		*mark = s.val[R_ADDRESS]->start_mark;
		err = check_real(c, p, &r, &s, note);
	}
	if (!err)
		*out = r;
	else
		free(r.check);
	return err;
}

/* FNV-1a */
static uint32_t hash_bytes(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

/*
 * The first element equal to an earlier one: its index, the earlier one's in
 * *first. n if all differ, SIZE_MAX without memory. Open addressing, so
 * 65536 reals cost no more than a pass.
 */
static size_t find_dup(const void *keys, size_t n, size_t len, size_t *first)
{
	const char *k = keys;
	size_t cap = 16, mask, i, h;
	uint32_t *tab;

	while (cap < 2 * n)
		cap <<= 1;
	mask = cap - 1;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return SIZE_MAX;
	for (i = 0; i < n; i++) {
		for (h = hash_bytes(k + i * len, len) & mask; tab[h]; h = (h + 1) & mask) {
			if (!memcmp(k + i * len, k + (tab[h] - 1) * len, len)) {
				*first = tab[h] - 1;
				free(tab);
				return i;
			}
		}
		tab[h] = i + 1;
	}
	free(tab);
	return n;
}

/* A real's identity in its service is its address. */
static int check_dup_reals(struct ctx *c, const struct xlvs_svc_spec *svc, const yaml_mark_t *marks)
{
	struct xlvs_addr *keys = calloc(svc->nr_reals ? svc->nr_reals : 1, sizeof(*keys));
	char a[INET6_ADDRSTRLEN];
	size_t i, first = 0;

	if (!keys)
		return oom(c);
	for (i = 0; i < svc->nr_reals; i++) {
		keys[i].family = svc->reals[i].addr.family;
		memcpy(keys[i].be, svc->reals[i].addr.be, sizeof(keys[i].be));
	}
	i = find_dup(keys, svc->nr_reals, sizeof(*keys), &first);
	free(keys);
	if (i == SIZE_MAX)
		return oom(c);
	if (i == svc->nr_reals)
		return 0;
	return fail_at(c, marks[i], "duplicate real %s (first at line %zu)",
		       addr_str(&svc->reals[i].addr, a), marks[first].line + 1);
}

static int parse_reals(struct ctx *c, yaml_node_t *seq, const struct svc_parse *p,
		       struct xlvs_svc_spec *svc, struct svc_note *note)
{
	yaml_node_item_t *items;
	yaml_mark_t *marks;
	size_t n, i;
	int err;

	err = expect(c, "reals", seq, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	items = seq->data.sequence.items.start;
	n = seq->data.sequence.items.top - items;
	if (c->nr_reals + n > XLVS_MAX_REALS)
		return fail(c, node(c, items[XLVS_MAX_REALS - c->nr_reals]),
			    "too many reals (at most %u in all services)", XLVS_MAX_REALS);
	svc->reals = calloc(n ? n : 1, sizeof(*svc->reals));
	marks = calloc(n ? n : 1, sizeof(*marks));
	if (!svc->reals || !marks) {
		free(marks);
		return oom(c);
	}
	svc->nr_reals = n;
	for (i = 0, err = 0; i < n && !err; i++)
		err = parse_real(c, node(c, items[i]), p, &svc->reals[i], note, &marks[i]);
	if (!err)
		err = check_dup_reals(c, svc, marks);
	free(marks);
	c->nr_reals += n;
	return err;
}

enum { S_VIP, S_PORT, S_PROTOCOL, S_SCHEDULER, S_FORWARD, S_RING_SIZE, S_ECHO, S_GUE_PORT,
       S_REALS, S_CHECK, S_ON_DOWN, S_SORRY, S_QUORUM, S_NOTIFY, S_NR };

#define S(f)	FIELD(struct svc_parse, f)

static int key_later(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return 0;	/* handled after the walk, when the service's defaults are known */
}

static int key_svc_check(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct svc_parse *p = obj;
	struct xlvs_check_spec base;

	check_defaults(&base);
	return parse_check(c, v, &base, &p->h.check);
}

static int key_svc_quorum(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return key_quorum(c, k, v, &((struct svc_parse *)obj)->h);
}

static int key_svc_notify(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return key_notify(c, k, v, &((struct svc_parse *)obj)->h);
}

static const char *const on_down_names[] = { "quiesce", "remove" };
static const struct choice on_down_choice = { .noun = "action", .names = on_down_names, .n = 2 };

static const struct key svc_keys[S_NR] = {
	[S_VIP] = { .name = "vip", .fn = key_addr, S(s.vip) },
	[S_PORT] = { .name = "port", .fn = key_uint, S(s.port), .max = 65535 },
	[S_PROTOCOL] = { .name = "protocol", .fn = key_choice, S(s.proto), .arg = &protocols },
	[S_SCHEDULER] = { .name = "scheduler", .fn = key_sched, S(s.sched) },
	[S_FORWARD] = { .name = "forward", .fn = key_fwd, S(s.fwd) },
	[S_RING_SIZE] = { .name = "ring_size", .fn = key_ring, S(s.ring_size),
			  .min = RING_MIN, .max = RING_MAX },
	[S_ECHO] = { .name = "echo", .fn = key_echo },
	[S_GUE_PORT] = { .name = "gue_port", .fn = key_uint, S(gue_port), .min = 1, .max = 65535 },
	[S_REALS] = { .name = "reals", .fn = key_later },
	[S_CHECK] = { .name = "check", .fn = key_svc_check },
	[S_ON_DOWN] = { .name = "on_down", .fn = key_choice, S(h.on_down), .arg = &on_down_choice },
	[S_SORRY] = { .name = "sorry", .fn = key_later },
	[S_QUORUM] = { .name = "quorum", .fn = key_svc_quorum },
	[S_NOTIFY] = { .name = "notify", .fn = key_svc_notify },
};

/* Keys of the design sketch that later issues implement: say so instead of "unknown". */
static const char *const svc_future[] = { "persistence", NULL };

static int check_service(struct ctx *c, yaml_node_t *n, const struct svc_parse *p,
			 const struct seen *s)
{
	char name[80];
	size_t i;

	if (HAS(s, S_GUE_PORT) && p->s.fwd != XLVS_FWD_GUE) {
		for (i = 0; i < p->s.nr_reals && p->s.reals[i].fwd != XLVS_FWD_GUE; i++)
			;
		if (i == p->s.nr_reals)
			return fail(c, s->val[S_GUE_PORT],
				    "gue_port: set but no real of service %s uses gue",
				    svc_str(&p->s, name, sizeof(name)));
	}
	/* only an explicit ring_size can be that small */
	if (p->s.nr_reals > p->s.ring_size)
		return fail(c, HAS(s, S_RING_SIZE) ? s->val[S_RING_SIZE] : n,
			    "ring_size: %u is smaller than the number of reals (%zu)",
			    p->s.ring_size, p->s.nr_reals);
	return 0;
}

/* The sorry server and quorum against the reals; s.health from p.h if anything is set. */
static int parse_health(struct ctx *c, struct svc_parse *p, const struct seen *s,
			struct svc_note *note)
{
	bool any = HAS(s, S_CHECK) || HAS(s, S_ON_DOWN) || HAS(s, S_SORRY) || HAS(s, S_QUORUM) ||
		   HAS(s, S_NOTIFY);
	char a[INET6_ADDRSTRLEN];
	yaml_mark_t mark;
	size_t i;
	int err;

	for (i = 0; i < p->s.nr_reals; i++)
		any |= p->s.reals[i].check != NULL;
	if (HAS(s, S_SORRY)) {
		err = parse_real(c, s->val[S_SORRY], p, &p->h.sorry, note, &mark);
		if (err)
			return err;
		if (p->h.sorry.check) {
			free(p->h.sorry.check);
			p->h.sorry.check = NULL;
			return fail(c, s->val[S_SORRY], "sorry: the sorry server is not checked (no 'check' here)");
		}
		for (i = 0; i < p->s.nr_reals; i++)
			if (p->s.reals[i].addr.family == p->h.sorry.addr.family &&
			    !memcmp(p->s.reals[i].addr.be, p->h.sorry.addr.be, 16))
				return fail_at(c, mark, "sorry: %s is also a real of this service",
					       addr_str(&p->h.sorry.addr, a));
		p->h.have_sorry = true;
	}
	if (p->h.quorum && p->h.quorum_action == XLVS_QUORUM_SORRY && !p->h.have_sorry &&
	    HAS(s, S_QUORUM) && s->val[S_QUORUM]->type == YAML_MAPPING_NODE)
		return fail(c, s->val[S_QUORUM],
			    "quorum: action 'sorry' needs a sorry server in this service");
	if (!any)
		return 0;
	p->s.health = malloc(sizeof(*p->s.health));
	if (!p->s.health)
		return oom(c);
	*p->s.health = p->h;
	return 0;
}

static int parse_service(struct ctx *c, yaml_node_t *n, struct xlvs_svc_spec *out,
			 struct svc_note *note)
{
	static const int required[] = { S_VIP, S_PORT, S_PROTOCOL };
	struct svc_parse p = { .s = { .sched = XLVS_SCHED_MAGLEV, .fwd = XLVS_FWD_DR,
				      .ring_size = XLVS_RING_DEFAULT },
			       .h = { .notify_timeout_ms = NOTIFY_TIMEOUT_DEFAULT } };
	struct vbuf b;
	struct seen s;
	size_t i;
	int err;

	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, "services: each service must be a mapping, got %s", what(n, &b));
	note->mark = n->start_mark;
	err = walk(c, n, "in service", svc_keys, S_NR, svc_future, &p, &s);
	if (err)
		return err;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!HAS(&s, required[i]))
			return fail(c, n, "missing required key '%s' in service",
				    svc_keys[required[i]].name);
	c->cur_svc = &p;
	if (HAS(&s, S_REALS))
		err = parse_reals(c, s.val[S_REALS], &p, &p.s, note);
	if (!err)
		err = parse_health(c, &p, &s, note);
	*out = p.s;	/* reals and health are freed with the spec, even on error */
	return err ? err : check_service(c, n, &p, &s);
}

static int key_services(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_spec *spec = c->spec;
	yaml_node_item_t *items;
	size_t n, i;
	int err;

	err = expect(c, k->name, v, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	items = v->data.sequence.items.start;
	n = v->data.sequence.items.top - items;
	if (n > XLVS_MAX_SERVICES)
		return fail(c, node(c, items[XLVS_MAX_SERVICES]), "too many services (at most %u)",
			    XLVS_MAX_SERVICES);
	spec->services = calloc(n ? n : 1, sizeof(*spec->services));
	c->notes = calloc(n ? n : 1, sizeof(*c->notes));
	if (!spec->services || !c->notes)
		return oom(c);
	spec->nr_services = n;
	for (i = 0; i < n; i++) {
		err = parse_service(c, node(c, items[i]), &spec->services[i], &c->notes[i]);
		if (err)
			return err;
	}
	return 0;
}

/* ---- the whole file ------------------------------------------------------------ */

static const char *const xdp_mode_names[] = { "auto", "native", "generic" };
static const struct choice xdp_modes = { .noun = "mode", .names = xdp_mode_names, .n = 3 };
static const char *const frag_names[] = { "pass", "drop" };
static const struct choice frag_policies = { .noun = "policy", .names = frag_names, .n = 2 };
static const char *const ipopt_names[] = { "forward", "drop" };
static const struct choice ipopt_policies = { .noun = "policy", .names = ipopt_names, .n = 2 };

static const struct key top_keys[] = {	/* at most MAX_SEEN keys per table */
	{ .name = "interfaces", .fn = key_ifs },
	{ .name = "interface", .fn = key_ifs },
	{ .name = "xdp_mode", .fn = key_choice, G(xdp_mode), .arg = &xdp_modes },
	{ .name = "tunnel", .fn = key_tunnel },
	{ .name = "gateway_mac", .fn = key_mac },
	{ .name = "syn_guard_rate", .fn = key_uint, G(syn_guard_rate), .max = UINT32_MAX },
	{ .name = "fragments", .fn = key_choice, G(frag_drop), .arg = &frag_policies },
	{ .name = "ip_options", .fn = key_choice, G(ip4_options_drop), .arg = &ipopt_policies },
	{ .name = "conn_table_size", .fn = key_uint, G(conn_table_size),
	  .min = CONNS_MIN, .max = CONNS_MAX },
	{ .name = "metrics", .fn = key_metrics },
	{ .name = "services", .fn = key_services },
};

_Static_assert(sizeof(top_keys) / sizeof(top_keys[0]) <= MAX_SEEN, "struct seen too small");

static void svc_key(const struct xlvs_svc_spec *s, uint8_t key[20])
{
	key[0] = s->vip.family;
	key[1] = s->proto;
	memcpy(key + 2, &s->port, 2);
	memcpy(key + 4, s->vip.be, 16);
}

static int check_dup_services(struct ctx *c)
{
	const struct xlvs_spec *spec = c->spec;
	uint8_t (*keys)[20] = calloc(spec->nr_services ? spec->nr_services : 1, sizeof(*keys));
	size_t i, first = 0;
	char name[80];

	if (!keys)
		return oom(c);
	for (i = 0; i < spec->nr_services; i++)
		svc_key(&spec->services[i], keys[i]);
	i = find_dup(keys, spec->nr_services, sizeof(*keys), &first);
	free(keys);
	if (i == SIZE_MAX)
		return oom(c);
	if (i == spec->nr_services)
		return 0;
	return fail_at(c, c->notes[i].mark, "duplicate service %s (first at line %zu)",
		       svc_str(&spec->services[i], name, sizeof(name)),
		       c->notes[first].mark.line + 1);
}

/* Rules across sections: tunnel sources and MTU against the services that need them. */
static int check_tunnel(struct ctx *c, const struct xlvs_svc_spec *svc, const struct svc_note *note)
{
	const struct xlvs_global_spec *g = &c->spec->global;
	const struct xlvs_addr *src[2] = { &g->tun_src4, &g->tun_src6 };
	unsigned int need = TUN_MTU_MIN + note->v6_overhead;
	char name[80];
	int v6, f;

	svc_str(svc, name, sizeof(name));
	for (v6 = 0; v6 < 2; v6++) {
		f = v6 ? 6 : 4;
		if (note->tun_need[v6] && !src[v6]->family)
			return fail_at(c, note->tun_mark[v6],
				       "service %s has IPv%d tunnel reals but tunnel.source%d is not set",
				       name, f, f);
	}
	/* the default (1500) always fits, so mtu_node is set when this fails */
	if (c->mtu_node && note->v6_overhead && g->tun_mtu && g->tun_mtu < need)
		return fail(c, c->mtu_node, "mtu: %u is too small for IPv6 service %s (at least %u)",
			    g->tun_mtu, name, need);
	return 0;
}

static int parse_root(struct ctx *c, yaml_node_t *root)
{
	struct xlvs_global_spec *g = &c->spec->global;
	struct vbuf b;
	struct seen s;
	size_t i;
	int err;

	if (root->type != YAML_MAPPING_NODE)
		return fail(c, root, "top level must be a mapping, got %s", what(root, &b));
	g->xdp_mode = XLVS_XDP_AUTO;
	g->tun_mtu = TUN_MTU_DEFAULT;
	g->gue_port = XLVS_GUE_PORT_DEFAULT;
	g->conn_table_size = XLVS_CONNS_DEFAULT;
	err = walk(c, root, "at top level", top_keys, sizeof(top_keys) / sizeof(top_keys[0]),
		   NULL, g, &s);
	if (err)
		return err;
	if (!c->have_ifs)
		return fail(c, root, "missing required key 'interfaces'");
	err = check_dup_services(c);
	for (i = 0; !err && i < c->spec->nr_services; i++)
		err = check_tunnel(c, &c->spec->services[i], &c->notes[i]);
	return err;
}

static void spec_release(struct xlvs_spec *s)
{
	xlvs_spec_free(s);
}

static void remember_ifs(const struct ctx *c, const char *name)
{
	pthread_mutex_lock(&last_lock);
	copy_str(last.file, sizeof(last.file), name);
	last.n = c->spec->global.nr_interfaces;
	memcpy(last.ifs, c->ifs, sizeof(last.ifs));
	pthread_mutex_unlock(&last_lock);
}

/* The whole stream must be valid YAML with at most one document. */
static int load(struct ctx *c, yaml_parser_t *parser, yaml_document_t *doc)
{
	yaml_document_t extra;
	int err = 0;

	if (!yaml_parser_load(parser, doc))
		return yaml_fail(c, parser);
	if (!yaml_parser_load(parser, &extra)) {
		err = yaml_fail(c, parser);
	} else {
		if (yaml_document_get_root_node(&extra))
			err = fail_at(c, extra.start_mark,
				      "more than one YAML document (the configuration is one)");
		yaml_document_delete(&extra);
	}
	if (err)
		yaml_document_delete(doc);
	return err;
}

int xlvs_config_parse(const char *name, const char *text, size_t len, struct xlvs_spec *out,
		      struct xlvs_config_error *err)
{
	struct ctx c = { .text = text, .len = len, .err = err, .spec = out };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	copy_str(err->file, sizeof(err->file), name);
	if (!yaml_parser_initialize(&parser))
		return oom(&c);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	ret = load(&c, &parser, &doc);
	if (!ret) {
		c.doc = &doc;
		root = yaml_document_get_root_node(&doc);
		if (root)
			ret = parse_root(&c, root);
		else
			ret = fail_at(&c, (yaml_mark_t){ 0 }, "empty configuration");
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	free(c.notes);
	if (ret)
		spec_release(out);
	else
		remember_ifs(&c, name);
	return ret;
}

static int io_fail(struct xlvs_config_error *err, int e, const char *what)
{
	snprintf(err->msg, sizeof(err->msg), "%s: %s", what, strerror(e));
	return -e;
}

int xlvs_config_load(const char *path, struct xlvs_spec *out, struct xlvs_config_error *err)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nb;
	ssize_t r;
	int fd, ret;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	copy_str(err->file, sizeof(err->file), path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_fail(err, errno, "cannot open");
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			nb = cap > MAX_FILE ? NULL : realloc(buf, cap);
			if (!nb) {
				ret = cap > MAX_FILE ? EFBIG : ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno != EINTR) {
			ret = errno;
			goto fail;
		}
		len += r > 0 ? r : 0;
	} while (r);
	close(fd);
	ret = xlvs_config_parse(path, buf, len, out, err);
	free(buf);
	return ret;
fail:
	close(fd);
	free(buf);
	return io_fail(err, ret, ret == EFBIG ? "cannot read (larger than 64 MiB)" : "cannot read");
}

int xlvs_config_check_interfaces(const struct xlvs_spec *spec, struct xlvs_config_error *err)
{
	const char *name;
	size_t i, j;

	memset(err, 0, sizeof(*err));
	for (i = 0; i < spec->global.nr_interfaces; i++) {
		name = spec->global.interfaces[i];
		if (if_nametoindex(name))
			continue;
		pthread_mutex_lock(&last_lock);
		for (j = 0; j < last.n && strcmp(last.ifs[j].name, name); j++)
			;
		if (j < last.n) {
			memcpy(err->file, last.file, sizeof(err->file));
			err->line = last.ifs[j].line;
			err->column = last.ifs[j].column;
		}
		pthread_mutex_unlock(&last_lock);
		snprintf(err->msg, sizeof(err->msg), "interface %s does not exist", name);
		return -ENODEV;
	}
	return 0;
}

void xlvs_config_error_format(const struct xlvs_config_error *err, char *buf, size_t size)
{
	if (!size)
		return;
	if (err->line)
		snprintf(buf, size, "%s:%u:%u: %s", err->file, err->line, err->column, err->msg);
	else if (err->file[0])
		snprintf(buf, size, "%s: %s", err->file, err->msg);
	else
		snprintf(buf, size, "%s", err->msg);
}
