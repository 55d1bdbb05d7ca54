/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xlvsd's connection sweep: every second, one bounded step of
 * xlvs_sweep_step() (maps/xlvsmaps.h) deletes expired entries of
 * xlvs_conns, so that the table and the counts read from it stay true
 * without the loop ever stalling on a large table; and one of
 * xlvs_persist_sweep_step() over the persistence templates (xlvs_persist).
 * Each complete pass also unflags ring-state slots whose window is over and
 * whose flows no entry holds (stats ring_cleared / ring_held; maps/ringsweep.c).
 *
 * Every XLVSD_RECONCILE_PERIOD_S (and at the first tick, and soon after a
 * reload that starts counting a real) a pass is a counting one that
 * reconciles xlvs_real_load with the table: its steps, of the same budget,
 * then run back to back from an idle watcher, so the pass takes about the
 * table's walk time (the window its error comes from) while other events
 * still run between steps. docs/architecture.md, "Connection counts for
 * least-connection schedulers", says why 30 s and what it costs.
 */
#ifndef XLVSD_SWEEP_H
#define XLVSD_SWEEP_H

#include <stdint.h>

#include <ev.h>

#include "xlvsmaps.h"

#define XLVSD_SWEEP_PERIOD_S	 1.0
#define XLVSD_SWEEP_PASS	 16u   /* steps a pass over the whole table takes at most */
#define XLVSD_SWEEP_MIN		 4096u /* entries a step looks at, at least */
#define XLVSD_RECONCILE_PERIOD_S 30.0  /* between counting passes */

struct xlvsd_sweep;
struct xlvsd_status;

/* The entries one step looks at for a table of conn_entries: a pass in XLVSD_SWEEP_PASS steps. */
uint32_t xlvsd_sweep_budget(uint32_t conn_entries);
/* Start sweeping m (which must outlive it) on loop; NULL if out of memory. */
struct xlvsd_sweep *xlvsd_sweep_start(struct ev_loop *loop, struct xlvs_maps *m);
/* Where reconciles are reported for /metrics (status.h); NULL: nowhere. */
void xlvsd_sweep_report_to(struct xlvsd_sweep *sw, struct xlvsd_status *status);
/* Reconcile now: a counting pass starts at the loop's next iteration (sw may be NULL). */
void xlvsd_sweep_reconcile_soon(struct xlvsd_sweep *sw);
/* What it did so far. */
void xlvsd_sweep_stats(const struct xlvsd_sweep *sw, struct xlvs_sweep_stats *st);
void xlvsd_sweep_stop(struct xlvsd_sweep *sw);

#endif
