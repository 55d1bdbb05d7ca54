// SPDX-License-Identifier: GPL-2.0
/*
 * xlvsd's life: check, start (adopting what is pinned), apply, reload, serve
 * the control socket, stop (leaving the data path forwarding), detach.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <systemd/sd-daemon.h>

#include "config/conf.h"
#include "config/specedit.h"
#include "dataplane/nexthop.h"
#include "dataplane/sysctl.h"
#include "health/hc.h"
#include "log.h"
#include "ctl.h"
#include "daemon.h"
#include "metrics.h"
#include "steer.h"
#include "sweep.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Parse and validate path, interfaces included; msg gets "file:line:column: msg". */
int xlvsd_load_config(const char *path, struct xlvs_spec *spec, char *msg, size_t size)
{
	struct xlvs_conf_error ce;
	int err;

	memset(&ce, 0, sizeof(ce));
	err = xlvs_conf_load(path, spec, &ce);
	if (!err) {
		err = xlvs_conf_check_interfaces(spec, &ce);
		if (err)
			xlvs_spec_free(spec);
	}
	if (err) {
		if (!ce.msg[0])
			snprintf(ce.msg, sizeof(ce.msg), "%s", strerror(-err));
		if (!ce.file[0])
			snprintf(ce.file, sizeof(ce.file), "%s", path);
		xlvs_conf_error_format(&ce, msg, size);
	}
	return err;
}

#define GROW_HINT                                                                                            \
	"; to grow the maps, stop xlvsd, run `xlvsd --detach` (forwarding stops and "                        \
	"connection state is lost until the start) and start xlvsd again: it sizes the maps for "            \
	"its configuration (docs/operations.md)"

/*
 * A file asking for another flow hash than the pinned state was made with: said by the start,
 * a reload and --check alike, none of which changes it (the state's hash says where its
 * ring-state flows are).
 */
static void warn_flow_hash(enum xlvs_flow_hash want, enum xlvs_flow_hash have)
{
	log_warn("flow_hash %s is not applied: the pinned state uses %s (where its ring-state flows are) "
		 "until `xlvsd --detach` and a restart (docs/configuration.md#flow_hash)",
		 xlvs_flow_hash_names[want], xlvs_flow_hash_names[have]);
}

/*
 * A file asking for another conn_table_size than the pinned tables have: said (attach.c) as the
 * start says it, map by map, by a reload and --check, none of which resizes them.
 */
static void note_conn_table_size(const char *pin_dir, const struct xlvs_maps *m, uint32_t want)
{
	const struct {
		const char *name;
		uint32_t entries;
	} tables[] = { { "xlvs_conns", m->conn_entries }, { "xlvs_nat", m->nat_entries } };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if (!tables[i].entries)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, tables[i].name);
		xlvs_note_conn_table_size(path, want, tables[i].entries, m->ncpus);
	}
}

/*
 * Run the planner the daemon applies with, capacity included, on spec: against
 * the maps pinned in pin_dir when there are (a running director's), else
 * against the maps a start would create for spec. 0, or -errno with msg. A plan
 * that fits pinned state made with another flow hash or connection table size
 * than spec's is warned about.
 */
static int plan_config(const char *pin_dir, const struct xlvs_spec *spec, char *msg, size_t size)
{
	enum xlvs_flow_hash have;
	struct xlvs_maps m;
	char why[640];
	int err;

	err = xlvs_maps_open(&m, pin_dir);
	if (!err) {
		err = xlvs_plan_check(&m, 0, spec, why, sizeof(why));
		/* said as the start says it; -ENOENT: no xlvsd wrote the state yet (a first start) */
		if (!err && !xlvs_maps_flow_hash(&m, &have) && have != spec->global.flow_hash)
			warn_flow_hash(spec->global.flow_hash, have);
		if (!err && spec->global.conn_table_size)
			note_conn_table_size(pin_dir, &m, spec->global.conn_table_size);
		xlvs_maps_close(&m);
		if (err)
			snprintf(msg, size, "does not fit the maps pinned in %s: %s%s", pin_dir,
				 why[0] ? why : strerror(-err), err == -ENOSPC ? GROW_HINT : "");
		return err;
	}
	if (err != -ENOENT)
		log_warn("cannot open the maps pinned in %s (%s): planned against new maps", pin_dir,
			 strerror(-err));
	err = xlvs_plan_check(NULL, 0, spec, why, sizeof(why));
	if (err)
		snprintf(msg, size, "%s", why[0] ? why : strerror(-err));
	return err;
}

