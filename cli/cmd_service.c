// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs service list|show (from the pinned maps, no daemon needed) and
 * xlvs service add|del (through xlvsd, which keeps the desired state).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "view.h"
#include "xlvsctl.h"

/* Read a view and print it with show(); the shared skeleton of list/show. */
static int with_view(struct xlvs_ctx *c, int what,
			 int (*show)(struct xlvs_ctx *c, struct xp *p, const struct xlvs_view *s,
				     const void *arg),
			 const void *arg)
{
	struct xlvs_view s;
	struct xlvs_maps m;
	struct xp p;
	int rc;

	rc = xlvs_cli_maps_open(c, &m);
	if (rc)
		return rc;
	rc = xlvs_view_read(c, &m, &s, what);
	if (!rc) {
		xlvs_printer(c, &p);
		rc = show(c, &p, &s, arg);
		if (!rc)
			rc = xlvs_finish(c, &p);
		else
			xp_discard(&p);
	}
	xlvs_view_free(&s);
	xlvs_maps_close(&m);
	return rc;
}

/*
 * xlvsd's health view, if a daemon answers quickly; listing works without it.
 * Only a reply where some real is checked adds the Health column.
 */
static json_t *daemon_health(struct xlvs_ctx *c)
{
	json_t *svcs, *svc, *r;
	char err[256];
	size_t i, j;
	bool checked = false;

	svcs = xlvs_ctl_health(c->sock_path, err, sizeof(err));
	json_array_foreach(svcs, i, svc)
		json_array_foreach(json_object_get(svc, "reals"), j, r)
			checked |= strcmp(json_string_value(json_object_get(json_object_get(r, "health"),
								   "state")) ?: "", "unchecked") != 0;
	if (!checked) {
		json_decref(svcs);
		return NULL;
	}
	return svcs;
}

static int show_list(struct xlvs_ctx *c, struct xp *p, const struct xlvs_view *s, const void *arg)
{
	struct xlvs_view with = *s;

	with.health = daemon_health(c);
	xlvs_fmt_services(p, &with, *(const int *)arg);
	json_decref(with.health);
	return XLVS_EXIT_OK;
}

int cmd_service_list(struct xlvs_ctx *c, int argc, char **argv)
{
	int flags = 0, what, i, rc;

	for (i = 0; i < argc; i++) {
		rc = xlvs_take_global(c, argc, argv, &i);
		if (rc < 0)
			return XLVS_EXIT_USAGE;
		if (rc > 0)
			continue;
		if (!strcmp(argv[i], "--stats") || !strcmp(argv[i], "stats"))
			flags |= XLVS_FMT_STATS;
		else
			return xlvs_unexpected(c, argv[i]);
	}
	if (c->verbose)
		flags |= XLVS_FMT_VERBOSE;
	what = XLVS_VIEW_CONNS | (flags & XLVS_FMT_STATS ? XLVS_VIEW_COUNTERS : 0);
	return with_view(c, what, show_list, &flags);
}

/* Does the map key name the service ep asks for? proto 0 matches both. */
static bool svc_matches(const struct xlvs_svc_key *k, const struct xlvs_endpoint *ep)
{
	size_t len = ep->addr.family == XLVS_AF_INET ? 4 : 16;

	return k->family == ep->addr.family && !memcmp(k->addr, ep->addr.be, len) &&
	       ntohs(k->port) == ep->port && (!ep->proto || k->proto == ep->proto);
}

static int show_detail(struct xlvs_ctx *c, struct xp *p, const struct xlvs_view *s, const void *arg)
{
	const struct xlvs_endpoint *ep = arg;
	char eb[XLVS_EPSTRLEN + 32];
	size_t *idx, i, n = 0;

	idx = calloc(s->st.nr_services + 1, sizeof(*idx));
	if (!idx)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "out of memory");
	for (i = 0; i < s->st.nr_services; i++)
		if (svc_matches(&s->st.services[i].key, ep))
			idx[n++] = i;
	if (!n) {
		free(idx);
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "no such service: %s",
				  xlvs_svc_text(ep, eb, sizeof(eb)));
	}
	xlvs_fmt_service_detail(p, s, idx, n);
	free(idx);
	return XLVS_EXIT_OK;
}

