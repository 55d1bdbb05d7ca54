// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket server (loader/daemon/ctl.c) with the CLI's client
 * (cli/xlvsctl.c): replies of any supported size arrive whole while the loop
 * goes on, idle clients do not lock the socket, errors are said.
 * The server runs its libev loop in a thread; the test is its clients.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ev.h>
#include <jansson.h>

#include "daemon/ctl.h"
#include "daemon/daemon.h"
#include "health/hc.h"
#include "xlvsctl.h"
#include "log.h"
#include "xlvsmaps.h"
#include "helpers.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- a server on its own loop ---------------------------------------------------- */

struct srv {
	char dir[64], path[96];
	struct ev_loop *loop;
	struct xlvsd_ctl *ctl;
	pthread_t th;
	ev_async stop;
	ev_timer tick;		   /* 10 ms: stands for the health checks' timers */
	double last_tick, max_gap; /* longest time the loop did not come back */
	atomic_int draining;	   /* set by the test while a big reply is on its way */
	atomic_int ticks_draining; /* ticks seen meanwhile */
	/*
	 * The stall meter: the longest loop iteration (from ev_check, after the
	 * poll, to ev_prepare, before the next), in wall time and in the loop
	 * thread's CPU time (wall time on this shared machine includes waiting
	 * for a core); skip_*: test work inside the iteration not to count.
	 */
	ev_prepare prep;
	ev_check chk;
	double it_wall, it_cpu, skip_wall, skip_cpu;
	double max_busy, max_busy_cpu;
};

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_check(struct ev_loop *loop, ev_check *w, int revents)
{
	struct srv *s = w->data;

	s->it_wall = now_s();
	s->it_cpu = cpu_s();
	s->skip_wall = s->skip_cpu = 0;
}

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct srv *s = w->data;
	double wall = now_s() - s->it_wall - s->skip_wall, cpu = cpu_s() - s->it_cpu - s->skip_cpu;

	if (!s->it_wall)
		return;
	if (wall > s->max_busy)
		s->max_busy = wall;
	if (cpu > s->max_busy_cpu)
		s->max_busy_cpu = cpu;
}

static void on_stop(struct ev_loop *loop, ev_async *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct srv *s = w->data;
	double t = now_s();

	if (s->last_tick && t - s->last_tick > s->max_gap)
		s->max_gap = t - s->last_tick;
	s->last_tick = t;
	if (atomic_load(&s->draining))
		atomic_fetch_add(&s->ticks_draining, 1);
}

static void *srv_run(void *arg)
{
	struct srv *s = arg;

	ev_run(s->loop, 0);
	return NULL;
}

/* loop: made by the caller (it may have put watchers on it), or NULL. */
static void srv_start(struct srv *s, struct ev_loop *loop, xlvsd_ctl_fn fn, void *ctx, double idle)
{
	memset(s, 0, sizeof(*s));
	xlvs_log_set_level(XLVS_LOG_WARN);
	snprintf(s->dir, sizeof(s->dir), "/tmp/xlvs-ctl-test.XXXXXX");
	cr_assert_not_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/xlvsd.sock", s->dir);
	s->loop = loop ? loop : ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(s->loop);
	cr_assert_eq(xlvsd_ctl_open(&s->ctl, s->path, s->loop, fn, ctx), 0);
	xlvsd_ctl_set_idle_timeout(s->ctl, idle);
	ev_async_init(&s->stop, on_stop);
	ev_async_start(s->loop, &s->stop);
	ev_timer_init(&s->tick, on_tick, 0.01, 0.01);
	s->tick.data = s;
	ev_timer_start(s->loop, &s->tick);
	ev_prepare_init(&s->prep, on_prepare);
	s->prep.data = s;
	ev_prepare_start(s->loop, &s->prep);
	ev_check_init(&s->chk, on_check);
	s->chk.data = s;
	ev_check_start(s->loop, &s->chk);
	cr_assert_eq(pthread_create(&s->th, NULL, srv_run, s), 0);
}

static void srv_stop(struct srv *s)
{
	ev_async_send(s->loop, &s->stop);
	pthread_join(s->th, NULL);
	xlvsd_ctl_close(s->ctl);
	ev_timer_stop(s->loop, &s->tick);
	ev_prepare_stop(s->loop, &s->prep);
	ev_check_stop(s->loop, &s->chk);
	ev_async_stop(s->loop, &s->stop);
	rmdir(s->dir);
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s", strerror(errno));
	return fd;
}