int xlvsd_check(const char *config, const char *pin_dir)
{
	struct xlvs_spec spec;
	char msg[1024];
	int err;

	memset(&spec, 0, sizeof(spec));
	if (xlvsd_load_config(config, &spec, msg, sizeof(msg))) {
		fprintf(stderr, "%s\n", msg);
		return XLVSD_EXIT_CONFIG;
	}
	err = plan_config(pin_dir, &spec, msg, sizeof(msg));
	xlvs_spec_free(&spec);
	if (err) {
		fprintf(stderr, "%s: %s\n", config, msg);
		return XLVSD_EXIT_CONFIG;
	}
	printf("%s: ok\n", config);
	return XLVSD_EXIT_OK;
}

int xlvsd_detach(const char *pin_dir)
{
	if (geteuid() != 0) {
		log_err("xlvsd --detach must run as root");
		return XLVSD_EXIT_RUNTIME;
	}
	return xlvs_dp_remove_all(pin_dir) ? XLVSD_EXIT_RUNTIME : XLVSD_EXIT_OK;
}

/* ---- applying ------------------------------------------------------------------- */

static bool spec_has_iface(const struct xlvs_spec *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->global.nr_interfaces; i++)
		if (!strcmp(s->global.interfaces[i], name))
			return true;
	return false;
}

static void status_set(struct xlvsd *d)
{
	status_lock(&d->status);
	d->status.services = d->spec.nr_services;
	d->status.reals = xlvsd_spec_nr_reals(&d->spec);
	status_unlock(&d->status);
}

/*
 * (Re)start the exporter when the listen address changed, or on reload after
 * a failure; its failure is not fatal. metrics_listen is the last address tried.
 */
static void metrics_update(struct xlvsd *d)
{
	const char *want = d->spec.global.metrics_listen;
	bool changed = strcmp(want, d->metrics_listen);
	int err;

	if (!changed && (d->mx || !d->reloading))
		return;
	if (d->mx) {
		xlvs_metrics_stop(d->mx);
		d->mx = NULL;
		log_info("metrics: stopped listening on %s", d->metrics_listen);
	}
	snprintf(d->metrics_listen, sizeof(d->metrics_listen), "%s", want);
	if (!want[0])
		return;
	err = xlvs_metrics_start(&d->mx, want, &d->maps, &d->status);
	if (err) {
		d->mx = NULL;
		log_err("metrics: cannot listen on %s: %s; running without metrics", want, strerror(-err));
		return;
	}
	log_info("metrics: serving /metrics on %s", want);
}

static void notify_status(struct xlvsd *d, const char *extra)
{
	char ifs[8 * (IF_NAMESIZE + 2)] = "";
	size_t i;

	for (i = 0; i < d->spec.global.nr_interfaces; i++) {
		strcat(ifs, i ? ", " : "");
		strcat(ifs, d->spec.global.interfaces[i]);
	}
	sd_notifyf(0, "STATUS=%s%zu services, %zu reals on %s", extra ? extra : "", d->spec.nr_services,
		   xlvsd_spec_nr_reals(&d->spec), ifs[0] ? ifs : "no interface");
}

static void log_applied(const char *what, const struct xlvs_apply_stats *st)
{
	log_info("%s: services +%u ~%u -%u, reals written %u removed %u, ring slots written %u, "
		 "vips written %u removed %u",
		 what, st->services_added, st->services_updated, st->services_removed, st->reals_written,
		 st->reals_removed, st->ring_slots_written, st->vips_written, st->vips_removed);
}

static const char *apply_error(int err)
{
	switch (err) {
	case -ENOSPC:
		return "no room in the maps (service or real ids, or ring slots, exhausted)";
	case -EINVAL:
		return "the desired state is invalid (duplicate service or real, bad ring size)";
	default:
		return strerror(-err);
	}
}

/* Reload, command: plan (capacity included), then the global settings, then the services. */
static int write_all(struct xlvsd *d, const struct xlvs_spec *want, const struct xlvs_spec *w,
		     struct xlvs_apply_opts *o, struct xlvs_apply_stats *st)
{
	int err = xlvs_plan_check(&d->maps, 0, w, o->msg, o->msg_size);

	if (!err)
		err = xlvs_maps_set_global(&d->maps, &want->global);
	return err ? err : xlvs_apply_with(&d->maps, w, o, st);
}

static bool same_real(const struct xlvs_real_spec *a, const struct xlvs_real_spec *b)
{
	return a->addr.family == b->addr.family && !memcmp(a->addr.be, b->addr.be, sizeof(a->addr.be)) &&
	       a->port == b->port && a->weight == b->weight && a->fwd == b->fwd && a->gue_port == b->gue_port;
}

