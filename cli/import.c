// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs import ipvsadm|keepalived: the model both readers fill, its YAML, and
 * the loop that asks the configuration parser what it accepts (import.h).
 */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "conf.h"
#include "import.h"
#include "maglev.h"
#include "xlvs.h"
#include "xlvsmaps.h"

#define IMPORT_MAX_FILE (16u << 20) /* as the configuration file (conf.h) */

/* ---- the model ---------------------------------------------------------- */

struct imp_svc *imp_svc_new(struct imp *im, const char *file, unsigned line, const char *what)
{
	struct imp_svc *s;

	if (im->n == im->cap) {
		size_t cap = im->cap ? 2 * im->cap : 16;
		struct imp_svc *n = realloc(im->svcs, cap * sizeof(*n));

		if (!n) {
			im->oom = true;
			return NULL;
		}
		im->svcs = n;
		im->cap = cap;
	}
	s = &im->svcs[im->n];
	memset(s, 0, sizeof(*s));
	s->what = strdup(what);
	if (!s->what) {
		im->oom = true;
		return NULL;
	}
	s->file = file;
	s->line = line;
	im->n++;
	return s;
}

const char *imp_keep(struct imp *im, const char *s)
{
	char **n = realloc(im->kept, (im->nkept + 1) * sizeof(*n));

	if (!n) {
		im->oom = true;
		return NULL;
	}
	im->kept = n;
	if (!(n[im->nkept] = strdup(s))) {
		im->oom = true;
		return NULL;
	}
	return n[im->nkept++];
}

static char *dup_or_null(struct imp *im, const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		im->oom = true;
	return d;
}

int imp_add(struct imp *im, struct imp_svc *s, int parent, unsigned indent, bool list_start,
	    enum imp_policy policy, const char *file, unsigned line, const char *what, const char *lost,
	    const char *fmt, ...)
{
	struct imp_item *it;
	va_list ap;
	int len;

	if (!s)
		return -1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct imp_item *n = realloc(s->items, cap * sizeof(*n));

		if (!n) {
			im->oom = true;
			return -1;
		}
		s->items = n;
		s->cap = cap;
	}
	it = &s->items[s->n];
	memset(it, 0, sizeof(*it));
	va_start(ap, fmt);
	len = vasprintf(&it->text, fmt, ap);
	va_end(ap);
	if (len < 0) {
		it->text = NULL;
		im->oom = true;
		return -1;
	}
	it->indent = indent;
	it->list_start = list_start;
	it->parent = parent;
	it->policy = policy;
	it->file = file;
	it->line = line;
	it->what = dup_or_null(im, what ? what : it->text);
	it->lost = dup_or_null(im, lost);
	return (int)s->n++;
}

/* The same message again: a block standing for several services (a keepalived group) says it once. */
static bool said(const struct imp *im, const char *file, unsigned line, const char *text)
{
	size_t i;

	for (i = 0; i < im->nmsgs; i++)
		if (im->msgs[i].line == line && !strcmp(im->msgs[i].text, text) &&
		    !strcmp(im->msgs[i].file, file))
			return true;
	return false;
}

void imp_lost(struct imp *im, const char *file, unsigned line, const char *what, const char *fmt, ...)
{
	struct imp_msg *m = realloc(im->msgs, (im->nmsgs + 1) * sizeof(*m));
	char *why = NULL, *text = NULL;
	va_list ap;
	int n;

	if (!m) {
		im->not_carried++;
		im->oom = true;
		return;
	}
	im->msgs = m;
	va_start(ap, fmt);
	n = vasprintf(&why, fmt, ap);
	va_end(ap);
	if (n < 0 || asprintf(&text, "%s:%u: not carried: %s: %s", file, line, what, why) < 0) {
		free(why);
		im->not_carried++;
		im->oom = true;
		return;
	}
	free(why);
	if (said(im, file, line, text)) {
		free(text);
		return;
	}
	im->not_carried++;
	m = &im->msgs[im->nmsgs];
	m->text = text;
	m->file = file;
	m->line = line;
	m->seq = im->nmsgs++;
}

