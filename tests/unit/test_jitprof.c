// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs-profile's line tables (tests/bench/jitprof.c): a sampled address maps to the function
 * that holds it and to the last line at or before it within that function, never to another
 * function's line; what the bench writes for a loaded program reads back. Tables as rows.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../bench/jitprof.h"
#include "xlvs_floor.skel.h"

/*
 * Two programs as a bench run leaves them: "lb" (main function at 0x1000, 0x100 bytes, its
 * first line at 0x1010; a subprogram at 0x2000, its first line at 0x2008) and "floor" at 0x3000. Written out of order:
 * the reader sorts.
 */
static const char table[] = "L\t1040\t20\t/src/bpf/lookup.h\n"
			    "F\t3000\t16\tfloor\tfloor\n"
			    "F\t1000\t256\tlb\tlb\n"
			    "L\t1010\t10\t/src/bpf/parse.h\n"
			    "L\t2008\t5\t/src/bpf/sched.h\n"
			    "F\t2000\t64\tlb\tring_at\n"
			    "L\t3000\t9\t/src/bpf/floor.c\n";

/* text as a file to read from */
static FILE *text_file(const char *text)
{
	FILE *f = tmpfile();

	cr_assert(f);
	cr_assert_eq(fputs(text, f) >= 0 || !*text, true);
	rewind(f);
	return f;
}

static void read_table(struct jitprof *jp, const char *text)
{
	FILE *f = text_file(text);
	char err[200] = "";

	cr_assert(f);
	cr_assert_eq(jitprof_read(jp, f, err, sizeof(err)), 0, "%s", err);
	fclose(f);
}

struct find_row {
	const char *name;
	uint64_t ip;
	bool found;
	const char *func; /* its function */
	const char *file; /* its line's file; NULL: before the function's first line */
	uint32_t line;
};

static const struct find_row find_rows[] = {
	{ "before any function", 0xfff, false, NULL, NULL, 0 },
	{ "function start, before its first line", 0x1000, true, "lb", NULL, 0 },
	{ "on a line's first byte", 0x1010, true, "lb", "/src/bpf/parse.h", 10 },
	{ "between two lines: the earlier", 0x103f, true, "lb", "/src/bpf/parse.h", 10 },
	{ "the last line runs to the function's end", 0x10ff, true, "lb", "/src/bpf/lookup.h", 20 },
	{ "past the function's end: in none", 0x1100, false, NULL, NULL, 0 },
	{ "subprogram start: not the line before it", 0x2004, true, "ring_at", NULL, 0 },
	{ "a subprogram's own line", 0x2010, true, "ring_at", "/src/bpf/sched.h", 5 },
	{ "past the subprogram", 0x2040, false, NULL, NULL, 0 },
	{ "another program", 0x300f, true, "floor", "/src/bpf/floor.c", 9 },
	{ "past the last function", 0x3010, false, NULL, NULL, 0 },
};

Test(jitprof, addresses_map_to_their_function_and_line)
{
	struct jitprof jp;
	size_t i, f, l;

	read_table(&jp, table);
	cr_assert_eq(jp.nfuncs, 3);
	cr_assert_eq(jp.nlines, 4);
	for (i = 0; i < sizeof(find_rows) / sizeof(find_rows[0]); i++) {
		const struct find_row *r = &find_rows[i];
		bool found = jitprof_find(&jp, r->ip, &f, &l);

		cr_expect_eq(found, r->found, "%s: found %d", r->name, found);
		if (!found || !r->found)
			continue;
		cr_expect_str_eq(jp.funcs[f].name, r->func, "%s", r->name);
		if (!r->file) {
			cr_expect_eq(l, SIZE_MAX, "%s: a line was given", r->name);
			continue;
		}
		cr_assert_neq(l, SIZE_MAX, "%s: no line", r->name);
		cr_expect_str_eq(jp.files[jp.lines[l].file], r->file, "%s", r->name);
		cr_expect_eq(jp.lines[l].line, r->line, "%s", r->name);
	}
	jitprof_free(&jp);
}

Test(jitprof, a_file_named_twice_is_one_file)
{
	struct jitprof jp;

	read_table(&jp, "F\t10\t32\tp\tp\nL\t10\t1\ta.h\nL\t14\t2\tb.h\nL\t18\t3\ta.h\n");
	cr_expect_eq(jp.nfiles, 2);
	cr_expect_eq(jp.lines[0].file, jp.lines[2].file);
	jitprof_free(&jp);
}

struct bad_row {
	const char *text;
	const char *err;
};