/* Did the server close fd (EOF within ms)? */
static bool closed_within(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };
	ssize_t n;
	char c;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, &c, 1, 0);
	/* closed with our bytes unread: ECONNRESET */
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static json_t *ok_fn(void *ctx, json_t *req, struct xlvsd_ctl_stream **stream)
{
	return json_pack("{s:b, s:s}", "ok", 1, "cmd", json_string_value(json_object_get(req, "cmd")));
}

static int call(const char *path, const char *cmd, int timeout_ms, json_t **reply, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s}", "cmd", cmd);
	int rc = xlvs_ctl_call(path, req, timeout_ms, reply, err, errlen);

	json_decref(req);
	return rc;
}

/* ---- defect 5: the health reply of the largest configuration ------------------------ */

#define NR_REALS 65536 /* XLVS_MAX_REALS */

struct health_ctx {
	struct xlvsd d;	 /* hc and spec: what the health command reads */
	double report_s; /* the last health request's handler on the loop (the report) */
	struct srv *srv;
	json_t *whole; /* the last health request's reply built whole at the same time */
};

/* The daemon's own command (streamed); status answers ok (another client served meanwhile). */
static json_t *health_fn(void *ctx, json_t *req, struct xlvsd_ctl_stream **stream)
{
	struct health_ctx *h = ctx;
	double t0 = now_s(), c0;
	json_t *r;

	if (strcmp(json_string_value(json_object_get(req, "cmd")), "health"))
		return ok_fn(ctx, req, stream);
	r = xlvsd_command_stream(&h->d, req, stream);
	h->report_s = now_s() - t0;
	/* what it must say, from the same state; its time is not the reply's: the meter skips it */
	t0 = now_s();
	c0 = cpu_s();
	json_decref(h->whole);
	h->whole = xlvsd_hc_json(h->d.hc, &h->d.spec);
	h->srv->skip_wall += now_s() - t0;
	h->srv->skip_cpu += cpu_s() - c0;
	return r;
}

static void tcp_check(struct xlvs_check_spec *ck)
{
	ck->type = XLVS_CHECK_TCP;
	ck->rise = ck->fall = 1;
	ck->interval_ms = 3600 * 1000;
	ck->timeout_ms = 1000;
	ck->initial_up = true;
}

/* Service vip:80 with n reals 10.a.b.c:8080 (weights 1, 2, 3, 1, ...), checked (tcp, hourly) if checked. */
static struct xlvs_svc_spec *add_svc(struct xlvs_spec *s, const char *vip, size_t n, bool checked)
{
	struct xlvs_svc_spec *v;
	size_t i;

	s->services = realloc(s->services, (s->nr_services + 1) * sizeof(*s->services));
	cr_assert_not_null(s->services);
	v = &s->services[s->nr_services++];
	memset(v, 0, sizeof(*v));
	cr_assert_eq(xlvs_addr_parse(vip, &v->vip), 0);
	v->proto = IPPROTO_TCP;
	v->port = 80;
	v->sched = XLVS_SCHED_MAGLEV;
	v->fwd = XLVS_FWD_DR;
	v->ring_size = 655373;
	v->nr_reals = n;
	v->reals = calloc(n + 1, sizeof(*v->reals));
	cr_assert_not_null(v->reals);
	for (i = 0; i < n; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255, i & 255);
		cr_assert_eq(xlvs_addr_parse(a, &v->reals[i].addr), 0);
		v->reals[i].port = 8080;
		v->reals[i].weight = 1 + i % 3;
		v->reals[i].fwd = XLVS_FWD_DR;
	}
	if (checked) {
		v->health = calloc(1, sizeof(*v->health));
		cr_assert_not_null(v->health);
		tcp_check(&v->health->check);
	}
	return v;
}

/* One service with NR_REALS reals 10.a.b.c:8080, each checked (tcp, once an hour). */
static void big_spec(struct xlvs_spec *s)
{
	memset(s, 0, sizeof(*s));
	add_svc(s, "198.18.0.10", NR_REALS, true);
}

/* The ages (since_s, the *_ms ones): two replies a moment apart may differ there only. */
static void drop_since(json_t *svcs)
{
	static const char *const ages[] = { "since_s", "last_change_ago_ms", "last_check_ago_ms",
					    "next_check_in_ms" };
	json_t *svc, *real;
	size_t i, j, k;

	json_array_foreach (svcs, i, svc)
		json_array_foreach (json_object_get(svc, "reals"), j, real)
			for (k = 0; k < sizeof(ages) / sizeof(ages[0]); k++)
				json_object_del(json_object_get(real, "health"), ages[k]);
}