static size_t file_rank(struct imp *im, const char *file)
{
	const char **f;
	size_t i;

	for (i = 0; i < im->nfiles; i++)
		if (!strcmp(im->files[i], file))
			return i;
	f = realloc(im->files, (im->nfiles + 1) * sizeof(*f));
	if (!f)
		return i;
	im->files = f;
	im->files[im->nfiles] = file;
	return im->nfiles++;
}

static struct imp *sorting; /* qsort has no context argument */

static int msg_order(const void *a, const void *b)
{
	const struct imp_msg *x = a, *y = b;
	size_t fx = file_rank(sorting, x->file), fy = file_rank(sorting, y->file);

	if (fx != fy)
		return fx < fy ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void imp_report(struct imp *im)
{
	size_t i;

	for (i = 0; i < im->nmsgs; i++) /* files ranked by where the reader met them */
		file_rank(im, im->msgs[i].file);
	sorting = im;
	if (im->nmsgs) /* qsort wants a non-NULL base even for 0 messages */
		qsort(im->msgs, im->nmsgs, sizeof(*im->msgs), msg_order);
	sorting = NULL;
	for (i = 0; i < im->nmsgs; i++)
		fprintf(im->err, "%s\n", im->msgs[i].text);
}

int imp_fail(struct imp *im, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (line)
		fprintf(im->err, "%s:%u: ", file, line);
	else
		fprintf(im->err, "%s: ", file);
	va_start(ap, fmt);
	vfprintf(im->err, fmt, ap);
	va_end(ap);
	fputc('\n', im->err);
	return -1;
}

char *imp_quote(const char *s)
{
	size_t n = 3;
	const char *p;
	char *q, *o;

	for (p = s; *p; p++)
		n += (unsigned char)*p < 0x20 || *p == '"' || *p == '\\' ? 4 : 1;
	q = o = malloc(n);
	if (!q)
		return NULL;
	*o++ = '"';
	for (p = s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = *p;
		} else if ((unsigned char)*p < 0x20) {
			o += sprintf(o, "\\x%02x", (unsigned char)*p);
		} else {
			*o++ = *p;
		}
	}
	*o++ = '"';
	*o = '\0';
	return q;
}

const char *imp_addr(const char *addr, char *buf, size_t size)
{
	snprintf(buf, size, strchr(addr, ':') ? "\"%s\"" : "%s", addr);
	return buf;
}

int imp_secs(const char *text, char *buf, size_t size)
{
	unsigned long whole = 0, ms = 0, scale = 100;
	const char *p = text;

	if (!*p || *p == '.')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((whole = whole * 10 + (*p - '0')) > 86400)
			return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			ms += (*p - '0') * scale; /* digits past milliseconds add 0 */
	if (*p)
		return -1;
	if (ms)
		snprintf(buf, size, "%lums", whole * 1000 + ms);
	else
		snprintf(buf, size, "%lus", whole);
	return 0;
}

char *imp_read(struct imp *im, const char *path, size_t *len)
{
	bool in = !strcmp(path, "-");
	int fd = in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;

	if (fd < 0) {
		imp_fail(im, path, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 1 >= cap || !buf) {
			cap = buf ? 2 * cap : cap;
			nb = n < IMPORT_MAX_FILE ? realloc(buf, cap + 1) : NULL;
			if (!nb) {
				imp_fail(im, path, 0,
					 n < IMPORT_MAX_FILE ? "out of memory"
							     : "larger than 16 MiB: refused");
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			imp_fail(im, path, 0, "cannot read: %s", strerror(errno));
			break;
		}
		if (r == 0) {
			if (!in)
				close(fd);
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		n += r;
	}
	if (!in)
		close(fd);
	free(buf);
	return NULL;
}

/* ---- YAML ----------------------------------------------------------------- */

struct out {
	char *s;
	size_t len, cap;
	struct pos {
		int svc, item; /* -1: a line of the importer's own (interfaces, tunnel) */
	} * map;
	size_t lines, map_cap;
	bool oom;
};

static void put(struct out *o, int svc, int item, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void put(struct out *o, int svc, int item, const char *fmt, ...)
{
	va_list ap;
	char *line;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->oom = true;
		return;
	}
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *s = realloc(o->s, cap);

		if (!s) {
			o->oom = true;
			free(line);
			return;
		}
		o->s = s;
		o->cap = cap;
	}
	if (o->lines == o->map_cap) {
		size_t cap = o->map_cap ? 2 * o->map_cap : 256;
		struct pos *m = realloc(o->map, cap * sizeof(*m));

		if (!m) {
			o->oom = true;
			free(line);
			return;
		}
		o->map = m;
		o->map_cap = cap;
	}
	memcpy(o->s + o->len, line, n + 1);
	o->len += n;
	o->map[o->lines++] = (struct pos){ svc, item };
	free(line);
}

/* Dropped items take their blocks' contents with them: parents come before children. */
static void settle(struct imp_svc *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->items[i].parent >= 0 && s->items[s->items[i].parent].dropped)
			s->items[i].dropped = true;
}

