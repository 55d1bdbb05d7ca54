// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs stats [-w SECS]: counters once, or redrawn every SECS with rates
 * until Ctrl-C. In JSON, watch mode writes one compact object per line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "view.h"

#define VIEW_STATS (XLVS_VIEW_COUNTERS | XLVS_VIEW_DROPS | XLVS_VIEW_TABLE)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Sleep secs unless a signal asks to stop first. */
static void nap(double secs)
{
	struct timespec ts = { .tv_sec = (time_t)secs,
			       .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9) };

	while (!stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

struct watch {
	double secs;
	uint32_t count; /* frames to print; 0 = until Ctrl-C */
	bool tty;
	int zero;			/* --zero: reset counters instead of printing them */
	struct xlvs_endpoint svc, real; /* --zero: only these (family 0: not given) */
};

static int frame(struct xlvs_ctx *c, const struct watch *w, const struct xlvs_view *cur,
		 const struct xlvs_view *prev, int flags, bool first)
{
	struct timespec now;
	struct xp p;

	clock_gettime(CLOCK_REALTIME, &now);
	/* One object per line, whatever -p says: consumers read line by line. */
	xp_init(&p, c->out, c->json, false);
	xp_begin(&p);
	if (w->tty)
		xp_text(&p, "\033[H\033[2J");
	else if (!first)
		xp_text(&p, "\n");
	xp_text(&p, "Every %gs: xlvs stats (Ctrl-C stops)\n\n", w->secs);
	xp_dbl(&p, XP_JSON, "timestamp", NULL, (double)now.tv_sec + now.tv_nsec / 1e9);
	xlvs_fmt_stats(&p, cur, prev, flags | XLVS_FMT_RATES);
	return xlvs_finish(c, &p);
}

static int watch_loop(struct xlvs_ctx *c, struct xlvs_maps *m, const struct watch *w, int flags)
{
	struct xlvs_view s[2];
	int rc, cur = 0;
	uint32_t n = 0;

	rc = xlvs_view_read(c, m, &s[0], VIEW_STATS);
	while (!rc && !stop && (!w->count || n < w->count)) {
		nap(w->secs);
		if (stop)
			break;
		rc = xlvs_view_read(c, m, &s[!cur], VIEW_STATS);
		if (rc) {
			xlvs_view_free(&s[!cur]);
			break;
		}
		cur = !cur;
		rc = frame(c, w, &s[cur], &s[!cur], flags, n == 0);
		xlvs_view_free(&s[!cur]);
		n++;
	}
	xlvs_view_free(&s[cur]);
	return rc;
}

static int run_watch(struct xlvs_ctx *c, struct xlvs_maps *m, struct watch *w, int flags)
{
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	int rc;

	/* No SA_RESTART: the signal must cut the sleep short. */
	stop = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	w->tty = !c->json && isatty(fileno(c->out));
	rc = watch_loop(c, m, w, flags);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}

static int run_once(struct xlvs_ctx *c, struct xlvs_maps *m, int flags)
{
	struct xlvs_view s;
	struct xp p;
	int rc;

	rc = xlvs_view_read(c, m, &s, VIEW_STATS);
	if (!rc) {
		xlvs_printer(c, &p);
		xlvs_fmt_stats(&p, &s, NULL, flags);
		rc = xlvs_finish(c, &p);
	}
	xlvs_view_free(&s);
	return rc;
}

/* ---- --zero ---- */

struct zeroed {
	uint32_t services, reals;
};

/* The reals of sv (only real, if given): counters zeroed. */
static int zero_reals(struct xlvs_maps *m, const struct xlvs_svc_state *sv, const struct xlvs_endpoint *real,
		      struct zeroed *z)
{
	size_t len = real->addr.family == XLVS_AF_INET ? 4 : 16, j;
	int err = 0;

	for (j = 0; j < sv->nr_reals && !err; j++) {
		const struct xlvs_real *r = &sv->reals[j].real;

		if (real->addr.family &&
		    (r->family != real->addr.family || memcmp(r->addr, real->addr.be, len)))
			continue;
		err = xlvs_real_counters_zero(m, sv->reals[j].id);
		z->reals += !err;
	}
	return err;
}

/* What is zeroed: every service and real and the drop and event counters; or svc's (and its reals');
 * or real's in svc. */
static int zero_counters(struct xlvs_ctx *c, struct xlvs_maps *m, const struct xlvs_state *st,
			 const struct xlvs_endpoint *svc, const struct xlvs_endpoint *real, struct zeroed *z)
{
	char eb[XLVS_EPSTRLEN + 32], rb[INET6_ADDRSTRLEN];
	bool any = false;
	size_t i;
	int err = 0;

	for (i = 0; i < st->nr_services && !err; i++) {
		const struct xlvs_svc_state *sv = &st->services[i];

		if (svc->addr.family && !xlvs_svc_matches(&sv->key, svc))
			continue;
		any = true;
		if (!real->addr.family) {
			err = xlvs_svc_counters_zero(m, sv->svc.id);
			z->services += !err;
		}
		if (!err)
			err = zero_reals(m, sv, real, z);
	}
	if (!err && !svc->addr.family)
		err = xlvs_drop_event_counters_zero(m);
	if (err)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "zeroing the counters failed: %s", strerror(-err));
	if (svc->addr.family && !any)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "no such service: %s",
				  xlvs_svc_text(svc, eb, sizeof(eb)));
	if (real->addr.family && !z->reals)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "no real %s in %s",
				  xlvs_addr_text(&real->addr, rb, sizeof(rb)),
				  xlvs_svc_text(svc, eb, sizeof(eb)));
	return XLVS_EXIT_OK;
}

