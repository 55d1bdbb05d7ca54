// SPDX-License-Identifier: GPL-2.0
/* JITed BPF programs' line tables, written and read for xlvs-profile (jitprof.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "jitprof.h"

/* What one bpf_obj_get_info_by_fd() call fills: the counts, then the arrays. */
struct prog_tables {
	struct bpf_prog_info info;
	uint64_t *ksyms, *jlines;
	uint32_t *func_lens;
	struct bpf_func_info *funcs;
	struct bpf_line_info *lines;
};

static void tables_free(struct prog_tables *t)
{
	free(t->ksyms);
	free(t->jlines);
	free(t->func_lens);
	free(t->funcs);
	free(t->lines);
}

static int tables_get(int fd, struct prog_tables *t)
{
	struct bpf_prog_info n = { 0 };
	uint32_t len = sizeof(n);

	memset(t, 0, sizeof(*t));
	if (bpf_obj_get_info_by_fd(fd, &n, &len))
		return -errno;
	if (!n.nr_jited_ksyms || n.nr_jited_line_info != n.nr_line_info)
		return -ENOTSUP; /* not JITed, or no BTF line info */
	t->ksyms = calloc(n.nr_jited_ksyms, sizeof(*t->ksyms));
	t->func_lens = calloc(n.nr_jited_func_lens, sizeof(*t->func_lens));
	t->funcs = calloc(n.nr_func_info, sizeof(*t->funcs));
	t->jlines = calloc(n.nr_jited_line_info, sizeof(*t->jlines));
	t->lines = calloc(n.nr_line_info, sizeof(*t->lines));
	if (!t->ksyms || !t->func_lens || !t->funcs || !t->jlines || !t->lines)
		return -ENOMEM;
	t->info = (struct bpf_prog_info){
		.nr_jited_ksyms = n.nr_jited_ksyms,
		.jited_ksyms = (uintptr_t)t->ksyms,
		.nr_jited_func_lens = n.nr_jited_func_lens,
		.jited_func_lens = (uintptr_t)t->func_lens,
		.nr_func_info = n.nr_func_info,
		.func_info_rec_size = sizeof(*t->funcs),
		.func_info = (uintptr_t)t->funcs,
		.nr_jited_line_info = n.nr_jited_line_info,
		.jited_line_info_rec_size = sizeof(*t->jlines),
		.jited_line_info = (uintptr_t)t->jlines,
		.nr_line_info = n.nr_line_info,
		.line_info_rec_size = sizeof(*t->lines),
		.line_info = (uintptr_t)t->lines,
	};
	len = sizeof(t->info);
	if (bpf_obj_get_info_by_fd(fd, &t->info, &len))
		return -errno;
	memcpy(t->info.name, n.name, sizeof(n.name));
	t->info.btf_id = n.btf_id;
	return 0;
}

static const char *func_name(const struct btf *btf, const struct prog_tables *t, uint32_t i)
{
	const struct btf_type *ty;

	if (i >= t->info.nr_func_info)
		return "?";
	ty = btf__type_by_id(btf, t->funcs[i].type_id);
	return ty ? btf__name_by_offset(btf, ty->name_off) : "?";
}

int jitprof_write(FILE *out, int prog_fd)
{
	struct prog_tables t;
	struct btf *btf = NULL;
	uint32_t i;
	int err = tables_get(prog_fd, &t);

	if (!err) {
		btf = btf__load_from_kernel_by_id(t.info.btf_id);
		err = btf ? 0 : -errno;
	}
	for (i = 0; !err && i < t.info.nr_jited_ksyms && i < t.info.nr_jited_func_lens; i++)
		fprintf(out, "F\t%" PRIx64 "\t%u\t%s\t%s\n", t.ksyms[i], t.func_lens[i], t.info.name,
			func_name(btf, &t, i));
	for (i = 0; !err && i < t.info.nr_line_info; i++) {
		const char *file = btf__name_by_offset(btf, t.lines[i].file_name_off);

		fprintf(out, "L\t%" PRIx64 "\t%u\t%s\n", t.jlines[i],
			BPF_LINE_INFO_LINE_NUM(t.lines[i].line_col), file && *file ? file : "?");
	}
	btf__free(btf);
	tables_free(&t);
	return err ? err : (ferror(out) ? -EIO : 0);
}

/* ---- reading ------------------------------------------------------------------ */

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int file_index(struct jitprof *jp, const char *name)
{
	char **files;
	size_t i;

	for (i = 0; i < jp->nfiles; i++)
		if (!strcmp(jp->files[i], name))
			return (int)i;
	files = realloc(jp->files, (jp->nfiles + 1) * sizeof(*files));
	if (!files)
		return -1;
	jp->files = files;
	files[jp->nfiles] = strdup(name);
	return files[jp->nfiles] ? (int)jp->nfiles++ : -1;
}

static bool add_func(struct jitprof *jp, const char *rest)
{
	struct jp_func f = { 0 }, *funcs;

	if (sscanf(rest, "%" SCNx64 "\t%u\t%63[^\t]\t%63s", &f.start, &f.len, f.prog, f.name) != 4 || !f.len)
		return false;
	funcs = realloc(jp->funcs, (jp->nfuncs + 1) * sizeof(*funcs));
	if (!funcs)
		return false;
	jp->funcs = funcs;
	funcs[jp->nfuncs++] = f;
	return true;
}

