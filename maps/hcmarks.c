// SPDX-License-Identifier: GPL-2.0
/*
 * xlvs_hc_marks: the socket marks of health checks that go through the
 * forwarding path (bpf/xlvs_tc.bpf.c), one per ACTIVE dr/tun/gue real.
 * The map itself is the state: a restarted xlvsd finds every real's mark
 * there and keeps it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "internal.h"

#define MARK_FREE_BITS_MIN 16 /* XLVS_MAX_REALS marks at least */

bool xlvs_hc_mark_range_ok(uint32_t value, uint32_t mask, char *msg, size_t size)
{
	uint32_t free_bits = ~mask;

	if (free_bits & (free_bits + 1))
		snprintf(msg, size, "mask 0x%08x is not contiguous high bits (e.g. 0xffff0000)", mask);
	else if (free_bits < (1u << MARK_FREE_BITS_MIN) - 1 || !mask)
		snprintf(msg, size, "mask 0x%08x leaves fewer than %d bits for the marks (at most 0x%08x)",
			 mask, MARK_FREE_BITS_MIN, 0xffffffffu << MARK_FREE_BITS_MIN);
	else if (value & free_bits)
		snprintf(msg, size, "value 0x%08x has bits outside mask 0x%08x", value, mask);
	else if (!value)
		snprintf(msg, size, "value 0 would make a mark 0, which every unmarked packet has");
	else
		return true;
	return false;
}

/* The marks of the range: value | n, n below the span and within the mask. */
static uint32_t mark_span(uint32_t mask)
{
	return ~mask < XLVS_HC_MARK_SPAN - 1 ? ~mask + 1 : XLVS_HC_MARK_SPAN;
}

static bool in_range(uint32_t mark, uint32_t value, uint32_t mask)
{
	return mask && (mark & mask) == value && (mark & ~mask) < mark_span(mask);
}

/* The entries to keep: in range, naming the current generation of a steered real, one per real. */
static int prune(struct xlvs_maps *m, const struct xlvs_real *reals, uint32_t value, uint32_t mask,
		 uint32_t *mark_of, uint8_t *used)
{
	struct xlvs_hc_target *tgt;
	uint32_t *keys, n, i;
	int err;

	err = map_dump(m->hc_marks, sizeof(*keys), sizeof(*tgt), XLVS_HC_MARKS_MAX, (void **)&keys,
		       (void **)&tgt, &n);
	if (err)
		return err;
	for (i = 0; i < n && !err; i++) {
		const struct xlvs_hc_target *t = &tgt[i];
		const struct xlvs_real *r = t->real_id < XLVS_MAX_REALS ? &reals[t->real_id] : NULL;

		if (in_range(keys[i], value, mask) && r && real_active(r) && r->gen == t->real_gen &&
		    xlvs_hc_steerable(r->fwd) && !mark_of[t->real_id]) {
			uint32_t n = keys[i] & ~mask;

			mark_of[t->real_id] = keys[i];
			used[n / 8] |= 1u << (n % 8);
		} else if (bpf_map_delete_elem(m->hc_marks, &keys[i]) && errno != ENOENT) {
			err = -errno;
		}
	}
	free(keys);
	free(tgt);
	return err;
}

/* The next free mark after *cursor, marked used; 0 if none. */
static uint32_t next_free(uint8_t *used, uint32_t span, uint32_t value, uint32_t *cursor)
{
	uint32_t i, n;

	for (i = 0; i < span; i++) {
		n = (*cursor + 1 + i) % span;
		if (!(used[n / 8] & (1u << (n % 8)))) {
			used[n / 8] |= 1u << (n % 8);
			*cursor = n;
			return value | n;
		}
	}
	return 0;
}

static int assign(struct xlvs_maps *m, const struct xlvs_real *reals, uint32_t value, uint32_t mask,
		  uint32_t *cursor, uint32_t *mark_of, uint8_t *used)
{
	uint32_t id, mark;
	int err = 0;

	for (id = 0; id < XLVS_MAX_REALS; id++) {
		const struct xlvs_real *r = &reals[id];
		struct xlvs_hc_target t = { .real_id = id, .real_gen = r->gen };

		if (!real_active(r) || !xlvs_hc_steerable(r->fwd) || mark_of[id])
			continue;
		mark = next_free(used, mark_span(mask), value, cursor);
		if (!mark) {
			err = -ENOSPC;
			continue;
		}
		if (bpf_map_update_elem(m->hc_marks, &mark, &t, BPF_NOEXIST)) {
			err = -errno;
			continue;
		}
		mark_of[id] = mark;
	}
	return err;
}

int xlvs_hc_marks_sync(struct xlvs_maps *m, uint32_t value, uint32_t mask, uint32_t *cursor,
		       uint32_t *mark_of)
{
	uint32_t *owner = mark_of ? mark_of : calloc(XLVS_MAX_REALS, sizeof(*owner));
	uint8_t *used = calloc(XLVS_HC_MARK_SPAN / 8, 1);
	struct xlvs_real *reals = NULL;
	int err;

	if (!owner || !used) {
		err = -ENOMEM;
		goto out;
	}
	memset(owner, 0, XLVS_MAX_REALS * sizeof(*owner));
	err = dump_array(m->reals, sizeof(*reals), XLVS_MAX_REALS, (void **)&reals);
	if (!err)
		err = prune(m, reals, value, mask, owner, used);
	if (!err && mask)
		err = assign(m, reals, value, mask, cursor, owner, used);
out:
	free(reals);
	free(used);
	if (owner != mark_of)
		free(owner);
	return err;
}
