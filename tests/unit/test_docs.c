// SPDX-License-Identifier: GPL-2.0
/*
 * The docs held to the code (issue 14, "docs true to the code"):
 *  - every key in a key table of docs/configuration.md is accepted by the
 *    parser in that section, and every key the parser accepts has a row;
 *  - every family in docs/metrics.md's metric table is exported by xlvsd's
 *    /metrics writer with that type and those labels, and every family
 *    exported has a row; every drop reason and event has a row;
 *  - every example in docs/examples passes xlvsd --check (xlvsd_check(): parse,
 *    interfaces, planner), its interfaces made as veths in a private netns.
 * Each failure names the file, the line, the key or metric and which side
 * lacks it. Run from the repository root (as make test does).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <ev.h>
#include <glob.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "config/conf.h"
#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "daemon/status.h"
#include "health/hc.h"
#include "helpers.h"
#include "netns.h"
#include "xlvsmaps.h"

#define CONFIG_MD  "docs/configuration.md"
#define METRICS_MD "docs/metrics.md"
#define MAX_ITEMS  512
#define MAX_LABELS 8

/* ---- a list of problems, reported together ---- */

struct report {
	char *text;
	size_t len;
	FILE *f;
	int n;
};

static void report_open(struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->f = open_memstream(&r->text, &r->len);
	cr_assert_not_null(r->f);
}

static void __attribute__((format(printf, 2, 3))) problem(struct report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("\n  - ", r->f);
	vfprintf(r->f, fmt, ap);
	va_end(ap);
	r->n++;
}

static void report_check(struct report *r, const char *what)
{
	fclose(r->f);
	cr_expect_eq(r->n, 0, "%s: %d problem(s):%s", what, r->n, r->text);
	free(r->text);
}

/* ---- Markdown tables ---- */

/* One row of a table: its cells (trimmed), the heading it is under, its line. */
struct row {
	char head[256];	   /* first cell of the table's header row */
	char heading[160]; /* the last heading before the table, '#'s stripped */
	char cell[4][256];
	int ncells, line;
};

struct rows {
	struct row *r;
	size_t n;
};

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
		s[--n] = '\0';
	while (s[i] == ' ')
		i++;
	memmove(s, s + i, n - i + 1);
}

/* Split "| a | b | c |" into up to 4 trimmed cells. */
static int split_cells(const char *line, char cell[4][256])
{
	const char *p = line + 1, *bar;
	int n = 0;

	while ((bar = strchr(p, '|')) && n < 4) {
		snprintf(cell[n], sizeof(cell[n]), "%.*s", (int)(bar - p), p);
		trim(cell[n++]);
		p = bar + 1;
	}
	return n;
}

static void read_tables(const char *path, struct rows *out)
{
	char line[2048], prev[2048] = "", heading[160] = "", head[256] = "";
	bool in_table = false, fence = false;
	int no = 0;
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f, "cannot open %s (run from the repository root)", path);
	out->r = calloc(MAX_ITEMS * 2, sizeof(*out->r));
	out->n = 0;
	while (fgets(line, sizeof(line), f)) {
		no++;
		if (!strncmp(line, "```", 3))
			fence = !fence;
		if (fence)
			continue;
		if (line[0] == '#') {
			snprintf(heading, sizeof(heading), "%s", line + strspn(line, "# "));
			trim(heading);
			in_table = false;
		} else if (!strncmp(line, "| ---", 5) && prev[0] == '|') {
			char cell[4][256];

			split_cells(prev, cell);
			snprintf(head, sizeof(head), "%s", cell[0]);
			in_table = true;
		} else if (line[0] == '|' && in_table) {
			struct row *r = &out->r[out->n++];

			cr_assert_lt(out->n, MAX_ITEMS * 2, "%s: too many table rows for this test", path);
			snprintf(r->head, sizeof(r->head), "%s", head);
			snprintf(r->heading, sizeof(r->heading), "%s", heading);
			r->ncells = split_cells(line, r->cell);
			r->line = no;
		} else if (line[0] != '|') {
			in_table = false;
		}
		snprintf(prev, sizeof(prev), "%s", line);
	}
	fclose(f);
}

