// SPDX-License-Identifier: GPL-2.0
/*
 * What `xlvs health` shows: xlvsd's `health` reply (docs/control.md) as one
 * table, a line per real grouped under its service (state, check, target,
 * last result, latency, rise/fall run, last change, next check), or the
 * reply's services in JSON. Every daemon field is type-checked: a daemon of
 * another version must not crash the CLI; what it lacks shows as "-".
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "fmt.h"

enum {
	COL_REAL,
	COL_STATE,
	COL_CHECK,
	COL_TARGET,
	COL_LAST,
	COL_LATENCY,
	COL_RUN,
	COL_CHANGED,
	COL_TRANS,
	COL_NEXT,
	NR_COLS
};

static const char *const col_head[NR_COLS] = {
	"Real", "State", "Check", "Target", "Last result", "Latency", "Run", "Changed", "Trans", "Next",
};

#define CELL 160

struct cells {
	char c[NR_COLS][CELL];
};

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* An integer field, or -1 when the daemon did not give one. */
static long long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

void xlvs_fmt_age(long long ms, char *buf, size_t size)
{
	if (ms < 10000)
		snprintf(buf, size, "%lld.%llds", ms / 1000, ms % 1000 / 100);
	else
		xlvs_fmt_duration(ms / 1000, buf, size);
}

/* "198.18.1.11:80" from {address, port}; the address alone for port 0. */
static void real_text(json_t *real, char *buf, size_t size)
{
	long long port = jint(real, "port");
	struct xlvs_addr a;

	if (!jstr(real, "address") || xlvs_addr_parse(jstr(real, "address"), &a))
		xlvs_fmt_clean(buf, size, jstr(real, "address") ?: "?");
	else if (port > 0 && port < 65536)
		xlvs_ep_text(&a, (uint16_t)port, buf, size);
	else
		xlvs_addr_text(&a, buf, size);
}

/* "ok: connected", "failed: exit 1", "none" (no result yet). */
static void last_text(json_t *h, char *buf, size_t size)
{
	const char *res = jstr(h, "last_result") ?: "-", *msg = jstr(h, "last_message");
	char t[CELL];

	if (msg && *msg && strcmp(res, "none"))
		snprintf(t, sizeof(t), "%s: %s", res, msg);
	else
		snprintf(t, sizeof(t), "%s", res);
	xlvs_fmt_clean(buf, size, t);
}

