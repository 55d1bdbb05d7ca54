// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs-profile: perf's samples of JITed BPF programs by source line.
 * `perf script -F ip` on stdin, the bench's line table (--lines) as argument;
 * prints each program's share, then each chosen program's samples by source
 * file (the stages) and by source line. tests/bench/profile.sh drives it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "jitprof.h"

#define SHARE_SHOWN 10.0 /* programs with at least this % of the programs' samples get a breakdown */

struct counts {
	uint64_t total, in_progs;
	uint64_t *per_func, *per_line, *func_no_line;
	uint64_t *ips; /* the in-program samples' addresses, for the layout */
};

/* One (file, line) of a program, its samples summed over every copy inlined. */
struct src_line {
	uint32_t file, line;
	uint64_t samples;
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--top N] [--src DIR] [--prog NAME] LINES < IPS\n"
		"  LINES  the line table xlvs-bench --lines wrote while its programs were loaded\n"
		"  IPS    sampled addresses, one hex number per line (perf script -F ip)\n"
		"  --top N      source lines shown per program (default 25)\n"
		"  --src DIR    where the sources the table names are, for their text (default .)\n"
		"  --prog NAME  break down this program only (default: each with >= %.0f %% of the samples)\n"
		"exit: 0 done, 1 usage or unreadable input\n",
		prog, SHARE_SHOWN);
}

/* Keep one more in-program address; false when out of memory. */
static bool keep_ip(struct counts *c, uint64_t ip)
{
	uint64_t *ips;

	if (!(c->in_progs & (c->in_progs - 1))) { /* grown at each power of two */
		ips = realloc(c->ips, 2 * (c->in_progs + 1) * sizeof(*ips));
		if (!ips)
			return false;
		c->ips = ips;
	}
	c->ips[c->in_progs++] = ip;
	return true;
}

static int count(const struct jitprof *jp, FILE *in, struct counts *c)
{
	char buf[128];

	memset(c, 0, sizeof(*c));
	c->per_func = calloc(jp->nfuncs, sizeof(uint64_t));
	c->func_no_line = calloc(jp->nfuncs, sizeof(uint64_t));
	c->per_line = calloc(jp->nlines + 1, sizeof(uint64_t));
	if (!c->per_func || !c->func_no_line || !c->per_line)
		return -ENOMEM;
	while (fgets(buf, sizeof(buf), in)) {
		char *end;
		uint64_t ip = strtoull(buf, &end, 16);
		size_t f, l;

		if (end == buf)
			continue; /* a blank or header line */
		c->total++;
		if (!jitprof_find(jp, ip, &f, &l))
			continue;
		if (!keep_ip(c, ip))
			return -ENOMEM;
		c->per_func[f]++;
		if (l == SIZE_MAX)
			c->func_no_line[f]++;
		else
			c->per_line[l]++;
	}
	return 0;
}

static uint64_t prog_samples(const struct jitprof *jp, const struct counts *c, const char *prog)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < jp->nfuncs; i++)
		if (!strcmp(jp->funcs[i].prog, prog))
			n += c->per_func[i];
	return n;
}

static bool line_in_prog(const struct jitprof *jp, size_t l, const char *prog)
{
	size_t f, line;

	return jitprof_find(jp, jp->lines[l].addr, &f, &line) && !strcmp(jp->funcs[f].prog, prog);
}