static bool add_line(struct jitprof *jp, const char *rest)
{
	struct jp_line l = { 0 }, *lines;
	char file[256];
	int idx;

	if (sscanf(rest, "%" SCNx64 "\t%u\t%255[^\t]", &l.addr, &l.line, file) != 3)
		return false;
	idx = file_index(jp, file);
	lines = idx < 0 ? NULL : realloc(jp->lines, (jp->nlines + 1) * sizeof(*lines));
	if (!lines)
		return false;
	l.file = (uint32_t)idx;
	jp->lines = lines;
	lines[jp->nlines++] = l;
	return true;
}

/* qsort's order of two keys, ascending. */
static int cmp_u64(uint64_t x, uint64_t y)
{
	return x < y ? -1 : x > y;
}

static int by_start(const void *a, const void *b)
{
	return cmp_u64(((const struct jp_func *)a)->start, ((const struct jp_func *)b)->start);
}

static int by_addr(const void *a, const void *b)
{
	return cmp_u64(((const struct jp_line *)a)->addr, ((const struct jp_line *)b)->addr);
}

int jitprof_read(struct jitprof *jp, FILE *in, char *err, size_t errlen)
{
	char buf[512];
	unsigned n = 0;

	memset(jp, 0, sizeof(*jp));
	while (fgets(buf, sizeof(buf), in)) {
		bool ok = false;

		n++;
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0] == 'F' && buf[1] == '\t')
			ok = add_func(jp, buf + 2);
		else if (buf[0] == 'L' && buf[1] == '\t')
			ok = add_line(jp, buf + 2);
		if (!ok) {
			say(err, errlen, "line %u: not a function (F) or line (L) record: %.60s", n, buf);
			jitprof_free(jp);
			return -1;
		}
	}
	if (!jp->nfuncs) {
		say(err, errlen, "no JITed function in the table");
		return -1;
	}
	qsort(jp->funcs, jp->nfuncs, sizeof(*jp->funcs), by_start);
	qsort(jp->lines, jp->nlines, sizeof(*jp->lines), by_addr);
	return 0;
}

/*
 * The last of n entries sorted by a uint64_t key (at byte `off` of each, `size` bytes apart)
 * whose key is <= ip, or SIZE_MAX: the function or the line an address is in.
 */
static size_t last_at_or_before(const void *base, size_t n, size_t size, size_t off, uint64_t ip)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t key;

		memcpy(&key, (const char *)base + mid * size + off, sizeof(key));
		if (key <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : SIZE_MAX;
}

static size_t func_at(const struct jitprof *jp, uint64_t ip)
{
	return last_at_or_before(jp->funcs, jp->nfuncs, sizeof(*jp->funcs), offsetof(struct jp_func, start),
				 ip);
}

static size_t line_at(const struct jitprof *jp, uint64_t ip)
{
	return last_at_or_before(jp->lines, jp->nlines, sizeof(*jp->lines), offsetof(struct jp_line, addr),
				 ip);
}

bool jitprof_find(const struct jitprof *jp, uint64_t ip, size_t *func, size_t *line)
{
	size_t f = func_at(jp, ip), l;

	if (f == SIZE_MAX || ip - jp->funcs[f].start >= jp->funcs[f].len)
		return false;
	l = line_at(jp, ip);
	*func = f;
	*line = l != SIZE_MAX && jp->lines[l].addr >= jp->funcs[f].start ? l : SIZE_MAX;
	return true;
}

/* Code lines (address / 64) with their sample counts. */
struct code_line {
	uint64_t line;
	size_t samples;
};

static int by_line(const void *a, const void *b)
{
	return cmp_u64(((const struct code_line *)a)->line, ((const struct code_line *)b)->line);
}

/* Most samples first. */
static int by_count(const void *a, const void *b)
{
	return cmp_u64(((const struct code_line *)b)->samples, ((const struct code_line *)a)->samples);
}

/* The distinct pages of the first k lines. */
static size_t pages_of(struct code_line *cl, size_t k)
{
	size_t i, pages = 0;

	for (i = 0; i < k; i++)
		cl[i].line /= 4096 / 64;
	qsort(cl, k, sizeof(*cl), by_line);
	for (i = 0; i < k; i++)
		pages += !i || cl[i].line != cl[i - 1].line;
	return pages;
}

int jitprof_layout(const struct jitprof *jp, const char *prog, const uint64_t *ips, size_t n,
		   struct jp_layout *out)
{
	struct code_line *cl = calloc(n + 1, sizeof(*cl));
	size_t i, k = 0, m = 0, acc = 0, f, l;

	if (!cl)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < jp->nfuncs; i++)
		if (!strcmp(jp->funcs[i].prog, prog))
			out->image += jp->funcs[i].len;
	for (i = 0; i < n; i++)
		if (jitprof_find(jp, ips[i], &f, &l) && !strcmp(jp->funcs[f].prog, prog))
			cl[k++] = (struct code_line){ ips[i] / 64, 1 };
	qsort(cl, k, sizeof(*cl), by_line);
	for (i = 0; i < k; i++) {
		if (m && cl[m - 1].line == cl[i].line)
			cl[m - 1].samples++;
		else
			cl[m++] = cl[i];
	}
	qsort(cl, m, sizeof(*cl), by_count);
	out->samples = k;
	out->lines = m;
	while (out->lines95 < m && acc * 100 < k * 95)
		acc += cl[out->lines95++].samples;
	out->pages95 = pages_of(cl, out->lines95);
	free(cl);
	return 0;
}

void jitprof_free(struct jitprof *jp)
{
	size_t i;

	for (i = 0; i < jp->nfiles; i++)
		free(jp->files[i]);
	free(jp->files);
	free(jp->funcs);
	free(jp->lines);
	memset(jp, 0, sizeof(*jp));
}