/* "`name`" -> name; false if the cell is not one code span. */
static bool code_name(const char *cell, char *out, size_t size)
{
	size_t n = strlen(cell);

	if (n < 3 || cell[0] != '`' || cell[n - 1] != '`' || memchr(cell + 1, '`', n - 2))
		return false;
	snprintf(out, size, "%.*s", (int)(n - 2), cell + 1);
	return true;
}

/* ---- configuration keys ---- */

struct keyset {
	char where[MAX_ITEMS][32], key[MAX_ITEMS][32];
	int line[MAX_ITEMS];
	size_t n;
};

static void add_key(const char *where, const char *key, void *arg)
{
	struct keyset *s = arg;

	cr_assert_lt(s->n, MAX_ITEMS);
	snprintf(s->where[s->n], sizeof(s->where[0]), "%s", where);
	snprintf(s->key[s->n], sizeof(s->key[0]), "%s", key);
	s->n++;
}

static bool has_key(const struct keyset *s, const char *where, const char *key)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->where[i], where) && !strcmp(s->key[i], key))
			return true;
	return false;
}

/*
 * The parser's name of the section a heading documents (the words of its
 * messages: "unknown key 'x' in tunnel"): "Top-level keys" is the top level,
 * "`services`" and "`reals`" are "in service" and "in real", any other
 * "`name`" is "in name".
 */
static void heading_where(const char *heading, char *where, size_t size)
{
	const char *b = strchr(heading, '`'), *e = b ? strchr(b + 1, '`') : NULL;
	char name[64];

	if (strstr(heading, "Top-level keys") || !e) {
		snprintf(where, size, "%s", strstr(heading, "Top-level keys") ? "at top level" : "");
		return;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(e - b - 1), b + 1);
	if (!strcmp(name, "services") || !strcmp(name, "reals"))
		name[strlen(name) - 1] = '\0';
	snprintf(where, size, "in %s", name);
}

Test(docs, configuration_keys_match_the_parser)
{
	struct keyset *parser = calloc(1, sizeof(*parser)), *doc = calloc(1, sizeof(*doc));
	struct report rep;
	struct rows t;
	char name[64];
	size_t i;

	cr_assert(parser && doc);
	xlvs_conf_keys(add_key, parser);
	cr_assert_gt(parser->n, 50, "xlvs_conf_keys() listed only %zu keys", parser->n);
	read_tables(CONFIG_MD, &t);
	report_open(&rep);
	for (i = 0; i < t.n; i++) {
		const struct row *r = &t.r[i];
		char where[64];

		if (strcmp(r->head, "key"))
			continue;
		heading_where(r->heading, where, sizeof(where));
		if (!code_name(r->cell[0], name, sizeof(name))) {
			problem(&rep, "%s:%d: a key table row whose first cell is not one `key`: '%s'",
				CONFIG_MD, r->line, r->cell[0]);
			continue;
		}
		if (!where[0]) {
			problem(&rep, "%s:%d: key '%s' is in a table under '%s', which names no section",
				CONFIG_MD, r->line, name, r->heading);
			continue;
		}
		add_key(where, name, doc);
		doc->line[doc->n - 1] = r->line;
		if (!has_key(parser, where, name))
			problem(&rep,
				"%s:%d documents key '%s' %s (under '%s'), but the parser does not accept it "
				"there (loader/config/: add it, or remove the row)",
				CONFIG_MD, r->line, name, where, r->heading);
	}
	for (i = 0; i < parser->n; i++)
		if (!has_key(doc, parser->where[i], parser->key[i]))
			problem(&rep,
				"the parser accepts key '%s' %s, but %s has no row for it (a `| key |` table "
				"under the heading of that section)",
				parser->key[i], parser->where[i], CONFIG_MD);
	report_check(&rep, "docs/configuration.md against the parser");
	free(t.r);
	free(parser);
	free(doc);
}