/* A block line ("check:", "reals:") with nothing left in it is not written. */
static bool empty_block(const struct imp_svc *s, size_t i)
{
	size_t j, len = strlen(s->items[i].text);

	if (!len || s->items[i].text[len - 1] != ':')
		return false;
	for (j = i + 1; j < s->n; j++)
		if (s->items[j].parent == (int)i && !s->items[j].dropped && !empty_block(s, j))
			return false;
	return true;
}

static void put_svc(struct out *o, const struct imp *im, size_t k)
{
	const struct imp_svc *s = &im->svcs[k];
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct imp_item *it = &s->items[i];

		if (it->dropped || empty_block(s, i))
			continue;
		put(o, k, i, "%*s%s%s\n", (int)(it->list_start ? it->indent - 2 : it->indent), "",
		    it->list_start ? "- " : "", it->text);
	}
}

static void put_list(struct out *o, const char *key, const char *list)
{
	char *copy = strdup(list), *save = NULL, *w;

	if (!copy) {
		o->oom = true;
		return;
	}
	put(o, -1, -1, "%s:\n", key);
	for (w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
		put(o, -1, -1, "  - %s\n", w);
	free(copy);
}

/* The file: the importer's own lines, then service only (or every one when only < 0). */
/* The top-level timeouts ipvsadm --set gave, in the configuration's keys (docs/configuration.md). */
static void put_timeouts(struct out *o, const struct imp *im)
{
	static const char *const keys[] = { "tcp", "tcp_fin", "udp" };
	bool any = false;
	size_t i;

	for (i = 0; i < 3; i++) {
		if (!im->timeouts[i])
			continue;
		if (!any)
			put(o, -1, -1, "timeouts:\n");
		any = true;
		put(o, -1, -1, "  %s: %us\n", keys[i], im->timeouts[i]);
	}
}

static void render(const struct imp *im, long only, const char *source, struct out *o)
{
	char a[80];
	size_t k;
	bool any = false;

	o->len = o->lines = 0;
	if (source)
		put(o, -1, -1, "# xlvs configuration imported by xlvs import from %s\n", source);
	put_list(o, "interfaces", im->interfaces);
	if (im->tun_src4 || im->tun_src6)
		put(o, -1, -1, "tunnel:\n");
	if (im->tun_src4)
		put(o, -1, -1, "  source4: %s\n", imp_addr(im->tun_src4, a, sizeof(a)));
	if (im->tun_src6)
		put(o, -1, -1, "  source6: %s\n", imp_addr(im->tun_src6, a, sizeof(a)));
	put_timeouts(o, im);
	for (k = 0; k < im->n; k++)
		any |= !im->svcs[k].dropped && (only < 0 || (size_t)only == k);
	put(o, -1, -1, any ? "services:\n" : "services: []\n");
	for (k = 0; k < im->n; k++)
		if (!im->svcs[k].dropped && (only < 0 || (size_t)only == k))
			put_svc(o, im, k);
}

/* ---- what the parser refuses ---------------------------------------------- */

/* "(first at line N)" names a line of the output: say the input's instead. */
static void input_lines(const struct imp *im, const struct out *o, char *msg, size_t size)
{
	const char *tag = "(first at line ";
	char *p = strstr(msg, tag), rest[256];
	unsigned long n;
	char *end;

	if (!p)
		return;
	n = strtoul(p + strlen(tag), &end, 10);
	if (*end != ')' || !n || n > o->lines || o->map[n - 1].svc < 0)
		return;
	snprintf(rest, sizeof(rest), "%s", end + 1);
	{
		const struct pos *at = &o->map[n - 1];
		const struct imp_svc *s = &im->svcs[at->svc];
		const char *file = at->item >= 0 ? s->items[at->item].file : s->file;
		unsigned line = at->item >= 0 ? s->items[at->item].line : s->line;

		snprintf(p, size - (p - msg), "(first at %s:%u)%s", file, line, rest);
	}
}

/* A service left out: its reals' own input lines (an ipvsadm -a line each) go with it. */
static void lost_reals(struct imp *im, const struct imp_svc *s, const struct imp_item *cause)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct imp_item *it = &s->items[i];

		if (!it->list_start || it->parent < 0 || it->dropped ||
		    (it->line == cause->line && !strcmp(it->file, cause->file)))
			continue;
		imp_lost(im, it->file, it->line, it->what, "its service (%s:%u) is left out", s->file,
			 s->line);
	}
}

