/* SPDX-License-Identifier: GPL-2.0 */
/* Reading the pinned maps into a struct xlvs_view (fmt.h) for the listing commands. */
#ifndef XLVS_CLI_VIEW_H
#define XLVS_CLI_VIEW_H

#include "fmt.h"
#include "xlvs.h"

#define XLVS_VIEW_CONNS	   (1 << 0) /* active/inactive per real */
#define XLVS_VIEW_COUNTERS (1 << 1) /* per service and real */
#define XLVS_VIEW_DROPS	   (1 << 2) /* drop reasons and events */
#define XLVS_VIEW_TABLE	   (1 << 3) /* connection table entries and capacity */
#define XLVS_VIEW_RING	   (1 << 4) /* ring slots per real (each ring read whole) */
#define XLVS_VIEW_LOAD	   (1 << 5) /* xlvs_real_load of the COUNTED reals (lc, wlc, ...) */

/* Open the maps under c->pin_dir; prints the error. Returns an exit code. */
int xlvs_cli_maps_open(struct xlvs_ctx *c, struct xlvs_maps *m);
/* Read what `what` asks for; prints the error. Returns an exit code. */
int xlvs_view_read(struct xlvs_ctx *c, struct xlvs_maps *m, struct xlvs_view *s, int what);
void xlvs_view_free(struct xlvs_view *s);

#endif /* XLVS_CLI_VIEW_H */
