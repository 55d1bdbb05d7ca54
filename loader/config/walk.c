// SPDX-License-Identifier: GPL-2.0
/*
 * The YAML walker of the configuration file: errors with their position,
 * scalar readers, the key tables every section is walked with (unknown and
 * duplicate keys, "did you mean"), and the generic key handlers.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xlvsmaps.h"
#include "parse.h"

/* ---- errors --------------------------------------------------------------- */

int cf_fail_at(struct ctx *c, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	c->err->line = m.line + 1;
	c->err->column = m.column + 1;
	return -EINVAL;
}

int cf_oom(struct ctx *c)
{
	snprintf(c->err->msg, sizeof(c->err->msg), "out of memory");
	c->err->line = c->err->column = 0;
	return -ENOMEM;
}

void cf_copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* libyaml's own error. Reader errors (bad UTF-8) carry a byte offset, not a mark. */
int cf_yaml_fail(struct ctx *c, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	yaml_mark_t m = p->problem_mark;
	size_t i;

	if (p->error == YAML_MEMORY_ERROR)
		return cf_oom(c);
	if (p->error == YAML_READER_ERROR) {
		m.line = m.column = 0;
		for (i = 0; i < p->problem_offset && i < c->len; i++) {
			m.column++;
			if (c->text[i] == '\n')
				m.line++, m.column = 0;
		}
	}
	if (p->context)
		return cf_fail_at(c, m, "YAML syntax error: %s (%s at line %zu)", problem, p->context,
				  p->context_mark.line + 1);
	return cf_fail_at(c, m, "YAML syntax error: %s", problem);
}

/* ---- nodes ---------------------------------------------------------------- */

/* A scalar's text for a message: at most 40 bytes, control characters as '?'. */
const char *cf_show(const yaml_node_t *n, struct vbuf *b)
{
	const unsigned char *v = n->data.scalar.value;
	size_t len = n->data.scalar.length, i, o = 0;

	for (i = 0; i < len && o < 40; i++)
		b->s[o++] = v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
	strcpy(b->s + o, i < len ? "..." : "");
	return b->s;
}

/* What a node is, for "X expected, got ..." messages. */
const char *cf_what(const yaml_node_t *n, struct vbuf *b)
{
	char v[sizeof(b->s)];

	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a sequence";
	if (plain(n) && !n->data.scalar.length)
		return "an empty value";
	cf_show(n, b);
	memcpy(v, b->s, sizeof(v));
	snprintf(b->s, sizeof(b->s), plain(n) ? "'%.43s'" : "\"%.43s\"", v);
	return b->s;
}

int cf_expect(struct ctx *c, const char *name, yaml_node_t *n, yaml_node_type_t type)
{
	static const char *const names[] = {
		[YAML_SCALAR_NODE] = "scalar",
		[YAML_SEQUENCE_NODE] = "sequence",
		[YAML_MAPPING_NODE] = "mapping",
	};
	struct vbuf b;

	if (n->type == type)
		return 0;
	return fail(c, n, "%s: %s expected, got %s", name, names[type], cf_what(n, &b));
}

/* A scalar string of any style; an empty plain value (`key:`) is missing. */
int cf_get_str(struct ctx *c, const char *name, yaml_node_t *n, const char **out)
{
	int err = cf_expect(c, name, n, YAML_SCALAR_NODE);

	if (err)
		return err;
	if (plain(n) && !n->data.scalar.length)
		return fail(c, n, "%s: missing value", name);
	if (strlen(sval(n)) != n->data.scalar.length)
		return fail(c, n, "%s: value contains a NUL character", name);
	*out = sval(n);
	return 0;
}

int cf_range_fail(struct ctx *c, const char *name, yaml_node_t *n, const char *range)
{
	struct vbuf b;

	return fail(c, n, "%s: %s out of range (%s)", name, cf_show(n, &b), range);
}

/*
 * Unquoted decimal without leading zeros (YAML 1.1 reads 010 as octal, so
 * refuse to guess). A sign or a huge value still parses, so that the message
 * says "out of range" rather than "not an integer".
 */
