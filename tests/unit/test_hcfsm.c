// SPDX-License-Identifier: GPL-2.0
/*
 * The rise/fall state machine (loader/health/hcfsm.c) as a table: a sequence of
 * check results ('+' success, '-' failure) and the state after each one
 * ('U' up, 'D' down).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "health/hcfsm.h"

struct fsm_row {
	const char *name;
	unsigned int rise, fall;
	bool initial_up;
	const char *results;
	const char *states;
	unsigned int transitions;
};

static const struct fsm_row rows[] = {
	{ "steady up", 2, 3, true, "++++", "UUUU", 0 },
	{ "fall 3 takes three failures", 2, 3, true, "---", "UUD", 1 },
	{ "a success resets the failure run", 2, 3, true, "--+---", "UUUUUD", 1 },
	{ "rise 2 from initial down", 2, 3, false, "++", "DU", 1 },
	{ "a failure resets the success run", 2, 3, false, "+-++", "DDDU", 1 },
	{ "down then back up", 2, 3, true, "---++", "UUDDU", 2 },
	{ "flapping never moves with rise 2 fall 3", 2, 3, true, "-+-+-+-+-+", "UUUUUUUUUU", 0 },
	{ "flapping from down never rises with rise 2", 2, 3, false, "+-+-+-+-", "DDDDDDDD", 0 },
	{ "flapping with rise 1 fall 1 follows every result", 1, 1, true, "-+-+", "DUDU", 4 },
	{ "rise 1 fall 2 flap: down needs two in a row", 1, 2, true, "-+-+--+", "UUUUUDU", 2 },
	{ "initial down stays down on failures", 2, 3, false, "----", "DDDD", 0 },
	{ "extra failures after down count nothing", 1, 2, true, "-----+", "UDDDDU", 2 },
	{ "long rise", 5, 1, true, "-++++-+++++", "DDDDDDDDDDU", 2 },
};

Test(hcfsm, table)
{
	size_t i, k;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct fsm_row *r = &rows[i];
		struct xlvs_hc_fsm f;
		char got[64] = "";
		unsigned int changes = 0;

		cr_assert_eq(strlen(r->results), strlen(r->states), "row '%s' malformed", r->name);
		xlvs_hc_fsm_init(&f, r->rise, r->fall, r->initial_up);
		for (k = 0; r->results[k]; k++) {
			bool was = f.up;
			bool changed = xlvs_hc_fsm_feed(&f, r->results[k] == '+');

			cr_assert_eq(changed, was != f.up, "row '%s' step %zu: changed flag wrong", r->name,
				     k);
			changes += changed;
			got[k] = f.up ? 'U' : 'D';
		}
		got[k] = '\0';
		cr_expect_str_eq(got, r->states, "row '%s': got %s, want %s", r->name, got, r->states);
		cr_expect_eq(f.transitions, r->transitions, "row '%s': %llu transitions, want %u", r->name,
			     (unsigned long long)f.transitions, r->transitions);
		cr_expect_eq(changes, r->transitions, "row '%s'", r->name);
	}
}

Test(hcfsm, set_forces_and_resets_runs)
{
	struct xlvs_hc_fsm f;

	xlvs_hc_fsm_init(&f, 2, 2, true);
	xlvs_hc_fsm_feed(&f, false);
	cr_assert(xlvs_hc_fsm_set(&f, false));
	cr_assert(!xlvs_hc_fsm_set(&f, false));
	cr_assert(!f.up);
	xlvs_hc_fsm_feed(&f, true);
	cr_assert(!f.up, "one success of rise 2");
	xlvs_hc_fsm_feed(&f, true);
	cr_assert(f.up);
	cr_assert_eq(f.transitions, 2);
}

Test(hcfsm, zero_counts_act_as_one)
{
	struct xlvs_hc_fsm f;

	xlvs_hc_fsm_init(&f, 0, 0, true);
	cr_assert(xlvs_hc_fsm_feed(&f, false));
	cr_assert(xlvs_hc_fsm_feed(&f, true));
}
