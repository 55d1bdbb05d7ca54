/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Health checks through the forwarding path (docs/health.md): xlvsd's side of
 * bpf/xlvs_tc.bpf.c. The tc program runs on the interfaces xlvs_lb runs on
 * while `health_via_forwarding` is on; after every write of the maps each
 * ACTIVE dr/tun/gue real has its mark in xlvs_hc_marks (maps/hcmarks.c), and
 * the health checks ask here for the mark of the real they check.
 */
#ifndef XLVSD_STEER_H
#define XLVSD_STEER_H

#include <stdbool.h>

struct xlvsd;
struct xlvs_tc;

/* Load the tc program on the pinned maps (after xlvs_dp_open). A failure only turns steering off. */
int xlvsd_steer_open(struct xlvsd *d);
void xlvsd_steer_close(struct xlvsd *d);
/*
 * After the maps took d->spec (an apply, a health change): attachments and
 * marks to match. verbose: log each service whose checks cannot be steered.
 */
void xlvsd_steer_update(struct xlvsd *d, bool verbose);
/*
 * The director's routes moved (xlvs_nh_routes_moved()): ask each VIP's route again, at most
 * every 100 ms or 20 looks' time, up to a second (a later look is timed), and steer its checks or not to match; each service
 * that changes is logged.
 */
void xlvsd_steer_routes_moved(struct xlvsd *d);
/* The tc program and its attachments (for the pin watch), or NULL before open. */
const struct xlvs_tc *xlvsd_steer_tc(const struct xlvsd *d);

#endif /* XLVSD_STEER_H */
