// SPDX-License-Identifier: GPL-2.0
/* Rise/fall state machine of one health check, see hcfsm.h. */
#include "hcfsm.h"

static bool flip(struct xlvs_hc_fsm *f, bool up)
{
	f->up = up;
	f->ok_run = f->fail_run = 0;
	f->transitions++;
	return true;
}

bool xlvs_hc_fsm_feed(struct xlvs_hc_fsm *f, bool ok)
{
	if (ok) {
		f->fail_run = 0;
		if (f->up)
			return false;
		if (f->ok_run < UINT16_MAX)
			f->ok_run++;
		return f->ok_run >= f->rise ? flip(f, true) : false;
	}
	f->ok_run = 0;
	if (!f->up)
		return false;
	if (f->fail_run < UINT16_MAX)
		f->fail_run++;
	return f->fail_run >= f->fall ? flip(f, false) : false;
}

bool xlvs_hc_fsm_set(struct xlvs_hc_fsm *f, bool up)
{
	return f->up == up ? false : flip(f, up);
}
