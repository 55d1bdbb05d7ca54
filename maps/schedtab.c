// SPDX-License-Identifier: GPL-2.0
/* Scheduler tables (maps/schedtab.h). Facts from IPVS's ip_vs_sh.c, ip_vs_rr.c, ip_vs_wrr.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "schedtab.h"

static uint32_t gcd32(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* IPVS ip_vs_wrr_gcd_weight(): over the weighted reals; 0 when none has a weight. */
static uint32_t weights_gcd(const struct xlvs_maglev_backend *b, size_t n, uint32_t *max)
{
	uint32_t g = 0;
	size_t i;

	*max = 0;
	for (i = 0; i < n; i++) {
		g = b[i].weight ? gcd32(b[i].weight, g) : g;
		*max = b[i].weight > *max ? b[i].weight : *max;
	}
	return g;
}

uint64_t xlvs_sched_period(uint8_t sched, const struct xlvs_maglev_backend *b, size_t n)
{
	uint32_t max, g = weights_gcd(b, n, &max);
	uint64_t sum = 0;
	size_t i;

	if (xlvs_sched_counts(sched))
		return n;
	if (sched != XLVS_SCHED_RR && sched != XLVS_SCHED_WRR)
		return 0;
	for (i = 0; i < n; i++)
		if (b[i].weight)
			sum += sched == XLVS_SCHED_RR ? 1 : b[i].weight / g;
	return sum;
}

/*
 * IPVS ip_vs_wrr_schedule(): the current weight cw starts at the largest
 * weight (less gcd - 1) and drops by the gcd after each pass over the reals;
 * a pass takes every real whose weight is at least cw. Weights 4,3,2 give
 * A A B A B C A B C: interleaved, not in bursts.
 */
static uint32_t wrr_sequence(uint32_t *seq, const struct xlvs_maglev_backend *b, size_t n)
{
	uint32_t max, g = weights_gcd(b, n, &max), len = 0;
	int64_t cw;
	size_t i;

	if (!g)
		return 0;
	for (cw = (int64_t)max - (g - 1); cw > 0; cw -= g)
		for (i = 0; i < n; i++)
			if (b[i].weight >= cw)
				seq[len++] = b[i].real_id;
	return len;
}

/* IPVS ip_vs_rr_schedule(): each real that has a weight, in turn. */
static uint32_t rr_sequence(uint32_t *seq, const struct xlvs_maglev_backend *b, size_t n)
{
	uint32_t len = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i].weight)
			seq[len++] = b[i].real_id;
	return len;
}

static int seq_build(uint8_t sched, uint32_t *table, uint32_t size, const struct xlvs_maglev_backend *b,
		     size_t n)
{
	uint64_t period = xlvs_sched_period(sched, b, n);
	uint32_t i, len;

	if (period > size)
		return -E2BIG;
	len = sched == XLVS_SCHED_RR ? rr_sequence(table, b, n) : wrr_sequence(table, b, n);
	for (i = len; i < size; i++)
		table[i] = len ? table[i - len] : XLVS_REAL_NONE;
	return 0;
}

/* lc, wlc, sed, nq: every real in order, weight 0 too (the data path reads live weights). */
static int list_build(uint32_t *table, uint32_t size, const struct xlvs_maglev_backend *b, size_t n)
{
	uint32_t i;

	if (n > size || n > XLVS_LEAST_MAX_REALS)
		return -E2BIG;
	for (i = 0; i < size; i++)
		table[i] = i < n ? b[i].real_id : XLVS_REAL_NONE;
	return 0;
}

/* IPVS ip_vs_sh_reassign(): deal the buckets out in order, `weight` at a time. */
static void bucket_build(uint32_t *table, uint32_t size, const struct xlvs_maglev_backend *b, size_t n)
{
	uint32_t i, taken = 0;
	size_t r = 0;

	for (i = 0; i < size; i++) {
		table[i] = n ? b[r].real_id : XLVS_REAL_NONE;
		if (n && ++taken >= b[r].weight) {
			r = (r + 1) % n;
			taken = 0;
		}
	}
}

