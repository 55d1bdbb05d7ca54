// SPDX-License-Identifier: GPL-2.0
/*
 * The health keys of a service and of a real: check (a real's over its
 * service's), quorum and notify.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xlvsmaps.h"
#include "parse.h"

#define CHECK_INTERVAL_DEFAULT 2000u /* ms */
#define CHECK_TIMEOUT_DEFAULT  1000u
#define CHECK_INTERVAL_MIN     100u
#define CHECK_TIMEOUT_MIN      10u
#define CHECK_TIME_MAX	       3600000u /* one hour */
#define CHECK_COUNT_MAX	       1000u

/* The defaults a check starts from when nothing (no service check) is above it. */
void cf_check_defaults(struct xlvs_check_spec *ck)
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
struct check_parse {
	struct xlvs_check_spec ck;
	bool have_type;
};

#define CK(f) FIELD(struct check_parse, f)

static int key_check_type(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	static const struct choice types = {
		.noun = "check type",
		.names = xlvs_check_type_names + 1,
		.n = XLVS_CHECK_MAX - 1,
	};
	struct check_parse *cp = obj;
	int err = cf_key_choice(
		c, &(struct key){ .name = k->name, .off = k->off, .size = k->size, .arg = &types }, v, obj);

	if (!err) {
		cp->ck.type++; /* names start at tcp */
		cp->have_type = true;
	}
	return err;
}

static const char *const initial_names[] = { "down", "up" };
const struct choice cf_initial_states = { .noun = "state", .names = initial_names, .n = 2 };

static int key_initial(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return cf_key_choice(
		c,
		&(struct key){ .name = k->name, .off = k->off, .size = k->size, .arg = &cf_initial_states },
		v, obj);
}

static int key_path(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	int err = cf_key_text(c, k, v, obj);
	const char *p = (char *)obj + k->off;
	struct vbuf b;

	if (!err && (p[0] != '/' || strpbrk(p, " \t\r\n")))
		return fail(c, v, "%s: '%s' must start with '/' and contain no spaces", k->name,
			    cf_show(v, &b));
	return err;
}