/* ---- metrics ---- */

struct family {
	char name[96], type[16];
	char labels[MAX_LABELS][24];
	int nlabels, line;
	bool sampled;
};

struct families {
	struct family f[128];
	size_t n;
};

static struct family *find_family(struct families *fs, const char *name)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (!strcmp(fs->f[i].name, name))
			return &fs->f[i];
	return NULL;
}

static bool has_label(const struct family *f, const char *label)
{
	int i;

	for (i = 0; i < f->nlabels; i++)
		if (!strcmp(f->labels[i], label))
			return true;
	return false;
}

static void add_label(struct family *f, const char *label)
{
	if (!has_label(f, label) && f->nlabels < MAX_LABELS)
		snprintf(f->labels[f->nlabels++], sizeof(f->labels[0]), "%s", label);
}

static void label_list(const struct family *f, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < f->nlabels; i++)
		len += snprintf(buf + len, len < size ? size - len : 0, "%s%s", i ? ", " : "", f->labels[i]);
	if (!f->nlabels)
		snprintf(buf, size, "none");
}

/* The family a sample belongs to: its name, or a histogram's name for _bucket/_sum/_count. */
static struct family *sample_family(struct families *fs, const char *name)
{
	static const char *const suffix[] = { "_bucket", "_sum", "_count" };
	struct family *f = find_family(fs, name);
	char base[96];
	size_t i, n = strlen(name), k;

	for (i = 0; !f && i < 3; i++) {
		k = strlen(suffix[i]);
		if (n > k && !strcmp(name + n - k, suffix[i])) {
			snprintf(base, sizeof(base), "%.*s", (int)(n - k), name);
			f = find_family(fs, base);
			if (f && strcmp(f->type, "histogram"))
				f = NULL;
		}
	}
	return f;
}

/* Families, types and label names of an exposition ("# TYPE" lines, then the samples). */
static void parse_exposition(char *text, struct families *fs, struct report *rep)
{
	char *save = NULL, *line, name[96], type[16];
	struct family *f;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "# TYPE %95s %15s", name, type) == 2) {
			cr_assert_lt(fs->n, sizeof(fs->f) / sizeof(fs->f[0]));
			f = &fs->f[fs->n++];
			memset(f, 0, sizeof(*f));
			snprintf(f->name, sizeof(f->name), "%s", name);
			snprintf(f->type, sizeof(f->type), "%s", type);
			continue;
		}
		if (line[0] == '#')
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, "{ "), line);
		f = sample_family(fs, name);
		if (!f) {
			problem(rep, "/metrics has sample '%s' without a # TYPE line of its family", name);
			continue;
		}
		f->sampled = true;
		for (char *p = strchr(line, '{'); p && *p != '}';) {
			char label[24];
			size_t k = strcspn(++p, "=");

			snprintf(label, sizeof(label), "%.*s", (int)k, p);
			if (strcmp(label, "le") || strcmp(f->type, "histogram"))
				add_label(f, label);
			for (p += k + 2; *p && *p != '"'; p++) /* the value, escapes skipped */
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		}
	}
}

/* "`vip`, `port`" or "-" into f's labels; false if the cell is neither. */
static bool doc_labels(const char *cell, struct family *f)
{
	char buf[256], *save = NULL, *tok, name[24];

	if (!strcmp(cell, "-"))
		return true;
	snprintf(buf, sizeof(buf), "%s", cell);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		trim(tok);
		if (!code_name(tok, name, sizeof(name)))
			return false;
		add_label(f, name);
	}
	return true;
}

static bool same_labels(const struct family *a, const struct family *b)
{
	int i;

	if (a->nlabels != b->nlabels)
		return false;
	for (i = 0; i < a->nlabels; i++)
		if (!has_label(b, a->labels[i]))
			return false;
	return true;
}

