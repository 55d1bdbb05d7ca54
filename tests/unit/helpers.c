// SPDX-License-Identifier: GPL-2.0
/* See helpers.h. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/internal/ordered-set.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

struct xlvs_lb_bpf *unit_director_load(uint32_t conns, uint32_t ring_slots, struct xlvs_maps *m)
{
	struct xlvs_lb_bpf *skel = xlvs_lb_bpf__open();
	struct bpf_map *map;
	int err;

	cr_assert_not_null(skel, "open the xlvs_lb skeleton");
	bpf_object__for_each_map (map, skel->obj)
		bpf_map__set_pin_path(map, NULL); /* each test owns private maps */
	if (conns)
		bpf_map__set_max_entries(skel->maps.xlvs_conns, conns);
	if (ring_slots)
		bpf_map__set_max_entries(skel->maps.xlvs_ring, ring_slots);
	cr_assert_eq(xlvs_lb_bpf__load(skel), 0, "load xlvs_lb: %s (root needed)", strerror(errno));
	if (m) {
		err = xlvs_maps_from_obj(m, skel->obj);
		cr_assert_eq(err, 0, "xlvs_maps_from_obj: %s", strerror(-err));
	}
	return skel;
}

struct xlvs_addr unit_addr(const char *text)
{
	struct xlvs_addr a;

	memset(&a, 0, sizeof(a));
	cr_assert_eq(xlvs_addr_parse(text, &a), 0, "%s", text);
	return a;
}

double unit_slow(void)
{
	static double factor;
	const char *v;
	char *end;

	if (factor)
		return factor;
	v = getenv("XLVS_TEST_SLOW");
	if (!v || !*v)
		return factor = 1;
	factor = strtod(v, &end);
	if (*end || !(factor >= 1 && factor <= 100)) {
		fprintf(stderr, "XLVS_TEST_SLOW=%s: not a factor from 1 to 100 (docs/testing.md)\n", v);
		exit(2);
	}
	return factor;
}

/* Before any test runs (in the runner, which enforces the timeouts): scale every .timeout. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	struct criterion_suite_set *suite;
	struct criterion_test *test;
	double f = unit_slow();

	if (f == 1)
		return;
	FOREACH_SET(suite, set->suites)
	{
		if (suite->suite.data && suite->suite.data->timeout > 0) /* TestSuite(.timeout) */
			suite->suite.data->timeout *= f;
		FOREACH_SET(test, suite->tests)
		if (test->data->timeout > 0)
			test->data->timeout *= f;
	}
	fprintf(stderr, "XLVS_TEST_SLOW=%g: test timeouts and wall-clock budgets multiplied by it\n", f);
}
