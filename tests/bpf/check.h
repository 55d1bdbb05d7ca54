/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CHECK(): a fatal check for code shared by the Criterion suites and the
 * benchmark. Under Criterion it is a test assertion; in the benchmark
 * (built with -DXLVS_NO_CRITERION) it prints the message and exits 2.
 */
#ifndef XLVS_TEST_CHECK_H
#define XLVS_TEST_CHECK_H

#ifdef XLVS_NO_CRITERION
#include <stdio.h>
#include <stdlib.h>
#define CHECK(cond, ...)                                                                                     \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);             \
			fprintf(stderr, __VA_ARGS__);                                                        \
			fputc('\n', stderr);                                                                 \
			exit(2);                                                                             \
		}                                                                                            \
	} while (0)
#else
#include <criterion/criterion.h>
#define CHECK(cond, ...) cr_assert(cond, __VA_ARGS__)
#endif

#endif