/* RFC 1123 labels (an underscore allowed, as resolvers do), at most 253 bytes, a final dot. */
static bool host_name_ok(const char *p, size_t n)
{
	size_t label = 0, i;

	if (n && p[n - 1] == '.')
		n--;
	if (!n || n > 253)
		return false;
	for (i = 0; i <= n; i++) {
		if (i == n || p[i] == '.') {
			if (!label || label > 63 || p[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)p[i]) || p[i] == '_' || (p[i] == '-' && label)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/*
 * `host`: the name in the URL, so a host name, an IPv4 address or a
 * bracketed IPv6 address, then an optional :PORT. Nothing else: no user
 * information ("x@198.18.0.2"), path, query or spaces.
 */
static bool host_ok(const char *p)
{
	const char *port = NULL, *end;
	char a6[INET6_ADDRSTRLEN + 1];
	unsigned long n;
	struct in6_addr in6;
	size_t len;

	if (p[0] == '[') {
		end = strchr(p, ']');
		len = end ? (size_t)(end - p - 1) : 0;
		if (!end || !len || len >= sizeof(a6))
			return false;
		memcpy(a6, p + 1, len);
		a6[len] = '\0';
		if (inet_pton(AF_INET6, a6, &in6) != 1)
			return false;
		if (end[1] && end[1] != ':')
			return false;
		port = end[1] ? end + 2 : NULL;
	} else {
		end = strchr(p, ':');
		if (!host_name_ok(p, end ? (size_t)(end - p) : strlen(p)))
			return false;
		port = end ? end + 1 : NULL;
	}
	if (!port)
		return true;
	if (!isdigit((unsigned char)port[0]) || strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5)
		return false;
	n = strtoul(port, NULL, 10);
	return n >= 1 && n <= 65535;
}

static int key_host(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	int err = cf_key_text(c, k, v, obj);
	const char *p = (char *)obj + k->off;
	struct vbuf b;

	if (!err && !host_ok(p))
		return fail(c, v,
			    "%s: '%s' is not a host name with an optional port "
			    "(e.g. www.example.org or www.example.org:8080)",
			    k->name, cf_show(v, &b));
	return err;
}

static int key_tls(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return cf_get_bool(c, k->name, v, &((struct check_parse *)obj)->ck.tls_verify);
}

/* One expected status: "200" or "200-299" (a plain integer too). */
static int add_code(struct ctx *c, const char *name, yaml_node_t *n, struct xlvs_check_spec *ck)
{
	unsigned int lo, hi;
	const char *s;
	struct vbuf b;
	int end = 0;

	if (n->type != YAML_SCALAR_NODE)
		return fail(c, n, "%s: status code or range expected, got %s", name, cf_what(n, &b));
	s = sval(n);
	if (sscanf(s, "%3u%n", &lo, &end) == 1 && !s[end] && end == 3)
		hi = lo;
	else if (sscanf(s, "%3u-%3u%n", &lo, &hi, &end) != 2 || s[end] || end != 7)
		return fail(c, n, "%s: '%s' is not a status code or range (e.g. 200, 200-399)", name,
			    cf_show(n, &b));
	if (lo < 100 || hi > 599 || lo > hi)
		return cf_range_fail(c, name, n, "100..599, low-high");
	if (ck->nr_codes == XLVS_CHECK_MAX_CODES)
		return fail(c, n, "%s: too many status codes (at most %d)", name, XLVS_CHECK_MAX_CODES);
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
	static const struct {
		const char *name;
		uint8_t alg;
		size_t len;
	} algs[] = {
		{ "md5", XLVS_DIGEST_MD5, 16 },
		{ "sha256", XLVS_DIGEST_SHA256, 32 },
	};
	struct xlvs_check_spec *ck = &((struct check_parse *)obj)->ck;
	const char *s, *colon, *hex;
	struct vbuf b;
	size_t i, j, n;
	int err = cf_get_str(c, k->name, v, &s);

	if (err)
		return err;
	colon = strchr(s, ':');
	if (!colon)
		return fail(c, v,
			    "%s: '%s' is not ALGORITHM:HEX (md5:<32 hex digits> or "
			    "sha256:<64 hex digits>)",
			    k->name, cf_show(v, &b));
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strlen(algs[i].name) == (size_t)(colon - s) && !strncasecmp(s, algs[i].name, colon - s))
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
			return fail(c, v, "%s: '%s' is not hexadecimal (0-9, a-f)", k->name, cf_show(v, &b));
	for (j = 0; j < algs[i].len; j++) {
		unsigned int x;

		sscanf(hex + 2 * j, "%2x", &x);
		ck->digest[j] = (uint8_t)x;
	}
	memset(ck->digest + algs[i].len, 0, sizeof(ck->digest) - algs[i].len);
	ck->digest_alg = algs[i].alg;
	return 0;
}

static const struct {
	const char *name;
	uint16_t type;
} qtypes[] = {
	{ "A", 1 },   { "NS", 2 },   { "CNAME", 5 }, { "SOA", 6 },  { "PTR", 12 },
	{ "MX", 15 }, { "TXT", 16 }, { "AAAA", 28 }, { "SRV", 33 }, { "ANY", 255 },
};

const char *cf_qtype_name(unsigned int type)
{
	size_t i;

	for (i = 0; i < sizeof(qtypes) / sizeof(qtypes[0]); i++)
		if (qtypes[i].type == type)
			return qtypes[i].name;
	return NULL;
}

static int key_qtype(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct check_parse *cp = obj;
	const char *s;
	struct vbuf b;
	size_t i;
	int err = cf_get_str(c, k->name, v, &s);

	if (err)
		return err;
	for (i = 0; i < sizeof(qtypes) / sizeof(qtypes[0]); i++) {
		if (!strcasecmp(s, qtypes[i].name)) {
			cp->ck.qtype = qtypes[i].type;
			return 0;
		}
	}
	return fail(c, v, "%s: unknown record type '%s' (A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT or ANY)",
		    k->name, cf_show(v, &b));
}

static int key_qname(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	int err = cf_key_text(c, k, v, obj);
	const char *p = (char *)obj + k->off;
	struct vbuf b;
	size_t len = strlen(p);

	if (!err && (len > 253 || strpbrk(p, " \t\r\n") || strstr(p, "..") || (p[0] == '.' && len > 1)))
		return fail(c, v, "%s: '%s' is not a domain name", k->name, cf_show(v, &b));
	return err;
}

enum {
	CK_TYPE,
	CK_INTERVAL,
	CK_TIMEOUT,
	CK_RISE,
	CK_FALL,
	CK_INITIAL,
	CK_ADDRESS,
	CK_PORT,
	CK_PATH,
	CK_HOST,
	CK_EXPECT,
	CK_BODY,
	CK_TLS_VERIFY,
	CK_PAYLOAD,
	CK_REPLY,
	CK_NAME,
	CK_QUERY_TYPE,
	CK_COMMAND,
	CK_DIGEST,
	CK_NR
};

static const struct key check_keys[CK_NR] = {
	[CK_TYPE] = { .name = "type", .fn = key_check_type, CK(ck.type) },
	[CK_INTERVAL] = { .name = "interval",
			  .fn = cf_key_duration,
			  CK(ck.interval_ms),
			  .min = CHECK_INTERVAL_MIN,
			  .max = CHECK_TIME_MAX },
	[CK_TIMEOUT] = { .name = "timeout",
			 .fn = cf_key_duration,
			 CK(ck.timeout_ms),
			 .min = CHECK_TIMEOUT_MIN,
			 .max = CHECK_TIME_MAX },
	[CK_RISE] = { .name = "rise", .fn = cf_key_uint, CK(ck.rise), .min = 1, .max = CHECK_COUNT_MAX },
	[CK_FALL] = { .name = "fall", .fn = cf_key_uint, CK(ck.fall), .min = 1, .max = CHECK_COUNT_MAX },
	[CK_INITIAL] = { .name = "initial", .fn = key_initial, CK(ck.initial_up) },
	[CK_ADDRESS] = { .name = "address", .fn = cf_key_addr, CK(ck.addr) },
	[CK_PORT] = { .name = "port", .fn = cf_key_uint, CK(ck.port), .min = 1, .max = 65535 },
	[CK_PATH] = { .name = "path", .fn = key_path, CK(ck.path) },
	[CK_HOST] = { .name = "host", .fn = key_host, CK(ck.host) },
	[CK_EXPECT] = { .name = "expect", .fn = key_codes },
	[CK_BODY] = { .name = "body", .fn = cf_key_text, CK(ck.match) },
	[CK_TLS_VERIFY] = { .name = "tls_verify", .fn = key_tls },
	[CK_PAYLOAD] = { .name = "payload", .fn = cf_key_text, CK(ck.payload) },
	[CK_REPLY] = { .name = "reply", .fn = cf_key_text, CK(ck.match) },
	[CK_NAME] = { .name = "name", .fn = key_qname, CK(ck.qname) },
	[CK_QUERY_TYPE] = { .name = "query_type", .fn = key_qtype },
	[CK_COMMAND] = { .name = "command", .fn = cf_key_text, CK(ck.command) },
	[CK_DIGEST] = { .name = "digest", .fn = key_digest },
};

/* Keys that only some check types take: the bit mask of those types. */
#define T(x) (1u << XLVS_CHECK_##x)
static const uint32_t check_key_types[CK_NR] = {
	[CK_PORT] = ~(T(ICMP) | T(EXEC)),
	[CK_PATH] = T(HTTP) | T(HTTPS),
	[CK_HOST] = T(HTTP) | T(HTTPS),
	[CK_EXPECT] = T(HTTP) | T(HTTPS),
	[CK_BODY] = T(HTTP) | T(HTTPS),
	[CK_DIGEST] = T(HTTP) | T(HTTPS),
	[CK_TLS_VERIFY] = T(HTTPS),
	[CK_PAYLOAD] = T(UDP),
	[CK_REPLY] = T(UDP),
	[CK_NAME] = T(DNS),
	[CK_QUERY_TYPE] = T(DNS),
	[CK_COMMAND] = T(EXEC),
};
#undef T

static void type_list(char *buf, size_t size, uint32_t mask)
{
	const char *names[XLVS_CHECK_MAX];
	size_t n = 0, i;

	for (i = 1; i < XLVS_CHECK_MAX; i++)
		if (mask & (1u << i))
			names[n++] = xlvs_check_type_names[i];
	cf_join(buf, size, names, n);
}

/* Keys of the mapping that the check's type does not use are errors. */
static int check_keys_used(struct ctx *c, const struct xlvs_check_spec *ck, const struct seen *s)
{
	char list[96];
	size_t i;

	for (i = 0; i < CK_NR; i++) {
		if (!HAS(s, i) || !check_key_types[i] || (check_key_types[i] & (1u << ck->type)))
			continue;
		type_list(list, sizeof(list), check_key_types[i]);
		return fail(c, s->key[i], "%s: not used by %s checks (only %s)", check_keys[i].name,
			    xlvs_check_type_names[ck->type], list);
	}
	return 0;
}

/* Rules between the keys of one check, once its type is known. */
static int check_rules(struct ctx *c, yaml_node_t *v, struct xlvs_check_spec *ck, const struct seen *s)
{
	/*
	 * A digest fixes the whole body, so a body substring with it is redundant or
	 * never matches: one or the other. A real's body replaces its service's
	 * digest and its digest the service's body.
	 */
	if (HAS(s, CK_DIGEST) && HAS(s, CK_BODY))
		return fail(c, s->key[CK_DIGEST],
			    "digest: give body or digest, not both "
			    "(the digest fixes the whole body)");
	if (HAS(s, CK_DIGEST))
		ck->match[0] = '\0';
	if (HAS(s, CK_BODY))
		ck->digest_alg = XLVS_DIGEST_NONE;
	if (ck->timeout_ms > ck->interval_ms)
		return fail(c, HAS(s, CK_TIMEOUT) ? s->val[CK_TIMEOUT] : s->val[CK_INTERVAL],
			    "timeout: %ums is longer than the interval (%ums)", ck->timeout_ms,
			    ck->interval_ms);
	if (ck->type == XLVS_CHECK_DNS && !ck->qname[0])
		return fail(c, v, "missing required key 'name' in dns check");
	if (ck->type == XLVS_CHECK_EXEC && !ck->command[0])
		return fail(c, v, "missing required key 'command' in exec check");
	return 0;
}

/*
 * A real's check of another type than its service's: only timing, initial
 * state and target carry over, not what belonged to the other type (an http
 * body is no udp reply).
 */
static void carry_over(struct xlvs_check_spec *ck, const struct xlvs_check_spec *base)
{
	cf_check_defaults(ck);
	ck->initial_up = base->initial_up;
	ck->rise = base->rise;
	ck->fall = base->fall;
	ck->interval_ms = base->interval_ms;
	ck->timeout_ms = base->timeout_ms;
	ck->addr = base->addr;
	ck->port = base->port;
}

/*
 * A `check:` mapping over base (the defaults, or the service's check for a
 * real). `check: off` (or false) is type none: never checked, always up.
 */
int cf_parse_check(struct ctx *c, yaml_node_t *v, const struct xlvs_check_spec *base,
		   struct xlvs_check_spec *out)
{
	struct check_parse cp = { .ck = *base, .have_type = base->type != XLVS_CHECK_NONE };
	struct vbuf b;
	struct seen s;
	int err;

	if (cf_is_off(v)) {
		*out = *base;
		out->type = XLVS_CHECK_NONE;
		return 0;
	}
	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, "check: mapping or 'off' expected, got %s", cf_what(v, &b));
	err = cf_walk(c, v, "in check", check_keys, CK_NR, NULL, &cp, &s);
	if (err)
		return err;
	if (!cp.have_type)
		return fail(c, v, "missing required key 'type' in check (%s)",
			    "tcp, http, https, udp, dns, icmp or exec");
	if (base->type != XLVS_CHECK_NONE && cp.ck.type != base->type) {
		carry_over(&cp.ck, base); /* and parse again over that */
		err = cf_walk(c, v, "in check", check_keys, CK_NR, NULL, &cp, &s);
		if (err)
			return err;
	}
	err = check_keys_used(c, &cp.ck, &s);
	if (!err)
		err = check_rules(c, v, &cp.ck, &s);
	if (!err)
		*out = cp.ck;
	return err;
}

static const char *const quorum_action_names[] = { "sorry", "withdraw" };
const struct choice cf_quorum_actions = { .noun = "action", .names = quorum_action_names, .n = 2 };
static const struct key quorum_keys[] = {
	{ .name = "weight",
	  .fn = cf_key_uint,
	  FIELD(struct xlvs_svc_health, quorum),
	  .min = 1,
	  .max = UINT32_MAX },
	{ .name = "action",
	  .fn = cf_key_choice,
	  FIELD(struct xlvs_svc_health, quorum_action),
	  .arg = &cf_quorum_actions },
	{ .name = "hysteresis",
	  .fn = cf_key_uint,
	  FIELD(struct xlvs_svc_health, quorum_hysteresis),
	  .max = UINT32_MAX },
};

/* quorum: N, or { weight: N, action: sorry|withdraw, hysteresis: N } */
int cf_key_quorum(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct xlvs_svc_health *h = obj;
	struct seen s;
	int err;

	if (v->type != YAML_MAPPING_NODE)
		return cf_get_uint(c, k->name, v, 1, UINT32_MAX, NULL, &h->quorum);
	err = cf_walk(c, v, "in quorum", quorum_keys, 3, NULL, h, &s);
	if (!err && !HAS(&s, 0))
		return fail(c, v, "missing required key 'weight' in quorum");
	if (!err && h->quorum_hysteresis >= h->quorum)
		return fail(c, s.val[2], "hysteresis: %u must be smaller than the quorum weight (%u)",
			    h->quorum_hysteresis, h->quorum);
	return err;
}

static const struct key notify_keys[] = {
	{ .name = "up", .fn = cf_key_text, FIELD(struct xlvs_svc_health, notify_up) },
	{ .name = "down", .fn = cf_key_text, FIELD(struct xlvs_svc_health, notify_down) },
	{ .name = "quorum", .fn = cf_key_text, FIELD(struct xlvs_svc_health, notify_quorum) },
	{ .name = "timeout",
	  .fn = cf_key_duration,
	  FIELD(struct xlvs_svc_health, notify_timeout_ms),
	  .min = CHECK_TIMEOUT_MIN,
	  .max = CHECK_TIME_MAX },
};

int cf_key_notify(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	struct seen s;
	int err = cf_expect(c, k->name, v, YAML_MAPPING_NODE);

	if (err)
		return err;
	return cf_walk(c, v, "in notify", notify_keys, 4, NULL, obj, &s);
}

void cf_check_keys(xlvs_conf_key_fn fn, void *arg)
{
	cf_visit_keys("in check", check_keys, CK_NR, fn, arg);
	cf_visit_keys("in quorum", quorum_keys, sizeof(quorum_keys) / sizeof(quorum_keys[0]), fn, arg);
	cf_visit_keys("in notify", notify_keys, sizeof(notify_keys) / sizeof(notify_keys[0]), fn, arg);
}