/*
 * Flag in scope the services of now (effective, from d->spec) whose reals
 * differ from was (the last one written, from the same d->spec: the rest of
 * each service is the same). False if they cannot be paired by index (a
 * service withdrawn or back for its quorum).
 */
static bool changed_services(const struct xlvs_spec *was, const struct xlvs_spec *now, uint8_t *scope)
{
	const struct xlvs_svc_spec *a, *b;
	size_t i, j;

	if (was->nr_services != now->nr_services)
		return false;
	for (i = 0; i < now->nr_services; i++) {
		a = &was->services[i];
		b = &now->services[i];
		if (a->port != b->port || a->proto != b->proto || a->vip.family != b->vip.family ||
		    memcmp(a->vip.be, b->vip.be, sizeof(a->vip.be)))
			return false;
		scope[i] = a->nr_reals != b->nr_reals;
		for (j = 0; !scope[i] && j < b->nr_reals; j++)
			scope[i] = !same_real(&a->reals[j], &b->reals[j]);
	}
	return true;
}

/*
 * A health change: the maps hold the running spec's global settings and
 * ring sizes, so the apply's own plan is the check. First only the services
 * whose effective state changed are planned and written (d->memo has their
 * reals' ids); when their reals come or go (or anything is not as the last
 * apply left it), every service, reading only the real ids in use
 * (d->reals_end, from the last apply: no one else writes xlvs_reals while
 * the daemon runs); all of them if it finds one more in use than that.
 */
static int write_health(struct xlvsd *d, const struct xlvs_spec *w, struct xlvs_apply_opts *o,
			struct xlvs_apply_stats *st)
{
	uint8_t *scope = calloc(w->nr_services + 1, 1);
	int err = -ESTALE;
	size_t i;

	o->reals_end = d->reals_end;
	if (scope && d->memo && d->eff_valid && changed_services(&d->eff, w, scope)) {
		for (d->health_planned = 0, i = 0; i < w->nr_services; i++)
			d->health_planned += scope[i];
		o->scope = scope;
		err = xlvs_apply_with(&d->maps, w, o, st);
		o->scope = NULL;
		if (err == -ESTALE)
			log_debug("health: %s: planning every service", o->msg);
	}
	free(scope);
	if (err != -ESTALE)
		return err;
	d->health_planned = w->nr_services;
	err = xlvs_apply_with(&d->maps, w, o, st);
	if (err == -ESTALE && o->reals_end) {
		log_warn("health: %s: reading every real", o->msg);
		o->reals_end = 0;
		err = xlvs_apply_with(&d->maps, w, o, st);
	}
	return err;
}

void xlvsd_forget_applied(struct xlvsd *d)
{
	xlvs_apply_memo_free(d->memo);
	d->memo = NULL;
	xlvs_spec_free(&d->eff);
	d->eff_valid = false;
	d->reals_end = 0;
}

/*
 * Write want into the maps, with the health actions applied; nothing is
 * written when the plan fails. health: want is the running spec (d->spec),
 * written again for a health change (write_health()); else a reload's or a
 * command's (write_all()). The first apply also checks every ring slot: a
 * daemon killed in the middle of an apply may have left a ring half-written.
 * msg (may be NULL) says why it failed.
 */
static int write_maps(struct xlvsd *d, const struct xlvs_spec *want, bool health, struct xlvs_apply_stats *st,
		      char *msg, size_t size)
{
	char why[640] = "";
	struct xlvs_apply_opts o = {
		.flags = d->applied ? 0 : XLVS_APPLY_F_VERIFY_RINGS,
		.msg = why,
		.msg_size = sizeof(why),
		.memo = &d->memo,
	};
	const struct xlvs_spec *w = want;
	struct xlvs_spec eff;
	int err;

	memset(st, 0, sizeof(*st));
	if (msg && size)
		msg[0] = '\0';
	/* want is the running spec or the staged one: the maps get it with the health actions */
	err = d->hc ? xlvsd_hc_build(d->hc, want, &eff) : 0;
	if (err) {
		if (msg)
			snprintf(msg, size, "health checks: %s", strerror(-err));
		return err;
	}
	w = d->hc ? &eff : want;
	err = health && d->applied ? write_health(d, w, &o, st) : write_all(d, want, w, &o, st);
	if (err) {
		xlvsd_forget_applied(d); /* the next apply plans every service and reads every real */
	} else {
		d->reals_end = o.reals_end;
		xlvs_spec_free(&d->eff);
		d->eff_valid = d->hc != NULL;
		if (d->hc) /* what the maps hold now: the next health change diffs against it */
			d->eff = eff;
	}
	/* reals counted from now on have connections their count never saw */
	if (!err && st->reals_counted_on)
		xlvsd_sweep_reconcile_soon(d->sweep);
	if (err && msg && why[0])
		snprintf(msg, size, "%s%s", why, err == -ENOSPC ? GROW_HINT : "");
	else if (err && msg)
		snprintf(msg, size, "writing the maps failed: %s", apply_error(err));
	xlvsd_count_map_full(d, err);
	if (d->hc && err)
		xlvs_spec_free(&eff);
	return err;
}

