// SPDX-License-Identifier: GPL-2.0
/* xlvsd's connection sweep and reconcile of the schedulers' connection counts (sweep.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "status.h"
#include "sweep.h"

struct xlvsd_sweep {
	ev_timer timer; /* first: the callback's watcher is the sweep */
	ev_idle burst;	/* a counting pass's steps, back to back while nothing else is pending */
	struct ev_loop *loop;
	struct xlvs_maps *maps;
	struct xlvs_sweep *walk;
	struct xlvs_persist_sweep *tpl_walk; /* persistence templates, swept alongside */
	struct xlvs_nat_sweep *nat_walk;     /* NAT reply entries of connections that ended */
	struct xlvs_sweep_stats total, tpl_total, nat_total;
	uint64_t pass_deleted; /* deleted in the pass in progress */
	struct xlvsd_status *status;
	ev_tstamp next_reconcile;
	int last_err, last_tpl_err, last_nat_err;
};

uint32_t xlvsd_sweep_budget(uint32_t conn_entries)
{
	uint32_t b = (conn_entries + XLVSD_SWEEP_PASS - 1) / XLVSD_SWEEP_PASS;

	return b < XLVSD_SWEEP_MIN ? XLVSD_SWEEP_MIN : b;
}

static void add_stats(struct xlvs_sweep_stats *to, const struct xlvs_sweep_stats *st)
{
	to->scanned += st->scanned;
	to->expired += st->expired;
	to->deleted += st->deleted;
	to->passes += st->passes;
	to->uncounted += st->uncounted;
	to->reconciles += st->reconciles;
	to->raised += st->raised;
	to->lowered += st->lowered;
	to->ring_cleared += st->ring_cleared;
	to->ring_held += st->ring_held;
}

/* A counting pass ended: what it corrected, for /metrics and the log. */
static void reconciled(struct xlvsd_sweep *sw, const struct xlvs_sweep_stats *st)
{
	log_debug("conn counts reconciled: %llu added, %llu taken off", (unsigned long long)st->raised,
		  (unsigned long long)st->lowered);
	if (!sw->status)
		return;
	status_lock(sw->status);
	sw->status->reconciles += st->reconciles;
	sw->status->reconcile_raised = st->raised;
	sw->status->reconcile_lowered = st->lowered;
	status_unlock(sw->status);
}

/* A pass ended: its ring-state figures for the log, and the totals since start for /metrics. */
static void ring_report(struct xlvsd_sweep *sw, const struct xlvs_sweep_stats *st)
{
	if (st->ring_cleared || st->ring_held)
		log_debug("ring state: %llu changed slots unflagged, %llu kept for entries naming another "
			  "real than the slot's owner",
			  (unsigned long long)st->ring_cleared, (unsigned long long)st->ring_held);
	if (!sw->status)
		return;
	status_lock(sw->status);
	sw->status->ring_cleared = sw->total.ring_cleared;
	sw->status->ring_held = sw->total.ring_held;
	status_unlock(sw->status);
}

/* A bounded step over xlvs_persist too: expired templates would otherwise stay until the LRU evicts them. */
static void sweep_templates(struct xlvsd_sweep *sw)
{
	struct xlvs_sweep_stats st = { 0 };
	int err = xlvs_persist_sweep_step(sw->maps, sw->tpl_walk, xlvsd_sweep_budget(XLVS_PERSIST_DEFAULT),
					  &st);

	if (err && err != sw->last_tpl_err)
		log_warn("template sweep: %s", strerror(-err));
	sw->last_tpl_err = err;
	sw->tpl_total.scanned += st.scanned;
	sw->tpl_total.expired += st.expired;
	sw->tpl_total.deleted += st.deleted;
	sw->tpl_total.passes += st.passes;
	if (st.passes)
		log_debug("template sweep: pass %llu done, %llu expired templates deleted in all",
			  (unsigned long long)sw->tpl_total.passes,
			  (unsigned long long)sw->tpl_total.deleted);
}

/* A bounded step over xlvs_nat: a fullnat source port is reused once its connection is gone. */
static void sweep_nat(struct xlvsd_sweep *sw)
{
	struct xlvs_sweep_stats st = { 0 };
	int err = xlvs_nat_sweep_step(sw->maps, sw->nat_walk, xlvsd_sweep_budget(sw->maps->nat_entries), &st);

	if (err && err != sw->last_nat_err)
		log_warn("nat sweep: %s", strerror(-err));
	sw->last_nat_err = err;
	add_stats(&sw->nat_total, &st);
	if (st.passes)
		log_debug("nat sweep: pass %llu done, %llu reply entries of ended connections deleted in all",
			  (unsigned long long)sw->nat_total.passes,
			  (unsigned long long)sw->nat_total.deleted);
}