int xlvs_sched_build(uint8_t sched, uint32_t *table, uint32_t size, const struct xlvs_maglev_backend *b,
		     size_t n)
{
	size_t i;

	if (!size || (n && !b))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (b[i].real_id == XLVS_REAL_NONE || b[i].weight > XLVS_MAGLEV_MAX_WEIGHT)
			return -EINVAL;
	switch (sched) {
	case XLVS_SCHED_MAGLEV:
	case XLVS_SCHED_MH:
		return xlvs_maglev_build(table, size, b, n);
	case XLVS_SCHED_SH:
	case XLVS_SCHED_DH:
		bucket_build(table, size, b, n);
		return 0;
	case XLVS_SCHED_RR:
	case XLVS_SCHED_WRR:
		return seq_build(sched, table, size, b, n);
	case XLVS_SCHED_LC:
	case XLVS_SCHED_WLC:
	case XLVS_SCHED_SED:
	case XLVS_SCHED_NQ:
	case XLVS_SCHED_LBLC:
	case XLVS_SCHED_LBLCR:
		return list_build(table, size, b, n);
	default:
		return -EINVAL;
	}
}

/* ipvsadm(8) -b: sh-fallback, sh-port for sh; mh-fallback, mh-port for mh. */
static const struct {
	const char *name;
	uint8_t sched;
	uint32_t flag;
} sched_flag_names[] = {
	{ "sh-fallback", XLVS_SCHED_SH, XLVS_SVC_F_SCHED_FALLBACK },
	{ "sh-port", XLVS_SCHED_SH, XLVS_SVC_F_SCHED_PORT },
	{ "mh-fallback", XLVS_SCHED_MH, XLVS_SVC_F_SCHED_FALLBACK },
	{ "mh-port", XLVS_SCHED_MH, XLVS_SVC_F_SCHED_PORT },
	{ "dh-fallback", XLVS_SCHED_DH, XLVS_SVC_F_SCHED_FALLBACK }, /* xlvs: dh as sh-fallback */
};

#define NR_FLAG_NAMES (sizeof(sched_flag_names) / sizeof(sched_flag_names[0]))

uint32_t xlvs_sched_flag_parse(const char *name, uint8_t *sched)
{
	size_t i;

	for (i = 0; i < NR_FLAG_NAMES; i++)
		if (!strcmp(name, sched_flag_names[i].name)) {
			*sched = sched_flag_names[i].sched;
			return sched_flag_names[i].flag;
		}
	return 0;
}

const char *xlvs_sched_flag_name(uint8_t sched, uint32_t flag)
{
	size_t i;

	for (i = 0; i < NR_FLAG_NAMES; i++)
		if (sched_flag_names[i].sched == sched && sched_flag_names[i].flag == flag)
			return sched_flag_names[i].name;
	return NULL;
}

char *xlvs_sched_flags_str(uint8_t sched, uint32_t flags, char *buf, size_t size)
{
	const char *name;
	uint32_t bit;
	size_t n = 0;

	buf[0] = '\0';
	for (bit = XLVS_SVC_F_SCHED_FALLBACK; bit & XLVS_SVC_F_SCHED_MASK; bit <<= 1) {
		name = flags & bit ? xlvs_sched_flag_name(sched, bit) : NULL;
		if (name && n < size)
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", name);
	}
	return buf;
}

bool xlvs_sched_counts(uint8_t sched)
{
	switch (sched) {
	case XLVS_SCHED_LC:
	case XLVS_SCHED_WLC:
	case XLVS_SCHED_SED:
	case XLVS_SCHED_NQ:
	case XLVS_SCHED_LBLC:
	case XLVS_SCHED_LBLCR:
		return true;
	default:
		return false;
	}
}