static void health_changed(void *ctx)
{
	xlvsd_health_apply(ctx);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A health state changed: write the effective state of the running configuration. */
void xlvsd_health_apply(struct xlvsd *d)
{
	struct xlvs_apply_stats st;
	char msg[1024] = "";
	struct timespec t0;
	int err;

	if (!d->applied)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = write_maps(d, &d->spec, true, &st, msg, sizeof(msg));
	if (err && err != d->health_err) /* once per condition, not once per health change */
		log_err("health: applying the change failed: %s", msg);
	d->health_err = err;
	if (err)
		return;
	d->last_apply = st;
	log_info("health: applied: reals written %u removed %u, ring slots written %u, "
		 "services +%u ~%u -%u, %zu of %zu planned in %.1f ms",
		 st.reals_written, st.reals_removed, st.ring_slots_written, st.services_added,
		 st.services_updated, st.services_removed, d->health_planned, d->spec.nr_services,
		 ms_since(&t0));
	xlvsd_steer_update(d, false); /* a real put back in the maps gets a mark */
	/* A real brought in by health (a sorry server taking over) needs its next hop now. */
	if (st.reals_written && d->nh && (err = xlvs_nh_sync(d->nh)))
		log_warn("next hops: sync failed: %s", strerror(-err));
}

/*
 * After a failed apply: the staged health checks are dropped (the running
 * ones never stopped, so every real keeps its state) and the maps go back to
 * the running state, global settings included.
 */
static void restore_maps(struct xlvsd *d)
{
	struct xlvs_apply_stats st;
	char msg[1024] = "";
	int err;

	if (d->hc)
		xlvsd_hc_rollback(d->hc);
	if (!d->applied)
		return; /* nothing to go back to: the caller exits */
	err = write_maps(d, &d->spec, false, &st, msg, sizeof(msg));
	if (err)
		log_err("restoring the previous state failed too: %s", msg);
	else
		log_applied("previous state restored", &st);
}

/* Attach to want's new interfaces; on failure detach the ones this call attached. */
static int attach_new(struct xlvsd *d, const struct xlvs_spec *want, char *msg, size_t size)
{
	const struct xlvs_global_spec *g = &want->global;
	bool fresh[8] = { false };
	size_t i, n = g->nr_interfaces < 8 ? g->nr_interfaces : 8;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		/* Set before attaching; rechecked at start and reload, not at every change. */
		if (!d->applied || d->reloading || !xlvs_dp_find(&d->dp, g->interfaces[i]))
			xlvs_iface_sysctls(g->interfaces[i]);
		err = xlvs_dp_attach(&d->dp, g->interfaces[i], g->xdp_mode);
		fresh[i] = err > 0;
		if (err < 0)
			snprintf(msg, size, "cannot attach to %s: %s", g->interfaces[i], strerror(-err));
		err = err < 0 ? err : 0;
	}
	if (!err)
		return 0;
	while (i--)
		if (fresh[i])
			xlvs_dp_detach(&d->dp, g->interfaces[i]);
	return err;
}

/* Interfaces that are attached but no longer configured. */
static void detach_old(struct xlvsd *d, const struct xlvs_spec *want)
{
	unsigned int i = 0;

	while (i < d->dp.nr_ifaces) {
		const char *name = d->dp.ifaces[i].name;

		if (spec_has_iface(want, name) || xlvs_dp_detach(&d->dp, name))
			i++; /* kept (or failed and logged): next one */
	}
}

/*
 * The state's flow hash, said once at start, and when the file asks for another one: pinned
 * state keeps the hash it was made with (xlvs_maps_set_global()), as xlvs_conns keeps its size.
 */
static void note_flow_hash(struct xlvsd *d, const struct xlvs_global_spec *want)
{
	enum xlvs_flow_hash h;

	if (xlvs_maps_flow_hash(&d->maps, &h))
		return;
	if (!d->applied)
		log_info("flow hash: %s", xlvs_flow_hash_names[h]);
	if (h == want->flow_hash || (d->applied && want->flow_hash == d->spec.global.flow_hash))
		return;
	warn_flow_hash(want->flow_hash, h);
}