static int by_src(const void *a, const void *b)
{
	const struct src_line *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int by_samples(const void *a, const void *b)
{
	uint64_t x = ((const struct src_line *)a)->samples, y = ((const struct src_line *)b)->samples;

	return x > y ? -1 : x < y;
}

/* prog's samples by (file, line), merged over inlined copies; *n of them, most first. */
static struct src_line *src_lines(const struct jitprof *jp, const struct counts *c, const char *prog,
				  size_t *n)
{
	struct src_line *s = calloc(jp->nlines + 1, sizeof(*s));
	size_t i, k = 0, m = 0;

	if (!s)
		return NULL;
	for (i = 0; i < jp->nlines; i++)
		if (c->per_line[i] && line_in_prog(jp, i, prog))
			s[k++] = (struct src_line){ jp->lines[i].file, jp->lines[i].line, c->per_line[i] };
	qsort(s, k, sizeof(*s), by_src);
	for (i = 0; i < k; i++) {
		if (m && s[m - 1].file == s[i].file && s[m - 1].line == s[i].line)
			s[m - 1].samples += s[i].samples;
		else
			s[m++] = s[i];
	}
	qsort(s, m, sizeof(*s), by_samples);
	*n = m;
	return s;
}

/* Line `line` of src_dir/file, trimmed, into buf ("" if unreadable). */
static const char *source_text(const char *src_dir, const char *file, uint32_t line, char *buf, size_t len)
{
	char path[PATH_MAX + 512], *p;
	uint32_t n = 0;
	FILE *f;

	buf[0] = '\0';
	if (file[0] == '/')
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/%s", src_dir, file);
	f = fopen(path, "r");
	while (f && n < line && fgets(buf, (int)len, f))
		n++;
	if (f)
		fclose(f);
	if (n != line)
		return buf[0] = '\0', buf;
	for (p = buf; *p == ' ' || *p == '\t'; p++)
		;
	memmove(buf, p, strlen(p) + 1);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* A table's file name as shown: relative to the source directory when under it. */
static const char *shown(const char *file, const char *src_dir)
{
	size_t n = strlen(src_dir);

	while (n > 1 && src_dir[n - 1] == '/')
		n--;
	if (!strncmp(file, src_dir, n) && file[n] == '/')
		return file + n + 1;
	return file;
}

static void print_files(const struct jitprof *jp, const struct src_line *s, size_t n, uint64_t total,
			const char *src_dir)
{
	uint64_t *per_file = calloc(jp->nfiles, sizeof(uint64_t));
	size_t i, j;

	if (!per_file)
		return;
	for (i = 0; i < n; i++)
		per_file[s[i].file] += s[i].samples;
	printf("  %-34s %8s %7s\n", "by file", "samples", "share");
	for (j = 0; j < jp->nfiles; j++) {
		size_t best = SIZE_MAX;

		for (i = 0; i < jp->nfiles; i++)
			if (per_file[i] && (best == SIZE_MAX || per_file[i] > per_file[best]))
				best = i;
		if (best == SIZE_MAX)
			break;
		printf("  %-34s %8" PRIu64 " %6.1f%%\n", shown(jp->files[best], src_dir), per_file[best],
		       100.0 * (double)per_file[best] / (double)total);
		per_file[best] = 0;
	}
	free(per_file);
}

static void print_prog(const struct jitprof *jp, const struct counts *c, const char *prog, size_t top,
		       const char *src_dir)
{
	uint64_t total = prog_samples(jp, c, prog), no_line = 0;
	struct jp_layout lay;
	struct src_line *s;
	char where[300], text[200];
	size_t n, i;

	for (i = 0; i < jp->nfuncs; i++)
		if (!strcmp(jp->funcs[i].prog, prog))
			no_line += c->func_no_line[i];
	if (!total) {
		printf("\n%s: no samples\n", prog);
		return;
	}
	s = src_lines(jp, c, prog, &n);
	if (!s || jitprof_layout(jp, prog, c->ips, c->in_progs, &lay)) {
		fprintf(stderr, "xlvs-profile: out of memory\n");
		exit(1);
	}
	printf("\n%s: %" PRIu64 " samples (%" PRIu64 " before its first line)\n", prog, total, no_line);
	printf("  code: %zu lines of 64 bytes sampled, %zu of them hold 95 %% of the samples, on %zu pages "
	       "of 4 KB; JIT image %" PRIu64 " bytes\n",
	       lay.lines, lay.lines95, lay.pages95, lay.image);
	print_files(jp, s, n, total, src_dir);
	printf("  %-34s %8s %7s  %s\n", "by line", "samples", "share", "source");
	for (i = 0; i < n && i < top; i++) {
		snprintf(where, sizeof(where), "%s:%u", shown(jp->files[s[i].file], src_dir), s[i].line);
		printf("  %-34s %8" PRIu64 " %6.1f%%  %s\n", where, s[i].samples,
		       100.0 * (double)s[i].samples / (double)total,
		       source_text(src_dir, jp->files[s[i].file], s[i].line, text, sizeof(text)));
	}
	free(s);
}

/* Is funcs[i] the first function of its program (a program loaded several times is one)? */
static bool prog_first(const struct jitprof *jp, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(jp->funcs[j].prog, jp->funcs[i].prog))
			return false;
	return true;
}

/* Each program once, with its share of the programs' samples; the breakdowns asked for. */
static void report(const struct jitprof *jp, const struct counts *c, const char *only, size_t top,
		   const char *src)
{
	size_t i;

	printf("%" PRIu64 " samples, %" PRIu64 " in the table's programs\n", c->total, c->in_progs);
	printf("  %-34s %8s %7s\n", "program", "samples", "share");
	for (i = 0; i < jp->nfuncs; i++) {
		uint64_t n = prog_samples(jp, c, jp->funcs[i].prog);

		if (prog_first(jp, i))
			printf("  %-34s %8" PRIu64 " %6.1f%%\n", jp->funcs[i].prog, n,
			       c->in_progs ? 100.0 * (double)n / (double)c->in_progs : 0.0);
	}
	for (i = 0; i < jp->nfuncs; i++) {
		uint64_t n = prog_samples(jp, c, jp->funcs[i].prog);

		if (!prog_first(jp, i) || (only && strcmp(only, jp->funcs[i].prog)))
			continue;
		if (only || (c->in_progs && 100.0 * (double)n / (double)c->in_progs >= SHARE_SHOWN))
			print_prog(jp, c, jp->funcs[i].prog, top, src);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "top", required_argument, NULL, 't' },
		{ "src", required_argument, NULL, 's' },
		{ "prog", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *src = ".", *only = NULL;
	char src_abs[PATH_MAX];
	unsigned long top = 25;
	struct jitprof jp;
	struct counts c;
	char err[200], *end;
	FILE *f;
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			top = strtoul(optarg, &end, 10);
			if (*end || !top) {
				fprintf(stderr, "%s: --top wants a positive number\n", argv[0]);
				return 1;
			}
			break;
		case 's':
			src = optarg;
			break;
		case 'p':
			only = optarg;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 1;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr, argv[0]);
		return 1;
	}
	if (realpath(src, src_abs))
		src = src_abs; /* the table's names are absolute: shown relative to it */
	f = fopen(argv[optind], "r");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[optind], strerror(errno));
		return 1;
	}
	o = jitprof_read(&jp, f, err, sizeof(err));
	fclose(f);
	if (o) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[optind], err);
		return 1;
	}
	for (o = 0; only && o < (int)jp.nfuncs && strcmp(jp.funcs[o].prog, only); o++)
		;
	if (only && o == (int)jp.nfuncs) {
		fprintf(stderr, "%s: --prog %s: no such program in %s\n", argv[0], only, argv[optind]);
		return 1;
	}
	if (count(&jp, stdin, &c)) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		return 1;
	}
	report(&jp, &c, only, top, src);
	free(c.per_func);
	free(c.per_line);
	free(c.func_no_line);
	free(c.ips);
	jitprof_free(&jp);
	return 0;
}