/*
 * The health reply for 65,536 checked reals (about 34 MB) arrives whole and
 * equal to the reply built at once; it is made in steps, so the loop's
 * timers run on time meanwhile (the longest gap between two 10 ms ticks is
 * the stall meter), and while a reader holds it back the loop answers
 * another client.
 */
Test(ctl, health_of_65536_reals_arrives_whole_while_the_loop_runs, .timeout = 120)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct health_ctx h = { 0 };
	struct srv s;
	char err[256] = "", buf[65536];
	json_t *rep = NULL, *whole, *reals, *r4;
	size_t got = 0, size;
	double t0, call_s;
	ssize_t n;
	int fd, rc;
	bool nl = false;

	cr_assert_not_null(loop);
	xlvs_log_set_level(XLVS_LOG_WARN); /* checks of 10/8 reals fail: not worth a line each */
	big_spec(&h.d.spec);
	cr_assert_eq(xlvsd_hc_new(&h.d.hc, loop, 4, NULL, NULL), 0);
	cr_assert_eq(xlvsd_hc_sync(h.d.hc, &h.d.spec), 0);
	h.srv = &s;
	srv_start(&s, loop, health_fn, &h, UNIT_SLOW(30));

	/* A reader that takes the first bytes, then waits: the reply is on its way. */
	fd = raw_connect(s.path);
	cr_assert_eq(send(fd, "{\"cmd\":\"health\"}\n", 17, MSG_NOSIGNAL), 17);
	n = recv(fd, buf, 4096, 0);
	cr_assert_gt(n, 0, "no reply to the health request");
	got = (size_t)n;
	atomic_store(&s.draining, 1);
	usleep((useconds_t)UNIT_SLOW(500 * 1000));
	rc = call(s.path, "status", (int)UNIT_SLOW(5000), &rep, err, sizeof(err));
	cr_assert_eq(rc, 0, "another client is not served while a big reply waits: %s", err);
	json_decref(rep);
	while (!nl && (n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		got += (size_t)n;
		nl = buf[n - 1] == '\n';
	}
	atomic_store(&s.draining, 0);
	close(fd);
	cr_assert(nl, "reply cut after %zu bytes", got);
	size = got;
	cr_assert_gt(size, (size_t)NR_REALS * 200, "reply of %zu bytes", size);
	/* 10 ms timers: about 50 on an idle machine; a loop held by the reply would run none */
	cr_expect_geq(atomic_load(&s.ticks_draining), 3,
		      "timers ran %d times in %g ms while the reply waited", atomic_load(&s.ticks_draining),
		      UNIT_SLOW(500.0));

	/* The CLI's client reads it whole and parses it: what the whole reply says. */
	t0 = now_s();
	rc = call(s.path, "health", (int)UNIT_SLOW(30000), &rep, err, sizeof(err));
	call_s = now_s() - t0;
	srv_stop(&s);
	cr_assert_eq(rc, 0, "health over the socket: %s", err);
	cr_assert(json_is_true(json_object_get(rep, "ok")));
	reals = json_object_get(json_array_get(json_object_get(rep, "services"), 0), "reals");
	cr_assert_eq(json_array_size(reals), NR_REALS);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(reals, NR_REALS - 1), "address")),
			 "10.0.255.255");
	r4 = json_array_get(reals, 4);
	cr_assert_eq(json_integer_value(json_object_get(r4, "effective_weight")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r4, "health"), "check")), "tcp");
	whole = h.whole;
	cr_assert_not_null(whole);
	drop_since(whole);
	drop_since(json_object_get(rep, "services"));
	cr_assert(json_equal(whole, json_object_get(rep, "services")),
		  "the streamed reply differs from the whole one");
	json_decref(whole);
	json_decref(rep);
	fprintf(stderr,
		"ctl: health reply of %d reals: %zu bytes, report in %.3f s on the loop, whole call "
		"%.3f s, longest loop iteration %.3f s (%.3f s of CPU)\n",
		NR_REALS, size, h.report_s, call_s, s.max_busy, s.max_busy_cpu);
	/*
	 * Made in steps of XLVSD_CTL_STEP entries (a few ms each) after a report
	 * (one pass over the configuration): no iteration holds the loop long.
	 * Before the steps one iteration encoded the whole reply (then 21 MB): 2-5 s here.
	 */
	cr_expect_lt(s.max_busy_cpu, UNIT_SLOW(0.25), "a loop iteration took %.3f s of CPU", s.max_busy_cpu);
	cr_expect_lt(s.max_busy, UNIT_SLOW(1.0), "a loop iteration took %.3f s", s.max_busy);
	xlvsd_hc_free(h.d.hc);
	ev_loop_destroy(loop);
	xlvs_spec_free(&h.d.spec);
}