static const struct bad_row bad_rows[] = {
	{ "", "no JITed function in the table" },
	{ "L\t10\t1\ta.h\n", "no JITed function in the table" },
	{ "F\t10\t32\tp\tp\nX\t1\n", "line 2: not a function (F) or line (L) record: X\t1" },
	{ "F\tzz\t32\tp\tp\n", "line 1: not a function (F) or line (L) record: F\tzz\t32\tp\tp" },
	{ "F\t10\t0\tp\tp\n", "line 1: not a function (F) or line (L) record: F\t10\t0\tp\tp" },
	{ "F\t10\t32\tp\tp\nL\t10\tone\ta.h\n",
	  "line 2: not a function (F) or line (L) record: L\t10\tone\ta.h" },
};

Test(jitprof, malformed_tables_are_refused_saying_where)
{
	size_t i;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		const char *text = bad_rows[i].text;
		FILE *f = text_file(text);
		struct jitprof jp;
		char err[200] = "";

		cr_expect_eq(jitprof_read(&jp, f, err, sizeof(err)), -1, "row %zu read", i);
		cr_expect_str_eq(err, bad_rows[i].err, "row %zu", i);
		fclose(f);
	}
}

/* What the bench writes for a loaded program: its function, and lines in its own source. */
Test(jitprof, a_loaded_programs_table_reads_back)
{
	struct xlvs_floor_bpf *skel = xlvs_floor_bpf__open_and_load();
	char *buf = NULL, err[200] = "";
	size_t len = 0, f, l;
	struct jitprof jp;
	int err_bad;
	FILE *out;

	cr_assert(skel, "load xlvs_floor: %s", strerror(errno));
	out = open_memstream(&buf, &len);
	cr_assert(out);
	cr_assert_eq(jitprof_write(out, bpf_program__fd(skel->progs.xlvs_floor)), 0);
	err_bad = jitprof_write(out, -1);
	cr_expect(err_bad < 0, "a bad fd is an error: %d", err_bad);
	fclose(out);
	out = fmemopen(buf, len, "r");
	cr_assert_eq(jitprof_read(&jp, out, err, sizeof(err)), 0, "%s: %s", err, buf);
	fclose(out);
	cr_assert_eq(jp.nfuncs, 1);
	cr_expect_str_eq(jp.funcs[0].prog, "xlvs_floor");
	cr_expect_str_eq(jp.funcs[0].name, "xlvs_floor");
	cr_assert(jitprof_find(&jp, jp.funcs[0].start + jp.funcs[0].len - 1, &f, &l));
	cr_assert_neq(l, SIZE_MAX);
	cr_expect(strstr(jp.files[jp.lines[l].file], "bpf/xlvs_floor.bpf.c"), "%s",
		  jp.files[jp.lines[l].file]);
	cr_expect(jp.lines[l].line >= 7 && jp.lines[l].line <= 10, "line %u", jp.lines[l].line);
	jitprof_free(&jp);
	free(buf);
	xlvs_floor_bpf__destroy(skel);
}

/*
 * Program p: 0x1000 + 0x3000 bytes and a 0x100-byte subprogram; q elsewhere. p's 20 samples
 * fall on five code lines (10, 5, 3, 1, 1 samples) on three pages (the first two lines share
 * one, 2 KB apart); the first four lines hold 19 of them (95 %), on all three pages.
 */
Test(jitprof, a_programs_sampled_code_lines_and_pages)
{
	static const uint64_t ips[] = {
		0x1000, 0x1001, 0x1002, 0x1003, 0x1004,
		0x1005, 0x1006, 0x1007, 0x1008, 0x103f, /* line 0x40 */
		0x1800, 0x1801, 0x1802, 0x1803, 0x183f, /* line 0x60, the same page as 0x40 */
		0x2000, 0x2010, 0x2020,			/* page 2 */
		0x3000, 0x3040,				/* page 3 */
		0x8000, 0x8004,				/* q's */
		0x9000,					/* nobody's */
	};
	struct jp_layout lay;
	struct jitprof jp;

	read_table(&jp, "F\t1000\t12288\tp\tp\nF\t5000\t256\tp\tsub\nF\t8000\t64\tq\tq\nL\t1000\t1\ta.c\n");
	cr_assert_eq(jitprof_layout(&jp, "p", ips, sizeof(ips) / sizeof(ips[0]), &lay), 0);
	cr_expect_eq(lay.samples, 20);
	cr_expect_eq(lay.lines, 5);
	cr_expect_eq(lay.lines95, 4);
	cr_expect_eq(lay.pages95, 3);
	cr_expect_eq(lay.image, 12288 + 256);
	cr_assert_eq(jitprof_layout(&jp, "q", ips, sizeof(ips) / sizeof(ips[0]), &lay), 0);
	cr_expect(lay.samples == 2 && lay.lines == 1 && lay.lines95 == 1 && lay.pages95 == 1 &&
		  lay.image == 64);
	jitprof_free(&jp);
}