int xlvsd_apply(struct xlvsd *d, struct xlvs_spec *want, struct xlvs_apply_stats *st, char *msg, size_t size)
{
	int err;

	msg[0] = '\0';
	/* At start xlvs_dp_open() said it already; then only when a reload changes it. */
	if (d->applied && want->global.conn_table_size != d->spec.global.conn_table_size &&
	    want->global.conn_table_size)
		note_conn_table_size(d->opts->pin_dir, &d->maps, want->global.conn_table_size);
	/* the first apply (maybe on maps adopted after kill -9): checks start from their health */
	if (!d->applied && d->hc) {
		err = xlvsd_hc_adopt(d->hc, &d->maps);
		if (err)
			log_warn("health: cannot read the health of the adopted maps (%s): every "
				 "check starts in its initial state",
				 strerror(-err));
	}
	/* staged, not synced: a refused want must leave the running checks as they are */
	err = d->hc ? xlvsd_hc_stage(d->hc, want) : 0;
	if (err) {
		snprintf(msg, size, "health checks: %s", strerror(-err));
		return err;
	}
	/* Maps first: a newly attached interface sees the whole state from its first packet. */
	err = write_maps(d, want, false, st, msg, size);
	if (err) {
		restore_maps(d);
		return err;
	}
	err = attach_new(d, want, msg, size);
	if (err) {
		restore_maps(d);
		return err;
	}
	if (d->hc)
		xlvsd_hc_commit(d->hc);
	detach_old(d, want);
	note_flow_hash(d, &want->global);
	xlvs_spec_free(&d->spec);
	d->spec = *want;
	memset(want, 0, sizeof(*want));
	d->applied = true;
	d->last_apply = *st;
	xlvsd_steer_update(d, true); /* after attach_new: the tc program goes where xlvs_lb is */
	err = d->nh ? xlvs_nh_sync(d->nh) : 0;
	if (err)
		log_warn("next hops: sync failed: %s", strerror(-err));
	status_set(d);
	metrics_update(d);
	return 0;
}

static unsigned long long now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

static void reload_done(struct xlvsd *d, bool ok)
{
	status_lock(&d->status);
	if (ok)
		d->status.reloads_ok++;
	else
		d->status.reloads_failed++;
	d->status.last_reload_ok = ok;
	d->status.last_reload_time = time(NULL);
	status_unlock(&d->status);
}

/*
 * The second half of a reload, on the loop: apply what the parse gave (err:
 * the parse failed, why says how), count it, log it, tell systemd.
 */
static int reload_apply(struct xlvsd *d, int err, struct xlvs_spec *want, char *why, size_t why_size,
			struct xlvs_apply_stats *st, char *msg, size_t size)
{
	memset(st, 0, sizeof(*st));
	d->reloading = true;
	if (!err)
		err = xlvsd_apply(d, want, st, why, why_size);
	d->reloading = false;
	xlvs_spec_free(want);
	reload_done(d, !err);
	if (err) {
		snprintf(msg, size, "reload refused, running state kept: %s", why);
		log_err("%s", msg);
		notify_status(d, "last reload failed; ");
	} else {
		log_applied("reloaded", st);
		notify_status(d, NULL);
	}
	sd_notify(0, "READY=1");
	return err;
}

int xlvsd_reload(struct xlvsd *d, struct xlvs_apply_stats *st, char *msg, size_t size)
{
	struct xlvs_spec want;
	char why[768];
	int err;

	memset(&want, 0, sizeof(want));
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", now_usec());
	err = xlvsd_load_config(d->opts->config, &want, why, sizeof(why));
	return reload_apply(d, err, &want, why, sizeof(why), st, msg, size);
}

/*
 * A reload's parse in a worker thread. The worker touches only this struct
 * (under lock: its result) and the file; the loop owns everything else. At
 * stop a running worker is abandoned: it frees the struct when it ends.
 */
struct xlvsd_reload {
	struct ev_loop *loop;
	ev_async done; /* the worker finished */
	pthread_t th;
	pthread_mutex_t lock;
	char path[PATH_MAX];
	bool running, finished, abandoned;
	bool again;				/* requested meanwhile: parse once more */
	struct xlvsd_reload_waiter *now, *next; /* told after this parse, after the next */
	/* the worker's result, under lock once finished */
	struct xlvs_spec spec;
	int err;
	char why[768];
};

static void *reload_worker(void *arg)
{
	struct xlvsd_reload *r = arg;
	struct xlvs_spec spec;
	char why[768];
	bool gone;
	int err;

	memset(&spec, 0, sizeof(spec));
	err = xlvsd_load_config(r->path, &spec, why, sizeof(why));
	pthread_mutex_lock(&r->lock);
	r->spec = spec;
	r->err = err;
	memcpy(r->why, why, sizeof(why));
	r->finished = true;
	gone = r->abandoned;
	if (!gone)
		ev_async_send(r->loop, &r->done);
	pthread_mutex_unlock(&r->lock);
	if (gone) {
		xlvs_spec_free(&r->spec);
		pthread_mutex_destroy(&r->lock);
		free(r);
	}
	return NULL;
}

