// SPDX-License-Identifier: GPL-2.0
/*
 * What the control command `health` tells about each check (loader/health/hc.c,
 * docs/control.md), the fields `xlvs health` shows: target, initial state,
 * last result with its message, streaks against rise/fall, ages of the last
 * change and the last result, when the next check is due. Real checks run:
 * exec checks, whose results are known in advance ("exit 0", "exit 1", a
 * timeout), on the manager's own libev loop.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>

#include "health/hc.h"
#include "helpers.h"

#define INTERVAL_MS 2000 /* first check anywhere in the first interval, the next 1.8-2.2 s later */

/* Real i of the one service, checked by its own exec check. */
struct exec_real {
	const char *command;
	bool initial_up;
	uint16_t rise, fall;
	uint32_t timeout_ms;
};

static const struct exec_real exec_reals[] = {
	{ "exit 0", false, 3, 1, 1000 }, /* .11: successes, still down (rise 3) */
	{ "exit 1", true, 1, 1, 1000 },	 /* .12: down at the first failure (fall 1) */
	{ "sleep 5", true, 1, 3, 200 },	 /* .13: timeouts, still up (fall 3) */
};
#define NR_EXEC (sizeof(exec_reals) / sizeof(exec_reals[0]))

/* Service 198.18.0.10:80 with the reals above and .14 unchecked (the service checks nothing). */
static void exec_spec(struct xlvs_spec *s)
{
	struct xlvs_svc_spec *v;
	char a[32];
	size_t i;

	memset(s, 0, sizeof(*s));
	s->services = calloc(1, sizeof(*s->services));
	s->nr_services = 1;
	v = &s->services[0];
	v->vip = unit_addr("198.18.0.10");
	v->proto = IPPROTO_TCP;
	v->port = 80;
	v->sched = XLVS_SCHED_MAGLEV;
	v->fwd = XLVS_FWD_DR;
	v->ring_size = 251;
	v->nr_reals = NR_EXEC + 1;
	v->reals = calloc(v->nr_reals, sizeof(*v->reals));
	for (i = 0; i < v->nr_reals; i++) {
		snprintf(a, sizeof(a), "198.18.1.%zu", 11 + i);
		v->reals[i].addr = unit_addr(a);
		v->reals[i].port = 80;
		v->reals[i].weight = 1;
		v->reals[i].fwd = XLVS_FWD_DR;
	}
	v->health = calloc(1, sizeof(*v->health));
	v->health->check.type = XLVS_CHECK_NONE;
	for (i = 0; i < NR_EXEC; i++) {
		struct xlvs_check_spec *ck = calloc(1, sizeof(*ck));

		ck->type = XLVS_CHECK_EXEC;
		ck->initial_up = exec_reals[i].initial_up;
		ck->rise = exec_reals[i].rise;
		ck->fall = exec_reals[i].fall;
		ck->interval_ms = INTERVAL_MS;
		ck->timeout_ms = exec_reals[i].timeout_ms;
		snprintf(ck->command, sizeof(ck->command), "%s", exec_reals[i].command);
		v->reals[i].check = ck;
	}
}

/* The health object of real j, through the reply's pieces (what the streamed reply sends). */
static json_t *real_health(struct xlvsd_hc *hc, const struct xlvs_spec *cfg, size_t j)
{
	struct xlvsd_hc_report *r = xlvsd_hc_report_new(hc, cfg);
	json_t *real, *h;

	cr_assert_not_null(r);
	cr_assert_eq(xlvsd_hc_report_services(r), 1);
	cr_assert_eq(xlvsd_hc_report_reals(r, 0), NR_EXEC + 1);
	real = xlvsd_hc_report_real(r, 0, j);
	cr_assert_not_null(real);
	h = json_incref(json_object_get(real, "health"));
	json_decref(real);
	xlvsd_hc_report_free(r);
	cr_assert_not_null(h, "real %zu has a health object", j);
	return h;
}

static long long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_integer(v), "%s is an integer", key);
	return json_integer_value(v);
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_string(v), "%s is a string", key);
	return json_string_value(v);
}

static void guard_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	ev_break(l, EVBREAK_ALL);
}

