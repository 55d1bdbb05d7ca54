// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs service list|show (from the pinned maps, no daemon needed) and
 * xlvs service add|del (through xlvsd, which keeps the desired state).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "schedtab.h"
#include "validate.h"
#include "cmd.h"
#include "view.h"
#include "xlvsctl.h"

/* Everything the service verbs take; -1 and 0: not given. */
struct service_args {
	struct xlvs_endpoint svc;
	int stats;		 /* list: counter columns */
	int sched, fwd, echo;	 /* add: enum xlvs_sched, enum xlvs_fwd, 0/1 */
	uint32_t ring;		 /* add: ring size */
	const char *sched_flags; /* add: "sh-fallback,sh-port" */
	uint32_t persist;	 /* add: persistence, s; UINT32_MAX: not given */
	uint32_t sched_expire;	 /* add: lblc/lblcr expiry, s; UINT32_MAX: not given */
	const char *netmask;	 /* add: "255.255.255.0" or "24" (xlvsd checks it against the VIP) */
	int flow_state;		 /* add: enum xlvs_flow_state */
	uint32_t ring_window;	 /* add: ring state's window, s; UINT32_MAX: not given */
};

/* A dotted netmask or a prefix length in shape: digits and dots only. */
static bool netmask_shaped(const void *v)
{
	const char *s = *(const char *const *)v;

	return *s && strlen(s) <= 15 && strspn(s, "0123456789.") == strlen(s);
}

/* Every comma-separated word an ipvsadm -b flag name (the daemon checks it fits the scheduler). */
static bool sched_flags_known(const void *v)
{
	char buf[128], *save = NULL, *w;
	uint8_t sched;

	if (snprintf(buf, sizeof(buf), "%s", *(const char *const *)v) >= (int)sizeof(buf))
		return false;
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save))
		if (!xlvs_sched_flag_parse(w, &sched))
			return false;
	return true;
}

static json_t *sched_flags_json(const char *text)
{
	char buf[128], *save = NULL, *w;
	json_t *arr = json_array();

	snprintf(buf, sizeof(buf), "%s", text);
	for (w = strtok_r(buf, ",", &save); arr && w; w = strtok_r(NULL, ",", &save))
		json_array_append_new(arr, json_string(w));
	return arr;
}

static int parse_flow_state(const char *word)
{
	uint8_t v;

	return xlvs_v_flow_state("flow-state", word, &v, NULL, 0) ? -1 : v;
}

static bool is_prime_value(const void *v)
{
	return xlvs_is_prime(*(const uint32_t *)v);
}

const struct xlvs_opt xlvs_opts_service_list[] = {
	{ .name = "--stats",
	  .alias = "stats",
	  .kind = XLVS_OPT_FLAG,
	  .value = 1,
	  .off = offsetof(struct service_args, stats),
	  .help = "new flows, packets and bytes instead of weights and connections" },
	{ 0 },
};

#define SERVICE_ARG                                                                                          \
	{                                                                                                    \
		.arg = XLVS_SVC_ARGS, .kind = XLVS_OPT_SERVICE, .flags = XLVS_OPT_POS | XLVS_OPT_REQUIRED,   \
		.off = offsetof(struct service_args, svc), .missing = "SERVICE (VIP[:PORT])"                 \
	}

const struct xlvs_opt xlvs_opts_service[] = { SERVICE_ARG, { 0 } };