static int reload_spawn(struct xlvsd *d)
{
	struct xlvsd_reload *r = d->reload;
	sigset_t all, old;
	int err;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", now_usec());
	snprintf(r->path, sizeof(r->path), "%s", d->opts->config);
	r->finished = false;
	/* the worker takes no signal: they are the loop's (signalfd) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&r->th, NULL, reload_worker, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	r->running = !err;
	if (err) {
		log_err("reload: cannot start the parser thread: %s", strerror(-err));
		sd_notify(0, "READY=1");
	}
	return err;
}

static void reload_tell(struct xlvsd_reload_waiter *w, int err, const struct xlvs_apply_stats *st,
			const char *msg)
{
	struct xlvsd_reload_waiter *next;

	for (; w; w = next) {
		next = w->next; /* done() may free w */
		w->done(w, err, st, err ? msg : NULL);
	}
}

/* On the loop: the worker is done; apply its result, start the next parse if asked, tell who waited. */
static void reload_finished(struct ev_loop *loop, ev_async *w, int revents)
{
	struct xlvsd *d = w->data;
	struct xlvsd_reload *r = d->reload;
	struct xlvsd_reload_waiter *told;
	struct xlvs_apply_stats st;
	char msg[1024];
	int err, spawn_err = 0;
	bool finished;

	pthread_mutex_lock(&r->lock);
	finished = r->running && r->finished;
	pthread_mutex_unlock(&r->lock);
	if (!finished)
		return;
	pthread_join(r->th, NULL);
	r->running = false;
	err = reload_apply(d, r->err, &r->spec, r->why, sizeof(r->why), &st, msg, sizeof(msg));
	told = r->now;
	r->now = r->next;
	r->next = NULL;
	if (r->again) {
		r->again = false;
		log_info("reload: reading %s again for the requests that came meanwhile", d->opts->config);
		spawn_err = reload_spawn(d);
	}
	reload_tell(told, err, &st, msg);
	if (spawn_err) {
		told = r->now;
		r->now = NULL;
		memset(&st, 0, sizeof(st));
		snprintf(msg, sizeof(msg), "reload refused, running state kept: cannot start the parser: %s",
			 strerror(-spawn_err));
		reload_tell(told, spawn_err, &st, msg);
	}
}

static void waiter_add(struct xlvsd_reload_waiter **list, struct xlvsd_reload_waiter *w)
{
	if (!w)
		return;
	while (*list)
		list = &(*list)->next;
	w->next = NULL;
	*list = w;
}

static bool waiter_del(struct xlvsd_reload_waiter **list, struct xlvsd_reload_waiter *w)
{
	for (; *list; list = &(*list)->next) {
		if (*list == w) {
			*list = w->next;
			return true;
		}
	}
	return false;
}

int xlvsd_reload_start(struct xlvsd *d, struct xlvsd_reload_waiter *w)
{
	struct xlvsd_reload *r = d->reload;
	int err;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		pthread_mutex_init(&r->lock, NULL);
		r->loop = d->loop;
		ev_async_init(&r->done, reload_finished);
		r->done.data = d;
		ev_async_start(d->loop, &r->done);
		d->reload = r;
	}
	if (r->running) {
		/* it may have read the file before the change this request is about */
		log_info("reload: a reload is parsing; %s is read again once it is done", d->opts->config);
		r->again = true;
		waiter_add(&r->next, w);
		return 0;
	}
	err = reload_spawn(d);
	if (!err)
		waiter_add(&r->now, w);
	return err;
}

void xlvsd_reload_cancel(struct xlvsd *d, struct xlvsd_reload_waiter *w)
{
	if (d->reload && !waiter_del(&d->reload->now, w))
		waiter_del(&d->reload->next, w);
}

