/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xlvsd's connection sweep: every second, one bounded step of
 * xlvs_sweep_step() (maps/xlvsmaps.h) deletes expired entries of
 * xlvs_conns, so that the table and the counts read from it stay true
 * without the loop ever stalling on a large table; and one of
 * xlvs_persist_sweep_step() over the persistence templates (xlvs_persist).
 */
#ifndef XLVSD_SWEEP_H
#define XLVSD_SWEEP_H

#include <stdint.h>

#include <ev.h>

#include "xlvsmaps.h"

#define XLVSD_SWEEP_PERIOD_S 1.0
#define XLVSD_SWEEP_PASS     16u   /* steps a pass over the whole table takes at most */
#define XLVSD_SWEEP_MIN	     4096u /* entries a step looks at, at least */

struct xlvsd_sweep;

/* The entries one step looks at for a table of conn_entries: a pass in XLVSD_SWEEP_PASS steps. */
uint32_t xlvsd_sweep_budget(uint32_t conn_entries);
/* Start sweeping m (which must outlive it) on loop; NULL if out of memory. */
struct xlvsd_sweep *xlvsd_sweep_start(struct ev_loop *loop, struct xlvs_maps *m);
/* What it did so far. */
void xlvsd_sweep_stats(const struct xlvsd_sweep *sw, struct xlvs_sweep_stats *st);
void xlvsd_sweep_stop(struct xlvsd_sweep *sw);

#endif