int cmd_service_show(struct xlvs_ctx *c, int argc, char **argv)
{
	struct xlvs_endpoint ep;
	bool have = false;
	int i, rc;

	for (i = 0; i < argc; i++) {
		rc = xlvs_take_global(c, argc, argv, &i);
		if (rc < 0)
			return XLVS_EXIT_USAGE;
		if (rc > 0)
			continue;
		if (have)
			return xlvs_unexpected(c, argv[i]);
		rc = xlvs_take_service(c, argc, argv, &i, &ep);
		if (rc)
			return rc;
		have = true;
	}
	if (!have)
		return xlvs_usage_error(c, "missing SERVICE (VIP[:PORT])");
	return with_view(c, XLVS_VIEW_CONNS | XLVS_VIEW_COUNTERS, show_detail, &ep);
}

/* Keyword arguments of service add; unset ones are not sent. */
static int add_keyword(struct xlvs_ctx *c, int argc, char **argv, int *i, json_t *req)
{
	const char *kw = argv[*i], *v;
	uint32_t n;
	int x;

	/* An update changes only what is given: no-echo is how echo is turned off. */
	if (!strcmp(kw, "echo") || !strcmp(kw, "no-echo")) {
		json_object_set_new(req, "echo", json_boolean(kw[0] == 'e'));
		return XLVS_EXIT_OK;
	}
	if (strcmp(kw, "scheduler") && strcmp(kw, "sched") && strcmp(kw, "forward") &&
	    strcmp(kw, "fwd") && strcmp(kw, "ring-size") && strcmp(kw, "ring"))
		return xlvs_unexpected(c, kw);
	v = xlvs_take_value(c, argc, argv, i);
	if (!v)
		return XLVS_EXIT_USAGE;
	if (kw[0] == 's') {
		x = xlvs_parse_sched(v);
		if (x < 0)
			return xlvs_usage_error(c, "unknown scheduler '%s' (%s)", v,
						"maglev, rr, wrr, lc, wlc, sed, nq, sh, dh, lblc, lblcr, mh");
		json_object_set_new(req, "scheduler", json_string(xlvs_sched_names[x]));
	} else if (kw[0] == 'f') {
		x = xlvs_parse_fwd(v);
		if (x < 0)
			return xlvs_usage_error(c, "unknown forwarding method '%s' (dr, tun, gue)", v);
		json_object_set_new(req, "forward", json_string(xlvs_fwd_names[x]));
	} else {
		if (xlvs_parse_u32(v, 2, XLVS_MAGLEV_MAX_SIZE, &n) || !xlvs_is_prime(n))
			return xlvs_usage_error(c, "ring-size '%s' is not a prime up to %u (%s)", v,
						XLVS_MAGLEV_MAX_SIZE, "e.g. 251, 65537");
		json_object_set_new(req, "ring_size", json_integer(n));
	}
	return XLVS_EXIT_OK;
}

/* service add/del: SERVICE first, then keywords (add only). */
static int service_req(struct xlvs_ctx *c, int argc, char **argv, const char *cmd, bool keywords)
{
	json_t *opts = json_object(), *req;
	struct xlvs_endpoint ep;
	bool have = false;
	int i, rc = 0;

	if (!opts)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "out of memory");
	for (i = 0; i < argc && !rc; i++) {
		int g = xlvs_take_global(c, argc, argv, &i);

		if (g) {
			rc = g < 0 ? XLVS_EXIT_USAGE : 0;
		} else if (!have) {
			rc = xlvs_take_service(c, argc, argv, &i, &ep);
			have = !rc;
		} else {
			rc = keywords ? add_keyword(c, argc, argv, &i, opts) : xlvs_unexpected(c, argv[i]);
		}
	}
	if (!rc && !have)
		rc = xlvs_usage_error(c, "missing SERVICE (VIP[:PORT])");
	if (rc) {
		json_decref(opts);
		return rc;
	}
	req = json_pack("{s:s, s:o}", "cmd", cmd, "service", xlvs_svc_json(&ep));
	if (req)
		json_object_update(req, opts);
	json_decref(opts);
	return xlvs_request_applied(c, req);
}

int cmd_service_add(struct xlvs_ctx *c, int argc, char **argv)
{
	return service_req(c, argc, argv, "service-add", true);
}

int cmd_service_del(struct xlvs_ctx *c, int argc, char **argv)
{
	return service_req(c, argc, argv, "service-del", false);
}