/*
 * The daemon's streamed health reply says what the whole one says, across
 * step boundaries (600 reals: steps of XLVSD_CTL_STEP), for a service with
 * a quorum and a sorry server, one with no real, one whose reals are checked
 * one by one (one of them not at all).
 */
Test(ctl, streamed_health_equals_the_whole_reply, .timeout = 30)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	json_t *req = json_pack("{s:s}", "cmd", "health"), *whole, *streamed, *svcs, *c;
	struct xlvsd_ctl_stream *stream = NULL;
	struct xlvs_svc_spec *v;
	struct xlvsd d;

	cr_assert_not_null(loop);
	memset(&d, 0, sizeof(d));
	v = add_svc(&d.spec, "198.18.0.10", 600, true);
	v->health->quorum = 5;
	v->health->have_sorry = true;
	cr_assert_eq(xlvs_addr_parse("198.18.9.9", &v->health->sorry.addr), 0);
	add_svc(&d.spec, "198.18.0.11", 0, false);
	v = add_svc(&d.spec, "198.18.0.12", 2, false);
	v->reals[1].check = calloc(1, sizeof(*v->reals[1].check));
	cr_assert_not_null(v->reals[1].check);
	tcp_check(v->reals[1].check);
	cr_assert_eq(xlvsd_hc_new(&d.hc, loop, 4, NULL, NULL), 0);
	cr_assert_eq(xlvsd_hc_sync(d.hc, &d.spec), 0);

	whole = xlvsd_command(&d, req);
	cr_assert_null(xlvsd_command_stream(&d, req, &stream), "health is not streamed");
	cr_assert_not_null(stream);
	streamed = xlvsd_ctl_stream_json(stream);
	cr_assert_not_null(streamed, "the streamed text is not JSON");
	svcs = json_object_get(streamed, "services");
	cr_assert(json_is_true(json_object_get(streamed, "ok")));
	cr_assert_eq(json_array_size(svcs), 3);
	cr_assert_eq(json_array_size(json_object_get(json_array_get(svcs, 0), "reals")), 600);
	cr_assert_eq(json_integer_value(
			     json_object_get(json_object_get(json_array_get(svcs, 0), "quorum"), "weight")),
		     5);
	cr_assert_eq(json_array_size(json_object_get(json_array_get(svcs, 1), "reals")), 0);
	c = json_object_get(json_array_get(svcs, 2), "reals");
	cr_assert_str_eq(json_string_value(
				 json_object_get(json_object_get(json_array_get(c, 0), "health"), "state")),
			 "unchecked");
	cr_assert_str_eq(json_string_value(
				 json_object_get(json_object_get(json_array_get(c, 1), "health"), "check")),
			 "tcp");
	drop_since(json_object_get(whole, "services"));
	drop_since(svcs);
	cr_assert(json_equal(whole, streamed), "the streamed reply differs from the whole one");
	json_decref(whole);
	json_decref(streamed);
	json_decref(req);
	xlvsd_hc_free(d.hc);
	xlvs_spec_free(&d.spec);
	ev_loop_destroy(loop);
}

/* A reply cut short, or over the client's limit, is an error that says so. */
struct liar {
	int ls;
	const char *text; /* written after the request, then close */
	size_t repeat;	  /* text written that many times */
};

static void *liar_run(void *arg)
{
	struct liar *l = arg;
	char buf[4096];
	size_t i;
	int c = accept(l->ls, NULL, NULL);

	if (c < 0)
		return NULL;
	for (i = 0; i < sizeof(buf); i++) /* the request, through its newline */
		if (read(c, buf + i, 1) != 1 || buf[i] == '\n')
			break;
	if (i < sizeof(buf) && buf[i] == '\n')
		for (i = 0; i < l->repeat; i++)
			if (send(c, l->text, strlen(l->text), MSG_NOSIGNAL) < 0)
				break;
	close(c);
	return NULL;
}

