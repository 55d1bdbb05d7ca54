// SPDX-License-Identifier: GPL-2.0
/*
 * `xlvs real show`: one real in detail, from the maps (forwarding, effective
 * weight, connections, counters) and from xlvsd's `health` reply
 * (configured weight, health). The daemon's JSON is type-checked field by
 * field: a daemon of another version must not crash the CLI.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "fmt.h"

#define NAMEBUF 16

static const char *jstr_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

/* Text of a daemon string: control characters become '?'. */
void xlvs_fmt_clean(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[i] = '\0';
}

/* The tunnel a TUN real gets: outer family = the real's, inner = the VIP's. */
static const char *tunnel_kind(uint8_t vip_family, uint8_t real_family)
{
	if (vip_family == XLVS_AF_INET)
		return real_family == XLVS_AF_INET ? "ipip" : "4in6";
	return real_family == XLVS_AF_INET ? "6in4" : "ip6ip6";
}

/* "  id 5  forward Tunnel (ipip)": no newline, the weights follow. */
static void forwarding(struct xp *p, const struct xlvs_real_view *v)
{
	const struct xlvs_real *r = &v->r->real;
	char nb[NAMEBUF];

	xp_u64(p, XP_TEXT, NULL, "  id %" PRIu64, v->r->id);
	xp_str(p, XP_TEXT, NULL, "  forward %s", xlvs_fwd_text(r->fwd, nb, sizeof(nb)));
	xp_str(p, XP_JSON, "forward", NULL, xlvs_fwd_name(r->fwd, nb, sizeof(nb)));
	if (r->fwd == XLVS_FWD_TUN)
		xp_str(p, XP_ANY, "tunnel", " (%s)", tunnel_kind(v->svc.addr.family, r->family));
	if (r->fwd == XLVS_FWD_GUE) {
		if (r->gue_port)
			xp_u64(p, XP_ANY, "gue_port", "  gue-port %" PRIu64, ntohs(r->gue_port));
		else
			xp_str(p, XP_ANY, "gue_port", "  gue-port %s", "global");
	}
}

/* "  weight 1  configured 2": the maps' weight, then the configured one xlvsd keeps. */
static void weights(struct xp *p, const struct xlvs_real_view *v)
{
	json_t *cw = json_object_get(v->hreal, "weight");

	if (v->r) {
		xp_bool(p, XP_JSON, "in_maps", NULL, true);
		xp_u64(p, XP_ANY, "weight", "  weight %" PRIu64, v->r->real.weight);
	} else {
		xp_bool(p, XP_JSON, "in_maps", NULL, false);
		xp_json(p, "weight", json_null());
		xp_text(p, "  not in the maps");
	}
	if (json_is_integer(cw) && json_integer_value(cw) >= 0)
		xp_u64(p, XP_ANY, "configured_weight", "  configured %" PRIu64,
		       (uint64_t)json_integer_value(cw));
	else
		xp_json(p, "configured_weight", json_null());
	xp_text(p, "\n");
}

static void conns_and_counters(struct xp *p, const struct xlvs_view *s, const struct xlvs_real_view *v)
{
	const struct xlvs_conn_counts *cc = NULL;
	const struct xlvs_counters *ctr = NULL, *out = NULL;

	if (v->r && s->conns && v->r->id < s->nr_conns)
		cc = &s->conns[v->r->id];
	if (v->r && s->real_ctr && v->r->id < s->nr_real_ctr)
		ctr = &s->real_ctr[v->r->id];
	if (ctr && s->real_out)
		out = &s->real_out[v->r->id];
	if (cc) {
		xp_u64(p, XP_ANY, "active_conns", "  active %" PRIu64, cc->active);
		xp_u64(p, XP_ANY, "inactive_conns", "  inactive %" PRIu64 "\n", cc->inactive);
	} else {
		xp_json(p, "active_conns", json_null());
		xp_json(p, "inactive_conns", json_null());
		xp_text(p, "  active -  inactive -\n");
	}
	if (v->r && xlvs_view_load(s, v->r))
		xlvs_fmt_sched_conns(p, xlvs_view_load(s, v->r), "  ");
	if (ctr) {
		xlvs_fmt_counters(p, ctr, out, xlvs_fwd_is_nat(v->r->real.fwd), "  ");
	} else {
		xp_json(p, "stats", json_null());
	}
}

/* "  checks 120  failures 3  transitions 2  up for 3m 4s": what of it the daemon gave; no line if nothing. */
static void counts_line(struct xp *p, json_t *h, bool up)
{
	static const char *const keys[] = { "checks", "failures", "transitions" };
	json_t *since = json_object_get(h, "since_s");
	bool any = false;
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(h, keys[i]);

		if (!json_is_integer(v))
			continue;
		xp_text(p, "  %s %" JSON_INTEGER_FORMAT, keys[i], json_integer_value(v));
		any = true;
	}
	if (json_is_integer(since) && json_integer_value(since) >= 0) {
		xlvs_fmt_duration(json_integer_value(since), buf, sizeof(buf));
		xp_text(p, "  %s for %s", up ? "up" : "down", buf);
		any = true;
	}
	if (any)
		xp_text(p, "\n");
}

