// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler tables (maps/schedtab.c) against golden tables written out here:
 * IPVS's sh/dh bucket dealing, rr and wrr sequences repeated over the slice,
 * periods, refusals, and the ipvsadm -b flag names.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "schedtab.h"

#define A    10
#define B    11
#define C    12
#define NONE XLVS_REAL_NONE

struct golden {
	const char *name;
	uint8_t sched;
	uint32_t weights[3]; /* of A, B, C */
	uint32_t size;
	uint32_t want[16];
	uint64_t period;
};

static const struct golden goldens[] = {
	/* ip_vs_sh_reassign(): weight consecutive buckets each, a weight-0 real keeps one */
	{ "sh 2,1,0", XLVS_SCHED_SH, { 2, 1, 0 }, 7, { A, A, B, C, A, A, B }, 0 },
	{ "dh 1,1,1", XLVS_SCHED_DH, { 1, 1, 1 }, 5, { A, B, C, A, B }, 0 },
	{ "sh no weights", XLVS_SCHED_SH, { 0, 0, 0 }, 5, { A, B, C, A, B }, 0 },
	/* ip_vs_wrr.c: cw 4: A; 3: A B; 2: A B C; 1: A B C; then the sequence again */
	{ "wrr 4,3,2", XLVS_SCHED_WRR, { 4, 3, 2 }, 11, { A, A, B, A, B, C, A, B, C, A, A }, 9 },
	/* gcd 2, cw from 4 - (2 - 1) = 3: A; 1: A B C */
	{ "wrr 4,2,2", XLVS_SCHED_WRR, { 4, 2, 2 }, 7, { A, A, B, C, A, A, B }, 4 },
	{ "wrr 1,0,1", XLVS_SCHED_WRR, { 1, 0, 1 }, 5, { A, C, A, C, A }, 2 },
	{ "wrr no weights", XLVS_SCHED_WRR, { 0, 0, 0 }, 3, { NONE, NONE, NONE }, 0 },
	{ "rr 5,0,2", XLVS_SCHED_RR, { 5, 0, 2 }, 5, { A, C, A, C, A }, 2 },
	{ "rr 1,1,1", XLVS_SCHED_RR, { 1, 1, 1 }, 7, { A, B, C, A, B, C, A }, 3 },
	/* lc family: the reals in order, weight 0 too (the data path reads live weights), then none */
	{ "wlc 1,0,2", XLVS_SCHED_WLC, { 1, 0, 2 }, 5, { A, B, C, NONE, NONE }, 3 },
	{ "nq 0,0,0", XLVS_SCHED_NQ, { 0, 0, 0 }, 3, { A, B, C }, 3 },
	{ "lblc 1,0,2", XLVS_SCHED_LBLC, { 1, 0, 2 }, 4, { A, B, C, NONE }, 3 },
	{ "lblcr 3,1,1", XLVS_SCHED_LBLCR, { 3, 1, 1 }, 3, { A, B, C }, 3 },
};

static void backends(const uint32_t *weights, struct xlvs_maglev_backend *b)
{
	static const char *const keys[3] = { "a", "b", "c" };
	int i;

	for (i = 0; i < 3; i++)
		b[i] = (struct xlvs_maglev_backend){ (uint32_t)(A + i), weights[i], keys[i], 1 };
}

Test(schedtab, golden_tables)
{
	struct xlvs_maglev_backend b[3];
	uint32_t table[16];
	size_t i;

	for (i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		const struct golden *g = &goldens[i];

		backends(g->weights, b);
		memset(table, 0xab, sizeof(table));
		cr_assert_eq(xlvs_sched_build(g->sched, table, g->size, b, 3), 0, "%s", g->name);
		cr_expect_arr_eq(table, g->want, g->size * sizeof(uint32_t), "%s", g->name);
		cr_expect_eq(xlvs_sched_period(g->sched, b, 3), g->period, "%s", g->name);
	}
}

Test(schedtab, refusals)
{
	static const uint32_t heavy[3] = { 4, 3, 2 }, too_heavy[3] = { 70000, 1, 1 };
	struct xlvs_maglev_backend b[3];
	uint32_t table[16];

	backends(heavy, b);
	cr_expect_eq(xlvs_sched_build(XLVS_SCHED_WRR, table, 7, b, 3), -E2BIG, "period 9 in 7 slots");
	cr_expect_eq(xlvs_sched_build(XLVS_SCHED_WLC, table, 2, b, 3), -E2BIG, "3 reals in 2 slots");
	cr_expect_eq(xlvs_sched_build(XLVS_SCHED_LBLCR, table, 2, b, 3), -E2BIG, "lblcr: 3 reals in 2 slots");
	cr_expect_eq(xlvs_sched_build(XLVS_SCHED_MAX, table, 7, b, 3), -EINVAL, "no such scheduler");
	cr_expect_eq(xlvs_sched_build(XLVS_SCHED_SH, table, 0, b, 3), -EINVAL, "no slots");
	backends(too_heavy, b);
	cr_expect_eq(xlvs_sched_build(XLVS_SCHED_SH, table, 7, b, 3), -EINVAL, "weight above 65535");
}

Test(schedtab, mh_is_the_maglev_ring)
{
	static const uint32_t w[3] = { 1, 1, 1 };
	struct xlvs_maglev_backend b[3];
	uint32_t mh[13], maglev[13];

	backends(w, b);
	cr_assert_eq(xlvs_sched_build(XLVS_SCHED_MH, mh, 13, b, 3), 0);
	cr_assert_eq(xlvs_maglev_build(maglev, 13, b, 3), 0);
	cr_expect_arr_eq(mh, maglev, sizeof(mh));
}

Test(schedtab, flag_names)
{
	uint8_t sched = 0xff;
	char buf[48];

	cr_expect_eq(xlvs_sched_flag_parse("sh-port", &sched), XLVS_SVC_F_SCHED_PORT);
	cr_expect_eq(sched, XLVS_SCHED_SH);
	cr_expect_eq(xlvs_sched_flag_parse("mh-fallback", &sched), XLVS_SVC_F_SCHED_FALLBACK);
	cr_expect_eq(sched, XLVS_SCHED_MH);
	cr_expect_eq(xlvs_sched_flag_parse("flag-3", &sched), 0);
	cr_expect_null(xlvs_sched_flag_name(XLVS_SCHED_DH, XLVS_SVC_F_SCHED_PORT));
	cr_expect_str_eq(xlvs_sched_flags_str(XLVS_SCHED_SH, XLVS_SVC_F_SCHED_MASK | XLVS_SVC_F_ECHO, buf,
					      sizeof(buf)),
			 "sh-fallback, sh-port");
	cr_expect_str_eq(xlvs_sched_flags_str(XLVS_SCHED_RR, XLVS_SVC_F_SCHED_MASK, buf, sizeof(buf)), "");
}