/* A real flagged as a least-connection scheduler's (by hand: the parser may refuse those): its count is shown. */
static void count_a_real(struct xlvs_maps *m)
{
	struct xlvs_real r;
	uint32_t id;

	for (id = 0; id < 4; id++)
		if (!bpf_map_lookup_elem(m->reals, &id, &r) && (r.flags & XLVS_REAL_F_ACTIVE)) {
			r.flags |= XLVS_REAL_F_COUNTED;
			cr_assert_eq(bpf_map_update_elem(m->reals, &id, &r, BPF_EXIST), 0);
			return;
		}
	cr_assert_fail("no ACTIVE real to count");
}

/*
 * The exposition of a director with every kind of series: a service with a
 * checked real (health families), a drained one, counters at zero.
 */
static char *render_everything(void)
{
	static const char conf[] = "interfaces: [lo]\n"
				   "services:\n"
				   "  - vip: 198.18.0.10\n"
				   "    port: 80\n"
				   "    protocol: tcp\n"
				   "    ring_size: 251\n"
				   "    check: { type: tcp, interval: 1h }\n"
				   "    reals:\n"
				   "      - { address: 198.18.1.1, weight: 2 }\n"
				   "      - { address: 198.18.1.2, weight: 0, check: off }\n";
	struct xlvs_conf_error err;
	struct xlvsd_status h;
	struct xlvs_lb_bpf *skel;
	struct xlvs_maps m;
	struct xlvs_spec spec;
	struct xlvsd_hc *hc;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	char *body;
	size_t len;

	cr_assert_not_null(loop);
	cr_assert_eq(xlvs_conf_parse("docs-test.yaml", conf, sizeof(conf) - 1, &spec, &err), 0, "%s",
		     err.msg);
	skel = unit_director_load(1024, 1024, &m);
	cr_assert_eq(xlvs_apply(&m, &spec, NULL), 0, "xlvs_apply");
	count_a_real(&m);
	cr_assert_eq(xlvsd_hc_new(&hc, loop, 4, NULL, NULL), 0);
	cr_assert_eq(xlvsd_hc_sync(hc, &spec), 0);
	xlvsd_status_init(&h);
	h.extra_metrics = xlvsd_hc_metrics;
	h.extra_arg = hc;
	cr_assert_eq(xlvs_metrics_render(&m, &h, &body, &len), 0, "xlvs_metrics_render");
	xlvsd_hc_free(hc);
	ev_loop_destroy(loop);
	xlvs_spec_free(&spec);
	xlvs_lb_bpf__destroy(skel);
	return body;
}

static void check_names(struct report *rep, const struct rows *t, const char *head, const char *const *names,
			size_t n, const char *where)
{
	char name[64];
	size_t i, k;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->r[i].head, head))
			continue;
		if (!code_name(t->r[i].cell[0], name, sizeof(name))) {
			problem(rep, "%s:%d: first cell is not one `%s`: '%s'", METRICS_MD, t->r[i].line,
				head, t->r[i].cell[0]);
			continue;
		}
		for (k = 0; k < n && strcmp(names[k], name); k++)
			;
		if (k == n)
			problem(rep, "%s:%d documents %s '%s', which %s does not have", METRICS_MD,
				t->r[i].line, head, name, where);
	}
	for (k = 0; k < n; k++) {
		for (i = 0; i < t->n; i++)
			if (!strcmp(t->r[i].head, head) && code_name(t->r[i].cell[0], name, sizeof(name)) &&
			    !strcmp(name, names[k]))
				break;
		if (i == t->n)
			problem(rep, "%s has %s '%s', but %s has no row for it (the `| %s |` table)", where,
				head, names[k], METRICS_MD, head);
	}
}