int cf_get_uint(struct ctx *c, const char *name, yaml_node_t *n, uint32_t min, uint32_t max,
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
		return fail(c, n, "%s: integer expected, got %s", name, cf_what(n, &b));
	for (i = neg; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return fail(c, n, "%s: integer expected, got %s", name, cf_what(n, &b));
		x = x > (UINT64_MAX - 9) / 10 ? UINT64_MAX : x * 10 + (s[i] - '0');
	}
	if (s[neg] == '0' && len > neg + 1u)
		return fail(c, n, "%s: %s has a leading zero (YAML 1.1 would read it as octal)", name,
			    cf_show(n, &b));
	if (neg || x < min || x > max) {
		snprintf(def, sizeof(def), "%u..%u", min, max);
		return cf_range_fail(c, name, n, range ? range : def);
	}
	*out = x;
	return 0;
}

int cf_get_bool(struct ctx *c, const char *name, yaml_node_t *n, bool *out)
{
	struct vbuf b;

	if (n->type == YAML_SCALAR_NODE && plain(n)) {
		if (!strcmp(sval(n), "true") || !strcmp(sval(n), "false")) {
			*out = sval(n)[0] == 't';
			return 0;
		}
	}
	return fail(c, n, "%s: boolean expected (true or false), got %s", name, cf_what(n, &b));
}

/* Names are lowercase, like ipvsadm's and the names tables in abi.h. */
bool cf_has_upper(const char *s)
{
	for (; *s; s++)
		if (isupper((unsigned char)*s))
			return true;
	return false;
}

/* "a, b or c" */
void cf_join(char *buf, size_t size, const char *const *names, size_t n)
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

void cf_store(void *obj, const struct key *k, uint32_t v)
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

/*
 * Words of keepalived.conf and ipvsadm that an operator moving to xlvs
 * writes from habit, with the xlvs key that says the same (docs/configuration.md,
 * "Coming from keepalived or ipvsadm"). Matched whatever the case
 * (keepalived writes its checkers in capitals).
 */
static const struct {
	const char *word, *hint;
} foreign_words[] = {
	{ "virtual_server", "keepalived's virtual_server is an item of 'services': vip, port, protocol" },
	{ "virtual_server_group", "xlvs has no groups: one item of 'services' per VIP and port" },
	{ "real_server", "keepalived's real_server is an item of 'reals': address, port, weight" },
	{ "lb_algo", "keepalived's lb_algo is 'scheduler'" },
	{ "lvs_sched", "keepalived's lvs_sched is 'scheduler'" },
	{ "lb_kind", "keepalived's lb_kind is 'forward': dr, tun, gue, nat, fullnat or local" },
	{ "lvs_method", "keepalived's lvs_method is 'forward': dr, tun, gue, nat, fullnat or local" },
	{ "delay_loop", "keepalived's delay_loop is 'check: { interval: ... }'" },
	{ "connect_timeout", "keepalived's connect_timeout is 'check: { timeout: ... }'" },
	{ "connect_port", "keepalived's connect_port is 'check: { port: ... }'" },
	{ "connect_ip", "keepalived's connect_ip is 'check: { address: ... }'" },
	{ "retry", "keepalived's retry is 'check: { fall: N }'" },
	{ "nb_get_retry", "keepalived's nb_get_retry is 'check: { fall: N }'" },
	{ "delay_before_retry", "xlvs retries at the check's 'interval'" },
	{ "persistence_timeout", "keepalived's persistence_timeout is 'persistence' (e.g. 300s)" },
	{ "persistence_granularity",
	  "keepalived's persistence_granularity is 'persistence_netmask' (e.g. 255.255.255.0 or 24)" },
	{ "persistent", "ipvsadm's -p is 'persistence' (e.g. 300s), -M is 'persistence_netmask'" },
	{ "weight", "'weight' is a key of each real: reals: [{ address: ..., weight: N }]" },
	{ "inhibit_on_failure", "keepalived's inhibit_on_failure is 'on_down: quiesce' (the default)" },
	{ "sorry_server", "keepalived's sorry_server is 'sorry: { address: ..., port: ... }'" },
	{ "quorum_up", "keepalived's quorum_up is 'notify: { quorum: ... }'" },
	{ "quorum_down", "keepalived's quorum_down is 'notify: { quorum: ... }'" },
	{ "hysteresis", "keepalived's hysteresis is 'quorum: { weight: N, hysteresis: N }'" },
	{ "notify_up", "keepalived's notify_up is 'notify: { up: ... }' in the service" },
	{ "notify_down", "keepalived's notify_down is 'notify: { down: ... }' in the service" },
	{ "alpha", "keepalived's alpha is 'check: { initial: down }'" },
	{ "tcp_check", "keepalived's TCP_CHECK is 'check: { type: tcp }'" },
	{ "http_get", "keepalived's HTTP_GET is 'check: { type: http, path: ..., expect: ... }'" },
	{ "ssl_get", "keepalived's SSL_GET is 'check: { type: https, path: ..., expect: ... }'" },
	{ "misc_check", "keepalived's MISC_CHECK is 'check: { type: exec, command: ... }'" },
	{ "dns_check", "keepalived's DNS_CHECK is 'check: { type: dns, name: ... }'" },
	{ "udp_check", "keepalived's UDP_CHECK is 'check: { type: udp }'" },
	{ "ping_check", "keepalived's PING_CHECK is 'check: { type: icmp }'" },
	{ "url", "keepalived's url is 'check: { path: ..., expect: ..., digest: ... }'" },
	{ "status_code", "keepalived's status_code is 'check: { expect: [...] }'" },
	{ "virtualhost", "keepalived's virtualhost is 'check: { host: ... }'" },
	{ "misc_path", "keepalived's misc_path is 'check: { command: ... }'" },
	{ "misc_timeout", "keepalived's misc_timeout is 'check: { timeout: ... }'" },
	{ "ip", "a real's address is 'address'" },
	{ "ipaddress", "a real's address is 'address'" },
	{ "vrrp_instance",
	  "xlvs does no VRRP: the network routes the VIPs to the director (keepalived's VRRP "
	  "may run beside it)" },
	{ "virtual_ipaddress", "xlvs does no VRRP: the network routes the VIPs to the director (keepalived's "
			       "VRRP may run beside it)" },
};

