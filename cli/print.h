/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one printer of the xlvs CLI. Every command emits through it: each call
 * names a JSON key and a text format for the same value, so `-j` and the text
 * output are produced by the same code path and cannot drift apart.
 *
 * JSON mode builds a jansson document and writes it at xp_end() (pretty with
 * -p). Text mode writes through a line buffer that drops trailing blanks, so
 * padded table columns never leave whitespace at the end of a line.
 */
#ifndef XLVS_CLI_PRINT_H
#define XLVS_CLI_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Where a value goes (iproute2's PRINT_ANY / PRINT_FP / PRINT_JSON idea). */
enum xp_kind {
	XP_ANY,	 /* text with fmt, JSON under key */
	XP_TEXT, /* text only: layout, units, combined fields */
	XP_JSON, /* JSON only: machine fields text shows combined */
};

#define XP_MAX_DEPTH 16

struct xp {
	FILE *out;
	bool json, pretty;
	json_t *stack[XP_MAX_DEPTH]; /* open containers; stack[0] is the root */
	int depth;
	char *line; /* text: the line being built */
	size_t len, cap;
	bool failed; /* allocation or write error seen */
};

void xp_init(struct xp *p, FILE *out, bool json, bool pretty);
/* Start a document (JSON: an empty root object). */
void xp_begin(struct xp *p);
/* Finish it: JSON is dumped with a newline, text is flushed. 0 or -1. */
int xp_end(struct xp *p);
/* Drop whatever is open without printing (error paths). */
void xp_discard(struct xp *p);

/* Containers: key is ignored inside arrays, required inside objects. */
void xp_obj_open(struct xp *p, const char *key);
void xp_obj_close(struct xp *p);
void xp_arr_open(struct xp *p, const char *key);
void xp_arr_close(struct xp *p);

/* One value: text gets printf(fmt, val), JSON gets key = val. */
void xp_str(struct xp *p, enum xp_kind k, const char *key, const char *fmt, const char *val);
void xp_u64(struct xp *p, enum xp_kind k, const char *key, const char *fmt, uint64_t val);
void xp_i64(struct xp *p, enum xp_kind k, const char *key, const char *fmt, int64_t val);
void xp_dbl(struct xp *p, enum xp_kind k, const char *key, const char *fmt, double val);
void xp_bool(struct xp *p, enum xp_kind k, const char *key, const char *fmt, bool val);
/* Add a ready jansson value (reference stolen) to the JSON document only. */
void xp_json(struct xp *p, const char *key, json_t *val);

/* Text only: layout (headers, separators, padding, newlines). */
void xp_text(struct xp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* XLVS_CLI_PRINT_H */