/* Run the loop until every exec real has a result (none has more than 2: see INTERVAL_MS). */
static void run_until_checked(struct ev_loop *loop, struct xlvsd_hc *hc, const struct xlvs_spec *cfg)
{
	bool all = false;
	ev_timer guard;
	json_t *h;
	size_t j;

	ev_timer_init(&guard, guard_cb, INTERVAL_MS / 1000.0 + 5, 0.);
	ev_timer_start(loop, &guard);
	while (!all && ev_is_active(&guard)) {
		ev_run(loop, EVRUN_ONCE);
		for (all = true, j = 0; j < NR_EXEC; j++) {
			h = real_health(hc, cfg, j);
			all &= jint(h, "checks") > 0;
			json_decref(h);
		}
	}
	ev_timer_stop(loop, &guard);
	cr_assert(all, "every exec check gave a result within %d ms", INTERVAL_MS + 5000);
}

/* Before any result: initial, the target, the schedule; no last check. */
Test(hc_reply, fields_before_the_first_result)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct xlvsd_hc *hc;
	struct xlvs_spec cfg;
	json_t *h;

	cr_assert_not_null(loop);
	exec_spec(&cfg);
	cr_assert_eq(xlvsd_hc_new(&hc, loop, 4, NULL, NULL), 0);
	cr_assert_eq(xlvsd_hc_sync(hc, &cfg), 0);
	h = real_health(hc, &cfg, 1);
	cr_expect_str_eq(jstr(h, "state"), "up");
	cr_expect(json_is_true(json_object_get(h, "initial")));
	cr_expect_str_eq(jstr(h, "check"), "exec");
	cr_expect_str_eq(jstr(h, "target"), "exit 1");
	cr_expect_str_eq(jstr(h, "last_result"), "none");
	cr_expect_eq(jint(h, "interval_ms"), INTERVAL_MS);
	cr_expect_eq(jint(h, "timeout_ms"), 1000);
	cr_expect_eq(jint(h, "consecutive_ok"), 0);
	cr_expect_eq(jint(h, "consecutive_failed"), 0);
	cr_expect(json_is_false(json_object_get(h, "running")));
	cr_expect_null(json_object_get(h, "last_check_ago_ms"), "no result yet: no age of one");
	cr_expect_leq(jint(h, "last_change_ago_ms"), 1000, "started just now");
	cr_expect_leq(jint(h, "next_check_in_ms"), INTERVAL_MS, "the first check within the first interval");
	json_decref(h);
	h = real_health(hc, &cfg, NR_EXEC);
	cr_expect_str_eq(jstr(h, "state"), "unchecked");
	cr_expect_null(json_object_get(h, "target"));
	json_decref(h);
	xlvsd_hc_free(hc);
	ev_loop_destroy(loop);
	xlvs_spec_free(&cfg);
}

/* What each real's health says after n (1 or 2) results of its known kind. */
struct after_row {
	const char *state, *last_result, *msg;
	bool ok;
	long long transitions; /* whatever n */
};

static const struct after_row after_rows[NR_EXEC] = {
	{ "down", "ok", "exit 0", true, 0 },
	{ "down", "failed", "exit 1", false, 1 },
	{ "up", "failed", "timeout after 200 ms", false, 0 },
};