Test(docs, metrics_match_the_exporter, .timeout = 30)
{
	struct families *code = calloc(1, sizeof(*code)), *doc = calloc(1, sizeof(*doc));
	struct report rep;
	struct family *c, *d;
	char *body = render_everything(), a[200], b[200];
	struct rows t;
	size_t i;

	cr_assert(code && doc);
	report_open(&rep);
	parse_exposition(body, code, &rep);
	cr_assert_gt(code->n, 10, "the exposition has only %zu families", code->n);
	read_tables(METRICS_MD, &t);
	for (i = 0; i < t.n; i++) {
		const struct row *r = &t.r[i];

		if (strcmp(r->head, "metric"))
			continue;
		d = &doc->f[doc->n++];
		d->line = r->line;
		if (r->ncells < 3 || !code_name(r->cell[0], d->name, sizeof(d->name)) ||
		    !doc_labels(r->cell[2], d)) {
			problem(&rep, "%s:%d: a metric row is `name` | type | `label`, ... (or -)",
				METRICS_MD, r->line);
			doc->n--;
			continue;
		}
		/* a longer type is cut, then reported as a mismatch like any other */
		snprintf(d->type, sizeof(d->type), "%.*s", (int)sizeof(d->type) - 1, r->cell[1]);
		c = find_family(code, d->name);
		if (!c) {
			problem(&rep,
				"%s:%d documents metric '%s', which xlvsd's /metrics does not export "
				"(loader/daemon/metrics.c, loader/health/hc.c)",
				METRICS_MD, r->line, d->name);
			continue;
		}
		if (strcmp(c->type, d->type))
			problem(&rep, "%s:%d: metric '%s' is documented as a %s, exported as a %s",
				METRICS_MD, r->line, d->name, d->type, c->type);
		if (c->sampled && !same_labels(c, d)) {
			label_list(d, a, sizeof(a));
			label_list(c, b, sizeof(b));
			problem(&rep, "%s:%d: metric '%s' is documented with labels %s, exported with %s",
				METRICS_MD, r->line, d->name, a, b);
		}
	}
	for (i = 0; i < code->n; i++) {
		if (!find_family(doc, code->f[i].name))
			problem(&rep, "xlvsd's /metrics exports '%s' (%s), but %s has no row for it",
				code->f[i].name, code->f[i].type, METRICS_MD);
		else if (!code->f[i].sampled)
			problem(&rep,
				"'%s' had no sample in this test's exposition: its labels went unchecked "
				"(give render_everything() a series of it)",
				code->f[i].name);
	}
	check_names(&rep, &t, "reason", xlvs_drop_names, XLVS_DROP_MAX,
		    "xlvs_drops_total (include/xlvs/abi.h)");
	check_names(&rep, &t, "event", xlvs_event_names, XLVS_EV_MAX,
		    "xlvs_events_total (include/xlvs/abi.h)");
	report_check(&rep, "docs/metrics.md against /metrics");
	free(t.r);
	free(body);
	free(code);
	free(doc);
}

/* ---- examples ---- */

/* Every interface an example names, made as one end of a veth pair in this netns. */
static void make_interfaces(const struct xlvs_spec *s)
{
	char peer[IF_NAMESIZE];
	size_t i;

	for (i = 0; i < s->global.nr_interfaces; i++) {
		const char *name = s->global.interfaces[i];

		if (if_nametoindex(name))
			continue;
		snprintf(peer, sizeof(peer), "p%.13s", name);
		netns_run("ip link add %s type veth peer name %s", name, peer);
	}
}

Test(docs, examples_pass_xlvsd_check, .timeout = 60)
{
	struct xlvs_conf_error err;
	struct xlvs_spec s;
	glob_t g;
	size_t i;

	netns_need("ip", "iproute2");
	netns_enter_bpffs(); /* no pinned maps: planned as a first start would */
	cr_assert_eq(glob("docs/examples/*.yaml", 0, NULL, &g), 0,
		     "no docs/examples (run from the repository root)");
	for (i = 0; i < g.gl_pathc; i++) {
		cr_assert_eq(xlvs_conf_load(g.gl_pathv[i], &s, &err), 0, "%s:%u:%u: %s", g.gl_pathv[i],
			     err.line, err.column, err.msg);
		make_interfaces(&s);
		xlvs_spec_free(&s);
		cr_expect_eq(xlvsd_check(g.gl_pathv[i], "/sys/fs/bpf/xlvs"), 0,
			     "%s does not pass xlvsd --check (its message is above)", g.gl_pathv[i]);
	}
	globfree(&g);
}
