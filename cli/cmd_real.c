// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs real add|del|set-weight|drain: requests to xlvsd; drain --wait then
 * watches the real's connections in the pinned maps. xlvs real show: one
 * real from the maps and xlvsd's health view.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "view.h"
#include "xlvsctl.h"

enum real_verb {
	REAL_ADD,
	REAL_DEL,
	REAL_WEIGHT,
	REAL_DRAIN
};

#define UNSET UINT32_MAX /* above every weight: not given */

/* Everything the real verbs take. */
struct real_args {
	struct xlvs_endpoint svc, real;
	uint32_t weight;    /* UNSET: not given */
	uint32_t gue_port;  /* 0: not given */
	int fwd;	    /* enum xlvs_fwd; -1: not given */
	int wait;	    /* drain: until no active connection is left */
	uint32_t timeout_s; /* drain --wait: 0 = none */
};

#define SERVICE_ARG                                                                                          \
	{                                                                                                    \
		.arg = "SERVICE", .kind = XLVS_OPT_SERVICE, .flags = XLVS_OPT_POS | XLVS_OPT_REQUIRED,       \
		.off = offsetof(struct real_args, svc), .missing = "SERVICE (VIP[:PORT])"                    \
	}
#define REAL_ARG                                                                                             \
	{                                                                                                    \
		.arg = "REAL[:PORT]", .kind = XLVS_OPT_REAL, .flags = XLVS_OPT_POS | XLVS_OPT_REQUIRED,      \
		.off = offsetof(struct real_args, real), .missing = "REAL (real server address)"             \
	}

const struct xlvs_opt xlvs_opts_real[] = { SERVICE_ARG, REAL_ARG, { 0 } };

const struct xlvs_opt xlvs_opts_real_add[] = {
	SERVICE_ARG,
	REAL_ARG,
	{ .name = "weight",
	  .kind = XLVS_OPT_U32,
	  .arg = "N",
	  .max = XLVS_MAGLEV_MAX_WEIGHT,
	  .off = offsetof(struct real_args, weight),
	  .help = "0-65535 (default 1)" },
	{ .name = "forward",
	  .alias = "fwd",
	  .kind = XLVS_OPT_ENUM,
	  .arg = "dr|tun|gue|nat|fullnat|local",
	  .off = offsetof(struct real_args, fwd),
	  .parse = xlvs_parse_fwd,
	  .what = "unknown forwarding method",
	  .hint = "dr, tun, gue, nat (masq), fullnat, local",
	  .help = "this real's forwarding method (default: the service's)" },
	{ .name = "gue-port",
	  .kind = XLVS_OPT_U32,
	  .arg = "N",
	  .min = 1,
	  .max = 65535,
	  .off = offsetof(struct real_args, gue_port),
	  .help = "the real's GUE destination port (default: the director's)" },
	{ 0 },
};

/* The weight as a bare N, or after the word "weight". */
const struct xlvs_opt xlvs_opts_real_weight[] = {
	SERVICE_ARG,
	REAL_ARG,
	{ .alias = "weight",
	  .kind = XLVS_OPT_U32,
	  .flags = XLVS_OPT_POS | XLVS_OPT_REQUIRED,
	  .arg = "N",
	  .max = XLVS_MAGLEV_MAX_WEIGHT,
	  .off = offsetof(struct real_args, weight),
	  .missing = "the weight (0-65535)" },
	{ 0 },
};

const struct xlvs_opt xlvs_opts_real_drain[] = {
	SERVICE_ARG,
	REAL_ARG,
	{ .name = "--wait",
	  .alias = "wait",
	  .kind = XLVS_OPT_FLAG,
	  .value = 1,
	  .off = offsetof(struct real_args, wait),
	  .help = "print the real's connections each second until no active one is left" },
	{ .name = "--timeout",
	  .alias = "timeout",
	  .kind = XLVS_OPT_U32,
	  .arg = "SECS",
	  .min = 1,
	  .max = 7 * 86400,
	  .hint = "1-604800 seconds",
	  .needs = "--wait",
	  .off = offsetof(struct real_args, timeout_s),
	  .help = "give up waiting after SECS seconds (exit 5)" },
	{ 0 },
};