/* Item i of s is refused with msg: drop it, or the block or service that needs it. */
static void refuse(struct imp *im, struct imp_svc *s, int i, const char *msg)
{
	const struct imp_item *cause = &s->items[i];
	int j = i;

	while (j >= 0 && s->items[j].policy == IMP_NEEDED)
		j = s->items[j].parent;
	if (j < 0) {
		s->dropped = true;
		imp_lost(im, cause->file, cause->line, cause->what,
			 "xlvs: %s; the service (%s:%u, %s) is left out", msg, s->file, s->line, s->what);
		lost_reals(im, s, cause);
		return;
	}
	s->items[j].dropped = true;
	settle(s);
	if (j == i)
		imp_lost(im, cause->file, cause->line, cause->what, "xlvs: %s%s%s", msg,
			 s->items[j].lost ? "; " : "", s->items[j].lost ? s->items[j].lost : "");
	else
		imp_lost(im, cause->file, cause->line, cause->what, "xlvs: %s; %s", msg,
			 s->items[j].lost ? s->items[j].lost : "its block is left out");
}

/*
 * Parse the rendering; on a refusal drop what it names and try again. only:
 * one service, or all (< 0) for the rules across services. 0, or -1.
 */
static int settle_with_parser(struct imp *im, long only, struct out *o)
{
	struct xlvs_conf_error err;
	struct xlvs_spec spec;
	const struct pos *at;
	size_t tries;
	int rc;

	for (tries = 0;; tries++) {
		render(im, only, NULL, o);
		if (o->oom || im->oom)
			return imp_fail(im, "xlvs import", 0, "out of memory");
		memset(&err, 0, sizeof(err));
		rc = xlvs_conf_parse("import", o->s, o->len, &spec, &err);
		if (!rc) {
			xlvs_spec_free(&spec);
			return 0;
		}
		if (rc != -EINVAL)
			return imp_fail(im, "xlvs import", 0, "%s", strerror(-rc));
		at = err.line && err.line <= o->lines ? &o->map[err.line - 1] : NULL;
		/* every refusal drops a line at least, so this ends; the bound is a safety net */
		if (!at || at->svc < 0 || at->item < 0 || tries > 1000000)
			return imp_fail(im, "xlvs import", 0,
					"the configuration written is refused at its line %u: %s "
					"(check the --interface and --tunnel-source values)",
					err.line, err.msg);
		input_lines(im, o, err.msg, sizeof(err.msg));
		refuse(im, &im->svcs[at->svc], at->item, err.msg);
	}
}

/* Tunnel reals need the outer source, which IPVS and keepalived take from the route. */
static int check_tunnel_sources(struct imp *im)
{
	size_t k, i;

	for (k = 0; k < im->n; k++) {
		for (i = 0; i < im->svcs[k].n; i++) {
			const struct imp_item *it = &im->svcs[k].items[i];

			if (it->dropped || !it->tun_family ||
			    (it->tun_family == 4 ? im->tun_src4 : im->tun_src6))
				continue;
			imp_fail(im, it->file, it->line,
				 "%s: a tunnel to an IPv%d real needs the director's outer source address, "
				 "which IPVS takes from the route and xlvs from its configuration: "
				 "pass --tunnel-source%d ADDR",
				 it->what, it->tun_family, it->tun_family);
			return -1;
		}
	}
	return 0;
}

