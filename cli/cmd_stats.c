// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs stats [-w SECS]: counters once, or redrawn every SECS with rates
 * until Ctrl-C. In JSON, watch mode writes one compact object per line.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "view.h"

#define VIEW_STATS	(XLVS_VIEW_COUNTERS | XLVS_VIEW_DROPS)

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
	uint32_t count;			/* frames to print; 0 = until Ctrl-C */
	bool tty;
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

static int stats_opt(struct xlvs_ctx *c, int argc, char **argv, int *i, struct watch *w)
{
	const char *a = argv[*i], *v = NULL;
	bool watch = a[1] == 'w' || !strncmp(a, "--watch", 7);	/* else --count / -c */

	if (!strcmp(a, "-w") || !strcmp(a, "--watch") || !strcmp(a, "--count") || !strcmp(a, "-c"))
		v = xlvs_take_value(c, argc, argv, i);
	else if (!strncmp(a, "--watch=", 8) || !strncmp(a, "--count=", 8))
		v = a + 8;
	else if (!strncmp(a, "-w", 2) || !strncmp(a, "-c", 2))
		v = a + 2;
	else
		return xlvs_unexpected(c, a);
	if (!v)
		return XLVS_EXIT_USAGE;
	if (watch) {
		if (xlvs_parse_secs(v, &w->secs))
			return xlvs_usage_error(c, "invalid interval '%s' (seconds, e.g. 1 or 0.5)", v);
	} else if (xlvs_parse_u32(v, 1, UINT32_MAX, &w->count)) {
		return xlvs_usage_error(c, "invalid count '%s' (1 or more)", v);
	}
	return XLVS_EXIT_OK;
}

int cmd_stats(struct xlvs_ctx *c, int argc, char **argv)
{
	struct watch w = { 0 };
	struct xlvs_maps m;
	int i, rc, flags;

	for (i = 0; i < argc; i++) {
		rc = xlvs_take_global(c, argc, argv, &i);
		if (rc < 0)
			return XLVS_EXIT_USAGE;
		if (rc == 0 && (rc = stats_opt(c, argc, argv, &i, &w)))
			return rc;
	}
	if (w.count && !w.secs)
		return xlvs_usage_error(c, "--count needs --watch SECS");
	flags = c->verbose ? XLVS_FMT_VERBOSE : 0;
	rc = xlvs_cli_maps_open(c, &m);
	if (rc)
		return rc;
	rc = w.secs ? run_watch(c, &m, &w, flags) : run_once(c, &m, flags);
	xlvs_maps_close(&m);
	return rc;
}