static const char *foreign_hint(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(foreign_words) / sizeof(foreign_words[0]); i++)
		if (!strcasecmp(name, foreign_words[i].word))
			return foreign_words[i].hint;
	return NULL;
}

/* Unknown key, with the nearest known (or known but unsupported) key as a hint. */
static int unknown_key(struct ctx *c, yaml_node_t *k, const char *where, const struct key *keys, size_t n,
		       const char *const *unsupported)
{
	const char *name = sval(k), *hint = NULL;
	unsigned int d, best = 3;
	struct vbuf b;
	size_t i;

	if (foreign_hint(name))
		return fail(c, k, "unknown key '%s' %s (%s)", cf_show(k, &b), where, foreign_hint(name));

	for (i = 0; unsupported && unsupported[i]; i++) {
		if (!strcmp(name, unsupported[i]))
			return fail(c, k, "key '%s' %s is not supported yet", name, where);
		d = edits(name, unsupported[i]);
		if (d < best && d < strlen(unsupported[i]))
			best = d, hint = unsupported[i];
	}
	for (i = 0; i < n; i++) {
		d = edits(name, keys[i].name);
		if (d < best && d < strlen(keys[i].name))
			best = d, hint = keys[i].name;
	}
	if (hint)
		return fail(c, k, "unknown key '%s' %s (did you mean '%s'?)", cf_show(k, &b), where, hint);
	return fail(c, k, "unknown key '%s' %s", cf_show(k, &b), where);
}

static size_t key_index(const struct key *keys, size_t n, const yaml_node_t *k)
{
	size_t i;

	for (i = 0; i < n; i++) /* the length too: a key may hide a NUL ("port\0x") */
		if (strlen(keys[i].name) == k->data.scalar.length && !strcmp(sval(k), keys[i].name))
			break;
	return i;
}

/* Hand every pair of a mapping to its key's handler; unknown and duplicate keys are errors. */
int cf_walk(struct ctx *c, yaml_node_t *map, const char *where, const struct key *keys, size_t nkeys,
	    const char *const *unsupported, void *obj, struct seen *s)
{
	yaml_node_pair_t *p;
	struct vbuf b;
	size_t i;
	int err;

	memset(s, 0, sizeof(*s));
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);

		if (k->type != YAML_SCALAR_NODE)
			return fail(c, k, "keys must be scalars, got %s", cf_what(k, &b));
		i = key_index(keys, nkeys, k);
		if (i == nkeys)
			return unknown_key(c, k, where, keys, nkeys, unsupported);
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