/*
 * IPVS has no rings; xlvs gives each service XLVS_RING_DEFAULT slots, and all
 * rings together may have XLVS_RING_SLOTS_MAX. With more services than fit,
 * each gets the largest prime ring that lets them all fit (with a note).
 */
static void fit_rings(struct imp *im)
{
	size_t k, n = 0;
	uint32_t ring;

	for (k = 0; k < im->n; k++)
		n += !im->svcs[k].dropped;
	if (!n || (uint64_t)n * XLVS_RING_DEFAULT <= XLVS_RING_SLOTS_MAX)
		return;
	for (ring = XLVS_RING_SLOTS_MAX / n; ring > 3 && !xlvs_is_prime(ring); ring--)
		;
	for (k = 0; k < im->n; k++)
		if (!im->svcs[k].dropped)
			imp_add(im, &im->svcs[k], -1, 4, false, IMP_OPTIONAL, im->svcs[k].file,
				im->svcs[k].line, "ring_size", NULL, "ring_size: %u", ring);
	fprintf(im->err,
		"note: ring_size: %u written in each of the %zu services (%u slots each would total more "
		"than the %u all rings may have)\n",
		ring, n, XLVS_RING_DEFAULT, XLVS_RING_SLOTS_MAX);
}

/* What `xlvsd --check` runs beyond the parser: the planner, against new maps. */
static int check_plan(struct imp *im, struct out *o)
{
	struct xlvs_conf_error err = { 0 };
	struct xlvs_spec spec;
	char why[640];
	int rc = xlvs_conf_parse("import", o->s, o->len, &spec, &err);

	if (rc)
		return imp_fail(im, "xlvs import", 0, "the configuration written is refused: %s", err.msg);
	rc = xlvs_plan_check(NULL, 0, &spec, why, sizeof(why));
	xlvs_spec_free(&spec);
	if (rc)
		return imp_fail(im, "xlvs import", 0,
				"the configuration written does not fit xlvs's maps: %s",
				why[0] ? why : strerror(-rc));
	return 0;
}

int imp_finish(struct imp *im, const char *source, FILE *out)
{
	struct out o = { 0 };
	size_t k;
	int rc = 0;

	if (im->oom)
		return imp_fail(im, "xlvs import", 0, "out of memory");
	if (check_tunnel_sources(im))
		return -1;
	for (k = 0; k < im->n && !rc; k++)
		if (!im->svcs[k].dropped)
			rc = settle_with_parser(im, k, &o);
	if (!rc)
		fit_rings(im);
	if (!rc)
		rc = settle_with_parser(im, -1, &o);
	if (!rc)
		rc = check_plan(im, &o);
	if (!rc) {
		render(im, -1, source, &o);
		if (o.oom)
			rc = imp_fail(im, "xlvs import", 0, "out of memory");
		else
			fwrite(o.s, 1, o.len, out);
	}
	free(o.s);
	free(o.map);
	return rc;
}

void imp_free(struct imp *im)
{
	size_t k, i;

	for (k = 0; k < im->n; k++) {
		for (i = 0; i < im->svcs[k].n; i++) {
			free(im->svcs[k].items[i].text);
			free(im->svcs[k].items[i].what);
			free(im->svcs[k].items[i].lost);
		}
		free(im->svcs[k].items);
		free(im->svcs[k].what);
	}
	free(im->svcs);
	for (k = 0; k < im->nkept; k++)
		free(im->kept[k]);
	for (k = 0; k < im->nmsgs; k++)
		free(im->msgs[k].text);
	free(im->msgs);
	free(im->files);
	free(im->kept);
	memset(im, 0, sizeof(*im));
}

/* ---- the commands ------------------------------------------------------- */

struct import_words {
	const char *file;
	const char *interfaces;
	const char *src4, *src6;
};

