/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Slot I/O on xlvs_ring, whose entries are blocks of XLVS_RING_BLOCK slots
 * (include/xlvs/abi.h struct xlvs_ring_block): callers speak of slots, these
 * read and write the blocks around them. A write reads each block it changes
 * and writes it back whole, so two writers of one ring would lose each
 * other's slots: xlvsd is the one writer (its event loop; the parser thread
 * writes no map). The data path only reads the ring.
 */
#ifndef XLVS_RINGIO_H
#define XLVS_RINGIO_H

#include <stdint.h>

/* Slots [first, first + n) into out. 0, -EINVAL (range wraps), -EPROTO (past the map) or -errno. */
int xlvs_ring_read(int map_fd, uint32_t first, uint32_t n, uint32_t *out);
int xlvs_ring_get(int map_fd, uint32_t slot, uint32_t *val);

/* Slot slots[i] := vals[i], slots ascending (a repeated slot takes its last value). 0 or -errno:
 * -EINVAL if not ascending, -EPROTO past the map; blocks written before an error stay written. */
int xlvs_ring_put(int map_fd, const uint32_t *slots, const uint32_t *vals, uint32_t n);
int xlvs_ring_set(int map_fd, uint32_t slot, uint32_t val);

/*
 * new_ring into slots [base, base + ring_size), writing only the slots where
 * it differs from old_ring (old_ring NULL: all of them). Returns the number
 * of slots written or -errno.
 */
int xlvs_ring_write(int map_fd, uint32_t base, const uint32_t *old_ring, const uint32_t *new_ring,
		    uint32_t ring_size);

#endif /* XLVS_RINGIO_H */
