/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The health state of one checked real: a pure state machine, no I/O.
 * Up: `fall` consecutive failures take it down. Down: `rise` consecutive
 * successes bring it up. A result of the other kind resets the run, so a
 * flapping real (alternating results) never changes state unless rise or
 * fall is 1 - keepalived's and ldirectord's semantics.
 */
#ifndef XLVSD_HCFSM_H
#define XLVSD_HCFSM_H

#include <stdbool.h>
#include <stdint.h>

struct xlvs_hc_fsm {
	bool up;
	uint16_t rise, fall;	   /* at least 1 */
	uint16_t ok_run, fail_run; /* consecutive successes / failures so far */
	uint64_t transitions;	   /* state changes since init */
};

static inline void xlvs_hc_fsm_init(struct xlvs_hc_fsm *f, uint16_t rise, uint16_t fall, bool initial_up)
{
	f->up = initial_up;
	f->rise = rise ? rise : 1;
	f->fall = fall ? fall : 1;
	f->ok_run = f->fail_run = 0;
	f->transitions = 0;
}

/* One check result; true if the state changed (f->up is the new state). */
bool xlvs_hc_fsm_feed(struct xlvs_hc_fsm *f, bool ok);

/* Force a state (an administrative override); true if it changed. */
bool xlvs_hc_fsm_set(struct xlvs_hc_fsm *f, bool up);

#endif /* XLVSD_HCFSM_H */