#define IMPORT_OPTS(FILE_ARG, FILE_HELP)                                                                     \
	{ .kind = XLVS_OPT_STRING,                                                                           \
	  .flags = XLVS_OPT_POS,                                                                             \
	  .off = offsetof(struct import_words, file),                                                        \
	  .arg = FILE_ARG,                                                                                   \
	  .help = FILE_HELP },                                                                               \
		{ .name = "--interface",                                                                     \
		  .alias = "-i",                                                                             \
		  .kind = XLVS_OPT_STRING,                                                                   \
		  .off = offsetof(struct import_words, interfaces),                                          \
		  .arg = "IF[,IF...]",                                                                       \
		  .help = "the interfaces: of the output (default eth0; the input has none)" },              \
		{ .name = "--tunnel-source4",                                                                \
		  .kind = XLVS_OPT_STRING,                                                                   \
		  .off = offsetof(struct import_words, src4),                                                \
		  .arg = "ADDR",                                                                             \
		  .help = "tunnel.source4, needed by tunnels to IPv4 reals" },                               \
		{ .name = "--tunnel-source6",                                                                \
		  .kind = XLVS_OPT_STRING,                                                                   \
		  .off = offsetof(struct import_words, src6),                                                \
		  .arg = "ADDR",                                                                             \
		  .help = "tunnel.source6, needed by tunnels to IPv6 reals" },                               \
	{                                                                                                    \
		0                                                                                            \
	}

const struct xlvs_opt xlvs_opts_import_ipvsadm[] = {
	IMPORT_OPTS("FILE|-", "ipvsadm -Sn (ipvsadm-save -n) output; '-' or none: standard input"),
};
const struct xlvs_opt xlvs_opts_import_keepalived[] = {
	IMPORT_OPTS("FILE|-", "keepalived.conf; its include directives are followed"),
};

/* A lone "-" (standard input) is a file name here, not an option: take it out first. */
static int run_import(struct xlvs_ctx *c, int argc, char **argv, const struct xlvs_opt *opts, bool keepalived)
{
	struct import_words w = { 0 };
	struct imp im = { .err = c->err };
	char **args = calloc(argc + 1, sizeof(*args));
	bool dash = false;
	size_t len = 0;
	char *text = NULL;
	int i, n = 0, rc;

	if (!args)
		return xlvs_error(c, XLVS_EXIT_RUNTIME, "out of memory");
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-") && !dash)
			dash = true;
		else
			args[n++] = argv[i];
	}
	rc = xlvs_parse_opts(c, opts, n, args, &w);
	free(args);
	if (rc)
		return rc;
	if (dash && w.file)
		return xlvs_usage_error(c, "give one input: '-' or FILE, not both");
	if (keepalived && !dash && !w.file)
		return xlvs_usage_error(c, "missing FILE (keepalived.conf, or '-' for standard input)");
	if (!w.file)
		w.file = "-";
	im.interfaces = w.interfaces ? w.interfaces : "eth0";
	im.tun_src4 = w.src4;
	im.tun_src6 = w.src6;
	text = imp_read(&im, w.file, &len);
	if (!text)
		return XLVS_EXIT_RUNTIME;
	if (strlen(text) != len)
		rc = imp_fail(&im, w.file, 0, "contains a NUL byte: not a text file");
	else if (keepalived)
		rc = imp_keepalived(&im, w.file, text, 0);
	else
		rc = imp_ipvsadm(&im, w.file, text);
	free(text);
	if (!rc && !w.interfaces)
		fprintf(c->err,
			"%s: note: interfaces: eth0 written (the input names none; pass --interface)\n",
			w.file);
	if (!rc)
		rc = imp_finish(&im, !strcmp(w.file, "-") ? "standard input" : w.file, c->out)
			     ? XLVS_EXIT_USAGE
			     : 0;
	else
		rc = XLVS_EXIT_RUNTIME;
	if (!rc)
		imp_report(&im);
	if (!rc && im.not_carried)
		fprintf(c->err, "xlvs import: %u line%s of the input not carried (see above)\n",
			im.not_carried, im.not_carried == 1 ? "" : "s");
	if (!rc && im.not_carried)
		rc = XLVS_EXIT_PARTIAL;
	imp_free(&im);
	return rc;
}

int cmd_import_ipvsadm(struct xlvs_ctx *c, int argc, char **argv)
{
	return run_import(c, argc, argv, xlvs_opts_import_ipvsadm, false);
}

int cmd_import_keepalived(struct xlvs_ctx *c, int argc, char **argv)
{
	return run_import(c, argc, argv, xlvs_opts_import_keepalived, true);
}