const struct xlvs_opt xlvs_opts_service_add[] = {
	SERVICE_ARG,
	{ .name = "scheduler",
	  .alias = "sched",
	  .kind = XLVS_OPT_ENUM,
	  .arg = "NAME",
	  .off = offsetof(struct service_args, sched),
	  .parse = xlvs_parse_sched,
	  .what = "unknown scheduler",
	  .hint = "maglev, rr, wrr, lc, wlc, sed, nq, sh, dh, lblc, lblcr, mh",
	  .help = "an IPVS scheduler name (default maglev)" },
	{ .name = "scheduler-flags",
	  .alias = "flags",
	  .kind = XLVS_OPT_STRING,
	  .arg = "FLAG,...",
	  .off = offsetof(struct service_args, sched_flags),
	  .ok = sched_flags_known,
	  .what = "unknown scheduler flag",
	  .hint = "sh-fallback, sh-port, mh-fallback, mh-port, dh-fallback",
	  .help = "ipvsadm's -b flags of the scheduler (replace the service's)" },
	{ .name = "forward",
	  .alias = "fwd",
	  .kind = XLVS_OPT_ENUM,
	  .arg = "dr|tun|gue|nat|fullnat|local",
	  .off = offsetof(struct service_args, fwd),
	  .parse = xlvs_parse_fwd,
	  .what = "unknown forwarding method",
	  .hint = "dr, tun, gue, nat (masq), fullnat, local",
	  .help = "the reals' forwarding method unless a real says otherwise" },
	{ .name = "ring-size",
	  .alias = "ring",
	  .kind = XLVS_OPT_U32,
	  .arg = "N",
	  .min = 2,
	  .max = XLVS_MAGLEV_MAX_SIZE,
	  .ok = is_prime_value,
	  .off = offsetof(struct service_args, ring),
	  .hint = "a prime up to 16777216, e.g. 251, 65537",
	  .help = "Maglev ring size (default 65537)" },
	{ .name = "echo",
	  .kind = XLVS_OPT_FLAG,
	  .value = 1,
	  .off = offsetof(struct service_args, echo),
	  .help = "the VIP answers ICMP echo requests, or stops answering" },
	{ .name = "no-echo", .kind = XLVS_OPT_FLAG, .value = 0, .off = offsetof(struct service_args, echo) },
	{ .name = "persistent",
	  .alias = "persistence",
	  .kind = XLVS_OPT_U32,
	  .arg = "SECS",
	  .max = XLVS_TIMEOUT_MAX_S,
	  .off = offsetof(struct service_args, persist),
	  .hint = "seconds, 0 (off) to 604800",
	  .help = "ipvsadm -p: a client keeps its real for new connections this long (0: off)" },
	{ .name = "scheduler-expire",
	  .kind = XLVS_OPT_U32,
	  .arg = "SECS",
	  .max = XLVS_TIMEOUT_MAX_S,
	  .off = offsetof(struct service_args, sched_expire),
	  .hint = "seconds, 0 (24 h) to 604800",
	  .help = "lblc, lblcr: how long an idle destination keeps its reals (0: 24 h)" },
	{ .name = "netmask",
	  .kind = XLVS_OPT_STRING,
	  .arg = "MASK",
	  .off = offsetof(struct service_args, netmask),
	  .ok = netmask_shaped,
	  .what = "invalid netmask",
	  .hint = "e.g. 255.255.255.0, 24; IPv6: 1-128",
	  .help = "ipvsadm -M: clients within this prefix share one real (default: each address)" },
	{ .name = "flow-state",
	  .kind = XLVS_OPT_ENUM,
	  .arg = "auto|ring|table",
	  .off = offsetof(struct service_args, flow_state),
	  .parse = parse_flow_state,
	  .what = "unknown flow state",
	  .hint = "auto, ring, table",
	  .help = "ring (maglev, mh): entries only for flows on changed ring slots; table: for every "
		  "flow (default auto)" },
	{ .name = "ring-window",
	  .kind = XLVS_OPT_U32,
	  .arg = "SECS",
	  .max = XLVS_TIMEOUT_MAX_S,
	  .off = offsetof(struct service_args, ring_window),
	  .hint = "seconds, 0 (the tcp timeout) to 604800",
	  .help = "ring state: how long a changed slot remembers its previous owner (0: the tcp timeout)" },
	{ 0 },
};

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
 * xlvsd's health view; listing works without a daemon. Only a reply where
 * some real is checked adds the Health column. A daemon that runs but whose
 * reply cannot be had (too large, truncated, no answer) is an error: *rc.
 */