static int run_zero(struct xlvs_ctx *c, struct xlvs_maps *m, const struct xlvs_endpoint *svc,
		    const struct xlvs_endpoint *real)
{
	struct zeroed z = { 0 };
	struct xlvs_state st;
	struct xp p;
	int rc;

	rc = xlvs_state_read(m, &st);
	if (rc)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "cannot read the maps: %s", strerror(-rc));
	rc = zero_counters(c, m, &st, svc, real, &z);
	xlvs_state_free(&st);
	if (rc)
		return rc;
	xlvs_printer(c, &p);
	xp_obj_open(&p, "zeroed");
	xp_u64(&p, XP_ANY, "services", "zeroed: services %" PRIu64, z.services);
	xp_u64(&p, XP_ANY, "reals", ", reals %" PRIu64, z.reals);
	xp_bool(&p, XP_JSON, "drops_and_events", NULL, !svc->addr.family);
	xp_text(&p, "%s\n", svc->addr.family ? "" : ", drop and event counters");
	xp_obj_close(&p);
	return xlvs_finish(c, &p);
}

const struct xlvs_opt xlvs_opts_stats[] = {
	{ .name = "-w|--watch",
	  .kind = XLVS_OPT_SECS,
	  .arg = "SECS",
	  .off = offsetof(struct watch, secs),
	  .what = "invalid interval",
	  .hint = "seconds, e.g. 1 or 0.5",
	  .help = "redraw every SECS seconds with rates, until Ctrl-C" },
	{ .name = "--count",
	  .alias = "-c",
	  .kind = XLVS_OPT_U32,
	  .arg = "N",
	  .min = 1,
	  .max = UINT32_MAX,
	  .needs = "--watch",
	  .off = offsetof(struct watch, count),
	  .help = "stop after N tables" },
	{ .name = "-Z|--zero",
	  .kind = XLVS_OPT_FLAG,
	  .value = 1,
	  .off = offsetof(struct watch, zero),
	  .help = "zero the counters (ipvsadm -Z): all, or SERVICE's and its reals', or REAL's" },
	{ .arg = "SERVICE",
	  .kind = XLVS_OPT_SERVICE,
	  .flags = XLVS_OPT_POS,
	  .needs = "--zero",
	  .off = offsetof(struct watch, svc) },
	{ .arg = "REAL",
	  .kind = XLVS_OPT_REAL,
	  .flags = XLVS_OPT_POS,
	  .needs = "--zero",
	  .off = offsetof(struct watch, real) },
	{ .name = "-v|--verbose",
	  .kind = XLVS_OPT_GLOBAL,
	  .help = "drop reasons and events whose counter is zero too" },
	{ 0 },
};

int cmd_stats(struct xlvs_ctx *c, int argc, char **argv)
{
	struct watch w = { 0 };
	struct xlvs_maps m;
	int rc, flags;

	rc = xlvs_parse_opts(c, xlvs_opts_stats, argc, argv, &w);
	if (rc)
		return rc;
	if (w.zero && w.secs)
		return xlvs_usage_error(c, "--zero and --watch do not go together");
	flags = c->verbose ? XLVS_FMT_VERBOSE : 0;
	rc = xlvs_cli_maps_open(c, &m);
	if (rc)
		return rc;
	if (w.zero)
		rc = run_zero(c, &m, &w.svc, &w.real);
	else
		rc = w.secs ? run_watch(c, &m, &w, flags) : run_once(c, &m, flags);
	xlvs_maps_close(&m);
	return rc;
}