static void run_step(struct xlvsd_sweep *sw)
{
	struct xlvs_sweep_stats st = { 0 };
	struct timespec t0, t1;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = xlvs_sweep_step(sw->maps, sw->walk, xlvsd_sweep_budget(sw->maps->conn_entries), &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Say an error once, not every second. */
	if (err && err != sw->last_err)
		log_warn("conn sweep: %s", strerror(-err));
	sw->last_err = err;
	add_stats(&sw->total, &st);
	sw->pass_deleted += st.deleted;
	if (st.reconciles)
		reconciled(sw, &st);
	if (st.passes) {
		log_debug(
			"conn sweep: pass %llu done, %llu expired entries deleted (last step %llu entries, %.1f ms)",
			(unsigned long long)sw->total.passes, (unsigned long long)sw->pass_deleted,
			(unsigned long long)st.scanned,
			(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
		sw->pass_deleted = 0;
		ring_report(sw, &st);
	}
}

static void burst_step(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct xlvsd_sweep *sw = (struct xlvsd_sweep *)((char *)w - offsetof(struct xlvsd_sweep, burst));

	run_step(sw);
	/* done, or failed: the timer's ticks go on at their pace (and retry a failed count) */
	if (!xlvs_sweep_reconciling(sw->walk) || sw->last_err)
		ev_idle_stop(loop, w);
}

static void sweep_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct xlvsd_sweep *sw = (struct xlvsd_sweep *)w;

	sweep_templates(sw); /* once a second, whatever the connection sweep is doing */
	sweep_nat(sw);
	/* a pass longer than the period (a huge table) is not restarted: it would never end */
	if (ev_now(loop) >= sw->next_reconcile && !xlvs_sweep_reconciling(sw->walk)) {
		xlvs_sweep_reconcile(sw->walk);
		sw->next_reconcile = ev_now(loop) + XLVSD_RECONCILE_PERIOD_S;
	}
	if (ev_is_active(&sw->burst))
		return; /* the burst walks the table now */
	run_step(sw);
	if (xlvs_sweep_reconciling(sw->walk) && !sw->last_err)
		ev_idle_start(loop, &sw->burst);
}

struct xlvsd_sweep *xlvsd_sweep_start(struct ev_loop *loop, struct xlvs_maps *m)
{
	struct xlvsd_sweep *sw = calloc(1, sizeof(*sw));

	if (!sw || !(sw->walk = xlvs_sweep_new()) || !(sw->tpl_walk = xlvs_persist_sweep_new()) ||
	    !(sw->nat_walk = xlvs_nat_sweep_new())) {
		if (sw) {
			xlvs_sweep_free(sw->walk);
			xlvs_persist_sweep_free(sw->tpl_walk);
		}
		free(sw);
		return NULL;
	}
	sw->loop = loop;
	sw->maps = m;
	/* the counts in pinned maps may be from before this xlvsd: reconcile at the first tick */
	sw->next_reconcile = ev_now(loop);
	ev_idle_init(&sw->burst, burst_step);
	ev_timer_init(&sw->timer, sweep_tick, XLVSD_SWEEP_PERIOD_S, XLVSD_SWEEP_PERIOD_S);
	ev_timer_start(loop, &sw->timer);
	return sw;
}

void xlvsd_sweep_report_to(struct xlvsd_sweep *sw, struct xlvsd_status *status)
{
	if (sw)
		sw->status = status;
}

void xlvsd_sweep_reconcile_soon(struct xlvsd_sweep *sw)
{
	if (!sw)
		return;
	xlvs_sweep_reconcile(sw->walk);
	sw->last_err = 0;
	ev_idle_start(sw->loop, &sw->burst);
}

void xlvsd_sweep_stats(const struct xlvsd_sweep *sw, struct xlvs_sweep_stats *st)
{
	*st = sw->total;
}

void xlvsd_sweep_stop(struct xlvsd_sweep *sw)
{
	if (!sw)
		return;
	ev_timer_stop(sw->loop, &sw->timer);
	ev_idle_stop(sw->loop, &sw->burst);
	xlvs_sweep_free(sw->walk);
	xlvs_persist_sweep_free(sw->tpl_walk);
	xlvs_nat_sweep_free(sw->nat_walk);
	free(sw);
}