static void liar_call(const char *text, size_t repeat, const char *want)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct liar l = { .text = text, .repeat = repeat };
	char dir[] = "/tmp/xlvs-ctl-test.XXXXXX", err[256] = "";
	json_t *rep = NULL;
	pthread_t th;
	int rc;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	l.ls = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(l.ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(l.ls, 1), 0);
	cr_assert_eq(pthread_create(&th, NULL, liar_run, &l), 0);
	rc = call(sa.sun_path, "health", 5000, &rep, err, sizeof(err));
	pthread_join(th, NULL);
	close(l.ls);
	unlink(sa.sun_path);
	rmdir(dir);
	cr_expect_eq(rc, XLVS_EXIT_DAEMON, "rc %d (%s)", rc, err);
	cr_expect_null(rep);
	cr_expect_not_null(strstr(err, want), "error '%s', want '%s'", err, want);
	json_decref(rep);
}

Test(ctl, cut_and_oversize_replies_are_errors_that_say_so, .timeout = 60)
{
	liar_call("{\"ok\":true,\"services\":[{\"vip\":\"198.18.0.10\"", 1,
		  "reply from xlvsd truncated: the connection closed after 43 bytes");
	char *mib = malloc((1 << 20) + 1);

	/* 300 MiB without a newline: over the 256 MiB the client accepts */
	cr_assert_not_null(mib);
	memset(mib, '1', 1 << 20);
	mib[1 << 20] = '\0';
	mib[0] = '[';
	liar_call(mib, 300, "reply from xlvsd too large");
	free(mib);
}

/* ---- defect 7: idle clients do not lock the socket out ------------------------------ */

/* 64 clients that never send a thing; after the idle timeout a request is answered. */
Test(ctl, idle_clients_time_out, .timeout = 30)
{
	int fds[XLVSD_CTL_MAX_CLIENTS], i, rc;
	char err[256] = "";
	json_t *rep = NULL;
	struct srv s;

	srv_start(&s, NULL, ok_fn, NULL, 0.5);
	for (i = 0; i < XLVSD_CTL_MAX_CLIENTS; i++)
		fds[i] = raw_connect(s.path);
	usleep(900 * 1000);
	rc = call(s.path, "status", 2000, &rep, err, sizeof(err));
	cr_expect_eq(rc, 0, "after the idle timeout: %s", err);
	cr_expect(json_is_true(json_object_get(rep, "ok")));
	json_decref(rep);
	cr_expect(closed_within(fds[0], 100), "an idle client is still connected");
	/* a client that trickles a request without ever ending it is idle too */
	fds[1] = raw_connect(s.path);
	for (i = 0; i < 12; i++) {
		send(fds[1], " ", 1, MSG_NOSIGNAL);
		usleep(100 * 1000);
	}
	cr_expect(closed_within(fds[1], 100), "a trickling client is still connected");
	for (i = 0; i < XLVSD_CTL_MAX_CLIENTS; i++)
		close(fds[i]);
	srv_stop(&s);
	ev_loop_destroy(s.loop);
}

/* All slots held by idle clients (long timeout): the longest idle one makes room. */
Test(ctl, a_full_socket_makes_room, .timeout = 30)
{
	int fds[XLVSD_CTL_MAX_CLIENTS], i, rc, closed = 0;
	char err[256] = "";
	json_t *rep = NULL;
	struct srv s;

	srv_start(&s, NULL, ok_fn, NULL, 60);
	for (i = 0; i < XLVSD_CTL_MAX_CLIENTS; i++)
		fds[i] = raw_connect(s.path);
	usleep((int)(XLVSD_CTL_EVICT_IDLE * 1e6) + 200 * 1000);
	rc = call(s.path, "status", 2000, &rep, err, sizeof(err));
	cr_expect_eq(rc, 0, "with 64 idle clients: %s", err);
	cr_expect(json_is_true(json_object_get(rep, "ok")));
	json_decref(rep);
	for (i = 0; i < XLVSD_CTL_MAX_CLIENTS; i++) {
		closed += closed_within(fds[i], 10);
		close(fds[i]);
	}
	cr_expect_eq(closed, 1, "%d idle clients closed to make room for one", closed);
	srv_stop(&s);
	ev_loop_destroy(s.loop);
}
