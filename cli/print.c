// SPDX-License-Identifier: GPL-2.0
/*
 * The one printer: see print.h. Nothing here knows about xlvs objects; the
 * formatters in fmt.c decide what to print, this decides how.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"

void xp_init(struct xp *p, FILE *out, bool json, bool pretty)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->json = json;
	p->pretty = pretty;
}

static void drop_stack(struct xp *p)
{
	if (p->depth > 0)
		json_decref(p->stack[0]);
	p->depth = 0;
}

void xp_begin(struct xp *p)
{
	drop_stack(p);
	p->len = 0;
	if (!p->json)
		return;
	p->stack[0] = json_object();
	if (!p->stack[0])
		p->failed = true;
	else
		p->depth = 1;
}

/* Text: write out complete lines with trailing blanks removed. */
static void flush_lines(struct xp *p, bool all)
{
	size_t start = 0, i;

	for (i = 0; i < p->len; i++) {
		size_t end = i;

		if (p->line[i] != '\n')
			continue;
		while (end > start && (p->line[end - 1] == ' ' || p->line[end - 1] == '\t'))
			end--;
		if (fwrite(p->line + start, 1, end - start, p->out) != end - start ||
		    fputc('\n', p->out) == EOF)
			p->failed = true;
		start = i + 1;
	}
	if (all && start < p->len) {
		if (fwrite(p->line + start, 1, p->len - start, p->out) != p->len - start)
			p->failed = true;
		start = p->len;
	}
	if (start) /* p->line is NULL until the first text: memmove() wants a pointer even for 0 */
		memmove(p->line, p->line + start, p->len - start);
	p->len -= start;
}

static void text_vadd(struct xp *p, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0) {
		p->failed = true;
		return;
	}
	if (p->len + (size_t)n + 1 > p->cap) {
		size_t cap = (p->len + (size_t)n + 1) * 2;
		char *l = realloc(p->line, cap);

		if (!l) {
			p->failed = true;
			return;
		}
		p->line = l;
		p->cap = cap;
	}
	vsnprintf(p->line + p->len, (size_t)n + 1, fmt, ap);
	p->len += (size_t)n;
	if (memchr(p->line + p->len - n, '\n', (size_t)n))
		flush_lines(p, false);
}

static void __attribute__((format(printf, 2, 3))) text_add(struct xp *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text_vadd(p, fmt, ap);
	va_end(ap);
}

void xp_text(struct xp *p, const char *fmt, ...)
{
	va_list ap;

	if (p->json)
		return;
	va_start(ap, fmt);
	text_vadd(p, fmt, ap);
	va_end(ap);
}

int xp_end(struct xp *p)
{
	if (p->json && p->depth > 0) {
		/* 15 digits: 0.2 stays 0.2, epoch timestamps keep their milliseconds. */
		size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) |
			       (p->pretty ? JSON_INDENT(2) : JSON_COMPACT);

		if (json_dumpf(p->stack[0], p->out, flags) < 0 || fputc('\n', p->out) == EOF)
			p->failed = true;
		drop_stack(p);
	} else if (!p->json) {
		flush_lines(p, true);
	}
	free(p->line);
	p->line = NULL;
	p->len = p->cap = 0;
	if (fflush(p->out) == EOF)
		p->failed = true;
	return p->failed ? -1 : 0;
}

void xp_discard(struct xp *p)
{
	drop_stack(p);
	free(p->line);
	p->line = NULL;
	p->len = p->cap = 0;
}

/* Put val (reference stolen) into the innermost open container. */
static void add(struct xp *p, const char *key, json_t *val)
{
	json_t *top;

	if (!val) {
		p->failed = true;
		return;
	}
	if (p->depth <= 0 || p->depth > XP_MAX_DEPTH) {
		json_decref(val);
		return;
	}
	top = p->stack[p->depth - 1];
	if (json_is_array(top)) {
		json_array_append_new(top, val);
	} else if (key) {
		json_object_set_new(top, key, val);
	} else {
		json_decref(val);
		p->failed = true;
	}
}

static void push(struct xp *p, const char *key, json_t *c)
{
	if (!p->json)
		return;
	/* Past the limit the container is not nested but closes stay balanced. */
	if (!c || p->depth <= 0 || p->depth >= XP_MAX_DEPTH) {
		json_decref(c);
		p->failed = true;
		if (p->depth > 0)
			p->depth++;
		return;
	}
	json_incref(c);
	add(p, key, c);
	p->stack[p->depth++] = c;
}

static void pop(struct xp *p)
{
	if (!p->json || p->depth <= 1)
		return;
	if (p->depth <= XP_MAX_DEPTH)
		json_decref(p->stack[p->depth - 1]);
	p->depth--;
}

void xp_obj_open(struct xp *p, const char *key)
{
	push(p, key, p->json ? json_object() : NULL);
}

void xp_arr_open(struct xp *p, const char *key)
{
	push(p, key, p->json ? json_array() : NULL);
}

void xp_obj_close(struct xp *p)
{
	pop(p);
}

void xp_arr_close(struct xp *p)
{
	pop(p);
}

void xp_json(struct xp *p, const char *key, json_t *val)
{
	if (p->json)
		add(p, key, val);
	else
		json_decref(val);
}

void xp_str(struct xp *p, enum xp_kind k, const char *key, const char *fmt, const char *val)
{
	if (!val)
		val = "";
	if (p->json) {
		if (k != XP_TEXT)
			add(p, key, json_string(val));
	} else if (k != XP_JSON) {
		text_add(p, fmt, val);
	}
}

void xp_u64(struct xp *p, enum xp_kind k, const char *key, const char *fmt, uint64_t val)
{
	if (p->json) {
		/* jansson integers are signed 64-bit; counters never get there. */
		if (k != XP_TEXT)
			add(p, key, json_integer(val > INT64_MAX ? INT64_MAX : (json_int_t)val));
	} else if (k != XP_JSON) {
		text_add(p, fmt, val);
	}
}

void xp_i64(struct xp *p, enum xp_kind k, const char *key, const char *fmt, int64_t val)
{
	if (p->json) {
		if (k != XP_TEXT)
			add(p, key, json_integer(val));
	} else if (k != XP_JSON) {
		text_add(p, fmt, val);
	}
}

void xp_dbl(struct xp *p, enum xp_kind k, const char *key, const char *fmt, double val)
{
	if (p->json) {
		if (k != XP_TEXT)
			add(p, key, json_real(val));
	} else if (k != XP_JSON) {
		text_add(p, fmt, val);
	}
}

void xp_bool(struct xp *p, enum xp_kind k, const char *key, const char *fmt, bool val)
{
	if (p->json) {
		if (k != XP_TEXT)
			add(p, key, json_boolean(val));
	} else if (k != XP_JSON) {
		text_add(p, fmt, val ? "yes" : "no");
	}
}