static const struct xlvs_real_state *real_in(const struct xlvs_svc_state *sv, const struct xlvs_addr *a)
{
	size_t len = a->family == XLVS_AF_INET ? 4 : 16, j;

	for (j = 0; j < sv->nr_reals && sv->reals; j++)
		if (sv->reals[j].real.family == a->family && !memcmp(sv->reals[j].real.addr, a->be, len))
			return &sv->reals[j];
	return NULL;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_until_ms(uint64_t t)
{
	uint64_t now = mono_ms();
	struct timespec ts;

	if (t <= now)
		return;
	ts.tv_sec = (time_t)((t - now) / 1000);
	ts.tv_nsec = (long)((t - now) % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One sample of the drained real's connections; 1 while active ones remain, 0 drained, <0 error code. */
static int drain_sample(struct xlvs_ctx *c, struct xlvs_maps *m, const struct xlvs_endpoint *svc,
			const struct xlvs_endpoint *real, uint64_t elapsed_ms)
{
	char eb[XLVS_EPSTRLEN + 32], ab[INET6_ADDRSTRLEN];
	const struct xlvs_real_state *r = NULL;
	struct xlvs_view s;
	struct xp p;
	size_t i;
	int rc;

	rc = xlvs_view_read(c, m, &s, XLVS_VIEW_CONNS);
	if (rc)
		return -rc;
	for (i = 0; i < s.st.nr_services && !r; i++)
		if (xlvs_svc_matches(&s.st.services[i].key, svc))
			r = real_in(&s.st.services[i], &real->addr);
	if (!r || !s.conns || r->id >= s.nr_conns) {
		xlvs_view_free(&s);
		if (!r)
			return -xlvs_error(c, XLVS_EXIT_RUNTIME, "%s is no longer in the maps of %s",
					   xlvs_addr_text(&real->addr, ab, sizeof(ab)),
					   xlvs_svc_text(svc, eb, sizeof(eb)));
		return -xlvs_error(c, XLVS_EXIT_RUNTIME, "cannot count the connections of %s",
				   xlvs_addr_text(&real->addr, ab, sizeof(ab)));
	}
	xlvs_printer(c, &p);
	xp_str(&p, XP_JSON, "real", NULL, xlvs_addr_text(&real->addr, ab, sizeof(ab)));
	xp_u64(&p, XP_ANY, "elapsed_s", "%" PRIu64 "s", elapsed_ms / 1000);
	xp_u64(&p, XP_ANY, "active_conns", "  active %" PRIu64, s.conns[r->id].active);
	xp_u64(&p, XP_ANY, "inactive_conns", "  inactive %" PRIu64 "\n", s.conns[r->id].inactive);
	rc = s.conns[r->id].active ? 1 : 0;
	xlvs_view_free(&s);
	if (xlvs_finish(c, &p))
		return -XLVS_EXIT_RUNTIME;
	fflush(c->out);
	return rc;
}

/*
 * After the daemon set the weight to 0: the real's active connections, once
 * a second, until none is left (0) or timeout_s passes (XLVS_EXIT_TIMEOUT).
 */
static int drain_wait(struct xlvs_ctx *c, const struct xlvs_endpoint *svc, const struct xlvs_endpoint *real,
		      uint32_t timeout_s)
{
	char ab[INET6_ADDRSTRLEN];
	uint64_t t0 = mono_ms(), tick;
	struct xlvs_maps m;
	int rc;

	rc = xlvs_cli_maps_open(c, &m);
	if (rc)
		return rc;
	for (tick = 0;; tick++) {
		rc = drain_sample(c, &m, svc, real, mono_ms() - t0);
		if (rc <= 0)
			break;
		if (timeout_s && mono_ms() - t0 >= (uint64_t)timeout_s * 1000) {
			rc = -xlvs_error(c, XLVS_EXIT_TIMEOUT,
					 "%s still has active connections after %u s (--timeout)",
					 xlvs_addr_text(&real->addr, ab, sizeof(ab)), timeout_s);
			break;
		}
		sleep_until_ms(t0 + (tick + 1) * 1000);
	}
	xlvs_maps_close(&m);
	return -rc;
}

/* ---- real show ------------------------------------------------------------ */

/* The daemon's service named like svc (its protocol given), or NULL. */
static json_t *daemon_svc(json_t *svcs, const struct xlvs_addr *vip, uint16_t port, uint8_t proto)
{
	char ab[INET6_ADDRSTRLEN];
	const char *want = xlvs_svc_proto_name(proto);
	json_t *sv;
	size_t i;

	xlvs_addr_text(vip, ab, sizeof(ab));
	json_array_foreach (svcs, i, sv)
		if (!strcmp(json_string_value(json_object_get(sv, "vip")) ?: "", ab) &&
		    json_integer_value(json_object_get(sv, "port")) == port &&
		    !strcmp(json_string_value(json_object_get(sv, "protocol")) ?: "", want))
			return sv;
	return NULL;
}

/* The real in the daemon's service; a given port must be the real's (or the service's). */
static json_t *daemon_real(json_t *dsv, const struct xlvs_endpoint *real, uint16_t svc_port, bool *sorry)
{
	char ab[INET6_ADDRSTRLEN];
	json_t *r, *so;
	size_t i;

	*sorry = false;
	if (!dsv)
		return NULL;
	xlvs_addr_text(&real->addr, ab, sizeof(ab));
	json_array_foreach (json_object_get(dsv, "reals"), i, r) {
		json_int_t p = json_integer_value(json_object_get(r, "port"));

		if (strcmp(json_string_value(json_object_get(r, "address")) ?: "", ab))
			continue;
		if (!real->have_port || p == real->port || (!p && real->port == svc_port))
			return r;
	}
	so = json_object_get(dsv, "sorry");
	*sorry = !strcmp(json_string_value(json_object_get(so, "address")) ?: "", ab);
	return NULL;
}

static bool parse_proto(const char *s, uint8_t *proto)
{
	if (!s)
		return false;
	*proto = !strcmp(s, "udp") ? IPPROTO_UDP : IPPROTO_TCP;
	return !strcmp(s, "udp") || !strcmp(s, "tcp");
}

#define MAX_VIEWS 4

static void add_view(struct xlvs_real_view *v, size_t *n, const struct xlvs_endpoint *real,
		     const struct xlvs_addr *vip, uint16_t port, uint8_t proto,
		     const struct xlvs_svc_state *sv, const struct xlvs_real_state *r, json_t *hreal,
		     bool sorry, const char *derr)
{
	if (*n >= MAX_VIEWS)
		return;
	v[*n] = (struct xlvs_real_view){
		.svc = { .addr = *vip, .port = port, .proto = proto, .have_port = true },
		.addr = real->addr,
		.port = port,
		.sv = sv,
		.r = r,
		.hreal = hreal,
		.sorry = sorry,
		.daemon_error = derr,
	};
	++*n;
}

/*
 * Views of the real in every service that matches: those in the maps, then
 * those only xlvsd knows (withdrawn service, real removed while down).
 * Returns 0, or 1 if no service matched at all.
 */
static int collect_views(const struct xlvs_view *s, json_t *hsvcs, const char *derr,
			 const struct xlvs_endpoint *ep, const struct xlvs_endpoint *real,
			 struct xlvs_real_view *v, size_t *n)
{
	bool any_svc = false, sorry;
	struct xlvs_addr vip;
	json_t *dsv, *hr;
	uint8_t proto;
	size_t i;

	*n = 0;
	for (i = 0; i < s->st.nr_services; i++) {
		const struct xlvs_svc_state *sv = &s->st.services[i];
		const struct xlvs_real_state *r;

		if (!xlvs_svc_matches(&sv->key, ep))
			continue;
		any_svc = true;
		r = real_in(sv, &real->addr);
		dsv = daemon_svc(hsvcs, &ep->addr, ep->port, sv->key.proto);
		hr = daemon_real(dsv, real, ep->port, &sorry);
		if (r && real->have_port && dsv && !hr && !sorry)
			r = NULL; /* xlvsd knows it, on another port */
		if (r || hr)
			add_view(v, n, real, &ep->addr, ep->port, sv->key.proto, sv, r, hr, sorry, derr);
	}
	json_array_foreach (hsvcs, i, dsv) {
		bool in_maps = false;
		size_t k;

		if (!parse_proto(json_string_value(json_object_get(dsv, "protocol")), &proto) ||
		    (ep->proto && proto != ep->proto) ||
		    json_integer_value(json_object_get(dsv, "port")) != ep->port ||
		    xlvs_addr_parse(json_string_value(json_object_get(dsv, "vip")) ?: "", &vip) ||
		    memcmp(&vip, &ep->addr, sizeof(vip)))
			continue;
		any_svc = true;
		for (k = 0; k < s->st.nr_services; k++)
			in_maps |= xlvs_svc_matches(&s->st.services[k].key,
						    &(struct xlvs_endpoint){
							    .addr = vip, .port = ep->port, .proto = proto });
		hr = daemon_real(dsv, real, ep->port, &sorry);
		if (!in_maps && hr)
			add_view(v, n, real, &vip, ep->port, proto, NULL, NULL, hr, false, derr);
	}
	return any_svc ? 0 : 1;
}

/* Print the views of the real, or say which of service and real is not there. */
static int show_views(struct xlvs_ctx *c, const struct xlvs_view *s, json_t *hsvcs, const char *derr,
		      const struct real_args *a)
{
	char eb[XLVS_EPSTRLEN + 32], rb[XLVS_EPSTRLEN];
	struct xlvs_real_view views[MAX_VIEWS];
	struct xp p;
	size_t n;

	if (collect_views(s, hsvcs, hsvcs ? NULL : derr, &a->svc, &a->real, views, &n))
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "no such service: %s",
				  xlvs_svc_text(&a->svc, eb, sizeof(eb)));
	if (!n)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "no real %s in %s",
				  a->real.have_port
					  ? xlvs_ep_text(&a->real.addr, a->real.port, rb, sizeof(rb))
					  : xlvs_addr_text(&a->real.addr, rb, sizeof(rb)),
				  xlvs_svc_text(&a->svc, eb, sizeof(eb)));
	xlvs_printer(c, &p);
	xlvs_fmt_real_detail(&p, s, views, n);
	return xlvs_finish(c, &p);
}

int cmd_real_show(struct xlvs_ctx *c, int argc, char **argv)
{
	struct real_args a = { 0 };
	char derr[256] = "";
	struct xlvs_view s;
	struct xlvs_maps m;
	json_t *hsvcs;
	int rc, hrc;

	rc = xlvs_parse_opts(c, xlvs_opts_real, argc, argv, &a);
	if (rc)
		return rc;
	rc = xlvs_cli_maps_open(c, &m);
	if (rc)
		return rc;
	rc = xlvs_view_read(c, &m, &s, XLVS_VIEW_CONNS | XLVS_VIEW_COUNTERS | XLVS_VIEW_LOAD);
	xlvs_maps_close(&m);
	if (rc)
		return rc;
	hsvcs = xlvs_ctl_health(c->sock_path, c->timeout_ms, &hrc, derr, sizeof(derr));
	rc = show_views(c, &s, hsvcs, derr, &a);
	if (!rc && hrc)
		rc = xlvs_error(c, hrc, "no health: %s", derr);
	json_decref(hsvcs);
	xlvs_view_free(&s);
	return rc;
}

/* The request's options beyond service and real; unset ones are not sent. */
static void real_fields(json_t *req, const struct real_args *a, enum real_verb verb)
{
	if (a->weight != UNSET)
		json_object_set_new(req, "weight", json_integer(a->weight));
	if (verb == REAL_DRAIN)
		json_object_set_new(req, "weight", json_integer(0));
	if (a->fwd >= 0)
		json_object_set_new(req, "forward", json_string(xlvs_fwd_names[a->fwd]));
	if (a->gue_port)
		json_object_set_new(req, "gue_port", json_integer(a->gue_port));
}

static int real_req(struct xlvs_ctx *c, int argc, char **argv, enum real_verb verb)
{
	static const char *const cmds[] = {
		[REAL_ADD] = "real-add",
		[REAL_DEL] = "real-del",
		[REAL_WEIGHT] = "real-set-weight",
		[REAL_DRAIN] = "real-set-weight",
	};
	static const struct xlvs_opt *const opts[] = {
		[REAL_ADD] = xlvs_opts_real_add,
		[REAL_DEL] = xlvs_opts_real,
		[REAL_WEIGHT] = xlvs_opts_real_weight,
		[REAL_DRAIN] = xlvs_opts_real_drain,
	};
	struct real_args a = { .weight = UNSET, .fwd = -1 };
	json_t *req;
	int rc;

	rc = xlvs_parse_opts(c, opts[verb], argc, argv, &a);
	if (rc)
		return rc;
	req = json_pack("{s:s, s:o, s:o}", "cmd", cmds[verb], "service", xlvs_svc_json(&a.svc), "real",
			xlvs_real_json(&a.real));
	if (req)
		real_fields(req, &a, verb);
	rc = xlvs_request_change(c, req, &a.svc);
	if (rc || !a.wait)
		return rc;
	if (!a.svc.proto)
		a.svc.proto = IPPROTO_TCP; /* as the request said */
	return drain_wait(c, &a.svc, &a.real, a.timeout_s);
}

int cmd_real_add(struct xlvs_ctx *c, int argc, char **argv)
{
	return real_req(c, argc, argv, REAL_ADD);
}

int cmd_real_del(struct xlvs_ctx *c, int argc, char **argv)
{
	return real_req(c, argc, argv, REAL_DEL);
}

int cmd_real_set_weight(struct xlvs_ctx *c, int argc, char **argv)
{
	return real_req(c, argc, argv, REAL_WEIGHT);
}

int cmd_real_drain(struct xlvs_ctx *c, int argc, char **argv)
{
	return real_req(c, argc, argv, REAL_DRAIN);
}