/* "fall 1/3" while up (failures toward down), "rise 0/2" while down. */
static void run_text(json_t *h, bool up, char *buf, size_t size)
{
	long long run = jint(h, "rise_fall"), goal = jint(h, up ? "fall" : "rise");

	if (run < 0 || goal < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%s %lld/%lld", up ? "fall" : "rise", run, goal);
}

/* A real's cells; an unchecked one has its state only. */
static void real_cells(json_t *real, struct cells *c)
{
	json_t *h = json_object_get(real, "health"), *lat = json_object_get(h, "last_latency_ms");
	const char *state = jstr(h, "state") ?: "unknown";
	bool up = !strcmp(state, "up"), none;
	long long ms;
	char t[CELL];

	memset(c, 0, sizeof(*c));
	real_text(real, c->c[COL_REAL], CELL);
	snprintf(t, sizeof(t), "%s%s", state,
		 json_is_true(json_object_get(h, "initial")) ? " (initial)" : "");
	xlvs_fmt_clean(c->c[COL_STATE], CELL, t);
	if (!strcmp(state, "unchecked") || !json_is_object(h))
		return;
	xlvs_fmt_clean(c->c[COL_CHECK], CELL, jstr(h, "check") ?: "-");
	xlvs_fmt_clean(c->c[COL_TARGET], CELL, jstr(h, "target") ?: "-");
	last_text(h, c->c[COL_LAST], CELL);
	none = !strcmp(jstr(h, "last_result") ?: "none", "none");
	if (json_is_number(lat) && !none)
		snprintf(c->c[COL_LATENCY], CELL, "%.1f ms", json_number_value(lat));
	else
		snprintf(c->c[COL_LATENCY], CELL, "-");
	run_text(h, up, c->c[COL_RUN], CELL);
	ms = jint(h, "last_change_ago_ms");
	xlvs_fmt_age(ms, t, sizeof(t));
	snprintf(c->c[COL_CHANGED], CELL, ms < 0 ? "-" : "%s ago", t);
	ms = jint(h, "transitions");
	snprintf(c->c[COL_TRANS], CELL, ms < 0 ? "-" : "%lld", ms);
	ms = jint(h, "next_check_in_ms");
	xlvs_fmt_age(ms, t, sizeof(t));
	if (json_is_true(json_object_get(h, "running")))
		snprintf(c->c[COL_NEXT], CELL, "running");
	else
		snprintf(c->c[COL_NEXT], CELL, ms < 0 ? "-" : "in %s", t);
}

/* "TCP 198.18.0.10:80" from a service's {vip, port, protocol}. */
static void svc_text(json_t *svc, char *buf, size_t size)
{
	struct xlvs_endpoint ep = { 0 };
	long long port = jint(svc, "port");

	if (!jstr(svc, "vip") || xlvs_addr_parse(jstr(svc, "vip"), &ep.addr) || port > 65535) {
		xlvs_fmt_clean(buf, size, jstr(svc, "vip") ?: "?");
		return;
	}
	ep.port = port < 0 ? 0 : (uint16_t)port;
	ep.proto = xlvs_parse_proto(jstr(svc, "protocol") ?: "") == IPPROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	xlvs_svc_text(&ep, buf, size);
}

/* "TCP 198.18.0.10:80  check tcp  up weight 3  quorum 2 lost: service withdrawn  sorry 198.18.1.99 standby" */
static void svc_line(struct xp *p, json_t *svc)
{
	json_t *q = json_object_get(svc, "quorum"), *s = json_object_get(svc, "sorry");
	const char *action = jstr(q, "action") ?: "?";
	char buf[CELL];

	svc_text(svc, buf, sizeof(buf));
	xp_text(p, "%s", buf);
	if (!jstr(svc, "check")) {
		xp_text(p, "  no health checks\n");
		return;
	}
	xlvs_fmt_clean(buf, sizeof(buf), jstr(svc, "check"));
	xp_text(p, "  check %s", !strcmp(buf, "none") ? "per real" : buf);
	if (jint(svc, "up_weight") >= 0)
		xp_text(p, "  up weight %lld", jint(svc, "up_weight"));
	if (json_is_object(q)) {
		xp_text(p, "  quorum %lld ", jint(q, "weight"));
		if (!json_is_true(json_object_get(q, "lost")))
			xp_text(p, "met");
		else
			xp_text(p, "lost: %s",
				!strcmp(action, "withdraw") ? "service withdrawn" : "sorry server");
	}
	if (json_is_object(s)) {
		xlvs_fmt_clean(buf, sizeof(buf), jstr(s, "address") ?: "?");
		xp_text(p, "  sorry %s %s", buf,
			json_is_true(json_object_get(s, "active")) ? "active" : "standby");
	}
	xp_text(p, "\n");
}

static void widen(size_t w[NR_COLS], const struct cells *c)
{
	size_t i;

	for (i = 0; i < NR_COLS; i++)
		if (strlen(c->c[i]) > w[i])
			w[i] = strlen(c->c[i]);
}

static void row(struct xp *p, const size_t w[NR_COLS], const char *const cell[NR_COLS])
{
	size_t i;

	for (i = 0; i < NR_COLS; i++)
		xp_text(p, "  %-*s", (int)w[i], cell[i]);
	xp_text(p, "\n");
}

void xlvs_fmt_health(struct xp *p, json_t *services)
{
	size_t w[NR_COLS], i, j, k;
	const char *cell[NR_COLS];
	json_t *svc, *real;
	struct cells c;

	xp_json(p, "services", json_deep_copy(services));
	for (k = 0; k < NR_COLS; k++)
		w[k] = strlen(col_head[k]);
	json_array_foreach (services, i, svc)
		json_array_foreach (json_object_get(svc, "reals"), j, real) {
			real_cells(real, &c);
			widen(w, &c);
		}
	json_array_foreach (services, i, svc) {
		svc_line(p, svc);
		if (!json_array_size(json_object_get(svc, "reals"))) {
			xp_text(p, "  (no reals)\n");
			continue;
		}
		row(p, w, col_head);
		json_array_foreach (json_object_get(svc, "reals"), j, real) {
			real_cells(real, &c);
			for (k = 0; k < NR_COLS; k++)
				cell[k] = c.c[k];
			row(p, w, cell);
		}
	}
	if (!json_array_size(services))
		xp_text(p, "no services\n");
}

/* Does the service {vip, port, protocol} match ep (port and protocol only when given)? */
static bool svc_match(json_t *svc, const struct xlvs_endpoint *ep)
{
	struct xlvs_addr a;
	int proto = xlvs_parse_proto(jstr(svc, "protocol") ?: "");

	return jstr(svc, "vip") && !xlvs_addr_parse(jstr(svc, "vip"), &a) &&
	       !memcmp(&a, &ep->addr, sizeof(a)) && (!ep->have_port || jint(svc, "port") == ep->port) &&
	       (!ep->proto || proto == ep->proto);
}

static bool real_match(json_t *real, const struct xlvs_endpoint *ep)
{
	struct xlvs_addr a;

	return jstr(real, "address") && !xlvs_addr_parse(jstr(real, "address"), &a) &&
	       !memcmp(&a, &ep->addr, sizeof(a)) && (!ep->have_port || jint(real, "port") == ep->port);
}

json_t *xlvs_health_filter(json_t *services, const struct xlvs_endpoint *svc,
			   const struct xlvs_endpoint *real)
{
	json_t *out = json_array(), *s, *r, *reals, *copy;
	size_t i, j;

	json_array_foreach (services, i, s) {
		if (!out || (svc && !svc_match(s, svc)))
			continue;
		copy = json_copy(s); /* shallow: "reals" replaced below when filtered */
		if (copy && real) {
			reals = json_array();
			json_array_foreach (json_object_get(s, "reals"), j, r)
				if (real_match(r, real))
					json_array_append(reals, r);
			if (!json_array_size(reals)) {
				json_decref(reals);
				json_decref(copy);
				continue;
			}
			json_object_set_new(copy, "reals", reals);
		}
		if (!copy || json_array_append_new(out, copy)) {
			json_decref(out);
			out = NULL;
		}
	}
	return out;
}