void xlvsd_reload_stop(struct xlvsd *d)
{
	struct xlvsd_reload *r = d->reload;
	bool gone;

	if (!r)
		return;
	d->reload = NULL;
	ev_async_stop(d->loop, &r->done);
	pthread_mutex_lock(&r->lock);
	gone = r->running && !r->finished;
	r->abandoned = true;
	pthread_mutex_unlock(&r->lock);
	if (gone) {
		log_info("reload: stopping while %s is parsed: that reload is dropped", r->path);
		pthread_detach(r->th); /* it frees r */
		return;
	}
	if (r->running)
		pthread_join(r->th, NULL);
	xlvs_spec_free(&r->spec);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* ---- events ------------------------------------------------------------------------ */

static void sig_event(struct xlvsd_ev *ev, uint32_t events)
{
	struct xlvsd *d = container_of(ev, struct xlvsd, sig);
	struct xlvs_apply_stats st;
	struct signalfd_siginfo si;
	char msg[1024];

	while (read(ev->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading %s", d->opts->config);
			if (xlvsd_reload_start(d, NULL))
				xlvsd_reload(d, &st, msg,
					     sizeof(msg)); /* no thread: on the loop, as before */
		} else {
			log_info("%s: stopping", strsignal(si.ssi_signo));
			d->stop = true;
			ev_break(d->loop, EVBREAK_ALL);
		}
	}
}

static void watchdog_event(struct ev_loop *loop, ev_timer *w, int revents)
{
	sd_notify(0, "WATCHDOG=1");
}

static void nh_event(struct xlvsd_ev *ev, uint32_t events)
{
	struct xlvsd *d = container_of(ev, struct xlvsd, nh_ev);
	int err = xlvs_nh_process(d->nh);

	if (xlvs_nh_routes_moved(d->nh))
		xlvsd_steer_routes_moved(d);
	/* Say it once per distinct error, not once per netlink message. */
	if (err && err != d->nh_last_err)
		log_warn("next hops: %s", strerror(-err));
	d->nh_last_err = err;
}

static int watch(struct xlvsd *d, struct xlvsd_ev *ev, int fd, void (*fn)(struct xlvsd_ev *, uint32_t))
{
	ev->fd = fd;
	ev->fn = fn;
	if (fd < 0 || xlvsd_ev_ctl(d->loop, EPOLL_CTL_ADD, ev, EPOLLIN)) {
		log_err("event loop setup failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Blocked from the start: a SIGHUP or SIGTERM during start-up waits for the loop. */
static void daemon_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigprocmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Signals through a signalfd watched like any fd (they are blocked from the
 * start, so one that arrives during start-up waits for the loop; libev's
 * ev_signal would install handlers instead). The watchdog is an ev_timer at
 * half of WATCHDOG_USEC.
 */
static int loop_setup(struct xlvsd *d)
{
	uint64_t usec = 0;
	sigset_t set;

	d->loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK);
	if (!d->loop) {
		log_err("event loop: %s", strerror(errno ? errno : ENOMEM));
		return -1;
	}
	daemon_signals(&set);
	if (watch(d, &d->sig, signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC), sig_event))
		return -1;
	if (sd_watchdog_enabled(0, &usec) <= 0 || !usec)
		return 0;
	usec /= 2;
	ev_timer_init(&d->watchdog, watchdog_event, usec / 1e6, usec / 1e6);
	ev_timer_start(d->loop, &d->watchdog);
	log_debug("watchdog: every %llu ms", (unsigned long long)usec / 1000);
	return 0;
}

static int loop_run(struct xlvsd *d)
{
	while (!d->stop) {
		if (!ev_run(d->loop, 0) && !d->stop) {
			log_err("event loop: nothing left to watch");
			return -1;
		}
	}
	return 0;
}

/* ---- start and stop -------------------------------------------------------------------- */

static void nh_start(struct xlvsd *d)
{
	int err = xlvs_nh_open(&d->nh, &d->maps);

	if (err) {
		d->nh = NULL;
		log_warn("next hops: resolver unavailable (%s); reals use bpf_fib_lookup", strerror(-err));
		return;
	}
	if (watch(d, &d->nh_ev, xlvs_nh_fd(d->nh), nh_event)) {
		xlvs_nh_close(d->nh);
		d->nh = NULL;
	}
}

/* Everything up to the first apply; returns an exit code. */
static int start(struct xlvsd *d, struct xlvs_spec *want)
{
	struct xlvs_apply_stats st;
	struct xlvs_capacity cap;
	char msg[1024];
	int err;

	xlvs_capacity_of(want, &cap);
	if (loop_setup(d))
		return XLVSD_EXIT_RUNTIME;
	/* The socket first: a second daemon stops here, before touching anything. */
	if (xlvsd_ctl_open(&d->ctl, d->opts->socket, d->loop, xlvsd_command_stream, d))
		return XLVSD_EXIT_RUNTIME;
	if (xlvs_bpffs_prepare(d->opts->pin_dir) ||
	    xlvs_dp_open(&d->dp, d->opts->pin_dir, want->global.conn_table_size, cap.ring_slots))
		return XLVSD_EXIT_RUNTIME;
	err = xlvs_maps_open(&d->maps, d->opts->pin_dir);
	if (err) {
		log_err("cannot open the maps pinned in %s: %s %s", d->opts->pin_dir, d->maps.failed,
			err == -EPROTO ? "was pinned by another version of xlvs "
					 "(`xlvsd --detach` drops the old data path and its state)"
				       : strerror(-err));
		return XLVSD_EXIT_RUNTIME;
	}
	d->maps_open = true;
	nh_start(d);
	err = xlvsd_hc_new(&d->hc, d->loop, 0, health_changed, d);
	if (err) {
		log_err("health checks: %s", strerror(-err));
		return XLVSD_EXIT_RUNTIME;
	}
	d->status.extra_metrics = xlvsd_hc_metrics;
	d->status.extra_arg = d->hc;
	err = xlvsd_steer_open(d);
	if (err) {
		log_err("health checks: %s", strerror(-err));
		return XLVSD_EXIT_RUNTIME;
	}
	err = xlvsd_apply(d, want, &st, msg, sizeof(msg));
	if (err) {
		log_err("%s", msg);
		return XLVSD_EXIT_RUNTIME;
	}
	log_applied("applied", &st);
	d->sweep = xlvsd_sweep_start(d->loop, &d->maps);
	if (!d->sweep)
		log_warn("conn sweep: out of memory: expired entries stay until LRU eviction");
	xlvsd_sweep_report_to(d->sweep, &d->status);
	return XLVSD_EXIT_OK;
}

static void stop(struct xlvsd *d)
{
	char ifs[256] = "";
	unsigned int i;

	for (i = 0; i < d->dp.nr_ifaces; i++)
		snprintf(ifs + strlen(ifs), sizeof(ifs) - strlen(ifs), "%s%s", i ? ", " : "",
			 d->dp.ifaces[i].name);
	if (d->mx)
		xlvs_metrics_stop(d->mx);
	xlvsd_sweep_stop(d->sweep);
	xlvsd_watch_stop(d);
	xlvsd_ctl_close(d->ctl); /* first: a client waiting for a reload cancels its wait */
	xlvsd_reload_stop(d);
	xlvsd_steer_close(d);
	xlvsd_hc_free(d->hc);
	if (d->nh)
		xlvs_nh_close(d->nh);
	if (d->maps_open)
		xlvs_maps_close(&d->maps);
	xlvs_dp_close(&d->dp);
	xlvs_spec_free(&d->spec);
	xlvsd_forget_applied(d);
	if (d->loop)
		ev_loop_destroy(d->loop);
	if (ifs[0])
		log_info("stopped; xlvs_lb keeps forwarding on %s (xlvsd --detach removes it)", ifs);
}

int xlvsd_run(const struct xlvsd_opts *opts)
{
	static struct xlvsd d; /* the metrics thread reads maps and status: not on a stack */
	struct xlvs_spec want;
	sigset_t set;
	char msg[768];
	int rc;

	daemon_signals(&set);
	memset(&d, 0, sizeof(d));
	d.opts = opts;
	d.dp.lock_fd = d.dp.prog_fd = -1;
	xlvsd_status_init(&d.status);
	memset(&want, 0, sizeof(want));
	if (xlvsd_load_config(opts->config, &want, msg, sizeof(msg))) {
		log_err("%s", msg);
		return XLVSD_EXIT_CONFIG;
	}
	if (geteuid() != 0) {
		log_err("xlvsd must run as root (it loads BPF programs and pins them)");
		xlvs_spec_free(&want);
		return XLVSD_EXIT_RUNTIME;
	}
	/* What --check says, before anything is created: a start fails like it. */
	if (plan_config(opts->pin_dir, &want, msg, sizeof(msg))) {
		log_err("%s: %s", opts->config, msg);
		xlvs_spec_free(&want);
		return XLVSD_EXIT_CONFIG;
	}
	rc = start(&d, &want);
	xlvs_spec_free(&want);
	/* A failed start leaves nothing behind: what it created goes (what it adopted stays). */
	if (rc != XLVSD_EXIT_OK && d.dp.created && d.dp.lock_fd >= 0)
		xlvs_dp_remove(&d.dp);
	if (rc == XLVSD_EXIT_OK) {
		notify_status(&d, NULL);
		sd_notify(0, "READY=1");
		log_info("ready: %zu services, %zu reals, %u interfaces (pin %s, socket %s)",
			 d.spec.nr_services, xlvsd_spec_nr_reals(&d.spec), d.dp.nr_ifaces, opts->pin_dir,
			 opts->socket);
		xlvsd_watch_start(&d);
		if (loop_run(&d))
			rc = XLVSD_EXIT_RUNTIME;
	}
	sd_notify(0, "STOPPING=1");
	stop(&d);
	return rc;
}
