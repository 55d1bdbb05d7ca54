// SPDX-License-Identifier: GPL-2.0
/* Slot I/O on xlvs_ring's blocks (ringio.h), batched through mapio.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "ringio.h"

#define BLOCKS_PER_CALL 1024u /* 64 KiB of blocks per bpf(2) call */

struct ring_io {
	uint32_t keys[BLOCKS_PER_CALL];
	struct xlvs_ring_block blk[BLOCKS_PER_CALL];
	uint8_t dirty[BLOCKS_PER_CALL];
	uint32_t put_keys[BLOCKS_PER_CALL];
	struct xlvs_ring_block put[BLOCKS_PER_CALL];
};

/* Blocks [first, first + n) into io->blk, n <= BLOCKS_PER_CALL. */
static int blocks_read(int fd, struct ring_io *io, uint32_t first, uint32_t n)
{
	return array_read(fd, sizeof(*io->blk), first, n, io->blk, io->keys, BLOCKS_PER_CALL);
}

int xlvs_ring_read(int map_fd, uint32_t first, uint32_t n, uint32_t *out)
{
	uint64_t s = first, end = (uint64_t)first + n, b0, nb;
	struct ring_io *io;
	int err = 0;

	if (end > 1ull << 32 || (n && !out))
		return -EINVAL;
	if (!n)
		return 0;
	io = malloc(sizeof(*io));
	if (!io)
		return -ENOMEM;
	while (!err && s < end) {
		b0 = s / XLVS_RING_BLOCK;
		nb = (end - 1) / XLVS_RING_BLOCK - b0 + 1;
		nb = nb < BLOCKS_PER_CALL ? nb : BLOCKS_PER_CALL;
		err = blocks_read(map_fd, io, (uint32_t)b0, (uint32_t)nb);
		for (; !err && s < end && s / XLVS_RING_BLOCK < b0 + nb; s++)
			*out++ = io->blk[s / XLVS_RING_BLOCK - b0].slot[s % XLVS_RING_BLOCK];
	}
	free(io);
	return err;
}

/* One block, one lookup: no staging room for a single slot. */
int xlvs_ring_get(int map_fd, uint32_t slot, uint32_t *val)
{
	uint32_t block = slot / XLVS_RING_BLOCK;
	struct xlvs_ring_block b;

	if (bpf_map_lookup_elem(map_fd, &block, &b))
		return errno == ENOENT ? -EPROTO : -errno; /* an array's ENOENT: past its end */
	*val = b.slot[slot % XLVS_RING_BLOCK];
	return 0;
}

/* The changed blocks of one read, written back whole. */
static int blocks_flush(int fd, struct ring_io *io, uint32_t b0, uint32_t nb)
{
	uint32_t i, n = 0;

	for (i = 0; i < nb; i++) {
		if (!io->dirty[i])
			continue;
		io->put_keys[n] = b0 + i;
		io->put[n++] = io->blk[i];
	}
	return map_update_many(fd, io->put_keys, io->put, n, sizeof(*io->put_keys), sizeof(*io->put));
}

int xlvs_ring_put(int map_fd, const uint32_t *slots, const uint32_t *vals, uint32_t n)
{
	uint32_t i = 0, j, b0, nb, last;
	struct ring_io *io;
	int err = 0;

	for (j = 1; j < n; j++)
		if (slots[j] < slots[j - 1])
			return -EINVAL;
	if (!n)
		return 0;
	io = malloc(sizeof(*io));
	if (!io)
		return -ENOMEM;
	while (!err && i < n) {
		/* the blocks from slot i's to the last one within reach; gaps between are read too */
		last = b0 = slots[i] / XLVS_RING_BLOCK;
		for (j = i; j < n && slots[j] / XLVS_RING_BLOCK - b0 < BLOCKS_PER_CALL; j++)
			last = slots[j] / XLVS_RING_BLOCK;
		nb = last - b0 + 1;
		err = blocks_read(map_fd, io, b0, nb);
		if (err)
			break;
		memset(io->dirty, 0, nb);
		for (; i < j; i++) {
			io->blk[slots[i] / XLVS_RING_BLOCK - b0].slot[slots[i] % XLVS_RING_BLOCK] = vals[i];
			io->dirty[slots[i] / XLVS_RING_BLOCK - b0] = 1;
		}
		err = blocks_flush(map_fd, io, b0, nb);
	}
	free(io);
	return err;
}

int xlvs_ring_set(int map_fd, uint32_t slot, uint32_t val)
{
	return xlvs_ring_put(map_fd, &slot, &val, 1);
}

int xlvs_ring_write(int map_fd, uint32_t base, const uint32_t *old_ring, const uint32_t *new_ring,
		    uint32_t ring_size)
{
	uint32_t *slots, *vals, i, n = 0;
	int err;

	if (!new_ring || (uint64_t)base + ring_size > 1ull << 32)
		return -EINVAL;
	slots = malloc((size_t)ring_size * sizeof(*slots) + 1);
	vals = malloc((size_t)ring_size * sizeof(*vals) + 1);
	err = slots && vals ? 0 : -ENOMEM;
	for (i = 0; !err && i < ring_size; i++) {
		if (old_ring && old_ring[i] == new_ring[i])
			continue;
		slots[n] = base + i;
		vals[n++] = new_ring[i];
	}
	if (!err)
		err = xlvs_ring_put(map_fd, slots, vals, n);
	free(slots);
	free(vals);
	return err ? err : (int)n;
}
