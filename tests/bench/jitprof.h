/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where in the source a sampled address of a JITed BPF program is: the
 * program's functions (their JIT images) and line info, written by the bench
 * while its programs are loaded (jitprof_write()) and read back after perf
 * has sampled them (xlvs-profile, docs/bench.md "Profiling a row").
 */
#ifndef XLVS_BENCH_JITPROF_H
#define XLVS_BENCH_JITPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JP_NAME_MAX 64

/* One JITed function (the program's main one, or a subprogram). */
struct jp_func {
	uint64_t start;
	uint32_t len;
	char prog[JP_NAME_MAX]; /* the program it belongs to */
	char name[JP_NAME_MAX];
};

/* Code from addr on (to the next line's addr, or its function's end) is file:line. */
struct jp_line {
	uint64_t addr;
	uint32_t file; /* index into jitprof.files */
	uint32_t line;
};

struct jitprof {
	struct jp_func *funcs; /* sorted by start */
	size_t nfuncs;
	struct jp_line *lines; /* sorted by addr */
	size_t nlines;
	char **files;
	size_t nfiles;
};

/* Append prog_fd's functions and line table to out. 0, or -errno. */
int jitprof_write(FILE *out, int prog_fd);

/* Read what jitprof_write() wrote (any number of programs). 0, or -1 with err set. */
int jitprof_read(struct jitprof *jp, FILE *in, char *err, size_t errlen);

/*
 * The function holding ip (its index in *func) and the line it is on (its
 * index in *line; SIZE_MAX when the function has no line at or before ip).
 * false: ip is in no function of the table.
 */
bool jitprof_find(const struct jitprof *jp, uint64_t ip, size_t *func, size_t *line);

/*
 * Where a program's sampled code lies: how many 64-byte code lines its samples
 * fell on, how few of them hold 95 % of the samples and on how many 4 KB pages
 * those are; image is the program's JIT code in bytes (its functions summed).
 * What a packet's path costs the CPU's front end (docs/bench.md).
 */
struct jp_layout {
	size_t samples, lines, lines95, pages95;
	uint64_t image;
};

/* The layout of prog's samples among ips[0..n) (addresses in other programs are skipped). 0, or -ENOMEM. */
int jitprof_layout(const struct jitprof *jp, const char *prog, const uint64_t *ips, size_t n,
		   struct jp_layout *out);

void jitprof_free(struct jitprof *jp);

#endif /* XLVS_BENCH_JITPROF_H */