Test(hc_reply, fields_after_known_results, .timeout = 30)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	const struct after_row *w;
	struct xlvsd_hc *hc;
	struct xlvs_spec cfg;
	long long n;
	json_t *h;
	size_t j;

	cr_assert_not_null(loop);
	exec_spec(&cfg);
	cr_assert_eq(xlvsd_hc_new(&hc, loop, 4, NULL, NULL), 0);
	cr_assert_eq(xlvsd_hc_sync(hc, &cfg), 0);
	run_until_checked(loop, hc, &cfg);
	for (j = 0; j < NR_EXEC; j++) {
		w = &after_rows[j];
		h = real_health(hc, &cfg, j);
		n = jint(h, "checks");
		cr_assert(n >= 1 && n <= 2, "real %zu: %lld results", j, n);
		cr_expect_str_eq(jstr(h, "state"), w->state, "real %zu", j);
		cr_expect(json_is_false(json_object_get(h, "initial")), "real %zu", j);
		cr_expect_str_eq(jstr(h, "target"), exec_reals[j].command, "real %zu", j);
		cr_expect_str_eq(jstr(h, "last_result"), w->last_result, "real %zu", j);
		cr_expect_str_eq(jstr(h, "last_message"), w->msg, "real %zu", j);
		cr_expect_eq(jint(h, "failures"), w->ok ? 0 : n, "real %zu", j);
		cr_expect_eq(jint(h, "consecutive_ok"), w->ok ? n : 0, "real %zu", j);
		cr_expect_eq(jint(h, "consecutive_failed"), w->ok ? 0 : n, "real %zu", j);
		cr_expect_eq(jint(h, "transitions"), w->transitions, "real %zu", j);
		cr_expect_eq(jint(h, "rise"), exec_reals[j].rise, "real %zu", j);
		cr_expect_eq(jint(h, "fall"), exec_reals[j].fall, "real %zu", j);
		/* the run toward a change: reset by the change itself (.12 went down at its first) */
		cr_expect_eq(jint(h, "rise_fall"), w->transitions ? n - 1 : n, "real %zu", j);
		cr_expect_leq(jint(h, "last_check_ago_ms"), INTERVAL_MS + 500, "real %zu", j);
		cr_expect_geq(jint(h, "last_change_ago_ms"), jint(h, "last_check_ago_ms"),
			      "real %zu: the state changed at or before the last result", j);
		if (json_is_true(json_object_get(h, "running")))
			cr_expect_null(json_object_get(h, "next_check_in_ms"), "real %zu", j);
		else
			cr_expect_leq(jint(h, "next_check_in_ms"), INTERVAL_MS * 11 / 10, "real %zu", j);
		json_decref(h);
	}
	/* the timeout's latency is the timeout */
	h = real_health(hc, &cfg, 2);
	cr_expect_geq(json_number_value(json_object_get(h, "last_latency_ms")), 200.0);
	json_decref(h);
	/* .12 changed at its first result, .11 never changed: its age is the instance's */
	h = real_health(hc, &cfg, 1);
	if (jint(h, "checks") == 1)
		cr_expect_eq(jint(h, "last_change_ago_ms"), jint(h, "last_check_ago_ms"));
	json_decref(h);
	xlvsd_hc_free(hc);
	ev_loop_destroy(loop);
	xlvs_spec_free(&cfg);
}

/* The streaks follow the results, whatever the state: a check that fails, then passes, then fails. */
Test(hc_reply, streaks_follow_alternating_results, .timeout = 30)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	static const struct {
		const char *result;
		long long ok, failed, failures;
	} want[] = { { "failed", 0, 1, 1 }, { "ok", 1, 0, 1 }, { "failed", 0, 1, 2 } };
	char dir[] = "/tmp/xlvs-hc-reply.XXXXXX", flag[64];
	struct xlvsd_hc *hc;
	struct xlvs_spec cfg;
	struct xlvs_check_spec *ck;
	long long n = 0;
	ev_timer guard;
	json_t *h;

	cr_assert_not_null(loop);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(flag, sizeof(flag), "%s/flag", dir);
	exec_spec(&cfg);
	ck = cfg.services[0].reals[0].check;
	ck->interval_ms = 300;
	ck->rise = ck->fall = 5; /* no state change: the streaks alone move */
	/* fails when the flag is absent (and sets it), passes when present (and clears it) */
	snprintf(ck->command, sizeof(ck->command), "if [ -e %s ]; then rm %s; else touch %s; exit 1; fi",
		 flag, flag, flag);
	cr_assert_eq(xlvsd_hc_new(&hc, loop, 4, NULL, NULL), 0);
	cr_assert_eq(xlvsd_hc_sync(hc, &cfg), 0);
	ev_timer_init(&guard, guard_cb, 10., 0.);
	ev_timer_start(loop, &guard);
	while (n < 3 && ev_is_active(&guard)) {
		ev_run(loop, EVRUN_ONCE);
		h = real_health(hc, &cfg, 0);
		if (jint(h, "checks") > n) {
			n = jint(h, "checks");
			cr_assert_leq(n, 3, "one result per loop iteration at most");
			cr_expect_str_eq(jstr(h, "last_result"), want[n - 1].result, "result %lld", n);
			cr_expect_eq(jint(h, "consecutive_ok"), want[n - 1].ok, "result %lld", n);
			cr_expect_eq(jint(h, "consecutive_failed"), want[n - 1].failed, "result %lld", n);
			cr_expect_eq(jint(h, "failures"), want[n - 1].failures, "result %lld", n);
			cr_expect_str_eq(jstr(h, "state"), "down", "result %lld",
					 n); /* initial: down, rise 5 */
		}
		json_decref(h);
	}
	ev_timer_stop(loop, &guard);
	cr_expect_eq(n, 3, "3 results within 10 s");
	xlvsd_hc_free(hc);
	ev_loop_destroy(loop);
	xlvs_spec_free(&cfg);
	unlink(flag);
	rmdir(dir);
}