static json_t *daemon_health(struct xlvs_ctx *c, int *rc)
{
	json_t *svcs, *svc, *r;
	char err[256];
	size_t i, j;
	bool checked = false;

	svcs = xlvs_ctl_health(c->sock_path, c->timeout_ms, rc, err, sizeof(err));
	if (*rc)
		xlvs_error(c, *rc, "no Health column: %s", err);
	json_array_foreach (svcs, i, svc)
		json_array_foreach (json_object_get(svc, "reals"), j, r)
			checked |= strcmp(json_string_value(
						  json_object_get(json_object_get(r, "health"), "state"))
						  ?: "",
					  "unchecked") != 0;
	if (!checked) {
		json_decref(svcs);
		return NULL;
	}
	return svcs;
}

static int show_list(struct xlvs_ctx *c, struct xp *p, const struct xlvs_view *s, const void *arg)
{
	struct xlvs_view with = *s;
	int rc;

	with.health = daemon_health(c, &rc);
	xlvs_fmt_services(p, &with, *(const int *)arg);
	json_decref(with.health);
	return rc;
}

int cmd_service_list(struct xlvs_ctx *c, int argc, char **argv)
{
	struct service_args a = { 0 };
	int flags, what, rc;

	rc = xlvs_parse_opts(c, xlvs_opts_service_list, argc, argv, &a);
	if (rc)
		return rc;
	flags = (a.stats ? XLVS_FMT_STATS : 0) | (c->verbose ? XLVS_FMT_VERBOSE : 0);
	what = XLVS_VIEW_CONNS | (a.stats ? XLVS_VIEW_COUNTERS : 0);
	return with_view(c, what, show_list, &flags);
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
		if (xlvs_svc_matches(&s->st.services[i].key, ep))
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
	struct service_args a = { 0 };
	int rc;

	rc = xlvs_parse_opts(c, xlvs_opts_service, argc, argv, &a);
	if (rc)
		return rc;
	return with_view(c, XLVS_VIEW_CONNS | XLVS_VIEW_COUNTERS | XLVS_VIEW_RING | XLVS_VIEW_LOAD,
			 show_detail, &a.svc);
}

/* service add/del; add sends only the options given: an update changes just those. */
static int service_req(struct xlvs_ctx *c, int argc, char **argv, const char *cmd,
		       const struct xlvs_opt *opts)
{
	struct service_args a = {
		.sched = -1,
		.fwd = -1,
		.echo = -1,
		.persist = UINT32_MAX,
		.sched_expire = UINT32_MAX,
		.flow_state = -1,
		.ring_window = UINT32_MAX,
	};
	json_t *req;
	int rc;

	rc = xlvs_parse_opts(c, opts, argc, argv, &a);
	if (rc)
		return rc;
	req = json_pack("{s:s, s:o}", "cmd", cmd, "service", xlvs_svc_json(&a.svc));
	if (req && a.sched >= 0)
		json_object_set_new(req, "scheduler", json_string(xlvs_sched_names[a.sched]));
	if (req && a.sched_flags)
		json_object_set_new(req, "scheduler_flags", sched_flags_json(a.sched_flags));
	if (req && a.fwd >= 0)
		json_object_set_new(req, "forward", json_string(xlvs_fwd_names[a.fwd]));
	if (req && a.ring)
		json_object_set_new(req, "ring_size", json_integer(a.ring));
	if (req && a.echo >= 0)
		json_object_set_new(req, "echo", json_boolean(a.echo));
	if (req && a.persist != UINT32_MAX)
		json_object_set_new(req, "persistence", json_integer(a.persist));
	if (req && a.netmask)
		json_object_set_new(req, "persistence_netmask", json_string(a.netmask));
	if (req && a.sched_expire != UINT32_MAX)
		json_object_set_new(req, "scheduler_expire", json_integer(a.sched_expire));
	if (req && a.flow_state >= 0)
		json_object_set_new(req, "flow_state", json_string(xlvs_v_flow_states[a.flow_state]));
	if (req && a.ring_window != UINT32_MAX)
		json_object_set_new(req, "ring_window", json_integer(a.ring_window));
	return xlvs_request_change(c, req, &a.svc);
}

int cmd_service_add(struct xlvs_ctx *c, int argc, char **argv)
{
	return service_req(c, argc, argv, "service-add", xlvs_opts_service_add);
}

int cmd_service_del(struct xlvs_ctx *c, int argc, char **argv)
{
	return service_req(c, argc, argv, "service-del", xlvs_opts_service);
}
