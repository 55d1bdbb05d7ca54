// SPDX-License-Identifier: GPL-2.0
/*
 * Bulk map I/O. One bpf(2) call costs about a microsecond; batch operations
 * (Linux >= 5.6) move thousands of entries per call. Kernels without them get
 * the same results one entry at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "internal.h"

#define XLVS_ENOTSUPP 524 /* kernel-internal "no such op", leaks out of bpf(2) */

_Static_assert(sizeof(struct xlvs_flow) <= sizeof(((struct map_iter *)0)->pos),
	       "map_iter.pos must hold the largest key");

static bool batch_unsupported(int err)
{
	return err == -EINVAL || err == -ENOTSUP || err == -XLVS_ENOTSUPP;
}

void map_iter_init(struct map_iter *it, int fd, uint32_t ksz, uint32_t vsz)
{
	memset(it, 0, sizeof(*it));
	it->fd = fd;
	it->ksz = ksz;
	it->vsz = vsz;
}

void map_iter_init_at(struct map_iter *it, int fd, uint32_t vsz, uint32_t first)
{
	uint32_t prev = first - 1;

	map_iter_init(it, fd, sizeof(prev), vsz);
	if (first) {
		memcpy(it->pos, &prev, sizeof(prev));
		it->started = true;
	}
}

static int iter_single(struct map_iter *it, char *keys, char *vals, uint32_t cap)
{
	uint32_t n = 0;
	int err;

	while (n < cap) {
		err = bpf_map_get_next_key(it->fd, it->started ? it->pos : NULL, keys + n * it->ksz);
		if (err == -ENOENT) {
			it->done = true;
			break;
		}
		if (err)
			return err;
		memcpy(it->pos, keys + n * it->ksz, it->ksz);
		it->started = true;
		err = bpf_map_lookup_elem(it->fd, it->pos, vals + n * it->vsz);
		if (err == -ENOENT) /* deleted since get_next_key */
			continue;
		if (err)
			return err;
		n++;
	}
	return n;
}

int map_iter_read(struct map_iter *it, void *keys, void *vals, uint32_t cap)
{
	__u32 n = cap;
	int err;

	if (it->done || !cap)
		return 0;
	if (it->single)
		return iter_single(it, keys, vals, cap);
	err = bpf_map_lookup_batch(it->fd, it->started ? it->pos : NULL, it->pos, keys, vals, &n, NULL);
	if (!it->batched && batch_unsupported(err)) {
		it->single = true;
		return iter_single(it, keys, vals, cap);
	}
	if (err == -ENOENT)
		it->done = true;
	else if (err)
		return err;
	it->started = true;
	it->batched = true;
	return n;
}

int array_read(int fd, uint32_t vsz, uint32_t first, uint32_t n, void *vals, uint32_t *keys, uint32_t chunk)
{
	struct map_iter it;
	uint32_t done = 0;
	int got;

	map_iter_init_at(&it, fd, vsz, first);
	while (done < n) {
		/* a batch may stop short (or at the map's end, ENOENT): go on from where it did */
		got = map_iter_read(&it, keys, (char *)vals + (size_t)done * vsz,
				    n - done < chunk ? n - done : chunk);
		if (got <= 0)
			return got ? got : -EPROTO; /* the map ended before first + n */
		done += got;
	}
	return 0;
}

int map_dump(int fd, uint32_t ksz, uint32_t vsz, uint32_t max, void **keys, void **vals, uint32_t *n)
{
	struct map_iter it;
	char *k = malloc((size_t)max * ksz + 1), *v = malloc((size_t)max * vsz + 1);
	int got = 0;

	*n = 0;
	if (!k || !v) {
		got = -ENOMEM;
		goto fail;
	}
	map_iter_init(&it, fd, ksz, vsz);
	do {
		*n += got;
		got = map_iter_read(&it, k + (size_t)*n * ksz, v + (size_t)*n * vsz, max - *n);
	} while (got > 0);
	if (got < 0)
		goto fail;
	*keys = k;
	*vals = v;
	return 0;
fail:
	free(k);
	free(v);
	*n = 0;
	return got;
}

int map_update_many(int fd, const void *keys, const void *vals, uint32_t n, uint32_t ksz, uint32_t vsz)
{
	const char *k = keys, *v = vals;
	__u32 i, count = n;
	int err;

	if (!n)
		return 0;
	err = bpf_map_update_batch(fd, keys, vals, &count, NULL);
	if (!batch_unsupported(err))
		return err;
	for (i = 0; i < n; i++) {
		err = bpf_map_update_elem(fd, k + (size_t)i * ksz, v + (size_t)i * vsz, BPF_ANY);
		if (err)
			return err;
	}
	return 0;
}