/* The checked real's health lines. */
static void health_checked(struct xp *p, json_t *h)
{
	const char *state = jstr_or(h, "state", "?");
	const char *addr = json_string_value(json_object_get(h, "check_address"));
	json_t *port = json_object_get(h, "check_port"), *lat = json_object_get(h, "last_latency_ms");
	json_t *run = json_object_get(h, "rise_fall");
	bool up = !strcmp(state, "up");
	json_t *goal = json_object_get(h, up ? "fall" : "rise");
	char buf[512], eb[XLVS_EPSTRLEN];
	struct xlvs_addr a;

	xlvs_fmt_clean(buf, sizeof(buf), state);
	xp_text(p, "  health %s", buf);
	xlvs_fmt_clean(buf, sizeof(buf), jstr_or(h, "check", "?"));
	xp_text(p, "  check %s", buf);
	if (addr && !xlvs_addr_parse(addr, &a)) {
		if (json_is_integer(port) && json_integer_value(port) > 0 && json_integer_value(port) < 65536)
			xp_text(p, " %s",
				xlvs_ep_text(&a, (uint16_t)json_integer_value(port), eb, sizeof(eb)));
		else
			xp_text(p, " %s", xlvs_addr_text(&a, eb, sizeof(eb)));
	}
	if (json_is_integer(run) && json_is_integer(goal))
		xp_text(p, "  %s %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT, up ? "fall" : "rise",
			json_integer_value(run), json_integer_value(goal));
	xp_text(p, "\n");
	xlvs_fmt_clean(buf, sizeof(buf), jstr_or(h, "last_result", "?"));
	xp_text(p, "  last %s", buf);
	if (json_is_number(lat) && strcmp(buf, "none"))
		xp_text(p, "  latency %.1f ms", json_number_value(lat));
	if (json_string_value(json_object_get(h, "last_message")) &&
	    *json_string_value(json_object_get(h, "last_message"))) {
		xlvs_fmt_clean(buf, sizeof(buf), jstr_or(h, "last_message", ""));
		xp_text(p, "  \"%s\"", buf);
	}
	xp_text(p, "\n");
	counts_line(p, h, up);
}

static void health(struct xp *p, const struct xlvs_real_view *v)
{
	json_t *h = json_object_get(v->hreal, "health");
	const char *state = jstr_or(h, "state", NULL);
	char buf[512];

	if (v->daemon_error) {
		xlvs_fmt_clean(buf, sizeof(buf), v->daemon_error);
		xp_text(p, "  health unknown: %s\n", buf);
		xp_json(p, "health", json_null());
		xp_str(p, XP_JSON, "health_error", NULL, v->daemon_error);
		return;
	}
	if (v->sorry) {
		xp_text(p, "  health sorry (the service's sorry server, not checked)\n");
		xp_json(p, "health", json_pack("{s:s}", "state", "sorry"));
		return;
	}
	if (!json_is_object(h) || !state) {
		xp_text(p, "  health unknown: xlvsd does not know this real\n");
		xp_json(p, "health", json_null());
		return;
	}
	xp_json(p, "health", json_deep_copy(h));
	if (!strcmp(state, "unchecked")) {
		xp_text(p, "  health unchecked (no check: always up)\n");
		return;
	}
	health_checked(p, h);
}

static void one_real(struct xp *p, const struct xlvs_view *s, const struct xlvs_real_view *v)
{
	char nb[NAMEBUF], eb[XLVS_EPSTRLEN], rb[XLVS_EPSTRLEN], ab[INET6_ADDRSTRLEN];

	xp_obj_open(p, NULL);
	xp_obj_open(p, "service");
	if (v->sv)
		xp_u64(p, XP_JSON, "id", NULL, v->sv->svc.id);
	xp_str(p, XP_JSON, "protocol", NULL, xlvs_proto_name(v->svc.proto, nb, sizeof(nb)));
	xp_str(p, XP_JSON, "vip", NULL, xlvs_addr_text(&v->svc.addr, ab, sizeof(ab)));
	xp_u64(p, XP_JSON, "port", NULL, v->svc.port);
	xp_obj_close(p);
	xp_text(p, "%s %s -> %s\n", xlvs_proto_text(v->svc.proto, nb, sizeof(nb)),
		xlvs_ep_text(&v->svc.addr, v->svc.port, eb, sizeof(eb)),
		xlvs_ep_text(&v->addr, v->port, rb, sizeof(rb)));
	if (v->r)
		xp_u64(p, XP_JSON, "id", NULL, v->r->id);
	xp_str(p, XP_JSON, "address", NULL, xlvs_addr_text(&v->addr, ab, sizeof(ab)));
	xp_u64(p, XP_JSON, "port", NULL, v->port);
	if (v->r)
		forwarding(p, v);
	weights(p, v);
	if (v->r)
		xlvs_fmt_nexthop(p, &v->r->real, "  ");
	conns_and_counters(p, s, v);
	health(p, v);
	xp_obj_close(p);
}

void xlvs_fmt_real_detail(struct xp *p, const struct xlvs_view *s, const struct xlvs_real_view *v, size_t n)
{
	size_t i;

	xp_arr_open(p, "reals");
	for (i = 0; i < n; i++) {
		if (i)
			xp_text(p, "\n");
		one_real(p, s, &v[i]);
	}
	xp_arr_close(p);
}