int cf_key_uint(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	uint32_t x;
	int err = cf_get_uint(c, k->name, v, k->min, k->max, NULL, &x);

	if (!err)
		cf_store(obj, k, x);
	return err;
}

int cf_key_choice(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	const struct choice *ch = k->arg;
	char list[128];
	const char *s;
	struct vbuf b;
	size_t i;
	int err;

	err = cf_get_str(c, k->name, v, &s);
	if (err)
		return err;
	for (i = 0; i < ch->n; i++) {
		if (!strcmp(s, ch->names[i])) {
			cf_store(obj, k, ch->vals ? (uint32_t)ch->vals[i] : i);
			return 0;
		}
	}
	cf_join(list, sizeof(list), ch->names, ch->n);
	return fail(c, v, "%s: unknown %s '%s' (expected %s)", k->name, ch->noun, cf_show(v, &b), list);
}

/* An address; k->min restricts the family (XLVS_AF_INET / XLVS_AF_INET6, 0 = either). */
int cf_key_addr(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	char msg[sizeof(c->err->msg)];
	struct xlvs_addr a;
	const char *s;
	int err;

	err = cf_get_str(c, k->name, v, &s);
	if (err)
		return err;
	if (xlvs_v_addr(k->name, s, k->min, &a, msg, sizeof(msg)))
		return fail(c, v, "%s", msg);
	memcpy((char *)obj + k->off, &a, sizeof(a));
	return 0;
}

const char *cf_addr_str(const struct xlvs_addr *a, char *buf)
{
	return xlvs_v_addr_str(a, buf);
}

/* "tcp 198.18.0.10:80", "udp [2001:db8::10]:53" */
const char *cf_svc_str(const struct xlvs_svc_spec *s, char *buf, size_t size)
{
	return xlvs_v_svc_str(s, buf, size);
}

/*
 * "2s", "500ms", "1m", "1h", or a plain integer (seconds), into milliseconds
 * within min..max.
 */
static int get_duration(struct ctx *c, const char *name, yaml_node_t *n, uint32_t min, uint32_t max,
			uint32_t *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "", 1000 },
	};
	const char *s, *end;
	char range[64];
	uint64_t x = 0;
	struct vbuf b;
	size_t i;

	if (n->type != YAML_SCALAR_NODE || !plain(n) || !n->data.scalar.length)
		return fail(c, n, "%s: duration expected (e.g. 2s, 500ms), got %s", name, cf_what(n, &b));
	s = sval(n);
	for (end = s; isdigit((unsigned char)*end); end++)
		x = x > UINT32_MAX ? x : x * 10 + (*end - '0');
	for (i = 0; end > s && i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit))
			break;
	if (end == s || i == sizeof(units) / sizeof(units[0]))
		return fail(c, n, "%s: '%s' is not a duration (e.g. 2s, 500ms, 1m)", name, cf_show(n, &b));
	x *= units[i].ms;
	if (x < min || x > max) {
		snprintf(range, sizeof(range), "%ums..%us", min, max / 1000);
		return cf_range_fail(c, name, n, range);
	}
	*out = x;
	return 0;
}

static int copy_text(struct ctx *c, const char *name, yaml_node_t *n, char *dst, size_t size)
{
	const char *s;
	int err = cf_get_str(c, name, n, &s);

	if (err)
		return err;
	if (strlen(s) >= size)
		return fail(c, n, "%s: longer than %zu bytes", name, size - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}
int cf_key_duration(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	uint32_t ms = 0;
	int err = get_duration(c, k->name, v, k->min, k->max, &ms);

	if (!err)
		cf_store(obj, k, ms);
	return err;
}

int cf_key_text(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	return copy_text(c, k->name, v, (char *)obj + k->off, k->size);
}

void cf_visit_keys(const char *where, const struct key *keys, size_t n, xlvs_conf_key_fn fn, void *arg)
{
	size_t i;

	for (i = 0; i < n; i++)
		fn(where, keys[i].name, arg);
}
